"""Templates (SpikeInterface 0.105's container) against NumPy rules and against SpikeInterface itself."""
import json
import textwrap

import numpy as np
import probeinterface as pi
import pytest

from gpuspike.core.errors import RefusedOverwriteError
from gpuspike.core.sparsity import ChannelSparsity
from gpuspike.core.template import Templates

from _si_compare import assert_same_outcome, run_cases, run_si_script

FS = 30000.0


def _probe(num_channels=5):
    probe = pi.generate_linear_probe(num_elec=num_channels, ypitch=20)
    probe.set_device_channel_indices(np.arange(num_channels))
    probe.annotate(name="test probe")
    return probe


def _array(seed=0, shape=(4, 12, 5)):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


MASK = np.array([[1, 1, 0, 0, 1], [0, 1, 1, 1, 0], [1, 0, 0, 0, 0], [0, 0, 0, 1, 1]], dtype=bool)


def _sparse_ref(dense, mask):
    """Each unit's active channels first, zeros after (written from the layout rule)."""
    out = np.zeros((dense.shape[0], dense.shape[1], mask.sum(axis=1).max()), dtype=dense.dtype)
    for u in range(dense.shape[0]):
        k = 0
        for c in range(dense.shape[2]):
            if mask[u, c]:
                out[u, :, k] = dense[u, :, c]
                k += 1
    return out


# ---------------------------------------------------------------------- construction
def test_derived_fields_and_defaults():
    t = Templates(_array(), FS, 5)
    assert (t.num_units, t.num_samples, t.num_channels) == (4, 12, 5)
    assert t.nafter == 12 - 5
    assert t.ms_before == pytest.approx(5 / FS * 1000) and t.ms_after == pytest.approx(7 / FS * 1000)
    np.testing.assert_array_equal(t.unit_ids, np.arange(4))
    np.testing.assert_array_equal(t.channel_ids, np.arange(5))
    assert t.sparsity is None and not t.are_templates_sparse() and t.is_in_uV
    assert t.get_dense_templates() is t.templates_array
    ids = Templates(_array(), FS, 5, unit_ids=["a", "b", "c", "d"], channel_ids=[10, 11, 12, 13, 14])
    assert ids.unit_ids.tolist() == ["a", "b", "c", "d"] and isinstance(ids.unit_ids, np.ndarray)


def test_sparse_layout_and_densify():
    dense = _array()
    masked = dense * MASK[:, None, :]
    sparse = Templates(dense, FS, 5, unit_ids=list("abcd")).to_sparse(MASK)
    assert sparse.are_templates_sparse() and sparse.num_channels == 5
    np.testing.assert_array_equal(sparse.templates_array, _sparse_ref(dense, MASK))
    np.testing.assert_array_equal(sparse.sparsity_mask, MASK)
    assert sparse.sparsity == ChannelSparsity(MASK, list("abcd"), np.arange(5))
    np.testing.assert_array_equal(sparse.get_dense_templates(), masked)
    for u in range(4):
        np.testing.assert_array_equal(sparse.get_one_template_dense(u), masked[u])
    back = sparse.to_dense()
    assert not back.are_templates_sparse()
    np.testing.assert_array_equal(back.templates_array, masked)
    # a ChannelSparsity works as the mask does
    assert Templates(dense, FS, 5, unit_ids=list("abcd")).to_sparse(sparse.sparsity) == sparse
    # a sparse array built by hand is accepted with its mask
    again = Templates(_sparse_ref(dense, MASK), FS, 5, sparsity_mask=MASK, unit_ids=list("abcd"))
    assert again == sparse


def test_select_units_and_channels():
    dense = _array()
    t = Templates(dense, FS, 5, unit_ids=list("abcd"), channel_ids=list("vwxyz"), probe=_probe())
    sub = t.select_units(["c", "a"])
    assert sub.unit_ids.tolist() == ["c", "a"]
    np.testing.assert_array_equal(sub.templates_array, dense[[2, 0]])
    chans = t.select_channels(["z", "w"])
    assert chans.channel_ids.tolist() == ["z", "w"] and chans.num_channels == 2
    np.testing.assert_array_equal(chans.templates_array, dense[:, :, [4, 1]])
    sparse = t.to_sparse(MASK)
    sub = sparse.select_units(["d", "b"])
    np.testing.assert_array_equal(sub.sparsity_mask, MASK[[3, 1]])
    np.testing.assert_array_equal(sub.get_dense_templates(), (dense * MASK[:, None, :])[[3, 1]])
    with pytest.raises(ValueError, match="to_dense"):
        sparse.select_channels(["v"])
    with pytest.raises(ValueError, match="'q'"):
        t.select_units(["a", "q"])
    with pytest.raises(ValueError, match="'q'"):
        t.select_channels(["q"])


