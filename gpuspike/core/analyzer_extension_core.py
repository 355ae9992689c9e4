"""The SortingAnalyzer's core extensions: random_spikes, waveforms, templates, noise_levels.

Names, parameters, dependencies and data layout are SpikeInterface 0.105's, so folders go both
ways; the computations run on gpuspike's block engine (numpy or cuda backend).
"""
from __future__ import annotations

import warnings

import numpy as np

from .analyzer_extension import AnalyzerExtension, register_result_extension
from .argnames import accepts_aliases
from .analyzer_metrics import BaseMetric, BaseMetricExtension
from .analyzer_spikevector import BaseSpikeVectorExtension, spike_positions_after_curation
from .core_tools import materialize_array, ms_to_samples, slice_rows  # noqa: F401 (SpikeInterface's module path)
from .sorting_tools import select_sorting_periods_mask  # noqa: F401 (SpikeInterface's module path)

_RANDOM_METHODS = ("uniform", "all", "percentage", "maximum_rate")
_TEMPLATE_OPERATORS = ("average", "std", "median", "mad")


class ComputeRandomSpikes(AnalyzerExtension):
    """Random spikes of each unit, used by the waveforms and templates extensions.

    Parameters
    ----------
    method : {"uniform", "all", "percentage", "maximum_rate"}
        At most ``max_spikes_per_unit`` per unit; every spike; a ``percentage`` (0, 1] of each unit's
        spikes; at most ``maximum_rate`` spikes per second.
    max_spikes_per_unit : int
        For "uniform".
    margin_size : int, optional
        Skip spikes closer than this (samples) to a segment edge.
    seed : int, optional
        Same seed, same spikes (as SpikeInterface's ``random_spikes_selection``).
    percentage, maximum_rate : float, optional
        For their methods.

    Returns
    -------
    np.ndarray
        ``random_spikes_indices``: indices into the sorting's spike vector.
    """

    extension_name = "random_spikes"
    depend_on: list[str] = []
    need_recording = False
    need_job_kwargs = False
    _spikeinterface_class = "spikeinterface.core.analyzer_extension_core.ComputeRandomSpikes"

    def _set_params(self, method: str = "uniform", max_spikes_per_unit: int = 500, margin_size: int | None = None,
                    seed: int | None = None, percentage: float | None = None, maximum_rate: float | None = None
                    ) -> dict:
        if method not in _RANDOM_METHODS:
            raise ValueError(f"random_spikes: method={method!r}: allowed values are {_RANDOM_METHODS}")
        if method == "uniform" and (isinstance(max_spikes_per_unit, bool) or not isinstance(
                max_spikes_per_unit, (int, np.integer)) or max_spikes_per_unit < 1):
            raise ValueError(f"random_spikes: max_spikes_per_unit={max_spikes_per_unit!r}: give an integer >= 1")
        if method == "percentage" and (percentage is None or not 0 < float(percentage) <= 1):
            raise ValueError(f"random_spikes: percentage={percentage!r}: give a fraction in (0, 1] with "
                             f"method='percentage'")
        if method == "maximum_rate" and (maximum_rate is None or not float(maximum_rate) > 0):
            raise ValueError(f"random_spikes: maximum_rate={maximum_rate!r}: give a positive rate (spikes per "
                             f"second) with method='maximum_rate'")
        if margin_size is not None and (not isinstance(margin_size, (int, np.integer)) or margin_size < 0):
            raise ValueError(f"random_spikes: margin_size={margin_size!r}: give a number of samples >= 0 or None")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise ValueError(f"random_spikes: seed={seed!r}: give an int >= 0 or None")
        params = {"method": method, "max_spikes_per_unit": int(max_spikes_per_unit), "margin_size": margin_size,
                  "seed": None if seed is None else int(seed)}
        if method == "percentage":
            params["percentage"] = float(percentage)
        if method == "maximum_rate":
            params["maximum_rate"] = float(maximum_rate)
        return params

    def _run(self, verbose: bool = False) -> None:
        from .sorting_tools import random_spikes_selection

        analyzer = self.sorting_analyzer
        self.data["random_spikes_indices"] = random_spikes_selection(
            analyzer._sorting, num_samples=analyzer.rec_attributes["num_samples"], **self.params)

    def _get_data(self) -> np.ndarray:
        return self.data["random_spikes_indices"]

    def _problem_with_loaded_data(self) -> str | None:
        indices = self.data.get("random_spikes_indices")
        num_spikes = self.sorting_analyzer._sorting.count_total_num_spikes()
        if indices is None or np.ndim(indices) != 1 or np.dtype(indices.dtype).kind not in "iu":
            return "random_spikes_indices must be a 1-d integer array"
        indices = np.asarray(indices)
        if indices.size and (indices.min() < 0 or indices.max() >= num_spikes):
            return (f"random_spikes_indices run from {indices.min()} to {indices.max()}, the sorting has "
                    f"{num_spikes} spikes")
        return None

    def get_random_spikes(self) -> np.ndarray:
        """The spike vector of the selected spikes.

        Returns
        -------
        np.ndarray
        """
        return self.sorting_analyzer._sorting.to_spike_vector()[np.asarray(self.data["random_spikes_indices"])]

    def get_selected_indices_in_spike_train(self, unit_id, segment_index: int) -> np.ndarray:
        """Positions, in the unit's spike train of a segment, of its selected spikes.

        Parameters
        ----------
        unit_id : int or str
        segment_index : int

        Returns
        -------
        np.ndarray
        """
        sorting = self.sorting_analyzer.sorting
        unit_index = sorting.id_to_index(unit_id)
        spikes = sorting.to_spike_vector()
        in_train = np.flatnonzero((spikes["segment_index"] == segment_index) & (spikes["unit_index"] == unit_index))
        _, positions, _ = np.intersect1d(in_train, self.data["random_spikes_indices"], return_indices=True)
        return positions

    def _select_units_extension_data(self, unit_ids) -> dict:
        valid, order, positions = _selected_random_rows(self.sorting_analyzer, unit_ids)
        return {"random_spikes_indices": positions[valid][order]}

    def _merge_extension_data(self, merge_unit_groups, new_unit_ids, new_sorting_analyzer, keep_mask=None,
                              verbose: bool = False, **job_kwargs) -> dict:
        valid, order, positions = _random_rows_after_curation(self.sorting_analyzer, new_sorting_analyzer, keep_mask)
        return {"random_spikes_indices": positions[valid][order]}

    def _split_extension_data(self, split_units, new_unit_ids, new_sorting_analyzer, verbose: bool = False,
                              **job_kwargs) -> dict:
        valid, order, positions = _random_rows_after_curation(self.sorting_analyzer, new_sorting_analyzer)
        return {"random_spikes_indices": positions[valid][order]}


