"""SpikeGLX folders (``*.ap.bin`` / ``*.lf.bin`` / ``*.nidq.bin`` / ``*.obx.bin`` with their ``.meta``).

Headers and streams come from ``neo.rawio.SpikeGLXRawIO``, the probe from
``probeinterface.read_spikeglx``; samples are read by offset from the ``.bin`` files (the
sample count follows from each file's size, never from ``fileSizeBytes`` in the meta).
"""
from __future__ import annotations

import threading
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .headers import HeaderError, MissingDataFileError
from .neobinary import NeoBinaryRecording, choose_stream, is_sync_stream, open_neo_folder
from .probes import attach_neuropixels_probe
from .spikeglx_meta import (channel_map_names, check_bin_against_meta, check_meta_before_parsing, read_meta,
                            saved_channels)

__all__ = ["SpikeGLXRecording", "read_spikeglx", "read_meta"]


def _check_folder(folder: Path) -> None:
    """Every .meta with a .bin beside it must be one neo can parse (a clear error otherwise)."""
    metas = sorted(folder.rglob("*.meta"))
    if not metas:
        raise FileNotFoundError(f"folder_path={str(folder)!r} holds no SpikeGLX .meta file")
    pairs = [m for m in metas if m.with_suffix(".bin").is_file()]
    if not pairs:
        raise MissingDataFileError(
            metas[0], "fileName",
            f"its binary file {metas[0].with_suffix('.bin')} is missing (a SpikeGLX stream is a .meta/.bin pair; the "
            f"meta says it was recorded as {read_meta(metas[0]).get('fileName', '?')!r})"
            + (f"; {len(metas) - 1} other .meta files have no .bin either" if len(metas) > 1 else ""))
    for meta_file in pairs:
        check_meta_before_parsing(meta_file)
        size = meta_file.with_suffix(".bin").stat().st_size
        if size % 2:
            check_bin_against_meta(meta_file, meta_file.with_suffix(".bin"))


_NEO_PATCH_LOCK = threading.Lock()


@contextmanager
def _imro_gains_for_np1000_tables():
    """Let neo take per-channel gains from the imro table of every probe whose ProbeTable entry has an
    NP1.0-style imro table.

    neo tells NP1.0 gains (per channel, in the imro table) from NP2.0 gains (one fixed gain) by
    looking for "1.0" in the ProbeTable's description of the probe; the NHP 128-channel probes
    (NP1200, NP1210), the Optopix (NP1300, NP1400) and NXT (NP3000) descriptions do not say it,
    so neo stops on their list of selectable gains. Their ``imro_table_format_type`` is
    ``imro_np1000`` and their ADC has 10 bits: the gains are in the imro table and a level is
    ``imAiRangeMax / 512``, as on NP1.0.
    """
    import neo.rawio.spikeglxrawio as sglx

    original = getattr(sglx, "_is_1_0_probe", None)
    if original is None:
        yield
        return

    def is_np1000_style(features):
        return original(features) or (features.get("imro_table_format_type") == "imro_np1000"
                                      and str(features.get("adc_bit_depth")) == "10")

    with _NEO_PATCH_LOCK:
        sglx._is_1_0_probe = is_np1000_style
        try:
            yield
        finally:
            sglx._is_1_0_probe = original


def _open(folder_path):
    """neo's parse of the folder; again with imro gains when neo cannot scale the probe."""
    try:
        return open_neo_folder("SpikeGLXRawIO", folder_path, _check_folder)
    except ValueError as err:
        if "Found multiple gains in probe features" not in str(err):
            raise
    with _imro_gains_for_np1000_tables():
        folder, io = open_neo_folder("SpikeGLXRawIO", folder_path, _check_folder)
    warnings.warn(f"{folder}: neo cannot tell how to scale this probe (its ProbeTable entry lists selectable gains "
                  f"but no '1.0' description); the gains are taken from the imro table, as on NP1.0 probes",
                  UserWarning, stacklevel=3)
    return folder, io


def _streams_without_bin(folder: Path) -> dict[str, MissingDataFileError]:
    """neo's stream name of each .meta that has no .bin (neo skips them), with the error to raise if asked for."""
    from neo.rawio.spikeglxrawio import extract_stream_info, read_meta_file

    out = {}
    for meta_file in sorted(folder.rglob("*.meta")):
        bin_file = meta_file.with_suffix(".bin")
        if bin_file.is_file():
            continue
        try:
            name = extract_stream_info(meta_file, read_meta_file(meta_file))["stream_name"]
        except Exception:
            continue
        error = MissingDataFileError(meta_file, "fileName",
                                     f"stream {name!r}: its binary file {bin_file} is missing (a SpikeGLX stream is "
                                     f"a .meta/.bin pair)")
        out.setdefault(name, error)
        out.setdefault(name + "-SYNC", error)
    return out


