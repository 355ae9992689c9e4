"""SpikeInterface's submodule paths under gpuspike.core, and the helpers SpikeInterface's own tests
import from them (testing, core_tools, waveform_tools), against NumPy references written here."""
import importlib

import numpy as np
import pytest

import gpuspike as gs
from gpuspike.core.errors import SpikeInterfaceAssertError
from gpuspike.core.si_modules import SPIKEINTERFACE_MODULES


@pytest.mark.parametrize("module", SPIKEINTERFACE_MODULES)
def test_spikeinterface_module_paths_serve_gpuspike_names(module):
    mod = importlib.import_module(f"gpuspike.core.{module}")
    assert mod.BaseRecording is gs.BaseRecording
    assert mod.extract_waveforms_to_single_buffer is gs.core.extract_waveforms_to_single_buffer
    with pytest.raises(ImportError, match="no_such_name"):
        exec(f"from gpuspike.core.{module} import no_such_name", {})


def test_names_from_spikeinterface_paths():
    from gpuspike.core.baserecording import BaseRecording
    from gpuspike.core.basesorting import BaseSorting
    from gpuspike.core.testing import check_recordings_equal
    from gpuspike.core.waveforms_extractor_backwards_compatibility import MockWaveformExtractor
    from gpuspike.core.zarrextractors import ZarrRecordingExtractor

    assert (BaseRecording, BaseSorting, ZarrRecordingExtractor) == (gs.BaseRecording, gs.BaseSorting,
                                                                    gs.ZarrRecordingExtractor)
    assert MockWaveformExtractor is gs.WaveformExtractor and callable(check_recordings_equal)


def small_recording(seed=0, lengths=(3000, 2000), channels=5):
    rng = np.random.default_rng(seed)
    traces = [rng.integers(-500, 500, (n, channels)).astype("int16") for n in lengths]
    rec = gs.NumpyRecording(traces, 10000.0)
    rec.set_channel_gains(rng.uniform(0.5, 2.0, channels).astype("float32"))
    rec.set_channel_offsets(rng.uniform(-5.0, 5.0, channels).astype("float32"))
    return rec, traces


def test_testing_helpers_pass_on_equal_and_assert_on_different():
    from gpuspike.core import testing

    rec, traces = small_recording()
    testing.check_recordings_equal(rec, rec.save(format="memory", progress_bar=False), check_properties=True,
                                   check_annotations=True)
    changed = [t.copy() for t in traces]
    changed[1][7, 2] += 1
    other = gs.NumpyRecording(changed, 10000.0)
    for differing in (other, rec.select_channels(rec.channel_ids[:4])):
        with pytest.raises(AssertionError):
            testing.check_recordings_equal(rec, differing, return_in_uV=False)
    renamed = rec.clone()
    renamed.set_property("quality", ["good"] * 5)
    with pytest.raises(AssertionError, match="property keys"):
        testing.check_extractor_properties_equal(rec, renamed)
    renamed.annotate(note="x")
    with pytest.raises(AssertionError, match="annotation keys"):
        testing.check_extractor_annotations_equal(rec, renamed)

    srt = gs.NumpySorting.from_samples_and_labels([np.array([5, 40, 90]), np.array([7])],
                                                  [np.array([0, 1, 0]), np.array([1])], 10000.0)
    testing.check_sortings_equal(srt, srt.save(format="memory"))
    moved = gs.NumpySorting.from_samples_and_labels([np.array([5, 41, 90]), np.array([7])],
                                                    [np.array([0, 1, 0]), np.array([1])], 10000.0)
    with pytest.raises(AssertionError):
        testing.check_sortings_equal(srt, moved)
    testing.check_sorted_arrays_equal([3, 1, 2], [1, 2, 3])
    with pytest.raises(AssertionError):
        testing.check_sorted_arrays_equal([3, 1, 2], [1, 2, 2])


