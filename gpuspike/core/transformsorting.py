"""TransformSorting: a sorting plus added spikes (of existing or new units), which it keeps track of."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .numpyextractors import NumpySorting, NumpySortingSegment
from .sorting import BaseSorting, spike_dtype


def _as_spikes(spikes, name: str) -> np.ndarray:
    if spikes is None or len(spikes) == 0:
        return np.zeros(0, spike_dtype)
    spikes = np.asarray(spikes)
    if spikes.dtype.names is None or any(n not in spikes.dtype.names for n in spike_dtype.names):
        raise TypeError(f"{name} must be a spike vector (fields sample_index, unit_index, segment_index)")
    out = np.zeros(spikes.size, spike_dtype)
    for n in spike_dtype.names:
        out[n] = spikes[n]
    return out


class TransformSorting(BaseSorting):
    """A sorting with spikes added to its units and/or to new units (added spikes are tracked).

    Parameters
    ----------
    sorting : BaseSorting
    added_spikes_existing_units : np.ndarray, optional
        Spike vector of spikes added to units of ``sorting``.
    added_spikes_new_units : np.ndarray, optional
        Spike vector of spikes of new units (unit_index counts on after the existing units).
    new_unit_ids : list, optional
        Ids of the new units (same type as the existing ids).
    refractory_period_ms : float, optional
        Drop added spikes of existing units that come within this period after another spike.
    """

    def __init__(self, sorting: BaseSorting, added_spikes_existing_units=None, added_spikes_new_units=None,
                 new_unit_ids: Sequence | None = None, refractory_period_ms: float | None = None) -> None:
        unit_ids = list(sorting.unit_ids.tolist())
        new_unit_ids = [] if new_unit_ids is None else list(np.asarray(new_unit_ids).tolist())
        clash = [u for u in new_unit_ids if u in set(unit_ids)]
        if clash:
            raise ValueError(f"new_unit_ids {clash} are already unit ids; give their spikes in "
                             f"added_spikes_existing_units")
        if new_unit_ids and unit_ids and type(new_unit_ids[0]) is not type(unit_ids[0]):
            raise TypeError(f"new_unit_ids must have the type of the unit ids ({type(unit_ids[0]).__name__})")
        super().__init__(sorting.sampling_frequency, unit_ids + new_unit_ids)
        self.parent_unit_ids = sorting.unit_ids
        existing = _as_spikes(added_spikes_existing_units, "added_spikes_existing_units")
        new = _as_spikes(added_spikes_new_units, "added_spikes_new_units")
        base = sorting.to_spike_vector()
        vector = np.concatenate([base, existing, new])
        from_existing = np.concatenate([np.zeros(base.size, bool), np.ones(existing.size, bool),
                                        np.zeros(new.size, bool)])
        from_new = np.concatenate([np.zeros(base.size + existing.size, bool), np.ones(new.size, bool)])
        order = np.lexsort((vector["sample_index"], vector["segment_index"]))
        vector, from_existing, from_new = vector[order], from_existing[order], from_new[order]
        if refractory_period_ms is not None:
            keep = self._refractory_keep(vector, from_existing, refractory_period_ms)
            vector, from_existing, from_new = vector[keep], from_existing[keep], from_new[keep]
        self.added_spikes_from_existing_mask = from_existing
        self.added_spikes_from_new_mask = from_new
        self.refractory_period_ms = refractory_period_ms
        num_segments = sorting.get_num_segments()
        bounds = np.searchsorted(vector["segment_index"], np.arange(num_segments + 1))
        for seg in range(num_segments):
            self.add_segment(NumpySortingSegment(vector[bounds[seg]:bounds[seg + 1]], self.unit_ids))
        self._cached_spike_vector = vector
        self._parent = sorting
        self._kwargs = {"sorting": sorting, "added_spikes_existing_units": existing,
                        "added_spikes_new_units": new, "new_unit_ids": new_unit_ids,
                        "refractory_period_ms": refractory_period_ms}

    def _refractory_keep(self, vector, from_existing, refractory_period_ms) -> np.ndarray:
        rpv = int(self.sampling_frequency * refractory_period_ms / 1000)
        keep = ~from_existing
        for seg in np.unique(vector["segment_index"]):
            for unit in np.unique(vector["unit_index"]):
                idx = np.flatnonzero((vector["unit_index"] == unit) & (vector["segment_index"] == seg))
                keep[idx[1:]] |= np.diff(vector["sample_index"][idx]) > rpv
        return keep

    @property
    def added_spikes_mask(self) -> np.ndarray:
        """True for every added spike (of the spike vector)."""
        return self.added_spikes_from_existing_mask | self.added_spikes_from_new_mask

    def get_added_spikes_indices(self) -> np.ndarray:
        """Positions of the added spikes in the spike vector.

        Returns
        -------
        np.ndarray
        """
        return np.flatnonzero(self.added_spikes_mask)

    def get_added_spikes_from_existing_indices(self) -> np.ndarray:
        """Positions of the spikes added to existing units.

        Returns
        -------
        np.ndarray
        """
        return np.flatnonzero(self.added_spikes_from_existing_mask)

    def get_added_spikes_from_new_indices(self) -> np.ndarray:
        """Positions of the spikes of new units.

        Returns
        -------
        np.ndarray
        """
        return np.flatnonzero(self.added_spikes_from_new_mask)

    def get_added_units_inds(self) -> np.ndarray:
        """Ids of the new units.

        Returns
        -------
        np.ndarray
        """
        return self.unit_ids[len(self.parent_unit_ids):]

    @staticmethod
    def add_from_sorting(sorting1: BaseSorting, sorting2: BaseSorting,
                         refractory_period_ms: float | None = None) -> "TransformSorting":
        """``sorting1`` plus the spikes of ``sorting2`` (units with a common id merge, others are new).

        Parameters
        ----------
        sorting1, sorting2 : BaseSorting
        refractory_period_ms : float, optional

        Returns
        -------
        TransformSorting
        """
        if sorting1.sampling_frequency != sorting2.sampling_frequency:
            raise ValueError(f"sampling frequencies differ: {sorting1.sampling_frequency} and "
                             f"{sorting2.sampling_frequency}")
        common = np.isin(sorting2.unit_ids, sorting1.unit_ids)
        exclusive_ids = sorting2.unit_ids[~common]
        remap = np.empty(sorting2.get_num_units(), dtype="int64")
        remap[common] = sorting1.ids_to_indices(sorting2.unit_ids[common])
        remap[~common] = sorting1.get_num_units() + np.arange(exclusive_ids.size)
        spikes = sorting2.to_spike_vector().copy()
        from_existing = common[spikes["unit_index"]] if spikes.size else np.zeros(0, bool)
        spikes["unit_index"] = remap[spikes["unit_index"]] if spikes.size else spikes["unit_index"]
        return TransformSorting(sorting1, added_spikes_existing_units=spikes[from_existing],
                                added_spikes_new_units=spikes[~from_existing], new_unit_ids=exclusive_ids,
                                refractory_period_ms=refractory_period_ms)

    @staticmethod
    def add_from_unit_dict(sorting1: BaseSorting, units_dict_list, refractory_period_ms: float | None = None
                           ) -> "TransformSorting":
        """``sorting1`` plus spikes given as ``{unit_id: frames}`` (a list of dicts, one per segment)."""
        sorting2 = NumpySorting.from_unit_dict(units_dict_list, sorting1.sampling_frequency)
        return TransformSorting.add_from_sorting(sorting1, sorting2, refractory_period_ms)

    @staticmethod
    def from_samples_and_labels(sorting1: BaseSorting, times_list, labels_list, sampling_frequency: float,
                                unit_ids: Sequence | None = None, refractory_period_ms: float | None = None
                                ) -> "TransformSorting":
        """``sorting1`` plus spikes given as frames and labels (one array each, or one per segment)."""
        sorting2 = NumpySorting.from_samples_and_labels(times_list, labels_list, sampling_frequency, unit_ids)
        return TransformSorting.add_from_sorting(sorting1, sorting2, refractory_period_ms)


def add_synchrony_to_sorting(sorting: BaseSorting, sync_event_ratio: float = 0.3,
                             seed: int | None = None) -> TransformSorting:
    """Add synchronous spikes: copies of random spikes given to other units at the same sample.

    Parameters
    ----------
    sorting : BaseSorting
    sync_event_ratio : float
        Added spikes as a fraction of the sorting's spikes (0.5: 1.5 times as many spikes).
    seed : int, optional

    Returns
    -------
    TransformSorting
        With the added spikes tracked (``get_added_spikes_indices``).
    """
    if sync_event_ratio < 0:
        raise ValueError(f"sync_event_ratio={sync_event_ratio}: give a ratio >= 0")
    rng = np.random.default_rng(seed)
    spikes = sorting.to_spike_vector()
    picked = rng.choice(spikes, size=int(spikes.size * sync_event_ratio), replace=True) if spikes.size \
        else np.zeros(0, spike_dtype)
    num_units = sorting.get_num_units()
    used: dict = {}
    keep = np.zeros(picked.size, dtype=bool)
    new_units = np.zeros(picked.size, dtype="int64")
    for k, spike in enumerate(picked):
        key = (int(spike["segment_index"]), int(spike["sample_index"]))
        taken = used.setdefault(key, {int(spike["unit_index"])})
        free = [u for u in range(num_units) if u not in taken]
        if not free:
            continue
        new_units[k] = rng.choice(free)
        taken.add(int(new_units[k]))
        keep[k] = True
    added = picked[keep].copy()
    added["unit_index"] = new_units[keep]
    added = added[np.lexsort((added["sample_index"], added["segment_index"]))]
    return TransformSorting(sorting, added_spikes_existing_units=added)
