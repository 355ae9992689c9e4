"""SpikeInterface 0.105's names outside ``spikeinterface.core``'s namespace (``core.testing``,
``core.core_tools``, ``core.waveform_tools``) and behaviours its own tests check: each snippet
runs unchanged with SpikeInterface and with gpuspike, importing the submodule by its
SpikeInterface path (``si_module("waveform_tools")``)."""
import pytest

from _si_compare import assert_same_outcome, run_cases

pytestmark = pytest.mark.compare

SETUP = """
import importlib, warnings
warnings.simplefilter("ignore")
def si_module(name):
    return importlib.import_module(("spikeinterface.core." if IS_SI else "gpuspike.core.") + name)
def ground_truth(seed=0):
    rng = np.random.default_rng(seed)
    traces = [rng.integers(-300, 300, (n, 6)).astype("int16") for n in (20000, 10000)]
    rec = si.NumpyRecording(traces, 10000.0)
    rec.set_channel_gains(rng.uniform(0.5, 2.0, 6).astype("float32"))
    rec.set_channel_offsets(rng.uniform(-5, 5, 6).astype("float32"))
    samples = [np.sort(rng.choice(np.arange(30, n - 30), 40, replace=False)) for n in (20000, 10000)]
    samples[0][:2] = [3, 19995]  # windows across the segment's edges
    labels = [rng.integers(0, 4, s.size) for s in samples]
    srt = si.NumpySorting.from_samples_and_labels(samples, labels, 10000.0)
    return rec, srt
"""

