"""What ``overwrite=True`` may replace: only a folder that gpuspike or SpikeInterface wrote.

A folder is recognised by the metadata these libraries write in it (``si_folder.json``,
``binary.json``, ``npz.json``, ``numpysorting_info.json``, a WaveformExtractor's ``params.json``,
a SortingAnalyzer's ``spikeinterface_info.json``, the attributes of a saved zarr group), and it
is refused when it also holds, anywhere in it, a file no writer of theirs makes (a user's notes or
figures put there after the save). An empty folder may be replaced too (nothing is lost). Never
replaced: a file, the working directory or any folder above it, the home folder or any folder
above it, a mount point or a file-system root, or a folder holding anything else.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterator

from .errors import RefusedOverwriteError

#: files whose presence marks a folder written by gpuspike or SpikeInterface
MARKER_FILES = ("si_folder.json", "binary.json", "npz.json", "npy.json", "numpysorting_info.json", "cached.json",
                "spikeinterface_info.json")
#: attributes of the root of a zarr folder written by gpuspike or SpikeInterface
_ZARR_MARKER_ATTRS = ("zarr_class_info", "gpuspike_zarr_waveforms_version", "spikeinterface_info")


def _real(path: Path | str) -> Path:
    return Path(os.path.realpath(path))


def is_within(path: Path, ancestor: Path) -> bool:
    """True when ``path`` is ``ancestor`` or inside it (both already resolved)."""
    return path == ancestor or ancestor in path.parents


def protected_reason(folder: Path) -> str | None:
    """Why ``folder`` (resolved) must never be replaced, or None."""
    folder = _real(folder)
    cwd = _real(os.getcwd())
    if is_within(cwd, folder):
        return "the working directory" if folder == cwd else f"a parent of the working directory {str(cwd)!r}"
    home = _real(Path.home())
    if is_within(home, folder):
        return "the home folder" if folder == home else f"a parent of the home folder {str(home)!r}"
    if folder.parent == folder:
        return "a file-system root"
    if os.path.ismount(folder):
        return "a mount point"
    return None


def zarr_folder_attrs(folder: Path) -> dict:
    """The attributes of a zarr group folder, format 2 (``.zattrs``) or 3 (``zarr.json``), read as
    JSON without opening the store ({} when there are none or they cannot be read)."""
    for name in (".zattrs", "zarr.json"):
        if (folder / name).is_file():
            d = _json_dict(folder / name) or {}
            if name == "zarr.json":
                d = d.get("attributes", {})
            return d if isinstance(d, dict) else {}
    return {}


def _json_dict(path: Path) -> dict | None:
    """The JSON object in ``path``, or None (missing, unreadable, not an object)."""
    if not path.is_file():
        return None
    try:
        d = json.loads(path.read_text(encoding="utf8"))
    except (OSError, ValueError):
        return None
    return d if isinstance(d, dict) else None


def _our_marker(folder: Path, name: str) -> bool:
    """``folder / name`` is a marker file with the content these libraries write in it (a file of
    the same name written by something else does not count)."""
    d = _json_dict(folder / name)
    if d is None:
        return False
    if name == "numpysorting_info.json":
        return "sampling_frequency" in d and "num_segments" in d
    if name == "spikeinterface_info.json":
        return isinstance(d.get("object"), str)
    class_path = d.get("class")
    return isinstance(class_path, str) and class_path.startswith(("spikeinterface.", "gpuspike.")) and "kwargs" in d


def _waveforms_folder(folder: Path) -> bool:
    """SpikeInterface's legacy WaveformExtractor layout: its ``params.json`` next to its waveforms or
    recording information."""
    params = _json_dict(folder / "params.json")
    if params is None or not any(key in params for key in ("ms_before", "nbefore", "max_spikes_per_unit")):
        return False
    waveforms = folder / "waveforms"
    return (waveforms.is_dir() and any(waveforms.glob("waveforms_*.npy"))) or (folder / "recording_info").is_dir() \
        or any(folder.glob("templates_*.npy"))


def written_by_us(folder: Path) -> bool:
    """True when ``folder`` holds the metadata of a folder written by gpuspike or SpikeInterface."""
    folder = Path(folder)
    if any(_our_marker(folder, name) for name in MARKER_FILES):
        return True
    if _waveforms_folder(folder):
        return True
    attrs = zarr_folder_attrs(folder)
    if any(key in attrs for key in _ZARR_MARKER_ATTRS):
        return True
    return "sampling_frequency" in attrs and "num_segments" in attrs


#: suffixes of the files gpuspike and SpikeInterface write in a saved folder (JSON metadata,
#: traces, arrays, tables, SpikeInterface's pickles); zarr's own files start with a dot
_WRITTEN_SUFFIXES = (".json", ".raw", ".dat", ".bin", ".npy", ".npz", ".csv", ".pkl", ".pickle")


#: files that make a folder a zarr group or array (format 2 or 3): its chunk files have no suffix
_ZARR_NODE_FILES = (".zgroup", ".zarray", "zarr.json")


def walk_files(folder, enter=lambda entry: True) -> Iterator[os.DirEntry]:
    """The entries below ``folder`` that are not folders (symbolic links included, never followed),
    by name within each folder; a subfolder is walked when ``enter(entry)`` says so.

    Parameters
    ----------
    folder : str or Path
    enter : callable
        ``enter(os.DirEntry) -> bool`` for each subfolder.

    Yields
    ------
    os.DirEntry
    """
    pending = [str(folder)]
    while pending:
        try:
            entries = sorted(os.scandir(pending.pop()), key=lambda e: e.name)
        except OSError:
            continue  # the caller's reader reports what it cannot open
        for entry in entries:
            if not entry.is_dir(follow_symlinks=False):
                yield entry
            elif enter(entry):
                pending.append(entry.path)


def _foreign_files(folder: Path, limit: int = 8) -> list[str]:
    """Up to ``limit`` files anywhere in a saved folder that no writer of gpuspike or SpikeInterface
    makes (a user's notes or figures put there after the save), as paths relative to ``folder``.

    Hidden files and folders (zarr's ``.zattrs``, a desktop's ``.DS_Store``) do not count, nor
    does anything inside a zarr group or array below the top (its chunks have no suffix);
    symbolic links to folders are not followed.
    """
    found: list[str] = []
    if _zarr_array(folder):  # its chunks, and nothing else, are its files
        return found

    def enter(entry) -> bool:
        return not entry.name.startswith(".") and not any(
            os.path.exists(os.path.join(entry.path, name)) for name in _ZARR_NODE_FILES)

    for entry in walk_files(folder, enter):
        if not entry.name.startswith(".") and Path(entry.name).suffix.lower() not in _WRITTEN_SUFFIXES:
            found.append(Path(entry.path).relative_to(folder).as_posix())
            if len(found) == limit:
                break
    return sorted(found)


def _zarr_array(folder: Path) -> bool:
    """``folder`` is a zarr array (format 2 ``.zarray``, or format 3 ``zarr.json`` of an array)."""
    if (folder / ".zarray").is_file():
        return True
    meta = _json_dict(folder / "zarr.json")
    return meta is not None and meta.get("node_type") == "array"


def check_no_user_files(folder: Path, what: str) -> None:
    """Raise :class:`RefusedOverwriteError` when ``folder``, about to be replaced or removed by
    gpuspike (``what``), holds a file that no writer of gpuspike or SpikeInterface makes.

    Parameters
    ----------
    folder : Path
        A folder gpuspike wrote (an analyzer's extension folder); nothing happens when it is missing.
    what : str
        What was asked, for the message (e.g. ``"save the extension 'templates'"``).
    """
    folder = Path(folder)
    if not folder.is_dir() or folder.is_symlink():
        return
    foreign = _foreign_files(folder)
    if foreign:
        raise RefusedOverwriteError(
            f"cannot {what}: {str(folder)!r} also holds {foreign}, which no writer of gpuspike or SpikeInterface "
            f"makes (your files?), and replacing the folder would delete them. Move them out, then try again.")


def check_replaceable(folder: Path) -> None:
    """Raise :class:`RefusedOverwriteError` unless ``overwrite=True`` may replace the existing ``folder``.

    Parameters
    ----------
    folder : Path
        An existing path (already resolved through symbolic links).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise RefusedOverwriteError(f"overwrite=True refused: {str(folder)!r} is a file, not a folder that "
                                    f"gpuspike wrote; remove it yourself or choose another folder")
    reason = protected_reason(folder)
    if reason is not None:
        raise RefusedOverwriteError(f"overwrite=True refused: folder {str(folder)!r} is {reason}; give the path "
                                    f"of the saved folder itself (e.g. folder='my_recording')")
    try:
        entries = sorted(p.name for p in folder.iterdir())
    except OSError as err:
        raise RefusedOverwriteError(f"overwrite=True refused: folder {str(folder)!r} cannot be listed ({err})") \
            from None
    if not entries:
        return
    if written_by_us(folder):
        foreign = _foreign_files(folder)
        if foreign:
            raise RefusedOverwriteError(
                f"overwrite=True refused: folder {str(folder)!r} was written by gpuspike or SpikeInterface, but it "
                f"also holds {foreign}, which no writer of theirs makes (your files?), and replacing the "
                f"folder would delete them. Move them out, or choose another folder.")
        return
    shown = entries[:8] + (["..."] if len(entries) > 8 else [])
    raise RefusedOverwriteError(
        f"overwrite=True refused: folder {str(folder)!r} was not written by gpuspike or SpikeInterface (it holds "
        f"{shown} and none of {list(MARKER_FILES)}), so replacing it could delete your files. Remove it "
        f"yourself, or choose another folder.")
