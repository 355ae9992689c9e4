"""template_tools against NumPy computed on the templates."""
import numpy as np
import pytest

import gpuspike as gs
from gpuspike.core.template_tools import (get_template_amplitudes, get_template_extremum_amplitude,
                                          get_template_extremum_channel, get_template_extremum_channel_peak_shift)

from _waveforms_helpers import JOB, gt


@pytest.fixture(scope="module")
def we():
    recording, sorting = gt(seed=17, num_channels=8, num_units=4, durations=(1.5,), rate=15.0)
    return gs.extract_waveforms(recording, sorting, mode="memory", max_spikes_per_unit=10, seed=1, **JOB, sparse=False)


def _amps(templates, peak_sign, mode, nbefore):
    if mode == "at_index":
        return np.abs(templates[:, nbefore, :])
    if peak_sign == "neg":
        return np.abs(templates.min(axis=1))
    if peak_sign == "pos":
        return np.abs(templates.max(axis=1))
    return np.abs(templates).max(axis=1)


def _channels(templates, peak_sign, mode, nbefore):
    if mode == "at_index":
        return np.argmax(np.abs(templates[:, nbefore, :]), axis=1)
    if peak_sign == "neg":
        return np.argmin(templates.min(axis=1), axis=1)
    if peak_sign == "pos":
        return np.argmax(templates.max(axis=1), axis=1)
    return np.argmax(np.abs(templates).max(axis=1), axis=1)


@pytest.mark.parametrize("peak_sign", ["neg", "pos", "both"])
@pytest.mark.parametrize("mode", ["extremum", "at_index"])
def test_template_tools_vs_numpy(we, peak_sign, mode):
    templates = we.get_all_templates().astype("float64")
    nbefore = we.nbefore
    unit_ids = we.unit_ids.tolist()
    amps = get_template_amplitudes(we, peak_sign=peak_sign, mode=mode)
    assert list(amps) == unit_ids
    expected_amps = _amps(templates, peak_sign, mode, nbefore)
    for i, u in enumerate(unit_ids):
        np.testing.assert_allclose(amps[u], expected_amps[i], rtol=1e-6)
    channels = _channels(templates, peak_sign, mode, nbefore)
    by_index = get_template_extremum_channel(we, peak_sign=peak_sign, mode=mode, outputs="index")
    by_id = get_template_extremum_channel(we, peak_sign=peak_sign, mode=mode, outputs="id")
    assert by_index == {u: int(channels[i]) for i, u in enumerate(unit_ids)}
    assert by_id == {u: we.channel_ids[channels[i]].item() for i, u in enumerate(unit_ids)}
    extremum_amp = get_template_extremum_amplitude(we, peak_sign=peak_sign, mode=mode)
    for i, u in enumerate(unit_ids):
        assert extremum_amp[u] == pytest.approx(expected_amps[i, channels[i]], rel=1e-6)


@pytest.mark.parametrize("peak_sign", ["neg", "pos", "both"])
def test_peak_shift_vs_numpy(we, peak_sign):
    templates = we.get_all_templates().astype("float64")
    channels = _channels(templates, peak_sign, "extremum", we.nbefore)
    shifts = get_template_extremum_channel_peak_shift(we, peak_sign=peak_sign)
    for i, u in enumerate(we.unit_ids.tolist()):
        trace = templates[i, :, channels[i]]
        pos = {"neg": np.argmin(trace), "pos": np.argmax(trace), "both": np.argmax(np.abs(trace))}[peak_sign]
        assert shifts[u] == pos - we.nbefore
    # the generated spikes are placed at the peak: the "neg" shift is small
    if peak_sign == "neg":
        assert all(abs(s) <= 3 for s in shifts.values())


def test_template_tools_on_sparse(we, tmp_path):
    sparsity = gs.compute_sparsity(we, method="best_channels", num_channels=3)
    sparse = we.save(folder=tmp_path / "sparse", sparsity=sparsity)
    dense_channels = get_template_extremum_channel(we, outputs="index")
    assert get_template_extremum_channel(sparse, outputs="index") == dense_channels
    amps = get_template_amplitudes(sparse)
    dense_amps = get_template_amplitudes(we)
    for i, u in enumerate(we.unit_ids.tolist()):
        np.testing.assert_allclose(amps[u], dense_amps[u] * sparsity.mask[i], rtol=1e-6)


def test_template_tools_errors(we):
    with pytest.raises(ValueError, match="peak_sign"):
        get_template_amplitudes(we, peak_sign="down")
    with pytest.raises(ValueError, match="mode"):
        get_template_amplitudes(we, mode="max")
    with pytest.raises(ValueError, match="outputs"):
        get_template_extremum_channel(we, outputs="name")
