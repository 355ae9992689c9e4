"""The node pipeline: every node and gatherer against NumPy references written here, from the traces."""
import os
import pickle

import numpy as np
import pytest

import gpuspike as gs
from gpuspike.core.errors import FolderExistsError
from gpuspike.core.node_pipeline import (ExtractDenseWaveforms, ExtractSparseWaveforms, PeakDetector, PeakRetriever,
                                         PipelineNode, SpikeRetriever, check_graph, run_node_pipeline,
                                         sorting_to_peaks, spike_peak_dtype)

JOB = dict(chunk_size=700, n_jobs=1, progress_bar=False)


class Field(PipelineNode):
    """Returns one field of its peak source."""

    def __init__(self, recording, parents, field, return_output=True):
        super().__init__(recording, return_output=return_output, parents=parents)
        self.field = field

    def get_dtype(self):
        return np.dtype("float64")

    def compute(self, traces, peaks, *rest):
        return np.asarray(peaks[self.field], dtype="float64")


class Passthrough(PipelineNode):
    """Returns the output of its last parent unchanged."""

    def get_dtype(self):
        return np.dtype("float32")

    def compute(self, traces, peaks, data):
        return data


def _dataset(num_segments=2, seed=0):
    """Random traces with spikes near both ends of each segment (windows cross the edges)."""
    rng = np.random.default_rng(seed)
    lengths = [2300, 1700][:num_segments]
    traces = [rng.normal(size=(n, 6)).astype("float32") for n in lengths]
    rec = gs.NumpyRecording(traces, 1000.0)
    rec.set_channel_locations(np.column_stack([np.zeros(6), np.arange(6) * 20.0]))
    frames, labels = [], []
    for n in lengths:
        f = np.sort(np.concatenate([[0, 1, 3, n - 2, n - 1], rng.choice(np.arange(5, n - 5), 40, replace=False)]))
        frames.append(f)
        labels.append(rng.integers(0, 3, f.size))
    srt = gs.NumpySorting.from_samples_and_labels(frames, labels, 1000.0, unit_ids=np.array([0, 1, 2]))
    srt.set_property("main_channel_id", rec.channel_ids[[1, 4, 2]])
    return rec, srt, traces


def _reference_spikes(srt, traces, main, from_template=True, neighbours=None, sign="neg", chunk_size=None):
    """Expected (frame, channel, amplitude, unit, segment) of every spike, straight from the traces. The
    frame is the node's: local to its chunk (chunks of ``chunk_size`` from each segment's start, no margin)."""
    rows = []
    for seg, tr in enumerate(traces):
        for frame, unit in zip(*_segment_spikes(srt, seg)):
            local = frame % chunk_size if chunk_size else frame
            chan = main[unit]
            if not from_template:
                near = np.flatnonzero(neighbours[chan])
                values = tr[frame, near].astype("float64")
                pick = {"neg": np.argmin(values), "pos": np.argmax(values), "both": np.argmax(np.abs(values))}[sign]
                chan = near[pick]
            rows.append((local, chan, tr[frame, chan], unit, seg))
    return np.array(rows, dtype="float64")


def _segment_spikes(srt, seg):
    vector = srt.to_spike_vector()
    mine = vector[vector["segment_index"] == seg]
    return mine["sample_index"], mine["unit_index"]


def _padded_window(tr, frame, nbefore, nafter):
    out = np.zeros((nbefore + nafter, tr.shape[1]), tr.dtype)
    for k, t in enumerate(range(frame - nbefore, frame + nafter)):
        if 0 <= t < tr.shape[0]:
            out[k] = tr[t]
    return out


@pytest.mark.parametrize("job", [JOB, dict(chunk_size=333, n_jobs=2, progress_bar=False),
                                 dict(chunk_size=5000, n_jobs=1, progress_bar=False)])
def test_spike_retriever_from_template_equals_traces(job):
    rec, srt, traces = _dataset()
    main = np.array([1, 4, 2])
    src = SpikeRetriever(srt, rec)
    nodes = [src] + [Field(rec, [src], f) for f in ("sample_index", "channel_index", "amplitude", "unit_index",
                                                     "segment_index")]
    out = np.column_stack(run_node_pipeline(rec, nodes, job))
    np.testing.assert_array_equal(out, _reference_spikes(srt, traces, main, chunk_size=job["chunk_size"]))