def test_equality():
    dense = _array()
    a = Templates(dense, FS, 5, probe=_probe())
    assert a == Templates(dense.copy(), FS, 5, probe=_probe())
    assert a != Templates(dense + 1, FS, 5, probe=_probe())
    assert a != Templates(dense, FS, 4, probe=_probe())
    assert a != Templates(dense, FS, 5)
    assert a != Templates(dense, FS, 5, probe=_probe(), is_in_uV=False)
    assert a != dense
    sparse = a.to_sparse(MASK)
    assert sparse != a
    other = np.ones_like(MASK)
    assert sparse != a.to_sparse(other)
    # how the object was built (the consistency check) is not part of what it holds
    assert sparse.select_units(sparse.unit_ids) == sparse


def test_errors_name_the_argument():
    dense = _array()
    with pytest.raises(ValueError, match="3 dimensions"):
        Templates(dense[0], FS, 5)
    with pytest.raises(ValueError, match="channel_ids"):
        Templates(dense, FS, 5, channel_ids=[0, 1])
    with pytest.raises(ValueError, match="unit_ids"):
        Templates(dense, FS, 5, unit_ids=[0, 1, 2])
    with pytest.raises(ValueError, match="nbefore"):
        Templates(dense, FS, 13)
    with pytest.raises(TypeError, match="nbefore"):
        Templates(dense, FS, 2.5)
    with pytest.raises(ValueError, match="sampling_frequency"):
        Templates(dense, -1.0, 5)
    with pytest.raises(TypeError, match="probe"):
        Templates(dense, FS, 5, probe="probe")
    with pytest.raises(ValueError, match="not sparse"):
        Templates(dense, FS, 5, sparsity_mask=MASK)
    with pytest.raises(ValueError, match="sparsity_mask has shape"):
        Templates(dense, FS, 5, sparsity_mask=MASK[:2])
    with pytest.raises(TypeError, match="sparsity_mask"):
        Templates(dense, FS, 5, sparsity_mask=MASK * 2.5)
    t = Templates(dense, FS, 5)
    with pytest.raises(TypeError, match="sparsity"):
        t.to_sparse([[True]])
    with pytest.raises(ValueError, match="sparse already"):
        t.to_sparse(MASK).to_sparse(MASK)
    with pytest.raises(ValueError, match="unit_ids / channel_ids"):
        t.to_sparse(ChannelSparsity(MASK, list("abcd"), np.arange(5)))
    with pytest.raises(ValueError, match="probe"):
        t.get_channel_locations()
    with pytest.raises(ValueError, match="unit_index"):
        t.get_one_template_dense(4)
    with pytest.raises(ValueError, match="outputs"):
        t.get_main_channels(outputs="name")
    with pytest.raises(ValueError, match="peak_sign"):
        t.get_main_channels(peak_sign="up")
    with pytest.raises(ValueError, match="peak_mode"):
        t.get_main_channels(peak_mode="max")


# ---------------------------------------------------------------------- main channels
def _main_ref(dense, peak_sign, peak_mode, nbefore):
    """Per unit: the first channel of largest amplitude (loops, written from the rule)."""
    out = []
    for u in range(dense.shape[0]):
        best, best_c = None, None
        for c in range(dense.shape[2]):
            trace = dense[u, :, c].astype("float64")
            if peak_mode == "extremum":
                value = {"both": np.abs(trace).max(), "neg": -trace.min(), "pos": trace.max()}[peak_sign]
            elif peak_mode == "at_index":
                value = abs(trace[nbefore]) if peak_sign == "both" else trace[nbefore]
            else:
                value = trace.max() - trace.min()
            if best is None or value > best:
                best, best_c = value, c
        out.append(best_c)
    return np.array(out)


