"""ChannelSparsity: the channels each unit's waveforms are kept on, and compute_sparsity."""
from __future__ import annotations

from typing import Sequence

import numpy as np

_METHODS = ("radius", "best_channels", "closest_channels", "threshold", "snr", "amplitude", "ptp", "energy",
            "by_property")
_AMPLITUDE_MODES = ("extremum", "at_index", "peak_to_peak")
_PEAK_SIGNS = ("neg", "pos", "both")


def check_peak_sign(peak_sign: str) -> str:
    if peak_sign not in _PEAK_SIGNS:
        raise ValueError(f"peak_sign={peak_sign!r}: allowed values are {_PEAK_SIGNS}")
    return peak_sign


class ChannelSparsity:
    """Boolean (num_units, num_channels) mask of the channels kept for each unit.

    Parameters
    ----------
    mask : np.ndarray of bool
        (num_units, num_channels).
    unit_ids, channel_ids : array-like
    """

    def __init__(self, mask: np.ndarray, unit_ids: Sequence, channel_ids: Sequence) -> None:
        mask = np.asarray(mask)
        self.unit_ids = np.asarray(unit_ids)
        self.channel_ids = np.asarray(channel_ids)
        if mask.dtype != bool:
            raise TypeError(f"mask must be boolean, got {mask.dtype}")
        if mask.shape != (len(self.unit_ids), len(self.channel_ids)):
            raise ValueError(f"mask has shape {mask.shape}, expected ({len(self.unit_ids)}, {len(self.channel_ids)})")
        self.mask = mask

    def __repr__(self) -> str:
        density = self.mask.mean() if self.mask.size else 0.0
        return (f"ChannelSparsity - units: {len(self.unit_ids)} - channels: {len(self.channel_ids)} - "
                f"density, P(x=1): {density:.2f}")

    def __eq__(self, other) -> bool:
        return (isinstance(other, ChannelSparsity) and np.array_equal(self.mask, other.mask)
                and np.array_equal(self.unit_ids, other.unit_ids) and np.array_equal(self.channel_ids,
                                                                                       other.channel_ids))

    @property
    def unit_id_to_channel_ids(self) -> dict:
        """{unit_id: channel ids kept}."""
        return {u: self.channel_ids[self.mask[i]] for i, u in enumerate(self.unit_ids.tolist())}

    @property
    def unit_id_to_channel_indices(self) -> dict:
        """{unit_id: channel indices kept} (to slice arrays)."""
        return {u: np.flatnonzero(self.mask[i]) for i, u in enumerate(self.unit_ids.tolist())}

    @property
    def max_num_active_channels(self) -> int:
        return int(self.mask.sum(axis=1).max()) if self.mask.size else 0

    def _unit_index(self, unit_id) -> int:
        matches = np.flatnonzero(self.unit_ids == unit_id)
        if matches.size == 0:
            raise KeyError(f"unit_id {unit_id!r} not in this sparsity; allowed: {self.unit_ids.tolist()[:20]}")
        return int(matches[0])

    def padded_channel_indices(self) -> np.ndarray:
        """(num_units, max_num_active_channels) int32 channel indices per unit, padded with -1."""
        kmax = self.max_num_active_channels
        out = np.full((len(self.unit_ids), kmax), -1, dtype="int32")
        for i in range(len(self.unit_ids)):
            idx = np.flatnonzero(self.mask[i])
            out[i, :idx.size] = idx
        return out

    def sparsify_waveforms(self, waveforms: np.ndarray, unit_id) -> np.ndarray:
        """Keep the unit's channels of dense waveforms (..., num_channels)."""
        if waveforms.shape[-1] != len(self.channel_ids):
            raise ValueError(f"waveforms have {waveforms.shape[-1]} channels, dense is {len(self.channel_ids)}")
        return waveforms[..., self.mask[self._unit_index(unit_id)]]

    def densify_waveforms(self, waveforms: np.ndarray, unit_id) -> np.ndarray:
        """Put sparse waveforms (..., num_active) back on all channels (zeros elsewhere)."""
        mask = self.mask[self._unit_index(unit_id)]
        if waveforms.shape[-1] < mask.sum():
            raise ValueError(f"waveforms have {waveforms.shape[-1]} channels, the unit has {mask.sum()} active")
        dense = np.zeros(waveforms.shape[:-1] + (len(self.channel_ids),), dtype=waveforms.dtype)
        dense[..., mask] = waveforms[..., :mask.sum()]
        return dense

    def are_waveforms_sparse(self, waveforms: np.ndarray, unit_id) -> bool:
        """True when ``waveforms`` have exactly the unit's active channels."""
        return waveforms.shape[-1] == int(self.mask[self._unit_index(unit_id)].sum())

    def are_waveforms_dense(self, waveforms: np.ndarray) -> bool:
        """True when ``waveforms`` have all the channels."""
        return waveforms.shape[-1] == len(self.channel_ids)

    @property
    def num_channels(self) -> int:
        """Number of channels of the dense layout."""
        return len(self.channel_ids)

    @property
    def num_units(self) -> int:
        """Number of units."""
        return len(self.unit_ids)

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict:
        """SpikeInterface's sparsity.json layout."""
        return {
            "unit_id_to_channel_ids": {str(u): self.channel_ids[self.mask[i]].tolist()
                                       for i, u in enumerate(self.unit_ids.tolist())},
            "channel_ids": self.channel_ids.tolist(),
            "unit_ids": self.unit_ids.tolist(),
        }

    @classmethod
    def from_dict(cls, d: dict) -> "ChannelSparsity":
        unit_ids = np.asarray(d["unit_ids"])
        channel_ids = np.asarray(d["channel_ids"])
        mask = np.zeros((len(unit_ids), len(channel_ids)), dtype=bool)
        lookup = {str(c): i for i, c in enumerate(channel_ids.tolist())}
        for i, u in enumerate(unit_ids.tolist()):
            chans = d["unit_id_to_channel_ids"][str(u)]
            mask[i, [lookup[str(c)] for c in chans]] = True
        return cls(mask, unit_ids, channel_ids)

    @classmethod
    def from_unit_id_to_channel_ids(cls, unit_id_to_channel_ids: dict, unit_ids, channel_ids) -> "ChannelSparsity":
        return cls.from_dict({"unit_id_to_channel_ids": {str(k): list(v) for k, v in unit_id_to_channel_ids.items()},
                              "unit_ids": list(np.asarray(unit_ids).tolist()),
                              "channel_ids": list(np.asarray(channel_ids).tolist())})

    # ------------------------------------------------------------------ constructors
    @classmethod
    def create_dense(cls, we_or_templates) -> "ChannelSparsity":
        info = _templates_info(we_or_templates)
        return cls(np.ones((len(info.unit_ids), len(info.channel_ids)), bool), info.unit_ids, info.channel_ids)

    @classmethod
    def from_radius(cls, we_or_templates, radius_um: float, peak_sign: str = "neg") -> "ChannelSparsity":
        """Channels within ``radius_um`` of each unit's extremum channel."""
        info = _templates_info(we_or_templates)
        mask = sparsity_mask(info.backend, info.templates, "radius", peak_sign, info.nbefore,
                             locations=info.locations, radius_um=radius_um)
        return cls(mask, info.unit_ids, info.channel_ids)

    @classmethod
    def from_best_channels(cls, we_or_templates, num_channels: int, peak_sign: str = "neg",
                           amplitude_mode: str | None = None) -> "ChannelSparsity":
        """The ``num_channels`` channels of largest template amplitude for each unit.

        ``amplitude_mode`` ("extremum", "at_index", "peak_to_peak"; None: "extremum") says how the
        amplitude is taken, as in SpikeInterface 0.105.
        """
        info = _templates_info(we_or_templates)
        if amplitude_mode is None or amplitude_mode == "extremum":
            mask = sparsity_mask(info.backend, info.templates, "best_channels", peak_sign, info.nbefore,
                                 num_channels=num_channels)
            return cls(mask, info.unit_ids, info.channel_ids)
        if num_channels is None or not 1 <= int(num_channels) <= len(info.channel_ids):
            raise ValueError(f"num_channels={num_channels!r}: allowed 1..{len(info.channel_ids)}")
        amps = _amplitudes(info, peak_sign, amplitude_mode)
        mask = np.zeros(amps.shape, dtype=bool)
        for u in range(amps.shape[0]):
            mask[u, np.argsort(amps[u])[::-1][:int(num_channels)]] = True
        return cls(mask, info.unit_ids, info.channel_ids)

    @classmethod
    def from_snr(cls, we_or_templates, threshold: float, peak_sign: str = "neg",
                 noise_levels: np.ndarray | None = None, amplitude_mode: str | None = None) -> "ChannelSparsity":
        """Channels whose template amplitude / noise level is at least ``threshold``.

        ``amplitude_mode`` ("extremum", "at_index", "peak_to_peak"; None: "extremum") says how the
        amplitude is taken, as in SpikeInterface 0.105.
        """
        if threshold is None:
            raise ValueError("method='threshold' needs threshold= (an SNR, e.g. 5)")
        info = _templates_info(we_or_templates)
        if noise_levels is None:
            noise_levels = info.noise_levels()
        if amplitude_mode is None or amplitude_mode == "extremum":
            mask = sparsity_mask(info.backend, info.templates, "threshold", peak_sign, info.nbefore,
                                 threshold=threshold, noise_levels=noise_levels)
            return cls(mask, info.unit_ids, info.channel_ids)
        noise_levels = np.asarray(noise_levels, dtype="float64")
        if noise_levels.shape != (len(info.channel_ids),):
            raise ValueError(f"noise_levels has shape {noise_levels.shape}, expected ({len(info.channel_ids)},)")
        amps = _amplitudes(info, peak_sign, amplitude_mode)
        return cls(amps / noise_levels >= float(threshold), info.unit_ids, info.channel_ids)

    @classmethod
    def from_ptp(cls, we_or_templates, threshold: float, noise_levels: np.ndarray | None = None) -> "ChannelSparsity":
        """Channels whose template peak-to-peak amplitude is at least ``threshold`` noise levels.

        Parameters
        ----------
        we_or_templates : WaveformExtractor or dict
        threshold : float
        noise_levels : np.ndarray, optional
            Per channel (computed from the recording when not given).

        Returns
        -------
        ChannelSparsity
        """
        if threshold is None:
            raise ValueError("method='ptp' needs threshold= (peak-to-peak / noise, e.g. 5)")
        info = _templates_info(we_or_templates)
        noise = np.asarray(info.noise_levels() if noise_levels is None else noise_levels, dtype="float64")
        if noise.shape != (len(info.channel_ids),):
            raise ValueError(f"noise_levels has shape {noise.shape}, expected ({len(info.channel_ids)},)")
        ptp = np.ptp(info.templates.astype("float64"), axis=1) if info.templates.size else \
            np.zeros((len(info.unit_ids), len(info.channel_ids)))
        return cls(ptp / noise >= threshold, info.unit_ids, info.channel_ids)

    @classmethod
    def from_energy(cls, waveform_extractor, threshold: float,
                    noise_levels: np.ndarray | None = None) -> "ChannelSparsity":
        """Channels whose waveform energy per sample is at least ``threshold`` noise levels.

        The energy of a channel is the norm of the unit's waveforms on it; it is compared with
        ``noise * sqrt(num_samples * num_spikes)``. Needs a dense extractor with waveforms.

        Parameters
        ----------
        waveform_extractor : WaveformExtractor
        threshold : float
        noise_levels : np.ndarray, optional

        Returns
        -------
        ChannelSparsity
        """
        we = waveform_extractor
        if threshold is None:
            raise ValueError("method='energy' needs threshold= (in noise levels, e.g. 5)")
        if not hasattr(we, "get_waveforms") or not we.has_waveforms() or we.is_sparse():
            raise ValueError("method='energy' needs a dense WaveformExtractor that kept waveforms")
        if noise_levels is None:
            from .recording_tools import get_noise_levels

            noise_levels = get_noise_levels(we.recording, return_scaled=we.return_scaled)
        noise = np.sqrt(we.nsamples) * np.asarray(noise_levels, dtype="float64")
        mask = np.zeros((len(we.unit_ids), len(we.channel_ids)), dtype=bool)
        for u, unit_id in enumerate(we.unit_ids.tolist()):
            wfs = np.asarray(we.get_waveforms(unit_id), dtype="float64")
            if wfs.shape[0]:
                energies = np.linalg.norm(wfs, axis=(0, 1))
                mask[u] = energies / (noise * np.sqrt(wfs.shape[0])) >= threshold
        return cls(mask, we.unit_ids, we.channel_ids)

    @classmethod
    def from_amplitude(cls, we_or_templates, threshold: float, amplitude_mode: str | None = None,
                       peak_sign: str = "neg") -> "ChannelSparsity":
        """Channels whose template amplitude (in the templates' unit, µV when scaled) is at least ``threshold``.

        Parameters
        ----------
        we_or_templates : WaveformExtractor or dict
        threshold : float
        amplitude_mode : {"extremum", "at_index", "peak_to_peak"}, optional
            How the amplitude is taken (None: "extremum").
        peak_sign : {"neg", "pos", "both"}

        Returns
        -------
        ChannelSparsity
        """
        if threshold is None:
            raise ValueError("method='amplitude' needs threshold= (in µV)")
        info = _templates_info(we_or_templates)
        amps = _amplitudes(info, peak_sign, amplitude_mode)
        return cls(amps >= threshold, info.unit_ids, info.channel_ids)

    @classmethod
    def from_closest_channels(cls, we_or_templates, num_channels: int, peak_sign: str = "neg") -> "ChannelSparsity":
        """The ``num_channels`` channels closest to each unit's extremum channel (itself included).

        Parameters
        ----------
        we_or_templates : WaveformExtractor or dict
        num_channels : int
        peak_sign : {"neg", "pos", "both"}

        Returns
        -------
        ChannelSparsity
        """
        info = _templates_info(we_or_templates)
        if num_channels is None or int(num_channels) < 1:
            raise ValueError(f"num_channels={num_channels!r}: give a positive number of channels")
        if info.locations is None:
            raise ValueError("method='closest_channels' needs channel locations: attach a probe (recording.set_probe)")
        locations = np.asarray(info.locations, dtype="float64")
        distances = np.linalg.norm(locations[:, None] - locations[None, :], axis=2)
        channels, _, _ = template_extremum(info, peak_sign)
        mask = np.zeros((len(info.unit_ids), len(info.channel_ids)), dtype=bool)
        for u, channel in enumerate(channels):
            mask[u, np.argsort(distances[channel], kind="stable")[:int(num_channels)]] = True
        return cls(mask, info.unit_ids, info.channel_ids)

    @classmethod
    def from_radius_and_main_channel(cls, unit_ids: Sequence, channel_ids: Sequence, main_channel_indices: Sequence,
                                     channel_locations: np.ndarray, radius_um: float) -> "ChannelSparsity":
        """Channels within ``radius_um`` of each unit's given main channel.

        Parameters
        ----------
        unit_ids, channel_ids : sequence
        main_channel_indices : sequence of int
            Main channel index of each unit.
        channel_locations : np.ndarray
            (num_channels, 2 or 3) µm.
        radius_um : float

        Returns
        -------
        ChannelSparsity
        """
        locations = np.asarray(channel_locations, dtype="float64")
        main = np.asarray(main_channel_indices, dtype="int64")
        if len(main) != len(unit_ids):
            raise ValueError(f"main_channel_indices has {len(main)} values for {len(unit_ids)} units")
        if locations.shape[0] != len(channel_ids):
            raise ValueError(f"channel_locations has {locations.shape[0]} rows for {len(channel_ids)} channels")
        distances = np.linalg.norm(locations[:, None] - locations[None, :], axis=2)
        mask = np.zeros((len(unit_ids), len(channel_ids)), dtype=bool)
        for u, channel in enumerate(main):
            mask[u] = distances[channel] <= radius_um
        return cls(mask, unit_ids, channel_ids)

    def sparsify_templates(self, templates_array: np.ndarray) -> np.ndarray:
        """Dense templates (units, samples, channels) to (units, samples, max active channels), zero padded.

        Parameters
        ----------
        templates_array : np.ndarray

        Returns
        -------
        np.ndarray
        """
        templates_array = np.asarray(templates_array)
        if templates_array.ndim != 3 or templates_array.shape[0] != self.num_units or \
                templates_array.shape[2] != self.num_channels:
            raise ValueError(f"templates_array has shape {templates_array.shape}, expected ({self.num_units}, "
                             f"num_samples, {self.num_channels})")
        out = np.zeros((self.num_units, templates_array.shape[1], self.max_num_active_channels),
                       dtype=templates_array.dtype)
        for u in range(self.num_units):
            channels = np.flatnonzero(self.mask[u])
            out[u, :, :channels.size] = templates_array[u][:, channels]
        return out

    def densify_templates(self, templates_array: np.ndarray) -> np.ndarray:
        """Sparse templates (units, samples, <= num channels) back to dense, zeros off the mask.

        Parameters
        ----------
        templates_array : np.ndarray

        Returns
        -------
        np.ndarray
        """
        templates_array = np.asarray(templates_array)
        if templates_array.ndim != 3 or templates_array.shape[0] != self.num_units:
            raise ValueError(f"templates_array has shape {templates_array.shape}, expected ({self.num_units}, "
                             f"num_samples, channels)")
        out = np.zeros((self.num_units, templates_array.shape[1], self.num_channels), dtype=templates_array.dtype)
        for u in range(self.num_units):
            channels = np.flatnonzero(self.mask[u])
            out[u][:, channels] = templates_array[u][:, :channels.size]
        return out

    @classmethod
    def from_property(cls, we_or_templates, by_property: str, peak_sign: str = "neg") -> "ChannelSparsity":
        """Channels whose recording property ``by_property`` (e.g. "group") equals the unit's value.

        The unit's value is the sorting's property when it has one (as SpikeInterface), else the
        value of the unit's extremum channel.
        """
        check_peak_sign(peak_sign)
        info = _templates_info(we_or_templates)
        if isinstance(we_or_templates, dict):
            recording, sorting = we_or_templates.get("recording"), we_or_templates.get("sorting")
        else:
            recording = getattr(we_or_templates, "recording", None)
            sorting = getattr(we_or_templates, "sorting", None)
        if recording is None:
            raise ValueError("method='by_property' needs the recording")
        values = recording.get_property(by_property)
        if values is None:
            raise ValueError(f"by_property={by_property!r} is not a recording property; "
                             f"available: {recording.get_property_keys()}")
        unit_values = None if sorting is None else sorting.get_property(by_property)
        if unit_values is None:
            be = info.backend
            channels = be.to_host(_extremum_channels(be, info.templates, peak_sign, info.nbefore))
            unit_values = values[np.asarray(channels)]
        mask = values[None, :] == np.asarray(unit_values)[:, None]
        return cls(mask, info.unit_ids, info.channel_ids)


