"""SpikeGLX and Open Ephys readers against SpikeInterface 0.105 on the same folders.

Folders from the real headers (``$GPUSPIKE_REAL_DATA``) and headers edited from them (LF,
NIDQ, NP-Ultra, NHP, NP2.0 single-shank and quad-base metas, CatGT names, a meta without
``firstSample``, an ONIX stream, Open Ephys SYNC streams, a missing stream folder), each with
small data files written here. Every stream SpikeInterface lists is read by both; where
SpikeInterface reads it, gpuspike must give the same channel ids, sample counts, times, gains,
offsets, properties, annotations, probe and raw and µV traces, and warn where it warns; where
SpikeInterface fails, gpuspike must still read it.

SpikeInterface runs in this process when it is importable, otherwise in the Python given by
``GPUSPIKE_SI_PYTHON`` (it pins zarr < 3, so it usually lives in its own environment); the
tests are skipped, with the reason, when neither is available.
"""
import json
import os
import subprocess
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

from gpuspike.extractors import read_openephys, read_spikeglx

import _rig_headers as rig

pytestmark = pytest.mark.compare

# runs under SpikeInterface only (imports no gpuspike): reads every stream of every case folder
SI_SCRIPT = textwrap.dedent('''
    import json, sys, warnings
    from pathlib import Path
    import numpy as np

    def describe(rec):
        out, arrays = {}, {}
        out["channel_ids"] = [str(c) for c in rec.channel_ids]
        out["sampling_frequency"] = float(rec.get_sampling_frequency())
        out["num_samples"] = [int(rec.get_num_samples(segment_index=s)) for s in range(rec.get_num_segments())]
        out["annotations"] = {k: (v if v is None or isinstance(v, (str, bool, int, float)) else str(v))
                              for k, v in rec._annotations.items() if k != "probes_info"}
        out["properties"] = sorted(k for k in rec.get_property_keys() if k != "contact_vector")
        for key in out["properties"]:
            arrays["prop_" + key] = np.asarray(rec.get_property(key))
        groups = rec.get_channel_groups()
        out["groups_is_none"] = groups is None
        out["has_probe"] = bool(rec.has_probe())
        if rec.has_probe():
            probe = rec.get_probe()
            out["probe"] = {"model_name": probe.model_name, "serial_number": str(probe.serial_number),
                            "name": probe.name, "part_number": probe.annotations.get("part_number"),
                            "num_shanks": int(probe.get_shank_count())}
            arrays["probe_positions"] = probe.contact_positions
            arrays["probe_contact_ids"] = np.asarray(probe.contact_ids).astype(str)
            arrays["locations"] = rec.get_channel_locations()
        for s in range(rec.get_num_segments()):
            arrays[f"times{s}"] = rec.get_times(segment_index=s)
            arrays[f"raw{s}"] = rec.get_traces(segment_index=s)
            arrays[f"uV{s}"] = rec.get_traces(segment_index=s, return_in_uV=True)
        return out, arrays

    def run(cases_file):
        from spikeinterface.extractors.neoextractors.openephys import OpenEphysBinaryRecordingExtractor
        from spikeinterface.extractors.neoextractors.spikeglx import SpikeGLXRecordingExtractor
        cases = json.loads(Path(cases_file).read_text())
        results = {}
        for key, case in cases.items():
            cls = SpikeGLXRecordingExtractor if case["reader"] == "spikeglx" else OpenEphysBinaryRecordingExtractor
            results[key] = {}
            try:
                names, ids = cls.get_streams(case["folder"])
            except Exception as err:
                results[key]["(folder)"] = {"error": f"{type(err).__name__}: {err}", "warnings": []}
                continue
            for sid in ids:
                entry = {"warnings": []}
                try:
                    with warnings.catch_warnings(record=True) as caught:
                        warnings.simplefilter("always")
                        rec = cls(case["folder"], stream_id=sid, **case["kwargs"])
                        out, arrays = describe(rec)
                    entry.update(out)
                    entry["warnings"] = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
                    entry["npz"] = str(Path(case["out"]) / (sid.replace("/", "_").replace("#", "_") + ".npz"))
                    np.savez(entry["npz"], **arrays)
                except Exception as err:
                    entry["error"] = f"{type(err).__name__}: {err}"
                results[key][str(sid)] = entry
        Path(cases_file).with_name("si_results.json").write_text(json.dumps(results))

    if __name__ == "__main__":
        run(sys.argv[1])
''')


