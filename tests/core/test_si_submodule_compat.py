"""SpikeInterface 0.105's segment classes and helpers under its submodule paths, and the argument names of
both generations, against references written here with NumPy (the differential cases in
test_differential_core.py compare the same calls with SpikeInterface itself)."""
import importlib

import numpy as np
import pytest
import zarr

import gpuspike as gs
from gpuspike.core.argnames import accepts_aliases
from gpuspike.core.errors import RefusedOverwriteError


def si_module(name):
    return importlib.import_module(f"gpuspike.core.{name}")


@pytest.fixture
def two_recordings():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(200, 3)).astype("float32")
    b = rng.normal(size=(200, 2)).astype("float32")
    return (gs.NumpyRecording([a], 1000.0, channel_ids=["a", "b", "c"]),
            gs.NumpyRecording([b], 1000.0, channel_ids=["d", "e"]), a, b)


def wrap_recording(segment, channel_ids, dtype="float32"):
    rec = gs.BaseRecording(1000.0, channel_ids, dtype)
    rec.add_recording_segment(segment)
    return rec


def test_channels_aggregation_segment_follows_any_channel_map(two_recordings):
    rec_a, rec_b, a, b = two_recordings
    owners = [(1, 1), (0, 2), (0, 0), (1, 0), (0, 1)]
    channel_map = {i: {"recording_id": k, "channel_index": j} for i, (k, j) in enumerate(owners)}
    cls = si_module("channelsaggregationrecording").ChannelsAggregationRecordingSegment
    rec = wrap_recording(cls(channel_map, [rec_a.segments[0], rec_b.segments[0]]), list("vwxyz"))
    reference = np.stack([(a, b)[k][:, j] for k, j in owners], axis=1)
    np.testing.assert_array_equal(rec.get_traces(), reference)
    np.testing.assert_array_equal(rec.get_traces(start_frame=7, end_frame=19, channel_ids=["z", "v", "x"]),
                                  reference[7:19][:, [4, 0, 2]])
    with pytest.raises(ValueError, match="recording_id"):
        cls({0: {"recording_id": 2, "channel_index": 0}}, [rec_a.segments[0], rec_b.segments[0]])
    with pytest.raises(ValueError, match="keys 0..1"):
        cls({0: channel_map[0], 5: channel_map[1]}, [rec_a.segments[0], rec_b.segments[0]])


def test_aggregate_channels_still_stacks_in_order(two_recordings):
    rec_a, rec_b, a, b = two_recordings
    np.testing.assert_array_equal(gs.aggregate_channels([rec_a, rec_b]).get_traces(), np.concatenate([a, b], axis=1))


def test_npz_and_aggregation_sorting_segments():
    frames = np.array([30, 5, 12, 9, 44, 31])
    labels = np.array(["u", "v", "u", "v", "v", "u"])
    npz = si_module("npzsortingextractor").NpzSortingSegment(frames, labels)
    for unit in ("u", "v"):
        expected = frames[labels == unit]
        np.testing.assert_array_equal(npz.get_unit_spike_train(unit, None, None), expected)
        np.testing.assert_array_equal(npz.get_unit_spike_train(unit, 9, 31), expected[(expected >= 9) & (expected < 31)])
    assert npz.get_unit_spike_train("w", None, None).size == 0
    with pytest.raises(ValueError, match="same length"):
        si_module("npzsortingextractor").NpzSortingSegment(frames, labels[:3])
    other = si_module("npzsortingextractor").NpzSortingSegment(np.array([2, 8]), np.array([0, 0]))
    agg = si_module("unitsaggregationsorting").UnitsAggregationSortingSegment(
        {10: {"sorting_id": 1, "unit_id": 0}, 11: {"sorting_id": 0, "unit_id": "v"}}, [npz, other])
    np.testing.assert_array_equal(agg.get_unit_spike_train(np.int64(10), None, None), [2, 8])
    np.testing.assert_array_equal(agg.get_unit_spike_train(11, 6, None), [9, 44])


