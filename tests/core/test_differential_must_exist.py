"""The names SpikeInterface users call daily (issue 14's "Must exist" list), run unchanged by gpuspike and by
SpikeInterface 0.105 (see ``_si_compare``): the same values, or an error in both.

Names that SpikeInterface 0.105 keeps outside ``spikeinterface.core``'s namespace are reached through
``core(name)``, which looks in its submodules (gpuspike has them all in ``gpuspike.full``). The few that
0.105 no longer has (``WaveformExtractor.create`` and the other 0.100-era methods) are checked against
gpuspike's own extraction at the end of this file.
"""
import numpy as np
import pytest

import gpuspike as gs

from _si_compare import assert_same_outcome, run_cases

SETUP = """
import warnings
warnings.simplefilter("ignore", FutureWarning)
import importlib
def core(name):
    if not IS_SI:
        for module in ("gpuspike.full", "gpuspike.core.job_tools", "gpuspike.core.sorting_tools"):
            module = importlib.import_module(module)
            if hasattr(module, name):
                return getattr(module, name)
        raise AttributeError(name)
    for module in ("spikeinterface.core", "spikeinterface.core.base", "spikeinterface.core.generate",
                   "spikeinterface.core.waveform_tools",
                   "spikeinterface.core.zarrextractors", "spikeinterface.core.job_tools",
                   "spikeinterface.core.core_tools", "spikeinterface.core.globals",
                   "spikeinterface.core.sortingfolder", "spikeinterface.core.npzsortingextractor"):
        module = importlib.import_module(module)
        if hasattr(module, name):
            return getattr(module, name)
    raise AttributeError(name)
def numpy_recording(num_samples=100, num_channels=4, dtype="float32", fs=1000.0):
    traces = np.arange(num_samples * num_channels, dtype=dtype).reshape(num_samples, num_channels)
    return si.NumpyRecording([traces], fs)
def small_sorting():
    return si.NumpySorting.from_samples_and_labels([np.array([20, 50, 51, 90, 140])],
                                                   [np.array(["a", "b", "a", "b", "a"])], 1000.0)
"""

