"""A folder is data, never code: names that stay inside it, properties without pickles, safe zarr codecs.

- Property keys and unit ids become file names (``properties/<key>.npy``,
  ``waveforms/waveforms_<unit_id>.npy``): :func:`check_file_name` refuses any that would leave
  the folder or is not a plain file name, before any work.
- Object-dtype properties are never pickled. Strings are stored as a string array (which
  SpikeInterface reads too); other objects as JSON in ``properties/<key>.json`` (SpikeInterface
  ignores that file). A pickled ``.npy`` (as SpikeInterface writes object properties) is never
  unpickled: the property is skipped with a warning naming it.
- zarr arrays whose codecs unpickle (numcodecs ``Pickle``) are refused before any chunk is read.
- Paths a folder names (in its JSON, or as symlinks among its files) stay inside it:
  :func:`check_inside` resolves them and refuses one that leads out.
"""
from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import numpy as np

from .errors import CorruptFolderError, UnsafeFolderError
from .overwrite_guard import is_within, walk_files

_OBJECT_PROPERTY_FORMAT = "gpuspike.object_property.v1"
_FORBIDDEN_CHARS = ("/", "\\", "\x00")
_MAX_NAME_BYTES = 200


def check_inside(path, folder, what: str) -> Path:
    """``path`` (relative paths start from ``folder``) when, symlinks resolved, it lies inside ``folder``.

    Parameters
    ----------
    path : str or Path
        A path named by the folder's content (a file it lists, one of its files or subfolders).
    folder : str or Path
        The folder being loaded or written.
    what : str
        What the path is, for the message.

    Returns
    -------
    Path
        ``path``, absolute.

    Raises
    ------
    UnsafeFolderError
        The path, or a symlink on the way, leads outside ``folder``.
    """
    folder = Path(folder).absolute()
    path = Path(path)
    if not path.is_absolute():
        path = folder / path
    real, root = Path(os.path.realpath(path)), Path(os.path.realpath(folder))
    if not is_within(real, root):
        raise UnsafeFolderError(f"{what} {str(path)!r} leads outside the folder {str(folder)!r} (to {str(real)!r}); "
                                f"a saved folder reads and writes only inside itself: replace the symlink or path by "
                                f"the data it names (a recording's own files: open them directly, e.g. "
                                f"read_binary(file_paths=...))")
    return path


def check_links_inside(folder, what: str) -> None:
    """Every symbolic link among the files and subfolders of ``folder`` leads inside it.

    Parameters
    ----------
    folder : str or Path
        A saved folder about to be read.
    what : str
        What is being opened, for the message.

    Raises
    ------
    UnsafeFolderError
        Naming the first link that leads outside.
    """
    for entry in walk_files(folder):
        if entry.is_symlink():
            check_inside(entry.path, folder, f"{what}: the link")


def check_file_name(value, what: str) -> str:
    """``str(value)`` when it is a plain file name (no folder separator, not ``.``/``..``, no control
    character, at most 200 bytes); else ValueError naming ``what`` and the value.

    Parameters
    ----------
    value : object
        A property key, a unit id, ...
    what : str
        What the value is, for the message (e.g. ``"property key"``).
    """
    name = str(value)
    bad = [c for c in _FORBIDDEN_CHARS if c in name]
    problem = None
    if name in ("", ".", ".."):
        problem = "is not a file name"
    elif bad:
        problem = f"contains {bad[0]!r} (a folder separator or NUL), so the file would be written elsewhere"
    elif any(ord(c) < 32 for c in name):
        problem = "contains a control character"
    elif len(name.encode("utf8", "surrogatepass")) > _MAX_NAME_BYTES:
        problem = f"is longer than {_MAX_NAME_BYTES} bytes"
    if problem is not None:
        raise ValueError(f"{what} {value!r} {problem}; it is used as a file name inside the saved folder. "
                         f"Allowed: names without '/', '\\', NUL or control characters, other than '.' and '..'")
    return name


#: names zarr keeps for its own metadata inside a group
_ZARR_RESERVED = (".zarray", ".zattrs", ".zgroup", ".zmetadata", "zarr.json")


