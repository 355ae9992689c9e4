"""Differential tests against SpikeInterface 0.105: same data, same sampled spikes, same results.

SpikeInterface runs in this interpreter when it imports spikeinterface, else in the Python given
by ``GPUSPIKE_SI_PYTHON`` (SpikeInterface pins zarr < 3: a separate environment is the usual
case); the ``si_python`` fixture (tests/conftest.py) skips without either, and fails under CI.
"""
import subprocess
import textwrap
from pathlib import Path

import numpy as np
import pytest

import gpuspike as gs


pytestmark = pytest.mark.compare

MAX_SPIKES, SEED = 20, 5

#: what every SpikeInterface script starts with: the folders written by the fixture, loaded
SI_PREAMBLE = textwrap.dedent('''
    import sys, warnings
    import numpy as np
    import spikeinterface.core as si

    base = sys.argv[1]
    warnings.simplefilter("ignore")
    rec = si.load(base + "/rec")
    sorting = si.load(base + "/sorting")
''')

SI_SCRIPT = SI_PREAMBLE + textwrap.dedent('''
    analyzer = si.create_sorting_analyzer(sorting, rec, format="memory", sparse=False, return_in_uV=True)
    analyzer.compute("random_spikes", max_spikes_per_unit=%d, seed=%d)
    analyzer.compute("waveforms", ms_before=1.0, ms_after=2.0)
    analyzer.compute("templates", operators=["average", "std", "median"])
    ext = analyzer.get_extension("templates")
    templates = ext.get_data(outputs="Templates")
    noise = np.load(base + "/noise.npy")
    masks = dict(
        radius=si.compute_sparsity(templates, method="radius", radius_um=40.0, peak_sign="neg",
                                   amplitude_mode="extremum").mask,
        best_channels=si.compute_sparsity(templates, method="best_channels", num_channels=4, peak_sign="neg",
                                          amplitude_mode="extremum").mask,
        snr=si.compute_sparsity(templates, method="snr", threshold=3.0, noise_levels=noise, peak_sign="neg",
                                amplitude_mode="extremum").mask,
        closest_channels=si.compute_sparsity(templates, method="closest_channels", num_channels=4,
                                             peak_sign="neg", amplitude_mode="extremum").mask,
        amplitude=si.compute_sparsity(templates, method="amplitude", threshold=15.0, peak_sign="neg",
                                      amplitude_mode="extremum").mask,
        amplitude_ptp=si.compute_sparsity(templates, method="amplitude", threshold=20.0, peak_sign="neg",
                                          amplitude_mode="peak_to_peak").mask,
        best_channels_at_index=si.compute_sparsity(templates, method="best_channels", num_channels=4,
                                                   peak_sign="neg", amplitude_mode="at_index").mask,
        snr_ptp=si.compute_sparsity(templates, method="snr", threshold=3.0, noise_levels=noise, peak_sign="neg",
                                    amplitude_mode="peak_to_peak").mask,
    )
    tools = dict(
        amp_ptp=si.get_template_amplitudes(templates, peak_sign="neg", peak_mode="peak_to_peak"),
        amp_signed=si.get_template_amplitudes(templates, peak_sign="neg", peak_mode="at_index", abs_value=False),
        # 0.105's get_template_extremum_channel ignores peak_sign / mode for Templates (it is deprecated);
        # Templates.get_main_channels honours them
        channel_at_index=templates.get_main_channels(peak_sign="both", peak_mode="at_index", with_dict=True),
        channel_ptp=templates.get_main_channels(peak_sign="both", peak_mode="peak_to_peak", with_dict=True),
        extremum_amplitude=si.get_template_extremum_amplitude(templates, peak_sign="pos", peak_mode="extremum",
                                                              abs_value=False),
        peak_shift=si.get_template_extremum_channel_peak_shift(templates, peak_sign="neg"),
    )
    tools = {"tool_" + k: np.array([v[u] for u in templates.unit_ids]) for k, v in tools.items()}
    np.savez(base + "/si_out.npz", selected=analyzer.get_extension("random_spikes").get_data(),
             waveforms=analyzer.get_extension("waveforms").get_data(),
             average=ext.get_data(operator="average"), std=ext.get_data(operator="std"),
             median=ext.get_data(operator="median"), **{"mask_" + k: v for k, v in masks.items()}, **tools)
''' % (MAX_SPIKES, SEED))


