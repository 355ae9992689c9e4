"""Kilosort and phy output folders: ``spike_times.npy``, ``spike_clusters.npy``, ``params.py``, ``cluster_*.tsv``."""
from __future__ import annotations

import ast
import csv
from pathlib import Path
from typing import Sequence

import numpy as np

from ..core.numpyextractors import NumpySortingSegment
from ..core.sorting import BaseSorting, spike_dtype


def read_params_py(file_path: str | Path) -> dict:
    """Read a phy/Kilosort ``params.py`` (``name = literal`` lines) without executing it.

    Parameters
    ----------
    file_path : str or Path
        The ``params.py`` file.

    Returns
    -------
    dict
        The assigned values (``sample_rate``, ``n_channels_dat``, ``dtype``, ``dat_path``, ...).
    """
    file_path = Path(file_path)
    try:
        tree = ast.parse(file_path.read_text(), filename=str(file_path))
    except SyntaxError as err:
        raise ValueError(f"{file_path}: not a valid params.py ({err.msg} at line {err.lineno})") from None
    params = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                params[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                # e.g. dtype = np.int16 or dat_path = r'...' built from calls: keep the source text
                params[node.targets[0].id] = ast.get_source_segment(file_path.read_text(), node.value)
    return params


def _convert_column(values: list[str]) -> np.ndarray:
    """Strings of one TSV column -> int64, float64 or str array (the narrowest that fits all)."""
    for dtype in ("int64", "float64"):
        try:
            return np.array([np.nan if (v == "" and dtype == "float64") else v for v in values], dtype=dtype)
        except ValueError:
            continue
    return np.array(values, dtype=str)


def read_cluster_tables(folder: Path) -> dict[int, dict[str, object]]:
    """Merge every ``cluster_*.tsv`` / ``cluster_*.csv`` of a folder by ``cluster_id``.

    The ``group`` column (phy's manual labels in ``cluster_group.tsv`` and ``cluster_info.tsv``)
    is renamed ``quality``, as SpikeInterface does.

    Returns
    -------
    dict
        ``{cluster_id: {column: value}}`` (values are strings).
    """
    table: dict[int, dict[str, object]] = {}
    files = sorted(list(folder.glob("cluster_*.tsv")) + list(folder.glob("cluster_*.csv")))
    # cluster_info.tsv last: it repeats the others, and holds phy's latest edits
    files.sort(key=lambda p: p.name == "cluster_info.tsv")
    for file in files:
        delimiter = "\t" if file.suffix == ".tsv" else ","
        with open(file, newline="") as fh:
            reader = csv.reader(fh, delimiter=delimiter)
            try:
                header = next(reader)
            except StopIteration:
                continue
            header = [h.strip() for h in header]
            id_col = "cluster_id" if "cluster_id" in header else ("id" if "id" in header else None)
            if id_col is None:
                raise ValueError(f"{file}: no 'cluster_id' column (columns: {header})")
            id_index = header.index(id_col)
            for line_number, row in enumerate(reader, start=2):
                if not row:
                    continue
                if len(row) != len(header):
                    raise ValueError(f"{file}, line {line_number}: {len(row)} fields, header has {len(header)}")
                try:
                    cid = int(row[id_index])
                except ValueError:
                    raise ValueError(f"{file}, line {line_number}: cluster id {row[id_index]!r} is not an int") \
                        from None
                entry = table.setdefault(cid, {})
                for name, value in zip(header, row):
                    if name == id_col:
                        continue
                    entry["quality" if name == "group" else name] = value.strip()
    return table


def _load_npy(folder: Path, name: str, required: bool = True):
    path = folder / name
    if not path.is_file():
        if required:
            raise FileNotFoundError(f"{folder}: {name} is missing (a Kilosort/phy folder needs it)")
        return None
    try:
        return np.load(path, mmap_mode=None, allow_pickle=False)
    except Exception as err:  # truncated or not an npy
        raise ValueError(f"{path}: cannot be read as a .npy file ({err})") from None


class BasePhyKilosortSorting(BaseSorting):
    """A sorting read from a Kilosort or phy output folder.

    Parameters
    ----------
    folder_path : str or Path
        Folder holding ``spike_times.npy``, ``spike_clusters.npy`` (or ``spike_templates.npy``)
        and ``params.py``.
    exclude_cluster_groups : list of str, optional
        Drop units whose ``quality`` (phy ``group``) is one of these (e.g. ``["noise", "mua"]``).
    keep_good_only : bool
        Keep only units labelled ``good`` by Kilosort (``KSLabel``).
    remove_empty_units : bool
        Drop units listed in the cluster tables that have no spike.
    """

    def __init__(self, folder_path: str | Path, exclude_cluster_groups: Sequence[str] | None = None,
                 keep_good_only: bool = False, remove_empty_units: bool = False) -> None:
        folder = Path(folder_path)
        if not folder.is_dir():
            raise FileNotFoundError(f"folder_path={str(folder)!r} is not a folder")
        params_file = folder / "params.py"
        if not params_file.is_file():
            raise FileNotFoundError(f"{folder}: params.py is missing (it gives sample_rate)")
        params = read_params_py(params_file)
        if "sample_rate" not in params:
            raise ValueError(f"{params_file}: no 'sample_rate' assignment")
        sampling_frequency = float(params["sample_rate"])

        spike_times = _load_npy(folder, "spike_times.npy")
        spike_clusters = _load_npy(folder, "spike_clusters.npy", required=False)
        if spike_clusters is None:
            spike_clusters = _load_npy(folder, "spike_templates.npy", required=False)
            if spike_clusters is None:
                raise FileNotFoundError(f"{folder}: neither spike_clusters.npy nor spike_templates.npy is present")
        spike_times = np.asarray(spike_times).reshape(-1)
        spike_clusters = np.asarray(spike_clusters).reshape(-1)
        if spike_times.shape != spike_clusters.shape:
            raise ValueError(f"{folder}: spike_times.npy has {spike_times.size} spikes, "
                             f"spike_clusters.npy has {spike_clusters.size}")
        from ..core.validation import check_integer_frames

        spike_times = check_integer_frames(spike_times, f"{folder / 'spike_times.npy'}")
        clusters_file = "spike_clusters.npy" if (folder / "spike_clusters.npy").is_file() else "spike_templates.npy"
        spike_clusters = check_integer_frames(spike_clusters, f"{folder / clusters_file}", "cluster ids (integers)")
        if spike_times.size and spike_times.min() < 0:
            raise ValueError(f"{folder / 'spike_times.npy'}: negative sample indices")

        table = read_cluster_tables(folder)
        if table:
            unit_ids = np.array(sorted(set(table) | set(np.unique(spike_clusters).tolist())), dtype="int64")
        else:
            unit_ids = np.unique(spike_clusters)

        columns = sorted({k for entry in table.values() for k in entry})
        props = {}
        for col in columns:
            props[col] = _convert_column([str(table.get(int(u), {}).get(col, "")) for u in unit_ids])

        keep = np.ones(len(unit_ids), dtype=bool)
        if keep_good_only:
            if "KSLabel" not in props:
                raise ValueError(f"keep_good_only=True but {folder} has no KSLabel column (cluster_KSLabel.tsv)")
            keep &= props["KSLabel"] == "good"
        if exclude_cluster_groups is not None:
            if isinstance(exclude_cluster_groups, str):
                exclude_cluster_groups = [exclude_cluster_groups]
            if "quality" not in props:
                raise ValueError(f"exclude_cluster_groups={list(exclude_cluster_groups)} but {folder} has no "
                                 f"cluster_group.tsv / cluster_info.tsv 'group' column")
            keep &= ~np.isin(props["quality"], list(exclude_cluster_groups))
        if remove_empty_units:
            keep &= np.isin(unit_ids, spike_clusters)

        unit_ids = unit_ids[keep]
        BaseSorting.__init__(self, sampling_frequency, unit_ids)
        for col, values in props.items():
            self.set_property(col, values[keep])
        self.set_property("original_cluster_id", unit_ids.copy())

        index_of = {u: i for i, u in enumerate(unit_ids.tolist())}
        selected = np.isin(spike_clusters, unit_ids)
        frames = spike_times[selected]
        labels = spike_clusters[selected]
        spikes = np.zeros(frames.size, dtype=spike_dtype)
        spikes["sample_index"] = frames
        spikes["unit_index"] = np.fromiter((index_of[c] for c in labels.tolist()), dtype="int64", count=labels.size)
        order = np.lexsort((spikes["unit_index"], spikes["sample_index"]))
        spikes = spikes[order]
        self.add_segment(NumpySortingSegment(spikes, self.unit_ids))
        self._cached_spike_vector = spikes
        self.annotate(phy_folder=str(folder.absolute()))
        self._kwargs = {"folder_path": str(folder.absolute()),
                        "exclude_cluster_groups": None if exclude_cluster_groups is None
                        else list(exclude_cluster_groups),
                        "keep_good_only": keep_good_only, "remove_empty_units": remove_empty_units}


class PhySorting(BasePhyKilosortSorting):
    """A sorting read from a phy folder (see :func:`read_phy`)."""

    def __init__(self, folder_path: str | Path, exclude_cluster_groups: Sequence[str] | None = None,
                 remove_empty_units: bool = False) -> None:
        super().__init__(folder_path, exclude_cluster_groups=exclude_cluster_groups,
                         remove_empty_units=remove_empty_units)
        self._kwargs = {"folder_path": self._kwargs["folder_path"],
                        "exclude_cluster_groups": self._kwargs["exclude_cluster_groups"],
                        "remove_empty_units": remove_empty_units}


class KiloSortSorting(BasePhyKilosortSorting):
    """A sorting read from a Kilosort output folder (see :func:`read_kilosort`)."""

    def __init__(self, folder_path: str | Path, keep_good_only: bool = False,
                 remove_empty_units: bool = True) -> None:
        super().__init__(folder_path, keep_good_only=keep_good_only, remove_empty_units=remove_empty_units)
        self._kwargs = {"folder_path": self._kwargs["folder_path"], "keep_good_only": keep_good_only,
                        "remove_empty_units": remove_empty_units}


def read_kilosort(folder_path: str | Path, keep_good_only: bool = False,
                  remove_empty_units: bool = True) -> KiloSortSorting:
    """Read a Kilosort output folder.

    Parameters
    ----------
    folder_path : str or Path
        Folder with ``spike_times.npy``, ``spike_clusters.npy`` (else ``spike_templates.npy``),
        ``params.py`` (``sample_rate``) and optionally ``cluster_KSLabel.tsv``,
        ``cluster_group.tsv``, ``cluster_info.tsv`` and other ``cluster_*.tsv`` tables, whose
        columns become unit properties (``group`` is renamed ``quality``).
    keep_good_only : bool
        Keep only units with ``KSLabel == "good"``.
    remove_empty_units : bool
        Drop units listed in the tables that have no spike (default True, as in SpikeInterface).

    Returns
    -------
    KiloSortSorting
        One segment; unit ids are the cluster ids; the property ``original_cluster_id`` keeps them.
    """
    return KiloSortSorting(folder_path, keep_good_only=keep_good_only, remove_empty_units=remove_empty_units)


def read_phy(folder_path: str | Path, exclude_cluster_groups: Sequence[str] | None = None,
             remove_empty_units: bool = False) -> PhySorting:
    """Read a phy folder (after manual curation).

    Parameters
    ----------
    folder_path : str or Path
        The phy folder (same files as :func:`read_kilosort`; ``cluster_group.tsv`` and
        ``cluster_info.tsv`` hold the curated labels, as the ``quality`` property).
    exclude_cluster_groups : list of str, optional
        Drop units with these labels (e.g. ``["noise", "mua"]``).
    remove_empty_units : bool
        Drop units that have no spike.

    Returns
    -------
    PhySorting
    """
    return PhySorting(folder_path, exclude_cluster_groups=exclude_cluster_groups,
                      remove_empty_units=remove_empty_units)
