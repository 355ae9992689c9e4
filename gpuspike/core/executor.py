"""ChunkExecutor: runs a function on every chunk of a recording, in-process, in a process or
thread pool, or on a Dask cluster (:mod:`gpuspike.core.dask_engine`).

Every engine gives the same results in the same (chunk) order. At most ``2 * n_jobs`` chunks
are in flight at once (submitted lazily), so inputs and results never pile up in memory.
"""
from __future__ import annotations

import ctypes
import multiprocessing
import sys
import os
import pickle
import re
import threading
import traceback
import warnings
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable

from .job import JobConfig, cap_n_jobs, divide_recording_into_chunks

#: environment variables that cap the threads of BLAS / OpenMP libraries
THREAD_ENV_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
                   "NUMEXPR_NUM_THREADS", "BLIS_NUM_THREADS")
_BLAS_SETTERS = ("openblas_set_num_threads", "openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
                 "scipy_openblas_set_num_threads64_", "MKL_Set_Num_Threads", "bli_thread_set_num_threads")
_BLAS_GETTERS = {"openblas_set_num_threads": "openblas_get_num_threads",
                 "openblas_set_num_threads64_": "openblas_get_num_threads64_",
                 "scipy_openblas_set_num_threads": "scipy_openblas_get_num_threads",
                 "scipy_openblas_set_num_threads64_": "scipy_openblas_get_num_threads64_",
                 "MKL_Set_Num_Threads": "MKL_Get_Max_Threads",
                 "bli_thread_set_num_threads": "bli_thread_get_num_threads"}


# ---------------------------------------------------------------------------------- thread pinning
_BLAS_SCAN: dict = {}


def _loaded_blas_libraries() -> list[str]:
    # a BLAS library arrives with an extension module: scan the process map (~15 ms) again only
    # when modules were imported since the last scan
    modules = len(sys.modules)
    if _BLAS_SCAN.get("modules") == modules:
        return list(_BLAS_SCAN["paths"])
    try:
        with open("/proc/self/maps") as f:
            maps = f.read()
    except OSError:
        return []
    paths = sorted(set(re.findall(r"(/\S*(?:openblas|mkl_rt|libblis)\S*\.so\S*)", maps)))
    _BLAS_SCAN.update(modules=modules, paths=paths)
    return list(paths)


