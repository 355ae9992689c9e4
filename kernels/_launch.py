"""CUDA kernels as declared objects: built on first use, launched on a stream, with the argument
signatures the library launches them with written next to each kernel.

A :class:`CudaKernel` holds a builder (a function that imports ``numba.cuda`` and returns the
``@cuda.jit`` dispatcher) and the tuple of signatures the library launches it with. The
signatures serve three purposes:

- the compile gate (:mod:`gpuspike.kernels._compile`, ``gpuspike doctor``) compiles every kernel
  for every signature to PTX for real hardware, without a GPU;
- under ``GPUSPIKE_CHECK_LAUNCHES=1`` (set by the test suite) every launch checks that its
  arguments match a declared signature and are device arrays (a host array would be copied
  synchronously), so the declared list cannot drift from what the library really launches;
- the same setting records each launch (kernel name and stream) so tests can check stream
  discipline.

:func:`rounded_ops` gives float operations that round each step (no fused multiply-add), so a
kernel gives the CPU's bits on real hardware, and NumPy scalar arithmetic under the simulator.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import numpy as np

__all__ = ["CudaKernel", "LaunchRecord", "array_type", "argument_type", "bind_device_globals", "checking_launches",
           "jit_kernel", "launch_log", "rounded_ops", "signatures"]

#: Hardware limits of a CUDA grid (blocks per dimension).
GRID_X_LIMIT = 2**31 - 1
GRID_YZ_LIMIT = 65535

_DTYPE_NAMES = {np.dtype(t): np.dtype(t).name for t in
                ("int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float32", "float64",
                 "bool")}


def array_type(dtype: Any, ndim: int, contiguous: bool = True) -> str:
    """numba's type string of a device array: ``array_type("int16", 2) == "int16[:, ::1]"``.

    Parameters
    ----------
    dtype : dtype-like
        Element type.
    ndim : int
        Number of dimensions (>= 1).
    contiguous : bool
        C-contiguous (layout ``C``, last axis ``::1``) or any layout (``A``).

    Returns
    -------
    str
        The type string numba parses in a signature.
    """
    name = "boolean" if np.dtype(dtype) == np.bool_ else np.dtype(dtype).name
    dims = [":"] * ndim
    if contiguous:
        dims[-1] = "::1"
    return f"{name}[{', '.join(dims)}]"


def signatures(*groups: Iterable[tuple[str, ...]]) -> tuple[tuple[str, ...], ...]:
    """Concatenate groups of signatures (tuples of type strings), dropping duplicates, in order.

    Parameters
    ----------
    *groups : iterable of tuple of str
        Signatures, e.g. from list comprehensions over dtypes.

    Returns
    -------
    tuple of tuple of str
    """
    out: list[tuple[str, ...]] = []
    for group in groups:
        for sig in group:
            sig = tuple(sig)
            if sig not in out:
                out.append(sig)
    return tuple(out)


def _is_c_contiguous(shape: tuple, strides: tuple, itemsize: int) -> bool:
    if 0 in shape:  # an empty array is contiguous (numpy's flags, numba's layout "C")
        return True
    expected = itemsize
    for size, stride in zip(reversed(shape), reversed(strides)):
        if size == 0:
            return True
        if size != 1 and stride != expected:
            return False
        expected *= size
    return True


def argument_type(x: Any) -> str:
    """The type string numba gives a kernel argument (as it would on a real GPU).

    Parameters
    ----------
    x : device array, or Python / NumPy scalar
        A CuPy array, a numba (real or simulated) device array, or a scalar.

    Returns
    -------
    str
        E.g. ``"float32[:, ::1]"``, ``"int64"``, ``"boolean"``.

    Raises
    ------
    TypeError
        For a host NumPy array (numba would copy it to the device and back, synchronously) or
        an argument of a kind the library never launches with.
    """
    if isinstance(x, np.ndarray):
        raise TypeError(f"a host NumPy array (shape {x.shape}, {x.dtype}) was passed to a CUDA kernel: numba "
                        f"would copy it to the device and back synchronously; pass a device array")
    if isinstance(x, (bool, np.bool_)):
        return "boolean"
    if isinstance(x, int):
        return "int64"
    if isinstance(x, float):
        return "float64"
    if isinstance(x, (np.integer, np.floating)):
        return np.dtype(type(x)).name
    if hasattr(x, "shape") and hasattr(x, "dtype"):
        shape = tuple(x.shape)
        dtype = np.dtype(x.dtype)
        strides = getattr(x, "strides", None)
        contiguous = True if strides is None else _is_c_contiguous(shape, tuple(strides), dtype.itemsize)
        return array_type(dtype, len(shape), contiguous)
    raise TypeError(f"unexpected CUDA kernel argument of type {type(x).__name__}")


def checking_launches() -> bool:
    """True when launches are checked against the declared signatures and recorded.

    Returns
    -------
    bool
        ``GPUSPIKE_CHECK_LAUNCHES=1`` in the environment (the test suite sets it).
    """
    return os.environ.get("GPUSPIKE_CHECK_LAUNCHES", "0") == "1"


@dataclass(frozen=True)
class LaunchRecord:
    """One recorded launch: the kernel's name, its argument types and its stream (None: default)."""

    kernel: str
    signature: tuple
    stream: Any
    blocks: tuple
    threads: tuple


_LOG: list[LaunchRecord] = []
_LOG_LOCK = threading.Lock()


def launch_log() -> list[LaunchRecord]:
    """The launches recorded so far (only while :func:`checking_launches`); clear it with ``.clear()``.

    Returns
    -------
    list of LaunchRecord
        The live list (append-only while launches run).
    """
    return _LOG


