"""BaseRecording and BaseRecordingSegment: lazy, chunk-addressable traces."""
from __future__ import annotations

import abc
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np

from .abstract_bases import BaseRecordingSnippets, TimeSeries, TimeSeriesSegment
from .base import BaseExtractor, BaseSegment
from .channels import ChannelsMixin
from .si_methods import RecordingMethods, RecordingSegmentMethods


def as_frame(value, name: str) -> int:
    """An int frame from an int or an integral float (``5000.0``); a clear error otherwise."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return int(value)
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int (or a float with an integer value), got {value!r}")
    return int(value)


def check_frames(start_frame, end_frame, num_samples: int, clamp_end: bool = False) -> tuple[int, int]:
    """Validate and fill defaults for ``start_frame`` / ``end_frame`` against ``num_samples``.

    With ``clamp_end`` an ``end_frame`` past the end is cut to ``num_samples`` (as
    SpikeInterface's ``get_traces``) instead of raising.
    """
    start = 0 if start_frame is None else as_frame(start_frame, "start_frame")
    end = num_samples if end_frame is None else as_frame(end_frame, "end_frame")
    if clamp_end:
        end = min(end, num_samples)
    if start < 0 or start > num_samples:
        raise ValueError(f"start_frame={start} out of range: allowed 0..{num_samples}")
    if end < 0 or end > num_samples:
        raise ValueError(f"end_frame={end} out of range: allowed 0..{num_samples}")
    if end < start:
        raise ValueError(f"end_frame={end} is before start_frame={start}")
    return start, end


def noise_levels_property_key(method: str, scaled: bool) -> str:
    """The property that caches a recording's noise levels (SpikeInterface 0.105's name):
    ``noise_level_<method>_<scaled|raw>``."""
    return f"noise_level_{method}_{'scaled' if scaled else 'raw'}"


class BaseRecordingSegment(RecordingSegmentMethods, BaseSegment):
    """One segment of a recording: traces with a time axis.

    Parameters
    ----------
    sampling_frequency : float, optional
        Needed for times when no ``time_vector`` is given; a segment given neither takes its
        recording's when added to it.
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

    def set_parent_extractor(self, parent_extractor) -> None:
        super().set_parent_extractor(parent_extractor)
        if self.sampling_frequency is None and self.time_vector is None:
            self.sampling_frequency = parent_extractor.sampling_frequency

    @abc.abstractmethod
    def get_num_samples(self) -> int:
        """Number of samples of the segment."""

    @abc.abstractmethod
    def get_traces(self, start_frame: int, end_frame: int, channel_indices) -> np.ndarray:
        """Traces [start_frame, end_frame) of ``channel_indices`` (a slice or an index array), time first."""

    def get_times(self, start_frame: int | None = None, end_frame: int | None = None) -> np.ndarray:
        start = 0 if start_frame is None else int(start_frame)
        end = self.get_num_samples() if end_frame is None else int(end_frame)
        if self.time_vector is not None:
            return self.time_vector if start_frame is None and end_frame is None else self.time_vector[start:end]
        times = np.arange(start, end, dtype="float64") / self.sampling_frequency
        return times + self.t_start if self.t_start is not None else times

    def get_start_time(self) -> float:
        if self.time_vector is not None:
            return float(self.time_vector[0])
        return 0.0 if self.t_start is None else float(self.t_start)

    def get_end_time(self) -> float:
        if self.time_vector is not None:
            return float(self.time_vector[-1])
        t_stop = (self.get_num_samples() - 1) / self.sampling_frequency
        return t_stop + self.t_start if self.t_start is not None else t_stop

    def sample_index_to_time(self, sample_ind):
        if self.time_vector is not None:
            return self.time_vector[sample_ind]
        time_s = np.asarray(sample_ind) / self.sampling_frequency
        return time_s + self.t_start if self.t_start is not None else time_s

    def time_to_sample_index(self, time_s):
        if self.time_vector is not None:
            return np.searchsorted(self.time_vector, time_s, side="right") - 1
        t0 = 0.0 if self.t_start is None else self.t_start
        # rounded to the nearest sample, as SpikeInterface 0.105
        return np.round((np.asarray(time_s) - t0) * self.sampling_frequency).astype("int64")

    def get_times_kwargs(self) -> dict:
        return {"sampling_frequency": self.sampling_frequency, "t_start": self.t_start,
                "time_vector": self.time_vector}


