"""The tiny end-to-end job of ``gpuspike doctor``: the same job on ``cuda`` and ``numpy``, compared."""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

__all__ = ["run_tiny_job"]


def run_tiny_job() -> dict:
    """Waveforms, templates, sparsity and noise levels of a small saved recording on both backends.

    Returns
    -------
    dict
        ``{name: (equal, detail)}`` for "waveforms" (bitwise), "templates" (relative 1e-6),
        "sparsity" (equal masks) and "noise levels" (relative 1e-6).
    """
    import gpuspike as gs

    recording, sorting = gs.generate_ground_truth_recording(durations=[4.0], num_channels=32, num_units=8,
                                                            dtype="int16", seed=0)
    with tempfile.TemporaryDirectory(prefix="gpuspike_doctor_") as tmp:
        saved = recording.save(folder=Path(tmp) / "recording", progress_bar=False)
        results = {}
        for backend in ("numpy", "cuda"):
            kwargs = dict(backend=backend, progress_bar=False, chunk_duration="0.5s")
            we = gs.extract_waveforms(saved, sorting, mode="memory", max_spikes_per_unit=50, sparse=True,
                                      method="radius", radius_um=60.0, seed=0, precompute_template=("average", "std"),
                                      **kwargs)
            templates = gs.compute_templates(saved, sorting, **kwargs)
            noise = gs.get_noise_levels(saved, force_recompute=True, backend=backend)
            results[backend] = (we, templates, noise)
    cpu, gpu = results["numpy"], results["cuda"]
    same_waveforms = all(np.array_equal(np.asarray(cpu[0].get_waveforms(u)), np.asarray(gpu[0].get_waveforms(u)))
                         for u in sorting.unit_ids)

    def rel(a, b):
        return float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(a))), 1e-30))

    t_err = max(rel(cpu[1].get_all_templates(mode=m), gpu[1].get_all_templates(mode=m)) for m in ("average", "std"))
    n_err = rel(cpu[2], gpu[2])
    return {
        "waveforms": (same_waveforms, "bitwise equal" if same_waveforms else "differ"),
        "templates": (t_err <= 1e-6, f"max relative difference {t_err:.1e}"),
        "sparsity": (bool(np.array_equal(cpu[0].sparsity.mask, gpu[0].sparsity.mask)), "masks compared"),
        "noise levels": (n_err <= 1e-6, f"max relative difference {n_err:.1e}"),
    }
