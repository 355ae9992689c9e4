"""Toy objects: random sortings, noise recordings and snippets, as SpikeInterface 0.105 generates them.

Everything is deterministic for a given ``seed`` (a seed is drawn and kept when None, so lazy
objects rebuild the same data from their dict). Noise recordings follow SpikeInterface's seeding
(one seed per segment drawn from ``seed``, then one noise block per seed or per (seed, block)),
so the same seed gives the same traces in both libraries. Ids are strings "0", "1", ...
"""
from __future__ import annotations

from math import ceil
from typing import Sequence

import numpy as np

from .base import string_ids
from .numpyextractors import NumpySorting
from .recording import BaseRecording, BaseRecordingSegment
from .sorting import BaseSorting, BaseSortingSegment, spike_dtype

_NOISE_STRATEGIES = ("tile_pregenerated", "on_the_fly")


def _ensure_seed(seed: int | None) -> int:
    """A concrete seed (drawn when None) so that lazy objects are reproducible and dumpable."""
    return int(np.random.default_rng().integers(0, 2**63)) if seed is None else int(seed)


def _resolve_rates(firing_rates, num_units: int, seed) -> np.ndarray:
    """Per-unit rates from a scalar, a per-unit array, or a ``(low, high)`` range drawn with ``seed``."""
    if isinstance(firing_rates, tuple):
        low, high = firing_rates
        return np.random.default_rng(seed).uniform(low, high, num_units)
    return _per_unit(firing_rates, num_units, "firing_rates")


# ---------------------------------------------------------------------- spike trains
def synthesize_poisson_spike_vector(num_units: int = 20, sampling_frequency: float = 30000.0, duration: float = 60.0,
                                    refractory_period_ms: float = 4.0, firing_rates=3.0, seed: int = 0):
    """Poisson spike trains (geometric inter-spike intervals plus a refractory period) of all units.

    The rate of the geometric draw is raised to ``r / (1 - r * refractory)`` so that the mean
    rate stays ``r`` despite the refractory period (Deger et al. 2012).

    Parameters
    ----------
    num_units : int
    sampling_frequency : float
    duration : float
        Seconds.
    refractory_period_ms : float
    firing_rates : float, array or (low, high)
    seed : int

    Returns
    -------
    spike_frames : np.ndarray (int64)
        Sorted by frame (then unit).
    unit_indices : np.ndarray
        Unit index of each spike.
    """
    rng = np.random.default_rng(seed)
    rates = _resolve_rates(firing_rates, num_units, seed)
    refractory_s = refractory_period_ms / 1000.0
    refractory_frames = int(refractory_s * sampling_frequency)
    if np.any(refractory_s >= 1.0 / rates):
        raise ValueError(f"refractory_period_ms={refractory_period_ms} is too long for firing_rates {rates.tolist()}")
    max_frames = int(duration * sampling_frequency) - 1
    p = float(np.max(rates / sampling_frequency)) if num_units else 0.0
    expected = ceil(max_frames * p)
    num_draws = expected + 4 * int(np.sqrt(expected * (1 - p)))
    p_modified = np.minimum(rates / (1 - rates * refractory_s) / sampling_frequency, 1.0)
    intervals = rng.geometric(p=p_modified[:, None], size=(num_units, num_draws))
    intervals[:, 1:] += refractory_frames
    frames = np.cumsum(intervals, axis=1).ravel()
    units = np.repeat(np.arange(num_units, dtype="uint16"), num_draws)
    keep = frames <= max_frames
    frames, units = frames[keep], units[keep]
    order = np.argsort(frames, kind="stable")
    return frames[order].astype("int64"), units[order]


