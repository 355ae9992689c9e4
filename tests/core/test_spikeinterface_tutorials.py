"""SpikeInterface's core tutorials, run as a new user would: only the import lines changed.

The tutorials' text is not copied into this repository: point ``GPUSPIKE_SI_TUTORIALS`` at a folder
holding them (``examples/tutorials/core`` of a SpikeInterface checkout, or the 0.100 files by their
names below); the tests skip otherwise. Each tutorial runs in a fresh folder twice: with
``spikeinterface`` replaced by ``gpuspike`` in its import lines, and unchanged with SpikeInterface
0.105 (see ``_si_compare``); both print the same lines.

Edits besides the imports, applied as listed in :data:`TUTORIALS`:

- cells that download data get a local stand-in (the same in both runs), and a generator called without
  a seed (different spikes at every run, in either library) gets ``seed=0``;
- the 0.100 tutorials use three things 0.105 itself no longer runs (``recording = recording.set_probe(...)``:
  0.105 attaches in place and returns None; ``load_extractor`` and ``channel_slice``: removed in 0.105):
  the SpikeInterface run gets 0.105's spelling, the gpuspike run keeps the tutorial's text (gpuspike
  accepts both).

``np.random`` is seeded before each run, plots are not shown (Agg backend, or no-op stand-ins where
matplotlib is missing), paths of the run folder print as ``<tmp>``, and the printed extractor dicts
(``pprint(obj.to_dict())``) are left out of the comparison: gpuspike's ``to_dict()`` includes every
property and annotation by default (SpikeInterface: only the main ones) and records the property dtypes.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from _si_compare import _si_env, si_python

pytestmark = pytest.mark.compare

TUTORIALS_ENV = "GPUSPIKE_SI_TUTORIALS"

#: run before each tutorial, in both libraries
PRELUDE = '''
import sys as _sys, types as _types
import numpy as _np
_np.random.seed(0)
try:
    import matplotlib
    matplotlib.use("Agg")
except ImportError:  # plots print nothing: no-op stand-ins where matplotlib is not installed
    class _Stub:
        def __getattr__(self, name):
            return self
        def __call__(self, *args, **kwargs):
            return self
        def __iter__(self):
            return iter([self, self])
    for _name in ("matplotlib", "matplotlib.pyplot", "probeinterface.plotting"):
        _module = _types.ModuleType(_name)
        _module.__getattr__ = lambda name: _Stub()
        _sys.modules[_name] = _module
'''

_GT_STANDIN = ("recording, sorting = __import__('{lib}.core', fromlist=['x']).generate_ground_truth_recording("
               "durations=[10.0], num_channels=32, num_units=8, seed=0)")

#: the stand-ins of a tutorial that downloads the MEArec test file
_MEAREC_STANDINS = {"local_path = download_dataset(repo=repo, remote_path=remote_path, local_folder=None)": "",
                    "recording = se.MEArecRecordingExtractor(local_path)": _GT_STANDIN,
                    "sorting = se.MEArecSortingExtractor(local_path)": ""}

#: file -> how it runs: "both" (edits for both runs), "si" (edits for the SpikeInterface run only),
#: "compare" (False: SpikeInterface 0.105 cannot run it; gpuspike must run it through), "skip" (reason),
#: "skip_if" ({text: reason}: the version of the tutorial that contains the text is skipped),
#: "compare_unless" (text: the version that contains it is run by gpuspike only, unedited),
#: "versions" ({text: spec}: the version of the tutorial that contains the text runs by that spec instead)
TUTORIALS = {
    "plot_1_recording_extractor.py": dict(
        si={"recording = recording.set_probe(probe)": "recording.set_probe(probe)",
            "from spikeinterface import load_extractor": "from spikeinterface import load as load_extractor",
            'recording4 = recording3.channel_slice(channel_ids=["a", "c", "e"])':
            'recording4 = recording3.select_channels(channel_ids=["a", "c", "e"])'}),
    # the 0.100 version calls NumpySorting.from_times_labels and NpzSortingExtractor, which 0.105 no
    # longer has: gpuspike must run it through
    "plot_2_sorting_extractor.py": dict(versions={"from_times_labels(": dict(compare=False)}),
    "plot_3_handle_probe_info.py": dict(
        both={'other_probe = get_probe(manufacturer="cambridgeneurotech", probe_name="ASSY-37-E-1")':
              "from probeinterface import generate_multi_shank\n"
              "other_probe = generate_multi_shank(num_shank=2, num_columns=1, num_contact_per_column=16)"},
        si={'recording_2_shanks = recording.set_probe(other_probe, group_mode="by_shank")':
            'recording.set_probe(other_probe, group_mode="by_shank")\nrecording_2_shanks = recording'}),
    "plot_4_waveform_extractor.py": dict(
        both=_MEAREC_STANDINS, compare=False),  # 0.105 has no WaveformExtractor.create / set_params / run_extract_waveforms
    "plot_5_append_concatenate_segments.py": dict(),
    # 0.100's version (toy_example, set_times, register_recording) is compared; today's calls
    # recording.shift_start_time(), a later release's method that 0.105.3 lacks: gpuspike must run it
    "plot_6_handle_times.py": dict(
        both={"rec, sort = toy_example(num_segments=1)": "rec, sort = toy_example(num_segments=1, seed=0)"},
        compare_unless="shift_start_time"),
    "plot_4_sorting_analyzer.py": dict(
        both={"recording, sorting = generate_ground_truth_recording()":
              "recording, sorting = generate_ground_truth_recording(seed=0)"},
        # 0.101's version reads MEArec and computes waveforms on an analyzer whose in-memory recording
        # 0.105 drops: gpuspike must run it through
        versions={"download_dataset(": dict(both=_MEAREC_STANDINS, compare=False)}),
}


def _tutorial_folder() -> Path:
    folder = os.environ.get(TUTORIALS_ENV)
    if not folder:
        pytest.skip(f"set {TUTORIALS_ENV} to a folder with SpikeInterface's core tutorials "
                    f"(examples/tutorials/core) to run them")
    return Path(folder)


def _gpuspike_imports(text: str) -> str:
    """``spikeinterface`` -> ``gpuspike`` in import lines only."""
    lines = []
    for line in text.splitlines():
        if re.match(r"\s*(import|from)\s+spikeinterface\b", line):
            line = re.sub(r"\bspikeinterface\b", "gpuspike", line)
        lines.append(line)
    return "\n".join(lines) + "\n"


def _apply(text: str, edits: dict, name: str, lib: str) -> str:
    for old, new in edits.items():
        if old not in text:
            pytest.fail(f"{name}: the line {old!r} to stand in for is not in the tutorial (a newer version?)")
        text = text.replace(old, new.format(lib=lib))
    return text


def _run(python: str, text: str, folder: Path, env: dict) -> subprocess.CompletedProcess:
    folder.mkdir(parents=True)
    (folder / "tutorial.py").write_text(PRELUDE + text)
    return subprocess.run([python, "tutorial.py"], cwd=folder, capture_output=True, text=True, timeout=900,
                          env={**env, "MPLBACKEND": "Agg"})


def _normalize(out: str, folder: Path) -> list[str]:
    text = out.replace(str(folder.resolve()), "<tmp>").replace(str(folder), "<tmp>")
    lines, skipping, depth = [], False, 0
    for line in text.splitlines():
        if not skipping and line.startswith("{'annotations'"):
            skipping, depth = True, 0
        if skipping:
            depth += line.count("{") - line.count("}")
            if depth <= 0:
                skipping = False
            continue
        lines.append(line.rstrip())
    return lines


@pytest.mark.parametrize("name", sorted(TUTORIALS))
def test_tutorial(name, tmp_path):
    spec = TUTORIALS[name]
    if "skip" in spec:
        pytest.skip(spec["skip"])
    source = _tutorial_folder() / name
    if not source.is_file():
        pytest.skip(f"{source} is missing")
    text = source.read_text()
    for marker, reason in spec.get("skip_if", {}).items():
        if marker in text:
            pytest.skip(reason)
    spec = next((version for marker, version in spec.get("versions", {}).items() if marker in text), spec)
    if spec.get("compare_unless", "\0") in text:  # a later release's tutorial: gpuspike runs it as it is
        spec = {"compare": False}
    gs_text = _apply(_gpuspike_imports(text), spec.get("both", {}), name, "gpuspike")
    gs = _run(sys.executable, gs_text, tmp_path / "gpuspike", dict(os.environ))
    assert gs.returncode == 0, f"{name} stopped with gpuspike:\n{gs.stderr[-4000:]}"
    if not spec.get("compare", True):
        return
    si_text = _apply(_apply(text, spec.get("both", {}), name, "spikeinterface"), spec.get("si", {}), name,
                     "spikeinterface")
    si = _run(si_python(), si_text, tmp_path / "spikeinterface", _si_env())
    assert si.returncode == 0, f"{name} (with the stand-ins above) stopped with SpikeInterface:\n{si.stderr[-4000:]}"
    assert _normalize(gs.stdout, tmp_path / "gpuspike") == _normalize(si.stdout, tmp_path / "spikeinterface")