@pytest.mark.parametrize("sign", ["neg", "pos", "both"])
def test_spike_retriever_per_spike_channel(sign):
    rec, srt, traces = _dataset()
    locations = rec.get_channel_locations()
    neighbours = np.linalg.norm(locations[:, None] - locations[None], axis=2) <= 45
    src = SpikeRetriever(rec, srt, channel_from_template=False, radius_um=45, peak_sign=sign)  # old argument order
    nodes = [src] + [Field(rec, [src], f) for f in ("sample_index", "channel_index", "amplitude")]
    out = np.column_stack(run_node_pipeline(rec, nodes, JOB))
    expected = _reference_spikes(srt, traces, [1, 4, 2], False, neighbours, sign, chunk_size=JOB["chunk_size"])[:, :3]
    np.testing.assert_array_equal(out, expected)


def test_spike_retriever_main_channels_from_extremum_channel_inds_without_property():
    rec, srt, traces = _dataset(num_segments=1)
    plain = gs.NumpySorting.from_samples_and_labels([srt.to_spike_vector()["sample_index"]],
                                                    [srt.to_spike_vector()["unit_index"]], 1000.0,
                                                    unit_ids=np.array([0, 1, 2]))
    src = SpikeRetriever(plain, rec, extremum_channel_inds={0: 5, 1: 0, 2: 3})
    channels = run_node_pipeline(rec, [src, Field(rec, [src], "channel_index")], JOB)
    np.testing.assert_array_equal(channels, np.array([5, 0, 3])[plain.to_spike_vector()["unit_index"]])
    with pytest.raises(ValueError, match="main_channel_id"):
        SpikeRetriever(plain, rec)
    with pytest.raises(ValueError, match="peak_sign"):
        SpikeRetriever(srt, rec, peak_sign="up")


def test_spikes_in_margin_flagged():
    rec, srt, _ = _dataset(num_segments=1)
    src = SpikeRetriever(srt, rec, include_spikes_in_margin=True)
    waves = ExtractDenseWaveforms(rec, parents=[src], nbefore=4, nafter=9)

    class Flag(PipelineNode):
        def get_dtype(self):
            return np.dtype(bool)

        def compute(self, traces, peaks):
            return peaks["in_margin"].copy()

    frames, flags = run_node_pipeline(rec, [src, waves, Field(rec, [src], "sample_index"), Flag(rec, parents=[src])],
                                      dict(chunk_size=500, n_jobs=1, progress_bar=False))
    all_frames = srt.to_spike_vector()["sample_index"]
    expected_frames, expected_flags = [], []
    for start in range(0, rec.get_num_samples(), 500):
        end = min(start + 500, rec.get_num_samples())
        inside = all_frames[(all_frames >= start - 9) & (all_frames < end + 9)]
        expected_frames.append(inside - start + 9)  # local to the chunk with its 9-frame margin
        expected_flags.append((inside < start) | (inside >= end))
    np.testing.assert_array_equal(frames, np.concatenate(expected_frames))
    np.testing.assert_array_equal(flags, np.concatenate(expected_flags))


def test_dense_and_sparse_waveforms_equal_padded_windows():
    rec, srt, traces = _dataset()
    main = np.array([1, 4, 2])
    peaks = sorting_to_peaks(srt, main, spike_peak_dtype)
    src = PeakRetriever(rec, peaks)
    dense = ExtractDenseWaveforms(rec, parents=[src], nbefore=6, nafter=10)
    mask = np.zeros((6, 6), bool)
    mask[np.arange(6), np.arange(6)] = True
    mask[1, [0, 3, 5]] = True
    mask[4, [2]] = True
    sparse = ExtractSparseWaveforms(rec, parents=[src], ms_before=3.0, ms_after=4.0, sparsity_mask=mask)
    nodes = [src, dense, sparse, Passthrough(rec, parents=[src, dense]), Passthrough(rec, parents=[src, sparse])]
    got_dense, got_sparse = run_node_pipeline(rec, nodes, JOB)
    assert sparse.max_num_chans == 4 and got_sparse.shape == (peaks.size, 7, 4)
    for i, peak in enumerate(peaks):
        tr = traces[peak["segment_index"]]
        np.testing.assert_array_equal(got_dense[i], _padded_window(tr, peak["sample_index"], 6, 10))
        chans = np.flatnonzero(mask[peak["channel_index"]])
        expected = np.zeros((7, 4), "float32")
        expected[:, :chans.size] = _padded_window(tr, peak["sample_index"], 3, 4)[:, chans]
        np.testing.assert_array_equal(got_sparse[i], expected)


