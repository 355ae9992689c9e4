"""Spike-vector tools: per-unit trains and indices, grouping and renumbering, random spike selection,
period selection."""
from __future__ import annotations

import importlib.util
import warnings
from typing import Sequence

import numpy as np

#: numba's module spec (SpikeInterface's sorting_tools tests it; numba is a gpuspike dependency)
numba_spec = importlib.util.find_spec("numba")

#: a period of a segment: [start_sample_index, end_sample_index)
base_period_dtype = [("segment_index", "int64"), ("start_sample_index", "int64"), ("end_sample_index", "int64")]
#: a period of one unit
unit_period_dtype = base_period_dtype + [("unit_index", "int64")]

_SELECTION_METHODS = ("uniform", "all", "percentage", "maximum_rate")

#: SpikeInterface's flag for its numba paths; numba is always installed with gpuspike, and these tools
#: give the same results whatever its value (kept for code that patches it)
HAVE_NUMBA = True


#: From this many keys on, spikes are grouped by the compiled counting sort
#: (:func:`gpuspike.kernels.grouping.counting_group_order`, about twice as fast as NumPy's radix sort and gather
#: for 5 M spikes); below it NumPy's sort takes milliseconds and numba is not imported for it.
COUNTING_SORT_MIN_KEYS = 1 << 20


def _keys_in_range(keys: np.ndarray, num_groups: int) -> bool:
    return bool(keys.size and num_groups > 0 and keys.min() >= 0 and keys.max() < num_groups)


def stable_group_order(group_indices: np.ndarray, num_groups: int) -> np.ndarray:
    """``np.argsort(group_indices, kind="stable")`` as int64: a counting sort when every index is in
    ``[0, num_groups)`` and there are many (:data:`COUNTING_SORT_MIN_KEYS`), else numpy's stable
    sort on the narrowest integer key (a linear radix sort on keys of 16 bits or fewer).

    Parameters
    ----------
    group_indices : np.ndarray
        Integers (unit indices, say).
    num_groups : int

    Returns
    -------
    np.ndarray
    """
    keys = np.asarray(group_indices)
    if _keys_in_range(keys, num_groups):
        if keys.ndim == 1 and keys.size >= COUNTING_SORT_MIN_KEYS and keys.dtype.kind in "iu":
            from gpuspike.kernels.grouping import counting_group_order

            return counting_group_order(keys, num_groups, np.empty(keys.size, "int64"), checked=True)
        keys = keys.astype(np.min_scalar_type(num_groups - 1), copy=False)
    return np.argsort(keys, kind="stable").astype("int64", copy=False)


def _split_by_unit(values: np.ndarray, unit_indices: np.ndarray, num_units: int) -> list[np.ndarray]:
    order = stable_group_order(unit_indices, num_units)
    bounds = np.searchsorted(unit_indices[order], np.arange(num_units + 1))
    return [values[order[bounds[u]:bounds[u + 1]]] for u in range(num_units)]


def spike_vector_to_spike_trains(spike_vector: Sequence[np.ndarray], unit_ids: np.ndarray) -> dict:
    """Spike trains of every unit of every segment.

    Parameters
    ----------
    spike_vector : list of np.ndarray
        One spike vector per segment (``sorting.to_spike_vector(concatenated=False)``).
    unit_ids : np.ndarray

    Returns
    -------
    dict
        ``{segment_index: {unit_id: sample indices (int64, in time order)}}``.
    """
    unit_ids = np.asarray(unit_ids)
    trains = {}
    for segment_index, spikes in enumerate(spike_vector):
        samples = np.asarray(spikes["sample_index"], dtype="int64")
        per_unit = _split_by_unit(samples, np.asarray(spikes["unit_index"], dtype="int64"), unit_ids.size)
        trains[segment_index] = dict(zip(unit_ids.tolist(), per_unit))
    return trains


