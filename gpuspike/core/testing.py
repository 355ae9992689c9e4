"""Assertions that two extractors hold the same data (SpikeInterface's ``core.testing``).

Each raises ``AssertionError`` naming what differs, so that they read as test assertions.
"""
from __future__ import annotations

import numpy as np

__all__ = ["check_sorted_arrays_equal", "check_recordings_equal", "check_sortings_equal",
           "check_extractor_annotations_equal", "check_extractor_properties_equal"]


def check_sorted_arrays_equal(a1, a2) -> None:
    """Assert that two arrays hold the same values, whatever their order.

    Parameters
    ----------
    a1, a2 : array-like

    Returns
    -------
    None

    Raises
    ------
    AssertionError
        What differs.
    """
    np.testing.assert_array_equal(np.sort(np.asarray(a1)), np.sort(np.asarray(a2)))


def check_recordings_equal(RX1, RX2, return_in_uV: bool = True, force_dtype=None, check_annotations: bool = False,
                           check_properties: bool = False, *, return_scaled: bool | None = None) -> None:
    """Assert that two recordings have the same segments, channels, frames, sampling frequency and
    traces (all channels, then the first and last channel alone; ``np.allclose``).

    Parameters
    ----------
    RX1, RX2 : BaseRecording
    return_in_uV : bool
        Compare the traces in µV (else raw).
    force_dtype : dtype, optional
        Cast both traces to this dtype before comparing.
    check_annotations, check_properties : bool
        Also compare annotations / properties.
    return_scaled : bool, optional
        The older name of ``return_in_uV``.

    Returns
    -------
    None

    Raises
    ------
    AssertionError
        What differs.
    """
    scaled = return_in_uV if return_scaled is None else return_scaled
    segments = RX1.get_num_segments()
    assert segments == RX2.get_num_segments(), f"num_segments differ: {segments} != {RX2.get_num_segments()}"
    assert np.array_equal(RX1.get_channel_ids(), RX2.get_channel_ids()), "channel_ids differ"
    assert RX1.get_num_channels() == RX2.get_num_channels(), "num_channels differ"
    assert np.isclose(RX1.get_sampling_frequency(), RX2.get_sampling_frequency()), "sampling_frequency differs"

    def traces(rec, segment_index, **kwargs):
        values = rec.get_traces(segment_index=segment_index, return_scaled=scaled, **kwargs)
        return values if force_dtype is None else values.astype(force_dtype)

    ids = RX1.get_channel_ids()
    ends = [ids[0], ids[-1]] if ids.size > 1 else list(ids[:1])
    for seg in range(segments):
        n = RX1.get_num_frames(seg)
        assert n == RX2.get_num_frames(seg), f"segment {seg}: num_frames differ ({n} != {RX2.get_num_frames(seg)})"
        assert np.allclose(traces(RX1, seg), traces(RX2, seg)), f"segment {seg}: traces differ"
        if ends:
            window = dict(channel_ids=ends, start_frame=0, end_frame=n)
            assert np.allclose(traces(RX1, seg, **window), traces(RX2, seg, **window)), \
                f"segment {seg}: traces of channels {ends} differ"
    if check_annotations:
        check_extractor_annotations_equal(RX1, RX2)
    if check_properties:
        check_extractor_properties_equal(RX1, RX2)


def _spikes_between(spikes: np.ndarray, start_frame, end_frame) -> np.ndarray:
    """Spikes of a (sorted) spike vector with ``start_frame <= sample_index <= end_frame``."""
    samples = spikes["sample_index"]
    if samples.size == 0:
        return spikes[:0]
    start = samples[0] if start_frame is None else start_frame
    end = samples[-1] if end_frame is None else end_frame
    first, last = np.searchsorted(samples, [start, end + 1])
    return spikes[first:last]


def check_sortings_equal(SX1, SX2, check_annotations: bool = False, check_properties: bool = False,
                         check_exact_lexsort: bool = True) -> None:
    """Assert that two sortings have the same segments and spikes (the same spike vector, and the
    same spikes in a few frame windows).

    Parameters
    ----------
    SX1, SX2 : BaseSorting
    check_annotations, check_properties : bool
        Also compare annotations / properties.
    check_exact_lexsort : bool
        Compare the spike vectors as they are (else both re-sorted by segment, sample, unit).

    Returns
    -------
    None

    Raises
    ------
    AssertionError
        What differs.
    """
    assert SX1.get_num_segments() == SX2.get_num_segments(), "num_segments differ"
    s1, s2 = SX1.to_spike_vector(), SX2.to_spike_vector()
    if not check_exact_lexsort:
        s1 = s1[np.lexsort((s1["unit_index"], s1["sample_index"], s1["segment_index"]))]
        s2 = s2[np.lexsort((s2["unit_index"], s2["sample_index"], s2["segment_index"]))]
    np.testing.assert_array_equal(s1, s2)
    last = int(s1["sample_index"].max()) if s1.size else 0
    for start, end in [(None, None), (30, None), (None, last - 30), (30, last - 30)]:
        assert np.array_equal(_spikes_between(s1, start, end), _spikes_between(s2, start, end)), \
            f"spikes in frames [{start}, {end}] differ"
    if check_annotations:
        check_extractor_annotations_equal(SX1, SX2)
    if check_properties:
        check_extractor_properties_equal(SX1, SX2)


def check_extractor_annotations_equal(EX1, EX2) -> None:
    """Assert that two extractors have the same annotation keys and values.

    Parameters
    ----------
    EX1, EX2 : BaseExtractor

    Returns
    -------
    None

    Raises
    ------
    AssertionError
        What differs.
    """
    keys = sorted(EX1.get_annotation_keys())
    assert keys == sorted(EX2.get_annotation_keys()), \
        f"annotation keys differ: {keys} != {sorted(EX2.get_annotation_keys())}"
    for key in keys:
        assert EX1.get_annotation(key) == EX2.get_annotation(key), f"annotation {key!r} differs"


def check_extractor_properties_equal(EX1, EX2) -> None:
    """Assert that two extractors have the same property keys and values.

    Parameters
    ----------
    EX1, EX2 : BaseExtractor

    Returns
    -------
    None

    Raises
    ------
    AssertionError
        What differs.
    """
    keys = sorted(EX1.get_property_keys())
    assert keys == sorted(EX2.get_property_keys()), \
        f"property keys differ: {keys} != {sorted(EX2.get_property_keys())}"
    for key in keys:
        np.testing.assert_array_equal(EX1.get_property(key), EX2.get_property(key), err_msg=f"property {key!r}")
