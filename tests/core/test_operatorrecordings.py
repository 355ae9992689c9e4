"""``recording1 + recording2`` and ``recording1 - recording2`` against NumPy sums of the traces."""
import numpy as np
import pytest

import gpuspike as gs
from gpuspike.core.operatorrecordings import AddRecordings, SubtractRecordings


def _pair(dtype="int16", durations=(0.05, 0.02), num_channels=3):
    rng = np.random.default_rng(7)
    traces = [[rng.integers(-20000, 20000, size=(int(d * 1000), num_channels)).astype(dtype) for d in durations]
              for _ in range(2)]
    return traces, gs.NumpyRecording(traces[0], 1000.0), gs.NumpyRecording(traces[1], 1000.0)


@pytest.mark.parametrize("dtype", ["int16", "float32"])
@pytest.mark.parametrize("operator", ["+", "-"])
def test_traces_are_numpy_sums(dtype, operator):
    traces, rec1, rec2 = _pair(dtype)
    combined = rec1 + rec2 if operator == "+" else rec1 - rec2
    assert isinstance(combined, AddRecordings if operator == "+" else SubtractRecordings)
    assert combined.get_dtype() == np.dtype(dtype)
    for segment_index, (a, b) in enumerate(zip(*traces)):
        with np.errstate(over="ignore"):
            expected = a + b if operator == "+" else a - b  # int16 wraps, as NumPy's arrays do
        np.testing.assert_array_equal(combined.get_traces(segment_index=segment_index), expected)
        np.testing.assert_array_equal(
            combined.get_traces(segment_index=segment_index, start_frame=3, end_frame=11, channel_ids=[2, 0]),
            expected[3:11][:, [2, 0]])


def test_probe_and_times_kept_scaling_and_cached_noise_dropped():
    rec1 = gs.generate_recording(num_channels=4, durations=[0.1], seed=1)
    rec2 = gs.generate_recording(num_channels=4, durations=[0.1], seed=2)
    rec1.set_channel_gains(2.0)
    rec1.set_channel_offsets(1.0)
    gs.get_noise_levels(rec1, return_scaled=False, chunk_size=500)
    rec1.shift_times(3.0)
    rec2.shift_times(3.0)
    assert "noise_level_mad_raw" in rec1.get_property_keys()
    total = rec1 + rec2
    np.testing.assert_array_equal(total.get_channel_locations(), rec1.get_channel_locations())
    assert total.get_probe() is not None
    assert not total.has_scaleable_traces()
    assert "noise_level_mad_raw" not in total.get_property_keys()
    np.testing.assert_array_equal(total.get_times(), rec1.get_times())


def test_round_trip_through_dict_folder_and_spikeinterface_class_path(tmp_path):
    _, rec1, rec2 = _pair("float32")
    folder_rec1 = rec1.save(folder=tmp_path / "a", progress_bar=False)
    folder_rec2 = rec2.save(folder=tmp_path / "b", progress_bar=False)
    diff = folder_rec1 - folder_rec2
    expected = [diff.get_traces(segment_index=i) for i in range(2)]
    loaded = gs.load(diff.to_dict())
    assert isinstance(loaded, SubtractRecordings)
    for i in range(2):
        np.testing.assert_array_equal(loaded.get_traces(segment_index=i), expected[i])
    diff.dump_to_json(tmp_path / "diff.json")
    np.testing.assert_array_equal(gs.load(tmp_path / "diff.json").get_traces(segment_index=1), expected[1])
    # SpikeInterface writes the operator into the subclass' kwargs
    d = (folder_rec1 + folder_rec2).to_dict()
    d["class"] = "spikeinterface.core.operatorrecordings.AddRecordings"
    d["kwargs"]["operator"] = "add"
    np.testing.assert_array_equal(gs.load(d).get_traces(segment_index=0),
                                  rec1.get_traces(segment_index=0) + rec2.get_traces(segment_index=0))


def test_mismatches_are_refused_naming_what_differs():
    _, rec1, rec2 = _pair()
    with pytest.raises(TypeError, match="recording2 must be a recording.*got int"):
        rec1 + 5
    with pytest.raises(AssertionError, match="num_samples"):  # SpikeInterface asserts
        rec1 + gs.NumpyRecording([np.zeros((50, 3), "int16")], 1000.0)
    with pytest.raises(ValueError, match="channel_ids"):
        rec1 - gs.NumpyRecording([np.zeros((50, 3), "int16"), np.zeros((20, 3), "int16")], 1000.0,
                                 channel_ids=["a", "b", "c"])
    with pytest.raises(ValueError, match="dtype"):
        rec1 + gs.NumpyRecording([np.zeros((50, 3), "float32"), np.zeros((20, 3), "float32")], 1000.0)
    with pytest.raises(ValueError, match="sampling_frequency"):
        rec1 + gs.NumpyRecording([np.zeros((50, 3), "int16"), np.zeros((20, 3), "int16")], 2000.0)
    shifted = gs.NumpyRecording([np.zeros((50, 3), "int16"), np.zeros((20, 3), "int16")], 1000.0)
    shifted.shift_times(1.0, segment_index=1)
    with pytest.raises(ValueError, match=r"times differ in segment\(s\) \[1\]"):
        rec1 - shifted
    with pytest.raises(ValueError, match="operator='multiply'"):
        gs.BaseOperatorRecording(rec1, rec2, "multiply")
    with pytest.raises(ValueError, match="allowed value is 'add'"):
        AddRecordings(rec1, rec2, operator="subtract")
