"""BaseSnippets: unsorted waveform cutouts recorded around threshold crossings."""
from __future__ import annotations

import abc
from pathlib import Path
from typing import Sequence

import numpy as np

from .abstract_bases import BaseRecordingSnippets
from .base import BaseExtractor, BaseSegment
from .channels import ChannelsMixin
from .si_methods import SnippetsMethods


class BaseSnippetsSegment(BaseSegment):
    """One segment of snippets."""

    @abc.abstractmethod
    def get_num_snippets(self) -> int:
        """Number of snippets in the segment."""

    @abc.abstractmethod
    def get_frames(self, indices=None) -> np.ndarray:
        """Peak frame of each snippet (of ``indices`` when given)."""

    @abc.abstractmethod
    def get_snippets(self, indices, channel_indices) -> np.ndarray:
        """Snippets ``(num, snippet_len, channels)`` of ``indices`` (None = all) and ``channel_indices``."""

    def frames_to_indices(self, start_frame: int | None, end_frame: int | None) -> slice:
        frames = self.get_frames()
        lo = 0 if start_frame is None else int(np.searchsorted(frames, start_frame, side="left"))
        hi = len(frames) if end_frame is None else int(np.searchsorted(frames, end_frame, side="left"))
        return slice(lo, hi)


class BaseSnippets(SnippetsMethods, ChannelsMixin, BaseExtractor):
    """Base class of snippets: (num_snippets, snippet_len, num_channels) cutouts per segment.

    Parameters
    ----------
    sampling_frequency : float
    nbefore : int or None
        Samples before the peak.
    snippet_len : int
        Samples per snippet.
    channel_ids : array-like
    dtype : numpy dtype
    """

    _main_properties = ["group", "location", "gain_to_uV", "offset_to_uV"]

    def __init__(self, sampling_frequency: float, nbefore: int | None, snippet_len: int, channel_ids: Sequence,
                 dtype) -> None:
        from .validation import check_sampling_frequency

        sampling_frequency = check_sampling_frequency(sampling_frequency)
        BaseExtractor.__init__(self, channel_ids)
        if nbefore is not None and not 0 <= nbefore <= snippet_len:
            raise ValueError(f"nbefore={nbefore} must be in 0..snippet_len={snippet_len}")
        self._sampling_frequency = sampling_frequency
        self._nbefore = nbefore
        self._snippet_len = int(snippet_len)
        self._dtype = np.dtype(dtype)

    @property
    def sampling_frequency(self) -> float:
        return self._sampling_frequency

    def get_sampling_frequency(self) -> float:
        return self._sampling_frequency

    @property
    def nbefore(self) -> int | None:
        return self._nbefore

    @property
    def snippet_len(self) -> int:
        return self._snippet_len

    @property
    def nafter(self) -> int | None:
        return None if self._nbefore is None else self._snippet_len - self._nbefore

    def get_dtype(self) -> np.dtype:
        return self._dtype

    @property
    def dtype(self) -> np.dtype:
        return self._dtype

    def is_aligned(self) -> bool:
        """True when snippets are aligned on their peak (``nbefore`` known)."""
        return self._nbefore is not None

    def get_num_snippets(self, segment_index: int | None = None) -> int:
        """Number of snippets in a segment."""
        segment_index = self._check_segment_index(segment_index)
        return int(self._segments[segment_index].get_num_snippets())

    def get_total_snippets(self) -> int:
        """Number of snippets over all segments."""
        return sum(self.get_num_snippets(i) for i in range(self.get_num_segments()))

    def get_frames(self, indices=None, segment_index: int | None = None) -> np.ndarray:
        """Peak frame of each snippet (of ``indices`` when given)."""
        segment_index = self._check_segment_index(segment_index)
        return self._segments[segment_index].get_frames(indices)

    def get_snippets(self, indices=None, segment_index: int | None = None, channel_ids: Sequence | None = None,
                     return_scaled: bool = False, *, return_in_uV: bool | None = None) -> np.ndarray:
        """Snippets (num, snippet_len, num_channels) of a segment, for ``indices`` and ``channel_ids``.

        Parameters
        ----------
        indices : array of int, optional
            Snippets to return (all when None).
        segment_index : int, optional
            Needed with several segments.
        channel_ids : sequence, optional
            Channels to return (all when None).
        return_scaled : bool
            Snippets in µV (needs gains), as float32.
        return_in_uV : bool, optional
            SpikeInterface 0.105's name of ``return_scaled`` (wins when given).

        Returns
        -------
        np.ndarray
        """
        if return_in_uV is not None:
            return_scaled = return_in_uV
        segment_index = self._check_segment_index(segment_index)
        n = self.get_num_snippets(segment_index)
        if indices is not None:
            indices = np.asarray(indices)
            if indices.dtype.kind not in "iu" and indices.size:
                raise TypeError(f"indices must be integers, got dtype {indices.dtype}")
            if indices.size and (indices.min() < 0 or indices.max() >= n):
                raise ValueError(f"indices out of range: allowed 0..{n - 1}")
        channel_indices = self.ids_to_indices(channel_ids, prefer_slice=True)
        snippets = self._segments[segment_index].get_snippets(indices, channel_indices)
        if return_scaled:
            gains, offsets = self._scaling(channel_indices)
            snippets = (snippets.astype("float32") * gains + offsets).astype("float32")
        return snippets

    def get_snippets_from_frames(self, segment_index: int | None = None, start_frame: int | None = None,
                                 end_frame: int | None = None, channel_ids: Sequence | None = None,
                                 return_scaled: bool = False, *, return_in_uV: bool | None = None) -> np.ndarray:
        """Snippets whose peak frame lies in [start_frame, end_frame).

        Parameters
        ----------
        segment_index : int, optional
        start_frame, end_frame : int, optional
            Frame range (the segment's start / end when None).
        channel_ids : sequence, optional
        return_scaled : bool
            Snippets in µV (needs gains).
        return_in_uV : bool, optional
            SpikeInterface 0.105's name of ``return_scaled`` (wins when given).

        Returns
        -------
        np.ndarray
        """
        if return_in_uV is not None:
            return_scaled = return_in_uV
        segment_index = self._check_segment_index(segment_index)
        sl = self._segments[segment_index].frames_to_indices(start_frame, end_frame)
        indices = np.arange(sl.start, sl.stop)
        return self.get_snippets(indices, segment_index, channel_ids, return_scaled)

    def channel_slice(self, channel_ids: Sequence, renamed_channel_ids: Sequence | None = None) -> "BaseSnippets":
        """A lazy view on some channels."""
        from .views import ChannelSliceSnippets

        return ChannelSliceSnippets(self, channel_ids=channel_ids, renamed_channel_ids=renamed_channel_ids)

    def remove_channels(self, channel_ids: Sequence | None = None,
                        remove_channel_ids: Sequence | None = None) -> "BaseSnippets":
        """A view without the given channels (``remove_channel_ids`` is SpikeInterface 0.105's name).

        Parameters
        ----------
        channel_ids : sequence, optional
        remove_channel_ids : sequence, optional

        Returns
        -------
        BaseSnippets
        """
        if remove_channel_ids is not None:
            channel_ids = remove_channel_ids
        if channel_ids is None:
            raise TypeError("remove_channels needs channel_ids (the channels to remove)")
        remove = set(self.ids_to_indices(channel_ids).tolist())
        return self.channel_slice([c for i, c in enumerate(self.channel_ids) if i not in remove])

    def save(self, folder: str | Path | None = None, format: str = "npy", overwrite: bool = False, **kwargs):
        """Save to a folder of ``.npy`` files (SpikeInterface's ``NpyFolderSnippets``; ``"npz"`` is an alias)
        or to memory.

        Parameters
        ----------
        folder : str or Path, optional
            Default: a new folder in the global temporary folder.
        format : {"npy", "npz", "memory"}
        overwrite : bool
            Replace a folder gpuspike or SpikeInterface wrote (only once the new one is complete).
        **kwargs
            ``dtype`` of the saved snippets, ``verbose``.

        Returns
        -------
        BaseSnippets
            The saved copy.
        """
        from .saving import save_snippets

        return save_snippets(self, folder=folder, format=format, overwrite=overwrite, **kwargs)

    def __repr__(self) -> str:
        # SpikeInterface's text, spaces included
        return (f"{type(self).__name__}: {self.get_num_channels()} channels - {self.get_num_segments()} segments -  "
                f"{self.sampling_frequency / 1000.0:0.1f}kHz \n snippet_len:{self.snippet_len} "
                f"before peak:{self.nbefore}")


BaseRecordingSnippets.register(BaseSnippets)
