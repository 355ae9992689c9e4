"""Differential tests of metric extensions (``BaseMetric`` / ``BaseMetricExtension``) and of
DataFrames as extension data, against SpikeInterface 0.105.

Each snippet runs unchanged with ``si`` = gpuspike and with ``si`` = ``spikeinterface.core`` (see
``_si_compare``); the metric classes of ``SETUP`` are written once for both. The metrics read only
spike counts, spike times and template peak channels, so that both libraries give equal values.
"""
import pytest

from _extension_registry import restored_extension_registry
from _si_compare import assert_same_outcome, run_cases

pytestmark = pytest.mark.compare

SETUP = """
import importlib, warnings
from collections import namedtuple
warnings.simplefilter("ignore", FutureWarning)
ext_core = importlib.import_module(("spikeinterface" if IS_SI else "gpuspike") + ".core.analyzer_extension_core")
register = importlib.import_module(("spikeinterface" if IS_SI else "gpuspike") + ".core.sortinganalyzer")
BaseMetric, BaseMetricExtension = ext_core.BaseMetric, ext_core.BaseMetricExtension

def spike_count(sorting_analyzer, unit_ids, factor=1):
    counts = sorting_analyzer.sorting.count_num_spikes_per_unit(outputs="dict")
    return {u: factor * counts[u] for u in unit_ids}

def peak(sorting_analyzer, unit_ids):
    templates = sorting_analyzer.get_extension("templates").get_data()
    rows = sorting_analyzer.sorting.ids_to_indices(unit_ids)
    Peak = namedtuple("Peak", ["peak_channel", "peak_sample"])
    flat = [np.unravel_index(np.abs(templates[r]).argmax(), templates[r].shape) for r in rows]
    return Peak({u: int(f[1]) for u, f in zip(unit_ids, flat)}, {u: int(f[0]) for u, f in zip(unit_ids, flat)})

def first_spike(sorting_analyzer, unit_ids, tmp_data):
    return {u: int(tmp_data["first"][u]) for u in unit_ids}

def in_periods(sorting_analyzer, unit_ids, periods, scale=1):
    out = {}
    for u in unit_ids:
        train = sorting_analyzer.sorting.get_unit_spike_train(u)
        if periods is None:
            out[u] = scale * train.size
            continue
        mine = periods[periods["unit_index"] == sorting_analyzer.sorting.id_to_index(u)]
        out[u] = scale * int(sum(((train >= p["start_sample_index"]) & (train < p["end_sample_index"])).sum()
                                 for p in mine))
    return out

def broken(sorting_analyzer, unit_ids):
    raise RuntimeError("this metric always fails")

class Count(BaseMetric):
    metric_name = "count"
    metric_function = spike_count
    metric_params = {"factor": 1}
    metric_columns = {"count": int}
    metric_descriptions = {"count": "number of spikes"}
    deprecated_names = ["num_spikes"]

class Peak(BaseMetric):
    metric_name = "peak"
    metric_function = peak
    metric_columns = {"peak_channel": int, "peak_sample": int}
    depend_on = ["templates"]

class FirstSpike(BaseMetric):
    metric_name = "first_spike"
    metric_function = first_spike
    metric_columns = {"first_spike": int}
    needs_tmp_data = True

class InPeriods(BaseMetric):
    metric_name = "in_periods"
    metric_function = in_periods
    metric_params = {"scale": 1}
    metric_columns = {"in_periods": float}
    supports_periods = True

class Broken(BaseMetric):
    metric_name = "broken"
    metric_function = broken
    metric_columns = {"broken": float}

class ComputeToyMetrics(BaseMetricExtension):
    extension_name = "toy_metrics"
    metric_list = [Count, Peak, FirstSpike, InPeriods, Broken]
    tmp_data_to_save = ["first_spikes"]

    def _prepare_data(self, sorting_analyzer, unit_ids=None):
        ids = sorting_analyzer.unit_ids if unit_ids is None else unit_ids
        first = {u: int(sorting_analyzer.sorting.get_unit_spike_train(u)[0]) for u in ids}
        return {"first": first, "first_spikes": np.array([first[u] for u in ids])}

def register_once(cls):
    try:
        register.register_result_extension(cls)
    except Exception:  # registered by an earlier case (the same class, defined again)
        pass

register_once(ComputeToyMetrics)

class ComputeTable(ext_core.AnalyzerExtension):
    extension_name = "toy_table"
    depend_on = []
    need_recording = False
    use_nodepipeline = False
    need_job_kwargs = False

    def _set_params(self, label="x"):
        return dict(label=label)

    def _run(self, verbose=False):
        import pandas as pd
        ids = self.sorting_analyzer.unit_ids
        counts = self.sorting_analyzer.sorting.count_num_spikes_per_unit(outputs="array")
        self.data["table"] = pd.DataFrame({"n": counts, "half": counts / 2.0,
                                           "label": [self.params["label"] + str(u) for u in ids],
                                           "big": counts > 15}, index=ids)

    def _get_data(self):
        return self.data["table"]

    def _select_units_extension_data(self, unit_ids):
        return {"table": self.data["table"].loc[unit_ids]}

    def _merge_extension_data(self, *args, **kwargs):
        raise NotImplementedError

register_once(ComputeTable)

def analyzer(format="memory", folder=None):
    rec, sorting = si.generate_ground_truth_recording(durations=[4.0], num_units=5, num_channels=4, seed=3)
    return si.create_sorting_analyzer(sorting, rec, format=format, folder=folder, sparse=False)

def frame(df):
    return [df.columns.tolist(), df.index.tolist(), {c: str(df[c].dtype) for c in df.columns},
            df.astype(object).where(df.notna(), None).to_numpy().tolist()]
"""

