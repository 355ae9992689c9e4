"""The compile gate: every CUDA kernel compiled for real GPUs (sm_80, sm_90) through libNVVM, no GPU
needed, and the launch checks that keep the declared signatures equal to what the library launches."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from numba import cuda  # a module global: the simulator swaps it while a kernel runs

import gpuspike.kernels as kernels
from gpuspike.kernels._common import launch_1d
from gpuspike.kernels._launch import CudaKernel, argument_type


def _without_simulator() -> dict:
    return {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}


def test_doctor_compiles_every_kernel_for_sm80_and_sm90():
    """``gpuspike doctor --arch sm_80 --arch sm_90`` with no GPU: every declared signature of every
    kernel compiles to PTX, with no fused multiply-add in it, and the command exits 0."""
    proc = subprocess.run([sys.executable, "-m", "gpuspike.doctor", "--arch", "sm_80", "--arch", "sm_90",
                           "--skip-job", "--json"], capture_output=True, text=True, env=_without_simulator(),
                          timeout=1200)
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["failures"] == [], report["failures"][:5]
    assert report["kernels"] == len(kernels.CUDA_KERNELS) == 14
    assert report["signatures"] == sum(len(k.signatures) for k in kernels.CUDA_KERNELS)
    assert report["compiled"] == 2 * report["signatures"]
    assert proc.returncode == 0 and report["ok"], proc.stdout[-2000:]


_BROKEN = r"""
import json
import numpy as np
from gpuspike.kernels._compile import compile_kernels
from gpuspike.kernels._launch import CudaKernel, rounded_ops

def fused():
    from numba import cuda
    @cuda.jit
    def k(a, b, c, out):
        i = cuda.grid(1)
        if i < out.shape[0]:
            out[i] = a[i] * b[i] + c[i]          # contracted to fma.rn.f32 by the GPU compiler
    return k

def rounded():
    from numba import cuda
    fmul, fadd, _, _ = rounded_ops()
    @cuda.jit
    def k(a, b, c, out):
        i = cuda.grid(1)
        if i < out.shape[0]:
            out[i] = fadd(fmul(a[i], b[i]), c[i])
    return k

def rejected():
    from numba import cuda
    @cuda.jit
    def k(a, out):
        i = cuda.grid(1)
        if i < out.shape[0]:
            names = {"x": a[i]}                   # Python runs this; no GPU compiler does
            out[i] = names["x"]
    return k

f = "float32[::1]"
kernels = [CudaKernel("t.fused", fused, ((f, f, f, f),)), CudaKernel("t.rounded", rounded, ((f, f, f, f),)),
           CudaKernel("t.rejected", rejected, ((f, f),))]
res = compile_kernels(["sm_90"], kernels=kernels, keep_ptx=True)
print(json.dumps({r.kernel: [r.ok, r.error[:200], "fma.rn.f32" in r.ptx, "mul.rn.f32" in r.ptx] for r in res}))
"""


def test_gate_catches_fused_multiply_adds_and_code_the_simulator_accepts():
    proc = subprocess.run([sys.executable, "-c", _BROKEN], capture_output=True, text=True, env=_without_simulator(),
                          timeout=600)
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    assert res["t.fused"][0] is False and "fused multiply-add" in res["t.fused"][1] and res["t.fused"][2]
    assert res["t.rounded"][0] is True and not res["t.rounded"][2] and res["t.rounded"][3]
    assert res["t.rejected"][0] is False and res["t.rejected"][1]


@pytest.fixture
def simulator():
    if os.environ.get("NUMBA_ENABLE_CUDASIM") != "1":
        pytest.skip("runs the kernel in numba's simulator")


def test_the_simulator_runs_what_the_gpu_compiler_rejects(simulator):
    """Why the gate exists: the dict kernel above runs fine in the simulator."""

    @cuda.jit
    def k(a, out):
        i = cuda.grid(1)
        if i < out.shape[0]:
            names = {"x": a[i]}
            out[i] = names["x"]

    a = np.arange(5, dtype=np.float32)
    out = np.zeros(5, np.float32)
    k[1, 8](a, out)
    np.testing.assert_array_equal(out, a)


def test_undeclared_launch_fails_in_the_test_suite(simulator):
    """GPUSPIKE_CHECK_LAUNCHES=1 (set by conftest): int8 traces are not among scale's signatures."""
    assert os.environ["GPUSPIKE_CHECK_LAUNCHES"] == "1"
    traces = cuda.to_device(np.zeros((4, 2), np.int8))
    gains = cuda.to_device(np.ones(2, np.float32))
    out = cuda.to_device(np.zeros((4, 2), np.float32))
    with pytest.raises(TypeError, match="undeclared argument types"):
        kernels.scale_cuda(traces, gains, gains, out)


