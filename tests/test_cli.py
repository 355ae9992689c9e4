"""`gpuspike demo` (the README's first command) and `gpuspike extract-waveforms`, on small data."""
import re

import numpy as np
import pytest

import gpuspike as gs
from gpuspike.cli import main


def _summary(text: str, key: str) -> str:
    match = re.search(rf"^{re.escape(key)}\s*:\s*(.+)$", text, flags=re.MULTILINE)
    assert match, f"no {key!r} line in:\n{text}"
    return match.group(1)


@pytest.mark.parametrize("no_save", [False, True])
def test_demo_recovers_ground_truth_and_writes_a_loadable_folder(tmp_path, capsys, no_save):
    out = tmp_path / "demo"
    argv = ["demo", "--duration", "3", "--num-units", "6", "--output", str(out), "--no-progress", "--no-plot",
            "--n-jobs", "1", "--backend", "numpy"] + (["--no-save"] if no_save else [])
    assert main(argv) == 0
    text = capsys.readouterr().out
    units, spikes = (int(x) for x in _summary(text, "units / spikes").split(" / "))
    correlation = float(re.search(r"mean correlation ([0-9.]+)", text).group(1))
    assert units == 6 and correlation > 0.9
    assert (out / "recording").is_dir() != no_save
    we = gs.load_waveforms(out / "waveforms")
    assert we.is_sparse() and we.has_recording()
    assert sum(we.sorting.get_total_num_spikes().values()) == spikes
    # the saved templates are the mean of the saved waveforms (recomputed here with NumPy)
    for unit_index, unit_id in enumerate(we.unit_ids):
        wfs = np.asarray(we.get_waveforms(unit_id), dtype="float64")
        assert wfs.shape[0] > 0
        expected = wfs.mean(axis=0)
        got = we.get_template(unit_id, mode="average")  # sparse: the unit's channels
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-4)
        # and the waveforms are the traces at the sampled spikes on the unit's channels
        spike_index, segment = we.get_sampled_indices(unit_id)[0]
        frame = int(we.sorting.get_unit_spike_train(unit_id, segment_index=int(segment))[spike_index])
        channels = np.flatnonzero(we.sparsity.mask[unit_index])
        traces = we.recording.get_traces(start_frame=frame - we.nbefore, end_frame=frame + we.nafter,
                                         return_scaled=True)
        np.testing.assert_array_equal(np.asarray(we.get_waveforms(unit_id))[0], traces[:, channels])


def test_demo_rejects_bad_backend(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--backend", "tpu", "--output", str(tmp_path)])
    assert "backend" in capsys.readouterr().err
