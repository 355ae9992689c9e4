"""extract_waveforms / compute_templates against NumPy references cut from get_traces."""
import numpy as np
import pytest

import gpuspike as gs
from gpuspike.core.random_spikes import select_random_spikes

from _waveforms_helpers import (JOB, assert_close, gt, nb_na, ref_sampled_indices, ref_select, ref_templates,
                                 ref_traces, ref_waveforms, set_test_scaling)


@pytest.fixture(scope="module")
def gt16():
    return gt(seed=3)


def _check_against_reference(we, recording, sorting, selected, return_scaled=True, ms_before=1.0, ms_after=2.0):
    ref = ref_waveforms(recording, sorting, selected, ms_before, ms_after, return_scaled=return_scaled,
                        dtype=we.dtype)
    for unit_id in sorting.unit_ids.tolist():
        wfs = np.asarray(we.get_waveforms(unit_id))
        assert wfs.dtype == ref[unit_id].dtype
        np.testing.assert_array_equal(wfs, ref[unit_id])
        np.testing.assert_array_equal(
            np.stack([we.get_sampled_indices(unit_id)["spike_index"],
                      we.get_sampled_indices(unit_id)["segment_index"]], axis=1).reshape(-1, 2),
            ref_sampled_indices(sorting, selected, unit_id))
    return ref


@pytest.mark.parametrize("max_spikes", [1, 7, 1000, None])
@pytest.mark.parametrize("seed", [0, 42])
def test_select_random_spikes_follows_uniform_rule(gt16, max_spikes, seed):
    _, sorting = gt16
    np.testing.assert_array_equal(select_random_spikes(sorting, max_spikes, seed),
                                  ref_select(sorting, max_spikes, seed))


def test_select_random_spikes_rejects_zero(gt16):
    with pytest.raises(ValueError, match="max_spikes_per_unit"):
        select_random_spikes(gt16[1], 0, 0)


@pytest.mark.parametrize("return_scaled", [True, False])
def test_extract_dense_memory_matches_numpy(gt16, return_scaled):
    recording, sorting = gt16
    we = gs.extract_waveforms(recording, sorting, mode="memory", max_spikes_per_unit=12, seed=7,
                              return_scaled=return_scaled, precompute_template=("average", "std", "median"), **JOB,
                              sparse=False)
    assert we.dtype == (np.float32 if return_scaled else np.int16)
    assert (we.nbefore, we.nafter) == nb_na(recording, 1.0, 2.0)
    selected = ref_select(sorting, 12, 7)
    ref = _check_against_reference(we, recording, sorting, selected, return_scaled)
    assert all(ref[u].shape[0] == min(12, len(sorting.get_unit_spike_train(u))) for u in sorting.unit_ids)
    for mode in ("average", "std", "median"):
        assert_close(we.get_all_templates(mode=mode), ref_templates(ref, sorting.unit_ids, mode))
    assert_close(we.get_all_templates(mode="percentile", percentile=90),
                 ref_templates(ref, sorting.unit_ids, "percentile", 90))
    u = sorting.unit_ids[2]
    assert_close(we.get_template(u, mode="std"), ref_templates(ref, sorting.unit_ids, "std")[2])
    assert_close(we.get_all_templates([u], mode="average")[0], ref_templates(ref, sorting.unit_ids, "average")[2])
    with pytest.raises(ValueError, match="percentile"):
        we.get_all_templates(mode="percentile")
    with pytest.raises(ValueError, match="mode"):
        we.get_all_templates(mode="mean")


def test_extract_folder_mode_matches_numpy(gt16, tmp_path):
    recording, sorting = gt16
    we = gs.extract_waveforms(recording, sorting, folder=tmp_path / "wf", max_spikes_per_unit=9, seed=1,
                              ms_before=0.5, ms_after=1.5, **JOB, sparse=False)
    assert we.folder == (tmp_path / "wf").absolute()
    selected = ref_select(sorting, 9, 1)
    ref = _check_against_reference(we, recording, sorting, selected, True, 0.5, 1.5)
    assert_close(we.get_all_templates(), ref_templates(ref, sorting.unit_ids, "average"))
    assert_close(np.load(tmp_path / "wf" / "templates_average.npy"), ref_templates(ref, sorting.unit_ids, "average"))


def test_same_seed_same_spikes_other_seed_differs(gt16):
    recording, sorting = gt16
    a = gs.extract_waveforms(recording, sorting, mode="memory", max_spikes_per_unit=5, seed=11, **JOB, sparse=False)
    b = gs.extract_waveforms(recording, sorting, mode="memory", max_spikes_per_unit=5, seed=11, **JOB, sparse=False)
    c = gs.extract_waveforms(recording, sorting, mode="memory", max_spikes_per_unit=5, seed=12, **JOB, sparse=False)
    u = sorting.unit_ids[0]
    np.testing.assert_array_equal(a.get_sampled_indices(u), b.get_sampled_indices(u))
    assert not all(np.array_equal(a.get_sampled_indices(v), c.get_sampled_indices(v)) for v in sorting.unit_ids)


