"""recording_tools against independent NumPy references."""
import numpy as np
import pytest

import gpuspike as gs
from gpuspike import (NumpyRecording, get_channel_distances, get_chunk_with_margin, get_closest_channels,
                      get_noise_levels, get_random_data_chunks, order_channels_by_depth)


@pytest.fixture
def noise_rec():
    rng = np.random.default_rng(0)
    sigma = np.array([1.0, 3.0, 10.0])
    traces = [(rng.standard_normal((6000, 3)) * sigma * 8).astype("int16"),
              (rng.standard_normal((5000, 3)) * sigma * 8).astype("int16")]
    rec = NumpyRecording(traces, 1000.0)
    rec.set_channel_gains(0.25)
    rec.set_channel_offsets(0.0)
    return rec, traces, sigma * 8


def test_random_data_chunks_seeded_and_reproducible(noise_rec):
    rec, traces, _ = noise_rec
    a = get_random_data_chunks(rec, num_chunks_per_segment=4, chunk_size=100, seed=3)
    b = get_random_data_chunks(rec, num_chunks_per_segment=4, chunk_size=100, seed=3)
    c = get_random_data_chunks(rec, num_chunks_per_segment=4, chunk_size=100, seed=4)
    assert a.shape == (8 * 100, 3) and a.dtype == np.int16
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # each chunk is a real window of its segment, drawn as SpikeInterface 0.105's "full_random" slices:
    # default_rng(seed).integers(margin, n - chunk_size - margin, endpoint=True), sorted per segment
    rng = np.random.default_rng(3)
    expected = []
    for seg, tr in enumerate(traces):
        starts = np.sort(rng.integers(0, tr.shape[0] - 100, size=4, endpoint=True))
        expected += [tr[s:s + 100] for s in starts]
    np.testing.assert_array_equal(a, np.concatenate(expected))
    chunks = get_random_data_chunks(rec, num_chunks_per_segment=4, chunk_size=100, seed=3, concatenated=False)
    assert len(chunks) == 8 and all(ch.shape == (100, 3) for ch in chunks)
    scaled = get_random_data_chunks(rec, num_chunks_per_segment=4, chunk_size=100, seed=3, return_scaled=True)
    np.testing.assert_allclose(scaled, a * 0.25)
    short = NumpyRecording([traces[0][:50]], 1000.0)  # chunk_size reduced to the segment, with a warning
    with pytest.warns(UserWarning, match="Using 49"):
        one = get_random_data_chunks(short, chunk_size=100, num_chunks_per_segment=1, seed=0)
    start = np.random.default_rng(0).integers(0, 1, size=1, endpoint=True)[0]
    np.testing.assert_array_equal(one, traces[0][start:start + 49])


def test_noise_levels_mad_and_std(noise_rec, backend_name):
    """SpikeInterface 0.105's estimator: each random chunk's MAD / 0.6745 (or std), averaged over chunks."""
    backend = backend_name
    rec, traces, sigma = noise_rec
    kw = dict(num_chunks_per_segment=3, chunk_size=300, seed=0)
    chunks = [c.astype("float64") for c in get_random_data_chunks(rec, concatenated=False, **kw)]
    ref_mad = np.mean([np.median(np.abs(c - np.median(c, axis=0)), axis=0) for c in chunks], axis=0) \
        / 0.6744897501960817
    raw = get_noise_levels(rec, return_scaled=False, method="mad", backend=backend, **kw)
    np.testing.assert_allclose(raw, ref_mad, rtol=1e-5)
    np.testing.assert_allclose(raw, sigma, rtol=0.15)  # Gaussian noise: MAD/0.6745 estimates sigma
    scaled = get_noise_levels(rec, return_scaled=True, method="mad", backend=backend, **kw)
    np.testing.assert_allclose(scaled, ref_mad * 0.25, rtol=1e-5)
    std = get_noise_levels(rec, return_scaled=False, method="std", backend=backend, **kw)
    np.testing.assert_allclose(std, np.mean([c.std(axis=0) for c in chunks], axis=0), rtol=1e-5)
    np.testing.assert_allclose(std, sigma, rtol=0.15)


def test_noise_levels_cached(noise_rec):
    rec, _, _ = noise_rec
    first = get_noise_levels(rec, return_scaled=False, method="std")
    np.testing.assert_array_equal(rec.get_property("noise_level_std_raw"), first)  # SpikeInterface 0.105's key
    assert get_noise_levels(rec, return_scaled=False, method="std") is rec.get_property("noise_level_std_raw")
    with pytest.raises(ValueError, match="method='var'"):
        get_noise_levels(rec, method="var")


