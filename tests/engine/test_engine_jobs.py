"""Every job of the block engine gives the reference's result on numpy and on cuda (simulator),
with small blocks, small budgets, several segments and spikes at the segment edges."""
import numpy as np
import pytest

import gpuspike as gs
from gpuspike.core.random_spikes import select_random_spikes

from _engine_data import MS, assert_close, mean_std, recording, scaled_traces, sorting, windows

JOB = dict(progress_bar=False)
# job kwargs that give many blocks (or a tight budget) on both backends
BUDGETS = [dict(chunk_size=90), dict(chunk_memory="2k"), dict(total_memory="40k"), dict(chunk_duration="1s")]


@pytest.fixture(scope="module")
def data():
    rec = recording()
    return rec, sorting(rec)


@pytest.mark.parametrize("budget", BUDGETS, ids=lambda b: "-".join(f"{k}={v}" for k, v in b.items()))
def test_dense_waveforms_and_templates(data, backend_name, budget):
    rec, srt = data
    we = gs.extract_waveforms(rec, srt, mode="memory", max_spikes_per_unit=6, seed=3, sparse=False,
                              precompute_template=("average", "std"), backend=backend_name, **MS, **budget, **JOB)
    ref = windows(rec, srt, select_random_spikes(srt, 6, 3))
    for u in srt.unit_ids.tolist():
        np.testing.assert_array_equal(we.get_waveforms(u), ref[u])  # bitwise on every backend
    mean, std = mean_std(ref, srt.unit_ids)
    assert_close(we.get_all_templates(mode="average"), mean)
    assert_close(we.get_all_templates(mode="std"), std)


def test_sparse_waveforms(data, backend_name):
    rec, srt = data
    mask = np.array([[1, 1, 0, 0, 0], [0, 1, 1, 1, 0], [0, 0, 0, 0, 1]], dtype=bool)
    sparsity = gs.ChannelSparsity(mask, srt.unit_ids, rec.channel_ids)
    we = gs.extract_waveforms(rec, srt, mode="memory", max_spikes_per_unit=5, seed=4, sparsity=sparsity,
                              precompute_template=("average", "std"), backend=backend_name, chunk_size=120, **MS,
                              **JOB)
    ref = windows(rec, srt, select_random_spikes(srt, 5, 4))
    for i, u in enumerate(srt.unit_ids.tolist()):
        np.testing.assert_array_equal(we.get_waveforms(u), ref[u][:, :, mask[i]])
    mean, std = mean_std(ref, srt.unit_ids)
    assert_close(we.get_all_templates(mode="average"), mean * mask[:, None, :])
    assert_close(we.get_all_templates(mode="std"), std * mask[:, None, :])


@pytest.mark.parametrize("dtype", ["int16", "float32"])
@pytest.mark.parametrize("budget", BUDGETS[:3], ids=["chunk_size", "chunk_memory", "total_memory"])
def test_templates_of_every_spike(backend_name, dtype, budget):
    rec = recording(dtype=dtype, seed=5)
    srt = sorting(rec, seed=6)
    tw = gs.compute_templates(rec, srt, backend=backend_name, **MS, **budget, **JOB)
    ref = windows(rec, srt, np.arange(srt.to_spike_vector().size))
    mean, std = mean_std(ref, srt.unit_ids)
    assert_close(tw.get_all_templates(mode="average"), mean)
    assert_close(tw.get_all_templates(mode="std"), std)


def test_unscaled_templates_and_waveforms(data, backend_name):
    rec, srt = data
    tw = gs.compute_templates(rec, srt, return_scaled=False, backend=backend_name, chunk_size=100, **MS, **JOB)
    ref = windows(rec, srt, np.arange(srt.to_spike_vector().size), scaled=False)
    mean, std = mean_std(ref, srt.unit_ids)
    assert_close(tw.get_all_templates(), mean)
    assert_close(tw.get_all_templates(mode="std"), std)
    we = gs.extract_waveforms(rec, srt, mode="memory", max_spikes_per_unit=4, seed=0, return_scaled=False,
                              sparse=False, backend=backend_name, chunk_size=100, **MS, **JOB)
    ref = windows(rec, srt, select_random_spikes(srt, 4, 0), scaled=False)
    for u in srt.unit_ids.tolist():
        np.testing.assert_array_equal(we.get_waveforms(u), ref[u])
        assert we.get_waveforms(u).dtype == np.int16


