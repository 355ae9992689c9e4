"""save(): recordings to binary / zarr / memory, sortings, snippets and events to npz folders.

Every folder is written under a temporary sibling name and renamed at the end
(:func:`gpuspike.core.atomic.atomic_folder`), so a folder that exists is always complete.
Traces are written chunk by chunk through the job executor, each chunk with ``os.pwrite`` at
its offset in a preallocated file: workers never read what they write, and any number of
workers produces the same bytes.
"""
from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import numpy as np

from .argnames import accepts_aliases
from .atomic import atomic_folder, check_target, resolve_target
from .errors import UnknownKeywordError
from .folder_safety import check_savable_properties
from .job import split_job_kwargs
from .validation import check_trace_dtype, check_zarr_codecs

#: SpikeInterface class paths written in folder JSON files, so that SpikeInterface loads our folders
SI_BINARY_CLASS = "spikeinterface.core.binaryrecordingextractor.BinaryRecordingExtractor"
SI_BINARY_FOLDER_CLASS = "spikeinterface.core.binaryfolder.BinaryFolderRecording"
SI_NPZ_CLASS = "spikeinterface.core.npzsortingextractor.NpzSortingExtractor"
SI_NPZ_FOLDER_CLASS = "spikeinterface.core.sortingfolder.NpzFolderSorting"
SI_NUMPY_FOLDER_CLASS = "spikeinterface.core.sortingfolder.NumpyFolderSorting"
SI_NPY_SNIPPETS_CLASS = "spikeinterface.core.npysnippetsextractor.NpySnippetsExtractor"
SI_NPY_SNIPPETS_FOLDER_CLASS = "spikeinterface.core.npyfoldersnippets.NpyFolderSnippets"

_RECORDING_FORMATS = ("binary", "binary_folder", "zarr", "memory")
_SORTING_FORMATS = ("numpy_folder", "npz", "npz_folder", "zarr", "memory")
_SNIPPETS_FORMATS = ("npy", "npz", "memory")
_EVENT_FORMATS = ("npz", "memory")


# ---------------------------------------------------------------------- small helpers
def _version() -> str:
    from .. import __version__

    return __version__


def write_json(path: Path, obj) -> None:
    """Write ``obj`` to ``path`` as plain JSON (arrays as lists, as SpikeInterface writes and reads)."""
    from .serialization import plain

    Path(path).write_text(json.dumps(plain(obj), indent=4), encoding="utf8")


def plain_json(value):
    """JSON-able value with arrays as plain lists (the encoding SpikeInterface reads)."""
    from .serialization import plain

    return plain(value)


def foreign_dict(class_path: str, kwargs: dict, annotations: dict | None = None, **extra) -> dict:
    """An object dict in SpikeInterface's form (plain lists, relative paths)."""
    d = {"class": class_path, "module": "spikeinterface", "version": _version(), "kwargs": plain_json(kwargs),
         "annotations": plain_json(annotations or {}), "properties": {}, "relative_paths": True,
         "dumpable": True, "created_by": f"gpuspike {_version()}"}
    d.update(plain_json(extra))
    return d


def folder_path(folder) -> Path:
    """``folder`` as a Path, checked: a str or Path, not ``""`` (see :func:`~.atomic.resolve_target`)."""
    resolve_target(folder)
    return Path(folder)


def default_folder(suffix: str = "") -> Path:
    """A new folder name in the global temporary folder (used when ``folder=None``)."""
    from .globals import get_global_tmp_folder

    return get_global_tmp_folder() / f"{uuid.uuid4().hex[:10]}{suffix}"


def write_metadata(folder: Path, obj, probe_file: str | None = "probegroup.json", relative_to=None) -> None:
    """Write properties/, annotations.json, provenance.json (when dumpable; paths relative to
    ``relative_to`` when given) and the probe of ``obj``.

    Properties are never pickled (see :func:`gpuspike.core.folder_safety.write_property`).
    """
    from .folder_safety import write_property

    folder = Path(folder)
    prop_folder = folder / "properties"
    prop_folder.mkdir(exist_ok=True)
    for key in obj.get_property_keys():
        write_property(prop_folder, key, obj.get_property(key))
    write_json(folder / "annotations.json", obj._annotations)
    if obj.is_dumpable:
        write_json(folder / "provenance.json", obj.to_dict(relative_to=relative_to, recursive=True))
    if probe_file is not None and hasattr(obj, "has_probe") and obj.has_probe():
        from probeinterface import write_probeinterface

        write_probeinterface(folder / probe_file, obj.get_probegroup())


