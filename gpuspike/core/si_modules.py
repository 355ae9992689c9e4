"""SpikeInterface's module paths under ``gpuspike.core``.

SpikeInterface code imports from its submodules (``from spikeinterface.core.baserecording import
BaseRecording``, ``from spikeinterface.core.waveform_tools import extract_waveforms_to_buffers``).
gpuspike's modules are cut differently, so each of SpikeInterface's core module names that gpuspike
has no module of is served here by an alias module: any name of ``gpuspike.core`` (then of
``gpuspike.full``) can be imported from it, and a name gpuspike does not have is an ImportError
naming it. Where gpuspike has a module of the same name (``base``, ``generate``, ``sparsity``,
``template``, ...), that module answers for its own names and falls back on the same namespaces
for the others (``from gpuspike.core.generate import generate_unit_locations``).
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import types

__all__ = ["SHARED_MODULES", "SPIKEINTERFACE_MODULES", "SUBMODULE_NAMES", "install"]

#: ``spikeinterface.core.<name>`` modules served as ``gpuspike.core.<name>``
SPIKEINTERFACE_MODULES = (
    "baseevent", "baserecording", "baserecordingsnippets", "basesnippets", "basesorting",
    "binaryrecordingextractor", "channelsaggregationrecording", "channelslice", "frameslicerecording",
    "frameslicesorting", "npyfoldersnippets", "npysnippetsextractor", "npzfolder", "npzsortingextractor",
    "sortingfolder", "testing_tools", "time_series", "time_series_tools",
    "unitsaggregationsorting", "unitsselectionsorting", "waveform_tools",
    "waveforms_extractor_backwards_compatibility", "zarrextractors", "zarrrecordingextractor",
)
#: ``spikeinterface.core.<name>`` modules that gpuspike has too (with names of their own)
SHARED_MODULES = (
    "analyzer_extension_core", "base", "binaryfolder", "core_tools", "datasets", "generate", "globals",
    "job_tools", "loading", "motion", "node_pipeline", "numpyextractors", "operatorrecordings", "recording_tools",
    "segmentutils", "snippets_tools", "sorting_tools", "sortinganalyzer", "sparsity", "template", "template_tools", "testing",
)
_PREFIX = "gpuspike.core."

_CORE_TOOLS = "gpuspike.core.core_tools"
_FOLDER_HELPERS = ("define_function_from_class", "load_properties_from_folder", "save_properties_to_folder",
                   "save_annotations_to_folder", "load_annotations_from_folder", "save_provenance_to_folder")
#: names of SpikeInterface's submodules that are neither in ``gpuspike.core`` nor in ``gpuspike.full``:
#: ``{module: {name: "defining module[:its name there]"}}`` (segment classes, module helpers)
SUBMODULE_NAMES = {
    "base": dict.fromkeys(("clean_zarr_folder_name", "is_dict_extractor", "is_path_remote",
                           "retrieve_importing_provenance", "load_properties_from_folder"), _CORE_TOOLS),
    "baserecording": dict.fromkeys(("convert_bytes_to_str", "convert_seconds_to_str"), _CORE_TOOLS),
    "baserecordingsnippets": {"check_probe_do_not_overlap": "gpuspike.core.recording_tools"},
    "binaryfolder": dict.fromkeys(_FOLDER_HELPERS, _CORE_TOOLS),
    "binaryrecordingextractor": {"define_function_from_class": _CORE_TOOLS,
                                 "BinaryRecordingSegment": "gpuspike.core.binaryrecording"},
    "channelsaggregationrecording": {"ChannelsAggregationRecordingSegment": "gpuspike.core.aggregate"},
    "channelslice": dict.fromkeys(("ChannelSliceRecordingSegment", "ChannelSliceSnippetsSegment"),
                                  "gpuspike.core.views"),
    "frameslicerecording": {"FrameSliceRecordingSegment": "gpuspike.core.views"},
    "frameslicesorting": {"FrameSliceSortingSegment": "gpuspike.core.views"},
    "generate": {"define_function_from_class": _CORE_TOOLS, "get_ellipse": "gpuspike.core.groundtruth",
                 "InjectTemplatesRecordingSegment": "gpuspike.core.injecttemplates"},
    "job_tools": dict.fromkeys(("convert_bytes_to_str", "convert_seconds_to_str"), _CORE_TOOLS),
    "loading": {"is_path_remote": _CORE_TOOLS},
    "npyfoldersnippets": dict.fromkeys(_FOLDER_HELPERS, _CORE_TOOLS),
    "npysnippetsextractor": {"define_function_from_class": _CORE_TOOLS,
                             "NpySnippetsSegment": "gpuspike.core.npzsorting"},
    "npzsortingextractor": {"define_function_from_class": _CORE_TOOLS,
                            "NpzSortingSegment": "gpuspike.core.npzsorting"},
    "numpyextractors": {"make_shared_array": _CORE_TOOLS},
    "recording_tools": {"divide_segment_into_chunks": "gpuspike.core.job_tools"},
    "segmentutils": {"define_function_from_class": _CORE_TOOLS},
    "sortinganalyzer": {**dict.fromkeys(("retrieve_importing_provenance", "is_path_remote", "clean_zarr_folder_name"),
                                        _CORE_TOOLS),
                        "generate_unit_ids_for_merge_group": "gpuspike.core.sorting_merges",
                        **dict.fromkeys(("check_unit_splits_consistency", "generate_unit_ids_for_split"),
                                        "gpuspike.core.sorting_splits"),
                        "run_node_pipeline": "gpuspike.core.node_pipeline"},
    "sortingfolder": dict.fromkeys(_FOLDER_HELPERS, _CORE_TOOLS),
    "time_series": {"TimeVector": "gpuspike.core.abstract_bases"},
    "time_series_tools": {"make_shared_array": _CORE_TOOLS},
    "unitsaggregationsorting": {"define_function_from_class": _CORE_TOOLS,
                                "UnitsAggregationSortingSegment": "gpuspike.core.aggregate"},
    "unitsselectionsorting": {"UnitsSelectionSortingSegment": "gpuspike.core.views"},
    "waveform_tools": {"make_shared_array": _CORE_TOOLS},
    "waveforms_extractor_backwards_compatibility": {
        "get_extension_class": "gpuspike.core.analyzer_extension",
        "old_extension_to_new_class_map": "gpuspike.core.waveforms_compat",
        "make_ext_params_up_to_date": "gpuspike.core.waveforms_compat"},
    "zarrextractors": {**dict.fromkeys(("define_function_from_class", "retrieve_importing_provenance",
                                        "is_path_remote"), _CORE_TOOLS),
                       "ZarrRecordingSegment": "gpuspike.core.zarrrecording",
                       **dict.fromkeys(("resolve_zarr_path", "create_zarr_path_for_write",
                                        "add_properties_and_annotations"), "gpuspike.core.zarrsorting")},
    "zarrrecordingextractor": {"ZarrRecordingExtractorNew": "gpuspike.core.zarrrecording:ZarrRecordingExtractor"},
}
#: SpikeInterface's modules that re-export another module whole: {module: the gpuspike module answering}
SUBMODULE_FALLBACKS = {"testing_tools": "gpuspike.core.generate"}


def _lookup(module_name: str, name: str):
    """``name`` from :data:`SUBMODULE_NAMES`, then ``gpuspike.core``, then ``gpuspike.full``;
    AttributeError naming the module."""
    if name.startswith("__"):
        raise AttributeError(name)
    short_name = module_name[len(_PREFIX):]
    where = SUBMODULE_NAMES.get(short_name, {}).get(name)
    if where is not None:
        module_path, _, attr = where.partition(":")
        return getattr(importlib.import_module(module_path), attr or name)
    if short_name in SUBMODULE_FALLBACKS:
        return getattr(importlib.import_module(SUBMODULE_FALLBACKS[short_name]), name)
    for namespace in ("gpuspike.core", "gpuspike.full"):
        module = importlib.import_module(namespace)
        if name in getattr(module, "__all__", ()) or (namespace == "gpuspike.core" and name in vars(module)):
            return getattr(module, name)
    raise AttributeError(f"module {module_name!r} (SpikeInterface's spikeinterface.core."
                         f"{module_name[len(_PREFIX):]}) has no attribute {name!r}: gpuspike has no such name "
                         "(see the porting guide's list of differences)")


class _AliasModule(types.ModuleType):
    """A module whose names are those of ``gpuspike.core`` and ``gpuspike.full``."""

    def __getattr__(self, name: str):
        return _lookup(self.__name__, name)

    def __dir__(self):
        return sorted(importlib.import_module("gpuspike.core").__all__)


class _AliasFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path, target=None):
        if fullname.startswith(_PREFIX) and fullname[len(_PREFIX):] in SPIKEINTERFACE_MODULES:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        return _AliasModule(spec.name, f"SpikeInterface's spikeinterface.core.{spec.name[len(_PREFIX):]}, "
                                       "served by gpuspike.core")

    def exec_module(self, module) -> None:
        return None


def _with_fallback(module: types.ModuleType) -> None:
    """Let ``module`` answer for the names of ``gpuspike.core`` / ``gpuspike.full`` it lacks (its own
    module ``__getattr__``, if any, asked first)."""
    own = vars(module).get("__getattr__")
    if getattr(own, "_spikeinterface_fallback", False):
        return

    def __getattr__(name: str):
        if own is not None:
            try:
                return own(name)
            except AttributeError:
                pass
        return _lookup(module.__name__, name)

    __getattr__._spikeinterface_fallback = True
    module.__getattr__ = __getattr__


def install() -> None:
    """Serve :data:`SPIKEINTERFACE_MODULES` under ``gpuspike.core``, and let the modules of
    :data:`SHARED_MODULES` fall back on ``gpuspike.core`` (once per interpreter)."""
    if not any(isinstance(finder, _AliasFinder) for finder in sys.meta_path):
        sys.meta_path.append(_AliasFinder())
    for name in SHARED_MODULES:
        _with_fallback(importlib.import_module(_PREFIX + name))
