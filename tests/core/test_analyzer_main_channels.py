"""A dense memory analyzer's main channels: estimated when first asked for, or in the same pass over
the file as the first waveforms / templates; always the main channels of the creation-time
estimate (SpikeInterface 0.105's: the raw mean of up to 100 random spikes per unit, away from the
segment edges), computed here from the traces independently."""
import numpy as np
import pytest

import gpuspike as gs
from gpuspike.core.template_tools import MainChannelEstimate
from _analyzer_data import MS, dense_templates, recording, sorting, waveforms

SEED = 7


@pytest.fixture
def data():
    rec = recording(seed=31)
    # units of different amplitude on different channels, so that the main channels differ
    return rec, sorting(rec, num_units=4, per_segment=40, seed=32)


def reference_main_channels(rec, srt, peak_sign="both"):
    num_samples = [rec.get_num_samples(s) for s in range(rec.get_num_segments())]
    nbefore, nafter = 10, 25  # 1.0 ms and 2.5 ms at 10 kHz
    some = srt.to_spike_vector()[gs.random_spikes_selection(srt, num_samples, max_spikes_per_unit=100,
                                                            margin_size=max(nbefore, nafter), seed=SEED)]
    rows = waveforms(rec, some, scaled=False, nbefore=nbefore, nafter=nafter)
    means = dense_templates(rows, some["unit_index"], srt.get_num_units(), rec.get_num_channels(),
                            lambda w: w.astype("float64").mean(axis=0))
    peaks = {"both": np.abs(means).max(axis=1), "neg": -means.min(axis=1), "pos": means.max(axis=1)}[peak_sign]
    return np.argmax(peaks, axis=1)


def no_pass_of_its_own(monkeypatch):
    def refuse(self):
        raise AssertionError("the main-channel estimate read the file in a pass of its own")
    monkeypatch.setattr(MainChannelEstimate, "run", refuse)


@pytest.mark.parametrize("first", [["random_spikes", "waveforms"], ["random_spikes", "templates"]],
                         ids=["waveforms", "templates"])
def test_estimate_rides_along_with_the_first_pass(data, monkeypatch, backend_name, first):
    rec, srt = data
    expected = reference_main_channels(rec, srt)
    an = gs.create_sorting_analyzer(srt, rec, sparse=False, seed=SEED, backend=backend_name,
                                    job_kwargs={"progress_bar": False})
    no_pass_of_its_own(monkeypatch)
    an.compute(first, extension_params={"random_spikes": {"max_spikes_per_unit": 5, "seed": 1}}, chunk_size=150)
    np.testing.assert_array_equal(an.get_main_channels(), expected)
    np.testing.assert_array_equal(an.sorting.get_property("main_channel_id"), rec.channel_ids[expected])
    # the first pass's own results are those of a pass without the estimate
    plain = gs.create_sorting_analyzer(srt, rec, sparse=False, main_channel_indices=expected, backend=backend_name)
    plain.compute(first, extension_params={"random_spikes": {"max_spikes_per_unit": 5, "seed": 1}}, chunk_size=150)
    name = first[-1]
    np.testing.assert_array_equal(an.get_extension(name).get_data(), plain.get_extension(name).get_data())


def test_asked_for_before_any_pass(data):
    rec, srt = data
    expected = reference_main_channels(rec, srt)
    an = gs.create_sorting_analyzer(srt, rec, sparse=False, seed=SEED)
    assert "main_channel_id" in an.sorting.get_property_keys()
    np.testing.assert_array_equal(an.sorting.get_property("main_channel_id"), rec.channel_ids[expected])
    an = gs.create_sorting_analyzer(srt, rec, sparse=False, seed=SEED)
    np.testing.assert_array_equal(an.get_sorting_property("main_channel_id"), rec.channel_ids[expected])
    an = gs.create_sorting_analyzer(srt, rec, sparse=False, seed=SEED)
    assert "main_channel_id" in an.get_sorting_property_keys()
    copy = gs.create_sorting_analyzer(srt, rec, sparse=False, seed=SEED).save_as(format="memory")
    np.testing.assert_array_equal(copy.get_main_channels(), expected)


