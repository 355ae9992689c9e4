"""save() -> load() round trips: traces, spikes, properties, annotations, probe and times, exact."""
import json
import shutil

import numpy as np
import pytest
from numcodecs import LZMA, Blosc, Delta

import gpuspike as gs
from gpuspike.core.binaryfolder import BinaryFolderRecording, read_binary_folder
from gpuspike.core.binaryrecording import read_binary
from gpuspike.core.loading import load, load_extractor
from gpuspike.core.npzsorting import NpzFolderSorting, NumpyFolderSorting, read_npz, read_npz_folder
from gpuspike.core.zarrrecording import ZarrRecordingExtractor, read_zarr

from _saving_helpers import (assert_recordings_equal, assert_sortings_equal, interleaved_probegroup,
                             rich_recording)

NOBAR = dict(progress_bar=False)


@pytest.mark.parametrize("format", ["binary", "zarr", "memory"])
def test_rich_recording_round_trip(tmp_path, format):
    rec = rich_recording()
    saved = rec.save(folder=tmp_path / "rec", format=format, chunk_size=1000, **NOBAR)
    assert_recordings_equal(rec, saved)
    if format != "memory":
        assert saved.is_dumpable
        folder = tmp_path / ("rec.zarr" if format == "zarr" else "rec")
        assert_recordings_equal(rec, load(folder))
        assert_recordings_equal(rec, load(saved.to_dict()))
        assert_recordings_equal(rec, load_extractor(str(folder)))
        # in-memory source: no provenance to write
        assert not (folder / "provenance.json").exists()


def test_binary_folder_layout_matches_spikeinterface(tmp_path):
    rec = rich_recording()
    rec.save(folder=tmp_path / "rec", chunk_size=1000, **NOBAR)
    names = {p.name for p in (tmp_path / "rec").iterdir()}
    assert {"binary.json", "si_folder.json", "annotations.json", "probegroup.json", "properties",
            "traces_cached_seg0.raw", "traces_cached_seg1.raw", "times_cached_seg0.npy"} <= names
    assert "times_cached_seg1.npy" not in names
    binary = json.loads((tmp_path / "rec" / "binary.json").read_text())
    assert binary["class"] == "spikeinterface.core.binaryrecordingextractor.BinaryRecordingExtractor"
    assert binary["relative_paths"] is True
    assert binary["kwargs"]["file_paths"] == ["traces_cached_seg0.raw", "traces_cached_seg1.raw"]
    assert binary["kwargs"]["channel_ids"] == list("abcdef")
    assert binary["kwargs"]["t_starts"] == [0.0, 3.5]
    si_folder = json.loads((tmp_path / "rec" / "si_folder.json").read_text())
    assert si_folder["class"] == "spikeinterface.core.binaryfolder.BinaryFolderRecording"
    assert si_folder["kwargs"] == {"folder_path": "."}
    raw = np.fromfile(tmp_path / "rec" / "traces_cached_seg1.raw", dtype="int16").reshape(-1, 6)
    assert np.array_equal(raw, rec.get_traces(segment_index=1))
    assert {p.name for p in (tmp_path / "rec" / "properties").iterdir()} == {
        f"{k}.npy" for k in rec.get_property_keys()}


def test_view_of_generated_recording_round_trip_and_provenance(tmp_path):
    rec = gs.generate_recording(num_channels=8, durations=[2.0], sampling_frequency=10000.0, seed=3)
    view = rec.frame_slice(1234, 15000).channel_slice(rec.channel_ids[[5, 1, 3]])
    view.set_property("depth", np.array([3.0, 1.0, 2.0]))
    assert view.is_dumpable
    rebuilt = load(view.to_dict())
    assert_recordings_equal(view, rebuilt)
    for fmt in ("binary", "zarr"):
        saved = view.save(folder=tmp_path / fmt, format=fmt, chunk_size=777, **NOBAR)
        assert_recordings_equal(view, saved)
        assert_recordings_equal(view, load(saved.to_dict()))
    provenance = json.loads((tmp_path / "binary" / "provenance.json").read_text())
    assert provenance["class"].endswith("ChannelSliceRecording")
    # SpikeInterface's class paths and keyword names, so that SpikeInterface loads the provenance too
    assert provenance["class"] == "spikeinterface.core.channelslice.ChannelSliceRecording"
    assert provenance["kwargs"]["recording"]["class"].endswith("FrameSliceRecording")
    assert_recordings_equal(view, load(tmp_path / "binary" / "provenance.json"), check_metadata=False)


