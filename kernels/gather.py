"""Waveform gather: copy the window around each spike peak into rows of a preallocated array.

Two entry points per device:

- ``gather_waveforms_*`` (dense): every channel of ``traces``; ``out`` is ``(N, nsamples, C)``.
- ``gather_waveforms_sparse_*``: channel ``k`` of spike ``s`` is
  ``sparse_channels[unit_indices[s], k]``; entries of ``-1`` (padding) write zeros.
  ``out`` is ``(N, nsamples, Kmax)``.

Spike ``s`` goes to row ``out_rows[s]`` of ``out``; values are cast to ``out.dtype`` (e.g.
int16 → float32), bitwise as NumPy's ``astype``. Rows not named in ``out_rows`` are untouched.
With ``gains`` and ``offsets`` (float32, one per channel of ``traces``) the gathered samples are
scaled on the way, ``float32(x) * gain + offset`` in float32 — bitwise the ``scale`` kernel
followed by a gather, without writing a scaled copy of the whole chunk.
``out_rows`` should hold distinct rows: with duplicates, which spike's window lands in the row is
unspecified. The caller guarantees each window ``[p - nbefore, p + nafter)`` lies inside
``traces``; the wrappers check it (a min/max reduction) and raise ``ValueError`` otherwise.
"""
from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
from numba import njit, prange

from ._common import check_dtype, check_index_range, check_ndim, check_shape, check_windows, launch_1d

__all__ = [
    "gather_waveforms_cpu",
    "gather_waveforms_cuda",
    "gather_waveforms_sparse_cpu",
    "gather_waveforms_sparse_cuda",
]

#: ``numba.cuda``, bound by the first CUDA launch (lazy import; a module global so that
#: numba's simulator can swap in its fake module while a kernel runs).
cuda = None


@njit(parallel=True, cache=True, nogil=True)
def _gather_dense_njit(traces, peak_samples, nbefore, nafter, out, out_rows, gains, offsets, scaled):  # pragma: no cover
    num_channels = traces.shape[1]
    nsamples = nbefore + nafter
    for s in prange(peak_samples.shape[0]):
        start = peak_samples[s] - nbefore
        row = out_rows[s]
        if scaled:
            for i in range(nsamples):
                for c in range(num_channels):
                    out[row, i, c] = np.float32(traces[start + i, c]) * gains[c] + offsets[c]
        else:
            for i in range(nsamples):
                for c in range(num_channels):
                    out[row, i, c] = traces[start + i, c]


@njit(parallel=True, cache=True, nogil=True)
def _gather_sparse_njit(
    traces, peak_samples, nbefore, nafter, out, out_rows, unit_indices, sparse_channels, gains, offsets, scaled
):  # pragma: no cover
    kmax = out.shape[2]
    nsamples = nbefore + nafter
    for s in prange(peak_samples.shape[0]):
        start = peak_samples[s] - nbefore
        row = out_rows[s]
        u = unit_indices[s]
        for i in range(nsamples):
            for k in range(kmax):
                ch = sparse_channels[u, k]
                if ch < 0:
                    out[row, i, k] = 0
                elif scaled:
                    out[row, i, k] = np.float32(traces[start + i, ch]) * gains[ch] + offsets[ch]
                else:
                    out[row, i, k] = traces[start + i, ch]


def _scaling_args(traces, gains, offsets, placeholder):
    """``(gains, offsets, scaled)`` for a kernel; without scaling, ``placeholder`` (an array already
    on the device, never read) stands in, so that nothing is allocated or copied per call."""
    if gains is None and offsets is None:
        return placeholder, placeholder, False
    if gains is None or offsets is None:
        raise ValueError("gains and offsets go together: give both (scaled gather) or neither (raw gather)")
    check_shape(gains, (traces.shape[1],), "gains")
    check_shape(offsets, (traces.shape[1],), "offsets")
    check_dtype(gains, np.float32, "gains")
    check_dtype(offsets, np.float32, "offsets")
    return gains, offsets, True


