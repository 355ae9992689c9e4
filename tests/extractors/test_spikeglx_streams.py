"""read_spikeglx on the streams real rigs write beside the AP stream: LF, NIDQ, sync channels,
other Neuropixels probes, NP2 quad-base files; SpikeInterface's channel properties; neo's
warnings; bad headers. Headers are the real ones (``$GPUSPIKE_REAL_DATA``), edited here where
``shared/`` has no such file."""
import json
import warnings
from pathlib import Path

import numpy as np
import probeinterface
import pytest

from gpuspike.extractors import read_spikeglx
from gpuspike.extractors.headers import HeaderError, MissingDataFileError

import _rig_headers as rig

LF_META = rig.NP1_AP_META.replace(".ap.", ".lf.")


def _probe_table() -> dict:
    path = Path(probeinterface.__file__).parent / "resources" / "neuropixels_probe_features.json"
    return json.loads(path.read_text())


def expected_sample_shifts(part_number: str, readout_channels) -> np.ndarray:
    """Reference: a channel's ADC time slot (its group in the ProbeTable's mux table) over the ADC
    cycles per sample period (channels per ADC x (1 + LF rate / AP rate))."""
    table = _probe_table()
    features = table["neuropixels_probes"][part_number]
    mux = table["z_mux_tables"][features["mux_table_format_type"]]
    header, *groups = mux.strip("()").split(")(")
    per_adc = int(header.split(",")[1])
    slot = {}
    for index, group in enumerate(groups):
        for channel in group.split():
            slot[int(channel)] = index
    ap_rate, lf_rate = float(features["ap_sample_frequency_hz"]), float(features["lf_sample_frequency_hz"])
    cycles = int(per_adc * (1 + lf_rate / ap_rate))
    return np.array([slot[int(c)] / cycles for c in readout_channels])


def imro_gains(meta: dict, column: int) -> np.ndarray:
    """Per-channel gain column of an NP1.0 imro table (3: AP, 4: LF)."""
    return np.array([float(e.split()[column]) for e in meta["imroTbl"].strip("()").split(")(")[1:]])


def write_ap_and_lf(real_data, folder, with_ap=True, lf_text=None):
    np1 = rig.real_meta_text(real_data, rig.NP1_AP_META)
    ap = rig.write_pair(folder, rig.NP1_AP_META, np1, seed=1) if with_ap else (None, None)
    lf = rig.write_pair(folder, LF_META, lf_text or rig.lf_meta_from_ap(np1), num_samples=150, seed=2)
    return np1, ap, lf


# ---------------------------------------------------------------------------- 1. LF streams
def test_lf_stream_takes_the_probe_of_the_ap_meta(real_data, tmp_path):
    np1, (ap_meta, _), (lf_meta, lf_data) = write_ap_and_lf(real_data, tmp_path / "sglx")
    lf = read_spikeglx(tmp_path / "sglx", stream_id="imec0.lf")
    meta = rig.parse_meta_text(lf_meta.read_text())
    assert lf.get_num_channels() == 384 and lf.get_sampling_frequency() == 2500.0
    np.testing.assert_array_equal(lf.get_traces(), lf_data[:, :384])
    # LF gains use the imro table's LF column (125 here, AP is 500)
    np.testing.assert_allclose(lf.get_channel_gains(), float(meta["imAiRangeMax"]) / 512 / imro_gains(meta, 4) * 1e6)
    # geometry of the AP meta's probe
    ap_probe = probeinterface.read_spikeglx(ap_meta)
    np.testing.assert_array_equal(lf.get_channel_locations(), ap_probe.contact_positions)
    assert lf.get_probe().serial_number == rig.parse_meta_text(np1)["imDatPrb_sn"]
    np.testing.assert_array_equal(lf.get_channel_groups(), np.zeros(384, dtype=int))
    np.testing.assert_allclose(lf.get_property("inter_sample_shift"),
                               expected_sample_shifts("PRB_1_4_0480_1", np.arange(384)))
    # saturation: half the 1.2 V ADC range over the LF gain
    assert lf.get_annotation("saturation_threshold_uV") == pytest.approx(0.6 / 125 * 1e6)
    ap = read_spikeglx(tmp_path / "sglx", stream_id="imec0.ap")
    assert ap.get_annotation("saturation_threshold_uV") == pytest.approx(0.6 / 500 * 1e6)