# ---------------------------------------------------------------------- generators and constructors
GENERATORS = {
    "noise_generator_recording": """
rec = si.noise_generator_recording(num_channels=3, sampling_frequency=1000.0, durations=[2.0], seed=4)
fly = si.noise_generator_recording(num_channels=2, sampling_frequency=1000.0, durations=[1.0], seed=4,
                                   strategy="on_the_fly", noise_block_size=300)
result = [rec.channel_ids, rec.get_traces(start_frame=10, end_frame=14),
          fly.get_traces(start_frame=290, end_frame=310)]""",
    "generate_recording_by_size": """
rec = si.generate_recording_by_size(0.0001, seed=1)
result = [rec.get_num_channels(), rec.get_num_samples(), rec.get_sampling_frequency(), rec.get_traces(end_frame=2)]""",
    "inject_templates": """
templates = np.arange(2 * 10 * 4, dtype="float32").reshape(2, 10, 4)
rec = si.inject_templates(small_sorting(), templates, nbefore=3, parent_recording=numpy_recording(200, 4))
result = [type(rec).__name__, rec.get_traces(start_frame=15, end_frame=30)]""",
    "inject_templates_amplitudes": """
templates = np.arange(2 * 10 * 4, dtype="float32").reshape(2, 10, 4)
rec = core("InjectTemplatesRecording")(small_sorting(), templates, nbefore=3, num_samples=200,
                                       amplitude_factor=np.array([1.0, 2.0, 0.5, 1.0, 3.0]))
result = rec.get_traces(start_frame=45, end_frame=60)""",
    "generate_channel_locations": "result = core('generate_channel_locations')(12, 3, 20.0)",
    "generate_channel_locations_uneven": "core('generate_channel_locations')(10, 3, 20.0)",
    "generate_templates": """
channels = core("generate_channel_locations")(8, 2, 25.0)
units = np.array([[5.0, 20.0, 30.0], [20.0, 60.0, 45.0]])
templates = core("generate_templates")(channels, units, 30000.0, ms_before=1.0, ms_after=3.0, seed=2)
result = [templates.shape, templates.dtype.str, np.round(templates[:, 25:35:3], 5)]""",
    "ground_truth_traces": """
rec, srt = si.generate_ground_truth_recording(durations=[0.2], num_channels=4, num_units=2, seed=3)
result = [srt.to_spike_vector()[:5], np.round(rec.get_traces(start_frame=1000, end_frame=1006), 4)]""",
    "generate_single_fake_waveform": """
result = np.round(core("generate_single_fake_waveform")(sampling_frequency=30000.0, ms_before=1.0, ms_after=3.0), 6)""",
    "add_synchrony_to_sorting": """
s = si.generate_sorting(num_units=3, durations=[2.0], seed=1)
t = si.add_synchrony_to_sorting(s, sync_event_ratio=0.3, seed=2)
original = s.to_spike_vector()
result = [t.unit_ids, t.to_spike_vector().size - original.size, int(original.size * 0.3),
          bool(np.isin(t.to_spike_vector()["sample_index"], original["sample_index"]).all())]""",
    "transform_sorting_new_units": """
s = small_sorting()
added = np.zeros(2, dtype=[("sample_index", "int64"), ("unit_index", "int64"), ("segment_index", "int64")])
added["sample_index"] = [30, 60]
added["unit_index"] = [2, 2]
t = core("TransformSorting")(s, added_spikes_new_units=added, new_unit_ids=np.array(["c"]))
result = [t.unit_ids, t.get_unit_spike_train("c"), t.get_unit_spike_train("a")]""",
    "numpy_sorting_from_unit_dict": """
s = si.NumpySorting.from_unit_dict([{"x": np.array([5, 9]), "y": np.array([1])},
                                    {"x": np.array([2]), "y": np.array([])}], 1000.0)
result = [s.unit_ids, s.get_unit_spike_train("x", segment_index=0), s.get_unit_spike_train("y", segment_index=1)]""",
    "numpy_sorting_from_peaks": """
peaks = np.zeros(4, dtype=[("sample_index", "int64"), ("channel_index", "int64"), ("amplitude", "float64"),
                           ("segment_index", "int64")])
peaks["sample_index"] = [3, 8, 12, 20]
peaks["channel_index"] = [1, 0, 1, 2]
s = si.NumpySorting.from_peaks(peaks, 1000.0, unit_ids=["c0", "c1", "c2"])
result = [s.unit_ids, s.get_unit_spike_train("c1"), s.get_unit_spike_train("c2")]""",
    "numpy_sorting_from_times_and_labels": """
s = si.NumpySorting.from_times_and_labels([np.array([0.0101, 0.02, 0.5])], [np.array([1, 0, 1])], 1000.0)
result = [s.unit_ids, s.get_unit_spike_train(1)]""",
}

