"""WaveformExtractor folders: legacy SpikeInterface layout, load_waveforms, zarr, select_units, errors."""
import json
import shutil

import numpy as np
import pytest

import gpuspike as gs
from gpuspike.core.errors import FolderExistsError

from _waveforms_helpers import JOB, assert_close, gt, ref_sampled_indices, ref_select, ref_templates, ref_waveforms


@pytest.fixture(scope="module")
def data():
    return gt(seed=13, num_channels=8, num_units=4, durations=(1.0, 0.8), rate=15.0)


@pytest.fixture(scope="module")
def ref(data):
    recording, sorting = data
    selected = ref_select(sorting, 6, 2)
    return selected, ref_waveforms(recording, sorting, selected, dtype="float32")


def _assert_we_equals_ref(we, sorting, selected, wfs, modes=("average",)):
    assert we.unit_ids.tolist() == sorting.unit_ids.tolist()
    for u in sorting.unit_ids.tolist():
        np.testing.assert_array_equal(np.asarray(we.get_waveforms(u)), wfs[u])
        si = we.get_sampled_indices(u)
        np.testing.assert_array_equal(np.stack([si["spike_index"], si["segment_index"]], 1).reshape(-1, 2),
                                      ref_sampled_indices(sorting, selected, u))
    for mode in modes:
        assert_close(we.get_all_templates(mode=mode), ref_templates(wfs, sorting.unit_ids, mode))


def test_folder_layout_and_load(data, ref, tmp_path):
    recording, sorting = data
    selected, wfs = ref
    folder = tmp_path / "wf"
    we = gs.extract_waveforms(recording, sorting, folder=folder, max_spikes_per_unit=6, seed=2,
                              precompute_template=("average", "std"), **JOB, sparse=False)
    for name in ["params.json", "recording_info/recording_attributes.json", "recording_info/probegroup.json",
                 "templates_average.npy", "templates_std.npy"]:
        assert (folder / name).is_file(), name
    assert not (folder / "sparsity.json").exists()
    params = json.loads((folder / "params.json").read_text())
    assert params["ms_before"] == 1.0 and params["ms_after"] == 2.0 and params["max_spikes_per_unit"] == 6
    assert params["return_scaled"] is True
    attrs = json.loads((folder / "recording_info" / "recording_attributes.json").read_text())
    assert attrs["sampling_frequency"] == recording.sampling_frequency and attrs["num_channels"] == 8
    assert attrs["channel_ids"] == recording.channel_ids.tolist()  # plain lists: SpikeInterface reads this file
    for u in sorting.unit_ids.tolist():
        np.testing.assert_array_equal(np.load(folder / "waveforms" / f"waveforms_{u}.npy"), wfs[u])
        idx = np.load(folder / "waveforms" / f"sampled_index_{u}.npy")
        assert idx.dtype == np.dtype([("spike_index", "int64"), ("segment_index", "int64")])
        np.testing.assert_array_equal(np.stack([idx["spike_index"], idx["segment_index"]], 1).reshape(-1, 2),
                                      ref_sampled_indices(sorting, selected, u))
    assert_close(np.load(folder / "templates_std.npy"), ref_templates(wfs, sorting.unit_ids, "std"))
    _assert_we_equals_ref(we, sorting, selected, wfs, ("average", "std"))
    loaded = gs.load_waveforms(folder)
    assert loaded.has_recording()
    _assert_we_equals_ref(loaded, sorting, selected, wfs, ("average", "std", "median"))
    np.testing.assert_array_equal(loaded.get_channel_locations(), recording.get_channel_locations())
    # without the recording
    bare = gs.load_waveforms(folder, with_recording=False)
    assert not bare.has_recording()
    _assert_we_equals_ref(bare, sorting, selected, wfs)
    np.testing.assert_array_equal(bare.get_channel_locations(), recording.get_channel_locations())
    assert bare.get_num_channels() == 8 and bare.sampling_frequency == recording.sampling_frequency


