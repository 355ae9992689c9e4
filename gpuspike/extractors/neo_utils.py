"""SpikeInterface's helpers that list what a neo-read folder holds before a stream is chosen:
``get_neo_streams`` and ``get_neo_num_blocks`` (``spikeinterface.extractors.neoextractors.neo_utils``)."""
from __future__ import annotations

from pathlib import Path

#: SpikeInterface's extractor names (its neo classes, lowercased, less "Recording" / "Extractor")
NEO_EXTRACTOR_NAMES = ("spikeglx", "openephysbinary")


def _parsed(extractor_name: str, folder_path, experiment_names=None):
    """neo's parse of ``folder_path`` by the reader SpikeInterface calls ``extractor_name``."""
    if extractor_name == "spikeglx":
        if experiment_names is not None:
            raise TypeError("get_neo_streams('spikeglx', folder_path): SpikeGLX folders take no experiment_names")
        from .spikeglx import _open

        return _open(folder_path)[1]
    if extractor_name == "openephysbinary":
        from .neobinary import open_neo_folder

        names = [experiment_names] if isinstance(experiment_names, str) else experiment_names
        return open_neo_folder("OpenEphysBinaryRawIO", Path(folder_path), lambda _: None, experiment_names=names)[1]
    raise ValueError(f"extractor_name={extractor_name!r}: gpuspike reads {list(NEO_EXTRACTOR_NAMES)} through neo")


def get_neo_streams(extractor_name: str, folder_path: str | Path,
                    experiment_names: str | list | None = None) -> tuple[list, list]:
    """The streams of a folder, to choose one with ``stream_id=`` / ``stream_name=`` of the reader.

    Parameters
    ----------
    extractor_name : {"spikeglx", "openephysbinary"}
        SpikeInterface's name of the reader.
    folder_path : str or Path
    experiment_names : str or list of str, optional
        Open Ephys experiments to look in (default: all).

    Returns
    -------
    stream_names : list of str
    stream_ids : list of str
    """
    streams = _parsed(extractor_name, folder_path, experiment_names).header["signal_streams"]
    return [str(n) for n in streams["name"]], [str(i) for i in streams["id"]]


def get_neo_num_blocks(extractor_name: str, folder_path: str | Path,
                       experiment_names: str | list | None = None) -> int:
    """How many neo blocks a folder holds (Open Ephys: its experiments; choose one with ``block_index=``).

    Parameters
    ----------
    extractor_name : {"spikeglx", "openephysbinary"}
    folder_path : str or Path
    experiment_names : str or list of str, optional

    Returns
    -------
    int
    """
    return int(_parsed(extractor_name, folder_path, experiment_names).block_count())
