"""Nothing the user saved is lost: what overwrite=True may replace, concurrent saves, killed saves, symlinks."""
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import gpuspike as gs
from gpuspike.core.errors import ConcurrentSaveError, FolderExistsError, RefusedOverwriteError
from gpuspike.core.loading import load

NOBAR = dict(progress_bar=False)


def _small(seed=0, channels=2):
    return gs.generate_recording(num_channels=channels, durations=[0.05], sampling_frequency=10000.0, seed=seed)


def _listing(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------------- 1. only what gpuspike wrote
@pytest.fixture
def workdir(tmp_path, monkeypatch):
    cwd = tmp_path / "home" / "work"
    cwd.mkdir(parents=True)
    (cwd / "precious.txt").write_text("my notes")
    (tmp_path / "home" / "thesis.tex").write_text("chapter 1")
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return cwd


@pytest.mark.parametrize("folder", ["", ".", "..", "./", "../work"])
def test_overwrite_refuses_working_directory_and_parents(workdir, folder):
    before = _listing(workdir.parent)
    with pytest.raises((RefusedOverwriteError, ValueError), match="working directory|home folder"):
        _small().save(folder=folder, overwrite=True, **NOBAR)
    assert _listing(workdir.parent) == before
    assert not [p for p in workdir.parent.rglob(".*")]  # no temporary folder, no lock file


def test_overwrite_refuses_home_and_root_even_with_saved_metadata(workdir, tmp_path):
    home = tmp_path / "home"
    (home / "si_folder.json").write_text("{}")  # looks saved: still the home folder
    before = _listing(home)
    os.chdir(tmp_path)
    with pytest.raises(RefusedOverwriteError, match="home folder"):
        _small().save(folder=home, overwrite=True, **NOBAR)
    assert _listing(home) == before
    with pytest.raises(RefusedOverwriteError, match="file-system root|working directory|home"):
        _small().save(folder="/", overwrite=True, **NOBAR)


def test_overwrite_refuses_folders_and_files_gpuspike_did_not_write(tmp_path):
    rec = _small()
    mine = tmp_path / "data"
    mine.mkdir()
    (mine / "raw.bin").write_bytes(b"\x01" * 100)
    for save in (lambda f: rec.save(folder=f, overwrite=True, **NOBAR),
                 lambda f: gs.generate_sorting(num_units=2, durations=[0.5]).save(folder=f, overwrite=True),
                 lambda f: gs.extract_waveforms(rec, gs.generate_sorting(num_units=2, durations=[0.05],
                                                                         sampling_frequency=10000.0),
                                                folder=f, overwrite=True, **NOBAR)):
        with pytest.raises(RefusedOverwriteError, match="not written by gpuspike.*raw.bin"):
            save(mine)
        assert (mine / "raw.bin").read_bytes() == b"\x01" * 100
    # a zarr target is <name>.zarr: the same rule there
    zmine = tmp_path / "z.zarr"
    zmine.mkdir()
    (zmine / "keep").write_text("x")
    with pytest.raises(RefusedOverwriteError):
        rec.save(folder=tmp_path / "z", format="zarr", overwrite=True, **NOBAR)
    assert (zmine / "keep").read_text() == "x"
    # a file at the target path
    f = tmp_path / "notes"
    f.write_text("do not delete")
    with pytest.raises(RefusedOverwriteError, match="is a file"):
        rec.save(folder=f, overwrite=True, **NOBAR)
    assert f.read_text() == "do not delete"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "notes", "z.zarr"]


def test_overwrite_replaces_folders_gpuspike_and_spikeinterface_wrote(tmp_path):
    for fmt in ("binary", "zarr"):
        _small(seed=1).save(folder=tmp_path / fmt, format=fmt, **NOBAR)
        new = _small(seed=2, channels=3)
        saved = new.save(folder=tmp_path / fmt, format=fmt, overwrite=True, **NOBAR)
        np.testing.assert_array_equal(saved.get_traces(), new.get_traces())
    sorting = gs.generate_sorting(num_units=3, durations=[0.5], seed=1)
    sorting.save(folder=tmp_path / "s")
    sorting.save(folder=tmp_path / "s", format="numpy_folder", overwrite=True)
    assert load(tmp_path / "s").get_num_units() == 3


def test_extract_waveforms_refuses_before_any_work(tmp_path, monkeypatch):
    rec = _small()
    sorting = gs.generate_sorting(num_units=2, durations=[0.05], sampling_frequency=10000.0)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "keep.txt").write_text("x")
    import gpuspike.core.waveforms as waveforms

    def must_not_run(*args, **kwargs):
        raise AssertionError("waveforms were gathered before the folder was checked")

    monkeypatch.setattr(waveforms, "_gather_waveforms", must_not_run)
    with pytest.raises(RefusedOverwriteError, match="working directory"):
        gs.extract_waveforms(rec, sorting, folder=".", overwrite=True, **NOBAR)
    assert (tmp_path / "keep.txt").read_text() == "x"


