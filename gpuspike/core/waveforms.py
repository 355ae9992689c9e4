"""WaveformExtractor: sampled waveforms, templates and sparsity of a recording + sorting.

Folders follow SpikeInterface's legacy WaveformExtractor layout (params.json, sparsity.json,
recording_info/, waveforms/waveforms_<unit>.npy, waveforms/sampled_index_<unit>.npy,
templates_<mode>.npy, recording.json / sorting.json), so SpikeInterface's own
``load_waveforms(folder, sorting=...)`` opens them.
"""
from __future__ import annotations

import contextlib
import json
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np

from .atomic import atomic_folder, check_target
from .channels import locations_of_contacts
from .random_spikes import select_random_spikes
from .sorting_tools import stable_group_order
from .progress import progress_call
from .sparsity import ChannelSparsity, densify
from .folder_safety import check_unit_ids_for_files
from .validation import check_extraction_inputs, check_waveform_dtype
from .waveforms_compat import LegacyWaveformExtractorMixin

_TEMPLATE_MODES = ("average", "std", "median", "percentile")
_SAVE_FORMATS = ("binary", "zarr")


def _sampled_index_dtype() -> np.dtype:
    return np.dtype([("spike_index", "int64"), ("segment_index", "int64")])


class WaveformExtractor(LegacyWaveformExtractorMixin):
    """Waveforms of sampled spikes per unit, their templates and sparsity.

    Build it with :func:`extract_waveforms` or :func:`load_waveforms`.
    """

    def __init__(self, recording, sorting, params: dict, rec_attributes: dict, selected_indices: np.ndarray,
                 waveforms: dict | None, sparsity: ChannelSparsity | None = None, folder: Path | None = None,
                 templates: dict | None = None, format: str = "memory") -> None:
        self._recording = recording
        self.sorting = sorting
        self._params = dict(params)
        self._rec_attributes = rec_attributes
        self._selected_indices = selected_indices
        self._waveforms = waveforms
        self.sparsity = sparsity
        self.folder = folder
        self.format = format
        self._template_cache: dict = dict(templates or {})

    # ------------------------------------------------------------------ basic info
    def __repr__(self) -> str:
        txt = (f"WaveformExtractor: {len(self.channel_ids)} channels - {len(self.unit_ids)} units - "
               f"{self.get_num_segments()} segments\n  before:{self.nbefore} after:{self.nafter} "
               f"n_per_units:{self._params['max_spikes_per_unit']}")
        if self.is_sparse():
            txt += " - sparse"
        return txt

    @property
    def recording(self):
        if self._recording is None:
            raise ValueError("the recording is not available (moved or not dumpable); "
                             "load_waveforms(..., with_recording=False) gives rec_attributes only")
        return self._recording

    def has_recording(self) -> bool:
        return self._recording is not None

    @property
    def unit_ids(self) -> np.ndarray:
        return self.sorting.unit_ids

    @property
    def channel_ids(self) -> np.ndarray:
        return np.asarray(self._rec_attributes["channel_ids"])

    @property
    def sampling_frequency(self) -> float:
        return float(self._rec_attributes["sampling_frequency"])

    @property
    def nbefore(self) -> int:
        return int(self._params["ms_before"] * self.sampling_frequency / 1000.0)

    @property
    def nafter(self) -> int:
        return int(self._params["ms_after"] * self.sampling_frequency / 1000.0)

    @property
    def nsamples(self) -> int:
        return self.nbefore + self.nafter

    @property
    def return_scaled(self) -> bool:
        return bool(self._params["return_scaled"])

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self._params["dtype"])

    @property
    def params(self) -> dict:
        return dict(self._params)

    def get_num_segments(self) -> int:
        return self.sorting.get_num_segments()

    def get_num_channels(self) -> int:
        return len(self.channel_ids)

    def is_sparse(self) -> bool:
        """True when waveforms are stored on each unit's sparse channels only."""
        return self.sparsity is not None

    def has_waveforms(self) -> bool:
        """False for template-only extractors (e.g. :func:`compute_templates`)."""
        return self._waveforms is not None or (self.folder is not None and (self.folder / "waveforms").is_dir())

    def get_channel_locations(self) -> np.ndarray:
        if self._recording is not None:
            return self._recording.get_channel_locations()
        probegroup = self._rec_attributes.get("probegroup")
        if probegroup is None:
            raise ValueError("no channel locations: the recording had no probe")
        arr = probegroup.to_numpy(complete=True)
        arr = arr[np.argsort(arr["device_channel_indices"])]
        return locations_of_contacts(arr, 2)

    def get_probegroup(self):
        if self._recording is not None:
            return self._recording.get_probegroup()
        if self._rec_attributes.get("probegroup") is None:
            raise ValueError("the recording had no probe")
        return self._rec_attributes["probegroup"]

    def get_probe(self):
        probes = self.get_probegroup().probes
        if len(probes) != 1:
            raise ValueError(f"{len(probes)} probes: use get_probegroup()")
        return probes[0]

    # ------------------------------------------------------------------ waveforms
    def _unit_index(self, unit_id) -> int:
        return int(self.sorting.ids_to_indices([unit_id])[0])

    def get_sampled_indices(self, unit_id) -> np.ndarray:
        """Sampled spikes of a unit: structured array (spike_index within the unit's train, segment_index)."""
        unit_index = self._unit_index(unit_id)
        spikes = self.sorting.to_spike_vector()
        sel = self._selected_indices
        mine = sel[spikes["unit_index"][sel] == unit_index]
        out = np.zeros(mine.size, dtype=_sampled_index_dtype())
        unit_all = np.flatnonzero(spikes["unit_index"] == unit_index)
        for seg in range(self.get_num_segments()):
            in_seg = unit_all[spikes["segment_index"][unit_all] == seg]
            sel_seg = mine[spikes["segment_index"][mine] == seg]
            pos = np.searchsorted(in_seg, sel_seg)
            rows = np.flatnonzero(spikes["segment_index"][mine] == seg)
            out["spike_index"][rows] = pos
            out["segment_index"][rows] = seg
        return out

    def get_waveforms(self, unit_id, with_index: bool = False, cache: bool = False, lazy: bool = True,
                      sparsity: ChannelSparsity | None = None, force_dense: bool = False):
        """Waveforms of a unit's sampled spikes, (num_spikes, nsamples, num_channels of the unit)."""
        if not self.has_waveforms():
            raise ValueError("this extractor kept no waveforms (templates only); use extract_waveforms() "
                             "with max_spikes_per_unit to keep some")
        self._unit_index(unit_id)
        if self._waveforms is not None:
            wfs = self._waveforms[unit_id]
        else:
            wfs = np.load(self.folder / "waveforms" / f"waveforms_{unit_id}.npy", mmap_mode="r" if lazy else None)
        if sparsity is not None:
            if self.is_sparse():
                raise ValueError("waveforms are already sparse: sparsity= applies to dense extractors only")
            wfs = sparsity.sparsify_waveforms(np.asarray(wfs), unit_id)
        elif force_dense and self.is_sparse():
            wfs = self.sparsity.densify_waveforms(np.asarray(wfs), unit_id)
        if with_index:
            return wfs, self.get_sampled_indices(unit_id)
        return wfs

    # ------------------------------------------------------------------ templates
    def _compute_template_mode(self, mode: str, percentile: float | None) -> np.ndarray:
        dense = np.zeros((len(self.unit_ids), self.nsamples, self.get_num_channels()), dtype="float32")
        for i, unit_id in enumerate(self.unit_ids.tolist()):
            wfs = np.asarray(self.get_waveforms(unit_id))
            if wfs.shape[0] == 0:
                continue
            if mode == "average":
                t = wfs.mean(axis=0, dtype="float64")
            elif mode == "std":
                t = wfs.std(axis=0, dtype="float64")
            elif mode == "median":
                t = np.median(wfs, axis=0)
            else:
                t = np.percentile(wfs, percentile, axis=0)
            if self.is_sparse():
                dense[i][:, self.sparsity.mask[i]] = t[:, :self.sparsity.mask[i].sum()]
            else:
                dense[i] = t
        return dense

    @staticmethod
    def _mode_key(mode: str, percentile: float | None) -> str:
        if mode not in _TEMPLATE_MODES:
            raise ValueError(f"mode={mode!r}: allowed values are {_TEMPLATE_MODES}")
        if mode == "percentile":
            if percentile is None or not 0 <= percentile <= 100:
                raise ValueError(f"mode='percentile' needs percentile= in [0, 100], got {percentile!r}")
            return f"percentile_{percentile}"
        return mode

    def precompute_templates(self, modes: Sequence[str] = ("average", "std", "median", "percentile"),
                             percentile: float | None = None) -> None:
        """Compute and cache templates for ``modes`` (``percentile`` needed for "percentile")."""
        for mode in modes:
            if mode == "percentile" and percentile is None:
                continue
            key = self._mode_key(mode, percentile)
            if key not in self._template_cache:
                self._template_cache[key] = self._compute_template_mode(mode, percentile)

    def get_all_templates(self, unit_ids: Sequence | None = None, mode: str = "average",
                          percentile: float | None = None) -> np.ndarray:
        """Dense templates (num_units, nsamples, num_channels); zeros outside a sparse unit's channels."""
        key = self._mode_key(mode, percentile)
        if key not in self._template_cache:
            if not self.has_waveforms():
                raise ValueError(f"templates {key!r} were not computed and no waveforms are kept; "
                                 f"available: {list(self._template_cache)}")
            self._template_cache[key] = self._compute_template_mode(mode, percentile)
        templates = self._template_cache[key]
        if unit_ids is not None:
            templates = templates[self.sorting.ids_to_indices(unit_ids)]
        return templates

    def get_template(self, unit_id, mode: str = "average", sparsity: ChannelSparsity | None = None,
                     force_dense: bool = False, percentile: float | None = None) -> np.ndarray:
        """Template of one unit: on its sparse channels when sparse (unless ``force_dense``)."""
        template = self.get_all_templates([unit_id], mode=mode, percentile=percentile)[0]
        if sparsity is not None:
            return sparsity.sparsify_waveforms(template, unit_id)
        if self.is_sparse() and not force_dense:
            return self.sparsity.sparsify_waveforms(template, unit_id)
        return template

    # ------------------------------------------------------------------ selection and saving
    def select_units(self, unit_ids: Sequence, new_folder: str | Path | None = None) -> "WaveformExtractor":
        """A new extractor restricted to ``unit_ids`` (in memory, or saved to ``new_folder``)."""
        indices = self.sorting.ids_to_indices(unit_ids)
        sorting = self.sorting.select_units(unit_ids)
        old_spikes = self.sorting.to_spike_vector()
        keep = np.isin(old_spikes["unit_index"][self._selected_indices], indices)
        kept_old = self._selected_indices[keep]
        # positions of the kept spikes in the new spike vector (which keeps the old order)
        old_keep_all = np.flatnonzero(np.isin(old_spikes["unit_index"], indices))
        new_selected = np.searchsorted(old_keep_all, kept_old)
        sparsity = None
        if self.is_sparse():
            sparsity = ChannelSparsity(self.sparsity.mask[indices], sorting.unit_ids, self.channel_ids)
        waveforms = None
        if self.has_waveforms():
            waveforms = {u: np.asarray(self.get_waveforms(u)) for u in sorting.unit_ids.tolist()}
        templates = {k: v[indices] for k, v in self._template_cache.items()}
        we = WaveformExtractor(self._recording, sorting, self._params, self._rec_attributes, new_selected, waveforms,
                               sparsity, None, templates)
        if new_folder is not None:
            return we.save(new_folder)
        return we

    def save(self, folder: str | Path, format: str = "binary", sparsity: ChannelSparsity | None = None,
             overwrite: bool = False, use_relative_path: bool = True) -> "WaveformExtractor":
        """Save to a folder (``format="binary"`` or ``"zarr"``); ``sparsity`` makes a dense one sparse (or a
        sparse one sparser: each unit may only lose channels)."""
        if format not in _SAVE_FORMATS:
            raise ValueError(f"format={format!r}: allowed values are {_SAVE_FORMATS}")
        if isinstance(folder, WaveformExtractor):  # the specification's we.save(we, sparsity=..., folder=...)
            raise TypeError("save(folder=...) takes a folder; call we.save(folder=..., sparsity=...)")
        check_unit_ids_for_files(self.unit_ids)
        we = self
        if sparsity is not None:
            if self.is_sparse() and np.any(sparsity.mask & ~self.sparsity.mask):
                raise ValueError("this extractor is sparse already: sparsity= may only keep fewer of each unit's "
                                 "channels, not add channels it has no waveforms on")
            waveforms = {u: sparsity.sparsify_waveforms(np.asarray(self.get_waveforms(u, force_dense=True)), u)
                         for u in self.unit_ids.tolist()}
            templates = {k: v * sparsity.mask[:, None, :] for k, v in self._template_cache.items()}
            we = WaveformExtractor(self._recording, self.sorting, self._params, self._rec_attributes,
                                   self._selected_indices, waveforms, sparsity, None, templates)
        folder = Path(folder)
        if format == "zarr":
            from .waveforms_zarr import save_waveforms_zarr

            if folder.suffix != ".zarr":
                folder = folder.with_name(folder.name + ".zarr")
            save_waveforms_zarr(we, folder, overwrite=overwrite)
        else:
            with atomic_folder(folder, overwrite=overwrite) as tmp:
                write_waveforms_folder(we, tmp, final_folder=folder.absolute(), use_relative_path=use_relative_path)
        saved = load_waveforms(folder, sorting=self.sorting if not self.sorting.is_dumpable else None)
        if saved._recording is None:  # an in-memory recording is not saved, but stays attached in this session
            saved._recording = self._recording
        return saved


