"""read_zarr_array / ZarrArrayRecording (a plain zarr array as a recording) and write_recording_to_zarr
(traces into named arrays of an open group), against arrays written and read with zarr directly."""
import numcodecs
import numpy as np
import pytest
import zarr

import gpuspike as gs
from gpuspike.core.errors import CorruptFolderError

ZARR3 = int(zarr.__version__.split(".")[0]) >= 3


def v2_group(path):
    return zarr.open_group(str(path), mode="w", zarr_format=2) if ZARR3 else zarr.open_group(str(path), mode="w")


def two_segment_recording():
    rng = np.random.default_rng(4)
    traces = [rng.integers(-500, 500, (1000, 3)).astype("int16"), rng.integers(-500, 500, (700, 3)).astype("int16")]
    rec = gs.NumpyRecording(traces, 1000.0)
    rec.set_times(np.sort(rng.uniform(0, 5, 700)), segment_index=1)
    return rec, traces


def test_write_recording_to_zarr_writes_each_segment_its_times_and_chunks(tmp_path):
    rec, traces = two_segment_recording()
    rec2 = gs.NumpyRecording(traces[:1], 1000.0, t_starts=[2.5])  # a start time without a time vector
    group = v2_group(tmp_path / "g.zarr")
    gs.write_recording_to_zarr(rec, group, ["raw/a", "raw/b"], dataset_timestamps_paths=["t_a", "t_b"],
                               extra_chunks=(2,), compressor_data=numcodecs.Blosc(), chunk_size=300)
    back = zarr.open_group(str(tmp_path / "g.zarr"), mode="r")
    for seg in range(2):
        array = back[["raw/a", "raw/b"][seg]]
        np.testing.assert_array_equal(array[:], traces[seg])
        assert array.dtype == np.int16 and tuple(array.chunks) == (300, 2)
    np.testing.assert_array_equal(back["t_a"][:], np.arange(1000) / 1000.0)
    np.testing.assert_array_equal(back["t_b"][:], rec.get_times(segment_index=1))
    assert "t_starts" not in back  # segment 0 starts at 0, segment 1 has a time vector
    other = v2_group(tmp_path / "h.zarr")
    gs.write_recording_to_zarr(rec2, other, "x", dtype="float32")
    reread = zarr.open_group(str(tmp_path / "h.zarr"), mode="r")
    assert reread["x"].dtype == np.float32
    np.testing.assert_array_equal(reread["x"][:], traces[0].astype("float32"))
    np.testing.assert_array_equal(reread["t_starts"][:], [2.5])


def test_write_recording_to_zarr_refuses_bad_arguments_and_leaves_the_group_as_given(tmp_path):
    rec, traces = two_segment_recording()
    group = v2_group(tmp_path / "g.zarr")
    group.create_group("kept")
    mine = group.create_dataset("mine", data=np.arange(5)) if not ZARR3 else group.create_array("mine", data=np.arange(5))
    with pytest.raises(ValueError, match="dataset_paths has 1 path.*2 segment"):
        gs.write_recording_to_zarr(rec, group, ["a"])
    with pytest.raises(ValueError, match=r"\['mine'\] already in the group"):
        gs.write_recording_to_zarr(rec, group, ["a", "mine"])
    with pytest.raises(ValueError, match=r"\['a'\] already in the group or given twice"):
        gs.write_recording_to_zarr(rec, group, ["a", "a"])
    with pytest.raises(ValueError, match="extra_chunks=\\(0,\\)"):
        gs.write_recording_to_zarr(rec, group, ["a", "b"], extra_chunks=(0,))
    with pytest.raises(TypeError, match="numcodecs"):
        gs.write_recording_to_zarr(rec, group, ["a", "b"], compressor_data="zstd")
    with pytest.raises(ValueError, match=r"outside the range \[-128, 127\] of dtype=int8"):  # values up to 500
        gs.write_recording_to_zarr(rec, group, ["a", "b"], dataset_timestamps_paths=["ta", None], dtype="int8")
    with pytest.raises(ValueError, match="int8"):  # the groups made on the way go too; "kept" stays
        gs.write_recording_to_zarr(rec, group, ["new/deep/a", "kept/b"], dtype="int8")
    names = sorted(zarr.open_group(str(tmp_path / "g.zarr"), mode="r").keys())
    assert names == ["kept", "mine"]  # the arrays of the failed writes were removed
    assert list(zarr.open_group(str(tmp_path / "g.zarr" / "kept"), mode="r").keys()) == []
    np.testing.assert_array_equal(mine[:], np.arange(5))


