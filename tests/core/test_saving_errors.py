"""Saving and loading errors: existing folders, truncated or damaged files, interrupted saves."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import gpuspike as gs
from gpuspike.core.errors import CorruptFolderError, FolderExistsError, NotDumpableError
from gpuspike.core.loading import load

NOBAR = dict(progress_bar=False)


@pytest.fixture
def saved(tmp_path):
    rec = gs.generate_recording(num_channels=4, durations=[0.5, 0.2], sampling_frequency=10000.0, seed=4)
    rec.save(folder=tmp_path / "rec", **NOBAR)
    return rec, tmp_path / "rec"


@pytest.mark.parametrize("format", ["binary", "zarr"])
def test_overwrite_false_never_touches_existing_folder(tmp_path, format):
    rec = gs.generate_recording(num_channels=2, durations=[0.1])
    target = tmp_path / ("x.zarr" if format == "zarr" else "x")
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    with pytest.raises(FolderExistsError, match="overwrite=True"):
        rec.save(folder=tmp_path / "x", format=format, **NOBAR)
    assert [p.name for p in target.iterdir()] == ["keep.txt"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    # overwrite=True replaces only what gpuspike or SpikeInterface wrote: a folder of the user's is refused
    with pytest.raises(gs.RefusedOverwriteError, match="not written by gpuspike.*keep.txt"):
        rec.save(folder=tmp_path / "x", format=format, overwrite=True, **NOBAR)
    assert (target / "keep.txt").read_text() == "mine"
    (target / "keep.txt").unlink()  # an empty folder loses nothing: it may be replaced
    rec.save(folder=tmp_path / "x", format=format, overwrite=True, **NOBAR)
    rec.save(folder=tmp_path / "x", format=format, overwrite=True, **NOBAR)  # and so may a saved one
    assert gs.load(target).get_num_channels() == 2


def test_overwrite_false_for_sortings(tmp_path):
    sorting = gs.generate_sorting(num_units=2, durations=[0.5])
    sorting.save(folder=tmp_path / "s")
    with pytest.raises(FolderExistsError):
        sorting.save(folder=tmp_path / "s")


def test_truncated_raw_file(saved):
    _, folder = saved
    raw = folder / "traces_cached_seg1.raw"
    with open(raw, "r+b") as f:
        f.truncate(raw.stat().st_size - 3)
    with pytest.raises(CorruptFolderError, match="traces_cached_seg1.raw.*not a whole number"):
        load(folder)


def test_raw_file_shorter_than_json_says(saved):
    _, folder = saved
    raw = folder / "traces_cached_seg0.raw"
    with open(raw, "r+b") as f:
        f.truncate(raw.stat().st_size - 4 * 8 * 10)
    with pytest.raises(CorruptFolderError, match="traces_cached_seg0.raw.*says 5000"):
        load(folder)


def test_missing_raw_and_missing_json(saved, tmp_path):
    _, folder = saved
    (folder / "binary.json").unlink()
    with pytest.raises(CorruptFolderError, match="binary.json"):
        load(folder)
    for name in ("si_folder.json", "annotations.json"):
        (folder / name).unlink()
    with pytest.raises(CorruptFolderError, match="no si_folder.json"):
        load(folder)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CorruptFolderError, match="no si_folder.json"):
        load(empty)
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "nothing")


def test_missing_traces_file(saved):
    _, folder = saved
    (folder / "traces_cached_seg1.raw").unlink()
    with pytest.raises(CorruptFolderError, match="traces_cached_seg1.raw.*missing"):
        load(folder)


@pytest.mark.parametrize("dtype, match, keep_record", [("int16", "kwargs dtype '<i2' differs from the dtype '<f4'", True),
                                                       ("int16", "says 5000", False),
                                                       ("int17", "not a numpy dtype", True)])
def test_wrong_dtype_in_json(saved, dtype, match, keep_record):
    _, folder = saved
    d = json.loads((folder / "binary.json").read_text())
    assert d["kwargs"]["dtype"] == "<f4" and d["dtype"] == "<f4"
    d["kwargs"]["dtype"] = dtype
    if not keep_record:  # as in SpikeInterface's binary.json: the file size is the check left
        del d["dtype"]
    (folder / "binary.json").write_text(json.dumps(d))
    with pytest.raises(CorruptFolderError, match=match):
        load(folder)


def test_damaged_json_and_npz(tmp_path):
    sorting = gs.generate_sorting(num_units=3, durations=[1.0])
    sorting.save(folder=tmp_path / "s", format="npz")
    npz = tmp_path / "s" / "sorting_cached.npz"
    npz.write_bytes(npz.read_bytes()[:100])
    with pytest.raises(CorruptFolderError, match="sorting_cached.npz"):
        load(tmp_path / "s")
    (tmp_path / "s" / "npz.json").write_text('{"class": "spikeinter')
    with pytest.raises(CorruptFolderError, match="npz.json.*not valid JSON"):
        load(tmp_path / "s")


def test_zarr_missing_arrays(tmp_path):
    rec = gs.generate_recording(num_channels=2, durations=[0.2, 0.1])
    rec.save(folder=tmp_path / "r", format="zarr", **NOBAR)
    import shutil

    shutil.rmtree(tmp_path / "r.zarr" / "traces_seg1")
    with pytest.raises(CorruptFolderError, match="traces_seg1"):
        load(tmp_path / "r.zarr")


def test_in_memory_objects_are_not_dumpable(tmp_path):
    rec = gs.NumpyRecording([np.zeros((100, 2), "float32")], 1000.0)
    assert not rec.is_dumpable and not rec.channel_slice([1]).is_dumpable
    assert rec.to_dict()["dumpable"] is False
    with pytest.raises(NotDumpableError, match="save"):
        rec.check_dumpable("a process pool")
    saved = rec.save(folder=tmp_path / "m", **NOBAR)
    assert saved.is_dumpable and not (tmp_path / "m" / "provenance.json").exists()


def test_an_extractor_of_older_releases_sets_is_dumpable_itself():
    class Legacy(gs.NumpyRecording):  # SpikeInterface < 0.100 extractors assign the attribute in __init__
        def __init__(self, traces):
            super().__init__([traces], 1000.0)
            self.is_dumpable = False

    rec = gs.generate_recording(num_channels=2, durations=[0.2])
    assert rec.is_dumpable
    legacy = Legacy(np.zeros((10, 2), "float32"))
    assert legacy.is_dumpable is False and legacy.channel_slice(legacy.channel_ids[:1]).is_dumpable is False
    with pytest.raises(NotDumpableError):
        legacy.check_dumpable("a process pool")
    rec.is_dumpable = False
    assert not rec.is_dumpable and not rec.channel_slice(rec.channel_ids[:1]).is_dumpable


def test_failed_save_leaves_nothing(tmp_path, monkeypatch):
    rec = gs.generate_recording(num_channels=2, durations=[0.3])
    rec.save(folder=tmp_path / "r", **NOBAR)
    before = (tmp_path / "r" / "traces_cached_seg0.raw").read_bytes()
    from gpuspike.engine.save import SaveBinaryJob

    def boom(*args):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(SaveBinaryJob, "process", boom)
    other = gs.generate_recording(num_channels=2, durations=[0.3], seed=99)
    with pytest.raises(RuntimeError, match="disk on fire"):
        other.save(folder=tmp_path / "r", overwrite=True, **NOBAR)
    assert (tmp_path / "r" / "traces_cached_seg0.raw").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


_SLOW_SAVE = textwrap.dedent("""
    import sys, time
    import gpuspike as gs
    from gpuspike.engine.save import SaveBinaryJob
    chunk = SaveBinaryJob.process
    def slow(*args):
        time.sleep(0.02)
        return chunk(*args)
    SaveBinaryJob.process = slow
    rec = gs.generate_recording(num_channels=16, durations=[20.0], sampling_frequency=10000.0, seed=int(sys.argv[2]))
    rec.save(folder=sys.argv[1], overwrite=True, chunk_size=500, progress_bar=False)
