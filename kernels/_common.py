"""Helpers shared by the kernel wrappers: argument checks, launch geometry, the dtypes launched.

Imports numpy only. Works on NumPy arrays, CuPy arrays and numba (real or simulated) device
arrays alike, reading only ``shape``, ``dtype`` and, for value checks (indices in range, windows
inside the traces), a min/max reduction. A reduction over a device array waits for the device,
so callers that validated the values on the host, before uploading them, pass
``checked=True`` to the kernel wrappers and skip it.
"""
from __future__ import annotations

from typing import Any

import numpy as np

#: Threads per block of every 1-D launch.
THREADS_PER_BLOCK = 128
#: Upper bound on blocks of a grid-stride launch (plenty to fill any current GPU).
MAX_BLOCKS = 65535

PEAK_SIGN_CODES = {"neg": 0, "pos": 1, "both": 2}

#: Sample dtypes of recordings whose traces the library hands to the CUDA kernels (the declared
#: kernel signatures cover these; other dtypes still run, compiled on first launch).
TRACE_DTYPES: tuple[str, ...] = ("int16", "uint16", "int32", "float32", "float64")


def peak_sign_code(peak_sign: str) -> int:
    """Return the integer code of ``peak_sign`` ("neg" → 0, "pos" → 1, "both" → 2).

    Raises
    ------
    ValueError
        If ``peak_sign`` is not one of "neg", "pos", "both".
    """
    try:
        return PEAK_SIGN_CODES[peak_sign]
    except (KeyError, TypeError):
        raise ValueError(
            f"peak_sign={peak_sign!r} is not allowed; use one of {sorted(PEAK_SIGN_CODES)}"
        ) from None


def to_host(x: Any) -> np.ndarray:
    """Copy any supported array (NumPy, CuPy, numba device array) to a NumPy array."""
    if isinstance(x, np.ndarray):
        return x
    if hasattr(x, "copy_to_host"):
        return x.copy_to_host()
    if hasattr(x, "get"):
        return x.get()
    return np.asarray(x)


def min_max(x: Any) -> tuple[int, int] | None:
    """Return ``(min, max)`` of a non-empty integer array, ``None`` when it is empty.

    Reduces on the device when the array supports it (CuPy), so only two scalars move.
    """
    if x.size == 0:
        return None
    if hasattr(x, "min") and hasattr(x, "max"):
        try:
            return int(x.min()), int(x.max())
        except Exception:  # numba device arrays of some versions: fall back to a host copy
            pass
    h = to_host(x)
    return int(h.min()), int(h.max())


def check_ndim(x: Any, ndim: int, name: str) -> None:
    """Raise ``ValueError`` naming ``name`` if ``x`` does not have ``ndim`` dimensions."""
    if len(x.shape) != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {tuple(x.shape)}")


def check_shape(x: Any, shape: tuple[int, ...], name: str) -> None:
    """Raise ``ValueError`` naming ``name`` if ``x.shape != shape``."""
    if tuple(x.shape) != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {tuple(x.shape)}")


def check_dtype(x: Any, dtype: Any, name: str) -> None:
    """Raise ``TypeError`` naming ``name`` if ``x.dtype != dtype``."""
    if np.dtype(x.dtype) != np.dtype(dtype):
        raise TypeError(f"{name} must have dtype {np.dtype(dtype)}, got {np.dtype(x.dtype)}")


def check_integer(x: Any, name: str) -> None:
    """Raise ``TypeError`` naming ``name`` if ``x`` is not an integer array."""
    if np.dtype(x.dtype).kind not in "iu":
        raise TypeError(f"{name} must be an integer array, got dtype {np.dtype(x.dtype)}")


def check_index_range(x: Any, low: int, high: int, name: str, checked: bool = False) -> None:
    """Raise ``ValueError`` naming ``name`` unless every value of ``x`` is in ``[low, high)``.

    With ``checked`` (the caller validated the values on the host) only the dtype is checked.
    """
    check_integer(x, name)
    if checked:
        return
    mm = min_max(x)
    if mm is not None and (mm[0] < low or mm[1] >= high):
        raise ValueError(f"{name} must lie in [{low}, {high}), got values in [{mm[0]}, {mm[1]}]")


def check_windows(peak_samples: Any, nbefore: int, nafter: int, num_samples: int, checked: bool = False) -> None:
    """Check that every window ``[p - nbefore, p + nafter)`` lies inside ``[0, num_samples)``.

    With ``checked`` (the caller validated the peaks on the host) only shapes and dtypes are checked.
    """
    if nbefore < 0 or nafter < 0 or nbefore + nafter <= 0:
        raise ValueError(
            f"nbefore={nbefore} and nafter={nafter} must be >= 0 with nbefore + nafter > 0"
        )
    check_ndim(peak_samples, 1, "peak_samples")
    check_integer(peak_samples, "peak_samples")
    if checked:
        return
    mm = min_max(peak_samples)
    if mm is not None and (mm[0] - nbefore < 0 or mm[1] + nafter > num_samples):
        raise ValueError(
            f"peak_samples: every window [p - nbefore, p + nafter) must lie in [0, {num_samples}) "
            f"(nbefore={nbefore}, nafter={nafter}), got peak samples in [{mm[0]}, {mm[1]}]"
        )


def launch_1d(n: int) -> tuple[int, int]:
    """Blocks and threads of a grid-stride 1-D launch over ``n`` items (``n > 0``)."""
    blocks = min(MAX_BLOCKS, (n + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK)
    return max(blocks, 1), THREADS_PER_BLOCK