def test_concatenated_sorting_segment_shifts_by_the_given_lengths():
    seg = si_module("npzsortingextractor").NpzSortingSegment(np.array([1, 4, 9]), np.array([0, 0, 0]))
    cls = si_module("segmentutils").ProxyConcatenateSortingSegment
    cc = cls([seg, seg, seg], [10, 20, 5])
    np.testing.assert_array_equal(cc.get_unit_spike_train(0, None, None), [1, 4, 9, 11, 14, 19, 31, 34])
    np.testing.assert_array_equal(cc.get_unit_spike_train(0, 9, 31), [9, 11, 14, 19])
    assert cc.get_num_samples() == 35
    with pytest.raises(ValueError, match="lengths"):
        cls([seg, seg], [10])


def test_concatenated_recording_segment_times(two_recordings):
    rec_a, _, a, _ = two_recordings
    rec_a.set_times(np.arange(200) / 1000.0 + 3.0)
    cls = si_module("segmentutils").ProxyConcatenateRecordingSegment
    ignored = wrap_recording(cls([rec_a.segments[0]] * 2, 1000.0), ["a", "b", "c"])
    kept = wrap_recording(cls([rec_a.segments[0]] * 2, 1000.0, ignore_times=False), ["a", "b", "c"])
    assert ignored.get_times()[0] == 0.0 and not ignored.has_time_vector()
    np.testing.assert_array_equal(kept.get_times(), np.concatenate([rec_a.get_times()] * 2))
    rec_b = gs.NumpyRecording([a], 1000.0, channel_ids=["a", "b", "c"])
    rec_b.shift_times(2.5)
    started = wrap_recording(cls([rec_b.segments[0], rec_a.segments[0]], 1000.0, ignore_times=False), ["a", "b", "c"])
    assert not started.has_time_vector() and started.get_num_samples() == 400
    np.testing.assert_allclose(started.get_times()[[0, 399]], [2.5, 2.5 + 399 / 1000.0])
    np.testing.assert_array_equal(ignored.get_traces(start_frame=195, end_frame=205), np.concatenate([a[195:], a[:5]]))


def test_select_segment_event_is_a_lazy_view():
    dtype = [("time", "float64"), ("duration", "float64")]
    per_segment = [{"a": np.array([(0.1, 1.0)], dtype=dtype)},
                   {"a": np.array([(0.2, 1.0), (0.3, 2.0)], dtype=dtype)},
                   {"a": np.array([(0.5, 4.0)], dtype=dtype)}]
    events = gs.NumpyEvent.from_dict(per_segment)
    view = events.select_segment([2, 0])
    assert type(view).__name__ == "SelectSegmentEvent" and view.get_num_segments() == 2
    np.testing.assert_array_equal(view.get_events("a", segment_index=0), per_segment[2]["a"])
    np.testing.assert_array_equal(view.get_event_times("a", segment_index=1), [0.1])
    one = si_module("segmentutils").SelectSegmentEvent(events, 1)
    np.testing.assert_array_equal(one.get_events("a", start_time=0.25), per_segment[1]["a"][1:])
    assert events.get_num_segments() == 3  # the parent keeps its segments
    with pytest.raises(ValueError, match="out of range"):
        events.select_segment(3)
    with pytest.raises(TypeError, match="BaseEvent"):
        si_module("segmentutils").SelectSegmentEvent("not events", 0)


def test_mock_recording_segment_draws_standard_normal_blocks():
    cls = si_module("generate").MockRecordingSegment
    fly = cls(250, 3, 1000.0, 100, "float32", 7, "on_the_fly")
    reference = np.concatenate([np.random.default_rng(seed=(7, k)).standard_normal(size=(100, 3), dtype="float32")
                                for k in range(3)])[:250]
    np.testing.assert_array_equal(fly.get_traces(0, 250, slice(None)), reference)
    tiled = cls(250, 3, 1000.0, 100, "float64", 7, "tile_pregenerated")
    block = np.random.default_rng(7).standard_normal(size=(100, 3), dtype="float64")
    np.testing.assert_array_equal(tiled.get_traces(90, 210, [2, 0]), np.concatenate([block[90:], block, block[:10]])[:, [2, 0]])
    with pytest.raises(ValueError, match="strategy"):
        cls(250, 3, 1000.0, 100, "float32", 7, "tiled")
    with pytest.raises(ValueError, match="seed"):
        cls(250, 3, 1000.0, 100, "float32", None, "on_the_fly")


