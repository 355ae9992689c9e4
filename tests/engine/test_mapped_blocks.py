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


@pytest.mark.parametrize("n_jobs", [1, 2])
@pytest.mark.parametrize("with_std", [True, False])
def test_accumulators_take_a_tasks_blocks_as_one_view(tmp_path, monkeypatch, n_jobs, with_std):
    """An accumulate job over a mapped file gets each task's blocks as one block spanning them
    (its windows added several at a time), with the results of the block by block run."""
    rec, data = binary_recording(tmp_path, lengths=(9000, 7000), seed=11)
    srt = sparse_sorting(rec, per_segment=60, seed=12)
    spikes = srt.to_spike_vector()
    gains, offsets = rec._scaling(slice(None))
    num_units = srt.get_num_units()
    config = resolve_job_kwargs(n_jobs=n_jobs, chunk_size=100, progress_bar=False)

    def run(merge):
        job = AccumulateJob(spikes, num_units, 5, 8, rec.get_num_channels(), gains, offsets, with_std=with_std,
                            sample_dtype="int16")
        job.plan_mode = "windows"
        job.merges_blocks = merge
        seen = []
        original = job.process
        monkeypatch.setattr(job, "process", lambda ctx, state, block: seen.append(block.positions.size)
                            or original(ctx, state, block))
        return run_block_job(job, rec, config), seen

    (mean, std), merged_calls = run(True)
    (mean_blocks, std_blocks), block_calls = run(False)
    assert sum(merged_calls) == sum(block_calls) == spikes.size  # every spike once
    assert len(merged_calls) < len(block_calls)  # fewer, larger blocks
    ref_mean, ref_std = per_unit_mean_std(cut(rec, spikes, 5, 8, True), spikes["unit_index"], num_units)
    np.testing.assert_allclose(mean, ref_mean, rtol=1e-6, atol=1e-4)
    np.testing.assert_array_equal(mean, mean_blocks)  # exact sums of integer samples: the same bits
    if with_std:
        np.testing.assert_allclose(std, ref_std, rtol=1e-6, atol=1e-4)
        np.testing.assert_array_equal(std, std_blocks)


def test_merged_blocks_keep_each_spikes_window(tmp_path):
    """merge_blocks: the peaks of later blocks move by the frames before them, so each spike's
    window in the merged block (and in its view of the span) is the one it had alone."""
    from gpuspike.engine.sources import merge_blocks, read_block

    rec, data = binary_recording(tmp_path, lengths=(9000,), seed=13)
    srt = sparse_sorting(rec, per_segment=50, seed=14)
    spikes = srt.to_spike_vector()
    blocks = plan_job_blocks([9000], 100, spikes, 5, 8, "windows")[0].blocks
    assert len(blocks) > 3
    merged = merge_blocks(blocks)
    np.testing.assert_array_equal(merged.positions, np.concatenate([b.positions for b in blocks]))
    ctx = {"recording": rec, "readers": {}, "job": AccumulateJob(spikes, 3, 5, 8, 7)}
    traces, peaks, _ = read_block(ctx, merged)
    for pos, peak in zip(merged.positions, peaks):
        t = int(spikes["sample_index"][pos])
        np.testing.assert_array_equal(traces[peak - 5:peak + 8], data[0][t - 5:t + 8])


@pytest.mark.parametrize("engine", [dict(n_jobs=1), dict(n_jobs=2), dict(n_jobs=2, engine="process")])
def test_a_gather_writing_in_place_rides_merged_blocks(tmp_path, monkeypatch, engine):
    """A gather whose output is written in place (threads, worker processes' memmap) and an
    accumulator in one pass: the blocks of a task merged, each job with its reference."""
    from gpuspike.engine import CompositeJob
    from gpuspike.engine.sources import merge_blocks
    import gpuspike.engine.sources as sources

    rec, data = binary_recording(tmp_path, lengths=(9000, 7000), seed=15)
    srt = sparse_sorting(rec, per_segment=60, seed=16)
    spikes = srt.to_spike_vector()
    gains, offsets = rec._scaling(slice(None))
    gather = GatherJob(spikes, np.arange(spikes.size), spikes.size, 5, 8, rec.get_num_channels(), None, True,
                       "float32", plan_mode="windows")
    accumulate = AccumulateJob(spikes, srt.get_num_units(), 5, 8, rec.get_num_channels(), gains, offsets,
                               with_std=False, sample_dtype="int16")
    accumulate.plan_mode = "windows"
    composite = CompositeJob([gather, accumulate])
    merged = []
    monkeypatch.setattr(sources, "merge_blocks", lambda blocks: merged.append(len(blocks)) or merge_blocks(blocks))
    config = resolve_job_kwargs(chunk_size=100, progress_bar=False, **engine)
    waveforms, (mean, _) = run_block_job(composite, rec, config)
    if engine.get("engine") != "process":  # other processes' calls are not seen here
        assert merged and max(merged) > 1
    windows = cut(rec, spikes, 5, 8, True)
    np.testing.assert_array_equal(waveforms, windows.astype("float32"))
    ref_mean, _ = per_unit_mean_std(windows, spikes["unit_index"], srt.get_num_units())
    np.testing.assert_allclose(mean, ref_mean, rtol=1e-6, atol=1e-4)


def test_a_gather_returning_its_waveforms_takes_blocks_one_by_one():
    """Placement 'return' (Dask): a gather's scratch grows with a block's spikes, so no merging."""
    job = GatherJob(np.zeros(0, dtype=[("sample_index", "int64"), ("segment_index", "int64")]), np.zeros(0), 0, 2,
                    3, 4, None, False, "float32")
    job.prepare_output("return", None)
    assert not job.merges_blocks
    job.prepare_output("shared", None)
    assert job.merges_blocks