def _segment_t_starts(recording) -> list[float | None] | None:
    t_starts: list[float | None] = []
    for i in range(recording.get_num_segments()):
        if recording.has_time_vector(i):
            t_starts.append(None)
        else:
            t0 = recording.get_start_time(i)
            t_starts.append(None if t0 == 0.0 else float(t0))
    if all(t is None for t in t_starts):
        return None
    # SpikeInterface casts every value to float: a segment without t_start starts at 0.0
    return [0.0 if t is None else t for t in t_starts]


# ---------------------------------------------------------------------- chunked binary writer
def _preallocate(path: Path, size: int) -> None:
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
    try:
        if size > 0 and hasattr(os, "posix_fallocate"):
            try:
                os.posix_fallocate(fd, 0, size)
            except OSError:
                os.ftruncate(fd, size)
        else:
            os.ftruncate(fd, size)
    finally:
        os.close(fd)


@accepts_aliases(file_offset="byte_offset")
def write_binary_recording(recording, file_paths, dtype=None, add_file_extension: bool = True, byte_offset: int = 0,
                           verbose: bool = False, file_timestamps_paths=None, **job_kwargs) -> list[Path]:
    """Write the traces of every segment to raw binary files (time axis first), in parallel chunks.

    Each file is preallocated, then every chunk is written with ``os.pwrite`` at its offset: no
    memory map, no read-modify-write, and ``n_jobs > 1`` writes the same bytes as ``n_jobs=1``.
    The positional order is SpikeInterface 0.100's (0.105 put ``file_timestamps_paths`` third:
    pass it by name).

    Parameters
    ----------
    recording : BaseRecording
    file_paths : str, Path or list
        One file per segment.
    dtype : numpy dtype, optional
        dtype written (default: the recording's).
    add_file_extension : bool
        Append ".raw" to a path that does not end in ".raw", ".bin" or ".dat" (SpikeInterface 0.105).
    byte_offset : int
        Bytes left (zeroed) before the traces in each file; also taken as ``file_offset=``.
    verbose : bool
    file_timestamps_paths : str, Path or list, optional
        One file per segment: the time vector (float64) of segments that have one is written there.
    **job_kwargs
        n_jobs, chunk_duration / chunk_size / chunk_memory / total_memory, progress_bar, engine, ...

    Returns
    -------
    list of Path
        The trace files written.
    """
    file_offset = int(byte_offset)
    if file_offset < 0:
        raise ValueError(f"byte_offset={file_offset} must be >= 0")
    file_paths = [Path(p) for p in (file_paths if isinstance(file_paths, (list, tuple)) else [file_paths])]
    if len(file_paths) != recording.get_num_segments():
        raise ValueError(f"file_paths has {len(file_paths)} files for {recording.get_num_segments()} segments")
    if add_file_extension:
        file_paths = [p if p.suffix in (".raw", ".bin", ".dat") else p.parent / (p.name + ".raw") for p in file_paths]
    if file_timestamps_paths is not None:
        stamps = [Path(p) for p in (file_timestamps_paths if isinstance(file_timestamps_paths, (list, tuple))
                                    else [file_timestamps_paths])]
        if len(stamps) != recording.get_num_segments():
            raise ValueError(f"file_timestamps_paths has {len(stamps)} files for {recording.get_num_segments()} "
                             f"segments")
        for i, path in enumerate(stamps):
            if recording.has_time_vector(i):
                path.parent.mkdir(parents=True, exist_ok=True)
                np.asarray(recording.get_times(i), dtype="float64").tofile(path)
    dtype = check_trace_dtype(recording.get_dtype() if dtype is None else dtype)
    bytes_per_frame = recording.get_num_channels() * dtype.itemsize
    for i, path in enumerate(file_paths):
        path.parent.mkdir(parents=True, exist_ok=True)
        _preallocate(path, int(file_offset) + recording.get_num_samples(i) * bytes_per_frame)
    if verbose:
        print(f"write_binary_recording: {recording.get_total_samples():,} samples to {len(file_paths)} file(s)")
    from ..engine import SaveBinaryJob, run_block_job
    from .job import resolve_job_kwargs

    job = SaveBinaryJob(file_paths, dtype, int(file_offset), recording.get_num_channels())
    run_block_job(job, recording, resolve_job_kwargs(**job_kwargs))
    return file_paths