class ThresholdDetector(PeakDetector):
    """Frames where channel 0 crosses below -2 (a local minimum), with a 2-frame margin."""

    def get_margin(self):
        return 2

    def get_dtype(self):
        return np.dtype(spike_peak_dtype[:4])

    def compute(self, traces, start_frame, end_frame, segment_index, max_margin):
        x = traces[:, 0]
        inner = np.arange(2, x.size - 2)
        hit = inner[(x[inner] < -2) & (x[inner] <= x[inner - 1]) & (x[inner] < x[inner + 1])]
        peaks = np.zeros(hit.size, dtype=self.get_dtype())
        peaks["sample_index"], peaks["amplitude"], peaks["segment_index"] = hit, x[hit], segment_index
        return (peaks,)


def test_detector_peaks_in_segment_frames_with_a_wider_margin_elsewhere():
    rec, srt, traces = _dataset()
    detector = ThresholdDetector(rec, return_output=True)
    waves = ExtractDenseWaveforms(rec, parents=[detector], nbefore=5, nafter=5)  # max margin 5 > detector's 2
    peaks, amplitudes = run_node_pipeline(rec, [detector, waves, Field(rec, [detector], "amplitude")], JOB,
                                          check_for_peak_source=True)
    expected = []
    for seg, tr in enumerate(traces):
        x = tr[:, 0]
        padded = np.concatenate([np.zeros(2, x.dtype), x, np.zeros(2, x.dtype)])
        for t in range(tr.shape[0]):
            c = padded[t + 2]
            if c < -2 and c <= padded[t + 1] and c < padded[t + 3]:
                expected.append((seg, t, c))
    expected = np.array(expected)
    np.testing.assert_array_equal(peaks["segment_index"], expected[:, 0])
    np.testing.assert_array_equal(peaks["sample_index"], expected[:, 1])
    np.testing.assert_array_equal(amplitudes, expected[:, 2].astype("float32"))


def test_skip_after_n_peaks_stops_early():
    rec, srt, _ = _dataset()
    src = SpikeRetriever(srt, rec)
    all_frames = run_node_pipeline(rec, [src, Field(rec, [src], "sample_index")], JOB)
    some = run_node_pipeline(rec, [src, Field(rec, [src], "sample_index")], JOB, skip_after_n_peaks=10)
    assert 10 < some.size < all_frames.size
    np.testing.assert_array_equal(some, all_frames[:some.size])


def test_gather_npy_and_zarr_equal_memory(tmp_path):
    rec, srt, _ = _dataset()
    src = SpikeRetriever(srt, rec)
    waves = ExtractDenseWaveforms(rec, parents=[src], nbefore=3, nafter=4, return_output=True)
    nodes = [src, waves, Field(rec, [src], "amplitude")]
    memory = run_node_pipeline(rec, nodes, JOB)
    npy = run_node_pipeline(rec, nodes, JOB, gather_mode="npy", dest=tmp_path / "out", names=["wf", "amp"])
    store = run_node_pipeline(rec, nodes, JOB, gather_mode="zarr", dest=tmp_path / "out.zarr", names=["wf", "amp"],
                              gather_kwargs=dict(zarr_target_chunk_bytes=4096))
    assert sorted(os.listdir(tmp_path / "out")) == ["amp.npy", "wf.npy"]
    for i, name in enumerate(["wf", "amp"]):
        np.testing.assert_array_equal(npy[i], memory[i])
        np.testing.assert_array_equal(np.load(tmp_path / "out" / f"{name}.npy"), memory[i])
        np.testing.assert_array_equal(store[i][:], memory[i])
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".")]  # no temporary leftovers