def _check_common(traces, peak_samples, nbefore, nafter, out, out_rows, num_out_channels):
    check_ndim(traces, 2, "traces")
    check_windows(peak_samples, nbefore, nafter, traces.shape[0])
    check_ndim(out, 3, "out")
    if out.shape[1] != nbefore + nafter or out.shape[2] != num_out_channels:
        raise ValueError(
            f"out must have shape (N, {nbefore + nafter}, {num_out_channels}), got {tuple(out.shape)}"
        )
    check_shape(out_rows, tuple(peak_samples.shape), "out_rows")
    check_index_range(out_rows, 0, out.shape[0], "out_rows")


def _check_sparse(traces, peak_samples, nbefore, nafter, out, out_rows, unit_indices, sparse_channels):
    check_ndim(sparse_channels, 2, "sparse_channels")
    _check_common(traces, peak_samples, nbefore, nafter, out, out_rows, sparse_channels.shape[1])
    check_shape(unit_indices, tuple(peak_samples.shape), "unit_indices")
    check_index_range(unit_indices, 0, sparse_channels.shape[0], "unit_indices")
    check_index_range(sparse_channels, -1, traces.shape[1], "sparse_channels")


def gather_waveforms_cpu(
    traces: Any, peak_samples: Any, nbefore: int, nafter: int, out: Any, out_rows: Any,
    gains: Any = None, offsets: Any = None,
) -> Any:
    """Gather dense waveforms (all channels) on the CPU, scaled on the way when gains are given.

    Parameters
    ----------
    traces : np.ndarray
        ``(num_samples, num_channels)`` traces of one chunk.
    peak_samples : np.ndarray
        ``(num_spikes,)`` int, peak positions within ``traces``.
    nbefore, nafter : int
        Samples before (included) and after (excluded) the peak.
    out : np.ndarray
        ``(N, nbefore + nafter, num_channels)``, any dtype; written rows are cast to it.
    out_rows : np.ndarray
        ``(num_spikes,)`` int, destination row of each spike, in ``[0, N)``.
    gains, offsets : np.ndarray, optional
        ``(num_channels,)`` float32: write ``float32(x) * gain + offset`` instead of ``x``.

    Returns
    -------
    np.ndarray
        ``out``.

    Raises
    ------
    ValueError
        If a window falls outside ``traces``, a row outside ``out``, a shape mismatches, or only
        one of ``gains``/``offsets`` is given.
    """
    _check_common(traces, peak_samples, nbefore, nafter, out, out_rows, traces.shape[1])
    gains, offsets, scaled = _scaling_args(traces, gains, offsets, peak_samples)
    _gather_dense_njit(traces, peak_samples, nbefore, nafter, out, out_rows, gains, offsets, scaled)
    return out


def gather_waveforms_sparse_cpu(
    traces: Any,
    peak_samples: Any,
    nbefore: int,
    nafter: int,
    out: Any,
    out_rows: Any,
    unit_indices: Any,
    sparse_channels: Any,
    gains: Any = None,
    offsets: Any = None,
) -> Any:
    """Gather sparse waveforms (per unit channel lists) on the CPU, scaled when gains are given.

    Parameters
    ----------
    traces, peak_samples, nbefore, nafter, out_rows, gains, offsets
        As in :func:`gather_waveforms_cpu` (``gains``/``offsets`` indexed by channel of ``traces``).
    out : np.ndarray
        ``(N, nbefore + nafter, Kmax)``; channel slot ``k`` of a row holds channel
        ``sparse_channels[unit, k]``, or 0 where that entry is ``-1``.
    unit_indices : np.ndarray
        ``(num_spikes,)`` int, unit index of each spike, in ``[0, U)``.
    sparse_channels : np.ndarray
        ``(U, Kmax)`` int, channel indices per unit, padded with ``-1``.

    Returns
    -------
    np.ndarray
        ``out``.

    Raises
    ------
    ValueError
        As :func:`gather_waveforms_cpu`, and for unit or channel indices out of range.
    """
    _check_sparse(traces, peak_samples, nbefore, nafter, out, out_rows, unit_indices, sparse_channels)
    gains, offsets, scaled = _scaling_args(traces, gains, offsets, peak_samples)
    _gather_sparse_njit(traces, peak_samples, nbefore, nafter, out, out_rows, unit_indices, sparse_channels, gains,
                        offsets, scaled)
    return out


