"""Read planner: decide which frames of one recording segment to read, and in which blocks.

A job needs either the whole segment (filtering, saving) or only windows around spikes
(waveforms, templates, random chunks). The planner turns that need into read blocks, every one
bounded, whatever the spike rate:

* ``"whole"`` mode: the segment is cut every ``chunk_size`` frames; a piece owns the spikes whose
  peak falls in it and its block is one contiguous read from the first owned window to the last
  (a window reaching past the cut is read with its block: neighbouring blocks overlap by at most
  one window). A block holds at most ``chunk_size + window`` frames, where ``window`` is
  ``nbefore + nafter + 2 * margin``; pieces owning no spike are not read. Without spikes, the
  blocks are the pieces themselves and cover the segment exactly once.
* ``"windows"`` mode: spike windows are merged into clusters; clusters are packed back to back
  into blocks of at most ``chunk_size`` frames (the gaps are neither read nor copied, and no frame
  is read twice); a cluster longer than ``chunk_size`` (overlapping windows of a burst) is cut
  between spikes into pieces of at most ``chunk_size + window`` frames, each a block of its own,
  neighbours overlapping by less than a window.
* every spike belongs to exactly one block, which holds its whole window (and clipped margin);
  the block gives the position of each of its peaks in the block's buffer.

The total planned is at most ``num_samples * (1 + window / chunk_size)`` frames. Spikes are
handled as index ranges into the sorted peaks, so an hour of Neuropixels data at 100 kHz of
spikes (360 million) plans in seconds, with memory for the peaks only.

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
    spike_start, spike_stop : int
        The block's spikes are positions ``spike_start:spike_stop`` of the plan's peaks sorted
        by time (see :attr:`spike_indices` for their indices in the planner's input).
    """

    index: int
    ranges: np.ndarray
    buffer_offsets: np.ndarray
    spike_start: int = 0
    spike_stop: int = 0
    _sorted_peaks: np.ndarray | None = field(default=None, repr=False)
    _order: np.ndarray | None = field(default=None, repr=False)
    _lead: int = field(default=0, repr=False)

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

    @property
    def num_spikes(self) -> int:
        """Number of spikes this block owns."""
        return self.spike_stop - self.spike_start

    @property
    def spike_indices(self) -> np.ndarray:
        """int64 indices (into the planner's ``peak_samples`` input) of the block's spikes, in
        increasing order of peak sample."""
        if self._order is None:
            return np.arange(self.spike_start, self.spike_stop, dtype=np.int64)
        return self._order[self.spike_start:self.spike_stop].astype(np.int64, copy=False)

    @property
    def relative_peaks(self) -> np.ndarray:
        """int64 position of each of the block's peaks inside the block's buffer."""
        if self.spike_stop == self.spike_start:
            return np.zeros(0, dtype=np.int64)
        peaks = self._sorted_peaks[self.spike_start:self.spike_stop].astype(np.int64, copy=False)
        if self.ranges.shape[0] == 1:
            return peaks - self.ranges[0, 0]
        # the range holding a window holds its (clipped) start
        rid = np.searchsorted(self.ranges[:, 0], np.maximum(peaks - self._lead, 0), side="right") - 1
        return peaks - self.ranges[rid, 0] + self.buffer_offsets[rid]

    def __repr__(self) -> str:
        return (
            f"ReadBlock(index={self.index}, frames=[{self.start_frame}, {self.end_frame}), "
            f"num_frames={self.num_frames}, num_ranges={self.ranges.shape[0]}, "
            f"num_spikes={self.num_spikes})"
        )


