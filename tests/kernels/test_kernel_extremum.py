"""channel_amplitudes and template_extremum vs the NumPy reference (exact)."""
import numpy as np
import pytest
from kernel_testing import assert_bitwise, poison, ref

PEAK_SIGNS = ["neg", "pos", "both"]

# (seed, num_units, nsamples, num_channels, dtype, tied)
CASES = [
    (0, 4, 9, 5, np.float32, False),
    (1, 3, 7, 6, np.float64, True),  # small integers: many ties, first index must win
    (2, 1, 1, 1, np.float32, False),  # one sample, one channel
    (3, 0, 5, 3, np.float32, False),  # no unit
    (4, 5, 6, 4, np.float32, True),
]


def _templates(seed, num_units, nsamples, num_channels, dtype, tied):
    rng = np.random.default_rng(seed)
    if tied:
        return rng.integers(-3, 4, (num_units, nsamples, num_channels)).astype(dtype)
    t = rng.normal(0, 20, (num_units, nsamples, num_channels)).astype(dtype)
    if num_units:
        t[0] = np.abs(t[0])  # a template with no negative value
        t[-1] = -np.abs(t[-1])  # and one with no positive value
    return t


@pytest.mark.parametrize("peak_sign", PEAK_SIGNS)
@pytest.mark.parametrize("case", CASES)
def test_channel_amplitudes_match_reference(device, case, peak_sign):
    templates = _templates(*case)
    shape = (templates.shape[0], templates.shape[2])
    out = device("channel_amplitudes", templates, peak_sign, poison(shape, templates.dtype))[2]
    assert_bitwise(out, ref.channel_amplitudes(templates, peak_sign).astype(templates.dtype))


@pytest.mark.parametrize("peak_sign", PEAK_SIGNS)
@pytest.mark.parametrize("case", CASES)
def test_template_extremum_matches_reference(device, case, peak_sign):
    templates = _templates(*case)
    nbefore = templates.shape[1] // 3
    num_units = templates.shape[0]
    res = device(
        "template_extremum", templates, peak_sign, nbefore, poison(num_units, np.int64),
        poison(num_units, templates.dtype), poison(num_units, np.int64),
    )
    channels, amplitudes, shifts = ref.template_extremum(templates, peak_sign, nbefore)
    assert_bitwise(res[3], channels)
    assert_bitwise(res[4], amplitudes)
    assert_bitwise(res[5], shifts)


def test_peak_signs_pick_different_channels(device):
    # channel 1 has the deepest trough, channel 2 the highest peak: the rules must differ
    templates = np.zeros((1, 5, 3), dtype=np.float32)
    templates[0, 1, 1] = -8.0
    templates[0, 3, 2] = 9.0
    picks = {}
    for peak_sign in PEAK_SIGNS:
        res = device(
            "template_extremum", templates, peak_sign, 2, poison(1, np.int64), poison(1, np.float32),
            poison(1, np.int64),
        )
        expected = ref.template_extremum(templates, peak_sign, 2)
        assert res[3][0] == expected[0][0] and res[5][0] == expected[2][0]
        picks[peak_sign] = int(res[3][0])
    assert picks["neg"] != picks["pos"]


def test_extremum_rejects_unknown_peak_sign(device):
    templates = np.zeros((2, 4, 3), dtype=np.float32)
    with pytest.raises(ValueError, match="peak_sign"):
        device("channel_amplitudes", templates, "negative", np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="peak_sign"):
        device(
            "template_extremum", templates, "abs", 1, np.zeros(2, np.int64), np.zeros(2, np.float32),
            np.zeros(2, np.int64),
        )
