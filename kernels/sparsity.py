"""Channel sparsity masks (bool ``(U, C)``): radius, best channels, SNR threshold.

- ``radius_sparsity``: channel ``c`` is kept for unit ``u`` when the Euclidean distance between
  ``channel_locations[c]`` and ``channel_locations[extremum_channels[u]]`` is ``<= radius_um``
  (distances in float64).
- ``best_channels_sparsity``: the ``num_channels`` channels of largest ``|amplitudes[u, c]|``;
  ties go to the higher channel index (SpikeInterface's ``argsort(|amplitude|)[::-1]``: a unit
  without spikes keeps the last channels). ``amplitudes`` is the output of ``channel_amplitudes``
  (must be finite).
- ``snr_sparsity``: ``|amplitudes[u, c]| / noise_levels[c] >= threshold`` in float64
  (SpikeInterface's ``method="threshold"`` / ``"snr"``).

Every element of ``out`` is written.
"""
from __future__ import annotations

import math
from functools import cache
from typing import Any

import numba
import numpy as np
from numba import njit, prange

from ._common import check_dtype, check_index_range, check_ndim, check_shape, launch_1d
from ._launch import CudaKernel, array_type, bind_device_globals, jit_kernel

__all__ = [
    "radius_sparsity_cpu",
    "radius_sparsity_cuda",
    "best_channels_sparsity_cpu",
    "best_channels_sparsity_cuda",
    "snr_sparsity_cpu",
    "snr_sparsity_cuda",
    "RADIUS_KERNEL",
    "BEST_CHANNELS_KERNEL",
    "SNR_KERNEL",
]

#: ``numba.cuda`` and the rounded float operations, bound by the first build (lazy import;
#: module globals, so that numba's simulator can swap in its fake module while a kernel runs and
#: the module-level kernels can be cached on disk).
cuda = None
fmul = fadd = dmul = dadd = None


@njit(parallel=True, cache=True, nogil=True)
def _radius_njit(locations, extremum_channels, radius_um, out):  # pragma: no cover
    num_units, num_channels = out.shape
    ndim = locations.shape[1]
    for u in prange(num_units):
        e = extremum_channels[u]
        for c in range(num_channels):
            acc = 0.0
            for d in range(ndim):
                diff = np.float64(locations[c, d]) - np.float64(locations[e, d])
                acc += diff * diff
            out[u, c] = math.sqrt(acc) <= radius_um


@njit(parallel=True, cache=True, nogil=True)
def _best_njit(amplitudes, num_channels_kept, out):  # pragma: no cover
    num_units, num_channels = amplitudes.shape
    for u in prange(num_units):
        for c in range(num_channels):
            a = abs(amplitudes[u, c])
            rank = 0
            for c2 in range(num_channels):
                b = abs(amplitudes[u, c2])
                if b > a or (b == a and c2 > c):
                    rank += 1
            out[u, c] = rank < num_channels_kept


@njit(parallel=True, cache=True, nogil=True, error_model="numpy")
def _snr_njit(amplitudes, noise_levels, threshold, out):  # pragma: no cover
    num_units, num_channels = amplitudes.shape
    for u in prange(num_units):
        for c in range(num_channels):
            out[u, c] = abs(np.float64(amplitudes[u, c])) / np.float64(noise_levels[c]) >= threshold


def _check_radius(channel_locations, extremum_channels, radius_um, out):
    check_ndim(channel_locations, 2, "channel_locations")
    check_ndim(extremum_channels, 1, "extremum_channels")
    num_channels = channel_locations.shape[0]
    check_shape(out, (extremum_channels.shape[0], num_channels), "out")
    check_dtype(out, np.bool_, "out")
    check_index_range(extremum_channels, 0, num_channels, "extremum_channels")
    if not radius_um >= 0:
        raise ValueError(f"radius_um must be >= 0, got {radius_um!r}")


