"""SpikeInterface 0.105 interoperability: each library loads the other's binary, npz and zarr folders.

SpikeInterface runs in this process when it is importable (the ``compare`` extra); otherwise in
the Python of a separate environment given by ``GPUSPIKE_SI_PYTHON`` (SpikeInterface pins zarr < 3);
otherwise the tests are skipped (and fail under CI): see the ``si_python`` fixture in tests/conftest.py.
"""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import gpuspike as gs
from gpuspike.core.loading import load

from _saving_helpers import assert_recordings_equal

pytestmark = pytest.mark.compare

# runs under SpikeInterface only (imports no gpuspike): writes SI folders / reads gpuspike folders
SI_SCRIPT = textwrap.dedent('''
    import json, sys, warnings
    from pathlib import Path
    import numpy as np
    import spikeinterface.core as si
    from probeinterface import generate_linear_probe

    def si_write(base):
        base = Path(base)
        inp = np.load(base / "input.npz")
        rec = si.NumpyRecording([inp["traces0"], inp["traces1"]], sampling_frequency=20000.0,
                                t_starts=[1.0, 3.5], channel_ids=list("abcdef"))
        rec.set_channel_gains(inp["gains"])
        rec.set_channel_offsets(0.0)
        rec.set_property("quality", inp["quality"])
        rec.annotate(experimenter="ada")
        probe = generate_linear_probe(num_elec=6, ypitch=20)
        probe.set_device_channel_indices(np.arange(6))
        rec.set_probe(probe)
        # t_starts on both segments (SpikeInterface 0.105 cannot save a mix of t_start and time vectors)
        rec.save(folder=base / "si_tstart", format="binary", n_jobs=1, chunk_size=1000, progress_bar=False)
        rec.save(folder=base / "si_tstart.zarr", format="zarr", n_jobs=1, chunk_size=1000, progress_bar=False)
        rec.set_times(inp["times0"], segment_index=0)
        rec.set_times(inp["times1"], segment_index=1)
        rec.save(folder=base / "si_bin", format="binary", n_jobs=1, chunk_size=1000, progress_bar=False)
        rec.save(folder=base / "si_rec.zarr", format="zarr", n_jobs=1, chunk_size=1000, progress_bar=False)
        sorting = si.NumpySorting.from_samples_and_labels([inp["s0"], inp["s1"]], [inp["l0"], inp["l1"]],
                                                          20000.0, unit_ids=["u0", "u1", "u2"])
        sorting.set_property("amp", inp["amp"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            si.NpzFolderSorting.write_sorting(sorting, base / "si_npz")
        sorting.save(folder=base / "si_numpy_folder", format="numpy_folder")

    def si_read(base):
        base = Path(base)
        out = {}
        for name in ("gs_bin", "gs_rec.zarr"):
            rec = si.load(base / name)
            for seg in range(rec.get_num_segments()):
                out[f"{name}_traces{seg}"] = rec.get_traces(segment_index=seg)
                out[f"{name}_times{seg}"] = rec.get_times(segment_index=seg)
            out[f"{name}_quality"] = rec.get_property("quality")
            out[f"{name}_gains"] = rec.get_channel_gains()
            out[f"{name}_locations"] = rec.get_channel_locations()
            out[f"{name}_channel_ids"] = np.asarray(rec.channel_ids)
        sorting = si.load(base / "gs_npz")
        for seg in range(sorting.get_num_segments()):
            for u in sorting.unit_ids:
                out[f"gs_npz_{u}_{seg}"] = sorting.get_unit_spike_train(u, segment_index=seg)
        out["gs_npz_amp"] = sorting.get_property("amp")
        np.savez(base / "si_read.npz", **out)

    def si_objects(base):
        base = Path(base)
        rec = si.NumpyRecording([np.zeros((100, 3), dtype="int16")], sampling_frequency=1000.0)
        rec.set_property("labels", np.array(["a", "bb", "c"], dtype=object))
        rec.set_property("notes", np.array([None, "x", 3], dtype=object))
        rec.save(folder=base / "si_obj", format="binary", progress_bar=False)
        seen = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gs_rec = si.load(base / "gs_obj")
        for key in gs_rec.get_property_keys():
            seen[key] = [str(v) for v in gs_rec.get_property(key)]
        (base / "si_saw.json").write_text(json.dumps(seen))

    if __name__ == "__main__":
        {"write": si_write, "read": si_read, "objects": si_objects}[sys.argv[1]](sys.argv[2])
''')