def test_existing_folder_is_not_touched(data, tmp_path):
    recording, sorting = data
    folder = tmp_path / "wf"
    gs.extract_waveforms(recording, sorting, folder=folder, max_spikes_per_unit=3, seed=0, **JOB, sparse=False)
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in folder.rglob("*") if p.is_file()}
    with pytest.raises(FolderExistsError, match="overwrite"):
        gs.extract_waveforms(recording, sorting, folder=folder, max_spikes_per_unit=5, seed=1, **JOB, sparse=False)
    with pytest.raises(FolderExistsError):
        gs.load_waveforms(folder).save(folder)
    after = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in folder.rglob("*") if p.is_file()}
    assert before == after
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wf"]  # no partial folder left behind
    we = gs.extract_waveforms(recording, sorting, folder=folder, max_spikes_per_unit=5, seed=1, overwrite=True,
                              **JOB, sparse=False)
    assert we.get_waveforms(sorting.unit_ids[0]).shape[0] == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wf"]


def test_moved_folder_loads(data, ref, tmp_path):
    recording, sorting = data
    selected, wfs = ref
    saved_rec = recording.save(folder=tmp_path / "rec", **JOB)
    gs.extract_waveforms(saved_rec, sorting, folder=tmp_path / "wf", max_spikes_per_unit=6, seed=2,
                         use_relative_path=False, **JOB, sparse=False)
    shutil.move(str(tmp_path / "wf"), str(tmp_path / "moved"))
    shutil.move(str(tmp_path / "rec"), str(tmp_path / "rec_moved"))
    with pytest.warns(UserWarning, match="recording"):
        we = gs.load_waveforms(tmp_path / "moved")
    assert not we.has_recording()
    with pytest.raises(ValueError, match="recording"):
        we.recording
    _assert_we_equals_ref(we, sorting, selected, wfs)


def test_relative_paths_move_together(data, ref, tmp_path):
    recording, sorting = data
    selected, wfs = ref
    base = tmp_path / "project"
    rec = recording.save(folder=base / "rec", **JOB)
    gs.extract_waveforms(rec, sorting, folder=base / "wf", max_spikes_per_unit=6, seed=2, use_relative_path=True,
                         **JOB, sparse=False)
    shutil.move(str(base), str(tmp_path / "elsewhere"))
    we = gs.load_waveforms(tmp_path / "elsewhere" / "wf")
    assert we.has_recording()
    np.testing.assert_array_equal(we.recording.get_traces(segment_index=1, end_frame=50),
                                  recording.get_traces(segment_index=1, end_frame=50))
    _assert_we_equals_ref(we, sorting, selected, wfs)


@pytest.mark.parametrize("with_folder", [False, True])
def test_select_units(data, ref, tmp_path, with_folder):
    recording, sorting = data
    selected, wfs = ref
    we = gs.extract_waveforms(recording, sorting, mode="memory", max_spikes_per_unit=6, seed=2,
                              precompute_template=("average", "std"), **JOB, sparse=False)
    keep = sorting.unit_ids[[3, 1]]
    sub = we.select_units(keep, new_folder=tmp_path / "sub" if with_folder else None)
    if with_folder:
        assert (tmp_path / "sub" / "params.json").is_file()
        sub = gs.load_waveforms(tmp_path / "sub")
    assert sub.unit_ids.tolist() == keep.tolist()
    sub_sorting = sorting.select_units(keep)
    for u in keep.tolist():
        np.testing.assert_array_equal(np.asarray(sub.get_waveforms(u)), wfs[u])
        np.testing.assert_array_equal(sub.get_sampled_indices(u), we.get_sampled_indices(u))
        si = sub.get_sampled_indices(u)
        np.testing.assert_array_equal(np.stack([si["spike_index"], si["segment_index"]], 1).reshape(-1, 2),
                                      ref_sampled_indices(sub_sorting, _new_positions(sorting, [1, 3]), u))
    assert_close(sub.get_all_templates(mode="std"), we.get_all_templates(mode="std")[[3, 1]])


def _new_positions(sorting, unit_indices):
    """Positions in the selected sorting's spike vector of the kept units' selected spikes."""
    spikes = sorting.to_spike_vector()
    selected = ref_select(sorting, 6, 2)
    keep_all = np.flatnonzero(np.isin(spikes["unit_index"], unit_indices))
    kept = selected[np.isin(spikes["unit_index"][selected], unit_indices)]
    return np.searchsorted(keep_all, kept)


