"""Methods SpikeInterface 0.105 users call on extractors, kept apart from the core classes.

The core classes inherit these mixins: ``BaseExtractor`` (:class:`ExtractorMethods`), the channel
metadata mixin (:class:`ChannelMethods`), ``BaseRecording`` (:class:`RecordingMethods`),
``BaseSorting`` (:class:`SortingMethods`), ``BaseSnippets`` (:class:`SnippetsMethods`),
``BaseEvent`` (:class:`EventMethods`) and ``BaseRecordingSegment`` (:class:`RecordingSegmentMethods`).
Each method follows SpikeInterface 0.105's name, arguments and meaning.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

_SERIALIZATION_TYPES = ("memory", "json", "pickle")
#: SpikeInterface's spike-vector orders for :meth:`SortingMethods.to_reordered_spike_vector`
LEXSORT_UNIT_COMPACT = ("sample_index", "segment_index", "unit_index")
LEXSORT_SEGMENT_COMPACT = ("sample_index", "unit_index", "segment_index")


class ExtractorMethods:
    """Annotations, ids, serializability and the legacy ``save_to_*`` methods."""

    #: fill values of :meth:`set_property` for ids left out, per dtype kind (SpikeInterface's table)
    default_missing_property_values = {"f": np.nan, "O": None, "S": "", "U": ""}

    def id_to_index(self, id) -> int:
        """Position of one id among the object's ids.

        Parameters
        ----------
        id : int or str

        Returns
        -------
        int
        """
        lookup = self._id_lookup()
        key = id.item() if hasattr(id, "item") else id
        if key not in lookup:
            raise KeyError(f"{self._id_kind}={id!r} is not one of this object's ids")
        return int(lookup[key])

    def delete_annotation(self, annotation_key: str) -> None:
        """Remove one annotation.

        Parameters
        ----------
        annotation_key : str
        """
        if annotation_key not in self._annotations:
            raise ValueError(f"{annotation_key!r} is not an annotation key; keys: {sorted(self._annotations)}")
        del self._annotations[annotation_key]

    def get_preferred_mp_context(self) -> str | None:
        """The multiprocessing start method this object asks for (None: no preference).

        Returns
        -------
        str or None
        """
        return self._preferred_mp_context

    def check_serializability(self, type: str) -> bool:
        """Whether this object (and every object it is built on) can be sent or written that way.

        Parameters
        ----------
        type : {"memory", "json", "pickle"}
            "memory": to workers of this machine; "json" / "pickle": to a file that rebuilds it.

        Returns
        -------
        bool
        """
        if type not in _SERIALIZATION_TYPES:
            raise ValueError(f"type={type!r}: allowed values are {_SERIALIZATION_TYPES}")
        from .base import _nested_extractors
        from .errors import NotDumpableError

        if not getattr(self, "_serializability", {}).get(type, True):
            return False
        if not all(parent.check_serializability(type) for parent in _nested_extractors(list(self._kwargs.values()))):
            return False
        if type == "memory":
            return True

        try:
            self._check_json_dumpable("check_serializability")
        except NotDumpableError:
            return False
        return True

    def save_to_folder(self, name: str | None = None, folder: str | Path | None = None, overwrite: bool = False,
                       verbose: bool = True, **save_kwargs):
        """Legacy spelling of ``save(folder=...)`` in the object's default folder format.

        Parameters
        ----------
        name : str, optional
            Not used (SpikeInterface's old naming of cache folders).
        folder : str or Path, optional
        overwrite : bool
        verbose : bool
        **save_kwargs
            Passed to ``save``.

        Returns
        -------
        The saved object.
        """
        return self.save(folder=folder, overwrite=overwrite, verbose=verbose, **save_kwargs)

    def save_to_memory(self, sharedmem: bool = True, **save_kwargs):
        """Legacy spelling of ``save(format="memory", sharedmem=...)``.

        Parameters
        ----------
        sharedmem : bool
        **save_kwargs
            Passed to ``save``.

        Returns
        -------
        The in-memory copy.
        """
        return self.save(format="memory", sharedmem=sharedmem, **save_kwargs)

    def save_to_zarr(self, name: str | None = None, folder: str | Path | None = None, overwrite: bool = False,
                     storage_options: dict | None = None, channel_chunk_size: int | None = None,
                     verbose: bool = True, **save_kwargs):
        """Legacy spelling of ``save(format="zarr", folder=...)``.

        Parameters
        ----------
        name : str, optional
            Not used.
        folder : str or Path, optional
        overwrite : bool
        storage_options : dict, optional
            Not supported (local folders only); must be None.
        channel_chunk_size : int, optional
        verbose : bool
        **save_kwargs
            Passed to ``save``.

        Returns
        -------
        The saved object.
        """
        if storage_options is not None:
            raise ValueError("storage_options: gpuspike writes zarr to local folders only; leave it None")
        if channel_chunk_size is not None:
            save_kwargs["channel_chunk_size"] = channel_chunk_size
        return self.save(folder=folder, format="zarr", overwrite=overwrite, verbose=verbose, **save_kwargs)


class ChannelMethods:
    """Probe and channel helpers of SpikeInterface's ``BaseRecordingSnippets``."""

    def get_channel_property(self, channel_id, key: str) -> Any:
        """The value of property ``key`` for one channel.

        Parameters
        ----------
        channel_id : int or str
        key : str

        Returns
        -------
        The value.
        """
        values = self.get_property(key)
        if values is None:
            raise KeyError(f"property {key!r} is not set; available: {self.get_property_keys()}")
        return values[self.id_to_index(channel_id)]

    def has_channel_location(self) -> bool:
        """True when channel locations are known (from a probe or set directly).

        Returns
        -------
        bool
        """
        return self.get_property("location") is not None

    def has_3d_probe(self) -> bool:
        """True when a probe with 3D contact positions is attached.

        Returns
        -------
        bool
        """
        return self.has_probe() and self.get_probegroup().ndim == 3

    def is_probe_3d(self) -> bool:
        """Whether the attached probe is 3D (error without a probe).

        Returns
        -------
        bool
        """
        if not self.has_probe():
            raise ValueError("is_probe_3d() needs a probe: attach one with set_probe()")
        return self.get_probegroup().ndim == 3

    def remove_probe(self) -> None:
        """Detach the probe (and the channel locations it gave), in place."""
        for key in ("contact_vector", "location"):
            self._properties.pop(key, None)
        self._annotations.pop("probes_info", None)

    def clear_channel_locations(self, channel_ids: Sequence | None = None) -> None:
        """Forget channel locations: all of them with the probe (None), or set NaN for ``channel_ids``.

        Parameters
        ----------
        channel_ids : sequence, optional
        """
        if channel_ids is None:
            self.remove_probe()
            return
        if self.has_probe():
            raise ValueError("clear_channel_locations(channel_ids=...): a probe is attached; use remove_probe()")
        locations = self.get_property("location")
        ndim = 2 if locations is None else locations.shape[1]
        self.set_property("location", np.full((len(channel_ids), ndim), np.nan), ids=channel_ids)

    def clear_channel_groups(self, channel_ids: Sequence | None = None) -> None:
        """Set the ``group`` property to 0 (for ``channel_ids``, or every channel).

        Parameters
        ----------
        channel_ids : sequence, optional
        """
        n = self.get_num_channels() if channel_ids is None else len(channel_ids)
        self.set_property("group", np.zeros(n, dtype="int64"), ids=channel_ids)

    def create_dummy_probe_from_locations(self, locations: np.ndarray, shape: str = "circle",
                                          shape_params: dict | None = None, axes: str = "xy"):
        """A probeinterface ``Probe`` with one contact per channel at ``locations``, wired in channel order.

        Parameters
        ----------
        locations : np.ndarray
            (num_channels, 2 or 3) µm.
        shape : {"circle", "square", "rect"}
        shape_params : dict, optional
            Contact size (default ``{"radius": 1}``).
        axes : str
            The plane of 3D locations ("xy", "yz", "xz").

        Returns
        -------
        probeinterface.Probe
        """
        from probeinterface import Probe

        locations = np.asarray(locations, dtype="float64")
        if locations.ndim != 2 or locations.shape != (self.get_num_channels(), locations.shape[1]) or \
                locations.shape[1] not in (2, 3):
            raise ValueError(f"locations has shape {locations.shape}, expected ({self.get_num_channels()}, 2 or 3)")
        shape_params = {"radius": 1} if shape_params is None else shape_params
        probe = Probe(ndim=2)
        if locations.shape[1] == 3:
            columns = ["xyz".index(a) for a in axes]
            probe.set_contacts(locations[:, columns], shapes=shape, shape_params=shape_params)
        else:
            probe.set_contacts(locations, shapes=shape, shape_params=shape_params)
        probe.set_device_channel_indices(np.arange(self.get_num_channels()))
        if locations.shape[1] == 3:
            probe = probe.to_3d(axes=axes)
        return probe

    def set_dummy_probe_from_locations(self, locations: np.ndarray, shape: str = "circle",
                                       shape_params: dict | None = None, axes: str = "xy") -> None:
        """Attach, in place, a probe made by :meth:`create_dummy_probe_from_locations`.

        Parameters
        ----------
        locations : np.ndarray
        shape : str
        shape_params : dict, optional
        axes : str
        """
        probe = self.create_dummy_probe_from_locations(locations, shape=shape, shape_params=shape_params, axes=axes)
        self.set_probe(probe, in_place=True)

    def select_channels_with_probe(self, probe, group_mode: str = "auto"):
        """A view on the channels the probe wires, with the probe attached (SpikeInterface 0.105).

        Parameters
        ----------
        probe : probeinterface.Probe
        group_mode : {"auto", "by_probe", "by_shank", "by_side"}

        Returns
        -------
        The view.
        """
        return self.set_probe(probe, group_mode=group_mode, in_place=False)

    def select_channels_with_probegroup(self, probegroup, group_mode: str = "auto"):
        """A view on the channels the probe group wires, with the probes attached (SpikeInterface 0.105).

        Parameters
        ----------
        probegroup : probeinterface.ProbeGroup
        group_mode : {"auto", "by_probe", "by_shank", "by_side"}

        Returns
        -------
        The view.
        """
        return self.set_probegroup(probegroup, group_mode=group_mode, in_place=False)


class RecordingMethods:
    """``BaseRecording`` methods of SpikeInterface 0.105."""

    @property
    def _recording_segments(self) -> list:
        """The segments (SpikeInterface's attribute name of ``_segments``)."""
        return self._segments

    def add_recording_segment(self, recording_segment) -> None:
        """SpikeInterface's name of ``add_segment``.

        Parameters
        ----------
        recording_segment : BaseRecordingSegment
        """
        self.add_segment(recording_segment)

    def binary_compatible_with(self, dtype=None, time_axis: int | None = None, file_paths_length: int | None = None,
                               file_offset: int | None = None, file_suffix: str | None = None,
                               file_paths_lenght: int | None = None) -> bool:
        """Whether the traces are raw binary files matching the given constraints.

        Parameters
        ----------
        dtype : numpy dtype, optional
        time_axis : int, optional
        file_paths_length : int, optional
            Number of files.
        file_offset : int, optional
        file_suffix : str, optional
            E.g. ".raw" (with or without the dot).
        file_paths_lenght : int, optional
            SpikeInterface's older misspelling of ``file_paths_length``.

        Returns
        -------
        bool
        """
        if file_paths_length is None:
            file_paths_length = file_paths_lenght
        if not self.is_binary_compatible():
            return False
        d = self.get_binary_description()
        if dtype is not None and np.dtype(dtype) != np.dtype(d["dtype"]):
            return False
        if time_axis is not None and time_axis != d.get("time_axis", 0):
            return False
        if file_paths_length is not None and file_paths_length != len(d["file_paths"]):
            return False
        if file_offset is not None and file_offset != d.get("file_offset", 0):
            return False
        if file_suffix is not None:
            suffix = file_suffix if file_suffix.startswith(".") else "." + file_suffix
            if not all(Path(p).suffix == suffix for p in d["file_paths"]):
                return False
        return True

    def get_segment_t_starts(self) -> list | None:
        """Start time of each segment as given (None for a segment without one), or None when none has one.

        Returns
        -------
        list or None
        """
        t_starts = [None if seg.time_vector is not None else seg.t_start for seg in self.segments]
        return None if all(t is None for t in t_starts) else t_starts

    def has_any_time_vector(self) -> bool:
        """True when at least one segment has a time vector.

        Returns
        -------
        bool
        """
        return any(seg.time_vector is not None for seg in self.segments)


class RecordingSegmentMethods:
    """``BaseRecordingSegment`` methods of SpikeInterface 0.105."""

    def has_time_vector(self) -> bool:
        """True when the segment has a time vector.

        Returns
        -------
        bool
        """
        return self.time_vector is not None

    def get_num_channels(self) -> int:
        """Number of channels (from the recording the segment belongs to).

        Returns
        -------
        int
        """
        parent = self.parent_extractor
        if parent is None:
            raise ValueError("this segment is not attached to a recording")
        return parent.get_num_channels()

    def get_data(self, start_frame: int | None, end_frame: int | None, indices=None) -> np.ndarray:
        """Traces of the segment (``get_traces`` under SpikeInterface's generic name).

        Parameters
        ----------
        start_frame, end_frame : int or None
        indices : slice, array or None
            Channel indices.

        Returns
        -------
        np.ndarray
        """
        start = 0 if start_frame is None else int(start_frame)
        end = self.get_num_samples() if end_frame is None else int(end_frame)
        return self.get_traces(start, end, slice(None) if indices is None else indices)


class SortingMethods:
    """``BaseSorting`` methods of SpikeInterface 0.105."""

    @property
    def _sorting_segments(self) -> list:
        """The segments (SpikeInterface's attribute name of ``_segments``)."""
        return self._segments

    def add_sorting_segment(self, sorting_segment) -> None:
        """SpikeInterface's name of ``add_segment``.

        Parameters
        ----------
        sorting_segment : BaseSortingSegment
        """
        self.add_segment(sorting_segment)

    @property
    def sorting_info(self) -> dict | None:
        """What :meth:`set_sorting_info` stored (recording, params and log of the sorter), or None."""
        return self.get_annotation("__sorting_info__")

    def set_sorting_info(self, recording_dict: dict, params_dict: dict, log_dict: dict) -> None:
        """Store how the sorting was made (as sorter wrappers do).

        Parameters
        ----------
        recording_dict : dict
        params_dict : dict
        log_dict : dict
        """
        self.annotate(__sorting_info__=dict(recording=recording_dict, params=params_dict, log=log_dict))

    def to_reordered_spike_vector(self, lexsort: tuple = LEXSORT_UNIT_COMPACT, return_order: bool = True,
                                  return_slices: bool = True):
        """The spike vector sorted unit by unit (or segment by segment), with the order and the slices.

        Parameters
        ----------
        lexsort : tuple
            ``("sample_index", "segment_index", "unit_index")`` (each unit's spikes together, segments
            in order inside) or ``("sample_index", "unit_index", "segment_index")`` (each segment
            together, units inside). numpy's ``lexsort`` reading: the last key sorts first.
        return_order : bool
            Also return the indices that sort the spike vector that way.
        return_slices : bool
            Also return (units, segments, 2) (or (segments, units, 2)) start / stop of each block.

        Returns
        -------
        np.ndarray, or a tuple with the order and / or the slices
        """
        allowed = (LEXSORT_UNIT_COMPACT, LEXSORT_SEGMENT_COMPACT)
        if tuple(lexsort) not in allowed:
            raise ValueError(f"lexsort={lexsort!r}: allowed values are {allowed} (to_spike_vector() gives the "
                             f"default order)")
        from .sorting_tools import reorder_spike_vector_by_unit_and_segment

        cached = self._cached_lexsorted_spike_vector.get(tuple(lexsort))
        if cached is None:
            num_units, num_segments = len(self.unit_ids), self.get_num_segments()
            unit_major = tuple(lexsort) == LEXSORT_UNIT_COMPACT
            ordered, order, counts = reorder_spike_vector_by_unit_and_segment(self.to_spike_vector(), num_units,
                                                                              num_segments, unit_major=unit_major)
            counts = counts.reshape((num_units, num_segments) if unit_major else (num_segments, num_units))
            stops = np.cumsum(counts.ravel()).reshape(counts.shape)
            slices = np.stack([stops - counts, stops], axis=-1).astype("int64")
            for array in (ordered, order, slices):
                array.flags.writeable = False  # cached: editing would change every later call
            cached = self._cached_lexsorted_spike_vector[tuple(lexsort)] = (ordered, order, slices)
        ordered, order, slices = cached
        out = [ordered]
        if return_order:
            out.append(order)
        if return_slices:
            out.append(slices)
        return tuple(out) if len(out) > 1 else out[0]

    def _get_spike_vector_segment_slices(self) -> np.ndarray:
        """(num_segments, 2) start / stop of each segment in the spike vector (cached)."""
        if self._cached_spike_vector_segment_slices is None:
            _, slices = self.to_spike_vector(return_slices=True)
            slices.flags.writeable = False
            self._cached_spike_vector_segment_slices = slices
        return self._cached_spike_vector_segment_slices

    def search_cached_spikes_sorted(self, indices, segment_index: int | None = None) -> np.ndarray:
        """Where sample indices would go in one segment's spike vector (``np.searchsorted``, left side).

        Parameters
        ----------
        indices : array of int
        segment_index : int, optional

        Returns
        -------
        np.ndarray
            Positions relative to the segment's first spike.
        """
        segment_index = self._check_segment_index(segment_index)
        spikes = self.to_spike_vector(concatenated=False)[segment_index]
        return np.searchsorted(spikes["sample_index"], indices)


class SnippetsMethods:
    """``BaseSnippets`` methods of SpikeInterface 0.105."""

    @property
    def _snippets_segments(self) -> list:
        """The segments (SpikeInterface's attribute name of ``_segments``)."""
        return self._segments

    def add_snippets_segment(self, snippets_segment) -> None:
        """SpikeInterface's name of ``add_segment``.

        Parameters
        ----------
        snippets_segment : BaseSnippetsSegment
        """
        self.add_segment(snippets_segment)

    def select_channels(self, channel_ids: Sequence):
        """A view on some channels (SpikeInterface's name of ``channel_slice``).

        Parameters
        ----------
        channel_ids : sequence

        Returns
        -------
        BaseSnippets
        """
        return self.channel_slice(channel_ids=channel_ids)

    def get_times(self, segment_index: int | None = None) -> np.ndarray:
        """Time of each snippet's peak frame, in seconds from the segment's start.

        Parameters
        ----------
        segment_index : int, optional

        Returns
        -------
        np.ndarray
        """
        return self.get_frames(segment_index=segment_index) / self.get_sampling_frequency()

    def is_filtered(self) -> bool:
        """The ``is_filtered`` annotation (False when not set).

        Returns
        -------
        bool
        """
        return bool(self._annotations.get("is_filtered", False))

    def planarize(self, axes: str = "xy"):
        """A view with the 3D probe projected on two axes (as ``BaseRecording.planarize``).

        Parameters
        ----------
        axes : {"xy", "yz", "xz"}

        Returns
        -------
        BaseSnippets
        """
        from .recording import BaseRecording

        return BaseRecording.planarize(self, axes=axes)

    def select_segments(self, segment_indices):
        """Snippets of some segments, copied into a new in-memory object with the same metadata.

        Parameters
        ----------
        segment_indices : int or list of int

        Returns
        -------
        NumpySnippets
        """
        from .numpyextractors import NumpySnippets

        indices = [segment_indices] if np.isscalar(segment_indices) else list(segment_indices)
        n = self.get_num_segments()
        bad = [i for i in indices if not 0 <= int(i) < n]
        if bad:
            raise ValueError(f"segment_indices {bad} out of range: the object has {n} segments")
        selected = NumpySnippets([self.get_snippets(segment_index=int(i)) for i in indices],
                                 [self.get_frames(segment_index=int(i)) for i in indices],
                                 self.get_sampling_frequency(), nbefore=self.nbefore, channel_ids=self.channel_ids)
        self.copy_metadata(selected)
        return selected


class EventMethods:
    """``BaseEvent`` methods of SpikeInterface 0.105."""

    @property
    def _event_segments(self) -> list:
        """The segments (SpikeInterface's attribute name of ``_segments``)."""
        return self._segments

    def select_segment(self, segment_indices):
        """A lazy view on some segments of the events.

        Parameters
        ----------
        segment_indices : int or list of int
            The segments kept, in this order.

        Returns
        -------
        SelectSegmentEvent
        """
        from .segmentutils import SelectSegmentEvent

        return SelectSegmentEvent(self, segment_indices)