def test_get_ellipse_against_rotations_written_here():
    get_ellipse = si_module("generate").get_ellipse
    positions = np.random.default_rng(2).uniform(-50, 50, size=(12, 2))
    center = np.array([4.0, -3.0, 25.0])
    np.testing.assert_allclose(get_ellipse(positions, center),
                               np.sqrt(((positions - center[:2]) ** 2).sum(axis=1) + center[2] ** 2))
    angle = 0.8
    d = positions - center[:2]
    x = np.cos(angle) * d[:, 0] + np.sin(angle) * d[:, 1]
    y = -np.sin(angle) * d[:, 0] + np.cos(angle) * d[:, 1]
    np.testing.assert_allclose(get_ellipse(positions, center, x_factor=2.0, y_factor=0.5, z_angle=angle),
                               np.sqrt((x / 2.0) ** 2 + (y / 0.5) ** 2 + center[2] ** 2))
    # a half turn about x flips y (and z, squared): the distances stay those of the unrotated ellipse
    np.testing.assert_allclose(get_ellipse(positions, center, y_factor=0.5, x_angle=np.pi),
                               get_ellipse(positions, center, y_factor=0.5), atol=1e-9)


def test_inject_templates_segment_needs_a_length_without_parent():
    cls = si_module("generate").InjectTemplatesRecordingSegment
    spikes = np.zeros(1, dtype=[("sample_index", "int64"), ("unit_index", "int64"), ("segment_index", "int64")])
    spikes["sample_index"] = 10
    templates = np.ones((1, 4, 2), dtype="float32")
    with pytest.raises(ValueError, match="num_samples"):
        cls(1000.0, "float32", spikes, templates, 1, None, None)
    seg = cls(1000.0, "float32", spikes, templates, 1, [3], None, num_samples=30)
    traces = seg.get_traces(0, 30, slice(None))
    expected = np.zeros((30, 2), dtype="float32")
    expected[9:13] = 3.0
    np.testing.assert_array_equal(traces, expected)


def test_sorting_generator_segment_with_its_own_unit_ids():
    cls = si_module("generate").SortingGeneratorSegment
    seg = cls(2, 1000.0, 5.0, np.array([20.0, 40.0]), np.array([0.002, 0.002]), 11, ["x", "y"])
    parent = si_module("generate").SortingGenerator(num_units=2, sampling_frequency=1000.0, durations=[5.0],
                                                    firing_rates=[20.0, 40.0], refractory_period_ms=2.0, seed=11)
    for unit, parent_unit in (("x", parent.unit_ids[0]), ("y", parent.unit_ids[1])):
        np.testing.assert_array_equal(seg.get_unit_spike_train(unit), parent.get_unit_spike_train(parent_unit))


def test_accepts_aliases():
    @accepts_aliases(time_series="recording")
    def f(recording, n=1):
        """Return both."""
        return recording, n

    assert f(time_series=3, n=2) == (3, 2) and f(4) == (4, 1)
    assert f.__aliases__ == {"time_series": "recording"} and f.__doc__ == "Return both."
    with pytest.raises(TypeError, match="time_series.*not both|not both"):
        f(recording=1, time_series=2)