def _si_run(cases_file: Path) -> None:
    try:
        import spikeinterface  # noqa: F401

        namespace = {"__name__": "si_script"}
        exec(SI_SCRIPT, namespace)
        namespace["run"](str(cases_file))
        return
    except ImportError:
        pass
    python = os.environ.get("GPUSPIKE_SI_PYTHON")
    if not python:
        pytest.skip("SpikeInterface is not importable here (pip install gpuspike[compare]) and GPUSPIKE_SI_PYTHON "
                    "does not name the Python of a SpikeInterface 0.105 environment")
    if not Path(python).exists():
        pytest.skip(f"GPUSPIKE_SI_PYTHON={python} does not exist")
    if subprocess.run([python, "-c", "import spikeinterface"], capture_output=True).returncode:
        pytest.skip(f"GPUSPIKE_SI_PYTHON={python} cannot import spikeinterface")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
    res = subprocess.run([python, "-c", SI_SCRIPT, str(cases_file)], capture_output=True, text=True, env=env,
                         timeout=600)
    assert res.returncode == 0, res.stderr[-4000:]


def _build_cases(real: Path, base: Path) -> dict:
    """Every folder of the comparison: name -> reader and folder."""
    np1 = rig.real_meta_text(real, rig.NP1_AP_META)
    np2 = rig.real_meta_text(real, rig.NP2_4SHANK_META)
    folders = {}
    for i, name in enumerate(sorted(p.name for p in (real / "spikeglx").glob("*.meta"))):
        rig.write_pair(base / f"sglx_real{i}", name, rig.real_meta_text(real, name), seed=i)
        folders[f"sglx_real{i}"] = "spikeglx"
    lf_name = rig.NP1_AP_META.replace(".ap.", ".lf.")
    rig.write_pair(base / "sglx_ap_lf_nidq", rig.NP1_AP_META, np1, seed=10)
    rig.write_pair(base / "sglx_ap_lf_nidq", lf_name, rig.lf_meta_from_ap(np1), num_samples=100, seed=11)
    rig.write_pair(base / "sglx_ap_lf_nidq", "Noise_g0_t0.nidq.meta", rig.nidq_meta_from_imec(np1), num_samples=1000,
                   seed=12)
    rig.write_pair(base / "sglx_lf_only", lf_name, rig.lf_meta_from_ap(np1), num_samples=100, seed=13)
    quad = rig.quad_base_meta_from_np2(np2).replace("TEST_20210920_0_g0_t0", "quad_g0_t0")
    rig.write_pair(base / "sglx_quad_base", "quad_g0_t0.imec0.ap.meta", quad, num_samples=300, seed=14)
    for k, (pn, imro_type) in enumerate([("NP1100", "1100"), ("NP1121", "1121"), ("NP1020", "1020"),
                                         ("NP1030", "1030")]):
        rig.write_pair(base / f"sglx_{pn}", rig.NP1_AP_META, rig.np1_variant_meta(np1, pn, imro_type), seed=20 + k)
    rig.write_pair(base / "sglx_np2000", rig.NP2_4SHANK_META, rig.np2_single_shank_meta(np2), seed=30)
    rig.write_pair(base / "sglx_nhp128", rig.NP1_AP_META, rig.nhp_128_meta(np1), seed=33)
    catgt = np1.replace("Noise4Sam_g0_t0.imec0.ap.bin", "Noise4Sam_g0_tcat.imec0.ap.bin")
    rig.write_pair(base / "sglx_catgt", "Noise4Sam_g0_tcat.imec0.ap.meta", catgt, seed=31)
    rig.write_pair(base / "sglx_no_first_sample", rig.NP1_AP_META, rig.edit_meta(np1, firstSample=None), seed=32)
    # two triggers (two segments) of one probe, and two probes in one run
    for trigger in (0, 1):
        text = rig.edit_meta(np1.replace("Noise4Sam_g0_t0", f"Noise4Sam_g0_t{trigger}"),
                             firstSample=str(177385 + 90000 * trigger))
        rig.write_pair(base / "sglx_two_triggers", f"Noise_g0_t{trigger}.imec0.ap.meta", text,
                       num_samples=500 + 100 * trigger, seed=34 + trigger)
    rig.write_pair(base / "sglx_two_probes", rig.NP1_AP_META, np1, seed=36)
    subset = rig.real_meta_text(real, "NP1_saved_only_subset_of_channels.meta").replace("Day_3_g0_t0", "Noise4Sam_g0_t0")
    rig.write_pair(base / "sglx_two_probes", "Noise_g0_t0.imec1.ap.meta", subset, seed=37)
    for key in ("sglx_ap_lf_nidq", "sglx_lf_only", "sglx_quad_base", "sglx_NP1100", "sglx_NP1121", "sglx_NP1020",
                "sglx_NP1030", "sglx_np2000", "sglx_nhp128", "sglx_catgt", "sglx_no_first_sample",
                "sglx_two_triggers", "sglx_two_probes"):
        folders[key] = "spikeglx"
    rig.openephys_session(real, base / "oe_np1", rig.OE_NP1, seed=40)
    rig.openephys_session(real, base / "oe_np2_sync", rig.OE_NP2_4SHANK, seed=41, experiment="experiment1")
    rig.openephys_session(real, base / "oe_np2_no_settings", rig.OE_NP2_4SHANK, seed=42)
    rig.onix_session(real, base / "oe_onix", seed=43)
    written = rig.openephys_session(real, base / "oe_missing_stream", rig.OE_NP2_4SHANK, seed=44,
                                    experiment="experiment1")
    lfp_dat = written["Neuropix-PXI-100.ProbeA-LFP"][0]
    for f in lfp_dat.parent.iterdir():
        f.unlink()
    lfp_dat.parent.rmdir()
    # two record nodes, and two recordings (segments) of one experiment
    rig.openephys_session(real, base / "oe_two_nodes", rig.OE_NP1, seed=45)
    second_node = base / "oe_two_nodes_tmp"
    rig.openephys_session(real, second_node, rig.OE_NP1, seed=46)
    (second_node / "Record_Node_101").rename(base / "oe_two_nodes" / "Record_Node_102")
    second_node.rmdir()
    rig.openephys_session(real, base / "oe_two_recordings", rig.OE_NP1, seed=47)
    other = base / "oe_two_recordings_tmp"
    rig.openephys_session(real, other, rig.OE_NP1, num_samples=700, seed=48)
    (other / "Record_Node_101" / "experiment1" / "recording1").rename(
        base / "oe_two_recordings" / "Record_Node_101" / "experiment1" / "recording2")
    for key in ("oe_np1", "oe_np2_sync", "oe_np2_no_settings", "oe_onix", "oe_missing_stream", "oe_two_nodes",
                "oe_two_recordings"):
        folders[key] = "openephys"
    cases = {}
    for key, reader in folders.items():
        cases[key] = {"reader": reader, "folder": str(base / key), "kwargs": {}}
    # SpikeInterface's other arguments
    cases["sglx_real2_names_annotations"] = {"reader": "spikeglx", "folder": str(base / "sglx_real2"),
                                             "kwargs": {"use_names_as_ids": True, "all_annotations": True}}
    cases["oe_np2_sync_annotations"] = {"reader": "openephys", "folder": str(base / "oe_np2_sync"),
                                        "kwargs": {"all_annotations": True}}
    for key, case in cases.items():
        case["out"] = str(base / "si_out" / key)
        Path(case["out"]).mkdir(parents=True)
    return cases


