"""BaseSpikeVectorExtension: per-spike data from a node pipeline, kept by the analyzer, checked against
NumPy references taken from the traces."""
import numpy as np
import pytest

from _extension_registry import restored_extension_registry

import gpuspike as gs
from gpuspike.core.analyzer_extension_core import BaseSpikeVectorExtension
from gpuspike.core.node_pipeline import ExtractDenseWaveforms, PipelineNode, SpikeRetriever
from gpuspike.core.sortinganalyzer import register_result_extension

JOB = dict(chunk_size=500, n_jobs=1, progress_bar=False)


class _Amplitude(PipelineNode):
    def get_dtype(self):
        return np.dtype("float64")

    def compute(self, traces, peaks):
        return peaks["amplitude"].astype("float64")


class _Energy(PipelineNode):
    def get_dtype(self):
        return np.dtype("float64")

    def compute(self, traces, peaks, waveforms):
        return np.sum(np.asarray(waveforms, "float64") ** 2, axis=(1, 2))


class MainAmplitudes(BaseSpikeVectorExtension):
    extension_name = "test_main_amplitudes"
    depend_on = []
    nodepipeline_variables = ["amplitudes"]

    def _get_pipeline_nodes(self):
        rec, srt = self.sorting_analyzer.recording, self.sorting_analyzer.sorting
        src = SpikeRetriever(srt, rec)
        return [src, _Amplitude(rec, parents=[src])]


class Energies(BaseSpikeVectorExtension):
    extension_name = "test_energies"
    depend_on = []
    nodepipeline_variables = ["energy", "amplitude"]

    def _set_params(self, nbefore=3, nafter=5, needs_templates=False):
        return dict(nbefore=nbefore, nafter=nafter, needs_templates=needs_templates)

    @classmethod
    def get_required_dependencies(cls, **params):
        return ["templates"] if params.get("needs_templates") else []

    def _get_pipeline_nodes(self):
        rec, srt = self.sorting_analyzer.recording, self.sorting_analyzer.sorting
        src = SpikeRetriever(srt, rec)
        waves = ExtractDenseWaveforms(rec, parents=[src], nbefore=self.params["nbefore"], nafter=self.params["nafter"])
        return [src, waves, _Energy(rec, parents=[src, waves]), _Amplitude(rec, parents=[src])]


@pytest.fixture(autouse=True, scope="module")
def _registered():
    """The two extensions are registered for this module's tests only (the registry is global)."""
    with restored_extension_registry():
        register_result_extension(MainAmplitudes)
        register_result_extension(Energies)
        yield


def _dataset():
    rng = np.random.default_rng(4)
    traces = [rng.normal(size=(n, 5)).astype("float32") for n in (1500, 900)]
    rec = gs.NumpyRecording(traces, 1000.0)
    rec.set_channel_locations(np.column_stack([np.zeros(5), np.arange(5) * 25.0]))
    rec.set_channel_gains(1.0)
    rec.set_channel_offsets(0.0)
    frames = [np.sort(rng.choice(np.arange(1, n - 1), 30, replace=False)) for n in (1500, 900)]
    unit_ids = np.array(["a", "b", "c", "d"])
    labels = [unit_ids[rng.integers(0, 4, 30)] for _ in frames]
    srt = gs.NumpySorting.from_samples_and_labels(frames, labels, 1000.0, unit_ids=unit_ids)
    srt.set_property("main_channel_id", rec.channel_ids[[0, 3, 1, 4]])
    return rec, srt, traces


def _expected(srt, traces, nbefore=3, nafter=5):
    """Reference amplitude (on the unit's main channel) and window energy of every spike, in spike-vector order."""
    main = np.array([0, 3, 1, 4])
    amplitude, energy = [], []
    for spike in srt.to_spike_vector():
        tr = traces[spike["segment_index"]].astype("float64")
        t = spike["sample_index"]
        amplitude.append(tr[t, main[spike["unit_index"]]])
        window = np.zeros((nbefore + nafter, tr.shape[1]))
        for k, s in enumerate(range(t - nbefore, t + nafter)):
            if 0 <= s < tr.shape[0]:
                window[k] = tr[s]
        energy.append(np.sum(window ** 2))
    return np.array(amplitude), np.array(energy)


