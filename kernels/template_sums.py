"""Per unit sums of spike windows only (no squares), in float32 or float64: template means.

``accumulate_sums_*`` adds each window to ``sums[unit]`` and 1 to ``counts[unit]``; the mean is
``sums / counts``. Without the squares, and in float32 where that is precise enough (a sparsity
estimate from ~100 spikes per unit), a chunk moves a quarter of the accumulator bytes of
:mod:`templates` — the accumulators, not the traces, are what limits this job on a CPU.
Same ordering rules as :mod:`templates`: deterministic, the CPU and the simulated GPU agree.

``waveform_sums_*`` gives the same sums and sums of squares from waveforms already gathered in a
unit-major buffer (the templates of sampled spikes), reading each waveform once.
"""
from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
from numba import njit, prange

from ._common import check_index_range, check_ndim, check_shape, check_windows, launch_1d, to_host
from .templates import launch_window_sums, window_sums_njit

__all__ = ["accumulate_sums_cpu", "accumulate_sums_cuda", "waveform_sums_cpu", "waveform_sums_cuda"]

#: ``numba.cuda``, bound by the first CUDA launch (lazy import; a module global so that
#: numba's simulator can swap in its fake module while a kernel runs).
cuda = None


def _check(traces, peak_samples, unit_indices, nbefore, nafter, sums, counts):
    check_ndim(traces, 2, "traces")
    check_windows(peak_samples, nbefore, nafter, traces.shape[0])
    check_ndim(sums, 3, "sums")
    num_units = sums.shape[0]
    check_shape(sums, (num_units, nbefore + nafter, traces.shape[1]), "sums")
    check_shape(counts, (num_units,), "counts")
    if np.dtype(sums.dtype) not in (np.dtype("float32"), np.dtype("float64")):
        raise TypeError(f"sums must be float32 or float64, got {sums.dtype}")
    if np.dtype(counts.dtype) != np.dtype("int64"):
        raise TypeError(f"counts must be int64, got {counts.dtype}")
    check_shape(unit_indices, tuple(peak_samples.shape), "unit_indices")
    check_index_range(unit_indices, 0, num_units, "unit_indices")


def accumulate_sums_cpu(traces: Any, peak_samples: Any, unit_indices: Any, nbefore: int, nafter: int, sums: Any,
                        counts: Any) -> tuple[Any, Any]:
    """Add spike windows to per unit sums (float32 or float64) and counts, on the CPU.

    Parameters
    ----------
    traces : np.ndarray
        ``(num_samples, num_channels)`` traces of one chunk.
    peak_samples : np.ndarray
        ``(num_spikes,)`` int, peak positions within ``traces``; windows must lie inside.
    unit_indices : np.ndarray
        ``(num_spikes,)`` int, unit of each spike in ``[0, U)``.
    nbefore, nafter : int
        Window ``[p - nbefore, p + nafter)``.
    sums : np.ndarray
        ``(U, nbefore + nafter, num_channels)`` float32 or float64, updated in place (values
        are added in the dtype of ``sums``).
    counts : np.ndarray
        ``(U,)`` int64, updated in place.

    Returns
    -------
    tuple
        ``(sums, counts)``.
    """
    _check(traces, peak_samples, unit_indices, nbefore, nafter, sums, counts)
    # sums stands in for the squares it does not take (never touched)
    window_sums_njit(traces, peak_samples, unit_indices, nbefore, nafter, sums, sums, counts, False)
    return sums, counts


def accumulate_sums_cuda(traces: Any, peak_samples: Any, unit_indices: Any, nbefore: int, nafter: int, sums: Any,
                         counts: Any) -> tuple[Any, Any]:
    """Add spike windows to per unit sums on the GPU; same contract as :func:`accumulate_sums_cpu`.

    Parameters
    ----------
    traces, peak_samples, unit_indices, nbefore, nafter, sums, counts
        As in :func:`accumulate_sums_cpu`, as device arrays.

    Returns
    -------
    tuple
        ``(sums, counts)``.
    """
    _check(traces, peak_samples, unit_indices, nbefore, nafter, sums, counts)
    launch_window_sums(traces, peak_samples, unit_indices, nbefore, sums, sums, counts, False)
    return sums, counts


