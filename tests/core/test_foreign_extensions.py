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
        sa.compute(["random_spikes", "templates", "spike_amplitudes", "unit_locations"])
        sa.compute("quality_metrics", metric_names=["num_spikes", "firing_rate"])
        sa.compute("template_metrics", metric_names=["peak_to_trough_duration"])
        sa.save_as(format="zarr", folder=base + "/si_copy_" + fmt)
        sa.select_units(sa.unit_ids[[3, 1]], format="binary_folder", folder=base + "/si_sel_" + fmt)
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
        for name in ("spike_amplitudes", "unit_locations"):
            if sa.has_extension(name):
                entry[name] = np.asarray(sa.get_extension(name).get_data()).round(4).tolist()
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
def test_save_as_and_select_units_carry_spikeinterfaces_extensions(folders, source):
    fmt = "zarr" if source.endswith(".zarr") else "binary_folder"
    analyzer = gs.load_sorting_analyzer(folders / source)
    analyzer.save_as(format="zarr", folder=folders / f"gs_copy_{fmt}")
    with pytest.warns(UserWarning, match="\\['spike_amplitudes', 'unit_locations'\\].*cannot be cut"):
        selected = analyzer.select_units(analyzer.unit_ids[[3, 1]], format="binary_folder",
                                         folder=folders / f"gs_sel_{fmt}")
    assert "quality_metrics" in selected.get_saved_extension_names()
    assert "spike_amplitudes" not in selected.get_saved_extension_names()
    read = read_with_spikeinterface(*(str(folders / name) for name in (
        f"gs_copy_{fmt}.zarr", f"si_copy_{fmt}.zarr", f"gs_sel_{fmt}", f"si_sel_{fmt}")))
    # SpikeInterface reads in gpuspike's copy what it reads in its own: postprocessing data and metrics
    assert read[f"gs_copy_{fmt}.zarr"] == read[f"si_copy_{fmt}.zarr"]
    assert read[f"gs_sel_{fmt}"]["metrics"] == read[f"si_sel_{fmt}"]["metrics"]
    assert set(read[f"gs_sel_{fmt}"]["metrics"]["num_spikes"]) == {str(u) for u in analyzer.unit_ids[[3, 1]]}
    counts = analyzer.sorting.count_num_spikes_per_unit(outputs="dict")
    assert read[f"gs_sel_{fmt}"]["metrics"]["num_spikes"] == {str(u): float(counts[u])
                                                             for u in analyzer.unit_ids[[3, 1]]}


def test_extensions_that_cannot_follow_are_named_in_a_warning(folders, tmp_path):
    analyzer = gs.load_sorting_analyzer(folders / "si_an")
    names = "\\['quality_metrics', 'spike_amplitudes', 'template_metrics', 'unit_locations'\\]"
    with pytest.warns(UserWarning, match=f"{names}.*in memory holds only"):
        analyzer.select_units(analyzer.unit_ids[:2])
    with pytest.warns(UserWarning, match=f"{names}.*before the merge"):
        merged = analyzer.merge_units([list(analyzer.unit_ids[:2])], format="binary_folder", folder=tmp_path / "m")
    assert not set(merged.get_saved_extension_names()) & {"quality_metrics", "spike_amplitudes"}
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
