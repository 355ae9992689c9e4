"""The probe of a recording, drawn by probeinterface."""
from __future__ import annotations

import numpy as np

from .base import PlotResult, make_axes


def plot_probe_map(recording, ax=None, with_channel_ids: bool = False, channel_ids=None, figsize=None,
                   **plot_probe_kwargs) -> PlotResult:
    """Plot the probe(s) of a recording with ``probeinterface.plotting.plot_probe``.

    Parameters
    ----------
    recording : BaseRecording
        With a probe attached (``set_probe``), or at least channel locations (then a scatter).
    ax : matplotlib Axes, optional
    with_channel_ids : bool
        Write each channel's id on its contact.
    channel_ids : array-like, optional
        Only these channels' contacts.
    figsize : tuple, optional
    **plot_probe_kwargs
        Passed to ``plot_probe`` (``contacts_colors``, ``contacts_values``, ``cmap``, ...).

    Returns
    -------
    PlotResult
        ``data`` holds ``locations`` (contacts drawn, channel order) and ``channel_ids``; the
        contacts are a ``PolyCollection`` of the axes (one per probe), the outline another.
    """
    fig, axes = make_axes(ax, figsize=figsize or (5, 8))
    axis = axes[0]
    rec = recording if channel_ids is None else recording.channel_slice(channel_ids)
    ids = np.asarray(rec.channel_ids)
    locations = rec.get_channel_locations()
    if rec.has_probe():
        from probeinterface.plotting import plot_probe

        probegroup = rec.get_probegroup()
        # contact order of the probegroup is channel order (see ChannelsMixin.set_probegroup)
        start = 0
        for probe in probegroup.probes:
            count = probe.get_contact_count()
            kwargs = dict(plot_probe_kwargs)
            if with_channel_ids:
                kwargs["text_on_contact"] = [str(c) for c in ids[start:start + count]]
            plot_probe(probe, ax=axis, **kwargs)
            start += count
    else:
        axis.scatter(locations[:, 0], locations[:, 1], marker="s", s=20)
        if with_channel_ids:
            for cid, (x, y) in zip(ids, locations[:, :2]):
                axis.text(x, y, str(cid), fontsize=6, ha="center", va="center")
        axis.set_aspect("equal")
    axis.set_xlabel("x (µm)")
    axis.set_ylabel("y (µm)")
    return PlotResult(fig, axes, {"locations": np.asarray(locations), "channel_ids": ids})
