"""The waveform API of SpikeInterface 0.100 and 0.105 as thin layers over gpuspike's extraction.

* :class:`LegacyWaveformExtractorMixin` gives :class:`~gpuspike.core.waveforms.WaveformExtractor`
  0.100's ``create / set_params / run_extract_waveforms / load / load_from_folder /
  has_extension / get_waveforms_segment``;
* :func:`extract_waveforms` takes 0.105's arguments and defaults (``sparse=True``, the
  0.100-era arguments it still accepts) and calls gpuspike's engine;
* :func:`estimate_sparsity`, :func:`precompute_sparsity`, :func:`estimate_templates`,
  :func:`estimate_templates_with_accumulator`, :func:`split_waveforms_by_units` and
  :func:`get_template_channel_sparsity` are built on ``compute_templates``, ``extract_waveforms``
  and ``compute_sparsity``.
"""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Sequence

import numpy as np

from .sparsity import ChannelSparsity, check_peak_sign

_CORE_EXTENSIONS = ("random_spikes", "waveforms", "templates")


def _ms(samples: int, sampling_frequency: float) -> float:
    """Milliseconds that ``int(ms * fs / 1000)`` turns back into exactly ``samples``."""
    return (int(samples) + 0.5) * 1000.0 / sampling_frequency


class LegacyWaveformExtractorMixin:
    """SpikeInterface 0.100's WaveformExtractor methods (create, then set_params, then run)."""

    @classmethod
    def create(cls, recording, sorting, folder, mode: str = "folder", remove_if_exists: bool = False,
               use_relative_path: bool = False, allow_unfiltered: bool = False,
               sparsity: ChannelSparsity | None = None):
        """An extractor without waveforms yet: set its parameters, then ``run_extract_waveforms()``.

        Parameters
        ----------
        recording, sorting : BaseRecording, BaseSorting
        folder : str or Path or None
            Where ``run_extract_waveforms`` writes (``mode="folder"``).
        mode : {"folder", "memory"}
        remove_if_exists : bool
            Replace an existing waveforms folder (one that gpuspike or SpikeInterface wrote).
        use_relative_path : bool
            Store the recording / sorting paths relative to the folder.
        allow_unfiltered : bool
            Accept a recording not annotated ``is_filtered`` (refused otherwise, as in 0.100).
        sparsity : ChannelSparsity, optional

        Returns
        -------
        WaveformExtractor
        """
        from .sorting import exceeding_spikes
        from .waveforms import _check_inputs, rec_attributes_of

        if mode not in ("folder", "memory"):
            raise ValueError(f"mode={mode!r}: allowed values are 'folder', 'memory'")
        _check_inputs(recording, sorting, "memory", None, False)
        if exceeding_spikes(sorting, recording):
            raise ValueError("the sorting has spikes beyond the recording's samples; remove them first")
        if not recording.is_filtered() and not allow_unfiltered:
            raise ValueError("the recording is not annotated as filtered: filter it (then "
                             "recording.annotate(is_filtered=True)), or pass allow_unfiltered=True")
        if sparsity is not None and not np.array_equal(sparsity.unit_ids, sorting.unit_ids):
            raise ValueError("sparsity.unit_ids differ from the sorting's unit ids")
        if mode == "folder":
            if folder is None:
                raise ValueError("mode='folder' needs folder= (or use mode='memory')")
            folder = Path(folder)
            if folder.exists():
                if not remove_if_exists:
                    raise FileExistsError(f"folder {str(folder)!r} already exists; pass remove_if_exists=True to "
                                          f"replace it")
                if not (folder / "params.json").is_file():
                    raise FileExistsError(f"folder {str(folder)!r} is not a waveforms folder: gpuspike replaces only "
                                          f"folders it (or SpikeInterface) wrote")
        we = cls(recording, sorting, {}, rec_attributes_of(recording), np.zeros(0, "int64"), {}, sparsity,
                 folder.absolute() if mode == "folder" else None, {}, format="binary" if mode == "folder" else "memory")
        we._legacy_use_relative_path = bool(use_relative_path)
        we.set_params()
        return we

    def set_params(self, ms_before: float = 1.0, ms_after: float = 2.0, max_spikes_per_unit: int | None = 500,
                   return_scaled: bool = False, dtype=None) -> None:
        """Set the extraction parameters (forgets waveforms and templates already computed).

        Parameters
        ----------
        ms_before, ms_after : float
        max_spikes_per_unit : int or None
        return_scaled : bool
            µV waveforms (switched off, with a warning, when the recording has no gains).
        dtype : numpy dtype, optional
            Default: the recording's (float32 when scaled).
        """
        recording = self.recording
        if return_scaled and not recording.has_scaleable_traces():
            warnings.warn("the recording has no gains: return_scaled set to False", UserWarning, stacklevel=2)
            return_scaled = False
        dtype = np.dtype(recording.get_dtype() if dtype is None else dtype)
        if return_scaled and dtype.kind in "iu":
            dtype = np.dtype("float32")
        self._params = {"ms_before": float(ms_before), "ms_after": float(ms_after),
                        "max_spikes_per_unit": None if max_spikes_per_unit is None else int(max_spikes_per_unit),
                        "return_scaled": bool(return_scaled), "dtype": dtype.str, "seed": None}
        self._waveforms = {}
        self._selected_indices = np.zeros(0, "int64")
        self._template_cache = {}
        self._legacy_pending = True  # parameters set, nothing extracted yet

    def run_extract_waveforms(self, seed: int | None = None, **job_kwargs) -> None:
        """Extract the waveforms with the parameters set (``set_params``), in this object (and its folder).

        Parameters
        ----------
        seed : int, optional
            Seed of the spike sampling.
        **job_kwargs
        """
        from .atomic import atomic_folder
        from .waveforms import extract_waveforms as _extract, write_waveforms_folder

        p = self._params
        extracted = _extract(self.recording, self.sorting, mode="memory", precompute_template=(),
                             ms_before=p["ms_before"], ms_after=p["ms_after"],
                             max_spikes_per_unit=p["max_spikes_per_unit"], return_scaled=p["return_scaled"],
                             dtype=p["dtype"], sparse=False, sparsity=self.sparsity, seed=seed, **job_kwargs)
        self._params = dict(extracted._params)
        self._selected_indices = extracted._selected_indices
        self._waveforms = extracted._waveforms
        self._template_cache = {}
        self._legacy_pending = False
        if self.folder is not None:
            with atomic_folder(self.folder, overwrite=True) as tmp:
                write_waveforms_folder(self, tmp, final_folder=self.folder,
                                       use_relative_path=getattr(self, "_legacy_use_relative_path", False))
            self._waveforms = None  # read back from the folder, lazily

    @classmethod
    def load(cls, folder, with_recording: bool = True, sorting=None):
        """Open a waveforms folder (binary or ``.zarr``); see :func:`load_waveforms`."""
        from .waveforms import load_waveforms

        return load_waveforms(folder, with_recording=with_recording, sorting=sorting)

    @classmethod
    def load_from_folder(cls, folder, with_recording: bool = True, sorting=None):
        """Open a waveforms folder; see :func:`load_waveforms`."""
        from .waveforms import load_waveforms

        return load_waveforms(folder, with_recording=with_recording, sorting=sorting)

    def has_extension(self, extension_name: str) -> bool:
        """True for computed core parts ("random_spikes", "waveforms", "templates") and for extension
        folders (``<folder>/<name>/params.json``, written by SpikeInterface's postprocessing).

        Parameters
        ----------
        extension_name : str

        Returns
        -------
        bool
        """
        if getattr(self, "_legacy_pending", False) and extension_name in _CORE_EXTENSIONS:
            return False  # created (and parameters set) but not run yet
        if extension_name == "random_spikes":
            return self._selected_indices.size > 0 or self.has_waveforms()
        if extension_name == "waveforms":
            return self.has_waveforms()
        if extension_name == "templates":
            return bool(self._template_cache)
        return self.folder is not None and (Path(self.folder) / extension_name / "params.json").is_file()

    def get_available_extension_names(self) -> list[str]:
        """Names for which :meth:`has_extension` is True (core parts and extension folders).

        Returns
        -------
        list of str
        """
        names = [n for n in _CORE_EXTENSIONS if self.has_extension(n)]
        if self.folder is not None:
            names += sorted(p.name for p in Path(self.folder).iterdir()
                            if p.is_dir() and (p / "params.json").is_file())
        return names

    def get_waveforms_segment(self, segment_index: int, unit_id, sparsity: ChannelSparsity | None = None):
        """Waveforms of a unit's sampled spikes of one segment.

        Parameters
        ----------
        segment_index : int
        unit_id : int or str
        sparsity : ChannelSparsity, optional
            Channels to keep (dense extractors only).

        Returns
        -------
        np.ndarray
        """
        segment_index = self.sorting._check_segment_index(segment_index)
        wfs, index = self.get_waveforms(unit_id, with_index=True, sparsity=sparsity)
        return np.asarray(wfs)[index["segment_index"] == segment_index]

    def get_template_segment(self, unit_id, segment_index: int, mode: str = "average",
                             sparsity: ChannelSparsity | None = None) -> np.ndarray:
        """Template of a unit from the waveforms of one segment (``mode``: average, median or std).

        Parameters
        ----------
        unit_id : int or str
        segment_index : int
        mode : {"average", "median", "std"}
        sparsity : ChannelSparsity, optional
            Return the template on these channels.

        Returns
        -------
        np.ndarray
            (nsamples, channels).
        """
        if mode not in ("average", "median", "std"):
            raise ValueError(f"mode={mode!r}: allowed values are 'average', 'median', 'std'")
        wfs = self.get_waveforms_segment(segment_index, unit_id, sparsity=sparsity).astype("float64")
        return {"average": np.mean, "median": np.median, "std": np.std}[mode](wfs, axis=0)

    def is_filtered(self) -> bool:
        """Whether the recording was annotated as filtered.

        Returns
        -------
        bool
        """
        if self.has_recording():
            return self.recording.is_filtered()
        return bool(self._rec_attributes.get("is_filtered", False))

    def get_num_samples(self, segment_index: int | None = None) -> int:
        """Samples of a segment of the recording.

        Parameters
        ----------
        segment_index : int, optional

        Returns
        -------
        int
        """
        segment_index = self.sorting._check_segment_index(segment_index)
        if self.has_recording():
            return self.recording.get_num_samples(segment_index)
        return int(self._rec_attributes["num_samples"][segment_index])

    def get_total_samples(self) -> int:
        """Samples of all segments.

        Returns
        -------
        int
        """
        return sum(self.get_num_samples(i) for i in range(self.get_num_segments()))

    def get_total_duration(self) -> float:
        """Seconds of all segments.

        Returns
        -------
        float
        """
        return self.get_total_samples() / self.sampling_frequency

    # ------------------------------------------------ SpikeInterface 0.105's MockWaveformExtractor
    @property
    def sorting_analyzer(self):
        """This extractor's content as a SortingAnalyzer in memory (SpikeInterface 0.105's
        MockWaveformExtractor wraps one): ``we.sorting_analyzer.save_as(folder=...)`` converts a
        waveforms folder. Built on first use, again after templates or waveforms change."""
        from .analyzer_legacy import analyzer_from_waveform_extractor

        state = (tuple(sorted(self._template_cache)), self.has_waveforms())
        cached = self.__dict__.get("_analyzer_view")
        if cached is None or cached[0] != state:
            cached = self.__dict__["_analyzer_view"] = (state, analyzer_from_waveform_extractor(self))
        return cached[1]

    def is_read_only(self) -> bool:
        """True when the extractor's folder cannot be written (in memory: False).

        Returns
        -------
        bool
        """
        import os

        return self.folder is not None and not os.access(self.folder, os.W_OK)

    def channel_ids_to_indices(self, channel_ids) -> np.ndarray:
        """Indices of ``channel_ids`` among the recording's channels.

        Parameters
        ----------
        channel_ids : array-like

        Returns
        -------
        np.ndarray
        """
        lookup = {c: i for i, c in enumerate(self.channel_ids.tolist())}
        missing = [c for c in np.asarray(channel_ids).tolist() if c not in lookup]
        if missing:
            raise ValueError(f"channel_ids {missing} are not channels of the recording; "
                             f"channels: {self.channel_ids.tolist()}")
        return np.array([lookup[c] for c in np.asarray(channel_ids).tolist()], dtype="int64")

    def get_recording_property(self, key: str):
        """A property of the recording's channels (from the saved attributes without the recording).

        Parameters
        ----------
        key : str

        Returns
        -------
        np.ndarray or None
        """
        if self.has_recording():
            return self.recording.get_property(key)
        return (self._rec_attributes.get("properties") or {}).get(key)

    def get_sorting_property(self, key: str):
        """A property of the sorting's units.

        Parameters
        ----------
        key : str

        Returns
        -------
        np.ndarray or None
        """
        return self.sorting.get_property(key)

    def load_extension(self, extension_name: str):
        """An extension of :attr:`sorting_analyzer` (``get_data()`` gives its data).

        Parameters
        ----------
        extension_name : str

        Returns
        -------
        AnalyzerExtension or None
        """
        return self.sorting_analyzer.get_extension(extension_name)

    def delete_waveforms(self) -> None:
        """Drop the waveforms (templates stay); a folder's ``waveforms/`` is removed."""
        import shutil

        self._waveforms = None
        if self.folder is not None and (Path(self.folder) / "waveforms").is_dir():
            if self.is_read_only():
                raise PermissionError(f"{str(self.folder)!r} is read-only: its waveforms cannot be deleted")
            shutil.rmtree(Path(self.folder) / "waveforms")

    def delete_extension(self, extension_name: str) -> None:
        """Delete ``"waveforms"`` (see :meth:`delete_waveforms`) or an extension folder of the extractor's
        folder (``<folder>/<name>/params.json``, written by SpikeInterface's postprocessing).

        Parameters
        ----------
        extension_name : str
        """
        import shutil

        if extension_name == "waveforms":
            self.delete_waveforms()
            return
        if extension_name in _CORE_EXTENSIONS or not self.has_extension(extension_name):
            deletable = ["waveforms"] + [n for n in self.get_available_extension_names() if n not in _CORE_EXTENSIONS]
            raise ValueError(f"extension_name={extension_name!r} cannot be deleted; deletable: {deletable}")
        shutil.rmtree(Path(self.folder) / extension_name)