@pytest.fixture(scope="module")
def edge_data():
    """Two segments of int16 noise with spikes exactly at and around the window edges."""
    rng = np.random.default_rng(5)
    fs = 10000.0
    lengths = [400, 300]
    traces = [rng.integers(-300, 300, size=(n, 6)).astype("int16") for n in lengths]
    rec = gs.NumpyRecording(traces, sampling_frequency=fs)
    set_test_scaling(rec, np.linspace(0.1, 0.6, 6), np.arange(6) - 2.0)
    nbefore, nafter = nb_na(rec, 1.0, 2.0)  # 10, 20
    times, labels = [], []
    for n in lengths:
        t = np.array([0, 3, nbefore - 1, nbefore, 100, n - nafter - 1, n - nafter, n - 5, n - 1])
        times.append(t)
        labels.append(np.array(["a", "b", "a", "b", "a", "b", "a", "b", "a"]))
    sorting = gs.NumpySorting.from_times_labels(times, labels, fs, unit_ids=["a", "b", "zero"])
    return rec, sorting, nbefore, nafter


def test_edge_spikes_partially_filled_multi_segment_string_ids(edge_data, tmp_path):
    rec, sorting, nbefore, nafter = edge_data
    assert sorting.unit_ids.tolist() == ["a", "b", "zero"]
    we = gs.extract_waveforms(rec, sorting, folder=tmp_path / "edge", max_spikes_per_unit=None,
                              precompute_template=("average", "std"), **JOB, sparse=False)
    selected = np.arange(sorting.to_spike_vector().size)
    ref = _check_against_reference(we, rec, sorting, selected)
    spikes = sorting.to_spike_vector()
    for u, unit_id in enumerate(["a", "b"]):
        mine = spikes[spikes["unit_index"] == u]
        wfs = np.asarray(we.get_waveforms(unit_id))
        for wf, spike in zip(wfs, mine):
            n = rec.get_num_samples(int(spike["segment_index"]))
            frames = np.arange(nbefore + nafter) + int(spike["sample_index"]) - nbefore
            inside = (frames >= 0) & (frames < n)
            # SpikeInterface 0.105: samples outside the segment are 0 (not the offset), the rest are data
            assert not wf[~inside].any()
            scaled = ref_traces(rec, int(spike["segment_index"]), return_scaled=True)
            np.testing.assert_array_equal(wf[inside], scaled[frames[inside]])
        first = mine["sample_index"] < nbefore
        assert first.any() and (~first).any()
    assert we.get_waveforms("zero").shape == (0, nbefore + nafter, 6)
    assert we.get_sampled_indices("zero").size == 0
    templates = we.get_all_templates()
    assert not templates[2].any()
    assert_close(templates[:2], ref_templates(ref, np.array(["a", "b"]), "average"))
    assert_close(we.get_all_templates(mode="std")[:2], ref_templates(ref, np.array(["a", "b"]), "std"))
    # the folder reloads with the same content
    we.save(folder=tmp_path / "edge.zarr", format="zarr")
    for loaded in (gs.load_waveforms(tmp_path / "edge"), gs.load_waveforms(tmp_path / "edge.zarr")):
        for unit_id in ["a", "b", "zero"]:
            np.testing.assert_array_equal(loaded.get_waveforms(unit_id), ref[unit_id])
            np.testing.assert_array_equal(loaded.get_sampled_indices(unit_id), we.get_sampled_indices(unit_id))
        np.testing.assert_array_equal(loaded.get_all_templates(), templates)
        np.testing.assert_array_equal(loaded.get_all_templates(mode="std"), we.get_all_templates(mode="std"))


def test_edge_spikes_with_the_process_engine(edge_data, tmp_path):
    """Processes (a memory-mapped buffer) place edge spikes as in-process runs do (Dask: test_job_dask)."""
    rec, sorting, _, _ = edge_data
    saved = rec.save(folder=tmp_path / "rec", progress_bar=False)  # workers rebuild it from its dict
    mask = np.array([[True, False, True, False, True, False], [False, True, True, True, False, False],
                     [True, True, False, False, False, False]])
    sparsity = gs.ChannelSparsity(mask, sorting.unit_ids, saved.channel_ids)
    kwargs = dict(mode="memory", max_spikes_per_unit=None, n_jobs=2, engine="process", chunk_size=150, **JOB)
    dense = gs.extract_waveforms(saved, sorting, **kwargs, sparse=False)
    sparse = gs.extract_waveforms(saved, sorting, sparsity=sparsity, **kwargs, sparse=False)
    ref = _check_against_reference(dense, rec, sorting, np.arange(sorting.to_spike_vector().size))
    for i, unit_id in enumerate(sorting.unit_ids.tolist()):
        np.testing.assert_array_equal(sparse.get_waveforms(unit_id), ref[unit_id][:, :, mask[i]])


