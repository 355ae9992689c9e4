"""SpikeInterface's node pipeline: a graph of nodes computing features of peaks or spikes, chunk by chunk.

The first node is a peak source: a detector, a :class:`PeakRetriever` (replays a peak vector) or a
:class:`SpikeRetriever` (replays a sorting's spikes, with their unit). Every other node takes the
traces of the chunk (with a margin) and the outputs of its parents, and returns an array with one
row per peak; the outputs of the nodes with ``return_output=True`` are gathered over the chunks in
peak order (in memory, into ``.npy`` files, or into a zarr store). The chunks run on gpuspike's
chunk executor (threads, processes or Dask, by the job kwargs); the nodes are the user's Python
on NumPy traces.
"""
from __future__ import annotations

import os
import uuid
import warnings
from pathlib import Path
from typing import Literal

import numpy as np

from .base import base_peak_dtype, spike_peak_dtype
from .core_tools import ms_to_samples, samples_to_ms
from .errors import FolderExistsError
from .job_tools import TimeSeriesChunkExecutor, fix_job_kwargs
from .recording_tools import get_channel_distances, get_chunk_with_margin

_PEAK_SIGNS = ("neg", "pos", "both")


class PipelineNode:
    """A step of a node pipeline: ``compute(traces, *outputs_of_parents)`` returns one row per peak.

    Parameters
    ----------
    time_series : BaseRecording
        The recording the pipeline runs on.
    return_output : bool or tuple of bool
        Whether the pipeline returns this node's output (one flag per output for a node returning a
        tuple).
    parents : list of PipelineNode, optional
        The nodes whose outputs this node takes (in order), after the traces.

    Notes
    -----
    A subclass defines ``get_dtype()`` and ``compute(traces, *parent_outputs)``, and ``get_margin()``
    when it reads traces around a peak (``get_trace_margin()``, the name of older SpikeInterface
    releases, is taken too). With ``_compute_has_extended_signature = True`` the node is called as
    ``compute(traces, start_frame, end_frame, segment_index, max_margin, *parent_outputs)``.
    """

    _compute_has_extended_signature = False

    def __init__(self, time_series, return_output: bool | tuple = True, parents: list | None = None) -> None:
        if isinstance(parents, PipelineNode):
            parents = [parents]
        if parents is not None:
            parents = list(parents)
            bad = [p for p in parents if not isinstance(p, PipelineNode)]
            if bad:
                raise TypeError(f"{type(self).__name__}(parents=...): every parent must be a PipelineNode, got "
                                f"{[type(p).__name__ for p in bad]}")
        if not isinstance(return_output, (bool, np.bool_, tuple)) or (
                isinstance(return_output, tuple) and not all(isinstance(f, (bool, np.bool_)) for f in return_output)):
            raise TypeError(f"{type(self).__name__}(return_output={return_output!r}): expected a bool, or a tuple of "
                            f"bools (one per output)")
        self.time_series = time_series
        self.recording = time_series
        self.return_output = return_output
        self.parents = parents
        self._kwargs = dict(time_series=time_series, return_output=return_output, parents=parents)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def get_margin(self) -> int:
        """Frames of traces this node needs on each side of a chunk (0 unless overridden)."""
        legacy = getattr(self, "get_trace_margin", None)
        return int(legacy()) if callable(legacy) else 0

    def get_dtype(self):  # pragma: no cover - abstract
        """The dtype of this node's output (to define in the subclass)."""
        raise NotImplementedError(f"{type(self).__name__} must define get_dtype()")

    def compute(self, traces, *args):  # pragma: no cover - abstract
        """This node's output for the peaks of one chunk (to define in the subclass)."""
        raise NotImplementedError(f"{type(self).__name__} must define compute()")


class PeakSource(PipelineNode):
    """The first node of a pipeline: gives the peaks of each chunk (and their features).

    ``need_first_call_before_pipeline = True`` makes the pipeline call the node once on the first
    frames before the chunks run (a numba detector compiles there, once, not in every worker).
    """

    need_first_call_before_pipeline = False

    def get_margin(self) -> int:
        return 0

    def get_dtype(self):
        return np.dtype(base_peak_dtype)

    def get_peak_slice(self, segment_index: int, start_frame: int, end_frame: int, max_margin: int):
        """``(i0, i1)``: the positions of the chunk's peaks within the segment (retrievers only)."""
        raise NotImplementedError(f"{type(self).__name__} detects its peaks; it has no peak slice")

    def _first_call_before_pipeline(self) -> None:
        margin = self.get_margin()
        traces = self.recording.get_traces(start_frame=0, end_frame=margin * 2 + 1, segment_index=0)
        self.compute(traces, margin, margin + 1, 0, margin)


class PeakDetector(PeakSource):
    """Base class of peak detectors (and template matching): ``compute(traces, start_frame,
    end_frame, segment_index, max_margin)`` returns ``(peaks,)`` with chunk-local sample indices."""


def _segment_bounds(segment_index_field: np.ndarray, num_segments: int) -> np.ndarray:
    return np.searchsorted(segment_index_field, np.arange(num_segments + 1)).astype("int64")


