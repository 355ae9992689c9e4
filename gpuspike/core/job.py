"""job_kwargs: validated once into a frozen JobConfig, and chunk splitting of recordings."""
from __future__ import annotations

import copy
import dataclasses
import os
import re
from typing import Any

import numpy as np

#: names accepted as job kwargs, everywhere
JOB_KWARG_NAMES = ("chunk_duration", "chunk_size", "chunk_memory", "total_memory", "n_jobs", "progress_bar",
                   "mp_context", "backend", "engine", "client", "max_threads_per_worker", "num_readers")
#: names of newer SpikeInterface releases, accepted as aliases
JOB_KWARG_ALIASES = {"pool_engine": "engine", "max_threads_per_process": "max_threads_per_worker"}
_CHUNK_KEYS = ("chunk_duration", "chunk_size", "chunk_memory", "total_memory")
_ENGINES = ("process", "thread", "dask")
_BACKENDS = ("auto", "numpy", "cuda")
_MP_CONTEXTS = (None, "fork", "spawn", "forkserver")

#: the keys of SpikeInterface 0.105's global job kwargs; threads, not processes, by default (see resolve_job_kwargs);
#: progress bars off in library calls (the CLI and the demo turn them on; SpikeInterface 0.105.3's default is on)
_DEFAULT_JOB_KWARGS: dict[str, Any] = {"pool_engine": "thread", "n_jobs": 1, "chunk_duration": "1s",
                                       "progress_bar": False, "mp_context": None, "max_threads_per_worker": 1}
#: gpuspike names stored under SpikeInterface's key
_GLOBAL_KEY = {"engine": "pool_engine", "max_threads_per_worker": "max_threads_per_worker"}
_global_job_kwargs: dict[str, Any] = dict(_DEFAULT_JOB_KWARGS)
_global_job_kwargs_set = False


