"""read_openephys on SYNC, ADC and NI-DAQmx streams, ONIX stream names with dots, several
experiments, synchronized timestamps, SpikeInterface's properties, neo's warnings and bad
``structure.oebin`` files. Headers are the real ones (``$GPUSPIKE_REAL_DATA``), edited here
where ``shared/`` has no such file."""
import json
import re
import shutil

import numpy as np
import probeinterface
import pytest

from gpuspike import BaseExtractor
from gpuspike.extractors import read_openephys
from gpuspike.extractors.headers import HeaderError, MissingDataFileError
from gpuspike.extractors.openephys import parse_stream_name

import _rig_headers as rig

NODE = "Record_Node_101"
AP, LFP, NIDAQ = "Neuropix-PXI-100.ProbeA-AP", "Neuropix-PXI-100.ProbeA-LFP", "NI-DAQmx-104.PXIe-6341"


@pytest.fixture
def np2_session(real_data, tmp_path):
    """The NP2 4-shank session as experiment1 (so that settings.xml is its settings)."""
    written = rig.openephys_session(real_data, tmp_path / "session", rig.OE_NP2_4SHANK, seed=3,
                                    experiment="experiment1")
    return tmp_path / "session", written


# ---------------------------------------------------------------------------- 2. SYNC streams
def test_sync_streams_open_without_a_probe(np2_session):
    session, written = np2_session
    for folder, band in ((AP, "AP"), (LFP, "LFP")):
        sync = read_openephys(session, stream_name=f"{NODE}#{folder}SYNC")
        data = written[folder][1]
        assert sync.channel_ids.tolist() == [f"{band}_SYNC"]
        np.testing.assert_array_equal(sync.get_traces()[:, 0], data[:, -1])
        assert not sync.has_probe() and sync.get_channel_groups() is None
        assert sync.get_binary_description()["channel_indices"] == [data.shape[1] - 1]
        assert "inter_sample_shift" not in sync.get_property_keys()
        neural = read_openephys(session, stream_name=f"{NODE}#{folder}")
        assert neural.get_num_channels() == 384 and neural.has_probe()
        np.testing.assert_array_equal(neural.get_traces(), data[:, :384])


def test_default_stream_is_the_neural_one_beside_its_sync_stream(real_data, tmp_path):
    def only_ap(structure):
        structure["continuous"] = [s for s in structure["continuous"] if s["folder_name"].startswith(AP)]
        return structure

    written = rig.openephys_session(real_data, tmp_path / "s", rig.OE_NP2_4SHANK, experiment="experiment1",
                                    edit_oebin=only_ap)
    rec = read_openephys(tmp_path / "s")  # two streams: AP and its SYNC stream
    assert rec.get_annotation("neo_stream_name") == f"{NODE}#{AP}"
    np.testing.assert_array_equal(rec.get_traces(), written[AP][1][:, :384])


def test_nidaq_stream_has_no_probe_even_with_neuropixels_settings(np2_session):
    session, written = np2_session
    nidaq = read_openephys(session, stream_name=f"{NODE}#{NIDAQ}")
    assert not nidaq.has_probe() and nidaq.get_channel_groups() is None
    np.testing.assert_array_equal(nidaq.get_traces(), written[NIDAQ][1])


def test_adc_channels_get_their_own_stream_without_probe(real_data, tmp_path):
    """A Neuropix-PXI stream with ADC channels after its neural channels (neo needs them last, and then
    without a sync channel)."""
    def with_adc(structure):
        ap = next(s for s in structure["continuous"] if s["folder_name"].startswith(AP))
        sync = ap["channels"].pop()
        ap["channels"] += [dict(sync, channel_name=f"ADC{k}", bit_volts=0.00015, units="V") for k in range(2)]
        ap["num_channels"] = len(ap["channels"])
        return structure

    written = rig.openephys_session(real_data, tmp_path / "s", rig.OE_NP2_4SHANK, experiment="experiment1",
                                    edit_oebin=with_adc)
    data = written[AP][1]
    ap = read_openephys(tmp_path / "s", stream_name=f"{NODE}#{AP}")
    assert ap.get_num_channels() == 384 and ap.has_probe()
    adc = read_openephys(tmp_path / "s", stream_name=f"{NODE}#{AP}_ADC")
    assert adc.channel_ids.tolist() == ["ADC0", "ADC1"] and not adc.has_probe()
    np.testing.assert_array_equal(adc.get_traces(), data[:, 384:386])
    assert adc.get_property("physical_unit").tolist() == ["V", "V"]
    np.testing.assert_allclose(adc.get_channel_gains(), [150.0, 150.0])


