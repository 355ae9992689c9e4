"""Differential tests of core behaviour against SpikeInterface 0.105 (issue 14's numbered points).

Each snippet runs twice, unchanged, once with ``si`` = gpuspike and once with ``si`` =
``spikeinterface.core`` (see ``_si_compare``); the outcomes must be equal: the same encoded
values, or an error in both. A few snippets branch on ``IS_SI`` only where the two libraries
place a name differently (``toy_example`` lives in ``spikeinterface.extractors``).
"""
import pytest

from _si_compare import assert_same_outcome, run_cases

pytestmark = pytest.mark.compare

SETUP = """
import warnings
warnings.simplefilter("ignore", FutureWarning)
def numpy_recording(num_samples=100, num_channels=4, channel_ids=None, dtype="float32", fs=1000.0):
    traces = np.arange(num_samples * num_channels, dtype=dtype).reshape(num_samples, num_channels)
    return si.NumpyRecording([traces], fs, channel_ids=channel_ids)
def linear_probe(n, name=None, x=0.0):
    from probeinterface import generate_linear_probe
    probe = generate_linear_probe(num_elec=n, ypitch=20)
    probe.move([x, 0])
    if name is not None:
        probe.annotate(name=name)
    return probe
"""

# ---------------------------------------------------------------------- 1. ids
CASES_1 = {
    "p1_generate_recording_ids": "result = si.generate_recording(num_channels=3, durations=[0.1], seed=1).channel_ids",
    "p1_generate_sorting_ids": "result = si.generate_sorting(num_units=4, durations=[1.0], seed=1).unit_ids",
    "p1_ground_truth_ids": """
rec, srt = si.generate_ground_truth_recording(durations=[1.0], num_units=3, seed=1)
result = [rec.channel_ids, srt.unit_ids]""",
    "p1_toy_example_ids": """
toy = __import__("spikeinterface.extractors", fromlist=["toy_example"]).toy_example if IS_SI else si.toy_example
rec, srt = toy(duration=1.0, num_channels=3, num_units=4, seed=0, num_segments=1)
result = [rec.channel_ids, srt.unit_ids]""",
    "p1_aggregate_channels_int_clash": """
result = si.aggregate_channels([numpy_recording(10, 2, [0, 1]), numpy_recording(10, 2, [0, 1])]).channel_ids""",
    "p1_aggregate_channels_unique_int": """
result = si.aggregate_channels([numpy_recording(10, 2, [0, 1]), numpy_recording(10, 2, [5, 6])]).channel_ids""",
    "p1_aggregate_channels_mixed": """
result = si.aggregate_channels([numpy_recording(10, 2, [0, 1]), numpy_recording(10, 2, ["a", "b"])]).channel_ids""",
    "p1_aggregate_channels_dict": """
agg = si.aggregate_channels({"x": numpy_recording(10, 2, ["a", "b"]), "y": numpy_recording(10, 3, ["a", "c", "d"])})
result = [agg.channel_ids, agg.get_property("aggregation_key")]""",
    "p1_aggregate_units_str_clash": """
a = si.generate_sorting(num_units=3, durations=[1.0], seed=1)
b = si.generate_sorting(num_units=2, durations=[1.0], seed=2)
agg = si.aggregate_units([a, b])
result = [agg.unit_ids, agg.get_unit_spike_train(agg.unit_ids[3])]""",
    "p1_aggregate_units_properties": """
a = si.generate_sorting(num_units=3, durations=[1.0], seed=1)
b = si.generate_sorting(num_units=2, durations=[1.0], seed=2)
a.set_property("ints", np.array([1, 2, 3]))
a.set_property("flags", np.array([True, False, True]))
a.set_property("nd_one_side", np.ones((3, 2, 2)))
a.set_property("nd_both", np.ones((3, 2)))
b.set_property("nd_both", np.zeros((2, 2)))
a.set_property("kinds", np.array([1, 2, 3]))
b.set_property("kinds", np.array([1.5, 2.5]))
a.set_property("floats", np.array([0.5, 1.5, 2.5]))
a.set_property("names", np.array(["x", "y", "z"]))
agg = si.aggregate_units([a, b])
result = {k: agg.get_property(k) for k in sorted(agg.get_property_keys())}""",
    "p1_aggregate_units_int_clash": """
s = si.NumpySorting.from_samples_and_labels([np.array([1, 5, 9])], [np.array([0, 1, 0])], 1000.0)
result = si.aggregate_units([s, s]).unit_ids""",
    "p1_aggregate_units_mixed": """
s = si.NumpySorting.from_samples_and_labels([np.array([1, 5, 9])], [np.array([0, 1, 0])], 1000.0)
t = si.NumpySorting.from_samples_and_labels([np.array([2, 3])], [np.array(["x", "y"])], 1000.0)
result = si.aggregate_units([s, t]).unit_ids""",
    "p1_aggregate_units_dict": """
s = si.NumpySorting.from_samples_and_labels([np.array([1, 5, 9])], [np.array(["a", "b", "a"])], 1000.0)
t = si.NumpySorting.from_samples_and_labels([np.array([2, 3])], [np.array(["c", "d"])], 1000.0)
agg = si.aggregate_units({"first": s, "second": t})
result = [agg.unit_ids, agg.get_property("aggregation_key")]""",
}

# ---------------------------------------------------------------------- 2. frames and ids_to_indices
CASES_2 = {
    "p2_get_traces_clamps_end": "result = numpy_recording(10, 2).get_traces(start_frame=6, end_frame=25)",
    "p2_get_traces_end_none": "result = numpy_recording(10, 2).get_traces(start_frame=7)",
    "p2_frame_slice_float_frames": "result = numpy_recording(10, 2).frame_slice(2.0, 5.0).get_traces()",
    "p2_frame_slice_end_past": "numpy_recording(10, 2).frame_slice(2, 11)",
    "p2_prefer_slice_consecutive": """
rec = numpy_recording(5, 5, list("abcde"))
result = rec.ids_to_indices(["b", "c", "d"], prefer_slice=True)""",
    "p2_prefer_slice_gap": """
rec = numpy_recording(5, 5, list("abcde"))
result = rec.ids_to_indices(["b", "d"], prefer_slice=True)""",
    "p2_prefer_slice_single": """
rec = numpy_recording(5, 5, list("abcde"))
result = rec.ids_to_indices(["e"], prefer_slice=True)""",
    "p2_prefer_slice_none": "result = numpy_recording(5, 5).ids_to_indices(None, prefer_slice=True)",
    "p2_no_prefer_slice": """
rec = numpy_recording(5, 5, list("abcde"))
result = rec.ids_to_indices(["b", "c"])""",
}

# ---------------------------------------------------------------------- 3. set_property
CASES_3 = {
    "p3_float_subset_nan": """
rec = numpy_recording(5, 4, list("abcd"))
rec.set_property("q", np.array([1.5, 2.5]), ids=["b", "d"])
result = rec.get_property("q")""",
    "p3_str_subset_empty": """
rec = numpy_recording(5, 4, list("abcd"))
rec.set_property("q", np.array(["xx", "y"]), ids=["c", "a"])
result = rec.get_property("q")""",
    "p3_int_subset_needs_missing_value": """
rec = numpy_recording(5, 4, list("abcd"))
rec.set_property("q", np.array([1, 2]), ids=["b", "d"])""",
    "p3_int_subset_with_missing_value": """
rec = numpy_recording(5, 4, list("abcd"))
rec.set_property("q", np.array([1, 2]), ids=["b", "d"], missing_value=-7)
result = rec.get_property("q")""",
    "p3_bool_subset_needs_missing_value": """
rec = numpy_recording(5, 4, list("abcd"))
rec.set_property("q", np.array([True]), ids=["b"])""",
    "p3_missing_value_other_kind": """
rec = numpy_recording(5, 4, list("abcd"))
rec.set_property("q", np.array([1.0, 2.0]), ids=["b", "d"], missing_value="none")""",
    # (numbers of another numeric kind: SpikeInterface refuses them, gpuspike takes exact ones (issue 15))
    "p3_existing_other_kind": """
rec = numpy_recording(5, 4, list("abcd"))
rec.set_property("q", np.array([1.0, 2.0, 3.0, 4.0]))
rec.set_property("q", np.array(["x", "y"]), ids=["a", "b"])""",
    "p3_existing_update_subset": """
rec = numpy_recording(5, 4, list("abcd"))
rec.set_property("q", np.array([1.0, 2.0, 3.0, 4.0]))
rec.set_property("q", np.array([9.0]), ids=["c"])
result = rec.get_property("q")""",
    "p3_all_ids_permuted": """
rec = numpy_recording(5, 4, list("abcd"))
rec.set_property("q", np.array([10, 20, 30, 40]), ids=["d", "c", "b", "a"])
result = rec.get_property("q")""",
    "p3_duplicate_ids": """
rec = numpy_recording(5, 4, list("abcd"))
rec.set_property("q", np.array([1.0, 2.0]), ids=["a", "a"])""",
    "p3_wrong_length": """
rec = numpy_recording(5, 4, list("abcd"))
rec.set_property("q", np.array([1.0, 2.0]))""",
    "p3_string_grows": """
rec = numpy_recording(5, 4, list("abcd"))
rec.set_property("q", np.array(["a", "b"]), ids=["a", "b"])
rec.set_property("q", np.array(["longer"]), ids=["c"])
result = rec.get_property("q")""",
}

