"""Accumulate job: template mean (and std) of every spike of ``spikes``, storing no waveform.

Per block, the block's spikes are grouped by unit on the host (a stable sort: time order within a
unit) and the window sums run on the backend. With the std, sums are shifted by one reference
window per unit, read before the run (:meth:`AccumulateJob.prepare`): the unit's first window
inside its segment (its first window of all when every one crosses an edge). The std keeps its
precision and identical windows give exactly 0. Sums are taken on raw samples and scaled once, on
the backend, by ``templates_from_sums``. Every task and the GPU run share the reference, so
partial sums are simply added: with integer samples (and an integer reference) every sum is
exact in float64 whatever the order of addition, and the job is ``order_free``. The edge block
(windows partly outside the segment) keeps its own sums, added last, when its fill values (the raw
value that scales to 0 µV) are not integers.

When every value is an integer (``raw_moments``: the job is order-free and so is its edge block),
the std job adds the windows unshifted, as int64 sums and sums of squares
(``accumulate_moments``), and ``templates_from_sums`` shifts them by the reference exactly at the
end: the same bits as shifted float64 sums, for a widening load, a multiply and two adds per
sample instead of a conversion, a subtraction, a multiply and two float adds.
"""
from __future__ import annotations

import numpy as np

from .gather import edge_windows
from .job import BlockData, BlockJob

__all__ = ["AccumulateJob"]


