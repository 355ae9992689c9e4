"""Readers: fill a caller-provided buffer with the frames of a :class:`ReadBlock`.

Three implementations share one small interface (:class:`BaseReader`):

* :class:`PreadReader` -- positional reads (``os.preadv``) of a raw binary file straight into
  the buffer: no memmap, no page-cache copy into a temporary, thread safe (no shared offset).
* :class:`KvikioReader` -- ``kvikio.CuFile.pread`` into device or (pinned) host buffers; uses
  GPUDirect Storage when the system has it, kvikio's POSIX compat mode otherwise.
* :class:`TracesReader` -- any recording: ``get_traces(return_scaled=False)`` copied into the
  buffer, so lazy views and generated recordings stream too.

Each reader counts the bytes it read (``bytes_read``). :func:`make_reader` picks one.
"""
from __future__ import annotations

import abc
import os
import threading
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .planner import ReadBlock

__all__ = [
    "BaseReader",
    "PreadReader",
    "MappedReader",
    "KvikioReader",
    "TracesReader",
    "ShortReadError",
    "bytes_read_by_readers",
    "kvikio_available",
    "kvikio_status",
    "make_reader",
    "mapped_reader",
]


_TOTAL_LOCK = threading.Lock()
_TOTAL_READ = [0]


def bytes_read_by_readers() -> int:
    """Bytes that the readers of this process have read, or handed out as views of a mapped
    file, since it started (what a job took from its files; the readers of worker processes
    count in those processes).

    Returns
    -------
    int
    """
    with _TOTAL_LOCK:
        return _TOTAL_READ[0]


class ShortReadError(OSError):
    """A file ended before the frames a plan needs (file truncated or wrong header offset)."""


def kvikio_available() -> bool:
    """True when ``import kvikio`` works and numba's CUDA simulator is off."""
    if os.environ.get("NUMBA_ENABLE_CUDASIM", "0") == "1":
        return False
    try:
        import kvikio  # noqa: F401
    except Exception:
        return False
    return True


def kvikio_status() -> dict:
    """Whether kvikio is installed and would read with GPUDirect Storage (not its compat mode).

    kvikio's compat mode reads with POSIX calls into a bounce buffer: slower than gpuspike's own
    positional reads into pinned memory, so kvikio is used only when GDS is active.

    Returns
    -------
    dict
        ``{"version": str or None, "gds": bool}``.
    """
    if not kvikio_available():
        return {"version": None, "gds": False}
    import kvikio
    import kvikio.defaults as defaults

    version = getattr(kvikio, "__version__", "?")
    try:
        preferred = getattr(defaults, "is_compat_mode_preferred", None)
        if callable(preferred):
            compat = bool(preferred())
        elif hasattr(defaults, "get"):
            mode = defaults.get("compat_mode")
            compat = str(getattr(mode, "name", mode)).upper() != "OFF"
        else:
            compat = bool(defaults.compat_mode())
    except Exception:  # noqa: BLE001 - an unknown kvikio version: assume compat mode
        compat = True
    return {"version": version, "gds": not compat}


