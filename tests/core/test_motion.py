"""Motion: interpolation against a per-point NumPy reference, folders and dicts, bad input."""
import json

import numpy as np
import pytest

import gpuspike as gs
from gpuspike import Motion
from gpuspike.core.errors import CorruptFolderError, FolderExistsError, RefusedOverwriteError
from gpuspike.core.motion import ensure_time_bin_edges, ensure_time_bins


def _bilinear_reference(times, depths, values, t, z):
    """Displacement at (t, z) by the textbook formula, one point at a time, clamped to the grid."""
    t = min(max(t, times[0]), times[-1])
    z = min(max(z, depths[0]), depths[-1])

    def bracket(axis, x):
        if len(axis) == 1:
            return 0, 0, 0.0
        i = max(k for k in range(len(axis) - 1) if axis[k] <= x) if x > axis[0] else 0
        return i, i + 1, (x - axis[i]) / (axis[i + 1] - axis[i])

    i0, i1, a = bracket(times, t)
    j0, j1, b = bracket(depths, z)
    return ((1 - a) * (1 - b) * values[i0, j0] + (1 - a) * b * values[i0, j1]
            + a * (1 - b) * values[i1, j0] + a * b * values[i1, j1])


@pytest.fixture
def motion():
    rng = np.random.default_rng(3)
    displacement = [rng.normal(size=(9, 4)) * 10, rng.normal(size=(5, 4))]
    temporal = [np.linspace(0.5, 8.5, 9), np.array([1.0, 2.0, 4.0, 8.0, 16.0])]
    return Motion(displacement, temporal, np.array([0.0, 40.0, 100.0, 250.0]))


@pytest.mark.parametrize("segment_index", [0, 1])
def test_linear_interpolation_matches_reference(motion, segment_index):
    rng = np.random.default_rng(segment_index)
    t = rng.uniform(-3, 20, 200)
    z = rng.uniform(-50, 300, 200)
    got = motion.get_displacement_at_time_and_depth(t, z, segment_index=segment_index)
    expected = [_bilinear_reference(motion.temporal_bins_s[segment_index], motion.spatial_bins_um,
                                    motion.displacement[segment_index], a, b) for a, b in zip(t, z)]
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    # on the bin centres the values themselves come back
    tt, zz = np.meshgrid(motion.temporal_bins_s[segment_index], motion.spatial_bins_um, indexing="ij")
    np.testing.assert_allclose(
        motion.get_displacement_at_time_and_depth(tt.ravel(), zz.ravel(), segment_index=segment_index),
        motion.displacement[segment_index].ravel(), rtol=1e-12, atol=1e-12)


def test_same_bits_as_scipy_linear_and_scipy_methods(motion):
    from scipy.interpolate import RegularGridInterpolator

    rng = np.random.default_rng(5)
    t, z = rng.uniform(0.5, 8.5, 300), rng.uniform(0, 250, 300)
    reference = RegularGridInterpolator((motion.temporal_bins_s[0], motion.spatial_bins_um), motion.displacement[0])
    np.testing.assert_array_equal(motion.get_displacement_at_time_and_depth(t, z, segment_index=0),
                                  reference(np.column_stack([t, z])))
    cubic = Motion(motion.displacement[0], motion.temporal_bins_s[0], motion.spatial_bins_um,
                   interpolation_method="cubic")
    reference = RegularGridInterpolator((motion.temporal_bins_s[0], motion.spatial_bins_um), motion.displacement[0],
                                        method="cubic")
    np.testing.assert_allclose(cubic.get_displacement_at_time_and_depth(t, z), reference(np.column_stack([t, z])),
                               rtol=1e-12)


def test_rigid_grid_and_locations_along_direction():
    values = np.array([[0.0], [10.0], [30.0]])
    rigid = Motion(values, np.array([0.0, 1.0, 2.0]), np.array([50.0]), direction="x")
    locations = np.array([[7.0, 1000.0], [500.0, -3.0], [-9.0, 0.0]])  # x is the motion's axis
    np.testing.assert_allclose(rigid.get_displacement_at_time_and_depth([0.5, 1.5, 5.0], locations), [5.0, 20.0, 30.0])
    grid = rigid.get_displacement_at_time_and_depth(np.array([0.25, 1.0]), np.array([0.0, 10.0, 90.0]), grid=True)
    np.testing.assert_allclose(grid, [[2.5, 10.0]] * 3)
    assert repr(rigid) == "Motion rigid - interval 1.0s - 1 segments"
    assert rigid.get_boundaries() == (0.0, 30.0)


