"""The parts of a zarr (format 2) folder that gpuspike reads and writes by hand.

A SortingAnalyzer's zarr folder holds JSON documents as one-element object arrays (filter
``json2``) and a consolidated ``.zmetadata`` that SpikeInterface opens first. zarr-python 3 can
neither create nor list object arrays, so these pieces are handled here, on the directory
layout itself (a group is a folder with ``.zgroup``; an array a folder with ``.zarray`` and one
file per chunk). Numeric arrays still go through zarr-python (2 or 3), opened by their own path.

Nothing here unpickles: an array whose metadata names a pickling codec is reported, never decoded.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import atomic_write_text
from .errors import CorruptFolderError, UnsafeFolderError

_METADATA_FILES = (".zgroup", ".zattrs", ".zarray")


def _read_json_file(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf8"))
    except (OSError, ValueError) as err:
        raise CorruptFolderError(f"{str(path)!r} cannot be read as JSON ({err})") from None


def is_group(path: Path) -> bool:
    """True when ``path`` is a zarr (format 2) group folder."""
    return (Path(path) / ".zgroup").is_file()


def is_array(path: Path) -> bool:
    """True when ``path`` is a zarr (format 2) array folder."""
    return (Path(path) / ".zarray").is_file()


def write_group(path: Path, attrs: dict | None = None) -> Path:
    """Create the group folder ``path`` (format 2), with ``attrs`` when given.

    Parameters
    ----------
    path : Path
        The folder (created with its parents).
    attrs : dict, optional
        JSON-able attributes.

    Returns
    -------
    Path
    """
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path / ".zgroup", json.dumps({"zarr_format": 2}))
    if attrs:
        write_attrs(path, attrs)
    return path


def read_attrs(path: Path) -> dict:
    """The attributes of a group or array folder (empty when it has none)."""
    file = Path(path) / ".zattrs"
    if not file.is_file():
        return {}
    attrs = _read_json_file(file)
    if not isinstance(attrs, dict):
        raise CorruptFolderError(f"{str(file)!r} does not hold a JSON object")
    return attrs


def write_attrs(path: Path, attrs: dict) -> None:
    """Replace the attributes of a group or array folder (atomically)."""
    atomic_write_text(Path(path) / ".zattrs", json.dumps(attrs, indent=4, sort_keys=True, allow_nan=True))


def array_metadata(path: Path) -> dict:
    """The ``.zarray`` document of an array folder."""
    meta = _read_json_file(Path(path) / ".zarray")
    if not isinstance(meta, dict):
        raise CorruptFolderError(f"{str(Path(path) / '.zarray')!r} does not hold a JSON object")
    return meta


def codec_ids(meta: dict) -> list[str]:
    """The ids of the filters and compressor named in an array's metadata."""
    codecs = list(meta.get("filters") or [])
    if meta.get("compressor"):
        codecs.append(meta["compressor"])
    return [str(c.get("id")) for c in codecs if isinstance(c, dict)]


def unpickles(path: Path) -> bool:
    """True when the array at ``path`` is stored with a codec that unpickles when read."""
    return any("pickle" in cid.lower() for cid in codec_ids(array_metadata(path)))


def is_json_object_array(path: Path) -> bool:
    """True when the array at ``path`` holds JSON documents (object dtype, ``json2`` filter)."""
    meta = array_metadata(path)
    return meta.get("dtype") == "|O" and any(cid in ("json2", "json") for cid in codec_ids(meta))


def write_json_object(path: Path, value: Any) -> None:
    """Write ``value`` (JSON-able) as a one-element object array at ``path``, as SpikeInterface does.

    Parameters
    ----------
    path : Path
        The array folder (replaced when it exists).
    value : Any
        A JSON-able document.
    """
    import numcodecs

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    codec = numcodecs.JSON()
    meta = {"chunks": [1], "compressor": None, "dtype": "|O", "fill_value": 0,
            "filters": [codec.get_config()], "order": "C", "shape": [1], "zarr_format": 2}
    payload = codec.encode(np.array([value], dtype=object))
    tmp = path / ".0.tmp"
    tmp.write_bytes(payload)
    os.replace(tmp, path / "0")
    atomic_write_text(path / ".zarray", json.dumps(meta, indent=4, sort_keys=True))


