"""Merging and splitting units of a SortingAnalyzer: the new sorting, sparsity and extensions."""
from __future__ import annotations

import warnings

import numpy as np

from .analyzer_foreign import carry_foreign_extensions, nothing_follows, per_spike_rows_in
from .sparsity import ChannelSparsity


def merge_analyzer_units(analyzer, merge_unit_groups, new_unit_ids=None, censor_ms: float | None = None,
                         merging_mode: str = "soft", sparsity_overlap: float = 0.75,
                         raise_error_if_overlap_fails: bool = True, new_id_strategy: str = "append",
                         return_new_unit_ids: bool = False, format: str = "memory", folder=None,
                         verbose: bool = False, **job_kwargs):
    """The analyzer whose groups of units are merged (see :meth:`SortingAnalyzer.merge_units`).

    Returns
    -------
    SortingAnalyzer, or (SortingAnalyzer, list) with ``return_new_unit_ids``
    """
    from .sorting_merges import generate_unit_ids_for_merge_group, get_ids_after_merging, merge_spike_vector

    if merging_mode not in ("soft", "hard"):
        raise ValueError(f"merging_mode={merging_mode!r}: allowed values are ['soft', 'hard']")
    groups = [list(g) for g in merge_unit_groups]
    if not groups:
        raise ValueError("merge_units: give at least one group of units to merge")
    for group in groups:
        if len(group) < 2:
            raise ValueError(f"merge_units: group {group} has fewer than two units")
        missing = [u for u in group if u not in list(analyzer.unit_ids)]
        if missing:
            raise ValueError(f"merge_units: unit ids {missing} are not in the analyzer")
    if new_unit_ids is not None and len(new_unit_ids) != len(groups):
        raise ValueError(f"merge_units: {len(new_unit_ids)} new_unit_ids for {len(groups)} groups")
    if analyzer.sparsity is not None and merging_mode == "soft":
        mergeable = analyzer.are_units_mergeable(groups, sparsity_overlap=sparsity_overlap)
        failing = [g for g in groups if not mergeable[tuple(g)]]
        if failing:
            message = (f"the units of the merge groups {failing} share less than sparsity_overlap="
                       f"{sparsity_overlap} of their channels for a soft merge; lower sparsity_overlap, use "
                       f"merging_mode='hard', or raise_error_if_overlap_fails=False to skip them")
            if raise_error_if_overlap_fails:
                raise ValueError(message)
            warnings.warn(message)
            keep = [i for i, g in enumerate(groups) if mergeable[tuple(g)]]
            groups = [groups[i] for i in keep]
            new_unit_ids = None if new_unit_ids is None else [new_unit_ids[i] for i in keep]
    if not groups:
        warnings.warn("merge_units: no mergeable unit groups")
        return (analyzer, []) if return_new_unit_ids else analyzer
    new_unit_ids = generate_unit_ids_for_merge_group(analyzer.unit_ids, groups, new_unit_ids, new_id_strategy)
    all_unit_ids = get_ids_after_merging(analyzer.unit_ids, groups, new_unit_ids)
    analyzer.main_channel_indices  # noqa: B018
    sorting, keep_mask, positions, _ = merge_spike_vector(analyzer.sorting, groups, new_unit_ids, censor_ms)
    if censor_ms is None:
        keep_mask = None
    sparsity = None
    if analyzer.sparsity is not None:
        _, masks = analyzer.are_units_mergeable(groups, merging_mode=merging_mode, sparsity_overlap=sparsity_overlap,
                                            return_masks=True)
        mask = np.zeros((len(all_unit_ids), analyzer.get_num_channels()), dtype=bool)
        for i, unit_id in enumerate(all_unit_ids):
            if unit_id in list(new_unit_ids):
                mask[i] = masks[tuple(groups[list(new_unit_ids).index(unit_id)])]
            else:
                mask[i] = analyzer.sparsity.mask[analyzer.sorting.id_to_index(unit_id)]
        sparsity = ChannelSparsity(mask, sorting.unit_ids, analyzer.channel_ids)
    new = analyzer._new_analyzer(sorting, sparsity, format, folder, None)
    new._parent_spike_positions = positions  # where each old spike went: the random spikes follow
    extensions = analyzer._all_extensions()
    if merging_mode == "soft":
        for name in extensions:
            new.extensions[name] = analyzer.extensions[name].merge(new, groups, new_unit_ids, keep_mask=keep_mask,
                                                               verbose=verbose, **job_kwargs)
    elif extensions:
        new.compute_several_extensions(dict(extensions), verbose=verbose, **job_kwargs)
    soft = merging_mode == "soft"  # a hard merge recomputes everything: nothing stored follows it
    carry_foreign_extensions(analyzer, new, cut=per_spike_rows_in(new, keep_mask) if soft else nothing_follows,
                             why_not="SpikeInterface recomputes them for merged units; compute them again there "
                                     "with SpikeInterface")
    return (new, list(new_unit_ids)) if return_new_unit_ids else new


def split_analyzer_units(analyzer, split_units: dict, new_unit_ids=None, new_id_strategy: str = "append",
                         return_new_unit_ids: bool = False, format: str = "memory", folder=None,
                         verbose: bool = False, **job_kwargs):
    """The analyzer whose units are split into parts (see :meth:`SortingAnalyzer.split_units`).

    Returns
    -------
    SortingAnalyzer, or (SortingAnalyzer, list of lists) with ``return_new_unit_ids``
    """
    from .sorting_splits import parent_unit_indices, split_spike_vector

    if not isinstance(split_units, dict) or len(split_units) == 0:
        raise ValueError("split_units: give a dict {unit_id: [indices of part 0, indices of part 1, ...]} with at "
                         "least one unit")
    analyzer.main_channel_indices  # noqa: B018 - the parts inherit their unit's main channel
    sorting, positions, new_unit_ids = split_spike_vector(analyzer.sorting, split_units, new_unit_ids,
                                                          new_id_strategy)
    sparsity = None
    if analyzer.sparsity is not None:
        source = parent_unit_indices(analyzer.sorting, sorting, list(split_units), new_unit_ids)
        sparsity = ChannelSparsity(analyzer.sparsity.mask[source], sorting.unit_ids, analyzer.channel_ids)
    new = analyzer._new_analyzer(sorting, sparsity, format, folder, None)
    new._parent_spike_positions = positions  # where each old spike went: the random spikes follow
    for name in analyzer._all_extensions():
        new.extensions[name] = analyzer.extensions[name].split(new, split_units, new_unit_ids, verbose=verbose,
                                                               **job_kwargs)
    carry_foreign_extensions(analyzer, new, cut=per_spike_rows_in(new),
                             why_not="SpikeInterface recomputes them for split units; compute them again there "
                                     "with SpikeInterface")
    return (new, new_unit_ids) if return_new_unit_ids else new


__all__ = ["merge_analyzer_units", "split_analyzer_units"]
