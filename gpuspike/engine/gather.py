"""Gather job: the window of every spike into a row of one output buffer (dense or sparse).

Each spike has its output row (``rows``); sparse jobs keep, for each unit, the channels of its row
of ``sparse_channels`` (padded with -1). Scaled jobs convert the gathered samples only
(``float32(x) * gain + offset``), never a whole block. Where the output lives is the source's
decision (:meth:`GatherJob.prepare_output`): one host array that threads share, a memmap that
worker processes open, a device array the GPU writes, or results sent back (Dask).

The templates of the gathered waveforms (:func:`templates_of_waveforms`) are computed where the
output lives, reading each waveform once.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .job import BlockData, BlockJob

__all__ = ["GatherJob", "edge_windows", "templates_of_waveforms"]


def edge_windows(recording, spikes: np.ndarray, nbefore: int, nafter: int, scaled: bool,
                 fill_raw: np.ndarray | None = None) -> np.ndarray:
    """All-channel windows of spikes that may cross a segment edge, partially filled.

    Samples outside the segment are 0 (SpikeInterface 0.105's rule), or, for raw windows, the
    per-channel ``fill_raw`` values (those that scale to 0). Scaled windows are float32 computed
    as the kernels do (``float32(x) * gain + offset``); raw ones keep the recording's dtype
    (float64 when ``fill_raw`` is given).

    Parameters
    ----------
    recording : BaseRecording
        The recording.
    spikes : np.ndarray
        The spikes (``sample_index``, ``segment_index``).
    nbefore, nafter : int
        Window.
    scaled : bool
        Windows in µV.
    fill_raw : np.ndarray, optional
        ``(channels,)`` float64 raw value written outside the segment.

    Returns
    -------
    np.ndarray
        ``(len(spikes), nbefore + nafter, channels)``.
    """
    if scaled:
        dtype = np.dtype("float32")
    elif fill_raw is not None:
        dtype = np.dtype("float64")
    else:
        dtype = np.dtype(recording.get_dtype())
    num_channels = recording.get_num_channels()
    out = np.zeros((spikes.size, nbefore + nafter, num_channels), dtype=dtype)
    if fill_raw is not None:
        out[:] = fill_raw
    if scaled:
        gains, offsets = recording._scaling(slice(None))
    for k, spike in enumerate(spikes):
        segment_index, first = int(spike["segment_index"]), int(spike["sample_index"]) - nbefore
        start = max(first, 0)
        end = min(first + nbefore + nafter, recording.get_num_samples(segment_index))
        if end <= start:
            continue
        raw = recording.get_traces(segment_index=segment_index, start_frame=start, end_frame=end,
                                   return_scaled=False)
        out[k, start - first:end - first] = raw.astype("float32") * gains + offsets if scaled else raw
    return out


class GatherJob(BlockJob):
    """Waveforms of ``spikes`` into rows ``rows`` of an output ``(num_rows, nbefore + nafter, width)``.

    Parameters
    ----------
    spikes : np.ndarray
        Spike vector, sorted by segment then sample.
    rows : np.ndarray
        int64 output row of each spike (distinct).
    num_rows : int
        Rows of the output.
    nbefore, nafter : int
        Window.
    width : int
        Channels per output row (all channels, or the widest unit's sparse channels).
    sparse_channels : np.ndarray or None
        ``(num_units, width)`` int64 channel indices per unit, padded with -1 (sparse jobs).
    scaled : bool
        Convert to µV on the way (the recording's gains and offsets).
    dtype : dtype-like
        Output dtype.
    job_name, stage : str
        The public call and its stage, for progress bars and errors.
    plan_mode : {"auto", "windows", "whole"}
        How blocks are planned.
    """

    def __init__(self, spikes: np.ndarray, rows: np.ndarray, num_rows: int, nbefore: int, nafter: int, width: int,
                 sparse_channels: np.ndarray | None, scaled: bool, dtype: Any, job_name: str = "gather",
                 stage: str = "", plan_mode: str = "auto") -> None:
        self.spikes = spikes
        self.rows = np.asarray(rows, dtype="int64")
        self.nbefore, self.nafter = int(nbefore), int(nafter)
        self.shape = (int(num_rows), self.nbefore + self.nafter, int(width))
        self.sparse_channels = None if sparse_channels is None else np.ascontiguousarray(sparse_channels, "int64")
        self.scaled = bool(scaled)
        self.dtype = np.dtype(dtype)
        self.job_name, self.stage = job_name, stage
        self.plan_mode = plan_mode
        self.placement = "shared"
        self.order_free = True  # each block's waveforms go to their own rows, whoever gathered them
        self.edge_order_free = True
        self._output = None
        self._output_path: str | None = None

    def __getstate__(self) -> dict:  # workers in other processes never receive the output itself
        state = dict(self.__dict__)
        state["_output"] = None
        return state

    def output_bytes(self) -> int:
        return int(np.prod(self.shape)) * self.dtype.itemsize

    def prepare_output(self, placement: str, backend, tmpdir=None) -> None:
        self.placement = placement
        # waveforms written in place: a task's blocks can be one (no per-block scratch to grow)
        self.merges_blocks = placement in ("shared", "file")
        if placement in ("shared", "host"):
            self._output = np.zeros(self.shape, self.dtype)
        elif placement == "device":
            self._output = backend.zeros(self.shape, self.dtype)
        elif placement == "file":
            path = Path(tmpdir) / "gathered.npy"
            np.lib.format.open_memmap(path, mode="w+", dtype=self.dtype, shape=self.shape).flush()
            self._output_path = str(path)
        elif placement != "return":
            raise ValueError(f"placement={placement!r}: allowed 'shared', 'host', 'device', 'file', 'return'")

    def init_worker(self, backend, recording) -> dict:
        ctx: dict = {"backend": backend}
        if self.scaled:
            gains, offsets = recording._scaling(slice(None))
            ctx["gains"] = backend.asarray(np.ascontiguousarray(gains, "float32"))
            ctx["offsets"] = backend.asarray(np.ascontiguousarray(offsets, "float32"))
        if self.sparse_channels is not None:
            ctx["sparse_channels"] = backend.asarray(self.sparse_channels)
        if self.placement in ("shared", "device"):
            ctx["target"] = self._output
        elif self.placement == "file":
            ctx["target"] = np.asarray(np.load(self._output_path, mmap_mode="r+"))
        else:
            ctx["target"] = None
        return ctx

    def start(self, ctx: dict) -> list:
        return []

    def process(self, ctx: dict, state: list, block: BlockData) -> None:
        n = block.positions.size
        if n == 0:
            return
        be, stream = ctx["backend"], block.stream
        rows = self.rows[block.positions]
        target = ctx["target"]
        if target is not None:
            out, out_rows = target, be.asarray(rows, stream=stream)
        else:
            out = be.zeros((n,) + self.shape[1:], self.dtype, stream=stream)
            out_rows = be.asarray(np.arange(n, dtype="int64"), stream=stream)
        scaling = (ctx["gains"], ctx["offsets"]) if self.scaled and not block.prescaled else (None, None)
        peaks = be.asarray(block.peaks, stream=stream)
        if self.sparse_channels is None:
            be.kernels.gather_waveforms(block.traces, peaks, self.nbefore, self.nafter, out, out_rows, *scaling,
                                        stream=stream, checked=True)
        else:
            units = be.asarray(np.ascontiguousarray(self.spikes["unit_index"][block.positions]), stream=stream)
            be.kernels.gather_waveforms_sparse(block.traces, peaks, self.nbefore, self.nafter, out, out_rows, units,
                                               ctx["sparse_channels"], *scaling, stream=stream, checked=True)
        if target is None:
            waveforms = be.to_host(out, stream=stream)  # the block's results: the only copy back
            if self.placement == "host":
                self._output[rows] = waveforms
            else:
                state.append((rows, waveforms))

    def finish(self, ctx: dict, state: list) -> list:
        return state

    def reduce(self, partials: list, backend) -> Any:
        """The output buffer: host array, or device array when it was placed on the device.

        Parameters
        ----------
        partials : list
            Per task: ``(rows, waveforms)`` results (``return`` placement), else empty lists.
        backend : Backend
            Where the partials are.

        Returns
        -------
        array
        """
        if self.placement == "return":
            output = np.zeros(self.shape, self.dtype)
            for part in partials:
                for rows, waveforms in part:
                    output[rows] = waveforms
            return output
        if self.placement == "file":
            return np.array(np.load(self._output_path, mmap_mode="r"))
        output, self._output = self._output, None
        return output

    def edge_traces(self, recording, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
        windows = edge_windows(recording, self.spikes[positions], self.nbefore, self.nafter, self.scaled)
        nsamples = self.nbefore + self.nafter
        peaks = np.arange(positions.size, dtype="int64") * nsamples + self.nbefore
        return windows.reshape(-1, windows.shape[2]), peaks, self.scaled


def templates_of_waveforms(waveforms, unit_bounds: np.ndarray, backend, dtype: str = "float32",
                           stream=None, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std (ddof=0) per unit of a waveform buffer, on the buffer's backend.

    Parameters
    ----------
    waveforms : array
        ``(N, nsamples, K)`` on ``backend``; unit ``u``'s rows are ``unit_bounds[u]:unit_bounds[u+1]``
        (a unit-major buffer), or ``rows[unit_bounds[u]:unit_bounds[u+1]]`` when ``rows`` is given.
    unit_bounds : np.ndarray
        ``(U + 1,)`` int64 (host).
    backend : Backend
        Where ``waveforms`` is.
    dtype : str
        dtype of the results.
    stream : DeviceStream, optional
        Stream of the work.
    rows : np.ndarray, optional
        ``(N,)`` int64 (host): the buffer's rows grouped by unit, e.g. the stable argsort of the rows'
        unit indices, for a buffer in spike order.

    Returns
    -------
    tuple of np.ndarray
        ``(mean, std)``, host arrays ``(U, nsamples, K)``; units without waveforms get zeros.
    """
    num_units = unit_bounds.size - 1
    if unit_bounds[0] != 0 or unit_bounds[-1] != waveforms.shape[0] or np.any(np.diff(unit_bounds) < 0):
        raise ValueError(f"unit_bounds must rise from 0 to {waveforms.shape[0]}, got {unit_bounds}")
    shape = (num_units,) + tuple(waveforms.shape[1:])
    ref = backend.empty(shape, "float64", stream=stream)
    sums = backend.zeros(shape, "float64", stream=stream)
    sumsqs = backend.zeros(shape, "float64", stream=stream)
    bounds = backend.asarray(np.ascontiguousarray(unit_bounds, "int64"), stream=stream)
    if rows is not None:
        rows = np.ascontiguousarray(rows, "int64")
        if rows.shape != (waveforms.shape[0],):
            raise ValueError(f"rows has shape {rows.shape}, expected ({waveforms.shape[0]},)")
        rows = backend.asarray(rows, stream=stream)
    backend.kernels.waveform_sums(waveforms, bounds, ref, sums, sumsqs, stream=stream, checked=True, rows=rows)
    counts = backend.asarray(np.diff(unit_bounds).astype("int64"), stream=stream)
    mean = backend.empty(shape, dtype, stream=stream)
    std = backend.empty(shape, dtype, stream=stream)
    backend.kernels.templates_from_sums(sums, sumsqs, counts, mean, std, ref, stream=stream)
    return backend.to_host(mean, stream=stream), backend.to_host(std, stream=stream)
