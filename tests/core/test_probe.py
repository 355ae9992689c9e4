"""Probe information (locations, groups, contact_vector) propagates through every view."""
import numpy as np
import pytest
from probeinterface import ProbeGroup, generate_linear_probe, generate_multi_shank

from gpuspike import (NumpyRecording, aggregate_channels, append_recordings, concatenate_recordings,
                      select_segment_recording, split_recording)


def _probe_rec(nseg=2, seed=0):
    probe = generate_multi_shank(num_shank=2, num_columns=1, num_contact_per_column=4)  # 8 contacts
    wiring = np.random.default_rng(seed).permutation(8)
    probe.set_device_channel_indices(wiring)
    rng = np.random.default_rng(seed)
    traces = [rng.standard_normal((60 + 10 * i, 8)).astype("float32") for i in range(nseg)]
    rec = NumpyRecording(traces, 1000.0).set_probe(probe, group_mode="by_shank")
    inv = np.argsort(wiring)
    return rec, traces, probe.contact_positions[inv], probe.shank_ids[inv].astype(int)


def _check(view, locations, groups):
    np.testing.assert_array_equal(view.get_channel_locations(), locations)
    np.testing.assert_array_equal(view.get_channel_groups(), groups)
    assert view.has_probe()
    probe = view.get_probe()
    assert probe.get_contact_count() == len(locations)
    np.testing.assert_array_equal(probe.contact_positions, locations)
    np.testing.assert_array_equal(probe.device_channel_indices, np.arange(len(locations)))


def test_probe_propagates_through_views():
    rec, traces, loc, grp = _probe_rec()
    _check(rec, loc, grp)
    ids = rec.channel_ids
    sel = [6, 1, 3]
    _check(rec.channel_slice(ids[sel]), loc[sel], grp[sel])
    keep = [0, 2, 3, 5, 6, 7]
    _check(rec.remove_channels(ids[[1, 4]]), loc[keep], grp[keep])
    _check(select_segment_recording(rec, 1), loc, grp)
    _check(split_recording(rec)[0], loc, grp)
    mono = select_segment_recording(rec, 0)
    _check(mono.frame_slice(5, 40), loc, grp)
    _check(append_recordings([rec, rec]), loc, grp)
    _check(concatenate_recordings([rec, rec]), loc, grp)
    _check(rec.rename_channels([f"ch{i}" for i in range(8)]), loc, grp)
    for g, sub in rec.split_by("group").items():
        _check(sub, loc[grp == g], grp[grp == g])
    # chained views
    _check(mono.frame_slice(0, 30).channel_slice(ids[sel]).remove_channels([ids[1]]), loc[[6, 3]], grp[[6, 3]])


def test_get_probe_after_channel_slice_keeps_order_and_shapes():
    rec, _, loc, _ = _probe_rec(nseg=1)
    sel = [7, 0, 4]
    probe = rec.channel_slice(rec.channel_ids[sel]).get_probe()
    np.testing.assert_array_equal(probe.contact_positions, loc[sel])
    assert probe.contact_shapes.shape == (3,)
    assert probe.get_shank_count() == 2


def test_aggregate_channels_keeps_probes_and_renames_clashing_ids():
    rec, traces, loc, grp = _probe_rec(nseg=2)
    other = rec.channel_slice(rec.channel_ids[:3])
    agg = aggregate_channels([rec, other])
    assert list(agg.channel_ids) == [str(i) for i in range(11)]  # ids 0..7 + 0..2 clash -> "0".."10"
    np.testing.assert_array_equal(agg.get_channel_locations(), np.concatenate([loc, loc[:3]]))
    # one group per (probe, shank) of the stacked probes, numbered in that order (SpikeInterface 0.105)
    pairs = list(zip([0] * 8 + [1] * 3, np.concatenate([grp, grp[:3]])))
    np.testing.assert_array_equal(agg.get_channel_groups(), [sorted(set(pairs)).index(p) for p in pairs])
    pg = agg.get_probegroup()
    assert len(pg.probes) == 2
    assert [p.get_contact_count() for p in pg.probes] == [8, 3]
    np.testing.assert_array_equal(agg.get_traces(segment_index=1), np.concatenate([traces[1], traces[1][:, :3]], 1))
    # distinct ids are kept
    agg2 = aggregate_channels([rec.channel_slice([0, 1]), rec.channel_slice([5])])
    assert list(agg2.channel_ids) == [0, 1, 5]
    np.testing.assert_array_equal(agg2.get_channel_locations(), loc[[0, 1, 5]])


