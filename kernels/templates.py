"""Per unit sums and sums of squares of spike windows, for template mean and std.

``accumulate_templates_*`` adds each window (cast to float64) to ``sums[unit]``, its square to
``sumsqs[unit]`` and 1 to ``counts[unit]``; call it once per chunk, then
``templates_from_sums_*`` gives mean and population std (``ddof=0``) without ever storing
waveforms. Both devices add a unit's spikes in increasing spike order, so results are
deterministic (the CPU and the simulated GPU agree bitwise).

CPU: the spikes are grouped by unit (a stable argsort), then parallel over units: a thread adds
its unit's windows row by row (contiguous channels, vectorized), so no two threads write the
same element and one unit's sums stay in cache. GPU: the spikes are first grouped by unit (a stable counting pass, one thread per unit), then one thread per
``(unit, sample, channel)`` loops over that unit's spikes: no atomics, deterministic.

``templates_from_sums`` uses ``var = sumsq / n - mean**2`` (clipped at 0): for data whose std is
many orders of magnitude below its mean, cancellation limits the relative precision of std.
Units with no spikes get mean = std = 0 (as SpikeInterface).
"""
from __future__ import annotations

import math
from functools import cache
from typing import Any

import numpy as np
from numba import njit, prange

from ._common import check_dtype, check_index_range, check_ndim, check_shape, check_windows, launch_1d

__all__ = [
    "accumulate_templates_cpu",
    "accumulate_templates_cuda",
    "templates_from_sums_cpu",
    "templates_from_sums_cuda",
]

#: ``numba.cuda``, bound by the first CUDA launch (lazy import; a module global so that
#: numba's simulator can swap in its fake module while a kernel runs).
cuda = None

@njit(cache=True, nogil=True)
def group_by_unit(unit_indices, num_units):  # pragma: no cover - compiled
    """Spike order grouped by unit (stable: increasing spike order within a unit) and the
    ``(num_units + 1,)`` bounds of each unit's group in that order."""
    order = np.argsort(unit_indices, kind="mergesort")
    bounds = np.zeros(num_units + 1, np.int64)
    for s in range(unit_indices.shape[0]):
        bounds[unit_indices[s] + 1] += 1
    for u in range(num_units):
        bounds[u + 1] += bounds[u]
    return order, bounds


@njit(parallel=True, cache=True, nogil=True)
def window_sums_njit(traces, peak_samples, unit_indices, nbefore, nafter, sums, sumsqs, counts,
                     with_squares):  # pragma: no cover
    """Add each window to ``sums[unit]`` (and, ``with_squares``, its float64 square to ``sumsqs``;
    else ``sumsqs`` is not touched and values are added in the dtype of ``sums``); +1 to counts."""
    num_channels = traces.shape[1]
    nsamples = nbefore + nafter
    order, bounds = group_by_unit(unit_indices, sums.shape[0])
    for u in prange(sums.shape[0]):
        j = bounds[u]
        while j + 3 < bounds[u + 1]:  # four windows per pass over the unit's sums, in spike order
            t0 = peak_samples[order[j]] - nbefore
            t1 = peak_samples[order[j + 1]] - nbefore
            t2 = peak_samples[order[j + 2]] - nbefore
            t3 = peak_samples[order[j + 3]] - nbefore
            for i in range(nsamples):
                for c in range(num_channels):
                    if with_squares:
                        a = np.float64(traces[t0 + i, c])
                        b = np.float64(traces[t1 + i, c])
                        d = np.float64(traces[t2 + i, c])
                        e = np.float64(traces[t3 + i, c])
                        sums[u, i, c] = (((sums[u, i, c] + a) + b) + d) + e
                        sumsqs[u, i, c] = (((sumsqs[u, i, c] + a * a) + b * b) + d * d) + e * e
                    else:
                        sums[u, i, c] = (((sums[u, i, c] + traces[t0 + i, c]) + traces[t1 + i, c])
                                         + traces[t2 + i, c]) + traces[t3 + i, c]
            j += 4
        while j < bounds[u + 1]:
            start = peak_samples[order[j]] - nbefore
            for i in range(nsamples):
                for c in range(num_channels):
                    if with_squares:
                        v = np.float64(traces[start + i, c])
                        sums[u, i, c] += v
                        sumsqs[u, i, c] += v * v
                    else:
                        sums[u, i, c] += traces[start + i, c]
            j += 1
        counts[u] += bounds[u + 1] - bounds[u]