class BaseReader(abc.ABC):
    """Common part of the readers: frame geometry, byte counting, block reads.

    Parameters
    ----------
    dtype : numpy dtype-like
        Sample dtype of the source (the dtype of the buffers it fills).
    num_channels : int
        Channels per frame.
    """

    name = "base"
    #: the buffers it fills are device arrays (GPUDirect Storage), not host memory
    writes_device = False

    def __init__(self, dtype: Any, num_channels: int) -> None:
        self.dtype = np.dtype(dtype)
        self.num_channels = int(num_channels)
        if self.num_channels < 1:
            raise ValueError(f"num_channels must be >= 1, got {num_channels!r}")
        self.bytes_per_frame = self.dtype.itemsize * self.num_channels
        self._lock = threading.Lock()
        self._bytes_read = 0
        self._num_reads = 0

    @property
    def bytes_read(self) -> int:
        """Bytes read so far by this reader (all threads)."""
        return self._bytes_read

    @property
    def num_reads(self) -> int:
        """Number of read calls (one per frame range) so far."""
        return self._num_reads

    def _count(self, nbytes: int) -> None:
        with self._lock:
            self._bytes_read += int(nbytes)
            self._num_reads += 1
        with _TOTAL_LOCK:
            _TOTAL_READ[0] += int(nbytes)

    def _check_out(self, out, nframes: int) -> None:
        shape = tuple(out.shape)
        if len(shape) != 2 or shape[1] != self.num_channels or shape[0] < nframes:
            raise ValueError(
                f"out must have shape (>= {nframes}, {self.num_channels}), got {shape}"
            )
        if np.dtype(out.dtype) != self.dtype:
            raise ValueError(f"out must have dtype {self.dtype}, got {out.dtype}")

    @abc.abstractmethod
    def read_range(self, start_frame: int, end_frame: int, out) -> None:
        """Read frames ``[start_frame, end_frame)`` into ``out[: end_frame - start_frame]``.

        Parameters
        ----------
        start_frame, end_frame : int
            Absolute frame range within the segment.
        out : array
            C-contiguous ``(>= n, num_channels)`` buffer of the reader's dtype.
        """

    def byte_phase(self, start_frame: int) -> int:
        """Where frame ``start_frame`` lies in its page of the file (``offset % 4096``): a buffer
        placed at that phase (:func:`~gpuspike.streaming.aligned.phased_empty`) reads fastest.

        Parameters
        ----------
        start_frame : int

        Returns
        -------
        int
            0 for readers that do not copy from a file's pages.
        """
        return 0

    def read_block(self, block: ReadBlock, out):
        """Read every range of ``block`` packed into ``out``; return ``out[:block.num_frames]``.

        Parameters
        ----------
        block : ReadBlock
            The block to read.
        out : array
            Buffer with at least ``block.num_frames`` rows.

        Returns
        -------
        array
            The filled view ``out[:block.num_frames]``.
        """
        n = block.num_frames
        self._check_out(out, n)
        for (a, b), off in zip(block.ranges.tolist(), block.buffer_offsets.tolist()):
            self.read_range(a, b, out[off : off + (b - a)])
        return out[:n]

    def close(self) -> None:
        """Release the reader's resources (idempotent)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):  # pragma: no cover - best effort
        try:
            self.close()
        except Exception:
            pass


class PreadReader(BaseReader):
    """Positional reads of a raw binary file (frames x channels, C order) into host buffers.

    Parameters
    ----------
    file_path : str or Path
        The raw binary file.
    dtype : numpy dtype-like
        Sample dtype in the file.
    num_channels : int
        Channels per frame.
    file_offset : int
        Header size in bytes (where frame 0 starts).
    time_axis : int
        Must be 0 (frames are rows); ``ValueError`` otherwise.
    num_samples : int or None
        When given, the file size is checked now and a short file raises
        :class:`ShortReadError` at construction rather than mid-stream.
    """

    name = "pread"

    def __init__(
        self,
        file_path: str | os.PathLike,
        dtype: Any,
        num_channels: int,
        file_offset: int = 0,
        time_axis: int = 0,
        num_samples: int | None = None,
    ) -> None:
        super().__init__(dtype, num_channels)
        if time_axis != 0:
            raise ValueError(
                f"time_axis must be 0 (frames x channels, C order) for PreadReader, got "
                f"{time_axis!r}; use TracesReader for other layouts"
            )
        if int(file_offset) < 0:
            raise ValueError(f"file_offset must be >= 0, got {file_offset!r}")
        self.file_path = Path(file_path)
        self.file_offset = int(file_offset)
        self._fd: int | None = None
        self._fobj = None
        flags = os.O_RDONLY | getattr(os, "O_BINARY", 0)
        self._fd = os.open(self.file_path, flags)
        self.file_size = os.fstat(self._fd).st_size
        if hasattr(os, "posix_fadvise"):
            try:
                os.posix_fadvise(self._fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)
            except OSError:  # pragma: no cover
                pass
        if not hasattr(os, "preadv"):  # pragma: no cover - Windows / macOS < 11
            self._fobj = os.fdopen(self._fd, "rb", buffering=0, closefd=False)
        if num_samples is not None:
            needed = self.file_offset + int(num_samples) * self.bytes_per_frame
            if self.file_size < needed:
                raise ShortReadError(
                    f"file {str(self.file_path)!r} is truncated: {num_samples} frames of "
                    f"{self.bytes_per_frame} bytes after a {self.file_offset}-byte header need "
                    f"{needed} bytes, the file has {self.file_size}"
                )

    def byte_phase(self, start_frame: int) -> int:
        from .aligned import PAGE

        return (self.file_offset + int(start_frame) * self.bytes_per_frame) % PAGE

    def _short(self, start_frame: int, end_frame: int, offset: int, nbytes: int, got: int):
        return ShortReadError(
            f"short read from {str(self.file_path)!r}: frames [{start_frame}, {end_frame}) are "
            f"bytes [{offset}, {offset + nbytes}) (file_offset={self.file_offset}), but only "
            f"{got} bytes could be read (file size {os.fstat(self._fd).st_size}); "
            "the file is truncated or dtype/num_channels/file_offset are wrong"
        )

    def read_range(self, start_frame: int, end_frame: int, out) -> None:
        n = int(end_frame) - int(start_frame)
        if n <= 0:
            return
        if self._fd is None:
            raise ValueError(f"reader for {str(self.file_path)!r} is closed")
        self._check_out(out, n)
        dst = out[:n]
        if not dst.flags.c_contiguous:
            raise ValueError("out must be C-contiguous")
        mv = memoryview(dst).cast("B")
        nbytes = n * self.bytes_per_frame
        offset = self.file_offset + int(start_frame) * self.bytes_per_frame
        total = 0
        while total < nbytes:
            if self._fobj is None:
                got = os.preadv(self._fd, [mv[total:]], offset + total)
            else:  # pragma: no cover
                with self._lock:
                    self._fobj.seek(offset + total)
                    got = self._fobj.readinto(mv[total:]) or 0
            if got <= 0:
                raise self._short(start_frame, end_frame, offset, nbytes, total)
            total += got
        self._count(total)

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if self._fobj is not None:
            self._fobj.close()
            self._fobj = None
        if fd is not None:
            os.close(fd)

    def __repr__(self) -> str:
        return (
            f"PreadReader({str(self.file_path)!r}, dtype={self.dtype}, "
            f"num_channels={self.num_channels}, file_offset={self.file_offset})"
        )


READ_AHEAD_GAP_BYTES = 1 << 20


def coalesce_ranges(ranges: np.ndarray, max_gap: int) -> list[tuple[int, int]]:
    """``(k, 2)`` ranges sorted, then merged where the gap to the next is at most ``max_gap``.

    Parameters
    ----------
    ranges : np.ndarray
        ``(k, 2)`` int64 ``[start, end)`` pairs (in any order; they may overlap).
    max_gap : int
        Largest gap bridged.

    Returns
    -------
    list of tuple
        Merged ``(start, end)`` pairs, in order.
    """
    ranges = np.asarray(ranges, dtype="int64").reshape(-1, 2)
    if ranges.shape[0] == 0:
        return []
    if np.any(ranges[1:, 0] < ranges[:-1, 0]):
        ranges = ranges[np.argsort(ranges[:, 0], kind="stable")]
    ends = np.maximum.accumulate(ranges[:, 1])
    breaks = np.flatnonzero(ranges[1:, 0] - ends[:-1] > max_gap) + 1
    firsts = np.concatenate(([0], breaks))
    lasts = np.concatenate((breaks - 1, [ranges.shape[0] - 1]))
    return list(zip(ranges[firsts, 0].tolist(), ends[lasts].tolist()))


class MappedReader(PreadReader):
    """A raw binary file mapped read-only: blocks are views of the page cache, not copies.

    The CPU engine hands these views to the jobs (no read into a buffer: a ``pread`` from the
    page cache costs a copy of every byte); before a range is handed out, the kernel is asked to
    read it ahead (``MADV_WILLNEED``), so a file that is not cached is read in large requests.
    :meth:`read_range` still copies (the :class:`BaseReader` contract), with ``pread``.

    Parameters
    ----------
    file_path, dtype, num_channels, file_offset, time_axis, num_samples
        As :class:`PreadReader`.
    """

    name = "mmap"

    def __init__(self, file_path: str | os.PathLike, dtype: Any, num_channels: int, file_offset: int = 0,
                 time_axis: int = 0, num_samples: int | None = None) -> None:
        import mmap

        super().__init__(file_path, dtype, num_channels, file_offset, time_axis, num_samples)
        self._map = None
        frames = (self.file_size - self.file_offset) // self.bytes_per_frame
        if num_samples is not None:
            frames = min(frames, int(num_samples))
        if frames <= 0:
            raise ValueError(f"{str(self.file_path)!r} holds no whole frame after {self.file_offset} bytes: "
                             "nothing to map (use PreadReader)")
        self._map = mmap.mmap(self._fd, 0, access=mmap.ACCESS_READ)
        self._frames = np.frombuffer(self._map, dtype=self.dtype, count=frames * self.num_channels,
                                     offset=self.file_offset).reshape(frames, self.num_channels)
        self._page = mmap.PAGESIZE

    def frames(self, start_frame: int, end_frame: int, ranges=None) -> np.ndarray:
        """Read-only view of frames ``[start_frame, end_frame)``, read ahead by the kernel.

        Parameters
        ----------
        start_frame, end_frame : int
            Absolute frame range within the segment.
        ranges : array-like, optional
            ``(k, 2)`` frame ranges inside it that the caller will use: only those are read ahead
            and counted in :attr:`bytes_read` (default: the whole range).

        Returns
        -------
        np.ndarray
            ``(end_frame - start_frame, num_channels)``, valid while the reader is open.
        """
        start_frame, end_frame = int(start_frame), int(end_frame)
        if not 0 <= start_frame <= end_frame <= self._frames.shape[0]:
            raise ValueError(f"frames [{start_frame}, {end_frame}) are outside [0, {self._frames.shape[0]}) of "
                             f"{str(self.file_path)!r}")
        if ranges is None:
            self.advise(start_frame, end_frame)
            self._count((end_frame - start_frame) * self.bytes_per_frame)
            return self._frames[start_frame:end_frame]
        used = np.asarray(ranges, dtype="int64").reshape(-1, 2)
        self._count(int(np.sum(used[:, 1] - used[:, 0])) * self.bytes_per_frame)
        for a, b in coalesce_ranges(used, self._advise_gap_frames()):
            self.advise(a, b)
        return self._frames[start_frame:end_frame]

    def _advise_gap_frames(self) -> int:
        # ranges closer than this are read ahead in one request: reading a small gap costs less
        # than a system call per spike window (thousands per block)
        return max(1, READ_AHEAD_GAP_BYTES // self.bytes_per_frame)

    def advise(self, start_frame: int, end_frame: int) -> None:
        """Ask the kernel to read frames ``[start_frame, end_frame)`` ahead (no-op where unsupported).

        Parameters
        ----------
        start_frame, end_frame : int
        """
        import mmap

        if end_frame <= start_frame or not hasattr(mmap, "MADV_WILLNEED"):
            return
        begin = self.file_offset + start_frame * self.bytes_per_frame
        end = self.file_offset + end_frame * self.bytes_per_frame
        aligned = begin - begin % self._page
        self._map.madvise(mmap.MADV_WILLNEED, aligned, end - aligned)

    def close(self) -> None:
        # views handed out keep the mapping alive (numpy holds the buffer); it is unmapped when
        # the last of them goes
        self._frames = None
        self._map = None
        super().close()

    def __repr__(self) -> str:
        return f"MappedReader({str(self.file_path)!r}, dtype={self.dtype}, num_channels={self.num_channels})"


class KvikioReader(BaseReader):
    """``kvikio.CuFile.pread`` of a raw binary file straight into device memory (GPUDirect Storage).

    gpuspike uses it only where GDS is active (not kvikio's POSIX compat mode, which is slower
    than its own ``preadv`` into pinned memory): :func:`make_reader` picks it for a device ring
    when :func:`kvikio_status` says so, and the ring then has device slots and no host copy.
    Reads are widened to whole 4 KiB pages of the file (GDS's alignment; the file offset of a
    frame rarely is one) into a page-aligned device staging buffer, then the frames are copied
    device to device into place. kvikio's thread pool is sized to ``num_threads``.

    Parameters
    ----------
    file_path, dtype, num_channels, file_offset, time_axis, num_samples
        As for :class:`PreadReader`.
    num_threads : int
        Threads of kvikio's pool (the ring's reader count is a good value).
    """

    name = "kvikio"
    #: the buffers it fills are device arrays
    writes_device = True
    ALIGN = 4096

    def __init__(
        self,
        file_path: str | os.PathLike,
        dtype: Any,
        num_channels: int,
        file_offset: int = 0,
        time_axis: int = 0,
        num_samples: int | None = None,
        num_threads: int = 4,
    ) -> None:
        super().__init__(dtype, num_channels)
        if time_axis != 0:
            raise ValueError(f"time_axis must be 0 for KvikioReader, got {time_axis!r}")
        try:
            import kvikio
            import kvikio.defaults as kvikio_defaults
        except ImportError as err:  # pragma: no cover - depends on the install
            raise ImportError(
                "KvikioReader needs kvikio: install the GPU extra (`pip install \".[gpu]\"` from the "
                "gpuspike clone); PreadReader works without it"
            ) from err
        self.file_path = Path(file_path)
        self.file_offset = int(file_offset)
        self.file_size = self.file_path.stat().st_size
        if num_samples is not None:
            needed = self.file_offset + int(num_samples) * self.bytes_per_frame
            if self.file_size < needed:
                raise ShortReadError(
                    f"file {str(self.file_path)!r} is truncated: need {needed} bytes, the file "
                    f"has {self.file_size}"
                )
        for setter in ("set", "num_threads_reset"):  # kvikio >= 25: set({...}); older: num_threads_reset(n)
            fn = getattr(kvikio_defaults, setter, None)
            if fn is None:
                continue
            try:
                fn({"num_threads": int(num_threads)}) if setter == "set" else fn(int(num_threads))
                break
            except Exception:  # noqa: BLE001 - an older signature: try the next one
                continue
        self._file = kvikio.CuFile(str(self.file_path), "r")
        self._staging = threading.local()

    def _staging_buffer(self, nbytes: int):
        from numba import cuda

        buf = getattr(self._staging, "buf", None)
        if buf is None or buf.shape[0] < nbytes:
            size = -(-nbytes // self.ALIGN) * self.ALIGN
            buf = self._staging.buf = cuda.device_array(size, dtype=np.uint8)
        return buf

    def read_range(self, start_frame: int, end_frame: int, out) -> None:
        n = int(end_frame) - int(start_frame)
        if n <= 0:
            return
        if self._file is None:
            raise ValueError(f"reader for {str(self.file_path)!r} is closed")
        self._check_out(out, n)
        nbytes = n * self.bytes_per_frame
        offset = self.file_offset + int(start_frame) * self.bytes_per_frame
        first = offset // self.ALIGN * self.ALIGN
        last = min(-(-(offset + nbytes) // self.ALIGN) * self.ALIGN, self.file_size)
        staging = self._staging_buffer(last - first)
        got = int(self._file.pread(staging[:last - first], last - first, first).get())
        if got < offset + nbytes - first:
            raise ShortReadError(
                f"short read from {str(self.file_path)!r}: frames [{start_frame}, {end_frame}) "
                f"are bytes [{offset}, {offset + nbytes}), only {got} bytes from {first} were read "
                f"(file size {self.file_size})"
            )
        dst = out[:n].reshape(-1).view(np.uint8)
        dst.copy_to_device(staging[offset - first:offset - first + nbytes])
        self._count(nbytes)

    def close(self) -> None:
        f, self._file = getattr(self, "_file", None), None
        if f is not None:
            f.close()


class TracesReader(BaseReader):
    """Fallback reader: ``recording.get_traces(..., return_scaled=False)`` copied into ``out``.

    Parameters
    ----------
    recording : recording-like
        Anything with ``get_traces(start_frame=, end_frame=, segment_index=,
        return_scaled=)``, ``get_num_channels()`` and ``get_dtype()``.
    segment_index : int
        Segment to read.
    """

    name = "traces"

    def __init__(self, recording: Any, segment_index: int = 0) -> None:
        super().__init__(recording.get_dtype(), recording.get_num_channels())
        self.recording = recording
        self.segment_index = int(segment_index)

    def _get_traces(self, start_frame: int, end_frame: int) -> np.ndarray:
        rec = self.recording
        try:
            return rec.get_traces(
                start_frame=start_frame,
                end_frame=end_frame,
                segment_index=self.segment_index,
                return_scaled=False,
            )
        except TypeError as err:  # SpikeInterface >= 0.103 renamed the flag
            if "return_scaled" not in str(err):
                raise
            return rec.get_traces(
                start_frame=start_frame,
                end_frame=end_frame,
                segment_index=self.segment_index,
                return_in_uV=False,
            )

    def read_range(self, start_frame: int, end_frame: int, out) -> None:
        n = int(end_frame) - int(start_frame)
        if n <= 0:
            return
        self._check_out(out, n)
        traces = np.asarray(self._get_traces(int(start_frame), int(end_frame)))
        if traces.shape != (n, self.num_channels):
            raise ValueError(
                f"get_traces(start_frame={start_frame}, end_frame={end_frame}, "
                f"segment_index={self.segment_index}) returned shape {traces.shape}, expected "
                f"{(n, self.num_channels)} (segment shorter than planned?)"
            )
        out[:n] = traces
        self._count(n * self.bytes_per_frame)

    def __repr__(self) -> str:
        return f"TracesReader({type(self.recording).__name__}, segment_index={self.segment_index})"


def make_reader(
    recording: Any,
    segment_index: int = 0,
    prefer: Literal["auto", "pread", "mmap", "kvikio", "traces"] = "auto",
    device: bool = False,
    num_threads: int = 4,
) -> BaseReader:
    """Choose a reader for one segment of a recording.

    A binary-compatible recording (``is_binary_compatible()`` exists and returns True) is read
    from its file, described by ``get_binary_description()`` (keys ``file_paths`` -- one per
    segment --, ``dtype``, ``num_channels``, ``time_axis``, ``file_offset``): with kvikio when
    ``prefer="kvikio"``, or ``"auto"`` for the device with GPUDirect Storage active
    (:func:`kvikio_status`), mapped read-only with ``prefer="mmap"`` (:class:`MappedReader`:
    views instead of copies, for the CPU), else with ``os.preadv``. Everything else (and
    ``prefer="traces"``) goes through :class:`TracesReader`.

    Parameters
    ----------
    recording : recording-like
        The recording.
    segment_index : int
        Segment to read.
    prefer : {"auto", "pread", "mmap", "kvikio", "traces"}
        Reader choice.
    device : bool
        The reads feed a GPU (kvikio is then worth it when GDS reads straight to device memory).
    num_threads : int
        Threads of kvikio's pool, when kvikio is used.

    Returns
    -------
    BaseReader

    Raises
    ------
    ValueError
        Bad ``prefer`` or ``segment_index``, or ``"pread"``/``"kvikio"`` asked of a recording
        that is not binary compatible (or not in time_axis=0 layout).
    """
    if prefer not in ("auto", "pread", "mmap", "kvikio", "traces"):
        raise ValueError(
            f"prefer must be 'auto', 'pread', 'mmap', 'kvikio' or 'traces', got {prefer!r}"
        )
    if isinstance(segment_index, bool) or not isinstance(segment_index, (int, np.integer)):
        raise TypeError(f"segment_index must be an int, got {segment_index!r}")
    nseg = recording.get_num_segments() if hasattr(recording, "get_num_segments") else None
    if segment_index < 0 or (nseg is not None and segment_index >= nseg):
        raise ValueError(
            f"segment_index must be in [0, {nseg}) for this recording, got {segment_index}"
        )
    if prefer == "traces":
        return TracesReader(recording, segment_index)

    binary = False
    check = getattr(recording, "is_binary_compatible", None)
    if callable(check):
        binary = bool(check())
    desc = recording.get_binary_description() if binary else None
    if desc is not None and int(desc.get("time_axis", 0)) != 0:
        desc = None
    if desc is None:
        if prefer in ("pread", "mmap", "kvikio"):
            raise ValueError(
                f"prefer={prefer!r} needs a binary-compatible recording with time_axis=0; "
                f"{type(recording).__name__} is not: use prefer='auto' or 'traces'"
            )
        return TracesReader(recording, segment_index)

    file_paths = desc["file_paths"]
    if isinstance(file_paths, (str, os.PathLike)):
        file_paths = [file_paths]
    num_samples = None
    if hasattr(recording, "get_num_samples"):
        num_samples = int(recording.get_num_samples(segment_index))
    kwargs = dict(
        file_path=file_paths[segment_index],
        dtype=desc["dtype"],
        num_channels=int(desc["num_channels"]),
        file_offset=int(desc.get("file_offset", 0)),
        time_axis=0,
        num_samples=num_samples,
    )
    if prefer == "kvikio" or (prefer == "auto" and device and kvikio_status()["gds"]):
        return KvikioReader(**kwargs, num_threads=num_threads)
    if prefer == "mmap":
        return mapped_reader(**kwargs)
    return PreadReader(**kwargs)


#: mapped files kept open for the jobs that follow (their page tables stay filled), newest last
_MAPPED: "dict[tuple, MappedReader]" = {}
_MAPPED_LOCK = threading.Lock()
#: at most this many files, and this many bytes, stay mapped between jobs
MAPPED_FILES_KEPT = 16
MAPPED_BYTES_KEPT = 256 * 2**30


def mapped_reader(file_path, dtype, num_channels: int, file_offset: int = 0, time_axis: int = 0,
                  num_samples: int | None = None) -> "MappedReader":
    """A :class:`MappedReader` of the file, shared by the jobs of this process while the file is
    unchanged (same device, inode, size and modification time): a job after the first finds the
    file's pages already mapped, as a recording holding a memory map would. The least recently
    used mappings are dropped beyond :data:`MAPPED_FILES_KEPT` files or :data:`MAPPED_BYTES_KEPT`
    bytes (views still in use keep theirs alive).

    Parameters
    ----------
    file_path, dtype, num_channels, file_offset, time_axis, num_samples
        As :class:`MappedReader`.

    Returns
    -------
    MappedReader
    """
    st = os.stat(file_path)
    key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, str(np.dtype(dtype)), int(num_channels),
           int(file_offset), int(time_axis), None if num_samples is None else int(num_samples))
    with _MAPPED_LOCK:
        reader = _MAPPED.pop(key, None)
        if reader is None:
            reader = MappedReader(file_path, dtype, num_channels, file_offset, time_axis, num_samples)
        _MAPPED[key] = reader
        while len(_MAPPED) > MAPPED_FILES_KEPT or (
                len(_MAPPED) > 1 and sum(k[2] for k in _MAPPED) > MAPPED_BYTES_KEPT):
            _MAPPED.pop(next(iter(_MAPPED)))
    return reader
