"""Interoperability with SpikeInterface dicts: one table of the classes both libraries share.

SpikeInterface writes the full import path of a class in every dict and folder JSON (e.g.
``spikeinterface.core.binaryfolder.BinaryFolderRecording``). gpuspike loads such dicts by mapping
the class name to the gpuspike class that takes the same keyword arguments, and writes the
SpikeInterface path in its own dicts for these classes, so SpikeInterface loads them too.
"""
from __future__ import annotations

import importlib
import inspect
import warnings

#: SpikeInterface class path -> gpuspike class path: the same object from the same keyword arguments
SI_CLASSES = {
    "spikeinterface.core.binaryrecordingextractor.BinaryRecordingExtractor":
        "gpuspike.core.binaryrecording.BinaryRecordingExtractor",
    "spikeinterface.core.binaryfolder.BinaryFolderRecording": "gpuspike.core.binaryfolder.BinaryFolderRecording",
    "spikeinterface.core.npzsortingextractor.NpzSortingExtractor": "gpuspike.core.npzsorting.NpzSortingExtractor",
    "spikeinterface.core.sortingfolder.NpzFolderSorting": "gpuspike.core.npzsorting.NpzFolderSorting",
    "spikeinterface.core.sortingfolder.NumpyFolderSorting": "gpuspike.core.npzsorting.NumpyFolderSorting",
    "spikeinterface.core.npysnippetsextractor.NpySnippetsExtractor": "gpuspike.core.npzsorting.NpySnippetsExtractor",
    "spikeinterface.core.npyfoldersnippets.NpyFolderSnippets": "gpuspike.core.npzsorting.NpyFolderSnippets",
    "spikeinterface.core.zarrextractors.ZarrRecordingExtractor": "gpuspike.core.zarrrecording.ZarrRecordingExtractor",
    "spikeinterface.core.zarrextractors.ZarrSortingExtractor": "gpuspike.core.zarrsorting.ZarrSortingExtractor",
    "spikeinterface.core.zarrextractors.ZarrArrayRecording": "gpuspike.core.zarrarray.ZarrArrayRecording",
    "spikeinterface.core.channelslice.ChannelSliceRecording": "gpuspike.core.views.ChannelSliceRecording",
    "spikeinterface.core.channelslice.ChannelSliceSnippets": "gpuspike.core.views.ChannelSliceSnippets",
    "spikeinterface.core.frameslicerecording.FrameSliceRecording": "gpuspike.core.views.FrameSliceRecording",
    "spikeinterface.core.frameslicesorting.FrameSliceSorting": "gpuspike.core.views.FrameSliceSorting",
    "spikeinterface.core.operatorrecordings.AddRecordings": "gpuspike.core.operatorrecordings.AddRecordings",
    "spikeinterface.core.operatorrecordings.SubtractRecordings":
        "gpuspike.core.operatorrecordings.SubtractRecordings",
    "spikeinterface.core.unitsselectionsorting.UnitsSelectionSorting": "gpuspike.core.views.UnitsSelectionSorting",
    "spikeinterface.core.segmentutils.AppendSegmentRecording": "gpuspike.core.segmentutils.AppendSegmentRecording",
    "spikeinterface.core.segmentutils.ConcatenateSegmentRecording":
        "gpuspike.core.segmentutils.ConcatenateSegmentRecording",
    "spikeinterface.core.segmentutils.SelectSegmentRecording": "gpuspike.core.segmentutils.SelectSegmentRecording",
    "spikeinterface.core.segmentutils.AppendSegmentSorting": "gpuspike.core.segmentutils.AppendSegmentSorting",
    "spikeinterface.core.segmentutils.ConcatenateSegmentSorting":
        "gpuspike.core.segmentutils.ConcatenateSegmentSorting",
    "spikeinterface.core.segmentutils.SelectSegmentSorting": "gpuspike.core.segmentutils.SelectSegmentSorting",
    "spikeinterface.core.segmentutils.SelectSegmentEvent": "gpuspike.core.segmentutils.SelectSegmentEvent",
    "spikeinterface.core.channelsaggregationrecording.ChannelsAggregationRecording":
        "gpuspike.core.aggregate.ChannelsAggregationRecording",
    "spikeinterface.core.unitsaggregationsorting.UnitsAggregationSorting":
        "gpuspike.core.aggregate.UnitsAggregationSorting",
    "spikeinterface.core.generate.InjectTemplatesRecording": "gpuspike.core.injecttemplates.InjectTemplatesRecording",
    "spikeinterface.core.generate.MockRecording": "gpuspike.core.generate.MockRecording",
    "spikeinterface.generation.noise_tools.NoiseGeneratorRecording": "gpuspike.core.generate.NoiseGeneratorRecording",
    "spikeinterface.preprocessing.astype.AstypeRecording": "gpuspike.core.astype.AstypeRecording",
    "spikeinterface.curation.remove_excess_spikes.RemoveExcessSpikesSorting":
        "gpuspike.core.excess_spikes.RemoveExcessSpikesSorting",
    "spikeinterface.extractors.whitematterrecordingextractor.WhiteMatterRecordingExtractor":
        "gpuspike.extractors.whitematter.WhiteMatterRecordingExtractor",
    # in-memory objects: only in pickled dicts (SpikeInterface does not write them to JSON)
    "spikeinterface.core.numpyextractors.NumpyRecording": "gpuspike.core.numpyextractors.NumpyRecording",
    "spikeinterface.core.numpyextractors.NumpySorting": "gpuspike.core.numpyextractors.NumpySorting",
}

