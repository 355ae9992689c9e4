"""BaseSorting and BaseSortingSegment: spike trains of units, and the spike vector."""
from __future__ import annotations

import abc
from pathlib import Path
from typing import Sequence

import numpy as np

from .base import BaseExtractor, BaseSegment

#: the canonical bulk form of a sorting, sorted by segment then sample
spike_dtype = np.dtype([("sample_index", "int64"), ("unit_index", "int64"), ("segment_index", "int64")])

minimum_spike_dtype = spike_dtype


class BaseSortingSegment(BaseSegment):
    """One segment of a sorting."""

    @abc.abstractmethod
    def get_unit_spike_train(self, unit_id, start_frame: int | None, end_frame: int | None) -> np.ndarray:
        """Sorted spike frames of ``unit_id`` in [start_frame, end_frame) (None = open end)."""

    def get_num_samples(self) -> int | None:
        """Number of samples of the segment when known without a recording, else None."""
        return None


class BaseSorting(BaseExtractor):
    """Base class of all sortings.

    Parameters
    ----------
    sampling_frequency : float
        Samples per second of the spike frames.
    unit_ids : array-like
        Unique unit ids.
    """

    _id_kind = "unit_id"

    def __init__(self, sampling_frequency: float, unit_ids: Sequence) -> None:
        from .validation import check_sampling_frequency

        sampling_frequency = check_sampling_frequency(sampling_frequency)
        BaseExtractor.__init__(self, unit_ids)
        self._sampling_frequency = sampling_frequency
        self._recording = None
        self._cached_spike_vector = None
        self._cached_spike_trains: dict = {}

    # ---------------------------------------------------------------- ids
    @property
    def unit_ids(self) -> np.ndarray:
        return self._main_ids

    def get_unit_ids(self) -> np.ndarray:
        """The unit ids."""
        return self._main_ids

    def get_num_units(self) -> int:
        """Number of units."""
        return len(self._main_ids)

    @property
    def sampling_frequency(self) -> float:
        return self._sampling_frequency

    def get_sampling_frequency(self) -> float:
        """Samples per second."""
        return self._sampling_frequency

    def id_to_index(self, unit_id) -> int:
        return int(self.ids_to_indices([unit_id])[0])

    # ---------------------------------------------------------------- recording
    def register_recording(self, recording, check_spike_frames: bool = True) -> None:
        """Attach a recording: times then come from its time vector / t_start.

        With ``check_spike_frames``, spikes at or beyond the end of a segment of ``recording``
        raise a warning (as in SpikeInterface 0.105; the sorting is attached unchanged).
        :func:`extract_waveforms` and :func:`compute_templates` drop such spikes, with the same
        warning; :func:`gpuspike.core.excess_spikes.remove_excess_spikes` drops them explicitly.
        """
        if abs(recording.sampling_frequency - self.sampling_frequency) > 1e-6 * self.sampling_frequency:
            raise ValueError(
                f"register_recording: sampling frequencies differ (recording {recording.sampling_frequency}, "
                f"sorting {self.sampling_frequency})"
            )
        if recording.get_num_segments() != self.get_num_segments():
            raise ValueError(
                f"register_recording: recording has {recording.get_num_segments()} segments, "
                f"sorting has {self.get_num_segments()}"
            )
        if check_spike_frames:
            from .excess_spikes import warn_excess_spikes

            warn_excess_spikes(self, recording, "register_recording", dropped=False)
        self._recording = recording

    def has_recording(self) -> bool:
        """True when a recording is registered."""
        return self._recording is not None

    def get_recording(self):
        return self._recording

    def has_time_vector(self, segment_index: int | None = None) -> bool:
        segment_index = self._check_segment_index(segment_index)
        return self._recording is not None and self._recording.has_time_vector(segment_index)

    def get_num_samples(self, segment_index: int | None = None) -> int:
        """Samples of a segment: from the registered recording, else known length, else last spike + 1."""
        segment_index = self._check_segment_index(segment_index)
        if self._recording is not None:
            return self._recording.get_num_samples(segment_index)
        n = self._segments[segment_index].get_num_samples()
        if n is not None:
            return int(n)
        spikes = self.to_spike_vector()
        seg_spikes = spikes["sample_index"][spikes["segment_index"] == segment_index]
        return int(seg_spikes.max()) + 1 if seg_spikes.size else 0

    def get_total_samples(self) -> int:
        return sum(self.get_num_samples(i) for i in range(self.get_num_segments()))

    def get_total_duration(self) -> float:
        return self.get_total_samples() / self.sampling_frequency

    # ---------------------------------------------------------------- spike trains
    def get_unit_spike_train(self, unit_id, segment_index: int | None = None, start_frame: int | None = None,
                             end_frame: int | None = None, return_times: bool = False,
                             use_cache: bool = True) -> np.ndarray:
        """Spike frames (or times in s with ``return_times``) of one unit in one segment."""
        segment_index = self._check_segment_index(segment_index)
        self.ids_to_indices([unit_id])
        for name, value in (("start_frame", start_frame), ("end_frame", end_frame)):
            if value is not None and (not isinstance(value, (int, np.integer)) or value < 0):
                raise ValueError(f"{name} must be a non-negative int, got {value!r}")
        if start_frame is not None and end_frame is not None and end_frame < start_frame:
            raise ValueError(f"end_frame={end_frame} is before start_frame={start_frame}")
        key = (segment_index, unit_id if not isinstance(unit_id, np.generic) else unit_id.item())
        if use_cache and key in self._cached_spike_trains:
            train = self._cached_spike_trains[key]
            lo = 0 if start_frame is None else np.searchsorted(train, start_frame, side="left")
            hi = len(train) if end_frame is None else np.searchsorted(train, end_frame, side="left")
            frames = train[lo:hi]
        else:
            frames = self._segments[segment_index].get_unit_spike_train(unit_id, start_frame, end_frame)
            frames = np.asarray(frames).astype("int64", copy=False)
            if use_cache and start_frame is None and end_frame is None:
                frames = frames.view()
                frames.flags.writeable = False  # the cache is shared: callers get a read-only view
                self._cached_spike_trains[key] = frames
        if return_times:
            if self._recording is not None:
                return np.asarray(self._recording.sample_index_to_time(frames, segment_index), dtype="float64")
            return frames / self.sampling_frequency
        return frames

    def get_unit_spike_train_in_seconds(self, unit_id, segment_index: int | None = None,
                                        start_time: float | None = None, end_time: float | None = None) -> np.ndarray:
        """Spike times (s) of one unit, optionally between two times."""
        times = self.get_unit_spike_train(unit_id, segment_index=segment_index, return_times=True)
        lo = 0 if start_time is None else np.searchsorted(times, start_time, side="left")
        hi = len(times) if end_time is None else np.searchsorted(times, end_time, side="left")
        return times[lo:hi]

    def to_spike_vector(self, concatenated: bool = True, extremum_channel_inds: dict | None = None,
                        use_cache: bool = True):
        """All spikes as a structured array (sample_index, unit_index, segment_index).

        Sorted by segment, then sample, then unit. Cached, and returned read-only (copy it to
        edit it). ``concatenated=False`` returns one array per segment; ``extremum_channel_inds``
        ({unit_id: channel_index}) adds a ``channel_index`` field.
        """
        if self._cached_spike_vector is None or not use_cache:
            vector = self._compute_spike_vector()
            if use_cache:
                self._cached_spike_vector = vector
        else:
            vector = self._cached_spike_vector
        if vector.flags.writeable:
            vector.flags.writeable = False  # shared with the cache: editing it would corrupt every later call
        if extremum_channel_inds is not None:
            lookup = np.array([extremum_channel_inds[u] for u in self.unit_ids], dtype="int64")
            ext_dtype = np.dtype(spike_dtype.descr + [("channel_index", "int64")])
            ext = np.zeros(vector.size, dtype=ext_dtype)
            for name in spike_dtype.names:
                ext[name] = vector[name]
            ext["channel_index"] = lookup[vector["unit_index"]] if vector.size else 0
            vector = ext
        if concatenated:
            return vector
        bounds = np.searchsorted(vector["segment_index"], np.arange(self.get_num_segments() + 1))
        return [vector[bounds[i]:bounds[i + 1]] for i in range(self.get_num_segments())]

    def _compute_spike_vector(self) -> np.ndarray:
        parts = []
        for seg in range(self.get_num_segments()):
            for unit_index, unit_id in enumerate(self.unit_ids):
                frames = self.get_unit_spike_train(unit_id, segment_index=seg)
                part = np.zeros(frames.size, dtype=spike_dtype)
                part["sample_index"] = frames
                part["unit_index"] = unit_index
                part["segment_index"] = seg
                parts.append(part)
        vector = np.concatenate(parts) if parts else np.zeros(0, dtype=spike_dtype)
        order = np.lexsort((vector["unit_index"], vector["sample_index"], vector["segment_index"]))
        return vector[order]

    def count_num_spikes_per_unit(self, outputs: str = "dict"):
        """Number of spikes of each unit over all segments (``outputs="dict"`` or ``"array"``)."""
        if outputs not in ("dict", "array"):
            raise ValueError(f"outputs={outputs!r}: allowed values are 'dict', 'array'")
        counts = np.bincount(self.to_spike_vector()["unit_index"], minlength=self.get_num_units())
        if outputs == "array":
            return counts
        return {u: int(c) for u, c in zip(self.unit_ids.tolist(), counts)}

    def get_total_num_spikes(self) -> dict:
        """Number of spikes of each unit, as a dict (the specification's name)."""
        return self.count_num_spikes_per_unit(outputs="dict")

    def count_total_num_spikes(self) -> int:
        """Number of spikes of all units over all segments."""
        return int(self.to_spike_vector().size)

    # ---------------------------------------------------------------- views
    def select_units(self, unit_ids: Sequence, renamed_unit_ids: Sequence | None = None) -> "BaseSorting":
        """A lazy view on some units (optionally renamed)."""
        from .views import UnitsSelectionSorting

        return UnitsSelectionSorting(self, unit_ids=unit_ids, renamed_unit_ids=renamed_unit_ids)

    def rename_units(self, new_unit_ids: Sequence) -> "BaseSorting":
        """A lazy view with new unit ids."""
        return self.select_units(self.unit_ids, renamed_unit_ids=new_unit_ids)

    def remove_units(self, remove_unit_ids: Sequence) -> "BaseSorting":
        """A lazy view without the given units."""
        remove = set(self.ids_to_indices(remove_unit_ids).tolist())
        keep = [u for i, u in enumerate(self.unit_ids) if i not in remove]
        return self.select_units(keep)

    def remove_empty_units(self) -> "BaseSorting":
        """A lazy view without units that have no spike."""
        counts = self.count_num_spikes_per_unit(outputs="array")
        return self.select_units(self.unit_ids[counts > 0])

    def frame_slice(self, start_frame: int | None, end_frame: int | None,
                    check_spike_frames: bool = True) -> "BaseSorting":
        """A lazy view on frames [start_frame, end_frame) of a mono-segment sorting (frames shifted)."""
        from .views import FrameSliceSorting

        return FrameSliceSorting(self, start_frame=start_frame, end_frame=end_frame,
                                 check_spike_frames=check_spike_frames)

    def time_slice(self, start_time: float | None, end_time: float | None) -> "BaseSorting":
        """A lazy view between two times (s): the registered recording's times when there is one."""
        if self._recording is not None:
            start = None if start_time is None else int(self._recording.time_to_sample_index(start_time, 0))
            end = None if end_time is None else int(self._recording.time_to_sample_index(end_time, 0))
        else:
            start = None if start_time is None else int(round(start_time * self.sampling_frequency))
            end = None if end_time is None else int(round(end_time * self.sampling_frequency))
        return self.frame_slice(start, end)

    def select_segments(self, segment_indices) -> "BaseSorting":
        from .segmentutils import select_segment_sorting

        return select_segment_sorting(self, segment_indices)

    # ---------------------------------------------------------------- persistence
    def save(self, folder: str | Path | None = None, format: str = "npz", overwrite: bool = False,
             verbose: bool = False, **kwargs):
        """Save to an npz folder (``format="npz"``, default) or memory (``"memory"``)."""
        from .saving import save_sorting

        return save_sorting(self, folder=folder, format=format, overwrite=overwrite, verbose=verbose, **kwargs)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}: {self.get_num_units()} units - {self.get_num_segments()} segments - "
                f"{self.sampling_frequency / 1000:.1f}kHz")
