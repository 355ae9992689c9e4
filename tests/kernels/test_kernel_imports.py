"""Importing the kernels compiles nothing and imports neither numba.cuda nor CuPy."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

_PROBE = r"""
import json, sys
import gpuspike.kernels as k
import gpuspike.backends  # noqa: F401
from numba.core.dispatcher import Dispatcher
import importlib, pkgutil
dispatchers = {}
# the kernels package's own modules, plus every other module of it (imported here on purpose)
names = sorted(set(k.KERNEL_MODULES) | {m.name for m in pkgutil.iter_modules(k.__path__)})
for mod_name in names:
    mod = importlib.import_module("gpuspike.kernels." + mod_name)
    for name, obj in vars(mod).items():
        if isinstance(obj, Dispatcher):
            dispatchers[mod_name + "." + name] = len(obj.signatures)
print(json.dumps({
    "numba_cuda": sorted(m for m in sys.modules if m == "numba.cuda" or m.startswith("numba.cuda.")),
    "cupy": sorted(m for m in sys.modules if m == "cupy" or m.startswith("cupy.")),
    "dispatchers": dispatchers,
    "cuda_global": {m: getattr(importlib.import_module("gpuspike.kernels." + m), "cuda", "absent") is None
                    for m in k.KERNEL_MODULES},
}))
"""


@pytest.fixture(scope="module")
def probe():
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, env=env, timeout=120, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_does_not_import_numba_cuda_or_cupy(probe):
    assert probe["numba_cuda"] == []
    assert probe["cupy"] == []


def test_import_compiles_no_kernel(probe):
    # every CPU kernel is a lazily compiled numba dispatcher with no signature yet
    assert len(probe["dispatchers"]) >= 8
    assert probe["dispatchers"]["scale._scale_njit"] == 0
    assert all(n == 0 for n in probe["dispatchers"].values()), probe["dispatchers"]


def test_cuda_kernels_are_not_built_at_import(probe):
    # the CUDA kernels are made on the first launch; until then numba.cuda is not even bound
    assert all(probe["cuda_global"].values()), probe["cuda_global"]


def test_calling_a_cpu_kernel_compiles_it():
    # the check above can fail: a call adds a signature to the dispatcher
    from gpuspike.kernels import scale

    scale.scale_cpu(np.zeros((2, 2), np.int16), np.ones(2, np.float32), np.zeros(2, np.float32),
                    np.empty((2, 2), np.float32))
    assert len(scale._scale_njit.signatures) >= 1


def test_kernel_names_exist_for_both_devices():
    import gpuspike.kernels as k

    for name in k.KERNEL_NAMES:
        cpu_fn, cuda_fn = getattr(k, f"{name}_cpu"), getattr(k, f"{name}_cuda")
        assert callable(cpu_fn) and callable(cuda_fn)
        assert cpu_fn.__doc__ and cuda_fn.__doc__
        import inspect

        assert list(inspect.signature(cpu_fn).parameters) == list(inspect.signature(cuda_fn).parameters), name


def test_kernel_files_imported_under_another_name_are_not_cached_with_gpuspikes(monkeypatch):
    # numba's cached code names the module it was compiled in: entries written by a bare
    # ``import kernels`` (a script run from a clone) would make gpuspike.kernels fail to load its
    # own cache (ModuleNotFoundError: No module named 'kernels') until the cache is cleared
    from numba.core import config

    import gpuspike.kernels.scale as scale
    from gpuspike.kernels._cache import KernelCacheLocator

    monkeypatch.setattr(config, "CACHE_DIR", "")
    py_func = scale._scale_njit.py_func
    assert py_func.__module__ == "gpuspike.kernels.scale"
    assert KernelCacheLocator.from_function(py_func, scale.__file__) is not None

    def bare(x):
        return x

    bare.__module__ = "kernels.scale"
    assert KernelCacheLocator.from_function(bare, scale.__file__) is None