def test_check_json_and_memory_measure():
    from gpuspike.core.core_tools import check_json, measure_memory_allocation

    rec, _ = small_recording()
    out = check_json({"a": np.int64(3), np.int32(2): np.arange(3, dtype="int16"), "d": np.dtype("float32"),
                      "t": np.float32, "rec": rec, "nested": [(np.bool_(True), 1.5)]})
    assert out["a"] == 3 and out["2"] == [0, 1, 2] and out["d"] == "float32" and out["t"] == "float32"
    assert out["nested"] == [[True, 1.5]] and out["rec"]["class"].endswith("NumpyRecording")
    with pytest.raises(TypeError):
        check_json({"f": object()})
    before = measure_memory_allocation()
    block = np.ones(40_000_000, dtype="float32")  # 160 MB, every page touched
    assert measure_memory_allocation() - before > 100e6
    assert block[-1] == 1.0
    assert measure_memory_allocation(measure_in_process=False) > 0


def reference_single_buffer(rec, traces, spikes, nbefore, nafter, scaled, mask=None, dtype="float32"):
    gains = rec.get_channel_gains().astype("float32")
    offsets = rec.get_channel_offsets().astype("float32")
    width = traces[0].shape[1] if mask is None else int(mask.sum(axis=1).max())
    out = np.zeros((spikes.size, nbefore + nafter, width), dtype)
    for i, sp in enumerate(spikes):
        seg = traces[int(sp["segment_index"])]
        channels = np.arange(seg.shape[1]) if mask is None else np.flatnonzero(mask[int(sp["unit_index"])])
        for j in range(nbefore + nafter):
            t = int(sp["sample_index"]) - nbefore + j
            if 0 <= t < seg.shape[0]:
                values = seg[t, channels].astype("float32")
                out[i, j, :channels.size] = values * gains[channels] + offsets[channels] if scaled else values
    return out


def spike_vector(rng, lengths, num_units=3, per_segment=30):
    rows = []
    for seg, n in enumerate(lengths):
        samples = np.concatenate([[1, n - 2], rng.choice(np.arange(n), per_segment, replace=False)])
        rows += [(int(s), int(u), seg) for s, u in zip(samples, rng.integers(0, num_units, samples.size))]
    spikes = np.array(rows, dtype=[("sample_index", "int64"), ("unit_index", "int64"), ("segment_index", "int64")])
    return spikes[rng.permutation(spikes.size)]  # any order: rows follow the given order


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_single_buffer_equals_reference(tmp_path, n_jobs):
    from gpuspike.core.waveform_tools import extract_waveforms_to_single_buffer

    rec, traces = small_recording(seed=3)
    rng = np.random.default_rng(4)
    spikes = spike_vector(rng, (3000, 2000))
    job = dict(n_jobs=n_jobs, chunk_size=700, progress_bar=False)
    dense = extract_waveforms_to_single_buffer(rec, spikes, 6, 9, mode="shared_memory", dtype="float32", **job)
    np.testing.assert_array_equal(dense, reference_single_buffer(rec, traces, spikes, 6, 9, True))
    raw = extract_waveforms_to_single_buffer(rec, spikes, 6, 9, mode="shared_memory", return_in_uV=False, **job)
    assert raw.dtype == np.int16
    np.testing.assert_array_equal(raw, reference_single_buffer(rec, traces, spikes, 6, 9, False, dtype="int16"))
    mask = np.array([[1, 0, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 0, 0, 1]], dtype=bool)
    sparse = extract_waveforms_to_single_buffer(rec, spikes, 4, 5, mode="memmap", file_path=tmp_path / "w.npy",
                                                dtype="float32", sparsity_mask=mask, **job)
    assert sparse.shape == (spikes.size, 9, 3) and isinstance(sparse, np.memmap)
    np.testing.assert_array_equal(sparse, reference_single_buffer(rec, traces, spikes, 4, 5, True, mask))
    np.testing.assert_array_equal(np.load(tmp_path / "w.npy"), sparse)
    assert [p.name for p in tmp_path.iterdir()] == ["w.npy"]  # the temporary file is gone
    stored = extract_waveforms_to_single_buffer(rec, spikes, 4, 5, mode="zarr", dtype="float32",
                                                file_path=tmp_path / "an.zarr" / "extensions" / "waveforms" / "wf",
                                                zarr_target_chunk_bytes=2000, **job)
    assert stored.chunks[0] < spikes.size
    np.testing.assert_array_equal(stored[:], reference_single_buffer(rec, traces, spikes, 4, 5, True))


