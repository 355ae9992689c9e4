"""Compile every CUDA kernel for real hardware, without a GPU: PTX through libNVVM.

numba's simulator runs kernels as Python, so it accepts code that the GPU compiler rejects
(unsupported calls, type unification errors) and hides fused multiply-adds. This module compiles
each :data:`~gpuspike.kernels.CUDA_KERNELS` kernel for each declared signature to PTX for the
given architectures, and checks the PTX for fused multiply-adds (``fma.``): every kernel rounds
each float operation so that it gives the CPU's bits. It needs numba-cuda with libNVVM
(``numba-cuda[cu12]`` or ``[cu13]``) and the simulator off; no GPU or driver.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

__all__ = ["CompileResult", "compile_kernels", "parse_arch"]


@dataclass
class CompileResult:
    """Outcome of compiling one kernel for one signature and one architecture.

    Attributes
    ----------
    kernel : str
        Kernel name.
    signature : tuple of str
        Argument types.
    arch : str
        ``"sm_80"``, ``"sm_90"``, ...
    ok : bool
        Compiled, and the PTX has no fused multiply-add.
    error : str
        Why not (empty when ``ok``).
    seconds : float
        Compile time.
    ptx_bytes : int
        Size of the PTX.
    """

    kernel: str
    signature: tuple
    arch: str
    ok: bool
    error: str = ""
    seconds: float = 0.0
    ptx_bytes: int = 0
    ptx: str = field(default="", repr=False)


def parse_arch(arch: str) -> tuple[int, int]:
    """``"sm_90"`` (or ``"90"``, ``"9.0"``) → ``(9, 0)``.

    Parameters
    ----------
    arch : str
        Architecture name.

    Returns
    -------
    tuple of int
        Compute capability.

    Raises
    ------
    ValueError
        For anything else.
    """
    m = re.fullmatch(r"\s*(?:sm_?|compute_?)?(\d)\.?(\d)\s*", str(arch))
    if m is None:
        raise ValueError(f"arch={arch!r}: give a compute capability like 'sm_80', 'sm_90' or '9.0'")
    return int(m.group(1)), int(m.group(2))


_FMA = re.compile(r"^\s*fma\.", re.MULTILINE)


class _TargetDevice:
    """Stands in for the current device while compiling without a GPU.

    numba-cuda asks the driver for the current device's compute capability when it compiles a
    device function that a kernel calls; without a GPU there is no driver. During the gate the
    answer is the target architecture, which is what a GPU of that architecture would give.
    """

    def __init__(self, cc: tuple[int, int]) -> None:
        self.compute_capability = cc


def _compile_ptx(cuda, func, text: str, cc: tuple[int, int]) -> str:
    import numba.cuda.dispatcher as dispatcher

    original = dispatcher.get_current_device
    dispatcher.get_current_device = lambda: _TargetDevice(cc)
    try:
        ptx, _ = cuda.compile_ptx(func, text, cc=cc, fastmath=False)
    finally:
        dispatcher.get_current_device = original
    return ptx


def compile_kernels(archs: Sequence[str] = ("sm_80", "sm_90"), kernels: Iterable | None = None,
                    keep_ptx: bool = False, progress: Callable[[CompileResult], None] | None = None
                    ) -> list[CompileResult]:
    """Compile every declared signature of every CUDA kernel to PTX for each architecture.

    Parameters
    ----------
    archs : sequence of str
        Target architectures (``"sm_80"``, ``"sm_90"``, ...).
    kernels : iterable of CudaKernel, optional
        Default: all of :data:`gpuspike.kernels.CUDA_KERNELS`.
    keep_ptx : bool
        Keep the PTX text in the results.
    progress : callable, optional
        Called with each result as it is made.

    Returns
    -------
    list of CompileResult
        One per (kernel, signature, arch); ``ok`` False with the compiler's message on failure.

    Raises
    ------
    RuntimeError
        numba's CUDA simulator is on (nothing would be compiled), or numba-cuda is missing.
    """
    import numba

    if numba.config.ENABLE_CUDASIM:
        raise RuntimeError("the compile gate needs numba's CUDA simulator off (NUMBA_ENABLE_CUDASIM unset): "
                           "the simulator compiles nothing")
    try:
        from numba import cuda
    except ImportError as exc:  # pragma: no cover - numba-cuda is a test dependency
        raise RuntimeError("the compile gate needs numba-cuda with libNVVM: pip install 'numba-cuda[cu12]'") from exc
    if kernels is None:
        from . import CUDA_KERNELS as kernels
    targets = [(a, parse_arch(a)) for a in archs]
    results: list[CompileResult] = []
    for kernel in kernels:
        func = kernel.py_func
        for sig in kernel.signatures:
            text = "void(" + ", ".join(sig) + ")"
            for arch, cc in targets:
                t0 = time.perf_counter()
                try:
                    ptx = _compile_ptx(cuda, func, text, cc)
                except Exception as exc:  # noqa: BLE001 - reported, not raised
                    res = CompileResult(kernel.name, sig, arch, False, f"{type(exc).__name__}: {exc}",
                                        time.perf_counter() - t0)
                else:
                    fused = _FMA.search(ptx)
                    res = CompileResult(kernel.name, sig, arch, fused is None,
                                        "" if fused is None else f"fused multiply-add in the PTX: {fused.group(0)!r}",
                                        time.perf_counter() - t0, len(ptx), ptx if keep_ptx else "")
                results.append(res)
                if progress is not None:
                    progress(res)
    return results