# ---------------------------------------------------------------------- persistence
PERSISTENCE = {
    "dump_json_and_pickle": """
import os
rec = si.generate_recording(num_channels=2, durations=[0.5], seed=3)
rec.dump(os.path.join(tmp, "r.json"))
rec.dump_to_pickle(os.path.join(tmp, "r.pkl"))
result = [si.load(os.path.join(tmp, "r.json")).get_traces(end_frame=3),
          si.load(os.path.join(tmp, "r.pkl")).get_traces(end_frame=3), sorted(os.listdir(tmp))]""",
    "write_memory_recording": """
arrays, shms = si.write_memory_recording(numpy_recording(50, 3))
result = [len(arrays), arrays[0][:3], len(shms)]""",
    "save_memory_sharedmem": """
rec = numpy_recording(50, 3)
shared = rec.save(format="memory", sharedmem=True)
plain = rec.save(format="memory", sharedmem=False)
result = [type(shared).__name__, type(plain).__name__, shared.get_traces()[:2], plain.get_traces()[-1]]""",
    "shared_memory_recording_and_sorting": """
rec = si.SharedMemoryRecording.from_recording(numpy_recording(30, 2))
srt = si.SharedMemorySorting.from_sorting(small_sorting())
result = [rec.get_traces()[5], srt.unit_ids, srt.to_spike_vector()]""",
    "zarr_sorting": """
import os
saved = small_sorting().save(format="zarr", folder=os.path.join(tmp, "s"))
loaded = si.load(os.path.join(tmp, "s.zarr"))
result = [type(saved).__name__, type(loaded).__name__, loaded.unit_ids, loaded.get_unit_spike_train("a"),
          sorted(os.listdir(tmp))]""",
    "zarr_sorting_extractor": """
import os
small_sorting().save(format="zarr", folder=os.path.join(tmp, "s.zarr"))
s = core("ZarrSortingExtractor")(os.path.join(tmp, "s.zarr"))
result = [s.unit_ids, s.get_unit_spike_train("b")]""",
    "create_sorting_npz": """
import os
si.create_sorting_npz(2, os.path.join(tmp, "s.npz"))
s = si.NpzSortingExtractor(os.path.join(tmp, "s.npz"))
result = [s.unit_ids, s.get_num_segments(), s.get_unit_spike_train(s.unit_ids[1], segment_index=1)[:5]]""",
    "read_and_write_python": """
import os
path = os.path.join(tmp, "params.py")
si.write_python(path, {"a": 1, "b": "text", "c": [1.5, 2.5], "d": None})
result = si.read_python(path)""",
    "snippets_from_sorting": """
rec = numpy_recording(200, 3, dtype="int16")
snippets = si.snippets_from_sorting(rec, small_sorting(), nbefore=3, nafter=4)
result = [snippets.get_num_snippets(), snippets.get_frames(), snippets.get_snippets()[1], snippets.nbefore,
          snippets.snippet_len]""",
}

# ---------------------------------------------------------------------- recording and sorting methods
METHODS = {
    "astype": """
rec = numpy_recording(10, 2, dtype="float32")
result = [rec.astype("int16").get_traces()[3], rec.astype("int16").get_dtype().str,
          numpy_recording(10, 2, dtype="int16").astype("float32").get_traces()[2]]""",
    "astype_rounds": """
traces = np.array([[0.4, 1.6], [-0.6, 2.5]], dtype="float32")
result = si.NumpyRecording([traces], 1000.0).astype("int16", round=True).get_traces()""",
    "get_time_info_and_shift_times": """
rec = si.NumpyRecording([np.zeros((10, 2)), np.zeros((5, 2))], 100.0, t_starts=[1.0, 3.0])
before = [rec.get_time_info(0), rec.get_time_info(1)]
rec.shift_times(2.5)
rec.shift_times(-1.0, segment_index=1)
result = [before, rec.get_time_info(0), rec.get_time_info(1), rec.get_times(1)[:2]]""",
    "planarize": """
from probeinterface import generate_linear_probe
probe = generate_linear_probe(num_elec=3, ypitch=20).to_3d(axes="xz")
probe.set_device_channel_indices(np.arange(3))
rec = numpy_recording(10, 3)
rec.set_probe(probe, in_place=True)
flat = rec.planarize(axes="xz")
result = [rec.get_channel_locations(axes="xyz"), flat.get_channel_locations(), flat.get_probe().ndim]""",
    "sorting_times": """
rec = numpy_recording(200, 2)
rec.set_times(np.arange(200) / 1000.0 + 7.0)
s = small_sorting()
no_recording = s.get_times()
s.register_recording(rec)
result = [no_recording, s.get_times()[:3], s.get_unit_spike_train("a", return_times=True)]""",
    "to_numpy_sorting": """
s = small_sorting().select_units(["b"])
n = s.to_numpy_sorting()
result = [type(n).__name__, n.unit_ids, n.to_spike_vector()]""",
    "precompute_spike_trains": """
s = small_sorting()
ret = s.precompute_spike_trains()
result = [ret, s.get_unit_spike_train("a"), s.get_unit_spike_train("b", start_frame=51)]""",
    "empty_unit_ids": """
s = si.NumpySorting.from_unit_dict({"a": np.array([1, 5]), "e": np.array([], dtype="int64")}, 1000.0)
result = [s.get_empty_unit_ids(), s.get_non_empty_unit_ids(), s.remove_empty_units().unit_ids]""",
    "select_periods": """
periods = np.zeros(2, dtype=core("unit_period_dtype"))
periods["start_sample_index"] = [0, 45]
periods["end_sample_index"] = [60, 150]
periods["unit_index"] = [0, 1]
s = small_sorting().select_periods(periods)
result = [s.unit_ids, s.get_unit_spike_train("a"), s.get_unit_spike_train("b")]""",
    "get_parent": """
rec = numpy_recording(20, 3)
view = rec.frame_slice(2, 10)
result = [view.get_parent() is rec, rec.get_parent(), small_sorting().select_units(["a"]).get_parent() is None]""",
}