def test_single_buffer_errors(tmp_path):
    from gpuspike.core.waveform_tools import extract_waveforms_to_single_buffer

    rec, _ = small_recording()
    spikes = spike_vector(np.random.default_rng(0), (3000, 2000))
    with pytest.raises(ValueError, match="mode='nope'"):
        extract_waveforms_to_single_buffer(rec, spikes, 2, 2, mode="nope")
    with pytest.raises(ValueError, match="needs file_path"):
        extract_waveforms_to_single_buffer(rec, spikes, 2, 2, mode="memmap")
    with pytest.raises(ValueError, match="inside a .zarr store"):
        extract_waveforms_to_single_buffer(rec, spikes, 2, 2, mode="zarr", file_path=tmp_path / "plain")
    with pytest.raises(ValueError, match="lacks"):
        extract_waveforms_to_single_buffer(rec, np.zeros(3, dtype=[("sample_index", "int64")]), 2, 2,
                                           mode="shared_memory")
    with pytest.raises(ValueError, match="sparsity_mask has shape"):
        extract_waveforms_to_single_buffer(rec, spikes, 2, 2, mode="shared_memory", sparsity_mask=np.ones((3, 4)))


def test_spikeinterface_assert_errors_are_both_kinds():
    rec = gs.generate_recording(durations=[0.1, 0.1], num_channels=2, seed=0)
    for call in (lambda: rec.time_slice(0.0, 0.05), lambda: rec.frame_slice(0, 10)):
        with pytest.raises(AssertionError):
            call()
        with pytest.raises(ValueError, match="segment"):
            call()
    assert issubclass(SpikeInterfaceAssertError, ValueError) and issubclass(SpikeInterfaceAssertError,
                                                                            AssertionError)


def test_noise_level_cache_stays_with_its_recording():
    rec, _ = small_recording(seed=8, lengths=(40000,))
    levels = gs.get_noise_levels(rec, return_scaled=False, method="std", num_chunks_per_segment=4,
                                 chunk_size=1000, seed=0)
    assert "noise_level_std_raw" in rec.get_property_keys()
    part = rec.frame_slice(0, 5000)
    assert not any(k.startswith("noise_level") for k in part.get_property_keys())
    assert not any(k.startswith("noise_level") for k in rec.select_channels(rec.channel_ids[:2]).get_property_keys())
    np.testing.assert_array_equal(gs.get_noise_levels(rec, return_scaled=False, method="std"), levels)


def test_memory_save_warns_about_unknown_keywords():
    rec, _ = small_recording()
    with pytest.warns(UserWarning, match=r"ignored unknown keyword arguments \['shared'\]"):
        saved = rec.save(format="memory", shared=False, progress_bar=False)
    assert type(saved).__name__ == "SharedMemoryRecording"
    with pytest.raises(TypeError, match="unknown keyword"):
        rec.save(format="binary", folder="unused_folder", shared=False)


