"""BinaryRecordingExtractor: traces in raw binary files, read by offset with ``os.preadv``."""
from __future__ import annotations

import mmap
import os
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np

from .errors import CorruptFolderError
from .recording import BaseRecording, BaseRecordingSegment

#: bytes asked of one ``preadv`` call (Linux caps a single read near 2 GiB)
_MAX_READ = 1 << 30


def pread_into(fd: int, buffer: memoryview, offset: int, file_path: str | Path = "") -> None:
    """Fill ``buffer`` from ``fd`` at byte ``offset`` (loops over short reads).

    Raises
    ------
    CorruptFolderError
        When the file ends before the buffer is full.
    """
    view = buffer.cast("B") if buffer.format != "B" else buffer
    done, total = 0, view.nbytes
    while done < total:
        want = min(total - done, _MAX_READ)
        if hasattr(os, "preadv"):
            n = os.preadv(fd, [view[done:done + want]], offset + done)
        else:  # pragma: no cover - non-Linux fallback
            data = os.pread(fd, want, offset + done)
            n = len(data)
            view[done:done + n] = data
        if n == 0:
            raise CorruptFolderError(
                f"file {str(file_path)!r} ended at byte {offset + done}, {total - done} bytes short of the "
                f"requested range: the file is truncated"
            )
        done += n


def pwrite_all(fd: int, data: memoryview, offset: int) -> None:
    """Write all of ``data`` to ``fd`` at byte ``offset`` with ``os.pwrite`` (loops over short writes)."""
    view = data.cast("B") if data.format != "B" else data
    done, total = 0, view.nbytes
    while done < total:
        n = os.pwrite(fd, view[done:min(total, done + _MAX_READ)], offset + done)
        if n <= 0:
            raise OSError(f"os.pwrite wrote {n} bytes at offset {offset + done}")
        done += n


