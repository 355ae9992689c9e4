"""Save job: every frame of a recording written to raw binary files with positional writes.

Each block (a whole-segment plan, no spikes) is cast to the file's dtype — refusing values the
cast would wrap — and written with ``os.pwrite`` at its offset in its segment's preallocated file:
no memory map, no read-modify-write, and any number of workers writes the same bytes. Blocks are
read by the source (positional reads of a binary file, ``get_traces`` of anything else) and stay
in host memory on every backend.
"""
from __future__ import annotations

import os

import numpy as np

from .job import BlockData, BlockJob

__all__ = ["SaveBinaryJob"]


class SaveBinaryJob(BlockJob):
    """Write a recording's traces to one raw binary file per segment (time axis first).

    Parameters
    ----------
    file_paths : list of str
        One preallocated file per segment.
    dtype : dtype-like
        dtype written.
    file_offset : int
        Bytes before the traces in each file.
    num_channels : int
        Channels of the recording.
    job_name, stage : str
        The public call and its stage, for progress bars and errors.
    """

    host_blocks = True

    def __init__(self, file_paths: list, dtype, file_offset: int, num_channels: int,
                 job_name: str = "write_binary_recording", stage: str = "") -> None:
        self.file_paths = [str(p) for p in file_paths]
        self.dtype = np.dtype(dtype)
        self.file_offset = int(file_offset)
        self.bytes_per_frame = int(num_channels) * self.dtype.itemsize
        self.job_name, self.stage = job_name, stage

    def init_worker(self, backend, recording) -> dict:
        return {"backend": backend}

    def start(self, ctx: dict) -> list:
        return [0]

    def process(self, ctx: dict, state: list, block: BlockData) -> None:
        from ..core.binaryrecording import pwrite_all
        from ..core.validation import checked_cast

        seg = block.segment_index
        start, end = int(block.ranges[0, 0]), int(block.ranges[-1, 1])
        traces = np.ascontiguousarray(checked_cast(
            block.traces, self.dtype, f"save(dtype={self.dtype}): traces of segment {seg}, frames [{start}, {end})"))
        fd = os.open(self.file_paths[seg], os.O_WRONLY)
        try:
            pwrite_all(fd, memoryview(traces).cast("B"), self.file_offset + start * self.bytes_per_frame)
        finally:
            os.close(fd)
        state[0] += traces.nbytes

    def finish(self, ctx: dict, state: list) -> int:
        return state[0]

    def reduce(self, partials: list, backend) -> int:
        """Bytes written.

        Parameters
        ----------
        partials : list of int
            Bytes written by each task.
        backend : Backend
            Unused.

        Returns
        -------
        int
        """
        return int(sum(partials))