def test_both_generations_of_argument_names(two_recordings, tmp_path):
    rec_a, _, a, _ = two_recordings
    from gpuspike.core import job_tools, recording_tools

    np.testing.assert_array_equal(gs.ChannelSliceRecording(recording=rec_a, channel_ids=["c"]).get_traces(), a[:, [2]])
    np.testing.assert_array_equal(gs.ChannelSliceRecording(parent_recording=rec_a, channel_ids=["c"]).get_traces(),
                                  a[:, [2]])
    np.testing.assert_array_equal(gs.FrameSliceRecording(recording=rec_a, start_frame=5, end_frame=9).get_traces(),
                                  a[5:9])
    assert job_tools.ensure_chunk_size(time_series=rec_a, chunk_size=50) == 50
    assert job_tools.ensure_n_jobs(extractor=rec_a, n_jobs=1) == 1
    assert job_tools.chunk_duration_to_chunk_size("20ms", time_series=rec_a) == 20
    traces, left, right = recording_tools.get_time_series_chunk_with_margin(
        chunkable_segment=rec_a.segments[0], start_frame=10, end_frame=20, last_dimension_indices=[1], margin=3)
    np.testing.assert_array_equal(traces, a[7:23, [1]])
    assert (left, right) == (3, 3)
    slices = recording_tools.get_random_sample_slices(time_series=rec_a, num_chunks_per_segment=3, chunk_size=10,
                                                      seed=0)
    assert slices == recording_tools.get_random_sample_slices(rec_a, num_chunks_per_segment=3, chunk_size=10, seed=0)
    sorting = gs.NumpySorting.from_samples_and_labels([np.array([3, 50]), np.array([7])], [np.array([0, 1]),
                                                                                          np.array([1])], 1000.0)
    parts = gs.split_sorting(parent_sorting=sorting)
    assert [p.get_num_segments() for p in parts] == [1, 1]
    np.testing.assert_array_equal(parts[1].get_unit_spike_train(1), [7])


def test_readers_take_spikeinterface_arguments(two_recordings, tmp_path):
    data = np.arange(60, dtype="int16").reshape(20, 3)
    data.tofile(tmp_path / "t.raw")
    times = np.arange(20) / 100.0 + 7.0
    times.tofile(tmp_path / "times.raw")
    rec = gs.read_binary(tmp_path / "t.raw", 100.0, "int16", 3, file_timestamps_paths=[tmp_path / "times.raw"])
    np.testing.assert_array_equal(rec.get_times(), times)
    np.testing.assert_array_equal(rec.get_traces(), data)
    sorting = gs.NumpySorting.from_samples_and_labels([np.array([3, 50, 60])], [np.array([0, 1, 0])], 1000.0)
    sorting.save(folder=tmp_path / "npy_sorting")
    mapped = gs.read_numpy_sorting_folder(tmp_path / "npy_sorting", mmap_mode="r")
    np.testing.assert_array_equal(mapped.get_unit_spike_train(0), [3, 60])
    with pytest.raises(ValueError, match="mmap_mode"):
        gs.read_numpy_sorting_folder(tmp_path / "npy_sorting", mmap_mode="w+")
    with pytest.raises(ValueError, match="zarr_format=2"):
        gs.add_sorting_to_zarr_group(sorting, zarr.open_group(tmp_path / "v3.zarr", mode="w", zarr_format=3))
    root = zarr.open_group(tmp_path / "big.zarr", mode="w", zarr_format=2)
    gs.add_sorting_to_zarr_group(sorting, root.create_group("my_sorting"))
    inner = gs.read_zarr_sorting(tmp_path / "big.zarr", zarr_group="my_sorting", lazy_spike_vector=True)
    np.testing.assert_array_equal(inner.get_unit_spike_train(1), [50])


def test_zarr_path_helpers_never_delete_what_gpuspike_did_not_write(tmp_path):
    zx = si_module("zarrextractors")
    folder = zx.create_zarr_path_for_write(tmp_path / "store.abc")
    assert folder == tmp_path / "store.zarr" and folder.is_dir() and not any(folder.iterdir())
    user = tmp_path / "mine.zarr"
    user.mkdir()
    (user / "notes.txt").write_text("precious")
    with pytest.raises(FileExistsError):
        zx.create_zarr_path_for_write(user)
    with pytest.raises(RefusedOverwriteError):
        zx.create_zarr_path_for_write(user, overwrite=True)
    assert (user / "notes.txt").read_text() == "precious"
    rec = gs.NumpyRecording([np.zeros((10, 2), "float32")], 100.0)
    saved = rec.save(folder=tmp_path / "saved", format="zarr")
    assert saved is not None
    replaced = zx.create_zarr_path_for_write(tmp_path / "saved.zarr", overwrite=True)
    assert replaced.is_dir() and not any(replaced.iterdir())
    with pytest.raises(ValueError, match="remote"):
        zx.create_zarr_path_for_write("s3://bucket/x.zarr")


