"""The whole CUDA path on a real GPU (marked ``gpu``): a saved Neuropixels-sized recording through
the pinned ring, waveforms / templates / sparsity / noise levels equal to the NumPy backend's.

Run on a GPU machine with ``GPUSPIKE_REAL_GPU=1 python -m pytest -m gpu`` (a missing GPU then
fails these tests instead of skipping them).
"""
import numpy as np
import pytest

import gpuspike as gs

pytestmark = pytest.mark.gpu


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    recording, sorting = gs.generate_ground_truth_recording(
        durations=[12.0, 3.0], num_channels=384, num_units=60, probe="neuropixels", dtype="int16",
        gain_to_uV=2.34375, seed=0)
    folder = tmp_path_factory.mktemp("gpu") / "recording"
    rec = recording.save(folder=folder, progress_bar=False, n_jobs=2)
    rec.set_channel_offsets(np.linspace(-8.0, 8.0, 384).astype("float32"))  # non-zero, per channel
    return rec, sorting


def _both(func):
    return {backend: func(backend) for backend in ("numpy", "cuda")}


def _close(a, b, rtol=1e-6):
    np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * float(np.abs(a).max()))


@pytest.mark.parametrize("sparse", [False, True])
def test_waveforms_and_templates_equal_numpy(saved, sparse):
    rec, srt = saved
    out = _both(lambda b: gs.extract_waveforms(rec, srt, mode="memory", max_spikes_per_unit=200, seed=0,
                                               sparse=sparse, method="radius", radius_um=60.0,
                                               precompute_template=("average", "std"), backend=b,
                                               progress_bar=False))
    if sparse:
        np.testing.assert_array_equal(out["numpy"].sparsity.mask, out["cuda"].sparsity.mask)
    for u in srt.unit_ids:
        np.testing.assert_array_equal(out["numpy"].get_waveforms(u), out["cuda"].get_waveforms(u))
    for mode in ("average", "std"):
        _close(out["numpy"].get_all_templates(mode=mode), out["cuda"].get_all_templates(mode=mode))


@pytest.mark.parametrize("job_kwargs", [dict(chunk_duration="1s"), dict(chunk_memory="3M"),
                                        dict(total_memory="64M")])
def test_templates_of_every_spike_equal_numpy(saved, job_kwargs):
    rec, srt = saved
    out = _both(lambda b: gs.compute_templates(rec, srt, backend=b, progress_bar=False, **job_kwargs))
    for mode in ("average", "std"):
        _close(out["numpy"].get_all_templates(mode=mode), out["cuda"].get_all_templates(mode=mode))


@pytest.mark.parametrize("method,kwargs", [("best_channels", dict(num_channels=8)), ("snr", dict(threshold=3.0))])
def test_sparsity_methods_equal_numpy(saved, method, kwargs):
    rec, srt = saved
    out = _both(lambda b: gs.extract_waveforms(rec, srt, mode="memory", max_spikes_per_unit=20, seed=1, sparse=True,
                                               method=method, backend=b, progress_bar=False, **kwargs))
    np.testing.assert_array_equal(out["numpy"].sparsity.mask, out["cuda"].sparsity.mask)


@pytest.mark.parametrize("method", ["mad", "std"])
def test_noise_levels_equal_numpy(saved, method):
    rec, _ = saved
    out = _both(lambda b: gs.get_noise_levels(rec, method=method, force_recompute=True, backend=b))
    _close(out["numpy"], out["cuda"])


def test_kernels_accept_cupy_arrays_and_match_the_cpu_bitwise():
    import cupy

    from gpuspike.kernels import gather_waveforms_cpu, gather_waveforms_cuda

    rng = np.random.default_rng(0)
    traces = rng.integers(-2000, 2000, (30_000, 384)).astype(np.int16)
    peaks = np.sort(rng.choice(np.arange(40, 29_940), 500, replace=False)).astype(np.int64)
    gains = rng.uniform(0.1, 3.0, 384).astype(np.float32)
    offsets = rng.uniform(-10, 10, 384).astype(np.float32)
    rows = np.arange(500, dtype=np.int64)
    cpu = gather_waveforms_cpu(traces, peaks, 30, 60, np.zeros((500, 90, 384), np.float32), rows, gains, offsets)
    gpu = cupy.zeros((500, 90, 384), cupy.float32)
    gather_waveforms_cuda(cupy.asarray(traces), cupy.asarray(peaks), 30, 60, gpu, cupy.asarray(rows),
                          cupy.asarray(gains), cupy.asarray(offsets))
    np.testing.assert_array_equal(cupy.asnumpy(gpu), cpu)  # no fused multiply-add: the CPU's bits


@pytest.mark.parametrize("sparse", [False, True])
def test_sorting_analyzer_equals_numpy(saved, sparse, tmp_path):
    """Today's API on the GPU: main channels, sparsity, waveforms (fused with the average / std
    templates), median templates, templates without waveforms, noise levels; stored in zarr."""
    rec, srt = saved

    def run(backend):
        an = gs.create_sorting_analyzer(srt, rec, format="zarr", folder=tmp_path / backend, sparse=sparse,
                                        seed=0, backend=backend)
        an.compute({"random_spikes": {"max_spikes_per_unit": 200, "seed": 0}, "waveforms": {},
                    "templates": {"operators": ["average", "std", "median"]},
                    "noise_levels": {"random_slices_kwargs": {"seed": 0}}})
        lean = gs.create_sorting_analyzer(srt, rec, sparse=sparse, seed=0, backend=backend)
        lean.compute(["random_spikes", "templates"])
        return gs.load_sorting_analyzer(an.folder), lean

    (cpu, cpu_lean), (gpu, gpu_lean) = run("numpy"), run("cuda")
    np.testing.assert_array_equal(cpu.get_main_channels(), gpu.get_main_channels())
    if sparse:
        np.testing.assert_array_equal(cpu.sparsity.mask, gpu.sparsity.mask)
    np.testing.assert_array_equal(cpu.get_extension("waveforms").get_data(), gpu.get_extension("waveforms").get_data())
    for op in ("average", "std", "median"):
        _close(cpu.get_extension("templates").get_data(operator=op),
               gpu.get_extension("templates").get_data(operator=op))
    for op in ("average", "std"):
        _close(cpu_lean.get_extension("templates").get_data(operator=op),
               gpu_lean.get_extension("templates").get_data(operator=op), rtol=1e-5)
    _close(cpu.get_extension("noise_levels").get_data(), gpu.get_extension("noise_levels").get_data())