# ---------------------------------------------------------------------- functions
def extract_waveforms(recording, sorting, folder=None, mode: str = "folder",
                      precompute_template: Sequence[str] = ("average",), ms_before: float = 1.0,
                      ms_after: float = 2.0, max_spikes_per_unit: int | None = 500, overwrite: bool | None = None,
                      return_scaled: bool = True, dtype=None, sparse: bool = True,
                      sparsity: ChannelSparsity | None = None, sparsity_temp_folder=None,
                      num_spikes_for_sparsity: int = 100, unit_batch_size: int | None = None,
                      allow_unfiltered: bool | None = None, use_relative_path: bool | None = None,
                      seed: int | None = None, load_if_exists: bool | None = None, format: str = "binary", **kwargs):
    """Extract waveforms of sampled spikes and their templates (SpikeInterface 0.105's arguments).

    Parameters
    ----------
    recording, sorting : BaseRecording, BaseSorting
    folder : str or Path, optional
        Output folder (``mode="folder"``).
    mode : {"folder", "memory"}
    precompute_template : tuple of str
        Template modes computed right away.
    ms_before, ms_after : float
    max_spikes_per_unit : int or None
    overwrite : bool, optional
        Replace an existing folder (None: False).
    return_scaled : bool
    dtype : numpy dtype, optional
    sparse : bool
        Estimate a sparsity first (default True, as SpikeInterface >= 0.99) with
        :func:`estimate_sparsity` and the ``method``, ``radius_um``, ``num_channels``,
        ``threshold``, ``peak_sign``, ``by_property`` given in ``kwargs``.
    sparsity : ChannelSparsity, optional
        Use this sparsity.
    sparsity_temp_folder : None
        0.100-era argument; 0.105 refuses any value but None.
    num_spikes_for_sparsity : int
    unit_batch_size : None
        0.100-era argument; 0.105 refuses any value but None.
    allow_unfiltered : bool, optional
        0.100-era argument, ignored (unfiltered recordings are accepted, as in 0.105).
    use_relative_path : bool, optional
        Store the recording / sorting paths relative to the folder.
    seed : int, optional
    load_if_exists : None
        0.100-era argument; 0.105 refuses any value but None (load with ``load_waveforms``).
    format : {"binary", "zarr"}
        Folder format (``mode="folder"``).
    **kwargs
        Sparsity arguments (above) and job kwargs (``n_jobs``, ``chunk_duration``, ``backend``, ...).

    Returns
    -------
    WaveformExtractor

    Notes
    -----
    A spike closer than ``ms_before`` / ``ms_after`` to a segment edge is extracted like any
    other, as in SpikeInterface 0.105: the samples of its window outside the segment are 0.
    Spikes at or beyond the end of their segment hold no data: they are dropped with a warning.
    A unit with zero spikes gets zero waveforms (shape ``(0, nsamples, channels)``) and an all-zero
    template for every mode, with no warning, exactly as in SpikeInterface 0.105; check
    ``sorting.count_num_spikes_per_unit()`` before reading amplitudes from templates.
    """
    from .job import split_job_kwargs
    from .waveforms import extract_waveforms as _extract

    for name, value, hint in (("load_if_exists", load_if_exists, "open an existing folder with load_waveforms()"),
                              ("unit_batch_size", unit_batch_size, "all units are processed in one pass"),
                              ("sparsity_temp_folder", sparsity_temp_folder, "sparsity is estimated in memory")):
        if value is not None:
            raise ValueError(f"extract_waveforms({name}={value!r}): SpikeInterface 0.105 accepts only "
                             f"{name}=None ({hint})")
    from .validation import check_extraction_inputs

    if sparse and sparsity is None:  # checked (and spikes past the end dropped) before the sparsity pass
        sorting = check_extraction_inputs(recording, sorting, ms_before, ms_after, max_spikes_per_unit,
                                          "extract_waveforms", unit_ids_name_files=mode == "folder",
                                          num_spikes_for_sparsity=num_spikes_for_sparsity)
    sparsity_args, job_kwargs = split_job_kwargs(kwargs)
    allowed = ("method", "peak_sign", "radius_um", "num_channels", "threshold", "by_property", "amplitude_mode",
               "noise_levels")
    unknown = sorted(set(sparsity_args) - set(allowed))
    if unknown:
        raise TypeError(f"extract_waveforms: unknown keyword arguments {unknown}; allowed: sparsity arguments "
                        f"{list(allowed)} and job kwargs")
    if sparse and sparsity is None:
        sparsity = estimate_sparsity(sorting, recording, num_spikes_for_sparsity=num_spikes_for_sparsity,
                                     ms_before=ms_before, ms_after=ms_after,
                                     _job=("extract_waveforms", "sparsity estimate"), **sparsity_args, **job_kwargs)
    return _extract(recording, sorting, folder=folder, mode=mode, precompute_template=tuple(precompute_template),
                    ms_before=ms_before, ms_after=ms_after, max_spikes_per_unit=max_spikes_per_unit,
                    overwrite=bool(overwrite), return_scaled=return_scaled, dtype=dtype, sparse=False,
                    sparsity=sparsity, use_relative_path=bool(use_relative_path), seed=seed, format=format,
                    **job_kwargs)


