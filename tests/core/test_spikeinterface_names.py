"""gpuspike.full has every public name of spikeinterface.core 0.105 that is in gpuspike's scope; the others
are listed, with a reason, in gpuspike._spikeinterface_names."""
import json
import textwrap

import pytest

import gpuspike.extractors as extractors
import gpuspike.full as full
from gpuspike._spikeinterface_names import NOT_IN_GPUSPIKE

from _si_compare import run_si_script

LIST_NAMES = textwrap.dedent('''
    import json, types, warnings
    warnings.simplefilter("ignore")
    import spikeinterface.core as si
    names = sorted(n for n in dir(si) if not n.startswith("_") and not isinstance(getattr(si, n), types.ModuleType))
    print("NAMES" + json.dumps(names))
''')


@pytest.fixture(scope="module")
def si_core_names():
    out = run_si_script(LIST_NAMES)
    return json.loads(out.stdout.split("NAMES", 1)[1])


@pytest.mark.compare
def test_every_spikeinterface_core_name_is_in_gpuspike_full_or_listed(si_core_names):
    missing = [n for n in si_core_names if not hasattr(full, n) and n not in NOT_IN_GPUSPIKE]
    assert not missing, f"spikeinterface.core names neither in gpuspike.full nor listed with a reason: {missing}"


@pytest.mark.compare
def test_listed_names_are_current(si_core_names):
    """A listed name is still a spikeinterface.core name and still missing from gpuspike.full."""
    stale = [n for n in NOT_IN_GPUSPIKE if n not in si_core_names or hasattr(full, n)]
    assert not stale, f"remove these from gpuspike._spikeinterface_names: {stale}"


def test_reasons_are_given():
    assert all(isinstance(reason, str) and len(reason) > 20 for reason in NOT_IN_GPUSPIKE.values())


def test_extractors_offer_spikeinterface_spellings():
    for name in ("NumpyRecording", "NumpySorting", "toy_example", "BinaryRecordingExtractor", "BinaryFolderRecording",
                 "MEArecRecordingExtractor", "MEArecSortingExtractor", "SpikeGLXRecordingExtractor",
                 "OpenEphysBinaryRecordingExtractor", "KiloSortSortingExtractor", "PhySortingExtractor",
                 "NpzSortingExtractor", "ZarrRecordingExtractor", "ZarrSortingExtractor", "read_binary",
                 "read_mearec", "read_spikeglx", "read_openephys", "read_kilosort", "read_phy", "read_zarr",
                 "read_npz_sorting"):
        assert hasattr(extractors, name), name
        assert name in extractors.__all__, name
    assert extractors.MEArecRecordingExtractor is extractors.MEArecRecording
