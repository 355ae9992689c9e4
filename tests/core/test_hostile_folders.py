"""Hostile folders and arguments: what a folder may name (paths, classes, pickled arrays), what a
failed or mistaken write may destroy, and the errors bad values get."""
import io
import json
import os
import pickle
import shutil
from multiprocessing import shared_memory
from pathlib import Path

import numpy as np
import pytest

import gpuspike as gs
from gpuspike.core.errors import CorruptFolderError, RefusedOverwriteError, UnsafeFolderError

NOBAR = dict(progress_bar=False)


def _recording(seed=1, duration=0.2):
    return gs.generate_recording(num_channels=3, durations=[duration], sampling_frequency=10000.0, seed=seed)


def _edit_json(path: Path, **changes) -> dict:
    d = json.loads(path.read_text())
    d.update(changes)
    path.write_text(json.dumps(d))
    return d


# ---------------------------------------------------------------------- paths stay inside the folder
def test_absolute_path_in_folder_json_refused(tmp_path):
    outside = tmp_path / "secret.raw"
    np.arange(30, dtype="<f4").tofile(outside)
    _recording().save(folder=tmp_path / "f", **NOBAR)
    _edit_json(tmp_path / "f" / "si_folder.json", relative_paths=False,
               **{"class": "spikeinterface.core.binaryrecordingextractor.BinaryRecordingExtractor",
                  "kwargs": {"file_paths": [str(outside)], "sampling_frequency": 10000.0, "num_channels": 3,
                             "dtype": "<f4"}})
    with pytest.raises(UnsafeFolderError, match="leads outside the folder"):
        gs.load(tmp_path / "f")


def test_binary_json_paths_leaving_the_folder_refused(tmp_path):
    rec = _recording()
    rec.save(folder=tmp_path / "dotdot", **NOBAR)
    rec.save(folder=tmp_path / "link", **NOBAR)
    shutil.copy(tmp_path / "dotdot" / "traces_cached_seg0.raw", tmp_path / "outside.raw")
    d = json.loads((tmp_path / "dotdot" / "binary.json").read_text())
    d["kwargs"]["file_paths"] = ["../outside.raw"]
    (tmp_path / "dotdot" / "binary.json").write_text(json.dumps(d))
    with pytest.raises(UnsafeFolderError, match="outside.raw"):
        gs.load(tmp_path / "dotdot")
    raw = tmp_path / "link" / "traces_cached_seg0.raw"
    raw.unlink()
    raw.symlink_to(tmp_path / "outside.raw")
    with pytest.raises(UnsafeFolderError, match="leads outside the folder"):
        gs.load(tmp_path / "link")


def test_relative_path_of_a_folder_starts_at_the_folder_not_the_working_directory(tmp_path, monkeypatch):
    own, other = _recording(seed=1, duration=0.2), _recording(seed=2, duration=0.5)
    own.save(folder=tmp_path / "own", **NOBAR)
    other.save(folder=tmp_path / "other", **NOBAR)
    _edit_json(tmp_path / "own" / "si_folder.json", relative_paths=False)
    monkeypatch.chdir(tmp_path / "other")
    loaded = gs.load(tmp_path / "own")
    np.testing.assert_array_equal(loaded.get_traces(), own.get_traces())


def test_symlinked_property_file_refused(tmp_path):
    _recording().save(folder=tmp_path / "f", **NOBAR)
    np.save(tmp_path / "secret.npy", np.arange(3))
    (tmp_path / "f" / "properties" / "secret.npy").symlink_to(tmp_path / "secret.npy")
    with pytest.raises(UnsafeFolderError, match="secret.npy' leads outside the folder"):
        gs.load(tmp_path / "f")


def test_dump_to_json_of_a_recording_elsewhere_still_loads(tmp_path):
    """A JSON file (not a folder) names its source data wherever it is, as SpikeInterface's dumps do."""
    rec = _recording().save(folder=tmp_path / "data" / "rec", **NOBAR)
    (tmp_path / "dumps").mkdir()
    rec.dump_to_json(tmp_path / "dumps" / "rec.json")
    np.testing.assert_array_equal(gs.load(tmp_path / "dumps" / "rec.json").get_traces(), rec.get_traces())


