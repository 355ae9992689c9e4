"""Every example of the core-module specification runs (typos of the text aside).

Sections: Import rules, Recording, Sorting, Event, Snippets, Handling probes, Object
"in-memory", Manipulating objects, Working with multiple segments, Generate toy objects.
Each example is followed by asserts against values computed independently with NumPy.
"""
import numpy as np
import pytest

import gpuspike as si
from gpuspike import (NumpyEvent, NumpyRecording, NumpySorting, aggregate_channels, aggregate_units,
                      append_recordings, append_sortings, concatenate_recordings, generate_recording,
                      generate_snippets, generate_sorting, select_segment_recording, select_segment_sorting,
                      split_recording, split_sorting)


def test_import_rules():
    import gpuspike as si2

    assert si2 is si
    assert hasattr(si, "BaseRecording") and hasattr(si, "generate_recording")
    # the full flattened module exposes the core names and the submodules' names
    import gpuspike.extractors as se
    import gpuspike.full as sif
    import gpuspike.widgets as sw

    assert sif.NumpyRecording is si.NumpyRecording
    assert sif.read_spikeglx is se.read_spikeglx and sif.plot_traces is sw.plot_traces
    assert set(si.__all__) <= set(sif.__all__)


@pytest.fixture
def recording16():
    rng = np.random.default_rng(0)
    traces = rng.integers(-500, 500, size=(3 * 1000, 16)).astype("int16")
    rec = NumpyRecording([traces], sampling_frequency=1000.0)
    rec.set_channel_gains(0.195)
    rec.set_channel_offsets(-3.0)
    return rec, traces


def test_spec_recording(recording16):
    recording, ref = recording16
    channel_ids = recording.channel_ids
    num_channels = recording.get_num_channels()
    sampling_frequency = recording.sampling_frequency
    assert num_channels == 16 and sampling_frequency == 1000.0
    num_samples_segment = recording.get_num_samples(segment_index=0)
    num_total_samples = recording.get_total_samples()
    total_duration = recording.get_total_duration()
    assert num_samples_segment == num_total_samples == 3000 and total_duration == pytest.approx(3.0)

    traces = recording.get_traces(start_frame=100, end_frame=200, segment_index=0)
    np.testing.assert_array_equal(traces, ref[100:200])
    assert traces.dtype == np.int16
    traces_slice = recording.get_traces(start_frame=100, end_frame=200, segment_index=0,
                                        channel_ids=channel_ids[:4])
    np.testing.assert_array_equal(traces_slice, ref[100:200, :4])
    traces_uV = recording.get_traces(start_frame=100, end_frame=200, segment_index=0, return_scaled=True)
    assert traces_uV.dtype == np.float32
    np.testing.assert_allclose(traces_uV, ref[100:200].astype("float64") * 0.195 - 3.0, rtol=1e-5, atol=1e-3)

    recording.set_property(key="quality", values=["good"] * num_channels)
    quality_values = recording.get_property("quality")
    assert list(quality_values) == ["good"] * 16
    property_keys = recording.get_property_keys()
    assert {"quality", "gain_to_uV", "offset_to_uV"} <= set(property_keys)

    recording.annotate(date="Recording acquired today")
    assert recording.get_annotation(key="date") == "Recording acquired today"

    recording_slice_frames = recording.frame_slice(start_frame=0, end_frame=int(1 * sampling_frequency))
    assert recording_slice_frames.get_num_samples() == 1000
    np.testing.assert_array_equal(recording_slice_frames.get_traces(), ref[:1000])
    recording_slice_chans = recording.channel_slice(channel_ids=channel_ids[:4])
    np.testing.assert_array_equal(recording_slice_chans.get_traces(), ref[:, :4])
    assert list(recording_slice_chans.get_property("quality")) == ["good"] * 4
    recording_rm_chans = recording.remove_channels(channel_ids=channel_ids[-2:])
    np.testing.assert_array_equal(recording_rm_chans.get_traces(), ref[:, :-2])
    np.testing.assert_array_equal(recording_rm_chans.channel_ids, channel_ids[:-2])

    groups = [0] * 4 + [1] * 4 + [2] * 4 + [3] * 4
    recording.set_channel_groups(groups)
    recording_by_group = recording.split_by("group")
    assert sorted(recording_by_group) == [0, 1, 2, 3]
    for g, sub in recording_by_group.items():
        np.testing.assert_array_equal(sub.get_traces(), ref[:, 4 * g:4 * g + 4])
        np.testing.assert_array_equal(sub.get_channel_groups(), [g] * 4)

    num_samples = num_samples_segment
    timestamps = np.arange(num_samples) / sampling_frequency + 300
    recording.set_times(timestamps, segment_index=0)
    np.testing.assert_array_equal(recording.get_times(segment_index=0), timestamps)
    assert recording.has_time_vector(segment_index=0)


