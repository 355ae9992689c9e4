"""Read planner: unit and property tests against an independent NumPy reference."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st, HealthCheck

from gpuspike.streaming import ReadPlan, plan_reads


# ---------------------------------------------------------------- independent reference
def needed_mask(num_samples, peaks, nbefore, nafter, margin):
    """Boolean mask of every frame some spike window (+ clipped margin) needs."""
    mask = np.zeros(num_samples, dtype=bool)
    for p in peaks:
        mask[max(p - nbefore - margin, 0) : min(p + nafter + margin, num_samples)] = True
    return mask


def runs(mask):
    """(start, end) of each run of True in mask."""
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    d = np.diff(padded)
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))


def buffer_frames(block):
    """Absolute frame held by each row of the block's buffer."""
    return np.concatenate([np.arange(a, b) for a, b in block.ranges])


def check_plan(plan, num_samples, chunk_size, peaks, nbefore, nafter, margin):
    """All the invariants of a plan, checked against the reference."""
    ranges = plan.ranges
    # sorted, non-empty, disjoint, inside the segment
    assert np.all(ranges[:, 1] > ranges[:, 0])
    assert np.all(ranges[1:, 0] >= ranges[:-1, 1])
    if ranges.size:
        assert ranges[0, 0] >= 0 and ranges[-1, 1] <= num_samples
    # never a frame twice: frame count of ranges == size of their union
    union = np.zeros(num_samples, dtype=np.int64)
    for a, b in ranges:
        union[a:b] += 1
    assert union.max(initial=0) <= 1
    assert plan.planned_frames == int(union.sum())
    # coverage: exactly the needed frames (windows mode) or everything (whole mode)
    if plan.mode == "windows":
        np.testing.assert_array_equal(
            union.astype(bool), needed_mask(num_samples, peaks, nbefore, nafter, margin)
        )
    else:
        assert union.sum() == num_samples
    # block sizes: <= chunk_size unless the block is exactly one needed cluster
    clusters = set(runs(needed_mask(num_samples, peaks, nbefore, nafter, margin)))
    for blk in plan.blocks:
        if blk.num_frames > chunk_size:
            assert blk.is_contiguous
            assert (blk.start_frame, blk.end_frame) in clusters, blk
        np.testing.assert_array_equal(
            blk.buffer_offsets,
            np.concatenate([[0], np.cumsum(np.diff(blk.ranges, axis=1)[:, 0])[:-1]]),
        )
    # every spike in exactly one block, its window (+ clipped margin) contiguous in the buffer
    seen = np.zeros(len(peaks), dtype=np.int64)
    for blk in plan.blocks:
        frames = buffer_frames(blk)
        assert frames.size == blk.num_frames
        for i, rel in zip(blk.spike_indices, blk.relative_peaks):
            seen[i] += 1
            p = peaks[i]
            lo = p - max(p - nbefore - margin, 0)
            hi = min(p + nafter + margin, num_samples) - p
            assert rel - lo >= 0 and rel + hi <= frames.size
            np.testing.assert_array_equal(frames[rel - lo : rel + hi], np.arange(p - lo, p + hi))
        # spikes listed in peak order
        assert np.all(np.diff(np.asarray(peaks)[blk.spike_indices]) >= 0)
    np.testing.assert_array_equal(seen, np.ones(len(peaks), dtype=np.int64))
    assert plan.num_spikes == len(peaks)


# ---------------------------------------------------------------- unit tests
def test_whole_segment_chunks():
    plan = plan_reads(1000, 300)
    assert plan.mode == "whole"
    np.testing.assert_array_equal(plan.ranges, [[0, 300], [300, 600], [600, 900], [900, 1000]])
    assert plan.max_block_frames == 300
    assert plan.planned_bytes(768) == 1000 * 768
    assert plan.num_spikes == 0


def test_windows_mode_packs_and_merges():
    peaks = np.array([20, 25, 200, 600])
    plan = plan_reads(1000, 40, peaks, nbefore=5, nafter=10, mode="windows")
    assert plan.mode == "windows"
    # [15,30) and [20,35) merge; then [195,210) and [595,610)
    np.testing.assert_array_equal(plan.ranges, [[15, 35], [195, 210], [595, 610]])
    # first block: 20 + 15 frames = 35 <= 40; third range would make 50 > 40
    assert [b.ranges.shape[0] for b in plan.blocks] == [2, 1]
    b0 = plan.blocks[0]
    np.testing.assert_array_equal(b0.spike_indices, [0, 1, 2])
    np.testing.assert_array_equal(b0.relative_peaks, [5, 10, 20 + 5])
    check_plan(plan, 1000, 40, peaks, 5, 10, 0)


def test_threshold_switches_mode():
    peaks = np.arange(10, 1000, 100)  # 10 windows of 20 frames -> coverage 0.2
    assert plan_reads(1000, 100, peaks, 10, 10, threshold=0.5).mode == "windows"
    assert plan_reads(1000, 100, peaks, 10, 10, threshold=0.2).mode == "whole"
    assert plan_reads(1000, 100, peaks, 10, 10, threshold=0.21).mode == "windows"
    p = plan_reads(1000, 100, peaks, 10, 10, threshold=0.5)
    assert p.coverage == pytest.approx(0.2)
    assert p.planned_frames == 200
    assert plan_reads(1000, 100, peaks, 10, 10, mode="whole").planned_frames == 1000


