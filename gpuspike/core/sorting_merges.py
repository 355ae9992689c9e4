"""Merging units of a sorting: new ids, the merged spike vector, and the units' properties.

SpikeInterface 0.105's rules: merged units are appended after the kept ones (or take the id given),
their spikes keep their order in the spike vector, ``censor_ms`` drops a merged unit's spikes
closer than that to its previous spike, and a property survives for a merged unit only when its
units agree (``main_channel_id``: the unit with most spikes wins).
"""
from __future__ import annotations

import numpy as np

from .sorting import BaseSorting

_ID_STRATEGIES = ("append", "take_first", "join")


def _check_groups(unit_ids: np.ndarray, merge_unit_groups) -> list[list]:
    groups = [list(g) for g in merge_unit_groups]
    known = set(np.asarray(unit_ids).tolist())
    seen: set = set()
    for group in groups:
        if len(group) < 2:
            raise ValueError(f"merge group {group} has fewer than two units")
        missing = [u for u in group if u not in known]
        if missing:
            raise ValueError(f"merge group {group}: unit ids {missing} are not in the sorting")
        twice = [u for u in group if u in seen]
        if twice:
            raise ValueError(f"unit ids {twice} appear in more than one merge group")
        seen.update(group)
    return groups


def generate_unit_ids_for_merge_group(old_unit_ids, merge_unit_groups, new_unit_ids=None,
                                      new_id_strategy: str = "append") -> list:
    """Ids of the merged units.

    Parameters
    ----------
    old_unit_ids : array-like
    merge_unit_groups : list of lists
    new_unit_ids : list, optional
        Checked and returned: one per group; an existing id only from its own group.
    new_id_strategy : {"append", "take_first", "join"}
        "append": after the largest id (``"merge<i>"`` for non-numeric string ids); "take_first":
        each group's first id; "join": string ids joined with "-" (integers: "append").

    Returns
    -------
    list
    """
    old_unit_ids = np.asarray(old_unit_ids)
    groups = [list(g) for g in merge_unit_groups]
    if new_unit_ids is not None:
        if len(new_unit_ids) != len(groups):
            raise ValueError(f"{len(new_unit_ids)} new_unit_ids for {len(groups)} merge groups")
        for new_id, group in zip(new_unit_ids, groups):
            if new_id in old_unit_ids and new_id not in group:
                raise ValueError(f"new unit id {new_id!r} already exists outside its merge group {group}")
        return list(new_unit_ids)
    if new_id_strategy not in _ID_STRATEGIES:
        raise ValueError(f"new_id_strategy={new_id_strategy!r}: allowed values are {_ID_STRATEGIES}")
    count = len(groups)
    if new_id_strategy == "take_first":
        return [g[0] for g in groups]
    if new_id_strategy == "join" and np.issubdtype(old_unit_ids.dtype, np.character):
        return ["-".join(str(u) for u in g) for g in groups]
    after = ids_after_the_largest(old_unit_ids, count)
    return after if after is not None else [f"merge{i}" for i in range(count)]


def ids_after_the_largest(unit_ids, count: int) -> list | None:
    """``count`` new ids after the largest of ``unit_ids`` (integers, or strings of digits: the
    "append" rule of SpikeInterface's merges and splits); None for other string ids.

    Returns
    -------
    list or None
    """
    unit_ids = np.asarray(unit_ids)
    if np.issubdtype(unit_ids.dtype, np.character):
        if not all(str(u).isdigit() for u in unit_ids):
            return None
        first = max(int(u) for u in unit_ids) + 1 if unit_ids.size else 0
        return [str(first + i) for i in range(count)]
    start = (unit_ids.max() + 1) if unit_ids.size else 0
    return list(start + np.arange(count, dtype=unit_ids.dtype))


