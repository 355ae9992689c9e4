"""Backend objects: one interface for arrays and kernels on the CPU (NumPy) or a GPU (CUDA).

Algorithms are written once against :class:`Backend`::

    be = get_backend("auto")                  # "numpy", "cuda" or "auto" (decided once per process)
    stream = be.new_stream()                  # a non-blocking CUDA stream (None on numpy)
    x = be.asarray(host_array, stream=stream) # to the device (no-op on numpy)
    out = be.empty((n, c), "float32", stream=stream)
    be.kernels.scale(x, gains, offsets, out, stream=stream)
    result = be.to_host(out, stream=stream)   # waits for the stream, then copies

On a real GPU ``xp`` is CuPy: arrays come from CuPy's memory pool and the numba-cuda kernels
receive them through ``__cuda_array_interface__``; a stream is a CuPy non-blocking stream, which
the kernels are launched on and CuPy's own operations run under. Under
``NUMBA_ENABLE_CUDASIM=1`` the "cuda" backend runs the same kernels in numba's simulator: ``xp``
is NumPy and arrays are simulated device arrays made with ``numba.cuda.to_device``. Importing
this module imports neither ``numba.cuda`` nor CuPy.
"""
from __future__ import annotations

import abc
import contextlib
import functools
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


def _kernel_namespace(device: str, launch_stream=None) -> SimpleNamespace:
    """The kernels of ``device``; with ``launch_stream``, ``stream=`` arguments (a backend's
    :class:`DeviceStream`) are turned into the stream object the kernels launch on."""
    from gpuspike import kernels

    funcs = {name: getattr(kernels, f"{name}_{device}") for name in kernels.KERNEL_NAMES}
    if launch_stream is not None:
        def on_stream(func):
            @functools.wraps(func)
            def call(*args, stream=None, **kwargs):
                return func(*args, stream=launch_stream(stream), **kwargs)
            return call

        funcs = {name: on_stream(f) for name, f in funcs.items()}
    return SimpleNamespace(**funcs)