# ---------------------------------------------------------------------- folder IO
def rec_attributes_of(recording) -> dict:
    """What a WaveformExtractor keeps of its recording (usable when the recording has moved)."""
    return {
        "channel_ids": recording.channel_ids,
        "sampling_frequency": recording.sampling_frequency,
        "num_channels": recording.get_num_channels(),
        "num_samples": [recording.get_num_samples(i) for i in range(recording.get_num_segments())],
        "is_filtered": recording.is_filtered(),
        "dtype": str(recording.get_dtype()),
        "probegroup": recording.get_probegroup() if recording.has_probe() else None,
    }


def _write_json(path: Path, obj) -> None:
    from .base import _jsonable

    path.write_text(json.dumps(_jsonable(obj), indent=2))


def write_waveforms_folder(we: WaveformExtractor, tmp: Path, final_folder: Path, use_relative_path: bool = True
                           ) -> None:
    """Write the legacy SpikeInterface layout into ``tmp`` (renamed to ``final_folder`` by the caller)."""
    import probeinterface

    _write_json(tmp / "params.json", we._params)
    info = tmp / "recording_info"
    info.mkdir()
    from .saving import plain_json

    # plain lists (not gpuspike's tagged arrays): SpikeInterface reads this file
    attrs = plain_json({k: v for k, v in we._rec_attributes.items() if k != "probegroup"})
    (info / "recording_attributes.json").write_text(json.dumps(attrs, indent=2))
    if we._rec_attributes.get("probegroup") is not None:
        probeinterface.write_probeinterface(info / "probegroup.json", we._rec_attributes["probegroup"])
    if we.is_sparse():
        _write_json(tmp / "sparsity.json", we.sparsity.to_dict())
    relative_to = final_folder if use_relative_path else None
    if we._recording is not None and we._recording.is_dumpable:
        _write_json(tmp / "recording.json", we._recording.to_dict(relative_to=relative_to, recursive=True))
    sorting = we.sorting
    if sorting.is_dumpable:
        _write_json(tmp / "sorting.json", sorting.to_dict(relative_to=relative_to, recursive=True))
    else:
        from .numpyextractors import NumpySorting

        saved = NumpySorting.from_sorting(sorting, with_metadata=True).save(folder=tmp / "sorting")
        # relative to the temporary folder = relative to the final one, since "sorting" moves with it
        _write_json(tmp / "sorting.json", saved.to_dict(relative_to=tmp, recursive=True))
    _write_json(tmp / "gpuspike_selected_indices.json", {"selected_indices": we._selected_indices})
    if we.has_waveforms():
        wf_dir = tmp / "waveforms"
        wf_dir.mkdir()
        for unit_id in we.unit_ids.tolist():
            np.save(wf_dir / f"waveforms_{unit_id}.npy", np.asarray(we.get_waveforms(unit_id)))
            np.save(wf_dir / f"sampled_index_{unit_id}.npy", we.get_sampled_indices(unit_id))
    for key, templates in we._template_cache.items():
        np.save(tmp / f"templates_{key}.npy", templates)


