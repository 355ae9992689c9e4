"""Template tools: amplitudes, main (extremum) channel, peak shift and main-channel amplitude per unit.

Each function takes either

* a :class:`~gpuspike.core.sortinganalyzer.SortingAnalyzer` or a
  :class:`~gpuspike.core.template.Templates`, with SpikeInterface 0.105's semantics: an analyzer's
  ``peak_sign`` / ``peak_mode`` are its own (``peak_sign`` must then be None) and its main channels
  are ``analyzer.get_main_channels()``; a Templates defaults to ``peak_sign="both"`` /
  ``peak_mode="extremum"`` with a warning where 0.105 warns; the ``get_template_extremum_*``
  functions are deprecated for these inputs (``FutureWarning``), as in 0.105;
* or a WaveformExtractor (or a dict with "templates"), with SpikeInterface 0.100's semantics
  (``peak_sign="neg"``, ``mode="extremum"`` by default; no deprecation).
"""
from __future__ import annotations

import warnings

import numpy as np

from .sparsity import _templates_info, abs_channel_amplitudes, check_peak_sign, template_extremum

_MODES = ("extremum", "at_index", "peak_to_peak")
_OPERATORS = ("average", "median", "std")


def _check_mode(mode: str, what: str = "mode") -> str:
    if mode not in _MODES:
        raise ValueError(f"{what}={mode!r}: allowed values are {_MODES}")
    return mode


def _input_kind(obj) -> str:
    """"analyzer", "templates" or "legacy" (a WaveformExtractor or a templates dict)."""
    from .sortinganalyzer import SortingAnalyzer
    from .template import Templates

    if isinstance(obj, SortingAnalyzer):
        return "analyzer"
    if isinstance(obj, Templates):
        return "templates"
    return "legacy"


def _resolve(obj, kind: str, peak_sign: str | None, peak_mode: str | None, where: str) -> tuple[str, str]:
    """SpikeInterface 0.105's ``peak_sign`` / ``peak_mode`` for an analyzer or a Templates."""
    if kind == "analyzer":
        if peak_sign is not None:
            from .errors import SpikeInterfaceAssertError

            raise SpikeInterfaceAssertError(
                f"{where}(peak_sign={peak_sign!r}): a SortingAnalyzer has its own peak_sign ({obj.peak_sign!r}, set "
                "by create_sorting_analyzer); pass peak_sign=None")
        peak_sign = obj.peak_sign
        peak_mode = obj.peak_mode if peak_mode is None else peak_mode
    else:
        if peak_sign is None:
            warnings.warn(f"{where}() with Templates should provide a peak_sign (using 'both')", stacklevel=3)
            peak_sign = "both"
        if peak_mode is None:
            warnings.warn(f"{where}() with Templates should provide a peak_mode (using 'extremum')", stacklevel=3)
            peak_mode = "extremum"
    return check_peak_sign(peak_sign), _check_mode(peak_mode, "peak_mode")


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
    return _amplitudes_of_array(templates, peak_sign, mode, int(info.nbefore))


def _amplitudes_of_array(templates: np.ndarray, peak_sign: str, peak_mode: str, nbefore: int) -> np.ndarray:
    """(units, channels) amplitudes of a dense array, in its dtype (SpikeInterface 0.105's rule)."""
    if peak_mode == "extremum":
        if peak_sign == "both":
            return np.max(np.abs(templates), axis=1)
        return np.min(templates, axis=1) if peak_sign == "neg" else np.max(templates, axis=1)
    if peak_mode == "at_index":
        if not 0 <= nbefore < templates.shape[1]:
            raise ValueError(f"peak_mode='at_index' needs nbefore ({nbefore}) inside the template "
                             f"(0..{templates.shape[1] - 1})")
        at = templates[:, nbefore, :]
        return np.abs(at) if peak_sign == "both" else at
    return np.ptp(templates, axis=1)


