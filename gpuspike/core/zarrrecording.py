"""ZarrRecordingExtractor: compressed chunked traces in a zarr folder (SpikeInterface's layout).

Arrays are written in the zarr v2 format with numcodecs codecs, with zarr-python 3 and 2 alike,
so that any numcodecs ``compressor`` / ``filters`` work and SpikeInterface (zarr 2) reads them.

Layout: root attrs ``sampling_frequency``, ``num_segments``, ``provenance``, ``probegroup``,
``annotations``; arrays ``channel_ids``, ``traces_seg{i}``, ``times_seg{i}`` (time vectors),
``t_starts`` (NaN = none); group ``properties/<key>``.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .argnames import accepts_aliases
from .atomic import atomic_folder
from .errors import CorruptFolderError
from .folder_safety import (check_savable_properties, check_zarr_array, check_zarr_folder, check_zarr_key,
                            decode_object_property, encode_object_property, is_string_objects)
from .job import resolve_job_kwargs, run_chunks, split_job_kwargs
from .job_tools import divide_recording_into_chunks
from .loading import attach_probegroup, check_folder
from .recording import BaseRecording, BaseRecordingSegment

SI_ZARR_CLASS = "spikeinterface.core.zarrextractors.ZarrRecordingExtractor"
#: root attribute holding object-dtype properties as JSON (SpikeInterface skips such properties)
OBJECT_PROPERTIES_ATTR = "gpuspike_object_properties"


def missing_chunks(array_folder: Path, array) -> set:
    """Chunk indices of a zarr v2 array in a local folder that have no chunk file."""
    array_folder = Path(array_folder)
    if not (array_folder / ".zarray").is_file() or 0 in array.shape:
        return set()
    meta = getattr(array, "metadata", None)
    separator = getattr(meta, "dimension_separator", None) or getattr(array, "_dimension_separator", None) or "."
    counts = tuple(-(-int(s) // int(c)) for s, c in zip(array.shape, array.chunks))
    if separator == "/":
        names = []
        for root, _, files in os.walk(array_folder):
            rel = Path(root).relative_to(array_folder).parts
            names.extend(".".join(rel + (f,)) for f in files if not f.startswith("."))
    else:
        names = [f for f in os.listdir(array_folder) if not f.startswith(".")]
    present = np.zeros(counts, dtype=bool)
    for name in names:
        parts = name.split(".")
        if len(parts) == len(counts) and all(p.isdigit() for p in parts):
            index = tuple(int(p) for p in parts)
            if all(i < n for i, n in zip(index, counts)):
                present[index] = True
    return {tuple(int(i) for i in idx) for idx in np.argwhere(~present)}


def _zarr():
    try:
        import zarr
    except ImportError:  # pragma: no cover - zarr is a dependency
        raise ImportError("the zarr format needs zarr-python: pip install zarr") from None
    return zarr


def _zarr_major() -> int:
    return int(_zarr().__version__.split(".")[0])


def get_default_zarr_compressor(clevel: int = 5):
    """Blosc zstd with bit shuffle: the default compressor of ``save(format="zarr")``.

    Parameters
    ----------
    clevel : int
        Compression level (1-9).

    Returns
    -------
    numcodecs.Blosc
    """
    from numcodecs import Blosc

    return Blosc(cname="zstd", clevel=clevel, shuffle=Blosc.BITSHUFFLE)


def open_group(path, mode: str):
    """Open a zarr group (v2 format when created) with zarr-python 2 or 3."""
    zarr = _zarr()
    if _zarr_major() >= 3:
        if mode == "w":
            return zarr.open_group(str(path), mode=mode, zarr_format=2)
        return zarr.open_group(str(path), mode=mode)
    return zarr.open_group(str(path), mode=mode)


def super_zarr_open(folder_path, mode: str = "r", storage_options: dict | None = None):
    """Open a local zarr folder (SpikeInterface's helper): through its consolidated metadata when
    reading and it has some, else directly.

    Parameters
    ----------
    folder_path : str or Path
    mode : {"r", "r+", "a", "w", "w-"}
    storage_options : None
        Remote stores are not opened by gpuspike (copy the folder locally).

    Returns
    -------
    zarr.Group or zarr.Array

    Raises
    ------
    ValueError
        A remote path, storage options, or a mode not listed.
    """
    from .core_tools import is_path_remote

    modes = ("r", "r+", "a", "w", "w-")
    if mode not in modes:
        raise ValueError(f"mode={mode!r}: allowed values are {list(modes)}")
    if storage_options or is_path_remote(folder_path):
        raise ValueError(f"super_zarr_open({str(folder_path)!r}, storage_options={storage_options!r}): gpuspike opens "
                         f"local zarr folders only; copy the folder locally")
    zarr = _zarr()
    if mode == "r" and (Path(folder_path) / ".zmetadata").is_file():
        try:
            return zarr.open_consolidated(str(folder_path), mode="r")
        except (KeyError, ValueError):  # metadata that does not describe the folder: read it directly
            pass
    if mode in ("w", "w-") and _zarr_major() >= 3:
        return zarr.open(str(folder_path), mode=mode, zarr_format=2)
    return zarr.open(str(folder_path), mode=mode)


def _group_format(group) -> int:
    return int(getattr(getattr(group, "metadata", None), "zarr_format", 2))


def as_zarr3_compressor(compressor):
    """The zarr format 3 codec doing what a numcodecs Blosc, Zstd or GZip compressor does (zarr format 3
    arrays do not take numcodecs codecs).

    Parameters
    ----------
    compressor : numcodecs codec or None

    Returns
    -------
    zarr codec or None

    Raises
    ------
    ValueError
        Another numcodecs codec (naming the fix: a zarr format 2 group).
    """
    import numcodecs
    import zarr.codecs

    if compressor is None:
        return None
    if isinstance(compressor, numcodecs.Blosc):
        shuffle = {numcodecs.Blosc.NOSHUFFLE: "noshuffle", numcodecs.Blosc.SHUFFLE: "shuffle",
                   numcodecs.Blosc.BITSHUFFLE: "bitshuffle"}.get(compressor.shuffle, "shuffle")
        return zarr.codecs.BloscCodec(cname=compressor.cname, clevel=compressor.clevel, shuffle=shuffle,
                                      blocksize=compressor.blocksize)
    if isinstance(compressor, numcodecs.Zstd):
        return zarr.codecs.ZstdCodec(level=compressor.level)
    if isinstance(compressor, numcodecs.GZip):
        return zarr.codecs.GzipCodec(level=compressor.level)
    raise ValueError(f"compressor {compressor!r} cannot be written in a zarr format 3 group (Blosc, Zstd and GZip "
                     f"can): open the group with zarr.open_group(path, mode='w', zarr_format=2) or choose one of "
                     f"those")


def create_array(group, name: str, data=None, shape=None, chunks=None, dtype=None, compressor=None, filters=None):
    """Create an array in ``group`` with a numcodecs compressor / filters (zarr 2 and 3 APIs; in a zarr
    format 3 group the compressor becomes its format 3 equivalent, :func:`as_zarr3_compressor`)."""
    if data is not None:
        data = np.asarray(data)
        shape, dtype = data.shape, data.dtype
    chunks = tuple(max(1, int(c)) for c in (shape if chunks is None else chunks))
    # every chunk is written, even an all-zero one, so that a missing chunk file always means damage
    if _zarr_major() >= 3:
        if _group_format(group) == 3:
            compressor = as_zarr3_compressor(compressor)
            if filters:
                raise ValueError(f"zarr array {name!r}: numcodecs filters {filters!r} cannot be written in a zarr "
                                 "format 3 group; open it with zarr.open_group(path, mode='w', zarr_format=2)")
        arr = group.create_array(name, shape=shape, chunks=chunks, dtype=dtype, compressors=compressor,
                                 filters=filters, fill_value=None if np.dtype(dtype).names else 0,
                                 config={"write_empty_chunks": True})
    else:
        arr = group.create_dataset(name, shape=shape, chunks=chunks, dtype=dtype, compressor=compressor,
                                   filters=filters, write_empty_chunks=True)
    if data is not None and data.size:
        arr[...] = data
    return arr


def check_group_takes_numcodecs(group, what: str, *codecs, optional: bool = True) -> None:
    """numcodecs codecs are zarr format 2's: a format 3 group given codecs is refused, naming the fix
    (``optional=False``: the writer always uses some, e.g. the Delta filter of spike vectors)."""
    if _group_format(group) != 2 and any(c is not None for c in codecs):
        fix = ", or pass None as every compressor and filters" if optional else ""
        raise ValueError(f"{what}: zarr_group is zarr format 3 and numcodecs compressors / filters are zarr format "
                         f"2's (SpikeInterface's layout; gpuspike's default compressor is numcodecs Blosc): open the "
                         f"group with zarr.open_group(path, mode='w', zarr_format=2){fix}")


def checked_zarr_attrs(attrs: dict, folder_path) -> tuple[float, int]:
    """``(sampling_frequency, num_segments)`` of a saved zarr group's attributes: a finite rate > 0 and
    a whole number of segments >= 1, else :class:`CorruptFolderError` naming the folder and the value."""
    rate, segments = attrs.get("sampling_frequency"), attrs.get("num_segments")
    for key, value in (("sampling_frequency", rate), ("num_segments", segments)):
        if value is None:
            raise CorruptFolderError(f"zarr folder {str(folder_path)!r} lacks the {key!r} attribute: incomplete or "
                                     f"not a saved recording or sorting")
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not np.isfinite(rate) or rate <= 0:
        raise CorruptFolderError(f"zarr folder {str(folder_path)!r}: attribute sampling_frequency={rate!r} is not a "
                                 f"rate in Hz > 0")
    if isinstance(segments, bool) or not isinstance(segments, int) or segments < 1:
        raise CorruptFolderError(f"zarr folder {str(folder_path)!r}: attribute num_segments={segments!r} is not a "
                                 f"number of segments >= 1")
    return float(rate), int(segments)


def _folder_identity(folder: str):
    """Device and inode of ``folder`` (None when it is gone): a replacement has another inode."""
    try:
        st = os.stat(folder)
    except OSError:
        return None
    return st.st_dev, st.st_ino


class ZarrRecordingSegment(BaseRecordingSegment):
    """One ``traces_seg{i}`` array. A chunk that is missing (the writers store every chunk) or
    cannot be decoded raises :class:`CorruptFolderError` naming the array, the chunk and the frames,
    instead of reading as zeros or as a bare codec error.

    Parameters
    ----------
    root : zarr group or array
        The group holding the traces array, or the array itself (``dataset_name=None``).
    dataset_name : str, optional
        The array's name in ``root``.
    sampling_frequency : float
    t_start : float, optional
    time_vector : np.ndarray, optional
    where : str
        Names the array in errors.
    missing_chunks : set of tuple, optional
        Chunk indices without a chunk file (found when the folder was opened).
    folder : str or Path, optional
        The zarr folder: a read after another folder replaced it (``save(overwrite=True)``) raises
        :class:`CorruptFolderError` instead of reading the other folder's traces.
    """

    def __init__(self, root, dataset_name: str | None = None, *, sampling_frequency: float | None = None,
                 t_start: float | None = None, time_vector=None, where: str = "",
                 missing_chunks: set | None = None, folder=None) -> None:
        super().__init__(sampling_frequency=sampling_frequency, t_start=t_start, time_vector=time_vector)
        self._folder = None if folder is None else str(folder)
        self._folder_identity = None if folder is None else _folder_identity(self._folder)
        array = root if dataset_name is None else root[dataset_name]
        self._array = array
        self._where = where or "zarr array"
        self._missing = sorted(missing_chunks or ())
        self._time_chunk = int(array.chunks[0]) if array.chunks[0] else 1

    def get_num_samples(self) -> int:
        return int(self._array.shape[0])

    def _chunk_frames(self, time_chunk: int) -> str:
        start = time_chunk * self._time_chunk
        return f"[{start}, {min(start + self._time_chunk, self.get_num_samples())})"

    def get_traces(self, start_frame: int, end_frame: int, channel_indices) -> np.ndarray:
        if self._folder is not None and _folder_identity(self._folder) != self._folder_identity:
            raise CorruptFolderError(f"zarr folder {self._folder!r} was replaced or removed after the recording was "
                                     f"opened: its arrays would be another folder's. Load the recording again")
        if end_frame > start_frame:
            first, last = start_frame // self._time_chunk, (end_frame - 1) // self._time_chunk
            missing = [c for c in self._missing if first <= c[0] <= last]
            if missing:
                raise CorruptFolderError(
                    f"{self._where}: chunk {'.'.join(map(str, missing[0]))} (frames {self._chunk_frames(missing[0][0])}"
                    f") is missing ({len(missing)} missing chunk(s) among frames [{start_frame}, {end_frame})): the "
                    f"folder is incomplete or damaged; it would read as zeros")
        try:
            if isinstance(channel_indices, slice):
                return self._array[start_frame:end_frame, channel_indices]
            traces = self._array[start_frame:end_frame]
            return traces[:, channel_indices]
        except Exception as err:
            raise self._decode_error(start_frame, end_frame, err) from None

    def _decode_error(self, start_frame: int, end_frame: int, err: Exception) -> CorruptFolderError:
        for c in range(start_frame // self._time_chunk, max(start_frame, end_frame - 1) // self._time_chunk + 1):
            lo = c * self._time_chunk
            try:
                self._array[lo:min(lo + self._time_chunk, self.get_num_samples())]
            except Exception as chunk_err:
                return CorruptFolderError(f"{self._where}: the chunk of frames {self._chunk_frames(c)} (time chunk "
                                          f"{c}) cannot be read ({type(chunk_err).__name__}: {chunk_err}): the file "
                                          f"is damaged")
        return CorruptFolderError(f"{self._where}: frames [{start_frame}, {end_frame}) cannot be read "
                                  f"({type(err).__name__}: {err})")


class ZarrRecordingExtractor(BaseRecording):
    """A recording saved with ``save(format="zarr")`` by gpuspike or SpikeInterface.

    Parameters
    ----------
    folder_path : str or Path
        The ``.zarr`` folder. Also taken as ``root_path=`` (the older module
        ``zarrrecordingextractor``'s name).
    storage_options : dict, optional
        Accepted for SpikeInterface compatibility (local folders only).
    load_compression_ratio : bool
        Annotate ``compression_ratio`` (bytes / stored bytes).
    """

    @accepts_aliases(root_path="folder_path")
    def __init__(self, folder_path, storage_options: dict | None = None, load_compression_ratio: bool = False) -> None:
        folder_path = check_folder(Path(folder_path), "ZarrRecordingExtractor").absolute()
        check_zarr_folder(folder_path, "zarr folder")
        try:
            root = open_group(folder_path, "r")
        except Exception as err:
            raise CorruptFolderError(f"{str(folder_path)!r} is not a readable zarr group ({err})") from None
        attrs = dict(root.attrs)
        sampling_frequency, num_segments = checked_zarr_attrs(attrs, folder_path)
        keys = set(root.keys()) if hasattr(root, "keys") else set()
        if "channel_ids" not in keys:
            raise CorruptFolderError(f"zarr folder {str(folder_path)!r} lacks the 'channel_ids' array")
        for seg in range(num_segments):
            if f"traces_seg{seg}" not in keys:
                raise CorruptFolderError(f"zarr folder {str(folder_path)!r} lacks the 'traces_seg{seg}' array")
        def array(path: str):
            where = f"array {path!r} of zarr folder {str(folder_path)!r}"
            try:
                found = root[path]
            except Exception as err:
                raise CorruptFolderError(f"{where} cannot be opened ({type(err).__name__}: {err})") from None
            return check_zarr_array(found, where)

        channel_ids = np.asarray(array("channel_ids")[:])
        super().__init__(sampling_frequency, channel_ids, array("traces_seg0").dtype)
        self._root = root  # the read-only zarr group (SpikeInterface's attribute name)
        t_starts = np.asarray(array("t_starts")[:]) if "t_starts" in keys else None
        nbytes, stored = 0, 0
        for seg in range(num_segments):
            name = f"traces_seg{seg}"
            traces = array(name)
            if traces.shape[1:] != (len(channel_ids),):
                raise CorruptFolderError(f"'traces_seg{seg}' of {str(folder_path)!r} has shape {traces.shape}, "
                                         f"expected (n, {len(channel_ids)})")
            times_name = f"times_seg{seg}"
            time_vector = np.asarray(array(times_name)[:]) if times_name in keys else None
            t_start = None
            if time_vector is None and t_starts is not None and not np.isnan(t_starts[seg]):
                t_start = float(t_starts[seg])
            self.add_segment(ZarrRecordingSegment(traces, None, sampling_frequency=sampling_frequency, t_start=t_start,
                                                  time_vector=time_vector,
                                                  where=f"array {name!r} of zarr folder {str(folder_path)!r}",
                                                  missing_chunks=missing_chunks(folder_path / name, traces),
                                                  folder=folder_path))
            if load_compression_ratio:
                nbytes += traces.nbytes
                stored += traces.nbytes_stored() if callable(traces.nbytes_stored) else traces.nbytes_stored
        probegroup = attrs.get("probegroup", attrs.get("probe"))
        if probegroup is not None:
            attach_probegroup(self, probegroup, sort_by_wiring="probegroup" not in attrs)
        if "properties" in keys:
            props = root["properties"]
            for key in props.keys():
                values = np.asarray(array(f"properties/{key}")[:])
                if values.shape[:1] != (len(channel_ids),):
                    raise CorruptFolderError(f"property {key!r} of {str(folder_path)!r} has shape {values.shape}")
                self._properties[key] = values
        for key, encoded in (attrs.get(OBJECT_PROPERTIES_ATTR) or {}).items():
            try:
                self._properties[key] = decode_object_property(encoded)
            except (TypeError, ValueError, KeyError) as err:
                raise CorruptFolderError(f"object property {key!r} of {str(folder_path)!r} cannot be read "
                                         f"({err})") from None
        from .base import _from_jsonable

        self._annotations.update(_from_jsonable(attrs.get("annotations") or {}))
        if load_compression_ratio:
            self.annotate(compression_ratio=nbytes / stored if stored else float("nan"))
        self._kwargs = {"folder_path": str(folder_path), "storage_options": storage_options,
                        "load_compression_ratio": load_compression_ratio}

    @staticmethod
    def write_recording(recording: BaseRecording, folder_path, overwrite: bool = False, verbose: bool = False,
                        compressor="default", filters=None, channel_chunk_size: int | None = None,
                        compressor_by_dataset: dict | None = None, filters_by_dataset: dict | None = None,
                        dtype=None, **job_kwargs) -> "ZarrRecordingExtractor":
        """Write ``recording`` to a ``.zarr`` folder (atomically) and return it.

        Parameters
        ----------
        recording : BaseRecording
        folder_path : str or Path
            ``.zarr`` is appended when missing.
        overwrite : bool
        compressor : numcodecs codec or None
            Default Blosc zstd clevel 5 with bit shuffle; None stores raw chunks.
        filters : list of numcodecs codecs, optional
        channel_chunk_size : int, optional
            Channels per zarr chunk (default: all).
        compressor_by_dataset, filters_by_dataset : dict, optional
            Per dataset (``"traces"``, ``"times"``) overrides.
        dtype : numpy dtype, optional
        **job_kwargs
            The time chunk of the zarr arrays is the job chunk, so parallel workers never share a chunk.
        """
        folder_path = Path(folder_path)
        if folder_path.suffix != ".zarr":
            folder_path = folder_path.with_name(folder_path.name + ".zarr")
        config = resolve_job_kwargs(**job_kwargs)
        plan = _plan_trace_arrays(recording, dtype, config, compressor, filters, channel_chunk_size,
                                  compressor_by_dataset, filters_by_dataset)
        with atomic_folder(folder_path, overwrite=overwrite) as tmp:
            root = open_group(tmp, "w")
            _write_zarr_metadata(root, recording)
            names = _create_trace_arrays(root, recording, plan)
            if verbose:
                print(f"write_zarr_recording: {recording.get_total_samples():,} samples to {folder_path}")
            init_args = (recording, str(tmp), names, plan["dtype"].str)
            run_chunks(recording, _write_zarr_chunk, _init_zarr_writer, init_args, job_kwargs=config,
                       job_name="write_zarr_recording")
        return ZarrRecordingExtractor(folder_path)


def add_recording_to_zarr_group(recording: BaseRecording, zarr_group, verbose: bool = False, dtype=None,
                                relative_to: str | Path | None = None, **kwargs) -> None:
    """Write ``recording`` into an open zarr group, in the layout of ``save(format="zarr")``
    (SpikeInterface 0.105's function, for a recording stored inside a larger zarr store).

    The chunks are written by this process, one after the other (the group may live in any store).
    ``ZarrRecordingExtractor.write_recording`` writes a whole folder with parallel workers.

    Parameters
    ----------
    recording : BaseRecording
    zarr_group : zarr.Group
        An empty group (format 2).
    verbose : bool
    dtype : numpy dtype, optional
        Stored dtype (values must fit it).
    relative_to : str or Path, optional
        Paths of the provenance relative to this folder.
    **kwargs
        ``compressor``, ``filters``, ``channel_chunk_size``, ``compressor_by_dataset``,
        ``filters_by_dataset`` (as ``write_recording``) and job keywords (``chunk_duration``, ...:
        the time chunk of the arrays).

    Returns
    -------
    None
        The arrays and attributes are in ``zarr_group``.
    """
    zarr_kwargs, job_kwargs = split_job_kwargs(kwargs)
    allowed = ("compressor", "filters", "channel_chunk_size", "compressor_by_dataset", "filters_by_dataset")
    unknown = sorted(set(zarr_kwargs) - set(allowed))
    if unknown:
        raise TypeError(f"add_recording_to_zarr_group: unknown keyword arguments {unknown}; allowed: "
                        f"{', '.join(allowed)} and job keywords")
    codecs = [zarr_kwargs.get("compressor", "default"), zarr_kwargs.get("filters")]
    for by_dataset in ("compressor_by_dataset", "filters_by_dataset"):
        codecs += list((zarr_kwargs.get(by_dataset) or {}).values())
    check_group_takes_numcodecs(zarr_group, "add_recording_to_zarr_group", *codecs)
    plan = _plan_trace_arrays(recording, dtype, resolve_job_kwargs(**job_kwargs),
                              zarr_kwargs.get("compressor", "default"), zarr_kwargs.get("filters"),
                              zarr_kwargs.get("channel_chunk_size"), zarr_kwargs.get("compressor_by_dataset"),
                              zarr_kwargs.get("filters_by_dataset"))
    _write_zarr_metadata(zarr_group, recording, relative_to=relative_to)
    names = _create_trace_arrays(zarr_group, recording, plan)
    ctx = {"recording": recording, "arrays": [writing_all_chunks(zarr_group[n]) for n in names],
           "dtype": plan["dtype"]}
    for segment_index, start_frame, end_frame in divide_recording_into_chunks(recording, plan["chunks"][0]):
        _write_zarr_chunk(segment_index, start_frame, end_frame, ctx)
    if verbose:
        print(f"add_recording_to_zarr_group: {recording.get_total_samples():,} samples")


def _plan_trace_arrays(recording: BaseRecording, dtype, config, compressor, filters, channel_chunk_size,
                       compressor_by_dataset: dict | None, filters_by_dataset: dict | None) -> dict:
    """The checked dtype, chunks and codecs of a recording's zarr arrays (raised before anything is
    written): the time chunk is the job chunk, so parallel workers never share a zarr chunk."""
    from .validation import check_trace_dtype, check_zarr_codecs

    check_zarr_codecs(compressor, filters, compressor_by_dataset, filters_by_dataset)
    dtype = check_trace_dtype(recording.get_dtype() if dtype is None else dtype)
    check_savable_properties(recording)
    compressor = get_default_zarr_compressor() if compressor == "default" else compressor
    by_dataset = {k: get_default_zarr_compressor() if v == "default" else v
                  for k, v in (compressor_by_dataset or {}).items()}
    filters_by_dataset = filters_by_dataset or {}
    if channel_chunk_size is not None and (isinstance(channel_chunk_size, bool)
                                           or not isinstance(channel_chunk_size, (int, np.integer))
                                           or channel_chunk_size < 1):
        raise ValueError(f"channel_chunk_size={channel_chunk_size!r}: give an int >= 1 (channels per chunk) or None "
                         f"(all channels in a chunk)")
    channel_chunk = recording.get_num_channels() if channel_chunk_size is None else int(channel_chunk_size)
    return {"dtype": dtype, "chunks": (time_chunk_frames(recording, config), channel_chunk),
            "traces": (by_dataset.get("traces", compressor), filters_by_dataset.get("traces", filters)),
            "times": (by_dataset.get("times", compressor), filters_by_dataset.get("times", None))}


def time_chunk_frames(recording: BaseRecording, config) -> int:
    """Frames per zarr chunk along time: the job chunk (so parallel writers never share a zarr
    chunk), at most the longest segment."""
    longest = max(recording.get_num_samples(i) for i in range(recording.get_num_segments()))
    return min(config.chunk_frames(recording), max(1, longest))


def start_times_to_store(recording: BaseRecording) -> np.ndarray | None:
    """Each segment's start time when it is not 0 and has no time vector (NaN otherwise), or None
    when no segment has one: the ``t_starts`` array of SpikeInterface's zarr layout."""
    t_starts = np.full(recording.get_num_segments(), np.nan)
    for seg in range(recording.get_num_segments()):
        if not recording.has_time_vector(seg) and recording.get_start_time(seg) != 0.0:
            t_starts[seg] = recording.get_start_time(seg)
    return t_starts if np.any(~np.isnan(t_starts)) else None


def _create_trace_arrays(group, recording: BaseRecording, plan: dict) -> list[str]:
    """Create ``traces_seg<i>`` (and ``times_seg<i>`` with a time vector) in ``group`` as ``plan``
    says (:func:`_plan_trace_arrays`); the traces' names."""
    names = []
    for seg in range(recording.get_num_segments()):
        compressor, filters = plan["traces"]
        create_array(group, f"traces_seg{seg}", shape=(recording.get_num_samples(seg), recording.get_num_channels()),
                     chunks=plan["chunks"], dtype=plan["dtype"], compressor=compressor, filters=filters)
        names.append(f"traces_seg{seg}")
        if recording.has_time_vector(seg):
            compressor, filters = plan["times"]
            create_array(group, f"times_seg{seg}", data=np.asarray(recording.get_times(seg), "float64"),
                         chunks=(plan["chunks"][0],), compressor=compressor, filters=filters)
    return names


def _write_zarr_metadata(root, recording: BaseRecording, relative_to: str | Path | None = None) -> None:
    from .serialization import plain

    provenance = recording.to_dict(relative_to=relative_to, recursive=True) if recording.is_dumpable else None
    attrs = {"zarr_class_info": {"class": SI_ZARR_CLASS, "module": "spikeinterface"},
             "sampling_frequency": float(recording.sampling_frequency),
             "num_segments": int(recording.get_num_segments()),
             "provenance": provenance,
             "annotations": plain(recording._annotations)}
    if recording.has_probe():
        attrs["probegroup"] = plain(recording.get_probegroup().to_dict(array_as_list=True))
    root.attrs.update(attrs)
    create_array(root, "channel_ids", data=np.asarray(recording.channel_ids))
    t_starts = start_times_to_store(recording)
    if t_starts is not None:
        create_array(root, "t_starts", data=t_starts)
    props = root.create_group("properties")
    object_properties = {}
    for key in recording.get_property_keys():
        check_zarr_key(key, "property key")
        values = np.asarray(recording.get_property(key))
        if values.dtype.kind == "O":
            if not is_string_objects(values):
                object_properties[key] = encode_object_property(values, key)
                continue
            values = values.astype(str)
        create_array(props, key, data=values)
    if object_properties:
        root.attrs[OBJECT_PROPERTIES_ATTR] = object_properties


def _init_zarr_writer(recording, zarr_path: str, names: list, dtype: str) -> dict:
    """Worker context of the zarr writer (module level: picklable)."""
    if isinstance(recording, dict):
        from .base import _from_dict

        recording = _from_dict(recording)
    root = open_group(zarr_path, "r+")
    return {"recording": recording, "arrays": [writing_all_chunks(root[n]) for n in names], "dtype": np.dtype(dtype)}


def writing_all_chunks(array):
    """``array`` set to store every chunk, even one equal to the fill value (a runtime setting in zarr 3)."""
    if hasattr(array, "with_config"):
        return array.with_config({"write_empty_chunks": True})
    return array


def _write_zarr_chunk(segment_index: int, start_frame: int, end_frame: int, ctx: dict) -> int:
    """Write one chunk of traces into ``ctx["arrays"][segment_index]`` (``ctx["call"]``, the public
    call, names itself in errors)."""
    from .validation import checked_cast

    traces = ctx["recording"].get_traces(segment_index=segment_index, start_frame=start_frame, end_frame=end_frame)
    call = ctx.get("call", "save(format='zarr', dtype={dtype})").format(dtype=ctx["dtype"])
    traces = checked_cast(traces, ctx["dtype"], f"{call}: traces of segment {segment_index}, frames [{start_frame}, "
                                                f"{end_frame})")
    ctx["arrays"][segment_index][start_frame:end_frame, :] = traces
    return traces.nbytes


ZarrRecording = ZarrRecordingExtractor
read_zarr_recording = ZarrRecordingExtractor


def read_zarr(folder_path, storage_options: dict | None = None, load_compression_ratio: bool = False):
    """Open a ``.zarr`` folder written by ``save(format="zarr")`` (gpuspike or SpikeInterface).

    Parameters
    ----------
    folder_path : str or Path
    storage_options : dict, optional
    load_compression_ratio : bool
        Annotate recordings with their compression ratio.

    Returns
    -------
    ZarrRecordingExtractor or ZarrSortingExtractor
        A sorting when the folder holds a spike vector (``spikes`` group).
    """
    folder = check_folder(Path(folder_path), "read_zarr")
    if (folder / "spikes").is_dir():
        from .zarrsorting import ZarrSortingExtractor

        return ZarrSortingExtractor(folder, storage_options=storage_options)
    return ZarrRecordingExtractor(folder_path, storage_options=storage_options,
                                  load_compression_ratio=load_compression_ratio)