def test_path_helpers_and_memory_strings(tmp_path):
    import json

    from gpuspike.core.core_tools import (SIJsonEncoder, add_suffix, check_paths_relative, convert_string_to_bytes,
                                          make_paths_absolute, make_paths_relative, recursive_path_modifier)

    rec, _ = small_recording(seed=9, lengths=(3000,))
    saved = rec.save(folder=tmp_path / "data" / "rec", progress_bar=False)
    view = gs.concatenate_recordings([saved.frame_slice(0, 100), saved.frame_slice(100, 200)])
    d = view.to_dict(recursive=True)
    assert check_paths_relative(d, tmp_path / "elsewhere")
    relative = make_paths_relative(d, tmp_path / "elsewhere")
    relative_paths = [v for _, _, v in __import__("gpuspike.core.core_tools", fromlist=["x"])._path_values(relative)]
    assert relative_paths and all(p.startswith("../data/rec") for p in relative_paths)
    absolute = make_paths_absolute(relative, tmp_path / "elsewhere")
    assert absolute == json.loads(json.dumps(d, cls=SIJsonEncoder))
    np.testing.assert_array_equal(gs.load(absolute).get_traces(), view.get_traces())
    assert d == view.to_dict(recursive=True)  # the helpers work on copies
    upper = recursive_path_modifier(d, lambda p: str(p).upper())
    assert all(v == str(v).upper() for _, _, v in __import__("gpuspike.core.core_tools",
                                                             fromlist=["x"])._path_values(upper))
    assert not check_paths_relative({"kwargs": {"file_path": "https://host/data.raw"}}, tmp_path)
    assert add_suffix("a/b", ["zarr", ".zip"]).as_posix() == "a/b.zarr"
    assert add_suffix("a/b.zip", ["zarr", ".zip"]).as_posix() == "a/b.zip"
    assert [convert_string_to_bytes(s) for s in ("1k", "2.5M", "1Gi", "3Ki")] == [1000, 2_500_000, 2**30, 3072]
    with pytest.raises(AssertionError, match="Unknown suffix"):
        convert_string_to_bytes("12X")
    text = json.dumps({np.int64(1): np.float32(2.5), "a": np.arange(2)}, cls=SIJsonEncoder)
    assert json.loads(text) == {"1": 2.5, "a": [0, 1]}


def test_load_finds_analyzers_templates_and_waveforms(tmp_path):
    rec, srt = gs.generate_ground_truth_recording(durations=[3.0], num_units=3, num_channels=4, seed=2)
    analyzer = gs.create_sorting_analyzer(srt, rec, format="binary_folder", folder=tmp_path / "an", sparse=False)
    analyzer.compute(["random_spikes", "templates"])
    loaded = gs.load(tmp_path / "an")
    assert isinstance(loaded, gs.SortingAnalyzer) and loaded.has_extension("templates")
    np.testing.assert_array_equal(loaded.get_extension("templates").get_data(),
                                  analyzer.get_extension("templates").get_data())
    assert gs.load(tmp_path / "an", load_extensions=False).get_saved_extension_names() == ["random_spikes",
                                                                                          "templates"]
    with pytest.raises(TypeError, match=r"unknown keyword arguments \['lazy_load'\]"):
        gs.load(tmp_path / "an", lazy_load=True)
    analyzer.save_as(format="zarr", folder=tmp_path / "an.zarr")
    assert isinstance(gs.load(tmp_path / "an.zarr"), gs.SortingAnalyzer)
    templates = analyzer.get_extension("templates").get_data(outputs="Templates")
    again = gs.load(templates.to_dict())
    assert isinstance(again, gs.Templates)
    np.testing.assert_array_equal(again.templates_array, templates.templates_array)
    templates.to_zarr(tmp_path / "templates.zarr")
    np.testing.assert_array_equal(gs.load(tmp_path / "templates.zarr").templates_array, templates.templates_array)
    we = gs.extract_waveforms(rec, srt, folder=tmp_path / "we", sparse=False, max_spikes_per_unit=20,
                              progress_bar=False)
    as_analyzer = gs.load(tmp_path / "we")
    assert isinstance(as_analyzer, gs.SortingAnalyzer)
    np.testing.assert_allclose(as_analyzer.get_extension("templates").get_data(), we.get_all_templates(),
                               rtol=1e-6, atol=1e-6)


