"""Inputs that used to pass unnoticed and give a wrong result: each now raises, warns, or is handled
the way SpikeInterface 0.105 handles it."""
import json
import shutil

import numpy as np
import pytest

import gpuspike as gs
from gpuspike.core.errors import CorruptFolderError
from gpuspike.core.loading import load

NOBAR = dict(progress_bar=False)


def _traces(num_samples=3000, num_channels=3, seed=0, dtype="int16"):
    rng = np.random.default_rng(seed)
    return rng.integers(-300, 300, size=(num_samples, num_channels)).astype(dtype)


def _mean_windows(traces, frames, nbefore, nafter):
    """NumPy reference: the mean of full windows around ``frames`` (all inside the traces)."""
    return np.mean([traces[f - nbefore:f + nafter].astype("float64") for f in frames], axis=0)


# ---------------------------------------------------------------------- 8. spikes beyond the recording
def test_spikes_beyond_the_recording_are_dropped_with_a_warning(backend_name):
    traces = _traces()
    rec = gs.NumpyRecording([traces], 1000.0)
    inside = np.array([100, 700, 1500, 2400])
    sorting = gs.NumpySorting.from_times_labels([np.r_[inside, 10**9]], [np.zeros(5, "int64")], 1000.0)
    ref = _mean_windows(traces, inside, 10, 20)
    kw = dict(ms_before=10.0, ms_after=20.0, return_scaled=False, backend=backend_name, **NOBAR)
    with pytest.warns(UserWarning, match=r"extract_waveforms: the sorting has 1 spike\(s\) beyond the end.*"
                                         r"frames >= 3000 \(up to 1000000000\)\); they are dropped"):
        we = gs.extract_waveforms(rec, sorting, mode="memory", sparse=False, max_spikes_per_unit=None, **kw)
    np.testing.assert_allclose(we.get_all_templates()[0], ref, rtol=1e-6)
    assert we.get_waveforms(0).shape[0] == 4 and we.sorting.count_num_spikes_per_unit() == {0: 4}
    with pytest.warns(UserWarning, match="compute_templates: the sorting has 1 spike"):
        ct = gs.compute_templates(rec, sorting, **kw)
    np.testing.assert_allclose(ct.get_all_templates()[0], ref, rtol=1e-6)


def test_excess_spikes_view_and_register_recording_agree():
    rec = gs.generate_recording(num_channels=2, durations=[1.0, 0.5], sampling_frequency=1000.0)
    rec = rec.save(folder=None, **NOBAR)
    sorting = gs.NumpySorting.from_times_labels([np.array([10, 999, 1000, 5000]), np.array([3, 499, 500])],
                                                [np.array([0, 0, 1, 1]), np.array([1, 0, 0])], 1000.0)
    with pytest.warns(UserWarning, match=r"register_recording: the sorting has 3 spike\(s\).*segment 0: 2.*"
                                         r"segment 1: 1.*remove_excess_spikes"):
        sorting.register_recording(rec)
    from gpuspike.core.excess_spikes import RemoveExcessSpikesSorting, remove_excess_spikes

    clean = remove_excess_spikes(sorting, rec)
    assert isinstance(clean, RemoveExcessSpikesSorting)
    vec = clean.to_spike_vector()
    assert vec["sample_index"].tolist() == [10, 999, 3, 499]
    assert clean.get_unit_spike_train(1, segment_index=0).tolist() == []
    assert clean.get_unit_spike_train(0, segment_index=1, start_frame=0, end_frame=10**6).tolist() == [499]
    assert remove_excess_spikes(clean, rec) is clean


# ---------------------------------------------------------------------- 9. segment_index of a spike vector
@pytest.mark.parametrize("segments, num_segments", [([0, -1], None), ([0, 1], 1), ([0, 5], 2)])
def test_numpy_sorting_segment_index_out_of_range(segments, num_segments):
    spikes = np.zeros(2, dtype=gs.spike_dtype)
    spikes["sample_index"] = [5, 6]
    spikes["segment_index"] = segments
    with pytest.raises(ValueError, match="segment_index spans.*allowed: 0.."):
        gs.NumpySorting(spikes, 1000.0, [0], num_segments=num_segments)
    spikes["segment_index"] = [0, 1]
    s = gs.NumpySorting(spikes, 1000.0, [0], num_segments=2)
    assert s.count_total_num_spikes() == sum(s.get_unit_spike_train(0, segment_index=i).size for i in range(2))