def test_lf_stream_without_ap_meta_warns_and_has_no_probe(real_data, tmp_path):
    write_ap_and_lf(real_data, tmp_path / "sglx", with_ap=False)
    with pytest.warns(UserWarning, match=r"no AP \.meta"):
        lf = read_spikeglx(tmp_path / "sglx")  # the only non-sync stream
    assert lf.get_annotation("neo_stream_id") == "imec0.lf"
    assert not lf.has_probe()
    assert lf.get_channel_groups() is None
    with pytest.raises(ValueError, match="no channel locations"):
        lf.get_channel_locations()


def test_lf_stream_with_an_unreadable_channel_subset_is_read_without_probe(real_data, tmp_path):
    np1 = rig.real_meta_text(real_data, rig.NP1_AP_META)
    lf_text = rig.edit_meta(rig.lf_meta_from_ap(np1), snsSaveChanSubset="384:700,768")  # 318 of 385 listed
    _, _, (_, lf_data) = write_ap_and_lf(real_data, tmp_path / "sglx", lf_text=lf_text)
    with pytest.warns(UserWarning, match=r"field snsSaveChanSubset: lists 318 channels but nSavedChans=385.*without a "
                                         r"probe"):
        lf = read_spikeglx(tmp_path / "sglx", stream_id="imec0.lf")
    assert not lf.has_probe()
    np.testing.assert_array_equal(lf.get_traces(), lf_data[:, :384])


def test_lf_stream_of_renamed_files_finds_the_ap_meta_of_the_same_probe(real_data, tmp_path):
    """neo names streams after the ``fileName`` inside the meta; renamed files still pair up."""
    np1 = rig.real_meta_text(real_data, rig.NP1_AP_META)
    ap_meta, _ = rig.write_pair(tmp_path / "sglx", "probe_ap.meta", np1, seed=7)
    rig.write_pair(tmp_path / "sglx", "probe_lf.meta", rig.lf_meta_from_ap(np1), num_samples=60, seed=8)
    lf = read_spikeglx(tmp_path / "sglx", stream_id="imec0.lf")
    np.testing.assert_array_equal(lf.get_channel_locations(), probeinterface.read_spikeglx(ap_meta).contact_positions)


def test_lf_stream_saving_fewer_channels_than_the_ap_stream(real_data, tmp_path):
    np1 = rig.real_meta_text(real_data, rig.NP1_AP_META)
    lf_text = rig.lf_meta_from_ap(np1)
    meta = rig.parse_meta_text(lf_text)
    entries = meta["snsChanMap"][1:-1].split(")(")
    kept = [10, 11, 12, 200, 383]
    lf_text = rig.edit_meta(lf_text, nSavedChans=str(len(kept) + 1), snsApLfSy=f"0,{len(kept)},1",
                            snsSaveChanSubset=",".join(str(384 + k) for k in kept) + ",768",
                            snsChanMap="(" + ")(".join([entries[0]] + [entries[1 + k] for k in kept] + [entries[-1]]) + ")",
                            fileSizeBytes=str(2 * (len(kept) + 1) * 1000))
    _, (ap_meta, _), _ = write_ap_and_lf(real_data, tmp_path / "sglx", lf_text=lf_text)
    lf = read_spikeglx(tmp_path / "sglx", stream_id="imec0.lf")
    assert lf.get_num_channels() == len(kept)
    np.testing.assert_array_equal(lf.get_channel_locations(), probeinterface.read_spikeglx(ap_meta).contact_positions[kept])
    np.testing.assert_allclose(lf.get_property("inter_sample_shift"), expected_sample_shifts("PRB_1_4_0480_1", kept))


# ---------------------------------------------------------------------------- 4. properties
@pytest.mark.parametrize("meta_name,part_number", [(rig.NP1_AP_META, "PRB_1_4_0480_1"),
                                                   (rig.NP2_4SHANK_META, "NP2010"),
                                                   ("NP1_saved_only_subset_of_channels.meta", "PRB_1_4_0480_1_C")])
