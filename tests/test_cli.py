"""`gpuspike demo` (the README's first command), `gpuspike info`, `gpuspike extract-waveforms`:
results on small data, help texts, and user errors as one line on stderr."""
import argparse
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import gpuspike as gs
from gpuspike.cli import build_parser, main


def _summary(text: str, key: str) -> str:
    match = re.search(rf"^{re.escape(key)}\s*:\s*(.+)$", text, flags=re.MULTILINE)
    assert match, f"no {key!r} line in:\n{text}"
    return match.group(1)


@pytest.mark.parametrize("no_save", [False, True])
def test_demo_recovers_ground_truth_and_writes_a_loadable_folder(tmp_path, capsys, no_save):
    out = tmp_path / "demo"
    argv = ["demo", "--duration", "3", "--num-units", "6", "--output", str(out), "--no-progress", "--no-plot",
            "--n-jobs", "1", "--backend", "numpy"] + (["--no-save"] if no_save else [])
    assert main(argv) == 0
    text = capsys.readouterr().out
    units, spikes = (int(x) for x in _summary(text, "units / spikes").split(" / "))
    correlation = float(re.search(r"mean correlation ([0-9.]+)", text).group(1))
    assert units == 6 and correlation > 0.9
    assert (out / "recording").is_dir() != no_save
    we = gs.load_waveforms(out / "waveforms")
    assert we.is_sparse() and we.has_recording()
    assert sum(we.sorting.get_total_num_spikes().values()) == spikes
    # the saved templates are the mean of the saved waveforms (recomputed here with NumPy)
    for unit_index, unit_id in enumerate(we.unit_ids):
        wfs = np.asarray(we.get_waveforms(unit_id), dtype="float64")
        assert wfs.shape[0] > 0
        expected = wfs.mean(axis=0)
        got = we.get_template(unit_id, mode="average")  # sparse: the unit's channels
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-4)
        # and the waveforms are the traces at the sampled spikes on the unit's channels
        spike_index, segment = we.get_sampled_indices(unit_id)[0]
        frame = int(we.sorting.get_unit_spike_train(unit_id, segment_index=int(segment))[spike_index])
        channels = np.flatnonzero(we.sparsity.mask[unit_index])
        traces = we.recording.get_traces(start_frame=frame - we.nbefore, end_frame=frame + we.nafter,
                                         return_scaled=True)
        np.testing.assert_array_equal(np.asarray(we.get_waveforms(unit_id))[0], traces[:, channels])


