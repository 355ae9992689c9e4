"""Block sources: who reads the blocks of a job and calls it.

- :class:`ChunkedSource`: the chunk executor (in-process, threads, processes, Dask) on the CPU —
  or, with ``engine="dask"``, on the GPU of each Dask worker. Consecutive blocks are grouped into
  tasks; each task reads its blocks with positional reads into one reused buffer per worker
  (lazy recordings through ``get_traces``) and returns its partial result.
- :class:`RingSource`: the GPU path. Reader threads fill a pinned ring, blocks are copied to the
  device on the ring's streams and the job's kernels run on one compute stream that waits for
  each copy on the device; only results come back.

The source, not the job, knows about engines, memory placement and streams.
"""
from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .blocks import BlockSpec, group_tasks
from .budget import DEVICE_BUFFERS, RING_SLOTS
from .job import BlockData, BlockJob

__all__ = ["BlockTask", "ChunkedSource", "RingSource"]


@dataclass(eq=False)
class BlockTask:
    """Consecutive blocks run by one worker call (returns one partial result)."""

    blocks: list

    def __repr__(self) -> str:
        first, last = self.blocks[0], self.blocks[-1]
        return f"BlockTask({len(self.blocks)} block(s): {first!r} .. {last!r})"


# ---------------------------------------------------------------------------------- CPU workers
def init_block_worker(job: BlockJob, recording, backend_name: str, workers: list | None = None) -> dict:
    """Worker context: the job's constants on the backend, a reader per segment, reused buffers.

    Parameters
    ----------
    job : BlockJob
        The job (a copy in worker processes).
    recording : BaseRecording or dict
        The recording (its dict in worker processes).
    backend_name : str
        The job's backend.
    workers : list, optional
        In-process workers of an ``order_free`` job: the context is appended to it and keeps one
        state (``ctx["state"]``) across the worker's tasks, finished by the source after the run.

    Returns
    -------
    dict
    """
    from ..backends import get_backend

    if isinstance(recording, dict):
        from ..core.base import BaseExtractor

        recording = BaseExtractor.from_dict(recording)
    backend = get_backend(backend_name)
    ctx = job.init_worker(backend, recording)
    ctx.update(job=job, recording=recording, readers={}, keeps_state=workers is not None)
    if workers is not None:
        workers.append(ctx)
    return ctx


def run_block_task(task: BlockTask, ctx: dict):
    """Run the job on every block of ``task``; return its partial result (in host memory).

    Parameters
    ----------
    task : BlockTask
        The blocks.
    ctx : dict
        From :func:`init_block_worker`.

    Returns
    -------
    object
        ``job.finish(...)``, its arrays copied to the host; None when the worker keeps its state
        (the edge block, in memory, has a state of its own unless the job is ``edge_order_free``).
    """
    job, backend = ctx["job"], ctx["backend"]
    keep = ctx["keeps_state"] and (task.blocks[0].traces is None or job.edge_order_free)
    if keep:
        if "state" not in ctx:
            ctx["state"] = job.start(ctx)
        state = ctx["state"]
    else:
        state = job.start(ctx)
    blocks = task.blocks
    if len(blocks) > 1 and job.merges_blocks and not job.host_blocks and blocks[0].traces is None \
            and _maps_whole_frames(ctx, blocks[0].segment_index):
        blocks = [merge_blocks(blocks)]
    for spec in blocks:
        if spec.traces is not None:  # the edge block, in memory
            traces, peaks, ranges = spec.traces, spec.peaks, None
        else:
            traces, peaks, ranges = read_block(ctx, spec)
        if not job.host_blocks:
            traces = backend.asarray(traces)
        job.process(ctx, state, BlockData(spec.segment_index, traces, spec.positions, peaks, spec.prescaled,
                                          ranges=ranges))
    if keep:
        return None
    partial = job.finish(ctx, state)
    return _to_host(partial, backend) if backend.is_device else partial  # Dask workers with a GPU


def _to_host(partial, backend):
    """A partial result with its device arrays copied to the host (dicts and lists of them too)."""
    if isinstance(partial, dict):
        return {k: _to_host(v, backend) for k, v in partial.items()}
    if isinstance(partial, list):
        return [_to_host(v, backend) for v in partial]
    if isinstance(partial, tuple):
        return tuple(_to_host(v, backend) for v in partial)
    if partial is None or isinstance(partial, (np.ndarray, np.generic, int, float, bool, str)):
        return partial
    return backend.to_host(partial)