# ---------------------------------------------------------------------- 2. concurrent writers
_RACER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import gpuspike as gs
    from gpuspike.engine.save import SaveBinaryJob
    target, seed, overwrite, ready, go = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4], sys.argv[5]
    chunk = SaveBinaryJob.process
    def slow(*args):
        time.sleep(0.05)
        return chunk(*args)
    SaveBinaryJob.process = slow
    rec = gs.generate_recording(num_channels=3, durations=[0.4], sampling_frequency=10000.0, seed=seed)
    Path(ready).write_text("ready")
    while not Path(go).exists():
        time.sleep(0.005)
    try:
        rec.save(folder=target, overwrite=overwrite, chunk_size=500, progress_bar=False)
    except Exception as exc:
        print("ERROR", type(exc).__name__, exc)
        sys.exit(3)
    print("OK")
""")


def _race(tmp_path: Path, target: Path, overwrite: bool, n: int = 3):
    go = tmp_path / "go"
    procs = []
    for seed in range(n):
        ready = tmp_path / f"ready{seed}"
        procs.append((seed, ready, subprocess.Popen(
            [sys.executable, "-c", _RACER, str(target), str(10 + seed), "1" if overwrite else "0", str(ready),
             str(go)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)))
    deadline = time.time() + 120
    while not all(ready.exists() for _, ready, _ in procs):
        assert time.time() < deadline, "racers never got ready"
        time.sleep(0.02)
    go.write_text("go")
    outcomes = {}
    for seed, _, proc in procs:
        out, _ = proc.communicate(timeout=180)
        outcomes[10 + seed] = (proc.returncode, out.strip().splitlines()[-1] if out.strip() else "")
    return outcomes


def _check_one_winner(tmp_path, target, outcomes, loser_errors):
    winners = [seed for seed, (rc, _) in outcomes.items() if rc == 0]
    assert len(winners) == 1, outcomes
    for seed, (rc, line) in outcomes.items():
        if seed != winners[0]:
            assert rc == 3 and any(f"ERROR {e}" in line for e in loser_errors), outcomes
            assert "another writer while this save ran" in line or "already exists" in line
    expected = gs.generate_recording(num_channels=3, durations=[0.4], sampling_frequency=10000.0, seed=winners[0])
    np.testing.assert_array_equal(load(target).get_traces(), expected.get_traces())
    leftovers = [p.name for p in target.parent.iterdir() if p.name.startswith(f".{target.name}.")]
    assert leftovers == [], leftovers


def test_concurrent_saves_to_a_new_folder_one_wins(tmp_path):
    target = tmp_path / "shared"
    outcomes = _race(tmp_path, target, overwrite=False)
    _check_one_winner(tmp_path, target, outcomes, ("FolderExistsError", "ConcurrentSaveError"))


def test_concurrent_overwrites_one_wins_the_other_leaves_nothing(tmp_path):
    target = tmp_path / "shared"
    _small().save(folder=target, **NOBAR)
    outcomes = _race(tmp_path, target, overwrite=True)
    _check_one_winner(tmp_path, target, outcomes, ("ConcurrentSaveError",))


def test_a_folder_created_during_the_save_is_never_replaced(tmp_path, monkeypatch):
    from gpuspike.engine.save import SaveBinaryJob

    target = tmp_path / "r"
    chunk = SaveBinaryJob.process
    sneaking = []

    def sneak(*args):  # another writer (say SpikeInterface, which takes no lock) finishes first
        if not target.exists() and not sneaking:
            sneaking.append(1)
            _small(seed=5).save(folder=tmp_path / "other", **NOBAR)
            os.rename(tmp_path / "other", target)
            sneaking.clear()
        return chunk(*args)

    monkeypatch.setattr(SaveBinaryJob, "process", sneak)
    for overwrite in (False, True):
        with pytest.raises(FolderExistsError, match="another writer while this save ran"):
            _small(seed=6, channels=4).save(folder=target, overwrite=overwrite, **NOBAR)
        assert load(target).get_num_channels() == 2
        assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]
        import shutil

        shutil.rmtree(target)
    assert issubclass(ConcurrentSaveError, FolderExistsError)


# ---------------------------------------------------------------------- 3. killed saves
_KILLED_BETWEEN_RENAMES = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    import gpuspike as gs
    target = Path(sys.argv[1])
    def killer(real):
        def rename(src, dst, *args, **kwargs):
            result = real(src, dst, *args, **kwargs)
            if Path(src).name == target.name and ".old-" in Path(dst).name:
                os.kill(os.getpid(), signal.SIGKILL)  # dies between the two renames of the overwrite
            return result
        return rename
    os.rename, os.replace = killer(os.rename), killer(os.replace)
    gs.generate_recording(num_channels=5, durations=[0.1], seed=2).save(folder=target, overwrite=True,
                                                                         progress_bar=False)
""")


def _kill_between_renames(target: Path) -> None:
    proc = subprocess.run([sys.executable, "-c", _KILLED_BETWEEN_RENAMES, str(target)], timeout=120)
    assert proc.returncode == -9, proc.returncode
    assert not target.exists()
    assert [p for p in target.parent.iterdir() if ".old-" in p.name], "the overwrite never moved the old copy"


