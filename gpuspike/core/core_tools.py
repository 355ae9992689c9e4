"""Small helpers of SpikeInterface's core_tools: python parameter files, sample conversions, a normal pdf."""
from __future__ import annotations

import ast
from pathlib import Path

import numpy as np

from .reprs import convert_bytes_to_str, convert_seconds_to_str  # noqa: F401  (SpikeInterface's location)


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
    if isinstance(value, (BaseExtractor, ProbeGroup)):
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
