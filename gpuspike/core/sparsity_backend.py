"""Sparsity on the backend's kernels: the templates adapter, extremum channels, amplitudes and masks.

:func:`_templates_info` turns what the sparsity and template tools accept (a WaveformExtractor, a
templates dict, a SortingAnalyzer, a Templates) into dense templates and their metadata;
:func:`sparsity_mask` and :func:`estimate_sparsity_on_backend` compute masks where the templates
are (kernels in ``kernels/extremum.py`` and ``kernels/sparsity.py`` via ``backend.kernels``), so that
only the mask comes back from a GPU.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .sparsity import ChannelSparsity

_AMPLITUDE_MODES = ("extremum", "at_index", "peak_to_peak")
_PEAK_SIGNS = ("neg", "pos", "both")


def check_peak_sign(peak_sign: str) -> str:
    """``peak_sign`` when it is "neg", "pos" or "both"; a ValueError naming it otherwise.

    Parameters
    ----------
    peak_sign : str

    Returns
    -------
    str
    """
    if peak_sign not in _PEAK_SIGNS:
        raise ValueError(f"peak_sign={peak_sign!r}: allowed values are {_PEAK_SIGNS}")
    return peak_sign


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
    """Dense templates and metadata of a WaveformExtractor, a templates dict, a SortingAnalyzer (its
    "templates" extension) or a Templates."""
    from ..backends import get_backend
    from .template_tools import _input_kind

    be = get_backend(backend)
    kind = _input_kind(obj)
    if kind != "legacy":
        from .template_tools import _get_nbefore, get_dense_templates_array

        templates = np.asarray(get_dense_templates_array(obj))
        templates = np.ascontiguousarray(templates, dtype="float32" if templates.dtype == np.float32 else "float64")
        try:
            locations = obj.get_channel_locations()
        except ValueError:
            locations = None

        def noise():
            from .sparsity_templates import _noise

            return _noise(obj, kind, None, "snr")

        return _TemplatesInfo(templates, obj.unit_ids, obj.channel_ids, _get_nbefore(obj), locations, noise, be)
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
    raise TypeError(f"expected a SortingAnalyzer, a Templates, a WaveformExtractor or a dict with 'templates', got "
                    f"{type(obj).__name__}")


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
    from .sparsity import _METHODS, ChannelSparsity
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
