"""Compute kernels of gpuspike, installed as ``gpuspike.kernels``.

Each kernel exists in a CPU version (numba ``njit``, name ending in ``_cpu``) and a CUDA
version (numba-cuda, name ending in ``_cuda``) with the same signature and semantics; each writes
into preallocated outputs passed in and returns them, and takes ``stream=`` (the CUDA stream of
the launch; ignored on the CPU). Wrappers taking indices also take ``checked=`` (the caller
validated them on the host: no device reduction, no synchronisation). This package is a leaf: it
imports numpy and numba only, never gpuspike. Nothing compiles at import time, and
``numba.cuda`` is imported only when a ``_cuda`` function is first called.

Every CUDA kernel is a :class:`~._launch.CudaKernel` listed in :data:`CUDA_KERNELS`, with the
argument signatures the library launches it with (compiled for real GPUs by the compile gate).

Kernels (``<name>_cpu`` / ``<name>_cuda``) and their arguments:

- ``scale(traces, gains, offsets, out)``
- ``gather_waveforms(traces, peak_samples, nbefore, nafter, out, out_rows, gains=None,
  offsets=None)`` (dense; scaled on the way when gains and offsets are given)
- ``gather_waveforms_sparse(traces, peak_samples, nbefore, nafter, out, out_rows,
  unit_indices, sparse_channels, gains=None, offsets=None)``
- ``accumulate_templates(traces, peak_samples, unit_bounds, nbefore, nafter, ref, sums, sumsqs,
  counts)`` (peaks grouped by unit, shifted by each unit's reference window)
- ``accumulate_moments(traces, peak_samples, unit_bounds, nbefore, nafter, sums, sumsqs, counts)``
  (integer windows: int64 raw sums and sums of squares, exact in any order)
- ``templates_from_sums(sums, sumsqs, counts, mean, std, ref=None, gains=None, offsets=None)``
  (float sums shifted by ``ref``, or int64 raw moments shifted here)
- ``accumulate_sums(traces, peak_samples, unit_bounds, nbefore, nafter, sums, counts)`` (means only)
- ``waveform_sums(waveforms, unit_bounds, ref, sums, sumsqs, rows=None)`` (stored waveforms,
  grouped by unit through ``rows``)
- ``channel_amplitudes(templates, peak_sign, out)``
- ``template_extremum(templates, peak_sign, nbefore, out_channels, out_amplitudes, out_shifts)``
- ``radius_sparsity(channel_locations, extremum_channels, radius_um, out)``
- ``best_channels_sparsity(amplitudes, num_channels, out)``
- ``snr_sparsity(amplitudes, noise_levels, threshold, out)``
- ``mad(data, out, scratch=None)``
- ``select_columns(src, columns, out)``

Host planning (CPU only: the spike vector lives on the host on every path):

- ``counting_group_order(keys, num_groups, order, rows=None, out_rows=None, starts=None)`` (stable grouping
  by key, the rows placed in the same pass)

Compiled kernels (CPU, and CUDA on a GPU) are cached per user (``~/.cache/gpuspike/numba`` on
Linux, or ``$NUMBA_CACHE_DIR``), never inside the installed package: see
:mod:`gpuspike.kernels._cache`.
"""
from ._cache import install_cache_locator

install_cache_locator()  # before the kernel modules below define their cached dispatchers

from .extremum import (
    AMPLITUDES_KERNEL,
    EXTREMUM_KERNEL,
    channel_amplitudes_cpu,
    channel_amplitudes_cuda,
    template_extremum_cpu,
    template_extremum_cuda,
)
from .gather import (
    GATHER_DENSE_KERNEL,
    GATHER_SPARSE_KERNEL,
    gather_waveforms_cpu,
    gather_waveforms_cuda,
    gather_waveforms_sparse_cpu,
    gather_waveforms_sparse_cuda,
)
from .grouping import counting_group_order
from .mad import MAD_KERNEL, mad_cpu, mad_cuda
from .moments import MOMENTS_KERNEL, accumulate_moments_cpu, accumulate_moments_cuda
from .scale import SCALE_KERNEL, scale_cpu, scale_cuda
from .select import SELECT_COLUMNS_KERNEL, select_columns_cpu, select_columns_cuda
from .sparsity import (
    BEST_CHANNELS_KERNEL,
    RADIUS_KERNEL,
    SNR_KERNEL,
    best_channels_sparsity_cpu,
    best_channels_sparsity_cuda,
    radius_sparsity_cpu,
    radius_sparsity_cuda,
    snr_sparsity_cpu,
    snr_sparsity_cuda,
)
from .template_sums import (
    WAVEFORM_SUMS_KERNEL,
    accumulate_sums_cpu,
    accumulate_sums_cuda,
    waveform_sums_cpu,
    waveform_sums_cuda,
)
from .templates import (
    ACCUMULATE_KERNEL,
    FROM_SUMS_KERNEL,
    accumulate_templates_cpu,
    accumulate_templates_cuda,
    templates_from_sums_cpu,
    templates_from_sums_cuda,
)

#: Names of the kernels; ``<name>_cpu`` and ``<name>_cuda`` exist for each.
KERNEL_NAMES: tuple[str, ...] = (
    "scale",
    "gather_waveforms",
    "gather_waveforms_sparse",
    "accumulate_templates",
    "accumulate_moments",
    "templates_from_sums",
    "accumulate_sums",
    "waveform_sums",
    "channel_amplitudes",
    "template_extremum",
    "radius_sparsity",
    "best_channels_sparsity",
    "snr_sparsity",
    "mad",
    "select_columns",
)

#: Modules holding the kernels (for tooling that inspects their dispatchers).
KERNEL_MODULES: tuple[str, ...] = ("scale", "gather", "templates", "template_sums", "moments", "extremum", "sparsity",
                                   "mad", "select")

#: Every CUDA kernel of the library, with the signatures it is launched with.
CUDA_KERNELS = (SCALE_KERNEL, GATHER_DENSE_KERNEL, GATHER_SPARSE_KERNEL, ACCUMULATE_KERNEL, MOMENTS_KERNEL,
                FROM_SUMS_KERNEL, WAVEFORM_SUMS_KERNEL, AMPLITUDES_KERNEL, EXTREMUM_KERNEL, RADIUS_KERNEL,
                BEST_CHANNELS_KERNEL, SNR_KERNEL, MAD_KERNEL, SELECT_COLUMNS_KERNEL)

__all__ = ["KERNEL_NAMES", "KERNEL_MODULES", "CUDA_KERNELS"] + [
    f"{name}_{device}" for name in KERNEL_NAMES for device in ("cpu", "cuda")
] + ["counting_group_order"]
