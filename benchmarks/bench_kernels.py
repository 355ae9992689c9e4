"""CPU kernels against plain NumPy on W1-sized data (Neuropixels 1.0, one 1 s chunk).

384 channels, 30 000 samples of int16; ~3000 spikes of 100 units, 90-sample windows.
Run with ``python -m pytest benchmarks/bench_kernels.py --benchmark-only`` (not part of the test
run). Each kernel is compiled before timing. Set ``NUMBA_NUM_THREADS`` to compare thread counts.
"""
from __future__ import annotations

import numpy as np
import pytest

import gpuspike.kernels as k

NUM_SAMPLES = 30_000
NUM_CHANNELS = 384
NUM_SPIKES = 3000
NUM_UNITS = 100
NBEFORE, NAFTER = 30, 60
NSAMPLES = NBEFORE + NAFTER
KMAX = 40  # sparse channels per unit


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    traces = rng.integers(-300, 300, (NUM_SAMPLES, NUM_CHANNELS)).astype(np.int16)
    peaks = np.sort(rng.integers(NBEFORE, NUM_SAMPLES - NAFTER, NUM_SPIKES)).astype(np.int64)
    units = rng.integers(0, NUM_UNITS, NUM_SPIKES).astype(np.int64)
    gains = rng.uniform(0.1, 3.0, NUM_CHANNELS).astype(np.float32)
    offsets = rng.uniform(-5, 5, NUM_CHANNELS).astype(np.float32)
    centers = rng.integers(0, NUM_CHANNELS - KMAX, NUM_UNITS)
    sparse_channels = (centers[:, None] + np.arange(KMAX)[None, :]).astype(np.int32)
    templates = rng.normal(0, 20, (NUM_UNITS, NSAMPLES, NUM_CHANNELS)).astype(np.float32)
    locations = np.stack([(np.arange(NUM_CHANNELS) % 2) * 32.0, (np.arange(NUM_CHANNELS) // 2) * 20.0], axis=1)
    return dict(
        traces=traces, peaks=peaks, units=units, gains=gains, offsets=offsets,
        sparse_channels=sparse_channels, templates=templates, locations=locations,
        rows=np.arange(NUM_SPIKES, dtype=np.int64),
    )


def _bench(benchmark, fn, *args):
    fn(*args)  # compile / warm caches
    return benchmark(fn, *args)


# --- scale -------------------------------------------------------------------------------------
@pytest.mark.benchmark(group="scale")
def test_scale_kernel(benchmark, data):
    out = np.empty(data["traces"].shape, np.float32)
    _bench(benchmark, k.scale_cpu, data["traces"], data["gains"], data["offsets"], out)


@pytest.mark.benchmark(group="scale")
def test_scale_numpy(benchmark, data):
    def numpy_scale(traces, gains, offsets):
        return traces.astype(np.float32) * gains + offsets

    _bench(benchmark, numpy_scale, data["traces"], data["gains"], data["offsets"])


# --- gather ------------------------------------------------------------------------------------
@pytest.mark.benchmark(group="gather-dense")
def test_gather_dense_kernel(benchmark, data):
    out = np.empty((NUM_SPIKES, NSAMPLES, NUM_CHANNELS), np.float32)
    _bench(benchmark, k.gather_waveforms_cpu, data["traces"], data["peaks"], NBEFORE, NAFTER, out, data["rows"])


@pytest.mark.benchmark(group="gather-dense")
def test_gather_dense_numpy(benchmark, data):
    out = np.empty((NUM_SPIKES, NSAMPLES, NUM_CHANNELS), np.float32)

    def numpy_gather(traces, peaks):
        idx = peaks[:, None] + np.arange(-NBEFORE, NAFTER)[None, :]
        out[:] = traces[idx]

    _bench(benchmark, numpy_gather, data["traces"], data["peaks"])


@pytest.mark.benchmark(group="gather-sparse")
def test_gather_sparse_kernel(benchmark, data):
    out = np.empty((NUM_SPIKES, NSAMPLES, KMAX), np.float32)
    _bench(
        benchmark, k.gather_waveforms_sparse_cpu, data["traces"], data["peaks"], NBEFORE, NAFTER, out,
        data["rows"], data["units"], data["sparse_channels"],
    )


@pytest.mark.benchmark(group="gather-sparse")
def test_gather_sparse_numpy(benchmark, data):
    out = np.empty((NUM_SPIKES, NSAMPLES, KMAX), np.float32)

    def numpy_gather(traces, peaks, units, chans):
        idx = peaks[:, None] + np.arange(-NBEFORE, NAFTER)[None, :]
        out[:] = traces[idx[:, :, None], chans[units][:, None, :]]

    _bench(benchmark, numpy_gather, data["traces"], data["peaks"], data["units"], data["sparse_channels"])


@pytest.mark.benchmark(group="gather-sparse-scaled")
def test_gather_sparse_scaled_kernel(benchmark, data):
    """Raw int16 in, µV out: only the gathered samples are scaled."""
    out = np.empty((NUM_SPIKES, NSAMPLES, KMAX), np.float32)
    _bench(
        benchmark, k.gather_waveforms_sparse_cpu, data["traces"], data["peaks"], NBEFORE, NAFTER, out,
        data["rows"], data["units"], data["sparse_channels"], data["gains"], data["offsets"],
    )


@pytest.mark.benchmark(group="gather-sparse-scaled")
def test_gather_sparse_scale_then_gather_kernels(benchmark, data):
    """The two-kernel alternative: scale the whole chunk, then gather."""
    out = np.empty((NUM_SPIKES, NSAMPLES, KMAX), np.float32)
    scaled = np.empty(data["traces"].shape, np.float32)

    def scale_then_gather(traces, gains, offsets):
        k.scale_cpu(traces, gains, offsets, scaled)
        k.gather_waveforms_sparse_cpu(scaled, data["peaks"], NBEFORE, NAFTER, out, data["rows"], data["units"],
                                      data["sparse_channels"])

    _bench(benchmark, scale_then_gather, data["traces"], data["gains"], data["offsets"])


@pytest.mark.benchmark(group="gather-sparse-scaled")
def test_gather_sparse_scaled_numpy(benchmark, data):
    out = np.empty((NUM_SPIKES, NSAMPLES, KMAX), np.float32)

    def numpy_gather(traces, peaks, units, chans, gains, offsets):
        idx = peaks[:, None] + np.arange(-NBEFORE, NAFTER)[None, :]
        ch = chans[units][:, None, :]
        out[:] = traces[idx[:, :, None], ch].astype(np.float32) * gains[ch] + offsets[ch]

    _bench(benchmark, numpy_gather, data["traces"], data["peaks"], data["units"], data["sparse_channels"],
           data["gains"], data["offsets"])


# --- sums only (means), raw int16 into float32 ---------------------------------------------------
@pytest.mark.benchmark(group="accumulate_sums")
def test_accumulate_sums_kernel(benchmark, data):
    sums, counts = np.zeros((NUM_UNITS, NSAMPLES, NUM_CHANNELS), np.float32), np.zeros(NUM_UNITS, np.int64)
    _bench(benchmark, k.accumulate_sums_cpu, data["traces"], data["peaks"], data["units"], NBEFORE, NAFTER, sums,
           counts)


@pytest.mark.benchmark(group="accumulate_sums")
def test_accumulate_sums_numpy(benchmark, data):
    """``np.add.at``: the obvious vectorised NumPy, but an unbuffered scatter (slow)."""
    sums = np.zeros((NUM_UNITS, NSAMPLES, NUM_CHANNELS), np.float32)

    def numpy_sums(traces, peaks, units):
        windows = traces[peaks[:, None] + np.arange(-NBEFORE, NAFTER)[None, :]].astype(np.float32)
        np.add.at(sums, units, windows)

    _bench(benchmark, numpy_sums, data["traces"], data["peaks"], data["units"])


@pytest.mark.benchmark(group="accumulate_sums")
def test_accumulate_sums_numpy_per_unit(benchmark, data):
    """The fair NumPy baseline: a loop over units, each summing its windows with one ``sum``."""
    sums = np.zeros((NUM_UNITS, NSAMPLES, NUM_CHANNELS), np.float32)
    order = np.argsort(data["units"], kind="stable")
    bounds = np.searchsorted(data["units"][order], np.arange(NUM_UNITS + 1))

    def numpy_per_unit(traces, peaks):
        offsets = np.arange(-NBEFORE, NAFTER)
        for u in range(NUM_UNITS):
            mine = peaks[order[bounds[u]:bounds[u + 1]]]
            if mine.size:
                sums[u] += traces[mine[:, None] + offsets[None, :]].sum(axis=0, dtype=np.float32)

    _bench(benchmark, numpy_per_unit, data["traces"], data["peaks"])


# --- templates of stored waveforms (unit-major buffer) ------------------------------------------
@pytest.fixture(scope="module")
def stored():
    rng = np.random.default_rng(1)
    counts = np.full(NUM_UNITS, 30)
    waveforms = rng.normal(0, 20, (int(counts.sum()), NSAMPLES, NUM_CHANNELS)).astype(np.float32)
    return waveforms, np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)


@pytest.mark.benchmark(group="waveform_sums")
def test_waveform_sums_kernel(benchmark, stored):
    waveforms, bounds = stored
    shape = (NUM_UNITS, NSAMPLES, NUM_CHANNELS)
    _bench(benchmark, k.waveform_sums_cpu, waveforms, bounds, np.zeros(shape), np.zeros(shape))


@pytest.mark.benchmark(group="waveform_sums")
def test_waveform_sums_numpy(benchmark, stored):
    waveforms, bounds = stored

    def numpy_moments(waveforms, bounds):
        return [(waveforms[a:b].sum(axis=0, dtype=np.float64), np.square(waveforms[a:b], dtype=np.float64).sum(axis=0))
                for a, b in zip(bounds[:-1], bounds[1:])]

    _bench(benchmark, numpy_moments, waveforms, bounds)


# --- accumulate templates ----------------------------------------------------------------------
@pytest.mark.benchmark(group="accumulate")
def test_accumulate_kernel(benchmark, data):
    shape = (NUM_UNITS, NSAMPLES, NUM_CHANNELS)
    sums, sumsqs, counts = np.zeros(shape), np.zeros(shape), np.zeros(NUM_UNITS, np.int64)
    _bench(
        benchmark, k.accumulate_templates_cpu, data["traces"], data["peaks"], data["units"], NBEFORE, NAFTER,
        sums, sumsqs, counts,
    )


@pytest.mark.benchmark(group="accumulate")
def test_accumulate_numpy(benchmark, data):
    shape = (NUM_UNITS, NSAMPLES, NUM_CHANNELS)
    sums, sumsqs, counts = np.zeros(shape), np.zeros(shape), np.zeros(NUM_UNITS, np.int64)

    def numpy_accumulate(traces, peaks, units):
        offsets = np.arange(-NBEFORE, NAFTER)
        for u in range(NUM_UNITS):
            p = peaks[units == u]
            wfs = traces[p[:, None] + offsets[None, :]].astype(np.float64)
            sums[u] += wfs.sum(axis=0)
            sumsqs[u] += (wfs * wfs).sum(axis=0)
            counts[u] += p.size

    _bench(benchmark, numpy_accumulate, data["traces"], data["peaks"], data["units"])


# --- extremum and sparsity ---------------------------------------------------------------------
@pytest.mark.benchmark(group="extremum")
def test_extremum_kernel(benchmark, data):
    outs = np.empty(NUM_UNITS, np.int64), np.empty(NUM_UNITS, np.float32), np.empty(NUM_UNITS, np.int64)
    _bench(benchmark, k.template_extremum_cpu, data["templates"], "neg", NBEFORE, *outs)


@pytest.mark.benchmark(group="extremum")
def test_extremum_numpy(benchmark, data):
    def numpy_extremum(templates):
        amps = templates.min(axis=1)
        chans = amps.argmin(axis=1)
        shifts = templates[np.arange(NUM_UNITS), :, chans].argmin(axis=1) - NBEFORE
        return chans, amps[np.arange(NUM_UNITS), chans], shifts

    _bench(benchmark, numpy_extremum, data["templates"])


@pytest.mark.benchmark(group="best-channels")
def test_best_channels_kernel(benchmark, data):
    amps = data["templates"].min(axis=1)
    _bench(benchmark, k.best_channels_sparsity_cpu, amps, 32, np.empty(amps.shape, bool))


@pytest.mark.benchmark(group="best-channels")
def test_best_channels_numpy(benchmark, data):
    amps = data["templates"].min(axis=1)

    def numpy_best(amps):
        mask = np.zeros(amps.shape, bool)
        order = np.argsort(-np.abs(amps), axis=1, kind="stable")[:, :32]
        np.put_along_axis(mask, order, True, axis=1)
        return mask

    _bench(benchmark, numpy_best, amps)


@pytest.mark.benchmark(group="radius")
def test_radius_kernel(benchmark, data):
    ext = np.arange(NUM_UNITS, dtype=np.int64) * 3
    _bench(benchmark, k.radius_sparsity_cpu, data["locations"], ext, 60.0, np.empty((NUM_UNITS, NUM_CHANNELS), bool))


@pytest.mark.benchmark(group="radius")
def test_radius_numpy(benchmark, data):
    ext = np.arange(NUM_UNITS, dtype=np.int64) * 3

    def numpy_radius(locations, ext):
        return np.linalg.norm(locations[None, :, :] - locations[ext][:, None, :], axis=2) <= 60.0

    _bench(benchmark, numpy_radius, data["locations"], ext)


# --- mad ---------------------------------------------------------------------------------------
@pytest.mark.benchmark(group="mad")
def test_mad_kernel(benchmark, data):
    _bench(benchmark, k.mad_cpu, data["traces"], np.empty(NUM_CHANNELS))


@pytest.mark.benchmark(group="mad")
def test_mad_numpy(benchmark, data):
    def numpy_mad(traces):
        x = traces.astype(np.float64)
        return np.median(np.abs(x - np.median(x, axis=0)), axis=0)

    _bench(benchmark, numpy_mad, data["traces"])
