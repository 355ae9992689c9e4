"""Block size from the job kwargs, the same meaning on every backend.

``chunk_size`` / ``chunk_duration`` / ``chunk_memory`` size one block of traces, on the CPU as on
a GPU. ``total_memory`` bounds the whole pipeline: on the CPU, each worker's block buffers and
accumulators; on a GPU, the pinned ring's slots, the device buffers and the accumulators. A
budget that cannot hold even one block is refused with the smallest budget that works.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Pipeline", "RING_SLOTS", "DEVICE_BUFFERS", "block_frames", "cpu_pipeline", "gpu_pipeline"]

#: Host (pinned) slots and device buffers of the GPU ring by default.
RING_SLOTS = 4
DEVICE_BUFFERS = 2


@dataclass(frozen=True)
class Pipeline:
    """How many block-sized buffers a source holds, and how many accumulator sets.

    Attributes
    ----------
    buffers : int
        Block buffers alive at once (all workers, host and device).
    states : int
        Accumulator sets alive at once.
    what : str
        Words for error messages ("2 workers x 1 block buffer").
    """

    buffers: int
    states: int
    what: str


def cpu_pipeline(n_jobs: int, selects_columns: bool) -> Pipeline:
    """The CPU source: each worker holds a read buffer (and a column-selection buffer) and one
    task's accumulators.

    Parameters
    ----------
    n_jobs : int
        Workers.
    selects_columns : bool
        The file holds more columns than the recording (a second buffer per worker).

    Returns
    -------
    Pipeline
    """
    per = 2 if selects_columns else 1
    return Pipeline(n_jobs * per, n_jobs, f"{n_jobs} worker(s) x {per} block buffer(s)")


def gpu_pipeline(selects_columns: bool, slots: int = RING_SLOTS, device_buffers: int = DEVICE_BUFFERS) -> Pipeline:
    """The GPU source: the pinned ring's slots, its device buffers (and their selections), one
    set of accumulators on the device.

    Parameters
    ----------
    selects_columns : bool
        The file holds more columns than the recording.
    slots, device_buffers : int
        Ring geometry.

    Returns
    -------
    Pipeline
    """
    buffers = slots + device_buffers * (2 if selects_columns else 1)
    return Pipeline(buffers, 1, f"{slots} pinned slots + {device_buffers} device buffers"
                    + (" (+ column selections)" if selects_columns else ""))


def _human(nbytes: float) -> str:
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if nbytes >= size:
            return f"{nbytes / size:.3g}{unit}"
    return f"{int(nbytes)}"


def block_frames(config, recording, pipeline: Pipeline, bytes_per_frame: int, state_bytes: int,
                 min_frames: int) -> int:
    """Frames per block for this job, source and recording.

    Parameters
    ----------
    config : JobConfig
        The job kwargs.
    recording : BaseRecording
        For ``chunk_duration`` (sampling frequency).
    pipeline : Pipeline
        Buffers and accumulators of the source.
    bytes_per_frame : int
        Bytes of one frame as read (the file's columns).
    state_bytes : int
        Bytes of one set of accumulators.
    min_frames : int
        The smallest block that works (one spike window, or one frame).

    Returns
    -------
    int

    Raises
    ------
    ValueError
        When ``chunk_*`` gives a block smaller than ``min_frames``, or ``total_memory`` cannot hold
        one such block with its accumulators; the message names the smallest value that works.
    """
    if config.total_memory is not None:
        fixed = pipeline.states * state_bytes
        frames = (config.total_memory - fixed) // max(1, pipeline.buffers * bytes_per_frame)
        if frames < min_frames:
            smallest = fixed + pipeline.buffers * bytes_per_frame * min_frames
            raise ValueError(
                f"total_memory={_human(config.total_memory)} cannot hold one block of {min_frames} frames "
                f"({bytes_per_frame} bytes each) in {pipeline.what}, plus {_human(fixed)} of accumulators: "
                f"give total_memory >= {_human(smallest)} (e.g. total_memory='{_human(smallest * 1.01)}')")
        return int(frames)
    if config.chunk_memory is not None:
        frames = config.chunk_memory // bytes_per_frame
        if frames < min_frames:
            smallest = min_frames * bytes_per_frame
            raise ValueError(f"chunk_memory={_human(config.chunk_memory)} holds {frames} frames of {bytes_per_frame} "
                             f"bytes; a block needs at least {min_frames}: give chunk_memory >= {_human(smallest)}")
        return int(frames)
    frames = config.chunk_frames(recording)
    return int(max(frames, min_frames))


def bytes_per_frame_of(recording) -> tuple[int, bool]:
    """Bytes of one frame as read from the recording's file (all its columns), and whether the
    file holds more columns than the recording has channels.

    Parameters
    ----------
    recording : BaseRecording

    Returns
    -------
    tuple of (int, bool)
    """
    itemsize = np.dtype(recording.get_dtype()).itemsize
    channels = recording.get_num_channels()
    try:
        desc = recording.get_binary_description() if recording.is_binary_compatible() else None
    except (ValueError, AttributeError):
        desc = None
    if desc is not None and desc.get("num_channels"):
        columns = int(desc["num_channels"])
        return columns * itemsize, columns != channels
    return channels * itemsize, False
