"""The Dask distributed engine of :class:`~gpuspike.core.executor.ChunkExecutor`.

Chunks are grouped into batches (tasks). The job (functions and ``init_args``, extractors as
their ``to_dict()``) is scattered once to every worker; each worker rebuilds the recording
from its dict, runs ``init_func`` once per worker thread and per job, then ``chunk_func`` on
every chunk of a batch, and sends back the batch's results. The caller keeps at most two
batches per Dask thread in flight and hands results over in chunk order.

Dask is optional: ``pip install "dask[distributed]"`` (or the ``dask`` extra of gpuspike).
"""
from __future__ import annotations

import math
import os
import threading
import uuid
from collections import OrderedDict

from .executor import add_worker_note, decode_args, drive, encode_args, pin_worker_threads, run_init

_INSTALL_HINT = ('engine="dask" needs dask.distributed: pip install "dask[distributed]" (or the dask extra, '
                 'pip install ".[dask]" in the gpuspike source folder)')
#: seconds a job waits for a Dask worker (at the start, or after every worker left) before failing
WORKER_WAIT_S = 60.0
_MAX_CACHED_JOBS = 4
_worker_jobs: OrderedDict = OrderedDict()  # token -> {"job": decoded payload, "ctx": {thread id: ctx}}
_worker_lock = threading.Lock()


def import_distributed():
    """``dask.distributed``, or an ImportError saying how to install it."""
    try:
        import distributed
    except ImportError as exc:
        raise ImportError(_INSTALL_HINT) from exc
    return distributed


def check_client(client) -> None:
    """Check the ``client`` job kwarg for ``engine="dask"``: a ``dask.distributed.Client`` or a
    scheduler address such as ``"tcp://10.0.0.1:8786"``."""
    distributed = import_distributed()
    if client is None:
        raise ValueError(
            "engine='dask' needs a Dask client: give client=dask.distributed.Client(...) (or a scheduler address "
            "like 'tcp://host:8786') as a job kwarg, or set it once with "
            "set_global_job_kwargs(engine='dask', client=client)")
    if not isinstance(client, (distributed.Client, str)):
        raise TypeError(f"client={client!r}: give a dask.distributed.Client or a scheduler address string")
    if not isinstance(client, str):
        check_client_open(client)


def _worker_state(token: str, payload: tuple) -> dict:
    with _worker_lock:
        state = _worker_jobs.get(token)
        if state is None:
            init_func, init_args, chunk_func, job_name, max_threads, client_pid = payload
            state = {"init_func": init_func, "init_args": decode_args(init_args), "chunk_func": chunk_func,
                     "job_name": job_name, "max_threads": max_threads, "client_pid": client_pid, "ctx": {}}
            _worker_jobs[token] = state
            while len(_worker_jobs) > _MAX_CACHED_JOBS:
                _worker_jobs.popitem(last=False)
        return state


def _identity(x):
    return x


def _dask_run_batch(token: str, payload: tuple, batch: list) -> list:
    """Run on a Dask worker: ``chunk_func`` on every chunk of ``batch``, results in order."""
    state = _worker_state(token, payload)
    thread = threading.get_ident()
    chunk = ("init",)
    try:
        ctx = state["ctx"].get(thread)
        if thread not in state["ctx"]:
            # a worker process of its own: pin process-wide; the caller's process: only numba's (per thread)
            pin_worker_threads(state["max_threads"], process_wide=os.getpid() != state["client_pid"])
            ctx = state["ctx"][thread] = run_init(state["init_func"], state["init_args"])
        results = []
        for chunk in batch:
            results.append(state["chunk_func"](*chunk, ctx))
        return results
    except BaseException as exc:
        add_worker_note(exc, chunk, state["job_name"], "dask", with_traceback=True)
        raise


def check_client_open(client, job_name: str | None = None) -> None:
    """A clear error for a client that was closed (its calls would fail with unrelated errors)."""
    status = getattr(client, "status", "running")
    if status in ("closed", "closing", "failed"):
        where = "client=" if job_name is None else f"job {job_name!r}"
        raise RuntimeError(f"{where}: the Dask client is {status}; create a new one "
                           f"(client = dask.distributed.Client(...)) and pass it as client=")


