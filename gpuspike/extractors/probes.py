"""Attach a probeinterface probe to a file-backed recording without turning it into a view."""
from __future__ import annotations

import warnings

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


def neuropixels_sample_shifts(probe) -> np.ndarray | None:
    """Inter-sample shift of each contact (fraction of a sample period), or None when unknown.

    A Neuropixels ADC digitizes its channels one after the other: a contact's shift is its
    ``adc_sample_order`` divided by the number of ADC cycles per sample period, which is
    ``num_channels_per_adc * (1 + lf_rate / ap_rate)`` (13 on NP1.0, where each ADC also
    samples the LF band; 16 on NP2.0). probeinterface annotates these from the ProbeTable.

    Parameters
    ----------
    probe : probeinterface.Probe

    Returns
    -------
    np.ndarray or None
        float64, one value per contact.
    """
    per_adc = probe.annotations.get("num_channels_per_adc")
    order = probe.contact_annotations.get("adc_sample_order")
    ap_rate = probe.annotations.get("ap_sample_frequency_hz")
    lf_rate = probe.annotations.get("lf_sample_frequency_hz")
    if per_adc is None or order is None or ap_rate is None or lf_rate is None:
        return None
    cycles = int(float(per_adc) * (1.0 + float(lf_rate) / float(ap_rate)))
    return np.asarray(order, dtype="float64") / cycles


def neuropixels_saturation_uV(probe, lf_band: bool) -> float | None:
    """Input amplitude (µV) at which the ADC saturates: half the ADC range over the band's gain.

    Parameters
    ----------
    probe : probeinterface.Probe
        With the ``adc_range_vpp`` and ``ap_gain`` / ``lf_gain`` annotations probeinterface sets.
    lf_band : bool
        Use the LF gain.

    Returns
    -------
    float or None
        None when the probe lacks the annotations.
    """
    vpp = probe.annotations.get("adc_range_vpp")
    gain = probe.annotations.get("lf_gain" if lf_band else "ap_gain")
    if vpp is None or gain is None:
        return None
    return float(vpp) / 2.0 / float(gain) * 1e6


def attach_neuropixels_probe(recording, probe, lf_band: bool, source) -> bool:
    """Attach a Neuropixels probe with what SpikeInterface derives from it.

    Sets the probe (groups by shank when the probe has shank ids), the ``inter_sample_shift``
    property (phase-shift correction) and the ``saturation_threshold_uV`` annotation. A probe
    whose contacts do not match the channels one to one is not attached: a warning says why.

    Parameters
    ----------
    recording : BaseRecording
    probe : probeinterface.Probe
        Contact k wired to device channel ``device_channel_indices[k]``.
    lf_band : bool
        The recording is the LF band (its saturation uses the LF gain).
    source : str or Path
        The header the probe comes from, for the warnings.

    Returns
    -------
    bool
        Whether the probe was attached.
    """
    n = recording.get_num_channels()
    if probe.get_contact_count() != n:
        warnings.warn(f"{source}: the probe has {probe.get_contact_count()} contacts for the {n} channels of this "
                      f"stream; the recording is read without a probe (no channel locations)", UserWarning,
                      stacklevel=3)
        return False
    dci = probe.device_channel_indices
    dci = np.arange(n) if dci is None else np.asarray(dci, dtype="int64")
    contact_of_channel = np.argsort(dci, kind="stable")
    shifts = neuropixels_sample_shifts(probe)
    attach_probe_in_channel_order(recording, probe, group_mode="by_shank" if probe.shank_ids is not None else "by_probe")
    if shifts is not None:
        recording.set_property("inter_sample_shift", shifts[contact_of_channel])
    else:
        warnings.warn(f"{source}: the probe has no ADC sampling order (probeinterface's adc_sample_order), so "
                      f"the recording has no 'inter_sample_shift' property", UserWarning, stacklevel=3)
    saturation = neuropixels_saturation_uV(probe, lf_band)
    if saturation is not None:
        recording.annotate(saturation_threshold_uV=saturation)
    else:
        warnings.warn(f"{source}: the probe has no ADC range or gain annotation, so the recording has no "
                      f"'saturation_threshold_uV' annotation", UserWarning, stacklevel=3)
    return True
