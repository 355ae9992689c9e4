"""gather_waveforms (dense) and gather_waveforms_sparse vs the NumPy reference, bitwise."""
import numpy as np
import pytest
from kernel_testing import assert_bitwise, poison, ref

# (seed, num_samples, num_channels, num_spikes, nbefore, nafter, extra_rows, edges)
CASES = [
    (0, 60, 5, 7, 3, 4, 3, True),  # windows at both chunk edges, some rows never written
    (1, 30, 3, 1, 2, 5, 0, False),  # one spike
    (2, 25, 4, 0, 2, 3, 2, False),  # no spike at all: out stays poisoned
    (3, 40, 2, 5, 0, 6, 1, True),  # nbefore = 0
    (4, 40, 3, 6, 5, 0, 0, True),  # nafter = 0
    (5, 9, 3, 4, 4, 5, 0, False),  # every window is the whole chunk
]


def _spikes(rng, num_samples, num_spikes, nbefore, nafter, edges):
    peaks = rng.integers(nbefore, num_samples - nafter, num_spikes, endpoint=True)
    if edges and num_spikes >= 2:
        peaks[0] = nbefore  # window starts at sample 0
        peaks[-1] = num_samples - nafter  # window ends at the last sample
    return np.sort(peaks).astype(np.int64)


def _dense_inputs(seed, num_samples, num_channels, num_spikes, nbefore, nafter, extra_rows, edges):
    rng = np.random.default_rng(seed)
    traces = rng.integers(-2000, 2000, (num_samples, num_channels)).astype(np.int16)
    peaks = _spikes(rng, num_samples, num_spikes, nbefore, nafter, edges)
    num_rows = num_spikes + extra_rows
    out_rows = rng.permutation(num_rows)[:num_spikes].astype(np.int64)
    return traces, peaks, out_rows, num_rows


@pytest.mark.parametrize("out_dtype", [np.float32, np.int16])
@pytest.mark.parametrize("case", CASES)
def test_gather_dense_matches_reference(device, case, out_dtype):
    seed, num_samples, num_channels, num_spikes, nbefore, nafter, extra_rows, edges = case
    traces, peaks, out_rows, num_rows = _dense_inputs(*case)
    shape = (num_rows, nbefore + nafter, num_channels)
    fill = poison((1,), out_dtype)[0]
    expected = ref.gather_waveforms(traces, peaks, nbefore, nafter, shape, out_rows, out_dtype, fill)
    out = device("gather_waveforms", traces, peaks, nbefore, nafter, poison(shape, out_dtype), out_rows)[4]
    assert_bitwise(out, expected)


def test_gather_dense_casts_float64_to_float32(device):
    rng = np.random.default_rng(21)
    traces = rng.normal(0, 1e3, (30, 3))
    peaks = np.array([4, 11, 25], dtype=np.int64)
    out_rows = np.array([2, 0, 1], dtype=np.int64)
    shape = (3, 7, 3)
    expected = ref.gather_waveforms(traces, peaks, 3, 4, shape, out_rows, np.float32, np.nan)
    out = device("gather_waveforms", traces, peaks, 3, 4, poison(shape, np.float32), out_rows)[4]
    assert_bitwise(out, expected)


def _sparse_inputs(seed, num_samples, num_channels, num_spikes, nbefore, nafter, extra_rows, edges, num_units, kmax):
    traces, peaks, out_rows, num_rows = _dense_inputs(
        seed, num_samples, num_channels, num_spikes, nbefore, nafter, extra_rows, edges
    )
    rng = np.random.default_rng(seed + 1000)
    # last unit never has spikes
    unit_indices = rng.integers(0, max(num_units - 1, 1), num_spikes).astype(np.int64)
    sparse_channels = np.full((num_units, kmax), -1, dtype=np.int64)
    for u in range(num_units):
        k = int(rng.integers(0, min(kmax, num_channels), endpoint=True))  # 0..kmax channels
        sparse_channels[u, :k] = np.sort(rng.choice(num_channels, k, replace=False))
    sparse_channels[0, :] = -1
    sparse_channels[0, : min(kmax, num_channels)] = np.arange(min(kmax, num_channels))[::-1]
    return traces, peaks, out_rows, num_rows, unit_indices, sparse_channels


@pytest.mark.parametrize("num_units,kmax", [(3, 2), (4, 3), (1, 1)])
@pytest.mark.parametrize("case", CASES)
def test_gather_sparse_matches_reference(device, case, num_units, kmax):
    seed, num_samples, num_channels, num_spikes, nbefore, nafter, extra_rows, edges = case
    traces, peaks, out_rows, num_rows, units, sparse_channels = _sparse_inputs(*case, num_units, kmax)
    shape = (num_rows, nbefore + nafter, kmax)
    expected = ref.gather_waveforms_sparse(
        traces, peaks, nbefore, nafter, shape, out_rows, units, sparse_channels, np.float32, np.nan
    )
    out = device(
        "gather_waveforms_sparse", traces, peaks, nbefore, nafter, poison(shape, np.float32), out_rows, units,
        sparse_channels,
    )[4]
    assert_bitwise(out, expected)


