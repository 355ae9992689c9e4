"""job_kwargs and the chunk executor: in-process, process pools (fork, spawn) and threads.

Dask is tested in test_job_dask.py (one module-scoped cluster, started after these tests so no
fork happens while the cluster's threads run).
"""
import contextlib
import dataclasses
import multiprocessing
import os
import subprocess
import sys
import textwrap
import threading
import time
import warnings

import numpy as np
import psutil
import pytest

import gpuspike as gs
from gpuspike.core.errors import NotDumpableError
from gpuspike.core.executor import ChunkExecutor, drive
from gpuspike.core.job import (JobConfig, divide_recording_into_chunks, get_global_job_kwargs, reset_global_job_kwargs,
                               resolve_job_kwargs, run_chunks, set_global_job_kwargs, split_job_kwargs)

FS = 1000.0
DURATIONS = (3.0, 2.05)
NO_BAR = {"progress_bar": False}


@pytest.fixture(autouse=True)
def _clean_globals():
    reset_global_job_kwargs()
    yield
    reset_global_job_kwargs()


@pytest.fixture(scope="module")
def recording():
    return gs.generate_recording(num_channels=4, sampling_frequency=FS, durations=DURATIONS, seed=0)


# ----------------------------------------------------------------------------------- job functions
# set when this module is imported: a forked worker inherits the parent's value, a spawned or
# forkserver worker imports the module again and holds its own pid
_IMPORTED_BY_PID = os.getpid()


# module level, so process pools can pickle them by reference
def init_stats(recording, scale):
    return {"recording": recording, "scale": scale, "pid": os.getpid(), "imported_by": _IMPORTED_BY_PID}


def chunk_stats(segment_index, start_frame, end_frame, ctx):
    traces = ctx["recording"].get_traces(segment_index=segment_index, start_frame=start_frame, end_frame=end_frame)
    quantized = np.round(traces.astype("float64") * ctx["scale"]).astype("int64")  # exact integer sums
    return {"chunk": (segment_index, start_frame, end_frame), "sum": quantized.sum(axis=0),
            "sumsq": (quantized ** 2).sum(axis=0), "min": traces.min(axis=0), "max": traces.max(axis=0),
            "pid": ctx["pid"], "imported_by": ctx["imported_by"]}


@contextlib.contextmanager
def expected_start_method(recording, config):
    """Yield the start method ``config`` gives; check that a switch from an explicit "fork" warns, and only then.

    numba's OpenMP layer (running once a parallel kernel ran here) does not survive a fork: an
    explicit ``mp_context="fork"`` then becomes "forkserver" with a RuntimeWarning.
    """
    method = ChunkExecutor(recording, chunk_stats, None, (), config).mp_context()
    switched = config.mp_context == "fork" and method == "forkserver"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield method
    switch_warnings = [w for w in caught if "forkserver" in str(w.message)]
    assert len(switch_warnings) == (1 if switched else 0), [str(w.message) for w in caught]


def assert_workers_started_by(results, method):
    """Forked workers inherited this process's module state; spawned / forkserver ones did not."""
    inherited = {r["imported_by"] == os.getpid() for r in results}
    assert inherited == {method == "fork"}, (method, inherited)


def reduce_stats(results):
    return {"sum": np.sum([r["sum"] for r in results], axis=0), "sumsq": np.sum([r["sumsq"] for r in results], axis=0),
            "min": np.min([r["min"] for r in results], axis=0), "max": np.max([r["max"] for r in results], axis=0)}


def reference_stats(recording, scale=1000.0):
    """The same statistics from the whole traces, computed with NumPy only."""
    traces = np.concatenate([recording.get_traces(segment_index=s) for s in range(recording.get_num_segments())])
    quantized = np.round(traces.astype("float64") * scale).astype("int64")
    return {"sum": quantized.sum(axis=0), "sumsq": (quantized ** 2).sum(axis=0), "min": traces.min(axis=0),
            "max": traces.max(axis=0)}


def chunk_raise(segment_index, start_frame, end_frame, ctx):
    if start_frame > 0:
        raise KeyError(f"chunk starting at {start_frame} is broken")
    return start_frame


