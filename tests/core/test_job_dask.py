"""The Dask distributed engine, on one module-scoped LocalCluster over loopback (2 worker processes)."""
import logging
import os
import threading
import time

import numpy as np
import psutil
import pytest

import gpuspike as gs
from gpuspike.core.errors import NotDumpableError
from gpuspike.core.job import (divide_recording_into_chunks, reset_global_job_kwargs, resolve_job_kwargs, run_chunks,
                               set_global_job_kwargs)

distributed = pytest.importorskip("distributed")

FS = 1000.0
NO_BAR = {"progress_bar": False}


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None,
                                       host="127.0.0.1", silence_logs=logging.CRITICAL)
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def recording():
    return gs.generate_recording(num_channels=4, sampling_frequency=FS, durations=(3.0, 2.05), seed=0)


@pytest.fixture(autouse=True)
def _clean_globals():
    reset_global_job_kwargs()
    yield
    reset_global_job_kwargs()


# module level: pickled by reference, imported by the Dask workers
def init_stats(recording, scale):
    return {"recording": recording, "scale": scale, "pid": os.getpid(), "class": type(recording).__name__}


def chunk_stats(segment_index, start_frame, end_frame, ctx):
    traces = ctx["recording"].get_traces(segment_index=segment_index, start_frame=start_frame, end_frame=end_frame)
    quantized = np.round(traces.astype("float64") * ctx["scale"]).astype("int64")
    return {"chunk": (segment_index, start_frame, end_frame), "sum": quantized.sum(axis=0),
            "min": traces.min(axis=0), "max": traces.max(axis=0), "pid": ctx["pid"]}


def chunk_raise(segment_index, start_frame, end_frame, ctx):
    if start_frame >= 1000:
        raise KeyError(f"chunk starting at {start_frame} is broken")
    return start_frame


def chunk_sigkill(segment_index, start_frame, end_frame, ctx):
    if (segment_index, start_frame) == (0, 1000):
        os.kill(os.getpid(), 9)
    return start_frame


def _reference(recording, scale=1000.0):
    traces = np.concatenate([recording.get_traces(segment_index=s) for s in range(recording.get_num_segments())])
    quantized = np.round(traces.astype("float64") * scale).astype("int64")
    return {"sum": quantized.sum(axis=0), "min": traces.min(axis=0), "max": traces.max(axis=0)}


def _check(results, recording, chunk_size):
    assert [r["chunk"] for r in results] == divide_recording_into_chunks(recording, chunk_size)
    ref = _reference(recording)
    np.testing.assert_array_equal(np.sum([r["sum"] for r in results], axis=0), ref["sum"])
    np.testing.assert_array_equal(np.min([r["min"] for r in results], axis=0), ref["min"])
    np.testing.assert_array_equal(np.max([r["max"] for r in results], axis=0), ref["max"])


@pytest.mark.parametrize("chunk_size, chunks_per_task", [(700, None), (700, 1), (333, 4), (1000, None)])
def test_dask_reduction_identical(client, recording, chunk_size, chunks_per_task):
    results = run_chunks(recording, chunk_stats, init_stats, (recording, 1000.0),
                         {"engine": "dask", "client": client, "chunk_size": chunk_size, **NO_BAR},
                         job_name="stats", chunks_per_task=chunks_per_task)
    _check(results, recording, chunk_size)
    pids = {r["pid"] for r in results}
    assert os.getpid() not in pids  # ran on the worker processes
    worker_pids = set(client.run(os.getpid).values())
    assert pids <= worker_pids


def test_dask_rebuilds_recording_from_dict_on_workers(client, recording, monkeypatch):
    from gpuspike.core.executor import _ExtractorDict

    sent = []
    real_submit = client.submit

    def spy_submit(func, *args, **kwargs):
        sent.append(args)
        return real_submit(func, *args, **kwargs)

    monkeypatch.setattr(client, "submit", spy_submit)
    out = run_chunks(recording, chunk_stats, init_stats, (recording, 1000.0),
                     {"engine": "dask", "client": client, "chunk_size": 3000, **NO_BAR})
    _check(out, recording, 3000)
    payload = sent[0][0]  # the job travels as data: the recording as its dict, not the object
    encoded_recording = payload[1][0]
    assert isinstance(encoded_recording, _ExtractorDict)
    assert encoded_recording.d == recording.to_dict()


