"""Run SpikeInterface 0.105 next to gpuspike for differential tests.

SpikeInterface runs with the current interpreter when ``import spikeinterface`` works there
(the ``compare`` extra), else with the interpreter named by ``GPUSPIKE_SI_PYTHON`` (a separate
environment: SpikeInterface pins zarr < 3); tests that need it are skipped, with the reason,
when neither is available. SpikeInterface always runs in a child process, so its imports and
global settings never leak into gpuspike's tests.

Two ways to compare:

* :func:`run_si_script` runs a script with SpikeInterface (arguments after the script);
* :func:`run_cases` runs the same small snippets once with ``si`` bound to SpikeInterface and
  once with ``si`` bound to gpuspike, and returns both results, encoded alike (arrays keep
  their dtype kind, exceptions become ``{"error": TypeName}``, warnings are recorded).
"""
from __future__ import annotations

import functools
import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

SI_PYTHON_ENV = "GPUSPIKE_SI_PYTHON"


@functools.lru_cache(maxsize=None)
def _find_si_python() -> tuple[str | None, str]:
    if importlib.util.find_spec("spikeinterface") is not None:
        return sys.executable, ""
    python = os.environ.get(SI_PYTHON_ENV)
    if not python:
        return None, (f"SpikeInterface is not importable here (pip install 'gpuspike[compare]') and "
                      f"{SI_PYTHON_ENV} does not name another interpreter that has it")
    if not Path(python).exists():
        return None, f"{SI_PYTHON_ENV}={python!r} does not exist"
    # scipy and pandas too: SpikeInterface's Motion interpolation and metric extensions import them,
    # without SpikeInterface requiring them
    check = subprocess.run([python, "-c", "import spikeinterface, scipy, pandas"], capture_output=True, text=True,
                           timeout=300, env=_si_env())
    if check.returncode:
        return None, (f"{SI_PYTHON_ENV}={python!r} cannot import spikeinterface, scipy and pandas (pip install "
                      f"'spikeinterface==0.105.*' scipy pandas there): {check.stderr.strip()[-300:]}")
    return python, ""


def si_python() -> str:
    """The interpreter that runs SpikeInterface (skips the calling test when there is none; under CI
    (``CI=1``) fails instead, as the ``si_python`` fixture of tests/conftest.py does)."""
    python, reason = _find_si_python()
    if python is None:
        if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
            pytest.fail(f"{reason} -- CI must provide it (see .ci/run)", pytrace=False)
        pytest.skip(reason)
    return python


def _si_env() -> dict:
    # the CUDA simulator switch of gpuspike's tests means nothing to SpikeInterface
    return {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}