def test_gathers_never_replace_and_clean_up_after_a_failure(tmp_path):
    rec, srt, _ = _dataset()
    src = SpikeRetriever(srt, rec)

    class Failing(PipelineNode):
        def get_dtype(self):
            return np.dtype("float64")

        def compute(self, traces, peaks):
            if peaks["sample_index"].size and peaks["segment_index"][0] == 1:
                raise RuntimeError("boom")
            return np.zeros(peaks.size)

    (tmp_path / "kept").mkdir()
    (tmp_path / "kept" / "a.npy").write_bytes(b"mine")
    with pytest.raises(FolderExistsError, match="kept"):
        run_node_pipeline(rec, [src, Field(rec, [src], "amplitude")], JOB, gather_mode="npy", dest=tmp_path / "kept",
                          names=["a"])
    with pytest.raises(FolderExistsError, match="a.npy"):
        run_node_pipeline(rec, [src, Field(rec, [src], "amplitude")], JOB, gather_mode="npy",
                          dest=[tmp_path / "kept" / "a.npy"])
    assert (tmp_path / "kept" / "a.npy").read_bytes() == b"mine"
    with pytest.raises(RuntimeError, match="boom"):
        run_node_pipeline(rec, [src, Failing(rec, parents=[src])], JOB, gather_mode="npy", dest=tmp_path / "f",
                          names=["x"])
    with pytest.raises(RuntimeError, match="boom"):
        run_node_pipeline(rec, [src, Failing(rec, parents=[src])], JOB, gather_mode="zarr",
                          dest=tmp_path / "f.zarr", names=["x"])
    assert os.listdir(tmp_path / "f") == [] and not (tmp_path / "f.zarr").exists()
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".")]


def test_zarr_gather_into_an_existing_store_removes_what_a_failed_run_wrote(tmp_path):
    from gpuspike.core.zarrrecording import create_array, open_group

    rec, srt, _ = _dataset()
    src = SpikeRetriever(srt, rec)

    class FailingLate(PipelineNode):
        def get_dtype(self):
            return np.dtype("float64")

        def compute(self, traces, peaks):
            if peaks["sample_index"].size and peaks["segment_index"][0] == 1:
                raise RuntimeError("boom")
            return np.ones(peaks.size)

    root = open_group(tmp_path / "mine.zarr", mode="w")
    create_array(root, "kept", data=np.arange(5.0))
    given = create_array(root, "given", shape=(0,), chunks=(100,), dtype="float64")
    nodes = [src, FailingLate(rec, parents=[src]), Field(rec, [src], "amplitude")]
    with pytest.raises(RuntimeError, match="boom"):
        run_node_pipeline(rec, nodes, JOB, gather_mode="zarr", dest=[given, tmp_path / "mine.zarr" / "new"])
    root = open_group(tmp_path / "mine.zarr", mode="r")
    assert sorted(root.array_keys()) == ["given", "kept"]  # the array the run created is gone
    assert root["given"].shape == (0,)  # the rows it appended too
    np.testing.assert_array_equal(root["kept"][:], np.arange(5.0))


def test_zarr_gather_into_a_zarr_format_3_store(tmp_path):
    import numcodecs
    import zarr

    from gpuspike.core.zarrrecording import as_zarr3_compressor

    rec, srt, _ = _dataset()
    src = SpikeRetriever(srt, rec)
    nodes = [src, Field(rec, [src], "amplitude")]
    memory = run_node_pipeline(rec, nodes, JOB)
    root = zarr.open_group(tmp_path / "v3.zarr", mode="w", zarr_format=3)
    root.attrs["mine"] = True
    out = run_node_pipeline(rec, nodes, JOB, gather_mode="zarr", dest=[tmp_path / "v3.zarr" / "ext" / "amp"])
    np.testing.assert_array_equal(out[:], memory)
    reopened = zarr.open_group(tmp_path / "v3.zarr", mode="r")
    assert reopened.attrs["mine"] is True and reopened.metadata.zarr_format == 3
    np.testing.assert_array_equal(reopened["ext/amp"][:], memory)
    blosc = as_zarr3_compressor(numcodecs.Blosc(cname="lz4", clevel=3, shuffle=numcodecs.Blosc.BITSHUFFLE))
    assert (blosc.cname.value, blosc.clevel, blosc.shuffle.value) == ("lz4", 3, "bitshuffle")
    assert as_zarr3_compressor(numcodecs.Zstd(level=4)).level == 4 and as_zarr3_compressor(None) is None
    with pytest.raises(ValueError, match="zarr_format=2"):
        as_zarr3_compressor(numcodecs.LZMA())


