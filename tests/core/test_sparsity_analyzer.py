"""ChannelSparsity / compute_sparsity with a SortingAnalyzer or a Templates (SpikeInterface 0.105's rules)
against NumPy references, and estimate_sparsity on every backend and against SpikeInterface 0.105."""
import math
import textwrap

import numpy as np
import probeinterface as pi
import pytest

import gpuspike as gs
from gpuspike.core.sparsity import ChannelSparsity, compute_sparsity
from gpuspike.core.template import Templates
from gpuspike.core.waveforms_compat import estimate_sparsity

from _analyzer_fake import FakeAnalyzer, make_templates, ref_amplitudes, ref_main_channels, ref_raw_templates
from _si_compare import assert_same_outcome, run_cases, run_si_script

NBEFORE = 6
UNITS = np.array(["u0", "u1", "u2", "u3", "u4", "u5"])
CHANNELS = np.array([f"ch{i}" for i in range(8)])
#: a linear probe: the channels above and below a channel are equally far (ties for closest_channels)
LOCATIONS = np.stack([np.zeros(8), np.arange(8) * 20.0], axis=1)
NOISE = np.linspace(0.6, 2.0, 8).astype("float32")


# ---------------------------------------------------------------------- NumPy references
def ref_best(amps, n):
    mask = np.zeros(amps.shape, bool)
    for u in range(amps.shape[0]):
        for c in sorted(range(amps.shape[1]), key=lambda c: (-abs(amps[u, c]), c))[:n]:
            mask[u, c] = True
    return mask


def ref_radius(locations, main, radius):
    return np.array([[math.dist(locations[m], locations[c]) <= radius for c in range(len(locations))] for m in main])


def ref_closest(locations, main, n):
    mask = np.zeros((len(main), len(locations)), bool)
    for u, m in enumerate(main):
        for c in sorted(range(len(locations)), key=lambda c: (math.dist(locations[m], locations[c]), c))[:n]:
            mask[u, c] = True
    return mask


def ref_snr(amps, noise, threshold):
    return np.abs(amps) / np.asarray(noise, "float64")[None, :] >= threshold


# ---------------------------------------------------------------------- data
@pytest.fixture(scope="module")
def data():
    t = make_templates(num_channels=8)
    own = ref_main_channels(t, "both", "extremum", NBEFORE)
    main = (own + 3) % 8  # the analyzer's main channels are its own, never recomputed from the templates
    rng = np.random.default_rng(5)
    waveforms = {u: (t[i] + rng.normal(scale=1.0, size=(7 + i, 20, 8))).astype("float32")
                 for i, u in enumerate(UNITS.tolist())}
    waveforms["u5"] = np.zeros((0, 20, 8), "float32")
    return t, main, waveforms


def _analyzer(data, **kw):
    t, main, waveforms = data
    kw.setdefault("noise_levels", NOISE)
    return FakeAnalyzer(t, NBEFORE, main, UNITS, CHANNELS, locations=LOCATIONS, waveforms=waveforms, **kw)


def _templates(data, probe=True, **kw):
    probe_obj = None
    if probe:
        probe_obj = pi.Probe(ndim=2)
        probe_obj.set_contacts(positions=LOCATIONS)
    return Templates(data[0], 30000.0, NBEFORE, unit_ids=UNITS, channel_ids=CHANNELS, probe=probe_obj, **kw)


def _informative(mask):
    assert 0 < mask.sum() < mask.size
    return mask