@dataclass(frozen=True, eq=False)
class ReadPlan:
    """The blocks to read from one segment, in file order.

    Attributes
    ----------
    num_samples : int
        Length of the segment in frames.
    chunk_size : int
        Frames per block (a whole-mode block may add one window; see the module docstring).
    mode : {"windows", "whole"}
        ``"windows"``: only the (merged) spike windows are read; ``"whole"``: contiguous blocks.
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
        """All ``(n, 2)`` frame ranges of the plan, in block order."""
        if not self.blocks:
            return np.zeros((0, 2), dtype=np.int64)
        return np.concatenate([b.ranges for b in self.blocks], axis=0)

    @property
    def planned_frames(self) -> int:
        """Total number of frames the plan reads."""
        return int(sum(b.num_frames for b in self.blocks))

    def planned_bytes(self, bytes_per_frame: int) -> int:
        """Total bytes the plan reads for frames of ``bytes_per_frame`` bytes.

        Parameters
        ----------
        bytes_per_frame : int
            Bytes of one frame (channels x item size).

        Returns
        -------
        int
        """
        return self.planned_frames * int(bytes_per_frame)

    @property
    def max_block_frames(self) -> int:
        """Largest block, in frames: the size a ring-buffer slot needs."""
        return max((b.num_frames for b in self.blocks), default=0)

    @property
    def num_spikes(self) -> int:
        """Number of spikes assigned to the plan's blocks."""
        return int(sum(b.num_spikes for b in self.blocks))


def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


_SLICE = 1 << 23  # spikes per slice of the vectorised passes: memory bounded by the peaks


def _windows(sp: np.ndarray, lead: int, trail: int, num_samples: int, lo: int, hi: int):
    """Clipped window starts and ends of sorted peaks ``sp[lo:hi]``."""
    part = sp[lo:hi].astype(np.int64, copy=False)
    return np.maximum(part - lead, 0), np.minimum(part + trail, num_samples)


def _clusters(sp: np.ndarray, lead: int, trail: int, num_samples: int):
    """Merged windows of sorted peaks: ``(starts, ends, first_spike)`` of each cluster (windows
    that overlap or touch merge), computed slice by slice."""
    starts, ends, firsts = [], [], []
    carry = -1  # running end of the windows seen so far
    for lo in range(0, sp.size, _SLICE):
        hi = min(lo + _SLICE, sp.size)
        ws, we = _windows(sp, lead, trail, num_samples, lo, hi)
        running = np.maximum.accumulate(np.maximum(we, carry))
        prev = np.empty_like(running)
        prev[0] = carry
        prev[1:] = running[:-1]
        first = np.flatnonzero(ws > prev)
        if ends:  # the open cluster of the previous slices runs on until this slice's first new one
            upto = int(first[0]) if first.size else ws.size
            if upto:
                ends[-1][-1] = running[upto - 1]
        if first.size:
            last = np.append(first[1:] - 1, ws.size - 1)
            starts.append(ws[first])
            ends.append(running[last])
            firsts.append(first + lo)
        carry = int(running[-1])
    if not starts:
        z = np.zeros(0, dtype=np.int64)
        return z, z, z
    return np.concatenate(starts), np.concatenate(ends), np.concatenate(firsts).astype(np.int64)


def _split_cluster(sp: np.ndarray, k0: int, k1: int, lead: int, trail: int, num_samples: int,
                   chunk_size: int) -> list:
    """Cut a cluster of spikes ``k0:k1`` (sorted peaks) into pieces ``(k_start, k_stop, start, end)``
    whose read span is at most ``chunk_size`` (or one window, when a window is longer)."""
    ws, we = _windows(sp, lead, trail, num_samples, k0, k1)
    run_end = np.maximum.accumulate(we)
    span = chunk_size + lead + trail  # a piece: a chunk, plus the window of its last spike
    pieces = []
    j = 0
    n = k1 - k0
    while j < n:
        # the spikes whose running window end stays within a span of this piece's start
        stop = int(np.searchsorted(run_end, max(ws[j] + span, run_end[j]), side="right"))
        pieces.append((k0 + j, k0 + stop, int(ws[j]), int(run_end[stop - 1])))
        j = stop
    return pieces


