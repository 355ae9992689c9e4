"""read_spikeglx on real SpikeGLX headers, each paired with a small .bin written here."""
import shutil
from pathlib import Path

import numpy as np
import probeinterface
import pytest

from gpuspike import BaseExtractor
from gpuspike.extractors import read_spikeglx

NUM_SAMPLES = 2000

METAS = {
    "np1_sync": "Noise_g0_t0.imec0.ap.meta",
    "phase3a": "phase3a.imec.ap.meta",
    "subset": "NP1_saved_only_subset_of_channels.meta",
    "np2_4shanks": "NP2_4_shanks.imec0.ap.meta",
}


def parse_meta(path: Path) -> dict:
    out = {}
    for line in path.read_text().splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            out[k.lstrip("~")] = v
    return out


def saved_channels(meta: dict) -> np.ndarray:
    """Acquisition channel indices of the saved columns (snsSaveChanSubset), a reference written here."""
    subset = meta["snsSaveChanSubset"]
    if subset == "all":
        return np.arange(int(meta["nSavedChans"]))
    chans = []
    for part in subset.split(","):
        if ":" in part:
            a, b = part.split(":")
            chans.extend(range(int(a), int(b) + 1))
        else:
            chans.append(int(part))
    return np.array(chans)


def expected_ap_gains_uV(meta: dict, n_ap: int) -> np.ndarray:
    """µV per bit of the AP channels from the imro table, computed independently of neo."""
    entries = meta["imroTbl"].strip("()").split(")(")
    header = entries[0].split(",")
    per_channel = [e.split() for e in entries[1:]]
    probe_type = int(header[0]) if len(header) == 2 else 0  # phase 3A header: (serial,option,n)
    max_int = int(meta.get("imMaxInt", 512))
    vmax = float(meta["imAiRangeMax"])
    chans = saved_channels(meta)[:n_ap]
    if probe_type in (21, 24, 2003, 2004, 2013, 2014):  # Neuropixels 2.0: fixed gain 80
        amp = np.full(n_ap, 80.0)
    else:
        amp = np.array([float(per_channel[c][3]) for c in chans])
    return vmax / max_int / amp * 1e6


def make_folder(real_data: Path, tmp_path: Path, meta_name: str, seed: int = 0):
    folder = tmp_path / "sglx"
    folder.mkdir()
    meta_file = folder / meta_name
    shutil.copy(real_data / "spikeglx" / meta_name, meta_file)
    meta = parse_meta(meta_file)
    n_saved = int(meta["nSavedChans"])
    data = np.random.default_rng(seed).integers(-2000, 2000, size=(NUM_SAMPLES, n_saved), dtype=np.int16)
    bin_file = meta_file.with_suffix(".bin")
    data.tofile(bin_file)
    return folder, meta_file, bin_file, meta, data


@pytest.mark.parametrize("key", list(METAS))
def test_read_spikeglx_traces_gains_probe(real_data, tmp_path, key):
    folder, meta_file, bin_file, meta, data = make_folder(real_data, tmp_path, METAS[key])
    n_ap, n_lf, n_sy = (int(x) for x in meta["snsApLfSy"].split(","))
    assert n_sy == 1
    rec = read_spikeglx(folder)
    # the sync channel is kept out of the AP stream
    assert rec.get_num_channels() == n_ap == data.shape[1] - 1
    assert rec.get_num_samples() == NUM_SAMPLES  # from the .bin size, not fileSizeBytes
    assert int(meta["fileSizeBytes"]) != bin_file.stat().st_size
    assert rec.get_sampling_frequency() == float(meta["imSampRate"])
    assert rec.get_dtype() == np.int16
    np.testing.assert_array_equal(rec.get_traces(), data[:, :n_ap])
    np.testing.assert_array_equal(rec.get_traces(start_frame=17, end_frame=60, channel_ids=rec.channel_ids[[5, 2]]),
                                  data[17:60][:, [5, 2]])
    gains = expected_ap_gains_uV(meta, n_ap)
    np.testing.assert_allclose(rec.get_channel_gains(), gains, rtol=1e-6)
    np.testing.assert_allclose(rec.get_channel_offsets(), 0.0)
    scaled = rec.get_traces(start_frame=0, end_frame=100, return_scaled=True)
    np.testing.assert_allclose(scaled, data[:100, :n_ap] * gains[None, :].astype("float32"), rtol=1e-6)
    # t_start = firstSample / imSampRate
    assert rec.get_start_time() == pytest.approx(float(meta["firstSample"]) / float(meta["imSampRate"]))

    # probe: same geometry as probeinterface's own reader of this header
    probe = probeinterface.read_spikeglx(meta_file)
    np.testing.assert_allclose(rec.get_channel_locations(), probe.contact_positions)
    got = rec.get_probe()
    np.testing.assert_allclose(got.contact_positions, probe.contact_positions)
    assert got.get_contact_count() == n_ap
    if key == "np2_4shanks":
        assert got.get_shank_count() == 4
        assert np.unique(rec.get_channel_groups()).tolist() == [0, 1, 2, 3]
        np.testing.assert_array_equal(rec.get_channel_groups(), probe.shank_ids.astype(int))
    else:
        assert got.get_shank_count() == 1
    if key == "subset":
        assert n_ap == 151 and probe.get_contact_count() == 151


