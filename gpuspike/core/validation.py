"""Checks of user input that would otherwise pass unnoticed: each raises early, naming the
argument, the value and what is allowed."""
from __future__ import annotations

import math
import numbers

import numpy as np

#: dtypes of traces that a binary or zarr folder can hold (and load again)
TRACE_DTYPE_KINDS = "iuf"


class MismatchError(ValueError, AssertionError):
    """Arguments that do not fit each other (a mask of the wrong shape, ...): a ``ValueError`` that is
    also the ``AssertionError`` SpikeInterface 0.105 raises there, for code that catches it."""


def check_sampling_frequency(value, what: str = "sampling_frequency") -> float:
    """A finite number > 0 (not a string, not a bool), as a float."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{what}={value!r}: give a number of samples per second (a float > 0), "
                        f"not a {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{what} must be > 0 and finite (samples per second), got {value!r}")
    return value


def check_sampling_frequencies_match(frequencies, sampling_frequency_max_diff, name: str) -> None:
    """The sampling frequencies of ``name`` (a list of extractors) within ``sampling_frequency_max_diff``
    Hz of the first; a difference within that bound is warned about, as SpikeInterface does.

    Parameters
    ----------
    frequencies : sequence of float
        Of ``name[0]``, ``name[1]``, ...
    sampling_frequency_max_diff : float
        Largest tolerated difference (Hz), >= 0.
    name : str
        The argument, for messages.
    """
    import warnings

    if isinstance(sampling_frequency_max_diff, (bool, np.bool_)) or \
            not isinstance(sampling_frequency_max_diff, numbers.Real) or not sampling_frequency_max_diff >= 0:
        raise ValueError(f"sampling_frequency_max_diff={sampling_frequency_max_diff!r}: give a number of Hz >= 0")
    first = float(frequencies[0])
    largest = 0.0
    for i, value in enumerate(frequencies[1:], start=1):
        diff = abs(float(value) - first)
        if diff > sampling_frequency_max_diff:
            raise ValueError(f"{name}[{i}] has sampling_frequency {value}, {name}[0] has {first} (difference "
                             f"{diff} > sampling_frequency_max_diff={sampling_frequency_max_diff})")
        largest = max(largest, diff)
    if largest > 0:
        drift_ms = 24 * 3600000 * largest / first
        warnings.warn(f"{name}: sampling frequencies differ by up to {largest} Hz (within "
                      f"sampling_frequency_max_diff={sampling_frequency_max_diff}): the first one is used, which "
                      f"shifts spike times by ~{round(drift_ms, 5)} ms over 24 h", stacklevel=3)


def check_trace_dtype(dtype, what: str = "dtype") -> np.dtype:
    """A numpy integer or float dtype: what a binary / zarr folder can hold and load again."""
    try:
        dtype = np.dtype(dtype)
    except TypeError as err:
        raise TypeError(f"{what}={dtype!r} is not a numpy dtype ({err})") from None
    if dtype.kind not in TRACE_DTYPE_KINDS or dtype.names is not None or dtype.subdtype is not None:
        raise ValueError(f"{what}={dtype} cannot be saved and loaded again as traces; allowed: integer and float "
                         f"dtypes (e.g. 'int16', 'uint16', 'float32', 'float64')")
    return dtype


def _range_text(lo, hi) -> str:
    return f"[{lo}, {hi}]"


def checked_cast(values: np.ndarray, dtype, what: str) -> np.ndarray:
    """``values.astype(dtype)``, refusing values the cast would wrap, overflow or turn NaN into numbers.

    Parameters
    ----------
    values : np.ndarray
    dtype : numpy dtype
        Target dtype.
    what : str
        What is cast, for the message (e.g. ``"traces of segment 0, frames [0, 30000)"``).

    Raises
    ------
    ValueError
        Values outside the range of ``dtype`` (or NaN / inf into an integer dtype), with the range found.
    """
    dtype = np.dtype(dtype)
    values = np.asarray(values)
    if values.dtype == dtype or np.can_cast(values.dtype, dtype, "safe") or values.size == 0:
        return values.astype(dtype, copy=False)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        if values.dtype.kind == "b":
            return values.astype(dtype)
        lo, hi = values.min(), values.max()  # two passes; NaN and inf show up in them
        if values.dtype.kind == "f" and not (np.isfinite(lo) and np.isfinite(hi)):
            bad = values[~np.isfinite(values)]
            raise ValueError(f"{what}: {bad.size} value(s) are NaN or infinite (e.g. {bad[0]}), which "
                             f"dtype={dtype} cannot hold; allowed range {_range_text(info.min, info.max)}")
        if lo < info.min or hi > info.max:
            raise ValueError(f"{what}: values span {_range_text(lo, hi)}, outside the range "
                             f"{_range_text(info.min, info.max)} of dtype={dtype}; they would wrap around. "
                             f"Choose a wider dtype, or scale the values first")
        return values.astype(dtype)
    if dtype.kind == "f":
        info = np.finfo(dtype)
        lo, hi = values.min(), values.max()
        finite = np.isfinite(lo) and np.isfinite(hi) if values.dtype.kind == "f" else True
        if finite and (lo < info.min or hi > info.max):
            raise ValueError(f"{what}: values span {_range_text(lo, hi)}, which overflows dtype={dtype} (largest "
                             f"{info.max}); choose a wider dtype")
        if not finite:  # NaN / inf stay NaN / inf: only finite values that overflow are refused
            finite_values = values[np.isfinite(values)]
            if finite_values.size and (finite_values.min() < info.min or finite_values.max() > info.max):
                raise ValueError(f"{what}: values up to {np.abs(finite_values).max()} overflow dtype={dtype} "
                                 f"(largest {info.max}); choose a wider dtype")
        return values.astype(dtype)
    return values.astype(dtype)


def check_integer_frames(values, what: str, expected: str = "sample indices (integers)") -> np.ndarray:
    """Integers as int64: integers, or floats that are whole numbers; NaN, inf and fractions refused.

    Parameters
    ----------
    values : array-like
    what : str
        Names the argument in the message.
    expected : str
        What the values are, for the message.
    """
    values = np.asarray(values)
    if values.size == 0:
        return values.astype("int64").reshape(values.shape)
    if values.dtype.kind in "iu":
        return values.astype("int64", copy=False)
    if values.dtype.kind == "f":
        finite = np.isfinite(values)
        if not finite.all():
            raise ValueError(f"{what}: {int((~finite).sum())} value(s) are NaN or infinite; {expected} expected")
        fractional = np.mod(values, 1) != 0
        if fractional.any():
            raise ValueError(f"{what}: values such as {values[fractional][0]} are not whole numbers; {expected} "
                             f"expected" + (". For times in seconds, multiply by the sampling frequency and round "
                                            "first" if "sample" in expected else ""))
        return values.astype("int64")
    raise TypeError(f"{what}: dtype {values.dtype} is not a number; {expected} expected")


def check_id_types(ids, what: str) -> None:
    """Refuse ids that mix integers and strings (numpy would turn all of them into strings)."""
    if isinstance(ids, np.ndarray) and ids.dtype.kind != "O":
        return
    kinds = set()
    for value in (ids.tolist() if isinstance(ids, np.ndarray) else list(ids)):
        if isinstance(value, (bool, np.bool_)):
            kinds.add("bool")
        elif isinstance(value, (numbers.Integral, np.integer)):
            kinds.add("int")
        elif isinstance(value, (str, np.str_)):
            kinds.add("str")
        else:
            kinds.add(type(value).__name__)
    if len(kinds) > 1:
        raise TypeError(f"{what} mix types {sorted(kinds)}: give all ids as ints or all as strings "
                        f"(mixed ids would all become strings and lookups by int would fail)")


def check_time_vector(times: np.ndarray, what: str) -> None:
    """A time vector must be finite and never decrease."""
    if times.size == 0:
        return
    if not np.isfinite(times).all():
        raise ValueError(f"{what}: holds NaN or infinite times; give finite times in seconds")
    steps = np.diff(times)
    if (steps < 0).any():
        i = int(np.flatnonzero(steps < 0)[0])
        raise ValueError(f"{what}: times decrease at sample {i + 1} ({times[i]} then {times[i + 1]}); "
                         f"a time vector must be non-decreasing (sorted)")


def check_max_spikes_per_unit(value, what: str = "max_spikes_per_unit"):
    """An int >= 1, or None (all spikes)."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(f"{what}={value!r}: give an int >= 1, or None for all spikes")
    if value < 1:
        raise ValueError(f"{what}={value!r}: give an int >= 1, or None for all spikes")
    return int(value)


