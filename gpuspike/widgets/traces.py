"""Traces of a recording: one line per channel, or a time x channel map."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .base import PlotResult, check_backend, make_axes, unit_colors


def plot_traces(recording, segment_index: int | None = None, channel_ids: Sequence | None = None,
                order_channel_by_depth: bool = False, time_range: Sequence[float] | None = None, mode: str = "auto",
                return_in_uV: bool = False, cmap: str = "RdBu_r", show_channel_ids: bool = False, events=None,
                events_color="gray", events_alpha: float = 0.5, color_groups: bool = False, color=None,
                clim=None, tile_size: int = 1500, seconds_per_row: float = 0.2, scale: float = 1,
                vspacing_factor: float = 1.5, with_colorbar: bool = True, add_legend: bool = True,
                backend: str | None = None, ax=None, vspacing: float | None = None, figsize=None,
                return_scaled: bool | None = None, **backend_kwargs) -> PlotResult:
    """Plot traces of one recording, or of several on the same channels as layers (SpikeInterface
    0.105's ``plot_traces``, its parameters in its order).

    Parameters
    ----------
    recording : BaseRecording, dict or list of BaseRecording
        Several recordings (``{"raw": rec, "filtered": rec_f}``) are drawn as layers, one color each
        (line mode); they must have the first one's channels, segments and sampling frequency.
    segment_index : int, optional
        Required for multi-segment recordings.
    channel_ids : array-like, optional
        Channels to show (default: all).
    order_channel_by_depth : bool
        Order channels by their y location (needs locations).
    time_range : (float, float), optional
        Start and end time (s) within the segment; default: the first second.
    mode : {"auto", "line", "map"}
        ``"line"``: one ``Line2D`` per channel and layer, channel i offset by ``i * vspacing``
        (bottom to top); ``"map"``: an image (channels x samples) drawn with ``imshow`` (one layer
        only); ``"auto"``: lines for up to 64 channels, else the map.
    return_in_uV : bool
        Plot µV (needs gains) instead of raw values.
    cmap : str
        Colormap (map mode).
    show_channel_ids : bool
        Label the y axis with channel ids.
    events : np.ndarray or list of np.ndarray, optional
        Events drawn as vertical lines: times in seconds, or a structured array with a ``time``
        field (and ``duration``: drawn as a span); one array per segment for a multi-segment
        recording.
    events_color : color
    events_alpha : float
    color_groups : bool
        Color the first layer's channels by their ``group`` property.
    color : color, optional
        Line color of the first layer (line mode; default black, or one color per layer).
    clim : (float, float) or dict, optional
        Color limits (map mode; a dict by layer key; default symmetric at the 99th percentile of
        ``abs(traces)``).
    tile_size, seconds_per_row
        Used by SpikeInterface's interactive backends; unused with matplotlib (accepted).
    scale : float
        Factor applied to the traces before plotting.
    vspacing_factor : float
        Line spacing as a multiple of the largest absolute value of the first layer's traces.
    with_colorbar : bool
        Draw a color bar (map mode).
    add_legend : bool
        Name the layers in a legend (several layers).
    backend : {None, "matplotlib"}
        The only backend.
    ax : matplotlib Axes, optional
        Draw there (default: a new figure).
    vspacing : float, optional
        Offset between lines (line mode; default ``vspacing_factor`` times the largest absolute value).
    figsize : tuple, optional
    return_scaled : bool, optional
        The name of ``return_in_uV`` before SpikeInterface 0.105.
    **backend_kwargs
        ``figure``, ``axes`` (SpikeInterface's matplotlib backend: drawn on ``axes`` or a new axes of
        ``figure``).

    Returns
    -------
    PlotResult
        ``data`` holds ``times`` (s), ``traces`` (samples x channels, as plotted, first layer),
        ``layers`` (``{key: traces}``), ``channel_ids`` (bottom to top), ``mode``, ``colors``
        (``{key: {channel_id: color}}``) and ``offsets`` (line mode: line i's y data is
        ``traces[:, i] + offsets[i]``).
    """
    if return_scaled is not None:
        return_in_uV = return_scaled
    check_backend(backend)
    unknown = sorted(set(backend_kwargs) - {"figure", "axes"})
    if unknown:
        raise TypeError(f"plot_traces: unknown keyword arguments {unknown}")
    if ax is None and backend_kwargs.get("axes") is not None:
        ax = backend_kwargs["axes"]
    if ax is None and backend_kwargs.get("figure") is not None:
        ax = backend_kwargs["figure"].add_subplot(111)
    layers = _as_layers(recording)
    rec0 = next(iter(layers.values()))
    if mode not in ("auto", "line", "map"):
        raise ValueError(f"mode={mode!r}: allowed values are 'auto', 'line', 'map'")
    if mode == "auto":
        shown = rec0.get_num_channels() if channel_ids is None else len(channel_ids)
        mode = "line" if shown <= 64 else "map"
    if mode == "map" and len(layers) > 1:
        raise ValueError(f"mode='map' draws one recording; {len(layers)} were given (use mode='line')")
    segment_index = rec0._check_segment_index(segment_index)
    fs = rec0.get_sampling_frequency()
    n = rec0.get_num_samples(segment_index)
    t0 = rec0.get_start_time(segment_index)
    if time_range is None:
        time_range = (t0, t0 + min(1.0, n / fs))
    if len(time_range) != 2 or time_range[1] <= time_range[0]:
        raise ValueError(f"time_range={tuple(time_range)!r}: expected (start, end) with start < end (seconds)")
    start = int(np.clip(rec0.time_to_sample_index(time_range[0], segment_index), 0, n))
    end = int(np.clip(rec0.time_to_sample_index(time_range[1], segment_index), 0, n))
    if end <= start:
        raise ValueError(f"time_range={tuple(time_range)!r} holds no sample of segment {segment_index} "
                         f"(times {t0:.3f} .. {t0 + n / fs:.3f} s)")
    if channel_ids is None:
        channel_ids = rec0.channel_ids
    channel_ids = np.asarray(channel_ids)
    if channel_ids.size == 0:
        raise ValueError("channel_ids is empty: give at least one channel")
    if order_channel_by_depth:
        locations = rec0.get_channel_locations(channel_ids=channel_ids)
        channel_ids = channel_ids[np.argsort(locations[:, 1], kind="stable")]
    traces_by_layer = {key: scale * np.asarray(rec.get_traces(segment_index=segment_index, start_frame=start,
                                                               end_frame=end, channel_ids=channel_ids,
                                                               return_in_uV=return_in_uV), dtype="float64")
                       for key, rec in layers.items()}
    traces = next(iter(traces_by_layer.values()))
    times = np.asarray(rec0.get_times(segment_index, start_frame=start, end_frame=end), dtype="float64")
    colors = _layer_colors(rec0, list(layers), channel_ids, color_groups, color)

    fig, axes = make_axes(ax, figsize=figsize)
    axis = axes[0]
    data = {"times": times, "traces": traces, "layers": traces_by_layer, "channel_ids": channel_ids, "mode": mode,
            "colors": colors}
    if mode == "line":
        if vspacing is None:
            peak = float(np.abs(traces).max()) if traces.size else 0.0
            vspacing = vspacing_factor * peak if peak > 0 else 1.0
        offsets = np.arange(len(channel_ids), dtype="float64") * vspacing
        for key, layer_traces in traces_by_layer.items():
            for i, channel_id in enumerate(channel_ids.tolist()):
                axis.plot(times, layer_traces[:, i] + offsets[i], color=colors[key][channel_id], lw=0.6,
                          label=key if i == 0 else None)
        data["offsets"] = offsets
        if show_channel_ids:
            axis.set_yticks(offsets)
            axis.set_yticklabels([str(c) for c in channel_ids])
        axis.set_ylim(offsets[0] - vspacing, offsets[-1] + vspacing)
        if add_legend and len(layers) > 1:
            axis.legend(loc="upper right")
    else:
        if isinstance(clim, dict):
            clim = clim[next(iter(layers))]
        if clim is None:
            lim = float(np.percentile(np.abs(traces), 99)) if traces.size else 1.0
            clim = (-lim, lim) if lim > 0 else (-1.0, 1.0)
        dt = 1.0 / fs
        image = axis.imshow(traces.T, aspect="auto", origin="lower", cmap=cmap, vmin=clim[0], vmax=clim[1],
                            interpolation="nearest",
                            extent=(times[0], times[-1] + dt, -0.5, len(channel_ids) - 0.5))
        if with_colorbar:
            fig.colorbar(image, ax=axis, label="µV" if return_in_uV else "raw")
        if show_channel_ids and len(channel_ids) <= 64:
            axis.set_yticks(np.arange(len(channel_ids)))
            axis.set_yticklabels([str(c) for c in channel_ids])
        data["image"] = image
    if events is not None:
        data["events"] = _draw_events(axis, events, rec0.get_num_segments(), segment_index, times[0],
                                      times[-1] + 1.0 / fs, events_color, events_alpha)
    axis.set_xlabel("time (s)")
    axis.set_ylabel("channel")
    axis.set_xlim(times[0], times[-1])
    return PlotResult(fig, axes, data)


def _as_layers(recording) -> dict:
    """``{key: recording}`` from one recording, a dict or a list ("rec0", "rec1", ...), checked alike."""
    from ..core.recording import BaseRecording

    if isinstance(recording, BaseRecording):
        return {"rec": recording}
    if isinstance(recording, dict):
        layers = dict(recording)
    elif isinstance(recording, (list, tuple)):
        layers = {f"rec{i}": rec for i, rec in enumerate(recording)}
    else:
        raise TypeError(f"recording must be a recording, or a dict or list of recordings; "
                        f"got {type(recording).__name__}")
    if not layers or not all(isinstance(rec, BaseRecording) for rec in layers.values()):
        raise TypeError("recording: a dict or list of recordings needs at least one, and only recordings")
    first_key, first = next(iter(layers.items()))
    for key, rec in layers.items():
        same = (np.array_equal(rec.channel_ids, first.channel_ids)
                and rec.get_num_segments() == first.get_num_segments()
                and rec.get_sampling_frequency() == first.get_sampling_frequency())
        if not same:
            raise ValueError(f"recording {key!r}: the layers of plot_traces need the channels, segments and sampling "
                             f"frequency of {first_key!r}")
    return layers


def _layer_colors(rec0, layer_keys: list, channel_ids: np.ndarray, color_groups: bool, color) -> dict:
    """``{layer: {channel_id: color}}`` as SpikeInterface's: black; the first layer by channel group, or in
    ``color``; one color per layer when there are several and no color is given."""
    colors = {key: {c: "k" for c in channel_ids.tolist()} for key in layer_keys}
    if color_groups and "group" in rec0.get_property_keys():
        groups = rec0.get_channel_groups(channel_ids=channel_ids)
        by_group = unit_colors(np.unique(groups).tolist())
        colors[layer_keys[0]] = {c: by_group[g] for c, g in zip(channel_ids.tolist(), groups.tolist())}
    elif color is not None:
        colors[layer_keys[0]] = {c: color for c in channel_ids.tolist()}
    elif len(layer_keys) > 1:
        by_layer = unit_colors(layer_keys)
        colors = {key: {c: by_layer[key] for c in channel_ids.tolist()} for key in layer_keys}
    return colors


def _draw_events(axis, events, num_segments: int, segment_index: int, t_start: float, t_stop: float,
                 color, alpha: float) -> np.ndarray:
    """Draw the events of the segment that fall in [t_start, t_stop); return them (structured, ``time`` field)."""
    if num_segments > 1:
        if not isinstance(events, (list, tuple)) or len(events) != num_segments:
            raise ValueError(f"events: give one array per segment ({num_segments} segments)")
        events = events[segment_index]
    elif isinstance(events, (list, tuple)):
        events = np.concatenate([np.atleast_1d(np.asarray(e)) for e in events]) if len(events) else np.zeros(0)
    events = np.atleast_1d(np.asarray(events))
    if events.dtype.names is None:
        events = np.array([(t,) for t in events.astype("float64")], dtype=[("time", "float64")])
    elif "time" not in events.dtype.names:
        raise ValueError(f"events: a structured array needs a 'time' field, got fields {events.dtype.names}")
    shown = events[(events["time"] >= t_start) & (events["time"] < t_stop)]
    for event in shown:
        if "duration" in shown.dtype.names:
            axis.axvspan(event["time"], event["time"] + event["duration"], alpha=alpha, color=color)
        else:
            axis.axvline(event["time"], alpha=alpha, color=color)
    return shown
