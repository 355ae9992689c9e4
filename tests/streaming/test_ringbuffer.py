"""Ring buffer: ordering, bounded slots, error propagation and clean shutdown."""
import threading
import time
import traceback

import numpy as np
import pytest

from gpuspike.streaming import (
    BaseReader,
    RingBuffer,
    parse_memory,
    plan_reads,
    slots_for_budget,
)


class ArrayReader(BaseReader):
    """In-memory reader with optional sleeps; instruments which buffers are in use."""

    def __init__(self, traces, delay=0.0, jitter=0.0, fail_at=None, seed=0):
        super().__init__(traces.dtype, traces.shape[1])
        self.traces = traces
        self.delay = delay
        self.jitter = jitter
        self.fail_at = fail_at
        self.rng = np.random.default_rng(seed)
        self.buffers = set()
        self.exc = None
        self.blocks_started = []

    def read_block(self, block, out):
        self.buffers.add(out.__array_interface__["data"][0])
        self.blocks_started.append(block.index)
        if self.fail_at is not None and block.index == self.fail_at:
            self.exc = RuntimeError(f"disk on fire at block {block.index}")
            raise self.exc
        time.sleep(self.delay + self.jitter * float(self.rng.random()))
        return super().read_block(block, out)

    def read_range(self, start_frame, end_frame, out):
        out[: end_frame - start_frame] = self.traces[start_frame:end_frame]
        self._count((end_frame - start_frame) * self.bytes_per_frame)


def reader_threads():
    return [t for t in threading.enumerate() if t.name.startswith("gpuspike-reader")]


@pytest.fixture
def traces():
    return np.random.default_rng(1).integers(-500, 500, size=(2000, 5), dtype=np.int16)


def serial(traces, plan):
    """Reference: the blocks a plain serial loop would produce."""
    return [np.concatenate([traces[a:b] for a, b in blk.ranges]) for blk in plan.blocks]


@pytest.mark.parametrize("device", [False, True])
@pytest.mark.parametrize("num_readers", [1, 3])
def test_slow_reader_matches_serial(traces, device, num_readers):
    plan = plan_reads(2000, 137)
    reader = ArrayReader(traces, delay=0.002, jitter=0.004)
    ring = RingBuffer(plan.max_block_frames, 5, np.int16, num_slots=3, device=device)
    got = []
    for blk, arr in ring.iterate(reader, plan.blocks, num_readers=num_readers):
        host = arr.copy_to_host() if device else np.array(arr)
        got.append((blk.index, host))
    assert [i for i, _ in got] == list(range(len(plan)))
    for (_, g), e in zip(got, serial(traces, plan)):
        np.testing.assert_array_equal(g, e)
    assert ring.stats.max_live_slots <= 3
    assert len(reader.buffers) <= 3
    assert ring.stats.blocks == len(plan)
    assert ring.stats.bytes_read == reader.bytes_read == 2000 * 10
    if device:
        assert ring.stats.bytes_h2d == 2000 * 10
    assert reader_threads() == []


@pytest.mark.parametrize("device", [False, True])
def test_slow_consumer_bounded_slots(traces, device):
    peaks = np.arange(30, 1970, 37)
    plan = plan_reads(2000, 60, peaks, nbefore=10, nafter=15, mode="windows")
    reader = ArrayReader(traces)
    ring = RingBuffer(plan.max_block_frames, 5, np.int16, num_slots=2, device=device)
    expected = serial(traces, plan)
    n = 0
    for blk, arr in ring.iterate(reader, plan.blocks, num_readers=2):
        time.sleep(0.003)  # readers race ahead and must block on free slots
        host = arr.copy_to_host() if device else arr
        np.testing.assert_array_equal(host, expected[blk.index])
        for i, rel in zip(blk.spike_indices, blk.relative_peaks):
            np.testing.assert_array_equal(host[rel - 10 : rel + 15], traces[peaks[i] - 10 : peaks[i] + 15])
        n += 1
    assert n == len(plan) > 5
    assert 1 <= ring.stats.max_live_slots <= 2
    assert len(reader.buffers) <= 2
    assert reader_threads() == []