def estimate_templates_with_accumulator(recording, spikes: np.ndarray, unit_ids, nbefore: int, nafter: int,
                                        return_in_uV: bool = True, sparsity_mask: np.ndarray | None = None,
                                        job_name: str | None = None, return_std: bool = False,
                                        verbose: bool = False, return_scaled: bool | None = None, **job_kwargs):
    """Mean (and std) templates of the given spikes, accumulated in one pass (no waveform buffer).

    Parameters
    ----------
    recording : BaseRecording
    spikes : np.ndarray
        Spike vector (``unit_index`` into ``unit_ids``).
    unit_ids : array-like
    nbefore, nafter : int
        Samples before / after each spike.
    return_in_uV : bool
        µV templates.
    return_scaled : bool, optional
        The older name of ``return_in_uV`` (wins when given).
    sparsity_mask : np.ndarray, optional
        (num_units, num_channels) bool: each unit's templates on its channels only, packed (see Returns).
    job_name : str, optional
    return_std : bool
        Also return the standard deviations.
    verbose : bool
    **job_kwargs

    Returns
    -------
    templates : np.ndarray (num_units, nbefore + nafter, num_channels)
        With ``sparsity_mask``: (num_units, nbefore + nafter, most channels of a unit), each unit's
        channels first in channel order, zeros after (SpikeInterface 0.105's sparse layout).
    std : np.ndarray
        With ``return_std`` (the same layout).
    """
    from .numpyextractors import NumpySorting
    from .waveforms import compute_templates

    if return_scaled is not None:
        return_in_uV = return_scaled
    unit_ids = np.asarray(unit_ids)
    mask = _check_sparsity_mask(sparsity_mask, unit_ids.size, recording.get_num_channels())
    fs = recording.sampling_frequency
    sorting = NumpySorting(np.asarray(spikes), fs, unit_ids, num_segments=recording.get_num_segments())
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="the recording has no gains")
        we = compute_templates(recording, sorting, ms_before=_ms(nbefore, fs), ms_after=_ms(nafter, fs),
                               max_spikes_per_unit=None, return_scaled=return_in_uV, with_std=return_std,
                               **job_kwargs)
    templates = np.array(we.get_all_templates(mode="average"), dtype="float32")
    std = np.array(we.get_all_templates(mode="std"), dtype="float32") if return_std else None
    if sparsity_mask is not None:
        templates = pack_by_sparsity_mask(templates, mask)
        std = None if std is None else pack_by_sparsity_mask(std, mask)
    return (templates, std) if return_std else templates


