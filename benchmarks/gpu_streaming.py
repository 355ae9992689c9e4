#!/usr/bin/env python
"""Throughput of gpuspike's own GPU path, stage by stage, for the library's jobs.

Jobs (the library's, through ``run_block_job``): templates (avg, std) of every spike; dense and
sparse waveforms of 500 spikes per unit; noise levels. For each, on a GPU:

    read     reader threads into pinned slots (bytes, summed reader time, GB/s)
    h2d      host -> device copies (bytes, time from CUDA timing events)
    kernels  each block's work on the compute stream (timing events)
    results  what comes back at the end (the job's wall time after the last block)
    overlap  share of the run during which a copy and a block's kernels ran at the same time

and the ceilings measured in the same run: sequential file read, pinned host -> device copy,
memcpy. Without a GPU (or with ``--host-only``) the host side of the pipeline is measured:
planning, reading into the ring's slots with the library's readers and threads, the jobs'
per-block Python (grouping spikes, argument checks), with the device steps replaced by no-ops —
a ceiling on GPU throughput that can be measured anywhere, in GB/s next to the memcpy bandwidth.

Examples
--------
    python benchmarks/gpu_streaming.py                          # 60 s of Neuropixels 1.0, GPU if present
    python benchmarks/gpu_streaming.py --seconds 20 --host-only # host side only (any machine)
    python benchmarks/gpu_streaming.py --seconds 3600 --folder /scratch/np1h   # the one-hour goal

The file is generated (or reused from ``--folder``) and read from the page cache unless
``--drop-cache`` is given (posix_fadvise DONTNEED).
"""
from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np


def gbps(nbytes: float, seconds: float) -> float:
    return nbytes / seconds / 1e9 if seconds > 0 else float("inf")


def make_folder(folder: Path, seconds: float, channels: int, units: int, rate: float):
    """A saved int16 binary folder and its sorting (reused when the folder exists)."""
    import gpuspike as gs

    recording, sorting = gs.generate_ground_truth_recording(
        durations=[seconds], sampling_frequency=30_000.0, num_channels=channels, num_units=units,
        probe="neuropixels", dtype="int16", gain_to_uV=2.34375, noise_kwargs={"noise_levels": 10.0},
        generate_sorting_kwargs={"firing_rates": rate}, seed=0)
    if not (folder / "binary.json").exists():
        recording.save(folder=folder, n_jobs=os.cpu_count() or 1, progress_bar=True)
    return gs.load_extractor(folder), sorting