# ---------------------------------------------------------------------- analyzer
def test_radius_and_closest_use_the_analyzers_main_channels(data):
    _, main, _ = data
    analyzer = _analyzer(data, peak_sign="neg", peak_mode="peak_to_peak")
    for radius in (20.0, 45.0):
        expected = _informative(ref_radius(LOCATIONS, main, radius))
        assert ChannelSparsity.from_radius(analyzer, radius) == ChannelSparsity(expected, UNITS, CHANNELS)
        np.testing.assert_array_equal(compute_sparsity(analyzer, method="radius", radius_um=radius).mask, expected)
    for n in (2, 3):
        expected = _informative(ref_closest(LOCATIONS, main, n))
        np.testing.assert_array_equal(ChannelSparsity.from_closest_channels(analyzer, n).mask, expected)
        np.testing.assert_array_equal(compute_sparsity(analyzer, method="closest_channels", num_channels=n).mask,
                                      expected)
    for call in (lambda: ChannelSparsity.from_radius(analyzer, 30.0, peak_sign="neg"),
                 lambda: compute_sparsity(analyzer, method="radius", peak_sign="neg"),
                 lambda: compute_sparsity(analyzer, method="closest_channels", amplitude_mode="extremum")):
        with pytest.raises(ValueError, match="pass (peak_sign|amplitude_mode|peak_mode)=None"):
            call()
    bare = FakeAnalyzer(data[0], NBEFORE, main, UNITS, CHANNELS)
    with pytest.raises(ValueError, match="locations"):
        ChannelSparsity.from_radius(bare, 30.0)


@pytest.mark.parametrize("peak_sign", ["neg", "pos", "both"])
@pytest.mark.parametrize("peak_mode", ["extremum", "at_index", "peak_to_peak"])
def test_amplitude_methods_use_the_analyzers_settings(data, peak_sign, peak_mode):
    t = data[0]
    analyzer = _analyzer(data, peak_sign=peak_sign, peak_mode=peak_mode)
    amps = ref_amplitudes(t, peak_sign, peak_mode, NBEFORE)
    extremum = ref_amplitudes(t, peak_sign, "extremum", NBEFORE)
    # compute_sparsity: amplitude_mode None is the analyzer's peak_mode
    np.testing.assert_array_equal(compute_sparsity(analyzer, method="best_channels", num_channels=3).mask,
                                  _informative(ref_best(amps, 3)))
    # from_best_channels: amplitude_mode defaults to "extremum" (0.105's signature)
    np.testing.assert_array_equal(ChannelSparsity.from_best_channels(analyzer, 3).mask, ref_best(extremum, 3))
    np.testing.assert_array_equal(ChannelSparsity.from_best_channels(analyzer, 30).mask, np.ones((6, 8), bool))
    np.testing.assert_array_equal(compute_sparsity(analyzer, method="snr", threshold=4.0).mask,
                                  ref_snr(amps, NOISE, 4.0))
    np.testing.assert_array_equal(ChannelSparsity.from_snr(analyzer, 4.0, amplitude_mode="extremum").mask,
                                  ref_snr(extremum, NOISE, 4.0))
    np.testing.assert_array_equal(compute_sparsity(analyzer, method="amplitude", threshold=2.5).mask,
                                  np.abs(amps) >= 2.5)
    # noise levels given explicitly are used instead of the extension's
    other = np.full(8, 3.0)
    np.testing.assert_array_equal(compute_sparsity(analyzer, other, method="snr", threshold=2.0).mask,
                                  ref_snr(amps, other, 2.0))
    with pytest.raises(ValueError, match="peak_sign"):
        compute_sparsity(analyzer, method="best_channels", peak_sign=peak_sign)
    with pytest.raises(ValueError, match="peak_sign"):
        ChannelSparsity.from_snr(analyzer, 4.0, peak_sign=peak_sign)


