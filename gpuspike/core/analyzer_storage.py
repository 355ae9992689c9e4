"""Where a SortingAnalyzer keeps its sorting, recording attributes, sparsity and extensions.

Three stores share one interface, chosen once when the analyzer is created or opened:
:class:`MemoryStore` (nothing written), :class:`BinaryFolderStore` and :class:`ZarrStore`, whose
layouts are SpikeInterface 0.105's, so that each library opens the other's folders.

Safety, as everywhere in gpuspike: a new analyzer folder is written under a temporary name and
renamed when complete; an extension is written into a temporary folder next to its final one and
swapped in (the other extensions are never rewritten); nothing is ever unpickled — a pickled
recording provenance or extension entry is left on disk and reported, and arrays are read with
``allow_pickle=False``; a recording provenance is rebuilt only from gpuspike's allow-listed classes.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import warnings
from pathlib import Path
from typing import Iterator

import numpy as np

from . import analyzer_dataframes, recording_tools
from .atomic import atomic_folder, atomic_write_text, prepare_target, target_lock
from .errors import CorruptFolderError
from .folder_safety import check_inside, read_npy
from .leftovers import leftover_name, parse_leftover
from .overwrite_guard import check_no_user_files
from .saving import plain_json

#: files of an extension folder that are not data entries
_EXTENSION_META = ("params.json", "info.json", "run_info.json")
#: the layout version written in ``spikeinterface_info`` (SpikeInterface's, whose layout is followed)
LAYOUT_VERSION = "0.105.3"


@dataclasses.dataclass
class StoredExtension:
    """An extension as read from a folder: ``skipped`` names the entries left on disk unread;
    ``info`` is the class that wrote it (``info.json``), when recorded."""

    params: dict
    run_info: dict | None
    data: dict
    skipped: list
    info: dict | None = None


@dataclasses.dataclass
class StoredAnalyzer:
    """The root of an analyzer folder, as read."""

    settings: dict
    sorting: object
    rec_attributes: dict
    sparsity_mask: np.ndarray | None
    recording: object | None


def _json_default(value):
    converted = plain_json(value)
    if converted is value:
        raise TypeError(f"{type(value).__name__} is not JSON-able")
    return converted


def dumps(value, indent: int | None = 4) -> str:
    """JSON text of ``value`` with arrays as lists (SpikeInterface's encoding)."""
    return json.dumps(plain_json(value), indent=indent, default=_json_default)


def _warn_not_saved(recording, folder) -> None:
    if recording is not None and not recording.is_dumpable:
        warnings.warn(f"the recording is not saved with the analyzer {str(folder)!r}: it lives in memory only "
                      f"(save it first, recording = recording.save(folder=...), to keep the link); reopened, the "
                      f"analyzer serves its extensions and set_temporary_recording() attaches a recording")


def _info(version: str) -> dict:
    return {"version": LAYOUT_VERSION, "dev_mode": False, "object": "SortingAnalyzer",
            "writer": f"gpuspike {version}"}


def rec_attributes_to_json(rec_attributes: dict) -> dict:
    """The JSON form of recording attributes (no probe; plain per-channel properties only)."""
    out = {k: v for k, v in rec_attributes.items() if k not in ("probegroup", "properties")}
    out["channel_ids"] = np.asarray(rec_attributes["channel_ids"]).tolist()
    out["dtype"] = np.dtype(rec_attributes["dtype"]).str if rec_attributes.get("dtype") is not None else None
    properties = {}
    for key, values in (rec_attributes.get("properties") or {}).items():
        values = np.asarray(values)
        if values.dtype.kind in "biufUS" and values.dtype.names is None:
            properties[key] = values.tolist()
    out["properties"] = properties
    return plain_json(out)


def rec_attributes_from_json(d: dict, probegroup) -> dict:
    """Recording attributes read from a folder (arrays restored)."""
    if not isinstance(d, dict) or "channel_ids" not in d:
        raise CorruptFolderError("recording attributes lack 'channel_ids'")
    out = dict(d)
    out["channel_ids"] = np.asarray(d["channel_ids"])
    out["properties"] = {k: np.asarray(v) for k, v in (d.get("properties") or {}).items()}
    if out.get("dtype") is not None:
        out["dtype"] = np.dtype(out["dtype"])
    out["num_samples"] = [int(n) for n in d.get("num_samples", [])]
    out["probegroup"] = probegroup
    return out


def get_rec_attributes(recording) -> dict:
    """What an analyzer keeps of its recording (usable when the recording is gone).

    Parameters
    ----------
    recording : BaseRecording

    Returns
    -------
    dict
        ``channel_ids``, ``sampling_frequency``, ``num_channels``, ``num_samples``, ``is_filtered``,
        ``properties``, ``dtype``, ``probegroup``.
    """
    return {**recording_tools.get_rec_attributes(recording),
            "probegroup": recording.get_probegroup() if recording.has_probe() else None}


def settings_of(settings: dict) -> dict:
    """Settings of an analyzer folder, older ones completed (SpikeInterface's rules)."""
    if not isinstance(settings, dict):
        raise ValueError(f"the analyzer's settings are not a JSON object: {settings!r}")
    out = dict(settings)
    if "return_in_uV" not in out:
        out["return_in_uV"] = out.pop("return_scaled", True)
    else:
        out.pop("return_scaled", None)
    out.setdefault("peak_sign", "both")
    out.setdefault("peak_mode", "extremum")
    return out


def _load_recording(source, folder: Path):
    """The recording rebuilt from its provenance dict/file, or None (with a warning) when it cannot be."""
    from .base import _from_dict
    from .loading import load

    try:
        if isinstance(source, dict):  # read from the folder: no class of one session's memory
            return _from_dict(source, folder, from_file=True)
        return load(source, base_folder=folder)
    except Exception as err:  # a moved or deleted recording: the analyzer works without it
        warnings.warn(f"the recording of the analyzer {str(folder)!r} could not be loaded "
                      f"({type(err).__name__}: {err}); continuing without it (set_temporary_recording() attaches "
                      f"one)")
        return None


@contextlib.contextmanager
def new_version(target: Path, what: str) -> Iterator[Path]:
    """Yield a temporary folder next to ``target`` that replaces it when the block succeeds.

    The previous ``target`` is moved aside first and removed after the swap; a writer killed
    between the two renames leaves the previous copy, which the next write or load renames back.
    A previous ``target`` holding a user's file (one no writer makes) is refused before anything
    is written (``what`` names the request in the message).
    """
    target = Path(target)
    check_no_user_files(target, what)
    target.parent.mkdir(parents=True, exist_ok=True)
    prepare_target(target)
    tmp = target.parent / leftover_name(target.name, "partial")
    tmp.mkdir()
    old = None
    try:
        yield tmp
        with target_lock(target):
            if os.path.lexists(target):
                old = target.parent / leftover_name(target.name, "old")
                os.rename(target, old)
            os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def remove_folder(target: Path, what: str) -> None:
    """Remove ``target``: renamed aside first (so it vanishes at once), then deleted; refused when
    it holds a user's file (``what`` names the request in the message)."""
    target = Path(target)
    if not os.path.lexists(target):
        return
    check_no_user_files(target, what)
    with target_lock(target):
        old = target.parent / leftover_name(target.name, "old")
        os.rename(target, old)
    shutil.rmtree(old, ignore_errors=True)


class MemoryStore:
    """The store of an analyzer kept in memory: nothing is written."""

    format = "memory"

    def __init__(self) -> None:
        self.folder = None
        #: SpikeInterface's ``backend_options["saving_options"]``: ``compressor`` / ``filters`` of zarr arrays
        self.saving_options: dict = {}

    def is_read_only(self) -> bool:
        return False

    def saved_extension_names(self) -> list[str]:
        return []

    def read_extension(self, name: str, lazy: bool = False) -> StoredExtension | None:
        return None

    def write_extension(self, name: str, params: dict, info: dict, run_info: dict, data: dict) -> None:
        return None

    def delete_extension(self, name: str) -> None:
        return None

    def write_sorting_property(self, key: str, values: np.ndarray) -> None:
        return None

    def sorting_provenance(self):
        return None


def check_saving_options(backend_options) -> dict:
    """``backend_options["saving_options"]`` checked: a dict of ``compressor`` (a numcodecs codec or
    None) and ``filters`` (a list of codecs or None), as SpikeInterface passes them to zarr.

    Returns
    -------
    dict
    """
    if backend_options is None:
        return {}
    if not isinstance(backend_options, dict):
        raise TypeError(f"backend_options must be a dict, got {type(backend_options).__name__}")
    options = backend_options.get("saving_options") or {}
    if not isinstance(options, dict):
        raise TypeError(f"backend_options['saving_options'] must be a dict, got {type(options).__name__}")
    unknown = sorted(set(options) - {"compressor", "filters"})
    if unknown:
        raise ValueError(f"backend_options['saving_options'] keys {unknown} are not supported; allowed: "
                         f"['compressor', 'filters']")
    compressor = options.get("compressor")
    if compressor is not None and not hasattr(compressor, "codec_id"):
        raise TypeError(f"saving_options compressor must be a numcodecs codec or None, got {compressor!r}")
    filters = options.get("filters")
    if filters is not None and not all(hasattr(f, "codec_id") for f in filters):
        raise TypeError(f"saving_options filters must be a list of numcodecs codecs, got {filters!r}")
    return dict(options)


class _FolderStore(MemoryStore):
    """What the two folder stores share."""

    def __init__(self, folder: Path, read_only: bool = False) -> None:
        super().__init__()
        self.folder = Path(folder).absolute()
        self._read_only = read_only

    def is_read_only(self) -> bool:
        return self._read_only or not os.access(self.folder, os.W_OK)

    def _extension_folder(self, name: str) -> Path:
        from .folder_safety import check_file_name

        return check_inside(self.folder / "extensions" / check_file_name(name, "extension name"), self.folder,
                            "extension folder")

    def saved_extension_names(self) -> list[str]:
        folder = self.folder / "extensions"
        if not folder.is_dir():
            return []
        names = []
        for sub in sorted(folder.iterdir()):
            if sub.name.startswith(".") or parse_leftover(sub) is not None or not sub.is_dir():
                continue
            if self._has_params(sub):
                names.append(sub.name)
        return names

    def delete_extension(self, name: str) -> None:
        self._check_writable(f"delete the extension {name!r}")
        remove_folder(self._extension_folder(name), f"delete the extension {name!r}")
        self._after_extension_change()

    def _check_writable(self, what: str) -> None:
        if self.is_read_only():
            raise PermissionError(f"cannot {what}: the analyzer folder {str(self.folder)!r} is read-only")

    def _after_extension_change(self) -> None:
        pass


class BinaryFolderStore(_FolderStore):
    """SpikeInterface's ``binary_folder`` layout: JSON files, ``.npy`` arrays, ``extensions/<name>/``."""

    format = "binary_folder"

    @classmethod
    def create(cls, folder: Path, sorting, recording, rec_attributes: dict, sparsity_mask, settings: dict,
               overwrite: bool = False, provenance=None) -> "BinaryFolderStore":
        """Write a new analyzer folder (atomically) and return its store.

        Parameters
        ----------
        folder : Path
        sorting : BaseSorting
            Written as SpikeInterface's numpy sorting folder (``sorting/``), properties included.
        recording : BaseRecording or None
            Its provenance is written (``recording.json``) when it can be rebuilt from disk.
        rec_attributes : dict
        sparsity_mask : np.ndarray or None
        settings : dict
        overwrite : bool
            Replace an existing analyzer folder (only one gpuspike or SpikeInterface wrote).
        provenance : BaseSorting, optional
            The original sorting, when it can be rebuilt from disk (``sorting/provenance.json``).

        Returns
        -------
        BinaryFolderStore
        """
        from .. import __version__
        from .npzsorting import NumpyFolderSorting

        final = Path(folder).absolute()
        with atomic_folder(folder, overwrite=overwrite) as tmp:
            atomic_write_text(tmp / "spikeinterface_info.json", dumps(_info(__version__)))
            atomic_write_text(tmp / "settings.json", dumps(settings))
            NumpyFolderSorting.write_sorting(sorting, tmp / "sorting")
            if provenance is not None and provenance.is_dumpable:
                provenance_dict = provenance.to_dict(relative_to=final, recursive=True)
                atomic_write_text(tmp / "sorting" / "provenance.json", dumps(provenance_dict))
            if sparsity_mask is not None:
                np.save(tmp / "sparsity_mask.npy", np.asarray(sparsity_mask, dtype=bool))
            if recording is not None and recording.is_dumpable:
                atomic_write_text(tmp / "recording.json", dumps(recording.to_dict(relative_to=final, recursive=True)))
            _warn_not_saved(recording, folder)
            info = tmp / "recording_info"
            info.mkdir()
            atomic_write_text(info / "recording_attributes.json", dumps(rec_attributes_to_json(rec_attributes)))
            if rec_attributes.get("probegroup") is not None:
                import probeinterface

                probeinterface.write_probeinterface(info / "probegroup.json", rec_attributes["probegroup"])
            (tmp / "extensions").mkdir()
        return cls(folder)

    @staticmethod
    def is_analyzer_folder(folder: Path) -> bool:
        folder = Path(folder)
        return (folder / "settings.json").is_file() and (folder / "sorting").is_dir() and \
            (folder / "recording_info" / "recording_attributes.json").is_file()

    def read(self, with_recording: bool = True, lazy: bool = False) -> StoredAnalyzer:
        """The analyzer's root: settings, sorting, recording attributes, sparsity, recording. ``lazy``: the
        sorting's spike vector stays mapped from ``sorting/spikes.npy`` (read-only)."""
        from .loading import read_json
        from .npzsorting import NumpyFolderSorting
        from .numpyextractors import NumpySorting

        folder = self.folder
        if not self.is_analyzer_folder(folder):
            raise CorruptFolderError(f"{str(folder)!r} is not a SortingAnalyzer binary folder (settings.json, "
                                     f"sorting/ and recording_info/recording_attributes.json are required)")
        settings = read_json(folder / "settings.json")
        check_inside(folder / "sorting", folder, "sorting folder")
        sorting = NumpySorting.from_sorting(NumpyFolderSorting(folder / "sorting", mmap_mode="r" if lazy else None),
                                            with_metadata=True, copy_spike_vector=not lazy)
        probegroup = None
        probe_file = folder / "recording_info" / "probegroup.json"
        if probe_file.is_file():
            import probeinterface

            probegroup = probeinterface.read_probeinterface(probe_file)
        rec_attributes = rec_attributes_from_json(read_json(folder / "recording_info" / "recording_attributes.json"),
                                                  probegroup)
        mask = None
        if (folder / "sparsity_mask.npy").is_file():
            mask = read_npy(folder / "sparsity_mask.npy").astype(bool)
        recording = None
        if with_recording:
            if (folder / "recording.json").is_file():
                recording = _load_recording(folder / "recording.json", folder)
            elif (folder / "recording.pickle").is_file():
                warnings.warn(f"the recording of the analyzer {str(folder)!r} is stored as a pickle "
                              f"(recording.pickle), which gpuspike never loads (unpickling runs code); continuing "
                              f"without it (set_temporary_recording() attaches one)")
        return StoredAnalyzer(settings, sorting, rec_attributes, mask, recording)

    @staticmethod
    def _has_params(ext_folder: Path) -> bool:
        return (ext_folder / "params.json").is_file()

    def read_extension(self, name: str, lazy: bool = False) -> StoredExtension | None:
        from .loading import read_json

        folder = self._extension_folder(name)
        if not os.path.lexists(folder):
            prepare_target(folder)  # an overwrite killed between its renames: its previous copy comes back
        if not self._has_params(folder):
            return None
        params = read_json(folder / "params.json")
        if not isinstance(params, dict):
            raise CorruptFolderError(f"{str(folder / 'params.json')!r} must hold a JSON object of the extension's "
                                     f"parameters, got a JSON {type(params).__name__}")
        run_info = read_json(folder / "run_info.json") if (folder / "run_info.json").is_file() else None
        data, skipped = {}, []
        for file in sorted(folder.iterdir()):
            if file.name in _EXTENSION_META or file.name.startswith("."):
                continue
            check_inside(file, self.folder, f"file of the extension {name!r}")
            if file.suffix == ".npy":
                data[file.stem] = read_npy(file, mmap_mode="r" if lazy else None)
            elif file.suffix == ".json":
                data[file.stem] = read_json(file)
            elif file.suffix == ".csv":
                data[file.stem] = analyzer_dataframes.read_csv(file)
            else:
                skipped.append(file.name)
        if skipped:
            warnings.warn(f"extension {name!r} of {str(self.folder)!r}: {skipped} left on disk unread (gpuspike reads "
                          f".npy, .json and .csv entries only, never pickles)")
        info = read_json(folder / "info.json") if (folder / "info.json").is_file() else None
        return StoredExtension(params, run_info, data, skipped, info)

    def write_extension(self, name: str, params: dict, info: dict, run_info: dict, data: dict) -> None:
        self._check_writable(f"save the extension {name!r}")
        with new_version(self._extension_folder(name), f"save the extension {name!r}") as tmp:
            for key, value in data.items():
                key = _entry_name(key, name)
                if isinstance(value, dict):
                    (tmp / f"{key}.json").write_text(dumps(value, indent=None), encoding="utf8")
                elif analyzer_dataframes.is_dataframe(value):
                    analyzer_dataframes.write_csv(tmp / f"{key}.csv", value)
                else:
                    _save_npy(tmp / f"{key}.npy", value, name, key)
            atomic_write_text(tmp / "params.json", dumps(params))
            atomic_write_text(tmp / "info.json", dumps(info))
            atomic_write_text(tmp / "run_info.json", dumps(run_info))

    def write_sorting_property(self, key: str, values: np.ndarray) -> None:
        from .folder_safety import write_property

        self._check_writable(f"save the sorting property {key!r}")
        props = check_inside(self.folder / "sorting" / "properties", self.folder, "sorting properties folder")
        props.mkdir(parents=True, exist_ok=True)
        tmp = props / f".{key}.partial"
        tmp.mkdir(exist_ok=True)
        try:
            path = write_property(tmp, key, values)
            os.replace(path, props / path.name)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def sorting_provenance(self):
        for name in ("sorting/provenance.json", "sorting_provenance.json"):
            path = self.folder / name
            if path.is_file():
                try:
                    from .loading import load

                    return load(path, base_folder=self.folder)
                except Exception:  # the original sorting moved or was deleted
                    return None
        return None


class ZarrStore(_FolderStore):
    """SpikeInterface's ``zarr`` layout (format 2, consolidated metadata kept up to date)."""

    format = "zarr"

    @classmethod
    def create(cls, folder: Path, sorting, recording, rec_attributes: dict, sparsity_mask, settings: dict,
               overwrite: bool = False, provenance=None) -> "ZarrStore":
        """Write a new ``.zarr`` analyzer folder (atomically) and return its store (see
        :meth:`BinaryFolderStore.create` for the arguments)."""
        from .. import __version__
        from . import zarr_v2
        from .zarrrecording import open_group
        from .zarrsorting import write_sorting_to_group

        final = Path(folder).absolute()
        with atomic_folder(folder, overwrite=overwrite) as tmp:
            zarr_v2.write_group(tmp, {"spikeinterface_info": _info(__version__), "settings": plain_json(settings)})
            sorting_group = open_group(zarr_v2.write_group(tmp / "sorting"), "a")
            write_sorting_to_group(sorting, sorting_group)
            if provenance is not None and provenance.is_dumpable:
                sorting_group.attrs["provenance"] = plain_json(provenance.to_dict(relative_to=final, recursive=True))
            attrs = {"recording_attributes": rec_attributes_to_json(rec_attributes)}
            if rec_attributes.get("probegroup") is not None:
                attrs["probegroup"] = plain_json(rec_attributes["probegroup"].to_dict())
            zarr_v2.write_group(tmp / "recording_info", attrs)
            zarr_v2.write_group(tmp / "extensions")
            if sparsity_mask is not None:
                zarr_v2.write_array(tmp, "sparsity_mask", np.asarray(sparsity_mask, dtype=bool))
            if recording is not None and recording.is_dumpable:
                recording_dict = recording.to_dict(relative_to=final, recursive=True)
                zarr_v2.write_json_object(tmp / "recording", plain_json(recording_dict))
            _warn_not_saved(recording, folder)
            zarr_v2.consolidate(tmp)
        return cls(folder)

    @staticmethod
    def is_analyzer_folder(folder: Path) -> bool:
        from . import zarr_v2

        folder = Path(folder)
        return (zarr_v2.is_group(folder) and "settings" in zarr_v2.read_attrs(folder)
                and zarr_v2.is_group(folder / "sorting") and zarr_v2.is_group(folder / "recording_info"))

    def read(self, with_recording: bool = True, lazy: bool = False) -> StoredAnalyzer:
        """The analyzer's root (see :meth:`BinaryFolderStore.read`; the spike vector is read into memory
        even when ``lazy``)."""
        from . import zarr_v2
        from .numpyextractors import NumpySorting
        from .zarrsorting import ZarrSortingExtractor

        folder = self.folder
        if not self.is_analyzer_folder(folder):
            raise CorruptFolderError(f"{str(folder)!r} is not a SortingAnalyzer zarr folder (root attribute "
                                     f"'settings', groups 'sorting' and 'recording_info' are required)")
        settings = zarr_v2.read_attrs(folder)["settings"]
        sorting = NumpySorting.from_sorting(ZarrSortingExtractor(folder / "sorting"), with_metadata=True,
                                            copy_spike_vector=True)
        info = zarr_v2.read_attrs(folder / "recording_info")
        if "recording_attributes" not in info:
            raise CorruptFolderError(f"{str(folder)!r}: recording_info lacks 'recording_attributes'")
        probegroup = None
        if info.get("probegroup") is not None:
            import probeinterface

            probegroup = probeinterface.ProbeGroup.from_dict(info["probegroup"])
        rec_attributes = rec_attributes_from_json(info["recording_attributes"], probegroup)
        mask = None
        if zarr_v2.is_array(folder / "sparsity_mask"):
            mask = np.asarray(zarr_v2.open_array(folder / "sparsity_mask")[...]).astype(bool)
        recording = None
        if with_recording and zarr_v2.is_array(folder / "recording"):
            if zarr_v2.is_json_object_array(folder / "recording"):
                recording = _load_recording(zarr_v2.read_json_object(folder / "recording"), folder)
            else:
                warnings.warn(f"the recording of the analyzer {str(folder)!r} is stored with a pickle codec, which "
                              f"gpuspike never decodes (unpickling runs code); continuing without it "
                              f"(set_temporary_recording() attaches one)")
        return StoredAnalyzer(settings, sorting, rec_attributes, mask, recording)

    @staticmethod
    def _has_params(ext_folder: Path) -> bool:
        from . import zarr_v2

        return zarr_v2.is_group(ext_folder) and "params" in zarr_v2.read_attrs(ext_folder)

    def read_extension(self, name: str, lazy: bool = False) -> StoredExtension | None:
        from . import zarr_v2

        folder = self._extension_folder(name)
        if not os.path.lexists(folder):
            prepare_target(folder)
        if not self._has_params(folder):
            return None
        attrs = zarr_v2.read_attrs(folder)
        data, skipped = {}, []
        for sub in sorted(folder.iterdir()):
            if sub.name.startswith(".") or not sub.is_dir():
                continue
            if analyzer_dataframes.is_zarr_dataframe(sub):
                data[sub.name] = analyzer_dataframes.read_zarr_group(sub)
                continue
            if not zarr_v2.is_array(sub):
                skipped.append(sub.name)
                continue
            entry_attrs = zarr_v2.read_attrs(sub)
            if zarr_v2.unpickles(sub) or "object" in entry_attrs:
                skipped.append(sub.name)
            elif "dict" in entry_attrs or zarr_v2.is_json_object_array(sub):
                data[sub.name] = zarr_v2.read_json_object(sub)
            else:
                array = zarr_v2.open_array(sub)
                data[sub.name] = array if lazy else np.asarray(array[...])
        if skipped:
            warnings.warn(f"extension {name!r} of {str(self.folder)!r}: {skipped} left on disk unread (gpuspike reads "
                          f"arrays, JSON documents and DataFrames only, never pickles)")
        return StoredExtension(attrs["params"], attrs.get("run_info"), data, skipped, attrs.get("info"))

    def write_extension(self, name: str, params: dict, info: dict, run_info: dict, data: dict) -> None:
        from . import zarr_v2
        from .zarrrecording import get_default_zarr_compressor

        self._check_writable(f"save the extension {name!r}")
        with new_version(self._extension_folder(name), f"save the extension {name!r}") as tmp:
            zarr_v2.write_group(tmp, {"params": plain_json(params), "info": plain_json(info),
                                      "run_info": plain_json(run_info)})
            compressor = self.saving_options.get("compressor", get_default_zarr_compressor())
            for key, value in data.items():
                key = _entry_name(key, name)
                if isinstance(value, dict):
                    zarr_v2.write_json_object(tmp / key, plain_json(value))
                    zarr_v2.write_attrs(tmp / key, {"dict": True})
                elif analyzer_dataframes.is_dataframe(value):
                    analyzer_dataframes.write_zarr_group(tmp / key, value, compressor=compressor)
                else:
                    value = _checked_array(value, name, key)
                    zarr_v2.write_array(tmp, key, value, compressor=compressor,
                                        filters=self.saving_options.get("filters"))
        self._after_extension_change()

    def _after_extension_change(self) -> None:
        from . import zarr_v2

        zarr_v2.consolidate(self.folder)

    def write_sorting_property(self, key: str, values: np.ndarray) -> None:
        from . import zarr_v2
        from .folder_safety import check_file_name

        self._check_writable(f"save the sorting property {key!r}")
        values = np.asarray(values)
        if values.dtype.kind == "O":
            warnings.warn(f"sorting property {key!r} not saved in the zarr folder: it holds Python objects")
            return
        props = self.folder / "sorting" / "properties"
        if not zarr_v2.is_group(props):
            zarr_v2.write_group(props)
        name = check_file_name(key, "property key")
        with new_version(props / name, f"save the sorting property {key!r}") as tmp:
            shutil.rmtree(tmp)
            zarr_v2.write_array(props, tmp.name, values)
        zarr_v2.consolidate(self.folder)

    def sorting_provenance(self):
        from . import zarr_v2

        provenance = zarr_v2.read_attrs(self.folder / "sorting").get("provenance")
        if not provenance:
            return None
        try:
            from .loading import load

            return load(provenance, base_folder=self.folder)
        except Exception:  # the original sorting moved or was deleted
            return None


def _entry_name(key: str, extension: str) -> str:
    from .folder_safety import check_file_name

    return check_file_name(str(key), f"data entry of extension {extension!r}")


def _checked_array(value, extension: str, key: str) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype.kind == "O":
        raise TypeError(f"extension {extension!r}: data entry {key!r} holds Python objects, which gpuspike never "
                        f"pickles; store numbers, strings, a dict of JSON values or a pandas DataFrame")
    return array


def _save_npy(path: Path, value, extension: str, key: str) -> None:
    np.save(path, _checked_array(value, extension, key), allow_pickle=False)


def store_for(format: str):
    """The store class of a format.

    Parameters
    ----------
    format : {"memory", "binary_folder", "zarr"}

    Returns
    -------
    type
    """
    stores = {"memory": MemoryStore, "binary_folder": BinaryFolderStore, "zarr": ZarrStore}
    if format not in stores:
        raise ValueError(f"format={format!r}: allowed values are {list(stores)}")
    return stores[format]


__all__ = ["StoredExtension", "StoredAnalyzer", "MemoryStore", "BinaryFolderStore", "ZarrStore", "store_for",
           "new_version", "remove_folder", "get_rec_attributes", "settings_of", "rec_attributes_to_json",
           "rec_attributes_from_json", "dumps", "check_saving_options", "LAYOUT_VERSION"]