# ---------------------------------------------------------------------- 4. register_recording and sorting slices
CASES_4 = {
    "p4_register_recording_past_end_warns": """
s = si.NumpySorting.from_samples_and_labels([np.array([1, 50, 150])], [np.array([0, 0, 1])], 1000.0)
rec = numpy_recording(100, 2)
s.register_recording(rec)
result = s.has_recording()""",
    "p4_frame_slice_start_equals_end": """
s = si.NumpySorting.from_samples_and_labels([np.array([1, 50, 90])], [np.array([0, 0, 1])], 1000.0)
s.frame_slice(20, 20)""",
    "p4_frame_slice_no_recording_start_past_last_spike": """
s = si.NumpySorting.from_samples_and_labels([np.array([1, 50, 90])], [np.array([0, 0, 1])], 1000.0)
s.frame_slice(95, None)""",
    "p4_frame_slice_no_recording_default_end": """
s = si.NumpySorting.from_samples_and_labels([np.array([1, 50, 90])], [np.array([0, 0, 1])], 1000.0)
sub = s.frame_slice(10, None)
result = [sub.get_unit_spike_train(0), sub.get_unit_spike_train(1)]""",
    "p4_frame_slice_end_from_recording": """
s = si.NumpySorting.from_samples_and_labels([np.array([1, 50, 90])], [np.array([0, 0, 1])], 1000.0)
s.register_recording(numpy_recording(120, 2))
sub = s.frame_slice(10, None)
result = [sub.get_num_samples(), sub.get_unit_spike_train(1), sub.has_recording()]""",
    "p4_frame_slice_end_past_recording": """
s = si.NumpySorting.from_samples_and_labels([np.array([1, 50, 90])], [np.array([0, 0, 1])], 1000.0)
s.register_recording(numpy_recording(120, 2))
s.frame_slice(10, 130)""",
    "p4_frame_slice_exceeding_spikes_with_recording": """
s = si.NumpySorting.from_samples_and_labels([np.array([1, 50, 150])], [np.array([0, 0, 1])], 1000.0)
s.register_recording(numpy_recording(120, 2))
s.frame_slice(10, 100)""",
    "p4_concatenate_spikes_beyond_total_samples": """
a = si.NumpySorting.from_samples_and_labels([np.array([1, 50, 90])], [np.array([0, 0, 1])], 1000.0)
b = si.NumpySorting.from_samples_and_labels([np.array([3, 70])], [np.array([1, 0])], 1000.0)
si.concatenate_sortings([a, b], total_samples_list=[80, 100])""",
    "p4_concatenate_total_samples": """
a = si.NumpySorting.from_samples_and_labels([np.array([1, 50, 90])], [np.array([0, 0, 1])], 1000.0)
b = si.NumpySorting.from_samples_and_labels([np.array([3, 70])], [np.array([1, 0])], 1000.0)
c = si.concatenate_sortings([a, b], total_samples_list=[100, 100])
result = [c.get_unit_spike_train(0), c.get_unit_spike_train(1)]""",
    "p4_concatenate_keeps_registered_recording": """
a = si.NumpySorting.from_samples_and_labels([np.array([1, 50, 90])], [np.array([0, 0, 1])], 1000.0)
b = si.NumpySorting.from_samples_and_labels([np.array([3, 70])], [np.array([1, 0])], 1000.0)
a.register_recording(numpy_recording(100, 2))
b.register_recording(numpy_recording(80, 2))
c = si.concatenate_sortings([a, b])
result = [c.has_recording(), c.get_num_samples(), c.get_unit_spike_train(1)]""",
    "p4_concatenate_sortings_keeping_times_needs_recordings": """
a = si.NumpySorting.from_samples_and_labels([np.array([1, 50, 90])], [np.array([0, 0, 1])], 1000.0)
b = si.NumpySorting.from_samples_and_labels([np.array([3, 70])], [np.array([1, 0])], 1000.0)
si.concatenate_sortings([a, b], total_samples_list=[100, 100], ignore_times=False)""",
    "p4_concatenate_recordings_keeping_times_without_times": """
c = si.concatenate_recordings([numpy_recording(100, 2), numpy_recording(50, 2)], ignore_times=False)
result = [c.get_num_samples(), c.get_times()[:3], c.get_times()[-1]]""",
    "p4_concatenate_recordings_keeping_a_time_vector": """
a = numpy_recording(100, 2)
a.set_times(np.arange(100) / 1000.0 + 5.0)
si.concatenate_recordings([a, numpy_recording(50, 2)], ignore_times=False)""",
    "p4_concatenate_recordings_keeping_a_t_start": """
a = numpy_recording(100, 2)
a.shift_times(2.0) if hasattr(a, "shift_times") else a._recording_segments[0].__setattr__("t_start", 2.0)
si.concatenate_recordings([numpy_recording(50, 2), a], ignore_times=False)""",
    "p4_concatenate_recordings_dropping_times": """
a = numpy_recording(100, 2)
a.set_times(np.arange(100) / 1000.0 + 5.0)
c = si.concatenate_recordings([a, numpy_recording(50, 2)])
result = [c.get_num_samples(), c.get_times()[:2], c.get_start_time()]""",
}

# ---------------------------------------------------------------------- 5. aggregate_units metadata
CASES_5 = {
    "p5_annotations_equal_kept": """
a = si.NumpySorting.from_samples_and_labels([np.array([1, 5])], [np.array([0, 1])], 1000.0)
b = si.NumpySorting.from_samples_and_labels([np.array([2, 3])], [np.array([0, 1])], 1000.0)
a.annotate(lab="x", rig=1, only_a=3)
b.annotate(lab="x", rig=2)
agg = si.aggregate_units([a, b])
result = sorted(agg.get_annotation_keys()), agg.get_annotation("lab")""",
    "p5_property_missing_float_filled": """
a = si.NumpySorting.from_samples_and_labels([np.array([1, 5])], [np.array([0, 1])], 1000.0)
b = si.NumpySorting.from_samples_and_labels([np.array([2, 3])], [np.array([0, 1])], 1000.0)
a.set_property("amp", np.array([1.5, 2.5]))
result = si.aggregate_units([a, b]).get_property("amp")""",
    "p5_property_missing_str_filled": """
a = si.NumpySorting.from_samples_and_labels([np.array([1, 5])], [np.array([0, 1])], 1000.0)
b = si.NumpySorting.from_samples_and_labels([np.array([2, 3])], [np.array([0, 1])], 1000.0)
b.set_property("quality", np.array(["good", "mua"]))
result = si.aggregate_units([a, b]).get_property("quality")""",
    "p5_property_missing_int_dropped": """
a = si.NumpySorting.from_samples_and_labels([np.array([1, 5])], [np.array([0, 1])], 1000.0)
b = si.NumpySorting.from_samples_and_labels([np.array([2, 3])], [np.array([0, 1])], 1000.0)
a.set_property("count", np.array([1, 2]))
result = si.aggregate_units([a, b]).get_property_keys()""",
    "p5_property_mixed_kind_dropped": """
a = si.NumpySorting.from_samples_and_labels([np.array([1, 5])], [np.array([0, 1])], 1000.0)
b = si.NumpySorting.from_samples_and_labels([np.array([2, 3])], [np.array([0, 1])], 1000.0)
a.set_property("x", np.array([1, 2]))
b.set_property("x", np.array([1.0, 2.0]))
a.set_property("y", np.array([1.0, 2.0]))
b.set_property("y", np.array([3.0, 4.0]))
agg = si.aggregate_units([a, b])
result = [sorted(agg.get_property_keys()), agg.get_property("y")]""",
}

# ---------------------------------------------------------------------- 6. events and probes
CASES_6 = {
    "p6_event_plain_times": """
ev = si.NumpyEvent.from_dict({"ttl": np.array([0.5, 1.5, 2.5])})
events = ev.get_events("ttl")
result = [events, events.dtype.names is None, ev.get_event_times("ttl", start_time=1.0)]""",
    "p6_event_structured": """
dtype = np.dtype([("time", "float64"), ("duration", "float64")])
ev = si.NumpyEvent.from_dict([{"a": np.array([(0.5, 0.1), (1.5, 0.2)], dtype=dtype)}])
result = [ev.get_events("a", segment_index=0)["duration"], ev.get_event_times("a", segment_index=0, end_time=1.5)]""",
    "p6_overlapping_probes_rejected": """
from probeinterface import ProbeGroup
group = ProbeGroup()
group.add_probe(linear_probe(3))
group.add_probe(linear_probe(3, x=0.0))
group.set_global_device_channel_indices(np.arange(6))
numpy_recording(10, 6).set_probegroup(group)""",
    "p6_separate_probes_accepted": """
from probeinterface import ProbeGroup
group = ProbeGroup()
group.add_probe(linear_probe(3, "A"))
group.add_probe(linear_probe(3, "B", x=200.0))
group.set_global_device_channel_indices(np.arange(6))
rec = numpy_recording(10, 6)
rec.set_probegroup(group, in_place=True)
result = [rec.get_channel_locations(), [p.name for p in rec.get_probegroup().probes]]""",
    "p6_all_unwired_gives_no_channel": """
probe = linear_probe(4)
probe.set_device_channel_indices(-np.ones(4, dtype=int))
result = numpy_recording(10, 4).set_probe(probe, in_place=False).get_num_channels()""",
    "p6_select_channels_keeps_probe_name": """
from probeinterface import ProbeGroup
group = ProbeGroup()
group.add_probe(linear_probe(3, "A"))
group.add_probe(linear_probe(3, "B", x=200.0))
group.set_global_device_channel_indices(np.arange(6))
rec = numpy_recording(10, 6, list("abcdef"))
rec.set_probegroup(group, in_place=True)
result = [rec.select_channels(["d", "f"]).get_probe().name, rec.select_channels(["a"]).get_probe().name]""",
    "p6_set_channel_locations_replaces_the_probe": """
rec = numpy_recording(10, 4)
probe = linear_probe(4)
probe.set_device_channel_indices(np.arange(4))
rec.set_probe(probe, in_place=True)
rec.set_channel_locations(np.column_stack([np.arange(4) * 7.0, np.arange(4) * 3.0]))
result = [rec.has_probe(), rec.get_channel_locations(), rec.get_probe().get_contact_count(),
          rec.get_probe().device_channel_indices]""",
    "p6_interleaved_probes_saved_and_reopened": """
from probeinterface import ProbeGroup
group = ProbeGroup()
group.add_probe(linear_probe(3, "A"))
group.add_probe(linear_probe(3, "B", x=200.0))
group.set_global_device_channel_indices(np.array([3, 0, 5, 1, 4, 2]))
rec = numpy_recording(10, 6, list("abcdef"))
rec.set_probegroup(group, in_place=True)
folder = rec.save(folder=tmp + "/r", progress_bar=False)
zarr = rec.save(folder=tmp + "/z.zarr", format="zarr", progress_bar=False)
result = [rec.get_channel_locations(), rec.get_channel_groups().tolist()]
result += [[r.get_channel_locations(), r.get_channel_groups().tolist(), r.get_traces()]
           for r in (folder, si.load(tmp + "/r"), si.load(tmp + "/z.zarr"))]""",
    "p6_aggregate_channels_keeps_groups": """
rec = numpy_recording(10, 6, list("abcdef"))
probe = linear_probe(6)
probe.set_device_channel_indices(np.arange(6))
rec.set_probe(probe, in_place=True)
rec.set_property("group", np.array([0, 0, 1, 1, 2, 2]))
parts = rec.split_by("group")
agg = si.aggregate_channels([parts[0], parts[1], parts[2]])
result = [agg.channel_ids, agg.get_property("group"), agg.get_channel_locations()]""",
    "p6_aggregate_channels_group_values": """
rec = numpy_recording(10, 6, list("abcdef"))
probe = linear_probe(6)
probe.set_device_channel_indices(np.arange(6))
rec.set_probe(probe, in_place=True)
rec.set_property("group", np.array([5, 5, 7, 7, 9, 9]))
parts = rec.split_by("group")
agg = si.aggregate_channels([parts[5], parts[7], parts[9]])
result = agg.get_property("group")""",
    "p6_aggregate_channels_no_probe_groups": """
a = numpy_recording(10, 2, ["a", "b"])
b = numpy_recording(10, 2, ["c", "d"])
a.set_property("group", np.array([4, 4]))
b.set_property("group", np.array([7, 8]))
result = si.aggregate_channels([a, b]).get_property("group")""",
}

