"""One block engine for CPU and GPU: jobs written once over the backend interface.

A job (:class:`~gpuspike.engine.job.BlockJob`) processes blocks of traces and reduces the partial
results; a source reads the blocks — the chunk executor on the CPU (threads, processes, Dask),
the pinned ring buffer on a GPU — and :func:`~gpuspike.engine.run.run_block_job` picks the source
once, from the job kwargs. Jobs: gather waveforms (dense or sparse), accumulate templates (mean,
std) of any number of spikes (and the means of a sparsity estimate), noise levels, save; several
spike jobs in one pass over the file (:class:`~gpuspike.engine.composite.CompositeJob`).
"""
from .accumulate import AccumulateJob
from .composite import CompositeJob, run_with_riders
from .blocks import BlockSpec, SegmentPlan, edge_positions, plan_job_blocks
from .gather import GatherJob, edge_windows, templates_of_waveforms
from .job import BlockData, BlockJob
from .noise import MAD_TO_STD, NOISE_METHODS, NoiseJob
from .run import run_block_job
from .save import SaveBinaryJob

__all__ = ["AccumulateJob", "BlockData", "BlockJob", "BlockSpec", "CompositeJob", "GatherJob", "MAD_TO_STD",
           "NOISE_METHODS", "NoiseJob", "SaveBinaryJob", "SegmentPlan", "edge_positions", "edge_windows",
           "plan_job_blocks", "run_block_job", "run_with_riders", "templates_of_waveforms"]
