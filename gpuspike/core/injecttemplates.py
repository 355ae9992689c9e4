"""InjectTemplatesRecording: templates added at the spikes of a sorting, over a recording or zeros."""
from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np

from .recording import BaseRecording, BaseRecordingSegment
from .sorting import BaseSorting


class InjectTemplatesRecordingSegment(BaseRecordingSegment):
    """Templates added at the spikes of one segment, onto a parent segment or zeros (SpikeInterface's
    arguments: ``spike_vector`` is this segment's spikes, ``amplitude_vector`` / ``upsample_vector``
    one value per spike)."""

    def __init__(self, sampling_frequency: float, dtype: np.dtype, spike_vector: np.ndarray, templates: np.ndarray,
                 nbefore: int, amplitude_vector: np.ndarray | None, upsample_vector: np.ndarray | None,
                 parent_recording_segment: BaseRecordingSegment | None = None, num_samples: int | None = None) -> None:
        spikes, parent_segment = spike_vector, parent_recording_segment
        amplitudes = None if amplitude_vector is None else np.asarray(amplitude_vector)
        if amplitudes is not None and amplitudes.dtype.kind != "f":
            amplitudes = amplitudes.astype("float64")
        upsample_vector = None if upsample_vector is None else np.asarray(upsample_vector)
        if num_samples is None:
            if parent_segment is None:
                raise ValueError("InjectTemplatesRecordingSegment: give num_samples= when there is no "
                                 "parent_recording_segment")
            num_samples = parent_segment.get_num_samples()
        super().__init__(sampling_frequency=sampling_frequency,
                         t_start=None if parent_segment is None else parent_segment.t_start,
                         time_vector=None if parent_segment is None else parent_segment.time_vector)
        self._dtype = dtype
        self._frames = np.ascontiguousarray(spikes["sample_index"], dtype="int64")
        self._units = np.ascontiguousarray(spikes["unit_index"], dtype="int64")
        self._templates = templates
        self._nbefore = int(nbefore)
        self._amplitudes = amplitudes
        self._upsample = upsample_vector
        self._parent = parent_segment
        self._num_samples = int(num_samples)
        #: (gain, integer dtype) to quantize the result to (gpuspike's integer ground-truth recordings)
        self._quantize = None

    def get_num_samples(self) -> int:
        return self._num_samples

    def get_traces(self, start_frame, end_frame, channel_indices) -> np.ndarray:
        from gpuspike.kernels.inject import inject_templates_cpu

        width = self._templates.shape[1]
        if self._parent is not None:
            traces = np.array(self._parent.get_traces(start_frame, end_frame, channel_indices), dtype=self._dtype)
        else:
            num_channels = np.arange(self._templates.shape[2])[channel_indices].size
            traces = np.zeros((end_frame - start_frame, num_channels), dtype=self._dtype)
        lo = np.searchsorted(self._frames, start_frame - width, side="left")
        hi = np.searchsorted(self._frames, end_frame + width, side="right")
        if hi <= lo:
            return self._quantized(traces)
        peaks = self._frames[lo:hi] - start_frame
        units = self._units[lo:hi]
        templates = self._templates
        if self._upsample is not None:  # one (unit, jitter) template per spike
            jitter = self._upsample[lo:hi]
            templates = templates[units, :, :, jitter]
            units = np.arange(units.size, dtype="int64")
        templates = np.ascontiguousarray(templates[:, :, channel_indices])
        if traces.dtype == np.float32 and templates.dtype == np.float32 and (
                self._amplitudes is None or self._amplitudes.dtype == np.float32):
            amplitudes = (np.ones(units.size, "float32") if self._amplitudes is None
                          else np.ascontiguousarray(self._amplitudes[lo:hi]))
            inject_templates_cpu(traces, peaks, units, amplitudes, templates, self._nbefore)
            return self._quantized(traces)
        for k in range(units.size):  # other dtypes: each spike added in turn, in the traces' dtype
            first = peaks[k] - self._nbefore
            a, b = max(first, 0), min(first + width, traces.shape[0])
            if b <= a:
                continue
            wf = templates[units[k], a - first:b - first]
            if self._amplitudes is not None:
                wf = wf * self._amplitudes[lo + k]
            traces[a:b] += wf.astype(traces.dtype, copy=False)
        return self._quantized(traces)

    def _quantized(self, traces: np.ndarray) -> np.ndarray:
        if self._quantize is None:
            return traces
        gain, dtype = self._quantize
        info = np.iinfo(dtype)
        return np.clip(np.round(traces / gain), info.min, info.max).astype(dtype)