class BaseRecording(RecordingMethods, ChannelsMixin, BaseExtractor):
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
    #: get_noise_levels' cache: a slice or a derived recording has noise levels of its own
    _skip_properties = [noise_levels_property_key(method, scaled) for method in ("std", "mad", "rms")
                        for scaled in (False, True)]

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
        """Duration of a segment in seconds: end time - start time + one sample period (time vectors
        included, as SpikeInterface 0.105)."""
        return self.get_end_time(segment_index) - self.get_start_time(segment_index) + 1.0 / self._sampling_frequency

    def get_total_duration(self) -> float:
        """Duration summed over all segments, in seconds."""
        return sum(self.get_duration(i) for i in range(self.get_num_segments()))

    def get_memory_size(self, segment_index: int | None = None) -> int:
        """Bytes of the raw traces of one segment (all segments when ``segment_index`` is None)."""
        per_frame = self.get_num_channels() * self._dtype.itemsize
        if segment_index is None:
            return self.get_total_samples() * per_frame
        return self.get_num_samples(segment_index) * per_frame

    def get_total_memory_size(self) -> int:
        return self.get_memory_size(None)

    def is_filtered(self) -> bool:
        """The ``is_filtered`` annotation (a method, as in SpikeInterface).

        Returns
        -------
        bool
        """
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
            Frame range (default: the whole segment), 0 <= start_frame <= end_frame; an
            ``end_frame`` past the end of the segment is cut to its length (as SpikeInterface).
        channel_ids : array-like, optional
            Channels to return, in this order (default: all).
        order : {"C", "F"}, optional
            Memory layout of the returned array.
        return_scaled : bool
            Return float32 µV using ``gain_to_uV`` and ``offset_to_uV`` (float traces without
            gains are returned as they are, taken as µV, as in SpikeInterface).
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
        start, end = check_frames(start_frame, end_frame, int(segment.get_num_samples()), clamp_end=True)
        channel_indices = self.ids_to_indices(channel_ids, prefer_slice=True)
        traces = segment.get_traces(start, end, channel_indices)
        if cast_unsigned and traces.dtype.kind == "u":
            signed = np.dtype(f"int{traces.dtype.itemsize * 8}")
            traces = (traces.astype(signed, copy=False) - np.iinfo(traces.dtype).max // 2 - 1).astype(signed)
        if return_scaled and not (self._dtype.kind == "f" and not self.has_scaleable_traces()):
            # float traces without gains are taken as already in µV (as SpikeInterface does)
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

    def set_times(self, times, segment_index: int | None = None, with_warning: bool | None = None) -> None:
        """Set the time (s) of every sample of a segment (e.g. for synchronization).

        ``times`` must be finite and non-decreasing (times are looked up by binary search). The new
        times travel with the recording: ``to_dict()``, ``dump()`` and the folders of an analyzer keep them.

        Parameters
        ----------
        times : array-like
            ``(num_samples,)`` seconds.
        segment_index : int, optional
            Required for a multi-segment recording.
        with_warning : bool, optional
            Deprecated in SpikeInterface 0.105 (times set in memory are now saved): ignored, with a
            FutureWarning.
        """
        from .validation import check_time_vector

        if with_warning is not None:
            warnings.warn("set_times(with_warning=...) is deprecated (as in SpikeInterface 0.105): times set in "
                          "memory are saved with the recording; remove the argument", FutureWarning, stacklevel=2)

        segment_index = self._check_segment_index(segment_index)
        times = np.asarray(times, dtype="float64")
        n = self.get_num_samples(segment_index)
        if times.shape != (n,):
            raise ValueError(f"times has shape {times.shape}, expected ({n},) for segment {segment_index}")
        check_time_vector(times, f"set_times(segment_index={segment_index})")
        segment = self._segments[segment_index]
        segment.time_vector = times
        segment.t_start = None
        self._time_info_modified = True

    def reset_times(self) -> None:
        """Remove time vectors and start times: times become sample / sampling_frequency."""
        for segment in self._segments:
            segment.time_vector = None
            segment.t_start = None
        self._time_info_modified = True

    def get_times(self, segment_index: int | None = None, start_frame: int | None = None,
                  end_frame: int | None = None) -> np.ndarray:
        """Time (s) of every sample of a segment (of frames [start_frame, end_frame) when given).

        Parameters
        ----------
        segment_index : int, optional
        start_frame, end_frame : int, optional

        Returns
        -------
        np.ndarray (float64)
        """
        segment_index = self._check_segment_index(segment_index)
        return self._segments[segment_index].get_times(start_frame, end_frame)

    def get_time_info(self, segment_index: int | None = None) -> dict:
        """The time attributes of a segment.

        Parameters
        ----------
        segment_index : int, optional

        Returns
        -------
        dict
            ``sampling_frequency``, ``t_start`` and ``time_vector`` (values may be None).
        """
        segment_index = self._check_segment_index(segment_index)
        return self._segments[segment_index].get_times_kwargs()

    def shift_times(self, shift: float, segment_index: int | None = None) -> None:
        """Shift the times of one segment (all segments when ``segment_index`` is None) by ``shift`` s.

        Parameters
        ----------
        shift : float
            Seconds added to every time (negative: earlier).
        segment_index : int, optional
        """
        indices = (range(self.get_num_segments()) if segment_index is None
                   else [self._check_segment_index(segment_index)])
        for i in indices:
            segment = self._segments[i]
            if segment.time_vector is not None:
                segment.time_vector = np.asarray(segment.time_vector, dtype="float64") + shift
            else:
                segment.t_start = (0.0 if segment.t_start is None else segment.t_start) + shift
        self._time_info_modified = True

    def shift_start_time(self, shift: float, segment_index: int | None = None) -> None:
        """A later SpikeInterface release's name of :meth:`shift_times` (its tutorial calls it): the
        times of one segment (all when ``segment_index`` is None) move by ``shift`` s."""
        self.shift_times(shift, segment_index=segment_index)

    def get_start_time(self, segment_index: int | None = None) -> float:
        """Time (s) of the first sample of a segment."""
        segment_index = self._check_segment_index(segment_index)
        return self._segments[segment_index].get_start_time()

    def get_end_time(self, segment_index: int | None = None) -> float:
        """Time (s) of the last sample of a segment."""
        segment_index = self._check_segment_index(segment_index)
        return self._segments[segment_index].get_end_time()

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

    def __add__(self, other: "BaseRecording") -> "BaseRecording":
        """``self + other``: a lazy sample-by-sample sum (:class:`~gpuspike.core.operatorrecordings.AddRecordings`)."""
        from .operatorrecordings import AddRecordings

        return AddRecordings(self, other)

    def __sub__(self, other: "BaseRecording") -> "BaseRecording":
        """``self - other``: a lazy sample-by-sample difference
        (:class:`~gpuspike.core.operatorrecordings.SubtractRecordings`)."""
        from .operatorrecordings import SubtractRecordings

        return SubtractRecordings(self, other)

    def frame_slice(self, start_frame: int | None, end_frame: int | None) -> "BaseRecording":
        """A lazy view on frames [start_frame, end_frame) of a mono-segment recording."""
        from .views import FrameSliceRecording

        return FrameSliceRecording(self, start_frame=start_frame, end_frame=end_frame)

    def time_slice(self, start_time: float | None, end_time: float | None) -> "BaseRecording":
        """A lazy view between two times (s) of a mono-segment recording.

        Parameters
        ----------
        start_time, end_time : float or None
            Seconds, within ``[get_start_time(), get_end_time()]``; None: the recording's start / end.

        Returns
        -------
        BaseRecording
        """
        from .errors import SpikeInterfaceAssertError

        num_segments = self.get_num_segments()
        if num_segments != 1:
            raise SpikeInterfaceAssertError(
                f"Time slicing is only supported for single segment recordings. Found {num_segments} segments "
                "(select one first: recording.select_segments([i]))")
        t_start, t_end = self.get_start_time(), self.get_end_time()
        frames = []
        for name, value in (("start_time", start_time), ("end_time", end_time)):
            if value is None:
                frames.append(None)
                continue
            if value < t_start:
                raise ValueError(f"{name} {value} is before the start time {t_start} of the recording.")
            if value > t_end:
                raise ValueError(f"{name} {value} is after the end time {t_end} of the recording.")
            frames.append(int(self.time_to_sample_index(value, 0)))
        return self.frame_slice(start_frame=frames[0], end_frame=frames[1])

    def select_segments(self, segment_indices) -> "BaseRecording":
        """A lazy view on some segments."""
        from .segmentutils import select_segment_recording

        return select_segment_recording(self, segment_indices)

    def astype(self, dtype, round: bool | None = None) -> "BaseRecording":
        """A lazy view with traces cast to ``dtype`` (floats rounded first for integer dtypes).

        Parameters
        ----------
        dtype : numpy dtype
        round : bool, optional
            Round float traces to the nearest integer before the cast (default: integer dtypes).

        Returns
        -------
        BaseRecording
        """
        from .astype import AstypeRecording

        return AstypeRecording(self, dtype=dtype, round=round)

    def planarize(self, axes: str = "xy") -> "BaseRecording":
        """A view with the 3D probe projected on two axes.

        Parameters
        ----------
        axes : {"xy", "yz", "xz"}

        Returns
        -------
        BaseRecording
        """
        if not self.has_3d_locations() or not self.has_probe():
            raise ValueError("planarize() needs a recording with a 3D probe (set_probe with probe.to_3d())")
        if axes not in ("xy", "yz", "xz", "yx", "zy", "zx"):
            raise ValueError(f"axes={axes!r}: give two of 'x', 'y', 'z', e.g. 'xy'")
        probegroup = self.get_probegroup()
        from probeinterface import ProbeGroup

        planar = ProbeGroup()
        for probe in probegroup.probes:
            planar.add_probe(probe.to_2d(axes=axes))
        view = self.channel_slice(self.channel_ids)
        view._properties.pop("contact_vector", None)
        view._properties.pop("location", None)
        return view.set_probegroup(planar, group_mode="by_probe", in_place=True, check_overlap=False)

    def get_shape(self, segment_index: int | None = None) -> tuple[int, int]:
        """(num_samples, num_channels) of a segment."""
        return self.get_num_samples(segment_index), self.get_num_channels()

    def get_sample_size_in_bytes(self, dtype=None) -> int:
        """Bytes of one sample of every channel (in ``dtype`` when given, else the recording's)."""
        return self.get_num_channels() * (self._dtype if dtype is None else np.dtype(dtype)).itemsize

    def get_data(self, start_frame: int, end_frame: int, segment_index: int | None = None, **kwargs) -> np.ndarray:
        """Alias of :meth:`get_traces` (SpikeInterface's generic time-series name)."""
        return self.get_traces(segment_index=segment_index, start_frame=start_frame, end_frame=end_frame, **kwargs)

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
        from .reprs import recording_repr

        return recording_repr(self)


BaseRecordingSnippets.register(BaseRecording)
TimeSeries.register(BaseRecording)
TimeSeriesSegment.register(BaseRecordingSegment)
