"""The computations behind the SortingAnalyzer's core extensions, on the block engine.

Waveforms are gathered in spike order (SpikeInterface's layout of the ``waveforms`` extension:
one row per random spike, sparse rows holding the unit's channels first, zeros after), and their
mean and standard deviation can be taken where the buffer is (on the GPU after a GPU gather)
before it comes back. Templates without waveforms are accumulated in one streaming pass.
"""
from __future__ import annotations

import numpy as np

from .sorting_tools import stable_group_order
from .sparsity import ChannelSparsity, densify

#: operators computed from sums (the others need the waveforms themselves)
SUM_OPERATORS = ("average", "std")


def _unit_grouping(unit_indices: np.ndarray, num_units: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows grouped by unit (stable) and the bounds of each unit's group."""
    unit_indices = np.asarray(unit_indices, dtype="int64")
    rows = stable_group_order(unit_indices, num_units)
    bounds = np.searchsorted(unit_indices[rows], np.arange(num_units + 1)).astype("int64")
    return rows, bounds


def waveform_statistics(waveforms, unit_indices: np.ndarray, num_units: int, operators, mask: np.ndarray | None,
                        backend, stream=None) -> dict:
    """Dense float64 templates (one per operator) of spike-ordered waveforms, on ``backend``.

    Parameters
    ----------
    waveforms : array
        ``(N, nsamples, K)`` on ``backend`` (spike order).
    unit_indices : np.ndarray
        ``(N,)`` unit index of each row (host).
    num_units : int
    operators : sequence
        ``"average"``, ``"std"``, ``"median"`` or ``("percentile", q)``; median and percentiles are
        computed on the host copy.
    mask : np.ndarray or None
        Sparsity mask of the rows' layout.
    backend : Backend
        Where ``waveforms`` is.
    stream : DeviceStream, optional

    Returns
    -------
    dict
        ``{key: (U, nsamples, C) float64}`` with SpikeInterface's keys (``percentile_<q>``).
    """
    from ..engine import templates_of_waveforms

    rows, bounds = _unit_grouping(unit_indices, num_units)
    out = {}
    wanted = [op for op in operators if isinstance(op, str) and op in SUM_OPERATORS]
    if wanted:
        mean, std = templates_of_waveforms(waveforms, bounds, backend, "float64", stream=stream, rows=rows)
        for op, value in (("average", mean), ("std", std)):
            if op in wanted:
                out[op] = densify(value, mask)
    host = None
    for op in operators:
        if isinstance(op, str) and op in SUM_OPERATORS:
            continue
        if host is None:
            host = np.asarray(backend.to_host(waveforms, stream=stream))
        key, func = operator_function(op)
        shape = (num_units,) + host.shape[1:]
        sparse = np.zeros(shape, "float64")
        for u in range(num_units):
            mine = host[rows[bounds[u]:bounds[u + 1]]]
            if mine.shape[0]:
                sparse[u] = func(mine)
        out[key] = densify(sparse, mask)
    return out


def operator_function(op):
    """SpikeInterface's key of a template operator and the NumPy reduction over waveforms.

    Parameters
    ----------
    op : str or tuple
        ``"average"``, ``"std"``, ``"median"`` or ``("percentile", q)``.

    Returns
    -------
    tuple
        ``(key, function)``.
    """
    if op == "average":
        return "average", lambda w: np.average(w, axis=0)
    if op == "std":
        return "std", lambda w: np.std(w, axis=0)
    if op == "median":
        return "median", lambda w: np.median(w, axis=0)
    if isinstance(op, (list, tuple)) and len(op) == 2 and op[0] == "percentile":
        q = op[1]
        return f"percentile_{q}", lambda w: np.percentile(w, q, axis=0)
    raise ValueError(f"template operator {op!r}: allowed 'average', 'std', 'median', ('percentile', q)")


def gather_waveforms(recording, spikes: np.ndarray, num_units: int, nbefore: int, nafter: int,
                     sparsity: ChannelSparsity | None, return_in_uV: bool, dtype, config,
                     operators=(), job: tuple[str, str] = ("compute_waveforms", "gather"),
                     riders=()) -> tuple[np.ndarray, dict]:
    """Waveforms of ``spikes`` in spike order (SpikeInterface's ``waveforms`` layout), on the block
    engine, with the templates of ``operators`` taken before the buffer leaves the device.

    Parameters
    ----------
    recording : BaseRecording
    spikes : np.ndarray
        Spike vector of the waveforms (sorted by segment then sample).
    num_units : int
    nbefore, nafter : int
    sparsity : ChannelSparsity or None
        Sparse rows keep each unit's channels first, zeros after (width: the widest unit).
    return_in_uV : bool
    dtype : dtype-like
        Of the waveforms.
    config : JobConfig
        Backend, engine and budget.
    operators : sequence
        Template operators to compute from the gathered buffer (see :func:`waveform_statistics`).
    job : tuple of str
        Public call and stage, for progress bars.
    riders : sequence
        Other spike jobs run in the same pass over the file (see
        :func:`~gpuspike.engine.composite.run_with_riders`); not run when there is nothing to gather.

    Returns
    -------
    tuple
        ``(waveforms, templates)``: host ``(N, nbefore + nafter, width)`` array and a dict of dense
        float64 templates.
    """
    from ..backends import get_backend
    from ..engine import GatherJob, run_with_riders

    num_channels = recording.get_num_channels()
    mask = None if sparsity is None else sparsity.mask
    width = num_channels if mask is None else int(mask.sum(axis=1).max(initial=0))
    nsamples = nbefore + nafter
    if spikes.size == 0 or width == 0:
        waveforms = np.zeros((spikes.size, nsamples, width), dtype)
        stats = waveform_statistics(waveforms, spikes["unit_index"], num_units, operators, mask,
                                    get_backend("numpy")) if operators else {}
        return waveforms, stats
    sparse_channels = None if sparsity is None else sparsity.padded_channel_indices()
    if sparse_channels is not None and sparse_channels.shape[1] < width:  # pragma: no cover - defensive
        raise RuntimeError("sparse channel table narrower than the widest unit")
    gather = GatherJob(spikes, np.arange(spikes.size, dtype="int64"), spikes.size, nbefore, nafter, width,
                       sparse_channels, return_in_uV, dtype, job_name=job[0], stage=job[1])
    output = run_with_riders(gather, recording, config, riders)
    where = config.backend_object if gather.placement == "device" else get_backend("numpy")
    stats = waveform_statistics(output, spikes["unit_index"], num_units, operators, mask, where,
                                stream=gather.stream) if operators else {}
    return np.asarray(where.to_host(output, stream=gather.stream)), stats


def accumulate_templates(recording, sorting, selected: np.ndarray, ms_before: float, ms_after: float,
                         return_in_uV: bool, with_std: bool, config, mask: np.ndarray | None,
                         job: tuple[str, str] = ("compute_templates", "accumulate"), riders=()) -> dict:
    """Average (and std) templates of the spikes ``selected`` in one streaming pass, without waveforms.

    Parameters
    ----------
    recording, sorting : BaseRecording, BaseSorting
    selected : np.ndarray
        Indices into the sorting's spike vector.
    ms_before, ms_after : float
    return_in_uV : bool
    with_std : bool
    config : JobConfig
    mask : np.ndarray or None
        Sparsity: zeros outside each unit's channels (as SpikeInterface's sparse accumulator).
    job : tuple of str
    riders : sequence
        Other spike jobs run in the same pass over the file (see
        :func:`~gpuspike.engine.composite.run_with_riders`).

    Returns
    -------
    dict
        ``{"average": float32, "std": float32}`` dense ``(U, nsamples, C)`` (std only ``with_std``).
    """
    from ..engine import run_with_riders
    from .waveforms import _accumulate_job

    accumulate = _accumulate_job(recording, sorting, selected, ms_before, ms_after, return_in_uV, with_std, job,
                                 result_dtype="float32")
    mean, std = run_with_riders(accumulate, recording, config, riders)
    out = {"average": mean}
    if with_std:
        out["std"] = std
    if mask is not None:
        for key in out:
            out[key] = out[key] * np.asarray(mask, dtype=bool)[:, None, :]
    return out


__all__ = ["SUM_OPERATORS", "densify", "waveform_statistics", "operator_function", "gather_waveforms",
           "accumulate_templates"]