# ---------------------------------------------------------------------------- 3. names with dots
@pytest.mark.parametrize("name,kind,expected", [
    ("Record Node 101#Neuropix-PXI-100.ProbeA-AP", "neural",
     ("Record Node 101", "Neuropix-PXI-100.ProbeA-AP", "Neuropix-PXI", "100", "ProbeA-AP")),
    ("Record Node 101#Neuropix-PXI-100.ProbeA-APSYNC", "sync",
     ("Record Node 101", "Neuropix-PXI-100.ProbeA-AP", "Neuropix-PXI", "100", "ProbeA-AP")),
    ("ONIX Source-100.PortB-Neuropixels1.0eHeadstage-Probe-AP", "neural",
     ("", "ONIX Source-100.PortB-Neuropixels1.0eHeadstage-Probe-AP", "ONIX Source", "100",
      "PortB-Neuropixels1.0eHeadstage-Probe-AP")),
    ("Record Node 102#OneBox-100.ProbeA-AP_ADC", "adc",
     ("Record Node 102", "OneBox-100.ProbeA-AP", "OneBox", "100", "ProbeA-AP")),
    ("Rhythm_FPGA-100.0", "neural", ("", "Rhythm_FPGA-100.0", "Rhythm_FPGA", "100", "0")),
    ("continuous_without_source", "neural", ("", "continuous_without_source", "", "", "continuous_without_source")),
])
def test_parse_stream_name(name, kind, expected):
    parsed = parse_stream_name(name, kind)
    assert (parsed.node, parsed.folder, parsed.source, parsed.source_id, parsed.stream) == expected
    assert parsed.kind == kind


def test_onix_stream_name_with_dots_gets_its_probe(real_data, tmp_path):
    written = rig.onix_session(real_data, tmp_path / "onix", seed=4)
    rec = read_openephys(tmp_path / "onix")
    assert rec.get_annotation("neo_stream_name") == f"{NODE}#{rig.ONIX_FOLDER}"
    settings = tmp_path / "onix" / NODE / "settings.xml"
    probe = probeinterface.read_openephys_neuropixels(settings, stream_name=rig.ONIX_FOLDER)
    assert probe.name == "PortB-Neuropixels1.0eHeadstage-Probe"
    assert rec.has_probe() and rec.get_probe().name == probe.name
    assert rec.get_probe().serial_number == probe.serial_number
    np.testing.assert_array_equal(rec.get_channel_locations(), probe.contact_positions)
    assert rec.get_property("inter_sample_shift").shape == (384,)
    np.testing.assert_array_equal(rec.get_traces(), written[rig.ONIX_FOLDER][1])
    with pytest.raises(ValueError, match="allowed values"):
        parse_stream_name("x", "lfp")


# ---------------------------------------------------------------------------- 4. properties
def test_spikeinterface_properties_and_annotations(np2_session):
    session, written = np2_session
    ap = read_openephys(session, stream_name=f"{NODE}#{AP}")
    channels = written[AP][2]["channels"][:384]
    assert ap.get_property("channel_name").tolist() == [c["channel_name"] for c in channels]
    assert ap.get_property("channel_names") is None
    # units "" in the oebin are µV for neural channels
    assert ap.get_property("physical_unit").tolist() == ["uV"] * 384
    gains = ap.get_property("gain_to_uV")
    assert gains.dtype == np.float64
    np.testing.assert_array_equal(gains, np.array([c["bit_volts"] for c in channels], dtype="float64"))
    np.testing.assert_array_equal(ap.get_property("gain_to_physical_unit"), gains)
    np.testing.assert_array_equal(ap.get_property("offset_to_physical_unit"), np.zeros(384))
    assert ap.get_annotation("experiment_name") == "experiment1"
    # NP1.0-style probe of this session (NP1032): 12 channels per ADC, AP 30 kHz and LF 2.5 kHz -> 13 cycles
    shifts = ap.get_property("inter_sample_shift")
    assert shifts.dtype == np.float64 and shifts.min() == 0 and shifts.max() <= 12 / 13
    np.testing.assert_allclose(np.unique(shifts), np.arange(12) / 13)
    lfp = read_openephys(session, stream_name=f"{NODE}#{LFP}")
    np.testing.assert_array_equal(lfp.get_property("inter_sample_shift"), shifts)
    assert ap.get_annotation("saturation_threshold_uV") == pytest.approx(0.6 / 500 * 1e6)
    assert lfp.get_annotation("saturation_threshold_uV") == pytest.approx(0.6 / 250 * 1e6)