def spike_vector_to_indices(spike_vector: Sequence[np.ndarray], unit_ids: np.ndarray,
                            absolute_index: bool = False) -> dict:
    """Positions of every unit's spikes in the spike vector, per segment.

    Parameters
    ----------
    spike_vector : list of np.ndarray
        One spike vector per segment.
    unit_ids : np.ndarray
    absolute_index : bool
        Positions in the concatenated vector (else within each segment's vector).

    Returns
    -------
    dict
        ``{segment_index: {unit_id: positions (int64)}}``.
    """
    unit_ids = np.asarray(unit_ids)
    out, offset = {}, 0
    for segment_index, spikes in enumerate(spike_vector):
        positions = np.arange(spikes.size, dtype="int64") + (offset if absolute_index else 0)
        offset += spikes.size
        per_unit = _split_by_unit(positions, np.asarray(spikes["unit_index"], dtype="int64"), unit_ids.size)
        out[segment_index] = dict(zip(unit_ids.tolist(), per_unit))
    return out


def random_spikes_selection(sorting, num_samples: Sequence[int] | None = None, method: str = "uniform",
                            max_spikes_per_unit: int = 500, margin_size: int | None = None, seed: int | None = None,
                            percentage: float | None = None, maximum_rate: float | None = None) -> np.ndarray:
    """Indices into ``sorting.to_spike_vector()`` of randomly selected spikes of every unit.

    Units are visited in order; each draws ``rng.choice(..., replace=False, shuffle=False)``
    from ``numpy.random.default_rng(seed)`` over its spikes (SpikeInterface's rule, so the same
    seed selects the same spikes in both).

    Parameters
    ----------
    sorting : BaseSorting
    num_samples : list of int, optional
        Samples per segment (needed with ``margin_size``; also the duration for "maximum_rate").
    method : {"uniform", "all", "percentage", "maximum_rate"}
        At most ``max_spikes_per_unit`` spikes; every spike; a ``percentage`` (0, 1] of each
        unit's spikes; at most ``maximum_rate`` spikes per second of recording.
    max_spikes_per_unit : int
    margin_size : int, optional
        Skip spikes closer than this to a segment edge.
    seed : int, optional
    percentage : float, optional
    maximum_rate : float, optional

    Returns
    -------
    np.ndarray (int64)
        Sorted indices.
    """
    if method not in _SELECTION_METHODS:
        raise ValueError(f"method={method!r}: allowed values are {_SELECTION_METHODS}")
    spikes = sorting.to_spike_vector()
    if method == "all":
        return np.arange(spikes.size, dtype="int64")
    if method == "percentage" and (percentage is None or not 0 < percentage <= 1):
        raise ValueError(f"percentage={percentage!r}: give a fraction in (0, 1]")
    if method == "maximum_rate" and maximum_rate is None:
        raise ValueError("method='maximum_rate' needs maximum_rate= (spikes per second)")
    if margin_size is not None and num_samples is None:
        raise ValueError("margin_size needs num_samples (the samples of each segment)")
    rng = np.random.default_rng(seed)
    candidates_all = np.arange(spikes.size, dtype="int64")
    if margin_size is not None:
        sizes = np.asarray(num_samples, dtype="int64")[spikes["segment_index"]]
        inside = (spikes["sample_index"] >= margin_size) & (spikes["sample_index"] < sizes - margin_size)
        candidates_all = candidates_all[inside]
    per_unit = _split_by_unit(candidates_all, spikes["unit_index"][candidates_all], sorting.get_num_units())
    if method == "maximum_rate":
        if num_samples is not None:
            duration = float(np.sum(num_samples)) / sorting.sampling_frequency
        else:
            duration = sum(sorting.get_num_samples(i) for i in range(sorting.get_num_segments())) / \
                sorting.sampling_frequency
    selected = []
    for candidates in per_unit:
        if method == "uniform":
            size = min(max_spikes_per_unit, candidates.size)
        elif method == "percentage":
            size = min(max_spikes_per_unit, int(candidates.size * percentage))
        else:
            size = min(int(duration * maximum_rate), max_spikes_per_unit, candidates.size)
        selected.append(rng.choice(candidates, size=size, replace=False, shuffle=False))
    return np.sort(np.concatenate(selected)).astype("int64") if selected else np.zeros(0, "int64")


