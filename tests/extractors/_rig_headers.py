"""Folders as acquisition rigs write them, built in a test's tmp folder.

The real headers (``$GPUSPIKE_REAL_DATA``) are copied, or edited into the cases they do not
cover (an LF meta, an NP2 quad-base meta, an ONIX stream, ...), and paired with small int16
data files written here. Nothing is written into the repository.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np

NP1_AP_META = "Noise_g0_t0.imec0.ap.meta"
NP2_4SHANK_META = "NP2_4_shanks.imec0.ap.meta"
OE_NP1 = "OE_Neuropix-PXI-NP1-binary"
OE_NP2_4SHANK = "OE_Neuropix-PXI-NP2-4shank-binary"
ONIX_FOLDER = "ONIX Source-100.PortB-Neuropixels1.0eHeadstage-Probe-AP"


# ---------------------------------------------------------------------------- SpikeGLX
def parse_meta_text(text: str) -> dict:
    """key -> value of a meta's text (``~`` dropped), a reference written for the tests."""
    out = {}
    for line in text.splitlines():
        if "=" in line:
            key, value = line.split("=", 1)
            out[key.lstrip("~")] = value
    return out


def edit_meta(text: str, **fields) -> str:
    """Set (or, with value None, remove) fields of a meta's text; new fields are appended."""
    lines = text.splitlines()
    seen = set()
    out = []
    for line in lines:
        key = line.split("=", 1)[0]
        bare = key.lstrip("~")
        if bare in fields:
            seen.add(bare)
            if fields[bare] is None:
                continue
            out.append(f"{key}={fields[bare]}")
        else:
            out.append(line)
    for key, value in fields.items():
        if key not in seen and value is not None:
            prefix = "~" if key in ("imroTbl", "snsChanMap", "snsShankMap", "snsGeomMap") else ""
            out.append(f"{prefix}{key}={value}")
    return "\n".join(out) + "\n"


def real_meta_text(real_data: Path, name: str) -> str:
    return (real_data / "spikeglx" / name).read_text()


def write_pair(folder: Path, meta_name: str, text: str, num_samples: int = 1200, seed: int = 0,
               write_bin: bool = True) -> tuple[Path, np.ndarray | None]:
    """Write ``text`` as ``folder/meta_name`` and a .bin of random int16 with nSavedChans columns."""
    folder.mkdir(parents=True, exist_ok=True)
    meta_file = folder / meta_name
    meta_file.write_text(text)
    if not write_bin:
        return meta_file, None
    n_saved = int(parse_meta_text(text)["nSavedChans"])
    data = np.random.default_rng(seed).integers(-2000, 2000, size=(num_samples, n_saved), dtype=np.int16)
    data.tofile(meta_file.with_suffix(".bin"))
    return meta_file, data


