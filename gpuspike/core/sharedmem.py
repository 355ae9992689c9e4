"""Recordings and sortings in shared memory, readable by other processes of this machine without a copy.

Their dict names the shared memory blocks, so process-pool workers attach to the same bytes
instead of receiving a pickled copy. The dict is valid only while the owner (the object that
created the blocks) is alive: these objects cannot be written to JSON.
"""
from __future__ import annotations

import weakref
from multiprocessing.shared_memory import SharedMemory
from typing import Sequence

import numpy as np

from .argnames import accepts_aliases
from .numpyextractors import NumpyRecordingSegment, NumpySortingSegment
from .recording import BaseRecording
from .sorting import BaseSorting, spike_dtype


def make_shared_array(shape: tuple, dtype) -> tuple[np.ndarray, SharedMemory]:
    """A new shared memory block and a numpy array over it.

    Parameters
    ----------
    shape : tuple of int
    dtype : numpy dtype

    Returns
    -------
    array : np.ndarray
    shm : multiprocessing.shared_memory.SharedMemory
        Keep it alive as long as the array is used; ``unlink()`` it when done.
    """
    dtype = np.dtype(dtype)
    nbytes = max(1, int(np.prod(shape, dtype="int64")) * dtype.itemsize)
    shm = SharedMemory(create=True, size=nbytes)
    return np.ndarray(shape=tuple(shape), dtype=dtype, buffer=shm.buf), shm


def _release(shms: list, unlink: bool) -> None:
    for shm in shms:
        try:
            shm.close()
            if unlink:
                shm.unlink()
        except (FileNotFoundError, BufferError):
            pass


class SharedMemoryRecording(BaseRecording):
    """A recording whose traces live in shared memory blocks (one per segment).

    Parameters
    ----------
    shm_names : list of str
        Shared memory block of each segment.
    shape_list : list of (num_samples, num_channels)
    dtype : numpy dtype
    sampling_frequency : float
    channel_ids : array-like, optional
    t_starts : list of float, optional
    main_shm_owner : bool
        The owner unlinks the blocks when it is garbage collected; copies rebuilt from the dict
        (e.g. in workers) are not owners.
    """

    _session_only = True

    def __init__(self, shm_names: Sequence[str], shape_list: Sequence, dtype, sampling_frequency: float,
                 channel_ids: Sequence | None = None, t_starts: Sequence[float] | None = None,
                 main_shm_owner: bool = True) -> None:
        if len(shm_names) != len(shape_list):
            raise ValueError(f"shm_names has {len(shm_names)} blocks, shape_list {len(shape_list)} shapes")
        shapes = [tuple(int(x) for x in shape) for shape in shape_list]
        if any(len(shape) != 2 or shape[1] != shapes[0][1] for shape in shapes):
            raise ValueError(f"shape_list must hold (num_samples, num_channels) shapes with one channel count, "
                             f"got {shapes}")
        if t_starts is not None and len(t_starts) != len(shapes):
            raise ValueError(f"t_starts has {len(t_starts)} values for {len(shapes)} segments")
        dtype = np.dtype(dtype)
        self.shms = [SharedMemory(name, create=False) for name in shm_names]
        channel_ids = np.arange(shapes[0][1]) if channel_ids is None else np.asarray(channel_ids)
        super().__init__(sampling_frequency, channel_ids, dtype)
        for i, (shm, shape) in enumerate(zip(self.shms, shapes)):
            traces = np.ndarray(shape=shape, dtype=dtype, buffer=shm.buf)
            traces.flags.writeable = False
            t_start = None if t_starts is None or t_starts[i] is None else float(t_starts[i])
            self.add_segment(NumpyRecordingSegment(traces, self.sampling_frequency, t_start))
        self.main_shm_owner = bool(main_shm_owner)
        self._finalizer = weakref.finalize(self, _release, self.shms, self.main_shm_owner)
        self._kwargs = {"shm_names": list(shm_names), "shape_list": [list(s) for s in shapes], "dtype": dtype.str,
                        "sampling_frequency": sampling_frequency, "channel_ids": channel_ids,
                        "t_starts": None if t_starts is None else list(t_starts), "main_shm_owner": False}

    @staticmethod
    def from_recording(source_recording: BaseRecording, with_metadata: bool = True, with_time_vector: bool = False,
                       **job_kwargs) -> "SharedMemoryRecording":
        """Copy a recording into shared memory (start times kept, as SpikeInterface 0.105).

        Parameters
        ----------
        source_recording : BaseRecording
        with_metadata : bool
            Copy the properties, annotations and probe.
        with_time_vector : bool
            Copy the time vectors too (``save(format="memory")`` does).
        **job_kwargs
            Accepted for SpikeInterface compatibility (the copy runs segment by segment).

        Returns
        -------
        SharedMemoryRecording
        """
        from .job import resolve_job_kwargs

        resolve_job_kwargs(**job_kwargs)
        names, shapes, shms = [], [], []
        for seg in range(source_recording.get_num_segments()):
            shape = (source_recording.get_num_samples(seg), source_recording.get_num_channels())
            array, shm = make_shared_array(shape, source_recording.get_dtype())
            array[:] = source_recording.get_traces(segment_index=seg)
            names.append(shm.name)
            shapes.append(shape)
            shms.append(shm)
        t_starts = [None if source_recording.has_time_vector(i) else source_recording.get_start_time(i)
                    for i in range(source_recording.get_num_segments())]
        rec = SharedMemoryRecording(names, shapes, source_recording.get_dtype(), source_recording.sampling_frequency,
                                    channel_ids=source_recording.channel_ids, t_starts=t_starts, main_shm_owner=True)
        for shm in shms:
            shm.close()
        if with_metadata:
            source_recording.copy_metadata(rec)
        if with_time_vector:
            source_recording._copy_times_to(rec)
        return rec


