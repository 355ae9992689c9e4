"""SpikeInterface's job helpers (``ensure_n_jobs``, ``fix_job_kwargs``, ``ChunkRecordingExecutor``, ...)
over gpuspike's job settings and chunk executor.

``ChunkRecordingExecutor`` / ``TimeSeriesChunkExecutor`` keep SpikeInterface's contract
(``init_func(*init_args) -> worker_ctx``, ``func(segment_index, start_frame, end_frame,
worker_ctx)``, ``handle_returns``, ``gather_func``) and run on gpuspike's executor, so a
SpikeInterface user's chunk function runs in-process, on threads, processes or Dask.
"""
from __future__ import annotations

import os
import platform
import threading
import uuid
from typing import Any, Callable

import numpy as np

from .argnames import accepts_aliases
from .job import (JOB_KWARG_ALIASES, JOB_KWARG_NAMES, _CHUNK_KEYS, _parse_duration, _parse_memory,
                  get_global_job_kwargs, resolve_job_kwargs)

#: SpikeInterface 0.105's job kwargs keys (gpuspike accepts these and its own: engine, backend, client)
job_keys = ("pool_engine", "n_jobs", "total_memory", "chunk_size", "chunk_memory", "chunk_duration", "progress_bar",
            "mp_context", "max_threads_per_worker")


def get_usable_cpu_count() -> int:
    """CPUs this process may use (affinity / cgroup aware where the platform says).

    Returns
    -------
    int
    """
    if hasattr(os, "process_cpu_count"):
        return os.process_cpu_count() or 1
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def get_best_job_kwargs() -> dict:
    """Job kwargs suited to this machine: one worker per usable CPU (fewer, threaded, on large machines).

    Returns
    -------
    dict
        ``pool_engine``, ``mp_context``, ``n_jobs``, ``max_threads_per_worker``.
    """
    n_cpu = get_usable_cpu_count()
    system = platform.system()
    if system == "Windows":
        return dict(pool_engine="thread", mp_context=None, n_jobs=n_cpu, max_threads_per_worker=1)
    mp_context = "fork" if system == "Linux" else "spawn"
    if n_cpu <= 16:
        return dict(pool_engine="process", mp_context=mp_context, n_jobs=n_cpu, max_threads_per_worker=1)
    return dict(pool_engine="process", mp_context=mp_context, n_jobs=int(n_cpu / 4), max_threads_per_worker=8)


def fix_job_kwargs(runtime_job_kwargs: dict | None) -> dict:
    """The global job kwargs updated with ``runtime_job_kwargs`` (None values ignored), validated.

    A chunk setting given at run time replaces the global one; ``n_jobs`` becomes an int in
    1..usable CPUs (-1: all, a float in (0, 1]: that fraction).

    Parameters
    ----------
    runtime_job_kwargs : dict or None

    Returns
    -------
    dict
    """
    runtime = dict(runtime_job_kwargs or {})
    allowed = set(job_keys) | set(JOB_KWARG_NAMES) | set(JOB_KWARG_ALIASES)
    unknown = sorted(set(runtime) - allowed)
    if unknown:
        from .errors import UnknownKeywordError

        raise UnknownKeywordError(f"unknown job kwargs {unknown}; allowed: {sorted(allowed)}")
    resolve_job_kwargs(**runtime)
    job_kwargs = get_global_job_kwargs()
    if any(runtime.get(k) is not None for k in _CHUNK_KEYS):
        for k in _CHUNK_KEYS:
            job_kwargs.pop(k, None)
    job_kwargs.update({("pool_engine" if k == "engine" else k): v for k, v in runtime.items() if v is not None})
    n_jobs = job_kwargs.get("n_jobs", 1)
    cpus = get_usable_cpu_count()
    if isinstance(n_jobs, (float, np.floating)) and 0 < n_jobs <= 1:
        n_jobs = int(n_jobs * cpus)
    elif n_jobs < 0:
        n_jobs = int(cpus + 1 + n_jobs)
    job_kwargs["n_jobs"] = min(max(int(n_jobs), 1), cpus)
    return job_kwargs