def lf_meta_from_ap(ap_text: str) -> str:
    """The LF meta SpikeGLX writes beside an NP1.0 AP meta: LF channels are acquisition channels
    384..767, sampled at 2500 Hz."""
    meta = parse_meta_text(ap_text)
    n_ap, n_lf, n_sy = (int(x) for x in meta["acqApLfSy"].split(","))
    entries = meta["snsChanMap"][1:-1].split(")(")
    chan_map = [entries[0]]
    for entry in entries[1:]:
        name, rest = entry.split(";")
        if name.startswith("AP"):
            k = int(name[2:])
            chan_map.append(f"LF{k};{n_ap + k}:{n_ap + k}")
        else:
            chan_map.append(entry)
    n_saved = int(meta["nSavedChans"])
    n_samples_lf = int(meta["fileSizeBytes"]) // (2 * n_saved) // 12
    return edit_meta(ap_text, fileName=meta["fileName"].replace(".ap.bin", ".lf.bin"), imSampRate="2500",
                     snsApLfSy=f"0,{n_lf},{n_sy}", snsSaveChanSubset=f"{n_ap}:{n_ap + n_lf - 1},{n_ap + n_lf}",
                     snsChanMap="(" + ")(".join(chan_map) + ")", fileSizeBytes=str(n_samples_lf * 2 * n_saved),
                     firstSample=str(int(meta["firstSample"]) // 12))


def quad_base_meta_from_np2(np2_text: str, n_per_shank: int = 384) -> str:
    """An NP2.0 quad-base (NP2020) meta: four shanks read at once, 1536 AP channels and four SY
    channels (one per shank's readout) in one file."""
    n_ap = 4 * n_per_shank
    imro = [f"(NP2020,{n_ap})"] + [f"({c} {c // n_per_shank} 0 0 {c % n_per_shank})" for c in range(n_ap)]
    chan_map = [f"({n_ap},0,4)"] + [f"(AP{c};{c}:{c})" for c in range(n_ap)] + \
        [f"(SY{k};{n_ap + k}:{n_ap + k})" for k in range(4)]
    n_saved = n_ap + 4
    return edit_meta(np2_text, imDatPrb_pn="NP2020", imDatPrb_type="2020", nSavedChans=str(n_saved),
                     snsApLfSy=f"{n_ap},0,4", acqApLfSy=f"{n_ap},0,4", snsSaveChanSubset=f"0:{n_saved - 1}",
                     imroTbl="".join(imro), snsChanMap="".join(chan_map), imMaxInt="2048", imAiRangeMax="0.62",
                     imAiRangeMin="-0.62", imChan0apGain="100", snsShankMap=None, snsGeomMap=None,
                     fileSizeBytes=str(2 * n_saved * 30000))


def np1_variant_meta(np1_text: str, part_number: str, imro_type: str) -> str:
    """An NP1.0-style meta (imro ``(type,384)(ch bank ref apgain lfgain hp)``) of another probe
    (NP-Ultra NP1100/NP1121, NHP NP1020/NP1030, ...)."""
    meta = parse_meta_text(np1_text)
    entries = meta["imroTbl"][1:-1].split(")(")
    imro = f"({imro_type},384)" + "".join(f"({e})" for e in entries[1:])
    return edit_meta(np1_text, imDatPrb_pn=part_number, imDatPrb_type=imro_type, imroTbl=imro)


def nhp_128_meta(np1_text: str, part_number: str = "NP1200", imro_type: str = "1200") -> str:
    """A meta of a 128-channel NHP passive probe (NP1200/NP1210): NP1.0-style imro of 128 channels."""
    text = np1_variant_meta(np1_text, part_number, imro_type)
    meta = parse_meta_text(text)
    entries = meta["imroTbl"].strip("()").split(")(")
    chan_map = meta["snsChanMap"][1:-1].split(")(")
    return edit_meta(text, imroTbl=f"({imro_type},128)" + "".join(f"({e})" for e in entries[1:129]),
                     nSavedChans="129", snsApLfSy="128,0,1", acqApLfSy="128,128,1", snsSaveChanSubset="0:127,256",
                     snsChanMap="(" + ")(".join(["128,128,1"] + chan_map[1:129] + ["SY0;256:256"]) + ")",
                     fileSizeBytes=str(129 * 2 * 1000))


def np2_single_shank_meta(np2_text: str) -> str:
    """An NP2.0 single-shank (NP2000, imro type 21: ``(ch bank_mask ref electrode)``) meta."""
    imro = "(21,384)" + "".join(f"({c} 1 0 {c})" for c in range(384))
    return edit_meta(np2_text, imDatPrb_pn="NP2000", imDatPrb_type="21", imroTbl=imro, snsShankMap=None)


def nidq_meta_from_imec(np1_text: str) -> str:
    """A NI-DAQ meta (8 analog MA channels at gain 1 and a digital word), edited from an imec one."""
    chan_map = "(0,0,8,1)" + "".join(f"(XA{k};{k}:{k})" for k in range(8)) + "(XD0;8:8)"
    meta = parse_meta_text(np1_text)
    imec_keys = {k: None for k in meta if k.startswith("im") or k.startswith("sns") or k.startswith("acq")}
    imec_keys.update(typeThis="nidq", fileName=meta["fileName"].replace(".imec0.ap.bin", ".nidq.bin"),
                     niSampRate="25000", nSavedChans="9", snsMnMaXaDw="0,0,8,1", niMNGain="200", niMAGain="1",
                     niAiRangeMax="5", niAiRangeMin="-5", snsSaveChanSubset="all", snsChanMap=chan_map,
                     niXDChans1="", fileSizeBytes=str(9 * 2 * 25000), firstSample="147821")
    return edit_meta(np1_text, **imec_keys)


# ---------------------------------------------------------------------------- Open Ephys
def openephys_session(real_data: Path, dst: Path, source: str, num_samples: int = 1000, seed: int = 0,
                      experiment: str | None = None, edit_oebin=None, edit_settings=None,
                      write_sample_numbers: bool = True) -> dict:
    """Copy an Open Ephys header tree to ``dst`` and write each stream's data.

    ``experiment`` renames the experiment folder (``experiment1`` makes ``settings.xml`` the
    settings of the experiment). ``edit_oebin(structure) -> structure`` and
    ``edit_settings(text) -> text`` edit the headers. Returns ``{folder_name: (dat, data, stream)}``.
    """
    src = real_data / "openephys" / source
    for header in sorted(src.rglob("*")):
        if header.is_file():
            target = dst / header.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(header, target)
    (oebin,) = sorted(dst.rglob("structure.oebin"))
    if experiment is not None and oebin.parents[1].name != experiment:
        new = oebin.parents[1].with_name(experiment)
        oebin.parents[1].rename(new)
        oebin = new / oebin.parent.name / "structure.oebin"
    structure = json.loads(oebin.read_text())
    if edit_oebin is not None:
        structure = edit_oebin(structure)
        oebin.write_text(json.dumps(structure, indent=2))
    settings = oebin.parents[2] / "settings.xml"
    if edit_settings is not None:
        settings.write_text(edit_settings(settings.read_text()))
    written = {}
    rng = np.random.default_rng(seed)
    for stream in structure["continuous"]:
        folder = oebin.parent / "continuous" / stream["folder_name"]
        folder.mkdir(parents=True)
        data = rng.integers(-3000, 3000, size=(num_samples, len(stream["channels"])), dtype=np.int16)
        data.tofile(folder / "continuous.dat")
        if write_sample_numbers:
            np.save(folder / "sample_numbers.npy", np.arange(num_samples, dtype="int64") + 3000)
            np.save(folder / "timestamps.npy", 0.5 + np.arange(num_samples) / stream["sample_rate"])
        written[stream["folder_name"].strip("/")] = (folder / "continuous.dat", data, stream)
    return written


def onix_session(real_data: Path, dst: Path, seed: int = 0) -> dict:
    """The NP1 Open Ephys session as the ONIX plugin names it: source ``ONIX Source``, plugin stream
    ``PortB-Neuropixels1.0eHeadstage-Probe-AP`` (a dot inside the stream name), the probe in a
    ``NEUROPIXELSV1E`` element."""
    stream = ONIX_FOLDER.split(".", 1)[1]

    def oebin(structure):
        entry = structure["continuous"][0]
        entry.update(folder_name=ONIX_FOLDER + "/", source_processor_name="ONIX Source", stream_name=stream)
        for event in structure.get("events", []):
            event["stream_name"] = stream
            event["folder_name"] = event["folder_name"].replace("Neuropix-PXI-100.ProbeA", ONIX_FOLDER)
        return structure

    def settings(text):
        text = text.replace('<PROCESSOR name="Neuropix-PXI"', '<PROCESSOR name="ONIX Source"')
        text = re.sub(r'<STREAM name="ProbeA"', f'<STREAM name="{stream}"', text)
        return text.replace("<NP_PROBE ", "<NEUROPIXELSV1E ").replace("</NP_PROBE>", "</NEUROPIXELSV1E>")

    return openephys_session(real_data, dst, OE_NP1, seed=seed, edit_oebin=oebin, edit_settings=settings)
