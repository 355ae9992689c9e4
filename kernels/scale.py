"""Scaling of raw traces to float32: ``out = traces * gains + offsets``.

The arithmetic is done in float32 exactly as NumPy's
``traces.astype(np.float32) * gains + offsets`` (cast, multiply, add, each rounded: no fused
multiply-add on the CPU nor on the GPU, where the kernel uses round-to-nearest intrinsics), so
every device gives NumPy's bits.
"""
from __future__ import annotations

from typing import Any

import numba
import numpy as np
from numba import njit, prange

from ._common import TRACE_DTYPES, check_dtype, check_ndim, check_shape, launch_1d
from ._launch import CudaKernel, array_type, bind_device_globals, jit_kernel

__all__ = ["scale_cpu", "scale_cuda", "SCALE_KERNEL"]

#: ``numba.cuda`` and the rounded float operations, bound by the first build (lazy import;
#: module globals, so that numba's simulator can swap in its fake module while a kernel runs and
#: the module-level kernels can be cached on disk).
cuda = None
fmul = fadd = dmul = dadd = None


@njit(parallel=True, cache=True, nogil=True)
def _scale_njit(traces, gains, offsets, out):  # pragma: no cover - compiled
    num_samples, num_channels = traces.shape
    for t in prange(num_samples):
        for c in range(num_channels):
            out[t, c] = np.float32(traces[t, c]) * gains[c] + offsets[c]


def _check(traces: Any, gains: Any, offsets: Any, out: Any) -> None:
    check_ndim(traces, 2, "traces")
    num_channels = traces.shape[1]
    check_shape(gains, (num_channels,), "gains")
    check_shape(offsets, (num_channels,), "offsets")
    check_dtype(gains, np.float32, "gains")
    check_dtype(offsets, np.float32, "offsets")
    check_shape(out, tuple(traces.shape), "out")
    check_dtype(out, np.float32, "out")


def scale_cpu(traces: np.ndarray, gains: np.ndarray, offsets: np.ndarray, out: np.ndarray,
              stream: Any = None) -> np.ndarray:
    """Scale raw traces to float32 on the CPU: ``out = float32(traces) * gains + offsets``.

    Parameters
    ----------
    traces : np.ndarray
        Raw traces, shape ``(num_samples, num_channels)``, any integer or float dtype.
    gains : np.ndarray
        Per channel gains, shape ``(num_channels,)``, float32.
    offsets : np.ndarray
        Per channel offsets, shape ``(num_channels,)``, float32.
    out : np.ndarray
        Preallocated output, shape of ``traces``, float32. May not alias ``traces``.
    stream : None
        Ignored (the CUDA version's stream).

    Returns
    -------
    np.ndarray
        ``out``, filled.

    Raises
    ------
    ValueError
        If a shape does not match.
    TypeError
        If ``gains``, ``offsets`` or ``out`` is not float32.
    """
    _check(traces, gains, offsets, out)
    _scale_njit(traces, gains, offsets, out)
    return out


def _scale_kernel(traces, gains, offsets, out):  # pragma: no cover - CUDA kernel
    num_channels = traces.shape[1]
    n = traces.shape[0] * num_channels
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        t = i // num_channels
        c = i - t * num_channels
        out[t, c] = fadd(fmul(numba.float32(traces[t, c]), gains[c]), offsets[c])


def _build_scale():
    bind_device_globals(globals())
    return jit_kernel(_scale_kernel)


_F32 = array_type("float32", 1)
SCALE_KERNEL = CudaKernel("scale.scale", _build_scale, tuple(
    (array_type(t, 2), _F32, _F32, array_type("float32", 2)) for t in TRACE_DTYPES))


def scale_cuda(traces: Any, gains: Any, offsets: Any, out: Any, stream: Any = None) -> Any:
    """Scale raw traces to float32 on the GPU; same contract as :func:`scale_cpu`.

    Parameters
    ----------
    traces : device array
        Raw traces ``(num_samples, num_channels)`` (CuPy or numba device array).
    gains : device array
        ``(num_channels,)`` float32.
    offsets : device array
        ``(num_channels,)`` float32.
    out : device array
        ``(num_samples, num_channels)`` float32, preallocated.
    stream : numba stream, optional
        Stream of the launch (default stream when None).

    Returns
    -------
    device array
        ``out``, filled asynchronously on ``stream``.
    """
    _check(traces, gains, offsets, out)
    n = traces.shape[0] * traces.shape[1]
    if n:
        blocks, threads = launch_1d(n)
        SCALE_KERNEL.launch(blocks, threads, stream, traces, gains, offsets, out)
    return out