def check_zarr_key(value, what: str) -> str:
    """``str(value)`` when it can name an array of a zarr group: a plain file name (see
    :func:`check_file_name`) other than zarr's own metadata names; else ValueError naming it."""
    name = check_file_name(value, what)
    if name in _ZARR_RESERVED:
        raise ValueError(f"{what} {value!r} is a name zarr keeps for its metadata; it would name an array of the "
                         f"saved zarr group. Set the values under another key (and delete_property this one) "
                         f"before saving; not allowed: "
                         f"{list(_ZARR_RESERVED)}")
    return name


def check_unit_ids_for_files(unit_ids) -> None:
    """Unit ids name the waveform files of a WaveformExtractor folder: each must be a plain file name."""
    for unit_id in np.asarray(unit_ids).tolist():
        check_file_name(unit_id, "unit id")


def encode_object_property(values: np.ndarray, key: str) -> dict:
    """A JSON-able dict holding an object-dtype property (numbers, strings, None, lists, dicts, arrays).

    Raises
    ------
    ValueError
        Values that JSON cannot hold (arbitrary Python objects), naming the property.
    """
    text = _encode_object(values, key)
    return json.loads(text)


def decode_object_property(d: dict) -> np.ndarray:
    """The object array of a dict written by :func:`encode_object_property`."""
    from .base import _from_jsonable

    if not isinstance(d, dict) or d.get("format") != _OBJECT_PROPERTY_FORMAT:
        raise ValueError(f"not a gpuspike object property (format {d.get('format') if isinstance(d, dict) else d!r})")
    items = [_from_jsonable(v) for v in d["values"]]
    out = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        out[i] = item
    return out.reshape(d["shape"])


def _encode_object(values: np.ndarray, key: str) -> str:
    from .base import _jsonable

    try:
        return json.dumps({"format": _OBJECT_PROPERTY_FORMAT, "shape": list(values.shape),
                           "values": [_jsonable(v) for v in values.ravel().tolist()]})
    except (TypeError, ValueError) as err:
        kinds = sorted({type(v).__name__ for v in values.ravel().tolist()})
        raise ValueError(f"property {key!r} holds Python objects of types {kinds} that cannot be stored without "
                         f"pickling ({err}); allowed: numbers, strings, None, lists, dicts and arrays of them") \
            from None


def check_savable_properties(obj) -> None:
    """Before a save writes anything: every property key is a plain file name, and every object
    property can be stored without pickling."""
    for key in obj.get_property_keys():
        check_file_name(key, "property key")
        values = np.asarray(obj.get_property(key))
        if values.dtype.kind == "O" and not _all_strings(values):
            _encode_object(values, key)


def is_string_objects(values: np.ndarray) -> bool:
    """True for a non-empty object array holding only strings (stored as a string array)."""
    return _all_strings(values)


def _all_strings(values: np.ndarray) -> bool:
    return values.size > 0 and all(isinstance(v, str) for v in values.ravel().tolist())


def write_property(prop_folder: Path, key: str, values) -> Path:
    """Store one property in ``prop_folder`` without pickling; return the file written.

    Numbers, booleans, strings and structured arrays go to ``<key>.npy``; object arrays of
    strings are stored as a string array (``<key>.npy``); other object arrays as JSON (``<key>.json``).
    """
    name = check_file_name(key, "property key")
    values = np.asarray(values)
    if values.dtype.kind == "O":
        if _all_strings(values):
            values = values.astype(str)
        else:
            path = Path(prop_folder) / f"{name}.json"
            path.write_text(_encode_object(values, key), encoding="utf8")
            return path
    path = Path(prop_folder) / f"{name}.npy"
    np.save(path, values, allow_pickle=False)
    return path


def read_property(path: Path):
    """The values of one ``properties/`` file (``.npy`` or ``.json``), or None when it holds a
    pickle, which is never unpickled (a warning names the property).

    Raises
    ------
    OSError, ValueError
        The file cannot be read (the caller names the folder).
    """
    path = Path(path)
    if path.suffix == ".json":
        return _decode_object(path)
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as err:
        if "allow_pickle" not in str(err):
            raise
    warnings.warn(f"property {path.stem!r} was not loaded: {str(path)!r} holds a pickled object array, and "
                  f"gpuspike never unpickles folder content (a pickle can run code). Store it as strings or "
                  f"numbers (e.g. values.astype(str)) and save again.", RuntimeWarning, stacklevel=3)
    return None


