"""Helpers of the SortingAnalyzer differential tests (test_sortinganalyzer_differential.py).

The same code runs twice: in this process with ``si`` bound to gpuspike, and in a SpikeInterface
0.105 child process with ``si`` bound to ``spikeinterface.core`` (see ``_si_compare``). Data is
exchanged through folders both libraries read (recordings and sortings written by gpuspike) and
``.npz`` files of results, one per case and library.
"""
from __future__ import annotations

import hashlib
import json
import textwrap
from pathlib import Path

import numpy as np

from _si_compare import run_si_script


def _with_edge_spikes(sorting, num_samples: list[int]):
    """``sorting`` plus spikes near both edges of every segment (properties kept)."""
    import gpuspike as gs

    spikes = sorting.to_spike_vector()
    samples, labels = [], []
    unit_ids = sorting.unit_ids
    for seg, n in enumerate(num_samples):
        mine = spikes[spikes["segment_index"] == seg]
        extra_samples = np.array([2, 25, n - 40, n - 4], dtype="int64")
        extra_units = np.array([1, 3, 1, 0], dtype="int64")
        s = np.concatenate([mine["sample_index"], extra_samples])
        u = np.concatenate([mine["unit_index"], extra_units])
        order = np.lexsort((u, s))
        samples.append(s[order])
        labels.append(unit_ids[u[order]])
    out = gs.NumpySorting.from_samples_and_labels(samples, labels, sorting.sampling_frequency, unit_ids=unit_ids)
    for key in sorting.get_property_keys():
        out.set_property(key, sorting.get_property(key))
    return out


def build_data(base: Path) -> Path:
    """Folders both libraries read: an int16 two-segment recording with gains and a float32 one, their
    sortings (with edge spikes; with and without the ``main_channel_id`` property) and noise levels."""
    import gpuspike as gs

    base = Path(base)
    rec, srt = gs.generate_ground_truth_recording(
        durations=[2.0, 1.5], sampling_frequency=30000.0, num_channels=16, num_units=5, dtype="int16",
        gain_to_uV=0.195, noise_kwargs={"noise_levels": 8.0}, generate_sorting_kwargs={"firing_rates": 12.0},
        seed=11)
    assert "main_channel_id" in srt.get_property_keys()
    rec = rec.save(folder=base / "i16", progress_bar=False)
    srt = _with_edge_spikes(srt, [rec.get_num_samples(s) for s in range(rec.get_num_segments())])
    srt.save(folder=base / "i16_sorting")
    nomain = gs.NumpySorting.from_sorting(srt, with_metadata=True)
    nomain.delete_property("main_channel_id")
    nomain.save(folder=base / "i16_sorting_nomain")
    np.save(base / "noise_i16.npy", gs.get_noise_levels(rec, return_in_uV=True, random_slices_kwargs={"seed": 1}))

    rec, srt = gs.generate_ground_truth_recording(
        durations=[2.0], sampling_frequency=30000.0, num_channels=12, num_units=4, dtype="float32",
        noise_kwargs={"noise_levels": 6.0}, generate_sorting_kwargs={"firing_rates": 15.0}, seed=23)
    rec = rec.save(folder=base / "f32", progress_bar=False)
    srt = _with_edge_spikes(srt, [rec.get_num_samples(0)])
    srt.save(folder=base / "f32_sorting")
    np.save(base / "noise_f32.npy", gs.get_noise_levels(rec, return_in_uV=True, random_slices_kwargs={"seed": 1}))

    # legacy WaveformExtractor folders written by gpuspike
    rec, srt = gs.load(base / "i16"), gs.load(base / "i16_sorting")
    gs.extract_waveforms(rec, srt, folder=base / "we_dense", max_spikes_per_unit=15, seed=3, sparse=False,
                         precompute_template=("average", "std"), progress_bar=False)
    gs.extract_waveforms(rec, srt, folder=base / "we_sparse", max_spikes_per_unit=12, seed=4, sparse=True,
                         ms_before=0.8, ms_after=1.5, precompute_template=("average", "median"), progress_bar=False)
    gs.extract_waveforms(rec, srt, folder=base / "we_raw", max_spikes_per_unit=None, sparse=False, return_scaled=False,
                         precompute_template=("average",), progress_bar=False)
    return base


