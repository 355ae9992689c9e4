"""Recordings whose headers neo parses and whose samples are plain binary files.

neo's rawio gives the streams, channels, gains and, for every segment, the raw buffer (file,
dtype, byte offset, frame shape) through ``get_analogsignal_buffer_description``. The samples
are then read by gpuspike's own binary segment (``os.preadv``, no memmap), and the recording is
*binary compatible*: the GPU streaming path reads the files directly.
"""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ..core.binaryrecording import BinaryRecordingSegment
from ..core.recording import BaseRecording

#: factors from neo's voltage units to µV (any other unit: 1.0, as SpikeInterface does)
_UNIT_TO_UV = {"V": 1e6, "Volt": 1e6, "Volts": 1e6, "mV": 1e3, "uV": 1.0, "µV": 1.0, "μV": 1.0}


class ColumnsBinaryRecordingSegment(BinaryRecordingSegment):
    """A binary segment exposing some columns (``columns``) of the frames of its file.

    A file holding more channels than the recording (e.g. SpikeGLX's AP channels plus the sync
    channel) is read by whole frames, and the recording's channel k is column ``columns[k]``.
    """

    def __init__(self, file_path, sampling_frequency: float, t_start: float | None, num_channels: int, dtype,
                 file_offset: int, columns: np.ndarray | None) -> None:
        super().__init__(file_path, sampling_frequency, t_start, num_channels, dtype, time_axis=0,
                         file_offset=file_offset)
        if self.trailing_bytes:
            raise ValueError(
                f"binary file {str(self.file_path)!r} has {self.file_path.stat().st_size} bytes, not a whole "
                f"number of frames of {num_channels} channels x {self.dtype.itemsize} bytes "
                f"({self.trailing_bytes} bytes left over after file_offset={file_offset}): truncated or "
                f"written with another channel count"
            )
        self.columns = None if columns is None else np.asarray(columns, dtype="int64")

    def get_traces(self, start_frame: int, end_frame: int, channel_indices) -> np.ndarray:
        if self.columns is None:
            return super().get_traces(start_frame, end_frame, channel_indices)
        return super().get_traces(start_frame, end_frame, self.columns[channel_indices])


def open_neo_folder(rawio_name: str, folder_path: str | Path, check_folder: Callable[[Path], None],
                    **neo_kwargs):
    """Check ``folder_path`` and parse its header with ``neo.rawio.<rawio_name>``.

    neo's warnings about the files (a meta without ``firstSample``, a stream folder that the
    ``structure.oebin`` names but that is missing, ...) reach the caller unchanged.

    Returns
    -------
    folder : Path
        The absolute folder.
    io : neo rawio object
        With its header parsed.
    """
    import neo

    folder = Path(folder_path).absolute()
    if not folder.is_dir():
        raise FileNotFoundError(f"folder_path={str(folder)!r} is not a folder")
    check_folder(folder)
    io = getattr(neo.rawio, rawio_name)(dirname=str(folder), **neo_kwargs)
    try:
        io.parse_header()
    except Exception as err:
        raise ValueError(f"{folder}: neo's {rawio_name} cannot parse this folder: {err}") from err
    return folder, io


def is_sync_stream(stream_id: str) -> bool:
    """A stream holding only sync channels (SpikeGLX ``imec0.ap-SYNC``, Open Ephys ``...ProbeA-APSYNC``).

    Parameters
    ----------
    stream_id : str
        neo's stream id.

    Returns
    -------
    bool
    """
    return "SYNC" in str(stream_id)


