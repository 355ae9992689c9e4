"""accumulate_sums (means only, float32 or float64) vs the NumPy reference."""
import numpy as np
import pytest
from kernel_testing import assert_bitwise, assert_close, ref
from test_kernel_templates import CASES, _inputs


@pytest.mark.parametrize("sums_dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CASES)
def test_accumulate_sums_adds_windows(device, case, sums_dtype):
    seed, num_samples, num_channels, num_spikes, num_units, nbefore, nafter = case
    traces, peaks, units = _inputs(*case)
    rng = np.random.default_rng(seed + 200)
    shape = (num_units, nbefore + nafter, num_channels)
    sums0 = rng.normal(0, 10, shape).astype(sums_dtype)  # random start: the kernel must add, not overwrite
    counts0 = rng.integers(0, 5, num_units).astype(np.int64)
    ref_sums, _, ref_counts = ref.templates_sums(traces, peaks, units, nbefore, nafter, num_units)
    grouped, bounds = ref.group_by_unit(peaks, units, num_units)
    res = device("accumulate_sums", traces, grouped, bounds, nbefore, nafter, sums0.copy(), counts0.copy())
    assert res[5].dtype == sums_dtype
    expected = sums0.astype(np.float64) + ref_sums
    if sums_dtype == np.float32:
        # float32 sums from a non-integer start round at most once per window added, each time by half
        # an ulp of a partial sum no larger than |start| + the absolute windows
        bound = np.abs(sums0).astype(np.float64) + ref.templates_sums(np.abs(traces), peaks, units, nbefore, nafter,
                                                                       num_units)[0]
        per_unit = np.bincount(units, minlength=num_units)[:, None, None]
        assert np.all(np.abs(res[5] - expected) <= (per_unit + 1) * np.finfo(np.float32).eps / 2 * bound)
    else:
        assert_close(res[5], expected, rtol=1e-12)
    np.testing.assert_array_equal(res[6], counts0 + ref_counts)


@pytest.mark.parametrize("case", CASES)
def test_accumulate_sums_matches_templates_sums(device, case):
    """accumulate_sums equals accumulate_templates with a zero reference bitwise (same order)."""
    seed, num_samples, num_channels, num_spikes, num_units, nbefore, nafter = case
    traces, peaks, units = _inputs(*case)
    traces = traces.astype(np.float32) * np.float32(0.37)
    shape = (num_units, nbefore + nafter, num_channels)
    grouped, bounds = ref.group_by_unit(peaks, units, num_units)
    a = device("accumulate_sums", traces, grouped, bounds, nbefore, nafter, np.zeros(shape),
               np.zeros(num_units, "int64"))
    b = device("accumulate_templates", traces, grouped, bounds, nbefore, nafter, np.zeros(shape), np.zeros(shape),
               np.zeros(shape), np.zeros(num_units, "int64"))
    np.testing.assert_array_equal(a[5], b[6])
    np.testing.assert_array_equal(a[6], b[8])


def test_accumulate_sums_rejects_bad_arguments():
    from gpuspike.kernels import accumulate_sums_cpu

    traces = np.zeros((20, 2), np.int16)
    sums = np.zeros((1, 4, 2))
    bounds = np.array([0, 1])
    with pytest.raises(TypeError, match="sums must be float32 or float64"):
        accumulate_sums_cpu(traces, np.array([5]), bounds, 2, 2, sums.astype(np.int32), np.zeros(1, "int64"))
    with pytest.raises(ValueError, match="peak_samples"):
        accumulate_sums_cpu(traces, np.array([19]), bounds, 2, 2, sums, np.zeros(1, "int64"))
    with pytest.raises(ValueError, match="unit_bounds"):
        accumulate_sums_cpu(traces, np.array([5]), np.array([0, 2]), 2, 2, sums, np.zeros(1, "int64"))


@pytest.mark.parametrize("counts", [[3, 0, 2], [1], [0, 0], [4, 1, 1, 5], [9, 0, 8]])
def test_waveform_sums_match_reference(device, counts):
    rng = np.random.default_rng(len(counts))
    num_units, nsamples, width = len(counts), 7, 5
    bounds = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    waveforms = rng.normal(0, 50, (int(bounds[-1]), nsamples, width)).astype(np.float32)
    shape = (num_units, nsamples, width)
    sums0, sumsqs0 = rng.normal(0, 10, shape), rng.uniform(0, 10, shape)  # must add, not overwrite
    res = device("waveform_sums", waveforms, bounds, np.full(shape, np.nan), sums0.copy(), sumsqs0.copy())
    # the reference window of a unit is its first waveform (zeros without one)
    first = np.stack([waveforms[bounds[u]].astype(np.float64) if counts[u] else np.zeros((nsamples, width))
                      for u in range(num_units)])
    shifted = [waveforms[bounds[u]:bounds[u + 1]].astype(np.float64) - first[u] for u in range(num_units)]
    np.testing.assert_array_equal(res[2], first)
    assert_close(res[3], sums0 + np.stack([w.sum(axis=0) for w in shifted]), rtol=1e-12)
    assert_close(res[4], sumsqs0 + np.stack([(w ** 2).sum(axis=0) for w in shifted]), rtol=1e-12)


@pytest.mark.parametrize("counts", [[3, 0, 2], [4, 1, 1, 5], [9, 0, 8]])
def test_waveform_sums_of_a_spike_ordered_buffer(device, counts):
    """With ``rows``, a unit's waveforms are scattered through the buffer (spike order, as a
    SortingAnalyzer stores them): the sums equal those of the unit-major copy."""
    rng = np.random.default_rng(7 + len(counts))
    labels = rng.permutation(np.repeat(np.arange(len(counts)), counts))
    waveforms = rng.normal(0, 50, (labels.size, 6, 4)).astype(np.float32)
    rows = np.argsort(labels, kind="stable").astype(np.int64)
    bounds = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    shape = (len(counts), 6, 4)
    res = device("waveform_sums", waveforms, bounds, np.zeros(shape), np.zeros(shape), np.zeros(shape), rows=rows)
    wide = waveforms.astype(np.float64)
    for u in range(len(counts)):
        mine = wide[labels == u]
        first = mine[0] if mine.shape[0] else np.zeros(shape[1:])
        np.testing.assert_array_equal(res[2][u], first)
        assert_close(res[3][u], (mine - first).sum(axis=0), rtol=1e-12)
        assert_close(res[4][u], ((mine - first) ** 2).sum(axis=0), rtol=1e-12)


def test_waveform_sums_rejects_bad_rows():
    from gpuspike.kernels import waveform_sums_cpu

    waveforms = np.zeros((4, 3, 2), np.float32)
    z = np.zeros((1, 3, 2))
    with pytest.raises(ValueError, match="rows"):
        waveform_sums_cpu(waveforms, np.array([0, 4]), z.copy(), z.copy(), z.copy(), rows=np.arange(3))
    with pytest.raises(TypeError, match="rows must be int64"):
        waveform_sums_cpu(waveforms, np.array([0, 4]), z.copy(), z.copy(), z.copy(), rows=np.arange(4.0))


def test_waveform_sums_rejects_bad_bounds():
    from gpuspike.kernels import waveform_sums_cpu

    waveforms = np.zeros((4, 3, 2), np.float32)
    z2 = np.zeros((2, 3, 2))
    with pytest.raises(ValueError, match="unit_bounds"):
        waveform_sums_cpu(waveforms, np.array([0, 3, 2]), z2.copy(), z2.copy(), z2.copy())
    with pytest.raises(ValueError, match="unit_bounds"):
        waveform_sums_cpu(waveforms, np.array([0, 2]), z2.copy(), z2.copy(), z2.copy())
    with pytest.raises(TypeError, match="sums must be float64"):
        waveform_sums_cpu(waveforms, np.array([0, 4]), np.zeros((1, 3, 2)), np.zeros((1, 3, 2), np.float32),
                          np.zeros((1, 3, 2)))


@pytest.mark.parametrize("counts", [[4, 1, 1, 5], [9, 0, 8], [13]])
def test_waveform_sums_cuda_equals_cpu_bitwise(cuda_device, cpu, counts):
    """Runs of four rows (and the rest) are added in row order on the CPU, one by one on the GPU."""
    rng = np.random.default_rng(sum(counts))
    bounds = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    waveforms = rng.normal(0, 1e3, (int(bounds[-1]), 6, 5)).astype(np.float32) * np.float32(1.7)
    shape = (len(counts), 6, 5)
    sums0, sumsqs0 = rng.normal(0, 10, shape), rng.uniform(0, 10, shape)
    a = cuda_device("waveform_sums", waveforms, bounds, np.zeros(shape), sums0.copy(), sumsqs0.copy())
    b = cpu("waveform_sums", waveforms, bounds, np.zeros(shape), sums0.copy(), sumsqs0.copy())
    wide = waveforms.astype(np.float64)
    first = np.stack([wide[lo] if hi > lo else np.zeros(wide.shape[1:]) for lo, hi in zip(bounds[:-1], bounds[1:])])
    shifted = [wide[lo:hi] - first[u] for u, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:]))]
    for result in (a, b):  # both against the NumPy reference, then against each other
        np.testing.assert_array_equal(result[2], first)
        assert_close(result[3], sums0 + np.stack([w.sum(axis=0) for w in shifted]), rtol=1e-12)
        assert_close(result[4], sumsqs0 + np.stack([(w ** 2).sum(axis=0) for w in shifted]), rtol=1e-12)
    for i in (2, 3, 4):
        assert_bitwise(a[i], b[i])


