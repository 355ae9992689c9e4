"""Interoperability with SpikeInterface dicts: map its class paths to gpuspike classes.

SpikeInterface writes the full import path of a class in every dict and folder JSON (e.g.
``spikeinterface.core.binaryfolder.BinaryFolderRecording``). gpuspike loads such dicts by mapping
the path to the gpuspike class that accepts the same keyword arguments.
"""
from __future__ import annotations

import importlib
import inspect
import warnings

#: SpikeInterface class name -> gpuspike "module.Class" (same keyword arguments)
_CLASS_MAP = {
    "BinaryRecordingExtractor": "gpuspike.core.binaryrecording.BinaryRecordingExtractor",
    "BinaryFolderRecording": "gpuspike.core.binaryfolder.BinaryFolderRecording",
    "NpzSortingExtractor": "gpuspike.core.npzsorting.NpzSortingExtractor",
    "NpzFolderSorting": "gpuspike.core.npzsorting.NpzFolderSorting",
    "NumpyFolderSorting": "gpuspike.core.npzsorting.NumpyFolderSorting",
    "NpySnippetsExtractor": "gpuspike.core.npzsorting.NpySnippetsExtractor",
    "NpyFolderSnippets": "gpuspike.core.npzsorting.NpyFolderSnippets",
    "ZarrRecordingExtractor": "gpuspike.core.zarrrecording.ZarrRecordingExtractor",
    "ChannelSliceRecording": "gpuspike.core.views.ChannelSliceRecording",
    "ChannelSliceSnippets": "gpuspike.core.views.ChannelSliceSnippets",
    "FrameSliceRecording": "gpuspike.core.views.FrameSliceRecording",
    "FrameSliceSorting": "gpuspike.core.views.FrameSliceSorting",
    "UnitsSelectionSorting": "gpuspike.core.views.UnitsSelectionSorting",
    "AppendSegmentRecording": "gpuspike.core.segmentutils.AppendSegmentRecording",
    "ConcatenateSegmentRecording": "gpuspike.core.segmentutils.ConcatenateSegmentRecording",
    "SelectSegmentRecording": "gpuspike.core.segmentutils.SelectSegmentRecording",
    "AppendSegmentSorting": "gpuspike.core.segmentutils.AppendSegmentSorting",
    "ConcatenateSegmentSorting": "gpuspike.core.segmentutils.ConcatenateSegmentSorting",
    "SelectSegmentSorting": "gpuspike.core.segmentutils.SelectSegmentSorting",
    "ChannelsAggregationRecording": "gpuspike.core.aggregate.AggregateChannelsRecording",
    "UnitsAggregationSorting": "gpuspike.core.aggregate.AggregateUnitsSorting",
    "RemoveExcessSpikesSorting": "gpuspike.core.excess_spikes.RemoveExcessSpikesSorting",
}

#: SpikeInterface keyword names that gpuspike spells differently: {class name: {si_name: gpuspike_name}}
_KWARG_RENAMES = {
    "ChannelsAggregationRecording": {"recording_list_or_dict": "recording_list"},
    "UnitsAggregationSorting": {"sorting_list_or_dict": "sorting_list"},
}


def known_foreign_classes() -> list[str]:
    """SpikeInterface class names that gpuspike can load."""
    return sorted(_CLASS_MAP)


def resolve_foreign_class(class_path: str):
    """The gpuspike class for a SpikeInterface class path found in a dict or folder JSON.

    Parameters
    ----------
    class_path : str
        e.g. ``"spikeinterface.core.binaryfolder.BinaryFolderRecording"``.

    Returns
    -------
    type
        A class whose constructor takes the SpikeInterface keyword arguments (renamed ones are
        translated, keyword arguments gpuspike does not know are dropped with a warning).

    Raises
    ------
    ValueError
        For a class path gpuspike does not know, listing the ones it knows.
    """
    if not isinstance(class_path, str) or "." not in class_path:
        raise ValueError(f"class path {class_path!r} is not a dotted 'module.Class' path")
    module, _, name = class_path.rpartition(".")
    if not module.startswith("spikeinterface") or name not in _CLASS_MAP:
        raise ValueError(
            f"cannot load class {class_path!r}: gpuspike maps only these SpikeInterface classes: "
            f"{known_foreign_classes()}. Save the object with SpikeInterface to a binary / npz / zarr "
            f"folder first (recording.save(folder=...)) and load that folder."
        )
    target_module, _, target_name = _CLASS_MAP[name].rpartition(".")
    cls = getattr(importlib.import_module(target_module), target_name)
    return _kwargs_adapter(cls, name)


def _kwargs_adapter(cls, si_name: str):
    renames = _KWARG_RENAMES.get(si_name, {})
    params = inspect.signature(cls.__init__).parameters
    accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())

    def build(**kwargs):
        kwargs = {renames.get(k, k): v for k, v in kwargs.items()}
        if not accepts_any:
            dropped = sorted(k for k in kwargs if k not in params)
            if dropped:
                warnings.warn(f"loading SpikeInterface {si_name}: keyword arguments {dropped} are not used by "
                              f"gpuspike's {cls.__name__}", stacklevel=3)
                kwargs = {k: v for k, v in kwargs.items() if k in params}
        if isinstance(kwargs.get("recording_list"), dict):
            kwargs["recording_list"] = list(kwargs["recording_list"].values())
        if isinstance(kwargs.get("sorting_list"), dict):
            kwargs["sorting_list"] = list(kwargs["sorting_list"].values())
        return cls(**kwargs)

    build.__name__ = f"from_spikeinterface_{si_name}"
    build.__foreign__ = True
    return build
