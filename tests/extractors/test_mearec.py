"""read_mearec on .h5 files written here in MEArec's layout (>= 1.5 and the older transposed one)."""
import h5py
import numpy as np
import probeinterface
import pytest

from gpuspike import BaseExtractor
from gpuspike.extractors import read_mearec

FS = 32000.0


def write_mearec(path, version="1.9.0", dtype="float32", sortlist=None, seed=0):
    rng = np.random.default_rng(seed)
    n_ch, n_s = 6, 4000
    traces = (rng.normal(size=(n_s, n_ch)) * 20).astype(dtype)
    positions = np.zeros((n_ch, 3))
    positions[:, 1] = np.array([0, 20, 0, 20, 0, 20], float)   # y
    positions[:, 2] = np.array([0, 0, 25, 25, 50, 50], float)  # z
    trains = [np.sort(rng.uniform(0, n_s / FS, size=k)) for k in (11, 4, 9)]
    with h5py.File(path, "w") as f:
        if version is not None:
            f.attrs["mearec_version"] = version
        data = traces if version is not None and version >= "1.5" else traces.T
        f.create_dataset("recordings", data=data)
        if dtype == "int16":
            f["recordings"].attrs["gain_to_uV"] = 0.5
        f.create_dataset("channel_positions", data=positions)
        f["info/recordings/fs"] = FS
        f["info/recordings/dtype"] = dtype
        f["info/electrodes/electrode_name"] = "toy-mea"
        f["info/electrodes/plane"] = "yz"
        f["info/electrodes/shape"] = "square"
        f["info/electrodes/size"] = 5.0
        f["info/electrodes/sortlist"] = "null" if sortlist is None else np.asarray(sortlist)
        for i, t in enumerate(trains):
            f[f"spiketrains/{i}/times"] = t
            f[f"spiketrains/{i}/t_stop"] = n_s / FS
            f[f"spiketrains/{i}/annotations/cell_type"] = ["E", "I", "E"][i]
    return traces, positions, trains


def test_read_mearec_recording_sorting_probe(tmp_path):
    path = tmp_path / "sim.h5"
    traces, positions, trains = write_mearec(path)
    rec, sorting = read_mearec(path)
    assert rec.get_sampling_frequency() == FS and sorting.get_sampling_frequency() == FS
    assert rec.get_num_channels() == 6 and rec.get_num_samples() == traces.shape[0]
    np.testing.assert_array_equal(rec.get_traces(), traces)
    np.testing.assert_array_equal(rec.get_traces(start_frame=10, end_frame=30, channel_ids=[4, 1]),
                                  traces[10:30][:, [4, 1]])
    np.testing.assert_allclose(rec.get_channel_gains(), 1.0)  # float traces are µV
    np.testing.assert_allclose(rec.get_channel_locations(), positions[:, 1:])  # plane yz
    probe = probeinterface.read_mearec(path)
    np.testing.assert_allclose(rec.get_probe().contact_positions, probe.contact_positions)
    assert sorting.unit_ids.tolist() == [0, 1, 2]
    for u, t in enumerate(trains):
        np.testing.assert_array_equal(sorting.get_unit_spike_train(u), np.round(t * FS).astype("int64"))
    assert sorting.get_property("cell_type").tolist() == ["E", "I", "E"]
    rec2 = BaseExtractor.from_dict(rec.to_dict())
    np.testing.assert_array_equal(rec2.get_traces(), traces)
    sorting2 = BaseExtractor.from_dict(sorting.to_dict())
    np.testing.assert_array_equal(sorting2.get_unit_spike_train(2), sorting.get_unit_spike_train(2))


def test_old_layout_int16_gain_and_wiring(tmp_path):
    path = tmp_path / "old.h5"
    sortlist = [3, 0, 5, 1, 4, 2]  # contact k is wired to channel sortlist[k]
    traces, positions, trains = write_mearec(path, version=None, dtype="int16", sortlist=sortlist, seed=1)
    rec, sorting = read_mearec(path)
    np.testing.assert_array_equal(rec.get_traces(), traces)  # (channels, samples) transposed back
    np.testing.assert_allclose(rec.get_channel_gains(), 0.5)
    expected = np.zeros((6, 2))
    expected[np.asarray(sortlist)] = positions[:, 1:]
    np.testing.assert_allclose(rec.get_channel_locations(), expected)
    assert type(rec).__name__ == "MEArecRecording"  # the probe is attached in place, not via a view


def test_mearec_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_mearec(tmp_path / "missing.h5")
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"not an hdf5 file at all")
    with pytest.raises(ValueError, match="bad.h5: not a readable HDF5"):
        read_mearec(bad)
    empty = tmp_path / "empty.h5"
    with h5py.File(empty, "w") as f:
        f["x"] = 1
    with pytest.raises(ValueError, match="no 'recordings' dataset"):
        read_mearec(empty)