@cache
def _dense_kernel():
    global cuda
    from numba import cuda

    @cuda.jit
    def kernel(traces, peak_samples, nbefore, nafter, out, out_rows, gains, offsets, scaled):
        num_channels = traces.shape[1]
        nsamples = nbefore + nafter
        per_spike = nsamples * num_channels
        n = peak_samples.shape[0] * per_spike
        for j in range(cuda.grid(1), n, cuda.gridsize(1)):
            s = j // per_spike
            r = j - s * per_spike
            i = r // num_channels
            c = r - i * num_channels
            x = traces[peak_samples[s] - nbefore + i, c]
            if scaled:
                out[out_rows[s], i, c] = np.float32(x) * gains[c] + offsets[c]
            else:
                out[out_rows[s], i, c] = x

    return kernel


@cache
def _sparse_kernel():
    global cuda
    from numba import cuda

    @cuda.jit
    def kernel(traces, peak_samples, nbefore, nafter, out, out_rows, unit_indices, sparse_channels, gains, offsets,
               scaled):
        kmax = out.shape[2]
        nsamples = nbefore + nafter
        per_spike = nsamples * kmax
        n = peak_samples.shape[0] * per_spike
        for j in range(cuda.grid(1), n, cuda.gridsize(1)):
            s = j // per_spike
            r = j - s * per_spike
            i = r // kmax
            k = r - i * kmax
            ch = sparse_channels[unit_indices[s], k]
            if ch < 0:
                out[out_rows[s], i, k] = 0
            elif scaled:
                out[out_rows[s], i, k] = np.float32(traces[peak_samples[s] - nbefore + i, ch]) * gains[ch] \
                    + offsets[ch]
            else:
                out[out_rows[s], i, k] = traces[peak_samples[s] - nbefore + i, ch]

    return kernel


def gather_waveforms_cuda(
    traces: Any, peak_samples: Any, nbefore: int, nafter: int, out: Any, out_rows: Any,
    gains: Any = None, offsets: Any = None,
) -> Any:
    """Gather dense waveforms on the GPU; same contract as :func:`gather_waveforms_cpu`.

    Parameters
    ----------
    traces, peak_samples, nbefore, nafter, out, out_rows, gains, offsets
        As in :func:`gather_waveforms_cpu`, as device arrays.

    Returns
    -------
    device array
        ``out``.
    """
    _check_common(traces, peak_samples, nbefore, nafter, out, out_rows, traces.shape[1])
    n = peak_samples.shape[0] * (nbefore + nafter) * traces.shape[1]
    gains, offsets, scaled = _scaling_args(traces, gains, offsets, peak_samples)
    if n:
        blocks, threads = launch_1d(n)
        _dense_kernel()[blocks, threads](traces, peak_samples, nbefore, nafter, out, out_rows, gains, offsets, scaled)
    return out


def gather_waveforms_sparse_cuda(
    traces: Any,
    peak_samples: Any,
    nbefore: int,
    nafter: int,
    out: Any,
    out_rows: Any,
    unit_indices: Any,
    sparse_channels: Any,
    gains: Any = None,
    offsets: Any = None,
) -> Any:
    """Gather sparse waveforms on the GPU; same contract as :func:`gather_waveforms_sparse_cpu`.

    Parameters
    ----------
    traces, peak_samples, nbefore, nafter, out, out_rows, unit_indices, sparse_channels, gains, offsets
        As in :func:`gather_waveforms_sparse_cpu`, as device arrays.

    Returns
    -------
    device array
        ``out``.
    """
    _check_sparse(traces, peak_samples, nbefore, nafter, out, out_rows, unit_indices, sparse_channels)
    n = peak_samples.shape[0] * (nbefore + nafter) * out.shape[2]
    gains, offsets, scaled = _scaling_args(traces, gains, offsets, peak_samples)
    if n:
        blocks, threads = launch_1d(n)
        _sparse_kernel()[blocks, threads](
            traces, peak_samples, nbefore, nafter, out, out_rows, unit_indices, sparse_channels, gains, offsets, scaled
        )
    return out