def test_symlinked_extensions_folder_never_written_through(tmp_path):
    rec, sorting = gs.generate_ground_truth_recording(durations=[1.0], num_channels=4, num_units=2, seed=0)
    project = tmp_path / "project"
    analyzer = gs.create_sorting_analyzer(sorting, rec, format="binary_folder", folder=project / "analyzer")
    shutil.rmtree(project / "analyzer" / "extensions")
    (project / "analyzer" / "extensions").symlink_to("..")  # after the analyzer was opened
    (project / "random_spikes").mkdir()
    (project / "random_spikes" / "notes.txt").write_text("mine")
    with pytest.raises(UnsafeFolderError, match="extension folder"):
        analyzer.compute("random_spikes")
    with pytest.raises(UnsafeFolderError, match="extensions' leads outside the folder"):
        gs.load_sorting_analyzer(project / "analyzer")
    assert (project / "random_spikes" / "notes.txt").read_text() == "mine"


def test_links_inside_a_folder_are_followed(tmp_path):
    rec = _recording()
    rec.save(folder=tmp_path / "f", **NOBAR)
    raw = tmp_path / "f" / "traces_cached_seg0.raw"
    raw.rename(tmp_path / "f" / "data.raw")
    raw.symlink_to("data.raw")
    np.testing.assert_array_equal(gs.load(tmp_path / "f").get_traces(), rec.get_traces())


# ---------------------------------------------------------------------- no code, no shared memory
def test_shared_memory_classes_cannot_be_named_by_a_folder(tmp_path):
    block = shared_memory.SharedMemory(create=True, size=4 * 10 * 2)
    try:
        np.ndarray((10, 2), "float32", buffer=block.buf)[:] = 42.0
        shm_dict = {"class": "gpuspike.core.sharedmem.SharedMemoryRecording",
                    "kwargs": {"shm_names": [block.name], "shape_list": [[10, 2]], "dtype": "<f4",
                               "sampling_frequency": 30000.0, "main_shm_owner": True}, "relative_paths": False}
        (tmp_path / "f").mkdir()
        (tmp_path / "f" / "si_folder.json").write_text(json.dumps(shm_dict))
        (tmp_path / "rec.json").write_text(json.dumps(shm_dict))
        for source in (tmp_path / "f", tmp_path / "rec.json"):
            with pytest.raises(UnsafeFolderError, match="shared memory"):
                gs.load(source)
        rec, sorting = gs.generate_ground_truth_recording(durations=[1.0], num_channels=4, num_units=2, seed=0)
        gs.create_sorting_analyzer(sorting, rec, format="binary_folder", folder=tmp_path / "an")
        (tmp_path / "an" / "recording.json").write_text(json.dumps(shm_dict))
        with pytest.warns(UserWarning, match="shared memory"):
            analyzer = gs.load_sorting_analyzer(tmp_path / "an")
        assert not analyzer.has_recording()
        again = shared_memory.SharedMemory(name=block.name)  # still there, values untouched
        assert np.all(np.ndarray((10, 2), "float32", buffer=again.buf) == 42.0)
        again.close()
    finally:
        block.close()
        block.unlink()


class _ObjectDtype:
    pass


class _ObjectArray:
    pass


class _CraftingPickler(pickle.Pickler):
    """An object dtype whose flags say "no Python objects", and an array of it built from raw bytes."""

    def reducer_override(self, obj):
        try:
            from numpy._core.multiarray import _reconstruct
        except ImportError:  # numpy 1
            from numpy.core.multiarray import _reconstruct
        if isinstance(obj, _ObjectDtype):
            return np.dtype, ("O8", False, True), (3, "|", None, None, None, -1, -1, 0)
        if isinstance(obj, _ObjectArray):
            return _reconstruct, (np.ndarray, (0,), b"b"), (1, (4,), _ObjectDtype(), False, b"\x41" * 32)
        return NotImplemented


def test_pickle_with_an_object_array_of_raw_bytes_refused(tmp_path):
    d = {"class": "spikeinterface.core.numpyextractors.NumpySorting",
         "kwargs": {"spikes": np.zeros(0, dtype=[("sample_index", "int64"), ("unit_index", "int64"),
                                                 ("segment_index", "int64")]),
                    "sampling_frequency": 30000.0, "unit_ids": [0, 1, 2, 3]},
         "properties": {"evil": _ObjectArray()}}
    buffer = io.BytesIO()
    _CraftingPickler(buffer, protocol=4).dump(d)
    (tmp_path / "crafted.pkl").write_bytes(buffer.getvalue())
    with pytest.raises(UnsafeFolderError, match="object dtype"):
        gs.load(tmp_path / "crafted.pkl")


