"""Where the time of "templates of every spike" goes: the whole job, and the share of each step.

Builds the 15 Hz workload of ``compare_spikeinterface.py --workload si-defaults`` (60 s, 384
channels, 100 units, int16, saved to a binary folder; kept in ``--folder`` between runs, by default in
the system's temporary directory), warms the page cache, times ``gpuspike.compute_templates`` (avg and
std of every spike; best of ``--repeat``) with one and two jobs, then profiles one run with one job
(where every step runs in this thread) and prints the steps that take at least 1 % of it, with the
raw-moments kernel's rate in G window-samples / s::

    python benchmarks/profile_templates_job.py
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
import time
from pathlib import Path

import numpy as np


def workload(folder: Path):
    import gpuspike as gs

    if not (folder / "recording").is_dir():
        recording, sorting = gs.generate_ground_truth_recording(
            durations=[60.0], sampling_frequency=30000.0, num_channels=384, num_units=100, probe="neuropixels",
            dtype="int16", gain_to_uV=2.34375, noise_kwargs={"noise_levels": 10.0},
            generate_sorting_kwargs={"firing_rates": 15.0}, seed=0)
        recording.save(folder=folder / "recording", n_jobs=2, progress_bar=False)
        sorting.save(folder=folder / "sorting")
    return gs.load(folder / "recording"), gs.load(folder / "sorting")


def main() -> None:
    import gpuspike as gs

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", default=str(Path(tempfile.gettempdir()) / "gpuspike_profile_templates"))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    recording, sorting = workload(Path(args.folder))
    step = 300_000
    for start in range(0, recording.get_num_samples(), step):  # page cache
        recording.get_traces(start_frame=start, end_frame=min(start + step, recording.get_num_samples())).sum()
    for n_jobs in (1, 2):
        best = min(_timed(lambda: gs.compute_templates(recording, sorting, n_jobs=n_jobs, progress_bar=False))
                   for _ in range(args.repeat))
        print(f"compute_templates n_jobs={n_jobs}: {best:.3f} s (best of {args.repeat})")
    profile = cProfile.Profile()
    profile.enable()
    gs.compute_templates(recording, sorting, n_jobs=1, progress_bar=False)
    profile.disable()
    stats = pstats.Stats(profile).stats
    total = max(entry[3] for entry in stats.values())
    print(f"profile of one run, n_jobs=1 ({total:.3f} s): own time of each step >= 1 %")
    for (path, line, name), (_, _, own, _, _) in sorted(stats.items(), key=lambda kv: -kv[1][2]):
        if own >= 0.01 * total:
            print(f"  {own:7.3f} s {100 * own / total:5.1f} %  {name} ({Path(path).name}:{line})")
    kernel = sum(entry[2] for (path, _, name), entry in stats.items() if name == "_window_moments_njit")
    nsamples = int(1.0 * 30.0) + int(2.0 * 30.0)
    window_samples = sorting.to_spike_vector().size * nsamples * recording.get_num_channels()
    print(f"raw-moments kernel: {kernel:.3f} s for {window_samples / 1e9:.2f} G window-samples = "
          f"{window_samples / kernel / 1e9:.1f} G/s ({np.round(100 * kernel / total, 1)} % of the run)")


def _timed(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