# ---------------------------------------------------------------------- SpikeInterface 0.105 helpers
def get_dense_templates_array(one_object, return_in_uV: bool | None = None, operator: str = "average") -> np.ndarray:
    """The ``(num_units, num_samples, num_channels)`` dense templates of a Templates or a SortingAnalyzer.

    Parameters
    ----------
    one_object : Templates or SortingAnalyzer
        A SortingAnalyzer needs its "templates" extension.
    return_in_uV : bool, optional
        When given, must match the templates' units (``is_in_uV`` / ``return_in_uV``).
    operator : str
        Which templates of the analyzer's extension ("average", "std", "median", ...).

    Returns
    -------
    np.ndarray
    """
    kind = _input_kind(one_object)
    if kind == "templates":
        if return_in_uV is not None and bool(return_in_uV) != bool(one_object.is_in_uV):
            raise ValueError(f"get_dense_templates_array(return_in_uV={return_in_uV!r}): these Templates have "
                             f"is_in_uV={one_object.is_in_uV}")
        return one_object.get_dense_templates()
    if kind == "analyzer":
        if return_in_uV is not None and bool(return_in_uV) != bool(one_object.return_in_uV):
            raise ValueError(f"get_dense_templates_array(return_in_uV={return_in_uV!r}): this SortingAnalyzer has "
                             f"return_in_uV={one_object.return_in_uV}")
        ext = one_object.get_extension("templates")
        if ext is None:
            raise ValueError("this SortingAnalyzer has no 'templates' extension: call analyzer.compute('templates') "
                             "first")
        return np.asarray(ext.get_templates(operator=operator))
    raise TypeError(f"get_dense_templates_array expects a Templates or a SortingAnalyzer, got "
                    f"{type(one_object).__name__}")


def get_main_channel_templates_array(one_object, return_in_uV: bool | None = None) -> np.ndarray:
    """Each unit's template on its main channel, ``(num_units, num_samples)``.

    Parameters
    ----------
    one_object : Templates or SortingAnalyzer
        A SortingAnalyzer needs its "templates" extension; a Templates' main channels are
        ``get_main_channels()`` with its defaults ("both", "extremum").
    return_in_uV : bool, optional
        As in :func:`get_dense_templates_array`.

    Returns
    -------
    np.ndarray
    """
    if _input_kind(one_object) == "legacy":
        raise TypeError(f"get_main_channel_templates_array expects a Templates or a SortingAnalyzer, got "
                        f"{type(one_object).__name__}")
    main = np.asarray(one_object.get_main_channels(outputs="index", with_dict=False), dtype="int64")
    templates = get_dense_templates_array(one_object, return_in_uV=return_in_uV)
    if templates.shape[0] == 0:
        return np.zeros((0, templates.shape[1]), dtype=templates.dtype)
    return templates[np.arange(templates.shape[0]), :, main]


def _get_nbefore(one_object) -> int:
    kind = _input_kind(one_object)
    if kind == "templates":
        return int(one_object.nbefore)
    if kind == "analyzer":
        ext = one_object.get_extension("templates")
        if ext is None:
            raise ValueError("this SortingAnalyzer has no 'templates' extension: call analyzer.compute('templates') "
                             "first")
        return int(ext.nbefore)
    raise TypeError(f"expected a Templates or a SortingAnalyzer, got {type(one_object).__name__}")