#: what both libraries run: ``run_case(si, base, cfg)`` returns a dict of arrays for one case
CASE_CODE = textwrap.dedent('''
    import json as _json
    import warnings as _warnings
    import numpy as _np

    def load_pair(si, base, rec, srt):
        return si.load(base + "/" + rec), si.load(base + "/" + srt)

    def _creation_kwargs(base, cfg):
        create = _json.loads(_json.dumps(cfg.get("create", {})))
        sparsity_kwargs = create.get("sparsity_kwargs")
        if sparsity_kwargs and sparsity_kwargs.get("noise_levels") == "file":
            sparsity_kwargs["noise_levels"] = _np.load(base + "/noise_" + cfg["rec"] + ".npy")
        return create

    def export_analyzer(analyzer, out, prefix=""):
        """unit/channel ids, settings, sparsity, main channels and every core extension's params and data"""
        out[prefix + "unit_ids"] = _np.asarray(analyzer.unit_ids).astype(str)
        out[prefix + "channel_ids"] = _np.asarray(analyzer.channel_ids).astype(str)
        out[prefix + "settings"] = _np.array(_json.dumps([bool(analyzer.return_in_uV), analyzer.peak_sign,
                                                          analyzer.peak_mode]))
        out[prefix + "sparsity_mask"] = (analyzer.sparsity.mask if analyzer.sparsity is not None
                                         else _np.zeros((0, 0), bool))
        out[prefix + "main_channels"] = _np.asarray(analyzer.get_main_channels())
        out[prefix + "spikes"] = analyzer.sorting.to_spike_vector()
        for key in ("is_merged", "is_split"):
            if key in analyzer.sorting.get_property_keys():
                out[prefix + key] = _np.asarray(analyzer.sorting.get_property(key))
        names = []
        for name in ("random_spikes", "waveforms", "templates", "noise_levels"):
            ext = analyzer.get_extension(name)
            if ext is None:
                continue
            names.append(name)
            out[prefix + "params_" + name] = _np.array(_json.dumps(ext.params, sort_keys=True))
            for key, value in ext.data.items():
                out[prefix + name + "__" + key] = _np.asarray(value)
        out[prefix + "extensions"] = _np.array(names, dtype=str)
        return out

    def split_indices(analyzer, rules):
        """``{unit_id: rule}`` to SpikeInterface's ``split_units``: "parity" (even / odd spikes of the
        unit's train) or "thirds" (first third / the rest)."""
        counts = analyzer.sorting.count_num_spikes_per_unit()
        out = {}
        for unit_id, rule in rules.items():
            n = int(counts[unit_id])
            if rule == "parity":
                out[unit_id] = [_np.arange(0, n, 2), _np.arange(1, n, 2)]
            else:
                out[unit_id] = [_np.arange(n // 3), _np.arange(n // 3, n)]
        return out

    def run_case(si, base, cfg):
        if cfg.get("legacy"):
            analyzer = si.load_waveforms(base + "/" + cfg["legacy"], output="SortingAnalyzer")
        else:
            recording, sorting = load_pair(si, base, cfg["rec"], cfg["sorting"])
            if cfg.get("groups"):  # an aggregated analyzer: dicts of recordings and sortings by group
                recording.set_property("group", cfg["groups"][0])
                sorting.set_property("group", cfg["groups"][1])
                recording, sorting = recording.split_by("group"), sorting.split_by("group")
            analyzer = si.create_sorting_analyzer(sorting, recording, format="memory",
                                                  **_creation_kwargs(base, cfg))
        for name, params in cfg.get("compute", []):
            analyzer.compute(name, **params)
        for method, kwargs in cfg.get("then", []):
            if method == "split_units":
                kwargs = dict(kwargs, split_units=split_indices(analyzer, kwargs["split_units"]))
            analyzer = getattr(analyzer, method)(**kwargs)
        if isinstance(analyzer, dict):  # split_by(): one analyzer per group
            out = {}
            for key, part in sorted(analyzer.items()):
                export_analyzer(part, out, prefix="group" + str(key) + "/")
            return out
        out = export_analyzer(analyzer, {})
        for op in cfg.get("get_templates", []):
            ext = analyzer.get_extension("templates")
            if isinstance(op, list):
                out["get_templates_percentile_" + str(op[1])] = ext.get_templates(operator="percentile",
                                                                                  percentile=op[1])
            else:
                out["get_templates_" + op] = ext.get_templates(operator=op)
        return out
''')

