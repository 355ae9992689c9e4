"""Backend objects: one interface for arrays and kernels on the CPU (NumPy) or a GPU (CUDA).

Algorithms are written once against :class:`Backend`::

    be = get_backend("auto")          # "numpy", "cuda" or "auto"
    x = be.asarray(host_array)        # to the device (no-op on numpy)
    out = be.empty((n, c), "float32")
    be.kernels.scale(x, gains, offsets, out)
    result = be.to_host(out)

On a real GPU ``xp`` is CuPy and the numba-cuda kernels receive CuPy arrays through
``__cuda_array_interface__``. Under ``NUMBA_ENABLE_CUDASIM=1`` the "cuda" backend runs the same
kernels in numba's simulator: ``xp`` is NumPy and arrays are simulated device arrays made with
``numba.cuda.to_device``. Importing this module imports neither ``numba.cuda`` nor CuPy.
"""
from __future__ import annotations

import abc
import threading
from types import ModuleType, SimpleNamespace
from typing import Any

import numpy as np

from .cuda import cuda_status

BACKEND_NAMES: tuple[str, ...] = ("auto", "numpy", "cuda")

_CACHE: dict[str, "Backend"] = {}
_LOCK = threading.Lock()


class BackendUnavailableError(RuntimeError):
    """The requested backend cannot run on this machine (the message says what is missing)."""


def _kernel_namespace(device: str) -> SimpleNamespace:
    from gpuspike import kernels

    return SimpleNamespace(**{name: getattr(kernels, f"{name}_{device}") for name in kernels.KERNEL_NAMES})