def cast_periods_to_unit_period_dtype(periods) -> np.ndarray:
    """Periods as a structured array of :data:`unit_period_dtype`.

    Parameters
    ----------
    periods : np.ndarray
        Structured, with (at least) the fields of :data:`unit_period_dtype`; or ``(num_periods, 4)``
        read as (segment_index, start_sample_index, end_sample_index, unit_index), with a warning.

    Returns
    -------
    np.ndarray

    Raises
    ------
    ValueError
        Another shape, or fields missing.
    """
    if not isinstance(periods, np.ndarray):
        raise TypeError(f"periods must be a numpy array, got {type(periods).__name__}")
    if periods.dtype.names is None:
        if periods.ndim != 2 or periods.shape[1] != 4:
            raise ValueError(f"periods has shape {periods.shape}: give a structured array of unit_period_dtype or "
                             f"an (num_periods, 4) array (segment_index, start_sample_index, end_sample_index, "
                             f"unit_index)")
        warnings.warn("periods is not of unit_period_dtype: reading its columns as (segment_index, "
                      "start_sample_index, end_sample_index, unit_index)", UserWarning, stacklevel=3)
        out = np.zeros(periods.shape[0], dtype=unit_period_dtype)
        for k, name in enumerate(out.dtype.names):
            out[name] = periods[:, k]
        return out
    missing = set(np.dtype(unit_period_dtype).names) - set(periods.dtype.names)
    if missing:
        raise ValueError(f"periods lacks the fields {sorted(missing)} of unit_period_dtype")
    return periods