class BinaryRecordingSegment(BaseRecordingSegment):
    """One raw binary file (or a region of it) holding one segment.

    Parameters
    ----------
    file_path : str or Path
    sampling_frequency : float
    t_start : float or None
    num_channels : int
    dtype : numpy dtype
    time_axis : {0, 1}
        0: samples are rows (channels interleaved, the usual layout); 1: one channel after the other.
    file_offset : int
        Bytes to skip at the start of the file (a header).
    file_timestamps_path : str or Path, optional
        A file of float64 times, one per sample (SpikeInterface's argument); read into ``time_vector``.
    time_vector : np.ndarray, optional
    """

    def __init__(self, file_path, sampling_frequency: float, t_start: float | None, num_channels: int, dtype,
                 time_axis: int = 0, file_offset: int = 0, file_timestamps_path=None,
                 time_vector: np.ndarray | None = None) -> None:
        if file_timestamps_path is not None:
            if time_vector is not None:
                raise TypeError("give file_timestamps_path or time_vector, not both")
            time_vector = np.fromfile(file_timestamps_path, dtype="float64")
        super().__init__(sampling_frequency=sampling_frequency, t_start=None if time_vector is not None else t_start,
                         time_vector=time_vector)
        self.file_path = Path(file_path)
        self.num_channels = int(num_channels)
        self.dtype = np.dtype(dtype)
        self.time_axis = int(time_axis)
        self.file_offset = int(file_offset)
        self.bytes_per_frame = self.num_channels * self.dtype.itemsize
        if not self.file_path.is_file():
            raise CorruptFolderError(f"binary file {str(self.file_path)!r} does not exist")
        st = self.file_path.stat()
        size = st.st_size
        # the file this segment's metadata describes: a file replaced or truncated later is detected
        self._identity = (st.st_dev, st.st_ino, size)
        data_bytes = size - self.file_offset
        if data_bytes < 0:
            raise CorruptFolderError(
                f"binary file {str(self.file_path)!r} has {size} bytes, less than file_offset={self.file_offset}"
            )
        self.num_samples = data_bytes // self.bytes_per_frame
        self.trailing_bytes = data_bytes % self.bytes_per_frame
        if time_vector is not None and len(time_vector) != self.num_samples:
            raise CorruptFolderError(
                f"binary file {str(self.file_path)!r} holds {self.num_samples} samples but its time vector has "
                f"{len(time_vector)}"
            )
        self._fd: int | None = None
        self._fd_pid: int | None = None

    def _file(self) -> int:
        pid = os.getpid()
        if self._fd is None or self._fd_pid != pid:
            fd = os.open(self.file_path, os.O_RDONLY)
            try:
                self._check_identity(os.fstat(fd))
            except BaseException:
                os.close(fd)
                raise
            self._fd = fd
            self._fd_pid = pid
        return self._fd

    def _check_identity(self, st) -> None:
        dev, ino, size = self._identity
        if (st.st_dev, st.st_ino) != (dev, ino):
            raise CorruptFolderError(
                f"binary file {str(self.file_path)!r} was replaced after the recording was opened (another file is "
                f"now at that path): its metadata no longer describes it. Load the recording (folder) again")
        if st.st_size < size:
            raise CorruptFolderError(
                f"binary file {str(self.file_path)!r} shrank from {size} to {st.st_size} bytes after the recording "
                f"was opened. Load the recording (folder) again")

    def check_file_unchanged(self) -> None:
        """Raise :class:`CorruptFolderError` when the file was replaced or truncated since this segment was opened."""
        try:
            st = os.stat(self.file_path)
        except FileNotFoundError:
            raise CorruptFolderError(f"binary file {str(self.file_path)!r} was removed after the recording was "
                                     f"opened") from None
        self._check_identity(st)

    def __del__(self) -> None:
        fd = getattr(self, "_fd", None)
        if fd is not None and getattr(self, "_fd_pid", None) == os.getpid():
            try:
                os.close(fd)
            except OSError:
                pass

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_fd"] = None
        state["_fd_pid"] = None
        return state

    def get_num_samples(self) -> int:
        return int(self.num_samples)

    def get_traces(self, start_frame: int, end_frame: int, channel_indices) -> np.ndarray:
        traces = self._read(start_frame, end_frame, channel_indices)
        if not self.dtype.isnative:  # a file in the other byte order: returned in this machine's order
            traces = traces.astype(self.dtype.newbyteorder("="))
        return traces

    def get_traces_view(self, start_frame: int, end_frame: int) -> np.ndarray | None:
        """Frames [start_frame, end_frame) of every channel as a read-only array mapped from the file:
        nothing is read until an element is used, so code that looks at a few frames of a chunk (the
        node pipeline around spikes) reads only their pages. None for a layout that needs a copy
        (channels one after the other, the other byte order).

        Parameters
        ----------
        start_frame, end_frame : int
            Inside the segment.

        Returns
        -------
        np.ndarray or None
            ``(end_frame - start_frame, num_channels)``.
        """
        if self.time_axis != 0 or not self.dtype.isnative or not 0 <= start_frame < end_frame <= self.num_samples:
            return None
        fd = self._file()
        begin = self.file_offset + start_frame * self.bytes_per_frame
        length = (end_frame - start_frame) * self.bytes_per_frame
        self._check_identity(os.fstat(fd))  # a file cut short under a mapping would crash the reader, not raise
        aligned = begin - begin % mmap.ALLOCATIONGRANULARITY
        mapped = mmap.mmap(fd, length + begin - aligned, offset=aligned, access=mmap.ACCESS_READ)
        count = (end_frame - start_frame) * self.num_channels
        frames = np.frombuffer(mapped, dtype=self.dtype, count=count, offset=begin - aligned)
        return frames.reshape(-1, self.num_channels)

    def _read(self, start_frame: int, end_frame: int, channel_indices) -> np.ndarray:
        n = end_frame - start_frame
        fd = self._file()
        if self.time_axis == 0:
            out = np.empty((n, self.num_channels), dtype=self.dtype)
            if n:
                pread_into(fd, memoryview(out).cast("B"), self.file_offset + start_frame * self.bytes_per_frame,
                           self.file_path)
        else:
            out = np.empty((self.num_channels, n), dtype=self.dtype)
            chans = range(self.num_channels)
            if not (isinstance(channel_indices, slice) and channel_indices == slice(None)):
                chans = np.arange(self.num_channels)[channel_indices]
                out = np.empty((len(chans), n), dtype=self.dtype)
            item = self.dtype.itemsize
            for row, ch in enumerate(chans):
                if n:
                    offset = self.file_offset + (int(ch) * self.num_samples + start_frame) * item
                    pread_into(fd, memoryview(out[row]).cast("B"), offset, self.file_path)
            return out.T
        if isinstance(channel_indices, slice) and channel_indices == slice(None):
            return out
        return out[:, channel_indices]


