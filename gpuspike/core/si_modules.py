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

__all__ = ["SHARED_MODULES", "SPIKEINTERFACE_MODULES", "install"]

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


def _lookup(module_name: str, name: str):
    """``name`` from ``gpuspike.core``, then ``gpuspike.full``; AttributeError naming both modules."""
    if name.startswith("__"):
        raise AttributeError(name)
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
