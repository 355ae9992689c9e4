"""BaseSpikeVectorExtension: an analyzer extension holding one row per spike, computed by a node pipeline.

SpikeInterface's postprocessing extensions (spike amplitudes, locations, ...) and a user's own are
built on it: the subclass gives the nodes (a :class:`~gpuspike.core.node_pipeline.SpikeRetriever`
first) and names their outputs in ``nodepipeline_variables``; the pipeline runs over the
analyzer's recording and each output has one row per spike of the sorting's spike vector.
"""
from __future__ import annotations

import numpy as np

from .analyzer_extension import AnalyzerExtension

_OUTPUTS = ("numpy", "by_unit")


class BaseSpikeVectorExtension(AnalyzerExtension):
    """Base class of the extensions whose data are arrays with one row per spike (node pipeline).

    A subclass sets ``extension_name``, ``nodepipeline_variables`` (the names of the pipeline's
    outputs, in order) and ``depend_on``, and implements ``_get_pipeline_nodes()`` (and
    ``_set_params`` to validate its parameters).
    """

    extension_name = None
    need_recording = True
    use_nodepipeline = True
    need_job_kwargs = True
    need_backward_compatibility_on_load = False
    nodepipeline_variables: list = []

    def _set_params(self, **kwargs) -> dict:
        return dict(kwargs)

    def _run(self, verbose: bool = False, **job_kwargs) -> None:
        from .node_pipeline import run_node_pipeline

        outputs = run_node_pipeline(self.sorting_analyzer.recording, self.get_pipeline_nodes(), job_kwargs=job_kwargs,
                                    job_name=self.extension_name, gather_mode="memory", squeeze_output=False,
                                    verbose=verbose)
        self.set_pipeline_outputs(outputs)

    def set_pipeline_outputs(self, outputs: tuple) -> None:
        """Keep the pipeline's outputs under the names of ``nodepipeline_variables`` (in order; an
        extension may give fewer outputs than names, depending on its params).

        Parameters
        ----------
        outputs : tuple of np.ndarray
        """
        names = list(self.nodepipeline_variables)
        if len(outputs) > len(names):
            raise ValueError(f"extension {self.extension_name!r}: its pipeline gave {len(outputs)} outputs but "
                             f"nodepipeline_variables names {len(names)}: {names}")
        for name, value in zip(names, outputs):
            self.data[name] = value

    def _get_data(self, outputs: str = "numpy", concatenated: bool = False, return_data_name: str | None = None,
                  periods=None, copy: bool = True):
        """The per-spike data.

        Parameters
        ----------
        outputs : {"numpy", "by_unit"}
            One array in spike-vector order, or ``{segment_index: {unit_id: rows}}``.
        concatenated : bool
            With "by_unit": ``{unit_id: rows}`` over all segments.
        return_data_name : str, optional
            Which of ``nodepipeline_variables`` (default: the first).
        periods : np.ndarray, optional
            Keep only the spikes inside these unit periods (``unit_period_dtype``).
        copy : bool
            With "numpy": a copy (not for a lazy analyzer).

        Returns
        -------
        np.ndarray or dict
        """
        from .sorting_tools import select_sorting_periods_mask, spike_vector_to_indices

        names = list(self.nodepipeline_variables)
        if return_data_name is None:
            return_data_name = names[0]
        elif return_data_name not in names:
            raise ValueError(f"return_data_name={return_data_name!r}: allowed {names}")
        if outputs not in _OUTPUTS:
            raise ValueError(f"get_data(outputs={outputs!r}): allowed {_OUTPUTS}")
        analyzer = self.sorting_analyzer
        data = self.data[return_data_name]
        if not analyzer._lazy and not isinstance(data, np.ndarray):
            data = np.asarray(data)
        sorting = analyzer.sorting
        keep = None
        if periods is not None:
            keep = select_sorting_periods_mask(sorting, periods)
            data = data[keep]
        if outputs == "numpy":
            return np.array(data) if copy and not analyzer._lazy and keep is None else data
        if keep is None:
            indices = sorting.get_spike_vector_to_indices()
        else:
            kept = sorting.to_spike_vector()[keep]
            bounds = np.searchsorted(kept["segment_index"], np.arange(sorting.get_num_segments() + 1))
            indices = spike_vector_to_indices([kept[a:b] for a, b in zip(bounds[:-1], bounds[1:])], analyzer.unit_ids,
                                              absolute_index=True)
        by_unit = {seg: {unit_id: data[rows] for unit_id, rows in per_unit.items()}
                   for seg, per_unit in indices.items()}
        if concatenated:
            return {unit_id: np.concatenate([by_unit[seg][unit_id] for seg in sorted(by_unit)])
                    for unit_id in analyzer.unit_ids}
        return by_unit

    def _rows_at(self, positions: np.ndarray) -> dict:
        """Each output's rows moved to ``positions`` (the new spike vector's index of each old spike,
        -1 for a spike dropped), as the selection, merge or split placed the spikes."""
        positions = np.asarray(positions, dtype="int64")
        kept = positions >= 0
        out = {}
        for name in self.nodepipeline_variables:
            if self.data.get(name) is None:
                continue
            values = np.asarray(self.data[name])
            rows = np.empty((int(kept.sum()),) + values.shape[1:], dtype=values.dtype)
            rows[positions[kept]] = values[kept]
            out[name] = rows
        return out

    def _select_units_extension_data(self, unit_ids) -> dict:
        from .sorting_merges import relabeled_spike_positions

        sorting = self.sorting_analyzer.sorting
        old_to_new = np.full(sorting.get_num_units(), -1, dtype="int64")
        old_to_new[sorting.ids_to_indices(list(unit_ids))] = np.arange(len(unit_ids))
        return self._rows_at(relabeled_spike_positions(sorting.to_spike_vector(), old_to_new))

    def _merge_extension_data(self, merge_unit_groups, new_unit_ids, new_sorting_analyzer, keep_mask=None,
                              verbose: bool = False, **job_kwargs) -> dict:
        return self._rows_at(spike_positions_after_curation(self.sorting_analyzer, new_sorting_analyzer, keep_mask))

    def _split_extension_data(self, split_units, new_unit_ids, new_sorting_analyzer, verbose: bool = False,
                              **job_kwargs) -> dict:
        return self._rows_at(spike_positions_after_curation(self.sorting_analyzer, new_sorting_analyzer))


def spike_positions_after_curation(old_analyzer, new_analyzer, keep_mask=None) -> np.ndarray:
    """Where each spike of ``old_analyzer`` went in ``new_analyzer`` (merged or split units), -1
    for a spike dropped: as the merge or split recorded it, else kept in place with the spikes of
    ``keep_mask`` (censored ones) dropped.

    Parameters
    ----------
    old_analyzer, new_analyzer : SortingAnalyzer
    keep_mask : np.ndarray, optional

    Returns
    -------
    np.ndarray
        int64, one entry per old spike.
    """
    positions = getattr(new_analyzer, "_parent_spike_positions", None)
    if positions is not None:
        return np.asarray(positions, dtype="int64")
    num_spikes = old_analyzer.sorting.to_spike_vector().size
    keep = np.ones(num_spikes, dtype=bool) if keep_mask is None else np.asarray(keep_mask, dtype=bool)
    return np.where(keep, np.cumsum(keep) - 1, -1).astype("int64")


__all__ = ["BaseSpikeVectorExtension"]
