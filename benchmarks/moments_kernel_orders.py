"""Where the time of "templates of every spike" goes on a CPU: the raw-moments kernel in two orders.

The library's kernel (``kernels.accumulate_moments_cpu``) adds a unit's windows unit after unit,
eight per pass (then four, then one) over the unit's int64 sums and sums of squares (each row of a window is a whole
row of the block: 384 channels, contiguous). The alternative measured here keeps a tile of
channels of every unit's accumulators in cache (tile-major accumulators, so that a tile's are
contiguous) and sweeps all units per tile: fewer bytes move between cache and memory, but each
window row is read as a short run of a long strided row.

``--lanes`` also times three narrower-lane versions of the library's order: 32-bit integer lanes
(three windows per pass into per-thread int32 / uint32 sums, each pass's largest sum of squares
tracked so that the 32-bit sums are added to the int64 ones before they could wrap: exact),
32-bit lanes forced by LLVM intrinsics (numba types ``int32 * int32`` as int64; the intrinsics keep
the loads, products and adds in 32 bits: one window row's sums in per-row int32 / uint32 registers,
added to the int64 ones after as many windows as the block's largest absolute value allows without
wrapping: exact), and float32 lanes (the dtype of SpikeInterface's accumulator: not exact, shown
as a ceiling). ``--same-window`` puts every window at the same place, so that the block stays in
cache: the arithmetic's ceiling, without the reads of memory.

Both run on the same synthetic block (int16, one 15 Hz-like load: windows of 90 samples, 100
units); outputs are checked equal, then timed (best of ``--repeat``), in G window-samples / s::

    python benchmarks/moments_kernel_orders.py                    # 60 000 frames, 30 spikes / unit
    python benchmarks/moments_kernel_orders.py --frames 30000 --spikes-per-unit 15 --tiles 32 64
"""
from __future__ import annotations

import argparse
import time

import numpy as np
from numba import get_num_threads, get_thread_id, njit, prange, types
from numba.extending import intrinsic


def make_tiled_kernel(tile: int):
    """The tile-major kernel for tiles of ``tile`` channels (a compile-time constant)."""

    @njit(parallel=True, nogil=True)
    def tiled(traces, peaks, bounds, nbefore, nsamples, sums, sumsqs):  # pragma: no cover - compiled
        num_tiles, num_units = sums.shape[0], sums.shape[1]
        for t in prange(num_tiles):
            c0 = t * tile
            for u in range(num_units):
                s_u, q_u = sums[t, u], sumsqs[t, u]
                for j in range(bounds[u], bounds[u + 1]):
                    start = peaks[j] - nbefore
                    for i in range(nsamples):
                        for cc in range(tile):
                            a = np.int64(traces[start + i, c0 + cc])
                            s_u[i, cc] += a
                            q_u[i, cc] += a * a

    return tiled


#: A pass adds at most 3 * 2**30 to a uint32 sum of squares: flush before the sum could pass 2**32 - 1.
_FLUSH_ABOVE = np.int64(2**32 - 1 - 3 * 2**30)


@njit(nogil=True)
def _flush(s32, q32, sums, sumsqs):  # pragma: no cover - compiled
    for i in range(s32.shape[0]):
        for c in range(s32.shape[1]):
            sums[i, c] += s32[i, c]
            sumsqs[i, c] += np.int64(q32[i, c])
            s32[i, c] = 0
            q32[i, c] = 0


@njit(parallel=True, nogil=True)
def int32_lanes(traces, peaks, bounds, nbefore, nsamples, sums, sumsqs, s32s, q32s):  # pragma: no cover
    for u in prange(sums.shape[0]):
        s32, q32 = s32s[get_thread_id()], q32s[get_thread_id()]
        j, end = bounds[u], bounds[u + 1]
        bound = np.int64(0)
        while j + 2 < end:
            if bound > _FLUSH_ABOVE:
                _flush(s32, q32, sums[u], sumsqs[u])
                bound = np.int64(0)
            t0, t1, t2 = peaks[j] - nbefore, peaks[j + 1] - nbefore, peaks[j + 2] - nbefore
            largest = np.uint32(0)
            for i in range(nsamples):
                r0, r1, r2 = traces[t0 + i], traces[t1 + i], traces[t2 + i]
                su, sq = s32[i], q32[i]
                for c in range(traces.shape[1]):
                    a, b, d = np.int32(r0[c]), np.int32(r1[c]), np.int32(r2[c])
                    su[c] += np.int32(a + b + d)
                    p = np.uint32(a * a) + np.uint32(b * b) + np.uint32(d * d)
                    sq[c] += p
                    largest = max(largest, p)
            bound += np.int64(largest)
            j += 3
        _flush(s32, q32, sums[u], sumsqs[u])
        for k in range(j, end):
            start = peaks[k] - nbefore
            for i in range(nsamples):
                for c in range(traces.shape[1]):
                    a = np.int64(traces[start + i, c])
                    sums[u, i, c] += a
                    sumsqs[u, i, c] += a * a