def get_ids_after_merging(old_unit_ids, merge_unit_groups, new_unit_ids) -> np.ndarray:
    """The unit ids after the merges: kept units in their order, then the new ones.

    Returns
    -------
    np.ndarray
    """
    old_unit_ids = np.asarray(old_unit_ids)
    dtype = "U" if old_unit_ids.dtype.kind == "U" else old_unit_ids.dtype
    if len(new_unit_ids) != len(merge_unit_groups):
        raise ValueError(f"{len(new_unit_ids)} new_unit_ids for {len(merge_unit_groups)} merge groups")
    ids = list(old_unit_ids)
    for new_id, group in zip(new_unit_ids, merge_unit_groups):
        for unit_id in group:
            if unit_id != new_id:
                ids.remove(unit_id)
        if new_id not in ids:
            ids.append(new_id)
    return np.array(ids, dtype=dtype)


#: SpikeInterface's private name
_get_ids_after_merging = get_ids_after_merging


def apply_merges_to_sorting(sorting: BaseSorting, merge_unit_groups, new_unit_ids=None,
                            censor_ms: float | None = None, return_extra: bool = False,
                            new_id_strategy: str = "append"):
    """A new sorting (in memory) whose groups of units are merged.

    Parameters
    ----------
    sorting : BaseSorting
    merge_unit_groups : list of lists
        Groups of at least two unit ids (a unit in one group at most).
    new_unit_ids : list, optional
        One id per group (see :func:`generate_unit_ids_for_merge_group`).
    censor_ms : float, optional
        Drop a merged unit's spikes closer than this to its previous spike.
    return_extra : bool
        Also return the mask of kept spikes (of the old spike vector) and the new ids.
    new_id_strategy : {"append", "take_first", "join"}

    Returns
    -------
    NumpySorting, or (NumpySorting, np.ndarray, list) with ``return_extra``
    """
    merged, keep, _, new_unit_ids = merge_spike_vector(sorting, merge_unit_groups, new_unit_ids, censor_ms,
                                                       new_id_strategy)
    return (merged, keep, new_unit_ids) if return_extra else merged


def merge_spike_vector(sorting: BaseSorting, merge_unit_groups, new_unit_ids=None, censor_ms: float | None = None,
                       new_id_strategy: str = "append"):
    """:func:`apply_merges_to_sorting`, also telling where each old spike went.

    Returns
    -------
    tuple
        ``(merged_sorting, keep_mask, positions, new_unit_ids)``: ``positions[i]`` is the index of old
        spike ``i`` in the merged sorting's spike vector (-1 when censored). Spikes keep their order
        (simultaneous spikes too, as in SpikeInterface).
    """
    from .numpyextractors import NumpySorting

    groups = _check_groups(sorting.unit_ids, merge_unit_groups)
    new_unit_ids = generate_unit_ids_for_merge_group(sorting.unit_ids, groups, new_unit_ids, new_id_strategy)
    all_ids = list(get_ids_after_merging(sorting.unit_ids, groups, new_unit_ids))
    rename = {u: new_id for group, new_id in zip(groups, new_unit_ids) for u in group}
    old_ids = list(sorting.unit_ids)
    new_index = {u: i for i, u in enumerate(all_ids)}
    old_index = {u: i for i, u in enumerate(old_ids)}
    old_to_new = np.array([new_index[rename.get(u, u)] for u in old_ids], dtype="int64")
    spikes = sorting.to_spike_vector().copy()
    keep = np.ones(spikes.size, dtype=bool)
    if censor_ms is not None:
        if not censor_ms >= 0:
            raise ValueError(f"censor_ms={censor_ms!r}: give a duration >= 0 in ms, or None")
        window = int(sorting.sampling_frequency * censor_ms / 1000.0)
        for group in groups:
            members = np.isin(spikes["unit_index"], [old_index[u] for u in group])
            for seg in range(sorting.get_num_segments()):
                rows = np.flatnonzero(members & (spikes["segment_index"] == seg))
                too_close = np.flatnonzero(np.diff(spikes["sample_index"][rows]) < window)
                keep[rows[too_close + 1]] = False
    positions = relabeled_spike_positions(spikes, old_to_new, keep)
    spikes["unit_index"] = old_to_new[spikes["unit_index"]]
    kept = spikes[keep]
    merged = NumpySorting(kept, sorting.sampling_frequency, np.asarray(all_ids),
                          num_segments=sorting.get_num_segments())
    set_properties_after_merging(merged, sorting, groups, new_unit_ids)
    return merged, keep, positions, new_unit_ids


