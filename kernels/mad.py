"""Median absolute deviation per channel: ``median(|x - median(x)|)`` of each column, in float64.

The data are cast to float64 first; for an even number of samples the median is the mean of
the two middle values (as ``np.median``). The result has no 1.4826 factor (callers scale it).

CPU: parallel over channels; integer data are counted (a histogram over the column's range, then
the medians of the values and of the doubled deviations are read off the counts, exactly), float
data go through ``np.median`` on a float64 copy of each column. GPU: one thread per
channel runs Wirth's selection (Hoare partitioning, robust to the many ties of int16 data) on
its own row of a ``(C, T)`` float64 scratch array (``8 * T * C`` bytes; pass one from a memory
pool, else the launcher allocates it): fine for noise-level chunks, not meant for whole recordings.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, prange

from ._common import TRACE_DTYPES, check_dtype, check_ndim, check_shape, launch_1d
from ._launch import CudaKernel, array_type, bind_device_globals, jit_kernel

__all__ = ["mad_cpu", "mad_cuda", "MAD_KERNEL"]

#: ``numba.cuda`` and the device functions the kernel calls, bound by the first build (lazy
#: import; module globals, so that numba's simulator can swap in its fake module while a kernel
#: runs and the module-level kernel can be cached on disk).
cuda = None
fmul = fadd = dmul = dadd = None
select = median = None


@njit(cache=True, nogil=True)
def _kth_of_counts(counts, k):  # pragma: no cover
    """Index of the k-th smallest (0-based) value described by a histogram."""
    seen = 0
    for i in range(counts.shape[0]):
        seen += counts[i]
        if seen > k:
            return i
    return counts.shape[0] - 1


@njit(cache=True, nogil=True)
def _median_of_counts(counts, n):  # pragma: no cover
    """Median (mean of the two middle values for even n) of n values given as a histogram."""
    upper = _kth_of_counts(counts, n // 2)
    if n % 2 == 1:
        return np.float64(upper)
    return (np.float64(_kth_of_counts(counts, n // 2 - 1)) + upper) / 2.0


@njit(cache=True, nogil=True)
def _float_column_mad(data, c):  # pragma: no cover
    n = data.shape[0]
    col = np.empty(n, dtype=np.float64)
    for t in range(n):
        col[t] = data[t, c]
    med = np.median(col)
    for t in range(n):
        col[t] = abs(col[t] - med)
    return np.median(col)


@njit(cache=True, nogil=True)
def _integer_column_mad(data, c):  # pragma: no cover
    n = data.shape[0]
    low = np.int64(data[0, c])
    high = low
    for t in range(1, n):
        v = np.int64(data[t, c])
        if v < low:
            low = v
        if v > high:
            high = v
    if high - low >= max(4 * n, 1 << 17):  # a wide range of few values: sorting costs less than counting
        return _float_column_mad(data, c)
    counts = np.zeros(high - low + 1, dtype=np.int64)
    for t in range(n):
        counts[np.int64(data[t, c]) - low] += 1
    med = _median_of_counts(counts, n) + low  # an integer or a half-integer
    twice = np.int64(2.0 * med)
    # |2 v - 2 med| is an integer for every value v: count the doubled deviations per value
    width = max(2 * high - twice, twice - 2 * low) + 1
    dev = np.zeros(width, dtype=np.int64)
    for i in range(counts.shape[0]):
        if counts[i]:
            dev[abs(2 * (i + low) - twice)] += counts[i]
    return _median_of_counts(dev, n) / 2.0


@njit(parallel=True, cache=True, nogil=True)
def _mad_integer_njit(data, out):  # pragma: no cover
    for c in prange(data.shape[1]):
        out[c] = _integer_column_mad(data, c)


@njit(parallel=True, cache=True, nogil=True)
def _mad_njit(data, out):  # pragma: no cover
    for c in prange(data.shape[1]):
        out[c] = _float_column_mad(data, c)


def _check(data, out):
    check_ndim(data, 2, "data")
    if data.shape[0] == 0:
        raise ValueError("data must have at least one sample (got shape (0, C))")
    check_shape(out, (data.shape[1],), "out")
    check_dtype(out, np.float64, "out")


def mad_cpu(data: Any, out: Any, scratch: Any = None, stream: Any = None) -> Any:
    """Median absolute deviation of each channel, on the CPU.

    Parameters
    ----------
    data : np.ndarray
        ``(num_samples, num_channels)``, any numeric dtype, ``num_samples >= 1``.
    out : np.ndarray
        ``(num_channels,)`` float64 output.
    scratch, stream : None
        Ignored (the CUDA version's scratch array and stream).

    Returns
    -------
    np.ndarray
        ``out``.

    Raises
    ------
    ValueError
        If ``data`` has no samples or shapes mismatch.
    """
    _check(data, out)
    if np.dtype(data.dtype).kind in "iu":
        _mad_integer_njit(data, out)
    else:
        _mad_njit(data, out)
    return out


def _select_device(a, c, n, k):  # pragma: no cover - CUDA device function
    # Wirth: after the call a[c, k] is the k-th smallest of a[c, :n], with
    # a[c, :k] <= a[c, k] <= a[c, k+1:]
    lo = 0
    hi = n - 1
    while lo < hi:
        x = a[c, k]
        i = lo
        j = hi
        while True:
            while a[c, i] < x:
                i += 1
            while x < a[c, j]:
                j -= 1
            if i <= j:
                tmp = a[c, i]
                a[c, i] = a[c, j]
                a[c, j] = tmp
                i += 1
                j -= 1
            if i > j:
                break
        if j < k:
            lo = i
        if k < i:
            hi = j
    return a[c, k]


def _median_device(a, c, n):  # pragma: no cover - CUDA device function
    k = n // 2
    upper = select(a, c, n, k)
    if n % 2 == 1:
        return upper
    lower = a[c, 0]
    for t in range(1, k):
        if a[c, t] > lower:
            lower = a[c, t]
    return (lower + upper) / 2.0


def _mad_kernel(data, scratch, out):  # pragma: no cover - CUDA kernel
    num_samples, num_channels = data.shape
    for c in range(cuda.grid(1), num_channels, cuda.gridsize(1)):
        for t in range(num_samples):
            scratch[c, t] = data[t, c]
        med = median(scratch, c, num_samples)
        for t in range(num_samples):
            scratch[c, t] = abs(scratch[c, t] - med)
        out[c] = median(scratch, c, num_samples)


def _build_mad():
    global select, median
    bind_device_globals(globals())
    select = jit_kernel(_select_device, device=True)
    median = jit_kernel(_median_device, device=True)
    return jit_kernel(_mad_kernel)


MAD_KERNEL = CudaKernel("mad.mad", _build_mad, tuple(
    (array_type(t, 2), array_type("float64", 2), array_type("float64", 1))
    for t in dict.fromkeys(TRACE_DTYPES + ("float32",))))


def mad_cuda(data: Any, out: Any, scratch: Any = None, stream: Any = None) -> Any:
    """Median absolute deviation of each channel, on the GPU; see :func:`mad_cpu`.

    Parameters
    ----------
    data : device array
        ``(num_samples, num_channels)``.
    out : device array
        ``(num_channels,)`` float64.
    scratch : device array, optional
        ``(num_channels, num_samples)`` float64 work space (overwritten); allocated here when None.
    stream : numba stream, optional
        Stream of the launch (default stream when None).

    Returns
    -------
    device array
        ``out``.
    """
    _check(data, out)
    num_samples, num_channels = data.shape
    if num_channels:
        if scratch is None:
            from numba import cuda as numba_cuda

            scratch = numba_cuda.device_array((num_channels, num_samples), dtype=np.float64)
        check_shape(scratch, (num_channels, num_samples), "scratch")
        check_dtype(scratch, np.float64, "scratch")
        blocks, threads = launch_1d(num_channels)
        MAD_KERNEL.launch(blocks, threads, stream, data, scratch, out)
    return out