def _check_sparsity_mask(sparsity_mask, num_units: int, num_channels: int) -> np.ndarray | None:
    if sparsity_mask is None:
        return None
    mask = np.asarray(sparsity_mask, dtype=bool)
    if mask.shape != (num_units, num_channels):
        raise ValueError(f"sparsity_mask has shape {mask.shape}: expected (num_units, num_channels) = "
                         f"({num_units}, {num_channels})")
    return mask


def pack_by_sparsity_mask(dense: np.ndarray, sparsity_mask: np.ndarray) -> np.ndarray:
    """Dense per-unit arrays (units, samples, channels) on each unit's channels of ``sparsity_mask``:
    (units, samples, most channels of a unit), each unit's channels first in channel order, zeros after.

    Parameters
    ----------
    dense : np.ndarray
        (num_units, num_samples, num_channels).
    sparsity_mask : np.ndarray
        (num_units, num_channels) bool.

    Returns
    -------
    np.ndarray
    """
    width = int(sparsity_mask.sum(axis=1).max(initial=0))
    packed = np.zeros(dense.shape[:2] + (width,), dtype=dense.dtype)
    for u in range(dense.shape[0]):
        channels = np.flatnonzero(sparsity_mask[u])
        packed[u, :, :channels.size] = dense[u][:, channels]
    return packed


def estimate_templates(recording, spikes: np.ndarray, unit_ids, nbefore: int, nafter: int,
                       operator: str = "average", return_in_uV: bool = True, sparsity_mask: np.ndarray | None = None,
                       job_name: str | None = None, return_scaled: bool | None = None, **job_kwargs) -> np.ndarray:
    """Templates of the given spikes: their average (accumulated) or median.

    Parameters
    ----------
    recording : BaseRecording
    spikes : np.ndarray
        Spike vector.
    unit_ids : array-like
    nbefore, nafter : int
    operator : {"average", "median"}
    return_in_uV : bool
    sparsity_mask : np.ndarray, optional
        (num_units, num_channels) bool: each unit's templates on its channels only, packed.
    job_name : str, optional
    return_scaled : bool, optional
        The older name of ``return_in_uV`` (wins when given).
    **job_kwargs

    Returns
    -------
    np.ndarray (num_units, nbefore + nafter, num_channels)
        With ``sparsity_mask``: (num_units, nbefore + nafter, most channels of a unit), each unit's
        channels first in channel order, zeros after (SpikeInterface 0.105's sparse layout).
    """
    if return_scaled is not None:
        return_in_uV = return_scaled
    if operator == "average":
        return estimate_templates_with_accumulator(recording, spikes, unit_ids, nbefore, nafter,
                                                   return_in_uV=return_in_uV, sparsity_mask=sparsity_mask,
                                                   job_name=job_name, **job_kwargs)
    if operator != "median":
        raise ValueError(f"operator={operator!r}: allowed values are 'average', 'median'")
    from .numpyextractors import NumpySorting
    from .waveforms import extract_waveforms as _extract

    unit_ids = np.asarray(unit_ids)
    mask = _check_sparsity_mask(sparsity_mask, unit_ids.size, recording.get_num_channels())
    fs = recording.sampling_frequency
    sorting = NumpySorting(np.asarray(spikes), fs, unit_ids, num_segments=recording.get_num_segments())
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="the recording has no gains")
        we = _extract(recording, sorting, mode="memory", precompute_template=(), ms_before=_ms(nbefore, fs),
                      ms_after=_ms(nafter, fs), max_spikes_per_unit=None, return_scaled=return_in_uV,
                      dtype="float32", sparse=False, **job_kwargs)
    templates = np.zeros((unit_ids.size, nbefore + nafter, recording.get_num_channels()), dtype="float32")
    for u, unit_id in enumerate(unit_ids.tolist()):
        wfs = np.asarray(we.get_waveforms(unit_id))
        if wfs.shape[0]:
            templates[u] = np.median(wfs, axis=0)
    return templates if mask is None else pack_by_sparsity_mask(templates, mask)


