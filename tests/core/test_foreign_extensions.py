"""SpikeInterface's extensions that gpuspike does not compute, in folders gpuspike copies.

SpikeInterface 0.105.3 computes postprocessing and metric extensions in an analyzer folder;
gpuspike copies it (``save_as``, into both formats) and selects units of it; SpikeInterface then
opens gpuspike's folders, and what it reads there must equal what it gives for the same copies and
selections made by itself.
"""
import json
import textwrap
import warnings

import numpy as np
import pytest

import gpuspike as gs
from _si_compare import run_si_script

pytestmark = pytest.mark.compare

SI_WRITE = textwrap.dedent('''
    import sys
    import spikeinterface.core as si
    base = sys.argv[1]
    rec, srt = si.generate_ground_truth_recording(durations=[4.0], num_units=5, num_channels=4, seed=3)
    rec = rec.save(folder=base + "/rec")
    for fmt, folder in (("binary_folder", base + "/si_an"), ("zarr", base + "/si_an.zarr")):
        sa = si.create_sorting_analyzer(srt, rec, format=fmt, folder=folder, sparse=False)
        sa.compute(["random_spikes", "templates", "spike_amplitudes", "unit_locations", "template_similarity"])
        sa.compute("correlograms", window_ms=20.0, bin_ms=2.0)
        sa.compute("isi_histograms", window_ms=20.0, bin_ms=2.0)
        sa.compute("quality_metrics", metric_names=["num_spikes", "firing_rate"])
        sa.compute("template_metrics", metric_names=["peak_to_trough_duration"])
        sa.save_as(format="zarr", folder=base + "/si_copy_" + fmt)
        sa.select_units(sa.unit_ids[[3, 1]], format="binary_folder", folder=base + "/si_sel_" + fmt)
        sa.merge_units([list(sa.unit_ids[:2])], format="binary_folder", folder=base + "/si_merge_" + fmt)
        n = sa.sorting.count_num_spikes_per_unit(outputs="dict")[sa.unit_ids[1]]
        sa.split_units({sa.unit_ids[1]: [list(range(0, n, 2)), list(range(1, n, 2))]}, format="binary_folder",
                       folder=base + "/si_split_" + fmt)
''')

SI_READ = textwrap.dedent('''
    import json, sys, warnings
    warnings.simplefilter("ignore")
    import numpy as np
    import spikeinterface.core as si
    out = {}
    for folder in sys.argv[1:]:
        sa = si.load_sorting_analyzer(folder)
        entry = {"metrics": {k: {str(u): v for u, v in col.items()} for k, col in
                             sa.get_metrics_extension_data().astype(float).to_dict().items()}}
        for name in ("spike_amplitudes", "unit_locations", "template_similarity", "correlograms", "isi_histograms"):
            if sa.has_extension(name):
                data = sa.get_extension(name).get_data()
                data = list(data) if isinstance(data, tuple) else [data]
                entry[name] = [np.asarray(d).round(4).tolist() for d in data]
        if sa.has_extension("spike_amplitudes"):
            by_unit = sa.get_extension("spike_amplitudes").get_data(outputs="by_unit")[0]
            entry["amplitudes_by_unit"] = {str(u): np.asarray(v).round(4).tolist() for u, v in by_unit.items()}
        out[folder.rsplit("/", 1)[1]] = entry
    print("READ" + json.dumps(out))
''')


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    base = tmp_path_factory.mktemp("foreign")
    run_si_script(SI_WRITE, base)
    return base


def read_with_spikeinterface(*folders) -> dict:
    out = run_si_script(SI_READ, *folders)
    return json.loads(out.stdout.split("READ", 1)[1])


@pytest.mark.parametrize("source", ["si_an", "si_an.zarr"])
def test_save_as_select_merge_and_split_carry_spikeinterfaces_extensions(folders, source):
    fmt = "zarr" if source.endswith(".zarr") else "binary_folder"
    analyzer = gs.load_sorting_analyzer(folders / source)
    analyzer.save_as(format="zarr", folder=folders / f"gs_copy_{fmt}")
    selected = analyzer.select_units(analyzer.unit_ids[[3, 1]], format="binary_folder",
                                     folder=folders / f"gs_sel_{fmt}")
    with pytest.warns(UserWarning, match="\\['correlograms', 'isi_histograms', 'quality_metrics'.*merged units"):
        analyzer.merge_units([list(analyzer.unit_ids[:2])], format="binary_folder", folder=folders / f"gs_merge_{fmt}")
    n = analyzer.sorting.count_num_spikes_per_unit(outputs="dict")[analyzer.unit_ids[1]]
    with pytest.warns(UserWarning, match="split units"):
        analyzer.split_units({analyzer.unit_ids[1]: [list(range(0, n, 2)), list(range(1, n, 2))]},
                             format="binary_folder", folder=folders / f"gs_split_{fmt}")
    assert {"quality_metrics", "spike_amplitudes", "correlograms"} <= set(selected.get_saved_extension_names())
    kinds = ("copy", "sel", "merge", "split")
    read = read_with_spikeinterface(*(str(folders / (f"{who}_{kind}_{fmt}" + (".zarr" if kind == "copy" else "")))
                                      for who in ("gs", "si") for kind in kinds))
    # SpikeInterface reads in gpuspike's copy and selection what it reads in its own
    assert read[f"gs_copy_{fmt}.zarr"] == read[f"si_copy_{fmt}.zarr"]
    assert read[f"gs_sel_{fmt}"] == read[f"si_sel_{fmt}"]
    counts = analyzer.sorting.count_num_spikes_per_unit(outputs="dict")
    assert read[f"gs_sel_{fmt}"]["metrics"]["num_spikes"] == {str(u): float(counts[u])
                                                             for u in analyzer.unit_ids[[3, 1]]}
    # per-spike data follow their spikes through merges and splits, as in SpikeInterface
    for kind in ("merge", "split"):
        for key in ("spike_amplitudes", "amplitudes_by_unit"):
            assert read[f"gs_{kind}_{fmt}"][key] == read[f"si_{kind}_{fmt}"][key], (kind, key)


