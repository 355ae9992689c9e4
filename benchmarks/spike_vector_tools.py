"""Spike-vector grouping and period selection: gpuspike against plain NumPy and, when installed,
SpikeInterface 0.105 (outputs checked equal), on one hour of 300 units at 30 kHz.

Run: ``python benchmarks/spike_vector_tools.py [num_spikes]`` (default 5 000 000). Prints the best
of three timings of each and the ratios, measured in this run.
"""
import sys
import time

import numpy as np

import gpuspike as gs
from gpuspike.core.sorting_tools import (reorder_spike_vector_by_unit_and_segment, select_sorting_periods_mask,
                                         unit_period_dtype)


def best_of(func, repeat=3):
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = func()
        times.append(time.perf_counter() - start)
    return min(times), out


def per_period_masks(spikes, periods):
    """One full-vector mask per period (the straightforward NumPy formulation)."""
    keep = np.zeros(spikes.size, bool)
    for p in periods:
        keep |= ((spikes["segment_index"] == p["segment_index"]) & (spikes["unit_index"] == p["unit_index"])
                 & (spikes["sample_index"] >= p["start_sample_index"])
                 & (spikes["sample_index"] < p["end_sample_index"]))
    return keep


def main(num_spikes: int) -> None:
    rng = np.random.default_rng(0)
    num_units, fs = 300, 30000.0
    spikes = np.zeros(num_spikes, gs.minimum_spike_dtype)
    spikes["sample_index"] = np.sort(rng.integers(0, int(fs) * 3600, num_spikes))
    spikes["unit_index"] = rng.integers(0, num_units, num_spikes)
    sorting = gs.NumpySorting(spikes, fs, np.arange(num_units))
    # 60 periods of 30 s per unit (one per minute)
    periods = np.zeros(num_units * 60, unit_period_dtype)
    periods["unit_index"] = np.repeat(np.arange(num_units), 60)
    periods["start_sample_index"] = np.tile(np.arange(60) * int(fs) * 60, num_units)
    periods["end_sample_index"] = periods["start_sample_index"] + int(fs) * 30
    print(f"{num_spikes} spikes, {num_units} units, {periods.size} periods")

    t_gs, (ordered, order, counts) = best_of(lambda: reorder_spike_vector_by_unit_and_segment(spikes, num_units, 1))

    def lexsorted():
        ref_order = np.lexsort((spikes["sample_index"], spikes["segment_index"], spikes["unit_index"]))
        return spikes[ref_order], ref_order

    t_np, (ref, ref_order) = best_of(lexsorted)
    assert np.array_equal(order, ref_order) and np.array_equal(ordered, ref)
    print(f"group by unit: gpuspike {t_gs:.3f} s, numpy lexsort and gather {t_np:.3f} s ({t_np / t_gs:.1f}x)")
    t_gs_m, mask = best_of(lambda: select_sorting_periods_mask(sorting, periods))
    subset = periods[periods["unit_index"] < 10]  # the per-period formulation on 1/30 of the periods
    vector = sorting.to_spike_vector()
    t_np_m, ref_mask = best_of(lambda: per_period_masks(vector, subset), repeat=1)
    assert np.array_equal(select_sorting_periods_mask(sorting, subset), ref_mask)
    t_np_full = t_np_m * periods.size / subset.size
    print(f"period mask: gpuspike {t_gs_m:.3f} s, per-period masks {t_np_full:.1f} s (extrapolated from "
          f"{subset.size} periods; {t_np_full / t_gs_m:.0f}x)")
    try:
        import spikeinterface
        import spikeinterface.core as si
        from spikeinterface.core import sorting_tools as si_tools
    except ImportError:
        print("SpikeInterface is not installed: no side-by-side rows")
        return
    si_sorting = si.NumpySorting(spikes, fs, np.arange(num_units))
    si_tools.reorder_spike_vector_by_unit_and_segment(spikes[:10], num_units, 1)  # numba compile, not timed
    t_si, (_, si_order, _) = best_of(lambda: si_tools.reorder_spike_vector_by_unit_and_segment(spikes, num_units, 1))
    assert np.array_equal(si_order, order)
    t_si_m, si_mask = best_of(lambda: si_tools.select_sorting_periods_mask(si_sorting, periods))
    assert np.array_equal(si_mask, mask)
    print(f"SpikeInterface {spikeinterface.__version__}: group by unit {t_si:.3f} s ({t_si / t_gs:.2f}x gpuspike's time), "
          f"period mask {t_si_m:.3f} s ({t_si_m / t_gs_m:.2f}x)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5_000_000)
