"""Several spike jobs in one pass over the file: each block is read once and handed to every job.

A :class:`CompositeJob` owns the union of its jobs' spikes (sorted by segment then sample, with
the widest window of them all) so that the planner sizes blocks for every window; per block, it
splits the block's spikes back to each job, in that job's own spike positions, and calls the job
on the same traces. Spikes near a segment edge are built by each job as it builds them alone and
stacked into one edge block (float64, exact for every recording dtype and for the float32 µV
windows of a scaled gather). Each job reduces its own partial results.
"""
from __future__ import annotations

import numpy as np

from .job import BlockData, BlockJob

__all__ = ["CompositeJob", "run_with_riders"]


class CompositeJob(BlockJob):
    """Run spike jobs together, reading each block of traces once.

    Parameters
    ----------
    jobs : sequence of BlockJob
        Jobs over spikes of the same recording (``spikes`` not None, blocks on the same side:
        ``host_blocks`` equal).
    reduce_kwargs : sequence of dict, optional
        Keyword arguments of each job's ``reduce``.

    Notes
    -----
    :meth:`reduce` returns the list of the jobs' results, in the order of ``jobs``.
    """

    def __init__(self, jobs, reduce_kwargs=None) -> None:
        self.jobs = list(jobs)
        if not self.jobs:
            raise ValueError("CompositeJob needs at least one job")
        for job in self.jobs:
            if not isinstance(job, BlockJob) or job.spikes is None:
                raise ValueError(f"CompositeJob runs jobs over spikes; got {job!r}")
        if len({job.host_blocks for job in self.jobs}) != 1:
            raise ValueError("CompositeJob: jobs disagree on host_blocks (host and device blocks)")
        self.reduce_kwargs = [dict(kw) for kw in (reduce_kwargs or [{}] * len(self.jobs))]
        if len(self.reduce_kwargs) != len(self.jobs):
            raise ValueError(f"reduce_kwargs has {len(self.reduce_kwargs)} entries for {len(self.jobs)} jobs")
        first = self.jobs[0]
        self.job_name, self.stage = first.job_name, first.stage
        self.host_blocks = first.host_blocks
        self.order_free = all(job.order_free for job in self.jobs)
        modes = {job.plan_mode for job in self.jobs}
        self.plan_mode = modes.pop() if len(modes) == 1 else "auto"
        self.nbefore = max(job.nbefore for job in self.jobs)
        self.nafter = max(job.nafter for job in self.jobs)
        fields = [("sample_index", "int64"), ("segment_index", "int64")]
        union = np.zeros(sum(job.spikes.size for job in self.jobs), dtype=fields)
        owner = np.repeat(np.arange(len(self.jobs)), [job.spikes.size for job in self.jobs])
        position = np.concatenate([np.arange(job.spikes.size, dtype="int64") for job in self.jobs])
        union["sample_index"] = np.concatenate([job.spikes["sample_index"] for job in self.jobs])
        union["segment_index"] = np.concatenate([job.spikes["segment_index"] for job in self.jobs])
        order = np.lexsort((owner, union["sample_index"], union["segment_index"]))
        self.spikes = union[order]
        self._owner = owner[order]
        self._position = position[order]
        self._edge_prescaled = [False] * len(self.jobs)
        self._stream = None

    @property
    def edge_order_free(self) -> bool:
        """Every job's edge results are exact."""
        return all(job.edge_order_free for job in self.jobs)

    @property
    def merges_blocks(self) -> bool:
        """Every job takes merged blocks (a gather only once its output is placed)."""
        return all(job.merges_blocks for job in self.jobs)

    @property
    def stream(self):
        """The compute stream set by the source, shared by every job."""
        return self._stream

    @stream.setter
    def stream(self, value) -> None:
        self._stream = value
        for job in self.jobs:
            job.stream = value

    def state_bytes(self, num_channels: int) -> int:
        return sum(job.state_bytes(num_channels) for job in self.jobs)

    def output_bytes(self) -> int:
        return sum(job.output_bytes() for job in self.jobs)

    def prepare(self, recording) -> None:
        for job in self.jobs:
            job.prepare(recording)

    def prepare_output(self, placement: str, backend, tmpdir=None) -> None:
        for k, job in enumerate(self.jobs):
            where = None if tmpdir is None else _job_folder(tmpdir, k)
            job.prepare_output(placement, backend, where)

    def init_worker(self, backend, recording) -> dict:
        return {"backend": backend, "jobs": [job.init_worker(backend, recording) for job in self.jobs]}

    def start(self, ctx: dict) -> list:
        return [job.start(c) for job, c in zip(self.jobs, ctx["jobs"])]

    def process(self, ctx: dict, state: list, block: BlockData) -> None:
        owners = self._owner[block.positions]
        for k, job in enumerate(self.jobs):
            mine = owners == k
            if not mine.any():
                continue
            # the edge block (the only one marked prescaled here) holds each job's own windows
            prescaled = self._edge_prescaled[k] if block.prescaled else False
            job.process(ctx["jobs"][k], state[k],
                        BlockData(block.segment_index, block.traces, self._position[block.positions[mine]],
                                  np.ascontiguousarray(block.peaks[mine]), prescaled, block.stream, block.ranges))

    def finish(self, ctx: dict, state: list) -> list:
        return [job.finish(c, s) for job, c, s in zip(self.jobs, ctx["jobs"], state)]

    def reduce(self, partials: list, backend) -> list:
        """Each job's result from its partials, in the order of the jobs.

        Parameters
        ----------
        partials : list
            Per task, the list of the jobs' partial results.
        backend : Backend
            Where the partials are.

        Returns
        -------
        list
        """
        return [job.reduce([p[k] for p in partials], backend, **kw)
                for k, (job, kw) in enumerate(zip(self.jobs, self.reduce_kwargs))]

    def edge_traces(self, recording, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
        owners = self._owner[positions]
        pieces, peaks, rows = [], np.zeros(positions.size, dtype="int64"), 0
        for k, job in enumerate(self.jobs):
            mine = np.flatnonzero(owners == k)
            if mine.size == 0:
                continue
            traces, job_peaks, prescaled = job.edge_traces(recording, self._position[positions[mine]])
            self._edge_prescaled[k] = bool(prescaled)
            pieces.append(np.asarray(traces, dtype="float64"))
            peaks[mine] = np.asarray(job_peaks, dtype="int64") + rows
            rows += traces.shape[0]
        return np.concatenate(pieces, axis=0), peaks, True


def run_with_riders(job: BlockJob, recording, config, riders=(), **reduce_kwargs):
    """Run ``job``, and the jobs of ``riders`` in the same pass over the file.

    Parameters
    ----------
    job : BlockJob
        The job whose result is returned.
    recording : BaseRecording
    config : JobConfig
    riders : sequence
        Objects with a spike job ``job``, the ``reduce_kwargs`` of its reduce, and
        ``take(result, backend)``, called with its result after the pass.
    **reduce_kwargs
        Of ``job``'s reduce.

    Returns
    -------
    object
        ``job``'s result.
    """
    from .run import run_block_job

    if not riders:
        return run_block_job(job, recording, config, **reduce_kwargs)
    composite = CompositeJob([job] + [r.job for r in riders], [reduce_kwargs] + [r.reduce_kwargs for r in riders])
    results = run_block_job(composite, recording, config)
    for rider, result in zip(riders, results[1:]):
        rider.take(result, config.backend_object)
    return results[0]


def _job_folder(tmpdir, k: int):
    """A folder of its own for job ``k``'s file output (worker processes)."""
    from pathlib import Path

    folder = Path(tmpdir) / f"job{k}"
    folder.mkdir(exist_ok=True)
    return folder
