"""Host buffers placed for fast positional reads.

A ``pread`` copies from the page cache, whose pages start at file offsets that are multiples of
4096. When the destination address lies a few bytes past the source modulo 4096, the copy runs
into x86's 4K aliasing (loads wait on stores to the same low address bits): measured 1.5–1.9 GB/s
instead of 4–6 GB/s on the development machine. A large NumPy array from ``malloc`` starts 16
bytes past a page boundary, exactly that case for page-aligned reads. These helpers place a
buffer at the address phase of the bytes read into it.
"""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["PAGE", "phased_empty", "phased_view"]

#: The phase period: a page.
PAGE = 4096


def phased_empty(shape: Any, dtype: Any, phase: int = 0) -> np.ndarray:
    """An uninitialised C-contiguous array whose first byte lies at ``phase`` modulo :data:`PAGE`.

    Parameters
    ----------
    shape : int or tuple of int
    dtype : dtype-like
    phase : int
        Wanted ``address % PAGE`` of the first byte (e.g. the file offset of the first byte read
        into it); rounded to the dtype's itemsize.

    Returns
    -------
    np.ndarray
    """
    return phased_view(np.empty(_nbytes(shape, dtype) + PAGE + 64, dtype=np.uint8), shape, dtype, phase)


def _nbytes(shape: Any, dtype: Any) -> int:
    shape = (shape,) if np.isscalar(shape) else tuple(shape)
    return int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize


def phased_view(raw: np.ndarray, shape: Any, dtype: Any, phase: int) -> np.ndarray:
    """A view of the bytes ``raw`` (with :data:`PAGE` + 64 bytes to spare) as an array of ``shape`` and
    ``dtype`` whose first byte lies at ``phase`` modulo :data:`PAGE`.

    Parameters
    ----------
    raw : np.ndarray
        uint8 buffer, at least ``prod(shape) * itemsize + PAGE + 64`` bytes.
    shape : tuple of int
    dtype : dtype-like
    phase : int
        Wanted ``address % PAGE`` of the view's first byte.

    Returns
    -------
    np.ndarray
    """
    dtype = np.dtype(dtype)
    shape = (shape,) if np.isscalar(shape) else tuple(shape)
    nbytes = _nbytes(shape, dtype)
    if raw.dtype != np.uint8 or raw.ndim != 1 or raw.size < nbytes + PAGE + 64:
        raise ValueError(f"raw must be a 1-d uint8 buffer of at least {nbytes + PAGE + 64} bytes")
    base = raw.ctypes.data
    shift = (int(phase) - base) % PAGE
    if (base + shift) % dtype.itemsize:  # an odd phase (odd header size): 64 bytes further on instead,
        shift = (shift + 64) % PAGE       # on an item boundary, clear of 4K aliasing
        shift += (-(base + shift)) % dtype.itemsize
    return raw[shift:shift + nbytes].view(dtype).reshape(shape)
