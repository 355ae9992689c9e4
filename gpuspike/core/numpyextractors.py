"""In-memory objects: NumpyRecording, NumpySorting, NumpyEvent, NumpySnippets (not dumpable)."""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Sequence

import numpy as np

from .argnames import accepts_aliases
from .base import BaseExtractor
from .event import BaseEvent, BaseEventSegment, event_times
from .recording import BaseRecording, BaseRecordingSegment
from .snippets import BaseSnippets, BaseSnippetsSegment
from .sorting import BaseSorting, BaseSortingSegment, spike_dtype


def _as_list(x, name: str) -> list:
    if isinstance(x, np.ndarray):
        return [x]
    if not isinstance(x, (list, tuple)):
        raise TypeError(f"{name} must be an array or a list of arrays (one per segment), got {type(x).__name__}")
    return list(x)


class NumpyRecordingSegment(BaseRecordingSegment):
    """One segment of a :class:`NumpyRecording`: its (samples, channels) array, held in memory."""

    def __init__(self, traces: np.ndarray, sampling_frequency: float, t_start: float | None) -> None:
        super().__init__(sampling_frequency=sampling_frequency, t_start=t_start)
        self._traces = traces

    def get_num_samples(self) -> int:
        return self._traces.shape[0]

    def get_traces(self, start_frame, end_frame, channel_indices) -> np.ndarray:
        return self._traces[start_frame:end_frame, channel_indices]


class NumpyRecording(BaseRecording):
    """A recording held in memory, one (num_samples, num_channels) array per segment.

    Parameters
    ----------
    traces_list : np.ndarray or list of np.ndarray
        Traces per segment (time axis first).
    sampling_frequency : float
        Required by SpikeInterface; the specification's example leaves it out, so without it
        30000.0 Hz is taken, with a warning.
    t_starts : list of float, optional
        Start time (s) of each segment.
    channel_ids : array-like, optional
        Default ``0..num_channels-1``.
    """

    _dumpable_class = False

    def __init__(self, traces_list, sampling_frequency: float | None = None, t_starts: Sequence | None = None,
                 channel_ids: Sequence | None = None) -> None:
        if sampling_frequency is None:
            sampling_frequency = 30000.0
            warnings.warn("NumpyRecording: no sampling_frequency given, 30000.0 Hz assumed (SpikeInterface requires "
                          "it): pass sampling_frequency=...", UserWarning, stacklevel=2)
        traces_list = _as_list(traces_list, "traces_list")
        if not traces_list:
            raise ValueError("traces_list must hold at least one segment")
        for i, traces in enumerate(traces_list):
            if not isinstance(traces, np.ndarray) or traces.ndim != 2:
                raise ValueError(f"traces_list[{i}] must be a 2D numpy array (num_samples, num_channels)")
        num_channels = traces_list[0].shape[1]
        if num_channels > traces_list[0].shape[0]:
            warnings.warn(f"traces_list[0] has shape {traces_list[0].shape}: {num_channels} channels but only "
                          f"{traces_list[0].shape[0]} samples. Traces are (num_samples, num_channels); if yours are "
                          f"(num_channels, num_samples), pass traces.T", UserWarning, stacklevel=2)
        dtype = traces_list[0].dtype
        for i, traces in enumerate(traces_list):
            if traces.shape[1] != num_channels:
                raise ValueError(f"traces_list[{i}] has {traces.shape[1]} channels, segment 0 has {num_channels}")
            if traces.dtype != dtype:
                raise ValueError(f"traces_list[{i}] has dtype {traces.dtype}, segment 0 has {dtype}")
        if channel_ids is None:
            channel_ids = np.arange(num_channels)
        if len(channel_ids) != num_channels:
            raise ValueError(f"channel_ids has {len(channel_ids)} ids for {num_channels} channels")
        if t_starts is not None and len(t_starts) != len(traces_list):
            raise ValueError(f"t_starts has {len(t_starts)} values for {len(traces_list)} segments")
        super().__init__(sampling_frequency, channel_ids, dtype)
        for i, traces in enumerate(traces_list):
            t_start = None if t_starts is None else float(t_starts[i])
            self.add_segment(NumpyRecordingSegment(traces, self.sampling_frequency, t_start))
        self._kwargs = {"traces_list": traces_list, "sampling_frequency": sampling_frequency,
                        "t_starts": t_starts, "channel_ids": channel_ids}

    @staticmethod
    def from_recording(source_recording: BaseRecording, with_metadata: bool = True, with_time_vector: bool = False,
                       **job_kwargs) -> "NumpyRecording":
        """Load a whole recording into memory.

        Parameters
        ----------
        source_recording : BaseRecording
        with_metadata : bool
            Copy properties, annotations and probe.
        with_time_vector : bool
            Copy the segments' time vectors too (segment start times are always kept), as
            SpikeInterface 0.105.
        **job_kwargs
            Accepted for SpikeInterface compatibility (the traces are read in this process).

        Returns
        -------
        NumpyRecording
        """
        traces_list = [source_recording.get_traces(segment_index=i) for i in range(source_recording.get_num_segments())]
        rec = NumpyRecording(traces_list, source_recording.sampling_frequency,
                             channel_ids=source_recording.channel_ids)
        if with_metadata:
            source_recording.copy_metadata(rec)
        for seg_src, seg_dst in zip(source_recording.segments, rec.segments):
            if seg_src.time_vector is not None:
                if with_time_vector:
                    seg_dst.time_vector, seg_dst.t_start = seg_src.time_vector, None
            elif seg_src.t_start is not None:
                seg_dst.t_start = seg_src.t_start
        return rec