# ---------------------------------------------------------------------- 7. times and generators
CASES_7 = {
    "p7_duration_time_vector": """
rec = numpy_recording(100, 2)
rec.set_times(np.linspace(3.0, 5.0, 100))
result = [round(rec.get_duration(), 12), round(rec.get_total_duration(), 12), rec.get_end_time()]""",
    "p7_duration_t_start": """
rec = si.NumpyRecording([np.zeros((100, 2), "float32")], 1000.0, t_starts=[2.0])
result = [round(rec.get_duration(), 12), rec.get_start_time(), rec.get_end_time()]""",
    "p7_synthesize_random_firings_counts": """
times, labels = si.synthesize_random_firings(num_units=4, sampling_frequency=1000.0, duration=20.0,
                                             firing_rates=[1.0, 3.0, 6.0, 12.0], seed=3)
result = np.bincount(labels, minlength=4)""",
    "p7_synthesize_random_firings_defaults": """
times, labels = si.synthesize_random_firings(seed=0)
result = np.bincount(labels)""",
    "p7_ground_truth_defaults": """
rec, srt = si.generate_ground_truth_recording(durations=[2.0], seed=4)
result = [rec.sampling_frequency, rec.get_num_channels(), srt.get_num_units(), list(rec.templates.shape),
          rec.get_channel_locations(), srt.to_spike_vector()]""",
    "p7_ground_truth_sorting_same_spikes": """
rec, srt = si.generate_ground_truth_recording(durations=[1.0, 0.5], num_units=3, seed=9,
                                              generate_sorting_kwargs=dict(firing_rates=20.0))
result = srt.to_spike_vector()""",
    "p7_generate_sorting_default_durations": """
s = si.generate_sorting(seed=2)
result = [s.get_num_segments(), s.to_spike_vector()]""",
    "p7_generate_recording_traces": """
rec = si.generate_recording(num_channels=3, durations=[0.2, 0.1], seed=11)
result = [rec.get_traces(segment_index=1, start_frame=100, end_frame=104), rec.get_num_samples(segment_index=0)]""",
    "p7_noise_generator_traces": """
gen = si.NoiseGeneratorRecording if not IS_SI else __import__(
    "spikeinterface.generation", fromlist=["x"]).NoiseGeneratorRecording
rec = gen(num_channels=3, sampling_frequency=1000.0, durations=[2.5], noise_levels=[1.0, 2.0, 3.0], seed=7,
          strategy="on_the_fly", noise_block_size=700)
result = rec.get_traces(start_frame=690, end_frame=712)""",
}

# ---------------------------------------------------------------------- 8. extract_waveforms
CASES_8 = {
    "p8_sparse_by_default_same_mask": """
rec, srt = si.generate_ground_truth_recording(durations=[3.0], num_channels=16, num_units=4, seed=2,
    generate_probe_kwargs=dict(num_columns=2, xpitch=20, ypitch=20, contact_shapes="circle",
                               contact_shape_params={"radius": 6}))
we = si.extract_waveforms(rec, srt, mode="memory", max_spikes_per_unit=10, seed=0, n_jobs=1, progress_bar=False)
result = [we.is_sparse(), we.sparsity.mask]""",
    "p8_sparse_false_is_dense": """
rec, srt = si.generate_ground_truth_recording(durations=[1.0], num_channels=4, num_units=2, seed=2)
we = si.extract_waveforms(rec, srt, mode="memory", sparse=False, max_spikes_per_unit=5, seed=0, progress_bar=False)
result = we.is_sparse()""",
    "p8_load_if_exists_refused": """
rec, srt = si.generate_ground_truth_recording(durations=[1.0], num_channels=4, num_units=2, seed=2)
si.extract_waveforms(rec, srt, mode="memory", load_if_exists=True)""",
    "p8_unit_batch_size_refused": """
rec, srt = si.generate_ground_truth_recording(durations=[1.0], num_channels=4, num_units=2, seed=2)
si.extract_waveforms(rec, srt, mode="memory", unit_batch_size=10)""",
    "p8_sparsity_temp_folder_refused": """
rec, srt = si.generate_ground_truth_recording(durations=[1.0], num_channels=4, num_units=2, seed=2)
si.extract_waveforms(rec, srt, mode="memory", sparsity_temp_folder=tmp)""",
    "p8_allow_unfiltered_and_relative_path_accepted": """
rec, srt = si.generate_ground_truth_recording(durations=[1.0], num_channels=4, num_units=2, seed=2)
we = si.extract_waveforms(rec, srt, mode="memory", sparse=False, allow_unfiltered=True, use_relative_path=True,
                          max_spikes_per_unit=3, seed=0, progress_bar=False)
result = we.get_num_channels()""",
    "p8_is_filtered_is_a_method": """
rec = numpy_recording(10, 2)
before = rec.is_filtered()
rec.annotate(is_filtered=True)
result = [before, rec.is_filtered(), callable(rec.is_filtered)]""",
}

# ---------------------------------------------------------------------- 9. save formats
CASES_9 = {
    "p9_whitematter_raw_file": """
readers = __import__("spikeinterface.extractors" if IS_SI else "gpuspike.extractors", fromlist=["x"])
path = tmp + "/wm.raw"
with open(path, "wb") as f:
    f.write(b"WMHEADER" + (np.arange(600, dtype="int16").reshape(100, 6) * 37).tobytes())
rec = readers.read_whitematter(path, 30000.0, 6)
analog = readers.read_whitematter(path, 20000.0, 6, channel_ids=list("abcdef"), gain_to_uV=305.17578125)
result = [rec.get_traces(start_frame=10, end_frame=30), rec.get_traces(return_in_uV=True), rec.get_channel_gains(),
          rec.get_channel_offsets(), rec.channel_ids.tolist(), rec.get_num_samples(), rec.get_dtype().str,
          analog.get_traces(return_in_uV=True, channel_ids=["e", "b"]), analog.get_sampling_frequency()]""",
    "p9_zarr_array_and_write_recording_to_zarr": """
import zarr
fmt = {"zarr_format": 2} if int(zarr.__version__.split(".")[0]) >= 3 else {}
rec = si.NumpyRecording([np.arange(150, dtype="int16").reshape(50, 3) * 7, np.ones((20, 3), "int16")], 1000.0)
group = zarr.open_group(tmp + "/g.zarr", mode="w", **fmt)
si.write_recording_to_zarr(rec, group, ["tr/s0", "tr/s1"], dataset_timestamps_paths=["t0", None], chunk_size=16,
                           extra_chunks=(2,))
back = si.read_zarr_array(tmp + "/g.zarr/tr/s0", 1000.0, gain_to_uV=[0.5, 1.0, 2.0], offset_to_uV=1.0,
                          is_filtered=False)
result = [group["tr/s0"][:], group["tr/s1"][:], list(group["tr/s0"].chunks), group["t0"][:], "t_starts" in group,
          back.channel_ids.tolist(), back.get_dtype().str, back.get_traces(return_in_uV=True, start_frame=3,
          end_frame=9), back.get_num_samples(), back.get_annotation("is_filtered"), back.get_channel_gains()]""",
    "p9_sorting_save_default_numpy_folder": """
import os
s = si.NumpySorting.from_samples_and_labels([np.array([1, 5, 9])], [np.array([0, 1, 0])], 1000.0)
saved = s.save(folder=tmp + "/s")
files = set(os.listdir(tmp + "/s"))
result = [type(saved).__name__, "spikes.npy" in files, "numpysorting_info.json" in files,
          type(si.load(tmp + "/s")).__name__]""",
    "p9_sorting_save_zarr": """
s = si.NumpySorting.from_samples_and_labels([np.array([1, 5, 9, 12])], [np.array(["a", "b", "a", "b"])], 1000.0)
s.set_property("q", np.array([1.5, 2.5]))
saved = s.save(folder=tmp + "/s.zarr", format="zarr")
back = si.load(tmp + "/s.zarr")
result = [back.unit_ids, back.get_unit_spike_train("a"), back.get_property("q")]""",
    "p9_recording_save_memory": """
rec = numpy_recording(20, 3)
mem = rec.save(format="memory")
result = [type(mem).__name__, mem.get_traces()[5]]""",
    "p9_recording_save_memory_numpy": """
rec = numpy_recording(20, 3)
result = type(rec.save(format="memory", sharedmem=False)).__name__""",
}

# ---------------------------------------------------------------------- 10. dtypes, margins, job kwargs
CASES_10 = {
    # values that fit the signed dtype (SpikeInterface wraps the others around, gpuspike refuses them: issue 15)
    "p10_save_unsigned_to_signed": """
tr = np.array([[0, 1, 300, 32766, 32767]], dtype="uint16").T.repeat(2, axis=1)
rec = si.NumpyRecording([tr], 1000.0)
rec.set_channel_gains(2.0)
rec.set_channel_offsets(0.0)
saved = rec.save(folder=tmp + "/a", dtype="int16", progress_bar=False)
result = [saved.get_dtype().str, saved.get_traces()[:, 0], saved.get_channel_offsets(), saved.get_channel_gains()]""",
    "p10_save_zarr_unsigned_to_signed": """
tr = np.array([[0, 1, 300, 32766, 32767]], dtype="uint16").T.repeat(2, axis=1)
rec = si.NumpyRecording([tr], 1000.0)
saved = rec.save(folder=tmp + "/a.zarr", format="zarr", dtype="int16", progress_bar=False)
result = [saved.get_dtype().str, saved.get_traces()[:, 0]]""",
    "p10_save_float_to_int": """
rec = si.NumpyRecording([np.array([[0.4, -1.6], [2.5, 3.49]], dtype="float32")], 1000.0)
result = rec.save(folder=tmp + "/f", dtype="int16", progress_bar=False).get_traces()""",
    "p10_chunk_with_margin_none_frames": """
rec = numpy_recording(50, 2)
traces, left, right = si.get_chunk_with_margin(rec.segments[0], None, None, None, 5)
result = [traces.shape, left, right]""",
    "p10_chunk_with_margin_edges": """
rec = numpy_recording(50, 2)
out = []
for start, end in [(0, 10), (3, 20), (20, 30), (40, 50), (46, 50)]:
    traces, left, right = si.get_chunk_with_margin(rec.segments[0], start, end, None, 5)
    out.append([traces[:, 0], left, right])
result = out""",
    "p10_chunk_with_margin_zeros": """
rec = numpy_recording(50, 2)
out = []
for start, end in [(None, 10), (3, 20), (40, None)]:
    traces, left, right = si.get_chunk_with_margin(rec.segments[0], start, end, None, 5, add_zeros=True)
    out.append([traces[:, 1], left, right])
result = out""",
    "p10_chunk_with_margin_past_the_end": """
rec = numpy_recording(50, 2)
out = []
for start, end in [(40, 52), (40, 55), (40, 70), (0, 80)]:
    for kw in (dict(add_zeros=True), dict(add_reflect_padding=True)):
        if "add_reflect_padding" in kw and end > 60:
            continue
        traces, left, right = si.get_chunk_with_margin(rec.segments[0], start, end, None, 5, **kw)
        out.append([traces[:, 1], left, right])
result = out""",
    "p10_chunk_with_margin_reflect": """
rec = numpy_recording(50, 2)
traces, left, right = si.get_chunk_with_margin(rec.segments[0], 2, 10, np.array([1]), 4, add_reflect_padding=True)
result = [traces[:, 0], left, right]""",
    "p10_chunk_with_margin_window_needs_zeros": """
rec = numpy_recording(50, 2)
si.get_chunk_with_margin(rec.segments[0], 10, 20, None, 5, window_on_margin=True)""",
    "p10_chunk_with_margin_window": """
rec = numpy_recording(50, 2)
traces, left, right = si.get_chunk_with_margin(rec.segments[0], 10, 20, None, 4, add_zeros=True,
                                               window_on_margin=True, dtype="float64")
result = [np.round(traces[:, 0], 10), left, right]""",
    "p10_global_job_kwargs_keys": "result = sorted(si.get_global_job_kwargs())",
    "p10_global_job_kwargs_set": """
si.set_global_job_kwargs(n_jobs=2, chunk_duration="2s")
job = si.get_global_job_kwargs()
si.reset_global_job_kwargs()
result = [sorted(job), job["n_jobs"], job["chunk_duration"], sorted(si.get_global_job_kwargs())]""",
}

