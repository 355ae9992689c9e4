"""Noise job: a statistic per channel of each random chunk, averaged over the chunks.

As SpikeInterface 0.105's ``get_noise_levels``: for every random slice ``[start, start + L)``,
the median absolute deviation divided by 0.6745 (``"mad"``), the standard deviation (``"std"``)
or the root mean square (``"rms"``) of each channel, in µV when scaled; then the mean over all
slices. The slices are the job's "spikes" (a window of ``L`` frames after each start), so they
are planned and read like spike windows; the MAD runs on the backend (one thread per channel on a
GPU), the other statistics on the host. The MAD of integer traces is taken on the raw values and
multiplied by ``|gain|`` (the MAD is equivariant under ``x * gain + offset``): exact, and no scaled
copy of the chunk is made.
"""
from __future__ import annotations

import numpy as np

from .job import BlockData, BlockJob

__all__ = ["MAD_TO_STD", "NOISE_METHODS", "NoiseJob"]

#: MAD of a standard normal distribution: noise = MAD / this
MAD_TO_STD = 0.6744897501960817
NOISE_METHODS = ("mad", "std", "rms")


class NoiseJob(BlockJob):
    """Noise levels of a recording from slices ``(segment_index, start_frame, end_frame)`` of one length.

    Parameters
    ----------
    slices : list of tuple
        ``(segment_index, start, end)``, all of the same length, sorted by segment then start.
    method : {"mad", "std", "rms"}
        Statistic of each chunk.
    gains, offsets : np.ndarray, optional
        float32 gains and offsets: statistics in µV (the chunk is scaled first); None: raw units.
    job_name, stage : str
        The public call and its stage, for progress bars and errors.
    """

    def __init__(self, slices: list, method: str = "mad", gains: np.ndarray | None = None,
                 offsets: np.ndarray | None = None, job_name: str = "get_noise_levels", stage: str = "") -> None:
        if method not in NOISE_METHODS:
            raise ValueError(f"method={method!r}: allowed values are {NOISE_METHODS}")
        lengths = {int(e) - int(s) for _, s, e in slices}
        if len(lengths) != 1 or min(lengths) < 1:
            raise ValueError(f"noise slices must all have the same length >= 1, got lengths {sorted(lengths)}")
        self.length = lengths.pop()
        spikes = np.zeros(len(slices), dtype=[("sample_index", "int64"), ("unit_index", "int64"),
                                              ("segment_index", "int64")])
        spikes["segment_index"] = [s[0] for s in slices]
        spikes["sample_index"] = [s[1] for s in slices]
        self.spikes = spikes
        self.nbefore, self.nafter = 0, self.length
        self.method = method
        self.scaled = gains is not None
        if self.scaled:
            self._gains = np.ascontiguousarray(gains, "float32")
            self._offsets = np.ascontiguousarray(offsets, "float32")
        self.job_name, self.stage = job_name, stage

    def init_worker(self, backend, recording) -> dict:
        ctx: dict = {"backend": backend}
        if self.scaled:
            ctx["gains"] = backend.asarray(self._gains)
            ctx["offsets"] = backend.asarray(self._offsets)
        return ctx

    def start(self, ctx: dict) -> dict:
        be = ctx["backend"]
        num = self.spikes.size
        state: dict = {"done": np.zeros(num, dtype=bool), "host": None, "device": None}
        if self.method == "mad":
            state["device"] = be.zeros((num, 0), "float64")  # sized at the first block (channels)
        return state

    def process(self, ctx: dict, state: dict, block: BlockData) -> None:
        if block.positions.size == 0:
            return
        be, stream = ctx["backend"], block.stream
        num_channels = block.traces.shape[1]
        if self.method == "mad" and state["device"].shape[1] != num_channels:
            state["device"] = be.zeros((self.spikes.size, num_channels), "float64", stream=stream)
            state["scratch"] = be.empty((num_channels, self.length), "float64", stream=stream)
        if self.scaled and "scaled" not in state and not (
                self.method == "mad" and np.dtype(block.traces.dtype).kind in "iu"):
            state["scaled"] = be.empty((self.length, num_channels), "float32", stream=stream)
        raw_mad = self.method == "mad" and np.dtype(block.traces.dtype).kind in "iu"
        state["raw_mad"] = raw_mad
        for position, peak in zip(block.positions.tolist(), block.peaks.tolist()):
            chunk = block.traces[peak:peak + self.length]
            if self.scaled and not raw_mad:
                be.kernels.scale(chunk, ctx["gains"], ctx["offsets"], state["scaled"], stream=stream)
                chunk = state["scaled"]
            if self.method == "mad":
                be.kernels.mad(chunk, state["device"][position], state["scratch"], stream=stream)
            else:
                if state["host"] is None:
                    state["host"] = np.zeros((self.spikes.size, num_channels))
                values = be.to_host(chunk, stream=stream).astype("float64")
                if self.method == "std":
                    state["host"][position] = values.std(axis=0)
                else:
                    state["host"][position] = np.sqrt(np.mean(values * values, axis=0))
            state["done"][position] = True

    def finish(self, ctx: dict, state: dict) -> dict:
        be = ctx["backend"]
        stats = state["host"] if self.method != "mad" else be.to_host(state["device"])
        if self.scaled and state.get("raw_mad") and stats is not None and stats.shape[1]:
            stats = stats * np.abs(self._gains.astype("float64"))
        return {"done": state["done"], "stats": stats}

    def reduce(self, partials: list, backend) -> np.ndarray:
        """The mean over chunks of the per-chunk statistic (MAD / 0.6745 for "mad").

        Parameters
        ----------
        partials : list of dict
            ``{"done", "stats"}`` per task.
        backend : Backend
            Unused (the partials are host arrays).

        Returns
        -------
        np.ndarray
            float64 noise level per channel.
        """
        stats = None
        done = np.zeros(self.spikes.size, dtype=bool)
        for part in partials:
            if part["stats"] is None or part["stats"].shape[1] == 0:
                continue
            rows = part["done"]
            if stats is None:
                stats = np.zeros((self.spikes.size, part["stats"].shape[1]))
            stats[rows] = part["stats"][rows]
            done |= rows
        if stats is None or not done.all():
            raise RuntimeError(f"{self.label}: {int((~done).sum())} of {done.size} noise chunks were not processed")
        noise = stats.mean(axis=0)
        return noise / MAD_TO_STD if self.method == "mad" else noise
