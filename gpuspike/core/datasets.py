"""Download (and cache) test files from NEO's ephy_testing_data repository (or any git/datalad dataset).

The repository (https://gin.g-node.org/NeuralEnsemble/ephy_testing_data) is a datalad dataset:
a git repository whose large files live in git-annex. :func:`download_dataset` uses datalad
when it is installed. Without datalad it falls back to plain ``git``: the repository is cloned
(shallow) and a file whose content is in git (not annexed) is used as is; an annexed file is
fetched with ``git annex get`` when git-annex is installed, and otherwise the error says what is
missing. Every failure names what is missing: datalad, git, git-annex, or the network.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

DEFAULT_REPO = "https://gin.g-node.org/NeuralEnsemble/ephy_testing_data"

_DATALAD_HINT = "pip install datalad (it also needs git-annex: conda install -c conda-forge git-annex, " \
                "or apt-get install git-annex)"


def get_global_dataset_folder() -> Path:
    """Cache folder of downloaded datasets.

    Returns
    -------
    Path
        ``$GPUSPIKE_DATASET_FOLDER``, else ``~/spikeinterface_datasets`` (the folder
        SpikeInterface uses, so both libraries share one cache).
    """
    folder = os.environ.get("GPUSPIKE_DATASET_FOLDER")
    return Path(folder).expanduser() if folder else Path.home() / "spikeinterface_datasets"


def _import_datalad():
    """``datalad.api``, or None when datalad is not installed."""
    try:
        import datalad.api as datalad_api
    except ImportError:
        return None
    return datalad_api


def _run_git(args: list[str], cwd: Path | None, what: str) -> str:
    proc = subprocess.run(["git", *args], cwd=None if cwd is None else str(cwd), capture_output=True, text=True,
                          env={**os.environ, "GIT_TERMINAL_PROMPT": "0"})
    if proc.returncode != 0:
        stderr = proc.stderr.strip()
        network = any(s in stderr.lower() for s in ("could not resolve", "unable to access", "connection",
                                                    "network", "timed out", "ssl"))
        hint = " The network looks unreachable (offline?)." if network else ""
        raise RuntimeError(f"{what} failed (git {' '.join(args)}): {stderr or 'no message'}.{hint} "
                           f"datalad is not installed, so git was used instead; datalad: {_DATALAD_HINT}")
    return proc.stdout


def _is_annex_pointer(path: Path) -> bool:
    """True for a git-annex placeholder whose content is absent (a dangling annex symlink or pointer file)."""
    if path.is_symlink():
        target = os.readlink(path)
        return ".git/annex/objects" in target.replace("\\", "/") and not path.exists()
    if path.is_file() and path.stat().st_size < 1024:
        try:
            head = path.read_bytes()[:200]
        except OSError:
            return False
        return head.startswith(b"/annex/objects/") or b".git/annex/objects/" in head
    return False


def _download_with_git(repo: str, remote_path: str, local_folder: Path, update_if_exists: bool) -> Path:
    if shutil.which("git") is None:
        raise ImportError(f"download_dataset needs datalad ({_DATALAD_HINT}) or, for files stored in git itself, "
                          f"the git command: neither is installed")
    if (local_folder / ".git").exists():
        if update_if_exists:
            _run_git(["pull", "--ff-only"], local_folder, f"updating {local_folder} from {repo}")
    else:
        if local_folder.exists() and any(local_folder.iterdir()):
            raise FileExistsError(f"local_folder={str(local_folder)!r} exists, is not empty and is not a git "
                                  f"clone: remove it or choose another local_folder")
        local_folder.parent.mkdir(parents=True, exist_ok=True)
        _run_git(["clone", "--depth", "1", repo, str(local_folder)], None, f"cloning {repo}")
    local_path = local_folder / remote_path
    if not local_path.exists() and not local_path.is_symlink():
        raise FileNotFoundError(f"remote_path={remote_path!r} is not in the repository {repo} "
                                f"(cloned to {local_folder})")
    annexed = [p for p in ([local_path] if not local_path.is_dir() else local_path.rglob("*")) if _is_annex_pointer(p)]
    if annexed:
        if shutil.which("git-annex") is None:
            raise ImportError(f"{len(annexed)} file(s) under {remote_path!r} are stored in git-annex (e.g. "
                              f"{annexed[0].relative_to(local_folder)}); fetching them needs git-annex, which is "
                              f"not installed (or datalad: {_DATALAD_HINT})")
        _run_git(["annex", "get", remote_path], local_folder, f"git annex get {remote_path}")
    return local_path


def download_dataset(repo: str | None = None, remote_path: str = "mearec/mearec_test_10s.h5",
                     local_folder: str | Path | None = None, update_if_exists: bool = False,
                     unlock: bool = False) -> Path:
    """Download (once) a file or folder of a datalad/git dataset and return its local path.

    Parameters
    ----------
    repo : str, optional
        Repository URL or local path (default NEO's ephy_testing_data on gin.g-node.org).
    remote_path : str
        File or folder inside the repository, e.g. ``"mearec/mearec_test_10s.h5"`` or
        ``"spikeglx/multi_trigger_multi_gate"``.
    local_folder : str or Path, optional
        Where the repository is cloned (default ``get_global_dataset_folder() / <repo name>``).
    update_if_exists : bool
        Update an existing clone from the remote first.
    unlock : bool
        With datalad, unlock the file(s) so they can be modified.

    Returns
    -------
    Path
        ``local_folder / remote_path``.

    Raises
    ------
    ImportError
        Neither datalad nor git is installed, or the file is annexed and git-annex is missing.
    RuntimeError
        The clone/update/get failed (the message says when the network looks unreachable).
    FileNotFoundError
        ``remote_path`` is not in the repository.
    """
    if repo is None:
        repo = DEFAULT_REPO
    remote_path = str(remote_path).strip("/")
    if not remote_path:
        raise ValueError("remote_path is empty: give a file or folder inside the repository")
    if local_folder is None:
        local_folder = get_global_dataset_folder() / str(repo).rstrip("/").split("/")[-1]
    local_folder = Path(local_folder).expanduser().absolute()
    local_path = local_folder / remote_path
    if local_path.exists() and not update_if_exists and not _is_annex_pointer(local_path):
        return local_path

    datalad_api = _import_datalad()
    if datalad_api is None:
        return _download_with_git(str(repo), remote_path, local_folder, update_if_exists)
    try:
        if local_folder.exists() and (local_folder / ".git").exists():
            dataset = datalad_api.Dataset(path=str(local_folder))
            if update_if_exists:
                dataset.update(merge=True)
        else:
            local_folder.parent.mkdir(parents=True, exist_ok=True)
            dataset = datalad_api.install(path=str(local_folder), source=str(repo))
        dataset.get(remote_path)
        if unlock:
            dataset.unlock(remote_path)
    except Exception as err:
        raise RuntimeError(f"datalad could not get {remote_path!r} from {repo}: {err} "
                           f"(is git-annex installed and the network reachable?)") from err
    return local_path
