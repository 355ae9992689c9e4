"""SpikeInterface's abstract base classes, for ``isinstance`` / ``issubclass`` and type hints.

SpikeInterface derives recordings and snippets from ``BaseRecordingSnippets`` and recordings from
``TimeSeries`` too. gpuspike shares the channel methods of both through a mixin
(:class:`~gpuspike.core.channels.ChannelsMixin`) instead; its classes register with these abstract
classes, so that code testing ``isinstance(x, BaseRecordingSnippets)`` or ``TimeSeries`` works.
"""
from __future__ import annotations

from abc import ABC


class BaseRecordingSnippets(ABC):
    """Recordings and snippets (SpikeInterface's common base: channels, probe, properties)."""


class TimeSeries(ABC):
    """Objects with samples along time in segments (SpikeInterface 0.105's base of recordings)."""


class TimeSeriesSegment(ABC):
    """One segment of a :class:`TimeSeries` (SpikeInterface 0.105's base of recording segments)."""


#: the type of a segment's time vector, as a type-hint string (SpikeInterface 0.105's ``time_series.TimeVector``)
TimeVector = "np.ndarray | zarr.Array"