@pytest.mark.parametrize("mode", ["none", "zeros", "reflect"])
@pytest.mark.parametrize("window", [(0, 10), (3, 30), (40, 64), (10, 64), (0, 64)])
def test_get_chunk_with_margin(mode, window):
    rng = np.random.default_rng(1)
    tr = rng.standard_normal((64, 3)).astype("float32")
    seg = NumpyRecording([tr], 1000.0)._segments[0]
    start, end = window
    margin = 5
    out, left, right = get_chunk_with_margin(seg, start, end, None, margin, add_zeros=mode == "zeros",
                                             add_reflect_padding=mode == "reflect")
    if mode == "none":
        assert left == min(margin, start) and right == min(margin, 64 - end)
        np.testing.assert_array_equal(out, tr[start - left:end + right])
    else:
        assert left == right == margin
        padded = np.pad(tr, ((margin, margin), (0, 0)), mode="constant" if mode == "zeros" else "reflect")
        np.testing.assert_array_equal(out, padded[start:end + 2 * margin])
    sub, _, _ = get_chunk_with_margin(seg, start, end, np.array([2, 0]), margin, add_zeros=mode == "zeros",
                                      add_reflect_padding=mode == "reflect", dtype="float64")
    assert sub.dtype == np.float64
    np.testing.assert_array_equal(sub, out[:, [2, 0]])


@pytest.mark.parametrize("end", [64, 66, 69, 70, 100])
def test_get_chunk_with_margin_past_the_end(end):
    tr = np.arange(64 * 2, dtype="int16").reshape(64, 2) + 1
    seg = NumpyRecording([tr], 1000.0)._segments[0]
    margin = 5
    out, left, right = get_chunk_with_margin(seg, 50, end, None, margin, add_zeros=True)
    expected = np.zeros((end - 50 + 2 * margin, 2), "int16")
    expected[:64 - 45] = tr[45:]
    np.testing.assert_array_equal(out, expected)
    assert left == margin
    # every padded frame counts once the chunk ends a margin or more past the segment
    assert right == (margin if end < 64 + margin else end + margin - 64)
    if right > margin:
        assert not out[-right:].any() and out[-right - 1].all()


def test_get_chunk_with_margin_window_and_errors():
    tr = np.ones((50, 2), "int16")
    seg = NumpyRecording([tr], 1000.0)._segments[0]
    out, l, r = get_chunk_with_margin(seg, 10, 20, None, 4, add_zeros=True, window_on_margin=True)
    taper = (1 - np.cos(np.arange(4) / 4 * np.pi)) / 2
    np.testing.assert_allclose(out[:4, 0], taper)
    np.testing.assert_allclose(out[-4:, 0], taper[::-1])
    np.testing.assert_array_equal(out[4:-4], 1)
    with pytest.raises(ValueError, match="margin must be >= 0"):
        get_chunk_with_margin(seg, 0, 10, None, -1)
    with pytest.raises(ValueError, match="exclusive"):
        get_chunk_with_margin(seg, 0, 10, None, 2, add_zeros=True, add_reflect_padding=True)


@pytest.fixture
def geom_rec():
    locs = np.array([[0.0, 40.0], [16.0, 0.0], [0.0, 0.0], [16.0, 40.0], [8.0, 20.0]])
    rec = NumpyRecording([np.zeros((4, 5), "float32")], 1000.0, channel_ids=list("abcde"))
    rec.set_channel_locations(locs)
    return rec, locs


def test_order_channels_by_depth(geom_rec):
    rec, locs = geom_rec
    order_f, order_r = order_channels_by_depth(rec)
    ref = sorted(range(5), key=lambda i: (locs[i, 1], locs[i, 0]))  # depth first, then x
    np.testing.assert_array_equal(order_f, ref)
    np.testing.assert_array_equal(np.arange(5)[order_f][order_r], np.arange(5))
    f2, _ = order_channels_by_depth(rec, dimensions="x")
    np.testing.assert_array_equal(locs[f2, 0], np.sort(locs[:, 0]))
    f3, _ = order_channels_by_depth(rec, flip=True)
    np.testing.assert_array_equal(f3, ref[::-1])


def test_channel_distances_and_closest(geom_rec):
    rec, locs = geom_rec
    d = get_channel_distances(rec)
    ref = np.array([[np.hypot(*(locs[i] - locs[j])) for j in range(5)] for i in range(5)])
    np.testing.assert_allclose(d, ref)
    inds, dists = get_closest_channels(rec, num_channels=3)
    for i in range(5):
        assert inds[i, 0] == i
        np.testing.assert_allclose(dists[i], np.sort(ref[i])[:3])
        np.testing.assert_allclose(ref[i, inds[i]], dists[i])
    sub = ["a", "c", "e"]
    inds, dists = get_closest_channels(rec, channel_ids=sub)
    sub_ref = ref[np.ix_([0, 2, 4], [0, 2, 4])]
    for i in range(3):
        np.testing.assert_allclose(dists[i], np.sort(sub_ref[i]))
        np.testing.assert_allclose(sub_ref[i, inds[i]], dists[i])
    with pytest.raises(ValueError, match="num_channels=9"):
        get_closest_channels(rec, num_channels=9)