def test_json_file_with_relative_paths_and_moved_folder(tmp_path):
    rec = rich_recording(dtype="float32")
    saved = rec.save(folder=tmp_path / "a" / "rec", chunk_size=2048, **NOBAR)
    saved.dump_to_json(tmp_path / "a" / "rec.json", relative_to=tmp_path / "a")
    d = json.loads((tmp_path / "a" / "rec.json").read_text())
    assert d["relative_paths"] and d["kwargs"]["folder_path"] == "rec"
    shutil.move(tmp_path / "a", tmp_path / "b")
    assert_recordings_equal(rec, load(tmp_path / "b" / "rec"))
    assert_recordings_equal(rec, load(tmp_path / "b" / "rec.json"))
    z = rec.save(folder=tmp_path / "z", format="zarr", **NOBAR)
    shutil.move(tmp_path / "z.zarr", tmp_path / "moved.zarr")
    assert_recordings_equal(rec, load(tmp_path / "moved.zarr"))
    del z


@pytest.mark.parametrize("engine", ["process", "thread"])
def test_parallel_writes_identical_files(tmp_path, engine):
    rec = gs.generate_recording(num_channels=5, durations=[1.3, 0.7], sampling_frequency=10000.0, seed=1)
    one = rec.save(folder=tmp_path / "one", n_jobs=1, chunk_size=999, **NOBAR)
    two = rec.save(folder=tmp_path / "two", n_jobs=2, engine=engine, chunk_size=999, **NOBAR)
    for seg in range(2):
        name = f"traces_cached_seg{seg}.raw"
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
    assert_recordings_equal(one, two)


def test_binary_dtype_cast_and_binary_description(tmp_path):
    rec = rich_recording(dtype="int16")
    saved = rec.save(folder=tmp_path / "f", dtype="float32", **NOBAR)
    assert saved.get_dtype() == np.dtype("float32")
    assert np.array_equal(saved.get_traces(segment_index=0), rec.get_traces(segment_index=0).astype("float32"))
    assert saved.is_binary_compatible()
    desc = saved.get_binary_description()
    assert desc["num_channels"] == 6 and desc["dtype"] == np.dtype("float32") and desc["time_axis"] == 0
    assert desc["file_offset"] == 0 and len(desc["file_paths"]) == 2


@pytest.mark.parametrize("time_axis", [0, 1])
def test_read_binary_offsets_and_layouts(tmp_path, time_axis):
    rng = np.random.default_rng(5)
    data = rng.integers(-100, 100, size=(1001, 7)).astype("int16")
    header = b"H" * 33
    path = tmp_path / "x.dat"
    body = data if time_axis == 0 else np.ascontiguousarray(data.T)
    path.write_bytes(header + body.tobytes())
    rec = read_binary(path, sampling_frequency=1000.0, dtype="int16", num_channels=7, time_axis=time_axis,
                      file_offset=33, gain_to_uV=0.5, offset_to_uV=0.0)
    assert rec.get_num_samples() == 1001
    assert np.array_equal(rec.get_traces(), data)
    assert np.array_equal(rec.get_traces(start_frame=17, end_frame=400, channel_ids=[6, 2]), data[17:400][:, [6, 2]])
    np.testing.assert_array_equal(rec.get_traces(return_scaled=True), data.astype("float32") * 0.5)
    assert np.array_equal(load(rec.to_dict()).get_traces(), data)
    assert rec.get_binary_description()["file_offset"] == 33


