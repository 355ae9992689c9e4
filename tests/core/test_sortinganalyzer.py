"""SortingAnalyzer: extensions against NumPy references, on both backends and in every format."""
import numpy as np
import pytest

import gpuspike as gs
from _analyzer_data import (MS, NAFTER, NBEFORE, assert_close, dense_templates, recording, sorting, sparsity_around,
                            waveforms)

MAIN = [0, 2, 5]


def make(rec, srt, sparse, format="memory", folder=None, main=MAIN, **kwargs):
    sparsity = sparsity_around(rec, srt, main) if sparse else None
    return gs.create_sorting_analyzer(srt, rec, format=format, folder=folder, main_channel_indices=main,
                                      sparse=False, sparsity=sparsity, **kwargs)


@pytest.fixture
def data():
    rec = recording()
    return rec, sorting(rec)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("scaled", [True, False])
def test_waveforms_and_templates_match_numpy(backend_name, data, sparse, scaled):
    rec, srt = data
    an = make(rec, srt, sparse, return_in_uV=scaled, backend=backend_name)
    an.compute("random_spikes", max_spikes_per_unit=12, seed=3)
    an.compute("waveforms", **MS)
    operators = ["average", "std", "median", ["percentile", 10.0]]
    an.compute("templates", operators=operators)
    some = an.get_extension("random_spikes").get_random_spikes()
    mask = an.sparsity.mask if sparse else None
    expected = waveforms(rec, some, scaled=scaled, mask=mask)
    got = an.get_extension("waveforms").get_data()
    assert got.dtype == (np.float32 if scaled else np.int16)
    np.testing.assert_array_equal(got, expected)
    ext = an.get_extension("templates")
    units, channels = an.get_num_units(), an.get_num_channels()
    for op, reduce in (("average", lambda w: w.mean(axis=0)), ("std", lambda w: w.std(axis=0)),
                       ("median", lambda w: np.median(w, axis=0)),
                       ("percentile", lambda w: np.percentile(w, 10.0, axis=0))):
        ref = dense_templates(expected, some["unit_index"], units, channels, reduce, mask)
        got_t = ext.get_data(operator=op, percentile=10.0 if op == "percentile" else None)
        assert got_t.shape == (units, NBEFORE + NAFTER, channels) and got_t.dtype == np.float64
        assert_close(got_t, ref)


@pytest.mark.parametrize("sparse", [False, True])
def test_templates_without_waveforms_accumulate_the_random_spikes(backend_name, data, sparse):
    rec, srt = data
    an = make(rec, srt, sparse, backend=backend_name)
    an.compute(["random_spikes", "templates"], extension_params={"random_spikes": {"max_spikes_per_unit": 9,
                                                                                     "seed": 1},
                                                                  "templates": MS})
    assert not an.has_extension("waveforms")
    some = an.get_extension("random_spikes").get_random_spikes()
    mask = an.sparsity.mask if sparse else None
    rows = waveforms(rec, some, scaled=True)
    ext = an.get_extension("templates")
    for op, reduce in (("average", lambda w: w.mean(axis=0)), ("std", lambda w: w.std(axis=0))):
        ref = dense_templates(rows, some["unit_index"], an.get_num_units(), an.get_num_channels(), reduce)
        if mask is not None:
            ref = ref * mask[:, None, :]
        got = ext.get_data(operator=op)
        assert got.dtype == np.float32
        assert_close(got, ref, rtol=1e-5)
    with pytest.raises(ValueError, match="waveforms"):
        an.compute("templates", operators=["median"], **MS)


