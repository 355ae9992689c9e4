"""Every code block of README.md and docs/ runs as written, from another folder.

- ``python`` blocks run as scripts (a fresh interpreter each, in a temporary folder per page,
  so files a block writes are there for the next block of the page);
- ``bash`` blocks are parsed by bash (``bash -n``) and each ``gpuspike ...`` command line in
  them is parsed by the real ``gpuspike`` argument parser (subcommands and flags exist);
- a block that cannot run here (it needs a GPU, a cluster, a cloud machine) is preceded by
  ``<!-- not run: REASON -->``; the reason is required.
"""
from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
_FENCE = re.compile(r"^```(?P<lang>\{[\w-]+\}|[\w-]*)[^\n]*\n(?P<code>.*?)^```\s*$", re.M | re.S)
_NOT_RUN = re.compile(r"<!--\s*not run:\s*(?P<reason>.*?)\s*-->\s*$")


def _pages() -> list[Path]:
    docs = [p for p in sorted((REPO / "docs").rglob("*.md"))
            if not {"_build", "api"} & set(p.relative_to(REPO / "docs").parts)]
    return [REPO / "README.md", *docs]


def code_blocks(page: Path) -> list[dict]:
    """The fenced blocks of a Markdown page: language, code, line and the not-run reason (or None)."""
    text = page.read_text()
    blocks = []
    for match in _FENCE.finditer(text):
        before = text[:match.start()].rstrip("\n").splitlines()
        marker = _NOT_RUN.search(before[-1]) if before else None
        if match.group("lang") in ("{toctree}", "") and match.group("code").lstrip().startswith(":"):
            continue
        blocks.append({"lang": match.group("lang"), "code": match.group("code"),
                       "line": text[:match.start()].count("\n") + 1,
                       "not_run": None if marker is None else marker.group("reason")})
    return blocks


PAGES = {str(p.relative_to(REPO)): p for p in _pages()}


def test_pages_are_found():
    assert "README.md" in PAGES and "docs/getting-started.md" in PAGES and "docs/porting.md" in PAGES
    readme = code_blocks(PAGES["README.md"])
    assert [b["lang"] for b in readme][:2] == ["bash", "python"]


def test_the_block_parser_sees_markers(tmp_path):
    page = tmp_path / "p.md"
    page.write_text("x\n<!-- not run: needs a GPU -->\n```bash\nnvidia-smi\n```\n\n```python\nprint(1)\n```\n")
    blocks = code_blocks(page)
    assert [(b["lang"], b["not_run"]) for b in blocks] == [("bash", "needs a GPU"), ("python", None)]


@pytest.mark.parametrize("name", sorted(PAGES))
def test_every_block_runs(name, tmp_path):
    page = PAGES[name]
    blocks = [b for b in code_blocks(page) if not b["lang"].startswith("{")]  # MyST directives
    for i, block in enumerate(blocks):
        where = f"{name}:{block['line']}"
        if block["not_run"] is not None:
            assert block["not_run"].strip(), f"{where}: a not-run block must say why"
            continue
        if block["lang"] == "python":
            _run_python(block["code"], tmp_path, where, i)
        elif block["lang"] in ("bash", "sh", "console"):
            _check_bash(block["code"], where)
        else:
            pytest.fail(f"{where}: a {block['lang']!r} block cannot run here: mark it <!-- not run: REASON -->")


def _run_python(code: str, cwd: Path, where: str, index: int) -> None:
    script = cwd / f"block_{index}.py"
    script.write_text(code)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([sys.executable, str(script)], cwd=cwd, env=env, capture_output=True, text=True,
                         timeout=900)
    assert out.returncode == 0, f"{where} failed:\n{out.stdout[-3000:]}\n{out.stderr[-5000:]}"


def _check_bash(code: str, where: str) -> None:
    syntax = subprocess.run(["bash", "-n"], input=code, capture_output=True, text=True)
    assert syntax.returncode == 0, f"{where}: bash cannot parse it: {syntax.stderr}"
    from gpuspike.cli import build_parser

    for line in code.splitlines():
        command = line.split("#")[0].strip()
        for part in re.split(r"&&|\|\||;", command):
            words = shlex.split(part)
            if words and words[0] == "gpuspike":
                try:
                    build_parser().parse_args(words[1:])
                except SystemExit as exit_:
                    assert exit_.code == 0, f"{where}: {part.strip()!r} is not a valid gpuspike command"


def test_readme_tour_prints_what_a_user_wants_and_reuses_its_recording(tmp_path):
    tour = next(b["code"] for b in code_blocks(PAGES["README.md"]) if b["lang"] == "python")
    script = tmp_path / "tour.py"
    script.write_text(tour)
    outputs = []
    for _ in range(2):
        out = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=900)
        assert out.returncode == 0, out.stderr[-5000:]
        outputs.append(out.stdout)
        if len(outputs) == 1:
            written = (tmp_path / "tour" / "recording").stat().st_mtime_ns
    first, second = outputs
    assert (tmp_path / "tour" / "recording").stat().st_mtime_ns == written  # the second run read the saved folder
    for text in outputs:
        assert "(BinaryFolderRecording): 384 channels" in text  # extraction reads the saved file
        assert "traces: (30000, 384) float32" in text
        assert re.search(r"unit \S+: waveforms \(\d+, 90, \d+\), template \(90, \d+\), peak \d+ uV on channel", text)
        assert re.search(r"extract_waveforms: [0-9.]+ s", text) and re.search(r"compute_templates: [0-9.]+ s", text)
    same = [line for line in first.splitlines() if "unit" in line and "peak" in line]
    assert same == [line for line in second.splitlines() if "unit" in line and "peak" in line]
