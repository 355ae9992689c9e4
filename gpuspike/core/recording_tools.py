"""Utilities on top of recordings: random chunks, noise levels, margins, channel geometry."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .recording import BaseRecording, BaseRecordingSegment

#: MAD of a standard normal distribution: noise = MAD / this
MAD_TO_STD = 0.6744897501960817
_NOISE_METHODS = ("mad", "std", "rms")


def get_random_data_chunks(recording: BaseRecording, return_scaled: bool = False, num_chunks_per_segment: int = 20,
                           chunk_size: int | None = 10000, concatenated: bool = True, seed: int | None = 0,
                           margin_frames: int = 0, *, return_in_uV: bool | None = None,
                           chunk_duration: str | float | None = None, method: str = "full_random"):
    """Random chunks of traces from every segment, for statistics such as noise levels.

    Chunks start at random frames drawn with ``numpy.random.default_rng(seed)``; segments
    shorter than ``chunk_size + 2*margin_frames`` give one chunk of the whole segment.

    Parameters
    ----------
    recording : BaseRecording
    return_scaled : bool
        Traces in µV (needs gains).
    num_chunks_per_segment : int
    chunk_size : int or None
        Samples per chunk (used when ``chunk_duration`` is None).
    concatenated : bool
        One array (chunks stacked in time) or a list of chunks.
    seed : int or None
        Seed of the chunk positions (None: different at every call).
    margin_frames : int
        Frames kept clear at both ends of each segment.
    return_in_uV : bool, optional
        SpikeInterface 0.105's name of ``return_scaled`` (wins when given).
    chunk_duration : str or float, optional
        Chunk length as SpikeInterface 0.105 takes it ("500ms", "1s" or seconds); replaces ``chunk_size``.
    method : {"full_random"}
        SpikeInterface 0.105's only sampling method, accepted for its scripts.

    Returns
    -------
    np.ndarray or list of np.ndarray
        (num_chunks * chunk_size, num_channels) when ``concatenated``, else a list of chunks.
    """
    if return_in_uV is not None:
        return_scaled = return_in_uV
    chunk_size = _random_chunk_size(recording, chunk_size, chunk_duration, method)
    chunks = [recording.get_traces(segment_index=seg, start_frame=start, end_frame=end, return_scaled=return_scaled)
              for seg, start, end in random_chunk_ranges(recording, num_chunks_per_segment, chunk_size, seed,
                                                         margin_frames)]
    return np.concatenate(chunks, axis=0) if concatenated else chunks


def _random_chunk_size(recording: BaseRecording, chunk_size, chunk_duration, method: str) -> int:
    """``chunk_size``, or ``chunk_duration`` in samples (SpikeInterface's ``get_random_sample_slices`` keys)."""
    if method != "full_random":
        raise ValueError(f"method={method!r}: the allowed value is 'full_random'")
    if chunk_duration is not None:
        from .job import _parse_duration

        return max(1, int(_parse_duration(chunk_duration) * recording.get_sampling_frequency()))
    if chunk_size is None:
        raise ValueError("give chunk_size or chunk_duration")
    return chunk_size


def random_chunk_ranges(recording: BaseRecording, num_chunks_per_segment: int = 20, chunk_size: int = 10000,
                        seed: int | None = 0, margin_frames: int = 0) -> list[tuple[int, int, int]]:
    """(segment_index, start, end) of the random chunks of :func:`get_random_data_chunks`."""
    if num_chunks_per_segment < 1:
        raise ValueError(f"num_chunks_per_segment must be >= 1, got {num_chunks_per_segment}")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    rng = np.random.default_rng(seed)
    ranges = []
    for seg in range(recording.get_num_segments()):
        n = recording.get_num_samples(seg)
        for start in random_chunk_starts(n, num_chunks_per_segment, chunk_size, margin_frames, rng):
            ranges.append((seg, int(start), min(int(start) + chunk_size, n)))
    return ranges


def _streamed_chunks(recording: BaseRecording, ranges: list[tuple[int, int, int]]) -> np.ndarray:
    """Raw traces of ``ranges`` read through the streaming path (planner, readers, pinned ring)."""
    from ..streaming import plan_reads, stream_blocks

    parts = []
    for seg in range(recording.get_num_segments()):
        mine = [(start, end) for s, start, end in ranges if s == seg]
        if not mine:
            continue
        starts = np.array([start for start, _ in mine], dtype="int64")
        length = mine[0][1] - mine[0][0]  # one length per segment (chunk_size, or the whole short segment)
        plan = plan_reads(recording.get_num_samples(seg), max(length, 1), peak_samples=starts, nbefore=0,
                          nafter=length, mode="windows")
        out = np.empty((starts.size, length, recording.get_num_channels()), dtype=recording.get_dtype())
        with stream_blocks(recording, seg, plan, device=False) as blocks:
            for block, traces in blocks:
                for k, rel in zip(block.spike_indices, block.relative_peaks):
                    out[k] = traces[rel:rel + length]
        parts.append(out.reshape(-1, out.shape[2]))
    return np.concatenate(parts, axis=0)


def random_chunk_starts(num_samples: int, num_chunks: int, chunk_size: int, margin_frames: int,
                        rng: np.random.Generator) -> np.ndarray:
    """Sorted random chunk start frames inside one segment (shared by all backends)."""
    high = num_samples - chunk_size - margin_frames
    if high < margin_frames:
        return np.zeros(1, dtype="int64")
    # the last start is allowed (endpoint): the same draws as SpikeInterface 0.105 for the same seed
    return np.sort(rng.integers(margin_frames, high, size=num_chunks, endpoint=True)).astype("int64")


def get_noise_levels(recording: BaseRecording, return_scaled: bool = True, method: str = "mad",
                     force_recompute: bool = False, backend: str = "numpy", *, return_in_uV: bool | None = None,
                     random_slices_kwargs: dict | None = None, **random_chunk_kwargs) -> np.ndarray:
    """Noise level of each channel from random chunks (MAD / 0.6745, standard deviation or RMS).

    The result is cached in the ``noise_level_<scaled|raw>_<method>`` property.

    Parameters
    ----------
    recording : BaseRecording
    return_scaled : bool
        Noise in µV (needs gains) or in raw units.
    method : {"mad", "std", "rms"}
    force_recompute : bool
        Ignore the cached value.
    backend : {"numpy", "cuda", "auto"}
        Where the median absolute deviation runs.
    return_in_uV : bool, optional
        SpikeInterface 0.105's name of ``return_scaled`` (wins when given).
    random_slices_kwargs : dict, optional
        SpikeInterface 0.105's way of passing the chunk options (``num_chunks_per_segment``,
        ``chunk_size``, ``chunk_duration``, ``seed``, ``margin_frames``, ``method``).
    **random_chunk_kwargs
        Passed to :func:`get_random_data_chunks` (``num_chunks_per_segment``, ``chunk_size``, ``seed``).
        Job kwargs (``n_jobs``, ``chunk_duration``, ``progress_bar``, ...) are accepted as SpikeInterface
        takes them and validated; the chunks are read in this process. A ``chunk_size`` given here sets
        the random chunks' length, as in SpikeInterface.

    Returns
    -------
    np.ndarray
        float32 noise level per channel.
    """
    if return_in_uV is not None:
        return_scaled = return_in_uV
    random_chunk_kwargs = _noise_chunk_kwargs(recording, random_chunk_kwargs, random_slices_kwargs)
    if method not in _NOISE_METHODS:
        raise ValueError(f"method={method!r}: allowed values are {_NOISE_METHODS}")
    if return_scaled and not recording.has_scaleable_traces() and np.dtype(recording.get_dtype()).kind != "f":
        raise ValueError("get_noise_levels(return_scaled=True) needs channel gains; set them or use return_scaled=False")
    key = f"noise_level_{'scaled' if return_scaled else 'raw'}_{method}"
    cached = recording.get_property(key)
    if cached is not None and not force_recompute and not random_chunk_kwargs:
        return cached
    from ..backends import get_backend

    be = get_backend(backend)
    if method == "mad" and be.name == "cuda":
        # the GPU path: random chunks read through the streaming reader, scaled and reduced on the device
        ranges = random_chunk_ranges(recording, **random_chunk_kwargs)
        data = be.asarray(np.ascontiguousarray(_streamed_chunks(recording, ranges)))
        if return_scaled and recording.get_property("gain_to_uV") is not None:  # float traces without gains: as is
            gains, offsets = recording._scaling(slice(None))
            scaled = be.empty(data.shape, "float32")
            be.kernels.scale(data, be.asarray(np.ascontiguousarray(gains, "float32")),
                             be.asarray(np.ascontiguousarray(offsets, "float32")), scaled)
            data = scaled
        out = be.kernels.mad(data, be.empty((data.shape[1],), np.float64))
        noise = be.to_host(out) / MAD_TO_STD
    elif method == "mad":
        chunks = get_random_data_chunks(recording, return_scaled=return_scaled, **random_chunk_kwargs)
        out = be.kernels.mad(np.ascontiguousarray(chunks), be.empty((chunks.shape[1],), np.float64))
        noise = be.to_host(out) / MAD_TO_STD
    elif method == "std":
        chunks = get_random_data_chunks(recording, return_scaled=return_scaled, **random_chunk_kwargs)
        noise = np.std(chunks.astype("float64"), axis=0)
    else:
        chunks = get_random_data_chunks(recording, return_scaled=return_scaled, **random_chunk_kwargs)
        noise = np.sqrt(np.mean(np.square(chunks.astype("float64")), axis=0))
    noise = np.asarray(noise, dtype="float32")
    recording.set_property(key, noise)
    return noise


def _noise_chunk_kwargs(recording: BaseRecording, kwargs: dict, random_slices_kwargs: dict | None) -> dict:
    """Random-chunk options from gpuspike's keywords, SpikeInterface's ``random_slices_kwargs`` and job kwargs."""
    from .job import split_job_kwargs
    from .job_tools import fix_job_kwargs

    chunk_kwargs, job_kwargs = split_job_kwargs(kwargs)
    if "chunk_size" in job_kwargs:  # SpikeInterface reads a chunk_size given here as the random chunks' length
        chunk_kwargs["chunk_size"] = job_kwargs.pop("chunk_size")
    fix_job_kwargs(job_kwargs)  # validated as SpikeInterface does; the chunks are read here
    if random_slices_kwargs:
        overlap = sorted(set(random_slices_kwargs) & set(chunk_kwargs))
        if overlap:
            raise TypeError(f"{overlap} given both in random_slices_kwargs and as keywords: give them once")
        chunk_kwargs.update(random_slices_kwargs)
    allowed = ("num_chunks_per_segment", "chunk_size", "chunk_duration", "seed", "margin_frames", "method")
    unknown = sorted(set(chunk_kwargs) - set(allowed))
    if unknown:
        raise TypeError(f"get_noise_levels got unexpected arguments {unknown}; allowed: {allowed} and job kwargs")
    if "chunk_duration" in chunk_kwargs or "method" in chunk_kwargs:
        chunk_kwargs["chunk_size"] = _random_chunk_size(recording, chunk_kwargs.get("chunk_size", 10000),
                                                        chunk_kwargs.pop("chunk_duration", None),
                                                        chunk_kwargs.pop("method", "full_random"))
    return chunk_kwargs


def get_chunk_with_margin(rec_segment: BaseRecordingSegment, start_frame: int | None, end_frame: int | None,
                          channel_indices, margin: int, add_zeros: bool = False, add_reflect_padding: bool = False,
                          window_on_margin: bool = False, dtype=None):
    """Traces of [start_frame, end_frame) plus ``margin`` frames each side, as SpikeInterface 0.105.

    Parameters
    ----------
    rec_segment : BaseRecordingSegment
    start_frame, end_frame : int or None
        None means the segment's start / end; then no margin is taken on that side (without
        padding).
    channel_indices : slice, array or None
    margin : int
    add_zeros : bool
        Pad with zeros where the margin falls outside the segment: both margins are then always
        ``margin``.
    add_reflect_padding : bool
        Pad by reflection instead (exclusive with ``add_zeros``).
    window_on_margin : bool
        Taper the margins with a half cosine (needs ``add_zeros``).
    dtype : numpy dtype, optional
        dtype of the chunk (a tapered integer chunk is float32 unless given).

    Returns
    -------
    traces : np.ndarray
    left_margin, right_margin : int
        Frames of margin included on each side.
    """
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    if add_zeros and add_reflect_padding:
        raise ValueError("add_zeros and add_reflect_padding are exclusive: give at most one of them")
    length = int(rec_segment.get_num_samples())
    if channel_indices is None:
        channel_indices = slice(None)
    if not (add_zeros or add_reflect_padding):
        if window_on_margin:
            raise ValueError("window_on_margin=True needs add_zeros=True (the taper applies to zero-padded margins)")
        if start_frame is None:
            start_frame, left = 0, 0
        else:
            left = min(margin, int(start_frame))
        if end_frame is None:
            end_frame, right = length, 0
        else:
            right = max(0, min(margin, length - int(end_frame)))
        traces = rec_segment.get_traces(int(start_frame) - left, int(end_frame) + right, channel_indices)
        if dtype is not None:
            traces = traces.astype(dtype, copy=False)
        return traces, left, right
    start_frame = 0 if start_frame is None else int(start_frame)
    end_frame = length if end_frame is None else int(end_frame)
    lo, hi = max(0, start_frame - margin), min(length, end_frame + margin)
    core = rec_segment.get_traces(lo, hi, channel_indices)
    pad_left = margin - (start_frame - lo)
    pad_right = end_frame + margin - hi
    if dtype is None and not window_on_margin and pad_left == 0 and pad_right == 0:
        return core, margin, margin
    if dtype is None:
        dtype = np.dtype("float32") if window_on_margin and core.dtype.kind in "iu" else core.dtype
    dtype = np.dtype(dtype)
    if add_reflect_padding:
        traces = np.pad(core.astype(dtype, copy=False), ((pad_left, pad_right), (0, 0)), mode="reflect")
    else:
        traces = np.zeros((end_frame - start_frame + 2 * margin, core.shape[1]), dtype=dtype)
        traces[pad_left:pad_left + core.shape[0]] = core
        if window_on_margin and margin > 0:
            taper = ((1 - np.cos(np.arange(margin) / margin * np.pi)) / 2)[:, None]
            traces[:margin] *= taper
            traces[-margin:] *= taper[::-1]
    return traces, margin, margin


def order_channels_by_depth(recording: BaseRecording, channel_ids: Sequence | None = None,
                            dimensions: str | tuple = ("x", "y"), flip: bool = False):
    """Channel order by depth: sorted by the last of ``dimensions``, then the ones before.

    Returns
    -------
    order_f : np.ndarray
        Indices that sort the channels.
    order_r : np.ndarray
        Indices that undo the sort.
    """
    locations = recording.get_channel_locations(channel_ids=channel_ids)
    axis = {"x": 0, "y": 1, "z": 2}
    if isinstance(dimensions, str):
        dimensions = (dimensions,)
    try:
        cols = [axis[d] for d in dimensions]
    except KeyError:
        raise ValueError(f"dimensions={dimensions!r}: allowed names are 'x', 'y', 'z'") from None
    order_f = np.lexsort(locations[:, cols].T)
    if flip:
        order_f = order_f[::-1]
    order_r = np.argsort(order_f, kind="stable")
    return order_f, order_r


def get_channel_distances(recording: BaseRecording) -> np.ndarray:
    """Euclidean distances (µm) between all pairs of channels, shape (C, C)."""
    locations = recording.get_channel_locations()
    diff = locations[:, None, :] - locations[None, :, :]
    return np.sqrt(np.sum(diff**2, axis=2))


def get_closest_channels(recording: BaseRecording, channel_ids: Sequence | None = None,
                         num_channels: int | None = None):
    """For each channel, the indices of the closest channels (itself first) and their distances.

    As in SpikeInterface, with ``channel_ids`` only these channels are considered, and the
    returned indices point into ``channel_ids``.

    Returns
    -------
    closest_channels_inds : np.ndarray (num_selected, num_channels)
    dists : np.ndarray (num_selected, num_channels)
    """
    locations = recording.get_channel_locations(channel_ids=channel_ids)
    selected = locations
    if num_channels is None:
        num_channels = len(locations)
    if not 1 <= num_channels <= len(locations):
        raise ValueError(f"num_channels={num_channels}: allowed 1..{len(locations)}")
    dists = np.sqrt(((selected[:, None, :] - locations[None, :, :]) ** 2).sum(axis=2))
    order = np.argsort(dists, axis=1, kind="stable")[:, :num_channels]
    return order, np.take_along_axis(dists, order, axis=1)