# ---------------------------------------------------------------------- 10. a folder replaced after loading
def test_binary_folder_replaced_after_load_is_detected(tmp_path):
    old = gs.NumpyRecording([_traces(1000, 4, dtype="float32")], 1000.0)  # 16 bytes per frame
    new = gs.NumpyRecording([_traces(1000, 8, seed=1, dtype="int16")], 1000.0)  # 16 bytes per frame too
    old.save(folder=tmp_path / "r", **NOBAR)
    first = load(tmp_path / "r")
    read_before = load(tmp_path / "r")
    np.testing.assert_array_equal(read_before.get_traces(end_frame=10), old.get_traces(end_frame=10))
    new.save(folder=tmp_path / "r", overwrite=True, **NOBAR)
    with pytest.raises(CorruptFolderError, match="traces_cached_seg0.raw' was replaced after the recording was opened"):
        first.get_traces()
    sorting = gs.NumpySorting.from_times_labels([np.array([100, 500])], [np.array([0, 0])], 1000.0)
    with pytest.raises(CorruptFolderError, match="was replaced"):
        gs.extract_waveforms(first, sorting, mode="memory", sparse=False, return_scaled=False, **NOBAR)
    # a recording that had already opened its file keeps reading the bytes its metadata describes
    np.testing.assert_array_equal(read_before.get_traces(), old.get_traces())
    np.testing.assert_array_equal(load(tmp_path / "r").get_traces(), new.get_traces())


# ---------------------------------------------------------------------- 11. zarr chunks
def test_zarr_missing_and_corrupt_chunks_name_the_chunk(tmp_path):
    rec = gs.NumpyRecording([_traces(5000, 3)], 1000.0)
    rec.save(folder=tmp_path / "r", format="zarr", chunk_size=1000, **NOBAR)
    (tmp_path / "r.zarr" / "traces_seg0" / "2.0").unlink()
    loaded = load(tmp_path / "r.zarr")
    np.testing.assert_array_equal(loaded.get_traces(end_frame=2000), rec.get_traces(end_frame=2000))
    with pytest.raises(CorruptFolderError, match=r"'traces_seg0'.*chunk 2.0 \(frames \[2000, 3000\)\) is missing"):
        loaded.get_traces(start_frame=1500, end_frame=2500)
    (tmp_path / "r.zarr" / "traces_seg0" / "3.0").write_bytes(b"\x00garbage" * 10)
    loaded = load(tmp_path / "r.zarr")
    with pytest.raises(CorruptFolderError, match=r"'traces_seg0'.*chunk of frames \[3000, 4000\) \(time chunk 3\) "
                                                 r"cannot be read"):
        loaded.get_traces(start_frame=3000, end_frame=5000)
    np.testing.assert_array_equal(loaded.get_traces(start_frame=4000), rec.get_traces(start_frame=4000))


def test_zarr_sorting_with_a_damaged_spike_vector_is_refused_not_truncated(tmp_path):
    import zarr

    trains = [np.array([1, 5, 9, 12]), np.array([4, 3])]
    labels = [np.array([0, 1, 0, 1]), np.array([1, 0])]
    gs.NumpySorting.from_samples_and_labels(trains, labels, 1000.0).save(folder=tmp_path / "s.zarr", format="zarr")
    group = zarr.open_group(str(tmp_path / "s.zarr"), mode="r+")
    samples = group["spikes/sample_index"][:]
    assert samples[4:6].tolist() == [3, 4] and group["spikes/unit_index"][4:6].tolist() == [0, 1]
    group["spikes/sample_index"][4:6] = [4, 3]  # unit 0 at 4, unit 1 at 3, out of order: sorted on load
    back = load(tmp_path / "s.zarr")
    np.testing.assert_array_equal(back.get_unit_spike_train(0, segment_index=1), [4])
    np.testing.assert_array_equal(back.get_unit_spike_train(1, segment_index=1), [3])
    vector = back.to_spike_vector()
    assert vector[4:].tolist() == [(3, 1, 1), (4, 0, 1)] and back.count_total_num_spikes() == 6
    group["spikes/unit_index"][2] = 7  # a unit that does not exist: its spike would vanish silently
    with pytest.raises(CorruptFolderError, match=r"spike vector is damaged \(spikes unit_index must be in 0..1\)"):
        load(tmp_path / "s.zarr")
    group["spikes/unit_index"][2] = 0
    group["spikes/segment_slices"][1] = [3, 6]  # overlapping segments
    with pytest.raises(CorruptFolderError, match=r"segment_slices \[\[0, 4\], \[3, 6\]\] do not split its 6"):
        load(tmp_path / "s.zarr")


