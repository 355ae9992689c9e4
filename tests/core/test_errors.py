"""Bad input gets a clear error that names the argument (and the allowed values)."""
import numpy as np
import pytest

from gpuspike import (NumpyEvent, NumpyRecording, NumpySnippets, NumpySorting, aggregate_channels, aggregate_units,
                      append_recordings, append_sortings, concatenate_recordings, concatenate_sortings,
                      select_segment_recording)


@pytest.fixture
def rec2():
    return NumpyRecording([np.zeros((100, 4), "int16"), np.zeros((50, 4), "int16")], 1000.0)


@pytest.fixture
def sort2():
    return NumpySorting.from_unit_dict([{0: [1, 5], 1: [3]}, {0: [2], 1: [4, 8]}], 1000.0)


def test_missing_segment_index(rec2, sort2):
    with pytest.raises(ValueError, match=r"segment_index must be given.*2 segments.*0\.\.1"):
        rec2.get_traces()
    with pytest.raises(ValueError, match="segment_index must be given"):
        rec2.get_num_samples()
    with pytest.raises(ValueError, match="segment_index must be given"):
        rec2.get_times()
    with pytest.raises(ValueError, match="segment_index must be given"):
        sort2.get_unit_spike_train(0)
    snip = NumpySnippets([np.zeros((2, 5, 3)), np.zeros((1, 5, 3))], [np.array([1, 2]), np.array([3])], 1000.0, 2)
    with pytest.raises(ValueError, match="segment_index must be given"):
        snip.get_snippets()
    ev = NumpyEvent.from_dict([{"a": np.array([1.0])}, {"a": np.array([2.0])}])
    with pytest.raises(ValueError, match="segment_index must be given"):
        ev.get_event_times("a")
    with pytest.raises(ValueError, match=r"segment_index=5 out of range"):
        rec2.get_traces(segment_index=5)
    with pytest.raises(TypeError, match="segment_index must be an int"):
        rec2.get_traces(segment_index="0")
    with pytest.raises(ValueError, match="segment_indices"):
        select_segment_recording(rec2, [0, 2])


def test_frames_out_of_range_or_reversed(rec2, sort2):
    # an end past the segment is cut to its length, as in SpikeInterface 0.105
    assert rec2.get_traces(segment_index=0, start_frame=90, end_frame=101).shape == (10, 4)
    with pytest.raises(ValueError, match=r"start_frame=-1 out of range"):
        rec2.get_traces(segment_index=0, start_frame=-1)
    with pytest.raises(ValueError, match=r"end_frame=10 is before start_frame=20"):
        rec2.get_traces(segment_index=0, start_frame=20, end_frame=10)
    with pytest.raises(TypeError, match="start_frame must be an int"):
        rec2.get_traces(segment_index=0, start_frame=1.5)
    mono = select_segment_recording(rec2, 0)
    with pytest.raises(ValueError, match="end_frame=200 out of range"):
        mono.frame_slice(0, 200)
    with pytest.raises(ValueError, match="end_frame=5 is before start_frame=9"):
        mono.frame_slice(9, 5)
    with pytest.raises(ValueError, match="mono-segment"):
        rec2.frame_slice(0, 10)
    with pytest.raises(ValueError, match="end_frame=1 is before start_frame=4"):
        sort2.get_unit_spike_train(0, segment_index=0, start_frame=4, end_frame=1)
    with pytest.raises(ValueError, match="start_frame must be a non-negative int"):
        sort2.get_unit_spike_train(0, segment_index=0, start_frame=-3)
    with pytest.raises(ValueError, match="start_frame=4 must be smaller than end_frame=1"):
        sort2.select_segments(0).frame_slice(4, 1)


def test_unknown_ids(rec2, sort2):
    with pytest.raises(KeyError, match=r"unknown channel_ids \[9\]"):
        rec2.channel_slice([0, 9])
    with pytest.raises(KeyError, match=r"unknown channel_ids \['x'\]"):
        rec2.remove_channels(["x"])
    with pytest.raises(KeyError, match="unknown channel_ids"):
        rec2.get_traces(segment_index=0, channel_ids=[7])
    with pytest.raises(KeyError, match=r"unknown unit_ids \[3\]"):
        sort2.select_units([3])
    with pytest.raises(KeyError, match="unknown unit_ids"):
        sort2.remove_units([3])
    with pytest.raises(KeyError, match="unknown unit_ids"):
        sort2.get_unit_spike_train(42, segment_index=0)
    with pytest.raises(KeyError, match="unknown unit_ids"):
        sort2.set_property("q", [1.0], ids=[9])
    assert rec2.get_annotation("nope") is None  # an annotation that is not set is None, as in SpikeInterface 0.105


def test_duplicate_ids(rec2):
    with pytest.raises(ValueError, match=r"channel_ids must be unique; duplicated: \[1\]"):
        NumpyRecording([np.zeros((3, 3))], 1000.0, channel_ids=[1, 1, 2])
    with pytest.raises(ValueError, match=r"unit_ids must be unique; duplicated: \['a'\]"):
        NumpySorting.from_unit_dict({0: [1], 1: [2]}, 1000.0).rename_units(["a", "a"])
    with pytest.raises(ValueError, match="channel_ids must be unique"):
        rec2.channel_slice([0, 0])
    with pytest.raises(ValueError, match="channel_ids must be unique"):
        rec2.rename_channels(["a", "a", "b", "c"])
    with pytest.raises(ValueError, match="renamed_channel_ids has 2 ids for 4 channels"):
        rec2.rename_channels(["a", "b"])


