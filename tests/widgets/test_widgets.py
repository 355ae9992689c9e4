"""Widgets render with Agg; the artists hold exactly the data given (checked against NumPy)."""
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.image import AxesImage  # noqa: E402

import gpuspike as gs  # noqa: E402
from gpuspike.core.sparsity import ChannelSparsity  # noqa: E402
from gpuspike.widgets import (plot_probe_map, plot_sparsity, plot_traces, plot_unit_templates,  # noqa: E402
                              plot_unit_waveforms)


class FakeWaveformExtractor:
    """The duck-typed WaveformExtractor interface the widgets use, built with NumPy."""

    def __init__(self, recording, sorting, nbefore=20, nafter=40, sparse_channels=None):
        self.recording, self.sorting = recording, sorting
        self.unit_ids = sorting.unit_ids
        self.channel_ids = recording.channel_ids
        self.nbefore = nbefore
        traces = recording.get_traces()
        n = traces.shape[0]
        self._dense = {}
        for u in self.unit_ids:
            st = sorting.get_unit_spike_train(u)
            st = st[(st >= nbefore) & (st + nafter <= n)]
            self._dense[u] = np.stack([traces[t - nbefore:t + nafter] for t in st]).astype("float32")
        if sparse_channels is None:
            self.sparsity = None
        else:
            mask = np.zeros((len(self.unit_ids), len(self.channel_ids)), bool)
            for i, u in enumerate(self.unit_ids):
                mask[i, sparse_channels[u]] = True
            self.sparsity = ChannelSparsity(mask, self.unit_ids, self.channel_ids)

    def is_sparse(self):
        return self.sparsity is not None

    def get_waveforms(self, unit_id):
        wfs = self._dense[unit_id]
        if self.sparsity is None:
            return wfs
        return wfs[:, :, self.sparsity.unit_id_to_channel_indices[unit_id]]

    def get_all_templates(self):
        return np.stack([self._dense[u].mean(axis=0) for u in self.unit_ids])

    def get_template(self, unit_id):
        return self._dense[unit_id].mean(axis=0)


