"""Random spike selection, as SpikeInterface's "uniform" random spikes (same seed, same spikes)."""
from __future__ import annotations

import numpy as np

from .sorting import BaseSorting
from .sorting_tools import stable_group_order

__all__ = ["select_random_spikes"]


def select_random_spikes(sorting: BaseSorting, max_spikes_per_unit: int | None, seed: int | None = None
                         ) -> np.ndarray:
    """Indices into ``sorting.to_spike_vector()`` of at most ``max_spikes_per_unit`` spikes per unit.

    Units are visited in order and each draws ``rng.choice(..., replace=False, shuffle=False)``
    from ``numpy.random.default_rng(seed)`` over its spikes (segment then time order), the
    selection rule of SpikeInterface's "uniform" random spikes, so the same seed selects the
    same spikes in both tools. ``None`` keeps every spike.

    Parameters
    ----------
    sorting : BaseSorting
        The spikes.
    max_spikes_per_unit : int or None
        Spikes kept per unit (all of a unit's spikes when it has fewer); None keeps every spike.
    seed : int, optional
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    np.ndarray
        int64 indices into ``sorting.to_spike_vector()``, increasing.
    """
    spikes = sorting.to_spike_vector()
    if max_spikes_per_unit is None:
        return np.arange(spikes.size, dtype="int64")
    if max_spikes_per_unit < 1:
        raise ValueError(f"max_spikes_per_unit={max_spikes_per_unit}: give an int >= 1 or None (all spikes)")
    rng = np.random.default_rng(seed)
    order = stable_group_order(spikes["unit_index"], sorting.get_num_units())
    bounds = np.searchsorted(spikes["unit_index"][order], np.arange(sorting.get_num_units() + 1))
    selected = []
    for u in range(sorting.get_num_units()):
        candidates = order[bounds[u]:bounds[u + 1]]
        selected.append(rng.choice(candidates, size=min(max_spikes_per_unit, candidates.size), replace=False,
                                   shuffle=False))
    return np.sort(np.concatenate(selected)).astype("int64") if selected else np.zeros(0, "int64")
