"""Creating and opening SortingAnalyzers: :func:`create_sorting_analyzer` (main channels and sparsity
estimated on the block engine), :func:`load_sorting_analyzer`, :func:`load_sorting_analyzer_or_waveforms`.
"""
from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np

from .analyzer_storage import BinaryFolderStore, ZarrStore
from .sortinganalyzer import _FORMATS, _PEAK_MODES, _PEAK_SIGNS, SortingAnalyzer, _check_choice, _zarr_folder_name
from .sparsity import ChannelSparsity
from .validation import check_flag


def create_sorting_analyzer(sorting, recording, format: str = "memory", folder=None, main_channel_indices=None,
                            lazy: bool = False, peak_sign: str = "both", peak_mode: str = "extremum",
                            num_spikes_for_main_channel: int = 100, seed: int | None = None, sparse: bool = True,
                            sparsity: ChannelSparsity | None = None, set_sparsity_by_dict_key: bool = False,
                            return_in_uV: bool = True, overwrite: bool = False, backend_options: dict | None = None,
                            sparsity_kwargs: dict | None = None, job_kwargs: dict | None = None,
                            return_scaled: bool | None = None, backend: str | None = None,
                            **extra_kwargs) -> SortingAnalyzer:
    """Pair a sorting with its recording in a SortingAnalyzer (SpikeInterface 0.105).

    The main channel of each unit is taken from the sorting's ``main_channel_id`` property, else
    estimated from the average of ``num_spikes_for_main_channel`` random spikes; with
    ``sparse=True`` a sparsity is estimated (:func:`estimate_sparsity`, "radius" around the main
    channel by default). Both passes over the traces run on the block engine. A dense memory
    analyzer makes its estimate when the main channels are first asked for, or in the same pass over
    the file as its first waveforms or templates: the same main channels, one read of the file fewer.

    Parameters
    ----------
    sorting : BaseSorting or dict
        A dict (with a dict of recordings, same keys) is aggregated first.
    recording : BaseRecording or dict
    format : {"memory", "binary_folder", "zarr"}
    folder : str or Path, optional
        Needed by "binary_folder" and "zarr" (``.zarr`` appended for zarr).
    main_channel_indices : array, optional
        Main channel of each unit.
    lazy : bool
        Keep stored extension arrays memory-mapped.
    peak_sign : {"both", "neg", "pos"}
    peak_mode : {"extremum", "at_index", "peak_to_peak"}
    num_spikes_for_main_channel : int
    seed : int, optional
        Of the main-channel estimate's random spikes.
    sparse : bool
    sparsity : ChannelSparsity, optional
        Use this sparsity (``sparse`` is then ignored).
    set_sparsity_by_dict_key : bool
        With dicts: each unit keeps the channels of its own recording.
    return_in_uV : bool
        Waveforms, templates and noise levels in µV (forced False for integer traces without gains,
        with a warning).
    overwrite : bool
        Replace an existing analyzer folder (only one gpuspike or SpikeInterface wrote).
    backend_options : dict, optional
        Kept for SpikeInterface's signature (``storage_options`` / ``saving_options``).
    sparsity_kwargs : dict, optional
        Arguments of :func:`estimate_sparsity` (``method``, ``radius_um``, ``num_channels``, ...).
    job_kwargs : dict, optional
    return_scaled : bool, optional
        The older name of ``return_in_uV`` (wins when given).
    backend : {"numpy", "cuda", "auto"}, optional
        Default backend of this analyzer's computations (a ``backend`` job kwarg of a call wins).
    **extra_kwargs
        Sparsity and job kwargs given directly (SpikeInterface's older way; a FutureWarning says so).

    Returns
    -------
    SortingAnalyzer
    """
    from .job import split_job_kwargs
    from .recording import BaseRecording
    from .sorting import BaseSorting

    _check_choice(format, _FORMATS, "format")
    _check_choice(peak_sign, _PEAK_SIGNS, "peak_sign")
    _check_choice(peak_mode, _PEAK_MODES, "peak_mode")
    if return_scaled is not None:
        return_in_uV = check_flag(return_scaled, "return_scaled")
    for name, flag in (("sparse", sparse), ("return_in_uV", return_in_uV), ("lazy", lazy),
                       ("set_sparsity_by_dict_key", set_sparsity_by_dict_key)):
        check_flag(flag, name)
    if extra_kwargs:
        more_sparsity, more_job = split_job_kwargs(extra_kwargs)
        warnings.warn("Passing sparsity and job arguments via keyword arguments will be deprecated in 0.106.0. "
                      "Please pass them as a `sparsity_kwargs` or `job_kwargs` dictionary instead.", FutureWarning,
                      stacklevel=2)
        sparsity_kwargs = {**(sparsity_kwargs or {}), **more_sparsity}
        job_kwargs = {**(job_kwargs or {}), **more_job}
    sparsity_kwargs = dict(sparsity_kwargs or {})
    job_kwargs = dict(job_kwargs or {})
    if backend is not None:
        job_kwargs.setdefault("backend", backend)
    if isinstance(sorting, dict) or isinstance(recording, dict):
        return _create_from_dicts(sorting, recording, format, folder, lazy, peak_sign, peak_mode,
                                  num_spikes_for_main_channel, seed, sparse, sparsity, set_sparsity_by_dict_key,
                                  return_in_uV, overwrite, backend_options, sparsity_kwargs, job_kwargs, backend)
    if not isinstance(sorting, BaseSorting):
        raise TypeError(f"sorting must be a BaseSorting (or a dict of them), got {type(sorting).__name__}")
    if not isinstance(recording, BaseRecording):
        raise TypeError(f"recording must be a BaseRecording (or a dict of them), got {type(recording).__name__}")
    if format != "memory":
        if folder is None:
            raise ValueError(f"format={format!r} needs folder= (or use format='memory')")
        from .atomic import check_target

        check_target(_zarr_folder_name(folder) if format == "zarr" else Path(folder), overwrite)
    sorting = _matching_sorting(sorting, recording)
    estimate = None
    if main_channel_indices is None:
        if "main_channel_id" in sorting.get_property_keys():
            main_channel_indices = recording.ids_to_indices(list(sorting.get_property("main_channel_id")))
        else:
            from .template_tools import MainChannelEstimate

            estimate = MainChannelEstimate(recording, sorting, peak_sign, peak_mode, num_spikes_for_main_channel,
                                           seed=seed, job_kwargs=job_kwargs)
            # a dense memory analyzer needs its main channels only when asked, or when the first
            # waveforms / templates read the file: the estimate then rides along in that pass
            deferred = format == "memory" and sparsity is None and not sparse
            main_channel_indices = None if deferred else estimate.run()
    else:
        main_channel_indices = np.asarray(main_channel_indices, dtype="int64")
        if main_channel_indices.shape != (sorting.get_num_units(),):
            raise ValueError(f"main_channel_indices has shape {main_channel_indices.shape}, expected "
                             f"({sorting.get_num_units()},): one channel index per unit")
        if np.any((main_channel_indices < 0) | (main_channel_indices >= recording.get_num_channels())):
            raise ValueError(f"main_channel_indices must lie in 0..{recording.get_num_channels() - 1}")
        if sparsity is None and sparse and sparsity_kwargs.get("method", "radius") != "radius":
            raise ValueError("with main_channel_indices, the sparsity method must be 'radius'")
    if main_channel_indices is not None:
        main_channel_indices = np.asarray(main_channel_indices, dtype="int64")
    if sparsity is not None:
        if not isinstance(sparsity, ChannelSparsity):
            raise TypeError(f"sparsity must be a ChannelSparsity, got {type(sparsity).__name__}")
        if not np.array_equal(sparsity.unit_ids, sorting.unit_ids):
            raise ValueError("sparsity.unit_ids differ from the sorting's unit ids")
        if not np.array_equal(sparsity.channel_ids, recording.channel_ids):
            raise ValueError("sparsity.channel_ids differ from the recording's channel ids")
        if not all(sparsity.mask[u, c] for u, c in enumerate(main_channel_indices)):
            raise ValueError("the sparsity does not keep every unit's main channel")
    elif sparse:
        from .waveforms_compat import estimate_sparsity

        sparsity = estimate_sparsity(sorting, recording, main_channel_indices=main_channel_indices,
                                     peak_sign=peak_sign, amplitude_mode=peak_mode, **sparsity_kwargs,
                                     **job_kwargs)
    if return_in_uV and not recording.has_scaleable_traces() and np.dtype(recording.get_dtype()).kind in "iu":
        warnings.warn("create_sorting_analyzer: recording does not have scaling to uV, forcing return_in_uV=False")
        return_in_uV = False
    return SortingAnalyzer.create(sorting, recording, main_channel_indices, format=format, folder=folder,
                                  lazy=lazy, sparsity=sparsity, return_in_uV=return_in_uV, peak_sign=peak_sign,
                                  peak_mode=peak_mode, backend_options=backend_options, overwrite=overwrite,
                                  backend=backend, main_channel_estimate=estimate)


