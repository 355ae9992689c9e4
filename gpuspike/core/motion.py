"""Motion of the tissue relative to the probe (SpikeInterface 0.105's ``Motion``): a displacement
per time bin and depth bin and segment, evaluated anywhere by interpolation, saved to a folder.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .atomic import atomic_folder
from .errors import CorruptFolderError
from .folder_safety import read_npy

DIRECTIONS = ("x", "y", "z")
#: SpikeInterface's (scipy's RegularGridInterpolator's) method names; "linear" needs no scipy
INTERPOLATION_METHODS = ("linear", "nearest", "slinear", "cubic", "quintic", "pchip")
#: the version written into a saved folder (SpikeInterface reads folders of its own release)
_FOLDER_VERSION = "0.105.3"


class Motion:
    """Motion of the tissue relative to the probe.

    Parameters
    ----------
    displacement : np.ndarray or list of np.ndarray
        Displacement in µm, one 2D array ``(temporal bins, spatial bins)`` per segment (an array:
        one segment). One spatial bin is a rigid motion.
    temporal_bins_s : np.ndarray or list of np.ndarray
        Time bin centres (s) per segment, as many as ``displacement``'s rows.
    spatial_bins_um : np.ndarray
        Depth bin centres (µm) along ``direction``, as many as ``displacement``'s columns.
    direction : {"x", "y", "z"}
        Axis of the motion.
    interpolation_method : str
        Between bin centres: "linear" (default), or scipy's ``RegularGridInterpolator`` methods
        "nearest", "slinear", "cubic", "quintic", "pchip" (these need scipy).

    Raises
    ------
    ValueError
        Shapes that do not fit each other, or a direction or method that is not allowed.
    """

    def __init__(self, displacement, temporal_bins_s, spatial_bins_um, direction: str = "y",
                 interpolation_method: str = "linear") -> None:
        if isinstance(displacement, np.ndarray):
            displacement, temporal_bins_s = [displacement], [temporal_bins_s]
        if not isinstance(displacement, (list, tuple)) or not isinstance(temporal_bins_s, (list, tuple)):
            raise ValueError("displacement and temporal_bins_s must be arrays (one segment) or lists of arrays "
                             f"(one per segment); got {type(displacement).__name__} and "
                             f"{type(temporal_bins_s).__name__}")
        if direction not in DIRECTIONS:
            raise ValueError(f"direction={direction!r}: the allowed values are {DIRECTIONS}")
        if interpolation_method not in INTERPOLATION_METHODS:
            raise ValueError(f"interpolation_method={interpolation_method!r}: the allowed values are "
                             f"{INTERPOLATION_METHODS}")
        self.displacement = [np.asarray(d) for d in displacement]
        self.temporal_bins_s = [np.asarray(t) for t in temporal_bins_s]
        self.spatial_bins_um = np.asarray(spatial_bins_um)
        self.num_segments = len(self.displacement)
        self.direction = direction
        self.dim = DIRECTIONS.index(direction)
        self.interpolation_method = interpolation_method
        self.interpolators = None
        self.check_properties()
        self.temporal_bin_edges_s = [ensure_time_bin_edges(t) for t in self.temporal_bins_s]

    def check_properties(self) -> None:
        """Raise ValueError naming what does not fit: 2D displacements, 1D bins, matching lengths."""
        if len(self.temporal_bins_s) != self.num_segments:
            raise ValueError(f"temporal_bins_s has {len(self.temporal_bins_s)} segments, displacement "
                             f"{self.num_segments}")
        if self.spatial_bins_um.ndim != 1 or self.spatial_bins_um.size == 0:
            raise ValueError(f"spatial_bins_um must be a non-empty 1D array, got shape {self.spatial_bins_um.shape}")
        for index, (d, t) in enumerate(zip(self.displacement, self.temporal_bins_s)):
            if d.ndim != 2 or t.ndim != 1 or t.size == 0:
                raise ValueError(f"segment {index}: displacement must be 2D and temporal_bins_s non-empty 1D, got "
                                 f"shapes {d.shape} and {t.shape}")
            if d.shape != (t.size, self.spatial_bins_um.size):
                raise ValueError(f"segment {index}: displacement has shape {d.shape}, expected (temporal bins, "
                                 f"spatial bins) = {(t.size, self.spatial_bins_um.size)}")

    def __repr__(self) -> str:
        num_bins = self.spatial_bins_um.shape[0]
        rigid = "rigid" if num_bins == 1 else f"non-rigid - {num_bins} spatial bins"
        bins = self.temporal_bins_s[0] if self.num_segments else np.zeros(0)
        interval = f"interval {bins[1] - bins[0]}s" if bins.size > 1 else "one time bin"
        return f"Motion {rigid} - {interval} - {self.num_segments} segments"

    def make_interpolators(self) -> None:
        """Prepare the evaluation of :meth:`get_displacement_at_time_and_depth` (bounds; scipy's
        interpolators for methods other than "linear")."""
        self.temporal_bounds = [(t[0], t[-1]) for t in self.temporal_bins_s]
        self.spatial_bounds = (self.spatial_bins_um.min(), self.spatial_bins_um.max())
        if self.interpolation_method == "linear":
            self.interpolators = [_LinearGrid(t, self.spatial_bins_um, d)
                                  for t, d in zip(self.temporal_bins_s, self.displacement)]
            return
        try:
            from scipy.interpolate import RegularGridInterpolator
        except ImportError:
            raise ImportError(f"Motion(interpolation_method={self.interpolation_method!r}) needs scipy: "
                              "pip install scipy (or use interpolation_method='linear')") from None
        self.interpolators = [RegularGridInterpolator((t, self.spatial_bins_um), d, method=self.interpolation_method)
                              for t, d in zip(self.temporal_bins_s, self.displacement)]

    def get_displacement_at_time_and_depth(self, times_s, locations_um, segment_index: int | None = None,
                                           grid: bool = False) -> np.ndarray:
        """The displacement at times and positions, interpolated between bin centres (clamped to the
        first and last bins outside them).

        Parameters
        ----------
        times_s : array-like
            1D times (s).
        locations_um : array-like
            1D positions along ``direction``, or 2D ``(n, 2 or 3)`` locations.
        segment_index : int, optional
            Needed with several segments.
        grid : bool
            False: one displacement per (time, location) pair (same lengths). True: every location
            at every time, shape ``(len(locations), len(times))``.

        Returns
        -------
        np.ndarray
        """
        if self.interpolators is None:
            self.make_interpolators()
        if segment_index is None:
            if self.num_segments != 1:
                raise ValueError(f"this Motion has {self.num_segments} segments: give segment_index=")
            segment_index = 0
        if not 0 <= segment_index < self.num_segments:
            raise ValueError(f"segment_index={segment_index}: allowed 0 to {self.num_segments - 1}")
        times_s = np.asarray(times_s)
        locations_um = np.asarray(locations_um)
        if locations_um.ndim == 2:
            locations_um = locations_um[:, self.dim]
        elif locations_um.ndim != 1:
            raise ValueError(f"locations_um must be 1D depths or 2D locations, got shape {locations_um.shape}")
        times_s = times_s.clip(*self.temporal_bounds[segment_index])
        locations_um = locations_um.clip(*self.spatial_bounds)
        if grid:
            locations_um, times_s = np.meshgrid(locations_um, times_s, indexing="ij")
            out_shape = times_s.shape
            locations_um, times_s = locations_um.ravel(), times_s.ravel()
        else:
            if times_s.ndim != 1 or locations_um.shape != times_s.shape:
                raise ValueError(f"with grid=False, times_s and locations_um must have the same 1D shape, got "
                                 f"{times_s.shape} and {locations_um.shape}")
            out_shape = times_s.shape
        points = np.column_stack((times_s, locations_um))
        return self.interpolators[segment_index](points).reshape(out_shape)

    def to_dict(self) -> dict:
        """The motion as a dict (``object="Motion"``), which :func:`~gpuspike.load` takes back."""
        return {"object": "Motion", "displacement": self.displacement, "temporal_bins_s": self.temporal_bins_s,
                "spatial_bins_um": self.spatial_bins_um, "interpolation_method": self.interpolation_method,
                "direction": self.direction}

    @staticmethod
    def from_dict(d: dict) -> "Motion":
        """A Motion from :meth:`to_dict`'s dict (arrays, or the lists of a JSON file)."""
        missing = [k for k in ("displacement", "temporal_bins_s", "spatial_bins_um") if k not in d]
        if missing:
            raise ValueError(f"not a Motion dict: missing {missing}")
        displacement, temporal_bins_s = d["displacement"], d["temporal_bins_s"]
        if isinstance(displacement, np.ndarray):
            displacement, temporal_bins_s = [displacement], [temporal_bins_s]
        return Motion([np.asarray(x) for x in displacement], [np.asarray(x) for x in temporal_bins_s],
                      np.asarray(d["spatial_bins_um"]),
                      direction=d.get("direction", "y"), interpolation_method=d.get("interpolation_method", "linear"))

    def save(self, folder: str | Path, overwrite: bool = False) -> None:
        """Save to a folder SpikeInterface reads too (written whole under a temporary name, then renamed).

        Parameters
        ----------
        folder : str or Path
        overwrite : bool
            Replace an existing folder (only one that gpuspike or SpikeInterface wrote).
        """
        info = {"version": _FOLDER_VERSION, "dev_mode": False, "object": "Motion", "num_segments": self.num_segments,
                "direction": self.direction, "interpolation_method": self.interpolation_method}
        with atomic_folder(folder, overwrite=overwrite) as tmp:
            (tmp / "spikeinterface_info.json").write_text(json.dumps(info, indent=4))
            np.save(tmp / "spatial_bins_um.npy", self.spatial_bins_um)
            for index in range(self.num_segments):
                np.save(tmp / f"displacement_seg{index}.npy", self.displacement[index])
                np.save(tmp / f"temporal_bins_s_seg{index}.npy", self.temporal_bins_s[index])

    @classmethod
    def load(cls, folder: str | Path) -> "Motion":
        """Load a folder written by :meth:`save` (gpuspike's or SpikeInterface's); arrays are read
        without unpickling.

        Raises
        ------
        CorruptFolderError
            The folder holds no Motion, or a file is missing or unreadable.
        """
        from .loading import read_json

        folder = Path(folder)
        info = read_json(folder / "spikeinterface_info.json")
        if not isinstance(info, dict) or info.get("object") != "Motion":
            raise CorruptFolderError(f"Motion.load({str(folder)!r}): the folder does not contain a Motion object")
        num_segments = info.get("num_segments")
        if not isinstance(num_segments, int) or isinstance(num_segments, bool) or num_segments < 1:
            raise CorruptFolderError(f"{str(folder)!r}: num_segments={num_segments!r} is not a positive integer")
        arrays = {}
        names = ["spatial_bins_um"] + [f"{kind}_seg{i}" for i in range(num_segments)
                                       for kind in ("displacement", "temporal_bins_s")]
        for name in names:
            arrays[name] = _read_npy(folder / f"{name}.npy")
        return cls([arrays[f"displacement_seg{i}"] for i in range(num_segments)],
                   [arrays[f"temporal_bins_s_seg{i}"] for i in range(num_segments)], arrays["spatial_bins_um"],
                   direction=info.get("direction", "y"),
                   interpolation_method=info.get("interpolation_method", "linear"))

    def __eq__(self, other) -> bool:
        if not isinstance(other, Motion):
            return NotImplemented
        if self.num_segments != other.num_segments or self.spatial_bins_um.shape != other.spatial_bins_um.shape:
            return False
        for mine, theirs in ((self.displacement, other.displacement), (self.temporal_bins_s, other.temporal_bins_s)):
            if any(a.shape != b.shape or not np.allclose(a, b) for a, b in zip(mine, theirs)):
                return False
        return bool(np.allclose(self.spatial_bins_um, other.spatial_bins_um))

    __hash__ = None

    def copy(self) -> "Motion":
        """A deep copy."""
        return Motion([d.copy() for d in self.displacement], [t.copy() for t in self.temporal_bins_s],
                      self.spatial_bins_um.copy(), direction=self.direction,
                      interpolation_method=self.interpolation_method)

    def get_boundaries(self) -> tuple[float, float]:
        """Smallest and largest displacement over all segments."""
        return (min(float(np.min(d)) for d in self.displacement), max(float(np.max(d)) for d in self.displacement))