def _sync_gain_fix(recording: SpikeGLXRecording) -> None:
    """Give every SY channel the gain of the file's last channel: neo scales only the last channel of an
    imec file as a sync channel, so files with several SY channels (NP2 quad-base: SY0..SY3) get the
    AP gain on the others."""
    buffer_channels = recording._buffer_channels
    if not str(buffer_channels["name"][-1]).startswith("SY"):
        return
    is_sync = np.char.startswith(recording._neo_channel_names, "SY")
    if not is_sync.any():
        return
    gains = np.array(recording.get_property("gain_to_physical_unit"), dtype="float64")
    gains[is_sync] = float(buffer_channels["gain"][-1])
    recording._set_physical_units(gains, recording.get_property("offset_to_physical_unit"),
                                  recording.get_property("physical_unit"))


def _imec_readout_channels(meta: dict, meta_file: Path) -> np.ndarray:
    """Readout channel (0..n-1) of each saved non-sync channel: LF channels are numbered after the AP
    channels in ``snsSaveChanSubset`` (384..767 on NP1.0), so the AP count is subtracted from them."""
    chans = saved_channels(meta, meta_file)
    names = channel_map_names(meta)
    keep = np.array([not n.startswith("SY") for n in names[:len(chans)]], dtype=bool)
    chans = chans[keep]
    acq = meta.get("acqApLfSy", meta.get("snsApLfSy", "0,0,0")).split(",")
    n_ap_acquired = int(acq[0]) if acq and acq[0].strip().isdigit() else 0
    if n_ap_acquired:
        chans = np.where(chans >= n_ap_acquired, chans - n_ap_acquired, chans)
    return chans


def _ap_meta_for_lf(lf_meta_file: Path, io, stream_id: str) -> Path | None:
    """The AP ``.meta`` of an LF stream: beside it (``.lf.meta`` -> ``.ap.meta``), else the one neo reads
    for the same probe's AP stream."""
    name = lf_meta_file.name
    if name.count(".lf.") == 1:
        candidate = lf_meta_file.with_name(name.replace(".lf.", ".ap."))
        if candidate.is_file():
            return candidate
    ap_stream = stream_id.rsplit(".", 1)[0] + ".ap"
    for info in io.signals_info_list:
        if info["stream_name"] == ap_stream and Path(info["meta_file"]).is_file():
            return Path(info["meta_file"])
    return None


def _read_probe(meta_file: Path, lf_meta: tuple[Path, dict] | None = None):
    """probeinterface's probe of an AP meta, sliced to the channels of ``lf_meta`` when given; None
    (with a warning) when it cannot be read."""
    import probeinterface

    try:
        probe = probeinterface.read_spikeglx(meta_file)
    except Exception as err:
        warnings.warn(f"{meta_file}: probeinterface cannot read the probe ({type(err).__name__}: {err}); the "
                      f"recording is read without a probe (no channel locations)", UserWarning, stacklevel=4)
        return None
    if lf_meta is None:
        return probe
    lf_meta_file, lf = lf_meta
    try:
        ap_readout = _imec_readout_channels(read_meta(meta_file), meta_file)
        lf_readout = _imec_readout_channels(lf, lf_meta_file)
    except HeaderError as err:
        warnings.warn(f"{err}; the LF recording is read without a probe (no channel locations)", UserWarning,
                      stacklevel=4)
        return None
    if np.array_equal(ap_readout, lf_readout):
        return probe
    position = {int(c): i for i, c in enumerate(ap_readout)}
    if len(ap_readout) != probe.get_contact_count() or any(int(c) not in position for c in lf_readout):
        warnings.warn(f"{lf_meta_file}: the LF stream saves channels that its AP meta {meta_file} does not "
                      f"describe; the recording is read without a probe (no channel locations)", UserWarning,
                      stacklevel=4)
        return None
    probe = probe.get_slice(np.array([position[int(c)] for c in lf_readout], dtype="int64"))
    probe.set_device_channel_indices(np.arange(probe.get_contact_count()))
    return probe