def init_raise():
    raise ZeroDivisionError("init failed on purpose")


def chunk_sleep_or_raise(segment_index, start_frame, end_frame, ctx):
    if (segment_index, start_frame) == (0, 500):
        raise ValueError("first failure")
    time.sleep(0.05)
    return start_frame


def chunk_sigkill(segment_index, start_frame, end_frame, ctx):
    if (segment_index, start_frame) == (0, 1000):
        os.kill(os.getpid(), 9)
    time.sleep(0.01)
    return start_frame


def chunk_threads(segment_index, start_frame, end_frame, ctx):
    import numba

    from gpuspike.core.executor import _loaded_blas_libraries

    blas = None
    libs = [p for p in _loaded_blas_libraries() if "openblas" in p]
    if libs:
        import ctypes

        lib = ctypes.CDLL(libs[0])
        for name in ("scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads", "openblas_get_num_threads"):
            if hasattr(lib, name):
                blas = int(getattr(lib, name)())
                break
    return os.environ.get("OMP_NUM_THREADS"), numba.get_num_threads(), blas


def _new_children(before):
    """Child processes not present before, ignoring multiprocessing's resource tracker."""
    out = []
    for child in psutil.Process().children(recursive=True):
        try:
            if child.pid in before or "resource_tracker" in " ".join(child.cmdline()):
                continue
        except psutil.NoSuchProcess:
            continue
        out.append(child)
    return out


def _wait_no_new_children(before, timeout=10.0):
    deadline = time.monotonic() + timeout
    while _new_children(before) and time.monotonic() < deadline:
        time.sleep(0.05)
    return _new_children(before)


# ----------------------------------------------------------------------------------- job kwargs
DEFAULT_GLOBAL = {"pool_engine": "thread", "n_jobs": 1, "chunk_duration": "1s", "progress_bar": False,
                  "mp_context": None, "max_threads_per_worker": 1}  # SpikeInterface 0.105's keys


def test_spec_global_job_kwargs_example():
    assert get_global_job_kwargs() == DEFAULT_GLOBAL
    set_global_job_kwargs(**dict(n_jobs=16, chunk_duration="5s", progress_bar=False))
    # the specification prints the three keys it set; SpikeInterface 0.105 (and gpuspike) print all keys
    assert get_global_job_kwargs() == {**DEFAULT_GLOBAL, "n_jobs": 16, "chunk_duration": "5s", "progress_bar": False}
    config = resolve_job_kwargs()
    assert (config.n_jobs, config.chunk_duration, config.progress_bar) == (16, 5.0, False)
    assert resolve_job_kwargs(n_jobs=2).n_jobs == 2  # a local value wins
    set_global_job_kwargs(chunk_memory="10M")  # replaces the global chunk_duration
    assert "chunk_duration" not in get_global_job_kwargs()
    assert resolve_job_kwargs().chunk_memory == 10_000_000
    assert resolve_job_kwargs(chunk_size=100).chunk_memory is None  # a local chunk setting replaces it
    reset_global_job_kwargs()
    assert get_global_job_kwargs() == DEFAULT_GLOBAL
    get_global_job_kwargs()["n_jobs"] = 99  # a copy
    assert get_global_job_kwargs()["n_jobs"] == 1


def test_resolve_defaults_and_frozen():
    config = resolve_job_kwargs()
    # "auto" is decided once, when the config is built: numpy here (no GPU; the simulator is not a GPU)
    assert config == JobConfig(n_jobs=1, chunk_duration=1.0, progress_bar=False, backend="numpy")
    assert (config.engine, config.backend, config.mp_context, config.max_threads_per_worker) == ("thread", "numpy",
                                                                                               None, 1)
    assert config.backend_object.name == "numpy" and resolve_job_kwargs(backend="cuda").backend == "cuda"
    assert resolve_job_kwargs(mp_context="spawn").engine == "process"  # a start method asks for processes
    assert resolve_job_kwargs(engine="process").engine == "process"
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.n_jobs = 4