# ---------------------------------------------------------------------- return_in_uV and job kwargs accepted
CASES_KEYWORDS = {
    "kw_random_chunks_same_draws": """
rec = si.generate_recording(num_channels=2, durations=[2.0], seed=0)
result = si.get_random_data_chunks(rec, return_in_uV=False, num_chunks_per_segment=4, chunk_size=100, seed=3)""",
    "kw_random_chunks_duration_list": """
rec = si.generate_recording(num_channels=2, durations=[2.0, 1.0], seed=0)
chunks = si.get_random_data_chunks(rec, chunk_duration="50ms", num_chunks_per_segment=2, seed=1, concatenated=False)
result = [len(chunks), chunks[3]]""",
    "kw_random_chunks_scaled": """
rec = numpy_recording(3000, 2, dtype="int16")
rec.set_channel_gains(0.5)
rec.set_channel_offsets(1.0)
result = si.get_random_data_chunks(rec, return_in_uV=True, num_chunks_per_segment=2, chunk_size=10, seed=0)""",
    "kw_noise_levels_job_kwargs": """
rec = si.generate_recording(num_channels=3, durations=[3.0], seed=0)
noise = si.get_noise_levels(rec, return_in_uV=False, method="std", random_slices_kwargs=dict(seed=0),
                            n_jobs=2, progress_bar=False)
result = [noise.shape, bool(np.all(np.abs(noise - 1) < 0.1))]""",
    "kw_noise_levels_rms": """
rec = si.generate_recording(num_channels=3, durations=[3.0], seed=0)
noise = si.get_noise_levels(rec, return_in_uV=False, method="rms", random_slices_kwargs=dict(seed=1))
result = [noise.shape, bool(np.all(np.abs(noise - 1) < 0.1))]""",
    "kw_noise_levels_float_no_gains": """
result = si.get_noise_levels(numpy_recording(3000, 2), return_in_uV=True, random_slices_kwargs=dict(seed=0)).shape""",
    "kw_noise_levels_int_no_gains": """
si.get_noise_levels(numpy_recording(3000, 2, dtype="int16"), return_in_uV=True)""",
    "kw_snippets_in_uV": """
snippets = si.NumpySnippets([np.arange(60, dtype="int16").reshape(3, 10, 2)], [np.array([20, 60, 150])], 1000.0,
                            nbefore=3)
snippets.set_property("gain_to_uV", np.array([0.5, 2.0]))
snippets.set_property("offset_to_uV", np.array([1.0, -1.0]))
result = [snippets.get_snippets(segment_index=0, return_in_uV=True)[1],
          snippets.get_snippets_from_frames(segment_index=0, start_frame=50, end_frame=200, return_in_uV=True)]""",
}

# ---------------------------------------------------------------------- methods SpikeInterface users call
CASES_METHODS = {
    "m_missing_annotation": "result = numpy_recording(10, 3).get_annotation('nope')",
    "m_id_to_index": "result = numpy_recording(10, 3, ['a', 'b', 'c']).id_to_index('c')",
    "m_get_channel_property": """
rec = numpy_recording(10, 3, ['a', 'b', 'c'])
rec.set_property("quality", np.array([0.5, 1.5, 2.5]))
result = rec.get_channel_property("b", "quality")""",
    "m_delete_annotation": """
rec = numpy_recording(10, 3)
rec.annotate(foo=1)
rec.delete_annotation("foo")
result = "foo" in rec.get_annotation_keys()""",
    "m_delete_missing_annotation": "numpy_recording(10, 3).delete_annotation('nope')",
    "m_clear_channel_groups": """
rec = numpy_recording(10, 3, ['a', 'b', 'c'])
rec.set_channel_groups([4, 5, 6])
rec.clear_channel_groups(channel_ids=['b'])
result = rec.get_channel_groups()""",
    "m_dummy_probe": """
rec = numpy_recording(10, 3)
rec.set_dummy_probe_from_locations(np.array([[0.0, 0.0], [0.0, 20.0], [10.0, 40.0]]))
result = [rec.has_probe(), rec.get_channel_locations(), rec.has_3d_probe(), rec.is_probe_3d(),
          rec.get_probe().get_contact_count()]""",
    "m_remove_probe": """
rec = numpy_recording(10, 3)
rec.set_dummy_probe_from_locations(np.array([[0.0, 0.0], [0.0, 20.0], [10.0, 40.0]]))
rec.remove_probe()
result = rec.has_probe()""",
    "m_select_channels_with_probe": """
rec = numpy_recording(10, 6, list("abcdef"))
probe = linear_probe(3)
probe.set_device_channel_indices([4, 0, 2])
sub = rec.select_channels_with_probe(probe)
result = [sub.channel_ids, sub.get_channel_locations(), sub.get_channel_groups(), rec.get_num_channels()]""",
    "m_check_serializability": """
rec = numpy_recording(10, 3)
gen = si.generate_recording(num_channels=2, durations=[1.0])
result = [rec.check_serializability("memory"), rec.check_serializability("json"), rec.check_serializability("pickle"),
          gen.check_serializability("json"), gen.check_serializability("pickle")]""",
    "m_segment_t_starts": """
rec = si.NumpyRecording([np.zeros((10, 2)), np.zeros((5, 2))], 100.0, t_starts=[1.0, 3.0])
plain = numpy_recording(10, 2)
timed = numpy_recording(10, 2)
timed.set_times(np.arange(10) / 1000.0 + 2.0)
result = [rec.get_segment_t_starts(), plain.get_segment_t_starts(), rec.has_any_time_vector(),
          timed.has_any_time_vector(), timed.get_segment_t_starts()]""",
    "m_binary_compatible_with": """
import os
rec = numpy_recording(100, 3, dtype="int16")
path = os.path.join(tmp, "traces.raw")
si.BinaryRecordingExtractor.write_recording(rec, [path])
binary = si.BinaryRecordingExtractor([path], 1000.0, "int16", num_channels=3)
result = [binary.binary_compatible_with(dtype="int16", time_axis=0, file_paths_length=1, file_offset=0,
                                        file_suffix=".raw"),
          binary.binary_compatible_with(dtype="float32"), binary.binary_compatible_with(file_paths_length=2),
          rec.binary_compatible_with()]""",
    "m_segment_get_data": """
rec = numpy_recording(20, 3)
result = [rec.segments[0].get_data(2, 5, [0, 2]), rec.segments[0].get_num_channels(),
          rec.segments[0].has_time_vector()]""",
    "m_sorting_info": """
s = si.NumpySorting.from_samples_and_labels([np.array([1, 5, 9])], [np.array(["a", "b", "a"])], 1000.0)
before = s.sorting_info
s.set_sorting_info({"r": 1}, {"p": 2}, {"l": 3})
result = [before, s.sorting_info]""",
    "m_reordered_spike_vector": """
s = si.NumpySorting.from_samples_and_labels([np.array([1, 5, 9, 12]), np.array([3, 4, 8])],
                                            [np.array(["b", "a", "b", "a"]), np.array(["a", "b", "b"])], 1000.0)
spikes, order, slices = s.to_reordered_spike_vector()
spikes2, order2, slices2 = s.to_reordered_spike_vector(lexsort=("sample_index", "unit_index", "segment_index"))
result = [spikes, order, slices, spikes2, order2, slices2, s.to_reordered_spike_vector(return_order=False,
                                                                                       return_slices=False)]""",
    "m_reordered_spike_vector_bad": """
s = si.NumpySorting.from_samples_and_labels([np.array([1, 5])], [np.array(["a", "b"])], 1000.0)
s.to_reordered_spike_vector(lexsort=("unit_index", "sample_index", "segment_index"))""",
    "m_search_cached_spikes_sorted": """
s = si.NumpySorting.from_samples_and_labels([np.array([1, 5, 9, 12]), np.array([3, 4, 8])],
                                            [np.array(["b", "a", "b", "a"]), np.array(["a", "b", "b"])], 1000.0)
result = [s.search_cached_spikes_sorted([0, 5, 10, 20], segment_index=0),
          s.search_cached_spikes_sorted([4], segment_index=1)]""",
    "m_sparsify_densify_templates": """
sparsity = si.ChannelSparsity(np.array([[True, False, True], [False, True, False]]), ["u", "v"], ["a", "b", "c"])
dense = np.arange(2 * 4 * 3, dtype="float32").reshape(2, 4, 3)
sparse = sparsity.sparsify_templates(dense)
result = [sparse, sparsity.densify_templates(sparse)]""",
    "m_from_radius_and_main_channel": """
locations = np.array([[0.0, 0.0], [0.0, 20.0], [0.0, 40.0], [0.0, 60.0]])
sparsity = si.ChannelSparsity.from_radius_and_main_channel(["u", "v"], ["a", "b", "c", "d"], [0, 2], locations, 25.0)
result = sparsity.mask""",
    "m_snippets_methods": """
snippets = si.NumpySnippets([np.arange(60, dtype="int16").reshape(3, 10, 2)], [np.array([20, 60, 150])], 1000.0,
                            nbefore=3, channel_ids=["x", "y"])
result = [snippets.select_channels(["y"]).get_snippets(segment_index=0), snippets.get_times(),
          snippets.is_filtered()]""",
    "m_spike_vector_slices": """
s = si.NumpySorting.from_samples_and_labels([np.array([1, 5, 9]), np.array([3, 4])],
                                            [np.array(["b", "a", "b"]), np.array(["a", "b"])], 1000.0)
spikes, slices = s.to_spike_vector(return_slices=True)
parts, slices2 = s.to_spike_vector(concatenated=False, return_slices=True)
result = [spikes, slices, parts, slices2, s.to_spike_vector(main_channel_indices=np.array([7, 2]))]""",
    "m_numpy_sorting_from_extractor_dict": """
rec = si.generate_recording(num_channels=2, durations=[0.5], seed=0)
loaded = si.NumpySorting.from_dict(rec.to_dict())
result = [loaded.get_num_channels(), loaded.get_traces(end_frame=5)]""",
    "m_write_binary_recording_options": """
import os
rec = numpy_recording(50, 2, dtype="int16")
rec.set_times(np.arange(50) / 1000.0 + 4.0)
write = si.write_binary_recording if not IS_SI else __import__(
    "spikeinterface.core.recording_tools", fromlist=["x"]).write_binary_recording
write(rec, [os.path.join(tmp, "a")], byte_offset=16, file_timestamps_paths=[os.path.join(tmp, "t.bin")])
raw = np.fromfile(os.path.join(tmp, "a.raw"), dtype="int16")
result = [sorted(os.listdir(tmp)), raw[:8], raw[8:].reshape(50, 2), np.fromfile(os.path.join(tmp, "t.bin"))]""",
    "m_from_recording_time_vector": """
rec = numpy_recording(20, 2)
rec.set_times(np.arange(20) / 1000.0 + 4.0)
rec.set_property("quality", np.array([1.0, 2.0]))
plain = si.NumpyRecording.from_recording(rec)
timed = si.NumpyRecording.from_recording(rec, with_time_vector=True)
bare = si.NumpyRecording.from_recording(rec, with_metadata=False)
result = [plain.has_time_vector(), plain.get_times()[:3], timed.get_times()[:3], bare.get_property("quality"),
          plain.get_property("quality")]""",
    "m_sample_size_in_bytes": """
rec = numpy_recording(20, 3, dtype="int16")
result = [rec.get_sample_size_in_bytes(), rec.get_sample_size_in_bytes(dtype="float64")]""",
    "m_snippets_remove_channels": """
snippets = si.NumpySnippets([np.arange(60, dtype="int16").reshape(3, 10, 2)], [np.array([20, 60, 150])], 1000.0,
                            nbefore=3, channel_ids=["x", "y"])
result = snippets.remove_channels(remove_channel_ids=["x"]).channel_ids""",
    "m_event_select_segment": """
ev = si.NumpyEvent.from_dict([{"ttl": np.array([0.5, 1.5])}, {"ttl": np.array([2.5])}, {"ttl": np.array([3.5, 4.5])}])
sub = ev.select_segment([2, 0])
result = [sub.get_num_segments(), sub.get_events("ttl", segment_index=0), sub.get_events("ttl", segment_index=1)]""",
}

