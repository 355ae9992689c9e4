"""Lazy segment operations: append, concatenate, split and select segments."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .argnames import accepts_aliases
from .event import BaseEvent, BaseEventSegment
from .recording import BaseRecording, BaseRecordingSegment
from .sorting import BaseSorting, BaseSortingSegment
from .validation import check_sampling_frequencies_match


def _check_recordings_match(recording_list: Sequence[BaseRecording], sampling_frequency_max_diff: float = 0.0,
                            name: str = "recording_list") -> None:
    if not isinstance(recording_list, (list, tuple)) or len(recording_list) == 0:
        raise ValueError(f"{name} must be a non-empty list of recordings")
    first = recording_list[0]
    for i, rec in enumerate(recording_list[1:], start=1):
        if not isinstance(rec, BaseRecording):
            raise TypeError(f"{name}[{i}] is a {type(rec).__name__}, not a recording")
    check_sampling_frequencies_match([r.sampling_frequency for r in recording_list], sampling_frequency_max_diff, name)
    for i, rec in enumerate(recording_list[1:], start=1):
        if not np.array_equal(rec.channel_ids, first.channel_ids):
            raise ValueError(f"{name}[{i}] has other channel ids than {name}[0]")
        if rec.get_dtype() != first.get_dtype():
            raise ValueError(f"{name}[{i}] has dtype {rec.get_dtype()}, {name}[0] has {first.get_dtype()}")


class ProxyAppendRecordingSegment(BaseRecordingSegment):
    """A segment that forwards to another recording's segment."""

    def __init__(self, parent_segment: BaseRecordingSegment) -> None:
        super().__init__(sampling_frequency=parent_segment.sampling_frequency, t_start=parent_segment.t_start,
                         time_vector=parent_segment.time_vector)
        self._parent_segment = parent_segment

    def get_num_samples(self) -> int:
        return self._parent_segment.get_num_samples()

    def get_traces(self, start_frame, end_frame, channel_indices) -> np.ndarray:
        return self._parent_segment.get_traces(start_frame, end_frame, channel_indices)


class AppendSegmentRecording(BaseRecording):
    """All segments of several recordings, one after the other, as one multi-segment recording."""

    def __init__(self, recording_list: Sequence[BaseRecording], sampling_frequency_max_diff: float = 0.0) -> None:
        _check_recordings_match(recording_list, sampling_frequency_max_diff)
        first = recording_list[0]
        super().__init__(first.sampling_frequency, first.channel_ids, first.get_dtype())
        first.copy_metadata(self)
        for rec in recording_list:
            for segment in rec._segments:
                self.add_segment(ProxyAppendRecordingSegment(segment))
        self._kwargs = {"recording_list": list(recording_list),
                        "sampling_frequency_max_diff": sampling_frequency_max_diff}


def append_recordings(recording_list: Sequence[BaseRecording], sampling_frequency_max_diff: float = 0.0
                      ) -> BaseRecording:
    """Append the segments of several recordings into one multi-segment recording (lazy).

    Parameters
    ----------
    recording_list : sequence of BaseRecording
        Recordings with the same channels; their segments follow one another.
    sampling_frequency_max_diff : float
        Largest difference of sampling frequency (Hz) tolerated between the recordings.

    Returns
    -------
    BaseRecording
        An :class:`AppendSegmentRecording` with the segments of all recordings.
    """
    return AppendSegmentRecording(recording_list, sampling_frequency_max_diff)


