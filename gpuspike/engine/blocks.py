"""Blocks of a job: what to read, and which of the job's spikes each block owns.

A job's spikes (a spike vector sorted by segment then sample) are split per segment into
*interior* spikes, whose window lies inside the segment, and *edge* spikes, whose window crosses
a segment edge. The interior spikes of each segment are planned by
:func:`~gpuspike.streaming.planner.plan_reads` into bounded blocks; the edge spikes form one
extra block whose traces the job builds in memory (partially filled windows, as SpikeInterface
0.105 extracts them). A job without spikes (save) reads whole segments.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..streaming.planner import ReadPlan, plan_reads

__all__ = ["BlockSpec", "SegmentPlan", "edge_positions", "group_tasks", "plan_job_blocks"]


@dataclass(eq=False)
class BlockSpec:
    """One block of a job: the frames to read (or traces already in memory) and its spikes.

    Attributes
    ----------
    segment_index : int
        Segment the block reads from.
    ranges : np.ndarray
        ``(k, 2)`` frame ranges, packed back to back in the block's buffer.
    buffer_offsets : np.ndarray
        ``(k,)`` offset of each range in the buffer.
    positions : np.ndarray
        int64 positions, in the job's spike vector, of the spikes the block owns (time order).
    peaks : np.ndarray
        int64 position of each of those spikes' peak in the block's buffer.
    traces : np.ndarray or None
        The block's traces when they are built in memory (the edge block) rather than read.
    prescaled : bool
        ``traces`` are already in the job's output units (no scaling on the way).
    """

    segment_index: int
    ranges: np.ndarray
    buffer_offsets: np.ndarray
    positions: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    peaks: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    traces: np.ndarray | None = None
    prescaled: bool = False

    @property
    def num_frames(self) -> int:
        """Frames in the block's buffer."""
        if self.traces is not None:
            return int(self.traces.shape[0])
        return int((self.ranges[:, 1] - self.ranges[:, 0]).sum())

    @property
    def num_spikes(self) -> int:
        """Spikes the block owns."""
        return int(self.positions.size)

    def __repr__(self) -> str:  # short: it appears in error notes of failed tasks
        where = "in memory" if self.traces is not None else f"frames [{self.ranges[0, 0]}, {self.ranges[-1, 1]})"
        return f"BlockSpec(segment {self.segment_index}, {where}, {self.num_spikes} spikes)"


@dataclass(eq=False)
class SegmentPlan:
    """The read plan of one segment and the job's view of its blocks (same order)."""

    segment_index: int
    plan: ReadPlan
    blocks: list


def edge_positions(spikes: np.ndarray, num_samples: list, nbefore: int, nafter: int) -> np.ndarray:
    """Positions in ``spikes`` whose window ``[p - nbefore, p + nafter)`` crosses a segment edge.

    Parameters
    ----------
    spikes : np.ndarray
        Spike vector (``sample_index``, ``segment_index`` fields).
    num_samples : list of int
        Length of each segment.
    nbefore, nafter : int
        Window.

    Returns
    -------
    np.ndarray
        int64 positions, increasing.
    """
    sizes = np.asarray(num_samples, dtype="int64")[spikes["segment_index"]]
    samples = spikes["sample_index"].astype("int64")
    return np.flatnonzero((samples < nbefore) | (samples + nafter > sizes))


def plan_job_blocks(num_samples: list, chunk_frames: int, spikes: np.ndarray | None = None, nbefore: int = 0,
                    nafter: int = 0, mode: str = "auto") -> list[SegmentPlan]:
    """Plan the reads of every segment for a job.

    Parameters
    ----------
    num_samples : list of int
        Length of each segment.
    chunk_frames : int
        Frames per block.
    spikes : np.ndarray, optional
        The job's spike vector (sorted by segment then sample); None reads whole segments.
    nbefore, nafter : int
        Spike window.
    mode : {"auto", "windows", "whole"}
        Planner mode (see :func:`~gpuspike.streaming.planner.plan_reads`).

    Returns
    -------
    list of SegmentPlan
        One per segment; edge spikes are in no block (see :func:`edge_positions`).
    """
    out = []
    if spikes is None:
        for seg, n in enumerate(num_samples):
            plan = plan_reads(int(n), chunk_frames)
            out.append(SegmentPlan(seg, plan, [BlockSpec(seg, b.ranges, b.buffer_offsets) for b in plan.blocks]))
        return out
    bounds = np.searchsorted(spikes["segment_index"], np.arange(len(num_samples) + 1))
    for seg, n in enumerate(num_samples):
        lo, hi = int(bounds[seg]), int(bounds[seg + 1])
        samples = spikes["sample_index"][lo:hi]
        interior = np.flatnonzero((samples >= nbefore) & (samples <= int(n) - nafter))
        plan = plan_reads(int(n), chunk_frames, samples[interior], nbefore, nafter, mode=mode)
        blocks = [BlockSpec(seg, b.ranges, b.buffer_offsets, lo + interior[b.spike_indices], b.relative_peaks)
                  for b in plan.blocks]
        out.append(SegmentPlan(seg, plan, blocks))
    return out


def group_tasks(blocks: list, bytes_per_frame: int, state_bytes: int, n_jobs: int) -> list[list]:
    """Consecutive blocks of a segment grouped into tasks for the chunk executor.

    A task allocates and returns accumulators of ``state_bytes``; it reads at least 8 times those
    bytes of traces (so that a thousand units' sums do not outweigh the traces), but no more
    blocks than still give every worker two tasks. Jobs without accumulators get one block per
    task.

    Parameters
    ----------
    blocks : list of BlockSpec
        In plan order.
    bytes_per_frame : int
        Bytes of one frame of traces.
    state_bytes : int
        Accumulator bytes of a task.
    n_jobs : int
        Workers.

    Returns
    -------
    list of list of BlockSpec
    """
    if not blocks:
        return []
    if state_bytes <= 0:
        return [[b] for b in blocks]
    cap = max(1, -(-len(blocks) // max(1, 2 * n_jobs)))
    tasks, current, read = [], [], 0
    for b in blocks:
        if current and (b.segment_index != current[-1].segment_index or read >= 8 * state_bytes
                        or len(current) >= cap):
            tasks.append(current)
            current, read = [], 0
        current.append(b)
        read += b.num_frames * bytes_per_frame
    tasks.append(current)
    return tasks
