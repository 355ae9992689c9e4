"""Chunked waveform gathering and template accumulation on the NumPy or CUDA backend.

Workers are module-level functions so that every engine (in-process, threads, processes,
Dask) runs them unchanged. Spikes whose window crosses a segment edge are kept, as in
SpikeInterface: their waveform is partially filled (samples outside the segment are zero) and
they count in template means. The chunk workers and the GPU path take the interior spikes; the
few edge spikes are cut on the host by :func:`edge_windows`, the same way for every backend.
"""
from __future__ import annotations

import numpy as np

from .sorting import BaseSorting


def select_random_spikes(sorting: BaseSorting, max_spikes_per_unit: int | None, seed: int | None = None
                         ) -> np.ndarray:
    """Indices into ``sorting.to_spike_vector()`` of at most ``max_spikes_per_unit`` spikes per unit.

    Units are visited in order and each draws ``rng.choice(..., replace=False, shuffle=False)``
    from ``numpy.random.default_rng(seed)`` over its spikes (segment then time order), the
    selection rule of SpikeInterface's "uniform" random spikes, so the same seed selects the
    same spikes in both tools. ``None`` keeps every spike.

    Parameters
    ----------
    sorting : BaseSorting
        The sorting.
    max_spikes_per_unit : int or None
        Spikes kept per unit (None: all).
    seed : int, optional
        Seed of the draw.

    Returns
    -------
    np.ndarray
        Sorted int64 indices into the spike vector.
    """
    spikes = sorting.to_spike_vector()
    if max_spikes_per_unit is None:
        return np.arange(spikes.size, dtype="int64")
    if max_spikes_per_unit < 1:
        raise ValueError(f"max_spikes_per_unit={max_spikes_per_unit}: give an int >= 1 or None (all spikes)")
    rng = np.random.default_rng(seed)
    order = np.argsort(spikes["unit_index"], kind="stable")
    bounds = np.searchsorted(spikes["unit_index"][order], np.arange(sorting.get_num_units() + 1))
    selected = []
    for u in range(sorting.get_num_units()):
        candidates = order[bounds[u]:bounds[u + 1]]
        selected.append(rng.choice(candidates, size=min(max_spikes_per_unit, candidates.size), replace=False,
                                   shuffle=False))
    return np.sort(np.concatenate(selected)).astype("int64") if selected else np.zeros(0, "int64")


def _segment_slices(spikes: np.ndarray, num_segments: int) -> list[tuple[int, int]]:
    bounds = np.searchsorted(spikes["segment_index"], np.arange(num_segments + 1))
    return [(int(bounds[i]), int(bounds[i + 1])) for i in range(num_segments)]


def edge_spike_positions(spikes: np.ndarray, recording, nbefore: int, nafter: int) -> np.ndarray:
    """Positions in ``spikes`` whose window ``[p - nbefore, p + nafter)`` crosses an edge of its
    segment of ``recording``."""
    num_samples = [recording.get_num_samples(i) for i in range(recording.get_num_segments())]
    sizes = np.asarray(num_samples, dtype="int64")[spikes["segment_index"]]
    samples = spikes["sample_index"].astype("int64")
    return np.flatnonzero((samples < nbefore) | (samples + nafter > sizes))


def edge_windows(recording, spikes: np.ndarray, nbefore: int, nafter: int, return_scaled: bool) -> np.ndarray:
    """All-channel windows of (edge) spikes, partially filled: samples outside the segment are 0.

    Scaled windows are float32 µV computed as the kernels do (``float32(x) * gain + offset``),
    so an edge spike's samples equal those the kernels would give; unscaled ones keep the
    recording's dtype.
    """
    dtype = np.dtype("float32") if return_scaled else np.dtype(recording.get_dtype())
    out = np.zeros((spikes.size, nbefore + nafter, recording.get_num_channels()), dtype=dtype)
    if return_scaled:
        gains, offsets = recording._scaling(slice(None))
    for k, spike in enumerate(spikes):
        segment_index, first = int(spike["segment_index"]), int(spike["sample_index"]) - nbefore
        start = max(first, 0)
        end = min(first + nbefore + nafter, recording.get_num_samples(segment_index))
        if end <= start:
            continue
        raw = recording.get_traces(segment_index=segment_index, start_frame=start, end_frame=end,
                                   return_scaled=False)
        out[k, start - first:end - first] = raw.astype("float32") * gains + offsets if return_scaled else raw
    return out


