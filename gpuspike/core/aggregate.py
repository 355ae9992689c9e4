"""Lazy stacking on the channel axis (recordings) and the unit axis (sortings)."""
from __future__ import annotations

import copy
import warnings
from typing import Sequence

import numpy as np

from .base import string_ids
from .recording import BaseRecording, BaseRecordingSegment
from .sorting import BaseSorting, BaseSortingSegment
from .validation import check_sampling_frequencies_match


def _split_list_or_dict(objects, name: str, kind: str) -> tuple[list, list | None]:
    """(objects, keys) from a list or a {key: object} dict (keys None for a list)."""
    if isinstance(objects, dict):
        keys, objects = list(objects.keys()), list(objects.values())
    elif isinstance(objects, (list, tuple)):
        keys, objects = None, list(objects)
    else:
        raise TypeError(f"{name} must be a list of {kind}s or a dict of {kind}s, got {type(objects).__name__}")
    if not objects:
        raise ValueError(f"{name} must not be empty")
    return objects, keys


def _new_ids(id_lists: list[np.ndarray], renamed, kind: str, exact_dtypes: bool) -> np.ndarray:
    """The ids of an aggregate, as SpikeInterface 0.105 names them.

    Ids of one type (all integers or all strings; for units: one dtype) that are unique are
    kept; otherwise they are renumbered as strings "0".."N-1" (for units of one integer dtype:
    integers 0..N-1, as uint64).
    """
    total = sum(len(ids) for ids in id_lists)
    if renamed is not None:
        renamed = np.asarray(renamed)
        if len(renamed) != total or len(np.unique(renamed)) != total:
            raise ValueError(f"renamed_{kind}_ids must hold {total} unique ids, got {len(renamed)} "
                             f"({len(np.unique(renamed))} unique)")
        return renamed
    arrays = [np.asarray(ids) for ids in id_lists]
    if exact_dtypes:
        same_type = len({a.dtype for a in arrays}) == 1
    else:
        same_type = (all(a.dtype.kind in "iu" for a in arrays) or all(a.dtype.kind == "U" for a in arrays))
    if same_type:
        combined = np.concatenate(arrays)
        if len(np.unique(combined)) == total:
            return combined
        if exact_dtypes and arrays[0].dtype.kind in "iu":
            return np.arange(total, dtype="uint64")
    return string_ids(total)


def _shared_annotations(objects: list, target) -> None:
    """Annotations present in every object with equal values (compared with ``np.array_equal``)."""
    for key in objects[0].get_annotation_keys():
        if key == "probes_info" or not all(key in obj._annotations for obj in objects):
            continue
        values = [obj._annotations[key] for obj in objects]
        try:
            equal = all(np.array_equal(v, values[0]) for v in values[1:])
        except Exception:
            equal = False
        if equal:
            target._annotations[key] = copy.deepcopy(values[0])


def _concat_properties(objects: list, target) -> None:
    """Properties that every object has, concatenated (skipped when they cannot be)."""
    keys = set(objects[0].get_property_keys())
    for obj in objects[1:]:
        keys &= set(obj.get_property_keys())
    keys.discard("contact_vector")
    for key in sorted(keys):
        values = [obj.get_property(key) for obj in objects]
        try:
            target._properties[key] = np.concatenate(values, axis=0)
        except (ValueError, TypeError):
            continue


def _merge_unit_properties(sortings: list, target) -> None:
    """Properties of any sorting: missing 1-D ones filled (NaN, "", None); mixed dtype kinds, and
    N-D ones some sorting lacks, dropped (SpikeInterface 0.105's rules)."""
    from .base import _DEFAULT_MISSING_VALUES

    keys = []
    for s in sortings:
        keys += [k for k in s.get_property_keys() if k not in keys]
    for key in keys:
        kinds = {s.get_property(key).dtype.kind for s in sortings if key in s._properties}
        if len(kinds) != 1:
            warnings.warn(f"aggregate_units: property {key!r} dropped: its dtype kind differs between the sortings "
                          f"({sorted(kinds)})", UserWarning, stacklevel=3)
            continue
        kind = kinds.pop()
        parts = []
        for s in sortings:
            if key in s._properties:
                parts.append(s.get_property(key))
            else:
                template = next(x.get_property(key) for x in sortings if key in x._properties)
                reason = None
                if kind not in _DEFAULT_MISSING_VALUES:
                    reason = f"dtype kind {kind!r} has no natural missing value"
                elif template.ndim > 1:
                    reason = f"it has {template.ndim} dimensions (SpikeInterface fills 1-D values only)"
                if reason is not None:
                    warnings.warn(f"aggregate_units: property {key!r} dropped: a sorting lacks it and {reason}",
                                  UserWarning, stacklevel=3)
                    parts = None
                    break
                parts.append(np.full(s.get_num_units(), _DEFAULT_MISSING_VALUES[kind],
                                     dtype=template.dtype if kind != "f" else "float64"))
        if parts is None:
            continue
        try:
            target._properties[key] = np.concatenate(parts, axis=0)
        except (ValueError, TypeError) as err:
            warnings.warn(f"aggregate_units: property {key!r} dropped: cannot concatenate it ({err})",
                          UserWarning, stacklevel=3)


