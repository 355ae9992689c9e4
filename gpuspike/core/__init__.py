"""Core objects and tools of gpuspike (the SpikeInterface core module API)."""
from .base import BaseExtractor, BaseSegment
from .abstract_bases import BaseRecordingSnippets, TimeSeries, TimeSeriesSegment
from .errors import (ConcurrentSaveError, CorruptFolderError, FolderExistsError, NotDumpableError,
                     RefusedOverwriteError, UnsafeFolderError)
from .recording import BaseRecording, BaseRecordingSegment
from .sorting import BaseSorting, BaseSortingSegment, spike_dtype, minimum_spike_dtype
from .event import BaseEvent, BaseEventSegment
from .snippets import BaseSnippets, BaseSnippetsSegment
from .numpyextractors import (NumpyEvent, NumpyEventSegment, NumpyRecording, NumpyRecordingSegment, NumpySnippets,
                              NumpySnippetsSegment, NumpySorting, NumpySortingSegment, SpikeVectorSortingSegment)
from .sharedmem import SharedMemoryRecording, SharedMemorySorting, write_memory, write_memory_recording
from .views import (ChannelSliceRecording, ChannelSliceSnippets, FrameSliceRecording, FrameSliceSorting,
                    UnitsSelectionSorting)
from .segmentutils import (append_recordings, append_sortings, concatenate_recordings, concatenate_sortings,
                           select_segment_recording, select_segment_sorting, split_recording, split_sorting,
                           AppendSegmentRecording, ConcatenateSegmentRecording, SelectSegmentRecording,
                           AppendSegmentSorting, ConcatenateSegmentSorting, SelectSegmentSorting, SplitSegmentSorting)
from .aggregate import (aggregate_channels, aggregate_units, AggregateChannelsRecording, AggregateUnitsSorting,
                        ChannelsAggregationRecording, UnitsAggregationSorting)
from .astype import AstypeRecording, astype
from .recording_tools import (do_recording_attributes_match, get_channel_distances, get_chunk_with_margin, get_chunks,
                              get_closest_channels, get_noise_levels, get_random_data_chunks, get_random_sample_slices,
                              get_rec_attributes, get_time_series_chunk_with_margin, order_channels_by_depth,
                              write_to_h5_dataset_format)
from .operatorrecordings import AddRecordings, BaseOperatorRecording, SubtractRecordings
from .generate import (GeneratedSorting, MockRecording, NoiseGeneratorRecording, clean_refractory_period,
                       create_sorting_npz, generate_neuropixels_like_probe, generate_recording,
                       generate_recording_by_size, generate_snippets, generate_sorting, generate_sorting_to_inject,
                       inject_some_duplicate_units,
                       inject_some_split_units, noise_generator_recording, synthesize_poisson_spike_vector,
                       synthesize_random_firings, synthetize_spike_train_bad_isi, synthesize_spike_train_bad_isi)
from .groundtruth import (GroundTruthRecording, generate_channel_locations, generate_ground_truth_recording,
                          generate_single_fake_waveform, generate_templates, generate_unit_locations, toy_example)
from .injecttemplates import InjectTemplatesRecording, inject_templates
from .transformsorting import TransformSorting, add_synchrony_to_sorting
from .snippets_tools import snippets_from_sorting
from .sorting_tools import (random_spikes_selection, select_sorting_periods, spike_vector_to_indices,
                            spike_vector_to_spike_trains, unit_period_dtype)
from .core_tools import (SIJsonEncoder, add_suffix, check_json, check_paths_relative, convert_string_to_bytes,
                         make_paths_absolute, make_paths_relative, measure_memory_allocation, ms_to_samples, normal_pdf,
                         read_python, recursive_path_modifier, write_python)
from .globals import (get_global_dataset_folder, get_global_tmp_folder, is_set_global_dataset_folder,
                      is_set_global_tmp_folder, reset_global_tmp_folder, set_global_dataset_folder,
                      set_global_tmp_folder)
from .job import (JobConfig, get_global_job_kwargs, is_set_global_job_kwargs_set, reset_global_job_kwargs,
                  resolve_job_kwargs, set_global_job_kwargs, split_job_kwargs, run_chunks)
from .job_tools import (ChunkRecordingExecutor, TimeSeriesChunkExecutor, ensure_chunk_size, ensure_n_jobs,
                        fix_job_kwargs, get_best_job_kwargs)
from .executor import ChunkExecutor
from . import recording_tools
from .sparsity import ChannelSparsity, compute_sparsity
from .template_tools import (get_template_amplitude_on_main_channel, get_template_amplitudes,
                             get_template_extremum_amplitude, get_template_extremum_channel,
                             get_template_extremum_channel_peak_shift, get_template_peak_shift_on_main_channel)
