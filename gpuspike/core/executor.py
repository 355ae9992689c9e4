"""ChunkExecutor: runs a function on every chunk of a recording (in-process engine)."""
from __future__ import annotations

from typing import Callable

from .job import JobConfig, divide_recording_into_chunks


class ChunkExecutor:
    """Run ``chunk_func`` over the chunks of a recording with the engine of ``config``.

    Parameters
    ----------
    recording : BaseRecording
    chunk_func : callable
        ``chunk_func(segment_index, start_frame, end_frame, worker_ctx) -> result``.
    init_func : callable, optional
        ``init_func(*init_args) -> worker_ctx`` (a dict), run once per worker.
    init_args : tuple
    config : JobConfig
    job_name : str
        Label of the progress bar.
    gather_func : callable, optional
        Called with each result as it arrives (results are then not kept).
    """

    def __init__(self, recording, chunk_func: Callable, init_func: Callable | None, init_args: tuple,
                 config: JobConfig, job_name: str = "", gather_func: Callable | None = None) -> None:
        self.recording = recording
        self.chunk_func = chunk_func
        self.init_func = init_func
        self.init_args = tuple(init_args)
        self.config = config
        self.job_name = job_name
        self.gather_func = gather_func

    def chunks(self) -> list[tuple[int, int, int]]:
        return divide_recording_into_chunks(self.recording, self.config.chunk_frames(self.recording))

    def run(self, chunks: list | None = None) -> list:
        """Run every chunk; return results in chunk order (``[]`` when ``gather_func`` is set)."""
        if chunks is None:
            chunks = self.chunks()
        ctx = self.init_func(*self.init_args) if self.init_func is not None else {}
        results = []
        iterator = chunks
        if self.config.progress_bar:
            from tqdm.auto import tqdm

            iterator = tqdm(chunks, desc=self.job_name or "chunks", total=len(chunks))
        for seg, start, end in iterator:
            res = self.chunk_func(seg, start, end, ctx)
            if self.gather_func is not None:
                self.gather_func(res)
            else:
                results.append(res)
        return results