@pytest.mark.parametrize("format", ["memory", "binary_folder", "zarr"])
def test_data_equals_reference_and_survives_reload(tmp_path, format):
    rec, srt, traces = _dataset()
    folder = None if format == "memory" else tmp_path / ("an.zarr" if format == "zarr" else "an")
    analyzer = gs.create_sorting_analyzer(srt, rec, format=format, folder=folder, sparse=False)
    analyzer.compute("test_energies", nbefore=2, nafter=4, **JOB)
    amplitude, energy = _expected(srt, traces, 2, 4)
    ext = analyzer.get_extension("test_energies")
    np.testing.assert_allclose(ext.get_data(), energy, rtol=1e-12)
    np.testing.assert_array_equal(ext.get_data(return_data_name="amplitude"), amplitude)
    if format != "memory":
        for lazy in (False, True):
            loaded = gs.load_sorting_analyzer(folder, lazy=lazy)
            np.testing.assert_allclose(loaded.get_extension("test_energies").get_data(), energy, rtol=1e-12)
    with pytest.raises(ValueError, match="return_data_name"):
        ext.get_data(return_data_name="nope")
    with pytest.raises(ValueError, match="outputs"):
        ext.get_data(outputs="pandas")


def test_by_unit_and_periods():
    rec, srt, traces = _dataset()
    analyzer = gs.create_sorting_analyzer(srt, rec, sparse=False)
    ext = analyzer.compute("test_main_amplitudes", **JOB)
    amplitude, _ = _expected(srt, traces)
    vector = srt.to_spike_vector()
    by_unit = ext.get_data(outputs="by_unit")
    merged = ext.get_data(outputs="by_unit", concatenated=True)
    for u, unit_id in enumerate(srt.unit_ids):
        for seg in range(2):
            rows = (vector["unit_index"] == u) & (vector["segment_index"] == seg)
            np.testing.assert_array_equal(by_unit[seg][unit_id], amplitude[rows])
        np.testing.assert_array_equal(merged[unit_id], amplitude[vector["unit_index"] == u])
    periods = np.zeros(2, dtype=[("segment_index", "int64"), ("start_sample_index", "int64"),
                                 ("end_sample_index", "int64"), ("unit_index", "int64")])
    periods[0] = (0, 100, 900, 1)
    periods[1] = (1, 0, 450, 2)
    keep = ((vector["unit_index"] == 1) & (vector["segment_index"] == 0) & (vector["sample_index"] >= 100)
            & (vector["sample_index"] < 900)) | ((vector["unit_index"] == 2) & (vector["segment_index"] == 1)
                                                 & (vector["sample_index"] < 450))
    np.testing.assert_array_equal(ext.get_data(periods=periods), amplitude[keep])
    in_periods = ext.get_data(outputs="by_unit", concatenated=True, periods=periods)
    np.testing.assert_array_equal(in_periods["b"], amplitude[keep & (vector["unit_index"] == 1)])
    assert in_periods["a"].size == 0


def test_select_merge_split_keep_rows_of_their_spikes():
    rec, srt, traces = _dataset()
    analyzer = gs.create_sorting_analyzer(srt, rec, sparse=False)
    analyzer.compute("test_main_amplitudes", **JOB)
    amplitude, _ = _expected(srt, traces)
    units = srt.to_spike_vector()["unit_index"]
    subset = analyzer.select_units(["b", "d"])
    np.testing.assert_array_equal(subset.get_extension("test_main_amplitudes").get_data(),
                                  amplitude[np.isin(units, [1, 3])])
    merged = analyzer.merge_units([["a", "c"]], new_id_strategy="append")
    np.testing.assert_array_equal(merged.get_extension("test_main_amplitudes").get_data(), amplitude)


def test_several_in_one_pass_equal_one_by_one_and_runtime_dependencies():
    rec, srt, traces = _dataset()
    together = gs.create_sorting_analyzer(srt, rec, sparse=False)
    together.compute(["test_main_amplitudes", "test_energies"], **JOB)
    apart = gs.create_sorting_analyzer(srt, rec, sparse=False)
    apart.compute("test_main_amplitudes", **JOB)
    apart.compute("test_energies", **JOB)
    for name in ("test_main_amplitudes", "test_energies"):
        for key, value in apart.get_extension(name).data.items():
            np.testing.assert_array_equal(together.get_extension(name).data[key], value)
    assert together.get_extension("test_energies").run_info["run_completed"]
    with pytest.raises(AssertionError, match="templates"):
        together.compute("test_energies", needs_templates=True, **JOB)
    together.compute(["random_spikes", "templates"], **JOB)
    together.compute("test_energies", needs_templates=True, **JOB)
    together.compute("templates")
    assert not together.has_extension("test_energies")  # it was computed depending on templates
    assert together.has_extension("test_main_amplitudes")


def test_gather_mode_of_spikeinterface_accepted_and_checked(tmp_path):
    rec, srt, traces = _dataset()
    analyzer = gs.create_sorting_analyzer(srt, rec, format="binary_folder", folder=tmp_path / "an", sparse=False)
    analyzer.compute_several_extensions({"test_main_amplitudes": {}, "test_energies": {}}, gather_mode="npy", **JOB)
    amplitude, energy = _expected(srt, traces)
    reloaded = gs.load_sorting_analyzer(tmp_path / "an")
    np.testing.assert_array_equal(reloaded.get_extension("test_main_amplitudes").get_data(), amplitude)
    np.testing.assert_allclose(reloaded.get_extension("test_energies").get_data(), energy, rtol=1e-12)
    with pytest.raises(ValueError, match="gather_mode"):
        analyzer.compute_several_extensions({"test_main_amplitudes": {}}, gather_mode="hdf5")


def test_simultaneous_spikes_keep_their_rows_when_units_are_relabeled():
    """A sorting keeps simultaneous spikes in unit order, so a selection in another order, a merge or a
    split reorders them: each row must still be the value of the spike at that row."""
    rec, _, traces = _dataset()
    frames = [np.array([50, 50, 50, 200, 200, 400, 400, 600]), np.array([30, 30, 300, 300])]
    labels = [np.array(["a", "b", "d", "a", "d", "b", "c", "c"]), np.array(["d", "a", "b", "c"])]
    srt = gs.NumpySorting.from_samples_and_labels(frames, labels, 1000.0, unit_ids=np.array(["a", "b", "c", "d"]))
    srt.set_property("main_channel_id", rec.channel_ids[[0, 3, 1, 4]])
    analyzer = gs.create_sorting_analyzer(srt, rec, sparse=False)
    analyzer.compute("test_main_amplitudes", **JOB)
    amplitude, _ = _expected(srt, traces)
    by_spike = {(int(s["segment_index"]), int(s["sample_index"]), str(srt.unit_ids[s["unit_index"]])): a
                for s, a in zip(srt.to_spike_vector(), amplitude)}

    def check(new, parents):
        """``parents``: new unit id -> the old unit ids its spikes come from."""
        vector, data = new.sorting.to_spike_vector(), new.get_extension("test_main_amplitudes").get_data()
        assert data.shape == (vector.size,)
        for spike, value in zip(vector, data):
            olds = [u for u in parents[str(new.unit_ids[spike["unit_index"]])]
                    if (int(spike["segment_index"]), int(spike["sample_index"]), u) in by_spike]
            assert len(olds) == 1
            assert value == by_spike[(int(spike["segment_index"]), int(spike["sample_index"]), olds[0])]

    check(analyzer.select_units(["d", "b", "a"]), {"d": ["d"], "b": ["b"], "a": ["a"]})
    merged, (new_id,) = analyzer.merge_units([["a", "c"]], new_id_strategy="append", return_new_unit_ids=True)
    check(merged, {str(new_id): ["a", "c"], "b": ["b"], "d": ["d"]})
    n = srt.count_num_spikes_per_unit()["b"]
    split, (parts,) = analyzer.split_units({"b": [[0], list(range(1, n))]}, return_new_unit_ids=True)
    check(split, {**{str(p): ["b"] for p in parts}, "a": ["a"], "c": ["c"], "d": ["d"]})