def test_device_wiring_reorders_contacts_and_selects_channels():
    rng = np.random.default_rng(3)
    traces = rng.standard_normal((40, 10)).astype("float32")
    rec = NumpyRecording([traces], 1000.0, channel_ids=[f"c{i}" for i in range(10)])
    probe = generate_linear_probe(num_elec=6, ypitch=20)
    wiring = np.array([9, 2, 5, 0, 7, 3])  # contact k -> device channel wiring[k]
    probe.set_device_channel_indices(wiring)
    with pytest.warns(UserWarning, match="wires 6 of the 10 channels"):
        wired = rec.set_probe(probe)
    assert not rec.has_probe()  # a partial wiring leaves the recording as it was
    order = np.sort(wiring)
    np.testing.assert_array_equal(wired.channel_ids, [f"c{i}" for i in order])
    np.testing.assert_array_equal(wired.get_traces(), traces[:, order])
    contact_for = {c: k for k, c in enumerate(wiring)}
    np.testing.assert_array_equal(wired.get_channel_locations(),
                                  probe.contact_positions[[contact_for[c] for c in order]])
    # unwired contacts (-1) are dropped
    probe2 = generate_linear_probe(num_elec=4, ypitch=10)
    probe2.set_device_channel_indices([3, -1, 1, 8])
    w2 = rec.select_channels_with_probe(probe2)
    np.testing.assert_array_equal(w2.get_traces(), traces[:, [1, 3, 8]])
    np.testing.assert_array_equal(w2.get_channel_locations()[:, 1], [20.0, 0.0, 30.0])
    with pytest.raises(ValueError, match=r"set_probe\(in_place=True\) needs a probe that wires every channel"):
        rec.set_probe(probe, in_place=True)


def test_set_probe_attaches_in_place_and_returns_the_recording():
    """SpikeInterface 0.105's ``rec.set_probe(probe)`` and the specification's
    ``rec2 = rec.set_probe(probe)`` both work; ``in_place=False`` still leaves the recording alone."""
    traces = np.arange(40 * 4, dtype="float32").reshape(40, 4)
    probe = generate_linear_probe(num_elec=4, ypitch=20)
    probe.set_device_channel_indices([2, 0, 3, 1])
    rec = NumpyRecording([traces], 1000.0)
    copy = rec.set_probe(probe, in_place=False)
    assert copy is not rec and copy.has_probe() and not rec.has_probe()
    same = rec.set_probe(probe)
    assert same is rec and rec.has_probe()
    np.testing.assert_array_equal(rec.get_traces(), traces)  # every channel wired: channels keep their order
    np.testing.assert_array_equal(rec.get_channel_locations()[:, 1], [20.0, 60.0, 0.0, 40.0])
    np.testing.assert_array_equal(rec.get_channel_locations(), copy.get_channel_locations())


def test_set_probe_errors():
    rec = NumpyRecording([np.zeros((5, 3), "float32")], 1000.0)
    probe = generate_linear_probe(num_elec=3)
    with pytest.raises(ValueError, match="no wiring"):
        rec.set_probe(probe)
    probe.set_device_channel_indices([0, 1, 5])
    with pytest.raises(ValueError, match="device_channel_indices go up to 5"):
        rec.set_probe(probe)
    probe.set_device_channel_indices([0, 1, 2])
    with pytest.raises(ValueError, match="group_mode='x'"):
        rec.set_probe(probe, group_mode="x")
    with pytest.raises(TypeError, match="probe must be a probeinterface Probe"):
        rec.set_probe("probe")
    rec2 = rec.set_probe(probe)
    with pytest.raises(ValueError, match="a probe is attached"):
        rec2.set_channel_locations(np.zeros((1, 2)), channel_ids=rec2.channel_ids[:1])
    # SpikeInterface 0.105: new locations on a recording with a probe replace the probe by a dummy one
    moved = np.column_stack([np.arange(3) * 7.0, np.arange(3) * 3.0])
    with pytest.warns(FutureWarning, match="dummy"):
        rec2.set_channel_locations(moved)
    assert rec2.has_probe() and rec2.get_probe().get_contact_count() == 3
    np.testing.assert_array_equal(rec2.get_channel_locations(), moved)


