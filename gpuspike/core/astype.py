"""AstypeRecording: a lazy view with traces cast to another dtype (``recording.astype``)."""
from __future__ import annotations

import numpy as np

from .recording import BaseRecording, BaseRecordingSegment


class AstypeRecordingSegment(BaseRecordingSegment):
    def __init__(self, parent_segment: BaseRecordingSegment, dtype: np.dtype, round: bool) -> None:
        super().__init__(sampling_frequency=parent_segment.sampling_frequency, t_start=parent_segment.t_start,
                         time_vector=parent_segment.time_vector)
        self._parent_segment = parent_segment
        self._dtype = dtype
        self._round = round

    def get_num_samples(self) -> int:
        return self._parent_segment.get_num_samples()

    def get_traces(self, start_frame, end_frame, channel_indices) -> np.ndarray:
        traces = self._parent_segment.get_traces(start_frame, end_frame, channel_indices)
        if self._round and traces.dtype.kind == "f":
            traces = np.round(traces)
        return traces.astype(self._dtype, copy=False)


class AstypeRecording(BaseRecording):
    """Traces of ``recording`` cast to ``dtype`` on the fly (SpikeInterface's ``astype``).

    Parameters
    ----------
    recording : BaseRecording
    dtype : numpy dtype, optional
        Output dtype (default: the recording's).
    round : bool, optional
        Round float traces to the nearest integer before the cast; by default True when
        ``dtype`` is an integer type.
    """

    def __init__(self, recording: BaseRecording, dtype=None, round: bool | None = None) -> None:
        if not isinstance(recording, BaseRecording):
            raise TypeError(f"recording must be a BaseRecording, got {type(recording).__name__}")
        dtype = np.dtype(recording.get_dtype() if dtype is None else dtype)
        if round is None:
            round = dtype.kind in "iu"
        super().__init__(recording.sampling_frequency, recording.channel_ids, dtype)
        recording.copy_metadata(self)
        for segment in recording._segments:
            self.add_segment(AstypeRecordingSegment(segment, dtype, bool(round)))
        self._parent = recording
        self._kwargs = {"recording": recording, "dtype": dtype.str, "round": bool(round)}


def astype(recording: BaseRecording, dtype=None, round: bool | None = None) -> AstypeRecording:
    """A lazy view of ``recording`` with traces cast to ``dtype``.

    Parameters
    ----------
    recording : BaseRecording
    dtype : numpy dtype, optional
    round : bool, optional
        Round floats before an integer cast (default: True for integer dtypes).

    Returns
    -------
    AstypeRecording
    """
    return AstypeRecording(recording, dtype=dtype, round=round)