@pytest.mark.parametrize("kwargs, attr, expected", [
    ({"chunk_duration": "500ms"}, "chunk_duration", 0.5),
    ({"chunk_duration": "2s"}, "chunk_duration", 2.0),
    ({"chunk_duration": 0.25}, "chunk_duration", 0.25),
    ({"chunk_duration": 3}, "chunk_duration", 3.0),
    ({"chunk_memory": "100M"}, "chunk_memory", 100_000_000),
    ({"chunk_memory": "1G"}, "chunk_memory", 1_000_000_000),
    ({"chunk_memory": "500k"}, "chunk_memory", 500_000),
    ({"chunk_memory": "2GiB"}, "chunk_memory", 2 * 1024 ** 3),
    ({"total_memory": 4096}, "total_memory", 4096),
    ({"chunk_size": 1234}, "chunk_size", 1234),
    ({"n_jobs": -1}, "n_jobs", os.cpu_count()),
    ({"n_jobs": 1.0}, "n_jobs", os.cpu_count()),
    ({"n_jobs": 0.5}, "n_jobs", max(1, int(0.5 * os.cpu_count()))),
    ({"n_jobs": 3}, "n_jobs", 3),
    ({"n_jobs": 3.0}, "n_jobs", 3),  # a float above 1: its integer part, as SpikeInterface
    ({"n_jobs": 2.7}, "n_jobs", 2),
    ({"mp_context": "spawn"}, "mp_context", "spawn"),
    ({"backend": "cuda"}, "backend", "cuda"),
    ({"engine": "thread"}, "engine", "thread"),
    ({"pool_engine": "thread"}, "engine", "thread"),  # SpikeInterface >= 0.102 name
    ({"max_threads_per_process": 3}, "max_threads_per_worker", 3),
])
def test_resolve_values(kwargs, attr, expected):
    assert getattr(resolve_job_kwargs(**kwargs), attr) == expected


@pytest.mark.parametrize("kwargs, words", [
    ({"n_jobz": 2}, ["n_jobz", "n_jobs", "chunk_duration", "mp_context"]),
])
def test_unknown_keys_list_allowed(kwargs, words):
    with pytest.raises(TypeError) as info:
        resolve_job_kwargs(**kwargs)
    assert all(w in str(info.value) for w in words)
    with pytest.raises(TypeError):
        set_global_job_kwargs(**kwargs)
    assert get_global_job_kwargs() == DEFAULT_GLOBAL
    from gpuspike.core.job_tools import fix_job_kwargs

    with pytest.raises(AssertionError, match="n_jobz"):  # what SpikeInterface's fix_job_kwargs raises
        fix_job_kwargs(kwargs)


@pytest.mark.parametrize("kwargs, words", [
    ({"engine": "mpi"}, ["engine", "mpi", "process", "thread", "dask"]),
    ({"backend": "opencl"}, ["backend", "opencl", "numpy", "cuda"]),
    ({"mp_context": "fork-exec"}, ["mp_context", "fork-exec", "spawn"]),
    ({"n_jobs": 0}, ["n_jobs=0", "-1"]),
    ({"n_jobs": -0.5}, ["n_jobs=-0.5", "fraction"]),
    ({"n_jobs": "4"}, ["n_jobs='4'"]),
    ({"chunk_duration": "1min"}, ["chunk_duration='1min'", "500ms"]),
    ({"chunk_duration": -1.0}, ["chunk_duration=-1.0"]),
    ({"chunk_memory": "lots"}, ["chunk_memory='lots'", "100M"]),
    ({"total_memory": 0}, ["total_memory=0"]),
    ({"chunk_size": 0}, ["chunk_size=0"]),
    ({"chunk_size": 10.5}, ["chunk_size=10.5"]),
    ({"progress_bar": "yes"}, ["progress_bar='yes'", "True"]),
    ({"max_threads_per_worker": 0}, ["max_threads_per_worker=0"]),
    ({"chunk_size": 100, "chunk_memory": "1M"}, ["chunk_size", "chunk_memory", "only one"]),
])
def test_bad_values_name_argument_and_allowed(kwargs, words):
    with pytest.raises(ValueError) as info:
        resolve_job_kwargs(**kwargs)
    assert all(w in str(info.value) for w in words), str(info.value)