def _check_best(amplitudes, num_channels, out):
    check_ndim(amplitudes, 2, "amplitudes")
    check_shape(out, tuple(amplitudes.shape), "out")
    check_dtype(out, np.bool_, "out")
    if int(num_channels) != num_channels or num_channels < 0:
        raise ValueError(f"num_channels must be an integer >= 0, got {num_channels!r}")


def _check_snr(amplitudes, noise_levels, threshold, out):
    check_ndim(amplitudes, 2, "amplitudes")
    check_shape(noise_levels, (amplitudes.shape[1],), "noise_levels")
    check_shape(out, tuple(amplitudes.shape), "out")
    check_dtype(out, np.bool_, "out")


def radius_sparsity_cpu(channel_locations: Any, extremum_channels: Any, radius_um: float, out: Any,
                        stream: Any = None) -> Any:
    """Radius sparsity mask on the CPU.

    Parameters
    ----------
    channel_locations : np.ndarray
        ``(C, 2)`` or ``(C, 3)`` channel positions in µm.
    extremum_channels : np.ndarray
        ``(U,)`` int, extremum channel index of each unit.
    radius_um : float
        Inclusive radius in µm.
    out : np.ndarray
        ``(U, C)`` bool output.
    stream : None
        Ignored (the CUDA version's stream).

    Returns
    -------
    np.ndarray
        ``out``.
    """
    _check_radius(channel_locations, extremum_channels, radius_um, out)
    _radius_njit(channel_locations, extremum_channels, float(radius_um), out)
    return out


def best_channels_sparsity_cpu(amplitudes: Any, num_channels: int, out: Any, stream: Any = None) -> Any:
    """Best channels sparsity mask on the CPU.

    Parameters
    ----------
    amplitudes : np.ndarray
        ``(U, C)`` per channel amplitudes (their absolute value is ranked).
    num_channels : int
        Channels kept per unit (all of them when ``>= C``).
    out : np.ndarray
        ``(U, C)`` bool output.
    stream : None
        Ignored (the CUDA version's stream).

    Returns
    -------
    np.ndarray
        ``out``.
    """
    _check_best(amplitudes, num_channels, out)
    _best_njit(amplitudes, int(num_channels), out)
    return out


def snr_sparsity_cpu(amplitudes: Any, noise_levels: Any, threshold: float, out: Any, stream: Any = None) -> Any:
    """SNR threshold sparsity mask on the CPU.

    Parameters
    ----------
    amplitudes : np.ndarray
        ``(U, C)`` per channel amplitudes.
    noise_levels : np.ndarray
        ``(C,)`` noise level per channel, same units as ``amplitudes``.
    threshold : float
        Minimum ``|amplitude| / noise_level`` kept.
    out : np.ndarray
        ``(U, C)`` bool output.
    stream : None
        Ignored (the CUDA version's stream).

    Returns
    -------
    np.ndarray
        ``out``.
    """
    _check_snr(amplitudes, noise_levels, threshold, out)
    _snr_njit(amplitudes, noise_levels, float(threshold), out)
    return out


def _radius_kernel(locations, extremum_channels, radius_um, out):  # pragma: no cover - CUDA kernel
    num_units, num_channels = out.shape
    ndim = locations.shape[1]
    for j in range(cuda.grid(1), num_units * num_channels, cuda.gridsize(1)):
        u = j // num_channels
        c = j - u * num_channels
        e = extremum_channels[u]
        acc = 0.0
        for d in range(ndim):
            diff = float(locations[c, d]) - float(locations[e, d])
            acc = dadd(acc, dmul(diff, diff))
        out[u, c] = math.sqrt(acc) <= radius_um


def _best_kernel(amplitudes, num_channels_kept, out):  # pragma: no cover - CUDA kernel
    num_units, num_channels = amplitudes.shape
    for j in range(cuda.grid(1), num_units * num_channels, cuda.gridsize(1)):
        u = j // num_channels
        c = j - u * num_channels
        a = abs(amplitudes[u, c])
        rank = 0
        for c2 in range(num_channels):
            b = abs(amplitudes[u, c2])
            if b > a or (b == a and c2 > c):
                rank += 1
        out[u, c] = rank < num_channels_kept