def test_smaller_spikeinterface_behaviours(tmp_path, monkeypatch):
    import gpuspike.core.globals as globals_module
    from gpuspike.full import generate_unit_locations

    monkeypatch.setattr(globals_module, "_dataset_folder", None)
    gs.set_global_dataset_folder(tmp_path / "datasets" / "here")
    assert gs.get_global_dataset_folder().is_dir()  # created, as SpikeInterface does

    rec, _ = small_recording(seed=10, lengths=(3000,))
    rec.set_times(np.arange(3000) / 10000.0 + 100.0)
    srt = gs.NumpySorting.from_samples_and_labels([np.array([500, 1500])], [np.array([0, 1])], 10000.0)
    analyzer = gs.create_sorting_analyzer(srt, rec, sparse=False)
    assert analyzer.get_total_duration() == pytest.approx(rec.get_total_duration())
    assert rec._recording_segments is rec._segments and srt._sorting_segments is srt._segments

    with pytest.raises(AssertionError):
        gs.UnitsSelectionSorting(srt, unit_ids=[5])
    with pytest.raises(AssertionError, match="unique"):
        gs.UnitsSelectionSorting(srt, srt.unit_ids, renamed_unit_ids=["a", "a"])

    probe = np.stack([np.repeat([0.0, 20.0], 20), np.tile(np.arange(20) * 20.0, 2)], axis=1)
    locations = generate_unit_locations(100, probe, margin_um=20.0, minimum_distance=20.0, max_iteration=500, seed=0)
    distances = np.linalg.norm(locations[:, None] - locations[None], axis=2)
    np.fill_diagonal(distances, np.inf)
    assert locations.dtype == np.float32 and distances.min() >= 20.0 - 1e-4
    with pytest.raises(ValueError, match="no solution for minimum_distance=100.0 and max_iteration=3"):
        generate_unit_locations(50, probe[:2], margin_um=1.0, minimum_distance=100.0, max_iteration=3,
                                distance_strict=True, seed=0)

    gt, _ = gs.generate_ground_truth_recording(durations=[1.0], seed=0)
    gt.name = None
    assert type(gt).__name__ in repr(gt) and "InjectTemplatesRecording" in repr(gt)


def test_generate_sorting_to_inject_respects_refractory_periods():
    srt = gs.generate_sorting(num_units=4, durations=[20.0, 5.0], firing_rates=20.0, seed=3)
    num_samples = [int(20.0 * 30000), int(5.0 * 30000)]
    injected = gs.generate_sorting_to_inject(srt, num_samples, max_injected_per_unit=30, injected_rate=0.1,
                                             refractory_period_ms=1.5, seed=7)
    refractory = int(round(1.5 * 30))
    assert list(injected.unit_ids) == list(srt.unit_ids)
    for seg, n in enumerate(num_samples):
        for unit_id in srt.unit_ids:
            real = srt.get_unit_spike_train(unit_id, segment_index=seg)
            new = injected.get_unit_spike_train(unit_id, segment_index=seg)
            wanted = min(30, int(round(0.1 * real.size)))
            assert 0 < new.size <= wanted and np.all((new >= 0) & (new < n))
            assert np.all(np.diff(new) >= refractory)
            assert np.abs(new[:, None] - real[None, :]).min() >= refractory
    again = gs.generate_sorting_to_inject(srt, num_samples, max_injected_per_unit=30, injected_rate=0.1, seed=7)
    np.testing.assert_array_equal(again.to_spike_vector(), injected.to_spike_vector())
    with pytest.raises(ValueError, match="num_samples has 1 values for 2 segment"):
        gs.generate_sorting_to_inject(srt, num_samples[:1])


def test_spikeinterface_abstract_bases_answer_isinstance():
    from gpuspike.core.baserecordingsnippets import BaseRecordingSnippets
    from gpuspike.core.time_series import TimeSeries, TimeSeriesSegment

    rec = gs.generate_recording(num_channels=2, durations=[0.1])
    snippets = gs.NumpySnippets([np.zeros((3, 10, 2), "float32")], [np.array([5, 20, 40])], 1000.0, nbefore=3)
    sorting = gs.generate_sorting(num_units=2, durations=[0.1])
    assert isinstance(rec, BaseRecordingSnippets) and isinstance(snippets, BaseRecordingSnippets)
    assert isinstance(rec, TimeSeries) and not isinstance(snippets, TimeSeries)
    assert isinstance(rec.frame_slice(1, 50), TimeSeries) and isinstance(rec._segments[0], TimeSeriesSegment)
    assert not isinstance(sorting, (BaseRecordingSnippets, TimeSeries))
    assert issubclass(gs.BinaryRecordingExtractor, BaseRecordingSnippets)


