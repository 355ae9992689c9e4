"""Per unit sums and sums of squares of spike windows, for template mean and std.

``accumulate_templates_*`` adds each window, shifted by its unit's reference window ``ref[u]``
(float64), to ``sums[unit]``, the square of the shifted window to ``sumsqs[unit]``, and 1 to
``counts[unit]``; call it once per block, then ``templates_from_sums_*`` gives mean and population
std (``ddof=0``) without ever storing waveforms:

    mean = ref + S1 / n,        var = S2 / n - (S1 / n)**2   (clipped at 0)

The shift is the classic "shifted data" variance: with ``ref`` one of the unit's windows, the
sums stay small, so the std keeps its precision when it is tiny next to the mean, and a unit
whose windows are all identical gets a std of exactly 0. With raw integer traces every shifted
sum is an integer, exact in float64 whatever the order of addition.

Spikes come grouped by unit: ``peak_samples[unit_bounds[u]:unit_bounds[u + 1]]`` are the peaks of
unit ``u`` (the caller groups them on the host, a stable sort keeping time order). A unit's
windows are added in that order on every device, so the CPU and a GPU give the same bits.

CPU: parallel over units; a thread adds its unit's windows row by row (contiguous channels), four
windows per pass over the unit's sums. GPU: one thread per ``(unit, sample, channel)`` loops over
its unit's spikes: no atomics, no scratch memory. Both round every float operation (no fused
multiply-add).

``templates_from_sums`` also takes the int64 raw moments of :mod:`.moments` (integer windows
added unshifted) and shifts them by ``ref`` exactly, in int64, before the same formulas.

``templates_from_sums`` can also scale raw sums to physical units on the way
(``mean * gain + offset``, ``std * |gain|``). Units with no spikes get mean = std = 0.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit, prange

from ._common import TRACE_DTYPES, check_dtype, check_ndim, check_shape, check_windows, launch_1d, to_host
from ._launch import CudaKernel, array_type, bind_device_globals, jit_kernel

__all__ = [
    "accumulate_templates_cpu",
    "accumulate_templates_cuda",
    "templates_from_sums_cpu",
    "templates_from_sums_cuda",
    "check_unit_bounds",
    "check_grouped_windows",
    "ACCUMULATE_KERNEL",
    "FROM_SUMS_KERNEL",
]

#: ``numba.cuda`` and the rounded float operations, bound by the first build (lazy import;
#: module globals, so that numba's simulator can swap in its fake module while a kernel runs and
#: the module-level kernels can be cached on disk).
cuda = None
fmul = fadd = dmul = dadd = None


@njit(parallel=True, cache=True, nogil=True)
def window_sums_njit(traces, peak_samples, unit_bounds, nbefore, nafter, ref, sums, sumsqs, counts,
                     with_squares):  # pragma: no cover - compiled
    """Add each window (minus ``ref[u]``) to ``sums[u]`` and its square to ``sumsqs[u]`` in float64,
    or, without ``with_squares``, the plain window to ``sums`` in the dtype of ``sums`` (``ref`` and
    ``sumsqs`` untouched); +1 to counts. Peaks grouped by unit (``unit_bounds``)."""
    num_channels = traces.shape[1]
    nsamples = nbefore + nafter
    for u in prange(sums.shape[0]):
        j = unit_bounds[u]
        end = unit_bounds[u + 1]
        while j + 3 < end:  # four windows per pass over the unit's sums, in spike order
            t0 = peak_samples[j] - nbefore
            t1 = peak_samples[j + 1] - nbefore
            t2 = peak_samples[j + 2] - nbefore
            t3 = peak_samples[j + 3] - nbefore
            for i in range(nsamples):
                for c in range(num_channels):
                    if with_squares:
                        r = ref[u, i, c]
                        a = np.float64(traces[t0 + i, c]) - r
                        b = np.float64(traces[t1 + i, c]) - r
                        d = np.float64(traces[t2 + i, c]) - r
                        e = np.float64(traces[t3 + i, c]) - r
                        sums[u, i, c] = (((sums[u, i, c] + a) + b) + d) + e
                        sumsqs[u, i, c] = (((sumsqs[u, i, c] + a * a) + b * b) + d * d) + e * e
                    else:
                        sums[u, i, c] = (((sums[u, i, c] + traces[t0 + i, c]) + traces[t1 + i, c])
                                         + traces[t2 + i, c]) + traces[t3 + i, c]
            j += 4
        while j < end:
            start = peak_samples[j] - nbefore
            for i in range(nsamples):
                for c in range(num_channels):
                    if with_squares:
                        v = np.float64(traces[start + i, c]) - ref[u, i, c]
                        sums[u, i, c] += v
                        sumsqs[u, i, c] += v * v
                    else:
                        sums[u, i, c] += traces[start + i, c]
            j += 1
        counts[u] += end - unit_bounds[u]


def check_unit_bounds(unit_bounds: Any, num_units: int, num_spikes: int, checked: bool = False) -> None:
    """Check ``unit_bounds``: ``(num_units + 1,)`` int64 rising from 0 to ``num_spikes``.

    Parameters
    ----------
    unit_bounds : array
        Bounds of each unit's group of spikes.
    num_units, num_spikes : int
        Expected units and spikes.
    checked : bool
        The caller validated the values on the host: check shape and dtype only.

    Raises
    ------
    ValueError
        Wrong shape or values.
    TypeError
        Not int64.
    """
    check_shape(unit_bounds, (num_units + 1,), "unit_bounds")
    check_dtype(unit_bounds, np.int64, "unit_bounds")
    if checked:
        return
    bounds = to_host(unit_bounds)
    if bounds[0] != 0 or bounds[-1] != num_spikes or np.any(np.diff(bounds) < 0):
        raise ValueError(f"unit_bounds must rise from 0 to the number of spikes ({num_spikes}), "
                         f"got {bounds[:4]}...{bounds[-2:]}")


def check_grouped_windows(traces: Any, peak_samples: Any, unit_bounds: Any, nbefore: int, nafter: int, sums: Any,
                          counts: Any, checked: bool = False) -> None:
    """Checks shared by the kernels adding windows grouped by unit into per unit sums.

    2-D traces, windows inside them, ``(U, nbefore + nafter, C)`` sums, ``(U,)`` int64 counts and
    the unit bounds; the dtype of the sums (and any other accumulator) is the caller's to check.

    Parameters
    ----------
    traces, peak_samples, unit_bounds, nbefore, nafter, sums, counts
        As the kernels take them.
    checked : bool
        The caller validated peaks and bounds on the host: check shapes and dtypes only.

    Raises
    ------
    ValueError
        A window outside ``traces``, wrong bounds, or a shape that does not match.
    TypeError
        ``counts`` or ``unit_bounds`` not int64.
    """
    check_ndim(traces, 2, "traces")
    check_windows(peak_samples, nbefore, nafter, traces.shape[0], checked)
    check_ndim(sums, 3, "sums")
    num_units = sums.shape[0]
    check_shape(sums, (num_units, nbefore + nafter, traces.shape[1]), "sums")
    check_shape(counts, (num_units,), "counts")
    check_dtype(counts, np.int64, "counts")
    check_unit_bounds(unit_bounds, num_units, peak_samples.shape[0], checked)


def _check_accumulate(traces, peak_samples, unit_bounds, nbefore, nafter, ref, sums, sumsqs, counts, checked):
    check_grouped_windows(traces, peak_samples, unit_bounds, nbefore, nafter, sums, counts, checked)
    for name, arr in (("ref", ref), ("sumsqs", sumsqs)):
        check_shape(arr, tuple(sums.shape), name)
        check_dtype(arr, np.float64, name)
    check_dtype(sums, np.float64, "sums")


def accumulate_templates_cpu(
    traces: Any,
    peak_samples: Any,
    unit_bounds: Any,
    nbefore: int,
    nafter: int,
    ref: Any,
    sums: Any,
    sumsqs: Any,
    counts: Any,
    stream: Any = None,
    checked: bool = False,
) -> tuple[Any, Any, Any]:
    """Add spike windows, shifted by each unit's reference window, to per unit sums, on the CPU.

    Parameters
    ----------
    traces : np.ndarray
        ``(num_samples, num_channels)`` traces of one block, any dtype (cast to float64).
    peak_samples : np.ndarray
        ``(num_spikes,)`` int64 peak positions within ``traces``, grouped by unit; windows must
        lie inside ``traces``.
    unit_bounds : np.ndarray
        ``(U + 1,)`` int64: unit ``u``'s peaks are ``peak_samples[unit_bounds[u]:unit_bounds[u+1]]``.
    nbefore, nafter : int
        Window ``[p - nbefore, p + nafter)``.
    ref : np.ndarray
        ``(U, nbefore + nafter, num_channels)`` float64 reference window of each unit (subtracted).
    sums, sumsqs : np.ndarray
        ``(U, nbefore + nafter, num_channels)`` float64, updated in place.
    counts : np.ndarray
        ``(U,)`` int64, updated in place.
    stream : None
        Ignored (the CUDA version's stream).
    checked : bool
        The caller validated peaks and bounds on the host: skip the value checks.

    Returns
    -------
    tuple
        ``(sums, sumsqs, counts)``.

    Raises
    ------
    ValueError
        If a window falls outside ``traces``, the bounds are wrong, or a shape mismatches.
    TypeError
        If an accumulator has the wrong dtype.
    """
    _check_accumulate(traces, peak_samples, unit_bounds, nbefore, nafter, ref, sums, sumsqs, counts, checked)
    window_sums_njit(traces, peak_samples, unit_bounds, nbefore, nafter, ref, sums, sumsqs, counts, True)
    return sums, sumsqs, counts


def _window_sums_kernel(traces, peak_samples, unit_bounds, nbefore, ref, sums, sumsqs, counts,
                        with_squares):  # pragma: no cover - CUDA kernel
    num_units, nsamples, num_channels = sums.shape
    per_unit = nsamples * num_channels
    n = num_units * per_unit
    for j in range(cuda.grid(1), n, cuda.gridsize(1)):
        u = j // per_unit
        r = j - u * per_unit
        i = r // num_channels
        c = r - i * num_channels
        first = unit_bounds[u]
        last = unit_bounds[u + 1]
        if with_squares:
            acc = sums[u, i, c]
            acc2 = sumsqs[u, i, c]
            shift = ref[u, i, c]
            for k in range(first, last):
                v = dadd(float(traces[peak_samples[k] - nbefore + i, c]), -shift)
                acc = dadd(acc, v)
                acc2 = dadd(acc2, dmul(v, v))
            sums[u, i, c] = acc
            sumsqs[u, i, c] = acc2
        else:  # in the dtype of sums, as the CPU kernel
            total = sums[u, i, c]
            for k in range(first, last):
                total += traces[peak_samples[k] - nbefore + i, c]
            sums[u, i, c] = total
        if r == 0:
            counts[u] += last - first


def _build_window_sums():
    bind_device_globals(globals())
    return jit_kernel(_window_sums_kernel)


def _window_sums_signatures() -> tuple:
    i64 = array_type("int64", 1)
    f64 = array_type("float64", 3)
    sigs = []
    for t in TRACE_DTYPES:
        for s in ("float64", "float32"):  # with squares: float64; means only: float32 or float64
            acc = array_type(s, 3)
            sigs.append((array_type(t, 2), i64, i64, "int64", f64 if s == "float64" else acc, acc,
                         f64 if s == "float64" else acc, i64, "boolean"))
    return tuple(sigs)


ACCUMULATE_KERNEL = CudaKernel("templates.window_sums", _build_window_sums, _window_sums_signatures())


def launch_window_sums(traces, peak_samples, unit_bounds, nbefore: int, ref, sums, sumsqs, counts,
                       with_squares: bool, stream) -> None:
    """One thread per ``(unit, sample, channel)`` adds that unit's windows in spike order
    (``ref`` and ``sumsqs`` untouched unless ``with_squares``)."""
    if peak_samples.shape[0] == 0 or sums.size == 0:
        return
    blocks, threads = launch_1d(sums.size)
    ACCUMULATE_KERNEL.launch(blocks, threads, stream, traces, peak_samples, unit_bounds, int(nbefore), ref, sums,
                             sumsqs, counts, bool(with_squares))


def accumulate_templates_cuda(
    traces: Any,
    peak_samples: Any,
    unit_bounds: Any,
    nbefore: int,
    nafter: int,
    ref: Any,
    sums: Any,
    sumsqs: Any,
    counts: Any,
    stream: Any = None,
    checked: bool = False,
) -> tuple[Any, Any, Any]:
    """Add shifted spike windows to per unit sums on the GPU; same contract as :func:`accumulate_templates_cpu`.

    Parameters
    ----------
    traces, peak_samples, unit_bounds, nbefore, nafter, ref, sums, sumsqs, counts, checked
        As in :func:`accumulate_templates_cpu`, as device arrays.
    stream : numba stream, optional
        Stream of the launch (default stream when None).

    Returns
    -------
    tuple
        ``(sums, sumsqs, counts)``.
    """
    _check_accumulate(traces, peak_samples, unit_bounds, nbefore, nafter, ref, sums, sumsqs, counts, checked)
    launch_window_sums(traces, peak_samples, unit_bounds, nbefore, ref, sums, sumsqs, counts, True, stream)
    return sums, sumsqs, counts


@njit(parallel=True, cache=True, nogil=True, error_model="numpy")
def _from_sums_njit(sums, sumsqs, counts, ref, mean, std, gains, offsets, with_std, shifted, scaled,
                    raw):  # pragma: no cover
    num_units, nsamples, num_channels = sums.shape
    for u in prange(num_units):
        n = counts[u]
        for i in range(nsamples):
            for c in range(num_channels):
                if n > 0:
                    s1 = np.float64(sums[u, i, c])
                    s2 = np.float64(sumsqs[u, i, c]) if with_std else 0.0
                    if raw:  # int64 moments, shifted by the reference exactly
                        r = np.int64(ref[u, i, c])
                        total = np.int64(sums[u, i, c])
                        s1 = np.float64(total - n * r)
                        s2 = np.float64(np.int64(sumsqs[u, i, c]) - 2 * r * total + n * r * r)
                    m = s1 / n
                    centre = m + ref[u, i, c] if shifted else m
                    if scaled:
                        centre = centre * gains[c] + offsets[c]
                    mean[u, i, c] = centre
                    if with_std:
                        var = s2 / n - m * m
                        sd = math.sqrt(var) if var > 0.0 else 0.0
                        std[u, i, c] = sd * abs(gains[c]) if scaled else sd
                else:
                    mean[u, i, c] = 0.0
                    if with_std:
                        std[u, i, c] = 0.0


def _from_sums_args(sums, sumsqs, counts, mean, std, ref, gains, offsets, placeholders):
    """Check the arguments of templates_from_sums; return the kernel's array arguments and flags."""
    check_ndim(sums, 3, "sums")
    raw = np.dtype(sums.dtype) == np.dtype("int64")
    if np.dtype(sums.dtype) not in (np.dtype("float32"), np.dtype("float64")) and not raw:
        raise TypeError(f"sums must be float32 or float64 (or int64 raw moments), got {sums.dtype}")
    check_shape(counts, (sums.shape[0],), "counts")
    check_shape(mean, tuple(sums.shape), "mean")
    with_std = sumsqs is not None
    if with_std != (std is not None):
        raise ValueError("sumsqs and std go together: give both (mean and std) or neither (mean only)")
    if raw and (not with_std or ref is None):
        raise ValueError("int64 sums are raw moments: give sumsqs (int64), std and the reference windows ref")
    if with_std:
        check_shape(sumsqs, tuple(sums.shape), "sumsqs")
        check_shape(std, tuple(sums.shape), "std")
        check_dtype(sumsqs, np.int64 if raw else np.float64, "sumsqs")
        check_dtype(sums, np.int64 if raw else np.float64, "sums")
    for name, arr in (("mean", mean), ("std", std)):
        if arr is not None and np.dtype(arr.dtype).kind != "f":
            raise TypeError(f"{name} must be a float array, got {arr.dtype}")
    shifted = ref is not None
    if shifted:
        check_shape(ref, tuple(sums.shape), "ref")
        check_dtype(ref, np.float64, "ref")
    scaled = gains is not None
    if scaled != (offsets is not None):
        raise ValueError("gains and offsets go together: give both (scaled templates) or neither")
    if scaled:
        for name, arr in (("gains", gains), ("offsets", offsets)):
            check_shape(arr, (sums.shape[2],), name)
            check_dtype(arr, np.float64, name)
    p3, p1 = placeholders
    return ((sumsqs if with_std else sums if np.dtype(sums.dtype) == np.float64 else p3),
            (ref if shifted else p3), (std if with_std else mean),
            (gains if scaled else p1), (offsets if scaled else p1), with_std, shifted, scaled, raw)


_HOST_P3 = np.zeros((1, 1, 1))
_HOST_P1 = np.zeros(1)
_device_placeholders = None


def _device_p():
    global _device_placeholders
    if _device_placeholders is None:
        from numba import cuda as numba_cuda

        _device_placeholders = (numba_cuda.to_device(_HOST_P3), numba_cuda.to_device(_HOST_P1))
    return _device_placeholders


def templates_from_sums_cpu(sums: Any, sumsqs: Any, counts: Any, mean: Any, std: Any, ref: Any = None,
                            gains: Any = None, offsets: Any = None, stream: Any = None) -> tuple[Any, Any]:
    """Mean and population std (``ddof=0``) per unit from accumulated sums, on the CPU.

    Parameters
    ----------
    sums : np.ndarray
        ``(U, nsamples, C)`` float64 (float32 allowed for means only), from
        :func:`accumulate_templates_cpu` or the sums-only kernels; or int64 raw moments from
        :func:`~.moments.accumulate_moments_cpu` (with ``sumsqs`` int64 and ``ref``: shifted
        exactly here, the same bits as the shifted float64 sums).
    sumsqs : np.ndarray or None
        ``(U, nsamples, C)`` float64 sums of squares (int64 with int64 ``sums``); None for means
        only.
    counts : np.ndarray
        ``(U,)`` int, spikes per unit.
    mean : np.ndarray
        ``(U, nsamples, C)`` float output (float32 or float64).
    std : np.ndarray or None
        ``(U, nsamples, C)`` float output; None for means only (with ``sumsqs=None``).
    ref : np.ndarray, optional
        ``(U, nsamples, C)`` float64 reference windows the sums were shifted by (added back); with
        raw moments, integer-valued windows to shift them by.
    gains, offsets : np.ndarray, optional
        ``(C,)`` float64: scale raw sums, ``mean * gain + offset`` and ``std * |gain|``.
    stream : None
        Ignored (the CUDA version's stream).

    Returns
    -------
    tuple
        ``(mean, std)`` (``std`` None for means only). Units with 0 spikes get zeros.
    """
    args = _from_sums_args(sums, sumsqs, counts, mean, std, ref, gains, offsets, (_HOST_P3, _HOST_P1))
    _from_sums_njit(sums, args[0], counts, args[1], mean, args[2], args[3], args[4], args[5], args[6], args[7],
                    args[8])
    return mean, std


def _from_sums_kernel(sums, sumsqs, counts, ref, mean, std, gains, offsets, with_std, shifted,
                      scaled, raw):  # pragma: no cover - CUDA kernel
    num_units, nsamples, num_channels = sums.shape
    per_unit = nsamples * num_channels
    for j in range(cuda.grid(1), num_units * per_unit, cuda.gridsize(1)):
        u = j // per_unit
        r = j - u * per_unit
        i = r // num_channels
        c = r - i * num_channels
        n = counts[u]
        if n > 0:
            s1 = float(sums[u, i, c])
            s2 = float(sumsqs[u, i, c]) if with_std else 0.0
            if raw:  # int64 moments, shifted by the reference exactly
                shift = int(ref[u, i, c])
                total = int(sums[u, i, c])
                s1 = float(total - n * shift)
                s2 = float(int(sumsqs[u, i, c]) - 2 * shift * total + n * shift * shift)
            m = s1 / n
            centre = dadd(m, ref[u, i, c]) if shifted else m
            if scaled:
                centre = dadd(dmul(centre, gains[c]), offsets[c])
            mean[u, i, c] = centre
            if with_std:
                var = dadd(s2 / n, -dmul(m, m))
                sd = math.sqrt(var) if var > 0.0 else 0.0
                std[u, i, c] = dmul(sd, abs(gains[c])) if scaled else sd
        else:
            mean[u, i, c] = 0.0
            if with_std:
                std[u, i, c] = 0.0


def _build_from_sums():
    bind_device_globals(globals())
    return jit_kernel(_from_sums_kernel)


def _from_sums_signatures() -> tuple:
    f64 = array_type("float64", 3)
    v64 = array_type("float64", 1)
    i64 = array_type("int64", 3)
    counts = array_type("int64", 1)
    flags = ("boolean",) * 4
    sigs = []
    for out in ("float32", "float64"):
        o = array_type(out, 3)
        # mean and std from float64 sums or int64 raw moments; means only from float64 or float32 sums
        sigs.append((f64, f64, counts, f64, o, o, v64, v64) + flags)
        sigs.append((array_type("float32", 3), f64, counts, f64, o, o, v64, v64) + flags)
        sigs.append((i64, i64, counts, f64, o, o, v64, v64) + flags)
    return tuple(sigs)


FROM_SUMS_KERNEL = CudaKernel("templates.templates_from_sums", _build_from_sums, _from_sums_signatures())


def templates_from_sums_cuda(sums: Any, sumsqs: Any, counts: Any, mean: Any, std: Any, ref: Any = None,
                             gains: Any = None, offsets: Any = None, stream: Any = None) -> tuple[Any, Any]:
    """Mean and population std per unit on the GPU; same contract as :func:`templates_from_sums_cpu`.

    Parameters
    ----------
    sums, sumsqs, counts, mean, std, ref, gains, offsets
        As in :func:`templates_from_sums_cpu`, as device arrays.
    stream : numba stream, optional
        Stream of the launch (default stream when None).

    Returns
    -------
    tuple
        ``(mean, std)``.
    """
    args = _from_sums_args(sums, sumsqs, counts, mean, std, ref, gains, offsets, _device_p())
    if sums.size:
        blocks, threads = launch_1d(sums.size)
        FROM_SUMS_KERNEL.launch(blocks, threads, stream, sums, args[0], counts, args[1], mean, args[2], args[3],
                                args[4], args[5], args[6], args[7], args[8])
    return mean, std