def test_accumulate_sums_cuda_equals_cpu_bitwise_many_spikes_per_unit(cuda_device, cpu):
    rng = np.random.default_rng(3)
    traces = (rng.normal(0, 300, (200, 7)) * 1.3).astype(np.float32)  # not integers: rounding order shows
    peaks = np.sort(rng.integers(3, 195, 23)).astype(np.int64)
    units = rng.integers(0, 2, 23).astype(np.int64)  # ~11 spikes per unit: groups of four and a rest
    grouped, bounds = ref.group_by_unit(peaks, units, 2)
    sums0 = rng.normal(0, 10, (2, 8, 7))
    a = cuda_device("accumulate_sums", traces, grouped, bounds, 3, 5, sums0.copy(), np.zeros(2, np.int64))
    b = cpu("accumulate_sums", traces, grouped, bounds, 3, 5, sums0.copy(), np.zeros(2, np.int64))
    ref_sums, _, ref_counts = ref.templates_sums(traces, peaks, units, 3, 5, 2)
    for result in (a, b):  # both against the NumPy reference, then against each other
        assert_close(result[5], sums0 + ref_sums, rtol=1e-12)
        np.testing.assert_array_equal(result[6], ref_counts)
    assert_bitwise(a[5], b[5])
    np.testing.assert_array_equal(a[6], np.bincount(units, minlength=2))