# ---------------------------------------------------------------------- job tools and global folders
JOBS = {
    "ensure_n_jobs": """
rec = numpy_recording(20, 3)
result = [si.ensure_n_jobs(rec, n_jobs=1), si.ensure_n_jobs(rec, n_jobs=-1) == core("get_usable_cpu_count")(),
          si.ensure_n_jobs(rec, n_jobs=0), si.ensure_n_jobs(rec, n_jobs=None), si.ensure_n_jobs(rec, n_jobs=3)]""",
    "ensure_chunk_size": """
rec = numpy_recording(2000, 4, dtype="int16")
result = [si.ensure_chunk_size(rec, chunk_size=100), si.ensure_chunk_size(rec, chunk_memory="8k"),
          si.ensure_chunk_size(rec, total_memory="16k", n_jobs=2), si.ensure_chunk_size(rec, chunk_duration="0.5s"),
          si.ensure_chunk_size(rec, chunk_duration=0.25)]""",
    "fix_job_kwargs": """
fixed = si.fix_job_kwargs({"n_jobs": 2, "chunk_duration": "2s", "chunk_size": None})
result = [fixed["n_jobs"], fixed["chunk_duration"], "chunk_size" in fixed]""",
    "fix_job_kwargs_unknown": "si.fix_job_kwargs({'n_jobz': 2})",
    "time_series_chunk_executor": """
def init(recording, factor):
    return {"recording": recording, "factor": factor}
def func(segment_index, start_frame, end_frame, ctx):
    traces = ctx["recording"].get_traces(segment_index=segment_index, start_frame=start_frame, end_frame=end_frame)
    return float(traces.sum()) * ctx["factor"]
rec = numpy_recording(1000, 2)
gathered = []
ex = si.TimeSeriesChunkExecutor(rec, func, init, (rec, 2.0), handle_returns=True, chunk_size=300, n_jobs=1,
                                gather_func=gathered.append)
out = ex.run()
ex2 = si.TimeSeriesChunkExecutor(rec, func, init, (rec, 1.0), handle_returns=True, chunk_size=250, n_jobs=2,
                                 pool_engine="thread")
result = [out, gathered, sorted(ex2.run()), ex.chunk_size, ex.get_chunk_memory() if hasattr(ex, "get_chunk_memory")
          else None]""",
    "get_best_job_kwargs": "result = sorted(si.get_best_job_kwargs())",
    "global_tmp_folder": """
import os
from pathlib import Path
before = core("is_set_global_tmp_folder")()
si.set_global_tmp_folder(tmp)
result = [before, Path(si.get_global_tmp_folder()) == Path(tmp), core("is_set_global_tmp_folder")()]
if not IS_SI:  # gpuspike runs in the test process: leave no global behind
    si.reset_global_tmp_folder()""",
    "global_dataset_folder": """
from pathlib import Path
si.set_global_dataset_folder(tmp)
result = Path(core("get_global_dataset_folder")()) == Path(tmp)
if not IS_SI:  # gpuspike runs in the test process: leave no global behind
    importlib.import_module("gpuspike.core.globals")._dataset_folder = None""",
}