@accepts_aliases(extractor="recording")
def ensure_n_jobs(recording, n_jobs: int | None = 1) -> int:
    """A usable worker count: -1 means all CPUs, 0 / None mean 1 (as SpikeInterface 0.105).

    Process pools need a dumpable object: gpuspike's executor says so when one is asked for (an
    in-memory recording runs in threads, gpuspike's default engine).

    Parameters
    ----------
    recording : BaseExtractor
        Also taken as ``extractor=`` (SpikeInterface 0.105's name).
    n_jobs : int or None

    Returns
    -------
    int
    """
    if n_jobs == -1:
        n_jobs = get_usable_cpu_count()
    elif n_jobs in (0, None):
        n_jobs = 1
    n_jobs = int(n_jobs)
    if platform.system() == "Windows":
        n_jobs = min(n_jobs, 61)
    if n_jobs != 1 and not recording.check_serializability("memory"):
        raise RuntimeError(f"{type(recording).__name__} cannot be sent to {n_jobs} workers; save it first "
                           f"(rec = recording.save(folder=...)) or use n_jobs=1")
    return n_jobs


@accepts_aliases(time_series="recording")
def ensure_chunk_size(recording, total_memory=None, chunk_size=None, chunk_memory=None, chunk_duration=None,
                      n_jobs: int = 1, **other_kwargs) -> int:
    """Samples per chunk from whichever chunk setting is given.

    ``chunk_size`` (samples), ``chunk_memory`` (bytes per chunk, e.g. "100M"), ``total_memory``
    (bytes over all ``n_jobs`` workers) or ``chunk_duration`` (seconds, or "1s" / "500ms"); with
    none of them and ``n_jobs=1``, one chunk spans the longest segment.

    Parameters
    ----------
    recording : BaseRecording
        Also taken as ``time_series=`` (SpikeInterface 0.105's name).
    total_memory, chunk_size, chunk_memory, chunk_duration
        The job kwargs that size a chunk; the first one given, in this order, decides.
    n_jobs : int
    **other_kwargs
        Other job kwargs (ignored).

    Returns
    -------
    int
    """
    bytes_per_sample = recording.get_num_channels() * np.dtype(recording.get_dtype()).itemsize
    if chunk_size is not None:
        return int(chunk_size)
    if chunk_memory is not None:
        if total_memory is not None:
            raise ValueError("give chunk_memory or total_memory, not both")
        return int(_parse_memory(chunk_memory, "chunk_memory") / bytes_per_sample)
    if total_memory is not None:
        n_jobs = ensure_n_jobs(recording, n_jobs=n_jobs)
        return int(_parse_memory(total_memory, "total_memory") / (bytes_per_sample * n_jobs))
    if chunk_duration is not None:
        return int(_parse_duration(chunk_duration) * recording.get_sampling_frequency())
    if n_jobs == 1:
        return max(recording.get_num_samples(i) for i in range(recording.get_num_segments()))
    raise ValueError("for n_jobs > 1 give chunk_size, chunk_memory, total_memory or chunk_duration")


def divide_segment_into_chunks(num_frames: int, chunk_size: int | None) -> list[tuple[int, int]]:
    """(start, end) pairs covering [0, num_frames) in chunks of ``chunk_size`` (one chunk when None).

    Parameters
    ----------
    num_frames : int
    chunk_size : int or None

    Returns
    -------
    list of (int, int)
    """
    if chunk_size is None or chunk_size > num_frames:
        return [(0, num_frames)]
    from .job import divide_segment_into_chunks as divide

    return divide(num_frames, chunk_size)


def divide_recording_into_chunks(recording, chunk_size: int | None) -> list[tuple[int, int, int]]:
    """(segment_index, start, end) for every chunk of every segment.

    Parameters
    ----------
    recording : BaseRecording
    chunk_size : int or None

    Returns
    -------
    list of (int, int, int)
    """
    return [(seg, a, b) for seg in range(recording.get_num_segments())
            for a, b in divide_segment_into_chunks(recording.get_num_samples(seg), chunk_size)]


@accepts_aliases(time_series="recording")
def chunk_duration_to_chunk_size(chunk_duration, recording) -> int:
    """Frames of ``chunk_duration`` ("500ms", "1s" or seconds as a float) at the recording's rate.

    Parameters
    ----------
    chunk_duration : str or float
    recording : BaseRecording
        Also taken as ``time_series=`` (SpikeInterface 0.105's name).

    Returns
    -------
    int
    """
    from .job import _parse_duration

    if not isinstance(chunk_duration, (str, float)):
        raise ValueError(f"chunk_duration={chunk_duration!r} must be a str ('500ms', '1s') or a float (seconds)")
    return int(_parse_duration(chunk_duration) * recording.get_sampling_frequency())


#: SpikeInterface 0.105's name of :func:`divide_recording_into_chunks`
divide_time_series_into_chunks = divide_recording_into_chunks