def test_memory_format_keeps_metadata_and_is_independent(tmp_path):
    rec = gs.generate_recording(num_channels=3, durations=[0.5], set_probe=True)
    mem = rec.save(format="memory", **NOBAR)  # shared memory by default, as SpikeInterface 0.105
    assert type(mem).__name__ == "SharedMemoryRecording"
    assert_recordings_equal(rec, mem)
    with pytest.raises(gs.NotDumpableError, match="shared memory"):
        mem.dump_to_json(tmp_path / "mem.json")
    numpy_mem = rec.save(format="memory", sharedmem=False, **NOBAR)
    assert isinstance(numpy_mem, gs.NumpyRecording)
    assert_recordings_equal(rec, numpy_mem)
    assert not numpy_mem.is_dumpable


def test_zarr_compressors_and_filters(tmp_path):
    rec = rich_recording()
    default = rec.save(folder=tmp_path / "d", format="zarr", **NOBAR)
    assert str(default._kwargs["folder_path"]).endswith("d.zarr")
    import zarr

    root = zarr.open_group(str(tmp_path / "d.zarr"), mode="r")
    meta = json.loads((tmp_path / "d.zarr" / "traces_seg0" / ".zarray").read_text())
    assert meta["compressor"]["id"] == "blosc" and meta["compressor"]["cname"] == "zstd"
    assert meta["compressor"]["clevel"] == 5 and meta["compressor"]["shuffle"] == Blosc.BITSHUFFLE
    assert root.attrs["num_segments"] == 2
    custom = rec.save(folder=tmp_path / "c.zarr", format="zarr", compressor=LZMA(),
                      filters=[Delta(dtype="int16")], channel_chunk_size=4, chunk_size=1500, **NOBAR)
    meta = json.loads((tmp_path / "c.zarr" / "traces_seg0" / ".zarray").read_text())
    assert meta["compressor"]["id"] == "lzma" and meta["filters"][0]["id"] == "delta"
    assert meta["chunks"] == [1500, 4]
    assert_recordings_equal(rec, custom)
    raw = rec.save(folder=tmp_path / "r", format="zarr", compressor=None, **NOBAR)
    assert_recordings_equal(rec, raw)
    assert isinstance(read_zarr(tmp_path / "r.zarr"), ZarrRecordingExtractor)


def test_sorting_formats_round_trip(tmp_path):
    sorting = gs.generate_sorting(num_units=6, durations=[1.5, 0.5], sampling_frequency=30000.0, seed=2)
    sorting = sorting.rename_units([f"u{i}" for i in range(6)])
    sorting.set_property("kind", np.array(["a", "b", "a", "c", "a", "b"]))
    sorting.set_property("amp", np.arange(6, dtype="float32"))
    sorting.annotate(sorter="none")
    default = sorting.save(folder=tmp_path / "default")  # SpikeInterface 0.105's default format
    assert isinstance(default, NumpyFolderSorting)
    assert_sortings_equal(sorting, load(tmp_path / "default"))
    npz = sorting.save(folder=tmp_path / "npz", format="npz")
    assert isinstance(npz, NpzFolderSorting)
    assert_sortings_equal(sorting, npz)
    assert_sortings_equal(sorting, load(tmp_path / "npz"))
    assert_sortings_equal(sorting, read_npz_folder(tmp_path / "npz"))
    assert_sortings_equal(sorting, read_npz(tmp_path / "npz" / "sorting_cached.npz"), check_metadata=False)
    data = np.load(tmp_path / "npz" / "sorting_cached.npz")
    assert {"unit_ids", "num_segment", "sampling_frequency", "spike_indexes_seg0", "spike_labels_seg1"} <= set(data)
    assert np.all(np.diff(data["spike_indexes_seg0"]) >= 0)
    numpy_folder = sorting.save(folder=tmp_path / "np", format="numpy_folder")
    assert isinstance(numpy_folder, NumpyFolderSorting)
    assert_sortings_equal(sorting, load(tmp_path / "np"))
    mem = sorting.save(format="memory")
    assert_sortings_equal(sorting, mem)
    assert_sortings_equal(sorting.select_units(["u4", "u1"]), load(sorting.select_units(["u4", "u1"]).to_dict()),
                          check_metadata=False)
    view = sorting.select_segments([0]).frame_slice(1000, 40000)
    assert_sortings_equal(view, load(view.save(folder=tmp_path / "v").to_dict()))


