"""read_openephys on a real Open Ephys binary header tree, with a continuous.dat written here."""
import json
import shutil
from pathlib import Path

import numpy as np
import probeinterface
import pytest

from gpuspike import BaseExtractor
from gpuspike.extractors import read_openephys

NUM_SAMPLES = 1500
SRC = Path("openephys") / "OE_Neuropix-PXI-NP1-binary"


def make_session(real_data: Path, tmp_path: Path, seed: int = 0, write_sample_numbers: bool = True):
    """Copy settings.xml / structure.oebin into a fresh tree; write each stream's continuous.dat."""
    src = real_data / SRC
    dst = tmp_path / "session"
    for header in sorted(src.rglob("*")):
        if header.is_file():
            target = dst / header.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(header, target)
    (oebin,) = sorted(dst.rglob("structure.oebin"))
    structure = json.loads(oebin.read_text())
    written = {}
    rng = np.random.default_rng(seed)
    for stream in structure["continuous"]:
        folder = oebin.parent / "continuous" / stream["folder_name"]
        folder.mkdir(parents=True)
        data = rng.integers(-3000, 3000, size=(NUM_SAMPLES, stream["num_channels"]), dtype=np.int16)
        data.tofile(folder / "continuous.dat")
        if write_sample_numbers:
            np.save(folder / "sample_numbers.npy", np.arange(NUM_SAMPLES, dtype="int64") + 3000)
        written[stream["stream_name"]] = (folder / "continuous.dat", data, stream)
    settings = oebin.parents[2] / "settings.xml"
    return dst, settings, written


def test_read_openephys_traces_gains_probe(real_data, tmp_path):
    dst, settings, written = make_session(real_data, tmp_path)
    assert len(written) == 1
    dat, data, stream = written["ProbeA"]
    rec = read_openephys(dst)
    assert rec.get_num_channels() == stream["num_channels"] == 384
    assert rec.get_num_samples() == NUM_SAMPLES
    assert rec.get_sampling_frequency() == stream["sample_rate"]
    np.testing.assert_array_equal(rec.get_traces(), data)
    np.testing.assert_array_equal(rec.get_traces(start_frame=100, end_frame=110, channel_ids=rec.channel_ids[[7, 3]]),
                                  data[100:110][:, [7, 3]])
    bit_volts = np.array([c["bit_volts"] for c in stream["channels"]])
    assert all(c["units"] == "uV" for c in stream["channels"])
    np.testing.assert_allclose(rec.get_channel_gains(), bit_volts, rtol=1e-6)
    assert rec.channel_ids.tolist() == [c["channel_name"] for c in stream["channels"]]
    # probe from the Neuropix-PXI settings, as probeinterface reads it
    reader = getattr(probeinterface, "read_openephys_neuropixels", None) or probeinterface.read_openephys
    probe = reader(settings, stream_name="ProbeA")
    order = np.argsort(probe.device_channel_indices)
    np.testing.assert_allclose(rec.get_channel_locations(), probe.contact_positions[order])
    assert rec.get_probe().model_name == probe.model_name
    # binary description: the whole file, every column
    desc = rec.get_binary_description()
    assert rec.is_binary_compatible()
    assert desc["file_paths"] == [str(dat.absolute())] and desc["num_channels"] == 384
    assert desc["channel_indices"] is None and desc["time_axis"] == 0 and desc["file_offset"] == 0


def test_openephys_dumpable(real_data, tmp_path):
    dst, settings, written = make_session(real_data, tmp_path, seed=1)
    rec = read_openephys(dst)
    d = rec.to_dict()
    assert d["kwargs"]["folder_path"] == str(dst.absolute()) and d["kwargs"]["stream_id"] == "0"
    rec2 = BaseExtractor.from_dict(d)
    np.testing.assert_array_equal(rec2.get_traces(), written["ProbeA"][1])
    np.testing.assert_allclose(rec2.get_channel_locations(), rec.get_channel_locations())


def test_openephys_truncated_dat_names_the_file(real_data, tmp_path):
    dst, settings, written = make_session(real_data, tmp_path, seed=2)
    dat = written["ProbeA"][0]
    with open(dat, "ab") as fh:
        fh.write(b"\x00")
    with pytest.raises(ValueError, match=r"field continuous\[0\]\.channels: .*not a whole number of frames of 384 "
                                         r"int16 channels") as info:
        read_openephys(dst)
    assert str(dat) in str(info.value) and "structure.oebin" in str(info.value)


def test_openephys_missing_pieces(real_data, tmp_path):
    dst, settings, written = make_session(real_data, tmp_path, seed=3, write_sample_numbers=False)
    with pytest.raises(FileNotFoundError, match="sample_numbers.npy"):
        read_openephys(dst)
    written["ProbeA"][0].unlink()
    with pytest.raises(FileNotFoundError, match="continuous.dat is missing"):
        read_openephys(dst)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no structure.oebin"):
        read_openephys(tmp_path / "empty")
