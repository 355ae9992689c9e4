"""Stable grouping of spikes by an integer key (a counting sort), on the host.

``counting_group_order(keys, num_groups, order)`` writes into ``order`` the positions of
``keys`` grouped by key, in their original order within a group: the result of
``np.argsort(keys, kind="stable")`` in two passes over the keys (count, then place) instead of a
radix sort and an int64 cast. Given ``rows`` (a 2-D array, one row per key) and ``out_rows``, the
rows are placed in the same pass (``out_rows = rows[order]``): a spike vector viewed as int64
columns is regrouped without a separate gather.

This is a planning step: the spike vector lives on the host and the GPU path plans on the host
too, so there is no CUDA version.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from ._common import check_dtype, check_index_range, check_ndim, check_shape

__all__ = ["counting_group_order"]


@njit(cache=True, nogil=True)
def _group_starts(keys, starts):  # pragma: no cover - compiled
    # starts[g] = first position of group g (starts has num_groups + 1 entries, zeroed)
    for i in range(keys.size):
        starts[keys[i] + 1] += 1
    for g in range(1, starts.size):
        starts[g] += starts[g - 1]


@njit(cache=True, nogil=True)
def _counting_order_njit(keys, starts, order):  # pragma: no cover - compiled
    _group_starts(keys, starts)
    next_position = starts[:-1].copy()
    for i in range(keys.size):
        key = keys[i]
        order[next_position[key]] = i
        next_position[key] += 1


@njit(cache=True, nogil=True)
def _counting_order_rows_njit(keys, starts, order, rows, out_rows):  # pragma: no cover - compiled
    _group_starts(keys, starts)
    next_position = starts[:-1].copy()
    width = rows.shape[1]
    for i in range(keys.size):
        key = keys[i]
        position = next_position[key]
        order[position] = i
        for f in range(width):
            out_rows[position, f] = rows[i, f]
        next_position[key] = position + 1


def counting_group_order(keys: np.ndarray, num_groups: int, order: np.ndarray, rows: np.ndarray | None = None,
                         out_rows: np.ndarray | None = None, starts: np.ndarray | None = None,
                         checked: bool = False) -> np.ndarray:
    """Positions of ``keys`` grouped by key, stable (``np.argsort(keys, kind="stable")``).

    Parameters
    ----------
    keys : np.ndarray
        ``(n,)`` integers in ``[0, num_groups)``.
    num_groups : int
        Number of groups.
    order : np.ndarray
        ``(n,)`` int64, written: ``keys[order]`` is sorted, ties in their original order.
    rows, out_rows : np.ndarray, optional
        ``(n, width)`` arrays of one dtype: ``out_rows`` is written with ``rows[order]``.
    starts : np.ndarray, optional
        ``(num_groups + 1,)`` int64, written: group ``g`` is ``order[starts[g]:starts[g + 1]]``.
    checked : bool
        The caller validated that every key lies in ``[0, num_groups)``: skip the min/max pass.

    Returns
    -------
    np.ndarray
        ``order``.

    Raises
    ------
    ValueError
        If a key lies outside ``[0, num_groups)``, ``num_groups`` is negative or a shape mismatches.
    TypeError
        If ``keys`` are not integers, ``order`` is not int64 or the rows' dtypes differ.
    """
    num_groups = int(num_groups)
    if num_groups < 0:
        raise ValueError(f"num_groups={num_groups} must not be negative")
    check_ndim(keys, 1, "keys")
    check_index_range(keys, 0, num_groups, "keys", checked=checked)
    check_shape(order, (keys.size,), "order")
    check_dtype(order, np.int64, "order")
    if starts is None:
        starts = np.zeros(num_groups + 1, np.int64)
    else:
        check_shape(starts, (num_groups + 1,), "starts")
        check_dtype(starts, np.int64, "starts")
        starts[:] = 0
    if (rows is None) != (out_rows is None):
        raise ValueError("rows and out_rows go together: give both or neither")
    if rows is None:
        _counting_order_njit(keys, starts, order)
        return order
    check_ndim(rows, 2, "rows")
    if rows.shape[0] != keys.size:
        raise ValueError(f"rows has {rows.shape[0]} rows for {keys.size} keys")
    check_shape(out_rows, tuple(rows.shape), "out_rows")
    check_dtype(out_rows, rows.dtype, "out_rows")
    _counting_order_rows_njit(keys, starts, order, rows, out_rows)
    return order