def test_snr_amplitude_energy_requirements(data):
    t, main, _ = data
    mask = np.ones((6, 8), bool)
    sparse = _analyzer(data, sparsity=ChannelSparsity(mask, UNITS, CHANNELS))
    for method in ("snr", "amplitude", "energy"):
        with pytest.raises(ValueError, match="dense"):
            compute_sparsity(sparse, method=method, threshold=1.0)
    with pytest.raises(ValueError, match="compute\\('noise_levels'\\)"):
        compute_sparsity(FakeAnalyzer(t, NBEFORE, main, UNITS, CHANNELS), method="snr")
    with pytest.raises(ValueError, match="compute\\('waveforms'\\)"):
        compute_sparsity(FakeAnalyzer(t, NBEFORE, main, UNITS, CHANNELS, noise_levels=NOISE), method="energy")
    with pytest.raises(ValueError, match="µV"):
        compute_sparsity(_analyzer(data, return_in_uV=False), method="amplitude", threshold=1.0)
    with pytest.raises(ValueError, match="one per channel"):
        compute_sparsity(_analyzer(data), NOISE[:3], method="snr")


def test_energy(data):
    _, _, waveforms = data
    analyzer = _analyzer(data)
    expected = np.zeros((6, 8), bool)
    for u, unit_id in enumerate(UNITS.tolist()):
        w = waveforms[unit_id].astype("float64")
        for c in range(8):
            if w.shape[0]:
                energy = math.sqrt(float((w[:, :, c] ** 2).sum()))
                expected[u, c] = energy / (math.sqrt(w.shape[1]) * NOISE[c] * math.sqrt(w.shape[0])) >= 1.4
    _informative(expected)
    np.testing.assert_array_equal(compute_sparsity(analyzer, method="energy", threshold=1.4).mask, expected)
    np.testing.assert_array_equal(ChannelSparsity.from_energy(analyzer, 1.4).mask, expected)
    assert not expected[5].any()  # no waveforms: no channel
    with pytest.raises(ValueError, match="SortingAnalyzer"):
        compute_sparsity(_templates(data), NOISE, method="energy")
    with pytest.raises(ValueError, match="amplitude_mode"):
        compute_sparsity(analyzer, method="energy", amplitude_mode="extremum")


def test_by_property(data):
    t, main, _ = data
    groups = np.repeat([0, 1, 2, 3], 2)
    analyzer = _analyzer(data, unit_properties={"group": [3, 2, 1, 0, 3, 1]}, channel_properties={"group": groups})
    expected = groups[None, :] == np.array([3, 2, 1, 0, 3, 1])[:, None]
    np.testing.assert_array_equal(compute_sparsity(analyzer, method="by_property", by_property="group").mask,
                                  expected)
    np.testing.assert_array_equal(ChannelSparsity.from_property(analyzer, "group").mask, expected)
    # 0.105's form: a sorting and a recording
    recording = gs.NumpyRecording([np.zeros((100, 8), "float32")], 30000.0, channel_ids=CHANNELS)
    recording.set_property("group", groups)
    sp = ChannelSparsity.from_property(analyzer.sorting, recording, "group")
    assert sp == ChannelSparsity(expected, UNITS, CHANNELS)
    odd = _analyzer(data, unit_properties={"group": [3, 2, 1, 0, 9, 1]}, channel_properties={"group": groups})
    with pytest.raises(ValueError, match="9"):
        compute_sparsity(odd, method="by_property", by_property="group")
    no_unit_values = _analyzer(data, channel_properties={"group": groups})
    with pytest.raises(ValueError, match="sorting property"):
        compute_sparsity(no_unit_values, method="by_property", by_property="group")
    with pytest.raises(ValueError, match="needs a SortingAnalyzer"):
        compute_sparsity(_templates(data), method="by_property", by_property="group")
    with pytest.raises(ValueError, match="recording"):
        ChannelSparsity.from_property(analyzer.sorting, by_property="group")


def test_create_dense_and_ptp(data):
    analyzer = _analyzer(data)
    assert ChannelSparsity.create_dense(analyzer) == ChannelSparsity(np.ones((6, 8), bool), UNITS, CHANNELS)
    assert ChannelSparsity.create_dense(_templates(data)) == ChannelSparsity(np.ones((6, 8), bool), UNITS, CHANNELS)
    ptp = ref_amplitudes(data[0], "both", "peak_to_peak", NBEFORE)
    np.testing.assert_array_equal(compute_sparsity(analyzer, method="ptp", threshold=5.0).mask,
                                  _informative(ref_snr(ptp, NOISE, 5.0)))