class PeakRetriever(PeakSource):
    """Replays a peak vector (``sample_index``, ``channel_index``, ``amplitude``, ``segment_index``,
    sorted by segment then sample) chunk by chunk.

    Parameters
    ----------
    recording : BaseRecording
    peaks : np.ndarray
        Structured array with at least ``sample_index`` and ``segment_index``.
    """

    def __init__(self, recording, peaks: np.ndarray) -> None:
        PipelineNode.__init__(self, recording, return_output=False)
        peaks = np.asarray(peaks)
        missing = [f for f in ("sample_index", "segment_index") if peaks.dtype.names is None
                   or f not in peaks.dtype.names]
        if missing:
            raise ValueError(f"PeakRetriever(peaks=...): a structured array with fields 'sample_index' and "
                             f"'segment_index' is needed, missing {missing}")
        order = np.lexsort((peaks["sample_index"], peaks["segment_index"]))
        if peaks.size and np.any(order != np.arange(peaks.size)):
            raise ValueError("PeakRetriever(peaks=...): peaks must be sorted by segment_index, then sample_index "
                             "(sort them with peaks[np.lexsort((peaks['sample_index'], peaks['segment_index']))])")
        self._peaks = peaks
        self._bounds = _segment_bounds(peaks["segment_index"], recording.get_num_segments())
        self._kwargs.update(peaks=peaks)

    def get_dtype(self):
        return self._peaks.dtype

    def _segment_peaks(self, segment_index: int) -> np.ndarray:
        return self._peaks[self._bounds[segment_index]:self._bounds[segment_index + 1]]

    def get_peak_slice(self, segment_index: int, start_frame: int, end_frame: int, max_margin: int = 0):
        frames = self._segment_peaks(segment_index)["sample_index"]
        i0, i1 = np.searchsorted(frames, [start_frame, end_frame])
        return int(i0), int(i1)

    def compute(self, traces, start_frame, end_frame, segment_index, max_margin, peak_slice):
        i0, i1 = peak_slice
        local = self._segment_peaks(segment_index)[i0:i1].copy()
        local["sample_index"] -= start_frame - max_margin
        return (local,)


def _main_channel_indices(sorting, recording, extremum_channel_inds) -> np.ndarray:
    """Each unit's main channel index: the sorting's ``main_channel_id`` property, else
    ``extremum_channel_inds`` (a dict by unit id or one index per unit)."""
    if "main_channel_id" in sorting.get_property_keys():
        if extremum_channel_inds is not None:
            warnings.warn("SpikeRetriever: extremum_channel_inds is deprecated (SpikeInterface 0.105) and ignored: "
                          "the sorting's 'main_channel_id' property gives the main channels", FutureWarning,
                          stacklevel=3)
        return np.asarray(recording.ids_to_indices(list(sorting.get_property("main_channel_id"))), dtype="int64")
    if extremum_channel_inds is None:
        raise ValueError("SpikeRetriever needs each unit's main channel: set the sorting property "
                         "'main_channel_id' (sorting.set_property('main_channel_id', channel_ids)) or pass "
                         "extremum_channel_inds={unit_id: channel_index}")
    if isinstance(extremum_channel_inds, dict):
        missing = [u for u in sorting.unit_ids.tolist() if u not in extremum_channel_inds]
        if missing:
            raise ValueError(f"SpikeRetriever(extremum_channel_inds=...): no channel for units {missing}")
        main = np.array([extremum_channel_inds[u] for u in sorting.unit_ids.tolist()], dtype="int64")
    else:
        main = np.asarray(extremum_channel_inds, dtype="int64")
        if main.shape != (sorting.get_num_units(),):
            raise ValueError(f"SpikeRetriever(extremum_channel_inds=...): expected one channel index per unit "
                             f"({sorting.get_num_units()}), got shape {main.shape}")
    num_channels = recording.get_num_channels()
    if main.size and (main.min() < 0 or main.max() >= num_channels):
        raise ValueError(f"SpikeRetriever(extremum_channel_inds=...): channel indices must be in [0, {num_channels})")
    return main


