"""What every widget returns, and the small helpers they share (matplotlib imported lazily)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


def _import_pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - matplotlib is a dependency, but an optional one for the core
        raise ImportError("gpuspike.widgets needs matplotlib: pip install 'gpuspike[plot]'") from None
    return plt


@dataclass
class PlotResult:
    """A drawn figure, as SpikeInterface's widgets expose it.

    Attributes
    ----------
    figure : matplotlib.figure.Figure
    axes : list of matplotlib.axes.Axes
        Every axes drawn on (one per unit for the per-unit widgets).
    ax : matplotlib.axes.Axes
        The first (often the only) axes.
    data : dict
        What was drawn, for programmatic checks: the arrays and the scale factors that map
        data to plot coordinates (documented by each widget).
    """

    figure: Any
    axes: list
    data: dict = field(default_factory=dict)

    @property
    def ax(self):
        return self.axes[0] if self.axes else None

    def savefig(self, fname, **kwargs) -> None:
        """``figure.savefig`` shortcut."""
        self.figure.savefig(fname, **kwargs)


def make_axes(ax=None, num_axes: int = 1, ncols: int | None = None, figsize=None):
    """Return (figure, list of axes): the given ``ax`` (one axes, or a sequence of them), or new subplots."""
    if ax is not None:
        axes = list(np.ravel(ax)) if isinstance(ax, (list, tuple, np.ndarray)) else [ax]
        if len(axes) < num_axes:
            raise ValueError(f"ax: {len(axes)} axes given, this figure needs {num_axes}")
        return axes[0].figure, axes[:num_axes]
    plt = _import_pyplot()
    if ncols is None:
        ncols = min(num_axes, 5)
    ncols = max(1, min(ncols, num_axes))
    nrows = int(np.ceil(num_axes / ncols))
    if figsize is None:
        figsize = (4 * ncols, 4 * nrows) if num_axes > 1 else (8, 6)
    fig, axs = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False)
    axes = list(axs.ravel())
    for extra in axes[num_axes:]:
        extra.set_axis_off()
    return fig, axes[:num_axes]


def check_backend(backend) -> None:
    """gpuspike draws with matplotlib: ``backend`` None or "matplotlib", else a ValueError naming them."""
    if backend not in (None, "matplotlib"):
        raise ValueError(f"backend={backend!r}: gpuspike draws with matplotlib only (backend=None or 'matplotlib')")


def unit_colors(unit_ids) -> dict:
    """One color per id (units, channel groups, layers): a tab10 / tab20 cycle."""
    plt = _import_pyplot()
    cmap = plt.get_cmap("tab10" if len(unit_ids) <= 10 else "tab20")
    return {u: cmap(i % cmap.N) for i, u in enumerate(list(unit_ids))}


def channel_layout(locations: np.ndarray) -> tuple[float, float]:
    """Horizontal and vertical pitch of a probe layout (µm), for placing per-channel snippets."""
    locations = np.asarray(locations, dtype="float64")

    def pitch(values):
        u = np.unique(np.round(values, 6))
        if u.size < 2:
            return None
        return float(np.min(np.diff(u)))

    dx = pitch(locations[:, 0])
    dy = pitch(locations[:, 1])
    if dx is None and dy is None:
        dx = dy = 20.0
    dx = dx if dx is not None else dy
    dy = dy if dy is not None else dx
    return dx, dy