@pytest.mark.filterwarnings("ignore:the recording is not saved")
def test_same_main_channels_as_the_estimate_made_at_creation(data, tmp_path):
    """Folders and sparse analyzers estimate at creation: the deferred estimate gives theirs."""
    rec, srt = data
    for peak_sign in ("neg", "pos", "both"):
        deferred = gs.create_sorting_analyzer(srt, rec, sparse=False, seed=SEED, peak_sign=peak_sign)
        deferred.compute(["random_spikes", "waveforms"], extension_params={"waveforms": MS})
        folder = gs.create_sorting_analyzer(srt, rec, sparse=False, seed=SEED, peak_sign=peak_sign,
                                            format="binary_folder", folder=tmp_path / f"an_{peak_sign}")
        assert folder._pending_main_channels is None
        np.testing.assert_array_equal(deferred.get_main_channels(), folder.get_main_channels())
        np.testing.assert_array_equal(deferred.get_main_channels(), reference_main_channels(rec, srt, peak_sign))


def test_with_a_temporary_recording_the_estimate_reads_the_creation_recording(data, monkeypatch):
    rec, srt = data
    expected = reference_main_channels(rec, srt)
    an = gs.create_sorting_analyzer(srt, rec, sparse=False, seed=SEED)
    other = gs.NumpyRecording([np.zeros((rec.get_num_samples(s), rec.get_num_channels()), "int16")
                               for s in range(rec.get_num_segments())], rec.sampling_frequency)
    other.set_channel_gains(rec.get_channel_gains())
    other.set_channel_offsets(rec.get_channel_offsets())
    other.set_channel_locations(rec.get_channel_locations())
    an.set_temporary_recording(other)
    an.compute(["random_spikes", "waveforms"], extension_params={"waveforms": MS})
    np.testing.assert_array_equal(an.get_main_channels(), expected)


def test_main_channels_set_by_the_user_replace_the_estimate(data, monkeypatch):
    rec, srt = data
    an = gs.create_sorting_analyzer(srt, rec, sparse=False, seed=SEED)
    no_pass_of_its_own(monkeypatch)
    an.set_sorting_property("main_channel_id", rec.channel_ids[[5, 4, 3, 2]])
    an.compute(["random_spikes", "waveforms"], extension_params={"waveforms": MS})
    np.testing.assert_array_equal(an.get_main_channels(), [5, 4, 3, 2])


def test_bad_estimate_arguments_are_refused_at_creation(data):
    rec, srt = data
    with pytest.raises(ValueError, match="num_spikes_for_main_channel"):
        gs.create_sorting_analyzer(srt, rec, sparse=False, num_spikes_for_main_channel=0)
    with pytest.raises(ValueError, match="peak_sign"):
        gs.create_sorting_analyzer(srt, rec, sparse=False, peak_sign="up")


@pytest.mark.parametrize("sparse", [False, True])
def test_without_its_recording_an_analyzer_takes_the_templates_peak(data, tmp_path, sparse):
    """SpikeInterface 0.105: the stored main channels serve while the recording is attached; without
    it, the peak channel of each unit's template (then the stored ids when there are no templates)."""
    rec, srt = data
    saved = rec.save(folder=tmp_path / "rec")
    an = gs.create_sorting_analyzer(srt, saved, sparse=sparse, seed=SEED, format="binary_folder",
                                    folder=tmp_path / "an")
    stored = an.get_main_channels()
    an.compute(["random_spikes", "templates"])
    target = (np.asarray(stored) + 1) % rec.get_num_channels()
    if sparse:  # a peak inside each unit's channels, away from the stored one
        target = np.array([[c for c in np.flatnonzero(row) if c != s][-1]
                           for row, s in zip(an.sparsity.mask, stored)])

    def peaks_moved_to_target(analyzer):
        templates = analyzer.get_extension("templates")
        templates.data["average"][:] = 0.0
        templates.data["average"][np.arange(len(target)), templates.nbefore, target] = -50.0
        return analyzer

    with_recording = peaks_moved_to_target(gs.load_sorting_analyzer(tmp_path / "an"))
    assert with_recording.has_recording()
    np.testing.assert_array_equal(with_recording.get_main_channels(), stored)
    (tmp_path / "an" / "recording.json").unlink()
    reloaded = peaks_moved_to_target(gs.load_sorting_analyzer(tmp_path / "an"))
    assert not reloaded.has_recording()
    np.testing.assert_array_equal(reloaded.get_main_channels(), target)
    np.testing.assert_array_equal(reloaded.get_main_channels(outputs="id"), reloaded.channel_ids[target])
    without_templates = gs.load_sorting_analyzer(tmp_path / "an")
    without_templates.delete_extension("templates")
    np.testing.assert_array_equal(without_templates.get_main_channels(), stored)
