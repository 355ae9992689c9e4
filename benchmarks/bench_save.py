"""Benchmark: save a W1 recording to binary and zarr with gpuspike and with SpikeInterface.

W1: generate_ground_truth_recording(durations=[60], sampling_frequency=30000, num_channels=384,
num_units=100, probe="neuropixels", dtype="int16", gain_to_uV=2.34375), first saved to a binary
folder so that both tools read the same file. Then each tool saves that folder to binary and to
zarr (default compressor: Blosc zstd 5, bit shuffle) with the same job kwargs, and the script
prints wall times, throughput and the gpuspike / SpikeInterface time ratios.

SpikeInterface runs in this process when importable, else in ``--si-python`` (default
``$GPUSPIKE_SI_PYTHON``: the python of an environment with spikeinterface 0.105 and zarr 2), else
is skipped.

Usage::

    python benchmarks/bench_save.py [--duration 60] [--n-jobs 1] [--chunk-duration 1s] [--workdir DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

SI_BENCH = textwrap.dedent('''
    import json, shutil, sys, time, warnings
    from pathlib import Path
    warnings.simplefilter("ignore")
    import spikeinterface.core as si
    source, workdir, job_kwargs = Path(sys.argv[1]), Path(sys.argv[2]), json.loads(sys.argv[3])
    rec = si.load(source)
    times = {}
    for fmt in ("binary", "zarr"):
        target = workdir / f"si_{fmt}"
        for p in (target, target.with_suffix(".zarr")):
            shutil.rmtree(p, ignore_errors=True)
        t0 = time.perf_counter()
        rec.save(folder=target, format=fmt, progress_bar=False, **job_kwargs)
        times[fmt] = time.perf_counter() - t0
    print("SI_TIMES " + json.dumps(times))
''')


def _run_si(source: Path, workdir: Path, job_kwargs: dict, si_python: str) -> dict | None:
    try:
        import spikeinterface  # noqa: F401

        cmd = [sys.executable, "-c", SI_BENCH]
    except ImportError:
        if not si_python or not Path(si_python).exists():
            print(f"SpikeInterface not importable and {si_python} missing: skipping the comparison")
            return None
        cmd = [si_python, "-c", SI_BENCH]
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
    res = subprocess.run(cmd + [str(source), str(workdir), json.dumps(job_kwargs)], capture_output=True, text=True,
                         env=env)
    if res.returncode:
        print("SpikeInterface run failed:\n" + res.stderr[-3000:])
        return None
    line = [ln for ln in res.stdout.splitlines() if ln.startswith("SI_TIMES ")][-1]
    return json.loads(line[len("SI_TIMES "):])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--chunk-duration", default="1s")
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--si-python", default=os.environ.get("GPUSPIKE_SI_PYTHON", ""),
                        help="python of an environment with SpikeInterface (default: $GPUSPIKE_SI_PYTHON)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()

    import gpuspike as gs

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="gpuspike_bench_save_"))
    workdir.mkdir(parents=True, exist_ok=True)
    job_kwargs = {"n_jobs": args.n_jobs, "chunk_duration": args.chunk_duration}
    print(f"workdir={workdir} job_kwargs={job_kwargs}")

    source = workdir / "w1_source"
    if not (source / "binary.json").is_file():
        t0 = time.perf_counter()
        rec, _ = gs.generate_ground_truth_recording(durations=[args.duration], sampling_frequency=30000.0,
                                                    num_channels=384, num_units=100, probe="neuropixels",
                                                    dtype="int16", gain_to_uV=2.34375, seed=0)
        shutil.rmtree(source, ignore_errors=True)
        rec.save(folder=source, progress_bar=False, **job_kwargs)
        print(f"generated W1 source ({args.duration:.0f} s) in {time.perf_counter() - t0:.1f} s")
    src = gs.load(source)
    nbytes = src.get_total_memory_size()
    print(f"source: {src}  ({nbytes / 1e9:.2f} GB)")

    gs_times = {}
    for fmt in ("binary", "zarr"):
        target = workdir / f"gs_{fmt}"
        for p in (target, target.with_name(target.name + ".zarr")):
            shutil.rmtree(p, ignore_errors=True)
        t0 = time.perf_counter()
        src.save(folder=target, format=fmt, progress_bar=False, **job_kwargs)
        gs_times[fmt] = time.perf_counter() - t0
    si_times = _run_si(source, workdir, job_kwargs, args.si_python)

    print(f"\n{'format':8s} {'gpuspike s':>11s} {'GB/s':>6s} {'SI s':>8s} {'GB/s':>6s} {'SI/gpuspike':>12s}")
    for fmt in ("binary", "zarr"):
        g = gs_times[fmt]
        line = f"{fmt:8s} {g:11.2f} {nbytes / g / 1e9:6.2f}"
        if si_times:
            s = si_times[fmt]
            line += f" {s:8.2f} {nbytes / s / 1e9:6.2f} {s / g:12.2f}"
        print(line)
    zarr_bytes = sum(f.stat().st_size for f in (workdir / "gs_zarr.zarr").rglob("*") if f.is_file())
    print(f"gpuspike zarr compression ratio: {nbytes / zarr_bytes:.2f}")
    if not args.keep and args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