def test_demo_rejects_bad_backend(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--backend", "tpu", "--output", str(tmp_path)])
    assert "backend" in capsys.readouterr().err


def _demo_argv(out, *extra):
    return ["demo", "--duration", "3", "--num-units", "6", "--num-channels", "32", "--output", str(out),
            "--no-progress", "--no-plot", "--n-jobs", "1", "--backend", "numpy", *extra]


def test_demo_says_what_it_does_and_reuses_its_recording(tmp_path, capsys, monkeypatch):
    import gpuspike.kernels._cache as kernel_cache

    monkeypatch.setattr(kernel_cache, "installation_cache_dir", lambda: str(tmp_path / "fresh-cache"))
    out = tmp_path / "demo"
    assert main(_demo_argv(out)) == 0
    first = capsys.readouterr().out
    steps = [line for line in first.splitlines() if line.endswith("...")]
    assert any(line.startswith("generating") for line in steps)
    assert any(line.startswith("saving the traces") for line in steps)
    assert any(line.startswith("compiling kernels for this machine, once") for line in steps)  # a new cache
    assert first.index("compiling kernels") < first.index("done in")  # said before it happens
    written = (out / "recording").stat().st_mtime_ns
    assert main(_demo_argv(out)) == 0
    second = capsys.readouterr().out
    assert "reusing the recording saved in" in second and "generating" not in second
    assert "loading the compiled kernels" in second and "compiling" not in second
    assert (out / "recording").stat().st_mtime_ns == written  # not rewritten
    assert _summary(first, "units / spikes") == _summary(second, "units / spikes")
    assert main(_demo_argv(out, "--regenerate")) == 0
    assert "generating" in capsys.readouterr().out
    assert main(_demo_argv(out, "--num-units", "5")) == 0  # other settings: a new recording
    assert "other settings" in capsys.readouterr().out


def test_demo_reports_the_bytes_it_read(tmp_path, capsys):
    from gpuspike.demo import DemoSettings, run_demo

    settings = DemoSettings(duration=4.0, num_units=4, num_channels=16, max_spikes_per_unit=20, output=tmp_path,
                            plot=False, job_kwargs={"n_jobs": 1, "backend": "numpy", "progress_bar": False})
    result = run_demo(settings)
    text = capsys.readouterr().out
    file_bytes = 4 * 30000 * 16 * 2
    assert result["file_bytes"] == file_bytes
    # the stretches of traces around the spikes are read once (not more than the file; only the windows when, as
    # here, few spikes cover little of it); the figure printed is the readers' count of the frames they read or
    # mapped for the jobs, not the file size
    sorting = gs.load(tmp_path / "sorting")
    needed = np.zeros(4 * 30000, dtype=bool)
    for sample in sorting.to_spike_vector()["sample_index"]:
        needed[max(sample - 30, 0):sample + 60] = True
    assert 0.9 * needed.sum() * 16 * 2 < result["templates"]["bytes_read"] < 1.2 * file_bytes
    read = re.search(r"read ([0-9,]+) MB of the ([0-9,]+) MB file", _summary(text, "templates, all spikes"))
    assert read and int(read.group(2).replace(",", "")) == round(file_bytes / 1e6)
    assert int(read.group(1).replace(",", "")) == round(result["templates"]["bytes_read"] / 1e6)
    assert "read" in _summary(text, "sparse extraction") and result["extract"]["bytes_read"] > 0


def test_demo_draws_the_figure(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "demo"
    argv = [a for a in _demo_argv(out) if a != "--no-plot"]
    assert main(argv) == 0
    png = out / "templates_on_probe.png"
    assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert str(png) in capsys.readouterr().out


def _run_cli(*argv, env=None, cwd=None):
    env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "gpuspike", *argv], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=300)


def _assert_one_line_error(result, *words):
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0], lines[0]


