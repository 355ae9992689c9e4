"""accumulate_templates and templates_from_sums vs the NumPy references."""
import numpy as np
import pytest
from kernel_testing import assert_bitwise, assert_close, poison, ref

# (seed, num_samples, num_channels, num_spikes, num_units, nbefore, nafter)
CASES = [
    (0, 50, 4, 9, 4, 3, 4),  # the last unit(s) may get no spike
    (1, 20, 3, 1, 2, 2, 3),  # one spike
    (2, 20, 3, 0, 3, 2, 3),  # no spike
    (3, 12, 2, 6, 1, 2, 4),  # one unit, windows overlap; a run of four and a rest of two
    (4, 40, 11, 8, 3, 4, 3),  # 11 channels; 8 spikes, all of one unit: two runs of four
    (5, 60, 5, 7, 1, 2, 3),  # one unit of seven: a run of four, a pair, a single
]


def _inputs(seed, num_samples, num_channels, num_spikes, num_units, nbefore, nafter, dtype=np.int16):
    rng = np.random.default_rng(seed)
    traces = rng.integers(-1000, 1000, (num_samples, num_channels)).astype(dtype)
    peaks = np.sort(rng.integers(nbefore, num_samples - nafter, num_spikes, endpoint=True)).astype(np.int64)
    if num_spikes >= 2:
        peaks[0], peaks[-1] = nbefore, num_samples - nafter  # chunk edges
    # unit num_units - 1 never gets a spike when there are several units
    units = rng.integers(0, max(num_units - 1, 1), num_spikes).astype(np.int64)
    return traces, peaks, units


def _accumulators(rng, num_units, nsamples, num_channels, random_start):
    shape = (num_units, nsamples, num_channels)
    if random_start:  # catches kernels that overwrite instead of adding
        return rng.normal(0, 10, shape), rng.uniform(0, 10, shape), rng.integers(0, 5, num_units)
    return np.zeros(shape), np.zeros(shape), np.zeros(num_units, dtype=np.int64)


@pytest.mark.parametrize("case", CASES)
def test_accumulate_adds_shifted_windows_to_existing_sums(device, case):
    seed, num_samples, num_channels, num_spikes, num_units, nbefore, nafter = case
    traces, peaks, units = _inputs(*case)
    rng = np.random.default_rng(seed + 100)
    sums0, sumsqs0, counts0 = _accumulators(rng, num_units, nbefore + nafter, num_channels, True)
    shift = rng.normal(0, 100, sums0.shape)
    ref_sums, ref_sumsqs, ref_counts = ref.templates_sums(traces, peaks, units, nbefore, nafter, num_units, shift)
    grouped, bounds = ref.group_by_unit(peaks, units, num_units)
    res = device("accumulate_templates", traces, grouped, bounds, nbefore, nafter, shift, sums0.copy(),
                 sumsqs0.copy(), counts0.copy())
    assert_close(res[6], sums0 + ref_sums, rtol=1e-12)
    assert_close(res[7], sumsqs0 + ref_sumsqs, rtol=1e-12)
    np.testing.assert_array_equal(res[8], counts0 + ref_counts)


