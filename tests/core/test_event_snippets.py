"""Events and snippets."""
import numpy as np
import pytest

from gpuspike import NumpyEvent, NumpySnippets
from gpuspike.core.generate import generate_linear_probe_for


def test_events_multi_segment_and_time_windows():
    dtype = np.dtype([("time", "f8"), ("duration", "f8")])
    rng = np.random.default_rng(0)
    segs = []
    for _ in range(2):
        seg = {}
        for ch in ("a", "b"):
            arr = np.zeros(10, dtype)
            arr["time"] = rng.uniform(0, 10, 10)
            arr["duration"] = rng.uniform(0, 1, 10)
            seg[ch] = arr
        segs.append(seg)
    ev = NumpyEvent.from_dict(segs)
    assert ev.get_num_segments() == 2
    for s in range(2):
        for ch in ("a", "b"):
            ref = np.sort(segs[s][ch], order="time")
            np.testing.assert_array_equal(ev.get_events(ch, segment_index=s), ref)
            got = ev.get_event_times(ch, segment_index=s, start_time=2.0, end_time=7.5)
            np.testing.assert_array_equal(got, ref["time"][(ref["time"] >= 2.0) & (ref["time"] <= 7.5)])
    plain = NumpyEvent.from_dict({"ttl": np.array([3.0, 1.0, 2.0])})
    np.testing.assert_array_equal(plain.get_event_times(), [1.0, 2.0, 3.0])
    # plain times stay plain (no structured dtype), as in SpikeInterface; both ends of a window included
    assert plain.get_dtype("ttl") == np.dtype("float64") and plain.get_events().dtype.names is None
    np.testing.assert_array_equal(plain.get_events(start_time=1.0, end_time=2.0), [1.0, 2.0])
    with pytest.raises(KeyError, match="unknown channel_ids"):
        ev.get_events("zz", segment_index=0)
    with pytest.raises(ValueError, match="channel_id must be given"):
        ev.get_events(segment_index=0)
    with pytest.raises(ValueError, match="end_time=1 is before start_time=2"):
        ev.get_events("a", segment_index=0, start_time=2, end_time=1)
    with pytest.raises(ValueError, match=r"must have a 'time' \(or 'timestamp'\) field"):
        NumpyEvent(["x"], np.dtype([("t", "f8")]))


@pytest.fixture
def snippets():
    rng = np.random.default_rng(1)
    data = [rng.integers(-50, 50, (6, 8, 4)).astype("int16"), rng.integers(-50, 50, (3, 8, 4)).astype("int16")]
    frames = [np.array([5, 9, 20, 33, 40, 61]), np.array([2, 8, 15])]
    return NumpySnippets(data, frames, 1000.0, nbefore=3), data, frames


def test_snippets_access(snippets):
    sn, data, frames = snippets
    assert sn.get_total_snippets() == 9 and sn.nbefore == 3 and sn.nafter == 5 and sn.is_aligned()
    np.testing.assert_array_equal(sn.get_snippets(segment_index=1), data[1])
    np.testing.assert_array_equal(sn.get_snippets(indices=[4, 0], segment_index=0, channel_ids=[3, 1]),
                                  data[0][[4, 0]][:, :, [3, 1]])
    np.testing.assert_array_equal(sn.get_frames(indices=[1, 2], segment_index=0), frames[0][[1, 2]])
    np.testing.assert_array_equal(sn.get_snippets_from_frames(segment_index=0, start_frame=9, end_frame=40),
                                  data[0][1:4])
    sn.set_channel_gains(2.0)
    sn.set_channel_offsets(1.0)
    np.testing.assert_allclose(sn.get_snippets(segment_index=1, return_scaled=True), data[1] * 2.0 + 1.0)
    with pytest.raises(ValueError, match="indices out of range"):
        sn.get_snippets(indices=[6], segment_index=0)


def test_snippets_channel_views_and_probe(snippets):
    sn, data, _ = snippets
    sn = sn.set_probe(generate_linear_probe_for(4))
    view = sn.channel_slice([2, 0])
    np.testing.assert_array_equal(view.get_snippets(segment_index=0), data[0][:, :, [2, 0]])
    np.testing.assert_array_equal(view.get_snippets(segment_index=0, channel_ids=[0]), data[0][:, :, [0]])
    np.testing.assert_array_equal(view.get_channel_locations()[:, 1], [40.0, 0.0])
    np.testing.assert_array_equal(view.get_probe().contact_positions[:, 1], [40.0, 0.0])
    rm = sn.remove_channels([1])
    np.testing.assert_array_equal(rm.get_snippets(segment_index=1), data[1][:, :, [0, 2, 3]])
    assert list(rm.channel_ids) == [0, 2, 3]
