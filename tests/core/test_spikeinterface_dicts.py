"""Point 9: object dicts travel both ways between gpuspike and SpikeInterface 0.105.

gpuspike's ``dump_to_json`` / ``dump_to_pickle`` / folder JSON name SpikeInterface's classes (or
gpuspike's own) with plain JSON values, and SpikeInterface loads them; gpuspike loads the dicts
SpikeInterface writes for the core classes, including ``NoiseGeneratorRecording``,
``MockRecording`` and ``InjectTemplatesRecording``, and gets the same traces.
"""
import json
import textwrap

import numpy as np
import pytest

import gpuspike as gs

from _si_compare import run_si_script

pytestmark = pytest.mark.compare

#: runs under SpikeInterface: loads each dumped file and stores what it reads
SI_READ = textwrap.dedent('''
    import json, sys, warnings
    import numpy as np
    import spikeinterface.core as si
    warnings.simplefilter("ignore")
    base = sys.argv[1]
    names = json.loads(open(base + "/names.json").read())
    out = {}
    for name, kind in names.items():
        obj = si.load(base + "/" + name, base_folder=True)
        out[name + "_class"] = np.array(type(obj).__name__)
        if kind == "recording":
            for seg in range(obj.get_num_segments()):
                out[f"{name}_traces{seg}"] = obj.get_traces(segment_index=seg)
            out[name + "_ids"] = np.asarray(obj.channel_ids)
        else:
            for seg in range(obj.get_num_segments()):
                for u in obj.unit_ids:
                    out[f"{name}_{u}_{seg}"] = obj.get_unit_spike_train(u, segment_index=seg)
            out[name + "_ids"] = np.asarray(obj.unit_ids)
    np.savez(base + "/si_read.npz", **out)
''')


def _gpuspike_objects(base):
    rec = gs.generate_ground_truth_recording(durations=[0.6, 0.4], sampling_frequency=10000.0, num_channels=5,
                                             num_units=3, dtype="int16", gain_to_uV=0.5, seed=3)[0]
    saved = rec.save(folder=base / "rec", progress_bar=False)
    other = gs.NumpyRecording([np.arange(6000 * 2, dtype="int16").reshape(6000, 2),
                               np.ones((4000, 2), "int16")], 10000.0, channel_ids=["x", "y"]
                              ).save(folder=base / "other", progress_bar=False)
    sorting = gs.generate_sorting(num_units=4, durations=[0.6, 0.4], sampling_frequency=10000.0, seed=2)
    sorting_saved = sorting.save(folder=base / "sorting")
    templates = np.zeros((4, 20, 5), "float32")
    templates[:, 8, :] = -np.arange(1, 21, dtype="float32").reshape(4, 5)
    noise = gs.NoiseGeneratorRecording(5, 10000.0, [0.6, 0.4], noise_levels=2.0, seed=5, strategy="on_the_fly")
    return {
        "view": (saved.channel_slice(saved.channel_ids[[4, 1, 2]]), "recording"),
        "frames": (gs.select_segment_recording(saved, 0).frame_slice(100, 3000), "recording"),
        "aggregate": (gs.aggregate_channels({"a": other, "b": other.channel_slice(["y"])}), "recording"),
        "concatenate": (gs.concatenate_recordings([saved]), "recording"),
        "append": (gs.append_recordings([saved, saved]), "recording"),
        "astype": (saved.astype("float32"), "recording"),
        "mock": (gs.generate_recording(num_channels=3, durations=[0.5], seed=9), "recording"),
        "noise": (noise, "recording"),
        "inject": (gs.InjectTemplatesRecording(sorting_saved, templates, nbefore=8, parent_recording=noise),
                   "recording"),
        "sorting_view": (sorting_saved.select_units(sorting_saved.unit_ids[[3, 1]]), "sorting"),
        "sorting_frames": (gs.select_segment_sorting(sorting_saved, 1).frame_slice(50, 3000), "sorting"),
        "sorting_aggregate": (gs.aggregate_units([sorting_saved, sorting_saved]), "sorting"),
    }


def test_spikeinterface_loads_gpuspike_dumps(tmp_path):
    objects = _gpuspike_objects(tmp_path)
    names = {}
    for name, (obj, kind) in objects.items():
        obj.dump_to_json(tmp_path / f"{name}.json")
        names[f"{name}.json"] = kind
        d = json.loads((tmp_path / f"{name}.json").read_text())
        assert "__ndarray__" not in json.dumps(d)  # plain JSON values
    objects["view"][0].dump_to_pickle(tmp_path / "view.pkl")
    objects["view"][0].dump_to_json(tmp_path / "view_relative.json", relative_to=True)
    names["view.pkl"] = names["view_relative.json"] = "recording"
    (tmp_path / "names.json").write_text(json.dumps(names))
    run_si_script(SI_READ, tmp_path)
    out = np.load(tmp_path / "si_read.npz")
    checked = 0
    for file, kind in names.items():
        name = file.rsplit(".", 1)[0]
        obj = objects[name.replace("_relative", "")][0]
        assert list(out[file + "_ids"]) == list(obj.channel_ids if kind == "recording" else obj.unit_ids), file
        for seg in range(obj.get_num_segments()):
            if kind == "recording":
                np.testing.assert_array_equal(out[f"{file}_traces{seg}"], obj.get_traces(segment_index=seg), file)
            else:
                for u in obj.unit_ids:
                    np.testing.assert_array_equal(out[f"{file}_{u}_{seg}"],
                                                  obj.get_unit_spike_train(u, segment_index=seg), file)
            checked += 1
    assert checked >= 20
    # the classes SpikeInterface built are its own
    assert str(out["noise.json_class"]) == "NoiseGeneratorRecording"
    assert str(out["inject.json_class"]) == "InjectTemplatesRecording"
    assert str(out["mock.json_class"]) == "MockRecording"