def load_waveforms(folder: str | Path, with_recording: bool = True, sorting=None) -> WaveformExtractor:
    """Open a waveforms folder (binary layout or ``.zarr``).

    Parameters
    ----------
    folder : str or Path
    with_recording : bool
        Try to load the recording (if it moved, the extractor still works without it).
    sorting : BaseSorting, optional
        Use this sorting instead of the saved one.

    Returns
    -------
    WaveformExtractor
    """
    from .base import _from_jsonable
    from .errors import CorruptFolderError
    from .loading import check_folder, load, read_json

    folder = Path(folder)
    if not folder.exists():
        check_folder(folder, "load_waveforms")  # renames back a folder whose overwrite was interrupted
    if folder.suffix == ".zarr":
        from .waveforms_zarr import load_waveforms_zarr

        return load_waveforms_zarr(folder, with_recording=with_recording, sorting=sorting)
    params_file = folder / "params.json"
    if not params_file.is_file():
        raise CorruptFolderError(f"{params_file} is missing: {folder} is not a waveforms folder")
    params = read_json(params_file)
    attrs_file = folder / "recording_info" / "recording_attributes.json"
    if not attrs_file.is_file():
        raise CorruptFolderError(f"{attrs_file} is missing")
    rec_attributes = _from_jsonable(read_json(attrs_file))
    rec_attributes["channel_ids"] = np.asarray(rec_attributes["channel_ids"])
    probe_file = folder / "recording_info" / "probegroup.json"
    rec_attributes["probegroup"] = None
    if probe_file.is_file():
        import probeinterface

        rec_attributes["probegroup"] = probeinterface.read_probeinterface(probe_file)
    sparsity = None
    if (folder / "sparsity.json").is_file():
        sparsity = ChannelSparsity.from_dict(read_json(folder / "sparsity.json"))
    recording = None
    if with_recording and (folder / "recording.json").is_file():
        try:
            recording = load(folder / "recording.json", base_folder=folder)
        except (OSError, ValueError, KeyError) as err:
            warnings.warn(f"the recording of {folder} could not be loaded ({err}); continuing without it")
    if sorting is None:
        if not (folder / "sorting.json").is_file():
            raise CorruptFolderError(f"{folder / 'sorting.json'} is missing: give sorting=")
        sorting = load(folder / "sorting.json", base_folder=folder)
    check_unit_ids_for_files(sorting.unit_ids)
    selected = _load_selected(folder, sorting)
    templates = {}
    for f in folder.glob("templates_*.npy"):
        templates[f.stem[len("templates_"):]] = np.load(f)
    _check_folder_sorting(folder, sorting, selected, templates)
    return WaveformExtractor(recording, sorting, params, rec_attributes, selected, None, sparsity, folder.absolute(),
                             templates, format="binary")