def _aggregation_key(objects: list, keys: list | None, count) -> np.ndarray:
    keys = list(range(len(objects))) if keys is None else keys
    return np.concatenate([np.asarray([k] * count(obj)) for k, obj in zip(keys, objects)])


class ChannelsAggregationRecordingSegment(BaseRecordingSegment):
    """Channels of several recording segments side by side (SpikeInterface's arguments).

    Parameters
    ----------
    channel_map : dict
        ``{channel_index: {"recording_id": k, "channel_index": j}}``: channel ``channel_index`` of
        the aggregation is channel ``j`` of ``parent_segments[k]``.
    parent_segments : list of BaseRecordingSegment
    """

    def __init__(self, channel_map: dict, parent_segments: list) -> None:
        first = parent_segments[0]
        super().__init__(sampling_frequency=first.sampling_frequency, t_start=first.t_start,
                         time_vector=first.time_vector)
        self._channel_map = channel_map
        self._parents = parent_segments
        num_channels = len(channel_map)
        if sorted(int(i) for i in channel_map) != list(range(num_channels)):
            raise ValueError(f"channel_map must have the keys 0..{num_channels - 1} (one per aggregated channel)")
        self._owner = np.array([int(channel_map[i]["recording_id"]) for i in range(num_channels)], dtype="int64")
        self._local = np.array([int(channel_map[i]["channel_index"]) for i in range(num_channels)], dtype="int64")
        if num_channels and not 0 <= self._owner.min() <= self._owner.max() < len(parent_segments):
            raise ValueError(f"channel_map names a recording_id outside 0..{len(parent_segments) - 1}")

    def get_num_samples(self) -> int:
        return self._parents[0].get_num_samples()

    def get_traces(self, start_frame, end_frame, channel_indices) -> np.ndarray:
        indices = np.arange(len(self._owner))[channel_indices]
        owner = self._owner[indices]
        out = None
        for k in np.unique(owner):
            sel = np.flatnonzero(owner == k)
            traces = self._parents[k].get_traces(start_frame, end_frame, self._local[indices[sel]])
            if out is None:
                out = np.empty((traces.shape[0], len(indices)), dtype=traces.dtype)
            out[:, sel] = traces
        if out is None:
            out = self._parents[0].get_traces(start_frame, end_frame, np.zeros(0, dtype="int64"))
        return out


