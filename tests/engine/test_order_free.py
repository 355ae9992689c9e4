"""Order-free jobs on in-process workers keep one state per worker (not one per task): the same
results as the NumPy reference and as per-task states, edge block reduced last, and never on
engines whose workers are elsewhere (processes, Dask)."""
import numpy as np
import pytest

from gpuspike.core.job import resolve_job_kwargs
from gpuspike.engine import AccumulateJob, CompositeJob, GatherJob, run_block_job
from gpuspike.engine.blocks import edge_positions, plan_job_blocks
from gpuspike.engine.sources import ChunkedSource

from _engine_data import recording, sorting
from test_composite import cut

JOB = dict(progress_bar=False, chunk_size=64)


def means_job(rec, srt, sample_dtype="int16", with_std=False):
    spikes = srt.to_spike_vector()
    return AccumulateJob(spikes, srt.get_num_units(), 3, 5, rec.get_num_channels(), with_std=with_std,
                         sample_dtype=sample_dtype)


def reference_means(rec, spikes, num_units, nbefore=3, nafter=5):
    win = cut(rec, spikes, nbefore, nafter, False)
    out = np.zeros((num_units,) + win.shape[1:])
    for u in range(num_units):
        mine = win[spikes["unit_index"] == u]
        if mine.shape[0]:
            out[u] = mine.sum(axis=0) / mine.shape[0]
    return out


def source_partials(job, rec, **job_kwargs):
    """The partial results the chunked source hands to the reduce, and how many blocks there were."""
    config = resolve_job_kwargs(**{**JOB, **job_kwargs})
    num_samples = [rec.get_num_samples(s) for s in range(rec.get_num_segments())]
    segments = plan_job_blocks(num_samples, 64, job.spikes, job.nbefore, job.nafter, job.plan_mode)
    blocks = [b for sp in segments for b in sp.blocks]
    source = ChunkedSource(config)
    try:
        return source.run(job, rec, blocks, None, rec.get_num_channels() * 2), len(blocks)
    finally:
        source.cleanup()


def test_which_jobs_are_order_free():
    rec = recording()
    srt = sorting(rec)
    assert means_job(rec, srt).order_free
    assert not means_job(rec, srt, sample_dtype="float32").order_free  # float sums depend on the order
    assert means_job(rec, srt, with_std=True).order_free  # shifted by one reference per unit: still exact
    assert not means_job(rec, srt, sample_dtype="float32", with_std=True).order_free
    spikes = srt.to_spike_vector()
    gather = GatherJob(spikes, np.arange(spikes.size), spikes.size, 3, 5, rec.get_num_channels(), None, False, "int16")
    assert gather.order_free
    assert CompositeJob([gather, means_job(rec, srt)]).order_free
    assert not CompositeJob([gather, means_job(rec, srt, sample_dtype="float32")]).order_free
    # exact only while the busiest unit's sums fit the mantissa: int32 squares never do
    assert means_job(rec, srt, sample_dtype="int32").order_free
    assert not means_job(rec, srt, sample_dtype="int32", with_std=True).order_free
    assert means_job(rec, srt, sample_dtype="uint16", with_std=True).order_free
    # the edge block's windows are filled with the raw value that scales to 0 µV: integers or not
    assert means_job(rec, srt).edge_order_free  # raw units: filled with 0
    spikes = srt.to_spike_vector()
    gains = np.full(rec.get_num_channels(), 0.5)

    def scaled(offset):
        return AccumulateJob(spikes, srt.get_num_units(), 3, 5, rec.get_num_channels(), gains,
                             np.full(rec.get_num_channels(), offset), sample_dtype="int16")
    assert scaled(-4.0).edge_order_free  # fill 8
    assert scaled(0.3).order_free and not scaled(0.3).edge_order_free  # fill -0.6
    assert CompositeJob([gather, means_job(rec, srt)]).edge_order_free
    assert not CompositeJob([gather, scaled(0.3)]).edge_order_free
    num_channels = rec.get_num_channels()
    far = AccumulateJob(spikes, srt.get_num_units(), 3, 5, num_channels, np.full(num_channels, 1e-3),
                        np.full(num_channels, -100.0), sample_dtype="int16")
    assert far.order_free and not far.edge_order_free  # fill 100000: an integer outside int16
    # a std job whose every value is an integer adds int64 raw moments, shifted at the end
    assert means_job(rec, srt, with_std=True).raw_moments
    assert means_job(rec, srt, sample_dtype="uint16", with_std=True).raw_moments
    assert not means_job(rec, srt).raw_moments  # means only: sums in float
    assert not means_job(rec, srt, sample_dtype="float32", with_std=True).raw_moments
    assert not means_job(rec, srt, sample_dtype="int32", with_std=True).raw_moments