def test_dask_gather_func_in_chunk_order(client, recording):
    got = []
    out = run_chunks(recording, chunk_stats, init_stats, (recording, 10.0),
                     {"engine": "dask", "client": client, "chunk_size": 250, **NO_BAR},
                     gather_func=lambda r: got.append(r["chunk"]), chunks_per_task=2)
    assert out == [] and got == divide_recording_into_chunks(recording, 250)


def test_dask_set_globally_and_by_address(client, recording):
    set_global_job_kwargs(engine="dask", client=client, progress_bar=False)
    assert resolve_job_kwargs().client is client
    results = run_chunks(recording, chunk_stats, init_stats, (recording, 1000.0), {"chunk_size": 500})
    _check(results, recording, 500)
    assert os.getpid() not in {r["pid"] for r in results}
    reset_global_job_kwargs()
    results = run_chunks(recording, chunk_stats, init_stats, (recording, 1000.0),
                         {"engine": "dask", "client": client.scheduler.address, "chunk_size": 500, **NO_BAR})
    _check(results, recording, 500)


def test_dask_not_dumpable(client, recording):
    memory = gs.NumpyRecording([recording.get_traces(segment_index=0)], FS)
    with pytest.raises(NotDumpableError, match=r"save\("):
        run_chunks(memory, chunk_stats, init_stats, (memory, 1.0), {"engine": "dask", "client": client, **NO_BAR})


def test_dask_binary_writes_identical(client, recording, tmp_path):
    from gpuspike.core import saving

    paths = [tmp_path / f"seg{s}.raw" for s in range(2)]
    saving.write_binary_recording(recording, paths, chunk_size=333, engine="dask", client=client, **NO_BAR)
    for s, path in enumerate(paths):
        written = np.fromfile(path, dtype=recording.get_dtype()).reshape(-1, recording.get_num_channels())
        np.testing.assert_array_equal(written, recording.get_traces(segment_index=s))
    saved = recording.save(folder=tmp_path / "rec", chunk_size=333, engine="dask", client=client, **NO_BAR)
    for s in range(2):
        np.testing.assert_array_equal(saved.get_traces(segment_index=s), recording.get_traces(segment_index=s))


@pytest.mark.parametrize("sparse", [False, True])
def test_dask_extract_waveforms_equals_in_process(client, tmp_path, sparse):
    """Waveforms come back from the Dask workers as results (no file shared with the client)."""
    rec, sorting = gs.generate_ground_truth_recording(durations=[1.5], sampling_frequency=10000.0, num_channels=6,
                                                      num_units=3, seed=4,
                                                      generate_sorting_kwargs={"firing_rates": 20.0})
    kwargs = dict(mode="memory", max_spikes_per_unit=15, seed=2, sparse=sparse, method="best_channels",
                  num_channels=3, precompute_template=("average", "std"), chunk_size=4000, **NO_BAR)
    local = gs.extract_waveforms(rec, sorting, n_jobs=1, **kwargs)
    remote = gs.extract_waveforms(rec, sorting, engine="dask", client=client, **kwargs)
    for unit_id in sorting.unit_ids:
        np.testing.assert_array_equal(np.asarray(remote.get_waveforms(unit_id)), np.asarray(local.get_waveforms(unit_id)))
    np.testing.assert_allclose(remote.get_all_templates(mode="std"), local.get_all_templates(mode="std"), rtol=1e-6)