# ---------------------------------------------------------------------- recordings

def write_binary(time_series, file_paths, file_timestamps_paths=None, dtype=None, add_file_extension: bool = True,
                 byte_offset: int = 0, verbose: bool = False, **job_kwargs) -> list[Path]:
    """SpikeInterface 0.105's ``time_series_tools.write_binary``, with its argument order (see
    :func:`write_binary_recording`).

    Parameters
    ----------
    time_series : BaseRecording
    file_paths : str, Path or list
        One file per segment.
    file_timestamps_paths : str, Path or list, optional
        One file per segment for the time vectors of segments that have one.
    dtype : numpy dtype, optional
        dtype written (default: the recording's).
    add_file_extension : bool
        Append ".raw" to a path without ".raw", ".bin" or ".dat".
    byte_offset : int
        Bytes left (zeroed) before the traces in each file.
    verbose : bool
    **job_kwargs
        n_jobs, chunk_duration / chunk_size / chunk_memory, progress_bar, engine, ...

    Returns
    -------
    list of Path
        The trace files written.
    """
    return write_binary_recording(time_series, file_paths, dtype=dtype, verbose=verbose, byte_offset=byte_offset,
                                  add_file_extension=add_file_extension, file_timestamps_paths=file_timestamps_paths,
                                  **job_kwargs)

def _check_format(format: str, allowed: tuple, what: str) -> None:
    if format not in allowed:
        raise ValueError(f"format={format!r} is not supported for {what}; allowed: {list(allowed)}")


def save_recording(recording, folder=None, format: str = "binary", overwrite: bool = False, verbose: bool = False,
                   **kwargs):
    """Save a recording and return the saved copy (see :meth:`BaseRecording.save`).

    Parameters
    ----------
    recording : BaseRecording
    folder : str or Path, optional
        Target folder (a temporary one when None). ``.zarr`` is appended for ``format="zarr"``.
    format : {"binary", "zarr", "memory"}
    overwrite : bool
        Replace an existing folder (only once the new one is complete). When False an existing
        folder raises :class:`FolderExistsError` and is not touched.
    verbose : bool
    **kwargs
        Job kwargs; for binary ``dtype``; for zarr ``compressor``, ``filters``,
        ``channel_chunk_size``, ``compressor_by_dataset``, ``filters_by_dataset``, ``dtype``.
    """
    _check_format(format, _RECORDING_FORMATS, "recordings")
    specific, job_kwargs = split_job_kwargs(kwargs)
    if format != "memory":
        check_trace_dtype(recording.get_dtype() if specific.get("dtype") is None else specific["dtype"])
        check_savable_properties(recording)
    if format == "memory":
        sharedmem = specific.pop("sharedmem", True)
        _warn_unknown(specific, ("sharedmem",), "save(format='memory')")
        return write_memory_recording_copy(recording, sharedmem=sharedmem, **job_kwargs)
    if format == "zarr":
        from .zarrrecording import ZarrRecordingExtractor

        _reject_unknown(specific, ("compressor", "filters", "channel_chunk_size", "compressor_by_dataset",
                                   "filters_by_dataset", "dtype", "storage_options"), "save(format='zarr')")
        specific.pop("storage_options", None)
        check_zarr_codecs(specific.get("compressor", "default"), specific.get("filters"),
                          specific.get("compressor_by_dataset"), specific.get("filters_by_dataset"))
        folder = default_folder(".zarr") if folder is None else folder
        return ZarrRecordingExtractor.write_recording(recording, folder, overwrite=overwrite, verbose=verbose,
                                                      **specific, **job_kwargs)
    _reject_unknown(specific, ("dtype",), "save(format='binary')")
    folder = default_folder() if folder is None else folder_path(folder)
    check_target(folder, overwrite)
    return save_binary_folder(recording, folder, overwrite=overwrite, dtype=specific.get("dtype"), verbose=verbose,
                              **job_kwargs)


