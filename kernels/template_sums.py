"""Per unit sums of spike windows only (template means), and sums of stored waveforms.

``accumulate_sums_*`` adds each window to ``sums[unit]`` (float32 or float64, in that dtype) and 1
to ``counts[unit]``; the mean is ``sums / counts`` (:func:`~.templates.templates_from_sums_cpu`
with ``sumsqs=None``). Without the squares, and in float32 where that is exact (raw int16 windows
of a few hundred spikes), a block moves a quarter of the accumulator bytes of
:mod:`.templates`: on a CPU the accumulators, not the traces, limit this job (a sparsity estimate).
Peaks come grouped by unit, as in :mod:`.templates`.

``waveform_sums_*`` gives the shifted sums and sums of squares of waveforms already gathered in a
unit-major buffer (the templates of sampled spikes), reading each waveform once; the reference
window of a unit is its first waveform (``ref`` is written), so identical waveforms give a std of
exactly 0.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, prange

from ._common import TRACE_DTYPES, check_ndim, check_shape, launch_1d
from ._launch import CudaKernel, array_type, bind_device_globals, jit_kernel
from .templates import check_grouped_windows, check_unit_bounds, launch_window_sums, window_sums_njit

__all__ = ["accumulate_sums_cpu", "accumulate_sums_cuda", "waveform_sums_cpu", "waveform_sums_cuda",
           "WAVEFORM_SUMS_KERNEL"]

#: ``numba.cuda`` and the rounded float operations, bound by the first build (lazy import;
#: module globals, so that numba's simulator can swap in its fake module while a kernel runs and
#: the module-level kernels can be cached on disk).
cuda = None
fmul = fadd = dmul = dadd = None


def _check(traces, peak_samples, unit_bounds, nbefore, nafter, sums, counts, checked):
    check_grouped_windows(traces, peak_samples, unit_bounds, nbefore, nafter, sums, counts, checked)
    if np.dtype(sums.dtype) not in (np.dtype("float32"), np.dtype("float64")):
        raise TypeError(f"sums must be float32 or float64, got {sums.dtype}")


def accumulate_sums_cpu(traces: Any, peak_samples: Any, unit_bounds: Any, nbefore: int, nafter: int, sums: Any,
                        counts: Any, stream: Any = None, checked: bool = False) -> tuple[Any, Any]:
    """Add spike windows to per unit sums (float32 or float64) and counts, on the CPU.

    Parameters
    ----------
    traces : np.ndarray
        ``(num_samples, num_channels)`` traces of one block.
    peak_samples : np.ndarray
        ``(num_spikes,)`` int64 peak positions within ``traces``, grouped by unit.
    unit_bounds : np.ndarray
        ``(U + 1,)`` int64 bounds of each unit's group of peaks.
    nbefore, nafter : int
        Window ``[p - nbefore, p + nafter)``.
    sums : np.ndarray
        ``(U, nbefore + nafter, num_channels)`` float32 or float64, updated in place (values
        are added in the dtype of ``sums``).
    counts : np.ndarray
        ``(U,)`` int64, updated in place.
    stream : None
        Ignored (the CUDA version's stream).
    checked : bool
        The caller validated peaks and bounds on the host: skip the value checks.

    Returns
    -------
    tuple
        ``(sums, counts)``.
    """
    _check(traces, peak_samples, unit_bounds, nbefore, nafter, sums, counts, checked)
    # sums stands in for the reference and the squares it does not take (never touched)
    window_sums_njit(traces, peak_samples, unit_bounds, nbefore, nafter, sums, sums, sums, counts, False)
    return sums, counts


def accumulate_sums_cuda(traces: Any, peak_samples: Any, unit_bounds: Any, nbefore: int, nafter: int, sums: Any,
                         counts: Any, stream: Any = None, checked: bool = False) -> tuple[Any, Any]:
    """Add spike windows to per unit sums on the GPU; same contract as :func:`accumulate_sums_cpu`.

    Parameters
    ----------
    traces, peak_samples, unit_bounds, nbefore, nafter, sums, counts, checked
        As in :func:`accumulate_sums_cpu`, as device arrays.
    stream : numba stream, optional
        Stream of the launch (default stream when None).

    Returns
    -------
    tuple
        ``(sums, counts)``.
    """
    _check(traces, peak_samples, unit_bounds, nbefore, nafter, sums, counts, checked)
    launch_window_sums(traces, peak_samples, unit_bounds, nbefore, sums, sums, sums, counts, False, stream)
    return sums, counts


@njit(parallel=True, cache=True, nogil=True)
def _waveform_sums_njit(waveforms, unit_bounds, rows, ref, sums, sumsqs):  # pragma: no cover
    num_units, nsamples, width = sums.shape
    # a unit's waveforms are read row after row; four are added per pass over the unit's sums,
    # in spike order (((s + a) + b) + c) + d, so a quarter of the sum traffic, same result bits
    for u in prange(num_units):
        s = unit_bounds[u]
        end = unit_bounds[u + 1]
        first = rows[s] if s < end else 0
        for i in range(nsamples):
            for c in range(width):
                ref[u, i, c] = np.float64(waveforms[first, i, c]) if s < end else 0.0
        while s + 3 < end:
            w0, w1, w2, w3 = rows[s], rows[s + 1], rows[s + 2], rows[s + 3]
            for i in range(nsamples):
                for c in range(width):
                    r = ref[u, i, c]
                    a = np.float64(waveforms[w0, i, c]) - r
                    b = np.float64(waveforms[w1, i, c]) - r
                    d = np.float64(waveforms[w2, i, c]) - r
                    e = np.float64(waveforms[w3, i, c]) - r
                    sums[u, i, c] = (((sums[u, i, c] + a) + b) + d) + e
                    sumsqs[u, i, c] = (((sumsqs[u, i, c] + a * a) + b * b) + d * d) + e * e
            s += 4
        while s < end:
            w0 = rows[s]
            for i in range(nsamples):
                for c in range(width):
                    a = np.float64(waveforms[w0, i, c]) - ref[u, i, c]
                    sums[u, i, c] += a
                    sumsqs[u, i, c] += a * a
            s += 1


def _check_waveform_sums(waveforms, unit_bounds, ref, sums, sumsqs, checked=False, rows=None):
    check_ndim(waveforms, 3, "waveforms")
    if rows is not None:
        check_ndim(rows, 1, "rows")
        check_shape(rows, (waveforms.shape[0],), "rows")
        if np.dtype(rows.dtype) != np.dtype("int64"):
            raise TypeError(f"rows must be int64, got {rows.dtype}")
    check_ndim(sums, 3, "sums")
    num_units = sums.shape[0]
    check_shape(sums, (num_units,) + tuple(waveforms.shape[1:]), "sums")
    for name, arr in (("sums", sums), ("sumsqs", sumsqs), ("ref", ref)):
        check_shape(arr, tuple(sums.shape), name)
        if np.dtype(arr.dtype) != np.dtype("float64"):
            raise TypeError(f"{name} must be float64, got {arr.dtype}")
    check_unit_bounds(unit_bounds, num_units, waveforms.shape[0], checked)


def waveform_sums_cpu(waveforms: Any, unit_bounds: Any, ref: Any, sums: Any, sumsqs: Any,
                      stream: Any = None, checked: bool = False, rows: Any = None) -> tuple[Any, Any, Any]:
    """Per unit reference window, shifted sums and sums of squares of stored waveforms, on the CPU.

    One thread per unit reads that unit's rows (each row one contiguous block); every waveform
    byte is read once. Feed the results to :func:`~.templates.templates_from_sums_cpu`.

    Parameters
    ----------
    waveforms : np.ndarray
        ``(N, nsamples, K)`` waveforms; those of unit ``u`` are rows ``rows[unit_bounds[u]:unit_bounds[u+1]]``
        (rows ``unit_bounds[u]:unit_bounds[u+1]`` when ``rows`` is None: a unit-major buffer).
    unit_bounds : np.ndarray
        ``(U + 1,)`` int64, rising from 0 to ``N``.
    ref : np.ndarray
        ``(U, nsamples, K)`` float64 output: each unit's first waveform (zeros for a unit without any).
    sums, sumsqs : np.ndarray
        ``(U, nsamples, K)`` float64 sums of ``waveform - ref`` and of its square, updated in place.
    stream : None
        Ignored (the CUDA version's stream).
    checked : bool
        The caller validated ``unit_bounds`` on the host: check its shape and dtype only.
    rows : np.ndarray, optional
        ``(N,)`` int64 row of each position, the rows grouped by unit (e.g. a stable argsort of the
        rows' unit indices); the caller guarantees it is a permutation of ``range(N)``.

    Returns
    -------
    tuple
        ``(ref, sums, sumsqs)``.
    """
    _check_waveform_sums(waveforms, unit_bounds, ref, sums, sumsqs, checked, rows)
    if rows is None:
        rows = np.arange(waveforms.shape[0], dtype="int64")
    _waveform_sums_njit(waveforms, unit_bounds, rows, ref, sums, sumsqs)
    return ref, sums, sumsqs


def _waveform_sums_kernel(waveforms, unit_bounds, rows, ref, sums, sumsqs):  # pragma: no cover - CUDA kernel
    num_units, nsamples, width = sums.shape
    per_unit = nsamples * width
    for j in range(cuda.grid(1), num_units * per_unit, cuda.gridsize(1)):
        u = j // per_unit
        r = j - u * per_unit
        i = r // width
        c = r - i * width
        first = unit_bounds[u]
        last = unit_bounds[u + 1]
        shift = float(waveforms[rows[first], i, c]) if first < last else 0.0
        ref[u, i, c] = shift
        acc = sums[u, i, c]
        acc2 = sumsqs[u, i, c]
        for s in range(first, last):
            v = dadd(float(waveforms[rows[s], i, c]), -shift)
            acc = dadd(acc, v)
            acc2 = dadd(acc2, dmul(v, v))
        sums[u, i, c] = acc
        sumsqs[u, i, c] = acc2


def _build_waveform_sums():
    bind_device_globals(globals())
    return jit_kernel(_waveform_sums_kernel)


_F64 = array_type("float64", 3)
WAVEFORM_SUMS_KERNEL = CudaKernel("template_sums.waveform_sums", _build_waveform_sums, tuple(
    (array_type(t, 3), array_type("int64", 1), array_type("int64", 1), _F64, _F64, _F64) for t in dict.fromkeys(TRACE_DTYPES + ("float32",))))


def waveform_sums_cuda(waveforms: Any, unit_bounds: Any, ref: Any, sums: Any, sumsqs: Any,
                       stream: Any = None, checked: bool = False, rows: Any = None) -> tuple[Any, Any, Any]:
    """Per unit reference, shifted sums and sums of squares on the GPU; same contract as :func:`waveform_sums_cpu`.

    Parameters
    ----------
    waveforms, unit_bounds, ref, sums, sumsqs, checked, rows
        As in :func:`waveform_sums_cpu`, as device arrays.
    stream : numba stream, optional
        Stream of the launch (default stream when None).

    Returns
    -------
    tuple
        ``(ref, sums, sumsqs)``.
    """
    _check_waveform_sums(waveforms, unit_bounds, ref, sums, sumsqs, checked, rows)
    if sums.size:
        if rows is None:
            rows = _device_arange(waveforms.shape[0], stream)
        blocks, threads = launch_1d(sums.size)
        WAVEFORM_SUMS_KERNEL.launch(blocks, threads, stream, waveforms, unit_bounds, rows, ref, sums, sumsqs)
    return ref, sums, sumsqs


def _device_arange(n: int, stream: Any):
    """``arange(n)`` int64 on the device (identity row order)."""
    from numba import cuda as numba_cuda

    host = np.arange(n, dtype="int64")
    return numba_cuda.to_device(host, stream=stream) if stream is not None else numba_cuda.to_device(host)