def _matching_sorting(sorting, recording):
    """``sorting``, checked against ``recording`` (sampling frequency, segments); spikes beyond the
    recording's end are dropped with a warning, as SpikeInterface does."""
    from .excess_spikes import drop_excess_spikes
    from .numpyextractors import NumpySorting

    fs_rec, fs_sort = recording.sampling_frequency, sorting.sampling_frequency
    if fs_rec != fs_sort:
        if not math.isclose(fs_rec, fs_sort, abs_tol=1e-2, rel_tol=1e-5):
            raise ValueError(f"Sorting and Recording sampling frequencies are too different: recording: {fs_rec} - "
                             f"sorting: {fs_sort}. Ensure that you are associating the correct Recording and Sorting "
                             f"when creating a SortingAnalyzer.")
        warnings.warn("Sorting and Recording have a small difference in sampling frequency. This could be due to "
                      "rounding of floats. Using the sampling frequency from the Recording.")
        sorting = NumpySorting.from_sorting(sorting, with_metadata=True, copy_spike_vector=True)
        sorting._sampling_frequency = fs_rec
    if sorting.get_num_segments() != recording.get_num_segments():
        raise ValueError(f"the sorting has {sorting.get_num_segments()} segments and the recording "
                         f"{recording.get_num_segments()}")
    return drop_excess_spikes(sorting, recording, "create_sorting_analyzer")


