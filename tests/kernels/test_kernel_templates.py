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
def test_accumulate_adds_to_existing_sums(device, case):
    seed, num_samples, num_channels, num_spikes, num_units, nbefore, nafter = case
    traces, peaks, units = _inputs(*case)
    rng = np.random.default_rng(seed + 100)
    sums0, sumsqs0, counts0 = _accumulators(rng, num_units, nbefore + nafter, num_channels, True)
    ref_sums, ref_sumsqs, ref_counts = ref.templates_sums(traces, peaks, units, nbefore, nafter, num_units)
    res = device(
        "accumulate_templates", traces, peaks, units, nbefore, nafter, sums0.copy(), sumsqs0.copy(),
        counts0.copy(),
    )
    assert_close(res[5], sums0 + ref_sums, rtol=1e-12)
    assert_close(res[6], sumsqs0 + ref_sumsqs, rtol=1e-12)
    np.testing.assert_array_equal(res[7], counts0 + ref_counts)


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
    sums, sumsqs, counts = device.device(np.zeros(shape)), device.device(np.zeros(shape)), device.device(
        np.zeros(num_units, dtype=np.int64)
    )
    accumulate = device.function("accumulate_templates")
    for chunk, chunk_peaks, chunk_units in chunks:
        accumulate(
            device.device(np.ascontiguousarray(chunk)), device.device(chunk_peaks), device.device(chunk_units),
            nbefore, nafter, sums, sumsqs, counts,
        )
    mean, std = device.device(poison(shape, np.float64)), device.device(poison(shape, np.float64))
    device.function("templates_from_sums")(sums, sumsqs, counts, mean, std)

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
    a = device("accumulate_templates", traces, peaks, units, nbefore, nafter, *[x.copy() for x in args])
    b = cpu("accumulate_templates", traces, peaks, units, nbefore, nafter, *[x.copy() for x in args])
    ref_sums, ref_sumsqs, ref_counts = ref.templates_sums(traces, peaks, units, nbefore, nafter, num_units)
    for result in (a, b):  # both against the NumPy reference, then against each other
        assert_close(result[5], args[0] + ref_sums, rtol=1e-12)
        assert_close(result[6], args[1] + ref_sumsqs, rtol=1e-12)
        np.testing.assert_array_equal(result[7], args[2] + ref_counts)
    for i in (5, 6, 7):
        if device.exact_float:
            assert_bitwise(a[i], b[i])  # same summation order: deterministic and identical
        else:
            assert_close(a[i], b[i], rtol=1e-12)


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


def test_accumulate_rejects_bad_arguments(device):
    traces = np.zeros((20, 2), dtype=np.int16)
    peaks = np.array([5, 10], dtype=np.int64)
    shape = (2, 5, 2)
    sums, sumsqs, counts = np.zeros(shape), np.zeros(shape), np.zeros(2, dtype=np.int64)
    with pytest.raises(ValueError, match="unit_indices"):
        device("accumulate_templates", traces, peaks, np.array([0, 2]), 2, 3, sums, sumsqs, counts)
    with pytest.raises(ValueError, match="peak_samples"):
        device("accumulate_templates", traces, np.array([5, 18]), np.array([0, 1]), 2, 3, sums, sumsqs, counts)
    with pytest.raises(TypeError, match="sums"):
        device(
            "accumulate_templates", traces, peaks, np.array([0, 1]), 2, 3, sums.astype(np.float32), sumsqs, counts
        )
    with pytest.raises(ValueError, match="sums"):
        device("accumulate_templates", traces, peaks, np.array([0, 1]), 2, 4, sums, sumsqs, counts)