@pytest.mark.parametrize("peak_sign", ["neg", "pos", "both"])
@pytest.mark.parametrize("peak_mode", ["extremum", "at_index", "peak_to_peak"])
def test_main_channels_vs_numpy(peak_sign, peak_mode):
    dense = _array(3, (6, 12, 5))
    dense[5] = 0.0
    dense[5, 4, [1, 3]] = -2.0  # a tie: the first channel wins
    dense[5, 5, [1, 3]] = 2.0
    t = Templates(dense, FS, 4, unit_ids=list("abcdef"), channel_ids=list("vwxyz"))
    expected = _main_ref(dense, peak_sign, peak_mode, 4)
    got = t.get_main_channels(peak_sign=peak_sign, peak_mode=peak_mode)
    np.testing.assert_array_equal(got, expected)
    assert len(set(expected.tolist())) > 1
    ids = t.get_main_channels(peak_sign=peak_sign, peak_mode=peak_mode, outputs="id", with_dict=True)
    assert ids == {u: "vwxyz"[c] for u, c in zip("abcdef", expected)}
    # a sparse Templates gives the main channels of its dense templates
    mask = np.ones((6, 5), bool)
    mask[:, 0] = False
    sparse = t.to_sparse(mask)
    np.testing.assert_array_equal(sparse.get_main_channels(peak_sign=peak_sign, peak_mode=peak_mode),
                                  _main_ref(dense * mask[:, None, :], peak_sign, peak_mode, 4))


def test_channel_locations_from_probe():
    probe = _probe()
    t = Templates(_array(), FS, 5, probe=probe)
    np.testing.assert_array_equal(t.get_channel_locations(), probe.contact_positions)


# ---------------------------------------------------------------------- dict, JSON, zarr
@pytest.mark.parametrize("sparse", [False, True])
def test_dict_and_json_round_trip(sparse):
    t = Templates(_array(), FS, 5, unit_ids=list("abcd"), channel_ids=[3, 4, 5, 6, 7], probe=_probe(),
                  is_in_uV=False)
    if sparse:
        t = t.to_sparse(MASK)
    d = t.to_dict()
    assert set(d) == {"templates_array", "sparsity_mask", "channel_ids", "unit_ids", "sampling_frequency",
                      "nbefore", "is_in_uV", "probe"}
    assert Templates.from_dict(d) == t
    text = t.to_json()
    plain = json.loads(text)
    assert plain["templates_array"] == t.templates_array.tolist() and plain["unit_ids"] == list("abcd")
    back = Templates.from_json(text)
    assert back == t
    assert back.probe.annotations["name"] == "test probe"
    # the name SpikeInterface used before 0.103
    d = dict(d)
    d["is_scaled"] = d.pop("is_in_uV")
    assert Templates.from_dict(d).is_in_uV is False
    with pytest.raises(ValueError, match="nbefore"):
        Templates.from_dict({"templates_array": _array(), "sampling_frequency": FS})


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("with_probe", [False, True])
def test_zarr_round_trip(tmp_path, sparse, with_probe):
    t = Templates(_array(), FS, 5, unit_ids=list("abcd"), probe=_probe() if with_probe else None)
    if sparse:
        t = t.to_sparse(MASK)
    t.to_zarr(tmp_path / "t.zarr")
    back = Templates.from_zarr(tmp_path / "t.zarr")
    assert back == t
    assert back.templates_array.dtype == t.templates_array.dtype
    # format 2 (what SpikeInterface's zarr 2 reads), one chunk per unit
    meta = json.loads((tmp_path / "t.zarr" / "templates_array" / ".zarray").read_text())
    assert meta["zarr_format"] == 2 and meta["chunks"][0] == 1
    # an existing Templates folder is replaced
    t.select_units(["b"]).to_zarr(tmp_path / "t.zarr")
    assert Templates.from_zarr(tmp_path / "t.zarr").unit_ids.tolist() == ["b"]


def test_zarr_refuses_foreign_folders(tmp_path):
    t = Templates(_array(), FS, 5)
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    with pytest.raises(RefusedOverwriteError):
        t.to_zarr(folder)
    assert (folder / "notes.txt").read_text() == "keep me"
    with pytest.raises(FileNotFoundError):
        Templates.from_zarr(tmp_path / "missing.zarr")