class NumpySortingSegment(BaseSortingSegment):
    """A sorting segment backed by a slice of the spike vector (sorted by sample)."""

    def __init__(self, spikes: np.ndarray, unit_ids: np.ndarray, num_samples: int | None = None) -> None:
        super().__init__()
        self._spikes = spikes
        self._unit_ids = unit_ids
        self._num_samples = num_samples
        self._by_unit = None  # the spike trains by unit, built on first use (a lazy sorting may never need them)
        self._unit_bounds = None
        self._lookup = {u: i for i, u in enumerate(unit_ids.tolist())}

    def _trains_by_unit(self) -> tuple[np.ndarray, np.ndarray]:
        if self._by_unit is None:
            units = np.asarray(self._spikes["unit_index"])
            order = np.lexsort((np.asarray(self._spikes["sample_index"]), units))
            self._by_unit = np.asarray(self._spikes["sample_index"])[order]
            self._unit_bounds = np.searchsorted(units[order], np.arange(len(self._unit_ids) + 1))
        return self._by_unit, self._unit_bounds

    def get_unit_spike_train(self, unit_id, start_frame, end_frame) -> np.ndarray:
        key = unit_id.item() if isinstance(unit_id, np.generic) else unit_id
        i = self._lookup[key]
        by_unit, bounds = self._trains_by_unit()
        train = by_unit[bounds[i]:bounds[i + 1]]
        lo = 0 if start_frame is None else np.searchsorted(train, start_frame, side="left")
        hi = len(train) if end_frame is None else np.searchsorted(train, end_frame, side="left")
        return train[lo:hi]

    def get_num_samples(self) -> int | None:
        return self._num_samples


class SpikeVectorSortingSegment(NumpySortingSegment):
    """A segment of a spike vector covering several segments (SpikeInterface's signature).

    Parameters
    ----------
    spikes : np.ndarray
        The whole spike vector (sorted by segment, then sample).
    segment_index : int
        The segment this one reads.
    unit_ids : array-like
    """

    def __init__(self, spikes: np.ndarray, segment_index: int, unit_ids: Sequence) -> None:
        bounds = np.searchsorted(spikes["segment_index"], [segment_index, segment_index + 1])
        super().__init__(spikes[bounds[0]:bounds[1]], np.asarray(unit_ids))