def _create_from_dicts(sortings, recordings, format, folder, lazy, peak_sign, peak_mode, num_spikes_for_main_channel,
                       seed, sparse, sparsity, set_sparsity_by_dict_key, return_in_uV, overwrite, backend_options,
                       sparsity_kwargs, job_kwargs, backend) -> SortingAnalyzer:
    """SpikeInterface's dict input: recordings aggregated by channel, sortings by unit."""
    from .aggregate import aggregate_channels, aggregate_units
    from .template_tools import estimate_main_channel_from_recording
    from .waveforms_compat import estimate_sparsity

    if not (isinstance(sortings, dict) and isinstance(recordings, dict)):
        raise TypeError("give both sorting and recording as dicts (same keys), or neither")
    if list(sortings) != list(recordings) and set(sortings) != set(recordings):
        raise ValueError(f"Keys of `sorting`, {list(sortings)}, and `recording`, {list(recordings)}, dicts do not "
                         f"match.")
    recording = aggregate_channels(recordings)
    sorting = aggregate_units(sortings)
    main_channel_indices = None
    if sparsity is None and set_sparsity_by_dict_key:
        sparsity_kwargs = {"method": "by_property", "by_property": "aggregation_key"}
    elif sparsity is None and sparsity_kwargs.get("method") != "by_property":
        num_units, num_channels = sorting.get_num_units(), recording.get_num_channels()
        mask = np.zeros((num_units, num_channels), dtype=bool)
        main_channel_indices = np.full(num_units, -1, dtype="int64")
        unit_offset = channel_offset = 0
        for key, one_sorting in sortings.items():
            one_recording = recordings[key]
            n_units, n_channels = one_sorting.get_num_units(), one_recording.get_num_channels()
            main = np.asarray(estimate_main_channel_from_recording(
                one_recording, one_sorting, peak_sign=peak_sign, peak_mode=peak_mode,
                num_spikes_for_main_channel=num_spikes_for_main_channel, seed=seed, **job_kwargs))
            main_channel_indices[unit_offset:unit_offset + n_units] = main + channel_offset
            one = estimate_sparsity(one_sorting, one_recording, main_channel_indices=main, peak_sign=peak_sign,
                                    amplitude_mode=peak_mode, **sparsity_kwargs, **job_kwargs)
            mask[unit_offset:unit_offset + n_units, channel_offset:channel_offset + n_channels] = one.mask
            unit_offset += n_units
            channel_offset += n_channels
        # kept whatever ``sparse`` says, as SpikeInterface 0.105 does: a unit never has channels of
        # another group
        sparsity = ChannelSparsity(mask, sorting.unit_ids, recording.channel_ids)
        sparsity_kwargs = {}
    return create_sorting_analyzer(sorting, recording, format=format, folder=folder,
                                   main_channel_indices=main_channel_indices, lazy=lazy, peak_sign=peak_sign,
                                   peak_mode=peak_mode, num_spikes_for_main_channel=num_spikes_for_main_channel,
                                   seed=seed, sparse=sparse, sparsity=sparsity, return_in_uV=return_in_uV,
                                   overwrite=overwrite, backend_options=backend_options,
                                   sparsity_kwargs=sparsity_kwargs, job_kwargs=job_kwargs, backend=backend)