class SharedMemorySorting(BaseSorting):
    """A sorting whose spike vector lives in a shared memory block.

    Parameters
    ----------
    shm_name : str
    shape : (num_spikes,)
    sampling_frequency : float
    unit_ids : array-like
    dtype : numpy dtype
        The spike vector's dtype.
    main_shm_owner : bool
    num_segments : int, optional
        Default: last spike's segment + 1.
    """

    _session_only = True

    def __init__(self, shm_name: str, shape: Sequence[int], sampling_frequency: float, unit_ids: Sequence,
                 dtype=spike_dtype, main_shm_owner: bool = True, num_segments: int | None = None) -> None:
        shape = tuple(int(x) for x in shape)
        if len(shape) != 1:
            raise ValueError(f"shape must be (num_spikes,), got {shape}")
        dtype = np.dtype([tuple(d) for d in dtype]) if isinstance(dtype, list) else np.dtype(dtype)
        if dtype.names is None or any(dtype.fields.get(name, (None,))[0] != np.dtype("int64")
                                      for name in spike_dtype.names):
            raise ValueError(f"dtype must be a spike vector dtype (int64 fields {list(spike_dtype.names)}, and "
                             f"any others), got {dtype}")
        self.shm = SharedMemory(shm_name, create=False)
        spikes = np.ndarray(shape=shape, dtype=dtype, buffer=self.shm.buf)
        spikes.flags.writeable = False
        super().__init__(sampling_frequency, unit_ids)
        if num_segments is None:
            num_segments = int(spikes["segment_index"][-1]) + 1 if spikes.size else 1
        bounds = np.searchsorted(spikes["segment_index"], np.arange(num_segments + 1))
        for seg in range(num_segments):
            self.add_segment(NumpySortingSegment(spikes[bounds[seg]:bounds[seg + 1]], self.unit_ids))
        self._cached_spike_vector = spikes  # the shared block is the spike vector (sorted by segment, sample)
        self.main_shm_owner = bool(main_shm_owner)
        self._finalizer = weakref.finalize(self, _release, [self.shm], self.main_shm_owner)
        self._kwargs = {"shm_name": shm_name, "shape": list(shape), "sampling_frequency": sampling_frequency,
                        "unit_ids": unit_ids, "dtype": np.dtype(spikes.dtype).descr,
                        "num_segments": self.get_num_segments(), "main_shm_owner": False}

    @staticmethod
    def from_sorting(source_sorting: BaseSorting, with_metadata: bool = False) -> "SharedMemorySorting":
        """Copy a sorting's spike vector into shared memory.

        Parameters
        ----------
        source_sorting : BaseSorting
        with_metadata : bool
            Copy properties and annotations too.

        Returns
        -------
        SharedMemorySorting
        """
        spikes = source_sorting.to_spike_vector()
        array, shm = make_shared_array(spikes.shape, spikes.dtype)
        array[:] = spikes
        sorting = SharedMemorySorting(shm.name, spikes.shape, source_sorting.sampling_frequency,
                                      source_sorting.unit_ids, dtype=spikes.dtype,
                                      num_segments=source_sorting.get_num_segments(), main_shm_owner=True)
        shm.close()
        if with_metadata:
            source_sorting.copy_metadata(sorting)
        return sorting