@pytest.mark.parametrize("sparse", [False, True])
def test_zarr_round_trip(data, ref, tmp_path, sparse):
    recording, sorting = data
    selected, wfs = ref
    we = gs.extract_waveforms(recording, sorting, mode="memory", max_spikes_per_unit=6, seed=2,
                              precompute_template=("average", "std"), **JOB, sparse=False)
    if sparse:
        mask = np.zeros((4, 8), bool)
        mask[np.arange(4), [0, 2, 4, 6]] = True
        mask[:, 7] = True
        sparsity = gs.ChannelSparsity(mask, sorting.unit_ids, recording.channel_ids)
        zwe = we.save(folder=tmp_path / "x.zarr", format="zarr", sparsity=sparsity)
    else:
        zwe = we.save(folder=tmp_path / "x.zarr", format="zarr")
    assert zwe.format == "zarr" and (tmp_path / "x.zarr").is_dir()
    assert (tmp_path / "x.zarr" / ".zgroup").is_file()  # zarr format 2 (zarr-python 2 and 3 read it)
    for loaded in (zwe, gs.load_waveforms(tmp_path / "x.zarr"),
                   gs.load_waveforms(tmp_path / "x.zarr", with_recording=False)):
        assert loaded.is_sparse() == sparse
        for i, u in enumerate(sorting.unit_ids.tolist()):
            expected = wfs[u][:, :, mask[i]] if sparse else wfs[u]
            np.testing.assert_array_equal(np.asarray(loaded.get_waveforms(u)), expected)
            np.testing.assert_array_equal(loaded.get_sampled_indices(u), we.get_sampled_indices(u))
        templates = we.get_all_templates(mode="std")
        assert_close(loaded.get_all_templates(mode="std"), templates * mask[:, None, :] if sparse else templates)
        np.testing.assert_array_equal(loaded.get_channel_locations(), recording.get_channel_locations())
    with pytest.raises(FolderExistsError):
        we.save(folder=tmp_path / "x.zarr", format="zarr")


def test_extract_to_zarr(data, ref, tmp_path):
    recording, sorting = data
    selected, wfs = ref
    we = gs.extract_waveforms(recording, sorting, folder=tmp_path / "w.zarr", format="zarr", max_spikes_per_unit=6,
                              seed=2, **JOB, sparse=False)
    assert we.format == "zarr"
    import zarr

    root = zarr.open_group(str(tmp_path / "w.zarr"), mode="r")
    u0 = sorting.unit_ids[0]
    np.testing.assert_array_equal(root[f"waveforms_{u0}"][...], wfs[u0])
    pairs = root[f"sampled_index_{u0}"][...]
    assert pairs.dtype == np.int64 and pairs.shape == (wfs[u0].shape[0], 2)
    np.testing.assert_array_equal(pairs, ref_sampled_indices(sorting, selected, u0))
    assert root.attrs["params"]["max_spikes_per_unit"] == 6
    _assert_we_equals_ref(gs.load_waveforms(tmp_path / "w.zarr"), sorting, selected, wfs)


def test_numpy_sorting_saved_in_folder(data, tmp_path):
    recording, sorting = data
    spikes = sorting.to_spike_vector()
    times = [spikes["sample_index"][spikes["segment_index"] == s] for s in range(2)]
    labels = [np.array(["u%d" % u for u in spikes["unit_index"][spikes["segment_index"] == s]]) for s in range(2)]
    np_sorting = gs.NumpySorting.from_times_labels(times, labels, sorting.sampling_frequency,
                                                   unit_ids=["u0", "u1", "u2", "u3"])
    assert not np_sorting.is_dumpable
    selected = ref_select(np_sorting, 4, 0)
    wfs = ref_waveforms(recording, np_sorting, selected, dtype="float32")
    for fmt, name in [("binary", "wf"), ("zarr", "wf.zarr")]:
        we = gs.extract_waveforms(recording, np_sorting, folder=tmp_path / name, format=fmt, max_spikes_per_unit=4,
                                  seed=0, **JOB, sparse=False)
        for loaded in (we, gs.load_waveforms(tmp_path / name)):
            assert loaded.unit_ids.tolist() == ["u0", "u1", "u2", "u3"]
            np.testing.assert_array_equal(loaded.sorting.to_spike_vector(), np_sorting.to_spike_vector())
            _assert_we_equals_ref(loaded, np_sorting, selected, wfs)
    assert (tmp_path / "wf" / "sorting").is_dir()
    # a moved folder keeps its sorting (saved inside it)
    shutil.move(str(tmp_path / "wf"), str(tmp_path / "wf2"))
    _assert_we_equals_ref(gs.load_waveforms(tmp_path / "wf2"), np_sorting, selected, wfs)