def read_block(ctx: dict, spec: BlockSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The block's raw traces (the recording's channels), the peaks of its spikes in them and the
    frame ranges they hold.

    A raw binary file is mapped: the block is a read-only view of the file from its first range
    to its last (no copy; the peaks moved to that span when the block has several ranges). A file
    holding more columns than the recording (SpikeGLX's sync channel) gives its ranges with the
    recording's columns only, copied into a buffer reused by the worker. A file that cannot be
    mapped, or the blocks of a job that writes them to a file (``host_blocks``), are read with
    positional reads, and any other recording through ``get_traces``, into that buffer.

    Parameters
    ----------
    ctx : dict
        The worker context (``recording``, ``readers``, ``job``).
    spec : BlockSpec
        The block.

    Returns
    -------
    tuple
        ``(traces, peaks, ranges)``: ``(frames, channels)`` traces valid until the worker's next
        read, int64 peaks in them, ``(k, 2)`` segment frame ranges they hold back to back.
    """
    from ..kernels import select_columns_cpu
    from ..streaming.readers import MappedReader

    reader, columns = _segment_reader(ctx, spec.segment_index)
    ranges = spec.ranges
    # a job writing its blocks to a file (save) gets copies: a write() from a mapped file takes its
    # page faults while holding the destination file's lock, and the workers' writes queue up
    if not isinstance(reader, MappedReader) or ctx["job"].host_blocks:
        return _read_into_buffer(ctx, spec, reader, columns), spec.peaks, ranges
    if columns is not None:
        sel = _worker_buffer(ctx, "select_buffer", spec.num_frames, columns.size, reader.dtype)
        for (a, b), off in zip(ranges.tolist(), _range_offsets(ranges).tolist()):
            select_columns_cpu(reader.frames(a, b), columns, sel[off:off + b - a], checked=True)
        return sel[:spec.num_frames], spec.peaks, ranges
    if len(ranges) == 0:
        return reader.frames(0, 0), spec.peaks, ranges
    start, end = int(ranges[:, 0].min()), int(ranges[:, 1].max())
    if len(ranges) == 1:
        return reader.frames(start, end), spec.peaks, ranges
    # several ranges: one view of their span (only the ranges read ahead), the peaks moved past the gaps
    offsets = _range_offsets(ranges)
    which = np.searchsorted(offsets, spec.peaks - int(ctx["job"].nbefore), side="right") - 1
    peaks = spec.peaks + (ranges[which, 0] - start - offsets[which])
    return reader.frames(start, end, ranges=ranges), peaks, np.array([[start, end]], dtype="int64")


def _segment_reader(ctx: dict, segment_index: int) -> tuple:
    """The worker's reader of a segment and the file columns it keeps (None: all), made once."""
    readers = ctx["readers"]
    if segment_index not in readers:
        recording = ctx["recording"]
        reader = _block_reader(recording, segment_index)
        columns = None
        if reader.num_channels != recording.get_num_channels():
            columns = np.asarray(recording.get_binary_description()["channel_indices"], dtype="int64")
        readers[segment_index] = (reader, columns)
    return readers[segment_index]


def _maps_whole_frames(ctx: dict, segment_index: int) -> bool:
    """The segment's blocks are views of a mapped file with the recording's columns (no copy)."""
    from ..streaming.readers import MappedReader

    reader, columns = _segment_reader(ctx, segment_index)
    return isinstance(reader, MappedReader) and columns is None


def merge_blocks(blocks: list) -> BlockSpec:
    """Consecutive blocks of one segment as one block: their ranges back to back, their spikes
    in order, each peak moved by the frames of the blocks before it.

    Parameters
    ----------
    blocks : list of BlockSpec
        Read from one segment, in plan order, none in memory.

    Returns
    -------
    BlockSpec
    """
    ranges = np.concatenate([b.ranges for b in blocks]).astype("int64", copy=False)
    frames_before = np.cumsum([0] + [b.num_frames for b in blocks[:-1]])
    peaks = np.concatenate([b.peaks + shift for b, shift in zip(blocks, frames_before)]).astype("int64", copy=False)
    positions = np.concatenate([b.positions for b in blocks]).astype("int64", copy=False)
    return BlockSpec(blocks[0].segment_index, ranges, _range_offsets(ranges), positions, peaks)


def _block_reader(recording, segment_index: int):
    """The reader of one segment for the CPU engine: the raw file mapped, else read with ``pread``
    (a file that cannot be mapped), else ``get_traces`` (not one raw file in time-major layout)."""
    from ..core.errors import CorruptFolderError
    from ..streaming.readers import ShortReadError, make_reader

    try:
        return make_reader(recording, segment_index, prefer="mmap")
    except (ShortReadError, CorruptFolderError):  # the file is wrong: no other reader can do better
        raise
    except (ValueError, OSError):
        pass
    try:
        return make_reader(recording, segment_index, prefer="pread")
    except ValueError:
        return make_reader(recording, segment_index, prefer="traces")


def _range_offsets(ranges: np.ndarray) -> np.ndarray:
    """Where each range starts in the ranges packed back to back."""
    lengths = ranges[:, 1] - ranges[:, 0]
    return np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype("int64")


def _worker_buffer(ctx: dict, name: str, frames: int, channels: int, dtype) -> np.ndarray:
    """A ``(>= frames, channels)`` buffer of the worker, reused block after block."""
    buf = ctx.get(name)
    if buf is None or buf.shape[0] < frames or buf.shape[1] != channels or buf.dtype != dtype:
        buf = ctx[name] = np.empty((max(frames, 1), channels), dtype)
    return buf


def _read_into_buffer(ctx: dict, spec: BlockSpec, reader, columns) -> np.ndarray:
    """The block read (copied) into the worker's buffer, placed at the page phase of its first byte."""
    from ..kernels import select_columns_cpu
    from ..streaming.aligned import PAGE, phased_view

    n = spec.num_frames
    raw = ctx.get("read_buffer")
    nbytes = max(n, 1) * reader.bytes_per_frame
    if raw is None or raw.size < nbytes + PAGE + 64:
        raw = ctx["read_buffer"] = np.empty(nbytes + PAGE + 64, np.uint8)
    phase = reader.byte_phase(int(spec.ranges[0, 0])) if len(spec.ranges) else 0
    buf = phased_view(raw, (max(n, 1), reader.num_channels), reader.dtype, phase)
    reader.read_block(spec, buf)
    if columns is None:
        return buf[:n]
    sel = _worker_buffer(ctx, "select_buffer", n, columns.size, reader.dtype)
    return select_columns_cpu(buf[:n], columns, sel[:n], checked=True)


def _shares_memory(config) -> bool:
    return config.n_jobs == 1 or config.engine == "thread"


class ChunkedSource:
    """Blocks through the chunk executor: threads, processes or Dask (see the module docstring).

    Parameters
    ----------
    config : JobConfig
        Engine, workers, progress bar.
    """

    partials_on_device = False

    def __init__(self, config) -> None:
        self.config = config

    def run(self, job: BlockJob, recording, blocks: list, edge: BlockSpec | None, bytes_per_frame: int) -> list:
        """Run ``job`` over ``blocks`` (then the edge block); partial results in task order.

        Parameters
        ----------
        job : BlockJob
        recording : BaseRecording
        blocks : list of BlockSpec
            Every segment's blocks, in order.
        edge : BlockSpec or None
            The in-memory edge block.
        bytes_per_frame : int
            Bytes of one frame as read.

        Returns
        -------
        list
            Per task (or, for an ``order_free`` job on in-process workers, per worker), then the
            edge block's.
        """
        from ..core.executor import ChunkExecutor

        config = self.config
        if not _shares_memory(config):
            recording.check_dumpable(f"{job.label} with n_jobs={config.n_jobs} and engine={config.engine!r}")
        workers = [] if job.order_free and config.engine != "dask" and _shares_memory(config) else None
        if config.engine == "dask":
            placement = "return"
        elif _shares_memory(config):
            placement = "shared"
        else:  # worker processes on this machine write a memmap, removed by cleanup() after the reduce
            self._tmpdir = Path(tempfile.mkdtemp(prefix="gpuspike_job_"))
            placement = "file"
        job.prepare_output(placement, config.backend_object, getattr(self, "_tmpdir", None))
        # a task's accumulators are sized against the traces it reads, unless workers keep theirs
        # and the blocks are better taken one by one
        one_by_one = workers is not None and not job.merges_blocks
        state_bytes = 0 if one_by_one else job.state_bytes(recording.get_num_channels())
        tasks = [BlockTask(t) for t in group_tasks(blocks, bytes_per_frame, state_bytes, config.n_jobs)]
        if edge is not None:
            tasks.append(BlockTask([edge]))
        executor = ChunkExecutor(recording, run_block_task, init_block_worker,
                                 (job, recording, config.backend, workers), config, job_name=job.job_name,
                                 stage=job.stage)
        partials = executor.run_tasks([(t,) for t in tasks],
                                      lambda task: sum(b.num_frames for b in task[0].blocks) * bytes_per_frame)
        if workers is None:
            return partials
        kept = [job.finish(ctx, ctx["state"]) for ctx in workers if "state" in ctx]
        return kept + [p for p in partials if p is not None]

    def cleanup(self) -> None:
        """Remove the temporary files of a ``file`` output (after the reduce)."""
        tmpdir = getattr(self, "_tmpdir", None)
        if tmpdir is not None:
            shutil.rmtree(tmpdir, ignore_errors=True)
            self._tmpdir = None


class RingSource:
    """Blocks through the pinned ring buffer to the GPU (see the module docstring).

    Parameters
    ----------
    config : JobConfig
        Backend (a device backend), readers, memory budget.
    """

    partials_on_device = True
    #: record timing events around the copies and each block's kernels (benchmarks)
    profile = False

    def __init__(self, config) -> None:
        self.config = config
        self.stats: list = []
        #: with ``profile``: ``(start, end)`` events around each block's work on the compute stream
        self.compute_events: list = []

    def run(self, job: BlockJob, recording, segments: list, edge: BlockSpec | None, bytes_per_frame: int,
            output_on_device: bool = True) -> list:
        """Run ``job`` over every segment's blocks (then the edge block) in this process.

        Parameters
        ----------
        job : BlockJob
        recording : BaseRecording
        segments : list of SegmentPlan
            The plans and blocks of every segment.
        edge : BlockSpec or None
            The in-memory edge block.
        bytes_per_frame : int
            Bytes of one frame as read.
        output_on_device : bool
            The job's output (if any) fits on the device.

        Returns
        -------
        list
            One partial result (on the device).
        """
        from ..core.progress import progress_bar

        be = self.config.backend_object
        stream = job.stream = be.new_stream()
        job.prepare_output("device" if output_on_device else "host", be)
        ctx = job.init_worker(be, recording)
        state = job.start(ctx)
        total = sum(sp.plan.planned_frames for sp in segments) * bytes_per_frame
        with progress_bar(self.config.progress_bar, job.job_name, job.stage, total=total, unit="B") as progress:
            self._stream(job, recording, segments, ctx, state, stream, progress, bytes_per_frame)
            if edge is not None:
                traces = be.asarray(edge.traces, stream=stream)
                job.process(ctx, state, BlockData(edge.segment_index, traces, edge.positions, edge.peaks,
                                                  edge.prescaled, stream))
            partial = job.finish(ctx, state)
            stream.synchronize()
        return [partial]

    def _stream(self, job, recording, segments, ctx, state, stream, progress, bytes_per_frame) -> None:
        """Every segment's blocks through one ring (pinned allocation is slow: it is made once)."""
        from ..streaming import RingBuffer, make_reader, stream_blocks

        be = self.config.backend_object
        slot_frames = max((sp.plan.max_block_frames for sp in segments), default=0)
        ring = None
        try:
            for sp in segments:
                if not sp.blocks:
                    continue
                reader = make_reader(recording, sp.segment_index, prefer="auto", device=True,
                                     num_threads=self.config.num_readers)
                columns = None
                if reader.num_channels != recording.get_num_channels():
                    columns = recording.get_binary_description()["channel_indices"]
                if ring is None:
                    ring = RingBuffer(slot_frames, reader.num_channels, reader.dtype, num_slots=RING_SLOTS,
                                      device=True, num_device_buffers=DEVICE_BUFFERS, new_stream=be.new_stream,
                                      direct=reader.writes_device)
                    ring.profile = self.profile
                with stream_blocks(recording, sp.segment_index, sp.plan, device=True, reader=reader,
                                   num_readers=self.config.num_readers, ring=ring, channel_indices=columns,
                                   compute_stream=stream.numba) as source:
                    for read_block, traces in source:
                        spec = sp.blocks[read_block.index]
                        start = stream.record() if self.profile else None
                        job.process(ctx, state, BlockData(spec.segment_index, traces, spec.positions, spec.peaks,
                                                          False, stream, spec.ranges))
                        if start is not None:
                            self.compute_events.append((start, stream.record()))
                        progress.update(read_block.num_frames * bytes_per_frame)
                    self.stats.append(source.stats)
                reader.close()
        finally:
            if ring is not None:
                ring.release()

    def cleanup(self) -> None:
        """Nothing to remove (the ring is released by :meth:`run`)."""
