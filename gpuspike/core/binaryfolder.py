"""BinaryFolderRecording: a binary folder written by ``save(format="binary")`` (SpikeInterface's layout).

Layout::

    binary.json              dict of the BinaryRecordingExtractor (relative paths)
    si_folder.json           dict of this folder object ({"folder_path": "."})
    traces_cached_seg{i}.raw traces, time axis first
    times_cached_seg{i}.npy  time vector of segment i (only when it has one)
    properties/<key>.npy     per-channel properties
    annotations.json, provenance.json, probegroup.json
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .binaryrecording import BinaryRecordingExtractor
from .errors import CorruptFolderError
from .loading import (check_folder, load_annotations_from_folder, load_probe_from_folder,
                      load_folder_properties, read_class_json)


class BinaryFolderRecording(BinaryRecordingExtractor):
    """A recording saved with ``save(format="binary")`` (by gpuspike or SpikeInterface).

    Parameters
    ----------
    folder_path : str or Path

    Raises
    ------
    CorruptFolderError
        Missing ``binary.json``, a dtype that is not a numpy dtype, a ``.raw`` file that is
        missing, truncated, or whose size is not a whole number of frames.
    """

    @staticmethod
    def write_recording(recording, folder_path, verbose: bool = False, overwrite: bool = False, dtype=None,
                        **job_kwargs) -> "BinaryFolderRecording":
        """Write ``recording`` as a binary folder (SpikeInterface 0.105's writer behind ``save()``).

        Parameters
        ----------
        recording : BaseRecording
        folder_path : str or Path
        verbose : bool
        overwrite : bool
            Replace a folder gpuspike or SpikeInterface wrote (only once the new one is complete).
        dtype : numpy dtype, optional
            Default: the recording's.
        **job_kwargs

        Returns
        -------
        BinaryFolderRecording
        """
        from .saving import save_recording

        return save_recording(recording, folder=folder_path, format="binary", overwrite=overwrite, verbose=verbose,
                              dtype=dtype, **job_kwargs)

    def __init__(self, folder_path) -> None:
        folder_path = check_folder(Path(folder_path), "BinaryFolderRecording").absolute()
        json_path = folder_path / "binary.json"
        d = read_class_json(folder_path, "binary.json", ".BinaryRecordingExtractor")
        file_paths = d["kwargs"].get("file_paths")
        if isinstance(file_paths, str):
            d["kwargs"]["file_paths"] = file_paths = [file_paths]
        if not isinstance(file_paths, list) or not all(isinstance(p, str) for p in file_paths):
            raise CorruptFolderError(f"{str(json_path)!r}: file_paths={file_paths!r} is not a list of file names")
        kwargs = dict(d["kwargs"])
        try:
            if kwargs.get("dtype") is None:
                raise TypeError
            dtype = np.dtype(kwargs.get("dtype"))
        except TypeError:
            raise CorruptFolderError(f"{str(json_path)!r}: dtype {kwargs.get('dtype')!r} is not a numpy dtype") from None
        recorded = d.get("dtype")
        if recorded is not None and _dtype_or_none(recorded) != dtype:
            raise CorruptFolderError(f"{str(json_path)!r}: kwargs dtype {dtype.str!r} differs from the dtype "
                                     f"{np.dtype(recorded).str!r} the traces were written with (byte order or "
                                     f"type edited): fix the kwargs or save again")
        num_channels = kwargs.get("num_channels", kwargs.get("num_chan"))
        _check_raw_files(json_path, kwargs.get("file_paths"), dtype, num_channels, int(kwargs.get("file_offset", 0)),
                         d.get("num_samples"))
        try:
            BinaryRecordingExtractor.__init__(self, **kwargs)
        except (TypeError, ValueError) as err:
            if isinstance(err, CorruptFolderError):
                raise
            raise CorruptFolderError(f"{str(json_path)!r} holds invalid arguments: {err}") from None
        load_probe_from_folder(folder_path, self)
        load_folder_properties(folder_path, self)
        load_annotations_from_folder(folder_path, self)
        for i, segment in enumerate(self._segments):
            time_file = folder_path / f"times_cached_seg{i}.npy"
            if time_file.is_file():
                try:
                    times = np.load(time_file)
                except Exception as err:
                    raise CorruptFolderError(f"time file {str(time_file)!r} cannot be read ({err})") from None
                if times.shape != (segment.get_num_samples(),):
                    raise CorruptFolderError(f"time file {str(time_file)!r} has shape {times.shape}, expected "
                                             f"({segment.get_num_samples()},)")
                segment.time_vector = times
                segment.t_start = None
        self._kwargs = {"folder_path": str(folder_path)}


def _dtype_or_none(value):
    try:
        return np.dtype(value)
    except TypeError:
        return None


def _check_raw_files(json_path: Path, file_paths, dtype: np.dtype, num_channels, file_offset: int,
                     num_samples) -> None:
    if not file_paths:
        raise CorruptFolderError(f"{str(json_path)!r} lists no file_paths")
    if not isinstance(num_channels, int) or num_channels < 1:
        raise CorruptFolderError(f"{str(json_path)!r}: num_channels={num_channels!r} is not a positive int")
    frame = num_channels * dtype.itemsize
    if num_samples is not None and len(num_samples) != len(file_paths):
        raise CorruptFolderError(f"{str(json_path)!r} gives num_samples for {len(num_samples)} segments but lists "
                                 f"{len(file_paths)} files")
    for i, path in enumerate(file_paths):
        path = Path(path)
        if not path.is_file():
            raise CorruptFolderError(f"traces file {str(path)!r} (segment {i}) listed in {str(json_path)!r} is missing")
        size = path.stat().st_size - file_offset
        if size < 0 or size % frame:
            raise CorruptFolderError(
                f"traces file {str(path)!r} has {size + file_offset} bytes, not a whole number of {frame}-byte "
                f"frames ({num_channels} channels of {dtype}): the file is truncated or the dtype is wrong"
            )
        if num_samples is not None and size // frame != int(num_samples[i]):
            raise CorruptFolderError(
                f"traces file {str(path)!r} holds {size // frame} samples of {dtype} but {str(json_path)!r} "
                f"says {num_samples[i]}: the file is truncated or the dtype is wrong"
            )


def read_binary_folder(folder_path) -> BinaryFolderRecording:
    """Open a binary folder written by ``save(format="binary")`` (gpuspike or SpikeInterface).

    Parameters
    ----------
    folder_path : str or Path

    Returns
    -------
    BinaryFolderRecording
    """
    return BinaryFolderRecording(folder_path)
