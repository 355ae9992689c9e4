"""SpikeInterface 0.105's module-level helpers of core_tools, recording_tools, waveform_tools,
sorting_tools and the aggregation classes, against references written here with NumPy, h5py and
plain file reads."""
import json
import sysconfig
from pathlib import Path

import h5py
import numpy as np
import pytest
from probeinterface import generate_linear_probe

import gpuspike as gs
from gpuspike.core import core_tools, recording_tools, sorting_tools
from gpuspike.core.errors import CorruptFolderError


@pytest.fixture
def recording():
    rng = np.random.default_rng(0)
    traces = [rng.integers(-500, 500, (3000, 4)).astype("int16"), rng.integers(-500, 500, (1700, 4)).astype("int16")]
    rec = gs.NumpyRecording(traces, 10000.0, channel_ids=["a", "b", "c", "d"])
    rec.set_channel_gains([0.5, 1.0, 2.0, 0.25])
    rec.set_channel_offsets([0.0, -3.0, 1.0, 0.0])
    return rec, traces


class Halve(gs.BaseRecording):
    """A toy preprocessor: the traces halved (float32)."""

    _precomputable_kwarg_names = ["factor"]

    def __init__(self, recording, factor=0.5):
        super().__init__(recording.sampling_frequency, recording.channel_ids, "float32")
        self.parent = recording
        self.factor = factor
        for segment in recording._segments:
            self.add_segment(_HalveSegment(segment, factor))
        self._kwargs = {"recording": recording, "factor": factor}


class _HalveSegment(gs.BaseRecordingSegment):
    def __init__(self, parent, factor):
        super().__init__()
        self.parent, self.factor = parent, factor

    def get_num_samples(self):
        return self.parent.get_num_samples()

    def get_traces(self, start_frame, end_frame, channel_indices):
        return (self.parent.get_traces(start_frame, end_frame, channel_indices) * self.factor).astype("float32")


def test_function_handling_dict_applies_the_class_to_each_recording(recording):
    rec, traces = recording
    halve = core_tools.define_function_handling_dict_from_class(Halve, "halve")
    assert halve.__name__ == "halve" and halve._precomputable_kwarg_names == ["factor"]
    assert list(halve.__signature__.parameters) == ["recording", "factor"]
    one = halve(rec, factor=0.25)
    # its segments were made without a sampling frequency: they take the recording's
    assert one.get_times(segment_index=1)[1] == pytest.approx(1e-4) and "Halve: 4 channels" in repr(one)
    assert one.get_total_duration() == pytest.approx((3000 + 1700) / 10000.0)
    np.testing.assert_array_equal(one.get_traces(segment_index=1), traces[1] * np.float32(0.25))
    rec.set_property("group", [0, 0, 1, 1])
    split = rec.split_by("group")
    by_group = halve(split, 0.5)
    assert set(by_group) == set(split)
    for key, sub in by_group.items():
        assert isinstance(sub, Halve)
        np.testing.assert_array_equal(sub.get_traces(segment_index=1),
                                      split[key].get_traces(segment_index=1) * np.float32(0.5))
    by_keyword = halve(recording=split, factor=2.0)
    np.testing.assert_array_equal(by_keyword[1].get_traces(segment_index=0), traces[0][:, 2:] * np.float32(2.0))
    with pytest.raises(TypeError, match="halve\\(\\) takes a recording or a dict of recordings, got list"):
        halve([rec])


def test_small_core_tools_as_spikeinterface():
    assert core_tools.clean_zarr_folder_name("out/analyzer") == Path("out/analyzer.zarr")
    assert core_tools.clean_zarr_folder_name("out/a.zarr") == Path("out/a.zarr")
    assert core_tools.clean_zarr_folder_name("out/a.bin") == Path("out/a.zarr")
    provenance = core_tools.retrieve_importing_provenance(gs.NumpySorting)
    assert provenance == {"class": f"{gs.NumpySorting.__module__}.NumpySorting", "module": "gpuspike",
                          "version": gs.__version__}
    assert core_tools.retrieve_importing_provenance(np.ndarray)["version"] == np.__version__
    # editable: gpuspike is imported from its source tree, not from the interpreter's site-packages
    site = Path(sysconfig.get_paths()["purelib"]).resolve()
    assert core_tools.is_editable_mode() is (not Path(gs.__file__).resolve().is_relative_to(site))
    assert core_tools.make_shared_array is gs.core.sharedmem.make_shared_array