# ---------------------------------------------------------------------- tutorial-like walks (own code, same steps)
CASES_WALKS = {
    "walk_recording": """
import os
np.random.seed(0)
traces = [np.random.normal(0, 10, (3000, 7)), np.random.normal(0, 10, (4500, 7))]
rec = si.NumpyRecording(traces_list=traces, sampling_frequency=30000.0)
probe = linear_probe(7)
probe.set_device_channel_indices(np.arange(7))
rec.set_probe(probe, in_place=True)
paths = [os.path.join(tmp, "t0.raw"), os.path.join(tmp, "t1.raw")]
si.BinaryRecordingExtractor.write_recording(rec, paths)
rec2 = si.BinaryRecordingExtractor(file_paths=paths, sampling_frequency=30000.0, num_channels=7, dtype="float64")
rec2.dump(os.path.join(tmp, "rec.json"))
loaded = si.load(os.path.join(tmp, "rec.json"))
saved = rec2.save(folder=os.path.join(tmp, "saved"))
rec3 = si.NumpyRecording(traces_list=traces, sampling_frequency=30000.0, channel_ids=list("abcdefg"))
rec3.set_property("group", [0, 0, 0, 1, 1, 1, 2])
parts = rec3.split_by(property="group")
result = [repr(x).replace(tmp, "<tmp>") for x in (rec, rec2, loaded, saved, rec3.select_channels(["a", "c"]))] + [
    sorted(os.listdir(os.path.join(tmp, "saved"))), sorted(parts), [repr(p) for p in parts.values()],
    np.array_equal(loaded.get_traces(segment_index=1), traces[1])]""",
    "walk_sorting": """
import os
np.random.seed(1)
times = [np.int_(np.sort(np.random.uniform(0, 60000, 300))) for _ in range(2)]
labels = [np.random.randint(1, 5, size=300) for _ in range(2)]
sorting = si.NumpySorting.from_samples_and_labels(times, labels, 30000.0)
sorting.save(format="numpy_folder", folder=os.path.join(tmp, "s"))
sorting2 = si.load(os.path.join(tmp, "s"))
rates = [sorting2.get_unit_spike_train(u, segment_index=0).size / 2.0 for u in sorting2.unit_ids]
sorting2.set_property("firing_rate", rates)
sorting3 = sorting2.select_units(unit_ids=[1, 4])
sorting2.dump(os.path.join(tmp, "s.json"))
cached = sorting2.save(folder=os.path.join(tmp, "cached"))
result = [repr(x) for x in (sorting, sorting2, sorting3, si.load(os.path.join(tmp, "s.json")), cached)] + [
    sorting3.get_property("firing_rate"), sorted(os.listdir(os.path.join(tmp, "cached"))),
    len(sorting.get_unit_spike_train(unit_id=1, start_frame=0, end_frame=30000, segment_index=1))]""",
    "walk_probe": """
from probeinterface import generate_multi_shank
toy = __import__("spikeinterface.extractors", fromlist=["toy_example"]).toy_example if IS_SI else si.toy_example
recording, sorting_true = toy(duration=10, num_channels=32, seed=0, num_segments=2)
probe = recording.get_probe()
other = generate_multi_shank(num_shank=2, num_columns=1, num_contact_per_column=16)
other.set_device_channel_indices(np.arange(32))
recording.set_probe(other, group_mode="by_shank", in_place=True)
parts = recording.split_by(property="group", outputs="dict")
result = [repr(recording), repr(probe), recording.get_property("group"), sorted(parts), repr(parts[0]),
          repr(parts[1])]""",
    "walk_times": """
toy = __import__("spikeinterface.extractors", fromlist=["toy_example"]).toy_example if IS_SI else si.toy_example
rec, sort = toy(num_segments=1, seed=0)
default_times = rec.get_times()
rec.set_times(default_times + 5)
sort.register_recording(rec)
result = [default_times[:10], rec.get_times()[:10],
          sort.get_unit_spike_train(sort.unit_ids[0], return_times=True)[:10]]""",
    "walk_segments": """
rec0 = si.NumpyRecording([np.zeros((150, 5), "float32"), np.zeros((100, 5), "float32")], 1000.0)
rec1 = si.NumpyRecording([np.zeros((n, 5), "float32") for n in (50, 200, 120)], 1000.0)
appended = si.append_recordings([rec0, rec1])
concatenated = si.concatenate_recordings([rec0, rec1])
result = [repr(rec0), repr(rec1), repr(appended), [appended.get_num_samples(i) for i in range(5)],
          repr(concatenated), concatenated.get_num_samples(0)]""",
}

# ---------------------------------------------------------------------- operators, random slices (0.105 names)
CASES_OPERATORS = {
    "op_add_int16_wraps": """
a = si.NumpyRecording([np.full((20, 3), 30000, dtype="int16")], 1000.0)
b = si.NumpyRecording([np.arange(60, dtype="int16").reshape(20, 3) * 100], 1000.0)
total = a + b
result = [total.get_traces(start_frame=2, end_frame=9, channel_ids=total.channel_ids[[2, 0]]),
          total.get_dtype().str, total.get_num_segments()]""",
    "op_subtract_two_segments": """
a = si.generate_recording(num_channels=3, durations=[0.2, 0.1], seed=1)
b = si.generate_recording(num_channels=3, durations=[0.2, 0.1], seed=2)
diff = a - b
result = [diff.get_traces(segment_index=1), diff.get_traces(segment_index=0, start_frame=10, end_frame=50),
          type(diff).__name__]""",
    "op_t_start_kept": """
a = numpy_recording(50, 2)
b = numpy_recording(50, 2)
a.shift_times(2.5)
b.shift_times(2.5)
result = (a + b).get_times()[:4]""",
    "op_random_sample_slices": """
rec = si.generate_recording(num_channels=2, durations=[1.0, 0.4], seed=0)
tools = __import__(("spikeinterface" if IS_SI else "gpuspike") + ".core.recording_tools", fromlist=["x"])
result = [tools.get_random_sample_slices(rec, num_chunks_per_segment=3, chunk_duration="100ms", seed=5),
          tools.get_random_sample_slices(rec, num_chunks_per_segment=2, chunk_size=50, margin_frames=7, seed=1),
          tools.get_chunks(rec, num_chunks_per_segment=2, chunk_size=5, seed=3)]""",
    "op_divide_time_series_into_chunks": """
jt = __import__(("spikeinterface" if IS_SI else "gpuspike") + ".core.job_tools", fromlist=["x"])
result = jt.divide_time_series_into_chunks(si.generate_recording(num_channels=2, durations=[0.1, 0.05]), 1300)""",
    "op_attributes_match": """
rt = __import__(("spikeinterface" if IS_SI else "gpuspike") + ".core.recording_tools", fromlist=["x"])
a = numpy_recording(50, 2)
result = [rt.do_recording_attributes_match(a, rt.get_rec_attributes(numpy_recording(50, 2)))[0],
          rt.do_recording_attributes_match(a, rt.get_rec_attributes(numpy_recording(40, 2)))[0],
          rt.do_recording_attributes_match(a, rt.get_rec_attributes(numpy_recording(50, 2, dtype="int16")))[0],
          rt.do_recording_attributes_match(a, rt.get_rec_attributes(numpy_recording(50, 2, dtype="int16")),
                                           check_dtype=False)[0]]""",
}

CASES_SPARSITY_TIES = {
    "best_channels_unit_without_spikes": """
rec, srt = si.generate_ground_truth_recording(durations=[2.0], num_channels=8, num_units=3, seed=0)
spikes = srt.to_spike_vector()
silent = si.NumpySorting(spikes[spikes["unit_index"] != 1], srt.sampling_frequency, srt.unit_ids)
analyzer = si.create_sorting_analyzer(silent, rec, sparse=False)
analyzer.compute(["random_spikes", "templates"])
result = [si.compute_sparsity(analyzer, method="best_channels", num_channels=3).mask,
          si.compute_sparsity(analyzer, method="closest_channels", num_channels=3).mask]""",
}