# ---------------------------------------------------------------------- waveform tools
WAVEFORM_TOOLS = {
    "estimate_templates": """
rec = numpy_recording(300, 3)
s = small_sorting()
t = si.estimate_templates(rec, s.to_spike_vector(), s.unit_ids, 4, 6, return_in_uV=False, n_jobs=1, progress_bar=False)
med = si.estimate_templates(rec, s.to_spike_vector(), s.unit_ids, 4, 6, operator="median", return_in_uV=False,
                            n_jobs=1, progress_bar=False)
result = [np.round(t, 4), np.round(med, 4)]""",
    "estimate_templates_with_accumulator": """
rec = numpy_recording(300, 3)
rec.set_channel_gains([0.5, 1.0, 2.0])
rec.set_channel_offsets([0.0, 1.0, -1.0])
s = small_sorting()
mean, std = si.estimate_templates_with_accumulator(rec, s.to_spike_vector(), s.unit_ids, 4, 6, return_in_uV=True,
                                                   return_std=True, n_jobs=1, progress_bar=False)
result = [np.round(mean, 3), np.round(std, 3)]""",
    "split_waveforms_by_units": """
s = small_sorting()
spikes = s.to_spike_vector()
waveforms = np.arange(spikes.size * 2 * 3, dtype="float32").reshape(spikes.size, 2, 3)
split = core("split_waveforms_by_units")(s.unit_ids, spikes, waveforms)
sparse = core("split_waveforms_by_units")(s.unit_ids, spikes, waveforms,
                                          sparsity_mask=np.array([[True, False, True], [False, True, False]]))
result = [sorted(split), split["b"], sparse["a"], sparse["b"]]""",
}

ALL_CASES = {**GENERATORS, **PERSISTENCE, **METHODS, **JOBS, **WAVEFORM_TOOLS}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    return run_cases(ALL_CASES, tmp_path_factory.mktemp("must_exist"), setup=SETUP)


@pytest.mark.compare
@pytest.mark.parametrize("name", sorted(ALL_CASES))
def test_same_outcome_as_spikeinterface(outcomes, name):
    gs_results, si_results = outcomes
    assert_same_outcome(gs_results[name], si_results[name], name)


@pytest.mark.compare
def test_cases_fail_or_succeed_as_written(outcomes):
    gs_results, si_results = outcomes
    for name, code in ALL_CASES.items():
        for library, results in (("gpuspike", gs_results), ("SpikeInterface", si_results)):
            assert ("error" in results[name]) == ("result =" not in code), (name, library, results[name])


# ---------------------------------------------------------------------- 0.100-era WaveformExtractor methods
# (SpikeInterface 0.105 has no WaveformExtractor.create: gpuspike's run is checked against its extract_waveforms)
@pytest.fixture(scope="module")
def gt():
    recording, sorting = gs.generate_ground_truth_recording(durations=[2.0], num_channels=8, num_units=3,
                                                            dtype="int16", gain_to_uV=0.5, seed=5)
    return recording, sorting


