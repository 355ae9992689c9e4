"""BaseExtractor: ids, properties, annotations and provenance shared by every object."""
from __future__ import annotations

import abc
import copy
import json
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from .errors import NotDumpableError

_PATH_KEY_HINTS = ("path", "folder", "file")


def _to_id_array(ids: Iterable) -> np.ndarray:
    ids = np.asarray(list(ids) if not isinstance(ids, np.ndarray) else ids)
    if ids.ndim != 1:
        raise ValueError(f"ids must be one-dimensional, got shape {ids.shape}")
    return ids


class BaseSegment(abc.ABC):
    """One contiguous piece of data of an extractor."""

    def __init__(self) -> None:
        self._parent_extractor = None

    @property
    def parent_extractor(self):
        return self._parent_extractor

    def set_parent_extractor(self, parent) -> None:
        self._parent_extractor = parent


class BaseExtractor:
    """Base of every gpuspike object: ids, properties, annotations, provenance.

    Parameters
    ----------
    main_ids : array-like
        Channel ids (recordings, snippets, events) or unit ids (sortings). Must be unique.
    """

    _main_annotations: list[str] = []
    _main_properties: list[str] = []
    #: in-memory classes set this to False: they cannot be rebuilt from their dict
    _dumpable_class: bool = True
    _id_kind = "id"

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__module__.startswith("gpuspike."):
            from .registry import register_extractor_class

            register_extractor_class(cls)

    def __init__(self, main_ids: Sequence) -> None:
        from .validation import check_id_types

        check_id_types(main_ids, f"{self._id_kind}s")
        main_ids = _to_id_array(main_ids)
        if main_ids.dtype.kind == "O":
            main_ids = main_ids.astype(str)
        if len(np.unique(main_ids)) != len(main_ids):
            values, counts = np.unique(main_ids, return_counts=True)
            raise ValueError(f"{self._id_kind}s must be unique; duplicated: {values[counts > 1].tolist()}")
        self._main_ids = main_ids
        self._annotations: dict[str, Any] = {}
        self._properties: dict[str, np.ndarray] = {}
        self._segments: list[BaseSegment] = []
        self._kwargs: dict[str, Any] = {}
        self._preferred_mp_context: str | None = None
        self.extra_requirements: list[str] = []

    # ------------------------------------------------------------------ ids and segments
    def get_num_segments(self) -> int:
        """Number of segments."""
        return len(self._segments)

    def add_segment(self, segment: BaseSegment) -> None:
        self._segments.append(segment)
        segment.set_parent_extractor(self)

    def _check_segment_index(self, segment_index: int | None = None) -> int:
        n = self.get_num_segments()
        if segment_index is None:
            if n == 1:
                return 0
            raise ValueError(
                f"segment_index must be given for a multi-segment object ({n} segments); "
                f"allowed values: 0..{n - 1}"
            )
        if not isinstance(segment_index, (int, np.integer)) or isinstance(segment_index, bool):
            raise TypeError(f"segment_index must be an int, got {segment_index!r}")
        if not 0 <= segment_index < n:
            raise ValueError(f"segment_index={segment_index} out of range; allowed values: 0..{n - 1}")
        return int(segment_index)

    def ids_to_indices(self, ids: Iterable | None = None, prefer_slice: bool = False):
        """Convert ids to indices into the main ids.

        Parameters
        ----------
        ids : array-like or None
            The ids; None means all.
        prefer_slice : bool
            Return ``slice(None)`` for ``ids=None`` instead of ``arange``.

        Returns
        -------
        indices : np.ndarray or slice
        """
        if ids is None:
            return slice(None) if prefer_slice else np.arange(len(self._main_ids))
        lookup = self._id_lookup()
        if isinstance(ids, (str, bytes, int, float, np.generic)) or (isinstance(ids, np.ndarray) and ids.ndim == 0):
            raise TypeError(f"{self._id_kind}s={ids!r} is a single id: give a list or array of ids, "
                            f"e.g. {self._id_kind}s=[{ids!r}]")
        ids = _to_id_array(ids)
        try:
            return np.fromiter((lookup[i] for i in ids.tolist()), dtype=np.int64, count=len(ids))
        except (KeyError, TypeError):
            missing = [i for i in ids.tolist() if not _hashable_in(i, lookup)]
            raise KeyError(
                f"unknown {self._id_kind}s {missing[:20]}; allowed: {self._main_ids.tolist()[:20]}"
                f"{' ...' if len(self._main_ids) > 20 else ''}"
            ) from None

    def _id_lookup(self) -> dict:
        lookup = getattr(self, "_id_lookup_cache", None)
        if lookup is None:
            lookup = {v: i for i, v in enumerate(self._main_ids.tolist())}
            self._id_lookup_cache = lookup
        return lookup

    # ------------------------------------------------------------------ annotations
    def annotate(self, **annotations) -> None:
        """Add annotations (key=value pairs) to the object."""
        self._annotations.update(annotations)

    def set_annotation(self, annotation_key: str, value: Any, overwrite: bool = False) -> None:
        """Set one annotation; refuse to replace an existing one unless ``overwrite``."""
        if annotation_key in self._annotations and not overwrite:
            raise ValueError(f"annotation {annotation_key!r} is already set; use overwrite=True")
        self._annotations[annotation_key] = value

    def get_annotation(self, key: str, copy: bool = True) -> Any:
        """Return the annotation ``key`` (a deep copy unless ``copy=False``)."""
        if key not in self._annotations:
            raise KeyError(f"unknown annotation {key!r}; available: {list(self._annotations)}")
        value = self._annotations[key]
        return _deepcopy(value) if copy else value

    def get_annotation_keys(self) -> list[str]:
        """Names of all annotations."""
        return list(self._annotations.keys())

    # ------------------------------------------------------------------ properties
    def set_property(self, key: str, values: Sequence, ids: Sequence | None = None, missing_value: Any = None) -> None:
        """Set a per-channel (or per-unit) property.

        Parameters
        ----------
        key : str
            Property name.
        values : array-like
            One value per id (per id in ``ids`` when given).
        ids : array-like, optional
            Set the property for these ids only; the other ids get ``missing_value`` (or keep
            their previous value when the property already exists).
        missing_value : object, optional
            Value for ids not in ``ids`` when the property is new. Defaults to NaN for floats,
            -1 for ints, "" for strings, False for bools; other dtypes require it.
        """
        if values is None:
            self._properties.pop(key, None)
            return
        n = len(self._main_ids)
        values = np.asarray(values)
        if ids is None:
            if values.shape[0:1] != (n,):
                raise ValueError(
                    f"property {key!r}: values has length {values.shape[0] if values.ndim else 0}, "
                    f"expected {n} (one per {self._id_kind})"
                )
            self._properties[key] = values.copy()
            return
        indices = self.ids_to_indices(ids)
        if len(values) != len(indices):
            raise ValueError(f"property {key!r}: {len(values)} values for {len(indices)} ids")
        if key in self._properties:
            existing = self._properties[key]
            if existing.dtype.kind != values.dtype.kind and not (
                existing.dtype.kind in "iuf" and values.dtype.kind in "iuf"
            ):
                raise TypeError(f"property {key!r} has dtype {existing.dtype}, values have {values.dtype}")
            if existing.dtype.kind == "U" and values.dtype.itemsize > existing.dtype.itemsize:
                existing = existing.astype(values.dtype)
            if existing.dtype.kind in "iu" and values.dtype.kind in "iuf":
                values = _checked_property_values(values, existing.dtype, key)
            existing = existing.copy()
            existing[indices] = values
            self._properties[key] = existing
            return
        if missing_value is None:
            missing_value = _default_missing_value(values.dtype, key)
        full = np.empty((n,) + values.shape[1:], dtype=np.result_type(values.dtype, np.asarray(missing_value).dtype)
                        if values.dtype.kind in "iufb" else values.dtype)
        full[...] = missing_value
        full[indices] = values
        self._properties[key] = full

    def get_property(self, key: str, ids: Sequence | None = None) -> np.ndarray | None:
        """Return a property's values (for ``ids`` when given), or None if not set."""
        values = self._properties.get(key, None)
        if values is None:
            return None
        if ids is None:
            return values
        return values[self.ids_to_indices(ids)]

    def get_property_keys(self) -> list[str]:
        """Names of all properties."""
        return list(self._properties.keys())

    def delete_property(self, key: str) -> None:
        """Remove a property."""
        if key not in self._properties:
            raise KeyError(f"unknown property {key!r}; available: {list(self._properties)}")
        del self._properties[key]

    def copy_metadata(self, other: "BaseExtractor", only_main: bool = False, ids: Sequence | None = None,
                      skip_properties: Iterable[str] = ()) -> None:
        """Copy annotations and properties of ``self`` onto ``other`` (sliced to ``ids``)."""
        if ids is None:
            indices = slice(None)
        else:
            indices = self.ids_to_indices(ids)
        ann_keys = self._main_annotations if only_main else self._annotations.keys()
        for k in ann_keys:
            if k in self._annotations:
                other._annotations[k] = _deepcopy(self._annotations[k])
        prop_keys = self._main_properties if only_main else self._properties.keys()
        for k in prop_keys:
            if k in self._properties and k not in skip_properties:
                other._properties[k] = self._properties[k][indices].copy()
        other._preferred_mp_context = self._preferred_mp_context

    # ------------------------------------------------------------------ provenance
    @property
    def is_dumpable(self) -> bool:
        """True when ``to_dict`` can rebuild this object (and all its parents) from disk."""
        if not self._dumpable_class:
            return False
        return all(p.is_dumpable for p in _nested_extractors(self._kwargs))

    def check_if_dumpable(self) -> bool:
        """Return True if the object can be rebuilt from its dict (see :attr:`is_dumpable`)."""
        return self.is_dumpable

    def check_dumpable(self, what: str = "this operation") -> None:
        """Raise :class:`NotDumpableError` with a hint to ``save()`` when not dumpable."""
        if not self.is_dumpable:
            raise NotDumpableError(
                f"{type(self).__name__} is an in-memory object (or a view of one) and cannot be "
                f"rebuilt from its dict, which {what} needs. Save it first: "
                f"obj = obj.save(folder=...) (or use n_jobs=1 / engine='thread')."
            )

    def to_dict(self, include_annotations: bool = True, include_properties: bool = True,
                relative_to: str | Path | None = None, recursive: bool = True) -> dict:
        """A JSON-able dict that rebuilds this object with :func:`load`.

        Parameters
        ----------
        include_annotations, include_properties : bool
            Store annotations / properties in the dict.
        relative_to : str or Path, optional
            Make file paths relative to this folder, so a saved folder can be moved.
        recursive : bool
            Convert parent extractors in kwargs to dicts too.
        """
        from .. import __version__

        kwargs = _transform(self._kwargs, lambda e: e.to_dict(include_annotations, include_properties,
                                                               relative_to=None, recursive=True))
        cls = type(self)
        d = {
            "class": f"{cls.__module__}.{cls.__qualname__}",
            "module": "gpuspike",
            "version": __version__,
            "kwargs": kwargs,
            "annotations": _jsonable(self._annotations) if include_annotations else {},
            "properties": {k: _jsonable(v) for k, v in self._properties.items()} if include_properties else {},
            "relative_paths": relative_to is not None,
            "dumpable": self.is_dumpable,
        }
        if relative_to is not None:
            d = _make_paths_relative(d, Path(relative_to))
        return d

    @staticmethod
    def from_dict(d: dict, base_folder: str | Path | None = None) -> "BaseExtractor":
        """Rebuild an object from :meth:`to_dict` output."""
        return _from_dict(d, base_folder)

    def to_json(self, relative_to: str | Path | None = None) -> str:
        return json.dumps(self.to_dict(relative_to=relative_to), indent=2)

    def dump_to_json(self, file_path: str | Path, relative_to: str | Path | None = None) -> None:
        """Write the provenance dict to a JSON file (atomically)."""
        self.check_dumpable("dump_to_json")
        from .atomic import atomic_write_text

        if relative_to is True:
            relative_to = Path(file_path).parent
        atomic_write_text(Path(file_path), self.to_json(relative_to=relative_to))

    def __reduce__(self):
        if self.is_dumpable:
            return (_from_dict, (self.to_dict(),))
        return super().__reduce__()

    def clone(self) -> "BaseExtractor":
        """A new object rebuilt from the dict (dumpable objects) or a deep copy."""
        if self.is_dumpable:
            return _from_dict(self.to_dict())
        return copy.deepcopy(self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}: {len(self._main_ids)} {self._id_kind}s - {self.get_num_segments()} segments"


