"""Metric extensions (BaseMetric / BaseMetricExtension) and DataFrames as extension data.

The references are computed here with NumPy from the sorting's spike vector; the folder layouts
are checked by reading the files with pandas and zarr directly.
"""
import json
import sys
import warnings
from collections import namedtuple

import numpy as np
import pytest

import gpuspike as gs
from _extension_registry import restored_extension_registry
from gpuspike.core.analyzer_extension_core import BaseMetric, BaseMetricExtension
from gpuspike.core.errors import CorruptFolderError, UnsafeFolderError

pd = pytest.importorskip("pandas")


def counts_reference(sorting):
    """Spikes per unit, counted from the spike vector."""
    spikes = sorting.to_spike_vector()
    return np.bincount(spikes["unit_index"], minlength=sorting.get_num_units())


def last_sample_reference(sorting):
    spikes = sorting.to_spike_vector()
    out = np.full(sorting.get_num_units(), -1)
    np.maximum.at(out, spikes["unit_index"], spikes["sample_index"])
    return out


def count_metric(sorting_analyzer, unit_ids, factor=1):
    trains = {u: sorting_analyzer.sorting.get_unit_spike_train(u) for u in unit_ids}
    return {u: factor * t.size for u, t in trains.items()}


def bounds_metric(sorting_analyzer, unit_ids, job_kwargs):
    Bounds = namedtuple("Bounds", ["first", "last"])
    trains = {u: sorting_analyzer.sorting.get_unit_spike_train(u) for u in unit_ids}
    bounds_metric.seen_job_kwargs = dict(job_kwargs)
    return Bounds({u: int(t[0]) for u, t in trains.items()}, {u: int(t[-1]) for u, t in trains.items()})


def wrong_fields_metric(sorting_analyzer, unit_ids):
    Wrong = namedtuple("Wrong", ["a", "c"])
    return Wrong({u: 1 for u in unit_ids}, {u: 2 for u in unit_ids})


def noise_metric(sorting_analyzer, unit_ids):
    return {u: 1.0 for u in unit_ids}


class Count(BaseMetric):
    metric_name = "count"
    metric_function = count_metric
    metric_params = {"factor": 1}
    metric_columns = {"count": int}


class Bounds(BaseMetric):
    metric_name = "bounds"
    metric_function = bounds_metric
    metric_columns = {"first": int, "last": int}
    metric_descriptions = None
    needs_job_kwargs = True


class WrongFields(BaseMetric):
    metric_name = "wrong"
    metric_function = wrong_fields_metric
    metric_columns = {"a": float, "b": float}


class NeedsRecording(BaseMetric):
    metric_name = "needs_recording"
    metric_function = noise_metric
    metric_columns = {"noise": float}
    needs_recording = True


class ComputeCounts(BaseMetricExtension):
    extension_name = "test_counts"
    metric_list = [Count, Bounds, WrongFields, NeedsRecording]


class ComputeMoreCounts(BaseMetricExtension):
    extension_name = "test_more_counts"
    metric_list = [Count]


class ComputeTable(gs.AnalyzerExtension):
    """An extension whose data is a DataFrame of several dtypes (not a metric extension)."""

    extension_name = "test_table"

    def _set_params(self, columns=None):
        return dict(columns=columns)

    def _run(self, verbose=False):
        ids = self.sorting_analyzer.unit_ids
        n = counts_reference(self.sorting_analyzer.sorting)
        table = pd.DataFrame({"n": n, "rate": n / 4.0, "name": [f"u{u}" for u in ids], "big": n > n.mean()},
                             index=ids)
        if self.params["columns"] is not None:
            table.columns = self.params["columns"]
        self.data["table"] = table

    def _get_data(self):
        return self.data["table"]


@pytest.fixture(autouse=True)
def registered():
    with restored_extension_registry():
        for cls in (ComputeCounts, ComputeMoreCounts, ComputeTable):
            gs.register_result_extension(cls)
        yield


@pytest.fixture(scope="module")
def data():
    return gs.generate_ground_truth_recording(durations=[4.0], num_units=6, num_channels=4, seed=11)


def analyzer(data, format="memory", folder=None, **kwargs):
    rec, srt = data
    return gs.create_sorting_analyzer(srt, rec, format=format, folder=folder, sparse=False, **kwargs)