# ---------------------------------------------------------------------- SpikeInterface 0.105
SETUP = textwrap.dedent('''
    import probeinterface as pi
    if IS_SI:
        from spikeinterface.core import Templates
    else:
        from gpuspike.core.template import Templates
    rng = np.random.default_rng(4)
    arr = rng.normal(size=(4, 12, 5)).astype("float32")
    arr[3] = 0.0
    arr[3, 4, [1, 3]] = -2.0
    probe = pi.generate_linear_probe(num_elec=5, ypitch=20)
    probe.set_device_channel_indices(np.arange(5))
    mask = np.array([[1, 1, 0, 0, 1], [0, 1, 1, 1, 0], [1, 0, 0, 0, 0], [0, 0, 0, 1, 1]], dtype=bool)
    t = Templates(arr, 30000.0, 5, unit_ids=np.array(["a", "b", "c", "d"]), probe=probe)
''')

CASES = {
    "fields": "result = [t.num_units, t.num_samples, t.num_channels, t.nbefore, t.nafter, t.ms_before, t.ms_after]",
    "repr": "result = repr(t)",
    "repr_sparse": "result = repr(t.to_sparse(mask))",
    "sparse_array": "result = t.to_sparse(mask).templates_array",
    "dense_again": "result = t.to_sparse(mask).to_dense().templates_array",
    "one_dense": "result = t.to_sparse(mask).get_one_template_dense(1)",
    "select_units": "s = t.to_sparse(mask).select_units(['d', 'b']); result = [s.templates_array, s.sparsity_mask]",
    "select_channels": "result = t.select_channels([4, 0]).templates_array",
    "select_channels_sparse": "result = t.to_sparse(mask).select_channels([4, 0])",
    "main": "result = [t.get_main_channels(peak_sign=s, peak_mode=m) for s in ('neg', 'pos', 'both') "
            "for m in ('extremum', 'at_index', 'peak_to_peak')]",
    "main_ids": "result = t.get_main_channels(outputs='id', with_dict=True)",
    "json": "import json; result = json.loads(t.to_sparse(mask).to_json())",
    "locations": "result = t.get_channel_locations()",
    "not_sparse": "result = Templates(arr, 30000.0, 5, sparsity_mask=mask).templates_array",
    "bad_ids": "result = Templates(arr, 30000.0, 5, channel_ids=[0, 1]).channel_ids",
    "equal": "result = [t == Templates.from_json(t.to_json()), t == t.to_sparse(mask), "
             "t.to_sparse(mask) == Templates.from_json(t.to_sparse(mask).to_json())]",
}


@pytest.mark.compare
def test_same_as_spikeinterface(tmp_path):
    gs_out, si_out = run_cases(CASES, tmp_path, setup=SETUP)
    for name in CASES:
        assert_same_outcome(gs_out[name], si_out[name], name)
    assert "error" in si_out["not_sparse"] and "error" in si_out["select_channels_sparse"]
    assert "error" not in si_out["main"]


SI_ZARR = textwrap.dedent('''
    import sys, json
    import numpy as np
    from spikeinterface.core import Templates
    base = sys.argv[1]
    t = Templates.from_zarr(base + "/gs.zarr")
    expected = Templates.from_json(open(base + "/gs.json").read())
    assert t == expected, "SpikeInterface reads gpuspike's zarr folder as the same Templates"
    assert t.templates_array.dtype == np.float32
    assert list(t.probe.contact_positions[:, 1]) == [0.0, 20.0, 40.0, 60.0, 80.0]
    other = Templates(t.templates_array[::-1].copy(), t.sampling_frequency, t.nbefore,
                      sparsity_mask=t.sparsity_mask[::-1].copy(), unit_ids=t.unit_ids[::-1].copy(),
                      channel_ids=t.channel_ids, probe=t.probe, is_in_uV=False)
    other.to_zarr(base + "/si.zarr")
    open(base + "/si.json", "w").write(other.to_json())
''')


@pytest.mark.compare
def test_zarr_folders_open_in_both_tools(tmp_path):
    t = Templates(_array(), FS, 5, unit_ids=list("abcd"), probe=_probe()).to_sparse(MASK)
    t.to_zarr(tmp_path / "gs.zarr")
    (tmp_path / "gs.json").write_text(t.to_json())
    run_si_script(SI_ZARR, tmp_path)
    theirs = Templates.from_zarr(tmp_path / "si.zarr")
    assert theirs == Templates.from_json((tmp_path / "si.json").read_text())
    assert theirs.unit_ids.tolist() == list("dcba") and theirs.is_in_uV is False
    np.testing.assert_array_equal(theirs.get_dense_templates(), t.get_dense_templates()[::-1])
