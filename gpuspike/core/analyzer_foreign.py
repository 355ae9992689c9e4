"""SpikeInterface's extensions that gpuspike does not compute: read from a folder, carried between folders.

``get_extension`` serves them read-only (their stored data, and ``get_data()`` as SpikeInterface
0.105 returns it).

``save_as`` copies them as stored, into a folder of either format; ``select_units`` /
``remove_units`` cut them to the units kept as SpikeInterface does (metric tables, per-unit arrays,
unit-by-unit matrices, per-spike data); merges and splits carry the per-spike data as
SpikeInterface does. Where they cannot follow (into an analyzer in memory, which holds only what
gpuspike computes; data SpikeInterface recomputes on a merge or split) they are left behind with a
warning naming them and the way to get them back.
"""
from __future__ import annotations

import warnings

import numpy as np

from .analyzer_dataframes import index_as_unit_ids, is_dataframe, with_numpy_dtypes
from .analyzer_extension import FOREIGN_METRIC_EXTENSIONS, AnalyzerExtension, is_foreign_extension
from .analyzer_spikevector import BaseSpikeVectorExtension, spike_positions_after_curation
from .errors import CorruptFolderError, UnsafeFolderError

#: per-unit arrays that SpikeInterface's metric extensions store beside their table (rows in unit order)
_PER_UNIT_ARRAYS = {"template_metrics": ("main_channel_templates",)}
#: SpikeInterface 0.105's per-spike extensions: their entries, one row per spike
_SPIKE_VECTOR_VARIABLES = {"spike_amplitudes": ["amplitudes"], "spike_locations": ["spike_locations"],
                           "amplitude_scalings": ["amplitude_scalings", "collision_mask"]}
#: the entries SpikeInterface 0.105's ``get_data()`` returns for its other extensions (a tuple when several)
_ENTRIES_RETURNED = {"correlograms": ("ccgs", "bins"), "auto_correlograms": ("acgs", "bins"),
                     "acgs_3d": ("acgs_3d", "firing_quantiles", "bins"), "isi_histograms": ("isi_histograms", "bins"),
                     "principal_components": ("pca_projection",), "template_similarity": ("similarity",),
                     "unit_locations": ("unit_locations",), "quality_metrics": ("metrics",),
                     "template_metrics": ("metrics",), "spiketrain_metrics": ("metrics",)}


class _ReadOnly:
    """An extension gpuspike does not compute, read from the folder: its data are served, never
    computed, changed or saved by gpuspike."""

    def _refuse(self, *args, **kwargs):
        raise ValueError(f"the extension {self.extension_name!r} is computed by SpikeInterface, not gpuspike: it is "
                         f"read from the folder only (compute it again with SpikeInterface; "
                         f"sorting_analyzer.delete_extension({self.extension_name!r}) removes it)")

    _set_params = _run = save = delete = reset = copy = merge = split = _refuse


class StoredForeignExtension(_ReadOnly, AnalyzerExtension):
    """A stored extension that gpuspike does not compute (SpikeInterface's postprocessing and
    metric extensions), read-only: ``params``, ``run_info``, ``data`` as stored, and ``get_data()``
    returning what SpikeInterface 0.105's returns (the metrics table, the similarity matrix, the
    correlograms and their bins, ...)."""

    def _get_data(self, *args, **kwargs):
        if args or kwargs:
            raise TypeError(f"get_data() of {self.extension_name!r} (read from the folder) takes no arguments")
        entries = _ENTRIES_RETURNED.get(self.extension_name)
        if entries is None or not all(e in self.data for e in entries):
            raise ValueError(f"gpuspike does not know what get_data() of {self.extension_name!r} returns; its stored "
                             f"entries are in .data: {sorted(self.data)}")
        values = tuple(self.data[e] for e in entries)
        return values[0] if len(values) == 1 else values


class StoredForeignSpikeVectorExtension(_ReadOnly, BaseSpikeVectorExtension):
    """A stored per-spike extension of SpikeInterface's (spike amplitudes, locations, amplitude
    scalings), read-only; ``get_data(outputs="numpy" | "by_unit", concatenated, return_data_name,
    periods)`` as for any :class:`BaseSpikeVectorExtension`."""


def read_foreign_extension(analyzer, extension_name: str, lazy: bool | None = None):
    """The read-only view of a stored extension that gpuspike does not compute, or None when it
    is not stored or its run did not complete.

    Parameters
    ----------
    analyzer : SortingAnalyzer
    extension_name : str
    lazy : bool, optional
        Keep arrays memory-mapped / as zarr arrays (default: the analyzer's ``lazy``).

    Returns
    -------
    StoredForeignExtension, StoredForeignSpikeVectorExtension or None
    """
    if analyzer.format == "memory" or extension_name not in analyzer._store.saved_extension_names():
        return None
    stored = analyzer._store.read_extension(extension_name, lazy=analyzer._lazy if lazy is None else lazy)
    if stored is None or (stored.run_info is not None and not stored.run_info.get("run_completed", False)):
        return None
    if extension_name in _SPIKE_VECTOR_VARIABLES:
        view = StoredForeignSpikeVectorExtension(analyzer)
        view.nodepipeline_variables = list(_SPIKE_VECTOR_VARIABLES[extension_name])
    else:
        view = StoredForeignExtension(analyzer)
    view.extension_name = extension_name
    view.params, view.run_info, view.stored_info = stored.params, stored.run_info, stored.info
    view.data = _as_served(extension_name, stored.data, analyzer.unit_ids)
    return view