def _get_main_channel_from_template_array(templates_array: np.ndarray, peak_mode: str, peak_sign: str,
                                          nbefore: int) -> np.ndarray:
    """Main channel index of each template of a dense ``(num_units, num_samples, num_channels)`` array.

    The amplitude per channel is the peak over time ("extremum": ``max |x|`` for "both", ``-min``
    for "neg", ``max`` for "pos"), the value at ``nbefore`` ("at_index": ``|x|`` for "both", the signed
    value otherwise) or the peak-to-peak amplitude; the main channel is its ``argmax`` (first
    channel on ties), SpikeInterface 0.105's rule.

    Parameters
    ----------
    templates_array : np.ndarray
    peak_mode : {"extremum", "at_index", "peak_to_peak"}
    peak_sign : {"neg", "pos", "both"}
    nbefore : int

    Returns
    -------
    np.ndarray
        ``(num_units,)`` int64.
    """
    check_peak_sign(peak_sign)
    _check_mode(peak_mode, "peak_mode")
    templates = np.asarray(templates_array)
    if templates.ndim != 3:
        raise ValueError(f"templates_array must be (num_units, num_samples, num_channels), got shape "
                         f"{templates.shape}")
    if templates.shape[0] == 0:
        return np.zeros(0, dtype="int64")
    if templates.shape[1] == 0 or templates.shape[2] == 0:
        raise ValueError(f"templates_array of shape {templates.shape} has no samples or no channels")
    if peak_mode == "extremum" and peak_sign == "neg":
        values = -np.min(templates, axis=1)
    else:
        values = _amplitudes_of_array(templates, peak_sign, peak_mode, int(nbefore))
    return np.argmax(values, axis=1).astype("int64")


def _random_spikes_job(recording, sorting, ms_before: float, ms_after: float, num_spikes: int, seed,
                       job: tuple[str, str], num_spikes_name: str = "num_spikes_for_sparsity"):
    """The accumulate job (raw means) of up to ``num_spikes`` spikes per unit drawn as SpikeInterface
    0.105 draws them ("uniform", away from segment edges)."""
    from .core_tools import ms_to_samples
    from .sorting_tools import random_spikes_selection
    from .validation import check_max_spikes_per_unit, check_window
    from .waveforms import _accumulate_job
    from .waveforms_compat import _ms

    check_window(ms_before, ms_after, recording.sampling_frequency)
    check_max_spikes_per_unit(num_spikes, num_spikes_name)
    fs = recording.sampling_frequency
    nbefore, nafter = ms_to_samples(ms_before, fs), ms_to_samples(ms_after, fs)
    num_samples = [recording.get_num_samples(i) for i in range(recording.get_num_segments())]
    selected = random_spikes_selection(sorting, num_samples, method="uniform", max_spikes_per_unit=num_spikes,
                                       margin_size=max(nbefore, nafter), seed=seed)
    return _accumulate_job(recording, sorting, selected, _ms(nbefore, fs), _ms(nafter, fs), False, False, job)


def _raw_means_on_backend(reduced, backend, stream):
    """The float32 means of an accumulate job's result, on the backend that holds them."""
    from ..backends import get_backend

    mean = reduced[0]
    be = get_backend("numpy") if isinstance(mean, np.ndarray) else backend
    # SpikeInterface's accumulator divides float32 sums: its templates are float32
    return be.asarray(mean, dtype="float32", stream=stream), be


def _get_templates_array_from_recording_and_sorting(recording, sorting, ms_before: float, ms_after: float,
                                                    num_spikes: int, seed, job: tuple[str, str],
                                                    num_spikes_name: str = "num_spikes_for_sparsity", **job_kwargs):
    """Raw (unscaled) float32 mean templates (host array) of up to ``num_spikes`` spikes per unit drawn
    as SpikeInterface 0.105 draws them ("uniform", away from segment edges), accumulated by the block engine."""
    from ..engine import run_block_job
    from .job import resolve_job_kwargs

    accumulate = _random_spikes_job(recording, sorting, ms_before, ms_after, num_spikes, seed, job, num_spikes_name)
    config = resolve_job_kwargs(**job_kwargs)
    reduced = run_block_job(accumulate, recording, config, keep_on_backend=True)
    mean, be = _raw_means_on_backend(reduced, config.backend_object, accumulate.stream)
    return be.to_host(mean, stream=accumulate.stream)