def test_whole_mode_never_cuts_a_window():
    # window of spike at 100 is [95, 110): the natural cut at 100 must move to 95
    peaks = np.array([100])
    plan = plan_reads(300, 100, peaks, 5, 10, mode="whole")
    np.testing.assert_array_equal(plan.ranges, [[0, 95], [95, 195], [195, 295], [295, 300]])
    assert plan.blocks[1].relative_peaks.tolist() == [5]
    check_plan(plan, 300, 100, peaks, 5, 10, 0)


def test_oversize_window_gets_own_block():
    peaks = np.array([30, 300])
    plan = plan_reads(500, 30, peaks, nbefore=20, nafter=40, mode="windows")
    assert [b.num_frames for b in plan.blocks] == [60, 60]
    check_plan(plan, 500, 30, peaks, 20, 40, 0)
    plan = plan_reads(500, 30, peaks, nbefore=20, nafter=40, mode="whole")
    assert (10, 70) in [(b.start_frame, b.end_frame) for b in plan.blocks]
    check_plan(plan, 500, 30, peaks, 20, 40, 0)


def test_margin_is_clipped_at_edges():
    peaks = np.array([5, 95])
    plan = plan_reads(100, 1000, peaks, nbefore=5, nafter=5, margin=20, mode="windows")
    np.testing.assert_array_equal(plan.ranges, [[0, 30], [70, 100]])
    np.testing.assert_array_equal(plan.blocks[0].relative_peaks, [5, 30 + 25])
    check_plan(plan, 100, 1000, peaks, 5, 5, 20)


def test_unsorted_peaks_indices_into_input():
    peaks = np.array([500, 20, 300])
    plan = plan_reads(1000, 50, peaks, 5, 5, mode="windows")
    order = np.concatenate([b.spike_indices for b in plan.blocks])
    np.testing.assert_array_equal(order, [1, 2, 0])
    check_plan(plan, 1000, 50, peaks, 5, 5, 0)


def test_empty_peaks():
    plan = plan_reads(1000, 50, np.zeros(0, dtype=np.int64), 5, 5)
    assert plan.mode == "windows" and len(plan) == 0 and plan.planned_frames == 0
    assert plan.max_block_frames == 0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(peak_samples=np.array([3]), nbefore=5, nafter=5), "peak_samples"),
        (dict(peak_samples=np.array([996]), nbefore=5, nafter=5), "peak_samples"),
        (dict(peak_samples=np.array([[10]]), nbefore=5, nafter=5), "peak_samples"),
        (dict(peak_samples=np.array([10]), nbefore=0, nafter=0), "nbefore"),
        (dict(nbefore=-1), "nbefore"),
        (dict(margin=-2), "margin"),
        (dict(threshold=1.5), "threshold"),
        (dict(mode="sometimes"), "mode"),
    ],
)
def test_invalid_arguments_raise_valueerror_naming_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        plan_reads(1000, 100, **kwargs)


def test_invalid_sizes():
    with pytest.raises(ValueError, match="chunk_size"):
        plan_reads(1000, 0)
    with pytest.raises(TypeError, match="num_samples"):
        plan_reads(10.5, 10)
    with pytest.raises(TypeError, match="peak_samples"):
        plan_reads(100, 10, np.array([10.0]), 1, 1)


# ---------------------------------------------------------------- properties
@st.composite
def plan_inputs(draw):
    nbefore = draw(st.integers(0, 15))
    nafter = draw(st.integers(1, 15))
    num_samples = draw(st.integers(nbefore + nafter, 1500))
    chunk_size = draw(st.integers(1, 200))
    margin = draw(st.integers(0, 10))
    peaks = draw(
        st.lists(st.integers(nbefore, num_samples - nafter), min_size=0, max_size=60)
    )
    if draw(st.booleans()):
        peaks = sorted(peaks)
    mode = draw(st.sampled_from(["auto", "windows", "whole"]))
    threshold = draw(st.floats(0.0, 1.0))
    return num_samples, chunk_size, np.array(peaks, dtype=np.int64), nbefore, nafter, margin, mode, threshold


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan_inputs())
def test_plan_properties(args):
    num_samples, chunk_size, peaks, nbefore, nafter, margin, mode, threshold = args
    plan = plan_reads(num_samples, chunk_size, peaks, nbefore, nafter, margin, threshold, mode)
    assert isinstance(plan, ReadPlan)
    cov = needed_mask(num_samples, peaks, nbefore, nafter, margin).mean()
    if mode == "auto":
        assert plan.mode == ("windows" if cov < threshold else "whole")
    else:
        assert plan.mode == mode
    assert plan.coverage == pytest.approx(cov)
    check_plan(plan, num_samples, chunk_size, peaks, nbefore, nafter, margin)


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 3000), st.integers(1, 500))
def test_whole_plan_properties(num_samples, chunk_size):
    plan = plan_reads(num_samples, chunk_size)
    assert all(b.num_frames <= chunk_size for b in plan.blocks)
    assert len(plan) == -(-num_samples // chunk_size)
    check_plan(plan, num_samples, chunk_size, np.zeros(0, np.int64), 0, 0, 0)
