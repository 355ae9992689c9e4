"""Temporary folders of saves: their names, and what happens to them when a save is killed.

A save writes ``.<name>.partial-<host>-<pid>-<random>`` next to its target and renames it at the
end; an overwrite first moves the previous folder to ``.<name>.old-<host>-<pid>-<random>``.
The writer's host and process id in the name tell whether the writer is still running. When it
is not (the process was killed), its leftovers are handled by the next save to the same target,
or by loading the target:

- an ``.old`` copy whose target is missing is the only complete copy (the writer died between
  its two renames): it is renamed back to the target, with a warning;
- ``.partial`` folders, and ``.old`` copies whose target exists, are removed.

``gpuspike info`` lists leftovers next to a folder (:func:`list_leftovers`).
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import shutil
import socket
import uuid
import warnings
from pathlib import Path

#: a short, stable tag of this machine, so that a writer on another host is never judged dead
HOST_TAG = hashlib.sha1(socket.gethostname().encode("utf8", "replace")).hexdigest()[:6]

LEFTOVER_PATTERN = re.compile(
    r"^\.(?P<name>.+)\.(?P<kind>partial|old)-(?P<host>[0-9a-f]{6})-(?P<pid>[0-9]+)-[0-9a-f]{8}$")
#: names written by earlier gpuspike versions (no host or process id: never removed automatically)
LEGACY_PATTERN = re.compile(r"^\.(?P<name>.+)\.(?P<kind>partial|old)-[0-9a-f]{8}$")


def leftover_name(target_name: str, kind: str) -> str:
    """Temporary name (``kind`` is ``"partial"`` or ``"old"``) for a save to ``target_name`` by this process."""
    return f".{target_name}.{kind}-{HOST_TAG}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


@dataclasses.dataclass(frozen=True)
class Leftover:
    """A temporary folder of a save: ``kind`` is ``"partial"`` (being written) or ``"old"``
    (the previous copy during an overwrite)."""

    path: Path
    target: Path
    kind: str
    host: str | None
    pid: int | None

    @property
    def writer_alive(self) -> bool | None:
        """True / False when this machine can tell; None for another host or an old-style name."""
        if self.host != HOST_TAG or self.pid is None:
            return None
        return _pid_alive(self.pid)

    @property
    def stale(self) -> bool:
        """True when its writer is known to be dead (safe to clean up)."""
        return self.writer_alive is False


def parse_leftover(path: Path) -> Leftover | None:
    """The :class:`Leftover` that ``path``'s name describes, or None for any other name."""
    path = Path(path)
    m = LEFTOVER_PATTERN.match(path.name)
    if m is not None:
        return Leftover(path, path.with_name(m["name"]), m["kind"], m["host"], int(m["pid"]))
    m = LEGACY_PATTERN.match(path.name)
    if m is not None:
        return Leftover(path, path.with_name(m["name"]), m["kind"], None, None)
    return None


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    except OSError:
        return True
    return True


def list_leftovers(target: str | Path) -> list[Leftover]:
    """Temporary folders of saves to ``target`` found next to it (oldest first).

    Parameters
    ----------
    target : str or Path
        The folder a save writes (it need not exist).

    Returns
    -------
    list of Leftover
    """
    target = Path(target)
    parent = target.parent
    if not parent.is_dir():
        return []
    found = []
    for entry in parent.iterdir():
        if not entry.name.startswith(f".{target.name}."):
            continue
        leftover = parse_leftover(entry)
        if leftover is not None and leftover.target.name == target.name and entry.is_dir():
            found.append(leftover)
    return sorted(found, key=lambda lo: _mtime(lo.path))


def list_leftovers_in(folder: str | Path) -> list[Leftover]:
    """Temporary folders of saves directly inside ``folder`` (any target)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = [parse_leftover(p) for p in folder.iterdir() if p.name.startswith(".") and p.is_dir()]
    return sorted((lo for lo in found if lo is not None), key=lambda lo: _mtime(lo.path))


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def recover_interrupted_overwrite(target: Path) -> Path | None:
    """Rename the previous copy back to ``target`` when an overwrite died between its two renames.

    Call with the target's lock held (:func:`gpuspike.core.atomic.target_lock`). Returns the
    folder that was renamed back, or None.
    """
    target = Path(target)
    if os.path.lexists(target):
        return None
    olds = [lo for lo in list_leftovers(target) if lo.kind == "old" and lo.stale]
    if not olds:
        return None
    newest = olds[-1].path
    os.rename(newest, target)
    warnings.warn(
        f"{str(target)!r} was missing: a save that overwrote it was killed between its two renames (process "
        f"{olds[-1].pid}). Its previous content, kept as {newest.name!r}, has been renamed back to {target.name!r}; "
        f"the interrupted save is discarded.", RuntimeWarning, stacklevel=3)
    return newest


def remove_stale_leftovers(target: Path) -> list[Path]:
    """Remove the ``.partial`` folders of dead writers, and ``.old`` copies whose target exists.

    Call with the target's lock held, after :func:`recover_interrupted_overwrite`. Returns the
    removed folders.
    """
    target = Path(target)
    removed = []
    for lo in list_leftovers(target):
        if not lo.stale or (lo.kind == "old" and not os.path.lexists(target)):
            continue
        shutil.rmtree(lo.path, ignore_errors=True)
        removed.append(lo.path)
    return removed


def describe_leftover(lo: Leftover) -> str:
    """One line for ``gpuspike info``: the name, what it is, and whether its writer still runs."""
    what = "a save being written" if lo.kind == "partial" else "the previous copy during an overwrite"
    alive = lo.writer_alive
    state = {True: f"its writer (process {lo.pid}) is running",
             False: f"its writer (process {lo.pid}) is gone: removed by the next save to {lo.target.name!r}"
             + (" (or renamed back by loading it)" if lo.kind == "old" else ""),
             None: "written on another machine or by an older gpuspike: remove it yourself when no save runs"}[alive]
    return f"{lo.path.name}: {what}; {state}"
