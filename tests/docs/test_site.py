"""The documentation site builds with Sphinx, warnings as errors (needs the ``docs`` extra)."""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import skip_or_fail_in_ci

REPO = Path(__file__).resolve().parents[2]
_DOCS_EXTRA = ("sphinx", "numpydoc", "myst_parser", "furo")


@pytest.fixture(scope="module")
def built_site(tmp_path_factory) -> Path:
    missing = [m for m in _DOCS_EXTRA if importlib.util.find_spec(m) is None]
    if missing:
        skip_or_fail_in_ci(f"the docs extra is not installed (missing {missing}): pip install -e \".[docs]\"")
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-E", "-j", "2", "-q", "-b", "html",
                             "-d", str(out / "doctrees"), str(REPO / "docs"), str(out / "html")],
                            capture_output=True, text=True, timeout=1200, cwd=REPO)
    assert result.returncode == 0, f"sphinx-build failed (warnings are errors):\n{result.stderr[-6000:]}"
    return out / "html"


def test_site_builds_without_warnings(built_site):
    for page in ("index.html", "getting-started.html", "porting.html", "howto/gpu-workstation.html",
                 "howto/cloud-gpu.html", "howto/dask-cluster.html", "howto/ci-without-gpu.html", "api/index.html"):
        assert (built_site / page).is_file(), page


def test_api_reference_covers_the_public_names(built_site):
    import gpuspike
    import gpuspike.full

    generated = built_site / "api" / "generated"
    for name in ("extract_waveforms", "compute_templates", "BaseRecording", "set_global_job_kwargs"):
        page = generated / f"gpuspike.{name}.html"
        assert page.is_file(), name
    extract = (generated / "gpuspike.extract_waveforms.html").read_text()
    assert "Parameters" in extract and "radius_um" in extract and "Returns" in extract
    assert (generated / "gpuspike.full.read_spikeglx.html").is_file()
    pages = {p.stem.split(".")[-1] for p in generated.glob("*.html")}
    public = {n for m in (gpuspike, gpuspike.full) for n in m.__all__ if callable(getattr(gpuspike.full, n, None))}
    assert public <= pages, sorted(public - pages)
