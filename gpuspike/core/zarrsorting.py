"""ZarrSortingExtractor: a sorting's spike vector in a zarr folder (SpikeInterface's layout).

Layout: root attrs ``sampling_frequency``, ``num_segments``, ``provenance``, ``annotations``,
``zarr_class_info``; arrays ``unit_ids``, ``spikes/sample_index``, ``spikes/unit_index``,
``spikes/segment_slices`` ((num_segments, 2) start / end in the spike vector),
``spikes/sample_index_chunk_firsts``; group ``properties/<key>``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .atomic import atomic_folder
from .errors import CorruptFolderError
from .folder_safety import check_zarr_array, check_zarr_folder, check_zarr_key
from .loading import check_folder
from .numpyextractors import NumpySortingSegment, _check_spike_vector
from .sorting import BaseSorting, spike_dtype
from .zarrrecording import (check_group_takes_numcodecs, checked_zarr_attrs, create_array,
                            get_default_zarr_compressor, open_group)

SI_ZARR_SORTING_CLASS = "spikeinterface.core.zarrextractors.ZarrSortingExtractor"


def _check_segment_slices(slices: np.ndarray, num_segments: int, num_samples: int, num_labels: int,
                          folder_path: Path) -> None:
    """``sample_index`` and ``unit_index`` have one value per spike, and ``segment_slices`` split
    ``[0, num spikes)`` into ``num_segments`` consecutive ranges."""
    where = f"{str(folder_path)!r}: the zarr spike vector is damaged"
    if num_samples != num_labels:
        raise CorruptFolderError(f"{where} (sample_index has {num_samples} values, unit_index {num_labels})")
    if slices.shape != (num_segments, 2):
        raise CorruptFolderError(f"{where} (segment_slices has shape {slices.shape}, expected ({num_segments}, 2))")
    ends = slices.ravel()
    if num_segments and (ends[0] != 0 or ends[-1] != num_samples or np.any(np.diff(ends) < 0)
                         or np.any(slices[1:, 0] != slices[:-1, 1])):
        raise CorruptFolderError(f"{where} (segment_slices {slices.tolist()} do not split its {num_samples} spikes "
                                 f"into consecutive segments)")


class ZarrSortingExtractor(BaseSorting):
    """A sorting saved with ``sorting.save(format="zarr")`` by gpuspike or SpikeInterface.

    Parameters
    ----------
    folder_path : str or Path
    storage_options : dict, optional
        Accepted for SpikeInterface compatibility (local folders only).
    zarr_group : str, optional
        The group holding the sorting, when not the root.
    lazy_spike_vector : bool
        Accepted for SpikeInterface compatibility (the spike vector is read into memory).
    """

    def __init__(self, folder_path, storage_options: dict | None = None, zarr_group: str | None = None,
                 lazy_spike_vector: bool = False) -> None:
        folder_path = check_folder(Path(folder_path), "ZarrSortingExtractor").absolute()
        check_zarr_folder(folder_path, "zarr sorting folder")
        root = open_group(folder_path, "r")
        if zarr_group is not None:
            root = root[zarr_group]
        attrs = dict(root.attrs)
        sampling_frequency, num_segments = checked_zarr_attrs(attrs, folder_path)
        try:
            unit_ids = np.asarray(_safe(root, "unit_ids", folder_path)[:])
            spikes_group = root["spikes"]
            slices = np.asarray(_safe(spikes_group, "segment_slices", folder_path)[:], dtype="int64").reshape(-1, 2)
            samples = np.asarray(_safe(spikes_group, "sample_index", folder_path)[:], dtype="int64")
            units = np.asarray(_safe(spikes_group, "unit_index", folder_path)[:], dtype="int64")
        except KeyError as err:
            raise CorruptFolderError(f"{str(folder_path)!r}: zarr array {err} is missing: not a zarr sorting "
                                     f"folder, or an incomplete one") from None
        super().__init__(sampling_frequency, unit_ids)
        _check_segment_slices(slices, num_segments, samples.size, units.size, folder_path)
        spikes = np.zeros(samples.size, dtype=spike_dtype)
        spikes["sample_index"], spikes["unit_index"] = samples, units
        for seg, (start, end) in enumerate(slices):
            spikes["segment_index"][start:end] = seg
        try:  # the values checked, and the order a sorting keeps (written sorted; sorted here if not)
            spikes = _check_spike_vector(spikes, len(unit_ids))
        except ValueError as err:
            raise CorruptFolderError(f"{str(folder_path)!r}: the zarr spike vector is damaged ({err})") from None
        bounds = np.searchsorted(spikes["segment_index"], np.arange(num_segments + 1))
        for seg in range(num_segments):
            self.add_segment(NumpySortingSegment(spikes[bounds[seg]:bounds[seg + 1]], self.unit_ids))
        self._cached_spike_vector = spikes
        if "properties" in root:
            for key in root["properties"]:
                self._properties[key] = np.asarray(_safe(root["properties"], key, folder_path)[:])
        from .base import _from_jsonable

        self._annotations.update(_from_jsonable(attrs.get("annotations") or {}))
        self._kwargs = {"folder_path": str(folder_path), "storage_options": storage_options,
                        "zarr_group": zarr_group, "lazy_spike_vector": lazy_spike_vector}

    @staticmethod
    def write_sorting(sorting: BaseSorting, folder_path, overwrite: bool = False,
                      storage_options: dict | None = None, compressor="default", **kwargs) -> "ZarrSortingExtractor":
        """Write ``sorting`` to a ``.zarr`` folder (atomically) and return it.

        Parameters
        ----------
        sorting : BaseSorting
        folder_path : str or Path
            ``.zarr`` is appended when missing.
        overwrite : bool
        storage_options : dict, optional
            Accepted for SpikeInterface compatibility (local folders only).
        compressor : numcodecs codec or None
            Default Blosc zstd with bit shuffle (spike vector fields, with a Delta filter).
        **kwargs
            Job kwargs (unused: the spike vector is written at once).

        Returns
        -------
        ZarrSortingExtractor
        """
        folder_path = Path(folder_path)
        if folder_path.suffix != ".zarr":
            folder_path = folder_path.with_name(folder_path.name + ".zarr")
        with atomic_folder(folder_path, overwrite=overwrite) as tmp:
            root = open_group(tmp, "w")
            root.attrs.update({"zarr_class_info": {"class": SI_ZARR_SORTING_CLASS, "module": "spikeinterface"}})
            write_sorting_to_group(sorting, root, compressor=compressor)
        return ZarrSortingExtractor(folder_path)


def write_sorting_to_group(sorting: BaseSorting, group, compressor="default", relative_to=None) -> None:
    """Write ``sorting`` into an open zarr group in SpikeInterface's layout (``unit_ids``, ``spikes/``,
    ``properties/``; attributes ``sampling_frequency``, ``num_segments``, ``provenance``, ``annotations``).

    Parameters
    ----------
    sorting : BaseSorting
    group : zarr.Group
        An empty group (format 2).
    compressor : numcodecs codec, "default" or None
        Of the spike vector fields (with a Delta filter); default Blosc zstd with bit shuffle.
    relative_to : str or Path, optional
        Paths of the provenance relative to this folder.
    """
    from numcodecs import Delta

    if compressor == "default":
        compressor = get_default_zarr_compressor()
    spikes = sorting.to_spike_vector()
    num_segments = sorting.get_num_segments()
    provenance = sorting.to_dict(relative_to=relative_to, recursive=True) if sorting.is_dumpable else None
    group.attrs.update({"sampling_frequency": float(sorting.sampling_frequency),
                        "num_segments": int(num_segments), "provenance": provenance})
    create_array(group, "unit_ids", data=np.asarray(sorting.unit_ids))
    spikes_group = group.create_group("spikes")
    for field in ("sample_index", "unit_index"):
        values = np.ascontiguousarray(spikes[field])
        create_array(spikes_group, field, data=values, compressor=compressor, filters=[Delta(dtype=values.dtype)])
    bounds = np.searchsorted(spikes["segment_index"], np.arange(num_segments + 1))
    create_array(spikes_group, "segment_slices", data=np.stack([bounds[:-1], bounds[1:]], axis=1).astype("int64"))
    chunk = spikes_group["sample_index"].chunks[0] or 1
    create_array(spikes_group, "sample_index_chunk_firsts",
                 data=np.asarray(spikes["sample_index"][::chunk], dtype="int64"))
    add_properties_and_annotations(group, sorting)


def add_properties_and_annotations(zarr_group, recording_or_sorting) -> None:
    """Write the properties of ``recording_or_sorting`` (a ``properties`` group, one array per key)
    and its annotations (the ``annotations`` attribute) into an open zarr group (SpikeInterface
    0.105's helper). Properties of Python objects are not written (warned), as SpikeInterface.

    Parameters
    ----------
    zarr_group : zarr.Group
        A writable group without a ``properties`` group.
    recording_or_sorting : BaseRecording or BaseSorting

    Returns
    -------
    None
    """
    import warnings

    from .serialization import plain

    keys = [check_zarr_key(key, "property key") for key in recording_or_sorting.get_property_keys()]
    props = zarr_group.create_group("properties")
    for key in keys:
        values = np.asarray(recording_or_sorting.get_property(key))
        if values.dtype.kind == "O":
            warnings.warn(f"Property {key!r} not saved because it is a python Object type", UserWarning,
                          stacklevel=2)
            continue
        create_array(props, key, data=values)
    zarr_group.attrs["annotations"] = plain(recording_or_sorting._annotations)


def _safe(group, name: str, folder_path: Path):
    """Array ``name`` of ``group``, refused before any chunk is decoded when a codec of it unpickles."""
    return check_zarr_array(group[name], f"array {name!r} of zarr sorting {str(folder_path)!r}")


def resolve_zarr_path(folder_path) -> tuple:
    """A zarr folder and the absolute path stored in an extractor's kwargs (SpikeInterface 0.105).

    Parameters
    ----------
    folder_path : str or Path
        A local folder, or a remote location (``s3://...``), returned as it is (gpuspike does not
        open remote stores).

    Returns
    -------
    tuple
        ``(folder_path, folder_path_kwarg)``: a Path and its absolute path as a string, or the
        remote location twice.
    """
    from .core_tools import is_path_remote

    if is_path_remote(folder_path):
        return folder_path, folder_path
    folder_path = Path(folder_path)
    return folder_path, str(folder_path.absolute())


def create_zarr_path_for_write(folder_path, overwrite: bool = False) -> Path:
    """Make the (empty) folder of a new zarr store: ``folder_path`` with the suffix ``.zarr``
    (SpikeInterface 0.105). An existing folder is replaced only with ``overwrite=True`` and only
    when gpuspike or SpikeInterface wrote it.

    Parameters
    ----------
    folder_path : str or Path
    overwrite : bool

    Returns
    -------
    Path
        The folder, created empty.

    Raises
    ------
    FolderExistsError
        The folder exists and ``overwrite=False``.
    RefusedOverwriteError
        ``overwrite=True`` on a folder gpuspike must not replace.
    ValueError
        A remote location (gpuspike writes local folders only).
    """
    import shutil

    from .atomic import resolve_target
    from .core_tools import is_path_remote
    from .errors import FolderExistsError
    from .overwrite_guard import check_replaceable
    from .validation import check_flag

    check_flag(overwrite, "overwrite")
    if is_path_remote(folder_path):
        raise ValueError(f"folder_path={str(folder_path)!r} is remote; gpuspike writes local folders only")
    folder_path = Path(folder_path).with_suffix(".zarr")
    if folder_path.exists():
        if not overwrite:
            raise FolderExistsError(f"Folder {str(folder_path)!r} already exists. Use overwrite=True to overwrite it.")
        target = resolve_target(folder_path)
        check_replaceable(target)
        shutil.rmtree(target)
    folder_path.mkdir(parents=True, exist_ok=False)
    return folder_path


def add_sorting_to_zarr_group(sorting: BaseSorting, zarr_group, relative_to: str | Path | None = None,
                              **kwargs) -> None:
    """Write ``sorting`` into an open zarr group (SpikeInterface 0.105's function; see
    :func:`write_sorting_to_group`), e.g. a sorting inside a larger zarr store, which
    ``ZarrSortingExtractor(folder, zarr_group=...)`` reads back.

    Parameters
    ----------
    sorting : BaseSorting
    zarr_group : zarr.Group
        An empty group (format 2).
    relative_to : str or Path, optional
        Paths of the provenance relative to this folder.
    **kwargs
        ``compressor`` of the spike vector fields (default: Blosc zstd with bit shuffle).

    Returns
    -------
    None
        The arrays and attributes are in ``zarr_group``.
    """
    unknown = sorted(set(kwargs) - {"compressor"})
    if unknown:
        raise TypeError(f"add_sorting_to_zarr_group: unknown keyword arguments {unknown}; allowed: relative_to, "
                        "compressor")
    check_group_takes_numcodecs(zarr_group, "add_sorting_to_zarr_group", "Delta filter", optional=False)
    write_sorting_to_group(sorting, zarr_group, compressor=kwargs.get("compressor", "default"),
                           relative_to=relative_to)


def read_zarr_sorting(folder_path, storage_options: dict | None = None, zarr_group: str | None = None,
                      lazy_spike_vector: bool = False) -> ZarrSortingExtractor:
    """Open a ``.zarr`` sorting folder written by ``sorting.save(format="zarr")``.

    Parameters
    ----------
    folder_path : str or Path
    storage_options : dict, optional
    zarr_group : str, optional
        The group holding the sorting, when not the root.
    lazy_spike_vector : bool
        Accepted for SpikeInterface compatibility (the spike vector is read into memory).

    Returns
    -------
    ZarrSortingExtractor
    """
    return ZarrSortingExtractor(folder_path, storage_options=storage_options, zarr_group=zarr_group,
                                lazy_spike_vector=lazy_spike_vector)