class _TemplatesInfo:
    """What sparsity needs from a WaveformExtractor or a Templates-like object."""

    def __init__(self, templates, unit_ids, channel_ids, nbefore, locations, noise_fn, backend):
        self.templates = templates
        self.unit_ids = np.asarray(unit_ids)
        self.channel_ids = np.asarray(channel_ids)
        self.nbefore = nbefore
        self.locations = locations
        self.noise_levels = noise_fn
        self.backend = backend


def _templates_info(obj, backend: str = "numpy") -> _TemplatesInfo:
    from ..backends import get_backend

    be = get_backend(backend)
    if hasattr(obj, "get_all_templates") and hasattr(obj, "recording"):
        templates = np.ascontiguousarray(obj.get_all_templates(mode="average"), dtype="float32")
        if obj.is_sparse():
            templates = np.stack([obj.sparsity.densify_waveforms(templates[i], u)
                                  if obj.sparsity.are_waveforms_sparse(templates[i], u) else templates[i]
                                  for i, u in enumerate(obj.unit_ids)]) if len(obj.unit_ids) else templates
        locations = None
        try:
            locations = obj.get_channel_locations()
        except ValueError:
            pass

        def noise():
            from .recording_tools import get_noise_levels

            if obj.recording is None:
                raise ValueError("method='threshold' needs noise_levels= when the recording is not available")
            return get_noise_levels(obj.recording, return_scaled=obj.return_scaled)

        return _TemplatesInfo(templates, obj.unit_ids, obj.channel_ids, obj.nbefore, locations, noise, be)
    if isinstance(obj, dict) and "templates" in obj:
        templates = np.ascontiguousarray(obj["templates"], dtype="float32")
        locations = obj.get("channel_locations")

        def noise():
            if obj.get("noise_levels") is None:
                raise ValueError("method='threshold' needs noise_levels")
            return obj["noise_levels"]

        return _TemplatesInfo(templates, obj.get("unit_ids", np.arange(templates.shape[0])),
                              obj.get("channel_ids", np.arange(templates.shape[2])), obj.get("nbefore", 0),
                              locations, noise, be)
    raise TypeError(f"expected a WaveformExtractor or a dict with 'templates', got {type(obj).__name__}")


