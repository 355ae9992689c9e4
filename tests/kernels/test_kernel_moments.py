"""accumulate_moments (int64 raw sums and sums of squares) and templates_from_sums on raw moments,
vs the NumPy references and vs the shifted float64 path."""
import numpy as np
import pytest
from kernel_testing import assert_bitwise, assert_close, poison, ref
from test_kernel_templates import CASES, _inputs


def _int_reference(traces, peaks, units, nbefore, nafter, num_units):
    """Sums and sums of squares in Python-exact int64 (NumPy, spike by spike)."""
    nsamples = nbefore + nafter
    sums = np.zeros((num_units, nsamples, traces.shape[1]), np.int64)
    sumsqs = np.zeros_like(sums)
    for p, u in zip(peaks.tolist(), units.tolist()):
        w = traces[p - nbefore:p + nafter].astype(np.int64)
        sums[u] += w
        sumsqs[u] += w * w
    return sums, sumsqs, np.bincount(units, minlength=num_units).astype(np.int64)


@pytest.mark.parametrize("dtype", [np.int16, np.uint16, np.int8, np.uint8, np.float64])
@pytest.mark.parametrize("case", CASES)
def test_accumulate_moments_adds_windows_and_squares_to_existing_sums(device, case, dtype):
    seed, num_samples, num_channels, num_spikes, num_units, nbefore, nafter = case
    traces, peaks, units = _inputs(*case)  # within +-1000
    values = traces.astype(np.int64) // (8 if np.dtype(dtype).itemsize == 1 else 1)
    if np.dtype(dtype).kind == "u":
        values = values + (int(np.iinfo(dtype).max) + 1) // 2  # centred in the unsigned range
    traces = values.astype(dtype)
    assert np.array_equal(traces.astype(np.int64), values)
    rng = np.random.default_rng(seed + 200)
    shape = (num_units, nbefore + nafter, num_channels)
    sums0 = rng.integers(-10**6, 10**6, shape)  # catches a kernel that overwrites instead of adding
    sumsqs0 = rng.integers(0, 10**9, shape)
    counts0 = rng.integers(0, 5, num_units)
    exp_sums, exp_sumsqs, exp_counts = _int_reference(traces, peaks, units, nbefore, nafter, num_units)
    grouped, bounds = ref.group_by_unit(peaks, units, num_units)
    res = device("accumulate_moments", traces, grouped, bounds, nbefore, nafter, sums0.copy(), sumsqs0.copy(),
                 counts0.copy())
    np.testing.assert_array_equal(res[5], sums0 + exp_sums)
    np.testing.assert_array_equal(res[6], sumsqs0 + exp_sumsqs)
    np.testing.assert_array_equal(res[7], counts0 + exp_counts)


def test_accumulate_moments_every_count_of_windows_per_unit(device):
    """Units holding 0 to 19 windows: every mix of the kernel's passes of eight, four and one window."""
    rng = np.random.default_rng(7)
    traces = rng.integers(-3000, 3000, (400, 5)).astype(np.int16)
    units = np.repeat(np.arange(20), np.arange(20))
    peaks = rng.integers(3, 396, units.size).astype(np.int64)
    grouped, bounds = ref.group_by_unit(peaks, units, 20)
    shape = (20, 7, 5)
    res = device("accumulate_moments", traces, grouped, bounds, 3, 4, np.zeros(shape, np.int64),
                 np.zeros(shape, np.int64), np.zeros(20, np.int64))
    exp_sums, exp_sumsqs, _ = _int_reference(traces, peaks, units, 3, 4, 20)
    np.testing.assert_array_equal(res[5], exp_sums)
    np.testing.assert_array_equal(res[6], exp_sumsqs)
    np.testing.assert_array_equal(res[7], np.arange(20))


def test_accumulate_moments_is_exact_at_the_ends_of_the_range(device):
    """Full-scale int16 and uint16 windows, many spikes: sums of squares beyond 2**32, exact."""
    for dtype in (np.int16, np.uint16):
        info = np.iinfo(dtype)
        traces = np.full((64, 3), info.min, dtype)
        traces[::2, 1] = info.max
        traces[:, 2] = info.max
        peaks = np.arange(2, 60, dtype=np.int64)  # 58 overlapping windows of one unit
        bounds = np.array([0, peaks.size], np.int64)
        shape = (1, 4, 3)
        res = device("accumulate_moments", traces, peaks, bounds, 2, 2, np.zeros(shape, np.int64),
                     np.zeros(shape, np.int64), np.zeros(1, np.int64))
        exp = _int_reference(traces, peaks, np.zeros(peaks.size, np.int64), 2, 2, 1)
        np.testing.assert_array_equal(res[5], exp[0])
        np.testing.assert_array_equal(res[6], exp[1])
        assert int(res[6].max()) > 2**32


@pytest.mark.parametrize("case", CASES)
def test_accumulate_moments_cuda_equals_cpu(cuda_device, cpu, case):
    seed, num_samples, num_channels, num_spikes, num_units, nbefore, nafter = case
    traces, peaks, units = _inputs(*case)
    grouped, bounds = ref.group_by_unit(peaks, units, num_units)
    shape = (num_units, nbefore + nafter, num_channels)
    args = (np.zeros(shape, np.int64), np.zeros(shape, np.int64), np.zeros(num_units, np.int64))
    a = cuda_device("accumulate_moments", traces, grouped, bounds, nbefore, nafter, *[x.copy() for x in args])
    b = cpu("accumulate_moments", traces, grouped, bounds, nbefore, nafter, *[x.copy() for x in args])
    for i in (5, 6, 7):
        assert_bitwise(a[i], b[i])