def test_slice_rows_and_materialize_array_copy_numpy_mapped_and_zarr_arrays(tmp_path):
    import zarr

    from gpuspike.core.core_tools import materialize_array, slice_rows

    data = np.arange(4 * 3 * 5, dtype="float32").reshape(4, 3, 5)
    np.save(tmp_path / "d.npy", data)
    mapped = np.load(tmp_path / "d.npy", mmap_mode="r")
    kwargs = {"zarr_format": 2} if int(zarr.__version__.split(".")[0]) >= 3 else {}
    stored = zarr.open_array(str(tmp_path / "d.zarr"), mode="w", shape=data.shape, chunks=(2, 3, 5), dtype="float32",
                             **kwargs)
    stored[:] = data
    for array in (data, mapped, stored):
        rows = slice_rows(array, [3, 1])
        np.testing.assert_array_equal(rows, data[[3, 1]])
        np.testing.assert_array_equal(slice_rows(array, np.array([True, False, True, False])), data[[0, 2]])
        np.testing.assert_array_equal(slice_rows(array, [4, 0], axis=2), data[:, :, [4, 0]])
        assert type(rows) is np.ndarray and rows.flags.writeable
        rows[:] = -1  # a copy: the source is unchanged
        whole = materialize_array(array)
        assert type(whole) is np.ndarray and whole.flags.writeable and not np.shares_memory(whole, data)
        np.testing.assert_array_equal(whole, data)
        whole[0] = -2
    np.testing.assert_array_equal(stored[:], np.arange(60, dtype="float32").reshape(4, 3, 5))
    np.testing.assert_array_equal(data, np.arange(60, dtype="float32").reshape(4, 3, 5))


def test_read_binary_recording_maps_rows_or_columns_after_a_header(tmp_path):
    from gpuspike.core.recording_tools import read_binary_recording

    traces = np.arange(7 * 3, dtype="int16").reshape(7, 3) * 11
    path = tmp_path / "t.bin"
    path.write_bytes(b"HEADER" + traces.tobytes() + b"\x01\x02")  # and a partial last frame
    mapped = read_binary_recording(path, 3, "int16", offset=6)
    assert isinstance(mapped, np.memmap) and not mapped.flags.writeable
    np.testing.assert_array_equal(mapped, traces)
    path.write_bytes(traces.T.tobytes())  # channels are rows
    np.testing.assert_array_equal(read_binary_recording(path, 3, "int16", time_axis=1), traces)
    with pytest.raises(ValueError, match="time_axis=2: allowed values are 0 and 1"):
        read_binary_recording(path, 3, "int16", time_axis=2)
    with pytest.raises(ValueError, match="offset=1000 is outside the file's 42 bytes"):
        read_binary_recording(path, 3, "int16", offset=1000)
    assert read_binary_recording(path, 3, "int16", offset=42).shape == (0, 3)


def test_has_exceeding_spikes_and_read_zarr_recording_from_their_spikeinterface_modules(tmp_path):
    from gpuspike.core.waveform_tools import has_exceeding_spikes
    from gpuspike.core.zarrextractors import read_zarr_recording

    rec = gs.NumpyRecording([np.zeros((100, 2), "float32"), np.zeros((50, 2), "float32")], 1000.0)
    inside = gs.NumpySorting.from_samples_and_labels([np.array([0, 99]), np.array([49])], [np.array([0, 0]),
                                                                                         np.array([0])], 1000.0)
    beyond = gs.NumpySorting.from_samples_and_labels([np.array([0, 99]), np.array([50])], [np.array([0, 0]),
                                                                                         np.array([0])], 1000.0)
    assert not has_exceeding_spikes(inside, rec) and has_exceeding_spikes(beyond, rec)
    rec.save(folder=tmp_path / "r.zarr", format="zarr")
    back = read_zarr_recording(tmp_path / "r.zarr")
    assert isinstance(back, gs.ZarrRecordingExtractor) and back.get_num_samples(1) == 50