@pytest.mark.parametrize("key", ["np1_sync", "subset"])
def test_binary_description_reads_the_same_samples(real_data, tmp_path, key):
    folder, meta_file, bin_file, meta, data = make_folder(real_data, tmp_path, METAS[key], seed=1)
    rec = read_spikeglx(folder)
    assert rec.is_binary_compatible()
    desc = rec.get_binary_description()
    assert desc["file_paths"] == [str(bin_file.absolute())]
    assert desc["num_channels"] == data.shape[1]
    assert desc["time_axis"] == 0 and desc["file_offset"] == 0 and np.dtype(desc["dtype"]) == np.int16
    raw = np.fromfile(desc["file_paths"][0], dtype=desc["dtype"], offset=desc["file_offset"])
    frames = raw.reshape(-1, desc["num_channels"])[:, desc["channel_indices"]]
    np.testing.assert_array_equal(frames, rec.get_traces())


def test_sync_channel(real_data, tmp_path):
    folder, meta_file, bin_file, meta, data = make_folder(real_data, tmp_path, METAS["np1_sync"], seed=2)
    rec = read_spikeglx(folder)
    sid = rec.get_annotation("neo_stream_id")
    with_sync = read_spikeglx(folder, load_sync_channel=True)
    assert with_sync.get_num_channels() == data.shape[1]
    np.testing.assert_array_equal(with_sync.get_traces(), data)
    assert not with_sync.has_probe()
    assert with_sync.get_binary_description()["channel_indices"] is None
    sync = read_spikeglx(folder, stream_id=sid + "-SYNC")
    assert sync.get_num_channels() == 1
    np.testing.assert_array_equal(sync.get_traces()[:, 0], data[:, -1])
    assert sync.get_binary_description()["channel_indices"] == [data.shape[1] - 1]
    with pytest.raises(ValueError, match="stream_id='nope'.*imec0.ap"):
        read_spikeglx(folder, stream_id="nope")


def test_dumpable_roundtrip(real_data, tmp_path):
    folder, meta_file, bin_file, meta, data = make_folder(real_data, tmp_path, METAS["np2_4shanks"], seed=3)
    rec = read_spikeglx(folder)
    assert rec.is_dumpable
    d = rec.to_dict()
    assert d["kwargs"]["folder_path"] == str(folder.absolute())
    assert d["kwargs"]["stream_id"] == rec.get_annotation("neo_stream_id")
    rec2 = BaseExtractor.from_dict(d)
    assert type(rec2).__name__ == "SpikeGLXRecording"
    np.testing.assert_array_equal(rec2.get_traces(), rec.get_traces())
    np.testing.assert_allclose(rec2.get_channel_locations(), rec.get_channel_locations())
    np.testing.assert_array_equal(rec2.get_channel_groups(), rec.get_channel_groups())
    # relative paths: the folder can move
    d_rel = rec.to_dict(relative_to=tmp_path)
    moved = tmp_path.parent / (tmp_path.name + "_moved")
    shutil.copytree(tmp_path, moved)
    rec3 = BaseExtractor.from_dict(d_rel, base_folder=moved)
    assert rec3.get_binary_description()["file_paths"][0].startswith(str(moved))
    np.testing.assert_array_equal(rec3.get_traces(), data[:, :-1])
    shutil.rmtree(moved)


