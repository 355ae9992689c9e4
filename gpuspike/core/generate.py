"""Toy objects: random recordings, sortings, snippets and lazy ground-truth recordings.

Everything is deterministic for a given ``seed``. The ground-truth recording is generated
lazily, chunk by chunk, so a 384-channel, hour-long Neuropixels-like recording costs no memory.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .numpyextractors import NumpySnippets, NumpySorting
from .recording import BaseRecording, BaseRecordingSegment
from .sorting import BaseSorting, spike_dtype

_NOISE_STRATEGIES = ("tile_pregenerated", "on_the_fly")


def _rng(seed) -> np.random.Generator:
    return np.random.default_rng(seed)


def _segment_seed(seed: int | None, *keys: int) -> np.random.SeedSequence:
    return np.random.SeedSequence([0 if seed is None else int(seed), *keys])


def _resolve_seed(seed: int | None) -> int:
    """A concrete seed (drawn when None) so that lazy objects are reproducible and dumpable."""
    return int(np.random.default_rng().integers(0, 2**31 - 1)) if seed is None else int(seed)


# ---------------------------------------------------------------------- spike trains
def synthesize_random_firings(num_units: int = 20, sampling_frequency: float = 30000.0, duration: float = 60.0,
                              refractory_period_ms: float = 4.0, firing_rates=3.0, add_shift_shuffle: bool = False,
                              seed: int | None = None):
    """Poisson spike trains with a refractory period, for all units of one segment.

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
    firing_rates : float or sequence of float
        Mean rate (Hz), one value or one per unit.
    add_shift_shuffle : bool
        Shift some spikes a little (SpikeInterface's option), so trains are less regular.
    seed : int, optional
        Seed of the trains.

    Returns
    -------
    times : np.ndarray (int64)
        Spike frames, sorted.
    labels : np.ndarray (int64)
        Unit index of each spike.
    """
    rng = _rng(seed)
    rates = np.broadcast_to(np.asarray(firing_rates, dtype="float64"), (num_units,))
    if np.any(rates < 0):
        raise ValueError("firing_rates must be >= 0")
    num_samples = int(round(duration * sampling_frequency))
    refractory = int(refractory_period_ms * sampling_frequency / 1000.0)
    all_times, all_labels = [], []
    for unit in range(num_units):
        n = rng.poisson(rates[unit] * duration)
        frames = np.sort(rng.integers(0, max(num_samples, 1), size=n))
        if add_shift_shuffle and frames.size:
            shift = rng.integers(-refractory, refractory + 1, size=frames.size)
            frames = np.clip(frames + shift, 0, num_samples - 1)
            frames.sort()
        frames = _clean_refractory_frames(frames, refractory)
        all_times.append(frames)
        all_labels.append(np.full(frames.size, unit, dtype="int64"))
    times = np.concatenate(all_times) if all_times else np.zeros(0, "int64")
    labels = np.concatenate(all_labels) if all_labels else np.zeros(0, "int64")
    order = np.lexsort((labels, times))
    return times[order].astype("int64"), labels[order]


def _clean_refractory_frames(frames: np.ndarray, refractory: int) -> np.ndarray:
    if refractory <= 0 or frames.size < 2:
        return frames
    keep = np.ones(frames.size, dtype=bool)
    last = frames[0]
    for i in range(1, frames.size):  # sequential by nature: each kept spike moves the window
        if frames[i] - last < refractory:
            keep[i] = False
        else:
            last = frames[i]
    return frames[keep]


def clean_refractory_period(times: np.ndarray, refractory_period: float) -> np.ndarray:
    """Remove spikes that come sooner than ``refractory_period`` after the previous kept spike.

    Parameters
    ----------
    times : np.ndarray
        Spike times (any order).
    refractory_period : float
        Shortest interval kept, in the units of ``times``.

    Returns
    -------
    np.ndarray
        The kept times, sorted.
    """
    times = np.sort(np.asarray(times))
    if times.size < 2:
        return times
    keep = np.ones(times.size, dtype=bool)
    last = times[0]
    for i in range(1, times.size):
        if times[i] - last < refractory_period:
            keep[i] = False
        else:
            last = times[i]
    return times[keep]


def synthetize_spike_train_bad_isi(duration: float, baseline_rate: float, num_violations: int,
                                   violation_delta: float = 1e-5, seed: int | None = None) -> np.ndarray:
    """A Poisson spike train (times in s) with ``num_violations`` extra spikes ``violation_delta`` after others.

    Parameters
    ----------
    duration : float
        Seconds.
    baseline_rate : float
        Mean rate of the Poisson train (Hz).
    num_violations : int
        Extra spikes, each ``violation_delta`` after a spike of the train.
    violation_delta : float
        Seconds between a spike and its violating copy.
    seed : int, optional
        Seed of the train.

    Returns
    -------
    np.ndarray
        Spike times in seconds, sorted.
    """
    rng = _rng(seed)
    isis = rng.exponential(1.0 / baseline_rate, size=int(duration * baseline_rate * 2) + 10)
    train = np.cumsum(isis)
    train = train[train < duration]
    if num_violations > train.size:
        raise ValueError(f"num_violations={num_violations} > {train.size} spikes in the baseline train")
    picks = rng.choice(train.size, size=num_violations, replace=False)
    return np.sort(np.concatenate([train, train[picks] + violation_delta]))


synthesize_spike_train_bad_isi = synthetize_spike_train_bad_isi


def _resolve_rates(firing_rates, firing_rate, num_units: int) -> np.ndarray:
    rates = firing_rate if firing_rate is not None else firing_rates
    return np.broadcast_to(np.asarray(rates, dtype="float64"), (num_units,)).copy()


class GeneratedSorting(NumpySorting):
    """A sorting of Poisson units with refractory period, rebuilt from its parameters (dumpable)."""

    _dumpable_class = True

    def __init__(self, num_units: int = 5, sampling_frequency: float = 30000.0, durations: Sequence = (10.325, 6.79),
                 firing_rates=3.0, empty_units: Sequence | None = None, refractory_period_ms: float = 4.0,
                 seed: int = 0, unit_ids: Sequence | None = None) -> None:
        if num_units < 0:
            raise ValueError(f"num_units must be >= 0, got {num_units}")
        durations = [float(d) for d in durations]
        rates = np.broadcast_to(np.asarray(firing_rates, dtype="float64"), (num_units,)).copy()
        unit_ids = np.arange(num_units) if unit_ids is None else np.asarray(unit_ids)
        empty = set() if empty_units is None else set(np.asarray(empty_units).tolist())
        parts = []
        for seg, duration in enumerate(durations):
            times, labels = synthesize_random_firings(num_units, sampling_frequency, duration,
                                                      refractory_period_ms, rates,
                                                      seed=_segment_seed(seed, seg))
            if empty:
                keep = ~np.isin(unit_ids[labels], list(empty))
                times, labels = times[keep], labels[keep]
            part = np.zeros(times.size, dtype=spike_dtype)
            part["sample_index"], part["unit_index"], part["segment_index"] = times, labels, seg
            parts.append(part)
        spikes = np.concatenate(parts) if parts else np.zeros(0, spike_dtype)
        num_samples = [int(round(d * sampling_frequency)) for d in durations]
        super().__init__(spikes, sampling_frequency, unit_ids, num_segments=len(durations), num_samples=num_samples)
        self._kwargs = {"num_units": num_units, "sampling_frequency": sampling_frequency, "durations": durations,
                        "firing_rates": rates, "empty_units": None if empty_units is None else list(empty),
                        "refractory_period_ms": refractory_period_ms, "seed": seed,
                        "unit_ids": unit_ids}


def generate_sorting(num_units: int = 5, sampling_frequency: float = 30000.0, durations: Sequence = (10.325, 6.79),
                     firing_rates=3.0, empty_units: Sequence | None = None, refractory_period_ms: float = 4.0,
                     seed: int | None = None, firing_rate=None, refractory_period: float | None = None
                     ) -> BaseSorting:
    """Random Poisson sorting with a refractory period (deterministic per ``seed``).

    Parameters
    ----------
    num_units : int
        Units.
    sampling_frequency : float
        Hz.
    durations : sequence of float
        Seconds of each segment.
    firing_rates : float or sequence of float
        Mean rate (Hz), one value or one per unit.
    empty_units : sequence, optional
        Units without spikes.
    refractory_period_ms : float
        Shortest interval between two spikes of a unit.
    seed : int, optional
        Seed of the spike trains.
    firing_rate : float, optional
        Older name of ``firing_rates``.
    refractory_period : float, optional
        Older name of ``refractory_period_ms`` (ms).

    Returns
    -------
    BaseSorting
        A :class:`GeneratedSorting`.
    """
    rates = _resolve_rates(firing_rates, firing_rate, num_units)
    if refractory_period is not None:
        refractory_period_ms = refractory_period
    return GeneratedSorting(num_units, sampling_frequency, durations, rates, empty_units, refractory_period_ms,
                            seed=_resolve_seed(seed))


def inject_some_duplicate_units(sorting: BaseSorting, num: int = 4, max_shift: int = 5, ratio: float | None = None,
                                seed: int | None = None) -> BaseSorting:
    """Add ``num`` units that copy existing units with a random shift (and keep a ``ratio`` of spikes).

    Parameters
    ----------
    sorting : BaseSorting
        The sorting to add duplicates to.
    num : int
        Duplicated units added.
    max_shift : int
        Largest shift (samples) of a duplicate's spikes.
    ratio : float, optional
        Fraction of the original's spikes a duplicate keeps (default: all).
    seed : int, optional
        Seed of the choices.

    Returns
    -------
    BaseSorting
        The original units followed by the duplicates.
    """
    rng = _rng(seed)
    if num > sorting.get_num_units():
        raise ValueError(f"num={num} > {sorting.get_num_units()} units")
    other_ids = rng.choice(sorting.unit_ids, size=num, replace=False)
    new_ids = _fresh_ids(sorting.unit_ids, num)
    dicts = []
    for seg in range(sorting.get_num_segments()):
        d = {u: sorting.get_unit_spike_train(u, seg) for u in sorting.unit_ids.tolist()}
        for src, new in zip(other_ids.tolist(), new_ids):
            times = d[src]
            shift = int(rng.integers(-max_shift, max_shift + 1)) if max_shift > 0 else 0
            times = times + shift
            times = times[times >= 0]
            if ratio is not None:
                times = times[rng.random(times.size) < ratio]
            d[new] = np.sort(times)
        dicts.append(d)
    return NumpySorting.from_unit_dict(dicts, sorting.sampling_frequency)


def inject_some_split_units(sorting: BaseSorting, split_ids: Sequence, num_split: int = 2,
                            output_ids: bool = False, seed: int | None = None):
    """Split each unit of ``split_ids`` into ``num_split`` units (spikes assigned at random).

    Parameters
    ----------
    sorting : BaseSorting
        The sorting whose units are split.
    split_ids : sequence
        Units to split.
    num_split : int
        Units each of them becomes.
    output_ids : bool
        Also return which new units each split unit became.
    seed : int, optional
        Seed of the assignment.

    Returns
    -------
    BaseSorting or (BaseSorting, dict)
        The sorting with split units, and with ``output_ids`` ``{split unit id: [new unit ids]}``.
    """
    rng = _rng(seed)
    sorting.ids_to_indices(split_ids)
    keep_ids = [u for u in sorting.unit_ids.tolist() if u not in set(np.asarray(split_ids).tolist())]
    new_ids = _fresh_ids(sorting.unit_ids, len(split_ids) * num_split)
    other_ids, pos = {}, 0
    for u in np.asarray(split_ids).tolist():
        other_ids[u] = new_ids[pos:pos + num_split]
        pos += num_split
    dicts = []
    for seg in range(sorting.get_num_segments()):
        d = {u: sorting.get_unit_spike_train(u, seg) for u in keep_ids}
        for u, targets in other_ids.items():
            times = sorting.get_unit_spike_train(u, seg)
            which = rng.integers(0, num_split, size=times.size)
            for k, t in enumerate(targets):
                d[t] = times[which == k]
        dicts.append(d)
    new_sorting = NumpySorting.from_unit_dict(dicts, sorting.sampling_frequency)
    return (new_sorting, other_ids) if output_ids else new_sorting


def _fresh_ids(existing: np.ndarray, n: int) -> list:
    if existing.dtype.kind in "iu":
        start = int(existing.max()) + 1 if existing.size else 0
        return list(range(start, start + n))
    return [f"new{i}" for i in range(n)]


# ---------------------------------------------------------------------- noise recordings
class NoiseGeneratorRecordingSegment(BaseRecordingSegment):
    def __init__(self, num_samples: int, num_channels: int, sampling_frequency: float, noise_levels: np.ndarray,
                 dtype: np.dtype, seed_sequence: np.random.SeedSequence, strategy: str, noise_block_size: int) -> None:
        super().__init__(sampling_frequency=sampling_frequency)
        self._num_samples = num_samples
        self._num_channels = num_channels
        self._noise_levels = noise_levels.astype("float32")
        self._dtype = dtype
        self._seed_sequence = seed_sequence
        self._strategy = strategy
        self._block = noise_block_size
        self._tile = None
        if strategy == "tile_pregenerated":
            rng = np.random.default_rng(seed_sequence)
            self._tile = (rng.standard_normal((noise_block_size, num_channels), dtype="float32")
                          * self._noise_levels)

    def get_num_samples(self) -> int:
        return self._num_samples

    def _block_noise(self, block_index: int) -> np.ndarray:
        if self._tile is not None:
            return self._tile
        entropy = np.atleast_1d(self._seed_sequence.entropy).tolist()
        rng = np.random.default_rng(np.random.SeedSequence([*entropy, block_index]))
        return rng.standard_normal((self._block, self._num_channels), dtype="float32") * self._noise_levels

    def get_traces(self, start_frame, end_frame, channel_indices) -> np.ndarray:
        out = np.empty((end_frame - start_frame, self._num_channels), dtype="float32")
        first, last = start_frame // self._block, (end_frame - 1) // self._block if end_frame > start_frame else -1
        for b in range(first, last + 1):
            lo, hi = b * self._block, (b + 1) * self._block
            a, z = max(lo, start_frame), min(hi, end_frame)
            out[a - start_frame:z - start_frame] = self._block_noise(b)[a - lo:z - lo]
        out = out[:, channel_indices]
        return out.astype(self._dtype, copy=False)


class NoiseGeneratorRecording(BaseRecording):
    """Lazy Gaussian noise, deterministic per seed and chunk-independent (dumpable).

    Parameters
    ----------
    num_channels : int
    sampling_frequency : float
    durations : list of float
        Seconds per segment.
    noise_levels : float or array
        Standard deviation per channel.
    dtype : "float32" or "float64"
    seed : int
    strategy : {"tile_pregenerated", "on_the_fly"}
        Repeat one pregenerated noise block (fast), or generate each block from its own seed.
    noise_block_size : int
        Samples per noise block.
    """

    def __init__(self, num_channels: int, sampling_frequency: float, durations: Sequence, noise_levels=5.0,
                 dtype="float32", seed: int = 0, strategy: str = "tile_pregenerated",
                 noise_block_size: int = 30000) -> None:
        if strategy not in _NOISE_STRATEGIES:
            raise ValueError(f"strategy={strategy!r}: allowed values are {_NOISE_STRATEGIES}")
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise ValueError(f"dtype={dtype}: NoiseGeneratorRecording makes float32 or float64 traces")
        super().__init__(sampling_frequency, np.arange(num_channels), dtype)
        self.annotate(is_filtered=True)  # white noise has no low-frequency drift (as SpikeInterface's generator)
        levels = np.broadcast_to(np.asarray(noise_levels, dtype="float64"), (num_channels,))
        for seg, duration in enumerate(durations):
            n = int(round(float(duration) * sampling_frequency))
            self.add_segment(NoiseGeneratorRecordingSegment(n, num_channels, self.sampling_frequency, levels, dtype,
                                                            _segment_seed(seed, 1000 + seg), strategy,
                                                            int(noise_block_size)))
        self._kwargs = {"num_channels": num_channels, "sampling_frequency": sampling_frequency,
                        "durations": [float(d) for d in durations], "noise_levels": levels.tolist(),
                        "dtype": str(dtype), "seed": seed, "strategy": strategy,
                        "noise_block_size": int(noise_block_size)}


def generate_recording(num_channels: int = 2, sampling_frequency: float = 30000.0,
                       durations: Sequence = (5.0, 2.5), set_probe: bool = True, ndim: int = 2,
                       seed: int | None = None, noise_levels=5.0, dtype="float32") -> BaseRecording:
    """Lazy Gaussian-noise recording, with a probe attached when ``set_probe``.

    Parameters
    ----------
    num_channels : int
        Channels.
    sampling_frequency : float
        Hz.
    durations : sequence of float
        Seconds of each segment.
    set_probe : bool
        Attach a linear probe.
    ndim : int
        Dimensions of the probe (2 or 3).
    seed : int, optional
        Seed of the noise (same seed, same traces).
    noise_levels : float or np.ndarray
        Standard deviation of the noise, one value or one per channel.
    dtype : numpy dtype
        dtype of the traces.

    Returns
    -------
    BaseRecording
        A :class:`NoiseGeneratorRecording` (traces generated chunk by chunk on request).
    """
    rec = NoiseGeneratorRecording(num_channels, sampling_frequency, durations, noise_levels=noise_levels,
                                  dtype=dtype, seed=_resolve_seed(seed))
    if set_probe:
        probe = generate_linear_probe_for(num_channels, ndim=ndim)
        rec = rec.set_probe(probe)
    return rec


def generate_linear_probe_for(num_channels: int, ndim: int = 2, ypitch: float = 20.0):
    """A simple linear probe with ``num_channels`` contacts, wired in order."""
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


def generate_snippets(nbefore: int = 20, nafter: int = 44, num_channels: int = 2, sampling_frequency: float = 30000.0,
                      durations: Sequence = (10.325, 6.79), set_probe: bool = True, ndim: int = 2, num_units: int = 5,
                      empty_units: Sequence | None = None, seed: int | None = None, **job_kwargs):
    """Snippets cut around the spikes of a random sorting in a noise recording.

    Parameters
    ----------
    nbefore, nafter : int
        Samples before and after each spike.
    num_channels : int
        Channels.
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
        The spikes the snippets were cut around (as SpikeInterface returns them).
    """
    seed = _resolve_seed(seed)
    recording = generate_recording(num_channels, sampling_frequency, durations, set_probe=set_probe, ndim=ndim,
                                   seed=seed)
    sorting = generate_sorting(num_units, sampling_frequency, durations, empty_units=empty_units, seed=seed)
    snippets_list, frames_list = [], []
    for seg in range(recording.get_num_segments()):
        n = recording.get_num_samples(seg)
        vector = sorting.to_spike_vector(concatenated=False)[seg]
        frames = vector["sample_index"]
        frames = frames[(frames >= nbefore) & (frames < n - nafter)]
        frames = np.unique(frames)
        traces = recording.get_traces(segment_index=seg)
        windows = frames[:, None] + np.arange(-nbefore, nafter)[None, :]
        snippets_list.append(traces[windows] if frames.size else
                             np.zeros((0, nbefore + nafter, num_channels), traces.dtype))
        frames_list.append(frames)
    snippets = NumpySnippets(snippets_list, frames_list, sampling_frequency, nbefore=nbefore,
                             channel_ids=recording.channel_ids)
    if set_probe:
        snippets = snippets.set_probe(recording.get_probe())
    return snippets, sorting
