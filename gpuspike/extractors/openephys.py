"""Open Ephys binary format (``structure.oebin`` + ``continuous/<stream>/continuous.dat``).

Streams, channel gains (``bit_volts``) and segments come from ``neo.rawio.OpenEphysBinaryRawIO``
(which also needs ``sample_numbers.npy`` -- or ``timestamps.npy`` for files from GUI < 0.6 --
beside each ``continuous.dat``, as the GUI writes them); the probe from the Neuropixels
plugin's ``settings.xml`` (Neuropix-PXI, OneBox, ONIX) through probeinterface's
``read_openephys_neuropixels``.

neo names a stream ``[<record node>#]<folder>``, the folder being
``<source processor>-<source processor id>.<plugin stream name>`` (e.g.
``Record Node 101#Neuropix-PXI-100.ProbeA-AP``, ``ONIX Source-100.PortB-Neuropixels1.0eHeadstage-Probe-AP``);
a stream's sync channel is the stream ``<name>SYNC`` and its ADC channels the stream ``<name>_ADC``.
"""
from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .headers import HeaderError, MissingDataFileError
from .neobinary import NeoBinaryRecording, choose_stream, is_sync_stream, open_neo_folder
from .probes import attach_neuropixels_probe

__all__ = ["OpenEphysBinaryRecording", "read_openephys", "OpenEphysStreamName", "parse_stream_name"]

_FOLDER_NAME = re.compile(r"^(?P<source>.+?)-(?P<source_id>\d+)\.(?P<stream>.+)$")


@dataclass(frozen=True)
class OpenEphysStreamName:
    """The parts of neo's name of an Open Ephys stream.

    Attributes
    ----------
    node : str
        Record node folder (``"Record Node 101"``), ``""`` for single-node sessions.
    folder : str
        The stream's folder under ``continuous/`` (``"Neuropix-PXI-100.ProbeA-AP"``).
    source : str
        Source processor (``"Neuropix-PXI"``, ``"ONIX Source"``), ``""`` when the folder name does
        not follow ``<source>-<id>.<stream>``.
    source_id : str
        Source processor id (``"100"``).
    stream : str
        The plugin's stream name (``"ProbeA-AP"``, ``"PortB-Neuropixels1.0eHeadstage-Probe-AP"``).
    kind : {"neural", "sync", "adc"}
        The neural channels of the folder, its sync channel, or its ADC channels.
    """

    node: str
    folder: str
    source: str
    source_id: str
    stream: str
    kind: str


def parse_stream_name(name: str, kind: str = "neural") -> OpenEphysStreamName:
    """Split neo's stream name into record node, folder, source processor and plugin stream.

    Parameters
    ----------
    name : str
        neo's stream name, e.g. ``"Record Node 101#Neuropix-PXI-100.ProbeA-APSYNC"``.
    kind : {"neural", "sync", "adc"}
        What neo made of the folder (the ``SYNC`` / ``_ADC`` suffix is removed for those).

    Returns
    -------
    OpenEphysStreamName
    """
    if kind not in ("neural", "sync", "adc"):
        raise ValueError(f"kind={kind!r}: allowed values are 'neural', 'sync', 'adc'")
    node, sep, folder = name.partition("#")
    if not sep:
        node, folder = "", name
    suffix = {"sync": "SYNC", "adc": "_ADC", "neural": ""}[kind]
    if suffix and folder.endswith(suffix):
        folder = folder[:-len(suffix)]
    match = _FOLDER_NAME.match(folder)
    if match is None:
        return OpenEphysStreamName(node, folder, "", "", folder, kind)
    return OpenEphysStreamName(node, folder, match["source"], match["source_id"], match["stream"], kind)


def _load_oebin(oebin: Path) -> dict:
    try:
        structure = json.loads(oebin.read_text())
    except json.JSONDecodeError as err:
        raise HeaderError(oebin, "(JSON)", f"not valid JSON ({err.msg} at line {err.lineno})") from None
    streams = structure.get("continuous")
    if not isinstance(streams, list):
        raise HeaderError(oebin, "continuous", "missing or not a list of streams")
    return structure


def _node_name(oebin: Path) -> str:
    """neo's record-node prefix of the streams of ``oebin`` (``""`` before GUI 0.5's record nodes)."""
    node = oebin.parents[2].stem
    return node if node.startswith("Record") else ""