class MainChannelEstimate:
    """SpikeInterface 0.105's main-channel estimate of a sorting, as a block job and its last step.

    The job can run alone (:meth:`run`) or in the same pass over the file as another spike job
    (:class:`~gpuspike.engine.composite.CompositeJob`, then :meth:`take`): the random spikes,
    their sums and the main channels are the same either way. Arguments are checked and the
    spikes drawn when the estimate is made.

    Parameters
    ----------
    recording, sorting : BaseRecording, BaseSorting
    peak_sign : {"neg", "pos", "both"}
    peak_mode : {"extremum", "at_index", "peak_to_peak"}
    num_spikes_for_main_channel : int
    ms_before, ms_after : float
    seed : int, optional
    job_kwargs : dict, optional
        Of a run alone.

    Attributes
    ----------
    job : AccumulateJob
        The job (raw sums of the random spikes).
    reduce_kwargs : dict
        Keyword arguments of the job's reduce.
    channels : np.ndarray or None
        ``(num_units,)`` int64 main channel indices, once known.
    """

    reduce_kwargs = {"keep_on_backend": True}

    def __init__(self, recording, sorting, peak_sign: str | None, peak_mode: str | None,
                 num_spikes_for_main_channel: int = 100, ms_before: float = 1.0, ms_after: float = 2.5,
                 seed: int | None = None, job_kwargs: dict | None = None) -> None:
        from .core_tools import ms_to_samples

        if peak_sign is None:
            raise ValueError("estimate_main_channel_from_recording needs peak_sign ('neg', 'pos' or 'both')")
        if peak_mode is None:
            raise ValueError("estimate_main_channel_from_recording needs peak_mode ('extremum', 'at_index' or "
                             "'peak_to_peak')")
        check_peak_sign(peak_sign)
        _check_mode(peak_mode, "peak_mode")
        self.recording = recording
        self.peak_sign, self.peak_mode = peak_sign, peak_mode
        self.nbefore = ms_to_samples(ms_before, recording.sampling_frequency)
        self.job_kwargs = dict(job_kwargs or {})
        self.job = _random_spikes_job(recording, sorting, ms_before, ms_after, num_spikes_for_main_channel, seed,
                                      ("estimate_main_channel_from_recording", "templates"),
                                      "num_spikes_for_main_channel")
        self.channels: np.ndarray | None = None

    def run(self) -> np.ndarray:
        """Run the job alone (with the estimate's job kwargs) and return the main channels.

        Returns
        -------
        np.ndarray
            ``(num_units,)`` int64 channel indices.
        """
        from ..engine import run_block_job
        from .job import resolve_job_kwargs

        config = resolve_job_kwargs(**self.job_kwargs)
        return self.take(run_block_job(self.job, self.recording, config, **self.reduce_kwargs), config.backend_object)

    def take(self, reduced, backend) -> np.ndarray:
        """The main channels from the job's reduced result (kept as :attr:`channels`).

        Parameters
        ----------
        reduced : tuple
            The job's ``reduce(..., keep_on_backend=True)``.
        backend : Backend
            The backend of the run.

        Returns
        -------
        np.ndarray
        """
        stream = self.job.stream
        templates, be = _raw_means_on_backend(reduced, backend, stream)
        num_units = templates.shape[0]
        if self.peak_mode != "extremum" or num_units == 0:
            channels = _get_main_channel_from_template_array(be.to_host(templates, stream=stream), self.peak_mode,
                                                             self.peak_sign, self.nbefore)
        else:  # the extremum kernel's channel is the argmax of the peaks, first on ties: the same
            out = be.empty((num_units,), "int64", stream=stream)
            amplitudes = be.empty((num_units,), "float64", stream=stream)
            shifts = be.empty((num_units,), "int64", stream=stream)
            be.kernels.template_extremum(templates, self.peak_sign, int(self.nbefore), out, amplitudes, shifts,
                                         stream=stream)
            channels = be.to_host(out, stream=stream)
        self.channels = np.asarray(channels, dtype="int64")
        return self.channels