class DeviceStream:
    """A CUDA stream of the "cuda" backend: kernels launch on it, CuPy operations run under it.

    Attributes
    ----------
    numba : numba stream
        What the kernels are launched on (a wrapper of the CuPy stream on a real GPU).
    cupy : cupy.cuda.Stream or None
        The CuPy stream (non-blocking), None under the simulator.
    """

    def __init__(self, numba_stream, cupy_stream=None) -> None:
        self.numba = numba_stream
        self.cupy = cupy_stream

    def synchronize(self) -> None:
        """Wait until everything queued on the stream has run."""
        self.numba.synchronize()

    def record(self, timing: bool = True):
        """Record an event on the stream and return it (a numba event).

        Parameters
        ----------
        timing : bool
            A timing event (``elapsed_time`` works; a little slower to record).

        Returns
        -------
        numba event
        """
        from numba import cuda

        event = cuda.event(timing=timing)
        event.record(self.numba)
        return event

    def wait(self, event) -> None:
        """Make the stream wait (on the device, the host does not block) for ``event``."""
        event.wait(self.numba)

    def __repr__(self) -> str:
        return f"<DeviceStream {self.numba!r}>"


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
    is_device : bool
        Arrays live in device memory: blocks of traces go to the device through the pinned
        ring buffer, and only results come back.
    fork_safe : bool
        A forked worker process can use this backend (a forked CUDA context cannot: worker
        processes of a CUDA job are spawned).
    kernels_cached_on_disk : bool
        Compiled kernels are loaded from numba's on-disk cache by later processes (the CPU
        kernels); False where a process may compile them again (the CUDA kernels).
    """

    name: str
    xp: ModuleType
    kernels: SimpleNamespace
    device_name: str
    is_simulator: bool
    is_device: bool
    fork_safe: bool = True
    kernels_cached_on_disk: bool = False

    @abc.abstractmethod
    def asarray(self, x: Any, dtype: Any = None, stream: Any = None) -> Any:
        """Return ``x`` as a contiguous array of this backend (copied to the device if needed).

        Parameters
        ----------
        x : array-like
            NumPy array, list, or an array already on this backend (returned as is when the
            dtype matches).
        dtype : dtype, optional
            Cast to this dtype.
        stream : DeviceStream, optional
            Stream of the copy (cuda).

        Returns
        -------
        array
            NumPy array (numpy), CuPy array (cuda) or simulated device array (cuda simulator).
        """

    @abc.abstractmethod
    def to_host(self, x: Any, stream: Any = None) -> np.ndarray:
        """Return ``x`` as a NumPy array in host memory (copied from the device if needed).

        Parameters
        ----------
        x : array
            An array of any backend, or a NumPy array.
        stream : DeviceStream, optional
            Copy after the work queued on this stream, and wait for it.

        Returns
        -------
        np.ndarray
            Host copy (``x`` itself when it already is a NumPy array).
        """

    @abc.abstractmethod
    def empty(self, shape: Any, dtype: Any, stream: Any = None) -> Any:
        """Allocate an uninitialized array of this backend.

        Parameters
        ----------
        shape : int or tuple of int
            Shape.
        dtype : dtype
            Data type.
        stream : DeviceStream, optional
            Stream the allocation is ordered on (CuPy's memory pool).

        Returns
        -------
        array
            New array on this backend's device.
        """

    @abc.abstractmethod
    def zeros(self, shape: Any, dtype: Any, stream: Any = None) -> Any:
        """Allocate a zero-filled array of this backend.

        Parameters
        ----------
        shape : int or tuple of int
            Shape.
        dtype : dtype
            Data type.
        stream : DeviceStream, optional
            Stream the allocation and the fill run on.

        Returns
        -------
        array
            New zero-filled array on this backend's device.
        """

    def new_stream(self) -> Any:
        """A new stream for this backend's work (None on the CPU).

        Returns
        -------
        DeviceStream or None
        """
        return None

    def free_memory(self) -> int:
        """Bytes of this backend's memory that are free now (device memory on a GPU).

        Returns
        -------
        int
        """
        import psutil

        return int(psutil.virtual_memory().available)

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
        self.is_device = False
        self.kernels_cached_on_disk = True

    def asarray(self, x: Any, dtype: Any = None, stream: Any = None) -> np.ndarray:
        return np.ascontiguousarray(_host(x), dtype=dtype)

    def to_host(self, x: Any, stream: Any = None) -> np.ndarray:
        return _host(x)

    def empty(self, shape: Any, dtype: Any, stream: Any = None) -> np.ndarray:
        return np.empty(shape, dtype=dtype)

    def zeros(self, shape: Any, dtype: Any, stream: Any = None) -> np.ndarray:
        return np.zeros(shape, dtype=dtype)


class CudaBackend(Backend):
    """GPU backend: numba-cuda kernels on CuPy arrays, or simulated device arrays under the simulator."""

    def __init__(self, simulator: bool, device_name: str) -> None:
        from numba import cuda

        self._cuda = cuda
        self.name = "cuda"
        self.is_simulator = simulator
        self.is_device = True
        self.fork_safe = False
        self.device_name = device_name
        self.kernels = _kernel_namespace("cuda", launch_stream=lambda s: None if s is None else s.numba)
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

    def _on(self, stream):
        """CuPy's current-stream context for ``stream`` (nothing under the simulator)."""
        if self._cupy is None or stream is None:
            return contextlib.nullcontext()
        return stream.cupy

    def new_stream(self) -> DeviceStream:
        if self._cupy is None:
            return DeviceStream(self._cuda.stream())
        cupy_stream = self._cupy.cuda.Stream(non_blocking=True)
        return DeviceStream(self._cuda.external_stream(cupy_stream.ptr), cupy_stream)

    def asarray(self, x: Any, dtype: Any = None, stream: Any = None) -> Any:
        if self._cupy is not None:
            with self._on(stream):
                return self._cupy.ascontiguousarray(self._cupy.asarray(x, dtype=dtype))
        if self._is_device(x):
            if dtype is None or np.dtype(dtype) == np.dtype(x.dtype):
                return x
            x = x.copy_to_host()
        host = np.ascontiguousarray(np.asarray(x), dtype=dtype)
        return self._cuda.to_device(host, stream=0 if stream is None else stream.numba)

    def to_host(self, x: Any, stream: Any = None) -> np.ndarray:
        if self._cupy is not None and isinstance(x, self._cupy.ndarray):
            with self._on(stream):
                return self._cupy.asnumpy(x, stream=None if stream is None else stream.cupy)
        if hasattr(x, "copy_to_host") and not isinstance(x, np.ndarray):
            out = x.copy_to_host(stream=0 if stream is None else stream.numba)
            if stream is not None:
                stream.synchronize()
            return out
        return _host(x)

    def empty(self, shape: Any, dtype: Any, stream: Any = None) -> Any:
        if self._cupy is not None:
            with self._on(stream):
                return self._cupy.empty(shape, dtype=dtype)
        return self._cuda.device_array(shape, dtype=np.dtype(dtype))

    def zeros(self, shape: Any, dtype: Any, stream: Any = None) -> Any:
        if self._cupy is not None:
            with self._on(stream):
                return self._cupy.zeros(shape, dtype=dtype)
        return self._cuda.to_device(np.zeros(shape, dtype=dtype))

    def free_memory(self) -> int:
        if self._cupy is None:
            return super().free_memory()
        free, _total = self._cupy.cuda.Device().mem_info
        return int(free + self._cupy.get_default_memory_pool().free_bytes())

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
            name = _auto_choice()
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


_AUTO: list[str] = []


def _auto_choice() -> str:
    """What "auto" means in this process, decided once: "cuda" with a usable real GPU, else "numpy"."""
    if not _AUTO:
        status = cuda_status()
        _AUTO.append("cuda" if status.usable and not status.simulator else "numpy")
    return _AUTO[0]


def resolve_backend_name(name: str) -> str:
    """The concrete backend name for ``name`` ("auto" decided once per process).

    Parameters
    ----------
    name : {"auto", "numpy", "cuda"}

    Returns
    -------
    str
        "numpy" or "cuda".

    Raises
    ------
    ValueError
        If ``name`` is not one of "auto", "numpy", "cuda".
    """
    if name not in BACKEND_NAMES:
        raise ValueError(f"backend={name!r} is not allowed; use one of {list(BACKEND_NAMES)}")
    if name != "auto":
        return name
    with _LOCK:
        return _auto_choice()


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