def estimate_sparsity(sorting, recording, num_spikes_for_sparsity: int = 100, ms_before: float = 1.0,
                      ms_after: float = 2.5, method: str = "radius", peak_sign: str = "both", radius_um: float = 100.0,
                      num_channels: int = 5, threshold: float | None = 5, amplitude_mode: str = "extremum",
                      by_property: str | None = None, noise_levels=None, main_channel_indices=None,
                      _job: tuple[str, str] = ("estimate_sparsity", ""), **job_kwargs) -> ChannelSparsity:
    """Sparsity without a SortingAnalyzer (SpikeInterface 0.105's ``estimate_sparsity``).

    With ``method="radius"`` and ``main_channel_indices``, the channels within ``radius_um`` of those
    channels (no templates). Otherwise the raw (unscaled) mean templates of up to
    ``num_spikes_for_sparsity`` spikes per unit, drawn as SpikeInterface 0.105 draws them (uniformly
    per unit, away from segment edges, seed 2205), are accumulated on the job's backend and the
    method is applied to a :class:`~gpuspike.core.template.Templates` of them with ``peak_sign`` and
    ``amplitude_mode``, so both tools estimate the same sparsity.

    Parameters
    ----------
    sorting, recording : BaseSorting, BaseRecording
        Also accepted in SpikeInterface 0.100's order, ``(recording, sorting)``.
    num_spikes_for_sparsity : int
    ms_before, ms_after : float
    method : {"radius", "best_channels", "closest_channels", "snr", "threshold", "amplitude", "by_property", "ptp"}
        "threshold" is "snr"; "ptp" is "snr" with ``amplitude_mode="peak_to_peak"``.
    peak_sign : {"neg", "pos", "both"}
    radius_um : float
    num_channels : int
    threshold : float
        In noise levels ("snr"), or in raw units ("amplitude": the templates are unscaled, as in 0.105).
    amplitude_mode : {"extremum", "at_index", "peak_to_peak"}
        How amplitudes (and the main channels of "radius" / "closest_channels") are taken.
    by_property : str, optional
        A recording property; the sorting's property gives each unit's value (SpikeInterface's
        rule), else the value of the unit's main channel.
    noise_levels : np.ndarray, optional
        Raw noise levels for "snr" (measured on the recording when not given).
    main_channel_indices : array, optional
        For "radius": the main channel index of each unit (no templates are estimated then).
    **job_kwargs
        ``n_jobs``, ``chunk_duration``, ``backend``, ``progress_bar``, ...

    Returns
    -------
    ChannelSparsity
    """
    from . import sparsity_templates as st
    from .core_tools import ms_to_samples
    from .template import Templates
    from .template_tools import _get_templates_array_from_recording_and_sorting
    from .validation import check_max_spikes_per_unit, check_window

    from .recording import BaseRecording
    from .sorting import BaseSorting

    if isinstance(sorting, BaseRecording) and isinstance(recording, BaseSorting):
        sorting, recording = recording, sorting  # SpikeInterface 0.100's order: (recording, sorting)
    allowed = ("radius", "best_channels", "closest_channels", "snr", "threshold", "amplitude", "by_property", "ptp")
    if method not in allowed:
        hint = " ('energy' needs a SortingAnalyzer: use compute_sparsity)" if method == "energy" else ""
        raise ValueError(f"estimate_sparsity(method={method!r}): allowed values are {allowed}{hint}")
    check_peak_sign(peak_sign)
    check_window(ms_before, ms_after, recording.sampling_frequency)
    check_max_spikes_per_unit(num_spikes_for_sparsity, "num_spikes_for_sparsity")
    unit_ids, channel_ids = sorting.unit_ids, recording.channel_ids
    if method == "radius" and main_channel_indices is not None:
        return ChannelSparsity.from_radius_and_main_channel(unit_ids, channel_ids, main_channel_indices,
                                                            _sparsity_locations(recording, method), radius_um)
    if method == "by_property":
        if by_property is None:
            raise ValueError("method='by_property' needs by_property= (e.g. 'group')")
        values = recording.get_property(by_property)
        if values is None:
            raise ValueError(f"by_property={by_property!r} is not a recording property; available: "
                             f"{recording.get_property_keys()}")
        if sorting.get_property(by_property) is not None:
            return ChannelSparsity(st.property_mask(sorting, values, by_property), unit_ids, channel_ids)
    locations = _sparsity_locations(recording, method) if method in ("radius", "closest_channels") else None
    fs = recording.sampling_frequency
    on_backend = method in ("radius", "best_channels", "snr", "threshold") and amplitude_mode in (None, "extremum") \
        and noise_levels is None and (locations is None or np.array_equal(locations, recording.get_channel_locations()))
    if on_backend:
        # the templates, amplitudes and mask stay on the job's backend (the GPU); only the mask comes back
        from .job import resolve_job_kwargs
        from .sorting_tools import random_spikes_selection
        from .sparsity import estimate_sparsity_on_backend

        nbefore, nafter = ms_to_samples(ms_before, fs), ms_to_samples(ms_after, fs)
        num_samples = [recording.get_num_samples(i) for i in range(recording.get_num_segments())]
        selected = random_spikes_selection(sorting, num_samples, method="uniform",
                                           max_spikes_per_unit=num_spikes_for_sparsity,
                                           margin_size=max(nbefore, nafter), seed=2205)
        return estimate_sparsity_on_backend(recording, sorting, num_spikes_for_sparsity, ms_before, ms_after, False,
                                            None, resolve_job_kwargs(**job_kwargs), method=method,
                                            peak_sign=peak_sign, radius_um=radius_um, num_channels=num_channels,
                                            threshold=threshold, selected=selected, job=_job)
    array = _get_templates_array_from_recording_and_sorting(recording, sorting, ms_before, ms_after,
                                                            num_spikes_for_sparsity, 2205, _job, **job_kwargs)
    templates = Templates(array, fs, ms_to_samples(ms_before, fs), is_in_uV=False, channel_ids=channel_ids,
                          unit_ids=unit_ids)
    kind = "templates"
    if method == "radius":
        mask = st.radius_mask(templates, kind, radius_um, peak_sign, amplitude_mode, locations=locations)
    elif method == "closest_channels":
        mask = st.closest_channels_mask(templates, kind, num_channels, peak_sign, amplitude_mode, locations=locations)
    elif method == "best_channels":
        mask = st.best_channels_mask(templates, kind, num_channels, peak_sign, amplitude_mode)
    elif method in ("snr", "threshold", "ptp"):
        if noise_levels is None:
            from .recording_tools import get_noise_levels

            noise_levels = get_noise_levels(recording, return_scaled=False)
        mask = st.snr_mask(templates, kind, threshold, peak_sign, "peak_to_peak" if method == "ptp" else amplitude_mode,
                           noise_levels)
    elif method == "amplitude":  # raw templates compared with the threshold, as SpikeInterface 0.105 does
        mask = st.amplitude_mask(templates, kind, threshold, amplitude_mode, peak_sign, check_in_uV=False)
    else:  # by_property, the sorting lacking the property: each unit takes its main channel's value
        values = recording.get_property(by_property)
        main = templates.get_main_channels(peak_sign=peak_sign, peak_mode=amplitude_mode)
        mask = values[None, :] == values[main][:, None]
    return ChannelSparsity(mask, unit_ids, channel_ids)


def _sparsity_locations(recording, method: str) -> np.ndarray:
    """Channel positions for a sparsity estimate; probes of a probe group that overlap are moved apart
    (300 µm in x and y per probe), as SpikeInterface 0.105's estimate_sparsity does."""
    if recording.get_property("location") is None:
        raise ValueError(f"method={method!r} needs channel locations: attach a probe (recording.set_probe) or "
                         f"set_channel_locations(); or use method='best_channels'")
    locations = np.array(recording.get_channel_locations(), dtype="float64")
    contacts = recording.get_property("contact_vector") if recording.has_probe() else None
    if contacts is not None and "probe_index" in contacts.dtype.names:
        probes, rank = np.unique(contacts["probe_index"], return_inverse=True)
        if len(probes) > 1 and len(np.unique(locations, axis=0)) != len(locations):
            locations[:, :2] += 300.0 * rank[:, None]
    return locations


def precompute_sparsity(recording, sorting, num_spikes_for_sparsity: int = 100, unit_batch_size: int = 200,
                        ms_before: float = 2.0, ms_after: float = 3.0, temp_folder=None, **kwargs) -> ChannelSparsity:
    """SpikeInterface 0.100's sparsity estimate (see :func:`estimate_sparsity`), with its defaults.

    Parameters
    ----------
    recording, sorting : BaseRecording, BaseSorting
    num_spikes_for_sparsity : int
    unit_batch_size : int
        0.100 estimated a batch of units at a time; gpuspike accumulates all units in one pass.
    ms_before, ms_after : float
    temp_folder : str or Path, optional
        Unused: nothing is written to disk.
    **kwargs
        ``method``, ``peak_sign`` (default "neg"), ``radius_um``, ``num_channels``, ``threshold``,
        ``by_property`` and job kwargs.

    Returns
    -------
    ChannelSparsity
    """
    kwargs.setdefault("peak_sign", "neg")
    return estimate_sparsity(sorting, recording, num_spikes_for_sparsity=int(num_spikes_for_sparsity),
                             ms_before=ms_before, ms_after=ms_after, **kwargs)


def split_waveforms_by_units(unit_ids, spikes: np.ndarray, all_waveforms: np.ndarray,
                             sparsity_mask: np.ndarray | None = None, folder=None) -> dict:
    """Split one buffer of waveforms (one per spike of ``spikes``) into one array per unit.

    Parameters
    ----------
    unit_ids : array-like
    spikes : np.ndarray
        Spike vector of the rows of ``all_waveforms``.
    all_waveforms : np.ndarray
        (num_spikes, num_samples, num_channels).
    sparsity_mask : np.ndarray, optional
        (num_units, num_channels) bool: a unit keeps its first ``mask.sum()`` channels.
    folder : str or Path, optional
        Also write ``waveforms_<unit_id>.npy`` files there; the dict then holds memory maps.

    Returns
    -------
    dict
        ``{unit_id: waveforms}``.
    """
    folder = None if folder is None else Path(folder)
    out = {}
    for unit_index, unit_id in enumerate(np.asarray(unit_ids).tolist()):
        wfs = all_waveforms[spikes["unit_index"] == unit_index]
        if sparsity_mask is not None:
            wfs = wfs[:, :, :int(np.sum(sparsity_mask[unit_index]))]
        if folder is None:
            out[unit_id] = wfs
        else:
            path = folder / f"waveforms_{unit_id}.npy"
            np.save(path, wfs)
            out[unit_id] = np.load(path, mmap_mode="r")
    return out