def limit_blas_threads(n_threads: int) -> list[tuple[Callable, int]]:
    """Cap the threads of the BLAS libraries loaded in this process; return ``(setter, previous)``.

    Uses threadpoolctl when installed, else calls OpenBLAS / MKL / BLIS directly.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        threadpool_limits = None
    if threadpool_limits is not None:
        limiter = threadpool_limits(limits=n_threads)
        return [(lambda _n, _lim=limiter: _lim.restore_original_limits(), 0)]
    restore = []
    for path in _loaded_blas_libraries():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in _BLAS_SETTERS:
            setter = getattr(lib, name, None)
            if setter is None:
                continue
            getter = getattr(lib, _BLAS_GETTERS[name], None)
            previous = int(getter()) if getter is not None else n_threads
            setter(ctypes.c_int(n_threads))
            restore.append((lambda n, _s=setter: _s(ctypes.c_int(n)), previous))
            break
    return restore


def pin_worker_threads(max_threads: int, process_wide: bool = True) -> None:
    """Pin BLAS / OpenMP / numba threads of this worker to ``max_threads`` (no oversubscription).

    With ``process_wide`` (worker processes), sets ``OMP_NUM_THREADS`` & co. (for libraries loaded
    later) and caps the BLAS libraries already loaded; always calls ``numba.set_num_threads``
    (a per-thread setting).
    """
    if process_wide:
        for var in THREAD_ENV_VARS:
            os.environ[var] = str(max_threads)
        limit_blas_threads(max_threads)
    try:
        import numba

        numba.set_num_threads(min(max_threads, numba.config.NUMBA_NUM_THREADS))
    except Exception:  # numba missing or its threading layer unavailable: nothing to pin
        pass


# ---------------------------------------------------------------------------------- arguments
class _ExtractorDict:
    """An extractor in transit, as its ``to_dict()``; rebuilt on the worker with ``from_dict``."""

    __slots__ = ("d",)

    def __init__(self, d: dict) -> None:
        self.d = d

    def __getstate__(self):
        return self.d

    def __setstate__(self, d):
        self.d = d


def encode_args(args, what: str, recording=None):
    """Replace the dumpable extractors in ``args`` (tuples, lists, dict values) by their dicts.

    ``recording`` (the recording the job runs over) must be dumpable: :class:`NotDumpableError`
    (suggesting ``save()``) otherwise. Other in-memory extractors (a ``NumpySorting``) are
    pickled whole.
    """
    from .base import BaseExtractor

    if recording is not None:
        recording.check_dumpable(what)

    def encode(obj):
        if isinstance(obj, BaseExtractor):
            return _ExtractorDict(obj.to_dict(recursive=True)) if obj is recording or obj.is_dumpable else obj
        if isinstance(obj, tuple):
            return tuple(encode(a) for a in obj)
        if isinstance(obj, list):
            return [encode(a) for a in obj]
        if isinstance(obj, dict):
            return {k: encode(v) for k, v in obj.items()}
        return obj

    return encode(args)


def decode_args(args):
    """Inverse of :func:`encode_args` (on the worker)."""
    from .base import BaseExtractor

    if isinstance(args, _ExtractorDict):
        return BaseExtractor.from_dict(args.d)
    if isinstance(args, tuple):
        return tuple(decode_args(a) for a in args)
    if isinstance(args, list):
        return [decode_args(a) for a in args]
    if isinstance(args, dict):
        return {k: decode_args(v) for k, v in args.items()}
    return args


def add_worker_note(exc: BaseException, chunk, job_name: str, engine: str, with_traceback: bool = False) -> None:
    """Attach the job, the chunk (and the worker's traceback text) to ``exc``; notes survive pickling."""
    if hasattr(exc, "add_note"):
        note = (f"gpuspike job {job_name or 'chunks'!r} (engine={engine!r}) failed on chunk "
                f"(segment_index, start_frame, end_frame)={tuple(chunk)}")
        if with_traceback:
            note += ("; worker traceback:\n"
                     + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).rstrip())
        exc.add_note(note)


def run_init(init_func, init_args) -> Any:
    return init_func(*init_args) if init_func is not None else {}


# ---------------------------------------------------------------------------------- process workers
_PROCESS_WORKER: dict = {}


def _process_worker_init(payload: bytes, max_threads: int) -> None:
    """Pool initializer: pin threads first, then unpickle the job and build the worker ctx once."""
    pin_worker_threads(max_threads)
    try:
        init_func, init_args, chunk_func, job_name = pickle.loads(payload)
        _PROCESS_WORKER.update(chunk_func=chunk_func, job_name=job_name, error=None)
        _PROCESS_WORKER["ctx"] = run_init(init_func, decode_args(init_args))
    except BaseException as exc:  # raised again by the first chunk, so the caller sees the original
        add_worker_note(exc, ("init",), _PROCESS_WORKER.get("job_name", ""), "process")
        _PROCESS_WORKER["error"] = exc


def _process_run_chunk(*chunk):
    if _PROCESS_WORKER.get("error") is not None:
        raise _PROCESS_WORKER["error"]
    try:
        return _PROCESS_WORKER["chunk_func"](*chunk, _PROCESS_WORKER["ctx"])
    except BaseException as exc:
        add_worker_note(exc, chunk, _PROCESS_WORKER["job_name"], "process")
        raise


