"""Sample-by-sample sums and differences of two recordings: ``recording1 + recording2``,
``recording1 - recording2`` (SpikeInterface 0.105's operator recordings).

The result is lazy: each chunk reads both recordings and adds or subtracts the raw samples in their
dtype, as NumPy does (integer samples wrap on overflow: cast first with ``astype`` to widen them).
"""
from __future__ import annotations

import numpy as np

from .errors import SpikeInterfaceAssertError
from .recording import BaseRecording, BaseRecordingSegment
from .recording_tools import do_recording_attributes_match, get_rec_attributes

OPERATORS = ("add", "subtract")
#: a sum or difference keeps ``recording1``'s main metadata (probe locations and groups,
#: ``is_filtered``) and its probe, but not its scaling: the raw samples of a sum have no single gain
#: and offset (nor its name, other properties or the statistics cached on it)
_SCALING_PROPERTIES = ("gain_to_uV", "offset_to_uV")


class OperatorRecordingSegment(BaseRecordingSegment):
    """One segment of an :class:`BaseOperatorRecording` (the times of ``segment1``)."""

    def __init__(self, segment1: BaseRecordingSegment, segment2: BaseRecordingSegment, operator: str) -> None:
        super().__init__(**segment1.get_times_kwargs())
        self.segment1 = segment1
        self.segment2 = segment2
        self.operator = operator

    def get_num_samples(self) -> int:
        return self.segment1.get_num_samples()

    def get_traces(self, start_frame, end_frame, channel_indices) -> np.ndarray:
        traces1 = self.segment1.get_traces(start_frame, end_frame, channel_indices)
        traces2 = self.segment2.get_traces(start_frame, end_frame, channel_indices)
        if self.operator == "add":
            return np.add(traces1, traces2)
        return np.subtract(traces1, traces2)


class BaseOperatorRecording(BaseRecording):
    """``recording1`` and ``recording2`` combined sample by sample.

    Parameters
    ----------
    recording1, recording2 : BaseRecording
        Recordings with the same channel ids, sampling frequency, segment lengths, dtype and times.
    operator : {"add", "subtract"}
        ``recording1 + recording2`` or ``recording1 - recording2`` (set by the subclasses).

    Raises
    ------
    TypeError
        Either argument is not a recording.
    ValueError
        ``operator`` is not allowed, or the recordings differ in an attribute or in their times (then a
        :class:`~gpuspike.core.errors.SpikeInterfaceAssertError`, also an ``AssertionError`` as in
        SpikeInterface).
    """

    #: the operator of a subclass (None: given to the constructor)
    fixed_operator: str | None = None

    def __init__(self, recording1: BaseRecording, recording2: BaseRecording, operator: str | None = None) -> None:
        fixed = self.fixed_operator
        if fixed is not None and operator not in (None, fixed):
            raise ValueError(f"{type(self).__name__}: operator={operator!r}, the allowed value is {fixed!r}")
        operator = fixed if operator is None else operator
        if operator not in OPERATORS:
            raise ValueError(f"operator={operator!r}: the allowed values are {OPERATORS}")
        for name, recording in (("recording1", recording1), ("recording2", recording2)):
            if not isinstance(recording, BaseRecording):
                raise TypeError(f"{name} must be a recording to {operator} recordings, got "
                                f"{type(recording).__name__}")
        match, message = do_recording_attributes_match(recording1, get_rec_attributes(recording2))
        if not match:
            raise SpikeInterfaceAssertError(f"cannot {operator} these recordings: {message}")
        differ = _segments_with_other_times(recording1, recording2)
        if differ:
            raise SpikeInterfaceAssertError(f"cannot {operator} these recordings: their times differ in segment(s) "
                                            f"{differ} (t_start or time vector); align them first (set_times / "
                                            "shift_times)")
        super().__init__(recording1.get_sampling_frequency(), recording1.channel_ids, recording1.get_dtype())
        for segment1, segment2 in zip(recording1._segments, recording2._segments):
            self.add_segment(OperatorRecordingSegment(segment1, segment2, operator))
        recording1.copy_metadata(self, only_main=True, skip_properties=_SCALING_PROPERTIES)
        if recording1.has_probe():
            self._properties["contact_vector"] = recording1._properties["contact_vector"].copy()
        self._kwargs = {"recording1": recording1, "recording2": recording2, "operator": operator}


class AddRecordings(BaseOperatorRecording):
    """``recording1 + recording2``, sample by sample (see :class:`BaseOperatorRecording`; an
    ``operator`` given, as in SpikeInterface's dicts of this class, must be "add")."""

    fixed_operator = "add"


class SubtractRecordings(BaseOperatorRecording):
    """``recording1 - recording2``, sample by sample (see :class:`BaseOperatorRecording`; an
    ``operator`` given, as in SpikeInterface's dicts of this class, must be "subtract")."""

    fixed_operator = "subtract"


def _segments_with_other_times(recording1: BaseRecording, recording2: BaseRecording) -> list[int]:
    """Indices of the segments whose ``t_start`` or time vector differ between the recordings."""
    differ = []
    for index in range(recording1.get_num_segments()):
        times1 = recording1._segments[index].get_times_kwargs()
        times2 = recording2._segments[index].get_times_kwargs()
        vector1, vector2 = times1.get("time_vector"), times2.get("time_vector")
        same_vector = (vector1 is None) == (vector2 is None) and (vector1 is None or np.array_equal(vector1, vector2))
        if not same_vector or times1.get("t_start") != times2.get("t_start"):
            differ.append(index)
    return differ