def check_flag(value, name: str) -> bool:
    """``value`` as a bool when it is one (numpy's, or the ints 0 and 1); else TypeError naming ``name``
    (a string such as ``"no"`` is truthy and would mean True).

    Parameters
    ----------
    value : object
    name : str
        The argument's name, for the message.

    Returns
    -------
    bool
    """
    if isinstance(value, (bool, np.bool_)) or (isinstance(value, (int, np.integer)) and value in (0, 1)):
        return bool(value)
    raise TypeError(f"{name}={value!r}: allowed values are True and False")


def check_window(ms_before, ms_after, sampling_frequency: float) -> int:
    """``ms_before`` and ``ms_after`` finite and >= 0, with a window of at least one sample; returns
    the window's samples."""
    for name, value in (("ms_before", ms_before), ("ms_after", ms_after)):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            raise TypeError(f"{name}={value!r}: give milliseconds as a number >= 0")
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"{name}={value!r}: give milliseconds as a finite number >= 0")
    nsamples = int(ms_before * sampling_frequency / 1000.0) + int(ms_after * sampling_frequency / 1000.0)
    if nsamples < 1:
        raise ValueError(f"ms_before={ms_before}, ms_after={ms_after}: the window holds no sample at "
                         f"{sampling_frequency} Hz; make it at least {1000.0 / sampling_frequency:.3g} ms")
    return nsamples