def test_add_properties_and_annotations(tmp_path):
    rec = gs.NumpyRecording([np.zeros((10, 3), "float32")], 100.0, channel_ids=["a", "b", "c"])
    rec.set_property("depth", np.array([1.0, 2.0, 3.0]))
    rec.set_property("objects", np.array([{"x": 1}, None, 3], dtype=object))
    rec.annotate(rig="R2")
    group = zarr.open_group(tmp_path / "g.zarr", mode="w", zarr_format=2)
    with pytest.warns(UserWarning, match="objects"):
        si_module("zarrextractors").add_properties_and_annotations(group, rec)
    assert sorted(group["properties"].keys()) == ["depth"]
    np.testing.assert_array_equal(group["properties"]["depth"][:], [1.0, 2.0, 3.0])
    assert group.attrs["annotations"]["rig"] == "R2"


def test_submodule_names_resolve_to_gpuspike_objects():
    from gpuspike.core.aggregate import ChannelsAggregationRecordingSegment
    from gpuspike.core.views import ChannelSliceRecordingSegment
    from gpuspike.core.zarrrecording import ZarrRecordingExtractor

    assert si_module("channelslice").ChannelSliceRecordingSegment is ChannelSliceRecordingSegment
    assert si_module("channelsaggregationrecording").ChannelsAggregationRecordingSegment is \
        ChannelsAggregationRecordingSegment
    assert si_module("zarrrecordingextractor").ZarrRecordingExtractorNew is ZarrRecordingExtractor
    assert si_module("testing_tools").SortingGenerator is si_module("generate").SortingGenerator
    assert si_module("globals").job_keys == si_module("job_tools").job_keys
    tmp_folder = gs.get_global_tmp_folder()
    assert si_module("globals").temp_folder == tmp_folder
    assert si_module("globals").dataset_folder_set == gs.is_set_global_dataset_folder()
    with pytest.raises(ImportError, match="no_such_name"):
        exec("from gpuspike.core.channelslice import no_such_name", {})
    with pytest.raises(AttributeError):
        si_module("globals").no_such_variable


def test_writers_and_constructors_take_spikeinterface_arguments(two_recordings, tmp_path):
    rec_a, _, a, _ = two_recordings
    rec_a.set_property("depth", np.array([1.0, 2.0, 3.0]))
    written = gs.BinaryFolderRecording.write_recording(rec_a, folder_path=tmp_path / "bin", dtype="float64")
    assert isinstance(written, gs.BinaryFolderRecording) and written.get_dtype() == np.float64
    np.testing.assert_array_equal(gs.load(tmp_path / "bin").get_traces(), a.astype("float64"))
    np.testing.assert_array_equal(written.get_property("depth"), [1.0, 2.0, 3.0])
    with pytest.raises(FileExistsError):
        gs.BinaryFolderRecording.write_recording(rec_a, tmp_path / "bin")

    sorting = gs.NumpySorting.from_samples_and_labels([np.array([3, 50, 60])], [np.array([0, 1, 0])], 1000.0)
    mapped = gs.NumpyFolderSorting.write_sorting(sorting, tmp_path / "srt", mmap_mode="r", relative_to=tmp_path)
    assert isinstance(mapped.to_spike_vector(), np.memmap)
    np.testing.assert_array_equal(mapped.get_unit_spike_train(0), [3, 60])
    with pytest.raises(ValueError, match="mmap_mode"):
        gs.NumpyFolderSorting.write_sorting(sorting, tmp_path / "srt2", mmap_mode="w+")
    assert not (tmp_path / "srt2").exists()  # refused before anything was written

    rec_a.set_times(np.arange(200) / 1000.0 + 9.0)
    rec_a.annotate(rig="R1")
    plain = gs.SharedMemoryRecording.from_recording(rec_a, with_metadata=False)
    timed = gs.SharedMemoryRecording.from_recording(rec_a, with_time_vector=True)
    assert not plain.has_time_vector() and plain.get_times()[0] == 0.0 and "depth" not in plain.get_property_keys()
    assert timed.has_time_vector() and timed.get_times()[0] == 9.0 and timed.get_annotation("rig") == "R1"
    np.testing.assert_array_equal(plain.get_traces(), a)
    saved = rec_a.save(format="memory")
    assert saved.has_time_vector() and saved.get_times()[0] == 9.0  # save() keeps the times, as SpikeInterface


