"""The allow-list of classes a dict or a folder's JSON may name.

Every :class:`~gpuspike.core.base.BaseExtractor` subclass defined in a ``gpuspike`` module is
registered when its class is created (``BaseExtractor.__init_subclass__``); SpikeInterface's class
paths map onto them (:mod:`gpuspike.core.interop`). :func:`load` instantiates only these: a class
path naming anything else -- a function, a module, a class that is not an extractor -- is refused
before anything is imported or called.
"""
from __future__ import annotations

from .errors import UnsafeFolderError

_REGISTRY: dict[str, type] = {}


def register_extractor_class(cls: type) -> type:
    """Allow ``cls`` (an extractor class) to be rebuilt from its dict; returns ``cls``."""
    _REGISTRY[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return cls


def registered_class_paths() -> list[str]:
    """The class paths a dict may name (gpuspike's own; SpikeInterface's are in ``interop``)."""
    _import_all_extractor_modules()
    return sorted(_REGISTRY)


def _import_all_extractor_modules() -> None:
    from .. import core, extractors  # noqa: F401  (their modules register every extractor class)


def resolve_class(class_path) -> type:
    """The extractor class named by ``class_path`` in a dict: a registered gpuspike class or a mapped
    SpikeInterface class.

    Raises
    ------
    UnsafeFolderError
        ``class_path`` names anything else (nothing is imported or called).
    """
    if not isinstance(class_path, str):
        raise UnsafeFolderError(f"class {class_path!r} is not a class path string")
    cls = _REGISTRY.get(class_path)
    if cls is not None:
        return cls
    if class_path.startswith("spikeinterface."):
        from .interop import resolve_foreign_class

        return resolve_foreign_class(class_path)
    if class_path.startswith("gpuspike."):
        _import_all_extractor_modules()
        cls = _REGISTRY.get(class_path)
        if cls is not None:
            return cls
    raise UnsafeFolderError(
        f"class {class_path!r} is not an extractor class that gpuspike may rebuild from a dict; only registered "
        f"extractor classes are instantiated (e.g. 'gpuspike.core.binaryfolder.BinaryFolderRecording', or "
        f"SpikeInterface's names of them). See gpuspike.core.registry.registered_class_paths() for the list.")