@pytest.mark.parametrize("traces_dtype", [np.int16, np.float32])
@pytest.mark.parametrize("case", CASES)
def test_mean_std_over_two_chunks_match_reference(device, case, traces_dtype):
    seed, num_samples, num_channels, num_spikes, num_units, nbefore, nafter = case
    traces, peaks, units = _inputs(*case, dtype=traces_dtype)
    if traces_dtype == np.float32:
        traces = traces * np.float32(0.195)
    # the same traces seen as two chunks with a margin: each spike in exactly one chunk,
    # peaks relative to their chunk
    half = num_samples // 2
    in_first = peaks + nafter <= half
    lo = max(0, half - nbefore - nafter)
    chunks = [
        (traces[:half], peaks[in_first], units[in_first]),
        (traces[lo:], peaks[~in_first] - lo, units[~in_first]),
    ]

    nsamples = nbefore + nafter
    shape = (num_units, nsamples, num_channels)
    shift = np.random.default_rng(seed).normal(0, 50, shape)  # any reference: the mean and std do not change
    sums, sumsqs, counts = device.device(np.zeros(shape)), device.device(np.zeros(shape)), device.device(
        np.zeros(num_units, dtype=np.int64)
    )
    shift_dev = device.device(shift)
    accumulate = device.function("accumulate_templates")
    for chunk, chunk_peaks, chunk_units in chunks:
        grouped, bounds = ref.group_by_unit(chunk_peaks, chunk_units, num_units)
        accumulate(
            device.device(np.ascontiguousarray(chunk)), device.device(grouped), device.device(bounds),
            nbefore, nafter, shift_dev, sums, sumsqs, counts,
        )
    mean, std = device.device(poison(shape, np.float64)), device.device(poison(shape, np.float64))
    device.function("templates_from_sums")(sums, sumsqs, counts, mean, std, shift_dev)

    ref_mean, ref_std, ref_counts = ref.templates_mean_std(traces, peaks, units, nbefore, nafter, num_units)
    host = device._to_host
    np.testing.assert_array_equal(host(counts), ref_counts)
    assert_close(host(mean), ref_mean, rtol=1e-6)
    assert_close(host(std), ref_std, rtol=1e-6)
    empty = ref_counts == 0
    assert (host(mean)[empty] == 0).all() and (host(std)[empty] == 0).all()


@pytest.mark.parametrize("case", CASES)
def test_accumulate_cuda_equals_cpu(cuda_device, cpu, case):
    device = cuda_device
    seed, num_samples, num_channels, num_spikes, num_units, nbefore, nafter = case
    traces, peaks, units = _inputs(*case)
    traces = traces.astype(np.float32) * np.float32(0.37)
    rng = np.random.default_rng(seed)
    args = _accumulators(rng, num_units, nbefore + nafter, num_channels, True)
    shift = rng.normal(0, 10, args[0].shape)
    grouped, bounds = ref.group_by_unit(peaks, units, num_units)
    a = device("accumulate_templates", traces, grouped, bounds, nbefore, nafter, shift, *[x.copy() for x in args])
    b = cpu("accumulate_templates", traces, grouped, bounds, nbefore, nafter, shift, *[x.copy() for x in args])
    ref_sums, ref_sumsqs, ref_counts = ref.templates_sums(traces, peaks, units, nbefore, nafter, num_units, shift)
    for result in (a, b):  # both against the NumPy reference, then against each other
        assert_close(result[6], args[0] + ref_sums, rtol=1e-12)
        assert_close(result[7], args[1] + ref_sumsqs, rtol=1e-12)
        np.testing.assert_array_equal(result[8], args[2] + ref_counts)
    for i in (6, 7, 8):
        # same summation order and rounded operations on every device: identical bits
        assert_bitwise(a[i], b[i])


def test_identical_windows_give_a_std_of_exactly_zero(device):
    """A unit whose windows are all equal (float data, many spikes): std 0, not rounding noise."""
    pattern = (np.random.default_rng(1).normal(0, 100, (6, 3)) * np.float32(0.37)).astype(np.float32)
    traces = np.tile(pattern, (40, 1))  # the same 6-sample window every 6 samples
    peaks = np.arange(2, 240 - 4, 6, dtype=np.int64)  # 39 spikes on identical windows
    bounds = np.array([0, peaks.size], dtype=np.int64)
    shape = (1, 6, 3)
    shift = traces[0:6].astype(np.float64)[None]  # the unit's first window, as the engine takes it
    res = device("accumulate_templates", traces, peaks, bounds, 2, 4, shift, np.zeros(shape), np.zeros(shape),
                 np.zeros(1, np.int64))
    out = device("templates_from_sums", res[6], res[7], res[8], poison(shape, np.float32), poison(shape, np.float32),
                 shift)
    np.testing.assert_array_equal(out[4], np.zeros(shape, np.float32))
    np.testing.assert_array_equal(out[3], np.roll(pattern, 0, axis=0)[None].astype(np.float32))


