"""Naive NumPy references for every kernel of ``gpuspike.kernels``.

Written first and independently of the kernels: plain NumPy, explicit Python loops where they
make the meaning obvious. Slow on purpose; only for tests on small data.
"""
from __future__ import annotations

import numpy as np

PEAK_SIGNS = ("neg", "pos", "both")


def scale(traces: np.ndarray, gains: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """``traces * gains + offsets`` computed in float32 (cast first)."""
    return traces.astype(np.float32) * gains.astype(np.float32) + offsets.astype(np.float32)


def gather_waveforms(traces, peak_samples, nbefore, nafter, out_shape, out_rows, dtype, fill):
    """Dense windows ``traces[p - nbefore:p + nafter, :]`` into rows ``out_rows`` of a new array.

    Rows that no spike writes keep ``fill`` (so that the test can compare poisoned outputs).
    """
    out = np.full(out_shape, fill, dtype=dtype)
    for s in range(len(peak_samples)):
        p = int(peak_samples[s])
        out[int(out_rows[s])] = traces[p - nbefore : p + nafter, :].astype(dtype)
    return out


def gather_waveforms_sparse(
    traces, peak_samples, nbefore, nafter, out_shape, out_rows, unit_indices, sparse_channels, dtype, fill
):
    """Sparse windows: channel ``k`` of spike ``s`` is ``sparse_channels[unit, k]``; -1 → 0."""
    out = np.full(out_shape, fill, dtype=dtype)
    for s in range(len(peak_samples)):
        p = int(peak_samples[s])
        u = int(unit_indices[s])
        row = int(out_rows[s])
        for k in range(out_shape[2]):
            ch = int(sparse_channels[u, k])
            if ch < 0:
                out[row, :, k] = 0
            else:
                out[row, :, k] = traces[p - nbefore : p + nafter, ch].astype(dtype)
    return out


def templates_mean_std(traces, peak_samples, unit_indices, nbefore, nafter, num_units):
    """Mean, population std and spike count per unit, from stacked float64 waveforms.

    Units without spikes get zeros (as SpikeInterface does).
    """
    nsamples = nbefore + nafter
    num_channels = traces.shape[1]
    mean = np.zeros((num_units, nsamples, num_channels))
    std = np.zeros((num_units, nsamples, num_channels))
    counts = np.zeros(num_units, dtype=np.int64)
    for u in range(num_units):
        sel = np.flatnonzero(np.asarray(unit_indices) == u)
        counts[u] = sel.size
        if sel.size == 0:
            continue
        wfs = np.stack(
            [traces[int(peak_samples[s]) - nbefore : int(peak_samples[s]) + nafter].astype(np.float64) for s in sel]
        )
        mean[u] = wfs.mean(axis=0)
        std[u] = wfs.std(axis=0)
    return mean, std, counts


def templates_sums(traces, peak_samples, unit_indices, nbefore, nafter, num_units, ref=None):
    """Sums and sums of squares (float64) of the windows per unit (minus ``ref[unit]`` when given),
    and counts."""
    nsamples = nbefore + nafter
    sums = np.zeros((num_units, nsamples, traces.shape[1]))
    sumsqs = np.zeros_like(sums)
    counts = np.zeros(num_units, dtype=np.int64)
    for s in range(len(peak_samples)):
        p = int(peak_samples[s])
        u = int(unit_indices[s])
        w = traces[p - nbefore : p + nafter].astype(np.float64)
        if ref is not None:
            w = w - ref[u]
        sums[u] += w
        sumsqs[u] += w * w
        counts[u] += 1
    return sums, sumsqs, counts


def group_by_unit(peak_samples, unit_indices, num_units):
    """Peaks reordered unit by unit (time order kept within a unit) and the (num_units + 1,) bounds."""
    units = np.asarray(unit_indices, dtype=np.int64)
    order = np.argsort(units, kind="stable")
    counts = np.bincount(units, minlength=num_units) if units.size else np.zeros(num_units, np.int64)
    bounds = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return np.ascontiguousarray(np.asarray(peak_samples, dtype=np.int64)[order]), bounds


def channel_amplitudes(templates: np.ndarray, peak_sign: str) -> np.ndarray:
    """Per unit and channel: min over time (neg), max (pos) or max of abs (both)."""
    if peak_sign == "neg":
        return templates.min(axis=1)
    if peak_sign == "pos":
        return templates.max(axis=1)
    return np.abs(templates).max(axis=1)


def template_extremum(templates: np.ndarray, peak_sign: str, nbefore: int):
    """Extremum channel, amplitude on it and peak shift, unit by unit (SpikeInterface 0.100 rules)."""
    num_units = templates.shape[0]
    channels = np.zeros(num_units, dtype=np.int64)
    amplitudes = np.zeros(num_units, dtype=templates.dtype)
    shifts = np.zeros(num_units, dtype=np.int64)
    for u in range(num_units):
        t = templates[u]
        if peak_sign == "neg":
            values = np.min(t, axis=0)
            ch = int(np.argmin(values))
            pos = int(np.argmin(t[:, ch]))
        elif peak_sign == "pos":
            values = np.max(t, axis=0)
            ch = int(np.argmax(values))
            pos = int(np.argmax(t[:, ch]))
        else:
            values = np.max(np.abs(t), axis=0)
            ch = int(np.argmax(values))
            pos = int(np.argmax(np.abs(t[:, ch])))
        channels[u] = ch
        amplitudes[u] = values[ch]
        shifts[u] = pos - nbefore
    return channels, amplitudes, shifts


def radius_sparsity(locations: np.ndarray, extremum_channels: np.ndarray, radius_um: float) -> np.ndarray:
    """Channels whose Euclidean distance to the unit's extremum channel is <= radius_um."""
    num_channels = locations.shape[0]
    mask = np.zeros((len(extremum_channels), num_channels), dtype=bool)
    for u, e in enumerate(extremum_channels):
        for c in range(num_channels):
            d = np.sqrt(np.sum((locations[c].astype(np.float64) - locations[e].astype(np.float64)) ** 2))
            mask[u, c] = d <= radius_um
    return mask


def best_channels_sparsity(amplitudes: np.ndarray, num_channels: int) -> np.ndarray:
    """The ``num_channels`` channels of largest ``|amplitude|``; ties → higher channel index first."""
    mask = np.zeros(amplitudes.shape, dtype=bool)
    for u in range(amplitudes.shape[0]):
        order = np.argsort(np.abs(amplitudes[u]), kind="stable")[::-1]
        mask[u, order[:num_channels]] = True
    return mask


def snr_sparsity(amplitudes: np.ndarray, noise_levels: np.ndarray, threshold: float) -> np.ndarray:
    """``|amplitude| / noise_level >= threshold`` (SpikeInterface's "threshold"/"snr" rule)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return (np.abs(amplitudes.astype(np.float64)) / noise_levels.astype(np.float64)) >= threshold


def mad(data: np.ndarray) -> np.ndarray:
    """Median absolute deviation per channel, in float64, without the 1.4826 factor."""
    out = np.zeros(data.shape[1])
    for c in range(data.shape[1]):
        x = data[:, c].astype(np.float64)
        out[c] = np.median(np.abs(x - np.median(x)))
    return out
