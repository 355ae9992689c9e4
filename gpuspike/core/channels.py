"""Channel metadata shared by recordings and snippets: gains, groups, locations and probes."""
from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np

from .si_methods import ChannelMethods

_GROUP_MODES = ("auto", "by_probe", "by_shank", "by_side")


#: the per-channel arrays that hold an attached probe (kept with the probe, not listed as properties)
PROBE_PROPERTY_KEYS = ("contact_vector", "location")


def locations_of_contacts(contact_vector: np.ndarray, ndim: int) -> np.ndarray:
    """``(num_channels, ndim)`` float64 locations of a probe's contact vector (channel order).

    Parameters
    ----------
    contact_vector : np.ndarray
        probeinterface's ``to_numpy(complete=True)`` rows, in channel order.
    ndim : int
        2 or 3.

    Returns
    -------
    np.ndarray
    """
    axes = ["x", "y", "z"][:ndim]
    return np.stack([contact_vector[a] for a in axes], axis=1).astype("float64")


class ChannelsMixin(ChannelMethods):
    """Channel ids, gains/offsets, groups and probeinterface probes.

    The class using it must provide ``_main_ids``, properties and ``channel_slice``.
    """

    _id_kind = "channel_id"

    @property
    def channel_ids(self) -> np.ndarray:
        return self._main_ids

    def get_channel_ids(self) -> np.ndarray:
        """The channel ids."""
        return self._main_ids

    def get_num_channels(self) -> int:
        """Number of channels."""
        return len(self._main_ids)

    # ---------------------------------------------------------------- gains and offsets
    def _per_channel(self, key: str, values, channel_ids) -> np.ndarray:
        values = np.asarray(values, dtype="float64")  # as given (SpikeInterface keeps them); scaled in float32
        n = self.get_num_channels() if channel_ids is None else len(channel_ids)
        if values.ndim > 1 or (values.ndim == 1 and values.shape[0] != n):
            raise ValueError(f"{key}: got {values.shape[0] if values.ndim == 1 else values.shape} values, "
                             f"expected a scalar or {n} (one per channel)")
        return np.broadcast_to(values, (n,))

    def set_channel_gains(self, gains, channel_ids: Sequence | None = None) -> None:
        """Set ``gain_to_uV`` (a scalar or one value per channel)."""
        self.set_property("gain_to_uV", self._per_channel("gain_to_uV", gains, channel_ids), ids=channel_ids)

    def set_channel_offsets(self, offsets, channel_ids: Sequence | None = None) -> None:
        """Set ``offset_to_uV`` (a scalar or one value per channel)."""
        self.set_property("offset_to_uV", self._per_channel("offset_to_uV", offsets, channel_ids), ids=channel_ids)

    def get_channel_gains(self, channel_ids: Sequence | None = None) -> np.ndarray | None:
        """The ``gain_to_uV`` property."""
        return self.get_property("gain_to_uV", ids=channel_ids)

    def get_channel_offsets(self, channel_ids: Sequence | None = None) -> np.ndarray | None:
        """The ``offset_to_uV`` property."""
        return self.get_property("offset_to_uV", ids=channel_ids)

    def has_scaleable_traces(self) -> bool:
        """True when gains (and offsets) to µV are set."""
        return self.get_property("gain_to_uV") is not None and self.get_property("offset_to_uV") is not None

    has_scaled_traces = has_scaleable_traces
    #: SpikeInterface <= 0.100 name of :meth:`has_scaleable_traces`
    has_scaled = has_scaleable_traces

    def _scaling(self, channel_indices) -> tuple[np.ndarray, np.ndarray]:
        gains = self.get_property("gain_to_uV")
        offsets = self.get_property("offset_to_uV")
        if gains is None:
            raise ValueError(
                "return_scaled=True needs the 'gain_to_uV' property (and 'offset_to_uV'); "
                "set them with set_channel_gains() / set_channel_offsets()"
            )
        if offsets is None:
            offsets = np.zeros(self.get_num_channels(), dtype="float32")
        return (np.asarray(gains, dtype="float32")[channel_indices],
                np.asarray(offsets, dtype="float32")[channel_indices])

    # ---------------------------------------------------------------- groups and locations
    def set_channel_groups(self, groups, channel_ids: Sequence | None = None) -> None:
        """Set the ``group`` property (e.g. tetrodes, shanks)."""
        from .validation import check_integer_frames

        groups = check_integer_frames(groups, "set_channel_groups: groups", "group numbers (integers)")
        self.set_property("group", groups, ids=channel_ids)

    def get_channel_groups(self, channel_ids: Sequence | None = None) -> np.ndarray:
        """The ``group`` property (zeros when not set)."""
        groups = self.get_property("group", ids=channel_ids)
        if groups is None:
            n = self.get_num_channels() if channel_ids is None else len(channel_ids)
            groups = np.zeros(n, dtype="int64")
        return groups

    def set_channel_locations(self, locations, channel_ids: Sequence | None = None) -> None:
        """Set the ``location`` property ((num_channels, 2 or 3) in µm).

        With a probe attached, the probe holds the geometry: as SpikeInterface 0.105 does, the probe
        is replaced by a dummy one at ``locations`` (one location per channel), with a FutureWarning.
        """
        if self.has_probe():
            if channel_ids is not None:
                raise ValueError("set_channel_locations(channel_ids=...): a probe is attached and holds the "
                                 "geometry; give every channel's location (a dummy probe replaces it), or change "
                                 "the probe and use set_probe()")
            warnings.warn("set_channel_locations() on a recording with a probe replaces the probe by a dummy one "
                          "(SpikeInterface 0.105, deprecated there): use set_dummy_probe_from_locations()",
                          FutureWarning, stacklevel=2)
            self.set_dummy_probe_from_locations(locations)
            return
        locations = np.asarray(locations, dtype="float64")
        if locations.ndim != 2 or locations.shape[1] not in (2, 3):
            raise ValueError(f"locations must have shape (num_channels, 2|3), got {locations.shape}")
        self.set_property("location", locations, ids=channel_ids)

    def get_channel_locations(self, channel_ids: Sequence | None = None, axes: str = "xy") -> np.ndarray:
        """Channel locations ((num_channels, len(axes)), µm), from the probe or ``location``."""
        locations = self.get_property("location", ids=channel_ids)
        if locations is None:
            raise ValueError(
                "this object has no channel locations: attach a probe with set_probe() "
                "or call set_channel_locations()"
            )
        axis_index = {"x": 0, "y": 1, "z": 2}
        try:
            cols = [axis_index[a] for a in axes]
        except KeyError:
            raise ValueError(f"axes={axes!r}: allowed letters are 'x', 'y', 'z'") from None
        if max(cols) >= locations.shape[1]:
            raise ValueError(f"axes={axes!r} but locations are {locations.shape[1]}D")
        return np.asarray(locations)[:, cols]

    def has_3d_locations(self) -> bool:
        loc = self.get_property("location")
        return loc is not None and loc.shape[1] == 3

    def split_by(self, property: str = "group", outputs: str = "dict"):
        """Split into channel-sliced views, one per value of ``property``.

        Returns
        -------
        dict or list
            ``{value: view}`` (``outputs="dict"``) or a list of views (``outputs="list"``).
        """
        return self._views_by_property(property, outputs,
                                       lambda mask: self.channel_slice(channel_ids=self.channel_ids[mask]))

    # ---------------------------------------------------------------- probes
    def has_probe(self) -> bool:
        """True when a probe (contact_vector) is attached."""
        return "contact_vector" in self._properties

    def get_property_keys(self) -> list[str]:
        """Names of the properties. With a probe attached, its ``contact_vector`` and ``location``
        stay with the probe, as in SpikeInterface 0.105 (which keeps the probe outside the
        properties): ``get_property("location")`` still gives the locations, but they are not listed,
        saved or exported as properties (the probe is, whole).

        Returns
        -------
        list of str
        """
        keys = super().get_property_keys()
        if self.has_probe():
            keys = [k for k in keys if k not in PROBE_PROPERTY_KEYS]
        return keys

    def delete_property(self, key: str) -> None:
        """Remove a property; the attached probe's ``contact_vector`` / ``location`` go with
        :meth:`remove_probe` only (they are not properties of their own, as in SpikeInterface 0.105).

        Parameters
        ----------
        key : str
        """
        if key in PROBE_PROPERTY_KEYS and self.has_probe():
            raise KeyError(f"{key!r} belongs to the attached probe, not to the properties "
                           f"{self.get_property_keys()}: use remove_probe() to detach the probe")
        super().delete_property(key)

    def get_annotation_keys(self) -> list[str]:
        """Names of the annotations; the attached probe's own annotations (``probes_info``) stay with
        the probe (``get_probe().annotations``), as in SpikeInterface 0.105.

        Returns
        -------
        list of str
        """
        keys = super().get_annotation_keys()
        if self.has_probe():
            keys = [k for k in keys if k != "probes_info"]
        return keys

    def set_probe(self, probe, group_mode: str = "auto", in_place: bool | None = None):
        """Attach a probeinterface ``Probe`` (or ``ProbeGroup``).

        Channels are ordered by the probe's ``device_channel_indices`` (wiring): contact k is
        channel ``device_channel_indices[k]``; contacts wired to -1 are dropped, and so are
        channels that no contact is wired to.

        Parameters
        ----------
        probe : probeinterface.Probe or ProbeGroup
        group_mode : {"auto", "by_probe", "by_shank", "by_side"}
            How the ``group`` property is set: one group per probe, per (probe, shank), per
            (probe[, shank], side); "auto" (SpikeInterface 0.105's default) uses every one of
            these the probe has.
        in_place : bool, optional
            True: attach to this object (the wiring must keep every channel). False: return a new
            view and leave this object unchanged (the specification's default). None (default):
            both generations at once — a probe that wires every channel is attached to this
            object, which is returned (``recording.set_probe(probe)`` as in SpikeInterface 0.105,
            ``rec2 = recording.set_probe(probe)`` as in the specification); a probe that wires
            fewer channels gives a view of the wired channels, with a warning (SpikeInterface
            0.105 refuses it: ``select_channels_with_probe``).

        Returns
        -------
        The object with the probe attached (``self`` when attached in place).
        """
        from probeinterface import Probe, ProbeGroup

        if isinstance(probe, Probe):
            probegroup = ProbeGroup()
            probegroup.add_probe(probe)
        elif isinstance(probe, ProbeGroup):
            probegroup = probe
        else:
            raise TypeError(f"probe must be a probeinterface Probe or ProbeGroup, got {type(probe).__name__}")
        return self.set_probegroup(probegroup, group_mode=group_mode, in_place=in_place)

    def set_probes(self, probe_or_probegroup, group_mode: str = "auto", in_place: bool | None = None):
        """Alias of :meth:`set_probe`."""
        return self.set_probe(probe_or_probegroup, group_mode=group_mode, in_place=in_place)

    def set_probegroup(self, probegroup, group_mode: str = "auto", in_place: bool | None = None,
                       check_overlap: bool = True):
        """Attach a probeinterface ``ProbeGroup`` (see :meth:`set_probe`).

        Parameters
        ----------
        probegroup : probeinterface.ProbeGroup (or Probe)
        group_mode : {"auto", "by_probe", "by_shank", "by_side"}
        in_place : bool, optional
            See :meth:`set_probe`.
        check_overlap : bool
            Refuse probes whose contacts fall inside another probe's bounding box (their channel
            locations could not be told apart), as SpikeInterface does.

        Returns
        -------
        The object with the probes attached (``self`` when ``in_place``). When no contact is wired
        (every ``device_channel_indices`` is -1) the result has no channel (with a warning).
        """
        if group_mode not in _GROUP_MODES:
            raise ValueError(f"group_mode={group_mode!r}: allowed values are {_GROUP_MODES}")
        from probeinterface import ProbeGroup, Probe

        if isinstance(probegroup, Probe):
            return self.set_probe(probegroup, group_mode=group_mode, in_place=in_place)
        if not isinstance(probegroup, ProbeGroup):
            raise TypeError(f"probegroup must be a probeinterface ProbeGroup, got {type(probegroup).__name__}")
        if any(p.device_channel_indices is None for p in probegroup.probes):
            raise ValueError("the probe has no wiring: call probe.set_device_channel_indices(...) first")
        if check_overlap:
            _check_probes_do_not_overlap(probegroup.probes)
        arr = probegroup.to_numpy(complete=True)
        dci = arr["device_channel_indices"]
        if not np.issubdtype(dci.dtype, np.integer):
            raise ValueError("the probe has no wiring: call probe.set_device_channel_indices(...) first")
        wired = dci >= 0
        if not np.any(wired):
            if in_place is None:
                raise ValueError("no contact of the probe is wired (all device_channel_indices are -1): nothing to "
                                 "attach; call probe.set_device_channel_indices(...) first")
            if in_place:
                raise ValueError("no contact of the probe is wired (all device_channel_indices are -1): nothing to "
                                 "attach in place; use in_place=False to get a recording without channels")
            import warnings

            warnings.warn("no contact of the probe is wired (all device_channel_indices are -1): the result has "
                          "no channel", UserWarning, stacklevel=2)
            return self.channel_slice(channel_ids=self.channel_ids[:0])
        if np.any(dci[wired] >= self.get_num_channels()):
            raise ValueError(
                f"probe device_channel_indices go up to {dci.max()} but the object has "
                f"{self.get_num_channels()} channels"
            )
        if len(np.unique(dci[wired])) != wired.sum():
            raise ValueError("probe device_channel_indices have duplicates")
        arr = arr[wired]
        order = np.argsort(arr["device_channel_indices"], kind="stable")
        arr = arr[order]
        new_channel_ids = self.channel_ids[arr["device_channel_indices"]]
        groups = _groups_of(arr, group_mode)
        # channel order now follows the wiring; contact vector stores positions in that order
        arr = arr.copy()
        arr["device_channel_indices"] = np.arange(len(arr))
        locations = locations_of_contacts(arr, probegroup.probes[0].ndim)
        probes_info = [
            {"annotations": dict(p.annotations), "planar_contour": None if p.probe_planar_contour is None
             else np.asarray(p.probe_planar_contour).tolist()}
            for p in probegroup.probes
        ]
        wires_all = np.array_equal(new_channel_ids, self.channel_ids)
        if in_place is None:
            in_place = wires_all
            if not wires_all:
                import warnings

                warnings.warn(
                    f"set_probe: the probe wires {len(new_channel_ids)} of the {self.get_num_channels()} channels: "
                    "this object is left unchanged and the returned view holds the wired channels "
                    "(SpikeInterface 0.105 refuses this; select_channels_with_probe(probe) makes the view "
                    "without this warning)", UserWarning, stacklevel=3)
        if in_place:
            if not wires_all:
                raise ValueError(
                    f"set_probe(in_place=True) needs a probe that wires every channel once; it wires "
                    f"{len(new_channel_ids)} of {self.get_num_channels()}: use select_channels_with_probe(probe) "
                    "(or in_place=False) for a view of the wired channels")
            target = self
        else:
            target = self.channel_slice(channel_ids=new_channel_ids)
            if np.array_equal(new_channel_ids, self.channel_ids):
                target._display_class = getattr(self, "_display_class", None) or type(self).__name__
        target._properties["contact_vector"] = arr
        target._properties["location"] = locations
        target._properties["group"] = groups
        target._annotations["probes_info"] = probes_info
        return target

    def get_probegroup(self):
        """The attached probes as a probeinterface ``ProbeGroup`` (in channel order)."""
        from probeinterface import ProbeGroup

        arr = self.get_property("contact_vector")
        if arr is None:
            raise ValueError("no probe attached: use set_probe() (or set_channel_locations for bare locations)")
        probegroup = ProbeGroup.from_numpy(arr)
        probes_info = self._annotations.get("probes_info", [])
        # a channel slice may keep only some probes: the k-th probe is the k-th probe_index left
        kept = np.unique(arr["probe_index"]) if len(arr) else np.zeros(0, "int64")
        for k, probe in enumerate(probegroup.probes):
            probe_index = int(kept[k]) if k < len(kept) else k
            if probe_index < len(probes_info):
                info = probes_info[probe_index]
                probe.annotate(**info.get("annotations", {}))
                if info.get("planar_contour") is not None:
                    probe.set_planar_contour(np.asarray(info["planar_contour"]))
        return probegroup

    def get_probe(self):
        """The attached probe (error when several probes are attached)."""
        probes = self.get_probegroup().probes
        if len(probes) != 1:
            raise ValueError(f"{len(probes)} probes are attached: use get_probes() or get_probegroup()")
        return probes[0]

    def get_probes(self) -> list:
        """The attached probes, as a list."""
        return self.get_probegroup().probes


