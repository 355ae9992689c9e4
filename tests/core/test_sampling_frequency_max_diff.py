"""sampling_frequency_max_diff of append / concatenate / aggregate (SpikeInterface 0.105's rule):
a larger difference is refused naming the argument, a smaller one is used with a warning, and
the first extractor's sampling frequency wins."""
import numpy as np
import pytest

import gpuspike as gs


def sorting(fs, seed):
    rng = np.random.default_rng(seed)
    return gs.NumpySorting.from_unit_dict([{"a": np.sort(rng.choice(900, 12, replace=False)),
                                            "b": np.sort(rng.choice(900, 7, replace=False))}], fs)


def recording(fs, seed):
    return gs.NumpyRecording([np.random.default_rng(seed).normal(size=(1000, 3)).astype("float32")], fs)


@pytest.mark.parametrize("combine", [gs.append_sortings,
                                     lambda sortings, **kw: gs.concatenate_sortings(sortings, [1000, 1000], **kw)],
                         ids=["append", "concatenate"])
def test_sortings_within_the_bound_are_combined_with_a_warning(combine):
    first, second = sorting(30000.0, 0), sorting(30000.4, 1)
    with pytest.raises(ValueError, match=r"sampling_frequency_max_diff=0"):
        combine([first, second])
    with pytest.warns(UserWarning, match="differ by up to 0.4"):
        combined = combine([first, second], sampling_frequency_max_diff=0.5)
    assert combined.sampling_frequency == 30000.0
    trains = [np.concatenate([s.get_unit_spike_train(u, segment_index=0) for u in ("a", "b")])
              for s in (first, second)]
    if combined.get_num_segments() == 2:
        got = [np.concatenate([combined.get_unit_spike_train(u, segment_index=i) for u in ("a", "b")])
               for i in range(2)]
        for g, t in zip(got, trains):
            np.testing.assert_array_equal(g, t)
    else:
        a = combined.get_unit_spike_train("a", segment_index=0)
        np.testing.assert_array_equal(a, np.concatenate([first.get_unit_spike_train("a"),
                                                         second.get_unit_spike_train("a") + 1000]))
    assert combined.to_dict()["kwargs"]["sampling_frequency_max_diff"] == 0.5  # rebuilt with its bound


def test_aggregate_units_and_recordings_follow_the_same_rule():
    with pytest.warns(UserWarning, match="differ by up to"):
        agg = gs.aggregate_units([sorting(30000.0, 2), sorting(30000.2, 3)], sampling_frequency_max_diff=1.0)
    assert agg.sampling_frequency == 30000.0 and agg.get_num_units() == 4
    with pytest.raises(ValueError, match="sorting_list\\[1\\] has sampling_frequency 30002.0"):
        gs.aggregate_units([sorting(30000.0, 2), sorting(30002.0, 3)], sampling_frequency_max_diff=1.0)
    with pytest.warns(UserWarning, match="differ by up to"):
        rec = gs.append_recordings([recording(30000.0, 4), recording(30000.3, 5)], sampling_frequency_max_diff=1)
    assert rec.sampling_frequency == 30000.0 and rec.get_num_segments() == 2


@pytest.mark.parametrize("bad", [-1, "1", True, float("nan")])
def test_a_bad_bound_is_refused(bad):
    with pytest.raises(ValueError, match="sampling_frequency_max_diff"):
        gs.append_sortings([sorting(30000.0, 0), sorting(30000.0, 1)], sampling_frequency_max_diff=bad)