def relabeled_spike_positions(spikes: np.ndarray, old_to_new: np.ndarray, keep: np.ndarray | None = None
                               ) -> np.ndarray:
    """Where each spike lands in the spike vector of a sorting whose units are relabeled (a merge,
    a selection): spikes keep their order, those of dropped units (or not in ``keep``) are removed.

    Parameters
    ----------
    spikes : np.ndarray
        The old spike vector.
    old_to_new : np.ndarray
        New unit index of each old unit (-1: the unit is dropped).
    keep : np.ndarray, optional
        bool per spike: spikes dropped otherwise (e.g. censored).

    Returns
    -------
    np.ndarray
        int64 index of each old spike in the new spike vector, -1 for a dropped spike.
    """
    return positions_after_relabeling(spikes, np.asarray(old_to_new, dtype="int64")[spikes["unit_index"]], keep)


def positions_after_relabeling(spikes: np.ndarray, new_units: np.ndarray, keep: np.ndarray | None = None
                               ) -> np.ndarray:
    """Where each spike lands when it gets the unit index ``new_units[i]`` (-1: dropped); see
    :func:`relabeled_spike_positions` (there units are relabeled whole, here spike by spike).

    Returns
    -------
    np.ndarray
        int64 index of each old spike in the new spike vector, -1 for a dropped spike.
    """
    new_units = np.asarray(new_units, dtype="int64")
    kept = new_units >= 0 if keep is None else (new_units >= 0) & np.asarray(keep, dtype=bool)
    positions = np.full(spikes.size, -1, dtype="int64")
    positions[kept] = np.arange(int(kept.sum()), dtype="int64")
    return positions


def set_properties_after_merging(sorting_post_merge: BaseSorting, sorting_pre_merge: BaseSorting,
                                 merge_unit_groups, new_unit_ids) -> None:
    """Carry the properties over to the merged sorting (see the module docstring), and set ``is_merged``.

    Parameters
    ----------
    sorting_post_merge, sorting_pre_merge : BaseSorting
    merge_unit_groups : list of lists
    new_unit_ids : list
    """
    pre_ids, post_ids = sorting_pre_merge.unit_ids, sorting_post_merge.unit_ids
    untouched = post_ids[np.isin(post_ids, pre_ids) & ~np.isin(post_ids, np.asarray(new_unit_ids))]
    keep_pre = sorting_pre_merge.ids_to_indices(untouched)
    keep_post = sorting_post_merge.ids_to_indices(untouched)
    missing_values = {"f": np.nan, "O": None, "S": "", "U": ""}
    counts = sorting_pre_merge.count_num_spikes_per_unit()
    for key in sorting_pre_merge.get_property_keys():
        parent = np.asarray(sorting_pre_merge.get_property(key))
        values = np.empty((post_ids.size,) + parent.shape[1:], dtype=parent.dtype)
        values[keep_post] = parent[keep_pre]
        skip = False
        for new_id, group in zip(new_unit_ids, merge_unit_groups):
            merged = parent[sorting_pre_merge.ids_to_indices(group)]
            target = sorting_post_merge.id_to_index(new_id)
            if all(np.array_equal(m, merged[0]) for m in merged[1:]):
                values[target] = merged[0]
            elif key == "main_channel_id":
                values[target] = merged[int(np.argmax([counts[u] for u in group]))]
            elif parent.dtype.kind in missing_values:
                values[target] = missing_values[parent.dtype.kind]
            else:
                skip = True
                break
        if not skip:
            sorting_post_merge.set_property(key, values)
    is_merged = np.ones(post_ids.size, dtype=bool)
    is_merged[keep_post] = False
    sorting_post_merge.set_property("is_merged", is_merged)


__all__ = ["apply_merges_to_sorting", "merge_spike_vector", "relabeled_spike_positions", "positions_after_relabeling",
           "generate_unit_ids_for_merge_group", "get_ids_after_merging", "set_properties_after_merging"]
