"""Template amplitudes per channel and the extremum (peak) channel of each unit.

Rules (SpikeInterface 0.98–0.100, ``mode="extremum"``), ``templates`` is ``(U, nsamples, C)``:

- ``channel_amplitudes``: per unit and channel, the min over time (``"neg"``, signed), the max
  (``"pos"``) or the max of the absolute value (``"both"``).
- ``template_extremum``: the extremum channel is the argmin of those amplitudes (``"neg"``),
  argmax (``"pos"``) or argmax (``"both"``), first index on ties (like ``np.argmin``); the
  amplitude is the value on that channel; the shift is the time index of the peak on that
  channel (argmin / argmax / argmax of abs, first on ties) minus ``nbefore``.

SpikeInterface >= 0.101 reports ``abs`` amplitudes and picks ``argmax(abs(min))`` for "neg"; the
two agree whenever the template has a negative minimum somewhere, the normal case. Templates
must be finite (NaN ordering is unspecified).
"""
from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
from numba import njit, prange

from ._common import check_integer, check_ndim, check_shape, launch_1d, peak_sign_code
from ._launch import CudaKernel, array_type, bind_device_globals, jit_kernel

__all__ = [
    "channel_amplitudes_cpu",
    "channel_amplitudes_cuda",
    "template_extremum_cpu",
    "template_extremum_cuda",
    "AMPLITUDES_KERNEL",
    "EXTREMUM_KERNEL",
]

#: ``numba.cuda`` and the device function the kernels call, bound by the first build (lazy import;
#: module globals, so that numba's simulator can swap in its fake module while a kernel runs and
#: the module-level kernels can be cached on disk).
cuda = None
fmul = fadd = dmul = dadd = None
channel_amp = None


@njit(cache=True, nogil=True)
def _unit_amplitudes(templates, u, code, amps):  # pragma: no cover
    # time outer, channels inner: contiguous reads
    num_channels = templates.shape[2]
    for c in range(num_channels):
        v = templates[u, 0, c]
        amps[c] = abs(v) if code == 2 else v
    for i in range(1, templates.shape[1]):
        for c in range(num_channels):
            v = templates[u, i, c]
            if code == 0:
                if v < amps[c]:
                    amps[c] = v
            elif code == 1:
                if v > amps[c]:
                    amps[c] = v
            else:
                v = abs(v)
                if v > amps[c]:
                    amps[c] = v


@njit(parallel=True, cache=True, nogil=True)
def _channel_amplitudes_njit(templates, code, out):  # pragma: no cover
    for u in prange(templates.shape[0]):
        _unit_amplitudes(templates, u, code, out[u])


@njit(parallel=True, cache=True, nogil=True)
def _extremum_njit(templates, code, nbefore, out_channels, out_amplitudes, out_shifts):  # pragma: no cover
    num_units, nsamples, num_channels = templates.shape
    for u in prange(num_units):
        amps = np.empty(num_channels, dtype=templates.dtype)
        _unit_amplitudes(templates, u, code, amps)
        best_c = 0
        best = amps[0]
        for c in range(1, num_channels):
            a = amps[c]
            if (code == 0 and a < best) or (code != 0 and a > best):
                best = a
                best_c = c
        pos = 0
        pv = templates[u, 0, best_c]
        if code == 2:
            pv = abs(pv)
        for i in range(1, nsamples):
            v = templates[u, i, best_c]
            if code == 2:
                v = abs(v)
            if (code == 0 and v < pv) or (code != 0 and v > pv):
                pv = v
                pos = i
        out_channels[u] = best_c
        out_amplitudes[u] = best
        out_shifts[u] = pos - nbefore


def _check_amplitudes(templates, out):
    check_ndim(templates, 3, "templates")
    if templates.shape[1] == 0 or templates.shape[2] == 0:
        raise ValueError(f"templates must have samples and channels, got shape {tuple(templates.shape)}")
    check_shape(out, (templates.shape[0], templates.shape[2]), "out")


def _check_extremum(templates, out_channels, out_amplitudes, out_shifts):
    check_ndim(templates, 3, "templates")
    if templates.shape[1] == 0 or templates.shape[2] == 0:
        raise ValueError(f"templates must have samples and channels, got shape {tuple(templates.shape)}")
    num_units = templates.shape[0]
    check_shape(out_channels, (num_units,), "out_channels")
    check_shape(out_amplitudes, (num_units,), "out_amplitudes")
    check_shape(out_shifts, (num_units,), "out_shifts")
    check_integer(out_channels, "out_channels")
    check_integer(out_shifts, "out_shifts")


def channel_amplitudes_cpu(templates: Any, peak_sign: str, out: Any, stream: Any = None) -> Any:
    """Amplitude of every template on every channel, on the CPU.

    Parameters
    ----------
    templates : np.ndarray
        ``(U, nsamples, C)`` float templates.
    peak_sign : {"neg", "pos", "both"}
        min over time, max over time, or max of the absolute value.
    out : np.ndarray
        ``(U, C)`` float output.
    stream : None
        Ignored (the CUDA version's stream).

    Returns
    -------
    np.ndarray
        ``out``.

    Raises
    ------
    ValueError
        Unknown ``peak_sign`` or mismatched shapes.
    """
    code = peak_sign_code(peak_sign)
    _check_amplitudes(templates, out)
    _channel_amplitudes_njit(templates, code, out)
    return out