def test_spec_sorting(recording16):
    recording, _ = recording16
    sorting = generate_sorting(num_units=10, sampling_frequency=1000.0, durations=[3.0], firing_rates=20.0, seed=3)
    unit_ids = sorting.unit_ids  # (the text's "sorting.channel_ids" is a typo)
    num_units = sorting.get_num_units()
    assert num_units == 10
    sampling_frequency = sorting.sampling_frequency
    unit0 = unit_ids[0]
    spike_train = sorting.get_unit_spike_train(unit_id=unit0, segment_index=0)
    assert spike_train.dtype.kind == "i" and np.all(np.diff(spike_train) > 0)
    spike_train_slice = sorting.get_unit_spike_train(unit_id=unit0, start_frame=100, end_frame=2000,
                                                     segment_index=0)
    np.testing.assert_array_equal(spike_train_slice, spike_train[(spike_train >= 100) & (spike_train < 2000)])

    sorting.set_property(key="quality", values=["good"] * num_units)
    assert list(sorting.get_property("quality")) == ["good"] * 10
    assert "quality" in sorting.get_property_keys()
    sorting.annotate(date="Spike sorted today")
    assert sorting.get_annotation(key="date") == "Spike sorted today"

    sorting_slice_frames = sorting.frame_slice(start_frame=0, end_frame=int(1 * sampling_frequency))
    np.testing.assert_array_equal(sorting_slice_frames.get_unit_spike_train(unit0, segment_index=0),
                                  spike_train[spike_train < 1000])
    sorting_select_units = sorting.select_units(unit_ids=unit_ids[:4])
    np.testing.assert_array_equal(sorting_select_units.unit_ids, unit_ids[:4])

    timestamps = np.arange(recording.get_num_samples()) / recording.sampling_frequency + 300
    recording.set_times(timestamps, segment_index=0)
    sorting.register_recording(recording)
    spike_train_s = sorting.get_unit_spike_train(unit_id=unit0, segment_index=0, return_times=True)
    np.testing.assert_allclose(spike_train_s, spike_train / sampling_frequency + 300)


def test_spec_event():
    dtype = np.dtype([("time", "<f8"), ("duration", "<f8"), ("label", "<U100")])
    ev0 = np.array([(2.5, 0.5, "stim"), (0.5, 0.1, "tone")], dtype=dtype)
    ev1 = np.array([(1.0, 0.2, "a")], dtype=dtype)
    event = NumpyEvent.from_dict([{"ttl0": ev0, "ttl1": ev1}])
    channel_ids = event.channel_ids
    num_channels = event.get_num_channels()
    assert num_channels == 2 and list(channel_ids) == ["ttl0", "ttl1"]
    event_dtype = event.get_dtype(channel_ids[0])
    assert event_dtype == dtype
    events = event.get_events(channel_id=channel_ids[0], segment_index=0)
    np.testing.assert_array_equal(events, np.sort(ev0, order="time"))
    event_times = event.get_event_times(channel_id=channel_ids[0], segment_index=0)
    np.testing.assert_array_equal(event_times, [0.5, 2.5])


