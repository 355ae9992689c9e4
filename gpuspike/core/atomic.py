"""Write to a temporary name, then rename: nothing the user saved is ever half-written or lost.

:func:`atomic_folder` yields a temporary sibling folder and, once it is complete, renames it to
the target. The final step runs under a lock file next to the target (``.<name>.lock``) and
checks that nobody else created or replaced the target meanwhile, so of two concurrent saves to
the same folder exactly one wins and the other gets :class:`ConcurrentSaveError` (or
:class:`FolderExistsError`) and leaves nothing behind. A new folder is renamed into place with
``renameat2(RENAME_NOREPLACE)`` where the kernel offers it, so even a writer that does not take
the lock (SpikeInterface) is never silently replaced. ``overwrite=True`` replaces only a folder
gpuspike or SpikeInterface wrote (:mod:`gpuspike.core.overwrite_guard`); a symbolic link is
written through (its target is replaced, the link is kept). Leftovers of killed saves are
recovered or removed by the next save (:mod:`gpuspike.core.leftovers`).
"""
from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import shutil
import uuid
from pathlib import Path
from typing import Iterator

from .errors import ConcurrentSaveError, FolderExistsError, RefusedOverwriteError
from .leftovers import leftover_name, recover_interrupted_overwrite, remove_stale_leftovers
from .overwrite_guard import check_replaceable
from .validation import check_flag

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no lock file, the rename checks remain
    fcntl = None


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and an atomic rename."""
    atomic_write_bytes(path, text.encode("utf8"))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and an atomic rename."""
    atomic_write_file(path, lambda f: f.write(data))


def atomic_write_file(path: Path, write) -> None:
    """Write ``path`` with ``write(file)`` into a temporary file, then rename it into place (the
    temporary file is removed if ``write`` fails)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def resolve_target(folder: str | Path) -> Path:
    """The absolute folder a save writes: symbolic links resolved (the link's target is written).

    Raises
    ------
    ValueError
        ``folder=""`` (it would name the working directory).
    """
    if not isinstance(folder, (str, os.PathLike)):
        raise TypeError(f"folder={folder!r}: give the path of the folder to write (a str or a Path)")
    if isinstance(folder, str) and folder.strip() == "":
        raise ValueError(f"folder={str(folder)!r} names the working directory; give the name of the folder to write, "
                         f"e.g. folder='my_recording'")
    return Path(os.path.realpath(Path(folder)))


def _identity(path: Path) -> tuple[int, int, int] | None:
    """What tells a folder from its replacement: device and inode, and the change time (an inode
    number can be reused by a folder created after the first one was deleted)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino, st.st_ctime_ns


def check_target(folder: str | Path, overwrite: bool) -> Path:
    """Check a save's target before the work starts; return it resolved (see :func:`resolve_target`).

    Raises
    ------
    FolderExistsError
        ``folder`` exists and ``overwrite`` is False.
    RefusedOverwriteError
        ``overwrite`` is True but ``folder`` is not a folder gpuspike or SpikeInterface wrote
        (or is the working directory, a parent of it, the home folder, a root, a file).
    """
    check_flag(overwrite, "overwrite")  # a string such as "no" would be truthy
    target = resolve_target(folder)
    if os.path.lexists(target):
        if not overwrite:
            raise FolderExistsError(f"folder {str(folder)!r} already exists; pass overwrite=True to replace it")
        check_replaceable(target)
    return target


@contextlib.contextmanager
def target_lock(target: Path) -> Iterator[None]:
    """Hold the lock file ``.<name>.lock`` next to ``target`` (an exclusive ``flock``).

    The lock file is removed on release; a waiter that wakes on a removed file takes the new one.
    """
    if fcntl is None:  # pragma: no cover
        yield
        return
    path = target.parent / f".{target.name}.lock"
    while True:
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if os.fstat(fd).st_ino == os.stat(path).st_ino:
                break
        except FileNotFoundError:
            pass
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
        os.close(fd)


_RENAME_NOREPLACE = 1
_AT_FDCWD = -100


def _renameat2():
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        func = libc.renameat2
    except (OSError, AttributeError):
        return None
    func.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    func.restype = ctypes.c_int
    return func


_renameat2_func = _renameat2()


def rename_noreplace(src: Path, dst: Path) -> None:
    """Rename ``src`` to ``dst``; raise FileExistsError if ``dst`` exists, atomically where the
    kernel offers ``renameat2(RENAME_NOREPLACE)`` (Linux >= 3.15 on local file systems)."""
    if _renameat2_func is not None:
        rc = _renameat2_func(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), _RENAME_NOREPLACE)
        if rc == 0:
            return
        err = ctypes.get_errno()
        if err == errno.EEXIST:
            raise FileExistsError(errno.EEXIST, "target exists", str(dst))
        if err not in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
            raise OSError(err, os.strerror(err), str(src), None, str(dst))
    if os.path.lexists(dst):  # no renameat2: the lock serialises gpuspike writers; rename() refuses a full folder
        raise FileExistsError(errno.EEXIST, "target exists", str(dst))
    os.rename(src, dst)


