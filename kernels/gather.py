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
``traces``; the wrappers check it (a min/max reduction) and raise ``ValueError`` otherwise,
unless ``checked=True`` says the caller validated peaks and rows on the host.
The CUDA kernels scale with round-to-nearest multiply and add (no fused multiply-add), so they
give the CPU's bits.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, prange

from ._common import (TRACE_DTYPES, check_dtype, check_index_range, check_ndim, check_shape, check_windows,
                      launch_1d)
from ._launch import CudaKernel, array_type, bind_device_globals, jit_kernel

__all__ = [
    "gather_waveforms_cpu",
    "gather_waveforms_cuda",
    "gather_waveforms_sparse_cpu",
    "gather_waveforms_sparse_cuda",
    "GATHER_DENSE_KERNEL",
    "GATHER_SPARSE_KERNEL",
]

#: ``numba.cuda`` and the rounded float operations, bound by the first build (lazy import;
#: module globals, so that numba's simulator can swap in its fake module while a kernel runs and
#: the module-level kernels can be cached on disk).
cuda = None
fmul = fadd = dmul = dadd = None


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


_HOST_PLACEHOLDER = np.zeros(1, np.float32)
_device_placeholder = None


def _placeholder(on_device: bool):
    """A float32 array, never read, that stands in for absent gains/offsets (one per process)."""
    global _device_placeholder
    if not on_device:
        return _HOST_PLACEHOLDER
    if _device_placeholder is None:
        from numba import cuda as numba_cuda

        _device_placeholder = numba_cuda.to_device(_HOST_PLACEHOLDER)
    return _device_placeholder


def _scaling_args(traces, gains, offsets, on_device: bool):
    """``(gains, offsets, scaled)`` for a kernel; without scaling, a placeholder array (already on
    the device, never read) stands in, so that nothing is allocated or copied per call."""
    if gains is None and offsets is None:
        placeholder = _placeholder(on_device)
        return placeholder, placeholder, False
    if gains is None or offsets is None:
        raise ValueError("gains and offsets go together: give both (scaled gather) or neither (raw gather)")
    check_shape(gains, (traces.shape[1],), "gains")
    check_shape(offsets, (traces.shape[1],), "offsets")
    check_dtype(gains, np.float32, "gains")
    check_dtype(offsets, np.float32, "offsets")
    return gains, offsets, True


def _check_common(traces, peak_samples, nbefore, nafter, out, out_rows, num_out_channels, checked):
    check_ndim(traces, 2, "traces")
    check_windows(peak_samples, nbefore, nafter, traces.shape[0], checked)
    check_ndim(out, 3, "out")
    if out.shape[1] != nbefore + nafter or out.shape[2] != num_out_channels:
        raise ValueError(
            f"out must have shape (N, {nbefore + nafter}, {num_out_channels}), got {tuple(out.shape)}"
        )
    check_shape(out_rows, tuple(peak_samples.shape), "out_rows")
    check_index_range(out_rows, 0, out.shape[0], "out_rows", checked)


def _check_sparse(traces, peak_samples, nbefore, nafter, out, out_rows, unit_indices, sparse_channels, checked):
    check_ndim(sparse_channels, 2, "sparse_channels")
    _check_common(traces, peak_samples, nbefore, nafter, out, out_rows, sparse_channels.shape[1], checked)
    check_shape(unit_indices, tuple(peak_samples.shape), "unit_indices")
    check_index_range(unit_indices, 0, sparse_channels.shape[0], "unit_indices", checked)
    check_index_range(sparse_channels, -1, traces.shape[1], "sparse_channels", checked)