class SpikeRetriever(PeakSource):
    """Replays a sorting's spikes chunk by chunk, as peaks with their unit (``spike_peak_dtype``).

    Parameters
    ----------
    sorting : BaseSorting
    recording : BaseRecording
        (SpikeInterface < 0.105 took ``recording, sorting``: both orders are accepted.)
    channel_from_template : bool
        True: each spike's channel is its unit's main channel. False: the channel of the spike's
        extremum among the channels within ``radius_um`` of the unit's main channel.
    extremum_channel_inds : dict or array, optional
        Main channel index of each unit when the sorting has no ``main_channel_id`` property
        (deprecated in SpikeInterface 0.105, ignored when the property exists).
    radius_um : float
        Used with ``channel_from_template=False``.
    peak_sign : {"neg", "pos", "both"}
        Used with ``channel_from_template=False``.
    include_spikes_in_margin : bool
        Also give the spikes in the chunk's margins, flagged in an extra ``in_margin`` field.
    """

    def __init__(self, sorting, recording, channel_from_template: bool = True, extremum_channel_inds=None,
                 radius_um: float = 50, peak_sign: str = "neg", include_spikes_in_margin: bool = False) -> None:
        if hasattr(sorting, "get_traces") and hasattr(recording, "to_spike_vector"):
            sorting, recording = recording, sorting
        if not hasattr(sorting, "to_spike_vector") or not hasattr(recording, "get_traces"):
            raise TypeError(f"SpikeRetriever(sorting, recording): expected a sorting and a recording, got "
                            f"{type(sorting).__name__} and {type(recording).__name__}")
        if peak_sign not in _PEAK_SIGNS:
            raise ValueError(f"SpikeRetriever(peak_sign={peak_sign!r}): allowed {_PEAK_SIGNS}")
        PipelineNode.__init__(self, recording, return_output=False)
        self.sorting = sorting
        self.channel_from_template = bool(channel_from_template)
        self.include_spikes_in_margin = bool(include_spikes_in_margin)
        self.peak_sign = peak_sign
        self._dtype = np.dtype(spike_peak_dtype + ([("in_margin", "bool")] if include_spikes_in_margin else []))
        self.main_channel_indices = _main_channel_indices(sorting, recording, extremum_channel_inds)
        self.spike_vector = sorting.to_spike_vector()
        self._bounds = _segment_bounds(self.spike_vector["segment_index"], sorting.get_num_segments())
        self.neighbours_mask = None
        if not self.channel_from_template:
            self.neighbours_mask = get_channel_distances(recording) <= radius_um
        self._kwargs.update(sorting=sorting, channel_from_template=channel_from_template,
                            extremum_channel_inds=extremum_channel_inds, radius_um=radius_um, peak_sign=peak_sign,
                            include_spikes_in_margin=include_spikes_in_margin)

    def get_dtype(self):
        return self._dtype

    def get_peak_slice(self, segment_index: int, start_frame: int, end_frame: int, max_margin: int = 0):
        if self.include_spikes_in_margin:
            start_frame, end_frame = start_frame - max_margin, end_frame + max_margin
        return self.sorting.search_cached_spikes_sorted([start_frame, end_frame], segment_index=segment_index)

    def compute(self, traces, start_frame, end_frame, segment_index, max_margin, peak_slice):
        i0, i1 = (int(i) for i in peak_slice)
        s0 = self._bounds[segment_index]
        spikes = self.spike_vector[s0 + i0:s0 + i1]
        local = np.zeros(spikes.size, dtype=self._dtype)
        local["sample_index"] = spikes["sample_index"] - (start_frame - max_margin)
        local["channel_index"] = self.main_channel_indices[spikes["unit_index"]]
        local["segment_index"] = spikes["segment_index"]
        local["unit_index"] = spikes["unit_index"]
        if self.include_spikes_in_margin:
            local["in_margin"] = (local["sample_index"] < max_margin) | (
                local["sample_index"] >= traces.shape[0] - max_margin)
        frames = local["sample_index"]
        if not self.channel_from_template and local.size:
            values = np.asarray(traces[frames], dtype="float64")
            allowed = self.neighbours_mask[local["channel_index"]]
            if self.peak_sign == "neg":
                best = np.argmin(np.where(allowed, values, np.inf), axis=1)
            elif self.peak_sign == "pos":
                best = np.argmax(np.where(allowed, values, -np.inf), axis=1)
            else:
                best = np.argmax(np.where(allowed, np.abs(values), -1.0), axis=1)
            local["channel_index"] = best
        local["amplitude"] = traces[frames, local["channel_index"]]
        return (local,)


def sorting_to_peaks(sorting, main_channel_indices, dtype=spike_peak_dtype) -> np.ndarray:
    """A sorting's spikes as a peak vector: each spike on its unit's main channel, amplitude 0.

    Parameters
    ----------
    sorting : BaseSorting
    main_channel_indices : array or dict
        One channel index per unit (or ``{unit_id: channel_index}``).
    dtype : dtype-like
        With the fields of :data:`spike_peak_dtype` (at least ``base_peak_dtype``'s).

    Returns
    -------
    np.ndarray
    """
    if isinstance(main_channel_indices, dict):
        main_channel_indices = [main_channel_indices[u] for u in sorting.unit_ids.tolist()]
    main = np.asarray(main_channel_indices, dtype="int64")
    if main.shape != (sorting.get_num_units(),):
        raise ValueError(f"sorting_to_peaks(main_channel_indices=...): expected one index per unit "
                         f"({sorting.get_num_units()}), got shape {main.shape}")
    spikes = sorting.to_spike_vector()
    peaks = np.zeros(spikes.size, dtype=dtype)
    peaks["sample_index"] = spikes["sample_index"]
    peaks["channel_index"] = main[spikes["unit_index"]]
    peaks["segment_index"] = spikes["segment_index"]
    if "unit_index" in peaks.dtype.names:
        peaks["unit_index"] = spikes["unit_index"]
    return peaks


class WaveformsNode(PipelineNode):
    """Base class of the nodes giving waveforms: the window around each peak, from ``ms_before`` /
    ``ms_after`` or ``nbefore`` / ``nafter`` (one of each pair).

    Parameters
    ----------
    recording : BaseRecording
    ms_before, ms_after : float, optional
    nbefore, nafter : int, optional
    parents : list of PipelineNode, optional
    return_output : bool
    """

    def __init__(self, recording, ms_before: float | None = None, ms_after: float | None = None,
                 nbefore: int | None = None, nafter: int | None = None, parents: list | None = None,
                 return_output: bool = False) -> None:
        for side, ms, n in (("before", ms_before, nbefore), ("after", ms_after, nafter)):
            if (ms is None) == (n is None):
                raise ValueError(f"{type(self).__name__}: give exactly one of ms_{side} and n{side} "
                                 f"(got ms_{side}={ms!r}, n{side}={n!r})")
        PipelineNode.__init__(self, recording, parents=parents, return_output=return_output)
        fs = recording.get_sampling_frequency()
        self.nbefore = int(nbefore) if nbefore is not None else ms_to_samples(ms_before, fs)
        self.nafter = int(nafter) if nafter is not None else ms_to_samples(ms_after, fs)
        if self.nbefore < 0 or self.nafter < 0 or self.nbefore + self.nafter == 0:
            raise ValueError(f"{type(self).__name__}: the window must have at least one sample "
                             f"(nbefore={self.nbefore}, nafter={self.nafter})")
        self.ms_before = ms_before if ms_before is not None else samples_to_ms(self.nbefore, fs)
        self.ms_after = ms_after if ms_after is not None else samples_to_ms(self.nafter, fs)
        self.neighbours_mask = None
        self._kwargs.update(ms_before=ms_before, ms_after=ms_after, nbefore=nbefore, nafter=nafter)

    def get_margin(self) -> int:
        return max(self.nbefore, self.nafter)

    def _windows(self, peaks) -> np.ndarray:
        return peaks["sample_index"][:, None] + np.arange(-self.nbefore, self.nafter)


