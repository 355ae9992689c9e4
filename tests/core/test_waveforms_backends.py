"""Same seed → same spikes → same waveforms on every backend and every engine."""
import numpy as np
import pytest

import gpuspike as gs

from _waveforms_helpers import JOB, assert_close, gt, ref_select, ref_templates, ref_waveforms, set_test_scaling


@pytest.fixture(scope="module")
def small():
    # small enough for numba's CUDA simulator (one Python thread per device thread)
    return gt(seed=21, num_channels=4, num_units=3, durations=(0.6, 0.4), rate=12.0)


def test_backends_give_identical_waveforms_and_templates(small, backend_name):
    recording, sorting = small
    we = gs.extract_waveforms(recording, sorting, mode="memory", max_spikes_per_unit=4, seed=5, ms_before=0.4,
                              ms_after=0.6, precompute_template=("average", "std"), backend=backend_name, **JOB,
                              sparse=False)
    selected = ref_select(sorting, 4, 5)
    ref = ref_waveforms(recording, sorting, selected, 0.4, 0.6, dtype="float32")
    for u in sorting.unit_ids.tolist():
        np.testing.assert_array_equal(we.get_waveforms(u), ref[u])  # bitwise, on every backend
    assert_close(we.get_all_templates(), ref_templates(ref, sorting.unit_ids, "average"))
    assert_close(we.get_all_templates(mode="std"), ref_templates(ref, sorting.unit_ids, "std"))


def test_backends_give_identical_sparse_waveforms(small, backend_name):
    recording, sorting = small
    mask = np.array([[True, True, False, False], [False, True, False, True], [False, False, True, False]])
    sparsity = gs.ChannelSparsity(mask, sorting.unit_ids, recording.channel_ids)
    we = gs.extract_waveforms(recording, sorting, mode="memory", max_spikes_per_unit=3, seed=2, ms_before=0.4,
                              ms_after=0.6, sparsity=sparsity, backend=backend_name, **JOB, sparse=False)
    ref = ref_waveforms(recording, sorting, ref_select(sorting, 3, 2), 0.4, 0.6, dtype="float32")
    for i, u in enumerate(sorting.unit_ids.tolist()):
        np.testing.assert_array_equal(we.get_waveforms(u), ref[u][:, :, mask[i]])


def test_backends_give_identical_compute_templates(small, backend_name):
    recording, sorting = small
    tw = gs.compute_templates(recording, sorting, ms_before=0.4, ms_after=0.6, backend=backend_name, **JOB)
    ref = ref_waveforms(recording, sorting, np.arange(sorting.to_spike_vector().size), 0.4, 0.6, dtype="float64")
    assert_close(tw.get_all_templates(), ref_templates(ref, sorting.unit_ids, "average"))
    assert_close(tw.get_all_templates(mode="std"), ref_templates(ref, sorting.unit_ids, "std"))


@pytest.fixture(scope="module")
def medium():
    return gt(seed=4, num_channels=8, num_units=4, durations=(1.5, 1.0), rate=20.0)


def _compare_engines(recording, sorting, engine_kwargs, templates=True):
    common = dict(max_spikes_per_unit=15, seed=9, chunk_duration="0.2s", backend="numpy",
                  precompute_template=("average", "std"), **JOB)
    # the parallel run first: a fresh interpreter has run no numba parallel kernel before it forks
    par = gs.extract_waveforms(recording, sorting, mode="memory", **engine_kwargs, **common, sparse=False)
    ref = ref_waveforms(recording, sorting, ref_select(sorting, 15, 9), dtype="float32")
    for u in sorting.unit_ids.tolist():
        np.testing.assert_array_equal(par.get_waveforms(u), ref[u])
    assert_close(par.get_all_templates(mode="std"), ref_templates(ref, sorting.unit_ids, "std"))
    if not templates:  # (a fresh interpreter compiles every kernel: keep it short)
        return
    tp = gs.compute_templates(recording, sorting, chunk_duration="0.2s", backend="numpy", **engine_kwargs, **JOB)
    one = gs.extract_waveforms(recording, sorting, mode="memory", n_jobs=1, **common, sparse=False)
    for u in sorting.unit_ids.tolist():
        np.testing.assert_array_equal(one.get_waveforms(u), ref[u])
    np.testing.assert_array_equal(par.get_all_templates(), one.get_all_templates())
    t1 = gs.compute_templates(recording, sorting, chunk_duration="0.2s", n_jobs=1, backend="numpy", **JOB)
    assert_close(tp.get_all_templates(), t1.get_all_templates())
    assert_close(tp.get_all_templates(mode="std"), t1.get_all_templates(mode="std"))