from .waveforms import WaveformExtractor
from .sortinganalyzer import SortingAnalyzer
from .analyzer_create import create_sorting_analyzer, load_sorting_analyzer, load_sorting_analyzer_or_waveforms
from .analyzer_extension import (AnalyzerExtension, get_available_analyzer_extensions,
                                 get_default_analyzer_extension_params, register_result_extension)
from .analyzer_metrics import BaseMetric, BaseMetricExtension
from .analyzer_extension_core import (ComputeNoiseLevels, ComputeRandomSpikes, ComputeTemplates, ComputeWaveforms,
                                      compute_noise_levels, compute_random_spikes, compute_templates,
                                      compute_waveforms)
from .sorting_merges import apply_merges_to_sorting
from .sorting_splits import apply_splits_to_sorting
from .template import Templates
from .motion import Motion
from .waveforms_compat import (estimate_sparsity, estimate_templates, estimate_templates_with_accumulator,
                               extract_waveforms, extract_waveforms_to_buffers, extract_waveforms_to_single_buffer,
                               get_template_channel_sparsity, load_waveforms, precompute_sparsity,
                               split_waveforms_by_units)
from .waveforms_compat import _read_old_waveforms_extractor_binary  # noqa: F401 (SpikeInterface's module path)
from .waveforms_compat import (allocate_waveforms_buffers,  # noqa: F401 (SpikeInterface's waveform_tools)
                               distribute_waveforms_to_buffers)
# SpikeInterface's basesorting and generate modules
from .si_methods import LEXSORT_SEGMENT_COMPACT, LEXSORT_UNIT_COMPACT  # noqa: F401
from .groundtruth import DEFAULT_UNIT_PARAMS_RANGE as default_unit_params_range  # noqa: F401
from .groundtruth import exp_growth  # noqa: F401
from .random_spikes import select_random_spikes
from . import template_tools
from .datasets import download_dataset

from .binaryrecording import BinaryRecording, BinaryRecordingExtractor, BinDatRecordingExtractor, read_binary
from .binaryfolder import BinaryFolderRecording, read_binary_folder
from .npzsorting import (NpzSortingExtractor, NpzFolderSorting, NumpyFolderSorting, NpySnippetsExtractor,
                         NpyFolderSnippets, NpzFolderEvent, read_npz, read_npz_sorting, read_npz_folder,
                         read_numpy_sorting_folder, read_npy_snippets, read_npy_snippets_folder, read_npz_event_folder)
from .zarrrecording import (ZarrRecording, ZarrRecordingExtractor, add_recording_to_zarr_group,
                           get_default_zarr_compressor, read_zarr)
from .zarrsorting import ZarrSortingExtractor, add_sorting_to_zarr_group, read_zarr_sorting
from .zarrarray import ZarrArrayRecording, read_zarr_array, write_recording_to_zarr
# names of SpikeInterface's submodules (waveform_tools, zarrextractors) that its core does not export either
from .sorting import exceeding_spikes as has_exceeding_spikes  # noqa: F401
from .zarrrecording import read_zarr_recording, super_zarr_open  # noqa: F401
from .job_tools import chunk_duration_to_chunk_size  # noqa: F401  (also in time_series_tools, SpikeInterface 0.105)
from .saving import write_binary, write_binary_recording
from .excess_spikes import RemoveExcessSpikesSorting, remove_excess_spikes
from .loading import load, load_extractor
from . import testing
from .si_modules import install as _install_spikeinterface_modules
from .testing import (check_extractor_annotations_equal, check_extractor_properties_equal, check_recordings_equal,
                      check_sorted_arrays_equal, check_sortings_equal)


_install_spikeinterface_modules()
#: SpikeInterface 0.105's name of the 0.100 WaveformExtractor API (what load_waveforms returns)
MockWaveformExtractor = WaveformExtractor