def _check_peaks(peaks: np.ndarray, nbefore: int, nafter: int, num_samples: int) -> None:
    if peaks.ndim != 1:
        raise ValueError(f"peak_samples must be 1-D, got shape {peaks.shape}")
    if peaks.size and not np.issubdtype(peaks.dtype, np.integer):
        raise TypeError(f"peak_samples must hold integers, got dtype {peaks.dtype}")
    if nbefore + nafter == 0 and peaks.size:
        raise ValueError("nbefore + nafter must be >= 1 when peak_samples is given, got 0")
    if peaks.size:
        low, high = int(peaks.min()), int(peaks.max())
        if low - nbefore < 0 or high + nafter > num_samples:
            bad = np.flatnonzero((peaks < nbefore) | (peaks > num_samples - nafter))
            raise ValueError(
                f"peak_samples: {bad.size} spike window(s) [peak - nbefore, peak + nafter) fall "
                f"outside [0, num_samples={num_samples}) with nbefore={nbefore}, "
                f"nafter={nafter}; first: index {bad[0]}, peak {peaks[bad[0]]}. "
                "Drop or clip those spikes before planning."
            )


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
    """Plan the reads of one segment in bounded blocks.

    Parameters
    ----------
    num_samples : int
        Length of the segment in frames.
    chunk_size : int
        Frames per block (>= 1). Whole-mode blocks may add one window; see the module docstring.
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
        the segment, else read contiguous blocks.
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
        cuts = np.arange(0, num_samples, chunk_size, dtype=np.int64)
        blocks = tuple(
            ReadBlock(i, np.array([[a, min(a + chunk_size, num_samples)]], dtype=np.int64),
                      np.zeros(1, dtype=np.int64))
            for i, a in enumerate(cuts.tolist())
        )
        return ReadPlan(num_samples, chunk_size, "whole", blocks, 0, 0, margin, 1.0)

    peaks = np.asarray(peak_samples)
    _check_peaks(peaks, nbefore, nafter, num_samples)
    order = None
    if peaks.size > 1 and np.any(peaks[1:] < peaks[:-1]):
        order = np.argsort(peaks, kind="stable")
        sp = peaks[order]
    else:
        sp = peaks
    lead, trail = nbefore + margin, nafter + margin
    cstart, cend, cfirst = _clusters(sp, lead, trail, num_samples)
    covered = int((cend - cstart).sum())
    coverage = covered / num_samples if num_samples else 1.0
    if mode == "auto":
        mode = "windows" if coverage < threshold else "whole"

    def block(i, ranges, k0, k1):
        ranges = np.asarray(ranges, dtype=np.int64).reshape(-1, 2)
        offsets = np.concatenate([[0], np.cumsum(ranges[:, 1] - ranges[:, 0])[:-1]]).astype(np.int64)
        return ReadBlock(i, ranges, offsets, int(k0), int(k1), sp, order, lead)

    blocks = []
    if mode == "whole":
        cuts = np.arange(0, num_samples + chunk_size, chunk_size, dtype=np.int64)
        bounds = np.searchsorted(sp, cuts[:-1] if cuts.size > 1 else cuts, side="left")
        bounds = np.append(bounds, sp.size)
        for k0, k1 in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
            if k1 > k0:
                start = max(int(sp[k0]) - lead, 0)
                end = min(int(sp[k1 - 1]) + trail, num_samples)
                blocks.append(block(len(blocks), [[start, end]], k0, k1))
    else:
        clast = np.append(cfirst[1:], sp.size)
        pending: list = []  # packed clusters of the block being built: [start, end, k0, k1]
        used = 0
        for c0, c1, k0, k1 in zip(cstart.tolist(), cend.tolist(), cfirst.tolist(), clast.tolist()):
            span = c1 - c0
            if pending and (span > chunk_size or used + span > chunk_size):
                blocks.append(block(len(blocks), [p[:2] for p in pending], pending[0][2], pending[-1][3]))
                pending, used = [], 0
            if span > chunk_size:  # a burst of overlapping windows: cut it between spikes
                for k_a, k_b, a, b in _split_cluster(sp, k0, k1, lead, trail, num_samples, chunk_size):
                    blocks.append(block(len(blocks), [[a, b]], k_a, k_b))
                continue
            pending.append([c0, c1, k0, k1])
            used += span
        if pending:
            blocks.append(block(len(blocks), [p[:2] for p in pending], pending[0][2], pending[-1][3]))
    return ReadPlan(num_samples, chunk_size, mode, tuple(blocks), nbefore, nafter, margin, coverage)
