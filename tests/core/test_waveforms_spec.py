"""The specification's WaveformExtractor and Sparsity examples, and SpikeInterface opening our folders."""
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

import gpuspike as gs
from gpuspike import compute_sparsity, extract_waveforms, load_waveforms

from _waveforms_helpers import JOB, assert_close, gt, ref_select, ref_templates, ref_waveforms


@pytest.fixture
def spec_env(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    gs.set_global_job_kwargs(engine="thread", progress_bar=False)  # n_jobs=8 of the example, as threads
    yield gt(seed=41, num_channels=16, num_units=4, durations=(1.5,), rate=15.0)
    gs.reset_global_job_kwargs()


def test_spec_waveform_extractor_example(spec_env):
    recording, sorting = spec_env
    unit0 = sorting.unit_ids[0]
    # --- specification text (with generated data)
    we = extract_waveforms(recording, sorting, folder="waveforms",
                           max_spikes_per_unit=500)
    job_kwargs = dict(n_jobs=8, chunk_duration="1s")
    we = extract_waveforms(recording, sorting, folder="waveforms_par",
                           max_spikes_per_unit=500, overwrite=True,
                           **job_kwargs)
    we_mem = extract_waveforms(recording, sorting, folder=None,
                               mode="memory", max_spikes_per_unit=500,
                               **job_kwargs)
    we_loaded = load_waveforms(folder="waveforms")
    waveforms0 = we.get_waveforms(unit0)
    template0 = we.get_template(unit0)
    we.precompute_templates(modes=("std",))
    template_means = we.get_all_templates(mode="average")
    template_stds = we.get_all_templates(mode="std")
    we_zarr = we.save(folder="waveforms.zarr", format="zarr")
    we_sparse = extract_waveforms(recording, sorting, folder="waveforms_sparse",
                                  max_spikes_per_unit=500, sparse=True,
                                  method="radius", radius_um=40,
                                  num_spikes_for_sparsity=50)
    # --- checks: every spike is taken (< 500 per unit), so seeds do not matter; extract_waveforms is sparse by
    # default (SpikeInterface >= 0.99): waveforms on each unit's channels, dense templates zero elsewhere
    ref = ref_waveforms(recording, sorting, np.arange(sorting.to_spike_vector().size), dtype="float32")
    assert we.is_sparse() and we_mem.sparsity == we.sparsity and we_loaded.sparsity == we.sparsity
    mask = we.sparsity.mask
    np.testing.assert_array_equal(np.asarray(waveforms0), ref[unit0][:, :, mask[0]])
    for other in (we_mem, we_loaded, we_zarr):
        np.testing.assert_array_equal(np.asarray(other.get_waveforms(unit0)), ref[unit0][:, :, mask[0]])
    assert_close(template0, ref_templates(ref, sorting.unit_ids, "average")[0][:, mask[0]])
    assert_close(template_means, ref_templates(ref, sorting.unit_ids, "average") * mask[:, None, :])
    assert_close(template_stds, ref_templates(ref, sorting.unit_ids, "std") * mask[:, None, :])
    assert_close(we_zarr.get_all_templates(mode="std"), template_stds)
    assert Path("waveforms/params.json").is_file() and Path("waveforms.zarr").is_dir()
    assert we_sparse.is_sparse()
    for i, u in enumerate(sorting.unit_ids.tolist()):
        np.testing.assert_array_equal(np.asarray(we_sparse.get_waveforms(u)), ref[u][:, :, we_sparse.sparsity.mask[i]])


def test_spec_sparsity_example(spec_env):
    recording, sorting = spec_env
    we = extract_waveforms(recording, sorting, folder="waveforms", max_spikes_per_unit=50, seed=0)
    # --- specification text
    sparsity = compute_sparsity(we, method="radius", radius_um=40)
    unit_id_to_channel_ids = sparsity.unit_id_to_channel_ids
    unit_id_to_channel_indices = sparsity.unit_id_to_channel_indices
    we_sparse = we.save(sparsity=sparsity, folder="waveforms_sparse")  # the text's we.save(we, ...) is a typo
    # --- checks
    locations = recording.get_channel_locations()
    templates = we.get_all_templates().astype("float64")
    best = np.argmin(templates.min(axis=1), axis=1)
    for i, u in enumerate(sorting.unit_ids.tolist()):
        near = np.flatnonzero(np.linalg.norm(locations - locations[best[i]], axis=1) <= 40)
        np.testing.assert_array_equal(unit_id_to_channel_indices[u], near)
        np.testing.assert_array_equal(unit_id_to_channel_ids[u], recording.channel_ids[near])
        np.testing.assert_array_equal(np.asarray(we_sparse.get_waveforms(u)),
                                      np.asarray(we.get_waveforms(u, force_dense=True))[:, :, near])
    assert we_sparse.is_sparse() and we_sparse.sparsity == sparsity
    sizes = lambda folder: sum(p.stat().st_size for p in Path(folder, "waveforms").glob("waveforms_*.npy"))  # noqa
    assert sizes("waveforms_sparse") < sizes("waveforms")


# ---------------------------------------------------------------------- SpikeInterface differential
_SI_SCRIPT = r"""
import json, sys
import numpy as np
import spikeinterface.core as si
from spikeinterface.core.waveforms_extractor_backwards_compatibility import load_waveforms
folder, spikes_file, fs, unit_ids = sys.argv[1], sys.argv[2], float(sys.argv[3]), json.loads(sys.argv[4])
spikes = np.load(spikes_file)
sorting = si.NumpySorting(spikes, fs, unit_ids=unit_ids)
we = load_waveforms(folder, sorting=sorting, with_recording=False)
out = {"templates": we.get_all_templates(mode="average").tolist(),
       "sparse": bool(we.sparsity is not None),
       "waveforms": {str(u): np.asarray(we.get_waveforms(u)).tolist() for u in we.unit_ids}}
from spikeinterface.core.sorting_tools import random_spikes_selection
out["selection"] = random_spikes_selection(sorting, method="uniform", max_spikes_per_unit=7, seed=5).tolist()
print("JSON" + json.dumps(out))
"""


@pytest.mark.compare
@pytest.mark.parametrize("sparse", [False, True])
def test_spikeinterface_opens_our_folder(tmp_path, sparse, si_python):
    recording, sorting = gt(seed=2, num_channels=8, num_units=3, durations=(1.0,), rate=15.0)
    we = extract_waveforms(recording, sorting, folder=tmp_path / "wf", max_spikes_per_unit=5, seed=0, sparse=sparse,
                           method="best_channels", num_channels=3, **JOB)
    np.save(tmp_path / "spikes.npy", sorting.to_spike_vector())
    res = subprocess.run([si_python, "-c", _SI_SCRIPT, str(tmp_path / "wf"), str(tmp_path / "spikes.npy"),
                          str(sorting.sampling_frequency), json.dumps(sorting.unit_ids.tolist())],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    out = json.loads(res.stdout.split("JSON", 1)[1])
    assert out["sparse"] == sparse
    assert_close(np.asarray(out["templates"]), we.get_all_templates())
    for u in sorting.unit_ids.tolist():
        np.testing.assert_array_equal(np.asarray(out["waveforms"][str(u)], dtype="float32").reshape(
            np.asarray(we.get_waveforms(u)).shape), np.asarray(we.get_waveforms(u)))
    # SpikeInterface's "uniform" random spikes selection = ours, same seed
    np.testing.assert_array_equal(out["selection"], ref_select(sorting, 7, 5))
    np.testing.assert_array_equal(out["selection"],
                                  gs.core.random_spikes.select_random_spikes(sorting, 7, 5))