def test_dask_engine_needs_client_and_dask(monkeypatch):
    with pytest.raises(ValueError, match="client"):
        resolve_job_kwargs(engine="dask")
    with pytest.raises(TypeError, match="client"):
        resolve_job_kwargs(engine="dask", client=42)
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if dask were not installed
    with pytest.raises(ImportError, match=r'pip install "dask\[distributed\]"'):
        resolve_job_kwargs(engine="dask", client="tcp://127.0.0.1:8786")


def test_split_job_kwargs():
    specific, job = split_job_kwargs({"n_jobs": 2, "dtype": "int16", "pool_engine": "thread", "format": "zarr"})
    assert specific == {"dtype": "int16", "format": "zarr"}
    assert job == {"n_jobs": 2, "pool_engine": "thread"}


def test_chunk_frames(recording):
    bytes_per_frame = 4 * 4  # 4 float32 channels
    assert resolve_job_kwargs().chunk_frames(recording) == 1000
    assert resolve_job_kwargs(chunk_duration="250ms").chunk_frames(recording) == 250
    assert resolve_job_kwargs(chunk_size=321).chunk_frames(recording) == 321
    assert resolve_job_kwargs(chunk_memory=1600).chunk_frames(recording) == 1600 // bytes_per_frame
    assert resolve_job_kwargs(total_memory=6400, n_jobs=2).chunk_frames(recording) == 6400 // (2 * bytes_per_frame)


# ----------------------------------------------------------------------------------- executor
def test_divide_recording_into_chunks(recording):
    chunks = divide_recording_into_chunks(recording, 700)
    assert chunks[:2] == [(0, 0, 700), (0, 700, 1400)]
    assert chunks[4] == (0, 2800, 3000) and chunks[5] == (1, 0, 700) and chunks[-1] == (1, 1400, 2050)
    for seg in range(2):
        bounds = [c for c in chunks if c[0] == seg]
        assert bounds[0][1] == 0 and bounds[-1][2] == recording.get_num_samples(seg)
        assert all(a[2] == b[1] for a, b in zip(bounds[:-1], bounds[1:]))


ENGINES = [
    pytest.param({"n_jobs": 1}, id="in-process"),
    pytest.param({"n_jobs": 2, "engine": "process", "mp_context": "fork"}, id="fork"),
    pytest.param({"n_jobs": 2, "engine": "process", "mp_context": "spawn"}, id="spawn"),
    pytest.param({"n_jobs": 2, "engine": "thread"}, id="thread"),
    pytest.param({"n_jobs": 3, "engine": "thread"}, id="thread3"),
]


_CHUNKINGS = [pytest.param({"chunk_size": 700}, id="700"), pytest.param({"chunk_duration": "333ms"}, id="333ms"),
              pytest.param({}, id="default")]
# spawn startup costs ~1 s: one chunk size is enough for it
_ENGINE_CHUNKINGS = [(e, c) for e in ENGINES for c in _CHUNKINGS
                     if e.values[0].get("mp_context") != "spawn" or c.id == "700"]


@pytest.mark.parametrize("engine_kwargs,chunk_kwargs",
                         [pytest.param(e.values[0], c.values[0], id=f"{e.id}-{c.id}") for e, c in _ENGINE_CHUNKINGS])
def test_reduction_identical_across_engines(recording, engine_kwargs, chunk_kwargs):
    config = resolve_job_kwargs(**NO_BAR, **engine_kwargs, **chunk_kwargs)
    with expected_start_method(recording, config) as method:
        results = run_chunks(recording, chunk_stats, init_stats, (recording, 1000.0), config, job_name="stats")
    expected_chunks = divide_recording_into_chunks(recording, config.chunk_frames(recording))
    assert [r["chunk"] for r in results] == expected_chunks  # chunk order, whatever the engine
    got, ref = reduce_stats(results), reference_stats(recording)
    for key in ref:
        np.testing.assert_array_equal(got[key], ref[key])
    pids = {r["pid"] for r in results}
    if engine_kwargs.get("engine") == "process":
        assert os.getpid() not in pids and 1 <= len(pids) <= 2
        assert_workers_started_by(results, method)
    else:
        assert pids == {os.getpid()}