class Backend(abc.ABC):
    """Arrays and kernels of one device kind.

    Attributes
    ----------
    name : str
        "numpy" or "cuda".
    xp : module
        The array module: numpy, or cupy on a real GPU (numpy under the simulator).
    kernels : types.SimpleNamespace
        The kernels of :mod:`gpuspike.kernels` for this device, without the ``_cpu`` /
        ``_cuda`` suffix (``kernels.scale``, ``kernels.gather_waveforms``, ...).
    device_name : str
        "cpu", the GPU's name, or "CUDA simulator".
    is_simulator : bool
        True when the CUDA kernels run in numba's simulator.
    """

    name: str
    xp: ModuleType
    kernels: SimpleNamespace
    device_name: str
    is_simulator: bool

    @abc.abstractmethod
    def asarray(self, x: Any, dtype: Any = None) -> Any:
        """Return ``x`` as a contiguous array of this backend (copied to the device if needed).

        Parameters
        ----------
        x : array-like
            NumPy array, list, or an array already on this backend (returned as is when the
            dtype matches).
        dtype : dtype, optional
            Cast to this dtype.

        Returns
        -------
        array
            NumPy array (numpy), CuPy array (cuda) or simulated device array (cuda simulator).
        """

    @abc.abstractmethod
    def to_host(self, x: Any) -> np.ndarray:
        """Return ``x`` as a NumPy array in host memory (copied from the device if needed).

        Parameters
        ----------
        x : array
            An array of any backend, or a NumPy array.

        Returns
        -------
        np.ndarray
            Host copy (``x`` itself when it already is a NumPy array).
        """

    @abc.abstractmethod
    def empty(self, shape: Any, dtype: Any) -> Any:
        """Allocate an uninitialized array of this backend.

        Parameters
        ----------
        shape : int or tuple of int
            Shape.
        dtype : dtype
            Data type.

        Returns
        -------
        array
            New array on this backend's device.
        """

    @abc.abstractmethod
    def zeros(self, shape: Any, dtype: Any) -> Any:
        """Allocate a zero-filled array of this backend.

        Parameters
        ----------
        shape : int or tuple of int
            Shape.
        dtype : dtype
            Data type.

        Returns
        -------
        array
            New zero-filled array on this backend's device.
        """

    def synchronize(self) -> None:
        """Wait for all queued device work (no-op on the CPU)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} device={self.device_name!r}>"


class NumpyBackend(Backend):
    """CPU backend: NumPy arrays, numba ``njit`` kernels."""

    def __init__(self) -> None:
        self.name = "numpy"
        self.xp = np
        self.kernels = _kernel_namespace("cpu")
        self.device_name = "cpu"
        self.is_simulator = False

    def asarray(self, x: Any, dtype: Any = None) -> np.ndarray:
        return np.ascontiguousarray(_host(x), dtype=dtype)

    def to_host(self, x: Any) -> np.ndarray:
        return _host(x)

    def empty(self, shape: Any, dtype: Any) -> np.ndarray:
        return np.empty(shape, dtype=dtype)

    def zeros(self, shape: Any, dtype: Any) -> np.ndarray:
        return np.zeros(shape, dtype=dtype)


class CudaBackend(Backend):
    """GPU backend: numba-cuda kernels on CuPy arrays, or simulated device arrays under the simulator."""

    def __init__(self, simulator: bool, device_name: str) -> None:
        from numba import cuda

        self._cuda = cuda
        self.name = "cuda"
        self.is_simulator = simulator
        self.device_name = device_name
        self.kernels = _kernel_namespace("cuda")
        if simulator:
            self.xp = np
            self._cupy = None
        else:
            import cupy

            self.xp = cupy
            self._cupy = cupy

    def _is_device(self, x: Any) -> bool:
        if self._cupy is not None:
            return isinstance(x, self._cupy.ndarray)
        return hasattr(x, "copy_to_host") and not isinstance(x, np.ndarray)

    def asarray(self, x: Any, dtype: Any = None) -> Any:
        if self._cupy is not None:
            return self._cupy.ascontiguousarray(self._cupy.asarray(x, dtype=dtype))
        if self._is_device(x):
            if dtype is None or np.dtype(dtype) == np.dtype(x.dtype):
                return x
            x = x.copy_to_host()
        return self._cuda.to_device(np.ascontiguousarray(np.asarray(x), dtype=dtype))

    def to_host(self, x: Any) -> np.ndarray:
        if self._cupy is not None and isinstance(x, self._cupy.ndarray):
            return self._cupy.asnumpy(x)
        return _host(x)

    def empty(self, shape: Any, dtype: Any) -> Any:
        if self._cupy is not None:
            return self._cupy.empty(shape, dtype=dtype)
        return self._cuda.device_array(shape, dtype=np.dtype(dtype))

    def zeros(self, shape: Any, dtype: Any) -> Any:
        if self._cupy is not None:
            return self._cupy.zeros(shape, dtype=dtype)
        return self._cuda.to_device(np.zeros(shape, dtype=dtype))

    def synchronize(self) -> None:
        self._cuda.synchronize()


def _host(x: Any) -> np.ndarray:
    if isinstance(x, np.ndarray):
        return x
    if hasattr(x, "copy_to_host"):
        return x.copy_to_host()
    if hasattr(x, "get") and hasattr(x, "__cuda_array_interface__"):
        return x.get()
    return np.asarray(x)


def get_backend(name: str = "auto") -> Backend:
    """Return the backend called ``name`` (one shared instance per backend).

    Parameters
    ----------
    name : {"auto", "numpy", "cuda"}
        "auto" is "cuda" when a real usable GPU is present (numba-cuda sees a device, the
        simulator is off, CuPy imports), else "numpy". "cuda" also accepts numba's simulator.

    Returns
    -------
    Backend
        The backend object.

    Raises
    ------
    ValueError
        If ``name`` is not one of "auto", "numpy", "cuda".
    BackendUnavailableError
        If "cuda" is asked for and neither a usable GPU nor the simulator is present; the message
        names what is missing and how to install it (``pip install ".[gpu]"`` in the gpuspike source folder).
    """
    if isinstance(name, Backend):
        return name
    if name not in BACKEND_NAMES:
        raise ValueError(f"backend={name!r} is not allowed; use one of {list(BACKEND_NAMES)}")
    with _LOCK:
        if name == "auto":
            status = cuda_status()
            name = "cuda" if status.usable and not status.simulator else "numpy"
        if name in _CACHE:
            return _CACHE[name]
        if name == "numpy":
            backend: Backend = NumpyBackend()
        else:
            status = cuda_status()
            if not status.usable:
                raise BackendUnavailableError(status.message)
            backend = CudaBackend(simulator=status.simulator, device_name=status.device_name or "CUDA device")
        _CACHE[name] = backend
        return backend


def available_backends() -> list[str]:
    """Return the names of the backends usable here ("numpy" always, "cuda" when usable).

    Returns
    -------
    list of str
        E.g. ``["numpy"]`` or ``["numpy", "cuda"]``.
    """
    names = ["numpy"]
    if cuda_status().usable:
        names.append("cuda")
    return names
