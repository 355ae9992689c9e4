"""Spikes beyond the end of the recording: found, reported, and dropped the same way everywhere.

As in SpikeInterface 0.105: ``register_recording`` warns about them (and attaches the sorting
unchanged); :func:`extract_waveforms` and :func:`compute_templates` drop them with a warning
(SpikeInterface's ``create_sorting_analyzer`` does the same), through the lazy view
:class:`RemoveExcessSpikesSorting`, instead of averaging windows that hold no data.
"""
from __future__ import annotations

import warnings

import numpy as np

from .sorting import BaseSorting, BaseSortingSegment


def excess_spikes_per_segment(sorting: BaseSorting, recording) -> list[tuple[int, int, int]]:
    """``(segment_index, count, largest frame)`` of the segments with spikes at frames >= the
    recording's number of samples (or < 0)."""
    spikes = sorting.to_spike_vector()
    bounds = np.searchsorted(spikes["segment_index"], np.arange(sorting.get_num_segments() + 1))
    out = []
    for seg in range(min(sorting.get_num_segments(), recording.get_num_segments())):
        frames = spikes["sample_index"][bounds[seg]:bounds[seg + 1]]
        n = recording.get_num_samples(seg)
        bad = (frames >= n) | (frames < 0)
        if bad.any():
            out.append((seg, int(bad.sum()), int(frames[bad].max())))
    return out


def warn_excess_spikes(sorting: BaseSorting, recording, where: str, dropped: bool) -> int:
    """Warn (naming ``where``) when ``sorting`` has spikes beyond ``recording``; return how many."""
    excess = excess_spikes_per_segment(sorting, recording)
    if not excess:
        return 0
    total = sum(count for _, count, _ in excess)
    detail = "; ".join(f"segment {seg}: {count} spike(s) at frames >= {recording.get_num_samples(seg)} "
                       f"(up to {largest})" for seg, count, largest in excess)
    action = ("they are dropped (as SpikeInterface 0.105 does)" if dropped else
              "extract_waveforms() and compute_templates() drop them; remove_excess_spikes(sorting, recording) "
              "drops them now")
    warnings.warn(f"{where}: the sorting has {total} spike(s) beyond the end of the recording ({detail}); {action}",
                  UserWarning, stacklevel=3)
    return total


def drop_excess_spikes(sorting: BaseSorting, recording, where: str) -> BaseSorting:
    """``sorting`` itself when all its spikes lie inside ``recording``; else a view without the
    others (with a warning naming ``where``)."""
    if warn_excess_spikes(sorting, recording, where, dropped=True) == 0:
        return sorting
    return RemoveExcessSpikesSorting(sorting, recording)


class RemoveExcessSpikesSortingSegment(BaseSortingSegment):
    def __init__(self, parent_segment: BaseSortingSegment, num_samples: int) -> None:
        super().__init__()
        self._parent_segment = parent_segment
        self._num_samples = int(num_samples)

    def get_unit_spike_train(self, unit_id, start_frame, end_frame) -> np.ndarray:
        end = self._num_samples if end_frame is None else min(end_frame, self._num_samples)
        start = 0 if start_frame is None else start_frame
        if end <= start:
            return np.zeros(0, dtype="int64")
        return self._parent_segment.get_unit_spike_train(unit_id, start, end)

    def get_num_samples(self) -> int:
        return self._num_samples


class RemoveExcessSpikesSorting(BaseSorting):
    """Lazy view of a sorting without the spikes at or beyond the end of each segment of ``recording``.

    Parameters
    ----------
    sorting : BaseSorting
    recording : BaseRecording
        Gives the number of samples of each segment.
    """

    def __init__(self, sorting: BaseSorting, recording) -> None:
        if sorting.get_num_segments() != recording.get_num_segments():
            raise ValueError(f"sorting has {sorting.get_num_segments()} segments, recording "
                             f"{recording.get_num_segments()}")
        super().__init__(sorting.sampling_frequency, sorting.unit_ids)
        self._parent = sorting
        self._num_samples = [recording.get_num_samples(i) for i in range(recording.get_num_segments())]
        for segment, n in zip(sorting._segments, self._num_samples):
            self.add_segment(RemoveExcessSpikesSortingSegment(segment, n))
        sorting.copy_metadata(self)
        if sorting.has_recording():
            self._recording = sorting._recording
        self._kwargs = {"sorting": sorting, "recording": recording}

    def _compute_spike_vector(self) -> np.ndarray:
        parent = self._parent.to_spike_vector()
        limits = np.asarray(self._num_samples, dtype="int64")[parent["segment_index"]]
        keep = (parent["sample_index"] < limits) & (parent["sample_index"] >= 0)
        return parent[keep].copy()


def remove_excess_spikes(sorting: BaseSorting, recording) -> BaseSorting:
    """A lazy view of ``sorting`` without the spikes beyond the end of ``recording`` (as
    SpikeInterface's ``spikeinterface.curation.remove_excess_spikes``).

    Parameters
    ----------
    sorting : BaseSorting
    recording : BaseRecording

    Returns
    -------
    BaseSorting
        ``sorting`` itself when no spike exceeds the recording, else a :class:`RemoveExcessSpikesSorting`.
    """
    if not excess_spikes_per_segment(sorting, recording):
        return sorting
    return RemoveExcessSpikesSorting(sorting, recording)
