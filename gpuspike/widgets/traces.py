"""Traces of a recording: one line per channel, or a time x channel map."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .base import PlotResult, make_axes


def plot_traces(recording, segment_index: int | None = None, channel_ids: Sequence | None = None,
                order_channel_by_depth: bool = False, time_range: Sequence[float] | None = None, mode: str = "auto",
                return_in_uV: bool = False, cmap: str = "RdBu_r", show_channel_ids: bool = False, color=None,
                clim: Sequence[float] | None = None, ax=None, vspacing: float | None = None, figsize=None,
                return_scaled: bool | None = None) -> PlotResult:
    """Plot traces of a recording (SpikeInterface 0.105's ``plot_traces``, its parameters in its order).

    Parameters
    ----------
    recording : BaseRecording
    segment_index : int, optional
        Required for multi-segment recordings.
    channel_ids : array-like, optional
        Channels to show (default: all).
    order_channel_by_depth : bool
        Order channels by their y location (needs locations).
    time_range : (float, float), optional
        Start and end time (s) within the segment; default: the first second.
    mode : {"auto", "line", "map"}
        ``"line"``: one ``Line2D`` per channel, channel i offset by ``i * vspacing`` (bottom to
        top); ``"map"``: an image (channels x samples) drawn with ``imshow``; ``"auto"``: lines for
        up to 64 channels, else the map.
    return_in_uV : bool
        Plot µV (needs gains) instead of raw values.
    cmap : str
        Colormap (map mode).
    show_channel_ids : bool
        Label the y axis with channel ids.
    color : color, optional
        Line color (line mode; default black).
    clim : (float, float), optional
        Color limits (map mode; default symmetric at the 99th percentile of ``abs(traces)``).
    ax : matplotlib Axes, optional
        Draw there (default: a new figure).
    vspacing : float, optional
        Offset between lines (line mode; default 1.5x the largest peak-to-peak).
    figsize : tuple, optional
    return_scaled : bool, optional
        The name of ``return_in_uV`` before SpikeInterface 0.105.

    Returns
    -------
    PlotResult
        ``data`` holds ``times`` (s), ``traces`` (samples x channels, as plotted), ``channel_ids``
        (bottom to top), ``mode`` and ``offsets`` (line mode: line i's y data is
        ``traces[:, i] + offsets[i]``).
    """
    if return_scaled is not None:
        return_in_uV = return_scaled
    if mode not in ("auto", "line", "map"):
        raise ValueError(f"mode={mode!r}: allowed values are 'auto', 'line', 'map'")
    if mode == "auto":
        shown = recording.get_num_channels() if channel_ids is None else len(channel_ids)
        mode = "line" if shown <= 64 else "map"
    color = "k" if color is None else color
    segment_index = recording._check_segment_index(segment_index)
    fs = recording.get_sampling_frequency()
    n = recording.get_num_samples(segment_index)
    t0 = recording.get_start_time(segment_index)
    if time_range is None:
        time_range = (t0, t0 + min(1.0, n / fs))
    if len(time_range) != 2 or time_range[1] <= time_range[0]:
        raise ValueError(f"time_range={tuple(time_range)!r}: expected (start, end) with start < end (seconds)")
    start = int(np.clip(recording.time_to_sample_index(time_range[0], segment_index), 0, n))
    end = int(np.clip(recording.time_to_sample_index(time_range[1], segment_index), 0, n))
    if end <= start:
        raise ValueError(f"time_range={tuple(time_range)!r} holds no sample of segment {segment_index} "
                         f"(times {t0:.3f} .. {t0 + n / fs:.3f} s)")
    if channel_ids is None:
        channel_ids = recording.channel_ids
    channel_ids = np.asarray(channel_ids)
    if channel_ids.size == 0:
        raise ValueError("channel_ids is empty: give at least one channel")
    if order_channel_by_depth:
        locations = recording.get_channel_locations(channel_ids=channel_ids)
        channel_ids = channel_ids[np.argsort(locations[:, 1], kind="stable")]
    traces = recording.get_traces(segment_index=segment_index, start_frame=start, end_frame=end,
                                  channel_ids=channel_ids, return_in_uV=return_in_uV)
    traces = np.asarray(traces, dtype="float64")
    times = np.asarray(recording.get_times(segment_index, start_frame=start, end_frame=end), dtype="float64")

    fig, axes = make_axes(ax, figsize=figsize)
    axis = axes[0]
    data = {"times": times, "traces": traces, "channel_ids": channel_ids, "mode": mode}
    if mode == "line":
        if vspacing is None:
            ptp = np.ptp(traces, axis=0) if traces.size else np.zeros(1)
            vspacing = 1.5 * float(ptp.max()) if ptp.size and ptp.max() > 0 else 1.0
        offsets = np.arange(len(channel_ids), dtype="float64") * vspacing
        for i in range(len(channel_ids)):
            axis.plot(times, traces[:, i] + offsets[i], color=color, lw=0.6)
        data["offsets"] = offsets
        if show_channel_ids:
            axis.set_yticks(offsets)
            axis.set_yticklabels([str(c) for c in channel_ids])
        axis.set_ylim(offsets[0] - vspacing, offsets[-1] + vspacing)
    else:
        if clim is None:
            lim = float(np.percentile(np.abs(traces), 99)) if traces.size else 1.0
            clim = (-lim, lim) if lim > 0 else (-1.0, 1.0)
        dt = 1.0 / fs
        image = axis.imshow(traces.T, aspect="auto", origin="lower", cmap=cmap, vmin=clim[0], vmax=clim[1],
                            interpolation="nearest",
                            extent=(times[0], times[-1] + dt, -0.5, len(channel_ids) - 0.5))
        fig.colorbar(image, ax=axis, label="µV" if return_in_uV else "raw")
        if show_channel_ids and len(channel_ids) <= 64:
            axis.set_yticks(np.arange(len(channel_ids)))
            axis.set_yticklabels([str(c) for c in channel_ids])
        data["image"] = image
    axis.set_xlabel("time (s)")
    axis.set_ylabel("channel")
    axis.set_xlim(times[0], times[-1])
    return PlotResult(fig, axes, data)
