"""MEArec simulated recordings (``.h5``): traces, ground-truth spike trains and the probe.

Layout (MEArec's ``save_recording_to_file``): ``recordings`` -- (num_samples, num_channels)
since MEArec 1.5, (num_channels, num_samples) before (file attribute ``mearec_version``; files
without it are pre-1.5) --, its attribute ``gain_to_uV`` when the traces are integers,
``channel_positions`` (num_channels, 3), ``info/recordings/fs`` (Hz), ``info/electrodes``
(plane, shape, size, sortlist), ``spiketrains/<i>/times`` (seconds) and
``spiketrains/<i>/annotations``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.numpyextractors import NumpySortingSegment
from ..core.recording import BaseRecording, BaseRecordingSegment
from ..core.sorting import BaseSorting, spike_dtype
from .probes import attach_probe_in_channel_order


def _version_tuple(text) -> tuple[int, ...]:
    if isinstance(text, bytes):
        text = text.decode()
    parts = []
    for p in str(text).split("."):
        digits = "".join(ch for ch in p if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def _open(file_path: Path):
    import h5py

    if not file_path.is_file():
        raise FileNotFoundError(f"file_path={str(file_path)!r} does not exist")
    try:
        return h5py.File(file_path, "r")
    except OSError as err:
        raise ValueError(f"{file_path}: not a readable HDF5 (MEArec) file ({err})") from None


def _read_fs(f, file_path: Path) -> float:
    try:
        fs = f["info"]["recordings"]["fs"][()]
    except KeyError:
        raise ValueError(f"{file_path}: no info/recordings/fs (sampling rate): not a MEArec recording file") \
            from None
    return float(fs)


def _samples_first(f) -> bool:
    version = f.attrs.get("mearec_version", "1.4.0")
    return _version_tuple(version) >= (1, 5)


def _read_probe(file_path: Path):
    """``probeinterface.read_mearec``; it fails on an array ``sortlist`` (wiring), which is then applied here."""
    import probeinterface

    with _open(file_path) as f:
        sortlist = f["info"]["electrodes"]["sortlist"][()] if "sortlist" in f["info"]["electrodes"] else b"null"
    if isinstance(sortlist, (bytes, str)):
        return probeinterface.read_mearec(file_path)
    # same probe with no wiring, then contact k -> channel sortlist[k]
    import h5py

    with h5py.File(file_path, "r") as f:
        positions = f["channel_positions"][()]
        electrodes = {k: f["info"]["electrodes"][k][()] for k in f["info"]["electrodes"].keys() if k != "sortlist"}
    plane = electrodes.get("plane", b"yz")
    plane = plane.decode() if isinstance(plane, bytes) else str(plane)
    columns = {"xy": [0, 1], "xz": [0, 2], "yz": [1, 2]}[plane]
    probe = probeinterface.Probe(ndim=2, si_units="um")
    probe.set_contacts(positions[:, columns])
    probe.set_device_channel_indices(np.asarray(sortlist, dtype="int64"))
    return probe


class MEArecRecordingSegment(BaseRecordingSegment):
    def __init__(self, file_path: Path, sampling_frequency: float, samples_first: bool, num_samples: int) -> None:
        super().__init__(sampling_frequency=sampling_frequency, t_start=None)
        self._file_path = file_path
        self._samples_first = samples_first
        self._num_samples = num_samples
        self._h5 = None

    def _dataset(self):
        if self._h5 is None:
            self._h5 = _open(self._file_path)
        return self._h5["recordings"]

    def get_num_samples(self) -> int:
        return self._num_samples

    def get_traces(self, start_frame, end_frame, channel_indices) -> np.ndarray:
        dset = self._dataset()
        if self._samples_first:
            block = dset[start_frame:end_frame, :]
        else:
            block = dset[:, start_frame:end_frame].T
        return np.ascontiguousarray(block[:, channel_indices])

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_h5"] = None
        return state


class MEArecRecording(BaseRecording):
    """Traces of a MEArec ``.h5`` file, read lazily with h5py, with the probe attached.

    Parameters
    ----------
    file_path : str or Path
        The MEArec file.
    """

    def __init__(self, file_path: str | Path) -> None:
        file_path = Path(file_path).absolute()
        with _open(file_path) as f:
            if "recordings" not in f:
                raise ValueError(f"{file_path}: no 'recordings' dataset: not a MEArec recording file")
            fs = _read_fs(f, file_path)
            dset = f["recordings"]
            if dset.ndim != 2:
                raise ValueError(f"{file_path}: 'recordings' has shape {dset.shape}, expected 2 dimensions")
            samples_first = _samples_first(f)
            num_samples, num_channels = dset.shape if samples_first else dset.shape[::-1]
            dtype = dset.dtype
            gain = dset.attrs.get("gain_to_uV", None)
            if "channel_positions" in f and f["channel_positions"].shape[0] != num_channels:
                raise ValueError(f"{file_path}: channel_positions has {f['channel_positions'].shape[0]} rows, "
                                 f"recordings has {num_channels} channels")
            has_probe = "channel_positions" in f and "info" in f and "electrodes" in f["info"]
        super().__init__(fs, np.arange(num_channels), dtype)
        self.add_segment(MEArecRecordingSegment(file_path, fs, samples_first, int(num_samples)))
        if gain is not None:
            self.set_channel_gains(float(np.asarray(gain).reshape(-1)[0]))
            self.set_channel_offsets(0.0)
        elif dtype.kind == "f":
            # MEArec float traces are already in µV
            self.set_channel_gains(1.0)
            self.set_channel_offsets(0.0)
        if has_probe:
            attach_probe_in_channel_order(self, _read_probe(file_path))
        self._kwargs = {"file_path": str(file_path)}


class MEArecSorting(BaseSorting):
    """Ground-truth spike trains of a MEArec ``.h5`` file (unit ids 0..N-1 as in the file).

    Parameters
    ----------
    file_path : str or Path
        The MEArec file.
    """

    def __init__(self, file_path: str | Path) -> None:
        file_path = Path(file_path).absolute()
        with _open(file_path) as f:
            fs = _read_fs(f, file_path)
            group = f.get("spiketrains", None)
            keys = sorted(group.keys(), key=lambda k: int(k)) if group is not None else []
            trains = []
            annotations = []
            for k in keys:
                if "times" not in group[k]:
                    raise ValueError(f"{file_path}: spiketrains/{k} has no 'times' dataset")
                trains.append(np.asarray(group[k]["times"][()], dtype="float64"))
                ann = {}
                if "annotations" in group[k]:
                    for name, item in group[k]["annotations"].items():
                        if hasattr(item, "shape") and item.shape == ():
                            value = item[()]
                            ann[name] = value.decode() if isinstance(value, bytes) else value
                annotations.append(ann)
        unit_ids = np.array([int(k) for k in keys], dtype="int64")
        super().__init__(fs, unit_ids)
        parts = []
        for i, times in enumerate(trains):
            part = np.zeros(times.size, dtype=spike_dtype)
            part["sample_index"] = np.round(times * fs).astype("int64")
            part["unit_index"] = i
            parts.append(part)
        spikes = np.concatenate(parts) if parts else np.zeros(0, dtype=spike_dtype)
        spikes = spikes[np.lexsort((spikes["unit_index"], spikes["sample_index"]))]
        self.add_segment(NumpySortingSegment(spikes, self.unit_ids))
        self._cached_spike_vector = spikes
        # scalar annotations shared by all units become unit properties (cell_type, ...)
        names = set.intersection(*[set(a) for a in annotations]) if annotations else set()
        for name in sorted(names):
            values = np.array([a[name] for a in annotations])
            if values.dtype.kind in "iufbU":
                self.set_property(name, values)
        self._kwargs = {"file_path": str(file_path)}


def read_mearec(file_path: str | Path) -> tuple[MEArecRecording, MEArecSorting]:
    """Read a MEArec ``.h5`` file.

    Parameters
    ----------
    file_path : str or Path
        The MEArec file (``mearec_test_10s.h5`` from :func:`~gpuspike.extractors.download_dataset`, ...).

    Returns
    -------
    recording : MEArecRecording
        Lazy traces, probe from ``probeinterface.read_mearec`` (2D, MEArec's plane).
    sorting : MEArecSorting
        Ground-truth spike trains (sample index = round(time * fs)).
    """
    return MEArecRecording(file_path), MEArecSorting(file_path)
