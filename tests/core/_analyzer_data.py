"""Small recordings and NumPy references for the SortingAnalyzer tests.

The references cut windows from the raw traces and scale them here (``float32(raw) * gain +
offset``); samples outside a segment are 0 (SpikeInterface 0.105's rule); sparse rows hold the
unit's channels first, then zeros (SpikeInterface's layout of the ``waveforms`` extension).
"""
import numpy as np

import gpuspike as gs

FS = 10_000.0
NBEFORE, NAFTER = 4, 6
MS = dict(ms_before=0.4, ms_after=0.6)


def recording(dtype="int16", lengths=(900, 700), num_channels=6, seed=0, noise=None):
    """A NumpyRecording with per-channel gains and offsets and channel locations (20 µm pitch)."""
    rng = np.random.default_rng(seed)
    if noise is not None:
        traces = [rng.normal(0, noise, (n, num_channels)).astype(dtype) for n in lengths]
    elif np.dtype(dtype).kind == "f":
        traces = [rng.normal(0, 50, (n, num_channels)).astype(dtype) for n in lengths]
    else:
        traces = [rng.integers(-900, 900, (n, num_channels)).astype(dtype) for n in lengths]
    rec = gs.NumpyRecording(traces, FS)
    if noise is None:
        rec.set_channel_gains(rng.uniform(0.1, 3.0, num_channels).astype("float32"))
        rec.set_channel_offsets(rng.uniform(-20.0, 20.0, num_channels).astype("float32"))
    else:
        rec.set_channel_gains(np.ones(num_channels, "float32"))
        rec.set_channel_offsets(np.zeros(num_channels, "float32"))
    rec.set_channel_locations(np.stack([np.zeros(num_channels), 20.0 * np.arange(num_channels)], axis=1))
    return rec


def sorting(rec, num_units=3, per_segment=25, seed=1, edges=True):
    """Spikes of every unit in every segment, some at (and across) the segment edges."""
    rng = np.random.default_rng(seed)
    spikes = []
    for seg in range(rec.get_num_segments()):
        n = rec.get_num_samples(seg)
        s = rng.choice(np.arange(NBEFORE, n - NAFTER), per_segment, replace=False)
        if edges:
            s = np.concatenate([s, [1, n - 3]])
        labels = rng.integers(0, num_units, s.size)
        spikes.append({str(u): np.sort(s[labels == u]) for u in range(num_units)})
    return gs.NumpySorting.from_unit_dict(spikes, FS)


def traces(rec, seg, scaled):
    raw = rec.get_traces(segment_index=seg, return_scaled=False)
    if not scaled:
        return raw
    return raw.astype("float32") * rec.get_property("gain_to_uV").astype("float32") + \
        rec.get_property("offset_to_uV").astype("float32")


def waveforms(rec, spikes, scaled=True, mask=None, nbefore=NBEFORE, nafter=NAFTER):
    """Rows in spike order; with ``mask`` each row keeps its unit's channels first, then zeros."""
    all_traces = [traces(rec, s, scaled) for s in range(rec.get_num_segments())]
    num_channels = rec.get_num_channels()
    width = num_channels if mask is None else int(mask.sum(axis=1).max())
    out = np.zeros((spikes.size, nbefore + nafter, width), all_traces[0].dtype)
    for i, sp in enumerate(spikes):
        tr = all_traces[int(sp["segment_index"])]
        channels = np.arange(num_channels) if mask is None else np.flatnonzero(mask[int(sp["unit_index"])])
        for j in range(nbefore + nafter):
            t = int(sp["sample_index"]) - nbefore + j
            if 0 <= t < tr.shape[0]:
                out[i, j, :channels.size] = tr[t, channels]
    return out


def dense_templates(rows, unit_indices, num_units, num_channels, reduce, mask=None):
    """``reduce(waveforms of a unit)`` per unit, placed on the unit's channels (zeros elsewhere)."""
    out = np.zeros((num_units, rows.shape[1], num_channels))
    for u in range(num_units):
        mine = rows[unit_indices == u].astype("float64")
        if mine.shape[0] == 0:
            continue
        channels = np.arange(num_channels) if mask is None else np.flatnonzero(mask[u])
        out[u][:, channels] = reduce(mine)[:, :channels.size]
    return out


def assert_close(actual, desired, rtol=1e-6):
    """Relative to each array's largest magnitude."""
    desired = np.asarray(desired, dtype="float64")
    atol = rtol * float(np.abs(desired).max()) if desired.size else 0.0
    np.testing.assert_allclose(np.asarray(actual, dtype="float64"), desired, rtol=rtol, atol=atol)


def sparsity_around(rec, srt, main, radius=25.0):
    """The radius sparsity around given main channels (computed here from the locations)."""
    locations = rec.get_channel_locations()
    distances = np.linalg.norm(locations[np.asarray(main)][:, None, :] - locations[None, :, :], axis=2)
    return gs.ChannelSparsity(distances <= radius, srt.unit_ids, rec.channel_ids)
