"""Helpers of the kernel tests (a uniquely named module: pytest puts this folder on sys.path).

The naive references live in ``reference.py`` beside this file; they are loaded by path under a
unique module name, so that no other ``reference`` module of the repository can shadow them.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

_REF_PATH = Path(__file__).with_name("reference.py")


def _load_reference():
    spec = importlib.util.spec_from_file_location("gpuspike_tests_kernel_reference", _REF_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: tests/kernels/reference.py
ref = _load_reference()


class KernelRunner:
    """Call ``gpuspike.kernels.<name>_<cpu|cuda>`` with arrays moved to the device and back.

    Calling the runner returns the host copy of every argument after the call (``None`` for
    non-arrays), in argument order, so outputs are read by position.
    """

    def __init__(self, kind: str) -> None:
        import gpuspike.kernels as kernels

        self.kind = kind
        self.kernels = kernels
        self.suffix = "cpu" if kind == "cpu" else "cuda"
        #: float results are compared bitwise with the CPU's on every device: the CUDA kernels round
        #: every operation (no fused multiply-add), which the compile gate checks in their PTX
        self.exact_float = True
        if kind == "cupy":
            import cupy

            self._to_dev = cupy.asarray
            self._to_host = cupy.asnumpy
        elif kind == "cuda":
            from numba import cuda

            self._to_dev = cuda.to_device
            self._to_host = lambda x: x.copy_to_host()
        else:
            self._to_dev = lambda x: x
            self._to_host = lambda x: x

    def function(self, name: str):
        """The kernel function ``name`` of this device."""
        return getattr(self.kernels, f"{name}_{self.suffix}")

    def device(self, x):
        """Move ``x`` to the device if it is a NumPy array."""
        return self._to_dev(x) if isinstance(x, np.ndarray) else x

    def __call__(self, name: str, *args, **kwargs):
        dev_args = [self.device(a) for a in args]
        self.function(name)(*dev_args, **{k: self.device(v) for k, v in kwargs.items()})
        return [
            self._to_host(d) if isinstance(a, np.ndarray) else None for a, d in zip(args, dev_args)
        ]


def assert_bitwise(actual: np.ndarray, expected: np.ndarray) -> None:
    """Same dtype, same shape, same bytes (NaN payloads included)."""
    assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    if actual.tobytes() != expected.tobytes():
        a = actual.reshape(-1)
        e = expected.reshape(-1)
        bad = [i for i in range(a.size) if a[i : i + 1].tobytes() != e[i : i + 1].tobytes()]
        raise AssertionError(
            f"arrays differ at {len(bad)} of {a.size} elements; first flat indices {bad[:5]}: "
            f"{a[bad[:5]]} != {e[bad[:5]]}"
        )


def poison(shape, dtype) -> np.ndarray:
    """An output array filled with a value no kernel writes by accident (NaN or a sentinel)."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return np.full(shape, np.nan, dtype=dtype)
    if dtype.kind in "iu":
        return np.full(shape, np.iinfo(dtype).min + 3, dtype=dtype)
    raise TypeError(f"no poison for dtype {dtype}")


def assert_close(actual: np.ndarray, expected: np.ndarray, rtol: float = 1e-6) -> None:
    """``|actual - expected| <= rtol * (|expected| + max|expected|*1e-3)``: relative, with a floor
    for entries near zero; NaN must match NaN. Shapes must agree."""
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    scale = float(np.nanmax(np.abs(expected))) if np.isfinite(expected).any() else 0.0
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * 1e-3 * scale + 1e-300, equal_nan=True)
