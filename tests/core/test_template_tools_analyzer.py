"""template_tools with a SortingAnalyzer or a Templates (SpikeInterface 0.105's semantics) against NumPy
references, and estimate_main_channel_from_recording on every backend and against SpikeInterface 0.105."""
import textwrap
import warnings

import numpy as np
import pytest

import gpuspike as gs
from gpuspike.core import template_tools as tt
from gpuspike.core.template import Templates

from _analyzer_fake import FakeAnalyzer, make_templates, ref_amplitudes, ref_main_channels, ref_raw_templates
from _si_compare import assert_same_outcome, run_cases, run_si_script

NBEFORE = 6
UNITS = np.array(["u0", "u1", "u2", "u3", "u4", "u5"])
CHANNELS = np.array([f"ch{i}" for i in range(8)])


@pytest.fixture(scope="module")
def arrays():
    t = make_templates()
    median = t * 0.5 + 1.0
    # main channels that are not the templates' own: the analyzer's are used, never recomputed
    own = ref_main_channels(t, "both", "extremum", NBEFORE)
    main = (own + 2) % t.shape[2]
    return t, median, main


def _analyzer(arrays, **kw):
    t, median, main = arrays
    return FakeAnalyzer(t, NBEFORE, main, UNITS, CHANNELS, operators={"median": median}, **kw)


# ---------------------------------------------------------------------- amplitudes
@pytest.mark.parametrize("peak_sign", ["neg", "pos", "both"])
@pytest.mark.parametrize("peak_mode", ["extremum", "at_index", "peak_to_peak"])
def test_amplitudes_of_an_analyzer_use_its_settings(arrays, peak_sign, peak_mode):
    t, median, _ = arrays
    analyzer = _analyzer(arrays, peak_sign=peak_sign, peak_mode=peak_mode)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        amps = tt.get_template_amplitudes(analyzer)
        signed = tt.get_template_amplitudes(analyzer, abs_value=False)
        of_median = tt.get_template_amplitudes(analyzer, operator="median")
    expected = ref_amplitudes(t, peak_sign, peak_mode, NBEFORE)
    assert list(amps) == UNITS.tolist()
    for i, u in enumerate(UNITS.tolist()):
        np.testing.assert_allclose(amps[u], np.abs(expected[i]), rtol=1e-6)
        np.testing.assert_allclose(signed[u], expected[i], rtol=1e-6)
        np.testing.assert_allclose(of_median[u], np.abs(ref_amplitudes(median, peak_sign, peak_mode, NBEFORE)[i]),
                                   rtol=1e-6)
    # peak_mode may be overridden, peak_sign may not
    ptp = tt.get_template_amplitudes(analyzer, peak_mode="peak_to_peak")
    np.testing.assert_allclose(ptp["u2"], ref_amplitudes(t, peak_sign, "peak_to_peak", NBEFORE)[2], rtol=1e-6)
    with pytest.raises(ValueError, match="peak_sign"):
        tt.get_template_amplitudes(analyzer, peak_sign=peak_sign)