@dataclasses.dataclass(frozen=True)
class JobConfig:
    """Validated job settings (built by :func:`resolve_job_kwargs`).

    ``backend`` is concrete ("numpy" or "cuda"): "auto" is decided once, when the config is built
    (and cached for the process); :attr:`backend_object` is the :class:`~gpuspike.backends.Backend`.
    ``num_readers`` is the number of reader threads filling the GPU path's pinned ring.
    """

    n_jobs: int = 1
    chunk_duration: float | None = 1.0
    chunk_size: int | None = None
    chunk_memory: int | None = None
    total_memory: int | None = None
    progress_bar: bool = False
    mp_context: str | None = None
    backend: str = "auto"
    engine: str = "thread"
    client: Any = None
    max_threads_per_worker: int = 1
    num_readers: int = 4

    @property
    def backend_object(self):
        """The :class:`~gpuspike.backends.Backend` of this job (one shared instance per process)."""
        from ..backends import get_backend

        return get_backend(self.backend)

    def chunk_frames(self, recording) -> int:
        """Chunk size in frames for ``recording`` from whichever chunk setting was given."""
        if self.chunk_size is not None:
            return max(1, int(self.chunk_size))
        bytes_per_frame = recording.get_num_channels() * np.dtype(recording.get_dtype()).itemsize
        if self.chunk_memory is not None:
            return max(1, int(self.chunk_memory // bytes_per_frame))
        if self.total_memory is not None:
            return max(1, int(self.total_memory // (bytes_per_frame * max(1, self.n_jobs))))
        duration = 1.0 if self.chunk_duration is None else self.chunk_duration
        return max(1, int(duration * recording.sampling_frequency))


def _parse_memory(value, name: str) -> int:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        if value <= 0:
            raise ValueError(f"{name}={value!r} must be > 0")
        return int(value)
    if isinstance(value, str):
        m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*(?:([kKMGT])(i?))?[bB]?\s*", value)
        if m:
            power = "kMGT".index(m.group(2).replace("K", "k")) + 1 if m.group(2) else 0
            scale = (1024 if m.group(3) else 1000) ** power
            size = int(float(m.group(1)) * scale)
            if size > 0:
                return size
    raise ValueError(f"{name}={value!r}: give bytes as an int > 0 or a string like '100M', '1G', '500k', '2GiB'")


def _parse_optional_memory(merged: dict, name: str) -> int | None:
    return None if merged.get(name) is None else _parse_memory(merged[name], name)


def _parse_duration(value) -> float:
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        if not np.isfinite(value) or value <= 0:
            raise ValueError(f"chunk_duration={value!r}: give a finite number of seconds > 0 (or a string like '1s', "
                             f"'500ms')")
        return float(value)
    if isinstance(value, str):
        m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*(s|ms)\s*", value)
        if m:
            seconds = float(m.group(1)) / (1000.0 if m.group(2) == "ms" else 1.0)
            if seconds > 0:
                return seconds
    raise ValueError(f"chunk_duration={value!r}: give seconds > 0 as a float or a string like '1s', '500ms'")


def _parse_n_jobs(value) -> int:
    """int >= 1; -1 = all cores (-2 = all but one, ...); a float in (0, 1] = that fraction of the
    cores; a float above 1 = its integer part (as SpikeInterface)."""
    from .errors import SpikeInterfaceAssertError

    cores = os.cpu_count() or 1
    allowed = "an int >= 1, -1 for all cores (-k for all but k-1), or a float fraction of the cores in (0, 1]"
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"n_jobs={value!r}: give {allowed}")
    if isinstance(value, (float, np.floating)):
        if not np.isfinite(value) or value <= 0:
            raise SpikeInterfaceAssertError(f"n_jobs={value!r}: give {allowed}")
        return max(1, int(value * cores)) if value <= 1 else int(value)
    value = int(value)
    if value == 0:
        raise SpikeInterfaceAssertError(f"n_jobs=0: give {allowed}")
    if value < 0:
        return max(1, cores + 1 + value)
    return value


def resolve_job_kwargs(**job_kwargs) -> JobConfig:
    """Validate job kwargs (global ones filled in) into a frozen :class:`JobConfig`.

    Parameters
    ----------
    **job_kwargs
        ``n_jobs``, ``chunk_duration`` / ``chunk_size`` / ``chunk_memory`` / ``total_memory``,
        ``progress_bar``, ``mp_context``, ``backend``, ``engine``, ``client``,
        ``max_threads_per_worker`` (and the newer aliases ``pool_engine``,
        ``max_threads_per_process``).

    Returns
    -------
    JobConfig

    Raises
    ------
    UnknownKeywordError
        Unknown keys, listing the allowed ones (a ``TypeError`` and an ``AssertionError``, as
        SpikeInterface asserts there).
    ValueError
        Bad values, naming the argument and what is allowed.
    """
    job_kwargs = _apply_aliases(job_kwargs)
    unknown = sorted(set(job_kwargs) - set(JOB_KWARG_NAMES))
    if unknown:
        from .errors import UnknownKeywordError

        raise UnknownKeywordError(f"unknown job kwargs {unknown}; allowed: {list(JOB_KWARG_NAMES)}")
    given_chunk = [k for k in _CHUNK_KEYS if job_kwargs.get(k) is not None]
    merged = _apply_aliases(_global_job_kwargs)
    if given_chunk:
        for k in _CHUNK_KEYS:
            merged.pop(k, None)
    merged.update({k: v for k, v in job_kwargs.items() if v is not None or k in ("mp_context", "client")})
    chunk_given = [k for k in _CHUNK_KEYS if merged.get(k) is not None]
    if len(chunk_given) > 1:
        raise ValueError(f"give only one of {list(_CHUNK_KEYS)}; got {chunk_given}")
    mp_context = merged.get("mp_context", None)
    # threads by default: the kernels release the GIL and share memory, with no pickling and no start-up cost;
    # asking for a start method (mp_context) in a call that names no engine asks for processes
    engine = job_kwargs.get("engine") or merged.get("engine") or "thread"
    if job_kwargs.get("mp_context") is not None and job_kwargs.get("engine") is None and not _engine_set_globally():
        engine = "process"
    if engine not in _ENGINES:
        raise ValueError(f"engine={engine!r}: allowed values are {_ENGINES}")
    client = merged.get("client")
    if engine == "dask":
        from .dask_engine import check_client

        check_client(client)
    backend = merged.get("backend", "auto")
    if backend not in _BACKENDS:
        raise ValueError(f"backend={backend!r}: allowed values are {_BACKENDS}")
    from ..backends import resolve_backend_name

    backend = resolve_backend_name(backend)
    if mp_context not in _MP_CONTEXTS:
        raise ValueError(f"mp_context={mp_context!r}: allowed values are {_MP_CONTEXTS}")
    chunk_size = merged.get("chunk_size")
    if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer))
                                   or chunk_size < 1):
        raise ValueError(f"chunk_size={chunk_size!r}: give a number of samples >= 1")
    progress_bar = merged.get("progress_bar", False)
    if not isinstance(progress_bar, (bool, np.bool_)):
        raise ValueError(f"progress_bar={progress_bar!r}: allowed values are True, False")
    threads = merged.get("max_threads_per_worker", 1)
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
        raise ValueError(f"max_threads_per_worker={threads!r}: give an int >= 1")
    readers = merged.get("num_readers", 4)
    if isinstance(readers, bool) or not isinstance(readers, (int, np.integer)) or not 1 <= readers <= 64:
        raise ValueError(f"num_readers={readers!r}: give an int in [1, 64] (reader threads of the GPU path)")
    return JobConfig(
        n_jobs=_parse_n_jobs(merged.get("n_jobs", 1)),
        chunk_duration=_parse_duration(merged["chunk_duration"]) if merged.get("chunk_duration") is not None else None,
        chunk_size=None if chunk_size is None else int(chunk_size),
        chunk_memory=_parse_optional_memory(merged, "chunk_memory"),
        total_memory=_parse_optional_memory(merged, "total_memory"),
        progress_bar=bool(progress_bar),
        mp_context=mp_context,
        backend=backend,
        engine=engine,
        client=client,
        max_threads_per_worker=int(threads),
        num_readers=int(readers),
    )