def test_gather_func_receives_results_in_chunk_order(recording):
    got = []
    out = run_chunks(recording, chunk_stats, init_stats, (recording, 10.0), {"n_jobs": 2, "chunk_size": 300, **NO_BAR},
                     gather_func=lambda r: got.append(r["chunk"]))
    assert out == []
    assert got == divide_recording_into_chunks(recording, 300)


def test_explicit_chunks_and_bad_chunks(recording):
    chunks = [(1, 100, 200), (0, 0, 10)]
    out = run_chunks(recording, chunk_stats, init_stats, (recording, 1.0), {"n_jobs": 2, **NO_BAR}, chunks=chunks)
    assert [r["chunk"] for r in out] == chunks
    np.testing.assert_array_equal(out[0]["max"], recording.get_traces(segment_index=1)[100:200].max(axis=0))
    with pytest.raises(ValueError, match="out of the recording"):
        run_chunks(recording, chunk_stats, init_stats, (recording, 1.0), NO_BAR, chunks=[(2, 0, 10)])
    with pytest.raises(ValueError, match="triple"):
        run_chunks(recording, chunk_stats, init_stats, (recording, 1.0), NO_BAR, chunks=[(0, 10)])


def test_total_memory_bounds_chunk_size(recording):
    bytes_per_frame = recording.get_num_channels() * np.dtype(recording.get_dtype()).itemsize
    total_memory = 2 * 128 * bytes_per_frame  # 128 frames per chunk with 2 jobs
    for engine in ("process", "thread"):
        results = run_chunks(recording, chunk_stats, init_stats, (recording, 1000.0),
                             {"total_memory": total_memory, "n_jobs": 2, "engine": engine, **NO_BAR})
        sizes = [end - start for _, start, end in (r["chunk"] for r in results)]
        assert max(sizes) == 128
        assert sizes.count(128) == 3000 // 128 + 2050 // 128  # all full but the last of each segment
        for key, value in reduce_stats(results).items():
            np.testing.assert_array_equal(value, reference_stats(recording)[key])


def test_at_most_two_chunks_per_job_in_flight(recording):
    lock = threading.Lock()
    state = {"started": 0, "delivered": 0, "max_ahead": 0}

    def chunk(segment_index, start_frame, end_frame, ctx):
        with lock:
            state["started"] += 1
            state["max_ahead"] = max(state["max_ahead"], state["started"] - state["delivered"])
        time.sleep(0.002 * (start_frame % 3))  # results arrive out of order
        return start_frame

    def gather(_):
        with lock:
            state["delivered"] += 1

    run_chunks(recording, chunk, None, (), {"n_jobs": 2, "engine": "thread", "chunk_size": 50, **NO_BAR},
               gather_func=gather)
    assert state["delivered"] == len(divide_recording_into_chunks(recording, 50))
    assert 1 <= state["max_ahead"] <= 4


def test_drive_bounds_window_and_orders_results():
    from concurrent.futures import Future

    submitted, delivered = [], []
    futures = {}

    def submit(i):
        fut = Future()
        futures[i] = fut
        submitted.append(i)
        assert len(submitted) - len(delivered) <= 3
        return fut

    def wait_first(pending):
        # complete the newest pending future first: results arrive in reverse order
        newest = max(pending, key=lambda f: [k for k, v in futures.items() if v is f][0])
        newest.set_result(10 * [k for k, v in futures.items() if v is newest][0])
        return {newest}

    drive(10, submit, wait_first, 3, lambda i, r: delivered.append((i, r)), lambda i: None)
    assert delivered == [(i, 10 * i) for i in range(10)]