def test_gather_sparse_padding_is_zero_not_left_alone(device):
    traces = np.arange(40, dtype=np.int16).reshape(20, 2) + 1  # no zero in the traces
    peaks = np.array([5], dtype=np.int64)
    out_rows = np.array([0], dtype=np.int64)
    units = np.array([0], dtype=np.int64)
    sparse_channels = np.array([[1, -1, -1]], dtype=np.int64)
    out = device(
        "gather_waveforms_sparse", traces, peaks, 2, 3, poison((1, 5, 3), np.float32), out_rows, units,
        sparse_channels,
    )[4]
    expected = ref.gather_waveforms_sparse(
        traces, peaks, 2, 3, (1, 5, 3), out_rows, units, sparse_channels, np.float32, np.nan
    )
    assert_bitwise(out, expected)
    assert not np.isnan(out).any()


@pytest.mark.parametrize(
    "peak,match",
    [(1, "peak_samples"), (17, "peak_samples"), (-3, "peak_samples")],
)
def test_gather_rejects_windows_outside_traces(device, peak, match):
    traces = np.zeros((20, 2), dtype=np.int16)
    peaks = np.array([10, peak], dtype=np.int64)
    out_rows = np.array([0, 1], dtype=np.int64)
    with pytest.raises(ValueError, match=match):
        device("gather_waveforms", traces, peaks, 2, 4, np.zeros((2, 6, 2), np.float32), out_rows)


def test_gather_rejects_bad_rows_units_and_channels(device):
    traces = np.zeros((20, 3), dtype=np.int16)
    peaks = np.array([5, 10], dtype=np.int64)
    out = np.zeros((2, 4, 2), np.float32)
    good_rows = np.array([0, 1], dtype=np.int64)
    units = np.array([0, 1], dtype=np.int64)
    chans = np.array([[0, 1], [2, -1]], dtype=np.int64)
    with pytest.raises(ValueError, match="out_rows"):
        device("gather_waveforms", traces, peaks, 2, 2, np.zeros((2, 4, 3), np.float32), np.array([0, 2]))
    with pytest.raises(ValueError, match="unit_indices"):
        device("gather_waveforms_sparse", traces, peaks, 2, 2, out, good_rows, np.array([0, 2]), chans)
    with pytest.raises(ValueError, match="sparse_channels"):
        device("gather_waveforms_sparse", traces, peaks, 2, 2, out, good_rows, units, chans + 1)
    with pytest.raises(ValueError, match="out"):
        device("gather_waveforms", traces, peaks, 2, 2, np.zeros((2, 5, 3), np.float32), good_rows)


def _gains_offsets(seed, num_channels):
    rng = np.random.default_rng(seed + 500)
    return rng.uniform(0.1, 5.0, num_channels).astype(np.float32), rng.uniform(-50, 50, num_channels).astype(np.float32)


def _assert_scaled(device, out, expected):
    if device.exact_float:
        assert_bitwise(out, expected)
    else:  # a real GPU may fuse the multiply-add: one rounding fewer
        np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("case", CASES)
def test_gather_dense_scaled_is_scale_then_gather(device, case):
    seed, num_samples, num_channels, num_spikes, nbefore, nafter, extra_rows, edges = case
    traces, peaks, out_rows, num_rows = _dense_inputs(*case)
    gains, offsets = _gains_offsets(seed, num_channels)
    shape = (num_rows, nbefore + nafter, num_channels)
    expected = ref.gather_waveforms(ref.scale(traces, gains, offsets), peaks, nbefore, nafter, shape, out_rows,
                                    np.float32, np.nan)
    out = device("gather_waveforms", traces, peaks, nbefore, nafter, poison(shape, np.float32), out_rows, gains,
                 offsets)[4]
    _assert_scaled(device, out, expected)
    if num_spikes:  # the scaling did something
        assert not np.array_equal(out, ref.gather_waveforms(traces, peaks, nbefore, nafter, shape, out_rows,
                                                            np.float32, np.nan))


@pytest.mark.parametrize("case", CASES)
def test_gather_sparse_scaled_is_scale_then_gather(device, case):
    seed, num_samples, num_channels, num_spikes, nbefore, nafter, extra_rows, edges = case
    traces, peaks, out_rows, num_rows, units, sparse_channels = _sparse_inputs(*case, 3, 2)
    gains, offsets = _gains_offsets(seed, num_channels)
    shape = (num_rows, nbefore + nafter, 2)
    expected = ref.gather_waveforms_sparse(ref.scale(traces, gains, offsets), peaks, nbefore, nafter, shape, out_rows,
                                           units, sparse_channels, np.float32, np.nan)
    out = device("gather_waveforms_sparse", traces, peaks, nbefore, nafter, poison(shape, np.float32), out_rows,
                 units, sparse_channels, gains, offsets)[4]
    _assert_scaled(device, out, expected)


def test_gather_scaled_rejects_half_or_wrong_scaling(device):
    traces = np.zeros((20, 3), dtype=np.int16)
    peaks = np.array([5, 10], dtype=np.int64)
    rows = np.array([0, 1], dtype=np.int64)
    out = np.zeros((2, 4, 3), np.float32)
    gains = np.ones(3, np.float32)
    with pytest.raises(ValueError, match="gains and offsets"):
        device("gather_waveforms", traces, peaks, 2, 2, out, rows, gains, None)
    with pytest.raises(ValueError, match="gains"):
        device("gather_waveforms", traces, peaks, 2, 2, out, rows, np.ones(2, np.float32), gains)
    with pytest.raises(TypeError, match="offsets"):
        device("gather_waveforms", traces, peaks, 2, 2, out, rows, gains, np.zeros(3, np.float64))