def _warn_unknown_labels(labels: list, unit_ids: np.ndarray) -> None:
    """Labels missing from ``unit_ids`` go to the first unit, as SpikeInterface 0.105 assigns them:
    refused when there is no unit, else said in a warning."""
    import warnings

    if unit_ids.size == 0:
        raise KeyError(f"labels {labels[:10]} are not in unit_ids (empty): give unit_ids that include every label")
    warnings.warn(f"labels {labels[:10]}{' ...' if len(labels) > 10 else ''} are not in unit_ids: their spikes are "
                  f"given to the first unit ({unit_ids.tolist()[0]!r}), as SpikeInterface does; give unit_ids that "
                  "include every label", UserWarning, stacklevel=3)


class NumpySorting(BaseSorting):
    """A sorting held in memory as a spike vector.

    Parameters
    ----------
    spikes : np.ndarray
        Structured array with fields sample_index, unit_index, segment_index.
    sampling_frequency : float
    unit_ids : array-like
    num_samples : list of int, optional
        Length of each segment (used when no recording is registered).
    """

    _dumpable_class = False

    def __init__(self, spikes: np.ndarray, sampling_frequency: float, unit_ids: Sequence,
                 num_segments: int | None = None, num_samples: Sequence | None = None) -> None:
        super().__init__(sampling_frequency, unit_ids)
        spikes = _check_spike_vector(spikes, len(self.unit_ids))
        if num_segments is None:
            num_segments = int(spikes["segment_index"].max()) + 1 if spikes.size else 1
            if num_samples is not None:
                num_segments = max(num_segments, len(num_samples))
        if spikes.size and (spikes["segment_index"][0] < 0 or spikes["segment_index"][-1] >= num_segments):
            raise ValueError(f"spikes segment_index spans [{spikes['segment_index'][0]}, "
                             f"{spikes['segment_index'][-1]}]; allowed: 0..{num_segments - 1} "
                             f"(num_segments={num_segments})")
        if num_samples is not None and len(num_samples) != num_segments:
            raise ValueError(f"num_samples has {len(num_samples)} values for {num_segments} segments")
        bounds = np.searchsorted(spikes["segment_index"], np.arange(num_segments + 1))
        for seg in range(num_segments):
            n = None if num_samples is None else int(num_samples[seg])
            self.add_segment(NumpySortingSegment(spikes[bounds[seg]:bounds[seg + 1]], self.unit_ids, n))
        self._cached_spike_vector = spikes
        self._kwargs = {"spikes": spikes, "sampling_frequency": sampling_frequency, "unit_ids": unit_ids,
                        "num_segments": num_segments, "num_samples": num_samples}

    @staticmethod
    def from_spike_vector(spike_vector: np.ndarray, sampling_frequency: float, unit_ids: Sequence,
                          num_segments: int | None = None) -> "NumpySorting":
        """Build from a spike vector (any order; it is sorted)."""
        return NumpySorting(spike_vector, sampling_frequency, unit_ids, num_segments=num_segments)

    @staticmethod
    def from_times_labels(times_list=None, labels_list=None, sampling_frequency: float | None = None,
                          unit_ids: Sequence | None = None, *, times=None, labels=None,
                          samples_list=None) -> "NumpySorting":
        """Build from spike frames and unit labels (one array each, or one per segment).

        ``times_list`` holds sample indices (frames), as in the specification; ``times=`` and
        ``labels=`` (the specification's keyword names) and ``samples_list=`` (SpikeInterface 0.105's,
        of ``from_samples_and_labels``) are accepted as aliases.
        """
        if samples_list is not None:
            if times is not None:
                raise TypeError("give times or samples_list, not both")
            times = samples_list
        if times is not None:
            if times_list is not None:
                raise TypeError("give times_list or times, not both")
            times_list = times
        if labels is not None:
            if labels_list is not None:
                raise TypeError("give labels_list or labels, not both")
            labels_list = labels
        if times_list is None or labels_list is None or sampling_frequency is None:
            raise TypeError("from_times_labels needs times_list (times), labels_list (labels) and sampling_frequency")
        if not (isinstance(times_list, list) and times_list and isinstance(times_list[0], (list, np.ndarray))):
            times_list = [np.asarray(times_list)]
            labels_list = [np.asarray(labels_list)]
        if len(times_list) != len(labels_list):
            raise ValueError(f"times_list has {len(times_list)} segments, labels_list {len(labels_list)}")
        times_list = [np.asarray(t) for t in times_list]
        labels_list = [np.asarray(lab) for lab in labels_list]
        for i, (t, lab) in enumerate(zip(times_list, labels_list)):
            if t.shape != lab.shape:
                raise ValueError(f"segment {i}: times has {t.shape[0]} spikes, labels {lab.shape[0]}")
            if t.size and t.dtype.kind == "f" and not np.all(np.mod(t, 1) == 0):
                raise ValueError(f"segment {i}: times must be sample indices (integers); "
                                 f"for seconds use from_times_labels(times * sampling_frequency, ...)")
            if t.size and t.dtype.kind not in "iuf":
                raise TypeError(f"segment {i}: times has dtype {t.dtype}; sample indices (integers) expected")
        if unit_ids is None:
            unit_ids = np.unique(np.concatenate(labels_list)) if labels_list else np.zeros(0, "int64")
        unit_ids = np.asarray(unit_ids)
        lookup = {u: i for i, u in enumerate(unit_ids.tolist())}
        parts, unknown = [], set()
        for seg, (t, lab) in enumerate(zip(times_list, labels_list)):
            part = np.zeros(t.size, dtype=spike_dtype)
            part["sample_index"] = t.astype("int64")
            labels = lab.tolist()
            indices = [lookup.get(x, -1) for x in labels]
            unknown.update(x for x, i in zip(labels, indices) if i < 0)
            part["unit_index"] = np.maximum(np.asarray(indices, dtype="int64"), 0)
            part["segment_index"] = seg
            parts.append(part)
        if unknown:
            _warn_unknown_labels(sorted(unknown, key=repr), unit_ids)
        spikes = np.concatenate(parts) if parts else np.zeros(0, spike_dtype)
        return NumpySorting(spikes, sampling_frequency, unit_ids, num_segments=len(times_list))

    from_samples_and_labels = from_times_labels

    @staticmethod
    def from_unit_dict(units_dict_list, sampling_frequency: float) -> "NumpySorting":
        """Build from ``{unit_id: frames}`` (or a list of such dicts, one per segment)."""
        if isinstance(units_dict_list, dict):
            units_dict_list = [units_dict_list]
        unit_ids = list(units_dict_list[0].keys())
        for seg, d in enumerate(units_dict_list):
            if list(d.keys()) != unit_ids:
                raise ValueError(f"units_dict_list[{seg}] has other unit ids than segment 0")
        from .validation import check_integer_frames

        times, labels = [], []
        for seg, d in enumerate(units_dict_list):
            t = [check_integer_frames(v, f"units_dict_list[{seg}][{u!r}]").reshape(-1) for u, v in d.items()]
            times.append(np.concatenate(t) if t else np.zeros(0, "int64"))
            labels.append(np.concatenate([np.full(len(v), i) for i, v in enumerate(t)]) if t else np.zeros(0, "int64"))
        labels = [np.asarray(unit_ids)[lab.astype("int64")] if len(lab) else np.asarray(unit_ids)[:0] for lab in labels]
        return NumpySorting.from_times_labels(times, labels, sampling_frequency, unit_ids=unit_ids)

    @staticmethod
    def from_times_and_labels(times_list, labels_list, sampling_frequency: float,
                              unit_ids: Sequence | None = None) -> "NumpySorting":
        """Build from spike times in seconds (rounded to the nearest sample) and unit labels.

        Parameters
        ----------
        times_list : np.ndarray or list of np.ndarray
            Spike times (s), one array per segment.
        labels_list : np.ndarray or list of np.ndarray
            The unit of each spike.
        sampling_frequency : float
        unit_ids : array-like, optional
            Default: the sorted unique labels.

        Returns
        -------
        NumpySorting
        """
        if isinstance(times_list, np.ndarray):
            times_list, labels_list = [times_list], [labels_list]
        samples = [np.round(np.asarray(t, dtype="float64") * sampling_frequency).astype("int64") for t in times_list]
        return NumpySorting.from_times_labels(samples, [np.asarray(lab) for lab in labels_list], sampling_frequency,
                                              unit_ids=unit_ids)

    @staticmethod
    def from_dict(dictionary, base_folder=None, *, sampling_frequency: float | None = None,
                  units_dict_list=None) -> "BaseExtractor":
        """An object rebuilt from an extractor dict (SpikeInterface 0.105's meaning), or a sorting built
        from ``{unit_id: frames}`` dicts (0.100's meaning, :meth:`from_unit_dict`).

        Parameters
        ----------
        dictionary : dict or list of dict
            An extractor dict (with a "class" key) or ``{unit_id: frames}`` (one per segment).
        base_folder : str, Path or float, optional
            The folder relative paths start from (extractor dict), or — positionally, as 0.100
            called it — the sampling frequency of unit dicts.
        sampling_frequency : float, optional
            Sampling frequency of unit dicts.
        units_dict_list : dict or list of dict, optional
            0.100's keyword name of ``dictionary`` for unit dicts.

        Returns
        -------
        BaseExtractor
        """
        if units_dict_list is not None:
            dictionary = units_dict_list
        if isinstance(dictionary, dict) and "class" in dictionary and "kwargs" in dictionary:
            return BaseExtractor.from_dict(dictionary, base_folder)
        if sampling_frequency is None:
            if base_folder is None or isinstance(base_folder, (str, Path)):
                raise ValueError("NumpySorting.from_dict with unit dicts needs sampling_frequency")
            sampling_frequency = base_folder
        return NumpySorting.from_unit_dict(dictionary, sampling_frequency)

    @staticmethod
    def from_peaks(peaks: np.ndarray, sampling_frequency: float, unit_ids: Sequence) -> "NumpySorting":
        """One unit per channel from detected peaks (fields ``sample_index``, ``channel_index``,
        ``segment_index``): unit ``unit_ids[k]`` holds the peaks of channel ``k``.

        Returns
        -------
        NumpySorting
        """
        for name in ("sample_index", "channel_index", "segment_index"):
            if peaks.dtype.names is None or name not in peaks.dtype.names:
                raise ValueError(f"peaks must be a structured array with the field {name!r}")
        spikes = np.zeros(peaks.size, dtype=spike_dtype)
        spikes["sample_index"] = peaks["sample_index"]
        spikes["unit_index"] = peaks["channel_index"]
        spikes["segment_index"] = peaks["segment_index"]
        return NumpySorting(spikes, sampling_frequency, unit_ids)

    @staticmethod
    def from_neo_spiketrain_list(neo_spiketrains, sampling_frequency: float,
                                 unit_ids: Sequence | None = None) -> "NumpySorting":
        """Build from neo ``SpikeTrain`` objects (one unit each; a list of lists for several segments).

        Returns
        -------
        NumpySorting
        """
        if not isinstance(neo_spiketrains[0], (list, tuple)):
            neo_spiketrains = [neo_spiketrains]
        if unit_ids is None:
            unit_ids = np.arange(len(neo_spiketrains[0]))
        dicts = [{u: np.round(np.asarray(train.rescale("s").magnitude) * sampling_frequency).astype("int64")
                  for u, train in zip(np.asarray(unit_ids).tolist(), segment)} for segment in neo_spiketrains]
        return NumpySorting.from_unit_dict(dicts, sampling_frequency)

    @staticmethod
    def from_sorting(source_sorting: BaseSorting, with_metadata: bool = False, copy_spike_vector: bool = False
                     ) -> "NumpySorting":
        """Copy any sorting into memory."""
        spikes = source_sorting.to_spike_vector()
        if copy_spike_vector:
            spikes = spikes.copy()
        num_samples = None
        if source_sorting.has_recording():
            num_samples = [source_sorting.get_num_samples(i) for i in range(source_sorting.get_num_segments())]
        sorting = NumpySorting(spikes, source_sorting.sampling_frequency, source_sorting.unit_ids,
                               num_segments=source_sorting.get_num_segments(), num_samples=num_samples)
        if with_metadata:
            source_sorting.copy_metadata(sorting)
        return sorting