def read_npy(path: Path, mmap_mode: str | None = None) -> np.ndarray:
    """A saved ``.npy`` array, never unpickled.

    Raises
    ------
    CorruptFolderError
        The file holds pickled objects, or is missing, truncated or damaged.
    """
    try:
        return np.load(path, mmap_mode=mmap_mode, allow_pickle=False)
    except ValueError as err:
        if "allow_pickle" in str(err):
            raise CorruptFolderError(f"{str(path)!r} holds pickled objects, which gpuspike never unpickles") from None
        raise CorruptFolderError(f"{str(path)!r} cannot be read ({err})") from None
    except (OSError, EOFError) as err:
        raise CorruptFolderError(f"{str(path)!r} cannot be read ({err}): truncated or damaged") from None


def _decode_object(path: Path) -> np.ndarray:
    return decode_object_property(json.loads(path.read_text(encoding="utf8")))


# ---------------------------------------------------------------------- zarr
def _codec_names(array) -> list[str]:
    names = []
    meta = getattr(array, "metadata", None)
    codecs = []
    if meta is not None:
        codecs += list(getattr(meta, "filters", None) or [])
        compressor = getattr(meta, "compressor", None)
        codecs += [compressor] if compressor is not None else []
        codecs += list(getattr(meta, "codecs", None) or [])
    else:  # zarr-python 2
        codecs += list(getattr(array, "filters", None) or [])
        compressor = getattr(array, "compressor", None)
        codecs += [compressor] if compressor is not None else []
    for codec in codecs:
        config = codec.get_config() if hasattr(codec, "get_config") else {}
        name = config.get("id") if isinstance(config, dict) else None
        names.append(str(name or getattr(codec, "codec_id", None) or type(codec).__name__))
        inner = getattr(codec, "codec", None)  # numcodecs.zarr3 wrappers
        if inner is not None:
            names.append(str(getattr(inner, "codec_id", type(inner).__name__)))
    return names


def _pickle_codec_in(meta) -> str | None:
    if isinstance(meta, dict):
        for key in ("id", "name"):
            if isinstance(meta.get(key), str) and "pickle" in meta[key].lower():
                return meta[key]
        for value in meta.values():
            found = _pickle_codec_in(value)
            if found:
                return found
    elif isinstance(meta, list):
        for value in meta:
            found = _pickle_codec_in(value)
            if found:
                return found
    return None


def check_zarr_folder(folder: Path, what: str) -> None:
    """Before zarr opens anything in ``folder``: refuse a codec that unpickles, named in the metadata
    of any array (``.zarray``, ``zarr.json``) or in the consolidated ``.zmetadata``.

    Raises
    ------
    UnsafeFolderError
        Naming the array and the codec.
    """
    import os

    folder = Path(folder)
    for root, _, files in os.walk(folder):
        for name in files:
            if name not in (".zarray", "zarr.json", ".zmetadata"):
                continue
            meta_file = Path(root) / name
            try:
                meta = json.loads(meta_file.read_text(encoding="utf8"))
            except (OSError, ValueError):
                continue  # zarr reports unreadable metadata itself
            entries = ({k: v for k, v in (meta.get("metadata") or {}).items()} if name == ".zmetadata"
                       and isinstance(meta, dict) else {str(meta_file.parent.relative_to(folder)): meta})
            for array_path, array_meta in entries.items():
                codec = _pickle_codec_in(array_meta)
                if codec:
                    array_path = array_path.replace("/.zarray", "").replace("/zarr.json", "")
                    raise UnsafeFolderError(
                        f"array {array_path!r} of {what} {str(folder)!r} is stored with the {codec!r} codec, which "
                        f"unpickles (runs code) when read; gpuspike never unpickles folder content. Rewrite it "
                        f"with a data codec (e.g. numcodecs.JSON or VLenUTF8 for objects)")


def check_zarr_array(array, where: str):
    """Return ``array`` when none of its codecs unpickles; else :class:`UnsafeFolderError` naming it."""
    unsafe = [n for n in _codec_names(array) if "pickle" in n.lower()]
    if unsafe:
        raise UnsafeFolderError(f"{where} is stored with the {unsafe[0]!r} codec, which unpickles (runs code) "
                                f"when read; gpuspike never unpickles folder content. Rewrite it with a data codec "
                                f"(e.g. numcodecs.JSON or VLenUTF8 for objects)")
    return array
