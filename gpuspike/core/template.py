"""Templates: the dense or sparse templates of a set of units (SpikeInterface 0.105's container).

A :class:`Templates` holds ``templates_array`` ``(num_units, num_samples, num_channels)`` (or, when
sparse, ``(num_units, num_samples, max active channels)`` with each unit's channels first and zeros
after), the sampling frequency, the spike sample ``nbefore``, ids, an optional sparsity mask and an
optional probeinterface ``Probe``. It round-trips through a dict, JSON and a zarr folder with
SpikeInterface's layout, so SpikeInterface opens what gpuspike writes and the reverse.
"""
from __future__ import annotations

import json
import numbers
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .sparsity import ChannelSparsity

if TYPE_CHECKING:  # pragma: no cover
    from probeinterface import Probe

_PEAK_SIGNS = ("neg", "pos", "both")
_PEAK_MODES = ("extremum", "at_index", "peak_to_peak")
#: fields that say how the object was built, not what it holds: left out of ``==``
_NOT_COMPARED = ("check_for_consistent_sparsity",)


def _json_default(obj):
    """numpy values to plain JSON values (what SpikeInterface's SIJsonEncoder does for these types)."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.dtype):
        return obj.name
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"Templates.to_json: cannot encode a {type(obj).__name__} ({obj!r})")


def _ids(values, what: str, expected: int) -> np.ndarray:
    values = np.asarray(values)
    if values.ndim != 1 or values.size != expected:
        raise ValueError(f"{what} has {values.size} values (shape {values.shape}); the templates have {expected}")
    return values


@dataclass(eq=False, repr=False)
class Templates:
    """Templates of units, dense or sparse (SpikeInterface 0.105's ``Templates``).

    Parameters
    ----------
    templates_array : np.ndarray
        ``(num_units, num_samples, num_channels)``; with ``sparsity_mask``, the last axis holds each
        unit's active channels first (zeros after).
    sampling_frequency : float
        Samples per second.
    nbefore : int
        Samples before the spike in each template.
    is_in_uV : bool
        True when the values are in µV, False for raw ADC values.
    sparsity_mask : np.ndarray, optional
        ``(num_units, num_channels)`` bool; None for dense templates.
    channel_ids, unit_ids : array-like, optional
        Default ``arange(num_channels)`` / ``arange(num_units)``.
    probe : probeinterface.Probe, optional
        The probe (channel locations).
    check_for_consistent_sparsity : bool
        With ``sparsity_mask``, check that the array holds nothing beyond each unit's active channels.

    Attributes
    ----------
    num_units, num_samples, num_channels : int
        Sizes (``num_channels`` of the dense layout).
    nafter : int
        ``num_samples - nbefore``.
    ms_before, ms_after : float
        ``nbefore`` and ``nafter`` in milliseconds.
    sparsity : ChannelSparsity or None
        Built from ``sparsity_mask``.

    Notes
    -----
    ``==`` compares the arrays, ids, metadata and probe (``check_for_consistent_sparsity`` is left
    out: it says how an object was built, not what it holds).
    """

    templates_array: np.ndarray
    sampling_frequency: float
    nbefore: int
    is_in_uV: bool = True
    sparsity_mask: np.ndarray | None = None
    channel_ids: np.ndarray | None = None
    unit_ids: np.ndarray | None = None
    probe: "Probe | None" = None
    check_for_consistent_sparsity: bool = True

    num_units: int = field(init=False)
    num_samples: int = field(init=False)
    num_channels: int = field(init=False)
    nafter: int = field(init=False)
    ms_before: float = field(init=False)
    ms_after: float = field(init=False)
    sparsity: ChannelSparsity | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        from .validation import check_sampling_frequency

        array = self.templates_array
        if not isinstance(array, np.ndarray):
            if type(array).__module__.split(".")[0] == "cupy":  # a device array: the templates live on the host
                array = array.get()
            array = np.asarray(array)
        if array.ndim != 3:
            raise ValueError(f"templates_array must have 3 dimensions (num_units, num_samples, num_channels), got "
                             f"shape {array.shape}")
        self.templates_array = array
        self.sampling_frequency = check_sampling_frequency(self.sampling_frequency)
        self.num_units, self.num_samples = int(array.shape[0]), int(array.shape[1])
        if isinstance(self.nbefore, (bool, np.bool_)) or not isinstance(self.nbefore, numbers.Integral):
            raise TypeError(f"nbefore={self.nbefore!r}: give an integer number of samples")
        if not 0 <= int(self.nbefore) <= self.num_samples:
            raise ValueError(f"nbefore={self.nbefore!r}: allowed 0..num_samples={self.num_samples}")
        self.nbefore = int(self.nbefore)
        if self.probe is not None:
            from probeinterface import Probe

            if not isinstance(self.probe, Probe):
                raise TypeError(f"probe must be a probeinterface.Probe, got {type(self.probe).__name__}")
        if self.sparsity_mask is None:
            self.num_channels = int(array.shape[2])
        else:
            mask = np.asarray(self.sparsity_mask)
            if mask.dtype != bool:
                if mask.dtype.kind not in "iu" or not np.isin(mask, (0, 1)).all():
                    raise TypeError(f"sparsity_mask must be boolean (or 0/1), got dtype {mask.dtype}")
                mask = mask.astype(bool)
            if mask.ndim != 2 or mask.shape[0] != self.num_units:
                raise ValueError(f"sparsity_mask has shape {mask.shape}, expected ({self.num_units}, num_channels)")
            self.sparsity_mask = mask
            self.num_channels = int(mask.shape[1])
        self.nafter = self.num_samples - self.nbefore
        self.ms_before = self.nbefore / self.sampling_frequency * 1000
        self.ms_after = self.nafter / self.sampling_frequency * 1000
        self.channel_ids = (np.arange(self.num_channels) if self.channel_ids is None
                            else _ids(self.channel_ids, "channel_ids", self.num_channels))
        self.unit_ids = np.arange(self.num_units) if self.unit_ids is None else _ids(self.unit_ids, "unit_ids",
                                                                                     self.num_units)
        self.sparsity = None
        if self.sparsity_mask is None:
            return
        self.sparsity = ChannelSparsity(self.sparsity_mask, self.unit_ids, self.channel_ids)
        active = self.sparsity_mask.sum(axis=1)
        if array.shape[2] > self.num_channels or (self.num_units and array.shape[2] < active.max()):
            raise ValueError(f"sparse templates_array has {array.shape[2]} channels; the sparsity mask needs between "
                             f"{int(active.max(initial=0))} (most active channels of a unit) and {self.num_channels}")
        if self.check_for_consistent_sparsity and not self._are_passed_templates_sparse():
            raise ValueError("Sparsity mask passed but the templates are not sparse: some unit of templates_array "
                             "has non-zero values beyond its active channels (pass the dense array to "
                             "Templates(...) without sparsity_mask and call .to_sparse(mask))")

    def _are_passed_templates_sparse(self) -> bool:
        """True when every unit's values beyond its active channels are zero."""
        active = self.sparsity_mask.sum(axis=1)
        return all(not np.any(self.templates_array[u, :, int(n):]) for u, n in enumerate(active))

    # ------------------------------------------------------------------ display and comparison
    def __repr__(self) -> str:
        text = (f"Templates: {self.num_units} units - {self.num_samples} samples - {self.num_channels} channels \n"
                f"sampling_frequency={self.sampling_frequency / 1000:.2f} kHz - ms_before={self.ms_before:.2f} ms - "
                f"ms_after={self.ms_after:.2f} ms")
        if self.probe is not None:
            text += f"\n{self.probe!r}"
        if self.sparsity is not None:
            text += f"\n{self.sparsity!r}"
        return text

    def __eq__(self, other) -> bool:
        if not isinstance(other, Templates):
            return False
        for f in fields(self):
            if f.name in _NOT_COMPARED:
                continue
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if isinstance(mine, np.ndarray) or isinstance(theirs, np.ndarray):
                if mine is None or theirs is None or not np.array_equal(mine, theirs):
                    return False
            elif isinstance(mine, ChannelSparsity) or isinstance(theirs, ChannelSparsity):
                if not (isinstance(mine, ChannelSparsity) and mine == theirs):
                    return False
            elif mine != theirs:
                return False
        return True

    __hash__ = None

    # ------------------------------------------------------------------ selections and layouts
    def _indices(self, ids, own: np.ndarray, what: str) -> np.ndarray:
        ids = list(np.asarray(ids).tolist()) if not isinstance(ids, (list, tuple)) else list(ids)
        lookup = {v: i for i, v in enumerate(own.tolist())}
        missing = [i for i in ids if i not in lookup]
        if missing:
            raise ValueError(f"{what}: {missing[:10]} not in these templates; allowed: {own.tolist()[:20]}")
        return np.array([lookup[i] for i in ids], dtype="int64")

    def select_units(self, unit_ids) -> "Templates":
        """A new Templates with only ``unit_ids`` (in that order).

        Parameters
        ----------
        unit_ids : array-like
            Ids among ``self.unit_ids``.

        Returns
        -------
        Templates
        """
        indices = self._indices(unit_ids, self.unit_ids, "select_units(unit_ids)")
        return replace(self, templates_array=self.templates_array[indices],
                       sparsity_mask=None if self.sparsity_mask is None else self.sparsity_mask[indices],
                       unit_ids=self.unit_ids[indices], check_for_consistent_sparsity=False)

    def select_channels(self, channel_ids) -> "Templates":
        """A new Templates with only ``channel_ids`` (dense templates only).

        Parameters
        ----------
        channel_ids : array-like
            Ids among ``self.channel_ids``.

        Returns
        -------
        Templates
        """
        if self.are_templates_sparse():
            raise ValueError("select_channels: these templates are sparse; call .to_dense() first")
        indices = self._indices(channel_ids, self.channel_ids, "select_channels(channel_ids)")
        return replace(self, templates_array=self.templates_array[:, :, indices],
                       channel_ids=self.channel_ids[indices], check_for_consistent_sparsity=False)

    def to_sparse(self, sparsity) -> "Templates":
        """The same templates kept on each unit's channels of ``sparsity``.

        Parameters
        ----------
        sparsity : ChannelSparsity or np.ndarray
            A sparsity of these units and channels, or its ``(num_units, num_channels)`` bool mask.

        Returns
        -------
        Templates
        """
        if isinstance(sparsity, np.ndarray):
            sparsity = ChannelSparsity(np.asarray(sparsity, dtype=bool) if sparsity.dtype.kind in "biu" else sparsity,
                                       self.unit_ids, self.channel_ids)
        if not isinstance(sparsity, ChannelSparsity):
            raise TypeError(f"sparsity must be a ChannelSparsity or a bool mask array, got {type(sparsity).__name__}")
        if self.sparsity_mask is not None:
            raise ValueError("to_sparse: these templates are sparse already; call .to_dense() first")
        if not (np.array_equal(sparsity.unit_ids, self.unit_ids) and np.array_equal(sparsity.channel_ids,
                                                                                    self.channel_ids)):
            raise ValueError("to_sparse: the sparsity's unit_ids / channel_ids differ from these templates' ones")
        return Templates(templates_array=sparsity.sparsify_templates(self.templates_array),
                         sampling_frequency=self.sampling_frequency, nbefore=self.nbefore, sparsity_mask=sparsity.mask,
                         channel_ids=self.channel_ids, unit_ids=self.unit_ids, probe=self.probe,
                         check_for_consistent_sparsity=self.check_for_consistent_sparsity, is_in_uV=self.is_in_uV)

    def to_dense(self) -> "Templates":
        """These templates on every channel (zeros off each unit's channels); ``self`` when dense.

        Returns
        -------
        Templates
        """
        if not self.are_templates_sparse():
            return self
        return Templates(templates_array=self.get_dense_templates(), sampling_frequency=self.sampling_frequency,
                         nbefore=self.nbefore, sparsity_mask=None, channel_ids=self.channel_ids,
                         unit_ids=self.unit_ids, probe=self.probe, check_for_consistent_sparsity=False,
                         is_in_uV=self.is_in_uV)

    def get_one_template_dense(self, unit_index: int) -> np.ndarray:
        """The ``(num_samples, num_channels)`` dense template of the unit at ``unit_index``.

        Parameters
        ----------
        unit_index : int

        Returns
        -------
        np.ndarray
        """
        if isinstance(unit_index, (bool, np.bool_)) or not isinstance(unit_index, numbers.Integral) or \
                not -self.num_units <= int(unit_index) < self.num_units:
            raise ValueError(f"unit_index={unit_index!r}: allowed 0..{self.num_units - 1} (an index, not a unit id)")
        template = self.templates_array[int(unit_index)]
        if self.sparsity is None:
            return template
        mask = self.sparsity_mask[int(unit_index)]
        dense = np.zeros((self.num_samples, self.num_channels), dtype=template.dtype)
        dense[:, mask] = template[:, :int(mask.sum())]
        return dense

    def get_dense_templates(self) -> np.ndarray:
        """``(num_units, num_samples, num_channels)`` dense templates (the array itself when dense).

        Returns
        -------
        np.ndarray
        """
        if self.sparsity is None:
            return self.templates_array
        dense = np.zeros((self.num_units, self.num_samples, self.num_channels), dtype=self.templates_array.dtype)
        for u in range(self.num_units):
            dense[u] = self.get_one_template_dense(u)
        return dense

    def are_templates_sparse(self) -> bool:
        """True when the templates carry a sparsity.

        Returns
        -------
        bool
        """
        return self.sparsity is not None

    # ------------------------------------------------------------------ channels
    def get_channel_locations(self) -> np.ndarray:
        """The probe's contact positions (one row per channel).

        Returns
        -------
        np.ndarray
        """
        if self.probe is None:
            raise ValueError("Templates.get_channel_locations() needs a probe: build the Templates with probe=...")
        return self.probe.contact_positions

    def get_main_channels(self, peak_sign: str = "both", peak_mode: str = "extremum", outputs: str = "index",
                          with_dict: bool = False):
        """The main channel of each unit: the channel of largest amplitude.

        Parameters
        ----------
        peak_sign : {"neg", "pos", "both"}
            Which peak counts.
        peak_mode : {"extremum", "at_index", "peak_to_peak"}
            The peak value over time, the value at ``nbefore``, or the peak-to-peak amplitude.
        outputs : {"index", "id"}
            Channel indices or channel ids.
        with_dict : bool
            ``{unit_id: channel}`` instead of an array.

        Returns
        -------
        np.ndarray or dict
        """
        from .template_tools import _get_main_channel_from_template_array

        if outputs not in ("index", "id"):
            raise ValueError(f"outputs={outputs!r}: allowed values are 'index', 'id'")
        main = _get_main_channel_from_template_array(self.get_dense_templates(), peak_mode, peak_sign, self.nbefore)
        if outputs == "id":
            main = self.channel_ids[main]
        return dict(zip(self.unit_ids, main)) if with_dict else main

    # ------------------------------------------------------------------ dict and JSON
    def to_dict(self) -> dict:
        """The fields as a dict (arrays as arrays, the probe as probeinterface's dict).

        Returns
        -------
        dict
        """
        return {"templates_array": self.templates_array, "sparsity_mask": self.sparsity_mask,
                "channel_ids": self.channel_ids, "unit_ids": self.unit_ids,
                "sampling_frequency": self.sampling_frequency, "nbefore": self.nbefore, "is_in_uV": self.is_in_uV,
                "probe": None if self.probe is None else self.probe.to_dict()}

    @classmethod
    def from_dict(cls, data: dict) -> "Templates":
        """The Templates of :meth:`to_dict` (or of its JSON).

        Parameters
        ----------
        data : dict

        Returns
        -------
        Templates
        """
        if not isinstance(data, dict):
            raise TypeError(f"Templates.from_dict expects a dict, got {type(data).__name__}")
        required = ("templates_array", "sampling_frequency", "nbefore")
        missing = [k for k in required if k not in data]
        if missing:
            raise ValueError(f"Templates.from_dict: missing keys {missing}; a Templates dict has {list(required)} "
                             f"and sparsity_mask, channel_ids, unit_ids, is_in_uV, probe")
        probe = data.get("probe")
        if probe is not None:
            from probeinterface import Probe

            probe = Probe.from_dict(probe)
        mask = data.get("sparsity_mask")
        is_in_uV = data.get("is_in_uV", data.get("is_scaled", True))
        return cls(templates_array=np.asarray(data["templates_array"]), sampling_frequency=data["sampling_frequency"],
                   nbefore=data["nbefore"], sparsity_mask=None if mask is None else np.asarray(mask),
                   channel_ids=None if data.get("channel_ids") is None else np.asarray(data["channel_ids"]),
                   unit_ids=None if data.get("unit_ids") is None else np.asarray(data["unit_ids"]),
                   is_in_uV=bool(is_in_uV), probe=probe)

    def to_json(self) -> str:
        """:meth:`to_dict` as a JSON string (arrays as lists).

        Returns
        -------
        str
        """
        return json.dumps(self.to_dict(), default=_json_default)

    @classmethod
    def from_json(cls, json_str: str) -> "Templates":
        """The Templates of :meth:`to_json`.

        Parameters
        ----------
        json_str : str

        Returns
        -------
        Templates
        """
        return cls.from_dict(json.loads(json_str))

    # ------------------------------------------------------------------ zarr
    def add_templates_to_zarr_group(self, zarr_group: Any) -> None:
        """Write the templates into an open zarr group (SpikeInterface's layout).

        Arrays ``templates_array`` (one chunk per unit), ``channel_ids``, ``unit_ids`` and, when
        set, ``sparsity_mask``; attributes ``sampling_frequency``, ``nbefore``, ``is_in_uV``; the probe
        in a ``probe`` sub-group (one array per contact field, as probeinterface writes it).

        Parameters
        ----------
        zarr_group : zarr.Group
        """
        _write_templates(self, zarr_group)

    def to_zarr(self, folder_path: str | Path) -> None:
        """Write the templates to a zarr folder (format 2; an existing Templates folder is replaced).

        Parameters
        ----------
        folder_path : str or Path
        """
        self.add_templates_to_zarr_group(_open_for_writing(folder_path))

    @classmethod
    def from_zarr_group(cls, zarr_group: Any) -> "Templates":
        """The Templates written in an open zarr group by :meth:`add_templates_to_zarr_group` or SpikeInterface.

        Parameters
        ----------
        zarr_group : zarr.Group

        Returns
        -------
        Templates
        """
        return cls(**_read_templates(zarr_group))

    @staticmethod
    def from_zarr(folder_path: str | Path) -> "Templates":
        """The Templates of a zarr folder written by :meth:`to_zarr` or SpikeInterface.

        Parameters
        ----------
        folder_path : str or Path

        Returns
        -------
        Templates
        """
        return Templates.from_zarr_group(_open_for_reading(folder_path))


# ---------------------------------------------------------------------- zarr layout (SpikeInterface's)
def _zarr_ids(values: np.ndarray, what: str) -> np.ndarray:
    values = np.asarray(values)
    if values.dtype.kind == "O":
        if not all(isinstance(v, str) for v in values.tolist()):
            raise ValueError(f"{what} of mixed Python objects cannot be written to zarr; use integer or string ids")
        values = values.astype(str)
    return values


def _write_probe(probe, group) -> None:
    """A probe as probeinterface's ``add_probe_to_zarr_group`` lays it out (with zarr-python 2 or 3)."""
    from .zarrrecording import create_array

    contacts = probe.to_numpy(complete=True)
    for name in contacts.dtype.names:
        create_array(group, name, data=np.ascontiguousarray(contacts[name]))
    annotations = group.create_group("annotations")
    for key, value in json.loads(json.dumps(probe.annotations, default=_json_default)).items():
        annotations.attrs[key] = value
    if probe.probe_planar_contour is not None:
        create_array(group, "probe_planar_contour", data=np.asarray(probe.probe_planar_contour, dtype="float64"))


def _read_probe(group):
    """The probe of a ``probe`` sub-group (the inverse of :func:`_write_probe`, and of probeinterface's writer)."""
    from probeinterface import Probe

    from .folder_safety import check_zarr_array

    names = [k for k in sorted(group.array_keys()) if k != "probe_planar_contour"]
    columns = {k: np.asarray(check_zarr_array(group[k], f"probe array {k!r}")[...]) for k in names}
    if not columns:
        raise ValueError("the 'probe' group of this Templates zarr folder holds no contact arrays")
    num_contacts = len(next(iter(columns.values())))
    contacts = np.zeros(num_contacts, dtype=[(k, v.dtype) for k, v in columns.items()])
    for k, v in columns.items():
        contacts[k] = v
    probe = Probe.from_numpy(contacts)
    if "annotations" in group:
        attrs = dict(group["annotations"].attrs)
        if attrs:
            probe.annotate(**attrs)
    if "probe_planar_contour" in group:
        probe.probe_planar_contour = np.asarray(group["probe_planar_contour"][...])
    return probe


def _write_templates(templates: Templates, group) -> None:
    from .zarrrecording import create_array

    array = templates.templates_array
    create_array(group, "templates_array", data=array, chunks=(1,) + tuple(array.shape[1:]))
    create_array(group, "channel_ids", data=_zarr_ids(templates.channel_ids, "channel_ids"))
    create_array(group, "unit_ids", data=_zarr_ids(templates.unit_ids, "unit_ids"))
    group.attrs["sampling_frequency"] = float(templates.sampling_frequency)
    group.attrs["nbefore"] = int(templates.nbefore)
    group.attrs["is_in_uV"] = bool(templates.is_in_uV)
    if templates.sparsity_mask is not None:
        create_array(group, "sparsity_mask", data=templates.sparsity_mask)
    if templates.probe is not None:
        _write_probe(templates.probe, group.create_group("probe"))


def _read_templates(group) -> dict:
    """The keyword arguments of ``Templates(...)`` stored in a zarr group."""
    from .errors import CorruptFolderError
    from .folder_safety import check_zarr_array

    missing = [k for k in ("templates_array", "channel_ids", "unit_ids") if k not in group]
    attrs = dict(group.attrs)
    missing += [f"attribute {k!r}" for k in ("sampling_frequency", "nbefore") if k not in attrs]
    if missing:
        raise CorruptFolderError(f"this zarr group is not a Templates group: it lacks {missing}")

    def read(name):
        return np.asarray(check_zarr_array(group[name], f"Templates array {name!r}")[...])

    # before SpikeInterface 0.103, "is_in_uV" was named "is_scaled"
    is_in_uV = attrs["is_scaled"] if "is_scaled" in attrs else attrs.get("is_in_uV", True)
    mask = read("sparsity_mask") if "sparsity_mask" in group else None
    return dict(templates_array=read("templates_array"), sampling_frequency=attrs["sampling_frequency"],
                nbefore=int(attrs["nbefore"]), sparsity_mask=mask,
                channel_ids=read("channel_ids"), unit_ids=read("unit_ids"),
                probe=_read_probe(group["probe"]) if "probe" in group else None, is_in_uV=bool(is_in_uV))


def is_templates_folder(folder: Path) -> bool:
    """A zarr folder holding a :class:`Templates` (its ``templates_array``)."""
    return (folder / "templates_array").is_dir() and any((folder / n).is_file() for n in (".zgroup", "zarr.json"))


def _open_for_writing(folder_path: str | Path):
    """A new zarr group (format 2) at ``folder_path``; an existing folder is replaced only when it is a
    Templates folder, empty, or written by gpuspike / SpikeInterface."""
    from .errors import RefusedOverwriteError
    from .overwrite_guard import check_replaceable, protected_reason
    from .zarrrecording import open_group

    folder = Path(folder_path)
    if folder.exists():
        if is_templates_folder(folder):
            reason = protected_reason(folder)
            if reason is not None:
                raise RefusedOverwriteError(f"Templates.to_zarr refused: folder {str(folder)!r} is {reason}")
        else:
            check_replaceable(folder)
    return open_group(folder, "w")


def _open_for_reading(folder_path: str | Path):
    from .folder_safety import check_zarr_folder
    from .zarrrecording import open_group

    folder = Path(folder_path)
    if not folder.is_dir():
        raise FileNotFoundError(f"Templates.from_zarr: no zarr folder at {str(folder)!r}")
    check_zarr_folder(folder, "Templates zarr folder")
    return open_group(folder, "r")
