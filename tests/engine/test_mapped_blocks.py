"""The CPU engine reads raw binary files as views of a read-only mapping: blocks of one range or
of several (windows mode, the view spanning the gaps), a header that shifts every frame, several
segments; positional reads where a file cannot be mapped; a truncated file is an error, not a
fallback."""
import numpy as np
import pytest

import gpuspike as gs
from gpuspike.core.errors import CorruptFolderError
from gpuspike.core.job import resolve_job_kwargs
from gpuspike.engine import AccumulateJob, GatherJob, run_block_job
from gpuspike.engine.blocks import plan_job_blocks
from gpuspike.streaming.readers import MappedReader, PreadReader, ShortReadError

from test_composite import cut, per_unit_mean_std

FS = 10_000.0
HEADER = 1000


def binary_recording(tmp_path, lengths=(6000, 4000), channels=7, seed=0):
    rng = np.random.default_rng(seed)
    data = [rng.integers(-900, 900, (n, channels)).astype("int16") for n in lengths]
    paths = []
    for k, traces in enumerate(data):
        path = tmp_path / f"seg{k}.raw"
        path.write_bytes(bytes(range(256)) * (HEADER // 256) + bytes(HEADER % 256) + traces.tobytes())
        paths.append(path)
    rec = gs.read_binary(paths, sampling_frequency=FS, dtype="int16", num_channels=channels, file_offset=HEADER,
                         gain_to_uV=0.5, offset_to_uV=3.0)
    return rec, data


def sparse_sorting(rec, per_segment=25, num_units=3, seed=1):
    """Spikes far apart: windows mode plans blocks of several ranges."""
    rng = np.random.default_rng(seed)
    samples, labels, segments = [], [], []
    for seg in range(rec.get_num_segments()):
        n = rec.get_num_samples(seg)
        s = np.sort(rng.choice(np.arange(20, n - 20, 37), per_segment, replace=False))
        samples.append(s)
        labels.append(rng.integers(0, num_units, s.size))
        segments.append(np.full(s.size, seg))
    return gs.NumpySorting.from_samples_and_labels(samples, labels, FS)


def jobs(rec, srt):
    spikes = srt.to_spike_vector()
    gains, offsets = rec._scaling(slice(None))
    gather = GatherJob(spikes, np.arange(spikes.size), spikes.size, 5, 8, rec.get_num_channels(), None, True,
                       "float32", plan_mode="windows")
    accumulate = AccumulateJob(spikes, srt.get_num_units(), 5, 8, rec.get_num_channels(), gains, offsets)
    accumulate.plan_mode = "windows"
    return spikes, gather, accumulate


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_windows_blocks_through_the_mapping(tmp_path, monkeypatch, n_jobs):
    rec, data = binary_recording(tmp_path)
    srt = sparse_sorting(rec)
    spikes, gather, accumulate = jobs(rec, srt)
    num_samples = [rec.get_num_samples(s) for s in range(rec.get_num_segments())]
    plan = plan_job_blocks(num_samples, 2000, spikes, 5, 8, "windows")
    assert max(len(b.ranges) for sp in plan for b in sp.blocks) > 1  # blocks of several ranges, with gaps
    copies = []
    monkeypatch.setattr(PreadReader, "read_range", lambda self, *a: copies.append(a))
    config = resolve_job_kwargs(n_jobs=n_jobs, chunk_size=2000, progress_bar=False)
    waveforms = run_block_job(gather, rec, config)
    mean, std = run_block_job(accumulate, rec, config)
    assert copies == []  # views of the mapping, no read into a buffer
    np.testing.assert_array_equal(waveforms, cut(rec, spikes, 5, 8, True).astype("float32"))
    ref_mean, ref_std = per_unit_mean_std(cut(rec, spikes, 5, 8, True), spikes["unit_index"], srt.get_num_units())
    np.testing.assert_allclose(mean, ref_mean, rtol=1e-6, atol=1e-4)
    np.testing.assert_allclose(std, ref_std, rtol=1e-6, atol=1e-4)
    raw = rec.get_traces(segment_index=1, return_scaled=False)
    np.testing.assert_array_equal(raw, data[1])


def test_positional_reads_where_a_file_cannot_be_mapped(tmp_path, monkeypatch):
    rec, data = binary_recording(tmp_path, seed=3)
    srt = sparse_sorting(rec, seed=4)
    spikes, gather, _ = jobs(rec, srt)

    def cannot_map(self, *args, **kwargs):
        raise OSError("mmap: operation not supported by this file system")

    monkeypatch.setattr(MappedReader, "__init__", cannot_map)
    waveforms = run_block_job(gather, rec, resolve_job_kwargs(n_jobs=2, chunk_size=2000, progress_bar=False))
    np.testing.assert_array_equal(waveforms, cut(rec, spikes, 5, 8, True).astype("float32"))


def test_a_file_truncated_after_opening_is_an_error(tmp_path):
    rec, data = binary_recording(tmp_path, seed=5)
    srt = sparse_sorting(rec, seed=6)
    _, gather, _ = jobs(rec, srt)
    path = tmp_path / "seg1.raw"
    path.write_bytes(path.read_bytes()[:HEADER + 100 * 14])
    with pytest.raises((ShortReadError, CorruptFolderError), match="seg1.raw"):
        run_block_job(gather, rec, resolve_job_kwargs(n_jobs=1, chunk_size=2000, progress_bar=False))


def test_a_job_writing_its_blocks_to_a_file_reads_copies(tmp_path, monkeypatch):
    """save() writes each block with pwrite: from a copy, not from the mapping (a write from a
    mapped file takes its page faults under the destination's lock)."""
    rec, data = binary_recording(tmp_path, seed=7)
    views = []
    original = MappedReader.frames
    monkeypatch.setattr(MappedReader, "frames", lambda self, *a, **k: views.append(a) or original(self, *a, **k))
    saved = rec.save(folder=tmp_path / "saved", n_jobs=2, chunk_size=1500, progress_bar=False)
    assert views == []
    for seg, traces in enumerate(data):
        np.testing.assert_array_equal(saved.get_traces(segment_index=seg), traces)