def get_template_channel_sparsity(waveform_extractor, method: str = "radius", peak_sign: str = "neg",
                                  num_channels: int = 5, radius_um: float = 100.0, threshold: float = 5,
                                  by_property: str | None = None, outputs: str = "id") -> dict:
    """The channels of each unit's template (SpikeInterface <= 0.98 API).

    Parameters
    ----------
    waveform_extractor : WaveformExtractor
    method : {"radius", "best_channels", "threshold", "by_property"}
    peak_sign : {"neg", "pos", "both"}
    num_channels, radius_um, threshold, by_property
        As :func:`compute_sparsity`.
    outputs : {"id", "index"}
        Channel ids or channel indices.

    Returns
    -------
    dict
        ``{unit_id: channels}``.
    """
    from .sparsity import compute_sparsity

    if outputs not in ("id", "index"):
        raise ValueError(f"outputs={outputs!r}: allowed values are 'id', 'index'")
    sparsity = compute_sparsity(waveform_extractor, method=method, peak_sign=peak_sign, num_channels=num_channels,
                                radius_um=radius_um, threshold=threshold, by_property=by_property)
    return sparsity.unit_id_to_channel_ids if outputs == "id" else sparsity.unit_id_to_channel_indices


def extract_waveforms_to_buffers(recording, spikes: np.ndarray, unit_ids, nbefore: int, nafter: int,
                                 mode: str = "memmap", return_in_uV: bool = True, folder=None, dtype=None,
                                 sparsity_mask: np.ndarray | None = None, copy: bool = False,
                                 return_scaled: bool | None = None, **job_kwargs) -> dict:
    """Waveforms of the given spikes, one array per unit (SpikeInterface's low-level buffer API).

    Parameters
    ----------
    recording : BaseRecording
    spikes : np.ndarray
        Spike vector (``unit_index`` into ``unit_ids``).
    unit_ids : array-like
    nbefore, nafter : int
    mode : {"memmap", "shared_memory"}
        "memmap" writes ``waveforms_<unit_id>.npy`` in ``folder`` and returns memory maps;
        "shared_memory" returns arrays in memory.
    return_in_uV : bool
        Waveforms in µV (SpikeInterface 0.105's default; traces without gains are taken as they are).
    return_scaled : bool, optional
        The older name of ``return_in_uV`` (wins when given).
    folder : str or Path, optional
        Needed by "memmap".
    dtype : numpy dtype, optional
    sparsity_mask : np.ndarray, optional
        (num_units, num_channels): each unit keeps its active channels.
    copy : bool
        Accepted for SpikeInterface compatibility (arrays are always the caller's own).
    **job_kwargs

    Returns
    -------
    dict
        ``{unit_id: (num_spikes_of_unit, nbefore + nafter, num_channels_of_unit)}``, in spike order.
    """
    from .numpyextractors import NumpySorting
    from .waveforms import extract_waveforms as _extract

    if return_scaled is not None:
        return_in_uV = return_scaled
    if mode not in ("memmap", "shared_memory"):
        raise ValueError(f"mode={mode!r}: allowed values are 'memmap', 'shared_memory'")
    if mode == "memmap" and folder is None:
        raise ValueError("mode='memmap' needs folder= (or use mode='shared_memory')")
    unit_ids = np.asarray(unit_ids)
    fs = recording.sampling_frequency
    sorting = NumpySorting(np.asarray(spikes), fs, unit_ids, num_segments=recording.get_num_segments())
    sparsity = None if sparsity_mask is None else ChannelSparsity(np.asarray(sparsity_mask, dtype=bool), unit_ids,
                                                                  recording.channel_ids)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="the recording has no gains")
        we = _extract(recording, sorting, mode="memory", precompute_template=(), ms_before=_ms(nbefore, fs),
                      ms_after=_ms(nafter, fs), max_spikes_per_unit=None, return_scaled=return_in_uV, dtype=dtype,
                      sparse=False, sparsity=sparsity, **job_kwargs)
    out = {}
    for unit_id in unit_ids.tolist():
        wfs = np.array(we.get_waveforms(unit_id))
        if mode == "memmap":
            path = Path(folder) / f"waveforms_{unit_id}.npy"
            path.parent.mkdir(parents=True, exist_ok=True)
            np.save(path, wfs)
            wfs = np.load(path, mmap_mode="r")
        out[unit_id] = wfs
    return out