def write_memory_recording_copy(recording, sharedmem: bool = True, **job_kwargs):
    """The recording copied into memory: shared memory (``sharedmem``, SpikeInterface's default) or numpy."""
    from .job import resolve_job_kwargs

    resolve_job_kwargs(**job_kwargs)
    if sharedmem:
        from .sharedmem import SharedMemoryRecording

        return SharedMemoryRecording.from_recording(recording, with_time_vector=True)
    from .numpyextractors import NumpyRecording

    return NumpyRecording.from_recording(recording, with_time_vector=True)


def _warn_unknown(specific: dict, allowed: tuple, where: str) -> None:
    """Unknown keywords of a memory save are ignored, as SpikeInterface ignores them, with a warning."""
    if specific:
        import warnings

        warnings.warn(f"{where}: ignored unknown keyword arguments {sorted(specific)}; allowed: {list(allowed)} and "
                      "job kwargs", UserWarning, stacklevel=4)


def _reject_unknown(specific: dict, allowed: tuple, where: str) -> None:
    unknown = sorted(set(specific) - set(allowed))
    if unknown:
        raise UnknownKeywordError(f"{where}: unknown keyword arguments {unknown}; allowed: {list(allowed)} and job "
                                  f"kwargs")


def save_binary_folder(recording, folder, overwrite: bool = False, dtype=None, verbose: bool = False, **job_kwargs):
    """Write a binary folder (SpikeInterface's layout) and return it as a :class:`BinaryFolderRecording`."""
    from .binaryfolder import BinaryFolderRecording

    dtype = np.dtype(recording.get_dtype() if dtype is None else dtype)
    nseg = recording.get_num_segments()
    with atomic_folder(folder, overwrite=overwrite) as tmp:
        file_names = [f"traces_cached_seg{i}.raw" for i in range(nseg)]
        write_binary_recording(recording, [tmp / n for n in file_names], dtype=dtype, verbose=verbose, **job_kwargs)
        for i in range(nseg):
            if recording.has_time_vector(i):
                np.save(tmp / f"times_cached_seg{i}.npy", np.asarray(recording.get_times(i), dtype="float64"))
        write_metadata(tmp, recording)
        kwargs = {"file_paths": file_names, "sampling_frequency": recording.get_sampling_frequency(),
                  "t_starts": _segment_t_starts(recording), "num_channels": recording.get_num_channels(),
                  "dtype": dtype.str, "channel_ids": recording.channel_ids, "time_axis": 0, "file_offset": 0,
                  "is_filtered": recording.is_filtered(), "gain_to_uV": recording.get_channel_gains(),
                  "offset_to_uV": recording.get_channel_offsets()}
        num_samples = [recording.get_num_samples(i) for i in range(nseg)]
        # num_samples and dtype again outside the kwargs: load() checks the files and the kwargs against them
        write_json(tmp / "binary.json", foreign_dict(SI_BINARY_CLASS, kwargs, num_samples=num_samples,
                                                     dtype=dtype.str))
        write_json(tmp / "si_folder.json", foreign_dict(SI_BINARY_FOLDER_CLASS, {"folder_path": "."}))
    return BinaryFolderRecording(folder)


