#!/usr/bin/env python
"""Throughput of each stage of the streaming path, against measured ceilings.

Stages (bytes/s of raw traces):
  ceiling  file read     plain sequential os.preadv of the whole file, large buffers
  ceiling  H2D           one large pinned host -> device copy (device mode only)
  stage    disk read     planner + PreadReader, serial, block-sized reads
  stage    H2D           slot-sized async copies from pinned memory (device mode only)
  stage    kernel        per-channel sum of one block (CUDA kernel, or numba njit on CPU)
  e2e      end to end    stream_blocks(...) + the kernel on every block
  e2e      windows       sparse spike windows (--spikes N) through the same path

Examples
--------
  python benchmarks/gpu_streaming.py --preset w1                # 384 ch, 30 kHz, int16, 60 s
  python benchmarks/gpu_streaming.py --preset long --size-gb 20 # multi-GB file
  python benchmarks/gpu_streaming.py --preset tiny --device cpu # smoke test (seconds)

Page cache: the file is generated just before the run, so reads may come from RAM. Use
--drop-cache (posix_fadvise DONTNEED; works for files you own on most Linux file systems) to
measure the disk, and compare with the "file read" ceiling measured under the same condition.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

try:  # module level: numba's simulator swaps the `cuda` global of kernels it runs
    from numba import cuda
except Exception:  # pragma: no cover
    cuda = None

PRESETS = {
    "w1": dict(num_channels=384, fs=30_000, seconds=60.0),
    "long": dict(num_channels=384, fs=30_000, seconds=None),
    "tiny": dict(num_channels=16, fs=30_000, seconds=0.5),
}


def gbps(nbytes: float, seconds: float) -> float:
    return nbytes / seconds / 1e9 if seconds > 0 else float("inf")


def drop_cache(path: Path) -> bool:
    if not hasattr(os, "posix_fadvise"):
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def generate(path: Path, num_samples: int, num_channels: int, header: int = 0) -> None:
    """Write a raw int16 file of noise, in 64 MB pieces (multi-GB files in seconds)."""
    rng = np.random.default_rng(0)
    frames_per_piece = max(1, (64 << 20) // (2 * num_channels))
    piece = rng.integers(-200, 200, size=(frames_per_piece, num_channels), dtype=np.int16)
    with open(path, "wb") as f:
        f.write(b"\0" * header)
        done = 0
        k = 0
        while done < num_samples:
            n = min(frames_per_piece, num_samples - done)
            np.roll(piece, k, axis=1)[:n].tofile(f)
            done += n
            k += 1


class RawRecording:
    """Minimal binary-compatible recording over a raw file (no dependency on gpuspike.core)."""

    def __init__(self, path, num_channels, fs, header=0):
        self.path, self.nch, self.fs, self.header = Path(path), num_channels, fs, header
        self.n = (self.path.stat().st_size - header) // (2 * num_channels)

    def get_num_samples(self, segment_index=0):
        return self.n

    def get_num_channels(self):
        return self.nch

    def get_dtype(self):
        return np.dtype("int16")

    def get_sampling_frequency(self):
        return self.fs

    def get_traces(self, start_frame=None, end_frame=None, segment_index=0, return_scaled=False):
        mm = np.memmap(self.path, np.int16, "r", offset=self.header, shape=(self.n, self.nch))
        return np.array(mm[start_frame:end_frame])

    def is_binary_compatible(self):
        return True

    def get_binary_description(self):
        return dict(file_paths=[str(self.path)], dtype="int16", num_channels=self.nch,
                    time_axis=0, file_offset=self.header)


def make_kernels(device: bool):
    """Per-channel sum: a CUDA kernel (device) or a numba njit loop (host)."""
    if device:

        @cuda.jit
        def colsum(x, out):
            # x: channels (coalesced), y: strided over rows; one atomic per thread
            j, y = cuda.grid(2)
            if j < x.shape[1]:
                s = np.int64(0)  # not `0`: under the simulator + NumPy 2, 0 + int16 stays int16
                for i in range(y, x.shape[0], cuda.gridsize(2)[1]):
                    s += x[i, j]
                cuda.atomic.add(out, j, s)

        def run(arr, out, stream):
            rows = max(1, min(256, arr.shape[0] // 64))
            colsum[((arr.shape[1] + 127) // 128, rows), (128, 1), stream](arr, out)

        return run

    import numba

    @numba.njit(cache=False, nogil=True)
    def colsum_cpu(x, out):
        for i in range(x.shape[0]):
            for j in range(x.shape[1]):
                out[j] += x[i, j]

    def run(arr, out, stream=None):
        colsum_cpu(arr, out)

    return run


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", choices=sorted(PRESETS), default="w1")
    ap.add_argument("--file", type=Path, help="use this raw int16 file instead of generating one")
    ap.add_argument("--channels", type=int, help="channels (default: preset)")
    ap.add_argument("--seconds", type=float, help="duration to generate (default: preset)")
    ap.add_argument("--size-gb", type=float, default=4.0, help="file size for --preset long")
    ap.add_argument("--chunk-size", type=int, default=30_000, help="frames per block")
    ap.add_argument("--num-slots", type=int, default=4)
    ap.add_argument("--num-readers", type=int, default=1)
    ap.add_argument("--device", choices=["auto", "gpu", "cpu"], default="auto")
    ap.add_argument("--reader", choices=["auto", "pread", "kvikio", "traces"], default="auto")
    ap.add_argument("--spikes", type=int, default=2000, help="sparse spikes for the windows run (0: skip)")
    ap.add_argument("--drop-cache", action="store_true", help="evict the file from the page cache before each read")
    ap.add_argument("--tmpdir", type=Path, default=None)
    ap.add_argument("--keep", action="store_true", help="keep the generated file")
    ap.add_argument("--json", type=Path, help="also write results here")
    args = ap.parse_args(argv)

    from gpuspike.streaming import PreadReader, plan_reads, stream_blocks

    preset = PRESETS[args.preset]
    nch = args.channels or preset["num_channels"]
    fs = preset["fs"]
    if args.device == "auto":
        try:
            from numba import cuda

            device = bool(cuda.is_available()) and os.environ.get("NUMBA_ENABLE_CUDASIM") != "1"
        except Exception:
            device = False
    else:
        device = args.device == "gpu"

    tmp = None
    if args.file is not None:
        path = args.file
    else:
        if args.preset == "long" and args.seconds is None:
            num_samples = int(args.size_gb * 1e9 / (2 * nch))
        else:
            num_samples = int((args.seconds or preset["seconds"]) * fs)
        tmp = tempfile.TemporaryDirectory(dir=args.tmpdir)
        path = Path(tmp.name) / f"bench_{nch}ch_{num_samples}.raw"
        t0 = time.perf_counter()
        generate(path, num_samples, nch)
        print(f"generated {path} ({path.stat().st_size / 1e9:.3f} GB) in {time.perf_counter() - t0:.1f} s")

    rec = RawRecording(path, nch, fs)
    n, bpf = rec.get_num_samples(), 2 * nch
    total = n * bpf
    results = {"file": str(path), "bytes": total, "channels": nch, "frames": n,
               "device": "gpu" if device else "cpu", "chunk_size": args.chunk_size,
               "num_slots": args.num_slots, "num_readers": args.num_readers, "stages": {}}
    stages = results["stages"]

    def maybe_drop():
        if args.drop_cache:
            drop_cache(path)

    # ---- ceiling: plain sequential file read with large buffers
    maybe_drop()
    buf = np.empty(min(total, 64 << 20), np.uint8)
    buf.fill(0)  # fault the pages in before timing
    fd = os.open(path, os.O_RDONLY)
    t0 = time.perf_counter()
    off = 0
    while off < total:
        got = os.preadv(fd, [memoryview(buf)[: min(buf.size, total - off)]], off)
        if got <= 0:
            break
        off += got
    stages["ceiling file read"] = gbps(off, time.perf_counter() - t0)
    os.close(fd)

    plan = plan_reads(n, min(args.chunk_size, max(n, 1)))
    kernel = make_kernels(device)

    # ---- stage: disk read through the planner and PreadReader
    maybe_drop()
    reader = PreadReader(path, np.int16, nch)
    blockbuf = np.empty((plan.max_block_frames, nch), np.int16)
    blockbuf.fill(0)
    t0 = time.perf_counter()
    for blk in plan.blocks:
        reader.read_block(blk, blockbuf)
    stages["disk read (PreadReader)"] = gbps(reader.bytes_read, time.perf_counter() - t0)
    assert reader.bytes_read == plan.planned_bytes(bpf)
    reader.close()

    if device:
        from numba import cuda

        big = cuda.pinned_array((min(total, 1 << 30),), np.uint8)
        dbig = cuda.device_array_like(big)
        dbig.copy_to_device(big)
        cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(3):
            dbig.copy_to_device(big)
        cuda.synchronize()
        stages["ceiling H2D (1 GiB pinned)"] = gbps(3 * big.nbytes, time.perf_counter() - t0)
        del big, dbig
        slot = cuda.pinned_array((plan.max_block_frames, nch), np.int16)
        dslot = cuda.device_array_like(slot)
        s = cuda.stream()
        t0 = time.perf_counter()
        for blk in plan.blocks:
            dslot[: blk.num_frames].copy_to_device(slot[: blk.num_frames], stream=s)
        s.synchronize()
        stages["H2D (slot-sized, async)"] = gbps(total, time.perf_counter() - t0)
        out = cuda.to_device(np.zeros(nch, np.int64))
        kernel(dslot, out, s)
        s.synchronize()
        t0 = time.perf_counter()
        for blk in plan.blocks:
            kernel(dslot[: blk.num_frames], out, s)
        s.synchronize()
        stages["kernel (column sum)"] = gbps(total, time.perf_counter() - t0)
    else:
        out = np.zeros(nch, np.int64)
        kernel(blockbuf[:1], out)  # compile
        t0 = time.perf_counter()
        for blk in plan.blocks:
            kernel(blockbuf[: blk.num_frames], out)
        stages["kernel (column sum)"] = gbps(total, time.perf_counter() - t0)

    # ---- end to end
    def run_e2e(p, label, ring=None):
        maybe_drop()
        if device:
            from numba import cuda

            acc = cuda.to_device(np.zeros(nch, np.int64))
        else:
            acc = np.zeros(nch, np.int64)
        t0 = time.perf_counter()
        if ring is not None and ring.slot_frames < p.max_block_frames:
            ring = None
        with stream_blocks(rec, 0, p, device=device, num_slots=args.num_slots,
                           num_readers=args.num_readers, reader=args.reader,
                           ring=ring) as blocks:
            for blk, arr in blocks:
                kernel(arr, acc, blocks.compute_stream)
            if device:
                blocks.compute_stream.synchronize()
            dt = time.perf_counter() - t0
            st = blocks.stats
            nbytes = blocks.bytes_read
            ring = blocks.ring
        stages[label] = gbps(nbytes, dt)
        stages[label + " stall on read (s)"] = round(st.wait_read_s, 4)
        stages[label + " stall on H2D (s)"] = round(st.wait_h2d_s, 4)
        return acc, ring

    _, ring = run_e2e(plan, "end to end, cold (allocates the ring)")
    acc, ring = run_e2e(plan, "end to end (whole segment)", ring)
    acc_host = acc.copy_to_host() if device else acc
    if n <= 2_000_000 // max(1, nch // 16):  # cheap check on small files
        mm = np.memmap(path, np.int16, "r", shape=(n, nch))
        assert np.array_equal(acc_host, mm.sum(axis=0, dtype=np.int64)), "wrong sums"

    if args.spikes > 0 and n > 200:
        rng = np.random.default_rng(0)
        peaks = np.sort(rng.integers(60, n - 90, size=args.spikes))
        wplan = plan_reads(n, min(args.chunk_size, n), peaks, 60, 90, mode="windows")
        run_e2e(wplan, f"windows ({args.spikes} spikes, {wplan.planned_frames / n:.1%} of file)", ring)

    width = max(len(k) for k in stages)
    print(f"\n{'stage':<{width}}  value   ({results['device']}, {total / 1e9:.3f} GB, "
          f"{nch} ch, chunk {args.chunk_size}, {args.num_slots} slots)")
    for k, v in stages.items():
        unit = "" if "(s)" in k else " GB/s"
        print(f"{k:<{width}}  {v:8.3f}{unit}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    if tmp is not None and not args.keep:
        tmp.cleanup()
    elif tmp is not None:
        print(f"kept {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
