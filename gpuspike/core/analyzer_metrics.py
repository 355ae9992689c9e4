"""Extensions of per-unit metrics, as SpikeInterface 0.105's ``BaseMetric`` / ``BaseMetricExtension``.

A metric is a class naming a function of ``(sorting_analyzer, unit_ids, ...)`` that returns one
value per unit (a dict ``{unit_id: value}``, or a namedtuple of such dicts when it gives several
columns). A metric extension lists its metrics in ``metric_list`` and stores one pandas DataFrame,
``metrics`` (one row per unit, one column per metric column, cast to the declared dtypes), and the
time each metric took. Computing again keeps the metrics already there unless told otherwise;
merging or splitting units computes the metrics of the new units only.
"""
from __future__ import annotations

import copy
import time
import warnings
from collections import namedtuple
from itertools import chain

import numpy as np

from .analyzer_dataframes import import_pandas, is_dataframe
from .analyzer_extension import AnalyzerExtension


class BaseMetric:
    """One metric of a :class:`BaseMetricExtension`.

    A subclass sets ``metric_name``, ``metric_function``, ``metric_params`` (defaults),
    ``metric_columns`` (``{column: dtype}``; a single column means the function returns a dict
    ``{unit_id: value}``, several mean a namedtuple with these fields, each such a dict) and,
    when they apply, ``metric_descriptions`` (``{column: text}``), ``depend_on`` (extensions;
    ``"a|b"`` means either), ``needs_recording``, ``needs_tmp_data`` (the function also takes the
    extension's prepared data), ``needs_job_kwargs`` (it also takes the job kwargs),
    ``supports_periods`` (it also takes the periods) and ``deprecated_names`` (names of older
    releases, refused with the new name).

    The function is called as ``metric_function(sorting_analyzer, unit_ids[, tmp_data][,
    job_kwargs][, periods], **metric_params)``.
    """

    metric_name: str | None = None
    metric_params: dict = {}
    metric_columns: dict = {}
    metric_descriptions: dict = {}
    needs_recording = False
    needs_tmp_data = False
    needs_job_kwargs = False
    supports_periods = False
    depend_on: list = []
    deprecated_names: list = []
    metric_function = None

    @classmethod
    def compute(cls, sorting_analyzer, unit_ids, metric_params: dict, tmp_data: dict, job_kwargs: dict,
                periods=None):
        """Call the metric function with the arguments it declares.

        Parameters
        ----------
        sorting_analyzer : SortingAnalyzer
        unit_ids : array-like
            The units to compute the metric for.
        metric_params : dict
            The function's keyword arguments.
        tmp_data : dict
            The extension's prepared data (passed when ``needs_tmp_data``).
        job_kwargs : dict
            Passed when ``needs_job_kwargs``.
        periods : np.ndarray or None
            Passed when ``supports_periods``.

        Returns
        -------
        dict or namedtuple
            ``{unit_id: value}``, or a namedtuple of such dicts with the fields ``metric_columns``.

        Raises
        ------
        ValueError
            A namedtuple whose fields are not the declared columns.
        """
        if cls.metric_function is None:
            raise TypeError(f"{cls.__name__} sets no metric_function")
        args = [sorting_analyzer, unit_ids]
        if cls.needs_tmp_data:
            args.append(tmp_data)
        if cls.needs_job_kwargs:
            args.append(job_kwargs)
        if cls.supports_periods:
            args.append(periods)
        result = cls.metric_function(*args, **metric_params)
        if isinstance(result, tuple) and hasattr(result, "_fields") \
                and set(result._fields) != set(cls.metric_columns):
            raise ValueError(f"metric {cls.metric_name!r} returned the columns {list(result._fields)}; it declares "
                             f"{list(cls.metric_columns)} (metric_columns)")
        return result


