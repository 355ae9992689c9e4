"""WaveformExtractor in a ``.zarr`` folder (zarr format 2: zarr-python 2.18 and 3 both read it).

Layout (root group):

- attrs ``params``, ``rec_attributes`` (probegroup as a probeinterface dict), ``sparsity``
  (sparsity.json layout or None), ``selected_indices`` (into the sorting's spike vector),
  ``unit_ids``, ``recording`` / ``sorting`` (extractor dicts, paths relative to the folder,
  when dumpable), ``gpuspike_zarr_waveforms_version``;
- arrays ``waveforms_<unit>`` (num_spikes, nsamples, channels), ``sampled_index_<unit>``
  (int64 (num_spikes, 2): spike index within the unit's train, segment index),
  ``templates_<mode>`` (num_units, nsamples, num_channels);
- arrays ``sorting_spikes`` (int64 (num_spikes, 3): sample, unit, segment) and
  ``sorting_num_samples`` when the sorting is not dumpable, so the folder is self-contained.

The folder is written under a temporary name and renamed at the end (``atomic_folder``).
"""
from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from .atomic import atomic_folder
from .base import _from_jsonable, _jsonable
from .zarrrecording import create_array, get_default_zarr_compressor, open_group

_VERSION = 1


class _LazyZarrWaveforms(Mapping):
    """{unit_id: waveforms} read from the zarr group on access."""

    def __init__(self, root, unit_ids, folder: Path | None = None) -> None:
        self._root = root
        self._unit_ids = list(unit_ids)
        self._folder = folder

    def __getitem__(self, unit_id):
        if unit_id not in self._unit_ids:
            raise KeyError(unit_id)
        return _safe_array(self._root, f"waveforms_{unit_id}", self._folder)[...]

    def __iter__(self):
        return iter(self._unit_ids)

    def __len__(self) -> int:
        return len(self._unit_ids)


def _safe_array(root, name: str, folder: Path | None = None):
    from .errors import CorruptFolderError
    from .folder_safety import check_zarr_array

    where = f"array {name!r} of the waveforms folder" + ("" if folder is None else f" {str(folder)!r}")
    try:
        array = root[name]
    except Exception as err:
        raise CorruptFolderError(f"{where} cannot be opened ({type(err).__name__}: {err})") from None
    return check_zarr_array(array, where)


def _chunks(shape: tuple) -> tuple:
    return tuple(max(1, int(s)) for s in shape)


def _write(root, name: str, data: np.ndarray, compressor) -> None:
    data = np.ascontiguousarray(data)
    create_array(root, name, data=data, chunks=_chunks(data.shape), compressor=compressor)


def save_waveforms_zarr(we, folder: str | Path, overwrite: bool = False) -> Path:
    """Write ``we`` to the ``.zarr`` folder ``folder`` (atomically).

    Parameters
    ----------
    we : WaveformExtractor
    folder : str or Path
        Target folder (conventionally ending in ``.zarr``).
    overwrite : bool
        Replace an existing folder (only once the new one is complete).

    Returns
    -------
    Path
        The absolute folder.
    """
    from .folder_safety import check_unit_ids_for_files

    check_unit_ids_for_files(we.unit_ids)
    folder = Path(folder).absolute()
    compressor = get_default_zarr_compressor()
    rec_attributes = {k: v for k, v in we._rec_attributes.items() if k != "probegroup"}
    probegroup = we._rec_attributes.get("probegroup")
    attrs = {
        "gpuspike_zarr_waveforms_version": _VERSION,
        "params": _jsonable(we._params),
        "rec_attributes": _jsonable(rec_attributes),
        "probegroup": None if probegroup is None else probegroup.to_dict(array_as_list=True),
        "sparsity": None if not we.is_sparse() else we.sparsity.to_dict(),
        "selected_indices": np.asarray(we._selected_indices, dtype="int64").tolist(),
        "unit_ids": _jsonable(we.unit_ids),
        "has_waveforms": bool(we.has_waveforms()),
        "templates": sorted(we._template_cache),
    }
    if we._recording is not None and we._recording.is_dumpable:
        attrs["recording"] = we._recording.to_dict(relative_to=folder, recursive=True)
    sorting = we.sorting
    if sorting.is_dumpable:
        attrs["sorting"] = sorting.to_dict(relative_to=folder, recursive=True)
    with atomic_folder(folder, overwrite=overwrite) as tmp:
        root = open_group(tmp, mode="w")
        if not sorting.is_dumpable:
            spikes = sorting.to_spike_vector()
            packed = np.stack([spikes["sample_index"], spikes["unit_index"], spikes["segment_index"]],
                              axis=1).astype("int64").reshape(-1, 3)
            _write(root, "sorting_spikes", packed, compressor)
            attrs["sorting_num_samples"] = [int(sorting.get_num_samples(i)) for i in range(sorting.get_num_segments())]
            attrs["sorting_sampling_frequency"] = float(sorting.sampling_frequency)
        if we.has_waveforms():
            for unit_id in we.unit_ids.tolist():
                _write(root, f"waveforms_{unit_id}", np.asarray(we.get_waveforms(unit_id)), compressor)
                sampled = we.get_sampled_indices(unit_id)
                pairs = np.stack([sampled["spike_index"], sampled["segment_index"]], axis=1).astype("int64")
                _write(root, f"sampled_index_{unit_id}", pairs.reshape(-1, 2), compressor)
        for key, templates in we._template_cache.items():
            _write(root, f"templates_{key}", np.asarray(templates), compressor)
        root.attrs.update(attrs)
    return folder


