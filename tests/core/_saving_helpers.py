"""Shared helpers of the saving tests: objects with every kind of metadata, and equality checks."""
from __future__ import annotations

import json

import numpy as np

import gpuspike as gs
from gpuspike.core.base import _jsonable


def rich_recording(dtype="int16", seed=0):
    """A 2-segment in-memory recording with a probe, string/float properties, annotations, a time
    vector on segment 0 and a t_start on segment 1."""
    rng = np.random.default_rng(seed)
    traces = [rng.integers(-2000, 2000, size=(n, 6)).astype(dtype) for n in (5003, 2999)]
    rec = gs.NumpyRecording(traces, sampling_frequency=20000.0, t_starts=[2.0, 3.5],
                            channel_ids=np.array(["a", "b", "c", "d", "e", "f"]))
    rec.set_channel_gains(np.linspace(0.5, 1.0, 6))
    rec.set_channel_offsets(-1.0)
    rec.set_property("quality", np.array(["good", "bad", "good", "mua", "good", "noise"]))
    rec.set_property("snr", rng.normal(size=6))
    rec.annotate(experimenter="ada", params={"k": [1, 2, 3]})
    from probeinterface import generate_linear_probe

    probe = generate_linear_probe(num_elec=6, ypitch=20)
    probe.set_device_channel_indices(np.arange(6))
    probe.annotate(model="lin6")
    rec = rec.set_probe(probe, in_place=True)
    rec.set_times(2.0 + np.cumsum(rng.uniform(4.9e-5, 5.1e-5, size=5003)), segment_index=0)
    return rec


def assert_properties_equal(a, b, skip=()):
    assert sorted(set(a.get_property_keys()) - set(skip)) == sorted(set(b.get_property_keys()) - set(skip))
    for key in a.get_property_keys():
        if key in skip:
            continue
        va, vb = np.asarray(a.get_property(key)), np.asarray(b.get_property(key))
        assert va.dtype == vb.dtype, (key, va.dtype, vb.dtype)
        if va.dtype.kind == "f":
            np.testing.assert_array_equal(va, vb, err_msg=key)
        else:
            assert np.array_equal(va, vb), key


def assert_annotations_equal(a, b):
    norm = lambda obj: json.loads(json.dumps(_jsonable(obj._annotations), sort_keys=True))  # noqa: E731
    assert norm(a) == norm(b)


def assert_recordings_equal(a, b, check_metadata=True):
    assert a.get_num_segments() == b.get_num_segments()
    assert a.sampling_frequency == b.sampling_frequency
    assert a.get_dtype() == b.get_dtype()
    assert np.array_equal(a.channel_ids, b.channel_ids)
    for seg in range(a.get_num_segments()):
        ta, tb = a.get_traces(segment_index=seg), b.get_traces(segment_index=seg)
        assert ta.dtype == tb.dtype and ta.shape == tb.shape
        assert np.array_equal(ta, tb), f"segment {seg} traces differ"
        assert a.has_time_vector(seg) == b.has_time_vector(seg)
        assert a.get_start_time(seg) == b.get_start_time(seg)
        np.testing.assert_array_equal(a.get_times(seg), b.get_times(seg))
    if check_metadata:
        assert_properties_equal(a, b)
        assert_annotations_equal(a, b)
        assert a.has_probe() == b.has_probe()
        if a.has_probe():
            pa, pb = a.get_probegroup(), b.get_probegroup()
            assert np.array_equal(pa.to_numpy(complete=True), pb.to_numpy(complete=True))
            assert [p.annotations for p in pa.probes] == [p.annotations for p in pb.probes]


def assert_sortings_equal(a, b, check_metadata=True):
    assert a.get_num_segments() == b.get_num_segments()
    assert a.sampling_frequency == b.sampling_frequency
    assert np.array_equal(a.unit_ids, b.unit_ids)
    for seg in range(a.get_num_segments()):
        for u in a.unit_ids:
            assert np.array_equal(a.get_unit_spike_train(u, segment_index=seg),
                                  b.get_unit_spike_train(u, segment_index=seg))
    assert np.array_equal(a.to_spike_vector(), b.to_spike_vector())
    if check_metadata:
        assert_properties_equal(a, b)
        assert_annotations_equal(a, b)


def interleaved_probegroup(contacts_per_probe: int, wiring, offset=(100.0, 100.0)):
    """Two linear probes (the second moved by ``offset``) whose contacts are wired to the channels
    ``wiring`` (one channel per contact, first probe's contacts first): the probes interleave."""
    from probeinterface import ProbeGroup, generate_linear_probe

    first = generate_linear_probe(num_elec=contacts_per_probe, ypitch=20.0)
    second = first.copy()
    second.move(list(offset))
    group = ProbeGroup()
    group.add_probe(first)
    group.add_probe(second)
    group.set_global_device_channel_indices(np.asarray(wiring))
    return group
