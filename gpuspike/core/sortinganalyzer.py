"""SortingAnalyzer: a sorting paired with its recording, and the extensions computed from them.

SpikeInterface 0.105's API (``create_sorting_analyzer``, ``load_sorting_analyzer``, ``compute``,
``get_extension``, ``save_as``, ``select_units``, ``merge_units``, ...) with its ``memory``,
``binary_folder`` and ``zarr`` formats, whose folders SpikeInterface opens and which opens
SpikeInterface's. The extensions that read traces run on gpuspike's block engine, on the backend
chosen once per analyzer (``backend=``) or per call (job kwarg ``backend``).

Attributes other modules rely on: ``unit_ids``, ``channel_ids``, ``sampling_frequency``,
``sparsity``, ``peak_sign``, ``peak_mode``, ``return_in_uV``, ``sorting``, ``recording``,
``get_extension(name)`` (None when not computed).
"""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np

from .analyzer_extension import _children as _extension_children  # noqa: F401 - SpikeInterface's name
from .analyzer_extension import AnalyzerExtension, register_result_extension  # noqa: F401 - imported from here too
from .analyzer_extension import (FOREIGN_METRIC_EXTENSIONS, AnalyzerDependencyError, children_of,
                                 get_available_analyzer_extensions, get_default_analyzer_extension_params,
                                 get_extension_class, is_foreign_extension, link_dependencies,
                                 sort_extensions_by_dependency)
from .analyzer_foreign import carry_foreign_extensions, cut_to_units, read_foreign_extension
from .analyzer_storage import (MemoryStore, ZarrStore, check_saving_options, get_rec_attributes, settings_of,
                               store_for)
from .channels import locations_of_contacts
from .errors import SpikeInterfaceAssertError
from .recording_tools import differing_attributes
from .sparsity import ChannelSparsity

#: SpikeInterface's module-level names (its tests and extensions import them from here)
_sort_extensions_by_dependency = sort_extensions_by_dependency
_get_children_dependencies = children_of
#: the extensions gpuspike computes, by the module that defines them in SpikeInterface
_builtin_extensions = {"random_spikes": "spikeinterface.core", "waveforms": "spikeinterface.core",
                       "templates": "spikeinterface.core", "noise_levels": "spikeinterface.core"}

_FORMATS = ("memory", "binary_folder", "zarr")

#: SpikeInterface 0.105's type hints of ``peak_sign`` and ``peak_mode``
PeakSignType = Literal["both", "neg", "pos"]
PeakModeType = Literal["extremum", "at_index", "peak_to_peak"]
_PEAK_SIGNS = get_args(PeakSignType)
_PEAK_MODES = get_args(PeakModeType)


def _check_choice(value, allowed, name: str):
    if value not in allowed:
        raise ValueError(f"{name}={value!r}: allowed values are {list(allowed)}")
    return value


def _zarr_folder_name(folder) -> Path:
    folder = Path(folder)
    return folder if folder.suffix == ".zarr" else folder.with_name(folder.name + ".zarr")


