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
def init_block_worker(job: BlockJob, recording, backend_name: str) -> dict:
    """Worker context: the job's constants on the backend, a reader per segment, reused buffers.

    Parameters
    ----------
    job : BlockJob
        The job (a copy in worker processes).
    recording : BaseRecording or dict
        The recording (its dict in worker processes).
    backend_name : str
        The job's backend.

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
    ctx.update(job=job, recording=recording, readers={})
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
        ``job.finish(...)``, its arrays copied to the host.
    """
    job, backend = ctx["job"], ctx["backend"]
    state = job.start(ctx)
    for spec in task.blocks:
        traces = spec.traces if spec.traces is not None else read_block(ctx, spec)
        if not job.host_blocks:
            traces = backend.asarray(traces)
        job.process(ctx, state, BlockData(spec.segment_index, traces, spec.positions, spec.peaks, spec.prescaled,
                                          ranges=None if spec.traces is not None else spec.ranges))
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


def read_block(ctx: dict, spec: BlockSpec) -> np.ndarray:
    """The block's raw traces (the recording's channels) in a buffer reused by the worker.

    A binary file is read with positional reads of its ranges; a file holding more columns
    than the recording (SpikeGLX's sync channel) is read whole-frame, then the recording's
    columns are kept; any other recording goes through ``get_traces``.

    Parameters
    ----------
    ctx : dict
        The worker context (``recording``, ``readers``).
    spec : BlockSpec
        The block.

    Returns
    -------
    np.ndarray
        ``(spec.num_frames, channels)``, valid until the worker's next read.
    """
    from ..kernels import select_columns_cpu
    from ..streaming.aligned import PAGE, phased_view
    from ..streaming.readers import make_reader

    recording = ctx["recording"]
    seg = spec.segment_index
    if seg not in ctx["readers"]:
        try:
            reader = make_reader(recording, seg, prefer="pread")
        except ValueError:  # not one raw file in time-major layout
            reader = make_reader(recording, seg, prefer="traces")
        columns = None
        if reader.num_channels != recording.get_num_channels():
            columns = np.asarray(recording.get_binary_description()["channel_indices"], dtype="int64")
        ctx["readers"][seg] = (reader, columns)
    reader, columns = ctx["readers"][seg]
    n = spec.num_frames
    # bytes reused block after block, the block placed at the phase of its first byte in the file
    raw = ctx.get("read_buffer")
    nbytes = max(n, 1) * reader.bytes_per_frame
    if raw is None or raw.size < nbytes + PAGE + 64:
        raw = ctx["read_buffer"] = np.empty(nbytes + PAGE + 64, np.uint8)
    phase = reader.byte_phase(int(spec.ranges[0, 0])) if len(spec.ranges) else 0
    buf = phased_view(raw, (max(n, 1), reader.num_channels), reader.dtype, phase)
    reader.read_block(spec, buf)
    if columns is None:
        return buf[:n]
    sel = ctx.get("select_buffer")
    if sel is None or sel.shape[0] < n or sel.shape[1] != columns.size or sel.dtype != reader.dtype:
        sel = ctx["select_buffer"] = np.empty((max(n, 1), columns.size), reader.dtype)
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
        """
        from ..core.executor import ChunkExecutor

        config = self.config
        if not _shares_memory(config):
            recording.check_dumpable(f"{job.label} with n_jobs={config.n_jobs} and engine={config.engine!r}")
        tasks = [BlockTask(t) for t in group_tasks(blocks, bytes_per_frame,
                                                    job.state_bytes(recording.get_num_channels()), config.n_jobs)]
        if edge is not None:
            tasks.append(BlockTask([edge]))
        if config.engine == "dask":
            placement = "return"
        elif _shares_memory(config):
            placement = "shared"
        else:  # worker processes on this machine write a memmap, removed by cleanup() after the reduce
            self._tmpdir = Path(tempfile.mkdtemp(prefix="gpuspike_job_"))
            placement = "file"
        job.prepare_output(placement, config.backend_object, getattr(self, "_tmpdir", None))
        executor = ChunkExecutor(recording, run_block_task, init_block_worker, (job, recording, config.backend),
                                 config, job_name=job.job_name, stage=job.stage)
        return executor.run_tasks([(t,) for t in tasks],
                                  lambda task: sum(b.num_frames for b in task[0].blocks) * bytes_per_frame)

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