CASES = {
    "single_buffer_dense": """
rec, srt = ground_truth(1)
wt = si_module("waveform_tools")
spikes = srt.to_spike_vector()
result = [wt.extract_waveforms_to_single_buffer(rec, spikes, 10, 20, mode="shared_memory", return_in_uV=True,
                                                 n_jobs=1, chunk_size=3000),
          wt.extract_waveforms_to_single_buffer(rec, spikes, 10, 20, mode="shared_memory", return_in_uV=True,
                                                 dtype="float32", n_jobs=2, chunk_size=3000)]""",
    "single_buffer_sparse_raw": """
rec, srt = ground_truth(2)
wt = si_module("waveform_tools")
spikes = srt.to_spike_vector()
mask = np.zeros((4, 6), dtype=bool)
for u in range(4):
    mask[u, [u, (u + 2) % 6, (u + 3) % 6][: 1 + u % 3]] = True
result = wt.extract_waveforms_to_single_buffer(rec, spikes, 5, 7, mode="shared_memory", return_in_uV=False,
                                                sparsity_mask=mask, dtype="float32", n_jobs=2, chunk_size=4000)""",
    "single_buffer_memmap_file": """
import os
rec, srt = ground_truth(3)
wt = si_module("waveform_tools")
path = os.path.join(tmp, "all.npy")
wf = wt.extract_waveforms_to_single_buffer(rec, srt.to_spike_vector(), 8, 8, mode="memmap", file_path=path,
                                            return_in_uV=True, n_jobs=1)
result = [np.asarray(wf), np.load(path)]""",
    "testing_recordings_equal": """
rec, _ = ground_truth(4)
testing = si_module("testing")
testing.check_recordings_equal(rec, rec.save(format="memory"), check_properties=True, check_annotations=True)
try:
    testing.check_recordings_equal(rec, rec.frame_slice(0, 100))
    result = "no error"
except AssertionError:
    result = "AssertionError"
""",
    "testing_sortings_equal": """
_, srt = ground_truth(5)
testing = si_module("testing")
testing.check_sortings_equal(srt, srt.save(format="memory"), check_properties=True)
testing.check_sorted_arrays_equal([3, 1, 2], np.array([1, 2, 3]))
try:
    testing.check_sortings_equal(srt, srt.select_units(srt.unit_ids[:2]))
    result = "no error"
except AssertionError:
    result = "AssertionError"
""",
    "check_json": """
ct = si_module("core_tools")
result = ct.check_json({"a": np.int64(3), "b": np.arange(3, dtype="int16"), "c": np.float32(0.5),
                        "d": np.dtype("int16"), "e": {"f": [np.bool_(True), (1, 2)]}})""",
    "noise_level_cache_not_inherited": """
rec = ground_truth(6)[0].select_segments([0])
si.get_noise_levels(rec, return_in_uV=False, method="mad")
keys = lambda r: sorted(k for k in r.get_property_keys() if k.startswith("noise_level"))
result = [keys(rec), keys(rec.frame_slice(0, 1000)), keys(si.concatenate_recordings([rec, rec])),
          keys(rec.select_channels(rec.channel_ids[:3])), keys(rec.rename_channels([f"x{i}" for i in range(6)]))]""",
    "time_slice_before_start": """
rec = si.generate_recording(durations=[0.1], seed=0)
rec.shift_times(1.0)
rec.time_slice(start_time=0, end_time=None)""",
    "time_slice_after_end": """
rec = si.generate_recording(durations=[0.1], seed=0)
rec.time_slice(start_time=None, end_time=5.0)""",
    "time_slice_inside": """
rec = si.generate_recording(durations=[0.1], seed=0)
rec.shift_times(1.0)
sliced = rec.time_slice(start_time=1.02, end_time=1.05)
result = [sliced.get_num_samples(), sliced.get_start_time()]""",
    "time_slice_two_segments": """
rec = si.generate_recording(durations=[0.1, 0.1], seed=0)
try:
    rec.time_slice(0.0, 0.05)
    result = "no error"
except AssertionError:
    result = "AssertionError"
""",
    "memory_save_ignores_unknown_keywords": """
rec = si.generate_recording(durations=[0.1], seed=0)
srt = si.generate_sorting(durations=[0.1], seed=0)
result = [type(rec.save(format="memory", shared=False)).__name__,
          type(srt.save(format="memory", shared=False)).__name__]""",
    "set_probe_in_place": """
from probeinterface import generate_linear_probe
rec = si.NumpyRecording([np.zeros((10, 3), "float32")], 1000.0)
probe = generate_linear_probe(num_elec=3, ypitch=20)
probe.set_device_channel_indices([2, 0, 1])
rec.set_probe(probe)
result = [rec.has_probe(), rec.get_channel_locations(), rec.get_channel_groups()]""",
    "set_probe_by_shank_without_shanks": """
from probeinterface import generate_linear_probe
rec = si.NumpyRecording([np.zeros((10, 3), "float32")], 1000.0)
probe = generate_linear_probe(num_elec=3, ypitch=20)
probe.set_device_channel_indices([0, 1, 2])
probe._shank_ids = None
try:
    rec.set_probe(probe, group_mode="by_shank")
    result = "no error"
except AssertionError:
    result = "AssertionError"
""",
    "memory_strings_and_suffixes": """
ct = si_module("core_tools")
result = [ct.convert_string_to_bytes(x) for x in ("1k", "2.5M", "1Gi", "3Ki", "2T")]
result += [str(ct.add_suffix("a/b", ["zarr", ".zip"])), str(ct.add_suffix("a/b.zip", ["zarr", ".zip"]))]""",
    "json_encoder": """
import json
ct = si_module("core_tools")
result = json.loads(json.dumps({"a": np.int64(1), "b": np.arange(3, dtype="uint8"), "c": np.float32(0.25),
                                "d": np.dtype("int16"), "e": [np.bool_(False)]}, cls=ct.SIJsonEncoder))""",
    "load_templates_dict": """
t = si.Templates(templates_array=np.arange(24, dtype="float32").reshape(2, 3, 4), sampling_frequency=1e4,
                 nbefore=1)
again = si.load(t.to_dict())
result = [type(again).__name__, again.templates_array, again.nbefore]""",
    "units_selection_unknown_id": """
srt = si.NumpySorting.from_samples_and_labels([np.array([5, 9])], [np.array([0, 1])], 1e4)
try:
    si.UnitsSelectionSorting(srt, unit_ids=[7])
    result = "no error"
except AssertionError:
    result = "AssertionError"
""",
    "analyzer_total_duration_with_times": """
rec, srt = ground_truth(7)
rec = rec.select_segments([0])
rec.set_times(np.arange(rec.get_num_samples()) / 1e4 + 50.0)
rec.set_channel_locations(np.stack([np.zeros(6), 20.0 * np.arange(6)], axis=1))
srt = si.select_segment_sorting(srt, [0])
analyzer = si.create_sorting_analyzer(srt, rec, sparse=False)
result = round(analyzer.get_total_duration(), 6)""",
    "fix_job_kwargs_float_n_jobs": """
jt = si_module("job_tools")
result = jt.fix_job_kwargs({"n_jobs": 2.0})["n_jobs"]""",
    "unit_locations_minimum_distance": """
gen = si_module("generate")
cl = np.stack([np.repeat([0.0, 20.0], 20), np.tile(np.arange(20) * 20.0, 2)], axis=1)
loc = gen.generate_unit_locations(100, cl, margin_um=20.0, minimum_distance=20.0, max_iteration=500, seed=0)
d = np.linalg.norm(loc[:, None] - loc[None], axis=2)
np.fill_diagonal(d, np.inf)
result = [str(loc.dtype), bool(d.min() >= 20.0 - 1e-4), loc.shape]""",
    "small_tools": """
ct, jt = si_module("core_tools"), si_module("job_tools")
rec = si.generate_recording(num_channels=2, durations=[0.5], sampling_frequency=20000.0)
result = [ct.samples_to_ms(45, 30000.0), ct.is_path_remote("s3://bucket/x"), ct.is_path_remote("/data/x"),
          ct.is_dict_extractor(rec.to_dict()), ct.is_dict_extractor({"class": "x"}),
          ct.define_function_from_class(si.NumpyRecording, "read_numpy") is si.NumpyRecording,
          jt.chunk_duration_to_chunk_size("250ms", rec), jt.chunk_duration_to_chunk_size(0.1, rec),
          jt.chunk_duration_to_chunk_size("2s", rec)]""",
    "unit_locations_same_draws": """
gen = si_module("generate")
cl = np.stack([np.zeros(8), np.arange(8) * 20.0], axis=1)
result = [gen.generate_unit_locations(12, cl, seed=1), gen.generate_unit_locations(30, cl, seed=4),
          gen.generate_unit_locations(12, cl, seed=2, distribution="multimodal"),
          gen.generate_unit_locations(9, cl, seed=3, num_modes=3, distribution="multimodal", minimum_distance=None)]""",
    "ground_truth_recording_same_traces": """
rec, srt = si.generate_ground_truth_recording(durations=[1.0], num_channels=8, num_units=6, seed=0,
                                              generate_probe_kwargs=dict(num_columns=1, ypitch=20))
result = [rec.get_traces(start_frame=1000, end_frame=1400), srt.get_property("main_channel_id"),
          srt.to_spike_vector()["sample_index"][:50]]""",
}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    return run_cases(CASES, tmp_path_factory.mktemp("si_submodules"), setup=SETUP)


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_outcome_as_spikeinterface(outcomes, name):
    gs, si = outcomes
    assert "error" not in si[name] or name.startswith("time_slice"), si[name]  # each case is valid SpikeInterface
    assert_same_outcome(gs[name], si[name], name)
    if name in ("time_slice_before_start", "time_slice_after_end"):
        assert gs[name]["error"] == si[name]["error"] == "ValueError"
        assert si[name]["message"] in gs[name]["message"]
