"""Test configuration shared by the whole suite.

numba's CUDA simulator must be switched on before numba is first imported, so this happens
here, at the top of the first file pytest loads. It is on by default so that every CUDA kernel
and the streaming pipeline run on CPU-only machines; run ``pytest -m gpu`` with
``GPUSPIKE_REAL_GPU=1`` on a GPU machine to test the real device instead: there, a missing or
unusable GPU fails the ``gpu`` tests instead of skipping them.

Every CUDA launch of the suite is checked against the signatures declared next to its kernel
(``GPUSPIKE_CHECK_LAUNCHES=1``): the compile gate compiles exactly those for real GPUs, so a
launch the declarations miss fails here.
"""
import os

REAL_GPU_ASKED = os.environ.get("GPUSPIKE_REAL_GPU", "0") == "1"
if not REAL_GPU_ASKED:
    os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")
os.environ["GPUSPIKE_CHECK_LAUNCHES"] = "1"

import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

#: the repository root (tests/..)
REPO = Path(__file__).resolve().parents[1]


def running_in_ci() -> bool:
    """True under CI (``CI=1`` / ``CI=true``): what a test needs must then be there."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def skip_or_fail_in_ci(reason: str) -> None:
    """Skip with ``reason``; under CI fail instead (.ci/run provides every external requirement)."""
    if running_in_ci():
        pytest.fail(f"{reason} -- CI must provide it (see .ci/run)", pytrace=False)
    pytest.skip(reason)


def _si_python() -> tuple[str | None, str]:
    """(interpreter that imports spikeinterface, or None; why not)."""
    try:
        import spikeinterface  # noqa: F401

        return sys.executable, ""
    except ImportError:
        pass
    python = os.environ.get("GPUSPIKE_SI_PYTHON")
    if not python:
        return None, ("SpikeInterface is not importable here and GPUSPIKE_SI_PYTHON is not set (point it at the "
                      "python of an environment with spikeinterface==0.105.*, scipy and pandas; it pins zarr < 3)")
    try:
        # scipy and pandas too: SpikeInterface's Motion interpolation and metric extensions import them,
        # without SpikeInterface requiring them
        check = subprocess.run([python, "-c", "import spikeinterface, scipy, pandas"], capture_output=True,
                               text=True, timeout=120)
    except OSError as err:
        return None, f"GPUSPIKE_SI_PYTHON={python!r} cannot run: {err}"
    if check.returncode:
        return None, (f"GPUSPIKE_SI_PYTHON={python!r} cannot import spikeinterface, scipy and pandas (pip install "
                      f"'spikeinterface==0.105.*' scipy pandas there): {check.stderr.strip()[-300:]}")
    return python, ""


_SI_PYTHON = None


@pytest.fixture(scope="session")
def si_python() -> str:
    """The Python that runs SpikeInterface 0.105: this interpreter when ``import spikeinterface``
    works, else ``$GPUSPIKE_SI_PYTHON``. Skips (fails under CI) when neither has it."""
    global _SI_PYTHON
    if _SI_PYTHON is None:
        _SI_PYTHON = _si_python()
    python, reason = _SI_PYTHON
    if python is None:
        skip_or_fail_in_ci(reason)
    return python


def real_data_root() -> Path:
    """The real acquisition headers: ``$GPUSPIKE_REAL_DATA``, else ``<repo>/../shared/data/real``."""
    default = REPO.parent / "shared" / "data" / "real"
    return Path(os.environ.get("GPUSPIKE_REAL_DATA", str(default))).resolve()


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The folder holding ``spikeglx/`` and ``openephys/`` real headers (skips, or fails under CI, without it)."""
    root = real_data_root()
    if not (root / "spikeglx").is_dir() or not (root / "openephys").is_dir():
        skip_or_fail_in_ci(f"real header files not found at {root} (set GPUSPIKE_REAL_DATA to the folder holding "
                           f"spikeglx/ and openephys/)")
    return root


def _real_gpu_present() -> bool:
    if os.environ.get("NUMBA_ENABLE_CUDASIM", "0") == "1":
        return False
    try:
        from numba import cuda

        return bool(cuda.is_available())
    except Exception:
        return False


def _gpu_stack_usable() -> tuple[bool, str]:
    """A real GPU, numba-cuda and CuPy all usable (what the ``gpu`` tests need)."""
    if not _real_gpu_present():
        return False, "no CUDA GPU found by numba.cuda (driver missing, or NUMBA_ENABLE_CUDASIM=1)"
    from gpuspike.backends import cuda_status

    status = cuda_status()
    return status.usable and not status.simulator, status.message


def pytest_collection_modifyitems(config, items):
    usable, why = _gpu_stack_usable() if REAL_GPU_ASKED or not os.environ.get("NUMBA_ENABLE_CUDASIM") else (
        False, "NUMBA_ENABLE_CUDASIM=1")
    if usable:
        return
    if REAL_GPU_ASKED:  # asked for the real device: its absence is a failure, not a skip
        config._gpuspike_gpu_problem = why
        return
    skip_gpu = pytest.mark.skip(
        reason=f"needs a real CUDA GPU ({why}); run `GPUSPIKE_REAL_GPU=1 pytest -m gpu` on a GPU machine"
    )
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip_gpu)


def pytest_runtest_setup(item):
    """Fails a ``gpu`` test when GPUSPIKE_REAL_GPU=1 and the GPU stack is not usable."""
    problem = getattr(item.config, "_gpuspike_gpu_problem", None)
    if problem is not None and "gpu" in item.keywords:
        pytest.fail(f"GPUSPIKE_REAL_GPU=1 but the GPU path is not usable: {problem}; run `gpuspike doctor` for "
                    "what is missing", pytrace=False)


@pytest.fixture(params=["numpy", "cuda-sim"])
def backend_name(request):
    """The backend matrix: the NumPy backend and the CUDA backend (numba's simulator, or the real
    GPU under GPUSPIKE_REAL_GPU=1, where a missing GPU fails the test)."""
    if request.param == "cuda-sim" and os.environ.get("NUMBA_ENABLE_CUDASIM", "0") != "1":
        if not _real_gpu_present():
            if REAL_GPU_ASKED:
                pytest.fail("GPUSPIKE_REAL_GPU=1 but no CUDA GPU is usable; run `gpuspike doctor`", pytrace=False)
            pytest.skip("CUDA simulator disabled and no GPU present")
    return "numpy" if request.param == "numpy" else "cuda"
