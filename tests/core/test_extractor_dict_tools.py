"""Walks over extractor dicts (core_tools) and super_zarr_open, with expected values written out."""
import numpy as np
import pytest

import gpuspike as gs
from gpuspike.core import core_tools
from gpuspike.core.zarrextractors import super_zarr_open


def test_rebasing_every_path_of_a_saved_recordings_dict(tmp_path):
    """The AIND idiom: walk a recording's dict, move every path under a new root, load it back."""
    rec = gs.NumpyRecording([np.arange(60, dtype="float32").reshape(20, 3)], 1000.0)
    saved = rec.save(folder=tmp_path / "old" / "rec")
    d = saved.to_dict(recursive=True)
    (tmp_path / "old").rename(tmp_path / "new")
    for element in core_tools.extractor_dict_iterator(d):
        if core_tools.element_is_path(element):
            moved = str(element.value).replace(str(tmp_path / "old"), str(tmp_path / "new"))
            core_tools.set_value_in_extractor_dict(d, element.access_path, moved)
    back = gs.load(d)
    np.testing.assert_array_equal(back.get_traces(), rec.get_traces())


def test_the_walk_names_list_items_by_their_key():
    d = {"a": {"b": 1, "file_paths": ["x", "y"]}, "c": [{"d": None}]}
    assert [tuple(e) for e in core_tools.extractor_dict_iterator(d)] == [
        (1, "b", ("a", "b")), ("x", "file_paths", ("a", "file_paths", 0)), ("y", "file_paths", ("a", "file_paths", 1)),
        (None, "d", ("c", 0, "d"))]
    assert list(core_tools.recursive_key_finder({"k": 1, "n": {"k": 2, "m": {"k": 3}}}, "k")) == [1, 2, 3]
    with pytest.raises(ValueError, match="access_path is empty"):
        core_tools.set_value_in_extractor_dict(d, (), 0)


def test_super_zarr_open_reads_local_folders_only(tmp_path):
    rec = gs.NumpyRecording([np.ones((10, 2), "int16")], 1000.0)
    rec.save(format="zarr", folder=tmp_path / "r.zarr")
    root = super_zarr_open(tmp_path / "r.zarr")
    assert root.attrs["sampling_frequency"] == 1000.0 and root["traces_seg0"].shape == (10, 2)
    for path, options in (("s3://bucket/r.zarr", None), (tmp_path / "r.zarr", {"anon": True})):
        with pytest.raises(ValueError, match="local zarr folders only"):
            super_zarr_open(path, storage_options=options)
    with pytest.raises(ValueError, match="mode='x'"):
        super_zarr_open(tmp_path / "r.zarr", mode="x")
