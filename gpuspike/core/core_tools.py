"""Small helpers of SpikeInterface's core_tools: python parameter files, sample conversions, path and
dict tests, walks over extractor dicts, properties / annotations / provenance of a folder, a normal pdf."""
from __future__ import annotations

import ast
import importlib
import importlib.metadata
import inspect
import json
import warnings
from collections import namedtuple
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from .loading import load_annotations_from_folder  # noqa: F401  (SpikeInterface's location)
from .reprs import convert_bytes_to_str, convert_seconds_to_str  # noqa: F401  (SpikeInterface's location)
from .sharedmem import make_shared_array  # noqa: F401  (SpikeInterface's location)


def ms_to_samples(ms: float, sampling_frequency: float) -> int:
    """The number of samples nearest to ``ms`` milliseconds.

    Parameters
    ----------
    ms : float
    sampling_frequency : float

    Returns
    -------
    int
    """
    return round(ms * sampling_frequency / 1000.0)


def samples_to_ms(samples: int, sampling_frequency: float) -> float:
    """``samples`` as a duration in milliseconds.

    Parameters
    ----------
    samples : int
    sampling_frequency : float

    Returns
    -------
    float
    """
    return samples / sampling_frequency * 1000.0


def is_path_remote(path) -> bool:
    """True for a remote location (``s3://``, ``gcs://``, ``http(s)://``), which gpuspike does not open.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    bool
    """
    return any(scheme in str(path) for scheme in ("s3://", "gcs://", "http://", "https://"))


def is_dict_extractor(d) -> bool:
    """True when ``d`` is the dict of an extractor (``to_dict()``: class, module, version, annotations).

    Parameters
    ----------
    d : object

    Returns
    -------
    bool
    """
    return isinstance(d, dict) and all(key in d for key in ("module", "class", "version", "annotations"))


#: one leaf of an extractor dict: its value, the key it is under (a list passes its key to its items) and
#: the keys / list positions leading to it
extractor_dict_element = namedtuple("extractor_dict_element", ["value", "name", "access_path"])


def extractor_dict_iterator(extractor_dict: dict) -> Iterator[extractor_dict_element]:
    """Every leaf of a nested dict (an extractor's ``to_dict()``), depth first.

    Parameters
    ----------
    extractor_dict : dict

    Yields
    ------
    extractor_dict_element
        ``(value, name, access_path)``: ``{"a": {"b": 1}}`` gives ``(1, "b", ("a", "b"))``; the items
        of a list under ``"paths"`` are named ``"paths"``, their positions in the access path.
    """
    def walk(node, access_path: tuple, name):
        if isinstance(node, dict):
            for key, value in node.items():
                yield from walk(value, access_path + (key,), key)
        elif isinstance(node, list):
            for position, value in enumerate(node):
                yield from walk(value, access_path + (position,), name)
        else:
            yield extractor_dict_element(value=node, name=name, access_path=access_path)

    yield from walk(extractor_dict, (), "")


def set_value_in_extractor_dict(extractor_dict: dict, access_path: tuple, new_value) -> None:
    """Replace, in place, the value found at ``access_path`` (see :func:`extractor_dict_iterator`).

    Parameters
    ----------
    extractor_dict : dict
    access_path : tuple
        Keys and list positions, outermost first.
    new_value : object
    """
    if not access_path:
        raise ValueError("access_path is empty: give the keys leading to the value, e.g. ('kwargs', 'file_path')")
    node = extractor_dict
    for key in access_path[:-1]:
        node = node[key]
    node[access_path[-1]] = new_value


def element_is_path(element: extractor_dict_element) -> bool:
    """True when a leaf of an extractor dict is a path: a str or Path under a key containing "path".

    Parameters
    ----------
    element : extractor_dict_element

    Returns
    -------
    bool
    """
    return isinstance(element.value, (str, Path)) and "path" in str(element.name)


def recursive_key_finder(d: dict, key) -> Iterator:
    """Every value stored under ``key`` in a nested dict (nested dicts are searched, not returned).

    Parameters
    ----------
    d : dict
    key : hashable

    Yields
    ------
    object
    """
    for k, value in d.items():
        if isinstance(value, dict):
            yield from recursive_key_finder(value, key)
        elif k == key:
            yield value


