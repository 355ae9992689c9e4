"""BaseRecording and BaseRecordingSegment: lazy, chunk-addressable traces."""
from __future__ import annotations

import abc
from pathlib import Path
from typing import Sequence

import numpy as np

from .base import BaseExtractor, BaseSegment
from .channels import ChannelsMixin


def check_frames(start_frame, end_frame, num_samples: int) -> tuple[int, int]:
    """Validate and fill defaults for ``start_frame`` / ``end_frame`` against ``num_samples``."""
    start = 0 if start_frame is None else start_frame
    end = num_samples if end_frame is None else end_frame
    for name, value in (("start_frame", start), ("end_frame", end)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
            raise TypeError(f"{name} must be an int, got {value!r}")
    start, end = int(start), int(end)
    if start < 0 or start > num_samples:
        raise ValueError(f"start_frame={start} out of range: allowed 0..{num_samples}")
    if end < 0 or end > num_samples:
        raise ValueError(f"end_frame={end} out of range: allowed 0..{num_samples}")
    if end < start:
        raise ValueError(f"end_frame={end} is before start_frame={start}")
    return start, end


class BaseRecordingSegment(BaseSegment):
    """One segment of a recording: traces with a time axis.

    Parameters
    ----------
    sampling_frequency : float, optional
        Needed for times when no ``time_vector`` is given.
    t_start : float, optional
        Time of the first sample, in seconds (default 0).
    time_vector : np.ndarray, optional
        Time of every sample, in seconds.
    """

    def __init__(self, sampling_frequency: float | None = None, t_start: float | None = None,
                 time_vector: np.ndarray | None = None) -> None:
        super().__init__()
        if time_vector is not None and t_start is not None:
            raise ValueError("give either t_start or time_vector, not both")
        self.sampling_frequency = sampling_frequency
        self.t_start = t_start
        self.time_vector = None if time_vector is None else np.asarray(time_vector)

    @abc.abstractmethod
    def get_num_samples(self) -> int:
        """Number of samples of the segment."""

    @abc.abstractmethod
    def get_traces(self, start_frame: int, end_frame: int, channel_indices) -> np.ndarray:
        """Traces [start_frame, end_frame) of ``channel_indices`` (a slice or an index array), time first."""

    def get_times(self) -> np.ndarray:
        if self.time_vector is not None:
            return self.time_vector
        t0 = 0.0 if self.t_start is None else self.t_start
        return np.arange(self.get_num_samples(), dtype="float64") / self.sampling_frequency + t0

    def get_start_time(self) -> float:
        if self.time_vector is not None:
            return float(self.time_vector[0])
        return 0.0 if self.t_start is None else float(self.t_start)

    def sample_index_to_time(self, sample_ind):
        if self.time_vector is not None:
            return self.time_vector[sample_ind]
        t0 = 0.0 if self.t_start is None else self.t_start
        return np.asarray(sample_ind) / self.sampling_frequency + t0

    def time_to_sample_index(self, time_s):
        if self.time_vector is not None:
            return np.searchsorted(self.time_vector, time_s, side="right") - 1
        t0 = 0.0 if self.t_start is None else self.t_start
        return np.floor((np.asarray(time_s) - t0) * self.sampling_frequency + 1e-9).astype("int64")

    def get_times_kwargs(self) -> dict:
        return {"t_start": self.t_start, "time_vector": self.time_vector}


class BaseRecording(ChannelsMixin, BaseExtractor):
    """Base class of all recordings: lazy multi-segment traces with channel metadata.

    Parameters
    ----------
    sampling_frequency : float
        Samples per second.
    channel_ids : array-like
        Unique channel ids.
    dtype : numpy dtype
        dtype of the raw traces.
    """

    _main_annotations = ["is_filtered"]
    _main_properties = ["group", "location", "gain_to_uV", "offset_to_uV"]

    def __init__(self, sampling_frequency: float, channel_ids: Sequence, dtype) -> None:
        from .validation import check_sampling_frequency

        sampling_frequency = check_sampling_frequency(sampling_frequency)
        BaseExtractor.__init__(self, channel_ids)
        self._sampling_frequency = sampling_frequency
        self._dtype = np.dtype(dtype)
        self._annotations["is_filtered"] = False

    # ---------------------------------------------------------------- basic info
    @property
    def sampling_frequency(self) -> float:
        return self._sampling_frequency

    def get_sampling_frequency(self) -> float:
        """Samples per second."""
        return self._sampling_frequency

    @property
    def dtype(self) -> np.dtype:
        return self._dtype

    def get_dtype(self) -> np.dtype:
        """dtype of the raw traces."""
        return self._dtype

    def get_num_samples(self, segment_index: int | None = None) -> int:
        """Number of samples of a segment (``segment_index`` required when multi-segment)."""
        segment_index = self._check_segment_index(segment_index)
        return int(self._segments[segment_index].get_num_samples())

    get_num_frames = get_num_samples

    def get_total_samples(self) -> int:
        """Number of samples summed over all segments."""
        return sum(self.get_num_samples(i) for i in range(self.get_num_segments()))

    def get_duration(self, segment_index: int | None = None) -> float:
        """Duration of a segment in seconds."""
        return self.get_num_samples(segment_index) / self._sampling_frequency

    def get_total_duration(self) -> float:
        """Duration summed over all segments, in seconds."""
        return self.get_total_samples() / self._sampling_frequency

    def get_memory_size(self, segment_index: int | None = None) -> int:
        """Bytes of the raw traces of one segment (all segments when ``segment_index`` is None)."""
        per_frame = self.get_num_channels() * self._dtype.itemsize
        if segment_index is None:
            return self.get_total_samples() * per_frame
        return self.get_num_samples(segment_index) * per_frame

    def get_total_memory_size(self) -> int:
        return self.get_memory_size(None)

    @property
    def is_filtered(self) -> bool:
        return bool(self._annotations.get("is_filtered", False))

    def is_binary_compatible(self) -> bool:
        """True when the traces are a raw binary file that can be read by offset (streaming path)."""
        return False

    def get_binary_description(self) -> dict:
        """file_paths, dtype, num_channels, time_axis, file_offset of a binary-compatible recording."""
        raise ValueError(f"{type(self).__name__} is not backed by a raw binary file")

    # ---------------------------------------------------------------- traces
    def get_traces(self, segment_index: int | None = None, start_frame: int | None = None,
                   end_frame: int | None = None, channel_ids: Sequence | None = None, order: str | None = None,
                   return_scaled: bool = False, cast_unsigned: bool = False,
                   return_in_uV: bool | None = None) -> np.ndarray:
        """Traces of one segment, shape (num_samples, num_channels).

        Parameters
        ----------
        segment_index : int, optional
            Required for multi-segment recordings.
        start_frame, end_frame : int, optional
            Frame range (default: the whole segment). Must satisfy 0 <= start <= end <= num_samples.
        channel_ids : array-like, optional
            Channels to return, in this order (default: all).
        order : {"C", "F"}, optional
            Memory layout of the returned array.
        return_scaled : bool
            Return float32 µV using ``gain_to_uV`` and ``offset_to_uV``.
        cast_unsigned : bool
            Shift unsigned integer traces to the signed type of the same size.
        return_in_uV : bool, optional
            SpikeInterface >= 0.103 name of ``return_scaled``.
        """
        if return_in_uV is not None:
            return_scaled = return_in_uV
        segment_index = self._check_segment_index(segment_index)
        if order not in (None, "C", "F"):
            raise ValueError(f"order={order!r}: allowed values are None, 'C', 'F'")
        segment = self._segments[segment_index]
        start, end = check_frames(start_frame, end_frame, int(segment.get_num_samples()))
        channel_indices = self.ids_to_indices(channel_ids, prefer_slice=True)
        traces = segment.get_traces(start, end, channel_indices)
        if cast_unsigned and traces.dtype.kind == "u":
            signed = np.dtype(f"int{traces.dtype.itemsize * 8}")
            traces = (traces.astype(signed, copy=False) - np.iinfo(traces.dtype).max // 2 - 1).astype(signed)
        if return_scaled:
            gains, offsets = self._scaling(channel_indices)
            traces = traces.astype("float32", copy=False) * gains + offsets
            traces = traces.astype("float32", copy=False)
        if order is not None:
            traces = np.asarray(traces, order=order)
        return traces

    # ---------------------------------------------------------------- times
    def has_time_vector(self, segment_index: int | None = None) -> bool:
        """True when a time vector is set for the segment."""
        segment_index = self._check_segment_index(segment_index)
        return self._segments[segment_index].time_vector is not None

    def set_times(self, times, segment_index: int | None = None, with_warning: bool = True) -> None:
        """Set the time (s) of every sample of a segment (e.g. for synchronization).

        ``times`` must be finite and non-decreasing (times are looked up by binary search).
        """
        from .validation import check_time_vector

        segment_index = self._check_segment_index(segment_index)
        times = np.asarray(times, dtype="float64")
        n = self.get_num_samples(segment_index)
        if times.shape != (n,):
            raise ValueError(f"times has shape {times.shape}, expected ({n},) for segment {segment_index}")
        check_time_vector(times, f"set_times(segment_index={segment_index})")
        segment = self._segments[segment_index]
        segment.time_vector = times
        segment.t_start = None

    def reset_times(self) -> None:
        """Remove time vectors and start times: times become sample / sampling_frequency."""
        for segment in self._segments:
            segment.time_vector = None
            segment.t_start = None

    def get_times(self, segment_index: int | None = None) -> np.ndarray:
        """Time (s) of every sample of a segment."""
        segment_index = self._check_segment_index(segment_index)
        return self._segments[segment_index].get_times()

    def get_start_time(self, segment_index: int | None = None) -> float:
        """Time (s) of the first sample of a segment."""
        segment_index = self._check_segment_index(segment_index)
        return self._segments[segment_index].get_start_time()

    def get_end_time(self, segment_index: int | None = None) -> float:
        """Time (s) of the last sample of a segment."""
        segment_index = self._check_segment_index(segment_index)
        return float(self.sample_index_to_time(self.get_num_samples(segment_index) - 1, segment_index))

    def sample_index_to_time(self, sample_ind, segment_index: int | None = None):
        """Convert sample indices to times (s)."""
        segment_index = self._check_segment_index(segment_index)
        return self._segments[segment_index].sample_index_to_time(sample_ind)

    def time_to_sample_index(self, time_s, segment_index: int | None = None):
        """Convert times (s) to sample indices."""
        segment_index = self._check_segment_index(segment_index)
        return self._segments[segment_index].time_to_sample_index(time_s)

    def _copy_times_to(self, other: "BaseRecording") -> None:
        for seg_src, seg_dst in zip(self._segments, other._segments):
            if seg_src.time_vector is not None:
                seg_dst.time_vector = seg_src.time_vector
                seg_dst.t_start = None
            elif seg_src.t_start is not None:
                seg_dst.t_start = seg_src.t_start

    # ---------------------------------------------------------------- views
    def channel_slice(self, channel_ids: Sequence, renamed_channel_ids: Sequence | None = None) -> "BaseRecording":
        """A lazy view on some channels (in the given order)."""
        from .views import ChannelSliceRecording

        return ChannelSliceRecording(self, channel_ids=channel_ids, renamed_channel_ids=renamed_channel_ids)

    def select_channels(self, channel_ids: Sequence) -> "BaseRecording":
        """Alias of :meth:`channel_slice` (SpikeInterface >= 0.103 name)."""
        return self.channel_slice(channel_ids)

    def rename_channels(self, new_channel_ids: Sequence) -> "BaseRecording":
        """A lazy view with new channel ids."""
        return self.channel_slice(self.channel_ids, renamed_channel_ids=new_channel_ids)

    def remove_channels(self, channel_ids: Sequence | None = None, remove_channel_ids: Sequence | None = None
                        ) -> "BaseRecording":
        """A lazy view without the given channels."""
        if remove_channel_ids is not None:
            channel_ids = remove_channel_ids
        if channel_ids is None:
            raise TypeError("remove_channels needs channel_ids (the channels to remove)")
        remove = set(self.ids_to_indices(channel_ids).tolist())
        keep = [cid for i, cid in enumerate(self.channel_ids) if i not in remove]
        return self.channel_slice(channel_ids=keep)

    def frame_slice(self, start_frame: int | None, end_frame: int | None) -> "BaseRecording":
        """A lazy view on frames [start_frame, end_frame) of a mono-segment recording."""
        from .views import FrameSliceRecording

        return FrameSliceRecording(self, start_frame=start_frame, end_frame=end_frame)

    def time_slice(self, start_time: float | None, end_time: float | None) -> "BaseRecording":
        """A lazy view between two times (s) of a mono-segment recording."""
        start = None if start_time is None else int(self.time_to_sample_index(start_time, 0))
        end = None if end_time is None else int(self.time_to_sample_index(end_time, 0))
        return self.frame_slice(start_frame=start, end_frame=end)

    def select_segments(self, segment_indices) -> "BaseRecording":
        """A lazy view on some segments."""
        from .segmentutils import select_segment_recording

        return select_segment_recording(self, segment_indices)

    # ---------------------------------------------------------------- persistence
    def save(self, folder: str | Path | None = None, format: str = "binary", overwrite: bool = False,
             verbose: bool = False, **kwargs):
        """Save to a folder (``format="binary"`` or ``"zarr"``) or to memory (``"memory"``).

        Returns the saved object, loaded back from the folder (or from memory): it keeps
        properties, annotations, probe, times and provenance. Extra keyword arguments are job
        kwargs (``n_jobs``, ``chunk_duration``, ``progress_bar``, ...) and, for zarr,
        ``compressor`` / ``filters`` / ``channel_chunk_size``; for binary, ``dtype``.
        """
        from .saving import save_recording

        return save_recording(self, folder=folder, format=format, overwrite=overwrite, verbose=verbose, **kwargs)

    def __repr__(self) -> str:
        nseg = self.get_num_segments()
        duration = self.get_total_duration()
        txt = (f"{type(self).__name__}: {self.get_num_channels()} channels - {self.sampling_frequency / 1000:.1f}kHz"
               f" - {nseg} segments - {self.get_total_samples():,} samples - {duration:.2f}s - {self._dtype}")
        return txt
