"""Sparsity of a SortingAnalyzer or a Templates: SpikeInterface 0.105's rules.

:class:`~gpuspike.core.sparsity.ChannelSparsity`'s constructors and :func:`compute_sparsity` hand
these two inputs to the functions here (a WaveformExtractor or a templates dict keeps the 0.100
rules of :mod:`gpuspike.core.sparsity`). What 0.105 does:

* an analyzer's main channels are ``analyzer.get_main_channels()`` and its ``peak_sign`` /
  ``peak_mode`` are its own (``peak_sign`` must be None); a Templates' main channels are
  ``templates.get_main_channels(peak_sign, peak_mode)``;
* amplitudes are :func:`~gpuspike.core.template_tools.get_template_amplitudes`' (absolute values);
  "extremum" amplitudes, the best-channel ranking and the SNR threshold run on the backend's
  kernels (``kernels/extremum.py``, ``kernels/sparsity.py``), the other modes in NumPy in the
  templates' dtype;
* "snr" takes the noise levels of the analyzer's "noise_levels" extension (or ``noise_levels=``),
  "energy" the analyzer's "waveforms" and "noise_levels", "amplitude" needs µV templates, and
  "snr" / "amplitude" / "energy" need dense templates.

Ties: the best channels keep the higher channel index first, the closest channels the lower one,
as SpikeInterface's ``argsort`` orders equal values in small arrays and in constant ones (a unit
without spikes keeps the last channels); in larger arrays with partial ties its order is
unspecified.
"""
from __future__ import annotations

import numbers

import numpy as np

from .sparsity import _templates_info, abs_channel_amplitudes, check_peak_sign


def input_kind(obj) -> str | None:
    """"analyzer", "templates", or None for anything else.

    Parameters
    ----------
    obj : object

    Returns
    -------
    str or None
    """
    from .template_tools import _input_kind

    kind = _input_kind(obj)
    return None if kind == "legacy" else kind


def _check_dense(obj, kind: str, method: str) -> None:
    if obj.sparsity is not None:
        what = "SortingAnalyzer" if kind == "analyzer" else "Templates"
        raise ValueError(f"method={method!r} needs a dense {what} (this one is sparse: its templates are zero off "
                         f"each unit's channels)")


def _resolve(obj, kind: str, peak_sign, peak_mode, where: str) -> tuple[str, str]:
    from .template_tools import _resolve as resolve

    return resolve(obj, kind, peak_sign, peak_mode, where)


def main_channels(obj, kind: str, peak_sign: str | None, peak_mode: str | None, where: str) -> np.ndarray:
    """Main channel index of each unit: the analyzer's own, or the Templates' for ``peak_sign`` / ``peak_mode``.

    Parameters
    ----------
    obj : SortingAnalyzer or Templates
    kind : {"analyzer", "templates"}
    peak_sign, peak_mode : str or None
        Must be None for an analyzer; None means "both" / "extremum" for a Templates.
    where : str
        The public call, for messages.

    Returns
    -------
    np.ndarray
    """
    if kind == "analyzer":
        for name, value in (("peak_sign", peak_sign), ("peak_mode", peak_mode)):
            if value is not None:
                raise ValueError(f"{where}({name}={value!r}): a SortingAnalyzer's main channels are its own "
                                 f"(set by create_sorting_analyzer); pass {name}=None")
        return np.asarray(obj.get_main_channels(outputs="index", with_dict=False), dtype="int64")
    return np.asarray(obj.get_main_channels(outputs="index", peak_sign="both" if peak_sign is None else peak_sign,
                                            peak_mode="extremum" if peak_mode is None else peak_mode),
                      dtype="int64")


def abs_amplitudes(obj, kind: str, peak_sign: str | None, peak_mode: str | None, where: str) -> np.ndarray:
    """``(num_units, num_channels)`` absolute amplitudes, as ``get_template_amplitudes`` takes them.

    Parameters
    ----------
    obj : SortingAnalyzer or Templates
    kind : {"analyzer", "templates"}
    peak_sign, peak_mode : str or None
    where : str

    Returns
    -------
    np.ndarray
    """
    from .template_tools import _amplitudes_of_array

    peak_sign, peak_mode = _resolve(obj, kind, peak_sign, peak_mode, where)
    info = _templates_info(obj)
    if peak_mode == "extremum":
        if info.templates.shape[0] == 0:
            return np.zeros((0, len(info.channel_ids)))
        return abs_channel_amplitudes(info, peak_sign)
    return np.abs(_amplitudes_of_array(info.templates, peak_sign, peak_mode, int(info.nbefore)))


