"""gpuspike.full has every public name of spikeinterface.core 0.105 that is in gpuspike's scope; the others
are listed, with a reason, in gpuspike._spikeinterface_names."""
import json
import textwrap

import pytest

import gpuspike.extractors as extractors
import gpuspike.full as full
from gpuspike._spikeinterface_names import COMPARED_CLASSES, NOT_IN_GPUSPIKE, NOT_IN_GPUSPIKE_METHODS

from _si_compare import run_si_script

LIST_NAMES = textwrap.dedent('''
    import json, types, warnings
    warnings.simplefilter("ignore")
    import spikeinterface.core as si
    names = sorted(n for n in dir(si) if not n.startswith("_") and not isinstance(getattr(si, n), types.ModuleType))
    print("NAMES" + json.dumps(names))
''')


LIST_METHODS = textwrap.dedent('''
    import json, sys, warnings
    warnings.simplefilter("ignore")
    import spikeinterface.core as si
    out = {}
    for name in sys.argv[1].split(","):
        cls = getattr(si, name, None)
        if cls is not None:
            out[name] = sorted(n for n in dir(cls) if not n.startswith("_"))
    print("METHODS" + json.dumps(out))
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
    for table in (NOT_IN_GPUSPIKE, NOT_IN_GPUSPIKE_METHODS):
        assert all(isinstance(reason, str) and len(reason) > 20 for reason in table.values())


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


@pytest.fixture(scope="module")
def si_methods():
    out = run_si_script(LIST_METHODS, ",".join(COMPARED_CLASSES))
    return json.loads(out.stdout.split("METHODS", 1)[1])


@pytest.mark.compare
def test_every_spikeinterface_method_exists_or_is_listed(si_methods):
    """Public methods and attributes of SpikeInterface's main classes exist on gpuspike's class of that name."""
    missing = []
    for class_name, names in si_methods.items():
        cls = getattr(full, class_name)
        missing += [f"{class_name}.{n}" for n in names
                    if not hasattr(cls, n) and f"{class_name}.{n}" not in NOT_IN_GPUSPIKE_METHODS]
    assert not missing, f"neither in gpuspike nor listed in NOT_IN_GPUSPIKE_METHODS: {missing}"


@pytest.mark.compare
def test_listed_methods_are_current(si_methods):
    stale = []
    for key in NOT_IN_GPUSPIKE_METHODS:
        class_name, name = key.split(".")
        if name not in si_methods.get(class_name, []) or hasattr(getattr(full, class_name), name):
            stale.append(key)
    assert not stale, f"remove these from gpuspike._spikeinterface_names.NOT_IN_GPUSPIKE_METHODS: {stale}"