def estimate_main_channel_from_recording(recording, sorting, peak_sign: str | None = None,
                                         peak_mode: str | None = None, num_spikes_for_main_channel: int = 100,
                                         ms_before: float = 1.0, ms_after: float = 2.5, seed: int | None = None,
                                         **job_kwargs) -> np.ndarray:
    """Main channel of each unit from the raw templates of a few random spikes (no analyzer needed).

    The spikes are SpikeInterface 0.105's (``random_spikes_selection(..., method="uniform",
    max_spikes_per_unit=num_spikes_for_main_channel, margin_size=max(nbefore, nafter), seed=seed)``),
    their unscaled mean is accumulated on the job's backend, and the main channel is
    :func:`_get_main_channel_from_template_array`'s (computed on the backend for "extremum").

    Parameters
    ----------
    recording, sorting : BaseRecording, BaseSorting
    peak_sign : {"neg", "pos", "both"}
        Required.
    peak_mode : {"extremum", "at_index", "peak_to_peak"}
        Required.
    num_spikes_for_main_channel : int
        Spikes per unit.
    ms_before, ms_after : float
        Window.
    seed : int, optional
        Seed of the spike selection.
    **job_kwargs
        ``n_jobs``, ``chunk_duration``, ``backend``, ``progress_bar``, ...

    Returns
    -------
    np.ndarray
        ``(num_units,)`` int64 channel indices.
    """
    return MainChannelEstimate(recording, sorting, peak_sign, peak_mode, num_spikes_for_main_channel, ms_before,
                               ms_after, seed, job_kwargs).run()


# ---------------------------------------------------------------------- amplitudes
def _amplitudes_v105(obj, peak_sign: str, peak_mode: str, abs_value: bool, operator: str) -> dict:
    templates = get_dense_templates_array(obj, operator=operator)
    values = _amplitudes_of_array(templates, peak_sign, peak_mode, _get_nbefore(obj))
    if abs_value:
        values = np.abs(values)
    return {u: values[i] for i, u in enumerate(np.asarray(obj.unit_ids).tolist())}


def get_template_amplitudes(templates_or_sorting_analyzer, peak_sign: str | None = None,
                            peak_mode: str | None = None, abs_value: bool = True, operator: str = "average", *,
                            mode: str | None = None) -> dict:
    """Amplitude of each unit's template on every channel.

    Parameters
    ----------
    templates_or_sorting_analyzer : SortingAnalyzer, Templates, WaveformExtractor or dict
        An analyzer needs its "templates" extension.
    peak_sign : {"neg", "pos", "both"}, optional
        Which extremum counts. Must be None for an analyzer (its own is used); None means "both"
        (with a warning) for a Templates, "neg" for a WaveformExtractor.
    peak_mode : {"extremum", "at_index", "peak_to_peak"}, optional
        "extremum": the extremum over time (min for "neg", max for "pos", ``max |x|`` for "both");
        "at_index": the value at the spike sample (``nbefore``); "peak_to_peak": max - min. None:
        the analyzer's, "extremum" (with a warning) for a Templates or a WaveformExtractor.
    abs_value : bool
        Absolute values (else signed).
    operator : {"average", "median", "std"}
        Which templates (of an analyzer or a WaveformExtractor).
    mode : str, optional
        SpikeInterface 0.100's name of ``peak_mode`` (``peak_mode`` wins when both are given).

    Returns
    -------
    dict
        ``{unit_id: np.ndarray of one amplitude per channel}``.
    """
    obj = templates_or_sorting_analyzer
    kind = _input_kind(obj)
    peak_mode = mode if peak_mode is None else peak_mode
    if kind != "legacy":
        peak_sign, peak_mode = _resolve(obj, kind, peak_sign, peak_mode, "get_template_amplitudes")
        return _amplitudes_v105(obj, peak_sign, peak_mode, abs_value, operator)
    peak_sign = check_peak_sign("neg" if peak_sign is None else peak_sign)
    peak_mode = _check_mode("extremum" if peak_mode is None else peak_mode)
    info = _info(obj, operator)
    if peak_mode == "extremum" and abs_value and (operator is None or operator == "average"):
        amps = abs_channel_amplitudes(info, peak_sign)
    else:
        amps = _signed_amplitudes(info, peak_sign, peak_mode)
        if abs_value:
            amps = np.abs(amps)
    return {u: amps[i] for i, u in enumerate(info.unit_ids.tolist())}