def _check_dat_frames(oebin: Path, index: int, stream: dict, dat: Path) -> None:
    """``continuous.dat`` must hold whole frames of the stream's int16 channels."""
    num_channels = len(stream["channels"])
    size = dat.stat().st_size
    if size % (2 * num_channels):
        raise HeaderError(
            oebin, f"continuous[{index}].channels",
            f"stream {stream['folder_name']!r} lists {num_channels} channels but {dat} has {size} bytes, not a whole "
            f"number of frames of {num_channels} int16 channels: the file is truncated or the oebin does not "
            f"belong to it")


def _check_stream_files(dat: Path) -> None:
    """The chosen stream's ``continuous.dat`` against its oebin entry (found by folder name)."""
    oebin = dat.parents[2] / "structure.oebin"
    folder_name = dat.parent.name
    for index, stream in enumerate(_load_oebin(oebin)["continuous"]):
        if stream["folder_name"].split("/")[0] == folder_name:
            _check_dat_frames(oebin, index, stream, dat)
            return


def _check_experiment(folder: Path, experiment_name: str) -> None:
    """Every stream folder that an ``structure.oebin`` of the experiment names, and that exists, must hold
    what neo reads."""
    for oebin in sorted(folder.rglob("structure.oebin")):
        if oebin.parents[1].name != experiment_name:
            continue
        for i, stream in enumerate(_load_oebin(oebin)["continuous"]):
            field = f"continuous[{i}]"
            if not isinstance(stream, dict) or not stream.get("folder_name"):
                raise HeaderError(oebin, f"{field}.folder_name", "missing")
            channels = stream.get("channels")
            if not isinstance(channels, list) or not channels:
                raise HeaderError(oebin, f"{field}.channels", f"stream {stream['folder_name']!r} lists no channels")
            stream_folder = oebin.parent / "continuous" / stream["folder_name"]
            if not stream_folder.is_dir():
                continue  # neo skips it with a warning; asking for it is an error (_missing_streams)
            dat = stream_folder / "continuous.dat"
            if not dat.is_file():
                raise MissingDataFileError(oebin, f"{field}.folder_name",
                                           f"names stream {stream['folder_name']!r} but {dat} is missing")
            if dat.stat().st_size % 2:
                _check_dat_frames(oebin, i, stream, dat)
            if not (stream_folder / "sample_numbers.npy").is_file() and not (stream_folder / "timestamps.npy").is_file():
                raise MissingDataFileError(oebin, f"{field}.folder_name",
                                           f"{stream_folder}: neither sample_numbers.npy nor timestamps.npy is present "
                                           f"(neo's OpenEphysBinaryRawIO needs one beside continuous.dat)")


def _missing_streams(folder: Path, experiment_name: str) -> dict[str, MissingDataFileError]:
    """Streams an oebin names whose folder is missing (neo skips them): name -> the error if asked for."""
    out = {}
    for oebin in sorted(folder.rglob("structure.oebin")):
        if oebin.parents[1].name != experiment_name:
            continue
        node = _node_name(oebin)
        for i, stream in enumerate(_load_oebin(oebin)["continuous"]):
            name = stream["folder_name"].split("/")[0]
            stream_folder = oebin.parent / "continuous" / stream["folder_name"]
            if stream_folder.is_dir():
                continue
            error = MissingDataFileError(oebin, f"continuous[{i}].folder_name",
                                         f"names stream {name!r} but its folder {stream_folder} is missing")
            for key in {name, f"{node}#{name}" if node else name}:
                out.setdefault(key, error)
                out.setdefault(key + "SYNC", error)
    return out


def _experiment_names(folder: Path) -> list[str]:
    oebins = sorted(folder.rglob("structure.oebin"))
    if not oebins:
        raise FileNotFoundError(f"folder_path={str(folder)!r} holds no structure.oebin: not an Open Ephys "
                                f"binary-format folder")
    names = {oebin.parents[1].name for oebin in oebins}
    bad = sorted(n for n in names if not re.fullmatch(r"experiment\d+", n))
    if bad:
        raise ValueError(f"{folder}: the experiment folder {bad[0]!r} is not named experimentN as the Open Ephys GUI "
                         f"names them")
    return sorted(names, key=lambda n: int(n[len("experiment"):]))


def _stream_kind(io, index: int) -> str:
    streams = io.header["signal_streams"]
    sid, name, buffer_id = str(streams["id"][index]), str(streams["name"][index]), str(streams["buffer_id"][index])
    if is_sync_stream(sid):
        return "sync"
    if buffer_id != sid and name.endswith("_ADC"):
        return "adc"
    return "neural"