def _check_accumulate(traces, peak_samples, unit_indices, nbefore, nafter, sums, sumsqs, counts):
    check_ndim(traces, 2, "traces")
    check_windows(peak_samples, nbefore, nafter, traces.shape[0])
    check_ndim(sums, 3, "sums")
    num_units = sums.shape[0]
    check_shape(sums, (num_units, nbefore + nafter, traces.shape[1]), "sums")
    check_shape(sumsqs, tuple(sums.shape), "sumsqs")
    check_shape(counts, (num_units,), "counts")
    check_dtype(sums, np.float64, "sums")
    check_dtype(sumsqs, np.float64, "sumsqs")
    check_dtype(counts, np.int64, "counts")
    check_shape(unit_indices, tuple(peak_samples.shape), "unit_indices")
    check_index_range(unit_indices, 0, num_units, "unit_indices")


def accumulate_templates_cpu(
    traces: Any,
    peak_samples: Any,
    unit_indices: Any,
    nbefore: int,
    nafter: int,
    sums: Any,
    sumsqs: Any,
    counts: Any,
) -> tuple[Any, Any, Any]:
    """Add spike windows to per unit sums, sums of squares and counts, on the CPU.

    Parameters
    ----------
    traces : np.ndarray
        ``(num_samples, num_channels)`` traces of one chunk, any dtype (cast to float64).
    peak_samples : np.ndarray
        ``(num_spikes,)`` int, peak positions within ``traces``; windows must lie inside.
    unit_indices : np.ndarray
        ``(num_spikes,)`` int, unit of each spike in ``[0, U)``.
    nbefore, nafter : int
        Window ``[p - nbefore, p + nafter)``.
    sums, sumsqs : np.ndarray
        ``(U, nbefore + nafter, num_channels)`` float64, updated in place.
    counts : np.ndarray
        ``(U,)`` int64, updated in place.

    Returns
    -------
    tuple
        ``(sums, sumsqs, counts)``.

    Raises
    ------
    ValueError
        If a window falls outside ``traces``, a unit index is out of range, or a shape mismatches.
    TypeError
        If an accumulator has the wrong dtype.
    """
    _check_accumulate(traces, peak_samples, unit_indices, nbefore, nafter, sums, sumsqs, counts)
    window_sums_njit(traces, peak_samples, unit_indices, nbefore, nafter, sums, sumsqs, counts, True)
    return sums, sumsqs, counts


@cache
def _group_kernel():
    global cuda
    from numba import cuda

    @cuda.jit
    def kernel(unit_indices, unit_start, unit_count, order):
        # one thread per unit: stable counting sort of the spikes by unit
        num_units = unit_start.shape[0]
        num_spikes = unit_indices.shape[0]
        for u in range(cuda.grid(1), num_units, cuda.gridsize(1)):
            before = 0
            mine = 0
            for s in range(num_spikes):
                v = unit_indices[s]
                if v < u:
                    before += 1
                elif v == u:
                    mine += 1
            unit_start[u] = before
            unit_count[u] = mine
            k = before
            for s in range(num_spikes):
                if unit_indices[s] == u:
                    order[k] = s
                    k += 1

    return kernel


@cache
def _window_sums_kernel():
    global cuda
    from numba import cuda

    @cuda.jit
    def kernel(traces, peak_samples, order, unit_start, unit_count, nbefore, sums, sumsqs, counts, with_squares):
        num_units, nsamples, num_channels = sums.shape
        per_unit = nsamples * num_channels
        n = num_units * per_unit
        for j in range(cuda.grid(1), n, cuda.gridsize(1)):
            u = j // per_unit
            r = j - u * per_unit
            i = r // num_channels
            c = r - i * num_channels
            first = unit_start[u]
            if with_squares:
                acc = sums[u, i, c]
                acc2 = sumsqs[u, i, c]
                for k in range(first, first + unit_count[u]):
                    v = float(traces[peak_samples[order[k]] - nbefore + i, c])
                    acc += v
                    acc2 += v * v
                sums[u, i, c] = acc
                sumsqs[u, i, c] = acc2
            else:  # in the dtype of sums, as the CPU kernel
                total = sums[u, i, c]
                for k in range(first, first + unit_count[u]):
                    total += traces[peak_samples[order[k]] - nbefore + i, c]
                sums[u, i, c] = total
            if r == 0:
                counts[u] += unit_count[u]

    return kernel


def launch_window_sums(traces, peak_samples, unit_indices, nbefore: int, sums, sumsqs, counts,
                       with_squares: bool) -> None:
    """Group the spikes by unit on the device, then one thread per ``(unit, sample, channel)``
    adds that unit's windows in spike order (``sumsqs`` untouched unless ``with_squares``).

    Allocates three small scratch arrays (``num_spikes + 2 * U`` int64) on the device.
    """
    num_spikes = peak_samples.shape[0]
    num_units = sums.shape[0]
    if num_spikes == 0 or num_units == 0:
        return
    from numba import cuda

    unit_start = cuda.device_array(num_units, dtype=np.int64)
    unit_count = cuda.device_array(num_units, dtype=np.int64)
    order = cuda.device_array(num_spikes, dtype=np.int64)
    blocks, threads = launch_1d(num_units)
    _group_kernel()[blocks, threads](unit_indices, unit_start, unit_count, order)
    blocks, threads = launch_1d(sums.size)
    _window_sums_kernel()[blocks, threads](traces, peak_samples, order, unit_start, unit_count, nbefore, sums,
                                           sumsqs, counts, with_squares)