# ---------------------------------------------------------------------- Templates
@pytest.mark.parametrize("peak_sign", ["neg", "pos", "both"])
@pytest.mark.parametrize("amplitude_mode", ["extremum", "at_index", "peak_to_peak"])
def test_templates(data, peak_sign, amplitude_mode):
    t = data[0]
    templates = _templates(data)
    amps = ref_amplitudes(t, peak_sign, amplitude_mode, NBEFORE)
    main = ref_main_channels(t, peak_sign, amplitude_mode, NBEFORE)
    kw = dict(peak_sign=peak_sign, amplitude_mode=amplitude_mode)
    np.testing.assert_array_equal(compute_sparsity(templates, method="radius", radius_um=25.0, **kw).mask,
                                  ref_radius(LOCATIONS, main, 25.0))
    np.testing.assert_array_equal(compute_sparsity(templates, method="closest_channels", num_channels=3, **kw).mask,
                                  ref_closest(LOCATIONS, main, 3))
    np.testing.assert_array_equal(compute_sparsity(templates, method="best_channels", num_channels=2, **kw).mask,
                                  ref_best(amps, 2))
    np.testing.assert_array_equal(compute_sparsity(templates, NOISE, method="snr", threshold=3.0, **kw).mask,
                                  ref_snr(amps, NOISE, 3.0))
    np.testing.assert_array_equal(compute_sparsity(templates, method="amplitude", threshold=3.0, **kw).mask,
                                  np.abs(amps) >= 3.0)
    np.testing.assert_array_equal(ChannelSparsity.from_radius(templates, 25.0, peak_sign, amplitude_mode).mask,
                                  ref_radius(LOCATIONS, main, 25.0))


def test_templates_requirements(data):
    templates = _templates(data)
    with pytest.raises(ValueError, match="peak_sign and amplitude_mode"):
        compute_sparsity(templates, method="best_channels")
    with pytest.raises(ValueError, match="amplitude_mode"):
        compute_sparsity(templates, method="radius", peak_sign="neg")
    with pytest.raises(ValueError, match="noise_levels"):
        compute_sparsity(templates, method="snr", peak_sign="neg", amplitude_mode="extremum")
    with pytest.raises(ValueError, match="is_in_uV"):
        compute_sparsity(_templates(data, is_in_uV=False), method="amplitude", peak_sign="neg",
                         amplitude_mode="extremum")
    with pytest.raises(ValueError, match="locations"):
        compute_sparsity(_templates(data, probe=False), method="radius", peak_sign="neg", amplitude_mode="extremum")
    mask = np.ones((6, 8), bool)
    mask[:, 0] = False
    with pytest.raises(ValueError, match="dense"):
        compute_sparsity(templates.to_sparse(mask), NOISE, method="snr", peak_sign="neg", amplitude_mode="extremum")
    # the analyzer-free defaults of the constructors: "both" / "extremum", with the warning of get_template_amplitudes
    with pytest.warns(UserWarning, match="peak_sign"):
        sp = ChannelSparsity.from_best_channels(templates, 2)
    np.testing.assert_array_equal(sp.mask, ref_best(ref_amplitudes(data[0], "both", "extremum", NBEFORE), 2))