def test_probegroup_of_two_probes():
    p1 = generate_linear_probe(num_elec=3, ypitch=10)
    p2 = generate_linear_probe(num_elec=2, ypitch=10)
    p2.move([100, 0])
    p1.set_device_channel_indices([0, 2, 4])
    p2.set_device_channel_indices([1, 3])
    pg = ProbeGroup()
    pg.add_probe(p1)
    pg.add_probe(p2)
    rec = NumpyRecording([np.zeros((5, 5), "float32")], 1000.0).set_probe(pg)
    np.testing.assert_array_equal(rec.get_channel_groups(), [0, 1, 0, 1, 0])
    np.testing.assert_array_equal(rec.get_channel_locations()[:, 0], [0, 100, 0, 100, 0])
    probes = rec.get_probegroup().probes
    assert [p.get_contact_count() for p in probes] == [3, 2]
    with pytest.raises(ValueError, match="2 probes are attached"):
        rec.get_probe()


def test_3d_probe_locations():
    probe = generate_linear_probe(num_elec=4).to_3d()
    probe.set_device_channel_indices(np.arange(4))
    rec = NumpyRecording([np.zeros((5, 4), "float32")], 1000.0).set_probe(probe)
    assert rec.has_3d_locations()
    assert rec.get_channel_locations(axes="xyz").shape == (4, 3)
    np.testing.assert_array_equal(rec.get_channel_locations(axes="y"), probe.contact_positions[:, [1]])


def test_the_probe_is_not_listed_saved_or_dumped_as_properties(tmp_path):
    """SpikeInterface 0.105 keeps the probe outside the properties: contact_vector and location are
    neither listed nor written as property files; the probe itself travels and gives them back."""
    from gpuspike import load

    rec, _, loc, grp = _probe_rec(nseg=1)
    rec.set_property("quality", np.arange(8))
    assert sorted(rec.get_property_keys()) == ["group", "quality"]
    assert "probes_info" not in rec.get_annotation_keys() and "probes_info" in rec._annotations
    np.testing.assert_array_equal(rec.get_property("location"), loc)  # the specification's equivalence
    with pytest.raises(KeyError, match="remove_probe"):
        rec.delete_property("location")
    for view in (rec.channel_slice(rec.channel_ids[[6, 1]]), aggregate_channels([rec, rec])):
        assert "location" not in view.get_property_keys() and "contact_vector" not in view.get_property_keys()
    saved = rec.save(folder=tmp_path / "rec", progress_bar=False)
    assert sorted(p.stem for p in (tmp_path / "rec" / "properties").iterdir()) == ["group", "quality"]
    d = rec.to_dict(recursive=True)
    assert sorted(d["properties"]) == ["group", "quality"] and d["probegroup"] is not None
    for back in (saved, load(tmp_path / "rec"), load(d), rec.save(folder=tmp_path / "z.zarr", format="zarr")):
        _check(back, loc, grp)
        assert sorted(back.get_property_keys()) == ["group", "quality"]
    bare = NumpyRecording([np.zeros((10, 3), "float32")], 1000.0)
    bare.set_channel_locations(np.arange(6.0).reshape(3, 2))  # no probe: an ordinary property
    assert bare.get_property_keys() == ["location"]
    np.testing.assert_array_equal(load(bare.save(folder=tmp_path / "bare", progress_bar=False).to_dict(
        recursive=True)).get_channel_locations(), np.arange(6.0).reshape(3, 2))