@pytest.mark.parametrize("change, message", [
    ({"spike_labels_seg0": np.array([0, 1, 5, 1])}, "spike label 5 of segment 0 is not a unit id"),
    ({"spike_indexes_seg0": np.array([1, -5, 9, 12])}, r"integers >= 0 \(found int64 values such as -5\)"),
    ({"spike_indexes_seg0": np.array([1.0, 5.5, 9.0, 12.0])}, "must be integers >= 0"),
    ({"spike_indexes_seg0": np.array([1, 5, 9])}, "segment 0 has 3 spike indexes but 4 labels"),
])
def test_npz_sorting_with_damaged_spikes_is_refused(tmp_path, change, message):
    sorting = gs.NumpySorting.from_samples_and_labels([np.array([1, 5, 9, 12])], [np.array([0, 1, 0, 1])], 1000.0)
    gs.NpzSortingExtractor.write_sorting(sorting, tmp_path / "s.npz")
    arrays = dict(np.load(tmp_path / "s.npz"))
    np.testing.assert_array_equal(gs.NpzSortingExtractor(tmp_path / "s.npz").get_unit_spike_train(1), [5, 12])
    np.savez(tmp_path / "bad.npz", **dict(arrays, **change))
    with pytest.raises(CorruptFolderError, match=message):
        gs.NpzSortingExtractor(tmp_path / "bad.npz")
    whole = dict(arrays, spike_indexes_seg0=np.array([1.0, 5.0, 9.0, 12.0]))  # floats holding integers are taken
    np.savez(tmp_path / "floats.npz", **whole)
    np.testing.assert_array_equal(gs.NpzSortingExtractor(tmp_path / "floats.npz").get_unit_spike_train(1), [5, 12])


def test_zarr_all_zero_chunks_are_written(tmp_path):
    rec = gs.NumpyRecording([np.zeros((3000, 2), "int16")], 1000.0)
    rec.save(folder=tmp_path / "z", format="zarr", chunk_size=1000, **NOBAR)
    np.testing.assert_array_equal(load(tmp_path / "z.zarr").get_traces(), 0)  # zeros, not "missing"


