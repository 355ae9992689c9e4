"""matplotlib figures of gpuspike objects (the ``plot`` extra).

Every ``plot_*`` function draws with matplotlib (imported only when a function runs: ``import
gpuspike`` never imports matplotlib) and returns a :class:`PlotResult` with ``.figure``,
``.axes`` (list), ``.ax`` (the first axes) and ``.data`` (what was drawn), as SpikeInterface's
matplotlib widgets expose ``.figure`` / ``.ax`` / ``.axes``.
"""
from .base import PlotResult
from .probe import plot_probe_map
from .sparsity import plot_sparsity
from .traces import plot_traces
from .waveforms import plot_unit_templates, plot_unit_waveforms

__all__ = [
    "PlotResult",
    "plot_probe_map",
    "plot_sparsity",
    "plot_traces",
    "plot_unit_templates",
    "plot_unit_waveforms",
]
