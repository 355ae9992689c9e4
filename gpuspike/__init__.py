"""gpuspike: GPU-first arrays for extracellular electrophysiology, with SpikeInterface's core API.

``import gpuspike as gs`` imports the core only (no numba compile, no CuPy, no matplotlib);
``import gpuspike.full as gs`` imports everything, flattened.
"""
__version__ = "0.1.0"

from .core import *  # noqa: F401,F403
from .core import __all__  # noqa: F401