@pytest.mark.parametrize("scaled", [False, True])
@pytest.mark.parametrize("case", CASES)
def test_raw_moments_give_the_bits_of_shifted_sums(device, case, scaled):
    """templates_from_sums on int64 moments and the reference equals templates_from_sums on the
    shifted float64 sums of accumulate_templates, bit for bit, and the NumPy mean and std."""
    seed, num_samples, num_channels, num_spikes, num_units, nbefore, nafter = case
    traces, peaks, units = _inputs(*case)
    shape = (num_units, nbefore + nafter, num_channels)
    shift = np.random.default_rng(seed + 300).integers(-1000, 1000, shape).astype(np.float64)
    grouped, bounds = ref.group_by_unit(peaks, units, num_units)
    moments = device("accumulate_moments", traces, grouped, bounds, nbefore, nafter, np.zeros(shape, np.int64),
                     np.zeros(shape, np.int64), np.zeros(num_units, np.int64))
    shifted = device("accumulate_templates", traces, grouped, bounds, nbefore, nafter, shift, np.zeros(shape),
                     np.zeros(shape), np.zeros(num_units, np.int64))
    scaling = (np.linspace(0.195, -2.5, num_channels), np.linspace(-12.5, 3.0, num_channels)) if scaled else ()
    a = device("templates_from_sums", moments[5], moments[6], moments[7], poison(shape, np.float64),
               poison(shape, np.float64), shift, *scaling)
    b = device("templates_from_sums", shifted[6], shifted[7], shifted[8], poison(shape, np.float64),
               poison(shape, np.float64), shift, *scaling)
    assert_bitwise(a[3], b[3])
    assert_bitwise(a[4], b[4])
    exp_mean, exp_std, counts = ref.templates_mean_std(traces, peaks, units, nbefore, nafter, num_units)
    if scaled:
        exp_mean, exp_std = exp_mean * scaling[0] + scaling[1], exp_std * np.abs(scaling[0])
        exp_mean[counts == 0] = 0.0  # a unit without spikes: zeros, not the offsets
    assert_close(a[3], exp_mean, rtol=1e-9)
    assert_close(a[4], exp_std, rtol=1e-6)


def test_identical_integer_windows_give_a_std_of_exactly_zero(device):
    pattern = np.random.default_rng(2).integers(-2000, 2000, (6, 3)).astype(np.int16)
    traces = np.tile(pattern, (40, 1))
    peaks = np.arange(2, 240 - 4, 6, dtype=np.int64)
    bounds = np.array([0, peaks.size], np.int64)
    shape = (1, 6, 3)
    res = device("accumulate_moments", traces, peaks, bounds, 2, 4, np.zeros(shape, np.int64),
                 np.zeros(shape, np.int64), np.zeros(1, np.int64))
    shift = traces[0:6].astype(np.float64)[None]
    out = device("templates_from_sums", res[5], res[6], res[7], poison(shape, np.float32), poison(shape, np.float32),
                 shift)
    np.testing.assert_array_equal(out[4], np.zeros(shape, np.float32))
    np.testing.assert_array_equal(out[3], pattern[None].astype(np.float32))


def test_accumulate_moments_rejects_bad_arguments(device):
    traces = np.zeros((20, 2), dtype=np.int16)
    peaks = np.array([5, 10], dtype=np.int64)
    bounds = np.array([0, 1, 2], dtype=np.int64)
    shape = (2, 5, 2)
    sums, sumsqs, counts = np.zeros(shape, np.int64), np.zeros(shape, np.int64), np.zeros(2, np.int64)
    with pytest.raises(TypeError, match="sums must have dtype int64"):
        device("accumulate_moments", traces, peaks, bounds, 2, 3, sums.astype(np.float64), sumsqs, counts)
    with pytest.raises(TypeError, match="sumsqs"):
        device("accumulate_moments", traces, peaks, bounds, 2, 3, sums, sumsqs.astype(np.float64), counts)
    with pytest.raises(ValueError, match="sumsqs"):
        device("accumulate_moments", traces, peaks, bounds, 2, 3, sums, sumsqs[:1], counts)
    with pytest.raises(ValueError, match="unit_bounds"):
        device("accumulate_moments", traces, peaks, np.array([0, 1, 3]), 2, 3, sums, sumsqs, counts)
    with pytest.raises(ValueError, match="peak_samples"):
        device("accumulate_moments", traces, np.array([5, 18]), bounds, 2, 3, sums, sumsqs, counts)
    with pytest.raises(ValueError, match="sums"):
        device("accumulate_moments", traces, peaks, bounds, 2, 4, sums, sumsqs, counts)
    with pytest.raises(TypeError, match="traces"):
        device("accumulate_moments", traces.astype(np.complex64), peaks, bounds, 2, 3, sums, sumsqs, counts)


def test_templates_from_sums_rejects_raw_moments_without_reference(device):
    shape = (2, 5, 2)
    sums, counts = np.zeros(shape, np.int64), np.ones(2, np.int64)
    with pytest.raises(ValueError, match="raw moments"):
        device("templates_from_sums", sums, sums.copy(), counts, np.zeros(shape), np.zeros(shape))
    with pytest.raises(ValueError, match="raw moments"):
        device("templates_from_sums", sums, None, counts, np.zeros(shape), None, np.zeros(shape))
    with pytest.raises(TypeError, match="sumsqs"):
        device("templates_from_sums", sums, np.zeros(shape), counts, np.zeros(shape), np.zeros(shape), np.zeros(shape))
