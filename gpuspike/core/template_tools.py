"""Template tools: amplitudes, extremum channel, peak shift and extremum amplitude per unit."""
from __future__ import annotations

import numpy as np

from .sparsity import _templates_info, abs_channel_amplitudes, check_peak_sign, template_extremum

_MODES = ("extremum", "at_index")


def _check_mode(mode: str) -> str:
    if mode not in _MODES:
        raise ValueError(f"mode={mode!r}: allowed values are {_MODES}")
    return mode


def get_template_amplitudes(waveform_extractor, peak_sign: str = "neg", mode: str = "extremum") -> dict:
    """Absolute amplitude of each unit's template on every channel.

    ``mode="extremum"``: the extremum over time (min for "neg", max for "pos", max of ``abs(x)`` for
    "both"); ``mode="at_index"``: the value at the spike sample (``nbefore``).

    Parameters
    ----------
    waveform_extractor : WaveformExtractor
        The waveforms and templates (or any object with ``get_all_templates`` and ``nbefore``).
    peak_sign : {"neg", "pos", "both"}
        Which extremum counts.
    mode : {"extremum", "at_index"}
        Where on the time axis the amplitude is read.

    Returns
    -------
    dict
        ``{unit_id: np.ndarray of one amplitude per channel}``.
    """
    check_peak_sign(peak_sign)
    _check_mode(mode)
    info = _templates_info(waveform_extractor)
    if mode == "extremum":
        amps = abs_channel_amplitudes(info, peak_sign)
    else:
        at = info.templates[:, info.nbefore, :].astype("float64")
        amps = np.abs(at) if peak_sign == "both" else np.abs(-at if peak_sign == "neg" else at)
    return {u: amps[i] for i, u in enumerate(info.unit_ids.tolist())}


def get_template_extremum_channel(waveform_extractor, peak_sign: str = "neg", mode: str = "extremum",
                                  outputs: str = "id") -> dict:
    """Channel of largest amplitude for each unit ({unit_id: channel id or index}).

    Parameters
    ----------
    waveform_extractor : WaveformExtractor
        The waveforms and templates (or any object with ``get_all_templates`` and ``nbefore``).
    peak_sign : {"neg", "pos", "both"}
        Which extremum counts.
    mode : {"extremum", "at_index"}
        Where on the time axis the amplitudes are compared.
    outputs : {"id", "index"}
        Return channel ids or channel indices.

    Returns
    -------
    dict
        ``{unit_id: channel id}`` (or index).
    """
    if outputs not in ("id", "index"):
        raise ValueError(f"outputs={outputs!r}: allowed values are 'id', 'index'")
    _check_mode(mode)
    info = _templates_info(waveform_extractor)
    if mode == "extremum":
        channels, _, _ = template_extremum(info, peak_sign)
    else:
        amps = get_template_amplitudes(waveform_extractor, peak_sign, mode="at_index")
        channels = np.array([int(np.argmax(amps[u])) for u in info.unit_ids.tolist()], dtype="int64")
    if outputs == "index":
        return {u: int(channels[i]) for i, u in enumerate(info.unit_ids.tolist())}
    return {u: info.channel_ids[channels[i]].item() for i, u in enumerate(info.unit_ids.tolist())}


def get_template_extremum_channel_peak_shift(waveform_extractor, peak_sign: str = "neg") -> dict:
    """Samples between ``nbefore`` and the actual peak on the extremum channel ({unit_id: shift}).

    Parameters
    ----------
    waveform_extractor : WaveformExtractor
        The waveforms and templates (or any object with ``get_all_templates`` and ``nbefore``).
    peak_sign : {"neg", "pos", "both"}
        Which extremum counts.

    Returns
    -------
    dict
        ``{unit_id: shift in samples}`` (negative when the peak comes before ``nbefore``).
    """
    info = _templates_info(waveform_extractor)
    _, _, shifts = template_extremum(info, peak_sign)
    return {u: int(shifts[i]) for i, u in enumerate(info.unit_ids.tolist())}


def get_template_extremum_amplitude(waveform_extractor, peak_sign: str = "neg", mode: str = "at_index") -> dict:
    """Absolute amplitude on the extremum channel ({unit_id: amplitude}).

    Parameters
    ----------
    waveform_extractor : WaveformExtractor
        The waveforms and templates (or any object with ``get_all_templates`` and ``nbefore``).
    peak_sign : {"neg", "pos", "both"}
        Which extremum counts.
    mode : {"at_index", "extremum"}
        Where on the time axis the amplitude is read.

    Returns
    -------
    dict
        ``{unit_id: amplitude}``.
    """
    _check_mode(mode)
    channels = get_template_extremum_channel(waveform_extractor, peak_sign=peak_sign, mode=mode, outputs="index")
    amps = get_template_amplitudes(waveform_extractor, peak_sign=peak_sign, mode=mode)
    return {u: float(amps[u][channels[u]]) for u in channels}