# ---------------------------------------------------------------------------------- scheduling
def drive(num_tasks: int, submit: Callable[[int], Any], wait_first: Callable[[list], Any], window: int,
          deliver: Callable[[int, Any], None], on_task_done: Callable[[int], None]) -> None:
    """Submit tasks lazily (at most ``window`` not yet delivered) and deliver results in task order.

    ``submit(i)`` returns a future, ``wait_first(futures)`` the done ones, ``deliver(i, result)``
    receives results in order ``0, 1, 2, ...``. The first failing future raises its exception.
    """
    pending: dict = {}
    buffered: dict[int, Any] = {}
    next_submit = next_deliver = 0
    try:
        while next_deliver < num_tasks:
            while next_submit < num_tasks and next_submit - next_deliver < window:
                pending[submit(next_submit)] = next_submit
                next_submit += 1
            for fut in wait_first(list(pending)):
                i = pending.pop(fut)
                buffered[i] = fut.result()
                on_task_done(i)
            while next_deliver in buffered:
                deliver(next_deliver, buffered.pop(next_deliver))
                next_deliver += 1
    finally:
        for fut in pending:
            fut.cancel()


def _fork_unsafe_numba_layer() -> str | None:
    """Name of numba's threading layer when it is running and not fork-safe (GNU OpenMP), else None."""
    numba = sys.modules.get("numba")
    if numba is None:
        return None
    try:
        layer = numba.threading_layer()
    except ValueError:  # no parallel kernel has run yet
        return None
    return layer if layer == "omp" else None


