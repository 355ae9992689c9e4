"""Readers: bitwise equality with the NumPy array written to disk, byte counts, errors."""

import numpy as np
import pytest

from gpuspike.streaming import (
    BaseReader,
    PreadReader,
    ShortReadError,
    TracesReader,
    kvikio_available,
    make_reader,
    plan_reads,
)

HEADER = 37  # odd on purpose: no alignment assumption


@pytest.fixture
def binfile(tmp_path):
    rng = np.random.default_rng(0)
    traces = rng.integers(-2000, 2000, size=(3001, 7), dtype=np.int16)
    path = tmp_path / "traces.raw"
    with open(path, "wb") as f:
        f.write(bytes(range(HEADER)))
        traces.tofile(f)
    return path, traces


class FakeRecording:
    """Duck-typed recording; binary compatible or not."""

    def __init__(self, traces_per_segment, path=None, file_offset=0, binary=True):
        self.traces = traces_per_segment
        self.path = path
        self.file_offset = file_offset
        self.binary = binary
        self.calls = []

    def get_num_segments(self):
        return len(self.traces)

    def get_num_samples(self, segment_index=0):
        return self.traces[segment_index].shape[0]

    def get_num_channels(self):
        return self.traces[0].shape[1]

    def get_dtype(self):
        return self.traces[0].dtype

    def get_traces(self, start_frame=None, end_frame=None, segment_index=0, return_scaled=False):
        assert return_scaled is False
        self.calls.append((start_frame, end_frame, segment_index))
        return self.traces[segment_index][start_frame:end_frame]

    def is_binary_compatible(self):
        return self.binary

    def get_binary_description(self):
        return dict(
            file_paths=[str(self.path)] * len(self.traces),
            dtype=self.traces[0].dtype,
            num_channels=self.traces[0].shape[1],
            time_axis=0,
            file_offset=self.file_offset,
        )


class RecordingReader(BaseReader):
    """Wraps a reader and logs every frame range it is asked for."""

    def __init__(self, inner):
        super().__init__(inner.dtype, inner.num_channels)
        self.inner = inner
        self.log = []

    def read_range(self, start_frame, end_frame, out):
        self.log.append((start_frame, end_frame))
        self.inner.read_range(start_frame, end_frame, out)

    @property
    def bytes_read(self):
        return self.inner.bytes_read


def test_pread_read_range_bitwise(binfile):
    path, traces = binfile
    with PreadReader(path, "int16", 7, file_offset=HEADER) as r:
        out = np.full((500, 7), -1, dtype=np.int16)
        for a, b in [(0, 1), (0, 500), (1234, 1500), (2999, 3001)]:
            r.read_range(a, b, out)
            np.testing.assert_array_equal(out[: b - a], traces[a:b])
        assert r.bytes_read == (1 + 500 + 266 + 2) * 14
        assert r.num_reads == 4


def test_pread_read_block_packs_ranges(binfile):
    path, traces = binfile
    peaks = np.array([50, 60, 1000, 2990])
    plan = plan_reads(3001, 200, peaks, nbefore=10, nafter=11, mode="windows")
    r = PreadReader(path, np.int16, 7, file_offset=HEADER, num_samples=3001)
    buf = np.zeros((plan.max_block_frames + 5, 7), dtype=np.int16)
    for blk in plan.blocks:
        view = r.read_block(blk, buf)
        assert view.shape == (blk.num_frames, 7)
        expected = np.concatenate([traces[a:b] for a, b in blk.ranges])
        np.testing.assert_array_equal(view, expected)
        for i, rel in zip(blk.spike_indices, blk.relative_peaks):
            p = peaks[i]
            np.testing.assert_array_equal(view[rel - 10 : rel + 11], traces[p - 10 : p + 11])
    assert r.bytes_read == plan.planned_bytes(14)
    r.close()
    r.close()  # idempotent
    with pytest.raises(ValueError, match="closed"):
        r.read_range(0, 1, buf)


@pytest.mark.parametrize("mode", ["windows", "whole"])
def test_never_reads_a_frame_twice(binfile, mode):
    path, traces = binfile
    rng = np.random.default_rng(3)
    peaks = np.sort(rng.integers(20, 2980, size=40))
    plan = plan_reads(3001, 150, peaks, nbefore=20, nafter=20, margin=3, mode=mode)
    rr = RecordingReader(PreadReader(path, np.int16, 7, file_offset=HEADER))
    buf = np.empty((plan.max_block_frames, 7), np.int16)
    for blk in plan.blocks:
        rr.read_block(blk, buf)
    hits = np.zeros(3001, dtype=np.int64)
    for a, b in rr.log:
        hits[a:b] += 1
    needed = np.zeros(3001, dtype=bool)
    for p in peaks:
        needed[max(p - 23, 0) : p + 23] = True
    if mode == "windows":  # exactly the needed frames, none twice (no burst longer than a block here)
        assert hits.max() == 1
        np.testing.assert_array_equal(hits.astype(bool), needed)
    else:  # contiguous blocks: every needed frame, neighbours overlapping by at most one window (46 frames)
        assert hits[needed].min() == 1 and hits.max() <= 2
        assert int(hits.sum()) <= 3001 + len(plan) * 46
    assert rr.bytes_read == plan.planned_bytes(14) == int(hits.sum()) * 14


