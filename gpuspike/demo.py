"""``gpuspike demo``: a Neuropixels-like ground truth, sparse waveforms and templates, speed and accuracy.

Says what it does before doing it. The recording it generates is saved once in the output folder
(with its sorting and true templates) and reused by later runs with the same settings; the
kernels are compiled once per machine (numba caches them per user). Speeds are honest: the bytes
each job actually read (counted by the operating system for this process) are printed next to
the size of the file.
"""
from __future__ import annotations

import dataclasses
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Callable

import numpy as np

#: the settings a saved demo recording was made with; a different one is generated again
_RECORDING_KEYS = ("duration", "num_units", "num_channels", "seed")
_MARKER = "demo_recording.json"
_FIGURE_UNITS = 4


@dataclasses.dataclass(frozen=True)
class DemoSettings:
    """What ``gpuspike demo`` runs (its command-line flags)."""

    duration: float = 60.0
    num_units: int = 100
    num_channels: int = 384
    max_spikes_per_unit: int = 500
    radius_um: float = 40.0
    seed: int = 0
    output: Path = Path("gpuspike_demo_output")
    regenerate: bool = False
    save: bool = True
    plot: bool = True
    job_kwargs: dict = dataclasses.field(default_factory=lambda: {"n_jobs": -1, "progress_bar": True})


def run_demo(settings: DemoSettings, say: Callable[[str], None] = print) -> dict:
    """Run the demo; print each step before it runs, then a summary.

    Parameters
    ----------
    settings : DemoSettings
        What to generate and how to run the jobs.
    say : callable
        Prints one line (default :func:`print`).

    Returns
    -------
    dict
        The summary figures: ``units``, ``spikes``, ``correlation`` (mean), ``file_bytes``,
        ``extract`` and ``templates`` (each with ``seconds`` and ``bytes_read``), ``reused``
        (whether the saved recording was reused), ``folder`` and ``figure`` (paths or None).
    """
    import gpuspike as gs
    from gpuspike.backends import get_backend

    backend = get_backend(settings.job_kwargs.get("backend", "auto"))
    job_kwargs = dict(settings.job_kwargs, backend=backend.name)
    out = Path(settings.output).absolute()
    say(f"gpuspike demo: backend {backend.name} ({backend.device_name})")
    recording, sorting, truth, reused = _recording(settings, out, job_kwargs, say)
    file_bytes = recording.get_total_memory_size()

    _compile_kernels(recording, sorting, settings.radius_um, job_kwargs, backend, say)

    say(f"extracting sparse waveforms: {settings.max_spikes_per_unit} spikes per unit, channels within "
        f"{settings.radius_um:g} um of each unit's peak (sparsity estimated first) ...")
    with _ReadCounter() as extract_read:
        t0 = time.perf_counter()
        we = gs.extract_waveforms(recording, sorting, folder=out / "waveforms", sparse=True, method="radius",
                                  radius_um=settings.radius_um, max_spikes_per_unit=settings.max_spikes_per_unit,
                                  precompute_template=("average", "std"), overwrite=True, seed=settings.seed,
                                  **job_kwargs)
        t_extract = time.perf_counter() - t0
    say("computing the mean and std templates of every spike, keeping no waveform ...")
    with _ReadCounter() as templates_read:
        t0 = time.perf_counter()
        all_spikes = gs.compute_templates(recording, sorting, ms_before=1.0, ms_after=2.0, **job_kwargs)
        t_templates = time.perf_counter() - t0

    estimated = all_spikes.get_all_templates(mode="average")
    correlations = [_template_correlation(estimated[i], truth[i]) for i in range(len(sorting.unit_ids))]
    num_spikes = int(sorting.count_total_num_spikes())
    num_waveforms = sum(int(v.shape[0]) for v in (we.get_waveforms(u) for u in we.unit_ids))
    from_file = settings.save
    say("")
    say(f"backend            : {backend.name} ({backend.device_name})")
    say(f"units / spikes     : {len(sorting.unit_ids)} / {num_spikes}")
    say(f"traces             : {_mb(file_bytes)} MB, " + (f"binary file in {out / 'recording'}" +
                                                          (" (reused)" if reused else "")
                                                          if from_file else "generated on the fly (no file)"))
    say(f"sparse extraction  : {t_extract:.2f} s for {num_waveforms} waveforms ({num_waveforms / t_extract:,.0f}/s), "
        f"{we.sparsity.mask.sum(axis=1).mean():.1f} channels/unit; "
        + _read_text(extract_read.bytes, file_bytes, t_extract, from_file))
    say(f"templates, all spikes: {t_templates:.2f} s for {num_spikes} spikes ({num_spikes / t_templates:,.0f}/s), "
        "avg + std, no waveform stored; " + _read_text(templates_read.bytes, file_bytes, t_templates, from_file))
    say(f"ground truth recovered: mean correlation {np.mean(correlations):.3f} (min {np.min(correlations):.3f})")
    say(f"output             : {we.folder}")
    figure = _draw_figure(we, out, say) if settings.plot else None
    return {"units": len(sorting.unit_ids), "spikes": num_spikes, "correlation": float(np.mean(correlations)),
            "file_bytes": int(file_bytes), "reused": reused, "folder": we.folder, "figure": figure,
            "extract": {"seconds": t_extract, "bytes_read": extract_read.bytes},
            "templates": {"seconds": t_templates, "bytes_read": templates_read.bytes}}