def place_edge_waveforms(buffer: np.ndarray, recording, spikes: np.ndarray, rows: np.ndarray, nbefore: int,
                         nafter: int, return_scaled: bool, sparse_channels: np.ndarray | None) -> None:
    """Write the partially filled waveforms of the edge spikes of ``spikes`` into their ``buffer`` rows."""
    positions = edge_spike_positions(spikes, recording, nbefore, nafter)
    if positions.size == 0:
        return
    windows = edge_windows(recording, spikes[positions], nbefore, nafter, return_scaled)
    for window, position in zip(windows, positions):
        if sparse_channels is None:
            buffer[rows[position]] = window
        else:
            channels = sparse_channels[spikes["unit_index"][position]]
            channels = channels[channels >= 0]
            buffer[rows[position], :, :channels.size] = window[:, channels]


def _chunk_spikes(ctx: dict, segment_index: int, start_frame: int, end_frame: int) -> tuple[int, int]:
    """Range [l0, l1) in ctx["spikes"] of interior spikes (window inside the segment) with
    start <= sample < end."""
    s0, s1 = ctx["segment_slices"][segment_index]
    samples = ctx["spikes"]["sample_index"][s0:s1]
    size = ctx["num_samples"][segment_index]
    lo = max(start_frame, ctx["nbefore"])
    hi = min(end_frame, size - ctx["nafter"] + 1)
    if hi <= lo:
        return s0, s0
    i0, i1 = np.searchsorted(samples, [lo, hi])
    return s0 + int(i0), s0 + int(i1)


def _device_traces(ctx: dict, segment_index: int, start: int, end: int):
    """Traces [start, end) on the backend, scaled to float32 µV when asked."""
    be = ctx["backend"]
    traces = be.asarray(_raw_traces(ctx, segment_index, start, end))
    if ctx["return_scaled"]:
        # one scaled buffer per worker, grown when needed: no fresh pages (page faults) per chunk
        buf = ctx.get("scaled_buffer")
        if buf is None or buf.shape[0] < traces.shape[0]:
            buf = ctx["scaled_buffer"] = be.empty(tuple(traces.shape), "float32")
        out = buf[:traces.shape[0]]
        be.kernels.scale(traces, ctx["gains"], ctx["offsets"], out)
        traces = out
    return traces


def _raw_traces(ctx: dict, segment_index: int, start: int, end: int) -> np.ndarray:
    """Raw traces [start, end) on the host (C order).

    A binary file is read with positional reads into one buffer per worker, reused chunk after
    chunk: a fresh array per chunk would pay a page fault per 4 kB page on every chunk.
    """
    from ..streaming.readers import make_reader

    readers = ctx.setdefault("readers", {})
    if segment_index not in readers:
        try:
            readers[segment_index] = make_reader(ctx["recording"], segment_index, prefer="pread")
        except ValueError:  # not a binary file in time-major layout
            readers[segment_index] = None
    reader = readers[segment_index]
    if reader is None:
        raw = ctx["recording"].get_traces(segment_index=segment_index, start_frame=start, end_frame=end,
                                          return_scaled=False)
        return np.ascontiguousarray(raw)
    buf = ctx.get("raw_buffer")
    if buf is None or buf.shape[0] < end - start:
        buf = ctx["raw_buffer"] = np.empty((end - start, ctx["recording"].get_num_channels()), reader.dtype)
    reader.read_range(start, end, buf)
    return buf[:end - start]