class ChannelsAggregationRecording(BaseRecording):
    """Several recordings stacked on the channel axis (same sampling frequency, segments, samples).

    Parameters
    ----------
    recording_list_or_dict : list or dict of BaseRecording
        With a dict, its keys fill the ``aggregation_key`` property (list positions otherwise).
    renamed_channel_ids : array-like, optional
        New channel ids. By default, channel ids of one type (all int or all str) that are
        unique are kept, others are renumbered "0".."N-1" (as SpikeInterface 0.105).
    recording_list : list of BaseRecording, optional
        Older name of ``recording_list_or_dict``.
    """

    def __init__(self, recording_list_or_dict=None, renamed_channel_ids: Sequence | None = None,
                 recording_list=None) -> None:
        if recording_list is not None:
            if recording_list_or_dict is not None:
                raise TypeError("give recording_list_or_dict or recording_list, not both")
            recording_list_or_dict = recording_list
        recording_list, keys = _split_list_or_dict(recording_list_or_dict, "recording_list_or_dict", "recording")
        first = recording_list[0]
        for i, rec in enumerate(recording_list):
            if not isinstance(rec, BaseRecording):
                raise TypeError(f"recording_list_or_dict[{i}] is a {type(rec).__name__}, not a recording")
        for i, rec in enumerate(recording_list[1:], start=1):
            if rec.sampling_frequency != first.sampling_frequency:
                raise ValueError(f"recording_list[{i}] has sampling_frequency {rec.sampling_frequency}, "
                                 f"recording_list[0] has {first.sampling_frequency}")
            if rec.get_num_segments() != first.get_num_segments():
                raise ValueError(f"recording_list[{i}] has {rec.get_num_segments()} segments, "
                                 f"recording_list[0] has {first.get_num_segments()}")
            for seg in range(first.get_num_segments()):
                if rec.get_num_samples(seg) != first.get_num_samples(seg):
                    raise ValueError(f"recording_list[{i}] segment {seg} has {rec.get_num_samples(seg)} samples, "
                                     f"recording_list[0] has {first.get_num_samples(seg)}")
            if rec.get_dtype() != first.get_dtype():
                raise ValueError(f"recording_list[{i}] has dtype {rec.get_dtype()}, "
                                 f"recording_list[0] has {first.get_dtype()}")
        channel_ids = _new_ids([r.channel_ids for r in recording_list], renamed_channel_ids, "channel",
                               exact_dtypes=False)
        super().__init__(first.sampling_frequency, channel_ids, first.get_dtype())
        channel_map = {}
        for k, rec in enumerate(recording_list):
            for j in range(rec.get_num_channels()):
                channel_map[len(channel_map)] = {"recording_id": k, "channel_index": j}
        for seg in range(first.get_num_segments()):
            parents = [r._segments[seg] for r in recording_list]
            self.add_segment(ChannelsAggregationRecordingSegment(channel_map, parents))
        _concat_properties(list(recording_list), self)
        self._properties["aggregation_key"] = _aggregation_key(recording_list, keys, lambda r: r.get_num_channels())
        _shared_annotations(recording_list, self)
        with_probe = [r.has_probe() for r in recording_list]
        if all(with_probe):
            self._stack_probes(recording_list)
        elif any(with_probe):
            raise ValueError("aggregate_channels: some recordings have a probe and others do not; attach probes to "
                             "all of them (or to none)")
        self._recordings = list(recording_list)
        self._kwargs = {"recording_list_or_dict": recording_list_or_dict if keys is not None else list(recording_list),
                        "renamed_channel_ids": renamed_channel_ids}

    @property
    def recordings(self) -> list:
        """The aggregated recordings, in channel order."""
        return self._recordings

    def _stack_probes(self, recording_list) -> None:
        from .channels import locations_of_contacts

        vectors, infos, probe_offset = [], [], 0
        for rec in recording_list:
            cv = rec.get_property("contact_vector").copy()
            cv["probe_index"] = cv["probe_index"] + probe_offset
            probe_offset = int(cv["probe_index"].max()) + 1 if cv.size else probe_offset
            vectors.append(cv)
            infos.extend(rec._annotations.get("probes_info", []))
        try:
            contact_vector = np.concatenate(vectors)
        except TypeError:
            return
        contact_vector["device_channel_indices"] = np.arange(len(contact_vector))
        if "probe_id" in contact_vector.dtype.names:
            # probe ids must stay unique per probe (each recording numbers its probes from "0")
            pairs = {(int(i), str(p)) for i, p in zip(contact_vector["probe_index"], contact_vector["probe_id"])}
            if len({p for _, p in pairs}) != len({i for i, _ in pairs}):
                contact_vector["probe_id"] = contact_vector["probe_index"].astype(str)
        self._properties["contact_vector"] = contact_vector
        ndim = 3 if "z" in contact_vector.dtype.names else 2
        self._properties["location"] = locations_of_contacts(contact_vector, ndim)
        self._annotations["probes_info"] = infos
        # one group per (probe, shank, side) of the stacked probes, as SpikeInterface 0.105 regroups them
        from .channels import _groups_of

        self._properties["group"] = _groups_of(contact_vector, "auto")


def aggregate_channels(recording_list_or_dict=None, renamed_channel_ids: Sequence | None = None,
                       recording_list=None) -> BaseRecording:
    """Stack recordings on the channel axis (lazy).

    Parameters
    ----------
    recording_list_or_dict : list or dict of BaseRecording
        A dict's keys fill the ``aggregation_key`` property.
    renamed_channel_ids : array-like, optional
        New ids; by default clashing (or mixed-type) channel ids are renumbered "0".."N-1".
    recording_list : list of BaseRecording, optional
        Older name of ``recording_list_or_dict``.

    Returns
    -------
    ChannelsAggregationRecording
    """
    return ChannelsAggregationRecording(recording_list_or_dict, renamed_channel_ids, recording_list=recording_list)


class UnitsAggregationSortingSegment(BaseSortingSegment):
    """Units of several sorting segments together (SpikeInterface's arguments).

    Parameters
    ----------
    unit_map : dict
        ``{unit_id: {"sorting_id": k, "unit_id": parent_unit_id}}``.
    parent_segments : list of BaseSortingSegment
    """

    def __init__(self, unit_map: dict, parent_segments: list) -> None:
        super().__init__()
        self._parents = parent_segments
        self._unit_map = {(k.item() if isinstance(k, np.generic) else k): (int(v["sorting_id"]), v["unit_id"])
                          for k, v in unit_map.items()}

    def get_unit_spike_train(self, unit_id, start_frame, end_frame) -> np.ndarray:
        key = unit_id.item() if isinstance(unit_id, np.generic) else unit_id
        k, parent_id = self._unit_map[key]
        return self._parents[k].get_unit_spike_train(parent_id, start_frame, end_frame)

    def get_num_samples(self):
        return self._parents[0].get_num_samples()