def test_sparsity_from_dict_and_create_dense_by_spikeinterface_names():
    sparsity = gs.ChannelSparsity.from_dict(dictionary={"unit_ids": [1, 2], "channel_ids": ["a", "b", "c"],
                                                        "unit_id_to_channel_ids": {1: ["a"], "2": ["b", "c"]}})
    np.testing.assert_array_equal(sparsity.mask, [[True, False, False], [False, True, True]])
    templates = gs.Templates(templates_array=np.zeros((2, 10, 3), "float32"), sampling_frequency=1000.0, nbefore=3,
                             unit_ids=np.array([1, 2]), channel_ids=np.array(["a", "b", "c"]))
    assert gs.ChannelSparsity.create_dense(sorting_analyzer=templates).mask.all()


def test_positional_calls_mean_what_they_mean_in_spikeinterface(two_recordings, tmp_path):
    rec_a, _, a, _ = two_recordings
    from gpuspike.core import saving

    # write_binary_recording(recording, file_paths, dtype, add_file_extension, byte_offset): SpikeInterface 0.100's order
    (path,) = saving.write_binary_recording(rec_a, [tmp_path / "w.dat"], "float64", False, 16)
    assert path == tmp_path / "w.dat"
    raw = np.fromfile(path, dtype="float64", offset=16).reshape(-1, 3)
    np.testing.assert_array_equal(raw, a.astype("float64"))
    assert path.read_bytes()[:16] == bytes(16)
    (same,) = saving.write_binary_recording(rec_a, [tmp_path / "f.dat"], "float64", file_offset=16)
    assert same.read_bytes() == path.read_bytes()
    with pytest.raises(TypeError, match="not both"):
        saving.write_binary_recording(rec_a, [tmp_path / "g.dat"], byte_offset=8, file_offset=8)
    # read_binary(file_paths, sampling_frequency, dtype, num_channels, t_starts, channel_ids, time_axis, ...)
    back = gs.read_binary([path], 1000.0, "float64", 3, [2.5], ["x", "y", "z"], 0, 16)
    assert back.get_times()[0] == 2.5 and list(back.channel_ids) == ["x", "y", "z"]
    np.testing.assert_array_equal(back.get_traces(), a.astype("float64"))
    # get_noise_levels(recording, return_in_uV, method, force_recompute, random_slices_kwargs)
    chunks = {"num_chunks_per_segment": 4, "chunk_size": 20, "seed": 3}
    positional = gs.get_noise_levels(rec_a, False, "std", True, chunks)
    slices = gs.get_random_sample_slices(rec_a, num_chunks_per_segment=4, chunk_size=20, seed=3)
    reference = np.mean([a[s:e].std(axis=0) for _, s, e in slices], axis=0)
    np.testing.assert_allclose(positional, reference, rtol=1e-5)
    # to_spike_vector(concatenated, extremum_channel_inds, main_channel_indices, use_cache)
    sorting = gs.NumpySorting.from_samples_and_labels([np.array([3, 50, 60])], [np.array([0, 1, 0])], 1000.0)
    vector = sorting.to_spike_vector(True, None, [2, 1], False)
    np.testing.assert_array_equal(vector["channel_index"], [2, 1, 2])