def test_spikeinterface_channel_properties(real_data, tmp_path, meta_name, part_number):
    text = rig.real_meta_text(real_data, meta_name)
    rig.write_pair(tmp_path / "sglx", meta_name, text)
    rec = read_spikeglx(tmp_path / "sglx")
    n = rec.get_num_channels()
    assert rec.get_property("channel_name").tolist() == [f"AP{k}" for k in range(n)]
    assert rec.get_property("channel_names") is None
    assert rec.get_property("physical_unit").tolist() == ["uV"] * n
    gains = rec.get_property("gain_to_uV")
    assert gains.dtype == np.float64
    np.testing.assert_array_equal(rec.get_property("gain_to_physical_unit"), gains)  # neo gives µV already
    np.testing.assert_array_equal(rec.get_property("offset_to_physical_unit"), np.zeros(n))
    readout = np.arange(n)  # the saved AP channels are 0..n-1 in these files
    np.testing.assert_allclose(rec.get_property("inter_sample_shift"), expected_sample_shifts(part_number, readout))
    table = _probe_table()["neuropixels_probes"][part_number]
    meta = rig.parse_meta_text(text)
    ap_gain = float(meta["imroTbl"].strip("()").split(")(")[1].split()[3]) if part_number.startswith("PRB") else 80.0
    assert rec.get_annotation("saturation_threshold_uV") == pytest.approx(float(table["adc_range_vpp"]) / 2 / ap_gain * 1e6)


def test_nidq_and_sync_streams_have_no_probe_and_volts(real_data, tmp_path):
    np1 = rig.real_meta_text(real_data, rig.NP1_AP_META)
    rig.write_pair(tmp_path / "sglx", rig.NP1_AP_META, np1, seed=3)
    _, nidq_data = rig.write_pair(tmp_path / "sglx", "Noise_g0_t0.nidq.meta", rig.nidq_meta_from_imec(np1),
                                  num_samples=800, seed=4)
    nidq = read_spikeglx(tmp_path / "sglx", stream_id="nidq")
    assert nidq.get_sampling_frequency() == 25000.0 and nidq.get_num_channels() == 9
    np.testing.assert_array_equal(nidq.get_traces(), nidq_data)
    assert nidq.get_property("physical_unit").tolist() == ["V"] * 9
    volts_per_bit = np.array([5.0 / 32768] * 8 + [5.0 / 32768])  # MA gain 1, niAiRangeMax 5 V, 16-bit
    np.testing.assert_allclose(nidq.get_property("gain_to_physical_unit"), volts_per_bit)
    np.testing.assert_allclose(nidq.get_channel_gains(), volts_per_bit * 1e6)
    assert nidq.get_channel_groups() is None and not nidq.has_probe()
    assert "inter_sample_shift" not in nidq.get_property_keys()
    sync = read_spikeglx(tmp_path / "sglx", stream_id="imec0.ap-SYNC")
    assert sync.get_channel_groups() is None and "saturation_threshold_uV" not in sync.get_annotation_keys()


def test_old_nidq_meta_without_type_is_not_taken_for_an_imec_meta(real_data, tmp_path):
    """Before typeThis, the device came from the file name (as neo reads it): no imec fields needed."""
    np1 = rig.real_meta_text(real_data, rig.NP1_AP_META)
    _, data = rig.write_pair(tmp_path / "sglx", "Noise_g0_t0.nidq.meta",
                             rig.edit_meta(rig.nidq_meta_from_imec(np1), typeThis=None), num_samples=300)
    rec = read_spikeglx(tmp_path / "sglx")
    assert rec.get_annotation("neo_stream_id") == "nidq"
    np.testing.assert_array_equal(rec.get_traces(), data)


# ---------------------------------------------------------------------------- 5. neo's warnings
def test_neo_warnings_reach_the_user(real_data, tmp_path):
    np1 = rig.real_meta_text(real_data, rig.NP1_AP_META)
    rig.write_pair(tmp_path / "sglx", rig.NP1_AP_META, rig.edit_meta(np1, firstSample=None))
    with pytest.warns(UserWarning, match="'firstSample' missing from .*Noise_g0_t0.imec0.ap.meta"):
        rec = read_spikeglx(tmp_path / "sglx")
    assert rec.get_start_time() == 0.0


