"""npz / npy formats: sortings (npz file, npz folder, numpy folder), snippets (npy folder), events (npz folder).

The sorting and snippets layouts are SpikeInterface's, so either library loads the other's folders.
"""
from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Sequence

import numpy as np

from .argnames import accepts_aliases
from .atomic import atomic_folder
from .errors import CorruptFolderError
from .event import BaseEvent
from .loading import (check_folder, load_annotations_from_folder, load_probe_from_folder,
                      load_folder_properties, read_class_json, read_json)
from .numpyextractors import (NumpyEventSegment, NumpySnippetsSegment, NumpySortingSegment, check_spike_vector,
                              check_snippet_frames)
from .snippets import BaseSnippets
from .sorting import BaseSorting, BaseSortingSegment, spike_dtype
from .validation import check_trace_dtype, checked_cast


def _load_npz(path: Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise CorruptFolderError(f"npz file {str(path)!r} is missing")
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as err:
        raise CorruptFolderError(f"npz file {str(path)!r} cannot be read ({err}): it is truncated or damaged") from None


def _require(data: dict, key: str, path: Path):
    if key not in data:
        raise CorruptFolderError(f"npz file {str(path)!r} has no {key!r} array")
    return data[key]


# ---------------------------------------------------------------------- sortings
def _spikes_from_indexes_labels(indexes: np.ndarray, labels: np.ndarray, unit_ids: np.ndarray, seg: int,
                                path: Path) -> np.ndarray:
    lookup = {u: i for i, u in enumerate(unit_ids.tolist())}
    try:
        unit_index = np.fromiter((lookup[x] for x in labels.tolist()), dtype="int64", count=len(labels))
    except KeyError as err:
        raise CorruptFolderError(f"{str(path)!r}: spike label {err.args[0]!r} of segment {seg} is not a unit id")
    indexes = np.asarray(indexes)
    whole = indexes.dtype.kind in "iu" or (indexes.dtype.kind == "f" and np.array_equal(indexes, np.round(indexes)))
    if len(indexes) and (not whole or np.min(indexes) < 0):
        raise CorruptFolderError(f"{str(path)!r}: the spike indexes of segment {seg} must be integers >= 0 (found "
                                 f"{indexes.dtype} values such as {indexes[np.argmin(indexes)]})")
    spikes = np.zeros(len(indexes), dtype=spike_dtype)
    spikes["sample_index"] = indexes.astype("int64")
    spikes["unit_index"] = unit_index
    spikes["segment_index"] = seg
    return spikes[np.lexsort((spikes["unit_index"], spikes["sample_index"]))]


class _SpikeVectorSorting(BaseSorting):
    """A sorting built from a spike vector held in memory (read from a file)."""

    def _set_spikes(self, spikes: np.ndarray, num_segments: int, num_samples: Sequence | None = None,
                    ordered: bool = False) -> None:
        if not ordered:
            order = np.lexsort((spikes["unit_index"], spikes["sample_index"], spikes["segment_index"]))
            spikes = spikes[order]
        bounds = np.searchsorted(spikes["segment_index"], np.arange(num_segments + 1))
        for seg in range(num_segments):
            n = None if num_samples is None else int(num_samples[seg])
            self.add_segment(NumpySortingSegment(spikes[bounds[seg]:bounds[seg + 1]], self.unit_ids, n))
        self._cached_spike_vector = spikes


class NpzSortingExtractor(_SpikeVectorSorting):
    """A sorting in one ``.npz`` file (SpikeInterface's keys: ``unit_ids``, ``num_segment``,
    ``sampling_frequency``, ``spike_indexes_seg{i}``, ``spike_labels_seg{i}``).

    Parameters
    ----------
    file_path : str or Path
    """

    def __init__(self, file_path) -> None:
        file_path = Path(file_path).absolute()
        data = _load_npz(file_path)
        unit_ids = _require(data, "unit_ids", file_path)
        num_segments = int(np.asarray(_require(data, "num_segment", file_path)).ravel()[0])
        sampling_frequency = float(np.asarray(_require(data, "sampling_frequency", file_path)).ravel()[0])
        super().__init__(sampling_frequency, unit_ids)
        parts = []
        for seg in range(num_segments):
            indexes = np.asarray(_require(data, f"spike_indexes_seg{seg}", file_path))
            labels = np.asarray(_require(data, f"spike_labels_seg{seg}", file_path))
            if len(indexes) != len(labels):
                raise CorruptFolderError(f"{str(file_path)!r}: segment {seg} has {len(indexes)} spike indexes "
                                         f"but {len(labels)} labels")
            parts.append(_spikes_from_indexes_labels(indexes, labels, self.unit_ids, seg, file_path))
        spikes = np.concatenate(parts) if parts else np.zeros(0, spike_dtype)
        num_samples = data.get("num_samples")
        self._set_spikes(spikes, num_segments, None if num_samples is None else num_samples.tolist())
        self._kwargs = {"file_path": str(file_path)}

    @staticmethod
    def write_sorting(sorting: BaseSorting, save_path) -> Path:
        """Write ``sorting`` to one ``.npz`` file (spikes sorted by frame in each segment)."""
        save_path = Path(save_path)
        spikes = sorting.to_spike_vector()
        unit_ids = np.asarray(sorting.unit_ids)
        d = {"unit_ids": unit_ids, "num_segment": np.array([sorting.get_num_segments()], dtype="int64"),
             "sampling_frequency": np.array([sorting.sampling_frequency], dtype="float64")}
        bounds = np.searchsorted(spikes["segment_index"], np.arange(sorting.get_num_segments() + 1))
        for seg in range(sorting.get_num_segments()):
            part = spikes[bounds[seg]:bounds[seg + 1]]
            d[f"spike_indexes_seg{seg}"] = part["sample_index"].astype("int64")
            d[f"spike_labels_seg{seg}"] = unit_ids[part["unit_index"]] if len(part) else np.zeros(0, unit_ids.dtype)
        lengths = _known_num_samples(sorting)
        if lengths is not None:
            d["num_samples"] = np.asarray(lengths, dtype="int64")
        with open(save_path, "wb") as f:
            np.savez(f, **d)
        return save_path


def _known_num_samples(sorting) -> list | None:
    lengths = []
    for seg in range(sorting.get_num_segments()):
        if sorting.has_recording():
            lengths.append(sorting.get_num_samples(seg))
        else:
            n = sorting._segments[seg].get_num_samples()
            if n is None:
                return None
            lengths.append(int(n))
    return lengths


def read_npz(file_path) -> NpzSortingExtractor:
    """Read a sorting ``.npz`` file (see :class:`NpzSortingExtractor`).

    Parameters
    ----------
    file_path : str or Path
        The ``.npz`` file.

    Returns
    -------
    NpzSortingExtractor
    """
    return NpzSortingExtractor(file_path)


read_npz_sorting = read_npz


class NpzFolderSorting(NpzSortingExtractor):
    """A sorting folder: ``sorting_cached.npz`` + ``npz.json`` + ``properties/`` (+ annotations, provenance).

    Parameters
    ----------
    folder_path : str or Path
    """

    #: SpikeInterface's fixed name of this class (shown by ``repr``)
    name = "npzfolder"
    mode = "folder"

    def __init__(self, folder_path) -> None:
        folder_path = check_folder(Path(folder_path), "NpzFolderSorting").absolute()
        d = read_class_json(folder_path, "npz.json", ".NpzSortingExtractor")
        NpzSortingExtractor.__init__(self, **d["kwargs"])
        load_folder_properties(folder_path, self)
        load_annotations_from_folder(folder_path, self)
        self._kwargs = {"folder_path": str(folder_path)}

    @staticmethod
    @accepts_aliases(save_path="folder_path")
    def write_sorting(sorting: BaseSorting, folder_path, overwrite: bool = False) -> "NpzFolderSorting":
        """Write an npz sorting folder atomically and return it (``folder_path`` is also taken as
        ``save_path=``, SpikeInterface 0.105's name)."""
        from .saving import SI_NPZ_CLASS, SI_NPZ_FOLDER_CLASS, foreign_dict, write_json, write_metadata

        with atomic_folder(folder_path, overwrite=overwrite) as tmp:
            NpzSortingExtractor.write_sorting(sorting, tmp / "sorting_cached.npz")
            write_metadata(tmp, sorting, probe_file=None)
            write_json(tmp / "npz.json", foreign_dict(SI_NPZ_CLASS, {"file_path": "sorting_cached.npz"}))
            write_json(tmp / "si_folder.json", foreign_dict(SI_NPZ_FOLDER_CLASS, {"folder_path": "."},
                                                            annotations=sorting._annotations))
        return NpzFolderSorting(folder_path)


def read_npz_folder(folder_path) -> NpzFolderSorting:
    """Read an npz sorting folder (written by gpuspike or SpikeInterface).

    Parameters
    ----------
    folder_path : str or Path
        The folder.

    Returns
    -------
    NpzFolderSorting
    """
    return NpzFolderSorting(folder_path)


class NumpyFolderSorting(_SpikeVectorSorting):
    """SpikeInterface's default sorting folder: ``spikes.npy`` + ``numpysorting_info.json`` + ``properties/``.

    Parameters
    ----------
    folder_path : str or Path
    mmap_mode : {None, "r", "c"}
        None reads the spike vector into memory; "r" (read-only) or "c" (copy on write) maps
        ``spikes.npy`` instead when it holds SpikeInterface's spike dtype in sorted order (it is
        checked in bounded passes; another file is read into memory and sorted).
    """

    #: SpikeInterface's marker of folder-based extractors
    mode = "folder"
    #: SpikeInterface's fixed name of this class (shown by ``repr``)
    name = "NumpyFolder"

    def __init__(self, folder_path, mmap_mode: str | None = None) -> None:
        folder_path = check_folder(Path(folder_path), "NumpyFolderSorting").absolute()
        info = read_json(folder_path / "numpysorting_info.json")
        try:
            sampling_frequency = float(info["sampling_frequency"])
            unit_ids = np.array(info["unit_ids"])
            num_segments = int(info["num_segments"])
        except KeyError as err:
            raise CorruptFolderError(f"{str(folder_path / 'numpysorting_info.json')!r} lacks {err.args[0]!r}") from None
        super().__init__(sampling_frequency, unit_ids)
        spikes_path = folder_path / "spikes.npy"
        if not spikes_path.is_file():
            raise CorruptFolderError(f"{str(spikes_path)!r} is missing")
        _check_mmap_mode(mmap_mode, "NumpyFolderSorting")
        try:
            raw = np.load(spikes_path, allow_pickle=False, mmap_mode=mmap_mode)
        except (ValueError, OSError, EOFError) as err:
            raise CorruptFolderError(f"{str(spikes_path)!r} cannot be read ({err}): truncated or damaged") from None
        if raw.dtype.names is None or not {"sample_index", "unit_index", "segment_index"} <= set(raw.dtype.names):
            raise CorruptFolderError(f"{str(spikes_path)!r} is not a spike vector (dtype {raw.dtype})")
        ordered = False
        if isinstance(raw, np.memmap) and raw.dtype == spike_dtype and raw.ndim == 1:
            try:
                ordered = check_spike_vector(raw, len(unit_ids), num_segments)
            except ValueError as err:
                raise CorruptFolderError(f"{str(spikes_path)!r}: {err}") from None
        if ordered:
            spikes = raw
        else:
            spikes = np.zeros(len(raw), dtype=spike_dtype)
            for name in spike_dtype.names:
                spikes[name] = raw[name]
            try:  # in file order when sorted by segment and sample (simultaneous spikes as they are)
                ordered = check_spike_vector(spikes, len(unit_ids), num_segments)
            except ValueError as err:
                raise CorruptFolderError(f"{str(spikes_path)!r}: {err}") from None
        self._set_spikes(spikes, num_segments, info.get("num_samples"), ordered=ordered)
        load_folder_properties(folder_path, self)
        load_annotations_from_folder(folder_path, self)
        self._kwargs = {"folder_path": str(folder_path), "mmap_mode": mmap_mode}

    @staticmethod
    def write_sorting(sorting: BaseSorting, folder_path, overwrite: bool = False, mmap_mode: str | None = None,
                      relative_to=None) -> "NumpyFolderSorting":
        """Write a numpy sorting folder atomically and return it.

        Parameters
        ----------
        sorting : BaseSorting
        folder_path : str or Path
        overwrite : bool
            Replace a folder gpuspike or SpikeInterface wrote.
        mmap_mode : {None, "r", "c"}
            How the returned sorting (and the folder's ``si_folder.json``) reads the spike vector.
        relative_to : str or Path, optional
            Paths of the stored provenance relative to this folder.

        Returns
        -------
        NumpyFolderSorting
        """
        from .saving import SI_NUMPY_FOLDER_CLASS, foreign_dict, write_json, write_metadata

        _check_mmap_mode(mmap_mode, "NumpyFolderSorting.write_sorting")
        with atomic_folder(folder_path, overwrite=overwrite) as tmp:
            info = {"sampling_frequency": float(sorting.sampling_frequency), "unit_ids": sorting.unit_ids.tolist(),
                    "num_segments": sorting.get_num_segments()}
            lengths = _known_num_samples(sorting)
            if lengths is not None:
                info["num_samples"] = lengths
            write_json(tmp / "numpysorting_info.json", info)
            np.save(tmp / "spikes.npy", sorting.to_spike_vector())
            write_metadata(tmp, sorting, probe_file=None, relative_to=relative_to)
            write_json(tmp / "si_folder.json", foreign_dict(SI_NUMPY_FOLDER_CLASS, {"folder_path": ".",
                                                                                   "mmap_mode": mmap_mode}))
        return NumpyFolderSorting(folder_path, mmap_mode=mmap_mode)


def _check_mmap_mode(mmap_mode, what: str) -> None:
    if mmap_mode not in (None, "r", "c"):
        raise ValueError(f"{what}(mmap_mode={mmap_mode!r}): allowed None, 'r', 'c' (the file is never written)")


def read_numpy_sorting_folder(folder_path, mmap_mode: str | None = None) -> NumpyFolderSorting:
    """Read a numpy sorting folder (SpikeInterface's default ``sorting.save()`` layout).

    Parameters
    ----------
    folder_path : str or Path
        The folder.
    mmap_mode : {None, "r", "c"}
        Read the spike vector into memory (None) or map it (see :class:`NumpyFolderSorting`).

    Returns
    -------
    NumpyFolderSorting
    """
    return NumpyFolderSorting(folder_path, mmap_mode=mmap_mode)


class NpzSortingSegment(BaseSortingSegment):
    """One segment of spikes given as frames and unit labels (SpikeInterface's NPZ segment).

    Parameters
    ----------
    spike_indexes : array-like of int
        The frame of every spike.
    spike_labels : array-like
        The unit id of every spike.
    """

    def __init__(self, spike_indexes, spike_labels) -> None:
        super().__init__()
        self.spike_indexes = np.asarray(spike_indexes)
        self.spike_labels = np.asarray(spike_labels)
        if self.spike_indexes.shape != self.spike_labels.shape or self.spike_indexes.ndim != 1:
            raise ValueError(f"spike_indexes {self.spike_indexes.shape} and spike_labels {self.spike_labels.shape} "
                             "must be 1-D arrays of the same length")
        self._trains = None

    def get_unit_spike_train(self, unit_id, start_frame, end_frame) -> np.ndarray:
        if self._trains is None:
            labels, inverse = np.unique(self.spike_labels, return_inverse=True)
            order = np.argsort(inverse, kind="stable")
            bounds = np.searchsorted(inverse[order], np.arange(len(labels) + 1))
            self._trains = {lab: self.spike_indexes[order[bounds[i]:bounds[i + 1]]]
                            for i, lab in enumerate(labels.tolist())}
        key = unit_id.item() if isinstance(unit_id, np.generic) else unit_id
        train = self._trains.get(key, self.spike_indexes[:0])
        keep = np.ones(train.size, dtype=bool)
        if start_frame is not None:
            keep &= train >= start_frame
        if end_frame is not None:
            keep &= train < end_frame
        return train[keep].astype("int64")


# ---------------------------------------------------------------------- snippets
class NpySnippetsSegment(NumpySnippetsSegment):
    """A segment of snippets read from one ``.npy`` file of (frame, snippet) records."""

    def __init__(self, file) -> None:
        file_path = file
        try:
            data = np.load(file_path, allow_pickle=False)
        except (ValueError, OSError, EOFError) as err:
            raise CorruptFolderError(f"snippets file {str(file_path)!r} cannot be read ({err})") from None
        if data.dtype.names is None or not {"frame", "snippet"} <= set(data.dtype.names):
            raise CorruptFolderError(f"snippets file {str(file_path)!r} lacks the 'frame'/'snippet' fields")
        try:
            frames = check_snippet_frames(data["frame"], f"snippets file {str(file_path)!r}")
        except (TypeError, ValueError) as err:
            raise CorruptFolderError(str(err)) from None
        super().__init__(data["snippet"], frames)


class NpySnippetsExtractor(BaseSnippets):
    """Snippets in ``.npy`` files of records ``(frame int64, snippet (snippet_len, num_channels))``, one per segment.

    Parameters
    ----------
    file_paths : list of str or Path
    sampling_frequency : float
    channel_ids : array-like, optional
    nbefore : int, optional
    gain_to_uV, offset_to_uV : float or array-like, optional
    """

    #: SpikeInterface's fixed name of this class (shown by ``repr``)
    name = "npy"

    def __init__(self, file_paths, sampling_frequency: float, channel_ids: Sequence | None = None,
                 nbefore: int | None = None, gain_to_uV=None, offset_to_uV=None) -> None:
        file_paths = [Path(p) for p in (file_paths if isinstance(file_paths, (list, tuple)) else [file_paths])]
        for path in file_paths:
            if not path.is_file():
                raise CorruptFolderError(f"snippets file {str(path)!r} is missing")
        segments = [NpySnippetsSegment(p) for p in file_paths]
        first = segments[0]._snippets
        if channel_ids is None:
            channel_ids = np.arange(first.shape[2])
        super().__init__(sampling_frequency, nbefore, first.shape[1], channel_ids, first.dtype)
        for segment in segments:
            self.add_segment(segment)
        if gain_to_uV is not None:
            self.set_channel_gains(gain_to_uV)
        if offset_to_uV is not None:
            self.set_channel_offsets(offset_to_uV)
        self._kwargs = {"file_paths": [str(p.absolute()) for p in file_paths], "sampling_frequency": sampling_frequency,
                        "channel_ids": channel_ids, "nbefore": nbefore, "gain_to_uV": gain_to_uV,
                        "offset_to_uV": offset_to_uV}

    @staticmethod
    def write_snippets(snippets: BaseSnippets, file_paths, dtype=None) -> None:
        """Write one ``.npy`` file of (frame, snippet) records per segment."""
        dtype = check_trace_dtype(snippets.get_dtype() if dtype is None else dtype)
        record = np.dtype([("frame", np.int64), ("snippet", dtype, (snippets.snippet_len, snippets.get_num_channels()))])
        for seg, path in enumerate(file_paths):
            arr = np.empty(snippets.get_num_snippets(seg), dtype=record)
            arr["frame"] = snippets.get_frames(segment_index=seg)
            arr["snippet"] = checked_cast(snippets.get_snippets(segment_index=seg), dtype,
                                          f"snippets of segment {seg} saved as dtype={dtype}")
            np.save(path, arr)


class NpyFolderSnippets(NpySnippetsExtractor):
    """A snippets folder (SpikeInterface's ``NpyFolderSnippets`` layout).

    Parameters
    ----------
    folder_path : str or Path
    """

    #: SpikeInterface's fixed name of this class (shown by ``repr``)
    name = "npyfolder"

    def __init__(self, folder_path) -> None:
        folder_path = check_folder(Path(folder_path), "NpyFolderSnippets").absolute()
        d = read_class_json(folder_path, "npy.json", ".NpySnippetsExtractor")
        NpySnippetsExtractor.__init__(self, **d["kwargs"])
        load_probe_from_folder(folder_path, self)
        load_folder_properties(folder_path, self)
        load_annotations_from_folder(folder_path, self)
        self._kwargs = {"folder_path": str(folder_path)}

    @staticmethod
    @accepts_aliases(folder="folder_path")
    def write_snippets(snippets: BaseSnippets, folder_path, dtype=None, overwrite: bool = False) -> "NpyFolderSnippets":
        """Write a snippets folder atomically and return it (``folder_path`` is also taken as ``folder=``,
        SpikeInterface 0.105's name)."""
        from .saving import SI_NPY_SNIPPETS_CLASS, SI_NPY_SNIPPETS_FOLDER_CLASS, foreign_dict, write_json, write_metadata

        with atomic_folder(folder_path, overwrite=overwrite) as tmp:
            names = [f"traces_cached_seg{i}.npy" for i in range(snippets.get_num_segments())]
            NpySnippetsExtractor.write_snippets(snippets, [tmp / n for n in names], dtype=dtype)
            write_metadata(tmp, snippets)
            kwargs = {"file_paths": names, "sampling_frequency": snippets.sampling_frequency,
                      "channel_ids": snippets.channel_ids, "nbefore": snippets.nbefore,
                      "gain_to_uV": snippets.get_channel_gains(), "offset_to_uV": snippets.get_channel_offsets()}
            write_json(tmp / "npy.json", foreign_dict(SI_NPY_SNIPPETS_CLASS, kwargs))
            write_json(tmp / "si_folder.json", foreign_dict(SI_NPY_SNIPPETS_FOLDER_CLASS, {"folder_path": "."}))
        return NpyFolderSnippets(folder_path)


def read_npy_snippets_folder(folder_path) -> NpyFolderSnippets:
    """Read a snippets folder written by ``snippets.save()``.

    Parameters
    ----------
    folder_path : str or Path
        The folder.

    Returns
    -------
    NpyFolderSnippets
    """
    return NpyFolderSnippets(folder_path)


# ---------------------------------------------------------------------- events
class NpzFolderEvent(BaseEvent):
    """Events saved by ``event.save()``: ``events_cached.npz`` (``channel_ids``, ``num_segment``,
    ``events_seg{i}_ch{j}`` structured arrays) + ``si_folder.json`` + ``properties/`` + annotations.

    Parameters
    ----------
    folder_path : str or Path
    """

    def __init__(self, folder_path) -> None:
        folder_path = check_folder(Path(folder_path), "NpzFolderEvent").absolute()
        path = folder_path / "events_cached.npz"
        data = _load_npz(path)
        channel_ids = _require(data, "channel_ids", path)
        num_segments = int(np.asarray(_require(data, "num_segment", path)).ravel()[0])
        segments = [{c: _require(data, f"events_seg{s}_ch{j}", path) for j, c in enumerate(channel_ids.tolist())}
                    for s in range(num_segments)]
        dtypes = {c: segments[0][c].dtype if segments else np.dtype([("time", "float64")])
                  for c in channel_ids.tolist()}
        super().__init__(channel_ids, dtypes)
        for seg in segments:
            self.add_event_segment(NumpyEventSegment(seg))
        load_folder_properties(folder_path, self)
        load_annotations_from_folder(folder_path, self)
        self._kwargs = {"folder_path": str(folder_path)}

    @staticmethod
    def write_event(event: BaseEvent, folder_path, overwrite: bool = False) -> "NpzFolderEvent":
        """Write an events folder atomically and return it."""
        from .saving import write_json, write_metadata

        with atomic_folder(folder_path, overwrite=overwrite) as tmp:
            d = {"channel_ids": np.asarray(event.channel_ids),
                 "num_segment": np.array([event.get_num_segments()], dtype="int64")}
            for s in range(event.get_num_segments()):
                for j, c in enumerate(event.channel_ids.tolist()):
                    d[f"events_seg{s}_ch{j}"] = np.asarray(event.get_events(c, segment_index=s))
            with open(tmp / "events_cached.npz", "wb") as f:
                np.savez(f, **d)
            write_metadata(tmp, event, probe_file=None)
            write_json(tmp / "si_folder.json", {"class": f"{__name__}.NpzFolderEvent", "module": "gpuspike",
                                                "kwargs": {"folder_path": "."}, "annotations": {}, "properties": {},
                                                "relative_paths": True, "dumpable": True})
        return NpzFolderEvent(folder_path)


def read_npz_event_folder(folder_path) -> NpzFolderEvent:
    """Read an events folder written by ``event.save()``.

    Parameters
    ----------
    folder_path : str or Path
        The folder.

    Returns
    -------
    NpzFolderEvent
    """
    return NpzFolderEvent(folder_path)


def read_npy_snippets(file_paths, sampling_frequency: float, channel_ids=None, nbefore: int | None = None,
                      gain_to_uV=None, offset_to_uV=None) -> NpySnippetsExtractor:
    """Read snippets saved as ``.npy`` record files (one per segment); see :class:`NpySnippetsExtractor`.

    Parameters
    ----------
    file_paths : str, Path or list
        One file per segment.
    sampling_frequency : float
    channel_ids : sequence, optional
    nbefore : int, optional
        Samples before the peak in each snippet.
    gain_to_uV, offset_to_uV : float or array, optional
        Scaling to µV.

    Returns
    -------
    NpySnippetsExtractor
    """
    return NpySnippetsExtractor(file_paths, sampling_frequency, channel_ids=channel_ids, nbefore=nbefore,
                                gain_to_uV=gain_to_uV, offset_to_uV=offset_to_uV)