@pytest.mark.parametrize("device", [False, True])
def test_reader_exception_surfaces_with_original_traceback(traces, device):
    plan = plan_reads(2000, 100)
    reader = ArrayReader(traces, delay=0.001, fail_at=4)
    ring = RingBuffer(plan.max_block_frames, 5, np.int16, num_slots=3, device=device)
    seen = []
    with pytest.raises(RuntimeError, match="disk on fire at block 4") as info:
        for blk, _ in ring.iterate(reader, plan.blocks, num_readers=2):
            seen.append(blk.index)
    assert info.value is reader.exc
    frames = [f.name for f in traceback.extract_tb(info.value.__traceback__)]
    assert "read_block" in frames and "reader_loop" in frames
    assert seen == list(range(len(seen))) and len(seen) <= 4
    assert reader_threads() == []


@pytest.mark.parametrize("device", [False, True])
def test_early_break_stops_threads(traces, device):
    plan = plan_reads(2000, 50)
    reader = ArrayReader(traces, delay=0.002)
    ring = RingBuffer(plan.max_block_frames, 5, np.int16, num_slots=4, device=device)
    gen = ring.iterate(reader, plan.blocks, num_readers=2)
    for k, (blk, _) in enumerate(gen):
        if k == 2:
            break
    gen.close()
    assert reader_threads() == []
    assert len(reader.blocks_started) < len(plan)  # readers did not run to the end


def test_keyboard_interrupt_in_consumer_stops_threads(traces):
    plan = plan_reads(2000, 50)
    reader = ArrayReader(traces, delay=0.002)
    ring = RingBuffer(plan.max_block_frames, 5, np.int16, num_slots=3)
    gen = ring.iterate(reader, plan.blocks, num_readers=2)
    with pytest.raises(KeyboardInterrupt):
        try:
            for blk, _ in gen:
                if blk.index == 1:
                    raise KeyboardInterrupt
        finally:
            gen.close()
    assert reader_threads() == []


def test_ring_reused_across_passes(traces):
    plan = plan_reads(2000, 300)
    ring = RingBuffer(plan.max_block_frames, 5, np.int16, num_slots=2)
    ids = {id(h) for h in ring.host}
    for _ in range(2):
        total = np.zeros(5, np.int64)
        for _, arr in ring.iterate(ArrayReader(traces), plan.blocks):
            total += arr.sum(axis=0, dtype=np.int64)
        np.testing.assert_array_equal(total, traces.sum(axis=0, dtype=np.int64))
    assert {id(h) for h in ring.host} == ids
    assert ring.host_bytes == 2 * 300 * 10 and ring.device_bytes == 0


@pytest.mark.parametrize("device", [False, True])
def test_channel_indices(traces, device):
    traces = traces[:240]  # the simulator runs one Python thread per CUDA thread
    plan = plan_reads(240, 100)
    ring = RingBuffer(plan.max_block_frames, 5, np.int16, num_slots=2, device=device)
    cols = [4, 0, 2]
    out = []
    for _, arr in ring.iterate(ArrayReader(traces), plan.blocks, channel_indices=cols):
        out.append(arr.copy_to_host() if device else np.array(arr))
    np.testing.assert_array_equal(np.concatenate(out), traces[:, cols])
    with pytest.raises(ValueError, match="channel_indices"):
        ring.iterate(ArrayReader(traces), plan.blocks, channel_indices=[5])


def test_ring_argument_checks(traces):
    plan = plan_reads(2000, 400)
    ring = RingBuffer(100, 5, np.int16, num_slots=2)
    with pytest.raises(ValueError, match="slot_frames"):
        ring.iterate(ArrayReader(traces), plan.blocks)
    with pytest.raises(ValueError, match="channels"):
        RingBuffer(400, 4, np.int16).iterate(ArrayReader(traces), plan.blocks)
    with pytest.raises(ValueError, match="num_slots"):
        RingBuffer(400, 5, np.int16, num_slots=0)
    with pytest.raises(ValueError, match="num_readers"):
        RingBuffer(400, 5, np.int16).iterate(ArrayReader(traces), plan.blocks, num_readers=0)


def test_memory_budget_helpers():
    assert parse_memory(1000) == 1000
    assert parse_memory("512M") == 512 * 10**6
    assert parse_memory("2GiB") == 2 * 2**30
    assert parse_memory("1.5k") == 1500
    with pytest.raises(ValueError, match="memory budget"):
        parse_memory("lots")
    with pytest.raises(ValueError, match="memory budget"):
        parse_memory(0)
    assert slots_for_budget(100, 1000) == 10
    assert slots_for_budget(100, 1000, num_device_buffers=2) == 8
    assert slots_for_budget(1, "1G") == 16
    with pytest.raises(ValueError, match="memory_budget"):
        slots_for_budget(400, 1000, num_device_buffers=1)