def test_identical_windows_have_a_std_of_exactly_zero(backend_name):
    """float traces repeating one pattern: every window of a unit is the same; std is 0, not noise."""
    rng = np.random.default_rng(2)
    pattern = (rng.normal(0, 80, (10, 3)) * 0.37).astype("float32")
    rec = gs.NumpyRecording([np.tile(pattern, (80, 1))], 10_000.0)
    rec.set_channel_gains(np.array([0.7, 1.9, 3.1], "float32"))
    rec.set_channel_offsets(np.array([-5.0, 0.0, 12.5], "float32"))
    peaks = np.arange(14, 790, 10)  # 78 spikes, each window the same 10 samples of the pattern
    srt = gs.NumpySorting.from_unit_dict([{"a": peaks}], 10_000.0)
    tw = gs.compute_templates(rec, srt, backend=backend_name, chunk_size=200, **MS, **JOB)
    np.testing.assert_array_equal(tw.get_all_templates(mode="std"), np.zeros((1, 10, 3), "float32"))
    expected = np.roll(pattern, 0, axis=0).astype("float32") * rec.get_property("gain_to_uV") \
        + rec.get_property("offset_to_uV")
    assert_close(tw.get_all_templates(mode="average")[0], expected[np.r_[0:10]], rtol=1e-6)


@pytest.mark.parametrize("method,kwargs", [("radius", dict(radius_um=25.0)), ("best_channels", dict(num_channels=2)),
                                           ("snr", dict(threshold=0.5))])
def test_sparsity_estimate(data, backend_name, method, kwargs):
    # the engine's own sparse pass (gpuspike.extract_waveforms estimates sparsity as SpikeInterface 0.105 does,
    # through estimate_sparsity, and hands the engine the result)
    from gpuspike.core.waveforms import extract_waveforms as engine_extract_waveforms

    rec, srt = data
    we = engine_extract_waveforms(rec, srt, mode="memory", max_spikes_per_unit=3, seed=1, sparse=True, method=method,
                              num_spikes_for_sparsity=7, backend=backend_name, chunk_size=150, **kwargs, **MS, **JOB)
    mean, _ = mean_std(windows(rec, srt, select_random_spikes(srt, 7, 1)), srt.unit_ids)
    amplitudes = np.abs(mean.min(axis=1))  # peak_sign="neg"
    if method == "radius":
        extremum = np.argmin(mean.min(axis=1), axis=1)
        locations = rec.get_channel_locations()
        distance = np.linalg.norm(locations[None, :, :] - locations[extremum][:, None, :], axis=2)
        expected = distance <= kwargs["radius_um"]
    elif method == "best_channels":
        order = np.argsort(-amplitudes, axis=1, kind="stable")[:, :2]
        expected = np.zeros_like(amplitudes, dtype=bool)
        np.put_along_axis(expected, order, True, axis=1)
    else:
        noise = gs.get_noise_levels(rec, return_scaled=True)
        expected = amplitudes / noise >= kwargs["threshold"]
    np.testing.assert_array_equal(we.sparsity.mask, expected)


@pytest.mark.parametrize("method", ["mad", "std", "rms"])
def test_noise_levels_are_the_mean_of_per_chunk_statistics(data, backend_name, method):
    rec, _ = data
    from gpuspike.core.recording_tools import random_chunk_ranges

    kw = dict(num_chunks_per_segment=3, chunk_size=60, seed=11)
    noise = gs.get_noise_levels(rec, return_scaled=True, method=method, force_recompute=True, backend=backend_name,
                                **kw)
    stats = []
    for seg, start, end in random_chunk_ranges(rec, **kw):
        chunk = scaled_traces(rec, seg)[start:end].astype("float64")
        if method == "mad":
            med = np.median(chunk, axis=0)
            stats.append(np.median(np.abs(chunk - med), axis=0) / 0.6744897501960817)
        elif method == "std":
            stats.append(chunk.std(axis=0))
        else:
            stats.append(np.sqrt((chunk ** 2).mean(axis=0)))
    assert_close(noise, np.mean(stats, axis=0), rtol=1e-6)


def test_budget_that_cannot_hold_a_block_names_the_smallest_that_works(data, backend_name):
    rec, srt = data
    with pytest.raises(ValueError, match=r"total_memory=.* cannot hold one block .* give total_memory >= ") as info:
        gs.compute_templates(rec, srt, backend=backend_name, total_memory=200, **MS, **JOB)
    smallest = info.value.args[0].split("e.g. total_memory='")[1].split("'")[0]
    tw = gs.compute_templates(rec, srt, backend=backend_name, total_memory=smallest, **MS, **JOB)  # enough
    assert tw.get_all_templates().shape == (3, 10, 5)
    with pytest.raises(ValueError, match=r"chunk_memory=.* give chunk_memory >= "):
        gs.compute_templates(rec, srt, backend=backend_name, chunk_memory=50, **MS, **JOB)