def reorder_spike_vector_by_unit_and_segment(spike_vector, num_units: int, num_segments: int,
                                             unit_major: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The spike vector grouped by (unit, segment) (``unit_major``) or (segment, unit), each group
    keeping the vector's order (so its spikes stay in time order).

    Parameters
    ----------
    spike_vector : np.ndarray
        Structured, with ``unit_index`` and ``segment_index`` fields (others are carried along).
    num_units, num_segments : int
    unit_major : bool
        True: group ``u * num_segments + s`` comes before ``u * num_segments + s + 1``; False:
        ``s * num_units + u``.

    Returns
    -------
    ordered : np.ndarray
        ``spike_vector[order]``.
    order : np.ndarray
        int64.
    counts : np.ndarray
        int64, the number of spikes of each group, in group order (``num_units * num_segments``).

    Raises
    ------
    ValueError
        A negative count, or a unit or segment index outside its range.
    """
    spikes = np.asarray(spike_vector)
    num_units, num_segments = int(num_units), int(num_segments)
    if num_units < 0 or num_segments < 0:
        raise ValueError(f"num_units={num_units}, num_segments={num_segments}: they must not be negative")
    num_groups = num_units * num_segments
    if spikes.size == 0:
        return spikes[:0].copy(), np.zeros(0, "int64"), np.zeros(num_groups, "int64")
    units = spikes["unit_index"].astype("int64", copy=False)
    segments = spikes["segment_index"].astype("int64", copy=False)
    for name, values, bound in (("unit_index", units, num_units), ("segment_index", segments, num_segments)):
        low, high = int(values.min()), int(values.max())
        if low < 0 or high >= bound:
            raise ValueError(f"the spike vector's {name} spans [{low}, {high}], outside [0, {bound}) "
                             f"(num_units={num_units}, num_segments={num_segments})")
    if num_segments == 1:
        groups = units
    else:
        groups = units * num_segments + segments if unit_major else segments * num_units + units
    flat = _int64_columns(spikes)
    if flat is not None and groups.size >= COUNTING_SORT_MIN_KEYS:
        from gpuspike.kernels.grouping import counting_group_order

        grouped, starts = np.empty_like(flat), np.empty(num_groups + 1, "int64")
        order = counting_group_order(groups, num_groups, np.empty(groups.size, "int64"), rows=flat,
                                     out_rows=grouped, starts=starts, checked=True)
        return grouped.view(spikes.dtype).reshape(order.size), order, np.diff(starts)
    order = stable_group_order(groups, num_groups)
    counts = np.bincount(groups, minlength=num_groups).astype("int64", copy=False)
    return _take_rows(spikes, order), order, counts


def _int64_columns(vector: np.ndarray) -> np.ndarray | None:
    """A contiguous structured vector of int64 fields as an ``(n, fields)`` int64 view, else None."""
    fields = [vector.dtype.fields[name][0] for name in vector.dtype.names]
    if vector.dtype.itemsize == 8 * len(fields) and all(f == np.dtype("int64") for f in fields) \
            and vector.flags.c_contiguous:
        return vector.view(np.int64).reshape(vector.size, len(fields))
    return None


def _take_rows(vector: np.ndarray, order: np.ndarray) -> np.ndarray:
    """``vector[order]`` for a structured vector: through an integer view when every field is an
    int64 (a third of the time of a structured gather), else with ``np.take`` (half of it)."""
    flat = _int64_columns(vector)
    if flat is not None:
        return np.take(flat, order, axis=0).view(vector.dtype).reshape(order.size)
    return np.take(vector, order)


def remap_unit_indices_in_vector(vector: np.ndarray, all_old_unit_ids, all_new_unit_ids,
                                 keep_old_unit_ids=None) -> tuple[np.ndarray, np.ndarray]:
    """A spike (or period) vector whose ``unit_index`` counts in ``all_new_unit_ids``: the rows of
    units kept (in ``keep_old_unit_ids``, default all, and in ``all_new_unit_ids``) renumbered, the
    others dropped.

    Parameters
    ----------
    vector : np.ndarray
        Structured, with a ``unit_index`` field (positions in ``all_old_unit_ids``).
    all_old_unit_ids, all_new_unit_ids : array-like
        Distinct ids.
    keep_old_unit_ids : array-like, optional
        The old units to keep (units merged or split away are left out).

    Returns
    -------
    new_vector : np.ndarray
        The kept rows (a copy), renumbered.
    keep_mask : np.ndarray
        bool over ``vector``: the rows kept.

    Raises
    ------
    ValueError
        Repeated ids.
    """
    old_ids, new_ids = np.asarray(all_old_unit_ids), np.asarray(all_new_unit_ids)
    for name, ids in (("all_old_unit_ids", old_ids), ("all_new_unit_ids", new_ids)):
        if np.unique(ids).size != ids.size:
            raise ValueError(f"{name} has repeated ids: {ids.tolist()}")
    keep_ids = old_ids if keep_old_unit_ids is None else np.asarray(keep_old_unit_ids)
    kept_units = np.isin(old_ids, keep_ids) & np.isin(old_ids, new_ids)
    position = {unit_id: k for k, unit_id in enumerate(new_ids.tolist())}
    mapping = np.full(old_ids.size, -1, dtype="int64")
    for k in np.flatnonzero(kept_units):
        mapping[k] = position[old_ids[k].item()]
    keep_mask = kept_units[vector["unit_index"]]
    new_vector = vector[keep_mask]
    new_vector["unit_index"] = mapping[new_vector["unit_index"]]
    return new_vector, keep_mask


def vector_to_list_of_spiketrain_numpy(sample_indices: np.ndarray, unit_indices: np.ndarray,
                                       num_units: int) -> list[np.ndarray]:
    """The spike trains of one segment, one array per unit index, in the vector's order.

    Parameters
    ----------
    sample_indices, unit_indices : np.ndarray
        Of one segment's spikes.
    num_units : int

    Returns
    -------
    list of np.ndarray
    """
    return _split_by_unit(np.asarray(sample_indices), np.asarray(unit_indices), int(num_units))


def _int64_spike_trains(sample_indices, unit_indices, num_units) -> list[np.ndarray]:
    return [train.astype("int64", copy=False)
            for train in vector_to_list_of_spiketrain_numpy(sample_indices, unit_indices, num_units)]


def get_numba_vector_to_list_of_spiketrain():
    """SpikeInterface's accessor of its compiled ``vector_to_list_of_spiketrain(sample_indices,
    unit_indices, num_units)`` (one segment's int64 spike trains, one per unit index), kept for code
    that calls it: here the grouping is :func:`stable_group_order`'s, with the same results.

    Returns
    -------
    callable
    """
    return _int64_spike_trains


def _reorder_flat_spike_vector(in_flat, unit_stride, segment_stride, num_buckets, out_flat, order, counts) -> bool:
    keys = in_flat[:, 1] * int(unit_stride) + in_flat[:, 2] * int(segment_stride)
    if keys.size and (keys.min() < 0 or keys.max() >= num_buckets):
        return False
    from gpuspike.kernels.grouping import counting_group_order

    starts = np.empty(int(num_buckets) + 1, "int64")
    counting_group_order(keys, int(num_buckets), order, rows=in_flat, out_rows=out_flat, starts=starts, checked=True)
    counts[:] = np.diff(starts)
    return True


def get_numba_reorder_spike_vector():
    """SpikeInterface's accessor of its compiled counting sort ``reorder(in_flat, unit_stride,
    segment_stride, num_buckets, out_flat, order, counts) -> bool`` (a spike vector viewed as
    ``(n, fields)`` int64, grouped by ``unit_index * unit_stride + segment_index * segment_stride``;
    False when a group falls outside ``[0, num_buckets)``), kept for code that calls it: here
    gpuspike's counting sort (:func:`gpuspike.kernels.grouping.counting_group_order`).

    Returns
    -------
    callable
    """
    return _reorder_flat_spike_vector


def select_sorting_periods_mask(sorting, periods) -> np.ndarray:
    """Which spikes of the sorting's spike vector fall inside their unit's periods ([start, end) samples).

    Parameters
    ----------
    sorting : BaseSorting
    periods : np.ndarray
        Structured array of :data:`unit_period_dtype`, or an (num_periods, 4) array.

    Returns
    -------
    np.ndarray
        Bool mask over ``sorting.to_spike_vector()``.
    """
    periods = cast_periods_to_unit_period_dtype(periods)
    spikes = sorting.to_spike_vector()
    num_units, num_segments = len(sorting.unit_ids), sorting.get_num_segments()
    _, order, counts = reorder_spike_vector_by_unit_and_segment(spikes, num_units, num_segments)
    starts = np.concatenate([[0], np.cumsum(counts)])
    samples = spikes["sample_index"][order]  # sample-ascending inside each (unit, segment) group
    keep = np.zeros(spikes.size, dtype=bool)
    for period in periods:
        unit, segment = int(period["unit_index"]), int(period["segment_index"])
        if not (0 <= unit < num_units and 0 <= segment < num_segments):
            continue
        group = unit * num_segments + segment
        block = samples[starts[group]:starts[group + 1]]
        first, stop = np.searchsorted(block, [period["start_sample_index"], period["end_sample_index"]])
        keep[order[starts[group] + first:starts[group] + stop]] = True
    return keep


def select_sorting_periods(sorting, periods):
    """A sorting with, for each unit, only its spikes inside its periods ([start, end) samples).

    Parameters
    ----------
    sorting : BaseSorting
    periods : np.ndarray or None
        Structured array of :data:`unit_period_dtype`, or an (num_periods, 4) array. None keeps
        every spike (the sorting itself is returned).

    Returns
    -------
    BaseSorting
        A :class:`NumpySorting` with the same unit ids and metadata.
    """
    if periods is None:
        return sorting
    from .numpyextractors import NumpySorting

    keep = select_sorting_periods_mask(sorting, periods)
    selected = NumpySorting(sorting.to_spike_vector()[keep], sorting.sampling_frequency, sorting.unit_ids,
                            num_segments=sorting.get_num_segments())
    sorting.copy_metadata(selected)
    return selected


def __getattr__(name: str):
    # SpikeInterface keeps its merge and split tools in sorting_tools: the same names here
    if name in ("apply_merges_to_sorting", "generate_unit_ids_for_merge_group", "set_properties_after_merging",
                "_get_ids_after_merging"):
        from . import sorting_merges

        return getattr(sorting_merges, name)
    if name in ("apply_splits_to_sorting", "generate_unit_ids_for_split", "check_unit_splits_consistency",
                "set_properties_after_splits"):
        from . import sorting_splits

        return getattr(sorting_splits, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