#: spikes per pass when a memory-mapped spike vector is checked
_CHECK_ROWS = 1 << 20


def check_spike_vector(spikes: np.ndarray, num_units: int, num_segments: int | None = None) -> bool:
    """Check the values of a spike vector of ``spike_dtype`` (in memory or memory-mapped) in bounded
    passes, without copying it.

    Parameters
    ----------
    spikes : np.ndarray or np.memmap
    num_units : int
    num_segments : int, optional
        Segment indices must be in ``0..num_segments - 1`` (unchecked without it: the caller knows the
        segments).

    Returns
    -------
    bool
        True when the spikes are sorted by segment, then sample (the order a sorting keeps;
        simultaneous spikes in any unit order).

    Raises
    ------
    ValueError
        A unit index outside ``0..num_units - 1``, a negative sample index or a segment index out of range.
    """
    ordered = True
    for start in range(0, spikes.size, _CHECK_ROWS):
        part = np.asarray(spikes[start:start + _CHECK_ROWS])
        units, frames, segments = part["unit_index"], part["sample_index"], part["segment_index"]
        if units.min() < 0 or units.max() >= num_units:
            raise ValueError(f"spikes unit_index must be in 0..{num_units - 1}")
        if frames.min() < 0:
            raise ValueError("spikes sample_index must be >= 0")
        if num_segments is not None and (segments.min() < 0 or segments.max() >= num_segments):
            raise ValueError(f"spikes segment_index must be in 0..{num_segments - 1}")
        if ordered:  # this pass, from the previous pass's last spike
            ordered = _is_sorted_spike_vector(np.asarray(spikes[max(start - 1, 0):start + _CHECK_ROWS]))
    return ordered