def define_function_from_class(source_class, name: str):
    """The class itself, to be used as a ``read_*`` function (SpikeInterface's extractor idiom:
    ``read_x = define_function_from_class(XRecordingExtractor, "read_x")``).

    Parameters
    ----------
    source_class : type
    name : str
        The function's name (documentation only, as in SpikeInterface).

    Returns
    -------
    type
        ``source_class``.
    """
    return source_class


def define_function_handling_dict_from_class(source_class: type, name: str) -> Callable:
    """A function that applies ``source_class`` to a recording, or to each recording of a dict (the
    dict of ``recording.split_by("group")``), giving a dict with the same keys (SpikeInterface's idiom
    for preprocessing functions: ``my_filter = define_function_handling_dict_from_class(MyFilter,
    "my_filter")``).

    Parameters
    ----------
    source_class : type
        A class taking the recording first (or as ``recording=``).
    name : str
        The function's name.

    Returns
    -------
    callable
        With ``source_class``'s signature and docstring.
    """
    from .recording import BaseRecording

    def source_class_or_dict_of_sources_classes(*args, **kwargs):
        in_kwargs = "recording" in kwargs
        if not in_kwargs and not args:
            raise TypeError(f"{name}() needs a recording (or a dict of recordings) as its first argument")
        recordings = kwargs["recording"] if in_kwargs else args[0]
        if isinstance(recordings, BaseRecording):
            return source_class(*args, **kwargs)
        if isinstance(recordings, dict):
            others = {key: value for key, value in kwargs.items() if key != "recording"}
            rest = args if in_kwargs else args[1:]
            return {key: source_class(recording, *rest, **others) for key, recording in recordings.items()}
        raise TypeError(f"{name}() takes a recording or a dict of recordings, got {type(recordings).__name__}")

    source_class_or_dict_of_sources_classes.__signature__ = inspect.signature(source_class)
    source_class_or_dict_of_sources_classes.__doc__ = source_class.__doc__
    source_class_or_dict_of_sources_classes.__name__ = name
    source_class_or_dict_of_sources_classes._precomputable_kwarg_names = list(
        getattr(source_class, "_precomputable_kwarg_names", []))
    return source_class_or_dict_of_sources_classes


def clean_zarr_folder_name(folder) -> Path:
    """``folder`` with the ``.zarr`` suffix (added when it has another or none, as SpikeInterface).

    Parameters
    ----------
    folder : str or Path

    Returns
    -------
    Path
    """
    folder = Path(folder)
    return folder if folder.suffix == ".zarr" else folder.with_suffix(".zarr")


def is_editable_mode() -> bool:
    """Whether gpuspike is installed in editable mode (``pip install -e``).

    Returns
    -------
    bool
    """
    # every record of the name: a source tree on sys.path may hold a stale gpuspike.egg-info first
    for distribution in importlib.metadata.distributions(name="gpuspike"):
        direct_url = distribution.read_text("direct_url.json")
        if direct_url:
            return bool((json.loads(direct_url).get("dir_info") or {}).get("editable", False))
    return False


def retrieve_importing_provenance(a_class) -> dict:
    """Where a class is imported from: ``{"class": "<module>.<name>", "module": <top-level package>,
    "version": <its __version__, or "unknown">}``.

    Parameters
    ----------
    a_class : type

    Returns
    -------
    dict
    """
    class_name = f"{a_class.__module__}.{a_class.__name__}"
    module = class_name.split(".")[0]
    version = getattr(importlib.import_module(module), "__version__", "unknown")
    return {"class": class_name, "module": module, "version": version}


def load_properties_from_folder(folder, extractor) -> None:
    """Set each ``<key>.npy`` (or ``<key>.json``) of the properties folder ``folder`` as a property of
    ``extractor``, skipping ``contact_vector`` (the probe's, as SpikeInterface). Pickled files are
    never unpickled: they are skipped with a warning naming them.

    Parameters
    ----------
    folder : str or Path
        The properties folder itself (``<saved folder>/properties``).
    extractor : BaseExtractor

    Raises
    ------
    CorruptFolderError
        A file that cannot be read, or whose values are not one per channel / unit.
    """
    from .errors import CorruptFolderError
    from .loading import read_property_files

    if not Path(folder).is_dir():
        return
    for path, values in read_property_files(folder):
        if path.stem == "contact_vector":
            continue
        try:
            extractor.set_property(path.stem, values)
        except ValueError as err:
            raise CorruptFolderError(f"property file {str(path)!r} does not fit: {err}") from None