def test_amplitudes_of_templates_default_with_a_warning(arrays):
    t = Templates(arrays[0], 30000.0, NBEFORE, unit_ids=UNITS, channel_ids=CHANNELS)
    with pytest.warns(UserWarning, match="peak_sign"):
        amps = tt.get_template_amplitudes(t, peak_mode="at_index")
    np.testing.assert_allclose(amps["u1"], np.abs(ref_amplitudes(arrays[0], "both", "at_index", NBEFORE)[1]),
                               rtol=1e-6)
    with pytest.warns(UserWarning, match="peak_mode"):
        amps = tt.get_template_amplitudes(t, peak_sign="pos")
    np.testing.assert_allclose(amps["u3"], np.abs(ref_amplitudes(arrays[0], "pos", "extremum", NBEFORE)[3]),
                               rtol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        signed = tt.get_template_amplitudes(t, "neg", "extremum", False)  # 0.105's positional order
    np.testing.assert_allclose(signed["u0"], ref_amplitudes(arrays[0], "neg", "extremum", NBEFORE)[0], rtol=1e-6)
    # a sparse Templates: amplitudes of the dense templates (zeros off the mask)
    mask = np.zeros((6, 8), bool)
    mask[:, :4] = True
    sparse = t.to_sparse(mask)
    amps = tt.get_template_amplitudes(sparse, peak_sign="both", peak_mode="extremum")
    np.testing.assert_allclose(amps["u4"], np.abs(ref_amplitudes(arrays[0] * mask[:, None, :], "both", "extremum",
                                                                 NBEFORE)[4]), rtol=1e-6)


# ---------------------------------------------------------------------- main channels and deprecated wrappers
def test_extremum_channel_is_deprecated_and_gives_main_channels(arrays):
    t, _, main = arrays
    analyzer = _analyzer(arrays, peak_sign="neg")
    with pytest.warns(FutureWarning, match="get_main_channels"):
        by_index = tt.get_template_extremum_channel(analyzer, outputs="index")
    assert by_index == {u: main[i] for i, u in enumerate(UNITS.tolist())}
    with pytest.warns(FutureWarning):
        by_id = tt.get_template_extremum_channel(analyzer, peak_sign="pos", mode="peak_to_peak")
    assert by_id == {u: CHANNELS[main[i]] for i, u in enumerate(UNITS.tolist())}
    templates = Templates(t, 30000.0, NBEFORE, unit_ids=UNITS, channel_ids=CHANNELS)
    with pytest.warns(FutureWarning):
        channels = tt.get_template_extremum_channel(templates, peak_sign="pos", outputs="index")
    # 0.105 ignores peak_sign here: the Templates' main channels for "both"
    expected = ref_main_channels(t, "both", "extremum", NBEFORE)
    assert channels == {u: expected[i] for i, u in enumerate(UNITS.tolist())}
    with pytest.raises(ValueError, match="outputs"):
        tt.get_template_extremum_channel(analyzer, outputs="name")


def test_dense_and_main_channel_templates(arrays):
    t, median, main = arrays
    analyzer = _analyzer(arrays, return_in_uV=False)
    np.testing.assert_array_equal(tt.get_dense_templates_array(analyzer), t)
    np.testing.assert_array_equal(tt.get_dense_templates_array(analyzer, operator="median"), median)
    with pytest.raises(ValueError, match="return_in_uV"):
        tt.get_dense_templates_array(analyzer, return_in_uV=True)
    on_main = tt.get_main_channel_templates_array(analyzer)
    assert on_main.shape == (6, t.shape[1])
    for u in range(6):
        np.testing.assert_array_equal(on_main[u], t[u, :, main[u]])
    mask = np.ones((6, 8), bool)
    mask[:, 5:] = False
    sparse = Templates(t, 30000.0, NBEFORE).to_sparse(mask)
    np.testing.assert_array_equal(tt.get_dense_templates_array(sparse), t * mask[:, None, :])
    with pytest.raises(ValueError, match="is_in_uV"):
        tt.get_dense_templates_array(sparse, return_in_uV=False)
    bare = FakeAnalyzer(None, NBEFORE, main, UNITS, CHANNELS)
    with pytest.raises(ValueError, match="compute\\('templates'\\)"):
        tt.get_dense_templates_array(bare)
    with pytest.raises(TypeError, match="Templates or a SortingAnalyzer"):
        tt.get_dense_templates_array(t)
    with pytest.raises(TypeError, match="Templates or a SortingAnalyzer"):
        tt.get_main_channel_templates_array({"templates": t})


@pytest.mark.parametrize("peak_sign", ["neg", "pos", "both"])
def test_peak_shift_on_main_channel(arrays, peak_sign):
    t, _, main = arrays
    analyzer = _analyzer(arrays, peak_sign=peak_sign)
    pick = {"neg": np.argmin, "pos": np.argmax, "both": lambda x: np.argmax(np.abs(x))}[peak_sign]
    expected = [int(pick(t[u, :, main[u]])) - NBEFORE for u in range(6)]
    shifts = tt.get_template_peak_shift_on_main_channel(analyzer)
    assert shifts == dict(zip(UNITS.tolist(), expected))
    np.testing.assert_array_equal(tt.get_template_peak_shift_on_main_channel(analyzer, with_dict=False), expected)
    with pytest.raises(ValueError, match="peak_sign"):
        tt.get_template_peak_shift_on_main_channel(analyzer, peak_sign=peak_sign)
    with pytest.warns(FutureWarning):
        assert tt.get_template_extremum_channel_peak_shift(analyzer, peak_sign="pos") == shifts
    # a Templates: main channels for "both", the peak of the given sign on it
    templates = Templates(t, 30000.0, NBEFORE, unit_ids=UNITS)
    own = ref_main_channels(t, "both", "extremum", NBEFORE)
    expected = [int(pick(t[u, :, own[u]])) - NBEFORE for u in range(6)]
    assert tt.get_template_peak_shift_on_main_channel(templates, peak_sign=peak_sign) == dict(zip(UNITS.tolist(),
                                                                                                 expected))
    assert any(s != 0 for s in expected)


@pytest.mark.parametrize("peak_sign", ["neg", "pos", "both"])
@pytest.mark.parametrize("peak_mode", ["extremum", "at_index", "peak_to_peak"])
def test_amplitude_on_main_channel(arrays, peak_sign, peak_mode):
    t, _, main = arrays
    analyzer = _analyzer(arrays, peak_sign=peak_sign, peak_mode=peak_mode)
    amps = ref_amplitudes(t, peak_sign, peak_mode, NBEFORE)
    expected = np.array([amps[u, main[u]] for u in range(6)])
    got = tt.get_template_amplitude_on_main_channel(analyzer, with_dict=False)
    np.testing.assert_allclose(got, np.abs(expected), rtol=1e-6)
    signed = tt.get_template_amplitude_on_main_channel(analyzer, abs_value=False)
    np.testing.assert_allclose([signed[u] for u in UNITS.tolist()], expected, rtol=1e-6)
    at_index = tt.get_template_amplitude_on_main_channel(analyzer, peak_mode="at_index", with_dict=False)
    np.testing.assert_allclose(at_index, np.abs([ref_amplitudes(t, peak_sign, "at_index", NBEFORE)[u, main[u]]
                                                 for u in range(6)]), rtol=1e-6)
    with pytest.warns(FutureWarning):
        old = tt.get_template_extremum_amplitude(analyzer)  # 0.105's default: at_index
    np.testing.assert_allclose([old[u] for u in UNITS.tolist()], at_index, rtol=1e-6)
    with pytest.raises(ValueError, match="peak_sign"):
        tt.get_template_amplitude_on_main_channel(analyzer, peak_sign=peak_sign)
    # a Templates: the main channel of peak_sign (extremum), the amplitude of peak_sign / peak_mode
    templates = Templates(t, 30000.0, NBEFORE, unit_ids=UNITS)
    own = ref_main_channels(t, peak_sign, "extremum", NBEFORE)
    got = tt.get_template_amplitude_on_main_channel(templates, peak_sign=peak_sign, peak_mode=peak_mode,
                                                    with_dict=False)
    np.testing.assert_allclose(got, np.abs([amps[u, own[u]] for u in range(6)]), rtol=1e-6)


def test_main_channel_of_template_array_ties_and_errors():
    t = np.zeros((3, 5, 4), dtype="float32")
    t[0, 2, [1, 3]] = -3.0  # tie: first channel
    t[1, 1, [2, 0]] = 4.0
    t[2, 2, 3] = -1.0
    t[2, 0, 0] = 1.0
    for peak_sign in ("neg", "pos", "both"):
        for peak_mode in ("extremum", "at_index", "peak_to_peak"):
            np.testing.assert_array_equal(tt._get_main_channel_from_template_array(t, peak_mode, peak_sign, 2),
                                          ref_main_channels(t, peak_sign, peak_mode, 2))
    assert tt._get_main_channel_from_template_array(t, "extremum", "both", 2).tolist() == [1, 0, 0]
    assert tt._get_main_channel_from_template_array(t[:0], "extremum", "both", 2).shape == (0,)
    with pytest.raises(ValueError, match="shape"):
        tt._get_main_channel_from_template_array(t[0], "extremum", "both", 2)
    with pytest.raises(ValueError, match="peak_mode"):
        tt._get_main_channel_from_template_array(t, "max", "both", 2)
    with pytest.raises(ValueError, match="nbefore"):
        tt._get_main_channel_from_template_array(t, "at_index", "both", 9)


# ---------------------------------------------------------------------- estimate_main_channel_from_recording
@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    base = tmp_path_factory.mktemp("main_channels")
    recording, sorting = gs.generate_ground_truth_recording(durations=[2.0], sampling_frequency=30000.0,
                                                            num_channels=12, num_units=5, dtype="int16",
                                                            gain_to_uV=0.195, noise_kwargs={"noise_levels": 8.0},
                                                            generate_sorting_kwargs={"firing_rates": 10.0}, seed=21)
    rec = recording.save(folder=base / "rec", progress_bar=False)
    srt = gs.NumpySorting.from_sorting(sorting).save(folder=base / "sorting")
    return base, rec, srt


@pytest.mark.parametrize("peak_sign,peak_mode", [("both", "extremum"), ("neg", "extremum"), ("pos", "extremum"),
                                                 ("neg", "at_index"), ("both", "peak_to_peak")])
def test_estimate_main_channel_on_every_backend(saved, backend_name, peak_sign, peak_mode):
    _, rec, srt = saved
    ref, nbefore = ref_raw_templates(rec, srt, 20, 3)
    expected = ref_main_channels(ref, peak_sign, peak_mode, nbefore)
    got = tt.estimate_main_channel_from_recording(rec, srt, peak_sign=peak_sign, peak_mode=peak_mode,
                                                  num_spikes_for_main_channel=20, seed=3, backend=backend_name,
                                                  progress_bar=False)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, expected)
    array = tt._get_templates_array_from_recording_and_sorting(rec, srt, 1.0, 2.5, 20, 3, ("test", ""),
                                                              backend=backend_name, progress_bar=False)
    assert array.dtype == np.float32
    np.testing.assert_array_equal(array, ref)