def choose_stream(stream_ids: Sequence[str], stream_names: Sequence[str], stream_id: str | None,
                  stream_name: str | None, folder, unavailable: dict[str, Exception] | None = None) -> int:
    """Index of the stream asked for (by id or name); the only non-sync stream when none is asked.

    Parameters
    ----------
    stream_ids, stream_names : sequences of str
        neo's streams.
    stream_id, stream_name : str or None
        What the user asked for (at most one).
    folder : Path
        For the error messages.
    unavailable : dict, optional
        Names of streams that the headers announce but whose data is missing, mapped to the
        error to raise when one of them is asked for.

    Returns
    -------
    int
        Index into ``stream_ids``.
    """
    stream_ids = [str(s) for s in stream_ids]
    stream_names = [str(s) for s in stream_names]
    unavailable = unavailable or {}
    if stream_id is not None and stream_name is not None:
        raise ValueError(f"give stream_id or stream_name, not both (got stream_id={stream_id!r}, "
                         f"stream_name={stream_name!r})")
    for asked in (stream_id, stream_name):
        if asked is not None and str(asked) not in stream_ids + stream_names and str(asked) in unavailable:
            raise unavailable[str(asked)]
    if stream_id is not None:
        if str(stream_id) not in stream_ids:
            raise ValueError(f"stream_id={stream_id!r} is not in {folder}; available stream ids: {stream_ids} "
                             f"(names: {stream_names})")
        return stream_ids.index(str(stream_id))
    if stream_name is not None:
        if str(stream_name) not in stream_names:
            raise ValueError(f"stream_name={stream_name!r} is not in {folder}; available stream names: "
                             f"{stream_names}")
        return stream_names.index(str(stream_name))
    candidates = [i for i, s in enumerate(stream_ids) if not is_sync_stream(s)]
    if len(candidates) != 1:
        if not candidates and unavailable:
            raise next(iter(unavailable.values()))
        raise ValueError(f"{folder} holds several streams: choose one with stream_id= among {stream_ids} "
                         f"(names: {stream_names})")
    return candidates[0]