def test_thread_engine_gives_identical_results(medium):
    _compare_engines(*medium, dict(n_jobs=2, engine="thread"))


_FORK_SCRIPT = """
import sys
sys.path.insert(0, {tests_dir!r})
import os
os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")
from _waveforms_helpers import gt
from test_waveforms_backends import _compare_engines
_compare_engines(*gt(seed=4, num_channels=8, num_units=4, durations=(1.5, 1.0), rate=20.0),
                 dict(n_jobs=2, engine="process", mp_context="fork"), templates=False)
print("OK")
"""


def test_process_fork_engine_gives_identical_results():
    """engine="process" with fork, in a fresh interpreter: fork is only safe before numba starts its
    GNU OpenMP threads, and this pytest process has run parallel kernels already."""
    import subprocess
    import sys
    from pathlib import Path

    tests_dir = str(Path(__file__).parent)
    res = subprocess.run([sys.executable, "-c", _FORK_SCRIPT.format(tests_dir=tests_dir)], capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0 and "OK" in res.stdout, res.stdout[-3000:] + res.stderr[-3000:]


def test_process_engine_needs_dumpable_recording(medium):
    recording, sorting = medium
    mem = gs.NumpyRecording([recording.get_traces(segment_index=s) for s in range(2)], recording.sampling_frequency)
    mem.set_channel_gains(0.5)
    mem.set_channel_offsets(0.0)
    with pytest.raises(gs.core.errors.NotDumpableError, match="in-memory object"):
        gs.extract_waveforms(mem, sorting, mode="memory", max_spikes_per_unit=3, n_jobs=2, engine="process",
                             mp_context="fork", backend="numpy", **JOB, sparse=False)


def test_backends_cut_edge_spikes_the_same(backend_name):
    """Spikes at and near both edges of two segments: partially filled windows on every backend."""
    rng = np.random.default_rng(9)
    fs, lengths = 10000.0, [120, 90]
    recording = gs.NumpyRecording([rng.integers(-900, 900, (n, 4)).astype("int16") for n in lengths], fs)
    set_test_scaling(recording, rng.uniform(0.1, 2.0, 4), rng.uniform(-20, 20, 4))
    recording.set_channel_locations(np.c_[np.zeros(4), 25.0 * np.arange(4)])
    frames = [np.array([0, 2, 5, 50, 110, 117, 119]), np.array([1, 4, 40, 82, 85, 89])]
    labels = [np.array([0, 1, 0, 1, 0, 1, 0]), np.array([1, 0, 1, 0, 1, 0])]
    sorting = gs.NumpySorting.from_times_labels(frames, labels, fs)
    kwargs = dict(ms_before=0.5, ms_after=0.8, backend=backend_name, chunk_size=40, **JOB)  # 5 + 8 samples
    ref = ref_waveforms(recording, sorting, np.arange(13), 0.5, 0.8, dtype="float32")
    we = gs.extract_waveforms(recording, sorting, mode="memory", max_spikes_per_unit=None,
                              precompute_template=("average", "std"), **kwargs, sparse=False)
    for i, u in enumerate(sorting.unit_ids.tolist()):
        np.testing.assert_array_equal(we.get_waveforms(u), ref[u])
        first = int(frames[0][labels[0] == i][0])  # its window starts 5 - first samples before the segment
        assert not ref[u][0, :5 - first].any() and ref[u][0, 5 - first:].all()
    assert_close(we.get_all_templates(), ref_templates(ref, sorting.unit_ids, "average"))
    assert_close(we.get_all_templates(mode="std"), ref_templates(ref, sorting.unit_ids, "std"))
    mask = np.array([[True, False, True, False], [False, True, True, True]])
    sparse = gs.extract_waveforms(recording, sorting, mode="memory", max_spikes_per_unit=None,
                                  sparsity=gs.ChannelSparsity(mask, sorting.unit_ids, recording.channel_ids), **kwargs,
                                  sparse=False)
    for i, u in enumerate(sorting.unit_ids.tolist()):
        np.testing.assert_array_equal(sparse.get_waveforms(u), ref[u][:, :, mask[i]])
    for with_std in (True, False):
        tw = gs.compute_templates(recording, sorting, with_std=with_std, **kwargs)
        assert_close(tw.get_all_templates(), ref_templates(ref, sorting.unit_ids, "average"))
        if with_std:
            assert_close(tw.get_all_templates(mode="std"), ref_templates(ref, sorting.unit_ids, "std"))