def _check_folder_sorting(folder: Path, sorting, selected: np.ndarray, templates: dict) -> None:
    """The sorting (given in place of the saved one) must be the one the folder was extracted from."""
    saved_units = sorted(f.stem[len("waveforms_"):] for f in (folder / "waveforms").glob("waveforms_*.npy"))
    given_units = sorted(str(u) for u in sorting.unit_ids.tolist())
    num_spikes = sorting.count_total_num_spikes()
    mismatch = (saved_units and saved_units != given_units) or \
        any(np.shape(t)[0] != len(given_units) for t in templates.values()) or \
        (selected.size and int(selected.max()) >= num_spikes)
    if mismatch:
        raise ValueError(f"load_waveforms(sorting=...): the sorting given (units {given_units}, {num_spikes} spikes) "
                         f"is not the one {str(folder)!r} was extracted from (units {saved_units or '?'}): give that "
                         f"sorting, or none to load the saved one")


def _load_selected(folder: Path, sorting) -> np.ndarray:
    f = folder / "gpuspike_selected_indices.json"
    if f.is_file():
        from .base import _from_jsonable

        from .loading import read_json

        return np.asarray(_from_jsonable(read_json(f))["selected_indices"], dtype="int64")
    spikes = sorting.to_spike_vector()
    selected = []
    for unit_index, unit_id in enumerate(sorting.unit_ids.tolist()):
        path = folder / "waveforms" / f"sampled_index_{unit_id}.npy"
        if not path.is_file():
            continue
        idx = np.load(path)
        for seg in range(sorting.get_num_segments()):
            all_u = np.flatnonzero((spikes["unit_index"] == unit_index) & (spikes["segment_index"] == seg))
            selected.append(all_u[idx["spike_index"][idx["segment_index"] == seg]])
    return np.sort(np.concatenate(selected)) if selected else np.zeros(0, "int64")