def _mask_kernel(name: str, amplitudes: np.ndarray, *args) -> np.ndarray:
    from ..backends import get_backend

    amplitudes = np.ascontiguousarray(amplitudes, dtype="float64")
    mask = np.zeros(amplitudes.shape, dtype=bool)
    if amplitudes.size:
        getattr(get_backend("numpy").kernels, name)(amplitudes, *args, mask)
    return mask


def _check_count(num_channels, what: str = "num_channels") -> int:
    if isinstance(num_channels, (bool, np.bool_)) or not isinstance(num_channels, numbers.Integral):
        raise TypeError(f"{what}={num_channels!r}: give an integer >= 1")
    if num_channels < 1:
        raise ValueError(f"{what}={num_channels!r}: give an integer >= 1")
    return int(num_channels)


def _locations(obj, locations, method: str) -> np.ndarray:
    if locations is None:
        try:
            locations = obj.get_channel_locations()
        except ValueError as err:
            raise ValueError(f"method={method!r} needs channel locations ({err}); or use method='best_channels'") \
                from None
    return np.asarray(locations, dtype="float64")


def best_channels_mask(obj, kind: str, num_channels, peak_sign=None, amplitude_mode=None) -> np.ndarray:
    """The ``num_channels`` channels of largest amplitude (all channels when there are fewer).

    Parameters
    ----------
    obj : SortingAnalyzer or Templates
    kind : {"analyzer", "templates"}
    num_channels : int
    peak_sign, amplitude_mode : str or None

    Returns
    -------
    np.ndarray
    """
    num_channels = _check_count(num_channels)
    amps = abs_amplitudes(obj, kind, peak_sign, amplitude_mode, "ChannelSparsity.from_best_channels")
    return _mask_kernel("best_channels_sparsity", amps, min(num_channels, amps.shape[1]))


def closest_channels_mask(obj, kind: str, num_channels, peak_sign=None, peak_mode=None, locations=None,
                          main: np.ndarray | None = None) -> np.ndarray:
    """The ``num_channels`` channels closest to each unit's main channel (itself included).

    Parameters
    ----------
    obj : SortingAnalyzer or Templates
    kind : {"analyzer", "templates"}
    num_channels : int
    peak_sign, peak_mode : str or None
    locations : np.ndarray, optional
        Channel positions (default: ``obj.get_channel_locations()``).
    main : np.ndarray, optional
        Main channel indices (default: :func:`main_channels`).

    Returns
    -------
    np.ndarray
    """
    num_channels = _check_count(num_channels)
    locations = _locations(obj, locations, "closest_channels")
    if main is None:
        main = main_channels(obj, kind, peak_sign, peak_mode, "ChannelSparsity.from_closest_channels")
    distances = np.linalg.norm(locations[:, None] - locations[None, :], axis=2)
    mask = np.zeros((len(main), len(locations)), dtype=bool)
    for u, channel in enumerate(main):
        mask[u, np.argsort(distances[channel], kind="stable")[:num_channels]] = True
    return mask


def radius_mask(obj, kind: str, radius_um, peak_sign=None, peak_mode=None, locations=None,
                main: np.ndarray | None = None) -> np.ndarray:
    """The channels within ``radius_um`` of each unit's main channel.

    Parameters
    ----------
    obj : SortingAnalyzer or Templates
    kind : {"analyzer", "templates"}
    radius_um : float
    peak_sign, peak_mode : str or None
    locations : np.ndarray, optional
    main : np.ndarray, optional

    Returns
    -------
    np.ndarray
    """
    from .sparsity import ChannelSparsity

    if radius_um is None or not isinstance(radius_um, numbers.Real) or not radius_um > 0:
        raise ValueError(f"radius_um={radius_um!r}: give a positive radius in µm")
    locations = _locations(obj, locations, "radius")
    if main is None:
        main = main_channels(obj, kind, peak_sign, peak_mode, "ChannelSparsity.from_radius")
    return ChannelSparsity.from_radius_and_main_channel(obj.unit_ids, obj.channel_ids, main, locations,
                                                        radius_um).mask


def _noise(obj, kind: str, noise_levels, method: str) -> np.ndarray:
    if noise_levels is None:
        if kind == "templates":
            raise ValueError(f"method={method!r} with a Templates needs noise_levels= (e.g. get_noise_levels(recording,"
                             f" return_in_uV=templates.is_in_uV))")
        ext = obj.get_extension("noise_levels")
        if ext is None:
            raise ValueError(f"method={method!r} needs the analyzer's 'noise_levels' extension: call "
                             f"analyzer.compute('noise_levels') first (or pass noise_levels=)")
        noise_levels = ext.get_data()
    noise = np.asarray(noise_levels)
    if noise.shape != (len(obj.channel_ids),):
        raise ValueError(f"noise_levels has shape {noise.shape}, expected ({len(obj.channel_ids)},) (one per channel)")
    return noise