__all__ = [
    "BaseExtractor",
    "BaseSegment",
    "BaseRecordingSnippets",
    "TimeSeries",
    "TimeSeriesSegment",
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
    "SpikeVectorSortingSegment",
    "SharedMemoryRecording",
    "SharedMemorySorting",
    "write_memory_recording",
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
    "SplitSegmentSorting",
    "aggregate_channels",
    "aggregate_units",
    "AggregateChannelsRecording",
    "AggregateUnitsSorting",
    "AstypeRecording",
    "AddRecordings",
    "SubtractRecordings",
    "BaseOperatorRecording",
    "astype",
    "get_channel_distances",
    "get_chunk_with_margin",
    "get_closest_channels",
    "get_noise_levels",
    "write_to_h5_dataset_format",
    "get_random_data_chunks",
    "get_random_sample_slices",
    "get_chunks",
    "get_time_series_chunk_with_margin",
    "get_rec_attributes",
    "do_recording_attributes_match",
    "order_channels_by_depth",
    "GeneratedSorting",
    "MockRecording",
    "NoiseGeneratorRecording",
    "clean_refractory_period",
    "create_sorting_npz",
    "generate_neuropixels_like_probe",
    "generate_recording",
    "generate_recording_by_size",
    "generate_snippets",
    "generate_sorting",
    "generate_sorting_to_inject",
    "inject_some_duplicate_units",
    "inject_some_split_units",
    "noise_generator_recording",
    "synthesize_poisson_spike_vector",
    "synthesize_random_firings",
    "synthetize_spike_train_bad_isi",
    "synthesize_spike_train_bad_isi",
    "GroundTruthRecording",
    "generate_channel_locations",
    "generate_ground_truth_recording",
    "generate_single_fake_waveform",
    "generate_templates",
    "generate_unit_locations",
    "toy_example",
    "InjectTemplatesRecording",
    "inject_templates",
    "TransformSorting",
    "add_synchrony_to_sorting",
    "snippets_from_sorting",
    "random_spikes_selection",
    "select_sorting_periods",
    "spike_vector_to_indices",
    "spike_vector_to_spike_trains",
    "unit_period_dtype",
    "ms_to_samples",
    "check_json",
    "SIJsonEncoder",
    "add_suffix",
    "check_paths_relative",
    "convert_string_to_bytes",
    "make_paths_absolute",
    "make_paths_relative",
    "recursive_path_modifier",
    "MockWaveformExtractor",
    "extract_waveforms_to_single_buffer",
    "measure_memory_allocation",
    "testing",
    "check_extractor_annotations_equal",
    "check_extractor_properties_equal",
    "check_recordings_equal",
    "check_sorted_arrays_equal",
    "check_sortings_equal",
    "normal_pdf",
    "read_python",
    "write_python",
    "get_global_dataset_folder",
    "get_global_tmp_folder",
    "is_set_global_dataset_folder",
    "is_set_global_tmp_folder",
    "reset_global_tmp_folder",
    "set_global_dataset_folder",
    "set_global_tmp_folder",
    "JobConfig",
    "get_global_job_kwargs",
    "is_set_global_job_kwargs_set",
    "reset_global_job_kwargs",
    "resolve_job_kwargs",
    "set_global_job_kwargs",
    "split_job_kwargs",
    "run_chunks",
    "ChunkRecordingExecutor",
    "TimeSeriesChunkExecutor",
    "ensure_chunk_size",
    "ensure_n_jobs",
    "fix_job_kwargs",
    "get_best_job_kwargs",
    "ChunkExecutor",
    "recording_tools",
    "ChannelSparsity",
    "compute_sparsity",
    "get_template_amplitude_on_main_channel",
    "get_template_amplitudes",
    "get_template_extremum_amplitude",
    "get_template_extremum_channel",
    "get_template_extremum_channel_peak_shift",
    "get_template_peak_shift_on_main_channel",
    "WaveformExtractor",
    "compute_templates",
    "SortingAnalyzer",
    "create_sorting_analyzer",
    "load_sorting_analyzer",
    "load_sorting_analyzer_or_waveforms",
    "AnalyzerExtension",
    "BaseMetric",
    "BaseMetricExtension",
    "get_available_analyzer_extensions",
    "get_default_analyzer_extension_params",
    "register_result_extension",
    "ComputeRandomSpikes",
    "ComputeWaveforms",
    "ComputeTemplates",
    "ComputeNoiseLevels",
    "compute_random_spikes",
    "compute_waveforms",
    "compute_noise_levels",
    "apply_merges_to_sorting",
    "apply_splits_to_sorting",
    "Templates",
    "Motion",
    "load_waveforms",
    "estimate_sparsity",
    "estimate_templates",
    "estimate_templates_with_accumulator",
    "extract_waveforms",
    "extract_waveforms_to_buffers",
    "get_template_channel_sparsity",
    "precompute_sparsity",
    "split_waveforms_by_units",
    "select_random_spikes",
    "template_tools",
    "download_dataset",
    "BinaryRecording",
    "BinDatRecordingExtractor",
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
    "read_npy_snippets",
    "read_npy_snippets_folder",
    "read_npz_event_folder",
    "ZarrRecording",
    "ZarrRecordingExtractor",
    "add_recording_to_zarr_group",
    "add_sorting_to_zarr_group",
    "get_default_zarr_compressor",
    "read_zarr",
    "ZarrArrayRecording",
    "read_zarr_array",
    "write_recording_to_zarr",
    "ZarrSortingExtractor",
    "read_zarr_sorting",
    "write_binary",
    "write_memory",
    "write_binary_recording",
    "load",
    "load_extractor",
    "ChannelsAggregationRecording",
    "UnitsAggregationSorting",
]
