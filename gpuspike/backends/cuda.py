"""What the CUDA backend needs, and whether this machine has it.

Imports neither ``numba.cuda`` nor CuPy at import time: :func:`cuda_status` does, lazily.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

INSTALL_HINT = (
    "on a machine with an NVIDIA GPU and driver, install the GPU extra from the gpuspike source folder "
    "(gpuspike is not on PyPI): `pip install \".[gpu]\"` (CUDA 12 driver) or `pip install \".[gpu-cu13]\"` "
    "(CUDA 13 driver), then check with `gpuspike doctor`; or set NUMBA_ENABLE_CUDASIM=1 before numba is first "
    "imported to run the CUDA kernels in numba's simulator (slow, for tests)"
)


@dataclass(frozen=True)
class CudaStatus:
    """Why the CUDA backend is, or is not, usable here.

    Attributes
    ----------
    usable : bool
        ``get_backend("cuda")`` will succeed.
    simulator : bool
        numba's CUDA simulator is on (``NUMBA_ENABLE_CUDASIM=1``).
    numba_cuda : bool
        ``numba.cuda`` (numba-cuda) imports.
    driver : bool
        A real GPU and its driver were found (``numba.cuda.is_available()``), simulator off.
    cupy : bool
        CuPy imports.
    device_name : str or None
        Name of the device, if any.
    message : str
        One human readable line saying what is there and what is missing.
    """

    usable: bool
    simulator: bool
    numba_cuda: bool
    driver: bool
    cupy: bool
    device_name: str | None
    message: str

    def __str__(self) -> str:
        return self.message


def simulator_enabled() -> bool:
    """Return whether numba's CUDA simulator is on.

    Returns
    -------
    bool
        ``numba.config.ENABLE_CUDASIM`` (set from ``NUMBA_ENABLE_CUDASIM`` when numba was first
        imported).
    """
    try:
        import numba

        return bool(numba.config.ENABLE_CUDASIM)
    except Exception:  # pragma: no cover - numba is a hard dependency
        return os.environ.get("NUMBA_ENABLE_CUDASIM", "0") == "1"


def _device_name(cuda) -> str:
    try:
        name = cuda.get_current_device().name
    except Exception:
        return "CUDA device"
    return name.decode() if isinstance(name, bytes) else str(name)


def cuda_status() -> CudaStatus:
    """Check whether the CUDA backend can run here, and say why not.

    Imports ``numba.cuda`` and CuPy (lazily) to find out; starts no kernel.

    Returns
    -------
    CudaStatus
        Flags and a one-line ``message``; ``str(status)`` is the message.
    """
    sim = simulator_enabled()
    try:
        from numba import cuda  # noqa: F401

        has_numba_cuda = True
    except Exception:
        cuda = None
        has_numba_cuda = False

    if sim:
        if has_numba_cuda:
            return CudaStatus(
                True, True, True, False, False, "CUDA simulator",
                "CUDA backend usable through numba's CUDA simulator (NUMBA_ENABLE_CUDASIM=1): "
                "kernels run on the CPU, slowly; arrays are simulated device arrays and xp is numpy",
            )
        return CudaStatus(
            False, True, False, False, False, None,
            "CUDA backend unavailable: NUMBA_ENABLE_CUDASIM=1 but numba-cuda is not installed; "
            + INSTALL_HINT,
        )

    driver = False
    driver_error = ""
    if has_numba_cuda:
        try:
            driver = bool(cuda.is_available())
        except Exception as exc:  # pragma: no cover - depends on the machine
            driver_error = f" ({exc})"
    try:
        import cupy  # noqa: F401

        has_cupy = True
    except Exception:
        has_cupy = False

    name = _device_name(cuda) if driver else None
    if has_numba_cuda and driver and has_cupy:
        return CudaStatus(True, False, True, True, True, name, f"CUDA backend usable on {name}")
    missing = []
    if not has_numba_cuda:
        missing.append("numba-cuda is not installed (numba.cuda does not import)")
    elif not driver:
        missing.append("no CUDA GPU or driver found (numba.cuda.is_available() is False)" + driver_error)
    if not has_cupy:
        missing.append("CuPy is not installed")
    return CudaStatus(
        False, False, has_numba_cuda, driver, has_cupy, name,
        "CUDA backend unavailable: " + "; ".join(missing) + ". To use it, " + INSTALL_HINT,
    )
