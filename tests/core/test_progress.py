"""Progress bars: off in library calls by default, named after the public call and its stage,
counting bytes, nested under the call's own bar."""
import numpy as np
import pytest

import gpuspike as gs
from gpuspike.core.job import resolve_job_kwargs, run_chunks
from gpuspike.core.progress import bar_label, progress_bar, progress_call


@pytest.fixture(scope="module")
def small():
    return gs.generate_ground_truth_recording(durations=[2.0], num_channels=8, num_units=3, seed=2)


def test_library_calls_show_no_bar_by_default(small, capsys):
    recording, sorting = small
    assert resolve_job_kwargs().progress_bar is False  # as SpikeInterface's default job kwargs
    gs.extract_waveforms(recording, sorting, mode="memory", sparse=True, method="best_channels", num_channels=2)
    gs.compute_templates(recording, sorting)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_bars_name_the_public_call_and_stage_and_count_bytes(small, capsys):
    recording, sorting = small
    gs.extract_waveforms(recording, sorting, mode="memory", sparse=True, method="best_channels", num_channels=2,
                         progress_bar=True, backend="numpy")
    err = capsys.readouterr().err
    assert "extract_waveforms: sparsity estimate" in err and "extract_waveforms: gather" in err
    assert "accumulate_templates" not in err  # no internal names
    assert "B/s" in err  # bytes per second, not chunks
    gs.compute_templates(recording, sorting, progress_bar=True, backend="numpy")
    err = capsys.readouterr().err
    assert "compute_templates" in err and "extract_waveforms" not in err
    # the bar's total: the bytes of traces the job reads; few spikes cover little of this recording, so
    # only their windows (1 ms before, 2 ms after each interior spike) are read, each frame once
    fs = recording.sampling_frequency
    nbefore, nafter = int(fs / 1000), int(2 * fs / 1000)
    needed = np.zeros(recording.get_num_samples(), dtype=bool)
    for p in sorting.to_spike_vector()["sample_index"]:
        if nbefore <= p <= needed.size - nafter:
            needed[p - nbefore:p + nafter] = True
    assert needed.mean() < 0.5
    total_bytes = int(needed.sum()) * recording.get_num_channels() * recording.get_dtype().itemsize
    from tqdm import tqdm

    assert f"/{tqdm.format_sizeof(total_bytes, divisor=1000)} " in err, err  # tqdm's rounding of the total


def _chunk_len(segment_index, start_frame, end_frame, ctx):
    return end_frame - start_frame


def test_executor_bar_total_is_the_bytes_of_its_chunks(small, monkeypatch):
    recording, _ = small
    seen = {}

    import tqdm.auto

    class Recorder(tqdm.auto.tqdm):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs, disable=True)
            seen.setdefault("bars", []).append(kwargs)
            self.counted = 0
            seen.setdefault("objects", []).append(self)

        def update(self, n=1):
            self.counted += n

    monkeypatch.setattr(tqdm.auto, "tqdm", Recorder)
    chunks = [(0, 0, 1000), (0, 1000, 1500)]
    run_chunks(recording, _chunk_len, None, (), {"progress_bar": True, "n_jobs": 2}, job_name="save",
               stage="write binary", chunks=chunks)
    (kwargs,), (bar,) = seen["bars"], seen["objects"]
    bytes_per_frame = recording.get_num_channels() * np.dtype(recording.get_dtype()).itemsize
    assert kwargs["desc"] == "save: write binary" and kwargs["unit"] == "B"
    assert kwargs["total"] == 1500 * bytes_per_frame and bar.counted == 1500 * bytes_per_frame


def test_stage_bars_nest_under_the_call_bar():
    assert bar_label("extract_waveforms", "gather") == "extract_waveforms: gather"
    assert bar_label("compute_templates") == "compute_templates"
    with progress_call(True, "extract_waveforms", 2) as call:
        with call.stage("gather"):
            with progress_bar(True, "extract_waveforms", "gather", total=10) as inner:
                assert abs(inner.pos) == 1 and inner.leave is False  # below the call's bar, removed when done
                with progress_bar(True, "x", "deeper", total=1) as deepest:
                    assert abs(deepest.pos) == 2
    with progress_bar(True, "compute_templates", total=10) as alone:
        assert abs(alone.pos) == 0 and alone.leave is True


def test_disabled_bar_does_nothing(capsys):
    with progress_call(False, "extract_waveforms", 2) as call:
        with call.stage("gather"):
            with progress_bar(False, "extract_waveforms", "gather", total=10) as bar:
                bar.update(5)
    assert capsys.readouterr().err == ""
