"""``gpuspike info PATH``: what a saved folder or a data file holds, as readable text.

Handled: WaveformExtractor folders (``params.json``; read directly from ``params.json``,
``recording_info/`` and ``sparsity.json``, without opening the recording), folders and JSON
files written by ``save()`` / ``dump_to_json`` (binary, npz, npy, zarr; through
:func:`gpuspike.core.loading.load`), SpikeGLX ``.meta`` files and folders, Open Ephys binary
folders (``structure.oebin``), Kilosort/phy folders and MEArec ``.h5`` files.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def _size_on_disk(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def _human(num_bytes: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if num_bytes < 1024 or unit == "TiB":
            return f"{num_bytes:.0f} {unit}" if unit == "B" else f"{num_bytes:.1f} {unit}"
        num_bytes /= 1024
    return f"{num_bytes:.1f} TiB"  # pragma: no cover


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds:.1f} s ({seconds / 3600:.2f} h)"
    if seconds >= 60:
        return f"{seconds:.1f} s ({seconds / 60:.1f} min)"
    return f"{seconds:.3f} s"


def _lines(title: str, items: list[tuple[str, object]]) -> str:
    width = max((len(k) for k, _ in items), default=0)
    return "\n".join([title] + [f"  {k.ljust(width)} : {v}" for k, v in items])


def _read_json(path: Path):
    from .core.base import _from_jsonable

    try:
        return _from_jsonable(json.loads(path.read_text()))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON ({err.msg} at line {err.lineno})") from None


# ---------------------------------------------------------------------- waveforms folder
def describe_waveforms_folder(folder: Path) -> str:
    """Describe a WaveformExtractor folder from its JSON files and array headers."""
    params = _read_json(folder / "params.json")
    attrs_file = folder / "recording_info" / "recording_attributes.json"
    attrs = _read_json(attrs_file) if attrs_file.is_file() else {}
    items: list[tuple[str, object]] = [("kind", "WaveformExtractor folder")]
    fs = attrs.get("sampling_frequency")
    channel_ids = attrs.get("channel_ids")
    num_samples = attrs.get("num_samples")
    if channel_ids is not None:
        items.append(("channels", len(channel_ids)))
    if fs is not None:
        items.append(("sampling frequency", f"{float(fs):g} Hz"))
    if num_samples is not None:
        num_samples = list(np.atleast_1d(num_samples))
        items.append(("segments", len(num_samples)))
        if fs:
            items.append(("duration", _duration(sum(int(n) for n in num_samples) / float(fs))))
    sparsity_file = folder / "sparsity.json"
    unit_ids = None
    if sparsity_file.is_file():
        sp = _read_json(sparsity_file)
        unit_ids = list(sp.get("unit_ids", []))
        counts = [len(v) for v in sp.get("unit_id_to_channel_ids", {}).values()]
        total = len(sp["channel_ids"]) if "channel_ids" in sp else len(channel_ids if channel_ids is not None else [])
        if counts:
            items.append(("sparsity", f"sparse: {np.mean(counts):.1f} of {total} channels per unit on average "
                                      f"(min {min(counts)}, max {max(counts)})"))
    else:
        items.append(("sparsity", "dense (no sparsity.json)"))
    wf_dir = folder / "waveforms"
    wf_files = sorted(wf_dir.glob("waveforms_*.npy")) if wf_dir.is_dir() else []
    if unit_ids is None and wf_files:
        unit_ids = [p.stem[len("waveforms_"):] for p in wf_files]
    if unit_ids is None:
        templates = sorted(folder.glob("templates_*.npy"))
        if templates:
            shape = np.load(templates[0], mmap_mode="r").shape
            unit_ids = list(range(shape[0]))
    if unit_ids is not None:
        items.append(("units", len(unit_ids)))
    items.append(("window", f"{params.get('ms_before')} ms before, {params.get('ms_after')} ms after the peak"))
    if "max_spikes_per_unit" in params:
        items.append(("max spikes per unit", params["max_spikes_per_unit"]))
    if wf_files:
        num_spikes = sum(np.load(p, mmap_mode="r").shape[0] for p in wf_files)
        items.append(("waveforms", f"{num_spikes} spikes in {len(wf_files)} files (dtype {params.get('dtype')})"))
    else:
        items.append(("waveforms", "not saved"))
    modes = sorted(p.stem[len("templates_"):] for p in folder.glob("templates_*.npy"))
    items.append(("templates", ", ".join(modes) if modes else "none saved"))
    items.append(("recording", "recording.json" if (folder / "recording.json").is_file() else "not saved"))
    items.append(("size on disk", _human(_size_on_disk(folder))))
    return _lines(f"{folder}", items)


# ---------------------------------------------------------------------- SpikeGLX / Open Ephys
def describe_spikeglx_meta(meta_file: Path) -> str:
    """Describe a SpikeGLX ``.meta`` file and its ``.bin`` (sample count from the .bin size)."""
    from .extractors.spikeglx import read_meta

    meta = read_meta(meta_file)
    n_saved = int(meta.get("nSavedChans", 0))
    fs = float(meta.get("imSampRate", meta.get("niSampRate", "nan")))
    items: list[tuple[str, object]] = [("kind", f"SpikeGLX {meta.get('typeThis', '?')} stream")]
    if "imDatPrb_pn" in meta or "imDatPrb_type" in meta:
        items.append(("probe", f"{meta.get('imDatPrb_pn', '?')} (type {meta.get('imDatPrb_type', 'phase3')})"))
    items.append(("saved channels", n_saved))
    if "snsApLfSy" in meta:
        ap, lf, sy = (int(x) for x in meta["snsApLfSy"].split(","))
        items.append(("AP / LF / sync", f"{ap} / {lf} / {sy}"))
    items.append(("sampling frequency", f"{fs:g} Hz"))
    bin_file = meta_file.with_suffix(".bin")
    if bin_file.is_file():
        size = bin_file.stat().st_size
        frame = n_saved * 2
        if frame and size % frame:
            items.append(("samples", f"ERROR: {bin_file.name} has {size} bytes, not a whole number of "
                                     f"{frame}-byte frames"))
        elif frame:
            n = size // frame
            items.append(("samples", f"{n} (from {bin_file.name})"))
            items.append(("duration", _duration(n / fs)))
        items.append(("size on disk", _human(size + meta_file.stat().st_size)))
    else:
        items.append(("samples", f"{bin_file.name} missing; the header says {meta.get('fileTimeSecs', '?')} s, "
                                 f"{meta.get('fileSizeBytes', '?')} bytes"))
    return _lines(f"{meta_file}", items)


def describe_openephys_folder(folder: Path) -> str:
    """Describe the continuous streams of an Open Ephys binary folder from its ``structure.oebin``."""
    parts = []
    for oebin in sorted(folder.rglob("structure.oebin")):
        structure = _read_json(oebin)
        for stream in structure.get("continuous", []):
            n = int(stream["num_channels"])
            fs = float(stream["sample_rate"])
            dat = oebin.parent / "continuous" / stream["folder_name"] / "continuous.dat"
            items: list[tuple[str, object]] = [("kind", "Open Ephys binary stream"), ("channels", n),
                                               ("sampling frequency", f"{fs:g} Hz")]
            if dat.is_file():
                size = dat.stat().st_size
                if size % (2 * n):
                    items.append(("samples", f"ERROR: {dat.name} has {size} bytes, not a whole number of frames"))
                else:
                    items.append(("samples", size // (2 * n)))
                    items.append(("duration", _duration(size / (2 * n) / fs)))
                items.append(("size on disk", _human(size)))
            else:
                items.append(("samples", "continuous.dat missing"))
            parts.append(_lines(f"{oebin.parent.relative_to(folder)} / {stream['folder_name']}", items))
    return f"{folder}\n" + "\n".join(parts)


# ---------------------------------------------------------------------- loaded objects
def describe_object(obj, title: str, path: Path | None = None) -> str:
    """Describe a gpuspike object (recording, sorting, snippets, event)."""
    items: list[tuple[str, object]] = [("kind", type(obj).__name__)]
    nseg = obj.get_num_segments()
    if hasattr(obj, "get_traces"):
        fs = obj.get_sampling_frequency()
        items += [("channels", obj.get_num_channels()), ("sampling frequency", f"{fs:g} Hz"),
                  ("segments", nseg), ("dtype", str(obj.get_dtype()))]
        if hasattr(obj, "get_total_duration"):
            items.append(("duration", _duration(obj.get_total_duration())
                          + ("" if nseg == 1 else " (" + ", ".join(f"{obj.get_duration(i):.2f}"
                                                                     for i in range(nseg)) + " s)")))
        if obj.has_probe():
            probes = obj.get_probegroup().probes
            items.append(("probe", ", ".join(p.annotations.get("model_name", "") or f"{p.get_contact_count()} "
                                             f"contacts" for p in probes)))
        items.append(("gains to µV", "yes" if obj.get_property("gain_to_uV") is not None else "no"))
        if hasattr(obj, "is_binary_compatible"):
            items.append(("binary compatible", obj.is_binary_compatible()))
    elif hasattr(obj, "get_unit_ids"):
        counts = obj.count_num_spikes_per_unit(outputs="array")
        items += [("units", obj.get_num_units()), ("segments", nseg),
                  ("sampling frequency", f"{obj.get_sampling_frequency():g} Hz"),
                  ("spikes", f"{int(counts.sum())} (per unit: min {int(counts.min()) if counts.size else 0}, "
                             f"max {int(counts.max()) if counts.size else 0})")]
    else:
        items.append(("segments", nseg))
    keys = obj.get_property_keys()
    if keys:
        items.append(("properties", ", ".join(sorted(keys))))
    if path is not None:
        items.append(("size on disk", _human(_size_on_disk(path))))
    return _lines(title, items)


def describe(path: str | Path) -> str:
    """What a saved folder or data file holds (the text of ``gpuspike info PATH``).

    Parameters
    ----------
    path : str or Path
        A WaveformExtractor folder, a folder / JSON saved by gpuspike or SpikeInterface, a
        SpikeGLX ``.meta`` file or folder, an Open Ephys binary folder, a Kilosort/phy folder
        or a MEArec ``.h5`` file.

    Returns
    -------
    str
        Kind, channels, segments, duration, units, sparsity and size on disk, where they apply.

        Temporary folders of saves to ``path`` (next to it) or inside it are listed, with
        whether their writer still runs (those of killed saves are removed by the next save).

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist (and no temporary folder of a save to it does).
    ValueError
        ``path`` is none of the above.
    """
    path = Path(path)
    leftovers = _leftover_lines(path)
    if not path.exists():
        if leftovers:
            return "\n".join([f"{path}: does not exist; temporary folders of saves to it:"] + leftovers)
        raise FileNotFoundError(f"path={str(path)!r} does not exist")
    try:
        text = _describe_existing(path)
    except ValueError:
        if not leftovers:
            raise
        text = f"{path}"
    if leftovers:
        text += "\n  temporary folders of saves (a killed save's are cleaned by the next save to its folder):\n" + \
            "\n".join(leftovers)
    return text


def _leftover_lines(path: Path) -> list[str]:
    """Lines on the temporary folders of saves to ``path`` (next to it) and inside it."""
    from .core.leftovers import describe_leftover, list_leftovers, list_leftovers_in

    found = list_leftovers(path) + (list_leftovers_in(path) if path.is_dir() else [])
    lines = []
    for lo in found:
        lines.append(f"    {describe_leftover(lo)} ({_human(_size_on_disk(lo.path))})")
    return lines


def _describe_existing(path: Path) -> str:
    if path.is_file():
        if path.suffix == ".meta":
            return describe_spikeglx_meta(path)
        if path.suffix == ".bin" and path.with_suffix(".meta").is_file():
            return describe_spikeglx_meta(path.with_suffix(".meta"))
        if path.suffix in (".h5", ".hdf5"):
            from .extractors.mearec import read_mearec

            recording, sorting = read_mearec(path)
            return "\n".join([describe_object(recording, f"{path} (MEArec recording)", path),
                              describe_object(sorting, "  ground truth sorting")])
        if path.suffix in (".json", ".npz"):
            from .core.loading import load

            return describe_object(load(path), f"{path}", path)
        raise ValueError(f"path={str(path)!r}: unknown file type; gpuspike info reads .meta, .json, .npz, "
                         f".h5 files and saved folders")
    if (path / "params.json").is_file():
        return describe_waveforms_folder(path)
    if (path / "params.py").is_file() and (path / "spike_times.npy").is_file():
        from .extractors.kilosort import read_phy

        return describe_object(read_phy(path), f"{path} (Kilosort/phy folder)", path)
    try:
        from .core.loading import load

        obj = load(path)
    except Exception as err:  # not a save() folder: try the acquisition formats
        if any(path.rglob("structure.oebin")):
            return describe_openephys_folder(path)
        metas = sorted(path.rglob("*.meta"))
        if metas:
            return "\n".join(describe_spikeglx_meta(m) for m in metas)
        raise ValueError(f"path={str(path)!r} is not a folder gpuspike knows ({err})") from err
    return describe_object(obj, f"{path}", path)
