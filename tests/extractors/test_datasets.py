"""download_dataset against local git repositories created here (no network)."""
import os
import shutil
import subprocess

import numpy as np
import pytest

import gpuspike
from gpuspike.core import datasets
from gpuspike.extractors import download_dataset

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="the git command is not installed")


def git(*args, cwd):
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, env=env)


@pytest.fixture
def no_datalad(monkeypatch):
    monkeypatch.setattr(datasets, "_import_datalad", lambda: None)


@pytest.fixture
def origin(tmp_path):
    repo = tmp_path / "ephy_testing_data"
    (repo / "mearec").mkdir(parents=True)
    payload = np.arange(100, dtype="int16")
    payload.tofile(repo / "mearec" / "small.bin")
    (repo / "spikeglx" / "session").mkdir(parents=True)
    (repo / "spikeglx" / "session" / "a.meta").write_text("nSavedChans=2\n")
    # an annexed file whose content is not here: git-annex stores a symlink into .git/annex/objects
    os.symlink("../.git/annex/objects/Xx/Yy/SHA256E-s10--abc.h5/SHA256E-s10--abc.h5", repo / "mearec" / "big.h5")
    git("init", "-q", cwd=repo)
    git("add", ".", cwd=repo)
    git("commit", "-q", "-m", "data", cwd=repo)
    return repo, payload


@needs_git
def test_git_fallback_clones_and_caches(tmp_path, origin, no_datalad):
    repo, payload = origin
    cache = tmp_path / "cache" / "ephy"
    path = download_dataset(repo=repo.as_uri(), remote_path="mearec/small.bin", local_folder=cache)
    assert path == cache / "mearec" / "small.bin"
    np.testing.assert_array_equal(np.fromfile(path, dtype="int16"), payload)
    # folders too
    folder = download_dataset(repo=str(repo), remote_path="/spikeglx/session", local_folder=cache)
    assert (folder / "a.meta").read_text() == "nSavedChans=2\n"
    # cached: a new commit upstream is not fetched unless update_if_exists
    (repo / "mearec" / "small.bin").write_bytes(b"\x07\x00" * 3)
    git("commit", "-q", "-am", "change", cwd=repo)
    again = download_dataset(repo=repo.as_uri(), remote_path="mearec/small.bin", local_folder=cache)
    np.testing.assert_array_equal(np.fromfile(again, dtype="int16"), payload)
    updated = download_dataset(repo=repo.as_uri(), remote_path="mearec/small.bin", local_folder=cache,
                               update_if_exists=True)
    np.testing.assert_array_equal(np.fromfile(updated, dtype="int16"), [7, 7, 7])


@needs_git
def test_annexed_file_without_git_annex_names_what_is_missing(tmp_path, origin, no_datalad, monkeypatch):
    repo, _ = origin
    real_which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name: None if name == "git-annex" else real_which(name))
    with pytest.raises(ImportError, match=r"git-annex.*datalad"):
        download_dataset(repo=str(repo), remote_path="mearec/big.h5", local_folder=tmp_path / "c")


@needs_git
def test_missing_remote_path_and_unreachable_repo(tmp_path, origin, no_datalad):
    repo, _ = origin
    with pytest.raises(FileNotFoundError, match="remote_path='nope.h5' is not in the repository"):
        download_dataset(repo=str(repo), remote_path="nope.h5", local_folder=tmp_path / "c1")
    with pytest.raises(RuntimeError, match=r"cloning .* failed.*datalad is not installed"):
        download_dataset(repo=str(tmp_path / "no_such_repo"), remote_path="x", local_folder=tmp_path / "c2")


def test_without_datalad_and_git_names_both(tmp_path, no_datalad, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(ImportError, match=r"needs datalad .*pip install datalad.* git command"):
        download_dataset(remote_path="mearec/mearec_test_10s.h5", local_folder=tmp_path / "c")


def test_uses_datalad_when_installed(tmp_path, monkeypatch):
    calls = []

    class FakeDataset:
        def __init__(self, path):
            self.path = path

        def get(self, remote_path):
            calls.append(("get", remote_path))
            target = tmp_path / "dl" / remote_path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("content")

    class FakeApi:
        @staticmethod
        def install(path, source):
            calls.append(("install", path, source))
            return FakeDataset(path)

    monkeypatch.setattr(datasets, "_import_datalad", lambda: FakeApi)
    path = download_dataset(remote_path="mearec/mearec_test_10s.h5", local_folder=tmp_path / "dl")
    assert path.read_text() == "content"
    assert calls == [("install", str(tmp_path / "dl"), datasets.DEFAULT_REPO),
                     ("get", "mearec/mearec_test_10s.h5")]
    # second call: cached, datalad not called again
    assert download_dataset(remote_path="mearec/mearec_test_10s.h5", local_folder=tmp_path / "dl") == path
    assert len(calls) == 2


def test_default_cache_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("GPUSPIKE_DATASET_FOLDER", str(tmp_path / "x"))
    assert datasets.get_global_dataset_folder() == tmp_path / "x"
    monkeypatch.delenv("GPUSPIKE_DATASET_FOLDER")
    assert datasets.get_global_dataset_folder().name == "spikeinterface_datasets"
    assert gpuspike.download_dataset is download_dataset