class BaseMetricExtension(AnalyzerExtension):
    """An extension computing the metrics of ``metric_list`` into one DataFrame (SpikeInterface's
    ``BaseMetricExtension``).

    A subclass sets ``extension_name`` and ``metric_list`` (``BaseMetric`` subclasses), and may
    override ``_prepare_data`` (data shared by the metrics with ``needs_tmp_data``) and list in
    ``tmp_data_to_save`` the keys of that data to store with the metrics (one row per unit).

    Parameters of ``compute``: ``metric_names`` (default: all; a metric whose dependencies are not
    computed, or that needs a recording the analyzer lacks, is left out with a warning),
    ``metric_params`` (``{metric_name: {param: value}}`` over the defaults),
    ``delete_existing_metrics`` (default False: the metrics computed before are kept),
    ``metrics_to_compute`` (default: ``metric_names``) and ``periods`` (an array of
    ``unit_period_dtype`` passed to the metrics that support periods).

    ``get_data()`` returns the DataFrame.
    """

    extension_name: str | None = None
    metric_class = None
    metric_list: list = []
    need_recording = False
    use_nodepipeline = False
    need_job_kwargs = True
    need_backward_compatibility_on_load = False
    tmp_data_to_save: list | None = None

    # ------------------------------------------------------------------ the metrics
    @classmethod
    def get_available_metric_names(cls) -> list[str]:
        """The names of the metrics of ``metric_list``.

        Returns
        -------
        list of str
        """
        return [m.metric_name for m in cls.metric_list]

    @classmethod
    def get_metric_by_name(cls, metric_name: str) -> type:
        """The metric class named ``metric_name``.

        Returns
        -------
        type
            A :class:`BaseMetric` subclass.

        Raises
        ------
        ValueError
            No metric of ``metric_list`` has this name.
        """
        for metric in cls.metric_list:
            if metric.metric_name == metric_name:
                return metric
        raise ValueError(f"metric {metric_name!r} is not one of {cls.extension_name!r}: allowed values are "
                         f"{cls.get_available_metric_names()}")

    @classmethod
    def _checked_names(cls, metric_names) -> list[str]:
        """``metric_names`` (all when None), each checked against ``metric_list``."""
        if metric_names is None:
            return cls.get_available_metric_names()
        if isinstance(metric_names, str):
            raise TypeError(f"metric_names={metric_names!r}: give a list of names, e.g. [{metric_names!r}]")
        names = list(metric_names)
        for name in names:
            cls.get_metric_by_name(name)
        return names

    @classmethod
    def get_default_metric_params(cls) -> dict:
        """The default parameters of every metric.

        Returns
        -------
        dict
            ``{metric_name: {param: value}}`` (copies).
        """
        return {m.metric_name: copy.deepcopy(m.metric_params) for m in cls.metric_list}

    @classmethod
    def get_metric_columns(cls, metric_names=None) -> list[str]:
        """The columns the metrics fill, in order.

        Parameters
        ----------
        metric_names : list of str, optional
            Default: every metric.

        Returns
        -------
        list of str
        """
        return list(chain.from_iterable(cls.get_metric_by_name(n).metric_columns
                                        for n in cls._checked_names(metric_names)))

    @classmethod
    def get_metric_column_descriptions(cls, metric_names=None) -> dict:
        """What each column holds.

        Parameters
        ----------
        metric_names : list of str, optional
            Default: every metric.

        Returns
        -------
        dict
            ``{column: text}``; "no description" for a metric whose ``metric_descriptions`` is None.
            A metric whose descriptions do not name exactly its columns (an empty dict included) is
            left out, with a warning.
        """
        descriptions = {}
        for name in cls._checked_names(metric_names):
            metric = cls.get_metric_by_name(name)
            if metric.metric_descriptions is None:
                descriptions.update({column: "no description" for column in metric.metric_columns})
            elif set(metric.metric_descriptions) == set(metric.metric_columns):
                descriptions.update(metric.metric_descriptions)
            else:
                warnings.warn(f"metric {name!r}: metric_descriptions names {sorted(metric.metric_descriptions)}, "
                              f"metric_columns {sorted(metric.metric_columns)}; its descriptions are left out")
        return descriptions

    @classmethod
    def get_optional_dependencies(cls, **params) -> list[str]:
        """The extension's own dependencies and those of the metrics asked for (``"a|b"`` split):
        a metric whose dependencies are missing is left out rather than refused.

        Returns
        -------
        list of str
        """
        names = cls._checked_names(params.get("metric_names"))
        metric_deps = {d for n in names for dep in cls.get_metric_by_name(n).depend_on for d in dep.split("|")}
        return list(cls.depend_on) + sorted(metric_deps)

    def get_computed_metric_names(self) -> list[str]:
        """The metrics whose every column is in the stored DataFrame.

        Returns
        -------
        list of str
        """
        frame = self.data.get("metrics")
        if frame is None:
            return []
        present = set(frame.columns)
        return [m.metric_name for m in self.metric_list if set(m.metric_columns) <= present]

    # ------------------------------------------------------------------ parameters
    def _metrics_lacking_inputs(self, names: list[str]) -> list[str]:
        """The metrics of ``names`` that cannot run on this analyzer (an extension or the recording missing)."""
        analyzer = self.sorting_analyzer
        lacking = []
        for name in names:
            metric = self.get_metric_by_name(name)
            missing_extension = any(not any(analyzer.has_extension(d) for d in dep.split("|"))
                                    for dep in metric.depend_on)
            missing_recording = metric.needs_recording and not (analyzer.has_recording()
                                                                or analyzer.has_temporary_recording())
            if missing_recording:
                warnings.warn(f"metric {name!r} needs the recording, which this analyzer has not: it is not computed "
                              f"(attach it with set_temporary_recording(recording))")
            if missing_extension or missing_recording:
                lacking.append(name)
        return lacking

    def _set_params(self, metric_names=None, metric_params: dict | None = None, delete_existing_metrics: bool = False,
                    metrics_to_compute=None, periods=None, **other_params) -> dict:
        if metric_names is not None and not isinstance(metric_names, str):
            renamed = [f"{old!r} is now computed as {m.metric_name!r}" for m in self.metric_list
                       for old in m.deprecated_names if old in metric_names]
            if renamed:
                raise ValueError(f"metric_names: {'; '.join(renamed)} (a metric renamed or regrouped since)")
        names = self._checked_names(metric_names)
        lacking = self._metrics_lacking_inputs(names)
        if lacking:
            warnings.warn(f"these metrics are not computed, their dependencies being missing: {sorted(set(lacking))}")
            names = [n for n in names if n not in lacking]

        params = self.get_default_metric_params()
        for name, overrides in (metric_params or {}).items():
            if name not in params:
                raise ValueError(f"metric_params names the metric {name!r}: allowed keys are {list(params)}")
            if not isinstance(overrides, dict):
                raise TypeError(f"metric_params[{name!r}] must be a dict of parameters, got "
                                f"{type(overrides).__name__}")
            params[name].update(overrides)

        to_compute = names if metrics_to_compute is None else self._checked_names(metrics_to_compute)
        previous = self.sorting_analyzer.get_extension(self.extension_name)
        if not delete_existing_metrics and previous is not None and previous.params is not None:
            names = list(to_compute) + [n for n in previous.params.get("metric_names", []) if n not in to_compute]
        if periods is not None:
            from .sorting_tools import cast_periods_to_unit_period_dtype

            periods = cast_periods_to_unit_period_dtype(periods)
        return dict(metric_names=list(names), metrics_to_compute=list(to_compute),
                    delete_existing_metrics=bool(delete_existing_metrics), metric_params=params, periods=periods,
                    **other_params)

    # ------------------------------------------------------------------ computing
    def _prepare_data(self, sorting_analyzer, unit_ids=None) -> dict:
        """Data shared by the metrics with ``needs_tmp_data`` (none by default).

        Returns
        -------
        dict
        """
        return {}

    def _periods(self):
        """The periods parameter as an array (it comes back from a folder as nested lists)."""
        periods = self.params.get("periods")
        if periods is None or isinstance(periods, np.ndarray):
            return periods
        from .sorting_tools import unit_period_dtype

        return np.array([tuple(p) for p in periods], dtype=unit_period_dtype)

    def _compute_metrics(self, sorting_analyzer, unit_ids=None, metric_names=None, **job_kwargs) -> tuple:
        """The metrics of ``unit_ids`` (default: all units) on ``sorting_analyzer``.

        Returns
        -------
        tuple
            ``(metrics, run_times, tmp_data)``: the DataFrame (cast to the declared dtypes), the
            seconds each metric took and the prepared data. A metric that raises gives NaN, with a
            warning naming the error.
        """
        pandas = import_pandas(f"the metrics of {self.extension_name!r}")
        unit_ids = sorting_analyzer.unit_ids if unit_ids is None else np.asarray(unit_ids)
        names = [n for n in (self.params["metric_names"] if metric_names is None else metric_names)
                 if n in self.get_available_metric_names()]
        tmp_data = self._prepare_data(sorting_analyzer=sorting_analyzer, unit_ids=unit_ids)
        periods = self._periods()
        columns = list(dict.fromkeys(self.get_metric_columns(names)))
        metrics = pandas.DataFrame(index=unit_ids, columns=columns, dtype=object)
        run_times = {}
        for name in names:
            metric = self.get_metric_by_name(name)
            start = time.perf_counter()
            try:
                result = metric.compute(sorting_analyzer, unit_ids=unit_ids,
                                        metric_params=self.params["metric_params"].get(name, {}), tmp_data=tmp_data,
                                        job_kwargs=job_kwargs, periods=periods)
            except Exception as err:
                warnings.warn(f"metric {name!r} failed, its columns are NaN: {type(err).__name__}: {err}")
                result = namedtuple("MetricResult", list(metric.metric_columns))(
                    *[{} for _ in metric.metric_columns])
            run_times[name] = time.perf_counter() - start
            if isinstance(result, dict):
                result = {list(metric.metric_columns)[0]: result}
            else:
                result = dict(zip(result._fields, result))
            for column, values in result.items():
                metrics[column] = pandas.Series(values, dtype=object).reindex(unit_ids)
        return self._cast_metrics(metrics), run_times, tmp_data

    def _cast_metrics(self, metrics):
        """``metrics`` with each known column cast to its declared dtype (a column that cannot be is
        left as it is, with a warning)."""
        dtypes = {}
        for metric in self.metric_list:
            dtypes.update(metric.metric_columns)
        for column in metrics.columns:
            if column in dtypes:
                try:
                    metrics[column] = metrics[column].astype(dtypes[column])
                except (TypeError, ValueError) as err:
                    warnings.warn(f"metrics column {column!r} cannot be cast to {dtypes[column]!r}: {err}")
        return metrics

    def _run(self, verbose: bool = False, **job_kwargs) -> None:
        from .job import split_job_kwargs
        from .job_tools import fix_job_kwargs

        _, job_kwargs = split_job_kwargs(job_kwargs)
        job_kwargs = fix_job_kwargs(job_kwargs)
        to_compute = self.params["metrics_to_compute"]
        metrics, run_times, tmp_data = self._compute_metrics(self.sorting_analyzer, metric_names=to_compute,
                                                             **job_kwargs)
        previous = self.sorting_analyzer.extensions.get(self.extension_name)
        if not self.params["delete_existing_metrics"] and previous is not None \
                and previous.data.get("metrics") is not None:
            old = previous.data["metrics"]
            for name in previous.params["metric_names"]:
                if name in to_compute or name not in self.get_available_metric_names():
                    continue
                for column in self.get_metric_by_name(name).metric_columns:
                    if column in old.columns:
                        metrics[column] = old[column].reindex(metrics.index).to_numpy()
        self.data["metrics"] = metrics
        self.data["runtime_s"] = run_times
        for key in self.tmp_data_to_save or []:
            self.data[key] = tmp_data[key]

    def _get_data(self):
        return self.data["metrics"]

    def set_data(self, ext_data_name: str, ext_data) -> None:
        """Set one entry of ``data``; the metrics are cast to their declared dtypes.

        Parameters
        ----------
        ext_data_name : str
        ext_data : pandas.DataFrame, np.ndarray or dict
        """
        if ext_data_name == "metrics" and is_dataframe(ext_data):
            ext_data = self._cast_metrics(ext_data)
        self.data[ext_data_name] = ext_data

    def _problem_with_loaded_data(self) -> str | None:
        metrics = self.data.get("metrics")
        if metrics is None:
            return None
        if not is_dataframe(metrics):
            return f"its 'metrics' entry is a {type(metrics).__name__}, not a DataFrame"
        unit_ids = [str(u) for u in self.sorting_analyzer.unit_ids]
        if sorted(map(str, metrics.index)) != sorted(unit_ids):
            return f"its metrics are of the units {list(metrics.index)}, the analyzer's are {unit_ids}"
        return None

    # ------------------------------------------------------------------ units selected, merged, split
    def _select_units_extension_data(self, unit_ids) -> dict:
        unit_ids = np.asarray(unit_ids)
        data = {"metrics": self.data["metrics"].loc[unit_ids]}
        if "runtime_s" in self.data:
            data["runtime_s"] = dict(self.data["runtime_s"])
        rows = self.sorting_analyzer.sorting.ids_to_indices(unit_ids)
        for key in self.tmp_data_to_save or []:
            value = self.data[key]
            data[key] = value.loc[unit_ids] if is_dataframe(value) else np.asarray(value)[rows]
        return data

    def _recomputed_for(self, new_sorting_analyzer, new_unit_ids, **job_kwargs) -> dict:
        """The data of ``new_sorting_analyzer``: the rows of the units kept from this extension, the
        metrics of ``new_unit_ids`` computed on it."""
        names = [n for n in self.params["metric_names"] if n in self.get_available_metric_names()]
        new_metrics, _, new_tmp = self._compute_metrics(new_sorting_analyzer, unit_ids=new_unit_ids,
                                                        metric_names=names, **job_kwargs)
        update = dict(old_analyzer=self.sorting_analyzer, new_analyzer=new_sorting_analyzer, new_unit_ids=new_unit_ids)
        data = {"metrics": self._cast_metrics(rows_after_merge_or_split(self.data["metrics"], new_metrics, **update))}
        if "runtime_s" in self.data:
            data["runtime_s"] = dict(self.data["runtime_s"])
        for key in self.tmp_data_to_save or []:
            data[key] = rows_after_merge_or_split(self.data[key], new_tmp[key], **update)
        return data

    def _merge_extension_data(self, merge_unit_groups, new_unit_ids, new_sorting_analyzer, keep_mask=None,
                              verbose: bool = False, **job_kwargs) -> dict:
        return self._recomputed_for(new_sorting_analyzer, list(new_unit_ids), **job_kwargs)

    def _split_extension_data(self, split_units, new_unit_ids, new_sorting_analyzer, verbose: bool = False,
                              **job_kwargs) -> dict:
        return self._recomputed_for(new_sorting_analyzer, list(chain.from_iterable(new_unit_ids)), **job_kwargs)


