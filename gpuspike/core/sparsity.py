"""ChannelSparsity: the channels each unit's waveforms are kept on, and compute_sparsity."""
from __future__ import annotations

from typing import Sequence

import numpy as np

# the backend side (re-exported here: other modules import these names from gpuspike.core.sparsity)
from .argnames import accepts_aliases
from .sparsity_backend import (_AMPLITUDE_MODES, _PEAK_SIGNS, _TemplatesInfo, _amplitudes,  # noqa: F401
                               _extremum_channels, _templates_info, abs_channel_amplitudes, check_peak_sign,
                               estimate_sparsity_on_backend, sparsity_mask, template_extremum)

_METHODS = ("radius", "best_channels", "closest_channels", "threshold", "snr", "amplitude", "ptp", "energy",
            "by_property")


def densify(templates: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """Templates stored on each unit's first channels (sparse layout) placed on all channels.

    Parameters
    ----------
    templates : np.ndarray
        ``(U, nsamples, K)``: unit ``u`` on its ``mask[u].sum()`` first slots.
    mask : np.ndarray or None
        ``(U, C)`` bool; None returns ``templates``.

    Returns
    -------
    np.ndarray
        ``(U, nsamples, C)``, zeros outside each unit's channels.
    """
    if mask is None:
        return templates
    dense = np.zeros(templates.shape[:2] + (mask.shape[1],), templates.dtype)
    for u in range(templates.shape[0]):
        active = np.flatnonzero(mask[u])
        dense[u][:, active] = templates[u][:, :active.size]
    return dense


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
            from .validation import MismatchError

            raise MismatchError(f"mask has shape {mask.shape}, expected ({len(self.unit_ids)}, "
                                f"{len(self.channel_ids)}): one row per unit id, one column per channel id")
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
    def from_dict(cls, dictionary: dict) -> "ChannelSparsity":
        """The sparsity of :meth:`to_dict` (SpikeInterface's sparsity.json layout).

        Parameters
        ----------
        dictionary : dict
            ``unit_id_to_channel_ids`` (keyed by unit id or by its string, as JSON stores it),
            ``unit_ids`` and ``channel_ids``.

        Returns
        -------
        ChannelSparsity
        """
        unit_ids = np.asarray(dictionary["unit_ids"])
        channel_ids = np.asarray(dictionary["channel_ids"])
        mask = np.zeros((len(unit_ids), len(channel_ids)), dtype=bool)
        lookup = {str(c): i for i, c in enumerate(channel_ids.tolist())}
        by_unit = dictionary["unit_id_to_channel_ids"]
        for i, u in enumerate(unit_ids.tolist()):
            chans = by_unit[u] if u in by_unit else by_unit[str(u)]
            mask[i, [lookup[str(c)] for c in chans]] = True
        return cls(mask, unit_ids, channel_ids)

    @classmethod
    def from_unit_id_to_channel_ids(cls, unit_id_to_channel_ids: dict, unit_ids, channel_ids) -> "ChannelSparsity":
        """The sparsity of ``{unit_id: channel ids}``.

        Parameters
        ----------
        unit_id_to_channel_ids : dict
        unit_ids, channel_ids : array-like

        Returns
        -------
        ChannelSparsity
        """
        return cls.from_dict({"unit_id_to_channel_ids": {str(k): list(v) for k, v in unit_id_to_channel_ids.items()},
                              "unit_ids": list(np.asarray(unit_ids).tolist()),
                              "channel_ids": list(np.asarray(channel_ids).tolist())})

    # ------------------------------------------------------------------ constructors
    # Each takes a SortingAnalyzer or a Templates (SpikeInterface 0.105's rules, in sparsity_templates)
    # or a WaveformExtractor / templates dict (0.100's rules: peak_sign "neg" by default).
    @classmethod
    @accepts_aliases(sorting_analyzer="templates_or_sorting_analyzer")
    def create_dense(cls, templates_or_sorting_analyzer) -> "ChannelSparsity":
        """Every channel for every unit.

        Parameters
        ----------
        templates_or_sorting_analyzer : SortingAnalyzer, Templates, WaveformExtractor or dict
            Also taken as ``sorting_analyzer=`` (SpikeInterface 0.105's name).

        Returns
        -------
        ChannelSparsity
        """
        obj = templates_or_sorting_analyzer
        if _new_kind(obj) is None:
            obj = _templates_info(obj)
        return cls(np.ones((len(obj.unit_ids), len(obj.channel_ids)), bool), obj.unit_ids, obj.channel_ids)

    @classmethod
    def from_radius(cls, templates_or_sorting_analyzer, radius_um: float, peak_sign: str | None = None,
                    peak_mode: str | None = None) -> "ChannelSparsity":
        """Channels within ``radius_um`` of each unit's main channel.

        Parameters
        ----------
        templates_or_sorting_analyzer : SortingAnalyzer, Templates, WaveformExtractor or dict
            An analyzer's main channels are its own (``peak_sign`` and ``peak_mode`` must be None); a
            Templates' are ``get_main_channels(peak_sign, peak_mode)`` (None: "both", "extremum"); a
            WaveformExtractor's are its extremum channels for ``peak_sign`` (None: "neg").
        radius_um : float
            Radius in µm.
        peak_sign : {"neg", "pos", "both"}, optional
        peak_mode : {"extremum", "at_index", "peak_to_peak"}, optional

        Returns
        -------
        ChannelSparsity
        """
        obj = templates_or_sorting_analyzer
        kind = _new_kind(obj)
        if kind is not None:
            from .sparsity_templates import radius_mask

            return cls(radius_mask(obj, kind, radius_um, peak_sign, peak_mode), obj.unit_ids, obj.channel_ids)
        peak_sign = check_peak_sign("neg" if peak_sign is None else peak_sign)
        info = _templates_info(obj)
        if peak_mode not in (None, "extremum"):
            if radius_um is None or not radius_um > 0:
                raise ValueError(f"radius_um={radius_um!r}: give a positive radius in µm")
            if info.locations is None:
                raise ValueError("method='radius' needs channel locations: attach a probe (recording.set_probe)")
            return cls.from_radius_and_main_channel(info.unit_ids, info.channel_ids,
                                                    _legacy_main_channels(info, peak_sign, peak_mode),
                                                    info.locations, radius_um)
        mask = sparsity_mask(info.backend, info.templates, "radius", peak_sign, info.nbefore,
                             locations=info.locations, radius_um=radius_um)
        return cls(mask, info.unit_ids, info.channel_ids)

    @classmethod
    def from_best_channels(cls, templates_or_sorting_analyzer, num_channels: int, peak_sign: str | None = None,
                           amplitude_mode: str | None = "extremum") -> "ChannelSparsity":
        """The ``num_channels`` channels of largest template amplitude for each unit.

        Parameters
        ----------
        templates_or_sorting_analyzer : SortingAnalyzer, Templates, WaveformExtractor or dict
        num_channels : int
            Channels kept per unit (all of them for a Templates / an analyzer with fewer channels).
        peak_sign : {"neg", "pos", "both"}, optional
            Must be None for an analyzer (its own); None: "both" (with a warning) for a Templates,
            "neg" for a WaveformExtractor.
        amplitude_mode : {"extremum", "at_index", "peak_to_peak"}, optional
            How the amplitude is taken (None: the analyzer's ``peak_mode``, else "extremum").

        Returns
        -------
        ChannelSparsity
        """
        obj = templates_or_sorting_analyzer
        kind = _new_kind(obj)
        if kind is not None:
            from .sparsity_templates import best_channels_mask

            return cls(best_channels_mask(obj, kind, num_channels, peak_sign, amplitude_mode), obj.unit_ids,
                       obj.channel_ids)
        peak_sign = "neg" if peak_sign is None else peak_sign
        info = _templates_info(obj)
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
    def from_snr(cls, templates_or_sorting_analyzer, threshold: float, amplitude_mode: str | None = None,
                 peak_sign: str | None = None, noise_levels: np.ndarray | None = None) -> "ChannelSparsity":
        """Channels whose template amplitude / noise level is at least ``threshold``.

        SpikeInterface 0.100's positional order ``(threshold, peak_sign, noise_levels, amplitude_mode)``
        is recognised too (a peak sign where ``amplitude_mode`` stands).

        Parameters
        ----------
        templates_or_sorting_analyzer : SortingAnalyzer, Templates, WaveformExtractor or dict
            An analyzer or a Templates must be dense.
        threshold : float
            In noise levels.
        amplitude_mode : {"extremum", "at_index", "peak_to_peak"}, optional
            How the amplitude is taken (None: the analyzer's ``peak_mode``, else "extremum").
        peak_sign : {"neg", "pos", "both"}, optional
            As in :meth:`from_best_channels`.
        noise_levels : np.ndarray, optional
            Per channel, in the templates' units. Default: the analyzer's "noise_levels" extension, or
            the WaveformExtractor's recording; required for a Templates.

        Returns
        -------
        ChannelSparsity
        """
        amplitude_mode, peak_sign, noise_levels = _legacy_snr_args(amplitude_mode, peak_sign, noise_levels)
        obj = templates_or_sorting_analyzer
        kind = _new_kind(obj)
        if kind is not None:
            from .sparsity_templates import snr_mask

            return cls(snr_mask(obj, kind, threshold, peak_sign, amplitude_mode, noise_levels), obj.unit_ids,
                       obj.channel_ids)
        if threshold is None:
            raise ValueError("method='threshold' needs threshold= (an SNR, e.g. 5)")
        peak_sign = "neg" if peak_sign is None else peak_sign
        info = _templates_info(obj)
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

    @classmethod
    def from_energy(cls, sorting_analyzer, threshold: float, noise_levels: np.ndarray | None = None
                    ) -> "ChannelSparsity":
        """Channels whose waveform energy per sample is at least ``threshold`` noise levels.

        The energy of a channel is the norm of the unit's waveforms on it; it is compared with
        ``noise * sqrt(num_samples * num_spikes)``.

        Parameters
        ----------
        sorting_analyzer : SortingAnalyzer or WaveformExtractor
            A dense analyzer with its "waveforms" extension (and "noise_levels" unless
            ``noise_levels`` is given), or a dense WaveformExtractor that kept its waveforms.
        threshold : float
        noise_levels : np.ndarray, optional
            Per channel (default: the analyzer's extension, or measured on the extractor's recording).

        Returns
        -------
        ChannelSparsity
        """
        we = sorting_analyzer
        kind = _new_kind(we)
        if kind == "templates":
            raise ValueError("method='energy' needs the waveforms: give a SortingAnalyzer, not a Templates")
        if kind == "analyzer":
            from .sparsity_templates import energy_mask

            return cls(energy_mask(we, threshold, noise_levels), we.unit_ids, we.channel_ids)
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
    def from_amplitude(cls, templates_or_sorting_analyzer, threshold: float, amplitude_mode: str | None = None,
                       peak_sign: str | None = None) -> "ChannelSparsity":
        """Channels whose template amplitude (µV) is at least ``threshold``.

        Parameters
        ----------
        templates_or_sorting_analyzer : SortingAnalyzer, Templates, WaveformExtractor or dict
            An analyzer or a Templates must be dense and in µV.
        threshold : float
            In µV (the templates' unit for a WaveformExtractor).
        amplitude_mode : {"extremum", "at_index", "peak_to_peak"}, optional
            How the amplitude is taken (None: the analyzer's ``peak_mode``, else "extremum").
        peak_sign : {"neg", "pos", "both"}, optional
            As in :meth:`from_best_channels`.

        Returns
        -------
        ChannelSparsity
        """
        obj = templates_or_sorting_analyzer
        kind = _new_kind(obj)
        if kind is not None:
            from .sparsity_templates import amplitude_mask

            return cls(amplitude_mask(obj, kind, threshold, amplitude_mode, peak_sign), obj.unit_ids,
                       obj.channel_ids)
        if threshold is None:
            raise ValueError("method='amplitude' needs threshold= (in µV)")
        info = _templates_info(obj)
        amps = _amplitudes(info, "neg" if peak_sign is None else peak_sign, amplitude_mode)
        return cls(amps >= threshold, info.unit_ids, info.channel_ids)

    @classmethod
    def from_closest_channels(cls, templates_or_sorting_analyzer, num_channels: int, peak_sign: str | None = None,
                              peak_mode: str | None = None) -> "ChannelSparsity":
        """The ``num_channels`` channels closest to each unit's main channel (itself included; ties: lower index).

        Parameters
        ----------
        templates_or_sorting_analyzer : SortingAnalyzer, Templates, WaveformExtractor or dict
        num_channels : int
        peak_sign, peak_mode : str, optional
            Which main channel, as in :meth:`from_radius`.

        Returns
        -------
        ChannelSparsity
        """
        obj = templates_or_sorting_analyzer
        kind = _new_kind(obj)
        if kind is not None:
            from .sparsity_templates import closest_channels_mask

            return cls(closest_channels_mask(obj, kind, num_channels, peak_sign, peak_mode), obj.unit_ids,
                       obj.channel_ids)
        info = _templates_info(obj)
        if num_channels is None or int(num_channels) < 1:
            raise ValueError(f"num_channels={num_channels!r}: give an int >= 1")
        if info.locations is None:
            raise ValueError("method='closest_channels' needs channel locations: attach a probe (recording.set_probe)")
        locations = np.asarray(info.locations, dtype="float64")
        distances = np.linalg.norm(locations[:, None] - locations[None, :], axis=2)
        channels = _legacy_main_channels(info, check_peak_sign("neg" if peak_sign is None else peak_sign), peak_mode)
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
        main = np.asarray(main_channel_indices)
        if len(main) != len(unit_ids):
            raise ValueError(f"main_channel_indices has {len(main)} values for {len(unit_ids)} units")
        if locations.ndim != 2 or locations.shape[0] != len(channel_ids):
            raise ValueError(f"channel_locations has shape {locations.shape}, expected ({len(channel_ids)}, 2 or 3)")
        if main.size and (main.dtype.kind not in "iu" or main.min() < 0 or main.max() >= len(channel_ids)):
            raise ValueError(f"main_channel_indices must be channel indices in 0..{len(channel_ids) - 1}, got "
                             f"{main.tolist()[:10]}")
        if radius_um is None or not radius_um >= 0:
            raise ValueError(f"radius_um={radius_um!r}: give a radius >= 0 in µm")
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
        return densify(templates_array, self.mask)


    @classmethod
    def from_property(cls, sorting, recording=None, by_property: str | None = None,
                      peak_sign: str | None = None) -> "ChannelSparsity":
        """Channels whose recording property ``by_property`` (e.g. "group") equals the unit's value.

        Three call forms:

        * ``from_property(sorting, recording, by_property)`` (SpikeInterface 0.105): both have the
          property; each unit keeps the channels of its value;
        * ``from_property(sorting_analyzer, by_property)``: the same with the analyzer's sorting and
          recording properties;
        * ``from_property(waveform_extractor, by_property, peak_sign="neg")`` (0.100): the unit's value
          is the sorting's property when it has one, else the value of its extremum channel.

        Parameters
        ----------
        sorting : BaseSorting, SortingAnalyzer, WaveformExtractor or dict
        recording : BaseRecording or str, optional
            The recording (first form), or ``by_property`` given positionally (other forms).
        by_property : str, optional
        peak_sign : {"neg", "pos", "both"}, optional
            Third form only (default "neg").

        Returns
        -------
        ChannelSparsity
        """
        from .sorting import BaseSorting

        obj = sorting
        if isinstance(obj, BaseSorting):
            if recording is None or isinstance(recording, str) or by_property is None:
                raise ValueError("from_property(sorting, recording, by_property): give the recording and the "
                                 "property name (e.g. by_property='group')")
            values = recording.get_property(by_property)
            if values is None:
                raise ValueError(f"by_property={by_property!r} is not a recording property; available: "
                                 f"{recording.get_property_keys()}")
            from .sparsity_templates import property_mask

            return cls(property_mask(obj, values, by_property), obj.unit_ids, recording.channel_ids)
        if isinstance(recording, str):  # from_property(obj, "group"[, "neg"])
            if by_property is not None:
                if peak_sign is not None:
                    raise TypeError("from_property: by_property given twice (positionally and by keyword)")
                peak_sign = by_property
            by_property = recording
        elif recording is not None:
            raise TypeError(f"from_property({type(obj).__name__}, ...): the second argument is by_property (a str), "
                            f"got {type(recording).__name__}")
        if by_property is None:
            raise ValueError("method='by_property' needs by_property= (e.g. 'group')")
        kind = _new_kind(obj)
        if kind == "templates":
            raise ValueError("by_property needs recording and sorting properties: use from_property(sorting, "
                             "recording, by_property)")
        if kind == "analyzer":
            if peak_sign is not None:
                raise ValueError(f"from_property(peak_sign={peak_sign!r}) with a SortingAnalyzer: pass peak_sign=None")
            from .sparsity_templates import analyzer_property_mask

            return cls(analyzer_property_mask(obj, by_property), obj.unit_ids, obj.channel_ids)
        peak_sign = check_peak_sign("neg" if peak_sign is None else peak_sign)
        info = _templates_info(obj)
        if isinstance(obj, dict):
            recording, sorting = obj.get("recording"), obj.get("sorting")
        else:
            recording = getattr(obj, "recording", None)
            sorting = getattr(obj, "sorting", None)
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


def _new_kind(obj) -> str | None:
    """"analyzer" or "templates" for SpikeInterface 0.105's inputs, None for a WaveformExtractor or a dict."""
    from .sparsity_templates import input_kind

    return input_kind(obj)


def _legacy_main_channels(info, peak_sign: str, peak_mode: str | None) -> np.ndarray:
    """Extremum channel of each template of a WaveformExtractor / dict for ``peak_mode``."""
    if peak_mode is None or peak_mode == "extremum":
        return template_extremum(info, peak_sign)[0]
    from .template_tools import _check_mode, _signed_amplitudes

    amps = np.abs(_signed_amplitudes(info, peak_sign, _check_mode(peak_mode, "peak_mode")))
    return np.argmax(amps, axis=1) if len(amps) else np.zeros(0, "int64")


def _legacy_snr_args(amplitude_mode, peak_sign, noise_levels):
    """``from_snr``'s arguments, SpikeInterface 0.100's positional order ``(peak_sign, noise_levels,
    amplitude_mode)`` recognised by a peak sign in the ``amplitude_mode`` slot."""
    if not (isinstance(amplitude_mode, str) and amplitude_mode in _PEAK_SIGNS):
        return amplitude_mode, peak_sign, noise_levels
    if isinstance(peak_sign, str):
        raise TypeError(f"from_snr: amplitude_mode={amplitude_mode!r} is a peak sign and peak_sign={peak_sign!r}: "
                        f"pass peak_sign=, noise_levels= and amplitude_mode= by keyword")
    new_mode = noise_levels if isinstance(noise_levels, str) or noise_levels is None else None
    new_noise = peak_sign if peak_sign is not None else (None if isinstance(noise_levels, str) else noise_levels)
    return new_mode, amplitude_mode, new_noise



def compute_sparsity(templates_or_sorting_analyzer, noise_levels: np.ndarray | None = None, method: str | None = None,
                     peak_sign: str | None = None, amplitude_mode: str | None = None, num_channels: int | None = 5,
                     radius_um: float | None = 100.0, threshold: float | None = 5.0,
                     by_property: str | None = None) -> ChannelSparsity:
    """Sparsity of a SortingAnalyzer, a Templates, a WaveformExtractor or a templates dict, by one method.

    With a SortingAnalyzer or a Templates this is SpikeInterface 0.105's ``compute_sparsity``: the
    analyzer's ``peak_sign`` is its own (pass None) and its main channels are its own; a Templates
    needs ``peak_sign`` and ``amplitude_mode`` for the template methods. With a WaveformExtractor or
    a dict it is 0.100's (``peak_sign`` default "neg"); the specification's positional form
    ``compute_sparsity(we, "radius", "neg")`` (method second) is recognised by its string.

    Parameters
    ----------
    templates_or_sorting_analyzer : SortingAnalyzer, Templates, WaveformExtractor or dict
        A dict needs "templates" (units, samples, channels) and, per method, "channel_locations",
        "noise_levels", "unit_ids", "channel_ids", "nbefore".
    noise_levels : np.ndarray, optional
        Per-channel noise for "snr" / "threshold", "ptp" and "energy". Default: the analyzer's
        "noise_levels" extension, or measured on the WaveformExtractor's recording; required for a Templates.
    method : {"radius", "best_channels", "closest_channels", "snr" (alias "threshold"), "amplitude", "ptp", \
"energy", "by_property"}, optional
        Default "radius".
    peak_sign : {"neg", "pos", "both"}, optional
        Must be None for an analyzer.
    amplitude_mode : {"extremum", "at_index", "peak_to_peak"}, optional
        How "best_channels", "snr" and "amplitude" take a template's amplitude (a Templates' main
        channels for "radius" / "closest_channels" too). None: the analyzer's ``peak_mode``, or "extremum".
    num_channels : int
        For "best_channels" and "closest_channels".
    radius_um : float
        For "radius".
    threshold : float
        In noise levels for "snr", "ptp" and "energy"; in µV for "amplitude".
    by_property : str
        For "by_property".

    Returns
    -------
    ChannelSparsity
        The channels of each unit.
    """
    obj = templates_or_sorting_analyzer
    if isinstance(noise_levels, str):  # compute_sparsity(we, "radius"[, "neg"]): the specification's order
        if method is not None:
            if not (isinstance(method, str) and method in _PEAK_SIGNS) or peak_sign is not None:
                raise TypeError(f"compute_sparsity: method given twice ({noise_levels!r} positionally, then "
                                f"{method!r}); pass the arguments after the method by keyword")
            peak_sign = method
        if peak_sign is not None and not isinstance(peak_sign, str):
            raise TypeError(f"compute_sparsity(we, {noise_levels!r}, ...): pass the arguments after the method by "
                            f"keyword (peak_sign={peak_sign!r} is not a peak sign)")
        method, noise_levels = noise_levels, None
    method = "radius" if method is None else method
    if method not in _METHODS:
        raise ValueError(f"method={method!r}: allowed values are {_METHODS}")
    kind = _new_kind(obj)
    if kind is not None:
        from .sparsity_templates import compute

        mask = compute(obj, kind, noise_levels, method, peak_sign, amplitude_mode, num_channels, radius_um,
                       threshold, by_property)
        return ChannelSparsity(mask, obj.unit_ids, obj.channel_ids)
    peak_sign = check_peak_sign("neg" if peak_sign is None else peak_sign)
    if method == "radius":
        return ChannelSparsity.from_radius(obj, radius_um, peak_sign=peak_sign)
    if method == "best_channels":
        return ChannelSparsity.from_best_channels(obj, num_channels, peak_sign=peak_sign,
                                                  amplitude_mode=amplitude_mode)
    if method == "closest_channels":
        return ChannelSparsity.from_closest_channels(obj, num_channels, peak_sign=peak_sign)
    if method in ("threshold", "snr"):
        return ChannelSparsity.from_snr(obj, threshold, peak_sign=peak_sign, noise_levels=noise_levels,
                                        amplitude_mode=amplitude_mode)
    if method == "amplitude":
        return ChannelSparsity.from_amplitude(obj, threshold, amplitude_mode=amplitude_mode, peak_sign=peak_sign)
    if method == "ptp":
        return ChannelSparsity.from_ptp(obj, threshold, noise_levels=noise_levels)
    if method == "energy":
        return ChannelSparsity.from_energy(obj, threshold, noise_levels=noise_levels)
    if by_property is None:
        raise ValueError("method='by_property' needs by_property= (e.g. 'group')")
    return ChannelSparsity.from_property(obj, by_property=by_property, peak_sign=peak_sign)