# ---------------------------------------------------------------------------- experiments, timestamps
def test_experiment_name_and_block_index(real_data, tmp_path):
    session = tmp_path / "session"
    first = rig.openephys_session(real_data, session, rig.OE_NP1, seed=5)
    node = session / NODE
    second = tmp_path / "second"
    again = rig.openephys_session(real_data, second, rig.OE_NP1, seed=6)
    shutil.copytree(second / NODE / "experiment1", node / "experiment2")
    shutil.copy(node / "settings.xml", node / "settings_2.xml")
    with pytest.raises(ValueError, match=r"holds 2 experiments \['experiment1', 'experiment2'\].*experiment_name="):
        read_openephys(session)
    by_name = read_openephys(session, experiment_name="experiment2")
    by_index = read_openephys(session, block_index=1)
    data2 = next(iter(again.values()))[1]
    np.testing.assert_array_equal(by_name.get_traces(), data2)
    np.testing.assert_array_equal(by_index.get_traces(), data2)
    assert by_name.get_annotation("experiment_name") == "experiment2" and by_name.has_probe()
    np.testing.assert_array_equal(read_openephys(session, block_index=0).get_traces(), next(iter(first.values()))[1])
    rebuilt = BaseExtractor.from_dict(by_name.to_dict())
    np.testing.assert_array_equal(rebuilt.get_traces(), data2)
    with pytest.raises(ValueError, match="experiment_name='experiment3' is not in"):
        read_openephys(session, experiment_name="experiment3")
    with pytest.raises(ValueError, match="not both"):
        read_openephys(session, experiment_name="experiment1", block_index=0)
    with pytest.raises(ValueError, match=r"block_index=2: allowed 0..1"):
        read_openephys(session, block_index=2)
    # a broken experiment does not stop the others
    next((node / "experiment2").rglob("continuous.dat")).unlink()
    np.testing.assert_array_equal(read_openephys(session, block_index=0).get_traces(), next(iter(first.values()))[1])
    with pytest.raises(MissingDataFileError, match=r"experiment2.*continuous.dat is missing"):
        read_openephys(session, experiment_name="experiment2")


def test_load_sync_timestamps(real_data, tmp_path):
    written = rig.openephys_session(real_data, tmp_path / "s", rig.OE_NP1, seed=7)
    dat, data, stream = next(iter(written.values()))
    times = np.load(dat.parent / "timestamps.npy")
    rec = read_openephys(tmp_path / "s", load_sync_timestamps=True)
    np.testing.assert_array_equal(rec.get_times(), times)
    plain = read_openephys(tmp_path / "s")
    assert plain.get_start_time() == pytest.approx(3000 / stream["sample_rate"])  # first sample number
    (dat.parent / "timestamps.npy").unlink()
    with pytest.warns(UserWarning, match="no synchronized timestamps"):
        rec = read_openephys(tmp_path / "s", load_sync_timestamps=True)
    assert rec.get_start_time() == plain.get_start_time()


# ---------------------------------------------------------------------------- 5 and 7: a missing stream
def test_missing_stream_folder_warns_and_is_an_error_only_when_asked_for(np2_session):
    session, written = np2_session
    shutil.rmtree(written[LFP][0].parent)
    with pytest.warns(UserWarning, match="Neuropix-PXI-100.ProbeA-LFP/ is missing. Skipping"):
        ap = read_openephys(session, stream_name=f"{NODE}#{AP}")
    np.testing.assert_array_equal(ap.get_traces(), written[AP][1][:, :384])
    oebin = next(session.rglob("structure.oebin"))
    index = [s["folder_name"].strip("/") for s in json.loads(oebin.read_text())["continuous"]].index(LFP)
    for name in (f"{NODE}#{LFP}", f"{NODE}#{LFP}SYNC"):
        with pytest.warns(UserWarning, match="Skipping"):
            with pytest.raises(MissingDataFileError, match=rf"structure.oebin: field continuous\[{index}\]"
                                                           rf"\.folder_name: names stream '{LFP}' but its folder"):
                read_openephys(session, stream_name=name)


BAD_OEBINS = {
    "not json": (lambda text: text[:-30], "(JSON)", "not valid JSON"),
    "no continuous list": (lambda text: json.dumps({"GUI version": "0.6.7"}), "continuous", "missing"),
    "no folder name": (lambda text: json.dumps({"continuous": [{"channels": [{}]}]}), "continuous[0].folder_name",
                       "missing"),
    "no channels": (lambda text: json.dumps({"continuous": [dict(json.loads(text)["continuous"][0], channels=[])]}),
                    "continuous[0].channels", "lists no channels"),
}


