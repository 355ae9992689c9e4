"""Text summaries of objects, in SpikeInterface 0.105's format (so tutorials print the same lines)."""
from __future__ import annotations


def convert_seconds_to_str(seconds: float, long_notation: bool = True) -> str:
    """``"12.35s"``, with minutes / hours / days (or ms below one second) in parentheses.

    Parameters
    ----------
    seconds : float
    long_notation : bool
        Add the larger (or smaller) unit.

    Returns
    -------
    str
    """
    text = f"{seconds:,.2f}s"
    if long_notation:
        if seconds < 1.0:
            text += f" ({seconds * 1000:.2f} ms)"
        elif seconds < 60:
            pass
        elif seconds < 3600:
            text += f" ({seconds / 60:.2f} minutes)"
        elif seconds < 86400 * 2:
            text += f" ({seconds / 3600:.2f} hours)"
        else:
            text += f" ({seconds / 86400:.2f} days)"
    return text


def convert_bytes_to_str(byte_value: float) -> str:
    """Bytes in B, KiB, MiB, GiB or TiB with two decimals (``"1.00 KiB"``).

    Parameters
    ----------
    byte_value : int

    Returns
    -------
    str
    """
    suffixes = ["B", "KiB", "MiB", "GiB", "TiB"]
    i = 0
    while byte_value >= 1024 and i < len(suffixes) - 1:
        byte_value /= 1024
        i += 1
    return f"{byte_value:.2f} {suffixes[i]}"


def _name(obj) -> str:
    # a view that keeps every channel of its parent in order (set_probe's result) shows the parent's class,
    # as SpikeInterface's clone would
    cls = getattr(obj, "_display_class", None) or type(obj).__name__
    own = getattr(obj, "_annotations", {}).get("name")
    if own is None:  # no name of its own: the class shown (a subclass shown as its base: both)
        subclass = any(base.__name__ == cls for base in type(obj).__mro__[1:])
        own = type(obj).__name__ if subclass else (cls if obj.name == type(obj).__name__ else obj.name)
    name = own
    return f"{name} ({cls})" if name != cls else cls


def _frequency(hz: float) -> str:
    if not float(hz).is_integer():
        return f"{hz:f} Hz"
    return f"{hz / 1000.0:0.1f}kHz" if hz > 10_000.0 else f"{hz:0.1f}Hz"


def _short_list(values: list, max_size: int = 6) -> str:
    if len(values) <= max_size:
        return " | ".join(values)
    half = max_size // 2
    return " | ".join(values[:half]) + " | ... | " + " | ".join(values[-half:])


def recording_repr(recording) -> str:
    """One line (split at 100 characters), then per-segment samples / durations / memory, then file paths.

    Parameters
    ----------
    recording : BaseRecording

    Returns
    -------
    str
    """
    nseg = recording.get_num_segments()
    text = (f"{_name(recording)}: {recording.get_num_channels()} channels - "
            f"{_frequency(recording.get_sampling_frequency())} - {nseg} segments - "
            f"{recording.get_total_samples():,} samples - {convert_seconds_to_str(recording.get_total_duration())} - "
            f"{recording.get_dtype()} dtype - {convert_bytes_to_str(recording.get_total_memory_size())}")
    if len(text) > 100:
        split = text.rfind("-", 0, 100)
        if split != -1:
            indent = " " * (len(recording.name) + 2)
            text = text[:split] + "\n" + indent + text[split + 1:].lstrip()
    if nseg > 1:
        samples = [f"{recording.get_num_samples(i):,}" for i in range(nseg)]
        durations = [convert_seconds_to_str(recording.get_duration(i)) for i in range(nseg)]
        memory = [convert_bytes_to_str(recording.get_memory_size(i)) for i in range(nseg)]
        text += (f"\nSegments:\nSamples:   {_short_list(samples)}\nDurations: {_short_list(durations)}"
                 f"\nMemory:    {_short_list(memory)}")
    for key in ("file_paths", "file_path"):
        if key in recording._kwargs:
            text += f"\n  {key}: {recording._kwargs[key]}"
    return text


def sorting_repr(sorting) -> str:
    """``Name: N units - S segments - F kHz`` (and the file path).

    Parameters
    ----------
    sorting : BaseSorting

    Returns
    -------
    str
    """
    text = (f"{_name(sorting)}: {sorting.get_num_units()} units - {sorting.get_num_segments()} segments - "
            f"{sorting.get_sampling_frequency() / 1000.0:0.1f}kHz")
    if "file_path" in sorting._kwargs:
        text += f"\n  file_path: {sorting._kwargs['file_path']}"
    return text