""")


def _kill_mid_write(target: Path, seed: int) -> Path:
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_SAVE, str(target), str(seed)])
    try:
        deadline = time.time() + 60
        partial = None
        while time.time() < deadline and partial is None:
            found = [p for p in target.parent.iterdir() if p.name.startswith(f".{target.name}.partial-")]
            if found and (found[0] / "traces_cached_seg0.raw").exists():
                partial = found[0]
            time.sleep(0.01)
        assert partial is not None, "the saving process never started writing"
        time.sleep(0.3)
        assert proc.poll() is None, "the save finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    return partial


def test_sigkill_mid_write_keeps_previous_content(tmp_path):
    target = tmp_path / "rec"
    partial = _kill_mid_write(target, seed=1)
    assert not target.exists()
    with pytest.raises(CorruptFolderError, match="interrupted save"):
        load(partial)
    previous = gs.generate_recording(num_channels=3, durations=[0.4], seed=7)
    previous.save(folder=target, **NOBAR)
    partial = _kill_mid_write(target, seed=2)
    reloaded = load(target)
    assert reloaded.get_num_channels() == 3
    assert np.array_equal(reloaded.get_traces(), previous.get_traces())
    with pytest.raises(CorruptFolderError, match="interrupted save"):
        load(partial)
    # renamed out of its temporary name, the half folder is still rejected (no JSON was written yet)
    renamed = tmp_path / "renamed_half"
    partial.rename(renamed)
    with pytest.raises(CorruptFolderError):
        load(renamed)


def test_spikeinterface_dicts_map_to_gpuspike_classes(tmp_path):
    from gpuspike.core.interop import resolve_foreign_class

    data = np.arange(600, dtype="int16").reshape(100, 6)
    (tmp_path / "t.raw").write_bytes(data.tobytes())
    binary = {"class": "spikeinterface.core.binaryrecordingextractor.BinaryRecordingExtractor",
              "module": "spikeinterface", "version": "0.105.3", "relative_paths": True, "annotations": {},
              "properties": {"group": None, "location": None, "gain_to_uV": None, "offset_to_uV": None},
              "kwargs": {"file_paths": ["t.raw"], "sampling_frequency": 1000.0, "t_starts": None,
                         "num_channels": 6, "dtype": "int16", "channel_ids": [0, 1, 2, 3, 4, 5], "time_axis": 0,
                         "file_offset": 0, "gain_to_uV": [1.0] * 6, "offset_to_uV": [0.0] * 6,
                         "is_filtered": False, "file_timestamps_paths": None}}
    view = {"class": "spikeinterface.core.channelslice.ChannelSliceRecording", "module": "spikeinterface",
            "version": "0.105.3", "relative_paths": True, "annotations": {"is_filtered": True}, "properties": {},
            "kwargs": {"parent_recording": binary, "channel_ids": [4, 1], "renamed_channel_ids": None}}
    rec = load(view, base_folder=tmp_path)
    assert np.array_equal(rec.get_traces(), data[:, [4, 1]])
    assert rec.is_filtered() and rec.get_property("gain_to_uV").tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match="cannot load class 'spikeinterface.preprocessing.*BandpassFilter.*"
                                         "BinaryFolderRecording"):
        resolve_foreign_class("spikeinterface.preprocessing.filter.BandpassFilterRecording")
    with pytest.raises(ValueError, match="relative paths"):
        load(view)


def test_missing_folder_and_unknown_units_raise_what_either_library_catches(tmp_path):
    import gpuspike as gs

    for name in ("nothing", "nothing.zarr"):
        with pytest.raises(FileNotFoundError, match="does not exist"):
            gs.load(tmp_path / name)
        with pytest.raises(ValueError, match="does not exist"):  # SpikeInterface's type
            gs.load(tmp_path / name)
    recording, sorting = gs.generate_ground_truth_recording(durations=[1.0], num_channels=4, num_units=2, seed=0)
    analyzer = gs.create_sorting_analyzer(sorting, recording)
    for error in (AssertionError, ValueError):
        with pytest.raises(error, match="not in the analyzer"):
            analyzer.select_units(["nope"])