def test_snippets_writer_and_shared_sorting_positional_order(tmp_path):
    snippets = gs.NumpySnippets([np.arange(2 * 5 * 3, dtype="int16").reshape(2, 5, 3)], [np.array([10, 30])], 1000.0,
                                nbefore=2)
    written = gs.NpyFolderSnippets.write_snippets(snippets, tmp_path / "snip", "float32")
    assert written.get_dtype() == np.float32
    np.testing.assert_array_equal(written.get_snippets(), snippets.get_snippets().astype("float32"))
    sorting = gs.NumpySorting.from_samples_and_labels([np.array([3, 50, 60])], [np.array([0, 1, 0])], 1000.0)
    shared = gs.SharedMemorySorting.from_sorting(sorting)
    view = gs.SharedMemorySorting(shared.shm.name, shared.to_spike_vector().shape, 1000.0, sorting.unit_ids,
                                  shared.to_spike_vector().dtype, False)
    assert view.main_shm_owner is False and shared.main_shm_owner is True
    np.testing.assert_array_equal(view.get_unit_spike_train(0), [3, 60])


def test_waveform_buffers_scale_by_default_into_float32():
    from gpuspike.core import waveform_tools

    traces = (np.arange(300 * 2) % 51 - 25).astype("int16").reshape(300, 2)
    rec = gs.NumpyRecording([traces], 1000.0)
    rec.set_channel_gains([0.5, 3.0])
    rec.set_channel_offsets([1.0, 0.0])
    spikes = np.zeros(2, dtype=[("sample_index", "int64"), ("unit_index", "int64"), ("segment_index", "int64")])
    spikes["sample_index"] = [40, 200]
    spikes["unit_index"] = [0, 0]
    scaled = waveform_tools.extract_waveforms_to_buffers(rec, spikes, np.array([0]), 4, 6, mode="shared_memory")
    raw = waveform_tools.extract_waveforms_to_buffers(rec, spikes, np.array([0]), 4, 6, mode="shared_memory",
                                                      return_in_uV=False)
    windows = np.stack([traces[s - 4:s + 6] for s in (40, 200)])
    assert scaled[0].dtype == np.float32 and raw[0].dtype == np.int16
    np.testing.assert_array_equal(raw[0], windows)
    np.testing.assert_allclose(scaled[0], windows * np.array([0.5, 3.0]) + np.array([1.0, 0.0]), rtol=1e-6)


def _sorting_with_ties(dtype=None):
    rng = np.random.default_rng(5)
    samples = np.sort(rng.integers(0, 3000, 400))
    vector = np.zeros(400, dtype=np.dtype(gs.minimum_spike_dtype if dtype is None else dtype))
    vector["sample_index"] = samples
    vector["unit_index"] = rng.integers(0, 4, 400)
    vector["segment_index"] = np.repeat([0, 1], 200)
    if "amplitude" in vector.dtype.names:
        vector["amplitude"] = rng.normal(size=400)
    return gs.NumpySorting(vector, 1000.0, ["a", "b", "c", "d"]), vector


def test_extra_spike_fields_follow_their_spikes_through_a_selection():
    wide = gs.minimum_spike_dtype + [("channel_index", "int64"), ("amplitude", "float32")]
    assert isinstance(gs.minimum_spike_dtype, list)
    sorting, vector = _sorting_with_ties(wide)
    np.testing.assert_array_equal(sorting.to_spike_vector(), vector)  # the extra fields are kept, not dropped
    child = sorting.select_units(["d", "b"])
    spikes = child.to_spike_vector()
    keep = np.isin(vector["unit_index"], [3, 1])
    assert spikes.dtype == np.dtype(wide)
    np.testing.assert_array_equal(spikes["amplitude"], vector["amplitude"][keep])
    np.testing.assert_array_equal(spikes["unit_index"], np.where(vector["unit_index"][keep] == 3, 0, 1))
    # main channels replace a stored channel_index field instead of adding a second one
    ext = child.to_spike_vector(main_channel_indices=[7, 9])
    np.testing.assert_array_equal(ext["channel_index"], np.where(spikes["unit_index"] == 0, 7, 9))
    assert list(ext.dtype.names).count("channel_index") == 1


