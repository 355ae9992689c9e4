"""The CUDA backend of waveforms and templates on the GPU data path.

Each segment is planned (only the spike windows when they cover little of the file, else whole
chunks), read by reader threads into a pinned-memory ring buffer, copied to the device on its
own stream, scaled and gathered / accumulated there; only results come back. Under
``NUMBA_ENABLE_CUDASIM=1`` the same code runs on the CPU.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np


def _budget(config) -> int | None:
    return config.total_memory or config.chunk_memory


def stream_spike_blocks(recording, spikes: np.ndarray, nbefore: int, nafter: int, chunk_size: int, backend,
                        memory_budget: int | None = None) -> Iterator[tuple[np.ndarray, np.ndarray, object]]:
    """Yield ``(spike positions in spikes, peaks relative to the block, raw device traces)``.

    Spikes whose window crosses a segment edge are skipped: the callers cut them on the host
    (:func:`~gpuspike.core.waveform_extraction.edge_windows`), as the chunked path does.
    """
    from ..streaming import plan_reads, stream_blocks

    bounds = np.searchsorted(spikes["segment_index"], np.arange(recording.get_num_segments() + 1))
    for seg in range(recording.get_num_segments()):
        n = recording.get_num_samples(seg)
        samples = spikes["sample_index"][bounds[seg]:bounds[seg + 1]]
        valid = np.flatnonzero((samples >= nbefore) & (samples <= n - nafter))
        if valid.size == 0:
            continue
        plan = plan_reads(n, chunk_size, peak_samples=samples[valid], nbefore=nbefore, nafter=nafter)
        with stream_blocks(recording, seg, plan, device=backend.name == "cuda", memory_budget=memory_budget,
                           chunk_size=chunk_size) as blocks:
            for block, traces in blocks:
                positions = bounds[seg] + valid[np.asarray(block.spike_indices)]
                yield positions, np.asarray(block.relative_peaks, dtype="int64"), traces


def _scaled(traces, ctx_backend, return_scaled: bool, gains, offsets):
    if not return_scaled:
        return traces
    out = ctx_backend.empty(traces.shape, "float32")
    ctx_backend.kernels.scale(traces, gains, offsets, out)
    return out


def _gains(recording, backend, return_scaled):
    if not return_scaled:
        return None, None
    gains, offsets = recording._scaling(slice(None))
    return (backend.asarray(np.ascontiguousarray(gains, dtype="float32")),
            backend.asarray(np.ascontiguousarray(offsets, dtype="float32")))


def stream_accumulate(recording, spikes: np.ndarray, num_units: int, nbefore: int, nafter: int,
                      return_scaled: bool, config, backend, with_std: bool = True,
                      sums_dtype: str = "float64") -> tuple:
    """Per-unit sums, sums of squares (None unless ``with_std``) and counts of accumulated windows (host)."""
    from .waveform_extraction import accumulate_windows

    shape = (num_units, nbefore + nafter, recording.get_num_channels())
    sums = backend.zeros(shape, sums_dtype)
    sumsqs = backend.zeros(shape, "float64") if with_std else None
    counts = backend.zeros((num_units,), "int64")
    gains, offsets = _gains(recording, backend, return_scaled)
    for positions, peaks, traces in stream_spike_blocks(recording, spikes, nbefore, nafter,
                                                        config.chunk_frames(recording), backend, _budget(config)):
        traces = _scaled(traces, backend, return_scaled, gains, offsets)
        units = np.ascontiguousarray(spikes["unit_index"][positions])
        accumulate_windows(backend, traces, backend.asarray(peaks), backend.asarray(units), nbefore, nafter, sums,
                           sumsqs, counts)
    return backend.to_host(sums), None if sumsqs is None else backend.to_host(sumsqs), backend.to_host(counts)


def stream_gather(recording, spikes: np.ndarray, rows: np.ndarray, nbefore: int, nafter: int, return_scaled: bool,
                  sparse_channels: np.ndarray | None, buffer: np.ndarray, config, backend) -> None:
    """Gather the waveforms of ``spikes`` into ``buffer`` at ``rows`` (one row per spike)."""
    gains, offsets = _gains(recording, backend, return_scaled)
    sparse_device = None if sparse_channels is None else backend.asarray(sparse_channels)
    for positions, peaks, traces in stream_spike_blocks(recording, spikes, nbefore, nafter,
                                                        config.chunk_frames(recording), backend, _budget(config)):
        out = backend.zeros((positions.size,) + buffer.shape[1:], buffer.dtype)
        out_rows = backend.asarray(np.arange(positions.size, dtype="int64"))
        # raw traces in, scaled waveforms out: only the gathered samples are scaled
        if sparse_device is None:
            backend.kernels.gather_waveforms(traces, backend.asarray(peaks), nbefore, nafter, out, out_rows, gains,
                                             offsets)
        else:
            units = backend.asarray(np.ascontiguousarray(spikes["unit_index"][positions]))
            backend.kernels.gather_waveforms_sparse(traces, backend.asarray(peaks), nbefore, nafter, out, out_rows,
                                                    units, sparse_device, gains, offsets)
        buffer[rows[positions]] = backend.to_host(out)
