"""Toy-data generators: SpikeInterface 0.105's ids, counts and defaults; determinism; lazy ground truth."""
import numpy as np
import pytest

from gpuspike import (NumpySorting, clean_refractory_period, generate_ground_truth_recording, generate_recording,
                      generate_snippets, generate_sorting, inject_some_duplicate_units, inject_some_split_units,
                      synthesize_random_firings, synthetize_spike_train_bad_isi)


def test_generate_recording_deterministic_and_chunk_independent():
    a = generate_recording(num_channels=3, sampling_frequency=1000.0, durations=[5.0, 2.0], seed=7)
    b = generate_recording(num_channels=3, sampling_frequency=1000.0, durations=[5.0, 2.0], seed=7)
    full = a.get_traces(segment_index=0)
    np.testing.assert_array_equal(full, b.get_traces(segment_index=0))
    np.testing.assert_array_equal(a.get_traces(segment_index=0, start_frame=1234, end_frame=3210), full[1234:3210])
    assert full.dtype == np.float32
    np.testing.assert_allclose(full.std(axis=0), 1.0, rtol=0.1)  # unit variance, as SpikeInterface's MockRecording
    assert list(a.channel_ids) == ["0", "1", "2"]
    assert a.get_num_samples(segment_index=1) == 2000
    assert not np.array_equal(full, generate_recording(num_channels=3, sampling_frequency=1000.0,
                                                       durations=[5.0, 2.0], seed=8).get_traces(segment_index=0))
    assert a.is_dumpable and a.is_filtered()
    shifted = generate_recording(num_channels=2, durations=[1.0, 1.0], t_starts=[2.0, 10.0], seed=1)
    assert shifted.get_start_time(1) == 10.0


def test_generate_sorting_rates_and_refractory():
    fs, durations, rate = 10000.0, [20.0, 10.0], 12.0
    s = generate_sorting(num_units=6, sampling_frequency=fs, durations=durations, firing_rates=rate,
                         refractory_period_ms=3.0, seed=1)
    assert list(s.unit_ids) == [str(i) for i in range(6)]
    expected = rate * sum(durations)
    counts = s.count_num_spikes_per_unit(outputs="array")
    assert np.all(np.abs(counts - expected) < 5 * np.sqrt(expected))
    for seg, dur in enumerate(durations):
        for u in s.unit_ids:
            st = s.get_unit_spike_train(u, segment_index=seg)
            assert np.all(np.diff(st) > 30)
            assert st.min() >= 0 and st.max() < dur * fs
    same = generate_sorting(num_units=6, sampling_frequency=fs, durations=durations, firing_rates=rate,
                            refractory_period_ms=3.0, seed=1)
    np.testing.assert_array_equal(same.to_spike_vector(), s.to_spike_vector())
    empty = generate_sorting(num_units=4, durations=[2.0], empty_units=[1, 3], seed=2)
    np.testing.assert_array_equal(empty.count_num_spikes_per_unit(outputs="array") == 0, [False, True, False, True])
    default = generate_sorting(seed=3)
    assert default.get_num_segments() == 2 and default.get_num_samples(1) == int(3.5 * 30000)
    borders = generate_sorting(num_units=3, durations=[1.0], add_spikes_on_borders=True, seed=4)
    samples = borders.to_spike_vector()["sample_index"]
    assert np.sum(samples < 20) >= 3 and np.sum(samples >= 30000 - 20) >= 3


def test_synthesize_random_firings_counts_and_clean_refractory():
    rates = [1.0, 5.0, 10.0, 20.0]
    times, labels = synthesize_random_firings(num_units=4, sampling_frequency=1000.0, duration=30.0,
                                              refractory_period_ms=5.0, firing_rates=rates, seed=0)
    assert np.all(np.diff(times) >= 0)
    # int(rate * duration) spikes per unit, as SpikeInterface (drawn with margin, refractory violations removed)
    np.testing.assert_array_equal(np.bincount(labels, minlength=4), [int(r * 30.0) for r in rates])
    for u in range(4):
        assert np.all(np.diff(times[labels == u]) >= 5)
    t = np.array([0.0, 0.001, 0.0015, 0.004, 0.0045, 0.01, 0.012])
    cleaned = clean_refractory_period(t, 0.002)
    # reference: repeatedly drop every spike at <= refractory after its predecessor
    ref = np.sort(t)
    while True:
        bad = np.flatnonzero(np.diff(ref) <= 0.002)
        if bad.size == 0:
            break
        ref = np.delete(ref, bad + 1)
    np.testing.assert_array_equal(cleaned, ref)