class AccumulateJob(BlockJob):
    """Per unit sums (and shifted sums of squares) of the windows of ``spikes``.

    Parameters
    ----------
    spikes : np.ndarray
        Spike vector, sorted by segment then sample.
    num_units : int
        Units (``spikes["unit_index"]`` lies in ``[0, num_units)``).
    nbefore, nafter : int
        Window.
    num_channels : int
        Channels of the recording.
    gains, offsets : np.ndarray, optional
        ``(num_channels,)`` gains and offsets to µV: results in µV (raw sums scaled once at the
        end); None for raw units.
    with_std : bool
        Also the std (else means only, a quarter of the accumulator traffic).
    sums_dtype : {"float64", "float32"}
        dtype of the sums of a means-only job (float32 where exact: raw int16 of few spikes).
    sample_dtype : dtype-like, optional
        dtype of the recording's samples. Integers whose sums (and sums of squares, with the std)
        of the busiest unit fit the mantissa of ``sums_dtype`` are added exactly in any order: the
        job is then ``order_free`` (and ``edge_order_free`` when the edge windows' fill values
        are integers too, within the dtype's range). Such a std job adds int64 raw moments
        (``raw_moments``).
    result_dtype : {"float64", "float32"}
        dtype of the mean and std the reduce returns (float32: the float64 values rounded once).
    job_name, stage : str
        The public call and its stage, for progress bars and errors.
    """

    merges_blocks = True

    def __init__(self, spikes: np.ndarray, num_units: int, nbefore: int, nafter: int, num_channels: int,
                 gains: np.ndarray | None = None, offsets: np.ndarray | None = None, with_std: bool = True,
                 sums_dtype: str = "float64", sample_dtype=None, result_dtype: str = "float64",
                 job_name: str = "compute_templates", stage: str = "") -> None:
        self.spikes = spikes
        self.num_units = int(num_units)
        self.nbefore, self.nafter = int(nbefore), int(nafter)
        self.shape = (self.num_units, self.nbefore + self.nafter, int(num_channels))
        self.scaled = gains is not None
        if self.scaled:
            self._gains = np.ascontiguousarray(gains, "float64")
            self._offsets = np.zeros(self.shape[2]) if offsets is None else np.ascontiguousarray(offsets, "float64")
        self.with_std = bool(with_std)
        self.sums_dtype = "float64" if with_std else str(np.dtype(sums_dtype))
        self.order_free = self._exact_in_any_order(sample_dtype)
        fill = self._edge_fill()
        self.edge_order_free = self.order_free and _integers_of(fill, sample_dtype)
        self.raw_moments = self.with_std and self.edge_order_free
        if np.dtype(result_dtype) not in (np.dtype("float64"), np.dtype("float32")):
            raise ValueError(f"result_dtype={result_dtype!r}: allowed 'float64', 'float32'")
        self.result_dtype = str(np.dtype(result_dtype))
        self.job_name, self.stage = job_name, stage
        self._ref: np.ndarray | None = None

    def state_bytes(self, num_channels: int) -> int:
        # sums, sumsqs and, unless the moments are raw, the worker's copy of the reference (8 bytes each)
        arrays = (2 if self.raw_moments else 3) if self.with_std else 1
        return arrays * int(np.prod(self.shape)) * np.dtype(self.sums_dtype).itemsize

    def prepare(self, recording) -> None:
        """Read the reference window of each unit (with the std): its first spike whose window
        lies inside the segment, else its first spike (edge-filled as :meth:`edge_traces`), else 0.

        Parameters
        ----------
        recording : BaseRecording
        """
        if not self.with_std or self._ref is not None:
            return
        from .blocks import edge_positions

        spikes = self.spikes
        num_samples = [recording.get_num_samples(i) for i in range(recording.get_num_segments())]
        interior = np.ones(spikes.size, dtype=bool)
        interior[edge_positions(spikes, num_samples, self.nbefore, self.nafter)] = False
        units = spikes["unit_index"]
        ref = np.zeros(self.shape, "float64")
        # per unit, its first interior spike, else its first spike (spikes are in time order)
        positions = np.arange(spikes.size)
        none = spikes.size
        first_inside = np.full(self.num_units, none)
        np.minimum.at(first_inside, units[interior], positions[interior])
        first_any = np.full(self.num_units, none)
        np.minimum.at(first_any, units, positions)
        first = np.where(first_inside < none, first_inside, first_any)
        first = first[first < none]
        inside = first[interior[first]]
        for pos in inside.tolist():
            start = int(spikes["sample_index"][pos]) - self.nbefore
            ref[spikes["unit_index"][pos]] = recording.get_traces(
                segment_index=int(spikes["segment_index"][pos]), start_frame=start,
                end_frame=start + self.shape[1], return_scaled=False)
        outside = first[~interior[first]]
        if outside.size:
            windows, _, _ = self.edge_traces(recording, outside)
            ref[spikes["unit_index"][outside]] = windows.reshape((outside.size,) + self.shape[1:])
        self._ref = ref

    def init_worker(self, backend, recording) -> dict:
        ctx = {"backend": backend}
        if self.with_std:
            if self._ref is None:  # a job run without run_block_job's prepare
                self.prepare(recording)
            if not self.raw_moments:  # raw moments are shifted at the end, by reduce
                ctx["ref"] = backend.asarray(self._ref)
        return ctx

    def start(self, ctx: dict) -> dict:
        be = ctx["backend"]
        dtype = "int64" if self.raw_moments else self.sums_dtype
        state = {"sums": be.zeros(self.shape, dtype), "counts": be.zeros((self.num_units,), "int64")}
        if self.with_std:
            state["sumsqs"] = be.zeros(self.shape, dtype)
        return state

    def process(self, ctx: dict, state: dict, block: BlockData) -> None:
        n = block.positions.size
        if n == 0:
            return
        be, stream = ctx["backend"], block.stream
        units = self.spikes["unit_index"][block.positions]
        order = np.argsort(units, kind="stable")
        peaks = np.ascontiguousarray(block.peaks[order])
        bounds = np.searchsorted(units[order], np.arange(self.num_units + 1)).astype("int64")
        peaks_dev = be.asarray(peaks, stream=stream)
        bounds_dev = be.asarray(bounds, stream=stream)
        if not self.with_std:
            be.kernels.accumulate_sums(block.traces, peaks_dev, bounds_dev, self.nbefore, self.nafter, state["sums"],
                                       state["counts"], stream=stream, checked=True)
            return
        if self.raw_moments:
            be.kernels.accumulate_moments(block.traces, peaks_dev, bounds_dev, self.nbefore, self.nafter,
                                          state["sums"], state["sumsqs"], state["counts"], stream=stream, checked=True)
            return
        be.kernels.accumulate_templates(block.traces, peaks_dev, bounds_dev, self.nbefore, self.nafter, ctx["ref"],
                                        state["sums"], state["sumsqs"], state["counts"], stream=stream, checked=True)

    def reduce(self, partials: list, backend, keep_on_backend: bool = False) -> tuple:
        """Mean and std (None for a means-only job), in ``result_dtype``, from the partial sums.

        Parameters
        ----------
        partials : list of dict
            Task states in task order (one, possibly on the device, from the GPU path).
        backend : Backend
            Where the partials are; the templates are computed there.
        keep_on_backend : bool
            Return the results as arrays of ``backend`` (a sparsity estimate continues there).

        Returns
        -------
        tuple
            ``(mean, std)``.
        """
        if not partials:
            partials = [self.start({"backend": backend})]
        total = partials[0] if len(partials) == 1 else self._combine(partials)
        stream = self.stream
        mean = backend.empty(self.shape, self.result_dtype, stream=stream)
        std = backend.empty(self.shape, self.result_dtype, stream=stream) if self.with_std else None
        scaling = {}
        if self.scaled:
            scaling = {"gains": backend.asarray(self._gains, stream=stream),
                       "offsets": backend.asarray(self._offsets, stream=stream)}
        ref = None
        if self.with_std:
            ref = backend.asarray(np.zeros(self.shape) if self._ref is None else self._ref, stream=stream)
        backend.kernels.templates_from_sums(total["sums"], total.get("sumsqs"), total["counts"], mean, std, ref,
                                            stream=stream, **scaling)
        if keep_on_backend:
            return mean, std
        return backend.to_host(mean, stream=stream), None if std is None else backend.to_host(std, stream=stream)

    def _combine(self, partials: list) -> dict:
        """Add host partials of several tasks (in place, into the first; every task used the same
        reference windows)."""
        # a Dask result may arrive read-only: added to in place only when writable
        total = {k: v.copy() if isinstance(v, np.ndarray) and not v.flags.writeable else v
                 for k, v in partials[0].items()}
        for part in partials[1:]:
            for key, value in part.items():
                total[key] += value
        return total

    def edge_traces(self, recording, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
        """Raw windows (float64) of the edge spikes; outside the segment, the raw value that scales
        to 0 (``-offset / gain``), so that the final scaling gives SpikeInterface's zeros."""
        windows = edge_windows(recording, self.spikes[positions], self.nbefore, self.nafter, False,
                               fill_raw=self._edge_fill())
        nsamples = self.nbefore + self.nafter
        peaks = np.arange(positions.size, dtype="int64") * nsamples + self.nbefore
        return windows.reshape(-1, windows.shape[2]), peaks, False

    def _exact_in_any_order(self, sample_dtype) -> bool:
        """Integer samples whose sums stay within the mantissa of the sums for every unit."""
        if sample_dtype is None or np.dtype(sample_dtype).kind not in "iu":
            return False
        bits = 8 * np.dtype(sample_dtype).itemsize  # |sample| and |sample - ref| < 2**bits
        busiest = int(np.bincount(self.spikes["unit_index"]).max()) if self.spikes.size else 1
        mantissa = np.finfo(self.sums_dtype).nmant + 1
        return busiest.bit_length() + (2 * bits if self.with_std else bits) <= mantissa

    def _edge_fill(self) -> np.ndarray:
        """The raw value of each channel that scales to 0 µV (0 for a job in raw units)."""
        fill = np.zeros(self.shape[2])
        if self.scaled:
            nonzero = self._gains != 0
            fill[nonzero] = -self._offsets[nonzero] / self._gains[nonzero]
        return fill

    def finish(self, ctx: dict, state: dict) -> dict:
        return state


def _integers_of(values: np.ndarray, integer_dtype) -> bool:
    """Whether every value is an integer within the range of ``integer_dtype``."""
    info = np.iinfo(integer_dtype)
    return bool(np.array_equal(values, np.round(values)) and np.all((values >= info.min) & (values <= info.max)))