def gather_waveforms_cpu(
    traces: Any, peak_samples: Any, nbefore: int, nafter: int, out: Any, out_rows: Any,
    gains: Any = None, offsets: Any = None, stream: Any = None, checked: bool = False,
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
    stream : None
        Ignored (the CUDA version's stream).
    checked : bool
        The caller validated peaks and rows on the host: skip the value checks.

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
    _check_common(traces, peak_samples, nbefore, nafter, out, out_rows, traces.shape[1], checked)
    gains, offsets, scaled = _scaling_args(traces, gains, offsets, False)
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
    stream: Any = None,
    checked: bool = False,
) -> Any:
    """Gather sparse waveforms (per unit channel lists) on the CPU, scaled when gains are given.

    Parameters
    ----------
    traces, peak_samples, nbefore, nafter, out_rows, gains, offsets, stream, checked
        As in :func:`gather_waveforms_cpu` (``gains``/``offsets`` indexed by channel of ``traces``).
    out : np.ndarray
        ``(N, nbefore + nafter, Kmax)``; channel slot ``k`` of a row holds channel
        ``sparse_channels[unit, k]``, or 0 where that entry is ``-1``.
    unit_indices : np.ndarray
        ``(num_spikes,)`` int, unit index of each spike, in ``[0, U)``.
    sparse_channels : np.ndarray
        ``(U, Kmax)`` int64, channel indices per unit, padded with ``-1``.

    Returns
    -------
    np.ndarray
        ``out``.

    Raises
    ------
    ValueError
        As :func:`gather_waveforms_cpu`, and for unit or channel indices out of range.
    """
    _check_sparse(traces, peak_samples, nbefore, nafter, out, out_rows, unit_indices, sparse_channels, checked)
    gains, offsets, scaled = _scaling_args(traces, gains, offsets, False)
    _gather_sparse_njit(traces, peak_samples, nbefore, nafter, out, out_rows, unit_indices, sparse_channels, gains,
                        offsets, scaled)
    return out


def _dense_kernel(traces, peak_samples, nbefore, nafter, out, out_rows, gains, offsets,
                  scaled):  # pragma: no cover - CUDA kernel
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
            out[out_rows[s], i, c] = fadd(fmul(np.float32(x), gains[c]), offsets[c])
        else:
            out[out_rows[s], i, c] = x


def _build_dense():
    bind_device_globals(globals())
    return jit_kernel(_dense_kernel)


def _sparse_kernel(traces, peak_samples, nbefore, nafter, out, out_rows, unit_indices, sparse_channels, gains, offsets,
               scaled):  # pragma: no cover - CUDA kernel
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
            x = np.float32(traces[peak_samples[s] - nbefore + i, ch])
            out[out_rows[s], i, k] = fadd(fmul(x, gains[ch]), offsets[ch])
        else:
            out[out_rows[s], i, k] = traces[peak_samples[s] - nbefore + i, ch]


def _build_sparse():
    bind_device_globals(globals())
    return jit_kernel(_sparse_kernel)


def _gather_signatures(sparse: bool) -> tuple:
    i64 = array_type("int64", 1)
    f32 = array_type("float32", 1)
    sigs = []
    for t in TRACE_DTYPES:
        for o in dict.fromkeys((t, "float32", "float64")):  # raw, scaled (or cast), float64 (reference windows)
            units = (i64, array_type("int64", 2)) if sparse else ()
            sigs.append((array_type(t, 2), i64, "int64", "int64", array_type(o, 3), i64) + units
                        + (f32, f32, "boolean"))
    return tuple(sigs)


GATHER_DENSE_KERNEL = CudaKernel("gather.gather_waveforms", _build_dense, _gather_signatures(False))
GATHER_SPARSE_KERNEL = CudaKernel("gather.gather_waveforms_sparse", _build_sparse, _gather_signatures(True))


def gather_waveforms_cuda(
    traces: Any, peak_samples: Any, nbefore: int, nafter: int, out: Any, out_rows: Any,
    gains: Any = None, offsets: Any = None, stream: Any = None, checked: bool = False,
) -> Any:
    """Gather dense waveforms on the GPU; same contract as :func:`gather_waveforms_cpu`.

    Parameters
    ----------
    traces, peak_samples, nbefore, nafter, out, out_rows, gains, offsets, checked
        As in :func:`gather_waveforms_cpu`, as device arrays.
    stream : numba stream, optional
        Stream of the launch (default stream when None).

    Returns
    -------
    device array
        ``out``.
    """
    _check_common(traces, peak_samples, nbefore, nafter, out, out_rows, traces.shape[1], checked)
    n = peak_samples.shape[0] * (nbefore + nafter) * traces.shape[1]
    gains, offsets, scaled = _scaling_args(traces, gains, offsets, True)
    if n:
        blocks, threads = launch_1d(n)
        GATHER_DENSE_KERNEL.launch(blocks, threads, stream, traces, peak_samples, int(nbefore), int(nafter), out,
                                   out_rows, gains, offsets, scaled)
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
    stream: Any = None,
    checked: bool = False,
) -> Any:
    """Gather sparse waveforms on the GPU; same contract as :func:`gather_waveforms_sparse_cpu`.

    Parameters
    ----------
    traces, peak_samples, nbefore, nafter, out, out_rows, unit_indices, sparse_channels, gains, offsets, checked
        As in :func:`gather_waveforms_sparse_cpu`, as device arrays.
    stream : numba stream, optional
        Stream of the launch (default stream when None).

    Returns
    -------
    device array
        ``out``.
    """
    _check_sparse(traces, peak_samples, nbefore, nafter, out, out_rows, unit_indices, sparse_channels, checked)
    n = peak_samples.shape[0] * (nbefore + nafter) * out.shape[2]
    gains, offsets, scaled = _scaling_args(traces, gains, offsets, True)
    if n:
        blocks, threads = launch_1d(n)
        GATHER_SPARSE_KERNEL.launch(blocks, threads, stream, traces, peak_samples, int(nbefore), int(nafter), out,
                                    out_rows, unit_indices, sparse_channels, gains, offsets, scaled)
    return out