# ------------------------------------------------------------------------------------- recording
def _recording(settings: DemoSettings, out: Path, job_kwargs: dict, say) -> tuple:
    """(recording, sorting, true templates, reused): the saved one when it matches, else a new one."""
    import gpuspike as gs

    wanted = {k: getattr(settings, k) for k in _RECORDING_KEYS}
    marker = out / _MARKER
    description = (f"{settings.num_channels} channels, {settings.num_units} units, {settings.duration:g} s at "
                   f"30 kHz, int16 (seed {settings.seed})")
    complete = marker.is_file() and all((out / name).exists() for name in
                                        ("recording", "sorting", "ground_truth_templates.npy"))
    if settings.save and complete and not settings.regenerate:
        saved = json.loads(marker.read_text())
        if saved == wanted:
            say(f"reusing the recording saved in {out} ({description}; --regenerate makes it again)")
            recording, sorting = gs.load(out / "recording"), gs.load(out / "sorting")
            return recording, sorting, np.load(out / "ground_truth_templates.npy"), True
        say(f"the recording saved in {out} was made with other settings ({saved}): generating a new one")
    say(f"generating a Neuropixels-like ground truth: {description} ...")
    generated, sorting = gs.generate_ground_truth_recording(
        durations=[settings.duration], sampling_frequency=30000.0, num_channels=settings.num_channels,
        num_units=settings.num_units, probe="neuropixels", dtype="int16", gain_to_uV=2.34375,
        noise_kwargs={"noise_levels": 10.0}, generate_sorting_kwargs={"firing_rates": 5.0}, seed=settings.seed)
    truth = np.asarray(generated.templates)
    if not settings.save:
        return generated, sorting, truth, False
    out.mkdir(parents=True, exist_ok=True)
    marker.unlink(missing_ok=True)  # written again last, once everything below is complete
    say(f"saving the traces ({_mb(generated.get_total_memory_size())} MB) to {out / 'recording'}, once: later runs "
        "read this file, as with a real rig ...")
    save_kwargs = {k: v for k, v in job_kwargs.items() if k != "backend"}
    recording = generated.save(folder=out / "recording", overwrite=True, **save_kwargs)
    sorting = sorting.save(folder=out / "sorting", overwrite=True)
    np.save(out / "ground_truth_templates.npy", truth)
    tmp = marker.with_suffix(".tmp")
    tmp.write_text(json.dumps(wanted))
    os.replace(tmp, marker)
    return recording, sorting, truth, False