@pytest.mark.skipif(not ZARR3, reason="zarr format 3 groups need zarr-python 3")
def test_write_recording_to_zarr_in_a_format_3_group(tmp_path):
    rec, traces = two_segment_recording()
    group = zarr.open_group(str(tmp_path / "g3.zarr"), mode="w", zarr_format=3)
    with pytest.raises(ValueError, match="zarr format 3 and numcodecs compressors"):
        gs.write_recording_to_zarr(rec, group, ["a", "b"], compressor_data=numcodecs.Blosc())
    assert list(group.keys()) == []
    gs.write_recording_to_zarr(rec, group, ["a", "b"])  # no codecs: raw chunks in format 3
    back = zarr.open_group(str(tmp_path / "g3.zarr"), mode="r")
    assert back.metadata.zarr_format == 3
    for seg, name in enumerate(["a", "b"]):
        np.testing.assert_array_equal(back[name][:], traces[seg])
    other = zarr.open_group(str(tmp_path / "r3.zarr"), mode="w", zarr_format=3)
    with pytest.raises(ValueError, match="add_recording_to_zarr_group: zarr_group is zarr format 3"):
        gs.add_recording_to_zarr_group(rec, other)  # the default compressor is numcodecs Blosc
    assert list(other.keys()) == []


def test_zarr_array_recording_reads_a_plain_array_as_spikeinterface(tmp_path):
    rng = np.random.default_rng(1)
    data = rng.integers(-1000, 1000, (500, 4)).astype("int16")
    path = tmp_path / "plain.zarr"
    kwargs = {"zarr_format": 2} if ZARR3 else {}
    written = zarr.open_array(str(path), mode="w", shape=data.shape, chunks=(128, 4), dtype="int16", **kwargs)
    written[:] = data
    rec = gs.read_zarr_array(path, 20000.0, gain_to_uV=[0.5, 1.0, 2.0, 4.0], offset_to_uV=3.0, is_filtered=True)
    assert isinstance(rec, gs.ZarrArrayRecording)
    assert list(rec.channel_ids) == [0, 1, 2, 3] and rec.get_num_segments() == 1 and rec.get_num_samples() == 500
    assert rec.get_dtype() == np.int16 and rec.is_filtered() and rec.sampling_frequency == 20000.0
    np.testing.assert_array_equal(rec.get_traces(start_frame=100, end_frame=300, channel_ids=[3, 1]),
                                  data[100:300][:, [3, 1]])
    expected_uV = data.astype("float32") * np.array([0.5, 1.0, 2.0, 4.0], "float32") + np.float32(3.0)
    np.testing.assert_array_equal(rec.get_traces(return_in_uV=True), expected_uV)
    again = gs.load(rec.to_dict())
    np.testing.assert_array_equal(again.get_traces(return_in_uV=True), expected_uV)
    assert rec.to_dict()["class"] == "spikeinterface.core.zarrextractors.ZarrArrayRecording"
    # SpikeInterface 0.105 writes num_channels, dtype and channel_ids besides the arguments
    d = rec.to_dict()
    d["kwargs"].update(num_channels=4, dtype="<i2", channel_ids=[0, 1, 2, 3])
    np.testing.assert_array_equal(gs.load(d).get_traces(), data)
    d["kwargs"]["num_channels"] = 5
    with pytest.raises(ValueError, match="num_channels=5 but zarr array .* has 4"):
        gs.load(d)


def test_zarr_array_recording_refuses_what_is_not_a_2d_array(tmp_path):
    kwargs = {"zarr_format": 2} if ZARR3 else {}
    cube = zarr.open_array(str(tmp_path / "cube.zarr"), mode="w", shape=(4, 3, 2), dtype="int16", **kwargs)
    cube[:] = 1
    with pytest.raises(CorruptFolderError, match=r"shape \(4, 3, 2\): a recording needs"):
        gs.read_zarr_array(tmp_path / "cube.zarr", 1000.0)
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorruptFolderError, match="cannot be opened as a zarr array"):
        gs.read_zarr_array(tmp_path / "empty", 1000.0)
    with pytest.raises(FileNotFoundError):
        gs.read_zarr_array(tmp_path / "missing.zarr", 1000.0)
