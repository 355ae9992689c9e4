"""Run a block job: size and plan its blocks, pick the source, reduce the partial results.

The one place where a job meets an engine: :func:`run_block_job` decides, from the job kwargs
(a :class:`~gpuspike.core.job.JobConfig` whose backend is already concrete), which source reads
the blocks — the pinned ring on a device backend (in this process), the chunk executor otherwise
(and for Dask) — and hands the job's partial results, in task order, to its ``reduce``.
"""
from __future__ import annotations

import numpy as np

from .blocks import BlockSpec, edge_positions, plan_job_blocks
from .budget import block_frames, bytes_per_frame_of, cpu_pipeline, gpu_pipeline
from .job import BlockJob
from .sources import ChunkedSource, RingSource

__all__ = ["run_block_job"]

#: Share of the free device memory a device-resident output may take.
_DEVICE_OUTPUT_SHARE = 0.8


def run_block_job(job: BlockJob, recording, config, **reduce_kwargs):
    """Run ``job`` over ``recording`` with the engine, backend and budget of ``config``.

    Parameters
    ----------
    job : BlockJob
        The job.
    recording : BaseRecording
        The recording read.
    config : JobConfig
        Validated job kwargs (backend already concrete).
    **reduce_kwargs
        Passed to ``job.reduce``.

    Returns
    -------
    object
        ``job.reduce(...)``.

    Raises
    ------
    ValueError
        A memory budget that cannot hold one block (the message names the smallest that works).
    """
    from ..backends import get_backend

    backend = config.backend_object
    use_ring = backend.is_device and not job.host_blocks and config.engine != "dask"
    bytes_per_frame, selects_columns = bytes_per_frame_of(recording)
    pipeline = gpu_pipeline(selects_columns) if use_ring else cpu_pipeline(config.n_jobs, selects_columns)
    state_bytes = job.state_bytes(recording.get_num_channels())
    min_frames = max(1, job.nbefore + job.nafter) if job.spikes is not None else 1
    frames = block_frames(config, recording, pipeline, bytes_per_frame, state_bytes, min_frames)
    num_samples = [int(recording.get_num_samples(s)) for s in range(recording.get_num_segments())]
    segments = plan_job_blocks(num_samples, frames, job.spikes, job.nbefore, job.nafter, job.plan_mode)
    job.prepare(recording)
    edge = None
    if job.spikes is not None:
        positions = edge_positions(job.spikes, num_samples, job.nbefore, job.nafter)
        if positions.size:
            traces, peaks, prescaled = job.edge_traces(recording, positions)
            segment = int(job.spikes["segment_index"][positions[0]])
            edge = BlockSpec(segment, np.zeros((0, 2), np.int64), np.zeros(0, np.int64), positions, peaks,
                             np.ascontiguousarray(traces), prescaled)
    if use_ring:
        source = RingSource(config)
        pipeline_bytes = pipeline.buffers * bytes_per_frame * max(sp.plan.max_block_frames for sp in segments) \
            if segments else 0
        needed = job.output_bytes() + pipeline_bytes + state_bytes
        fits = needed <= _DEVICE_OUTPUT_SHARE * backend.free_memory() and (
            config.total_memory is None or needed <= config.total_memory)
        partials = source.run(job, recording, segments, edge, bytes_per_frame, output_on_device=fits)
        partials_backend = backend
    else:
        source = ChunkedSource(config)
        partials = source.run(job, recording, [b for sp in segments for b in sp.blocks], edge, bytes_per_frame)
        partials_backend = get_backend("numpy")
    try:
        return job.reduce(partials, partials_backend, **reduce_kwargs)
    finally:
        source.cleanup()
