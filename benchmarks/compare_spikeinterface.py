"""Side by side with SpikeInterface on the W1 data: waveforms + templates (``extract_waveforms`` and
the SortingAnalyzer API, with and without the main channels given), the main-channel estimate of
``create_sorting_analyzer``, templates of every spike, noise levels, save.

W1: 384 channels, 30 kHz, int16, 60 s, 100 units, a binary folder in the page cache, 500 spikes
per unit, n_jobs=2, 1 s chunks. Both tools read the same binary file and sample the same spikes
(same seed, same selection rule). Prints a table of times and ratios, and a memory-bandwidth
floor measured in the same run (one pass over the traces at memcpy speed). Before each timed run
the page cache is re-warmed and a buffer the size of what the job allocates (the dense waveforms
for the waveform jobs) is touched and freed (see ``warm_up_for``: this takes out a VM artefact of
fresh memory, for both tools alike).

Before timing, it checks that both tools give the same results (the same sampled spikes,
templates, sparsity, noise levels within the spread of their random chunks, byte-identical
saved traces) and stops with the differences if not. The printed report is also written to
``benchmarks/compare_spikeinterface.txt`` (``compare_spikeinterface_si-defaults.txt`` for the other
workload; ``--output``), next to RESULTS.md.

``--workload si-defaults`` uses SpikeInterface's generator defaults instead of W1's 5 Hz: units
firing at 15 Hz (about 90 000 spikes in 60 s, so 500 spikes per unit are sampled), the traces
scaled to int16 as W1's.

Run it in an environment with both packages (``pip install -e ".[compare]"``)::

    python benchmarks/compare_spikeinterface.py            # W1
    python benchmarks/compare_spikeinterface.py --workload si-defaults
    python benchmarks/compare_spikeinterface.py --duration 10 --num-units 20   # quicker
"""
from __future__ import annotations

import argparse
import datetime
import gc
import hashlib
import platform
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np


def _timed_call(fn, before=None):
    """``(wall time, result)`` of one call of ``fn`` (``before`` runs untimed ahead of it)."""
    gc.collect()
    if before is not None:
        before()
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def _timeit(fn, repeat: int = 1, before=None):
    """Best wall time of ``repeat`` calls of ``fn`` (``before`` runs untimed ahead of each), and the
    last result."""
    best, result = np.inf, None
    for _ in range(repeat):
        result = None
        elapsed, result = _timed_call(fn, before)
        best = min(best, elapsed)
    return best, result