# ---------------------------------------------------------------------- extraction
def _resolve_sparsity(recording, sorting, sparse, sparsity, method, peak_sign, radius_um, num_channels, threshold,
                      by_property, num_spikes_for_sparsity, ms_before, ms_after, return_scaled, seed, config):
    if sparsity is not None:
        if not isinstance(sparsity, ChannelSparsity):
            raise TypeError(f"sparsity must be a ChannelSparsity, got {type(sparsity).__name__}")
        if not np.array_equal(sparsity.unit_ids, sorting.unit_ids):
            raise ValueError("sparsity.unit_ids differ from the sorting's unit ids")
        return sparsity
    if not sparse:
        return None
    if method == "radius" and not recording.has_probe() and recording.get_property("location") is None:
        raise ValueError("sparse=True with method='radius' needs channel locations: attach a probe with "
                         "recording.set_probe(...) or choose method='best_channels'")
    from .sparsity import estimate_sparsity_on_backend

    return estimate_sparsity_on_backend(recording, sorting, num_spikes_for_sparsity, ms_before, ms_after,
                                        return_scaled, seed, config, method=method, peak_sign=peak_sign,
                                        radius_um=radius_um, num_channels=num_channels, threshold=threshold,
                                        by_property=by_property, job=("extract_waveforms", "sparsity estimate"))


def _check_inputs(recording, sorting, mode, folder, overwrite):
    from .recording import BaseRecording
    from .sorting import BaseSorting

    if not isinstance(recording, BaseRecording):
        raise TypeError(f"recording must be a BaseRecording, got {type(recording).__name__}")
    if not isinstance(sorting, BaseSorting):
        raise TypeError(f"sorting must be a BaseSorting, got {type(sorting).__name__}")
    if mode not in ("folder", "memory"):
        raise ValueError(f"mode={mode!r}: allowed values are 'folder', 'memory'")
    if mode == "folder":
        if folder is None:
            raise ValueError("mode='folder' needs folder= (or use mode='memory')")
        check_target(Path(folder), overwrite)
    if abs(recording.sampling_frequency - sorting.sampling_frequency) > 1e-6 * recording.sampling_frequency:
        raise ValueError(f"recording ({recording.sampling_frequency} Hz) and sorting "
                         f"({sorting.sampling_frequency} Hz) have different sampling frequencies")
    if recording.get_num_segments() != sorting.get_num_segments():
        raise ValueError(f"recording has {recording.get_num_segments()} segments, sorting has "
                         f"{sorting.get_num_segments()}")


