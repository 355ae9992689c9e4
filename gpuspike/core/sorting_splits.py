"""Splitting units of a sorting: new ids, the split spike vector, and the units' properties.

SpikeInterface 0.105's rules: ``unit_splits`` maps a unit id to a list of at least two lists of
indices into that unit's spike train (all segments one after the other), which together hold
every spike of the unit; the new units replace the split one at the end of the unit ids, the
spikes keep their place, every property of a split unit goes to its parts, and ``is_split`` is
True for the parts.
"""
from __future__ import annotations

import warnings

import numpy as np

from .sorting import BaseSorting

_ID_STRATEGIES = ("append", "split")


def check_unit_splits_consistency(unit_splits: dict, sorting: BaseSorting) -> None:
    """Check that each split lists every spike of its unit once, in at least two parts.

    Parameters
    ----------
    unit_splits : dict
        ``{unit_id: [indices of part 0, indices of part 1, ...]}``.
    sorting : BaseSorting

    Raises
    ------
    ValueError
        A unit that is not in the sorting, fewer than two parts, indices out of range or repeated,
        or parts that do not hold every spike of the unit.
    """
    if not isinstance(unit_splits, dict):
        raise ValueError(f"unit_splits must be a dict {{unit_id: [indices, indices, ...]}}, got "
                         f"{type(unit_splits).__name__}")
    num_spikes = sorting.count_num_spikes_per_unit()
    for unit_id, parts in unit_splits.items():
        if unit_id not in num_spikes:
            raise ValueError(f"unit_splits: unit id {unit_id!r} is not in the sorting "
                             f"(units: {list(sorting.unit_ids)[:20]})")
        if not isinstance(parts, (list, tuple, np.ndarray)) or \
                not all(isinstance(p, (list, tuple, np.ndarray)) for p in parts):
            raise ValueError(f"unit_splits[{unit_id!r}] must be a list of lists (or arrays) of spike indices")
        if len(parts) < 2:
            raise ValueError(f"unit_splits[{unit_id!r}] must have at least two parts, got {len(parts)}")
        n = int(num_spikes[unit_id])
        indices = np.concatenate([np.asarray(p, dtype="int64").ravel() for p in parts])
        if indices.size != n or np.unique(indices).size != n or (n and (indices.min() < 0 or indices.max() >= n)):
            raise ValueError(f"unit_splits[{unit_id!r}]: the parts must hold each of the unit's {n} spikes "
                             f"(indices 0..{n - 1}) exactly once, got {indices.size} indices")


def generate_unit_ids_for_split(old_unit_ids, unit_splits: dict, new_unit_ids=None,
                                new_id_strategy: str = "append") -> list[list]:
    """Ids of the parts of each split unit.

    Parameters
    ----------
    old_unit_ids : array-like
    unit_splits : dict
    new_unit_ids : list of lists, optional
        Checked and returned: one list per split unit, one id per part, none of them an existing id.
    new_id_strategy : {"append", "split"}
        "append": after the largest id (``"<id>-split<i>"`` for non-numeric string ids); "split":
        ``"<id>-<i>"`` (integer ids fall back to "append" with a warning).

    Returns
    -------
    list of lists
    """
    if new_id_strategy not in _ID_STRATEGIES:
        raise ValueError(f"new_id_strategy={new_id_strategy!r}: allowed values are {list(_ID_STRATEGIES)}")
    old_unit_ids = np.asarray(old_unit_ids)
    if new_unit_ids is not None:
        if len(new_unit_ids) != len(unit_splits):
            raise ValueError(f"{len(new_unit_ids)} lists of new_unit_ids for {len(unit_splits)} split units")
        for (unit_id, parts), ids in zip(unit_splits.items(), new_unit_ids):
            if len(ids) != len(parts):
                raise ValueError(f"unit {unit_id!r} is split in {len(parts)} parts but has {len(ids)} new ids")
            taken = [i for i in ids if i in old_unit_ids]
            if taken:
                raise ValueError(f"new unit ids {taken} already exist in the sorting")
        return [list(ids) for ids in new_unit_ids]
    integer = old_unit_ids.dtype.kind in "iu"
    if integer and new_id_strategy == "split":
        warnings.warn("new_id_strategy 'split' needs string unit ids: using 'append'")
        new_id_strategy = "append"
    from .sorting_merges import ids_after_the_largest

    current = old_unit_ids
    result = []
    for unit_id, parts in unit_splits.items():
        ids = ids_after_the_largest(current, len(parts)) if new_id_strategy == "append" else None
        if ids is None:
            ids = [f"{unit_id}-{i}" if new_id_strategy == "split" else f"{unit_id}-split{i}"
                   for i in range(len(parts))]
        current = np.concatenate([current, np.asarray(ids, dtype=current.dtype if integer else None)])
        result.append(ids)
    return result


def get_ids_after_splitting(old_unit_ids, unit_splits: dict, new_unit_ids) -> np.ndarray:
    """Unit ids after the splits: the kept ones in their order, then each split unit's parts.

    Parameters
    ----------
    old_unit_ids : array-like
    unit_splits : dict
    new_unit_ids : list of lists

    Returns
    -------
    np.ndarray
    """
    old_unit_ids = np.asarray(old_unit_ids)
    ids = [u for u in old_unit_ids.tolist() if u not in unit_splits]
    for parts in new_unit_ids:
        ids.extend(parts)
    return np.array(ids, dtype="U" if old_unit_ids.dtype.kind == "U" else old_unit_ids.dtype)