# ---------------------------------------------------------------------- main channel
def get_template_extremum_channel(templates_or_sorting_analyzer, peak_sign: str = "neg", mode: str = "extremum",
                                  outputs: str = "id", operator: str = "average", *,
                                  peak_mode: str | None = None) -> dict:
    """Channel of largest amplitude for each unit ({unit_id: channel id or index}).

    Deprecated for a SortingAnalyzer or a Templates (``FutureWarning``, as in SpikeInterface 0.105):
    use ``analyzer.get_main_channels()`` / ``templates.get_main_channels(peak_sign=...)``. For those
    inputs ``peak_sign``, ``mode`` and ``operator`` are ignored as in 0.105 (an analyzer's main
    channels; a Templates' main channels for "both").

    Parameters
    ----------
    templates_or_sorting_analyzer : SortingAnalyzer, Templates, WaveformExtractor or dict
    peak_sign : {"neg", "pos", "both"}
    mode : {"extremum", "at_index", "peak_to_peak"}
    outputs : {"id", "index"}
    operator : {"average", "median", "std"}
    peak_mode : str, optional
        SpikeInterface 0.105's name of ``mode`` (wins when given).

    Returns
    -------
    dict
    """
    obj = templates_or_sorting_analyzer
    if outputs not in ("id", "index"):
        raise ValueError(f"outputs={outputs!r}: allowed values are 'id', 'index'")
    kind = _input_kind(obj)
    if kind != "legacy":
        warnings.warn("get_template_extremum_channel() is deprecated (removed in SpikeInterface 0.106): use "
                      "analyzer.get_main_channels() or templates.get_main_channels(peak_sign=...)", FutureWarning,
                      stacklevel=2)
        if kind == "analyzer":
            return obj.get_main_channels(outputs=outputs, with_dict=True)
        return obj.get_main_channels(outputs=outputs, peak_sign="both", with_dict=True)
    mode = _check_mode(mode if peak_mode is None else peak_mode)
    info = _info(obj, operator)
    if mode == "extremum" and (operator is None or operator == "average"):
        channels, _, _ = template_extremum(info, peak_sign)
    else:
        amps = np.abs(_signed_amplitudes(info, peak_sign, mode))
        channels = np.argmax(amps, axis=1).astype("int64") if len(amps) else np.zeros(0, "int64")
    if outputs == "index":
        return {u: int(channels[i]) for i, u in enumerate(info.unit_ids.tolist())}
    return {u: info.channel_ids[channels[i]].item() for i, u in enumerate(info.unit_ids.tolist())}


# ---------------------------------------------------------------------- peak shift
def get_template_extremum_channel_peak_shift(templates_or_sorting_analyzer, peak_sign: str | None = None,
                                             operator: str | None = None) -> dict:
    """Samples between ``nbefore`` and the actual peak on the main channel ({unit_id: shift}).

    Deprecated for a SortingAnalyzer or a Templates (``FutureWarning``): it then is
    :func:`get_template_peak_shift_on_main_channel` with ``peak_sign=None``, as in SpikeInterface 0.105
    (the ``peak_sign`` given here is ignored, as there).

    Parameters
    ----------
    templates_or_sorting_analyzer : SortingAnalyzer, Templates, WaveformExtractor or dict
    peak_sign : {"neg", "pos", "both"}, optional
        For a WaveformExtractor (default "neg").
    operator : {"average", "median", "std"}, optional
        For a WaveformExtractor.

    Returns
    -------
    dict
    """
    obj = templates_or_sorting_analyzer
    if _input_kind(obj) != "legacy":
        warnings.warn("get_template_extremum_channel_peak_shift() is deprecated (removed in SpikeInterface 0.106): "
                      "use get_template_peak_shift_on_main_channel()", FutureWarning, stacklevel=2)
        return get_template_peak_shift_on_main_channel(obj, peak_sign=None, with_dict=True)
    info = _info(obj, operator)
    _, _, shifts = template_extremum(info, "neg" if peak_sign is None else peak_sign)
    return {u: int(shifts[i]) for i, u in enumerate(info.unit_ids.tolist())}


