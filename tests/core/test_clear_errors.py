"""Errors that must be clear (name the argument or file and what is allowed), and jobs that must not
hang or over-subscribe."""
import json
import logging
import threading
import time

import numpy as np
import pytest

import gpuspike as gs
from gpuspike.core.errors import CorruptFolderError
from gpuspike.core.job import run_chunks

NOBAR = dict(progress_bar=False)


def chunk_start(segment_index, start_frame, end_frame, ctx):
    return start_frame


def chunk_lock(segment_index, start_frame, end_frame, ctx):
    return threading.Lock()  # not picklable


@pytest.fixture(scope="module")
def saved_rec(tmp_path_factory):
    rec = gs.generate_recording(num_channels=2, durations=[0.3], sampling_frequency=10000.0, seed=0)
    return rec.save(folder=tmp_path_factory.mktemp("rec") / "r", **NOBAR)


# ---------------------------------------------------------------------- 16. Dask
def _in_thread(func, timeout):
    outcome = {}

    def target():
        try:
            outcome["value"] = func()
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome["exc"] = exc

    thread = threading.Thread(target=target, daemon=True)
    start = time.time()
    thread.start()
    thread.join(timeout=timeout)
    assert not thread.is_alive(), f"still waiting after {timeout} s: the job hangs"
    return outcome, time.time() - start


def test_dask_cluster_without_workers_times_out_clearly(saved_rec, monkeypatch):
    distributed = pytest.importorskip("distributed")
    import gpuspike.core.dask_engine as dask_engine

    monkeypatch.setattr(dask_engine, "WORKER_WAIT_S", 2.0, raising=False)
    cluster = distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=None,
                                       silence_logs=logging.CRITICAL)
    client = distributed.Client(cluster)
    try:
        outcome, elapsed = _in_thread(lambda: run_chunks(saved_rec, chunk_start, job_kwargs=dict(
            engine="dask", client=client, chunk_size=1000, **NOBAR), job_name="lonely"), timeout=60)
    finally:
        client.close()
        cluster.close()
    exc = outcome.get("exc")
    assert isinstance(exc, RuntimeError), outcome
    assert "job 'lonely': the Dask cluster has no worker, and none connected within 2 s" in str(exc)
    assert elapsed < 30


def test_dask_closed_client_is_named(saved_rec):
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=1, processes=False, dashboard_address=None,
                                       silence_logs=logging.CRITICAL)
    client = distributed.Client(cluster)
    client.close()
    cluster.close()
    with pytest.raises(RuntimeError, match="client=: the Dask client is closed; create a new one"):
        run_chunks(saved_rec, chunk_start, job_kwargs=dict(engine="dask", client=client, **NOBAR))
    with pytest.raises(RuntimeError, match="the Dask client is closed"):
        gs.set_global_job_kwargs(engine="dask", client=client)
    gs.reset_global_job_kwargs()


# ---------------------------------------------------------------------- 17. n_jobs capped
def _record_pool_sizes(monkeypatch):
    import gpuspike.core.executor as executor

    sizes = []
    for name in ("ThreadPoolExecutor", "ProcessPoolExecutor"):
        real = getattr(executor, name)

        def make(*args, _real=real, **kwargs):
            sizes.append(kwargs.get("max_workers"))
            return _real(*args, **kwargs)

        monkeypatch.setattr(executor, name, make)
    return sizes


@pytest.mark.parametrize("engine, n_jobs", [("thread", 10**6), ("process", 64)])
def test_n_jobs_capped_at_the_number_of_chunks(saved_rec, monkeypatch, engine, n_jobs):
    sizes = _record_pool_sizes(monkeypatch)
    out = run_chunks(saved_rec, chunk_start, job_kwargs=dict(n_jobs=n_jobs, engine=engine, chunk_size=1000, **NOBAR))
    assert out == [0, 1000, 2000]
    assert sizes == [3]


def test_n_jobs_far_above_the_cores_warns(saved_rec, monkeypatch):
    import os

    sizes = _record_pool_sizes(monkeypatch)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    with pytest.warns(RuntimeWarning, match=r"n_jobs=1000000 starts 30 thread workers on 2 cores"):
        out = run_chunks(saved_rec, chunk_start, job_kwargs=dict(n_jobs=10**6, chunk_size=100, **NOBAR))
    assert len(out) == 30 and sizes == [30]


# ---------------------------------------------------------------------- 18. clear messages
@pytest.mark.parametrize("dtype", ["complex64", "bool", "object", "U4"])
@pytest.mark.parametrize("fmt", ["binary", "zarr"])
def test_save_refuses_dtypes_that_cannot_be_loaded_again(tmp_path, dtype, fmt):
    rec = gs.NumpyRecording([np.zeros((100, 2), "float32")], 1000.0)
    with pytest.raises((ValueError, TypeError), match=r"dtype=.* cannot be saved and loaded again.*allowed: "
                                                      r"integer and float"):
        rec.save(folder=tmp_path / "r", format=fmt, dtype=dtype, **NOBAR)
    obj = gs.NumpyRecording([np.zeros((100, 2), dtype=object)], 1000.0)
    with pytest.raises(ValueError, match="dtype=object cannot be saved"):
        obj.save(folder=tmp_path / "o", format=fmt, **NOBAR)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kwargs, match", [
    ({"compressor": "blosc"}, "compressor='blosc': allowed values are None.*'default'.*numcodecs codec"),
    ({"compressor": 5}, "compressor=5: allowed values"),
    ({"filters": "delta"}, "filters='delta': give None or a list of numcodecs codecs"),
    ({"filters": [1]}, "filters=\\[1\\]: give None or a list"),
    ({"compressor_by_dataset": {"trace": None}}, "compressor_by_dataset: unknown datasets \\['trace'\\]"),
])
def test_invalid_zarr_codecs_named(tmp_path, kwargs, match):
    rec = gs.NumpyRecording([np.zeros((100, 2), "float32")], 1000.0)
    with pytest.raises((TypeError, ValueError), match=match):
        rec.save(folder=tmp_path / "r", format="zarr", **kwargs, **NOBAR)
    assert list(tmp_path.iterdir()) == []