def _snr_kernel(amplitudes, noise_levels, threshold, out):  # pragma: no cover - CUDA kernel
    num_units, num_channels = amplitudes.shape
    for j in range(cuda.grid(1), num_units * num_channels, cuda.gridsize(1)):
        u = j // num_channels
        c = j - u * num_channels
        out[u, c] = abs(numba.float64(amplitudes[u, c])) / numba.float64(noise_levels[c]) >= threshold


@cache
def _kernels():
    bind_device_globals(globals())
    return jit_kernel(_radius_kernel), jit_kernel(_best_kernel), jit_kernel(_snr_kernel)


_B2 = array_type("bool", 2)
RADIUS_KERNEL = CudaKernel("sparsity.radius_sparsity", lambda: _kernels()[0], tuple(
    (array_type(t, 2), array_type("int64", 1), "float64", _B2) for t in ("float64", "float32")))
BEST_CHANNELS_KERNEL = CudaKernel("sparsity.best_channels_sparsity", lambda: _kernels()[1], tuple(
    (array_type(t, 2), "int64", _B2) for t in ("float64", "float32")))
SNR_KERNEL = CudaKernel("sparsity.snr_sparsity", lambda: _kernels()[2], tuple(
    (array_type(t, 2), array_type(n, 1), "float64", _B2) for t in ("float64", "float32")
    for n in ("float64", "float32")))


def radius_sparsity_cuda(channel_locations: Any, extremum_channels: Any, radius_um: float, out: Any,
                         stream: Any = None) -> Any:
    """Radius sparsity mask on the GPU; see :func:`radius_sparsity_cpu`.

    Parameters
    ----------
    channel_locations, extremum_channels, radius_um, out
        As in :func:`radius_sparsity_cpu`, as device arrays.
    stream : numba stream, optional
        Stream of the launch (default stream when None).

    Returns
    -------
    device array
        ``out``.
    """
    _check_radius(channel_locations, extremum_channels, radius_um, out)
    if out.size:
        blocks, threads = launch_1d(out.size)
        RADIUS_KERNEL.launch(blocks, threads, stream, channel_locations, extremum_channels, float(radius_um), out)
    return out


def best_channels_sparsity_cuda(amplitudes: Any, num_channels: int, out: Any, stream: Any = None) -> Any:
    """Best channels sparsity mask on the GPU; see :func:`best_channels_sparsity_cpu`.

    Parameters
    ----------
    amplitudes, num_channels, out
        As in :func:`best_channels_sparsity_cpu`, as device arrays.
    stream : numba stream, optional
        Stream of the launch (default stream when None).

    Returns
    -------
    device array
        ``out``.
    """
    _check_best(amplitudes, num_channels, out)
    if out.size:
        blocks, threads = launch_1d(out.size)
        BEST_CHANNELS_KERNEL.launch(blocks, threads, stream, amplitudes, int(num_channels), out)
    return out


def snr_sparsity_cuda(amplitudes: Any, noise_levels: Any, threshold: float, out: Any, stream: Any = None) -> Any:
    """SNR threshold sparsity mask on the GPU; see :func:`snr_sparsity_cpu`.

    Parameters
    ----------
    amplitudes, noise_levels, threshold, out
        As in :func:`snr_sparsity_cpu`, as device arrays.
    stream : numba stream, optional
        Stream of the launch (default stream when None).

    Returns
    -------
    device array
        ``out``.
    """
    _check_snr(amplitudes, noise_levels, threshold, out)
    if out.size:
        blocks, threads = launch_1d(out.size)
        SNR_KERNEL.launch(blocks, threads, stream, amplitudes, noise_levels, float(threshold), out)
    return out
