"""Stream discipline of the GPU path (numba's simulator): every kernel of a job on the job's own
stream, only results copied back, correct with per-thread default streams."""
import os
import subprocess
import sys

import numpy as np
import pytest

import gpuspike as gs
from gpuspike.kernels._launch import launch_log

from _engine_data import MS, recording, sorting

JOB = dict(progress_bar=False, backend="cuda")


@pytest.fixture(scope="module")
def data():
    rec = recording(lengths=(900, 600), seed=3)
    return rec, sorting(rec, seed=4)


@pytest.fixture
def cuda_sim():
    if os.environ.get("NUMBA_ENABLE_CUDASIM") != "1":
        pytest.skip("these checks use numba's simulator to observe launches and copies")


def test_every_launch_of_a_job_is_on_its_compute_stream(data, cuda_sim):
    rec, srt = data
    log = launch_log()
    log.clear()
    gs.extract_waveforms(rec, srt, mode="memory", max_spikes_per_unit=5, seed=0, sparse=True, method="best_channels",
                         num_channels=2, num_spikes_for_sparsity=6, precompute_template=("average", "std"),
                         chunk_size=150, **MS, **JOB)
    kernels = {r.kernel for r in log}
    # the sparsity estimate, the gather and the templates of the gathered waveforms all ran on the device
    assert {"templates.window_sums", "templates.templates_from_sums", "extremum.channel_amplitudes",
            "sparsity.best_channels_sparsity", "gather.gather_waveforms_sparse",
            "template_sums.waveform_sums"} <= kernels, kernels
    assert all(r.stream is not None for r in log), [r.kernel for r in log if r.stream is None]
    log.clear()
    gs.compute_templates(rec, srt, chunk_size=150, **MS, **JOB)
    streams = {id(r.stream) for r in log}
    assert len(streams) == 1 and None not in {r.stream for r in log}  # one job, one compute stream


def _count_copies_back(monkeypatch):
    from numba.cuda.simulator.cudadrv.devicearray import FakeCUDAArray

    calls = []
    original = FakeCUDAArray.copy_to_host

    def counting(self, *args, **kwargs):
        calls.append(self.shape)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(FakeCUDAArray, "copy_to_host", counting)
    return calls


@pytest.mark.parametrize("chunk_size", [1500, 120, 60])
def test_only_results_come_back_from_the_device(data, cuda_sim, monkeypatch, chunk_size):
    """The number of device-to-host copies does not grow with the number of blocks: no per-block
    synchronisation, no index check reduced on the device; only mean and std come back."""
    rec, srt = data
    calls = _count_copies_back(monkeypatch)
    gs.compute_templates(rec, srt, chunk_size=chunk_size, **MS, **JOB)
    assert len(calls) == 2, calls  # the mean and the std, nothing per block
    assert all(shape == (3, 10, 5) for shape in calls)


def test_dense_gather_copies_the_waveforms_back_once(data, cuda_sim, monkeypatch):
    rec, srt = data
    calls = _count_copies_back(monkeypatch)
    gs.extract_waveforms(rec, srt, mode="memory", max_spikes_per_unit=5, seed=0, sparse=False,
                         precompute_template=("average", "std"), chunk_size=100, **MS, **JOB)
    # waveforms buffer + mean + std, whatever the number of blocks
    assert sorted(len(s) for s in calls) == [3, 3, 3], calls


_PER_THREAD = r"""
import numpy as np, gpuspike as gs
import sys
sys.path.insert(0, sys.argv[1])
from _engine_data import MS, recording, sorting
rec = recording(lengths=(600, 400), seed=9)
srt = sorting(rec, seed=10)
out = {}
for backend in ("numpy", "cuda"):
    tw = gs.compute_templates(rec, srt, backend=backend, chunk_size=100, progress_bar=False, **MS)
    we = gs.extract_waveforms(rec, srt, mode="memory", max_spikes_per_unit=4, seed=1, sparse=False, backend=backend,
                              chunk_size=100, progress_bar=False, **MS)
    out[backend] = (tw.get_all_templates(mode="std"), [we.get_waveforms(u) for u in srt.unit_ids])
assert np.allclose(out["numpy"][0], out["cuda"][0], rtol=1e-6, atol=1e-9)
assert all(np.array_equal(a, b) for a, b in zip(out["numpy"][1], out["cuda"][1]))
print("EQUAL")
"""


def test_correct_with_per_thread_default_streams(tmp_path, cuda_sim):
    env = dict(os.environ, NUMBA_CUDA_PER_THREAD_DEFAULT_STREAM="1", CUPY_CUDA_PER_THREAD_DEFAULT_STREAM="1")
    here = os.path.dirname(__file__)
    proc = subprocess.run([sys.executable, "-c", _PER_THREAD, here], capture_output=True, text=True, env=env,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "EQUAL" in proc.stdout


def test_ring_streams_are_the_backends_streams(cuda_sim):
    """The ring's device buffers each get a stream from the backend (non-blocking on a GPU)."""
    from gpuspike.backends import DeviceStream, get_backend
    from gpuspike.streaming import RingBuffer

    be = get_backend("cuda")
    made = []

    def new_stream():
        s = be.new_stream()
        made.append(s)
        return s

    ring = RingBuffer(16, 3, "int16", num_slots=3, device=True, num_device_buffers=2, new_stream=new_stream)
    assert len(made) == 2 and all(isinstance(s, DeviceStream) for s in made)
    assert [ring.stream(d) for d in range(2)] == [s.numba for s in made]
    np.testing.assert_array_equal(np.asarray(ring.host[0]).shape, (16, 3))