def test_estimate_main_channel_errors(saved):
    _, rec, srt = saved
    with pytest.raises(ValueError, match="peak_sign"):
        tt.estimate_main_channel_from_recording(rec, srt, peak_mode="extremum")
    with pytest.raises(ValueError, match="peak_mode"):
        tt.estimate_main_channel_from_recording(rec, srt, peak_sign="neg")
    with pytest.raises(ValueError, match="peak_mode"):
        tt.estimate_main_channel_from_recording(rec, srt, peak_sign="neg", peak_mode="max")
    with pytest.raises(ValueError, match="num_spikes_for_main_channel"):
        tt.estimate_main_channel_from_recording(rec, srt, peak_sign="neg", peak_mode="extremum",
                                                num_spikes_for_main_channel=0)


SI_MAIN = textwrap.dedent('''
    import sys, warnings
    import numpy as np
    import spikeinterface.core as si
    from spikeinterface.core.template_tools import (estimate_main_channel_from_recording,
                                                    _get_templates_array_from_recording_and_sorting)
    warnings.simplefilter("ignore")
    base = sys.argv[1]
    rec, srt = si.load(base + "/rec"), si.load(base + "/sorting")
    out = {}
    for sign in ("neg", "pos", "both"):
        for mode in ("extremum", "at_index", "peak_to_peak"):
            out[sign + "_" + mode] = estimate_main_channel_from_recording(rec, srt, peak_sign=sign, peak_mode=mode,
                                                                          num_spikes_for_main_channel=15, seed=9)
    out["templates"] = _get_templates_array_from_recording_and_sorting(rec, srt, 1.0, 2.5, 15, 9)
    out["default_count"] = estimate_main_channel_from_recording(rec, srt, peak_sign="both", peak_mode="extremum",
                                                                seed=1)
    np.savez(base + "/si_main.npz", **out)
''')