def split_spike_vector(sorting: BaseSorting, unit_splits: dict, new_unit_ids=None, new_id_strategy: str = "append"):
    """:func:`apply_splits_to_sorting`, also telling where each old spike went.

    Returns
    -------
    tuple
        ``(split_sorting, positions, new_unit_ids)``: ``positions[i]`` is the index of old spike ``i``
        in the split sorting's spike vector (spikes keep their order, as in SpikeInterface).
    """
    from .numpyextractors import NumpySorting
    from .sorting_merges import positions_after_relabeling

    check_unit_splits_consistency(unit_splits, sorting)
    new_unit_ids = generate_unit_ids_for_split(sorting.unit_ids, unit_splits, new_unit_ids, new_id_strategy)
    all_ids = list(get_ids_after_splitting(sorting.unit_ids, unit_splits, new_unit_ids))
    old_ids = list(sorting.unit_ids)
    spikes = sorting.to_spike_vector().copy()
    new_index = {u: i for i, u in enumerate(all_ids)}
    old_index = {u: i for i, u in enumerate(old_ids)}
    old_to_new = np.array([new_index.get(u, -1) for u in old_ids], dtype="int64")
    new_units = old_to_new[spikes["unit_index"]]
    for (unit_id, parts), ids in zip(unit_splits.items(), new_unit_ids):
        rows = np.flatnonzero(spikes["unit_index"] == old_index[unit_id])  # the unit's train, all segments
        for part, part_id in zip(parts, ids):
            new_units[rows[np.asarray(part, dtype="int64")]] = new_index[part_id]
    positions = positions_after_relabeling(spikes, new_units)
    spikes["unit_index"] = new_units
    split = NumpySorting(spikes, sorting.sampling_frequency, np.asarray(all_ids),
                         num_segments=sorting.get_num_segments())
    set_properties_after_splits(split, sorting, list(unit_splits), new_unit_ids)
    return split, positions, new_unit_ids


def apply_splits_to_sorting(sorting: BaseSorting, unit_splits: dict, new_unit_ids=None, return_extra: bool = False,
                            new_id_strategy: str = "append"):
    """A new sorting (in memory) whose units ``unit_splits`` are split into parts.

    Parameters
    ----------
    sorting : BaseSorting
    unit_splits : dict
        ``{unit_id: [indices of part 0, indices of part 1, ...]}``: indices into the unit's spike
        train (all segments one after the other); the parts hold every spike of the unit once.
    new_unit_ids : list of lists, optional
        Ids of the parts, one list per split unit (see :func:`generate_unit_ids_for_split`).
    return_extra : bool
        Also return the new ids.
    new_id_strategy : {"append", "split"}

    Returns
    -------
    NumpySorting, or (NumpySorting, list of lists) with ``return_extra``
    """
    split, _, new_unit_ids = split_spike_vector(sorting, unit_splits, new_unit_ids, new_id_strategy)
    return (split, new_unit_ids) if return_extra else split


def parent_unit_indices(sorting_pre_split: BaseSorting, sorting_post_split: BaseSorting, split_unit_ids,
                        new_unit_ids) -> np.ndarray:
    """For each unit after the splits, the index of the unit it comes from before them (itself, or
    the unit it is a part of).

    Parameters
    ----------
    sorting_pre_split, sorting_post_split : BaseSorting
    split_unit_ids : list
    new_unit_ids : list of lists
        The parts of each split unit.

    Returns
    -------
    np.ndarray
        ``(num_units after,)`` int64.
    """
    post_ids = sorting_post_split.unit_ids
    source = np.full(post_ids.size, -1, dtype="int64")
    kept = np.isin(post_ids, sorting_pre_split.unit_ids)
    source[kept] = sorting_pre_split.ids_to_indices(post_ids[kept])
    for unit_id, ids in zip(split_unit_ids, new_unit_ids):
        source[sorting_post_split.ids_to_indices(list(ids))] = sorting_pre_split.id_to_index(unit_id)
    return source


def set_properties_after_splits(sorting_post_split: BaseSorting, sorting_pre_split: BaseSorting,
                                split_unit_ids, new_unit_ids) -> None:
    """Carry the properties over to the split sorting (the parts take their unit's values) and set
    ``is_split``.

    Parameters
    ----------
    sorting_post_split, sorting_pre_split : BaseSorting
    split_unit_ids : list
    new_unit_ids : list of lists
    """
    source = parent_unit_indices(sorting_pre_split, sorting_post_split, split_unit_ids, new_unit_ids)
    for key in sorting_pre_split.get_property_keys():
        sorting_post_split.set_property(key, np.asarray(sorting_pre_split.get_property(key))[source])
    parts = [u for ids in new_unit_ids for u in ids]
    post_ids = sorting_post_split.unit_ids
    sorting_post_split.set_property("is_split", np.isin(post_ids, np.asarray(parts, dtype=post_ids.dtype)))


__all__ = ["apply_splits_to_sorting", "split_spike_vector", "check_unit_splits_consistency",
           "generate_unit_ids_for_split", "get_ids_after_splitting", "parent_unit_indices",
           "set_properties_after_splits"]