class ProxyConcatenateRecordingSegment(BaseRecordingSegment):
    """The parents' frames back to back (SpikeInterface's arguments). With ``ignore_times`` times
    start at 0 (the parents' own times are lost); else the time vectors of the parents are joined
    when every parent has one, and the first parent's start time is kept otherwise (SpikeInterface
    0.105 gives the first parent's time vector, which is shorter than the segment)."""

    def __init__(self, parent_segments: list, sampling_frequency: float, ignore_times: bool = True) -> None:
        first = parent_segments[0]
        if ignore_times:
            super().__init__(sampling_frequency=sampling_frequency)
        elif all(s.time_vector is not None for s in parent_segments):
            super().__init__(time_vector=np.concatenate([s.time_vector for s in parent_segments]))
        else:
            super().__init__(sampling_frequency=sampling_frequency, t_start=first.t_start)
        self._parents = parent_segments
        lengths = [s.get_num_samples() for s in parent_segments]
        self._bounds = np.concatenate([[0], np.cumsum(lengths)]).astype("int64")

    def get_num_samples(self) -> int:
        return int(self._bounds[-1])

    def get_traces(self, start_frame, end_frame, channel_indices) -> np.ndarray:
        pieces = []
        first = int(np.searchsorted(self._bounds, start_frame, side="right")) - 1
        for i in range(max(first, 0), len(self._parents)):
            lo, hi = self._bounds[i], self._bounds[i + 1]
            if lo >= end_frame:
                break
            a, b = max(start_frame, lo) - lo, min(end_frame, hi) - lo
            if b > a:
                pieces.append(self._parents[i].get_traces(int(a), int(b), channel_indices))
        if not pieces:
            return self._parents[0].get_traces(0, 0, channel_indices)
        return pieces[0] if len(pieces) == 1 else np.concatenate(pieces, axis=0)


class ConcatenateSegmentRecording(BaseRecording):
    """All segments of several recordings virtually concatenated into one segment."""

    def __init__(self, recording_list: Sequence[BaseRecording], ignore_times: bool = True,
                 sampling_frequency_max_diff: float = 0.0) -> None:
        _check_recordings_match(recording_list, sampling_frequency_max_diff)
        first = recording_list[0]
        super().__init__(first.sampling_frequency, first.channel_ids, first.get_dtype())
        first.copy_metadata(self)
        segments = [seg for rec in recording_list for seg in rec._segments]
        if not ignore_times:
            _check_no_times(segments)
        self.add_segment(ProxyConcatenateRecordingSegment(segments, self.sampling_frequency))
        self._kwargs = {"recording_list": list(recording_list), "ignore_times": ignore_times,
                        "sampling_frequency_max_diff": sampling_frequency_max_diff}

    def get_segment_boundaries(self) -> np.ndarray:
        """Sample index where each original segment starts (plus the total length)."""
        return self._segments[0]._bounds.copy()


def _check_no_times(segments: list) -> None:
    """``ignore_times=False`` is only for segments without times (SpikeInterface 0.105 asserts)."""
    from .errors import SpikeInterfaceAssertError

    for segment in segments:
        for what, value in (("time_vector", segment.time_vector), ("t_start", segment.t_start)):
            if value is not None:
                raise SpikeInterfaceAssertError(f"ConcatenateSegmentRecording does not handle {what}. Use "
                                                "ignore_times=True to ignore time information.")


def concatenate_recordings(recording_list: Sequence[BaseRecording], ignore_times: bool = True,
                           sampling_frequency_max_diff: float = 0.0) -> BaseRecording:
    """Concatenate all segments of several recordings into a mono-segment recording (lazy).

    Parameters
    ----------
    recording_list : sequence of BaseRecording
        Recordings with the same channels.
    ignore_times : bool
        Ignore the times of the segments (the result's times start at 0, as they always do); False
        refuses segments that have times (a time vector or a ``t_start``), as SpikeInterface.
    sampling_frequency_max_diff : float
        Largest difference of sampling frequency (Hz) tolerated between the recordings.

    Returns
    -------
    BaseRecording
        A one-segment :class:`ConcatenateSegmentRecording`.

    Raises
    ------
    SpikeInterfaceAssertError
        ``ignore_times=False`` with a segment that has times.
    """
    return ConcatenateSegmentRecording(recording_list, ignore_times, sampling_frequency_max_diff)


class SelectSegmentRecording(BaseRecording):
    """Some segments of a recording."""

    def __init__(self, recording: BaseRecording, segment_indices) -> None:
        indices = _check_segment_indices(segment_indices, recording.get_num_segments())
        super().__init__(recording.sampling_frequency, recording.channel_ids, recording.get_dtype())
        recording.copy_metadata(self)
        for i in indices:
            self.add_segment(ProxyAppendRecordingSegment(recording._segments[i]))
        self._kwargs = {"recording": recording, "segment_indices": indices}


