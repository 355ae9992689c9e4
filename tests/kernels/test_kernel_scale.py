"""scale: ``float32(traces) * gains + offsets`` vs the NumPy reference, on every device."""
import numpy as np
import pytest
from kernel_testing import assert_bitwise, assert_close, poison, ref

CASES = [
    # (seed, num_samples, num_channels, dtype)
    (0, 37, 5, np.int16),
    (1, 1, 1, np.int16),
    (2, 23, 3, np.int32),
    (3, 16, 4, np.float64),
    (4, 9, 7, np.uint16),
    (5, 0, 3, np.int16),
]


def _inputs(seed, num_samples, num_channels, dtype):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        traces = rng.normal(0, 300, (num_samples, num_channels)).astype(dtype)
    else:
        info = np.iinfo(dtype)
        traces = rng.integers(info.min, info.max, (num_samples, num_channels), endpoint=True).astype(dtype)
    gains = rng.uniform(0.05, 3.0, num_channels).astype(np.float32)
    offsets = rng.uniform(-50, 50, num_channels).astype(np.float32)
    return traces, gains, offsets


@pytest.mark.parametrize("seed,num_samples,num_channels,dtype", CASES)
def test_scale_matches_reference(device, seed, num_samples, num_channels, dtype):
    traces, gains, offsets = _inputs(seed, num_samples, num_channels, dtype)
    expected = ref.scale(traces, gains, offsets)
    out = device("scale", traces, gains, offsets, poison(traces.shape, np.float32))[3]
    if device.exact_float:
        assert_bitwise(out, expected)
    else:
        assert_close(out, expected, rtol=1e-6)


def test_scale_leaves_traces_untouched(device):
    traces, gains, offsets = _inputs(11, 12, 3, np.int16)
    before = traces.copy()
    result = device("scale", traces, gains, offsets, poison(traces.shape, np.float32))
    assert_bitwise(result[0], before)


@pytest.mark.parametrize(
    "bad,error",
    [
        ("gains_shape", ValueError),
        ("out_dtype", TypeError),
        ("out_shape", ValueError),
        ("gains_dtype", TypeError),
    ],
)
def test_scale_rejects_bad_arguments(device, bad, error):
    traces, gains, offsets = _inputs(12, 8, 3, np.int16)
    out = np.zeros(traces.shape, np.float32)
    if bad == "gains_shape":
        gains = gains[:2]
    elif bad == "out_dtype":
        out = out.astype(np.float64)
    elif bad == "out_shape":
        out = out[:-1]
    else:
        gains = gains.astype(np.float64)
    name = {"gains_shape": "gains", "out_dtype": "out", "out_shape": "out", "gains_dtype": "gains"}[bad]
    with pytest.raises(error, match=name):
        device("scale", traces, gains, offsets, out)