def test_dask_extract_waveforms_edge_spikes(client):
    """Spikes at both segment edges: partially filled windows, placed by the client after the workers."""
    rec, _ = gs.generate_ground_truth_recording(durations=[0.3, 0.2], sampling_frequency=10000.0, num_channels=5,
                                                num_units=2, seed=6)
    frames = [np.array([0, 4, 9, 10, 1500, 2970, 2980, 2999]), np.array([1, 8, 1000, 1979, 1990, 1999])]
    labels = [np.array([0, 1, 0, 1, 0, 1, 0, 1]), np.array([1, 0, 1, 0, 1, 0])]
    sorting = gs.NumpySorting.from_times_labels(frames, labels, 10000.0)
    kwargs = dict(mode="memory", max_spikes_per_unit=None, precompute_template=("average", "std"), chunk_size=700,
                  **NO_BAR)
    local = gs.extract_waveforms(rec, sorting, n_jobs=1, **kwargs, sparse=False)
    remote = gs.extract_waveforms(rec, sorting, engine="dask", client=client, **kwargs, sparse=False)
    traces = [rec.get_traces(segment_index=s, return_scaled=True) for s in range(2)]
    for unit_id in sorting.unit_ids:
        wfs = np.asarray(remote.get_waveforms(unit_id))
        np.testing.assert_array_equal(wfs, np.asarray(local.get_waveforms(unit_id)))
        first_frame = int(sorting.get_unit_spike_train(unit_id, segment_index=0)[0])
        inside = np.arange(remote.nsamples) - remote.nbefore + first_frame >= 0
        assert not wfs[0][~inside].any()  # before the segment: zeros
        np.testing.assert_array_equal(wfs[0][inside], traces[0][:inside.sum()])
    np.testing.assert_array_equal(remote.get_all_templates(mode="std"), local.get_all_templates(mode="std"))


def test_dask_worker_exception_surfaces(client, recording):
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    with pytest.raises(KeyError, match="is broken") as info:
        run_chunks(recording, chunk_raise, None, (), {"engine": "dask", "client": client, "chunk_size": 500, **NO_BAR},
                   job_name="broken-job")
    notes = "\n".join(getattr(info.value, "__notes__", []))
    assert "broken-job" in notes and "worker traceback" in notes and "chunk_raise" in notes
    # the cluster is still usable, no process was added or lost
    assert run_chunks(recording, chunk_raise, None, (), {"engine": "dask", "client": client, "chunk_size": 500,
                                                          **NO_BAR}, chunks=[(0, 0, 10)]) == [0]
    now = {p.pid for p in psutil.Process().children(recursive=True)}
    assert now == before


def test_dask_sigkilled_worker_gives_clear_error(client, recording):
    # last test of the module: the nanny restarts the killed workers
    outcome = {}

    def target():
        try:
            run_chunks(recording, chunk_sigkill, None, (), {"engine": "dask", "client": client, "chunk_size": 250,
                                                            **NO_BAR}, job_name="doomed-job", chunks_per_task=1)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome["exc"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout=120)
    assert not thread.is_alive(), "the Dask engine hung after a worker was killed"
    exc = outcome.get("exc")
    assert isinstance(exc, RuntimeError), repr(exc)
    assert "doomed-job" in str(exc) and "Dask worker died" in str(exc)
    client.wait_for_workers(2, timeout=60)
    time.sleep(0.1)


def test_dask_node_pipeline_equals_in_process(client):
    from gpuspike.core.node_pipeline import ExtractSparseWaveforms, SpikeRetriever, run_node_pipeline

    rec, srt = gs.generate_ground_truth_recording(durations=[2.0, 1.0], num_channels=8, num_units=4, seed=5)
    src = SpikeRetriever(srt, rec, channel_from_template=False, radius_um=40)
    nodes = [src, ExtractSparseWaveforms(rec, parents=[src], nbefore=5, nafter=8, radius_um=30, return_output=True)]
    local = run_node_pipeline(rec, nodes, dict(chunk_size=4000, **NO_BAR))
    distributed_run = run_node_pipeline(rec, nodes, dict(engine="dask", client=client, chunk_size=4000, **NO_BAR))
    assert local.shape[0] == srt.to_spike_vector().size and np.abs(local).max() > 0
    np.testing.assert_array_equal(distributed_run, local)