def test_waveforms_and_templates_computed_together_equal_separately(data):
    rec, srt = data
    together, apart = make(rec, srt, True), make(rec, srt, True)
    params = {"random_spikes": {"seed": 5}, "waveforms": MS, "templates": {"operators": ["average", "std"]}}
    together.compute(params)
    for name, p in params.items():
        apart.compute(name, **p)
    for key in ("average", "std"):
        np.testing.assert_allclose(together.get_extension("templates").get_data(operator=key),
                                   apart.get_extension("templates").get_data(operator=key), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(together.get_extension("waveforms").get_data(),
                                  apart.get_extension("waveforms").get_data())


def test_random_spikes_follow_the_selection_rules(data):
    rec, srt = data
    an = make(rec, srt, False)
    counts = srt.count_num_spikes_per_unit(outputs="array")
    idx = an.compute("random_spikes", method="uniform", max_spikes_per_unit=4, seed=0).get_data()
    assert np.all(np.diff(idx) > 0)
    per_unit = np.bincount(srt.to_spike_vector()["unit_index"][idx], minlength=an.get_num_units())
    np.testing.assert_array_equal(per_unit, np.minimum(counts, 4))
    again = make(rec, srt, False).compute("random_spikes", method="uniform", max_spikes_per_unit=4, seed=0)
    np.testing.assert_array_equal(again.get_data(), idx)
    every = an.compute("random_spikes", method="all").get_data()
    np.testing.assert_array_equal(every, np.arange(srt.to_spike_vector().size))
    margin = an.compute("random_spikes", method="uniform", max_spikes_per_unit=100, margin_size=20, seed=0)
    chosen = srt.to_spike_vector()[margin.get_data()]
    lengths = np.array([rec.get_num_samples(s) for s in range(2)])[chosen["segment_index"]]
    assert np.all(chosen["sample_index"] >= 20) and np.all(chosen["sample_index"] < lengths - 20)
    for bad, match in ((dict(method="bogus"), "allowed values"), (dict(max_spikes_per_unit=0), "max_spikes"),
                       (dict(method="percentage"), "percentage")):
        with pytest.raises(ValueError, match=match):
            an.compute("random_spikes", **bad)


def test_noise_levels_estimate_the_noise_and_keep_their_seed():
    rec = recording(dtype="float32", lengths=(60_000,), num_channels=4, noise=7.0)
    srt = sorting(rec)
    an = gs.create_sorting_analyzer(srt, rec, main_channel_indices=[0, 1, 2], sparse=False)
    ext = an.compute("noise_levels")
    levels = ext.get_data()
    assert levels.shape == (4,)
    np.testing.assert_allclose(levels, 7.0, rtol=0.06)  # MAD / 0.6745 of Gaussian noise
    seed = ext.params["random_slices_kwargs"]["seed"]
    assert isinstance(seed, int)
    again = an.compute("noise_levels", random_slices_kwargs={"seed": seed}).get_data()
    np.testing.assert_array_equal(again, levels)
    with pytest.raises(ValueError, match="return_in_uV"):
        an.compute("noise_levels", return_in_uV=False)


@pytest.mark.parametrize("format", ["memory", "binary_folder", "zarr"])
def test_recomputing_a_parent_deletes_its_children(data, tmp_path, format):
    rec, srt = data
    an = make(rec, srt, True, format=format, folder=None if format == "memory" else tmp_path / "an")
    an.compute(["random_spikes", "waveforms", "templates", "noise_levels"])
    names = lambda a: sorted(a.extensions) if format == "memory" else sorted(a.get_saved_extension_names())  # noqa
    an.compute("templates", operators=["average"])
    assert names(an) == ["noise_levels", "random_spikes", "templates", "waveforms"]
    an.compute("waveforms", **MS)
    assert names(an) == ["noise_levels", "random_spikes", "waveforms"]
    an.compute("templates")
    an.compute("random_spikes", seed=9)
    assert names(an) == ["noise_levels", "random_spikes"]
    assert sorted(an.extensions) == ["noise_levels", "random_spikes"]
    an.compute({"waveforms": {}, "templates": {}})
    an.compute("noise_levels")
    assert names(an) == ["noise_levels", "random_spikes", "templates", "waveforms"]
    an.delete_extension("waveforms")
    assert not an.has_extension("waveforms") and an.has_extension("templates")


def test_dependencies_and_parameters_are_checked_before_anything_changes(data):
    rec, srt = data
    an = make(rec, srt, False)
    with pytest.raises(ValueError, match="random_spikes"):
        an.compute("waveforms")
    with pytest.raises(ValueError, match="'random_spikes' or 'waveforms'"):
        an.compute("templates")
    with pytest.raises(ValueError, match="gpuspike computes"):
        an.compute("bogus")
    with pytest.raises(ValueError, match="postprocessing"):
        an.compute("spike_amplitudes")
    an.compute(["random_spikes", "waveforms", "templates"])
    with pytest.raises(ValueError, match="operator"):
        an.compute("templates", operators=["mean"])
    with pytest.raises(ValueError, match="allowed values"):
        an.compute("random_spikes", method="bogus")
    assert sorted(an.extensions) == ["random_spikes", "templates", "waveforms"]  # nothing deleted
    with pytest.raises(TypeError, match="job kwargs"):
        an.compute(["noise_levels"], seed=3)
    with pytest.raises(ValueError, match="not in"):
        an.compute(["noise_levels"], extension_params={"templates": {}})
    assert an.get_computable_extensions() == ["random_spikes", "waveforms", "templates", "noise_levels"]
    assert an.get_default_extension_params("waveforms") == {"ms_before": 1.0, "ms_after": 2.0, "dtype": None}


@pytest.mark.parametrize("format", ["binary_folder", "zarr"])
def test_save_as_and_load_keep_everything(data, tmp_path, format):
    rec, srt = data
    an = make(rec, srt, True)
    an.compute({"random_spikes": {"seed": 2}, "waveforms": MS, "templates": {"operators": ["average", "median"]},
                "noise_levels": {}})
    saved = an.save_as(format=format, folder=tmp_path / "an")
    for reopened in (saved, gs.load_sorting_analyzer(saved.folder), gs.load_sorting_analyzer(saved.folder, lazy=True)):
        assert reopened.format == format
        np.testing.assert_array_equal(reopened.sparsity.mask, an.sparsity.mask)
        np.testing.assert_array_equal(reopened.get_main_channels(), MAIN)
        np.testing.assert_array_equal(reopened.unit_ids, an.unit_ids)
        np.testing.assert_array_equal(reopened.channel_ids, an.channel_ids)
        for name in ("random_spikes", "waveforms", "noise_levels"):
            np.testing.assert_array_equal(np.asarray(reopened.get_extension(name).get_data()),
                                          an.get_extension(name).get_data())
            assert reopened.get_extension(name).params == an.get_extension(name).params
        for op in ("average", "median"):
            np.testing.assert_array_equal(reopened.get_extension("templates").get_data(operator=op),
                                          an.get_extension("templates").get_data(operator=op))
    lazy = gs.load_sorting_analyzer(saved.folder, lazy=True)
    assert lazy.extensions == {}
    if format == "binary_folder":  # as SpikeInterface 0.105: extension data and the spike vector stay mapped
        assert isinstance(lazy.get_extension("waveforms").data["waveforms"], np.memmap)
        assert isinstance(lazy.sorting.to_spike_vector(), np.memmap)
    np.testing.assert_array_equal(lazy.sorting.to_spike_vector(), srt.to_spike_vector())
    unloaded = gs.load_sorting_analyzer(saved.folder, load_extensions=False)
    assert unloaded.extensions == {} and unloaded.has_extension("templates")
    assert unloaded.get_extension("templates") is not None
    back = saved.save_as(format="memory")
    np.testing.assert_array_equal(back.get_extension("waveforms").get_data(), an.get_extension("waveforms").get_data())


@pytest.mark.parametrize("format", ["memory", "binary_folder"])
def test_select_and_remove_units_slice_every_extension(data, tmp_path, format):
    rec, srt = data
    an = make(rec, srt, True)
    an.compute(["random_spikes", "waveforms", "templates", "noise_levels"])
    keep = [an.unit_ids[0], an.unit_ids[2]]
    folder = None if format == "memory" else tmp_path / "sel"
    sub = an.select_units(keep, format=format, folder=folder)
    np.testing.assert_array_equal(sub.unit_ids, keep)
    np.testing.assert_array_equal(sub.sparsity.mask, an.sparsity.mask[[0, 2]])
    old = an.get_extension("random_spikes").get_random_spikes()
    new = sub.get_extension("random_spikes").get_random_spikes()
    kept = np.isin(old["unit_index"], [0, 2])
    np.testing.assert_array_equal(new["sample_index"], old["sample_index"][kept])
    np.testing.assert_array_equal(sub.get_extension("waveforms").get_data(),
                                  an.get_extension("waveforms").get_data()[kept])
    np.testing.assert_array_equal(sub.get_extension("templates").get_data(),
                                  an.get_extension("templates").get_data()[[0, 2]])
    np.testing.assert_array_equal(sub.get_main_channels(), [MAIN[0], MAIN[2]])
    removed = an.remove_units([an.unit_ids[1]])
    np.testing.assert_array_equal(removed.unit_ids, keep)
    with pytest.raises(ValueError, match="not in the analyzer"):
        an.select_units(["nope"])


def test_selecting_units_in_another_order_keeps_waveforms_with_their_spikes():
    """Simultaneous spikes of two units swap places in the spike vector when the units are
    selected in the other order: the random spikes and waveform rows follow them."""
    rec = recording()
    samples = np.array([50, 50, 120, 300, 300, 410, 600, 600])
    labels = np.array(["a", "b", "b", "a", "b", "a", "a", "b"])
    srt = gs.NumpySorting.from_samples_and_labels([samples, samples[:4]], [labels, labels[:4]], rec.sampling_frequency)
    an = gs.create_sorting_analyzer(srt, rec, main_channel_indices=[0, 3], sparse=False)
    an.compute({"random_spikes": {"method": "all"}, "waveforms": MS})
    sub = an.select_units(["b", "a"])
    np.testing.assert_array_equal(sub.unit_ids, ["b", "a"])
    some = sub.get_extension("random_spikes").get_random_spikes()
    np.testing.assert_array_equal(sub.get_extension("waveforms").get_data(), waveforms(rec, some))
    for unit_id in ("a", "b"):
        np.testing.assert_array_equal(sub.get_extension("waveforms").get_waveforms_one_unit(unit_id),
                                      an.get_extension("waveforms").get_waveforms_one_unit(unit_id))


def test_merge_units_with_waveforms_gives_the_merged_units_exact_templates(data):
    rec, srt = data
    an = make(rec, srt, False)
    an.compute({"random_spikes": {"max_spikes_per_unit": 10, "seed": 0}, "waveforms": MS,
                "templates": {"operators": ["average", "std", "median"]}})
    merged, new_ids = an.merge_units([["0", "2"]], return_new_unit_ids=True)
    assert new_ids == ["3"] and list(merged.unit_ids) == ["1", "3"]
    some = merged.get_extension("random_spikes").get_random_spikes()
    spikes = merged.sorting.to_spike_vector()
    # every old random spike survives, in the merged sorting's order
    assert some.size == an.get_extension("random_spikes").get_data().size
    rows = merged.get_extension("waveforms").get_data()
    np.testing.assert_array_equal(rows, waveforms(rec, spikes[merged.get_extension("random_spikes").get_data()]))
    for op, reduce in (("average", lambda w: w.mean(axis=0)), ("std", lambda w: w.std(axis=0)),
                       ("median", lambda w: np.median(w, axis=0))):
        ref = dense_templates(rows, some["unit_index"], 2, rec.get_num_channels(), reduce)
        assert_close(merged.get_extension("templates").get_data(operator=op), ref)
    np.testing.assert_array_equal(merged.get_sorting_property("is_merged"), [False, True])


def test_merge_units_without_waveforms_combines_average_and_std_exactly(data):
    rec, srt = data
    an = make(rec, srt, False)
    an.compute({"random_spikes": {"method": "all"}, "templates": MS})
    merged = an.merge_units([["1", "2"]], new_id_strategy="take_first")
    assert list(merged.unit_ids) == ["0", "1"]
    spikes = merged.sorting.to_spike_vector()
    rows = waveforms(rec, spikes, scaled=True)
    for op, reduce in (("average", lambda w: w.mean(axis=0)), ("std", lambda w: w.std(axis=0))):
        ref = dense_templates(rows, spikes["unit_index"], 2, rec.get_num_channels(), reduce)
        assert_close(merged.get_extension("templates").get_data(operator=op), ref, rtol=1e-5)


def test_merge_units_censor_ms_and_sparsity_overlap(data):
    rec, srt = data
    an = make(rec, srt, True, main=[0, 2, 3])  # channels 0-1, 1-3 and 2-4
    an.compute({"random_spikes": {}, "waveforms": MS})
    with pytest.raises(ValueError, match="sparsity_overlap"):
        an.merge_units([["0", "2"]])  # nothing in common
    with pytest.warns(UserWarning, match="sparsity_overlap"):
        same = an.merge_units([["0", "2"]], raise_error_if_overlap_fails=False)
    assert same is an
    merged = an.merge_units([["1", "2"]], sparsity_overlap=0.5, censor_ms=5.0)
    old = srt.to_spike_vector()
    group = np.isin(old["unit_index"], [1, 2])
    expected_drop = 0
    for seg in range(2):
        mine = np.sort(old["sample_index"][group & (old["segment_index"] == seg)])
        expected_drop += int(np.sum(np.diff(mine) < 50))
    assert merged.sorting.to_spike_vector().size == old.size - expected_drop
    common = an.sparsity.mask[1] & an.sparsity.mask[2]
    np.testing.assert_array_equal(merged.sparsity.mask[-1], common)
    wf = merged.get_extension("waveforms")
    assert wf.get_data().shape[2] == merged.sparsity.mask.sum(axis=1).max()
    merged_rows = wf.get_waveforms_one_unit(merged.unit_ids[-1], force_dense=True)
    some = merged.get_extension("random_spikes").get_random_spikes()
    spikes = some[some["unit_index"] == merged.get_num_units() - 1]
    ref = waveforms(rec, spikes)
    np.testing.assert_array_equal(merged_rows[:, :, common], ref[:, :, common])
    assert not merged_rows[:, :, ~common].any()


def test_an_analyzer_without_its_recording_serves_its_extensions(data, tmp_path):
    rec, srt = data
    saved_rec = rec.save(folder=tmp_path / "rec")
    an = make(saved_rec, srt, True, format="binary_folder", folder=tmp_path / "an")
    an.compute(["random_spikes", "waveforms", "templates"])
    import shutil

    shutil.rmtree(tmp_path / "rec")
    with pytest.warns(UserWarning, match="could not be loaded"):
        blind = gs.load_sorting_analyzer(tmp_path / "an")
    assert not blind.has_recording()
    np.testing.assert_array_equal(blind.get_extension("templates").get_data(),
                                  an.get_extension("templates").get_data())
    np.testing.assert_array_equal(blind.get_channel_locations(), rec.get_channel_locations())
    with pytest.raises(ValueError, match="set_temporary_recording"):
        blind.compute("waveforms")
    with pytest.raises(ValueError, match="num_samples"):
        blind.set_temporary_recording(recording(lengths=(900, 600)))
    blind.set_temporary_recording(rec)
    blind.compute("noise_levels")
    assert blind.has_temporary_recording() and blind.has_extension("noise_levels")


def test_a_failed_computation_leaves_the_stored_extension_intact(data, tmp_path, monkeypatch):
    rec, srt = data
    an = make(rec, srt, False, format="binary_folder", folder=tmp_path / "an")
    an.compute(["random_spikes", "waveforms", "templates"])
    before = {p.name: p.read_bytes() for p in (tmp_path / "an" / "extensions" / "templates").iterdir()}
    from gpuspike.core.analyzer_extension_core import ComputeTemplates

    def boom(self, *args, **kwargs):
        self.data["average"] = np.zeros(3)
        raise RuntimeError("killed mid-run")

    monkeypatch.setattr(ComputeTemplates, "_run", boom)
    with pytest.raises(RuntimeError, match="killed"):
        an.compute("templates", operators=["average"])
    after = {p.name: p.read_bytes() for p in (tmp_path / "an" / "extensions" / "templates").iterdir()}
    assert after == before
    assert [p.name for p in (tmp_path / "an" / "extensions").iterdir() if p.name.startswith(".")] == []
    monkeypatch.undo()
    reopened = gs.load_sorting_analyzer(tmp_path / "an")
    np.testing.assert_array_equal(reopened.get_extension("templates").get_data(),
                                  an.get_extension("templates").get_data())


def test_read_only_analyzers_compute_in_memory(data, tmp_path):
    rec, srt = data
    an = make(rec, srt, False, format="binary_folder", folder=tmp_path / "an")
    an.compute("random_spikes")
    ro = gs.load_sorting_analyzer(tmp_path / "an", read_only=True)
    ro.set_temporary_recording(rec)  # an in-memory recording is not saved with the analyzer
    ro.compute("waveforms")
    assert ro.get_extension("waveforms") is not None
    assert gs.load_sorting_analyzer(tmp_path / "an").get_saved_extension_names() == ["random_spikes"]


def test_foreign_extensions_stay_on_disk_until_invalidated(data, tmp_path):
    rec, srt = data
    rec = rec.save(folder=tmp_path / "rec")
    an = make(rec, srt, False, format="binary_folder", folder=tmp_path / "an")
    an.compute(["random_spikes", "waveforms", "templates"])
    foreign = tmp_path / "an" / "extensions" / "spike_amplitudes"
    foreign.mkdir()
    (foreign / "params.json").write_text('{"peak_sign": "neg"}')
    np.save(foreign / "amplitudes.npy", np.arange(5.0))
    (foreign / "evil.pkl").write_bytes(b"never read")
    reopened = gs.load_sorting_analyzer(tmp_path / "an")
    assert "spike_amplitudes" in reopened.get_saved_extension_names()
    assert "spike_amplitudes" not in reopened.extensions
    with pytest.warns(UserWarning, match="evil.pkl.*never pickles"):
        view = reopened.get_extension("spike_amplitudes")  # read-only: served, never written
    np.testing.assert_array_equal(view.data["amplitudes"], np.arange(5.0))
    assert view.params == {"peak_sign": "neg"} and "spike_amplitudes" not in reopened.extensions
    with pytest.raises(ValueError, match="computed by SpikeInterface, not gpuspike"):
        view.save()
    snapshot = {p.name: p.read_bytes() for p in foreign.iterdir()}
    reopened.compute("noise_levels")
    assert {p.name: p.read_bytes() for p in foreign.iterdir()} == snapshot
    reopened.compute("templates")  # spike_amplitudes depends on templates: deleted, as SpikeInterface does
    assert not foreign.exists()


def test_folders_are_data_never_code(data, tmp_path):
    import pickle

    rec, srt = data
    an = make(rec, srt, False, format="binary_folder", folder=tmp_path / "an")
    an.compute("random_spikes")
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (marker.write_text, ("x",))

    (tmp_path / "an" / "extensions" / "random_spikes" / "extra.pkl").write_bytes(pickle.dumps(Evil()))
    np.save(tmp_path / "an" / "extensions" / "random_spikes" / "objects.npy", np.array([Evil()], dtype=object),
            allow_pickle=True)
    (tmp_path / "an" / "recording.json").unlink(missing_ok=True)
    (tmp_path / "an" / "recording.pickle").write_bytes(pickle.dumps(Evil()))
    with pytest.raises(gs.CorruptFolderError, match="pickled"):
        gs.load_sorting_analyzer(tmp_path / "an")
    (tmp_path / "an" / "extensions" / "random_spikes" / "objects.npy").unlink()
    with pytest.warns(UserWarning) as record:
        reopened = gs.load_sorting_analyzer(tmp_path / "an")
    messages = " ".join(str(w.message) for w in record)
    assert "extra.pkl" in messages and "recording.pickle" in messages
    assert not marker.exists()
    assert not reopened.has_recording()
    (tmp_path / "an" / "keep").mkdir()
    assert reopened.get_extension("../keep") is None
    reopened.delete_extension("../keep")  # names outside extensions/ are never touched
    assert (tmp_path / "an" / "keep").is_dir()


def test_a_pickled_zarr_entry_is_skipped_not_decoded(data, tmp_path):
    import json

    rec, srt = data
    an = make(rec, srt, False, format="zarr", folder=tmp_path / "an")
    an.compute("random_spikes")
    entry = tmp_path / "an.zarr" / "extensions" / "random_spikes" / "evil"
    entry.mkdir()
    (entry / ".zarray").write_text(json.dumps({"chunks": [1], "compressor": None, "dtype": "|O", "fill_value": 0,
                                               "filters": [{"id": "pickle", "protocol": 5}], "order": "C",
                                               "shape": [1], "zarr_format": 2}))
    (entry / "0").write_bytes(b"not even a pickle")
    with pytest.warns(UserWarning, match="evil"):
        reopened = gs.load_sorting_analyzer(tmp_path / "an.zarr")
    assert set(reopened.get_extension("random_spikes").data) == {"random_spikes_indices"}


def test_creating_over_a_folder_follows_the_overwrite_rules(data, tmp_path):
    rec, srt = data
    make(rec, srt, False, format="binary_folder", folder=tmp_path / "an")
    with pytest.raises(FileExistsError):
        make(rec, srt, False, format="binary_folder", folder=tmp_path / "an")
    make(rec, srt, False, format="binary_folder", folder=tmp_path / "an", overwrite=True)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("precious")
    with pytest.raises(gs.RefusedOverwriteError):
        make(rec, srt, False, format="binary_folder", folder=mine, overwrite=True)
    assert (mine / "thesis.tex").read_text() == "precious"
    with pytest.raises(ValueError, match="folder="):
        gs.create_sorting_analyzer(srt, rec, format="binary_folder", sparse=False, main_channel_indices=MAIN)
    with pytest.raises(ValueError, match="format="):
        gs.create_sorting_analyzer(srt, rec, format="hdf5", sparse=False, main_channel_indices=MAIN)
    with pytest.raises(ValueError, match="main_channel_indices"):
        gs.create_sorting_analyzer(srt, rec, main_channel_indices=[0, 1], sparse=False)


def test_create_estimates_main_channels_and_sparsity(data):
    rec, srt = data
    an = gs.create_sorting_analyzer(srt, rec, seed=0, sparsity_kwargs={"method": "radius", "radius_um": 25.0})
    main = an.get_main_channels()
    assert main.shape == (3,)
    some = srt.to_spike_vector()[gs.random_spikes_selection(srt, [900, 700], max_spikes_per_unit=100,
                                                            margin_size=25, seed=0)]
    rows = waveforms(rec, some, scaled=False, nbefore=10, nafter=25)
    means = dense_templates(rows, some["unit_index"], 3, rec.get_num_channels(), lambda w: w.mean(axis=0))
    np.testing.assert_array_equal(main, np.argmax(np.abs(means).max(axis=1), axis=1))
    np.testing.assert_array_equal(an.sparsity.mask, sparsity_around(rec, srt, main).mask)
    assert list(an.get_main_channels(outputs="id", with_dict=True)) == list(srt.unit_ids)
    with pytest.warns(FutureWarning, match="sparsity_kwargs"):
        gs.create_sorting_analyzer(srt, rec, seed=0, method="radius", radius_um=25.0)


def test_legacy_waveform_folders_open_as_analyzers(data, tmp_path):
    rec, srt = data
    we = gs.extract_waveforms(rec, srt, folder=tmp_path / "we", sparse=False, seed=4,
                              precompute_template=("average", "std"), **MS)
    an = gs.load_waveforms(tmp_path / "we", output="SortingAnalyzer")
    assert sorted(an.extensions) == ["random_spikes", "templates", "waveforms"]
    for unit_id in srt.unit_ids:
        np.testing.assert_array_equal(an.get_extension("waveforms").get_waveforms_one_unit(unit_id),
                                      we.get_waveforms(unit_id))
    np.testing.assert_array_equal(an.get_extension("templates").get_data(), we.get_all_templates())
    assert gs.load_sorting_analyzer_or_waveforms(tmp_path / "we").get_num_units() == 3
    # SpikeInterface's private reader of the same folders, by its module path (its own tests import it)
    from gpuspike.core.waveforms_extractor_backwards_compatibility import _read_old_waveforms_extractor_binary

    private = _read_old_waveforms_extractor_binary(tmp_path / "we", srt)
    assert list(private.unit_ids) == list(srt.unit_ids)
    np.testing.assert_array_equal(private.get_extension("templates").get_data(), we.get_all_templates())
    with pytest.raises(ValueError, match="params.json"):
        _read_old_waveforms_extractor_binary(tmp_path)
    with pytest.raises(ValueError, match="not the one"):  # a sorting other than the folder's
        _read_old_waveforms_extractor_binary(tmp_path / "we", srt.select_units(srt.unit_ids[:2]))


@pytest.mark.parametrize("format", ["binary_folder", "zarr"])
def test_sorting_properties_are_stored(data, tmp_path, format):
    rec, srt = data
    an = make(rec, srt, False, format=format, folder=tmp_path / "an")
    an.set_sorting_property("quality", np.array(["good", "mua", "good"]))
    an.set_sorting_property("score", np.array([0.5, 1.5, 2.5]))
    reopened = gs.load_sorting_analyzer(an.folder)
    np.testing.assert_array_equal(reopened.get_sorting_property("quality"), ["good", "mua", "good"])
    np.testing.assert_array_equal(reopened.get_sorting_property("score"), [0.5, 1.5, 2.5])
    np.testing.assert_array_equal(reopened.get_sorting_property("main_channel_id"), rec.channel_ids[MAIN])


def test_compute_functions_and_properties(data, tmp_path):
    rec, srt = data
    with pytest.warns(UserWarning, match="not saved with the analyzer"):
        an = make(rec, srt, False, format="binary_folder", folder=tmp_path / "an")
    idx = gs.compute_random_spikes(an, seed=1)
    np.testing.assert_array_equal(idx, an.get_extension("random_spikes").get_data())
    gs.compute_waveforms(an, **MS)
    avg = gs.compute_templates(an, operators=["average"])
    np.testing.assert_array_equal(avg, an.get_extension("templates").get_data())
    assert isinstance(gs.compute_templates(rec, srt, **MS), gs.WaveformExtractor)
    with pytest.raises(TypeError, match="SortingAnalyzer"):
        gs.compute_noise_levels(rec)
    an.set_sorting_property("quality", np.array(["good", "mua", "good"]))
    reopened = gs.load_sorting_analyzer(tmp_path / "an")
    np.testing.assert_array_equal(reopened.get_sorting_property("quality"), ["good", "mua", "good"])
    assert "binary_folder" in repr(reopened) and "has recording" not in repr(reopened)
    reopened.set_temporary_recording(rec)
    assert "has temporary recording" in repr(reopened)


@pytest.mark.parametrize("format", ["memory", "binary_folder", "zarr"])
def test_split_units_parts_keep_their_spikes_waveforms_and_sparsity(data, tmp_path, format):
    """Unit "1" split in even / odd spikes of its train: the parts hold those spikes, the random
    spikes and their waveforms, their unit's channels, and templates of their own waveforms."""
    rec, srt = data
    an = make(rec, srt, True)
    an.compute({"random_spikes": {"max_spikes_per_unit": 15, "seed": 2}, "waveforms": MS,
                "templates": {"operators": ["average", "std", "median"]}, "noise_levels": {}})
    n = int(srt.count_num_spikes_per_unit()["1"])
    parts = [np.arange(0, n, 2), np.arange(1, n, 2)]
    folder = None if format == "memory" else tmp_path / ("split.zarr" if format == "zarr" else "split")
    new, new_ids = an.split_units({"1": parts}, format=format, folder=folder, return_new_unit_ids=True)
    if folder is not None:
        new = gs.load_sorting_analyzer(folder)
    assert new_ids == [["3", "4"]] and list(new.unit_ids) == ["0", "2", "3", "4"]
    np.testing.assert_array_equal(new.get_sorting_property("is_split"), [False, False, True, True])
    # NumPy reference: the unit's train over both segments, dealt into the parts
    old_spikes = srt.to_spike_vector()
    train = old_spikes[old_spikes["unit_index"] == 1]
    for part, part_id in zip(parts, ["3", "4"]):
        for seg in range(2):
            mine = train[part]
            np.testing.assert_array_equal(new.sorting.get_unit_spike_train(part_id, segment_index=seg),
                                          mine["sample_index"][mine["segment_index"] == seg])
    some = new.get_extension("random_spikes").get_random_spikes()
    old_some = an.get_extension("random_spikes").get_random_spikes()
    assert some.size == old_some.size
    key = lambda s: sorted(zip(s["segment_index"].tolist(), s["sample_index"].tolist()))  # noqa: E731
    assert key(some) == key(old_some)
    rows = new.get_extension("waveforms").get_data()
    np.testing.assert_array_equal(rows, waveforms(rec, some, mask=new.sparsity.mask))
    np.testing.assert_array_equal(new.sparsity.mask, an.sparsity.mask[[0, 2, 1, 1]])
    for op, reduce in (("average", lambda w: w.mean(axis=0)), ("std", lambda w: w.std(axis=0)),
                       ("median", lambda w: np.median(w, axis=0))):
        ref = dense_templates(rows, some["unit_index"], 4, rec.get_num_channels(), reduce, new.sparsity.mask)
        assert_close(new.get_extension("templates").get_data(operator=op), ref)
    np.testing.assert_array_equal(new.get_extension("noise_levels").get_data(),
                                  an.get_extension("noise_levels").get_data())
    if new.has_recording():
        np.testing.assert_array_equal(new.get_main_channels(), np.asarray(MAIN)[[0, 2, 1, 1]])
    else:  # reloaded without its (in-memory) recording: the templates' peak channels, as SpikeInterface 0.105
        average = new.get_extension("templates").get_data(operator="average")
        np.testing.assert_array_equal(new.get_main_channels(), np.abs(average).max(axis=1).argmax(axis=1))


def test_split_units_without_waveforms_gives_the_parts_their_units_templates(data):
    rec, srt = data
    an = make(rec, srt, False)
    an.compute({"random_spikes": {"max_spikes_per_unit": 10, "seed": 0}, "templates": MS})
    n = int(srt.count_num_spikes_per_unit()["0"])
    with pytest.warns(UserWarning, match="waveforms"):
        new = an.split_units({"0": [np.arange(5), np.arange(5, n)]}, new_unit_ids=[["a", "b"]])
    assert list(new.unit_ids) == ["1", "2", "a", "b"]
    old = an.get_extension("templates").get_data()
    np.testing.assert_array_equal(new.get_extension("templates").get_data(), old[[1, 2, 0, 0]])


def test_split_units_rejects_splits_that_lose_or_repeat_spikes(data):
    rec, srt = data
    an = make(rec, srt, False)
    n = int(srt.count_num_spikes_per_unit()["2"])
    bad = {"missing a spike": {"2": [np.arange(3), np.arange(3, n - 1)]},
           "repeating a spike": {"2": [np.arange(4), np.arange(3, n)]},
           "one part": {"2": [np.arange(n)]},
           "unknown unit": {"9": [[0], [1]]},
           "no unit": {}}
    for what, splits in bad.items():
        with pytest.raises(ValueError, match="split"):
            an.split_units(splits)
    with pytest.raises(ValueError, match="already exist"):
        an.split_units({"2": [np.arange(3), np.arange(3, n)]}, new_unit_ids=[["0", "x"]])


def test_apply_splits_to_sorting_ids_and_properties():
    """Integer ids are appended after the largest; "split" names string ids "<id>-<i>"; properties
    of a split unit go to its parts."""
    rec = recording()
    ints = sorting(rec).rename_units([10, 20, 30])
    ints.set_property("quality", ["good", "mua", "good"])
    n = int(ints.count_num_spikes_per_unit()[20])
    split, ids = gs.apply_splits_to_sorting(ints, {20: [np.arange(2), np.arange(2, n)]}, return_extra=True)
    assert ids == [[31, 32]] and list(split.unit_ids) == [10, 30, 31, 32]
    np.testing.assert_array_equal(split.get_property("quality"), ["good", "good", "mua", "mua"])
    assert split.count_num_spikes_per_unit()[31] == 2 and split.count_num_spikes_per_unit()[32] == n - 2
    strings = sorting(rec)
    m = int(strings.count_num_spikes_per_unit()["0"])
    named = gs.apply_splits_to_sorting(strings, {"0": [np.arange(m // 2), np.arange(m // 2, m)]},
                                       new_id_strategy="split")
    assert list(named.unit_ids) == ["1", "2", "0-0", "0-1"]
    with pytest.warns(UserWarning, match="append"):
        gs.apply_splits_to_sorting(ints, {10: [[0], np.arange(1, int(ints.count_num_spikes_per_unit()[10]))]},
                                   new_id_strategy="split")


def test_user_extensions_select_and_split_through_their_own_methods(data):
    """An extension written for SpikeInterface (``_select_extension_data``, no split support): units
    are selected through it, and splitting names what it lacks."""
    rec, srt = data

    class PerUnit(gs.AnalyzerExtension):
        extension_name = "per_unit_test"
        depend_on = []
        need_recording = False

        def _set_params(self, value=1.0):
            return {"value": value}

        def _run(self, verbose=False, **job_kwargs):
            self.data["per_unit"] = np.arange(self.sorting_analyzer.get_num_units(), dtype=float) * self.params["value"]

        def _select_extension_data(self, unit_ids):
            keep = self.sorting_analyzer.sorting.ids_to_indices(list(unit_ids))
            return {"per_unit": self.data["per_unit"][keep]}

        def _merge_extension_data(self, merge_unit_groups, new_unit_ids, new_sorting_analyzer, keep_mask=None,
                                  verbose=False, **job_kwargs):
            return dict(self.data)

        def _get_data(self):
            return self.data["per_unit"]

    gs.register_result_extension(PerUnit)
    an = make(rec, srt, False)
    an.compute("per_unit_test", value=2.0)
    np.testing.assert_array_equal(an.select_units(["2", "0"]).get_extension("per_unit_test").get_data(), [4.0, 0.0])
    n = int(srt.count_num_spikes_per_unit()["1"])
    with pytest.raises(NotImplementedError, match="PerUnit must implement _split_extension_data"):
        an.split_units({"1": [np.arange(1), np.arange(1, n)]})


def test_zarr_saving_options_choose_the_compressor(data, tmp_path):
    """backend_options={"saving_options": {"compressor": ...}} as SpikeInterface: no compression, another
    codec through save_as, the default (Blosc zstd) otherwise; read back equal."""
    from numcodecs import LZMA

    rec, srt = data
    default = gs.create_sorting_analyzer(srt, rec, format="zarr", folder=tmp_path / "d.zarr", sparse=False)
    default.compute(["random_spikes", "templates"])
    root = default._get_zarr_root()
    assert root["extensions"]["templates"]["average"].compressor.codec_id == gs.get_default_zarr_compressor().codec_id
    plain = gs.create_sorting_analyzer(srt, rec, format="zarr", folder=tmp_path / "p.zarr", sparse=False,
                                       backend_options={"saving_options": {"compressor": None}})
    plain.compute(["random_spikes", "templates"])
    assert plain._get_zarr_root()["extensions"]["random_spikes"]["random_spikes_indices"].compressor is None
    lzma = plain.save_as(format="zarr", folder=tmp_path / "l.zarr",
                         backend_options={"saving_options": {"compressor": LZMA()}})
    assert lzma._get_zarr_root()["extensions"]["templates"]["average"].compressor.codec_id == "lzma"
    reopened = gs.load_sorting_analyzer(tmp_path / "l.zarr")
    np.testing.assert_array_equal(reopened.get_extension("templates").get_data(),
                                  default.get_extension("templates").get_data())
    with pytest.raises(ValueError, match="saving_options"):
        gs.create_sorting_analyzer(srt, rec, format="zarr", folder=tmp_path / "x.zarr", sparse=False,
                                   backend_options={"saving_options": {"chunk": 5}})
    with pytest.raises(ValueError, match="zarr analyzer"):
        make(rec, srt, False)._get_zarr_root()


def test_errors_spikeinterface_code_catches(data):
    """SpikeInterface asserts a missing dependency and a second extension of one name, and raises
    ValueError for unknown ids: gpuspike's errors are both kinds."""
    rec, srt = data
    an = make(rec, srt, False)
    for kind in (ValueError, AssertionError):
        with pytest.raises(kind, match="random_spikes"):
            an.compute(["waveforms"])
    for kind in (KeyError, ValueError):
        with pytest.raises(kind, match="unknown channel_ids"):
            rec.ids_to_indices(["nope"])

    class Twice(gs.AnalyzerExtension):
        extension_name = "random_spikes"

    with pytest.raises(AssertionError, match="already registered"):
        gs.register_result_extension(Twice)


def test_sparsity_mask_of_the_wrong_shape_and_estimate_sparsity_in_either_order(data):
    rec, srt = data
    for kind in (ValueError, AssertionError):
        with pytest.raises(kind, match="one row per unit id"):
            gs.ChannelSparsity(np.ones((3, 2), bool), srt.unit_ids, rec.channel_ids)
    kwargs = dict(num_spikes_for_sparsity=10, ms_before=0.4, ms_after=0.6, method="best_channels", num_channels=2)
    new_order = gs.estimate_sparsity(srt, rec, **kwargs)
    old_order = gs.estimate_sparsity(rec, srt, **kwargs)  # SpikeInterface 0.100's (recording, sorting)
    np.testing.assert_array_equal(old_order.mask, new_order.mask)
    np.testing.assert_array_equal(new_order.mask.sum(axis=1), [2, 2, 2])


@pytest.mark.parametrize("sparse", [False, True])
def test_split_by_gives_each_group_its_units_channels_and_extensions(sparse):
    """An analyzer of two groups (dicts of sortings and recordings): split_by() gives, per group,
    its units on its channels, with the waveforms, templates and noise levels of those channels."""
    rec = recording(num_channels=6)
    rec.set_property("group", [0, 0, 0, 1, 1, 1])
    srt = sorting(rec, num_units=4)
    srt.set_property("group", [0, 1, 0, 1])
    an = gs.create_sorting_analyzer(srt.split_by("group"), rec.split_by("group"), sparse=sparse,
                                    sparsity_kwargs={"method": "best_channels", "num_channels": 2})
    an.compute({"random_spikes": {"method": "all"}, "waveforms": MS, "templates": {}, "noise_levels": {}})
    parts = an.split_by()
    assert sorted(parts) == [0, 1]
    whole_some = an.get_extension("random_spikes").get_random_spikes()
    dense_rows = waveforms(rec, whole_some)  # NumPy reference, every channel
    whole_noise = an.get_extension("noise_levels").get_data()
    for key, part in parts.items():
        units = an.unit_ids[an.get_sorting_property("aggregation_key") == key]
        channels = an.channel_ids[an.get_recording_property("aggregation_key") == key]
        assert list(part.unit_ids) == list(units) and list(part.channel_ids) == list(channels)
        keep = an.channel_ids_to_indices(list(channels))
        np.testing.assert_array_equal(part.get_extension("noise_levels").get_data(), whole_noise[keep])
        some = part.get_extension("random_spikes").get_random_spikes()
        assert some.size == np.isin(whole_some["unit_index"], an.sorting.ids_to_indices(list(units))).sum()
        mask = None if part.sparsity is None else part.sparsity.mask
        rows = part.get_extension("waveforms").get_data()
        old_units = an.sorting.ids_to_indices(list(units))
        ref_rows = dense_rows[np.isin(whole_some["unit_index"], old_units)][:, :, keep]
        if mask is not None:
            np.testing.assert_array_equal(mask, an.sparsity.mask[old_units][:, keep])
            expected = np.zeros_like(rows)
            for i, u in enumerate(some["unit_index"]):
                own = np.flatnonzero(mask[u])
                expected[i, :, :own.size] = ref_rows[i][:, own]
            ref_rows = expected
        np.testing.assert_array_equal(rows, ref_rows)
        np.testing.assert_array_equal(part.get_extension("templates").get_data(),
                                      an.get_extension("templates").get_data()[old_units][:, :, keep])
    with pytest.raises(ValueError, match="aggregated"):
        gs.create_sorting_analyzer(srt, rec, sparse=False).split_by()


@pytest.mark.parametrize("sparse", [False, True])
def test_selecting_channels_out_of_order_rewires_the_probe(sparse):
    """Contacts wired in reverse, channels selected in another order: locations and wiring follow the
    selected order, as the recording's own channel selection gives them."""
    from probeinterface import generate_linear_probe

    rec, srt = gs.generate_ground_truth_recording(durations=[2.0], num_channels=6, num_units=3, seed=4)
    probe = generate_linear_probe(num_elec=6, ypitch=20)
    probe.set_device_channel_indices([5, 4, 3, 2, 1, 0])
    rec = rec.set_probe(probe)
    an = gs.create_sorting_analyzer(srt, rec, sparse=sparse, return_in_uV=False)
    ids = [rec.channel_ids[4], rec.channel_ids[1], rec.channel_ids[5]]
    sub = an._select_channels(ids)
    expected = rec.select_channels(ids)
    np.testing.assert_array_equal(sub.get_channel_locations(), expected.get_channel_locations())
    # the y of contact c is 20 * c and channel k is wired to contact 5 - k
    np.testing.assert_array_equal(sub.get_channel_locations()[:, 1], [20.0 * (5 - 4), 20.0 * (5 - 1), 0.0])
    wiring = sub.get_probegroup().get_global_device_channel_indices()["device_channel_indices"]
    assert sorted(wiring.tolist()) == [0, 1, 2]


@pytest.mark.parametrize("seed", range(12))
def test_selecting_channels_of_two_interleaved_probes(seed):
    """Two probes wired in a random interleaved order (SpikeInterface's own test draws one): every
    selection rewires both probes together."""
    from _saving_helpers import interleaved_probegroup

    rec, srt = gs.generate_ground_truth_recording(durations=[2.0], num_channels=10, num_units=3, seed=4)
    rec.set_probegroup(interleaved_probegroup(5, np.random.default_rng(seed).permutation(10)))
    an = gs.create_sorting_analyzer(srt, rec, sparse=False)
    keep = rec.channel_ids[::2]
    sub = an._select_channels(keep)
    np.testing.assert_array_equal(sub.get_channel_locations(), rec.get_channel_locations()[::2])
    wiring = sub.get_probegroup().get_global_device_channel_indices()["device_channel_indices"]
    assert sorted(wiring.tolist()) == list(range(len(keep)))


def test_selecting_channels_of_a_dense_analyzer_slices_every_extension(data):
    rec, srt = data
    an = make(rec, srt, False)
    an.compute({"random_spikes": {"max_spikes_per_unit": 8, "seed": 1}, "waveforms": MS, "templates": {},
                "noise_levels": {}})
    keep = [rec.channel_ids[4], rec.channel_ids[1]]  # another order than the recording's
    sub = an._select_channels(keep)
    assert list(sub.channel_ids) == keep and sub.sparsity is None
    some = sub.get_extension("random_spikes").get_random_spikes()
    np.testing.assert_array_equal(sub.get_extension("waveforms").get_data(), waveforms(rec, some)[:, :, [4, 1]])
    np.testing.assert_array_equal(sub.get_extension("templates").get_data(),
                                  an.get_extension("templates").get_data()[:, :, [4, 1]])
    np.testing.assert_array_equal(sub.get_extension("noise_levels").get_data(),
                                  an.get_extension("noise_levels").get_data()[[4, 1]])
    np.testing.assert_array_equal(sub.get_channel_locations(), rec.get_channel_locations()[[4, 1]])


def test_noise_levels_extension_takes_the_recordings_cached_estimate():
    """SpikeInterface 0.105: an estimate cached on the recording by get_noise_levels (same method and
    units) is the extension's; without one the extension draws its own seeded chunks."""
    rec, srt = gs.generate_ground_truth_recording(durations=[3.0], num_channels=4, num_units=2, seed=5)
    cached = gs.get_noise_levels(rec, return_in_uV=False, method="mad")  # unseeded chunks
    an = gs.create_sorting_analyzer(srt, rec, sparse=False, return_in_uV=False)
    np.testing.assert_array_equal(an.compute("noise_levels").get_data(), cached)
    std = an.compute("noise_levels", method="std", random_slices_kwargs={"seed": 3}).get_data()
    chunks = gs.get_random_data_chunks(rec, seed=3)  # the same draw, stacked
    np.testing.assert_allclose(std, np.std(chunks.reshape(20, -1, 4), axis=1).mean(axis=0), rtol=1e-5)
    seeded = an.compute("noise_levels", force_recompute=True, random_slices_kwargs={"seed": 3}).get_data()
    chunks = gs.get_random_data_chunks(rec, seed=3, return_in_uV=False).reshape(20, -1, 4).astype("float64")
    mad = np.median(np.abs(chunks - np.median(chunks, axis=1, keepdims=True)), axis=1) / 0.6744897501960817
    np.testing.assert_allclose(seeded, mad.mean(axis=0), rtol=1e-5)  # not the cached estimate
    assert not np.allclose(seeded, cached)


def test_extension_units_argument_of_spikeinterface_0_101_agrees_with_the_analyzer_or_is_refused():
    rec, srt = gs.generate_ground_truth_recording(durations=[3.0], num_channels=4, num_units=2, seed=5)
    an = gs.create_sorting_analyzer(srt, rec, sparse=False)  # return_in_uV=True
    an.compute("random_spikes", max_spikes_per_unit=10, seed=1)
    expected = an.compute("waveforms").get_data()
    with pytest.warns(FutureWarning, match="return_scaled= is set by the analyzer"):
        ext = an.compute("waveforms", return_scaled=True)
    np.testing.assert_array_equal(ext.get_data(), expected)
    assert "return_scaled" not in ext.params
    with pytest.raises(ValueError, match="return_in_uV=False"):
        an.compute("templates", return_in_uV=False)
    with pytest.raises(ValueError, match="return_scaled=False differs"):
        an.compute("noise_levels", return_scaled=False)
