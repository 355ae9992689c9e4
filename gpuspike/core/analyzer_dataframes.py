"""pandas DataFrames as analyzer extension data, in SpikeInterface 0.105's layouts.

A binary folder keeps a DataFrame as ``<name>.csv`` (the index in the first column); a zarr
folder as a group ``<name>`` with the attribute ``dataframe``, an ``index`` array and one array
per column (text as fixed-width strings). pandas is optional, as in SpikeInterface: it is imported
only to store or read a DataFrame. Reading parses values only (CSV text, numeric or string arrays);
nothing is evaluated or unpickled.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from .errors import CorruptFolderError

#: attribute marking a zarr group as a DataFrame (SpikeInterface's)
DATAFRAME_ATTR = "dataframe"
#: the array of a DataFrame group holding the index
INDEX_ARRAY = "index"


def is_dataframe(value) -> bool:
    """True when ``value`` is a pandas DataFrame (pandas is not imported to find out)."""
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(value, pandas.DataFrame)


def import_pandas(what: str):
    """pandas, or an ImportError saying what needed it and how to install it."""
    try:
        import pandas
    except ImportError:
        raise ImportError(f"{what} needs pandas, which is not installed: pip install pandas") from None
    return pandas


def write_csv(path: Path, frame) -> None:
    """Write ``frame`` with its index as ``path`` (SpikeInterface's binary-folder layout)."""
    frame.to_csv(path, index=True)


def read_csv(path: Path):
    """The DataFrame of a ``.csv`` entry (first column: the index).

    Raises
    ------
    CorruptFolderError
        The file cannot be parsed as CSV.
    """
    pandas = import_pandas(f"reading the DataFrame {str(path)!r}")
    try:
        return pandas.read_csv(path, index_col=0)
    except (ValueError, UnicodeDecodeError, pandas.errors.ParserError) as err:
        raise CorruptFolderError(f"{str(path)!r} cannot be read as CSV ({type(err).__name__}: {err})") from None


def _column_values(series) -> np.ndarray:
    """A column as a NumPy array zarr can store: text as fixed-width strings, missing numbers as NaN."""
    pandas = sys.modules["pandas"]
    api = pandas.api.types
    if isinstance(series.dtype, pandas.api.extensions.ExtensionDtype) and (
            api.is_float_dtype(series.dtype) or (api.is_integer_dtype(series.dtype) and series.isna().any())):
        return series.to_numpy(dtype="float64", na_value=np.nan)
    values = series.to_numpy()
    if values.dtype.kind == "O":
        values = values.astype(str)
    return values


def write_zarr_group(path: Path, frame, compressor=None) -> None:
    """Write ``frame`` as a DataFrame group at ``path`` (the group folder, created here).

    Column names become array names, so they must be distinct, non-empty file names other than
    ``index``. The group does not keep their order: it is read back with the columns sorted by name,
    as SpikeInterface reads it.

    Raises
    ------
    ValueError
        A column name cannot name an array.
    """
    from . import zarr_v2
    from .folder_safety import check_file_name

    names = [str(c) for c in frame.columns]
    for name in names:
        check_file_name(name, f"column of the DataFrame {path.name!r}")
    if INDEX_ARRAY in names or len(set(names)) != len(names) or any(n.startswith(".") for n in names):
        raise ValueError(f"the DataFrame {path.name!r} has columns {names}: to be stored in a zarr folder, column "
                         f"names must be distinct, not {INDEX_ARRAY!r} and not start with '.' (rename them with "
                         f"frame.rename(columns=...))")
    zarr_v2.write_group(path, {DATAFRAME_ATTR: True})
    index = frame.index.to_numpy()
    zarr_v2.write_array(path, INDEX_ARRAY, index.astype(str) if index.dtype.kind == "O" else index,
                        compressor=compressor)
    for name, column in zip(names, frame.columns):
        zarr_v2.write_array(path, name, _column_values(frame[column]), compressor=compressor)


def is_zarr_dataframe(path: Path) -> bool:
    """True when ``path`` is a zarr group marked as a DataFrame."""
    from . import zarr_v2

    return zarr_v2.is_group(path) and bool(zarr_v2.read_attrs(path).get(DATAFRAME_ATTR))


def read_zarr_group(path: Path):
    """The DataFrame of a zarr DataFrame group as SpikeInterface reads it: columns sorted by name,
    pandas' inferred (nullable) dtypes.

    Raises
    ------
    CorruptFolderError
        The index is missing, or an array is not one value per row.
    UnsafeFolderError
        An array names a codec that unpickles.
    """
    from . import zarr_v2

    pandas = import_pandas(f"reading the DataFrame {str(path)!r}")
    path = Path(path)
    arrays = sorted(p.name for p in path.iterdir() if not p.name.startswith(".") and zarr_v2.is_array(p))
    if INDEX_ARRAY not in arrays:
        raise CorruptFolderError(f"the DataFrame group {str(path)!r} has no {INDEX_ARRAY!r} array")
    index = np.asarray(zarr_v2.open_array(path / INDEX_ARRAY)[...])
    if index.ndim != 1:
        raise CorruptFolderError(f"the DataFrame group {str(path)!r}: its index has shape {index.shape}, not one "
                                 f"value per row")
    columns = {}
    for name in (a for a in arrays if a != INDEX_ARRAY):
        values = np.asarray(zarr_v2.open_array(path / name)[...])
        if values.ndim != 1 or values.shape[0] != index.shape[0]:
            raise CorruptFolderError(f"the DataFrame group {str(path)!r}: column {name!r} has shape {values.shape} "
                                     f"for an index of shape {index.shape}")
        columns[name] = values
    return pandas.DataFrame(columns, index=pandas.Index(index)).convert_dtypes()


def with_numpy_dtypes(frame):
    """``frame`` with its nullable numeric and boolean columns (as a zarr group reads back) turned
    into NumPy ones: int64 / bool without missing values, float64 with NaN otherwise, as
    SpikeInterface's metric extensions cast their tables on load."""
    pandas = sys.modules["pandas"]
    api = pandas.api.types
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if not isinstance(series.dtype, pandas.api.extensions.ExtensionDtype):
            continue
        missing = bool(series.isna().any())
        if api.is_bool_dtype(series.dtype) and not missing:
            out[column] = series.to_numpy(dtype=bool)
        elif api.is_integer_dtype(series.dtype) and not missing:
            out[column] = series.to_numpy(dtype="int64")
        elif api.is_float_dtype(series.dtype) or api.is_integer_dtype(series.dtype):
            out[column] = series.to_numpy(dtype="float64", na_value=np.nan)
    return out


def index_as_unit_ids(frame, unit_ids: np.ndarray):
    """``frame`` with its index cast to the dtype of ``unit_ids`` when it has one row per unit and
    does not already hold ids of their kind (a CSV gives text ids such as ``"0"`` back as integers),
    as SpikeInterface does when it reads a CSV entry."""
    pandas = sys.modules["pandas"]
    index = frame.index
    same_kind = index.dtype == unit_ids.dtype or (unit_ids.dtype.kind == "U"
                                                  and pandas.api.types.is_string_dtype(index.dtype))
    if frame.shape[0] == unit_ids.size and not same_kind:
        try:
            frame.index = index.astype(unit_ids.dtype)
        except (TypeError, ValueError):
            pass  # an index that is not the unit ids: the extension's own checks decide
    return frame


__all__ = ["is_dataframe", "import_pandas", "write_csv", "read_csv", "write_zarr_group", "is_zarr_dataframe",
           "read_zarr_group", "with_numpy_dtypes", "index_as_unit_ids", "DATAFRAME_ATTR", "INDEX_ARRAY"]