# ----------------------------------------------------------------------------------- failures
@pytest.mark.parametrize("engine", ["process", "thread"])
def test_worker_exception_surfaces_and_pool_shuts_down(recording, engine):
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    with pytest.raises(KeyError, match="is broken") as info:
        run_chunks(recording, chunk_raise, None, (), {"n_jobs": 2, "engine": engine, "chunk_size": 500, **NO_BAR},
                   job_name="broken-job")
    notes = "\n".join(getattr(info.value, "__notes__", []))
    assert "broken-job" in notes and "failed on chunk" in notes
    if engine == "process":  # the worker's traceback text is chained
        assert "chunk_raise" in str(info.value.__cause__)
    else:
        assert any(frame.name == "chunk_raise" for frame in info.traceback)
    assert _wait_no_new_children(before) == []


def test_first_failure_wins_and_pending_are_cancelled(recording):
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    with pytest.raises(ValueError, match="first failure"):
        run_chunks(recording, chunk_sleep_or_raise, None, (), {"n_jobs": 2, "engine": "process", "chunk_size": 100,
                                                                **NO_BAR})
    assert _wait_no_new_children(before) == []


def test_init_exception_surfaces_from_process_workers(recording):
    with pytest.raises(ZeroDivisionError, match="init failed on purpose"):
        run_chunks(recording, chunk_raise, init_raise, (), {"n_jobs": 2, "engine": "process", "chunk_size": 1000,
                                                             **NO_BAR})


