"""A job over blocks of traces, written once over the :class:`~gpuspike.backends.Backend` interface.

A job says what it needs (its spikes and window, or whole segments), how to process one block
of traces on a backend (``process``), and how to turn the partial results of the workers into
the answer (``reduce``). It never asks which backend or engine runs it: a *source*
(:mod:`gpuspike.engine.sources`) reads the blocks — the chunk executor on the CPU (threads,
processes, Dask), the pinned ring buffer on a GPU — and calls the job.

Life cycle, per worker (a thread, a process, a Dask worker, or the GPU consumer)::

    ctx = job.init_worker(backend, recording)          # constants on the backend
    state = job.start(ctx)                             # accumulators of one task (CPU) / of the run (GPU)
    job.process(ctx, state, block)                     # for every block of the task
    partial = job.finish(ctx, state)

then, in the caller, ``job.reduce(partials, backend)`` (partials in task order).
"""
from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["BlockData", "BlockJob"]


@dataclass
class BlockData:
    """One block handed to :meth:`BlockJob.process`.

    Attributes
    ----------
    segment_index : int
        Segment of the block.
    traces : array
        ``(frames, channels)`` raw traces on the job's backend (host array on the CPU, device
        array on a GPU), valid only during the call.
    positions : np.ndarray
        Host int64 positions, in the job's spike vector, of the block's spikes.
    peaks : np.ndarray
        Host int64 peak positions in ``traces`` (every window inside, checked by the planner).
    prescaled : bool
        ``traces`` are already in the job's output units (the in-memory edge block).
    stream : DeviceStream or None
        The stream every operation on this block is queued on (None on the CPU).
    ranges : np.ndarray or None
        ``(k, 2)`` frame ranges of the segment held by ``traces``, back to back (None for the
        in-memory edge block).
    """

    segment_index: int
    traces: Any
    positions: np.ndarray
    peaks: np.ndarray
    prescaled: bool = False
    stream: Any = None
    ranges: Any = None


class BlockJob(abc.ABC):
    """Base of the jobs run by :func:`~gpuspike.engine.run.run_block_job`.

    Attributes
    ----------
    job_name : str
        The public call the job serves (``"extract_waveforms"``): names progress bars and errors.
    stage : str
        The stage of that call a user recognises (``"gather"``): the bar reads
        ``"extract_waveforms: gather"`` (:attr:`label`).
    spikes : np.ndarray or None
        The job's spike vector, sorted by segment then sample; None for whole-segment jobs.
    nbefore, nafter : int
        Window of a spike, ``[peak - nbefore, peak + nafter)``.
    plan_mode : {"auto", "windows", "whole"}
        How blocks are planned (see :func:`~gpuspike.streaming.planner.plan_reads`).
    host_blocks : bool
        Blocks are processed in host memory even on a GPU backend (writing files).
    stream : DeviceStream or None
        The compute stream of a GPU run, set by the source: the reduce, and whatever the caller
        does next with results left on the device, queue their work on it.
    order_free : bool
        The reduce gives the same result whichever task processed which block (exact sums, or no
        partial result): in-process workers then keep one state across their tasks instead of
        one per task (the in-memory edge block still gets its own, reduced last, unless
        ``edge_order_free``).
    edge_order_free : bool
        With ``order_free``: the edge block's results are as exact as the others' (integer
        windows), so it goes into a worker's state too.
    merges_blocks : bool
        :meth:`process` takes the blocks of a task as one block spanning them when the source
        hands out views of a mapped file (no copy: the span costs no memory), and the job's memory
        does not grow with a block's spikes (accumulators). Fewer, larger calls: the window sums
        of a unit are added several at a time.
    """

    job_name: str = "job"
    stage: str = ""
    stream = None
    spikes: np.ndarray | None = None
    nbefore: int = 0
    nafter: int = 0
    plan_mode: str = "auto"
    host_blocks: bool = False
    order_free: bool = False
    edge_order_free: bool = False
    merges_blocks: bool = False

    @property
    def label(self) -> str:
        """``"job_name: stage"``: the text of the job's progress bar and of its errors."""
        return f"{self.job_name}: {self.stage}" if self.stage else self.job_name

    def prepare(self, recording) -> None:
        """Work done once, in the calling process, before the first block (default: none).

        Parameters
        ----------
        recording : BaseRecording
            The recording the job runs over.
        """

    def state_bytes(self, num_channels: int) -> int:
        """Bytes of the accumulators of one task (for task sizing and memory budgets).

        Parameters
        ----------
        num_channels : int
            Channels of the recording.

        Returns
        -------
        int
        """
        return 0

    def output_bytes(self) -> int:
        """Bytes of the job's output buffer (0 when it has none).

        Returns
        -------
        int
        """
        return 0

    def prepare_output(self, placement: str, backend, tmpdir=None) -> None:
        """Allocate the output where the source says it goes.

        Parameters
        ----------
        placement : {"shared", "file", "return", "device", "host"}
            ``shared``: one host array the workers write (threads); ``file``: a memmap the
            worker processes open; ``return``: workers send back their results (Dask);
            ``device``: a device array the GPU writes; ``host``: a host array the GPU path copies
            each block's results into.
        backend : Backend
            The job's backend.
        tmpdir : Path, optional
            Where a ``file`` output goes.
        """

    @abc.abstractmethod
    def init_worker(self, backend, recording) -> dict:
        """Per-worker constants on ``backend`` (gains, channel lists, ...).

        Parameters
        ----------
        backend : Backend
            The worker's backend.
        recording : BaseRecording
            The recording (rebuilt from its dict in worker processes).

        Returns
        -------
        dict
            The worker context; ``ctx["backend"]`` is the backend.
        """

    def start(self, ctx: dict) -> Any:
        """Accumulators of one task (CPU) or of the whole run (GPU).

        Parameters
        ----------
        ctx : dict
            From :meth:`init_worker`.

        Returns
        -------
        object
            The state passed to :meth:`process` and :meth:`finish`.
        """
        return None

    @abc.abstractmethod
    def process(self, ctx: dict, state: Any, block: BlockData) -> None:
        """Process one block (queue the work on ``block.stream``).

        Parameters
        ----------
        ctx : dict
            From :meth:`init_worker`.
        state : object
            From :meth:`start`.
        block : BlockData
            The block.
        """

    def finish(self, ctx: dict, state: Any) -> Any:
        """The partial result of a task (or of the GPU run).

        Parameters
        ----------
        ctx : dict
            From :meth:`init_worker`.
        state : object
            From :meth:`start`.

        Returns
        -------
        object
            Picklable on the chunk executor; may stay on the device on the GPU path.
        """
        return state

    @abc.abstractmethod
    def reduce(self, partials: list, backend) -> Any:
        """Combine the partial results (in task order) into the job's result.

        Parameters
        ----------
        partials : list
            From :meth:`finish`, in task order.
        backend : Backend
            The job's backend (device partials stay there until the results come back).

        Returns
        -------
        object
        """

    def edge_traces(self, recording, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
        """The edge block: windows of the spikes at ``positions``, built in memory.

        Parameters
        ----------
        recording : BaseRecording
            The recording.
        positions : np.ndarray
            Positions of the edge spikes in the job's spike vector.

        Returns
        -------
        tuple
            ``(traces, peaks, prescaled)``: the windows stacked as ``(len * nsamples, channels)``,
            the peak of each in that array, and whether they are in output units.
        """
        raise ValueError(f"{self.label}: spikes at a segment edge are not supported by this job")