@intrinsic
def _widen32(typingctx, value):
    """An int16 sample sign-extended to an int32, typed int32 (numba would widen it to int64)."""
    from llvmlite import ir

    def codegen(context, builder, signature, args):
        return builder.sext(args[0], ir.IntType(32))

    return types.int32(types.int16), codegen


@intrinsic
def _square32(typingctx, value):
    """An int16 sample's square, at most 2**30, as a uint32 product of 32-bit lanes."""
    from llvmlite import ir

    def codegen(context, builder, signature, args):
        wide = builder.sext(args[0], ir.IntType(32))
        return builder.mul(wide, wide)

    return types.uint32(types.int16), codegen


@intrinsic
def _add32(typingctx, left, right):
    """A 32-bit add that stays 32-bit (``left`` and ``right`` both int32 or both uint32)."""

    def codegen(context, builder, signature, args):
        return builder.add(args[0], args[1])

    return left(left, right), codegen


@njit(parallel=True, nogil=True)
def int32_intrinsic_lanes(traces, peaks, bounds, nbefore, nsamples, sums, sumsqs,
                          per_flush):  # pragma: no cover - compiled
    for u in prange(sums.shape[0]):
        first, end = bounds[u], bounds[u + 1]
        s32 = np.zeros(traces.shape[1], np.int32)
        q32 = np.zeros(traces.shape[1], np.uint32)
        for i in range(nsamples):
            su, sq = sums[u, i], sumsqs[u, i]
            g = first
            while g < end:
                stop = min(end, g + per_flush)
                j = g
                while j + 3 < stop:
                    r0, r1 = traces[peaks[j] - nbefore + i], traces[peaks[j + 1] - nbefore + i]
                    r2, r3 = traces[peaks[j + 2] - nbefore + i], traces[peaks[j + 3] - nbefore + i]
                    for c in range(traces.shape[1]):
                        x0, x1, x2, x3 = r0[c], r1[c], r2[c], r3[c]
                        s32[c] = _add32(s32[c], _add32(_add32(_widen32(x0), _widen32(x1)),
                                                       _add32(_widen32(x2), _widen32(x3))))
                        q32[c] = _add32(q32[c], _add32(_add32(_square32(x0), _square32(x1)),
                                                       _add32(_square32(x2), _square32(x3))))
                    j += 4
                for k in range(j, stop):
                    row = traces[peaks[k] - nbefore + i]
                    for c in range(traces.shape[1]):
                        s32[c] = _add32(s32[c], _widen32(row[c]))
                        q32[c] = _add32(q32[c], _square32(row[c]))
                for c in range(traces.shape[1]):
                    su[c] += s32[c]
                    sq[c] += q32[c]
                    s32[c] = 0
                    q32[c] = 0
                g = stop


