"""Everything of gpuspike, flattened: ``import gpuspike.full as gs``.

Core objects and tools, the file-format readers, the widgets and the backend dispatch. Unlike
``import gpuspike``, this imports the readers' dependencies (neo, h5py) and may import matplotlib.
"""
from .core import *  # noqa: F401,F403
from .core import __all__ as _core_all
from .extractors import *  # noqa: F401,F403
from .extractors import __all__ as _extractors_all
from .widgets import *  # noqa: F401,F403
from .widgets import __all__ as _widgets_all
from .backends import available_backends, cuda_status, get_backend
from . import backends, core, extractors, streaming, widgets

__all__ = [*_core_all, *_extractors_all, *_widgets_all, "available_backends", "cuda_status", "get_backend",
           "backends", "core", "extractors", "streaming", "widgets"]
