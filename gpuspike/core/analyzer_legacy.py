"""A WaveformExtractor (or its legacy folder) as a SortingAnalyzer, as SpikeInterface 0.105's
``load_waveforms(output="SortingAnalyzer")`` gives it: in memory, with the random spikes, waveforms,
templates and noise levels the folder holds."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .analyzer_extension_core import ComputeNoiseLevels, ComputeRandomSpikes, ComputeTemplates, ComputeWaveforms
from .core_tools import ms_to_samples
from .sortinganalyzer import SortingAnalyzer


def _template_operator(key: str):
    if key.startswith("percentile_"):
        return ["percentile", float(key[len("percentile_"):])]
    return key


def analyzer_from_waveform_extractor(we) -> SortingAnalyzer:
    """The SortingAnalyzer (format "memory") holding what a WaveformExtractor holds.

    Parameters
    ----------
    we : WaveformExtractor

    Returns
    -------
    SortingAnalyzer
        Extensions "random_spikes", "waveforms" (when the extractor has waveforms), "templates" (its
        computed modes) and "noise_levels" (when its folder has them); waveforms in SpikeInterface's
        layout (spike order; sparse rows hold the unit's channels first).
    """
    params = we._params
    rec_attributes = dict(we._rec_attributes)
    rec_attributes.setdefault("properties", {})
    rec_attributes.setdefault("is_filtered", True)
    if rec_attributes.get("dtype") is not None:
        rec_attributes["dtype"] = np.dtype(rec_attributes["dtype"])
    analyzer = SortingAnalyzer(we.sorting, we._recording, "memory", rec_attributes, we.sparsity,
                               bool(params.get("return_scaled", True)), "neg", "extremum")
    selected = np.asarray(we._selected_indices, dtype="int64")
    ext = ComputeRandomSpikes(analyzer)
    ext.params = {"method": "uniform", "max_spikes_per_unit": params.get("max_spikes_per_unit"),
                  "margin_size": None, "seed": params.get("seed")}
    ext.data = {"random_spikes_indices": selected}
    ext.run_info = {"run_completed": True, "runtime_s": None}
    analyzer.extensions["random_spikes"] = ext
    if we.has_waveforms():
        analyzer.extensions["waveforms"] = _waveforms_extension(analyzer, we, selected)
    if we._template_cache:
        ext = ComputeTemplates(analyzer)
        ext.params = {"operators": [_template_operator(k) for k in we._template_cache],
                      "ms_before": float(params["ms_before"]), "ms_after": float(params["ms_after"])}
        ext.data = {k: np.asarray(v) for k, v in we._template_cache.items()}
        ext.run_info = {"run_completed": True, "runtime_s": None}
        analyzer.extensions["templates"] = ext
    noise_file = None if we.folder is None else Path(we.folder) / "noise_levels" / "noise_levels.npy"
    if noise_file is not None and noise_file.is_file():
        ext = ComputeNoiseLevels(analyzer)
        ext.params = {}
        ext.data = {"noise_levels": np.load(noise_file, allow_pickle=False)}
        ext.run_info = {"run_completed": True, "runtime_s": None}
        analyzer.extensions["noise_levels"] = ext
    return analyzer


def _waveforms_extension(analyzer: SortingAnalyzer, we, selected: np.ndarray) -> ComputeWaveforms:
    params = we._params
    fs = analyzer.sampling_frequency
    nsamples = ms_to_samples(params["ms_before"], fs) + ms_to_samples(params["ms_after"], fs)
    some = we.sorting.to_spike_vector()[selected]
    width = analyzer.get_num_channels() if we.sparsity is None else int(we.sparsity.mask.sum(axis=1).max(initial=0))
    waveforms = np.zeros((selected.size, nsamples, width), dtype=np.dtype(params["dtype"]))
    for unit_index, unit_id in enumerate(we.unit_ids.tolist()):
        wfs = np.asarray(we.get_waveforms(unit_id))
        rows = np.flatnonzero(some["unit_index"] == unit_index)
        if wfs.shape[0] != rows.size:
            raise ValueError(f"unit {unit_id!r}: {wfs.shape[0]} stored waveforms for {rows.size} sampled spikes")
        waveforms[rows, :, :wfs.shape[2]] = wfs
    ext = ComputeWaveforms(analyzer)
    ext.params = {"ms_before": float(params["ms_before"]), "ms_after": float(params["ms_after"]),
                  "dtype": np.dtype(params["dtype"]).str}
    ext.data = {"waveforms": waveforms}
    ext.run_info = {"run_completed": True, "runtime_s": None}
    return ext


__all__ = ["analyzer_from_waveform_extractor"]