def test_identity_selection_shares_the_parent_spike_vector():
    from gpuspike.core.si_methods import LEXSORT_UNIT_COMPACT

    sorting, vector = _sorting_with_ties()
    for child in (sorting.select_units(sorting.unit_ids), sorting.rename_units(["w", "x", "y", "z"]),
                  sorting.remove_units([])):
        assert child._is_identity_selection
        assert child.to_spike_vector() is sorting.to_spike_vector()
        assert child._get_spike_vector_segment_slices() is sorting._get_spike_vector_segment_slices()
        assert child.to_reordered_spike_vector(LEXSORT_UNIT_COMPACT, return_order=False, return_slices=False) is \
            sorting.to_reordered_spike_vector(LEXSORT_UNIT_COMPACT, return_order=False, return_slices=False)
    subset = sorting.select_units(["c", "a"])
    assert not subset._is_identity_selection and subset.to_spike_vector() is not sorting.to_spike_vector()
    np.testing.assert_array_equal(sorting._get_spike_vector_segment_slices(), [[0, 200], [200, 400]])
    ordered, order, slices = sorting.to_reordered_spike_vector(LEXSORT_UNIT_COMPACT)
    np.testing.assert_array_equal(ordered, vector[order])
    reference_order = np.lexsort((np.arange(vector.size), vector["segment_index"], vector["unit_index"]))
    np.testing.assert_array_equal(order, reference_order)
    assert not ordered.flags.writeable  # cached: shared by every later call


def test_estimated_templates_with_a_sparsity_mask_are_packed():
    from gpuspike.core import waveform_tools

    rng = np.random.default_rng(8)
    traces = rng.normal(size=(2000, 4)).astype("float32")
    rec = gs.NumpyRecording([traces], 1000.0)
    spikes = np.zeros(6, dtype=gs.minimum_spike_dtype)
    spikes["sample_index"] = [100, 400, 700, 1000, 1300, 1600]
    spikes["unit_index"] = [0, 1, 0, 1, 1, 0]
    mask = np.array([[True, False, True, False], [False, True, True, True]])
    windows = np.stack([traces[s - 5:s + 8] for s in spikes["sample_index"]])
    dense_mean = np.stack([windows[spikes["unit_index"] == u].mean(axis=0) for u in (0, 1)])
    dense_std = np.stack([windows[spikes["unit_index"] == u].std(axis=0) for u in (0, 1)])
    dense_median = np.stack([np.median(windows[spikes["unit_index"] == u], axis=0) for u in (0, 1)])
    packed = np.zeros((2, 13, 3))
    packed[0, :, :2] = dense_mean[0][:, [0, 2]]
    packed[1] = dense_mean[1][:, [1, 2, 3]]
    mean, std = waveform_tools.estimate_templates_with_accumulator(rec, spikes, [0, 1], 5, 8, sparsity_mask=mask,
                                                                   return_std=True)
    np.testing.assert_allclose(mean, packed, atol=1e-5)
    np.testing.assert_allclose(std[0, :, :2], dense_std[0][:, [0, 2]], atol=1e-5)
    assert not std[0, :, 2].any()
    median = waveform_tools.estimate_templates(rec, spikes, [0, 1], 5, 8, operator="median", sparsity_mask=mask)
    np.testing.assert_allclose(median[1], dense_median[1][:, [1, 2, 3]], atol=1e-6)
    np.testing.assert_allclose(median[0, :, :2], dense_median[0][:, [0, 2]], atol=1e-6)
    with pytest.raises(ValueError, match="sparsity_mask has shape"):
        waveform_tools.estimate_templates(rec, spikes, [0, 1], 5, 8, sparsity_mask=mask[:, :3])