# ---------------------------------------------------------------------- helpers
def _hashable_in(value, lookup: dict) -> bool:
    try:
        return value in lookup
    except TypeError:
        return False


def _default_missing_value(dtype: np.dtype, key: str):
    if dtype.kind == "f":
        return np.nan
    if dtype.kind in "iu":
        return -1
    if dtype.kind == "U":
        return ""
    if dtype.kind == "b":
        return False
    raise ValueError(f"property {key!r} of dtype {dtype}: give missing_value for the ids not set")


def _checked_property_values(values: np.ndarray, dtype: np.dtype, key: str) -> np.ndarray:
    """Values for an integer property: whole numbers within the range of its dtype (else ValueError)."""
    from .validation import checked_cast

    if values.dtype.kind == "f":
        whole = np.isfinite(values) & (np.mod(values, 1) == 0)
        if not whole.all():
            raise ValueError(f"property {key!r} has dtype {dtype}, but values such as {values[~whole][0]} are not "
                             f"whole numbers; give integers, or delete the property first to store floats")
    return checked_cast(values, dtype, f"property {key!r}")


def _deepcopy(value):
    try:
        return copy.deepcopy(value)
    except Exception:
        return value


def _nested_extractors(obj):
    if isinstance(obj, BaseExtractor):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _nested_extractors(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _nested_extractors(v)


def _transform(obj, fn):
    if isinstance(obj, BaseExtractor):
        return fn(obj)
    if isinstance(obj, dict):
        return {k: _transform(v, fn) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_transform(v, fn) for v in obj]
    return _jsonable(obj)


def _jsonable(value):
    """Turn numpy values, paths and containers into JSON-able Python objects."""
    if isinstance(value, np.ndarray):
        if value.dtype.names is not None:
            return {"__structured__": True, "dtype": value.dtype.descr,
                    "values": [[_jsonable(x) for x in row] for row in value.tolist()]}
        return {"__ndarray__": True, "dtype": value.dtype.str, "shape": list(value.shape),
                "values": value.tolist()}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _from_jsonable(value):
    if isinstance(value, dict):
        if value.get("__ndarray__"):
            return np.array(value["values"], dtype=np.dtype(value["dtype"])).reshape(value["shape"])
        if value.get("__structured__"):
            dtype = np.dtype([tuple(d) for d in value["dtype"]])
            return np.array([tuple(r) for r in value["values"]], dtype=dtype)
        return {k: _from_jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_jsonable(v) for v in value]
    return value


def _is_path_key(key: str) -> bool:
    return any(h in key.lower() for h in _PATH_KEY_HINTS)


def _map_paths(d, fn):
    """Apply ``fn`` to path-like string values (by key name) in the kwargs of a dict tree."""
    if isinstance(d, dict):
        out = {}
        for k, v in d.items():
            if _is_path_key(k) and isinstance(v, str):
                out[k] = fn(v)
            elif _is_path_key(k) and isinstance(v, list) and all(isinstance(x, str) for x in v):
                out[k] = [fn(x) for x in v]
            else:
                out[k] = _map_paths(v, fn)
        return out
    if isinstance(d, list):
        return [_map_paths(v, fn) for v in d]
    return d


def _make_paths_relative(d: dict, base: Path) -> dict:
    base = base.absolute()

    def rel(p: str) -> str:
        path = Path(p)
        if not path.is_absolute():
            return p
        try:
            return str(Path(path).relative_to(base))
        except ValueError:
            import os

            return os.path.relpath(path, base)

    return _map_paths(d, rel)


def _make_paths_absolute(d: dict, base: Path) -> dict:
    def absolute(p: str) -> str:
        path = Path(p)
        return str(path if path.is_absolute() else (base / path).resolve())

    return _map_paths(d, absolute)


def _import_class(class_path: str):
    """The extractor class a dict names: only registered classes (see :mod:`gpuspike.core.registry`)."""
    from .registry import resolve_class

    return resolve_class(class_path)


def _from_dict(d: dict, base_folder: str | Path | None = None) -> BaseExtractor:
    if not isinstance(d, dict) or "class" not in d or "kwargs" not in d:
        raise ValueError(f"not a gpuspike object dict (needs 'class' and 'kwargs' keys): {str(d)[:200]}")
    if d.get("relative_paths", False):
        if base_folder is None:
            raise ValueError("this dict has relative paths: give base_folder (the folder it was saved in)")
        d = _make_paths_absolute(d, Path(base_folder))
    cls = _import_class(d["class"])
    kwargs = _rebuild_kwargs(d["kwargs"], base_folder)
    obj = cls(**kwargs)
    foreign = getattr(cls, "__foreign__", False)
    obj._annotations.update(_from_jsonable(d.get("annotations") or {}))
    for k, v in (d.get("properties") or {}).items():
        if v is None or (foreign and k in obj._properties):
            continue  # SpikeInterface dicts list unset main properties as None; folder files hold the values
        obj._properties[k] = np.asarray(_from_jsonable(v))
    if foreign and d.get("probegroup") is not None and hasattr(obj, "set_probegroup"):
        from .loading import attach_probegroup

        attach_probegroup(obj, d["probegroup"])
    if hasattr(obj, "get_traces"):
        _check_recorded_layout(obj, d)
    return obj


def _check_recorded_layout(recording, d: dict) -> None:
    """A dict that records the samples of each segment and the dtype next to its kwargs (gpuspike's
    ``binary.json``) must match the files and the kwargs."""
    from .errors import CorruptFolderError

    recorded_dtype, kwargs_dtype = d.get("dtype"), (d.get("kwargs") or {}).get("dtype")
    if recorded_dtype is not None and kwargs_dtype is not None:
        try:
            differ = np.dtype(recorded_dtype) != np.dtype(kwargs_dtype)
        except TypeError:
            differ = True
        if differ:
            raise CorruptFolderError(f"{d['class']}: kwargs dtype {kwargs_dtype!r} differs from the dtype "
                                     f"{recorded_dtype!r} the traces were written with (byte order or type edited)")
    num_samples, class_path = d.get("num_samples"), d["class"]
    if num_samples is None:
        return
    expected = list(num_samples) if isinstance(num_samples, (list, tuple)) else [num_samples]
    actual = [recording.get_num_samples(i) for i in range(recording.get_num_segments())]
    if [int(n) for n in expected] != actual:
        raise CorruptFolderError(f"{class_path}: the dict says the segments hold {expected} samples, the data holds "
                                 f"{actual}: a file is truncated or was replaced, or the dtype is wrong")


def _rebuild_kwargs(kwargs, base_folder):
    if isinstance(kwargs, dict):
        if "class" in kwargs and "kwargs" in kwargs:
            return _from_dict(kwargs, base_folder)
        return {k: _rebuild_kwargs(v, base_folder) for k, v in kwargs.items()} if not kwargs.get("__ndarray__") \
            and not kwargs.get("__structured__") else _from_jsonable(kwargs)
    if isinstance(kwargs, list):
        return [_rebuild_kwargs(v, base_folder) for v in kwargs]
    return kwargs
