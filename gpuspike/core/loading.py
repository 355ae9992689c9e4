"""load(): rebuild any saved object from a dict, a JSON file or a saved folder."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .argnames import accepts_aliases
from .base import BaseExtractor, _confine_kwargs_paths, _from_dict, _from_jsonable
from .errors import CorruptFolderError, MissingFolderError
from .leftovers import parse_leftover


def read_json(path: Path) -> dict:
    """Read a JSON file; missing or unreadable files raise :class:`CorruptFolderError` naming it."""
    path = Path(path)
    if not path.is_file():
        raise CorruptFolderError(f"{str(path)!r} is missing: the folder is incomplete or not a saved folder")
    try:
        return json.loads(path.read_text(encoding="utf8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CorruptFolderError(f"{str(path)!r} is not valid JSON ({err}): the file is truncated or damaged") from None


def read_class_json(folder: Path, name: str, suffix: str) -> dict:
    """The dict in ``folder / name`` of an object whose class path ends with ``suffix``, its kwargs a
    dict, with every path it names made absolute and checked to stay inside ``folder``.

    Raises
    ------
    CorruptFolderError
        The file is missing, not JSON, or not such a dict.
    UnsafeFolderError
        A path it names leads outside ``folder``.
    """
    from .folder_safety import check_inside

    json_path = Path(folder) / name
    d = read_json(json_path)
    if not isinstance(d, dict) or not str(d.get("class", "")).endswith(suffix) or not isinstance(d.get("kwargs"), dict):
        found = d.get("class") if isinstance(d, dict) else f"a JSON {type(d).__name__}"
        raise CorruptFolderError(f"{str(json_path)!r} does not describe a {suffix.strip('.')} (class {found!r}, kwargs "
                                 f"as a dict)")
    return _confine_kwargs_paths(d, lambda p: str(check_inside(p, folder, f"path listed in {str(json_path)!r}")))


def check_folder(folder: Path, what: str) -> Path:
    """Raise clear errors for a missing folder, the temporary folder of a save, or a folder whose
    symbolic links lead out of it (:func:`~.folder_safety.check_links_inside`).

    A folder that is missing because an overwrite was killed between its two renames is first
    recovered from its previous copy (with a warning), see :mod:`gpuspike.core.leftovers`.
    """
    folder = Path(folder)
    if not folder.exists():
        from .atomic import prepare_target, resolve_target

        try:
            prepare_target(resolve_target(folder))
        except OSError:
            pass
        if not folder.exists():
            raise MissingFolderError(f"{what}: folder {str(folder)!r} does not exist")
    if not folder.is_dir():
        raise CorruptFolderError(f"{what}: {str(folder)!r} is not a folder")
    leftover = parse_leftover(folder)
    if leftover is not None and leftover.kind == "partial":
        raise CorruptFolderError(
            f"{what}: {str(folder)!r} is the temporary folder of an interrupted save (it was never completed); "
            f"save again"
        )
    if leftover is not None:
        raise CorruptFolderError(
            f"{what}: {str(folder)!r} is the previous copy of {leftover.target.name!r}, kept while an overwrite "
            f"of it ran; load({str(leftover.target)!r}) renames it back if that save was interrupted"
        )
    from .folder_safety import check_links_inside
    from .overwrite_guard import written_by_us

    if written_by_us(folder):  # a saved folder (any other is refused by its reader, unwalked)
        check_links_inside(folder, what)
    return folder


def read_property_files(prop_folder: Path):
    """``(path, values)`` of each property file (``<key>.npy`` / ``<key>.json``) of ``prop_folder``, in
    name order; a pickled file is skipped with a warning (never unpickled).

    Raises
    ------
    CorruptFolderError
        A file that cannot be read.
    """
    from .folder_safety import check_inside, read_property

    prop_folder = Path(prop_folder)
    for path in sorted(list(prop_folder.glob("*.npy")) + list(prop_folder.glob("*.json"))):
        check_inside(path, prop_folder.parent, "property file")
        try:
            values = read_property(path)
        except Exception as err:
            raise CorruptFolderError(f"property file {str(path)!r} cannot be read ({err})") from None
        if values is not None:
            yield path, values


def load_folder_properties(folder: Path, obj) -> None:
    """Set every ``properties/<key>.npy`` of ``folder`` as a property of ``obj`` (dtype kept)."""
    prop_folder = Path(folder) / "properties"
    if not prop_folder.is_dir():
        return
    n = len(obj._main_ids)
    for path, values in read_property_files(prop_folder):
        if values.shape[:1] != (n,):
            raise CorruptFolderError(f"property file {str(path)!r} has {values.shape[:1]} values, expected {n}")
        obj._properties[path.stem] = values


@accepts_aliases(extractor="obj")
def load_annotations_from_folder(folder: Path, obj) -> None:
    """Annotations from ``annotations.json`` (SpikeInterface >= 0.105) or the legacy ``si_folder.json``
    (``obj`` is also taken as ``extractor=``, SpikeInterface 0.105's name)."""
    folder = Path(folder)
    if (folder / "annotations.json").is_file():
        annotations = read_json(folder / "annotations.json")
    elif (folder / "si_folder.json").is_file():
        d = read_json(folder / "si_folder.json")
        annotations = (d.get("annotations") if isinstance(d, dict) else None) or {}
    else:
        return
    if not isinstance(annotations, dict):
        raise CorruptFolderError(f"the annotations of {str(folder)!r} must be a JSON object, got a JSON "
                                 f"{type(annotations).__name__}")
    obj._annotations.update(_from_jsonable(annotations))


def load_probe_from_folder(folder: Path, obj) -> None:
    """Attach the probe of a folder when ``properties/contact_vector.npy`` did not already."""
    if "contact_vector" in obj._properties:
        return
    folder = Path(folder)
    for name, legacy in (("probegroup.json", False), ("probe.json", True)):
        path = folder / name
        if path.is_file():
            from probeinterface import read_probeinterface

            try:
                probegroup = read_probeinterface(path)
            except Exception as err:
                raise CorruptFolderError(f"probe file {str(path)!r} cannot be read ({err})") from None
            attach_probegroup(obj, probegroup, sort_by_wiring=legacy)
            return


def attach_probegroup(obj, probegroup, sort_by_wiring: bool = False) -> None:
    """Attach a probegroup whose contacts are in channel order (SpikeInterface >= 0.105 convention)."""
    from probeinterface import ProbeGroup

    if isinstance(probegroup, dict):
        probegroup = ProbeGroup.from_dict(probegroup)
    arr = probegroup.to_numpy(complete=True)
    if len(arr) != obj.get_num_channels():
        raise CorruptFolderError(f"the probe has {len(arr)} contacts for {obj.get_num_channels()} channels")
    if sort_by_wiring:
        dci = arr["device_channel_indices"]
        order = np.argsort(dci) if np.all(dci >= 0) else np.arange(len(arr))
        probegroup = probegroup.get_slice(order) if not np.array_equal(order, np.arange(len(order))) else probegroup
    # contacts are in channel order (probes may interleave): wire them all at once, contact k to channel k
    probegroup.set_global_device_channel_indices(np.arange(len(arr), dtype="int64"))
    saved = {k: obj._properties[k] for k in ("location", "group") if k in obj._properties}
    obj.set_probegroup(probegroup, in_place=True, check_overlap=False)
    obj._properties.update(saved)


#: the JSON files of a folder written by save(), in the order they are looked for
_EXTRACTOR_JSONS = ("si_folder.json", "binary.json", "npz.json", "npy.json", "cached.json")


def _guess_folder_json(folder: Path) -> Path:
    for name in _EXTRACTOR_JSONS:
        if (folder / name).is_file():
            return folder / name
    raise CorruptFolderError(
        f"folder {str(folder)!r} holds no si_folder.json (nor binary.json, npz.json, npy.json, .zattrs/zarr.json): "
        f"it is not a folder written by save(), or the save did not complete"
    )


def _folder_class_dict(folder: Path, json_path: Path) -> dict:
    name = json_path.name
    if name == "si_folder.json" or name == "cached.json":
        return read_json(json_path)
    folder_class = {"binary.json": "gpuspike.core.binaryfolder.BinaryFolderRecording",
                    "npz.json": "gpuspike.core.npzsorting.NpzFolderSorting",
                    "npy.json": "gpuspike.core.npzsorting.NpyFolderSnippets"}[name]
    return {"class": folder_class, "kwargs": {"folder_path": str(folder)}, "relative_paths": False,
            "annotations": {}, "properties": {}}


def _is_zarr_folder(folder: Path) -> bool:
    return (folder / ".zgroup").is_file() or (folder / "zarr.json").is_file()


def load(file_or_folder_or_dict, base_folder: str | Path | bool | None = None, **kwargs):
    """Load an object from a dict, a ``.json`` file or a folder (SpikeInterface's ``load``).

    - a recording or a sorting from its dict, ``.json`` or ``.pkl`` file, or a folder written by
      ``save()`` (binary, npz / numpy sorting, npy snippets, zarr), by gpuspike or SpikeInterface
      (their JSON names SpikeInterface classes, mapped to gpuspike's with the same arguments);
    - a :class:`SortingAnalyzer` from its folder or ``.zarr`` (``spikeinterface_info``);
    - a :class:`Templates` from its dict (``Templates.to_dict()``) or its ``.zarr``;
    - a :class:`Motion` from its dict (``Motion.to_dict()``) or its folder (``Motion.save()``);
    - a legacy WaveformExtractor folder, as a SortingAnalyzer.

    Parameters
    ----------
    file_or_folder_or_dict : dict, str or Path
        A dict, a ``.json`` file, a ``.pkl`` / ``.pickle`` file of ``dump_to_pickle`` (read as
        plain data: no code runs), a sorting ``.npz`` or a saved folder.
    base_folder : str, Path or bool, optional
        Folder that relative paths of a dict refer to. For a file, defaults to its folder.
    **kwargs
        SpikeInterface's ``load_extensions`` and ``backend_options`` (of an analyzer, passed to
        :func:`load_sorting_analyzer`), ``storage_options`` (None: local files only).

    Returns
    -------
    BaseExtractor, SortingAnalyzer, Templates or Motion

    Raises
    ------
    CorruptFolderError
        A folder or file that is incomplete (interrupted save, missing JSON, truncated data).
    """
    unknown = sorted(set(kwargs) - {"load_extensions", "backend_options", "storage_options"})
    if unknown:
        raise TypeError(f"load(): unknown keyword arguments {unknown}; allowed: base_folder, load_extensions, "
                        "backend_options, storage_options")
    if kwargs.pop("storage_options", None) is not None:
        raise ValueError("load(storage_options=...): remote stores are not supported; copy the folder locally")
    if isinstance(file_or_folder_or_dict, dict):
        d = file_or_folder_or_dict
        if d.get("object") == "Motion":
            from .motion import Motion

            return Motion.from_dict(d)
        if all(k in d for k in ("templates_array", "sampling_frequency", "nbefore")):
            from .template import Templates

            return Templates.from_dict(d)
        return _from_dict(d, None if base_folder is True else base_folder)
    if not isinstance(file_or_folder_or_dict, (str, Path)):
        raise TypeError(f"load() takes a dict, a JSON file or a folder; got {type(file_or_folder_or_dict).__name__}")
    path = Path(file_or_folder_or_dict)
    if path.is_file():
        if path.suffix in (".pkl", ".pickle"):
            from .serialization import load_pickle_dict

            d = load_pickle_dict(path)
            if isinstance(d, BaseExtractor):
                return d
        elif path.suffix != ".json":
            if path.suffix == ".npz":
                from .npzsorting import NpzSortingExtractor

                return NpzSortingExtractor(path)
            raise ValueError(f"load({str(path)!r}): files must be .json, .pkl / .pickle (plain data only) or a "
                             f"sorting .npz")
        else:
            d = read_json(path)
        if isinstance(d, dict) and (d.get("object") == "Motion"
                                    or all(k in d for k in ("templates_array", "sampling_frequency", "nbefore"))):
            return load(d)
        if not isinstance(d, dict) or "class" not in d:
            raise ValueError(f"{str(path)!r} is not the dict of a saved object (no 'class' key)")
        if base_folder is None or base_folder is True:
            base_folder = path.parent
        return _from_dict(d, base_folder, from_file=True)
    folder = check_folder(path, "load")
    kind = _object_in_folder(folder)
    if kind == "SortingAnalyzer":
        from .analyzer_create import load_sorting_analyzer

        return load_sorting_analyzer(folder, **kwargs)
    if kind == "Templates":
        from .template import Templates

        return Templates.from_zarr(folder)
    if kind == "Motion":
        from .motion import Motion

        return Motion.load(folder)
    if kind == "WaveformExtractor":
        from .waveforms_compat import load_waveforms

        return load_waveforms(folder, output="SortingAnalyzer")
    if kind is not None:
        raise ValueError(f"load({str(folder)!r}): the folder holds a SpikeInterface {kind}, which gpuspike does not "
                         "load (its core module has recordings, sortings, snippets, analyzers, templates and motion)")
    if _is_zarr_folder(folder):
        from .zarrrecording import read_zarr

        return read_zarr(folder)
    json_path = _guess_folder_json(folder)
    d = _folder_class_dict(folder, json_path)
    return _from_dict(d, folder, confine=folder)


def _object_in_folder(folder: Path) -> str | None:
    """What a folder holds besides an extractor: ``"SortingAnalyzer"``, ``"Templates"``,
    ``"WaveformExtractor"``, another SpikeInterface object's name, or None (an extractor)."""
    if _is_zarr_folder(folder):
        from .overwrite_guard import zarr_folder_attrs
        from .template import is_templates_folder

        info = zarr_folder_attrs(folder).get("spikeinterface_info")
        if isinstance(info, dict) and info.get("object"):
            return str(info["object"])
        return "Templates" if is_templates_folder(folder) else None
    info_file = folder / "spikeinterface_info.json"
    if info_file.is_file():
        info = read_json(info_file)
        if isinstance(info, dict) and info.get("object"):
            return str(info["object"])
    if (folder / "waveforms").is_dir() and not any((folder / n).is_file() for n in _EXTRACTOR_JSONS):
        return "WaveformExtractor"
    return None


load_extractor = load
