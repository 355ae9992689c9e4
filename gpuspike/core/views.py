"""Lazy views: channel / frame slices of recordings and snippets, unit / frame slices of sortings.

A view holds its parent and index maps, never a copy of the data.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .argnames import accepts_aliases
from .errors import SpikeInterfaceAssertError
from .recording import BaseRecording, BaseRecordingSegment, check_frames
from .snippets import BaseSnippets, BaseSnippetsSegment
from .sorting import BaseSorting, BaseSortingSegment


def _compose(parent_indices: np.ndarray, channel_indices):
    """Map indices into the view's channels to indices into the parent's.

    Evenly spaced increasing indices become a slice, so that in-memory parents return views
    (no copy) for contiguous or strided channel selections.
    """
    if isinstance(channel_indices, slice):
        indices = parent_indices[channel_indices]
    else:
        indices = parent_indices[np.asarray(channel_indices)]
    return _as_slice(indices)


def _as_slice(indices: np.ndarray):
    if indices.ndim != 1 or indices.size == 0:
        return indices
    if indices.size == 1:
        return slice(int(indices[0]), int(indices[0]) + 1)
    step = int(indices[1] - indices[0])
    if step > 0 and np.all(np.diff(indices) == step):
        return slice(int(indices[0]), int(indices[-1]) + 1, step)
    return indices


def _rewire_contact_vector(view) -> None:
    """Contact k of a channel-sliced view is wired to its channel k."""
    contact_vector = view._properties.get("contact_vector")
    if contact_vector is not None:
        contact_vector = contact_vector.copy()
        contact_vector["device_channel_indices"] = np.arange(len(contact_vector))
        view._properties["contact_vector"] = contact_vector


def _renamed_ids(ids, renamed, kind: str) -> np.ndarray:
    if renamed is None:
        return np.asarray(ids)
    renamed = np.asarray(renamed)
    if len(renamed) != len(ids):
        raise SpikeInterfaceAssertError(f"renamed_{kind}_ids has {len(renamed)} ids for {len(ids)} {kind}s")
    values, counts = np.unique(renamed, return_counts=True)
    if values.size != renamed.size:
        raise SpikeInterfaceAssertError(f"renamed_{kind}_ids must be unique; duplicated: {values[counts > 1].tolist()}")
    return renamed


# ---------------------------------------------------------------------- recordings
class ChannelSliceRecordingSegment(BaseRecordingSegment):
    """Some channels of a recording segment (SpikeInterface's arguments)."""

    def __init__(self, parent_recording_segment: BaseRecordingSegment, parent_channel_indices) -> None:
        parent = parent_recording_segment
        super().__init__(sampling_frequency=parent.sampling_frequency, t_start=parent.t_start,
                         time_vector=parent.time_vector)
        self._parent_segment = parent
        self._parent_indices = np.asarray(parent_channel_indices)

    def get_num_samples(self) -> int:
        return self._parent_segment.get_num_samples()

    def get_traces(self, start_frame, end_frame, channel_indices) -> np.ndarray:
        indices = _compose(self._parent_indices, channel_indices)
        return self._parent_segment.get_traces(start_frame, end_frame, indices)


class ChannelSliceRecording(BaseRecording):
    """Lazy view on some channels of a recording (optionally renamed).

    Parameters
    ----------
    parent_recording : BaseRecording
        Also taken as ``recording=`` (SpikeInterface 0.105's name).
    channel_ids : array-like
        Channels of the parent to keep, in this order.
    renamed_channel_ids : array-like, optional
        New ids for these channels.
    """

    @accepts_aliases(recording="parent_recording")
    def __init__(self, parent_recording: BaseRecording, channel_ids: Sequence | None = None,
                 renamed_channel_ids: Sequence | None = None) -> None:
        if channel_ids is None:
            channel_ids = parent_recording.channel_ids
        parent_indices = parent_recording.ids_to_indices(channel_ids)
        new_ids = _renamed_ids(parent_recording.channel_ids[parent_indices], renamed_channel_ids, "channel")
        super().__init__(parent_recording.sampling_frequency, new_ids, parent_recording.get_dtype())
        self._parent = parent_recording
        self._parent_indices = parent_indices
        for segment in parent_recording._segments:
            self.add_segment(ChannelSliceRecordingSegment(segment, parent_indices))
        parent_recording.copy_metadata(self, ids=parent_recording.channel_ids[parent_indices])
        _rewire_contact_vector(self)
        self._kwargs = {"parent_recording": parent_recording, "channel_ids": channel_ids,
                        "renamed_channel_ids": renamed_channel_ids}

    def is_binary_compatible(self) -> bool:
        return False


class FrameSliceRecordingSegment(BaseRecordingSegment):
    """Frames ``[start_frame, end_frame)`` of a recording segment (SpikeInterface's arguments)."""

    def __init__(self, parent_recording_segment: BaseRecordingSegment, start_frame: int, end_frame: int) -> None:
        parent = parent_recording_segment
        time_vector = None if parent.time_vector is None else parent.time_vector[start_frame:end_frame]
        t_start = None
        if time_vector is None:
            t0 = 0.0 if parent.t_start is None else parent.t_start
            shifted = t0 + start_frame / parent.sampling_frequency
            t_start = shifted if (parent.t_start is not None or start_frame) else None
        super().__init__(sampling_frequency=parent.sampling_frequency, t_start=t_start, time_vector=time_vector)
        self._parent_segment = parent
        self._start = start_frame
        self._end = end_frame

    def get_num_samples(self) -> int:
        return self._end - self._start

    def get_traces(self, start_frame, end_frame, channel_indices) -> np.ndarray:
        return self._parent_segment.get_traces(start_frame + self._start, end_frame + self._start, channel_indices)


class FrameSliceRecording(BaseRecording):
    """Lazy view on frames [start_frame, end_frame) of a mono-segment recording.

    Times follow the parent: sample 0 of the view is at the parent's time of ``start_frame``.
    ``parent_recording`` is also taken as ``recording=`` (SpikeInterface 0.105's name).
    """

    @accepts_aliases(recording="parent_recording")
    def __init__(self, parent_recording: BaseRecording, start_frame: int | None = None,
                 end_frame: int | None = None) -> None:
        if parent_recording.get_num_segments() != 1:
            raise SpikeInterfaceAssertError(
                f"frame_slice needs a mono-segment recording (this one has {parent_recording.get_num_segments()} "
                "segments); use select_segment_recording() or split_recording() first"
            )
        start, end = check_frames(start_frame, end_frame, parent_recording.get_num_samples(0))
        if start == end:
            raise ValueError(f"frame_slice: start_frame={start} must be smaller than end_frame={end} "
                             f"(an empty slice, refused as in SpikeInterface)")
        super().__init__(parent_recording.sampling_frequency, parent_recording.channel_ids,
                         parent_recording.get_dtype())
        self._parent = parent_recording
        self.add_segment(FrameSliceRecordingSegment(parent_recording._segments[0], start, end))
        parent_recording.copy_metadata(self)
        self._kwargs = {"parent_recording": parent_recording, "start_frame": start, "end_frame": end}


# ---------------------------------------------------------------------- sortings
class UnitsSelectionSortingSegment(BaseSortingSegment):
    """Some units of a sorting segment; ``ids_conversion`` maps each new unit id to its parent's."""

    def __init__(self, parent_segment: BaseSortingSegment, ids_conversion: dict) -> None:
        super().__init__()
        self._parent_segment = parent_segment
        self._id_map = {(k.item() if isinstance(k, np.generic) else k): v for k, v in dict(ids_conversion).items()}

    def get_unit_spike_train(self, unit_id, start_frame, end_frame) -> np.ndarray:
        key = unit_id.item() if isinstance(unit_id, np.generic) else unit_id
        return self._parent_segment.get_unit_spike_train(self._id_map[key], start_frame, end_frame)

    def get_num_samples(self):
        return self._parent_segment.get_num_samples()


class UnitsSelectionSorting(BaseSorting):
    """Lazy view on some units of a sorting (optionally renamed)."""

    def __init__(self, parent_sorting: BaseSorting, unit_ids: Sequence | None = None,
                 renamed_unit_ids: Sequence | None = None) -> None:
        if unit_ids is None:
            unit_ids = parent_sorting.unit_ids
        parent_indices = parent_sorting.ids_to_indices(unit_ids)
        parent_ids = parent_sorting.unit_ids[parent_indices]
        new_ids = _renamed_ids(parent_ids, renamed_unit_ids, "unit")
        super().__init__(parent_sorting.sampling_frequency, new_ids)
        self._parent = parent_sorting
        self._parent_indices = parent_indices
        #: the same units in the same order (renamed or not): the parent's spike vector and its
        #: reorderings serve as they are, shared, not copied
        self._is_identity_selection = bool(np.array_equal(parent_indices, np.arange(parent_sorting.get_num_units())))
        if self._is_identity_selection:
            self._cached_lexsorted_spike_vector = parent_sorting._cached_lexsorted_spike_vector
        id_map = dict(zip(new_ids.tolist(), parent_ids.tolist()))
        for segment in parent_sorting._segments:
            self.add_segment(UnitsSelectionSortingSegment(segment, id_map))
        parent_sorting.copy_metadata(self, ids=parent_ids)
        if parent_sorting.has_recording():
            self.register_recording(parent_sorting._recording, check_spike_frames=False)
        self._kwargs = {"parent_sorting": parent_sorting, "unit_ids": unit_ids, "renamed_unit_ids": renamed_unit_ids}

    def _get_spike_vector_segment_slices(self) -> np.ndarray:
        if self._is_identity_selection:
            return self._parent._get_spike_vector_segment_slices()
        return super()._get_spike_vector_segment_slices()

    def _compute_spike_vector(self) -> np.ndarray:
        parent = self._parent.to_spike_vector()
        if self._is_identity_selection:
            return parent
        remap = np.full(self._parent.get_num_units(), -1, dtype="int64")
        remap[self._parent_indices] = np.arange(len(self._parent_indices))
        new_index = remap[parent["unit_index"]] if parent.size else parent["unit_index"]
        keep = new_index >= 0
        vector = parent[keep].copy()  # in the parent's order, as SpikeInterface's selection keeps it
        vector["unit_index"] = new_index[keep]
        return vector


class FrameSliceSortingSegment(BaseSortingSegment):
    """Frames ``[start_frame, end_frame)`` of a sorting segment, shifted to start at 0 (SpikeInterface's
    arguments)."""

    def __init__(self, parent_sorting_segment: BaseSortingSegment, start_frame: int, end_frame: int | None,
                 sampling_frequency: float | None = None) -> None:
        # frame 0 of the slice is at the parent's time of start_frame (as SpikeInterface 0.105)
        parent_t0 = getattr(parent_sorting_segment, "_t_start", None) or 0.0
        super().__init__(t_start=None if sampling_frequency is None else parent_t0 + start_frame / sampling_frequency)
        self._parent_segment = parent_sorting_segment
        self._start = start_frame
        self._end = end_frame

    def get_unit_spike_train(self, unit_id, start_frame, end_frame) -> np.ndarray:
        lo = self._start + (0 if start_frame is None else start_frame)
        hi = self._end if end_frame is None else self._start + end_frame
        if self._end is not None:
            hi = min(hi, self._end)
        return self._parent_segment.get_unit_spike_train(unit_id, lo, hi) - self._start

    def get_num_samples(self):
        return None if self._end is None else self._end - self._start


class FrameSliceSorting(BaseSorting):
    """Lazy view on frames [start_frame, end_frame) of a mono-segment sorting; frames are shifted.

    As in SpikeInterface 0.105: ``end_frame=None`` is the registered recording's length, or the
    last spike + 1 without a recording; ``start_frame`` must be smaller than the end; with a
    registered recording the end must not pass it, and (``check_spike_frames``) no spike may lie
    beyond it. The recording is sliced alike and registered on the view.
    """

    def __init__(self, parent_sorting: BaseSorting, start_frame: int | None = None, end_frame: int | None = None,
                 check_spike_frames: bool = True) -> None:
        from .recording import as_frame
        from .sorting import exceeding_spikes

        if parent_sorting.get_num_segments() != 1:
            raise SpikeInterfaceAssertError(
                f"frame_slice needs a mono-segment sorting (this one has {parent_sorting.get_num_segments()} segments)"
            )
        start = 0 if start_frame is None else as_frame(start_frame, "start_frame")
        if start < 0:
            raise ValueError(f"start_frame={start} must be >= 0")
        end = None if end_frame is None else as_frame(end_frame, "end_frame")
        if parent_sorting.has_recording():
            num_samples = parent_sorting.get_recording().get_num_samples(0)
            end = num_samples if end is None else end
            if end > num_samples or start > num_samples:
                raise ValueError(f"frame_slice: start_frame={start} / end_frame={end} beyond the registered "
                                 f"recording's {num_samples} samples")
            if check_spike_frames and exceeding_spikes(parent_sorting, parent_sorting.get_recording()):
                raise ValueError("frame_slice: the sorting has spikes beyond its registered recording's samples; "
                                 "remove them first, or pass check_spike_frames=False")
        elif end is None:
            samples = parent_sorting.to_spike_vector()["sample_index"]
            end = int(samples.max()) + 1 if samples.size else 1
        if not start < end:
            raise ValueError(f"frame_slice: start_frame={start} must be smaller than end_frame={end}"
                             + ("" if end_frame is not None or parent_sorting.has_recording()
                                else " (the last spike + 1: no recording is registered)"))
        super().__init__(parent_sorting.sampling_frequency, parent_sorting.unit_ids)
        self._parent = parent_sorting
        self.add_segment(FrameSliceSortingSegment(parent_sorting._segments[0], start, end,
                                                   parent_sorting.sampling_frequency))
        parent_sorting.copy_metadata(self)
        if parent_sorting.has_recording():
            self.register_recording(parent_sorting._recording.frame_slice(start, end), check_spike_frames=False)
        self._kwargs = {"parent_sorting": parent_sorting, "start_frame": start, "end_frame": end,
                        "check_spike_frames": check_spike_frames}


# ---------------------------------------------------------------------- snippets
class ChannelSliceSnippetsSegment(BaseSnippetsSegment):
    """Some channels of a snippets segment (SpikeInterface's arguments)."""

    def __init__(self, parent_snippets_segment: BaseSnippetsSegment, parent_channel_indices) -> None:
        super().__init__()
        self._parent_segment = parent_snippets_segment
        self._parent_indices = np.asarray(parent_channel_indices)

    def get_num_snippets(self) -> int:
        return self._parent_segment.get_num_snippets()

    def get_frames(self, indices=None) -> np.ndarray:
        return self._parent_segment.get_frames(indices)

    def get_snippets(self, indices, channel_indices) -> np.ndarray:
        return self._parent_segment.get_snippets(indices, _compose(self._parent_indices, channel_indices))


class ChannelSliceSnippets(BaseSnippets):
    """Lazy view on some channels of snippets."""

    def __init__(self, parent_snippets: BaseSnippets, channel_ids: Sequence | None = None,
                 renamed_channel_ids: Sequence | None = None) -> None:
        if channel_ids is None:
            channel_ids = parent_snippets.channel_ids
        parent_indices = parent_snippets.ids_to_indices(channel_ids)
        new_ids = _renamed_ids(parent_snippets.channel_ids[parent_indices], renamed_channel_ids, "channel")
        super().__init__(parent_snippets.sampling_frequency, parent_snippets.nbefore, parent_snippets.snippet_len,
                         new_ids, parent_snippets.get_dtype())
        self._parent = parent_snippets
        for segment in parent_snippets._segments:
            self.add_segment(ChannelSliceSnippetsSegment(segment, parent_indices))
        parent_snippets.copy_metadata(self, ids=parent_snippets.channel_ids[parent_indices])
        _rewire_contact_vector(self)
        self._kwargs = {"parent_snippets": parent_snippets, "channel_ids": channel_ids,
                        "renamed_channel_ids": renamed_channel_ids}
