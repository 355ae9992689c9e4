"""Exceptions of gpuspike, rooted in the built-in ones."""


class NotDumpableError(ValueError):
    """An in-memory object was asked to be rebuilt from its dict (e.g. by a process pool)."""


class FolderExistsError(FileExistsError):
    """A target folder exists and ``overwrite=False``."""


class CorruptFolderError(ValueError):
    """A saved folder or file is incomplete or inconsistent."""


class RefusedOverwriteError(FolderExistsError):
    """``overwrite=True`` on something gpuspike must not replace (a folder it did not write, the
    working directory or a parent of it, the home folder, a file-system root, a file)."""


class ConcurrentSaveError(FolderExistsError):
    """Another writer created or replaced the target folder while this save ran; this save was discarded."""


class UnsafeFolderError(CorruptFolderError):
    """A folder asks for something a folder may not do: run code (a pickle, a class that is not an
    extractor) or name a path outside itself."""


class SpikeInterfaceAssertError(ValueError, AssertionError):
    """A bad argument where SpikeInterface asserts: a ``ValueError`` (gpuspike's convention) that is
    also an ``AssertionError`` (what SpikeInterface raises there), so that code catching either
    catches it."""


class UnknownKeywordError(TypeError, AssertionError):
    """An unknown keyword where SpikeInterface asserts (job kwargs): a ``TypeError`` (Python's
    convention for an unexpected keyword) that is also an ``AssertionError``."""


class MissingFolderError(FileNotFoundError, ValueError):
    """A folder to read does not exist: a ``FileNotFoundError`` (gpuspike's convention) that is also
    the ``ValueError`` SpikeInterface raises there, so that code catching either catches it."""