def _check_spike_vector(spikes: np.ndarray, num_units: int) -> np.ndarray:
    if isinstance(spikes, np.ndarray) and spikes.dtype == spike_dtype and check_spike_vector(spikes, num_units):
        return spikes  # sorted: kept (mapped or shared), as SpikeInterface keeps a valid spike vector
    if not isinstance(spikes, np.ndarray) or spikes.dtype.names is None:
        spikes = _spike_rows(spikes)
    for name in spike_dtype.names:
        if name not in spikes.dtype.names:
            raise ValueError(f"spikes is missing the field {name!r}")
    from .validation import check_integer_frames

    # fields beyond the three stay with their spike (SpikeInterface keeps e.g. a "channel_index")
    extra = [(name, spikes.dtype.fields[name][0]) for name in spikes.dtype.names if name not in spike_dtype.names]
    out = np.zeros(spikes.size, dtype=np.dtype(spike_dtype.descr + extra) if extra else spike_dtype)
    for name in spike_dtype.names:
        out[name] = check_integer_frames(spikes[name], f"spikes[{name!r}]", "integers")
    for name, _ in extra:
        out[name] = spikes[name]
    if check_spike_vector(out, num_units):  # the usual case (another sorting's spike vector): no sort
        return out
    order = np.lexsort((out["unit_index"], out["sample_index"], out["segment_index"]))
    return out[order]