class ExtractDenseWaveforms(WaveformsNode):
    """Waveforms of every peak on every channel: ``(num_peaks, nbefore + nafter, num_channels)``,
    in the traces' dtype."""

    def get_dtype(self):
        return np.dtype(self.recording.get_dtype())

    def compute(self, traces, peaks):
        return traces[self._windows(peaks)]


class ExtractSparseWaveforms(WaveformsNode):
    """Waveforms of each peak on the channels near its channel: ``(num_peaks, nbefore + nafter,
    max_num_chans)``, the neighbours in channel order first, zeros after.

    Parameters
    ----------
    recording : BaseRecording
    ms_before, ms_after, nbefore, nafter, parents, return_output
        As :class:`WaveformsNode`.
    radius_um : float
        Channels within this distance of the peak's channel.
    sparsity_mask : np.ndarray, optional
        ``(num_channels, num_channels)`` bool: the channels of a peak on each channel (replaces
        ``radius_um``).
    """

    def __init__(self, recording, ms_before: float | None = None, ms_after: float | None = None,
                 nbefore: int | None = None, nafter: int | None = None, parents: list | None = None,
                 return_output: bool = False, radius_um: float = 100.0, sparsity_mask: np.ndarray | None = None):
        WaveformsNode.__init__(self, recording, ms_before=ms_before, ms_after=ms_after, nbefore=nbefore,
                               nafter=nafter, parents=parents, return_output=return_output)
        self.contact_locations = recording.get_channel_locations()
        self.channel_distance = get_channel_distances(recording)
        num_channels = recording.get_num_channels()
        if sparsity_mask is not None:
            mask = np.asarray(sparsity_mask, dtype=bool)
            if mask.shape != (num_channels, num_channels):
                raise ValueError(f"ExtractSparseWaveforms(sparsity_mask=...): expected shape "
                                 f"({num_channels}, {num_channels}), got {mask.shape}")
            self.neighbours_mask, self.radius_um = mask, None
        else:
            self.radius_um = radius_um
            self.neighbours_mask = self.channel_distance <= radius_um
        counts = self.neighbours_mask.sum(axis=1)
        self.max_num_chans = int(counts.max(initial=0))
        table = np.full((num_channels, self.max_num_chans), -1, dtype="int64")
        for c in range(num_channels):
            chans = np.flatnonzero(self.neighbours_mask[c])
            table[c, :chans.size] = chans
        self._channel_table = table
        self._kwargs.update(radius_um=radius_um, sparsity_mask=sparsity_mask)

    def get_dtype(self):
        return np.dtype(self.recording.get_dtype())

    def compute(self, traces, peaks):
        out = np.zeros((peaks.shape[0], self.nbefore + self.nafter, self.max_num_chans), dtype=traces.dtype)
        if peaks.shape[0] == 0 or self.max_num_chans == 0:
            return out
        from ..backends import get_backend

        # the CPU backend's sparse gather kernel, each peak's channel standing for a "unit" of the table
        frames = np.ascontiguousarray(peaks["sample_index"], dtype="int64")
        get_backend("numpy").kernels.gather_waveforms_sparse(
            traces, frames, self.nbefore, self.nafter, out, np.arange(frames.size, dtype="int64"),
            np.ascontiguousarray(peaks["channel_index"], dtype="int64"), self._channel_table)
        return out


def find_parents_of_type(list_of_parents, parent_type) -> list:
    """The nodes of ``list_of_parents`` that are instances of ``parent_type`` (a type or tuple of types).

    Returns
    -------
    list of PipelineNode
    """
    return [p for p in (list_of_parents or []) if isinstance(p, parent_type)]


def find_parent_of_type(list_of_parents, parent_type):
    """The first node of ``list_of_parents`` that is an instance of ``parent_type``, or None.

    Returns
    -------
    PipelineNode or None
    """
    found = find_parents_of_type(list_of_parents, parent_type)
    return found[0] if found else None


def check_graph(nodes: list, check_for_peak_source: bool = True) -> list:
    """Check that ``nodes`` are PipelineNodes, each after its parents (and a PeakSource first).

    Returns
    -------
    list
        ``nodes``.

    Raises
    ------
    ValueError
        An empty list, a first node that is not a PeakSource (when checked), a parent missing from
        ``nodes`` or after its child.
    TypeError
        An element that is not a PipelineNode.
    """
    nodes = list(nodes)
    if not nodes:
        raise ValueError("run_node_pipeline(nodes=[]): give at least one node (a PeakSource first)")
    for i, node in enumerate(nodes):
        if not isinstance(node, PipelineNode):
            raise TypeError(f"nodes[{i}] is {type(node).__name__}, not a PipelineNode")
    if check_for_peak_source and not isinstance(nodes[0], PeakSource):
        raise ValueError(f"the first node must be a PeakSource (a PeakDetector, PeakRetriever or SpikeRetriever), "
                         f"got {type(nodes[0]).__name__}")
    position = {id(node): i for i, node in enumerate(nodes)}
    for i, node in enumerate(nodes):
        for parent in node.parents or []:
            if id(parent) not in position:
                raise ValueError(f"node {i} ({type(node).__name__}) has a parent ({type(parent).__name__}) that is "
                                 f"not in nodes")
            if position[id(parent)] >= i:
                raise ValueError(f"nodes are out of order: node {i} ({type(node).__name__}) comes before its parent "
                                 f"{type(parent).__name__} (node {position[id(parent)]})")
    return nodes