def test_sigkilled_worker_gives_clear_error_not_a_hang(recording):
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    outcome = {}

    def target():
        try:
            run_chunks(recording, chunk_sigkill, None, (), {"n_jobs": 2, "engine": "process", "chunk_size": 250,
                                                               **NO_BAR},
                       job_name="doomed-job")
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome["exc"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive(), "the executor hung after a worker was killed"
    exc = outcome.get("exc")
    assert isinstance(exc, RuntimeError), repr(exc)
    assert "doomed-job" in str(exc) and "died" in str(exc) and "SIGKILL" in str(exc)
    assert _wait_no_new_children(before) == []


def test_not_dumpable_recording(recording):
    traces = [recording.get_traces(segment_index=s) for s in range(2)]
    memory = gs.NumpyRecording(traces, FS)
    with pytest.raises(NotDumpableError, match=r"save\("):
        run_chunks(memory, chunk_stats, init_stats, (memory, 1000.0), {"n_jobs": 2, "engine": "process", **NO_BAR})
    results = run_chunks(memory, chunk_stats, init_stats, (memory, 1000.0),
                         {"n_jobs": 2, "engine": "thread", "chunk_size": 400, **NO_BAR})
    for key, value in reduce_stats(results).items():
        np.testing.assert_array_equal(value, reference_stats(recording)[key])
    # n_jobs=1 runs in-process, no dict needed
    assert len(run_chunks(memory, chunk_stats, init_stats, (memory, 1.0), {"n_jobs": 1, **NO_BAR})) == 6


def test_unpicklable_function_for_processes(recording):
    with pytest.raises(TypeError, match="engine='thread'"):
        run_chunks(recording, lambda s, a, b, ctx: 0, None, (), {"n_jobs": 2, "engine": "process", **NO_BAR})


@pytest.mark.parametrize("mp_context", ["fork", "spawn"])
def test_threads_pinned_in_process_workers(recording, mp_context):
    config = resolve_job_kwargs(n_jobs=2, mp_context=mp_context, chunk_size=2000, **NO_BAR)
    with expected_start_method(recording, config):
        results = run_chunks(recording, chunk_threads, None, (), config, chunks=[(0, 0, 10), (0, 10, 20)])
    for omp, numba_threads, blas in results:
        assert omp == "1" and numba_threads == 1
        assert blas in (None, 1)


def test_executor_contract(recording):
    config = resolve_job_kwargs(chunk_size=1000, **NO_BAR)
    executor = ChunkExecutor(recording, chunk_stats, init_stats, (recording, 1.0), config, job_name="x")
    assert executor.engine == "in-process" and len(executor.chunks()) == 3 + 3
    assert ChunkExecutor(recording, chunk_stats, None, (), resolve_job_kwargs(n_jobs=2, engine="thread")).engine \
        == "thread"
    from gpuspike.core.executor import _fork_unsafe_numba_layer

    default = multiprocessing.get_start_method()
    if default == "fork" and _fork_unsafe_numba_layer():
        default = "forkserver"  # GNU OpenMP (numba's layer once a parallel kernel ran) cannot be forked
    assert ChunkExecutor(recording, chunk_stats, None, (), resolve_job_kwargs(n_jobs=2)).mp_context() == default
    assert ChunkExecutor(recording, chunk_stats, None, (), resolve_job_kwargs(n_jobs=2, backend="cuda")).mp_context() \
        == "spawn"
    with pytest.raises(TypeError, match="JobConfig"):
        ChunkExecutor(recording, chunk_stats, None, (), {"n_jobs": 2})


# ----------------------------------------------------------------------------------- saving
@pytest.mark.parametrize("engine_kwargs", [ENGINES[1], ENGINES[3]])
def test_binary_writes_identical_across_engines(recording, tmp_path, engine_kwargs):
    from gpuspike.core import saving

    paths = [tmp_path / f"seg{s}.raw" for s in range(2)]
    with expected_start_method(recording, resolve_job_kwargs(**NO_BAR, **engine_kwargs)):
        saving.write_binary_recording(recording, paths, chunk_size=333, **NO_BAR, **engine_kwargs)
    for s, path in enumerate(paths):
        written = np.fromfile(path, dtype=recording.get_dtype()).reshape(-1, recording.get_num_channels())
        np.testing.assert_array_equal(written, recording.get_traces(segment_index=s))


@pytest.mark.parametrize("engine_kwargs", [ENGINES[1], ENGINES[3]])
def test_save_identical_across_engines(recording, tmp_path, engine_kwargs):
    with expected_start_method(recording, resolve_job_kwargs(**NO_BAR, **engine_kwargs)):
        saved = recording.save(folder=tmp_path / "rec", chunk_size=333, **NO_BAR, **engine_kwargs)
    for s in range(2):
        np.testing.assert_array_equal(saved.get_traces(segment_index=s), recording.get_traces(segment_index=s))


def init_with_sorting(recording, sorting):
    return {"recording": recording, "num_spikes": len(sorting.to_spike_vector())}


def chunk_num_spikes(segment_index, start_frame, end_frame, ctx):
    return ctx["num_spikes"], type(ctx["recording"]).__name__


def test_in_memory_sorting_travels_whole_with_dumpable_recording(recording):
    from gpuspike.core.executor import _ExtractorDict, encode_args

    sorting = gs.NumpySorting.from_times_labels(np.array([5, 50, 500]), np.array([0, 1, 0]), FS)
    assert not sorting.is_dumpable
    encoded = encode_args((recording, {"s": sorting}), "test", recording=recording)
    assert isinstance(encoded[0], _ExtractorDict) and encoded[0].d == recording.to_dict()
    assert encoded[1]["s"] is sorting
    out = run_chunks(recording, chunk_num_spikes, init_with_sorting, (recording, sorting),
                     {"n_jobs": 2, "engine": "process", "chunk_size": 3000, **NO_BAR})
    assert out == [(3, type(recording).__name__)] * 2


def _parallel_kernel_chunk(segment_index, start_frame, end_frame, ctx):
    from gpuspike.backends import get_backend

    be = get_backend("numpy")
    traces = ctx["recording"].get_traces(segment_index=segment_index, start_frame=start_frame, end_frame=end_frame)
    out = np.empty(traces.shape, dtype="float32")
    be.kernels.scale(traces, np.ones(traces.shape[1], "float32"), np.zeros(traces.shape[1], "float32"), out)
    return out.sum(axis=0, dtype="float64")


def _init_recording(recording):
    return {"recording": recording}


def test_fork_after_numba_openmp_does_not_abort_workers():
    """Once numba's parallel kernels ran here, forked workers would abort (GNU OpenMP): forkserver is used."""
    import gpuspike as gs
    from gpuspike.backends import get_backend
    from gpuspike.core.job import run_chunks

    recording = gs.generate_recording(num_channels=3, durations=[0.5], seed=3)
    be = get_backend("numpy")
    x = np.ones((10, 3), "float32")
    be.kernels.scale(x, np.ones(3, "float32"), np.zeros(3, "float32"), np.empty_like(x))  # OpenMP layer now runs
    config = resolve_job_kwargs(n_jobs=2, mp_context="fork", chunk_size=4000, progress_bar=False)
    with expected_start_method(recording, config) as method:
        parts = run_chunks(recording, _parallel_kernel_chunk, _init_recording, (recording,), job_kwargs=config)
    expected = recording.get_traces().astype("float64").sum(axis=0)
    np.testing.assert_allclose(np.sum(parts, axis=0), expected, rtol=1e-6)
    if sys.platform.startswith("linux") and "omp" == _numba_threading_layer():
        assert method == "forkserver"


def _numba_threading_layer():
    import numba

    try:
        return numba.threading_layer()
    except ValueError:
        return None


_FRESH_PROCESS_FORK = textwrap.dedent("""
    import json, os, warnings
    import numpy as np
    import gpuspike as gs
    from gpuspike.core.executor import ChunkExecutor
    from gpuspike.core.job import resolve_job_kwargs, run_chunks

    MARK = {"pid": os.getpid()}  # set at run time: only a forked worker sees this value

    def init(recording):
        return {"recording": recording}

    def chunk(segment_index, start_frame, end_frame, ctx):
        traces = ctx["recording"].get_traces(segment_index=segment_index, start_frame=start_frame, end_frame=end_frame)
        return MARK["pid"], os.getppid(), traces.astype("float64").sum(axis=0).tolist()

    def run(**job_kwargs):
        config = resolve_job_kwargs(n_jobs=2, chunk_size=300, **job_kwargs)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = run_chunks(recording, chunk, init, (recording,), job_kwargs=config)
        return {"method": ChunkExecutor(recording, chunk, None, (), config).mp_context(),
                "inherited": sorted({m == os.getpid() for m, _, _ in out}),
                "parent_is_us": sorted({p == os.getpid() for _, p, _ in out}),
                "sums": np.sum([s for _, _, s in out], axis=0).tolist(),
                "warnings": [str(w.message) for w in caught]}

    if __name__ == "__main__":  # a forkserver / spawn worker imports this file again
        recording = gs.generate_recording(num_channels=3, durations=[1.0], sampling_frequency=1000.0, seed=5)
        report = {"expected": recording.get_traces().astype("float64").sum(axis=0).tolist()}
        report["explicit_fork"] = run(mp_context="fork")
        x = np.ones((10, 3), "float32")
        from gpuspike.backends import get_backend
        get_backend("numpy").kernels.scale(x, np.ones(3, "float32"), np.zeros(3, "float32"), np.empty_like(x))
        import numba
        report["layer"] = numba.threading_layer()
        report["explicit_fork_after_openmp"] = run(mp_context="fork")
        report["default_after_openmp"] = run(engine="process")
        print(json.dumps(report))
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork is the default start method on Linux only")
def test_fork_really_forks_in_a_fresh_process(tmp_path):
    """In a process where no parallel kernel ran yet, mp_context="fork" forks (workers inherit run-time state),
    silently; once numba's OpenMP layer runs, an explicit "fork" becomes "forkserver" with one warning, and the
    platform's default "fork" (gpuspike's choice, not the user's) becomes "forkserver" silently."""
    import json

    script = tmp_path / "fork_probe.py"
    script.write_text(_FRESH_PROCESS_FORK)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout.strip().splitlines()[-1])
    fork = report["explicit_fork"]
    assert fork["method"] == "fork" and fork["inherited"] == [True] and fork["parent_is_us"] == [True]
    assert fork["warnings"] == []
    for case in ("explicit_fork_after_openmp", "default_after_openmp"):
        np.testing.assert_allclose(report[case]["sums"], report["expected"])
    np.testing.assert_allclose(fork["sums"], report["expected"])
    if report["layer"] == "omp":
        switched = report["explicit_fork_after_openmp"]
        assert switched["method"] == "forkserver" and switched["inherited"] == [False]
        assert len([w for w in switched["warnings"] if "forkserver" in w]) == 1
        default = report["default_after_openmp"]
        assert default["method"] == "forkserver" and default["warnings"] == []