CASES_MOTION = {
    "motion_interpolation": """
rng = np.random.default_rng(0)
d = rng.normal(size=(12, 4)) * 10
m = si.Motion([d, d[:7] * 2], [np.linspace(0, 11, 12), np.linspace(3, 9, 7)], np.array([0.0, 50.0, 90.0, 200.0]))
t = rng.uniform(-2, 14, 40)
z = rng.uniform(-30, 250, 40)
rigid = si.Motion(np.arange(10.0)[:, None] * 2, np.arange(10.0) + 0.5, np.array([100.0]))
result = [m.get_displacement_at_time_and_depth(t, z, segment_index=0),
          m.get_displacement_at_time_and_depth(t, np.column_stack([z * 0, z]), segment_index=1),
          m.get_displacement_at_time_and_depth(t[:5], z[:3], segment_index=1, grid=True),
          rigid.get_displacement_at_time_and_depth(np.array([0.0, 1.2, 3.7, 20.0]), np.array([0.0, 50, 300, 100])),
          repr(m), repr(rigid), m.get_boundaries()]""",
    "motion_needs_segment_index": """
m = si.Motion([np.zeros((3, 1)), np.zeros((3, 1))], [np.arange(3.0), np.arange(3.0)], np.array([0.0]))
m.get_displacement_at_time_and_depth(np.array([1.0]), np.array([1.0]))""",
    "motion_folder_and_dict": """
m = si.Motion(np.arange(20.0).reshape(10, 2), np.arange(10.0), np.array([0.0, 40.0]), direction="x")
m.save(tmp + "/motion")
loaded = si.load(tmp + "/motion")
result = [type(loaded).__name__, loaded == m, loaded.direction, sorted(__import__("os").listdir(tmp + "/motion")),
          si.load(m.to_dict()) == m, m.copy() == m]""",
}

# ---------------------------------------------------------------------- text summaries (what tutorials print)
CASES_REPR = {
    "repr_numpy_recording": "result = repr(numpy_recording(100, 4))",
    "repr_generated_recording": "result = repr(si.generate_recording(num_channels=4, durations=[10.0, 5.0, 70.0]))",
    "repr_odd_frequency": "result = repr(numpy_recording(2000, 3, fs=12345.6))",
    "repr_high_frequency": "result = repr(numpy_recording(40000, 3, fs=30000.0))",
    "repr_many_segments": """
traces = [np.zeros((n, 2), dtype="int16") for n in (10, 20, 30, 40, 50, 60, 70, 80)]
result = repr(si.NumpyRecording(traces, 1000.0))""",
    "repr_numpy_sorting": """
s = si.NumpySorting.from_samples_and_labels([np.array([1, 5, 9])], [np.array(["a", "b", "a"])], 30000.0)
result = repr(s)""",
    "repr_seconds_and_bytes": """
tools = __import__(("spikeinterface" if IS_SI else "gpuspike") + ".core.core_tools", fromlist=["x"])
result = [[tools.convert_seconds_to_str(s) for s in (0.5, 12.345, 600.0, 7200.0, 400000.0)],
          [tools.convert_bytes_to_str(b) for b in (10, 2048, 5 * 1024 ** 3, 3 * 1024 ** 5)]]""",
}

# ---------------------------------------------------------------------- spike-vector tools of sorting_tools
CASES_SORTING_TOOLS = {
    "sorting_tools_reorder_by_unit_and_segment": """
st = __import__(("spikeinterface" if IS_SI else "gpuspike") + ".core.sorting_tools", fromlist=["x"])
s = si.generate_sorting(num_units=5, durations=[2.0, 1.5, 1.0], seed=4)
v = s.to_spike_vector()
result = [st.reorder_spike_vector_by_unit_and_segment(v, 5, 3), st.reorder_spike_vector_by_unit_and_segment(v, 5, 3,
          unit_major=False), st.reorder_spike_vector_by_unit_and_segment(v[:0], 5, 3)]""",
    "sorting_tools_reorder_out_of_range_refused": """
st = __import__(("spikeinterface" if IS_SI else "gpuspike") + ".core.sorting_tools", fromlist=["x"])
v = si.generate_sorting(num_units=5, durations=[1.0], seed=4).to_spike_vector()
st.reorder_spike_vector_by_unit_and_segment(v, 4, 1)""",
    "sorting_tools_remap_unit_indices": """
st = __import__(("spikeinterface" if IS_SI else "gpuspike") + ".core.sorting_tools", fromlist=["x"])
s = si.generate_sorting(num_units=5, durations=[1.0], seed=5)
v = s.to_spike_vector()
ids = s.unit_ids
result = [st.remap_unit_indices_in_vector(v, ids, ids[[4, 0, 2]]),
          st.remap_unit_indices_in_vector(v, ids, np.concatenate([ids[[1, 3]], ["new"]]), keep_old_unit_ids=ids[[3]])]""",
    "sorting_tools_cast_periods": """
st = __import__(("spikeinterface" if IS_SI else "gpuspike") + ".core.sorting_tools", fromlist=["x"])
result = st.cast_periods_to_unit_period_dtype(np.array([[0, 10, 50, 1], [1, 0, 5, 0]]))""",
    "sorting_tools_spiketrains_of_a_vector": """
st = __import__(("spikeinterface" if IS_SI else "gpuspike") + ".core.sorting_tools", fromlist=["x"])
v = si.generate_sorting(num_units=4, durations=[1.0], seed=6).to_spike_vector()
result = st.vector_to_list_of_spiketrain_numpy(v["sample_index"], v["unit_index"], 5)""",
    "sorting_tools_select_periods_many": """
s = si.generate_sorting(num_units=3, durations=[3.0, 2.0], seed=7)
pd_ = __import__(("spikeinterface" if IS_SI else "gpuspike") + ".core.base", fromlist=["x"]).unit_period_dtype
periods = np.zeros(7, dtype=pd_)
periods[:] = [(0, 0, 30000, 0), (0, 20000, 60000, 0), (1, 100, 5000, 2), (0, 5000, 5000, 1), (1, 30000, 10, 1),
              (0, 70000, 90000, 1), (1, 0, 60000, 1)]
sel = s.select_periods(periods)
result = [[sel.get_unit_spike_train(u, segment_index=k) for u in s.unit_ids] for k in range(2)]""",
}

# ---------------------------------------------------------------------- helpers over extractor dicts and zarr folders
CASES_DICT_TOOLS = {
    "core_tools_walk_and_edit_an_extractor_dict": """
ct = __import__(("spikeinterface" if IS_SI else "gpuspike") + ".core.core_tools", fromlist=["x"])
d = {"class": "A", "kwargs": {"file_paths": ["a.bin", "b.bin"], "recording": {"class": "B", "kwargs": {
     "folder_path": "f", "gain": 2.0, "nested": [[1, 2], {"x_path": 3}]}}}, "annotations": {}}
walked = [list(e) for e in ct.extractor_dict_iterator(d)]
paths = [e.value for e in ct.extractor_dict_iterator(d) if ct.element_is_path(e)]
ct.set_value_in_extractor_dict(d, ("kwargs", "file_paths", 1), "c.bin")
result = [walked, paths, d["kwargs"]["file_paths"], list(ct.recursive_key_finder(d, "folder_path")),
          list(ct.recursive_key_finder(d, "kwargs"))]""",
    "zarrextractors_super_zarr_open": """
z = __import__(("spikeinterface" if IS_SI else "gpuspike") + ".core.zarrextractors", fromlist=["x"])
rec = numpy_recording(50, 3)
rec.save(format="zarr", folder=tmp + "/r.zarr")
root = z.super_zarr_open(tmp + "/r.zarr", mode="r")
result = [sorted(root.keys()), root.attrs["sampling_frequency"], root["traces_seg0"][5]]""",
}

# ---------------------------------------------------------------------- module-level helpers of 0.105
CASES_MODULE_HELPERS = {
    "core_tools_properties_and_annotations_folder": """
ct = __import__(("spikeinterface" if IS_SI else "gpuspike") + ".core.core_tools", fromlist=["x"])
rec = numpy_recording(20, 3, ["a", "b", "c"])
rec.set_property("quality", np.array(["good", "mua", "good"]))
rec.set_property("depth", np.array([10.0, 30.0, 50.0]))
rec.annotate(serial="42")
ct.save_properties_to_folder(tmp + "/props", rec)
ct.save_annotations_to_folder(tmp, rec)
other = numpy_recording(20, 3, ["a", "b", "c"])
ct.load_properties_from_folder(tmp + "/props", other)
ct.load_annotations_from_folder(tmp, other)
result = [sorted(other.get_property_keys()), other.get_property("quality"), other.get_property("depth"),
          other.get_annotation("serial"), str(ct.clean_zarr_folder_name("x/an")),
          str(ct.clean_zarr_folder_name("b.zarr"))]""",
    "core_tools_function_handling_dict": """
ct = __import__(("spikeinterface" if IS_SI else "gpuspike") + ".core.core_tools", fromlist=["x"])
rec = numpy_recording(20, 4, ["a", "b", "c", "d"])
rec.set_property("group", [0, 0, 1, 1])
select_first = lambda recording, n=1: recording.select_channels(recording.channel_ids[:n])
class First:
    _precomputable_kwarg_names = []
    def __new__(cls, recording, n=1):
        return select_first(recording, n)
f = ct.define_function_handling_dict_from_class(First, "first")
by_group = f(rec.split_by("group"), n=1)
result = [f(rec, n=2).channel_ids, {k: v.channel_ids for k, v in by_group.items()}, f.__name__]""",
    "recording_tools_file_handle": """
rt = __import__(("spikeinterface" if IS_SI else "gpuspike") + ".core.recording_tools", fromlist=["x"])
rec = numpy_recording(300, 3, dtype="int16")
with open(tmp + "/raw.bin", "wb") as fh:
    rt.write_binary_file_handle(rec, fh, dtype="float32", chunk_size=90)
with open(tmp + "/raw_t.bin", "wb") as fh:
    rt.write_binary_file_handle(rec, fh, time_axis=1)
result = [np.fromfile(tmp + "/raw.bin", dtype="float32"), np.fromfile(tmp + "/raw_t.bin", dtype="int16")]""",
    "recording_tools_probe_overlap": """
rt = __import__(("spikeinterface" if IS_SI else "gpuspike") + ".core.recording_tools", fromlist=["x"])
rt.check_probe_do_not_overlap([linear_probe(4), linear_probe(4, x=100.0)])
result = "ok"
try:
    rt.check_probe_do_not_overlap([linear_probe(4), linear_probe(4, x=0.0)])
except Exception as err:
    result = "overlap" in str(err).lower()""",
    "generate_helpers": """
g = __import__(("spikeinterface" if IS_SI else "gpuspike") + ".core.generate", fromlist=["x"])
result = [g.exp_growth(0.0, -1.0, 0.13, 0.026, 30000.0), g.exp_growth(-1.0, 0.2, 0.6, 0.3, 30000.0, flip=True),
          g.exp_growth(0.2, 0.0, 0.02, 0.01, 30000.0), g.synthesize_amplitude_factor(5, amplitude_std=0.2, seed=3),
          g.synthesize_amplitude_factor(2, amplitude_factor=np.array([1.0, 0.5])), g.synthesize_amplitude_factor(4),
          {k: list(v) for k, v in g.default_unit_params_range.items()}]""",
    "waveform_tools_allocate_and_distribute": """
wt = __import__(("spikeinterface" if IS_SI else "gpuspike") + ".core.waveform_tools", fromlist=["x"])
rec, srt = si.generate_ground_truth_recording(durations=[2.0], num_channels=6, num_units=3, seed=3)
spikes = srt.to_spike_vector()
spikes = spikes[(spikes["sample_index"] > 30) & (spikes["sample_index"] < 2 * 30000 - 60)]
mask = np.array([[1, 1, 0, 0, 0, 0], [0, 0, 1, 1, 1, 0], [1, 0, 0, 0, 0, 1]], bool)
__import__("os").makedirs(tmp + "/wf")
wfs, info = wt.allocate_waveforms_buffers(rec, spikes, srt.unit_ids, 20, 40, mode="memmap", folder=tmp + "/wf",
                                          dtype="float32", sparsity_mask=mask)
wt.distribute_waveforms_to_buffers(rec, spikes, srt.unit_ids, info, 20, 40, True, mode="memmap",
                                   sparsity_mask=mask, n_jobs=1, chunk_size=10000)
result = [np.load(info[u]).round(3) for u in srt.unit_ids]""",
}

