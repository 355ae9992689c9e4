"""BaseSorting and BaseSortingSegment: spike trains of units, and the spike vector."""
from __future__ import annotations

import abc
from pathlib import Path
from typing import Sequence

import numpy as np

from .base import BaseExtractor, BaseSegment
from .si_methods import SortingMethods

#: the fields of a spike vector as SpikeInterface spells them: a list, so that code can extend it
#: (``np.dtype(minimum_spike_dtype + [("channel_index", "int64")])``)
minimum_spike_dtype = [("sample_index", "int64"), ("unit_index", "int64"), ("segment_index", "int64")]
#: the canonical bulk form of a sorting, sorted by segment then sample
spike_dtype = np.dtype(minimum_spike_dtype)


def exceeding_spikes(sorting, recording) -> bool:
    """True when a spike of ``sorting`` lies outside ``[0, num_samples)`` of its segment of ``recording``."""
    vector = sorting.to_spike_vector()
    bounds = np.searchsorted(vector["segment_index"], np.arange(recording.get_num_segments() + 1))
    for seg in range(recording.get_num_segments()):
        samples = vector["sample_index"][bounds[seg]:bounds[seg + 1]]
        if samples.size and (samples.max() >= recording.get_num_samples(seg) or samples.min() < 0):
            return True
    return False


class BaseSortingSegment(BaseSegment):
    """One segment of a sorting.

    Parameters
    ----------
    t_start : float, optional
        Time (s) of frame 0 when no recording is registered (shifted by ``shift_times``).
    """

    def __init__(self, t_start: float | None = None) -> None:
        super().__init__()
        self._t_start = t_start

    @abc.abstractmethod
    def get_unit_spike_train(self, unit_id, start_frame: int | None, end_frame: int | None) -> np.ndarray:
        """Sorted spike frames of ``unit_id`` in [start_frame, end_frame) (None = open end)."""

    def get_num_samples(self) -> int | None:
        """Number of samples of the segment when known without a recording, else None."""
        return None