def load_sorting_analyzer(folder, load_extensions: bool = True, format: str = "auto",
                          backend_options: dict | None = None, lazy: bool = False, read_only: bool = False,
                          recording=None, backend: str | None = None) -> SortingAnalyzer:
    """Open a SortingAnalyzer folder written by gpuspike or SpikeInterface (binary_folder or zarr).

    The recording is rebuilt from the folder when it can be (else the analyzer works without it,
    serving its stored extensions). Extensions gpuspike does not compute stay on disk, untouched,
    and are listed by ``get_saved_extension_names()``.

    Parameters
    ----------
    folder : str or Path
    load_extensions : bool
        Load the stored extensions now (else on first use).
    format : {"auto", "binary_folder", "zarr"}
    backend_options : dict, optional
    lazy : bool
        Load extensions on first use and keep their arrays memory-mapped (zarr: read on access); in
        a binary folder the sorting's spike vector stays mapped too (a zarr analyzer's is read into
        memory).
    read_only : bool
        Never write to the folder (computations stay in memory).
    recording : BaseRecording, optional
        Use this recording instead of the saved one.
    backend : {"numpy", "cuda", "auto"}, optional
        Default backend of this analyzer's computations.

    Returns
    -------
    SortingAnalyzer

    Notes
    -----
    A waveforms folder of ``extract_waveforms(..., folder=...)`` (SpikeInterface 0.105 writes an
    analyzer folder there; gpuspike the 0.100 waveforms layout) opens as an analyzer in memory, with
    a warning: ``save_as(folder=...)`` keeps what is computed on it.
    """
    if format == "auto" and _is_waveforms_folder(Path(folder)):
        from .waveforms_compat import load_waveforms

        warnings.warn(f"{str(folder)!r} is a waveforms folder (extract_waveforms): opened as a SortingAnalyzer in "
                      f"memory; analyzer.save_as(folder=...) keeps what is computed on it", UserWarning, stacklevel=2)
        analyzer = load_waveforms(folder, output="SortingAnalyzer")
        if recording is not None:
            analyzer.set_temporary_recording(recording)
        return analyzer
    return SortingAnalyzer.load(folder, recording=recording, load_extensions=load_extensions, format=format,
                                backend_options=backend_options, lazy=lazy, read_only=read_only, backend=backend)


def _is_waveforms_folder(folder: Path) -> bool:
    """A folder written by ``extract_waveforms`` (binary ``params.json``, or a gpuspike waveforms zarr)."""
    from . import zarr_v2

    try:
        if BinaryFolderStore.is_analyzer_folder(folder) or ZarrStore.is_analyzer_folder(folder):
            return False
        if (folder / "params.json").is_file() and (folder / "recording_info" / "recording_attributes.json").is_file():
            return True
        return zarr_v2.is_group(folder) and "gpuspike_zarr_waveforms_version" in zarr_v2.read_attrs(folder)
    except (ValueError, OSError):  # unreadable metadata: the analyzer loader says what is wrong
        return False


def load_sorting_analyzer_or_waveforms(folder, sorting=None) -> SortingAnalyzer:
    """Open an analyzer folder, or a (legacy) waveforms folder as an analyzer.

    Parameters
    ----------
    folder : str or Path
    sorting : BaseSorting, optional
        For a waveforms folder whose sorting cannot be rebuilt.

    Returns
    -------
    SortingAnalyzer
    """
    folder = Path(folder)
    if folder.suffix == ".zarr" or (folder / "spikeinterface_info.json").exists() or \
            BinaryFolderStore.is_analyzer_folder(folder):
        return load_sorting_analyzer(folder)
    from .waveforms_compat import load_waveforms

    return load_waveforms(folder, sorting=sorting, output="SortingAnalyzer")


__all__ = ["create_sorting_analyzer", "load_sorting_analyzer", "load_sorting_analyzer_or_waveforms"]
