"""Recordings and sortings written into a zarr group the caller opened (SpikeInterface's
``add_recording_to_zarr_group`` / ``add_sorting_to_zarr_group``), read back against the originals."""
import numpy as np
import pytest
import zarr

import gpuspike as gs
from gpuspike.core.zarrextractors import (ZarrRecordingExtractor, ZarrSortingExtractor, add_recording_to_zarr_group,
                                          add_sorting_to_zarr_group)



def _open_root(path):
    if int(zarr.__version__.split(".")[0]) >= 3:
        return zarr.open_group(str(path), mode="w", zarr_format=2)
    return zarr.open_group(str(path), mode="w")


def test_sorting_in_a_sub_group(tmp_path):
    sorting = gs.generate_sorting(num_units=4, durations=[2.0, 1.0], seed=3)
    sorting.set_property("quality", np.array(["good", "mua", "good", "noise"]))
    root = _open_root(tmp_path / "store.zarr")
    add_sorting_to_zarr_group(sorting, root.create_group("sorting"))
    loaded = ZarrSortingExtractor(tmp_path / "store.zarr", zarr_group="sorting")
    again = gs.load(loaded.to_dict())
    for reader in (loaded, again):
        assert list(reader.unit_ids) == list(sorting.unit_ids)
        for segment_index in range(2):
            for unit_id in sorting.unit_ids:
                np.testing.assert_array_equal(reader.get_unit_spike_train(unit_id, segment_index=segment_index),
                                              sorting.get_unit_spike_train(unit_id, segment_index=segment_index))
    np.testing.assert_array_equal(loaded.get_property("quality"), ["good", "mua", "good", "noise"])
    with pytest.raises(TypeError, match="unknown keyword arguments \\['chunks'\\]"):
        add_sorting_to_zarr_group(sorting, root.create_group("other"), chunks=10)


def test_recording_in_a_group_with_time_vector_and_codecs(tmp_path):
    from numcodecs import Blosc

    recording = gs.generate_recording(num_channels=3, durations=[1.0, 0.5], seed=4)
    recording.set_times(recording.get_times(segment_index=1) + 7.0, segment_index=1)
    root = _open_root(tmp_path / "rec.zarr")
    codec = Blosc(cname="zlib", clevel=2)
    add_recording_to_zarr_group(recording, root, dtype="float32", chunk_size=7000, channel_chunk_size=2,
                                compressor_by_dataset={"traces": codec})
    assert root["traces_seg0"].chunks == (7000, 2)
    loaded = ZarrRecordingExtractor(tmp_path / "rec.zarr")
    for segment_index in range(2):
        np.testing.assert_array_equal(loaded.get_traces(segment_index=segment_index),
                                      recording.get_traces(segment_index=segment_index))
    np.testing.assert_array_equal(loaded.get_times(segment_index=1), recording.get_times(segment_index=1))
    assert not loaded.has_time_vector(0)
    np.testing.assert_array_equal(loaded.get_channel_locations(), recording.get_channel_locations())
    with pytest.raises(TypeError, match="unknown keyword arguments \\['compression'\\]"):
        add_recording_to_zarr_group(recording, _open_root(tmp_path / "bad.zarr"), compression=codec)
