"""Spike-vector tools of ``gpuspike.core.sorting_tools`` against references written here with
plain NumPy (``lexsort``, per-period masks, loops over ids)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gpuspike as gs
import gpuspike.core.sorting_tools as sorting_tools
from gpuspike.core.sorting_tools import (cast_periods_to_unit_period_dtype, remap_unit_indices_in_vector,
                                         reorder_spike_vector_by_unit_and_segment, select_sorting_periods_mask,
                                         stable_group_order, unit_period_dtype, vector_to_list_of_spiketrain_numpy)


def spike_vector(samples, units, segments):
    """A spike vector sorted by (segment, sample), as ``to_spike_vector`` gives."""
    v = np.zeros(len(samples), dtype=gs.minimum_spike_dtype)
    v["sample_index"], v["unit_index"], v["segment_index"] = samples, units, segments
    return v[np.lexsort((v["sample_index"], v["segment_index"]))]


#: the grouping's two paths: the compiled counting sort from the first key, and NumPy's sort
GROUPING_PATHS = [0, sorting_tools.COUNTING_SORT_MIN_KEYS]


class grouping_path:
    """Group with the counting sort from ``min_keys`` keys on (hypothesis runs its examples many
    times per test call, so this patches the module by hand rather than through a fixture)."""

    def __init__(self, min_keys):
        self.min_keys = min_keys

    def __enter__(self):
        self.saved, sorting_tools.COUNTING_SORT_MIN_KEYS = sorting_tools.COUNTING_SORT_MIN_KEYS, self.min_keys

    def __exit__(self, *exc):
        sorting_tools.COUNTING_SORT_MIN_KEYS = self.saved


vectors = st.integers(1, 6).flatmap(lambda num_units: st.integers(1, 3).flatmap(lambda num_segments: st.tuples(
    st.just(num_units), st.just(num_segments),
    st.lists(st.tuples(st.integers(0, 500), st.integers(0, num_units - 1), st.integers(0, num_segments - 1)),
             max_size=80))))


@pytest.mark.parametrize("min_keys", GROUPING_PATHS)
@settings(max_examples=60, deadline=None)
@given(vectors, st.booleans())
def test_reorder_groups_like_a_stable_lexsort(min_keys, case, unit_major):
    num_units, num_segments, rows = case
    v = spike_vector(*(np.array(c, dtype="int64") for c in zip(*rows))) if rows else spike_vector([], [], [])
    with grouping_path(min_keys):
        ordered, order, counts = reorder_spike_vector_by_unit_and_segment(v, num_units, num_segments, unit_major)
    keys = (v["segment_index"], v["unit_index"]) if unit_major else (v["unit_index"], v["segment_index"])
    reference = np.lexsort((np.arange(v.size),) + keys)  # the last key sorts first; ties keep the vector's order
    np.testing.assert_array_equal(order, reference)
    np.testing.assert_array_equal(ordered, v[reference])
    expected = np.zeros((num_units, num_segments) if unit_major else (num_segments, num_units), "int64")
    for row in v:
        at = (row["unit_index"], row["segment_index"]) if unit_major else (row["segment_index"], row["unit_index"])
        expected[at] += 1
    np.testing.assert_array_equal(counts, expected.ravel())
    assert order.dtype == np.int64 and counts.dtype == np.int64


@pytest.mark.parametrize("min_keys", GROUPING_PATHS)
def test_reorder_with_more_groups_than_16_bit_keys_and_extra_fields(min_keys):
    rng = np.random.default_rng(0)
    n, num_units, num_segments = 5000, 40000, 2
    dtype = np.dtype(gs.minimum_spike_dtype + [("channel_index", "int64")])
    v = np.zeros(n, dtype)
    v["sample_index"] = np.sort(rng.integers(0, 10 ** 6, n))
    v["unit_index"] = rng.integers(0, num_units, n)
    v["segment_index"] = np.repeat([0, 1], n // 2)
    v["channel_index"] = rng.integers(0, 384, n)
    with grouping_path(min_keys):
        ordered, order, counts = reorder_spike_vector_by_unit_and_segment(v, num_units, num_segments)
    np.testing.assert_array_equal(order, np.lexsort((np.arange(n), v["segment_index"], v["unit_index"])))
    np.testing.assert_array_equal(ordered["channel_index"], v["channel_index"][order])
    assert counts.size == num_units * num_segments and counts.sum() == n


@pytest.mark.parametrize("num_units, num_segments, match", [(2, 1, "unit_index spans \\[0, 2\\], outside \\[0, 2\\)"),
                                                            (3, 0, "segment_index spans"), (-1, 1, "negative")])
def test_reorder_refuses_indices_outside_the_counts(num_units, num_segments, match):
    v = spike_vector([1, 2, 3], [0, 2, 1], [0, 0, 0])
    with pytest.raises(ValueError, match=match):
        reorder_spike_vector_by_unit_and_segment(v, num_units, num_segments)


def test_remap_unit_indices_keeps_and_renumbers_as_a_loop_does():
    old_ids = np.array(["a", "b", "c", "d"])
    v = spike_vector(np.arange(12), np.arange(12) % 4, np.zeros(12, "int64"))
    new_ids = np.array(["d", "x", "b", "a"])
    got, mask = remap_unit_indices_in_vector(v, old_ids, new_ids, keep_old_unit_ids=["a", "b", "c"])
    expected_rows, expected_mask = [], []
    for row in v:
        unit = old_ids[row["unit_index"]]
        keep = unit in ("a", "b", "c") and unit in new_ids
        expected_mask.append(keep)
        if keep:
            row = row.copy()
            row["unit_index"] = list(new_ids).index(unit)
            expected_rows.append(row)
    np.testing.assert_array_equal(mask, expected_mask)
    np.testing.assert_array_equal(got, np.array(expected_rows, dtype=v.dtype))
    assert v["unit_index"].tolist() == (np.arange(12) % 4).tolist()  # the input is left as it was
    with pytest.raises(ValueError, match="all_new_unit_ids has repeated ids"):
        remap_unit_indices_in_vector(v, old_ids, ["a", "a"])


def test_vector_to_spiketrains_and_period_casting():
    samples, units = np.array([5, 1, 9, 3, 7]), np.array([1, 0, 1, 2, 1])
    trains = vector_to_list_of_spiketrain_numpy(samples, units, 4)
    assert [t.tolist() for t in trains] == [[1], [5, 9, 7], [3], []]
    from gpuspike.core.sorting_tools import get_numba_vector_to_list_of_spiketrain

    trains = get_numba_vector_to_list_of_spiketrain()(samples.astype("int32"), units, 4)
    assert [t.tolist() for t in trains] == [[1], [5, 9, 7], [3], []] and all(t.dtype == np.int64 for t in trains)
    with pytest.warns(UserWarning, match="not of unit_period_dtype"):
        cast = cast_periods_to_unit_period_dtype(np.array([[0, 10, 20, 3]]))
    assert cast.dtype == np.dtype(unit_period_dtype) and cast[0].tolist() == (0, 10, 20, 3)
    with pytest.raises(ValueError, match="shape \\(3,\\)"):
        cast_periods_to_unit_period_dtype(np.array([0, 10, 20]))


@settings(max_examples=60, deadline=None)
@given(vectors, st.lists(st.tuples(st.integers(-1, 3), st.integers(-50, 550), st.integers(-50, 550),
                                   st.integers(-1, 6)), max_size=8))
def test_period_mask_equals_one_mask_per_period(case, period_rows):
    num_units, num_segments, rows = case
    v = spike_vector(*(np.array(c, dtype="int64") for c in zip(*rows))) if rows else spike_vector([], [], [])
    sorting = gs.NumpySorting(v, 1000.0, np.arange(num_units), num_segments=num_segments) if v.size else \
        gs.NumpySorting.from_unit_dict([{u: np.zeros(0, "int64") for u in range(num_units)}] * num_segments, 1000.0)
    periods = np.array(period_rows, dtype=unit_period_dtype) if period_rows else np.zeros(0, unit_period_dtype)
    spikes = sorting.to_spike_vector()
    expected = np.zeros(spikes.size, bool)
    for p in periods:
        expected |= ((spikes["segment_index"] == p["segment_index"]) & (spikes["unit_index"] == p["unit_index"])
                     & (spikes["sample_index"] >= p["start_sample_index"])
                     & (spikes["sample_index"] < p["end_sample_index"]))
    np.testing.assert_array_equal(select_sorting_periods_mask(sorting, periods), expected)


@pytest.mark.parametrize("min_keys", GROUPING_PATHS)
@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(-3, 70000), max_size=60), st.sampled_from([1, 5, 256, 257, 65536, 70001]),
       st.sampled_from(["int64", "int32", "uint32"]))
def test_stable_group_order_is_numpys_stable_argsort(min_keys, values, num_groups, dtype):
    """Neither narrowing the key nor counting changes the order, indices out of range included."""
    indices = np.array(values, dtype="int64")
    if dtype == "uint32":
        indices = np.abs(indices)
    indices = indices.astype(dtype)
    with grouping_path(min_keys):
        order = stable_group_order(indices, num_groups)
    np.testing.assert_array_equal(order, np.argsort(indices, kind="stable"))
    assert order.dtype == np.int64


def test_a_spike_vector_of_many_spikes_groups_by_counting_as_by_lexsort():
    # above the threshold, with the library's default: the compiled counting sort, rows placed in one pass
    rng = np.random.default_rng(3)
    n = sorting_tools.COUNTING_SORT_MIN_KEYS + 17
    v = spike_vector(rng.integers(0, 10 ** 8, n), rng.integers(0, 300, n), rng.integers(0, 2, n))
    ordered, order, counts = reorder_spike_vector_by_unit_and_segment(v, 300, 2)
    reference = np.lexsort((np.arange(n), v["segment_index"], v["unit_index"]))
    np.testing.assert_array_equal(order, reference)
    np.testing.assert_array_equal(ordered, v[reference])
    np.testing.assert_array_equal(stable_group_order(v["unit_index"], 300),
                                  np.argsort(v["unit_index"], kind="stable"))