class BinaryRecordingExtractor(BaseRecording):
    """A recording stored in raw binary files (one file per segment).

    Reads use positional reads (``os.preadv``) into fresh arrays: no memory map is kept open
    and nothing is read twice. The keyword arguments are those of SpikeInterface's
    ``BinaryRecordingExtractor``, so dicts written by either library load in the other.

    Parameters
    ----------
    file_paths : str, Path or list of them
        One file per segment.
    sampling_frequency : float
    dtype : numpy dtype
        dtype of the samples in the file.
    num_channels : int
    t_starts : list of float, optional
        Start time (s) of each segment.
    channel_ids : array-like, optional
        Default ``0..num_channels-1``.
    time_axis : {0, 1}
        0 when samples are rows (channels interleaved); 1 when the file holds one channel after the other.
    file_offset : int
        Header bytes to skip in every file.
    gain_to_uV, offset_to_uV : float or array-like, optional
        Scaling to µV (a scalar or one value per channel).
    is_filtered : bool, optional
    file_timestamps_paths : str, Path or list, optional
        float64 raw files with the time (s) of every sample, one per segment (SpikeInterface >= 0.105).
    """

    def __init__(self, file_paths, sampling_frequency: float, dtype, num_channels: int | None = None,
                 t_starts: Sequence[float | None] | None = None, channel_ids: Sequence | None = None,
                 time_axis: int = 0, file_offset: int = 0, gain_to_uV=None, offset_to_uV=None,
                 is_filtered: bool | None = None, file_timestamps_paths=None, num_chan: int | None = None) -> None:
        if isinstance(dtype, (int, np.integer)) and not isinstance(dtype, bool) and num_channels is not None \
                and not isinstance(num_channels, (int, np.integer)):
            # SpikeInterface 0.9x's positional order: (file_paths, sampling_frequency, num_chan, dtype)
            warnings.warn("BinaryRecordingExtractor(file_paths, sampling_frequency, num_chan, dtype) is the order of "
                          "SpikeInterface < 0.100: today's is (file_paths, sampling_frequency, dtype, num_channels)",
                          FutureWarning, stacklevel=2)
            dtype, num_channels = num_channels, dtype
        if num_channels is None:
            num_channels = num_chan
        if num_channels is None:
            raise TypeError("BinaryRecordingExtractor needs num_channels (the number of channels in the file)")
        if isinstance(num_channels, bool) or not isinstance(num_channels, (int, np.integer)) or num_channels < 1:
            raise ValueError(f"num_channels={num_channels!r}: give an int >= 1")
        if time_axis not in (0, 1):
            raise ValueError(f"time_axis={time_axis!r}: allowed values are 0 (samples are rows) and 1")
        if isinstance(file_offset, bool) or not isinstance(file_offset, (int, np.integer)) or file_offset < 0:
            raise ValueError(f"file_offset={file_offset!r}: give a number of bytes >= 0")
        try:
            dtype = np.dtype(dtype)
        except TypeError as err:
            raise TypeError(f"dtype={dtype!r} is not a numpy dtype ({err})") from None
        if dtype.kind not in "iuf" or dtype.names is not None:
            raise ValueError(f"dtype={dtype}: allowed are integer and float dtypes")
        if channel_ids is None:
            channel_ids = np.arange(num_channels)
        if len(channel_ids) != num_channels:
            raise ValueError(f"channel_ids has {len(channel_ids)} ids but num_channels={num_channels}")
        file_path_list = [Path(p) for p in file_paths] if isinstance(file_paths, (list, tuple)) else [Path(file_paths)]
        if not file_path_list:
            raise ValueError("file_paths is empty: give one file per segment")
        if t_starts is not None and len(t_starts) != len(file_path_list):
            raise ValueError(f"t_starts has {len(t_starts)} values for {len(file_path_list)} files")
        if file_timestamps_paths is not None and not isinstance(file_timestamps_paths, (list, tuple)):
            file_timestamps_paths = [file_timestamps_paths]
        if file_timestamps_paths is not None and len(file_timestamps_paths) != len(file_path_list):
            raise ValueError(f"file_timestamps_paths has {len(file_timestamps_paths)} files for "
                             f"{len(file_path_list)} segments")
        # traces are returned in this machine's byte order, whatever the file's
        super().__init__(sampling_frequency, channel_ids, dtype.newbyteorder("="))
        for i, file_path in enumerate(file_path_list):
            t_start = None if t_starts is None or t_starts[i] is None else float(t_starts[i])
            time_vector = None
            if file_timestamps_paths is not None and file_timestamps_paths[i] is not None:
                time_vector = np.fromfile(file_timestamps_paths[i], dtype="float64")
            segment = BinaryRecordingSegment(file_path, self.sampling_frequency, t_start, int(num_channels), dtype,
                                             time_axis, int(file_offset), time_vector=time_vector)
            if segment.trailing_bytes:
                warnings.warn(f"binary file {str(file_path)!r}: {segment.trailing_bytes} bytes after the last "
                              f"complete frame are ignored (file size is not a multiple of "
                              f"{segment.bytes_per_frame} bytes per frame)", stacklevel=2)
            self.add_segment(segment)
        if gain_to_uV is not None:
            self.set_channel_gains(gain_to_uV)
        if offset_to_uV is not None:
            self.set_channel_offsets(offset_to_uV)
        if is_filtered is not None:
            self.annotate(is_filtered=bool(is_filtered))
        self._bin_kwargs = {"file_paths": [str(p.absolute()) for p in file_path_list], "dtype": dtype,
                            "num_channels": int(num_channels), "time_axis": int(time_axis),
                            "file_offset": int(file_offset)}
        self._kwargs = {
            "file_paths": [str(p.absolute()) for p in file_path_list],
            "sampling_frequency": float(sampling_frequency),
            "t_starts": None if t_starts is None else [None if t is None else float(t) for t in t_starts],
            "num_channels": int(num_channels),
            "dtype": dtype.str,
            "channel_ids": channel_ids,
            "time_axis": int(time_axis),
            "file_offset": int(file_offset),
            "gain_to_uV": gain_to_uV,
            "offset_to_uV": offset_to_uV,
            "is_filtered": is_filtered,
            "file_timestamps_paths": None if file_timestamps_paths is None
            else [None if p is None else str(Path(p).absolute()) for p in file_timestamps_paths],
        }

    @staticmethod
    def write_recording(recording: BaseRecording, file_paths, dtype=None, **job_kwargs) -> None:
        """Write the traces of ``recording`` to raw binary files, one per segment (time axis first).

        Parameters
        ----------
        recording : BaseRecording
        file_paths : str, Path or list
            One file per segment.
        dtype : numpy dtype, optional
            Default: the recording's.
        **job_kwargs
        """
        from .saving import write_binary_recording

        write_binary_recording(recording, file_paths=file_paths, dtype=dtype, **job_kwargs)

    def is_binary_compatible(self) -> bool:
        """True when the files can be read by offset into arrays as they are: samples in this
        machine's byte order (a file in the other order is read through ``get_traces``, which swaps)."""
        return np.dtype(self._bin_kwargs["dtype"]).isnative

    def get_binary_description(self) -> dict:
        """``dict(file_paths, dtype, num_channels, time_axis, file_offset)`` for the streaming readers.

        Raises
        ------
        CorruptFolderError
            A file was replaced, removed or truncated since the recording was opened.
        """
        for segment in self._segments:
            segment.check_file_unchanged()
        return dict(self._bin_kwargs)