def _worker_index_init(init_func: Callable, init_args: tuple, run_id: str, n_jobs: int) -> dict:
    """Worker context with a ``worker_index`` in 0..n_jobs-1 (also passed to ``init_func`` as its last
    argument), as SpikeInterface's ``need_worker_index``."""
    import multiprocessing
    import threading

    identity = multiprocessing.current_process()._identity
    if identity:  # a pool worker process: pool workers are numbered from 1 in their parent
        index = (identity[-1] - 1) % n_jobs
    else:  # in-process or a thread: numbered in the order they start in this run
        with _WORKER_LOCK:
            counter = _WORKER_COUNTERS.setdefault(run_id, {})
            index = counter.setdefault(threading.get_ident(), len(counter))
    ctx = init_func(*init_args, index)
    ctx["worker_index"] = index
    return ctx


_WORKER_COUNTERS: dict = {}
_WORKER_LOCK = threading.Lock()


class TimeSeriesChunkExecutor:
    """Run ``func`` on every chunk of a recording, SpikeInterface's way, on gpuspike's executor.

    Parameters
    ----------
    time_series : BaseRecording
    func : callable
        ``func(segment_index, start_frame, end_frame, worker_ctx) -> result``.
    init_func : callable
        ``init_func(*init_args) -> worker_ctx`` (a dict), run once per worker.
    init_args : tuple
    verbose : bool
        Print the job's settings.
    progress_bar : bool
    handle_returns : bool
        Return the results (in chunk order) from :meth:`run`.
    gather_func : callable, optional
        Called with each result, in chunk order.
    pool_engine : {"thread", "process", "dask"}
    n_jobs : int
    total_memory, chunk_size, chunk_memory, chunk_duration : optional
        One chunk setting (none: one chunk per segment when ``n_jobs=1``).
    mp_context : {"fork", "spawn", "forkserver"}, optional
    job_name : str
    max_threads_per_worker : int
    need_worker_index : bool
        Pass a worker index to ``init_func`` (last argument) and put it in ``worker_ctx["worker_index"]``.
    **engine_kwargs
        gpuspike's ``backend`` and ``client`` (Dask).
    """

    def __init__(self, time_series, func: Callable, init_func: Callable, init_args: tuple, verbose: bool = False,
                 progress_bar: bool = False, handle_returns: bool = False, gather_func: Callable | None = None,
                 pool_engine: str = "thread", n_jobs: int = 1, total_memory=None, chunk_size=None, chunk_memory=None,
                 chunk_duration=None, mp_context: str | None = None, job_name: str = "",
                 max_threads_per_worker: int | None = 1, need_worker_index: bool = False, **engine_kwargs: Any) -> None:
        self.time_series = time_series
        self.func = func
        self.init_func = init_func
        self.init_args = tuple(init_args)
        self.verbose = verbose
        self.progress_bar = progress_bar
        self.handle_returns = handle_returns
        self.gather_func = gather_func
        self.pool_engine = pool_engine
        self.n_jobs = ensure_n_jobs(time_series, n_jobs) if pool_engine == "process" else max(
            1, get_usable_cpu_count() if n_jobs == -1 else int(n_jobs or 1))
        self.chunk_size = ensure_chunk_size(time_series, total_memory, chunk_size, chunk_memory, chunk_duration,
                                            self.n_jobs)
        self.mp_context = mp_context
        self.job_name = job_name
        self.max_threads_per_worker = 1 if max_threads_per_worker is None else int(max_threads_per_worker)
        self.need_worker_index = need_worker_index
        self.config = resolve_job_kwargs(n_jobs=self.n_jobs, chunk_size=max(1, self.chunk_size),
                                         progress_bar=progress_bar, engine=pool_engine, mp_context=mp_context,
                                         max_threads_per_worker=self.max_threads_per_worker, **engine_kwargs)
        if verbose:
            chunk_bytes = self.chunk_size * time_series.get_num_channels() * np.dtype(time_series.get_dtype()).itemsize
            print(f"{job_name}\nengine={pool_engine} - n_jobs={self.n_jobs} - samples_per_chunk={self.chunk_size:,} - "
                  f"chunk_memory={chunk_bytes / 1e6:.1f}MB - total_memory={chunk_bytes * self.n_jobs / 1e6:.1f}MB - "
                  f"chunk_duration={self.chunk_size / time_series.sampling_frequency:.2f}s")

    def get_chunk_memory(self) -> int:
        """Bytes of one chunk of traces.

        Returns
        -------
        int
        """
        return int(self.chunk_size * self.time_series.get_num_channels()
                   * np.dtype(self.time_series.get_dtype()).itemsize)

    def ensure_chunk_size(self, total_memory=None, chunk_size=None, chunk_memory=None, chunk_duration=None,
                          n_jobs: int = 1, **other_kwargs) -> int:
        """:func:`ensure_chunk_size` for this executor's recording.

        Parameters
        ----------
        total_memory, chunk_size, chunk_memory, chunk_duration, n_jobs
            As :func:`ensure_chunk_size`.
        **other_kwargs
            Ignored (other job kwargs).

        Returns
        -------
        int
        """
        return ensure_chunk_size(self.time_series, total_memory, chunk_size, chunk_memory, chunk_duration, n_jobs,
                                 **other_kwargs)

    def run(self, slices: list | None = None) -> list | None:
        """Run every chunk (or ``slices``: (segment_index, start_frame, end_frame) triples).

        Parameters
        ----------
        slices : list of (int, int, int), optional
            The chunks to run (default: the recording divided into ``chunk_size`` chunks).

        Returns
        -------
        list or None
            The results in chunk order when ``handle_returns``, else None.
        """
        from .executor import ChunkExecutor

        if slices is None:
            slices = divide_recording_into_chunks(self.time_series, self.chunk_size)
        init_func, init_args = self.init_func, self.init_args
        run_id = uuid.uuid4().hex
        if self.need_worker_index:
            init_func, init_args = _worker_index_init, (self.init_func, self.init_args, run_id, self.n_jobs)
        returns: list = []

        def gather(result) -> None:
            if self.handle_returns:
                returns.append(result)
            if self.gather_func is not None:
                self.gather_func(result)

        executor = ChunkExecutor(self.time_series, self.func, init_func, init_args, self.config,
                                 job_name=self.job_name, gather_func=gather)
        try:
            executor.run([tuple(int(x) for x in s) for s in slices])
        finally:
            _WORKER_COUNTERS.pop(run_id, None)
        return returns if self.handle_returns else None