def test_plain_pickles_still_load(tmp_path):
    sorting = gs.generate_sorting(num_units=3, durations=[0.5], seed=1)
    sorting.dump_to_pickle(tmp_path / "s.pkl")
    loaded = gs.load(tmp_path / "s.pkl")
    np.testing.assert_array_equal(loaded.to_spike_vector(), sorting.to_spike_vector())


def test_pickle_codec_in_zarr_sorting_refused_before_zarr_reads(tmp_path):
    gs.generate_sorting(num_units=2, durations=[0.5], seed=1).save(folder=tmp_path / "s", format="zarr")
    meta = tmp_path / "s.zarr" / "unit_ids" / ".zarray"
    d = json.loads(meta.read_text())
    d["filters"] = [{"id": "pickle", "protocol": 5}]
    d["dtype"] = "|O"
    meta.write_text(json.dumps(d))
    with pytest.raises(UnsafeFolderError, match="'unit_ids'.*'pickle' codec"):
        gs.load(tmp_path / "s.zarr")


# ---------------------------------------------------------------------- what a write may destroy
def test_failed_recompute_keeps_the_saved_children(tmp_path, monkeypatch):
    rec, sorting = gs.generate_ground_truth_recording(durations=[1.0], num_channels=4, num_units=2, seed=0)
    analyzer = gs.create_sorting_analyzer(sorting, rec, format="binary_folder", folder=tmp_path / "an")
    analyzer.compute(["random_spikes", "waveforms", "templates"], **NOBAR)
    before = analyzer.get_extension("templates").get_data().copy()
    waveforms_class = type(analyzer.get_extension("waveforms"))

    def failing_run(self, *args, **kwargs):
        raise OSError("I/O error while reading the raw file")

    monkeypatch.setattr(waveforms_class, "_run", failing_run)
    with pytest.raises(OSError, match="I/O error"):
        analyzer.compute("waveforms", ms_before=1.5, **NOBAR)
    assert "templates" in analyzer.get_saved_extension_names()
    reopened = gs.load_sorting_analyzer(tmp_path / "an")
    np.testing.assert_array_equal(reopened.get_extension("templates").get_data(), before)


@pytest.mark.parametrize("files", [{"params.json": '{"lab": "settings"}', "waveforms/plot.png": "png"},
                                   {"cached.json": '{"my": "cache"}'},
                                   {"si_folder.json": '{"class": "my.own.Thing"}'}])
def test_overwrite_refuses_user_folders_with_marker_like_names(tmp_path, files):
    folder = tmp_path / "project"
    for name, text in {**files, "thesis.tex": "precious"}.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    with pytest.raises(RefusedOverwriteError, match="not written by gpuspike"):
        _recording().save(folder=folder, overwrite=True, **NOBAR)
    assert (folder / "thesis.tex").read_text() == "precious"


@pytest.mark.parametrize("value", ["no", "False", "0", None, 2])
def test_overwrite_must_be_a_bool(tmp_path, value):
    rec = _recording()
    rec.save(folder=tmp_path / "r", **NOBAR)
    with pytest.raises(TypeError, match=f"overwrite={value!r}: allowed values are True and False"):
        _recording(seed=5).save(folder=tmp_path / "r", overwrite=value, **NOBAR)
    with pytest.raises(TypeError, match="overwrite="):
        gs.create_sorting_analyzer(gs.generate_sorting(num_units=2, durations=[0.2], sampling_frequency=10000.0),
                                   rec, format="binary_folder", folder=tmp_path / "an", overwrite=value)
    np.testing.assert_array_equal(gs.load(tmp_path / "r").get_traces(), rec.get_traces())


# ---------------------------------------------------------------------- damaged content, clear errors
def test_time_vector_of_the_wrong_length_refused_at_load(tmp_path):
    _recording().save(folder=tmp_path / "f", **NOBAR)
    _edit_json(tmp_path / "f" / "si_folder.json", times_kwargs=[{"time_vector": [1.0, 2.0, 3.0]}])
    with pytest.raises(CorruptFolderError, match=r"time_vector has shape \(3,\)"):
        gs.load(tmp_path / "f")