class UnitsAggregationSorting(BaseSorting):
    """Several sortings stacked on the unit axis (same sampling frequency and segments).

    Parameters
    ----------
    sorting_list : list or dict of BaseSorting
        With a dict, its keys fill the ``aggregation_key`` property.
    renamed_unit_ids : array-like, optional
        New unit ids. By default, unique ids of one dtype are kept, others are renumbered
        (integers 0..N-1 for integer ids, else "0".."N-1"), as SpikeInterface 0.105.
    sampling_frequency_max_diff : float
        Largest sampling frequency difference allowed between the sortings.

    Notes
    -----
    Annotations are kept when every sorting has them with equal values; a property missing in
    some sortings is filled (NaN, "" or None), one whose dtype kind differs is dropped with a
    warning.
    """

    def __init__(self, sorting_list, renamed_unit_ids: Sequence | None = None,
                 sampling_frequency_max_diff: float = 0.0) -> None:
        sorting_list_in = sorting_list
        sorting_list, keys = _split_list_or_dict(sorting_list, "sorting_list", "sorting")
        first = sorting_list[0]
        for i, s in enumerate(sorting_list):
            if not isinstance(s, BaseSorting):
                raise TypeError(f"sorting_list[{i}] is a {type(s).__name__}, not a sorting")
        check_sampling_frequencies_match([s.sampling_frequency for s in sorting_list], sampling_frequency_max_diff,
                                         "sorting_list")
        for i, s in enumerate(sorting_list):
            if s.get_num_segments() != first.get_num_segments():
                raise ValueError(f"sorting_list[{i}] has {s.get_num_segments()} segments, "
                                 f"sorting_list[0] has {first.get_num_segments()}")
        with_main = {"main_channel_id" in s._properties for s in sorting_list}
        if len(with_main) != 1:
            raise ValueError("aggregate_units: either every sorting has the 'main_channel_id' property or none")
        unit_ids = _new_ids([s.unit_ids for s in sorting_list], renamed_unit_ids, "unit", exact_dtypes=True)
        super().__init__(first.sampling_frequency, unit_ids)
        unit_map, pos = {}, 0
        for k, s in enumerate(sorting_list):
            for parent_id in s.unit_ids.tolist():
                unit_map[unit_ids[pos].item() if isinstance(unit_ids[pos], np.generic) else unit_ids[pos]] = \
                    {"sorting_id": k, "unit_id": parent_id}
                pos += 1
        for seg in range(first.get_num_segments()):
            self.add_segment(UnitsAggregationSortingSegment(unit_map, [s._segments[seg] for s in sorting_list]))
        _shared_annotations(sorting_list, self)
        _merge_unit_properties(sorting_list, self)
        if keys is not None:
            self._properties["aggregation_key"] = _aggregation_key(sorting_list, keys, lambda s: s.get_num_units())
        if first.has_recording():
            self.register_recording(first.get_recording(), check_spike_frames=False)
        self._sortings = list(sorting_list)
        self._kwargs = {"sorting_list": sorting_list_in if keys is not None else list(sorting_list),
                        "renamed_unit_ids": renamed_unit_ids,
                        "sampling_frequency_max_diff": sampling_frequency_max_diff}

    @property
    def sortings(self) -> list:
        """The aggregated sortings, in unit order."""
        return self._sortings


def aggregate_units(sorting_list, renamed_unit_ids: Sequence | None = None,
                    sampling_frequency_max_diff: float = 0.0) -> BaseSorting:
    """Stack sortings on the unit axis (lazy).

    Parameters
    ----------
    sorting_list : list or dict of BaseSorting
        A dict's keys fill the ``aggregation_key`` property.
    renamed_unit_ids : array-like, optional
        New ids; by default clashing unit ids are renumbered (see :class:`UnitsAggregationSorting`).
    sampling_frequency_max_diff : float
        Largest sampling frequency difference allowed between the sortings.

    Returns
    -------
    UnitsAggregationSorting
    """
    return UnitsAggregationSorting(sorting_list, renamed_unit_ids, sampling_frequency_max_diff)


#: gpuspike's earlier names of the two classes (SpikeInterface's names above)
AggregateChannelsRecording = ChannelsAggregationRecording
AggregateUnitsSorting = UnitsAggregationSorting