CASES_SUBMODULES = {
    "submodule_recording_segments": """
mod = lambda name: __import__(("spikeinterface" if IS_SI else "gpuspike") + ".core." + name, fromlist=["x"])
a = numpy_recording(60, 3, ["a", "b", "c"])
b = si.NumpyRecording([-np.arange(120, dtype="float32").reshape(60, 2)], 1000.0, channel_ids=["d", "e"])
cmap = {0: {"recording_id": 0, "channel_index": 0}, 1: {"recording_id": 0, "channel_index": 1},
        2: {"recording_id": 0, "channel_index": 2}, 3: {"recording_id": 1, "channel_index": 0},
        4: {"recording_id": 1, "channel_index": 1}}
def wrap(segment, channel_ids, fs=1000.0):
    rec = si.BaseRecording(fs, channel_ids, "float32")
    rec.add_recording_segment(segment)
    return rec
agg = wrap(mod("channelsaggregationrecording").ChannelsAggregationRecordingSegment(
    channel_map=cmap, parent_segments=[a.segments[0], b.segments[0]]), ["v", "w", "x", "y", "z"])
sl = wrap(mod("channelslice").ChannelSliceRecordingSegment(parent_recording_segment=a.segments[0],
                                                         parent_channel_indices=np.array([2, 0])), ["c", "a"])
fr = wrap(mod("frameslicerecording").FrameSliceRecordingSegment(parent_recording_segment=a.segments[0],
                                                               start_frame=10, end_frame=40), ["a", "b", "c"])
ap = wrap(mod("segmentutils").ProxyAppendRecordingSegment(parent_segment=a.segments[0]), ["a", "b", "c"])
a.set_times(np.arange(60) / 1000.0 + 5.0)
cc = wrap(mod("segmentutils").ProxyConcatenateRecordingSegment(parent_segments=[a.segments[0], a.segments[0]],
                                                               sampling_frequency=1000.0, ignore_times=True),
          ["a", "b", "c"])
result = [agg.get_traces(start_frame=5, end_frame=9), agg.get_traces(channel_ids=["v", "w"], end_frame=3),
          sl.get_traces(end_frame=4), fr.get_num_samples(), fr.get_traces(start_frame=0, end_frame=3),
          float(fr.get_times()[0]), ap.get_traces(start_frame=58), cc.get_num_samples(),
          cc.get_traces(start_frame=58, end_frame=62), float(cc.get_times()[0])]""",
    "submodule_sorting_segments": """
mod = lambda name: __import__(("spikeinterface" if IS_SI else "gpuspike") + ".core." + name, fromlist=["x"])
npz = mod("npzsortingextractor").NpzSortingSegment(spike_indexes=np.array([5, 9, 12, 30, 31, 44]),
                                                   spike_labels=np.array([1, 2, 1, 1, 2, 2]))
def wrap(segment, unit_ids):
    s = si.BaseSorting(1000.0, unit_ids)
    s.add_sorting_segment(segment)
    return s
base = wrap(npz, [1, 2])
sel = wrap(mod("unitsselectionsorting").UnitsSelectionSortingSegment(parent_segment=npz,
                                                                    ids_conversion={"x": 2, "y": 1}), ["x", "y"])
fs = wrap(mod("frameslicesorting").FrameSliceSortingSegment(parent_sorting_segment=npz, start_frame=10,
                                                            end_frame=40, sampling_frequency=1000.0), [1, 2])
other = mod("npzsortingextractor").NpzSortingSegment(np.array([0, 3]), np.array([7, 7]))
agg = wrap(mod("unitsaggregationsorting").UnitsAggregationSortingSegment(
    unit_map={10: {"sorting_id": 0, "unit_id": 2}, 11: {"sorting_id": 1, "unit_id": 7}},
    parent_segments=[npz, other]), [10, 11])
cc = wrap(mod("segmentutils").ProxyConcatenateSortingSegment(parent_segments=[npz, npz], parent_num_samples=[50, 50],
                                                             sampling_frequency=1000.0), [1, 2])
ap = wrap(mod("segmentutils").ProxyAppendSortingSegment(parent_segment=npz), [1, 2])
result = [base.get_unit_spike_train(1), base.get_unit_spike_train(2, start_frame=10, end_frame=40),
          sel.get_unit_spike_train("x"), fs.get_unit_spike_train(1), fs.get_unit_spike_train(2, end_frame=25),
          agg.get_unit_spike_train(10), agg.get_unit_spike_train(11), cc.get_unit_spike_train(1),
          cc.get_unit_spike_train(2, start_frame=40, end_frame=60), ap.get_unit_spike_train(2)]""",
    "submodule_generated_segments": """
mod = lambda name: __import__(("spikeinterface" if IS_SI else "gpuspike") + ".core." + name, fromlist=["x"])
g = mod("generate")
def wrap(segment, n):
    rec = si.BaseRecording(1000.0, [str(i) for i in range(n)], "float32")
    rec.add_recording_segment(segment)
    return rec
tiled = wrap(g.MockRecordingSegment(num_samples=250, num_channels=3, sampling_frequency=1000.0, noise_block_size=100,
                                    dtype="float32", seed=7, strategy="tile_pregenerated"), 3)
fly = wrap(g.MockRecordingSegment(250, 3, 1000.0, 100, "float32", 7, "on_the_fly"), 3)
spikes = np.zeros(3, dtype=[("sample_index", "int64"), ("unit_index", "int64"), ("segment_index", "int64")])
spikes["sample_index"] = [10, 12, 40]
spikes["unit_index"] = [0, 1, 0]
templates = np.arange(2 * 5 * 3, dtype="float32").reshape(2, 5, 3)
inj = wrap(g.InjectTemplatesRecordingSegment(sampling_frequency=1000.0, dtype="float32", spike_vector=spikes,
                                             templates=templates, nbefore=2, amplitude_vector=[1.0, 2.0, 0.5],
                                             upsample_vector=None, parent_recording_segment=fly.segments[0],
                                             num_samples=250), 3)
positions = np.array([[0.0, 0.0], [10.0, 20.0], [-30.0, 5.0], [7.0, -40.0]])
result = [tiled.get_traces(start_frame=90, end_frame=210), fly.get_traces(start_frame=95, end_frame=205),
          inj.get_traces(start_frame=5, end_frame=45) - fly.get_traces(start_frame=5, end_frame=45),
          g.get_ellipse(positions, [1.0, 2.0, 15.0]).round(9),
          g.get_ellipse(positions, np.array([3.0, -4.0, 20.0]), x_factor=0.5, y_factor=2.0, x_angle=0.3,
                        y_angle=-0.7, z_angle=1.1).round(9)]""",
    "submodule_file_segments": """
mod = lambda name: __import__(("spikeinterface" if IS_SI else "gpuspike") + ".core." + name, fromlist=["x"])
import zarr
data = np.arange(40 * 3, dtype="int16").reshape(40, 3)
data.tofile(tmp + "/t.raw")
(np.arange(40) / 100.0 + 2.0).tofile(tmp + "/times.raw")
seg = mod("binaryrecordingextractor").BinaryRecordingSegment(
    file_path=tmp + "/t.raw", sampling_frequency=100.0, t_start=None, num_channels=3, dtype="int16", time_axis=0,
    file_offset=0, file_timestamps_path=tmp + "/times.raw")
rec = si.BaseRecording(100.0, ["a", "b", "c"], "int16")
rec.add_recording_segment(seg)
z = zarr.open(tmp + "/z.zarr", mode="w", shape=(40, 3), chunks=(16, 3), dtype="int16")
z[:] = data
zrec = si.BaseRecording(100.0, ["a", "b", "c"], "int16")
zrec.add_recording_segment(mod("zarrextractors").ZarrRecordingSegment(root={"traces": z}, dataset_name="traces",
                                                                      sampling_frequency=100.0, t_start=3.0))
result = [rec.get_traces(start_frame=3, end_frame=6), rec.get_times()[:3], zrec.get_traces(start_frame=14, end_frame=18),
          zrec.get_times()[0]]""",
    "submodule_event_and_executor_helpers": """
mod = lambda name: __import__(("spikeinterface" if IS_SI else "gpuspike") + ".core." + name, fromlist=["x"])
dt = [("time", "float64"), ("duration", "float64")]
ev = si.NumpyEvent.from_dict([{"a": np.array([(0.1, 1.0)], dtype=dt)},
                              {"a": np.array([(0.2, 1.0), (0.3, 2.0)], dtype=dt)}])
sub = mod("segmentutils").SelectSegmentEvent(event=ev, segment_indices=[1, 0])
jt = mod("job_tools")
executor = jt.get_poolexecutor(1)
calls = []
with executor(max_workers=1, initializer=calls.append, initargs=("init",)) as pool:
    mapped = list(pool.map(abs, [-1, 2, -3]))
    submitted = pool.submit(pow, 2, 5).result()
queue = jt.MockQueue()
queue.put(1)
queue.put(2)
gl = mod("globals")
result = [sub.get_num_segments(), sub.get_events("a", segment_index=0), sub.get_events("a", segment_index=1),
          ev.select_segment(1).get_events("a"), executor.__name__, jt.get_poolexecutor(2).__name__, calls, mapped,
          submitted, queue.get(), list(gl.job_keys), gl.temp_folder_set, gl.dataset_folder_set]""",
    "method_arguments_of_spikeinterface_0105": """
rec = numpy_recording(40, 3, ["a", "b", "c"])
rec.set_times(np.arange(40) / 1000.0 + 2.0)
rec.set_property("depth", np.array([1.0, 2.0, 3.0]))
plain = si.SharedMemoryRecording.from_recording(rec, with_metadata=False)
timed = si.SharedMemoryRecording.from_recording(rec, with_time_vector=True)
default = si.SharedMemoryRecording.from_recording(rec)
written = si.BinaryFolderRecording.write_recording(recording=rec, folder_path=tmp + "/bin", dtype="float64")
sorting = si.NumpySorting.from_samples_and_labels([np.array([3, 20, 30])], [np.array([0, 1, 0])], 1000.0)
mapped = si.NumpyFolderSorting.write_sorting(sorting, tmp + "/srt", mmap_mode="r")
sparsity = si.ChannelSparsity.from_dict(dictionary={"unit_ids": [1, 2], "channel_ids": ["a", "b", "c"],
                                                    "unit_id_to_channel_ids": {1: ["a"], "2": ["b", "c"]}})
result = [plain.has_time_vector(), float(plain.get_times()[0]), plain.get_property_keys(), timed.has_time_vector(),
          float(timed.get_times()[1]), default.has_time_vector(), sorted(default.get_property_keys()),
          written.get_dtype().str, written.get_traces(end_frame=2), float(written.get_times()[0]),
          type(mapped).__name__, mapped.get_unit_spike_train(0), sparsity.mask]""",
    "waveform_buffers_default_scaling": """
wt = __import__(("spikeinterface" if IS_SI else "gpuspike") + ".core.waveform_tools", fromlist=["x"])
traces = (np.arange(400 * 3) % 97 - 48).astype("int16").reshape(400, 3)
rec = si.NumpyRecording([traces], 1000.0)
rec.set_channel_gains([0.5, 2.0, 1.0])
rec.set_channel_offsets([0.0, 0.0, -3.0])
spikes = np.zeros(3, dtype=[("sample_index", "int64"), ("unit_index", "int64"), ("segment_index", "int64")])
spikes["sample_index"] = [20, 100, 300]
spikes["unit_index"] = [0, 1, 0]
# scaled by default (0.105); dtype given: SpikeInterface casts µV to the recording's int16 without it
wfs = wt.extract_waveforms_to_buffers(rec, spikes, np.array([0, 1]), 5, 10, mode="shared_memory", copy=True,
                                      dtype="float32")
single = wt.extract_waveforms_to_single_buffer(rec, spikes, 5, 10, mode="shared_memory", copy=True, dtype="float32")
raw = wt.extract_waveforms_to_buffers(rec, spikes, np.array([0, 1]), 5, 10, mode="shared_memory", copy=True,
                                      return_in_uV=False, dtype="int16")
result = [wfs[0], wfs[1], single, raw[0], raw[1]]""",
    "estimated_templates_with_sparsity_mask": """
wt = __import__(("spikeinterface" if IS_SI else "gpuspike") + ".core.waveform_tools", fromlist=["x"])
traces = np.random.default_rng(8).normal(size=(2000, 4)).astype("float32")
rec = si.NumpyRecording([traces], 1000.0)
spikes = np.zeros(6, dtype=[("sample_index", "int64"), ("unit_index", "int64"), ("segment_index", "int64")])
spikes["sample_index"] = [100, 400, 700, 1000, 1300, 1600]
spikes["unit_index"] = [0, 1, 0, 1, 1, 0]
mask = np.array([[True, False, True, False], [False, True, True, True]])
mean, std = wt.estimate_templates_with_accumulator(rec, spikes, np.array([0, 1]), 5, 8, sparsity_mask=mask,
                                                   return_std=True, n_jobs=1, progress_bar=False)
median = wt.estimate_templates(rec, spikes, np.array([0, 1]), 5, 8, operator="median", sparsity_mask=mask,
                               n_jobs=1, progress_bar=False)
result = [mean.shape, mean.round(5), std.round(3), median.shape, median.round(5)]""",
    "extensions_sorted_by_dependency": """
sa = __import__(("spikeinterface" if IS_SI else "gpuspike") + ".core.sortinganalyzer", fromlist=["x"])
orders = [{"quality_metrics": {}, "waveforms": {}, "templates": {}},
          {"template_similarity": {}, "templates": {}, "random_spikes": {}, "waveforms": {}},
          {"quality_metrics": {}, "spike_amplitudes": {}, "noise_levels": {}, "templates": {}},
          {"valid_unit_periods": {}, "amplitude_scalings": {}, "templates": {}},
          {"principal_components": {}, "waveforms": {}, "random_spikes": {}, "correlograms": {}}]
# SpikeInterface 0.105's required and optional dependencies (its optional ones come from a set: their order,
# hence the order of independent extensions, varies between runs); every one must come first
parents = {"quality_metrics": ["templates", "noise_levels", "waveforms", "amplitude_scalings", "principal_components",
                               "spike_locations", "spike_amplitudes"], "template_similarity": ["templates"],
           "templates": ["random_spikes", "waveforms"], "waveforms": ["random_spikes"],
           "spike_amplitudes": ["templates"], "amplitude_scalings": ["templates"],
           "valid_unit_periods": ["amplitude_scalings"], "principal_components": ["random_spikes", "waveforms"]}
result = []
for extensions in orders:
    order = list(sa._sort_extensions_by_dependency(extensions))
    result.append([sorted(order) == sorted(extensions)]
                  + [order.index(parent) < order.index(name) for name in order for parent in parents.get(name, [])
                     if parent in order])""",
    "submodule_zarr_and_legacy_helpers": """
mod = lambda name: __import__(("spikeinterface" if IS_SI else "gpuspike") + ".core." + name, fromlist=["x"])
import os, zarr
zx = mod("zarrextractors")
path, kwarg = zx.resolve_zarr_path("some/rel.zarr")
folder = zx.create_zarr_path_for_write(tmp + "/new_store")
exists_error = None
try:
    zx.create_zarr_path_for_write(tmp + "/new_store")
except Exception as err:
    exists_error = isinstance(err, FileExistsError)
rec = numpy_recording(20, 3, ["a", "b", "c"])
rec.set_property("quality", np.array(["good", "mua", "good"]))
rec.set_property("depth", np.array([10.0, 30.0, 50.0]))
rec.annotate(serial="42")
group = zarr.open_group(tmp + "/props.zarr", mode="w")
zx.add_properties_and_annotations(group, rec)
wc = mod("waveforms_extractor_backwards_compatibility")
class Ext:
    extension_name = "template_metrics"
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    updated = wc.make_ext_params_up_to_date(Ext(), {"a": 1, "old": 2, "b": {"c": 3, "gone": 4}}, {"a": 0, "b": {"c": 0}})
result = [str(path), kwarg == os.path.abspath("some/rel.zarr"), folder.name, sorted(os.listdir(folder)), exists_error,
          sorted(group["properties"].keys()), group["properties"]["depth"][:], group["properties"]["quality"][:],
          dict(group.attrs)["annotations"], dict(wc.old_extension_to_new_class_map), updated,
          wc.get_extension_class("templates").__name__]""",
}
# ---------------------------------------------------------------------- SpikeInterface 0.105's forms
CASES_0105_FORMS = {
    "f_generated_id_dtypes": """
rec, srt = si.generate_ground_truth_recording(durations=[1.0], num_channels=12, num_units=3, seed=1)
result = [str(rec.channel_ids.dtype), str(srt.unit_ids.dtype),
          str(si.aggregate_channels([rec, rec]).channel_ids.dtype), str(si.aggregate_units([srt, srt]).unit_ids.dtype),
          str(si.generate_sorting(num_units=5, durations=[1.0], seed=1).unit_ids.dtype)]""",
    "f_count_num_spikes_types": """
counts = si.generate_sorting(num_units=3, durations=[1.0], seed=1).count_num_spikes_per_unit()
result = [[type(k).__name__, type(v).__name__] for k, v in counts.items()]""",
    "f_aggregation_class_names": """
rec = numpy_recording(10, 2, ["a", "b"])
srt = si.generate_sorting(num_units=2, durations=[1.0], seed=1)
result = [type(si.aggregate_channels([rec, rec])).__name__, type(si.aggregate_units([srt, srt])).__name__,
          repr(si.aggregate_channels([rec, rec])).split(":")[0]]""",
    "f_snippets_event_reprs": """
snippets = si.NumpySnippets([np.ones((3, 4, 2), "float32")], [np.array([1, 5, 8])], 1000.0, nbefore=1)
event = si.NumpyEvent(channel_ids=["a", "b"], structured_dtype=np.dtype([("time", "f8")]))
result = [repr(snippets), repr(event)]""",
    "f_to_dict_keeps_parents_unless_recursive": """
view = numpy_recording(10, 3).frame_slice(2, 8).select_channels([0, 2])
d, d_rec = view.to_dict(), view.to_dict(recursive=True)
parent, parent_rec = (next(iter(x["kwargs"].values())) for x in (d, d_rec))
result = [type(parent).__name__, type(parent_rec).__name__, si.load(d).get_traces(), si.load(d_rec).get_traces()]""",
    "f_numpy_recording_dict_round_trip": """
rec = numpy_recording(10, 3, dtype="int16")
result = [si.load(rec.to_dict()).get_traces(), str(si.load(rec.to_dict()).get_dtype())]""",
    "f_probe_keys_after_set_probe": """
rec = numpy_recording(20, 4)
probe = linear_probe(4)
probe.set_device_channel_indices(np.arange(4))
rec.set_probe(probe)
result = [sorted(rec.get_property_keys()), sorted(rec.get_annotation_keys()), rec.get_channel_locations()]""",
    "f_times_in_dicts": """
rec = numpy_recording(20, 2)
rec.shift_times(5.0)
back = si.load(rec.to_dict())
result = back.get_times()""",
}