def _extremum_channels(be, templates, peak_sign: str, nbefore: int, stream=None):
    """Extremum channel of each template, as an array of ``be`` (host: numpy)."""
    num_units = templates.shape[0]
    channels = be.empty((num_units,), "int64", stream=stream)
    amplitudes = be.empty((num_units,), "float64", stream=stream)
    shifts = be.empty((num_units,), "int64", stream=stream)
    be.kernels.template_extremum(templates, peak_sign, int(nbefore), channels, amplitudes, shifts, stream=stream)
    return channels


def template_extremum(info: _TemplatesInfo, peak_sign: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Extremum channel, its amplitude and the peak shift of each template (host arrays).

    Parameters
    ----------
    info : _TemplatesInfo
        Templates and where they are.
    peak_sign : {"neg", "pos", "both"}
        Which peak.

    Returns
    -------
    tuple of np.ndarray
        ``(channels, amplitudes, shifts)``.
    """
    check_peak_sign(peak_sign)
    be, templates = info.backend, info.templates
    num_units = templates.shape[0]
    out = (be.empty((num_units,), "int64"), be.empty((num_units,), "float64"), be.empty((num_units,), "int64"))
    if num_units:
        be.kernels.template_extremum(templates, peak_sign, int(info.nbefore), *out)
    return tuple(be.to_host(x) for x in out)


def abs_channel_amplitudes(info: _TemplatesInfo, peak_sign: str) -> np.ndarray:
    """Absolute amplitude of each template on each channel (host ``(num_units, num_channels)``).

    Parameters
    ----------
    info : _TemplatesInfo
        Templates and where they are.
    peak_sign : {"neg", "pos", "both"}
        Which peak.

    Returns
    -------
    np.ndarray
    """
    check_peak_sign(peak_sign)
    be, templates = info.backend, info.templates
    out = be.empty((templates.shape[0], templates.shape[2]), "float64")
    if templates.shape[0] and templates.shape[2]:
        be.kernels.channel_amplitudes(templates, peak_sign, out)
    return np.abs(be.to_host(out))


def sparsity_mask(be, templates, method: str, peak_sign: str, nbefore: int, locations: np.ndarray | None = None,
                  radius_um: float | None = None, num_channels: int | None = None, threshold: float | None = None,
                  noise_levels: np.ndarray | None = None, stream=None) -> np.ndarray:
    """The boolean mask of a radius, best-channels or SNR sparsity, computed where ``templates`` are.

    Only the mask comes back: on a GPU, the templates (left there by the sparsity estimate), the
    extremum channels and the amplitudes stay on the device.

    Parameters
    ----------
    be : Backend
        The backend holding ``templates``.
    templates : array
        ``(num_units, nsamples, num_channels)`` float templates on ``be``.
    method : {"radius", "best_channels", "threshold", "snr"}
        Sparsity method.
    peak_sign : {"neg", "pos", "both"}
        Which peak defines amplitudes and the extremum channel.
    nbefore : int
        Samples before the spike in a template.
    locations : np.ndarray, optional
        ``(num_channels, 2 or 3)`` channel positions (radius).
    radius_um : float, optional
        Radius (radius).
    num_channels : int, optional
        Channels kept per unit (best_channels).
    threshold : float, optional
        Minimum amplitude / noise (threshold / snr).
    noise_levels : np.ndarray, optional
        Noise per channel, in the units of the templates (threshold / snr).
    stream : DeviceStream, optional
        Stream of the work.

    Returns
    -------
    np.ndarray
        ``(num_units, num_channels)`` bool, on the host.

    Raises
    ------
    ValueError
        A missing or invalid parameter of the method, naming it.
    """
    check_peak_sign(peak_sign)
    num_units, _, total_channels = templates.shape
    if method == "radius":
        if radius_um is None or not radius_um > 0:
            raise ValueError(f"radius_um={radius_um!r}: give a positive radius in µm")
        if locations is None:
            raise ValueError("method='radius' needs channel locations: attach a probe (recording.set_probe) "
                             "or set_channel_locations(); or use method='best_channels'")
    elif method == "best_channels":
        if num_channels is None or not 1 <= int(num_channels) <= total_channels:
            raise ValueError(f"num_channels={num_channels!r}: allowed 1..{total_channels}")
    elif method in ("threshold", "snr"):
        if threshold is None:
            raise ValueError("method='threshold' needs threshold= (an SNR, e.g. 5)")
        noise_levels = np.asarray(noise_levels, dtype="float64")
        if noise_levels.shape != (total_channels,):
            raise ValueError(f"noise_levels has shape {noise_levels.shape}, expected ({total_channels},)")
    else:
        raise ValueError(f"method={method!r}: sparsity_mask takes 'radius', 'best_channels', 'threshold', 'snr'")
    if num_units == 0:
        return np.zeros((0, total_channels), dtype=bool)
    mask = be.empty((num_units, total_channels), "bool", stream=stream)
    if method == "radius":
        channels = _extremum_channels(be, templates, peak_sign, nbefore, stream)
        be.kernels.radius_sparsity(be.asarray(np.ascontiguousarray(locations, "float64"), stream=stream), channels,
                                   float(radius_um), mask, stream=stream)
    else:
        amplitudes = be.empty((num_units, total_channels), "float64", stream=stream)
        be.kernels.channel_amplitudes(templates, peak_sign, amplitudes, stream=stream)
        if method == "best_channels":
            be.kernels.best_channels_sparsity(amplitudes, int(num_channels), mask, stream=stream)
        else:
            be.kernels.snr_sparsity(amplitudes, be.asarray(noise_levels, stream=stream), float(threshold), mask,
                                    stream=stream)
    return be.to_host(mask, stream=stream).astype(bool)


def estimate_sparsity_on_backend(recording, sorting, num_spikes: int, ms_before: float, ms_after: float,
                                 return_scaled: bool, seed, config, method: str = "radius", peak_sign: str = "neg",
                                 radius_um: float | None = 100.0, num_channels: int | None = 5,
                                 threshold: float | None = 5.0, by_property: str | None = None,
                                 job: tuple[str, str] = ("estimate_sparsity", ""), selected: np.ndarray | None = None
                                 ) -> "ChannelSparsity":
    """Sparsity from the mean templates of ``num_spikes`` random spikes per unit, on the job's backend.

    The means are accumulated by the block engine (means only) and stay where they were
    computed; the extremum channels, amplitudes and masks are computed there too, and only the
    mask comes back.

    Parameters
    ----------
    recording, sorting : BaseRecording, BaseSorting
        The traces and the spikes.
    num_spikes : int
        Random spikes per unit.
    ms_before, ms_after : float
        Window.
    return_scaled : bool
        Templates in µV (SNR thresholds compare with noise in µV).
    seed : int or None
        Seed of the spike sampling.
    config : JobConfig
        Backend, engine and budget.
    method, peak_sign, radius_um, num_channels, threshold, by_property
        As in :func:`compute_sparsity`.
    job : tuple of str
        The public call and its stage, for the progress bar.
    selected : np.ndarray, optional
        Indices (in the spike vector) of the spikes to average, instead of ``num_spikes`` random ones
        drawn with ``seed`` (SpikeInterface's :func:`estimate_sparsity` draws its own).

    Returns
    -------
    ChannelSparsity
    """
    from .random_spikes import select_random_spikes
    from .waveforms import _accumulate

    if method not in _METHODS:
        raise ValueError(f"method={method!r}: allowed values are {_METHODS}")
    if selected is None:
        selected = select_random_spikes(sorting, num_spikes, seed)
    mean, _, stream = _accumulate(recording, sorting, selected, ms_before, ms_after, return_scaled, False, config,
                                  job, keep_on_backend=True)
    from ..backends import get_backend

    be = get_backend("numpy") if isinstance(mean, np.ndarray) else config.backend_object
    nbefore = int(ms_before * recording.sampling_frequency / 1000.0)
    if method == "by_property":
        return ChannelSparsity.from_property({"templates": be.to_host(mean, stream=stream), "recording": recording,
                                              "sorting": sorting, "unit_ids": sorting.unit_ids,
                                              "channel_ids": recording.channel_ids, "nbefore": nbefore},
                                             by_property, peak_sign=peak_sign)
    locations = None
    if method == "radius":
        locations = recording.get_channel_locations()
    noise = None
    if method in ("threshold", "snr"):
        from .recording_tools import get_noise_levels

        noise = get_noise_levels(recording, return_scaled=return_scaled)
    mask = sparsity_mask(be, mean, method, peak_sign, nbefore, locations=locations, radius_um=radius_um,
                         num_channels=num_channels, threshold=threshold, noise_levels=noise, stream=stream)
    return ChannelSparsity(mask, sorting.unit_ids, recording.channel_ids)


def _amplitudes(info: _TemplatesInfo, peak_sign: str, amplitude_mode: str | None) -> np.ndarray:
    """Absolute amplitude of every (unit, channel) as SpikeInterface's ``amplitude_mode`` takes it."""
    if amplitude_mode is None or amplitude_mode == "extremum":
        return abs_channel_amplitudes(info, peak_sign)
    if amplitude_mode not in _AMPLITUDE_MODES:
        raise ValueError(f"amplitude_mode={amplitude_mode!r}: allowed values are {_AMPLITUDE_MODES}")
    templates = info.templates.astype("float64")
    if amplitude_mode == "at_index":
        return np.abs(templates[:, int(info.nbefore), :])
    return np.ptp(templates, axis=1) if templates.size else np.zeros((templates.shape[0], templates.shape[2]))


def compute_sparsity(we_or_templates, method: str = "radius", peak_sign: str = "neg", num_channels: int | None = 5,
                     radius_um: float | None = 100.0, threshold: float | None = 5.0, by_property: str | None = None,
                     noise_levels: np.ndarray | None = None, amplitude_mode: str | None = None) -> ChannelSparsity:
    """Sparsity of a WaveformExtractor (or templates dict) by one of the methods.

    Parameters
    ----------
    we_or_templates : WaveformExtractor or dict
        A dict needs "templates" (units, samples, channels) and, per method, "channel_locations",
        "noise_levels", "unit_ids", "channel_ids", "nbefore".
    method : {"radius", "best_channels", "closest_channels", "threshold" (alias "snr"), "amplitude", "ptp", \
"energy", "by_property"}
    peak_sign : {"neg", "pos", "both"}
    num_channels : int
        For "best_channels" and "closest_channels".
    radius_um : float
        For "radius".
    threshold : float
        SNR threshold for "threshold", "ptp" and "energy"; µV for "amplitude".
    by_property : str
        For "by_property".
    noise_levels : np.ndarray, optional
        Per-channel noise for "threshold", "ptp" and "energy" (default: computed from the recording).
    amplitude_mode : {"extremum", "at_index", "peak_to_peak"}, optional
        How "best_channels", "snr" and "amplitude" take a template's amplitude (None: "extremum").

    Returns
    -------
    ChannelSparsity
        The channels of each unit.
    """
    if method not in _METHODS:
        raise ValueError(f"method={method!r}: allowed values are {_METHODS}")
    check_peak_sign(peak_sign)
    if method == "radius":
        return ChannelSparsity.from_radius(we_or_templates, radius_um, peak_sign=peak_sign)
    if method == "best_channels":
        return ChannelSparsity.from_best_channels(we_or_templates, num_channels, peak_sign=peak_sign,
                                                  amplitude_mode=amplitude_mode)
    if method == "closest_channels":
        return ChannelSparsity.from_closest_channels(we_or_templates, num_channels, peak_sign=peak_sign)
    if method in ("threshold", "snr"):
        return ChannelSparsity.from_snr(we_or_templates, threshold, peak_sign=peak_sign, noise_levels=noise_levels,
                                        amplitude_mode=amplitude_mode)
    if method == "amplitude":
        return ChannelSparsity.from_amplitude(we_or_templates, threshold, amplitude_mode=amplitude_mode,
                                              peak_sign=peak_sign)
    if method == "ptp":
        return ChannelSparsity.from_ptp(we_or_templates, threshold, noise_levels=noise_levels)
    if method == "energy":
        return ChannelSparsity.from_energy(we_or_templates, threshold, noise_levels=noise_levels)
    if by_property is None:
        raise ValueError("method='by_property' needs by_property= (e.g. 'group')")
    return ChannelSparsity.from_property(we_or_templates, by_property, peak_sign=peak_sign)