def _is_sorted_spike_vector(spikes: np.ndarray) -> bool:
    """Sorted by segment, then sample (simultaneous spikes in any unit order, as SpikeInterface keeps
    them after relabeling units)."""
    d_seg = np.diff(spikes["segment_index"])
    d_sample = np.diff(spikes["sample_index"])
    return bool(np.all((d_seg > 0) | ((d_seg == 0) & (d_sample >= 0))))


def _spike_rows(rows) -> np.ndarray:
    """A spike vector from ``(sample_index, unit_index, segment_index)`` rows (``to_dict``'s plain form)."""
    message = "spikes must be a structured array with fields sample_index, unit_index, segment_index"
    if not isinstance(rows, (list, tuple, np.ndarray)):
        raise TypeError(message + f", got {type(rows).__name__}")
    array = np.asarray(rows)
    if array.size == 0:
        return np.zeros(0, dtype=spike_dtype)
    if array.ndim != 2 or array.shape[1] != len(spike_dtype.names) or array.dtype.kind not in "iu":
        raise TypeError(message + f" (or integer rows of those three), got an array of shape {array.shape} and "
                        f"dtype {array.dtype}")
    out = np.zeros(array.shape[0], dtype=spike_dtype)
    for k, name in enumerate(spike_dtype.names):
        out[name] = array[:, k]
    return out


