"""SortingAnalyzer: a sorting paired with its recording, and the extensions computed from them.

(Work in progress, issue 18: the class is being written; the attributes below are its contract.)

Attributes and methods other modules rely on:

- ``unit_ids``, ``channel_ids``, ``sampling_frequency``, ``sparsity`` (ChannelSparsity or None),
  ``peak_sign``, ``peak_mode``, ``return_in_uV``, ``sorting``, ``recording`` (raises when absent),
  ``has_recording()``, ``get_channel_locations()``, ``get_probe()``, ``get_num_units()``,
  ``get_main_channels(outputs="index"|"id", with_dict=False)``, ``get_recording_property(key)``;
- ``get_extension(name)``: None when not computed; the "templates" extension has ``nbefore``,
  ``nafter`` and ``get_templates(unit_ids=None, operator="average", percentile=None, save=True,
  outputs="numpy"|"Templates")`` returning dense ``(num_units, num_samples, num_channels)`` arrays;
  "noise_levels" has ``get_data()``; "waveforms" has ``get_waveforms_one_unit(unit_id, force_dense)``
  and "random_spikes" has ``get_random_spikes()``.
"""
from __future__ import annotations


class SortingAnalyzer:
    """A sorting paired with its recording (see the module docstring for the contract)."""