def template_extremum_cpu(
    templates: Any, peak_sign: str, nbefore: int, out_channels: Any, out_amplitudes: Any, out_shifts: Any,
    stream: Any = None,
) -> tuple[Any, Any, Any]:
    """Extremum channel, its amplitude and the peak shift of every template, on the CPU.

    Parameters
    ----------
    templates : np.ndarray
        ``(U, nsamples, C)`` float templates.
    peak_sign : {"neg", "pos", "both"}
        See the module docstring.
    nbefore : int
        Index of the spike sample within the template; shift = peak index - ``nbefore``.
    out_channels : np.ndarray
        ``(U,)`` int, extremum channel index per unit.
    out_amplitudes : np.ndarray
        ``(U,)`` float, amplitude on that channel (signed min for "neg", abs max for "both").
    out_shifts : np.ndarray
        ``(U,)`` int, peak sample shift.
    stream : None
        Ignored (the CUDA version's stream).

    Returns
    -------
    tuple
        ``(out_channels, out_amplitudes, out_shifts)``.
    """
    code = peak_sign_code(peak_sign)
    _check_extremum(templates, out_channels, out_amplitudes, out_shifts)
    _extremum_njit(templates, code, nbefore, out_channels, out_amplitudes, out_shifts)
    return out_channels, out_amplitudes, out_shifts


def _channel_amp_device(templates, u, c, code):  # pragma: no cover - CUDA device function
    best = templates[u, 0, c]
    if code == 2:
        best = abs(best)
    for i in range(1, templates.shape[1]):
        v = templates[u, i, c]
        if code == 2:
            v = abs(v)
        if (code == 0 and v < best) or (code != 0 and v > best):
            best = v
    return best


def _amplitudes_kernel(templates, code, out):  # pragma: no cover - CUDA kernel
    num_units, _, num_channels = templates.shape
    for j in range(cuda.grid(1), num_units * num_channels, cuda.gridsize(1)):
        u = j // num_channels
        c = j - u * num_channels
        out[u, c] = channel_amp(templates, u, c, code)


def _extremum_kernel(templates, code, nbefore, out_channels, out_amplitudes, out_shifts):  # pragma: no cover
    num_units, nsamples, num_channels = templates.shape
    for u in range(cuda.grid(1), num_units, cuda.gridsize(1)):
        best_c = 0
        best = channel_amp(templates, u, 0, code)
        for c in range(1, num_channels):
            a = channel_amp(templates, u, c, code)
            if (code == 0 and a < best) or (code != 0 and a > best):
                best = a
                best_c = c
        pos = 0
        pv = templates[u, 0, best_c]
        if code == 2:
            pv = abs(pv)
        for i in range(1, nsamples):
            v = templates[u, i, best_c]
            if code == 2:
                v = abs(v)
            if (code == 0 and v < pv) or (code != 0 and v > pv):
                pv = v
                pos = i
        out_channels[u] = best_c
        out_amplitudes[u] = best
        out_shifts[u] = pos - nbefore


@cache
def _kernels():
    bind_device_globals(globals())
    global channel_amp
    channel_amp = jit_kernel(_channel_amp_device, device=True)
    return jit_kernel(_amplitudes_kernel), jit_kernel(_extremum_kernel)


_TEMPLATE_TYPES = ("float32", "float64")
AMPLITUDES_KERNEL = CudaKernel("extremum.channel_amplitudes", lambda: _kernels()[0], tuple(
    (array_type(t, 3), "int64", array_type(o, 2)) for t in _TEMPLATE_TYPES for o in _TEMPLATE_TYPES))
EXTREMUM_KERNEL = CudaKernel("extremum.template_extremum", lambda: _kernels()[1], tuple(
    (array_type(t, 3), "int64", "int64", array_type("int64", 1), array_type(o, 1), array_type("int64", 1))
    for t in _TEMPLATE_TYPES for o in _TEMPLATE_TYPES))


def channel_amplitudes_cuda(templates: Any, peak_sign: str, out: Any, stream: Any = None) -> Any:
    """Amplitude of every template on every channel, on the GPU (see :func:`channel_amplitudes_cpu`).

    Parameters
    ----------
    templates, peak_sign, out
        As in :func:`channel_amplitudes_cpu`, as device arrays.
    stream : numba stream, optional
        Stream of the launch (default stream when None).

    Returns
    -------
    device array
        ``out``.
    """
    code = peak_sign_code(peak_sign)
    _check_amplitudes(templates, out)
    n = templates.shape[0] * templates.shape[2]
    if n:
        blocks, threads = launch_1d(n)
        AMPLITUDES_KERNEL.launch(blocks, threads, stream, templates, code, out)
    return out


def template_extremum_cuda(
    templates: Any, peak_sign: str, nbefore: int, out_channels: Any, out_amplitudes: Any, out_shifts: Any,
    stream: Any = None,
) -> tuple[Any, Any, Any]:
    """Extremum channel, amplitude and shift per template, on the GPU (see :func:`template_extremum_cpu`).

    Parameters
    ----------
    templates, peak_sign, nbefore, out_channels, out_amplitudes, out_shifts
        As in :func:`template_extremum_cpu`, as device arrays.
    stream : numba stream, optional
        Stream of the launch (default stream when None).

    Returns
    -------
    tuple
        ``(out_channels, out_amplitudes, out_shifts)``.
    """
    code = peak_sign_code(peak_sign)
    _check_extremum(templates, out_channels, out_amplitudes, out_shifts)
    if templates.shape[0]:
        blocks, threads = launch_1d(templates.shape[0])
        EXTREMUM_KERNEL.launch(blocks, threads, stream, templates, code, int(nbefore), out_channels, out_amplitudes,
                               out_shifts)
    return out_channels, out_amplitudes, out_shifts