def _timeit_interleaved(fns: dict, repeat: int, before=None) -> dict:
    """Best wall time of each of ``fns`` over ``repeat`` rounds that call them in turn (``before``
    untimed ahead of each call): paths compared against each other meet the same machine state."""
    best = {name: np.inf for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            best[name] = min(best[name], _timed_call(fn, before)[0])  # the result is freed at once
    return best


def memcpy_bandwidth(num_bytes: int) -> float:
    """Bytes per second of a large in-memory copy (one read + one write of each byte)."""
    src = np.ones(num_bytes // 8, dtype="float64")
    dst = np.empty_like(src)
    np.copyto(dst, src)
    t, _ = _timeit(lambda: np.copyto(dst, src), repeat=3)
    return src.nbytes / t


def _si_scaled_kwarg(si) -> dict:
    names = si.get_noise_levels.__code__.co_varnames
    return {"return_in_uV": True} if "return_in_uV" in names else {"return_scaled": True}


#: firing rate of every unit, per workload
WORKLOAD_RATES = {"w1": 5.0, "si-defaults": 15.0}


def make_w1(folder: Path, duration: float, num_units: int, seed: int, rate: float = 5.0):
    import gpuspike as gs

    recording, sorting = gs.generate_ground_truth_recording(
        durations=[duration], sampling_frequency=30000.0, num_channels=384, num_units=num_units,
        probe="neuropixels", dtype="int16", gain_to_uV=2.34375, noise_kwargs={"noise_levels": 10.0},
        generate_sorting_kwargs={"firing_rates": rate}, seed=seed)
    recording.save(folder=folder / "w1", n_jobs=2, progress_bar=False)
    spikes = sorting.to_spike_vector()
    return spikes, sorting.unit_ids


def run(args) -> list[tuple[str, float, float, float]]:
    import gpuspike as gs
    import spikeinterface.core as si

    tmp = Path(tempfile.mkdtemp(prefix="gpuspike_bench_"))
    rows, report = [], []
    try:
        spikes, unit_ids = make_w1(tmp, args.duration, args.num_units, args.seed, WORKLOAD_RATES[args.workload])
        gs_rec = gs.load_extractor(tmp / "w1")
        si_rec = si.load(tmp / "w1") if hasattr(si, "load") else si.load_extractor(tmp / "w1")
        gs_sorting = gs.NumpySorting.from_spike_vector(spikes, 30000.0, unit_ids)
        si_sorting = si.NumpySorting(spikes, 30000.0, unit_ids)
        traces_bytes = gs_rec.get_total_memory_size()

        def warm_page_cache():  # W1 reads from the page cache: re-warm it after the other tool's run
            step, total = 300_000, gs_rec.get_num_samples()  # 10 s at a time: little memory of its own
            for start in range(0, total, step):
                gs_rec.get_traces(start_frame=start, end_frame=min(start + step, total), return_scaled=False).sum()

        warm_page_cache()
        per_unit = np.bincount(spikes["unit_index"], minlength=len(unit_ids))
        window = int(1.0 * gs_rec.sampling_frequency / 1000) + int(2.0 * gs_rec.sampling_frequency / 1000)
        dense_bytes = int(np.minimum(per_unit, args.max_spikes_per_unit).sum()) * window * gs_rec.get_num_channels() * 4

        # what the jobs without waveforms allocate at most: both tools' per-worker sums and sums of
        # squares (float64 / int64) of every unit's window, and the mean and std they return
        job_bytes = (2 * args.n_jobs + 2) * len(unit_ids) * window * gs_rec.get_num_channels() * 8

        def warm_up_for(num_bytes: int):
            """Before a run: the page cache warm, and a buffer of ``num_bytes`` (what the job will
            allocate) touched and freed.

            In a VM with free-page reporting (this sandbox), memory freed for a few seconds goes
            back to the host and costs ~1 s/GB to touch again (0.05 s/GB when touched again at
            once). Recycling the memory right before each run takes that artefact out for both
            tools alike. The buffer has the size of what the job allocates: a larger one leaves
            the VM reporting the rest back to the host during the run (the 60 s templates of every
            spike took 0.38-0.55 s after a 7 GB buffer, 0.28-0.37 s after none).
            """
            def warm_up():
                warm_page_cache()
                buffer = np.empty(num_bytes // 8)
                buffer[::512] = 1.0
                del buffer
            return warm_up

        warm_up, warm_up_small = warm_up_for(dense_bytes), warm_up_for(job_bytes)
        bandwidth = memcpy_bandwidth(min(traces_bytes, 2_000_000_000))
        job = dict(n_jobs=args.n_jobs, chunk_duration="1s", progress_bar=False)

        def si_analyzer(sparse):
            sparsity_kwargs = dict(method="radius", radius_um=40.0) if sparse else None
            analyzer = si.create_sorting_analyzer(si_sorting, si_rec, format="memory", sparse=sparse,
                                                  sparsity_kwargs=sparsity_kwargs, job_kwargs=job, seed=args.seed)
            analyzer.compute("random_spikes", max_spikes_per_unit=args.max_spikes_per_unit, seed=args.seed)
            analyzer.compute("waveforms", ms_before=1.0, ms_after=2.0, **job)
            analyzer.compute("templates", operators=["average", "std"])
            return analyzer

        def gs_analyzer(sparse, sorting=gs_sorting):
            """Today's SpikeInterface API on gpuspike, as the issue's users write it."""
            sparsity_kwargs = dict(method="radius", radius_um=40.0) if sparse else None
            analyzer = gs.create_sorting_analyzer(sorting, gs_rec, format="memory", sparse=sparse,
                                                  sparsity_kwargs=sparsity_kwargs, job_kwargs=job, seed=args.seed,
                                                  backend=args.backend)
            analyzer.compute(["random_spikes", "waveforms", "templates"],
                             extension_params={"random_spikes": {"max_spikes_per_unit": args.max_spikes_per_unit,
                                                                 "seed": args.seed}}, **job)
            return analyzer

        def gs_extract(sparse):
            kwargs = dict(sparse=True, method="radius", radius_um=40.0) if sparse else dict(sparse=False)
            return gs.extract_waveforms(gs_rec, gs_sorting, mode="memory", max_spikes_per_unit=args.max_spikes_per_unit,
                                        precompute_template=("average", "std"), seed=args.seed, backend=args.backend,
                                        **kwargs, **job)

        # compile the kernels once (numba JIT), outside the timings; check agreement (one tool's
        # buffers in memory at a time)
        for sparse in (False, True):
            ours = summary_of_extraction(gs_extract(sparse))
            check_waveforms_agree(ours, summary_of_analyzer(si_analyzer(sparse)), sparse, report)
        for sparse in (False, True):
            ours = summary_of_analyzer(gs_analyzer(sparse))
            check_analyzers_agree(ours, summary_of_analyzer(si_analyzer(sparse)), sparse, report)
        # what create_sorting_analyzer adds to the analyzer path (SpikeInterface 0.105 does it too)
        from gpuspike.core.template_tools import estimate_main_channel_from_recording as gs_main_channels
        from spikeinterface.core.template_tools import estimate_main_channel_from_recording as si_main_channels

        main_kwargs = dict(peak_sign="neg", peak_mode="extremum", num_spikes_for_main_channel=100, seed=args.seed)
        gs_main = gs_main_channels(gs_rec, gs_sorting, backend=args.backend, **main_kwargs, **job)
        si_main = si_main_channels(si_rec, si_sorting, **main_kwargs, **job)
        report.append(f"main channels differ on {int(np.sum(np.asarray(gs_main) != np.asarray(si_main)))} of "
                      f"{len(gs_main)} units")
        t_gs, _ = _timeit(lambda: gs_main_channels(gs_rec, gs_sorting, backend=args.backend, **main_kwargs, **job),
                          args.repeat, warm_up_small)
        t_si, _ = _timeit(lambda: si_main_channels(si_rec, si_sorting, **main_kwargs, **job), args.repeat,
                          warm_up_small)
        main_row = ("main channels (create_sorting_analyzer)", t_gs, t_si, traces_bytes / bandwidth)
        # the analyzer path when the sorting already carries its main channels (no estimate)
        gs_sorting_main = gs.NumpySorting.from_spike_vector(spikes, 30000.0, unit_ids)
        gs_sorting_main.set_property("main_channel_id", np.asarray(gs_rec.channel_ids)[np.asarray(gs_main)])
        analyzer_vs_extract = []
        for label, sparse in (("waveforms+templates dense", False), ("waveforms+templates sparse r=40um", True)):
            we = gs_extract(sparse)
            out_bytes = sum(np.asarray(we.get_waveforms(u)).nbytes for u in we.unit_ids)
            del we
            # gpuspike's two APIs against each other: in turn, more rounds (their gap is ~10 %)
            paths = {"extract": lambda: gs_extract(sparse), "analyzer": lambda: gs_analyzer(sparse),
                     "given": lambda: gs_analyzer(sparse, gs_sorting_main)}
            best = _timeit_interleaved(paths, args.analyzer_repeat, warm_up)
            t_gs, t_an, t_given = best["extract"], best["analyzer"], best["given"]
            t_si, analyzer = _timeit(lambda: si_analyzer(sparse), args.repeat, warm_up)
            del analyzer
            # floor: read the traces once, write the waveforms once, at memcpy speed
            rows.append((label, t_gs, t_si, (traces_bytes + out_bytes) / bandwidth))
            rows.append(("  same, SortingAnalyzer API", t_an, t_si, (traces_bytes + out_bytes) / bandwidth))
            rows.append(("  same, main channels given", t_given, t_si, (traces_bytes + out_bytes) / bandwidth))
            analyzer_vs_extract.append(f"{'sparse' if sparse else 'dense'} {t_an / t_gs:.2f} "
                                       f"({t_given / t_gs:.2f} with the main channels given)")
        rows.append(main_row)
        # templates (avg, std) of every spike, no waveform stored: SpikeInterface's accumulator
        from spikeinterface.core.waveform_tools import estimate_templates_with_accumulator

        fs = gs_rec.sampling_frequency
        nbefore, nafter = int(1.0 * fs / 1000.0), int(2.0 * fs / 1000.0)
        check_close("templates of all spikes (average)",
                    gs.compute_templates(gs_rec, gs_sorting, backend=args.backend, **job).get_all_templates(),
                    estimate_templates_with_accumulator(si_rec, spikes, unit_ids, nbefore, nafter, return_std=True,
                                                       **_si_scaled_kwarg(si), **job)[0], report)
        t_gs, _ = _timeit(lambda: gs.compute_templates(gs_rec, gs_sorting, backend=args.backend, **job), args.repeat,
                          warm_up_small)
        t_si, _ = _timeit(lambda: estimate_templates_with_accumulator(
            si_rec, spikes, unit_ids, nbefore, nafter, return_std=True, **_si_scaled_kwarg(si),
            **job), args.repeat, warm_up_small)
        rows.append(("templates of all spikes (avg, std)", t_gs, t_si, traces_bytes / bandwidth))
        check_noise_levels(gs.get_noise_levels(gs_rec, force_recompute=True),
                           si.get_noise_levels(si_rec, force_recompute=True, **_si_scaled_kwarg(si)), report)
        t_gs, _ = _timeit(lambda: gs.get_noise_levels(gs_rec, force_recompute=True), args.repeat,
                          warm_up_small)
        t_si, _ = _timeit(lambda: si.get_noise_levels(si_rec, force_recompute=True, **_si_scaled_kwarg(si)),
                          args.repeat, warm_up_small)
        chunk_bytes = 20 * int(0.5 * gs_rec.sampling_frequency) * gs_rec.get_num_channels() * 2  # 20 chunks of 500 ms
        rows.append(("noise levels", t_gs, t_si, chunk_bytes / bandwidth))
        # node pipeline (SpikeInterface's postprocessing machinery): per-spike amplitudes, sparse waveforms
        from gpuspike.core import node_pipeline as gs_pipeline
        from spikeinterface.core import node_pipeline as si_pipeline

        for sorting in (gs_sorting, si_sorting):
            sorting.set_property("main_channel_id", np.asarray(gs_rec.channel_ids)[np.asarray(gs_main)])
        frame_bytes = gs_rec.get_num_channels() * 2
        for label, which, floor_bytes in (  # floor: what must be read, one spike frame / a cache line per window row
                ("node pipeline: amplitudes r=50um", "amplitudes", spikes.size * frame_bytes),
                ("node pipeline: sparse waveforms r=40um", "sparse", spikes.size * window * 64)):
            runs = {name: (lambda lib=lib, rec=rec, sorting=sorting: run_pipeline(lib, rec, sorting, which, job))
                    for name, lib, rec, sorting in (("gs", gs_pipeline, gs_rec, gs_sorting),
                                                    ("si", si_pipeline, si_rec, si_sorting))}
            check_close(label, runs["gs"](), runs["si"](), report, rtol=0, atol=0)
            t_gs, _ = _timeit(runs["gs"], args.repeat, warm_up_small)
            t_si, _ = _timeit(runs["si"], args.repeat, warm_up_small)
            rows.append((label, t_gs, t_si, floor_bytes / bandwidth))
        t_gs, _ = _timeit(lambda: gs_rec.save(folder=tmp / "gs_save", overwrite=True, **job), args.repeat,
                          warm_up_small)
        t_si, _ = _timeit(lambda: si_rec.save(folder=tmp / "si_save", overwrite=True, **job), args.repeat,
                          warm_up_small)
        rows.append(("save binary", t_gs, t_si, 2 * traces_bytes / bandwidth))
        check_saved_traces_equal(tmp / "gs_save", tmp / "si_save", report)
        options = " ".join(f"--{key.replace('_', '-')} {value}" for key, value in vars(args).items() if key != "output")
        lines = [f"compare_spikeinterface.py {options}",
                 f"date: {datetime.datetime.now().isoformat(timespec='seconds')}; machine: {platform.node()} "
                 f"({platform.processor() or platform.machine()}), gpuspike {gs.__version__}, "
                 f"spikeinterface {si.__version__ if hasattr(si, '__version__') else _si_version()}",
                 f"{args.workload} ({WORKLOAD_RATES[args.workload]:g} Hz units): 384 ch x {args.duration:g} s int16 "
                 f"({traces_bytes / 1e9:.2f} GB), {args.num_units} units, "
                 f"{args.max_spikes_per_unit} spikes/unit, n_jobs={args.n_jobs}, backend={args.backend}, "
                 f"best of {args.repeat} runs per tool (page cache re-warmed and {dense_bytes / 1e9:.1f} GB recycled before "
                 f"each waveform job, {job_bytes / 1e9:.2f} GB before the others; gpuspike's two APIs: "
                 f"best of {args.analyzer_repeat} rounds in turn)",
                 f"memcpy bandwidth: {bandwidth / 1e9:.1f} GB/s; floor = bytes the job must read + write / bandwidth",
                 "outputs agree: " + "; ".join(report),
                 "gpuspike SortingAnalyzer path / extract_waveforms: " + ", ".join(analyzer_vs_extract),
                 f"{'job':38s} {'gpuspike s':>11s} {'SI s':>9s} {'floor s':>9s} {'SI/gpuspike':>12s} "
                 f"{'gpuspike/floor':>15s}"]
        lines += [f"{label:38s} {t_gs:11.3f} {t_si:9.3f} {floor:9.3f} {t_si / t_gs:12.1f} {t_gs / floor:15.1f}"
                  for label, t_gs, t_si, floor in rows]
        text = "\n".join(lines) + "\n"
        print("\n" + text, end="")
        if args.output:
            Path(args.output).write_text(text)
            print(f"written to {args.output}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return rows


def run_pipeline(pipeline, recording, sorting, which: str, job: dict) -> np.ndarray:
    """A node pipeline of one library (its own module ``pipeline``): each spike's amplitude on the
    channel of its extremum within 50 um ("amplitudes"), or the root mean square over time of its
    sparse waveform, radius 40 um ("sparse")."""

    class Amplitude(pipeline.PipelineNode):
        def get_dtype(self):
            return np.dtype("float64")

        def compute(self, traces, peaks):
            return peaks["amplitude"].astype("float64")

    class Rms(pipeline.PipelineNode):
        def get_dtype(self):
            return np.dtype("float32")

        def compute(self, traces, peaks, waveforms):
            return np.sqrt(np.mean(np.square(waveforms, dtype="float32"), axis=1))

    if which == "amplitudes":
        source = pipeline.SpikeRetriever(sorting, recording, channel_from_template=False, radius_um=50)
        nodes = [source, Amplitude(recording, parents=[source])]
    else:
        source = pipeline.SpikeRetriever(sorting, recording)
        waveforms = pipeline.ExtractSparseWaveforms(recording, parents=[source], ms_before=1.0, ms_after=2.0,
                                                    radius_um=40)
        nodes = [source, waveforms, Rms(recording, parents=[source, waveforms])]
    return pipeline.run_node_pipeline(recording, nodes, job)


def _si_version() -> str:
    import spikeinterface

    return spikeinterface.__version__


# ---------------------------------------------------------------------------------- agreement checks
def check_close(what: str, ours, theirs, report: list, rtol: float = 1e-4, atol: float = 1e-3) -> None:
    """Stop unless the arrays agree (µV: ``atol`` absolute plus ``rtol`` relative)."""
    ours, theirs = np.asarray(ours, "float64"), np.asarray(theirs, "float64")
    if ours.shape != theirs.shape:
        raise AssertionError(f"{what}: shapes differ, gpuspike {ours.shape} vs SpikeInterface {theirs.shape}")
    diff = float(np.max(np.abs(ours - theirs), initial=0.0))
    if not np.allclose(ours, theirs, rtol=rtol, atol=atol):
        raise AssertionError(f"{what}: the tools disagree (max difference {diff:.3g})")
    report.append(f"{what} max diff {diff:.1e}")


def summary_of_extraction(we) -> dict:
    """What the agreement checks need of a gpuspike WaveformExtractor (its buffers are then freed)."""
    return {"selected": np.asarray(we._selected_indices), "mask": None if we.sparsity is None else we.sparsity.mask,
            "average": we.get_all_templates(mode="average"), "std": we.get_all_templates(mode="std")}


def summary_of_analyzer(analyzer) -> dict:
    """The same of a SortingAnalyzer (either tool), with a digest of its waveforms buffer: both tools'
    dense buffers together would not fit in memory at 15 Hz (2 x 6.9 GB and their peaks)."""
    templates = analyzer.get_extension("templates")
    waveforms = np.ascontiguousarray(analyzer.get_extension("waveforms").get_data())
    digest = (waveforms.shape, waveforms.dtype.str, hashlib.sha1(waveforms.reshape(-1).view(np.uint8)).hexdigest())
    return {"selected": np.asarray(analyzer.get_extension("random_spikes").get_data()),
            "mask": None if analyzer.sparsity is None else analyzer.sparsity.mask,
            "average": templates.get_data(operator="average"), "std": templates.get_data(operator="std"),
            "waveforms": digest}


def check_waveforms_agree(ours: dict, theirs: dict, sparse: bool, report: list) -> None:
    """Same sampled spikes, same sparsity, same average and std templates (summaries of both tools)."""
    label = "sparse" if sparse else "dense"
    if not np.array_equal(ours["selected"], theirs["selected"]):
        raise AssertionError(f"{label}: the tools sampled different spikes")
    shared = np.ones(ours["average"].shape[:1] + (1,) + ours["average"].shape[2:], dtype=bool)
    if sparse:  # each tool estimates its sparsity from its own random spikes: a unit near a tie may differ
        differ = ours["mask"] != theirs["mask"]
        if differ.sum() > 0.01 * differ.size:
            raise AssertionError(f"{label}: sparsity masks differ on {int(differ.sum())} of {differ.size}")
        report.append(f"sparsity masks differ on {int(differ.sum())} of {differ.size} unit-channel pairs "
                      f"({int(differ.any(axis=1).sum())} units; templates compared where both keep the channel)")
        shared = (ours["mask"] & theirs["mask"])[:, None, :]
    for mode in ("average", "std"):
        check_close(f"{label} {mode}", np.where(shared, ours[mode], 0.0), np.where(shared, theirs[mode], 0.0),
                    report)


def check_noise_levels(ours, theirs, report: list) -> None:
    """Noise levels come from random chunks: each tool draws its own, so they agree within 10%."""
    ratio = np.asarray(ours, "float64") / np.asarray(theirs, "float64")
    if not np.all(np.abs(ratio - 1.0) < 0.10):
        raise AssertionError(
            f"noise levels: ratios gpuspike / SpikeInterface in [{ratio.min():.3f}, {ratio.max():.3f}]")
    report.append(f"noise levels within {100 * float(np.max(np.abs(ratio - 1))):.1f}%")


def check_analyzers_agree(ours: dict, theirs: dict, sparse: bool, report: list) -> None:
    """Same random spikes, same sparsity, waveforms and templates equal (the analyzer API of both tools)."""
    kind = "sparse" if sparse else "dense"
    np.testing.assert_array_equal(ours["selected"], theirs["selected"])
    differ = 0
    if sparse:
        differ = int(np.sum(ours["mask"] != theirs["mask"]))
        report.append(f"analyzer {kind} sparsity masks differ on {differ} unit-channel pairs")
    if differ == 0:
        if ours["waveforms"] != theirs["waveforms"]:
            raise AssertionError(f"analyzer {kind}: waveforms differ (shape, dtype, sha1: {ours['waveforms']} vs "
                                 f"{theirs['waveforms']})")
        report.append(f"analyzer {kind} waveforms identical")
    check_close(f"analyzer {kind} average", ours["average"], theirs["average"], report)


def check_saved_traces_equal(ours: Path, theirs: Path, report: list) -> None:
    """Both saved binary folders hold the same bytes of traces."""
    a, b = sorted(ours.glob("traces_cached_seg*.raw")), sorted(theirs.glob("traces_cached_seg*.raw"))
    if not a or [p.name for p in a] != [p.name for p in b]:
        raise AssertionError(
            f"saved folders list different trace files: {[p.name for p in a]} vs {[p.name for p in b]}")
    for x, y in zip(a, b):
        if x.read_bytes() != y.read_bytes():
            raise AssertionError(f"saved traces differ: {x.name}")
    report.append("saved traces byte-identical")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workload", choices=sorted(WORKLOAD_RATES), default="w1",
                        help="w1: units at 5 Hz; si-defaults: SpikeInterface's generator rate, 15 Hz (default: w1)")
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--num-units", type=int, default=100)
    parser.add_argument("--max-spikes-per-unit", type=int, default=500)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--backend", default="numpy", choices=("numpy", "cuda", "auto"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs per tool and job")
    parser.add_argument("--analyzer-repeat", type=int, default=5,
                        help="rounds of gpuspike's extract_waveforms and SortingAnalyzer paths timed in turn")
    parser.add_argument("--output", default=None,
                        help="file for the report; '' to skip (default: next to RESULTS.md, compare_spikeinterface"
                             ".txt for w1, compare_spikeinterface_si-defaults.txt for si-defaults)")
    args = parser.parse_args()
    if args.output is None:
        suffix = "" if args.workload == "w1" else f"_{args.workload}"
        args.output = str(Path(__file__).resolve().parent / f"compare_spikeinterface{suffix}.txt")
    run(args)


if __name__ == "__main__":
    main()
