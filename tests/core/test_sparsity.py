"""ChannelSparsity, compute_sparsity and sparse waveform extraction against NumPy rules."""
import json

import numpy as np
import pytest

import gpuspike as gs
from gpuspike import ChannelSparsity, compute_sparsity

from _waveforms_helpers import JOB, assert_close, gt, nb_na, ref_select, ref_templates, ref_waveforms

NUM_CHANNELS = 16


@pytest.fixture(scope="module")
def data():
    recording, sorting = gt(seed=31, num_channels=NUM_CHANNELS, num_units=5, durations=(2.0,), rate=12.0)
    recording.set_property("group", np.repeat([0, 1, 2, 3], 4))
    return recording, sorting


@pytest.fixture(scope="module")
def dense_we(data):
    recording, sorting = data
    return gs.extract_waveforms(recording, sorting, mode="memory", max_spikes_per_unit=20, seed=6, **JOB, sparse=False)


# ---------------------------------------------------------------------- NumPy rules
def per_channel_amplitude(templates, peak_sign):
    if peak_sign == "neg":
        return templates.min(axis=1)
    if peak_sign == "pos":
        return templates.max(axis=1)
    return np.abs(templates).max(axis=1)


def extremum_channels(templates, peak_sign):
    amps = per_channel_amplitude(templates, peak_sign)
    return np.argmin(amps, axis=1) if peak_sign == "neg" else np.argmax(amps, axis=1)


def radius_mask(templates, locations, radius_um, peak_sign):
    best = extremum_channels(templates, peak_sign)
    dist = np.linalg.norm(locations[None, :, :] - locations[best][:, None, :], axis=2)
    return dist <= radius_um


def best_mask(templates, k, peak_sign):
    amps = np.abs(per_channel_amplitude(templates, peak_sign))
    mask = np.zeros(amps.shape, bool)
    for u in range(amps.shape[0]):
        mask[u, np.argsort(amps[u], kind="stable")[::-1][:k]] = True  # ties: the higher channel
    return mask


def snr_mask(templates, noise, threshold, peak_sign):
    return np.abs(per_channel_amplitude(templates, peak_sign)).astype("float64") / noise[None, :] >= threshold


# ---------------------------------------------------------------------- ChannelSparsity object
def test_channel_sparsity_object():
    mask = np.array([[True, False, True, False], [False, False, False, True], [False] * 4])
    sp = ChannelSparsity(mask, ["a", "b", "c"], [10, 11, 12, 13])
    assert {k: v.tolist() for k, v in sp.unit_id_to_channel_ids.items()} == {"a": [10, 12], "b": [13], "c": []}
    assert {k: v.tolist() for k, v in sp.unit_id_to_channel_indices.items()} == {"a": [0, 2], "b": [3], "c": []}
    assert sp.max_num_active_channels == 2
    d = sp.to_dict()
    assert json.loads(json.dumps(d)) == d  # the sparsity.json layout is plain JSON
    assert d["unit_id_to_channel_ids"] == {"a": [10, 12], "b": [13], "c": []}
    back = ChannelSparsity.from_dict(json.loads(json.dumps(d)))
    assert back == sp
    np.testing.assert_array_equal(back.mask, mask)
    assert back.unit_ids.tolist() == ["a", "b", "c"] and back.channel_ids.tolist() == [10, 11, 12, 13]
    again = ChannelSparsity.from_unit_id_to_channel_ids({"a": [10, 12], "b": [13], "c": []}, ["a", "b", "c"],
                                                        [10, 11, 12, 13])
    assert again == sp
    wfs = np.arange(3 * 5 * 4, dtype="float32").reshape(3, 5, 4)
    sparse = sp.sparsify_waveforms(wfs, "a")
    np.testing.assert_array_equal(sparse, wfs[:, :, [0, 2]])
    assert sp.are_waveforms_sparse(sparse, "a") and not sp.are_waveforms_sparse(wfs, "a")
    dense = sp.densify_waveforms(sparse, "a")
    expected = np.zeros_like(wfs)
    expected[:, :, [0, 2]] = wfs[:, :, [0, 2]]
    np.testing.assert_array_equal(dense, expected)
    assert sp.sparsify_waveforms(wfs, "c").shape == (3, 5, 0)
    np.testing.assert_array_equal(sp.padded_channel_indices(), [[0, 2], [3, -1], [-1, -1]])
    with pytest.raises(KeyError, match="zz"):
        sp.sparsify_waveforms(wfs, "zz")
    with pytest.raises(ValueError, match="channels"):
        sp.sparsify_waveforms(wfs[:, :, :3], "a")
    with pytest.raises(ValueError, match="shape"):
        ChannelSparsity(mask[:2], ["a", "b", "c"], [10, 11, 12, 13])
    with pytest.raises(TypeError, match="boolean"):
        ChannelSparsity(mask.astype(int), ["a", "b", "c"], [10, 11, 12, 13])
    assert sp != ChannelSparsity(~mask, ["a", "b", "c"], [10, 11, 12, 13])