class SpikeGLXRecording(NeoBinaryRecording):
    """One stream of a SpikeGLX folder (see :func:`read_spikeglx`)."""

    def __init__(self, folder_path: str | Path, stream_id: str | None = None, stream_name: str | None = None,
                 load_sync_channel: bool = False, all_annotations: bool = False,
                 use_names_as_ids: bool = False) -> None:
        folder, io = _open(folder_path)
        streams = io.header["signal_streams"]
        ids, names = [str(s) for s in streams["id"]], [str(s) for s in streams["name"]]
        index = choose_stream(ids, names, stream_id, stream_name, folder, unavailable=_streams_without_bin(folder))
        sid = ids[index]
        extra = []
        is_sync = is_sync_stream(sid)
        if load_sync_channel and not is_sync:
            sync_id = sid + "-SYNC"
            if sync_id not in ids:
                raise ValueError(f"load_sync_channel=True but stream {sid!r} has no sync channel (streams: {ids})")
            extra = [ids.index(sync_id)]
        segment_infos = sorted((info for info in io.signals_info_list if info["stream_name"] == sid.split("-SYNC")[0]),
                               key=lambda info: info["seg_index"])
        for info in segment_infos:
            check_bin_against_meta(Path(info["meta_file"]), Path(info["bin_file"]))
        self._build(io, index, extra_stream_indices=extra, use_names_as_ids=use_names_as_ids,
                    all_annotations=all_annotations)

        meta_file = Path(segment_infos[0]["meta_file"]) if segment_infos else Path(self._binary[0][0]).with_suffix(".meta")
        meta = read_meta(meta_file)
        _sync_gain_fix(self)
        self.annotate(meta_file=str(meta_file), neo_stream_id=sid)
        if "imDatPrb_pn" in meta:
            self.annotate(probe_part_number=meta["imDatPrb_pn"])
        kind = segment_infos[0]["stream_kind"] if segment_infos else ""
        if not is_sync and not load_sync_channel and "imec" in sid and kind in ("ap", "lf"):
            if kind == "ap":
                probe = _read_probe(meta_file)
            else:
                ap_meta_file = _ap_meta_for_lf(meta_file, io, sid)
                if ap_meta_file is None:
                    probe = None
                    warnings.warn(f"{meta_file}: no AP .meta of this probe beside the LF stream "
                                  f"({meta_file.name.replace('.lf.', '.ap.')}): the LF recording has no probe (an LF "
                                  f"meta's channel numbers do not describe the probe); copy the AP .meta into the "
                                  f"folder to get channel locations", UserWarning, stacklevel=2)
                else:
                    probe = _read_probe(ap_meta_file, lf_meta=(meta_file, meta))
                    meta_file = ap_meta_file
            if probe is not None:
                attach_neuropixels_probe(self, probe, lf_band=kind == "lf", source=meta_file)
        self._kwargs = {"folder_path": str(folder), "stream_id": sid, "load_sync_channel": bool(load_sync_channel),
                        "all_annotations": bool(all_annotations), "use_names_as_ids": bool(use_names_as_ids)}


def read_spikeglx(folder_path: str | Path, stream_id: str | None = None, load_sync_channel: bool = False,
                  stream_name: str | None = None, all_annotations: bool = False,
                  use_names_as_ids: bool = False) -> SpikeGLXRecording:
    """Read one stream of a SpikeGLX folder.

    Parameters
    ----------
    folder_path : str or Path
        Folder with the ``.bin`` / ``.meta`` pairs (searched recursively, as neo does).
    stream_id : str, optional
        ``"imec0.ap"``, ``"imec0.lf"``, ``"nidq"``, ``"obx0"``, or ``"imec0.ap-SYNC"`` (the sync
        channels alone). Default: the only stream that is not a sync stream (an error lists the
        streams when there are several).
    load_sync_channel : bool
        Append the sync channel(s) to the AP/LF channels (then no probe is attached; the default
        keeps the sync channels out of the AP stream).
    stream_name : str, optional
        Choose the stream by neo's stream name instead.
    all_annotations : bool
        Add neo's annotations of the stream (and its array annotations as channel properties).
    use_names_as_ids : bool
        Channel ids are the channel names (``"AP0"``) instead of neo's ids (``"imec0.ap#AP0"``).

    Returns
    -------
    SpikeGLXRecording
        int16 traces; ``gain_to_uV`` / ``offset_to_uV`` (float64) from the meta via neo, and
        SpikeInterface's ``physical_unit``, ``gain_to_physical_unit``, ``offset_to_physical_unit``,
        ``channel_name`` properties; ``t_start`` = ``firstSample / imSampRate`` (neo warns when the
        meta has no ``firstSample``); one segment per gate/trigger file. For imec AP and LF
        streams, the probe from ``probeinterface.read_spikeglx`` (of the AP meta for an LF stream;
        groups by shank), the ``inter_sample_shift`` property and the ``saturation_threshold_uV``
        annotation. Binary compatible (``get_binary_description()``), dumpable (``folder_path``,
        ``stream_id``).

    Raises
    ------
    HeaderError
        A ``.meta`` field is missing, not a number, or contradicted by the ``.bin`` (a ``ValueError``
        naming the file and the field).
    MissingDataFileError
        The ``.bin`` of the stream asked for is missing.
    """
    return SpikeGLXRecording(folder_path, stream_id=stream_id, stream_name=stream_name,
                             load_sync_channel=load_sync_channel, all_annotations=all_annotations,
                             use_names_as_ids=use_names_as_ids)