def test_truncated_bin_names_the_file(real_data, tmp_path):
    folder, meta_file, bin_file, meta, data = make_folder(real_data, tmp_path, METAS["np1_sync"], seed=4)
    with open(bin_file, "ab") as fh:
        fh.write(b"\x01\x02\x03")
    with pytest.raises(ValueError, match=r"field nSavedChans: .*not a whole number of frames of 385 int16 channels") \
            as info:
        read_spikeglx(folder)
    assert str(bin_file) in str(info.value) and str(meta_file) in str(info.value)


def test_bad_inputs(tmp_path):
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        read_spikeglx(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no SpikeGLX .meta"):
        read_spikeglx(tmp_path / "empty")


def test_streaming_path_keeps_only_the_recording_channels(real_data, tmp_path):
    from gpuspike.streaming import stream_blocks

    folder, meta_file, bin_file, meta, data = make_folder(real_data, tmp_path, METAS["subset"], seed=5)
    rec = read_spikeglx(folder)
    got = []
    with stream_blocks(rec, 0, device=False, chunk_size=700, reader="pread") as blocks:
        for block, traces in blocks:
            assert traces.shape[1] == rec.get_num_channels() == data.shape[1] - 1
            for (start, end), offset in zip(block.ranges, block.buffer_offsets):
                got.append((start, np.array(traces[offset:offset + end - start])))
    out = np.concatenate([t for _, t in sorted(got, key=lambda x: x[0])])
    np.testing.assert_array_equal(out, data[:, :-1])


def test_engine_reads_the_recordings_columns_of_the_mapped_bin(real_data, tmp_path):
    """The sync column is in the file, not in the recording: blocks of one range (save) and of
    several (windows-mode gather) come from the mapped file with the recording's columns only."""
    from gpuspike.core.job import resolve_job_kwargs
    from gpuspike.engine import GatherJob, run_block_job

    folder, meta_file, bin_file, meta, data = make_folder(real_data, tmp_path, METAS["np1_sync"], seed=4)
    rec = read_spikeglx(folder)
    columns = np.asarray(rec.get_binary_description()["channel_indices"])
    assert columns.size == data.shape[1] - 1
    saved = rec.save(folder=tmp_path / "saved", chunk_size=700, n_jobs=2, progress_bar=False)
    np.testing.assert_array_equal(saved.get_traces(), data[:, columns])
    peaks = np.arange(40, rec.get_num_samples() - 40, 97)
    spikes = np.zeros(peaks.size, dtype=[("sample_index", "int64"), ("unit_index", "int64"),
                                         ("segment_index", "int64")])
    spikes["sample_index"] = peaks
    gather = GatherJob(spikes, np.arange(peaks.size), peaks.size, 3, 4, columns.size, None, False, "int16",
                       plan_mode="windows")
    waveforms = run_block_job(gather, rec, resolve_job_kwargs(n_jobs=2, chunk_size=1000, progress_bar=False))
    expected = np.stack([data[p - 3:p + 4][:, columns] for p in peaks])
    np.testing.assert_array_equal(waveforms, expected)


def test_spikeinterface_dict_of_the_reader_loads(real_data, tmp_path):
    """SpikeInterface 0.105 writes its reader's class and kwargs (e.g. in an analyzer's recording.json)."""
    import gpuspike as gs

    folder, meta_file, bin_file, meta, data = make_folder(real_data, tmp_path, METAS["np2_4shanks"], seed=5)
    d = {"class": "spikeinterface.extractors.neoextractors.spikeglx.SpikeGLXRecordingExtractor",
         "module": "spikeinterface", "version": "0.105.3", "relative_paths": False,
         "kwargs": {"all_annotations": False, "stream_id": "imec0.ap", "use_names_as_ids": False,
                    "folder_path": str(folder)}}
    rec = gs.load(d)
    own = read_spikeglx(folder, stream_id="imec0.ap")
    assert type(rec).__name__ == "SpikeGLXRecording"
    np.testing.assert_array_equal(rec.get_traces(), data[:, :-1])
    np.testing.assert_allclose(rec.get_channel_locations(), own.get_channel_locations())
    assert rec.to_dict()["class"].startswith("gpuspike.")  # written under gpuspike's name (its kwargs differ)