def test_compute_templates_all_spikes_counts_edges(edge_data):
    rec, sorting, nbefore, nafter = edge_data
    tw = gs.compute_templates(rec, sorting, **JOB)
    ref = ref_waveforms(rec, sorting, np.arange(sorting.to_spike_vector().size), dtype="float64")
    mean = np.stack([ref[u].mean(axis=0) if ref[u].shape[0] else np.zeros(ref[u].shape[1:])
                     for u in sorting.unit_ids.tolist()])
    std = np.stack([ref[u].std(axis=0) if ref[u].shape[0] else np.zeros(ref[u].shape[1:])
                    for u in sorting.unit_ids.tolist()])
    assert_close(tw.get_all_templates(mode="average"), mean)
    assert_close(tw.get_all_templates(mode="std"), std)
    assert not tw.has_waveforms()
    with pytest.raises(ValueError, match="no waveforms|templates only"):
        tw.get_waveforms("a")
    with pytest.raises(ValueError, match="median"):
        tw.get_all_templates(mode="median")


def test_compute_templates_generated_vs_numpy(gt16):
    recording, sorting = gt16
    tw = gs.compute_templates(recording, sorting, ms_before=0.8, ms_after=1.2, chunk_duration="0.3s", **JOB)
    ref = ref_waveforms(recording, sorting, np.arange(sorting.to_spike_vector().size), 0.8, 1.2, dtype="float64")
    assert_close(tw.get_all_templates(), ref_templates(ref, sorting.unit_ids, "average"))
    assert_close(tw.get_all_templates(mode="std"), ref_templates(ref, sorting.unit_ids, "std"))
    # a sample: same spikes as extract_waveforms with the same seed
    tw5 = gs.compute_templates(recording, sorting, max_spikes_per_unit=5, seed=3, **JOB)
    ref5 = ref_waveforms(recording, sorting, ref_select(sorting, 5, 3), dtype="float64")
    assert_close(tw5.get_all_templates(), ref_templates(ref5, sorting.unit_ids, "average"))


def test_multi_segment_generated(tmp_path):
    recording, sorting = gt(seed=8, num_channels=8, num_units=3, durations=(1.0, 1.3))
    we = gs.extract_waveforms(recording, sorting, mode="memory", max_spikes_per_unit=6, seed=4,
                              precompute_template=("average", "std"), **JOB, sparse=False)
    selected = ref_select(sorting, 6, 4)
    spikes = sorting.to_spike_vector()
    assert set(spikes["segment_index"][selected]) == {0, 1}
    ref = _check_against_reference(we, recording, sorting, selected)
    assert_close(we.get_all_templates(mode="std"), ref_templates(ref, sorting.unit_ids, "std"))


def test_fewer_spikes_than_max_and_none(edge_data):
    rec, sorting, _, _ = edge_data
    we = gs.extract_waveforms(rec, sorting, mode="memory", max_spikes_per_unit=500, seed=0, **JOB, sparse=False)
    we_all = gs.extract_waveforms(rec, sorting, mode="memory", max_spikes_per_unit=None, **JOB, sparse=False)
    for u in ["a", "b", "zero"]:
        n = sum(len(sorting.get_unit_spike_train(u, segment_index=s)) for s in range(2))
        assert we.get_waveforms(u).shape[0] == n == we_all.get_waveforms(u).shape[0]
        np.testing.assert_array_equal(we.get_waveforms(u), we_all.get_waveforms(u))


def test_input_errors(gt16, tmp_path):
    recording, sorting = gt16
    with pytest.raises(TypeError, match="recording"):
        gs.extract_waveforms(sorting, sorting, mode="memory", **JOB, sparse=False)
    with pytest.raises(ValueError, match="mode"):
        gs.extract_waveforms(recording, sorting, mode="ram", **JOB, sparse=False)
    with pytest.raises(ValueError, match="folder"):
        gs.extract_waveforms(recording, sorting, mode="folder", folder=None, **JOB, sparse=False)
    with pytest.raises(ValueError, match="format"):
        gs.extract_waveforms(recording, sorting, folder=tmp_path / "x", format="hdf5", **JOB, sparse=False)
    with pytest.raises(KeyError):
        gs.extract_waveforms(recording, sorting, mode="memory", max_spikes_per_unit=2, seed=0,
                             **JOB, sparse=False).get_waveforms("no-such-unit")


def test_tasks_cover_the_blocks_and_grow_with_the_accumulators():
    from gpuspike.engine.blocks import group_tasks, plan_job_blocks

    sizes = (1_000_000, 33_333)
    segments = plan_job_blocks(list(sizes), 1000)  # whole segments, 1000-frame blocks
    blocks = [b for sp in segments for b in sp.blocks]
    bytes_per_frame = 8
    # no accumulators: one block a task; else enough blocks to read 8 x the accumulator bytes, but
    # no more than a quarter of the blocks (two tasks for each of 2 workers), never across segments
    for state_bytes, per_task in ((0, 1), (10**5, 100), (10**9, 259)):
        tasks = group_tasks(blocks, bytes_per_frame, state_bytes, n_jobs=2)
        assert [b for t in tasks for b in t] == blocks
        for t in tasks:
            assert len({b.segment_index for b in t}) == 1
        first_segment = [t for t in tasks if t[0].segment_index == 0]
        assert all(len(t) == per_task for t in first_segment[:-1])
        assert 0 < len(first_segment[-1]) <= per_task
