"""An in-memory NumpySorting (and what is built on it) rebuilds from its ``to_dict()``, whose spike
vector is plain rows, as SpikeInterface's ``load(sorting.to_dict())`` does."""
import numpy as np
import pytest

import gpuspike as gs
from gpuspike.core.base import BaseExtractor


def trains(sorting):
    return [[sorting.get_unit_spike_train(u, segment_index=i).tolist() for u in sorting.unit_ids]
            for i in range(sorting.get_num_segments())]


def test_numpy_sorting_and_its_views_rebuild_from_their_dicts():
    sorting = gs.NumpySorting.from_unit_dict([{"a": np.array([1, 5, 9]), "b": np.array([3])},
                                              {"a": np.array([2]), "b": np.array([], dtype="int64")}], 30000.0)
    expected = [[[1, 5, 9], [3]], [[2], []]]
    again = BaseExtractor.from_dict(sorting.to_dict())
    assert trains(again) == expected and list(again.unit_ids) == ["a", "b"]
    appended = BaseExtractor.from_dict(gs.append_sortings([sorting, sorting]).to_dict())
    assert trains(appended) == expected + expected
    empty = gs.NumpySorting.from_unit_dict([{"a": np.array([], dtype="int64")}], 30000.0)
    assert trains(BaseExtractor.from_dict(empty.to_dict())) == [[[]]]


@pytest.mark.parametrize("spikes", [[[1.5, 0, 0]], [[1, 0]], "spikes", 3])
def test_spike_rows_that_are_not_integer_triples_are_refused(spikes):
    with pytest.raises(TypeError, match="spikes must be a structured array"):
        gs.NumpySorting(spikes, 30000.0, ["a"])