def _check_segment_indices(segment_indices, num_segments: int) -> list[int]:
    if isinstance(segment_indices, (int, np.integer)):
        segment_indices = [int(segment_indices)]
    indices = [int(i) for i in segment_indices]
    for i in indices:
        if not 0 <= i < num_segments:
            raise ValueError(f"segment_indices: {i} out of range; allowed 0..{num_segments - 1}")
    if not indices:
        raise ValueError("segment_indices must not be empty")
    return indices


def select_segment_recording(recording: BaseRecording, segment_indices) -> BaseRecording:
    """A lazy view on some segments of a recording.

    Parameters
    ----------
    recording : BaseRecording
        The recording.
    segment_indices : int or list of int
        The segments kept, in this order.

    Returns
    -------
    BaseRecording
        A :class:`SelectSegmentRecording` view.
    """
    return SelectSegmentRecording(recording, segment_indices)


def split_recording(recording: BaseRecording) -> list[BaseRecording]:
    """One mono-segment lazy view per segment.

    Parameters
    ----------
    recording : BaseRecording
        A recording with one or more segments.

    Returns
    -------
    list of BaseRecording
        One recording per segment, in segment order.
    """
    return [SelectSegmentRecording(recording, [i]) for i in range(recording.get_num_segments())]


# ---------------------------------------------------------------------- sortings
def _check_sortings_match(sorting_list: Sequence[BaseSorting], name: str = "sorting_list",
                          sampling_frequency_max_diff: float = 0.0) -> None:
    if not isinstance(sorting_list, (list, tuple)) or len(sorting_list) == 0:
        raise ValueError(f"{name} must be a non-empty list of sortings")
    first = sorting_list[0]
    for i, s in enumerate(sorting_list[1:], start=1):
        if not isinstance(s, BaseSorting):
            raise TypeError(f"{name}[{i}] is a {type(s).__name__}, not a sorting")
    check_sampling_frequencies_match([s.sampling_frequency for s in sorting_list], sampling_frequency_max_diff, name)
    for i, s in enumerate(sorting_list[1:], start=1):
        if not np.array_equal(s.unit_ids, first.unit_ids):
            raise ValueError(f"{name}[{i}] has other unit ids than {name}[0]")


class ProxyAppendSortingSegment(BaseSortingSegment):
    """A segment that forwards to another sorting's segment (``num_samples`` overrides its length)."""

    def __init__(self, parent_segment: BaseSortingSegment, num_samples: int | None = None) -> None:
        super().__init__()
        self._parent_segment = parent_segment
        self._num_samples = num_samples

    def get_unit_spike_train(self, unit_id, start_frame, end_frame) -> np.ndarray:
        return self._parent_segment.get_unit_spike_train(unit_id, start_frame, end_frame)

    def get_num_samples(self):
        return self._num_samples if self._num_samples is not None else self._parent_segment.get_num_samples()


class AppendSegmentSorting(BaseSorting):
    """All segments of several sortings, one after the other (the first one's sampling frequency)."""

    def __init__(self, sorting_list: Sequence[BaseSorting], sampling_frequency_max_diff: float = 0.0) -> None:
        _check_sortings_match(sorting_list, sampling_frequency_max_diff=sampling_frequency_max_diff)
        first = sorting_list[0]
        super().__init__(first.sampling_frequency, first.unit_ids)
        first.copy_metadata(self)
        for s in sorting_list:
            for i, segment in enumerate(s._segments):
                n = s.get_num_samples(i) if s.has_recording() else None
                self.add_segment(ProxyAppendSortingSegment(segment, n))
        self._kwargs = {"sorting_list": list(sorting_list), "sampling_frequency_max_diff": sampling_frequency_max_diff}