def wait_for_workers(client, job_name: str, timeout: float | None = None) -> dict:
    """``client.nthreads()`` once at least one worker is connected; RuntimeError after ``timeout``
    seconds (default :data:`WORKER_WAIT_S`) without any."""
    check_client_open(client, job_name)
    timeout = WORKER_WAIT_S if timeout is None else timeout
    nthreads = client.nthreads()
    if nthreads:
        return nthreads
    try:
        client.wait_for_workers(1, timeout=timeout)
    except TimeoutError:  # distributed's WorkerStartTimeoutError
        check_client_open(client, job_name)
        raise RuntimeError(f"job {job_name!r}: the Dask cluster has no worker, and none connected within "
                           f"{timeout:g} s. Start workers (e.g. LocalCluster(n_workers=4), or `dask worker "
                           f"<scheduler address>`), or use engine='process' / 'thread'") from None
    return client.nthreads()


def wait_while_workers(client, futures: list, job_name: str) -> set:
    """Wait until one of ``futures`` is done; fail clearly when no worker is left to run them."""
    distributed = import_distributed()
    while True:
        try:
            return distributed.wait(futures, timeout=max(1.0, WORKER_WAIT_S / 4),
                                    return_when="FIRST_COMPLETED").done
        except TimeoutError:
            check_client_open(client, job_name)
            if not client.nthreads():
                wait_for_workers(client, job_name)


def run_dask(executor, chunks: list, deliver, progress) -> None:
    """Run ``executor``'s job on its Dask client (``executor.config.client``)."""
    distributed = import_distributed()
    config = executor.config
    check_client(config.client)
    name = executor.job_name or "chunks"
    what = f"Dask (job {name!r}, engine='dask')"
    init_args = encode_args(executor.init_args, what, recording=executor.recording)
    if not chunks:
        return
    own_client = isinstance(config.client, str)
    client = distributed.Client(config.client) if own_client else config.client
    payload_future = None
    try:
        nthreads = max(1, sum(wait_for_workers(client, name).values()))
        per_task = executor.chunks_per_task or max(1, min(64, math.ceil(len(chunks) / (4 * nthreads))))
        batches = [chunks[i:i + per_task] for i in range(0, len(chunks), per_task)]
        token = uuid.uuid4().hex
        payload = (executor.init_func, init_args, executor.chunk_func, executor.job_name,
                   config.max_threads_per_worker, os.getpid())
        # a task (not scattered data), so Dask recomputes it if the worker holding it dies
        payload_future = client.submit(_identity, payload, pure=False, key=f"gpuspike-{name}-{token}-job")

        def submit(i):
            return client.submit(_dask_run_batch, token, payload_future, batches[i], pure=False,
                                 key=f"gpuspike-{name}-{token}-{i}")

        def wait_first(futures):
            return wait_while_workers(client, futures, name)

        def deliver_batch(i, results):
            for res in results:
                deliver(i, res)

        def task_done(i):
            progress.done(*batches[i])

        try:
            drive(len(batches), submit, wait_first, 2 * nthreads, deliver_batch, task_done)
        except TypeError as exc:
            if "Could not serialize" not in str(exc):
                raise
            raise TypeError(f"job {name!r}: a Dask worker could not send a chunk's result back ({exc}); with "
                            f"engine='dask', chunk_func must return picklable values (arrays, numbers, tuples, "
                            f"dicts of them)") from exc
        except (distributed.KilledWorker, distributed.client.FutureCancelledError) as exc:
            raise RuntimeError(
                f"job {name!r}: a Dask worker died (killed by a signal such as SIGKILL, or by the out-of-memory "
                f"killer, or the nanny's memory limit) while running chunks (engine='dask'). If memory is the "
                f"cause, lower the chunk size (chunk_duration / chunk_memory) or the threads per worker.") from exc
    finally:
        if payload_future is not None:
            payload_future.release()
        if own_client:
            client.close()