@pytest.mark.parametrize("offset, states", [(-4.0, 1), (0.3, 2)])
def test_the_edge_block_joins_a_workers_state_when_exact(monkeypatch, offset, states):
    """One worker: one state for every block, the edge block's too when its windows are integers;
    else the edge block has its own, reduced last. Both equal the NumPy reference."""
    rec = recording(lengths=(700, 500)).save(format="memory", progress_bar=False)
    srt = sorting(rec)
    spikes = srt.to_spike_vector()
    num_samples = [rec.get_num_samples(s) for s in range(rec.get_num_segments())]
    assert edge_positions(spikes, num_samples, 3, 5).size > 0
    gains = np.full(rec.get_num_channels(), 0.5)
    offsets = np.full(rec.get_num_channels(), offset)
    job = AccumulateJob(spikes, srt.get_num_units(), 3, 5, rec.get_num_channels(), gains, offsets,
                        with_std=False, sample_dtype="int16")
    started = []
    original = job.start
    monkeypatch.setattr(job, "start", lambda ctx: started.append(1) or original(ctx))
    mean, _ = run_block_job(job, rec, resolve_job_kwargs(**JOB, n_jobs=1))
    assert len(started) == states
    present = np.isin(np.arange(srt.get_num_units()), spikes["unit_index"])
    windows = cut(rec, spikes, 3, 5, False)
    inside = np.ones(windows.shape[:2] + (1,), bool)
    for i, sp in enumerate(spikes):  # outside the segment the scaled windows are 0 µV
        t = int(sp["sample_index"]) - 3 + np.arange(8)
        inside[i, :, 0] = (t >= 0) & (t < rec.get_num_samples(int(sp["segment_index"])))
    scaled_windows = np.where(inside, windows * 0.5 + offset, 0.0)
    for u in np.flatnonzero(present):
        np.testing.assert_allclose(mean[u], scaled_windows[spikes["unit_index"] == u].mean(axis=0), rtol=1e-12,
                                   atol=1e-9)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_threads_keep_one_state_per_worker(n_jobs):
    rec = recording(lengths=(700, 500))
    srt = sorting(rec, per_segment=60, edges=False)
    partials, num_blocks = source_partials(means_job(rec, srt), rec, n_jobs=n_jobs)
    assert num_blocks > 4
    assert 1 <= len(partials) <= n_jobs  # one state per worker, not one per block
    assert sum(int(p["counts"].sum()) for p in partials) == srt.to_spike_vector().size


def test_per_task_states_without_order_freedom():
    rec = recording(lengths=(700, 500))
    srt = sorting(rec, per_segment=60, edges=False)
    partials, num_blocks = source_partials(means_job(rec, srt, sample_dtype="float32"), rec, n_jobs=2)
    assert num_blocks > 4 and len(partials) > 2


@pytest.mark.parametrize("job_kwargs", [dict(n_jobs=1), dict(n_jobs=2),
                                        dict(n_jobs=2, engine="process", mp_context="spawn")])
