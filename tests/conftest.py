"""Test configuration shared by the whole suite.

numba's CUDA simulator must be switched on before numba is first imported, so this happens
here, at the top of the first file pytest loads. It is on by default so that every CUDA kernel
and the streaming pipeline run on CPU-only machines; run ``pytest -m gpu`` with
``GPUSPIKE_REAL_GPU=1`` on a GPU machine to test the real device instead.
"""
import os

if os.environ.get("GPUSPIKE_REAL_GPU", "0") != "1":
    os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")

import pytest  # noqa: E402


def _real_gpu_present() -> bool:
    if os.environ.get("NUMBA_ENABLE_CUDASIM", "0") == "1":
        return False
    try:
        from numba import cuda

        return bool(cuda.is_available())
    except Exception:
        return False


def pytest_collection_modifyitems(config, items):
    if _real_gpu_present():
        return
    skip_gpu = pytest.mark.skip(
        reason="needs a real CUDA GPU (none present, or NUMBA_ENABLE_CUDASIM=1); "
        "run `GPUSPIKE_REAL_GPU=1 pytest -m gpu` on a GPU machine"
    )
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip_gpu)


@pytest.fixture(params=["numpy", "cuda-sim"])
def backend_name(request):
    """The backend matrix: the NumPy backend and the CUDA backend under numba's simulator."""
    if request.param == "cuda-sim" and os.environ.get("NUMBA_ENABLE_CUDASIM", "0") != "1":
        if not _real_gpu_present():
            pytest.skip("CUDA simulator disabled and no GPU present")
    return "numpy" if request.param == "numpy" else "cuda"
