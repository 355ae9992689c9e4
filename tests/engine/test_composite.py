"""Several spike jobs in one pass (CompositeJob): each job's result is the NumPy reference's, with
different windows and spike sets, spikes at the segment edges, small blocks, threads, processes
and Dask, on numpy and cuda (simulator)."""
import numpy as np
import pytest

from gpuspike.core.job import resolve_job_kwargs
from gpuspike.core.random_spikes import select_random_spikes
from gpuspike.engine import AccumulateJob, CompositeJob, GatherJob, run_block_job, run_with_riders

from _engine_data import assert_close, recording, sorting

JOB = dict(progress_bar=False)


def cut(rec, spikes, nbefore, nafter, scaled):
    """(N, nbefore + nafter, C) windows cut from the whole traces here; outside a segment, 0 µV
    (scaled) or 0 (raw)."""
    out = np.zeros((spikes.size, nbefore + nafter, rec.get_num_channels()), "float64")
    gains = rec.get_property("gain_to_uV").astype("float32")
    offsets = rec.get_property("offset_to_uV").astype("float32")
    for i, sp in enumerate(spikes):
        raw = rec.get_traces(segment_index=int(sp["segment_index"]), return_scaled=False)
        for j in range(nbefore + nafter):
            t = int(sp["sample_index"]) - nbefore + j
            if 0 <= t < raw.shape[0]:
                out[i, j] = raw[t].astype("float32") * gains + offsets if scaled else raw[t]
    return out


def per_unit_mean_std(win, unit_index, num_units):
    mean = np.zeros((num_units,) + win.shape[1:])
    std = np.zeros_like(mean)
    for u in range(num_units):
        mine = win[unit_index == u]
        if mine.shape[0]:
            mean[u] = mine.sum(axis=0) / mine.shape[0]
            std[u] = np.sqrt(((mine - mean[u]) ** 2).mean(axis=0))
    return mean, std


def two_jobs(rec, srt):
    """A scaled dense gather (4 + 6 samples) of 5 random spikes per unit, and the scaled mean/std
    (7 + 3 samples) of every spike: different windows, overlapping spike sets, edge spikes in both."""
    spikes = srt.to_spike_vector()
    picked = spikes[select_random_spikes(srt, 5, 3)]
    gains, offsets = rec._scaling(slice(None))
    gather = GatherJob(picked, np.arange(picked.size), picked.size, 4, 6, rec.get_num_channels(), None, True,
                       "float32", job_name="gather")
    accumulate = AccumulateJob(spikes, srt.get_num_units(), 7, 3, rec.get_num_channels(), gains, offsets,
                               with_std=True, job_name="accumulate")
    return picked, spikes, gather, accumulate


def check(rec, srt, picked, spikes, waveforms, mean, std):
    np.testing.assert_array_equal(np.asarray(waveforms), cut(rec, picked, 4, 6, True).astype("float32"))
    ref_mean, ref_std = per_unit_mean_std(cut(rec, spikes, 7, 3, True), spikes["unit_index"], srt.get_num_units())
    assert_close(mean, ref_mean)
    assert_close(std, ref_std)


@pytest.mark.parametrize("budget", [dict(chunk_size=60), dict(total_memory="30k"), dict(chunk_duration="1s")],
                         ids=["chunk_size", "total_memory", "one_block"])
def test_each_job_of_a_composite_gives_its_reference(backend_name, budget):
    rec = recording(seed=11)
    srt = sorting(rec, seed=12)
    picked, spikes, gather, accumulate = two_jobs(rec, srt)
    composite = CompositeJob([gather, accumulate])
    assert (composite.nbefore, composite.nafter) == (7, 6)
    config = resolve_job_kwargs(backend=backend_name, **budget, **JOB)
    waveforms, (mean, std) = run_block_job(composite, rec, config)
    check(rec, srt, picked, spikes, waveforms, mean, std)


def test_composite_on_worker_processes():
    rec = recording(seed=13).save(format="memory", **JOB)
    srt = sorting(rec, seed=14)
    picked, spikes, gather, accumulate = two_jobs(rec, srt)
    config = resolve_job_kwargs(n_jobs=2, engine="process", mp_context="spawn", chunk_size=80, **JOB)
    waveforms, (mean, std) = run_block_job(CompositeJob([gather, accumulate]), rec, config)
    check(rec, srt, picked, spikes, waveforms, mean, std)


def test_composite_on_dask(tmp_path, backend_name):
    import distributed

    rec = recording(seed=15).save(folder=tmp_path / "rec", **JOB)
    srt = sorting(rec, seed=16)
    picked, spikes, gather, accumulate = two_jobs(rec, srt)
    with distributed.LocalCluster(n_workers=1, processes=False, threads_per_worker=1,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        config = resolve_job_kwargs(backend=backend_name, engine="dask", client=client, chunk_size=100, **JOB)
        waveforms, (mean, std) = run_block_job(CompositeJob([gather, accumulate]), rec, config)
    check(rec, srt, picked, spikes, waveforms, mean, std)


class _Rider:
    reduce_kwargs = {"keep_on_backend": False}

    def __init__(self, job):
        self.job = job
        self.result = None

    def take(self, result, backend):
        self.result = result


def test_run_with_riders_hands_each_rider_its_result(backend_name):
    rec = recording(seed=17)
    srt = sorting(rec, seed=18)
    picked, spikes, gather, accumulate = two_jobs(rec, srt)
    rider = _Rider(accumulate)
    config = resolve_job_kwargs(backend=backend_name, chunk_size=70, **JOB)
    waveforms = run_with_riders(gather, rec, config, (rider,))
    mean, std = rider.result
    check(rec, srt, picked, spikes, config.backend_object.to_host(waveforms), mean, std)


def test_a_spike_in_both_jobs_and_raw_means():
    """The same spikes in both jobs, one of them unscaled means only (float32 sums)."""
    rec = recording(seed=19)
    srt = sorting(rec, seed=20, edges=False)
    spikes = srt.to_spike_vector()
    gather = GatherJob(spikes, np.arange(spikes.size), spikes.size, 4, 6, rec.get_num_channels(), None, False,
                       "int16")
    means = AccumulateJob(spikes, srt.get_num_units(), 4, 6, rec.get_num_channels(), with_std=False,
                          sums_dtype="float32")
    waveforms, (mean, std) = run_block_job(CompositeJob([gather, means]), rec,
                                           resolve_job_kwargs(chunk_size=50, n_jobs=2, **JOB))
    raw = cut(rec, spikes, 4, 6, False)
    np.testing.assert_array_equal(waveforms, raw.astype("int16"))
    assert std is None
    assert_close(mean, per_unit_mean_std(raw, spikes["unit_index"], srt.get_num_units())[0])


def test_composite_refuses_what_it_cannot_run():
    from gpuspike.engine import SaveBinaryJob

    rec = recording()
    srt = sorting(rec)
    _, _, gather, accumulate = two_jobs(rec, srt)
    with pytest.raises(ValueError, match="at least one job"):
        CompositeJob([])
    with pytest.raises(ValueError, match="jobs over spikes"):
        CompositeJob([gather, SaveBinaryJob(["never_written.raw"], "int16", 0, rec.get_num_channels())])
    with pytest.raises(ValueError, match="reduce_kwargs has 1 entries for 2 jobs"):
        CompositeJob([gather, accumulate], [{}])
    accumulate.host_blocks = True
    with pytest.raises(ValueError, match="host_blocks"):
        CompositeJob([gather, accumulate])
