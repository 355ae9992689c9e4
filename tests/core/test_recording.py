"""Recording basics: scaling, dtypes, properties, annotations and times."""
import numpy as np
import pytest

from gpuspike import (NumpyRecording, NumpySorting, append_recordings, concatenate_recordings,
                      select_segment_recording)


@pytest.fixture
def rec():
    rng = np.random.default_rng(0)
    t0 = rng.integers(-1000, 1000, (200, 3)).astype("int16")
    t1 = rng.integers(-1000, 1000, (100, 3)).astype("int16")
    r = NumpyRecording([t0, t1], 100.0, t_starts=[10.0, 50.0])
    return r, [t0, t1]


def test_scaling_and_dtypes(rec):
    r, ref = rec
    r.set_channel_gains([0.5, 1.0, 2.0])
    r.set_channel_offsets(-1.0)
    out = r.get_traces(segment_index=1, start_frame=3, end_frame=9, channel_ids=[2, 0], return_scaled=True)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, ref[1][3:9][:, [2, 0]] * np.array([2.0, 0.5]) - 1.0)
    np.testing.assert_array_equal(r.get_traces(segment_index=1, return_in_uV=True), r.get_traces(
        segment_index=1, return_scaled=True))
    assert r.get_traces(segment_index=0).dtype == np.int16
    assert r.get_traces(segment_index=0, order="F").flags.f_contiguous
    u = NumpyRecording([np.array([[0, 65535], [32768, 1]], dtype="uint16")], 1.0)
    casted = u.get_traces(cast_unsigned=True)
    assert casted.dtype == np.int16
    np.testing.assert_array_equal(casted, np.array([[0, 65535], [32768, 1]]) - 32768)


def test_properties_partial_ids_and_missing_values(rec):
    r, _ = rec
    r.set_property("depth", [5.0], ids=[1])
    np.testing.assert_array_equal(r.get_property("depth"), [np.nan, 5.0, np.nan])
    r.set_property("depth", [7.0, 8.0], ids=[2, 0])
    np.testing.assert_array_equal(r.get_property("depth"), [8.0, 5.0, 7.0])
    r.set_property("name", ["x"], ids=[0])
    assert list(r.get_property("name")) == ["x", "", ""]
    np.testing.assert_array_equal(r.get_property("depth", ids=[2]), [7.0])
    assert r.get_property("nope") is None
    r.delete_property("name")
    assert "name" not in r.get_property_keys()
    r.set_annotation("a", 1)
    with pytest.raises(ValueError, match="already set"):
        r.set_annotation("a", 2)
    r.annotate(nested={"x": [1]})
    got = r.get_annotation("nested")
    got["x"].append(2)
    assert r.get_annotation("nested") == {"x": [1]}  # deep copy


def test_sizes_and_durations(rec):
    r, ref = rec
    assert r.get_total_samples() == 300
    assert r.get_duration(segment_index=1) == pytest.approx(1.0)
    assert r.get_total_duration() == pytest.approx(3.0)
    assert r.get_memory_size(segment_index=0) == ref[0].nbytes
    assert r.get_total_memory_size() == ref[0].nbytes + ref[1].nbytes


def test_times_t_start(rec):
    r, _ = rec
    assert not r.has_time_vector(segment_index=0)
    np.testing.assert_allclose(r.get_times(segment_index=0), 10.0 + np.arange(200) / 100.0)
    assert r.get_start_time(segment_index=1) == 50.0
    assert r.get_end_time(segment_index=1) == pytest.approx(50.99)
    np.testing.assert_allclose(r.sample_index_to_time(np.array([0, 5, 99]), segment_index=1), [50.0, 50.05, 50.99])
    samples = np.arange(100)
    np.testing.assert_array_equal(r.time_to_sample_index(r.sample_index_to_time(samples, segment_index=1),
                                                         segment_index=1), samples)
    sl = select_segment_recording(r, 0).frame_slice(20, 120)
    np.testing.assert_allclose(sl.get_times(), 10.2 + np.arange(100) / 100.0)
    assert sl.time_to_sample_index(10.5) == 30


