"""Backend dispatch: names, auto selection, the simulator, array round trips, error messages."""
import os
import subprocess
import sys

import numpy as np
import pytest

import gpuspike.backends as backends
from gpuspike.backends import BackendUnavailableError, cuda_status, get_backend

SIM = os.environ.get("NUMBA_ENABLE_CUDASIM", "0") == "1"
needs_sim = pytest.mark.skipif(not SIM, reason="needs NUMBA_ENABLE_CUDASIM=1")


def test_numpy_backend():
    be = get_backend("numpy")
    assert be.name == "numpy"
    assert be.xp is np
    assert be.is_simulator is False
    assert be.device_name == "cpu"
    assert get_backend("numpy") is be


def test_unknown_name_lists_allowed_values():
    with pytest.raises(ValueError) as info:
        get_backend("tpu")
    message = str(info.value)
    assert "'tpu'" in message
    for allowed in ("auto", "numpy", "cuda"):
        assert allowed in message


@needs_sim
def test_auto_is_numpy_without_a_real_gpu():
    # the simulator never counts as a GPU for "auto"
    assert get_backend("auto").name == "numpy"


@needs_sim
def test_cuda_backend_under_the_simulator():
    be = get_backend("cuda")
    assert be.name == "cuda"
    assert be.is_simulator is True
    assert be.xp is np
    assert "simulator" in be.device_name.lower()
    status = cuda_status()
    assert status.usable and status.simulator
    assert "simulator" in str(status)
    assert backends.available_backends() == ["numpy", "cuda"]


@pytest.mark.parametrize("dtype", [np.int16, np.float32, np.float64])
def test_asarray_to_host_round_trip(backend_name, dtype):
    be = get_backend(backend_name)
    x = np.random.default_rng(0).normal(0, 100, (7, 3)).astype(dtype)
    dev = be.asarray(x)
    if be.name == "cuda":
        assert not isinstance(dev, np.ndarray)  # really moved to a (simulated) device
    back = be.to_host(dev)
    assert isinstance(back, np.ndarray)
    np.testing.assert_array_equal(back, x)
    assert back.dtype == x.dtype
    cast = be.to_host(be.asarray(x, dtype=np.float32))
    assert cast.dtype == np.float32
    np.testing.assert_array_equal(cast, x.astype(np.float32))


def test_empty_and_zeros(backend_name):
    be = get_backend(backend_name)
    z = be.to_host(be.zeros((3, 2), np.float32))
    assert z.dtype == np.float32 and z.shape == (3, 2) and not z.any()
    e = be.empty((4,), np.int64)
    assert be.to_host(e).shape == (4,)
    be.synchronize()


def test_backend_kernels_run_and_agree(backend_name):
    """Each backend's kernels namespace works on its own arrays, equal to the NumPy result."""
    import gpuspike.kernels as k

    be = get_backend(backend_name)
    assert sorted(vars(be.kernels)) == sorted(k.KERNEL_NAMES)
    rng = np.random.default_rng(3)
    traces = rng.integers(-500, 500, (30, 3)).astype(np.int16)
    gains = rng.uniform(0.1, 2, 3).astype(np.float32)
    offsets = rng.uniform(-5, 5, 3).astype(np.float32)
    out = be.empty(traces.shape, np.float32)
    be.kernels.scale(be.asarray(traces), be.asarray(gains), be.asarray(offsets), out)
    np.testing.assert_array_equal(be.to_host(out), traces.astype(np.float32) * gains + offsets)

    peaks = np.array([3, 12, 25], dtype=np.int64)
    units = np.array([1, 0, 1], dtype=np.int64)
    sums, sumsqs, counts = be.zeros((2, 5, 3), np.float64), be.zeros((2, 5, 3), np.float64), be.zeros(2, np.int64)
    be.kernels.accumulate_templates(be.asarray(traces), be.asarray(peaks), be.asarray(units), 2, 3, sums, sumsqs,
                                    counts)
    mean, std = be.empty((2, 5, 3), np.float64), be.empty((2, 5, 3), np.float64)
    be.kernels.templates_from_sums(sums, sumsqs, counts, mean, std)
    expected = np.stack([traces[p - 2 : p + 3] for p in peaks[units == 0]]).mean(axis=0)
    np.testing.assert_allclose(be.to_host(mean)[0], expected, rtol=1e-12)
    np.testing.assert_array_equal(be.to_host(counts), [1, 2])


def test_backend_instance_is_accepted_as_name():
    be = get_backend("numpy")
    assert get_backend(be) is be


_NO_SIM_PROBE = r"""
import sys
from gpuspike.backends import get_backend, cuda_status, BackendUnavailableError, available_backends
status = cuda_status()
if status.usable:  # a real GPU with CuPy: nothing to test here
    print("USABLE")
    sys.exit(0)
assert not status.simulator
assert available_backends() == ["numpy"], available_backends()
assert get_backend("auto").name == "numpy"
try:
    get_backend("cuda")
except BackendUnavailableError as exc:
    assert isinstance(exc, RuntimeError)
    print("ERROR:" + str(exc))
else:
    print("NO ERROR")
"""


def test_cuda_without_gpu_or_simulator_raises_with_install_hint():
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_ENABLE_CUDASIM", "GPUSPIKE_REAL_GPU")}
    res = subprocess.run([sys.executable, "-c", _NO_SIM_PROBE], capture_output=True, text=True, env=env,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    out = res.stdout.strip().splitlines()[-1]
    if out == "USABLE":
        pytest.skip("a real usable GPU is present")
    assert out.startswith("ERROR:"), out
    message = out[len("ERROR:"):]
    assert 'pip install ".[gpu]"' in message
    assert "CuPy" in message or "driver" in message or "numba-cuda" in message
    assert "NUMBA_ENABLE_CUDASIM" in message


def test_cuda_status_names_what_is_missing(monkeypatch):
    """With the simulator off and imports failing, the message names each missing piece."""
    import builtins

    import gpuspike.backends.cuda as cuda_mod

    real_import = builtins.__import__

    def fake_import(name, globals=None, locals=None, fromlist=(), level=0):
        if name == "cupy" or (name == "numba" and fromlist and "cuda" in fromlist):
            raise ImportError(f"no {name}")
        return real_import(name, globals, locals, fromlist, level)

    monkeypatch.setattr(cuda_mod, "simulator_enabled", lambda: False)
    monkeypatch.setattr(builtins, "__import__", fake_import)
    status = cuda_mod.cuda_status()
    assert not status.usable and not status.numba_cuda and not status.cupy
    assert "numba-cuda is not installed" in status.message
    assert "CuPy is not installed" in status.message
    assert 'pip install ".[gpu]"' in status.message


@pytest.mark.gpu
def test_real_gpu_backend_uses_cupy():
    cupy = pytest.importorskip("cupy")
    be = get_backend("cuda")
    assert be.xp is cupy and not be.is_simulator
    assert get_backend("auto") is be
    x = np.arange(12, dtype=np.int16).reshape(4, 3)
    dev = be.asarray(x)
    assert isinstance(dev, cupy.ndarray)
    np.testing.assert_array_equal(be.to_host(dev), x)


def test_missing_simulator_error_type_is_runtime_error():
    assert issubclass(BackendUnavailableError, RuntimeError)
