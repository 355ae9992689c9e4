"""Attach a probeinterface probe to a file-backed recording without turning it into a view."""
from __future__ import annotations

import numpy as np


def attach_probe_in_channel_order(recording, probe, group_mode: str = "by_probe"):
    """Attach ``probe`` in place, contact k on channel k.

    A reader's recording must stay its own class (dumpable from its file path, binary
    compatible): ``set_probe`` would return a re-ordered view when the wiring permutes
    channels. Here the contacts are re-ordered by their ``device_channel_indices`` instead.

    Parameters
    ----------
    recording : BaseRecording
        Its channel k is the probe's device channel k.
    probe : probeinterface.Probe
        With ``device_channel_indices`` covering every channel once.
    group_mode : {"by_probe", "by_shank"}
        How the ``group`` property is set.

    Returns
    -------
    recording
        The same object.
    """
    n = recording.get_num_channels()
    dci = probe.device_channel_indices
    if dci is None:
        dci = np.arange(probe.get_contact_count())
    dci = np.asarray(dci, dtype="int64")
    wired = np.flatnonzero(dci >= 0)
    if wired.size != n or not np.array_equal(np.sort(dci[wired]), np.arange(n)):
        raise ValueError(
            f"the probe wires {wired.size} contacts to device channels {np.sort(dci[wired])[:10].tolist()}... "
            f"but the recording has {n} channels: each channel needs exactly one contact"
        )
    order = wired[np.argsort(dci[wired], kind="stable")]
    sliced = probe.get_slice(order)
    sliced.set_device_channel_indices(np.arange(n))
    recording.set_probe(sliced, group_mode=group_mode, in_place=True)
    return recording