@pytest.mark.compare
def test_estimate_main_channel_same_as_spikeinterface(saved):
    base, rec, srt = saved
    run_si_script(SI_MAIN, base)
    si_out = dict(np.load(base / "si_main.npz"))
    array = tt._get_templates_array_from_recording_and_sorting(rec, srt, 1.0, 2.5, 15, 9, ("test", ""),
                                                              progress_bar=False)
    np.testing.assert_array_equal(array, si_out["templates"])  # the same spikes and the same float32 means
    for sign in ("neg", "pos", "both"):
        for mode in ("extremum", "at_index", "peak_to_peak"):
            got = tt.estimate_main_channel_from_recording(rec, srt, peak_sign=sign, peak_mode=mode,
                                                          num_spikes_for_main_channel=15, seed=9,
                                                          progress_bar=False)
            np.testing.assert_array_equal(got, si_out[sign + "_" + mode], err_msg=f"{sign} {mode}")
    got = tt.estimate_main_channel_from_recording(rec, srt, peak_sign="both", peak_mode="extremum", seed=1,
                                                  progress_bar=False)
    np.testing.assert_array_equal(got, si_out["default_count"])
    assert len(set(got.tolist())) > 1


# ---------------------------------------------------------------------- SpikeInterface 0.105 on the same Templates
SETUP = textwrap.dedent('''
    if IS_SI:
        from spikeinterface.core import Templates
        import spikeinterface.core.template_tools as tt
    else:
        from gpuspike.core.template import Templates
        import gpuspike.core.template_tools as tt
    rng = np.random.default_rng(2)
    arr = rng.normal(scale=0.5, size=(5, 20, 8)).astype("float32")
    for u in range(5):
        arr[u, 5 + u % 3, (3 * u + 1) % 8] -= 10.0 + u
        arr[u, 10, (3 * u + 2) % 8] += 9.0 + 2 * u
    t = Templates(arr, 30000.0, 6, unit_ids=np.array(["a", "b", "c", "d", "e"]))
    mask = np.ones((5, 8), bool)
    mask[:, 6:] = False
''')