def test_metrics_equal_numpy_and_are_cast_to_the_declared_dtypes(data):
    an = analyzer(data)
    with pytest.warns(UserWarning, match="'wrong' failed.*returned the columns \\['a', 'c'\\]"):
        an.compute("test_counts", metric_names=["count", "bounds", "wrong"], metric_params={"count": {"factor": 3}},
                   n_jobs=1, chunk_duration="1s")
    df = an.get_extension("test_counts").get_data()
    sorting = data[1]
    assert df.columns.tolist() == ["count", "first", "last", "a", "b"]
    assert df.index.tolist() == sorting.unit_ids.tolist()
    np.testing.assert_array_equal(df["count"].to_numpy(), 3 * counts_reference(sorting))
    np.testing.assert_array_equal(df["last"].to_numpy(), last_sample_reference(sorting))
    assert df["count"].dtype == np.int64 and df["a"].dtype == np.float64
    assert np.isnan(df["a"].to_numpy()).all() and np.isnan(df["b"].to_numpy()).all()
    assert bounds_metric.seen_job_kwargs["n_jobs"] == 1 and bounds_metric.seen_job_kwargs["chunk_duration"] == "1s"
    assert set(an.get_extension("test_counts").data["runtime_s"]) == {"count", "bounds", "wrong"}


def test_a_metric_needing_the_recording_is_left_out_without_it(data):
    rec, srt = data
    an = gs.create_sorting_analyzer(srt, rec, format="memory", sparse=False)
    an._recording = None  # as an analyzer loaded from a folder whose recording cannot be found
    assert not an.has_recording()
    with pytest.warns(UserWarning, match="'needs_recording' needs the recording"):
        an.compute("test_counts", metric_names=["count", "needs_recording"])
    assert an.get_extension("test_counts").get_data().columns.tolist() == ["count"]
    assert an.get_extension("test_counts").params["metric_names"] == ["count"]


def test_bad_parameters_are_refused_naming_the_allowed_values(data):
    an = analyzer(data)
    with pytest.raises(ValueError, match="'nope' is not one of 'test_counts'.*\\['count', 'bounds'"):
        an.compute("test_counts", metric_names=["nope"])
    with pytest.raises(TypeError, match="give a list of names"):
        an.compute("test_counts", metric_names="count")
    with pytest.raises(ValueError, match="metric_params names the metric 'cnt'.*'count'"):
        an.compute("test_counts", metric_names=["count"], metric_params={"cnt": {"factor": 2}})
    with pytest.raises(TypeError, match="metric_params\\['count'\\] must be a dict"):
        an.compute("test_counts", metric_names=["count"], metric_params={"count": 2})
    assert not an.has_extension("test_counts")


def test_recomputing_adds_to_the_metrics_unless_told_to_delete(data):
    an = analyzer(data)
    an.compute("test_counts", metric_names=["bounds"])
    first = an.get_extension("test_counts").get_data()["first"].to_numpy()
    an.compute("test_counts", metric_names=["count"])
    ext = an.get_extension("test_counts")
    assert ext.params["metric_names"] == ["count", "bounds"]
    assert ext.get_computed_metric_names() == ["count", "bounds"]
    np.testing.assert_array_equal(ext.get_data()["first"].to_numpy(), first)
    an.compute("test_counts", metric_names=["count"], delete_existing_metrics=True)
    assert an.get_extension("test_counts").get_data().columns.tolist() == ["count"]


