"""The repository holds no path of one machine (a developer's home, a CI sandbox)."""
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: prefixes of paths that exist on one machine only (built here so this file does not match itself)
MACHINE_PREFIXES = ["/" + "work" + "/", "/" + "root" + "/", "/" + "home" + "/", "/" + "Users" + "/"]


def _tracked_files() -> list[Path]:
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True, timeout=60)
        return [REPO / name for name in out.stdout.decode().split("\0") if name]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout (an unpacked source tree)
        skip = {".git", "build", "dist", "__pycache__", ".hypothesis", "_build", "api"}
        return [p for p in REPO.rglob("*") if p.is_file() and not skip & set(p.relative_to(REPO).parts)
                and not p.name.endswith((".egg-info", ".pyc"))]


def test_no_machine_specific_path_in_the_repository():
    files = _tracked_files()
    assert any(p.name == "pyproject.toml" for p in files)
    found = []
    for path in files:
        if path.suffix in (".png", ".npy", ".npz", ".whl") or not path.is_file():
            continue
        text = path.read_text(errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            if any(prefix in line for prefix in MACHINE_PREFIXES):
                found.append(f"{path.relative_to(REPO)}:{number}: {line.strip()[:120]}")
    assert not found, "machine-specific paths:\n" + "\n".join(found)