def test_properties_folder_round_trip_never_unpickles(recording, tmp_path):
    rec, _ = recording
    rec.set_property("quality", np.array(["good", "noise", "good", "mua"], dtype=object))
    rec.set_property("depth", np.array([1.5, 2.5, 3.5, 4.5]))
    folder = tmp_path / "properties"
    core_tools.save_properties_to_folder(folder, rec)
    assert np.load(folder / "depth.npy").tolist() == [1.5, 2.5, 3.5, 4.5]
    assert np.load(folder / "quality.npy").tolist() == ["good", "noise", "good", "mua"]  # no pickle needed
    np.save(folder / "evil.npy", np.array([{"a": 1}] * 4, dtype=object), allow_pickle=True)
    np.save(folder / "contact_vector.npy", np.zeros(4))
    other = gs.NumpyRecording([np.zeros((10, 4), "int16")], 10000.0, channel_ids=["a", "b", "c", "d"])
    with pytest.warns(RuntimeWarning, match="property .evil. was not loaded"):
        core_tools.load_properties_from_folder(folder, other)
    assert other.get_property("quality").tolist() == ["good", "noise", "good", "mua"]
    np.testing.assert_array_equal(other.get_property("depth"), [1.5, 2.5, 3.5, 4.5])
    assert "evil" not in other.get_property_keys() and "contact_vector" not in other.get_property_keys()
    np.save(folder / "short.npy", np.arange(3))
    with pytest.raises(CorruptFolderError, match="short.npy"), pytest.warns(RuntimeWarning, match="evil"):
        core_tools.load_properties_from_folder(folder, other)
    core_tools.load_properties_from_folder(tmp_path / "absent", other)  # nothing there: nothing set


def test_annotations_and_provenance_folder(recording, tmp_path):
    rec, traces = recording
    rec.annotate(probe_serial="18005102491", n_shanks=1)
    core_tools.save_annotations_to_folder(tmp_path, rec)
    stored = json.loads((tmp_path / "annotations.json").read_text())
    assert stored["probe_serial"] == "18005102491" and stored["n_shanks"] == 1
    other = gs.NumpyRecording([np.zeros((10, 4), "int16")], 10000.0)
    core_tools.load_annotations_from_folder(tmp_path, other)
    assert other.get_annotation("probe_serial") == "18005102491"
    saved = rec.save(folder=tmp_path / "saved")
    core_tools.save_provenance_to_folder(tmp_path, saved)
    back = gs.load(tmp_path / "provenance.json")
    np.testing.assert_array_equal(back.get_traces(segment_index=1), traces[1])
    with pytest.warns(UserWarning, match="no provenance is saved"):
        core_tools.save_provenance_to_folder(tmp_path / "saved", rec)  # in memory: not JSON-serializable


def test_probe_overlap_check():
    left = generate_linear_probe(num_elec=8, ypitch=20)
    right = generate_linear_probe(num_elec=8, ypitch=20)
    right.move([200.0, 0.0])
    recording_tools.check_probe_do_not_overlap([left, right])
    shifted = generate_linear_probe(num_elec=8, ypitch=20)
    shifted.move([0.0, 50.0])  # same column, overlapping depths
    with pytest.raises(ValueError, match="Probes are overlapping! Probe 1 has contacts inside the bounds of probe 0"):
        recording_tools.check_probe_do_not_overlap([left, right, shifted][::2])


@pytest.mark.parametrize("time_axis", [0, 1])
def test_write_binary_file_handle(recording, tmp_path, time_axis):
    rec, traces = recording
    one = rec.select_segments([1])
    path = tmp_path / "traces.raw"
    with open(path, "wb") as handle:
        handle.write(b"HEADER--")
        recording_tools.write_binary_file_handle(one, handle, time_axis=time_axis, dtype="float32",
                                                 byte_offset=8, chunk_size=400)
    raw = path.read_bytes()
    assert raw[:8] == b"HEADER--"
    data = np.frombuffer(raw[8:], dtype="float32")
    expected = traces[1].astype("float32")
    np.testing.assert_array_equal(data.reshape(expected.shape) if time_axis == 0 else data.reshape(4, -1).T,
                                  expected)
    with pytest.raises(ValueError, match="writes one segment; the recording has 2"):
        recording_tools.write_binary_file_handle(rec, handle)
    with pytest.raises(ValueError, match="give file_handle="):
        recording_tools.write_binary_file_handle(one)
    with pytest.raises(ValueError, match="time_axis=2: allowed values are 0"):
        recording_tools.write_binary_file_handle(one, open(tmp_path / "x", "wb"), time_axis=2)


