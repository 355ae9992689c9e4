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