def test_noise_levels_cuda_equal_numpy_with_a_short_segment():
    """One segment shorter than chunk_size: every chunk shrinks to it (SpikeInterface 0.105), and the
    CUDA path, reading the chunks through the pinned ring, gives the NumPy backend's levels."""
    rng = np.random.default_rng(9)
    traces = [rng.integers(-300, 300, (5000, 3)).astype("int16"), rng.integers(-300, 300, (700, 3)).astype("int16")]
    recording = gs.NumpyRecording(traces, 10000.0)
    recording.set_channel_gains([0.5, 1.0, 2.0])
    recording.set_channel_offsets([1.0, 0.0, -1.0])
    kwargs = dict(chunk_size=1000, num_chunks_per_segment=4, seed=3, force_recompute=True)
    with pytest.warns(UserWarning, match="Using 699"):
        expected = gs.get_noise_levels(recording, backend="numpy", **kwargs)
    with pytest.warns(UserWarning, match="Using 699"):
        np.testing.assert_allclose(gs.get_noise_levels(recording, backend="cuda", **kwargs), expected, rtol=1e-6)
    with pytest.warns(UserWarning):
        ranges = gs.core.recording_tools.random_chunk_ranges(recording, 4, 1000, 3)
    assert len(ranges) == 8 and all(b - a == 699 for _, a, b in ranges)
    stats = []
    for s, a, b in ranges:
        raw = recording.get_traces(segment_index=s, start_frame=a, end_frame=b, return_scaled=False)
        scaled = (raw.astype("float32") * np.float32([0.5, 1.0, 2.0]) + np.float32([1.0, 0.0, -1.0])).astype("float64")
        stats.append(np.median(np.abs(scaled - np.median(scaled, axis=0)), axis=0))
    np.testing.assert_allclose(expected, np.mean(stats, axis=0) / 0.6744897501960817, rtol=1e-5)


def test_random_sample_slices_and_chunks_follow_the_seeded_draw():
    from gpuspike.core.recording_tools import get_chunks, get_random_sample_slices

    rec = gs.generate_recording(num_channels=2, durations=[1.0, 0.5])
    slices = get_random_sample_slices(rec, num_chunks_per_segment=4, chunk_duration="10ms", margin_frames=3, seed=9)
    rng = np.random.default_rng(9)  # SpikeInterface 0.105's draw: sorted inclusive starts per segment
    expected = [(seg, int(s), int(s) + 300) for seg, n in enumerate((30000, 15000))
                for s in np.sort(rng.integers(3, n - 300 - 3, size=4, endpoint=True))]
    assert slices == expected
    chunks = get_chunks(rec, concatenated=False, num_chunks_per_segment=4, chunk_duration="10ms", margin_frames=3,
                        seed=9)
    for (seg, start, end), chunk in zip(expected, chunks):
        np.testing.assert_array_equal(chunk, rec.get_traces(segment_index=seg, start_frame=start, end_frame=end))
    stacked = get_chunks(rec, num_chunks_per_segment=4, chunk_size=300, margin_frames=3, seed=9)
    np.testing.assert_array_equal(stacked, np.concatenate(chunks))
    with pytest.raises(ValueError, match="method='other'"):
        get_random_sample_slices(rec, method="other")


def test_recording_attributes_match():
    from gpuspike.core.recording_tools import do_recording_attributes_match, get_rec_attributes

    def attributes(durations):
        return get_rec_attributes(gs.generate_recording(num_channels=2, durations=durations))

    rec = gs.generate_recording(num_channels=2, durations=[1.0, 0.5])
    assert do_recording_attributes_match(rec, attributes([1.0, 0.5])) == (True, "")
    match, message = do_recording_attributes_match(rec, attributes([1.0, 0.4]))
    assert not match and "num_samples [30000, 15000] != [30000, 12000]" in message
    other_dtype = rec.astype("int16")
    assert not do_recording_attributes_match(rec, get_rec_attributes(other_dtype))[0]
    assert do_recording_attributes_match(rec, get_rec_attributes(other_dtype), check_dtype=False)[0]


def test_shift_start_time_moves_every_segment_or_one():
    rec = gs.generate_recording(num_channels=2, durations=[1.0, 0.5])
    rec.set_times(np.arange(rec.get_num_samples(1)) / rec.sampling_frequency + 3.0, segment_index=1)
    rec.shift_start_time(100.15)
    assert rec.get_times(segment_index=0)[0] == 100.15
    np.testing.assert_allclose(rec.get_times(segment_index=1)[:3], 3.0 + 100.15 + np.arange(3) / 30000.0)
    rec.shift_start_time(-50.15, segment_index=0)
    assert rec.get_start_time(segment_index=0) == pytest.approx(50.0)
    assert rec.get_start_time(segment_index=1) == pytest.approx(103.15)