_SI_MAIN = textwrap.dedent('''
    import sys
    import spikeinterface.core as _si
    _warnings.simplefilter("ignore")
    _base, _cases = sys.argv[1], _json.loads(open(sys.argv[2]).read())
    for _name, _cfg in _cases.items():
        try:
            _out = run_case(_si, _base, _cfg)
        except Exception as _err:
            _out = {"__error__": _np.array(type(_err).__name__ + ": " + str(_err)[:500])}
        _np.savez(_base + "/si_" + _name + ".npz", **_out)
''')


def run_cases_both(cases: dict, base: Path) -> dict:
    """Run every case with SpikeInterface (one child process) and with gpuspike (here).

    Returns
    -------
    dict
        ``{case: (gpuspike_result, spikeinterface_result)}``: dicts of arrays (``__error__`` when
        the case raised).
    """
    import warnings

    import gpuspike

    base = Path(base)
    case_file = base / "cases.json"
    case_file.write_text(json.dumps(cases))
    run_si_script(CASE_CODE + _SI_MAIN, base, case_file)
    namespace: dict = {}
    exec(CASE_CODE, namespace)
    results = {}
    for name, cfg in cases.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                gs_out = namespace["run_case"](gpuspike, str(base), cfg)
            except Exception as err:  # compared with SpikeInterface's outcome by the tests
                gs_out = {"__error__": np.array(f"{type(err).__name__}: {err}")}
        with np.load(base / f"si_{name}.npz", allow_pickle=False) as si_file:
            si_out = {k: si_file[k] for k in si_file.files}
        results[name] = (_plain(gs_out), si_out)
    return results


def _plain(out: dict) -> dict:
    """Arrays as SpikeInterface's side sees them after ``np.savez`` (a round trip through npz)."""
    import io

    buffer = io.BytesIO()
    np.savez(buffer, **out)
    buffer.seek(0)
    with np.load(buffer, allow_pickle=False) as loaded:
        return {k: loaded[k] for k in loaded.files}


def export_analyzer(analyzer) -> dict:
    """gpuspike's export of an analyzer (the same as ``CASE_CODE``'s), as plain arrays."""
    namespace: dict = {}
    exec(CASE_CODE, namespace)
    return _plain(namespace["export_analyzer"](analyzer, {}))


def tree_digest(folder: Path) -> dict:
    """``{relative path: sha256}`` of every file under ``folder`` (what "left byte-identical" compares)."""
    folder = Path(folder)
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_no_error(gs_out: dict, si_out: dict, name: str) -> None:
    """Both libraries ran the case."""
    assert "__error__" not in si_out, f"{name}: SpikeInterface raised {si_out['__error__']}"
    assert "__error__" not in gs_out, f"{name}: gpuspike raised {gs_out['__error__']}"