def test_load_errors(tmp_path):
    from gpuspike.core.errors import CorruptFolderError

    (tmp_path / "empty").mkdir()
    with pytest.raises(CorruptFolderError, match="params.json"):
        gs.load_waveforms(tmp_path / "empty")


def test_in_memory_recording_stays_attached_after_folder_extraction(tmp_path):
    traces = np.random.default_rng(3).normal(size=(3000, 4)).astype("float32")
    recording = gs.NumpyRecording([traces], 10000.0)
    sorting = gs.NumpySorting.from_times_labels(np.array([100, 900, 2000]), np.array([0, 1, 0]), 10000.0)
    with pytest.warns(UserWarning, match="no gains"):
        we = gs.extract_waveforms(recording, sorting, folder=tmp_path / "w", ms_before=1.0, ms_after=1.0,
                                  progress_bar=False, sparse=False)
    assert we.recording is recording  # not dumpable, so not reloaded from the folder, but still usable
    np.testing.assert_array_equal(np.asarray(we.get_waveforms(0))[0], traces[90:110])
    reloaded = gs.load_waveforms(tmp_path / "w")
    assert not reloaded.has_recording()
    np.testing.assert_array_equal(np.asarray(reloaded.get_waveforms(0)), np.asarray(we.get_waveforms(0)))


def test_spikeinterface_0105_mock_methods(data, ref, tmp_path):
    recording, sorting = data
    selected, wfs = ref
    folder = tmp_path / "wf"
    we = gs.extract_waveforms(recording, sorting, folder=folder, max_spikes_per_unit=6, seed=2, **JOB, sparse=False)
    # the how-to's conversion: we.sorting_analyzer.save_as(...)
    analyzer = we.sorting_analyzer.save_as(folder=tmp_path / "analyzer", format="binary_folder")
    reopened = gs.load_sorting_analyzer(tmp_path / "analyzer")
    assert_close(reopened.get_extension("templates").get_data(), ref_templates(wfs, sorting.unit_ids, "average"))
    assert analyzer.get_extension("waveforms") is not None
    assert we.load_extension("templates").get_data().shape == (4, we.nsamples, 8)
    assert not we.is_read_only()
    ids = recording.channel_ids[[3, 0]]
    np.testing.assert_array_equal(we.channel_ids_to_indices(ids), [3, 0])
    with pytest.raises(ValueError, match="not channels"):
        we.channel_ids_to_indices(["nope"])
    np.testing.assert_array_equal(we.get_recording_property("group"), recording.get_property("group"))
    with pytest.raises(ValueError, match="deletable"):
        we.delete_extension("templates")
    we.delete_extension("waveforms")
    assert not we.has_waveforms() and not (folder / "waveforms").exists()
    assert_close(we.get_all_templates(), ref_templates(wfs, sorting.unit_ids, "average"))
    assert "waveforms" not in we.sorting_analyzer.get_loaded_extension_names()


@pytest.mark.parametrize("fmt", ["binary", "zarr"])
def test_load_sorting_analyzer_opens_a_waveforms_folder(data, ref, tmp_path, fmt):
    """SpikeInterface 0.105's extract_waveforms writes an analyzer folder, so its scripts open it with
    load_sorting_analyzer: gpuspike's waveforms folders open there too (in memory, with a warning)."""
    recording, sorting = data
    selected, wfs = ref
    we = gs.extract_waveforms(recording, sorting, folder=tmp_path / "wf", max_spikes_per_unit=6, seed=2, **JOB,
                              sparse=False)
    folder = tmp_path / "wf" if fmt == "binary" else we.save(folder=tmp_path / "wf.zarr", format="zarr").folder
    with pytest.warns(UserWarning, match="waveforms folder"):
        analyzer = gs.load_sorting_analyzer(folder)
    assert analyzer.format == "memory"
    assert_close(analyzer.get_extension("templates").get_data(), ref_templates(wfs, sorting.unit_ids, "average"))
    assert analyzer.unit_ids.tolist() == sorting.unit_ids.tolist()
    (tmp_path / "not_an_analyzer").mkdir()
    with pytest.raises(ValueError, match="not a SortingAnalyzer"):
        gs.load_sorting_analyzer(tmp_path / "not_an_analyzer")