def windows_per_flush(traces) -> int:
    """How many windows the 32-bit sums of :func:`int32_intrinsic_lanes` can take before they could wrap."""
    largest = int(max(-int(traces.min()), int(traces.max()), 1))
    return int(max(1, min(2**31 // largest - 1, (2**32 - 1) // (largest * largest))))


@njit(parallel=True, nogil=True, fastmath=True)
def float32_lanes(traces, peaks, bounds, nbefore, nsamples, sums, sumsqs):  # pragma: no cover - compiled
    for u in prange(sums.shape[0]):
        j, end = bounds[u], bounds[u + 1]
        while j < end:
            k = min(j + 4, end)
            for i in range(nsamples):
                su, sq = sums[u, i], sumsqs[u, i]
                for w in range(j, k):
                    row = traces[peaks[w] - nbefore + i]
                    for c in range(traces.shape[1]):
                        a = np.float32(row[c])
                        su[c] += a
                        sq[c] += a * a
            j = k


def best_of(fn, repeat: int) -> float:
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=60000)
    parser.add_argument("--channels", type=int, default=384)
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument("--spikes-per-unit", type=int, default=30)
    parser.add_argument("--tiles", type=int, nargs="+", default=[32, 64])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--lanes", action="store_true", help="also the int32 and float32 lane versions")
    parser.add_argument("--amplitude", type=int, default=2000, help="samples drawn from [-amplitude, amplitude)")
    parser.add_argument("--same-window", action="store_true", help="every window at one place: the block in cache")
    args = parser.parse_args()

    from gpuspike.kernels import accumulate_moments_cpu

    rng = np.random.default_rng(0)
    nbefore, nafter = 30, 60
    nsamples = nbefore + nafter
    traces = rng.integers(-args.amplitude, args.amplitude, (args.frames, args.channels)).astype(np.int16)
    count = args.units * args.spikes_per_unit
    units = rng.integers(0, args.units, count)
    peaks = np.sort(rng.integers(nbefore, args.frames - nafter, count)).astype(np.int64)
    if args.same_window:
        peaks[:] = nbefore
    order = np.argsort(units, kind="stable")
    peaks = np.ascontiguousarray(peaks[order])
    bounds = np.searchsorted(units[order], np.arange(args.units + 1)).astype(np.int64)
    samples = count * nsamples * args.channels

    shape = (args.units, nsamples, args.channels)
    sums, sumsqs, counts = np.zeros(shape, np.int64), np.zeros(shape, np.int64), np.zeros(args.units, np.int64)

    def library():
        sums[:] = 0
        sumsqs[:] = 0
        accumulate_moments_cpu(traces, peaks, bounds, nbefore, nafter, sums, sumsqs, counts, checked=True)

    library()
    print(f"block {args.frames} x {args.channels} int16, {count} windows of {nsamples} samples, {args.units} units")
    print(f"unit-major (library): {samples / best_of(library, args.repeat) / 1e9:6.1f} G samples/s")
    if args.lanes:
        time_lanes(traces, peaks, bounds, nbefore, nsamples, sums, sumsqs, samples, args.repeat)
    for tile in args.tiles:
        if args.channels % tile:
            print(f"tile {tile}: skipped ({args.channels} channels are not whole tiles)")
            continue
        kernel = make_tiled_kernel(tile)
        tiled_shape = (args.channels // tile, args.units, nsamples, tile)
        t_sums, t_sumsqs = np.zeros(tiled_shape, np.int64), np.zeros(tiled_shape, np.int64)

        def tiled():
            t_sums[:] = 0
            t_sumsqs[:] = 0
            kernel(traces, peaks, bounds, nbefore, nsamples, t_sums, t_sumsqs)

        tiled()
        back = t_sums.transpose(1, 2, 0, 3).reshape(shape)
        back_sq = t_sumsqs.transpose(1, 2, 0, 3).reshape(shape)
        if not (np.array_equal(back, sums) and np.array_equal(back_sq, sumsqs)):
            raise SystemExit(f"tile {tile}: the tiled sums differ from the library's")
        print(f"tile-major, {tile:3d} channels: {samples / best_of(tiled, args.repeat) / 1e9:6.1f} G samples/s")


def time_lanes(traces, peaks, bounds, nbefore, nsamples, sums, sumsqs, samples, repeat) -> None:
    """Time the int32 (exact) and float32 (inexact) lane versions against the library's results."""
    shape = sums.shape
    s64, q64 = np.zeros(shape, np.int64), np.zeros(shape, np.int64)
    s32s = np.zeros((get_num_threads(),) + shape[1:], np.int32)
    q32s = np.zeros((get_num_threads(),) + shape[1:], np.uint32)

    def narrow_ints():
        s64[:] = 0
        q64[:] = 0
        int32_lanes(traces, peaks, bounds, nbefore, nsamples, s64, q64, s32s, q32s)

    narrow_ints()
    if not (np.array_equal(s64, sums) and np.array_equal(q64, sumsqs)):
        raise SystemExit("int32 lanes: the sums differ from the library's")
    print(f"int32 lanes, exact flushes: {samples / best_of(narrow_ints, repeat) / 1e9:6.1f} G samples/s")

    def intrinsic_ints(per_flush=None):
        s64[:] = 0
        q64[:] = 0
        per_flush = windows_per_flush(traces) if per_flush is None else per_flush
        int32_intrinsic_lanes(traces, peaks, bounds, nbefore, nsamples, s64, q64, per_flush)

    intrinsic_ints()
    if not (np.array_equal(s64, sums) and np.array_equal(q64, sumsqs)):
        raise SystemExit("int32 lanes by intrinsics: the sums differ from the library's")
    known = windows_per_flush(traces)
    print(f"int32 lanes by intrinsics, {known} windows per flush: with the block's range found in the time "
          f"{samples / best_of(intrinsic_ints, repeat) / 1e9:6.1f}, the range known "
          f"{samples / best_of(lambda: intrinsic_ints(known), repeat) / 1e9:6.1f} G samples/s")
    f_sums, f_sumsqs = np.zeros(shape, np.float32), np.zeros(shape, np.float32)

    def floats():
        f_sums[:] = 0
        f_sumsqs[:] = 0
        float32_lanes(traces, peaks, bounds, nbefore, nsamples, f_sums, f_sumsqs)

    floats()
    error = np.abs(f_sumsqs.astype(np.float64) - sumsqs).max() / max(1, np.abs(sumsqs).max())
    print(f"float32 lanes (inexact: largest error {error:.1e} of the largest sum of squares): "
          f"{samples / best_of(floats, repeat) / 1e9:6.1f} G samples/s")


if __name__ == "__main__":
    main()