def test_truncated_waveforms_json_named(tmp_path):
    rec = gs.generate_recording(num_channels=2, durations=[0.2], seed=0)
    sorting = gs.NumpySorting.from_times_labels([np.array([100, 900])], [np.array([0, 1])], rec.sampling_frequency)
    gs.extract_waveforms(rec, sorting, folder=tmp_path / "wf", **NOBAR)
    for name in ("params.json", "recording_info/recording_attributes.json", "gpuspike_selected_indices.json"):
        path = tmp_path / "wf" / name
        good = path.read_text()
        path.write_text(good[: len(good) // 2])
        with pytest.raises(CorruptFolderError, match=f"{name.split('/')[-1]}' is not valid JSON.*truncated"):
            gs.load_waveforms(tmp_path / "wf")
        path.write_text(good)
    assert gs.load_waveforms(tmp_path / "wf").get_waveforms(0).shape[0] == 1


@pytest.mark.parametrize("kwargs, error, match", [
    ({"ms_before": -1.0}, ValueError, "ms_before=-1.0: give milliseconds as a finite number >= 0"),
    ({"ms_after": float("inf")}, ValueError, "ms_after=inf"),
    ({"ms_before": "1"}, TypeError, "ms_before='1': give milliseconds as a number"),
    ({"ms_before": 0.0, "ms_after": 0.01}, ValueError, "the window holds no sample"),
])
def test_waveform_window_checked(kwargs, error, match):
    rec = gs.generate_recording(num_channels=2, durations=[0.2], seed=0)
    sorting = gs.NumpySorting.from_times_labels([np.array([100, 900])], [np.array([0, 1])], rec.sampling_frequency)
    with pytest.raises(error, match=match):
        gs.extract_waveforms(rec, sorting, mode="memory", **kwargs, **NOBAR)
    with pytest.raises(error, match=match):
        gs.compute_templates(rec, sorting, **kwargs, **NOBAR)


@pytest.mark.parametrize("value, error, match", [
    (float("inf"), ValueError, "sampling_frequency must be > 0 and finite.*got inf"),
    (float("nan"), ValueError, "got nan"),
    ("30000", TypeError, "sampling_frequency='30000': give a number of samples per second.*not a str"),
    (True, TypeError, "not a bool"),
])
def test_sampling_frequency_checked(value, error, match):
    with pytest.raises(error, match=match):
        gs.NumpyRecording([np.zeros((10, 2), "float32")], value)
    with pytest.raises(error, match=match):
        gs.NumpySorting(np.zeros(0, gs.spike_dtype), value, [0])
    with pytest.raises(error, match=match):
        gs.NumpySnippets([np.zeros((1, 4, 2))], [np.array([3])], value, nbefore=1)


def test_scalar_channel_ids_named():
    rec = gs.NumpyRecording([np.arange(20, dtype="float32").reshape(10, 2)], 1000.0)
    with pytest.raises(TypeError, match=r"channel_ids=1 is a single id: give a list or array of ids, "
                                        r"e.g. channel_ids=\[1\]"):
        rec.get_traces(channel_ids=1)
    with pytest.raises(TypeError, match="unit_ids='a' is a single id"):
        gs.NumpySorting.from_unit_dict({"a": [1]}, 1000.0).ids_to_indices("a")
    np.testing.assert_array_equal(rec.get_traces(channel_ids=[1])[:, 0], np.arange(1, 20, 2))


def test_unpicklable_worker_result_named(saved_rec):
    with pytest.raises(TypeError, match="job 'locks': a worker process could not send a chunk's result back.*"
                                        "cannot pickle.*chunk_func must return picklable values"):
        run_chunks(saved_rec, chunk_lock, job_kwargs=dict(n_jobs=2, engine="process", chunk_size=1000, **NOBAR),
                   job_name="locks")
    # the same function is fine where nothing is pickled
    assert len(run_chunks(saved_rec, chunk_lock, job_kwargs=dict(n_jobs=2, engine="thread", chunk_size=1000,
                                                                 **NOBAR))) == 3


def test_unpicklable_dask_result_named(saved_rec):
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=1, processes=True, threads_per_worker=1, dashboard_address=None,
                                       host="127.0.0.1", silence_logs=logging.CRITICAL)
    client = distributed.Client(cluster)
    try:
        with pytest.raises(TypeError, match="job 'locks': a Dask worker could not send a chunk's result back.*"
                                            "Could not serialize object of type lock"):
            run_chunks(saved_rec, chunk_lock, job_kwargs=dict(engine="dask", client=client, chunk_size=1000,
                                                              **NOBAR), job_name="locks")
    finally:
        client.close()
        cluster.close()


def test_json_config_errors_name_the_file(tmp_path):
    rec = gs.generate_recording(num_channels=2, durations=[0.1], seed=0)
    rec.save(folder=tmp_path / "r", **NOBAR)
    text = (tmp_path / "r" / "binary.json").read_text()
    (tmp_path / "r" / "binary.json").write_text(text[:50])
    with pytest.raises(CorruptFolderError, match="binary.json' is not valid JSON"):
        gs.load(tmp_path / "r")
    assert json.loads(text)["num_samples"] == [3000]