@pytest.fixture(scope="module")
def compared(tmp_path_factory, real_data):
    real = real_data
    base = tmp_path_factory.mktemp("readers")
    cases = _build_cases(real, base)
    cases_file = base / "cases.json"
    cases_file.write_text(json.dumps(cases))
    _si_run(cases_file)
    return cases, json.loads((base / "si_results.json").read_text())


def _read_gpuspike(case: dict, stream_id: str):
    reader = read_spikeglx if case["reader"] == "spikeglx" else read_openephys
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rec = reader(case["folder"], stream_id=stream_id, **case["kwargs"])
    return rec, [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


def _assert_same(rec, si: dict, arrays, where: str) -> None:
    assert [str(c) for c in rec.channel_ids] == si["channel_ids"], where
    assert rec.get_sampling_frequency() == si["sampling_frequency"], where
    assert [rec.get_num_samples(s) for s in range(rec.get_num_segments())] == si["num_samples"], where
    for key in si["properties"]:
        got = rec.get_property(key)
        assert got is not None, f"{where}: property {key!r} missing (SpikeInterface sets it)"
        ref = arrays["prop_" + key]
        if ref.dtype.kind in "fc":
            assert np.asarray(got).dtype == ref.dtype, f"{where}: property {key!r} dtype"
            np.testing.assert_array_equal(got, ref, err_msg=f"{where}: property {key!r}")
        else:
            assert [str(v) for v in np.asarray(got).ravel()] == [str(v) for v in ref.ravel()], \
                f"{where}: property {key!r}"
    for key, value in si["annotations"].items():
        assert key in rec.get_annotation_keys(), f"{where}: annotation {key!r} missing"
        assert rec.get_annotation(key) == value, f"{where}: annotation {key!r}"
    assert (rec.get_channel_groups() is None) == si["groups_is_none"], where
    assert rec.has_probe() == si["has_probe"], where
    if si["has_probe"]:
        probe = rec.get_probe()
        got = {"model_name": probe.model_name, "serial_number": str(probe.serial_number), "name": probe.name,
               "part_number": probe.annotations.get("part_number"), "num_shanks": int(probe.get_shank_count())}
        assert got == si["probe"], where
        np.testing.assert_array_equal(probe.contact_positions, arrays["probe_positions"], err_msg=where)
        assert np.asarray(probe.contact_ids).astype(str).tolist() == arrays["probe_contact_ids"].tolist(), where
        np.testing.assert_array_equal(rec.get_channel_locations(), arrays["locations"], err_msg=where)
    for s in range(rec.get_num_segments()):
        np.testing.assert_array_equal(rec.get_times(segment_index=s), arrays[f"times{s}"], err_msg=where)
        raw = rec.get_traces(segment_index=s)
        assert raw.dtype == arrays[f"raw{s}"].dtype, where
        np.testing.assert_array_equal(raw, arrays[f"raw{s}"], err_msg=where)
        np.testing.assert_array_equal(rec.get_traces(segment_index=s, return_scaled=True), arrays[f"uV{s}"],
                                      err_msg=where)


def test_every_stream_spikeinterface_reads_is_read_the_same(compared):
    cases, results = compared
    compared_streams, si_failed = 0, []
    for key, streams in results.items():
        for sid, si in streams.items():
            where = f"{key} / {sid}"
            # never fails, even where SpikeInterface does
            rec, gs_warnings = _read_gpuspike(cases[key], None if sid == "(folder)" else sid)
            assert rec.get_num_channels() > 0, where
            if "error" in si:
                si_failed.append(where)
                continue
            if key == "oe_np2_no_settings" and sid in ("1", "2"):  # the probe's AP and LFP streams
                # settings_4.xml missing: gpuspike reads the probe from the node's settings.xml (warned),
                # SpikeInterface attaches none; the rest is compared without the probe
                assert not si["has_probe"] and rec.get_probe().model_name == "NP1032", where
                assert any("settings_4.xml is missing" in w for w in gs_warnings), where
                rec, _ = _read_gpuspike({**cases[key], "kwargs": {**cases[key]["kwargs"], "load_probe": False}}, sid)
            with np.load(si["npz"]) as arrays:
                _assert_same(rec, si, arrays, where)
            if si["warnings"]:
                assert gs_warnings, f"{where}: SpikeInterface warns {si['warnings']} but gpuspike says nothing"
            compared_streams += 1
    # every folder gives at least one stream, and both readers agree on nearly all of them
    assert compared_streams >= 56, compared_streams
    # SpikeInterface 0.105 fails on: the quad-base buffer, neo's NP1200 ProbeTable entry, and neo's
    # array annotations of SYNC streams (all_annotations=True)
    sync_annotations = {f"oe_np2_sync_annotations / Record_Node_101#Neuropix-PXI-100.ProbeA-{band}SYNC"
                        for band in ("AP", "LFP")}
    assert set(si_failed) <= {"sglx_quad_base / imec0.ap", "sglx_quad_base / imec0.ap-SYNC",
                              "sglx_nhp128 / (folder)"} | sync_annotations, si_failed


def test_spikeinterface_cannot_read_quad_base_or_nhp128_but_gpuspike_can(compared):
    cases, results = compared
    # SpikeInterface 0.105 takes the 1540-column buffer for the 1536-channel stream
    assert "broadcast" in results["sglx_quad_base"]["imec0.ap"]["error"]
    rec, _ = _read_gpuspike(cases["sglx_quad_base"], "imec0.ap")
    assert rec.get_num_channels() == 1536 and rec.get_traces().shape == (300, 1536)
    # neo stops on the NP1200's ProbeTable entry (selectable gains, no "1.0" in its description)
    assert "multiple gains" in results["sglx_nhp128"]["(folder)"]["error"]
    rec, gs_warnings = _read_gpuspike(cases["sglx_nhp128"], None)
    assert rec.get_num_channels() == 128 and rec.get_probe().model_name == "NP1200"
    assert any("imro table" in w for w in gs_warnings)


def test_the_comparison_covers_the_cases_of_the_issue(compared):
    """Probe-less streams, LF streams with the AP meta's probe, dotted stream names, SYNC streams."""
    _, results = compared
    assert results["sglx_ap_lf_nidq"]["imec0.lf"]["has_probe"]
    assert not results["sglx_lf_only"]["imec0.lf"]["has_probe"]
    assert results["sglx_lf_only"]["imec0.lf"]["warnings"]
    assert results["oe_onix"]["0"]["has_probe"]
    sync = [sid for sid in results["oe_np2_sync"] if sid.endswith("SYNC")]
    assert len(sync) == 2 and not any(results["oe_np2_sync"][s]["has_probe"] for s in sync)
    assert results["oe_np2_sync"]["1"]["has_probe"] and "inter_sample_shift" in results["oe_np2_sync"]["1"]["properties"]
    assert results["sglx_no_first_sample"]["imec0.ap"]["warnings"]
    assert results["sglx_ap_lf_nidq"]["nidq"]["groups_is_none"]
    named = results["sglx_real2_names_annotations"]["imec0.ap"]
    assert named["channel_ids"][0] == "AP0" and "channel_name" not in named["properties"]
    assert "stream_name" in named["annotations"] and "channel_names" in named["properties"]
    assert {"history", "identifier"} <= set(results["oe_np2_sync_annotations"]["1"]["properties"])
    assert results["sglx_two_triggers"]["imec0.ap"]["num_samples"] == [500, 600]
    assert set(results["sglx_two_probes"]) == {"imec0.ap", "imec1.ap", "imec0.ap-SYNC", "imec1.ap-SYNC"}
    assert len(results["oe_two_nodes"]) == 2 and all(r["has_probe"] for r in results["oe_two_nodes"].values())
    assert results["oe_two_recordings"]["0"]["num_samples"] == [1000, 700]