class ChunkExecutor:
    """Run ``chunk_func`` over the chunks of a recording with the engine of ``config``.

    Engines: in-process (``n_jobs=1`` with ``engine="process"`` or ``"thread"``), a process pool
    (``engine="process"``, dumpable recordings only), a thread pool (``engine="thread"``, any
    recording) and Dask distributed (``engine="dask"`` with a ``client``).

    Parameters
    ----------
    recording : BaseRecording
    chunk_func : callable
        ``chunk_func(segment_index, start_frame, end_frame, worker_ctx) -> result``.
    init_func : callable, optional
        ``init_func(*init_args) -> worker_ctx`` (a dict), run once per worker.
    init_args : tuple
    config : JobConfig
    job_name : str
        The public call this job serves (``"extract_waveforms"``): names the progress bar and errors.
    gather_func : callable, optional
        Called with each result, in chunk order (results are then not kept).
    chunks_per_task : int, optional
        Chunks per Dask task (default: about 4 tasks per Dask thread).
    stage : str
        The stage of the public call a user recognises (``"gather"``): the bar reads
        ``"extract_waveforms: gather"``. The bar counts the bytes of traces of the chunks done.
    """

    def __init__(self, recording, chunk_func: Callable, init_func: Callable | None, init_args: tuple,
                 config: JobConfig, job_name: str = "", gather_func: Callable | None = None,
                 chunks_per_task: int | None = None, stage: str = "") -> None:
        if not isinstance(config, JobConfig):
            raise TypeError(f"config={config!r}: give a JobConfig (see resolve_job_kwargs)")
        if chunks_per_task is not None and (not isinstance(chunks_per_task, int) or chunks_per_task < 1):
            raise ValueError(f"chunks_per_task={chunks_per_task!r}: give an int >= 1 or None")
        self.recording = recording
        self.chunk_func = chunk_func
        self.init_func = init_func
        self.init_args = tuple(init_args)
        self.config = config
        self.job_name = job_name
        self.gather_func = gather_func
        self.chunks_per_task = chunks_per_task
        self.stage = stage

    @property
    def engine(self) -> str:
        """The engine this job runs on: ``"in-process"``, ``"process"``, ``"thread"`` or ``"dask"``."""
        if self.config.engine == "dask":
            return "dask"
        return "in-process" if self.config.n_jobs == 1 else self.config.engine

    def chunks(self) -> list[tuple[int, int, int]]:
        """Every chunk of every segment, ``(segment_index, start_frame, end_frame)``."""
        return divide_recording_into_chunks(self.recording, self.config.chunk_frames(self.recording))

    def mp_context(self) -> str:
        """The multiprocessing start method: ``mp_context``, else the recording's preference,
        else ``"spawn"`` for CUDA jobs (a forked CUDA context is unusable), else the platform's.

        "fork" becomes "forkserver" once numba's OpenMP threading layer runs in this process
        (forked workers would abort). The process engine warns about it only when the user asked
        for "fork" (``mp_context="fork"``); a fork gpuspike chose itself is replaced silently.
        """
        fork_unsafe = _fork_unsafe_numba_layer()
        if self.config.mp_context is not None:
            if self.config.mp_context == "fork" and fork_unsafe:
                return "forkserver"
            return self.config.mp_context
        preferred = getattr(self.recording, "_preferred_mp_context", None)
        if preferred is not None and not (preferred == "fork" and fork_unsafe):
            return preferred
        if not self.config.backend_object.fork_safe:
            return "spawn"
        method = multiprocessing.get_start_method()
        if method == "fork" and fork_unsafe:
            return "forkserver"
        return method

    def _check_chunks(self, chunks) -> list[tuple[int, int, int]]:
        out = []
        num_segments = self.recording.get_num_segments()
        for c in chunks:
            try:
                seg, start, end = (int(x) for x in c)
            except (TypeError, ValueError):
                raise ValueError(f"chunks: {c!r} is not a (segment_index, start_frame, end_frame) triple") from None
            if not 0 <= seg < num_segments or not 0 <= start <= end <= self.recording.get_num_samples(seg):
                raise ValueError(f"chunks: {c!r} is out of the recording ({num_segments} segments, "
                                 f"{[self.recording.get_num_samples(s) for s in range(num_segments)]} samples)")
            out.append((seg, start, end))
        return out

    def run(self, chunks: list | None = None) -> list:
        """Run every chunk; return results in chunk order (``[]`` when ``gather_func`` is set).

        Parameters
        ----------
        chunks : list of (segment_index, start_frame, end_frame), optional
            Default: every chunk of every segment.

        Returns
        -------
        list
        """
        import numpy as np

        chunks = self.chunks() if chunks is None else self._check_chunks(chunks)
        bytes_per_frame = self.recording.get_num_channels() * np.dtype(self.recording.get_dtype()).itemsize
        return self.run_tasks(chunks, lambda chunk: (chunk[2] - chunk[1]) * bytes_per_frame)

    def run_tasks(self, tasks: list, task_bytes: Callable[[tuple], int]) -> list:
        """Run ``chunk_func(*task, worker_ctx)`` for every task (tuples, not checked against the
        recording); return results in task order (``[]`` when ``gather_func`` is set).

        Parameters
        ----------
        tasks : list of tuple
            Picklable argument tuples (e.g. ``(segment_index, start_frame, end_frame)``).
        task_bytes : callable
            Bytes of traces a task reads (what the progress bar counts).

        Returns
        -------
        list
        """
        chunks = tasks
        self.config = cap_n_jobs(self.config, len(chunks), self.job_name)
        results: list = []

        def deliver(_i, res):
            if self.gather_func is not None:
                self.gather_func(res)
            else:
                results.append(res)

        from .progress import progress_bar

        total = sum(task_bytes(task) for task in chunks)
        with progress_bar(self.config.progress_bar, self.job_name, self.stage, total=total, unit="B") as bar:
            progress = _ChunkProgress(bar, task_bytes)
            engine = self.engine
            if engine == "in-process":
                self._run_in_process(chunks, deliver, progress)
            elif engine == "thread":
                self._run_threads(chunks, deliver, progress)
            elif engine == "process":
                self._run_processes(chunks, deliver, progress)
            else:
                from .dask_engine import run_dask

                run_dask(self, chunks, deliver, progress)
        return results

    # ------------------------------------------------------------------------------ engines
    def _run_in_process(self, chunks, deliver, progress) -> None:
        ctx = run_init(self.init_func, self.init_args)
        for i, chunk in enumerate(chunks):
            deliver(i, self.chunk_func(*chunk, ctx))
            progress.done(chunk)

    def _run_threads(self, chunks, deliver, progress) -> None:
        local = threading.local()
        max_threads = self.config.max_threads_per_worker

        def task(chunk):
            try:
                if not hasattr(local, "ctx"):
                    pin_worker_threads(max_threads, process_wide=False)  # numba's is per thread
                    local.ctx = run_init(self.init_func, self.init_args)
                return self.chunk_func(*chunk, local.ctx)
            except BaseException as exc:
                add_worker_note(exc, chunk, self.job_name, "thread")
                raise

        restore = limit_blas_threads(max_threads)  # BLAS pools are per process: capped for the job
        pool = ThreadPoolExecutor(max_workers=self.config.n_jobs, thread_name_prefix=f"gpuspike-{self.job_name}")
        try:
            drive(len(chunks), lambda i: pool.submit(task, chunks[i]), _wait_first, 2 * self.config.n_jobs,
                  deliver, lambda i: progress.done(chunks[i]))
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            for setter, previous in restore:
                setter(previous)

    def _run_processes(self, chunks, deliver, progress) -> None:
        what = f"a process pool (job {self.job_name or 'chunks'!r}, engine='process', n_jobs={self.config.n_jobs})"
        init_args = encode_args(self.init_args, what, recording=self.recording)
        try:
            payload = pickle.dumps((self.init_func, init_args, self.chunk_func, self.job_name))
        except Exception as exc:
            raise TypeError(
                f"job {self.job_name or 'chunks'!r}: chunk_func, init_func and init_args must be picklable for "
                f"engine='process' (module-level functions, no lambdas or closures); use engine='thread' "
                f"or n_jobs=1 instead ({type(exc).__name__}: {exc})") from exc
        method = self.mp_context()
        if self.config.mp_context == "fork" and method != "fork":
            warnings.warn(
                f"mp_context='fork': this process already runs numba's {_fork_unsafe_numba_layer()!r} threading "
                f"layer, which does not survive a fork (workers would abort); using {method!r} instead. Pass "
                f"mp_context='forkserver' (or 'spawn') to choose it yourself.", RuntimeWarning, stacklevel=4)
        context = multiprocessing.get_context(method)
        pool = ProcessPoolExecutor(max_workers=self.config.n_jobs, mp_context=context,
                                   initializer=_process_worker_init,
                                   initargs=(payload, self.config.max_threads_per_worker))
        failed = False
        try:
            drive(len(chunks), lambda i: pool.submit(_process_run_chunk, *chunks[i]), _wait_first,
                  2 * self.config.n_jobs, deliver, lambda i: progress.done(chunks[i]))
        except BrokenProcessPool as exc:
            failed = True
            raise RuntimeError(
                f"job {self.job_name or 'chunks'!r}: a worker process died abruptly (killed by a signal such as "
                f"SIGKILL, or by the out-of-memory killer) while running chunks (engine='process', "
                f"n_jobs={self.config.n_jobs}, mp_context={method!r}). If memory is the cause, lower "
                f"n_jobs or the chunk size (chunk_duration / chunk_memory / total_memory).") from exc
        except (TypeError, AttributeError, pickle.PicklingError) as exc:
            failed = True
            if "_sendback_result" not in str(exc.__cause__ or ""):
                raise  # raised by chunk_func or gather_func, not while sending a result back
            raise TypeError(
                f"job {self.job_name or 'chunks'!r}: a worker process could not send a chunk's result back "
                f"({type(exc).__name__}: {exc}); with engine='process', chunk_func must return picklable values "
                f"(arrays, numbers, tuples, dicts of them). Use engine='thread' to keep other objects.") from exc
        except BaseException:
            failed = True
            raise
        finally:
            _shutdown_process_pool(pool, terminate=failed)


class _ChunkProgress:
    """Advances a bar by the bytes of traces of each task done."""

    def __init__(self, bar, task_bytes: Callable[[tuple], int]) -> None:
        self.bar = bar
        self.task_bytes = task_bytes

    def done(self, *tasks) -> None:
        """Count ``tasks`` as done."""
        self.bar.update(sum(self.task_bytes(task) for task in tasks))


def _wait_first(futures: list) -> set:
    return wait(futures, return_when=FIRST_COMPLETED).done


def _shutdown_process_pool(pool: ProcessPoolExecutor, terminate: bool) -> None:
    """Shut the pool down; after a failure, terminate the workers still busy so none lingers."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=not terminate, cancel_futures=True)
    if terminate:
        for proc in processes:
            if proc.is_alive():
                proc.terminate()
        for proc in processes:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=5)
        pool.shutdown(wait=True, cancel_futures=True)