class _LinearGrid:
    """Bilinear interpolation on a (time, depth) grid for points inside it, with scipy's
    ``RegularGridInterpolator(method="linear")`` arithmetic (the same terms, added in its order)."""

    def __init__(self, times: np.ndarray, depths: np.ndarray, values: np.ndarray) -> None:
        self.axes = (np.asarray(times, dtype=float), np.asarray(depths, dtype=float))
        self.values = np.asarray(values, dtype=float)

    def __call__(self, points: np.ndarray) -> np.ndarray:
        lows, fractions = [], []
        for axis, x in zip(self.axes, points.T):
            if axis.size == 1:
                lows.append(np.zeros(x.shape, dtype=np.intp))
                fractions.append(np.zeros(x.shape))
                continue
            low = np.clip(np.searchsorted(axis, x, side="right") - 1, 0, axis.size - 2)
            lows.append(low)
            fractions.append((x - axis[low]) / (axis[low + 1] - axis[low]))
        (t0, s0), (yt, ys) = lows, fractions
        v = self.values
        time_varies, depth_varies = self.axes[0].size > 1, self.axes[1].size > 1
        result = 0.0 + v[t0, s0] * (1 - yt) * (1 - ys)
        if depth_varies:
            result = result + v[t0, s0 + 1] * (1 - yt) * ys
        if time_varies:
            result = result + v[t0 + 1, s0] * yt * (1 - ys)
        if time_varies and depth_varies:
            result = result + v[t0 + 1, s0 + 1] * yt * ys
        return result