def test_a_meta_without_bin_beside_others_warns_nothing_and_is_an_error_when_asked_for(real_data, tmp_path):
    np1 = rig.real_meta_text(real_data, rig.NP1_AP_META)
    rig.write_pair(tmp_path / "sglx", rig.NP1_AP_META, np1)
    rig.write_pair(tmp_path / "sglx", LF_META, rig.lf_meta_from_ap(np1), write_bin=False)
    assert read_spikeglx(tmp_path / "sglx").get_annotation("neo_stream_id") == "imec0.ap"
    with pytest.raises(MissingDataFileError, match=r"field fileName: stream 'imec0.lf': its binary file .*lf.bin is "
                                                   r"missing") as info:
        read_spikeglx(tmp_path / "sglx", stream_id="imec0.lf")
    assert info.value.file == tmp_path / "sglx" / LF_META and isinstance(info.value, FileNotFoundError)


# ---------------------------------------------------------------------------- 6. NP2 quad-base
def test_quad_base_1540_channels(real_data, tmp_path):
    np2 = rig.real_meta_text(real_data, rig.NP2_4SHANK_META)
    text = rig.quad_base_meta_from_np2(np2).replace("TEST_20210920_0_g0_t0", "quad_g0_t0")
    meta_file, data = rig.write_pair(tmp_path / "sglx", "quad_g0_t0.imec0.ap.meta", text, num_samples=250, seed=5)
    assert data.shape[1] == 1540
    rec = read_spikeglx(tmp_path / "sglx")
    assert rec.get_num_channels() == 1536
    np.testing.assert_array_equal(rec.get_traces(), data[:, :1536])
    np.testing.assert_array_equal(rec.get_traces(start_frame=7, end_frame=30, channel_ids=rec.channel_ids[[1535, 0]]),
                                  data[7:30][:, [1535, 0]])
    # 0.62 V over 2048 levels at gain 100
    np.testing.assert_allclose(rec.get_channel_gains(), np.full(1536, 0.62 / 2048 / 100 * 1e6))
    assert rec.get_binary_description()["channel_indices"] == list(range(1536))
    # four shanks of 384 channels
    np.testing.assert_array_equal(rec.get_channel_groups(), np.arange(1536) // 384)
    np.testing.assert_array_equal(rec.get_channel_locations(), probeinterface.read_spikeglx(meta_file).contact_positions)
    assert rec.get_property("inter_sample_shift").shape == (1536,)

    sync = read_spikeglx(tmp_path / "sglx", stream_id="imec0.ap-SYNC")
    assert sync.channel_ids.tolist() == [f"imec0.ap#SY{k}" for k in range(4)]
    np.testing.assert_array_equal(sync.get_traces(), data[:, 1536:])
    # every SY channel scaled as the single SY channel of other files: full ADC range per level
    np.testing.assert_allclose(sync.get_channel_gains(), np.full(4, 0.62 / 2048 * 1e6))
    both = read_spikeglx(tmp_path / "sglx", load_sync_channel=True)
    assert both.get_num_channels() == 1540
    np.testing.assert_array_equal(both.get_traces(), data)
    np.testing.assert_allclose(both.get_channel_gains()[1536:], sync.get_channel_gains())


# ---------------------------------------------------------------------------- every Neuropixels probe
@pytest.mark.parametrize("part_number,imro_type", [("NP1100", "1100"), ("NP1121", "1121"), ("NP1020", "1020"),
                                                   ("NP1030", "1030"), ("NP1200", "1200")])
def test_np1_family_probes(real_data, tmp_path, part_number, imro_type):
    np1 = rig.real_meta_text(real_data, rig.NP1_AP_META)
    if part_number == "NP1200":  # 128-channel NHP passive probe
        text = rig.nhp_128_meta(np1)
    else:
        text = rig.np1_variant_meta(np1, part_number, imro_type)
    meta_file, data = rig.write_pair(tmp_path / "sglx", rig.NP1_AP_META, text, seed=6)
    if part_number == "NP1200":  # neo (and SpikeInterface 0.105) stop on this probe's ProbeTable entry
        with pytest.warns(UserWarning, match="gains are taken from the imro table"):
            rec = read_spikeglx(tmp_path / "sglx")
    else:
        rec = read_spikeglx(tmp_path / "sglx")
    n = data.shape[1] - 1
    np.testing.assert_array_equal(rec.get_traces(), data[:, :n])
    meta = rig.parse_meta_text(text)
    np.testing.assert_allclose(rec.get_channel_gains(), float(meta["imAiRangeMax"]) / 512 / imro_gains(meta, 3) * 1e6)
    probe = rec.get_probe()
    assert probe.annotations["part_number"] == part_number == probe.model_name
    np.testing.assert_array_equal(rec.get_channel_locations(), probeinterface.read_spikeglx(meta_file).contact_positions)
    np.testing.assert_allclose(rec.get_property("inter_sample_shift"), expected_sample_shifts(part_number, np.arange(n)))


# ---------------------------------------------------------------------------- 7. bad headers
BAD_METAS = {
    "no channels": (dict(nSavedChans="0"), "nSavedChans", "must be > 0"),
    "non-numeric": (dict(nSavedChans="385x"), "nSavedChans", "is not an integer"),
    "missing count": (dict(nSavedChans=None), "nSavedChans", "missing"),
    "lying file size": (dict(fileSizeBytes="121625351"), "fileSizeBytes", "not a whole number of frames"),
    "lying channel counts": (dict(snsApLfSy="384,384,1"), "snsApLfSy", "adds up to 769"),
    "short channel map": (dict(snsChanMap="(384,384,1)(AP0;0:0)(SY0;768:768)"), "snsChanMap", "names 2 channels"),
    "no sampling rate": (dict(imSampRate=None), "imSampRate", "missing"),
    "bad sampling rate": (dict(imSampRate="thirty"), "imSampRate", "is not a number"),
    "no imro table": (dict(imroTbl=None), "imroTbl", "missing"),
    "group-addressed imro (NP1110)": (dict(imDatPrb_pn="NP1110", imDatPrb_type="1110",
                                           imroTbl="(1110,2,0,500,250,1)" + "".join(f"({g} 0 0)" for g in range(24))),
                                      "imroTbl", "has 24 entries for 384 saved channels"),
}


@pytest.mark.parametrize("case", list(BAD_METAS))
def test_bad_meta_gets_one_error_naming_file_and_field(real_data, tmp_path, case):
    edits, field, problem = BAD_METAS[case]
    np1 = rig.real_meta_text(real_data, rig.NP1_AP_META)
    meta_file = tmp_path / "sglx" / rig.NP1_AP_META
    meta_file.parent.mkdir()
    meta_file.write_text(rig.edit_meta(np1, **edits))
    np.zeros((100, 385), dtype="int16").tofile(meta_file.with_suffix(".bin"))
    with pytest.raises(HeaderError, match=f"field {field}: .*{problem}") as info:
        read_spikeglx(tmp_path / "sglx")
    assert info.value.file == meta_file and info.value.field == field
    assert str(meta_file) in str(info.value)


def test_bin_that_is_not_whole_frames_names_the_meta_field_and_the_bin(real_data, tmp_path):
    meta_file, _ = rig.write_pair(tmp_path / "sglx", rig.NP1_AP_META, rig.real_meta_text(real_data, rig.NP1_AP_META))
    bin_file = meta_file.with_suffix(".bin")
    with open(bin_file, "ab") as fh:  # an even number of bytes: neo would silently drop them
        fh.write(b"\x00" * 2 * 17)
    with pytest.raises(HeaderError, match=r"field nSavedChans: nSavedChans=385 but .* not a whole number of frames") \
            as info:
        read_spikeglx(tmp_path / "sglx")
    assert str(bin_file) in str(info.value)


def test_missing_bin_is_one_error_naming_the_meta(real_data, tmp_path):
    rig.write_pair(tmp_path / "sglx", rig.NP1_AP_META, rig.real_meta_text(real_data, rig.NP1_AP_META), write_bin=False)
    with pytest.raises(MissingDataFileError, match=r"Noise_g0_t0.imec0.ap.meta: field fileName: its binary file "
                                                   r".*Noise_g0_t0.imec0.ap.bin is missing"):
        read_spikeglx(tmp_path / "sglx")


def test_header_errors_are_value_errors_with_the_file_and_field():
    err = HeaderError("/x/a.meta", "nSavedChans", "'0' must be > 0")
    assert isinstance(err, ValueError) and str(err) == "/x/a.meta: field nSavedChans: '0' must be > 0"
    missing = MissingDataFileError("/x/a.meta", "fileName", "gone")
    assert isinstance(missing, FileNotFoundError) and isinstance(missing, HeaderError)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert missing.field == "fileName"