# ------------------------------------------------------------------------------------- kernels
def _compile_kernels(recording, sorting, radius_um: float, job_kwargs: dict, backend, say) -> float:
    """Run both jobs on one spike of every unit, so that compiling (first run) is not timed with the jobs."""
    import gpuspike as gs
    import numba

    from gpuspike.kernels._cache import installation_cache_dir, kernel_cache_dir

    cache = Path(kernel_cache_dir())
    # written once the demo's kernels compiled for this installation (numba recompiles after an upgrade)
    marker = Path(installation_cache_dir()) / "demo-kernels-compiled.txt"
    cached = backend.kernels_cached_on_disk and marker.is_file() and marker.read_text() == numba.__version__
    if cached:
        message = f"loading the compiled kernels from {cache} ..."
    elif backend.kernels_cached_on_disk:
        message = f"compiling kernels for this machine, once, ~30 s (numba caches them in {cache}) ..."
    else:
        message = "compiling the CUDA kernels for this GPU (each run) ..."
    # the first spike of every unit, on the recording itself: the kernels compile for the traces the
    # timed jobs read (a saved file's mapped, read-only frames), not for a copy of a slice of them
    spikes = sorting.to_spike_vector()
    _, first = np.unique(spikes["unit_index"], return_index=True)
    few_spikes = gs.NumpySorting.from_spike_vector(spikes[np.sort(first)], sorting.sampling_frequency,
                                                   sorting.unit_ids)
    quiet = dict(job_kwargs, progress_bar=False)
    with _Spinner(message, say, enabled=bool(job_kwargs.get("progress_bar"))) as spinner:
        gs.extract_waveforms(recording, few_spikes, mode="memory", sparse=True, method="radius",
                             radius_um=radius_um, max_spikes_per_unit=5, precompute_template=("average", "std"),
                             **quiet)
        gs.compute_templates(recording, few_spikes, **quiet)
    if backend.kernels_cached_on_disk:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(numba.__version__)
    return spinner.seconds


class _Spinner:
    """Prints ``message``, then the seconds elapsed on the same line (on a terminal) until done."""

    def __init__(self, message: str, say, enabled: bool = True) -> None:
        self.message, self.say = message, say
        self.live = enabled and sys.stderr.isatty()
        self.seconds = 0.0
        self._stop = threading.Event()

    def __enter__(self) -> "_Spinner":
        self.say(self.message)
        self._t0 = time.perf_counter()
        if self.live:
            self._thread = threading.Thread(target=self._spin, daemon=True)
            self._thread.start()
        return self

    def _spin(self) -> None:
        frames = "|/-\\"
        i = 0
        while not self._stop.wait(0.25):
            sys.stderr.write(f"\r  {frames[i % 4]} {time.perf_counter() - self._t0:4.0f} s")
            sys.stderr.flush()
            i += 1

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self._t0
        if self.live:
            self._stop.set()
            self._thread.join()
            sys.stderr.write("\r" + " " * 12 + "\r")
            sys.stderr.flush()
        if exc[0] is None:
            self.say(f"  done in {self.seconds:.1f} s")


# ------------------------------------------------------------------------------------- reporting
class _ReadCounter:
    """Bytes of its files that the engine's readers read, or mapped and handed to the jobs, while
    the block ran (a mapped file is not read by system calls the operating system would count)."""

    def __enter__(self) -> "_ReadCounter":
        from .streaming.readers import bytes_read_by_readers

        self.bytes = None
        self._start = bytes_read_by_readers()
        return self

    def __exit__(self, *exc) -> None:
        from .streaming.readers import bytes_read_by_readers

        self.bytes = bytes_read_by_readers() - self._start


def _mb(num_bytes: float) -> str:
    return f"{num_bytes / 1e6:,.0f}"


def _read_text(bytes_read: int, file_bytes: int, seconds: float, from_file: bool) -> str:
    if not from_file:
        return "traces generated on the fly (no file read)"
    return (f"read {_mb(bytes_read)} MB of the {_mb(file_bytes)} MB file ({100 * bytes_read / file_bytes:.0f}%) "
            f"at {bytes_read / seconds / 1e6:,.0f} MB/s")


def _template_correlation(estimated: np.ndarray, truth: np.ndarray) -> float:
    """Correlation on the channels where the true template reaches 10% of its peak."""
    truth = truth[:estimated.shape[0]]  # the generator's window (1 ms + 3 ms, as SpikeInterface) is the longer one
    peak = np.abs(truth).max(axis=0)
    channels = peak >= 0.1 * peak.max()
    return float(np.corrcoef(estimated[:, channels].ravel(), truth[:, channels].ravel())[0, 1])


def _draw_figure(we, out: Path, say) -> Path | None:
    """The README's figure: the first units' templates on the probe."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        from gpuspike.widgets import plot_unit_templates
    except ImportError as err:
        say(f"figure skipped ({err})")
        return None
    result = plot_unit_templates(we, unit_ids=we.unit_ids[:_FIGURE_UNITS])
    png = out / "templates_on_probe.png"
    result.figure.savefig(png, dpi=80)
    import matplotlib.pyplot as plt

    plt.close(result.figure)
    say(f"figure             : {png}")
    return png
