"""Exceptions of gpuspike, rooted in the built-in ones."""


class NotDumpableError(ValueError):
    """An in-memory object was asked to be rebuilt from its dict (e.g. by a process pool)."""


class FolderExistsError(FileExistsError):
    """A target folder exists and ``overwrite=False``."""


class CorruptFolderError(ValueError):
    """A saved folder or file is incomplete or inconsistent."""