def test_times_kwargs_that_fit_still_travel(tmp_path):
    rec = _recording()
    rec.shift_times(12.5)
    rec.save(folder=tmp_path / "f", **NOBAR)
    assert gs.load(tmp_path / "f").get_times()[0] == pytest.approx(12.5)


@pytest.mark.parametrize("key", [".zarray", ".zattrs", "zarr.json"])
def test_zarr_metadata_names_refused_as_property_keys(tmp_path, key):
    rec = _recording()
    rec.set_property(key, np.arange(3))
    with pytest.raises(ValueError, match="zarr keeps for its metadata"):
        rec.save(folder=tmp_path / "r", format="zarr", **NOBAR)
    sorting = gs.generate_sorting(num_units=2, durations=[0.2], seed=1)
    sorting.set_property(key, np.arange(2))
    with pytest.raises(ValueError, match="zarr keeps for its metadata"):
        sorting.save(folder=tmp_path / "s", format="zarr")
    assert not (tmp_path / "r.zarr").exists() and not (tmp_path / "s.zarr").exists()


@pytest.mark.parametrize("file, content, match", [
    ("binary.json", [1, 2], "does not describe a BinaryRecordingExtractor"),
    ("annotations.json", [1, 2], "annotations .* must be a JSON object"),
    ("si_folder.json", {"class": "spikeinterface.core.binaryfolder.BinaryFolderRecording", "kwargs": []},
     "must be a dict of arguments"),
    ("si_folder.json", {"class": "spikeinterface.core.binaryfolder.BinaryFolderRecording",
                        "kwargs": {"folder_path": 5}, "relative_paths": True}, "do not fit the class"),
])
def test_damaged_folder_json_named_in_the_error(tmp_path, file, content, match):
    _recording().save(folder=tmp_path / "f", **NOBAR)
    (tmp_path / "f" / file).write_text(json.dumps(content))
    with pytest.raises(CorruptFolderError, match=match):
        gs.load(tmp_path / "f")


def test_binary_json_without_dtype_refused(tmp_path):
    _recording().save(folder=tmp_path / "f", **NOBAR)
    path = tmp_path / "f" / "binary.json"
    d = json.loads(path.read_text())
    d["kwargs"]["dtype"] = None
    d.pop("dtype", None)
    path.write_text(json.dumps(d))
    with pytest.raises(CorruptFolderError, match="dtype None is not a numpy dtype"):
        gs.load(tmp_path / "f")


def test_extension_params_must_be_an_object(tmp_path):
    rec, sorting = gs.generate_ground_truth_recording(durations=[1.0], num_channels=4, num_units=2, seed=0)
    analyzer = gs.create_sorting_analyzer(sorting, rec, format="binary_folder", folder=tmp_path / "an")
    analyzer.compute(["random_spikes", "templates"], **NOBAR)
    (tmp_path / "an" / "extensions" / "templates" / "params.json").write_text("[1, 2]")
    with pytest.raises(CorruptFolderError, match="params.json.*JSON object"):
        gs.load_sorting_analyzer(tmp_path / "an").get_extension("templates")


# ---------------------------------------------------------------------- bad arguments
def test_bad_arguments_named_with_what_is_allowed(tmp_path):
    rec = _recording()
    sorting = gs.generate_sorting(num_units=2, durations=[0.2], sampling_frequency=10000.0, seed=1)
    with pytest.raises(ValueError, match="chunk_duration=nan: give a finite number of seconds > 0"):
        rec.save(folder=tmp_path / "a", chunk_duration=float("nan"), **NOBAR)
    with pytest.raises(ValueError, match="chunk_duration='0s': give seconds > 0"):
        rec.save(folder=tmp_path / "a", chunk_duration="0s", **NOBAR)
    for size in (0, -3, 1.5):
        with pytest.raises(ValueError, match=f"channel_chunk_size={size!r}: give an int >= 1"):
            rec.save(folder=tmp_path / "z", format="zarr", channel_chunk_size=size, **NOBAR)
    with pytest.raises(TypeError, match="folder=5: give the path"):
        rec.save(folder=5, **NOBAR)
    with pytest.raises(ValueError, match="folder='' names the working directory"):
        rec.save(folder="", **NOBAR)
    with pytest.raises(ValueError, match=r"precompute_template=\('bogus',\)"):
        gs.extract_waveforms(rec, sorting, mode="memory", precompute_template=["bogus"], **NOBAR)
    with pytest.raises(ValueError, match="longer than the recording"):
        gs.extract_waveforms(rec, sorting, mode="memory", ms_before=1e9, **NOBAR)
    for name in ("sparse", "return_scaled"):
        with pytest.raises(TypeError, match=f"{name}='yes': allowed values are True and False"):
            gs.create_sorting_analyzer(sorting, rec, **{name: "yes"})
    analyzer = gs.create_sorting_analyzer(sorting, rec, sparse=False)
    analyzer.compute("random_spikes")
    with pytest.raises(TypeError, match=r"unknown parameters \['bogus'\]; allowed: \['ms_after', 'ms_before'"):
        analyzer.compute("templates", bogus=1)
    with pytest.raises(ValueError, match="seed='x': give an int >= 0 or None"):
        analyzer.compute("random_spikes", seed="x")
    assert not os.path.exists(tmp_path / "a") and not os.path.exists(tmp_path / "z.zarr")