class NeoBinaryRecording(BaseRecording):
    """Base of the neo-parsed, binary-backed readers (SpikeGLX, Open Ephys binary).

    Subclasses parse the header with neo, then call :meth:`_build` with the parsed rawio object.
    """

    def _build(self, io, stream_index: int, extra_stream_indices: Sequence[int] = (), block_index: int = 0,
               use_names_as_ids: bool = False, all_annotations: bool = False) -> None:
        """Channels, gains and segments of neo's stream ``stream_index`` (plus ``extra_stream_indices``
        of the same buffer, e.g. the sync channel), with SpikeInterface's channel properties:
        ``gain_to_uV`` / ``offset_to_uV`` (float64), ``physical_unit``, ``gain_to_physical_unit``,
        ``offset_to_physical_unit`` and ``channel_name`` (unless the names are the ids)."""
        header = io.header
        streams = header["signal_streams"]
        channels = header["signal_channels"]
        stream_ids = [streams["id"][stream_index]] + [streams["id"][i] for i in extra_stream_indices]
        buffer_id = streams["buffer_id"][stream_index]
        for sid in stream_ids[1:]:
            if streams["buffer_id"][list(streams["id"]).index(sid)] != buffer_id:
                raise ValueError(f"streams {stream_ids} are not in one binary buffer")
        in_buffer = np.flatnonzero(channels["buffer_id"] == buffer_id)
        buffer_channels = channels[in_buffer]
        columns = np.concatenate([np.flatnonzero(buffer_channels["stream_id"] == sid) for sid in stream_ids])
        if columns.size == 0:
            raise ValueError(f"stream {str(stream_ids[0])!r} has no channels")
        chans = buffer_channels[columns]
        self._buffer_channels = buffer_channels
        fs = float(chans["sampling_rate"][0])
        dtype = np.dtype(chans["dtype"][0])
        if np.any(chans["dtype"] != chans["dtype"][0]):
            raise ValueError(f"stream {stream_ids[0]!r}: channels of mixed dtypes are not supported")
        names = np.array([str(c) for c in chans["name"]])
        self._neo_channel_names = names
        if use_names_as_ids:
            if np.unique(names).size != names.size:
                raise ValueError(f"use_names_as_ids=True but the channel names of stream {stream_ids[0]!r} are not "
                                 f"unique; use the default ids")
            channel_ids = names
        else:
            channel_ids = np.array([str(c) for c in chans["id"]])
        BaseRecording.__init__(self, fs, channel_ids, dtype)

        num_segments = io.segment_count(block_index)
        all_columns = None
        descriptions = []
        for seg in range(num_segments):
            desc = io.get_analogsignal_buffer_description(block_index=block_index, seg_index=seg,
                                                          buffer_id=buffer_id)
            if desc.get("type") != "raw" or desc.get("order", "C") != "C" or len(desc["shape"]) != 2:
                raise ValueError(f"stream {stream_ids[0]!r}: neo describes its buffer as {desc}, not a raw "
                                 f"interleaved binary file")
            num_columns = int(desc["shape"][1])
            all_columns = None if (len(columns) == num_columns and np.array_equal(columns, np.arange(num_columns))) \
                else columns
            t_start = float(io.get_signal_t_start(block_index, seg, stream_index))
            segment = ColumnsBinaryRecordingSegment(desc["file_path"], fs, t_start, num_columns,
                                                    np.dtype(desc["dtype"]), int(desc["file_offset"]), all_columns)
            self.add_segment(segment)
            descriptions.append((str(Path(desc["file_path"]).absolute()), num_columns, int(desc["file_offset"]),
                                 np.dtype(desc["dtype"])))
        self._binary = descriptions
        self._columns = all_columns
        self._neo_stream_id = str(stream_ids[0])
        # SpikeInterface's attributes of a neo recording
        self.stream_id, self.stream_name = str(stream_ids[0]), str(streams["name"][stream_index])
        self.block_index = int(block_index)
        self._set_physical_units(chans["gain"], chans["offset"], chans["units"])
        if not use_names_as_ids:
            self.set_property("channel_name", names)
        if all_annotations:
            self._annotate_from_neo(io, block_index, stream_index, skip=("channel_ids",) +
                                    (("channel_name",) if use_names_as_ids else ()))

    def _set_physical_units(self, gains, offsets, units) -> None:
        """gain/offset to µV (float64) and to the physical unit neo gives, as SpikeInterface sets them."""
        gains = np.asarray(gains, dtype="float64")
        offsets = np.asarray(offsets, dtype="float64")
        units = np.array([str(u) for u in units])
        factor = np.array([_UNIT_TO_UV.get(u, 1.0) for u in units])
        is_voltage = np.isin(units, list(_UNIT_TO_UV))
        if is_voltage.any() and not is_voltage.all():
            warnings.warn(f"stream {self._neo_stream_id!r} mixes voltage and non-voltage units "
                          f"({sorted(set(units.tolist()))}): check get_property('physical_unit') before using "
                          f"return_scaled=True", UserWarning, stacklevel=3)
        self.set_property("gain_to_uV", gains * factor)
        self.set_property("offset_to_uV", offsets * factor)
        self.set_property("physical_unit", units)
        self.set_property("gain_to_physical_unit", gains)
        self.set_property("offset_to_physical_unit", offsets)

    def _annotate_from_neo(self, io, block_index: int, stream_index: int, skip: Sequence[str]) -> None:
        """neo's annotations of the stream (first segment) as annotations, its array annotations as properties."""
        signal = io.raw_annotations["blocks"][block_index]["segments"][0]["signals"][stream_index]
        for key, value in signal.items():
            if key.startswith("__"):
                continue
            self.annotate(**{"stream_name" if key == "name" else key: value})
        for key, values in signal.get("__array_annotations__", {}).items():
            if key in skip:
                continue
            values = np.asarray(values)
            if values.shape[:1] == (self.get_num_channels(),):
                self.set_property(key, values)

    def get_channel_groups(self, channel_ids: Sequence | None = None) -> np.ndarray | None:
        """The ``group`` property; None when the stream has no probe (a sync, NIDQ or ADC stream), as in
        SpikeInterface."""
        return self.get_property("group", ids=channel_ids)

    def is_binary_compatible(self) -> bool:
        """True when every segment is one file with the same frame layout (the usual case)."""
        if not self._binary:
            return False
        layouts = {(n, off, dt.str) for _, n, off, dt in self._binary}
        return len(layouts) == 1

    def get_binary_description(self) -> dict:
        """``file_paths``, ``dtype``, ``num_channels`` (columns in the file), ``time_axis``, ``file_offset``,
        and ``channel_indices``: the file columns that are this recording's channels, in channel
        order (``None`` when the recording is every column). Readers of the description must
        keep only those columns (``stream_blocks(..., channel_indices=...)``)."""
        if not self.is_binary_compatible():
            raise ValueError(f"{type(self).__name__}: segments have different binary layouts")
        _, num_channels, file_offset, dtype = self._binary[0]
        return {
            "file_paths": [p for p, _, _, _ in self._binary],
            "dtype": dtype.str,
            "num_channels": int(num_channels),
            "time_axis": 0,
            "file_offset": int(file_offset),
            "channel_indices": None if self._columns is None else self._columns.tolist(),
        }
