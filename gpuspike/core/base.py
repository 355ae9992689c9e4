"""BaseExtractor: ids, properties, annotations and provenance shared by every object."""
from __future__ import annotations

import abc
import copy
import json
import os
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from .errors import NotDumpableError
from .si_methods import ExtractorMethods
from .sorting_tools import base_period_dtype  # noqa: F401  (SpikeInterface's location)

#: SpikeInterface's peak vector fields (a peak: a detected event on a channel, no unit)
base_peak_dtype = [("sample_index", "int64"), ("channel_index", "int64"), ("amplitude", "float64"),
                   ("segment_index", "int64")]
#: a peak that is a sorted spike: with its unit
spike_peak_dtype = base_peak_dtype + [("unit_index", "int64")]

_PATH_KEY_HINTS = ("path", "folder", "file")
#: missing value of a new property set on some ids only, by dtype kind (others need ``missing_value``)
_DEFAULT_MISSING_VALUES = {"f": np.nan, "O": None, "S": b"", "U": ""}


class UnknownIdError(KeyError, ValueError, AssertionError):
    """Ids that the extractor does not have: a ``KeyError`` (a lookup), the ``ValueError`` that
    SpikeInterface 0.105's ``ids_to_indices`` raises, and the ``AssertionError`` of its selections."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def string_ids(count: int) -> np.ndarray:
    """Ids ``"0" .. str(count - 1)`` as the narrowest unicode array (SpikeInterface's generated ids).

    Parameters
    ----------
    count : int

    Returns
    -------
    np.ndarray
    """
    return np.array([str(i) for i in range(int(count))], dtype=str)  # numpy picks the narrowest width


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

    def set_parent_extractor(self, parent_extractor) -> None:
        self._parent_extractor = parent_extractor


class BaseExtractor(ExtractorMethods):
    """Base of every gpuspike object: ids, properties, annotations, provenance.

    Parameters
    ----------
    main_ids : array-like
        Channel ids (recordings, snippets, events) or unit ids (sortings). Must be unique.
    """

    _main_annotations: list[str] = []
    _main_properties: list[str] = []
    #: properties never copied onto an object of this class by :meth:`copy_metadata` (caches that
    #: describe the data of the object they were computed on, not of a slice or a derived object)
    _skip_properties: list[str] = []
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
        #: SpikeInterface's per-object switches of check_serializability (all on by default; an
        #: object that knows better turns one off, and every object built on it follows)
        self._serializability: dict[str, bool] = {"memory": True, "json": True, "pickle": True}

    # ------------------------------------------------------------------ ids and segments
    @property
    def name(self) -> str:
        """The ``name`` annotation, else the class name (shown by ``repr``)."""
        name = self._annotations.get("name")
        return name if name is not None else type(self).__name__

    @name.setter
    def name(self, value: str | None) -> None:
        if value is None:
            self._annotations.pop("name", None)
        else:
            self._annotations["name"] = value

    @property
    def segments(self) -> list:
        """The segment objects (SpikeInterface's name)."""
        return self._segments

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
                f"Multi-segment object. Provide 'segment_index' (segment_index must be given for a "
                f"multi-segment object: {n} segments; allowed values: 0..{n - 1})"
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
            Return a slice when the indices are consecutive (``slice(None)`` for ``ids=None``),
            so that in-memory data is viewed, not copied.

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
            indices = np.fromiter((lookup[i] for i in ids.tolist()), dtype=np.int64, count=len(ids))
            if prefer_slice and indices.size and np.all(np.diff(indices) == 1):
                return slice(int(indices[0]), int(indices[-1]) + 1)
            return indices
        except (KeyError, TypeError):
            missing = [i for i in ids.tolist() if not _hashable_in(i, lookup)]
            raise UnknownIdError(
                f"unknown {self._id_kind}s {missing[:20]}; allowed: {self._main_ids.tolist()[:20]}"
                f"{' ...' if len(self._main_ids) > 20 else ''}"
            ) from None

    def _id_lookup(self) -> dict:
        lookup = getattr(self, "_id_lookup_cache", None)
        if lookup is None:
            lookup = {v: i for i, v in enumerate(self._main_ids.tolist())}
            self._id_lookup_cache = lookup
        return lookup

    def get_parent(self) -> "BaseExtractor | None":
        """The object this one is a view of (None for objects that are not views)."""
        return getattr(self, "_parent", None)

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
        """Return the annotation ``key`` (a deep copy unless ``copy=False``); None when it is not set, as in
        SpikeInterface."""
        if key not in self._annotations:
            return None
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
            One value per id (per id in ``ids`` when given). None deletes the property.
        ids : array-like, optional
            Set the property for these (unique) ids only. An existing property keeps its other
            values (``values`` must then have the same dtype kind); a new one gets
            ``missing_value`` for the other ids.
        missing_value : object, optional
            Value of a new property for the ids not in ``ids``, of the same dtype kind as
            ``values``. Defaults to NaN for floats, "" for strings, None for objects; integer
            and boolean properties need it (as in SpikeInterface).

        Raises
        ------
        ValueError
            Wrong number of values, duplicated ids, or no natural missing value.
        TypeError
            ``values`` (or ``missing_value``) of another dtype kind than the property.
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
        ids = _to_id_array(ids)
        unique, counts = np.unique(ids, return_counts=True)
        if unique.size != ids.size:
            raise ValueError(f"property {key!r}: ids are not unique; duplicated: {unique[counts > 1].tolist()}")
        indices = self.ids_to_indices(ids)
        if len(values) != len(indices):
            raise ValueError(f"property {key!r}: {len(values)} values for {len(indices)} ids")
        kind = values.dtype.kind
        if len(indices) == n:  # every id given, in any order
            full = np.zeros_like(values)
            full[indices] = values
            self._properties[key] = full
            return
        if key in self._properties:
            full = self._properties[key]
            if full.dtype.kind != kind and not (full.dtype.kind in "iuf" and kind in "iuf"):
                raise TypeError(f"property {key!r} has dtype {full.dtype} (kind {full.dtype.kind!r}), values have "
                                f"{values.dtype} (kind {kind!r}): give values of the same kind")
            if full.dtype.kind in "iu" and kind in "iuf":
                # numbers of another kind go into an integer property only when they are whole and in range
                values = _checked_property_values(values, full.dtype, key)
            full = full.copy()
        else:
            if missing_value is None:
                if kind not in _DEFAULT_MISSING_VALUES:
                    raise ValueError(
                        f"property {key!r} of dtype {values.dtype}: no natural missing value for the "
                        f"{self._id_kind}s not in ids; give missing_value= (a value of kind {kind!r})")
                missing_value = _DEFAULT_MISSING_VALUES[kind]
            elif np.asarray(missing_value).dtype.kind != kind:
                raise TypeError(f"property {key!r}: missing_value={missing_value!r} is not of the kind of the values "
                                f"({values.dtype}); give a missing_value of the same type")
            dtype = values.dtype
            if kind == "U":
                width = max([len(str(missing_value))] + [len(v) for v in values.ravel().tolist()])
                dtype = np.dtype(f"<U{max(width, 1)}")
            full = np.zeros((n,) + values.shape[1:], dtype=dtype)
            full[...] = missing_value
        if kind == "U" and values.dtype.itemsize > full.dtype.itemsize:
            full = full.astype(values.dtype)
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

    def _views_by_property(self, property: str, outputs: str, view_of):
        """``{value: view_of(mask of the ids with that value)}`` per value of ``property`` (or the
        views as a list): what the recordings' and sortings' ``split_by`` share."""
        if outputs not in ("dict", "list"):
            raise ValueError(f"outputs={outputs!r}: allowed values are 'dict', 'list'")
        values = self.get_property(property)
        if values is None:
            raise ValueError(f"split_by: property {property!r} is not set; available: {self.get_property_keys()}")
        result = {}
        for value in np.unique(values):
            result[value.item() if hasattr(value, "item") else value] = view_of(values == value)
        return result if outputs == "dict" else list(result.values())

    def delete_property(self, key: str) -> None:
        """Remove a property."""
        if key not in self._properties:
            raise KeyError(f"unknown property {key!r}; available: {list(self._properties)}")
        del self._properties[key]

    def copy_metadata(self, other: "BaseExtractor", only_main: bool = False, ids: Sequence | None = None,
                      skip_properties: Iterable[str] = ()) -> None:
        """Copy annotations and properties of ``self`` onto ``other`` (sliced to ``ids``), except
        ``skip_properties`` and ``other``'s :attr:`_skip_properties`."""
        skip_properties = set(skip_properties) | set(other._skip_properties)
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
        forced = self.__dict__.get("_is_dumpable_set")
        if forced is not None:
            return forced
        if not self._dumpable_class:
            return False
        return all(p.is_dumpable for p in _nested_extractors(self._kwargs))

    @is_dumpable.setter
    def is_dumpable(self, value: bool) -> None:
        # extractors written for SpikeInterface < 0.100 set this attribute in __init__
        self.__dict__["_is_dumpable_set"] = bool(value)

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
                include_extra_metadata: bool = True, relative_to: str | Path | None = None,
                recursive: bool = False) -> dict:
        """A dict that rebuilds this object with :func:`load`, in SpikeInterface's form.

        Values are plain JSON (lists for arrays; in-memory classes keep their arrays); classes that
        SpikeInterface also has are named by their SpikeInterface path, so SpikeInterface loads the
        dict too. The parameters come in SpikeInterface 0.105's order; the defaults of
        ``include_annotations`` and ``include_properties`` differ (all annotations and properties).

        Parameters
        ----------
        include_annotations, include_properties : bool
            Store all annotations / properties (else only the main ones).
        include_extra_metadata : bool
            Store the probe (``"probegroup"``) and in-memory time changes (``"times_kwargs"``).
        relative_to : str or Path, optional
            Make file paths relative to this folder, so a saved folder can be moved (implies
            ``recursive``: SpikeInterface 0.105 requires ``recursive=True`` with it).
        recursive : bool
            Turn the extractors in the kwargs (parents of a view) into their dicts too; False (as
            SpikeInterface) keeps them as objects, which :func:`load` takes as they are. Only a
            recursive dict can be written as JSON.

        Returns
        -------
        dict
        """
        from .serialization import extractor_to_dict

        recursive = bool(recursive) or relative_to is not None
        d = extractor_to_dict(self, include_annotations, include_properties, include_extra_metadata, recursive)
        if relative_to is not None:
            d = _make_paths_relative(d, Path(relative_to))
            d["relative_paths"] = True
        return d

    @staticmethod
    def from_dict(dictionary: dict, base_folder: str | Path | None = None) -> "BaseExtractor":
        """Rebuild an object from :meth:`to_dict` output (gpuspike's or SpikeInterface's).

        Parameters
        ----------
        dictionary : dict
        base_folder : str or Path, optional
            The folder relative paths in the dict start from.

        Returns
        -------
        BaseExtractor
        """
        return _from_dict(dictionary, base_folder)

    def to_json(self, relative_to: str | Path | None = None) -> str:
        """The dict of :meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(relative_to=relative_to, recursive=True), indent=4)

    def _check_json_dumpable(self, what: str) -> None:
        self.check_dumpable(what)
        session_only = [type(e).__name__ for e in [self, *_all_nested(self)] if getattr(e, "_session_only", False)]
        if session_only:
            raise NotDumpableError(f"{what}: {session_only[0]} lives in this session's shared memory and cannot be "
                                   f"written to a file; save it first: obj = obj.save(folder=...)")

    def dump_to_json(self, file_path: str | Path | None = None, relative_to: str | Path | bool | None = None,
                     include_extra_metadata: bool = True, include_properties: bool = True,
                     include_annotations: bool = True) -> None:
        """Write the dict of :meth:`to_dict` to a JSON file (atomically); :func:`load` reads it back.

        Parameters
        ----------
        file_path : str or Path
            ``.json`` is appended when the name has no suffix.
        relative_to : str, Path or True, optional
            Store paths relative to this folder (True: the file's folder).
        include_extra_metadata, include_properties, include_annotations : bool
        """
        self._check_json_dumpable("dump_to_json")
        from .atomic import atomic_write_text

        file_path = _file_path(file_path, (".json",))
        if relative_to is True:
            relative_to = file_path.parent
        d = self.to_dict(include_annotations=include_annotations, include_properties=include_properties,
                         relative_to=relative_to, include_extra_metadata=include_extra_metadata, recursive=True)
        atomic_write_text(file_path, json.dumps(d, indent=4))

    def dump_to_pickle(self, file_path: str | Path | None = None, relative_to: str | Path | bool | None = None,
                       include_properties: bool = True) -> None:
        """Write the dict of :meth:`to_dict` to a pickle file (plain data only; :func:`load` reads it back).

        Parameters
        ----------
        file_path : str or Path
            ``.pkl`` is appended when the name has no suffix; ``.pkl`` or ``.pickle``.
        relative_to : str, Path or True, optional
        include_properties : bool
        """
        self._check_json_dumpable("dump_to_pickle")
        import pickle

        from .atomic import atomic_write_bytes

        file_path = _file_path(file_path, (".pkl", ".pickle"))
        if relative_to is True:
            relative_to = file_path.parent
        d = self.to_dict(include_annotations=True, include_properties=include_properties, relative_to=relative_to,
                         recursive=True)
        atomic_write_bytes(file_path, pickle.dumps(d))

    def dump(self, file_path: str | Path, relative_to: str | Path | bool | None = None) -> None:
        """Write the object's dict to ``file_path``: JSON (``.json``) or pickle (``.pkl`` / ``.pickle``).

        Parameters
        ----------
        file_path : str or Path
        relative_to : str, Path or True, optional
            Store paths relative to this folder (True: the file's folder).
        """
        suffix = Path(file_path).suffix
        if suffix == ".json":
            self.dump_to_json(file_path, relative_to=relative_to)
        elif suffix in (".pkl", ".pickle"):
            self.dump_to_pickle(file_path, relative_to=relative_to)
        else:
            raise ValueError(f"dump: file_path={str(file_path)!r} must end with .json, .pkl or .pickle")

    @staticmethod
    def load(file_or_folder_path, base_folder: str | Path | bool | None = None) -> "BaseExtractor":
        """Load an object from a dict, a ``.json`` / ``.pkl`` file or a saved folder (see :func:`load`)."""
        from .loading import load

        return load(file_or_folder_path, base_folder=base_folder)

    @staticmethod
    def load_from_folder(folder) -> "BaseExtractor":
        """Load an object saved with ``save(folder=...)`` (SpikeInterface <= 0.100 name)."""
        from .loading import load

        return load(folder)

    def __reduce__(self):
        if self.is_dumpable:
            return (_from_dict, (self.to_dict(recursive=True),))
        return super().__reduce__()

    def clone(self) -> "BaseExtractor":
        """A new object rebuilt from the dict (dumpable objects) or a deep copy."""
        if self.is_dumpable:
            return _from_dict(self.to_dict(recursive=True))
        return copy.deepcopy(self)

    def __repr__(self) -> str:
        kind = self._id_kind[:-3] if self._id_kind.endswith("_id") else self._id_kind
        return f"{type(self).__name__}: {len(self._main_ids)} {kind}s - {self.get_num_segments()} segments"


# ---------------------------------------------------------------------- helpers
def _hashable_in(value, lookup: dict) -> bool:
    try:
        return value in lookup
    except TypeError:
        return False


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


def _all_nested(extractor: "BaseExtractor"):
    """Every object in the kwargs of ``extractor``, recursively."""
    for child in _nested_extractors(extractor._kwargs):
        yield child
        yield from _all_nested(child)


def _file_path(file_path, extensions: tuple) -> Path:
    if file_path is None:
        raise TypeError(f"give file_path (a {' or '.join(extensions)} file)")
    path = Path(file_path)
    if path.suffix == "":
        path = path.with_name(path.name + extensions[0])
    if path.suffix not in extensions:
        raise ValueError(f"file_path={str(file_path)!r} must end with {' or '.join(extensions)}")
    if os.path.lexists(path) and not _is_a_dump(path):
        from .errors import RefusedOverwriteError

        raise RefusedOverwriteError(f"file_path={str(path)!r} exists and is not a dump of an object (dump_to_json / "
                                    f"dump_to_pickle write a dict with a 'class'), so replacing it could lose your "
                                    f"file; remove it yourself or choose another name")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _is_a_dump(path: Path) -> bool:
    """``path`` is a file that a dump wrote (gpuspike's or SpikeInterface's): the dict of an object."""
    if not path.is_file():
        return False
    try:
        if path.suffix == ".json":
            d = json.loads(path.read_text(encoding="utf8"))
        else:
            from .serialization import load_pickle_dict

            d = load_pickle_dict(path, build_objects=False)
    except Exception:
        return False
    return isinstance(d, BaseExtractor) or (isinstance(d, dict) and isinstance(d.get("class"), str))


def _nested_extractors(obj):
    if isinstance(obj, BaseExtractor):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _nested_extractors(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _nested_extractors(v)


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


def _from_dict(d: dict, base_folder: str | Path | None = None, *, from_file: bool = False,
               confine: str | Path | None = None) -> BaseExtractor:
    """The object of dict ``d``. ``from_file``: the dict was read from a file, which may not name a
    class that lives in one session's memory (shared memory). ``confine``: the folder the dict was
    read from, which every path it names (relative ones start there) must stay inside."""
    if not isinstance(d, dict) or "class" not in d or "kwargs" not in d:
        raise ValueError(f"not a gpuspike object dict (needs 'class' and 'kwargs' keys): {str(d)[:200]}")
    cls = _import_class(d["class"])
    if not isinstance(d["kwargs"], dict):
        from .errors import CorruptFolderError

        raise CorruptFolderError(f"the kwargs of {d['class']!r} must be a dict of arguments, got "
                                 f"{type(d['kwargs']).__name__}: {str(d['kwargs'])[:100]}")
    if confine is not None:
        from .folder_safety import check_inside

        confine = Path(confine).absolute()
        d = _confine_kwargs_paths(d, lambda p: str(check_inside(p, confine, f"path of {d['class']!r}")))
    elif d.get("relative_paths", False):
        if base_folder is None:
            raise ValueError("this dict has relative paths: give base_folder (the folder it was saved in)")
        d = _make_paths_absolute(d, Path(base_folder))
    if (from_file or confine is not None) and getattr(cls, "_session_only", False):
        from .errors import UnsafeFolderError

        raise UnsafeFolderError(f"class {d['class']!r} lives in one session's shared memory: a file or folder may "
                                f"not name it (it would attach to, and could remove, another process's memory)")
    kwargs = _rebuild_kwargs(d["kwargs"], base_folder, from_file=from_file, confine=confine)
    try:
        obj = cls(**kwargs)
    except TypeError as err:
        if not (from_file or confine is not None):
            raise
        from .errors import CorruptFolderError

        raise CorruptFolderError(f"the kwargs of {d['class']!r} in the file do not fit the class ({err}); the file was "
                                 f"edited or is not a saved object") from None
    from .serialization import apply_dict_metadata

    apply_dict_metadata(obj, d, foreign=getattr(cls, "__foreign__", False))
    if hasattr(obj, "get_traces"):
        _check_recorded_layout(obj, d)
    return obj


def _confine_kwargs_paths(d: dict, check) -> dict:
    """``d`` with the path values of its kwargs (and of the kwargs of the object dicts nested in them,
    not their annotations or properties) passed through ``check``; its paths are then absolute."""
    def walk(value):
        if isinstance(value, dict):
            if "class" in value and "kwargs" in value:
                return _confine_kwargs_paths(value, check)
            return {k: check(v) if _is_path_key(k) and isinstance(v, str)
                    else [check(x) for x in v] if _is_path_key(k) and isinstance(v, list)
                    and all(isinstance(x, str) for x in v) else walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    return {**d, "kwargs": walk(d["kwargs"]), "relative_paths": False}


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


def _rebuild_kwargs(kwargs, base_folder, from_file: bool = False, confine=None):
    if isinstance(kwargs, dict):
        if "class" in kwargs and "kwargs" in kwargs:
            return _from_dict(kwargs, base_folder, from_file=from_file, confine=confine)
        return {k: _rebuild_kwargs(v, base_folder, from_file, confine) for k, v in kwargs.items()} \
            if not kwargs.get("__ndarray__") and not kwargs.get("__structured__") else _from_jsonable(kwargs)
    if isinstance(kwargs, list):
        return [_rebuild_kwargs(v, base_folder, from_file, confine) for v in kwargs]
    return kwargs
