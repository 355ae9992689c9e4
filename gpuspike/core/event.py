"""BaseEvent: events and epochs (e.g. TTL pulses) as structured arrays with a ``time`` field."""
from __future__ import annotations

import abc

from typing import Sequence

import numpy as np

from .base import BaseExtractor, BaseSegment
from .si_methods import EventMethods


class BaseEventSegment(BaseSegment):
    """One segment of events."""

    @abc.abstractmethod
    def get_events(self, channel_id, start_time: float | None, end_time: float | None) -> np.ndarray:
        """Events of ``channel_id`` with time in [start_time, end_time] (None = open end)."""

    def get_event_times(self, channel_id, start_time: float | None, end_time: float | None) -> np.ndarray:
        """Times (s) of the events of ``channel_id`` in [start_time, end_time].

        Parameters
        ----------
        channel_id : int or str
        start_time, end_time : float or None

        Returns
        -------
        np.ndarray
        """
        return event_times(self.get_events(channel_id, start_time, end_time))


def event_times(events: np.ndarray) -> np.ndarray:
    """The times of events: a plain array of times, or the ``time`` / ``timestamp`` field."""
    if events.dtype.names is None:
        return events
    return events["time"] if "time" in events.dtype.names else events["timestamp"]


class BaseEvent(EventMethods, BaseExtractor):
    """Base class of events: per channel, a structured array whose ``time`` field is in seconds.

    Parameters
    ----------
    channel_ids : array-like
        Event channel ids.
    structured_dtype : numpy dtype or dict
        One dtype for all channels, or ``{channel_id: dtype}``: a structured dtype with a ``time``
        (or ``timestamp``) field in seconds, or a plain dtype (the events are their times).
    """

    _id_kind = "channel_id"

    def __init__(self, channel_ids: Sequence, structured_dtype) -> None:
        BaseExtractor.__init__(self, channel_ids)
        if not isinstance(structured_dtype, dict):
            structured_dtype = {chan_id: structured_dtype for chan_id in self.channel_ids.tolist()}
        for chan_id, dtype in structured_dtype.items():
            dtype = np.dtype(dtype)
            if dtype.names is not None and not {"time", "timestamp"} & set(dtype.names):
                raise ValueError(f"structured_dtype of channel {chan_id!r} must have a 'time' (or 'timestamp') "
                                 f"field, got {dtype}")
            structured_dtype[chan_id] = dtype
        self.structured_dtype = structured_dtype

    @property
    def channel_ids(self) -> np.ndarray:
        return self._main_ids

    def get_num_channels(self) -> int:
        """Number of event channels."""
        return len(self._main_ids)

    def get_dtype(self, channel_id) -> np.dtype:
        """Structured dtype of a channel's events."""
        self.ids_to_indices([channel_id])
        key = channel_id.item() if isinstance(channel_id, np.generic) else channel_id
        return self.structured_dtype[key]

    def add_event_segment(self, event_segment: BaseEventSegment) -> None:
        self.add_segment(event_segment)

    def get_events(self, channel_id=None, segment_index: int | None = None, start_time: float | None = None,
                   end_time: float | None = None) -> np.ndarray:
        """Events of a channel with time in ``[start_time, end_time]`` seconds (both ends included, as
        SpikeInterface), in their own dtype (structured, or plain times)."""
        segment_index = self._check_segment_index(segment_index)
        if channel_id is None:
            if self.get_num_channels() != 1:
                raise ValueError(f"channel_id must be given: allowed {self.channel_ids.tolist()}")
            channel_id = self.channel_ids[0]
        self.ids_to_indices([channel_id])
        if start_time is not None and end_time is not None and end_time < start_time:
            raise ValueError(f"end_time={end_time} is before start_time={start_time}")
        return self._segments[segment_index].get_events(channel_id, start_time, end_time)

    def get_event_times(self, channel_id=None, segment_index: int | None = None,
                        start_time: float | None = None, end_time: float | None = None) -> np.ndarray:
        """Event times (s) of a channel in ``[start_time, end_time]``."""
        return event_times(self.get_events(channel_id, segment_index, start_time, end_time))

    def save(self, folder=None, format: str = "npz", overwrite: bool = False, **kwargs):
        """Save to an npz folder or memory."""
        from .saving import save_event

        return save_event(self, folder=folder, format=format, overwrite=overwrite)
