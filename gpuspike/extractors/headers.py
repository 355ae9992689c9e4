"""Errors for acquisition headers (SpikeGLX ``.meta``, Open Ephys ``structure.oebin``) that cannot be right."""
from __future__ import annotations

from pathlib import Path


class HeaderError(ValueError):
    """A header field that is missing, malformed, or contradicted by the data files.

    Parameters
    ----------
    file : str or Path
        The header file.
    field : str
        The field, as the header names it (``nSavedChans``, ``continuous[1].folder_name``).
    problem : str
        What is wrong and what to do about it.

    Attributes
    ----------
    file : Path
    field : str
    """

    def __init__(self, file: str | Path, field: str, problem: str) -> None:
        self.file = Path(file)
        self.field = field
        super().__init__(f"{self.file}: field {field}: {problem}")


class MissingDataFileError(HeaderError, FileNotFoundError):
    """A header names a data file (``.bin``, ``continuous.dat``, a stream folder) that is not there."""