BinaryRecording = BinaryRecordingExtractor
#: SpikeInterface's older name of the same class
BinDatRecordingExtractor = BinaryRecordingExtractor


def read_binary(file_paths, sampling_frequency: float, dtype, num_channels: int | None = None,
                t_starts: Sequence[float] | None = None, channel_ids: Sequence | None = None, time_axis: int = 0,
                file_offset: int = 0, gain_to_uV=None, offset_to_uV=None, is_filtered: bool | None = None,
                file_timestamps_paths=None, num_chan: int | None = None) -> BinaryRecordingExtractor:
    """Open raw binary files as a recording (see :class:`BinaryRecordingExtractor`).

    Parameters
    ----------
    file_paths : str, Path or list
        One file per segment.
    sampling_frequency : float
    dtype : numpy dtype
    num_channels : int
    t_starts : list of float, optional
    channel_ids : array-like, optional
    time_axis : {0, 1}
    file_offset : int
    gain_to_uV, offset_to_uV : float or array-like, optional
    is_filtered : bool, optional
    file_timestamps_paths : str, Path or list, optional
        One file of float64 times per segment (or None for a segment without).
    num_chan : int, optional
        SpikeInterface 0.9x's name of ``num_channels``.

    Returns
    -------
    BinaryRecordingExtractor
    """
    return BinaryRecordingExtractor(file_paths=file_paths, sampling_frequency=sampling_frequency, dtype=dtype,
                                    num_channels=num_channels, t_starts=t_starts, channel_ids=channel_ids,
                                    time_axis=time_axis, file_offset=file_offset, gain_to_uV=gain_to_uV,
                                    offset_to_uV=offset_to_uV, is_filtered=is_filtered,
                                    file_timestamps_paths=file_timestamps_paths, num_chan=num_chan)