# ---------------------------------------------------------------------- 12. narrowing casts
@pytest.mark.parametrize("fmt", ["binary", "zarr"])
def test_save_narrowing_dtype_refuses_values_that_would_wrap(tmp_path, fmt):
    traces = np.zeros((2000, 2), "float32")
    traces[1500, 1] = 40000.0
    rec = gs.NumpyRecording([traces], 1000.0)
    with pytest.raises(ValueError, match=r"frames \[1000, 2000\).*span \[0.0, 40000.0\], outside the range "
                                         r"\[-32768, 32767\] of dtype=int16"):
        rec.save(folder=tmp_path / "r", format=fmt, dtype="int16", chunk_size=1000, **NOBAR)
    traces[1500, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        rec.save(folder=tmp_path / "r", format=fmt, dtype="int16", **NOBAR)
    assert list(tmp_path.iterdir()) == []
    traces[1500, 1] = 123.0
    saved = rec.save(folder=tmp_path / "r", format=fmt, dtype="int16", **NOBAR)
    assert saved.get_traces()[1500, 1] == 123


def test_waveform_dtype_must_hold_the_waveforms():
    rec = gs.NumpyRecording([_traces()], 1000.0)
    rec.set_channel_gains(0.5)
    rec.set_channel_offsets(0.0)
    sorting = gs.NumpySorting.from_times_labels([np.array([100, 700])], [np.array([0, 0])], 1000.0)
    with pytest.raises(ValueError, match="dtype=int8 cannot hold waveforms of dtype float32.*allowed: "
                                         r"\['float32', 'float64'\]"):
        gs.extract_waveforms(rec, sorting, mode="memory", sparse=False, dtype="int8", **NOBAR)
    with pytest.raises(ValueError, match="dtype=int8 cannot hold waveforms of dtype int16.*'int16', 'int32'"):
        gs.extract_waveforms(rec, sorting, mode="memory", sparse=False, dtype="int8", return_scaled=False, **NOBAR)
    we = gs.extract_waveforms(rec, sorting, mode="memory", sparse=False, dtype="int32", return_scaled=False, **NOBAR)
    assert we.get_waveforms(0).dtype == np.int32


def test_int_properties_refuse_fractions_and_overflow():
    rec = gs.NumpyRecording([_traces(100, 3)], 1000.0)
    rec.set_property("depth", np.array([1, 2, 3], dtype="int8"))
    with pytest.raises(ValueError, match="dtype int8.*2.5 are not whole numbers"):
        rec.set_property("depth", [2.5], ids=[0])
    with pytest.raises(ValueError, match=r"span \[1000, 1000\], outside the range \[-128, 127\]"):
        rec.set_property("depth", np.array([1000]), ids=[1])
    rec.set_property("depth", [7.0], ids=[2])
    assert rec.get_property("depth").tolist() == [1, 2, 7]
    with pytest.raises(ValueError, match="groups.*0.5 are not whole numbers"):
        rec.set_channel_groups([0.5, 1, 2])
    rec.set_channel_groups([0.0, 1.0, 1.0])
    assert rec.get_channel_groups().tolist() == [0, 1, 1]


# ---------------------------------------------------------------------- 13. frames must be whole numbers
def test_from_unit_dict_refuses_fractional_frames():
    with pytest.raises(ValueError, match=r"units_dict_list\[0\]\['a'\].*1.5 are not whole numbers"):
        gs.NumpySorting.from_unit_dict({"a": [1.5, 20.0]}, 1000.0)
    with pytest.raises(ValueError, match="NaN or infinite"):
        gs.NumpySorting.from_unit_dict({"a": [np.nan]}, 1000.0)
    s = gs.NumpySorting.from_unit_dict({"a": [1.0, 20.0]}, 1000.0)
    assert s.get_unit_spike_train("a").tolist() == [1, 20]


def test_kilosort_nan_clusters_refused(tmp_path):
    ks = tmp_path / "ks"
    ks.mkdir()
    (ks / "params.py").write_text("sample_rate = 30000.0\nn_channels_dat = 4\ndtype = 'int16'\n")
    np.save(ks / "spike_times.npy", np.array([10, 20, 30], dtype="uint64"))
    np.save(ks / "spike_clusters.npy", np.array([1.0, np.nan, 2.0]))
    from gpuspike.extractors import read_kilosort

    with pytest.raises(ValueError, match="spike_clusters.npy: 1 value\\(s\\) are NaN"):
        read_kilosort(ks)
    np.save(ks / "spike_clusters.npy", np.array([1.0, 2.0, 2.0]))
    assert read_kilosort(ks).get_unit_spike_train(2).tolist() == [20, 30]


# ---------------------------------------------------------------------- 14. transposed traces, mixed ids
def test_transposed_traces_warn():
    with pytest.warns(UserWarning, match=r"shape \(4, 100\).*100 channels but only 4 samples.*traces.T"):
        gs.NumpyRecording([np.zeros((4, 100), "float32")], 1000.0)


@pytest.mark.parametrize("ids", [[0, "a"], np.array([0, "a"], dtype=object), ["1", 2]])
def test_mixed_id_types_refused(ids):
    with pytest.raises(TypeError, match=r"channel_ids mix types \['int', 'str'\]"):
        gs.NumpyRecording([np.zeros((10, 2), "float32")], 1000.0, channel_ids=ids)
    with pytest.raises(TypeError, match=r"unit_ids mix types"):
        gs.NumpySorting(np.zeros(0, gs.spike_dtype), 1000.0, ids)


# ---------------------------------------------------------------------- 15. smaller ones
def test_zero_spike_unit_gets_zero_templates_as_in_spikeinterface():
    rec = gs.NumpyRecording([_traces()], 1000.0)
    sorting = gs.NumpySorting.from_times_labels([np.array([100, 700, 1500])], [np.array(["a"] * 3)], 1000.0,
                                                unit_ids=["a", "empty"])
    we = gs.extract_waveforms(rec, sorting, mode="memory", sparse=False, return_scaled=False,
                              precompute_template=("average", "std", "median"), **NOBAR)
    for mode in ("average", "std", "median"):
        assert not we.get_all_templates(mode=mode)[1].any()
    assert not we.get_all_templates(mode="percentile", percentile=90)[1].any()
    assert we.get_waveforms("empty").shape == (0, we.nsamples, 3)
    ct = gs.compute_templates(rec, sorting, return_scaled=False, **NOBAR)
    assert not ct.get_all_templates()[1].any() and not ct.get_all_templates(mode="std")[1].any()
    # documented where users look
    for func in (gs.extract_waveforms, gs.compute_templates):
        assert "zero spikes" in func.__doc__ and "SpikeInterface 0.105" in func.__doc__


@pytest.mark.parametrize("value, error", [(2.5, TypeError), (True, TypeError), ("10", TypeError), (0, ValueError)])
def test_max_spikes_per_unit_must_be_an_int(value, error):
    rec = gs.NumpyRecording([_traces()], 1000.0)
    sorting = gs.NumpySorting.from_times_labels([np.array([100, 700])], [np.array([0, 0])], 1000.0)
    with pytest.raises(error, match=f"max_spikes_per_unit={value!r}: give an int >= 1, or None"):
        gs.extract_waveforms(rec, sorting, mode="memory", max_spikes_per_unit=value, **NOBAR)
    with pytest.raises(error, match="max_spikes_per_unit"):
        gs.compute_templates(rec, sorting, max_spikes_per_unit=value, **NOBAR)
    with pytest.raises(error, match=f"num_spikes_for_sparsity={value!r}"):
        gs.extract_waveforms(rec, sorting, mode="memory", sparse=True, method="best_channels",
                             num_spikes_for_sparsity=value, **NOBAR)


def test_set_times_must_not_decrease():
    rec = gs.NumpyRecording([_traces(100)], 1000.0)
    times = np.arange(100) / 1000.0
    bad = times.copy()
    bad[50] = 0.0
    with pytest.raises(ValueError, match="times decrease at sample 50"):
        rec.set_times(bad)
    bad[50] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        rec.set_times(bad)
    assert not rec.has_time_vector()
    rec.set_times(times + 5.0)
    assert rec.get_start_time() == 5.0


def test_spike_vector_is_read_only():
    s = gs.NumpySorting.from_times_labels([np.array([5, 10, 20])], [np.array([0, 1, 0])], 1000.0)
    vec = s.to_spike_vector()
    with pytest.raises(ValueError, match="read-only"):
        vec["sample_index"][0] = 999
    with pytest.raises(ValueError, match="read-only"):
        s.to_spike_vector(concatenated=False)[0]["unit_index"][:] = 0
    assert s.to_spike_vector()["sample_index"].tolist() == [5, 10, 20]
    assert s.get_unit_spike_train(0).tolist() == [5, 20]
    edited = vec.copy()
    edited["sample_index"] += 1
    assert edited["sample_index"].tolist() == [6, 11, 21]


def test_unsorted_snippet_frames_refused(tmp_path):
    snippets = np.zeros((3, 10, 2), "float32")
    with pytest.raises(ValueError, match=r"spikesframes_list\[0\]: frames must be sorted; frame 2 \(5\)"):
        gs.NumpySnippets([snippets], [np.array([10, 20, 5])], 1000.0, nbefore=3)
    good = gs.NumpySnippets([snippets], [np.array([5, 10, 20])], 1000.0, nbefore=3)
    good.save(folder=tmp_path / "s")
    path = tmp_path / "s" / "traces_cached_seg0.npy"
    data = np.load(path)
    data["frame"] = [20, 10, 5]
    np.save(path, data)
    with pytest.raises(CorruptFolderError, match="traces_cached_seg0.npy.*frames must be sorted"):
        load(tmp_path / "s")


def test_binary_json_shorter_raw_and_byte_order_checked(tmp_path):
    rec = gs.NumpyRecording([_traces(1000, 2)], 1000.0)
    rec.save(folder=tmp_path / "r", **NOBAR)
    raw = tmp_path / "r" / "traces_cached_seg0.raw"
    with open(raw, "r+b") as f:
        f.truncate(raw.stat().st_size - 4 * 10)  # 10 whole frames shorter
    with pytest.raises(CorruptFolderError, match=r"segments hold \[1000\] samples, the data holds \[990\]"):
        load(tmp_path / "r" / "binary.json")  # the JSON file directly, not through the folder
    with pytest.raises(CorruptFolderError, match="says 1000"):
        load(tmp_path / "r")
    shutil.rmtree(tmp_path / "r")
    rec.save(folder=tmp_path / "r", **NOBAR)
    d = json.loads((tmp_path / "r" / "binary.json").read_text())
    d["kwargs"]["dtype"] = ">i2"
    (tmp_path / "r" / "binary.json").write_text(json.dumps(d))
    for path in (tmp_path / "r", tmp_path / "r" / "binary.json"):
        with pytest.raises(CorruptFolderError, match="kwargs dtype '>i2' differs from the dtype '<i2'"):
            load(path)


def test_big_endian_file_reads_the_same_on_every_path(tmp_path):
    traces = _traces(2000, 3)
    (tmp_path / "be.raw").write_bytes(traces.astype(">i2").tobytes())
    rec = gs.read_binary(tmp_path / "be.raw", 1000.0, ">i2", 3)
    assert rec.get_dtype() == np.dtype("int16") and not rec.is_binary_compatible()
    np.testing.assert_array_equal(rec.get_traces(), traces)
    sorting = gs.NumpySorting.from_times_labels([np.array([100, 700, 1500])], [np.array([0, 0, 0])], 1000.0)
    we = gs.extract_waveforms(rec, sorting, mode="memory", sparse=False, return_scaled=False, ms_before=5.0,
                              ms_after=5.0, **NOBAR)
    np.testing.assert_allclose(we.get_all_templates()[0], _mean_windows(traces, [100, 700, 1500], 5, 5),
                               rtol=1e-6)
    saved = rec.save(folder=tmp_path / "native", **NOBAR)
    np.testing.assert_array_equal(saved.get_traces(), traces)


@pytest.mark.parametrize("fmt", ["binary_folder", "zarr"])
def test_analyzer_extension_data_that_contradict_the_analyzer_are_refused_on_load(tmp_path, fmt):
    import zarr

    rec, srt = gs.generate_ground_truth_recording(durations=[2.0], num_channels=4, num_units=3, seed=1)
    folder = tmp_path / ("a.zarr" if fmt == "zarr" else "a")
    analyzer = gs.create_sorting_analyzer(srt, rec, sparse=False, format=fmt, folder=folder)
    analyzer.compute(["random_spikes", "waveforms", "templates", "noise_levels"])
    good = {name: analyzer.get_extension(name).get_data() for name in ("waveforms", "templates", "noise_levels")}
    num_spikes = srt.count_total_num_spikes()

    def replace(name, key, values):
        if fmt == "zarr":  # the array rewritten in place, and its entry of the consolidated metadata
            kwargs = {"zarr_format": 2} if int(zarr.__version__.split(".")[0]) >= 3 else {}
            path = folder / "extensions" / name / key
            array = zarr.open_array(str(path), mode="w", shape=values.shape, dtype=values.dtype, **kwargs)
            array[...] = values
            consolidated = json.loads((folder / ".zmetadata").read_text())
            consolidated["metadata"][f"extensions/{name}/{key}/.zarray"] = json.loads((path / ".zarray").read_text())
            (folder / ".zmetadata").write_text(json.dumps(consolidated))
        else:
            np.save(folder / "extensions" / name / f"{key}.npy", values)

    indices = np.asarray(analyzer.get_extension("random_spikes").get_data())
    cases = [("random_spikes", "random_spikes_indices", np.r_[indices[:-1], num_spikes],
              f"random_spikes_indices run from {indices[0]} to {num_spikes}, the sorting has {num_spikes} spikes"),
             ("waveforms", "waveforms", good["waveforms"][:-2],
              rf"waveforms has shape \({indices.size - 2}, 75, 4\), expected \({indices.size}, 75, 4\)"),
             ("templates", "average", good["templates"][:, :, :3], r"average has shape \(3, 75, 3\), expected \(3, 75, 4\)"),
             ("noise_levels", "noise_levels", good["noise_levels"][:2], r"noise_levels has shape \(2,\), expected \(4,\)")]
    for name, key, damaged, message in cases:
        original = (indices if name == "random_spikes" else
                    good[name] if name != "templates" else good["templates"])
        replace(name, key, damaged)
        with pytest.raises(CorruptFolderError, match=f"extension '{name}' of .*: {message}; the folder is damaged"):
            gs.load_sorting_analyzer(folder)
        replace(name, key, original)
    reopened = gs.load_sorting_analyzer(folder)
    np.testing.assert_array_equal(reopened.get_extension("waveforms").get_data(), good["waveforms"])
    replace("waveforms", "waveforms", good["waveforms"][:-2])  # the way out the message names
    repaired = gs.load_sorting_analyzer(folder, load_extensions=False)
    repaired.compute("waveforms")
    np.testing.assert_array_equal(gs.load_sorting_analyzer(folder).get_extension("waveforms").get_data(),
                                  good["waveforms"])