def test_extensions_that_cannot_follow_are_named_in_a_warning(folders, tmp_path):
    analyzer = gs.load_sorting_analyzer(folders / "si_an")
    names = "\\['correlograms', 'isi_histograms', 'quality_metrics', 'spike_amplitudes', 'template_metrics', " \
            "'template_similarity', 'unit_locations'\\]"
    with pytest.warns(UserWarning, match=f"{names}.*in memory holds only"):
        analyzer.select_units(analyzer.unit_ids[:2])
    with pytest.warns(UserWarning, match="'unit_locations'\\].*merged units"):
        merged = analyzer.merge_units([list(analyzer.unit_ids[:2])], merging_mode="hard", format="binary_folder",
                                      folder=tmp_path / "m")
    assert not set(merged.get_saved_extension_names()) & {"quality_metrics", "spike_amplitudes"}  # a hard merge
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an analyzer of gpuspike's extensions only: nothing to say
        gs.create_sorting_analyzer(analyzer.sorting, analyzer.recording, format="binary_folder",
                                   folder=tmp_path / "own", sparse=False).select_units(analyzer.unit_ids[:2])
    np.testing.assert_array_equal(merged.unit_ids.size, analyzer.unit_ids.size - 1)


def test_an_unreadable_extension_is_left_behind_with_the_reason(folders, tmp_path, monkeypatch):
    import shutil
    import sys

    source = tmp_path / "copy_of_si_an"
    shutil.copytree(folders / "si_an", source)
    (source / "extensions" / "template_metrics" / "metrics.csv").write_bytes(b"\xff\xfe\x00\x00garbage\n\x00")
    analyzer = gs.load_sorting_analyzer(source)
    with pytest.warns(UserWarning, match="\\['template_metrics'\\].*cannot be read.*metrics.csv"):
        copy = analyzer.save_as(format="binary_folder", folder=tmp_path / "copy")
    assert {"quality_metrics", "spike_amplitudes"} <= set(copy.get_saved_extension_names())
    assert "template_metrics" not in copy.get_saved_extension_names()
    monkeypatch.setitem(sys.modules, "pandas", None)  # an environment without pandas
    with pytest.warns(UserWarning, match="\\['quality_metrics'\\].*cannot be read.*pip install pandas"):
        copy = gs.load_sorting_analyzer(folders / "si_an").save_as(format="binary_folder", folder=tmp_path / "c2")
    assert "spike_amplitudes" in copy.get_saved_extension_names()


def test_spikeinterfaces_curated_folders_keep_their_spike_order(folders):
    """After SpikeInterface's selections (in another order), merges and splits, simultaneous spikes are
    not in unit order: gpuspike keeps the stored order, so that random spikes and per-spike data stay
    with their spikes."""
    names = ("si_sel_binary_folder", "si_merge_binary_folder", "si_split_binary_folder")
    out_of_unit_order = 0
    for name in names:
        analyzer = gs.load_sorting_analyzer(folders / name)
        stored = np.load(folders / name / "sorting" / "spikes.npy")
        vector = analyzer.sorting.to_spike_vector()
        np.testing.assert_array_equal(vector, stored)
        ties = (np.diff(stored["sample_index"]) == 0) & (np.diff(stored["segment_index"]) == 0)
        out_of_unit_order += int(np.sum(ties & (np.diff(stored["unit_index"]) < 0)))
    assert out_of_unit_order > 0  # the data exercise the case
    analyzer = gs.load_sorting_analyzer(folders / "si_sel_binary_folder")
    by_unit = analyzer.get_extension("spike_amplitudes").get_data(outputs="by_unit")[0]
    read = read_with_spikeinterface(str(folders / "si_sel_binary_folder"))["si_sel_binary_folder"]
    assert {str(u): np.asarray(v).round(4).tolist() for u, v in by_unit.items()} == read["amplitudes_by_unit"]