def test_truncated_file_error_names_file(binfile, tmp_path):
    path, traces = binfile
    short = tmp_path / "short.raw"
    short.write_bytes(path.read_bytes()[: HEADER + 100 * 14 + 3])
    r = PreadReader(short, np.int16, 7, file_offset=HEADER)
    out = np.empty((200, 7), np.int16)
    r.read_range(0, 100, out)
    np.testing.assert_array_equal(out[:100], traces[:100])
    with pytest.raises(ShortReadError, match="short.raw") as info:
        r.read_range(50, 200, out)
    msg = str(info.value)
    assert "[50, 200)" in msg and str(HEADER + 50 * 14) in msg
    assert isinstance(info.value, OSError)
    with pytest.raises(ShortReadError, match="truncated"):
        PreadReader(short, np.int16, 7, file_offset=HEADER, num_samples=3001)


def test_pread_argument_errors(binfile):
    path, _ = binfile
    with pytest.raises(ValueError, match="time_axis"):
        PreadReader(path, np.int16, 7, time_axis=1)
    with pytest.raises(ValueError, match="file_offset"):
        PreadReader(path, np.int16, 7, file_offset=-1)
    with pytest.raises(FileNotFoundError):
        PreadReader(path.parent / "missing.raw", np.int16, 7)
    r = PreadReader(path, np.int16, 7, file_offset=HEADER)
    with pytest.raises(ValueError, match="shape"):
        r.read_range(0, 10, np.empty((5, 7), np.int16))
    with pytest.raises(ValueError, match="dtype"):
        r.read_range(0, 10, np.empty((10, 7), np.float32))
    r.close()


def test_traces_reader(binfile):
    _, traces = binfile
    rec = FakeRecording([traces[:1000], traces[1000:]], binary=False)
    r = TracesReader(rec, segment_index=1)
    out = np.empty((300, 7), np.int16)
    r.read_range(100, 400, out)
    np.testing.assert_array_equal(out, traces[1100:1400])
    assert rec.calls == [(100, 400, 1)]
    assert r.bytes_read == 300 * 14
    with pytest.raises(ValueError, match="returned shape"):
        r.read_range(1900, 2100, np.empty((200, 7), np.int16))


def test_make_reader_routes(binfile):
    path, traces = binfile
    rec = FakeRecording([traces], path=path, file_offset=HEADER, binary=True)
    r = make_reader(rec, 0, prefer="pread")
    assert isinstance(r, PreadReader) and r.file_offset == HEADER
    r.close()
    auto = make_reader(rec, 0)
    assert isinstance(auto, PreadReader) or (kvikio_available() and auto.name == "kvikio")
    auto.close()
    assert isinstance(make_reader(rec, 0, prefer="traces"), TracesReader)
    rec.binary = False
    assert isinstance(make_reader(rec, 0), TracesReader)
    with pytest.raises(ValueError, match="prefer='pread'"):
        make_reader(rec, 0, prefer="pread")
    with pytest.raises(ValueError, match="prefer='mmap'"):
        make_reader(rec, 0, prefer="mmap")
    with pytest.raises(ValueError, match="prefer must be"):
        make_reader(rec, 0, prefer="nope")
    with pytest.raises(ValueError, match="segment_index"):
        make_reader(rec, 3)


def test_make_reader_binary_description_file_too_short(binfile, tmp_path):
    path, traces = binfile
    short = tmp_path / "cut.raw"
    short.write_bytes(path.read_bytes()[:-14])
    rec = FakeRecording([traces], path=short, file_offset=HEADER)
    with pytest.raises(ShortReadError, match="cut.raw"):
        make_reader(rec, 0, prefer="pread")


@pytest.mark.gpu
def test_kvikio_reader_device_and_host(binfile):
    kvikio = pytest.importorskip("kvikio")  # noqa: F841
    cupy = pytest.importorskip("cupy")
    from gpuspike.streaming import KvikioReader

    path, traces = binfile
    r = KvikioReader(path, np.int16, 7, file_offset=HEADER, num_samples=3001)
    dev = cupy.empty((400, 7), dtype=cupy.int16)
    r.read_range(100, 500, dev)
    np.testing.assert_array_equal(cupy.asnumpy(dev), traces[100:500])
    host = np.empty((400, 7), np.int16)
    r.read_range(2601, 3001, host)
    np.testing.assert_array_equal(host, traces[2601:3001])
    assert r.bytes_read == 800 * 14
    r.close()