def test_order_free_means_equal_reference_with_edges(job_kwargs):
    rec = recording(lengths=(700, 500)).save(format="memory", progress_bar=False)
    srt = sorting(rec)  # spikes across the segment edges: the edge block is reduced after the states
    spikes = srt.to_spike_vector()
    num_samples = [rec.get_num_samples(s) for s in range(rec.get_num_segments())]
    assert edge_positions(spikes, num_samples, 3, 5).size > 0
    config = resolve_job_kwargs(**JOB, **job_kwargs)
    results = [run_block_job(means_job(rec, srt), rec, config)[0] for _ in range(3)]
    np.testing.assert_allclose(results[0], reference_means(rec, spikes, srt.get_num_units()), rtol=1e-12,
                               atol=1e-12)
    for other in results[1:]:  # the same bits whichever worker took which block
        np.testing.assert_array_equal(other, results[0])
    per_task = run_block_job(means_job(rec, srt, sample_dtype="float32"), rec, config)[0]
    np.testing.assert_array_equal(results[0], per_task)


def test_composite_of_order_free_jobs_on_threads():
    rec = recording(lengths=(700, 500))
    srt = sorting(rec)
    spikes = srt.to_spike_vector()
    gather = GatherJob(spikes, np.arange(spikes.size), spikes.size, 3, 5, rec.get_num_channels(), None, False,
                       "float32")
    composite = CompositeJob([gather, means_job(rec, srt)])
    waveforms, (mean, std) = run_block_job(composite, rec, resolve_job_kwargs(**JOB, n_jobs=2))
    np.testing.assert_array_equal(waveforms, cut(rec, spikes, 3, 5, False).astype("float32"))
    np.testing.assert_allclose(mean, reference_means(rec, spikes, srt.get_num_units()), rtol=1e-12, atol=1e-12)
    assert std is None