# ---------------------------------------------------------------------- gathering
def _tuple_mode(names, res) -> bool:
    mode = isinstance(res, tuple)
    count = len(res) if mode else 1
    if names is not None and len(names) != count:
        raise ValueError(f"the pipeline gives {count} output(s) but {len(names)} names were given: {list(names)}")
    return mode


def _empty_like_output(empty_outputs: tuple, i: int) -> np.ndarray:
    return empty_outputs[i] if i < len(empty_outputs) else np.zeros(0, "float64")


def _empty_outputs(nodes: list) -> tuple:
    """Zero-row outputs of the returned nodes, in their declared dtypes (float64 where undeclared)."""
    out: tuple = ()
    for node in nodes:
        flags = node.return_output
        count = sum(bool(f) for f in flags) if isinstance(flags, tuple) else int(bool(flags))
        try:
            dtype = np.dtype(node.get_dtype())
        except (NotImplementedError, TypeError):
            dtype = np.dtype("float64")
        out += tuple(np.zeros(0, dtype) for _ in range(count))
    return out


def _squeezed(outs: tuple, tuple_mode: bool, squeeze_output: bool):
    if not tuple_mode:
        return outs[0]
    return outs[0] if len(outs) == 1 and squeeze_output else outs


class _Gatherer:
    """What the gatherers share: a chunk's result (a tuple of outputs, one array, or None for a chunk
    skipped) is handed to ``_gather`` as a tuple."""

    names: list | None = None
    tuple_mode = None
    #: what to give when no chunk had a peak (set by run_node_pipeline from the nodes' dtypes)
    empty_outputs: tuple = ()

    def __call__(self, res) -> None:
        if res is None:
            return
        if self.tuple_mode is None:
            self.tuple_mode = _tuple_mode(self.names, res)
        self._gather(res if self.tuple_mode else (res,))

    def _gather(self, buffers: tuple) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


class GatherToMemory(_Gatherer):
    """Gather the chunks' outputs in memory and concatenate them."""

    def __init__(self) -> None:
        self.outputs: list = []

    def _gather(self, buffers: tuple) -> None:
        self.outputs.append(buffers)

    def finalize_buffers(self, squeeze_output: bool = False):
        """The concatenated outputs (a tuple, or one array)."""
        if not self.outputs:
            return _squeezed(tuple(self.empty_outputs), True, squeeze_output)
        outs = tuple(np.concatenate(parts, axis=0) for parts in zip(*self.outputs))
        return _squeezed(outs, bool(self.tuple_mode), squeeze_output)


class GatherToNpy(_Gatherer):
    """Gather the chunks' outputs into ``.npy`` files, returned memory-mapped.

    Each file is written under a temporary name next to its target and renamed into place once
    complete; an existing file is never replaced.

    Parameters
    ----------
    dest : str, Path or list
        A folder (one ``<name>.npy`` per name; created, refused if it exists unless ``exist_ok``),
        or one ``.npy`` path per output.
    names : list of str, optional
        Names of the outputs (required with a folder; the file stems otherwise).
    npy_header_size : int
        Bytes reserved for the ``.npy`` header (a multiple of 64, at least 128).
    exist_ok : bool
        Allow an existing folder (its files of the same names are still never replaced).
    """

    def __init__(self, dest=None, names: list | None = None, npy_header_size: int = 1024, exist_ok: bool = False,
                 folder=None) -> None:
        dest = folder if dest is None else dest
        if dest is None:
            raise ValueError("gather_mode='npy' needs dest= (a folder, or one .npy path per output)")
        if npy_header_size < 128 or npy_header_size % 64:
            raise ValueError(f"npy_header_size={npy_header_size}: a multiple of 64, at least 128")
        self.npy_header_size = int(npy_header_size)
        if isinstance(dest, (list, tuple)):
            self.folder = None
            self.file_paths = [Path(p) for p in dest]
            self.names = list(names) if names is not None else [p.stem for p in self.file_paths]
            if len(self.names) != len(self.file_paths):
                raise ValueError(f"dest has {len(self.file_paths)} files but {len(self.names)} names were given")
            for path in self.file_paths:
                path.parent.mkdir(parents=True, exist_ok=True)
        else:
            if names is None:
                raise ValueError("gather_mode='npy' with a folder needs names= (one per output)")
            self.folder = Path(dest)
            if self.folder.exists() and not exist_ok:
                raise FolderExistsError(f"folder {str(dest)!r} already exists; remove it or give another dest")
            self.folder.mkdir(parents=True, exist_ok=True)
            self.names = list(names)
            self.file_paths = [self.folder / f"{name}.npy" for name in self.names]
        for path in self.file_paths:
            if os.path.lexists(path):
                raise FolderExistsError(f"{str(path)!r} already exists; gpuspike does not replace it")
        tag = uuid.uuid4().hex[:8]
        self._tmp_paths = [p.with_name(f".{p.name}.tmp-{tag}") for p in self.file_paths]
        self._files = [open(p, "wb+") for p in self._tmp_paths]
        for f in self._files:
            f.seek(self.npy_header_size)
        self.dtypes: list = [None] * len(self.names)
        self.shapes0 = [0] * len(self.names)
        self.final_shapes: list = [None] * len(self.names)

    def _gather(self, buffers: tuple) -> None:
        for i, buf in enumerate(buffers):
            buf = np.ascontiguousarray(buf)
            if self.dtypes[i] is None:
                self.dtypes[i], self.final_shapes[i] = buf.dtype, buf.shape[1:]
            elif buf.dtype != self.dtypes[i] or buf.shape[1:] != self.final_shapes[i]:
                raise ValueError(f"output {self.names[i]!r} changed from {self.dtypes[i]} {self.final_shapes[i]} to "
                                 f"{buf.dtype} {buf.shape[1:]} between chunks")
            self._files[i].write(buf.tobytes())
            self.shapes0[i] += buf.shape[0]

    def _header(self, i: int) -> bytes:
        meta = {"descr": np.lib.format.dtype_to_descr(self.dtypes[i]), "fortran_order": False,
                "shape": (self.shapes0[i],) + tuple(self.final_shapes[i])}
        text = repr(meta).encode("latin1")
        room = self.npy_header_size - 10 - len(text) - 1
        if room < 0:
            raise ValueError(f"the .npy header of {self.names[i]!r} needs more than npy_header_size="
                             f"{self.npy_header_size} bytes")
        return b"\x93NUMPY\x01\x00" + (self.npy_header_size - 10).to_bytes(2, "little") + text + b" " * room + b"\n"

    def abort(self) -> None:
        """Close and remove the temporary files (the pipeline failed)."""
        for f, tmp in zip(self._files, self._tmp_paths):
            f.close()
            tmp.unlink(missing_ok=True)

    def finalize_buffers(self, squeeze_output: bool = False):
        """Write the headers, rename the files into place and open them memory-mapped."""
        linked: list = []
        try:
            for i, f in enumerate(self._files):
                if self.dtypes[i] is None:  # no chunk had a peak
                    empty = _empty_like_output(self.empty_outputs, i)
                    self.dtypes[i], self.final_shapes[i] = empty.dtype, empty.shape[1:]
                f.seek(0)
                f.write(self._header(i))
                f.flush()
                os.fsync(f.fileno())
                f.close()
            for tmp, path in zip(self._tmp_paths, self.file_paths):
                os.link(tmp, path)  # fails, never replaces, if something appeared there meanwhile
                linked.append(path)
            for tmp in self._tmp_paths:
                tmp.unlink()
        except BaseException:
            for path in linked:  # all the outputs or none
                path.unlink(missing_ok=True)
            self.abort()
            raise
        outs = tuple(np.load(p, mmap_mode="r") for p in self.file_paths)
        return _squeezed(outs, self.tuple_mode is not False, squeeze_output)


