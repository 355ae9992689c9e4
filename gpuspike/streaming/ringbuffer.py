"""Pinned host ring buffer: reader threads fill slots ahead of the consumer; async H2D copies.

Data path for each block of a :class:`~gpuspike.streaming.planner.ReadPlan`::

    reader thread:  take a free host slot -> take the next block index -> read into the slot
    consumer:       wait for block i -> (device mode) async copy slot -> device buffer on that
                    buffer's CUDA stream, event recorded after the copy -> wait for the event
                    -> host slot back to the free list -> yield the block

* ``num_slots`` host slots (pinned with ``numba.cuda.pinned_array`` in device mode, plain
  NumPy in host mode), each sized for the largest block; ``num_device_buffers`` device
  buffers, each with its own (non-blocking, when ``new_stream`` makes them so) stream and
  events. Nothing else is allocated per block.
* A reader takes a slot *before* it takes a block index, so slots are always held by the
  oldest outstanding blocks: blocks are yielded in plan order and the ring cannot deadlock.
* Slots and buffers are recycled by events only, never by the order of streams: the compute
  stream waits (on the device) for the event recorded after a block's copy, so the host does not
  block; a host slot goes back to the readers once its copy event has completed (polled, also
  while the consumer waits for a read); a device buffer is recycled only after the consumer has
  asked for the next block, and the next copy into it waits (on the device) for an event
  recorded on ``compute_stream`` at that moment. This is correct with per-thread default
  streams too: nothing relies on the legacy default stream's implicit synchronisation.
* Shutdown: a stop event plus queue waits with short timeouts; threads are joined in
  ``finally`` -- on normal end, on an exception in the consumer or a reader, on
  KeyboardInterrupt and when the consumer closes the generator early. An exception raised in a
  reader thread is re-raised in the consumer (the original exception object, with its
  original traceback).
"""
from __future__ import annotations

import queue
import re
import threading
import time
import warnings
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

import numpy as np

from .planner import ReadBlock
from .readers import BaseReader

__all__ = ["RingBuffer", "RingStats", "parse_memory", "slots_for_budget"]

_POLL_S = 0.05
_UNITS = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12,
          "ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40}


def parse_memory(value: int | float | str) -> int:
    """Parse a byte budget: an int, or a string like ``"512M"``, ``"2G"``, ``"1GiB"``.

    Parameters
    ----------
    value : int, float or str

    Returns
    -------
    int
        Bytes.
    """
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        nbytes = int(value)
    elif isinstance(value, float):
        nbytes = int(value)
    elif isinstance(value, str):
        m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([kKmMgGtT]i?)?[bB]?\s*", value)
        if m is None:
            raise ValueError(
                f"memory budget must be bytes or a string like '512M', '2G', got {value!r}"
            )
        nbytes = int(float(m.group(1)) * _UNITS[(m.group(2) or "").lower()])
    else:
        raise TypeError(f"memory budget must be int or str, got {type(value).__name__}")
    if nbytes <= 0:
        raise ValueError(f"memory budget must be > 0 bytes, got {value!r}")
    return nbytes


def slots_for_budget(
    slot_bytes: int,
    memory_budget: int | str,
    num_device_buffers: int = 0,
    min_slots: int = 2,
    max_slots: int = 16,
) -> int:
    """Number of host slots that fit a byte budget.

    The budget covers ``num_slots`` host slots plus ``num_device_buffers`` device buffers of
    ``slot_bytes`` each (pass 0 in host mode).

    Parameters
    ----------
    slot_bytes : int
        Bytes per slot (largest block x bytes per frame).
    memory_budget : int or str
        Byte budget (see :func:`parse_memory`), e.g. the ``total_memory`` job kwarg.
    num_device_buffers : int
        Device buffers counted against the budget.
    min_slots, max_slots : int
        Clamp of the result.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        When not even ``min_slots`` slots fit.
    """
    budget = parse_memory(memory_budget)
    slot_bytes = max(int(slot_bytes), 1)
    n = budget // slot_bytes - int(num_device_buffers)
    if n < min_slots:
        raise ValueError(
            f"memory_budget={memory_budget!r} ({budget} bytes) is too small: it must hold "
            f"{min_slots} host slots + {num_device_buffers} device buffers of {slot_bytes} "
            f"bytes (the largest block); raise the budget or lower chunk_size"
        )
    return int(min(n, max_slots))