def append_sortings(sorting_list: Sequence[BaseSorting], sampling_frequency_max_diff: float = 0.0) -> BaseSorting:
    """Append the segments of several sortings into one multi-segment sorting (lazy).

    Parameters
    ----------
    sorting_list : sequence of BaseSorting
        Sortings with the same units; their segments follow one another.
    sampling_frequency_max_diff : float
        Largest difference of sampling frequency (Hz) tolerated between the sortings (with a
        warning; the first one's is used).

    Returns
    -------
    BaseSorting
        An :class:`AppendSegmentSorting` with the segments of all sortings.
    """
    return AppendSegmentSorting(sorting_list, sampling_frequency_max_diff)


class SelectSegmentSorting(BaseSorting):
    """Some segments of a sorting."""

    def __init__(self, sorting: BaseSorting, segment_indices) -> None:
        indices = _check_segment_indices(segment_indices, sorting.get_num_segments())
        super().__init__(sorting.sampling_frequency, sorting.unit_ids)
        sorting.copy_metadata(self)
        for i in indices:
            n = sorting.get_num_samples(i) if sorting.has_recording() else None
            self.add_segment(ProxyAppendSortingSegment(sorting._segments[i], n))
        if sorting.has_recording():
            self.register_recording(select_segment_recording(sorting.get_recording(), indices),
                                    check_spike_frames=False)
        self._kwargs = {"sorting": sorting, "segment_indices": indices}


def select_segment_sorting(sorting: BaseSorting, segment_indices) -> BaseSorting:
    """A lazy view on some segments of a sorting.

    Parameters
    ----------
    sorting : BaseSorting
        The sorting.
    segment_indices : int or list of int
        The segments kept, in this order.

    Returns
    -------
    BaseSorting
        A :class:`SelectSegmentSorting` view.
    """
    return SelectSegmentSorting(sorting, segment_indices)


class ProxyEventSegment(BaseEventSegment):
    """A segment that forwards to another event object's segment."""

    def __init__(self, parent_segment: BaseEventSegment) -> None:
        super().__init__()
        self._parent_segment = parent_segment

    def get_events(self, channel_id, start_time: float | None, end_time: float | None) -> np.ndarray:
        return self._parent_segment.get_events(channel_id, start_time, end_time)


class SelectSegmentEvent(BaseEvent):
    """Some segments of an event object (lazy; SpikeInterface 0.105's ``BaseEvent.select_segment``).

    Parameters
    ----------
    event : BaseEvent
    segment_indices : int or list of int
        The segments kept, in this order.
    """

    def __init__(self, event: BaseEvent, segment_indices) -> None:
        if not isinstance(event, BaseEvent):
            raise TypeError(f"event must be a BaseEvent, got {type(event).__name__}")
        indices = _check_segment_indices(segment_indices, event.get_num_segments())
        super().__init__(event.channel_ids, dict(event.structured_dtype))
        event.copy_metadata(self)
        for i in indices:
            self.add_segment(ProxyEventSegment(event._segments[i]))
        self._parent = event
        self._kwargs = {"event": event, "segment_indices": indices}


