"""Read buffers placed at the page phase of the bytes read into them (no 4K-aliased copies)."""
import numpy as np
import pytest

import gpuspike as gs
from gpuspike.streaming.aligned import PAGE, phased_empty, phased_view


@pytest.mark.parametrize("dtype", ["uint8", "int16", "float32", "float64", "complex128"])
@pytest.mark.parametrize("phase", [0, 16, 770, 4094, 3])
def test_phased_empty_lands_on_the_phase_or_clear_of_aliasing(dtype, phase):
    a = phased_empty((7, 385), dtype, phase)
    assert a.shape == (7, 385) and a.dtype == np.dtype(dtype) and a.flags.c_contiguous
    where = a.ctypes.data % PAGE
    if phase % np.dtype(dtype).itemsize == 0:
        assert where == phase
    else:  # no item boundary at that phase: at least 32 bytes past it, on an item boundary
        assert where % np.dtype(dtype).itemsize == 0
        assert 32 <= (where - phase) % PAGE < 128
    a[...] = 1  # every byte of the view is inside the allocation
    assert a.sum() == a.size


def test_phased_view_refuses_a_short_buffer():
    with pytest.raises(ValueError, match="at least"):
        phased_view(np.empty(100, np.uint8), (10, 10), "int16", 0)


def test_engine_reads_each_block_at_its_file_phase(tmp_path, monkeypatch):
    """Where a file cannot be mapped, the chunk executor's read buffer starts at the phase of the
    block's first byte in the file, for a header that shifts every frame (SpikeGLX-like 385
    channels) and for page-aligned frames."""
    from gpuspike.streaming.readers import MappedReader, PreadReader

    def cannot_map(self, *args, **kwargs):
        raise OSError("mmap: operation not supported by this file system")

    monkeypatch.setattr(MappedReader, "__init__", cannot_map)
    seen = []
    original = PreadReader.read_block

    def spy(self, block, out):
        first = int(block.ranges[0, 0])
        seen.append((out.ctypes.data % PAGE, self.byte_phase(first),
                     (self.file_offset + first * self.bytes_per_frame) % PAGE))
        return original(self, block, out)

    monkeypatch.setattr(PreadReader, "read_block", spy)
    for channels, offset in ((385, 0), (384, 0), (64, 1000)):
        rng = np.random.default_rng(channels)
        traces = rng.integers(-500, 500, (9000, channels)).astype("int16")
        path = tmp_path / f"r{channels}.raw"
        path.write_bytes(b"\0" * offset + traces.tobytes())
        rec = gs.read_binary(path, sampling_frequency=3000.0, dtype="int16", num_channels=channels,
                             file_offset=offset)
        seen.clear()
        saved = rec.save(folder=tmp_path / f"s{channels}", chunk_size=1000, n_jobs=2, progress_bar=False)
        assert len(seen) >= 9
        for address_phase, phase, expected in seen:
            assert phase == expected
            assert address_phase == expected
        np.testing.assert_array_equal(saved.get_traces(), traces)


def test_host_ring_slots_start_on_a_page():
    from gpuspike.streaming import RingBuffer

    ring = RingBuffer(1000, 385, np.int16, num_slots=3, device=False)
    try:
        assert all(slot.ctypes.data % PAGE == 0 for slot in ring.host)
    finally:
        ring.release()
