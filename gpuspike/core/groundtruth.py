"""Lazy ground-truth recordings: realistic templates injected into noise on a probe."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .generate import (GeneratedSorting, NoiseGeneratorRecording, _resolve_rates, _resolve_seed, _segment_seed,
                       generate_linear_probe_for, generate_neuropixels_like_probe)
from .recording import BaseRecording, BaseRecordingSegment
from .sorting import BaseSorting


def generate_unit_locations(num_units: int, channel_locations: np.ndarray, margin_um: float = 20.0,
                            minimum_z: float = 5.0, maximum_z: float = 40.0, seed: int | None = None) -> np.ndarray:
    """Random 3D unit locations (x, y, z) over the probe; z is the distance to the probe plane.

    Parameters
    ----------
    num_units : int
        Units.
    channel_locations : np.ndarray
        (channels, 2) contact positions in µm.
    margin_um : float
        How far beyond the contacts (x, y) a unit may lie.
    minimum_z, maximum_z : float
        Range of the distance to the probe plane (µm).
    seed : int, optional
        Seed of the positions.

    Returns
    -------
    np.ndarray
        (units, 3) positions in µm.
    """
    rng = np.random.default_rng(seed)
    lo = channel_locations.min(axis=0) - margin_um
    hi = channel_locations.max(axis=0) + margin_um
    locs = np.zeros((num_units, 3))
    locs[:, 0] = rng.uniform(lo[0], hi[0], num_units)
    locs[:, 1] = rng.uniform(lo[1], hi[1], num_units)
    locs[:, 2] = rng.uniform(minimum_z, maximum_z, num_units)
    return locs


def generate_templates(channel_locations: np.ndarray, unit_locations: np.ndarray, sampling_frequency: float,
                       ms_before: float = 1.0, ms_after: float = 2.0, amplitudes: np.ndarray | None = None,
                       seed: int | None = None, dtype="float32") -> np.ndarray:
    """Biphasic extracellular templates (µV) decaying with distance, shape (units, samples, channels).

    The peak (negative) sits at sample ``int(ms_before * fs / 1000)``. Each unit has its own
    width and repolarisation ratio; far channels see a smaller, slightly delayed and wider spike.

    Parameters
    ----------
    channel_locations : np.ndarray
        (channels, 2 or 3) contact positions in µm.
    unit_locations : np.ndarray
        (units, 3) positions of the units in µm (z: distance to the probe plane).
    sampling_frequency : float
        Hz.
    ms_before, ms_after : float
        Window around the peak.
    amplitudes : np.ndarray, optional
        Peak amplitude of each unit (µV; default uniform in 60..250).
    seed : int, optional
        Seed of the shapes.
    dtype : numpy dtype
        dtype of the result.

    Returns
    -------
    np.ndarray
        (units, samples, channels) templates.
    """
    rng = np.random.default_rng(seed)
    num_units = unit_locations.shape[0]
    nbefore = int(ms_before * sampling_frequency / 1000.0)
    nafter = int(ms_after * sampling_frequency / 1000.0)
    t_ms = (np.arange(nbefore + nafter) - nbefore) / sampling_frequency * 1000.0
    if amplitudes is None:
        amplitudes = rng.uniform(60.0, 250.0, num_units)
    width = rng.uniform(0.12, 0.25, num_units)
    repol = rng.uniform(0.2, 0.45, num_units)
    chan3d = np.zeros((channel_locations.shape[0], 3))
    chan3d[:, :channel_locations.shape[1]] = channel_locations
    dist = np.sqrt(((unit_locations[:, None, :] - chan3d[None, :, :]) ** 2).sum(axis=2))  # (U, C)
    z = unit_locations[:, 2:3]
    spatial = (z / np.maximum(dist, 1e-6)) ** 2  # 1 at the closest point, decays like 1/d^2
    delay = dist / 400.0  # ms: ~0.4 m/s
    broaden = 1.0 + dist / 150.0
    tt = t_ms[None, :, None] - delay[:, None, :]
    w = width[:, None, None] * broaden[:, None, :]
    trough = -np.exp(-0.5 * (tt / w) ** 2)
    peak = repol[:, None, None] * np.exp(-0.5 * ((tt - 3.5 * w) / (2.0 * w)) ** 2)
    templates = amplitudes[:, None, None] * spatial[:, None, :] * (trough + peak)
    return templates.astype(dtype)


class InjectTemplatesRecordingSegment(BaseRecordingSegment):
    def __init__(self, parent_segment: BaseRecordingSegment, spikes: np.ndarray, templates: np.ndarray,
                 nbefore: int, amplitudes: np.ndarray, out_dtype: np.dtype, gain: float | None) -> None:
        super().__init__(sampling_frequency=parent_segment.sampling_frequency, t_start=parent_segment.t_start)
        self._parent = parent_segment
        self._frames = spikes["sample_index"]
        self._units = spikes["unit_index"]
        self._amplitudes = amplitudes
        self._templates = templates
        self._nbefore = nbefore
        self._nafter = templates.shape[1] - nbefore
        self._dtype = out_dtype
        self._gain = gain

    def get_num_samples(self) -> int:
        return self._parent.get_num_samples()

    def get_traces(self, start_frame, end_frame, channel_indices) -> np.ndarray:
        from gpuspike.kernels.inject import inject_templates_cpu

        traces = self._parent.get_traces(start_frame, end_frame, slice(None)).astype("float32", copy=True)
        lo = np.searchsorted(self._frames, start_frame - self._nafter, side="right")
        hi = np.searchsorted(self._frames, end_frame + self._nbefore, side="left")
        inject_templates_cpu(traces, self._frames[lo:hi] - start_frame, self._units[lo:hi], self._amplitudes[lo:hi],
                             self._templates, self._nbefore)
        traces = traces[:, channel_indices]
        if self._gain is not None:
            info = np.iinfo(self._dtype)
            traces = np.clip(np.round(traces / self._gain), info.min, info.max)
        return traces.astype(self._dtype, copy=False)


class GroundTruthRecording(BaseRecording):
    """Noise plus templates injected at the spikes of a generated sorting (lazy, dumpable).

    Built by :func:`generate_ground_truth_recording`; everything is regenerated from the
    parameters and the seed, so the dict is small and any worker can rebuild it.
    """

    def __init__(self, durations: Sequence = (10.0,), sampling_frequency: float = 30000.0, num_channels: int = 4,
                 num_units: int = 10, probe_kind: str = "linear", ms_before: float = 1.0, ms_after: float = 2.0,
                 firing_rates=3.0, refractory_period_ms: float = 4.0, noise_levels=5.0, dtype="float32",
                 gain_to_uV: float | None = None, amplitude_jitter: float = 0.0, seed: int = 0,
                 noise_strategy: str = "tile_pregenerated") -> None:
        dtype = np.dtype(dtype)
        if dtype.kind in "iu" and gain_to_uV is None:
            gain_to_uV = 1.0
        if dtype.kind == "f":
            gain_to_uV = None
        if probe_kind not in ("linear", "neuropixels"):
            raise ValueError(f"probe_kind={probe_kind!r}: allowed values are 'linear', 'neuropixels'")
        super().__init__(sampling_frequency, np.arange(num_channels), dtype)
        probe = (generate_neuropixels_like_probe(num_channels) if probe_kind == "neuropixels"
                 else generate_linear_probe_for(num_channels))
        order = np.argsort(probe.device_channel_indices)
        channel_locations = probe.contact_positions[order]
        self.sorting = GeneratedSorting(num_units, sampling_frequency, durations, firing_rates, None,
                                        refractory_period_ms, seed=seed)
        unit_locations = generate_unit_locations(num_units, channel_locations, seed=_segment_seed(seed, 7))
        templates = generate_templates(channel_locations, unit_locations, sampling_frequency, ms_before, ms_after,
                                       seed=_segment_seed(seed, 8))
        self.templates = templates
        self.unit_locations = unit_locations
        self.nbefore = int(ms_before * sampling_frequency / 1000.0)
        noise = NoiseGeneratorRecording(num_channels, sampling_frequency, durations, noise_levels, "float32",
                                        seed=seed, strategy=noise_strategy)
        rng = np.random.default_rng(_segment_seed(seed, 9))
        spikes = self.sorting.to_spike_vector(concatenated=False)
        for seg, parent in enumerate(noise._segments):
            amps = np.ones(spikes[seg].size, dtype="float32")
            if amplitude_jitter > 0:
                amps += rng.normal(0.0, amplitude_jitter, spikes[seg].size).astype("float32")
            self.add_segment(InjectTemplatesRecordingSegment(parent, spikes[seg], templates, self.nbefore, amps,
                                                             dtype, gain_to_uV))
        if gain_to_uV is not None:
            self.set_channel_gains(gain_to_uV)
            self.set_channel_offsets(0.0)
        else:
            self.set_channel_gains(1.0)
            self.set_channel_offsets(0.0)
        self.set_probe(_rewired(probe), in_place=True)
        self._kwargs = {"durations": [float(d) for d in durations], "sampling_frequency": sampling_frequency,
                        "num_channels": num_channels, "num_units": num_units, "probe_kind": probe_kind,
                        "ms_before": ms_before, "ms_after": ms_after,
                        "firing_rates": np.broadcast_to(np.asarray(firing_rates, float), (num_units,)).tolist(),
                        "refractory_period_ms": refractory_period_ms,
                        "noise_levels": np.asarray(noise_levels, float).tolist(), "dtype": str(dtype),
                        "gain_to_uV": gain_to_uV, "amplitude_jitter": amplitude_jitter, "seed": seed,
                        "noise_strategy": noise_strategy}

    def get_templates_uV(self) -> np.ndarray:
        """The injected templates in µV, (num_units, num_samples, num_channels)."""
        return self.templates.copy()


def _rewired(probe):
    """The probe with contacts ordered by channel, wired 0..N-1 (channels already follow the wiring)."""
    order = np.argsort(probe.device_channel_indices)
    sliced = probe.get_slice(order)
    sliced.set_device_channel_indices(np.arange(len(order)))
    return sliced


def generate_ground_truth_recording(durations: Sequence = (10.0,), sampling_frequency: float = 25000.0,
                                    num_channels: int = 4, num_units: int = 10, probe: str = "linear",
                                    ms_before: float = 1.0, ms_after: float = 2.0,
                                    generate_sorting_kwargs: dict | None = None, noise_kwargs: dict | None = None,
                                    dtype="float32", gain_to_uV: float | None = None, amplitude_jitter: float = 0.0,
                                    seed: int | None = None) -> tuple[BaseRecording, BaseSorting]:
    """A lazy ground-truth recording (templates in noise, on a probe) and its sorting.

    Parameters
    ----------
    durations : list of float
        Seconds per segment.
    sampling_frequency : float
    num_channels, num_units : int
    probe : {"linear", "neuropixels"}
        "neuropixels" gives a Neuropixels 1.0-like 4-column layout (use 384 channels).
    ms_before, ms_after : float
        Template window around the peak.
    generate_sorting_kwargs : dict, optional
        ``firing_rates`` (Hz, default 3) and ``refractory_period_ms`` (default 4).
    noise_kwargs : dict, optional
        ``noise_levels`` (µV, default 5) and ``strategy`` ("tile_pregenerated" | "on_the_fly").
    dtype : str
        "float32" (µV) or an integer dtype such as "int16" (then ``gain_to_uV`` sets the scale,
        default 1 µV per bit for integers).
    gain_to_uV : float, optional
    amplitude_jitter : float
        Relative standard deviation of per-spike amplitudes.
    seed : int, optional

    Returns
    -------
    recording : GroundTruthRecording
        With ``recording.templates`` the injected templates (µV).
    sorting : BaseSorting
        The ground-truth spikes (recording registered).
    """
    sorting_kwargs = dict(firing_rates=3.0, refractory_period_ms=4.0)
    sorting_kwargs.update(generate_sorting_kwargs or {})
    noise = dict(noise_levels=5.0, strategy="tile_pregenerated")
    noise.update(noise_kwargs or {})
    rates = _resolve_rates(sorting_kwargs.get("firing_rates"), sorting_kwargs.get("firing_rate"), num_units)
    recording = GroundTruthRecording(durations, sampling_frequency, num_channels, num_units, probe, ms_before,
                                     ms_after, rates, sorting_kwargs["refractory_period_ms"], noise["noise_levels"],
                                     dtype, gain_to_uV, amplitude_jitter, _resolve_seed(seed), noise["strategy"])
    sorting = recording.sorting
    sorting.register_recording(recording, check_spike_frames=False)
    return recording, sorting