def _sorting_from_arrays(root, attrs: dict, folder: Path):
    from .numpyextractors import NumpySorting
    from .sorting import spike_dtype

    packed = np.asarray(_safe_array(root, "sorting_spikes", folder)[...], dtype="int64").reshape(-1, 3)
    spikes = np.zeros(packed.shape[0], dtype=spike_dtype)
    spikes["sample_index"], spikes["unit_index"], spikes["segment_index"] = packed.T
    unit_ids = np.asarray(_from_jsonable(attrs["unit_ids"]))
    num_segments = len(attrs.get("sorting_num_samples") or [None])
    times, labels = [], []
    for seg in range(num_segments):
        s = spikes[spikes["segment_index"] == seg]
        times.append(s["sample_index"])
        labels.append(unit_ids[s["unit_index"]])
    return NumpySorting.from_times_labels(times, labels, attrs["sorting_sampling_frequency"], unit_ids=unit_ids)


def load_waveforms_zarr(folder: str | Path, with_recording: bool = True, sorting=None):
    """Open a WaveformExtractor written by :func:`save_waveforms_zarr`.

    Parameters
    ----------
    folder : str or Path
        The ``.zarr`` folder.
    with_recording : bool
        Try to load the recording (if it moved, the extractor still works without it).
    sorting : BaseSorting, optional
        Use this sorting instead of the saved one.
    """
    import probeinterface

    from .errors import CorruptFolderError
    from .loading import load
    from .sparsity import ChannelSparsity
    from .waveforms import WaveformExtractor

    from .folder_safety import check_zarr_folder

    folder = Path(folder).absolute()
    if not folder.is_dir():
        raise FileNotFoundError(f"folder {str(folder)!r} does not exist")
    check_zarr_folder(folder, "waveforms folder")
    try:
        root = open_group(folder, mode="r")
        attrs = dict(root.attrs)
    except Exception as err:
        raise CorruptFolderError(f"{folder} is not a zarr group ({err})") from err
    if "params" not in attrs:
        raise CorruptFolderError(f"{folder} is not a gpuspike zarr waveforms folder (no 'params' attribute)")
    params = _from_jsonable(attrs["params"])
    rec_attributes = _from_jsonable(attrs["rec_attributes"])
    rec_attributes["channel_ids"] = np.asarray(rec_attributes["channel_ids"])
    rec_attributes["probegroup"] = (None if attrs.get("probegroup") is None
                                    else probeinterface.ProbeGroup.from_dict(attrs["probegroup"]))
    sparsity = None if attrs.get("sparsity") is None else ChannelSparsity.from_dict(attrs["sparsity"])
    recording = None
    if with_recording and attrs.get("recording") is not None:
        try:
            recording = load(attrs["recording"], base_folder=folder)
        except (OSError, ValueError, KeyError) as err:
            warnings.warn(f"the recording of {folder} could not be loaded ({err}); continuing without it")
    if sorting is None:
        if attrs.get("sorting") is not None:
            sorting = load(attrs["sorting"], base_folder=folder)
        elif "sorting_spikes" in root:
            sorting = _sorting_from_arrays(root, attrs, folder)
        else:
            raise CorruptFolderError(f"{folder} holds no sorting: give sorting=")
    saved_ids = np.asarray(_from_jsonable(attrs["unit_ids"]))
    if not np.array_equal(np.asarray(sorting.unit_ids), saved_ids):
        raise ValueError(f"sorting.unit_ids {sorting.unit_ids.tolist()} differ from the saved unit ids "
                         f"{saved_ids.tolist()}")
    from .folder_safety import check_file_name, check_unit_ids_for_files

    check_unit_ids_for_files(sorting.unit_ids)
    selected = np.asarray(attrs["selected_indices"], dtype="int64")
    waveforms = _LazyZarrWaveforms(root, sorting.unit_ids.tolist(), folder) if attrs.get("has_waveforms") else None
    templates = {key: np.asarray(_safe_array(root, f"templates_{check_file_name(key, 'template mode')}", folder)[...])
                 for key in attrs.get("templates", [])}
    return WaveformExtractor(recording, sorting, params, rec_attributes, selected, waveforms, sparsity, folder,
                             templates, format="zarr")
