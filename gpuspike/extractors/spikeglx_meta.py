"""SpikeGLX ``.meta`` files: parsing, and the checks that turn a bad header into one clear error.

neo's ``SpikeGLXRawIO`` parses the headers; the checks here run before it (fields whose absence
or malformation would make it fail with a bare ``KeyError`` / ``ZeroDivisionError``) and after
it, on the chosen stream only (fields that contradict the ``.bin`` beside the ``.meta``).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .headers import HeaderError

_SAMPLING_RATE_FIELDS = ("imSampRate", "niSampRate", "obSampRate")


def read_meta(meta_file: str | Path) -> dict[str, str]:
    """Parse a SpikeGLX ``.meta`` file (``key=value`` lines; a leading ``~`` is dropped from keys).

    Lines without ``=`` are skipped, as SpikeGLX's own tools and neo do.

    Parameters
    ----------
    meta_file : str or Path

    Returns
    -------
    dict
        Values as strings (``nSavedChans``, ``imSampRate``, ``imroTbl``, ...).
    """
    meta_file = Path(meta_file)
    meta = {}
    for line in meta_file.read_text(errors="replace").splitlines():
        if "=" not in line:
            continue
        key, value = line.strip().split("=", 1)
        meta[key.lstrip("~")] = value
    if not meta:
        raise HeaderError(meta_file, "(any)", "no key=value line: not a SpikeGLX meta file")
    return meta


def number_field(meta: dict, meta_file: Path, key: str, kind=int, positive: bool = True):
    """``meta[key]`` as a number; a :class:`HeaderError` naming the file and field when it is missing,
    not a number, or (``positive``) not > 0.

    Parameters
    ----------
    meta : dict
        From :func:`read_meta`.
    meta_file : Path
        The file, for the error.
    key : str
        The field.
    kind : type
        ``int`` or ``float``.
    positive : bool
        Require a value > 0.

    Returns
    -------
    int or float
    """
    if key not in meta:
        raise HeaderError(meta_file, key, "missing (the file is not a complete SpikeGLX meta file)")
    text = meta[key].strip()
    try:
        value = kind(text)
    except ValueError:
        raise HeaderError(meta_file, key, f"{text!r} is not {'an integer' if kind is int else 'a number'}") from None
    if positive and not value > 0:
        raise HeaderError(meta_file, key, f"{text!r} must be > 0")
    return value


def saved_channels(meta: dict, meta_file: Path) -> np.ndarray:
    """Acquisition indices of the saved channels (``snsSaveChanSubset``: ``all`` or ``a:b,c,...``, inclusive).

    Parameters
    ----------
    meta : dict
        From :func:`read_meta`.
    meta_file : Path
        The file, for the errors.

    Returns
    -------
    np.ndarray
        int64, ``nSavedChans`` values (a :class:`HeaderError` when the field lists another count).
    """
    n_saved = number_field(meta, meta_file, "nSavedChans")
    text = meta.get("snsSaveChanSubset", "all").strip()
    if text == "all":
        return np.arange(n_saved)
    chans = []
    try:
        for part in text.split(","):
            if ":" in part:
                first, last = part.split(":")
                chans.extend(range(int(first), int(last) + 1))
            else:
                chans.append(int(part))
    except ValueError:
        raise HeaderError(meta_file, "snsSaveChanSubset", f"{text[:60]!r} is not 'all' or a list of a:b ranges") \
            from None
    if len(chans) != n_saved:
        raise HeaderError(meta_file, "snsSaveChanSubset",
                          f"lists {len(chans)} channels but nSavedChans={n_saved}")
    return np.asarray(chans, dtype="int64")


def channel_map_names(meta: dict) -> list[str]:
    """Channel names of the saved channels, from ``snsChanMap`` (``(header)(AP0;0:0)(AP1;1:1)...``).

    Parameters
    ----------
    meta : dict
        From :func:`read_meta`.

    Returns
    -------
    list of str
        ``["AP0", ..., "SY0"]`` (empty when the field is missing).
    """
    entries = meta.get("snsChanMap", "").strip()[1:-1].split(")(")[1:]
    return [entry.split(";")[0] for entry in entries]


def is_imec_meta(meta: dict) -> bool:
    """A probe's (imec) meta, told as neo tells it: from the device part of the recorded file name
    (``run_g0_t0.imec0.ap.bin``).

    Parameters
    ----------
    meta : dict
        From :func:`read_meta`.

    Returns
    -------
    bool
    """
    parts = Path(meta.get("fileName", "").replace("\\", "/")).stem.split(".")
    return len(parts) >= 2 and "imec" in parts[-2]


def check_meta_before_parsing(meta_file: Path) -> dict:
    """The fields neo needs to parse a .meta/.bin pair, checked so that a bad one gets a clear error.

    Parameters
    ----------
    meta_file : Path

    Returns
    -------
    dict
        The parsed meta.
    """
    meta = read_meta(meta_file)
    n_saved = number_field(meta, meta_file, "nSavedChans")
    if "fileName" not in meta:
        raise HeaderError(meta_file, "fileName", "missing (neo names the stream after the original file name)")
    rate_keys = [k for k in _SAMPLING_RATE_FIELDS if k in meta]
    if not rate_keys:
        raise HeaderError(meta_file, "imSampRate", f"missing (none of {list(_SAMPLING_RATE_FIELDS)} is present)")
    number_field(meta, meta_file, rate_keys[-1], kind=float)
    names = channel_map_names(meta)
    if len(names) < n_saved:
        raise HeaderError(meta_file, "snsChanMap",
                          f"names {len(names)} channels but nSavedChans={n_saved}: the meta file is truncated or "
                          f"was edited")
    if is_imec_meta(meta):
        number_field(meta, meta_file, "imAiRangeMax", kind=float)
        if "imroTbl" not in meta:
            raise HeaderError(meta_file, "imroTbl", "missing (an imec meta file needs the probe's readout table)")
        entries = len(meta["imroTbl"].strip().split(")(")) - 1
        n_readout = sum(1 for name in names[:n_saved] if not name.startswith("SY"))
        if entries < n_readout:
            raise HeaderError(meta_file, "imroTbl",
                              f"has {entries} entries for {n_readout} saved channels, and neo reads one gain per "
                              f"channel from it: group-addressed tables (NP1110, UHD2) cannot be read by neo's "
                              f"SpikeGLXRawIO (nor by SpikeInterface 0.105)")
    return meta


def check_bin_against_meta(meta_file: Path, bin_file: Path) -> int:
    """The ``.bin`` must hold whole frames of ``nSavedChans`` int16 samples, and the ``.meta`` must agree
    with itself about the frame size.

    Parameters
    ----------
    meta_file : Path
    bin_file : Path

    Returns
    -------
    int
        The number of samples in the ``.bin`` (from its size, never from ``fileSizeBytes``).
    """
    meta = read_meta(meta_file)
    n_saved = number_field(meta, meta_file, "nSavedChans")
    frame = 2 * n_saved
    size = bin_file.stat().st_size
    if size % frame:
        raise HeaderError(
            meta_file, "nSavedChans",
            f"nSavedChans={n_saved} but {bin_file} has {size} bytes, not a whole number of frames of "
            f"{n_saved} int16 channels ({size % frame} bytes left over): the .bin is truncated or this .meta does "
            f"not belong to it")
    if "fileSizeBytes" in meta:
        declared = number_field(meta, meta_file, "fileSizeBytes", positive=False)
        if declared % frame:
            raise HeaderError(
                meta_file, "fileSizeBytes",
                f"fileSizeBytes={declared} is not a whole number of frames of nSavedChans={n_saved} int16 channels: "
                f"the meta contradicts itself (was nSavedChans edited?)")
    if "snsApLfSy" in meta:
        try:
            counts = [int(x) for x in meta["snsApLfSy"].split(",")]
        except ValueError:
            raise HeaderError(meta_file, "snsApLfSy", f"{meta['snsApLfSy']!r} is not three integers") from None
        if sum(counts) != n_saved:
            raise HeaderError(meta_file, "snsApLfSy",
                              f"snsApLfSy={meta['snsApLfSy']} adds up to {sum(counts)} channels but "
                              f"nSavedChans={n_saved}")
    return size // frame
