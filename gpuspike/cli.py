"""Command line: ``gpuspike demo | info | extract-waveforms | doctor``."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np


def _demo(args: argparse.Namespace) -> int:
    import gpuspike as gs
    from gpuspike.backends import get_backend

    backend = get_backend(args.backend)
    out = Path(args.output).absolute()
    print(f"gpuspike demo: backend {backend.name} ({backend.device_name})")
    print(f"generating a Neuropixels-like ground truth: {args.num_channels} channels, {args.num_units} units, "
          f"{args.duration:g} s at 30 kHz, int16 (seed {args.seed}) ...")
    generated, sorting = gs.generate_ground_truth_recording(
        durations=[args.duration], sampling_frequency=30000.0, num_channels=args.num_channels,
        num_units=args.num_units, probe="neuropixels", dtype="int16", gain_to_uV=2.34375,
        noise_kwargs={"noise_levels": 10.0}, generate_sorting_kwargs={"firing_rates": 5.0}, seed=args.seed)
    job_kwargs = dict(n_jobs=args.n_jobs, chunk_duration="1s", progress_bar=not args.no_progress,
                      backend=backend.name)
    num_bytes = generated.get_total_memory_size()
    recording = generated
    if not args.no_save:  # read from a file, as with a real recording
        t0 = time.perf_counter()
        recording = generated.save(folder=out / "recording", overwrite=True,
                                   **{k: v for k, v in job_kwargs.items() if k != "backend"})
        t_save = time.perf_counter() - t0
        print(f"saved the traces to {out / 'recording'} in {t_save:.2f} s")
    t_compile = _compile_kernels(recording, sorting, args.radius_um, job_kwargs)
    print(f"kernels compiled or loaded from numba's cache in {t_compile:.2f} s (timed apart from the jobs)")
    t0 = time.perf_counter()
    we = gs.extract_waveforms(recording, sorting, folder=out / "waveforms", sparse=True, method="radius",
                              radius_um=args.radius_um, max_spikes_per_unit=args.max_spikes_per_unit,
                              precompute_template=("average", "std"), overwrite=True, seed=args.seed, **job_kwargs)
    t_extract = time.perf_counter() - t0
    t0 = time.perf_counter()
    all_spikes = gs.compute_templates(recording, sorting, ms_before=1.0, ms_after=2.0, **job_kwargs)
    t_all = time.perf_counter() - t0
    estimated = all_spikes.get_all_templates(mode="average")
    truth = generated.templates[:, :estimated.shape[1]]  # the generated window (1 ms + 3 ms) is the longer one
    corr = [_template_correlation(estimated[i], truth[i]) for i in range(len(sorting.unit_ids))]
    num_spikes = sorting.count_total_num_spikes()
    mean_channels = we.sparsity.mask.sum(axis=1).mean()
    print()
    print(f"backend            : {backend.name} ({backend.device_name})")
    print(f"units / spikes     : {len(sorting.unit_ids)} / {num_spikes}")
    source = "generated on the fly" if args.no_save else "read from the binary file"
    print(f"traces             : {num_bytes / 1e6:.0f} MB, {source}")
    print(f"sparse extraction  : {t_extract:.2f} s for {args.max_spikes_per_unit} spikes/unit, "
          f"{mean_channels:.1f} channels/unit (radius {args.radius_um:g} um), sparsity estimate and folder "
          f"included -> {num_bytes / t_extract / 1e6:.0f} MB/s")
    print(f"templates, all spikes: {t_all:.2f} s (avg + std, no waveform stored) -> "
          f"{num_bytes / t_all / 1e6:.0f} MB/s")
    print(f"ground truth recovered: mean correlation {np.mean(corr):.3f} (min {np.min(corr):.3f})")
    print(f"output             : {we.folder}")
    if not args.no_plot:
        try:
            from gpuspike.widgets import plot_unit_templates

            widget = plot_unit_templates(we, unit_ids=we.unit_ids[:4])
            figure = getattr(widget, "figure", widget)
            png = out / "templates_on_probe.png"
            figure.savefig(png, dpi=80)
            print(f"figure             : {png}")
        except ImportError as err:
            print(f"figure skipped ({err})")
    return 0


def _compile_kernels(recording, sorting, radius_um: float, job_kwargs: dict) -> float:
    """Run both jobs on the first 0.2 s: numba compiles (first run) or loads (later runs) the kernels."""
    import gpuspike as gs

    t0 = time.perf_counter()
    end = min(recording.get_num_samples(0), int(0.2 * recording.sampling_frequency))
    small_recording = recording.frame_slice(0, end)
    small_sorting = sorting.frame_slice(0, end)
    quiet = dict(job_kwargs, progress_bar=False)
    gs.extract_waveforms(small_recording, small_sorting, mode="memory", sparse=True, method="radius",
                         radius_um=radius_um, max_spikes_per_unit=5, precompute_template=("average", "std"),
                         **quiet)
    gs.compute_templates(small_recording, small_sorting, **quiet)
    return time.perf_counter() - t0


def _template_correlation(estimated: np.ndarray, truth: np.ndarray) -> float:
    """Correlation on the channels where the true template reaches 10% of its peak."""
    peak = np.abs(truth).max(axis=0)
    channels = peak >= 0.1 * peak.max()
    return float(np.corrcoef(estimated[:, channels].ravel(), truth[:, channels].ravel())[0, 1])


def _info(args: argparse.Namespace) -> int:
    from gpuspike.info import describe

    print(describe(args.path))
    return 0


def _extract(args: argparse.Namespace) -> int:
    import gpuspike as gs
    from gpuspike.core.loading import load

    recording = load(args.recording)
    sorting = load(args.sorting)
    we = gs.extract_waveforms(recording, sorting, folder=args.output, max_spikes_per_unit=args.max_spikes_per_unit,
                              sparse=args.sparse, overwrite=args.overwrite, n_jobs=args.n_jobs,
                              backend=args.backend)
    print(we)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``gpuspike`` command."""
    parser = argparse.ArgumentParser(prog="gpuspike", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="generate a Neuropixels-like recording, extract sparse waveforms and templates")
    demo.add_argument("--duration", type=float, default=60.0, help="seconds (default 60)")
    demo.add_argument("--num-units", type=int, default=100)
    demo.add_argument("--num-channels", type=int, default=384)
    demo.add_argument("--max-spikes-per-unit", type=int, default=500)
    demo.add_argument("--radius-um", type=float, default=40.0)
    demo.add_argument("--backend", choices=("auto", "numpy", "cuda"), default="auto")
    demo.add_argument("--n-jobs", type=int, default=-1, help="workers (default -1: one per core)")
    demo.add_argument("--no-save", action="store_true",
                      help="extract from the lazily generated traces instead of saving them to a binary file first "
                           "(no disk used; the speed printed is then that of the generator)")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--output", default="gpuspike_demo_output", help="output folder")
    demo.add_argument("--no-progress", action="store_true")
    demo.add_argument("--no-plot", action="store_true")
    demo.set_defaults(func=_demo)
    info = sub.add_parser("info", help="describe a saved folder or file")
    info.add_argument("path")
    info.set_defaults(func=_info)
    ext = sub.add_parser("extract-waveforms", help="extract waveforms from saved recording and sorting folders")
    ext.add_argument("recording")
    ext.add_argument("sorting")
    ext.add_argument("output")
    ext.add_argument("--max-spikes-per-unit", type=int, default=500)
    ext.add_argument("--sparse", action="store_true")
    ext.add_argument("--overwrite", action="store_true")
    ext.add_argument("--n-jobs", type=int, default=1)
    ext.add_argument("--backend", choices=("auto", "numpy", "cuda"), default="auto")
    ext.set_defaults(func=_extract)
    from .doctor import build_parser as doctor_parser

    doctor = doctor_parser(sub.add_parser(
        "doctor", help="check the GPU stack, compile every CUDA kernel, run a tiny job on cuda and numpy"))
    doctor.set_defaults(func=_doctor)
    return parser


def _doctor(args: argparse.Namespace) -> int:
    from .doctor import main as doctor_main

    return doctor_main(args=args)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``gpuspike`` command."""
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