CASES = {
    "computed_columns_and_values": """
sa = analyzer()
sa.compute("toy_metrics", metric_names=["count", "first_spike", "in_periods"])
ext = sa.get_extension("toy_metrics")
result = [frame(ext.get_data()), ext.params["metric_names"], ext.params["metrics_to_compute"],
          ext.get_computed_metric_names(), sorted(ext.data)]""",
    "missing_dependency_left_out": """
sa = analyzer()
sa.compute("toy_metrics", metric_names=["count", "peak"])
ext = sa.get_extension("toy_metrics")
result = [frame(ext.get_data()), ext.params["metric_names"]]""",
    "all_metrics_with_templates_and_failing_one": """
sa = analyzer()
sa.compute(["random_spikes", "templates"])
sa.compute("toy_metrics")
result = [frame(sa.get_extension("toy_metrics").get_data()), sa.get_extension("toy_metrics").params["metric_names"]]""",
    "recompute_keeps_existing": """
sa = analyzer()
sa.compute("toy_metrics", metric_names=["count", "first_spike"])
sa.compute("toy_metrics", metric_names=["in_periods"], metric_params={"in_periods": {"scale": 3}})
ext = sa.get_extension("toy_metrics")
df = ext.get_data()  # SpikeInterface appends the kept columns in the order of a set: compared sorted
result = [df.columns[0], frame(df[sorted(df.columns)]), ext.params["metric_names"], ext.params["metric_params"]]""",
    "recompute_delete_existing": """
sa = analyzer()
sa.compute("toy_metrics", metric_names=["count", "first_spike"])
sa.compute("toy_metrics", metric_names=["in_periods"], delete_existing_metrics=True)
ext = sa.get_extension("toy_metrics")
result = [frame(ext.get_data()), ext.params["metric_names"]]""",
    "recompute_same_metric_new_params": """
sa = analyzer()
sa.compute("toy_metrics", metric_names=["count", "first_spike"])
sa.compute("toy_metrics", metric_names=["count"], metric_params={"count": {"factor": 10}})
result = frame(sa.get_extension("toy_metrics").get_data())""",
    "unknown_metric_refused": """
sa = analyzer()
sa.compute("toy_metrics", metric_names=["count", "not_a_metric"])""",
    "deprecated_name_refused": """
sa = analyzer()
sa.compute("toy_metrics", metric_names=["num_spikes"])""",
    "class_helpers": """
E = ComputeToyMetrics
result = [E.get_available_metric_names(), E.get_default_metric_params(), E.get_metric_columns(),
          E.get_metric_columns(["peak", "count"]), E.get_metric_column_descriptions(["count", "peak"]),
          E.get_metric_by_name("peak").metric_name, sorted(E.get_optional_dependencies(metric_names=["peak"])),
          E.get_any_dependencies(metric_names=["count"])]""",
    "class_helpers_unknown_name": "result = ComputeToyMetrics.get_metric_by_name('nope')",
    "periods": """
sa = analyzer()
u = sa.sorting.id_to_index(sa.unit_ids[1])
periods = np.zeros(2, dtype=importlib.import_module(("spikeinterface" if IS_SI else "gpuspike") + ".core.base")
                   .unit_period_dtype)
periods["segment_index"] = 0
periods["start_sample_index"] = [0, 40000]
periods["end_sample_index"] = [20000, 80000]
periods["unit_index"] = [u, 0]
sa.compute("toy_metrics", metric_names=["in_periods"], periods=periods)
result = frame(sa.get_extension("toy_metrics").get_data())""",
    "binary_folder_round_trip": """
sa = analyzer("binary_folder", tmp + "/a")
sa.compute("toy_metrics", metric_names=["count", "first_spike", "broken"])
sa.compute("toy_table", label="u")
back = si.load_sorting_analyzer(tmp + "/a")
ext = back.get_extension("toy_metrics")
result = [frame(ext.get_data()), ext.params["metric_names"], ext.data["first_spikes"], sorted(ext.data),
          sorted(ext.data["runtime_s"]), frame(back.get_extension("toy_table").get_data()),
          sorted(__import__("os").listdir(tmp + "/a/extensions/toy_metrics"))]""",
    "zarr_round_trip": """
sa = analyzer("zarr", tmp + "/a.zarr")
sa.compute("toy_metrics", metric_names=["count", "first_spike", "broken"])
sa.compute("toy_table", label="u")
back = si.load_sorting_analyzer(tmp + "/a.zarr")
ext = back.get_extension("toy_metrics")
result = [frame(ext.get_data()), ext.params["metric_names"], ext.data["first_spikes"],
          sorted(ext.data["runtime_s"]), frame(back.get_extension("toy_table").get_data())]""",
    "select_units": """
sa = analyzer()
sa.compute("toy_metrics", metric_names=["count", "first_spike"])
sa.compute("toy_table")
sub = sa.select_units(sa.unit_ids[[3, 1]])
result = [frame(sub.get_extension("toy_metrics").get_data()), sub.get_extension("toy_metrics").data["first_spikes"],
          frame(sub.get_extension("toy_table").get_data())]""",
    "merge_units": """
sa = analyzer()
sa.compute("toy_metrics", metric_names=["count", "first_spike"])
merged = sa.merge_units([[sa.unit_ids[0], sa.unit_ids[2]]], new_id_strategy="append")
ext = merged.get_extension("toy_metrics")
result = [frame(ext.get_data()), ext.data["first_spikes"]]""",
    "split_units": """
sa = analyzer()
sa.compute("toy_metrics", metric_names=["count", "first_spike"])
n = sa.sorting.count_num_spikes_per_unit(outputs="dict")[sa.unit_ids[1]]
split = sa.split_units({sa.unit_ids[1]: [np.arange(0, n, 2), np.arange(1, n, 2)]})
ext = split.get_extension("toy_metrics")
result = [frame(ext.get_data()), ext.data["first_spikes"]]""",
    # SpikeInterface computes its quality metrics in a folder; gpuspike reads that folder (SpikeInterface runs first)
    "quality_metrics_of_a_spikeinterface_binary_folder": """
folder = tmp.replace("/gs_", "/si_") + "/q"
if IS_SI:
    sa = analyzer("binary_folder", folder)
    sa.compute(["random_spikes", "templates"])
    sa.compute("quality_metrics", metric_names=["num_spikes", "firing_rate", "presence_ratio"])
    sa.compute("template_metrics", metric_names=["peak_to_trough_duration"])
back = si.load_sorting_analyzer(folder)
result = frame(back.get_metrics_extension_data())""",
    "quality_metrics_of_a_spikeinterface_zarr_folder": """
folder = tmp.replace("/gs_", "/si_") + "/q.zarr"
if IS_SI:
    sa = analyzer("zarr", folder)
    sa.compute("quality_metrics", metric_names=["num_spikes", "firing_rate"])
back = si.load_sorting_analyzer(folder)
result = frame(back.get_metrics_extension_data())""",
    # SpikeInterface's postprocessing extensions, computed by it, read back by both libraries
    "postprocessing_of_a_spikeinterface_folder_read_back": """
folder = tmp.replace("/gs_", "/si_") + "/pp"
if IS_SI:
    sa = analyzer("binary_folder", folder)
    sa.compute(["random_spikes", "templates", "spike_amplitudes", "unit_locations", "template_similarity"])
    sa.compute("correlograms", window_ms=20.0, bin_ms=2.0)
    sa.compute("isi_histograms", window_ms=20.0, bin_ms=2.0)
back = si.load_sorting_analyzer(folder)
amplitudes = back.get_extension("spike_amplitudes")
by_unit = amplitudes.get_data(outputs="by_unit")
result = [amplitudes.get_data(), {str(u): v for u, v in by_unit[0].items()}, amplitudes.params,
          back.get_extension("unit_locations").get_data(), back.get_extension("template_similarity").get_data(),
          list(back.get_extension("correlograms").get_data()), list(back.get_extension("isi_histograms").get_data()),
          sorted(back.get_saved_extension_names()), back.has_extension("correlograms")]""",
}


