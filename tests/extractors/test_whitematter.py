"""WhiteMatter raw files: int16 samples, channels interleaved, after an 8-byte header."""
import numpy as np
import pytest

from gpuspike.core.errors import CorruptFolderError
from gpuspike.core.loading import load
from gpuspike.extractors import WhiteMatterRecordingExtractor, read_whitematter


def _write(path, samples: np.ndarray, header: bytes = b"WMHEADER") -> None:
    assert len(header) == 8
    path.write_bytes(header + samples.astype("<i2").tobytes())


def test_samples_gains_and_slices_are_read_past_the_header(tmp_path):
    rng = np.random.default_rng(0)
    samples = rng.integers(-32768, 32767, size=(1200, 6), dtype="int16")
    _write(tmp_path / "rec.raw", samples)
    rec = read_whitematter(tmp_path / "rec.raw", 25000.0, 6)
    assert rec.get_num_samples() == 1200 and rec.get_dtype() == np.int16
    assert list(rec.channel_ids) == list(range(6))
    np.testing.assert_array_equal(rec.get_traces(), samples)
    np.testing.assert_array_equal(rec.get_traces(start_frame=1000, end_frame=1100, channel_ids=[4, 1]),
                                  samples[1000:1100][:, [4, 1]])
    np.testing.assert_allclose(rec.get_traces(return_in_uV=True), samples.astype("float32") * 0.190734863,
                               rtol=1e-6)
    assert rec.get_channel_gains().tolist() == [0.190734863] * 6  # kept as given, as SpikeInterface keeps them
    analog = WhiteMatterRecordingExtractor(tmp_path / "rec.raw", 25000.0, 6, channel_ids=list("abcdef"),
                                           gain_to_uV=305.17578125, is_filtered=False)
    assert list(analog.channel_ids) == list("abcdef") and analog.is_filtered() is False
    np.testing.assert_allclose(analog.get_channel_gains(), 305.17578125)


def test_dicts_rebuild_it_in_either_library_spelling(tmp_path):
    samples = np.arange(600, dtype="int16").reshape(100, 6)
    _write(tmp_path / "rec.raw", samples)
    rec = WhiteMatterRecordingExtractor(tmp_path / "rec.raw", 30000.0, 6, gain_to_uV=2.5)
    d = rec.to_dict()
    assert d["class"] == "spikeinterface.extractors.whitematterrecordingextractor.WhiteMatterRecordingExtractor"
    back = load(d)
    np.testing.assert_array_equal(back.get_traces(), samples)
    np.testing.assert_allclose(back.get_channel_gains(), 2.5)
    si_dict = {"class": "spikeinterface.extractors.whitematterrecordingextractor.WhiteMatterRecordingExtractor",
               "module": "spikeinterface", "version": "0.105.3", "relative_paths": False,
               "kwargs": {"file_path": str(tmp_path / "rec.raw"), "sampling_frequency": 30000.0, "num_channels": 6,
                          "channel_ids": None, "is_filtered": None, "gain_to_uV": 0.190734863}}
    np.testing.assert_array_equal(load(si_dict).get_traces(), samples)


def test_a_file_shorter_than_its_header_or_a_bad_channel_count_is_refused(tmp_path):
    _write(tmp_path / "rec.raw", np.zeros((10, 4), "int16"))
    with pytest.raises(ValueError, match="num_channels"):
        read_whitematter(tmp_path / "rec.raw", 30000.0, 0)
    with pytest.raises(CorruptFolderError, match="does not exist"):
        read_whitematter(tmp_path / "missing.raw", 30000.0, 4)
    (tmp_path / "short.raw").write_bytes(b"WMH")
    with pytest.raises(CorruptFolderError, match="short.raw"):
        read_whitematter(tmp_path / "short.raw", 30000.0, 4)