TOOL_CASES = {
    "amplitudes": "result = [tt.get_template_amplitudes(t, peak_sign=s, peak_mode=m, abs_value=a) "
                  "for s in ('neg', 'pos', 'both') for m in ('extremum', 'at_index', 'peak_to_peak') "
                  "for a in (True, False)]",
    "amplitudes_default": "result = tt.get_template_amplitudes(t)",
    "amplitudes_sparse": "result = tt.get_template_amplitudes(t.to_sparse(mask), peak_sign='neg', "
                         "peak_mode='extremum')",
    "on_main": "result = [tt.get_template_amplitude_on_main_channel(t, peak_sign=s, peak_mode=m, abs_value=a) "
               "for s in ('neg', 'pos', 'both') for m in ('extremum', 'at_index', 'peak_to_peak') "
               "for a in (True, False)]",
    "on_main_array": "result = np.asarray(tt.get_template_amplitude_on_main_channel(t, peak_sign='neg', "
                     "peak_mode='extremum', with_dict=False))",
    "shift": "result = [tt.get_template_peak_shift_on_main_channel(t, peak_sign=s) for s in ('neg', 'pos', 'both')]",
    "shift_default": "result = tt.get_template_peak_shift_on_main_channel(t, with_dict=False)",
    "main_array": "result = tt.get_main_channel_templates_array(t)",
    "dense": "result = tt.get_dense_templates_array(t.to_sparse(mask))",
    "dense_wrong_units": "result = tt.get_dense_templates_array(t, return_in_uV=False)",
    "old_channel": "result = [tt.get_template_extremum_channel(t, peak_sign=s, outputs=o) "
                   "for s in ('neg', 'pos') for o in ('id', 'index')]",
    "old_shift": "result = tt.get_template_extremum_channel_peak_shift(t, peak_sign='pos')",
    "old_amplitude": "result = [tt.get_template_extremum_amplitude(t), "
                     "tt.get_template_extremum_amplitude(t, peak_sign='pos', peak_mode='extremum', abs_value=False)]",
    "main_helper": "result = [tt._get_main_channel_from_template_array(arr, m, s, 6) "
                   "for s in ('neg', 'pos', 'both') for m in ('extremum', 'at_index', 'peak_to_peak')]",
}


def _round(value):
    """Encoded results with floats rounded to float32 precision (SpikeInterface returns float32 scalars)."""
    if isinstance(value, float):
        return float(np.float32(value))
    if isinstance(value, list):
        return [_round(v) for v in value]
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    return value


@pytest.mark.compare
def test_template_tools_same_as_spikeinterface(tmp_path):
    gs_out, si_out = run_cases(TOOL_CASES, tmp_path, setup=SETUP)
    for name in TOOL_CASES:
        gs_case, si_case = dict(gs_out[name]), dict(si_out[name])
        if "result" in gs_case and "result" in si_case:
            gs_case["result"], si_case["result"] = _round(gs_case["result"]), _round(si_case["result"])
            # dict values: gpuspike arrays of the templates' dtype, SpikeInterface's too: compare as encoded
        assert_same_outcome(gs_case, si_case, name, warnings=True)
    assert "error" in si_out["dense_wrong_units"]
    assert si_out["old_channel"]["warnings"] == ["FutureWarning"]
    assert si_out["amplitudes_default"]["warnings"] == ["UserWarning"]