def test_numpy_folder_sorting_maps_its_spike_vector(tmp_path, monkeypatch):
    import gpuspike.core.numpyextractors as numpyextractors

    sorting = gs.generate_sorting(num_units=5, durations=[10.0, 7.0], sampling_frequency=30000.0, seed=4)
    sorting.save(folder=tmp_path / "np", format="numpy_folder")
    monkeypatch.setattr(numpyextractors, "_CHECK_ROWS", 7)  # the bounded checks cross many pass boundaries
    mapped = NumpyFolderSorting(tmp_path / "np", mmap_mode="r")
    spikes = mapped.to_spike_vector()
    assert isinstance(spikes, np.memmap) and not spikes.flags.writeable
    assert_sortings_equal(sorting, mapped)
    assert not isinstance(NumpyFolderSorting(tmp_path / "np").to_spike_vector(), np.memmap)
    with pytest.raises(ValueError, match="mmap_mode"):
        NumpyFolderSorting(tmp_path / "np", mmap_mode="w+")

    # a file written out of order is read into memory and sorted; one with a bad unit index is refused
    reference = np.load(tmp_path / "np" / "spikes.npy")
    shuffled = tmp_path / "shuffled"
    shutil.copytree(tmp_path / "np", shuffled)
    np.save(shuffled / "spikes.npy", reference[np.random.default_rng(0).permutation(reference.size)])
    unsorted = NumpyFolderSorting(shuffled, mmap_mode="r")
    assert not isinstance(unsorted.to_spike_vector(), np.memmap)
    np.testing.assert_array_equal(unsorted.to_spike_vector(), reference)
    # an unsorted mapped spike vector handed to a sorting is sorted too (not kept mapped out of order)
    given = gs.NumpySorting(np.load(shuffled / "spikes.npy", mmap_mode="r"), 30000.0, sorting.unit_ids)
    assert not isinstance(given.to_spike_vector(), np.memmap)
    np.testing.assert_array_equal(given.to_spike_vector(), reference)
    kept = gs.NumpySorting(np.load(tmp_path / "np" / "spikes.npy", mmap_mode="r"), 30000.0, sorting.unit_ids)
    assert isinstance(kept.to_spike_vector(), np.memmap)
    damaged = reference.copy()
    damaged["unit_index"][-1] = 5  # in the last pass
    np.save(shuffled / "spikes.npy", damaged)
    with pytest.raises(gs.core.errors.CorruptFolderError, match="unit_index"):
        NumpyFolderSorting(shuffled, mmap_mode="r")


def test_snippets_and_events_round_trip(tmp_path):
    snippets, _ = gs.generate_snippets(nbefore=10, nafter=20, num_channels=3, durations=[1.0, 0.5], set_probe=True,
                                    num_units=3)
    snippets.set_property("q", np.array([1, 2, 3]))
    saved = snippets.save(folder=tmp_path / "snip")
    reloaded = load(tmp_path / "snip")
    for obj in (saved, reloaded, snippets.save(format="memory")):
        assert obj.nbefore == snippets.nbefore and obj.snippet_len == snippets.snippet_len
        for seg in range(2):
            assert np.array_equal(obj.get_frames(segment_index=seg), snippets.get_frames(segment_index=seg))
            assert np.array_equal(obj.get_snippets(segment_index=seg), snippets.get_snippets(segment_index=seg))
        assert np.array_equal(obj.get_property("q"), [1, 2, 3])
        assert np.array_equal(obj.get_channel_locations(), snippets.get_channel_locations())
    dtype = np.dtype([("time", "float64"), ("duration", "float64"), ("label", "U8")])
    ev0 = np.array([(0.5, 0.1, "on"), (1.5, 0.2, "off")], dtype=dtype)
    ev1 = np.array([(0.25, 0.0, "x")], dtype=dtype)
    events = gs.NumpyEvent.from_dict([{"ttl": ev0, "cam": ev0[:1]}, {"ttl": ev1, "cam": ev1}])
    events.annotate(rig=2)
    saved_ev = events.save(folder=tmp_path / "ev")
    for obj in (saved_ev, load(tmp_path / "ev"), events.save(format="memory")):
        for seg in range(2):
            for ch in ("ttl", "cam"):
                assert np.array_equal(obj.get_events(ch, segment_index=seg), events.get_events(ch, segment_index=seg))
        assert obj.get_annotation("rig") == 2


