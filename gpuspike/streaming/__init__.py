"""Streaming data path: read planner, readers, pinned ring buffer, block iterator.

See ``docs/gpu_streaming.md``. Nothing here imports CuPy or kvikio at import time, and numba's
CUDA module is only imported when a device-mode ring is built.
"""
from .planner import ReadBlock, ReadPlan, plan_reads
from .readers import (
    BaseReader,
    KvikioReader,
    MappedReader,
    PreadReader,
    ShortReadError,
    TracesReader,
    kvikio_available,
    kvikio_status,
    make_reader,
)
from .ringbuffer import RingBuffer, RingStats, parse_memory, slots_for_budget
from .pipeline import BlockStream, stream_blocks

__all__ = [
    "ReadBlock",
    "ReadPlan",
    "plan_reads",
    "BaseReader",
    "PreadReader",
    "MappedReader",
    "KvikioReader",
    "TracesReader",
    "ShortReadError",
    "kvikio_available",
    "kvikio_status",
    "make_reader",
    "RingBuffer",
    "RingStats",
    "parse_memory",
    "slots_for_budget",
    "BlockStream",
    "stream_blocks",
]