def rows_after_merge_or_split(old, new_rows, old_analyzer, new_analyzer, new_unit_ids):
    """Per-unit data of ``new_analyzer``: the rows of its units that were already in ``old`` (of
    ``old_analyzer``), and ``new_rows`` for ``new_unit_ids``.

    Parameters
    ----------
    old : pandas.DataFrame or np.ndarray
        One row per unit of ``old_analyzer`` (a DataFrame indexed by unit id).
    new_rows : pandas.DataFrame or np.ndarray
        The rows of ``new_unit_ids``, in that order.
    old_analyzer, new_analyzer : SortingAnalyzer
    new_unit_ids : list
        The units created by the merge or split.

    Returns
    -------
    pandas.DataFrame or np.ndarray
        One row per unit of ``new_analyzer``.
    """
    all_ids = new_analyzer.unit_ids
    kept = all_ids[~np.isin(all_ids, np.asarray(new_unit_ids))]
    if is_dataframe(new_rows):
        pandas = import_pandas("merging or splitting metrics")
        frame = pandas.DataFrame(index=all_ids, columns=old.columns, dtype=object)
        frame.loc[kept, :] = old.loc[kept, :].to_numpy(dtype=object)
        frame.loc[np.asarray(new_unit_ids), :] = new_rows.reindex(columns=old.columns).to_numpy(dtype=object)
        return frame
    old = np.asarray(old)
    out = np.zeros((all_ids.size,) + old.shape[1:], dtype=old.dtype)
    out[new_analyzer.sorting.ids_to_indices(kept)] = old[old_analyzer.sorting.ids_to_indices(kept)]
    out[new_analyzer.sorting.ids_to_indices(new_unit_ids)] = new_rows
    return out


__all__ = ["BaseMetric", "BaseMetricExtension", "rows_after_merge_or_split"]
