"""mad: median absolute deviation per channel vs the NumPy reference."""
import numpy as np
import pytest
from kernel_testing import assert_bitwise, poison, ref

# (seed, num_samples, num_channels, kind)
CASES = [
    (0, 41, 4, "int16"),  # odd length
    (1, 40, 3, "int16"),  # even length: mean of the two middle values
    (2, 1, 3, "int16"),  # one sample: mad 0
    (3, 30, 5, "ties"),  # many equal values (int16 noise of small amplitude)
    (4, 25, 2, "float32"),
    (5, 16, 3, "sorted"),  # sorted and reverse-sorted columns (selection worst cases)
    (6, 12, 2, "constant"),
    (7, 64, 3, "uint16"),  # counted: unsigned values
    (8, 9, 2, "wide"),  # int32 values far apart: the counting path falls back to sorting
    (9, 2000, 3, "halves"),  # even length, medians and deviations at half-integers
]


def _data(seed, num_samples, num_channels, kind):
    rng = np.random.default_rng(seed)
    if kind == "int16":
        return rng.integers(-3000, 3000, (num_samples, num_channels)).astype(np.int16)
    if kind == "ties":
        return rng.integers(-2, 3, (num_samples, num_channels)).astype(np.int16)
    if kind == "uint16":
        return rng.integers(0, 65535, (num_samples, num_channels)).astype(np.uint16)
    if kind == "wide":
        return rng.integers(-2**31, 2**31 - 1, (num_samples, num_channels)).astype(np.int32)
    if kind == "halves":
        return rng.integers(-7, 8, (num_samples, num_channels)).astype(np.int16) * 3
    if kind == "float32":
        return rng.normal(0, 12, (num_samples, num_channels)).astype(np.float32)
    if kind == "sorted":
        data = np.sort(rng.normal(0, 5, (num_samples, num_channels)), axis=0)
        data[:, 1] = data[::-1, 1]
        return data
    return np.full((num_samples, num_channels), 7, dtype=np.int16)


@pytest.mark.parametrize("case", CASES)
def test_mad_matches_reference(device, case):
    data = _data(*case)
    out = device("mad", data, poison(data.shape[1], np.float64))[1]
    assert_bitwise(out, ref.mad(data))


def test_mad_leaves_data_untouched(device):
    data = _data(0, 21, 3, "int16")
    before = data.copy()
    res = device("mad", data, poison(3, np.float64))
    assert_bitwise(res[0], before)


def test_mad_rejects_bad_arguments(device):
    with pytest.raises(ValueError, match="data"):
        device("mad", np.zeros((0, 3), np.int16), np.zeros(3))
    with pytest.raises(TypeError, match="out"):
        device("mad", np.zeros((5, 3), np.int16), np.zeros(3, np.float32))
