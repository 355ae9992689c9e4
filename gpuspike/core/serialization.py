"""Object dicts in SpikeInterface's form, and reading pickled dicts without running code.

``to_dict()`` writes plain JSON values (lists, not tagged arrays; the kwargs of in-memory classes keep
their arrays, since only memory can rebuild them), SpikeInterface's class path for
the classes both libraries share (:mod:`gpuspike.core.interop`), the probe as a
``"probegroup"`` dict and in-memory time changes as ``"times_kwargs"`` (SpikeInterface 0.105's
keys). SpikeInterface loads these dicts; gpuspike restores the exact property dtypes from the
extra ``"property_dtypes"`` key, which SpikeInterface ignores.
"""
from __future__ import annotations

import io
import pickle
from pathlib import Path

import numpy as np

from .errors import UnsafeFolderError


def plain(value):
    """A JSON-able value with numpy arrays as (nested) lists, numpy scalars as Python scalars.

    Parameters
    ----------
    value : object

    Returns
    -------
    object
        The same value made of JSON types.
    """
    if isinstance(value, np.ndarray):
        if value.dtype.names is not None:
            return [[plain(x) for x in row] for row in value.tolist()]
        return plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.dtype):
        return value.str
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {str(k) if not isinstance(k, str) else k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def extractor_to_dict(obj, include_annotations: bool = True, include_properties: bool = True,
                      include_extra_metadata: bool = True, recursive: bool = True) -> dict:
    """The dict of one object (its kwargs' objects as their dicts), in SpikeInterface's form.

    Parameters
    ----------
    obj : BaseExtractor
    include_annotations, include_properties : bool
        All annotations / properties (else only the main ones, as SpikeInterface).
    include_extra_metadata : bool
        Add the probe (``"probegroup"``) and in-memory time changes (``"times_kwargs"``).
    recursive : bool
        Nested extractors as their dicts (else kept as the objects themselves).

    Returns
    -------
    dict
    """
    from .. import __version__
    from .base import BaseExtractor
    from .interop import kwargs_to_si, si_class_path

    # an in-memory class's kwargs keep their arrays (dtype and memory, as SpikeInterface's dicts): its
    # dict is rebuilt in memory only (load(obj.to_dict())), never written as JSON
    in_memory = not type(obj)._dumpable_class

    def child(value):
        if isinstance(value, BaseExtractor):
            if not recursive:
                return value
            return extractor_to_dict(value, include_annotations, include_properties, include_extra_metadata)
        if isinstance(value, dict):
            return {k: child(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [child(v) for v in value]
        if in_memory and isinstance(value, np.ndarray):
            return value
        return plain(value)

    cls = type(obj)
    gs_path = f"{cls.__module__}.{cls.__qualname__}"
    si_path = si_class_path(gs_path)
    kwargs = child(obj._kwargs)
    if si_path is not None:
        kwargs = kwargs_to_si(si_path, kwargs)
    with_probe = include_extra_metadata and "contact_vector" in obj._properties
    annotations = obj._annotations if include_annotations else {
        k: obj._annotations[k] for k in obj._main_annotations if obj._annotations.get(k) is not None}
    if with_probe:
        annotations = {k: v for k, v in annotations.items() if k != "probes_info"}
    prop_keys = list(obj._properties) if include_properties else [k for k in obj._main_properties
                                                                   if k in obj._properties]
    if with_probe:  # the probe travels whole, as "probegroup" (SpikeInterface 0.105)
        from .channels import PROBE_PROPERTY_KEYS

        prop_keys = [k for k in prop_keys if k not in PROBE_PROPERTY_KEYS]
    d = {
        "class": si_path or gs_path,
        "module": "spikeinterface" if si_path else "gpuspike",
        "version": __version__,
        "kwargs": kwargs,
        "annotations": plain(annotations),
        "properties": {k: plain(obj._properties[k]) for k in prop_keys},
        "property_dtypes": {k: _dtype_descr(obj._properties[k].dtype) for k in prop_keys},
        "relative_paths": False,
        "dumpable": obj.is_dumpable,
        "created_by": f"gpuspike {__version__}",
    }
    if with_probe:
        d["probegroup"] = plain(obj.get_probegroup().to_dict(array_as_list=True))
    if include_extra_metadata and getattr(obj, "_time_info_modified", False):
        d["times_kwargs"] = [plain(seg.get_times_kwargs()) for seg in obj._segments]
    return d


def _dtype_descr(dtype: np.dtype):
    return dtype.descr if dtype.names is not None else dtype.str


def apply_dict_metadata(obj, d: dict, foreign: bool) -> None:
    """Set a rebuilt object's annotations, properties (exact dtypes), probe and times from its dict.

    Properties the object already has from its own files (folder formats) are kept when the dict
    came from another library (``foreign``), which lists unset main properties as None.

    Parameters
    ----------
    obj : BaseExtractor
        The object rebuilt from ``d["kwargs"]``.
    d : dict
        Its dict (gpuspike's or SpikeInterface's).
    foreign : bool
        The dict names a SpikeInterface class.
    """
    from .base import _from_jsonable

    obj._annotations.update(_from_jsonable(d.get("annotations") or {}))
    dtypes = d.get("property_dtypes") or {}
    for k, v in (d.get("properties") or {}).items():
        if v is None or (foreign and k in obj._properties):
            continue
        dtype = dtypes.get(k)
        if isinstance(dtype, list):
            dtype = np.dtype([tuple(x) for x in dtype])
            values = np.array([tuple(row) for row in v], dtype=dtype)
        else:
            values = np.asarray(_from_jsonable(v), dtype=dtype)
        obj._properties[k] = values
    if d.get("probegroup") is not None and hasattr(obj, "set_probegroup") and "contact_vector" not in obj._properties:
        from .loading import attach_probegroup

        saved = {k: obj._properties[k] for k in ("group",) if k in obj._properties}
        attach_probegroup(obj, d["probegroup"])
        obj._properties.update(saved)
    times_kwargs = d.get("times_kwargs")
    if times_kwargs and hasattr(obj, "_segments") and hasattr(obj, "get_traces"):
        for segment, times in zip(obj._segments, _checked_times_kwargs(times_kwargs, obj, d.get("class"))):
            segment.time_vector, segment.t_start = times
        obj._time_info_modified = True


def _checked_times_kwargs(times_kwargs, obj, class_path) -> list:
    """``(time_vector, t_start)`` per segment from a dict's ``times_kwargs``, checked against ``obj``."""
    from .errors import CorruptFolderError

    where = f"times_kwargs of {class_path!r}"
    if not isinstance(times_kwargs, list) or len(times_kwargs) != len(obj._segments) \
            or not all(isinstance(t, dict) for t in times_kwargs):
        raise CorruptFolderError(f"{where}: expected a list of {len(obj._segments)} dicts (one per segment), got "
                                 f"{str(times_kwargs)[:100]}")
    checked = []
    for i, (segment, times) in enumerate(zip(obj._segments, times_kwargs)):
        try:
            if times.get("time_vector") is not None:
                vector = np.asarray(times["time_vector"], dtype="float64")
                if vector.shape != (segment.get_num_samples(),):
                    raise ValueError(f"time_vector has shape {vector.shape}, the segment "
                                     f"{segment.get_num_samples()} samples")
                checked.append((vector, None))
            else:
                t_start = times.get("t_start")
                checked.append((None, None if t_start is None else float(t_start)))
        except (TypeError, ValueError) as err:
            raise CorruptFolderError(f"{where}, segment {i}: {err}") from None
    return checked


# ---------------------------------------------------------------------- pickles
#: globals a pickled dict may name: numpy arrays and scalars, paths; the loader of SpikeInterface objects
_SAFE_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("pathlib", "PosixPath"), ("pathlib", "WindowsPath"), ("pathlib", "Path"), ("pathlib", "PurePosixPath"),
    ("pathlib", "PureWindowsPath"), ("collections", "OrderedDict"), ("builtins", "set"),
    ("builtins", "frozenset"), ("builtins", "complex"), ("builtins", "slice"),
}
_DICT_LOADERS = {"BaseExtractor.from_dict", "BaseExtractor._from_dict", "_from_dict", "from_dict"}


class SafeUnpickler(pickle.Unpickler):
    """Unpickles plain data only: containers, numbers, strings, numpy arrays, paths.

    An object pickled by SpikeInterface (``(BaseExtractor.from_dict, (dict,))``) is rebuilt from
    its dict by gpuspike's loader, which builds only classes gpuspike knows; any other global
    is refused, so no code from the file runs.
    """

    #: SpikeInterface's pickled objects are rebuilt (else they come back as their dict)
    build_objects = True

    def find_class(self, module: str, name: str):
        if (module, name) == ("numpy", "ndarray"):  # an argument of _reconstruct, which checks the call
            return np.ndarray
        if (module, name) in _SAFE_GLOBALS:
            return _taking_plain_data(super().find_class(module, name))
        if name in _DICT_LOADERS and (module.startswith("spikeinterface") or module.startswith("gpuspike")):
            return _taking_plain_data(_from_file_dict if self.build_objects else _the_dict)
        raise pickle.UnpicklingError(
            f"refusing to unpickle {module}.{name}: gpuspike reads only plain data from pickle files (a folder or "
            f"file is data, never code); re-save the object with dump_to_json")


def load_pickle_dict(path: Path, build_objects: bool = True):
    """Read a ``.pkl`` / ``.pickle`` file written by ``dump_to_pickle`` (gpuspike's or SpikeInterface's).

    Parameters
    ----------
    path : Path
    build_objects : bool
        Rebuild the object SpikeInterface pickled (else return its dict).

    Returns
    -------
    dict or BaseExtractor
        The dict (or the object SpikeInterface pickled, rebuilt from its dict).
    """
    data = Path(path).read_bytes()
    unpickler = SafeUnpickler(io.BytesIO(data))
    unpickler.build_objects = build_objects
    return check_plain_data(unpickler.load(), str(path))


def _the_dict(d, *args):
    """SpikeInterface's pickled ``from_dict(d)``, read without building the object."""
    return d


def _from_file_dict(d, *args):
    """SpikeInterface's pickled ``from_dict(d)``: the object of a dict read from a file."""
    from .base import _from_dict

    return _from_dict(d, *args[:1], from_file=True)


def _taking_plain_data(fn):
    """``fn`` called only on plain data (no object arrays): a pickle may build an array of raw bytes
    that numpy would read as object pointers, and any call on it would follow them."""
    def call(*args, **kwargs):
        for value in (*args, *kwargs.values()):
            check_plain_data(value, "a pickle")
        return fn(*args, **kwargs)

    call.__name__ = getattr(fn, "__name__", "call")
    return call


def _plain_dtype(dtype) -> bool:
    if dtype.kind == "O" or dtype.hasobject:
        return False
    if dtype.subdtype is not None and not _plain_dtype(dtype.subdtype[0]):
        return False
    return all(_plain_dtype(field[0]) for field in (dtype.fields or {}).values())


def check_plain_data(value, where: str):
    """``value`` when it holds only plain data: containers, numbers, strings, paths and numpy arrays
    or dtypes without Python objects.

    Raises
    ------
    UnsafeFolderError
        An object dtype (whose items are pointers) anywhere in ``value``.
    """
    stack, seen = [value], set()
    while stack:
        item = stack.pop()
        if isinstance(item, (dict, list, tuple, set, frozenset)):
            if id(item) in seen:  # a pickle may make a container hold itself
                continue
            seen.add(id(item))
            if isinstance(item, dict):
                stack.extend(item.keys())
                stack.extend(item.values())
            else:
                stack.extend(item)
        elif isinstance(item, (np.ndarray, np.generic, np.dtype)):
            dtype = item if isinstance(item, np.dtype) else item.dtype
            if not _plain_dtype(dtype):
                raise UnsafeFolderError(f"{where} holds a numpy object dtype ({dtype!r}): gpuspike reads only plain "
                                        f"data from pickle files; re-save the object with dump_to_json")
    return value
