"""Every view is lazy: building it reads no traces; get_traces reads only what is asked."""
import numpy as np
import pytest

from gpuspike import (BaseRecording, BaseRecordingSegment, NumpyRecording, aggregate_channels, append_recordings,
                      concatenate_recordings, select_segment_recording, split_recording)
from gpuspike.core.generate import generate_linear_probe_for


class CountingSegment(BaseRecordingSegment):
    def __init__(self, traces, log):
        super().__init__(sampling_frequency=1000.0)
        self._traces = traces
        self.log = log

    def get_num_samples(self):
        return self._traces.shape[0]

    def get_traces(self, start_frame, end_frame, channel_indices):
        self.log.append((start_frame, end_frame))
        return self._traces[start_frame:end_frame, channel_indices]


class CountingRecording(BaseRecording):
    _dumpable_class = False

    def __init__(self, traces_list):
        super().__init__(1000.0, np.arange(traces_list[0].shape[1]), traces_list[0].dtype)
        self.log = []
        for t in traces_list:
            self.add_segment(CountingSegment(t, self.log))


@pytest.fixture
def parent():
    rng = np.random.default_rng(0)
    traces = [rng.standard_normal((300, 6)).astype("float32"), rng.standard_normal((200, 6)).astype("float32")]
    rec = CountingRecording(traces)
    rec.set_probe(generate_linear_probe_for(6), in_place=True)
    return rec, traces


def _views(rec):
    seg0 = select_segment_recording(rec, 0)
    return {
        "channel_slice": lambda: rec.channel_slice([4, 1, 2]),
        "remove_channels": lambda: rec.remove_channels([0]),
        "rename_channels": lambda: rec.rename_channels(list("abcdef")),
        "frame_slice": lambda: seg0.frame_slice(10, 250),
        "select_segment": lambda: select_segment_recording(rec, [1]),
        "split": lambda: split_recording(rec)[1],
        "append": lambda: append_recordings([rec, rec]),
        "concatenate": lambda: concatenate_recordings([rec]),
        "aggregate": lambda: aggregate_channels([rec, rec.channel_slice([0, 1])]),
        "set_probe": lambda: rec.set_probe(generate_linear_probe_for(6)),
        "split_by": lambda: rec.split_by("group")[0],
        "nested": lambda: seg0.frame_slice(5, 200).channel_slice([5, 3]).remove_channels([3]),
    }


@pytest.mark.parametrize("name", list(_views(CountingRecording([np.zeros((2, 6), "float32")]))))
def test_views_read_nothing_until_get_traces(parent, name):
    rec, traces = parent
    view = _views(rec)[name]()
    assert rec.log == [], f"{name} read traces at construction"
    nseg = view.get_num_segments()
    n = view.get_num_samples(segment_index=0)
    out = view.get_traces(segment_index=0, start_frame=n // 4, end_frame=n // 2)
    assert out.shape == (n // 2 - n // 4, view.get_num_channels())
    assert rec.log, "get_traces must reach the parent"
    # only the asked frames were read (no whole-segment read)
    assert all(b - a <= n // 2 - n // 4 for a, b in rec.log)
    assert nseg >= 1


def test_numpy_views_share_memory_with_parent():
    base = np.arange(400 * 8, dtype="float32").reshape(400, 8)
    rec = NumpyRecording([base], 1000.0)
    assert np.shares_memory(rec.get_traces(), base)
    assert np.shares_memory(rec.frame_slice(10, 300).get_traces(), base)
    contiguous = rec.channel_slice([2, 3, 4])
    out = contiguous.get_traces(start_frame=5, end_frame=50)
    assert np.shares_memory(out, base)
    np.testing.assert_array_equal(out, base[5:50, 2:5])
    assert np.shares_memory(rec.remove_channels([7]).get_traces(), base)
    assert np.shares_memory(select_segment_recording(rec, 0).get_traces(), base)
    assert np.shares_memory(append_recordings([rec, rec]).get_traces(segment_index=1), base)
    # a concatenation inside one segment is still a view of it
    assert np.shares_memory(concatenate_recordings([rec, rec]).get_traces(start_frame=10, end_frame=20), base)
    # building views never copied the parent's array
    view = rec.frame_slice(0, 400).channel_slice([0, 1]).rename_channels(["a", "b"])
    assert view._parent._parent._parent is rec and rec._segments[0]._traces is base
    assert np.shares_memory(view.get_traces(), base)


def test_sorting_views_are_lazy():
    from gpuspike import BaseSorting, BaseSortingSegment, aggregate_units, append_sortings, select_segment_sorting

    log = []

    class Seg(BaseSortingSegment):
        def __init__(self, trains):
            super().__init__()
            self.trains = trains

        def get_unit_spike_train(self, unit_id, start_frame, end_frame):
            log.append(unit_id)
            t = self.trains[unit_id]
            lo = 0 if start_frame is None else start_frame
            hi = np.inf if end_frame is None else end_frame
            return t[(t >= lo) & (t < hi)]

    class S(BaseSorting):
        _dumpable_class = False

        def __init__(self):
            super().__init__(1000.0, [0, 1, 2])
            self.add_segment(Seg({0: np.array([1, 5, 9]), 1: np.array([2, 3]), 2: np.array([7])}))

    s = S()
    views = [s.select_units([2, 0]), s.remove_units([1]), s.frame_slice(2, 8), append_sortings([s, s]),
             select_segment_sorting(s, 0), aggregate_units([s, s]), s.rename_units(["a", "b", "c"])]
    assert log == []
    np.testing.assert_array_equal(views[0].get_unit_spike_train(0), [1, 5, 9])
    np.testing.assert_array_equal(views[2].get_unit_spike_train(0), [3])  # 5 - 2
    assert log == [0, 0]