class SortingAnalyzer:
    """A sorting paired with its recording, and the extensions computed from them.

    Create one with :func:`create_sorting_analyzer`, open a saved one with
    :func:`load_sorting_analyzer`; do not call this constructor directly.

    Parameters
    ----------
    sorting : BaseSorting
    recording : BaseRecording or None
    format : {"memory", "binary_folder", "zarr"}
    rec_attributes : dict
    sparsity : ChannelSparsity or None
    return_in_uV : bool
    peak_sign : {"both", "neg", "pos"}
    peak_mode : {"extremum", "at_index", "peak_to_peak"}
    backend_options : dict, optional
    lazy, read_only : bool
    store : MemoryStore, optional
        Where the analyzer is kept (decided by ``create`` / ``load``).
    backend : str, optional
        Default backend of the computations ("numpy", "cuda", "auto"; None: the global job kwargs').
    """

    #: a main-channel estimate made when first needed, or in the same pass over the file as the
    #: first waveforms / templates (a dense memory analyzer's: see :func:`create_sorting_analyzer`)
    _pending_main_channels = None

    def __init__(self, sorting, recording=None, format: str = "memory", rec_attributes: dict | None = None,
                 sparsity: ChannelSparsity | None = None, return_in_uV: bool = True, peak_sign: str = "both",
                 peak_mode: str = "extremum", backend_options: dict | None = None, lazy: bool = False,
                 read_only: bool = False, store: MemoryStore | None = None, backend: str | None = None) -> None:
        self._sorting = sorting
        self._recording = recording
        self.rec_attributes = rec_attributes
        self.format = format
        self.sparsity = sparsity
        self.return_in_uV = bool(return_in_uV)
        self.peak_sign = peak_sign
        self.peak_mode = peak_mode
        self._backend_options = dict(backend_options or {})
        self._lazy = bool(lazy) and format != "memory"
        self._read_only = bool(read_only) and format != "memory"
        self._store = store if store is not None else MemoryStore()
        self._store.saving_options = check_saving_options(self._backend_options)
        self.folder = self._store.folder
        self._backend = backend
        self._temporary_recording = None
        self._main_channel_indices = None
        self._fuse_template_operators: tuple = ()
        self._parent_spike_positions: np.ndarray | None = None
        self.extensions: dict = {}

    def __repr__(self) -> str:
        text = (f"{type(self).__name__}: {self.get_num_channels()} channels - {self.get_num_units()} units - "
                f"{self.get_num_segments()} segments - {self.format}")
        if self._lazy:
            text += " (lazy)"
        if self.is_sparse():
            text += " - sparse"
        if self.has_recording():
            text += " - has recording"
        if self.has_temporary_recording():
            text += " - has temporary recording"
        text += f"\nLoaded {len(self.extensions)} extensions"
        if self.extensions:
            text += ": " + ", ".join(self.extensions)
        return text

    # ------------------------------------------------------------------ create / load
    @classmethod
    def create(cls, sorting, recording, main_channel_indices, format: str = "memory", folder=None,
               lazy: bool = False, sparsity: ChannelSparsity | None = None, return_in_uV: bool = True,
               peak_sign: str = "both", peak_mode: str = "extremum", backend_options: dict | None = None,
               overwrite: bool = False, backend: str | None = None,
               main_channel_estimate=None) -> "SortingAnalyzer":
        """A new analyzer of ``sorting`` and ``recording`` in ``format`` (see :func:`create_sorting_analyzer`).

        ``main_channel_indices`` may be None in a memory analyzer given a ``main_channel_estimate``
        (:class:`~gpuspike.core.template_tools.MainChannelEstimate`), made when first needed.

        Returns
        -------
        SortingAnalyzer
        """
        from .numpyextractors import NumpySorting

        _check_choice(format, _FORMATS, "format")
        copy = NumpySorting.from_sorting(sorting, with_metadata=True, copy_spike_vector=True)
        if main_channel_indices is not None:
            copy.set_property("main_channel_id",
                              np.asarray(recording.channel_ids)[np.asarray(main_channel_indices, dtype="int64")])
        elif main_channel_estimate is None or format != "memory":
            raise ValueError("SortingAnalyzer.create needs main_channel_indices (an estimate made later is for "
                             "format='memory' only)")
        rec_attributes = get_rec_attributes(recording)
        settings = {"return_in_uV": bool(return_in_uV), "peak_sign": peak_sign, "peak_mode": peak_mode}
        mask = None if sparsity is None else sparsity.mask
        if format == "memory":
            store = MemoryStore()
        else:
            if folder is None:
                raise ValueError(f"format={format!r} needs folder= (or use format='memory')")
            folder = _zarr_folder_name(folder) if format == "zarr" else Path(folder)
            store = store_for(format).create(folder, copy, recording, rec_attributes, mask, settings,
                                             overwrite=overwrite, provenance=sorting if sorting.is_dumpable else None)
        analyzer = cls(copy, recording, format, rec_attributes, sparsity, return_in_uV, peak_sign, peak_mode,
                       backend_options, lazy, False, store, backend)
        if main_channel_indices is None:
            analyzer._pending_main_channels = main_channel_estimate
        return analyzer

    @classmethod
    def load(cls, folder, recording=None, load_extensions: bool = True, format: str = "auto",
             backend_options: dict | None = None, lazy: bool = False, read_only: bool = False,
             backend: str | None = None) -> "SortingAnalyzer":
        """Open an analyzer folder (see :func:`load_sorting_analyzer`).

        Returns
        -------
        SortingAnalyzer
        """
        from .loading import check_folder

        _check_choice(format, ("auto", "binary_folder", "zarr"), "format")
        folder = check_folder(Path(folder), "load_sorting_analyzer")
        if format == "auto":
            format = "zarr" if (folder.suffix == ".zarr" or ZarrStore.is_analyzer_folder(folder)) else "binary_folder"
        store = store_for(format)(folder, read_only=read_only)
        stored = store.read(with_recording=recording is None, lazy=lazy)
        settings = settings_of(stored.settings)
        rec_attributes = stored.rec_attributes
        sparsity = None
        if stored.sparsity_mask is not None:
            sparsity = ChannelSparsity(stored.sparsity_mask, stored.sorting.unit_ids, rec_attributes["channel_ids"])
        analyzer = cls(stored.sorting, recording if recording is not None else stored.recording, format,
                       rec_attributes, sparsity, settings["return_in_uV"], settings["peak_sign"],
                       settings["peak_mode"], backend_options, lazy, read_only, store, backend)
        if load_extensions and not lazy:
            analyzer.load_all_saved_extension()
        return analyzer

    @classmethod
    def create_memory(cls, sorting, recording, sparsity, return_in_uV, peak_sign, peak_mode, rec_attributes=None,
                      copy_sorting: bool = True) -> "SortingAnalyzer":
        """A memory analyzer (SpikeInterface's constructor; :func:`create_sorting_analyzer` is the public way).

        Returns
        -------
        SortingAnalyzer
        """
        from .numpyextractors import NumpySorting

        if copy_sorting:
            sorting = NumpySorting.from_sorting(sorting, with_metadata=True, copy_spike_vector=True)
        if rec_attributes is None:
            rec_attributes = get_rec_attributes(recording)
        return cls(sorting, recording, "memory", dict(rec_attributes), sparsity, return_in_uV, peak_sign, peak_mode)

    @classmethod
    def create_binary_folder(cls, folder, sorting, recording, sparsity, return_in_uV, peak_sign, peak_mode,
                             rec_attributes=None, backend_options=None, lazy: bool = False) -> "SortingAnalyzer":
        """A binary-folder analyzer (SpikeInterface's constructor; see :meth:`create_memory`).

        Returns
        -------
        SortingAnalyzer
        """
        return cls._create_in_folder("binary_folder", folder, sorting, recording, sparsity, return_in_uV, peak_sign,
                                     peak_mode, rec_attributes, backend_options, lazy)

    @classmethod
    def create_zarr(cls, folder, sorting, recording, sparsity, return_in_uV, peak_sign, peak_mode,
                    rec_attributes=None, backend_options=None, lazy: bool = False) -> "SortingAnalyzer":
        """A zarr analyzer (SpikeInterface's constructor; see :meth:`create_memory`).

        Returns
        -------
        SortingAnalyzer
        """
        return cls._create_in_folder("zarr", folder, sorting, recording, sparsity, return_in_uV, peak_sign,
                                     peak_mode, rec_attributes, backend_options, lazy)

    @classmethod
    def _create_in_folder(cls, format, folder, sorting, recording, sparsity, return_in_uV, peak_sign, peak_mode,
                          rec_attributes, backend_options, lazy) -> "SortingAnalyzer":
        from .numpyextractors import NumpySorting

        if recording is None and rec_attributes is None:
            raise ValueError("give the recording or its rec_attributes")
        rec_attributes = dict(rec_attributes) if rec_attributes is not None else get_rec_attributes(recording)
        copy = NumpySorting.from_sorting(sorting, with_metadata=True, copy_spike_vector=True)
        folder = _zarr_folder_name(folder) if format == "zarr" else Path(folder)
        settings = {"return_in_uV": bool(return_in_uV), "peak_sign": peak_sign, "peak_mode": peak_mode}
        store = store_for(format).create(folder, copy, recording, rec_attributes,
                                         None if sparsity is None else sparsity.mask, settings,
                                         provenance=sorting if sorting.is_dumpable else None)
        return cls(copy, recording, format, rec_attributes, sparsity, return_in_uV, peak_sign, peak_mode,
                   backend_options, lazy, False, store)

    @classmethod
    def load_from_binary_folder(cls, folder, recording=None, backend_options=None, lazy: bool = False,
                                read_only: bool = False) -> "SortingAnalyzer":
        """Open a binary-folder analyzer without its extensions (see :meth:`load`).

        Returns
        -------
        SortingAnalyzer
        """
        return cls.load(folder, recording=recording, load_extensions=False, format="binary_folder",
                        backend_options=backend_options, lazy=lazy, read_only=read_only)

    @classmethod
    def load_from_zarr(cls, folder, recording=None, backend_options=None, lazy: bool = False,
                       read_only: bool = False) -> "SortingAnalyzer":
        """Open a zarr analyzer without its extensions (see :meth:`load`).

        Returns
        -------
        SortingAnalyzer
        """
        return cls.load(folder, recording=recording, load_extensions=False, format="zarr",
                        backend_options=backend_options, lazy=lazy, read_only=read_only)

    # ------------------------------------------------------------------ recording
    def set_temporary_recording(self, recording, check_dtype: bool = True) -> None:
        """Attach a recording for this session (not saved): for a moved or cached recording.

        Parameters
        ----------
        recording : BaseRecording
            Same channels, sampling frequency and samples as the analyzer's.
        check_dtype : bool
            Require the same dtype too.

        Raises
        ------
        ValueError
            Naming what differs.
        """
        differ = differing_attributes(get_rec_attributes(recording), self.rec_attributes, check_dtype)
        if differ:
            raise ValueError(f"set_temporary_recording: the recording differs from the analyzer's in {differ}")
        if self.get_probegroup() is not None and recording.has_probe() and \
                not np.array_equal(recording.get_channel_locations(), self.get_channel_locations()):
            raise ValueError("set_temporary_recording: the recording's channel locations differ from the analyzer's")
        if self._recording is not None:
            warnings.warn("SortingAnalyzer recording is already set; the temporary recording replaces it for now")
        self._temporary_recording = recording

    @property
    def recording(self):
        """The recording (the temporary one when set).

        Raises
        ------
        ValueError
            The analyzer has no recording (its folder was opened without it).
        """
        if self._temporary_recording is not None:
            return self._temporary_recording
        if self._recording is None:
            raise ValueError("this SortingAnalyzer has no recording (it was opened without it); attach one with "
                             "set_temporary_recording(recording)")
        return self._recording

    def has_recording(self) -> bool:
        return self._recording is not None

    def has_temporary_recording(self) -> bool:
        return self._temporary_recording is not None

    # ------------------------------------------------------------------ attributes
    @property
    def channel_ids(self) -> np.ndarray:
        return np.asarray(self.rec_attributes["channel_ids"])

    @property
    def sorting(self):
        """The analyzer's sorting, carrying each unit's main channel as the property ``main_channel_id``."""
        self._resolve_pending_main_channels()
        return self._sorting

    @sorting.setter
    def sorting(self, value) -> None:
        self._sorting = value

    @property
    def unit_ids(self) -> np.ndarray:
        return self._sorting.unit_ids

    @property
    def sampling_frequency(self) -> float:
        return self._sorting.get_sampling_frequency()

    def get_num_units(self) -> int:
        return self._sorting.get_num_units()

    def get_num_channels(self) -> int:
        return int(self.rec_attributes["num_channels"])

    def get_num_segments(self) -> int:
        return self._sorting.get_num_segments()

    def get_num_samples(self, segment_index: int | None = None) -> int:
        if segment_index is None:
            if self.get_num_segments() != 1:
                raise ValueError(f"segment_index is required: the analyzer has {self.get_num_segments()} segments")
            segment_index = 0
        if not 0 <= segment_index < self.get_num_segments():
            raise ValueError(f"segment_index={segment_index}: allowed 0..{self.get_num_segments() - 1}")
        return int(self.rec_attributes["num_samples"][segment_index])

    def get_total_samples(self) -> int:
        return int(sum(self.rec_attributes["num_samples"]))

    def get_total_duration(self) -> float:
        """Seconds: the recording's (its times) when it is attached, else samples / sampling frequency."""
        if self.has_recording() or self.has_temporary_recording():
            return float(self.recording.get_total_duration())
        return self.get_total_samples() / self.sampling_frequency

    def get_dtype(self) -> np.dtype:
        return np.dtype(self.rec_attributes["dtype"])

    def is_sparse(self) -> bool:
        return self.sparsity is not None

    def is_filtered(self) -> bool:
        return bool(self.rec_attributes["is_filtered"])

    def is_read_only(self) -> bool:
        return self._read_only or self._store.is_read_only()

    def _get_zarr_root(self, mode: str = "r"):
        """The zarr group of a ``zarr`` analyzer, opened with zarr-python (SpikeInterface's accessor).

        Parameters
        ----------
        mode : {"r", "r+", "a"}

        Returns
        -------
        zarr.Group
        """
        from .zarrrecording import open_group

        if self.format != "zarr":
            raise ValueError(f"_get_zarr_root() needs a zarr analyzer, this one is {self.format!r}")
        _check_choice(mode, ("r", "r+", "a"), "mode")
        if mode != "r" and self.is_read_only():
            raise ValueError(f"the analyzer {str(self.folder)!r} is read-only: open its zarr root with mode='r'")
        import zarr

        if int(zarr.__version__.split(".")[0]) >= 3:
            # members are parsed on access: zarr 3 has no data type for the JSON object arrays
            # (the recording's dict) that SpikeInterface's layout holds
            return zarr.open_group(str(self.folder), mode=mode, use_consolidated=False)
        return open_group(self.folder, mode)

    def get_probegroup(self):
        return self.rec_attributes.get("probegroup")

    def get_probe(self):
        probegroup = self.get_probegroup()
        if probegroup is None:
            raise ValueError("this analyzer's recording has no probe")
        if len(probegroup.probes) != 1:
            raise ValueError(f"the analyzer has {len(probegroup.probes)} probes: use get_probegroup()")
        return probegroup.probes[0]

    def get_channel_locations(self) -> np.ndarray:
        """Locations of all channels, in channel order (from the probe, else the ``location`` property)."""
        probegroup = self.get_probegroup()
        if probegroup is not None:
            contacts = probegroup.to_numpy(complete=True)
            contacts = contacts[np.argsort(contacts["device_channel_indices"])]
            return locations_of_contacts(contacts, probegroup.ndim)
        locations = (self.rec_attributes.get("properties") or {}).get("location")
        if locations is None:
            raise ValueError("this analyzer's recording has no probe and no channel locations")
        return np.asarray(locations, dtype="float64")

    def channel_ids_to_indices(self, channel_ids) -> np.ndarray:
        ids = list(self.channel_ids)
        missing = [c for c in channel_ids if c not in ids]
        if missing:
            raise ValueError(f"channel ids {missing} are not in the analyzer (channels: {ids[:20]})")
        return np.array([ids.index(c) for c in channel_ids], dtype=int)

    def get_recording_property(self, key: str, ids=None):
        if self.has_recording() or self.has_temporary_recording():
            return self.recording.get_property(key, ids=ids)
        properties = self.rec_attributes.get("properties") or {}
        if key not in properties:
            raise ValueError(f"recording property {key!r} not found; available: {list(properties)}")
        values = np.asarray(properties[key])
        return values if ids is None else values[self.channel_ids_to_indices(ids)]

    def get_recording_property_keys(self) -> list[str]:
        if self.has_recording() or self.has_temporary_recording():
            return list(self.recording.get_property_keys())
        return list((self.rec_attributes.get("properties") or {}).keys())

    def set_sorting_property(self, key: str, values, ids=None, missing_value: Any = None, save: bool = True) -> None:
        """Set a unit property (and store it in the folder when ``save``).

        Parameters
        ----------
        key : str
        values : array-like
        ids : list, optional
        missing_value : Any, optional
        save : bool
        """
        if key == "main_channel_id":  # the user's main channels (of every unit) replace an estimate not made yet
            if ids is None:
                self._pending_main_channels = None
            self._resolve_pending_main_channels()
        self._sorting.set_property(key, values, ids=ids, missing_value=missing_value)
        if save and not self.is_read_only():
            self._store.write_sorting_property(key, self._sorting.get_property(key))

    def get_sorting_property(self, key: str, ids=None):
        return self.sorting.get_property(key, ids=ids)

    def get_sorting_property_keys(self) -> list[str]:
        return list(self.sorting.get_property_keys())

    def get_sorting_provenance(self):
        """The original sorting when it can be rebuilt from the folder, else None."""
        return self._store.sorting_provenance()

    # ------------------------------------------------------------------ main channels
    @property
    def main_channel_indices(self) -> np.ndarray:
        """Main channel of each unit (stored as the sorting property ``main_channel_id``).

        As in SpikeInterface 0.105, an analyzer without its recording takes them from its templates
        (the peak channel) when it has some, rather than from the stored ids.
        """
        self._resolve_pending_main_channels()
        if self._main_channel_indices is None:
            ids = self.get_sorting_property("main_channel_id")
            from_templates = None if self.has_recording() else self._main_channels_from_templates()
            if from_templates is not None:
                indices = from_templates
            elif ids is not None:
                indices = self.channel_ids_to_indices(list(np.asarray(ids)))
            else:
                indices = self._estimate_main_channels()
            self._main_channel_indices = np.asarray(indices, dtype="int64")
            if from_templates is not None or ids is None:
                self.set_sorting_property("main_channel_id", self.channel_ids[self._main_channel_indices],
                                          save=False)
        return self._main_channel_indices

    def _main_channels_from_templates(self) -> np.ndarray | None:
        """Peak channel of each unit's template ("both" signs, extremum), or None without templates."""
        from .template_tools import _get_main_channel_from_template_array

        templates = self.get_extension("templates")
        if templates is None or not ({"average", "median"} & set(templates.data)):
            return None
        key = "average" if "average" in templates.data else "median"
        return np.asarray(_get_main_channel_from_template_array(np.asarray(templates.data[key]), "extremum", "both",
                                                                templates.nbefore))

    def _resolve_pending_main_channels(self, run_alone: bool = True) -> None:
        """Finish a pending main-channel estimate: from the pass over the file that took it along,
        else, with ``run_alone``, in a pass of its own."""
        estimate = self._pending_main_channels
        if estimate is None or (estimate.channels is None and not run_alone):
            return
        channels = estimate.channels if estimate.channels is not None else estimate.run()
        self._pending_main_channels = None
        self._main_channel_indices = np.asarray(channels, dtype="int64")
        self._sorting.set_property("main_channel_id", self.channel_ids[self._main_channel_indices])

    def _main_channel_riders(self, recording) -> tuple:
        """The pending main-channel estimate, when it can run in the same pass over ``recording`` as
        another spike job (then ``_resolve_pending_main_channels(run_alone=False)`` after the pass)."""
        estimate = self._pending_main_channels
        if estimate is None or estimate.channels is not None or estimate.recording is not recording:
            return ()
        return (estimate,)

    def _estimate_main_channels(self) -> np.ndarray:
        """Main channels of an analyzer written before they were stored (SpikeInterface < 0.105)."""
        from .template_tools import estimate_main_channel_from_recording

        warnings.warn("this analyzer has no 'main_channel_id' (written by SpikeInterface < 0.105): estimating "
                      "it; save_as() keeps it")
        from_templates = self._main_channels_from_templates()
        if from_templates is not None:
            return from_templates
        if self.is_sparse():
            locations = self.get_channel_locations()
            out = []
            for u in range(self.get_num_units()):
                center = locations[self.sparsity.mask[u]].mean(axis=0)
                out.append(int(np.argmin(np.linalg.norm(locations - center, axis=1))))
            return np.asarray(out)
        if self.has_recording() or self.has_temporary_recording():
            return np.asarray(estimate_main_channel_from_recording(self.recording, self.sorting, peak_sign="both",
                                                                   peak_mode="extremum",
                                                                   **self._job_kwargs({})))
        raise ValueError("this dense analyzer has no recording, waveforms or templates to find its units' main "
                         "channels: attach the recording (set_temporary_recording)")

    def get_main_channels(self, outputs: str = "index", with_dict: bool = False):
        """Main channel of each unit.

        Parameters
        ----------
        outputs : {"index", "id"}
        with_dict : bool
            ``{unit_id: channel}`` instead of an array.

        Returns
        -------
        np.ndarray or dict
        """
        _check_choice(outputs, ("index", "id"), "outputs")
        main = np.asarray(self.main_channel_indices)
        values = main if outputs == "index" else self.channel_ids[main]
        return dict(zip(self.unit_ids, values)) if with_dict else values

    # ------------------------------------------------------------------ jobs
    def _job_kwargs(self, job_kwargs: dict) -> dict:
        job = dict(job_kwargs)
        if self._backend is not None:
            job.setdefault("backend", self._backend)
        return job

    def _job_config(self, job_kwargs: dict):
        from .job import resolve_job_kwargs

        return resolve_job_kwargs(**self._job_kwargs(job_kwargs))

    # ------------------------------------------------------------------ extensions
    def compute(self, input, save: bool = True, extension_params: dict | None = None, verbose: bool = False,
                **kwargs):
        """Compute one extension (a name), or several (a list or a dict of params).

        Parameters
        ----------
        input : str, list or dict
            ``"templates"``; ``["random_spikes", "waveforms"]``; ``{"waveforms": {"ms_before": 1.5}}``.
        save : bool
            Store the results in the folder (binary_folder / zarr).
        extension_params : dict, optional
            With a list: ``{name: params}`` for some of them.
        verbose : bool
        **kwargs
            Extension params (a name) and job kwargs.

        Returns
        -------
        AnalyzerExtension or None
            The extension for a name, None for several.
        """
        from .job import split_job_kwargs

        if self._read_only:
            save = False
        if isinstance(input, str):
            return self.compute_one_extension(input, save=save, verbose=verbose, **kwargs)
        params, job_kwargs = split_job_kwargs(kwargs)
        if params:
            raise TypeError(f"compute() of several extensions takes job kwargs only; {sorted(params)} are not "
                            f"(give extension params in a dict, or extension_params=)")
        if isinstance(input, dict):
            extensions = dict(input)
        elif isinstance(input, (list, tuple)):
            extensions = {name: {} for name in input}
            for name, ext_params in (extension_params or {}).items():
                if name not in extensions:
                    raise ValueError(f"extension_params names {name!r}, which is not in {list(input)}")
                extensions[name] = ext_params
        else:
            raise TypeError(f"compute() takes a name, a list or a dict of extensions, got {type(input).__name__}")
        self.compute_several_extensions(extensions, save=save, verbose=verbose, **job_kwargs)
        return None

    def _check_dependencies(self, extension_name: str, params: dict, planned=()) -> None:
        cls = get_extension_class(extension_name)
        if cls.need_recording and not (self.has_recording() or self.has_temporary_recording()):
            raise ValueError(f"extension {extension_name!r} needs the recording, and this analyzer has none: "
                             f"attach it with set_temporary_recording(recording)")
        dependencies = cls.get_required_dependencies(**params)
        for dependency in dependencies:
            names = dependency.split("|")
            if not any(self.has_extension(n) or n in planned for n in names):
                raise AnalyzerDependencyError(f"extension {extension_name!r} needs {' or '.join(map(repr, names))} "
                                              f"to be computed first")
        link_dependencies(extension_name, dependencies)

    def compute_one_extension(self, extension_name: str, save: bool = True, verbose: bool = False, **kwargs):
        """Compute one extension; the extensions depending on it are deleted once it is computed (a
        failed computation leaves every saved extension as it was).

        Parameters
        ----------
        extension_name : str
        save : bool
        verbose : bool
        **kwargs
            The extension's params and job kwargs.

        Returns
        -------
        AnalyzerExtension
        """
        from .job import split_job_kwargs

        if self._read_only:
            save = False
        cls = get_extension_class(extension_name)
        params, job_kwargs = split_job_kwargs(kwargs)
        self._check_dependencies(extension_name, params)
        extension = cls(self)
        extension.set_params(**params)
        if cls.need_job_kwargs:
            extension.run(save=save, verbose=verbose, **job_kwargs)
        else:
            extension.run(save=save, verbose=verbose)
        self._delete_children(extension_name, verbose=verbose)  # only once the new version exists
        self.extensions[extension_name] = extension
        return extension

    def compute_several_extensions(self, extensions: dict, save: bool = True, verbose: bool = False,
                                   gather_mode: str | None = None, gather_kwargs: dict | None = None,
                                   **job_kwargs) -> None:
        """Compute several extensions, parents first.

        When "waveforms" and "templates" are computed together, the average and std templates are
        taken from the waveform buffer while it is still where it was gathered (the GPU). Node-pipeline
        extensions computed together share one pass over the recording.

        Parameters
        ----------
        extensions : dict
            ``{name: params}``.
        save : bool
        verbose : bool
        gather_mode : {None, "memory", "npy", "zarr"}
            SpikeInterface's choice of where node-pipeline outputs are gathered; gpuspike gathers them
            in memory and writes them with the extension (one atomic step), whichever is given.
        gather_kwargs : dict, optional
            Accepted for SpikeInterface's signature (nothing to set for the memory gather).
        **job_kwargs
        """
        if gather_mode not in (None, "memory", "npy", "zarr"):
            raise ValueError(f"compute_several_extensions(gather_mode={gather_mode!r}): allowed None, 'memory', "
                             f"'npy', 'zarr'")
        if self._read_only:
            save = False
        for name, params in extensions.items():
            if not isinstance(params, dict):
                raise TypeError(f"params of extension {name!r} must be a dict, got {type(params).__name__}")
            self._check_dependencies(name, params, planned=list(extensions))
        ordered = sort_extensions_by_dependency(extensions)
        pipeline = {n: p for n, p in ordered.items() if get_extension_class(n).use_nodepipeline}
        if len(pipeline) > 1:  # one pass over the traces for all of them, between what they need and what needs them
            after = {n for n in ordered if n not in pipeline and any(
                d in pipeline for d in get_extension_class(n).get_any_dependencies(**ordered[n]))}
            before = {n: p for n, p in ordered.items() if n not in pipeline and n not in after}
            self.compute_several_extensions(before, save=save, verbose=verbose, **job_kwargs)
            self._compute_pipeline_extensions(pipeline, save, verbose, job_kwargs)
            self.compute_several_extensions({n: ordered[n] for n in ordered if n in after}, save=save,
                                            verbose=verbose, **job_kwargs)
            return
        fused = ()
        if "waveforms" in ordered and "templates" in ordered:
            operators = ordered["templates"].get("operators") or ["average", "std"]
            fused = tuple(op for op in operators if isinstance(op, str) and op in ("average", "std"))
        for name, params in ordered.items():
            self._fuse_template_operators = fused if name == "waveforms" else ()
            try:
                if get_extension_class(name).need_job_kwargs:
                    self.compute_one_extension(name, save=save, verbose=verbose, **params, **job_kwargs)
                else:
                    self.compute_one_extension(name, save=save, verbose=verbose, **params)
            finally:
                self._fuse_template_operators = ()
        waveforms = self.extensions.get("waveforms")
        if waveforms is not None:
            waveforms._fused_templates = {}

    def _compute_pipeline_extensions(self, extensions: dict, save: bool, verbose: bool, job_kwargs: dict) -> None:
        """Node-pipeline extensions computed together: their nodes run in one pipeline (one pass over
        the traces) and each takes its outputs, ``len(nodepipeline_variables)`` of them in order."""
        import time

        from .job import split_job_kwargs
        from .node_pipeline import run_node_pipeline

        instances, nodes = {}, []
        for name, params in extensions.items():
            params, _ = split_job_kwargs(params)
            extension = get_extension_class(name)(self)
            extension.set_params(**params)
            instances[name] = extension
            nodes.extend(extension.get_pipeline_nodes())
        start = time.perf_counter()
        outputs = run_node_pipeline(self.recording, nodes, job_kwargs=job_kwargs,
                                    job_name="Compute : " + " + ".join(extensions), gather_mode="memory",
                                    squeeze_output=False, verbose=verbose)
        runtime = time.perf_counter() - start
        for name in extensions:  # as compute_one_extension: the children go once the new outputs exist
            self._delete_children(name, spare=extensions)
        expected = sum(len(ext.nodepipeline_variables) for ext in instances.values())
        if len(outputs) != expected:
            raise ValueError(f"the pipeline of {list(extensions)} gave {len(outputs)} outputs, but their "
                             f"nodepipeline_variables name {expected}")
        position = 0
        for name, extension in instances.items():
            count = len(extension.nodepipeline_variables)
            extension.set_pipeline_outputs(outputs[position:position + count])
            position += count
            extension._complete_run(runtime, save)
            self.extensions[name] = extension

    def _delete_children(self, extension_name: str, verbose: bool = False, spare=()) -> None:
        """Delete the computed extensions that depend on ``extension_name`` (those in ``spare`` stay)."""
        for child in children_of(extension_name):
            if self.has_extension(child) and child not in spare:
                if verbose:
                    print(f"Deleting extension: {child}")
                self.delete_extension(child)

    def get_saved_extension_names(self) -> list[str]:
        """Extensions stored in the folder (SpikeInterface's others included: they stay on disk)."""
        if self.format == "memory":
            raise ValueError("get_saved_extension_names() works with the binary_folder and zarr formats only")
        return self._store.saved_extension_names()

    def get_extension(self, extension_name: str):
        """The extension (loaded from the folder when needed), or None when it is not computed.

        Parameters
        ----------
        extension_name : str

        Returns
        -------
        AnalyzerExtension or None
        """
        if extension_name in self.extensions:
            return self.extensions[extension_name]
        if self.format != "memory" and extension_name in self._store.saved_extension_names():
            return self.load_extension(extension_name)
        return None

    def load_extension(self, extension_name: str):
        """Load a stored extension into ``extensions``; one that gpuspike does not compute
        (SpikeInterface's others) is returned read-only, its folder untouched and not added.

        Parameters
        ----------
        extension_name : str

        Returns
        -------
        AnalyzerExtension or None
            None when it is not stored or its run did not complete.
        """
        if self.format == "memory":
            raise ValueError("load_extension() works with the binary_folder and zarr formats; use get_extension()")
        if is_foreign_extension(extension_name):
            return read_foreign_extension(self, extension_name)
        extension = get_extension_class(extension_name).load(self, lazy=self._lazy)
        if extension is not None:
            self.extensions[extension_name] = extension
        return extension

    def load_all_saved_extension(self) -> None:
        """Load every stored extension gpuspike computes (the others stay on disk, listed by
        :meth:`get_saved_extension_names`)."""
        for name in self.get_saved_extension_names():
            if name in get_available_analyzer_extensions():
                self.load_extension(name)

    def delete_extension(self, extension_name: str) -> None:
        """Remove an extension from the analyzer and its folder.

        Parameters
        ----------
        extension_name : str
        """
        if self.format != "memory" and not self.is_read_only() and \
                extension_name in self._store.saved_extension_names():
            self._store.delete_extension(extension_name)
        self.extensions.pop(extension_name, None)

    def get_loaded_extension_names(self) -> list[str]:
        return list(self.extensions)

    def has_extension(self, extension_name: str) -> bool:
        """Whether the extension is computed (in memory or in the folder)."""
        if extension_name in self.extensions:
            return True
        if self.format == "memory":
            return False
        return extension_name in self._store.saved_extension_names()

    def get_computable_extensions(self) -> list[str]:
        """Names of the extensions gpuspike computes."""
        return get_available_analyzer_extensions()

    def get_default_extension_params(self, extension_name: str) -> dict:
        """Default parameters of an extension."""
        return get_default_analyzer_extension_params(extension_name)

    def get_metrics_extension_data(self):
        """The metrics of every computed metric extension, side by side.

        Returns
        -------
        pandas.DataFrame
            One row per unit; the columns of SpikeInterface's metric extensions stored in the
            folder (``quality_metrics``, ``template_metrics``, ``spiketrain_metrics``, computed by
            SpikeInterface: their stored tables are read), then of each computed
            :class:`BaseMetricExtension` registered here (a column already given is not repeated).
            Without any: no column.
        """
        from .analyzer_dataframes import import_pandas
        from .analyzer_metrics import BaseMetricExtension

        pandas = import_pandas("get_metrics_extension_data()")
        frames = [frame for frame in map(self._stored_foreign_metrics, FOREIGN_METRIC_EXTENSIONS)
                  if frame is not None]
        for name in get_available_analyzer_extensions():
            if issubclass(get_extension_class(name), BaseMetricExtension) and self.has_extension(name):
                frames.append(self.get_extension(name).get_data())
        if not frames:
            return pandas.DataFrame(index=self.unit_ids)
        metrics = pandas.concat(frames, axis=1)
        return metrics.loc[:, ~metrics.columns.duplicated()]

    def _stored_foreign_metrics(self, extension_name: str):
        """The ``metrics`` table of a completed SpikeInterface metric extension stored in the folder, or None."""
        from .analyzer_dataframes import is_dataframe

        view = read_foreign_extension(self, extension_name)
        metrics = None if view is None else view.data.get("metrics")
        return metrics if is_dataframe(metrics) else None

    # ------------------------------------------------------------------ copies
    def _new_analyzer(self, sorting, sparsity, format: str, folder, backend_options: dict | None,
                      provenance=None):
        _check_choice(format, _FORMATS, "format")
        recording = self._recording if self._recording is not None else self._temporary_recording
        settings = {"return_in_uV": self.return_in_uV, "peak_sign": self.peak_sign, "peak_mode": self.peak_mode}
        rec_attributes = dict(self.rec_attributes)
        if format == "memory":
            store = MemoryStore()
        else:
            if folder is None:
                raise ValueError(f"format={format!r} needs folder=")
            folder = _zarr_folder_name(folder) if format == "zarr" else Path(folder)
            store = store_for(format).create(folder, sorting, recording, rec_attributes,
                                             None if sparsity is None else sparsity.mask, settings,
                                             provenance=provenance)
        new = SortingAnalyzer(sorting, recording, format, rec_attributes, sparsity, self.return_in_uV,
                              self.peak_sign, self.peak_mode, backend_options, self._lazy, False, store,
                              self._backend)
        if self._temporary_recording is not None and self._recording is None:
            new._recording = None
            new._temporary_recording = self._temporary_recording
        return new

    def _all_extensions(self) -> dict:
        if self._lazy or self.format != "memory":
            for name in self.get_saved_extension_names() if self.format != "memory" else []:
                if name in get_available_analyzer_extensions() and name not in self.extensions:
                    self.load_extension(name)
        return sort_extensions_by_dependency({name: ext.params for name, ext in self.extensions.items()})

    def save_as(self, format: str = "memory", folder=None, backend_options: dict | None = None) -> "SortingAnalyzer":
        """A copy in another format (extensions included).

        Parameters
        ----------
        format : {"memory", "binary_folder", "zarr"}
        folder : str or Path, optional
        backend_options : dict, optional

        Returns
        -------
        SortingAnalyzer
        """
        from .numpyextractors import NumpySorting

        self.main_channel_indices  # noqa: B018 - makes sure main_channel_id is kept
        sorting = NumpySorting.from_sorting(self.sorting, with_metadata=True, copy_spike_vector=True)
        provenance = self.get_sorting_provenance()
        new = self._new_analyzer(sorting, self.sparsity, format, folder, backend_options, provenance=provenance)
        for name in self._all_extensions():
            new.extensions[name] = self.extensions[name].copy(new)
        carry_foreign_extensions(self, new)
        return new

    def copy(self) -> "SortingAnalyzer":
        """A copy in memory."""
        return self.save_as(format="memory")

    def select_units(self, unit_ids, format: str = "memory", folder=None) -> "SortingAnalyzer":
        """A new analyzer with only ``unit_ids`` (extensions sliced).

        Parameters
        ----------
        unit_ids : list or array
        format : {"memory", "binary_folder", "zarr"}
        folder : str or Path, optional

        Returns
        -------
        SortingAnalyzer
        """
        from .numpyextractors import NumpySorting

        unit_ids = list(unit_ids)
        missing = [u for u in unit_ids if u not in list(self.unit_ids)]
        if missing:
            raise SpikeInterfaceAssertError(f"unit ids {missing} are not in the analyzer "
                                            f"(units: {list(self.unit_ids)[:20]})")
        self.main_channel_indices  # noqa: B018
        sorting = NumpySorting.from_sorting(self.sorting.select_units(unit_ids), with_metadata=True,
                                            copy_spike_vector=True)
        sparsity = None
        if self.sparsity is not None:
            sparsity = ChannelSparsity(self.sparsity.mask[self.sorting.ids_to_indices(unit_ids)], sorting.unit_ids,
                                       self.channel_ids)
        new = self._new_analyzer(sorting, sparsity, format, folder, None)
        for name in self._all_extensions():
            new.extensions[name] = self.extensions[name].copy(new, unit_ids=unit_ids)
        carry_foreign_extensions(self, new, cut=lambda view: cut_to_units(view, unit_ids),
                                 why_not="gpuspike does not cut their data to the units kept; compute them again "
                                         "there with SpikeInterface")
        return new

    def remove_units(self, remove_unit_ids, format: str = "memory", folder=None) -> "SortingAnalyzer":
        """A new analyzer without ``remove_unit_ids``.

        Returns
        -------
        SortingAnalyzer
        """
        keep = self.unit_ids[~np.isin(self.unit_ids, np.asarray(list(remove_unit_ids)))]
        return self.select_units(keep, format=format, folder=folder)

    def are_units_mergeable(self, merge_unit_groups, merging_mode: str = "soft", sparsity_overlap: float = 0.75,
                            return_masks: bool = False):
        """Whether each group may be soft-merged: its units share ``sparsity_overlap`` of their channels.

        Returns
        -------
        dict, or (dict, dict) with ``return_masks``
        """
        _check_choice(merging_mode, ("soft", "hard"), "merging_mode")
        mergeable, masks = {}, {}
        for group in merge_unit_groups:
            key = tuple(group)
            if self.sparsity is None:
                mergeable[key] = True
                masks[key] = np.ones(self.get_num_channels(), dtype=bool)
                continue
            indices = self.sorting.ids_to_indices(list(group))
            union = self.sparsity.mask[indices].any(axis=0)
            intersection = self.sparsity.mask[indices].all(axis=0)
            if merging_mode == "hard":
                mergeable[key], masks[key] = True, union
            else:
                ratio = intersection.sum() / max(int(union.sum()), 1)
                mergeable[key], masks[key] = bool(ratio >= sparsity_overlap), intersection
        return (mergeable, masks) if return_masks else mergeable

    def merge_units(self, merge_unit_groups, new_unit_ids=None, censor_ms: float | None = None,
                    merging_mode: str = "soft", sparsity_overlap: float = 0.75,
                    raise_error_if_overlap_fails: bool = True, new_id_strategy: str = "append",
                    return_new_unit_ids: bool = False, format: str = "memory", folder=None, verbose: bool = False,
                    **job_kwargs):
        """A new analyzer whose groups of units are merged into one unit each.

        In "soft" mode the extensions are merged from what is stored (the merged units' templates
        from their stored waveforms, else from the stored average / std of each unit and the
        number of spikes each was made of), without reading traces; "hard" recomputes them.

        Parameters
        ----------
        merge_unit_groups : list of lists
            Groups of at least two unit ids.
        new_unit_ids : list, optional
            One id per group (default per ``new_id_strategy``).
        censor_ms : float, optional
            Drop a merged unit's spikes closer than this to its previous spike.
        merging_mode : {"soft", "hard"}
        sparsity_overlap : float
            Soft merges need this fraction of shared channels.
        raise_error_if_overlap_fails : bool
            Else skip the groups below ``sparsity_overlap`` (with a warning).
        new_id_strategy : {"append", "take_first", "join"}
        return_new_unit_ids : bool
        format : {"memory", "binary_folder", "zarr"}
        folder : str or Path, optional
        verbose : bool
        **job_kwargs
            For "hard" merges.

        Returns
        -------
        SortingAnalyzer, or (SortingAnalyzer, list) with ``return_new_unit_ids``
        """
        from .analyzer_curation import merge_analyzer_units

        return merge_analyzer_units(self, merge_unit_groups, new_unit_ids, censor_ms, merging_mode, sparsity_overlap,
                                    raise_error_if_overlap_fails, new_id_strategy, return_new_unit_ids, format,
                                    folder, verbose, **job_kwargs)

    def split_units(self, split_units: dict, new_unit_ids=None, new_id_strategy: str = "append",
                    return_new_unit_ids: bool = False, format: str = "memory", folder=None, verbose: bool = False,
                    **job_kwargs):
        """A new analyzer whose units ``split_units`` are split into parts (SpikeInterface 0.105).

        The parts keep their unit's sparsity, the random spikes and their waveforms; templates of
        the parts come from the stored waveforms (without them, each part gets its unit's
        templates, with a warning). The sorting gets ``is_split``.

        Parameters
        ----------
        split_units : dict
            ``{unit_id: [indices of part 0, indices of part 1, ...]}``: indices into the unit's
            spike train (all segments one after the other), every spike of the unit in one part.
        new_unit_ids : list of lists, optional
            Ids of the parts (default per ``new_id_strategy``).
        new_id_strategy : {"append", "split"}
        return_new_unit_ids : bool
        format : {"memory", "binary_folder", "zarr"}
        folder : str or Path, optional
        verbose : bool
        **job_kwargs
            Accepted for SpikeInterface's signature (nothing is recomputed from traces).

        Returns
        -------
        SortingAnalyzer, or (SortingAnalyzer, list of lists) with ``return_new_unit_ids``
        """
        from .analyzer_curation import split_analyzer_units

        return split_analyzer_units(self, split_units, new_unit_ids, new_id_strategy, return_new_unit_ids, format,
                                    folder, verbose, **job_kwargs)

    # ------------------------------------------------------------------ aggregation
    def is_aggregated(self) -> bool:
        return "aggregation_key" in self.get_sorting_property_keys() and \
            "aggregation_key" in self.get_recording_property_keys()

    def split_by(self) -> dict:
        """One analyzer per group of an aggregated analyzer (``create_sorting_analyzer`` of dicts):
        the units and channels of each ``aggregation_key`` value, extensions sliced (SpikeInterface 0.105).

        Returns
        -------
        dict
            ``{aggregation key: SortingAnalyzer}`` (in memory).
        """
        if not self.is_aggregated():
            raise ValueError("split_by() needs an aggregated analyzer (created from dicts of sortings and "
                             "recordings): this one has no 'aggregation_key' property")
        unit_keys = np.asarray(self.get_sorting_property("aggregation_key"))
        channel_keys = np.asarray(self.get_recording_property("aggregation_key"))
        groups = {}
        for key in np.unique(unit_keys):
            units = self.select_units(self.unit_ids[unit_keys == key])
            groups[key.item() if hasattr(key, "item") else key] = \
                units._select_channels(self.channel_ids[channel_keys == key])
        return groups

    def _select_channels(self, channel_ids) -> "SortingAnalyzer":
        """A memory analyzer on a subset of channels (extensions sliced), as SpikeInterface's.

        Parameters
        ----------
        channel_ids : list or array

        Returns
        -------
        SortingAnalyzer
        """
        from .numpyextractors import NumpySorting

        channel_ids = list(channel_ids)
        keep = self.channel_ids_to_indices(channel_ids)
        self.main_channel_indices  # noqa: B018 - kept as the sorting's main_channel_id
        rec_attributes = dict(self.rec_attributes)
        rec_attributes.update(channel_ids=np.asarray(self.channel_ids)[keep], num_channels=len(channel_ids),
                              properties={k: (np.asarray(v)[keep] if len(np.asarray(v)) == len(self.channel_ids)
                                              else np.asarray(v))
                                          for k, v in (self.rec_attributes.get("properties") or {}).items()})
        if rec_attributes.get("probegroup") is not None:
            rec_attributes["probegroup"] = _rewired_slice(rec_attributes["probegroup"], keep)
        recording = self._recording if self._recording is not None else self._temporary_recording
        if recording is not None:
            recording = recording.select_channels(channel_ids)
        sparsity = None if self.sparsity is None else \
            ChannelSparsity(self.sparsity.mask[:, keep], self.unit_ids, np.asarray(self.channel_ids)[keep])
        sorting = NumpySorting.from_sorting(self.sorting, with_metadata=True, copy_spike_vector=True)
        new = SortingAnalyzer(sorting, recording, "memory", rec_attributes, sparsity, self.return_in_uV,
                              self.peak_sign, self.peak_mode, None, False, False, MemoryStore(), self._backend)
        for name in self._all_extensions():
            new.extensions[name] = self.extensions[name].copy(new, channel_ids=channel_ids)
        return new


def _rewired_slice(probegroup, keep: np.ndarray):
    """The contacts wired to channels ``keep`` (indices, in the new channel order), rewired to the new
    channel indices (old channel ``keep[j]`` becomes channel ``j``), as a recording's channel selection
    wires its probe."""
    wiring = probegroup.get_global_device_channel_indices()["device_channel_indices"]
    contact_of_channel = {int(channel): contact for contact, channel in enumerate(wiring) if channel >= 0}
    sliced = probegroup.get_slice(np.asarray([contact_of_channel[int(k)] for k in keep], dtype="int64"))
    new_index = {int(old): new for new, old in enumerate(np.asarray(keep).tolist())}
    old_wiring = sliced.get_global_device_channel_indices()["device_channel_indices"]
    # all probes at once: probe by probe, a new index could meet another probe's old one (refused)
    sliced.set_global_device_channel_indices(np.asarray([new_index.get(int(d), -1) for d in old_wiring], "int64"))
    return sliced


__all__ = ["SortingAnalyzer", "get_rec_attributes"]