def get_template_peak_shift_on_main_channel(templates_or_sorting_analyzer, peak_sign: str | None = None,
                                            with_dict: bool = True):
    """Samples between ``nbefore`` and the peak of each unit's template on its main channel.

    Parameters
    ----------
    templates_or_sorting_analyzer : SortingAnalyzer, Templates, WaveformExtractor or dict
    peak_sign : {"neg", "pos", "both"}, optional
        Which peak. Must be None for an analyzer (its own is used); None means "both" (with a
        warning) for a Templates, whose main channels are ``get_main_channels()``'s ("both",
        "extremum"), and "neg" for a WaveformExtractor (main channel and peak of that sign).
    with_dict : bool
        ``{unit_id: shift}`` (else an array in unit order).

    Returns
    -------
    dict or np.ndarray
    """
    obj = templates_or_sorting_analyzer
    kind = _input_kind(obj)
    if kind == "legacy":
        shifts = get_template_extremum_channel_peak_shift(obj, peak_sign="neg" if peak_sign is None else peak_sign)
        return shifts if with_dict else np.asarray(list(shifts.values()), dtype="int64")
    if kind == "analyzer":
        peak_sign, _ = _resolve(obj, kind, peak_sign, "extremum", "get_template_peak_shift_on_main_channel")
    elif peak_sign is None:
        warnings.warn("get_template_peak_shift_on_main_channel() with Templates should provide a peak_sign "
                      "(using 'both')", stacklevel=2)
        peak_sign = "both"
    check_peak_sign(peak_sign)
    nbefore = _get_nbefore(obj)
    main_templates = get_main_channel_templates_array(obj)
    if main_templates.shape[0] == 0:
        positions = np.zeros(0, dtype="int64")
    elif peak_sign == "both":
        positions = np.argmax(np.abs(main_templates), axis=1)
    elif peak_sign == "neg":
        positions = np.argmin(main_templates, axis=1)
    else:
        positions = np.argmax(main_templates, axis=1)
    shifts = positions.astype("int64") - nbefore
    return dict(zip(np.asarray(obj.unit_ids).tolist(), shifts.tolist())) if with_dict else shifts


# ---------------------------------------------------------------------- amplitude on the main channel
def get_template_extremum_amplitude(templates_or_sorting_analyzer, peak_sign: str | None = None,
                                    peak_mode: str | None = None, abs_value: bool = True,
                                    operator: str = "average", *, mode: str | None = None) -> dict:
    """Amplitude on the main (extremum) channel ({unit_id: amplitude}).

    Deprecated for a SortingAnalyzer or a Templates (``FutureWarning``): it then is
    :func:`get_template_amplitude_on_main_channel` with ``peak_mode`` (default "at_index") and
    ``peak_sign`` (default "neg" for a Templates; an analyzer's own, so None), as in SpikeInterface 0.105.

    Parameters
    ----------
    templates_or_sorting_analyzer : SortingAnalyzer, Templates, WaveformExtractor or dict
    peak_sign : {"neg", "pos", "both"}, optional
        None: "neg" (a WaveformExtractor or a Templates), the analyzer's own (an analyzer).
    peak_mode : {"extremum", "at_index", "peak_to_peak"}, optional
        None: "at_index".
    abs_value : bool
    operator : {"average", "median", "std"}
        For a WaveformExtractor.
    mode : str, optional
        SpikeInterface 0.100's name of ``peak_mode`` (``peak_mode`` wins when both are given).

    Returns
    -------
    dict
    """
    obj = templates_or_sorting_analyzer
    kind = _input_kind(obj)
    peak_mode = _check_mode(("at_index" if mode is None else mode) if peak_mode is None else peak_mode,
                            "peak_mode")
    if kind != "legacy":
        warnings.warn("get_template_extremum_amplitude() is deprecated (removed in SpikeInterface 0.106): use "
                      "get_template_amplitude_on_main_channel()", FutureWarning, stacklevel=2)
        if kind == "templates" and peak_sign is None:
            peak_sign = "neg"
        return get_template_amplitude_on_main_channel(obj, peak_sign=peak_sign, peak_mode=peak_mode,
                                                      abs_value=abs_value)
    peak_sign = "neg" if peak_sign is None else peak_sign
    channels = get_template_extremum_channel(obj, peak_sign=peak_sign, mode=peak_mode, outputs="index",
                                             operator=operator)
    amps = get_template_amplitudes(obj, peak_sign=peak_sign, peak_mode=peak_mode, abs_value=abs_value,
                                   operator=operator)
    return {u: float(amps[u][channels[u]]) for u in channels}


