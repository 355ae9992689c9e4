"""WhiteMatter's raw recordings: int16 samples, channels interleaved, after an 8-byte header."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from ..core.binaryrecording import BinaryRecordingExtractor

#: µV per count of a WhiteMatter head-stage (``voltsperbit="1.907348633e-7"`` in settingsHeadstages.xml)
HEADSTAGE_GAIN_TO_UV = 0.190734863
#: bytes before the first sample
WHITEMATTER_HEADER_BYTES = 8


class WhiteMatterRecordingExtractor(BinaryRecordingExtractor):
    """A WhiteMatter (eMouse / HS64 head-stage) raw file: int16, time axis first, 8-byte header.

    WhiteMatter publishes no specification of the file: the layout is SpikeInterface 0.105's
    (one example file). Give the gain of your hardware from its settings XML (``voltsperbit`` ×
    1e6); the default is the head-stage's. Analog-panel files have another (e.g. 305.17578125).

    Parameters
    ----------
    file_path : str or Path
    sampling_frequency : float
    num_channels : int
    channel_ids : list, optional
        Default ``0..num_channels-1``.
    is_filtered : bool, optional
    gain_to_uV : float, optional
        µV per count (default :data:`HEADSTAGE_GAIN_TO_UV`).
    """

    def __init__(self, file_path: str | Path, sampling_frequency: float, num_channels: int,
                 channel_ids: Sequence | None = None, is_filtered: bool | None = None,
                 gain_to_uV: float | None = None) -> None:
        gain = HEADSTAGE_GAIN_TO_UV if gain_to_uV is None else gain_to_uV
        super().__init__([file_path], sampling_frequency, "int16", num_channels=num_channels,
                         channel_ids=channel_ids, time_axis=0, file_offset=WHITEMATTER_HEADER_BYTES,
                         gain_to_uV=gain, offset_to_uV=0.0, is_filtered=is_filtered)
        self._kwargs = {"file_path": str(Path(file_path).absolute()), "sampling_frequency": float(sampling_frequency),
                        "num_channels": int(num_channels), "channel_ids": channel_ids, "is_filtered": is_filtered,
                        "gain_to_uV": gain}


def read_whitematter(file_path: str | Path, sampling_frequency: float, num_channels: int,
                     channel_ids: Sequence | None = None, is_filtered: bool | None = None,
                     gain_to_uV: float | None = None) -> WhiteMatterRecordingExtractor:
    """Open a WhiteMatter raw file (see :class:`WhiteMatterRecordingExtractor`).

    Parameters
    ----------
    file_path, sampling_frequency, num_channels, channel_ids, is_filtered, gain_to_uV
        As :class:`WhiteMatterRecordingExtractor`.

    Returns
    -------
    WhiteMatterRecordingExtractor
    """
    return WhiteMatterRecordingExtractor(file_path, sampling_frequency, num_channels, channel_ids=channel_ids,
                                         is_filtered=is_filtered, gain_to_uV=gain_to_uV)


__all__ = ["WhiteMatterRecordingExtractor", "read_whitematter", "HEADSTAGE_GAIN_TO_UV"]