ALL_CASES = {**CASES_1, **CASES_2, **CASES_3, **CASES_4, **CASES_5, **CASES_6, **CASES_7, **CASES_8, **CASES_9,
             **CASES_10, **CASES_REPR, **CASES_KEYWORDS, **CASES_METHODS, **CASES_WALKS, **CASES_OPERATORS,
             **CASES_MOTION, **CASES_SPARSITY_TIES, **CASES_SORTING_TOOLS, **CASES_DICT_TOOLS,
             **CASES_MODULE_HELPERS, **CASES_SUBMODULES, **CASES_0105_FORMS}
#: cases whose warnings are compared too (categories of the warnings raised)
WARNING_CASES = {"p4_register_recording_past_end_warns"}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    return run_cases(ALL_CASES, tmp_path_factory.mktemp("differential_core"), setup=SETUP)


@pytest.mark.parametrize("name", sorted(ALL_CASES))
def test_same_outcome_as_spikeinterface(outcomes, name):
    gs_results, si_results = outcomes
    assert_same_outcome(gs_results[name], si_results[name], name, warnings=name in WARNING_CASES)


def test_cases_fail_or_succeed_as_written(outcomes):
    """Cases that set ``result`` succeed in both libraries and the others raise in both, so that a passing
    comparison is never two errors where values were meant to be compared (nor two silent successes)."""
    gs_results, si_results = outcomes
    for name, code in ALL_CASES.items():
        for library, results in (("gpuspike", gs_results), ("SpikeInterface", si_results)):
            failed = "error" in results[name]
            assert failed == ("result =" not in code), (name, library, results[name])
