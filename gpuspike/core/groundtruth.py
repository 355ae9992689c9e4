"""Ground-truth recordings: synthetic templates injected at the spikes of a sorting, in noise, on a probe.

The template model follows SpikeInterface 0.105's: a three-phase waveform (depolarization,
repolarization, recovery) scaled on each channel by a spatial decay of the distance to the unit,
delayed on far channels by a propagation speed. Per-unit parameters are drawn from the same
default ranges. Everything is lazy and regenerated from the seed.
"""
from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np

from .core_tools import ms_to_samples
from .generate import (GeneratedSorting, NoiseGeneratorRecording, _ensure_seed, generate_linear_probe_for,
                       generate_neuropixels_like_probe, generate_sorting)
from .injecttemplates import InjectTemplatesRecording
from .recording import BaseRecording
from .sorting import BaseSorting

#: default ranges (uniform draws) of the per-unit template parameters (SpikeInterface's
#: ``default_unit_params_range``)
DEFAULT_UNIT_PARAMS_RANGE = {
    "alpha": (100.0, 500.0),
    "depolarization_ms": (0.09, 0.14),
    "repolarization_ms": (0.5, 0.8),
    "recovery_ms": (1.0, 1.5),
    "positive_amplitude": (0.1, 0.25),
    "smooth_ms": (0.03, 0.07),
    "spatial_decay": (10.0, 45.0),
    "propagation_speed": (250.0, 350.0),
    "ellipse_shrink": (0.4, 1.0),
    "ellipse_angle": (0.0, 2 * np.pi),
    "spatial_power": (1.5, 2.5),
}
_MODES = ("ellipsoid", "sphere")
_PROFILES = ("exponential", "power")


def exp_growth(start_amp: float, end_amp: float, duration_ms: float, tau_ms: float, sampling_frequency: float,
               flip: bool = False) -> np.ndarray:
    """``duration_ms`` of samples going from ``start_amp`` towards ``end_amp`` along an exponential of time
    constant ``tau_ms`` (flipped: fast then slow), computed in SpikeInterface's order of operations.

    Parameters
    ----------
    start_amp, end_amp : float
    duration_ms, tau_ms : float
    sampling_frequency : float
    flip : bool

    Returns
    -------
    np.ndarray
        ``int(duration_ms * sampling_frequency / 1000)`` samples (none for a phase shorter than a sample).
    """
    start, end = (end_amp, start_amp) if flip else (start_amp, end_amp)
    times_ms = np.arange(int(duration_ms * sampling_frequency / 1000.0) + 1) / sampling_frequency * 1000.0
    if times_ms.size == 1:  # a phase shorter than a sample has no samples
        return np.zeros(0)
    y = np.exp(times_ms / tau_ms)
    y = y / (y[-1] - y[0]) * (end - start)
    y = y - y[0] + start
    return (y[::-1] if flip else y)[:-1]


def generate_single_fake_waveform(sampling_frequency: float | None = None, ms_before: float = 1.0,
                                  ms_after: float = 3.0, negative_amplitude: float = -1.0,
                                  positive_amplitude: float = 0.15, depolarization_ms: float = 0.1,
                                  repolarization_ms: float = 0.6, recovery_ms: float = 1.1, smooth_ms: float = 0.05,
                                  dtype="float32") -> np.ndarray:
    """A spike waveform of three exponential phases, smoothed, with its trough at sample ``nbefore``.

    As in SpikeInterface 0.105, the phases are written in ``dtype`` and the smoothed waveform comes back
    in float64 (the same values as SpikeInterface's).

    Parameters
    ----------
    sampling_frequency : float
    ms_before, ms_after : float
        Window around the trough.
    negative_amplitude, positive_amplitude : float
        Trough and after-hyperpolarization peak.
    depolarization_ms, repolarization_ms, recovery_ms : float
        Durations of the three phases.
    smooth_ms : float
        Standard deviation of the Gaussian smoothing.
    dtype : numpy dtype
        dtype the three phases are written in.

    Returns
    -------
    np.ndarray
        (nbefore + nafter,) float64, nbefore = ms_to_samples(ms_before).
    """
    if sampling_frequency is None or sampling_frequency <= 0:
        raise ValueError(f"sampling_frequency={sampling_frequency!r}: give the sampling frequency in Hz")
    if ms_after <= depolarization_ms + repolarization_ms:
        raise ValueError(f"ms_after={ms_after} must exceed depolarization_ms + repolarization_ms "
                         f"({depolarization_ms + repolarization_ms})")
    if ms_before <= depolarization_ms:
        raise ValueError(f"ms_before={ms_before} must exceed depolarization_ms={depolarization_ms}")
    fs = sampling_frequency
    nbefore, nafter = ms_to_samples(ms_before, fs), ms_to_samples(ms_after, fs)
    wf = np.zeros(nbefore + nafter, dtype=dtype)
    ndepo, nrepol, nrecov = (int(d * fs / 1000.0) for d in (depolarization_ms, repolarization_ms, recovery_ms))
    if ndepo >= nafter:
        raise ValueError(f"ms_before={ms_before} is too short for depolarization_ms={depolarization_ms}")
    if nrepol + nrecov >= nafter:
        raise ValueError(f"ms_after={ms_after} is too short for repolarization_ms + recovery_ms")
    wf[nbefore - ndepo:nbefore] = exp_growth(0.0, negative_amplitude, depolarization_ms, depolarization_ms * 0.2, fs,
                                            False)
    wf[nbefore:nbefore + nrepol] = exp_growth(negative_amplitude, positive_amplitude, repolarization_ms,
                                             repolarization_ms * 0.5, fs, True)
    wf[nbefore + nrepol:nbefore + nrepol + nrecov] = exp_growth(positive_amplitude, 0.0, recovery_ms, recovery_ms * 0.5,
                                                               fs, True)
    sigma = smooth_ms / (1 / fs * 1000.0)  # in samples
    half = int(sigma * 4)
    kernel = np.exp(-(np.arange(-half, half + 1) ** 2) / (2 * sigma**2))
    kernel /= np.sum(kernel)
    peak = np.max(np.abs(wf))
    wf = np.convolve(wf, kernel, mode="same")
    wf *= peak / np.max(np.abs(wf))
    shift = int(np.argmin(wf)) - nbefore  # the smoothing may move the trough: put it back at nbefore
    if shift > 0:
        wf[:-shift] = wf[shift:].copy()
    elif shift < 0:
        wf[-shift:] = wf[:shift].copy()
    return wf