#: SpikeInterface <= 0.104 name
ChunkRecordingExecutor = TimeSeriesChunkExecutor


class MockFuture:
    """The result of :meth:`MockPoolExecutor.submit`: the call runs when the result is asked for.

    Parameters
    ----------
    f : callable
    *args
        Its arguments.
    """

    def __init__(self, f: Callable, *args) -> None:
        self.f = f
        self.args = args

    def result(self) -> Any:
        """Run the call.

        Returns
        -------
        object
            What ``f(*args)`` returns.
        """
        return self.f(*self.args)


class MockPoolExecutor:
    """A ``concurrent.futures`` executor without concurrency: everything runs in this process, in
    order (SpikeInterface's ``n_jobs=1`` stand-in; also handy when debugging a worker function).

    Parameters
    ----------
    max_workers, mp_context, context
        Taken and ignored (the signature of ``ProcessPoolExecutor``).
    initializer : callable, optional
        Called once, at once, with ``initargs``.
    initargs : tuple, optional
    """

    def __init__(self, max_workers=None, mp_context=None, initializer: Callable | None = None, initargs=None,
                 context=None) -> None:
        if initializer is not None:
            initializer(*(initargs or ()))
        self.map = map
        self.imap = map

    def __enter__(self) -> "MockPoolExecutor":
        return self

    def __exit__(self, exc_type, exc_val, exc_tb) -> None:
        return None

    def submit(self, f: Callable, *args) -> MockFuture:
        """A :class:`MockFuture` of ``f(*args)``.

        Parameters
        ----------
        f : callable
        *args

        Returns
        -------
        MockFuture
        """
        return MockFuture(f, *args)

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        """Nothing to shut down.

        Parameters
        ----------
        wait, cancel_futures : bool
            Taken and ignored.
        """
        return None


class MockQueue:
    """A first-in first-out list with ``put`` / ``get`` (a queue for the in-process executor)."""

    def __init__(self) -> None:
        self.q = []
        self.put = self.q.append
        self.get = lambda: self.q.pop(0)


def get_poolexecutor(n_jobs: int) -> type:
    """The executor class for ``n_jobs`` workers: :class:`MockPoolExecutor` for one, else
    ``concurrent.futures.ProcessPoolExecutor``.

    Parameters
    ----------
    n_jobs : int

    Returns
    -------
    type
    """
    if n_jobs == 1:
        return MockPoolExecutor
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor
