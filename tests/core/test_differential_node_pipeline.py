"""The node pipeline and BaseSpikeVectorExtension against SpikeInterface 0.105: the same snippets with
``si`` = gpuspike and ``si`` = ``spikeinterface.core`` give the same values (or both raise)."""
import pytest

from _extension_registry import restored_extension_registry
from _si_compare import assert_same_outcome, run_cases

pytestmark = pytest.mark.compare

SETUP = """
import warnings
warnings.simplefilter("ignore", FutureWarning)
CORE = ("spikeinterface" if IS_SI else "gpuspike") + ".core"
npl = __import__(CORE + ".node_pipeline", fromlist=["run_node_pipeline"])
core_ext = __import__(CORE + ".analyzer_extension_core", fromlist=["BaseSpikeVectorExtension"])
JOB = dict(chunk_duration="0.25s", n_jobs=1, progress_bar=False)

class Field(npl.PipelineNode):
    def __init__(self, recording, parents, field):
        npl.PipelineNode.__init__(self, recording, return_output=True, parents=parents)
        self.field = field
    def get_dtype(self):
        return np.dtype("float64")
    def compute(self, traces, peaks, *rest):
        return np.asarray(peaks[self.field], dtype="float64")

class Rms(npl.PipelineNode):
    def get_dtype(self):
        return np.dtype("float64")
    def compute(self, traces, peaks, waveforms):
        return np.sqrt(np.mean(np.asarray(waveforms, dtype="float64") ** 2, axis=1))

def dataset(seed=7, durations=(2.0, 1.5)):
    rec, srt = si.generate_ground_truth_recording(durations=list(durations), num_channels=8, num_units=5, seed=seed)
    return rec, srt
"""

