"""Spike-vector tools: per-unit trains and indices, random spike selection, period selection."""
from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np

#: a period of a segment: [start_sample_index, end_sample_index)
base_period_dtype = [("segment_index", "int64"), ("start_sample_index", "int64"), ("end_sample_index", "int64")]
#: a period of one unit
unit_period_dtype = base_period_dtype + [("unit_index", "int64")]

_SELECTION_METHODS = ("uniform", "all", "percentage", "maximum_rate")


def _split_by_unit(values: np.ndarray, unit_indices: np.ndarray, num_units: int) -> list[np.ndarray]:
    order = np.argsort(unit_indices, kind="stable")
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


def _as_unit_periods(periods) -> np.ndarray:
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
    periods = _as_unit_periods(periods)
    spikes = sorting.to_spike_vector()
    keep = np.zeros(spikes.size, dtype=bool)
    for period in periods:
        keep |= ((spikes["segment_index"] == period["segment_index"]) & (spikes["unit_index"] == period["unit_index"])
                 & (spikes["sample_index"] >= period["start_sample_index"])
                 & (spikes["sample_index"] < period["end_sample_index"]))
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
