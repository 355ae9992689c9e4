"""GPUDirect Storage path (simulator): kvikio reads page-aligned file bytes straight into device
memory, the ring hands device slots to the job without a host copy, and the results are those of
the positional reads. kvikio itself is replaced by a stand-in that reads the file the same way
(real GDS needs a GPU, its driver and a supported file system)."""
import os
import sys
import types

import numpy as np
import pytest

import gpuspike as gs


class _Future:
    def __init__(self, n):
        self.n = n

    def get(self):
        return self.n


class _FakeCuFile:
    """kvikio.CuFile's pread contract: fill a device buffer from a file offset, return a future."""

    reads: list = []

    def __init__(self, path, mode):
        self.fd = os.open(path, os.O_RDONLY)

    def pread(self, buf, size, file_offset):
        assert file_offset % 4096 == 0, "reads are widened to whole pages"
        data = os.pread(self.fd, size, file_offset)
        host = np.frombuffer(data, dtype=np.uint8)
        buf[:host.size].copy_to_device(host)
        _FakeCuFile.reads.append((file_offset, size))
        return _Future(host.size)

    def close(self):
        os.close(self.fd)


@pytest.fixture
def fake_gds(monkeypatch):
    if os.environ.get("NUMBA_ENABLE_CUDASIM") != "1":
        pytest.skip("the stand-in writes numba simulator device arrays")
    kvikio = types.ModuleType("kvikio")
    kvikio.__version__ = "stand-in"
    kvikio.CuFile = _FakeCuFile
    defaults = types.ModuleType("kvikio.defaults")
    defaults.is_compat_mode_preferred = lambda: False  # GDS active
    threads = {}
    defaults.set = lambda d: threads.update(d)
    kvikio.defaults = defaults
    monkeypatch.setitem(sys.modules, "kvikio", kvikio)
    monkeypatch.setitem(sys.modules, "kvikio.defaults", defaults)
    import gpuspike.streaming.readers as readers

    monkeypatch.setattr(readers, "kvikio_available", lambda: True)
    _FakeCuFile.reads = []
    return threads


def test_reader_reads_aligned_pages_into_device_memory(tmp_path, fake_gds):
    from numba import cuda

    from gpuspike.streaming import kvikio_status, make_reader

    rng = np.random.default_rng(0)
    traces = rng.integers(-999, 999, (5000, 7)).astype(np.int16)  # 14-byte frames: never page aligned
    path = tmp_path / "t.raw"
    path.write_bytes(b"\0" * 100 + traces.tobytes())
    rec = gs.BinaryRecordingExtractor(path, 10000.0, "int16", num_channels=7, file_offset=100)
    assert kvikio_status() == {"version": "stand-in", "gds": True}
    assert make_reader(rec, 0, device=False).name == "pread"  # host reads: kvikio is not worth it
    reader = make_reader(rec, 0, device=True, num_threads=3)
    assert reader.name == "kvikio" and reader.writes_device and fake_gds == {"num_threads": 3}
    out = cuda.device_array((600, 7), np.int16)
    reader.read_range(1234, 1834, out)
    np.testing.assert_array_equal(out.copy_to_host(), traces[1234:1834])
    offset, size = _FakeCuFile.reads[-1]
    assert offset <= 100 + 1234 * 14 and offset + size >= 100 + 1834 * 14 and size % 4096 == 0


def test_jobs_read_through_gds_give_the_pread_results(tmp_path, fake_gds):
    rng = np.random.default_rng(1)
    traces = rng.integers(-999, 999, (6000, 6)).astype(np.int16)
    path = tmp_path / "t.raw"
    path.write_bytes(traces.tobytes())
    rec = gs.BinaryRecordingExtractor(path, 10000.0, "int16", num_channels=6)
    rec.set_channel_gains(np.linspace(0.5, 2.0, 6).astype("float32"))
    rec.set_channel_offsets(np.linspace(-3.0, 3.0, 6).astype("float32"))
    samples = np.sort(rng.choice(np.arange(10, 5980), 40, replace=False))
    srt = gs.NumpySorting.from_unit_dict([{"a": samples[::2], "b": samples[1::2]}], 10000.0)
    kw = dict(ms_before=0.5, ms_after=1.0, progress_bar=False, chunk_size=700)
    gds = gs.compute_templates(rec, srt, backend="cuda", **kw)
    assert _FakeCuFile.reads, "the GPU path did not read through kvikio"
    ref = gs.compute_templates(rec, srt, backend="numpy", **kw)
    for mode in ("average", "std"):
        np.testing.assert_allclose(gds.get_all_templates(mode=mode), ref.get_all_templates(mode=mode),
                                   rtol=1e-6, atol=1e-6)
    we_gds = gs.extract_waveforms(rec, srt, mode="memory", max_spikes_per_unit=None, sparse=False, backend="cuda",
                                  **kw)
    we_ref = gs.extract_waveforms(rec, srt, mode="memory", max_spikes_per_unit=None, sparse=False, backend="numpy",
                                  **kw)
    for u in srt.unit_ids:
        np.testing.assert_array_equal(we_gds.get_waveforms(u), we_ref.get_waveforms(u))
