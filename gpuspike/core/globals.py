"""Session-wide folders: the temporary folder of ``save()`` without a folder, and the dataset cache."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

_tmp_folder: Path | None = None
_tmp_folder_set = False
_dataset_folder: Path | None = None


def get_global_tmp_folder() -> Path:
    """The folder where ``save()`` without ``folder=`` writes (created when needed).

    Returns
    -------
    Path
        The folder set with :func:`set_global_tmp_folder`, else a new folder under the system's
        temporary directory (``gpuspike_cache/``), kept for the session.
    """
    global _tmp_folder
    if _tmp_folder is None:
        base = Path(tempfile.gettempdir()) / "gpuspike_cache"
        base.mkdir(parents=True, exist_ok=True)
        _tmp_folder = Path(tempfile.mkdtemp(dir=base))
    _tmp_folder.mkdir(parents=True, exist_ok=True)
    return _tmp_folder


def set_global_tmp_folder(folder) -> None:
    """Use ``folder`` as the temporary folder of this session.

    Parameters
    ----------
    folder : str or Path
    Returns
    -------
    None
    """
    global _tmp_folder, _tmp_folder_set
    _tmp_folder = Path(folder)
    _tmp_folder_set = True


def is_set_global_tmp_folder() -> bool:
    """True when :func:`set_global_tmp_folder` chose the temporary folder.

    Returns
    -------
    bool
    """
    return _tmp_folder_set


def reset_global_tmp_folder() -> None:
    """Back to a new temporary folder under the system's temporary directory.

    Returns
    -------
    None
    """
    global _tmp_folder, _tmp_folder_set
    _tmp_folder, _tmp_folder_set = None, False


def get_global_dataset_folder() -> Path:
    """Cache folder of downloaded datasets.

    Returns
    -------
    Path
        The folder set with :func:`set_global_dataset_folder`, else ``$GPUSPIKE_DATASET_FOLDER``,
        else ``$SPIKEINTERFACE_DATASET_FOLDER``, else ``~/spikeinterface_datasets`` (SpikeInterface's
        folder, so both libraries share one cache); created if missing, as SpikeInterface does.
    """
    folder = _dataset_folder_path()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _dataset_folder_path() -> Path:
    if _dataset_folder is not None:
        return _dataset_folder
    env = os.environ.get("GPUSPIKE_DATASET_FOLDER") or os.environ.get("SPIKEINTERFACE_DATASET_FOLDER")
    return Path(env).expanduser() if env else Path.home() / "spikeinterface_datasets"


def set_global_dataset_folder(folder) -> None:
    """Use ``folder`` as the dataset cache of this session.

    Parameters
    ----------
    folder : str or Path
    Returns
    -------
    None
    """
    global _dataset_folder
    _dataset_folder = Path(folder)


def is_set_global_dataset_folder() -> bool:
    """True when :func:`set_global_dataset_folder` chose the dataset folder.

    Returns
    -------
    bool
    """
    return _dataset_folder is not None


def __getattr__(name: str):
    """SpikeInterface 0.105's module variables, read when asked for (they follow the setters)."""
    if name == "temp_folder_set":
        return _tmp_folder_set
    if name == "temp_folder" and _tmp_folder is not None:
        return _tmp_folder
    if name == "dataset_folder":
        return _dataset_folder_path()
    if name == "dataset_folder_set":
        return _dataset_folder is not None
    if name == "global_job_kwargs":
        from .job import get_global_job_kwargs

        return get_global_job_kwargs()
    if name == "global_job_kwargs_set":
        from .job import is_set_global_job_kwargs_set

        return is_set_global_job_kwargs_set()
    if name == "job_keys":
        from .job_tools import job_keys

        return job_keys
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