@dataclass
class RingStats:
    """Counters of one pass through a ring (seconds are summed over threads).

    Attributes
    ----------
    blocks : int
        Blocks yielded.
    bytes_read : int
        Bytes the reader threads put in slots.
    bytes_h2d : int
        Bytes copied host -> device.
    read_s : float
        Time spent inside ``reader.read_block`` (all reader threads).
    wait_read_s : float
        Time the consumer waited for a block to be read (disk-bound stall).
    wait_h2d_s : float
        Time the consumer waited for a copy to finish (link-bound stall).
    max_live_slots : int
        Most host slots checked out at once (never more than ``num_slots``).
    copy_events : list
        With ``RingBuffer.profile`` on: ``(start, end)`` timing events around each block's copy
        (and column selection), recorded on the copy's stream.
    """

    blocks: int = 0
    bytes_read: int = 0
    bytes_h2d: int = 0
    read_s: float = 0.0
    wait_read_s: float = 0.0
    wait_h2d_s: float = 0.0
    max_live_slots: int = 0
    copy_events: list = field(default_factory=list)


def _event_done(event) -> bool:
    query = getattr(event, "query", None)
    return True if query is None else bool(query())  # simulator: copies are synchronous


class RingBuffer:
    """Fixed set of host slots (and device buffers) reused for every block of a plan.

    Parameters
    ----------
    slot_frames : int
        Rows per slot (the plan's ``max_block_frames``).
    num_channels : int
        Channels per frame (full frames are always read).
    dtype : numpy dtype-like
        Sample dtype (the file's).
    num_slots : int
        Host slots (>= 2 to overlap reading with consumption).
    device : bool
        Copy each block to a device buffer (numba CUDA, or its simulator) and yield that;
        ``False`` yields the host slot (CPU backend).
    num_device_buffers : int
        Device buffers in device mode (>= 2 to overlap copy with compute).
    new_stream : callable, optional
        Makes the stream of each device buffer (a numba stream, or an object with a ``numba``
        attribute, e.g. the "cuda" backend's non-blocking streams); default ``numba.cuda.stream``.
    direct : bool
        Device mode with a reader that writes device memory itself (GPUDirect Storage): the slots
        are device arrays, nothing is copied, and a slot is read again only after the kernels of
        its previous block are done (an event recorded on the compute stream).
    """

    def __init__(
        self,
        slot_frames: int,
        num_channels: int,
        dtype: Any,
        num_slots: int = 4,
        device: bool = False,
        num_device_buffers: int = 2,
        new_stream: Any = None,
        direct: bool = False,
    ) -> None:
        if int(num_slots) < 1:
            raise ValueError(f"num_slots must be >= 1, got {num_slots!r}")
        if device and int(num_device_buffers) < 1:
            raise ValueError(f"num_device_buffers must be >= 1, got {num_device_buffers!r}")
        self.slot_frames = max(int(slot_frames), 1)
        self.num_channels = int(num_channels)
        self.dtype = np.dtype(dtype)
        self.num_slots = int(num_slots)
        self.device = bool(device)
        self.direct = bool(direct) and self.device
        shape = (self.slot_frames, self.num_channels)
        if self.direct:
            from numba import cuda

            self._cuda = cuda
            self.host = [cuda.device_array(shape, self.dtype) for _ in range(self.num_slots)]
            self.slot_events = [cuda.event() for _ in range(self.num_slots)]
            self.dev, self.streams, self.copy_events, self.release_events = [], [], [], []
        elif self.device:
            from numba import cuda

            self._cuda = cuda
            self.host = [cuda.pinned_array(shape, self.dtype) for _ in range(self.num_slots)]
            nd = int(num_device_buffers)
            self.dev = [cuda.device_array(shape, self.dtype) for _ in range(nd)]
            self.streams = [(new_stream or cuda.stream)() for _ in range(nd)]
            self.copy_events = [cuda.event() for _ in range(nd)]
            self.release_events = [cuda.event() for _ in range(nd)]
        else:
            self._cuda = None
            from .aligned import phased_empty

            # page-aligned, as pinned slots are: reads of page-aligned file offsets stay fast
            self.host = [phased_empty(shape, self.dtype) for _ in range(self.num_slots)]
            self.dev = []
            self.streams = []
            self.copy_events = []
            self.release_events = []
        self.stats = RingStats()
        #: record timing events around every copy (benchmarks); off by default
        self.profile = False
        self._live = 0
        self._live_lock = threading.Lock()
        self._busy = False

    def stream(self, d: int):
        """The numba stream of device buffer ``d``."""
        s = self.streams[d]
        return getattr(s, "numba", s)

    def release(self) -> None:
        """Drop the slots and device buffers (their memory is freed with the last reference)."""
        self.host, self.dev, self.streams = [], [], []
        self.copy_events, self.release_events, self.slot_events = [], [], []

    @property
    def slot_bytes(self) -> int:
        """Bytes per host slot."""
        return self.slot_frames * self.num_channels * self.dtype.itemsize

    @property
    def host_bytes(self) -> int:
        """Pinned (or plain) host memory held by the ring."""
        return self.slot_bytes * self.num_slots

    @property
    def device_bytes(self) -> int:
        """Device memory held by the ring (selection buffers of a pass not included)."""
        return self.slot_bytes * len(self.dev)

    # -- slot accounting (instrumented) -------------------------------------------------
    def _checkout(self) -> None:
        with self._live_lock:
            self._live += 1
            if self._live > self.stats.max_live_slots:
                self.stats.max_live_slots = self._live

    def _checkin(self, free: queue.Queue, slot: int) -> None:
        with self._live_lock:
            self._live -= 1
        free.put(slot)

    # -- the pass ------------------------------------------------------------------------
    def iterate(
        self,
        reader: BaseReader,
        blocks: Sequence[ReadBlock],
        num_readers: int = 1,
        channel_indices: Sequence[int] | np.ndarray | None = None,
        compute_stream: Any = None,
        join_timeout: float = 30.0,
    ) -> Iterator[tuple[ReadBlock, Any]]:
        """Generate ``(block, array)`` for every block, in order.

        ``array`` is ``(block.num_frames, channels)`` in the reader's dtype: a view of a host
        slot (host mode) or of a device buffer (device mode). **It is valid only until the
        next item is requested**: its memory is then reused.

        Parameters
        ----------
        reader : BaseReader
            Fills the slots; may be called from ``num_readers`` threads at once.
        blocks : sequence of ReadBlock
            Usually ``plan.blocks``.
        num_readers : int
            Reader threads.
        channel_indices : array-like of int or None
            Columns to keep; selected after the full frames are read (on the device in
            device mode) into a buffer reused across blocks.
        compute_stream : CUDA stream or None
            Stream the consumer's kernels run on (default: the default stream). Reuse of a
            device buffer waits on an event recorded on it.
        join_timeout : float
            Seconds to wait for each reader thread at shutdown before warning.

        Yields
        ------
        tuple of (ReadBlock, array)
        """
        if reader.num_channels != self.num_channels or reader.dtype != self.dtype:
            raise ValueError(
                f"reader gives {reader.num_channels} channels of {reader.dtype}, ring holds "
                f"{self.num_channels} channels of {self.dtype}"
            )
        big = [b for b in blocks if b.num_frames > self.slot_frames]
        if big:
            raise ValueError(
                f"block {big[0].index} has {big[0].num_frames} frames, slots hold "
                f"{self.slot_frames}: build the ring with slot_frames >= plan.max_block_frames"
            )
        if int(num_readers) < 1:
            raise ValueError(f"num_readers must be >= 1, got {num_readers!r}")
        cols = None
        if channel_indices is not None:
            cols = np.asarray(channel_indices, dtype=np.int64).reshape(-1)
            if cols.size and (cols.min() < 0 or cols.max() >= self.num_channels):
                raise ValueError(
                    f"channel_indices must be in [0, {self.num_channels}), got "
                    f"min {cols.min()}, max {cols.max()}"
                )
        return self._generate(
            reader, list(blocks), int(num_readers), cols, compute_stream, join_timeout
        )

    def _generate(self, reader, blocks, num_readers, cols, compute_stream, join_timeout):
        if self._busy:
            raise RuntimeError("this RingBuffer is already in use by another stream")
        self._busy = True
        try:
            yield from self._generate_inner(
                reader, blocks, num_readers, cols, compute_stream, join_timeout
            )
        finally:
            self._busy = False

    def _generate_inner(self, reader, blocks, num_readers, cols, compute_stream, join_timeout):
        nblocks = len(blocks)
        stats = self.stats = RingStats()
        self._live = 0
        stop = threading.Event()
        free: queue.Queue = queue.Queue()
        for k in range(self.num_slots):
            free.put(k)
        ready: dict[int, int] = {}
        cond = threading.Condition()
        errors: list[BaseException] = []
        counter = {"next": 0}
        assign_lock = threading.Lock()
        stats_lock = threading.Lock()

        def reader_loop() -> None:
            try:
                while not stop.is_set():
                    try:
                        slot = free.get(timeout=_POLL_S)
                    except queue.Empty:
                        continue
                    with assign_lock:
                        b = counter["next"]
                        counter["next"] += 1
                    if b >= nblocks:
                        free.put(slot)
                        return
                    self._checkout()
                    if self.direct:  # the kernels of this slot's previous block are done
                        self.slot_events[slot].synchronize()
                    t0 = time.perf_counter()
                    reader.read_block(blocks[b], self.host[slot])
                    dt = time.perf_counter() - t0
                    with stats_lock:
                        stats.read_s += dt
                        stats.bytes_read += blocks[b].num_frames * reader.bytes_per_frame
                    with cond:
                        ready[b] = slot
                        cond.notify_all()
            except BaseException as exc:  # noqa: BLE001 - re-raised in the consumer
                with cond:
                    errors.append(exc)
                    cond.notify_all()
                stop.set()

        def wait_ready(b: int, block: bool, poll=None) -> int | None:
            t0 = time.perf_counter()
            with cond:
                while True:
                    if errors:
                        raise errors[0]
                    if b in ready:
                        slot = ready.pop(b)
                        break
                    if not block:
                        return None
                    if not any(t.is_alive() for t in threads):
                        raise RuntimeError(
                            f"reader threads ended before block {b} was read (internal error)"
                        )
                    if poll is not None:  # slots whose copies are done go back to the readers
                        cond.release()
                        try:
                            poll()
                        finally:
                            cond.acquire()
                    cond.wait(timeout=_POLL_S / 10 if poll is not None else _POLL_S)
            stats.wait_read_s += time.perf_counter() - t0
            return slot

        threads = [
            threading.Thread(target=reader_loop, name=f"gpuspike-reader-{i}", daemon=True)
            for i in range(min(num_readers, max(nblocks, 1)))
        ]
        held: set[int] = set()  # host slots the consumer side holds
        try:
            for t in threads:
                t.start()
            if self.device and not self.direct:
                yield from self._consume_device(
                    blocks, wait_ready, free, held, cols, compute_stream, stats
                )
            else:
                yield from self._consume_host(blocks, wait_ready, free, held, cols, stats, compute_stream)
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=join_timeout)
                if t.is_alive():  # pragma: no cover - a reader stuck in I/O
                    warnings.warn(
                        f"reader thread {t.name} still running {join_timeout} s after stop "
                        "(blocked in I/O?); it is a daemon thread and will not block exit",
                        RuntimeWarning,
                        stacklevel=2,
                    )
            if self.device:
                for d in range(len(self.streams)):
                    self.stream(d).synchronize()
                if self.direct and compute_stream is not None:
                    compute_stream.synchronize()

    def _consume_host(self, blocks, wait_ready, free, held, cols, stats, compute_stream=None):
        """Host slots, or (direct mode) device slots the reader filled: yielded as they are."""
        sel = cols_dev = None
        if cols is not None and self.direct:
            cols_dev = self._cuda.to_device(cols)
            sel = self._cuda.device_array((self.slot_frames, cols.size), self.dtype)
        elif cols is not None:
            sel = np.empty((self.slot_frames, cols.size), self.dtype)
        if self.direct and compute_stream is None:
            compute_stream = self._cuda.default_stream()
        prev = None
        for i, blk in enumerate(blocks):
            if prev is not None:
                if self.direct:  # the reader waits for the kernels queued on this slot until now
                    self.slot_events[prev].record(compute_stream)
                held.discard(prev)
                self._checkin(free, prev)
                prev = None
            slot = wait_ready(i, True)
            held.add(slot)
            prev = slot
            n = blk.num_frames
            arr = self.host[slot][:n]
            if sel is not None and self.direct:
                from ..kernels import select_columns_cuda

                select_columns_cuda(arr, cols_dev, sel[:n], stream=compute_stream, checked=True)
                arr = sel[:n]
            elif sel is not None:
                np.take(arr, cols, axis=1, out=sel[:n])
                arr = sel[:n]
            stats.blocks += 1
            yield blk, arr
        if prev is not None:
            if self.direct:
                self.slot_events[prev].record(compute_stream)
            held.discard(prev)
            self._checkin(free, prev)

    def _consume_device(self, blocks, wait_ready, free, held, cols, compute_stream, stats):
        cuda = self._cuda
        if compute_stream is None:
            compute_stream = cuda.default_stream()
        nd = len(self.dev)
        dev_free = deque(range(nd))
        sel = cols_dev = None
        if cols is not None:
            from ..kernels import select_columns_cuda

            cols_dev = cuda.to_device(cols)
            sel = [cuda.device_array((self.slot_frames, cols.size), self.dtype) for _ in range(nd)]
        pending: deque = deque()  # [block index, host slot or None, device buffer], copies issued
        copying: list = []  # entries whose host slot waits for the end of its copy
        issued = 0
        prev_dev = None
        nblocks = len(blocks)

        def release_done() -> None:
            for entry in list(copying):
                if _event_done(self.copy_events[entry[2]]):
                    held.discard(entry[1])
                    self._checkin(free, entry[1])
                    copying.remove(entry)

        for i, blk in enumerate(blocks):
            if prev_dev is not None:
                self.release_events[prev_dev].record(compute_stream)
                dev_free.append(prev_dev)
                prev_dev = None
            # issue copies for block i (waiting for its read) and any later block already read
            while dev_free and issued < nblocks:
                slot = wait_ready(issued, issued == i, release_done)
                if slot is None:
                    break
                held.add(slot)
                d = dev_free.popleft()
                n = blocks[issued].num_frames
                stream = self.stream(d)
                self.release_events[d].wait(stream)
                if self.profile:
                    start = cuda.event(timing=True)
                    start.record(stream)
                if n:
                    self.dev[d][:n].copy_to_device(self.host[slot][:n], stream=stream)
                    if sel is not None:
                        select_columns_cuda(self.dev[d][:n], cols_dev, sel[d][:n], stream=stream, checked=True)
                self.copy_events[d].record(stream)
                if self.profile:
                    end = cuda.event(timing=True)
                    end.record(stream)
                    stats.copy_events.append((start, end))
                stats.bytes_h2d += n * self.num_channels * self.dtype.itemsize
                entry = [issued, slot, d]
                pending.append(entry)
                copying.append(entry)
                issued += 1
            entry = pending.popleft()
            assert entry[0] == i, (entry[0], i)
            d = entry[2]
            t0 = time.perf_counter()
            self.copy_events[d].wait(compute_stream)  # the consumer's kernels wait on the device
            stats.wait_h2d_s += time.perf_counter() - t0
            release_done()
            n = blk.num_frames
            arr = self.dev[d][:n] if sel is None else sel[d][:n]
            prev_dev = d
            stats.blocks += 1
            yield blk, arr
        for d in range(nd):  # all copies are done once the streams are: every slot goes back
            self.stream(d).synchronize()
        release_done()
