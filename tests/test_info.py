"""gpuspike.info.describe on folders and files created here."""
import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

import gpuspike as gs
from gpuspike.info import describe


def field(text: str, name: str) -> str:
    match = re.search(rf"^\s+{re.escape(name)}\s+: (.*)$", text, flags=re.M)
    assert match, f"no {name!r} line in:\n{text}"
    return match.group(1)


def test_waveforms_folder_written_by_hand(tmp_path):
    folder = tmp_path / "we"
    (folder / "recording_info").mkdir(parents=True)
    (folder / "waveforms").mkdir()
    (folder / "params.json").write_text(json.dumps(
        {"ms_before": 1.0, "ms_after": 2.0, "max_spikes_per_unit": 500, "return_scaled": True, "dtype": "float32"}))
    (folder / "recording_info" / "recording_attributes.json").write_text(json.dumps(
        {"channel_ids": [0, 1, 2, 3], "sampling_frequency": 30000.0, "num_channels": 4,
         "num_samples": [300000, 150000], "is_filtered": True, "dtype": "int16"}))
    (folder / "sparsity.json").write_text(json.dumps(
        {"unit_id_to_channel_ids": {"a": [0, 1], "b": [1, 2, 3], "c": [3]}, "channel_ids": [0, 1, 2, 3],
         "unit_ids": ["a", "b", "c"]}))
    for u, (n, c) in {"a": (7, 2), "b": (5, 3), "c": (2, 1)}.items():
        np.save(folder / "waveforms" / f"waveforms_{u}.npy", np.zeros((n, 90, c), "float32"))
    np.save(folder / "templates_average.npy", np.zeros((3, 90, 4), "float32"))
    np.save(folder / "templates_std.npy", np.zeros((3, 90, 4), "float32"))
    text = describe(folder)
    assert field(text, "kind") == "WaveformExtractor folder"
    assert field(text, "channels") == "4"
    assert field(text, "units") == "3"
    assert field(text, "segments") == "2"
    assert field(text, "duration") == "15.000 s"
    assert field(text, "sparsity").startswith("sparse: 2.0 of 4 channels per unit on average (min 1, max 3)")
    assert field(text, "waveforms").startswith("14 spikes in 3 files")
    assert field(text, "templates") == "average, std"
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    assert field(text, "size on disk") == f"{size / 1024:.1f} KiB"


def test_spikeglx_meta_and_folder(tmp_path, real_data):
    src = real_data / "spikeglx" / "NP1_saved_only_subset_of_channels.meta"
    meta = tmp_path / src.name
    shutil.copy(src, meta)
    np.zeros((4500, 152), "int16").tofile(meta.with_suffix(".bin"))
    text = describe(meta)
    assert field(text, "saved channels") == "152"
    assert field(text, "AP / LF / sync") == "151 / 0 / 1"
    assert field(text, "samples").startswith("4500 ")
    assert field(text, "duration") == "0.150 s"
    assert "PRB_1_4_0480_1_C" in field(text, "probe")
    assert describe(tmp_path) == text  # a folder of .meta files
    with open(meta.with_suffix(".bin"), "ab") as fh:
        fh.write(b"\x00")
    assert field(describe(meta), "samples").startswith("ERROR: ")
    meta.with_suffix(".bin").unlink()
    assert "bin missing" in field(describe(meta), "samples")


def test_saved_recording_and_sorting_folders(tmp_path):
    rec, sorting = gs.generate_ground_truth_recording(durations=[1.0, 0.5], num_channels=4, num_units=3, seed=1)
    rec.save(folder=tmp_path / "rec", n_jobs=1, progress_bar=False)
    sorting.save(folder=tmp_path / "sorting")
    text = describe(tmp_path / "rec")
    assert field(text, "channels") == "4"
    assert field(text, "segments") == "2"
    assert field(text, "duration").startswith("1.500 s")
    assert field(text, "probe")
    text = describe(tmp_path / "sorting")
    assert field(text, "units") == "3"
    total = sum(sorting.count_num_spikes_per_unit().values())
    assert field(text, "spikes").startswith(f"{total} ")


def test_kilosort_and_mearec(tmp_path):
    ks = tmp_path / "ks"
    ks.mkdir()
    np.save(ks / "spike_times.npy", np.array([10, 20, 30, 40], "uint64"))
    np.save(ks / "spike_clusters.npy", np.array([1, 1, 2, 3], "int32"))
    (ks / "params.py").write_text("sample_rate = 20000.0\n")
    text = describe(ks)
    assert field(text, "units") == "3" and field(text, "spikes").startswith("4 ")

    import h5py

    with h5py.File(tmp_path / "m.h5", "w") as f:
        f.attrs["mearec_version"] = "1.9.0"
        f["recordings"] = np.zeros((2000, 3), "float32")
        f["info/recordings/fs"] = 10000.0
        f["spiketrains/0/times"] = np.array([0.01, 0.02])
    text = describe(tmp_path / "m.h5")
    assert field(text, "channels") == "3" and field(text, "duration") == "0.200 s"


def test_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        describe(tmp_path / "missing")
    (tmp_path / "x.txt").write_text("hello")
    with pytest.raises(ValueError, match="unknown file type"):
        describe(tmp_path / "x.txt")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="not a folder gpuspike knows"):
        describe(tmp_path / "empty")
