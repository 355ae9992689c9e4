"""Sortings: spike vector, counts, constructors, string ids."""
import numpy as np
import pytest

import gpuspike as gs
from gpuspike import NumpySorting, generate_sorting, spike_dtype


def _random_trains(seed=0, nseg=2, units=("u0", "u1", "u2")):
    rng = np.random.default_rng(seed)
    return [{u: np.unique(rng.integers(0, 500, rng.integers(0, 40))) for u in units} for _ in range(nseg)]


def _ref_vector(trains, unit_ids):
    rows = [(t, unit_ids.index(u), seg) for seg, d in enumerate(trains) for u, tr in d.items() for t in tr]
    arr = np.array(rows, dtype="int64").reshape(-1, 3)
    return arr[np.lexsort((arr[:, 1], arr[:, 0], arr[:, 2]))]


def _as_rows(vec):
    return np.stack([vec["sample_index"], vec["unit_index"], vec["segment_index"]], axis=1)


def test_spike_vector_sorted_cached_and_per_segment():
    trains = _random_trains()
    units = ["u0", "u1", "u2"]
    s = NumpySorting.from_unit_dict(trains, 1000.0)
    assert s.unit_ids.dtype.kind == "U"
    vec = s.to_spike_vector()
    assert vec.dtype == spike_dtype
    np.testing.assert_array_equal(_as_rows(vec), _ref_vector(trains, units))
    assert s.to_spike_vector() is vec  # cached
    per_seg = s.to_spike_vector(concatenated=False)
    assert len(per_seg) == 2
    for seg in range(2):
        np.testing.assert_array_equal(per_seg[seg], vec[vec["segment_index"] == seg])
    # a view recomputes from its parent: its spikes in the parent's order (simultaneous ones
    # included, as SpikeInterface's selection keeps them), relabeled
    view = s.select_units(["u2", "u0"])
    v = view.to_spike_vector()
    parent_rows = _ref_vector(trains, units)
    kept = np.isin(parent_rows[:, 1], [2, 0])
    ref = parent_rows[kept].copy()
    ref[:, 1] = np.where(ref[:, 1] == 2, 0, 1)
    np.testing.assert_array_equal(_as_rows(v), ref)
    ext = s.to_spike_vector(extremum_channel_inds={"u0": 4, "u1": 5, "u2": 6})
    np.testing.assert_array_equal(ext["channel_index"], np.array([4, 5, 6])[vec["unit_index"]])


def test_counts():
    trains = _random_trains(seed=1)
    s = NumpySorting.from_unit_dict(trains, 1000.0)
    expected = {u: sum(len(d[u]) for d in trains) for u in trains[0]}
    assert s.count_num_spikes_per_unit() == expected
    np.testing.assert_array_equal(s.count_num_spikes_per_unit(outputs="array"), list(expected.values()))
    assert s.get_total_num_spikes() == expected
    assert s.count_total_num_spikes() == sum(expected.values())


def test_constructors_agree():
    trains = _random_trains(seed=2, units=(3, 7, 11))
    units = [3, 7, 11]
    a = NumpySorting.from_unit_dict(trains, 2000.0)
    times = [np.concatenate([d[u] for u in units]) for d in trains]
    labels = [np.concatenate([[u] * len(d[u]) for u in units]).astype(int) for d in trains]
    b = NumpySorting.from_times_labels(times, labels, 2000.0, unit_ids=units)
    c = NumpySorting.from_spike_vector(a.to_spike_vector()[::-1].copy(), 2000.0, units, num_segments=2)
    d = NumpySorting.from_sorting(a.select_units(units))
    e = NumpySorting.from_samples_and_labels(times, labels, 2000.0, unit_ids=units)
    ref = _ref_vector(trains, units)
    for s in (a, b, c, d, e):
        assert list(s.unit_ids) == units and s.sampling_frequency == 2000.0 and s.get_num_segments() == 2
        np.testing.assert_array_equal(_as_rows(s.to_spike_vector()), ref)
        for seg in range(2):
            for u in units:
                np.testing.assert_array_equal(s.get_unit_spike_train(u, segment_index=seg), trains[seg][u])


def test_from_sorting_with_metadata_and_num_samples():
    s = generate_sorting(num_units=3, durations=[1.0], sampling_frequency=1000.0, seed=4)
    s.set_property("quality", ["a", "b", "c"])
    copy = NumpySorting.from_sorting(s, with_metadata=True)
    assert list(copy.get_property("quality")) == ["a", "b", "c"]
    assert NumpySorting.from_sorting(s).get_property("quality") is None


