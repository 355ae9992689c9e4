"""Independent NumPy references for the WaveformExtractor tests (written from the rules, not the code)."""
import numpy as np

import gpuspike as gs

JOB = dict(progress_bar=False)


def fixture_scaling(num_channels, gain=0.5):
    """The per-channel gains and non-zero offsets (float32) that :func:`gt` sets on integer recordings.

    Gains differ by channel and offsets are not 0, so a gather that indexes gains by its sparse
    slot instead of the channel, or that reads offsets as 0, gives wrong waveforms.
    """
    gains = (gain * np.linspace(0.8, 1.25, num_channels)).astype("float32")
    offsets = np.linspace(-35.0, 20.0, num_channels).astype("float32")
    return gains, offsets


def gt(seed=0, num_channels=16, num_units=5, durations=(2.0,), rate=15.0, dtype="int16", gain=0.5):
    """A small dumpable ground-truth recording + sorting; integer traces get :func:`fixture_scaling`'s
    per-channel gains and offsets (float traces have none)."""
    kw = dict(durations=list(durations), num_channels=num_channels, num_units=num_units, seed=seed,
              generate_sorting_kwargs=dict(firing_rates=rate, refractory_period_ms=4.0), dtype=dtype)
    if np.dtype(dtype).kind in "iu":
        kw["gain_to_uV"] = gain
    recording, sorting = gs.generate_ground_truth_recording(**kw)
    if np.dtype(dtype).kind in "iu":
        set_test_scaling(recording, *fixture_scaling(num_channels, gain))
    return recording, sorting


#: id(recording) -> (recording, gains, offsets) that a test set on it
_TEST_SCALING: dict = {}


def set_test_scaling(recording, gains, offsets) -> None:
    """Set per-channel gains and offsets on ``recording`` and remember them for :func:`ref_traces`."""
    gains, offsets = np.asarray(gains, "float32"), np.asarray(offsets, "float32")
    recording.set_channel_gains(gains)
    recording.set_channel_offsets(offsets)
    _TEST_SCALING[id(recording)] = (recording, gains, offsets)


def ref_traces(recording, segment_index, return_scaled):
    """Traces scaled here as ``raw * gains + offsets`` (float32) from the values the test set with
    :func:`set_test_scaling`, not through the library's scaling."""
    raw = recording.get_traces(segment_index=segment_index, return_scaled=False)
    if not return_scaled or raw.dtype.kind == "f":
        return raw
    entry = _TEST_SCALING.get(id(recording))
    assert entry is not None and entry[0] is recording, "scale only recordings whose gains the test set"
    _, gains, offsets = entry
    return raw.astype("float32") * gains + offsets


def ref_select(sorting, max_spikes_per_unit, seed):
    """SpikeInterface's "uniform" rule: units in order, rng.choice(..., replace=False, shuffle=False), sorted."""
    spikes = sorting.to_spike_vector()
    if max_spikes_per_unit is None:
        return np.arange(spikes.size)
    rng = np.random.default_rng(seed)
    out = []
    for u in range(len(sorting.unit_ids)):
        idx = np.flatnonzero(spikes["unit_index"] == u)
        out.append(rng.choice(idx, size=min(max_spikes_per_unit, idx.size), replace=False, shuffle=False))
    return np.sort(np.concatenate(out))


def nb_na(recording, ms_before, ms_after):
    fs = recording.sampling_frequency
    return int(ms_before * fs / 1000.0), int(ms_after * fs / 1000.0)


def ref_waveforms(recording, sorting, selected, ms_before=1.0, ms_after=2.0, return_scaled=True, dtype=None):
    """{unit_id: (n, nsamples, C)} cut from get_traces; an edge spike's window is partially filled
    (samples outside the segment are 0), as SpikeInterface 0.105 does."""
    nbefore, nafter = nb_na(recording, ms_before, ms_after)
    traces = [ref_traces(recording, s, return_scaled) for s in range(recording.get_num_segments())]
    if dtype is None:
        dtype = traces[0].dtype
    spikes = sorting.to_spike_vector()[np.asarray(selected, dtype=int)]
    out = {}
    for u, unit_id in enumerate(sorting.unit_ids.tolist()):
        mine = spikes[spikes["unit_index"] == u]
        wfs = np.zeros((mine.size, nbefore + nafter, recording.get_num_channels()), dtype=dtype)
        for i, sp in enumerate(mine):
            tr = traces[sp["segment_index"]]
            s = int(sp["sample_index"])
            for j in range(nbefore + nafter):
                if 0 <= s - nbefore + j < tr.shape[0]:
                    wfs[i, j] = tr[s - nbefore + j]
        out[unit_id] = wfs
    return out


def ref_sampled_indices(sorting, selected, unit_id):
    """(spike_index within the unit's train in its segment, segment_index) of the unit's selected spikes."""
    spikes = sorting.to_spike_vector()
    u = int(np.flatnonzero(sorting.unit_ids == unit_id)[0])
    rows = []
    for i in np.asarray(selected, dtype=int):
        sp = spikes[i]
        if sp["unit_index"] != u:
            continue
        seg = int(sp["segment_index"])
        train = sorting.get_unit_spike_train(unit_id, segment_index=seg)
        rows.append((int(np.flatnonzero(train == sp["sample_index"])[0]), seg))
    return np.array(rows, dtype=np.int64).reshape(-1, 2)


def ref_templates(wfs_by_unit, unit_ids, mode, percentile=None):
    temps = []
    for u in unit_ids.tolist():
        w = np.asarray(wfs_by_unit[u], dtype="float64")
        if mode == "average":
            temps.append(w.sum(axis=0) / w.shape[0])
        elif mode == "std":
            temps.append(np.sqrt(((w - w.mean(axis=0)) ** 2).mean(axis=0)))
        elif mode == "median":
            temps.append(np.median(w, axis=0))
        else:
            temps.append(np.percentile(w, percentile, axis=0))
    return np.stack(temps)


def assert_close(actual, desired, rtol=1e-6):
    """Relative tolerance ``rtol``, with an absolute floor of rtol * max|desired| (values near zero)."""
    desired = np.asarray(desired, dtype="float64")
    atol = rtol * float(np.abs(desired).max()) if desired.size else 0.0
    np.testing.assert_allclose(np.asarray(actual, dtype="float64"), desired, rtol=rtol, atol=atol)