def _common_ctx(recording, spikes, nbefore, nafter, return_scaled, backend_name) -> dict:
    from ..backends import get_backend

    if isinstance(recording, dict):
        from .base import BaseExtractor

        recording = BaseExtractor.from_dict(recording)
    be = get_backend(backend_name)
    ctx = {"recording": recording, "spikes": spikes, "nbefore": int(nbefore), "nafter": int(nafter),
           "return_scaled": bool(return_scaled), "backend": be,
           "segment_slices": _segment_slices(spikes, recording.get_num_segments()),
           "num_samples": [recording.get_num_samples(i) for i in range(recording.get_num_segments())]}
    if return_scaled:
        gains, offsets = recording._scaling(slice(None))
        ctx["gains"] = be.asarray(np.ascontiguousarray(gains, dtype="float32"))
        ctx["offsets"] = be.asarray(np.ascontiguousarray(offsets, dtype="float32"))
    return ctx


# ---------------------------------------------------------------------- gather sampled waveforms
def init_gather_worker(recording, spikes, rows, nbefore, nafter, return_scaled, sparse_channels, buffer,
                       buffer_path, backend_name, out_spec: tuple | None = None) -> dict:
    """Worker context for :func:`gather_chunk`.

    Waveforms go to ``buffer`` (shared RAM: in-process and threads), to the npy memmap at
    ``buffer_path`` (processes on this machine), or, when both are None, back to the caller as
    results (Dask workers, which may run on other machines); ``out_spec`` is then
    ``(nsamples, width, dtype)`` of a waveform.
    """
    ctx = _common_ctx(recording, spikes, nbefore, nafter, return_scaled, backend_name)
    ctx["rows"] = rows
    ctx["sparse_channels"] = sparse_channels
    if buffer is None and buffer_path is not None:
        buffer = np.asarray(np.load(buffer_path, mmap_mode="r+"))
    ctx["buffer"] = buffer
    ctx["out_spec"] = out_spec
    be = ctx["backend"]
    if sparse_channels is not None:
        ctx["sparse_channels_device"] = be.asarray(sparse_channels)
    return ctx


def gather_chunk(segment_index: int, start_frame: int, end_frame: int, ctx: dict):
    """Gather the waveforms of the chunk's selected spikes into their buffer rows; return the count.

    Without a buffer (Dask), return ``(rows, waveforms)`` for the caller to place.
    """
    l0, l1 = _chunk_spikes(ctx, segment_index, start_frame, end_frame)
    if ctx["buffer"] is None:
        return _gather_to_result(ctx, segment_index, l0, l1)
    if l1 <= l0:
        return 0
    spikes = ctx["spikes"]
    be = ctx["backend"]
    start = int(spikes["sample_index"][l0]) - ctx["nbefore"]
    end = int(spikes["sample_index"][l1 - 1]) + ctx["nafter"]
    traces = be.asarray(_raw_traces(ctx, segment_index, start, end))
    peaks = (spikes["sample_index"][l0:l1] - start).astype("int64")
    buffer = ctx["buffer"]
    rows = ctx["rows"][l0:l1]
    on_host = be.name == "numpy"
    out = buffer if on_host else be.zeros((l1 - l0,) + buffer.shape[1:], buffer.dtype)
    out_rows = rows if on_host else np.arange(l1 - l0, dtype="int64")
    _gather_windows(ctx, traces, be.asarray(peaks), out, be.asarray(out_rows), l0, l1)
    if not on_host:
        buffer[rows] = be.to_host(out)
    return l1 - l0


def _gather_to_result(ctx: dict, segment_index: int, l0: int, l1: int) -> tuple[np.ndarray, np.ndarray]:
    nsamples, width, dtype = ctx["out_spec"]
    be = ctx["backend"]
    out = be.zeros((max(l1 - l0, 0), nsamples, width), dtype)
    if l1 > l0:
        spikes = ctx["spikes"]
        start = int(spikes["sample_index"][l0]) - ctx["nbefore"]
        end = int(spikes["sample_index"][l1 - 1]) + ctx["nafter"]
        traces = be.asarray(_raw_traces(ctx, segment_index, start, end))
        peaks = be.asarray((spikes["sample_index"][l0:l1] - start).astype("int64"))
        _gather_windows(ctx, traces, peaks, out, be.asarray(np.arange(l1 - l0, dtype="int64")), l0, l1)
    return ctx["rows"][l0:max(l0, l1)], be.to_host(out)


