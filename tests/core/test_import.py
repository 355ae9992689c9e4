"""`import gpuspike` stays light, and the public names resolve."""
import subprocess
import sys
from pathlib import Path

import gpuspike
import gpuspike.core

REPO = Path(__file__).resolve().parents[2]


def test_import_is_light():
    code = ("import sys, gpuspike; heavy = [m for m in ('numba', 'cupy', 'matplotlib', 'numba.cuda', 'dask', "
            "'zarr', 'neo') if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60,
                         env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)})
    assert out.returncode == 0, out.stderr
    heavy = [m for m in out.stdout.strip().split(",") if m]
    assert not {"numba", "cupy", "matplotlib", "numba.cuda"} & set(heavy), heavy


def test_core_all_names_resolve():
    assert len(gpuspike.core.__all__) == len(set(gpuspike.core.__all__))
    for name in gpuspike.core.__all__:
        assert getattr(gpuspike.core, name, None) is not None, name
        assert getattr(gpuspike, name) is getattr(gpuspike.core, name)


def test_import_time_report_has_no_compiler():
    """``python -X importtime -c 'import gpuspike'``: the import pulls in neither numba nor llvmlite.

    The report's module list is checked, not its seconds (speed is measured in benchmarks/).
    """
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", "import gpuspike"], capture_output=True,
                         text=True, cwd=REPO, timeout=60, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)})
    assert out.returncode == 0, out.stderr
    modules = [line.rsplit("|", 1)[-1].strip() for line in out.stderr.splitlines() if line.startswith("import time:")]
    assert "gpuspike" in modules  # the report was parsed
    assert not [m for m in modules if m.split(".")[0] in ("numba", "llvmlite", "cupy", "matplotlib")]