def run_si_script(script: str, *args, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run ``script`` with SpikeInterface's interpreter (``sys.argv[1:]`` = ``args``); fail on errors."""
    python = si_python()
    out = subprocess.run([python, "-c", script, *[str(a) for a in args]], capture_output=True, text=True,
                         timeout=timeout, env=_si_env())
    assert out.returncode == 0, f"SpikeInterface script failed:\n{out.stderr[-4000:]}"
    return out


#: runs named snippets; each sets ``result``; values are encoded so that both runs compare alike
CASE_RUNNER = textwrap.dedent('''
    import json as _json, warnings as _warnings
    import numpy as _np

    def _encode(value):
        if isinstance(value, _np.ndarray):
            if value.dtype.names is not None:
                return {"structured": [list(map(_encode, row)) for row in value.tolist()],
                        "names": list(value.dtype.names)}
            kind = value.dtype.kind
            return {"array": _encode(value.tolist()), "kind": "i" if kind in "iu" else kind,
                    "shape": list(value.shape)}
        if isinstance(value, _np.generic):
            return _encode(value.item())
        if isinstance(value, dict):
            return {"dict": [[_encode(k), _encode(v)] for k, v in value.items()]}
        if isinstance(value, (list, tuple)):
            return [_encode(v) for v in value]
        if isinstance(value, float) and value != value:
            return {"nan": True}
        if isinstance(value, (str, int, float, bool)) or value is None:
            return value
        if isinstance(value, slice):
            return {"slice": [_encode(value.start), _encode(value.stop), _encode(value.step)]}
        return {"object": type(value).__name__}

    def run_cases(cases, make_namespace):
        results = {}
        for name, code in cases.items():
            namespace = make_namespace(name)
            with _warnings.catch_warnings(record=True) as caught:
                _warnings.simplefilter("always")
                try:
                    exec(code, namespace)
                    out = {"result": _encode(namespace.get("result"))}
                except Exception as exc:
                    out = {"error": type(exc).__name__, "message": str(exc)[:300]}
            out["warnings"] = sorted({w.category.__name__ for w in caught
                                      if not issubclass(w.category, (DeprecationWarning, ResourceWarning))})
            results[name] = out
        return results
''')

_SI_MAIN = textwrap.dedent('''
    import sys, os, tempfile
    import spikeinterface.core as si
    cases = _json.loads(open(sys.argv[1]).read())
    base = sys.argv[2]

    def make_namespace(name):
        folder = os.path.join(base, "si_" + name)
        os.makedirs(folder, exist_ok=True)
        return {"si": si, "np": _np, "tmp": folder, "IS_SI": True}

    with open(sys.argv[3], "w") as f:
        f.write(_json.dumps(run_cases(cases, make_namespace)))
''')


def run_cases(cases: dict[str, str], tmp_path: Path, setup: str = "") -> tuple[dict, dict]:
    """Run every snippet of ``cases`` with gpuspike (in this process) and with SpikeInterface.

    Each snippet sees ``si`` (``gpuspike`` or ``spikeinterface.core``), ``np``, ``tmp`` (an
    empty folder of its own) and ``IS_SI``, runs ``setup`` first, and sets ``result``.

    Returns
    -------
    gpuspike_results, spikeinterface_results : dict
        ``{case: {"result": encoded} | {"error": TypeName, "message": str}, "warnings": [...]}``.
    """
    python = si_python()
    cases = {name: setup + "\n" + textwrap.dedent(code) for name, code in cases.items()}
    tmp_path = Path(tmp_path)
    case_file, out_file = tmp_path / "cases.json", tmp_path / "si_results.json"
    case_file.write_text(json.dumps(cases))
    out = subprocess.run([python, "-c", CASE_RUNNER + _SI_MAIN, str(case_file), str(tmp_path), str(out_file)],
                         capture_output=True, text=True, timeout=900, env=_si_env())
    assert out.returncode == 0, f"SpikeInterface case runner failed:\n{out.stderr[-4000:]}"
    si_results = json.loads(out_file.read_text())

    import gpuspike

    namespace: dict = {}
    exec(CASE_RUNNER, namespace)

    def make_namespace(name):
        folder = tmp_path / f"gs_{name}"
        folder.mkdir(exist_ok=True)
        return {"si": gpuspike, "np": np, "tmp": str(folder), "IS_SI": False}

    gs_results = json.loads(json.dumps(namespace["run_cases"](cases, make_namespace)))
    return gs_results, si_results


def assert_same_outcome(gs: dict, si: dict, name: str = "", warnings: bool = False) -> None:
    """Both raised, or both returned equal encoded results (and, with ``warnings``, the same warnings)."""
    if "error" in si or "error" in gs:
        assert ("error" in si) == ("error" in gs), (
            f"{name}: SpikeInterface {'raised ' + si['error'] + ': ' + si['message'] if 'error' in si else 'returned'}"
            f", gpuspike {'raised ' + gs['error'] + ': ' + gs['message'] if 'error' in gs else 'returned'}")
    else:
        assert gs["result"] == si["result"], f"{name}: gpuspike {gs['result']!r} != SpikeInterface {si['result']!r}"
    if warnings:
        assert gs["warnings"] == si["warnings"], f"{name}: warnings {gs['warnings']} != {si['warnings']}"