def test_dask_workers_return_their_states(tmp_path):
    import distributed

    rec = recording(lengths=(700, 500)).save(folder=tmp_path / "rec", progress_bar=False)
    srt = sorting(rec)
    with distributed.LocalCluster(n_workers=1, processes=False, threads_per_worker=1,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        config = resolve_job_kwargs(**JOB, n_jobs=1, engine="dask", client=client)
        mean = run_block_job(means_job(rec, srt), rec, config)[0]
    np.testing.assert_allclose(mean, reference_means(rec, srt.to_spike_vector(), srt.get_num_units()), rtol=1e-12,
                               atol=1e-12)


@pytest.mark.parametrize("job_kwargs", [dict(n_jobs=1), dict(n_jobs=2),
                                        dict(n_jobs=2, engine="process", mp_context="spawn")])
def test_order_free_std_equals_reference_with_edges(job_kwargs):
    """Mean and std of integer samples, shifted by one reference window per unit read before the
    run: the same bits whichever worker took which block, and as per-task states."""
    from test_composite import per_unit_mean_std

    rec = recording(lengths=(700, 500)).save(format="memory", progress_bar=False)
    srt = sorting(rec)
    spikes = srt.to_spike_vector()
    num_samples = [rec.get_num_samples(s) for s in range(rec.get_num_segments())]
    assert edge_positions(spikes, num_samples, 3, 5).size > 0
    config = resolve_job_kwargs(**JOB, **job_kwargs)
    results = [run_block_job(means_job(rec, srt, with_std=True), rec, config) for _ in range(3)]
    ref_mean, ref_std = per_unit_mean_std(cut(rec, spikes, 3, 5, False), spikes["unit_index"], srt.get_num_units())
    np.testing.assert_allclose(results[0][0], ref_mean, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(results[0][1], ref_std, rtol=1e-9, atol=1e-9)
    per_task = run_block_job(means_job(rec, srt, sample_dtype="float32", with_std=True), rec, config)
    for other in results[1:] + [per_task]:
        np.testing.assert_array_equal(other[0], results[0][0])
        np.testing.assert_array_equal(other[1], results[0][1])


def test_reference_window_is_each_units_first_inside_its_segment():
    """A unit whose first spike crosses the segment start takes its first interior window; a unit
    with edge spikes only takes its first (edge-filled) window; a unit without spikes, zeros."""
    rec = recording(lengths=(700,))
    fields = [("sample_index", "int64"), ("unit_index", "int64"), ("segment_index", "int64")]
    spikes = np.array([(1, 0, 0), (40, 1, 0), (90, 0, 0), (120, 0, 0), (698, 2, 0)], dtype=fields)
    job = AccumulateJob(spikes, 4, 3, 5, rec.get_num_channels(), with_std=True, sample_dtype="int16")
    job.prepare(rec)
    raw = rec.get_traces(return_scaled=False).astype("float64")
    np.testing.assert_array_equal(job._ref[0], raw[87:95])  # spike at 1 crosses the start
    np.testing.assert_array_equal(job._ref[1], raw[37:45])
    expected = np.zeros((8, rec.get_num_channels()))
    expected[:5] = raw[695:700]  # outside the segment: the raw value that scales to 0 (no gains: 0)
    np.testing.assert_array_equal(job._ref[2], expected)
    np.testing.assert_array_equal(job._ref[3], 0.0)


@pytest.mark.parametrize("offset", [-4.0, 0.3])
def test_raw_moments_give_the_bits_of_shifted_sums(offset):
    """A scaled std job over integer samples with edge spikes: int64 raw moments (integer fill) or
    shifted float64 sums (fill -0.6), the same bits as the shifted float path of per-task states,
    and the NumPy reference."""
    from test_composite import per_unit_mean_std

    rec = recording(lengths=(700, 500)).save(format="memory", progress_bar=False)
    srt = sorting(rec)
    spikes = srt.to_spike_vector()
    gains = np.full(rec.get_num_channels(), 0.5)
    offsets = np.full(rec.get_num_channels(), offset)

    def job(sample_dtype):
        return AccumulateJob(spikes, srt.get_num_units(), 3, 5, rec.get_num_channels(), gains, offsets,
                             sample_dtype=sample_dtype)

    raw = job("int16")
    assert raw.raw_moments == (offset == -4.0)
    partials, _ = source_partials(raw, rec, n_jobs=2)
    assert all(p["sums"].dtype == ("int64" if raw.raw_moments else "float64") for p in partials)
    config = resolve_job_kwargs(**JOB, n_jobs=2)
    mean, std = run_block_job(job("int16"), rec, config)
    shifted_mean, shifted_std = run_block_job(job("float32"), rec, config)
    np.testing.assert_array_equal(mean, shifted_mean)
    np.testing.assert_array_equal(std, shifted_std)
    windows = cut(rec, spikes, 3, 5, False)
    for i, sp in enumerate(spikes):  # outside the segment the scaled windows are 0 µV
        t = int(sp["sample_index"]) - 3 + np.arange(8)
        outside = (t < 0) | (t >= rec.get_num_samples(int(sp["segment_index"])))
        windows[i, outside] = -offset / 0.5
    ref_mean, ref_std = per_unit_mean_std(windows * 0.5 + offset, spikes["unit_index"], srt.get_num_units())
    np.testing.assert_allclose(mean, ref_mean, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(std, ref_std, rtol=1e-9, atol=1e-9)


def test_results_in_float32_are_the_float64_results_rounded_once():
    rec = recording(lengths=(700, 500)).save(format="memory", progress_bar=False)
    srt = sorting(rec)
    spikes = srt.to_spike_vector()
    gains, offsets = np.full(rec.get_num_channels(), 0.5), np.full(rec.get_num_channels(), -4.0)
    config = resolve_job_kwargs(**JOB, n_jobs=2)

    def run(result_dtype):
        return run_block_job(AccumulateJob(spikes, srt.get_num_units(), 3, 5, rec.get_num_channels(), gains, offsets,
                                           sample_dtype="int16", result_dtype=result_dtype), rec, config)
    wide, narrow = run("float64"), run("float32")
    for a, b in zip(wide, narrow):
        assert b.dtype == np.float32
        np.testing.assert_array_equal(b, a.astype(np.float32))
    with pytest.raises(ValueError, match="result_dtype='int16'"):
        run("int16")