def extract_waveforms(recording, sorting, folder: str | Path | None = None, mode: str = "folder",
                      precompute_template: Sequence[str] = ("average",), ms_before: float = 1.0,
                      ms_after: float = 2.0, max_spikes_per_unit: int | None = 500, overwrite: bool = False,
                      return_scaled: bool = True, dtype=None, sparse: bool = False,
                      sparsity: ChannelSparsity | None = None, use_relative_path: bool = False,
                      num_spikes_for_sparsity: int = 100, method: str = "radius", peak_sign: str = "neg",
                      radius_um: float = 100.0, num_channels: int = 5, threshold: float = 5.0,
                      by_property: str | None = None, seed: int | None = None, format: str = "binary",
                      **job_kwargs) -> WaveformExtractor:
    """Extract waveforms of sampled spikes and their templates, on the NumPy or CUDA backend.

    Parameters
    ----------
    recording, sorting : BaseRecording, BaseSorting
    folder : str or Path, optional
        Output folder (``mode="folder"``); ``format="zarr"`` writes a ``.zarr`` folder.
    mode : {"folder", "memory"}
    precompute_template : tuple of str
        Template modes computed right away ("average", "std", "median").
    ms_before, ms_after : float
        Window around each spike.
    max_spikes_per_unit : int or None
        Spikes sampled per unit (None = all).
    overwrite : bool
        Replace an existing folder (only once the new one is complete).
    return_scaled : bool
        Waveforms in µV (needs gains; ignored with a warning when the recording has none).
    dtype : numpy dtype, optional
        Waveform dtype (float32 when scaled, else the recording's).
    sparse : bool
        Estimate a sparsity first (``method``, ``radius_um``, ``num_channels``, ``threshold``,
        ``by_property``, ``peak_sign``) on ``num_spikes_for_sparsity`` spikes per unit.
    sparsity : ChannelSparsity, optional
        Use this sparsity.
    use_relative_path : bool
        Store the recording/sorting paths relative to the folder.
    num_spikes_for_sparsity : int
        Spikes per unit of the templates the sparsity is estimated from.
    method : {"radius", "best_channels", "threshold" (alias "snr"), "by_property"}
        How ``sparse=True`` chooses each unit's channels (see :func:`compute_sparsity`).
    peak_sign : {"neg", "pos", "both"}
        Which extremum locates a unit's peak channel.
    radius_um : float
        Radius around the peak channel, for "radius".
    num_channels : int
        Channels per unit, for "best_channels".
    threshold : float
        SNR threshold, for "threshold".
    by_property : str, optional
        Channel property grouping the channels, for "by_property".
    seed : int, optional
        Seed of the spike sampling (same seed → same spikes on every backend).
    format : {"binary", "zarr"}
        Layout of the folder.
    **job_kwargs
        n_jobs, chunk_duration, progress_bar, backend ("auto"|"numpy"|"cuda"), engine, ...

    Returns
    -------
    WaveformExtractor
        Saved in ``folder`` (``mode="folder"``) or in memory.

    Notes
    -----
    A spike closer than ``ms_before`` / ``ms_after`` to a segment edge is extracted like any
    other, as in SpikeInterface 0.105: the samples of its window that fall outside the segment
    are 0 (not the channel offset), and it counts in the templates.

    Spikes at or beyond the end of their segment hold no data: they are dropped with a warning
    (``we.sorting`` is then a :class:`~gpuspike.core.excess_spikes.RemoveExcessSpikesSorting`
    view), as SpikeInterface 0.105's ``create_sorting_analyzer`` does.

    A unit with zero spikes (in the sorting, or after dropping those spikes) gets zero waveforms
    (shape ``(0, nsamples, channels)``) and an all-zero template for every mode ("average",
    "std", "median", "percentile"), with no warning, exactly as in SpikeInterface 0.105. Such a
    template is not a flat unit: check ``sorting.count_num_spikes_per_unit()`` (or drop the unit
    with ``sorting.remove_empty_units()``) before reading amplitudes from templates.
    """
    from .job import resolve_job_kwargs

    config = resolve_job_kwargs(**job_kwargs)
    _check_inputs(recording, sorting, mode, folder, overwrite)
    if isinstance(precompute_template, str):
        precompute_template = (precompute_template,)
    if not all(isinstance(m, str) and m in _TEMPLATE_MODES for m in (precompute_template or ())):
        raise ValueError(f"precompute_template={precompute_template!r}: give a list of template modes among "
                         f"{_TEMPLATE_MODES}")
    sorting = check_extraction_inputs(recording, sorting, ms_before, ms_after, max_spikes_per_unit,
                                      "extract_waveforms", unit_ids_name_files=mode == "folder",
                                      num_spikes_for_sparsity=num_spikes_for_sparsity if sparse else None)
    if format not in _SAVE_FORMATS:
        raise ValueError(f"format={format!r}: allowed values are {_SAVE_FORMATS}")
    if return_scaled and not recording.has_scaleable_traces():
        warnings.warn("the recording has no gains: extracting unscaled waveforms (return_scaled=False)")
        return_scaled = False
    dtype = check_waveform_dtype(dtype, np.dtype("float32" if return_scaled else recording.get_dtype()))
    estimate_sparsity = sparsity is None and sparse
    with progress_call(config.progress_bar, "extract_waveforms", 2 if estimate_sparsity else 1) as call:
        with call.stage("sparsity estimate") if estimate_sparsity else contextlib.nullcontext():
            sparsity = _resolve_sparsity(recording, sorting, sparse, sparsity, method, peak_sign, radius_um,
                                         num_channels, threshold, by_property, num_spikes_for_sparsity, ms_before,
                                         ms_after, return_scaled, seed, config)
        params = {"ms_before": float(ms_before), "ms_after": float(ms_after),
                  "max_spikes_per_unit": max_spikes_per_unit, "return_scaled": bool(return_scaled),
                  "dtype": dtype.str, "seed": seed}
        selected = select_random_spikes(sorting, max_spikes_per_unit, seed)
        want_mean_std = bool({"average", "std"} & set(precompute_template))
        with call.stage("gather"):
            waveforms, templates = _gather_waveforms(recording, sorting, selected, params, sparsity, dtype, config,
                                                     want_mean_std)
    rec_attributes = rec_attributes_of(recording)
    we = WaveformExtractor(recording, sorting, params, rec_attributes, selected, waveforms, sparsity,
                           templates=templates)
    we.precompute_templates(modes=precompute_template)
    if mode == "folder":
        return we.save(folder, format=format, overwrite=overwrite, use_relative_path=use_relative_path)
    return we