def snr_mask(obj, kind: str, threshold, peak_sign=None, amplitude_mode=None, noise_levels=None) -> np.ndarray:
    """The channels whose amplitude / noise level is at least ``threshold``.

    Parameters
    ----------
    obj : SortingAnalyzer or Templates
    kind : {"analyzer", "templates"}
    threshold : float
    peak_sign, amplitude_mode : str or None
    noise_levels : np.ndarray, optional
        Required for a Templates; an analyzer's default is its "noise_levels" extension.

    Returns
    -------
    np.ndarray
    """
    if threshold is None:
        raise ValueError("method='snr' needs threshold= (in noise levels, e.g. 5)")
    _check_dense(obj, kind, "snr")
    noise = _noise(obj, kind, noise_levels, "snr")
    amps = abs_amplitudes(obj, kind, peak_sign, amplitude_mode, "ChannelSparsity.from_snr")
    return _mask_kernel("snr_sparsity", amps, np.ascontiguousarray(noise, dtype="float64"), float(threshold))


def amplitude_mask(obj, kind: str, threshold, amplitude_mode=None, peak_sign=None, check_in_uV: bool = True
                   ) -> np.ndarray:
    """The channels whose amplitude (µV) is at least ``threshold``.

    Parameters
    ----------
    obj : SortingAnalyzer or Templates
    kind : {"analyzer", "templates"}
    threshold : float
    amplitude_mode, peak_sign : str or None
    check_in_uV : bool
        Refuse templates that are not in µV.

    Returns
    -------
    np.ndarray
    """
    if threshold is None:
        raise ValueError("method='amplitude' needs threshold= (in µV)")
    _check_dense(obj, kind, "amplitude")
    in_uV = obj.return_in_uV if kind == "analyzer" else obj.is_in_uV
    if check_in_uV and not in_uV:
        what = "create_sorting_analyzer(..., return_in_uV=True)" if kind == "analyzer" else "Templates(is_in_uV=True)"
        raise ValueError(f"method='amplitude' compares amplitudes with a threshold in µV: it needs templates in µV "
                         f"({what})")
    amps = abs_amplitudes(obj, kind, peak_sign, amplitude_mode, "ChannelSparsity.from_amplitude")
    return amps >= threshold


def energy_mask(analyzer, threshold, noise_levels=None) -> np.ndarray:
    """The channels whose waveform energy per sample is at least ``threshold`` noise levels.

    Parameters
    ----------
    analyzer : SortingAnalyzer
        Dense, with its "waveforms" extension (and "noise_levels" unless ``noise_levels`` is given).
    threshold : float
    noise_levels : np.ndarray, optional

    Returns
    -------
    np.ndarray
    """
    if threshold is None:
        raise ValueError("method='energy' needs threshold= (in noise levels, e.g. 5)")
    _check_dense(analyzer, "analyzer", "energy")
    noise = np.asarray(_noise(analyzer, "analyzer", noise_levels, "energy"), dtype="float64")
    ext = analyzer.get_extension("waveforms")
    if ext is None:
        raise ValueError("method='energy' needs the analyzer's 'waveforms' extension: call "
                         "analyzer.compute('waveforms') first")
    mask = np.zeros((len(analyzer.unit_ids), len(analyzer.channel_ids)), dtype=bool)
    for u, unit_id in enumerate(np.asarray(analyzer.unit_ids).tolist()):
        wfs = np.asarray(ext.get_waveforms_one_unit(unit_id, force_dense=True))
        if wfs.shape[0] == 0:
            continue
        energies = np.linalg.norm(wfs, axis=(0, 1))
        with np.errstate(divide="ignore", invalid="ignore"):
            mask[u] = energies / (np.sqrt(wfs.shape[1]) * noise * np.sqrt(wfs.shape[0])) >= threshold
    return mask


def property_mask(sorting, channel_values: np.ndarray, by_property: str) -> np.ndarray:
    """The channels whose recording property ``by_property`` equals the unit's (sorting property).

    Parameters
    ----------
    sorting : BaseSorting
        Has the property ``by_property``.
    channel_values : np.ndarray
        The recording's property values, one per channel.
    by_property : str

    Returns
    -------
    np.ndarray
    """
    unit_values = sorting.get_property(by_property)
    if unit_values is None:
        raise ValueError(f"by_property={by_property!r} is not a sorting property (SpikeInterface 0.105 needs it on "
                         f"both the recording and the sorting); sorting properties: {sorting.get_property_keys()}")
    channel_values = np.asarray(channel_values)
    unit_values = np.asarray(unit_values)
    known = set(channel_values.tolist())
    unknown = sorted({v for v in unit_values.tolist() if v not in known}, key=str)
    if unknown:
        raise ValueError(f"by_property={by_property!r}: units have values {unknown[:10]} that no channel has "
                         f"(channel values: {sorted(known, key=str)[:20]})")
    return channel_values[None, :] == unit_values[:, None]