def test_spec_snippets():
    snippets, sorting = generate_snippets(nbefore=20, nafter=40, num_channels=16, sampling_frequency=30000.0,
                                          durations=[1.0, 0.5], num_units=5, seed=2)
    channel_ids = snippets.channel_ids
    assert snippets.get_num_channels() == 16
    num_snippets = snippets.get_num_snippets(segment_index=0)
    total_snippets = snippets.get_total_snippets()
    assert total_snippets == num_snippets + snippets.get_num_snippets(segment_index=1)
    nbefore = snippets.nbefore
    nsamples_per_snippet = snippets.snippet_len
    nafter = nsamples_per_snippet - nbefore
    assert (nbefore, nafter) == (20, 40)
    frames = snippets.get_frames(segment_index=0)
    assert frames.shape == (num_snippets,)
    snippet_cutouts = snippets.get_snippets(segment_index=0)
    assert snippet_cutouts.shape == (num_snippets, 60, 16)
    snippet_cutouts_slice = snippets.get_snippets(channel_ids=channel_ids[:4], segment_index=0)
    np.testing.assert_array_equal(snippet_cutouts_slice, snippet_cutouts[:, :, :4])


def _multi_shank_probe_with_wiring(seed=0):
    from probeinterface import generate_multi_shank

    probe = generate_multi_shank(num_shank=4, num_columns=2, num_contact_per_column=8)
    wiring = np.random.default_rng(seed).permutation(64)  # like 'ASSY-156>RHD2164'
    probe.set_device_channel_indices(wiring)
    return probe, wiring


def test_spec_handling_probes():
    rng = np.random.default_rng(1)
    traces = rng.standard_normal((500, 64)).astype("float32")
    recording = NumpyRecording([traces], 30000.0)
    probe, wiring = _multi_shank_probe_with_wiring()
    contact_of_channel = np.argsort(wiring)  # channel c is contact wiring^-1[c]

    # every channel wired: attached in place and returned (SpikeInterface 0.105's in-place
    # set_probe, and the specification's assignment, both hold); "auto" groups (0.105's default)
    # follow the shanks
    recording_w_probe = recording.set_probe(probe)
    assert recording_w_probe is recording and recording.has_probe()
    np.testing.assert_allclose(recording_w_probe.get_channel_locations(),
                               probe.contact_positions[contact_of_channel])
    shank_of_channel = probe.shank_ids[contact_of_channel].astype(int)
    np.testing.assert_array_equal(recording_w_probe.get_channel_groups(), shank_of_channel)
    by_probe = recording.set_probe(probe, group_mode="by_probe", in_place=False)
    np.testing.assert_array_equal(by_probe.get_channel_groups(), np.zeros(64))
    recording_w_probe = recording.set_probe(probe, group_mode="by_shank")
    np.testing.assert_array_equal(recording_w_probe.get_channel_groups(), shank_of_channel)
    assert set(recording_w_probe.split_by("group")) == {0, 1, 2, 3}
    ret = recording.set_probe(probe, group_mode="by_shank", in_place=True)
    assert ret is recording and recording.has_probe()

    probe_from_recording = recording.get_probe()
    assert probe_from_recording.get_contact_count() == 64
    np.testing.assert_allclose(probe_from_recording.contact_positions, probe.contact_positions[contact_of_channel])
    np.testing.assert_array_equal(probe_from_recording.shank_ids, probe.shank_ids[contact_of_channel])
    locations = recording.get_channel_locations()
    np.testing.assert_array_equal(locations, recording.get_property("location"))
    np.testing.assert_array_equal(recording.get_traces(), traces)