def accumulate_templates_cuda(
    traces: Any,
    peak_samples: Any,
    unit_indices: Any,
    nbefore: int,
    nafter: int,
    sums: Any,
    sumsqs: Any,
    counts: Any,
) -> tuple[Any, Any, Any]:
    """Add spike windows to per unit sums on the GPU; same contract as :func:`accumulate_templates_cpu`.

    Allocates three small scratch arrays (``num_spikes + 2 * U`` int64) on the device.

    Parameters
    ----------
    traces, peak_samples, unit_indices, nbefore, nafter, sums, sumsqs, counts
        As in :func:`accumulate_templates_cpu`, as device arrays.

    Returns
    -------
    tuple
        ``(sums, sumsqs, counts)``.
    """
    _check_accumulate(traces, peak_samples, unit_indices, nbefore, nafter, sums, sumsqs, counts)
    launch_window_sums(traces, peak_samples, unit_indices, nbefore, sums, sumsqs, counts, True)
    return sums, sumsqs, counts


@njit(parallel=True, cache=True, nogil=True, error_model="numpy")
def _from_sums_njit(sums, sumsqs, counts, mean, std):  # pragma: no cover
    num_units, nsamples, num_channels = sums.shape
    for u in prange(num_units):
        n = counts[u]
        for i in range(nsamples):
            for c in range(num_channels):
                if n > 0:
                    m = sums[u, i, c] / n
                    var = sumsqs[u, i, c] / n - m * m
                    mean[u, i, c] = m
                    std[u, i, c] = math.sqrt(var) if var > 0.0 else 0.0
                else:
                    mean[u, i, c] = 0.0
                    std[u, i, c] = 0.0


def _check_from_sums(sums, sumsqs, counts, mean, std):
    check_ndim(sums, 3, "sums")
    check_shape(sumsqs, tuple(sums.shape), "sumsqs")
    check_shape(counts, (sums.shape[0],), "counts")
    check_shape(mean, tuple(sums.shape), "mean")
    check_shape(std, tuple(sums.shape), "std")
    if np.dtype(mean.dtype).kind != "f" or np.dtype(std.dtype).kind != "f":
        raise TypeError(f"mean and std must be float arrays, got {mean.dtype} and {std.dtype}")


def templates_from_sums_cpu(sums: Any, sumsqs: Any, counts: Any, mean: Any, std: Any) -> tuple[Any, Any]:
    """Mean and population std (``ddof=0``) per unit from accumulated sums, on the CPU.

    Parameters
    ----------
    sums, sumsqs : np.ndarray
        ``(U, nsamples, num_channels)`` float64 from :func:`accumulate_templates_cpu`.
    counts : np.ndarray
        ``(U,)`` int, spikes per unit.
    mean, std : np.ndarray
        ``(U, nsamples, num_channels)`` float (float64 or float32) outputs. Units with 0 spikes
        get zeros.

    Returns
    -------
    tuple
        ``(mean, std)``.
    """
    _check_from_sums(sums, sumsqs, counts, mean, std)
    _from_sums_njit(sums, sumsqs, counts, mean, std)
    return mean, std


@cache
def _from_sums_kernel():
    global cuda
    from numba import cuda

    @cuda.jit
    def kernel(sums, sumsqs, counts, mean, std):
        num_units, nsamples, num_channels = sums.shape
        per_unit = nsamples * num_channels
        for j in range(cuda.grid(1), num_units * per_unit, cuda.gridsize(1)):
            u = j // per_unit
            r = j - u * per_unit
            i = r // num_channels
            c = r - i * num_channels
            n = counts[u]
            if n > 0:
                m = sums[u, i, c] / n
                var = sumsqs[u, i, c] / n - m * m
                mean[u, i, c] = m
                std[u, i, c] = math.sqrt(var) if var > 0.0 else 0.0
            else:
                mean[u, i, c] = 0.0
                std[u, i, c] = 0.0

    return kernel


def templates_from_sums_cuda(sums: Any, sumsqs: Any, counts: Any, mean: Any, std: Any) -> tuple[Any, Any]:
    """Mean and population std per unit on the GPU; same contract as :func:`templates_from_sums_cpu`.

    Parameters
    ----------
    sums, sumsqs, counts, mean, std
        As in :func:`templates_from_sums_cpu`, as device arrays.

    Returns
    -------
    tuple
        ``(mean, std)``.
    """
    _check_from_sums(sums, sumsqs, counts, mean, std)
    if sums.size:
        blocks, threads = launch_1d(sums.size)
        _from_sums_kernel()[blocks, threads](sums, sumsqs, counts, mean, std)
    return mean, std