def test_folder_dict_and_json_round_trips(tmp_path, motion):
    motion.save(tmp_path / "motion")
    loaded = gs.load(tmp_path / "motion")
    assert isinstance(loaded, Motion) and loaded == motion and loaded is not motion
    info = json.loads((tmp_path / "motion" / "spikeinterface_info.json").read_text())
    assert info["object"] == "Motion" and info["num_segments"] == 2
    assert gs.load(motion.to_dict()) == motion
    plain = {k: [a.tolist() for a in v] if isinstance(v, list) else (v.tolist() if isinstance(v, np.ndarray) else v)
             for k, v in motion.to_dict().items()}
    (tmp_path / "motion.json").write_text(json.dumps(plain))
    assert gs.load(tmp_path / "motion.json") == motion
    copy = motion.copy()
    copy.displacement[1][0, 0] += 1.0
    assert copy != motion and motion.copy() == motion


def test_save_never_replaces_what_it_should_not(tmp_path, motion):
    motion.save(tmp_path / "motion")
    with pytest.raises(FolderExistsError):
        motion.save(tmp_path / "motion")
    other = Motion(np.zeros((2, 1)), np.array([0.0, 1.0]), np.array([0.0]))
    other.save(tmp_path / "motion", overwrite=True)
    assert Motion.load(tmp_path / "motion") == other
    user = tmp_path / "mine"
    user.mkdir()
    (user / "notes.txt").write_text("keep me")
    with pytest.raises(RefusedOverwriteError):
        motion.save(user, overwrite=True)
    assert (user / "notes.txt").read_text() == "keep me"


@pytest.mark.parametrize("damage", ["missing_array", "pickled_array", "bad_count", "not_motion", "no_info"])
def test_hostile_folders_are_refused(tmp_path, motion, damage):
    folder = tmp_path / "motion"
    motion.save(folder)
    info_path = folder / "spikeinterface_info.json"
    info = json.loads(info_path.read_text())
    if damage == "missing_array":
        (folder / "temporal_bins_s_seg1.npy").unlink()
    elif damage == "pickled_array":
        np.save(folder / "displacement_seg0.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    elif damage == "bad_count":
        info["num_segments"] = "../../etc"
    elif damage == "not_motion":
        info["object"] = "Other"
    else:
        info_path.unlink()
    if damage in ("bad_count", "not_motion"):
        info_path.write_text(json.dumps(info))
    with pytest.raises(CorruptFolderError):
        Motion.load(folder)


def test_bad_arguments_name_the_argument(motion):
    with pytest.raises(ValueError, match="direction='w'"):
        Motion(np.zeros((2, 1)), np.arange(2.0), np.zeros(1), direction="w")
    with pytest.raises(ValueError, match="interpolation_method='spline'"):
        Motion(np.zeros((2, 1)), np.arange(2.0), np.zeros(1), interpolation_method="spline")
    with pytest.raises(ValueError, match=r"expected \(temporal bins, spatial bins\) = \(3, 1\)"):
        Motion(np.zeros((2, 1)), np.arange(3.0), np.zeros(1))
    with pytest.raises(ValueError, match="2 segments: give segment_index"):
        motion.get_displacement_at_time_and_depth([1.0], [1.0])
    with pytest.raises(ValueError, match="segment_index=2"):
        motion.get_displacement_at_time_and_depth([1.0], [1.0], segment_index=2)
    with pytest.raises(ValueError, match="same 1D shape"):
        motion.get_displacement_at_time_and_depth([1.0, 2.0], [1.0], segment_index=0)


def test_time_bins_centres_and_edges():
    centres, edges = ensure_time_bins(np.array([0.5, 1.5, 3.5]))
    np.testing.assert_array_equal(edges, [0.5, 1.0, 2.5, 3.5])
    np.testing.assert_array_equal(ensure_time_bins(None, np.array([0.0, 1.0, 3.0]))[0], [0.5, 2.0])
    assert [e.tolist() for e in ensure_time_bin_edges([np.array([1.0, 2.0]), np.array([0.0])])] == [[1.0, 1.5, 2.0],
                                                                                                     [0.0, 0.0]]
    with pytest.raises(ValueError, match="at least one"):
        ensure_time_bins()