def _groups_of(contacts: np.ndarray, group_mode: str) -> np.ndarray:
    """Group number of each contact (a row of ``ProbeGroup.to_numpy(complete=True)``)."""
    names = contacts.dtype.names
    has_shank = "shank_ids" in names and np.any(contacts["shank_ids"].astype(str) != "")
    has_side = "contact_sides" in names and np.any(contacts["contact_sides"].astype(str) != "")
    keys = ["probe_index"]
    if group_mode == "by_shank" or (group_mode == "auto" and has_shank):
        if group_mode == "by_shank" and "shank_ids" not in names:
            from .errors import SpikeInterfaceAssertError

            raise SpikeInterfaceAssertError("shank_ids is None in probe, you cannot group by shank "
                                            "(group_mode='by_shank'; use 'auto' or 'by_probe')")
        keys.append("shank_ids")
    if group_mode == "by_side" or (group_mode == "auto" and has_side):
        if group_mode == "by_side" and not has_side:
            raise ValueError("group_mode='by_side': the probe has no contact_sides")
        if group_mode == "by_side" and has_shank:
            keys.append("shank_ids")
        keys.append("contact_sides")
    labels = np.array(["|".join(str(contacts[k][i]) for k in keys) for i in range(len(contacts))])
    if len(labels) == 0:
        return np.zeros(0, dtype="int64")
    # groups numbered in the sorted order of their (probe, shank, side) keys
    columns = [contacts[k] for k in keys]
    order = np.lexsort([np.asarray(c).astype(str) if np.asarray(c).dtype.kind in "OSU" else np.asarray(c)
                        for c in columns[::-1]])
    groups = np.empty(len(labels), dtype="int64")
    seen: dict = {}
    for i in order:
        groups[i] = seen.setdefault(labels[i], len(seen))
    return groups


def _check_probes_do_not_overlap(probes) -> None:
    """Raise when a contact of a probe lies inside the bounding box of another probe."""
    for i, probe_i in enumerate(probes):
        pos_i = np.asarray(probe_i.contact_positions)
        lo, hi = pos_i[:, :2].min(axis=0), pos_i[:, :2].max(axis=0)
        for j in range(i + 1, len(probes)):
            pos_j = np.asarray(probes[j].contact_positions)[:, :2]
            inside = np.all((pos_j >= lo) & (pos_j <= hi), axis=1)
            if np.any(inside):
                raise ValueError(
                    f"probes {i} and {j} overlap: {int(inside.sum())} contacts of probe {j} lie inside probe {i}'s "
                    f"bounding box; move them apart (probe.move([dx, dy])) or pass check_overlap=False")