# run after CASES, each library reading the folder the other wrote there
READ_ACROSS = """
back = si.load_sorting_analyzer(WRITTEN + ("/gs_" if IS_SI else "/si_") + "{folder}")
ext = back.get_extension("toy_metrics")
result = [frame(ext.get_data()), ext.params["metric_names"], ext.data["first_spikes"],
          frame(back.get_extension("toy_table").get_data())]"""
CROSS_CASES = {
    "reads_the_other_librarys_binary_folder": READ_ACROSS.format(folder="binary_folder_round_trip/a"),
    "reads_the_other_librarys_zarr_folder": READ_ACROSS.format(folder="zarr_round_trip/a.zarr"),
}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    written = tmp_path_factory.mktemp("metrics_differential")
    with restored_extension_registry():
        gs, si = run_cases(CASES, written, setup=SETUP)
        cross_setup = SETUP + f"\nWRITTEN = {str(written)!r}\n"
        gs_cross, si_cross = run_cases(CROSS_CASES, tmp_path_factory.mktemp("metrics_cross"), setup=cross_setup)
    return {**gs, **gs_cross}, {**si, **si_cross}


@pytest.mark.parametrize("name", sorted(CASES) + sorted(CROSS_CASES))
def test_same_outcome_as_spikeinterface(outcomes, name):
    gs, si = outcomes
    assert_same_outcome(gs[name], si[name], name)


def test_cases_fail_or_succeed_as_written(outcomes):
    """The cases meant to be refused are refused; the others run (so that equality means something)."""
    gs, _ = outcomes
    refused = {n for n in CASES if n.endswith("_refused") or n.endswith("_unknown_name")}
    assert {n for n, out in gs.items() if "error" in out} == refused


def test_each_library_reads_what_it_wrote_as_what_the_other_wrote(outcomes):
    """A folder read by the library that wrote it and by the other give the same metrics and table."""
    gs, si = outcomes
    for written, table_at, read_across in (("binary_folder_round_trip", 5, "reads_the_other_librarys_binary_folder"),
                                           ("zarr_round_trip", 4, "reads_the_other_librarys_zarr_folder")):
        mine = gs[written]["result"]
        assert gs[read_across]["result"] == mine[:3] + [mine[table_at]], read_across