class NumpyEventSegment(BaseEventSegment):
    """Events of one segment: ``{channel_id: array}`` in their own dtype (structured, or plain times),
    ordered by time."""

    def __init__(self, event_dict: dict) -> None:
        super().__init__()
        self._events = {}
        for k, v in event_dict.items():
            v = np.asarray(v)
            self._events[k] = v[np.argsort(event_times(v), kind="stable")] if v.ndim == 1 else v

    def get_events(self, channel_id, start_time, end_time) -> np.ndarray:
        key = channel_id.item() if isinstance(channel_id, np.generic) else channel_id
        events = self._events[key]
        times = event_times(events)
        keep = np.ones(events.shape[0], dtype=bool)
        if start_time is not None:
            keep &= times >= start_time
        if end_time is not None:
            keep &= times <= end_time
        return events if keep.all() else events[keep]


class NumpyEvent(BaseEvent):
    """Events held in memory.

    Parameters
    ----------
    channel_ids : array-like
    structured_dtype : numpy dtype or dict
    """

    _dumpable_class = False

    def __init__(self, channel_ids: Sequence, structured_dtype) -> None:
        super().__init__(channel_ids, structured_dtype)
        self._kwargs = {"channel_ids": channel_ids, "structured_dtype": structured_dtype}

    @staticmethod
    def from_dict(event_dict_list, structured_dtype=None) -> "NumpyEvent":
        """Build from ``{channel_id: events}`` (or a list of such dicts, one per segment).

        Parameters
        ----------
        event_dict_list : dict or list of dict
            ``events`` are structured arrays with a ``time`` (or ``timestamp``) field, or plain
            arrays of times; they keep their dtype (as in SpikeInterface) and are ordered by time.
        structured_dtype : dict, optional
            ``{channel_id: dtype}``; by default the dtype of each channel's events in segment 0.

        Returns
        -------
        NumpyEvent
        """
        if isinstance(event_dict_list, dict):
            event_dict_list = [event_dict_list]
        if not isinstance(event_dict_list, (list, tuple)) or not event_dict_list:
            raise TypeError("event_dict_list must be a dict {channel_id: events} or a non-empty list of such dicts")
        channel_ids = list(event_dict_list[0].keys())
        converted = [{k: np.asarray(v) for k, v in d.items()} for d in event_dict_list]
        if structured_dtype is None:
            structured_dtype = {k: converted[0][k].dtype for k in channel_ids}
        event = NumpyEvent(channel_ids, structured_dtype)
        for seg in converted:
            event.add_event_segment(NumpyEventSegment(seg))
        event._kwargs = {"channel_ids": channel_ids, "structured_dtype": structured_dtype}
        return event