@pytest.fixture(scope="module")
def gt():
    rec, sorting = gs.generate_ground_truth_recording(durations=[2.0], num_channels=8, num_units=4,
                                                      generate_sorting_kwargs={"firing_rates": 8.0}, seed=3)
    return rec, sorting


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_import_gpuspike_does_not_import_matplotlib():
    code = ("import sys, gpuspike, gpuspike.widgets, gpuspike.extractors; "
            "assert 'matplotlib' not in sys.modules, 'matplotlib imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_plot_traces_line(gt, tmp_path):
    rec, _ = gt
    ids = rec.channel_ids[[5, 1, 2]]
    res = plot_traces(rec, time_range=(0.1, 0.2), channel_ids=ids, show_channel_ids=True)
    fs = rec.get_sampling_frequency()
    start, end = int(round(0.1 * fs)), int(round(0.2 * fs))
    expected = rec.get_traces(start_frame=start, end_frame=end, channel_ids=ids)
    lines = res.ax.get_lines()
    assert len(lines) == 3
    offsets = res.data["offsets"]
    for i, line in enumerate(lines):
        np.testing.assert_allclose(line.get_xdata(), np.arange(start, end) / fs)
        np.testing.assert_allclose(line.get_ydata() - offsets[i], expected[:, i], atol=1e-4)
    assert [t.get_text() for t in res.ax.get_yticklabels()] == [str(c) for c in ids]
    res.figure.savefig(tmp_path / "traces.png")
    assert (tmp_path / "traces.png").stat().st_size > 1000


def test_plot_traces_takes_spikeinterface_positional_order_and_auto_mode(gt):
    rec, _ = gt
    ids = rec.channel_ids[[3, 0]]
    res = plot_traces(rec, 0, ids)  # (recording, segment_index, channel_ids, ...), as 0.105
    assert res.data["mode"] == "line" and list(res.data["channel_ids"]) == list(ids)
    assert [t.get_text() for t in res.ax.get_yticklabels()] != [str(c) for c in ids]  # no ids by default
    wide = gs.NumpyRecording([np.random.default_rng(0).normal(size=(200, 65)).astype("float32")], 1000.0)
    assert plot_traces(wide).data["mode"] == "map"  # "auto": lines up to 64 channels
    assert plot_traces(wide, channel_ids=wide.channel_ids[:64]).data["mode"] == "line"


def test_plot_traces_map_and_scaled(gt):
    rec, _ = gt
    res = plot_traces(rec, time_range=(0.0, 0.05), mode="map", return_scaled=True)
    images = [a for a in res.ax.get_children() if isinstance(a, AxesImage)]
    assert len(images) == 1
    n = int(round(0.05 * rec.get_sampling_frequency()))
    expected = rec.get_traces(start_frame=0, end_frame=n, return_scaled=True)
    np.testing.assert_allclose(np.asarray(images[0].get_array()), expected.T, atol=1e-4)
    with pytest.raises(ValueError, match="mode='bars'"):
        plot_traces(rec, mode="bars")
    with pytest.raises(ValueError, match="time_range"):
        plot_traces(rec, time_range=(0.5, 0.1))


def test_plot_traces_layers_events_groups_and_scale():
    rng = np.random.default_rng(3)
    raw = rng.normal(size=(1000, 4)).astype("float32")
    rec = gs.NumpyRecording([raw], 1000.0, channel_ids=["a", "b", "c", "d"])
    rec.set_property("group", [0, 0, 1, 1])
    doubled = gs.NumpyRecording([2 * raw], 1000.0, channel_ids=["a", "b", "c", "d"])
    res = plot_traces({"raw": rec, "x2": doubled}, time_range=(0.1, 0.3), scale=3.0, vspacing_factor=2.0,
                      events=np.array([0.15, 0.25, 0.9]))
    lines = res.ax.get_lines()
    curves = [line for line in lines if len(line.get_xdata()) == 200]
    assert len(curves) == 8  # 4 channels x 2 layers
    offsets = res.data["offsets"]
    expected_spacing = 2.0 * np.abs(3.0 * raw[100:300]).max()
    np.testing.assert_allclose(np.diff(offsets), expected_spacing, rtol=1e-6)
    for i in range(4):
        np.testing.assert_allclose(curves[i].get_ydata() - offsets[i], 3.0 * raw[100:300, i], atol=1e-5)
        np.testing.assert_allclose(curves[4 + i].get_ydata() - offsets[i], 6.0 * raw[100:300, i], atol=1e-5)
    assert curves[0].get_color() != curves[4].get_color()  # one color per layer
    assert [t.get_text() for t in res.ax.get_legend().get_texts()] == ["raw", "x2"]
    np.testing.assert_allclose(res.data["events"]["time"], [0.15, 0.25])  # 0.9 is outside the range
    vlines = [line for line in lines if len(line.get_xdata()) == 2 and line.get_xdata()[0] == line.get_xdata()[1]]
    assert sorted(line.get_xdata()[0] for line in vlines) == [0.15, 0.25]

    epochs = np.array([(0.12, 0.05)], dtype=[("time", "float64"), ("duration", "float64")])
    grouped = plot_traces(rec, time_range=(0.1, 0.3), color_groups=True, events=epochs, add_legend=False)
    colors = grouped.data["colors"]["rec"]
    assert colors["a"] == colors["b"] != colors["c"] == colors["d"]
    spans = [p for p in grouped.ax.patches]
    assert len(spans) == 1 and np.isclose(spans[0].get_x(), 0.12) and np.isclose(spans[0].get_width(), 0.05)
    two_segments = gs.NumpyRecording([raw, raw], 1000.0)
    shown = plot_traces(two_segments, segment_index=1, events=[np.array([0.5]), np.array([0.2])])
    np.testing.assert_allclose(shown.data["events"]["time"], [0.2])
    with pytest.raises(ValueError, match="one array per segment"):
        plot_traces(two_segments, segment_index=1, events=np.array([0.2]))


def test_plot_traces_refuses_what_it_cannot_draw():
    rec = gs.NumpyRecording([np.zeros((100, 3), "float32")], 1000.0)
    other = gs.NumpyRecording([np.zeros((100, 2), "float32")], 1000.0)
    with pytest.raises(ValueError, match="mode='map' draws one recording"):
        plot_traces([rec, rec], mode="map")
    with pytest.raises(ValueError, match="layers of plot_traces need"):
        plot_traces({"a": rec, "b": other})
    with pytest.raises(ValueError, match="backend='ipywidgets'"):
        plot_traces(rec, backend="ipywidgets")
    with pytest.raises(TypeError, match="unknown keyword"):
        plot_traces(rec, linewidth=3)
    with pytest.raises(ValueError, match="'time' field"):
        plot_traces(rec, events=np.zeros(2, dtype=[("t", "float64")]))
    figure = plt.figure()
    res = plot_traces(rec, mode="map", with_colorbar=False, backend="matplotlib", figure=figure)
    assert res.figure is figure and len(figure.axes) == 1  # no color bar axes


def test_unit_widgets_take_a_sorting_analyzer_and_templates(gt):
    rec, sorting = gt
    analyzer = gs.create_sorting_analyzer(sorting, rec, sparse=True,
                                          sparsity_kwargs=dict(method="radius", radius_um=30.0))
    analyzer.compute(["random_spikes", "waveforms", "templates"])
    templates = analyzer.get_extension("templates").get_data()
    unit = analyzer.unit_ids[1]
    res = plot_unit_templates(analyzer, None, [unit])  # (sorting_analyzer_or_templates, channel_ids, unit_ids)
    assert len(res.axes) == 1 and res.data["unit_ids"] == [unit]
    chans = res.data["channel_indices"][unit]
    np.testing.assert_array_equal(chans, np.flatnonzero(analyzer.sparsity.mask[1]))
    lines = res.ax.get_lines()
    locations, y_scale = res.data["locations"], res.data["y_scale"]
    for line, c in zip(lines, chans):
        np.testing.assert_allclose(line.get_ydata(), locations[c, 1] + templates[1][:, c] * y_scale, rtol=1e-6)
    as_templates = analyzer.get_extension("templates").get_data(outputs="Templates")
    again = plot_unit_templates(sorting_analyzer_or_templates=as_templates, unit_ids=[unit])
    np.testing.assert_allclose(again.data["templates"], res.data["templates"], rtol=1e-6)
    res = plot_unit_waveforms(analyzer, unit_ids=[unit], max_spikes_per_unit=1000)
    wfs = analyzer.get_extension("waveforms").get_waveforms_one_unit(unit)
    first = res.ax.get_lines()[0]  # the waveforms on the unit's first channel, NaN-separated
    ys = first.get_ydata().reshape(wfs.shape[0], wfs.shape[1] + 1)[:, :-1]
    np.testing.assert_allclose(ys, locations[chans[0], 1] + wfs[:, :, 0] * res.data["y_scale"], rtol=1e-5)
    bare = gs.create_sorting_analyzer(sorting, rec, sparse=False)
    with pytest.raises(ValueError, match="templates"):
        plot_unit_templates(bare)
    bare.compute(["random_spikes", "templates"])
    with pytest.raises(TypeError, match="needs waveforms"):
        plot_unit_waveforms(bare)


def test_unit_widgets_drawing_options(gt):
    rec, sorting = gt
    analyzer = gs.create_sorting_analyzer(sorting, rec, sparse=False)
    analyzer.compute(["random_spikes", "waveforms", "templates"])
    units = list(analyzer.unit_ids[:2])
    plain = plot_unit_templates(analyzer, unit_ids=units, same_axis=True)
    styled = plot_unit_templates(analyzer, unit_ids=units, same_axis=True, scale=2.0, lw_templates=3.0,
                                 alpha_templates=0.5, unit_colors={units[0]: "red"}, set_title=False)
    assert np.isclose(styled.data["y_scale"], 2.0 * plain.data["y_scale"])
    first = styled.ax.get_lines()[0]
    assert first.get_color() == "red" and first.get_linewidth() == 3.0 and first.get_alpha() == 0.5
    assert styled.ax.get_title() == "" and plain.ax.get_title() == "templates"
    assert [t.get_text() for t in plain.ax.get_legend().get_texts()] == [str(u) for u in units]
    only_templates = plot_unit_waveforms(analyzer, unit_ids=units[:1], plot_waveforms=False, plot_channels=True,
                                         alpha_waveforms=0.1, lw_templates=4.0)
    lines = only_templates.ax.get_lines()
    assert len(lines) == analyzer.get_num_channels() and all(line.get_linewidth() == 4.0 for line in lines)
    assert len(only_templates.ax.collections) == 1  # the channel dots
    with pytest.raises(ValueError, match="unit_colors"):
        plot_unit_templates(analyzer, unit_colors={"no such unit": "red"})
    with pytest.raises(ValueError, match="backend='sortingview'"):
        plot_unit_waveforms(analyzer, backend="sortingview")


def test_plot_probe_map(gt, tmp_path):
    rec, _ = gt
    res = plot_probe_map(rec, with_channel_ids=True)
    polys = [c for c in res.ax.collections if isinstance(c, PolyCollection)]
    contacts = [c for c in polys if len(c.get_paths()) == rec.get_num_channels()]
    assert len(contacts) == 1
    centers = np.array([(p.vertices.min(axis=0) + p.vertices.max(axis=0)) / 2 for p in contacts[0].get_paths()])
    np.testing.assert_allclose(centers, rec.get_channel_locations(), atol=1e-3)  # polygonized circles
    texts = [t.get_text() for t in res.ax.texts]
    assert sorted(texts) == sorted(str(c) for c in rec.channel_ids)
    res.savefig(tmp_path / "probe.png")
    assert (tmp_path / "probe.png").stat().st_size > 1000


def check_template_lines(axis, lines, template, chans, data):
    locs, ns = data["locations"], template.shape[0]
    for line, c in zip(lines, chans):
        x0, y0 = locs[c]
        np.testing.assert_allclose(line.get_xdata(),
                                   x0 + (np.arange(ns) - data["nbefore"]) / ns * data["x_scale"])
        np.testing.assert_allclose(line.get_ydata(), y0 + template[:, c] * data["y_scale"], rtol=1e-5, atol=1e-6)


def test_plot_unit_templates_sparse_on_probe(gt, tmp_path):
    rec, sorting = gt
    sparse = {u: np.arange(i, i + 3) for i, u in enumerate(sorting.unit_ids)}
    we = FakeWaveformExtractor(rec, sorting, sparse_channels=sparse)
    res = plot_unit_templates(we)
    assert len(res.axes) == len(sorting.unit_ids)
    templates = we.get_all_templates()
    for i, (u, axis) in enumerate(zip(sorting.unit_ids, res.axes)):
        lines = axis.get_lines()
        assert len(lines) == 3
        np.testing.assert_array_equal(res.data["channel_indices"][u], sparse[u])
        check_template_lines(axis, lines, templates[i], sparse[u], res.data)
    # the largest |template| maps to 0.9 x the 20 µm pitch
    assert res.data["y_scale"] * np.abs(templates).max() == pytest.approx(18.0)
    res.savefig(tmp_path / "templates.png")


def test_plot_unit_templates_from_arrays_same_axis(gt):
    rec, sorting = gt
    we = FakeWaveformExtractor(rec, sorting)
    templates = we.get_all_templates()
    # a bare templates array numbers its units 0..N-1
    res = plot_unit_templates(templates, recording=rec, nbefore=20, unit_ids=[1],
                              channel_ids=rec.channel_ids[:4], same_axis=True)
    assert len(res.axes) == 1
    lines = res.ax.get_lines()
    assert len(lines) == 4
    check_template_lines(res.ax, lines, templates[1], np.arange(4), res.data)
    with pytest.raises(ValueError, match="give recording="):
        plot_unit_templates(templates)
    with pytest.raises(KeyError, match="unit_id 99"):
        plot_unit_templates(we, unit_ids=[99])


def test_plot_unit_waveforms(gt):
    rec, sorting = gt
    sparse = {u: np.array([i, i + 2]) for i, u in enumerate(sorting.unit_ids)}
    we = FakeWaveformExtractor(rec, sorting, sparse_channels=sparse)
    res = plot_unit_waveforms(we, unit_ids=sorting.unit_ids[:2], max_spikes_per_unit=3)
    assert len(res.axes) == 2
    templates = we.get_all_templates()
    for k, u in enumerate(sorting.unit_ids[:2]):
        axis = res.axes[k]
        lines = axis.get_lines()
        assert len(lines) == 2 * 2  # one waveform line + one template line per channel
        wfs = we.get_waveforms(u)
        chosen = res.data["spike_indices"][u]
        assert len(chosen) == min(3, wfs.shape[0])
        for j, c in enumerate(sparse[u]):
            y = lines[j].get_ydata()
            y = y[~np.isnan(y)].reshape(len(chosen), -1)
            y0 = res.data["locations"][c][1]
            np.testing.assert_allclose(y, wfs[chosen, :, j] * res.data["y_scale"] + y0, rtol=1e-5, atol=1e-5)
        check_template_lines(axis, lines[2:], templates[k], sparse[u], res.data)
    with pytest.raises(TypeError, match="needs waveforms"):
        plot_unit_waveforms(templates)


def test_plot_sparsity(gt):
    rec, sorting = gt
    sparse = {u: np.arange(i, i + 2 + i) for i, u in enumerate(sorting.unit_ids)}
    we = FakeWaveformExtractor(rec, sorting, sparse_channels=sparse)
    res = plot_sparsity(we.sparsity)
    images = [a for a in res.ax.get_children() if isinstance(a, AxesImage)]
    assert len(images) == 1
    np.testing.assert_array_equal(np.asarray(images[0].get_array()), we.sparsity.mask.astype(float))
    res2 = plot_sparsity(we, unit_ids=sorting.unit_ids[1:3], on_probe=True)
    assert len(res2.axes) == 2
    highlighted = res2.axes[0].collections[1].get_offsets()
    np.testing.assert_allclose(highlighted, rec.get_channel_locations()[sparse[sorting.unit_ids[1]]])
    dense = plot_sparsity(FakeWaveformExtractor(rec, sorting))
    assert dense.data["mask"].all()


def test_plot_probe_map_of_interleaved_probes_spans_them_all(tmp_path):
    """Two tetrodes wired in an interleaved order: the axes span both, each contact carries its own
    channel's id and color (from the wiring), and the title is left empty, as SpikeInterface 0.105."""
    from probeinterface import ProbeGroup, generate_tetrode

    rec = gs.NumpyRecording([np.zeros((100, 8), "float32")], 1000.0, channel_ids=[f"c{i}" for i in range(8)])
    first, second = generate_tetrode(), generate_tetrode()
    second.move([100.0, 0.0])
    group = ProbeGroup()
    group.add_probe(first)
    group.add_probe(second)
    wiring = np.array([5, 0, 7, 2, 1, 6, 3, 4])
    group.set_global_device_channel_indices(wiring)
    rec.set_probegroup(group)
    colors = [f"C{i}" for i in range(8)]
    res = plot_probe_map(rec, color_channels=colors, with_channel_ids=True)
    positions = np.vstack([first.contact_positions, second.contact_positions])
    low, high = res.ax.get_xlim()
    assert low < positions[:, 0].min() and high > positions[:, 0].max()
    assert res.ax.get_title() == ""
    by_text = {t.get_text(): t.get_position() for t in res.ax.texts}
    for contact, channel in enumerate(wiring):
        np.testing.assert_allclose(by_text[f"c{channel}"], positions[contact], atol=1e-6)
    from matplotlib.colors import to_rgba

    polys = [c for c in res.ax.collections if isinstance(c, PolyCollection) and len(c.get_paths()) == 4]
    centers = np.array([(p.vertices.min(axis=0) + p.vertices.max(axis=0)) / 2 for c in polys for p in c.get_paths()])
    faces = np.vstack([c.get_facecolor() for c in polys])[:, :3]
    for center, face in zip(centers, faces):
        contact = int(np.argmin(np.linalg.norm(positions - center, axis=1)))  # the contact drawn there
        np.testing.assert_allclose(face, to_rgba(colors[wiring[contact]])[:3])
    assert plot_probe_map(rec, res.ax).ax is res.ax  # the earlier positional order, (recording, ax)