def test_read_binary_folder_and_folder_none(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    rec = gs.generate_recording(num_channels=2, durations=[0.2])
    saved = rec.save(**NOBAR)
    assert str(saved._kwargs["folder_path"]).startswith(str(tmp_path))
    assert isinstance(read_binary_folder(saved._kwargs["folder_path"]), BinaryFolderRecording)


def test_time_series_writers_with_spikeinterface_argument_order(tmp_path):
    from gpuspike.core.time_series_tools import write_binary, write_memory

    rec = gs.generate_recording(num_channels=3, durations=[0.3, 0.2], seed=2)
    rec.set_times(rec.get_times(segment_index=1) + 4.0, segment_index=1)
    paths = [tmp_path / "a.raw", tmp_path / "b.raw"]
    stamps = [tmp_path / "a_times.raw", tmp_path / "b_times.raw"]
    written = write_binary(rec, paths, stamps, "float64", True, 16, False, n_jobs=1)  # SpikeInterface's order
    assert written == paths
    for i, path in enumerate(paths):
        raw = np.fromfile(path, dtype="float64")
        assert not raw[:2].any()  # the 16-byte offset
        np.testing.assert_array_equal(raw[2:].reshape(-1, 3), rec.get_traces(segment_index=i))
    np.testing.assert_array_equal(np.fromfile(stamps[1], dtype="float64"), rec.get_times(segment_index=1))
    for n_jobs, shared in ((1, False), (2, True)):  # SpikeInterface's "auto": shared memory when n_jobs > 1
        arrays, shms = write_memory(rec, n_jobs=n_jobs, engine="thread", chunk_size=1000)
        assert all((shm is not None) == shared for shm in shms)
        for i, array in enumerate(arrays):
            np.testing.assert_array_equal(array, rec.get_traces(segment_index=i))
        del arrays
        for shm in shms:
            if shm is not None:
                shm.close()
                shm.unlink()


def test_to_dict_takes_spikeinterface_positional_order(tmp_path):
    rec = gs.generate_recording(num_channels=4, durations=[0.2], set_probe=True)
    rec.annotate(lab="x")
    rec.set_property("quality", np.arange(4))
    full = rec.to_dict()
    assert "probegroup" in full and full["properties"]["quality"] == [0, 1, 2, 3]
    # (include_annotations, include_properties, include_extra_metadata, relative_to, recursive), as 0.105
    bare = rec.to_dict(False, False, False)
    assert "probegroup" not in bare and "quality" not in bare["properties"] and "lab" not in bare["annotations"]
    moved = rec.save(folder=tmp_path / "r", **NOBAR).to_dict(True, True, True, tmp_path, True)
    assert moved["relative_paths"] and not str(moved["kwargs"]["folder_path"]).startswith(str(tmp_path))


@pytest.mark.parametrize("format", ["binary_folder", "zarr"])
def test_interleaved_probes_survive_save_and_load(tmp_path, format):
    """Two probes whose contacts interleave on the channels (wired by a permutation)."""
    wiring = np.array([3, 0, 5, 1, 4, 2])
    group = interleaved_probegroup(3, wiring, offset=(200.0, 0.0))
    rec = gs.NumpyRecording([np.arange(60, dtype="float32").reshape(10, 6)], 1000.0, channel_ids=list("abcdef"))
    rec.set_probegroup(group, in_place=True)
    contacts = np.vstack([probe.contact_positions for probe in group.probes])
    expected = np.zeros_like(contacts)
    expected[wiring] = contacts  # channel k sits at the contact wired to it
    np.testing.assert_array_equal(rec.get_channel_locations(), expected)
    saved = rec.save(folder=tmp_path / "r", format=format, **NOBAR)
    for back in (saved, load(saved.to_dict()), load(tmp_path / ("r.zarr" if format == "zarr" else "r"))):
        np.testing.assert_array_equal(back.get_channel_locations(), expected)
        np.testing.assert_array_equal(back.get_channel_groups(), np.isin(np.arange(6), wiring[3:]).astype(int))
        np.testing.assert_array_equal(back.get_traces(), rec.get_traces())


def test_binary_recording_takes_the_positional_order_of_older_releases(tmp_path):
    samples = np.arange(60, dtype="float32").reshape(20, 3)
    samples.tofile(tmp_path / "a.raw")
    today = read_binary(tmp_path / "a.raw", 1000.0, "float32", 3)
    with pytest.warns(FutureWarning, match="num_chan, dtype"):
        older = read_binary([tmp_path / "a.raw"], 1000.0, 3, "float32")  # SpikeInterface 0.9x: num_chan, dtype
    for rec in (today, older):
        np.testing.assert_array_equal(rec.get_traces(), samples)
    with pytest.raises(ValueError, match="num_channels"):
        read_binary(tmp_path / "a.raw", 1000.0, "float32", 0)


@pytest.mark.parametrize("change", ["shift", "set", "reset"])
def test_times_set_in_memory_travel_with_dicts_dumps_and_analyzers(tmp_path, change):
    rec, sorting = gs.generate_ground_truth_recording(durations=[1.0, 0.5], num_channels=2, num_units=1, seed=0)
    rec = rec.save(folder=tmp_path / "rec", **NOBAR)
    rec.set_times(rec.get_times(segment_index=1) + 7.0, segment_index=1)
    expected = [rec.get_times(segment_index=i).copy() for i in range(2)]
    if change == "shift":
        rec.shift_times(5.0)
        expected = [t + 5.0 for t in expected]
    elif change == "set":
        expected[0] = np.arange(rec.get_num_samples(0)) / rec.sampling_frequency + 300.0
        rec.set_times(expected[0], segment_index=0)
    else:
        rec.reset_times()
        expected = [np.arange(rec.get_num_samples(i)) / rec.sampling_frequency for i in range(2)]
    rec.dump(tmp_path / "rec.json")
    analyzer_folder = tmp_path / "analyzer"
    gs.create_sorting_analyzer(sorting, rec, format="binary_folder", folder=analyzer_folder)
    for back in (load(rec.to_dict()), load(tmp_path / "rec.json"), rec.select_channels([rec.channel_ids[1]]),
                 gs.load_sorting_analyzer(analyzer_folder).recording):
        for i in range(2):
            np.testing.assert_array_equal(back.get_times(segment_index=i), expected[i])
    with pytest.warns(FutureWarning, match="with_warning"):
        rec.set_times(expected[0], segment_index=0, with_warning=False)


def test_in_memory_objects_and_their_views_rebuild_from_their_dicts():
    traces = np.arange(40, dtype="int16").reshape(20, 2)
    rec = gs.NumpyRecording([traces], 1000.0, channel_ids=["a", "b"])
    for obj in (rec, rec.frame_slice(2, 9), rec.select_channels(["b"])):
        d = obj.to_dict()
        back = load(d)
        assert type(back) is type(obj) and back.get_dtype() == np.dtype("int16")
        np.testing.assert_array_equal(back.get_traces(), obj.get_traces())
        assert list(back.channel_ids) == list(obj.channel_ids)
    assert rec.to_dict()["kwargs"]["traces_list"][0] is traces  # the memory itself, as SpikeInterface's dict
    snippets = gs.NumpySnippets([np.arange(24, dtype="float32").reshape(3, 4, 2)], [np.array([1, 5, 8])], 1000.0,
                                nbefore=1)
    back = load(snippets.to_dict())
    np.testing.assert_array_equal(back.get_snippets(), snippets.get_snippets())
    np.testing.assert_array_equal(back.get_frames(), [1, 5, 8])
    assert back.get_snippets().dtype == np.float32
