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
    window = nbefore + nafter + 2 * margin
    needed = needed_mask(num_samples, peaks, nbefore, nafter, margin)
    read = np.zeros(num_samples, dtype=np.int64)
    for blk in plan.blocks:
        r = blk.ranges
        # inside a block: sorted, non-empty, disjoint ranges inside the segment
        assert np.all(r[:, 1] > r[:, 0])
        assert np.all(r[1:, 0] >= r[:-1, 1])
        assert r[0, 0] >= 0 and r[-1, 1] <= num_samples
        np.testing.assert_array_equal(
            blk.buffer_offsets,
            np.concatenate([[0], np.cumsum(np.diff(r, axis=1)[:, 0])[:-1]]),
        )
        # bounded: at most a chunk plus one window, whatever the spike rate
        assert blk.num_frames <= chunk_size + window, blk
        if plan.mode == "windows" and blk.num_frames > chunk_size:  # a piece of a burst cut between spikes
            assert blk.is_contiguous, blk
        elif plan.mode != "windows":
            assert blk.is_contiguous
        for a, b in r:
            read[a:b] += 1
    assert plan.planned_frames == int(read.sum())
    # total bytes bounded: the file once, plus at most one window per chunk of the file
    assert plan.planned_frames <= num_samples + -(-num_samples // chunk_size) * window
    if plan.mode == "windows":
        # exactly the needed frames, each once except where a burst was cut between spikes
        np.testing.assert_array_equal(read > 0, needed)
    elif len(peaks) == 0 and plan.coverage == 1.0:  # planned without spikes: every frame once
        assert np.all(read == 1)
    else:
        assert np.all(read[needed] >= 1)
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
    # whole mode: one contiguous read per chunk, from its first window to its last (here one each)
    whole = plan_reads(1000, 100, peaks, 10, 10, mode="whole")
    assert whole.planned_frames == 200 and all(b.is_contiguous for b in whole.blocks)
    dense = np.arange(10, 990, 7)  # windows overlap: the chunks' reads cover [0, 993), overlapping at the cuts
    frames = plan_reads(1000, 100, dense, 10, 10, mode="whole").planned_frames
    assert 993 <= frames <= 1000 * (1 + 20 / 100)


def test_whole_mode_reads_windows_across_the_cut():
    # cut every 100 frames; the spike at 99 owns [94, 109): its block reaches past the cut at 100
    peaks = np.array([10, 99, 100, 250])
    plan = plan_reads(300, 100, peaks, 5, 10, mode="whole")
    assert [b.ranges.tolist() for b in plan.blocks] == [[[5, 109]], [[95, 110]], [[245, 260]]]
    assert [b.spike_indices.tolist() for b in plan.blocks] == [[0, 1], [2], [3]]
    assert plan.blocks[0].relative_peaks.tolist() == [5, 94]
    check_plan(plan, 300, 100, peaks, 5, 10, 0)


def test_oversize_window_gets_own_block():
    peaks = np.array([30, 300])
    plan = plan_reads(500, 30, peaks, nbefore=20, nafter=40, mode="windows")
    assert [b.num_frames for b in plan.blocks] == [60, 60]
    check_plan(plan, 500, 30, peaks, 20, 40, 0)
    plan = plan_reads(500, 30, peaks, nbefore=20, nafter=40, mode="whole")
    assert (10, 70) in [(b.start_frame, b.end_frame) for b in plan.blocks]
    check_plan(plan, 500, 30, peaks, 20, 40, 0)


def test_burst_is_cut_between_spikes():
    # 100 overlapping windows (a burst) span 310 frames: cut into blocks of at most 50 + 15 frames
    peaks = np.arange(100, 400, 3)
    plan = plan_reads(1000, 50, peaks, 5, 10, mode="windows")
    assert plan.max_block_frames <= 65
    assert len(plan) == 6
    check_plan(plan, 1000, 50, peaks, 5, 10, 0)
    # windows longer than the chunk: a block still holds the spikes within a chunk + one window
    dup = np.array([100, 100, 100, 103, 400])
    plan = plan_reads(1000, 5, dup, 5, 10, mode="windows")
    assert [b.num_spikes for b in plan.blocks] == [4, 1] and plan.max_block_frames == 18
    check_plan(plan, 1000, 5, dup, 5, 10, 0)


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


# ---------------------------------------------------------------- an hour of Neuropixels data
@pytest.mark.parametrize("rate_hz", [500, 3_000, 20_000, 100_000])
def test_one_hour_plans_are_bounded_at_any_spike_rate(rate_hz):
    """A 384-channel int16 hour at 30 kHz; total firing rates of 0.5 to 100 kHz (up to 360 M spikes)."""
    fs, seconds, bytes_per_frame = 30_000, 3600, 384 * 2
    num_samples = fs * seconds
    nbefore, nafter = 30, 60
    chunk = fs  # one-second blocks
    rng = np.random.default_rng(rate_hz)
    n = rate_hz * seconds
    # Poisson spike train: cumulative exponential gaps, kept inside the windows' reach (int32: 4 bytes a spike)
    gaps = rng.exponential(fs / rate_hz, n)
    peaks = (nbefore + np.cumsum(gaps) * ((num_samples - nafter - nbefore) / max(gaps.sum(), 1))).astype(np.int32)
    del gaps
    peaks = np.minimum(peaks, num_samples - nafter)
    plan = plan_reads(num_samples, chunk, peaks, nbefore, nafter)
    window = nbefore + nafter
    assert plan.max_block_frames <= chunk + window
    assert plan.planned_bytes(bytes_per_frame) <= num_samples * bytes_per_frame * (1 + window / chunk)
    # every spike exactly once: the blocks' spike ranges tile the sorted spikes
    starts = np.array([b.spike_start for b in plan.blocks])
    stops = np.array([b.spike_stop for b in plan.blocks])
    assert starts[0] == 0 and stops[-1] == n and np.array_equal(starts[1:], stops[:-1])
    assert plan.num_spikes == n
    # spot check: the windows of a block's first and last spikes lie inside its buffer
    for blk in plan.blocks[:: max(1, len(plan) // 50)]:
        rel = blk.relative_peaks
        assert rel.min() >= nbefore and rel.max() + nafter <= blk.num_frames