def test_create_set_params_run_matches_extract_waveforms(gt, tmp_path):
    recording, sorting = gt
    we = gs.WaveformExtractor.create(recording, sorting, tmp_path / "wf", allow_unfiltered=True)
    assert not we.has_extension("waveforms")
    we.set_params(ms_before=1.5, ms_after=2.5, max_spikes_per_unit=20)
    assert not we.has_extension("waveforms")
    we.run_extract_waveforms(seed=3, n_jobs=1, chunk_size=30000, progress_bar=False)
    ref = gs.extract_waveforms(recording, sorting, mode="memory", ms_before=1.5, ms_after=2.5, max_spikes_per_unit=20,
                               seed=3, sparse=False, return_scaled=False, progress_bar=False)
    for unit_id in sorting.unit_ids:
        np.testing.assert_array_equal(np.asarray(we.get_waveforms(unit_id)), np.asarray(ref.get_waveforms(unit_id)))
    assert we.has_extension("waveforms") and we.has_extension("random_spikes")
    for opened in (gs.WaveformExtractor.load_from_folder(tmp_path / "wf"), gs.WaveformExtractor.load(tmp_path / "wf")):
        np.testing.assert_array_equal(opened.get_all_templates(), we.get_all_templates())
    unit_id = sorting.unit_ids[0]
    np.testing.assert_array_equal(we.get_waveforms_segment(0, unit_id), np.asarray(we.get_waveforms(unit_id)))
    assert "waveforms" in we.get_available_extension_names()


def test_create_refuses_unfiltered_recording_unless_allowed(tmp_path):
    recording = gs.NumpyRecording([np.zeros((1000, 2), dtype="float32")], 1000.0)
    sorting = gs.NumpySorting.from_samples_and_labels([np.array([100, 500])], [np.array([0, 0])], 1000.0)
    with pytest.raises(ValueError, match="allow_unfiltered"):
        gs.WaveformExtractor.create(recording, sorting, tmp_path / "wf")
    recording.annotate(is_filtered=True)
    assert gs.WaveformExtractor.create(recording, sorting, tmp_path / "wf").recording is recording


def test_sparsity_helpers_of_0100(gt):
    recording, sorting = gt
    we = gs.extract_waveforms(recording, sorting, mode="memory", max_spikes_per_unit=30, seed=0, sparse=False,
                              progress_bar=False)
    noise = gs.get_noise_levels(recording, return_scaled=True)
    templates = we.get_all_templates().astype("float64")
    np.testing.assert_array_equal(gs.ChannelSparsity.from_ptp(we, 5.0, noise_levels=noise).mask,
                                  np.ptp(templates, axis=1) / noise >= 5.0)
    energies = np.stack([np.linalg.norm(np.asarray(we.get_waveforms(u), dtype="float64"), axis=(0, 1))
                         / np.sqrt(we.nsamples * np.asarray(we.get_waveforms(u)).shape[0]) for u in we.unit_ids])
    np.testing.assert_array_equal(gs.ChannelSparsity.from_energy(we, 5.0, noise_levels=noise).mask,
                                  energies / noise >= 5.0)
    by_id = gs.get_template_channel_sparsity(we, method="best_channels", num_channels=3)
    expected = gs.compute_sparsity(we, method="best_channels", num_channels=3).unit_id_to_channel_ids
    assert by_id.keys() == expected.keys() and all(np.array_equal(by_id[u], expected[u]) for u in by_id)
    pre = gs.precompute_sparsity(recording, sorting, num_spikes_for_sparsity=50, method="best_channels",
                                 num_channels=3, progress_bar=False)
    est = gs.estimate_sparsity(sorting, recording, num_spikes_for_sparsity=50, ms_before=2.0, ms_after=3.0,
                               method="best_channels", num_channels=3, progress_bar=False)
    assert pre == est


def test_0100_names_kept():
    """Names of 0.100 that 0.105 dropped: gpuspike keeps them (both generations work)."""
    assert gs.ChunkRecordingExecutor is not None and issubclass(gs.ChunkRecordingExecutor, gs.TimeSeriesChunkExecutor)
    tmp = gs.get_global_tmp_folder()
    gs.reset_global_tmp_folder()
    assert not gs.core.globals.is_set_global_tmp_folder() and gs.get_global_tmp_folder() is not None
    gs.set_global_tmp_folder(tmp)
    gs.reset_global_tmp_folder()