def test_mapped_reader_views_the_file(binfile):
    from gpuspike.streaming import MappedReader

    path, traces = binfile
    r = MappedReader(path, np.int16, 7, file_offset=HEADER, num_samples=3001)
    view = r.frames(100, 260)
    np.testing.assert_array_equal(view, traces[100:260])
    assert not view.flags.writeable  # the user's file, never written through a view
    assert r.bytes_read == 160 * 14
    out = np.empty((50, 7), np.int16)
    r.read_range(10, 60, out)  # the BaseReader contract still copies
    np.testing.assert_array_equal(out, traces[10:60])
    np.testing.assert_array_equal(r.frames(3001, 3001), traces[:0])
    with pytest.raises(ValueError, match=r"frames \[2990, 3002\) are outside \[0, 3001\)"):
        r.frames(2990, 3002)
    r.advise(0, 3001)  # a hint only
    r.close()
    np.testing.assert_array_equal(view, traces[100:260])  # a view handed out keeps the mapping


def test_mapped_reader_maps_only_the_recordings_frames(binfile, tmp_path):
    from gpuspike.streaming import MappedReader

    path, traces = binfile
    r = MappedReader(path, np.int16, 7, file_offset=HEADER, num_samples=2000)  # a file longer than asked
    with pytest.raises(ValueError, match="outside"):
        r.frames(0, 2001)
    empty = tmp_path / "empty.raw"
    empty.write_bytes(bytes(HEADER))
    with pytest.raises(ValueError, match="no whole frame"):
        MappedReader(empty, np.int16, 7, file_offset=HEADER)
    short = tmp_path / "cut.raw"
    short.write_bytes(path.read_bytes()[:-14])
    with pytest.raises(ShortReadError, match="cut.raw"):
        MappedReader(short, np.int16, 7, file_offset=HEADER, num_samples=3001)
    rec = FakeRecording([traces], path=path, file_offset=HEADER)
    mapped = make_reader(rec, 0, prefer="mmap")
    assert mapped.name == "mmap"
    np.testing.assert_array_equal(mapped.frames(0, 3001), traces)


def test_mapped_readers_are_shared_while_the_file_is_unchanged(binfile, tmp_path, monkeypatch):
    import os

    from gpuspike.streaming import readers

    path, traces = binfile
    first = readers.mapped_reader(path, np.int16, 7, file_offset=HEADER, num_samples=3001)
    assert readers.mapped_reader(path, np.int16, 7, file_offset=HEADER, num_samples=3001) is first
    assert readers.mapped_reader(path, np.int16, 7, file_offset=HEADER, num_samples=3000) is not first
    other = tmp_path / "other.raw"
    other.write_bytes(path.read_bytes())
    os.replace(other, path)  # another file at the path: a new mapping, of the new file
    second = readers.mapped_reader(path, np.int16, 7, file_offset=HEADER, num_samples=3001)
    assert second is not first
    np.testing.assert_array_equal(second.frames(0, 3001), traces)
    monkeypatch.setattr(readers, "MAPPED_FILES_KEPT", 1)
    copy = tmp_path / "copy.raw"
    copy.write_bytes(path.read_bytes())
    readers.mapped_reader(copy, np.int16, 7, file_offset=HEADER)
    assert readers.mapped_reader(path, np.int16, 7, file_offset=HEADER, num_samples=3001) is not second  # dropped


def test_coalesce_ranges_bridges_small_gaps():
    from gpuspike.streaming.readers import coalesce_ranges

    rng = np.random.default_rng(5)
    starts = rng.integers(0, 10_000, 300)
    ranges = np.stack([starts, starts + rng.integers(1, 40, 300)], axis=1)
    for gap in (0, 7, 100):
        merged = coalesce_ranges(ranges, gap)
        # reference: a sorted sweep, one interval at a time
        expected = []
        for a, b in sorted(map(tuple, ranges.tolist())):
            if expected and a - expected[-1][1] <= gap:
                expected[-1][1] = max(expected[-1][1], b)
            else:
                expected.append([a, b])
        assert merged == [tuple(x) for x in expected]
    assert coalesce_ranges(np.zeros((0, 2), "int64"), 10) == []


def test_mapped_reader_reads_ahead_in_few_requests(binfile, monkeypatch):
    """Spike windows close together are read ahead in one request, not one per window."""
    from gpuspike.streaming import MappedReader

    path, traces = binfile
    r = MappedReader(path, np.int16, 7, file_offset=HEADER, num_samples=3001)
    advised = []
    monkeypatch.setattr(r, "advise", lambda a, b: advised.append((a, b)))
    ranges = np.array([[10, 20], [30, 40], [2000, 2010]])
    monkeypatch.setattr("gpuspike.streaming.readers.READ_AHEAD_GAP_BYTES", 14 * 100)
    view = r.frames(10, 2010, ranges=ranges)
    np.testing.assert_array_equal(view, traces[10:2010])
    assert advised == [(10, 40), (2000, 2010)]
    assert r.bytes_read == 30 * 14  # the ranges used, not the gaps