def test_zarr_recording_replaced_after_opening_is_not_read(tmp_path):
    _recording(seed=1).save(folder=tmp_path / "r", format="zarr", **NOBAR)
    opened = gs.load(tmp_path / "r.zarr")
    first = opened.get_traces(end_frame=10)
    _recording(seed=2).save(folder=tmp_path / "r", format="zarr", overwrite=True, **NOBAR)
    with pytest.raises(CorruptFolderError, match="was replaced or removed after the recording was opened"):
        opened.get_traces(end_frame=10)
    reloaded = gs.load(tmp_path / "r.zarr").get_traces(end_frame=10)
    np.testing.assert_array_equal(reloaded, _recording(seed=2).get_traces(end_frame=10))
    assert not np.array_equal(reloaded, first)


@pytest.mark.parametrize("name", ["config.json", "results.pkl"])
def test_dump_replaces_a_dump_but_not_a_user_file(tmp_path, name):
    rec = _recording()
    user_file = tmp_path / name
    user_file.write_bytes(b'{"lab": "settings"}' if name.endswith(".json") else pickle.dumps({"my": [1, 2]}))
    with pytest.raises(RefusedOverwriteError, match="is not a dump of an object"):
        rec.dump(user_file)
    assert user_file.read_bytes().startswith(b'{"lab"') or pickle.loads(user_file.read_bytes()) == {"my": [1, 2]}
    dump = tmp_path / ("again" + Path(name).suffix)
    rec.dump(dump)
    other = _recording(seed=3)
    other.dump(dump)  # a dump is replaced
    np.testing.assert_array_equal(gs.load(dump).get_traces(), other.get_traces())


def test_pickle_of_a_container_holding_itself_is_read(tmp_path):
    loop = {"class": "x", "kwargs": {}}
    loop["kwargs"]["self"] = [loop]
    (tmp_path / "loop.pkl").write_bytes(pickle.dumps(loop))
    from gpuspike.core.serialization import load_pickle_dict

    d = load_pickle_dict(tmp_path / "loop.pkl")
    assert d["kwargs"]["self"][0] is d


@pytest.mark.parametrize("attrs, match", [({"sampling_frequency": "abc"}, "sampling_frequency='abc' is not a rate"),
                                          ({"num_segments": -1}, "num_segments=-1 is not a number of segments")])
def test_zarr_attributes_checked_at_load(tmp_path, attrs, match):
    _recording().save(folder=tmp_path / "r", format="zarr", **NOBAR)
    gs.generate_sorting(num_units=2, durations=[0.2], seed=1).save(folder=tmp_path / "s", format="zarr")
    for folder in (tmp_path / "r.zarr", tmp_path / "s.zarr"):
        _edit_json(folder / ".zattrs", **attrs)
        with pytest.raises(CorruptFolderError, match=match):
            gs.load(folder)