def _as_served(extension_name: str, data: dict, unit_ids: np.ndarray) -> dict:
    """Stored entries as SpikeInterface serves them: tables indexed by the unit ids (a CSV gives text
    ids such as "0" back as integers), metric tables in NumPy dtypes (as its metric classes cast them)."""
    metric_table = extension_name in FOREIGN_METRIC_EXTENSIONS
    return {key: index_as_unit_ids(with_numpy_dtypes(value) if metric_table else value, unit_ids)
            if is_dataframe(value) else value for key, value in data.items()}


def stored_foreign_extensions(analyzer) -> list[str]:
    """The extensions stored in the analyzer's folder that gpuspike does not compute.

    Parameters
    ----------
    analyzer : SortingAnalyzer

    Returns
    -------
    list of str
    """
    if analyzer.format == "memory":
        return []
    return [name for name in analyzer._store.saved_extension_names() if is_foreign_extension(name)]


def cut_to_units(view, unit_ids) -> dict | None:
    """The data of a stored extension for the units ``unit_ids`` only, as SpikeInterface 0.105 cuts
    it (rows of per-unit arrays, both axes of unit-by-unit ones, the spikes of the units kept), or
    None for an extension gpuspike does not know how to cut.

    Parameters
    ----------
    view : StoredForeignExtension or StoredForeignSpikeVectorExtension
    unit_ids : array-like

    Returns
    -------
    dict or None
    """
    if isinstance(view, BaseSpikeVectorExtension):
        return view._select_units_extension_data(unit_ids)
    unit_ids = np.asarray(unit_ids)
    sorting = view.sorting_analyzer.sorting
    rows, num_units = sorting.ids_to_indices(unit_ids), sorting.get_num_units()
    name = view.extension_name
    unit_axes = _UNIT_AXES.get(name, {})
    per_unit = _PER_UNIT_ARRAYS.get(name, ())
    out = {}
    for key, value in view.data.items():
        if name in FOREIGN_METRIC_EXTENSIONS and is_dataframe(value):
            if not np.isin(unit_ids, value.index.to_numpy()).all():
                return None
            out[key] = value.loc[unit_ids]
        elif name in FOREIGN_METRIC_EXTENSIONS and isinstance(value, (dict, list)):
            out[key] = value
        elif key in per_unit and np.asarray(value).shape[:1] == (num_units,):
            out[key] = np.asarray(value)[rows]
        elif key in unit_axes and np.asarray(value).shape[:unit_axes[key]] == (num_units,) * unit_axes[key]:
            value = np.asarray(value)
            out[key] = value[np.ix_(rows, rows)] if unit_axes[key] == 2 else value[rows] if unit_axes[key] else value
        else:
            return None
    return out


def per_spike_rows_in(new_analyzer, keep_mask=None):
    """A ``cut`` (see :func:`carry_foreign_extensions`) for a merge or split into ``new_analyzer``:
    the per-spike extensions' rows go where their spikes went (``keep_mask``: the spikes a merge
    kept); the other extensions cannot follow.

    Returns
    -------
    callable
    """
    def cut(view):
        if not isinstance(view, StoredForeignSpikeVectorExtension):
            return None
        return view._rows_at(spike_positions_after_curation(view.sorting_analyzer, new_analyzer, keep_mask))

    return cut


def nothing_follows(view) -> None:
    """A ``cut`` that carries nothing (a hard merge recomputes everything)."""
    return None


#: SpikeInterface 0.105's per-unit extensions: how many leading axes of each entry count units
_UNIT_AXES = {"unit_locations": {"unit_locations": 1}, "template_similarity": {"similarity": 2},
              "correlograms": {"ccgs": 2, "bins": 0}, "auto_correlograms": {"acgs": 1, "bins": 0},
              "isi_histograms": {"isi_histograms": 1, "bins": 0},
              "acgs_3d": {"acgs_3d": 1, "firing_quantiles": 1, "bins": 0}}


def _warn_left_behind(names: list[str], source, why: str) -> None:
    warnings.warn(f"the extensions {names} of {str(source.folder)!r}, which gpuspike does not compute (SpikeInterface "
                  f"does), are not carried into the new analyzer: {why}", UserWarning, stacklevel=4)


def carry_foreign_extensions(source, target, cut=None, why_not: str = "their data cannot follow this change") -> None:
    """Write into ``target``'s folder the extensions of ``source``'s folder that gpuspike does not
    compute: as stored, or as ``cut(view)`` makes them (None: left behind, named in a warning with
    ``why_not``).

    Parameters
    ----------
    source, target : SortingAnalyzer
    cut : callable, optional
        ``cut(view) -> dict | None``: the data for ``target`` (see :func:`cut_to_units`).
    why_not : str
        Why an extension that ``cut`` returns None for is left behind (with what to do).
    """
    names = stored_foreign_extensions(source)
    if not names:
        return
    if target.format == "memory":
        _warn_left_behind(names, source, "an analyzer in memory holds only the extensions gpuspike computes; give "
                                         "format='binary_folder' or 'zarr' and a folder to keep them")
        return
    left = []
    for name in names:
        try:
            view = read_foreign_extension(source, name, lazy=True)
        except (ImportError, CorruptFolderError, UnsafeFolderError) as err:  # pandas missing, a damaged entry
            _warn_left_behind([name], source, f"it cannot be read ({err})")
            continue
        if view is None:
            continue
        data = view.data if cut is None else cut(view)
        if data is None:
            left.append(name)
            continue
        target._store.write_extension(name, view.params, view.stored_info if view.stored_info is not None else {},
                                      view.run_info, data)
    if left:
        _warn_left_behind(left, source, why_not)


__all__ = ["stored_foreign_extensions", "carry_foreign_extensions", "read_foreign_extension", "cut_to_units",
           "per_spike_rows_in", "nothing_follows",
           "StoredForeignExtension", "StoredForeignSpikeVectorExtension"]