def _gather_waveforms(recording, sorting, selected, params, sparsity, dtype, config,
                      want_mean_std: bool = False) -> tuple[dict, dict]:
    """Waveforms per unit, and mean/std templates ({} unless ``want_mean_std``) from one read of them.

    The gather runs on the block engine; the waveforms buffer is unit-major (each unit's
    waveforms are one contiguous block of rows, in time order) so that its templates read each
    waveform once, where the buffer is (on the device after a GPU gather), before the buffer
    comes back.
    """
    from ..engine import GatherJob, run_block_job, templates_of_waveforms

    spikes = sorting.to_spike_vector()[selected]
    fs = recording.sampling_frequency
    nbefore = int(params["ms_before"] * fs / 1000.0)
    nafter = int(params["ms_after"] * fs / 1000.0)
    sparse_channels = None if sparsity is None else sparsity.padded_channel_indices()
    width = recording.get_num_channels() if sparsity is None else max(1, sparsity.max_num_active_channels)
    rows = np.empty(spikes.size, dtype="int64")
    rows[stable_group_order(spikes["unit_index"], sorting.get_num_units())] = np.arange(spikes.size)
    job = GatherJob(spikes, rows, spikes.size, nbefore, nafter, width, sparse_channels, params["return_scaled"],
                    dtype, job_name="extract_waveforms", stage="gather")
    output = run_block_job(job, recording, config)
    from ..backends import get_backend

    where = config.backend_object if job.placement == "device" else get_backend("numpy")
    templates = {}
    if want_mean_std:
        num_units = sorting.get_num_units()
        bounds = np.searchsorted(np.sort(spikes["unit_index"]), np.arange(num_units + 1)).astype("int64")
        mean, std = templates_of_waveforms(output, bounds, where, "float32", stream=job.stream)
        mask = None if sparsity is None else sparsity.mask
        templates = {"average": densify(mean, mask), "std": densify(std, mask)}
    buffer = where.to_host(output, stream=job.stream)
    return _split_by_unit(buffer, spikes, sorting, sparsity, width), templates


def _split_by_unit(buffer, spikes, sorting, sparsity, width) -> dict:
    bounds = np.searchsorted(np.sort(spikes["unit_index"]), np.arange(sorting.get_num_units() + 1))
    waveforms = {}
    for unit_index, unit_id in enumerate(sorting.unit_ids.tolist()):
        n_chans = width if sparsity is None else int(sparsity.mask[unit_index].sum())
        waveforms[unit_id] = buffer[bounds[unit_index]:bounds[unit_index + 1], :, :n_chans]
    return waveforms