def test_host_arrays_are_refused_by_the_launch_check(simulator):
    """A NumPy array handed to a CUDA kernel would be copied there and back synchronously."""
    out = cuda.to_device(np.zeros((4, 2), np.float32))
    gains = cuda.to_device(np.ones(2, np.float32))
    with pytest.raises(TypeError, match="host NumPy array"):
        kernels.scale_cuda(np.zeros((4, 2), np.int16), gains, gains, out)


def test_argument_types_are_the_gpus():
    assert argument_type(np.float32(1.5)) == "float32"
    assert argument_type(3) == "int64" and argument_type(True) == "boolean" and argument_type(2.0) == "float64"

    class Dev:  # a device array seen through its interface: shape, dtype, strides
        def __init__(self, shape, dtype, strides):
            self.shape, self.dtype, self.strides = shape, np.dtype(dtype), strides

    assert argument_type(Dev((3, 4), "int16", (8, 2))) == "int16[:, ::1]"
    assert argument_type(Dev((3, 4), "int16", (2, 6))) == "int16[:, :]"  # F order: not C-contiguous
    assert argument_type(Dev((1, 4), "float64", (999, 8))) == "float64[:, ::1]"  # a size-1 axis: any stride


def test_launch_geometry_stays_within_the_grid_limits():
    for n in (1, 127, 128, 10**6, 65535 * 128 + 1, 384 * 30_000 * 100):
        blocks, threads = launch_1d(n)
        assert 1 <= blocks <= 65535 and threads == 128
    kernel = CudaKernel("t.noop", lambda: None, (("int64",),))
    with pytest.raises(ValueError, match="exceeds the CUDA limits"):
        kernel.launch((1, 70_000), 128, None, 1)
    with pytest.raises(ValueError, match="exceeds the CUDA limits"):
        kernel.launch(0, 128, None, 1)


def test_grid_stride_kernels_cover_blocks_larger_than_one_grid(simulator, monkeypatch):
    """With the grid capped at 2 blocks of 128 threads, a 40 x 17 column selection (680 elements)
    and a scale of 3000 samples are still complete: every kernel loops over its grid."""
    import gpuspike.kernels.scale as scale_module
    import gpuspike.kernels.select as select_module

    capped = lambda n: (min(2, max(1, -(-n // 128))), 128)  # noqa: E731
    monkeypatch.setattr(select_module, "launch_1d", capped)
    monkeypatch.setattr(scale_module, "launch_1d", capped)
    rng = np.random.default_rng(0)
    src = rng.integers(-100, 100, (40, 20)).astype(np.int16)
    cols = np.array([3, 0, 19, 5, 5, 7, 8, 9, 10, 1, 2, 11, 12, 13, 14, 15, 16], dtype=np.int64)
    out = cuda.to_device(np.zeros((40, cols.size), np.int16))
    kernels.select_columns_cuda(cuda.to_device(src), cuda.to_device(cols), out)
    np.testing.assert_array_equal(out.copy_to_host(), src[:, cols])
    traces = rng.integers(-100, 100, (1000, 3)).astype(np.int16)
    gains = np.array([0.5, 1.5, 2.5], np.float32)
    offsets = np.array([1.0, -2.0, 0.25], np.float32)
    scaled = cuda.to_device(np.zeros((1000, 3), np.float32))
    kernels.scale_cuda(cuda.to_device(traces), cuda.to_device(gains), cuda.to_device(offsets), scaled)
    np.testing.assert_array_equal(scaled.copy_to_host(), traces.astype(np.float32) * gains + offsets)
