"""Sparsity masks (radius, best channels, SNR) vs the NumPy reference (exact).

Each kernel runs twice, on an all-True and on an all-False output, so that an element the kernel
fails to write is caught either way.
"""
import numpy as np
import pytest
from kernel_testing import ref


def _run_both_poisons(device, name, *args):
    *inputs, shape = args
    results = []
    for fill in (True, False):
        results.append(device(name, *inputs, np.full(shape, fill, dtype=bool))[len(inputs)])
    return results


def _grid_locations(num_channels, pitch=20.0):
    # Neuropixels-like: 2 columns, rows every `pitch` µm; integers, exact distances
    return np.stack([(np.arange(num_channels) % 2) * pitch, (np.arange(num_channels) // 2) * pitch], axis=1)


@pytest.mark.parametrize(
    "seed,num_channels,num_units,ndim,radius,grid",
    [
        (0, 10, 4, 2, 20.0, True),  # radius equal to the pitch: boundary channels are kept
        (1, 9, 3, 2, 35.0, False),
        (2, 7, 5, 3, 50.0, False),
        (3, 6, 2, 2, 0.0, True),  # only the extremum channel itself
        (4, 5, 0, 2, 30.0, True),  # no unit
    ],
)
def test_radius_matches_reference(device, seed, num_channels, num_units, ndim, radius, grid):
    rng = np.random.default_rng(seed)
    if grid:
        locations = _grid_locations(num_channels)
    else:
        locations = rng.uniform(0, 100, (num_channels, ndim))
    extremum = rng.integers(0, num_channels, num_units).astype(np.int64)
    expected = ref.radius_sparsity(locations, extremum, radius)
    for out in _run_both_poisons(device, "radius_sparsity", locations, extremum, radius, (num_units, num_channels)):
        np.testing.assert_array_equal(out, expected)
    if grid and radius == 20.0:
        assert expected.sum(axis=1).min() >= 2  # the boundary really is inclusive in this case


@pytest.mark.parametrize("num_channels_kept", [0, 1, 3, 6, 9])
@pytest.mark.parametrize("tied", [False, True])
def test_best_channels_matches_reference(device, num_channels_kept, tied):
    rng = np.random.default_rng(10 + num_channels_kept + 100 * tied)
    num_units, num_channels = 4, 6
    if tied:  # ties in |amplitude|, also between +x and -x
        amplitudes = rng.integers(-2, 3, (num_units, num_channels)).astype(np.float32)
    else:
        amplitudes = rng.normal(0, 30, (num_units, num_channels)).astype(np.float32)
    expected = ref.best_channels_sparsity(amplitudes, num_channels_kept)
    for out in _run_both_poisons(
        device, "best_channels_sparsity", amplitudes, num_channels_kept, (num_units, num_channels)
    ):
        np.testing.assert_array_equal(out, expected)
        np.testing.assert_array_equal(out.sum(axis=1), min(num_channels_kept, num_channels))


@pytest.mark.parametrize("seed,threshold", [(0, 5.0), (1, 2.5), (2, 0.0)])
def test_snr_matches_reference(device, seed, threshold):
    rng = np.random.default_rng(seed)
    num_units, num_channels = 5, 7
    amplitudes = rng.normal(0, 40, (num_units, num_channels))
    noise = rng.uniform(2, 10, num_channels).astype(np.float32)
    # exact boundary: |amp| / noise == threshold must be kept
    amplitudes[0, 0] = -threshold * 4.0
    noise[0] = 4.0
    expected = ref.snr_sparsity(amplitudes, noise, threshold)
    assert expected[0, 0]
    for out in _run_both_poisons(device, "snr_sparsity", amplitudes, noise, threshold, (num_units, num_channels)):
        np.testing.assert_array_equal(out, expected)


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning", "ignore:invalid value:RuntimeWarning")
def test_snr_zero_noise_follows_ieee(device):
    amplitudes = np.array([[3.0, 0.0]])
    noise = np.array([0.0, 0.0])
    expected = ref.snr_sparsity(amplitudes, noise, 1.0)  # inf >= 1 True, nan >= 1 False
    for out in _run_both_poisons(device, "snr_sparsity", amplitudes, noise, 1.0, (1, 2)):
        np.testing.assert_array_equal(out, expected)


def test_sparsity_rejects_bad_arguments(device):
    locations = _grid_locations(4)
    with pytest.raises(ValueError, match="extremum_channels"):
        device("radius_sparsity", locations, np.array([0, 4]), 10.0, np.zeros((2, 4), bool))
    with pytest.raises(TypeError, match="out"):
        device("radius_sparsity", locations, np.array([0, 1]), 10.0, np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match="num_channels"):
        device("best_channels_sparsity", np.zeros((2, 4)), -1, np.zeros((2, 4), bool))
    with pytest.raises(ValueError, match="noise_levels"):
        device("snr_sparsity", np.zeros((2, 4)), np.ones(3), 5.0, np.zeros((2, 4), bool))