def prepare_target(target: Path) -> None:
    """Under the target's lock: rename back the only copy of an overwrite killed between its
    renames, and remove the leftovers of dead writers."""
    if not target.parent.is_dir():
        return
    with target_lock(target):
        recover_interrupted_overwrite(target)
        remove_stale_leftovers(target)


@contextlib.contextmanager
def atomic_folder(folder: str | Path, overwrite: bool = False) -> Iterator[Path]:
    """Context manager yielding a temporary sibling folder that replaces ``folder`` on success.

    On any error the temporary folder is removed and ``folder`` is left untouched. With
    ``overwrite=True`` an existing ``folder`` is only replaced after the new one is complete,
    and only when gpuspike or SpikeInterface wrote it (see :func:`check_target`).

    Raises
    ------
    FolderExistsError
        ``folder`` exists and ``overwrite`` is False (checked at the start and again at the end).
    ConcurrentSaveError
        Another writer created or replaced ``folder`` while this save ran.
    RefusedOverwriteError
        ``folder`` is not something ``overwrite=True`` may replace.
    """
    check_flag(overwrite, "overwrite")  # a string such as "no" would be truthy
    target = resolve_target(folder)
    if os.path.lexists(target):
        check_target(folder, overwrite)  # refuse before touching anything next to it
    target.parent.mkdir(parents=True, exist_ok=True)
    prepare_target(target)
    check_target(folder, overwrite)
    start = _identity(target)
    tmp = target.parent / leftover_name(target.name, "partial")
    tmp.mkdir()
    try:
        yield tmp
        _commit(tmp, target, overwrite, start, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _commit(tmp: Path, target: Path, overwrite: bool, start, folder) -> None:
    old = None
    with target_lock(target):
        now = _identity(target)
        if now != start:
            if start is None and not overwrite:
                raise FolderExistsError(f"folder {str(folder)!r} was created by another writer while this save "
                                        f"ran; this save was discarded (the other one is kept)")
            raise ConcurrentSaveError(f"folder {str(folder)!r} was {'created' if start is None else 'replaced'} "
                                      f"by another writer while this save ran; this save was discarded (the "
                                      f"other one is kept)")
        if now is None:
            try:
                rename_noreplace(tmp, target)
            except FileExistsError:
                raise ConcurrentSaveError(f"folder {str(folder)!r} was created by another writer while this save "
                                          f"ran; this save was discarded") from None
            return
        check_replaceable(target)
        old = target.parent / leftover_name(target.name, "old")
        os.rename(target, old)
        try:
            rename_noreplace(tmp, target)
        except BaseException:
            os.rename(old, target)
            raise
    shutil.rmtree(old, ignore_errors=True)


__all__ = ["atomic_write_text", "atomic_folder", "check_target", "resolve_target", "target_lock",
           "rename_noreplace", "prepare_target", "RefusedOverwriteError"]