def get_template_amplitude_on_main_channel(templates_or_sorting_analyzer, peak_sign: str | None = None,
                                           peak_mode: str | None = None, abs_value: bool = True,
                                           with_dict: bool = True):
    """Amplitude of each unit's template on its main channel.

    Parameters
    ----------
    templates_or_sorting_analyzer : SortingAnalyzer, Templates, WaveformExtractor or dict
    peak_sign : {"neg", "pos", "both"}, optional
        Must be None for an analyzer (its main channels and peak_sign are used). For a Templates,
        None means "both" (with a warning); the main channel is ``get_main_channels(peak_sign)``.
        For a WaveformExtractor, None means "neg".
    peak_mode : {"extremum", "at_index", "peak_to_peak"}, optional
        How the amplitude is taken. None: the analyzer's, "extremum" (with a warning for a Templates).
    abs_value : bool
        Absolute amplitudes (else signed).
    with_dict : bool
        ``{unit_id: amplitude}`` (else an array in unit order).

    Returns
    -------
    dict or np.ndarray
    """
    obj = templates_or_sorting_analyzer
    kind = _input_kind(obj)
    if kind == "legacy":
        return _legacy_amplitude_on_main_channel(obj, peak_sign, peak_mode, abs_value, with_dict)
    if kind == "analyzer":
        peak_sign, peak_mode = _resolve(obj, kind, peak_sign, peak_mode, "get_template_amplitude_on_main_channel")
        main = np.asarray(obj.get_main_channels(outputs="index", with_dict=False), dtype="int64")
    else:
        if peak_sign is None:
            warnings.warn("get_template_amplitude_on_main_channel() with Templates should provide a peak_sign "
                          "(using 'both')", stacklevel=2)
            peak_sign = "both"
        main = obj.get_main_channels(outputs="index", peak_sign=peak_sign, with_dict=False)
        peak_sign, peak_mode = _resolve(obj, kind, peak_sign, peak_mode, "get_template_amplitude_on_main_channel")
    amps = _amplitudes_v105(obj, peak_sign, peak_mode, abs_value, "average")
    unit_ids = np.asarray(obj.unit_ids).tolist()
    values = np.array([amps[u][main[i]] for i, u in enumerate(unit_ids)])
    return dict(zip(unit_ids, values.tolist())) if with_dict else values


def _legacy_amplitude_on_main_channel(waveform_extractor, peak_sign, peak_mode, abs_value, with_dict):
    peak_sign = "neg" if peak_sign is None else peak_sign
    mode = _check_mode("extremum" if peak_mode is None else peak_mode)
    info = _templates_info(waveform_extractor)
    channels = get_template_extremum_channel(waveform_extractor, peak_sign=peak_sign, mode=mode, outputs="index")
    values = []
    for i, unit_id in enumerate(info.unit_ids.tolist()):
        trace = info.templates[i, :, channels[unit_id]].astype("float64")
        if mode == "at_index":
            value = trace[info.nbefore]
        elif mode == "peak_to_peak":
            value = np.ptp(trace)
        elif peak_sign == "neg":
            value = trace.min()
        elif peak_sign == "pos":
            value = trace.max()
        else:
            value = trace[np.argmax(np.abs(trace))]
        values.append(abs(value) if abs_value else value)
    values = np.asarray(values, dtype="float64")
    return dict(zip(info.unit_ids.tolist(), values.tolist())) if with_dict else values
