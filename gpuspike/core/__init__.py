"""Core objects and tools of gpuspike (the SpikeInterface core module API)."""
from .base import BaseExtractor, BaseSegment
from .errors import (ConcurrentSaveError, CorruptFolderError, FolderExistsError, NotDumpableError,
                     RefusedOverwriteError, UnsafeFolderError)
from .recording import BaseRecording, BaseRecordingSegment
from .sorting import BaseSorting, BaseSortingSegment, spike_dtype, minimum_spike_dtype
from .event import BaseEvent, BaseEventSegment
from .snippets import BaseSnippets, BaseSnippetsSegment
from .numpyextractors import (NumpyEvent, NumpyEventSegment, NumpyRecording, NumpyRecordingSegment, NumpySnippets,
                              NumpySnippetsSegment, NumpySorting, NumpySortingSegment)
from .views import (ChannelSliceRecording, ChannelSliceSnippets, FrameSliceRecording, FrameSliceSorting,
                    UnitsSelectionSorting)
from .segmentutils import (append_recordings, append_sortings, concatenate_recordings, concatenate_sortings,
                           select_segment_recording, select_segment_sorting, split_recording, split_sorting,
                           AppendSegmentRecording, ConcatenateSegmentRecording, SelectSegmentRecording,
                           AppendSegmentSorting, ConcatenateSegmentSorting, SelectSegmentSorting)
from .aggregate import aggregate_channels, aggregate_units, AggregateChannelsRecording, AggregateUnitsSorting
from .recording_tools import (get_channel_distances, get_chunk_with_margin, get_closest_channels, get_noise_levels,
                              get_random_data_chunks, order_channels_by_depth)
from .generate import (GeneratedSorting, NoiseGeneratorRecording, clean_refractory_period, generate_recording,
                       generate_snippets, generate_sorting, inject_some_duplicate_units, inject_some_split_units,
                       synthesize_random_firings, synthetize_spike_train_bad_isi, synthesize_spike_train_bad_isi,
                       generate_neuropixels_like_probe)
from .groundtruth import (GroundTruthRecording, generate_ground_truth_recording, generate_templates,
                          generate_unit_locations)
from .job import (JobConfig, get_global_job_kwargs, reset_global_job_kwargs, resolve_job_kwargs,
                  set_global_job_kwargs, split_job_kwargs, run_chunks)
from .executor import ChunkExecutor
from . import recording_tools
from .sparsity import ChannelSparsity, compute_sparsity
from .template_tools import (get_template_amplitudes, get_template_extremum_amplitude, get_template_extremum_channel,
                             get_template_extremum_channel_peak_shift)
from .waveforms import WaveformExtractor, compute_templates, extract_waveforms, load_waveforms
from .random_spikes import select_random_spikes
from . import template_tools
from .datasets import download_dataset

from .binaryrecording import BinaryRecording, BinaryRecordingExtractor, read_binary
from .binaryfolder import BinaryFolderRecording, read_binary_folder
from .npzsorting import (NpzSortingExtractor, NpzFolderSorting, NumpyFolderSorting, NpySnippetsExtractor,
                         NpyFolderSnippets, NpzFolderEvent, read_npz, read_npz_sorting, read_npz_folder,
                         read_numpy_sorting_folder, read_npy_snippets_folder, read_npz_event_folder)
from .zarrrecording import ZarrRecording, ZarrRecordingExtractor, get_default_zarr_compressor, read_zarr
from .saving import write_binary_recording
from .excess_spikes import RemoveExcessSpikesSorting, remove_excess_spikes
from .loading import load, load_extractor

__all__ = [
    "BaseExtractor",
    "BaseSegment",
    "CorruptFolderError",
    "FolderExistsError",
    "NotDumpableError",
    "RefusedOverwriteError",
    "ConcurrentSaveError",
    "UnsafeFolderError",
    "RemoveExcessSpikesSorting",
    "remove_excess_spikes",
    "BaseRecording",
    "BaseRecordingSegment",
    "BaseSorting",
    "BaseSortingSegment",
    "spike_dtype",
    "minimum_spike_dtype",
    "BaseEvent",
    "BaseEventSegment",
    "BaseSnippets",
    "BaseSnippetsSegment",
    "NumpyEvent",
    "NumpyEventSegment",
    "NumpyRecording",
    "NumpyRecordingSegment",
    "NumpySnippets",
    "NumpySnippetsSegment",
    "NumpySorting",
    "NumpySortingSegment",
    "ChannelSliceRecording",
    "ChannelSliceSnippets",
    "FrameSliceRecording",
    "FrameSliceSorting",
    "UnitsSelectionSorting",
    "append_recordings",
    "append_sortings",
    "concatenate_recordings",
    "concatenate_sortings",
    "select_segment_recording",
    "select_segment_sorting",
    "split_recording",
    "split_sorting",
    "AppendSegmentRecording",
    "ConcatenateSegmentRecording",
    "SelectSegmentRecording",
    "AppendSegmentSorting",
    "ConcatenateSegmentSorting",
    "SelectSegmentSorting",
    "aggregate_channels",
    "aggregate_units",
    "AggregateChannelsRecording",
    "AggregateUnitsSorting",
    "get_channel_distances",
    "get_chunk_with_margin",
    "get_closest_channels",
    "get_noise_levels",
    "get_random_data_chunks",
    "order_channels_by_depth",
    "GeneratedSorting",
    "NoiseGeneratorRecording",
    "clean_refractory_period",
    "generate_recording",
    "generate_snippets",
    "generate_sorting",
    "inject_some_duplicate_units",
    "inject_some_split_units",
    "synthesize_random_firings",
    "synthetize_spike_train_bad_isi",
    "synthesize_spike_train_bad_isi",
    "generate_neuropixels_like_probe",
    "GroundTruthRecording",
    "generate_ground_truth_recording",
    "generate_templates",
    "generate_unit_locations",
    "JobConfig",
    "get_global_job_kwargs",
    "reset_global_job_kwargs",
    "resolve_job_kwargs",
    "set_global_job_kwargs",
    "split_job_kwargs",
    "run_chunks",
    "ChunkExecutor",
    "recording_tools",
    "ChannelSparsity",
    "compute_sparsity",
    "get_template_amplitudes",
    "get_template_extremum_amplitude",
    "get_template_extremum_channel",
    "get_template_extremum_channel_peak_shift",
    "WaveformExtractor",
    "compute_templates",
    "extract_waveforms",
    "load_waveforms",
    "select_random_spikes",
    "template_tools",
    "download_dataset",
    "BinaryRecording",
    "BinaryRecordingExtractor",
    "read_binary",
    "BinaryFolderRecording",
    "read_binary_folder",
    "NpzSortingExtractor",
    "NpzFolderSorting",
    "NumpyFolderSorting",
    "NpySnippetsExtractor",
    "NpyFolderSnippets",
    "NpzFolderEvent",
    "read_npz",
    "read_npz_sorting",
    "read_npz_folder",
    "read_numpy_sorting_folder",
    "read_npy_snippets_folder",
    "read_npz_event_folder",
    "ZarrRecording",
    "ZarrRecordingExtractor",
    "get_default_zarr_compressor",
    "read_zarr",
    "write_binary_recording",
    "load",
    "load_extractor",
]