class SplitSegmentSorting(BaseSorting):
    """A mono-segment sorting split into segments of the lengths of ``recording_or_recording_list``'s
    segments (e.g. the sorting of a concatenated recording, back to the original segments).

    Parameters
    ----------
    parent_sorting : BaseSorting
        A mono-segment sorting.
    recording_or_recording_list : list of BaseRecording or ConcatenateSegmentRecording, optional
        The recordings whose segments give the lengths (default: the registered recording).
    """

    def __init__(self, parent_sorting: BaseSorting, recording_or_recording_list=None) -> None:
        from .views import FrameSliceSorting

        if parent_sorting.get_num_segments() != 1:
            raise ValueError(f"SplitSegmentSorting needs a mono-segment sorting, this one has "
                             f"{parent_sorting.get_num_segments()} segments")
        if recording_or_recording_list is None:
            if not parent_sorting.has_recording():
                raise ValueError("no recording is registered on the sorting: give recording_or_recording_list")
            recording_list = [parent_sorting.get_recording()]
        elif isinstance(recording_or_recording_list, ConcatenateSegmentRecording):
            recording_list = list(recording_or_recording_list._kwargs["recording_list"])
        elif isinstance(recording_or_recording_list, (list, tuple)):
            recording_list = list(recording_or_recording_list)
        else:
            raise TypeError("recording_or_recording_list must be a list of recordings, a ConcatenateSegmentRecording "
                            f"or None, got {type(recording_or_recording_list).__name__}")
        super().__init__(parent_sorting.sampling_frequency, parent_sorting.unit_ids)
        parent_sorting.copy_metadata(self)
        lengths = [rec.get_num_samples(i) for rec in recording_list for i in range(rec.get_num_segments())]
        bounds = np.concatenate([[0], np.cumsum(lengths)]).astype("int64")
        plain = parent_sorting
        if plain.has_recording():  # slices by frames only: the lengths come from recording_list
            from .numpyextractors import NumpySorting

            plain = NumpySorting.from_sorting(parent_sorting)
            plain._recording = None
        for k in range(len(lengths)):
            view = FrameSliceSorting(plain, int(bounds[k]), int(bounds[k + 1]), check_spike_frames=False)
            segment = view._segments[0]
            self.add_segment(segment)
        self._parent = parent_sorting
        self._kwargs = {"parent_sorting": parent_sorting, "recording_or_recording_list": recording_list}


@accepts_aliases(parent_sorting="sorting")
def split_sorting(sorting: BaseSorting, recording_or_recording_list=None):
    """One mono-segment lazy view per segment; or, with ``recording_or_recording_list``, a mono-segment
    sorting split back into segments (:class:`SplitSegmentSorting`, SpikeInterface's ``split_sorting``).

    Parameters
    ----------
    sorting : BaseSorting
        A sorting with one or more segments (mono-segment with ``recording_or_recording_list``).
        Also taken as ``parent_sorting=`` (SpikeInterface 0.105's name).
    recording_or_recording_list : list of BaseRecording or ConcatenateSegmentRecording, optional
        The recordings whose segment lengths split a mono-segment sorting.

    Returns
    -------
    list of BaseSorting, or SplitSegmentSorting
        One sorting per segment, in segment order (or the split sorting).
    """
    if recording_or_recording_list is not None:
        return SplitSegmentSorting(sorting, recording_or_recording_list)
    return [SelectSegmentSorting(sorting, [i]) for i in range(sorting.get_num_segments())]


class ProxyConcatenateSortingSegment(BaseSortingSegment):
    """The parents' spikes back to back, frames shifted by the lengths of the segments before
    (SpikeInterface's arguments; ``sampling_frequency`` is not used)."""

    def __init__(self, parent_segments: list, parent_num_samples, sampling_frequency: float | None = None) -> None:
        super().__init__()
        self._parents = parent_segments
        lengths = [int(n) for n in parent_num_samples]
        if len(lengths) != len(parent_segments):
            raise ValueError(f"parent_num_samples has {len(lengths)} lengths for {len(parent_segments)} segments")
        self._bounds = np.concatenate([[0], np.cumsum(lengths, dtype="int64")]).astype("int64")

    def get_unit_spike_train(self, unit_id, start_frame, end_frame) -> np.ndarray:
        start = 0 if start_frame is None else start_frame
        end = int(self._bounds[-1]) if end_frame is None else end_frame
        trains = []
        for i, seg in enumerate(self._parents):
            lo, hi = int(self._bounds[i]), int(self._bounds[i + 1])
            a, b = max(start, lo), min(end, hi)
            if b > a:
                trains.append(np.asarray(seg.get_unit_spike_train(unit_id, a - lo, b - lo), dtype="int64") + lo)
        return np.concatenate(trains) if trains else np.zeros(0, dtype="int64")

    def get_num_samples(self) -> int:
        return int(self._bounds[-1])


