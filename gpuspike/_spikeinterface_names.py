"""Names of ``spikeinterface.core`` 0.105 that ``gpuspike.full`` does not offer, each with the reason.

Every other public name of ``spikeinterface.core`` 0.105 exists in ``gpuspike.full``, and every public
method / attribute of its main classes (:data:`COMPARED_CLASSES`) exists on gpuspike's class of the same
name, except those in :data:`NOT_IN_GPUSPIKE_METHODS`; the test
``tests/core/test_spikeinterface_names.py`` compares the lists against an installed SpikeInterface, and
these tables are the source for the documentation's list of differences.
"""

#: SpikeInterface 0.105 ``spikeinterface.core`` name -> why gpuspike does not have it
NOT_IN_GPUSPIKE = {
    # ---- other modules' objects and retired APIs
    "create_recording_from_old_extractor": "bridge to the retired spikeextractors package (< 0.90)",
    "create_sorting_from_old_extractor": "bridge to the retired spikeextractors package (< 0.90)",
    "create_extractor_from_new_recording": "bridge to the retired spikeextractors package (< 0.90)",
    "create_extractor_from_new_sorting": "bridge to the retired spikeextractors package (< 0.90)",
}

#: ``"module"`` or ``"module.name"`` of SpikeInterface 0.105's ``spikeinterface.core`` submodules -> why
#: ``gpuspike.core.<module>`` does not have it
NOT_IN_GPUSPIKE_SUBMODULES = {
    "old_api_utils": "bridges to the retired spikeextractors package (< 0.90)",
    **dict.fromkeys(
        [f"job_tools.{name}" for name in ("WorkerFuncWrapper", "process_worker_initializer", "process_function_wrapper",
                                          "thread_worker_initializer", "thread_function_wrapper")],
        "internals of SpikeInterface's process and thread pools; gpuspike's ChunkRecordingExecutor runs the same "
        "init_func / func contract on its own engine"),
    **dict.fromkeys(
        ("zarrextractors.ZarrSpikeVector", "zarrextractors.ZarrSampleIndexSearch"),
        "lazy zarr spike vectors (lazy_spike_vector=True): gpuspike reads a zarr sorting's spike vector into "
        "memory (same results); every consumer of to_spike_vector() takes an ndarray"),
}

#: ``"module.name"`` (``"core.name"`` for ``spikeinterface.core`` itself) -> why gpuspike's callable does not
#: take every argument name of SpikeInterface 0.105's
NOT_IN_GPUSPIKE_SIGNATURES = {
    **dict.fromkeys(
        [f"{module}.BaseRecordingSnippets"
         for module in ("core", "baserecording", "baserecordingsnippets", "basesnippets")]
        + [f"{module}.TimeSeriesSegment" for module in ("baserecording", "time_series", "time_series_tools")],
        "abstract classes for isinstance checks only (gpuspike's recordings and snippets are registered with them); "
        "subclass BaseRecording / BaseRecordingSegment, whose constructors take SpikeInterface's arguments"),
    "waveforms_extractor_backwards_compatibility.MockWaveformExtractor":
        "gpuspike's MockWaveformExtractor is its WaveformExtractor (the 0.100 API, built by extract_waveforms / "
        "load_waveforms), not a wrapper of a SortingAnalyzer: its sorting_analyzer is built from it, and "
        "get_template of a sparse extractor gives the unit's channels (0.100's result; 0.105's mock gives "
        "dense float64 templates)",
}

#: function or method name -> why its positional arguments are not in SpikeInterface 0.105's order
#: (where the two generations ordered them differently)
POSITIONAL_ORDER_DIFFERENCES = {
    "save": "SpikeInterface 0.105's first positional argument of save() is format; gpuspike's is folder (the "
            "specification's recording.save(folder=...)): pass format= by name",
    "get_random_data_chunks": "the order of SpikeInterface 0.100 (return_scaled, num_chunks_per_segment, chunk_size, "
                              "concatenated, seed); 0.105 moved the chunk options into **random_slices_kwargs: pass "
                              "concatenated= by name",
    "write_binary_recording": "the order of SpikeInterface 0.100 (dtype third, then add_file_extension, byte_offset); "
                              "0.105 put file_timestamps_paths third: pass it by name",
    "compute_templates": "gpuspike's compute_templates also takes (recording, sorting, ...) positionally (its pass "
                         "over every spike); with a SortingAnalyzer, pass load_if_exists= by name",
}

#: classes whose public methods and attributes are compared with SpikeInterface 0.105's
COMPARED_CLASSES = (
    "BaseRecording", "BaseSorting", "BaseSnippets", "BaseEvent", "BaseRecordingSegment", "BaseSortingSegment",
    "BaseSnippetsSegment", "BaseEventSegment", "NumpyRecording", "NumpySorting", "NumpySnippets", "NumpyEvent",
    "BinaryRecordingExtractor", "BinaryFolderRecording", "NpzSortingExtractor", "NumpyFolderSorting",
    "ChannelSliceRecording", "UnitsSelectionSorting", "FrameSliceRecording", "FrameSliceSorting",
    "NoiseGeneratorRecording", "InjectTemplatesRecording", "SharedMemoryRecording", "SharedMemorySorting",
    "ZarrRecordingExtractor", "ZarrSortingExtractor", "ChannelSparsity", "ChunkRecordingExecutor",
    "TimeSeriesChunkExecutor", "SortingAnalyzer", "Templates", "Motion", "AnalyzerExtension", "ComputeRandomSpikes",
    "ComputeWaveforms", "ComputeTemplates", "ComputeNoiseLevels", "ChannelsAggregationRecording",
    "UnitsAggregationSorting",
)

#: ``"Class.name"`` of SpikeInterface 0.105 -> why gpuspike's class does not have it
NOT_IN_GPUSPIKE_METHODS = {
    "BaseSnippets.frame_slice": "not implemented by SpikeInterface 0.105 either (raises NotImplementedError)",
    "NumpySnippets.frame_slice": "not implemented by SpikeInterface 0.105 either (raises NotImplementedError)",
}
