"""Where numba keeps the compiled CPU kernels: a per-user cache folder, never inside the package.

numba's default for ``njit(cache=True)`` writes ``.nbi`` / ``.nbc`` files into the
``__pycache__`` folder beside the source, i.e. into ``site-packages/gpuspike/kernels`` of an
installed gpuspike. Files there outlive ``pip uninstall`` and, left behind, turn the folder into
a namespace package that shadows a later editable install. So the kernels of this package are
cached in ``platformdirs.user_cache_dir("gpuspike")/numba`` instead (``~/.cache/gpuspike/numba``
on Linux), or in ``$NUMBA_CACHE_DIR`` when the user set it (numba's own setting wins).

:func:`install_cache_locator` registers the locator with numba once, before the kernel modules
define their dispatchers. It applies to the files of this package only: other numba code in the
same process keeps numba's usual behaviour, and so do these files when imported under another
name than ``gpuspike.kernels`` (numba's cached code names the module it was compiled in: a
bare ``import kernels`` from a clone must not leave entries that ``gpuspike.kernels`` cannot load).
"""
from __future__ import annotations

import os
import tempfile

from numba.core import caching, config

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
#: the name this package is installed under; its kernels' cached code refers to their modules by it
_PACKAGE_NAME = "gpuspike.kernels"


def kernel_cache_dir() -> str:
    """Folder of the compiled CPU kernels of gpuspike.

    Returns
    -------
    str
        ``$NUMBA_CACHE_DIR`` when set, else ``<user cache dir>/gpuspike/numba`` (from
        ``platformdirs.user_cache_dir``), else, when that cannot be created or written, a
        per-user folder in the temporary directory.
    """
    if config.CACHE_DIR:
        return str(config.CACHE_DIR)
    for folder in _candidate_dirs():
        try:
            os.makedirs(folder, exist_ok=True)
            tempfile.TemporaryFile(dir=folder).close()
            return folder
        except OSError:
            continue
    return _candidate_dirs()[-1]


def installation_cache_dir() -> str:
    """The folder (inside :func:`kernel_cache_dir`) of the kernels of this installation of gpuspike:
    a wheel install and an editable clone each have their own.

    Returns
    -------
    str
    """
    return os.path.join(kernel_cache_dir(), KernelCacheLocator.get_suitable_cache_subpath(__file__))


def _candidate_dirs() -> list[str]:
    folders = []
    try:
        from platformdirs import user_cache_dir

        folders.append(os.path.join(user_cache_dir("gpuspike", appauthor=False), "numba"))
    except ImportError:  # platformdirs is a dependency; a broken environment still gets a safe folder
        pass
    user = getattr(os, "getuid", lambda: os.environ.get("USERNAME", "user"))()
    folders.append(os.path.join(tempfile.gettempdir(), f"gpuspike-{user}", "numba"))
    return folders


def _locator_base(caching_module) -> type:
    # numba >= 0.61 names the locators publicly; older releases (and numba-cuda) prefix them with "_"
    return getattr(caching_module, "UserWideCacheLocator", None) or getattr(caching_module, "_UserWideCacheLocator")


def _cache_impl_class(caching_module) -> type:
    return getattr(caching_module, "CacheImpl", None) or getattr(caching_module, "_CacheImpl")


class _KernelLocatorMixin:
    """numba cache locator for the source files of ``gpuspike.kernels`` (see the module doc)."""

    _numba_config = config

    def __init__(self, py_func, py_file):
        self._py_file = py_file
        self._lineno = py_func.__code__.co_firstlineno
        self._cache_path = os.path.join(kernel_cache_dir(), self.get_suitable_cache_subpath(py_file))

    def get_cache_path(self) -> str:
        return self._cache_path

    @classmethod
    def from_function(cls, py_func, py_file):
        if config.CACHE_DIR or getattr(cls._numba_config, "CACHE_DIR", None):  # NUMBA_CACHE_DIR: numba's own
            return None
        if os.path.dirname(os.path.abspath(py_file)) != _PACKAGE_DIR:
            return None
        if not str(getattr(py_func, "__module__", "")).startswith(_PACKAGE_NAME + "."):
            # the same file imported under another name (a bare ``import kernels`` from a clone):
            # its cached code would name that module, which gpuspike's processes cannot import
            return None
        self = cls(py_func, py_file)
        try:
            self.ensure_cache_path()
        except OSError:
            return None
        return self


#: the locator of the CPU kernels (numba's caching)
KernelCacheLocator = type("KernelCacheLocator", (_KernelLocatorMixin, _locator_base(caching)), {})


def _register(caching_module, locator: type) -> None:
    impl = _cache_impl_class(caching_module)
    locators = list(impl._locator_classes)
    if any(c.__name__ == locator.__name__ and c.__module__ == __name__ for c in locators):
        return
    impl._locator_classes = [locator, *locators]


def install_cache_locator() -> None:
    """Make numba cache this package's CPU kernels in :func:`kernel_cache_dir` (idempotent).

    Returns
    -------
    None
    """
    _register(caching, KernelCacheLocator)


def install_cuda_cache_locator() -> None:
    """The same for the CUDA kernels, in numba-cuda's caching (idempotent; call when numba.cuda is
    imported, i.e. on the first kernel build; nothing to do under the simulator, which caches nothing).

    Returns
    -------
    None
    """
    from numba.cuda.core import caching as cuda_caching
    from numba.cuda.core import config as cuda_config

    locator = type("CudaKernelCacheLocator", (_KernelLocatorMixin, _locator_base(cuda_caching)),
                   {"_numba_config": cuda_config})
    _register(cuda_caching, locator)
