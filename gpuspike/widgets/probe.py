"""The probe of a recording, drawn by probeinterface."""
from __future__ import annotations

import numpy as np

from .base import PlotResult, make_axes


def plot_probe_map(recording, color_channels=None, with_channel_ids: bool = False, ax=None, channel_ids=None,
                   figsize=None, **plot_probe_kwargs) -> PlotResult:
    """Plot the probe(s) of a recording with ``probeinterface.plotting.plot_probe``.

    Parameters
    ----------
    recording : BaseRecording
        With a probe attached (``set_probe``), or at least channel locations (then a scatter).
    color_channels : color or list of colors, optional
        One color for every contact, or one per channel (in channel order).
    with_channel_ids : bool
        Write each channel's id on its contact.
    ax : matplotlib Axes, optional
    channel_ids : array-like, optional
        Only these channels' contacts.
    figsize : tuple, optional
    **plot_probe_kwargs
        Passed to ``plot_probe`` (``contacts_values``, ``cmap``, ...).

    Returns
    -------
    PlotResult
        ``data`` holds ``locations`` (contacts drawn, channel order) and ``channel_ids``; the
        contacts are a ``PolyCollection`` of the axes (one per probe), the outline another. The
        axes span every probe.
    """
    if ax is None and color_channels is not None and hasattr(color_channels, "plot"):
        ax, color_channels = color_channels, None  # plot_probe_map(recording, ax): gpuspike's earlier order
    fig, axes = make_axes(ax, figsize=figsize or (5, 8))
    axis = axes[0]
    rec = recording if channel_ids is None else recording.channel_slice(channel_ids)
    ids = np.asarray(rec.channel_ids)
    locations = rec.get_channel_locations()
    # SpikeInterface's rule: a list or array with one entry per channel colors each channel
    per_channel = isinstance(color_channels, (list, np.ndarray)) and len(color_channels) == len(ids)
    if rec.has_probe():
        from probeinterface.plotting import get_auto_lims, plot_probe

        probegroup = rec.get_probegroup()
        xlims = ylims = None
        start = 0
        for probe in probegroup.probes:
            kwargs = {"title": False, **plot_probe_kwargs}
            # each contact's channel, from the probe's wiring (probes may interleave on the channels)
            count = probe.get_contact_count()
            wired = np.arange(start, start + count) if probe.device_channel_indices is None else \
                np.asarray(probe.device_channel_indices, dtype="int64")
            start += count
            if with_channel_ids:
                kwargs["text_on_contact"] = [str(ids[c]) if c >= 0 else "" for c in wired]
            if color_channels is not None:
                kwargs["contacts_colors"] = [color_channels[c] for c in wired] if per_channel else color_channels
            plot_probe(probe, ax=axis, **kwargs)
            x, y, _ = get_auto_lims(probe)
            xlims = x if xlims is None else (min(xlims[0], x[0]), max(xlims[1], x[1]))
            ylims = y if ylims is None else (min(ylims[0], y[0]), max(ylims[1], y[1]))
        axis.set_xlim(*xlims)
        axis.set_ylim(*ylims)
    else:
        axis.scatter(locations[:, 0], locations[:, 1], marker="s", s=20, c=color_channels)
        if with_channel_ids:
            for cid, (x, y) in zip(ids, locations[:, :2]):
                axis.text(x, y, str(cid), fontsize=6, ha="center", va="center")
        axis.set_aspect("equal")
    axis.set_xlabel("x (µm)")
    axis.set_ylabel("y (µm)")
    return PlotResult(fig, axes, {"locations": np.asarray(locations), "channel_ids": ids})