@pytest.fixture(scope="module")
def si_run(si_python):
    if si_python == sys.executable:  # SpikeInterface imports here: run its functions in this process
        namespace = {"__name__": "si_script"}
        exec(SI_SCRIPT, namespace)
        return lambda mode, base: namespace[f"si_{mode}"](base)

    def run(mode, base):
        env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
        res = subprocess.run([si_python, "-c", SI_SCRIPT, mode, str(base)], capture_output=True, text=True, env=env,
                             timeout=300)
        assert res.returncode == 0, res.stderr[-4000:]

    return run


def _inputs(base: Path) -> dict:
    rng = np.random.default_rng(11)
    inp = {"traces0": rng.integers(-500, 500, size=(4003, 6)).astype("int16"),
           "traces1": rng.integers(-500, 500, size=(2500, 6)).astype("int16"),
           "gains": np.linspace(0.5, 1.5, 6).astype("float32"),
           "quality": np.array(["good", "bad", "good", "mua", "good", "noise"]),
           "times0": 1.0 + np.cumsum(rng.uniform(4.9e-5, 5.1e-5, size=4003)),
           "times1": 9.0 + np.cumsum(rng.uniform(4.9e-5, 5.1e-5, size=2500)),
           "s0": np.sort(rng.integers(0, 4003, 50)), "l0": rng.choice(["u0", "u1", "u2"], 50),
           "s1": np.sort(rng.integers(0, 2500, 30)), "l1": rng.choice(["u0", "u1", "u2"], 30),
           "amp": np.array([1.5, 2.5, 3.5])}
    np.savez(base / "input.npz", **inp)
    return inp


def test_gpuspike_loads_spikeinterface_folders(tmp_path, si_run):
    inp = _inputs(tmp_path)
    si_run("write", tmp_path)
    for name in ("si_bin", "si_rec.zarr", "si_tstart", "si_tstart.zarr"):
        rec = load(tmp_path / name)
        assert np.array_equal(rec.channel_ids, list("abcdef"))
        assert np.array_equal(rec.get_traces(segment_index=0), inp["traces0"])
        assert np.array_equal(rec.get_traces(segment_index=1), inp["traces1"])
        if "tstart" in name:
            assert not rec.has_time_vector(0) and rec.get_start_time(0) == 1.0 and rec.get_start_time(1) == 3.5
        else:
            np.testing.assert_array_equal(rec.get_times(0), inp["times0"])
            np.testing.assert_array_equal(rec.get_times(1), inp["times1"])
        assert np.array_equal(rec.get_property("quality"), inp["quality"])
        np.testing.assert_array_equal(rec.get_channel_gains(), inp["gains"])
        assert rec.get_annotation("experimenter") == "ada"
        probe = rec.get_probe()
        np.testing.assert_array_equal(probe.contact_positions[:, 1], np.arange(6) * 20.0)
        np.testing.assert_array_equal(rec.get_channel_locations()[:, 1], np.arange(6) * 20.0)
        saved = rec.save(folder=tmp_path / f"again_{name}", progress_bar=False)
        assert_recordings_equal(rec, saved)
    for name in ("si_npz", "si_numpy_folder"):
        sorting = load(tmp_path / name)
        assert list(sorting.unit_ids) == ["u0", "u1", "u2"]
        for seg, (s, lab) in enumerate([(inp["s0"], inp["l0"]), (inp["s1"], inp["l1"])]):
            for u in sorting.unit_ids:
                assert np.array_equal(sorting.get_unit_spike_train(u, segment_index=seg), np.sort(s[lab == u]))
        np.testing.assert_array_equal(sorting.get_property("amp"), inp["amp"])
    d = json.loads((tmp_path / "si_bin" / "si_folder.json").read_text())
    assert load(d, base_folder=tmp_path / "si_bin").get_num_channels() == 6