def read_json_object(path: Path) -> Any:
    """The document held by a one-element JSON object array (SpikeInterface's dict storage).

    Raises
    ------
    UnsafeFolderError
        The array names a pickling codec (it is never decoded).
    CorruptFolderError
        The array is not a one-element JSON object array, or its chunk cannot be decoded.
    """
    import numcodecs

    path = Path(path)
    meta = array_metadata(path)
    if unpickles(path):
        raise UnsafeFolderError(f"array {str(path)!r} is stored with a codec that unpickles (runs code) when read; "
                                f"gpuspike never unpickles folder content")
    filters = [f for f in (meta.get("filters") or []) if isinstance(f, dict)]
    if meta.get("dtype") != "|O" or not filters or filters[0].get("id") not in ("json2", "json"):
        raise CorruptFolderError(f"array {str(path)!r} is not a JSON object array (dtype {meta.get('dtype')!r}, "
                                 f"filters {codec_ids(meta)})")
    chunk = path / "0"
    if not chunk.is_file():
        raise CorruptFolderError(f"array {str(path)!r} has no chunk file '0'")
    data = chunk.read_bytes()
    try:
        if meta.get("compressor"):
            data = numcodecs.get_codec(dict(meta["compressor"])).decode(data)
        decoded = numcodecs.get_codec(dict(filters[0])).decode(data)
    except Exception as err:  # a damaged chunk: any codec error
        raise CorruptFolderError(f"array {str(path)!r} cannot be decoded ({type(err).__name__}: {err})") from None
    values = np.asarray(decoded, dtype=object).reshape(-1)
    if values.size < 1:
        raise CorruptFolderError(f"array {str(path)!r} is empty")
    return values[0]


def open_array(path: Path):
    """A numeric array opened read-only by its own path (zarr-python 2 or 3).

    Raises
    ------
    UnsafeFolderError
        The array names a pickling codec.
    """
    import zarr

    path = Path(path)
    if unpickles(path):
        raise UnsafeFolderError(f"array {str(path)!r} is stored with a codec that unpickles (runs code) when read; "
                                f"gpuspike never unpickles folder content")
    return zarr.open_array(str(path), mode="r")


def write_array(group_path: Path, name: str, data: np.ndarray, compressor=None, chunks=None, filters=None) -> None:
    """Write a numeric array ``name`` into the group folder ``group_path`` (format 2)."""
    from .zarrrecording import create_array, open_group

    group = open_group(Path(group_path), "a")
    create_array(group, name, data=np.asarray(data), compressor=compressor, chunks=chunks, filters=filters)


def consolidate(root: Path) -> None:
    """Write ``root/.zmetadata`` (SpikeInterface opens a folder through it) from the metadata files
    of every group and array below ``root``, atomically; hidden temporary folders are left out."""
    root = Path(root)
    metadata = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        rel = Path(folder).relative_to(root)
        for name in _METADATA_FILES:
            if name in files:
                key = name if rel == Path(".") else f"{rel.as_posix()}/{name}"
                metadata[key] = _read_json_file(Path(folder) / name)
    atomic_write_text(root / ".zmetadata", json.dumps({"metadata": metadata, "zarr_consolidated_format": 1},
                                                      indent=4, sort_keys=True, allow_nan=True))


__all__ = ["is_group", "is_array", "write_group", "read_attrs", "write_attrs", "array_metadata", "codec_ids",
           "unpickles", "is_json_object_array", "write_json_object", "read_json_object", "open_array",
           "write_array", "consolidate"]