def save_properties_to_folder(folder, extractor) -> None:
    """Write each property of ``extractor`` to ``folder`` (created) as ``<key>.npy``, never pickled
    (objects other than strings as ``<key>.json``).

    Parameters
    ----------
    folder : str or Path
    extractor : BaseExtractor
    """
    from .folder_safety import write_property

    folder = Path(folder)
    folder.mkdir(exist_ok=True)
    for key in extractor.get_property_keys():
        write_property(folder, key, extractor.get_property(key))


def save_annotations_to_folder(folder, extractor) -> None:
    """Write the annotations of ``extractor`` to ``folder/annotations.json``.

    Parameters
    ----------
    folder : str or Path
    extractor : BaseExtractor
    """
    from .atomic import atomic_write_text
    from .serialization import plain

    atomic_write_text(Path(folder) / "annotations.json", json.dumps(plain(extractor._annotations), indent=4))


def save_provenance_to_folder(folder, extractor, relative_to=None) -> None:
    """Write ``folder/provenance.json`` (the extractor's dict, paths relative to ``relative_to`` when
    given) when the extractor can be written as JSON; else warn that no provenance is saved (gpuspike
    writes no pickle).

    Parameters
    ----------
    folder : str or Path
    extractor : BaseExtractor
    relative_to : str or Path, optional
    """
    if extractor.check_serializability("json"):
        extractor.dump_to_json(file_path=Path(folder) / "provenance.json", relative_to=relative_to)
    else:
        warnings.warn(f"{type(extractor).__name__} cannot be written as JSON: no provenance is saved in "
                      f"{str(folder)!r} (gpuspike writes no pickle)", stacklevel=2)


def normal_pdf(x, mu: float = 0.0, sigma: float = 1.0):
    """Probability density of a normal distribution at ``x``.

    Parameters
    ----------
    x : float or np.ndarray
    mu : float
    sigma : float

    Returns
    -------
    float or np.ndarray
    """
    return 1.0 / (sigma * np.sqrt(2 * np.pi)) * np.exp(-((np.asarray(x) - mu) ** 2) / (2 * sigma**2))