def _read_npy(path: Path) -> np.ndarray:
    if not path.is_file():
        raise CorruptFolderError(f"{str(path)!r} is missing: the Motion folder is incomplete")
    return read_npy(path)


def ensure_time_bins(time_bin_centers_s=None, time_bin_edges_s=None):
    """Both time bin centres and edges from either (SpikeInterface 0.105's rules).

    Edges → centres: midpoints. Centres → edges: midpoints between centres, the first and last
    centres as outer edges. Lists (one array per segment) give lists.

    Parameters
    ----------
    time_bin_centers_s, time_bin_edges_s : np.ndarray, list of np.ndarray or None
        At least one of them.

    Returns
    -------
    time_bin_centers_s, time_bin_edges_s
    """
    if time_bin_centers_s is None and time_bin_edges_s is None:
        raise ValueError("Need at least one of time_bin_centers_s or time_bin_edges_s.")
    if time_bin_centers_s is None:
        if isinstance(time_bin_edges_s, list):
            time_bin_centers_s = [ensure_time_bins(None, edges)[0] for edges in time_bin_edges_s]
        else:
            edges = np.asarray(time_bin_edges_s)
            if edges.ndim != 1 or edges.size < 2:
                raise ValueError(f"time_bin_edges_s must be 1D with at least 2 edges, got shape {edges.shape}")
            time_bin_centers_s = 0.5 * (edges[1:] + edges[:-1])
    if time_bin_edges_s is None:
        if isinstance(time_bin_centers_s, list):
            time_bin_edges_s = [ensure_time_bins(centers, None)[1] for centers in time_bin_centers_s]
        else:
            centers = np.asarray(time_bin_centers_s)
            time_bin_edges_s = np.empty(centers.shape[0] + 1, dtype=centers.dtype)
            time_bin_edges_s[[0, -1]] = centers[[0, -1]]
            if centers.size > 1:  # SpikeInterface leaves the middle edge of two centres unset
                time_bin_edges_s[1:-1] = 0.5 * (centers[1:] + centers[:-1])
    return time_bin_centers_s, time_bin_edges_s


def ensure_time_bin_edges(time_bin_centers_s=None, time_bin_edges_s=None):
    """Time bin edges from centres or edges (see :func:`ensure_time_bins`)."""
    return ensure_time_bins(time_bin_centers_s, time_bin_edges_s)[1]