def _read_probe(settings: Path, folder_name: str):
    """The Neuropixels probe of stream folder ``folder_name`` in ``settings``; None when the settings
    describe none for it (NI-DAQmx, Intan, ...) or when probeinterface cannot read it (a warning)."""
    import probeinterface

    has_probe = getattr(probeinterface, "has_neuropixels_probes", None)
    reader = getattr(probeinterface, "read_openephys_neuropixels", None)
    if has_probe is None or reader is None:
        raise ImportError("reading Open Ephys probes needs probeinterface >= 0.4 (read_openephys_neuropixels); "
                          "pip install -U probeinterface")
    if not has_probe(settings, stream_name=folder_name):
        return None
    try:
        return reader(settings, stream_name=folder_name)
    except Exception as err:
        warnings.warn(f"{settings}: probeinterface cannot read the probe of stream {folder_name!r} "
                      f"({type(err).__name__}: {err}); the recording is read without a probe", UserWarning,
                      stacklevel=4)
        return None


class OpenEphysBinaryRecording(NeoBinaryRecording):
    """One stream of an Open Ephys binary-format folder (see :func:`read_openephys`)."""

    def __init__(self, folder_path: str | Path, stream_id: str | None = None, stream_name: str | None = None,
                 block_index: int | None = None, load_probe: bool = True, experiment_name: str | None = None,
                 load_sync_timestamps: bool = False, all_annotations: bool = False) -> None:
        folder = Path(folder_path).absolute()
        if not folder.is_dir():
            raise FileNotFoundError(f"folder_path={str(folder)!r} is not a folder")
        experiment_name = _choose_experiment(folder, experiment_name, block_index)
        _check_experiment(folder, experiment_name)
        folder, io = open_neo_folder("OpenEphysBinaryRawIO", folder, lambda _: None,
                                     experiment_names=[experiment_name])
        streams = io.header["signal_streams"]
        ids, names = [str(s) for s in streams["id"]], [str(s) for s in streams["name"]]
        index = choose_stream(ids, names, stream_id, stream_name, folder,
                              unavailable=_missing_streams(folder, experiment_name))
        for seg in range(io.segment_count(0)):
            desc = io.get_analogsignal_buffer_description(block_index=0, seg_index=seg,
                                                          buffer_id=streams["buffer_id"][index])
            _check_stream_files(Path(desc["file_path"]))
        self._build(io, index, block_index=0, all_annotations=all_annotations)
        parsed = parse_stream_name(names[index], _stream_kind(io, index))
        self.annotate(neo_stream_name=names[index], experiment_name=experiment_name)

        if load_probe and parsed.kind == "neural" and "NI-DAQmx" not in parsed.folder:
            experiments = io.folder_structure[parsed.node]["experiments"]
            settings = _settings_file(Path(experiments[sorted(experiments)[0]]["settings_file"]))
            if settings.is_file():
                probe = _read_probe(settings, parsed.folder)
                if probe is not None and attach_neuropixels_probe(self, probe, lf_band="lf" in parsed.folder.lower(),
                                                                  source=settings):
                    self.annotate(settings_file=str(settings))
        if load_sync_timestamps:
            self._set_sync_timestamps()
            self._time_info_modified = False  # the files' times: the kwargs rebuild them
        self._kwargs = {"folder_path": str(folder), "stream_id": ids[index], "experiment_name": experiment_name,
                        "load_probe": bool(load_probe), "load_sync_timestamps": bool(load_sync_timestamps),
                        "all_annotations": bool(all_annotations)}

    def _set_sync_timestamps(self) -> None:
        """Times of each segment from the GUI's synchronized timestamps (``timestamps.npy`` beside
        ``sample_numbers.npy`` from GUI 0.6, ``synchronized_timestamps.npy`` before)."""
        for segment_index, (dat_file, *_) in enumerate(self._binary):
            stream_folder = Path(dat_file).parent
            if (stream_folder / "sample_numbers.npy").is_file():
                times_file = stream_folder / "timestamps.npy"
            else:
                times_file = stream_folder / "synchronized_timestamps.npy"
            times = np.load(times_file, mmap_mode="r") if times_file.is_file() else None
            if times is None or len(times) != self.get_num_samples(segment_index):
                warnings.warn(f"{stream_folder}: no synchronized timestamps of the stream's length "
                              f"({times_file.name}); segment {segment_index} keeps t_start and the sampling rate",
                              UserWarning, stacklevel=3)
                continue
            self.set_times(np.asarray(times, dtype="float64"), segment_index=segment_index)