def _literal(node: ast.AST, path: Path):
    """The value of a literal expression; ``range(...)`` (of literals) becomes a list."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range" \
            and not node.keywords:
        return list(range(*[_literal(a, path) for a in node.args]))
    if isinstance(node, (ast.List, ast.Tuple)):
        values = [_literal(e, path) for e in node.elts]
        return values if isinstance(node, ast.List) else tuple(values)
    if isinstance(node, ast.Dict):
        return {_literal(k, path): _literal(v, path) for k, v in zip(node.keys, node.values)}
    try:
        return ast.literal_eval(node)
    except ValueError:
        raise ValueError(f"read_python({str(path)!r}): line {node.lineno} is not a literal value "
                         f"({ast.unparse(node)!r}); only 'name = literal' lines (numbers, strings, lists, dicts, "
                         f"range(...)) are read, no code is run") from None


def read_python(path) -> dict:
    """Read a python parameter file (``name = value`` lines) into a dict, without running it.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    dict
        Lower-cased names -> values.

    Raises
    ------
    ValueError
        A line that is not an assignment of a literal value.
    """
    path = Path(path).absolute()
    if not path.is_file():
        raise FileNotFoundError(f"read_python: {str(path)!r} is not a file")
    tree = ast.parse(path.read_text(), filename=str(path))
    out = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            continue  # docstrings
        if not (isinstance(stmt, ast.Assign) and all(isinstance(t, ast.Name) for t in stmt.targets)):
            raise ValueError(f"read_python({str(path)!r}): line {stmt.lineno} is not 'name = value'")
        value = _literal(stmt.value, path)
        for target in stmt.targets:
            out[target.id.lower()] = value
    return out


def write_python(path, dict: dict) -> None:
    """Write a dict as a python parameter file (``name = value`` lines; strings quoted).

    Parameters
    ----------
    path : str or Path
    dict : dict
    Returns
    -------
    None
    """
    lines = []
    for k, v in dict.items():
        if isinstance(v, np.ndarray):
            v = v.tolist()
        elif isinstance(v, np.generic):
            v = v.item()
        if isinstance(v, Path):
            v = str(v)
        lines.append(f"{k} = {v!r}\n")
    Path(path).write_text("".join(lines))


def _json_ready(value):
    """``value`` with numpy values, paths, extractors, probes and datetimes made plain JSON values."""
    import datetime

    from probeinterface import ProbeGroup

    from .base import BaseExtractor

    if isinstance(value, dict):
        return {(k.item() if isinstance(k, np.generic) else k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_json_ready(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return _json_ready(value.tolist())
    if isinstance(value, np.dtype):
        return value.name
    if isinstance(value, type) and issubclass(value, np.generic):
        return np.dtype(value).name
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, BaseExtractor):
        return _json_ready(value.to_dict(recursive=True))
    if isinstance(value, ProbeGroup):
        return _json_ready(value.to_dict())
    return value


def check_json(dictionary: dict) -> dict:
    """A copy of ``dictionary`` that JSON can write: numpy values, dtypes, paths, extractors and
    probe groups turned into plain values (SpikeInterface's ``check_json``).

    Parameters
    ----------
    dictionary : dict

    Returns
    -------
    dict
        What ``json.loads(json.dumps(...))`` gives back.

    Raises
    ------
    TypeError
        A value JSON cannot hold (naming its type).
    """
    import json

    return json.loads(json.dumps(_json_ready(dictionary)))


def measure_memory_allocation(measure_in_process: bool = True) -> int:
    """Memory in use now, in bytes: this process's resident memory, or the whole machine's
    (total minus available) with ``measure_in_process=False``.

    Parameters
    ----------
    measure_in_process : bool

    Returns
    -------
    int
    """
    import psutil

    if measure_in_process:
        return int(psutil.Process().memory_info().rss)
    memory = psutil.virtual_memory()
    return int(memory.total - memory.available)


class SIJsonEncoder(__import__("json").JSONEncoder):
    """A JSON encoder for what extractor dicts hold (numpy values, dtypes, paths, extractors,
    probe groups, datetimes): SpikeInterface's ``SIJsonEncoder``. Numpy scalars are turned into
    Python values everywhere, dict keys included."""

    def default(self, obj):
        ready = _json_ready(obj)
        if ready is obj:
            return super().default(obj)
        return ready

    def iterencode(self, obj, _one_shot=False):
        return super().iterencode(_json_ready(obj), _one_shot=_one_shot)


def add_suffix(file_path, possible_suffix) -> Path:
    """``file_path`` with the first of ``possible_suffix`` appended, unless it already ends with one.

    Parameters
    ----------
    file_path : str or Path
    possible_suffix : str or list of str
        With or without the leading dot.

    Returns
    -------
    Path
    """
    file_path = Path(file_path)
    suffixes = [possible_suffix] if isinstance(possible_suffix, str) else list(possible_suffix)
    suffixes = [s if s.startswith(".") else f".{s}" for s in suffixes]
    if file_path.suffix in suffixes:
        return file_path
    return file_path.parent / (file_path.name + suffixes[0])


_MEMORY_SUFFIXES = {"k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15,
                    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50}


def convert_string_to_bytes(memory_string: str) -> int:
    """Bytes of a memory size such as ``"1G"``, ``"512Mi"`` or ``"2.5k"`` (decimal k/M/G/T/P,
    binary Ki/Mi/Gi/Ti/Pi).

    Parameters
    ----------
    memory_string : str

    Returns
    -------
    int

    Raises
    ------
    ValueError
        No known suffix, or no number before it.
    """
    from .errors import SpikeInterfaceAssertError

    text = str(memory_string).strip()
    suffix = text[-2:] if text[-2:] in _MEMORY_SUFFIXES else text[-1:]
    if suffix not in _MEMORY_SUFFIXES:
        raise SpikeInterfaceAssertError(f"Unknown suffix: {suffix!r} in {memory_string!r}; allowed: "
                                        f"{list(_MEMORY_SUFFIXES)}")
    try:
        return int(float(text[:-len(suffix)]) * _MEMORY_SUFFIXES[suffix])
    except ValueError:
        raise ValueError(f"memory_string={memory_string!r}: expected a number then one of "
                         f"{list(_MEMORY_SUFFIXES)}") from None


def _path_values(d, target: str = "path", key: str = ""):
    """``(container, index, value)`` of every path of an extractor dict: a str or Path whose key
    (or, in a list, the list's key) contains ``target``, at any depth."""
    if isinstance(d, dict):
        for k, v in d.items():
            if isinstance(v, (dict, list)):
                yield from _path_values(v, target, str(k))
            elif isinstance(v, (str, Path)) and target in str(k):
                yield d, k, v
    elif isinstance(d, list):
        for i, v in enumerate(d):
            if isinstance(v, (dict, list)):
                yield from _path_values(v, target, key)
            elif isinstance(v, (str, Path)) and target in key:
                yield d, i, v


def _relative_to(path, folder: Path) -> str:
    import os

    return Path(os.path.relpath(Path(path).resolve().as_posix(), start=Path(folder).resolve().as_posix())).as_posix()


def recursive_path_modifier(d: dict, func, target: str = "path", copy: bool = True) -> dict:
    """Apply ``func`` to every path of an extractor dict (nested extractors included).

    Parameters
    ----------
    d : dict
        An extractor dict (``to_dict()``).
    func : callable
        Path -> new path.
    target : str
        Text a key must contain to hold a path.
    copy : bool
        Modify a deep copy (else ``d`` itself).

    Returns
    -------
    dict
    """
    import copy as copy_module

    out = copy_module.deepcopy(d) if copy else d
    for container, index, value in list(_path_values(out, target)):
        container[index] = func(value)
    return out


def check_paths_relative(input_dict: dict, relative_folder) -> bool:
    """Whether every path of an extractor dict can be written relative to ``relative_folder``
    (not a URL or a remote path, and on the same drive).

    Parameters
    ----------
    input_dict : dict
    relative_folder : str or Path

    Returns
    -------
    bool
    """
    folder = Path(relative_folder).resolve()
    for _, _, value in _path_values(input_dict):
        text = str(value)
        if "://" in text or text.startswith("http"):
            return False
        if Path(text).resolve().drive != folder.drive:
            return False
        try:
            _relative_to(text, folder)
        except ValueError:
            return False
    return True


def make_paths_relative(input_dict: dict, relative_folder) -> dict:
    """A copy of an extractor dict with every existing path made relative to ``relative_folder``.

    Parameters
    ----------
    input_dict : dict
    relative_folder : str or Path

    Returns
    -------
    dict
    """
    folder = Path(relative_folder).resolve()
    return recursive_path_modifier(input_dict, lambda p: _relative_to(p, folder) if Path(p).exists() else p)


def make_paths_absolute(input_dict: dict, base_folder) -> dict:
    """A copy of an extractor dict with every path that exists under ``base_folder`` made absolute.

    Parameters
    ----------
    input_dict : dict
    base_folder : str or Path

    Returns
    -------
    dict
    """
    base = Path(base_folder)

    def absolute(path):
        full = (base / path).resolve()
        return full.as_posix() if full.exists() else path

    return recursive_path_modifier(input_dict, absolute)


def slice_rows(array, row_indices, axis: int = 0) -> np.ndarray:
    """A copy of the entries of ``array`` at ``row_indices`` (indices or a boolean mask) along ``axis``.

    Parameters
    ----------
    array : np.ndarray or zarr array
        Extension data, in memory, mapped or in a zarr store (read with orthogonal indexing).
    row_indices : array-like
        Indices or a boolean mask along ``axis``.
    axis : int
        0 for spike / unit rows, a later axis (channels of templates) otherwise.

    Returns
    -------
    np.ndarray
        A new array: never a view of ``array``.
    """
    selection = (slice(None),) * axis + (row_indices,)
    if hasattr(array, "oindex") and not isinstance(array, np.ndarray):
        return np.asarray(array.oindex[selection])
    return np.array(np.asarray(array)[selection + (Ellipsis,)])


def materialize_array(array) -> np.ndarray:
    """An independent, writable in-memory copy of ``array`` (a NumPy, mapped or zarr array).

    Parameters
    ----------
    array : np.ndarray or zarr array

    Returns
    -------
    np.ndarray
    """
    return np.array(array[:] if hasattr(array, "oindex") and not isinstance(array, np.ndarray) else array)
