"""Compute kernels of gpuspike, installed as ``gpuspike.kernels``.

Each kernel exists in a CPU version (numba ``njit``, name ending in ``_cpu``) and a CUDA
version (numba-cuda, name ending in ``_cuda``) with the same signature and semantics; each writes
into preallocated outputs passed in and returns them. This package is a leaf: it imports numpy
and numba only, never gpuspike. Nothing compiles at import time, and ``numba.cuda`` is imported
only when a ``_cuda`` function is first called.

Kernels (``<name>_cpu`` / ``<name>_cuda``) and their arguments:

- ``scale(traces, gains, offsets, out)``
- ``gather_waveforms(traces, peak_samples, nbefore, nafter, out, out_rows, gains=None,
  offsets=None)`` (dense; scaled on the way when gains and offsets are given)
- ``gather_waveforms_sparse(traces, peak_samples, nbefore, nafter, out, out_rows,
  unit_indices, sparse_channels, gains=None, offsets=None)``
- ``accumulate_templates(traces, peak_samples, unit_indices, nbefore, nafter, sums, sumsqs,
  counts)``
- ``templates_from_sums(sums, sumsqs, counts, mean, std)``
- ``accumulate_sums(traces, peak_samples, unit_indices, nbefore, nafter, sums, counts)`` (means only)
- ``waveform_sums(waveforms, unit_bounds, sums, sumsqs)`` (stored unit-major waveforms)
- ``channel_amplitudes(templates, peak_sign, out)``
- ``template_extremum(templates, peak_sign, nbefore, out_channels, out_amplitudes, out_shifts)``
- ``radius_sparsity(channel_locations, extremum_channels, radius_um, out)``
- ``best_channels_sparsity(amplitudes, num_channels, out)``
- ``snr_sparsity(amplitudes, noise_levels, threshold, out)``
- ``mad(data, out)``

Compiled CPU kernels are cached per user (``~/.cache/gpuspike/numba`` on Linux, or
``$NUMBA_CACHE_DIR``), never inside the installed package: see :mod:`gpuspike.kernels._cache`.
"""
from ._cache import install_cache_locator

install_cache_locator()  # before the kernel modules below define their cached dispatchers

from .extremum import (
    channel_amplitudes_cpu,
    channel_amplitudes_cuda,
    template_extremum_cpu,
    template_extremum_cuda,
)
from .gather import (
    gather_waveforms_cpu,
    gather_waveforms_cuda,
    gather_waveforms_sparse_cpu,
    gather_waveforms_sparse_cuda,
)
from .mad import mad_cpu, mad_cuda
from .scale import scale_cpu, scale_cuda
from .sparsity import (
    best_channels_sparsity_cpu,
    best_channels_sparsity_cuda,
    radius_sparsity_cpu,
    radius_sparsity_cuda,
    snr_sparsity_cpu,
    snr_sparsity_cuda,
)
from .template_sums import accumulate_sums_cpu, accumulate_sums_cuda, waveform_sums_cpu, waveform_sums_cuda
from .templates import (
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
    "templates_from_sums",
    "accumulate_sums",
    "waveform_sums",
    "channel_amplitudes",
    "template_extremum",
    "radius_sparsity",
    "best_channels_sparsity",
    "snr_sparsity",
    "mad",
)

#: Modules holding the kernels (for tooling that inspects their dispatchers).
KERNEL_MODULES: tuple[str, ...] = ("scale", "gather", "templates", "template_sums", "extremum", "sparsity", "mad")

__all__ = ["KERNEL_NAMES", "KERNEL_MODULES"] + [
    f"{name}_{device}" for name in KERNEL_NAMES for device in ("cpu", "cuda")
]