class ConcatenateSegmentSorting(BaseSorting):
    """All segments of several sortings concatenated into one segment (frames shifted).

    Segment lengths come from the registered recordings (whose concatenation is then registered
    on the result) or, for mono-segment sortings without recordings, from ``total_samples_list``.
    A spike at or beyond its segment's length raises, as in SpikeInterface 0.105.
    """

    def __init__(self, sorting_list: Sequence[BaseSorting], total_samples_list: Sequence[int] | None = None,
                 ignore_times: bool = True, sampling_frequency_max_diff: float = 0.0) -> None:
        _check_sortings_match(sorting_list, sampling_frequency_max_diff=sampling_frequency_max_diff)
        first = sorting_list[0]
        all_recordings = all(s.has_recording() for s in sorting_list)
        if not all_recordings and not ignore_times:
            from .errors import SpikeInterfaceAssertError

            raise SpikeInterfaceAssertError("Concatenating sortings without registered recordings: Use "
                                            "ignore_times=True to ignore time information.")
        segments, lengths = [], []
        for s in sorting_list:
            for i, segment in enumerate(s._segments):
                segments.append(segment)
                if total_samples_list is None or all_recordings:
                    if not s.has_recording() and segment.get_num_samples() is None:
                        raise ValueError(
                            "concatenate_sortings needs segment lengths: register recordings on the sortings "
                            "(sorting.register_recording) or give total_samples_list"
                        )
                    lengths.append(s.get_num_samples(i))
        if total_samples_list is not None:
            if len(total_samples_list) != len(segments):
                raise ValueError(f"total_samples_list has {len(total_samples_list)} values for "
                                 f"{len(segments)} segments")
            if all_recordings and [int(n) for n in total_samples_list] != lengths:
                raise ValueError(f"concatenate_sortings: the sortings have registered recordings, of {lengths} "
                                 f"samples; use total_samples_list=None")
            lengths = [int(n) for n in total_samples_list]
        for k, (segment, n) in enumerate(zip(segments, lengths)):
            for unit_id in first.unit_ids.tolist():
                train = segment.get_unit_spike_train(unit_id, None, None)
                if len(train) and np.max(train) >= n:
                    raise ValueError(
                        f"concatenate_sortings: unit {unit_id!r} has a spike at frame {int(np.max(train))} in "
                        f"concatenated segment {k}, which has {n} samples; remove the excess spikes or fix "
                        f"total_samples_list")
        super().__init__(first.sampling_frequency, first.unit_ids)
        first.copy_metadata(self)
        self.add_segment(ProxyConcatenateSortingSegment(segments, lengths, first.sampling_frequency))
        if all_recordings:
            self.register_recording(concatenate_recordings([s.get_recording() for s in sorting_list],
                                                           ignore_times=ignore_times,
                                                           sampling_frequency_max_diff=sampling_frequency_max_diff),
                                    check_spike_frames=False)
        # lengths kept: the parents rebuilt from this dict have no registered recordings
        self._kwargs = {"sorting_list": list(sorting_list), "total_samples_list": lengths,
                        "ignore_times": ignore_times, "sampling_frequency_max_diff": sampling_frequency_max_diff}


def concatenate_sortings(sorting_list: Sequence[BaseSorting], total_samples_list: Sequence[int] | None = None,
                         ignore_times: bool = True, sampling_frequency_max_diff: float = 0.0) -> BaseSorting:
    """Concatenate all segments of several sortings into one segment (lazy; frames shifted).

    Parameters
    ----------
    sorting_list : sequence of BaseSorting
        Sortings with the same units.
    total_samples_list : sequence of int, optional
        Length of each segment, when the sortings have no registered recording.
    ignore_times : bool
        Passed to :func:`concatenate_recordings` for the registered recordings; False needs every
        sorting to have one (as SpikeInterface).
    sampling_frequency_max_diff : float
        Largest difference of sampling frequency (Hz) tolerated between the sortings (with a
        warning; the first one's is used).

    Returns
    -------
    BaseSorting
        A one-segment :class:`ConcatenateSegmentSorting`.
    """
    return ConcatenateSegmentSorting(sorting_list, total_samples_list, ignore_times, sampling_frequency_max_diff)
