"""Small recordings and independent NumPy references for the block-engine tests.

Recordings have per-channel gains and non-zero offsets, several segments, and spikes at the
segment edges; the references cut windows from raw traces and scale them themselves
(``float32(raw) * gain + offset``), never through the library's scaling.
"""
import numpy as np

import gpuspike as gs

FS = 10_000.0
NBEFORE, NAFTER = 4, 6  # ms_before=0.4, ms_after=0.6 at 10 kHz
MS = dict(ms_before=0.4, ms_after=0.6)


def recording(dtype="int16", lengths=(700, 500), num_channels=5, seed=0):
    """A NumpyRecording with random traces, per-channel gains and offsets, and channel locations."""
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        traces = [rng.normal(0, 50, (n, num_channels)).astype(dtype) for n in lengths]
    else:
        traces = [rng.integers(-900, 900, (n, num_channels)).astype(dtype) for n in lengths]
    rec = gs.NumpyRecording(traces, FS)
    rec.set_channel_gains(rng.uniform(0.1, 3.0, num_channels).astype("float32"))
    rec.set_channel_offsets(rng.uniform(-20.0, 20.0, num_channels).astype("float32"))
    rec.set_channel_locations(np.stack([np.zeros(num_channels), 20.0 * np.arange(num_channels)], axis=1))
    return rec


def sorting(rec, num_units=3, per_segment=14, seed=1, edges=True):
    """Spikes of ``num_units`` units in every segment, a few at (and across) the segment edges."""
    rng = np.random.default_rng(seed)
    samples, labels, segments = [], [], []
    for seg in range(rec.get_num_segments()):
        n = rec.get_num_samples(seg)
        s = rng.choice(np.arange(NBEFORE, n - NAFTER), per_segment, replace=False)
        if edges:
            s = np.concatenate([s, [0, 2, n - 3, n - NAFTER]])  # edge spikes, and one just inside
        samples.append(np.sort(s))
        labels.append(rng.integers(0, num_units, s.size))
        segments.append(seg)
    spikes = [{str(u): samples[i][labels[i] == u] for u in range(num_units)} for i in range(len(samples))]
    return gs.NumpySorting.from_unit_dict(spikes, FS)


def scaled_traces(rec, seg):
    """float32 µV traces computed here from the raw traces and the recording's properties."""
    raw = rec.get_traces(segment_index=seg, return_scaled=False)
    gains = rec.get_property("gain_to_uV").astype("float32")
    offsets = rec.get_property("offset_to_uV").astype("float32")
    return raw.astype("float32") * gains + offsets


def windows(rec, srt, spike_indices, scaled=True):
    """{unit_id: waveforms} of the spikes ``spike_indices`` of the spike vector; samples outside the
    segment are 0 (SpikeInterface 0.105's edge rule)."""
    traces = [scaled_traces(rec, s) if scaled else rec.get_traces(segment_index=s, return_scaled=False)
              for s in range(rec.get_num_segments())]
    spikes = srt.to_spike_vector()[np.asarray(spike_indices, dtype=int)]
    out = {}
    for u, unit_id in enumerate(srt.unit_ids.tolist()):
        mine = spikes[spikes["unit_index"] == u]
        w = np.zeros((mine.size, NBEFORE + NAFTER, rec.get_num_channels()), traces[0].dtype)
        for i, sp in enumerate(mine):
            tr = traces[int(sp["segment_index"])]
            for j in range(NBEFORE + NAFTER):
                t = int(sp["sample_index"]) - NBEFORE + j
                if 0 <= t < tr.shape[0]:
                    w[i, j] = tr[t]
        out[unit_id] = w
    return out


def mean_std(waveforms_by_unit, unit_ids):
    """float64 mean and population std per unit (zeros for a unit without waveforms)."""
    means, stds = [], []
    for u in unit_ids.tolist():
        w = np.asarray(waveforms_by_unit[u], dtype="float64")
        if w.shape[0] == 0:
            means.append(np.zeros(w.shape[1:]))
            stds.append(np.zeros(w.shape[1:]))
            continue
        m = w.sum(axis=0) / w.shape[0]
        means.append(m)
        stds.append(np.sqrt(((w - m) ** 2).mean(axis=0)))
    return np.stack(means), np.stack(stds)


def assert_close(actual, desired, rtol=1e-6):
    """Relative tolerance with an absolute floor of rtol * max|desired|."""
    desired = np.asarray(desired, dtype="float64")
    atol = rtol * float(np.abs(desired).max()) if desired.size else 0.0
    np.testing.assert_allclose(np.asarray(actual, dtype="float64"), desired, rtol=rtol, atol=atol)