def _init_memory_writer(recording, arrays, shm_names, shapes, dtype):
    """Worker context of :func:`write_memory_recording` (attaches shared blocks by name in processes)."""
    from .base import BaseExtractor

    if isinstance(recording, dict):
        recording = BaseExtractor.from_dict(recording)
    shms = []
    if arrays is None:
        arrays = []
        for name, shape in zip(shm_names, shapes):
            shm = SharedMemory(name, create=False)
            shms.append(shm)
            arrays.append(np.ndarray(shape=tuple(shape), dtype=dtype, buffer=shm.buf))
    return {"recording": recording, "arrays": arrays, "shms": shms}


def _write_memory_chunk(segment_index: int, start_frame: int, end_frame: int, ctx: dict) -> None:
    traces = ctx["recording"].get_traces(segment_index=segment_index, start_frame=start_frame, end_frame=end_frame)
    ctx["arrays"][segment_index][start_frame:end_frame] = traces


@accepts_aliases(time_series="recording")
def write_memory_recording(recording: BaseRecording, dtype=None, verbose: bool = False, buffer_type: str = "auto",
                           job_name: str = "write_memory", **job_kwargs):
    """Copy the traces of every segment into numpy arrays, in parallel chunks.

    Parameters
    ----------
    recording : BaseRecording
        Also taken as ``time_series=`` (SpikeInterface 0.105's name in ``write_memory``).
    dtype : numpy dtype, optional
    verbose : bool
    buffer_type : {"auto", "numpy", "sharedmem"}
        "auto": shared memory when ``n_jobs > 1`` (as SpikeInterface), else numpy.
    job_name : str
    **job_kwargs

    Returns
    -------
    arrays : list of np.ndarray
        One (num_samples, num_channels) array per segment.
    shms : list
        The shared memory block of each array (None for numpy buffers); close / unlink them when done.
    """
    from .job import resolve_job_kwargs, run_chunks

    if buffer_type not in ("auto", "numpy", "sharedmem"):
        raise ValueError(f"buffer_type={buffer_type!r}: allowed values are 'auto', 'numpy', 'sharedmem'")
    config = resolve_job_kwargs(**job_kwargs)
    processes = config.n_jobs > 1 and config.engine in ("process", "dask")
    if buffer_type == "auto":  # SpikeInterface's rule: shared memory whenever n_jobs > 1
        buffer_type = "sharedmem" if config.n_jobs > 1 else "numpy"
    if buffer_type == "numpy" and processes:
        raise ValueError("buffer_type='numpy' cannot be filled by worker processes: use buffer_type='sharedmem' or "
                         "engine='thread'")
    dtype = np.dtype(recording.get_dtype() if dtype is None else dtype)
    arrays, shms, shapes = [], [], []
    for seg in range(recording.get_num_segments()):
        shape = (recording.get_num_samples(seg), recording.get_num_channels())
        if buffer_type == "sharedmem":
            array, shm = make_shared_array(shape, dtype)
        else:
            array, shm = np.zeros(shape, dtype=dtype), None
        arrays.append(array)
        shms.append(shm)
        shapes.append(shape)
    if verbose:
        print(f"{job_name}: {recording.get_total_samples():,} samples into {buffer_type} buffers")
    if processes:
        init_args = (recording, None, [s.name for s in shms], shapes, dtype.str)
    else:
        init_args = (recording, arrays, None, None, dtype.str)
    run_chunks(recording, _write_memory_chunk, _init_memory_writer, init_args, job_kwargs=config, job_name=job_name)
    return arrays, shms


#: SpikeInterface 0.105's ``time_series_tools`` name of :func:`write_memory_recording`
write_memory = write_memory_recording