def _unit_params(unit_params: dict | None, num_units: int, seed) -> dict:
    unit_params = dict(unit_params or {})
    unknown = sorted(set(unit_params) - set(DEFAULT_UNIT_PARAMS_RANGE))
    if unknown:
        raise ValueError(f"unit_params: unknown keys {unknown}; allowed: {sorted(DEFAULT_UNIT_PARAMS_RANGE)}")
    rng = np.random.default_rng(seed)
    params = {}
    for key, default in DEFAULT_UNIT_PARAMS_RANGE.items():
        value = unit_params.get(key, default)
        if isinstance(value, tuple):
            params[key] = rng.uniform(value[0], value[1], num_units)
        elif value is None:
            params[key] = [None] * num_units
        elif np.isscalar(value):
            params[key] = np.full(num_units, float(value))
        else:
            value = np.asarray(value, dtype="float64")
            if value.shape != (num_units,):
                raise ValueError(f"unit_params[{key!r}] has shape {value.shape}, expected ({num_units},)")
            params[key] = value
    return params


def _with_ranges(unit_params: dict | None, unit_params_range: dict | None) -> dict:
    """``unit_params`` over SpikeInterface 0.100's ``unit_params_range`` (pairs, also as JSON lists)."""
    merged = {}
    for key, value in (unit_params_range or {}).items():
        if np.isscalar(value) or len(value) != 2:
            raise ValueError(f"unit_params_range[{key!r}]={value!r}: give a (low, high) pair")
        merged[key] = (float(value[0]), float(value[1]))
    merged.update(unit_params or {})
    return merged


def get_ellipse(positions, center, x_factor: float = 1, y_factor: float = 1, x_angle: float = 0,
                y_angle: float = 0, z_angle: float = 0) -> np.ndarray:
    """Distances of channels (in the probe plane, z=0) to ``center`` in an ellipsoidal metric: the
    offsets are rotated by ``-z_angle``, ``-y_angle`` and ``-x_angle`` about the axes, then x and y are
    divided by ``x_factor`` and ``y_factor`` (SpikeInterface 0.105's ``generate.get_ellipse``).

    Parameters
    ----------
    positions : np.ndarray
        (num_channels, 2 or more) channel positions; x and y are used.
    center : array-like
        (x, y, z) of the ellipsoid's center; z is its distance to the probe plane.
    x_factor, y_factor : float
        Stretch of the ellipsoid along its x and y axes (1, 1: a sphere, Euclidean distances).
    x_angle, y_angle, z_angle : float
        Rotation of the ellipsoid about the x, y and z axes (radians).

    Returns
    -------
    np.ndarray
        (num_channels,) distances.
    """
    positions = np.asarray(positions, dtype="float64")
    center = np.asarray(center, dtype="float64")
    offsets = np.stack([positions[:, 0] - center[0], positions[:, 1] - center[1],
                        np.full(positions.shape[0], -center[2])])

    def rotation(axis: int, angle: float) -> np.ndarray:
        c, s = np.cos(angle), np.sin(angle)
        i, j = [k for k in range(3) if k != axis]
        r = np.eye(3)
        r[i, i], r[j, j] = c, c
        r[i, j], r[j, i] = (-s, s) if axis != 1 else (s, -s)
        return r

    x, y, z = rotation(0, -x_angle) @ rotation(1, -y_angle) @ rotation(2, -z_angle) @ offsets
    return np.sqrt((x / x_factor) ** 2 + (y / y_factor) ** 2 + z**2)


def _distances(channel_locations: np.ndarray, center: np.ndarray, y_shrink: float, angle: float) -> np.ndarray:
    """Distances of the channels (z=0 plane) to ``center``, in a frame rotated by ``angle`` about z with
    the y axis shrunk (an ellipsoidal field)."""
    return get_ellipse(channel_locations, center, 1.0, y_shrink, 0.0, 0.0, angle)


