"""End to end: file -> pinned ring -> (simulated) device -> kernels, both reader routes."""
import threading

import numpy as np
import pytest
from numba import cuda  # conftest switched the simulator on before this import

from gpuspike.streaming import (
    BlockStream,
    PreadReader,
    TracesReader,
    plan_reads,
    stream_blocks,
)

HEADER = 64


class FakeRecording:
    """Duck-typed recording exposing the methods the streaming path uses."""

    def __init__(self, traces, path=None, file_offset=0, binary=True, fs=1000.0):
        self.traces = traces
        self.path = path
        self.file_offset = file_offset
        self.binary = binary
        self.fs = fs
        self.get_traces_calls = 0

    def get_num_samples(self, segment_index=0):
        return self.traces.shape[0]

    def get_num_channels(self):
        return self.traces.shape[1]

    def get_dtype(self):
        return self.traces.dtype

    def get_sampling_frequency(self):
        return self.fs

    def get_traces(self, start_frame=None, end_frame=None, segment_index=0, return_scaled=False):
        self.get_traces_calls += 1
        return self.traces[start_frame:end_frame]

    def is_binary_compatible(self):
        return self.binary

    def get_binary_description(self):
        return dict(file_paths=[str(self.path)], dtype=str(self.traces.dtype),
                    num_channels=self.traces.shape[1], time_axis=0, file_offset=self.file_offset)


@pytest.fixture
def rec(tmp_path):
    traces = np.random.default_rng(7).integers(-3000, 3000, size=(2500, 6), dtype=np.int16)
    path = tmp_path / "rec.raw"
    with open(path, "wb") as f:
        f.write(b"\0" * HEADER)
        traces.tofile(f)
    return FakeRecording(traces, path=path, file_offset=HEADER)


def reader_threads():
    return [t for t in threading.enumerate() if t.name.startswith("gpuspike-reader")]


_colsum = None


def colsum_kernel():
    """Tiny per-channel sum kernel, written here (not the library's)."""
    global _colsum
    if _colsum is None:

        @cuda.jit
        def colsum(x, out):
            j = cuda.grid(1)
            if j < x.shape[1]:
                s = np.int64(0)  # not `0`: under the simulator + NumPy 2, 0 + int16 stays int16
                for i in range(x.shape[0]):
                    s += x[i, j]
                out[j] += s

        _colsum = colsum
    return _colsum


@pytest.mark.parametrize("binary", [True, False])
def test_device_stream_channel_sums(rec, binary):
    rec.binary = binary
    plan = plan_reads(rec.get_num_samples(0), chunk_size=400)
    sums = cuda.to_device(np.zeros(6, dtype=np.int64))
    kernel = colsum_kernel()
    with stream_blocks(rec, 0, plan, device=True, num_slots=3) as blocks:
        assert isinstance(blocks, BlockStream)
        assert isinstance(blocks.reader, PreadReader if binary else TracesReader)
        for blk, arr in blocks:
            assert arr.shape == (blk.num_frames, 6) and arr.dtype == np.int16
            kernel[1, 32, blocks.compute_stream](arr, sums)
        blocks.compute_stream.synchronize()
        assert blocks.bytes_read == plan.planned_bytes(12) == rec.traces.nbytes
        assert blocks.stats.max_live_slots <= 3
    np.testing.assert_array_equal(sums.copy_to_host(), rec.traces.sum(axis=0, dtype=np.int64))
    assert (rec.get_traces_calls == 0) == binary
    assert reader_threads() == []


@pytest.mark.parametrize("device", [False, True])
def test_windows_gather_matches_numpy(rec, device):
    rng = np.random.default_rng(2)
    peaks = np.sort(rng.choice(np.arange(20, 2470), size=25, replace=False))
    nbefore, nafter = 20, 30
    plan = plan_reads(2500, 200, peaks, nbefore, nafter, mode="windows")
    wfs = np.zeros((peaks.size, nbefore + nafter, 6), np.int16)
    for blk, arr in stream_blocks(rec, 0, plan, device=device, num_slots=2):
        host = arr.copy_to_host() if device else arr
        for i, rel in zip(blk.spike_indices, blk.relative_peaks):
            wfs[i] = host[rel - nbefore : rel + nafter]
    ref = np.stack([rec.traces[p - nbefore : p + nafter] for p in peaks])
    np.testing.assert_array_equal(wfs, ref)
    assert reader_threads() == []


def test_host_mode_default_plan_and_channel_subset(rec):
    cols = np.array([5, 1])
    with stream_blocks(rec, 0, device=False, channel_indices=cols) as blocks:
        assert blocks.plan.chunk_size == 1000  # 1 s at fs=1000
        out = np.concatenate([np.array(a) for _, a in blocks])
    np.testing.assert_array_equal(out, rec.traces[:, cols])


def test_memory_budget_sets_slots(rec):
    plan = plan_reads(2500, 100)
    slot = 100 * 12
    bs = stream_blocks(rec, 0, plan, device=False, memory_budget=5 * slot)
    assert bs.ring.num_slots == 5 and bs.ring.host_bytes == 5 * slot
    bs.close()
    bs = stream_blocks(rec, 0, plan, device=True, memory_budget=5 * slot)
    assert bs.ring.num_slots == 3 and len(bs.ring.dev) == 2
    bs.close()
    with pytest.raises(ValueError, match="memory_budget"):
        stream_blocks(rec, 0, plan, device=False, memory_budget=slot)