@pytest.mark.parametrize("out_dtype", [np.float64, np.float32])
def test_templates_from_sums_matches_numpy(device, out_dtype):
    rng = np.random.default_rng(7)
    num_units, nsamples, num_channels = 4, 5, 3
    counts = np.array([3, 0, 1, 10], dtype=np.int64)
    waveforms = [rng.normal(5, 40, (n, nsamples, num_channels)) for n in counts]
    sums = np.stack([w.sum(axis=0) for w in waveforms])
    sumsqs = np.stack([(w * w).sum(axis=0) for w in waveforms])
    shape = (num_units, nsamples, num_channels)
    res = device("templates_from_sums", sums, sumsqs, counts, poison(shape, out_dtype), poison(shape, out_dtype))
    exp_mean = np.stack([w.mean(axis=0) if len(w) else np.zeros((nsamples, num_channels)) for w in waveforms])
    exp_std = np.stack([w.std(axis=0) if len(w) else np.zeros((nsamples, num_channels)) for w in waveforms])
    rtol = 1e-6 if out_dtype == np.float32 else 1e-9
    assert res[3].dtype == out_dtype
    assert_close(res[3], exp_mean.astype(out_dtype), rtol=rtol)
    assert_close(res[4], exp_std.astype(out_dtype), rtol=rtol)


def test_templates_from_sums_scales_raw_sums(device):
    """Raw shifted sums scaled on the way: mean * gain + offset and std * |gain| (negative gains too)."""
    rng = np.random.default_rng(8)
    counts = np.array([4, 0, 7], dtype=np.int64)
    raw = [rng.integers(-300, 300, (n, 5, 3)).astype(np.float64) for n in counts]
    shift = rng.integers(-300, 300, (3, 5, 3)).astype(np.float64)
    sums = np.stack([(w - shift[u]).sum(axis=0) for u, w in enumerate(raw)])
    sumsqs = np.stack([((w - shift[u]) ** 2).sum(axis=0) for u, w in enumerate(raw)])
    gains = np.array([0.195, -2.5, 1.0])
    offsets = np.array([-12.5, 3.0, 0.0])
    shape = sums.shape
    res = device("templates_from_sums", sums, sumsqs, counts, poison(shape, np.float64), poison(shape, np.float64),
                 shift, gains, offsets)
    scaled = [w * gains + offsets for w in raw]
    exp_mean = np.stack([w.mean(axis=0) if len(w) else np.zeros((5, 3)) for w in scaled])
    exp_std = np.stack([w.std(axis=0) if len(w) else np.zeros((5, 3)) for w in scaled])
    assert_close(res[3], exp_mean, rtol=1e-9)
    assert_close(res[4], exp_std, rtol=1e-9)


def test_templates_from_sums_means_only(device):
    rng = np.random.default_rng(9)
    counts = np.array([3, 0, 5], dtype=np.int64)
    sums = rng.integers(-900, 900, (3, 4, 2)).astype(np.float32)
    res = device("templates_from_sums", sums, None, counts, poison(sums.shape, np.float64), None)
    expected = np.where(counts[:, None, None] > 0, sums.astype(np.float64) / np.maximum(counts, 1)[:, None, None], 0)
    assert_close(res[3], expected, rtol=1e-12)


def test_accumulate_rejects_bad_arguments(device):
    traces = np.zeros((20, 2), dtype=np.int16)
    peaks = np.array([5, 10], dtype=np.int64)
    shape = (2, 5, 2)
    sums, sumsqs, shift, counts = np.zeros(shape), np.zeros(shape), np.zeros(shape), np.zeros(2, dtype=np.int64)
    with pytest.raises(ValueError, match="unit_bounds"):
        device("accumulate_templates", traces, peaks, np.array([0, 1, 3]), 2, 3, shift, sums, sumsqs, counts)
    with pytest.raises(ValueError, match="peak_samples"):
        device("accumulate_templates", traces, np.array([5, 18]), np.array([0, 1, 2]), 2, 3, shift, sums, sumsqs,
               counts)
    with pytest.raises(TypeError, match="sums"):
        device("accumulate_templates", traces, peaks, np.array([0, 1, 2]), 2, 3, shift, sums.astype(np.float32),
               sumsqs, counts)
    with pytest.raises(ValueError, match="sums"):
        device("accumulate_templates", traces, peaks, np.array([0, 1, 2]), 2, 4, shift, sums, sumsqs, counts)
    with pytest.raises(ValueError, match="ref"):
        device("accumulate_templates", traces, peaks, np.array([0, 1, 2]), 2, 3, shift[:1], sums, sumsqs, counts)