def test_bad_isi_train():
    train = synthetize_spike_train_bad_isi(duration=20.0, baseline_rate=10.0, num_violations=7,
                                           violation_delta=1e-5)
    regular = np.arange(1, 201) / 10.0  # a spike every 1 / baseline_rate, plus one 10 µs after each of the first 7
    np.testing.assert_allclose(train, np.sort(np.concatenate([regular, regular[:7] + 1e-5])), atol=1e-9)
    assert np.sum(np.diff(train) < 1e-4) == 7


def test_inject_duplicate_and_split_units():
    s = generate_sorting(num_units=4, durations=[5.0], sampling_frequency=1000.0, firing_rates=10.0, seed=3)
    dup = inject_some_duplicate_units(s, num=2, max_shift=3, seed=0)
    assert list(dup.unit_ids) == ["0", "1", "2", "3", "4", "5"]  # numbered on after the largest id
    for u in s.unit_ids:
        np.testing.assert_array_equal(dup.get_unit_spike_train(u), s.get_unit_spike_train(u))
    for k, new in enumerate(dup.unit_ids[4:]):
        source = s.get_unit_spike_train(s.unit_ids[k])
        new_train = dup.get_unit_spike_train(new)
        shifts = [d for d in range(-3, 4) if d != 0
                  and np.array_equal(np.sort(np.clip(source + d, 0, source[-1])), new_train)]
        assert shifts, f"unit {new} is not a shifted copy of unit {s.unit_ids[k]}"
    split, ids = inject_some_split_units(s, split_ids=["0", "2"], num_split=2, output_ids=True, seed=1)
    assert split.get_num_units() == 2 + 4 and ids == {"0": ["4", "5"], "2": ["6", "7"]}
    for u in ("0", "2"):
        parts = [split.get_unit_spike_train(n) for n in ids[u]]
        np.testing.assert_array_equal(np.sort(np.concatenate(parts)), s.get_unit_spike_train(u))
    np.testing.assert_array_equal(split.get_unit_spike_train("1"), s.get_unit_spike_train("1"))


def test_generate_snippets_match_recording_windows():
    snippets, sorting = generate_snippets(nbefore=5, nafter=10, num_channels=3, sampling_frequency=1000.0,
                                          durations=[3.0], num_units=3, seed=4)
    assert isinstance(sorting, NumpySorting)
    rec = generate_recording(num_channels=3, sampling_frequency=1000.0, durations=[3.0], seed=4)
    frames = snippets.get_frames()
    np.testing.assert_array_equal(frames, sorting.to_spike_vector()["sample_index"])  # every spike
    padded = np.concatenate([np.zeros((5, 3), "float32"), rec.get_traces(), np.zeros((10, 3), "float32")])
    cut = snippets.get_snippets()
    for i in range(len(frames)):
        np.testing.assert_array_equal(cut[i], padded[frames[i]:frames[i] + 15])


@pytest.fixture(scope="module")
def gt():
    return generate_ground_truth_recording(durations=[6.0], sampling_frequency=10000.0, num_channels=8,
                                           num_units=4, dtype="int16", gain_to_uV=0.5, seed=11,
                                           generate_sorting_kwargs=dict(firing_rates=8.0),
                                           noise_kwargs=dict(noise_levels=3.0))


def test_ground_truth_deterministic_and_chunk_independent(gt):
    rec, sorting = gt
    rec2, sorting2 = generate_ground_truth_recording(durations=[6.0], sampling_frequency=10000.0, num_channels=8,
                                                     num_units=4, dtype="int16", gain_to_uV=0.5, seed=11,
                                                     generate_sorting_kwargs=dict(firing_rates=8.0),
                                                     noise_kwargs=dict(noise_levels=3.0))
    a, b = 12345, 23456
    np.testing.assert_array_equal(rec.get_traces(start_frame=a, end_frame=b), rec2.get_traces(start_frame=a,
                                                                                            end_frame=b))
    np.testing.assert_array_equal(sorting.to_spike_vector(), sorting2.to_spike_vector())
    big = rec.get_traces(start_frame=10000, end_frame=40000)
    for lo, hi in [(a, b), (10000, 10001), (29999, 30050), (39000, 40000)]:
        np.testing.assert_array_equal(rec.get_traces(start_frame=lo, end_frame=hi), big[lo - 10000:hi - 10000])
    np.testing.assert_array_equal(rec.get_traces(start_frame=a, end_frame=b, channel_ids=["5", "2"]),
                                  big[a - 10000:b - 10000][:, [5, 2]])
    assert sorting.get_recording() is rec and rec.is_dumpable
    assert list(sorting.unit_ids) == ["0", "1", "2", "3"] and list(rec.channel_ids) == [str(i) for i in range(8)]
    from gpuspike import load

    np.testing.assert_array_equal(load(rec.to_dict()).get_traces(start_frame=a, end_frame=b),
                                  rec.get_traces(start_frame=a, end_frame=b))