def extract_waveforms_to_single_buffer(recording, spikes: np.ndarray, nbefore: int, nafter: int, mode: str = "memmap",
                                       return_in_uV: bool = True, file_path=None, dtype=None,
                                       sparsity_mask: np.ndarray | None = None, copy: bool = True,
                                       job_name: str | None = None, verbose: bool = False,
                                       zarr_target_chunk_bytes: int = 10 * 1024 * 1024,
                                       return_scaled: bool | None = None, **job_kwargs):
    """Waveforms of every spike of ``spikes`` in one array, in the order of ``spikes``
    (SpikeInterface's low-level single-buffer API), gathered by the block engine.

    Samples outside a segment are 0. With ``sparsity_mask`` each row keeps its unit's active
    channels first (zeros after), so channels are not aligned across units.

    Parameters
    ----------
    recording : BaseRecording
    spikes : np.ndarray
        Spike vector (``sample_index``, ``unit_index``, ``segment_index``), any order.
    nbefore, nafter : int
        Samples before and after each spike.
    mode : {"memmap", "shared_memory", "zarr"}
        "memmap": an ``.npy`` file at ``file_path`` (written whole, then opened as a memory map);
        "shared_memory": an array in memory; "zarr": a dataset at ``file_path`` inside a ``.zarr``
        store (``"an.zarr/extensions/waveforms/waveforms"``).
    return_in_uV : bool
        Waveforms in µV (float32 unless ``dtype``).
    file_path : str or Path, optional
        Needed by "memmap" and "zarr".
    dtype : dtype-like, optional
        Default: the recording's dtype, even in µV (as SpikeInterface: pass ``dtype="float32"``
        for µV of an integer recording).
    sparsity_mask : np.ndarray, optional
        ``(num_units, num_channels)`` bool.
    copy : bool
        With "shared_memory" and ``copy=False``, also return the (empty) buffer description, as
        SpikeInterface does: the array is the caller's own either way.
    job_name : str, optional
        Name of the progress bar.
    verbose : bool
        Accepted for SpikeInterface compatibility.
    zarr_target_chunk_bytes : int
        Bytes of a zarr chunk (whole spikes per chunk).
    return_scaled : bool, optional
        The older name of ``return_in_uV`` (wins when given).
    **job_kwargs

    Returns
    -------
    np.ndarray or zarr array
        ``(num_spikes, nbefore + nafter, num_channels or max active channels)``; with
        "shared_memory" and ``copy=False``, ``(array, info)``.
    """
    from .analyzer_compute import gather_waveforms
    from .job import resolve_job_kwargs

    if return_scaled is not None:
        return_in_uV = return_scaled
    if mode not in ("memmap", "shared_memory", "zarr"):
        raise ValueError(f"mode={mode!r}: allowed values are 'memmap', 'shared_memory', 'zarr'")
    if mode != "shared_memory" and file_path is None:
        raise ValueError(f"mode={mode!r} needs file_path= (or use mode='shared_memory')")
    if mode == "shared_memory" and file_path is not None:
        raise ValueError("mode='shared_memory' takes no file_path (use mode='memmap' to write a file)")
    spikes = np.asarray(spikes)
    missing = {"sample_index", "unit_index", "segment_index"} - set(spikes.dtype.names or ())
    if missing:
        raise ValueError(f"spikes must be a spike vector (sorting.to_spike_vector()); it lacks {sorted(missing)}")
    if return_in_uV and not recording.has_scaleable_traces():
        raise ValueError("return_in_uV=True needs a recording with gains (set_channel_gains) or return_in_uV=False")
    dtype = np.dtype(recording.get_dtype() if dtype is None else dtype)
    num_units = int(spikes["unit_index"].max(initial=-1)) + 1
    sparsity = None
    if sparsity_mask is not None:
        mask = np.asarray(sparsity_mask, dtype=bool)
        if mask.ndim != 2 or mask.shape[1] != recording.get_num_channels() or mask.shape[0] < num_units:
            raise ValueError(f"sparsity_mask has shape {mask.shape}: expected (num_units >= {num_units}, "
                             f"{recording.get_num_channels()} channels)")
        num_units = mask.shape[0]
        sparsity = ChannelSparsity(mask, np.arange(num_units), recording.channel_ids)
    order = np.lexsort((spikes["sample_index"], spikes["segment_index"]))
    config = resolve_job_kwargs(**job_kwargs)
    stage = (job_name or "extract_waveforms_to_single_buffer", "gather")
    gathered, _ = gather_waveforms(recording, spikes[order], num_units, int(nbefore), int(nafter), sparsity,
                                   return_in_uV, dtype, config, job=stage)
    waveforms = np.empty_like(gathered)
    waveforms[order] = gathered
    if mode == "shared_memory":
        return waveforms if copy else (waveforms, dict(shm=None, shm_name=None, dtype=dtype.str,
                                                       shape=waveforms.shape))
    if mode == "memmap":
        from .atomic import atomic_write_file

        path = Path(file_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_file(path, lambda f: np.save(f, waveforms))
        return np.load(path, mmap_mode="r+")
    return _write_zarr_waveforms(file_path, waveforms, zarr_target_chunk_bytes)


def _write_zarr_waveforms(file_path, waveforms: np.ndarray, target_chunk_bytes: int):
    """``waveforms`` as the dataset ``file_path`` names inside a ``.zarr`` store (whole spikes per chunk)."""
    from .zarrrecording import create_array, open_group

    parts = Path(file_path).parts
    stores = [i for i, part in enumerate(parts) if part.endswith(".zarr")]
    if not stores or stores[-1] == len(parts) - 1:
        raise ValueError(f"file_path={str(file_path)!r} must point inside a .zarr store "
                         "('analyzer.zarr/extensions/waveforms/waveforms')")
    store = Path(*parts[:stores[-1] + 1])
    group = open_group(store, mode="a")
    for name in parts[stores[-1] + 1:-1]:
        group = group.require_group(name)
    per_spike = max(1, int(np.prod(waveforms.shape[1:])) * waveforms.dtype.itemsize)
    chunk_spikes = max(1, int(target_chunk_bytes) // per_spike)
    return create_array(group, parts[-1], data=waveforms, chunks=(chunk_spikes,) + waveforms.shape[1:])


_LOAD_OUTPUTS = ("MockWaveformExtractor", "WaveformExtractor", "SortingAnalyzer")



def load_waveforms(folder: str | Path, with_recording: bool = True, sorting=None,
                   output: str = "MockWaveformExtractor"):
    """Open a waveforms folder (binary layout or ``.zarr``) as a WaveformExtractor.

    Parameters
    ----------
    folder : str or Path
    with_recording : bool
        Try to load the recording (if it moved, the extractor still works without it).
    sorting : BaseSorting, optional
        Use this sorting instead of the saved one.
    output : {"MockWaveformExtractor", "WaveformExtractor", "SortingAnalyzer"}
        SpikeInterface 0.105's choice of result: its "MockWaveformExtractor" (the default) is the
        0.100 WaveformExtractor API, which gpuspike's WaveformExtractor is; "SortingAnalyzer" gives the
        folder's content as a SortingAnalyzer in memory (random spikes, waveforms in SpikeInterface's
        layout, templates, noise levels).

    Returns
    -------
    WaveformExtractor or SortingAnalyzer
    """
    if output not in _LOAD_OUTPUTS:
        raise ValueError(f"output={output!r}: allowed values are {_LOAD_OUTPUTS}")
    from .waveforms import load_waveforms as _load

    we = _load(folder, with_recording=with_recording, sorting=sorting)
    if output == "SortingAnalyzer":
        from .analyzer_legacy import analyzer_from_waveform_extractor

        return analyzer_from_waveform_extractor(we)
    return we


def _read_old_waveforms_extractor_binary(folder: str | Path, sorting=None):
    """A waveforms folder of the 0.100 binary layout as a SortingAnalyzer in memory (SpikeInterface
    0.105's private reader behind ``load_waveforms(folder, output="SortingAnalyzer")``; SpikeInterface's
    own tests import it by this name).

    Parameters
    ----------
    folder : str or Path
        A folder written by ``extract_waveforms`` (``params.json`` inside).
    sorting : BaseSorting, optional
        Use this sorting instead of the saved one.

    Returns
    -------
    SortingAnalyzer
    """
    if not (Path(folder) / "params.json").is_file():
        raise ValueError(f"{str(folder)!r} is not a WaveformExtractor folder (no params.json)")
    return load_waveforms(folder, sorting=sorting, output="SortingAnalyzer")



def _buffer_channels(recording, unit_ids, sparsity_mask) -> np.ndarray:
    """Channels of each unit's buffer: all, or the unit's active ones."""
    mask = _check_sparsity_mask(sparsity_mask, len(unit_ids), recording.get_num_channels())
    if mask is None:
        return np.full(len(unit_ids), recording.get_num_channels(), dtype="int64")
    return mask.sum(axis=1).astype("int64")


def allocate_waveforms_buffers(recording, spikes: np.ndarray, unit_ids, nbefore: int, nafter: int,
                               mode: str = "memmap", folder=None, dtype=None,
                               sparsity_mask: np.ndarray | None = None) -> tuple[dict, dict]:
    """One empty waveform buffer per unit, to be filled by :func:`distribute_waveforms_to_buffers`
    (SpikeInterface's two-step buffer API; :func:`extract_waveforms_to_buffers` does both).

    Parameters
    ----------
    recording : BaseRecording
    spikes : np.ndarray
        Spike vector (``unit_index`` into ``unit_ids``).
    unit_ids : array-like
    nbefore, nafter : int
    mode : {"memmap", "shared_memory"}
        "memmap": ``waveforms_<unit_id>.npy`` in ``folder`` (new files only); "shared_memory": blocks
        of shared memory.
    folder : str or Path, optional
        Needed by "memmap" (created when missing).
    dtype : dtype-like, optional
        The buffers' dtype (numpy's default, float64, when None, as SpikeInterface).
    sparsity_mask : np.ndarray, optional
        ``(len(unit_ids), num_channels)``: a unit's buffer holds its active channels.

    Returns
    -------
    waveforms_by_units : dict
        ``{unit_id: (num_spikes_of_unit, nbefore + nafter, num_channels_of_unit)}`` arrays.
    arrays_info : dict
        ``{unit_id: file name}`` ("memmap") or ``{unit_id: (shm, shm_name, dtype.str, shape)}``
        ("shared_memory": keep it as long as the arrays are used).

    Raises
    ------
    ValueError
        A mode outside the allowed ones, a folder with "shared_memory" or none with "memmap", a buffer
        file that exists already, or a sparsity mask of the wrong shape.
    """
    from .sharedmem import make_shared_array

    if mode not in ("memmap", "shared_memory"):
        raise ValueError(f"mode={mode!r}: allowed values are 'memmap', 'shared_memory'")
    if mode == "shared_memory" and folder is not None:
        raise ValueError("mode='shared_memory' takes no folder (use mode='memmap' to write files)")
    if mode == "memmap" and folder is None:
        raise ValueError("mode='memmap' needs folder= (or use mode='shared_memory')")
    dtype = np.dtype(dtype)
    num_samples = int(nbefore) + int(nafter)
    channels = _buffer_channels(recording, unit_ids, sparsity_mask)
    counts = np.bincount(np.asarray(spikes["unit_index"], dtype="int64"), minlength=len(unit_ids))
    if mode == "memmap":
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        taken = [str(folder / f"waveforms_{unit_id}.npy") for unit_id in unit_ids
                 if (folder / f"waveforms_{unit_id}.npy").exists()]
        if taken:
            raise ValueError(f"allocate_waveforms_buffers: {taken[0]} exists already; remove it or give another folder")
    waveforms_by_units, arrays_info = {}, {}
    for unit_index, unit_id in enumerate(unit_ids):
        shape = (int(counts[unit_index]), num_samples, int(channels[unit_index]))
        if mode == "memmap":
            filename = str(folder / f"waveforms_{unit_id}.npy")
            waveforms_by_units[unit_id] = np.lib.format.open_memmap(filename, mode="w+", dtype=dtype, shape=shape)
            arrays_info[unit_id] = filename
        elif 0 in shape:
            waveforms_by_units[unit_id] = np.zeros(shape, dtype=dtype)
            arrays_info[unit_id] = (None, None, dtype.str, shape)
        else:
            array, shm = make_shared_array(shape, dtype)
            waveforms_by_units[unit_id] = array
            arrays_info[unit_id] = (shm, shm.name, dtype.str, shape)
    return waveforms_by_units, arrays_info


def distribute_waveforms_to_buffers(recording, spikes: np.ndarray, unit_ids, arrays_info: dict, nbefore: int,
                                    nafter: int, return_in_uV: bool, mode: str = "memmap",
                                    sparsity_mask: np.ndarray | None = None, job_name: str | None = None,
                                    verbose: bool = False, **job_kwargs) -> None:
    """Fill the buffers of :func:`allocate_waveforms_buffers` with the waveform of every spike, in
    spike order per unit (gathered by the block engine).

    Parameters
    ----------
    recording : BaseRecording
    spikes : np.ndarray
        The spike vector given to :func:`allocate_waveforms_buffers`.
    unit_ids : array-like
    arrays_info : dict
        The second output of :func:`allocate_waveforms_buffers`.
    nbefore, nafter : int
    return_in_uV : bool
        Waveforms in µV.
    mode : {"memmap", "shared_memory"}
        The mode of the buffers.
    sparsity_mask : np.ndarray, optional
        The mask the buffers were allocated with.
    job_name : str, optional
    verbose : bool
    **job_kwargs

    Raises
    ------
    ValueError
        A mode outside the allowed ones, or a buffer whose shape does not match its unit's spikes.
    """
    from multiprocessing.shared_memory import SharedMemory

    if mode not in ("memmap", "shared_memory"):
        raise ValueError(f"mode={mode!r}: allowed values are 'memmap', 'shared_memory'")
    spikes = np.asarray(spikes)
    channels = _buffer_channels(recording, unit_ids, sparsity_mask)
    units = np.asarray(spikes["unit_index"], dtype="int64")
    waveforms = extract_waveforms_to_single_buffer(
        recording, spikes, nbefore, nafter, mode="shared_memory", return_in_uV=return_in_uV, dtype="float64",
        sparsity_mask=sparsity_mask, copy=True, job_name=job_name or "distribute_waveforms_to_buffers",
        verbose=verbose, **job_kwargs)
    for unit_index, unit_id in enumerate(unit_ids):
        rows = np.flatnonzero(units == unit_index)
        info = arrays_info[unit_id]
        shm = None
        if mode == "memmap":
            buffer = np.load(info, mmap_mode="r+")
        else:
            _, shm_name, dtype, shape = info
            if shm_name is None:
                continue
            shm = SharedMemory(shm_name)
            buffer = np.ndarray(shape, dtype=dtype, buffer=shm.buf)
        expected = (rows.size, int(nbefore) + int(nafter), int(channels[unit_index]))
        if buffer.shape != expected:
            raise ValueError(f"the buffer of unit {unit_id!r} has shape {buffer.shape}, its spikes need {expected}: "
                             "allocate it with allocate_waveforms_buffers from the same spikes")
        buffer[:] = waveforms[rows, :, :expected[2]]
        if mode == "memmap":
            buffer.flush()
        del buffer
        if shm is not None:
            shm.close()


#: extension folders of a WaveformExtractor (SpikeInterface < 0.101) -> the SortingAnalyzer extension
#: that replaced each (SpikeInterface 0.105's table)
old_extension_to_new_class_map = {
    "spike_amplitudes": "spike_amplitudes", "spike_locations": "spike_locations",
    "amplitude_scalings": "amplitude_scalings", "template_metrics": "template_metrics",
    "similarity": "template_similarity", "unit_locations": "unit_locations", "correlograms": "correlograms",
    "isi_histograms": "isi_histograms", "noise_levels": "noise_levels", "quality_metrics": "quality_metrics",
    "principal_components": "principal_components",
}


def make_ext_params_up_to_date(ext, old_params: dict, new_params: dict) -> dict:
    """The parameters of a legacy extension without the keys its new version no longer has (each
    removal warned), nested dicts pruned alike (SpikeInterface 0.105's helper).

    Parameters
    ----------
    ext : AnalyzerExtension
        The extension (its ``extension_name`` names it in the warnings).
    old_params : dict
        The stored parameters.
    new_params : dict
        The parameters the new version takes (e.g. its defaults).

    Returns
    -------
    dict
        A copy of ``old_params`` with the keys of ``new_params`` only.
    """
    name = getattr(ext, "extension_name", type(ext).__name__)
    updated = dict(old_params)
    for key, value in old_params.items():
        if key not in new_params:
            warnings.warn(f"Removing legacy parameter {key} from {name} extension", UserWarning, stacklevel=2)
            updated.pop(key)
        elif isinstance(value, dict):
            nested = new_params.get(key)
            updated[key] = make_ext_params_up_to_date(ext, value, nested if isinstance(nested, dict) else {})
    return updated