@pytest.mark.parametrize("format", ["binary_folder", "zarr"])
def test_metrics_and_dataframes_round_trip_through_folders(data, tmp_path, format):
    an = analyzer(data, format, tmp_path / "an")
    an.compute("test_counts", metric_names=["count", "bounds"])
    an.compute("test_table")
    folder = an.folder
    back = gs.load_sorting_analyzer(folder)
    metrics = back.get_extension("test_counts").get_data()
    pd.testing.assert_frame_equal(metrics[["count", "first", "last"]],
                                  an.get_extension("test_counts").get_data()[["count", "first", "last"]],
                                  check_index_type=False)
    table = back.get_extension("test_table").get_data()
    sorting = data[1]
    np.testing.assert_array_equal(table["n"].to_numpy(dtype=int), counts_reference(sorting))
    assert table["name"].tolist() == [f"u{u}" for u in sorting.unit_ids]
    assert table.index.tolist() == sorting.unit_ids.tolist()
    ext_folder = folder / "extensions" / "test_table"
    if format == "binary_folder":
        on_disk = pd.read_csv(ext_folder / "table.csv", index_col=0)  # the file SpikeInterface reads
        assert on_disk.columns.tolist() == ["n", "rate", "name", "big"]
    else:
        import zarr

        group = zarr.open_group(str(ext_folder / "table"), mode="r")
        assert group.attrs["dataframe"] is True
        np.testing.assert_array_equal(group["n"][:], counts_reference(sorting))
        assert table.columns.tolist() == ["big", "n", "name", "rate"]  # SpikeInterface's order: by name


def test_the_metrics_of_every_metric_extension_side_by_side(data):
    an = analyzer(data)
    assert an.get_metrics_extension_data().shape == (6, 0)
    an.compute("test_counts", metric_names=["count", "bounds"])
    an.compute("test_more_counts", metric_params={"count": {"factor": 2}})
    an.compute("test_table")
    both = an.get_metrics_extension_data()
    assert both.columns.tolist() == ["count", "first", "last"]  # the second 'count' is not repeated
    np.testing.assert_array_equal(both["count"].to_numpy(), counts_reference(data[1]))


def test_selecting_merging_and_splitting_units_keep_metrics_right(data):
    an = analyzer(data)
    an.compute("test_counts", metric_names=["count", "bounds"])
    ids = an.unit_ids
    sub = an.select_units(ids[[4, 1]])
    assert sub.get_extension("test_counts").get_data().index.tolist() == ids[[4, 1]].tolist()
    merged = an.merge_units([[ids[0], ids[3]]], new_id_strategy="append")
    counts = counts_reference(data[1])
    df = merged.get_extension("test_counts").get_data()
    new_id = [u for u in merged.unit_ids if u not in ids][0]
    assert df.loc[new_id, "count"] == counts[0] + counts[3]
    assert df.loc[ids[2], "count"] == counts[2]
    assert df["count"].dtype == np.int64
    n = counts[1]
    split = an.split_units({ids[1]: [np.arange(0, n, 3), np.setdiff1d(np.arange(n), np.arange(0, n, 3))]})
    df = split.get_extension("test_counts").get_data()
    new_ids = [u for u in split.unit_ids if u not in ids]
    assert sorted(df.loc[new_ids, "count"].tolist()) == sorted([len(range(0, n, 3)), n - len(range(0, n, 3))])


def test_column_names_that_cannot_name_arrays_are_refused_before_anything_changes(data, tmp_path):
    an = analyzer(data, "zarr", tmp_path / "an")
    an.compute("test_table")
    for columns in (["n", "../x", "name", "big"], ["n", "index", "name", "big"], ["n", "n", "name", "big"],
                    ["n", ".zattrs", "name", "big"]):
        with pytest.raises(ValueError, match="column"):
            an.compute("test_table", columns=columns)
    back = gs.load_sorting_analyzer(an.folder)
    assert back.get_extension("test_table").get_data().columns.tolist() == ["big", "n", "name", "rate"]


def test_missing_values_of_nullable_columns_are_stored_as_nan(data, tmp_path):
    an = analyzer(data, "zarr", tmp_path / "an")
    an.compute("test_table")
    ext = an.get_extension("test_table")
    table = ext.data["table"].copy()
    table["maybe"] = pd.array([1, None, 3, 4, None, 6], dtype="Int64")
    ext.data["table"] = table
    ext.save()
    back = gs.load_sorting_analyzer(an.folder).get_extension("test_table").get_data()
    assert back["maybe"].isna().tolist() == [False, True, False, False, True, False]
    assert back["maybe"].dropna().tolist() == [1, 3, 4, 6]