def test_version():
    result = _run_cli("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"gpuspike {gs.__version__}"


def test_info_of_a_missing_path_is_one_line(tmp_path):
    result = _run_cli("info", str(tmp_path / "nowhere"))
    _assert_one_line_error(result, "gpuspike info: error:", "nowhere", "does not exist")
    debug = _run_cli("info", str(tmp_path / "nowhere"), "--debug")
    assert debug.returncode != 0 and "Traceback" in debug.stderr  # --debug shows it


def test_extract_waveforms_errors_are_one_line(tmp_path):
    recording, sorting = gs.generate_ground_truth_recording(durations=[1.0], num_channels=4, num_units=2, seed=0)
    recording.save(folder=tmp_path / "rec")
    sorting.save(folder=tmp_path / "sorting")
    (tmp_path / "out").mkdir()
    result = _run_cli("extract-waveforms", str(tmp_path / "rec"), str(tmp_path / "sorting"), str(tmp_path / "out"))
    _assert_one_line_error(result, "already exists", "--overwrite")
    assert "overwrite=True" not in result.stderr
    result = _run_cli("extract-waveforms", str(tmp_path / "missing"), str(tmp_path / "sorting"), str(tmp_path / "o"))
    _assert_one_line_error(result, "missing", "does not exist")
    result = _run_cli("extract-waveforms", str(tmp_path / "rec"), str(tmp_path / "sorting"), str(tmp_path / "o2"),
                      "--chunk-duration", "fast")
    _assert_one_line_error(result, "chunk_duration", "fast")
    result = _run_cli("demo", "--duration", "-1", "--output", str(tmp_path / "d"))
    _assert_one_line_error(result, "--duration")


def test_extract_waveforms_writes_a_folder(tmp_path, capsys):
    recording, sorting = gs.generate_ground_truth_recording(durations=[2.0], num_channels=8, num_units=3, seed=4)
    recording.save(folder=tmp_path / "rec")
    sorting.save(folder=tmp_path / "sorting")
    argv = ["extract_waveforms", str(tmp_path / "rec"), str(tmp_path / "sorting"), str(tmp_path / "wf"),
            "--sparse", "--method", "best_channels", "--num-channels", "3", "--max-spikes-per-unit", "7",
            "--no-progress", "--backend", "numpy", "--seed", "1"]  # the library's name is accepted too
    assert main(argv) == 0
    assert str(tmp_path / "wf") in capsys.readouterr().out
    we = gs.load_waveforms(tmp_path / "wf")
    assert we.is_sparse() and we.sparsity.mask.sum(axis=1).tolist() == [3, 3, 3]
    assert all(we.get_waveforms(u).shape[0] <= 7 for u in we.unit_ids)
    expected = gs.extract_waveforms(gs.load(tmp_path / "rec"), gs.load(tmp_path / "sorting"), mode="memory",
                                    sparse=True, method="best_channels", num_channels=3, max_spikes_per_unit=7,
                                    seed=1, backend="numpy")
    for unit_id in we.unit_ids:
        np.testing.assert_array_equal(we.get_waveforms(unit_id), expected.get_waveforms(unit_id))


def test_demo_on_cuda_without_a_gpu_is_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    probe = subprocess.run([sys.executable, "-c", "from numba import cuda; print(cuda.is_available())"],
                           capture_output=True, text=True, env=env)
    if probe.stdout.strip() == "True":
        pytest.skip("a real GPU is present: the demo would run")
    result = subprocess.run([sys.executable, "-m", "gpuspike", "demo", "--backend", "cuda", "--output",
                             str(tmp_path / "d")], capture_output=True, text=True, env=env, timeout=300)
    _assert_one_line_error(result, "gpuspike demo: error:", "CUDA")
    assert "pip install gpuspike[gpu]" not in result.stderr  # not on PyPI: the hint installs from the clone
    assert not (tmp_path / "d").exists()


def _subparsers(parser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    raise AssertionError("no subcommands")


def test_every_flag_has_help_with_its_default_and_no_markup():
    parser = build_parser()
    texts = [parser.format_help()]
    for name, sub in _subparsers(parser).choices.items():
        text = sub.format_help()
        texts.append(text)
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction) or action.dest == "debug":
                continue
            assert action.help, f"{name} {action.option_strings or action.dest}: no help"
            if action.option_strings and action.default is not None:
                shown = sub._get_formatter()._expand_help(action)  # the text --help prints for this flag
                assert "default" in shown, f"{name} {action.option_strings}: the help does not show the default"
                assert " ".join(shown.split()) in " ".join(text.split())
    for text in texts:
        assert "``" not in text and ":func:" not in text and ":class:" not in text


def test_subcommands_follow_the_library_names():
    names = set(_subparsers(build_parser()).choices)
    assert {"demo", "info", "extract-waveforms", "extract_waveforms"} <= names
    assert hasattr(gs, "extract_waveforms")


_COMPILES_AFTER_WARM_UP = r"""
import json, sys
from numba.core import event
import gpuspike.demo as demo

log = []


class Compiles(event.Listener):
    def on_start(self, ev):
        pass

    def on_end(self, ev):
        log.append(getattr(ev.data.get("dispatcher"), "__qualname__", "?"))


event.register("numba:compile", Compiles())
warm_up = demo._compile_kernels


def marked(*args, **kwargs):
    seconds = warm_up(*args, **kwargs)
    log.append("--- warm-up done ---")
    return seconds


demo._compile_kernels = marked
settings = demo.DemoSettings(duration=3.0, num_units=5, num_channels=16, max_spikes_per_unit=20, output=sys.argv[1],
                             plot=False, job_kwargs={"n_jobs": 2, "backend": "numpy", "progress_bar": False})
demo.run_demo(settings, say=lambda text: None)
print(json.dumps(log))
"""


def test_demo_compiles_every_kernel_before_it_times_the_jobs(tmp_path):
    """With an empty kernel cache, nothing compiles once the warm-up is done: the timed jobs read the saved
    file's read-only mapped frames, and the warm-up must compile the kernels for those, not for copies."""
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"), NUMBA_CACHE_DIR=str(tmp_path / "cache" / "nb"))
    done = subprocess.run([sys.executable, "-c", _COMPILES_AFTER_WARM_UP, str(tmp_path / "demo")], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    log = json.loads(done.stdout.strip().splitlines()[-1])
    assert "--- warm-up done ---" in log
    before = log[:log.index("--- warm-up done ---")]
    after = log[log.index("--- warm-up done ---") + 1:]
    assert "_window_moments_njit" in before
    assert after == [], f"compiled while the demo timed its jobs: {after}"