def test_write_to_h5_dataset_format(recording, tmp_path):
    rec, traces = recording
    recording_tools.write_to_h5_dataset_format(rec, "/traces", 1, save_path=tmp_path / "one", chunk_size=500)
    with h5py.File(tmp_path / "one.h5") as f:
        np.testing.assert_array_equal(f["traces"][:], traces[1])
        assert f["traces"].dtype == np.int16
    gains, offsets = rec.get_channel_gains(), rec.get_channel_offsets()
    with h5py.File(tmp_path / "two.h5", "w") as f:
        recording_tools.write_to_h5_dataset_format(rec, "/group/uv", 0, file_handle=f, time_axis=1, dtype="float32",
                                                   return_in_uV=True, chunk_memory="4k")
        assert f.id.valid  # left open
        np.testing.assert_allclose(f["group/uv"][:], (traces[0] * gains + offsets).T.astype("float32"), rtol=1e-6)
    single = rec.select_channels(["c"])
    recording_tools.write_to_h5_dataset_format(single, "x", 0, save_path=tmp_path / "s.h5", single_axis=True)
    with h5py.File(tmp_path / "s.h5") as f:
        np.testing.assert_array_equal(f["x"][:], traces[0][:, 2])
    for kwargs, error, match in [
        (dict(), ValueError, "give save_path= or file_handle="),
        (dict(file_handle=open(tmp_path / "y", "wb")), TypeError, "must be an h5py.File"),
        (dict(save_path=tmp_path / "z", segment_index=2), ValueError, "segment_index=2: the recording has 2"),
        (dict(save_path=tmp_path / "z", single_axis=True), ValueError, "one-channel recording; this one has 4"),
        (dict(save_path=tmp_path / "z", time_axis=3), ValueError, "time_axis=3"),
    ]:
        with pytest.raises(error, match=match):
            recording_tools.write_to_h5_dataset_format(rec, "t", kwargs.pop("segment_index", 0), **kwargs)


def _reference_waveforms(rec, traces, spikes, unit_index, nbefore, nafter, channels):
    gains, offsets = rec.get_channel_gains(), rec.get_channel_offsets()
    rows = spikes[spikes["unit_index"] == unit_index]
    return np.stack([(traces[s["segment_index"]][s["sample_index"] - nbefore:s["sample_index"] + nafter] * gains
                      + offsets)[:, channels] for s in rows]).astype("float32")


@pytest.mark.parametrize("mode", ["memmap", "shared_memory"])
@pytest.mark.parametrize("sparse", [False, True])
def test_allocate_then_distribute_waveform_buffers(recording, tmp_path, mode, sparse):
    from gpuspike.core.waveform_tools import allocate_waveforms_buffers, distribute_waveforms_to_buffers

    rec, traces = recording
    spikes = np.zeros(7, gs.minimum_spike_dtype)
    spikes["sample_index"] = [100, 250, 900, 1500, 2800, 300, 1600]
    spikes["unit_index"] = [0, 2, 0, 2, 0, 2, 0]
    spikes["segment_index"] = [0, 0, 0, 0, 0, 1, 1]
    unit_ids = ["u0", "u1", "u2"]
    mask = np.array([[1, 1, 0, 0], [0, 0, 0, 1], [0, 1, 0, 1]], bool) if sparse else None
    folder = tmp_path / "buffers" if mode == "memmap" else None
    buffers, info = allocate_waveforms_buffers(rec, spikes, unit_ids, 10, 20, mode=mode, folder=folder,
                                               dtype="float32", sparsity_mask=mask)
    assert buffers["u1"].shape == (0, 30, 1 if sparse else 4)
    distribute_waveforms_to_buffers(rec, spikes, unit_ids, info, 10, 20, True, mode=mode, sparsity_mask=mask,
                                    n_jobs=1, chunk_size=700)
    for unit_index, unit_id in enumerate(unit_ids):
        if unit_id == "u1":
            continue
        channels = np.flatnonzero(mask[unit_index]) if sparse else np.arange(4)
        reference = _reference_waveforms(rec, traces, spikes, unit_index, 10, 20, channels)
        stored = np.load(info[unit_id]) if mode == "memmap" else buffers[unit_id]
        np.testing.assert_allclose(stored, reference, rtol=1e-6)
    if mode == "memmap":
        with pytest.raises(ValueError, match="exists already; remove it or give another folder"):
            allocate_waveforms_buffers(rec, spikes, unit_ids, 10, 20, mode=mode, folder=folder)
    else:
        for shm, *_ in info.values():
            if shm is not None:
                shm.close()
                shm.unlink()