def test_overwrite_killed_between_renames_is_recovered_by_load(tmp_path):
    target = tmp_path / "rec"
    previous = _small(seed=1, channels=3)
    previous.save(folder=target, **NOBAR)
    _kill_between_renames(target)
    with pytest.warns(RuntimeWarning, match="killed between its two renames.*renamed back"):
        recovered = load(target)
    np.testing.assert_array_equal(recovered.get_traces(), previous.get_traces())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rec"]  # the interrupted save's partial is removed


def test_overwrite_killed_between_renames_is_recovered_by_the_next_save(tmp_path):
    target = tmp_path / "rec"
    previous = _small(seed=1, channels=3)
    previous.save(folder=target, **NOBAR)
    _kill_between_renames(target)
    with pytest.warns(RuntimeWarning, match="renamed back"), pytest.raises(FolderExistsError):
        _small(seed=3).save(folder=target, **NOBAR)  # overwrite=False: the recovered folder is not replaced
    np.testing.assert_array_equal(load(target).get_traces(), previous.get_traces())
    _kill_between_renames(target)
    new = _small(seed=4)
    with pytest.warns(RuntimeWarning, match="renamed back"):
        new.save(folder=target, overwrite=True, **NOBAR)
    np.testing.assert_array_equal(load(target).get_traces(), new.get_traces())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rec"]


def test_waveforms_folder_recovered_after_killed_overwrite(tmp_path):
    rec = _small(seed=1, channels=3)
    sorting = gs.generate_sorting(num_units=2, durations=[0.05], sampling_frequency=10000.0, seed=1)
    target = tmp_path / "wf"
    we = gs.extract_waveforms(rec, sorting, folder=target, **NOBAR)
    from gpuspike.core.leftovers import HOST_TAG

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    old = tmp_path / f".wf.old-{HOST_TAG}-{dead.pid}-{'a' * 8}"  # the old copy of an overwrite whose writer died
    os.rename(target, old)
    with pytest.warns(RuntimeWarning, match="renamed back"):
        again = gs.load_waveforms(target)
    np.testing.assert_array_equal(again.get_all_templates(), we.get_all_templates())


_SLOW_SAVE = textwrap.dedent("""
    import sys, time
    import gpuspike as gs
    from gpuspike.engine.save import SaveBinaryJob
    chunk = SaveBinaryJob.process
    def slow(*args):
        time.sleep(0.02)
        return chunk(*args)
    SaveBinaryJob.process = slow
    rec = gs.generate_recording(num_channels=16, durations=[20.0], sampling_frequency=10000.0, seed=1)
    rec.save(folder=sys.argv[1], overwrite=True, chunk_size=500, progress_bar=False)
""")


def test_killed_partial_listed_by_info_and_removed_by_next_save(tmp_path):
    from gpuspike.info import describe

    target = tmp_path / "rec"
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_SAVE, str(target)])
    try:
        deadline = time.time() + 60
        partial = None
        while time.time() < deadline and partial is None:
            found = [p for p in tmp_path.iterdir() if p.name.startswith(".rec.partial-")]
            if found and (found[0] / "traces_cached_seg0.raw").exists():
                partial = found[0]
            time.sleep(0.01)
        assert partial is not None
        alive = describe(target)
        assert partial.name in alive and f"process {proc.pid}) is running" in alive
        proc.kill()
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    text = describe(target)
    assert partial.name in text and f"process {proc.pid}) is gone" in text and "does not exist" in text
    assert partial.name in describe(tmp_path)  # listed inside a folder too
    _small().save(folder=target, **NOBAR)
    assert not partial.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rec"]
    assert "temporary folders" not in describe(target)


# ---------------------------------------------------------------------- 4. symbolic links
def test_overwrite_through_a_symlink_replaces_its_target(tmp_path):
    disk = tmp_path / "other_disk"
    disk.mkdir()
    _small(seed=1).save(folder=disk / "rec", **NOBAR)
    link = tmp_path / "rec_link"
    link.symlink_to(disk / "rec", target_is_directory=True)
    new = _small(seed=2, channels=4)
    saved = new.save(folder=link, overwrite=True, **NOBAR)
    assert link.is_symlink() and os.readlink(link) == str(disk / "rec")
    np.testing.assert_array_equal(load(disk / "rec").get_traces(), new.get_traces())
    np.testing.assert_array_equal(saved.get_traces(), new.get_traces())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other_disk", "rec_link"]
    assert sorted(p.name for p in disk.iterdir()) == ["rec"]
    # a link to a folder gpuspike did not write: refused, through the link
    (disk / "mine").mkdir()
    (disk / "mine" / "a.txt").write_text("x")
    (tmp_path / "mine_link").symlink_to(disk / "mine", target_is_directory=True)
    with pytest.raises(RefusedOverwriteError):
        new.save(folder=tmp_path / "mine_link", overwrite=True, **NOBAR)
    assert (disk / "mine" / "a.txt").read_text() == "x"