# ---------------------------------------------------------------------- compute_sparsity
@pytest.mark.parametrize("peak_sign", ["neg", "pos", "both"])
def test_compute_sparsity_radius_and_best(dense_we, data, peak_sign):
    recording, _ = data
    templates = dense_we.get_all_templates().astype("float64")
    locations = recording.get_channel_locations()
    for radius in (25.0, 60.0):
        sp = compute_sparsity(dense_we, method="radius", radius_um=radius, peak_sign=peak_sign)
        expected = radius_mask(templates, locations, radius, peak_sign)
        np.testing.assert_array_equal(sp.mask, expected)
        assert 0 < expected.sum() < expected.size
    for k in (1, 3, NUM_CHANNELS):
        sp = compute_sparsity(dense_we, method="best_channels", num_channels=k, peak_sign=peak_sign)
        np.testing.assert_array_equal(sp.mask, best_mask(templates, k, peak_sign))
        assert (sp.mask.sum(axis=1) == k).all()
    assert sp.unit_ids.tolist() == dense_we.unit_ids.tolist()
    assert sp.channel_ids.tolist() == recording.channel_ids.tolist()


def test_compute_sparsity_threshold(dense_we, data):
    recording, _ = data
    templates = dense_we.get_all_templates().astype("float64")
    noise = np.linspace(2.0, 6.0, NUM_CHANNELS)
    for threshold in (1.0, 3.0):
        sp = compute_sparsity(dense_we, method="threshold", threshold=threshold, noise_levels=noise)
        expected = snr_mask(templates, noise, threshold, "neg")
        np.testing.assert_array_equal(sp.mask, expected)
        assert 0 < expected.sum() < expected.size
    # the "snr" alias and noise levels measured on the recording
    measured = gs.get_noise_levels(recording, return_scaled=True)
    sp = compute_sparsity(dense_we, method="snr", threshold=2.0)
    np.testing.assert_array_equal(sp.mask, snr_mask(templates, measured, 2.0, "neg"))


def test_compute_sparsity_by_property(dense_we, data):
    recording, sorting = data
    templates = dense_we.get_all_templates().astype("float64")
    groups = recording.get_property("group")
    sp = compute_sparsity(dense_we, method="by_property", by_property="group")
    np.testing.assert_array_equal(sp.mask, groups[None, :] == groups[extremum_channels(templates, "neg")][:, None])
    # a sorting with the property decides the unit's group (SpikeInterface's rule)
    s2 = sorting.select_units(sorting.unit_ids)
    unit_groups = np.array([3, 2, 1, 0, 3])
    s2.set_property("group", unit_groups)
    we2 = gs.extract_waveforms(recording, s2, mode="memory", max_spikes_per_unit=3, seed=0, **JOB, sparse=False)
    sp2 = compute_sparsity(we2, method="by_property", by_property="group")
    np.testing.assert_array_equal(sp2.mask, groups[None, :] == unit_groups[:, None])
    with pytest.raises(ValueError, match="by_property"):
        compute_sparsity(dense_we, method="by_property")
    with pytest.raises(ValueError, match="shank"):
        compute_sparsity(dense_we, method="by_property", by_property="shank")


