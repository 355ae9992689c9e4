"""Waveforms and templates of units, drawn on the probe geometry.

Each channel's snippet is drawn at the channel's (x, y) location: sample s of a snippet of
``num_samples`` (peak at ``nbefore``) is at ``x + (s - nbefore) / num_samples * x_scale`` and value
v at ``y + v * y_scale``. ``x_scale`` is 0.8x the horizontal contact pitch; ``y_scale`` maps the
largest |template| of the units shown to 0.9x the vertical pitch. Both are returned in
``PlotResult.data`` so that the drawing can be checked (or reused) exactly.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..core.argnames import accepts_aliases
from .base import PlotResult, channel_layout, check_backend, make_axes, unit_colors


class _AnalyzerView:
    """What the widgets read of a WaveformExtractor, served by a SortingAnalyzer (SpikeInterface 0.105's
    input of these widgets) or a Templates object."""

    def __init__(self, obj) -> None:
        from ..core.sortinganalyzer import SortingAnalyzer
        from ..core.template import Templates

        self.sparsity = None
        self._waveforms = None
        if isinstance(obj, SortingAnalyzer):
            if not obj.has_extension("templates"):
                raise ValueError("the SortingAnalyzer has no 'templates' extension: "
                                 "sorting_analyzer.compute(['random_spikes', 'templates']) first")
            templates = obj.get_extension("templates")
            self._templates = np.asarray(templates.get_templates(operator="average"))
            self.unit_ids, self.channel_ids = np.asarray(obj.unit_ids), np.asarray(obj.channel_ids)
            self.nbefore = int(templates.nbefore)
            self.sparsity = obj.sparsity
            self._locations = obj.get_channel_locations()
            if obj.has_extension("waveforms"):
                self._waveforms = obj.get_extension("waveforms")
        elif isinstance(obj, Templates):
            self._templates = obj.get_dense_templates()
            self.unit_ids, self.channel_ids = np.asarray(obj.unit_ids), np.asarray(obj.channel_ids)
            self.nbefore = int(obj.nbefore)
            self.sparsity = obj.sparsity
            self._locations = obj.get_channel_locations()
        else:
            raise TypeError(f"expected a SortingAnalyzer or a Templates, got {type(obj).__name__}")

    def get_all_templates(self) -> np.ndarray:
        return self._templates

    def is_sparse(self) -> bool:
        return self.sparsity is not None

    def get_channel_locations(self) -> np.ndarray:
        return self._locations

    def has_waveforms(self) -> bool:
        return self._waveforms is not None

    def get_waveforms(self, unit_id) -> np.ndarray:
        return self._waveforms.get_waveforms_one_unit(unit_id)


def _as_source_object(obj):
    """A SortingAnalyzer or Templates as a WaveformExtractor-like view; anything else as it is."""
    from ..core.sortinganalyzer import SortingAnalyzer
    from ..core.template import Templates

    return _AnalyzerView(obj) if isinstance(obj, (SortingAnalyzer, Templates)) else obj


class _Source:
    """Templates, waveforms and geometry from a WaveformExtractor-like object or from arrays."""

    def __init__(self, obj, recording=None, unit_ids=None, channel_ids=None, nbefore=None, sparsity=None,
                 channel_locations=None):
        self.we = None
        obj = _as_source_object(obj)
        if hasattr(obj, "get_all_templates") and hasattr(obj, "unit_ids"):
            self.we = obj
            self.templates = np.asarray(obj.get_all_templates())
            self.unit_ids = np.asarray(obj.unit_ids)
            self.channel_ids = np.asarray(obj.channel_ids)
            self.nbefore = int(obj.nbefore)
            rec = getattr(obj, "recording", None)
            self.sparsity = sparsity if sparsity is not None else (
                obj.sparsity if getattr(obj, "is_sparse", lambda: False)() else None)
            if channel_locations is None:
                if hasattr(obj, "get_channel_locations"):
                    channel_locations = obj.get_channel_locations()
                elif rec is not None:
                    channel_locations = rec.get_channel_locations()
        else:
            templates = np.asarray(obj)
            if templates.ndim != 3:
                raise ValueError(f"templates must have shape (num_units, num_samples, num_channels), got "
                                 f"{templates.shape} (or pass a WaveformExtractor)")
            self.templates = templates
            self.unit_ids = np.arange(templates.shape[0]) if unit_ids is None else np.asarray(unit_ids)
            if channel_ids is None:
                channel_ids = recording.channel_ids if recording is not None else np.arange(templates.shape[2])
            self.channel_ids = np.asarray(channel_ids)
            self.nbefore = templates.shape[1] // 3 if nbefore is None else int(nbefore)
            self.sparsity = sparsity
            if channel_locations is None:
                if recording is None:
                    raise ValueError("templates given as an array: also give recording= (for channel locations) "
                                     "or channel_locations=")
                channel_locations = recording.get_channel_locations(channel_ids=self.channel_ids)
        if channel_locations is None:
            raise ValueError("no channel locations: attach a probe to the recording")
        self.locations = np.asarray(channel_locations, dtype="float64")[:, :2]
        if self.templates.shape[0] != len(self.unit_ids) or self.templates.shape[2] != len(self.channel_ids):
            raise ValueError(f"templates shape {self.templates.shape} does not match {len(self.unit_ids)} units x "
                             f"{len(self.channel_ids)} channels")
        if self.locations.shape[0] != len(self.channel_ids):
            raise ValueError(f"{self.locations.shape[0]} channel locations for {len(self.channel_ids)} channels")

    def unit_index(self, unit_id) -> int:
        hits = np.flatnonzero(self.unit_ids == unit_id)
        if hits.size == 0:
            raise KeyError(f"unit_id {unit_id!r} is not one of {self.unit_ids.tolist()[:20]}")
        return int(hits[0])

    def channel_indices(self, unit_id, channel_ids=None) -> np.ndarray:
        if self.sparsity is not None:
            mask = np.asarray(self.sparsity.mask)[self.unit_index(unit_id)]
        else:
            mask = np.ones(len(self.channel_ids), dtype=bool)
        if channel_ids is not None:
            mask = mask & np.isin(self.channel_ids, np.asarray(channel_ids))
        return np.flatnonzero(mask)


def _resolve_units(source: _Source, unit_ids) -> list:
    if unit_ids is None:
        return source.unit_ids.tolist()
    unit_ids = list(np.atleast_1d(np.asarray(unit_ids)).tolist())
    for u in unit_ids:
        source.unit_index(u)
    return unit_ids


def _scales(source: _Source, unit_ids, x_scale, y_scale):
    dx, dy = channel_layout(source.locations)
    if x_scale is None:
        x_scale = 0.8 * dx
    if y_scale is None:
        idx = [source.unit_index(u) for u in unit_ids]
        peak = float(np.max(np.abs(source.templates[idx]))) if idx else 0.0
        y_scale = 0.9 * dy / peak if peak > 0 else 1.0
    return float(x_scale), float(y_scale)


def _x_coords(num_samples: int, nbefore: int, x0: float, x_scale: float) -> np.ndarray:
    return x0 + (np.arange(num_samples) - nbefore) / num_samples * x_scale


def _colors(source: _Source, given) -> dict:
    """One color per unit; ``given`` ({unit_id: color}) overrides some."""
    colors = unit_colors(source.unit_ids)
    if given is not None:
        unknown = [u for u in given if not np.any(source.unit_ids == u)]
        if unknown:
            raise ValueError(f"unit_colors names units that are not plotted from: {unknown[:5]}")
        colors.update(given)
    return colors


def _finish_axes(axis, source, chans, x_scale, title):
    if chans.size:
        locs = source.locations[chans]
        axis.set_xlim(locs[:, 0].min() - x_scale, locs[:, 0].max() + x_scale)
        pad = channel_layout(source.locations)[1]
        axis.set_ylim(locs[:, 1].min() - pad, locs[:, 1].max() + pad)
    axis.set_title(title)
    axis.set_xlabel("x (µm)")
    axis.set_ylabel("y (µm)")


@accepts_aliases(sorting_analyzer_or_templates="waveform_extractor_or_templates")
def plot_unit_templates(waveform_extractor_or_templates, channel_ids: Sequence | None = None,
                        unit_ids: Sequence | None = None, recording=None, sparsity=None,
                        nbefore: int | None = None, channel_locations=None, ax=None, ncols: int = 5,
                        x_scale: float | None = None, y_scale: float | None = None, same_axis: bool = False,
                        show_channel_locations: bool = True, figsize=None, unit_colors: dict | None = None,
                        scale: float = 1.0, lw_templates: float = 2.0, alpha_templates: float = 1.0,
                        set_title: bool = True, plot_legend: bool = True, backend: str | None = None) -> PlotResult:
    """Plot unit templates on the probe geometry (each channel's template at its location).

    Parameters
    ----------
    waveform_extractor_or_templates : SortingAnalyzer, Templates, WaveformExtractor or np.ndarray
        A SortingAnalyzer with its "templates" extension (SpikeInterface 0.105's input; also taken as
        ``sorting_analyzer_or_templates=``), a ``Templates`` with a probe, a WaveformExtractor
        (``get_all_templates()``, ``unit_ids``, ``channel_ids``, ``nbefore``, ``recording``,
        ``sparsity``/``is_sparse()``), or dense templates (num_units, num_samples, num_channels) with
        ``recording`` (or ``channel_locations``).
    channel_ids : array-like, optional
        Restrict to these channels (intersected with each unit's sparsity).
    unit_ids : array-like, optional
        Units to plot (default all).
    recording : BaseRecording, optional
        Geometry and channel ids when templates are an array.
    sparsity : ChannelSparsity, optional
        Channels drawn per unit (default: the extractor's sparsity, else all channels).
    nbefore : int, optional
        Samples before the peak (arrays only; default num_samples // 3).
    channel_locations : np.ndarray, optional
        (num_channels, 2) locations overriding the recording's.
    ax : matplotlib Axes or sequence of Axes, optional
        One axes (``same_axis=True``) or one per unit.
    ncols : int
        Columns of the subplot grid (one axes per unit).
    x_scale, y_scale : float, optional
        See the module docstring.
    same_axis : bool
        All units on one axes, in different colors.
    show_channel_locations : bool
        Mark the channel locations with small dots.
    figsize : tuple, optional
    unit_colors : dict, optional
        ``{unit_id: color}`` for some or all units (default: a tab10 / tab20 cycle).
    scale : float
        Factor on the vertical scale of the snippets.
    lw_templates, alpha_templates : float
        Line width and opacity of the templates.
    set_title : bool
        Title each axes with its unit.
    plot_legend : bool
        Name the units in a legend when they share an axes (``same_axis``).
    backend : {None, "matplotlib"}

    Returns
    -------
    PlotResult
        ``axes`` (one per unit unless ``same_axis``); ``data``: ``unit_ids``, ``templates`` (dense,
        the units shown), ``channel_indices`` ({unit_id: indices drawn, in line order}),
        ``locations``, ``nbefore``, ``x_scale``, ``y_scale``. Each axes holds one ``Line2D`` per
        drawn channel, in ``channel_indices`` order.
    """
    check_backend(backend)
    source = _Source(waveform_extractor_or_templates, recording=recording, unit_ids=None, channel_ids=None,
                     nbefore=nbefore, sparsity=sparsity, channel_locations=channel_locations)
    units = _resolve_units(source, unit_ids)
    x_scale, y_scale = _scales(source, units, x_scale, y_scale)
    y_scale *= scale
    fig, axes = make_axes(ax, num_axes=1 if same_axis else len(units), ncols=ncols, figsize=figsize)
    colors = _colors(source, unit_colors)
    num_samples = source.templates.shape[1]
    drawn = {}
    for k, unit_id in enumerate(units):
        axis = axes[0] if same_axis else axes[k]
        template = source.templates[source.unit_index(unit_id)]
        chans = source.channel_indices(unit_id, channel_ids)
        drawn[unit_id] = chans
        if show_channel_locations and (not same_axis or k == 0):
            shown = source.locations if same_axis else source.locations[chans]
            axis.scatter(shown[:, 0], shown[:, 1], s=3, color="0.7", zorder=0)
        for k_line, c in enumerate(chans):
            x0, y0 = source.locations[c]
            axis.plot(_x_coords(num_samples, source.nbefore, x0, x_scale), y0 + template[:, c] * y_scale,
                      color=colors[unit_id], lw=lw_templates, alpha=alpha_templates,
                      label=str(unit_id) if k_line == 0 else None)
        if not same_axis:
            _finish_axes(axis, source, chans, x_scale, f"unit {unit_id}" if set_title else "")
    if same_axis:
        all_chans = np.unique(np.concatenate(list(drawn.values()))) if drawn else np.zeros(0, int)
        _finish_axes(axes[0], source, all_chans, x_scale, "templates" if set_title else "")
        if plot_legend and len(units) > 1:
            axes[0].legend(loc="upper right")
    idx = [source.unit_index(u) for u in units]
    data = {"unit_ids": units, "templates": source.templates[idx], "channel_indices": drawn,
            "locations": source.locations, "nbefore": source.nbefore, "x_scale": x_scale, "y_scale": y_scale}
    return PlotResult(fig, axes, data)


@accepts_aliases(sorting_analyzer_or_templates="waveform_extractor")
def plot_unit_waveforms(waveform_extractor, channel_ids: Sequence | None = None, unit_ids: Sequence | None = None,
                        max_spikes_per_unit: int = 50, plot_templates: bool = True, ax=None, ncols: int = 5,
                        x_scale: float | None = None, y_scale: float | None = None, alpha: float = 0.3,
                        sparsity=None, figsize=None, plot_waveforms: bool = True, plot_channels: bool = False,
                        unit_colors: dict | None = None, scale: float = 1.0, lw_waveforms: float = 1.0,
                        lw_templates: float = 2.0, alpha_waveforms: float | None = None, alpha_templates: float = 1.0,
                        set_title: bool = True, backend: str | None = None) -> PlotResult:
    """Plot the waveforms of units (and their templates) on the probe geometry.

    Parameters
    ----------
    waveform_extractor : SortingAnalyzer or WaveformExtractor
        A SortingAnalyzer with its "waveforms" and "templates" extensions (SpikeInterface 0.105's
        input; also taken as ``sorting_analyzer_or_templates=``), or a WaveformExtractor:
        ``get_waveforms(unit_id)`` -- (num_spikes, num_samples, num_channels), sparse (the unit's
        channels in ``sparsity.unit_id_to_channel_indices`` order) or dense --, plus what
        :func:`plot_unit_templates` needs.
    channel_ids : array-like, optional
        Restrict to these channels.
    unit_ids : array-like, optional
        Units to plot (default all), one axes each.
    max_spikes_per_unit : int
        At most this many waveforms per unit, evenly spaced over the unit's sampled spikes.
    plot_templates : bool
        Draw the template over the waveforms.
    ax : sequence of Axes, optional
        One per unit.
    ncols : int
    x_scale, y_scale : float, optional
        See the module docstring (``y_scale`` default: from the templates).
    alpha : float
        Opacity of the waveforms (``alpha_waveforms`` wins when given).
    sparsity : ChannelSparsity, optional
        Override the extractor's sparsity.
    figsize : tuple, optional
    plot_waveforms : bool
        Draw the waveforms (False: the templates only).
    plot_channels : bool
        Mark the unit's channel locations with small dots.
    unit_colors : dict, optional
        ``{unit_id: color}`` for some or all units (default: a tab10 / tab20 cycle).
    scale : float
        Factor on the vertical scale of the snippets.
    lw_waveforms, lw_templates : float
        Line widths.
    alpha_waveforms : float, optional
        SpikeInterface 0.105's name of ``alpha``.
    alpha_templates : float
        Opacity of the templates.
    set_title : bool
        Title each axes with its unit.
    backend : {None, "matplotlib"}

    Returns
    -------
    PlotResult
        One axes per unit. On each, the first lines are one ``Line2D`` per drawn channel holding
        all the unit's shown waveforms on that channel, separated by NaN (``data["spike_indices"]``
        says which waveforms); then, with ``plot_templates``, one template line per channel.
        ``data`` also has ``channel_indices``, ``locations``, ``nbefore``, ``x_scale``, ``y_scale``.
    """
    check_backend(backend)
    alpha = alpha if alpha_waveforms is None else alpha_waveforms
    view = _as_source_object(waveform_extractor)
    if not (hasattr(view, "get_waveforms") and hasattr(view, "get_all_templates")) or \
            not getattr(view, "has_waveforms", lambda: True)():
        raise TypeError("plot_unit_waveforms needs waveforms: a SortingAnalyzer with its 'waveforms' extension "
                        "(sorting_analyzer.compute('waveforms')) or a WaveformExtractor; for templates only use "
                        "plot_unit_templates")
    source = _Source(view, sparsity=sparsity)
    units = _resolve_units(source, unit_ids)
    x_scale, y_scale = _scales(source, units, x_scale, y_scale)
    y_scale *= scale
    fig, axes = make_axes(ax, num_axes=len(units), ncols=ncols, figsize=figsize)
    colors = _colors(source, unit_colors)
    we_sparsity = source.we.sparsity if getattr(source.we, "is_sparse", lambda: False)() else None
    num_samples = source.templates.shape[1]
    drawn, spike_indices = {}, {}
    for k, unit_id in enumerate(units):
        axis = axes[k]
        wfs = np.asarray(source.we.get_waveforms(unit_id))
        if wfs.ndim != 3:
            raise ValueError(f"get_waveforms({unit_id!r}) returned shape {wfs.shape}, expected 3 dimensions")
        if wfs.shape[2] == len(source.channel_ids):
            wf_channels = np.arange(len(source.channel_ids))
        elif we_sparsity is not None:
            wf_channels = np.asarray(we_sparsity.unit_id_to_channel_indices[unit_id])
            if wfs.shape[2] != wf_channels.size:
                raise ValueError(f"unit {unit_id!r}: waveforms have {wfs.shape[2]} channels, its sparsity "
                                 f"{wf_channels.size}")
        else:
            raise ValueError(f"unit {unit_id!r}: waveforms have {wfs.shape[2]} channels, the extractor "
                             f"{len(source.channel_ids)}, and no sparsity says which")
        column_of = {int(c): j for j, c in enumerate(wf_channels)}
        chans = np.array([c for c in source.channel_indices(unit_id, channel_ids) if int(c) in column_of],
                         dtype="int64")
        n_spikes = wfs.shape[0]
        if n_spikes > max_spikes_per_unit:
            chosen = np.unique(np.linspace(0, n_spikes - 1, max_spikes_per_unit).round().astype("int64"))
        else:
            chosen = np.arange(n_spikes)
        drawn[unit_id] = chans
        spike_indices[unit_id] = chosen
        template = source.templates[source.unit_index(unit_id)]
        if plot_channels:
            axis.scatter(source.locations[chans, 0], source.locations[chans, 1], s=3, color="0.7", zorder=0)
        for c in chans if plot_waveforms else ():
            x0, y0 = source.locations[c]
            xs = _x_coords(num_samples, source.nbefore, x0, x_scale)
            block = wfs[chosen, :, column_of[int(c)]].astype("float64") * y_scale + y0
            x_all = np.concatenate([np.append(xs, np.nan) for _ in chosen]) if chosen.size else xs[:0]
            y_all = np.concatenate([np.append(row, np.nan) for row in block]) if chosen.size else xs[:0]
            axis.plot(x_all, y_all, color=colors[unit_id], alpha=alpha, lw=lw_waveforms)
        if plot_templates:
            for c in chans:
                x0, y0 = source.locations[c]
                axis.plot(_x_coords(num_samples, source.nbefore, x0, x_scale), y0 + template[:, c] * y_scale,
                          color="k", lw=lw_templates, alpha=alpha_templates)
        _finish_axes(axis, source, chans, x_scale, f"unit {unit_id}" if set_title else "")
    data = {"unit_ids": units, "channel_indices": drawn, "spike_indices": spike_indices,
            "locations": source.locations, "nbefore": source.nbefore, "x_scale": x_scale, "y_scale": y_scale}
    return PlotResult(fig, axes, data)