def _split_zarr_store_path(dataset_path) -> tuple[Path, str]:
    parts = Path(dataset_path).parts
    for i, part in enumerate(parts):
        if part.endswith(".zarr"):
            inner = parts[i + 1:]
            if not inner:
                break
            return Path(*parts[:i + 1]), "/".join(inner)
    raise ValueError(f"{str(dataset_path)!r}: give a path inside a zarr store, '<store>.zarr/<group>/<array>'")


class GatherToZarr(_Gatherer):
    """Gather the chunks' outputs into zarr arrays (appended chunk by chunk along the first axis).

    Parameters
    ----------
    dest : str, Path or list
        A new store ending in ``.zarr`` (written under a temporary name, renamed into place when
        complete; refused if it exists), or one destination per output: a path inside an existing
        ``.zarr`` store (the array is created there; an existing one is not replaced) or a zarr
        array with 0 rows. A failed run removes what it wrote (the arrays it created, the rows it
        appended).
    names : list of str, optional
        Names of the outputs (required with a new store).
    compressor : numcodecs codec, "default" or None
        ``"default"``: Blosc zstd level 5 with bit shuffle.
    zarr_target_chunk_bytes : int or dict
        Uncompressed bytes per zarr chunk (one value, or one per name).
    """

    def __init__(self, dest=None, names: list | None = None, compressor="default",
                 zarr_target_chunk_bytes: int | dict = 10 * 1024 * 1024, folder=None) -> None:
        from .zarrrecording import get_default_zarr_compressor, open_group

        dest = folder if dest is None else dest
        if dest is None:
            raise ValueError("gather_mode='zarr' needs dest= (a '.zarr' store, or one destination per output)")
        self.compressor = get_default_zarr_compressor() if isinstance(compressor, str) and \
            compressor == "default" else compressor
        self._final_store = None
        self._tmp_store = None
        self._created: list = []  # (group, name) of the arrays this gatherer created
        if isinstance(dest, (list, tuple)):
            self.arrays: list = []
            self._create: list = []
            derived = []
            roots: dict = {}
            for item in dest:
                if isinstance(item, (str, Path)):
                    store, inner = _split_zarr_store_path(item)
                    if str(store) not in roots:
                        roots[str(store)] = open_group(store, mode="a")
                    self.arrays.append(None)
                    self._create.append((roots[str(store)], inner))
                    derived.append(inner.split("/")[-1])
                else:
                    if item.shape[0] != 0:
                        raise ValueError(f"a zarr array given in dest must have 0 rows, got shape {item.shape}")
                    self.arrays.append(item)
                    self._create.append(None)
                    derived.append(str(item.basename))
            self.names = list(names) if names is not None else derived
            self._given = [c is None for c in self._create]
        else:
            if names is None:
                raise ValueError("gather_mode='zarr' with a new store needs names= (one per output)")
            if not str(dest).endswith(".zarr"):
                raise ValueError(f"gather_mode='zarr': dest={str(dest)!r} must end with '.zarr'")
            target = Path(dest)
            if os.path.lexists(target):
                raise FolderExistsError(f"zarr store {str(dest)!r} already exists; remove it or give another dest")
            target.parent.mkdir(parents=True, exist_ok=True)
            self._final_store = target
            self._tmp_store = target.with_name(f".{target.name}.tmp-{uuid.uuid4().hex[:8]}")
            root = open_group(self._tmp_store, mode="w")
            self.names = list(names)
            self.arrays = [None] * len(self.names)
            self._create = [(root, name) for name in self.names]
            self._given = [False] * len(self.names)
        if len(self.names) != len(self.arrays):
            raise ValueError(f"dest has {len(self.arrays)} destinations but {len(self.names)} names were given")
        if isinstance(zarr_target_chunk_bytes, dict):
            missing = [n for n in self.names if n not in zarr_target_chunk_bytes]
            if missing:
                raise ValueError(f"zarr_target_chunk_bytes has no entry for {missing}")
            self.zarr_target_chunk_bytes = {n: int(zarr_target_chunk_bytes[n]) for n in self.names}
        else:
            self.zarr_target_chunk_bytes = {n: int(zarr_target_chunk_bytes) for n in self.names}

    def _new_array(self, i: int, buf: np.ndarray):
        from .zarrrecording import create_array

        group, inner = self._create[i]
        if inner in group:
            raise FolderExistsError(f"zarr array {inner!r} already exists in the store; gpuspike does not replace it")
        row_bytes = max(1, int(np.prod(buf.shape[1:], dtype="int64")) * buf.dtype.itemsize)
        rows = max(1, self.zarr_target_chunk_bytes[self.names[i]] // row_bytes)
        array = create_array(group, inner, shape=(0,) + buf.shape[1:], chunks=(rows,) + buf.shape[1:],
                             dtype=buf.dtype, compressor=self.compressor)
        self._created.append((group, inner))
        return array

    def _gather(self, buffers: tuple) -> None:
        for i, buf in enumerate(buffers):
            buf = np.ascontiguousarray(buf)
            if self.arrays[i] is None:
                self.arrays[i] = self._new_array(i, buf)
            self.arrays[i].append(buf, axis=0)

    def abort(self) -> None:
        """Remove what the failed pipeline wrote: the temporary store, or the arrays it created in an
        existing store, and the rows it appended to arrays given empty."""
        import shutil

        if self._tmp_store is not None:
            shutil.rmtree(self._tmp_store, ignore_errors=True)
            return
        for group, inner in self._created:
            if inner in group:
                del group[inner]
        for arr, given in zip(self.arrays, self._given):
            if given and arr is not None and arr.shape[0]:
                arr.resize((0,) + tuple(arr.shape[1:]))

    def finalize_buffers(self, squeeze_output: bool = False):
        """Rename a new store into place; the arrays, opened from their final place."""
        from .atomic import rename_noreplace
        from .zarrrecording import open_group

        for i, arr in enumerate(self.arrays):
            if arr is None:  # no chunk had a peak
                self.arrays[i] = self._new_array(i, _empty_like_output(self.empty_outputs, i))
        if self._final_store is None:
            outs = tuple(self.arrays)
        else:
            import zarr

            zarr.consolidate_metadata(str(self._tmp_store))
            try:
                rename_noreplace(self._tmp_store, self._final_store)
            except BaseException:
                self.abort()
                raise
            root = open_group(self._final_store, mode="r")
            outs = tuple(root[name] for name in self.names)
        return _squeezed(outs, self.tuple_mode is not False, squeeze_output)


# ---------------------------------------------------------------------- running
def _init_peak_pipeline(time_series, nodes, skip_after_n_peaks_per_worker) -> dict:
    return {"time_series": time_series, "nodes": nodes, "max_margin": max(node.get_margin() for node in nodes),
            "skip_after_n_peaks_per_worker": skip_after_n_peaks_per_worker, "num_peaks": 0}


def _node_output(node, traces, inputs, start_frame, end_frame, segment_index, max_margin, peak_slices):
    if isinstance(node, PeakDetector):
        extra = max_margin - node.get_margin()
        detection = traces[extra:traces.shape[0] - extra] if extra else traces
        output = node.compute(detection, start_frame, end_frame, segment_index, max_margin)
        output[0]["sample_index"] += extra
        return output
    if isinstance(node, (PeakRetriever, SpikeRetriever)):
        return node.compute(traces, start_frame, end_frame, segment_index, max_margin, peak_slices[id(node)])
    if node._compute_has_extended_signature:
        return node.compute(traces, start_frame, end_frame, segment_index, max_margin, *inputs)
    return node.compute(traces, *inputs)


def _returned(node, output) -> tuple:
    flags = node.return_output
    if isinstance(output, tuple):
        if isinstance(flags, tuple):
            if len(flags) != len(output):
                raise ValueError(f"{type(node).__name__}: return_output has {len(flags)} flags for {len(output)} "
                                 f"outputs")
            return tuple(o for flag, o in zip(flags, output) if flag)
        return output if flags else ()
    return (output,) if flags is True or (isinstance(flags, np.bool_) and flags) else ()


def _chunk_traces(segment, start_frame: int, end_frame: int, margin: int) -> tuple[np.ndarray, int]:
    """The chunk's traces with ``margin`` frames (zeros outside the segment) each side, and the left
    margin. Inside a raw binary file the chunk is a view mapped from it: the nodes read only the frames
    they index (SpikeInterface's memory map does the same)."""
    view = getattr(segment, "get_traces_view", None)
    if view is not None and start_frame - margin >= 0 and end_frame + margin <= segment.get_num_samples():
        traces = view(start_frame - margin, end_frame + margin)
        if traces is not None:
            return traces, margin
    traces, left_margin, _ = get_chunk_with_margin(segment, start_frame, end_frame, None, margin, add_zeros=True)
    return traces, left_margin


def _compute_peak_pipeline_chunk(segment_index, start_frame, end_frame, worker_ctx):
    nodes = worker_ctx["nodes"]
    max_margin = worker_ctx["max_margin"]
    limit = worker_ctx["skip_after_n_peaks_per_worker"]
    retrievers = find_parents_of_type(nodes, (SpikeRetriever, PeakRetriever))
    peak_slices = {id(r): r.get_peak_slice(segment_index, start_frame, end_frame, max_margin) for r in retrievers}
    run = any(int(i0) < int(i1) for i0, i1 in peak_slices.values()) if retrievers else True
    if limit is not None and worker_ctx["num_peaks"] > limit:
        run = False
    if not run:
        return None
    traces, left_margin = _chunk_traces(worker_ctx["time_series"].segments[segment_index], start_frame, end_frame,
                                        max_margin)
    outputs: dict = {}
    for node in nodes:
        inputs: tuple = ()
        for parent in node.parents or []:
            out = outputs[id(parent)]
            inputs += out if isinstance(out, tuple) else (out,)
        outputs[id(node)] = _node_output(node, traces, inputs, start_frame, end_frame, segment_index, max_margin,
                                         peak_slices)
        if limit is not None and isinstance(node, PeakSource):
            worker_ctx["num_peaks"] += outputs[id(node)][0].size
    returned: tuple = ()
    for node in nodes:
        returned += _returned(node, outputs[id(node)])
    if isinstance(nodes[0], PeakDetector) and _returned(nodes[0], outputs[id(nodes[0])]):
        returned[0]["sample_index"] += start_frame - left_margin  # the detector's peaks, back to segment frames
    return returned


def run_node_pipeline(time_series, nodes: list, job_kwargs: dict | None = None, job_name: str = "pipeline",
                      gather_mode: Literal["memory", "npy", "zarr"] = "memory", gather_kwargs: dict | None = None,
                      squeeze_output: bool = True, dest=None, names: list | None = None, verbose: bool = False,
                      skip_after_n_peaks: int | None = None, slices: list | None = None,
                      check_for_peak_source: bool = False, folder=None):
    """Run a graph of nodes over the recording, chunk by chunk, and gather the returned outputs.

    Parameters
    ----------
    time_series : BaseRecording
    nodes : list of PipelineNode
        Parents before children; the first gives the peaks (a PeakSource).
    job_kwargs : dict, optional
        Chunking and parallelism (``n_jobs``, ``chunk_duration``, ``pool_engine``, ...).
    job_name : str
        For the progress bar.
    gather_mode : {"memory", "npy", "zarr"}
        Concatenate in memory, or write ``.npy`` files / zarr arrays (see :class:`GatherToNpy`,
        :class:`GatherToZarr`).
    gather_kwargs : dict, optional
        Options of the gatherer.
    squeeze_output : bool
        One output: return the array itself, not a 1-tuple.
    dest : str, Path or list, optional
        Where "npy" / "zarr" write (``folder`` is its deprecated name).
    names : list of str, optional
        Names of the outputs (file / array names).
    verbose : bool
    skip_after_n_peaks : int, optional
        Stop computing after about this many peaks (counted per worker).
    slices : list of (segment_index, start_frame, end_frame), optional
        Run only these chunks.
    check_for_peak_source : bool
        Require a PeakSource as first node.
    folder : optional
        Deprecated name of ``dest``.

    Returns
    -------
    tuple or np.ndarray
        The outputs of the nodes with ``return_output`` (in node order), one row per peak.
    """
    nodes = check_graph(nodes, check_for_peak_source=check_for_peak_source)
    if gather_mode not in ("memory", "npy", "zarr"):
        raise ValueError(f"run_node_pipeline(gather_mode={gather_mode!r}): allowed 'memory', 'npy', 'zarr'")
    job_kwargs = fix_job_kwargs(job_kwargs)
    if folder is not None:
        warnings.warn("run_node_pipeline(folder=...) is deprecated (SpikeInterface 0.105): use dest=",
                      FutureWarning, stacklevel=2)
        dest = folder if dest is None else dest
    per_worker = None if skip_after_n_peaks is None else skip_after_n_peaks / max(1, int(job_kwargs.get("n_jobs", 1)))
    gather_kwargs = dict(gather_kwargs or {})
    if gather_mode == "memory":
        gather = GatherToMemory()
    elif gather_mode == "npy":
        gather = GatherToNpy(dest, names, **gather_kwargs)
    else:
        gather = GatherToZarr(dest, names, **gather_kwargs)
    gather.empty_outputs = _empty_outputs(nodes)
    if isinstance(nodes[0], PeakSource) and nodes[0].need_first_call_before_pipeline:
        nodes[0]._first_call_before_pipeline()
    processor = TimeSeriesChunkExecutor(time_series, _compute_peak_pipeline_chunk, _init_peak_pipeline,
                                        (time_series, nodes, per_worker), gather_func=gather, job_name=job_name,
                                        verbose=verbose, **job_kwargs)
    try:
        processor.run(slices=slices)
    except BaseException:
        if hasattr(gather, "abort"):
            gather.abort()
        raise
    return gather.finalize_buffers(squeeze_output=squeeze_output)


__all__ = ["PipelineNode", "PeakSource", "PeakDetector", "PeakRetriever", "SpikeRetriever", "WaveformsNode",
           "ExtractDenseWaveforms", "ExtractSparseWaveforms", "sorting_to_peaks", "find_parent_of_type",
           "find_parents_of_type", "check_graph", "run_node_pipeline", "GatherToMemory", "GatherToNpy",
           "GatherToZarr", "base_peak_dtype", "spike_peak_dtype"]