def _dims(x) -> tuple:
    return tuple(x) if isinstance(x, tuple) else (int(x),)


class CudaKernel:
    """A numba-cuda kernel of the library and the signatures it is launched with.

    Parameters
    ----------
    name : str
        Unique name (``"<module>.<kernel>"``), used in reports and errors.
    build : callable
        ``build() -> dispatcher``: imports ``numba.cuda`` and returns the ``@cuda.jit`` kernel.
        Called once, on the first launch or compilation.
    signatures : tuple of tuple of str
        Argument types of every launch the library makes (see :func:`array_type`).
    """

    def __init__(self, name: str, build: Callable[[], Any], signatures: tuple) -> None:
        if not signatures:
            raise ValueError(f"{name}: declare at least one signature")
        self.name = name
        self._build = build
        self.signatures = tuple(tuple(s) for s in signatures)
        self._dispatcher = None
        self._lock = threading.Lock()

    @property
    def dispatcher(self):
        """The ``@cuda.jit`` dispatcher (built on first access)."""
        if self._dispatcher is None:
            with self._lock:
                if self._dispatcher is None:
                    self._dispatcher = self._build()
        return self._dispatcher

    @property
    def py_func(self) -> Callable:
        """The kernel's Python function (what the compile gate compiles)."""
        d = self.dispatcher
        return getattr(d, "py_func", None) or d.fn

    def launch(self, blocks, threads, stream, *args) -> None:
        """Launch on ``stream`` (``None``: the default stream) with ``blocks`` x ``threads``.

        Parameters
        ----------
        blocks, threads : int or tuple of int
            Grid and block dimensions; each grid dimension must respect the hardware limits.
        stream : numba stream or None
            Stream of the launch.
        *args
            Kernel arguments: device arrays and scalars.

        Raises
        ------
        ValueError
            A grid dimension beyond the hardware limit.
        TypeError
            (``GPUSPIKE_CHECK_LAUNCHES=1`` only) arguments matching no declared signature, or a
            host array among them.
        """
        grid = _dims(blocks)
        limits = (GRID_X_LIMIT, GRID_YZ_LIMIT, GRID_YZ_LIMIT)
        if any(g < 1 or g > lim for g, lim in zip(grid, limits)):
            raise ValueError(f"{self.name}: grid {grid} exceeds the CUDA limits {limits[:len(grid)]}")
        if checking_launches():
            sig = tuple(argument_type(a) for a in args)
            if sig not in self.signatures:
                raise TypeError(
                    f"{self.name} launched with undeclared argument types {sig}; declared: {self.signatures}. "
                    f"Add the signature next to the kernel (the compile gate compiles only declared ones)")
            with _LOG_LOCK:
                _LOG.append(LaunchRecord(self.name, sig, stream, grid, _dims(threads)))
        self.dispatcher[blocks, threads, 0 if stream is None else stream](*args)


def rounded_ops() -> tuple[Callable, Callable, Callable, Callable]:
    """``(fmul, fadd, dmul, dadd)``: float32 / float64 multiply and add, each rounded to nearest.

    On the device these are libdevice's ``__nv_fmul_rn`` & co., which the compiler never fuses into
    a multiply-add (plain ``a * b + c`` becomes ``fma.rn``, whose single rounding differs from the
    CPU's two in about a quarter of the results). Under numba's simulator, NumPy scalar operations,
    which round the same way. Call inside a kernel builder.

    Returns
    -------
    tuple of callable
    """
    import numba

    if numba.config.ENABLE_CUDASIM:
        f32 = np.float32

        def fmul(a, b):
            return f32(a) * f32(b)

        def fadd(a, b):
            return f32(a) + f32(b)

        def dmul(a, b):
            return float(a) * float(b)

        def dadd(a, b):
            return float(a) + float(b)

        return fmul, fadd, dmul, dadd
    from numba.cuda import libdevice

    return libdevice.fmul_rn, libdevice.fadd_rn, libdevice.dmul_rn, libdevice.dadd_rn


def bind_device_globals(namespace: dict) -> None:
    """Bind ``cuda`` and the rounded operations (``fmul``, ``fadd``, ``dmul``, ``dadd``) as globals
    of a kernel module, on its first build.

    Kernels are module-level functions that use these globals: numba's simulator swaps the
    module's ``cuda`` while a kernel runs, and module-level kernels without closures can be cached
    on disk.

    Parameters
    ----------
    namespace : dict
        The kernel module's ``globals()``.
    """
    from numba import cuda

    namespace["cuda"] = cuda
    namespace["fmul"], namespace["fadd"], namespace["dmul"], namespace["dadd"] = rounded_ops()


def jit_kernel(py_func: Callable, device: bool = False):
    """``numba.cuda.jit`` of a module-level kernel (or device function), cached on disk where numba can.

    Parameters
    ----------
    py_func : callable
        The kernel's Python function.
    device : bool
        A device function (called by kernels) rather than a kernel.

    Returns
    -------
    dispatcher
    """
    import numba
    from numba import cuda

    if not numba.config.ENABLE_CUDASIM:
        try:
            from ._cache import install_cuda_cache_locator

            install_cuda_cache_locator()
        except Exception:  # noqa: BLE001 - another numba-cuda layout: its default locations apply
            pass
    try:
        return cuda.jit(py_func, device=device, cache=True)
    except Exception:  # noqa: BLE001 - no cache locator (e.g. a zipped install): compile per process
        return cuda.jit(py_func, device=device)