def test_string_ids_and_cache_with_numpy_scalars():
    s = NumpySorting.from_unit_dict({"a": [5, 1, 9], "b": [2]}, 1000.0)
    np.testing.assert_array_equal(s.get_unit_spike_train("a"), [1, 5, 9])
    np.testing.assert_array_equal(s.get_unit_spike_train(s.unit_ids[0]), [1, 5, 9])  # np.str_
    np.testing.assert_array_equal(s.get_unit_spike_train("a", start_frame=2, end_frame=9), [5])
    np.testing.assert_array_equal(s.get_unit_spike_train("a", start_frame=2, end_frame=9), [5])  # from cache
    np.testing.assert_array_equal(s.get_unit_spike_train("a", return_times=True), np.array([1, 5, 9]) / 1000.0)
    assert s.id_to_index("b") == 1
    r = s.rename_units(["x", "y"])
    np.testing.assert_array_equal(r.get_unit_spike_train("y"), [2])


def test_remove_empty_units_and_num_samples():
    s = NumpySorting.from_unit_dict({0: [1, 2], 1: [], 2: [7]}, 1000.0)
    assert list(s.remove_empty_units().unit_ids) == [0, 2]
    assert s.get_num_samples() == 8  # last spike + 1 without a recording
    g = generate_sorting(num_units=2, durations=[1.5], sampling_frequency=1000.0, seed=0)
    assert g.get_num_samples() == 1500


def test_frame_slice_and_time_slice():
    s = NumpySorting.from_unit_dict({0: [1, 20, 35, 60], 1: [19, 40]}, 1000.0)
    sl = s.frame_slice(20, 40)
    np.testing.assert_array_equal(sl.get_unit_spike_train(0), [0, 15])
    np.testing.assert_array_equal(sl.get_unit_spike_train(1), [])
    np.testing.assert_array_equal(sl.get_unit_spike_train(0, start_frame=1, end_frame=30), [15])
    np.testing.assert_array_equal(s.frame_slice(19, None).get_unit_spike_train(1), [0, 21])
    np.testing.assert_array_equal(s.time_slice(0.019, 0.036).get_unit_spike_train(0), [1, 16])


def test_time_slice_uses_the_registered_recordings_times():
    fs = 1000.0
    recording = gs.NumpyRecording([np.zeros((5000, 2), "float32")], fs)
    recording.set_times(np.arange(5000) / fs + 100.0)  # the recording starts at 100 s
    sorting = gs.NumpySorting.from_times_labels(np.array([500, 1500, 2500, 3500]), np.array([0, 0, 1, 1]), fs)
    sorting.register_recording(recording)
    sliced = sorting.time_slice(101.0, 103.0)  # frames [1000, 3000)
    np.testing.assert_array_equal(sliced.get_unit_spike_train(0), [500])
    np.testing.assert_array_equal(sliced.get_unit_spike_train(1), [1500])
    bare = gs.NumpySorting.from_times_labels(np.array([500, 1500]), np.array([0, 0]), fs)
    np.testing.assert_array_equal(bare.time_slice(1.0, 2.0).get_unit_spike_train(0), [500])


def test_cached_spike_trains_are_read_only():
    sorting = gs.NumpySorting.from_times_labels(np.array([5, 9, 20]), np.array([0, 0, 1]), 1000.0)
    train = sorting.get_unit_spike_train(0)
    with pytest.raises(ValueError, match="read-only"):
        train += 1
    np.testing.assert_array_equal(sorting.get_unit_spike_train(0), [5, 9])


def test_generated_noise_is_annotated_filtered():
    assert gs.generate_recording(num_channels=2, durations=[0.1], seed=1).get_annotation("is_filtered") is True


def test_spike_vector_sorted_by_segment_sample_unit_whatever_its_order():
    """A NumpySorting keeps a sorted spike vector as given and sorts any other (segment, sample,
    unit), against numpy's lexsort."""
    rng = np.random.default_rng(21)
    for _ in range(100):
        n = int(rng.integers(1, 40))
        spikes = np.zeros(n, dtype=spike_dtype)
        spikes["segment_index"] = rng.integers(0, 2, n)
        spikes["sample_index"] = rng.integers(0, 6, n)
        spikes["unit_index"] = rng.integers(0, 3, n)
        if rng.random() < 0.5:  # half of them already sorted
            spikes = spikes[np.lexsort((spikes["unit_index"], spikes["sample_index"], spikes["segment_index"]))]
        expected = spikes[np.lexsort((spikes["unit_index"], spikes["sample_index"], spikes["segment_index"]))]
        sorting = gs.NumpySorting(spikes, 1000.0, ["a", "b", "c"], num_segments=2)
        np.testing.assert_array_equal(sorting.to_spike_vector(), expected)
