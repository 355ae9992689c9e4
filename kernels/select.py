"""Column selection: ``out[i, j] = src[i, columns[j]]`` (a channel subset of a block of frames).

A file may hold more columns than the recording has channels (SpikeGLX's sync channel, a
channel slice of a binary recording): full frames are read, then this keeps the recording's
columns. The CUDA kernel is a grid-stride loop over ``rows * len(columns)`` elements (channels
fastest, coalesced), so any number of rows launches within the grid limits.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, prange

from ._common import TRACE_DTYPES, check_index_range, check_ndim, launch_1d
from ._launch import CudaKernel, array_type, bind_device_globals, jit_kernel

__all__ = ["select_columns_cpu", "select_columns_cuda", "SELECT_COLUMNS_KERNEL"]

#: ``numba.cuda`` and the rounded float operations, bound by the first build (lazy import;
#: module globals, so that numba's simulator can swap in its fake module while a kernel runs and
#: the module-level kernels can be cached on disk).
cuda = None
fmul = fadd = dmul = dadd = None


@njit(parallel=True, cache=True, nogil=True)
def _select_njit(src, columns, out):  # pragma: no cover - compiled
    for i in prange(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = src[i, columns[j]]


def _check(src, columns, out, checked):
    check_ndim(src, 2, "src")
    check_ndim(out, 2, "out")
    check_ndim(columns, 1, "columns")
    if out.shape[0] > src.shape[0] or out.shape[1] != columns.shape[0]:
        raise ValueError(f"out must have shape (<= {src.shape[0]}, {columns.shape[0]}), got {tuple(out.shape)}")
    if np.dtype(out.dtype) != np.dtype(src.dtype):
        raise TypeError(f"out must have the dtype of src ({src.dtype}), got {out.dtype}")
    check_index_range(columns, 0, src.shape[1], "columns", checked)


def select_columns_cpu(src: Any, columns: Any, out: Any, stream: Any = None, checked: bool = False) -> Any:
    """Copy columns ``columns`` of the first ``out.shape[0]`` rows of ``src`` into ``out``, on the CPU.

    Parameters
    ----------
    src : np.ndarray
        ``(rows, num_columns)`` block of frames.
    columns : np.ndarray
        ``(K,)`` int64 column indices in ``[0, num_columns)``.
    out : np.ndarray
        ``(n <= rows, K)`` output, dtype of ``src``.
    stream : None
        Ignored (the CUDA version's stream).
    checked : bool
        The caller validated ``columns`` on the host: skip the value check.

    Returns
    -------
    np.ndarray
        ``out``.
    """
    _check(src, columns, out, checked)
    _select_njit(src, columns, out)
    return out


def _select_kernel(src, columns, out):  # pragma: no cover - CUDA kernel
    width = out.shape[1]
    for j in range(cuda.grid(1), out.shape[0] * width, cuda.gridsize(1)):
        i = j // width
        k = j - i * width
        out[i, k] = src[i, columns[k]]


def _build_select():
    bind_device_globals(globals())
    return jit_kernel(_select_kernel)


SELECT_COLUMNS_KERNEL = CudaKernel("select.select_columns", _build_select, tuple(
    (array_type(t, 2), array_type("int64", 1), array_type(t, 2)) for t in TRACE_DTYPES))


def select_columns_cuda(src: Any, columns: Any, out: Any, stream: Any = None, checked: bool = False) -> Any:
    """Column selection on the GPU; same contract as :func:`select_columns_cpu`.

    Parameters
    ----------
    src, columns, out, checked
        As in :func:`select_columns_cpu`, as device arrays.
    stream : numba stream, optional
        Stream of the launch (default stream when None).

    Returns
    -------
    device array
        ``out``.
    """
    _check(src, columns, out, checked)
    if out.size:
        blocks, threads = launch_1d(out.size)
        SELECT_COLUMNS_KERNEL.launch(blocks, threads, stream, src, columns, out)
    return out
