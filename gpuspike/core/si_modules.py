"""SpikeInterface's module paths under ``gpuspike.core``.

SpikeInterface code imports from its submodules (``from spikeinterface.core.baserecording import
BaseRecording``, ``from spikeinterface.core.waveform_tools import extract_waveforms_to_buffers``).
gpuspike's modules are cut differently, so each of SpikeInterface's core module names that gpuspike
has no module of is served here by an alias module: any name of ``gpuspike.core`` (then of
``gpuspike.full``) can be imported from it, and a name gpuspike does not have is an ImportError
naming it. Where gpuspike has a module of the same name (``base``, ``sparsity``, ``template``,
``testing``, ...), that module is imported as usual.
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import types

__all__ = ["SPIKEINTERFACE_MODULES", "install"]

#: ``spikeinterface.core.<name>`` modules served as ``gpuspike.core.<name>``
SPIKEINTERFACE_MODULES = (
    "baseevent", "baserecording", "baserecordingsnippets", "basesnippets", "basesorting",
    "binaryrecordingextractor", "channelsaggregationrecording", "channelslice", "frameslicerecording",
    "frameslicesorting", "npyfoldersnippets", "npysnippetsextractor", "npzfolder", "npzsortingextractor",
    "operatorrecordings", "sortingfolder", "testing_tools", "time_series", "time_series_tools",
    "unitsaggregationsorting", "unitsselectionsorting", "waveform_tools",
    "waveforms_extractor_backwards_compatibility", "zarrextractors", "zarrrecordingextractor",
)
_PREFIX = "gpuspike.core."


class _AliasModule(types.ModuleType):
    """A module whose names are those of ``gpuspike.core`` and ``gpuspike.full``."""

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        for namespace in ("gpuspike.core", "gpuspike.full"):
            module = importlib.import_module(namespace)
            if name in getattr(module, "__all__", ()) or (namespace == "gpuspike.core" and hasattr(module, name)):
                return getattr(module, name)
        raise AttributeError(f"module {self.__name__!r} (SpikeInterface's spikeinterface.core."
                             f"{self.__name__[len(_PREFIX):]}) has no attribute {name!r}: gpuspike has no such "
                             "name (see the porting guide's list of differences)")

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


def install() -> None:
    """Serve :data:`SPIKEINTERFACE_MODULES` under ``gpuspike.core`` (once per interpreter)."""
    if not any(isinstance(finder, _AliasFinder) for finder in sys.meta_path):
        sys.meta_path.append(_AliasFinder())