@pytest.mark.parametrize("case", list(BAD_OEBINS))
def test_bad_oebin_gets_one_error_naming_file_and_field(real_data, tmp_path, case):
    edit, field, problem = BAD_OEBINS[case]
    rig.openephys_session(real_data, tmp_path / "s", rig.OE_NP1, seed=8)
    oebin = next((tmp_path / "s").rglob("structure.oebin"))
    oebin.write_text(edit(oebin.read_text()))
    with pytest.raises(HeaderError, match=rf"structure.oebin: field {re.escape(field)}: .*{problem}") as info:
        read_openephys(tmp_path / "s")
    assert info.value.file == oebin and info.value.field == field


def test_missing_dat_or_sample_numbers_names_the_oebin_field(real_data, tmp_path):
    written = rig.openephys_session(real_data, tmp_path / "s", rig.OE_NP1, seed=9)
    dat = next(iter(written.values()))[0]
    (dat.parent / "sample_numbers.npy").unlink()
    (dat.parent / "timestamps.npy").unlink()
    with pytest.raises(MissingDataFileError, match=r"field continuous\[0\].folder_name: .*neither sample_numbers.npy"):
        read_openephys(tmp_path / "s")
    dat.unlink()
    with pytest.raises(MissingDataFileError, match=r"field continuous\[0\].folder_name: names stream .*continuous.dat "
                                                   r"is missing"):
        read_openephys(tmp_path / "s")


def test_later_experiment_without_its_settings_file_takes_the_nodes_settings_xml(real_data, tmp_path):
    """As shipped, the NP2 folder is experiment4 with only settings.xml (settings_4.xml is missing)."""
    rig.openephys_session(real_data, tmp_path / "s", rig.OE_NP2_4SHANK, seed=7)
    node = tmp_path / "s" / NODE
    assert not (node / "settings_4.xml").exists() and (node / "settings.xml").is_file()
    with pytest.warns(UserWarning, match="settings_4.xml is missing.*settings.xml"):
        rec = read_openephys(tmp_path / "s", stream_name=f"{NODE}#{AP}")
    expected = probeinterface.read_openephys(node / "settings.xml", stream_name=AP)
    assert rec.has_probe() and rec.get_probe().model_name == expected.model_name
    np.testing.assert_allclose(rec.get_probe().contact_positions, expected.contact_positions)
    assert rec.get_annotation("settings_file") == str(node / "settings.xml")
    assert not read_openephys(tmp_path / "s", stream_name=f"{NODE}#{AP}SYNC").has_probe()


def test_spikeinterface_dict_of_the_reader_loads(np2_session):
    """SpikeInterface 0.105 writes its reader's class and kwargs (e.g. in an analyzer's recording.json)."""
    import gpuspike as gs

    session, written = np2_session
    d = {"class": "spikeinterface.extractors.neoextractors.openephys.OpenEphysBinaryRecordingExtractor",
         "module": "spikeinterface", "version": "0.105.3", "relative_paths": False,
         "kwargs": {"all_annotations": False, "stream_id": "1", "folder_path": str(session), "experiment_name": None,
                    "load_sync_timestamps": False}}
    rec = gs.load(d)
    assert type(rec).__name__ == "OpenEphysBinaryRecording" and rec.has_probe()
    np.testing.assert_array_equal(rec.get_traces(), written[AP][1][:, :384])


def test_get_neo_streams_lists_what_the_reader_opens(np2_session):
    from gpuspike.extractors import get_neo_num_blocks, get_neo_streams

    session, written = np2_session
    names, ids = get_neo_streams("openephysbinary", session)
    assert sorted(names) == sorted(f"{NODE}#{folder}" for folder in (NIDAQ, AP, LFP, f"{AP}SYNC", f"{LFP}SYNC"))
    assert get_neo_num_blocks("openephysbinary", session) == 1
    for name, sid in zip(names, ids):
        rec = read_openephys(session, stream_id=sid)
        assert (rec.stream_id, rec.stream_name, rec.block_index) == (sid, name, 0)
        folder = name.split("#")[1].removesuffix("SYNC")
        columns = written[folder][1]
        expected = columns[:, -1:] if name.endswith("SYNC") else columns[:, :rec.get_num_channels()]
        np.testing.assert_array_equal(rec.get_traces(), expected)
    with pytest.raises(ValueError, match="extractor_name='intan'.*'spikeglx', 'openephysbinary'"):
        get_neo_streams("intan", session)