def test_ground_truth_noise_level_is_the_earlier_name_of_noise_levels():
    kwargs = dict(durations=[1.0], num_channels=4, num_units=2, seed=5)
    rec_old, _ = generate_ground_truth_recording(noise_kwargs=dict(noise_level=2.0), **kwargs)
    rec_new, _ = generate_ground_truth_recording(noise_kwargs=dict(noise_levels=2.0), **kwargs)
    rec_default, _ = generate_ground_truth_recording(**kwargs)  # noise 5
    np.testing.assert_array_equal(rec_old.get_traces(), rec_new.get_traces())
    assert not np.array_equal(rec_old.get_traces(), rec_default.get_traces())
    with pytest.raises(ValueError, match="noise_levels or noise_level"):
        generate_ground_truth_recording(noise_kwargs=dict(noise_level=2.0, noise_levels=2.0), **kwargs)
    with pytest.raises(ValueError, match="unknown keys \\['noise'\\]"):
        generate_ground_truth_recording(noise_kwargs=dict(noise=2.0), **kwargs)


def test_ground_truth_defaults_as_spikeinterface():
    rec, sorting = generate_ground_truth_recording(durations=[3.0], seed=2)
    assert rec.sampling_frequency == 25000.0 and rec.get_num_channels() == 4 and sorting.get_num_units() == 10
    assert rec.templates.shape[1] == 25 + 75  # ms_before=1, ms_after=3
    rate = sorting.count_total_num_spikes() / (10 * 3.0)
    assert abs(rate - 15.0) < 5 * np.sqrt(15.0 * 30) / 30  # 15 Hz units
    assert rec.get_probe().get_contact_count() == 4 and rec.is_filtered()
    assert np.unique(rec.get_channel_locations()[:, 0]).size == 2  # two columns
    assert sorting.get_property("gt_unit_locations").shape == (10, 3)
    assert set(sorting.get_property("main_channel_id")) <= set(rec.channel_ids)


def test_ground_truth_int16_gains_and_templates_visible(gt):
    rec, sorting = gt
    assert rec.get_dtype() == np.int16
    np.testing.assert_array_equal(rec.get_channel_gains(), [0.5] * 8)
    tr = rec.get_traces(return_scaled=True).astype("float64")
    np.testing.assert_array_equal(tr, rec.get_traces().astype("float64") * 0.5)
    templates = rec.templates
    nbefore = rec.nbefore
    nsamples = templates.shape[1]
    amps = np.abs(templates).max(axis=(1, 2))
    assert np.sum(amps > 30) >= 1
    for u in np.flatnonzero(amps > 30):
        st = sorting.get_unit_spike_train(sorting.unit_ids[u])
        st = st[(st >= nbefore) & (st < tr.shape[0] - nsamples)]
        assert st.size > 10
        windows = tr[st[:, None] - nbefore + np.arange(nsamples)[None, :]]
        avg = windows.mean(axis=0)
        r = np.corrcoef(avg.ravel(), templates[u].ravel())[0, 1]
        assert r > 0.9, (u, r)