def _delay(waveforms: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """Delay each column of ``waveforms`` (samples, channels) by a (fractional) number of samples."""
    n = waveforms.shape[0]
    spectrum = np.fft.rfft(waveforms, axis=0)
    omega = 2 * np.pi * np.fft.rfftfreq(n)
    return np.fft.irfft(spectrum * np.exp(-1j * omega[:, None] * shifts[None, :]), n=n, axis=0)


def generate_templates(channel_locations: np.ndarray, units_locations: np.ndarray, sampling_frequency: float,
                       ms_before: float = 1.0, ms_after: float = 3.0, seed: int | None = None, dtype="float32",
                       upsample_factor: int | None = None, unit_params: dict | None = None, mode: str = "ellipsoid",
                       spatial_profile: str = "exponential", unit_params_range: dict | None = None) -> np.ndarray:
    """Synthetic templates of units at ``units_locations`` seen by channels at ``channel_locations``.

    Parameters
    ----------
    channel_locations : np.ndarray
        (num_channels, 2 or 3) µm.
    units_locations : np.ndarray
        (num_units, 3) µm; z is the distance to the probe plane.
    sampling_frequency : float
    ms_before, ms_after : float
    seed : int, optional
    dtype : numpy dtype
    upsample_factor : int, optional
        Also return sub-sample shifted versions: templates get a 4th axis of this size.
    unit_params : dict, optional
        Per-unit parameters (keys of :data:`DEFAULT_UNIT_PARAMS_RANGE`): an array (one per unit),
        a scalar, or a ``(low, high)`` range to draw from.
    mode : {"ellipsoid", "sphere"}
        Distance to the unit: anisotropic (shrink and angle per unit) or Euclidean.
    spatial_profile : {"exponential", "power"}
        ``alpha * exp(-d / spatial_decay)`` or ``alpha / (1 + (d / spatial_decay) ** spatial_power)``.
    unit_params_range : dict, optional
        SpikeInterface 0.100's argument: ``(low, high)`` ranges to draw per-unit parameters from
        (a key also in ``unit_params`` takes that value).

    Returns
    -------
    np.ndarray
        (num_units, nbefore + nafter, num_channels[, upsample_factor]).
    """
    if mode not in _MODES:
        raise ValueError(f"mode={mode!r}: allowed values are {_MODES}")
    if spatial_profile not in _PROFILES:
        raise ValueError(f"spatial_profile={spatial_profile!r}: allowed values are {_PROFILES}")
    units_locations = np.asarray(units_locations, dtype="float64")
    if units_locations.ndim != 2 or units_locations.shape[1] != 3:
        raise ValueError(f"units_locations must be (num_units, 3), got {units_locations.shape}")
    channel_locations = np.asarray(channel_locations, dtype="float64")
    num_units, num_channels = units_locations.shape[0], channel_locations.shape[0]
    factor = 1 if upsample_factor is None else int(upsample_factor)
    if factor < 1:
        raise ValueError(f"upsample_factor={upsample_factor}: give an int >= 1 or None")
    fs = sampling_frequency * factor
    width = ms_to_samples(ms_before, sampling_frequency) + ms_to_samples(ms_after, sampling_frequency)
    params = _unit_params(_with_ranges(unit_params, unit_params_range), num_units, seed)
    shape = (num_units, width, num_channels) + (() if upsample_factor is None else (factor,))
    templates = np.zeros(shape, dtype=dtype)
    for u in range(num_units):
        wf = generate_single_fake_waveform(fs, ms_before, ms_after, -1.0, params["positive_amplitude"][u],
                                           params["depolarization_ms"][u], params["repolarization_ms"][u],
                                           params["recovery_ms"][u], params["smooth_ms"][u], dtype=dtype)
        if mode == "sphere":
            d = _distances(channel_locations, units_locations[u], 1.0, 0.0)
        else:
            d = _distances(channel_locations, units_locations[u], params["ellipse_shrink"][u],
                           params["ellipse_angle"][u])
        decay = params["spatial_decay"][u]
        if spatial_profile == "exponential":
            gains = params["alpha"][u] * np.exp(-d / decay)
        else:
            gains = params["alpha"][u] / (1.0 + (d / decay) ** params["spatial_power"][u])
        wfs = wf[:, None] * gains[None, :]
        speed = params["propagation_speed"][u]
        if speed is not None:  # µm / ms: far channels see the spike later
            wfs = _delay(wfs, (d - d.min()) / speed / 1000.0 * fs)
        if upsample_factor is None:
            templates[u] = wfs[:width]
        else:
            for f in range(factor):
                templates[u, :, :, f] = wfs[f::factor][:width]
    return templates


def generate_unit_locations(num_units: int, channel_locations: np.ndarray, margin_um: float = 20.0,
                            minimum_z: float = 5.0, maximum_z: float = 40.0, minimum_distance: float | None = 20.0,
                            max_iteration: int = 100, distance_strict: bool = False, distribution: str = "uniform",
                            num_modes: int = 2, seed: int | None = None) -> np.ndarray:
    """Random 3D unit locations over the probe, at least ``minimum_distance`` µm apart when possible.

    Parameters
    ----------
    num_units : int
    channel_locations : np.ndarray
        (num_channels, 2) µm.
    margin_um : float
        Extent beyond the channels in x and y.
    minimum_z, maximum_z : float
        Range of the distance to the probe plane.
    minimum_distance : float, optional
        Units closer than this to another are drawn again (up to ``max_iteration`` rounds).
    max_iteration : int
    distance_strict : bool
        Raise (instead of warning) when units stay too close.
    distribution : {"uniform", "multimodal"}
        Along y: uniform, or ``num_modes`` layers.
    num_modes : int
    seed : int, optional

    Returns
    -------
    np.ndarray
        (num_units, 3) float32.
    """
    if distribution not in ("uniform", "multimodal"):
        raise ValueError(f"distribution={distribution!r}: allowed values are 'uniform', 'multimodal'")
    rng = np.random.default_rng(seed)
    channel_locations = np.asarray(channel_locations)
    x_range = (np.min(channel_locations[:, 0]) - margin_um, np.max(channel_locations[:, 0]) + margin_um)
    y_range = (np.min(channel_locations[:, 1]) - margin_um, np.max(channel_locations[:, 1]) + margin_um)

    # SpikeInterface 0.105's draws, in its order, so that a seed gives its locations: x of every unit,
    # then y, then z; then, while units are too close, the units to draw again (at first every unit
    # too close to another, then those of them still too close) get new x, y, z the same way
    locations = np.zeros((num_units, 3), dtype="float32")

    def draw(units) -> None:
        count = locations[units].shape[0]
        locations[units, 0] = rng.uniform(*x_range, size=count)
        if distribution == "uniform":
            locations[units, 1] = rng.uniform(*y_range, size=count)
        else:
            locations[units, 1] = _multimodal_depths(rng, count, num_modes, *y_range)
        locations[units, 2] = rng.uniform(minimum_z, maximum_z, size=count)

    draw(slice(None))
    if minimum_distance is None:
        return locations
    redraw = None
    for _ in range(max_iteration):
        distances = np.linalg.norm(locations[:, np.newaxis] - locations[np.newaxis, :], axis=2)
        first, second = np.nonzero(distances < minimum_distance)
        too_close = np.unique(first[first != second])
        if too_close.size == 0:
            return locations
        redraw = too_close if redraw is None else redraw[np.isin(redraw, too_close)]
        draw(redraw)
    distances = np.linalg.norm(locations[:, np.newaxis] - locations[np.newaxis, :], axis=2)
    np.fill_diagonal(distances, np.inf)
    if np.all(distances >= minimum_distance):
        return locations
    message = (f"generate_unit_locations(): no solution for minimum_distance={minimum_distance} and "
               f"max_iteration={max_iteration}: {int(np.sum(distances.min(axis=1) < minimum_distance))} unit(s) "
               "closer than minimum_distance remain; use distance_strict=False, a smaller minimum_distance or a "
               "larger margin_um")
    if distance_strict:
        raise ValueError(message)
    warnings.warn(message, UserWarning, stacklevel=2)
    return locations


def _multimodal_depths(rng: np.random.Generator, count: int, num_modes: int, low: float, high: float) -> np.ndarray:
    """Depths drawn around ``num_modes`` layers, as SpikeInterface 0.105 draws them: a bin of a
    10 000-bin grid over [low, high] by a sum of Gaussians (centred at multiples of
    (high - low) / (num_modes + 1) from 0, its convention), then a uniform jitter within the bin."""
    bins = np.linspace(low, high, 10000)
    bin_step = bins[1] - bins[0]
    mode_step = (high - low) / (num_modes + 1)
    sigma = mode_step / 5.0
    weights = np.zeros(bins.size)
    for mode in range(num_modes):
        weights += np.exp(-((bins - mode_step * (mode + 1)) ** 2) / (2 * sigma**2))
    if not np.isfinite(weights.sum()) or weights.sum() == 0:
        # layers that far from 0 have no weight on the probe (SpikeInterface fails here): centre them on it
        weights = np.zeros(bins.size)
        for mode in range(num_modes):
            weights += np.exp(-((bins - low - mode_step * (mode + 1)) ** 2) / (2 * sigma**2))
    weights /= np.sum(weights)
    choices = rng.choice(np.arange(bins.size), count, p=weights)
    return bins[choices] + rng.uniform(low=-bin_step / 2, high=bin_step / 2, size=count)


def generate_channel_locations(num_channels: int, num_columns: int, contact_spacing_um: float) -> np.ndarray:
    """Channel locations of ``num_columns`` columns (filled column by column), ``contact_spacing_um`` apart.

    Parameters
    ----------
    num_channels : int
    num_columns : int
    contact_spacing_um : float

    Returns
    -------
    np.ndarray
        (num_channels, 2) µm.
    """
    if num_columns < 1 or num_channels % num_columns:
        raise ValueError(f"num_columns={num_columns} must divide num_channels={num_channels}")
    per_column = num_channels // num_columns
    locations = np.zeros((num_channels, 2))
    locations[:, 0] = np.repeat(np.arange(num_columns), per_column) * contact_spacing_um
    locations[:, 1] = np.tile(np.arange(per_column), num_columns) * contact_spacing_um
    return locations


def _default_probe(num_channels: int, generate_probe_kwargs: dict | None):
    """SpikeInterface's ground-truth probe: columns of circular contacts (2 columns, 20 µm pitch)."""
    from probeinterface import generate_multi_columns_probe

    kwargs = dict(num_columns=2, xpitch=20, ypitch=20, contact_shapes="circle", contact_shape_params={"radius": 6})
    kwargs.update(generate_probe_kwargs or {})
    if "num_contact_per_column" in kwargs:
        counts = np.atleast_1d(kwargs["num_contact_per_column"])
        total = int(counts.sum()) if counts.size > 1 else int(counts[0]) * kwargs["num_columns"]
        if total != num_channels:
            raise ValueError(f"generate_probe_kwargs gives {total} contacts for num_channels={num_channels}")
    else:
        n = num_channels // kwargs["num_columns"]
        counts = [n] * kwargs["num_columns"]
        counts[kwargs["num_columns"] // 2] += num_channels % kwargs["num_columns"]
        kwargs["num_contact_per_column"] = counts
    probe = generate_multi_columns_probe(**kwargs)
    probe.set_device_channel_indices(np.arange(num_channels))
    return probe


def _probe_of(probe, num_channels: int, generate_probe_kwargs: dict | None):
    from probeinterface import Probe

    if probe is None:
        return _default_probe(num_channels, generate_probe_kwargs)
    if isinstance(probe, Probe):
        return probe
    if probe == "linear":
        return generate_linear_probe_for(num_channels)
    if probe == "neuropixels":
        return generate_neuropixels_like_probe(num_channels)
    raise ValueError(f"probe={probe!r}: give a probeinterface Probe, None (SpikeInterface's 2-column probe), "
                     f"'linear' or 'neuropixels'")


def _in_channel_order(probe):
    """The probe with contacts in channel order, wired 0..N-1."""
    order = np.argsort(probe.device_channel_indices)
    sliced = probe.get_slice(order)
    sliced.set_device_channel_indices(np.arange(len(order)))
    return sliced


class GroundTruthRecording(InjectTemplatesRecording):
    """Templates injected at the spikes of a generated sorting, in noise, on a probe (lazy, dumpable).

    It prints as SpikeInterface's does ("GroundTruthRecording (InjectTemplatesRecording)").

    Built by :func:`generate_ground_truth_recording` when it generates everything itself; its dict
    holds the parameters (not the templates), so any worker rebuilds it from the seed. Integer
    dtypes are quantized with ``gain_to_uV`` (gpuspike's extension).
    """

    #: printed as SpikeInterface's: an InjectTemplatesRecording named "GroundTruthRecording"
    _display_class = "InjectTemplatesRecording"

    def __init__(self, durations: Sequence = (10.0,), sampling_frequency: float = 25000.0, num_channels: int = 4,
                 num_units: int = 10, probe: str | dict | None = None, ms_before: float = 1.0, ms_after: float = 3.0,
                 firing_rates=15.0, refractory_period_ms: float = 4.0, noise_levels=5.0, dtype="float32",
                 gain_to_uV: float | None = None, amplitude_jitter: float = 0.0, seed: int = 0,
                 noise_strategy: str = "on_the_fly", generate_probe_kwargs: dict | None = None,
                 generate_unit_locations_kwargs: dict | None = None, generate_templates_kwargs: dict | None = None
                 ) -> None:
        from probeinterface import Probe

        dtype = np.dtype(dtype)
        gain = None if dtype.kind == "f" else (1.0 if gain_to_uV is None else float(gain_to_uV))
        probe_obj = Probe.from_dict(probe) if isinstance(probe, dict) else _probe_of(probe, num_channels,
                                                                                     generate_probe_kwargs)
        probe_obj = _in_channel_order(probe_obj)
        num_channels = probe_obj.get_contact_count()
        sorting = GeneratedSorting(num_units, sampling_frequency, durations, firing_rates, None, refractory_period_ms,
                                   seed=seed)
        locations_kwargs = dict(margin_um=10.0, minimum_z=5.0, maximum_z=50.0, minimum_distance=20.0)
        locations_kwargs.update(generate_unit_locations_kwargs or {})
        channel_locations = probe_obj.contact_positions
        unit_locations = generate_unit_locations(num_units, channel_locations, seed=seed, **locations_kwargs)
        templates = generate_templates(channel_locations, unit_locations, sampling_frequency, ms_before, ms_after,
                                       seed=seed, dtype="float32", **(generate_templates_kwargs or {}))
        noise = NoiseGeneratorRecording(num_channels, sampling_frequency, durations, noise_levels=noise_levels,
                                        dtype="float32", seed=seed, strategy=noise_strategy,
                                        noise_block_size=int(sampling_frequency))
        amplitudes = None
        if amplitude_jitter > 0:
            rng = np.random.default_rng([seed, 9])
            amplitudes = (1.0 + rng.normal(0.0, amplitude_jitter, sorting.count_total_num_spikes())).astype("float32")
        super().__init__(sorting, templates, nbefore=ms_to_samples(ms_before, sampling_frequency),
                         amplitude_factor=amplitudes, parent_recording=noise)
        self.sorting = sorting
        self.unit_locations = unit_locations
        self._gain = gain
        if gain is not None:  # quantize to the integer dtype on the fly
            self._dtype = dtype
            for segment in self._segments:
                segment._quantize = (gain, dtype)
        self.annotate(is_filtered=True)
        self.name = "GroundTruthRecording"  # an annotation, kept by save() as SpikeInterface keeps it
        self.set_probe(probe_obj, in_place=True)
        self.set_channel_gains(1.0 if gain is None else gain)
        self.set_channel_offsets(0.0)
        distances = np.linalg.norm(unit_locations[:, None, :2] - channel_locations[None, :, :2], axis=2)
        sorting.set_property("gt_unit_locations", unit_locations)
        sorting.set_property("main_channel_id", self.channel_ids[np.argmin(distances, axis=1)])
        self._kwargs = {"durations": [float(d) for d in durations], "sampling_frequency": sampling_frequency,
                        "num_channels": num_channels, "num_units": num_units,
                        "probe": probe if isinstance(probe, (str, type(None))) else probe_obj.to_dict(
                            array_as_list=True),
                        "ms_before": ms_before, "ms_after": ms_after,
                        "firing_rates": np.asarray(sorting._kwargs["firing_rates"]).tolist(),
                        "refractory_period_ms": refractory_period_ms,
                        "noise_levels": np.asarray(noise_levels, float).tolist(), "dtype": dtype.str,
                        "gain_to_uV": gain, "amplitude_jitter": amplitude_jitter, "seed": int(seed),
                        "noise_strategy": noise_strategy, "generate_probe_kwargs": generate_probe_kwargs,
                        "generate_unit_locations_kwargs": generate_unit_locations_kwargs,
                        "generate_templates_kwargs": generate_templates_kwargs}

    def get_templates_uV(self) -> np.ndarray:
        """The injected templates in µV, (num_units, num_samples, num_channels).

        Returns
        -------
        np.ndarray
        """
        return np.array(self.templates, dtype="float32")


def generate_ground_truth_recording(durations: Sequence = (10.0,), sampling_frequency: float = 25000.0,
                                    num_channels: int = 4, num_units: int = 10, sorting: BaseSorting | None = None,
                                    probe=None, generate_probe_kwargs: dict | None = None, templates=None,
                                    ms_before: float = 1.0, ms_after: float = 3.0,
                                    upsample_factor: int | None = None, upsample_vector=None,
                                    generate_sorting_kwargs: dict | None = None, noise_kwargs: dict | None = None,
                                    generate_unit_locations_kwargs: dict | None = None,
                                    generate_templates_kwargs: dict | None = None, dtype="float32",
                                    seed: int | None = None, gain_to_uV: float | None = None,
                                    amplitude_jitter: float = 0.0) -> tuple[BaseRecording, BaseSorting]:
    """A lazy ground-truth recording (templates in noise, on a probe) and its sorting.

    Defaults are SpikeInterface 0.105's: 15 Hz units, a 1 ms + 3 ms window, 5 µV noise drawn
    block by block, a 2-column probe of circular contacts, channel and unit ids "0", "1", ...

    Parameters
    ----------
    durations : list of float
        Seconds per segment.
    sampling_frequency : float
    num_channels, num_units : int
        Used when ``probe`` / ``sorting`` are not given.
    sorting : BaseSorting, optional
        Spikes to inject (generated otherwise, with ``generate_sorting_kwargs``).
    probe : probeinterface.Probe or {"linear", "neuropixels"}, optional
        Default: SpikeInterface's 2-column probe (``generate_probe_kwargs``).
    generate_probe_kwargs : dict, optional
        Passed to ``probeinterface.generate_multi_columns_probe``.
    templates : np.ndarray, optional
        (num_units, num_samples, num_channels[, upsample_factor]); generated otherwise.
    ms_before, ms_after : float
    upsample_factor : int, optional
        Generate sub-sample shifted templates, one drawn per spike.
    upsample_vector : np.ndarray, optional
        The sub-sample version of each spike (4D templates).
    generate_sorting_kwargs : dict, optional
        ``firing_rates`` (default 15 Hz), ``refractory_period_ms`` (default 4).
    noise_kwargs : dict, optional
        ``noise_levels`` (or ``noise_level``, its SpikeInterface 0.100 name; default 5), ``strategy`` (default "on_the_fly").
    generate_unit_locations_kwargs, generate_templates_kwargs : dict, optional
    dtype : numpy dtype
        "float32" (µV), or an integer dtype quantized with ``gain_to_uV`` (gpuspike's extension).
    seed : int, optional
    gain_to_uV : float, optional
        µV per integer step for integer dtypes (default 1).
    amplitude_jitter : float
        Relative standard deviation of per-spike amplitudes.

    Returns
    -------
    recording : BaseRecording
        ``recording.templates`` holds the injected templates.
    sorting : BaseSorting
        The ground-truth spikes (recording registered), with properties ``gt_unit_locations``
        (when templates are generated) and ``main_channel_id``.
    """
    seed = _ensure_seed(seed)
    sorting_kwargs = dict(firing_rates=15.0, refractory_period_ms=4.0)
    sorting_kwargs.update(generate_sorting_kwargs or {})
    if "firing_rate" in sorting_kwargs:
        sorting_kwargs["firing_rates"] = sorting_kwargs.pop("firing_rate")
    noise = dict(noise_kwargs or {})
    if "noise_level" in noise:  # its name in SpikeInterface 0.100
        if "noise_levels" in noise:
            raise ValueError("noise_kwargs: give noise_levels or noise_level (the same value), not both")
        noise["noise_levels"] = noise.pop("noise_level")
    noise = dict(dict(noise_levels=5.0, strategy="on_the_fly"), **noise)
    unknown = sorted(set(noise) - {"noise_levels", "strategy", "cov_matrix"})
    if unknown:
        raise ValueError(f"noise_kwargs: unknown keys {unknown}; allowed: noise_levels (or noise_level), strategy, "
                         "cov_matrix")
    simple = (sorting is None and templates is None and upsample_factor is None and upsample_vector is None
              and "cov_matrix" not in noise and set(sorting_kwargs) <= {"firing_rates", "refractory_period_ms"}
              and not isinstance(sorting_kwargs["firing_rates"], tuple))
    if simple:
        probe_arg = probe.to_dict(array_as_list=True) if probe is not None and not isinstance(probe, str) else probe
        recording = GroundTruthRecording(durations, sampling_frequency, num_channels, num_units, probe_arg, ms_before,
                                         ms_after, sorting_kwargs["firing_rates"],
                                         sorting_kwargs["refractory_period_ms"], noise["noise_levels"], dtype,
                                         gain_to_uV, amplitude_jitter, seed, noise["strategy"], generate_probe_kwargs,
                                         generate_unit_locations_kwargs, generate_templates_kwargs)
        sorting = recording.sorting
        sorting.register_recording(recording, check_spike_frames=False)
        sorting.name = "GroundTruthSorting"
        return recording, sorting
    return _ground_truth_from_parts(durations, sampling_frequency, num_channels, num_units, sorting, probe,
                                    generate_probe_kwargs, templates, ms_before, ms_after, upsample_factor,
                                    upsample_vector, sorting_kwargs, noise, generate_unit_locations_kwargs,
                                    generate_templates_kwargs, dtype, seed, amplitude_jitter)


def _ground_truth_from_parts(durations, sampling_frequency, num_channels, num_units, sorting, probe,
                             generate_probe_kwargs, templates, ms_before, ms_after, upsample_factor, upsample_vector,
                             sorting_kwargs, noise, generate_unit_locations_kwargs, generate_templates_kwargs, dtype,
                             seed, amplitude_jitter):
    """SpikeInterface's construction: NoiseGeneratorRecording + InjectTemplatesRecording of given parts."""
    if np.dtype(dtype).kind != "f":
        raise ValueError(f"dtype={dtype}: with a given sorting / templates / upsampling the recording is float "
                         f"(float32 or float64)")
    if sorting is None:
        sorting = generate_sorting(num_units=num_units, sampling_frequency=sampling_frequency, durations=durations,
                                   seed=seed, **sorting_kwargs)
    elif sorting.sampling_frequency != sampling_frequency:
        raise ValueError(f"sorting samples at {sorting.sampling_frequency} Hz, sampling_frequency={sampling_frequency}")
    num_units = sorting.get_num_units()
    probe = _in_channel_order(_probe_of(probe, num_channels, generate_probe_kwargs))
    num_channels = probe.get_contact_count()
    nbefore, nafter = ms_to_samples(ms_before, sampling_frequency), ms_to_samples(ms_after, sampling_frequency)
    channel_locations = probe.contact_positions
    if templates is None:
        locations_kwargs = dict(margin_um=10.0, minimum_z=5.0, maximum_z=50.0, minimum_distance=20.0)
        locations_kwargs.update(generate_unit_locations_kwargs or {})
        unit_locations = generate_unit_locations(num_units, channel_locations, seed=seed, **locations_kwargs)
        templates = generate_templates(channel_locations, unit_locations, sampling_frequency, ms_before, ms_after,
                                       upsample_factor=upsample_factor, seed=seed, dtype=dtype,
                                       **(generate_templates_kwargs or {}))
        sorting.set_property("gt_unit_locations", unit_locations)
        distances = np.linalg.norm(unit_locations[:, None, :2] - channel_locations[None, :, :2], axis=2)
        main_channels = np.argmin(distances, axis=1)
    else:
        templates = np.asarray(templates)
        if templates.shape[0] != num_units:
            raise ValueError(f"templates has {templates.shape[0]} units, the sorting {num_units}")
        peak = templates[:, nbefore] if templates.ndim == 3 else templates[:, nbefore, :, 0]
        main_channels = np.argmax(np.abs(peak), axis=1)
    if nbefore + nafter != templates.shape[1]:
        raise ValueError(f"templates have {templates.shape[1]} samples, ms_before + ms_after give {nbefore + nafter}")
    spikes = sorting.to_spike_vector()
    if templates.ndim == 4 and upsample_vector is None:
        upsample_vector = np.random.default_rng(seed).integers(0, templates.shape[3], size=spikes.size)
    parent = NoiseGeneratorRecording(num_channels, sampling_frequency, durations, dtype=dtype, seed=seed,
                                     noise_block_size=int(sampling_frequency), **noise)
    amplitudes = None
    if amplitude_jitter > 0:
        amplitudes = (1.0 + np.random.default_rng([seed, 9]).normal(0.0, amplitude_jitter, spikes.size)
                      ).astype("float32")
    recording = InjectTemplatesRecording(sorting, templates, nbefore=nbefore, amplitude_factor=amplitudes,
                                         parent_recording=parent, upsample_vector=upsample_vector)
    recording.annotate(is_filtered=True)
    recording.set_probe(probe, in_place=True)
    recording.set_channel_gains(1.0)
    recording.set_channel_offsets(0.0)
    sorting.set_property("main_channel_id", recording.channel_ids[main_channels])
    sorting.register_recording(recording, check_spike_frames=False)
    recording.name, sorting.name = "GroundTruthRecording", "GroundTruthSorting"
    return recording, sorting


def toy_example(duration: float | Sequence[float] = 10, num_channels: int = 4, num_units: int = 10,
                sampling_frequency: float = 30000.0, num_segments: int = 2, average_peak_amplitude: float | None = -100,
                upsample_factor: int | None = None, contact_spacing_um: float = 40.0, num_columns: int = 1,
                spike_times=None, spike_labels=None, firing_rate: float = 3.0, seed: int | None = None):
    """A small ground-truth dataset: units of toy templates on white noise (10 µV), lazy.

    Parameters
    ----------
    duration : float or list of float
        Seconds (per segment with a list).
    num_channels, num_units : int
    sampling_frequency : float
    num_segments : int
    average_peak_amplitude : float, optional
        Templates scaled so that their mean trough is this (µV).
    upsample_factor : int, optional
        Sub-sample jittered templates (one version drawn per spike).
    contact_spacing_um : float
    num_columns : int
    spike_times, spike_labels : list of np.ndarray, optional
        Spikes to use (one array per segment) instead of generated ones; labels are unit indices.
    firing_rate : float
        Hz.
    seed : int, optional

    Returns
    -------
    recording : BaseRecording
    sorting : BaseSorting
    """
    from probeinterface import Probe

    from .numpyextractors import NumpySorting

    if num_channels < 1 or num_units < 1:
        raise ValueError(f"num_channels={num_channels}, num_units={num_units}: give at least one of each")
    if np.isscalar(duration):
        durations = [float(duration)] * num_segments
    else:
        durations = [float(d) for d in duration]
        if len(durations) != num_segments:
            raise ValueError(f"duration has {len(durations)} values for num_segments={num_segments}")
    seed = _ensure_seed(seed)
    channel_locations = generate_channel_locations(num_channels, num_columns, contact_spacing_um)
    probe = Probe(ndim=2)
    probe.set_contacts(positions=channel_locations, shapes="circle", shape_params={"radius": 5})
    probe.create_auto_shape(probe_type="rect", margin=20.0)
    probe.set_device_channel_indices(np.arange(num_channels, dtype="int64"))
    ms_before, ms_after = 1.5, 3.0
    unit_locations = generate_unit_locations(num_units, channel_locations, margin_um=15.0, minimum_z=5.0,
                                             maximum_z=50.0, seed=seed)
    templates = generate_templates(channel_locations, unit_locations, sampling_frequency, ms_before, ms_after,
                                   upsample_factor=upsample_factor, seed=seed, dtype="float32")
    if average_peak_amplitude is not None:
        templates *= average_peak_amplitude / np.mean(np.min(templates, axis=(1, 2) if templates.ndim == 3
                                                             else (1, 2, 3)))
    if spike_times is not None:
        if not isinstance(spike_times, list) or not isinstance(spike_labels, list) \
                or len(spike_times) != len(spike_labels) or len(spike_times) != num_segments:
            raise ValueError("spike_times and spike_labels must be lists of num_segments arrays")
        sorting = NumpySorting.from_samples_and_labels(spike_times, spike_labels, sampling_frequency,
                                                       unit_ids=np.arange(num_units, dtype="int64"))
    else:
        sorting = generate_sorting(num_units=num_units, sampling_frequency=sampling_frequency, durations=durations,
                                   firing_rates=firing_rate, refractory_period_ms=4.0, seed=seed)
    return generate_ground_truth_recording(durations=durations, sampling_frequency=sampling_frequency,
                                           sorting=sorting, probe=probe, templates=templates, ms_before=ms_before,
                                           ms_after=ms_after, dtype="float32", seed=seed,
                                           noise_kwargs=dict(noise_levels=10.0, strategy="on_the_fly"))