def test_same_job_kwargs_work_on_both_backends():
    """chunk_memory='200k' on a 16-channel recording: one block of 6250 frames on either backend."""
    rec = recording(lengths=(9000,), num_channels=16, seed=7)
    srt = sorting(rec, per_segment=10, seed=8)
    results = {}
    for backend in ("numpy", "cuda"):
        we = gs.extract_waveforms(rec, srt, mode="memory", max_spikes_per_unit=2, seed=0, sparse=False,
                                  backend=backend, chunk_memory="200k", **MS, **JOB)
        results[backend] = we
    for u in srt.unit_ids.tolist():
        np.testing.assert_array_equal(results["numpy"].get_waveforms(u), results["cuda"].get_waveforms(u))


def test_dask_engine_gives_the_same_results_on_both_backends(data, tmp_path):
    """engine="dask": blocks run on the Dask workers (each on its own backend), results come back."""
    import distributed

    memory_rec, srt = data
    rec = memory_rec.save(folder=tmp_path / "rec", **JOB)  # Dask workers rebuild it from its dict
    # one thread: numba's simulator runs one kernel at a time (a real GPU takes launches from any thread)
    with distributed.LocalCluster(n_workers=1, processes=False, threads_per_worker=1,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        out = {}
        for backend in ("numpy", "cuda"):
            we = gs.extract_waveforms(rec, srt, mode="memory", max_spikes_per_unit=5, seed=2, sparse=False,
                                      precompute_template=("average", "std"), backend=backend, engine="dask",
                                      client=client, chunk_size=200, **MS, **JOB)
            tw = gs.compute_templates(rec, srt, backend=backend, engine="dask", client=client, chunk_size=200, **MS,
                                      **JOB)
            out[backend] = (we, tw)
    ref = windows(rec, srt, select_random_spikes(srt, 5, 2))
    mean, std = mean_std(windows(rec, srt, np.arange(srt.to_spike_vector().size)), srt.unit_ids)
    for backend, (we, tw) in out.items():
        for u in srt.unit_ids.tolist():
            np.testing.assert_array_equal(we.get_waveforms(u), ref[u])
        assert_close(tw.get_all_templates(mode="average"), mean)
        assert_close(tw.get_all_templates(mode="std"), std)


def test_partial_sums_of_several_tasks_add_up_even_when_read_only():
    """The reduction of several tasks' shifted sums gives the templates of all their windows, also
    when the partials arrive read-only (as Dask may deliver them)."""
    from gpuspike.backends import get_backend
    from gpuspike.engine import AccumulateJob
    from gpuspike.engine.job import BlockData

    rng = np.random.default_rng(3)
    traces = rng.integers(-500, 500, (400, 6)).astype(np.int16)
    peaks = np.sort(rng.choice(np.arange(5, 390), 40, replace=False)).astype(np.int64)
    units = rng.integers(0, 3, peaks.size)
    fields = [("sample_index", "int64"), ("unit_index", "int64"), ("segment_index", "int64")]
    spikes = np.zeros(peaks.size, dtype=fields)
    spikes["sample_index"], spikes["unit_index"] = peaks, units
    backend = get_backend("numpy")
    job = AccumulateJob(spikes, 4, 3, 5, 6)  # unit 3 has no spike
    recording = gs.NumpyRecording([traces], 1000.0)
    job.prepare(recording)  # the reference window of each unit, shared by every task
    partials = []
    for part in np.array_split(np.arange(peaks.size), 3):
        ctx = job.init_worker(backend, recording)
        state = job.start(ctx)
        job.process(ctx, state, BlockData(0, traces, part, peaks[part], False))
        for value in state.values():
            value.flags.writeable = False
        partials.append(state)
    mean, std = job.reduce(partials, backend)
    window = np.stack([traces[p - 3:p + 5].astype(np.float64) for p in peaks])
    for u in range(3):
        np.testing.assert_allclose(mean[u], window[units == u].mean(axis=0), rtol=0, atol=1e-9)
        np.testing.assert_allclose(std[u], window[units == u].std(axis=0), rtol=0, atol=1e-9)
    np.testing.assert_array_equal(mean[3], 0.0)
