"""``gpuspike doctor`` on a machine without a GPU: what is there, what is missing, how to fix it."""
import json
import os
import subprocess
import sys

import pytest

from gpuspike.doctor import Check, doctor


def _run(*args):
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    return subprocess.run([sys.executable, "-m", "gpuspike.doctor", *args], capture_output=True, text=True, env=env,
                          timeout=300)


def _gpu_here() -> bool:
    from gpuspike.backends import cuda_status

    status = cuda_status()
    return status.usable and not status.simulator


def test_without_a_gpu_doctor_says_what_is_missing_and_fails():
    if _gpu_here():
        pytest.skip("this machine has a GPU: see the gpu tests")
    proc = _run("--skip-compile")
    assert proc.returncode == 1
    out = proc.stdout
    for line in ("numba-cuda", "NVIDIA driver / GPU", "libNVVM", "CUDA runtime", "CuPy", "kvikio / GDS",
                 "pinned memory"):
        assert line in out, line
    assert "no usable CUDA GPU" in out and "fix:" in out
    assert out.strip().splitlines()[-1] == "gpuspike doctor: not ready: no usable GPU"


def test_doctor_report_as_json_and_as_a_function():
    proc = _run("--skip-compile", "--json")
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    names = [c["name"] for c in report["checks"]]
    assert names[:2] == ["gpuspike", "numba-cuda"] or "simulator" in names
    assert report["kernels"] == 0 and report["failures"] == []
    assert report["ok"] is _gpu_here()
    # in this process (the simulator is on): the same checks, no GPU looked for, nothing compiled
    result = doctor(archs=None, compile_kernels=False, run_job=False, quiet=True)
    assert all(isinstance(c, Check) for c in result.checks)
    assert any(c.name == "simulator" for c in result.checks) == (os.environ.get("NUMBA_ENABLE_CUDASIM") == "1")
    assert result.ok is False or _gpu_here()


def test_check_lines_name_the_fix():
    line = Check("CuPy", "missing", "not installed", 'pip install ".[gpu]"').line()
    assert line.startswith("[--  ] CuPy") and 'fix: pip install ".[gpu]"' in line