def test_allocate_refuses_bad_modes_and_masks(recording, tmp_path):
    from gpuspike.core.waveform_tools import allocate_waveforms_buffers

    rec, _ = recording
    spikes = np.zeros(1, gs.minimum_spike_dtype)
    with pytest.raises(ValueError, match="mode='disk': allowed values are 'memmap', 'shared_memory'"):
        allocate_waveforms_buffers(rec, spikes, ["u"], 5, 5, mode="disk")
    with pytest.raises(ValueError, match="needs folder="):
        allocate_waveforms_buffers(rec, spikes, ["u"], 5, 5)
    with pytest.raises(ValueError, match="takes no folder"):
        allocate_waveforms_buffers(rec, spikes, ["u"], 5, 5, mode="shared_memory", folder=tmp_path)
    with pytest.raises(ValueError, match=r"sparsity_mask has shape \(1, 3\): expected"):
        allocate_waveforms_buffers(rec, spikes, ["u"], 5, 5, folder=tmp_path, sparsity_mask=np.ones((1, 3), bool))


def test_aggregations_keep_their_parts():
    rec = gs.NumpyRecording([np.zeros((10, 2), "int16")], 1000.0)
    other = gs.NumpyRecording([np.ones((10, 3), "int16")], 1000.0)
    assert gs.aggregate_channels([rec, other]).recordings == [rec, other]
    a = gs.NumpySorting.from_unit_dict({"x": np.array([1, 5])}, 1000.0)
    b = gs.NumpySorting.from_unit_dict({"y": np.array([2])}, 1000.0)
    assert gs.aggregate_units({"first": a, "second": b}).sortings == [a, b]


def test_numba_reorder_accessor_groups_like_a_lexsort():
    from gpuspike.core.base import base_period_dtype

    assert base_period_dtype == sorting_tools.base_period_dtype
    sorting = gs.generate_sorting(num_units=6, durations=[2.0, 1.0], seed=1)
    vector = sorting.to_spike_vector()
    flat = vector.view(np.int64).reshape(vector.size, 3)
    out, order, counts = np.empty_like(flat), np.empty(vector.size, np.int64), np.empty(12, np.int64)
    reorder = sorting_tools.get_numba_reorder_spike_vector()
    assert reorder(flat, 1, 6, 12, out, order, counts)  # segment-major groups
    reference = np.lexsort((np.arange(vector.size), vector["unit_index"], vector["segment_index"]))
    np.testing.assert_array_equal(order, reference)
    np.testing.assert_array_equal(out, flat[reference])
    np.testing.assert_array_equal(counts, np.bincount(vector["segment_index"] * 6 + vector["unit_index"], minlength=12))
    assert not reorder(flat, 1, 6, 11, out, order, counts)


def test_spikeinterfaces_module_paths_serve_them():
    from gpuspike.core.core_tools import define_function_handling_dict_from_class, load_annotations_from_folder
    from gpuspike.core.recording_tools import write_to_h5_dataset_format
    from gpuspike.core.waveform_tools import allocate_waveforms_buffers, distribute_waveforms_to_buffers
    from gpuspike.core.waveforms_compat import allocate_waveforms_buffers as allocate

    assert define_function_handling_dict_from_class is core_tools.define_function_handling_dict_from_class
    assert load_annotations_from_folder is gs.core.loading.load_annotations_from_folder
    assert write_to_h5_dataset_format is recording_tools.write_to_h5_dataset_format
    assert allocate_waveforms_buffers is allocate and callable(distribute_waveforms_to_buffers)
    from gpuspike.core.basesorting import LEXSORT_SEGMENT_COMPACT, LEXSORT_UNIT_COMPACT

    sorting = gs.NumpySorting.from_unit_dict([{"a": np.array([5, 9]), "b": np.array([1])}] * 2, 1000.0)
    vector = sorting.to_spike_vector()
    for lexsort, keys in ((LEXSORT_UNIT_COMPACT, ("sample_index", "segment_index", "unit_index")),
                          (LEXSORT_SEGMENT_COMPACT, ("sample_index", "unit_index", "segment_index"))):
        ordered = sorting.to_reordered_spike_vector(lexsort=lexsort, return_order=False, return_slices=False)
        np.testing.assert_array_equal(ordered, vector[np.lexsort([vector[k] for k in keys])])