def test_spec_in_memory():
    sampling_frequency = 30_000.0
    duration = 1.0
    num_samples = int(duration * sampling_frequency)
    num_channels = 16
    random_traces = np.random.randn(num_samples, num_channels)
    with pytest.warns(UserWarning, match="30000.0 Hz assumed"):
        recording_memory = NumpyRecording(traces_list=[random_traces])
    assert recording_memory.sampling_frequency == sampling_frequency
    np.testing.assert_array_equal(recording_memory.get_traces(), random_traces)
    assert not recording_memory.is_dumpable

    num_units = 10
    num_spikes_unit = 100
    spike_trains = []
    labels = []
    for i in range(num_units):
        spike_trains_i = np.random.randint(low=0, high=num_samples, size=num_spikes_unit)
        labels_i = [i] * num_spikes_unit
        spike_trains += spike_trains_i.tolist()  # list semantics: the text's `+=` of an array extends a list
        labels += labels_i
    sorting_memory = NumpySorting.from_times_labels(times=spike_trains, labels=labels,
                                                    sampling_frequency=sampling_frequency)
    times, labs = np.asarray(spike_trains), np.asarray(labels)
    assert sorting_memory.get_num_units() == num_units
    for i in range(num_units):
        np.testing.assert_array_equal(sorting_memory.get_unit_spike_train(i), np.sort(times[labs == i]))
    # the text's `spike_trains += spike_trains_i` is meant as list extension: a list of arrays
    # per unit gives the same sorting once flattened
    flat = NumpySorting.from_times_labels(np.concatenate([times[labs == i] for i in range(num_units)]),
                                          np.repeat(np.arange(num_units), num_spikes_unit), sampling_frequency)
    np.testing.assert_array_equal(flat.to_spike_vector(), sorting_memory.to_spike_vector())