def test_times_vector(rec):
    r, _ = rec
    rng = np.random.default_rng(1)
    tv = np.cumsum(rng.uniform(0.005, 0.015, 200)) + 3.0
    r.set_times(tv, segment_index=0)
    assert r.has_time_vector(segment_index=0) and not r.has_time_vector(segment_index=1)
    np.testing.assert_array_equal(r.get_times(segment_index=0), tv)
    np.testing.assert_array_equal(r.sample_index_to_time(np.array([0, 7, 199]), segment_index=0), tv[[0, 7, 199]])
    idx = rng.integers(0, 200, 30)
    np.testing.assert_array_equal(r.time_to_sample_index(tv[idx], segment_index=0), idx)
    # a time between two samples maps to the previous sample
    np.testing.assert_array_equal(r.time_to_sample_index((tv[idx[idx < 199]] + tv[idx[idx < 199] + 1]) / 2,
                                                         segment_index=0), idx[idx < 199])
    assert r.get_start_time(segment_index=0) == tv[0]
    assert r.get_end_time(segment_index=0) == tv[-1]
    # views keep the time vector
    mono = select_segment_recording(r, 0)
    np.testing.assert_array_equal(mono.get_times(), tv)
    np.testing.assert_array_equal(mono.frame_slice(50, 80).get_times(), tv[50:80])
    np.testing.assert_array_equal(r.channel_slice([1]).get_times(segment_index=0), tv)
    np.testing.assert_array_equal(append_recordings([r]).get_times(segment_index=0), tv)
    r.reset_times()
    assert not r.has_time_vector(segment_index=0)
    np.testing.assert_allclose(r.get_times(segment_index=0), np.arange(200) / 100.0)
    # concatenation ignores times by default
    assert concatenate_recordings([r]).get_times()[0] == 0.0


def test_sorting_register_recording_uses_time_vector(rec):
    r, _ = rec
    tv = np.sort(np.random.default_rng(2).uniform(0, 5, 200))
    r.set_times(tv, segment_index=0)
    sorting = NumpySorting.from_unit_dict([{"a": [3, 50, 150], "b": [0, 199]}, {"a": [10], "b": [99]}], 100.0)
    assert sorting.has_time_vector(segment_index=0) is False
    np.testing.assert_allclose(sorting.get_unit_spike_train("a", segment_index=0, return_times=True),
                               np.array([3, 50, 150]) / 100.0)
    sorting.register_recording(r)
    assert sorting.has_recording() and sorting.has_time_vector(segment_index=0)
    np.testing.assert_array_equal(sorting.get_unit_spike_train("a", segment_index=0, return_times=True),
                                  tv[[3, 50, 150]])
    np.testing.assert_allclose(sorting.get_unit_spike_train("b", segment_index=1, return_times=True), [50.99])
    np.testing.assert_array_equal(sorting.get_unit_spike_train_in_seconds("a", segment_index=0, start_time=tv[10]),
                                  tv[[50, 150]])
    # views of a registered sorting keep the recording's times
    sub = sorting.select_units(["a"])
    np.testing.assert_array_equal(sub.get_unit_spike_train("a", segment_index=0, return_times=True), tv[[3, 50, 150]])
    seg0 = sorting.select_segments([0])
    sl = seg0.frame_slice(40, 160)
    np.testing.assert_array_equal(sl.get_unit_spike_train("a", return_times=True), tv[[50, 150]])
    assert sl.get_num_samples() == 120
    # spikes past the end of the recording: a warning, as in SpikeInterface 0.105 (extraction drops them)
    bad = NumpySorting.from_unit_dict([{"a": [500]}, {"a": [1]}], 100.0)
    with pytest.warns(UserWarning, match=r"register_recording: the sorting has 1 spike\(s\) beyond the end.*"
                                         r"segment 0: 1 spike\(s\) at frames >= 200 \(up to 500\)"):
        bad.register_recording(r)
    assert bad.get_recording() is r