def test_legacy_positional_forms_still_work(data):
    t = data[0]
    d = {"templates": t, "channel_locations": LOCATIONS, "noise_levels": NOISE, "unit_ids": UNITS,
         "channel_ids": CHANNELS, "nbefore": NBEFORE}
    # the specification's order: method second, then peak_sign
    assert compute_sparsity(d, "best_channels", "both", num_channels=2) == \
        compute_sparsity(d, method="best_channels", peak_sign="both", num_channels=2)
    assert compute_sparsity(d, "radius", radius_um=25.0) == compute_sparsity(d, method="radius", radius_um=25.0)
    np.testing.assert_array_equal(compute_sparsity(d, "radius", radius_um=25.0).mask,
                                  ref_radius(LOCATIONS, ref_main_channels(t, "neg", "extremum", NBEFORE), 25.0))
    with pytest.raises(TypeError, match="keyword"):
        compute_sparsity(d, "best_channels", "both", 2)
    # from_snr(we, threshold, peak_sign, noise_levels): 0.100's order
    noise = np.full(8, 0.8)
    expected = ref_snr(ref_amplitudes(t, "pos", "extremum", NBEFORE), noise, 5.0)
    np.testing.assert_array_equal(ChannelSparsity.from_snr(d, 5.0, "pos", noise).mask, _informative(expected))
    np.testing.assert_array_equal(ChannelSparsity.from_snr(d, 5.0, peak_sign="pos", noise_levels=noise).mask, expected)
    # from_property(we, by_property[, peak_sign]) on a templates dict with a recording
    recording = gs.NumpyRecording([np.zeros((100, 8), "float32")], 30000.0, channel_ids=CHANNELS)
    recording.set_property("group", np.repeat([0, 1], 4))
    d["recording"] = recording
    channels = ref_main_channels(t, "pos", "extremum", NBEFORE)
    groups = np.repeat([0, 1], 4)
    np.testing.assert_array_equal(ChannelSparsity.from_property(d, "group", "pos").mask,
                                  groups[None, :] == groups[channels][:, None])


# ---------------------------------------------------------------------- estimate_sparsity
@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    base = tmp_path_factory.mktemp("estimate_sparsity")
    recording, sorting = gs.generate_ground_truth_recording(durations=[2.0], sampling_frequency=30000.0,
                                                            num_channels=16, num_units=6, dtype="int16",
                                                            gain_to_uV=0.195, noise_kwargs={"noise_levels": 8.0},
                                                            generate_sorting_kwargs={"firing_rates": 10.0}, seed=13)
    rec = recording.save(folder=base / "rec", progress_bar=False)
    srt = gs.NumpySorting.from_sorting(sorting).save(folder=base / "sorting")
    noise = gs.get_noise_levels(rec, return_scaled=False)
    np.save(base / "noise.npy", noise)
    # two probes at the same positions: the estimate moves them apart
    group = pi.ProbeGroup()
    for k in range(2):
        probe = pi.generate_linear_probe(num_elec=8, ypitch=25)
        probe.set_device_channel_indices(np.arange(8) + 8 * k)
        group.add_probe(probe)
    rec.set_probegroup(group, in_place=False, check_overlap=False).save(folder=base / "rec2", progress_bar=False)
    return base, rec, srt, noise


def _ref_masks(rec, srt, noise):
    """The masks of the cases below from the NumPy raw templates (SpikeInterface's seed 2205)."""
    t, nbefore = ref_raw_templates(rec, srt, 25, 2205)
    locations = rec.get_channel_locations()
    main = ref_main_channels(t, "both", "extremum", nbefore)
    return {
        "radius": ref_radius(locations, main, 40.0),
        "radius_ptp_neg": ref_radius(locations, ref_main_channels(t, "neg", "peak_to_peak", nbefore), 40.0),
        "radius_main": ref_radius(locations, np.arange(6) * 2, 50.0),
        "best_channels": ref_best(ref_amplitudes(t, "both", "extremum", nbefore), 4),
        "best_channels_at_index": ref_best(ref_amplitudes(t, "neg", "at_index", nbefore), 3),
        "snr": ref_snr(ref_amplitudes(t, "both", "extremum", nbefore), noise, 4.0),
        "amplitude_ptp": np.abs(ref_amplitudes(t, "both", "peak_to_peak", nbefore)) >= 150.0,
        "closest_channels": ref_closest(locations, main, 3),
    }


