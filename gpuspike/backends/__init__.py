"""Backend dispatch: the same algorithms on NumPy (CPU) or CUDA (CuPy + numba-cuda kernels).

``get_backend("auto" | "numpy" | "cuda")`` returns a :class:`Backend` with ``xp``, ``asarray``,
``to_host``, ``empty``/``zeros`` and the kernels of :mod:`gpuspike.kernels` as
``backend.kernels.<name>``. Importing this package imports neither ``numba.cuda`` nor CuPy.
"""
from .backend import (
    BACKEND_NAMES,
    Backend,
    BackendUnavailableError,
    CudaBackend,
    NumpyBackend,
    available_backends,
    DeviceStream,
    get_backend,
    resolve_backend_name,
)
from .cuda import CudaStatus, cuda_status

__all__ = [
    "BACKEND_NAMES",
    "Backend",
    "BackendUnavailableError",
    "CudaBackend",
    "CudaStatus",
    "DeviceStream",
    "NumpyBackend",
    "available_backends",
    "cuda_status",
    "get_backend",
    "resolve_backend_name",
]