def _gather_windows(ctx: dict, raw_traces, peaks, out, out_rows, l0: int, l1: int) -> None:
    """Gather spikes ``[l0, l1)`` from raw traces into ``out`` rows, scaling only what is gathered."""
    be = ctx["backend"]
    scaling = (ctx["gains"], ctx["offsets"]) if ctx["return_scaled"] else (None, None)
    if ctx["sparse_channels"] is None:
        be.kernels.gather_waveforms(raw_traces, peaks, ctx["nbefore"], ctx["nafter"], out, out_rows, *scaling)
    else:
        units = be.asarray(np.ascontiguousarray(ctx["spikes"]["unit_index"][l0:l1]))
        be.kernels.gather_waveforms_sparse(raw_traces, peaks, ctx["nbefore"], ctx["nafter"], out, out_rows, units,
                                           ctx["sparse_channels_device"], *scaling)


# ---------------------------------------------------------------------- accumulate templates
def init_accumulate_worker(recording, spikes, nbefore, nafter, return_scaled, num_units, chunk_size,
                           backend_name, with_std: bool = True, sums_dtype: str = "float64") -> dict:
    """Worker context for :func:`accumulate_superchunk` (``with_std=False``: sums only, in ``sums_dtype``)."""
    ctx = _common_ctx(recording, spikes, nbefore, nafter, return_scaled, backend_name)
    ctx["num_units"] = int(num_units)
    ctx["chunk_size"] = int(chunk_size)
    ctx["with_std"] = bool(with_std)
    ctx["sums_dtype"] = sums_dtype
    return ctx


def accumulate_superchunk(segment_index: int, start_frame: int, end_frame: int, ctx: dict):
    """Sums, sums of squares (float64) and counts over [start, end), read chunk by chunk."""
    be = ctx["backend"]
    num_channels = ctx["recording"].get_num_channels()
    shape = (ctx["num_units"], ctx["nbefore"] + ctx["nafter"], num_channels)
    sums = be.zeros(shape, ctx["sums_dtype"])
    sumsqs = be.zeros(shape, "float64") if ctx["with_std"] else None
    counts = be.zeros((ctx["num_units"],), "int64")
    spikes = ctx["spikes"]
    for chunk_start in range(start_frame, end_frame, ctx["chunk_size"]):
        chunk_end = min(chunk_start + ctx["chunk_size"], end_frame)
        l0, l1 = _chunk_spikes(ctx, segment_index, chunk_start, chunk_end)
        if l1 <= l0:
            continue
        start = int(spikes["sample_index"][l0]) - ctx["nbefore"]
        end = int(spikes["sample_index"][l1 - 1]) + ctx["nafter"]
        traces = _device_traces(ctx, segment_index, start, end)
        peaks = be.asarray((spikes["sample_index"][l0:l1] - start).astype("int64"))
        units = be.asarray(np.ascontiguousarray(spikes["unit_index"][l0:l1]))
        accumulate_windows(be, traces, peaks, units, ctx["nbefore"], ctx["nafter"], sums, sumsqs, counts)
    return be.to_host(sums), None if sumsqs is None else be.to_host(sumsqs), be.to_host(counts)


def accumulate_windows(be, traces, peaks, units, nbefore: int, nafter: int, sums, sumsqs, counts) -> None:
    """Add windows to sums (and sums of squares unless ``sumsqs`` is None) on backend ``be``.

    Without squares the kernel moves half the accumulator bytes, which bound this job on a CPU.
    """
    if sumsqs is None:
        be.kernels.accumulate_sums(traces, peaks, units, nbefore, nafter, sums, counts)
    else:
        be.kernels.accumulate_templates(traces, peaks, units, nbefore, nafter, sums, sumsqs, counts)


