"""Read planner: decide which frames of one recording segment to read, and in which blocks.

A job needs either the whole segment (filtering, saving, noise levels) or only windows around
spikes (waveforms of sampled spikes). The planner turns that need into read blocks:

* needed frame intervals are sorted and merged into non-overlapping *ranges* (one ``pread``
  each), so no frame is ever read twice;
* ranges are grouped into *blocks* of at most ``chunk_size`` frames; a block's buffer holds its
  ranges packed back to back (the gaps between ranges are neither read nor copied);
* a spike window (with its margin) is never split across two blocks; a cluster of overlapping
  windows longer than ``chunk_size`` gets a block of its own (the only oversize blocks);
* every spike is assigned to exactly one block, with the position of its peak inside that
  block's buffer, so kernels gather ``buffer[rel - nbefore : rel + nafter]``.

Edges: a spike window ``[peak - nbefore, peak + nafter)`` must lie inside
``[0, num_samples)``; otherwise :func:`plan_reads` raises ``ValueError`` naming
``peak_samples`` (windows are never silently clipped, so every spike yields a full waveform).
The optional ``margin`` around windows, in contrast, *is* clipped at the segment edges.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

__all__ = ["ReadBlock", "ReadPlan", "plan_reads"]

PlanMode = Literal["auto", "windows", "whole"]


@dataclass(frozen=True, eq=False)
class ReadBlock:
    """One read block of a :class:`ReadPlan`.

    Attributes
    ----------
    index : int
        Position of the block in the plan.
    ranges : np.ndarray
        ``(k, 2)`` int64 absolute frame ranges ``[start, end)`` read into this block, sorted
        and disjoint; they are packed back to back in the block's buffer.
    buffer_offsets : np.ndarray
        ``(k,)`` int64: frame offset of each range inside the block's buffer.
    spike_indices : np.ndarray
        int64 indices (into the planner's ``peak_samples`` input) of the spikes in this block,
        in increasing order of peak sample.
    relative_peaks : np.ndarray
        int64 position of each of those spikes' peak inside the block's buffer.
    """

    index: int
    ranges: np.ndarray
    buffer_offsets: np.ndarray
    spike_indices: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    relative_peaks: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def start_frame(self) -> int:
        """First frame read by this block (absolute)."""
        return int(self.ranges[0, 0])

    @property
    def end_frame(self) -> int:
        """One past the last frame read by this block (absolute)."""
        return int(self.ranges[-1, 1])

    @property
    def num_frames(self) -> int:
        """Number of frames in the block's buffer (sum of its range lengths)."""
        return int((self.ranges[:, 1] - self.ranges[:, 0]).sum())

    @property
    def is_contiguous(self) -> bool:
        """True when the block is one range (buffer row ``i`` is frame ``start_frame + i``)."""
        return self.ranges.shape[0] == 1

    def __repr__(self) -> str:
        return (
            f"ReadBlock(index={self.index}, frames=[{self.start_frame}, {self.end_frame}), "
            f"num_frames={self.num_frames}, num_ranges={self.ranges.shape[0]}, "
            f"num_spikes={self.spike_indices.size})"
        )


@dataclass(frozen=True, eq=False)
class ReadPlan:
    """The blocks to read from one segment, in file order.

    Attributes
    ----------
    num_samples : int
        Length of the segment in frames.
    chunk_size : int
        Maximum frames per block (except oversize window clusters).
    mode : {"windows", "whole"}
        ``"windows"``: only the (merged) spike windows are read; ``"whole"``: the whole segment.
    blocks : tuple of ReadBlock
    nbefore, nafter, margin : int
        Window parameters the plan was made with (0 when planning a whole segment).
    coverage : float
        Fraction of the segment covered by the (margin-extended) windows; 1.0 for a plan made
        without spikes.
    """

    num_samples: int
    chunk_size: int
    mode: str
    blocks: tuple
    nbefore: int = 0
    nafter: int = 0
    margin: int = 0
    coverage: float = 1.0

    def __len__(self) -> int:
        return len(self.blocks)

    def __repr__(self) -> str:
        return (
            f"ReadPlan(mode={self.mode!r}, num_blocks={len(self.blocks)}, "
            f"planned_frames={self.planned_frames}, num_samples={self.num_samples}, "
            f"chunk_size={self.chunk_size}, coverage={self.coverage:.3g})"
        )

    def __iter__(self):
        return iter(self.blocks)

    @property
    def ranges(self) -> np.ndarray:
        """All ``(n, 2)`` frame ranges of the plan, sorted and disjoint."""
        if not self.blocks:
            return np.zeros((0, 2), dtype=np.int64)
        return np.concatenate([b.ranges for b in self.blocks], axis=0)

    @property
    def planned_frames(self) -> int:
        """Total number of frames the plan reads."""
        return int(sum(b.num_frames for b in self.blocks))

    def planned_bytes(self, bytes_per_frame: int) -> int:
        """Total bytes the plan reads for frames of ``bytes_per_frame`` bytes."""
        return self.planned_frames * int(bytes_per_frame)

    @property
    def max_block_frames(self) -> int:
        """Largest block, in frames: the size a ring-buffer slot needs."""
        return max((b.num_frames for b in self.blocks), default=0)

    @property
    def num_spikes(self) -> int:
        """Number of spikes assigned to the plan's blocks."""
        return int(sum(b.spike_indices.size for b in self.blocks))


def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _merge(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Merge sorted-by-start half-open intervals that overlap or touch -> (k, 2)."""
    if starts.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    run_end = np.maximum.accumulate(ends)
    new = np.ones(starts.size, dtype=bool)
    new[1:] = starts[1:] > run_end[:-1]
    first = np.flatnonzero(new)
    last = np.append(first[1:] - 1, starts.size - 1)
    return np.stack([starts[first], run_end[last]], axis=1).astype(np.int64)


def _split_whole(num_samples: int, chunk_size: int, clusters: np.ndarray) -> list:
    """Cut ``[0, num_samples)`` into pieces <= chunk_size, never cutting inside a cluster."""
    pieces = []
    cstart, cend = clusters[:, 0], clusters[:, 1]
    a = 0
    while a < num_samples:
        cut = a + chunk_size
        if cut >= num_samples:
            cut = num_samples
        else:
            # the cluster (if any) that strictly contains the cut
            j = np.searchsorted(cstart, cut, side="left") - 1
            if j >= 0 and cstart[j] < cut < cend[j]:
                cut = int(cstart[j]) if cstart[j] > a else int(cend[j])
        pieces.append((a, cut))
        a = cut
    return pieces


def plan_reads(
    num_samples: int,
    chunk_size: int,
    peak_samples: np.ndarray | None = None,
    nbefore: int = 0,
    nafter: int = 0,
    margin: int = 0,
    threshold: float = 0.5,
    mode: PlanMode = "auto",
) -> ReadPlan:
    """Plan the reads of one segment.

    Parameters
    ----------
    num_samples : int
        Length of the segment in frames.
    chunk_size : int
        Maximum frames per block (>= 1). A cluster of overlapping spike windows longer than
        this gets a block of its own.
    peak_samples : np.ndarray or None
        Peak frame of each spike (int, ideally sorted; unsorted input is accepted and the
        block's ``spike_indices`` still index the input). ``None`` plans the whole segment.
    nbefore, nafter : int
        The window of a spike is ``[peak - nbefore, peak + nafter)``; it must lie inside
        ``[0, num_samples)``.
    margin : int
        Extra frames read on each side of every window (e.g. filter context), clipped to the
        segment; a spike's margin travels in the same block as its window.
    threshold : float
        In ``mode="auto"``, read only the windows when they cover less than this fraction of
        the segment, else stream the whole segment.
    mode : {"auto", "windows", "whole"}
        Force one strategy, or let ``threshold`` decide.

    Returns
    -------
    ReadPlan

    Raises
    ------
    ValueError
        If an argument is out of range, or a spike window falls outside the segment.
    """
    num_samples = _check_int("num_samples", num_samples, 0)
    chunk_size = _check_int("chunk_size", chunk_size, 1)
    nbefore = _check_int("nbefore", nbefore, 0)
    nafter = _check_int("nafter", nafter, 0)
    margin = _check_int("margin", margin, 0)
    if mode not in ("auto", "windows", "whole"):
        raise ValueError(f"mode must be 'auto', 'windows' or 'whole', got {mode!r}")
    if not (0.0 <= float(threshold) <= 1.0):
        raise ValueError(f"threshold must be in [0, 1], got {threshold!r}")

    if peak_samples is None:
        pieces = _split_whole(num_samples, chunk_size, np.zeros((0, 2), dtype=np.int64))
        blocks = tuple(
            ReadBlock(i, np.array([p], dtype=np.int64), np.zeros(1, dtype=np.int64))
            for i, p in enumerate(pieces)
        )
        return ReadPlan(num_samples, chunk_size, "whole", blocks, 0, 0, margin, 1.0)

    peaks = np.asarray(peak_samples)
    if peaks.ndim != 1:
        raise ValueError(f"peak_samples must be 1-D, got shape {peaks.shape}")
    if peaks.size and not np.issubdtype(peaks.dtype, np.integer):
        raise TypeError(f"peak_samples must hold integers, got dtype {peaks.dtype}")
    peaks = peaks.astype(np.int64, copy=False)
    if nbefore + nafter == 0 and peaks.size:
        raise ValueError("nbefore + nafter must be >= 1 when peak_samples is given, got 0")
    if peaks.size:
        bad = np.flatnonzero((peaks - nbefore < 0) | (peaks + nafter > num_samples))
        if bad.size:
            raise ValueError(
                f"peak_samples: {bad.size} spike window(s) [peak - nbefore, peak + nafter) fall "
                f"outside [0, num_samples={num_samples}) with nbefore={nbefore}, "
                f"nafter={nafter}; first: index {bad[0]}, peak {peaks[bad[0]]}. "
                "Drop or clip those spikes before planning."
            )

    if peaks.size > 1 and np.any(peaks[1:] < peaks[:-1]):
        order = np.argsort(peaks, kind="stable")
    else:
        order = np.arange(peaks.size, dtype=np.int64)
    sp = peaks[order]
    wstart = np.maximum(sp - nbefore - margin, 0)
    wend = np.minimum(sp + nafter + margin, num_samples)
    # window starts are sorted because peaks are; ends too (same width, monotone clipping)
    clusters = _merge(wstart, wend)
    covered = int((clusters[:, 1] - clusters[:, 0]).sum())
    coverage = covered / num_samples if num_samples else 1.0

    if mode == "auto":
        mode = "windows" if coverage < threshold else "whole"

    # blocks: list of ranges arrays
    block_ranges: list[np.ndarray] = []
    if mode == "whole":
        for a, b in _split_whole(num_samples, chunk_size, clusters):
            block_ranges.append(np.array([[a, b]], dtype=np.int64))
    else:
        # greedy packing, one searchsorted per block (not per cluster)
        cum = np.concatenate([[0], np.cumsum(clusters[:, 1] - clusters[:, 0])])
        k, n = 0, clusters.shape[0]
        while k < n:
            stop = int(np.searchsorted(cum, cum[k] + chunk_size, side="right")) - 1
            stop = max(stop, k + 1)  # an oversize cluster gets a block of its own
            block_ranges.append(clusters[k:stop])
            k = stop

    # assign spikes: find the range containing each window start (all ranges, all blocks)
    if block_ranges:
        all_ranges = np.concatenate(block_ranges, axis=0)
        counts = np.array([r.shape[0] for r in block_ranges])
        range_block = np.repeat(np.arange(len(block_ranges)), counts)
        offsets_per_block = [
            np.concatenate([[0], np.cumsum(r[:, 1] - r[:, 0])[:-1]]).astype(np.int64)
            for r in block_ranges
        ]
        range_offset = np.concatenate(offsets_per_block)
    else:
        all_ranges = np.zeros((0, 2), dtype=np.int64)
        range_block = np.zeros(0, dtype=np.int64)
        range_offset = np.zeros(0, dtype=np.int64)
        offsets_per_block = []
    rid = np.searchsorted(all_ranges[:, 0], wstart, side="right") - 1
    spike_block = range_block[rid] if sp.size else np.zeros(0, dtype=np.int64)
    rel = sp - all_ranges[rid, 0] + range_offset[rid] if sp.size else np.zeros(0, np.int64)
    bounds = np.searchsorted(spike_block, np.arange(len(block_ranges) + 1))

    blocks = tuple(
        ReadBlock(
            i,
            r,
            offsets_per_block[i],
            order[bounds[i] : bounds[i + 1]].astype(np.int64),
            rel[bounds[i] : bounds[i + 1]].astype(np.int64),
        )
        for i, r in enumerate(block_ranges)
    )
    return ReadPlan(num_samples, chunk_size, mode, blocks, nbefore, nafter, margin, coverage)