def _apply_aliases(job_kwargs: dict) -> dict:
    out = {}
    for k, v in job_kwargs.items():
        name = JOB_KWARG_ALIASES.get(k, k)
        if name in out and k != name:
            raise TypeError(f"job kwarg {k!r} is an alias of {name!r}: give only one of them")
        out[name] = v
    return out


def split_job_kwargs(mixed_kwargs: dict) -> tuple[dict, dict]:
    """Split a dict into (specific kwargs, job kwargs); job kwargs include the newer aliases.

    Parameters
    ----------
    mixed_kwargs : dict
        Keyword arguments of a function that also takes job kwargs.

    Returns
    -------
    specific : dict
        The keys that are not job kwargs.
    job_kwargs : dict
        The job kwargs.
    """
    names = set(JOB_KWARG_NAMES) | set(JOB_KWARG_ALIASES)
    job_kwargs = {k: v for k, v in mixed_kwargs.items() if k in names}
    specific = {k: v for k, v in mixed_kwargs.items() if k not in names}
    return specific, job_kwargs


#: global keys the user set (as opposed to defaults)
_user_set_keys: set = set()


def _engine_set_globally() -> bool:
    return "pool_engine" in _user_set_keys


def _global_key(name: str) -> str:
    return _GLOBAL_KEY.get(JOB_KWARG_ALIASES.get(name, name), JOB_KWARG_ALIASES.get(name, name))


def set_global_job_kwargs(**job_kwargs) -> None:
    """Set job kwargs used by every job of this session (validated now).

    Keys are stored under SpikeInterface 0.105's names (``pool_engine`` for ``engine``).

    Parameters
    ----------
    **job_kwargs
        ``n_jobs``, ``chunk_duration`` / ``chunk_size`` / ``chunk_memory`` / ``total_memory``,
        ``progress_bar``, ``mp_context``, ``pool_engine`` (or ``engine``),
        ``max_threads_per_worker``, ``backend``, ``client``; one chunk setting replaces the global one.

    Returns
    -------
    None

    Examples
    --------
    >>> set_global_job_kwargs(n_jobs=16, chunk_duration="5s", progress_bar=False)
    >>> get_global_job_kwargs()["n_jobs"]
    16
    """
    global _global_job_kwargs_set
    resolve_job_kwargs(**job_kwargs)
    job_kwargs = {_global_key(k): v for k, v in job_kwargs.items()}
    if any(job_kwargs.get(k) is not None for k in _CHUNK_KEYS):  # one chunk setting replaces the other
        for k in _CHUNK_KEYS:
            if k not in job_kwargs:
                _global_job_kwargs.pop(k, None)
    _global_job_kwargs.update(job_kwargs)  # keys already set keep their place
    _user_set_keys.update(job_kwargs)
    _global_job_kwargs_set = True


def get_global_job_kwargs() -> dict:
    """The job kwargs set for this session (a copy), with SpikeInterface 0.105's keys.

    Returns
    -------
    dict
        ``pool_engine``, ``n_jobs``, ``chunk_duration`` (or the chunk setting given),
        ``progress_bar``, ``mp_context``, ``max_threads_per_worker`` and any other key set.
    """
    return copy.deepcopy(_global_job_kwargs) if not _global_job_kwargs.get("client") else dict(_global_job_kwargs)


def is_set_global_job_kwargs_set() -> bool:
    """True when :func:`set_global_job_kwargs` was called since the last reset.

    Returns
    -------
    bool
    """
    return _global_job_kwargs_set


def reset_global_job_kwargs() -> None:
    """Back to the defaults: ``pool_engine="thread"``, ``n_jobs=1``, ``chunk_duration="1s"``,
    ``progress_bar=False``, ``mp_context=None``, ``max_threads_per_worker=1``.

    Returns
    -------
    None
    """
    global _global_job_kwargs_set
    _global_job_kwargs.clear()
    _global_job_kwargs.update(_DEFAULT_JOB_KWARGS)
    _user_set_keys.clear()
    _global_job_kwargs_set = False