def check_snippet_frames(frames, what: str) -> np.ndarray:
    """Peak frames of snippets as int64: whole numbers, sorted (frames are looked up by binary search)."""
    from .validation import check_integer_frames

    frames = check_integer_frames(frames, what).reshape(-1)
    steps = np.diff(frames)
    if (steps < 0).any():
        i = int(np.flatnonzero(steps < 0)[0])
        raise ValueError(f"{what}: frames must be sorted; frame {i + 1} ({frames[i + 1]}) comes after a larger "
                         f"one ({frames[i]}). Sort the snippets by frame first (order = np.argsort(frames))")
    return frames


class NumpySnippetsSegment(BaseSnippetsSegment):
    """One segment of a :class:`NumpySnippets`: its snippets (n, samples, channels) and frames, in memory
    (``frames`` is also taken as ``spikesframes=``, SpikeInterface's name)."""

    @accepts_aliases(spikesframes="frames")
    def __init__(self, snippets: np.ndarray, frames: np.ndarray) -> None:
        super().__init__()
        self._snippets = snippets
        self._frames = frames

    def get_num_snippets(self) -> int:
        return self._snippets.shape[0]

    def get_frames(self, indices=None) -> np.ndarray:
        return self._frames if indices is None else self._frames[indices]

    def get_snippets(self, indices, channel_indices) -> np.ndarray:
        data = self._snippets if indices is None else self._snippets[indices]
        return data[:, :, channel_indices]


class NumpySnippets(BaseSnippets):
    """Snippets held in memory.

    Parameters
    ----------
    snippets_list : list of np.ndarray
        (num_snippets, snippet_len, num_channels) per segment.
    spikesframes_list : list of np.ndarray
        Peak frame of each snippet, per segment (sorted).
    sampling_frequency : float
    nbefore : int or None
    channel_ids : array-like, optional
    """

    _dumpable_class = False

    def __init__(self, snippets_list, spikesframes_list, sampling_frequency: float, nbefore: int | None = None,
                 channel_ids: Sequence | None = None) -> None:
        snippets_list = _as_list(snippets_list, "snippets_list")
        spikesframes_list = _as_list(spikesframes_list, "spikesframes_list")
        if len(snippets_list) != len(spikesframes_list):
            raise ValueError(f"snippets_list has {len(snippets_list)} segments, spikesframes_list "
                             f"{len(spikesframes_list)}")
        first = snippets_list[0]
        if first.ndim != 3:
            raise ValueError(f"snippets must be 3D (num_snippets, snippet_len, num_channels), got {first.shape}")
        for i, (s, f) in enumerate(zip(snippets_list, spikesframes_list)):
            if s.shape[1:] != first.shape[1:]:
                raise ValueError(f"snippets_list[{i}] has shape {s.shape}, segment 0 {first.shape}")
            if len(f) != s.shape[0]:
                raise ValueError(f"segment {i}: {s.shape[0]} snippets but {len(f)} frames")
        if channel_ids is None:
            channel_ids = np.arange(first.shape[2])
        super().__init__(sampling_frequency, nbefore, first.shape[1], channel_ids, first.dtype)
        for i, (s, f) in enumerate(zip(snippets_list, spikesframes_list)):
            self.add_segment(NumpySnippetsSegment(s, check_snippet_frames(f, f"spikesframes_list[{i}]")))
        self._kwargs = {"snippets_list": snippets_list, "spikesframes_list": spikesframes_list,
                        "sampling_frequency": sampling_frequency, "nbefore": nbefore, "channel_ids": channel_ids}