def compute_templates(recording, sorting, ms_before: float = 1.0, ms_after: float = 2.0,
                      max_spikes_per_unit: int | None = None, return_scaled: bool = True, seed: int | None = None,
                      with_std: bool = True, **job_kwargs) -> WaveformExtractor:
    """Mean and std templates of all spikes (or a sample) in one streaming pass, storing no waveforms.

    This is what an hour-long recording needs: memory is bounded by the block size whatever the
    number of spikes. Returns a template-only :class:`WaveformExtractor` ("average", and "std"
    unless ``with_std=False``, which halves the accumulation work). Spikes near a segment edge
    add their partially filled windows (zeros outside the segment), as in :func:`extract_waveforms`.
    Spikes beyond the end of the recording are dropped with a warning, and a unit with zero spikes
    gets all-zero "average" and "std" templates, as in :func:`extract_waveforms` and
    SpikeInterface 0.105.

    Parameters
    ----------
    recording, sorting : BaseRecording, BaseSorting
        The traces and the spikes.
    ms_before, ms_after : float
        Window around each spike (finite, >= 0; at least one sample in all).
    max_spikes_per_unit : int or None
        Spikes sampled per unit (None = every spike).
    return_scaled : bool
        Templates in µV (needs gains; computed unscaled with a warning when the recording has none).
    seed : int, optional
        Seed of the spike sampling.
    with_std : bool
        Also the standard deviation.
    **job_kwargs
        n_jobs, chunk_duration, progress_bar, backend ("auto"|"numpy"|"cuda"), engine, ...

    Returns
    -------
    WaveformExtractor
        Template-only ("average" and "std"; no waveforms kept).
    """
    from .job import resolve_job_kwargs

    config = resolve_job_kwargs(**job_kwargs)
    _check_inputs(recording, sorting, "memory", None, False)
    sorting = check_extraction_inputs(recording, sorting, ms_before, ms_after, max_spikes_per_unit, "compute_templates")
    if return_scaled and not recording.has_scaleable_traces():
        warnings.warn("the recording has no gains: computing unscaled templates (return_scaled=False)")
        return_scaled = False
    selected = select_random_spikes(sorting, max_spikes_per_unit, seed)
    mean, std = _accumulate(recording, sorting, selected, ms_before, ms_after, return_scaled, with_std, config,
                            ("compute_templates", ""), result_dtype="float32")
    params = {"ms_before": float(ms_before), "ms_after": float(ms_after), "max_spikes_per_unit": max_spikes_per_unit,
              "return_scaled": bool(return_scaled), "dtype": "<f4", "seed": seed}
    templates = {"average": mean}
    if with_std:
        templates["std"] = std
    return WaveformExtractor(recording, sorting, params, rec_attributes_of(recording), selected, None, None,
                             templates=templates)


def _accumulate(recording, sorting, selected, ms_before, ms_after, return_scaled, with_std, config,
                job: tuple[str, str], keep_on_backend: bool = False, result_dtype: str = "float64"):
    """Templates (``result_dtype``) of the ``selected`` spikes through the block engine's accumulate job.

    With ``keep_on_backend``, also the stream the results were computed on: ``(mean, std, stream)``.
    """
    from ..engine import run_block_job

    job = _accumulate_job(recording, sorting, selected, ms_before, ms_after, return_scaled, with_std, job,
                          result_dtype)
    result = run_block_job(job, recording, config, keep_on_backend=keep_on_backend)
    return result + (job.stream,) if keep_on_backend else result


def _accumulate_job(recording, sorting, selected, ms_before, ms_after, return_scaled, with_std,
                    job: tuple[str, str], result_dtype: str = "float64"):
    """The block engine's accumulate job of the ``selected`` spikes (see :func:`_accumulate`)."""
    from ..engine import AccumulateJob, edge_positions

    spikes = sorting.to_spike_vector()[selected]
    fs = recording.sampling_frequency
    nbefore, nafter = int(ms_before * fs / 1000.0), int(ms_after * fs / 1000.0)
    num_units = sorting.get_num_units()
    gains = offsets = None
    if return_scaled:
        gains, offsets = recording._scaling(slice(None))
    # raw int16 sums of a few hundred spikes per unit are exact in float32: a means-only job moves
    # half the accumulator bytes then (edge windows, padded with non-integers, need float64)
    raw = np.dtype(recording.get_dtype())
    num_samples = [recording.get_num_samples(i) for i in range(recording.get_num_segments())]
    per_unit = np.bincount(spikes["unit_index"], minlength=num_units)
    exact32 = (not with_std and raw.kind in "iu" and raw.itemsize <= 2
               and int(per_unit.max(initial=0)) * 2 ** (8 * raw.itemsize) <= 2**24
               and edge_positions(spikes, num_samples, nbefore, nafter).size == 0)
    return AccumulateJob(spikes, num_units, nbefore, nafter, recording.get_num_channels(), gains, offsets,
                         with_std=with_std, sums_dtype="float32" if exact32 else "float64",
                         sample_dtype=raw, result_dtype=result_dtype, job_name=job[0], stage=job[1])