def _settings_file(settings: Path) -> Path:
    """The node's settings of the experiment (``settings_<n>.xml`` for experiment n > 1); when that
    file is missing, the node's ``settings.xml`` (its first experiment's), with a warning."""
    first = settings.parent / "settings.xml"
    if settings.is_file() or not first.is_file():
        return settings
    warnings.warn(f"{settings.name} is missing in {settings.parent}: the probe is read from settings.xml, the settings "
                  f"the GUI wrote for the node's first experiment (the probe of a later experiment is usually the same)",
                  UserWarning, stacklevel=4)
    return first


def _choose_experiment(folder: Path, experiment_name: str | None, block_index: int | None) -> str:
    experiments = _experiment_names(folder)
    if experiment_name is not None and block_index is not None:
        raise ValueError(f"give experiment_name or block_index, not both (got experiment_name={experiment_name!r}, "
                         f"block_index={block_index!r})")
    if experiment_name is not None:
        if experiment_name not in experiments:
            raise ValueError(f"experiment_name={experiment_name!r} is not in {folder}; available: {experiments}")
        return experiment_name
    if block_index is not None:
        if not 0 <= int(block_index) < len(experiments):
            raise ValueError(f"block_index={block_index}: allowed 0..{len(experiments) - 1} ({experiments})")
        return experiments[int(block_index)]
    if len(experiments) != 1:
        raise ValueError(f"{folder} holds {len(experiments)} experiments {experiments}: choose one with "
                         f"experiment_name= (or block_index=0..{len(experiments) - 1})")
    return experiments[0]


def read_openephys(folder_path: str | Path, stream_id: str | None = None, stream_name: str | None = None,
                   block_index: int | None = None, load_probe: bool = True, experiment_name: str | None = None,
                   load_sync_timestamps: bool = False, all_annotations: bool = False) -> OpenEphysBinaryRecording:
    """Read one stream of an Open Ephys binary-format folder.

    Parameters
    ----------
    folder_path : str or Path
        The session folder (or a record node, an experiment or a recording folder).
    stream_id : str, optional
        neo's stream id (``"0"``, ``"1"``, ..., ``"<name>SYNC"`` for a sync channel). Default: the
        only stream that is not a sync stream (an error lists them when there are several).
    stream_name : str, optional
        Choose by neo's stream name instead, e.g. ``"Record Node 101#Neuropix-PXI-100.ProbeA-AP"``.
    block_index : int, optional
        The experiment by index (0 for ``experiment1``); required when there are several.
    load_probe : bool
        Attach the Neuropixels probe described by the record node's ``settings.xml``
        (``settings_<n>.xml`` for experiment n > 1; when that file is missing, ``settings.xml``,
        with a warning) to a neural stream; sync, ADC and NI-DAQmx streams never get one.
    experiment_name : str, optional
        The experiment by name (``"experiment2"``), instead of ``block_index``.
    load_sync_timestamps : bool
        Set each segment's times from the GUI's synchronized timestamps.
    all_annotations : bool
        Add neo's annotations of the stream (and its array annotations as channel properties).

    Returns
    -------
    OpenEphysBinaryRecording
        int16 traces, ``gain_to_uV`` from ``bit_volts`` (float64) and SpikeInterface's
        ``physical_unit`` / ``gain_to_physical_unit`` / ``offset_to_physical_unit`` /
        ``channel_name`` properties, the ``experiment_name`` annotation, one segment per
        recording; for Neuropixels streams the probe, ``inter_sample_shift`` and
        ``saturation_threshold_uV``. Binary compatible, dumpable (``folder_path``, ``stream_id``,
        ``experiment_name``).

    Raises
    ------
    HeaderError
        ``structure.oebin`` is not valid, or a field contradicts the data files (a ``ValueError``
        naming the file and the field).
    MissingDataFileError
        The stream asked for is named by the oebin but its folder or ``continuous.dat`` is missing.
    """
    return OpenEphysBinaryRecording(folder_path, stream_id=stream_id, stream_name=stream_name,
                                    block_index=block_index, load_probe=load_probe, experiment_name=experiment_name,
                                    load_sync_timestamps=load_sync_timestamps, all_annotations=all_annotations)
