"""``gpuspike doctor``: is the GPU path ready on this machine, and if not, what to do.

One line per component (driver and GPU, CUDA runtime, libNVVM, numba-cuda, CuPy, kvikio and
GPUDirect Storage, pinned memory), then every CUDA kernel compiled to PTX for each signature the
library launches it with (for the GPU present, or the ``--arch`` given), then, when a GPU is
usable, a tiny end-to-end job (waveforms, templates, sparsity, noise levels) on ``cuda`` and
``numpy``, compared. The exit status is 0 only when everything asked for works.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from typing import Sequence

__all__ = ["Check", "DoctorReport", "doctor", "main"]

_EXTRA_HINT = ('pip install ".[gpu]" (CUDA 12 driver) or ".[gpu-cu13]" (CUDA 13 driver) from the gpuspike clone, '
               "or conda env create -f environment.yml")


@dataclass
class Check:
    """One line of the report.

    Attributes
    ----------
    name : str
        What was checked.
    status : {"ok", "missing", "fail", "info"}
        ``info`` lines never fail the run.
    detail : str
        What was found.
    fix : str
        How to fix it (empty when nothing is to be done).
    """

    name: str
    status: str
    detail: str
    fix: str = ""

    def line(self) -> str:
        """The line printed for this check."""
        mark = {"ok": "ok  ", "missing": "--  ", "fail": "FAIL", "info": "    "}[self.status]
        text = f"[{mark}] {self.name:<22} {self.detail}"
        return text + (f"\n       fix: {self.fix}" if self.fix else "")


@dataclass
class DoctorReport:
    """Everything ``gpuspike doctor`` found.

    Attributes
    ----------
    checks : list of Check
        Environment lines, then compile and end-to-end lines.
    archs : list of str
        Architectures compiled for.
    kernels : int
        CUDA kernels compiled.
    signatures : int
        Kernel signatures compiled (per architecture).
    compiled : int
        Successful (kernel, signature, architecture) compilations.
    failures : list of str
        The failed compilations, one line each.
    ok : bool
        Everything asked for works.
    """

    checks: list
    archs: list
    kernels: int = 0
    signatures: int = 0
    compiled: int = 0
    failures: list | None = None
    ok: bool = False


def _version(module: str) -> str | None:
    from importlib import metadata

    for name in (module, module.replace("_", "-")):
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def _cupy_package() -> str | None:
    from importlib import metadata

    for dist in ("cupy-cuda12x", "cupy-cuda13x", "cupy-cuda11x", "cupy"):
        try:
            return f"{dist} {metadata.version(dist)}"
        except metadata.PackageNotFoundError:
            continue
    return None


def _driver_and_gpu(checks: list) -> tuple[bool, str | None]:
    """Add the numba-cuda / driver / GPU lines; return (usable GPU, compute capability 'sm_XY')."""
    version = _version("numba-cuda")
    try:
        from numba import cuda
    except Exception as exc:  # noqa: BLE001
        checks.append(Check("numba-cuda", "missing", f"numba.cuda does not import ({exc})", _EXTRA_HINT))
        return False, None
    checks.append(Check("numba-cuda", "ok", f"numba-cuda {version}"))
    try:
        available = bool(cuda.is_available())
    except Exception as exc:  # noqa: BLE001
        available = False
        reason = str(exc).splitlines()[0]
    else:
        reason = "numba.cuda.is_available() is False"
    if not available:
        checks.append(Check("NVIDIA driver / GPU", "missing", f"no usable CUDA GPU ({reason})",
                            "install the NVIDIA driver on a machine with an NVIDIA GPU; check `nvidia-smi`"))
        return False, None
    dev = cuda.get_current_device()
    name = dev.name.decode() if isinstance(dev.name, bytes) else str(dev.name)
    major, minor = dev.compute_capability
    free, total = cuda.current_context().get_memory_info()
    try:
        from numba.cuda.cudadrv import driver as cuda_driver

        driver_cuda = ".".join(map(str, cuda_driver.driver.get_version()))
    except Exception:  # noqa: BLE001 - only for the report
        driver_cuda = "?"
    checks.append(Check("NVIDIA driver / GPU", "ok",
                        f"{name}, {total / 2**30:.1f} GiB ({free / 2**30:.1f} free), compute capability "
                        f"{major}.{minor}, driver supports CUDA {driver_cuda}"))
    return True, f"sm_{major}{minor}"


def _runtime_and_nvvm(checks: list) -> None:
    try:
        from numba.cuda.cudadrv import nvvm

        ver = nvvm.NVVM().get_version()
        checks.append(Check("libNVVM", "ok", f"NVVM IR {'.'.join(map(str, ver))} (kernels compile)"))
    except Exception as exc:  # noqa: BLE001
        checks.append(Check("libNVVM", "missing", f"libNVVM not found ({str(exc).splitlines()[0][:120]})",
                            "pip install 'numba-cuda[cu12]' (or [cu13]); the gpu extras include it"))
    bindings = _version("cuda-bindings")
    toolkit = _version("cuda-toolkit")
    detail = f"cuda-bindings {bindings}" if bindings else "cuda-bindings not installed"
    if toolkit:
        detail += f", cuda-toolkit {toolkit}"
    try:
        from numba.cuda import runtime

        detail += f", runtime {'.'.join(map(str, runtime.get_version()))}"
    except Exception:  # noqa: BLE001 - no runtime without a driver on some versions
        pass
    checks.append(Check("CUDA runtime", "ok" if bindings else "missing", detail, "" if bindings else _EXTRA_HINT))


def _cupy(checks: list, gpu: bool) -> bool:
    package = _cupy_package()
    try:
        import cupy
    except Exception as exc:  # noqa: BLE001
        checks.append(Check("CuPy", "missing", f"{package or 'no CuPy package'}: does not import "
                            f"({str(exc).splitlines()[0][:120]})", _EXTRA_HINT))
        return False
    if not gpu:
        checks.append(Check("CuPy", "info", f"{package} imports (no GPU to run it on)"))
        return True
    try:
        x = cupy.arange(8, dtype=cupy.float32)
        ok = float((x * 2).sum()) == 56.0
        rt = cupy.cuda.runtime.runtimeGetVersion()
        checks.append(Check("CuPy", "ok" if ok else "fail", f"{package}, CUDA runtime {rt // 1000}.{rt % 1000 // 10}"
                            + ("" if ok else ": wrong result of a test kernel")))
        return ok
    except Exception as exc:  # noqa: BLE001
        checks.append(Check("CuPy", "fail", f"{package}: a test kernel failed ({str(exc).splitlines()[0][:160]})",
                            "install the CuPy wheel matching the driver's CUDA major version"))
        return False


def _kvikio(checks: list) -> None:
    from .streaming.readers import kvikio_status

    status = kvikio_status()
    if status["version"] is None:
        checks.append(Check("kvikio / GDS", "info", "kvikio not installed: reads go through pread into pinned "
                            "memory (the fast path without GPUDirect Storage)"))
        return
    detail = f"kvikio {status['version']}: " + (
        "GPUDirect Storage available: reads go straight to device memory" if status["gds"]
        else "compat mode (no GPUDirect Storage): gpuspike reads with pread into pinned memory instead")
    checks.append(Check("kvikio / GDS", "ok" if status["gds"] else "info", detail))


def _pinned(checks: list, gpu: bool) -> None:
    import resource

    import psutil

    soft, _hard = resource.getrlimit(resource.RLIMIT_MEMLOCK)
    limit = "unlimited" if soft == resource.RLIM_INFINITY else f"{soft / 2**20:.0f} MiB"
    detail = f"RLIMIT_MEMLOCK {limit}, host RAM {psutil.virtual_memory().total / 2**30:.0f} GiB"
    if not gpu:
        checks.append(Check("pinned memory", "info", detail))
        return
    try:
        from numba import cuda

        t0 = time.perf_counter()
        buf = cuda.pinned_array(64 * 2**20, dtype="uint8")
        dt = time.perf_counter() - t0
        del buf
        checks.append(Check("pinned memory", "ok", detail + f"; 64 MiB pinned in {dt * 1e3:.1f} ms"))
    except Exception as exc:  # noqa: BLE001
        checks.append(Check("pinned memory", "fail", f"{detail}; cannot pin 64 MiB ({exc})",
                            "raise the locked-memory limit (ulimit -l) or the container's memlock"))


def _compile(archs: Sequence[str], report: DoctorReport, quiet: bool) -> None:
    from . import kernels

    report.kernels = len(kernels.CUDA_KERNELS)
    report.signatures = sum(len(k.signatures) for k in kernels.CUDA_KERNELS)
    t0 = time.perf_counter()
    # one child process per architecture, run side by side: the simulator (if on here) stays out of
    # them, and numba's typing, which dominates, runs on every core
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    children = [subprocess.Popen([sys.executable, "-m", "gpuspike.doctor", "--compile-only", "--arch", arch],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
                for arch in archs]
    report.compiled, report.failures = 0, []
    for arch, child in zip(archs, children):
        out, err = child.communicate()
        try:
            result = json.loads(out.strip().splitlines()[-1])
        except (IndexError, ValueError):
            report.failures.append(f"{arch}: the compile step failed: {err.strip()[-2000:]}")
            continue
        report.compiled += result["compiled"]
        report.failures += result["failures"]
    dt = time.perf_counter() - t0
    total = report.signatures * len(archs)
    status = "ok" if not report.failures and report.compiled == total else "fail"
    report.checks.append(Check("compile", status,
                               f"{report.kernels} CUDA kernels, {report.signatures} signatures, for "
                               f"{', '.join(archs)}: {report.compiled}/{total} compiled to PTX without fused "
                               f"multiply-adds in {dt:.1f} s",
                               "" if status == "ok" else "see the failures above; report them with this output"))


def _end_to_end(report: DoctorReport) -> None:
    from .doctor_job import run_tiny_job

    t0 = time.perf_counter()
    try:
        diffs = run_tiny_job()
    except Exception as exc:  # noqa: BLE001
        report.checks.append(Check("end-to-end on cuda", "fail", f"{type(exc).__name__}: {exc}"))
        return
    bad = [name for name, (ok, _) in diffs.items() if not ok]
    detail = ", ".join(f"{name} {info}" for name, (_, info) in diffs.items())
    report.checks.append(Check("end-to-end on cuda", "fail" if bad else "ok",
                               f"{detail} ({time.perf_counter() - t0:.1f} s)",
                               f"cuda and numpy differ in {bad}" if bad else ""))


def doctor(archs: Sequence[str] | None = None, compile_kernels: bool = True, run_job: bool = True,
           quiet: bool = False) -> DoctorReport:
    """Check the GPU stack, compile every CUDA kernel and (with a GPU) run a tiny job on both backends.

    Parameters
    ----------
    archs : sequence of str, optional
        Compile for these architectures (``"sm_80"``, ``"sm_90"``); default: the GPU present.
        Given, the report does not require a GPU.
    compile_kernels : bool
        Compile every kernel for every declared signature (about a minute on two cores).
    run_job : bool
        With a usable GPU, run a tiny waveforms / templates / sparsity / noise job on ``cuda``
        and ``numpy`` and compare the results.
    quiet : bool
        Print nothing (the report is returned).

    Returns
    -------
    DoctorReport
        With ``ok`` True only when everything asked for works.
    """
    import numba
    import numpy as np

    from . import __version__

    checks: list[Check] = [Check("gpuspike", "info", f"{__version__}, Python {platform.python_version()}, numpy "
                                 f"{np.__version__}, numba {numba.__version__}")]
    if numba.config.ENABLE_CUDASIM:
        checks.append(Check("simulator", "info", "NUMBA_ENABLE_CUDASIM=1 in this process: the CUDA backend runs in "
                            "numba's simulator; the checks below that need a GPU report none"))
    report = DoctorReport(checks, [])
    gpu, present_arch = (False, None) if numba.config.ENABLE_CUDASIM else _driver_and_gpu(checks)
    if numba.config.ENABLE_CUDASIM:
        checks.append(Check("NVIDIA driver / GPU", "info", "not looked for (simulator on)"))
    _runtime_and_nvvm(checks)
    cupy_ok = _cupy(checks, gpu)
    _kvikio(checks)
    _pinned(checks, gpu)
    required_gpu = not archs
    report.archs = list(archs) if archs else ([present_arch] if present_arch else [])
    if compile_kernels and report.archs:
        _compile(report.archs, report, quiet)
    elif compile_kernels:
        checks.append(Check("compile", "missing", "no GPU to compile for", "give --arch sm_80 / sm_90 to compile "
                            "for a GPU architecture without one"))
    if run_job and gpu and cupy_ok:
        _end_to_end(report)
    failed = [c for c in checks if c.status == "fail"]
    missing_gpu = required_gpu and not (gpu and cupy_ok)
    report.ok = not failed and not missing_gpu and not (compile_kernels and not report.archs)
    if not quiet:
        for c in checks:
            print(c.line())
        for f in report.failures or []:
            print(f"       {f}")
        if not report.ok:
            verdict = "not ready: no usable GPU" if missing_gpu else "not ready"
        elif gpu and cupy_ok:
            verdict = "ready: the GPU path works here"
        else:
            verdict = f"every kernel compiles for {', '.join(report.archs)} (no GPU here to run them)"
        print(f"gpuspike doctor: {verdict}")
    return report


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    """The ``gpuspike doctor`` arguments (added to ``parser`` when given).

    Parameters
    ----------
    parser : argparse.ArgumentParser, optional
        A parser (or subparser) to add the arguments to.

    Returns
    -------
    argparse.ArgumentParser
    """
    standalone = parser is None
    if standalone:
        parser = argparse.ArgumentParser(prog="gpuspike doctor", description=__doc__.splitlines()[0])
    parser.add_argument("--arch", action="append", metavar="SM",
                        help="compile for this GPU architecture, e.g. sm_80 or sm_90 (repeatable); "
                             "default: the GPU present, and a GPU is then required")
    parser.add_argument("--skip-compile", action="store_true", help="do not compile the kernels (default: compile)")
    parser.add_argument("--skip-job", action="store_true",
                        help="do not run the tiny end-to-end job on the GPU (default: run it when a GPU is usable)")
    if standalone:  # the compile step's child process (python -m gpuspike.doctor --compile-only)
        parser.add_argument("--compile-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help="print the report as one JSON line (default: text)")
    return parser


def _compile_only(args) -> int:
    from .kernels._compile import compile_kernels

    try:
        results = compile_kernels(args.arch or ["sm_80", "sm_90"])
    except RuntimeError as exc:
        print(json.dumps({"compiled": 0, "failures": [str(exc)]}))
        return 1
    failures = [f"{r.kernel} {r.signature} {r.arch}: {r.error.splitlines()[0] if r.error else ''}"
                for r in results if not r.ok]
    print(json.dumps({"compiled": sum(r.ok for r in results), "failures": failures}))
    return 0 if not failures else 1


def main(argv: list[str] | None = None, args: argparse.Namespace | None = None) -> int:
    """Run ``gpuspike doctor``; return the exit status.

    Parameters
    ----------
    argv : list of str, optional
        Command line arguments (default: ``sys.argv[1:]``).
    args : argparse.Namespace, optional
        Already parsed arguments (from the ``gpuspike`` command).

    Returns
    -------
    int
        0 when everything asked for works, else 1.
    """
    if args is None:
        args = build_parser().parse_args(argv)
    if getattr(args, "compile_only", False):
        return _compile_only(args)
    report = doctor(args.arch, compile_kernels=not args.skip_compile, run_job=not args.skip_job, quiet=args.json)
    if args.json:
        print(json.dumps({"ok": report.ok, "archs": report.archs, "kernels": report.kernels,
                          "signatures": report.signatures, "compiled": report.compiled,
                          "failures": report.failures or [], "checks": [asdict(c) for c in report.checks]}))
    return 0 if report.ok else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