def assert_close_templates(actual, expected, what: str, rtol: float = 1e-6) -> None:
    """Equal within ``rtol`` of each template's largest |value| (per unit), with the same shape."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    scale = np.abs(expected.astype("float64")).reshape(expected.shape[0], -1).max(axis=1)
    scale = np.where(scale > 0, scale, 1.0)
    err = np.abs(actual.astype("float64") - expected.astype("float64")).reshape(expected.shape[0], -1).max(axis=1)
    worst = int(np.argmax(err / scale))
    assert np.all(err <= rtol * scale), (f"{what}: unit index {worst} differs by {err[worst]:.3g} "
                                         f"(> {rtol} x {scale[worst]:.3g})")


# ---------------------------------------------------------------------- folder round trips
#: the two analyzers each library writes: (name, format, creation kwargs, extensions)
ROUNDTRIP_ANALYZERS = [
    ("bin", "binary_folder", {"sparse": True, "sparsity_kwargs": {"radius_um": 50.0}},
     {"random_spikes": {"max_spikes_per_unit": 20, "seed": 3}, "waveforms": {"ms_before": 0.8},
      "templates": {"operators": ["average", "std", "median", ["percentile", 90]]},
      "noise_levels": {"random_slices_kwargs": {"seed": 2}}}),
    ("zarr", "zarr", {"sparse": False, "return_in_uV": False},
     {"random_spikes": {"method": "all"}, "waveforms": {}, "templates": {},
      "noise_levels": {"random_slices_kwargs": {"seed": 4}}}),
]
#: SpikeInterface's postprocessing extensions computed in its folders (their data stays on disk for gpuspike;
#: unit locations by center of mass: the default method needs scipy)
FOREIGN = {"bin": ["spike_amplitudes", "unit_locations"], "zarr": ["unit_locations", "template_similarity"]}
FOREIGN_PARAMS = {"spike_amplitudes": {}, "unit_locations": {"method": "center_of_mass"}, "template_similarity": {}}
SELECTED_UNITS = ["4", "0", "2"]


def folder_name(prefix: str, name: str, suffix: str = "") -> str:
    """``<prefix>_<name><suffix>``, with ``.zarr`` for the zarr analyzers."""
    return f"{prefix}_{name}{suffix}" + (".zarr" if name == "zarr" else "")


def write_gpuspike_analyzers(data: Path, base: Path) -> dict:
    """gpuspike's analyzers (both formats, four extensions), a save_as to the other format and a
    select_units of each, and a copy of each for SpikeInterface to compute in. Returns their exports."""
    import shutil

    import gpuspike as gs

    recording, sorting = gs.load(Path(data) / "i16"), gs.load(Path(data) / "i16_sorting")
    exports = {}
    for name, fmt, create, extensions in ROUNDTRIP_ANALYZERS:
        other = "binary_folder" if fmt == "zarr" else "zarr"
        analyzer = gs.create_sorting_analyzer(sorting, recording, format=fmt, folder=base / f"gs_{name}", **create)
        analyzer.compute(extensions)
        exports[folder_name("gs", name)] = export_analyzer(analyzer)
        saved = analyzer.save_as(format=other, folder=base / f"gs_{name}_saveas")
        exports[Path(saved.folder).name] = exports[folder_name("gs", name)]
        selected = analyzer.select_units(SELECTED_UNITS, format=fmt, folder=base / f"gs_{name}_select")
        exports[folder_name("gs", name, "_select")] = export_analyzer(selected)
        shutil.copytree(base / folder_name("gs", name), base / folder_name("gs", name, "_simod"))
    return exports


#: SpikeInterface's side of the round trips (after write_gpuspike_analyzers): it opens gpuspike's folders,
#: computes in copies of them, writes its own analyzers (with postprocessing extensions), their save_as and
#: select_units, and runs on copies of its folders the sequence that the foreign-extension test repeats
SI_ROUNDTRIP_1 = textwrap.dedent('''
    import shutil, sys
    from pathlib import Path
    import spikeinterface.core as si
    import spikeinterface.postprocessing  # noqa: F401 - registers the postprocessing extensions
    _warnings.simplefilter("ignore")
    data, base = Path(sys.argv[1]), Path(sys.argv[2])
    config = _json.loads(open(sys.argv[3]).read())

    def save(file, analyzer, **more):
        out = export_analyzer(analyzer, {})
        out["saved"] = _np.array(sorted(analyzer.get_saved_extension_names()), dtype=str)
        _np.savez(base / file, **out, **more)

    for folder in config["gs_folders"]:
        save("siview_" + folder + ".npz", si.load_sorting_analyzer(base / folder))
    for folder in config["gs_simod"]:
        analyzer = si.load_sorting_analyzer(base / folder)
        analyzer.compute("templates", operators=["average", "median"])
        analyzer.compute("unit_locations", method="center_of_mass")
        save("simod_" + folder + ".npz", analyzer)

    recording, sorting = si.load(data / "i16"), si.load(data / "i16_sorting")
    for name, fmt, create, extensions in config["analyzers"]:
        analyzer = si.create_sorting_analyzer(sorting, recording, format=fmt, folder=base / ("si_" + name), **create)
        analyzer.compute(extensions)
        analyzer.compute({ext: config["foreign_params"][ext] for ext in config["foreign"][name]})
        folder = Path(analyzer.folder).name
        save("si_" + folder + ".npz", analyzer)
        other = "binary_folder" if fmt == "zarr" else "zarr"
        saved = analyzer.save_as(format=other, folder=base / ("si_" + name + "_saveas"))
        save("si_" + Path(saved.folder).name + ".npz", saved)
        selected = analyzer.select_units(config["selected"], format=fmt, folder=base / ("si_" + name + "_select"))
        save("si_" + Path(selected.folder).name + ".npz", selected)
        for copy in (config["gsmod"][name], config["siref"][name]):
            shutil.copytree(base / folder, base / copy)
        reference = si.load_sorting_analyzer(base / config["siref"][name])
        steps = [sorted(reference.get_saved_extension_names())]
        reference.compute("noise_levels", random_slices_kwargs={"seed": 9})
        steps.append(sorted(reference.get_saved_extension_names()))
        reference.compute("templates", operators=["average"])
        steps.append(sorted(reference.get_saved_extension_names()))
        steps.append(sorted(si.load_sorting_analyzer(base / config["siref"][name]).get_saved_extension_names()))
        (base / ("siref_" + name + ".json")).write_text(_json.dumps(steps))
''')

#: SpikeInterface opens the folders of its analyzers in which gpuspike computed, and computes in them
SI_ROUNDTRIP_2 = textwrap.dedent('''
    import sys
    from pathlib import Path
    import spikeinterface.core as si
    import spikeinterface.postprocessing  # noqa: F401
    _warnings.simplefilter("ignore")
    base = Path(sys.argv[1])
    for folder in sys.argv[2:]:
        analyzer = si.load_sorting_analyzer(base / folder)
        out = export_analyzer(analyzer, {})
        out["saved"] = _np.array(sorted(analyzer.get_saved_extension_names()), dtype=str)
        analyzer.compute("spike_amplitudes")
        out["amplitudes_size"] = _np.array(analyzer.get_extension("spike_amplitudes").get_data().size)
        _np.savez(base / ("sireopen_" + folder + ".npz"), **out)
''')


def roundtrip_config() -> dict:
    """What SI_ROUNDTRIP_1 is told (folder names, analyzers, foreign extensions)."""
    names = [name for name, *_ in ROUNDTRIP_ANALYZERS]
    gs_folders = []
    for name in names:
        other = "zarr" if name == "bin" else "bin"
        gs_folders += [folder_name("gs", name), folder_name("gs", name, "_select"),
                       f"gs_{name}_saveas" + (".zarr" if other == "zarr" else "")]
    return {"gs_folders": gs_folders, "gs_simod": [folder_name("gs", n, "_simod") for n in names],
            "analyzers": ROUNDTRIP_ANALYZERS, "foreign": FOREIGN, "foreign_params": FOREIGN_PARAMS,
            "selected": SELECTED_UNITS,
            "gsmod": {n: folder_name("si", n, "_gsmod") for n in names},
            "siref": {n: folder_name("si", n, "_siref") for n in names}}


def run_si_roundtrip_1(data: Path, base: Path) -> None:
    config = base / "roundtrip.json"
    config.write_text(json.dumps(roundtrip_config()))
    run_si_script(CASE_CODE + SI_ROUNDTRIP_1, data, base, config)


def run_si_roundtrip_2(base: Path, folders: list[str]) -> None:
    run_si_script(CASE_CODE + SI_ROUNDTRIP_2, base, *folders)


def load_npz(path: Path) -> dict:
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def assert_same_export(actual: dict, expected: dict, what: str, skip=("saved", "amplitudes_size")) -> None:
    """The same ids, settings, sparsity, main channels, spikes, extension params and data (bitwise)."""
    keys = sorted(k for k in expected if k not in skip)
    assert keys == sorted(k for k in actual if k not in skip), f"{what}: entries differ"
    for key in keys:
        a, e = actual[key], expected[key]
        if key.startswith("params_") or key == "settings":
            assert json.loads(str(a)) == json.loads(str(e)), f"{what}: {key} {a} != {e}"
        else:
            assert a.dtype == e.dtype, f"{what}: {key} dtype {a.dtype} != {e.dtype}"
            np.testing.assert_array_equal(a, e, err_msg=f"{what}: {key}")
