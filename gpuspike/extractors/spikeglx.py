"""SpikeGLX folders (``*.ap.bin`` / ``*.lf.bin`` / ``*.nidq.bin`` with their ``.meta``).

Headers and streams come from ``neo.rawio.SpikeGLXRawIO``, the probe from
``probeinterface.read_spikeglx``; samples are read by offset from the ``.bin`` files (the
sample count follows from each file's size, never from ``fileSizeBytes`` in the meta).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .neobinary import NeoBinaryRecording, check_frames_whole, choose_stream, open_neo_folder
from .probes import attach_probe_in_channel_order


def read_meta(meta_file: str | Path) -> dict[str, str]:
    """Parse a SpikeGLX ``.meta`` file (``key=value`` lines; a leading ``~`` is dropped from keys).

    Parameters
    ----------
    meta_file : str or Path

    Returns
    -------
    dict
        Values as strings (``nSavedChans``, ``imSampRate``, ``imroTbl``, ...).
    """
    meta_file = Path(meta_file)
    meta = {}
    for number, line in enumerate(meta_file.read_text(errors="replace").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        if "=" not in line:
            raise ValueError(f"{meta_file}, line {number}: {line[:60]!r} is not key=value: not a SpikeGLX meta file")
        key, value = line.split("=", 1)
        meta[key.lstrip("~")] = value
    return meta


def _check_folder(folder: Path) -> None:
    """Every .bin beside a .meta must hold whole frames of ``nSavedChans`` int16 samples."""
    metas = sorted(folder.rglob("*.meta"))
    if not metas:
        raise FileNotFoundError(f"folder_path={str(folder)!r} holds no SpikeGLX .meta file")
    for meta_file in metas:
        bin_file = meta_file.with_suffix(".bin")
        if not bin_file.is_file():
            continue
        meta = read_meta(meta_file)
        if "nSavedChans" not in meta:
            raise ValueError(f"{meta_file}: no nSavedChans entry: not a SpikeGLX meta file")
        check_frames_whole(bin_file, int(meta["nSavedChans"]), itemsize=2)


class SpikeGLXRecording(NeoBinaryRecording):
    """One stream of a SpikeGLX folder (see :func:`read_spikeglx`)."""

    def __init__(self, folder_path: str | Path, stream_id: str | None = None, stream_name: str | None = None,
                 load_sync_channel: bool = False) -> None:
        folder, io = open_neo_folder("SpikeGLXRawIO", folder_path, _check_folder)
        streams = io.header["signal_streams"]
        ids, names = list(streams["id"]), list(streams["name"])
        index = choose_stream(ids, names, stream_id, stream_name, folder)
        sid = str(ids[index])
        extra = []
        is_sync = sid.endswith("-SYNC")
        if load_sync_channel and not is_sync:
            sync_id = sid + "-SYNC"
            if sync_id not in [str(s) for s in ids]:
                raise ValueError(f"load_sync_channel=True but stream {sid!r} has no sync channel "
                                 f"(streams: {[str(s) for s in ids]})")
            extra = [[str(s) for s in ids].index(sync_id)]
        self._build(io, index, extra_stream_indices=extra)

        first_bin = Path(self._binary[0][0])
        meta_file = first_bin.with_suffix(".meta")
        meta = read_meta(meta_file)
        self.annotate(meta_file=str(meta_file), neo_stream_id=sid)
        if "imDatPrb_pn" in meta:
            self.annotate(probe_part_number=meta["imDatPrb_pn"])
        if not is_sync and not load_sync_channel and ("imec" in sid and (".ap" in sid or ".lf" in sid)):
            import probeinterface

            probe = probeinterface.read_spikeglx(meta_file)
            if probe.get_contact_count() != self.get_num_channels():
                raise ValueError(f"{meta_file}: probeinterface gives {probe.get_contact_count()} contacts for "
                                 f"{self.get_num_channels()} saved channels of stream {sid!r}")
            by_shank = probe.shank_ids is not None and len(np.unique(probe.shank_ids)) > 1
            attach_probe_in_channel_order(self, probe, group_mode="by_shank" if by_shank else "by_probe")
        self._kwargs = {"folder_path": str(folder), "stream_id": sid, "load_sync_channel": bool(load_sync_channel)}


def read_spikeglx(folder_path: str | Path, stream_id: str | None = None, load_sync_channel: bool = False,
                  stream_name: str | None = None) -> SpikeGLXRecording:
    """Read one stream of a SpikeGLX folder.

    Parameters
    ----------
    folder_path : str or Path
        Folder with the ``.bin`` / ``.meta`` pairs (searched recursively, as neo does).
    stream_id : str, optional
        ``"imec0.ap"``, ``"imec0.lf"``, ``"nidq"``, or ``"imec0.ap-SYNC"`` (the sync channel
        alone). Default: the only stream that is not a sync stream (an error lists the streams
        when there are several).
    load_sync_channel : bool
        Append the sync channel to the AP/LF channels (then no probe is attached; the default
        keeps the sync channel out of the AP stream).
    stream_name : str, optional
        Choose the stream by neo's stream name instead.

    Returns
    -------
    SpikeGLXRecording
        int16 traces, ``gain_to_uV`` / ``offset_to_uV`` from the meta (via neo), ``t_start`` =
        ``firstSample / imSampRate``, one segment per gate/trigger file; the probe (from
        ``probeinterface.read_spikeglx``, groups by shank on multi-shank probes) for imec streams.
        Binary compatible (``get_binary_description()``), dumpable (``folder_path``, ``stream_id``).
    """
    return SpikeGLXRecording(folder_path, stream_id=stream_id, stream_name=stream_name,
                             load_sync_channel=load_sync_channel)