def _run_si(python: str, script: str, base: Path) -> None:
    out = subprocess.run([python, "-c", script, str(base)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]


@pytest.fixture(scope="module")
def both(tmp_path_factory, si_python):
    python = si_python
    base = tmp_path_factory.mktemp("diff")
    recording, sorting = gs.generate_ground_truth_recording(durations=[4.0], sampling_frequency=30000.0,
                                                            num_channels=24, num_units=6, dtype="int16",
                                                            gain_to_uV=0.195, noise_kwargs={"noise_levels": 8.0},
                                                            generate_sorting_kwargs={"firing_rates": 12.0}, seed=11)
    rec = recording.save(folder=base / "rec", progress_bar=False)
    srt = gs.NumpySorting.from_sorting(sorting).save(folder=base / "sorting")
    noise = gs.get_noise_levels(rec, return_scaled=True)
    np.save(base / "noise.npy", noise)
    _run_si(python, SI_SCRIPT, base)
    we = gs.extract_waveforms(rec, srt, mode="memory", max_spikes_per_unit=MAX_SPIKES, seed=SEED, sparse=False,
                              precompute_template=("average", "std", "median"), progress_bar=False)
    return we, dict(np.load(base / "si_out.npz")), noise


def test_same_sampled_spikes(both):
    we, si_out, _ = both
    np.testing.assert_array_equal(we._selected_indices, si_out["selected"])


def test_waveforms_bitwise_equal(both):
    we, si_out, _ = both
    units = we.sorting.to_spike_vector()["unit_index"][si_out["selected"]]
    for unit_index, unit_id in enumerate(we.unit_ids):
        np.testing.assert_array_equal(np.asarray(we.get_waveforms(unit_id)), si_out["waveforms"][units == unit_index])


@pytest.mark.parametrize("mode", ["average", "std", "median"])
def test_templates_equal(both, mode):
    we, si_out, _ = both
    ref = si_out[mode]
    np.testing.assert_allclose(we.get_all_templates(mode=mode), ref, rtol=1e-6, atol=1e-6 * np.abs(ref).max())


@pytest.mark.parametrize("key,method,kwargs", [
    ("radius", "radius", dict(radius_um=40.0)), ("best_channels", "best_channels", dict(num_channels=4)),
    ("snr", "threshold", dict(threshold=3.0)), ("closest_channels", "closest_channels", dict(num_channels=4)),
    ("amplitude", "amplitude", dict(threshold=15.0)),
    ("amplitude_ptp", "amplitude", dict(threshold=20.0, amplitude_mode="peak_to_peak")),
    ("best_channels_at_index", "best_channels", dict(num_channels=4, amplitude_mode="at_index")),
    ("snr_ptp", "snr", dict(threshold=3.0, amplitude_mode="peak_to_peak"))])
def test_sparsity_masks_equal(both, key, method, kwargs):
    we, si_out, noise = both
    sparsity = gs.compute_sparsity(we, method=method, noise_levels=noise, **kwargs)
    assert 0 < sparsity.mask.sum() < sparsity.mask.size, key  # a mask that tells something
    np.testing.assert_array_equal(sparsity.mask, si_out["mask_" + key])


@pytest.mark.parametrize("key,call", [
    ("amp_ptp", lambda we: gs.get_template_amplitudes(we, peak_sign="neg", peak_mode="peak_to_peak")),
    ("amp_signed", lambda we: gs.get_template_amplitudes(we, peak_sign="neg", peak_mode="at_index", abs_value=False)),
    ("channel_at_index", lambda we: gs.get_template_extremum_channel(we, peak_sign="both", mode="at_index",
                                                                     outputs="index")),
    ("channel_ptp", lambda we: gs.get_template_extremum_channel(we, peak_sign="both", mode="peak_to_peak",
                                                                outputs="index")),
    ("extremum_amplitude", lambda we: gs.get_template_extremum_amplitude(we, peak_sign="pos", peak_mode="extremum",
                                                                         abs_value=False)),
    ("peak_shift", lambda we: gs.get_template_extremum_channel_peak_shift(we, peak_sign="neg"))])
def test_template_tools_equal(both, key, call):
    """SpikeInterface 0.105's keywords (peak_mode, abs_value) give its values."""
    we, si_out, _ = both
    values = call(we)
    ref = si_out["tool_" + key]
    np.testing.assert_allclose(np.array([values[u] for u in we.unit_ids]), ref, rtol=1e-5,
                               atol=1e-5 * np.abs(ref).max())


SI_EDGE_SCRIPT = SI_PREAMBLE + textwrap.dedent('''
    from spikeinterface.core.waveform_tools import estimate_templates_with_accumulator

    analyzer = si.create_sorting_analyzer(sorting, rec, format="memory", sparse=False, return_in_uV=True)
    analyzer.compute("random_spikes", method="all")
    analyzer.compute("waveforms", ms_before=1.0, ms_after=2.0)
    analyzer.compute("templates", operators=["average", "std"])
    ext = analyzer.get_extension("templates")
    mean, std = estimate_templates_with_accumulator(rec, sorting.to_spike_vector(), sorting.unit_ids, 30, 60,
                                                    return_in_uV=True, return_std=True, n_jobs=1,
                                                    progress_bar=False)
    np.savez(base + "/si_out.npz", waveforms=analyzer.get_extension("waveforms").get_data(),
             average=ext.get_data(operator="average"), std=ext.get_data(operator="std"),
             acc_average=mean, acc_std=std)
''')


@pytest.fixture(scope="module")
def edges(tmp_path_factory, si_python):
    """Spikes at and near both edges of two segments, every spike extracted by both tools."""
    python = si_python
    base = tmp_path_factory.mktemp("diff_edges")
    recording, _ = gs.generate_ground_truth_recording(durations=[0.5, 0.4], sampling_frequency=30000.0,
                                                      num_channels=8, num_units=2, dtype="int16", gain_to_uV=0.195,
                                                      noise_kwargs={"noise_levels": 8.0}, seed=3)
    rec = recording.save(folder=base / "rec", progress_bar=False)
    frames, labels = [], []
    for n in (15000, 12000):
        frames.append(np.array([0, 7, 29, 30, 5000, n - 61, n - 60, n - 59, n - 3]))
        labels.append(np.array([0, 1, 0, 1, 0, 1, 0, 1, 0]))
    srt = gs.NumpySorting.from_times_labels(frames, labels, 30000.0).save(folder=base / "sorting")
    _run_si(python, SI_EDGE_SCRIPT, base)
    return rec, srt, dict(np.load(base / "si_out.npz"))


def test_edge_spikes_same_as_spikeinterface(edges):
    rec, srt, si_out = edges
    we = gs.extract_waveforms(rec, srt, mode="memory", max_spikes_per_unit=None, sparse=False,
                              precompute_template=("average", "std"), progress_bar=False)
    units = srt.to_spike_vector()["unit_index"]
    for unit_index, unit_id in enumerate(we.unit_ids):
        np.testing.assert_array_equal(np.asarray(we.get_waveforms(unit_id)), si_out["waveforms"][units == unit_index])
    for mode in ("average", "std"):
        ref = si_out[mode]
        np.testing.assert_allclose(we.get_all_templates(mode=mode), ref, rtol=1e-6, atol=1e-6 * np.abs(ref).max())


def test_templates_of_all_spikes_same_as_spikeinterface_accumulator(edges):
    rec, srt, si_out = edges
    tw = gs.compute_templates(rec, srt, progress_bar=False)
    for mode, key in (("average", "acc_average"), ("std", "acc_std")):
        ref = si_out[key]
        # SpikeInterface accumulates in float32: its own precision bounds the agreement
        np.testing.assert_allclose(tw.get_all_templates(mode=mode), ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())