def compute(obj, kind: str, noise_levels, method: str, peak_sign, amplitude_mode, num_channels, radius_um, threshold,
            by_property) -> np.ndarray:
    """``compute_sparsity``'s mask for a SortingAnalyzer or a Templates (SpikeInterface 0.105's checks).

    Parameters
    ----------
    obj : SortingAnalyzer or Templates
    kind : {"analyzer", "templates"}
    noise_levels, method, peak_sign, amplitude_mode, num_channels, radius_um, threshold, by_property
        As in :func:`~gpuspike.core.sparsity.compute_sparsity`.

    Returns
    -------
    np.ndarray
    """
    what = "a SortingAnalyzer" if kind == "analyzer" else "a Templates"
    if method in ("energy", "by_property"):
        if kind != "analyzer":
            raise ValueError(f"compute_sparsity(method={method!r}) needs a SortingAnalyzer, got a Templates")
        for name, value in (("peak_sign", peak_sign), ("amplitude_mode", amplitude_mode)):
            if value is not None:
                raise ValueError(f"compute_sparsity({name}={value!r}) with method={method!r}: pass {name}=None")
    elif kind == "templates" and method != "ptp":
        missing = [n for n, v in (("peak_sign", peak_sign), ("amplitude_mode", amplitude_mode)) if v is None]
        if missing:
            raise ValueError(f"compute_sparsity(method={method!r}) with a Templates needs {' and '.join(missing)} "
                             f"(peak_sign: 'neg', 'pos' or 'both'; amplitude_mode: 'extremum', 'at_index' or "
                             f"'peak_to_peak')")
    elif kind == "analyzer" and peak_sign is not None:
        raise ValueError(f"compute_sparsity(peak_sign={peak_sign!r}) with {what}: the analyzer's peak_sign is "
                         f"used (set by create_sorting_analyzer); pass peak_sign=None")
    elif kind == "analyzer" and method in ("radius", "closest_channels") and amplitude_mode is not None:
        raise ValueError(f"compute_sparsity(amplitude_mode={amplitude_mode!r}) with method={method!r}: a "
                         f"SortingAnalyzer's main channels are its own (set by create_sorting_analyzer); pass "
                         f"amplitude_mode=None")
    if peak_sign is not None:
        check_peak_sign(peak_sign)
    if method == "best_channels":
        if num_channels is None:
            raise ValueError("method='best_channels' needs num_channels=")
        return best_channels_mask(obj, kind, num_channels, peak_sign, amplitude_mode)
    if method == "closest_channels":
        if num_channels is None:
            raise ValueError("method='closest_channels' needs num_channels=")
        return closest_channels_mask(obj, kind, num_channels, peak_sign, amplitude_mode)
    if method == "radius":
        return radius_mask(obj, kind, radius_um, peak_sign, amplitude_mode)
    if method in ("snr", "threshold"):
        return snr_mask(obj, kind, threshold, peak_sign, amplitude_mode, noise_levels)
    if method == "ptp":
        if amplitude_mode not in (None, "peak_to_peak"):
            raise ValueError(f"method='ptp' is method='snr' with amplitude_mode='peak_to_peak', got "
                             f"amplitude_mode={amplitude_mode!r}")
        return snr_mask(obj, kind, threshold, peak_sign if kind == "analyzer" else (peak_sign or "both"),
                        "peak_to_peak", noise_levels)
    if method == "amplitude":
        return amplitude_mask(obj, kind, threshold, amplitude_mode, peak_sign)
    if method == "energy":
        return energy_mask(obj, threshold, noise_levels)
    if by_property is None:
        raise ValueError("method='by_property' needs by_property= (e.g. 'group')")
    return analyzer_property_mask(obj, by_property)


def analyzer_property_mask(analyzer, by_property: str) -> np.ndarray:
    """:func:`property_mask` with the analyzer's sorting and recording properties.

    Parameters
    ----------
    analyzer : SortingAnalyzer
    by_property : str

    Returns
    -------
    np.ndarray
    """
    try:
        values = analyzer.get_recording_property(by_property)
    except KeyError:
        values = None
    if values is None or np.ndim(values) == 0:
        raise ValueError(f"by_property={by_property!r} is not a property of the analyzer's recording")
    return property_mask(analyzer.sorting, values, by_property)
