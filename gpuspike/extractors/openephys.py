"""Open Ephys binary format (``structure.oebin`` + ``continuous/<stream>/continuous.dat``).

Streams, channel gains (``bit_volts``) and segments come from ``neo.rawio.OpenEphysBinaryRawIO``
(which also needs ``sample_numbers.npy`` -- or ``timestamps.npy`` for files from GUI < 0.6 --
beside each ``continuous.dat``, as the GUI writes them); the probe from the Neuropix-PXI
plugin's ``settings.xml`` through probeinterface (``read_openephys_neuropixels``, formerly
``read_openephys``) when present.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np

from .neobinary import NeoBinaryRecording, check_frames_whole, choose_stream, open_neo_folder
from .probes import attach_probe_in_channel_order


def _check_folder(folder: Path) -> None:
    """Every ``continuous.dat`` an ``structure.oebin`` names must hold whole int16 frames."""
    oebins = sorted(folder.rglob("structure.oebin"))
    if not oebins:
        raise FileNotFoundError(f"folder_path={str(folder)!r} holds no structure.oebin: not an Open Ephys "
                                f"binary-format folder")
    for oebin in oebins:
        try:
            structure = json.loads(oebin.read_text())
        except json.JSONDecodeError as err:
            raise ValueError(f"{oebin}: not valid JSON ({err.msg} at line {err.lineno})") from None
        for stream in structure.get("continuous", []):
            stream_folder = oebin.parent / "continuous" / stream["folder_name"]
            dat = stream_folder / "continuous.dat"
            if not dat.is_file():
                raise FileNotFoundError(f"{oebin} names stream {stream['folder_name']!r} but {dat} is missing")
            check_frames_whole(dat, int(stream["num_channels"]), itemsize=2)
            if not (stream_folder / "sample_numbers.npy").is_file() and not (stream_folder / "timestamps.npy").is_file():
                raise FileNotFoundError(f"{stream_folder}: neither sample_numbers.npy nor timestamps.npy is present "
                                        f"(neo's OpenEphysBinaryRawIO needs one beside continuous.dat)")


def _settings_file(dat_file: Path, experiment_index: int) -> Path | None:
    """``settings.xml`` (``settings_<n>.xml`` for experiment n > 1) of the record node of a stream."""
    # <record node>/experimentN/recordingM/continuous/<stream>/continuous.dat
    record_node = dat_file.parents[4]
    name = "settings.xml" if experiment_index <= 1 else f"settings_{experiment_index}.xml"
    path = record_node / name
    return path if path.is_file() else None


class OpenEphysBinaryRecording(NeoBinaryRecording):
    """One stream of an Open Ephys binary-format folder (see :func:`read_openephys`)."""

    def __init__(self, folder_path: str | Path, stream_id: str | None = None, stream_name: str | None = None,
                 block_index: int | None = None, load_probe: bool = True) -> None:
        folder, io = open_neo_folder("OpenEphysBinaryRawIO", folder_path, _check_folder)
        num_blocks = io.block_count()
        if block_index is None:
            if num_blocks != 1:
                raise ValueError(f"{folder} holds {num_blocks} experiments: choose one with block_index= "
                                 f"(0..{num_blocks - 1})")
            block_index = 0
        if not 0 <= int(block_index) < num_blocks:
            raise ValueError(f"block_index={block_index}: allowed 0..{num_blocks - 1}")
        streams = io.header["signal_streams"]
        ids, names = [str(s) for s in streams["id"]], [str(s) for s in streams["name"]]
        index = choose_stream(ids, names, stream_id, stream_name, folder)
        self._build(io, index, block_index=int(block_index))
        name = names[index]
        self.annotate(neo_stream_name=name)

        if load_probe:
            dat_file = Path(self._binary[0][0])
            experiment_index = _experiment_number(dat_file)
            settings = _settings_file(dat_file, experiment_index)
            if settings is not None:
                import probeinterface

                probe_stream = name.split("#")[-1].split(".")[-1]
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    reader = getattr(probeinterface, "read_openephys_neuropixels", None) \
                        or probeinterface.read_openephys  # probeinterface < 0.3 has only the old name
                    probe = reader(settings, stream_name=probe_stream, raise_error=False)
                if probe is not None:
                    if probe.get_contact_count() != self.get_num_channels():
                        raise ValueError(f"{settings}: probeinterface gives {probe.get_contact_count()} contacts "
                                         f"for the {self.get_num_channels()} channels of stream {name!r}")
                    by_shank = probe.shank_ids is not None and len(np.unique(probe.shank_ids)) > 1
                    attach_probe_in_channel_order(self, probe, group_mode="by_shank" if by_shank else "by_probe")
                    self.annotate(settings_file=str(settings))
        self._kwargs = {"folder_path": str(folder), "stream_id": ids[index], "block_index": int(block_index),
                        "load_probe": bool(load_probe)}


def _experiment_number(dat_file: Path) -> int:
    text = dat_file.parents[3].name  # experimentN
    digits = "".join(ch for ch in text if ch.isdigit())
    return int(digits) if digits else 1


def read_openephys(folder_path: str | Path, stream_id: str | None = None, stream_name: str | None = None,
                   block_index: int | None = None, load_probe: bool = True) -> OpenEphysBinaryRecording:
    """Read one stream of an Open Ephys binary-format folder.

    Parameters
    ----------
    folder_path : str or Path
        The session folder (or a record node, or an experiment folder).
    stream_id : str, optional
        neo's stream id (``"0"``, ``"1"``, ...). Default: the only stream (an error lists them
        when there are several).
    stream_name : str, optional
        Choose by neo's stream name instead, e.g. ``"Record Node 101#Neuropix-PXI-100.ProbeA"``.
    block_index : int, optional
        The experiment (neo block); required when there are several.
    load_probe : bool
        Attach the probe of the Neuropix-PXI plugin's ``settings.xml`` when present.

    Returns
    -------
    OpenEphysBinaryRecording
        int16 traces, gains from ``bit_volts`` in µV, one segment per recording; binary
        compatible, dumpable (``folder_path``, ``stream_id``, ``block_index``).
    """
    return OpenEphysBinaryRecording(folder_path, stream_id=stream_id, stream_name=stream_name,
                                    block_index=block_index, load_probe=load_probe)
