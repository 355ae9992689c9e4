"""File formats: SpikeGLX, Open Ephys binary, Kilosort/phy, MEArec, WhiteMatter, raw binary; test-data download.

SpikeGLX and Open Ephys headers are parsed by neo's rawio, probes by probeinterface; their
samples are read from the binary files by offset, so these recordings are binary compatible
(the GPU streaming path reads the files directly) and dumpable (rebuilt from the folder and
stream id).
"""
from ..core.binaryrecording import BinaryRecordingExtractor, read_binary
from ..core.datasets import download_dataset, get_global_dataset_folder
from .kilosort import KiloSortSorting, PhySorting, read_kilosort, read_phy
from .mearec import MEArecRecording, MEArecSorting, read_mearec
from .neo_utils import get_neo_num_blocks, get_neo_streams
from .openephys import OpenEphysBinaryRecording, read_openephys
from .spikeglx import SpikeGLXRecording, read_meta, read_spikeglx
from .whitematter import WhiteMatterRecordingExtractor, read_whitematter
from .spikeinterface_names import *  # noqa: F401,F403
from .spikeinterface_names import __all__ as _spikeinterface_names

__all__ = [
    "BinaryRecordingExtractor",
    "read_binary",
    "download_dataset",
    "get_global_dataset_folder",
    "KiloSortSorting",
    "PhySorting",
    "read_kilosort",
    "read_phy",
    "MEArecRecording",
    "MEArecSorting",
    "read_mearec",
    "get_neo_num_blocks",
    "get_neo_streams",
    "OpenEphysBinaryRecording",
    "read_openephys",
    "SpikeGLXRecording",
    "read_meta",
    "read_spikeglx",
    "WhiteMatterRecordingExtractor",
    "read_whitematter",
    *_spikeinterface_names,
]