def test_overwrite_keeps_user_files_added_to_a_saved_folder(tmp_path):
    rec = _recording()
    rec.save(folder=tmp_path / "r", **NOBAR)
    (tmp_path / "r" / "notes.txt").write_text("mine")
    (tmp_path / "r" / ".DS_Store").write_bytes(b"desktop")  # hidden files do not count
    with pytest.raises(RefusedOverwriteError, match=r"also holds \['notes.txt'\]"):
        _recording(seed=4).save(folder=tmp_path / "r", overwrite=True, **NOBAR)
    assert (tmp_path / "r" / "notes.txt").read_text() == "mine"
    np.testing.assert_array_equal(gs.load(tmp_path / "r").get_traces(), rec.get_traces())
    (tmp_path / "r" / "notes.txt").unlink()
    _recording(seed=4).save(folder=tmp_path / "r", overwrite=True, **NOBAR)
    np.testing.assert_array_equal(gs.load(tmp_path / "r").get_traces(), _recording(seed=4).get_traces())


@pytest.mark.parametrize("where", ["properties", "deeper/still"])
def test_overwrite_keeps_user_files_in_subfolders_of_a_saved_folder(tmp_path, where):
    rec = _recording()
    rec.set_property("quality", np.arange(rec.get_num_channels()))
    rec.save(folder=tmp_path / "r", **NOBAR)
    (tmp_path / "r" / where).mkdir(parents=True, exist_ok=True)
    (tmp_path / "r" / where / "figure.png").write_bytes(b"mine")
    with pytest.raises(RefusedOverwriteError, match=rf"also holds \['{where}/figure.png'\]"):
        _recording(seed=4).save(folder=tmp_path / "r", overwrite=True, **NOBAR)
    assert (tmp_path / "r" / where / "figure.png").read_bytes() == b"mine"
    np.testing.assert_array_equal(gs.load(tmp_path / "r").get_traces(), rec.get_traces())


def test_overwrite_of_saved_zarr_and_analyzer_folders_is_not_refused_for_their_own_files(tmp_path):
    """Zarr chunks have no suffix and an analyzer holds nested extension folders: neither is a user file."""
    rec, sorting = gs.generate_ground_truth_recording(durations=[1.0], num_channels=4, num_units=2, seed=0)
    rec.save(folder=tmp_path / "r.zarr", format="zarr", **NOBAR)
    rec.save(folder=tmp_path / "r.zarr", format="zarr", overwrite=True, **NOBAR)
    analyzer = gs.create_sorting_analyzer(sorting, rec, format="binary_folder", folder=tmp_path / "a")
    analyzer.compute(["random_spikes", "waveforms", "templates"])
    (tmp_path / "a" / "extensions" / "templates" / "notes.txt").write_text("mine")
    with pytest.raises(RefusedOverwriteError, match=r"extensions/templates/notes.txt"):
        gs.create_sorting_analyzer(sorting, rec, format="binary_folder", folder=tmp_path / "a", overwrite=True)
    (tmp_path / "a" / "extensions" / "templates" / "notes.txt").unlink()
    again = gs.create_sorting_analyzer(sorting, rec, format="binary_folder", folder=tmp_path / "a", overwrite=True)
    assert again.get_loaded_extension_names() == []


@pytest.mark.parametrize("format", ["binary_folder", "zarr"])
def test_recompute_or_delete_keeps_a_user_file_in_an_extension_folder(tmp_path, format):
    rec, sorting = gs.generate_ground_truth_recording(durations=[1.0], num_channels=4, num_units=2, seed=0)
    folder = tmp_path / ("a.zarr" if format == "zarr" else "a")
    analyzer = gs.create_sorting_analyzer(sorting, rec, format=format, folder=folder)
    analyzer.compute(["random_spikes", "waveforms", "templates"])
    saved = analyzer.get_extension("templates").get_data()
    analyzer.compute("templates")  # the library's own files are replaced without a word
    analyzer.set_sorting_property("quality", np.arange(2))
    analyzer.set_sorting_property("quality", np.arange(2) + 1)  # a zarr array's chunks are its own files
    mine = folder / "extensions" / "templates" / "notes.txt"
    mine.write_text("mine")
    with pytest.raises(RefusedOverwriteError, match=r"save the extension 'templates'.*\['notes.txt'\]"):
        analyzer.compute("templates", ms_before=0.5)
    with pytest.raises(RefusedOverwriteError, match=r"delete the extension 'templates'"):
        analyzer.delete_extension("templates")
    assert mine.read_text() == "mine"
    reopened = gs.load_sorting_analyzer(folder)
    np.testing.assert_array_equal(reopened.get_extension("templates").get_data(), saved)
    mine.unlink()
    analyzer.delete_extension("templates")
    assert not (folder / "extensions" / "templates").exists()