def shares_memory(config) -> bool:
    """True when workers run in this process (in-process or threads) and can share RAM buffers."""
    return config.n_jobs == 1 or config.engine == "thread"


def check_engine_can_run(recording, config, job_name: str) -> None:
    """Processes and Dask rebuild the recording from its dict: it must be dumpable."""
    if not shares_memory(config):
        recording.check_dumpable(f"{job_name} with n_jobs={config.n_jobs} and engine={config.engine!r}")


def superchunks(recording, chunk_size: int, n_jobs: int, accumulator_bytes: int = 0,
                chunks_per_group: int = 16) -> list[tuple[int, int, int]]:
    """Groups of consecutive chunks, one task each: memory still bounded by ``chunk_size``.

    A task allocates, fills and returns accumulators of ``accumulator_bytes``; a group reads at
    least ``chunks_per_group`` chunks and at least 8 times those bytes of traces (so that with a
    thousand units the sums do not outweigh the traces), but no more than a share of the
    recording that still gives every worker two tasks.
    """
    total = recording.get_total_samples()
    bytes_per_frame = recording.get_num_channels() * np.dtype(recording.get_dtype()).itemsize
    wanted = max(chunk_size * chunks_per_group, -(-8 * int(accumulator_bytes) // max(1, bytes_per_frame)))
    group = max(chunk_size, min(wanted, -(-total // max(1, 2 * n_jobs))))
    group = -(-group // chunk_size) * chunk_size
    out = []
    for seg in range(recording.get_num_segments()):
        n = recording.get_num_samples(seg)
        out.extend((seg, s, min(s + group, n)) for s in range(0, n, group))
    return out


def accumulate_templates(recording, spikes: np.ndarray, num_units: int, nbefore: int, nafter: int,
                         return_scaled: bool, config, job_name: str = "compute_templates", with_std: bool = True,
                         stage: str = ""):
    """Mean and std templates (float64) of ``spikes`` without storing waveforms.

    Counts are the numbers of spikes per unit in ``spikes``; an edge spike adds its partially
    filled window (zeros outside the segment). With ``with_std=False`` only the sums are
    accumulated and the std returned is None.
    """
    from .job import run_chunks

    num_channels = recording.get_num_channels()
    shape = (num_units, nbefore + nafter, num_channels)
    total = [np.zeros(shape), np.zeros(shape) if with_std else None, np.zeros(num_units, "int64")]
    num_spikes = np.bincount(spikes["unit_index"], minlength=num_units)
    # sum the raw integer samples and scale once at the end, instead of scaling every sample:
    # sums of int16 (and their squares) are exact in float64, and in float32 for a mean of few spikes
    raw_dtype = np.dtype(recording.get_dtype())
    sum_raw = raw_dtype.kind in "iu" and (not with_std or raw_dtype.itemsize <= 2)
    exact_in_float32 = (sum_raw and not with_std and raw_dtype.itemsize <= 2
                        and int(num_spikes.max(initial=0)) * 2 ** (8 * raw_dtype.itemsize) <= 2**24)
    sums_dtype = "float32" if exact_in_float32 else "float64"
    scale_in_workers = return_scaled and not sum_raw

    def gather(result):
        total[0] += result[0]
        if with_std:
            total[1] += result[1]
        total[2] += result[2]

    streaming_backend = gpu_streaming_backend(config)
    if streaming_backend is not None:
        from .waveform_streaming import stream_accumulate

        total = list(stream_accumulate(recording, spikes, num_units, nbefore, nafter, scale_in_workers, config,
                                       streaming_backend, with_std=with_std, sums_dtype=sums_dtype))
    else:
        chunk_size = config.chunk_frames(recording)
        check_engine_can_run(recording, config, job_name)
        init_args = (recording, spikes, nbefore, nafter, scale_in_workers, num_units, chunk_size, config.backend,
                     with_std, sums_dtype)
        run_chunks(recording, accumulate_superchunk, init_accumulate_worker, init_args, job_kwargs=config,
                   job_name=job_name, stage=stage, gather_func=gather,
                   chunks=superchunks(recording, chunk_size, config.n_jobs,
                                      accumulator_bytes=(2 if with_std else 1) * 8 * int(np.prod(shape))))
    sums = np.asarray(total[0], dtype="float64")
    sumsqs = total[1]
    if return_scaled and sum_raw:
        # only interior spikes were accumulated (counts): each adds the offset at every sample
        gains, offsets = (x.astype("float64") for x in recording._scaling(slice(None)))
        interior = total[2][:, None, None].astype("float64")
        if with_std:  # sum (g x + o)^2 = g^2 sum x^2 + 2 g o sum x + n o^2
            sumsqs = sumsqs * gains**2 + 2.0 * gains * offsets * sums + interior * offsets**2
        sums = sums * gains + interior * offsets
    edge = _edge_sums(recording, spikes, num_units, nbefore, nafter, return_scaled)
    if edge is not None:
        sums = sums + edge[0]
        sumsqs = None if sumsqs is None else sumsqs + edge[1]
    if with_std:
        return _finish_templates((sums, sumsqs), spikes, num_units, shape)
    denominator = num_spikes.astype("float64")[:, None, None]
    return np.divide(sums, denominator, out=np.zeros(shape), where=denominator > 0), None


def gpu_streaming_backend(config):
    """The CUDA backend when it runs this job in-process on the GPU data path, else None.

    The GPU path runs in the calling process (the device parallelises); engine="dask" spreads
    chunks over workers (one per GPU) instead.
    """
    from ..backends import get_backend

    if config.backend == "numpy" or config.engine == "dask":
        return None
    backend = get_backend(config.backend)
    return backend if backend.name == "cuda" else None


def templates_from_waveform_buffer(buffer: np.ndarray, unit_indices: np.ndarray, num_units: int,
                                   dtype: str = "float64") -> tuple:
    """Mean and std (ddof=0, summed in float64, returned in ``dtype``) per unit of a unit-major
    waveform buffer (N, nsamples, K).

    ``unit_indices`` (sorted) gives the unit of each row; every waveform is read once.
    """
    from ..backends import get_backend

    be = get_backend("numpy")
    shape = (num_units,) + tuple(buffer.shape[1:])
    sums, sumsqs = np.zeros(shape), np.zeros(shape)
    bounds = np.searchsorted(unit_indices, np.arange(num_units + 1)).astype("int64")
    be.kernels.waveform_sums(buffer, bounds, sums, sumsqs)
    counts = np.diff(bounds)
    mean, std = np.empty(shape, dtype), np.empty(shape, dtype)
    be.kernels.templates_from_sums(sums, sumsqs, counts, mean, std)
    return mean, std


def _edge_sums(recording, spikes, num_units, nbefore, nafter, return_scaled) -> tuple | None:
    """Per-unit sums and sums of squares (float64) of the edge spikes' partial windows, or None."""
    positions = edge_spike_positions(spikes, recording, nbefore, nafter)
    if positions.size == 0:
        return None
    windows = edge_windows(recording, spikes[positions], nbefore, nafter, return_scaled).astype("float64")
    shape = (num_units,) + windows.shape[1:]
    sums, sumsqs = np.zeros(shape), np.zeros(shape)
    units = spikes["unit_index"][positions]
    np.add.at(sums, units, windows)
    np.add.at(sumsqs, units, windows * windows)
    return sums, sumsqs


def _finish_templates(total, spikes, num_units, shape):
    from ..backends import get_backend

    counts = np.bincount(spikes["unit_index"], minlength=num_units).astype("int64")
    be = get_backend("numpy")
    mean = np.zeros(shape, dtype="float64")
    std = np.zeros(shape, dtype="float64")
    be.kernels.templates_from_sums(total[0], total[1], counts, mean, std)
    return mean, std