def divide_segment_into_chunks(num_frames: int, chunk_size: int) -> list[tuple[int, int]]:
    """(start, end) frame pairs covering [0, num_frames) in chunks of ``chunk_size``."""
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    starts = np.arange(0, num_frames, chunk_size)
    return [(int(s), int(min(s + chunk_size, num_frames))) for s in starts]


def divide_recording_into_chunks(recording, chunk_size: int) -> list[tuple[int, int, int]]:
    """(segment_index, start, end) for every chunk of every segment."""
    chunks = []
    for seg in range(recording.get_num_segments()):
        chunks.extend((seg, s, e) for s, e in divide_segment_into_chunks(recording.get_num_samples(seg), chunk_size))
    return chunks


def run_chunks(recording, chunk_func, init_func=None, init_args: tuple = (), job_kwargs: dict | JobConfig | None = None,
               job_name: str = "", chunks: list | None = None, gather_func=None,
               chunks_per_task: int | None = None, stage: str = "") -> list:
    """Run ``chunk_func(segment_index, start_frame, end_frame, worker_ctx)`` on every chunk.

    Parameters
    ----------
    recording : BaseRecording
        The recording whose segments are cut into chunks (of ``JobConfig.chunk_frames`` frames).
        Process pools and Dask need it dumpable (``recording.check_dumpable``).
    chunk_func : callable
        ``chunk_func(segment_index, start_frame, end_frame, worker_ctx) -> result``; a
        module-level function for process pools. Jobs that need margins read them with
        :func:`gpuspike.core.recording_tools.get_chunk_with_margin`.
    init_func : callable, optional
        ``init_func(*init_args) -> worker_ctx``, run once per worker (per thread, per process,
        per Dask worker). Extractors in ``init_args`` travel as their ``to_dict()``.
    init_args : tuple
    job_kwargs : dict or JobConfig, optional
        ``n_jobs``, ``chunk_duration`` / ``chunk_size`` / ``chunk_memory`` / ``total_memory``,
        ``progress_bar``, ``mp_context``, ``backend``, ``engine``, ``client``,
        ``max_threads_per_worker``; global job kwargs fill the rest.
    job_name : str
        The public call the job serves: names the progress bar and errors.
    chunks : list of (segment_index, start_frame, end_frame), optional
        Defaults to every chunk of every segment.
    gather_func : callable, optional
        Called with each result, in chunk order; then ``[]`` is returned.
    chunks_per_task : int, optional
        Chunks per Dask task (default: about 4 tasks per Dask thread).
    stage : str
        The stage of the public call (the bar reads ``"job_name: stage"``).

    Returns
    -------
    list
        The results in chunk order (``[]`` when ``gather_func`` is given).
    """
    from .executor import ChunkExecutor

    config = job_kwargs if isinstance(job_kwargs, JobConfig) else resolve_job_kwargs(**(job_kwargs or {}))
    executor = ChunkExecutor(recording, chunk_func, init_func, init_args, config, job_name=job_name,
                             gather_func=gather_func, chunks_per_task=chunks_per_task, stage=stage)
    return executor.run(chunks)


#: more workers than this many per core only add overhead (threads contend, processes each hold a recording)
MAX_JOBS_PER_CORE = 4


def cap_n_jobs(config: JobConfig, num_tasks: int, job_name: str = "") -> JobConfig:
    """``config`` with ``n_jobs`` capped at ``num_tasks`` (no idle workers are started), warning
    when the workers left exceed :data:`MAX_JOBS_PER_CORE` per core.

    Parameters
    ----------
    config : JobConfig
    num_tasks : int
        Chunks (or tasks) the job will run.
    job_name : str
        Names the job in the warning.

    Returns
    -------
    JobConfig
    """
    import warnings

    n_jobs = max(1, min(config.n_jobs, int(num_tasks)))
    cores = os.cpu_count() or 1
    if config.engine != "dask" and n_jobs > MAX_JOBS_PER_CORE * cores:
        warnings.warn(f"job {job_name or 'chunks'!r}: n_jobs={config.n_jobs} starts {n_jobs} {config.engine} workers "
                      f"on {cores} cores (more than {MAX_JOBS_PER_CORE} per core only adds overhead); "
                      f"n_jobs=-1 uses one per core", RuntimeWarning, stacklevel=3)
    return config if n_jobs == config.n_jobs else dataclasses.replace(config, n_jobs=n_jobs)