# ---------------------------------------------------------------------- sortings
def save_sorting(sorting, folder=None, format: str = "numpy_folder", overwrite: bool = False, verbose: bool = False,
                 **kwargs):
    """Save a sorting and return the saved copy, with properties and annotations.

    Parameters
    ----------
    sorting : BaseSorting
    folder : str or Path, optional
        Target folder (a temporary one when None).
    format : {"numpy_folder", "npz" / "npz_folder", "zarr", "memory"}
        ``numpy_folder`` is SpikeInterface 0.105's default; ``memory`` copies to shared memory
        (``sharedmem=True``, the default) or to a :class:`NumpySorting`.
    overwrite : bool
    verbose : bool
    **kwargs
        ``sharedmem`` (memory); ``compressor`` / ``storage_options`` (zarr); job kwargs.

    Returns
    -------
    BaseSorting
    """
    _check_format(format, _SORTING_FORMATS, "sortings")
    specific, job_kwargs = split_job_kwargs(kwargs)
    if format == "memory":
        sharedmem = specific.pop("sharedmem", True)
        _warn_unknown(specific, ("sharedmem",), "sorting.save(format='memory')")
        if sharedmem:
            from .sharedmem import SharedMemorySorting

            return SharedMemorySorting.from_sorting(sorting, with_metadata=True)
        from .numpyextractors import NumpySorting

        return NumpySorting.from_sorting(sorting, with_metadata=True)
    if format == "zarr":
        from .zarrsorting import ZarrSortingExtractor

        _reject_unknown(specific, ("compressor", "storage_options"), "sorting.save(format='zarr')")
        folder = default_folder(".zarr") if folder is None else folder
        return ZarrSortingExtractor.write_sorting(sorting, folder, overwrite=overwrite, **specific)
    specific.pop("sharedmem", None)
    specific.pop("mmap_mode", None)
    _reject_unknown(specific, (), f"sorting.save(format={format!r})")
    from .npzsorting import NpzFolderSorting, NumpyFolderSorting

    check_savable_properties(sorting)
    folder = default_folder() if folder is None else folder_path(folder)
    if format == "numpy_folder":
        return NumpyFolderSorting.write_sorting(sorting, folder, overwrite=overwrite)
    return NpzFolderSorting.write_sorting(sorting, folder, overwrite=overwrite)


def save_snippets(snippets, folder=None, format: str = "npy", overwrite: bool = False, verbose: bool = False,
                  **kwargs):
    """Save snippets: ``"npy"`` folder (SpikeInterface's ``NpyFolderSnippets``; ``"npz"`` is an alias) or memory."""
    _check_format(format, _SNIPPETS_FORMATS, "snippets")
    specific, _ = split_job_kwargs(kwargs)
    _reject_unknown(specific, ("dtype",), f"snippets.save(format={format!r})")
    if format == "memory":
        from .numpyextractors import NumpySnippets

        nseg = snippets.get_num_segments()
        copy = NumpySnippets([np.array(snippets.get_snippets(segment_index=i)) for i in range(nseg)],
                             [np.array(snippets.get_frames(segment_index=i)) for i in range(nseg)],
                             snippets.sampling_frequency, nbefore=snippets.nbefore, channel_ids=snippets.channel_ids)
        snippets.copy_metadata(copy)
        return copy
    from .npzsorting import NpyFolderSnippets

    check_savable_properties(snippets)
    folder = default_folder() if folder is None else folder_path(folder)
    return NpyFolderSnippets.write_snippets(snippets, folder, overwrite=overwrite, dtype=specific.get("dtype"))


def save_event(event, folder=None, format: str = "npz", overwrite: bool = False, verbose: bool = False, **kwargs):
    """Save events to an npz folder (``"npz"``) or to memory (``"memory"``)."""
    _check_format(format, _EVENT_FORMATS, "events")
    if format == "memory":
        from .numpyextractors import NumpyEvent

        dicts = [{c: np.array(event.get_events(c, segment_index=i)) for c in event.channel_ids.tolist()}
                 for i in range(event.get_num_segments())]
        copy = NumpyEvent.from_dict(dicts, structured_dtype=dict(event.structured_dtype))
        event.copy_metadata(copy)
        return copy
    from .npzsorting import NpzFolderEvent

    check_savable_properties(event)
    folder = default_folder() if folder is None else folder_path(folder)
    return NpzFolderEvent.write_event(event, folder, overwrite=overwrite)
