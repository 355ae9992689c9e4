"""A SortingAnalyzer made of plain NumPy arrays: exactly the contract that template_tools and sparsity
rely on (see the module docstring of gpuspike/core/sortinganalyzer.py), nothing computed."""
import numpy as np

import gpuspike as gs
from gpuspike.core.sortinganalyzer import SortingAnalyzer


class FakeTemplatesExtension:
    def __init__(self, arrays: dict, nbefore: int):
        self.arrays = arrays
        self.nbefore = nbefore
        self.nafter = arrays["average"].shape[1] - nbefore

    def get_templates(self, unit_ids=None, operator="average", percentile=None, save=True, outputs="numpy"):
        assert outputs == "numpy" and unit_ids is None
        if operator not in self.arrays:
            raise ValueError(f"operator {operator!r} not computed")
        return self.arrays[operator].copy()


class FakeNoiseExtension:
    def __init__(self, noise):
        self.noise = np.asarray(noise)

    def get_data(self):
        return self.noise.copy()


class FakeWaveformsExtension:
    def __init__(self, waveforms: dict, nbefore: int, nafter: int):
        self.waveforms = waveforms
        self.nbefore, self.nafter = nbefore, nafter

    def get_waveforms_one_unit(self, unit_id, force_dense=False):
        assert force_dense
        return self.waveforms[unit_id].copy()


class FakeAnalyzer(SortingAnalyzer):
    """The contract of a SortingAnalyzer over given arrays (its main channels are given, not computed)."""

    def __init__(self, templates, nbefore, main_channels, unit_ids, channel_ids, locations=None, peak_sign="both",
                 peak_mode="extremum", return_in_uV=True, sparsity=None, noise_levels=None, waveforms=None,
                 operators=None, unit_properties=None, channel_properties=None):
        self._unit_ids = np.asarray(unit_ids)
        self._channel_ids = np.asarray(channel_ids)
        self._main = np.asarray(main_channels, dtype="int64")
        self._locations = locations
        self.sparsity = sparsity
        self.peak_sign = peak_sign
        self.peak_mode = peak_mode
        self.return_in_uV = return_in_uV
        self._exts = {}
        if templates is not None:
            self._exts["templates"] = FakeTemplatesExtension({"average": templates, **(operators or {})}, nbefore)
        if noise_levels is not None:
            self._exts["noise_levels"] = FakeNoiseExtension(noise_levels)
        if waveforms is not None:
            nsamples = next(iter(waveforms.values())).shape[1]
            self._exts["waveforms"] = FakeWaveformsExtension(waveforms, nbefore, nsamples - nbefore)
        self.sorting = gs.NumpySorting.from_unit_dict({u: np.array([10, 20]) for u in self._unit_ids.tolist()},
                                                      30000.0)
        for key, values in (unit_properties or {}).items():
            self.sorting.set_property(key, np.asarray(values))
        self._channel_properties = dict(channel_properties or {})

    unit_ids = property(lambda self: self._unit_ids)
    channel_ids = property(lambda self: self._channel_ids)
    sampling_frequency = property(lambda self: 30000.0)

    def __repr__(self):
        return "FakeAnalyzer"

    def get_num_units(self):
        return len(self._unit_ids)

    def has_recording(self):
        return False

    def get_extension(self, name):
        return self._exts.get(name)

    def get_main_channels(self, outputs="index", with_dict=False):
        assert outputs in ("index", "id")
        values = self._main if outputs == "index" else self._channel_ids[self._main]
        return dict(zip(self._unit_ids, values)) if with_dict else values

    def get_channel_locations(self):
        if self._locations is None:
            raise ValueError("no channel locations")
        return np.asarray(self._locations)

    def get_recording_property(self, key):
        return self._channel_properties.get(key)


def make_templates(seed=0, num_units=6, num_samples=20, num_channels=8, nbefore=6):
    """Templates with a clear negative peak per unit near ``nbefore`` on a unit-specific channel, noise elsewhere."""
    rng = np.random.default_rng(seed)
    t = rng.normal(scale=0.5, size=(num_units, num_samples, num_channels)).astype("float32")
    for u in range(num_units):
        c = (3 * u + 1) % num_channels
        t[u, nbefore + u % 3 - 1, c] -= 12.0 + u
        t[u, nbefore + 4, (c + 1) % num_channels] += 7.0 + u
    return t


# ---------------------------------------------------------------------- NumPy references (loops, from the rules)
def ref_amplitude(trace, peak_sign, peak_mode, nbefore):
    """SpikeInterface 0.105's amplitude of one channel's template (before the absolute value)."""
    trace = np.asarray(trace, dtype="float64")
    if peak_mode == "extremum":
        return {"both": np.abs(trace).max(), "neg": trace.min(), "pos": trace.max()}[peak_sign]
    if peak_mode == "at_index":
        return abs(trace[nbefore]) if peak_sign == "both" else trace[nbefore]
    return trace.max() - trace.min()


def ref_amplitudes(templates, peak_sign, peak_mode, nbefore):
    out = np.zeros((templates.shape[0], templates.shape[2]))
    for u in range(templates.shape[0]):
        for c in range(templates.shape[2]):
            out[u, c] = ref_amplitude(templates[u, :, c], peak_sign, peak_mode, nbefore)
    return out


def ref_main_channels(templates, peak_sign, peak_mode, nbefore):
    """The first channel of largest amplitude ("neg" extremum: the most negative minimum)."""
    out = []
    for u in range(templates.shape[0]):
        best, best_c = None, None
        for c in range(templates.shape[2]):
            value = ref_amplitude(templates[u, :, c], peak_sign, peak_mode, nbefore)
            if peak_mode == "extremum" and peak_sign == "neg":
                value = -value
            if best is None or value > best:
                best, best_c = value, c
        out.append(best_c)
    return np.array(out, dtype="int64")


def ref_raw_templates(recording, sorting, max_spikes, seed, ms_before=1.0, ms_after=2.5):
    """Mean raw windows of SpikeInterface's "uniform" spikes away from the edges (float32, as its accumulator)."""
    fs = recording.sampling_frequency
    nbefore, nafter = round(ms_before * fs / 1000), round(ms_after * fs / 1000)
    margin = max(nbefore, nafter)
    spikes = sorting.to_spike_vector()
    traces = recording.get_traces(return_scaled=False).astype("float64")
    rng = np.random.default_rng(seed)
    out = np.zeros((len(sorting.unit_ids), nbefore + nafter, traces.shape[1]))
    for u in range(len(sorting.unit_ids)):
        idx = np.flatnonzero((spikes["unit_index"] == u) & (spikes["sample_index"] >= margin)
                             & (spikes["sample_index"] < traces.shape[0] - margin))
        chosen = rng.choice(idx, size=min(max_spikes, idx.size), replace=False, shuffle=False)
        for i in chosen:
            s = int(spikes["sample_index"][i])
            out[u] += traces[s - nbefore:s + nafter]
        out[u] /= len(chosen)
    return out.astype("float32"), nbefore