class BaseSorting(SortingMethods, BaseExtractor):
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
        self._cached_spike_vector_segment_slices = None
        #: ``to_reordered_spike_vector``'s results by ``lexsort`` (shared with identity unit selections)
        self._cached_lexsorted_spike_vector: dict = {}
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

    def id_to_index(self, id) -> int:
        """Position of one unit id among ``unit_ids``."""
        return int(self.ids_to_indices([id])[0])

    # ---------------------------------------------------------------- recording
    def register_recording(self, recording, check_spike_frames: bool = True) -> None:
        """Attach a recording: times and segment lengths then come from it.

        Parameters
        ----------
        recording : BaseRecording
            Same sampling frequency and number of segments as the sorting.
        check_spike_frames : bool
            Warn (as SpikeInterface 0.105) when spikes lie at or beyond the end of a segment of
            ``recording`` (the sorting is attached unchanged). :func:`extract_waveforms` and
            :func:`compute_templates` drop such spikes, with the same warning;
            :func:`gpuspike.core.excess_spikes.remove_excess_spikes` drops them explicitly.
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
        for i, segment in enumerate(self._segments):  # the recording's start times, as SpikeInterface 0.105
            segment._t_start = recording.get_start_time(i)

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
            return np.asarray(self.sample_index_to_time(frames, segment_index), dtype="float64")
        return frames

    def get_unit_spike_train_in_seconds(self, unit_id, segment_index: int | None = None,
                                        start_time: float | None = None, end_time: float | None = None,
                                        use_cache: bool = True) -> np.ndarray:
        """Spike times (s) of one unit in ``[start_time, end_time]`` (the registered recording's times,
        else frame / sampling_frequency + the segment's start time).

        Parameters
        ----------
        unit_id : int or str
        segment_index : int, optional
        start_time, end_time : float, optional
        use_cache : bool

        Returns
        -------
        np.ndarray (float64)
        """
        times = self.get_unit_spike_train(unit_id, segment_index=segment_index, return_times=True,
                                          use_cache=use_cache)
        keep = np.ones(times.size, dtype=bool)
        if start_time is not None:
            keep &= times >= start_time
        if end_time is not None:
            keep &= times <= end_time
        return times[keep]

    # ---------------------------------------------------------------- times
    def _shift_from_recording(self, segment_index: int) -> float:
        t_start = self._segments[segment_index]._t_start or 0.0
        return t_start - self._recording.get_start_time(segment_index)

    def get_start_time(self, segment_index: int | None = None) -> float:
        """Time (s) of frame 0 of a segment (the registered recording's start, plus any shift)."""
        segment_index = self._check_segment_index(segment_index)
        t_start = self._segments[segment_index]._t_start
        return 0.0 if t_start is None else float(t_start)

    def get_end_time(self, segment_index: int | None = None) -> float:
        """The registered recording's end time (plus any shift), else the time of the last spike."""
        segment_index = self._check_segment_index(segment_index)
        if self._recording is not None:
            return self._recording.get_end_time(segment_index) + self._shift_from_recording(segment_index)
        return float(self.sample_index_to_time(self.get_last_spike_frame(segment_index), segment_index))

    def get_last_spike_frame(self, segment_index: int | None = None) -> int:
        """Frame of the last spike of a segment (0 when it has none)."""
        segment_index = self._check_segment_index(segment_index)
        samples = self.to_spike_vector(concatenated=False)[segment_index]["sample_index"]
        return int(samples.max()) if samples.size else 0

    def shift_times(self, shift: float, segment_index: int | None = None) -> None:
        """Shift the spike times of one segment (all when ``segment_index`` is None) by ``shift`` seconds.

        The registered recording is not changed; its times are shifted when read through the sorting.
        """
        indices = (range(self.get_num_segments()) if segment_index is None
                   else [self._check_segment_index(segment_index)])
        for i in indices:
            segment = self._segments[i]
            segment._t_start = (segment._t_start or 0.0) + shift

    def get_times(self, segment_index: int | None = None, start_frame: int | None = None,
                  end_frame: int | None = None) -> np.ndarray | None:
        """Times (s) of the registered recording's samples (plus any shift), or None without recording.

        Returns
        -------
        np.ndarray or None
        """
        segment_index = self._check_segment_index(segment_index)
        if self._recording is None:
            return None
        times = self._recording.get_times(segment_index, start_frame=start_frame, end_frame=end_frame)
        shift = self._shift_from_recording(segment_index)
        return times + shift if shift != 0 else times

    def sample_index_to_time(self, sample_index, segment_index: int | None = None):
        """Times (s) of sample indices of a segment."""
        segment_index = self._check_segment_index(segment_index)
        if self._recording is not None:
            return (self._recording.sample_index_to_time(sample_index, segment_index)
                    + self._shift_from_recording(segment_index))
        return np.asarray(sample_index) / self.sampling_frequency + self.get_start_time(segment_index)

    def time_to_sample_index(self, time, segment_index: int = 0):
        """Sample index of a time (s) of a segment (nearest sample without recording)."""
        if self._recording is not None:
            return self._recording.time_to_sample_index(time - self._shift_from_recording(segment_index),
                                                        segment_index)
        return np.round((np.asarray(time) - self.get_start_time(segment_index)) * self.sampling_frequency
                        ).astype("int64")

    def to_spike_vector(self, concatenated: bool = True, extremum_channel_inds: dict | None = None,
                        main_channel_indices: Sequence | None = None, use_cache: bool = True,
                        return_slices: bool = False):
        """All spikes as a structured array (sample_index, unit_index, segment_index).

        Sorted by segment, then sample, then unit. Cached, and returned read-only (copy it to
        edit it). ``concatenated=False`` returns one array per segment; ``extremum_channel_inds``
        ({unit_id: channel_index}) or ``main_channel_indices`` (one channel index per unit,
        SpikeInterface 0.105's spelling) adds a ``channel_index`` field; ``return_slices`` also returns
        the (num_segments, 2) start / stop of each segment in the concatenated vector.
        """
        if main_channel_indices is not None:
            if extremum_channel_inds is not None:
                raise TypeError("give main_channel_indices or extremum_channel_inds, not both")
            main = np.asarray(main_channel_indices, dtype="int64")
            if main.shape != (len(self.unit_ids),):
                raise ValueError(f"main_channel_indices has shape {main.shape}, expected ({len(self.unit_ids)},)")
            extremum_channel_inds = dict(zip(self.unit_ids.tolist(), main.tolist()))
        if return_slices:
            vector = self.to_spike_vector(True, extremum_channel_inds, use_cache=use_cache)
            bounds = np.searchsorted(vector["segment_index"], np.arange(self.get_num_segments() + 1))
            slices = np.stack([bounds[:-1], bounds[1:]], axis=1).astype("int64")
            return (vector if concatenated else [vector[a:b] for a, b in slices]), slices
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
            kept = [name for name in vector.dtype.names if name != "channel_index"]
            ext_dtype = np.dtype([(name, vector.dtype.fields[name][0]) for name in kept] + [("channel_index", "int64")])
            ext = np.zeros(vector.size, dtype=ext_dtype)
            for name in kept:
                ext[name] = vector[name]
            ext["channel_index"] = lookup[vector["unit_index"]] if vector.size else 0
            vector = ext
        if concatenated:
            return vector
        bounds = np.searchsorted(vector["segment_index"], np.arange(self.get_num_segments() + 1))
        return [vector[bounds[i]:bounds[i + 1]] for i in range(self.get_num_segments())]

    def search_cached_spikes_sorted(self, indices, segment_index: int | None = None) -> np.ndarray:
        """Positions of the frames ``indices`` in one segment of the (cached) spike vector, as
        ``np.searchsorted(segment_frames, indices)``: relative to the segment's first spike.

        Parameters
        ----------
        indices : sequence of int
            Frames to look up.
        segment_index : int, optional
            Needed with several segments.

        Returns
        -------
        np.ndarray
        """
        segment_index = self._check_segment_index(segment_index)
        vector = self.to_spike_vector()
        lo, hi = np.searchsorted(vector["segment_index"], [segment_index, segment_index + 1])
        return np.searchsorted(vector["sample_index"][lo:hi], indices)

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

    def count_num_spikes_per_unit(self, outputs: str = "dict", unit_ids: Sequence | None = None):
        """Number of spikes of each unit over all segments.

        Parameters
        ----------
        outputs : {"dict", "array"}
        unit_ids : array-like, optional
            Count these units only (in the sorting's order; ``outputs="dict"`` only).

        Returns
        -------
        dict or np.ndarray
        """
        if outputs not in ("dict", "array"):
            raise ValueError(f"outputs={outputs!r}: allowed values are 'dict', 'array'")
        counts = np.bincount(self.to_spike_vector()["unit_index"], minlength=self.get_num_units())
        ids = self.unit_ids
        if unit_ids is not None:
            if outputs != "dict":
                raise ValueError("count_num_spikes_per_unit(unit_ids=...) works with outputs='dict' only")
            keep = np.isin(ids, np.asarray(unit_ids))
            ids, counts = ids[keep], counts[keep]
        if outputs == "array":
            return counts
        return {u: c for u, c in zip(ids, counts.astype(np.int64, copy=False))}  # numpy scalars, as SpikeInterface

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

    def get_non_empty_unit_ids(self) -> np.ndarray:
        """Ids of the units with at least one spike (in any segment)."""
        return self.unit_ids[self.count_num_spikes_per_unit(outputs="array") > 0]

    def get_empty_unit_ids(self) -> np.ndarray:
        """Ids of the units without any spike."""
        return self.unit_ids[self.count_num_spikes_per_unit(outputs="array") == 0]

    def get_unit_property(self, unit_id, key: str):
        """The value of property ``key`` for one unit."""
        values = self.get_property(key)
        if values is None:
            raise KeyError(f"unknown property {key!r}; available: {self.get_property_keys()}")
        return values[self.id_to_index(unit_id)]

    def split_by(self, property: str = "group", outputs: str = "dict"):
        """Split into unit-selected views, one per value of ``property``.

        Returns
        -------
        dict or list
            ``{value: view}`` (``outputs="dict"``) or a list of views (``outputs="list"``).
        """
        def view_of(mask):
            view = self.select_units(self.unit_ids[mask])
            view.set_annotation("split_by_property", property, overwrite=True)
            return view

        return self._views_by_property(property, outputs, view_of)

    def select_periods(self, periods) -> "BaseSorting":
        """A sorting keeping, per unit, only the spikes inside its periods.

        Parameters
        ----------
        periods : np.ndarray
            Structured array of :data:`gpuspike.core.sorting_tools.unit_period_dtype`
            (segment_index, start_sample_index, end_sample_index, unit_index), or an
            (num_periods, 4) array with these columns.

        Returns
        -------
        NumpySorting
        """
        from .sorting_tools import select_sorting_periods

        return select_sorting_periods(self, periods)

    def precompute_spike_trains(self) -> None:
        """Compute and cache the spike train of every unit of every segment (from the spike vector)."""
        from .sorting_tools import spike_vector_to_spike_trains

        trains = spike_vector_to_spike_trains(self.to_spike_vector(concatenated=False), self.unit_ids)
        for seg, per_unit in trains.items():
            for unit_id, frames in per_unit.items():
                key = (seg, unit_id.item() if isinstance(unit_id, np.generic) else unit_id)
                frames = frames.view()
                frames.flags.writeable = False
                self._cached_spike_trains[key] = frames

    def get_spike_vector_to_indices(self) -> dict:
        """``{segment_index: {unit_id: positions in the concatenated spike vector}}``."""
        from .sorting_tools import spike_vector_to_indices

        return spike_vector_to_indices(self.to_spike_vector(concatenated=False), self.unit_ids, absolute_index=True)

    def to_numpy_sorting(self, propagate_cache: bool = True) -> "BaseSorting":
        """This sorting in memory (:class:`NumpySorting`), with its spike trains cache when asked."""
        from .numpyextractors import NumpySorting

        sorting = NumpySorting.from_sorting(self)
        if propagate_cache:
            sorting._cached_spike_trains.update(self._cached_spike_trains)
        return sorting

    def to_shared_memory_sorting(self) -> "BaseSorting":
        """This sorting in shared memory (:class:`SharedMemorySorting`, shareable between processes)."""
        from .sharedmem import SharedMemorySorting

        return SharedMemorySorting.from_sorting(self)

    def to_multiprocessing(self, n_jobs: int) -> "BaseSorting":
        """A sorting workers can use: in memory for ``n_jobs=1``, in shared memory otherwise (itself when it
        already is one, or a numpy folder)."""
        from .npzsorting import NumpyFolderSorting
        from .numpyextractors import NumpySorting
        from .sharedmem import SharedMemorySorting

        if n_jobs == 1:
            return self if isinstance(self, (NumpySorting, NumpyFolderSorting)) else NumpySorting.from_sorting(self)
        if isinstance(self, (SharedMemorySorting, NumpyFolderSorting)):
            return self
        return SharedMemorySorting.from_sorting(self)

    def frame_slice(self, start_frame: int | None, end_frame: int | None,
                    check_spike_frames: bool = True) -> "BaseSorting":
        """A lazy view on frames [start_frame, end_frame) of a mono-segment sorting (frames shifted)."""
        from .views import FrameSliceSorting

        return FrameSliceSorting(self, start_frame=start_frame, end_frame=end_frame,
                                 check_spike_frames=check_spike_frames)

    def time_slice(self, start_time: float | None, end_time: float | None) -> "BaseSorting":
        """A lazy view between two times (s) of a mono-segment sorting (the recording's times when one is
        registered)."""
        if self.get_num_segments() != 1:
            raise ValueError(f"time_slice needs a mono-segment sorting (this one has {self.get_num_segments()})")
        start = None if start_time is None else int(self.time_to_sample_index(start_time, 0))
        end = None if end_time is None else int(self.time_to_sample_index(end_time, 0))
        return self.frame_slice(start, end)

    def select_segments(self, segment_indices) -> "BaseSorting":
        from .segmentutils import select_segment_sorting

        return select_segment_sorting(self, segment_indices)

    # ---------------------------------------------------------------- persistence
    def save(self, folder: str | Path | None = None, format: str = "numpy_folder", overwrite: bool = False,
             verbose: bool = False, **kwargs):
        """Save the sorting and return the saved copy.

        Parameters
        ----------
        folder : str or Path, optional
            Target folder (a temporary one when None).
        format : {"numpy_folder", "npz_folder" (or "npz"), "zarr", "memory"}
            SpikeInterface 0.105's default ``numpy_folder``; ``memory`` takes ``sharedmem``.
        overwrite : bool
            Replace a folder gpuspike or SpikeInterface wrote.
        verbose : bool
        **kwargs
            ``sharedmem`` (memory), zarr options, job kwargs.

        Returns
        -------
        BaseSorting
        """
        from .saving import save_sorting

        return save_sorting(self, folder=folder, format=format, overwrite=overwrite, verbose=verbose, **kwargs)

    def __repr__(self) -> str:
        from .reprs import sorting_repr

        return sorting_repr(self)