def test_spec_manipulating_objects():
    fs = 1000.0
    rng = np.random.default_rng(5)
    ref = rng.standard_normal((20 * 60 * 1000 // 100, 40)).astype("float32")  # 12 s, 40 channels
    rec = NumpyRecording([ref], fs)
    recording = rec
    sorting = generate_sorting(num_units=8, sampling_frequency=fs, durations=[ref.shape[0] / fs], firing_rates=5,
                               seed=1)
    keep_ids = rec.channel_ids[::10]
    sub_recording = rec.channel_slice(channel_ids=keep_ids)
    np.testing.assert_array_equal(sub_recording.get_traces(), ref[:, ::10])
    sub_recording = recording.frame_slice(start_frame=int(fs * 5), end_frame=int(fs * 10))
    np.testing.assert_array_equal(sub_recording.get_traces(), ref[5000:10000])
    sub_sorting = sorting.frame_slice(start_frame=int(fs * 5), end_frame=int(fs * 10))
    for u in sorting.unit_ids:
        st = sorting.get_unit_spike_train(u)
        np.testing.assert_array_equal(sub_sorting.get_unit_spike_train(u), st[(st >= 5000) & (st < 10000)] - 5000)
    sub_sorting = sorting.select_units(unit_ids=sorting.unit_ids[:4])
    assert list(sub_sorting.unit_ids) == ["0", "1", "2", "3"]  # generators give string ids (SpikeInterface 0.105)

    recA_4_chans = NumpyRecording([ref[:, :4]], fs)
    recB_4_chans = NumpyRecording([ref[:, 4:8]], fs)
    rec_8_chans = aggregate_channels([recA_4_chans, recB_4_chans])
    np.testing.assert_array_equal(rec_8_chans.get_traces(), ref[:, :8])

    sortingA = generate_sorting(num_units=10, sampling_frequency=fs, durations=[2.0], seed=1)
    sortingB = generate_sorting(num_units=10, sampling_frequency=fs, durations=[2.0], seed=2)
    sorting_20_units = aggregate_units([sortingA, sortingB])
    assert sorting_20_units.get_num_units() == 20
    for k, u in enumerate(sorting_20_units.unit_ids):
        src = sortingA if k < 10 else sortingB
        np.testing.assert_array_equal(sorting_20_units.get_unit_spike_train(u),
                                      src.get_unit_spike_train(src.unit_ids[k % 10]))


def test_spec_multiple_segments():
    rng = np.random.default_rng(0)
    segs2 = [rng.standard_normal((n, 3)).astype("float32") for n in (50, 70)]
    segs3 = [rng.standard_normal((n, 3)).astype("float32") for n in (20, 30, 40)]
    recording2 = NumpyRecording(segs2, 1000.0)
    recording3 = NumpyRecording(segs3, 1000.0)
    recording5 = append_recordings([recording2, recording3])
    assert recording5.get_num_segments() == 5
    all5 = segs2 + segs3
    for i in range(5):
        np.testing.assert_array_equal(recording5.get_traces(segment_index=i), all5[i])
    recording_mono = concatenate_recordings([recording2, recording5])
    assert recording_mono.get_num_segments() == 1
    np.testing.assert_array_equal(recording_mono.get_traces(), np.concatenate(segs2 + all5))
    recording_mono_list = split_recording(recording5)
    assert len(recording_mono_list) == 5
    for i, r in enumerate(recording_mono_list):
        assert r.get_num_segments() == 1
        np.testing.assert_array_equal(r.get_traces(), all5[i])
    recording_select1 = select_segment_recording(recording5, segment_indices=3)
    assert recording_select1.get_num_segments() == 1
    np.testing.assert_array_equal(recording_select1.get_traces(), all5[3])
    recording_select2 = select_segment_recording(recording5, segment_indices=[0, 4])
    assert recording_select2.get_num_segments() == 2
    np.testing.assert_array_equal(recording_select2.get_traces(segment_index=1), all5[4])

    sorting2 = generate_sorting(num_units=3, sampling_frequency=1000.0, durations=[1.0, 2.0], firing_rates=10, seed=1)
    sorting3 = generate_sorting(num_units=3, sampling_frequency=1000.0, durations=[1.0, 1.0, 1.5], firing_rates=10,
                                seed=2)
    sorting5 = append_sortings([sorting2, sorting3])
    assert sorting5.get_num_segments() == 5
    src = [(sorting2, 0), (sorting2, 1), (sorting3, 0), (sorting3, 1), (sorting3, 2)]
    for i, (s, seg) in enumerate(src):
        np.testing.assert_array_equal(sorting5.get_unit_spike_train("2", segment_index=i),
                                      s.get_unit_spike_train("2", segment_index=seg))
    parts = split_sorting(sorting5)
    assert len(parts) == 5
    np.testing.assert_array_equal(parts[3].get_unit_spike_train("1"),
                                  sorting3.get_unit_spike_train("1", segment_index=1))
    sel = select_segment_sorting(sorting5, segment_indices=[0, 4])
    np.testing.assert_array_equal(sel.get_unit_spike_train("0", segment_index=1),
                                  sorting3.get_unit_spike_train("0", segment_index=2))


def test_spec_generate_toy_objects():
    recording = generate_recording(num_channels=4, sampling_frequency=30000.0, durations=[10.325, 3.5],
                                   set_probe=True)
    assert recording.get_num_segments() == 2 and recording.get_num_channels() == 4
    assert recording.get_num_samples(segment_index=0) == int(round(10.325 * 30000))
    assert recording.get_num_samples(segment_index=1) == 105000
    assert recording.has_probe() and recording.get_channel_locations().shape == (4, 2)

    sorting = generate_sorting(num_units=5, sampling_frequency=30000.0, durations=[10.325, 3.5],
                               firing_rate=15, refractory_period=1.5)
    assert sorting.get_num_units() == 5 and sorting.get_num_segments() == 2
    counts = sorting.count_num_spikes_per_unit(outputs="array")
    assert np.all(np.abs(counts - 15 * 13.825) < 6 * np.sqrt(15 * 13.825))
    for u in sorting.unit_ids:
        for seg in range(2):
            assert np.all(np.diff(sorting.get_unit_spike_train(u, segment_index=seg)) >= int(1.5 * 30))

    snippets, snippets_sorting = generate_snippets(nbefore=20, nafter=40, num_channels=2,
                                                   sampling_frequency=30000.0, durations=[10.325, 3.5],
                                                   set_probe=True, num_units=5)
    assert snippets.snippet_len == 60 and snippets.nbefore == 20 and snippets.get_num_channels() == 2
    assert snippets.get_num_segments() == 2 and snippets.has_probe()
    assert snippets_sorting.get_num_units() == 5
    for seg in range(2):
        frames = snippets.get_frames(segment_index=seg)
        spikes = snippets_sorting.to_spike_vector(concatenated=False)[seg]["sample_index"]
        assert np.all(np.isin(frames, spikes))
