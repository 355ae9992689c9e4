"""Fixtures of the kernel tests: a runner per device (see kernel_testing.KernelRunner).

``device`` runs a kernel on:

- ``"cpu"``: the numba ``njit`` version on NumPy arrays;
- ``"cuda"``: the numba-cuda version on numba device arrays (``numba.cuda.to_device``), i.e. the
  simulator under ``NUMBA_ENABLE_CUDASIM=1`` (the default of tests/conftest.py), a real GPU
  otherwise;
- ``"cupy"`` (marked ``gpu``): the numba-cuda version on CuPy arrays, real GPU only.
"""
from __future__ import annotations

import os

import pytest
from kernel_testing import KernelRunner


def _sim_or_gpu() -> bool:
    if os.environ.get("NUMBA_ENABLE_CUDASIM", "0") == "1":
        return True
    try:
        from numba import cuda

        return bool(cuda.is_available())
    except Exception:
        return False


@pytest.fixture(params=["cpu", "cuda", pytest.param("cupy", marks=pytest.mark.gpu)])
def device(request) -> KernelRunner:
    """A :class:`KernelRunner` for each device kind."""
    if request.param == "cuda" and not _sim_or_gpu():
        pytest.skip("neither numba's CUDA simulator nor a GPU is available")
    if request.param == "cupy":
        try:
            import cupy  # noqa: F401
        except ImportError as exc:  # only reached with a real GPU (the case is marked gpu)
            pytest.fail(f"the gpu tests need CuPy: {exc}", pytrace=False)
    return KernelRunner(request.param)


@pytest.fixture(params=["cuda", pytest.param("cupy", marks=pytest.mark.gpu)])
def cuda_device(request) -> KernelRunner:
    """A CUDA :class:`KernelRunner` (simulator, or a real GPU for the ``gpu`` case)."""
    if request.param == "cuda" and not _sim_or_gpu():
        pytest.skip("neither numba's CUDA simulator nor a GPU is available")
    return KernelRunner(request.param)


@pytest.fixture
def cpu() -> KernelRunner:
    """A CPU runner, to compare the CUDA results with."""
    return KernelRunner("cpu")