def check_waveform_dtype(dtype, natural: np.dtype):
    """The dtype of waveforms must hold the ``natural`` values (float32 µV, or the raw dtype) without wrapping."""
    if dtype is None:
        return natural
    try:
        dtype = np.dtype(dtype)
    except TypeError as err:
        raise TypeError(f"dtype={dtype!r} is not a numpy dtype ({err})") from None
    if not np.can_cast(natural, dtype, "safe"):
        allowed = [str(np.dtype(d)) for d in ("int16", "int32", "int64", "float32", "float64")
                   if np.can_cast(natural, d, "safe")]
        raise ValueError(f"dtype={dtype} cannot hold waveforms of dtype {natural} without wrapping or losing "
                         f"precision; allowed: {allowed}")
    return dtype


def check_zarr_codecs(compressor, filters, compressor_by_dataset, filters_by_dataset) -> None:
    """``compressor``: None, "default" or a numcodecs codec; ``filters``: None or a list of codecs."""
    from numcodecs.abc import Codec

    def check_compressor(value, name):
        if value is None or (isinstance(value, str) and value == "default") or isinstance(value, Codec):
            return
        raise TypeError(f"{name}={value!r}: allowed values are None (no compression), 'default' (Blosc zstd with "
                        f"bit shuffle) or a numcodecs codec such as numcodecs.Blosc(cname='zstd')")

    def check_filters(value, name):
        if value is None:
            return
        if not isinstance(value, (list, tuple)) or not all(isinstance(f, Codec) for f in value):
            raise TypeError(f"{name}={value!r}: give None or a list of numcodecs codecs "
                            f"(e.g. [numcodecs.Delta(dtype='int16')])")

    check_compressor(compressor, "compressor")
    check_filters(filters, "filters")
    for mapping, name, check in ((compressor_by_dataset, "compressor_by_dataset", check_compressor),
                                 (filters_by_dataset, "filters_by_dataset", check_filters)):
        if mapping is None:
            continue
        if not isinstance(mapping, dict):
            raise TypeError(f"{name}={mapping!r}: give a dict such as {{'traces': codec, 'times': codec}}")
        unknown = sorted(set(mapping) - {"traces", "times"})
        if unknown:
            raise ValueError(f"{name}: unknown datasets {unknown}; allowed: ['traces', 'times']")
        for key, value in mapping.items():
            check(value, f"{name}[{key!r}]")


def check_extraction_inputs(recording, sorting, ms_before, ms_after, max_spikes_per_unit, where: str,
                            unit_ids_name_files: bool = False, num_spikes_for_sparsity=None):
    """Checks at the entry of :func:`extract_waveforms` / :func:`compute_templates`, before any work.

    Returns the sorting to use: ``sorting`` itself, or a view without its spikes beyond the end
    of ``recording`` (dropped with a warning, as SpikeInterface 0.105 does).
    """
    from .excess_spikes import drop_excess_spikes
    from .folder_safety import check_unit_ids_for_files

    nsamples = check_window(ms_before, ms_after, recording.sampling_frequency)
    longest = max(recording.get_num_samples(i) for i in range(recording.get_num_segments()))
    if nsamples > longest:
        raise ValueError(f"{where}: ms_before={ms_before}, ms_after={ms_after} make a window of {nsamples} samples, "
                         f"longer than the recording ({longest} samples in its longest segment); give windows of "
                         f"at most {1000.0 * longest / recording.sampling_frequency:.6g} ms in all")
    check_max_spikes_per_unit(max_spikes_per_unit)
    if num_spikes_for_sparsity is not None:
        check_max_spikes_per_unit(num_spikes_for_sparsity, "num_spikes_for_sparsity")
    if unit_ids_name_files:
        check_unit_ids_for_files(sorting.unit_ids)
    return drop_excess_spikes(sorting, recording, where)
