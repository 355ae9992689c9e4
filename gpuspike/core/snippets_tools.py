"""snippets_from_sorting: cut a snippet around every spike of a sorting."""
from __future__ import annotations

import numpy as np

from .numpyextractors import NumpySnippets

#: spikes cut per read: a read spans at most this many spikes' windows
_SPIKES_PER_READ = 2000


def _segment_snippets(recording, segment_index: int, frames: np.ndarray, nbefore: int, nafter: int,
                      max_span: int) -> np.ndarray:
    """Windows ``[f - nbefore, f + nafter)`` of all channels; samples outside the segment are 0."""
    num_samples = recording.get_num_samples(segment_index)
    out = np.zeros((frames.size, nbefore + nafter, recording.get_num_channels()), dtype=recording.get_dtype())
    start = 0
    while start < frames.size:
        stop = start + 1
        while stop < frames.size and stop - start < _SPIKES_PER_READ and frames[stop] - frames[start] <= max_span:
            stop += 1
        lo = max(int(frames[start]) - nbefore, 0)
        hi = min(int(frames[stop - 1]) + nafter, num_samples)
        traces = recording.get_traces(segment_index=segment_index, start_frame=lo, end_frame=hi) if hi > lo else None
        for k in range(start, stop):
            first = int(frames[k]) - nbefore
            a, b = max(first, 0), min(first + nbefore + nafter, num_samples)
            if b > a:
                out[k, a - first:b - first] = traces[a - lo:b - lo]
        start = stop
    return out


def snippets_from_sorting(recording, sorting, nbefore: int = 20, nafter: int = 44, wf_folder=None,
                          **job_kwargs) -> NumpySnippets:
    """Snippets of ``recording`` around every spike of ``sorting`` (raw traces, the recording's dtype).

    A window crossing a segment edge is partially filled (zeros outside the segment), as in
    SpikeInterface.

    Parameters
    ----------
    recording : BaseRecording
    sorting : BaseSorting
    nbefore, nafter : int
        Samples before / after each spike.
    wf_folder : str or Path, optional
        Accepted for SpikeInterface compatibility: snippets are returned in memory.
    **job_kwargs
        Validated job kwargs (``chunk_duration`` bounds the span of one read).

    Returns
    -------
    NumpySnippets
        One snippet per spike, with the recording's channel ids and ``gain_to_uV`` / ``offset_to_uV``.
    """
    from .job import resolve_job_kwargs

    if recording.get_num_segments() != sorting.get_num_segments():
        raise ValueError(f"recording has {recording.get_num_segments()} segments, sorting has "
                         f"{sorting.get_num_segments()}")
    config = resolve_job_kwargs(**job_kwargs)
    max_span = config.chunk_frames(recording)
    per_segment = sorting.to_spike_vector(concatenated=False)
    snippets_list, frames_list = [], []
    for seg, spikes in enumerate(per_segment):
        frames = np.asarray(spikes["sample_index"], dtype="int64")
        snippets_list.append(_segment_snippets(recording, seg, frames, nbefore, nafter, max_span))
        frames_list.append(frames)
    snippets = NumpySnippets(snippets_list, frames_list, recording.sampling_frequency, nbefore=nbefore,
                             channel_ids=recording.channel_ids)
    # SpikeInterface 0.105 copies only the gains (its snippets then refuse return_in_uV=True); the offsets
    # are copied too here, so that scaled snippets are right
    for key in ("gain_to_uV", "offset_to_uV"):
        if recording.get_property(key) is not None:
            snippets.set_property(key, recording.get_property(key))
    return snippets