def test_compute_sparsity_errors(dense_we):
    with pytest.raises(ValueError, match="method"):
        compute_sparsity(dense_we, method="nearest")
    with pytest.raises(ValueError, match="peak_sign"):
        compute_sparsity(dense_we, method="best_channels", peak_sign="up")
    with pytest.raises(ValueError, match="num_channels"):
        compute_sparsity(dense_we, method="best_channels", num_channels=0)
    with pytest.raises(ValueError, match="radius_um"):
        compute_sparsity(dense_we, method="radius", radius_um=-1)


def test_compute_sparsity_from_templates_dict():
    rng = np.random.default_rng(0)
    templates = rng.normal(size=(3, 10, 6)).astype("float32")
    locations = np.stack([np.zeros(6), np.arange(6) * 20.0], axis=1)
    d = {"templates": templates, "channel_locations": locations, "noise_levels": np.full(6, 0.5),
         "unit_ids": np.array([5, 6, 7]), "channel_ids": np.arange(6), "nbefore": 3}
    t64 = templates.astype("float64")
    np.testing.assert_array_equal(compute_sparsity(d, method="radius", radius_um=30).mask,
                                  radius_mask(t64, locations, 30, "neg"))
    np.testing.assert_array_equal(compute_sparsity(d, method="best_channels", num_channels=2, peak_sign="both").mask,
                                  best_mask(t64, 2, "both"))
    np.testing.assert_array_equal(compute_sparsity(d, method="threshold", threshold=3.0).mask,
                                  snr_mask(t64, np.full(6, 0.5), 3.0, "neg"))


# ---------------------------------------------------------------------- sparse extraction
@pytest.mark.parametrize("method,kwargs", [("radius", dict(radius_um=40.0)), ("best_channels", dict(num_channels=3)),
                                           ("threshold", dict(threshold=2.0)),
                                           ("by_property", dict(by_property="group"))])
def test_sparse_extraction(data, method, kwargs, tmp_path):
    """The sparsity of extract_waveforms(sparse=True) is SpikeInterface 0.105's estimate_sparsity: raw
    (unscaled) templates of up to 30 spikes per unit away from the edges (seed 2205), peak_sign "both"."""
    recording, sorting = data
    we = gs.extract_waveforms(recording, sorting, folder=tmp_path / "sp", sparse=True, method=method,
                              num_spikes_for_sparsity=30, max_spikes_per_unit=10, seed=8,
                              precompute_template=("average", "std"), **kwargs, **JOB)
    assert we.is_sparse()
    spikes = sorting.to_spike_vector()
    margin = max(nb_na(recording, 1.0, 2.0))
    inside = (spikes["sample_index"] >= margin) & (spikes["sample_index"] < recording.get_num_samples() - margin)
    rng = np.random.default_rng(2205)
    chosen = [rng.choice(np.flatnonzero((spikes["unit_index"] == u) & inside),
                         size=min(30, int(((spikes["unit_index"] == u) & inside).sum())), replace=False, shuffle=False)
              for u in range(len(sorting.unit_ids))]
    raw = ref_waveforms(recording, sorting, np.sort(np.concatenate(chosen)), return_scaled=False, dtype="float64")
    estimate = ref_templates(raw, sorting.unit_ids, "average").astype("float32").astype("float64")
    if method == "radius":
        expected = radius_mask(estimate, recording.get_channel_locations(), 40.0, "both")
    elif method == "best_channels":
        expected = best_mask(estimate, 3, "both")
    elif method == "threshold":
        expected = snr_mask(estimate, gs.get_noise_levels(recording, return_scaled=False), 2.0, "both")
    else:
        groups = recording.get_property("group")
        expected = groups[None, :] == groups[extremum_channels(estimate, "both")][:, None]
    np.testing.assert_array_equal(we.sparsity.mask, expected)
    dense = ref_waveforms(recording, sorting, ref_select(sorting, 10, 8), dtype="float32")
    for i, u in enumerate(sorting.unit_ids.tolist()):
        np.testing.assert_array_equal(np.asarray(we.get_waveforms(u)), dense[u][:, :, expected[i]])
        np.testing.assert_array_equal(we.get_waveforms(u, force_dense=True), dense[u] * expected[i])
        full = ref_templates(dense, sorting.unit_ids, "average")[i]
        assert_close(we.get_template(u), full[:, expected[i]])
        assert_close(we.get_template(u, force_dense=True), full * expected[i])
        assert_close(we.get_template(u, mode="std", force_dense=True),
                     ref_templates(dense, sorting.unit_ids, "std")[i] * expected[i])
    saved = json.loads((tmp_path / "sp" / "sparsity.json").read_text())
    assert ChannelSparsity.from_dict(saved) == we.sparsity
    loaded = gs.load_waveforms(tmp_path / "sp")
    assert loaded.sparsity == we.sparsity
    u = sorting.unit_ids[1]
    np.testing.assert_array_equal(np.asarray(loaded.get_waveforms(u)), np.asarray(we.get_waveforms(u)))