def test_generate_templates_takes_unit_params_range_of_spikeinterface_0_100():
    from gpuspike.core import generate_templates

    channels = np.c_[np.zeros(6), np.arange(6) * 20.0]
    units = np.array([[0.0, 30.0, 10.0], [5.0, 80.0, 15.0]])
    kwargs = dict(sampling_frequency=20000.0, seed=3)
    ranged = generate_templates(channels, units, unit_params_range={"alpha": (9000.0, 12000.0)}, **kwargs)
    np.testing.assert_array_equal(ranged, generate_templates(channels, units, unit_params={"alpha": (9000.0, 12000.0)},
                                                             **kwargs))
    np.testing.assert_array_equal(ranged, generate_templates(channels, units, unit_params_range={"alpha": [9000, 12000]},
                                                             **kwargs))  # as read back from JSON
    assert np.abs(ranged).max() > 1000 > np.abs(generate_templates(channels, units, **kwargs)).max()  # alpha <= 500
    fixed = generate_templates(channels, units, unit_params_range={"alpha": (9000.0, 12000.0)},
                               unit_params={"alpha": 300.0}, **kwargs)
    np.testing.assert_array_equal(fixed, generate_templates(channels, units, unit_params={"alpha": 300.0}, **kwargs))
    with pytest.raises(ValueError, match="unit_params_range\\['alpha'\\]=5.0: give a \\(low, high\\) pair"):
        generate_templates(channels, units, unit_params_range={"alpha": 5.0}, **kwargs)
    rec, _ = generate_ground_truth_recording(durations=[1.0], num_channels=4, num_units=2, seed=2,
                                             generate_templates_kwargs={"unit_params_range": {"alpha": (9000.0, 9001.0)}})
    from gpuspike import load

    np.testing.assert_array_equal(load(rec.to_dict()).get_traces(), rec.get_traces())
    assert np.abs(rec.templates).max() > 1000


def test_sorting_generator_draws_poisson_trains_lazily_and_reproducibly():
    import gpuspike as gs
    from gpuspike.core.generate import SortingGenerator

    fs, durations = 30000.0, [20.0, 5.0]
    rates = np.array([2.0, 10.0, 40.0, 0.0])
    sorting = SortingGenerator(num_units=4, sampling_frequency=fs, durations=durations, firing_rates=rates,
                               refractory_period_ms=np.array([4.0, 4.0, 2.0, 4.0]), seed=11)
    assert sorting.unit_ids.tolist() == ["0", "1", "2", "3"] and sorting.get_num_segments() == 2
    counts = sorting.count_num_spikes_per_unit(outputs="array")
    expected = rates * sum(durations)
    assert np.all(np.abs(counts - expected) <= 4 * np.sqrt(expected) + 1), (counts, expected)
    for segment_index, duration in enumerate(durations):
        num_samples = int(np.ceil(fs * duration))
        assert sorting.get_num_samples(segment_index) == num_samples
        for unit_index, unit_id in enumerate(sorting.unit_ids):
            train = sorting.get_unit_spike_train(unit_id, segment_index=segment_index)
            assert train.dtype == np.int64
            if train.size:
                assert train.min() >= 0 and train.max() < num_samples
                refractory_frames = int([4.0, 4.0, 2.0, 4.0][unit_index] / 1000 * fs)
                assert np.all(np.diff(train) > refractory_frames)
            # the same train on every call, and slices of it for a frame range
            np.testing.assert_array_equal(train, sorting.get_unit_spike_train(unit_id, segment_index=segment_index))
            part = sorting.get_unit_spike_train(unit_id, segment_index=segment_index, start_frame=30000,
                                                end_frame=90000)
            np.testing.assert_array_equal(part, train[(train >= 30000) & (train < 90000)])
    # the two segments are drawn from different seeds
    assert not np.array_equal(sorting.get_unit_spike_train("2", segment_index=0)[:20],
                              sorting.get_unit_spike_train("2", segment_index=1)[:20])
    # intervals of a Poisson train with a dead time: their mean is 1 / rate
    train = sorting.get_unit_spike_train("2", segment_index=0)
    assert np.mean(np.diff(train)) / fs == pytest.approx(1 / 40.0, rel=0.1)
    # a seed of None is drawn once and kept: the dict rebuilds the same trains
    lazy = SortingGenerator(num_units=2, durations=[3.0], firing_rates=5.0, seed=None)
    again = gs.load(lazy.to_dict())
    np.testing.assert_array_equal(again.to_spike_vector(), lazy.to_spike_vector())


@pytest.mark.parametrize("kwargs, match", [
    (dict(firing_rates=300.0, refractory_period_ms=4.0), "refractory period 4.0 ms is too long"),
    (dict(firing_rates=np.array([1.0, 2.0])), "firing_rates has 2 values for 3 units"),
    (dict(firing_rates=-1.0), "must not be negative"),
])
def test_sorting_generator_refuses_impossible_parameters(kwargs, match):
    from gpuspike.core.generate import SortingGenerator

    with pytest.raises(ValueError, match=match):
        SortingGenerator(num_units=3, durations=[1.0], **kwargs)
