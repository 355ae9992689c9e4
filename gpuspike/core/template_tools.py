"""Template tools: amplitudes, extremum channel, peak shift and extremum amplitude per unit."""
from __future__ import annotations

import numpy as np

from .sparsity import _templates_info, abs_channel_amplitudes, check_peak_sign, template_extremum

_MODES = ("extremum", "at_index", "peak_to_peak")
_OPERATORS = ("average", "median", "std")


def _check_mode(mode: str) -> str:
    if mode not in _MODES:
        raise ValueError(f"mode={mode!r}: allowed values are {_MODES}")
    return mode


def _info(waveform_extractor, operator: str | None):
    """Templates and metadata; ``operator`` ("average", "median", "std") picks the templates kind."""
    info = _templates_info(waveform_extractor)
    if operator is None or operator == "average":
        return info
    if operator not in _OPERATORS:
        raise ValueError(f"operator={operator!r}: allowed values are {_OPERATORS}")
    if not hasattr(waveform_extractor, "get_all_templates"):
        raise ValueError(f"operator={operator!r} needs a WaveformExtractor (a templates dict holds one kind)")
    templates = np.asarray(waveform_extractor.get_all_templates(mode=operator), dtype="float32")
    if templates.shape[2] != len(info.channel_ids):  # sparse templates of a sparse extractor
        templates = waveform_extractor.sparsity.densify_templates(templates)
    info.templates = np.ascontiguousarray(templates)
    return info


def _signed_amplitudes(info, peak_sign: str, mode: str) -> np.ndarray:
    """(units, channels) amplitudes as SpikeInterface 0.105 takes them, before the absolute value."""
    templates = info.templates.astype("float64")
    if templates.shape[0] == 0:
        return np.zeros((0, templates.shape[2]))
    if mode == "extremum":
        if peak_sign == "both":
            return np.max(np.abs(templates), axis=1)
        return np.min(templates, axis=1) if peak_sign == "neg" else np.max(templates, axis=1)
    if mode == "at_index":
        at = templates[:, int(info.nbefore), :]
        return np.abs(at) if peak_sign == "both" else at
    return np.ptp(templates, axis=1)


def get_template_amplitudes(waveform_extractor, peak_sign: str = "neg", mode: str = "extremum", *,
                            peak_mode: str | None = None, abs_value: bool = True,
                            operator: str = "average") -> dict:
    """Amplitude of each unit's template on every channel.

    Parameters
    ----------
    waveform_extractor : WaveformExtractor or dict
        The waveforms and templates (or any object with ``get_all_templates`` and ``nbefore``).
    peak_sign : {"neg", "pos", "both"}
        Which extremum counts.
    mode : {"extremum", "at_index", "peak_to_peak"}
        "extremum": the extremum over time (min for "neg", max for "pos", max |x| for "both");
        "at_index": the value at the spike sample (``nbefore``); "peak_to_peak": max - min.
    peak_mode : str, optional
        SpikeInterface 0.105's name of ``mode`` (wins when given).
    abs_value : bool
        Absolute values (else signed, as SpikeInterface's ``abs_value=False``).
    operator : {"average", "median", "std"}
        Which templates.

    Returns
    -------
    dict
        ``{unit_id: np.ndarray of one amplitude per channel}``.
    """
    check_peak_sign(peak_sign)
    mode = _check_mode(mode if peak_mode is None else peak_mode)
    info = _info(waveform_extractor, operator)
    if mode == "extremum" and abs_value and (operator is None or operator == "average"):
        amps = abs_channel_amplitudes(info, peak_sign)
    else:
        amps = _signed_amplitudes(info, peak_sign, mode)
        if abs_value:
            amps = np.abs(amps)
    return {u: amps[i] for i, u in enumerate(info.unit_ids.tolist())}


def get_template_extremum_channel(waveform_extractor, peak_sign: str = "neg", mode: str = "extremum",
                                  outputs: str = "id", *, peak_mode: str | None = None,
                                  operator: str = "average") -> dict:
    """Channel of largest amplitude for each unit ({unit_id: channel id or index}).

    Parameters
    ----------
    waveform_extractor : WaveformExtractor or dict
    peak_sign : {"neg", "pos", "both"}
    mode : {"extremum", "at_index", "peak_to_peak"}
    outputs : {"id", "index"}
    peak_mode : str, optional
        SpikeInterface 0.105's name of ``mode`` (wins when given).
    operator : {"average", "median", "std"}

    Returns
    -------
    dict
    """
    if outputs not in ("id", "index"):
        raise ValueError(f"outputs={outputs!r}: allowed values are 'id', 'index'")
    mode = _check_mode(mode if peak_mode is None else peak_mode)
    info = _info(waveform_extractor, operator)
    if mode == "extremum" and (operator is None or operator == "average"):
        channels, _, _ = template_extremum(info, peak_sign)
    else:
        amps = np.abs(_signed_amplitudes(info, peak_sign, mode))
        channels = np.argmax(amps, axis=1).astype("int64") if len(amps) else np.zeros(0, "int64")
    if outputs == "index":
        return {u: int(channels[i]) for i, u in enumerate(info.unit_ids.tolist())}
    return {u: info.channel_ids[channels[i]].item() for i, u in enumerate(info.unit_ids.tolist())}


def get_template_extremum_channel_peak_shift(waveform_extractor, peak_sign: str | None = "neg",
                                             operator: str | None = None) -> dict:
    """Samples between ``nbefore`` and the actual peak on the extremum channel ({unit_id: shift}).

    Parameters
    ----------
    waveform_extractor : WaveformExtractor or dict
    peak_sign : {"neg", "pos", "both"}
    operator : {"average", "median", "std"}, optional

    Returns
    -------
    dict
    """
    peak_sign = "neg" if peak_sign is None else peak_sign
    info = _info(waveform_extractor, operator)
    _, _, shifts = template_extremum(info, peak_sign)
    return {u: int(shifts[i]) for i, u in enumerate(info.unit_ids.tolist())}


def get_template_extremum_amplitude(waveform_extractor, peak_sign: str = "neg", mode: str = "at_index", *,
                                    peak_mode: str | None = None, abs_value: bool = True,
                                    operator: str = "average") -> dict:
    """Amplitude on the extremum channel ({unit_id: amplitude}).

    Parameters
    ----------
    waveform_extractor : WaveformExtractor or dict
    peak_sign : {"neg", "pos", "both"}
    mode : {"extremum", "at_index", "peak_to_peak"}
    peak_mode : str, optional
        SpikeInterface 0.105's name of ``mode`` (wins when given).
    abs_value : bool
    operator : {"average", "median", "std"}

    Returns
    -------
    dict
    """
    mode = _check_mode(mode if peak_mode is None else peak_mode)
    channels = get_template_extremum_channel(waveform_extractor, peak_sign=peak_sign, mode=mode, outputs="index",
                                             operator=operator)
    amps = get_template_amplitudes(waveform_extractor, peak_sign=peak_sign, mode=mode, abs_value=abs_value,
                                   operator=operator)
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