#: SpikeInterface classes gpuspike loads but does not write under SpikeInterface's name (gpuspike's
#: readers record arguments SpikeInterface's do not take, e.g. ``load_probe``)
SI_CLASSES_LOADED = {
    "spikeinterface.extractors.neoextractors.spikeglx.SpikeGLXRecordingExtractor":
        "gpuspike.extractors.spikeglx.SpikeGLXRecording",
    "spikeinterface.extractors.neoextractors.openephys.OpenEphysBinaryRecordingExtractor":
        "gpuspike.extractors.openephys.OpenEphysBinaryRecording",
}

#: keyword arguments spelled differently: {SpikeInterface class name: {SpikeInterface name: gpuspike name}}
_KWARG_RENAMES = {
    "ChannelSliceRecording": {"recording": "parent_recording"},
    "FrameSliceRecording": {"recording": "parent_recording"},
}

#: class name -> gpuspike path (SpikeInterface moves classes between modules; names are stable)
_CLASS_MAP = {path.rpartition(".")[2]: target for path, target in {**SI_CLASSES, **SI_CLASSES_LOADED}.items()}
_TO_SI = {target: path for path, target in SI_CLASSES.items()}
# NoiseGeneratorRecording lived in spikeinterface.core.generate before 0.104
_ALIASES = {"spikeinterface.core.generate.NoiseGeneratorRecording"}


def known_foreign_classes() -> list[str]:
    """SpikeInterface class names that gpuspike can load."""
    return sorted(_CLASS_MAP)


def si_class_path(gpuspike_class_path: str) -> str | None:
    """The SpikeInterface path of a gpuspike class that SpikeInterface builds from the same kwargs, or None."""
    return _TO_SI.get(gpuspike_class_path)


def kwargs_to_si(si_path: str, kwargs: dict) -> dict:
    """gpuspike keyword arguments renamed to SpikeInterface's for the class at ``si_path``."""
    renames = {gs: si for si, gs in _KWARG_RENAMES.get(si_path.rpartition(".")[2], {}).items()}
    return {renames.get(k, k): v for k, v in kwargs.items()}


def resolve_foreign_class(class_path: str):
    """The gpuspike class for a SpikeInterface class path found in a dict or folder JSON.

    Parameters
    ----------
    class_path : str
        e.g. ``"spikeinterface.core.binaryfolder.BinaryFolderRecording"``.

    Returns
    -------
    callable
        Builds the gpuspike object from the SpikeInterface keyword arguments (renamed ones are
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
        return cls(**kwargs)

    build.__name__ = f"from_spikeinterface_{si_name}"
    build.__foreign__ = True
    build.target_class = cls
    return build
