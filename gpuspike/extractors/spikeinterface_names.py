"""Names ``spikeinterface.extractors`` users reach through it: in-memory objects, toy data, core
folder readers, and the ``*RecordingExtractor`` / ``*SortingExtractor`` spellings of the readers."""
from ..core import (BinaryFolderRecording, NpzSortingExtractor, NumpyRecording, NumpySorting, ZarrRecordingExtractor,
                    ZarrSortingExtractor, read_npy_snippets, read_npz_sorting, read_zarr, toy_example)
from .kilosort import KiloSortSorting, PhySorting
from .mearec import MEArecRecording, MEArecSorting
from .openephys import OpenEphysBinaryRecording
from .spikeglx import SpikeGLXRecording

MEArecRecordingExtractor = MEArecRecording
MEArecSortingExtractor = MEArecSorting
SpikeGLXRecordingExtractor = SpikeGLXRecording
OpenEphysBinaryRecordingExtractor = OpenEphysBinaryRecording
KiloSortSortingExtractor = KiloSortSorting
PhySortingExtractor = PhySorting

__all__ = [
    "BinaryFolderRecording",
    "NpzSortingExtractor",
    "NumpyRecording",
    "NumpySorting",
    "ZarrRecordingExtractor",
    "ZarrSortingExtractor",
    "read_npy_snippets",
    "read_npz_sorting",
    "read_zarr",
    "toy_example",
    "MEArecRecordingExtractor",
    "MEArecSortingExtractor",
    "SpikeGLXRecordingExtractor",
    "OpenEphysBinaryRecordingExtractor",
    "KiloSortSortingExtractor",
    "PhySortingExtractor",
]
