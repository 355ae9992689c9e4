"""Utilities on top of recordings: random chunks, noise levels, margins, channel geometry."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from .argnames import accepts_aliases
from .recording import BaseRecording, BaseRecordingSegment, noise_levels_property_key

#: MAD of a standard normal distribution: noise = MAD / this
MAD_TO_STD = 0.6744897501960817


def get_random_data_chunks(recording: BaseRecording, return_scaled: bool = False, num_chunks_per_segment: int = 20,
                           chunk_size: int | None = None, concatenated: bool = True, seed: int | None = None,
                           margin_frames: int = 0, *, return_in_uV: bool | None = None,
                           chunk_duration: str | float | None = "500ms", method: str = "full_random"):
    """Random chunks of traces from every segment, for statistics such as noise levels.

    Chunks start at random frames drawn with ``numpy.random.default_rng(seed)`` as SpikeInterface 0.105
    draws them (:func:`random_chunk_ranges`): the same seed gives the same chunks in both libraries.

    Parameters
    ----------
    recording : BaseRecording
        The recording.
    return_scaled : bool
        Traces in µV (needs gains).
    num_chunks_per_segment : int
        Chunks drawn from each segment.
    chunk_size : int or None
        Samples per chunk; when None, ``chunk_duration`` sets it (SpikeInterface 0.105's rule).
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
    """
    if return_in_uV is not None:
        return_scaled = return_in_uV
    chunk_size = _random_chunk_size(recording, chunk_size, chunk_duration, method)
    chunks = [recording.get_traces(segment_index=seg, start_frame=start, end_frame=end, return_scaled=return_scaled)
              for seg, start, end in random_chunk_ranges(recording, num_chunks_per_segment, chunk_size, seed,
                                                         margin_frames)]
    return np.concatenate(chunks, axis=0) if concatenated else chunks


def _random_chunk_size(recording: BaseRecording, chunk_size, chunk_duration, method: str) -> int:
    """``chunk_size``, else ``chunk_duration`` in samples (SpikeInterface 0.105's ``get_random_sample_slices``)."""
    if method != "full_random":
        raise ValueError(f"method={method!r}: the allowed value is 'full_random'")
    if chunk_size is not None:
        return chunk_size
    if chunk_duration is None:
        raise ValueError("give chunk_size or chunk_duration")
    from .job import _parse_duration

    return max(1, int(_parse_duration(chunk_duration) * recording.get_sampling_frequency()))


@accepts_aliases(time_series="recording")
def get_random_sample_slices(recording: BaseRecording, method: str = "full_random", num_chunks_per_segment: int = 20,
                             chunk_duration: str | float | None = "500ms", chunk_size: int | None = None,
                             margin_frames: int = 0, seed: int | None = None) -> list[tuple[int, int, int]]:
    """Random ``(segment_index, start_frame, end_frame)`` slices, SpikeInterface 0.105's function.

    Parameters
    ----------
    recording : BaseRecording
        The recording.
        Also taken as ``time_series=`` (SpikeInterface 0.105's name).
    method : {"full_random"}
        The only sampling method (chunks may overlap).
    num_chunks_per_segment : int
        Slices drawn in each segment.
    chunk_duration : str, float or None
        Slice length ("500ms", "1s" or seconds), used when ``chunk_size`` is None.
    chunk_size : int, optional
        Slice length in frames.
    margin_frames : int
        Frames kept free at both ends of each segment.
    seed : int or None
        Seed of the draw (None: different at every call).

    Returns
    -------
    list of tuple
        Sorted by segment, then start (see :func:`random_chunk_ranges`).
    """
    chunk_size = _random_chunk_size(recording, chunk_size, chunk_duration, method)
    return random_chunk_ranges(recording, num_chunks_per_segment, chunk_size, seed, margin_frames)


@accepts_aliases(time_series="recording")
def get_chunks(recording: BaseRecording, concatenated: bool = True, get_data_kwargs: dict | None = None,
               **random_slices_kwargs):
    """Traces of random slices (:func:`get_random_sample_slices`), SpikeInterface 0.105's function.

    Parameters
    ----------
    recording : BaseRecording
        The recording.
        Also taken as ``time_series=`` (SpikeInterface 0.105's name).
    concatenated : bool
        One array (slices stacked in time) or a list of arrays.
    get_data_kwargs : dict, optional
        Passed to ``recording.get_data`` (e.g. ``{"return_in_uV": True}``).
    **random_slices_kwargs
        Passed to :func:`get_random_sample_slices`.

    Returns
    -------
    np.ndarray or list of np.ndarray
    """
    get_data_kwargs = {} if get_data_kwargs is None else get_data_kwargs
    chunks = [recording.get_data(start_frame=start, end_frame=end, segment_index=seg, **get_data_kwargs)
              for seg, start, end in get_random_sample_slices(recording, **random_slices_kwargs)]
    return np.concatenate(chunks, axis=0) if concatenated else chunks


def random_chunk_ranges(recording: BaseRecording, num_chunks_per_segment: int = 20, chunk_size: int = 10000,
                        seed: int | None = 0, margin_frames: int = 0) -> list[tuple[int, int, int]]:
    """(segment_index, start, end) of random chunks, SpikeInterface 0.105's "full_random" slices.

    Every chunk has the same length: when ``chunk_size`` does not fit a segment (with its margins),
    it is reduced to that segment's ``num_samples - 2 * margin_frames - 1`` for every segment, with
    a warning. Starts are drawn per segment with ``rng.integers(margin, num_samples - chunk_size -
    margin, endpoint=True)`` from ``numpy.random.default_rng(seed)`` and sorted (chunks may overlap).

    Parameters
    ----------
    recording : BaseRecording
        The recording.
    num_chunks_per_segment : int
        Chunks drawn in each segment.
    chunk_size : int
        Frames per chunk.
    seed : int or None
        Seed of the draw.
    margin_frames : int
        Frames kept free at both ends of each segment.

    Returns
    -------
    list of tuple
        ``(segment_index, start_frame, end_frame)``, sorted by segment then start.
    """
    import warnings

    if num_chunks_per_segment < 1:
        raise ValueError(f"num_chunks_per_segment must be >= 1, got {num_chunks_per_segment}")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    for seg in range(recording.get_num_segments()):
        limit = recording.get_num_samples(seg) - 2 * margin_frames
        if chunk_size > limit:
            chunk_size = limit - 1
            warnings.warn(f"chunk_size is greater than the number of samples for segment index {seg}. "
                          f"Using {chunk_size}.")
    if chunk_size < 1:
        raise ValueError(f"a segment is too short for random chunks with margin_frames={margin_frames}")
    rng = np.random.default_rng(seed)
    ranges = []
    for seg in range(recording.get_num_segments()):
        n = recording.get_num_samples(seg)
        for start in random_chunk_starts(n, num_chunks_per_segment, chunk_size, margin_frames, rng):
            ranges.append((seg, int(start), int(start) + chunk_size))
    return ranges


def random_chunk_starts(num_samples: int, num_chunks: int, chunk_size: int, margin_frames: int,
                        rng: np.random.Generator) -> np.ndarray:
    """Sorted random chunk start frames inside one segment, as SpikeInterface 0.105 draws them.

    Parameters
    ----------
    num_samples : int
        Segment length.
    num_chunks : int
        Starts to draw.
    chunk_size : int
        Chunk length (it fits: ``chunk_size <= num_samples - 2 * margin_frames``).
    margin_frames : int
        Frames kept free at both ends.
    rng : np.random.Generator
        The generator (shared across segments).

    Returns
    -------
    np.ndarray
        int64 sorted starts.
    """
    high = num_samples - chunk_size - margin_frames
    return np.sort(rng.integers(margin_frames, high, size=num_chunks, endpoint=True)).astype("int64")


def get_noise_levels(recording: BaseRecording, return_scaled: bool = True, method: str = "mad",
                     force_recompute: bool = False, random_slices_kwargs: dict | None = None,
                     backend: str | None = None, progress_bar: bool | None = None, *, return_in_uV: bool | None = None,
                     **random_chunk_kwargs) -> np.ndarray:
    """Noise level of each channel: the mean over random chunks of each chunk's MAD / 0.6745 (or std, rms).

    As SpikeInterface 0.105: every random chunk gives a statistic per channel (the median
    absolute deviation scaled to a standard deviation, the standard deviation, or the root mean
    square), in µV when scaled, and the noise level is their mean. The chunks are SpikeInterface
    0.105's by default (20 per segment, 500 ms, drawn with ``seed=None``); they are read and reduced
    by the block engine, on the GPU with ``backend="cuda"``. The result (float32 for float32 or
    scaled traces, else float64, as SpikeInterface) is cached in the
    ``noise_level_<method>_<scaled|raw>`` property, and reused when no chunk option is given.

    Parameters
    ----------
    recording : BaseRecording
        The recording.
    return_scaled : bool
        Noise in µV (needs gains) or in raw units.
    method : {"mad", "std", "rms"}
        Statistic of each chunk.
    force_recompute : bool
        Ignore the cached value.
    random_slices_kwargs : dict, optional
        SpikeInterface 0.105's way of passing the chunk options (``num_chunks_per_segment``,
        ``chunk_size``, ``chunk_duration``, ``seed``, ``margin_frames``, ``method``).
    backend : {"auto", "numpy", "cuda"}, optional
        Where the statistics run (default: the global job kwargs' backend).
    progress_bar : bool, optional
        Show a progress bar (default: the global job kwargs').
    return_in_uV : bool, optional
        SpikeInterface 0.105's name of ``return_scaled`` (wins when given). A float recording without
        gains is taken as already in µV, as SpikeInterface does.
    **random_chunk_kwargs
        ``num_chunks_per_segment``, ``chunk_size``, ``seed``, ``margin_frames`` of the random chunks, and
        job kwargs (``n_jobs``, ``chunk_duration``, ...) as SpikeInterface takes them; a ``chunk_size``
        given here sets the random chunks' length, as in SpikeInterface.

    Returns
    -------
    np.ndarray
        float32 noise level per channel.
    """
    from ..engine import NOISE_METHODS, NoiseJob, run_block_job
    from .job import resolve_job_kwargs

    if return_in_uV is not None:
        return_scaled = return_in_uV
    random_chunk_kwargs, job_kwargs, chunks_given = _noise_chunk_kwargs(recording, random_chunk_kwargs,
                                                                       random_slices_kwargs)
    if method not in NOISE_METHODS:
        raise ValueError(f"method={method!r}: allowed values are {NOISE_METHODS}")
    unscaled_floats = np.dtype(recording.get_dtype()).kind == "f" and recording.get_property("gain_to_uV") is None
    if return_scaled and not recording.has_scaleable_traces() and not unscaled_floats:
        raise ValueError("get_noise_levels(return_scaled=True) needs channel gains; set them or use return_scaled=False")
    key = noise_levels_property_key(method, return_scaled)
    cached = recording.get_property(key)
    if cached is not None and not force_recompute and not chunks_given:
        return cached
    config = resolve_job_kwargs(backend=backend, progress_bar=progress_bar, **job_kwargs)
    ranges = random_chunk_ranges(recording, **random_chunk_kwargs)
    gains = offsets = None
    if return_scaled and not unscaled_floats:
        gains, offsets = recording._scaling(slice(None))
    job = NoiseJob(ranges, method, gains, offsets)
    # SpikeInterface's dtype: that of the statistics of the chunks' traces (float32 traces in µV or
    # float32 traces give float32; integer or float64 traces float64)
    float32_traces = gains is not None or np.dtype(recording.get_dtype()) == np.float32
    noise = np.asarray(run_block_job(job, recording, config), dtype="float32" if float32_traces else "float64")
    recording.set_property(key, noise)
    return noise


def _noise_chunk_kwargs(recording: BaseRecording, kwargs: dict, random_slices_kwargs: dict | None
                        ) -> tuple[dict, dict, bool]:
    """(random-chunk options, job kwargs, whether chunk options were given) from gpuspike's keywords,
    SpikeInterface's ``random_slices_kwargs`` and job kwargs; the chunks default to SpikeInterface
    0.105's: 20 per segment, 500 ms, seed None."""
    from .job import split_job_kwargs

    chunk_kwargs, job_kwargs = split_job_kwargs(kwargs)
    if "chunk_size" in job_kwargs:  # SpikeInterface reads a chunk_size given here as the random chunks' length
        chunk_kwargs["chunk_size"] = job_kwargs.pop("chunk_size")
    if random_slices_kwargs:
        overlap = sorted(set(random_slices_kwargs) & set(chunk_kwargs))
        if overlap:
            raise TypeError(f"{overlap} given both in random_slices_kwargs and as keywords: give them once")
        chunk_kwargs.update(random_slices_kwargs)
    allowed = ("num_chunks_per_segment", "chunk_size", "chunk_duration", "seed", "margin_frames", "method")
    unknown = sorted(set(chunk_kwargs) - set(allowed))
    if unknown:
        raise TypeError(f"get_noise_levels got unexpected arguments {unknown}; allowed: {allowed} and job kwargs")
    given = bool(chunk_kwargs)
    chunk_kwargs["chunk_size"] = _random_chunk_size(recording, chunk_kwargs.get("chunk_size"),
                                                    chunk_kwargs.pop("chunk_duration", "500ms"),
                                                    chunk_kwargs.pop("method", "full_random"))
    chunk_kwargs.setdefault("seed", None)
    return chunk_kwargs, job_kwargs, given


@accepts_aliases(chunkable_segment="rec_segment", last_dimension_indices="channel_indices")
def get_chunk_with_margin(rec_segment: BaseRecordingSegment, start_frame: int | None, end_frame: int | None,
                          channel_indices, margin: int, add_zeros: bool = False, add_reflect_padding: bool = False,
                          window_on_margin: bool = False, dtype=None):
    """Traces of [start_frame, end_frame) plus ``margin`` frames each side, as SpikeInterface 0.105.

    Parameters
    ----------
    rec_segment : BaseRecordingSegment
        The segment to read.
        Also taken as ``chunkable_segment=`` (SpikeInterface 0.105's name).
    start_frame, end_frame : int or None
        None means the segment's start / end; then no margin is taken on that side (without
        padding).
    channel_indices : slice, array or None
        Channels read (None: all). Also taken as ``last_dimension_indices=`` (SpikeInterface 0.105's name).
    margin : int
        Frames wanted on each side.
    add_zeros : bool
        Pad with zeros where the margin falls outside the segment: both margins are then
        ``margin``, except a chunk ending ``margin`` or more frames past the segment, whose right
        margin counts every padded frame after the segment's last one (SpikeInterface's count).
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
    # SpikeInterface counts as right margin every padded frame once the chunk ends a margin or more
    # past the segment (the chunk's real frames are then traces[margin:-right_margin])
    right = margin if end_frame < length + margin else end_frame + margin - length
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
    return traces, margin, right


#: SpikeInterface 0.105's name of :func:`get_chunk_with_margin` for any time series
get_time_series_chunk_with_margin = get_chunk_with_margin


def get_rec_attributes(recording: BaseRecording) -> dict:
    """A recording's attributes as SpikeInterface 0.105 lists them (what must match to swap it).

    Parameters
    ----------
    recording : BaseRecording

    Returns
    -------
    dict
        ``channel_ids``, ``sampling_frequency``, ``num_channels``, ``num_samples`` (per segment),
        ``is_filtered``, ``properties`` (copies), ``dtype``.
    """
    return {"channel_ids": np.asarray(recording.channel_ids),
            "sampling_frequency": float(recording.get_sampling_frequency()),
            "num_channels": int(recording.get_num_channels()),
            "num_samples": [int(recording.get_num_samples(i)) for i in range(recording.get_num_segments())],
            "is_filtered": bool(recording.is_filtered()),
            "properties": {k: np.array(recording.get_property(k)) for k in recording.get_property_keys()},
            "dtype": np.dtype(recording.get_dtype())}


def do_recording_attributes_match(recording1: BaseRecording, recording2_attributes: dict,
                                  check_dtype: bool = True) -> tuple[bool, str]:
    """Whether a recording has the channel ids, sampling frequency, channel count, segment lengths
    (and dtype) of ``recording2_attributes`` (from :func:`get_rec_attributes`).

    Parameters
    ----------
    recording1 : BaseRecording
    recording2_attributes : dict
        Attributes of the other recording.
    check_dtype : bool
        Compare dtypes too (when both sides have one).

    Returns
    -------
    match : bool
    message : str
        Empty when they match, else which attributes differ.
    """
    attributes1 = get_rec_attributes(recording1)
    differ = differing_attributes(attributes1, recording2_attributes, check_dtype)
    if not differ:
        return True, ""
    return False, "Recording attributes do not match: " + ", ".join(
        f"{key} {attributes1[key]!r} != {recording2_attributes[key]!r}" for key in differ)


def differing_attributes(attributes1: dict, attributes2: dict, check_dtype: bool = True) -> list[str]:
    """Which of channel ids, sampling frequency, channel count, segment lengths (and dtype, when
    both give one) differ between two :func:`get_rec_attributes` dicts.

    Parameters
    ----------
    attributes1, attributes2 : dict
    check_dtype : bool

    Returns
    -------
    list of str
        The keys that differ, in that order.
    """
    differ = [key for key in ("channel_ids", "sampling_frequency", "num_channels", "num_samples")
              if not np.array_equal(np.asarray(attributes1[key]), np.asarray(attributes2[key]))]
    if check_dtype and attributes1.get("dtype") is not None and attributes2.get("dtype") is not None \
            and np.dtype(attributes1["dtype"]) != np.dtype(attributes2["dtype"]):
        differ.append("dtype")
    return differ


def order_channels_by_depth(recording: BaseRecording, channel_ids: Sequence | None = None,
                            dimensions: str | tuple = ("x", "y"), flip: bool = False):
    """Channel order by depth: sorted by the last of ``dimensions``, then the ones before.

    Parameters
    ----------
    recording : BaseRecording
        A recording with channel locations.
    channel_ids : sequence, optional
        Channels ordered (default: all).
    dimensions : str or tuple of str
        Location axes sorted on ("x", "y", "z"), the last one first.
    flip : bool
        Deepest first.

    Returns
    -------
    order_f : np.ndarray
        Indices that sort the channels by depth.
    order_r : np.ndarray
        The inverse permutation.
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
    """Euclidean distances (µm) between all pairs of channels, shape (C, C).

    Parameters
    ----------
    recording : BaseRecording
        A recording with channel locations (a probe).

    Returns
    -------
    np.ndarray
        (channels, channels) distances.
    """
    locations = recording.get_channel_locations()
    diff = locations[:, None, :] - locations[None, :, :]
    return np.sqrt(np.sum(diff**2, axis=2))


def get_closest_channels(recording: BaseRecording, channel_ids: Sequence | None = None,
                         num_channels: int | None = None):
    """For each channel, the indices of the closest channels (itself first) and their distances.

    As in SpikeInterface, with ``channel_ids`` only these channels are considered, and the
    returned indices point into ``channel_ids``.

    Parameters
    ----------
    recording : BaseRecording
        A recording with channel locations.
    channel_ids : sequence, optional
        Channels considered (default: all).
    num_channels : int, optional
        Closest channels returned per channel (default: all).

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


def read_binary_recording(file, num_channels: int, dtype, time_axis: int = 0, offset: int = 0) -> np.ndarray:
    """Map a raw binary file of traces, read-only, as ``(num_samples, num_channels)``.

    Parameters
    ----------
    file : str or Path
    num_channels : int
    dtype : numpy dtype
    time_axis : {0, 1}
        0: samples are rows in the file; 1: channels are rows (the map is transposed).
    offset : int
        Bytes before the traces (a header).

    Returns
    -------
    np.memmap
        Whole samples only (a partial last frame is left out).

    Raises
    ------
    ValueError
        ``num_channels`` below 1, ``time_axis`` not 0 or 1, or an offset beyond the file.
    """
    num_channels, offset, dtype = int(num_channels), int(offset), np.dtype(dtype)
    if num_channels < 1:
        raise ValueError(f"read_binary_recording: num_channels={num_channels}: give an int >= 1")
    if time_axis not in (0, 1):
        raise ValueError(f"read_binary_recording: time_axis={time_axis!r}: allowed values are 0 and 1")
    size = Path(file).stat().st_size
    if not 0 <= offset <= size:
        raise ValueError(f"read_binary_recording: offset={offset} is outside the file's {size} bytes")
    num_samples = (size - offset) // (num_channels * dtype.itemsize)
    if num_samples == 0:
        return np.zeros((0, num_channels), dtype)
    if time_axis == 0:
        return np.memmap(file, dtype, mode="r", offset=offset, shape=(num_samples, num_channels))
    return np.memmap(file, dtype, mode="r", offset=offset, shape=(num_channels, num_samples)).T


def check_probe_do_not_overlap(probes) -> None:
    """Check that no contact of a probe lies within the bounding box (x, y) of the contacts of
    another one, so that their channel locations can be put side by side.

    Parameters
    ----------
    probes : list of probeinterface.Probe

    Raises
    ------
    ValueError
        Naming the two probes that overlap.
    """
    for i, probe_i in enumerate(probes):
        positions = np.asarray(probe_i.contact_positions)[:, :2]
        low, high = positions.min(axis=0), positions.max(axis=0)
        for j in range(i + 1, len(probes)):
            other = np.asarray(probes[j].contact_positions)[:, :2]
            if np.any(np.all((other >= low) & (other <= high), axis=1)):
                raise ValueError(f"Probes are overlapping! Probe {j} has contacts inside the bounds of probe {i}: "
                                 "retrieve the locations of single probes separately")


def _check_time_axis(time_axis, where: str) -> None:
    if time_axis not in (0, 1):
        raise ValueError(f"{where}: time_axis={time_axis!r}: allowed values are 0 (samples as rows) and "
                         "1 (channels as rows)")


def write_binary_file_handle(recording: BaseRecording, file_handle=None, time_axis: int = 0, dtype=None,
                             byte_offset: int = 0, verbose: bool = False, **job_kwargs) -> None:
    """Write the traces of a one-segment recording to an open binary file, chunk by chunk.

    Parameters
    ----------
    recording : BaseRecording
        One segment.
    file_handle : file object
        Open for binary writing; left open.
    time_axis : {0, 1}
        0: samples as rows (``(num_samples, num_channels)``); 1: channels as rows (written in one piece).
    dtype : dtype-like, optional
        Default: the recording's.
    byte_offset : int
        Position in the file to write at (0: where the handle stands).
    verbose : bool
        Ignored (kept for SpikeInterface's signature).
    **job_kwargs
        ``chunk_size`` / ``chunk_memory`` / ``chunk_duration`` size the chunks.

    Raises
    ------
    ValueError
        No file handle, a recording of several segments, or a ``time_axis`` other than 0 or 1.
    """
    from .job_tools import divide_segment_into_chunks, ensure_chunk_size, fix_job_kwargs

    if file_handle is None:
        raise ValueError("write_binary_file_handle: give file_handle= (a file open for binary writing)")
    if recording.get_num_segments() != 1:
        raise ValueError(f"write_binary_file_handle writes one segment; the recording has "
                         f"{recording.get_num_segments()}: write each (recording.select_segments([i]))")
    _check_time_axis(time_axis, "write_binary_file_handle")
    dtype = np.dtype(recording.get_dtype() if dtype is None else dtype)
    if byte_offset:
        file_handle.seek(int(byte_offset))
    num_samples = recording.get_num_samples(0)
    if time_axis == 1:
        chunks = [(0, num_samples)]
    else:
        job_kwargs = fix_job_kwargs(job_kwargs)
        chunks = divide_segment_into_chunks(num_samples, ensure_chunk_size(recording, **job_kwargs))
    for start, end in chunks:
        traces = recording.get_traces(segment_index=0, start_frame=start, end_frame=end)
        if time_axis == 1:
            traces = traces.T
        file_handle.write(np.ascontiguousarray(traces, dtype=dtype).tobytes())


def write_to_h5_dataset_format(recording: BaseRecording, dataset_path: str, segment_index: int, save_path=None,
                               file_handle=None, time_axis: int = 0, single_axis: bool = False, dtype=None,
                               chunk_size: int | None = None, chunk_memory: str | None = "500M",
                               verbose: bool = False, return_in_uV: bool = False,
                               return_scaled: bool | None = None) -> None:
    """Write the traces of one segment to a dataset of an HDF5 file (h5py), chunk by chunk.

    Parameters
    ----------
    recording : BaseRecording
    dataset_path : str
        The dataset's path in the file (``"/traces"``).
    segment_index : int
    save_path : str or Path, optional
        The file to create (``.h5`` added when it has no suffix); closed at the end.
    file_handle : h5py.File, optional
        An open file instead (left open).
    time_axis : {0, 1}
        0: ``(num_samples, num_channels)``; 1: ``(num_channels, num_samples)``.
    single_axis : bool
        A one-channel recording as a 1-D dataset.
    dtype : dtype-like, optional
        Default: the recording's.
    chunk_size : int, optional
        Samples per chunk; else from ``chunk_memory``.
    chunk_memory : str, optional
        Bytes per chunk ("500M").
    verbose : bool
        A progress bar.
    return_in_uV : bool
        Traces in µV.
    return_scaled : bool, optional
        The older name of ``return_in_uV`` (wins when given).

    Returns
    -------
    None
        The dataset is written in the file.

    Raises
    ------
    ValueError
        Neither ``save_path`` nor ``file_handle``, a ``time_axis`` other than 0 or 1, ``single_axis``
        with several channels, or a segment index out of range.
    TypeError
        ``file_handle`` is not an ``h5py.File``.
    """
    import h5py

    from .job_tools import divide_segment_into_chunks, ensure_chunk_size

    if save_path is None and file_handle is None:
        raise ValueError("write_to_h5_dataset_format: give save_path= or file_handle= (an open h5py.File)")
    if file_handle is not None and not isinstance(file_handle, h5py.File):
        raise TypeError(f"file_handle must be an h5py.File, got {type(file_handle).__name__}")
    _check_time_axis(time_axis, "write_to_h5_dataset_format")
    segment_index = int(segment_index)
    if not 0 <= segment_index < recording.get_num_segments():
        raise ValueError(f"segment_index={segment_index}: the recording has {recording.get_num_segments()} "
                         "segment(s)")
    num_channels = recording.get_num_channels()
    if single_axis and num_channels != 1:
        raise ValueError(f"single_axis=True writes a one-channel recording; this one has {num_channels} channels")
    if return_scaled is not None:
        return_in_uV = return_scaled
    num_samples = recording.get_num_samples(segment_index)
    dtype = np.dtype(recording.get_dtype() if dtype is None else dtype)
    if single_axis:
        shape = (num_samples,)
    else:
        shape = (num_samples, num_channels) if time_axis == 0 else (num_channels, num_samples)
    own_file = file_handle is None
    if own_file:
        save_path = Path(save_path)
        if save_path.suffix == "":
            save_path = save_path.parent / (save_path.name + ".h5")
        file_handle = h5py.File(save_path, "w")
    try:
        dataset = file_handle.create_dataset(dataset_path, shape=shape, dtype=dtype)
        size = ensure_chunk_size(recording, chunk_size=chunk_size, chunk_memory=chunk_memory, n_jobs=1)
        chunks = divide_segment_into_chunks(num_samples, size)
        if verbose:
            from tqdm.auto import tqdm

            chunks = tqdm(chunks, desc="write_to_h5_dataset_format")
        for start, end in chunks:
            traces = recording.get_traces(segment_index=segment_index, start_frame=start, end_frame=end,
                                          return_in_uV=return_in_uV).astype(dtype, copy=False)
            if single_axis:
                dataset[start:end] = traces[:, 0]
            elif time_axis == 0:
                dataset[start:end, :] = traces
            else:
                dataset[:, start:end] = traces.T
    finally:
        if own_file:
            file_handle.close()