CASES = {
    "radius": dict(method="radius", radius_um=40.0),
    "radius_ptp_neg": dict(method="radius", radius_um=40.0, peak_sign="neg", amplitude_mode="peak_to_peak"),
    "radius_main": dict(method="radius", radius_um=50.0, main_channel_indices=np.arange(6) * 2),
    "best_channels": dict(method="best_channels", num_channels=4),
    "best_channels_at_index": dict(method="best_channels", num_channels=3, peak_sign="neg", amplitude_mode="at_index"),
    "snr": dict(method="snr", threshold=4.0, noise_levels="NOISE"),
    "amplitude_ptp": dict(method="amplitude", threshold=150.0, amplitude_mode="peak_to_peak"),
    "closest_channels": dict(method="closest_channels", num_channels=3),
}


def _kwargs(case, noise):
    return {k: (noise if isinstance(v, str) and v == "NOISE" else v) for k, v in CASES[case].items()}


@pytest.mark.parametrize("case", sorted(CASES))
def test_estimate_sparsity_on_every_backend(saved, backend_name, case):
    _, rec, srt, noise = saved
    expected = _ref_masks(rec, srt, noise)[case]
    sparsity = estimate_sparsity(srt, rec, num_spikes_for_sparsity=25, backend=backend_name, progress_bar=False,
                                 **_kwargs(case, noise))
    assert sparsity.unit_ids.tolist() == srt.unit_ids.tolist()
    np.testing.assert_array_equal(sparsity.mask, _informative(expected))


def test_estimate_sparsity_errors(saved):
    _, rec, srt, _ = saved
    with pytest.raises(ValueError, match="energy"):
        estimate_sparsity(srt, rec, method="energy")
    with pytest.raises(ValueError, match="main_channel_indices"):
        estimate_sparsity(srt, rec, main_channel_indices=[0, 1])
    with pytest.raises(ValueError, match="main_channel_indices"):
        estimate_sparsity(srt, rec, main_channel_indices=np.full(6, 99))
    with pytest.raises(ValueError, match="peak_sign"):
        estimate_sparsity(srt, rec, method="best_channels", peak_sign="down")
    bare = gs.NumpyRecording([rec.get_traces(end_frame=3000)], rec.sampling_frequency)
    with pytest.raises(ValueError, match="locations"):
        estimate_sparsity(srt.frame_slice(0, 3000), bare, method="closest_channels")


SI_ESTIMATE = textwrap.dedent('''
    import sys, json, warnings
    import numpy as np
    import spikeinterface.core as si
    warnings.simplefilter("ignore")
    base = sys.argv[1]
    cases = json.loads(sys.argv[2])
    rec, srt = si.load(base + "/rec"), si.load(base + "/sorting")
    noise = np.load(base + "/noise.npy")
    out = {}
    for name, kw in cases.items():
        kw = {k: (noise if v == "NOISE" else np.asarray(v) if isinstance(v, list) else v) for k, v in kw.items()}
        out[name] = si.estimate_sparsity(srt, rec, num_spikes_for_sparsity=25, **kw).mask
    rec2 = si.load(base + "/rec2")
    out["two_probes"] = si.estimate_sparsity(srt, rec2, num_spikes_for_sparsity=25, radius_um=30.0).mask
    np.savez(base + "/si_estimate.npz", **out)
''')


@pytest.mark.compare
def test_estimate_sparsity_same_as_spikeinterface(saved):
    import json

    base, rec, srt, noise = saved
    cases = {k: {kk: (vv.tolist() if isinstance(vv, np.ndarray) else vv) for kk, vv in v.items()}
             for k, v in CASES.items()}
    run_si_script(SI_ESTIMATE, base, json.dumps(cases))
    si_out = dict(np.load(base / "si_estimate.npz"))
    for case in CASES:
        got = estimate_sparsity(srt, rec, num_spikes_for_sparsity=25, progress_bar=False, **_kwargs(case, noise))
        np.testing.assert_array_equal(got.mask, _informative(si_out[case]), err_msg=case)
    rec2 = gs.load(base / "rec2")
    got = estimate_sparsity(srt, rec2, num_spikes_for_sparsity=25, radius_um=30.0, progress_bar=False)
    np.testing.assert_array_equal(got.mask, _informative(si_out["two_probes"]))
    # the probes moved apart: no unit reaches the other probe's channels
    assert not (got.mask[:, :8].any(axis=1) & got.mask[:, 8:].any(axis=1)).any()