def test_sparse_radius_needs_probe(data):
    recording, sorting = data
    bare = gs.NumpyRecording([recording.get_traces(end_frame=5000)], recording.sampling_frequency)
    bare.set_channel_gains(1.0)
    bare.set_channel_offsets(0.0)
    sub = sorting.frame_slice(0, 5000) if hasattr(sorting, "frame_slice") else sorting
    with pytest.raises(ValueError, match="radius.*probe|probe.*radius"):
        gs.extract_waveforms(bare, sub, mode="memory", sparse=True, method="radius", **JOB)
    # best_channels needs no probe
    we = gs.extract_waveforms(bare, sub, mode="memory", sparse=True, method="best_channels", num_channels=2,
                              max_spikes_per_unit=3, seed=0, **JOB)
    assert (we.sparsity.mask.sum(axis=1) == 2).all()


def test_save_dense_as_sparse(dense_we, data, tmp_path):
    recording, sorting = data
    sparsity = compute_sparsity(dense_we, method="radius", radius_um=40)
    we_sparse = dense_we.save(folder=tmp_path / "sparse", sparsity=sparsity)
    assert we_sparse.is_sparse() and not dense_we.is_sparse()
    assert (tmp_path / "sparse" / "sparsity.json").is_file()
    for i, u in enumerate(sorting.unit_ids.tolist()):
        dense = np.asarray(dense_we.get_waveforms(u))
        np.testing.assert_array_equal(np.asarray(we_sparse.get_waveforms(u)), dense[:, :, sparsity.mask[i]])
        np.testing.assert_array_equal(np.load(tmp_path / "sparse" / "waveforms" / f"waveforms_{u}.npy"),
                                      dense[:, :, sparsity.mask[i]])
        np.testing.assert_array_equal(dense_we.get_waveforms(u, sparsity=sparsity), dense[:, :, sparsity.mask[i]])
        assert_close(we_sparse.get_template(u), dense.mean(axis=0, dtype="float64")[:, sparsity.mask[i]])
    # a sparse extractor saves sparser (each unit losing channels), never denser
    fewer = gs.ChannelSparsity(sparsity.mask & (np.cumsum(sparsity.mask, axis=1) <= 1), sorting.unit_ids,
                               sparsity.channel_ids)
    sparser = we_sparse.save(folder=tmp_path / "sparser", sparsity=fewer)
    for i, u in enumerate(sorting.unit_ids.tolist()):
        np.testing.assert_array_equal(np.asarray(sparser.get_waveforms(u)),
                                      np.asarray(dense_we.get_waveforms(u))[:, :, fewer.mask[i]])
    with pytest.raises(ValueError, match="sparse already"):
        we_sparse.save(folder=tmp_path / "again", sparsity=gs.ChannelSparsity(
            np.ones_like(sparsity.mask), sorting.unit_ids, sparsity.channel_ids))