def synthesize_random_firings(num_units: int = 20, sampling_frequency: float = 30000.0, duration: float = 60,
                              refractory_period_ms: float = 4.0, firing_rates=3.0, add_shift_shuffle: bool = False,
                              seed: int | None = None):
    """Random spike trains of one segment: ``int(rate * duration)`` spikes per unit (fewer when the
    refractory period removes some), uniformly placed, with a refractory period.

    Parameters
    ----------
    num_units : int
        Units.
    sampling_frequency : float
        Hz.
    duration : float
        Seconds.
    refractory_period_ms : float
        Shortest interval between two spikes of a unit.
    firing_rates : float, array or (low, high)
        Mean rate (Hz), one value or one per unit.
    add_shift_shuffle : bool
        Jitter half of the spikes by 1 to 20 refractory periods (a less flat autocorrelogram).
    seed : int, optional
        Seed of the trains.

    Returns
    -------
    times : np.ndarray (int64)
        Spike frames, sorted.
    labels : np.ndarray (int64)
        Unit index of each spike.
    """
    rng = np.random.default_rng(seed)
    rates = _resolve_rates(firing_rates, num_units, seed)
    refractory = int(refractory_period_ms / 1000.0 * sampling_frequency)
    segment_size = int(sampling_frequency * duration)
    times, labels = [], []
    for unit in range(num_units):
        wanted = int(rates[unit] * duration)
        frames = np.sort(rng.integers(0, segment_size, int(wanted + 10 * np.sqrt(wanted))))
        if add_shift_shuffle:
            some = rng.choice(frames.size, frames.size // 2, replace=False)
            x = rng.random(some.size)
            frames[some] += (refractory + 19 * refractory * x**2).astype("int64")
            frames = frames[(frames >= 0) & (frames < segment_size)]
        frames = np.delete(frames, np.flatnonzero(np.diff(frames) < refractory))
        if frames.size > wanted:
            frames = rng.choice(frames, wanted, replace=False)
        times.append(frames.astype("int64"))
        labels.append(np.full(frames.size, unit, dtype="int64"))
    times = np.concatenate(times) if times else np.zeros(0, "int64")
    labels = np.concatenate(labels) if labels else np.zeros(0, "int64")
    order = np.argsort(times, kind="stable")
    return times[order], labels[order]


def clean_refractory_period(times: np.ndarray, refractory_period: float) -> np.ndarray:
    """Sorted ``times`` without the spikes that follow the previous one by ``refractory_period`` or less.

    ``times`` and ``refractory_period`` must be in the same units. Removal is repeated until no
    interval is that short (as in SpikeInterface).

    Parameters
    ----------
    times : np.ndarray
    refractory_period : float
        In the units of ``times``.

    Returns
    -------
    np.ndarray
    """
    times = np.sort(np.asarray(times))
    while times.size > 1:
        short = np.flatnonzero(np.diff(times) <= refractory_period)
        if short.size == 0:
            break
        keep = np.ones(times.size, dtype=bool)
        keep[short + 1] = False
        times = times[keep]
    return times


def synthetize_spike_train_bad_isi(duration: float, baseline_rate: float, num_violations: int,
                                   violation_delta: float = 1e-5) -> np.ndarray:
    """A regular spike train (s) at ``baseline_rate`` plus ``num_violations`` spikes ``violation_delta``
    after its first spikes.

    Parameters
    ----------
    duration : float
        Seconds.
    baseline_rate : float
        Hz.
    num_violations : int
    violation_delta : float
        Seconds after a spike.

    Returns
    -------
    np.ndarray
        Increasing spike times in seconds.
    """
    train = np.cumsum(np.ones(int(duration * baseline_rate)) / baseline_rate)
    violations = train[:int(num_violations)] + violation_delta
    return np.sort(np.concatenate([train, violations[violations < duration]]))


synthesize_spike_train_bad_isi = synthetize_spike_train_bad_isi


def _sorting_spikes(num_units, sampling_frequency, durations, firing_rates, empty_units, refractory_period_ms,
                    add_spikes_on_borders, num_spikes_per_border, border_size_samples, seed) -> np.ndarray:
    rng = np.random.default_rng(seed)
    parts = []
    for seg, duration in enumerate(durations):
        num_samples = int(sampling_frequency * duration)
        frames, units = synthesize_poisson_spike_vector(num_units, sampling_frequency, duration, refractory_period_ms,
                                                        firing_rates, seed=seed + seg)
        if empty_units is not None:
            keep = ~np.isin(units, np.asarray(list(empty_units)).astype("int64"))
            frames, units = frames[keep], units[keep]
        part = np.zeros(frames.size, dtype=spike_dtype)
        part["sample_index"], part["unit_index"], part["segment_index"] = frames, units, seg
        if add_spikes_on_borders:
            border = np.zeros(2 * num_spikes_per_border, dtype=spike_dtype)
            border["segment_index"] = seg
            border["unit_index"] = rng.choice(num_units, size=2 * num_spikes_per_border, replace=True)
            border["sample_index"][:num_spikes_per_border] = rng.integers(0, border_size_samples,
                                                                          num_spikes_per_border)
            border["sample_index"][num_spikes_per_border:] = rng.integers(num_samples - border_size_samples,
                                                                          num_samples, num_spikes_per_border)
            part = np.concatenate([part, border])
            part = part[np.argsort(part["sample_index"], kind="stable")]
        parts.append(part)
    return np.concatenate(parts) if parts else np.zeros(0, spike_dtype)


class GeneratedSorting(NumpySorting):
    """A sorting of Poisson units with a refractory period, rebuilt from its parameters (dumpable).

    Parameters are those of :func:`generate_sorting`; ``unit_ids`` default to "0", "1", ...
    """

    _dumpable_class = True
    #: printed as SpikeInterface's generators' sorting prints (a NumpySorting)
    _display_class = "NumpySorting"

    def __init__(self, num_units: int = 5, sampling_frequency: float = 30000.0, durations: Sequence = (10.325, 3.5),
                 firing_rates=3.0, empty_units: Sequence | None = None, refractory_period_ms: float = 4.0,
                 seed: int = 0, unit_ids: Sequence | None = None, add_spikes_on_borders: bool = False,
                 num_spikes_per_border: int = 3, border_size_samples: int = 20,
                 t_starts: Sequence[float] | None = None) -> None:
        if num_units < 0:
            raise ValueError(f"num_units must be >= 0, got {num_units}")
        durations = [float(d) for d in durations]
        if t_starts is not None and len(t_starts) != len(durations):
            raise ValueError(f"t_starts has {len(t_starts)} values for {len(durations)} segments (durations)")
        rates = _resolve_rates(firing_rates, num_units, seed)
        unit_ids = string_ids(num_units) if unit_ids is None else np.asarray(unit_ids)
        spikes = _sorting_spikes(num_units, sampling_frequency, durations, rates, empty_units, refractory_period_ms,
                                 add_spikes_on_borders, num_spikes_per_border, border_size_samples, int(seed))
        num_samples = [int(sampling_frequency * d) for d in durations]
        super().__init__(spikes, sampling_frequency, unit_ids, num_segments=len(durations), num_samples=num_samples)
        if t_starts is not None:
            for segment, t_start in zip(self._segments, t_starts):
                segment._t_start = float(t_start)
        self._kwargs = {"num_units": num_units, "sampling_frequency": sampling_frequency, "durations": durations,
                        "firing_rates": rates, "empty_units": None if empty_units is None else list(empty_units),
                        "refractory_period_ms": refractory_period_ms, "seed": int(seed), "unit_ids": unit_ids,
                        "add_spikes_on_borders": add_spikes_on_borders, "num_spikes_per_border": num_spikes_per_border,
                        "border_size_samples": border_size_samples,
                        "t_starts": None if t_starts is None else [float(t) for t in t_starts]}


def synthesize_amplitude_factor(num_spikes: int, amplitude_factor: np.ndarray | None = None,
                                amplitude_std: float | None = None, seed=None) -> np.ndarray | None:
    """Per-spike amplitude factors for injected templates: ``amplitude_factor`` when given, else draws
    from a normal distribution of mean 1 and ``amplitude_std`` (None when neither is given).

    Parameters
    ----------
    num_spikes : int
    amplitude_factor : np.ndarray, optional
        ``(num_spikes,)`` factors, returned as they are.
    amplitude_std : float, optional
    seed : int or np.random.Generator, optional

    Returns
    -------
    np.ndarray or None

    Raises
    ------
    ValueError
        ``amplitude_factor`` not of shape ``(num_spikes,)``.
    """
    if amplitude_factor is not None:
        amplitude_factor = np.asarray(amplitude_factor)
        if amplitude_factor.shape != (num_spikes,):
            raise ValueError(f"amplitude_factor has shape {amplitude_factor.shape}, expected ({num_spikes},)")
        return amplitude_factor
    if amplitude_std:
        return np.random.default_rng(seed).normal(loc=1, scale=amplitude_std, size=num_spikes)
    return None


class SortingGeneratorSegment(BaseSortingSegment):
    """One segment of a :class:`SortingGenerator`: each unit's train drawn on request from its own seed
    (``unit_ids``, SpikeInterface's argument, name the units without a parent sorting; else the
    parent's are used)."""

    def __init__(self, num_units: int, sampling_frequency: float, duration: float, firing_rates: np.ndarray,
                 refractory_period_seconds: np.ndarray, seed: int, unit_ids=None, t_start: float | None = None) -> None:
        super().__init__(t_start)
        self._unit_indices = None if unit_ids is None else {u: i for i, u in enumerate(np.asarray(unit_ids).tolist())}
        self.sampling_frequency = float(sampling_frequency)
        self.duration = float(duration)
        self.num_samples = ceil(self.sampling_frequency * self.duration)
        self.firing_rates = firing_rates
        self.refractory_period_seconds = refractory_period_seconds
        self.segment_seed = int(seed)

    def get_num_samples(self) -> int:
        return self.num_samples

    def _unit_train(self, unit_index: int) -> np.ndarray:
        rng = np.random.default_rng(np.random.SeedSequence([self.segment_seed, unit_index]))
        rate = float(self.firing_rates[unit_index])
        refractory = float(self.refractory_period_seconds[unit_index])
        if rate <= 0:
            return np.zeros(0, dtype="int64")
        p = min(rate / (1.0 - rate * refractory) / self.sampling_frequency, 1.0)
        refractory_frames = int(refractory * self.sampling_frequency)
        expected = ceil(self.num_samples * rate / self.sampling_frequency)
        block = max(16, expected + 4 * int(np.sqrt(expected)))
        trains, last = [], -1 - refractory_frames  # the first spike has no refractory period before it
        while last < self.num_samples:
            intervals = rng.geometric(p=p, size=block) + refractory_frames
            frames = last + np.cumsum(intervals)
            trains.append(frames)
            last = int(frames[-1])
        train = np.concatenate(trains) - 1 if trains else np.zeros(0, dtype="int64")
        return train[train < self.num_samples].astype("int64")

    def get_unit_spike_train(self, unit_id, start_frame: int | None = None, end_frame: int | None = None) -> np.ndarray:
        if self._unit_indices is None:
            unit_index = self.parent_extractor.id_to_index(unit_id)
        else:
            unit_index = self._unit_indices[unit_id.item() if isinstance(unit_id, np.generic) else unit_id]
        train = self._unit_train(unit_index)
        low = 0 if start_frame is None else np.searchsorted(train, start_frame, side="left")
        high = train.size if end_frame is None else np.searchsorted(train, end_frame, side="left")
        return train[low:high]


class SortingGenerator(BaseSorting):
    """A sorting of Poisson units drawn lazily: each unit's spike train is generated when asked for,
    from its own seed (nothing is held in memory), as SpikeInterface 0.105's ``SortingGenerator``.

    Inter-spike intervals are geometric draws at the rate raised to ``r / (1 - r * refractory)`` plus
    the refractory period, so the mean rate stays ``r`` (as :func:`synthesize_poisson_spike_vector`).
    Every unit's train is the same on every call and in every process (SpikeInterface seeds each unit
    with ``hash(unit_id)``, which changes between Python processes).

    Parameters
    ----------
    num_units : int
    sampling_frequency : float
    durations : list of float
        Seconds per segment.
    firing_rates : float or np.ndarray
        Hz, one for all units or one per unit.
    refractory_period_ms : float or np.ndarray
        One for all units or one per unit.
    seed : int, optional
        Drawn and kept when None (the object rebuilds the same trains from its dict).

    Raises
    ------
    ValueError
        A refractory period at least as long as a unit's mean inter-spike interval, a negative rate,
        or per-unit values of the wrong length.
    """

    def __init__(self, num_units: int = 20, sampling_frequency: float = 30_000.0, durations: Sequence = (10.325, 3.5),
                 firing_rates=3.0, refractory_period_ms=4.0, seed: int | None = 0) -> None:
        num_units = int(num_units)
        if num_units < 0:
            raise ValueError(f"num_units must be >= 0, got {num_units}")
        unit_ids = [str(i) for i in range(num_units)]
        super().__init__(sampling_frequency, unit_ids)
        rates = _per_unit(firing_rates, num_units, "firing_rates")
        refractory_s = _per_unit(refractory_period_ms, num_units, "refractory_period_ms") / 1000.0
        if np.any(rates < 0):
            raise ValueError(f"firing_rates must not be negative, got {rates.min()}")
        if np.any(refractory_s * rates >= 1.0):
            raise ValueError(f"The given refractory period {refractory_period_ms} ms is too long for the firing rates "
                             f"{firing_rates} Hz (refractory_period_ms must be below 1000 / firing_rate)")
        seed = _ensure_seed(seed)
        self.num_units, self.num_segments = num_units, len(durations)
        self.firing_rates, self.durations = firing_rates, [float(d) for d in durations]
        self.refractory_period_seconds = refractory_s
        self.seed = seed
        for segment_index, duration in enumerate(self.durations):
            self.add_segment(SortingGeneratorSegment(num_units, sampling_frequency, duration, rates, refractory_s,
                                                     seed + segment_index))
        self._kwargs = {"num_units": num_units, "sampling_frequency": sampling_frequency, "durations": self.durations,
                        "firing_rates": firing_rates, "refractory_period_ms": refractory_period_ms, "seed": seed}


def _per_unit(values, num_units: int, name: str) -> np.ndarray:
    values = np.asarray(values, dtype="float64")
    if values.ndim == 0:
        return np.full(num_units, float(values))
    if values.shape != (num_units,):
        raise ValueError(f"{name} has {values.size} values for {num_units} units: give one value or one per unit")
    return values


def generate_sorting(num_units: int = 5, sampling_frequency: float = 30000.0, durations: Sequence = (10.325, 3.5),
                     firing_rates=3.0, empty_units: Sequence | None = None, refractory_period_ms: float = 4.0,
                     add_spikes_on_borders: bool = False, num_spikes_per_border: int = 3,
                     border_size_samples: int = 20, t_starts: Sequence[float] | None = None, seed: int | None = None,
                     firing_rate=None, refractory_period: float | None = None) -> BaseSorting:
    """A random sorting: Poisson units with a refractory period, unit ids "0", "1", ...

    Parameters
    ----------
    num_units : int
    sampling_frequency : float
    durations : list of float
        Seconds per segment (default ``[10.325, 3.5]``, as SpikeInterface).
    firing_rates : float, array or (low, high)
        Hz.
    empty_units : list of int, optional
        Indices of units left without spikes.
    refractory_period_ms : float
    add_spikes_on_borders : bool
        Add ``num_spikes_per_border`` spikes within ``border_size_samples`` of each segment edge.
    num_spikes_per_border, border_size_samples : int
    t_starts : list of float, optional
        Start time (s) of each segment.
    seed : int, optional
    firing_rate, refractory_period : optional
        The specification's names of ``firing_rates`` / ``refractory_period_ms``.

    Returns
    -------
    GeneratedSorting
    """
    if firing_rate is not None:
        firing_rates = firing_rate
    if refractory_period is not None:
        refractory_period_ms = refractory_period
    return GeneratedSorting(num_units, sampling_frequency, durations, firing_rates, empty_units, refractory_period_ms,
                            seed=_ensure_seed(seed), add_spikes_on_borders=add_spikes_on_borders,
                            num_spikes_per_border=num_spikes_per_border, border_size_samples=border_size_samples,
                            t_starts=t_starts)


def _next_int_ids(unit_ids: np.ndarray, count: int) -> list:
    as_int = unit_ids.astype(int) if unit_ids.dtype.kind in "iu" else None
    if as_int is None:
        if not np.all(np.char.isdigit(unit_ids.astype(str))):
            raise ValueError(f"unit ids {unit_ids.tolist()[:10]} are not integers (nor strings of integers): "
                             f"cannot number new units after them")
        as_int = unit_ids.astype(str).astype(int)
    start = int(as_int.max()) + 1 if as_int.size else 0
    new = list(range(start, start + count))
    return new if unit_ids.dtype.kind in "iu" else [str(i) for i in new]


def inject_some_duplicate_units(sorting: BaseSorting, num: int = 4, max_shift: int = 5, ratio: float | None = None,
                                seed: int | None = None) -> BaseSorting:
    """Add ``num`` units copying the first ``num`` units, shifted by 1..``max_shift`` samples.

    Parameters
    ----------
    sorting : BaseSorting
    num : int
    max_shift : int
    ratio : float, optional
        Fraction (0, 1] of the original spikes kept in each copy.
    seed : int, optional

    Returns
    -------
    TransformSorting
        The original units then the copies (numbered after the largest integer id).
    """
    from .transformsorting import TransformSorting

    if num > sorting.get_num_units():
        raise ValueError(f"num={num} > {sorting.get_num_units()} units")
    if ratio is not None and not 0 < ratio <= 1:
        raise ValueError(f"ratio={ratio!r}: give a fraction in (0, 1]")
    rng = np.random.default_rng(seed)
    new_ids = _next_int_ids(sorting.unit_ids, num)
    shifts = rng.integers(low=-max_shift, high=max_shift, size=num)
    shifts[shifts == 0] += max_shift
    dicts = []
    for seg in range(sorting.get_num_segments()):
        d = {}
        for k, new_id in enumerate(new_ids):
            original = sorting.get_unit_spike_train(sorting.unit_ids[k], segment_index=seg)
            times = original + shifts[k]
            if ratio is not None:
                times = times[rng.choice(original.size, int(original.size * ratio), replace=False)]
            d[new_id] = np.sort(np.clip(times, 0, original[-1] if original.size else 0))
        dicts.append(d)
    return TransformSorting.add_from_sorting(sorting, NumpySorting.from_unit_dict(dicts, sorting.sampling_frequency))


def inject_some_split_units(sorting: BaseSorting, split_ids: Sequence, num_split: int = 2,
                            output_ids: bool = False, seed: int | None = None):
    """Split each unit of ``split_ids`` into ``num_split`` new units (spikes assigned at random).

    Parameters
    ----------
    sorting : BaseSorting
    split_ids : list
    num_split : int
    output_ids : bool
        Also return ``{split unit id: new ids}``.
    seed : int, optional

    Returns
    -------
    NumpySorting (and dict when ``output_ids``)
    """
    sorting.ids_to_indices(split_ids)
    new_ids = _next_int_ids(sorting.unit_ids, len(split_ids) * num_split)
    other_ids = {u: new_ids[k * num_split:(k + 1) * num_split] for k, u in enumerate(np.asarray(split_ids).tolist())}
    rng = np.random.default_rng(seed)
    dicts = []
    for seg in range(sorting.get_num_segments()):
        d = {}
        for unit_id in sorting.unit_ids.tolist():
            times = sorting.get_unit_spike_train(unit_id, segment_index=seg)
            if unit_id in other_ids:
                which = rng.integers(0, num_split, times.size)
                for k, target in enumerate(other_ids[unit_id]):
                    d[target] = times[which == k]
            else:
                d[unit_id] = times
        dicts.append(d)
    new_sorting = NumpySorting.from_unit_dict(dicts, sorting.sampling_frequency)
    return (new_sorting, other_ids) if output_ids else new_sorting


def generate_sorting_to_inject(sorting: BaseSorting, num_samples: Sequence[int], max_injected_per_unit: int = 1000,
                               injected_rate: float = 0.05, refractory_period_ms: float = 1.5,
                               seed: int | None = None) -> NumpySorting:
    """Spikes to add to ``sorting`` without breaking any unit's refractory period (SpikeInterface's
    ``generate_sorting_to_inject``).

    Per unit and segment, ``min(max_injected_per_unit, round(injected_rate * n))`` spikes (``n``:
    the unit's spikes there) at uniform random frames, none closer than the refractory period to
    another injected spike or to a spike of the unit (fewer when too few frames are free).

    Parameters
    ----------
    sorting : BaseSorting
    num_samples : list of int
        Frames of each segment.
    max_injected_per_unit : int
    injected_rate : float
        Injected spikes per spike of the unit.
    refractory_period_ms : float
    seed : int, optional

    Returns
    -------
    NumpySorting
        The injected spikes, with the units of ``sorting``.
    """
    num_samples = [int(n) for n in num_samples]
    if len(num_samples) != sorting.get_num_segments():
        raise ValueError(f"num_samples has {len(num_samples)} values for {sorting.get_num_segments()} segment(s)")
    refractory = int(round(refractory_period_ms * sorting.get_sampling_frequency() * 1e-3))
    rng = np.random.default_rng(seed)
    trains = []
    for segment_index, n_frames in enumerate(num_samples):
        per_unit = {}
        for unit_id in sorting.unit_ids:
            real = np.sort(sorting.get_unit_spike_train(unit_id, segment_index=segment_index))
            wanted = min(int(max_injected_per_unit), int(round(injected_rate * real.size)))
            drawn = np.sort(rng.integers(0, max(n_frames, 1), int(wanted + 10 * np.sqrt(wanted))))
            keep = np.ones(drawn.size, dtype=bool)  # one of each too-close pair of drawn spikes goes
            keep[1:] = np.diff(drawn) >= refractory
            drawn = drawn[keep]
            if real.size and drawn.size:  # and every drawn spike too close to a spike of the unit
                after = np.clip(np.searchsorted(real, drawn), 0, real.size - 1)
                before = np.clip(after - 1, 0, real.size - 1)
                nearest = np.minimum(np.abs(real[after] - drawn), np.abs(real[before] - drawn))
                drawn = drawn[nearest >= refractory]
            if drawn.size > wanted:
                drawn = np.sort(rng.choice(drawn, wanted, replace=False))
            per_unit[unit_id] = drawn.astype("int64")
        trains.append(per_unit)
    return NumpySorting.from_unit_dict(trains, sorting.get_sampling_frequency())


def create_sorting_npz(num_seg: int, file_path) -> None:
    """Write a small test sorting (3 units, 100 spikes per segment) as SpikeInterface's ``.npz``.

    Parameters
    ----------
    num_seg : int
        Segments.
    file_path : str or Path
        The ``.npz`` file written.
    Returns
    -------
    None
    """
    d = {"unit_ids": np.array([0, 1, 2], dtype="int64"), "num_segment": np.array([num_seg], dtype="int64"),
         "sampling_frequency": np.array([30000.0], dtype="float64")}
    for seg in range(num_seg):
        frames = np.arange(0, 1000, 10)
        d[f"spike_indexes_seg{seg}"] = frames
        d[f"spike_labels_seg{seg}"] = np.arange(frames.size, dtype="int64") % 3
    np.savez(file_path, **d)


# ---------------------------------------------------------------------- noise recordings
class NoiseGeneratorRecordingSegment(BaseRecordingSegment):
    def __init__(self, num_samples: int, num_channels: int, sampling_frequency: float, noise_levels: np.ndarray | None,
                 cov_matrix: np.ndarray | None, dtype: np.dtype, seed: int, strategy: str,
                 noise_block_size: int) -> None:
        super().__init__(sampling_frequency=sampling_frequency)
        self._num_samples = num_samples
        self._num_channels = num_channels
        self._levels = noise_levels
        self._cov = cov_matrix
        self._dtype = dtype
        self._seed = seed
        self._strategy = strategy
        self._block = noise_block_size
        self._tile = None
        if strategy == "tile_pregenerated":
            # as SpikeInterface: a covariance block is not scaled by the noise levels when tiled
            self._tile = self._make_block(np.random.default_rng(seed), scale=cov_matrix is None)

    def _make_block(self, rng: np.random.Generator, scale: bool = True) -> np.ndarray:
        if self._cov is not None:
            block = rng.multivariate_normal(np.zeros(self._num_channels), self._cov, size=self._block)
        else:
            block = rng.standard_normal(size=(self._block, self._num_channels), dtype=self._dtype)
        if scale and self._levels is not None:
            block = block * self._levels  # in float64, cast once (as SpikeInterface)
        return block.astype(self._dtype, copy=False)

    def get_num_samples(self) -> int:
        return self._num_samples

    def get_traces(self, start_frame, end_frame, channel_indices) -> np.ndarray:
        out = np.empty((end_frame - start_frame, self._num_channels), dtype=self._dtype)
        if end_frame > start_frame:
            for block_index in range(start_frame // self._block, (end_frame - 1) // self._block + 1):
                block = self._tile if self._tile is not None else self._make_block(
                    np.random.default_rng(seed=(self._seed, block_index)))
                lo = block_index * self._block
                a, z = max(lo, start_frame), min(lo + self._block, end_frame)
                out[a - start_frame:z - start_frame] = block[a - lo:z - lo]
        return out[:, channel_indices]


class MockRecordingSegment(NoiseGeneratorRecordingSegment):
    """Standard normal noise, drawn block by block from ``seed`` (SpikeInterface's arguments): the
    noise segment without levels or covariance.

    Parameters
    ----------
    num_samples, num_channels : int
    sampling_frequency : float
    noise_block_size : int
        Samples per block of noise.
    dtype : {"float32", "float64"}
    seed : int
    strategy : {"tile_pregenerated", "on_the_fly"}
        One block repeated, or a block per block index drawn from ``(seed, block_index)``.
    """

    def __init__(self, num_samples: int, num_channels: int, sampling_frequency: float, noise_block_size: int, dtype,
                 seed: int, strategy: str) -> None:
        if seed is None:
            raise ValueError("MockRecordingSegment: seed must be an int (each block is drawn from it)")
        if strategy not in ("tile_pregenerated", "on_the_fly"):
            raise ValueError(f"strategy={strategy!r}; allowed: 'tile_pregenerated', 'on_the_fly'")
        super().__init__(int(num_samples), int(num_channels), sampling_frequency, None, None, np.dtype(dtype), seed,
                         strategy, int(noise_block_size))


class NoiseGeneratorRecording(BaseRecording):
    """Lazy Gaussian noise, generated block by block, deterministic per seed (dumpable).

    The same seed gives the same traces as SpikeInterface's ``NoiseGeneratorRecording``.

    Parameters
    ----------
    num_channels : int
    sampling_frequency : float
    durations : list of float
        Seconds per segment.
    noise_levels : float or array
        Standard deviation (per channel).
    cov_matrix : np.ndarray, optional
        (num_channels, num_channels) covariance of the noise.
    dtype : {"float32", "float64"}
    seed : int, optional
    strategy : {"tile_pregenerated", "on_the_fly"}
        Repeat one noise block per segment (fast), or draw each block from (seed, block index).
    noise_block_size : int
        Samples per noise block.
    """

    def __init__(self, num_channels: int, sampling_frequency: float, durations: Sequence, noise_levels=1.0,
                 cov_matrix=None, dtype="float32", seed: int | None = None, strategy: str = "tile_pregenerated",
                 noise_block_size: int = 30000) -> None:
        self._init_noise(num_channels, sampling_frequency, durations, noise_levels, cov_matrix, dtype, seed, strategy,
                         noise_block_size)
        self._kwargs = {"num_channels": num_channels, "durations": [float(d) for d in durations],
                        "sampling_frequency": sampling_frequency,
                        "noise_levels": None if noise_levels is None else self._levels,
                        "cov_matrix": cov_matrix, "dtype": self._dtype.name, "seed": self._seed,
                        "strategy": strategy, "noise_block_size": int(noise_block_size)}

    def _init_noise(self, num_channels, sampling_frequency, durations, noise_levels, cov_matrix, dtype, seed, strategy,
                    noise_block_size) -> None:
        if strategy not in _NOISE_STRATEGIES:
            raise ValueError(f"strategy={strategy!r}: allowed values are {_NOISE_STRATEGIES}")
        dtype = np.dtype(dtype)
        if dtype.name not in ("float32", "float64"):
            raise ValueError(f"dtype={dtype}: noise recordings are 'float32' or 'float64'")
        levels = None
        if noise_levels is not None:
            levels = np.asarray(noise_levels, dtype="float64")
            levels = np.full((1, num_channels), float(levels)) if levels.ndim == 0 else levels.reshape(1, -1)
            if levels.shape[1] != num_channels:
                raise ValueError(f"noise_levels has {levels.shape[1]} values for {num_channels} channels")
        if cov_matrix is not None:
            cov_matrix = np.asarray(cov_matrix, dtype="float64")
            if cov_matrix.shape != (num_channels, num_channels):
                raise ValueError(f"cov_matrix has shape {cov_matrix.shape}, expected ({num_channels}, {num_channels})")
        super().__init__(sampling_frequency, string_ids(num_channels), dtype)
        self._seed = _ensure_seed(seed)
        self._levels = levels
        rng = np.random.default_rng(self._seed)
        segment_seeds = [int(rng.integers(0, 2**63)) for _ in durations]
        for duration, segment_seed in zip(durations, segment_seeds):
            self.add_segment(NoiseGeneratorRecordingSegment(
                int(float(duration) * sampling_frequency), num_channels, self.sampling_frequency, levels, cov_matrix,
                dtype, segment_seed, strategy, int(noise_block_size)))


class MockRecording(NoiseGeneratorRecording):
    """Lazy unit-variance white noise (SpikeInterface's ``MockRecording``, behind ``generate_recording``).

    Parameters
    ----------
    num_channels : int
    sampling_frequency : float
    durations : list of float
    dtype : {"float32", "float64"}
    seed : int, optional
    strategy : {"tile_pregenerated", "on_the_fly"}
    noise_block_size : int
    """

    def __init__(self, num_channels: int, sampling_frequency: float, durations: Sequence, dtype="float32",
                 seed: int | None = None, strategy: str = "tile_pregenerated", noise_block_size: int = 30000) -> None:
        self._init_noise(num_channels, sampling_frequency, durations, None, None, dtype, seed, strategy,
                         noise_block_size)
        self._kwargs = {"num_channels": num_channels, "durations": [float(d) for d in durations],
                        "sampling_frequency": sampling_frequency, "dtype": self._dtype.name, "seed": self._seed,
                        "strategy": strategy, "noise_block_size": int(noise_block_size)}


def noise_generator_recording(num_channels: int, sampling_frequency: float, durations: Sequence, noise_levels=1.0,
                              cov_matrix=None, dtype="float32", seed: int | None = None,
                              strategy: str = "tile_pregenerated", noise_block_size: int = 30000
                              ) -> NoiseGeneratorRecording:
    """A lazy Gaussian noise recording (see :class:`NoiseGeneratorRecording`).

    Parameters
    ----------
    num_channels : int
    sampling_frequency : float
    durations : list of float
    noise_levels : float or array
    cov_matrix : np.ndarray, optional
    dtype : {"float32", "float64"}
    seed : int, optional
    strategy : {"tile_pregenerated", "on_the_fly"}
    noise_block_size : int

    Returns
    -------
    NoiseGeneratorRecording
    """
    return NoiseGeneratorRecording(num_channels, sampling_frequency, durations, noise_levels, cov_matrix, dtype, seed,
                                   strategy, noise_block_size)


def generate_recording(num_channels: int = 2, sampling_frequency: float = 30000.0,
                       durations: Sequence = (5.0, 2.5), set_probe: bool = True, ndim: int = 2,
                       t_starts: Sequence[float] | None = None, seed: int | None = None) -> BaseRecording:
    """A lazy unit-variance noise recording (the same traces as SpikeInterface's for the same seed).

    Parameters
    ----------
    num_channels : int
    sampling_frequency : float
    durations : list of float
        Seconds per segment.
    set_probe : bool
        Attach a linear probe (20 µm pitch), wired in order.
    ndim : {2, 3}
        Dimensions of the probe.
    t_starts : list of float, optional
        Start time (s) of each segment.
    seed : int, optional

    Returns
    -------
    MockRecording
        Channel ids "0", "1", ...; annotated ``is_filtered=True``.
    """
    rec = MockRecording(num_channels, sampling_frequency, durations, dtype="float32", seed=seed,
                        noise_block_size=int(sampling_frequency))
    if t_starts is not None:
        if len(t_starts) != len(durations):
            raise ValueError(f"t_starts has {len(t_starts)} values for {len(durations)} segments (durations)")
        for segment, t_start in zip(rec._segments, t_starts):
            segment.t_start = float(t_start)
        rec._time_info_modified = True
    rec.annotate(is_filtered=True)
    if set_probe:
        rec.set_probe(generate_linear_probe_for(num_channels, ndim=ndim), in_place=True)
    rec.name = "SyntheticRecording"
    return rec


def generate_recording_by_size(full_traces_size_GiB: float, seed: int | None = None,
                               strategy: str = "tile_pregenerated") -> MockRecording:
    """A lazy 384-channel, 30 kHz float32 noise recording of ``full_traces_size_GiB`` GiB.

    Parameters
    ----------
    full_traces_size_GiB : float
    seed : int, optional
    strategy : {"tile_pregenerated", "on_the_fly"}

    Returns
    -------
    MockRecording
    """
    num_channels, sampling_frequency = 384, 30_000.0
    num_samples = int(int(full_traces_size_GiB * 1024**3) / (num_channels * 4))
    return MockRecording(num_channels, sampling_frequency, [num_samples / sampling_frequency], dtype="float32",
                         seed=seed, strategy=strategy)


def generate_linear_probe_for(num_channels: int, ndim: int = 2, ypitch: float = 20.0):
    """A simple linear probe with ``num_channels`` contacts, wired in order.

    Parameters
    ----------
    num_channels : int
    ndim : {2, 3}
    ypitch : float
        µm between contacts.

    Returns
    -------
    probeinterface.Probe
    """
    from probeinterface import generate_linear_probe

    probe = generate_linear_probe(num_elec=num_channels, ypitch=ypitch)
    if ndim == 3:
        probe = probe.to_3d()
    probe.set_device_channel_indices(np.arange(num_channels))
    return probe


def generate_neuropixels_like_probe(num_channels: int = 384):
    """A Neuropixels 1.0-like probe: 4 staggered columns 16 µm apart, 20 µm rows, 12 µm square contacts.

    Parameters
    ----------
    num_channels : int
        Contacts (a multiple of 4).

    Returns
    -------
    probeinterface.Probe
        The probe, wired to channels in depth order.
    """
    from probeinterface import generate_multi_columns_probe

    if num_channels % 4:
        raise ValueError(f"num_channels={num_channels}: a Neuropixels-like probe needs a multiple of 4")
    probe = generate_multi_columns_probe(num_columns=4, num_contact_per_column=num_channels // 4, xpitch=16,
                                         ypitch=40, y_shift_per_column=[20, 0, 20, 0], contact_shapes="square",
                                         contact_shape_params={"width": 12})
    order = np.lexsort((probe.contact_positions[:, 0], probe.contact_positions[:, 1]))
    wiring = np.empty(num_channels, dtype="int64")
    wiring[order] = np.arange(num_channels)
    probe.set_device_channel_indices(wiring)
    probe.annotate(name="neuropixels-like", manufacturer="gpuspike")
    return probe


def generate_snippets(nbefore: int = 20, nafter: int = 44, num_channels: int = 2, wf_folder=None,
                      sampling_frequency: float = 30000.0, durations: Sequence = (10.325, 3.5), set_probe: bool = True,
                      ndim: int = 2, num_units: int = 5, empty_units: Sequence | None = None,
                      seed: int | None = None, **job_kwargs):
    """Snippets of every spike of a random sorting, cut from a noise recording.

    Parameters
    ----------
    nbefore, nafter : int
        Samples before and after each spike.
    num_channels : int
        Channels.
    wf_folder : str or Path, optional
        Accepted for SpikeInterface compatibility (snippets are kept in memory).
    sampling_frequency : float
        Hz.
    durations : sequence of float
        Seconds of each segment.
    set_probe : bool
        Attach a linear probe.
    ndim : int
        Dimensions of the probe.
    num_units : int
        Units of the random sorting.
    empty_units : sequence, optional
        Units without spikes.
    seed : int, optional
        Seed of the noise and of the spikes.
    **job_kwargs
        Accepted for SpikeInterface compatibility (the snippets are cut in memory).

    Returns
    -------
    snippets : NumpySnippets
    sorting : BaseSorting
        The spikes the snippets were cut around.
    """
    from .snippets_tools import snippets_from_sorting

    seed = _ensure_seed(seed)
    recording = generate_recording(num_channels, sampling_frequency, durations, set_probe=set_probe, ndim=ndim,
                                   seed=seed)
    sorting = generate_sorting(num_units, sampling_frequency, durations, empty_units=empty_units, seed=seed)
    snippets = snippets_from_sorting(recording, sorting, nbefore=nbefore, nafter=nafter, wf_folder=wf_folder,
                                     **job_kwargs)
    if set_probe:
        snippets.set_probe(recording.get_probe(), in_place=True)
    return snippets, sorting
