"""The channel sparsity of units: a units x channels mask, or per unit on the probe."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .base import PlotResult, make_axes


def plot_sparsity(sparsity_or_waveform_extractor, unit_ids: Sequence | None = None, ax=None,
                  on_probe: bool = False, channel_locations=None, ncols: int = 5, cmap: str = "Greys",
                  figsize=None) -> PlotResult:
    """Plot a channel sparsity.

    Parameters
    ----------
    sparsity_or_waveform_extractor : ChannelSparsity or WaveformExtractor
        A ``ChannelSparsity`` (``mask``, ``unit_ids``, ``channel_ids``) or an extractor with a
        ``sparsity`` (dense extractors show a full mask).
    unit_ids : array-like, optional
        Units to show (default all).
    ax : matplotlib Axes, optional
    on_probe : bool
        ``False``: one image of the mask (rows = units, columns = channels). ``True``: one axes
        per unit with every channel location in grey and the unit's channels highlighted (needs
        ``channel_locations`` or an extractor whose recording has a probe).
    channel_locations : np.ndarray, optional
        (num_channels, 2) locations for ``on_probe``.
    ncols : int
        Columns of the grid (``on_probe``).
    cmap : str
        Colormap of the mask image.
    figsize : tuple, optional

    Returns
    -------
    PlotResult
        ``data`` holds ``mask`` (the units shown x channels), ``unit_ids``, ``channel_ids``; the
        image is ``data["image"]`` (mask mode) and its array equals the mask.
    """
    obj = sparsity_or_waveform_extractor
    if hasattr(obj, "mask") and hasattr(obj, "unit_ids") and hasattr(obj, "channel_ids"):
        sparsity, we = obj, None
    elif hasattr(obj, "unit_ids") and hasattr(obj, "channel_ids"):
        we = obj
        sparsity = obj.sparsity if getattr(obj, "is_sparse", lambda: False)() else None
    else:
        raise TypeError(f"plot_sparsity needs a ChannelSparsity or a WaveformExtractor, got {type(obj).__name__}")
    all_units = np.asarray(obj.unit_ids if sparsity is None else sparsity.unit_ids)
    channel_ids = np.asarray(obj.channel_ids if sparsity is None else sparsity.channel_ids)
    full_mask = np.ones((len(all_units), len(channel_ids)), bool) if sparsity is None else np.asarray(sparsity.mask)
    if unit_ids is None:
        rows = np.arange(len(all_units))
    else:
        rows = []
        for u in np.atleast_1d(np.asarray(unit_ids)).tolist():
            hit = np.flatnonzero(all_units == u)
            if hit.size == 0:
                raise KeyError(f"unit_id {u!r} is not one of {all_units.tolist()[:20]}")
            rows.append(int(hit[0]))
        rows = np.asarray(rows)
    mask = full_mask[rows]
    units = all_units[rows]
    data = {"mask": mask, "unit_ids": units, "channel_ids": channel_ids}
    if not on_probe:
        fig, axes = make_axes(ax, figsize=figsize or (10, max(2.0, 0.3 * len(units) + 1)))
        axis = axes[0]
        image = axis.imshow(mask.astype("float64"), aspect="auto", cmap=cmap, vmin=0, vmax=1,
                            interpolation="nearest")
        axis.set_yticks(np.arange(len(units)))
        axis.set_yticklabels([str(u) for u in units])
        axis.set_xlabel("channel index")
        axis.set_ylabel("unit")
        axis.set_title(f"sparsity: {mask.sum(axis=1).mean():.1f} channels per unit on average" if len(units)
                       else "sparsity")
        data["image"] = image
        return PlotResult(fig, axes, data)

    if channel_locations is None:
        rec = getattr(we, "recording", None) if we is not None else None
        if rec is None:
            raise ValueError("on_probe=True needs channel_locations= (or a WaveformExtractor with a recording)")
        channel_locations = rec.get_channel_locations()
    locations = np.asarray(channel_locations, dtype="float64")[:, :2]
    if locations.shape[0] != len(channel_ids):
        raise ValueError(f"{locations.shape[0]} channel locations for {len(channel_ids)} channels")
    fig, axes = make_axes(ax, num_axes=len(units), ncols=ncols, figsize=figsize)
    for axis, unit_id, row in zip(axes, units, mask):
        axis.scatter(locations[:, 0], locations[:, 1], s=6, color="0.8", marker="s")
        axis.scatter(locations[row, 0], locations[row, 1], s=10, color="C3", marker="s")
        axis.set_title(f"unit {unit_id}: {int(row.sum())} ch")
        axis.set_aspect("equal")
    data["locations"] = locations
    return PlotResult(fig, axes, data)
