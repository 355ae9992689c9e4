"""Public entry of the streaming path: plan -> reader threads -> pinned ring -> (device).

Example
-------
>>> plan = plan_reads(rec.get_num_samples(0), chunk_size=30_000)          # doctest: +SKIP
>>> with stream_blocks(rec, 0, plan, device=True) as blocks:              # doctest: +SKIP
...     for block, traces in blocks:
...         my_kernel[grid, tpb, blocks.compute_stream](traces, ...)

**Contract**: ``traces`` is only valid until the next block is requested (its memory -- a host
slot or a device buffer -- is then reused). Copy what must outlive the iteration.
"""
from __future__ import annotations

from typing import Any, Iterator, Literal, Sequence

import numpy as np

from .planner import ReadBlock, ReadPlan, plan_reads
from .readers import BaseReader, make_reader
from .ringbuffer import RingBuffer, RingStats, slots_for_budget

__all__ = ["BlockStream", "stream_blocks"]

DEFAULT_NUM_SLOTS = 4


class BlockStream:
    """Iterator over ``(ReadBlock, array)`` of one segment; also a context manager.

    Build it with :func:`stream_blocks`. Iterating yields, in plan order, each block and its
    ``(block.num_frames, channels)`` array in the file dtype: a host array (``device=False``)
    or a numba device array (``device=True``; ``cupy.asarray(arr)`` wraps it without a copy).
    The array is valid only until the next item is requested. ``close()`` (or leaving the
    ``with`` block, or breaking out of a ``for`` loop over it) stops and joins the reader
    threads.

    Attributes
    ----------
    plan : ReadPlan
    reader : BaseReader
    ring : RingBuffer
    compute_stream : CUDA stream or None
        In device mode, the stream to launch kernels on for copy/compute overlap (kernels on
        the default stream are also correct, but serialize with the copies). CuPy:
        ``cupy.cuda.ExternalStream(int(compute_stream))``.
    """

    def __init__(
        self,
        plan: ReadPlan,
        reader: BaseReader,
        ring: RingBuffer,
        num_readers: int,
        channel_indices,
        compute_stream,
        owns_reader: bool,
    ) -> None:
        self.plan = plan
        self.reader = reader
        self.ring = ring
        self.compute_stream = compute_stream
        self._owns_reader = owns_reader
        self._it = ring.iterate(
            reader,
            plan.blocks,
            num_readers=num_readers,
            channel_indices=channel_indices,
            compute_stream=compute_stream,
        )
        self._closed = False

    def __iter__(self) -> Iterator[tuple[ReadBlock, Any]]:
        return self

    def __next__(self) -> tuple[ReadBlock, Any]:
        if self._closed:
            raise StopIteration
        try:
            return next(self._it)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Stop the readers, join their threads and close an owned reader (idempotent)."""
        if self._closed:
            return
        self._closed = True
        try:
            self._it.close()
        finally:
            if self._owns_reader:
                self.reader.close()

    def __enter__(self) -> "BlockStream":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):  # pragma: no cover - best effort
        try:
            self.close()
        except Exception:
            pass

    @property
    def stats(self) -> RingStats:
        """Counters of this pass (bytes, stall times, most live slots)."""
        return self.ring.stats

    @property
    def bytes_read(self) -> int:
        """Bytes the reader has read so far."""
        return self.reader.bytes_read


def stream_blocks(
    recording: Any,
    segment_index: int = 0,
    plan: ReadPlan | None = None,
    device: bool = True,
    num_slots: int | None = None,
    memory_budget: int | str | None = None,
    num_readers: int = 1,
    num_device_buffers: int = 2,
    channel_indices: Sequence[int] | np.ndarray | None = None,
    reader: BaseReader | Literal["auto", "pread", "kvikio", "traces"] = "auto",
    chunk_size: int | None = None,
    compute_stream: Any = None,
    ring: RingBuffer | None = None,
) -> BlockStream:
    """Stream the blocks of a read plan of one segment, through a bounded ring of slots.

    Parameters
    ----------
    recording : recording-like
        ``get_num_samples(segment_index)``, ``get_num_channels()``, ``get_dtype()``,
        ``get_traces(...)``, and optionally ``is_binary_compatible()`` /
        ``get_binary_description()`` (then the file is read directly).
    segment_index : int
        Segment to stream.
    plan : ReadPlan or None
        From :func:`~gpuspike.streaming.planner.plan_reads`; ``None`` streams the whole
        segment in blocks of ``chunk_size`` frames.
    device : bool
        Copy blocks to the GPU (numba CUDA; the simulator under ``NUMBA_ENABLE_CUDASIM=1``)
        and yield device arrays; ``False`` yields host arrays (CPU backend).
    num_slots : int or None
        Host slots; default derived from ``memory_budget``, else 4. Capped at the number of
        blocks.
    memory_budget : int, str or None
        Bytes (or ``"512M"``) for host slots + device buffers (``total_memory`` job kwarg).
    num_readers : int
        Reader threads.
    num_device_buffers : int
        Device buffers (device mode).
    channel_indices : array-like of int or None
        Keep only these columns: full frames are read, the columns are selected after (on the
        device in device mode) into a reused buffer.
    reader : BaseReader or {"auto", "pread", "kvikio", "traces"}
        A reader instance (not closed here), or the ``prefer`` of
        :func:`~gpuspike.streaming.readers.make_reader`.
    chunk_size : int or None
        Frames per block when ``plan`` is None (default: 1 s of the recording, or 30000).
    compute_stream : CUDA stream or None
        Device mode: stream of the consumer's kernels (default: a new stream, exposed as
        ``BlockStream.compute_stream``).
    ring : RingBuffer or None
        Reuse the slots (and device buffers) of an earlier stream, e.g. across segments:
        pinned allocation is slow. Its ``slot_frames`` must hold ``plan.max_block_frames``
        and its channels/dtype/device mode must match; ``num_slots``/``memory_budget`` are
        then ignored. Only one stream may use a ring at a time.

    Returns
    -------
    BlockStream
        Iterable of ``(ReadBlock, array)``; each array is valid only until the next one is
        requested.

    Raises
    ------
    ValueError
        Plan made for another segment length, bad sizes, or a too small ``memory_budget``.
    """
    if hasattr(recording, "get_num_samples"):
        num_samples = int(recording.get_num_samples(segment_index))
    else:
        num_samples = None
    if plan is None:
        if num_samples is None:
            raise ValueError("plan is required when the recording has no get_num_samples()")
        if chunk_size is None:
            fs = getattr(recording, "get_sampling_frequency", None)
            chunk_size = int(fs()) if callable(fs) else 30_000
        plan = plan_reads(num_samples, int(chunk_size))
    elif not isinstance(plan, ReadPlan):
        raise TypeError(f"plan must be a ReadPlan or None, got {type(plan).__name__}")
    if num_samples is not None and plan.num_samples != num_samples:
        raise ValueError(
            f"plan was made for num_samples={plan.num_samples}, segment {segment_index} has "
            f"{num_samples} frames"
        )

    owns = not isinstance(reader, BaseReader)
    rdr = make_reader(recording, segment_index, prefer=reader) if owns else reader
    try:
        slot_frames = max(plan.max_block_frames, 1)
        slot_bytes = slot_frames * rdr.bytes_per_frame
        nd = max(1, min(int(num_device_buffers), max(len(plan), 1))) if device else 0
        if num_slots is None:
            if memory_budget is not None:
                num_slots = slots_for_budget(slot_bytes, memory_budget, nd)
            else:
                num_slots = DEFAULT_NUM_SLOTS
        num_slots = int(num_slots)
        if num_slots < 1:
            raise ValueError(f"num_slots must be >= 1, got {num_slots}")
        num_slots = max(1, min(num_slots, len(plan)))
        if ring is not None:
            if (ring.device != bool(device) or ring.num_channels != rdr.num_channels
                    or ring.direct != (bool(device) and rdr.writes_device)
                    or ring.dtype != rdr.dtype or ring.slot_frames < plan.max_block_frames):
                raise ValueError(
                    f"ring (device={ring.device}, {ring.slot_frames} frames x "
                    f"{ring.num_channels} channels of {ring.dtype}) does not fit this stream "
                    f"(device={bool(device)}, {plan.max_block_frames} x {rdr.num_channels} of "
                    f"{rdr.dtype})"
                )
        else:
            ring = RingBuffer(
                slot_frames,
                rdr.num_channels,
                rdr.dtype,
                num_slots=num_slots,
                device=device,
                num_device_buffers=max(nd, 1),
                direct=bool(device) and rdr.writes_device,
            )
        if device and compute_stream is None:
            from numba import cuda

            compute_stream = cuda.stream()
        if channel_indices is None and owns and hasattr(recording, "get_num_channels") \
                and rdr.num_channels != recording.get_num_channels():
            # a binary file holding more columns than the recording (SpikeGLX AP + sync): the
            # description's "channel_indices" says which columns are the recording's channels
            desc = recording.get_binary_description()
            channel_indices = desc.get("channel_indices")
            if channel_indices is None:
                raise ValueError(f"{type(recording).__name__}: its file has {rdr.num_channels} columns but the "
                                 f"recording {recording.get_num_channels()} channels, and its binary "
                                 f"description gives no channel_indices")
        return BlockStream(plan, rdr, ring, num_readers, channel_indices, compute_stream, owns)
    except BaseException:
        if owns:
            rdr.close()
        raise