class InjectTemplatesRecording(BaseRecording):
    """A recording with ``templates`` added at every spike of ``sorting`` (lazy, chunk by chunk).

    Parameters
    ----------
    sorting : BaseSorting
        Spikes to inject (one template per unit).
    templates : np.ndarray
        (num_units, num_samples, num_channels), or (..., upsample_factor) with ``upsample_vector``
        choosing the sub-sample version of each spike.
    nbefore : int, optional
        Samples before the peak in the templates (default: the sample of largest absolute value).
    amplitude_factor : float or np.ndarray, optional
        Scale of each spike (one value per spike of the spike vector, or one for all).
    parent_recording : BaseRecording, optional
        Recording to add the templates to (its dtype and channel ids); zeros when None.
    num_samples : int or list of int, optional
        Samples per segment without parent (default: last spike + template length).
    upsample_vector : np.ndarray, optional
        Jitter index of each spike (4D templates).
    check_borders : bool
        Warn when templates do not decay to ~0 at their borders.
    """

    def __init__(self, sorting: BaseSorting, templates, nbefore: int | None = None, amplitude_factor=None,
                 parent_recording: BaseRecording | None = None, num_samples: Sequence[int] | int | None = None,
                 upsample_vector=None, check_borders: bool = False) -> None:
        if not isinstance(sorting, BaseSorting):
            raise TypeError(f"sorting must be a BaseSorting, got {type(sorting).__name__}")
        templates = np.asarray(templates)
        if templates.ndim not in (3, 4):
            raise ValueError(f"templates must be (units, samples, channels) or (units, samples, channels, "
                             f"upsample_factor), got shape {templates.shape}")
        if templates.shape[0] != sorting.get_num_units():
            raise ValueError(f"templates has {templates.shape[0]} units, the sorting {sorting.get_num_units()}")
        if check_borders:
            peak = float(np.max(np.abs(templates))) if templates.size else 0.0
            if max(np.max(np.abs(templates[:, 0])), np.max(np.abs(templates[:, -1]))) > 0.01 * peak:
                warnings.warn("InjectTemplatesRecording: the templates do not decay to 0 at their borders; "
                              "use a longer window", UserWarning, stacklevel=2)
        spikes = sorting.to_spike_vector()
        if nbefore is None:
            nbefore = int(np.argmax(np.max(np.abs(templates), axis=(0, 2) if templates.ndim == 3 else (0, 2, 3))))
        if templates.ndim == 4:
            if upsample_vector is None:
                raise ValueError("4D templates need upsample_vector (the jitter index of each spike)")
            upsample_vector = np.asarray(upsample_vector, dtype="int64")
            if upsample_vector.shape != spikes.shape:
                raise ValueError(f"upsample_vector has shape {upsample_vector.shape}, the spike vector {spikes.shape}")
        elif upsample_vector is not None:
            raise ValueError("upsample_vector needs 4D templates (units, samples, channels, upsample_factor)")
        if amplitude_factor is None:
            amplitudes = None
        elif np.isscalar(amplitude_factor):
            amplitudes = np.full(spikes.size, amplitude_factor, dtype="float32")
        else:
            amplitudes = np.asarray(amplitude_factor)
            if amplitudes.shape != spikes.shape:
                raise ValueError(f"amplitude_factor has shape {amplitudes.shape}, the spike vector {spikes.shape}")
        if parent_recording is not None:
            if parent_recording.get_num_segments() != sorting.get_num_segments():
                raise ValueError(f"parent_recording has {parent_recording.get_num_segments()} segments, the sorting "
                                 f"{sorting.get_num_segments()}")
            if parent_recording.sampling_frequency != sorting.sampling_frequency:
                raise ValueError(f"parent_recording samples at {parent_recording.sampling_frequency} Hz, the sorting "
                                 f"at {sorting.sampling_frequency} Hz")
            if parent_recording.get_num_channels() != templates.shape[2]:
                raise ValueError(f"parent_recording has {parent_recording.get_num_channels()} channels, the "
                                 f"templates {templates.shape[2]}")
            channel_ids, dtype = parent_recording.channel_ids, parent_recording.get_dtype()
        else:
            channel_ids, dtype = np.arange(templates.shape[2]), templates.dtype
        super().__init__(sorting.sampling_frequency, channel_ids, dtype)
        if parent_recording is not None:
            parent_recording.copy_metadata(self)
            num_samples = [parent_recording.get_num_samples(i) for i in range(parent_recording.get_num_segments())]
        elif num_samples is None:
            last = int(spikes["sample_index"].max()) if spikes.size else 0
            num_samples = [last + templates.shape[1]] * sorting.get_num_segments()
        elif np.isscalar(num_samples):
            if sorting.get_num_segments() != 1:
                raise ValueError("num_samples as one int is for mono-segment sortings; give one value per segment")
            num_samples = [int(num_samples)]
        if len(num_samples) != sorting.get_num_segments():
            raise ValueError(f"num_samples has {len(num_samples)} values for {sorting.get_num_segments()} segments")
        self.templates = templates
        self.spike_vector = spikes
        self.nbefore = int(nbefore)
        bounds = np.searchsorted(spikes["segment_index"], np.arange(sorting.get_num_segments() + 1))
        for seg in range(sorting.get_num_segments()):
            sl = slice(bounds[seg], bounds[seg + 1])
            parent = None if parent_recording is None else parent_recording._segments[seg]
            self.add_segment(InjectTemplatesRecordingSegment(
                self.sampling_frequency, self._dtype, spikes[sl], templates, self.nbefore,
                None if amplitudes is None else amplitudes[sl],
                None if upsample_vector is None else upsample_vector[sl], parent, int(num_samples[seg])))
        self._kwargs = {"sorting": sorting, "templates": templates, "nbefore": self.nbefore,
                        "amplitude_factor": amplitude_factor, "upsample_vector": upsample_vector,
                        "check_borders": False}
        if parent_recording is None:
            self._kwargs["num_samples"] = [int(n) for n in num_samples]
        else:
            self._kwargs["parent_recording"] = parent_recording


def inject_templates(sorting: BaseSorting, templates, nbefore: int | None = None, amplitude_factor=None,
                     parent_recording: BaseRecording | None = None, num_samples=None, upsample_vector=None,
                     check_borders: bool = False) -> InjectTemplatesRecording:
    """A recording with ``templates`` added at the spikes of ``sorting`` (see :class:`InjectTemplatesRecording`).

    Parameters
    ----------
    sorting : BaseSorting
    templates : np.ndarray
    nbefore : int, optional
    amplitude_factor : float or np.ndarray, optional
    parent_recording : BaseRecording, optional
    num_samples : int or list of int, optional
    upsample_vector : np.ndarray, optional
    check_borders : bool

    Returns
    -------
    InjectTemplatesRecording
    """
    return InjectTemplatesRecording(sorting, templates, nbefore=nbefore, amplitude_factor=amplitude_factor,
                                    parent_recording=parent_recording, num_samples=num_samples,
                                    upsample_vector=upsample_vector, check_borders=check_borders)
