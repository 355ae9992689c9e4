"""Lazy stacking on the channel axis (recordings) and the unit axis (sortings)."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .recording import BaseRecording, BaseRecordingSegment
from .sorting import BaseSorting, BaseSortingSegment


def _new_ids(id_lists: list[np.ndarray], renamed, kind: str) -> np.ndarray:
    total = sum(len(ids) for ids in id_lists)
    if renamed is not None:
        renamed = np.asarray(renamed)
        if len(renamed) != total:
            raise ValueError(f"renamed_{kind}_ids has {len(renamed)} ids for {total} {kind}s")
        return renamed
    all_ids = np.concatenate([np.asarray(ids) for ids in id_lists]) if id_lists else np.zeros(0)
    if len(np.unique(all_ids.astype(str))) == total:
        return all_ids
    # clashing ids: renamed 0..N-1 (as strings when the inputs were strings)
    new = np.arange(total)
    return new.astype(str) if all_ids.dtype.kind in "US" else new


def _concat_properties(objects: list, target) -> None:
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


class AggregateChannelsRecordingSegment(BaseRecordingSegment):
    def __init__(self, parent_segments: list, channel_offsets: np.ndarray) -> None:
        first = parent_segments[0]
        super().__init__(sampling_frequency=first.sampling_frequency, t_start=first.t_start,
                         time_vector=first.time_vector)
        self._parents = parent_segments
        self._offsets = channel_offsets

    def get_num_samples(self) -> int:
        return self._parents[0].get_num_samples()

    def get_traces(self, start_frame, end_frame, channel_indices) -> np.ndarray:
        total = int(self._offsets[-1])
        indices = np.arange(total)[channel_indices]
        owner = np.searchsorted(self._offsets, indices, side="right") - 1
        out = None
        for k in np.unique(owner):
            sel = np.flatnonzero(owner == k)
            local = indices[sel] - self._offsets[k]
            traces = self._parents[k].get_traces(start_frame, end_frame, local)
            if out is None:
                out = np.empty((traces.shape[0], len(indices)), dtype=traces.dtype)
            out[:, sel] = traces
        if out is None:
            out = self._parents[0].get_traces(start_frame, end_frame, np.zeros(0, dtype="int64"))
        return out


class AggregateChannelsRecording(BaseRecording):
    """Several recordings stacked on the channel axis (same sampling frequency, segments, samples)."""

    def __init__(self, recording_list: Sequence[BaseRecording], renamed_channel_ids: Sequence | None = None) -> None:
        if not isinstance(recording_list, (list, tuple)) or not recording_list:
            raise ValueError("recording_list must be a non-empty list of recordings")
        first = recording_list[0]
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
        channel_ids = _new_ids([r.channel_ids for r in recording_list], renamed_channel_ids, "channel")
        super().__init__(first.sampling_frequency, channel_ids, first.get_dtype())
        offsets = np.concatenate([[0], np.cumsum([r.get_num_channels() for r in recording_list])]).astype("int64")
        for seg in range(first.get_num_segments()):
            self.add_segment(AggregateChannelsRecordingSegment([r._segments[seg] for r in recording_list], offsets))
        _concat_properties(list(recording_list), self)
        for key, value in first._annotations.items():
            if key != "probes_info":
                self._annotations[key] = value
        if all(r.has_probe() for r in recording_list):
            self._stack_probes(recording_list)
        self._kwargs = {"recording_list": list(recording_list), "renamed_channel_ids": renamed_channel_ids}

    def _stack_probes(self, recording_list) -> None:
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
        self._annotations["probes_info"] = infos


def aggregate_channels(recording_list: Sequence[BaseRecording], renamed_channel_ids: Sequence | None = None
                       ) -> BaseRecording:
    """Stack recordings on the channel axis (lazy). Clashing channel ids are renamed 0..N-1.

    Parameters
    ----------
    recording_list : sequence of BaseRecording
        Recordings with the same sampling frequency, segments and samples per segment.
    renamed_channel_ids : sequence, optional
        Channel ids of the result (default: the original ids, or 0..N-1 when they clash).

    Returns
    -------
    BaseRecording
        An :class:`AggregateChannelsRecording` view.
    """
    return AggregateChannelsRecording(recording_list, renamed_channel_ids)


class AggregateUnitsSortingSegment(BaseSortingSegment):
    def __init__(self, parent_segments: list, id_map: dict) -> None:
        super().__init__()
        self._parents = parent_segments
        self._id_map = id_map

    def get_unit_spike_train(self, unit_id, start_frame, end_frame) -> np.ndarray:
        key = unit_id.item() if isinstance(unit_id, np.generic) else unit_id
        k, parent_id = self._id_map[key]
        return self._parents[k].get_unit_spike_train(parent_id, start_frame, end_frame)

    def get_num_samples(self):
        return self._parents[0].get_num_samples()


class AggregateUnitsSorting(BaseSorting):
    """Several sortings stacked on the unit axis (same sampling frequency and segments)."""

    def __init__(self, sorting_list: Sequence[BaseSorting], renamed_unit_ids: Sequence | None = None) -> None:
        if not isinstance(sorting_list, (list, tuple)) or not sorting_list:
            raise ValueError("sorting_list must be a non-empty list of sortings")
        first = sorting_list[0]
        for i, s in enumerate(sorting_list[1:], start=1):
            if s.sampling_frequency != first.sampling_frequency:
                raise ValueError(f"sorting_list[{i}] has sampling_frequency {s.sampling_frequency}, "
                                 f"sorting_list[0] has {first.sampling_frequency}")
            if s.get_num_segments() != first.get_num_segments():
                raise ValueError(f"sorting_list[{i}] has {s.get_num_segments()} segments, "
                                 f"sorting_list[0] has {first.get_num_segments()}")
        unit_ids = _new_ids([s.unit_ids for s in sorting_list], renamed_unit_ids, "unit")
        super().__init__(first.sampling_frequency, unit_ids)
        id_map, pos = {}, 0
        for k, s in enumerate(sorting_list):
            for parent_id in s.unit_ids.tolist():
                id_map[unit_ids[pos].item() if isinstance(unit_ids[pos], np.generic) else unit_ids[pos]] = (k, parent_id)
                pos += 1
        for seg in range(first.get_num_segments()):
            self.add_segment(AggregateUnitsSortingSegment([s._segments[seg] for s in sorting_list], id_map))
        _concat_properties(list(sorting_list), self)
        self._annotations.update(first._annotations)
        if first.has_recording():
            self._recording = first.get_recording()
        self._kwargs = {"sorting_list": list(sorting_list), "renamed_unit_ids": renamed_unit_ids}


def aggregate_units(sorting_list: Sequence[BaseSorting], renamed_unit_ids: Sequence | None = None) -> BaseSorting:
    """Stack sortings on the unit axis (lazy). Clashing unit ids are renamed 0..N-1.

    Parameters
    ----------
    sorting_list : sequence of BaseSorting
        Sortings with the same sampling frequency and segments.
    renamed_unit_ids : sequence, optional
        Unit ids of the result (default: the original ids, or 0..N-1 when they clash).

    Returns
    -------
    BaseSorting
        An :class:`AggregateUnitsSorting` view.
    """
    return AggregateUnitsSorting(sorting_list, renamed_unit_ids)
