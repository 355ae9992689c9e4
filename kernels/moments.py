"""Per unit raw moments of integer spike windows: int64 sums and sums of squares.

``accumulate_moments_*`` adds each window of integer samples to ``sums[unit]``, its square to
``sumsqs[unit]`` (both int64, exact in any order) and 1 to ``counts[unit]``. Nothing is shifted
while adding: :func:`~.templates.templates_from_sums_cpu` given these int64 moments and the
reference windows shifts them exactly (in int64) and gives the same bits as the shifted float64
sums of :mod:`.templates`. Without the shift and in integers, a window costs a widening load, a
multiply and two adds per sample: on a CPU the traces, not the arithmetic, limit the job.

Traces may be any dtype whose values are integers (raw int16 or uint16 samples; float64 windows
padded with integer fill values); the caller keeps the sums within int64 (the accumulate job uses
this kernel for samples of at most 16 bits). Peaks come grouped by unit, as in :mod:`.templates`.

CPU: parallel over units; a thread adds eight windows of its unit per pass over the unit's sums (then
four, then one): each pass moves the unit's int64 sums once, so wider passes move them less often
(10-15 % faster than four on the 15 Hz workload, benchmarks/RESULTS.md).
GPU: one thread per ``(unit, sample, channel)`` loops over its unit's spikes.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, prange

from ._common import check_dtype, check_shape, launch_1d
from ._launch import CudaKernel, array_type, bind_device_globals, jit_kernel
from .templates import check_grouped_windows

__all__ = ["accumulate_moments_cpu", "accumulate_moments_cuda", "MOMENTS_KERNEL", "MOMENT_TRACE_DTYPES"]

#: Trace dtypes the CUDA kernel is compiled for: raw samples of 8 or 16 bits, and float64 edge windows.
MOMENT_TRACE_DTYPES: tuple[str, ...] = ("int16", "uint16", "int8", "uint8", "float64")

#: ``numba.cuda``, bound by the first build (lazy import; a module global, so that numba's
#: simulator can swap in its fake module while a kernel runs).
cuda = None


@njit(parallel=True, cache=True, nogil=True)
def _window_moments_njit(traces, peak_samples, unit_bounds, nbefore, nafter, sums, sumsqs,
                         counts):  # pragma: no cover - compiled
    num_channels = traces.shape[1]
    nsamples = nbefore + nafter
    for u in prange(sums.shape[0]):
        j = unit_bounds[u]
        end = unit_bounds[u + 1]
        while j + 7 < end:
            t0 = peak_samples[j] - nbefore
            t1 = peak_samples[j + 1] - nbefore
            t2 = peak_samples[j + 2] - nbefore
            t3 = peak_samples[j + 3] - nbefore
            t4 = peak_samples[j + 4] - nbefore
            t5 = peak_samples[j + 5] - nbefore
            t6 = peak_samples[j + 6] - nbefore
            t7 = peak_samples[j + 7] - nbefore
            for i in range(nsamples):
                for c in range(num_channels):
                    a = np.int64(traces[t0 + i, c])
                    b = np.int64(traces[t1 + i, c])
                    d = np.int64(traces[t2 + i, c])
                    e = np.int64(traces[t3 + i, c])
                    f = np.int64(traces[t4 + i, c])
                    g = np.int64(traces[t5 + i, c])
                    h = np.int64(traces[t6 + i, c])
                    k = np.int64(traces[t7 + i, c])
                    sums[u, i, c] += ((a + b) + (d + e)) + ((f + g) + (h + k))
                    sumsqs[u, i, c] += ((a * a + b * b) + (d * d + e * e)) + ((f * f + g * g) + (h * h + k * k))
            j += 8
        while j + 3 < end:
            t0 = peak_samples[j] - nbefore
            t1 = peak_samples[j + 1] - nbefore
            t2 = peak_samples[j + 2] - nbefore
            t3 = peak_samples[j + 3] - nbefore
            for i in range(nsamples):
                for c in range(num_channels):
                    a = np.int64(traces[t0 + i, c])
                    b = np.int64(traces[t1 + i, c])
                    d = np.int64(traces[t2 + i, c])
                    e = np.int64(traces[t3 + i, c])
                    sums[u, i, c] += (a + b) + (d + e)
                    sumsqs[u, i, c] += (a * a + b * b) + (d * d + e * e)
            j += 4
        while j < end:
            start = peak_samples[j] - nbefore
            for i in range(nsamples):
                for c in range(num_channels):
                    a = np.int64(traces[start + i, c])
                    sums[u, i, c] += a
                    sumsqs[u, i, c] += a * a
            j += 1
        counts[u] += end - unit_bounds[u]


def _check_moments(traces, peak_samples, unit_bounds, nbefore, nafter, sums, sumsqs, counts, checked):
    if np.dtype(traces.dtype).kind not in "iuf" or np.dtype(traces.dtype).itemsize > 8:
        raise TypeError(f"traces must hold integer values (an int, uint or float dtype), got {traces.dtype}")
    check_grouped_windows(traces, peak_samples, unit_bounds, nbefore, nafter, sums, counts, checked)
    check_shape(sumsqs, tuple(sums.shape), "sumsqs")
    check_dtype(sums, np.int64, "sums")
    check_dtype(sumsqs, np.int64, "sumsqs")


def accumulate_moments_cpu(traces: Any, peak_samples: Any, unit_bounds: Any, nbefore: int, nafter: int, sums: Any,
                           sumsqs: Any, counts: Any, stream: Any = None,
                           checked: bool = False) -> tuple[Any, Any, Any]:
    """Add integer spike windows and their squares to per unit int64 sums, on the CPU.

    Parameters
    ----------
    traces : np.ndarray
        ``(num_samples, num_channels)`` traces of one block whose values are integers (raw 16-bit
        samples, or float64 windows padded with integers); each value is taken as an int64.
    peak_samples : np.ndarray
        ``(num_spikes,)`` int64 peak positions within ``traces``, grouped by unit; windows must
        lie inside ``traces``.
    unit_bounds : np.ndarray
        ``(U + 1,)`` int64: unit ``u``'s peaks are ``peak_samples[unit_bounds[u]:unit_bounds[u+1]]``.
    nbefore, nafter : int
        Window ``[p - nbefore, p + nafter)``.
    sums, sumsqs : np.ndarray
        ``(U, nbefore + nafter, num_channels)`` int64 sums of the windows and of their squares,
        updated in place.
    counts : np.ndarray
        ``(U,)`` int64, updated in place.
    stream : None
        Ignored (the CUDA version's stream).
    checked : bool
        The caller validated peaks and bounds on the host: skip the value checks.

    Returns
    -------
    tuple
        ``(sums, sumsqs, counts)``.

    Raises
    ------
    ValueError
        If a window falls outside ``traces``, the bounds are wrong, or a shape mismatches.
    TypeError
        If an accumulator is not int64 or the traces are not numbers.
    """
    _check_moments(traces, peak_samples, unit_bounds, nbefore, nafter, sums, sumsqs, counts, checked)
    _window_moments_njit(traces, peak_samples, unit_bounds, nbefore, nafter, sums, sumsqs, counts)
    return sums, sumsqs, counts


def _window_moments_kernel(traces, peak_samples, unit_bounds, nbefore, sums, sumsqs,
                           counts):  # pragma: no cover - CUDA kernel
    num_units, nsamples, num_channels = sums.shape
    per_unit = nsamples * num_channels
    for j in range(cuda.grid(1), num_units * per_unit, cuda.gridsize(1)):
        u = j // per_unit
        r = j - u * per_unit
        i = r // num_channels
        c = r - i * num_channels
        first = unit_bounds[u]
        last = unit_bounds[u + 1]
        acc = sums[u, i, c]
        acc2 = sumsqs[u, i, c]
        for k in range(first, last):
            v = int(traces[peak_samples[k] - nbefore + i, c])
            acc += v
            acc2 += v * v
        sums[u, i, c] = acc
        sumsqs[u, i, c] = acc2
        if r == 0:
            counts[u] += last - first


def _build_window_moments():
    bind_device_globals(globals())
    return jit_kernel(_window_moments_kernel)


_I64_1 = array_type("int64", 1)
_I64_3 = array_type("int64", 3)
MOMENTS_KERNEL = CudaKernel("moments.window_moments", _build_window_moments, tuple(
    (array_type(t, 2), _I64_1, _I64_1, "int64", _I64_3, _I64_3, _I64_1) for t in MOMENT_TRACE_DTYPES))


def accumulate_moments_cuda(traces: Any, peak_samples: Any, unit_bounds: Any, nbefore: int, nafter: int,
                            sums: Any, sumsqs: Any, counts: Any, stream: Any = None,
                            checked: bool = False) -> tuple[Any, Any, Any]:
    """Add integer spike windows and their squares to per unit int64 sums on the GPU; same
    contract as :func:`accumulate_moments_cpu`.

    Parameters
    ----------
    traces, peak_samples, unit_bounds, nbefore, nafter, sums, sumsqs, counts, checked
        As in :func:`accumulate_moments_cpu`, as device arrays.
    stream : numba stream, optional
        Stream of the launch (default stream when None).

    Returns
    -------
    tuple
        ``(sums, sumsqs, counts)``.
    """
    _check_moments(traces, peak_samples, unit_bounds, nbefore, nafter, sums, sumsqs, counts, checked)
    if peak_samples.shape[0] and sums.size:
        blocks, threads = launch_1d(sums.size)
        MOMENTS_KERNEL.launch(blocks, threads, stream, traces, peak_samples, unit_bounds, int(nbefore), sums, sumsqs,
                              counts)
    return sums, sumsqs, counts