def test_sampling_frequency_mismatch(rec2, sort2):
    other = NumpyRecording([np.zeros((100, 4), "int16"), np.zeros((50, 4), "int16")], 2000.0)
    for fn in (append_recordings, concatenate_recordings, aggregate_channels):
        with pytest.raises(ValueError, match=r"recording_list\[1\] has sampling_frequency 2000\.0"):
            fn([rec2, other])
    other_s = NumpySorting.from_unit_dict([{0: [1]}, {0: [2]}], 2000.0)
    for fn in (append_sortings, aggregate_units):
        with pytest.raises(ValueError, match=r"sorting_list\[1\] has sampling_frequency 2000\.0"):
            fn([sort2, other_s])
    with pytest.raises(ValueError, match=r"sorting_list\[1\] has sampling_frequency"):
        concatenate_sortings([sort2, other_s], total_samples_list=[10, 10, 10, 10])
    with pytest.raises(ValueError, match="register_recording: sampling frequencies differ"):
        sort2.register_recording(other)
    with pytest.raises(ValueError, match="register_recording: recording has 1 segments"):
        sort2.register_recording(select_segment_recording(rec2, 0))


def test_aggregate_mismatches(rec2):
    short = NumpyRecording([np.zeros((99, 4), "int16"), np.zeros((50, 4), "int16")], 1000.0)
    with pytest.raises(ValueError, match=r"recording_list\[1\] segment 0 has 99 samples"):
        aggregate_channels([rec2, short])
    with pytest.raises(ValueError, match=r"recording_list\[1\] has 1 segments"):
        aggregate_channels([rec2, select_segment_recording(rec2, 0)])
    with pytest.raises(ValueError, match=r"recording_list\[1\] has dtype float32"):
        append_recordings([rec2, NumpyRecording([np.zeros((5, 4), "float32")], 1000.0)])
    with pytest.raises(ValueError, match="other channel ids"):
        append_recordings([rec2, rec2.rename_channels(list("abcd"))])
    with pytest.raises(ValueError, match="recording_list_or_dict must not be empty"):
        aggregate_channels([])


def test_property_length_mismatch(rec2, sort2):
    with pytest.raises(ValueError, match=r"property 'quality': values has length 3, expected 4"):
        rec2.set_property("quality", ["a", "b", "c"])
    with pytest.raises(ValueError, match=r"property 'q': 2 values for 1 ids"):
        rec2.set_property("q", [1, 2], ids=[0])
    with pytest.raises(ValueError, match="expected 2 .*unit_id"):
        sort2.set_property("quality", ["good"] * 3)
    with pytest.raises(ValueError, match="gain_to_uV"):
        rec2.set_channel_gains([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"times has shape \(3,\), expected \(100,\)"):
        rec2.set_times(np.arange(3.0), segment_index=0)
    with pytest.raises(ValueError, match="t_starts has 1 values for 2 segments"):
        NumpyRecording([np.zeros((3, 2)), np.zeros((3, 2))], 1000.0, t_starts=[0.0])


def test_return_scaled_without_gains(rec2):
    with pytest.raises(ValueError, match="return_scaled=True needs the 'gain_to_uV' property"):
        rec2.get_traces(segment_index=0, return_scaled=True)
    with pytest.raises(ValueError, match="gain_to_uV"):
        rec2.get_traces(segment_index=0, return_in_uV=True)
    snip = NumpySnippets([np.zeros((2, 5, 3), "int16")], [np.array([1, 2])], 1000.0, 2)
    with pytest.raises(ValueError, match="gain_to_uV"):
        snip.get_snippets(return_scaled=True)
    from gpuspike import get_noise_levels

    with pytest.raises(ValueError, match="return_scaled=True.*gains"):
        get_noise_levels(rec2, return_scaled=True)


def test_misc_argument_errors(rec2, sort2):
    with pytest.raises(ValueError, match="order='X'"):
        rec2.get_traces(segment_index=0, order="X")
    with pytest.raises(ValueError, match="outputs='x'"):
        sort2.count_num_spikes_per_unit(outputs="x")
    with pytest.raises(ValueError, match="sampling_frequency must be > 0"):
        NumpyRecording([np.zeros((3, 2))], 0.0)
    with pytest.warns(UserWarning, match=r"labels \[7\] are not in unit_ids: their spikes are given to the first"):
        misplaced = NumpySorting.from_times_labels([1, 2, 3], [1, 7, 0], 1000.0, unit_ids=[0, 1])
    np.testing.assert_array_equal(misplaced.get_unit_spike_train(0), [2, 3])  # SpikeInterface's assignment
    with pytest.raises(KeyError, match=r"labels \[0, 7\] are not in unit_ids \(empty\)"):
        NumpySorting.from_times_labels([1, 2], [0, 7], 1000.0, unit_ids=[])
    with pytest.raises(ValueError, match="times must be sample indices"):
        NumpySorting.from_times_labels(np.array([0.5, 1.2]), [0, 0], 1000.0)
    with pytest.raises(ValueError, match="concatenate_sortings needs segment lengths"):
        concatenate_sortings([sort2])
    with pytest.raises(ValueError, match="split_by: property 'nope' is not set"):
        rec2.split_by("nope")
    with pytest.raises(ValueError, match="no channel locations"):
        rec2.get_channel_locations()