#: runs under SpikeInterface: builds objects, dumps their dicts, stores their data
SI_WRITE = textwrap.dedent('''
    import sys, warnings
    from pathlib import Path
    import numpy as np
    import spikeinterface.core as si
    from spikeinterface.generation import NoiseGeneratorRecording
    warnings.simplefilter("ignore")
    base = Path(sys.argv[1])
    noise = NoiseGeneratorRecording(num_channels=4, sampling_frequency=10000.0, durations=[0.5, 0.3],
                                    noise_levels=[1.0, 2.0, 3.0, 4.0], seed=21, strategy="tile_pregenerated",
                                    noise_block_size=3000)
    noise_fly = NoiseGeneratorRecording(num_channels=3, sampling_frequency=10000.0, durations=[0.7],
                                        noise_levels=5.0, seed=8, strategy="on_the_fly", noise_block_size=1000)
    mock = si.generate_recording(num_channels=3, durations=[0.4], seed=12)
    sorting = si.generate_sorting(num_units=3, durations=[0.5, 0.3], sampling_frequency=10000.0, seed=4)
    sorting_folder = sorting.save(folder=base / "si_sorting")
    templates = np.zeros((3, 30, 4), "float32")
    templates[:, 10, :] = -np.arange(1, 13, dtype="float32").reshape(3, 4) * 3.0
    inject = si.InjectTemplatesRecording(sorting_folder, templates, nbefore=10, parent_recording=noise)
    binary = noise.save(folder=base / "si_binary", dtype="float32")
    objects = {"noise": noise, "noise_fly": noise_fly, "mock": mock, "inject": inject,
               "slice": binary.select_channels(binary.channel_ids[[3, 0]]),
               "frames": si.select_segment_recording(binary, 1).frame_slice(100, 2000),
               "aggregate": si.aggregate_channels([binary, noise]),
               "concatenate": si.concatenate_recordings([binary])}
    out = {}
    for name, rec in objects.items():
        rec.dump_to_json(base / (name + ".json"))
        for seg in range(rec.get_num_segments()):
            out[f"{name}_traces{seg}"] = rec.get_traces(segment_index=seg)
    objects["slice"].dump_to_pickle(base / "slice_pickled.pkl")
    for seg in range(2):
        out[f"slice_pickled_traces{seg}"] = objects["slice"].get_traces(segment_index=seg)
    sorting_folder.select_units(sorting_folder.unit_ids[[2, 0]]).dump_to_json(base / "units.json")
    for seg in range(2):
        for u in sorting_folder.unit_ids[[2, 0]]:
            out[f"units_{u}_{seg}"] = sorting_folder.get_unit_spike_train(u, segment_index=seg)
    np.savez(base / "si_data.npz", **out)
''')


def test_gpuspike_loads_spikeinterface_dicts(tmp_path):
    run_si_script(SI_WRITE, tmp_path)
    data = np.load(tmp_path / "si_data.npz")
    for name in ("noise", "noise_fly", "mock", "inject", "slice", "frames", "aggregate", "concatenate",
                 "slice_pickled"):
        rec = gs.load(tmp_path / (name + (".pkl" if name.endswith("pickled") else ".json")))
        for seg in range(rec.get_num_segments()):
            np.testing.assert_array_equal(rec.get_traces(segment_index=seg), data[f"{name}_traces{seg}"], name)
    units = gs.load(tmp_path / "units.json")
    assert list(units.unit_ids) == ["2", "0"]
    for seg in range(2):
        for u in units.unit_ids:
            np.testing.assert_array_equal(units.get_unit_spike_train(u, segment_index=seg), data[f"units_{u}_{seg}"])
    assert type(gs.load(tmp_path / "inject.json")).__name__ == "InjectTemplatesRecording"


def test_pickles_are_read_as_data_only(tmp_path):
    import pickle

    rec = gs.NumpyRecording([np.zeros((10, 2), "float32")], 1000.0).save(folder=tmp_path / "r",
                                                                          progress_bar=False)
    rec.dump_to_pickle(tmp_path / "r.pkl")
    assert gs.load(tmp_path / "r.pkl").get_num_channels() == 2

    class Evil:
        def __reduce__(self):
            return (print, ("this must never run",))

    (tmp_path / "evil.pkl").write_bytes(pickle.dumps({"class": "x", "kwargs": Evil()}))
    with pytest.raises(pickle.UnpicklingError, match="refusing to unpickle builtins.print"):
        gs.load(tmp_path / "evil.pkl")