def test_spikeinterface_loads_gpuspike_folders(tmp_path, si_run):
    inp = _inputs(tmp_path)
    rec = gs.NumpyRecording([inp["traces0"], inp["traces1"]], 20000.0, t_starts=[0.0, 3.5],
                            channel_ids=np.array(list("abcdef")))
    rec.set_channel_gains(inp["gains"])
    rec.set_channel_offsets(0.0)
    rec.set_property("quality", inp["quality"])
    from probeinterface import generate_linear_probe

    probe = generate_linear_probe(num_elec=6, ypitch=20)
    probe.set_device_channel_indices(np.arange(6))
    rec = rec.set_probe(probe, in_place=True)
    rec.set_times(inp["times0"], segment_index=0)
    rec.save(folder=tmp_path / "gs_bin", chunk_size=1000, progress_bar=False)
    rec.save(folder=tmp_path / "gs_rec", format="zarr", chunk_size=1000, progress_bar=False)
    sorting = gs.NumpySorting.from_times_labels([inp["s0"], inp["s1"]], [inp["l0"], inp["l1"]], 20000.0,
                                                unit_ids=["u0", "u1", "u2"])
    sorting.set_property("amp", inp["amp"])
    sorting.save(folder=tmp_path / "gs_npz")
    si_run("read", tmp_path)
    out = np.load(tmp_path / "si_read.npz")
    for name in ("gs_bin", "gs_rec.zarr"):
        assert np.array_equal(out[f"{name}_traces0"], inp["traces0"])
        assert np.array_equal(out[f"{name}_traces1"], inp["traces1"])
        np.testing.assert_array_equal(out[f"{name}_times0"], inp["times0"])
        np.testing.assert_allclose(out[f"{name}_times1"], 3.5 + np.arange(2500) / 20000.0)
        assert np.array_equal(out[f"{name}_quality"], inp["quality"])
        np.testing.assert_array_equal(out[f"{name}_gains"], inp["gains"])
        np.testing.assert_array_equal(out[f"{name}_locations"][:, 1], np.arange(6) * 20.0)
        assert list(out[f"{name}_channel_ids"]) == list("abcdef")
    for seg, (s, lab) in enumerate([(inp["s0"], inp["l0"]), (inp["s1"], inp["l1"])]):
        for u in ("u0", "u1", "u2"):
            assert np.array_equal(out[f"gs_npz_{u}_{seg}"], np.sort(s[lab == u]))
    np.testing.assert_array_equal(out["gs_npz_amp"], inp["amp"])


def test_object_properties_between_the_libraries(tmp_path, si_run):
    """SpikeInterface pickles object properties; gpuspike never unpickles them and stores its own as
    strings (read by both) or JSON (read by gpuspike, ignored by SpikeInterface)."""
    rec = gs.NumpyRecording([np.zeros((100, 3), dtype="int16")], 1000.0)
    rec.set_property("labels", np.array(["a", "bb", "c"], dtype=object))
    mixed = np.empty(3, dtype=object)
    mixed[:] = [None, "x", 3]
    rec.set_property("notes", mixed)
    rec.save(folder=tmp_path / "gs_obj", progress_bar=False)
    si_run("objects", tmp_path)
    seen = json.loads((tmp_path / "si_saw.json").read_text())
    assert seen["labels"] == ["a", "bb", "c"]  # a string array: SpikeInterface reads it
    assert "notes" not in seen  # JSON: SpikeInterface skips it (and nothing breaks)
    loaded = load(tmp_path / "gs_obj")
    assert loaded.get_property("notes").tolist() == [None, "x", 3]
    with pytest.warns(RuntimeWarning, match="property '(labels|notes)' was not loaded.*never unpickles"):
        si_rec = load(tmp_path / "si_obj")
    assert "notes" not in si_rec.get_property_keys() and si_rec.get_num_channels() == 3
