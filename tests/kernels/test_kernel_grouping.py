"""counting_group_order: stable grouping by key against NumPy's stable argsort and fancy indexing."""
import numpy as np
import pytest

from gpuspike.kernels import counting_group_order

# (seed, n, num_groups, dtype)
CASES = [
    (0, 1000, 7, "int64"),
    (1, 5000, 300, "int32"),
    (2, 3000, 65536, "uint16"),  # more groups than keys: most are empty
    (3, 200, 1, "uint8"),  # one group: the identity
    (4, 1, 5, "int64"),
    (5, 0, 3, "int64"),  # no keys
    (6, 4000, 40000, "int64"),
]


def _keys(seed, n, num_groups, dtype):
    rng = np.random.default_rng(seed)
    return rng.integers(0, num_groups, n).astype(dtype)


@pytest.mark.parametrize("case", CASES)
def test_order_is_numpys_stable_argsort(case):
    keys = _keys(*case)
    order = np.full(keys.size, -1, np.int64)
    out = counting_group_order(keys, case[2], order)
    assert out is order
    np.testing.assert_array_equal(order, np.argsort(keys, kind="stable"))


@pytest.mark.parametrize("case", CASES)
def test_rows_are_placed_with_the_order(case):
    keys = _keys(*case)
    rng = np.random.default_rng(case[0] + 100)
    rows = rng.integers(-10 ** 12, 10 ** 12, (keys.size, 3))
    out_rows = np.full_like(rows, 7)
    starts = np.full(case[2] + 1, -5, np.int64)
    order = counting_group_order(keys, case[2], np.empty(keys.size, np.int64), rows=rows, out_rows=out_rows,
                                 starts=starts)
    reference = np.argsort(keys, kind="stable")
    np.testing.assert_array_equal(order, reference)
    np.testing.assert_array_equal(out_rows, rows[reference])
    np.testing.assert_array_equal(starts, np.concatenate([[0], np.cumsum(np.bincount(keys, minlength=case[2]))]))


def test_keys_of_a_structured_vector_need_no_copy():
    # a field of a spike vector is a strided view
    v = np.zeros(500, [("sample_index", "int64"), ("unit_index", "int64"), ("segment_index", "int64")])
    v["unit_index"] = np.random.default_rng(0).integers(0, 9, v.size)
    keys = v["unit_index"]
    assert not keys.flags.c_contiguous
    order = counting_group_order(keys, 9, np.empty(v.size, np.int64))
    np.testing.assert_array_equal(order, np.argsort(keys, kind="stable"))


@pytest.mark.parametrize("keys, num_groups, error, match", [
    (np.array([0, 3, 1]), 3, ValueError, r"keys must lie in \[0, 3\), got values in \[0, 3\]"),
    (np.array([0, -1]), 2, ValueError, r"keys must lie in \[0, 2\)"),
    (np.array([0, 1]), -1, ValueError, "num_groups=-1 must not be negative"),
    (np.array([0.0, 1.0]), 2, TypeError, "keys must be an integer array"),
    (np.zeros((2, 2), np.int64), 2, ValueError, "keys must have 1 dimension"),
])
def test_bad_keys_are_refused_naming_them(keys, num_groups, error, match):
    with pytest.raises(error, match=match):
        counting_group_order(keys, num_groups, np.empty(keys.shape[0], np.int64))


def test_bad_outputs_are_refused_naming_them():
    keys = np.array([1, 0, 1])
    with pytest.raises(TypeError, match="order must have dtype int64"):
        counting_group_order(keys, 2, np.empty(3, np.int32))
    with pytest.raises(ValueError, match=r"order must have shape \(3,\)"):
        counting_group_order(keys, 2, np.empty(4, np.int64))
    rows = np.zeros((3, 2), np.int64)
    with pytest.raises(ValueError, match="rows and out_rows go together"):
        counting_group_order(keys, 2, np.empty(3, np.int64), rows=rows)
    with pytest.raises(ValueError, match="rows has 2 rows for 3 keys"):
        counting_group_order(keys, 2, np.empty(3, np.int64), rows=rows[:2], out_rows=rows[:2])
    with pytest.raises(ValueError, match=r"starts must have shape \(3,\)"):
        counting_group_order(keys, 2, np.empty(3, np.int64), starts=np.zeros(2, np.int64))
    with pytest.raises(TypeError, match="out_rows must have dtype int64"):
        counting_group_order(keys, 2, np.empty(3, np.int64), rows=rows, out_rows=np.zeros((3, 2), np.int32))