# ---------------------------------------------------------------------- SpikeInterface 0.105 on the same Templates
SETUP = textwrap.dedent('''
    import probeinterface as pi
    if IS_SI:
        from spikeinterface.core import Templates, ChannelSparsity, compute_sparsity
    else:
        from gpuspike.core.template import Templates
        from gpuspike.core.sparsity import ChannelSparsity, compute_sparsity
    rng = np.random.default_rng(8)
    arr = rng.normal(scale=0.5, size=(5, 20, 10)).astype("float32")
    for u in range(5):
        arr[u, 5 + u % 3, (2 * u + 1) % 10] -= 10.0 + u
        arr[u, 12, (2 * u + 4) % 10] += 9.0 + 2 * u
    probe = pi.generate_linear_probe(num_elec=10, ypitch=20)
    probe.set_device_channel_indices(np.arange(10))
    t = Templates(arr, 30000.0, 6, unit_ids=np.array(["a", "b", "c", "d", "e"]), probe=probe)
    noise = np.linspace(0.5, 1.5, 10).astype("float32")
''')

SPARSITY_CASES = {
    f"{method}_{sign}_{mode}": (f"result = compute_sparsity(t, noise_levels=noise, method={method!r}, "
                                f"peak_sign={sign!r}, amplitude_mode={mode!r}, num_channels=3, radius_um=30.0, "
                                f"threshold=4.0).mask")
    for method in ("radius", "best_channels", "snr", "amplitude", "closest_channels")
    for sign in ("neg", "both") for mode in ("extremum", "at_index", "peak_to_peak")
}
SPARSITY_CASES.update({
    "no_peak_sign": "result = compute_sparsity(t, method='radius', amplitude_mode='extremum').mask",
    "energy_templates": "result = compute_sparsity(t, method='energy').mask",
    "snr_no_noise": "result = compute_sparsity(t, method='snr', peak_sign='neg', amplitude_mode='extremum').mask",
    "from_radius": "result = ChannelSparsity.from_radius(t, 25.0, peak_sign='pos', peak_mode='extremum').mask",
    "from_best": "result = ChannelSparsity.from_best_channels(t, 2, peak_sign='both').mask",
    "from_snr": "result = ChannelSparsity.from_snr(t, 3.0, amplitude_mode='peak_to_peak', peak_sign='neg', "
                "noise_levels=noise).mask",
    "from_amplitude": "result = ChannelSparsity.from_amplitude(t, 4.0, amplitude_mode='at_index', "
                      "peak_sign='pos').mask",
    "from_radius_main": "result = ChannelSparsity.from_radius_and_main_channel(t.unit_ids, t.channel_ids, "
                        "[0, 3, 9, 4, 4], t.get_channel_locations(), 41.0).mask",
    "dense": "result = ChannelSparsity.create_dense(t).mask",
})


@pytest.mark.compare
def test_sparsity_of_templates_same_as_spikeinterface(tmp_path):
    gs_out, si_out = run_cases(SPARSITY_CASES, tmp_path, setup=SETUP)
    for name in SPARSITY_CASES:
        assert_same_outcome(gs_out[name], si_out[name], name)
        if "result" in si_out[name] and name != "dense":  # masks that tell something
            values = np.array(si_out[name]["result"]["array"])
            assert 0 < values.sum() < values.size, name
    for name in ("no_peak_sign", "energy_templates", "snr_no_noise"):
        assert "error" in si_out[name], name