CASES = {
    "spike_retriever_channels_and_amplitudes": """
rec, srt = dataset()
result = []
for from_template in (True, False):
    for sign in ("neg", "pos", "both"):
        src = npl.SpikeRetriever(srt, rec, channel_from_template=from_template, radius_um=40, peak_sign=sign)
        nodes = [src, Field(rec, [src], "sample_index"), Field(rec, [src], "channel_index"),
                 Field(rec, [src], "amplitude"), Field(rec, [src], "unit_index"), Field(rec, [src], "segment_index")]
        result.append(npl.run_node_pipeline(rec, nodes, JOB))""",
    "spike_retriever_in_margin": """
rec, srt = dataset()
src = npl.SpikeRetriever(srt, rec, include_spikes_in_margin=True)
waves = npl.ExtractDenseWaveforms(rec, parents=[src], ms_before=0.5, ms_after=1.0)
class Flag(npl.PipelineNode):
    def get_dtype(self):
        return np.dtype("bool")
    def compute(self, traces, peaks):
        return peaks["in_margin"].copy()
nodes = [src, waves, Flag(rec, parents=[src]), Field(rec, [src], "sample_index")]
result = npl.run_node_pipeline(rec, nodes, JOB)""",
    "peak_retriever_dense_and_sparse_waveforms": """
rec, srt = dataset()
main = rec.ids_to_indices(srt.get_property("main_channel_id"))
peaks = npl.sorting_to_peaks(srt, main, npl.spike_peak_dtype)
src = npl.PeakRetriever(rec, peaks)
dense = npl.ExtractDenseWaveforms(rec, parents=[src], ms_before=0.4, ms_after=0.9)
sparse = npl.ExtractSparseWaveforms(rec, parents=[src], nbefore=7, nafter=11, radius_um=30)
nodes = [src, dense, sparse, Rms(rec, parents=[src, dense]), Rms(rec, parents=[src, sparse])]
result = list(npl.run_node_pipeline(rec, nodes, JOB)) + [peaks["channel_index"], sparse.max_num_chans,
                                                          dense.nbefore, dense.nafter]""",
    "sparse_waveforms_returned": """
rec, srt = dataset(durations=(1.0,))
main = rec.ids_to_indices(srt.get_property("main_channel_id"))
src = npl.PeakRetriever(rec, npl.sorting_to_peaks(srt, main))
sparse = npl.ExtractSparseWaveforms(rec, parents=[src], nbefore=5, nafter=6, radius_um=25, return_output=True)
result = npl.run_node_pipeline(rec, [src, sparse], JOB)""",
    "gather_npy_folder": """
import os
rec, srt = dataset()
src = npl.SpikeRetriever(srt, rec)
nodes = [src, Field(rec, [src], "amplitude"), Field(rec, [src], "sample_index")]
out = npl.run_node_pipeline(rec, nodes, JOB, gather_mode="npy", dest=tmp + "/gathered", names=["amp", "frames"])
result = [np.asarray(out[0]), np.asarray(out[1]), sorted(os.listdir(tmp + "/gathered")),
          np.load(tmp + "/gathered/amp.npy")]""",
    "gather_one_output_squeezed": """
rec, srt = dataset()
src = npl.SpikeRetriever(srt, rec)
nodes = [src, Field(rec, [src], "amplitude")]
squeezed = npl.run_node_pipeline(rec, nodes, JOB)
kept = npl.run_node_pipeline(rec, nodes, JOB, squeeze_output=False)
result = [type(squeezed).__name__, type(kept).__name__, len(kept), squeezed]""",
    "graph_out_of_order": """
rec, srt = dataset()
src = npl.SpikeRetriever(srt, rec)
npl.run_node_pipeline(rec, [Field(rec, [src], "amplitude"), src], JOB)""",
    "graph_parent_missing": """
rec, srt = dataset()
src = npl.SpikeRetriever(srt, rec)
npl.run_node_pipeline(rec, [Field(rec, [src], "amplitude")], JOB)""",
    "spike_vector_extension": """
class Amplitudes(core_ext.BaseSpikeVectorExtension):
    extension_name = "diff_amplitudes"
    depend_on = []
    nodepipeline_variables = ["amplitudes", "channels"]
    def _set_params(self, peak_sign="neg"):
        return dict(peak_sign=peak_sign)
    def _get_pipeline_nodes(self):
        rec, srt = self.sorting_analyzer.recording, self.sorting_analyzer.sorting
        src = npl.SpikeRetriever(srt, rec, channel_from_template=False, radius_um=40,
                                 peak_sign=self.params["peak_sign"])
        return [src, Field(rec, [src], "amplitude"), Field(rec, [src], "channel_index")]
__import__(CORE + ".sortinganalyzer", fromlist=["x"]).register_result_extension(Amplitudes)
rec, srt = dataset()
analyzer = si.create_sorting_analyzer(srt, rec, format="memory", sparse=False)
ext = analyzer.compute("diff_amplitudes", peak_sign="both", **JOB)
by_unit = ext.get_data(outputs="by_unit")
subset = analyzer.select_units(analyzer.unit_ids[[1, 3]])
result = [ext.get_data(), ext.get_data(return_data_name="channels"),
          {str(k): v for k, v in ext.get_data(outputs="by_unit", concatenated=True).items()},
          {seg: {str(k): v for k, v in d.items()} for seg, d in by_unit.items()},
          subset.get_extension("diff_amplitudes").get_data(), ext.params]""",
    "spike_vector_extensions_in_one_pass_saved": """
class Frames(core_ext.BaseSpikeVectorExtension):
    extension_name = "diff_frames"
    depend_on = ["templates"]
    nodepipeline_variables = ["frames"]
    def _get_pipeline_nodes(self):
        rec, srt = self.sorting_analyzer.recording, self.sorting_analyzer.sorting
        src = npl.SpikeRetriever(srt, rec)
        return [src, Field(rec, [src], "sample_index")]
class Peaks(core_ext.BaseSpikeVectorExtension):
    extension_name = "diff_peaks"
    depend_on = []
    nodepipeline_variables = ["amplitude", "rms"]
    def _get_pipeline_nodes(self):
        rec, srt = self.sorting_analyzer.recording, self.sorting_analyzer.sorting
        src = npl.SpikeRetriever(srt, rec)
        waves = npl.ExtractDenseWaveforms(rec, parents=[src], ms_before=0.5, ms_after=1.0)
        return [src, waves, Field(rec, [src], "amplitude"), Rms(rec, parents=[src, waves])]
register = __import__(CORE + ".sortinganalyzer", fromlist=["x"]).register_result_extension
register(Frames)
register(Peaks)
rec, srt = dataset(seed=3)
analyzer = si.create_sorting_analyzer(srt, rec, format="binary_folder", folder=tmp + "/an", sparse=False)
analyzer.compute(["random_spikes", "templates", "diff_frames", "diff_peaks"], **JOB)
loaded = si.load_sorting_analyzer(tmp + "/an")
result = [loaded.get_extension("diff_frames").get_data(), loaded.get_extension("diff_peaks").get_data(),
          loaded.get_extension("diff_peaks").get_data(return_data_name="rms"),
          sorted(loaded.get_saved_extension_names())]
analyzer.compute("templates")
result.append([analyzer.has_extension("diff_frames"), analyzer.has_extension("diff_peaks")])""",
}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    with restored_extension_registry():  # the snippets register extensions; gpuspike's run is in this process
        return run_cases(CASES, tmp_path_factory.mktemp("differential_pipeline"), setup=SETUP)


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_outcome_as_spikeinterface(outcomes, name):
    gs_results, si_results = outcomes
    assert_same_outcome(gs_results[name], si_results[name], name)


def test_cases_fail_or_succeed_as_written(outcomes):
    """Snippets that set ``result`` succeed in both libraries; the others raise in both."""
    gs_results, si_results = outcomes
    for name, code in CASES.items():
        for library, results in (("gpuspike", gs_results), ("SpikeInterface", si_results)):
            assert ("error" in results[name]) == ("result =" not in code), (name, library, results[name])