def _selected_random_rows(analyzer, unit_ids) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For the random spikes of ``analyzer``: which belong to ``unit_ids`` (``valid``), their order in
    the selection's spike vector (``order``), and where each went (``positions``)."""
    from .sorting_merges import relabeled_spike_positions

    sorting = analyzer.sorting
    old_to_new = np.full(sorting.get_num_units(), -1, dtype="int64")
    old_to_new[sorting.ids_to_indices(list(unit_ids))] = np.arange(len(unit_ids))
    positions = relabeled_spike_positions(sorting.to_spike_vector(), old_to_new)
    new_positions = positions[np.asarray(analyzer.get_extension("random_spikes").get_data())]
    valid = new_positions >= 0
    return valid, np.argsort(new_positions[valid], kind="stable"), new_positions


def _random_rows_after_curation(old_analyzer, new_analyzer, keep_mask=None
                                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For the random spikes of ``old_analyzer``: which survive a merge or split (``valid``), the
    order of the survivors in the new analyzer (``order``), and where each old spike went
    (``positions``)."""
    indices = np.asarray(old_analyzer.get_extension("random_spikes").get_data())
    positions = spike_positions_after_curation(old_analyzer, new_analyzer, keep_mask)
    new_positions = positions[indices]
    valid = new_positions >= 0
    order = np.argsort(new_positions[valid], kind="stable")
    return valid, order, positions[indices]


def _shape_problem(name: str, array, expected: list) -> str | None:
    """How ``array``'s shape contradicts ``expected`` (None entries: any length), or None."""
    shape = None if array is None else tuple(np.shape(array))
    if shape is None or len(shape) != len(expected) or any(e is not None and s != e for s, e in zip(shape, expected)):
        wanted = "(" + ", ".join("n" if e is None else str(e) for e in expected) + ("," if len(expected) == 1 else "")
        return f"{name} has shape {shape}, expected {wanted})"
    return None


class _WindowInMs:
    """``nbefore`` / ``nafter`` in samples from the ``ms_before`` / ``ms_after`` parameters."""

    @property
    def nbefore(self) -> int:
        return ms_to_samples(self.params["ms_before"], self.sorting_analyzer.sampling_frequency)

    @property
    def nafter(self) -> int:
        return ms_to_samples(self.params["ms_after"], self.sorting_analyzer.sampling_frequency)


class ComputeWaveforms(_WindowInMs, AnalyzerExtension):
    """Waveforms of the random spikes (sparse when the analyzer is).

    Parameters
    ----------
    ms_before, ms_after : float
        Window around each spike (ms).
    dtype : dtype-like, optional
        Of the waveforms (default: the recording's; float32 for integer traces in µV).

    Returns
    -------
    np.ndarray
        ``(num_random_spikes, num_samples, num_channels)``; sparse: each row holds its unit's
        channels first, then zeros, up to the widest unit.
    """

    extension_name = "waveforms"
    depend_on = ["random_spikes"]
    need_recording = True
    need_job_kwargs = True
    _spikeinterface_class = "spikeinterface.core.analyzer_extension_core.ComputeWaveforms"

    def _set_params(self, ms_before: float = 1.0, ms_after: float = 2.0, dtype=None) -> dict:
        from .validation import check_window

        analyzer = self.sorting_analyzer
        check_window(ms_before, ms_after, analyzer.sampling_frequency)
        if dtype is None:
            dtype = analyzer.get_dtype()
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            raise TypeError(f"waveforms: dtype={dtype!r} is not a numpy dtype") from None
        if dtype.kind not in "iuf":
            raise ValueError(f"waveforms: dtype={dtype} must be an integer or float dtype")
        if dtype.kind in "iu" and analyzer.return_in_uV:
            dtype = np.dtype("float32")
        return {"ms_before": float(ms_before), "ms_after": float(ms_after), "dtype": dtype.str}

    def _run(self, verbose: bool = False, **job_kwargs) -> None:
        from .analyzer_compute import gather_waveforms

        analyzer = self.sorting_analyzer
        config = analyzer._job_config(job_kwargs)
        spikes = analyzer.get_extension("random_spikes").get_random_spikes()
        operators = getattr(self, "_fused_operators", ())
        recording = analyzer.recording
        waveforms, stats = gather_waveforms(recording, spikes, analyzer.get_num_units(), self.nbefore,
                                            self.nafter, analyzer.sparsity, analyzer.return_in_uV,
                                            np.dtype(self.params["dtype"]), config, operators=operators,
                                            riders=analyzer._main_channel_riders(recording))
        analyzer._resolve_pending_main_channels(run_alone=False)
        self.data.clear()
        self.data["waveforms"] = waveforms
        # templates taken from the buffer while it was on the device, for a templates extension
        # computed right after (compute(["waveforms", "templates"])): never stored
        self._fused_templates = stats

    def _get_data(self) -> np.ndarray:
        return self.data["waveforms"]

    def _problem_with_loaded_data(self) -> str | None:
        analyzer = self.sorting_analyzer
        width = analyzer.get_num_channels() if analyzer.sparsity is None else \
            analyzer.sparsity.max_num_active_channels
        expected = [None, self.nbefore + self.nafter, width]
        random_spikes = analyzer.extensions.get("random_spikes")
        if random_spikes is not None:
            expected[0] = np.shape(random_spikes.data["random_spikes_indices"])[0]
        return _shape_problem("waveforms", self.data.get("waveforms"), expected)

    def get_waveforms_one_unit(self, unit_id, force_dense: bool = False) -> np.ndarray:
        """Waveforms of one unit (on its sparse channels, unless ``force_dense``).

        Parameters
        ----------
        unit_id : int or str
        force_dense : bool
            Place a sparse unit's waveforms on all channels (zeros elsewhere).

        Returns
        -------
        np.ndarray
            ``(num_waveforms, num_samples, num_channels)``.
        """
        analyzer = self.sorting_analyzer
        unit_index = analyzer.sorting.id_to_index(unit_id)
        some = analyzer.get_extension("random_spikes").get_random_spikes()
        wfs = np.asarray(self.data["waveforms"])[some["unit_index"] == unit_index]
        if analyzer.sparsity is not None:
            channels = np.flatnonzero(analyzer.sparsity.mask[unit_index])
            wfs = wfs[:, :, :channels.size]
            if force_dense:
                dense = np.zeros(wfs.shape[:2] + (analyzer.get_num_channels(),), dtype=wfs.dtype)
                dense[:, :, channels] = wfs
                wfs = dense
        return wfs

    def _select_units_extension_data(self, unit_ids) -> dict:
        valid, order, _ = _selected_random_rows(self.sorting_analyzer, unit_ids)
        return {"waveforms": np.asarray(self.data["waveforms"])[valid][order]}

    def _merge_extension_data(self, merge_unit_groups, new_unit_ids, new_sorting_analyzer, keep_mask=None,
                              verbose: bool = False, **job_kwargs) -> dict:
        analyzer = self.sorting_analyzer
        some = analyzer.get_extension("random_spikes").get_random_spikes()
        valid, order, _ = _random_rows_after_curation(analyzer, new_sorting_analyzer, keep_mask)
        some = some[valid][order]
        waveforms = np.asarray(self.data["waveforms"])[valid][order]
        old = analyzer.sparsity
        if old is not None:
            # a merged unit keeps the channels its units share: each row is realigned to them
            for group in merge_unit_groups:
                indices = analyzer.sorting.ids_to_indices(group)
                common = np.all(old.mask[indices], axis=0)
                for unit_index in indices:
                    rows = np.flatnonzero(some["unit_index"] == unit_index)
                    own = old.mask[unit_index]
                    kept = waveforms[rows][:, :, :int(own.sum())][:, :, common[own]]
                    waveforms[rows] = 0
                    waveforms[rows, :, :kept.shape[2]] = kept
            new_width = int(new_sorting_analyzer.sparsity.mask.sum(axis=1).max(initial=0))
            if new_width < waveforms.shape[2]:
                waveforms = np.ascontiguousarray(waveforms[:, :, :new_width])
        return {"waveforms": waveforms}

    def _select_channels_extension_data(self, channel_ids) -> dict:
        """Each row keeps the selected channels its unit has, in the order of ``channel_ids``
        (a sparse row: the unit's selected channels first, then zeros, up to the widest unit)."""
        analyzer = self.sorting_analyzer
        waveforms = np.asarray(self.data["waveforms"])
        keep = analyzer.channel_ids_to_indices(list(channel_ids))
        if analyzer.sparsity is None:
            return {"waveforms": np.ascontiguousarray(waveforms[:, :, keep])}
        units = analyzer.get_extension("random_spikes").get_random_spikes()["unit_index"]
        slots = []  # per unit: where each kept channel sits in the unit's rows
        for mask in analyzer.sparsity.mask:
            own = np.flatnonzero(mask)
            slots.append(np.array([int(np.searchsorted(own, c)) for c in keep if mask[c]], dtype=int))
        width = max((s.size for s in slots), default=0)
        out = np.zeros(waveforms.shape[:2] + (width,), dtype=waveforms.dtype)
        for u, slot in enumerate(slots):
            rows = np.flatnonzero(units == u)
            if slot.size and rows.size:
                out[rows, :, :slot.size] = waveforms[rows][:, :, slot]
        return {"waveforms": out}

    def _split_extension_data(self, split_units, new_unit_ids, new_sorting_analyzer, verbose: bool = False,
                              **job_kwargs) -> dict:
        """The same waveforms (the parts keep their unit's channels), in the split analyzer's spike order."""
        valid, order, _ = _random_rows_after_curation(self.sorting_analyzer, new_sorting_analyzer)
        return {"waveforms": np.asarray(self.data["waveforms"])[valid][order]}


class ComputeTemplates(_WindowInMs, AnalyzerExtension):
    """Templates of each unit: average and std by default, median and percentiles on demand.

    From the waveforms when the analyzer has them; otherwise average (and std) of the random spikes
    accumulated in one streaming pass over the recording, without storing waveforms.

    Parameters
    ----------
    ms_before, ms_after : float
        Window (ms); taken from the waveforms extension when it exists.
    operators : list, optional
        ``"average"``, ``"std"``, ``"median"`` or ``["percentile", q]`` (default average and std).

    Returns
    -------
    np.ndarray
        ``(num_units, num_samples, num_channels)`` dense templates of one operator.
    """

    extension_name = "templates"
    depend_on = ["random_spikes|waveforms"]
    need_recording = False
    need_job_kwargs = True
    need_backward_compatibility_on_load = True
    _spikeinterface_class = "spikeinterface.core.analyzer_extension_core.ComputeTemplates"

    def _handle_backward_compatibility_on_load(self) -> None:
        fs = self.sorting_analyzer.sampling_frequency
        if "ms_before" not in self.params and "nbefore" in self.params:
            self.params["ms_before"] = self.params["nbefore"] * 1000.0 / fs
        if "ms_after" not in self.params and "nafter" in self.params:
            self.params["ms_after"] = self.params["nafter"] * 1000.0 / fs
        for key in list(self.data):
            if "pencentile" in key:
                self.data[key.replace("pencentile", "percentile")] = self.data.pop(key)

    def _set_params(self, ms_before: float = 1.0, ms_after: float = 2.0, operators=None) -> dict:
        from .validation import check_window

        operators = ["average", "std"] if operators is None else operators
        if not isinstance(operators, (list, tuple)) or isinstance(operators, str):
            raise TypeError(f"templates: operators={operators!r}: give a list, e.g. ['average', 'std']")
        cleaned = []
        for op in operators:
            if isinstance(op, str):
                if op not in _TEMPLATE_OPERATORS:
                    raise ValueError(f"templates: operator {op!r} is not supported; use any of "
                                     f"{list(_TEMPLATE_OPERATORS[:3])} or ['percentile', q]")
                cleaned.append(op)
            elif isinstance(op, (list, tuple)) and len(op) == 2 and op[0] == "percentile":
                q = float(op[1])
                if not 0 <= q <= 100:
                    raise ValueError(f"templates: percentile {op[1]!r} must be within [0, 100]")
                cleaned.append(["percentile", op[1]])
            else:
                raise ValueError(f"templates: operator {op!r}: give 'average', 'std', 'median' or "
                                 f"['percentile', q]")
        waveforms = self.sorting_analyzer.get_extension("waveforms")
        if waveforms is not None:
            ms_before, ms_after = waveforms.params["ms_before"], waveforms.params["ms_after"]
        else:
            check_window(ms_before, ms_after, self.sorting_analyzer.sampling_frequency)
        return {"operators": cleaned, "ms_before": float(ms_before), "ms_after": float(ms_after)}

    def _run(self, verbose: bool = False, **job_kwargs) -> None:
        analyzer = self.sorting_analyzer
        self.data.clear()
        operators = self.params["operators"]
        if analyzer.has_extension("waveforms"):
            self._compute_from_waveforms(operators)
            return
        if not (analyzer.has_recording() or analyzer.has_temporary_recording()):
            raise ValueError("templates: the analyzer has no recording and no 'waveforms' extension; attach the "
                             "recording (set_temporary_recording) or compute 'waveforms' first")
        needing = [op for op in operators if op not in ("average", "std")]
        if needing:
            raise ValueError(f"templates: operators {needing} need the 'waveforms' extension: compute "
                             f"'waveforms' first, or ask for 'average' and 'std' only")
        from .analyzer_compute import accumulate_templates

        config = analyzer._job_config(job_kwargs)
        selected = np.asarray(analyzer.get_extension("random_spikes").get_data())
        mask = None if analyzer.sparsity is None else analyzer.sparsity.mask
        recording = analyzer.recording
        out = accumulate_templates(recording, analyzer._sorting, selected, self.params["ms_before"],
                                   self.params["ms_after"], analyzer.return_in_uV, "std" in operators, config, mask,
                                   riders=analyzer._main_channel_riders(recording))
        analyzer._resolve_pending_main_channels(run_alone=False)
        self.data.update({op: out[op] for op in operators})

    def _compute_from_waveforms(self, operators) -> None:
        from .analyzer_compute import operator_function, waveform_statistics

        analyzer = self.sorting_analyzer
        waveforms_ext = analyzer.get_extension("waveforms")
        if waveforms_ext is None:
            raise ValueError(f"templates: operators {operators} need the 'waveforms' extension")
        keys = [operator_function(op)[0] for op in operators]
        fused = getattr(waveforms_ext, "_fused_templates", None) or {}
        missing = [op for op, key in zip(operators, keys) if key not in fused]
        computed = {}
        if missing:
            from ..backends import get_backend

            some = analyzer.get_extension("random_spikes").get_random_spikes()
            mask = None if analyzer.sparsity is None else analyzer.sparsity.mask
            computed = waveform_statistics(np.asarray(waveforms_ext.data["waveforms"]), some["unit_index"],
                                           analyzer.get_num_units(), missing, mask, get_backend("numpy"))
        for key in keys:
            self.data[key] = fused[key] if key in fused else computed[key]

    def _problem_with_loaded_data(self) -> str | None:
        analyzer = self.sorting_analyzer
        expected = [analyzer.get_num_units(), self.nbefore + self.nafter, analyzer.get_num_channels()]
        arrays = [(key, value) for key, value in self.data.items() if hasattr(value, "shape")]
        return next(filter(None, (_shape_problem(key, value, expected) for key, value in arrays)), None)

    def _get_data(self, operator: str = "average", percentile: float | None = None, outputs: str = "numpy"):
        key = self._key(operator, percentile)
        if key not in self.data:
            raise ValueError(f"operator={key!r} was not computed; computed operators: {list(self.data)} (use "
                             f"get_templates(operator=...) to compute it from the waveforms)")
        return self._output(self.data[key], None, outputs)

    @staticmethod
    def _key(operator: str, percentile) -> str:
        if operator == "percentile":
            if percentile is None:
                raise ValueError("operator='percentile' needs percentile= (e.g. 95)")
            return f"percentile_{percentile}"
        return operator

    def _output(self, array, unit_ids, outputs: str):
        if outputs == "numpy":
            return array
        if outputs != "Templates":
            raise ValueError(f"outputs={outputs!r}: allowed values are 'numpy', 'Templates'")
        from .template import Templates

        analyzer = self.sorting_analyzer
        probe = analyzer.get_probe() if analyzer.get_probegroup() is not None and \
            len(analyzer.get_probegroup().probes) == 1 else None
        return Templates(templates_array=np.asarray(array), sampling_frequency=analyzer.sampling_frequency,
                         nbefore=self.nbefore, channel_ids=analyzer.channel_ids,
                         unit_ids=analyzer.unit_ids if unit_ids is None else unit_ids, probe=probe,
                         is_in_uV=analyzer.return_in_uV)

    def get_templates(self, unit_ids=None, operator: str = "average", percentile: float | None = None,
                      save: bool = True, outputs: str = "numpy"):
        """Templates of some or all units; an operator not computed yet is computed from the waveforms.

        Parameters
        ----------
        unit_ids : list, optional
        operator : {"average", "std", "median", "percentile"}
        percentile : float, optional
            For ``operator="percentile"``.
        save : bool
            Store a newly computed operator in the folder.
        outputs : {"numpy", "Templates"}

        Returns
        -------
        np.ndarray or Templates
        """
        key = self._key(operator, percentile)
        if key not in self.data:
            op = operator if operator != "percentile" else ["percentile", percentile]
            self._compute_from_waveforms([op])
            self.params["operators"] = list(self.params["operators"]) + [op]
            if save and not self.sorting_analyzer.is_read_only():
                self.save()
        templates = self.data[key]
        if unit_ids is not None:
            templates = np.asarray(templates)[self.sorting_analyzer.sorting.ids_to_indices(unit_ids)]
        return self._output(templates, unit_ids, outputs)

    def get_unit_template(self, unit_id, operator: str = "average") -> np.ndarray:
        """The template of one unit.

        Parameters
        ----------
        unit_id : int or str
        operator : str

        Returns
        -------
        np.ndarray
            ``(num_samples, num_channels)``.
        """
        if operator not in self.data:
            raise ValueError(f"operator={operator!r} was not computed; computed operators: {list(self.data)}")
        return np.array(self.data[operator][self.sorting_analyzer.sorting.id_to_index(unit_id)])

    def _select_units_extension_data(self, unit_ids) -> dict:
        indices = self.sorting_analyzer.sorting.ids_to_indices(unit_ids)
        return {key: np.asarray(value)[indices] for key, value in self.data.items()}

    def _merge_extension_data(self, merge_unit_groups, new_unit_ids, new_sorting_analyzer, keep_mask=None,
                              verbose: bool = False, **job_kwargs) -> dict:
        """Templates of merged units from the stored waveforms when present, else from the stored
        average / std and the numbers of spikes each unit's templates were made of (exact for these)."""
        if new_sorting_analyzer.get_extension("waveforms") is not None:
            return self._data_from_waveforms_of(new_sorting_analyzer)
        return _merge_templates_from_sums(self, merge_unit_groups, new_unit_ids, new_sorting_analyzer)

    def _data_from_waveforms_of(self, new_sorting_analyzer) -> dict:
        """These templates' operators, computed from the stored waveforms of ``new_sorting_analyzer``."""
        ext = type(self)(new_sorting_analyzer)
        ext.params = dict(self.params)
        ext._compute_from_waveforms(self.params["operators"])
        return ext.data

    def _select_channels_extension_data(self, channel_ids) -> dict:
        keep = self.sorting_analyzer.channel_ids_to_indices(list(channel_ids))
        return {key: np.ascontiguousarray(np.asarray(value)[:, :, keep]) for key, value in self.data.items()}

    def _split_extension_data(self, split_units, new_unit_ids, new_sorting_analyzer, verbose: bool = False,
                              **job_kwargs) -> dict:
        """Templates of the parts from the stored waveforms when present; else each part gets its
        unit's templates, with a warning (as SpikeInterface 0.105)."""
        if new_sorting_analyzer.get_extension("waveforms") is not None:
            return self._data_from_waveforms_of(new_sorting_analyzer)
        warnings.warn("splitting templates without the 'waveforms' extension gives each part the templates of the "
                      "unit it comes from: compute 'waveforms' before splitting, or recompute 'templates' after")
        from .sorting_splits import parent_unit_indices

        source = parent_unit_indices(self.sorting_analyzer.sorting, new_sorting_analyzer.sorting, list(split_units),
                                     new_unit_ids)
        return {key: np.asarray(value)[source] for key, value in self.data.items()}


def _merge_templates_from_sums(ext: ComputeTemplates, merge_unit_groups, new_unit_ids, new_analyzer) -> dict:
    old = ext.sorting_analyzer
    random = old.get_extension("random_spikes")
    unit_index = old.sorting.to_spike_vector()["unit_index"][np.asarray(random.get_data())]
    counts = np.bincount(unit_index, minlength=old.get_num_units()).astype("float64")
    keys = list(ext.data)
    unsupported = [k for k in keys if k not in ("average", "std")]
    if unsupported:
        raise ValueError(f"merging templates {unsupported} needs the 'waveforms' extension (compute it, or use "
                         f"merging_mode='hard')")
    new_data = {}
    old_index = {u: i for i, u in enumerate(old.unit_ids)}
    merged_index = {u: i for i, u in enumerate(new_unit_ids)}
    for key in keys:
        array = np.asarray(ext.data[key])
        new_data[key] = np.zeros((new_analyzer.get_num_units(),) + array.shape[1:], array.dtype)
    for new_index, unit_id in enumerate(new_analyzer.unit_ids):
        if unit_id in merged_index:
            group = merge_unit_groups[merged_index[unit_id]]
            indices = old.sorting.ids_to_indices(group)
            n = counts[indices]
            total = n.sum()
            mean_parts = np.asarray(ext.data["average"], "float64")[indices]
            mean = np.tensordot(n, mean_parts, axes=1) / total if total else np.zeros(mean_parts.shape[1:])
            new_data["average"][new_index] = mean
            if "std" in new_data:
                std_parts = np.asarray(ext.data["std"], "float64")[indices]
                second = np.tensordot(n, std_parts ** 2 + mean_parts ** 2, axes=1) / total if total else 0.0
                new_data["std"][new_index] = np.sqrt(np.maximum(second - mean ** 2, 0.0))
            if new_analyzer.sparsity is not None:
                outside = ~new_analyzer.sparsity.mask[new_index]
                for key in keys:
                    new_data[key][new_index][:, outside] = 0
        else:
            for key in keys:
                new_data[key][new_index] = np.asarray(ext.data[key])[old_index[unit_id]]
    return new_data


class ComputeNoiseLevels(AnalyzerExtension):
    """Noise level of each channel (``get_noise_levels`` kept with the analyzer), in µV when the
    analyzer's ``return_in_uV``.

    Parameters
    ----------
    **noise_level_params
        Arguments of :func:`~gpuspike.core.recording_tools.get_noise_levels` (``method``,
        ``random_slices_kwargs``, ...); a seed is drawn and kept when none is given, so the
        chunks can be read again. As in SpikeInterface 0.105, an estimate already cached on the
        recording (by ``get_noise_levels``, same method and units) is taken as it is, unless
        ``force_recompute=True``.

    Returns
    -------
    np.ndarray
        ``(num_channels,)`` noise levels.
    """

    extension_name = "noise_levels"
    depend_on: list[str] = []
    need_recording = True
    need_job_kwargs = True
    need_backward_compatibility_on_load = True
    _spikeinterface_class = "spikeinterface.core.analyzer_extension_core.ComputeNoiseLevels"

    def _set_params(self, **noise_level_params) -> dict:
        params = dict(noise_level_params)
        slices = dict(params.get("random_slices_kwargs") or {})
        if slices.get("seed") is None:
            slices["seed"] = int(np.random.default_rng().integers(0, 2**63))
        params["random_slices_kwargs"] = slices
        return params

    def _run(self, verbose: bool = False, **job_kwargs) -> None:
        from .recording import noise_levels_property_key
        from .recording_tools import get_noise_levels

        analyzer = self.sorting_analyzer
        recording = analyzer.recording
        params = dict(self.params)
        cached = None
        if not params.pop("force_recompute", False):
            cached = recording.get_property(noise_levels_property_key(params.get("method", "mad"),
                                                                      analyzer.return_in_uV))
        if cached is not None:  # SpikeInterface 0.105 serves the estimate cached on the recording
            self.data["noise_levels"] = np.array(cached)
            return
        self.data["noise_levels"] = get_noise_levels(recording, return_in_uV=analyzer.return_in_uV,
                                                     force_recompute=True, **params,
                                                     **analyzer._job_kwargs(job_kwargs))

    def _get_data(self) -> np.ndarray:
        return self.data["noise_levels"]

    def _problem_with_loaded_data(self) -> str | None:
        return _shape_problem("noise_levels", self.data.get("noise_levels"), [self.sorting_analyzer.get_num_channels()])

    def _handle_backward_compatibility_on_load(self) -> None:
        for key in ("num_chunks_per_segment", "chunk_size", "seed"):
            if key in self.params:
                self.params.setdefault("random_slices_kwargs", {})[key] = self.params.pop(key)

    def _select_units_extension_data(self, unit_ids) -> dict:
        return {"noise_levels": np.array(self.data["noise_levels"])}

    def _split_extension_data(self, split_units, new_unit_ids, new_sorting_analyzer, verbose: bool = False,
                              **job_kwargs) -> dict:
        return {"noise_levels": np.array(self.data["noise_levels"])}

    def _select_channels_extension_data(self, channel_ids) -> dict:
        keep = self.sorting_analyzer.channel_ids_to_indices(list(channel_ids))
        return {"noise_levels": np.asarray(self.data["noise_levels"])[keep]}

    def _merge_extension_data(self, merge_unit_groups, new_unit_ids, new_sorting_analyzer, keep_mask=None,
                              verbose: bool = False, **job_kwargs) -> dict:
        return {"noise_levels": np.array(self.data["noise_levels"])}


register_result_extension(ComputeRandomSpikes)
register_result_extension(ComputeWaveforms)
register_result_extension(ComputeTemplates)
register_result_extension(ComputeNoiseLevels)

compute_random_spikes = ComputeRandomSpikes.function_factory()
compute_waveforms = ComputeWaveforms.function_factory()
_compute_templates_of_analyzer = ComputeTemplates.function_factory()
compute_noise_levels = ComputeNoiseLevels.function_factory()


@accepts_aliases(sorting_analyzer="sorting_analyzer_or_recording")
def compute_templates(sorting_analyzer_or_recording, *args, load_if_exists=None, **kwargs):
    """Templates of a SortingAnalyzer (SpikeInterface 0.105), or of a recording and a sorting in one pass.

    ``compute_templates(sorting_analyzer, operators=..., ...)`` computes the analyzer's "templates"
    extension and returns its data (:class:`ComputeTemplates`).
    ``compute_templates(recording, sorting, ms_before=1.0, ms_after=2.0, max_spikes_per_unit=None, ...)``
    is gpuspike's streaming pass over every spike, returning a template-only WaveformExtractor
    (:func:`gpuspike.core.waveforms.compute_templates`).

    Either way, a unit with zero spikes gets all-zero templates, exactly as in SpikeInterface 0.105:
    check ``sorting.count_num_spikes_per_unit()`` before reading amplitudes from templates.

    Parameters
    ----------
    sorting_analyzer_or_recording : SortingAnalyzer or BaseRecording
        Also taken as ``sorting_analyzer=`` (SpikeInterface 0.105's name).
    *args, **kwargs
        Of the call chosen by the first argument.
    load_if_exists : None
        Not supported, as in SpikeInterface 0.105 (read a computed extension with ``get_extension``).

    Returns
    -------
    np.ndarray or WaveformExtractor
    """
    from .sortinganalyzer import SortingAnalyzer

    if isinstance(sorting_analyzer_or_recording, SortingAnalyzer):
        return _compute_templates_of_analyzer(sorting_analyzer_or_recording, *args, load_if_exists=load_if_exists,
                                              **kwargs)
    if load_if_exists is not None:
        raise TypeError("compute_templates(recording, sorting, ...): load_if_exists= is an argument of the "
                        "SortingAnalyzer call only")
    from .waveforms import compute_templates as compute_streaming_templates

    return compute_streaming_templates(sorting_analyzer_or_recording, *args, **kwargs)


__all__ = ["ComputeRandomSpikes", "ComputeWaveforms", "ComputeTemplates", "ComputeNoiseLevels",
           "BaseSpikeVectorExtension", "BaseMetric", "BaseMetricExtension", "compute_random_spikes",
           "compute_waveforms", "compute_templates", "compute_noise_levels"]
