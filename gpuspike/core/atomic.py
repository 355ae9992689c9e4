"""Write to a temporary name, then rename: nothing the user saved is ever half-written."""
from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from pathlib import Path
from typing import Iterator

from .errors import FolderExistsError


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and an atomic rename."""
    atomic_write_bytes(path, text.encode("utf8"))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and an atomic rename."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def check_target(folder: Path, overwrite: bool) -> None:
    """Raise a clear error when ``folder`` exists and ``overwrite`` is False."""
    if folder.exists() and not overwrite:
        raise FolderExistsError(f"folder {str(folder)!r} already exists; pass overwrite=True to replace it")


@contextlib.contextmanager
def atomic_folder(folder: str | Path, overwrite: bool = False) -> Iterator[Path]:
    """Context manager yielding a temporary sibling folder that replaces ``folder`` on success.

    On any error the temporary folder is removed and ``folder`` is left untouched. With
    ``overwrite=True`` an existing ``folder`` is only removed after the new one is complete.
    """
    folder = Path(folder).absolute()
    check_target(folder, overwrite)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.with_name(f".{folder.name}.partial-{uuid.uuid4().hex[:8]}")
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if folder.exists():
        old = folder.with_name(f".{folder.name}.old-{uuid.uuid4().hex[:8]}")
        os.replace(folder, old)
        os.replace(tmp, folder)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, folder)