def test_no_spike_gives_empty_outputs_of_the_declared_dtypes(tmp_path):
    rec, srt, _ = _dataset()
    empty = srt.select_units([])
    src = SpikeRetriever(empty, rec)
    nodes = [src, Field(rec, [src], "amplitude"), ExtractDenseWaveforms(rec, parents=[src], nbefore=2, nafter=2,
                                                                         return_output=True)]
    for kwargs in ({}, dict(gather_mode="npy", dest=tmp_path / "e", names=["a", "w"])):
        amplitude, waves = run_node_pipeline(rec, nodes, JOB, **kwargs)
        assert amplitude.shape == (0,) and amplitude.dtype == np.float64
        assert waves.shape[0] == 0 and waves.dtype == np.float32


def test_graph_errors_name_the_problem():
    rec, srt, _ = _dataset()
    src = SpikeRetriever(srt, rec)
    child = Field(rec, [src], "amplitude")
    with pytest.raises(ValueError, match="out of order"):
        check_graph([child, src], check_for_peak_source=False)
    with pytest.raises(ValueError, match="not in nodes"):
        check_graph([child], check_for_peak_source=False)
    with pytest.raises(ValueError, match="PeakSource"):
        check_graph([child], check_for_peak_source=True)
    with pytest.raises(TypeError, match="PipelineNode"):
        check_graph([src, "amplitude"])
    with pytest.raises(ValueError, match="gather_mode"):
        run_node_pipeline(rec, [src, child], JOB, gather_mode="hdf5")
    with pytest.raises(ValueError, match="ms_before"):
        ExtractDenseWaveforms(rec, parents=[src], ms_before=1.0, nbefore=3, nafter=2)
    with pytest.raises(ValueError, match="sorted"):
        peaks = sorting_to_peaks(srt, [0, 1, 2])
        PeakRetriever(rec, peaks[::-1])


def test_nodes_pickle_and_run_in_processes(tmp_path):
    rec, srt, traces = _dataset()
    rec = rec.save(folder=tmp_path / "rec")  # a process pool rebuilds the recording from its folder
    src = SpikeRetriever(srt, rec)
    nodes = [src, Field(rec, [src], "amplitude")]
    clone = pickle.loads(pickle.dumps(nodes))
    processes = run_node_pipeline(rec, clone, dict(chunk_size=600, n_jobs=2, pool_engine="process",
                                                   mp_context="spawn", progress_bar=False))
    np.testing.assert_array_equal(processes, _reference_spikes(srt, traces, [1, 4, 2])[:, 2])


def test_binary_file_chunks_are_mapped_views_with_the_same_results(tmp_path):
    rec, srt, traces = _dataset()
    saved = rec.save(folder=tmp_path / "rec")
    segment = saved.segments[1]
    view = segment.get_traces_view(100, 900)
    np.testing.assert_array_equal(view, traces[1][100:900])
    assert not view.flags.writeable
    assert segment.get_traces_view(0, 10_000) is None  # past the end: the copying path pads instead

    def outputs(recording):
        src = SpikeRetriever(srt, recording, channel_from_template=False, radius_um=30)
        dense = ExtractDenseWaveforms(recording, parents=[src], nbefore=5, nafter=7, return_output=True)
        sparse = ExtractSparseWaveforms(recording, parents=[src], nbefore=5, nafter=7, radius_um=25,
                                        return_output=True)
        return run_node_pipeline(recording, [src, dense, sparse, Field(recording, [src], "amplitude")], JOB)

    for mapped, in_memory in zip(outputs(saved), outputs(rec)):
        np.testing.assert_array_equal(mapped, in_memory)


def test_npy_gather_gives_all_files_or_none_when_one_appears_meanwhile(tmp_path):
    rec, srt, _ = _dataset()
    src = SpikeRetriever(srt, rec)
    intruder = tmp_path / "out" / "b.npy"

    class Meddling(Field):
        def compute(self, traces, peaks, *rest):
            if not intruder.exists():
                intruder.write_bytes(b"someone else's")
            return super().compute(traces, peaks)

    with pytest.raises(FileExistsError):
        run_node_pipeline(rec, [src, Field(rec, [src], "amplitude"), Meddling(rec, [src], "amplitude")], JOB,
                          gather_mode="npy", dest=[tmp_path / "out" / "a.npy", intruder])
    assert sorted(os.listdir(tmp_path / "out")) == ["b.npy"] and intruder.read_bytes() == b"someone else's"
