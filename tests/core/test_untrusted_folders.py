"""A folder is data, never code: no unpickling, only extractor classes from JSON, no path leaving the folder."""
import json
import pathlib
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import gpuspike as gs
from gpuspike.core.errors import CorruptFolderError
from gpuspike.core.loading import load
from gpuspike.info import describe

NOBAR = dict(progress_bar=False)


class _Evil:
    """Unpickling this creates a marker file: the proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return pathlib.Path.touch, (pathlib.Path(self.marker),)


@pytest.fixture
def rec_folder(tmp_path):
    rec = gs.generate_recording(num_channels=3, durations=[0.1], seed=1)
    rec.set_property("quality", np.array(["good", "bad", "good"]))
    rec.save(folder=tmp_path / "rec", **NOBAR)
    return tmp_path / "rec"


# ---------------------------------------------------------------------- 5. no unpickling
def _plant_pickle(folder: Path, marker: Path, n: int) -> None:
    np.save(folder / "properties" / "evil.npy", np.array([_Evil(marker)] * n, dtype=object), allow_pickle=True)


@pytest.mark.parametrize("kind", ["binary", "npz", "numpy_folder"])
def test_pickled_property_never_unpickled(tmp_path, kind):
    marker = tmp_path / "marker"
    if kind == "binary":
        gs.generate_recording(num_channels=3, durations=[0.1]).save(folder=tmp_path / "f", **NOBAR)
        n = 3
    else:
        sorting = gs.generate_sorting(num_units=4, durations=[0.5])
        sorting.set_property("amp", np.arange(4.0))
        sorting.save(folder=tmp_path / "f", format="npz" if kind == "npz" else kind)
        n = 4
    _plant_pickle(tmp_path / "f", marker, n)
    with pytest.warns(RuntimeWarning, match="property 'evil' was not loaded.*pickle"):
        obj = load(tmp_path / "f")
    assert not marker.exists()
    assert "evil" not in obj.get_property_keys()
    if kind != "binary":
        np.testing.assert_array_equal(obj.get_property("amp"), np.arange(4.0))
    with pytest.warns(RuntimeWarning, match="never unpickles"):
        text = describe(tmp_path / "f")
    assert "properties" in text and not marker.exists()


@pytest.mark.parametrize("where, dtype", [("properties/evil", "|O"), ("traces_seg0", "<f4"), ("channel_ids", "<i8")])
def test_pickle_codec_in_zarr_folder_refused(tmp_path, where, dtype):
    import numcodecs

    marker = tmp_path / "marker"
    gs.generate_recording(num_channels=2, durations=[0.1]).save(folder=tmp_path / "r", format="zarr", **NOBAR)
    array = tmp_path / "r.zarr" / where
    if array.exists():
        shutil.rmtree(array)
    array.mkdir()
    (array / ".zarray").write_text(json.dumps({
        "zarr_format": 2, "shape": [2, 2] if "traces" in where else [2], "chunks": [2, 2] if "traces" in where
        else [2], "dtype": dtype, "compressor": None, "fill_value": None,
        "filters": [{"id": "pickle", "protocol": 5}], "order": "C", "dimension_separator": "."}))
    payload = numcodecs.Pickle().encode(np.array([_Evil(marker)] * 2, dtype=object))
    (array / ("0.0" if "traces" in where else "0")).write_bytes(payload)
    with pytest.raises(gs.UnsafeFolderError, match=f"{where!r}.*'pickle' codec"):
        load(tmp_path / "r.zarr")
    assert not marker.exists()


def test_object_properties_round_trip_without_pickles(tmp_path):
    rec = gs.generate_recording(num_channels=4, durations=[0.1])
    mixed = np.empty(4, dtype=object)
    mixed[:] = [None, "a", 3.5, None]
    nested = np.empty(4, dtype=object)
    for i, v in enumerate([[1, 2], {"k": "v"}, "x", np.arange(3)]):
        nested[i] = v
    rec.set_property("mixed", mixed)
    rec.set_property("nested", nested)
    rec.set_property("labels", np.array(["a", "bb", "c", "d"], dtype=object))
    for fmt, folder in (("binary", tmp_path / "b"), ("zarr", tmp_path / "z")):
        saved = rec.save(folder=folder, format=fmt, **NOBAR)
        for loaded in (saved, load(saved._kwargs["folder_path"])):
            assert loaded.get_property("mixed").tolist() == [None, "a", 3.5, None]
            values = loaded.get_property("nested")
            assert values[0] == [1, 2] and values[1] == {"k": "v"} and values[2] == "x"
            np.testing.assert_array_equal(values[3], np.arange(3))
            assert loaded.get_property("labels").tolist() == ["a", "bb", "c", "d"]
    for path in (tmp_path / "b" / "properties").glob("*.npy"):
        np.load(path, allow_pickle=False)  # every .npy reads without pickle
    written = sorted(p.name for p in (tmp_path / "b" / "properties").iterdir())
    assert {"labels.npy", "mixed.json", "nested.json"} <= set(written)
    assert not {"labels.json", "mixed.npy", "nested.npy"} & set(written)
    bad = np.empty(4, dtype=object)
    bad[:] = [object()] * 4
    rec.set_property("bad", bad)
    with pytest.raises(ValueError, match="property 'bad' holds Python objects of types \\['object'\\]"):
        rec.save(folder=tmp_path / "c", **NOBAR)
    assert not (tmp_path / "c").exists() and sorted(p.name for p in tmp_path.iterdir()) == ["b", "z.zarr"]


# ---------------------------------------------------------------------- 6. only extractor classes
def _evil_dicts(marker: Path) -> dict:
    return {
        "gpuspike.core.atomic.atomic_write_text": {"path": str(marker), "text": "pwned"},
        "gpuspike.core.saving.atomic_write_text": {"path": str(marker), "text": "pwned"},
        "gpuspike.core.datasets._run_git": {"args": ["-c", f"alias.pwn=!touch {marker}", "pwn"], "cwd": None,
                                            "what": "x"},
        "gpuspike.core.datasets.subprocess.run": {"args": ["touch", str(marker)]},
        "gpuspike.core.recording.BaseRecordingSegment": {},
    }


def _as_dict(class_path, kwargs):
    return {"class": class_path, "module": "gpuspike", "version": "0", "kwargs": kwargs, "annotations": {},
            "properties": {}, "relative_paths": False, "dumpable": True}


@pytest.mark.parametrize("class_path", list(_evil_dicts(Path("x"))))
def test_json_may_not_name_functions_or_non_extractor_classes(tmp_path, rec_folder, class_path):
    marker = tmp_path / "marker"
    d = _as_dict(class_path, _evil_dicts(marker)[class_path])
    (tmp_path / "evil.json").write_text(json.dumps(d))
    # nested in the kwargs of a real view, too
    view = rec_folder / "si_folder.json"
    view_dict = {**_as_dict("gpuspike.core.views.ChannelSliceRecording",
                            {"parent_recording": d, "channel_ids": [0], "renamed_channel_ids": None})}
    folder = tmp_path / "evil_folder"
    shutil.copytree(rec_folder, folder)
    (folder / "si_folder.json").write_text(json.dumps(d))
    attempts = [lambda: load(tmp_path / "evil.json"), lambda: load(d), lambda: load(view_dict),
                lambda: gs.BaseExtractor.from_dict(d), lambda: load(folder)]
    for attempt in attempts:
        with pytest.raises(gs.UnsafeFolderError, match=f"class {class_path!r} is not an extractor class"):
            attempt()
        assert not marker.exists()
    with pytest.raises(ValueError, match=class_path.replace(".", "\\.")):
        describe(folder)
    assert not marker.exists()
    assert view.is_file()


def test_registered_classes_still_load(rec_folder):
    rec = load(rec_folder)
    assert load(rec.channel_slice(rec.channel_ids[[2, 0]]).to_dict()).get_num_channels() == 2
    from gpuspike.core.registry import registered_class_paths

    paths = registered_class_paths()
    assert "gpuspike.core.binaryfolder.BinaryFolderRecording" in paths
    assert "gpuspike.extractors.kilosort.KiloSortSorting" in paths
    assert not [p for p in paths if not p.startswith("gpuspike.")]


def test_git_alias_would_have_run(tmp_path):
    """The _run_git payload above is live: called directly, it does create the marker."""
    from gpuspike.core.datasets import _run_git

    marker = tmp_path / "marker"
    _run_git(**_evil_dicts(marker)["gpuspike.core.datasets._run_git"])
    assert marker.exists()


# ---------------------------------------------------------------------- 7. paths stay inside the folder
@pytest.mark.parametrize("key", ["../../x", "a/b", "..", "", "c\\d", "nul\x00"])
@pytest.mark.parametrize("fmt", ["binary", "zarr", "npz"])
def test_property_keys_cannot_leave_the_folder(tmp_path, key, fmt):
    out = tmp_path / "out"
    out.mkdir()
    if fmt == "npz":
        obj = gs.generate_sorting(num_units=2, durations=[0.5])
        obj.set_property(key, np.arange(2))
        save = lambda: obj.save(folder=out / "saved")  # noqa: E731
    else:
        obj = gs.generate_recording(num_channels=2, durations=[0.1])
        obj.set_property(key, np.arange(2))
        save = lambda: obj.save(folder=out / "saved", format=fmt, **NOBAR)  # noqa: E731
    with pytest.raises(ValueError, match=f"property key {key!r}".replace("\\", "\\\\")):
        save()
    assert [p.relative_to(tmp_path) for p in tmp_path.rglob("*")] == [Path("out")]


def test_unit_ids_naming_files_checked_before_the_work(tmp_path, monkeypatch):
    rec = gs.generate_recording(num_channels=2, durations=[0.2], seed=0)
    sorting = gs.NumpySorting.from_times_labels([np.array([100, 900, 1500])], [np.array(["shank1/u3", "a", "a"])],
                                                rec.sampling_frequency)
    import gpuspike.core.waveforms as waveforms

    def must_not_run(*args, **kwargs):
        raise AssertionError("waveforms were gathered before the unit ids were checked")

    with monkeypatch.context() as m:
        m.setattr(waveforms, "_gather_waveforms", must_not_run)
        for fmt in ("binary", "zarr"):
            with pytest.raises(ValueError, match="unit id 'shank1/u3' contains '/'"):
                gs.extract_waveforms(rec, sorting, folder=tmp_path / "wf", format=fmt, **NOBAR)
    we = gs.extract_waveforms(rec, sorting, mode="memory", **NOBAR)  # in memory no file is named after a unit
    assert we.get_waveforms("shank1/u3").shape[0] == 1
    with pytest.raises(ValueError, match="unit id 'shank1/u3'"):
        we.save(tmp_path / "wf")
    assert list(tmp_path.iterdir()) == []


def test_waveforms_folder_with_escaping_unit_ids_refused(tmp_path):
    rec = gs.generate_recording(num_channels=2, durations=[0.2], seed=0)
    sorting = gs.NumpySorting.from_times_labels([np.array([100, 900])], [np.array(["a", "b"])],
                                                rec.sampling_frequency)
    gs.extract_waveforms(rec, sorting, folder=tmp_path / "wf", **NOBAR)
    (tmp_path / "secret.npy").write_bytes(b"")
    np.save(tmp_path / "waveforms_x.npy", np.zeros((1, 2, 2)))
    info_file = tmp_path / "wf" / "sorting" / "numpysorting_info.json"  # SpikeInterface's numpy_folder layout
    info = json.loads(info_file.read_text())
    info["unit_ids"] = ["../../waveforms_x", "b"]
    info_file.write_text(json.dumps(info))
    with pytest.raises(ValueError, match="unit id '../../waveforms_x' contains '/'"):
        gs.load_waveforms(tmp_path / "wf")


def test_hostile_folder_json_subprocess_gpuspike_info(tmp_path, rec_folder):
    """`gpuspike info` on a folder naming a function: a clear error, nothing run."""
    marker = tmp_path / "marker"
    (rec_folder / "si_folder.json").write_text(json.dumps(_as_dict(
        "gpuspike.core.atomic.atomic_write_text", {"path": str(marker), "text": "pwned"})))
    res = subprocess.run([sys.executable, "-m", "gpuspike.cli", "info", str(rec_folder)], capture_output=True,
                         text=True, timeout=120)
    assert res.returncode != 0 and "not an extractor class" in res.stdout + res.stderr
    assert not marker.exists()
    assert isinstance(CorruptFolderError("x"), ValueError)


def test_pickle_codec_in_zarr_waveforms_folder_refused(tmp_path):
    import numcodecs

    marker = tmp_path / "marker"
    rec = gs.generate_recording(num_channels=2, durations=[0.2], seed=0)
    sorting = gs.NumpySorting.from_times_labels([np.array([100, 900])], [np.array(["a", "b"])],
                                                rec.sampling_frequency)
    gs.extract_waveforms(rec, sorting, folder=tmp_path / "wf", format="zarr", **NOBAR)
    array = tmp_path / "wf.zarr" / "templates_average"
    meta = json.loads((array / ".zarray").read_text())
    meta.update(dtype="|O", compressor=None, filters=[{"id": "pickle", "protocol": 5}])
    (array / ".zarray").write_text(json.dumps(meta))
    for chunk in [p for p in array.iterdir() if not p.name.startswith(".")]:
        chunk.write_bytes(numcodecs.Pickle().encode(np.array([_Evil(marker)], dtype=object)))
    with pytest.raises(gs.UnsafeFolderError, match="array 'templates_average' of waveforms folder.*'pickle' codec"):
        gs.load_waveforms(tmp_path / "wf.zarr")
    assert not marker.exists()