@njit(parallel=True, cache=True, nogil=True)
def _waveform_sums_njit(waveforms, unit_bounds, sums, sumsqs):  # pragma: no cover
    num_units, nsamples, width = sums.shape
    # a unit's waveforms are one contiguous stream; four are added per pass over the unit's sums,
    # in spike order (((s + a) + b) + c) + d, so a quarter of the sum traffic, same result bits
    for u in prange(num_units):
        s = unit_bounds[u]
        end = unit_bounds[u + 1]
        while s + 3 < end:
            for i in range(nsamples):
                for c in range(width):
                    a = np.float64(waveforms[s, i, c])
                    b = np.float64(waveforms[s + 1, i, c])
                    d = np.float64(waveforms[s + 2, i, c])
                    e = np.float64(waveforms[s + 3, i, c])
                    sums[u, i, c] = (((sums[u, i, c] + a) + b) + d) + e
                    sumsqs[u, i, c] = (((sumsqs[u, i, c] + a * a) + b * b) + d * d) + e * e
            s += 4
        while s < end:
            for i in range(nsamples):
                for c in range(width):
                    a = np.float64(waveforms[s, i, c])
                    sums[u, i, c] += a
                    sumsqs[u, i, c] += a * a
            s += 1


def _check_waveform_sums(waveforms, unit_bounds, sums, sumsqs):
    check_ndim(waveforms, 3, "waveforms")
    check_ndim(sums, 3, "sums")
    num_units = sums.shape[0]
    check_shape(sums, (num_units,) + tuple(waveforms.shape[1:]), "sums")
    check_shape(sumsqs, tuple(sums.shape), "sumsqs")
    check_shape(unit_bounds, (num_units + 1,), "unit_bounds")
    for name, arr in (("sums", sums), ("sumsqs", sumsqs)):
        if np.dtype(arr.dtype) != np.dtype("float64"):
            raise TypeError(f"{name} must be float64, got {arr.dtype}")
    bounds = to_host(unit_bounds)
    if bounds.size and (bounds[0] != 0 or bounds[-1] != waveforms.shape[0] or np.any(np.diff(bounds) < 0)):
        raise ValueError(f"unit_bounds must rise from 0 to the number of waveforms ({waveforms.shape[0]}), "
                         f"got {bounds[:5]}...{bounds[-2:]}")


def waveform_sums_cpu(waveforms: Any, unit_bounds: Any, sums: Any, sumsqs: Any) -> tuple[Any, Any]:
    """Per unit sums and sums of squares (float64) of stored, unit-major waveforms, on the CPU.

    One thread per unit reads that unit's rows as one contiguous stream; every waveform byte is
    read once, in row order.

    Parameters
    ----------
    waveforms : np.ndarray
        ``(N, nsamples, K)`` waveforms, those of unit ``u`` in rows ``unit_bounds[u]:unit_bounds[u+1]``.
    unit_bounds : np.ndarray
        ``(U + 1,)`` int64, rising from 0 to ``N``.
    sums, sumsqs : np.ndarray
        ``(U, nsamples, K)`` float64, updated in place.

    Returns
    -------
    tuple
        ``(sums, sumsqs)``.
    """
    _check_waveform_sums(waveforms, unit_bounds, sums, sumsqs)
    _waveform_sums_njit(waveforms, unit_bounds, sums, sumsqs)
    return sums, sumsqs


@cache
def _waveform_sums_kernel():
    global cuda
    from numba import cuda

    @cuda.jit
    def kernel(waveforms, unit_bounds, sums, sumsqs):
        num_units, nsamples, width = sums.shape
        per_unit = nsamples * width
        for j in range(cuda.grid(1), num_units * per_unit, cuda.gridsize(1)):
            u = j // per_unit
            r = j - u * per_unit
            i = r // width
            c = r - i * width
            acc = sums[u, i, c]
            acc2 = sumsqs[u, i, c]
            for s in range(unit_bounds[u], unit_bounds[u + 1]):
                v = float(waveforms[s, i, c])
                acc += v
                acc2 += v * v
            sums[u, i, c] = acc
            sumsqs[u, i, c] = acc2

    return kernel


def waveform_sums_cuda(waveforms: Any, unit_bounds: Any, sums: Any, sumsqs: Any) -> tuple[Any, Any]:
    """Per unit sums and sums of squares on the GPU; same contract as :func:`waveform_sums_cpu`.

    Parameters
    ----------
    waveforms, unit_bounds, sums, sumsqs
        As in :func:`waveform_sums_cpu`, as device arrays.

    Returns
    -------
    tuple
        ``(sums, sumsqs)``.
    """
    _check_waveform_sums(waveforms, unit_bounds, sums, sumsqs)
    if sums.size:
        blocks, threads = launch_1d(sums.size)
        _waveform_sums_kernel()[blocks, threads](waveforms, unit_bounds, sums, sumsqs)
    return sums, sumsqs
