"""The install stays sound: a wheel in a fresh venv runs a kernel without writing into the package,
an editable reinstall then imports from anywhere, and ``pip uninstall`` leaves nothing behind.

The fresh venv gets the project's dependencies by a ``.pth`` line to this interpreter's
site-packages (no download); gpuspike itself is installed from a wheel built from a copy of the
repository, then reinstalled editable from that copy.
"""
from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
_IGNORED = shutil.ignore_patterns(".git", "build", "dist", "*.egg-info", "__pycache__", "_build", ".venv",
                                  "gpuspike_demo_output", ".whl", ".benchmarks", "*.nbi", "*.nbc")

_RUN_KERNEL = """
import numpy as np, gpuspike, gpuspike.kernels as k
from gpuspike.kernels._cache import kernel_cache_dir
out = np.empty((3, 2), np.float32)
k.scale_cpu(np.arange(6, dtype=np.int16).reshape(3, 2), np.array([2.0, 3.0], np.float32),
            np.array([1.0, -1.0], np.float32), out)
assert out.tolist() == [[1.0, 2.0], [5.0, 8.0], [9.0, 14.0]], out
assert callable(gpuspike.generate_ground_truth_recording)
import os
from gpuspike.kernels._cache import installation_cache_dir
assert any(name.startswith("scale.") for name in os.listdir(installation_cache_dir()))
print(gpuspike.__file__)
print(kernel_cache_dir())
"""


_IMPORT_ALL_AND_RUN_A_JOB = """
import importlib, sys
names = sys.argv[1:]
for name in names:
    importlib.import_module(name)
import numpy as np, gpuspike as gs
rec, srt = gs.generate_ground_truth_recording(durations=[1.0], num_channels=4, num_units=2, seed=0)
templates = gs.compute_templates(rec, srt, n_jobs=1).get_all_templates()
assert templates.shape[0] == 2 and templates.shape[2] == 4 and np.abs(templates).max() > 0, templates.shape
print(len(names))
"""


def _source_modules(source: Path) -> list[str]:
    """Every module of the source tree, by the name it is installed under."""
    names = []
    for root, prefix in ((source / "gpuspike", "gpuspike"), (source / "kernels", "gpuspike.kernels")):
        for path in sorted(root.rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__main__":  # runs the CLI when imported
                continue
            if parts[-1] == "__init__":
                parts = parts[:-1]
            names.append(".".join((prefix, *parts)))
    return names


def _run(cmd, cwd, env, timeout=300) -> str:
    out = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, f"{cmd} failed:\n{out.stdout}\n{out.stderr}"
    return out.stdout


def _site_packages(python: Path) -> Path:
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    return Path(subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True).stdout.strip())


def _cache_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.suffix in (".nbi", ".nbc")] if folder.exists() else []


@pytest.mark.slow
def test_wheel_then_editable_then_uninstall(tmp_path):
    source = tmp_path / "clone"
    shutil.copytree(REPO, source, ignore=_IGNORED)
    home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    home.mkdir(), elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NUMBA_", "PYTHON", "PIP_"))}
    env.update(HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"), PIP_DISABLE_PIP_VERSION_CHECK="1")

    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
          str(tmp_path / "dist"), str(source)], cwd=tmp_path, env=env)
    wheel = next((tmp_path / "dist").glob("gpuspike-*.whl"))

    _run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "venv")], cwd=tmp_path, env=env)
    python = tmp_path / "venv" / "bin" / "python"
    venv_site = _site_packages(python)
    # the dependencies come from this interpreter's site-packages, after the venv's own
    parents = [sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"], *site.getsitepackages()]
    (venv_site / "zz_parent_site.pth").write_text("\n".join(dict.fromkeys(parents)) + "\n")
    pip = [sys.executable, "-m", "pip", "--python", str(python)]

    _run([*pip, "install", "--no-deps", "-q", str(wheel)], cwd=tmp_path, env=env)
    package = venv_site / "gpuspike"
    printed = _run([str(python), "-c", _RUN_KERNEL], cwd=elsewhere, env=env).split()
    assert Path(printed[0]).resolve().is_relative_to(package.resolve())
    assert Path(printed[1]) == home / ".cache" / "gpuspike" / "numba"
    assert _cache_files(home / ".cache" / "gpuspike"), "the kernel was not cached in the user's cache folder"
    assert _cache_files(package) == [], "numba wrote its cache into the installed package"
    # every module of the tree is in the wheel (a subpackage missing from pyproject's list is not),
    # and a job runs through the block engine
    modules = _source_modules(source)
    printed = _run([str(python), "-c", _IMPORT_ALL_AND_RUN_A_JOB, *modules], cwd=elsewhere, env=env)
    assert printed.split()[-1] == str(len(modules))

    # NUMBA_CACHE_DIR, when the user sets it, is where the kernels go
    numba_dir = tmp_path / "numba-cache"
    printed = _run([str(python), "-c", _RUN_KERNEL], cwd=elsewhere, env={**env, "NUMBA_CACHE_DIR": str(numba_dir)})
    assert Path(printed.split()[1]) == numba_dir and _cache_files(numba_dir)
    assert _cache_files(package) == []

    # an editable reinstall replaces the wheel completely and imports from another folder
    _run([*pip, "install", "--no-deps", "--no-build-isolation", "-q", "-e", str(source)], cwd=tmp_path, env=env)
    assert not package.exists(), f"left behind by the wheel's uninstall: {sorted(package.rglob('*'))}"
    printed = _run([str(python), "-c", _RUN_KERNEL], cwd=elsewhere, env=env).split()
    assert Path(printed[0]).resolve() == (source / "gpuspike" / "__init__.py").resolve()
    assert _cache_files(source / "kernels") == []

    # pip uninstall leaves nothing of gpuspike in the venv
    _run([*pip, "uninstall", "-y", "-q", "gpuspike"], cwd=tmp_path, env=env)
    leftovers = [p.name for p in venv_site.iterdir() if "gpuspike" in p.name.lower()]
    assert leftovers == []
    gone = subprocess.run([str(python), "-c", "import gpuspike"], cwd=elsewhere, env=env, capture_output=True)
    assert gone.returncode != 0