def test_damaged_or_hostile_dataframes_are_clear_errors(data, tmp_path):
    an = analyzer(data, "binary_folder", tmp_path / "bin")
    an.compute("test_counts", metric_names=["count"])
    csv = an.folder / "extensions" / "test_counts" / "metrics.csv"
    frame = pd.read_csv(csv, index_col=0)
    frame.index = [f"other{i}" for i in range(len(frame))]
    frame.to_csv(csv)
    with pytest.raises(CorruptFolderError, match="metrics are of the units.*load_extensions=False"):
        gs.load_sorting_analyzer(an.folder)
    csv.write_bytes(b"\xff\xfe\x00garbage\x00\n\x00")
    with pytest.raises(CorruptFolderError, match="metrics.csv"):
        gs.load_sorting_analyzer(an.folder)

    zan = analyzer(data, "zarr", tmp_path / "z")
    zan.compute("test_table")
    group = zan.folder / "extensions" / "test_table" / "table"
    evil = group / "n"
    meta = json.loads((evil / ".zarray").read_text())
    meta["filters"] = [{"id": "pickle", "protocol": 5}]
    meta["dtype"] = "|O"
    (evil / ".zarray").write_text(json.dumps(meta))
    with pytest.raises(UnsafeFolderError, match="unpickles"):
        gs.load_sorting_analyzer(zan.folder)
    zan2 = analyzer(data, "zarr", tmp_path / "z2")
    zan2.compute("test_table")
    group = zan2.folder / "extensions" / "test_table" / "table"
    import shutil

    from gpuspike.core import zarr_v2

    shutil.rmtree(group / "n")
    zarr_v2.write_array(group, "n", np.zeros(2, "int64"))
    with pytest.raises(CorruptFolderError, match="column 'n' has shape \\(2,\\)"):
        gs.load_sorting_analyzer(zan2.folder)
    shutil.rmtree(group / "index")
    with pytest.raises(CorruptFolderError, match="has no 'index' array"):
        gs.load_sorting_analyzer(zan2.folder)
    zarr_v2.write_array(group, "index", np.zeros((6, 2), "int64"))
    with pytest.raises(CorruptFolderError, match="index has shape \\(6, 2\\)"):
        gs.load_sorting_analyzer(zan2.folder)


def test_without_pandas_the_error_says_how_to_install_it(data, tmp_path, monkeypatch):
    an = analyzer(data, "binary_folder", tmp_path / "bin")
    an.compute("test_counts", metric_names=["count"])
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="needs pandas.*pip install pandas"):
        gs.load_sorting_analyzer(an.folder)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        analyzer(data).compute("random_spikes")  # analyzers without DataFrames never need it


@pytest.mark.parametrize("format", ["binary_folder", "zarr"])
def test_an_extension_reads_its_stored_params_run_info_and_data_again(data, tmp_path, format):
    an = analyzer(data, format, tmp_path / "an")
    ext = an.compute("test_counts", metric_names=["count"])
    ext.params, ext.run_info, ext.data = {}, None, {}
    ext.load_params()
    ext.load_run_info()
    ext.load_data()
    assert ext.params["metric_names"] == ["count"] and ext.run_info["run_completed"] is True
    np.testing.assert_array_equal(ext.get_data()["count"].to_numpy(), counts_reference(data[1]))
    assert ext.get_data()["count"].dtype == np.int64
    in_memory = analyzer(data)
    with pytest.raises(ValueError, match="not stored in an analyzer in memory"):
        in_memory.compute("test_counts", metric_names=["count"]).load_data()


def test_nullable_columns_become_numpy_columns():
    from gpuspike.core.analyzer_dataframes import with_numpy_dtypes

    frame = pd.DataFrame({"i": pd.array([1, 2], dtype="Int64"), "j": pd.array([1, None], dtype="Int64"),
                          "f": pd.array([0.5, None], dtype="Float64"), "b": pd.array([True, False], dtype="boolean"),
                          "s": ["x", "y"], "n": np.array([3, 4])})
    out = with_numpy_dtypes(frame)
    assert {c: str(out[c].dtype) for c in ["i", "j", "f", "b", "n"]} == {"i": "int64", "j": "float64", "f": "float64",
                                                                         "b": "bool", "n": "int64"}
    assert np.isnan(out["j"][1]) and np.isnan(out["f"][1]) and out["s"].tolist() == ["x", "y"]
    assert str(frame["i"].dtype) == "Int64"  # the input is left as it was