@pytest.mark.parametrize("device", [False, True])
def test_ring_reuse_across_streams(rec, device):
    plan_a = plan_reads(2500, 500)
    plan_b = plan_reads(2500, 300, np.array([100, 1500]), 10, 10, mode="windows")
    first = stream_blocks(rec, 0, plan_a, device=device, num_slots=2)
    ring = first.ring
    host_ids = [h.__array_interface__["data"][0] for h in ring.host]
    sums = []
    for bs in (first, stream_blocks(rec, 0, plan_b, device=device, ring=ring)):
        with bs:
            assert bs.ring is ring
            tot = np.zeros(6, np.int64)
            for _, arr in bs:
                tot += (arr.copy_to_host() if device else arr).sum(axis=0, dtype=np.int64)
            sums.append(tot)
    assert [h.__array_interface__["data"][0] for h in ring.host] == host_ids
    np.testing.assert_array_equal(sums[0], rec.traces.sum(axis=0, dtype=np.int64))
    ref_b = rec.traces[90:110].sum(0, dtype=np.int64) + rec.traces[1490:1510].sum(0, dtype=np.int64)
    np.testing.assert_array_equal(sums[1], ref_b)
    with pytest.raises(ValueError, match="does not fit"):
        stream_blocks(rec, 0, plan_reads(2500, 501), device=device, ring=ring)
    busy = stream_blocks(rec, 0, plan_a, device=device, ring=ring)
    next(busy)
    with pytest.raises(RuntimeError, match="already in use"):
        next(stream_blocks(rec, 0, plan_a, device=device, ring=ring))
    busy.close()
    assert len(list(stream_blocks(rec, 0, plan_a, device=device, ring=ring))) == 5


def test_early_close_and_errors(rec):
    plan = plan_reads(2500, 100)
    bs = stream_blocks(rec, 0, plan, device=False, num_slots=2)
    next(bs)
    next(bs)
    bs.close()
    assert reader_threads() == []
    assert list(bs) == []
    assert bs.reader._fd is None  # owned reader closed
    with pytest.raises(ValueError, match="num_samples"):
        stream_blocks(rec, 0, plan_reads(2000, 100), device=False)
    with pytest.raises(TypeError, match="plan"):
        stream_blocks(rec, 0, "whole", device=False)
    rec.traces = rec.traces[:2400]  # file still longer: fine; now make the file short
    rec.traces = np.zeros((3000, 6), np.int16)
    with pytest.raises(OSError, match="rec.raw"):
        stream_blocks(rec, 0, device=False)


def test_core_numpy_recording():
    from gpuspike.core import numpyextractors as core

    traces = np.arange(3000 * 4, dtype=np.int16).reshape(3000, 4)
    nrec = core.NumpyRecording([traces], sampling_frequency=1000.0)
    total = np.zeros(4, np.int64)
    for _, arr in stream_blocks(nrec, 0, plan_reads(3000, 700), device=False):
        total += arr.sum(axis=0, dtype=np.int64)
    np.testing.assert_array_equal(total, traces.sum(axis=0, dtype=np.int64))


@pytest.mark.gpu
def test_real_gpu_cupy_sums(rec):
    cupy = pytest.importorskip("cupy")
    plan = plan_reads(2500, 300)
    total = cupy.zeros(6, dtype=cupy.int64)
    with stream_blocks(rec, 0, plan, device=True, num_slots=3) as blocks:
        stream = cupy.cuda.ExternalStream(int(blocks.compute_stream))
        with stream:
            for _, arr in blocks:
                total += cupy.asarray(arr).sum(axis=0, dtype=cupy.int64)
        stream.synchronize()
    np.testing.assert_array_equal(cupy.asnumpy(total), rec.traces.sum(axis=0, dtype=np.int64))
    assert reader_threads() == []


@pytest.mark.gpu
def test_real_gpu_windows_and_kvikio(rec):
    cupy = pytest.importorskip("cupy")
    peaks = np.arange(50, 2400, 97)
    plan = plan_reads(2500, 256, peaks, 20, 30, mode="windows")
    for prefer in ["pread", "kvikio"]:
        if prefer == "kvikio":
            pytest.importorskip("kvikio")
        wfs = cupy.zeros((peaks.size, 50, 6), cupy.int16)
        with stream_blocks(rec, 0, plan, device=True, reader=prefer) as blocks:
            assert blocks.reader.name == prefer
            for blk, arr in blocks:
                a = cupy.asarray(arr)
                for i, rel in zip(blk.spike_indices, blk.relative_peaks):
                    wfs[i] = a[rel - 20 : rel + 30]
            cupy.cuda.Device().synchronize()
        ref = np.stack([rec.traces[p - 20 : p + 30] for p in peaks])
        np.testing.assert_array_equal(cupy.asnumpy(wfs), ref)


@pytest.mark.parametrize("device", [False, True])
def test_empty_plan_yields_nothing(rec, device):
    plan = plan_reads(2500, 100, np.zeros(0, np.int64), 5, 5)
    with stream_blocks(rec, 0, plan, device=device) as blocks:
        assert list(blocks) == []
        assert blocks.bytes_read == 0
    assert reader_threads() == []
