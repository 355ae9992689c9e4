"""A plain zarr array as a recording, and traces written into named arrays of an open zarr group.

``ZarrArrayRecording`` (``read_zarr_array``) reads one ``(num_samples, num_channels)`` zarr array
with no SpikeInterface layout around it, as ``BinaryRecordingExtractor`` reads a raw file: one
segment, channel ids ``0 .. num_channels - 1``. ``write_recording_to_zarr`` is SpikeInterface's
low-level writer: one traces array per segment at the paths given (and optionally the times of
every sample), in a group the caller opened; ``save(format="zarr")`` writes a whole folder.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import CorruptFolderError
from .folder_safety import check_zarr_array
from .job import resolve_job_kwargs
from .job_tools import divide_recording_into_chunks
from .loading import check_folder
from .recording import BaseRecording
from .zarrrecording import (ZarrRecordingSegment, _write_zarr_chunk, _zarr, check_group_takes_numcodecs, create_array,
                            start_times_to_store, time_chunk_frames, writing_all_chunks)

__all__ = ["ZarrArrayRecording", "read_zarr_array", "write_recording_to_zarr"]


class ZarrArrayRecording(BaseRecording):
    """A recording over one plain zarr array of shape ``(num_samples, num_channels)``.

    Parameters
    ----------
    file_path : str or Path
        The folder of the zarr array (format 2 or 3).
    sampling_frequency : float
        Hz.
    gain_to_uV, offset_to_uV : float or array-like, optional
        Scaling to µV (a value for all channels or one per channel).
    is_filtered : bool, optional
        Annotated when given.
    storage_options : dict, optional
        Accepted for SpikeInterface compatibility (local folders only).
    num_channels, dtype, channel_ids : optional
        What SpikeInterface 0.105 writes in this class's dict besides its arguments; checked
        against the array when given.

    Raises
    ------
    CorruptFolderError
        The folder is not a readable zarr array, or not two-dimensional.
    ValueError
        A value of ``num_channels`` / ``dtype`` / ``channel_ids`` that the array contradicts.
    """

    def __init__(self, file_path, sampling_frequency: float, gain_to_uV=None, offset_to_uV=None,
                 is_filtered: bool | None = None, storage_options: dict | None = None, *, num_channels=None,
                 dtype=None, channel_ids=None) -> None:
        path = check_folder(Path(file_path), "ZarrArrayRecording").absolute()
        where = f"zarr array {str(path)!r}"
        try:
            array = _zarr().open_array(str(path), mode="r")
        except Exception as err:
            raise CorruptFolderError(f"{where} cannot be opened as a zarr array ({type(err).__name__}: {err})") \
                from None
        check_zarr_array(array, where)
        if array.ndim != 2:
            raise CorruptFolderError(f"{where} has shape {array.shape}: a recording needs (num_samples, "
                                     f"num_channels)")
        count = int(array.shape[1])
        own_ids = list(range(count))
        _check_matches(num_channels, count, "num_channels", where)
        _check_matches(None if dtype is None else np.dtype(dtype), np.dtype(array.dtype), "dtype", where)
        _check_matches(None if channel_ids is None else [int(i) for i in channel_ids], own_ids, "channel_ids", where)
        super().__init__(float(sampling_frequency), own_ids, array.dtype)
        self.add_segment(ZarrRecordingSegment(array, None, sampling_frequency=float(sampling_frequency), where=where))
        if is_filtered is not None:
            self.annotate(is_filtered=bool(is_filtered))
        if gain_to_uV is not None:
            self.set_channel_gains(gain_to_uV)
        if offset_to_uV is not None:
            self.set_channel_offsets(offset_to_uV)
        self._root = array  # SpikeInterface's attribute name
        self._kwargs = {"file_path": str(path), "sampling_frequency": float(sampling_frequency),
                        "gain_to_uV": _plain(gain_to_uV), "offset_to_uV": _plain(offset_to_uV),
                        "is_filtered": is_filtered, "storage_options": storage_options}


def _check_matches(given, actual, name: str, where: str) -> None:
    if given is not None and given != actual:
        raise ValueError(f"ZarrArrayRecording: {name}={given!r} but {where} has {actual!r}")


def _plain(value):
    return np.asarray(value).tolist() if isinstance(value, np.ndarray) else value


def read_zarr_array(file_path, sampling_frequency: float, gain_to_uV=None, offset_to_uV=None,
                    is_filtered: bool | None = None, storage_options: dict | None = None) -> ZarrArrayRecording:
    """Read a plain ``(num_samples, num_channels)`` zarr array as a recording.

    Parameters
    ----------
    file_path, sampling_frequency, gain_to_uV, offset_to_uV, is_filtered, storage_options
        As :class:`ZarrArrayRecording`.

    Returns
    -------
    ZarrArrayRecording
    """
    return ZarrArrayRecording(file_path, sampling_frequency, gain_to_uV=gain_to_uV, offset_to_uV=offset_to_uV,
                              is_filtered=is_filtered, storage_options=storage_options)


def write_recording_to_zarr(recording: BaseRecording, zarr_group, dataset_paths, dataset_timestamps_paths=None,
                            extra_chunks: tuple | None = None, dtype=None, compressor_data=None, filters_data=None,
                            compressor_times=None, filters_times=None, verbose: bool = False, **job_kwargs) -> None:
    """Write the traces of ``recording`` into arrays of an open zarr group, one per segment.

    Every array is created first (so bad arguments raise before anything is written), then the
    chunks are written by this process, one after the other (the group may live in any store).

    Parameters
    ----------
    recording : BaseRecording
    zarr_group : zarr.Group
        A writable group (format 2); the paths must not exist in it.
    dataset_paths : str or list of str
        Path of each segment's traces array in the group (a string for a one-segment recording).
    dataset_timestamps_paths : list of str, optional
        Path of each segment's array of sample times (float64 s; None in the list: not written).
    extra_chunks : tuple of int, optional
        ``(channel_chunk_size,)``: chunks along channels (default: all channels in a chunk). The
        time chunk is the job chunk (``chunk_duration``, ``chunk_size``, ...).
    dtype : numpy dtype, optional
        Stored dtype (default the recording's; values must fit it).
    compressor_data, compressor_times : numcodecs codec, optional
        Compressor of the traces / times (None: raw chunks).
    filters_data, filters_times : list of numcodecs codecs, optional
    verbose : bool
    **job_kwargs
        Chunking keywords (``chunk_duration``, ``chunk_size``, ``chunk_memory``, ...).

    Returns
    -------
    None
        The arrays (and a ``t_starts`` array when a segment starts at a time other than 0) are in
        ``zarr_group``.

    Raises
    ------
    ValueError
        Paths of the wrong count or already in the group; ``extra_chunks`` not one positive int.
    TypeError
        A compressor or filters that are not numcodecs codecs.
    """
    from .validation import check_trace_dtype, check_zarr_codecs

    num_segments = recording.get_num_segments()
    paths = [dataset_paths] if isinstance(dataset_paths, (str, Path)) else list(dataset_paths)
    times = [None] * num_segments if dataset_timestamps_paths is None else list(dataset_timestamps_paths)
    for name, given in (("dataset_paths", paths), ("dataset_timestamps_paths", times)):
        if len(given) != num_segments:
            raise ValueError(f"write_recording_to_zarr: {name} has {len(given)} path(s), the recording "
                             f"{num_segments} segment(s): give one per segment")
    wanted = [str(p) for p in paths + times if p is not None]
    taken = sorted({p for p in wanted if p in zarr_group} | {p for p in wanted if wanted.count(p) > 1})
    if taken:
        raise ValueError(f"write_recording_to_zarr: path(s) {taken} already in the group or given twice: give new, "
                         f"distinct paths (nothing is overwritten)")
    if extra_chunks is None:
        channel_chunk = recording.get_num_channels()
    elif (len(extra_chunks) != 1 or not isinstance(extra_chunks[0], (int, np.integer))
          or int(extra_chunks[0]) < 1):
        raise ValueError(f"write_recording_to_zarr: extra_chunks={extra_chunks!r}: give (channel_chunk_size,), "
                         f"one positive int")
    else:
        channel_chunk = int(extra_chunks[0])
    check_zarr_codecs(compressor_data, filters_data, None, None)
    check_zarr_codecs(compressor_times, filters_times, None, None)
    check_group_takes_numcodecs(zarr_group, "write_recording_to_zarr", compressor_data, filters_data,
                                compressor_times, filters_times)
    dtype = check_trace_dtype(recording.get_dtype() if dtype is None else dtype)
    time_chunk = time_chunk_frames(recording, resolve_job_kwargs(**job_kwargs))

    # groups that the paths create on the way (removed with the arrays if the write fails), deepest last
    parents = sorted({"/".join(p.split("/")[:k]) for p in wanted for k in range(1, p.count("/") + 1)},
                     key=lambda g: g.count("/"))
    created: list[str] = [g for g in parents if g not in zarr_group]
    try:  # a failed write removes the arrays it created: the group is left as it was given
        traces_arrays, times_arrays = [], []
        for seg in range(num_segments):
            shape = (recording.get_num_samples(seg), recording.get_num_channels())
            traces_arrays.append(_new_array(zarr_group, str(paths[seg]), created, shape=shape,
                                            chunks=(time_chunk, channel_chunk), dtype=dtype,
                                            compressor=compressor_data, filters=filters_data))
            times_arrays.append(None if times[seg] is None else _new_array(
                zarr_group, str(times[seg]), created, shape=shape[:1], chunks=(time_chunk,), dtype="float64",
                compressor=compressor_times, filters=filters_times))
        ctx = {"recording": recording, "arrays": traces_arrays, "dtype": dtype,
               "call": "write_recording_to_zarr(dtype={dtype})"}
        for seg, start, end in divide_recording_into_chunks(recording, time_chunk):
            _write_zarr_chunk(seg, start, end, ctx)
            if times_arrays[seg] is not None:
                times_arrays[seg][start:end] = recording.get_times(segment_index=seg, start_frame=start,
                                                                   end_frame=end)
        t_starts = start_times_to_store(recording)
        if t_starts is not None and "t_starts" not in zarr_group:
            _new_array(zarr_group, "t_starts", created, data=t_starts)
    except BaseException:
        for name in reversed(created):
            try:
                del zarr_group[name]
            except Exception:  # noqa: BLE001 - the original error is the one to raise
                pass
        raise
    if verbose:
        print(f"write_recording_to_zarr: {recording.get_total_samples():,} samples in {num_segments} array(s)")


def _new_array(group, name: str, created: list, **kwargs):
    """An array created in ``group`` (its name appended to ``created``), set to store every chunk."""
    array = create_array(group, name, **kwargs)
    created.append(name)
    return writing_all_chunks(array)
