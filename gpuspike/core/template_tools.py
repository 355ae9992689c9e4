"""Template tools: amplitudes, extremum channel, peak shift and extremum amplitude per unit."""
from __future__ import annotations

import numpy as np

from .sparsity import _abs_amplitudes, _extremum, _templates_info, check_peak_sign

_MODES = ("extremum", "at_index")


def _check_mode(mode: str) -> str:
    if mode not in _MODES:
        raise ValueError(f"mode={mode!r}: allowed values are {_MODES}")
    return mode


def get_template_amplitudes(waveform_extractor, peak_sign: str = "neg", mode: str = "extremum") -> dict:
    """Absolute amplitude of each unit's template on every channel.

    ``mode="extremum"``: the extremum over time (min for "neg", max for "pos", max |x| for
    "both"); ``mode="at_index"``: the value at the spike sample (``nbefore``).

    Returns
    -------
    dict
        {unit_id: np.ndarray (num_channels,)}.
    """
    check_peak_sign(peak_sign)
    _check_mode(mode)
    info = _templates_info(waveform_extractor)
    if mode == "extremum":
        amps = _abs_amplitudes(info, peak_sign)
    else:
        at = info.templates[:, info.nbefore, :].astype("float64")
        amps = np.abs(at) if peak_sign == "both" else np.abs(-at if peak_sign == "neg" else at)
    return {u: amps[i] for i, u in enumerate(info.unit_ids.tolist())}


def get_template_extremum_channel(waveform_extractor, peak_sign: str = "neg", mode: str = "extremum",
                                  outputs: str = "id") -> dict:
    """Channel of largest amplitude for each unit ({unit_id: channel id or index})."""
    if outputs not in ("id", "index"):
        raise ValueError(f"outputs={outputs!r}: allowed values are 'id', 'index'")
    _check_mode(mode)
    info = _templates_info(waveform_extractor)
    if mode == "extremum":
        channels, _, _ = _extremum(info, peak_sign)
    else:
        amps = get_template_amplitudes(waveform_extractor, peak_sign, mode="at_index")
        channels = np.array([int(np.argmax(amps[u])) for u in info.unit_ids.tolist()], dtype="int64")
    if outputs == "index":
        return {u: int(channels[i]) for i, u in enumerate(info.unit_ids.tolist())}
    return {u: info.channel_ids[channels[i]].item() for i, u in enumerate(info.unit_ids.tolist())}


def get_template_extremum_channel_peak_shift(waveform_extractor, peak_sign: str = "neg") -> dict:
    """Samples between ``nbefore`` and the actual peak on the extremum channel ({unit_id: shift})."""
    info = _templates_info(waveform_extractor)
    _, _, shifts = _extremum(info, peak_sign)
    return {u: int(shifts[i]) for i, u in enumerate(info.unit_ids.tolist())}


def get_template_extremum_amplitude(waveform_extractor, peak_sign: str = "neg", mode: str = "at_index") -> dict:
    """Absolute amplitude on the extremum channel ({unit_id: amplitude})."""
    _check_mode(mode)
    channels = get_template_extremum_channel(waveform_extractor, peak_sign=peak_sign, mode=mode, outputs="index")
    amps = get_template_amplitudes(waveform_extractor, peak_sign=peak_sign, mode=mode)
    return {u: float(amps[u][channels[u]]) for u in channels}


def get_template_amplitude_on_main_channel(waveform_extractor, peak_sign: str | None = None,
                                           peak_mode: str | None = None, abs_value: bool = True,
                                           with_dict: bool = True):
    """Amplitude of each unit's template on its main (extremum) channel (SpikeInterface 0.105's name).

    Parameters
    ----------
    waveform_extractor : WaveformExtractor or dict
    peak_sign : {"neg", "pos", "both"}, optional
        Default "neg".
    peak_mode : {"extremum", "at_index"}, optional
        Default "extremum".
    abs_value : bool
        Absolute amplitudes (else signed).
    with_dict : bool
        ``{unit_id: amplitude}`` (else an array in unit order).

    Returns
    -------
    dict or np.ndarray
    """
    peak_sign = "neg" if peak_sign is None else peak_sign
    mode = _check_mode("extremum" if peak_mode is None else peak_mode)
    info = _templates_info(waveform_extractor)
    channels = get_template_extremum_channel(waveform_extractor, peak_sign=peak_sign, mode=mode, outputs="index")
    values = []
    for i, unit_id in enumerate(info.unit_ids.tolist()):
        trace = info.templates[i, :, channels[unit_id]].astype("float64")
        if mode == "at_index":
            value = trace[info.nbefore]
        elif peak_sign == "neg":
            value = trace.min()
        elif peak_sign == "pos":
            value = trace.max()
        else:
            value = trace[np.argmax(np.abs(trace))]
        values.append(abs(value) if abs_value else value)
    values = np.asarray(values, dtype="float64")
    return dict(zip(info.unit_ids.tolist(), values.tolist())) if with_dict else values


def get_template_peak_shift_on_main_channel(waveform_extractor, peak_sign: str | None = None,
                                            with_dict: bool = True):
    """Samples between ``nbefore`` and the peak on each unit's main channel (SpikeInterface 0.105's name).

    Parameters
    ----------
    waveform_extractor : WaveformExtractor or dict
    peak_sign : {"neg", "pos", "both"}, optional
        Default "neg".
    with_dict : bool
        ``{unit_id: shift}`` (else an array in unit order).

    Returns
    -------
    dict or np.ndarray
    """
    shifts = get_template_extremum_channel_peak_shift(waveform_extractor, peak_sign="neg" if peak_sign is None
                                                      else peak_sign)
    return shifts if with_dict else np.asarray(list(shifts.values()), dtype="int64")