def memcpy_gbps(nbytes: int) -> float:
    src = np.ones(nbytes // 8)
    dst = np.empty_like(src)
    np.copyto(dst, src)
    best = min(_timed(lambda: np.copyto(dst, src)) for _ in range(3))
    return gbps(src.nbytes, best)


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def file_read_gbps(path: Path) -> float:
    """Sequential preadv of the whole file into one 64 MB buffer."""
    buf = bytearray(64 << 20)
    mv = memoryview(buf)
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        t0 = time.perf_counter()
        off = 0
        while off < size:
            got = os.preadv(fd, [mv], off)
            if got <= 0:
                break
            off += got
        return gbps(off, time.perf_counter() - t0)
    finally:
        os.close(fd)


def drop_cache(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def jobs(recording, sorting, spikes_per_unit: int):
    """The library's jobs, as (name, job) built the way the public functions build them."""
    import gpuspike as gs
    from gpuspike.engine import AccumulateJob, GatherJob, NoiseJob
    from gpuspike.core.recording_tools import random_chunk_ranges

    fs = recording.sampling_frequency
    nbefore, nafter = int(fs / 1000), int(2 * fs / 1000)
    spikes = sorting.to_spike_vector()
    gains, offsets = recording._scaling(slice(None))
    num_units = sorting.get_num_units()
    selected = gs.core.random_spikes.select_random_spikes(sorting, spikes_per_unit, 0)
    sampled = spikes[selected]
    rows = np.empty(sampled.size, "int64")
    rows[np.argsort(sampled["unit_index"], kind="stable")] = np.arange(sampled.size)
    channels = recording.get_num_channels()
    locations = recording.get_channel_locations()
    sparse = np.full((num_units, 16), -1, "int64")
    for u in range(num_units):  # 16 channels around a channel per unit: a sparse gather of that width
        centre = locations[(u * 37) % channels]
        near = np.argsort(np.linalg.norm(locations - centre, axis=1), kind="stable")[:16]
        sparse[u] = np.sort(near)
    return [
        ("templates, every spike", AccumulateJob(spikes, num_units, nbefore, nafter, channels, gains, offsets)),
        (f"dense waveforms, {spikes_per_unit}/unit",
         GatherJob(sampled, rows, sampled.size, nbefore, nafter, channels, None, True, "float32")),
        (f"sparse waveforms (16 ch), {spikes_per_unit}/unit",
         GatherJob(sampled, rows, sampled.size, nbefore, nafter, 16, sparse, True, "float32")),
        ("noise levels", NoiseJob(random_chunk_ranges(recording, 20, 15000, 0), "mad", gains, offsets)),
    ]


class _NullKernels(SimpleNamespace):
    """Every kernel a no-op: the device's work is left out, the Python around it is kept."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def host_side(recording, job, config, num_readers: int) -> tuple[float, int, dict]:
    """Planning + reading into the ring's slots + the job's per-block Python, no device work."""
    from gpuspike.backends import get_backend
    from gpuspike.engine.blocks import plan_job_blocks
    from gpuspike.engine.budget import block_frames, bytes_per_frame_of, gpu_pipeline
    from gpuspike.engine.job import BlockData
    from gpuspike.streaming import RingBuffer, make_reader, stream_blocks

    numpy_backend = get_backend("numpy")

    def device_array(shape, dtype, stream=None):  # stands for device memory: a shape, no host pages
        return np.broadcast_to(np.zeros(1, dtype), shape)

    null = SimpleNamespace(asarray=lambda x, dtype=None, stream=None: x, to_host=numpy_backend.to_host,
                           empty=device_array, zeros=device_array, kernels=_NullKernels(), name="null",
                           is_device=True)
    t0 = time.perf_counter()
    bpf, selects = bytes_per_frame_of(recording)
    frames = block_frames(config, recording, gpu_pipeline(selects), bpf, job.state_bytes(recording.get_num_channels()),
                          max(1, job.nbefore + job.nafter))
    num_samples = [recording.get_num_samples(s) for s in range(recording.get_num_segments())]
    segments = plan_job_blocks(num_samples, frames, job.spikes, job.nbefore, job.nafter, job.plan_mode)
    t_plan = time.perf_counter() - t0
    job.prepare_output("device", null)
    ctx = job.init_worker(null, recording)
    state = job.start(ctx)
    planned = 0
    read_s = 0.0
    for sp in segments:
        if not sp.blocks:
            continue
        reader = make_reader(recording, sp.segment_index, prefer="pread")
        ring = RingBuffer(sp.plan.max_block_frames, reader.num_channels, reader.dtype, num_slots=4, device=False)
        with stream_blocks(recording, sp.segment_index, sp.plan, device=False, reader=reader, ring=ring,
                           num_readers=num_readers) as source:
            for read_block, traces in source:
                spec = sp.blocks[read_block.index]
                job.process(ctx, state, BlockData(spec.segment_index, traces, spec.positions, spec.peaks))
            read_s += source.stats.read_s
        planned += sp.plan.planned_bytes(reader.bytes_per_frame)
        reader.close()
    total = time.perf_counter() - t0
    return total, planned, {"plan_s": t_plan, "read_s": read_s, "blocks": sum(len(sp.blocks) for sp in segments)}


def _union(intervals):
    out = []
    for a, b in sorted(intervals):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return out


def _intersection(xs, ys) -> float:
    total, i, j = 0.0, 0, 0
    while i < len(xs) and j < len(ys):
        lo, hi = max(xs[i][0], ys[j][0]), min(xs[i][1], ys[j][1])
        total += max(0.0, hi - lo)
        if xs[i][1] < ys[j][1]:
            i += 1
        else:
            j += 1
    return total


def on_gpu(recording, job, config) -> dict:
    """Run ``job`` through the library's GPU path with timing events; per-stage figures."""
    from gpuspike.engine import run as run_module
    from gpuspike.engine.sources import RingSource

    captured = []
    original = RingSource.run

    def capture(self, *args, **kwargs):
        captured.append(self)
        return original(self, *args, **kwargs)

    RingSource.profile = True
    RingSource.run = capture
    try:
        t0 = time.perf_counter()
        run_module.run_block_job(job, recording, config)
        wall = time.perf_counter() - t0
    finally:
        RingSource.run = original
        RingSource.profile = False
    source = captured[0]
    copies = [c for st in source.stats for c in st.copy_events]
    base = copies[0][0] if copies else source.compute_events[0][0]
    span = lambda pair: (base.elapsed_time(pair[0]) / 1e3, base.elapsed_time(pair[1]) / 1e3)  # noqa: E731
    copy_iv = _union([span(c) for c in copies])
    kern_iv = _union([span(c) for c in source.compute_events])
    h2d_s = sum(b - a for a, b in copy_iv)
    kern_s = sum(b - a for a, b in kern_iv)
    device_end = max([b for _, b in copy_iv + kern_iv], default=0.0)
    return {"wall_s": wall, "read_bytes": sum(st.bytes_read for st in source.stats),
            "read_s": sum(st.read_s for st in source.stats), "h2d_bytes": sum(st.bytes_h2d for st in source.stats),
            "h2d_s": h2d_s, "kernels_s": kern_s, "overlap_s": _intersection(copy_iv, kern_iv),
            "device_span_s": device_end, "blocks": sum(st.blocks for st in source.stats)}


def pinned_h2d_gbps(nbytes: int) -> float:
    from numba import cuda

    host = cuda.pinned_array(nbytes, dtype=np.uint8)
    host[:] = 1
    dev = cuda.device_array(nbytes, dtype=np.uint8)
    stream = cuda.stream()
    dev.copy_to_device(host, stream=stream)
    stream.synchronize()
    t0 = time.perf_counter()
    for _ in range(5):
        dev.copy_to_device(host, stream=stream)
    stream.synchronize()
    return gbps(5 * nbytes, time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="recording length (default 60)")
    parser.add_argument("--channels", type=int, default=384, help="channels (default 384)")
    parser.add_argument("--units", type=int, default=100, help="units (default 100)")
    parser.add_argument("--rate", type=float, default=15.0, help="firing rate per unit, Hz (default 15)")
    parser.add_argument("--spikes-per-unit", type=int, default=500, help="sampled spikes per unit (default 500)")
    parser.add_argument("--chunk-duration", default="1s", help="block size (default 1s)")
    parser.add_argument("--num-readers", type=int, default=4, help="reader threads (default 4)")
    parser.add_argument("--folder", type=Path, default=None, help="keep the generated folder here (reused)")
    parser.add_argument("--host-only", action="store_true", help="only the host side, even with a GPU")
    parser.add_argument("--drop-cache", action="store_true", help="read from disk, not the page cache")
    args = parser.parse_args()

    from gpuspike.backends import cuda_status
    from gpuspike.core.job import resolve_job_kwargs

    status = cuda_status()
    gpu = status.usable and not status.simulator and not args.host_only
    tmp = None
    folder = args.folder
    if folder is None:
        tmp = Path(tempfile.mkdtemp(prefix="gpuspike_stream_bench_"))
        folder = tmp / "recording"
    try:
        recording, sorting = make_folder(folder, args.seconds, args.channels, args.units, args.rate)
        raw = Path(recording.get_binary_description()["file_paths"][0])
        size = raw.stat().st_size
        print(f"file: {size / 1e9:.2f} GB, {args.channels} ch x {args.seconds:g} s int16, {args.units} units at "
              f"{args.rate:g} Hz ({sorting.count_total_num_spikes()} spikes); device: "
              f"{status.device_name if gpu else 'none (host side only)'}")
        if args.drop_cache:
            drop_cache(raw)
        else:
            file_read_gbps(raw)  # into the page cache
        read_ceiling = file_read_gbps(raw)
        memcpy = memcpy_gbps(min(size, 1 << 30))
        print(f"ceilings: file read {read_ceiling:.1f} GB/s, memcpy {memcpy:.1f} GB/s"
              + (f", pinned h2d {pinned_h2d_gbps(256 << 20):.1f} GB/s" if gpu else ""))
        config = resolve_job_kwargs(backend="cuda" if gpu else "numpy", chunk_duration=args.chunk_duration,
                                    num_readers=args.num_readers, progress_bar=False)
        for name, job in jobs(recording, sorting, args.spikes_per_unit):
            if args.drop_cache:
                drop_cache(raw)
            if gpu:
                r = on_gpu(recording, job, config)
                print(f"{name:36s} wall {r['wall_s']:.3f} s = {gbps(size, r['wall_s']):.1f} GB/s of file | "
                      f"read {r['read_bytes'] / 1e9:.2f} GB in {r['read_s']:.3f} s (threads) | "
                      f"h2d {r['h2d_bytes'] / 1e9:.2f} GB in {r['h2d_s']:.3f} s "
                      f"({gbps(r['h2d_bytes'], r['h2d_s']):.1f} GB/s) | kernels {r['kernels_s']:.3f} s | "
                      f"overlap {r['overlap_s']:.3f} s ({100 * r['overlap_s'] / max(r['device_span_s'], 1e-9):.0f}% "
                      f"of the device span) | results {max(0.0, r['wall_s'] - r['device_span_s']):.3f} s | "
                      f"{r['blocks']} blocks")
            else:
                best = None
                for _ in range(3):
                    total, planned, info = host_side(recording, job, config, args.num_readers)
                    if best is None or total < best[0]:
                        best = (total, planned, info)
                total, planned, info = best
                print(f"{name:36s} host side {total:.3f} s: {gbps(planned, total):.2f} GB/s of {planned / 1e9:.2f} "
                      f"GB planned ({100 * gbps(planned, total) / memcpy:.0f}% of memcpy) | plan {info['plan_s']:.3f} "
                      f"s | reads {info['read_s']:.3f} s (threads) | {info['blocks']} blocks")
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
