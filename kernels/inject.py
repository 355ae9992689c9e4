"""Add templates into a traces chunk at spike times (toy-data generation), CPU numba kernel."""
from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(parallel=True, cache=True, nogil=True)
def _inject_cpu(traces, peak_samples, unit_indices, amplitudes, templates, nbefore):
    num_spikes = peak_samples.shape[0]
    nsamples = templates.shape[1]
    num_channels = traces.shape[1]
    length = traces.shape[0]
    for c in prange(num_channels):
        for s in range(num_spikes):
            start = peak_samples[s] - nbefore
            u = unit_indices[s]
            a = amplitudes[s]
            for t in range(nsamples):
                i = start + t
                if 0 <= i < length:
                    traces[i, c] += a * templates[u, t, c]


def inject_templates_cpu(traces: np.ndarray, peak_samples: np.ndarray, unit_indices: np.ndarray,
                         amplitudes: np.ndarray, templates: np.ndarray, nbefore: int) -> None:
    """Add ``amplitudes[s] * templates[unit_indices[s]]`` to ``traces`` around each peak, in place.

    Parameters
    ----------
    traces : np.ndarray (T, C) float32
        Chunk to add into; windows falling partly outside are clipped.
    peak_samples : np.ndarray (S,) int64
        Peak positions relative to the chunk start (may be negative or >= T for spikes whose
        window overlaps the chunk only partly).
    unit_indices : np.ndarray (S,) int64
    amplitudes : np.ndarray (S,) float32
    templates : np.ndarray (U, nsamples, C) float32
    nbefore : int
        Samples of a template before its peak.
    """
    if peak_samples.size == 0:
        return
    _inject_cpu(traces, peak_samples.astype(np.int64), unit_indices.astype(np.int64),
                amplitudes.astype(np.float32), templates, np.int64(nbefore))
