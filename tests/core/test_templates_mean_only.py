"""compute_templates(with_std=False): raw integer sums scaled once equal the scaled-sample mean."""
import numpy as np
import pytest

import gpuspike as gs


@pytest.mark.parametrize("backend", ["numpy", "cuda"])
def test_mean_only_equals_mean_of_scaled_windows(backend):
    rng = np.random.default_rng(4)
    fs, n, nbefore, nafter = 10000.0, 4000, 10, 20
    traces = rng.integers(-2000, 2000, (n, 5)).astype("int16")
    recording = gs.NumpyRecording([traces], fs)
    gains, offsets = rng.uniform(0.1, 3.0, 5), rng.uniform(-50, 50, 5)
    recording.set_channel_gains(gains)
    recording.set_channel_offsets(offsets)  # offsets: outside the segment, edge spikes add zeros
    frames = np.array([3, 100, 101, 700, 1500, 2500, 3990, 3995])  # first and last two are edge spikes
    labels = np.array([0, 1, 0, 1, 2, 0, 2, 1])
    sorting = gs.NumpySorting.from_times_labels(frames, labels, fs)
    we = gs.compute_templates(recording, sorting, ms_before=1.0, ms_after=2.0, with_std=False, backend=backend,
                              chunk_size=1000, progress_bar=False)
    assert "std" not in we._template_cache
    scaled = traces.astype("float64") * gains + offsets  # scaled here, from the values set above
    expected = np.zeros((3, nbefore + nafter, 5))
    for unit in range(3):
        windows = []
        for f in frames[labels == unit]:  # partially filled: zeros outside [0, n)
            window = np.zeros((nbefore + nafter, 5))
            inside = np.arange(f - nbefore, f + nafter)
            keep = (inside >= 0) & (inside < n)
            window[keep] = scaled[inside[keep]]
            windows.append(window)
        expected[unit] = np.mean(windows, axis=0)
    np.testing.assert_allclose(we.get_all_templates(), expected, rtol=1e-5, atol=1e-4)
    full = gs.compute_templates(recording, sorting, ms_before=1.0, ms_after=2.0, backend=backend, chunk_size=1000,
                                progress_bar=False)
    np.testing.assert_allclose(we.get_all_templates(), full.get_all_templates(), rtol=1e-5, atol=1e-4)
