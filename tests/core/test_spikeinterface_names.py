"""gpuspike.full has every public name of spikeinterface.core 0.105 that is in gpuspike's scope; the others
are listed, with a reason, in gpuspike._spikeinterface_names."""
import importlib
import inspect
import json
import textwrap

import pytest

import gpuspike.extractors as extractors
import gpuspike.full as full
from gpuspike._spikeinterface_names import (COMPARED_CLASSES, NOT_IN_GPUSPIKE, NOT_IN_GPUSPIKE_METHODS,
                                            NOT_IN_GPUSPIKE_SIGNATURES, NOT_IN_GPUSPIKE_SUBMODULES,
                                            POSITIONAL_ORDER_DIFFERENCES)

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
    for table in (NOT_IN_GPUSPIKE, NOT_IN_GPUSPIKE_METHODS, NOT_IN_GPUSPIKE_SUBMODULES, NOT_IN_GPUSPIKE_SIGNATURES,
                  POSITIONAL_ORDER_DIFFERENCES):
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


#: SpikeInterface's own names of its core modules (names imported from other packages left out) and the
#: argument names of each callable (None where it has no signature)
LIST_SUBMODULE_NAMES = textwrap.dedent(r"""
    import importlib, inspect, json, pkgutil, types, warnings
    warnings.simplefilter("ignore")
    import spikeinterface.core as core

    def argument_names(obj):
        try:
            parameters = inspect.signature(obj).parameters.values()
        except (TypeError, ValueError):
            return None
        return [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]

    def own_names(module):
        out = {}
        for name, obj in vars(module).items():
            if name.startswith("_") or isinstance(obj, types.ModuleType) or name == "TYPE_CHECKING":
                continue
            owner = getattr(obj, "__module__", None) if callable(obj) else None
            if owner is not None and not owner.startswith("spikeinterface"):
                continue
            if "typing" in (type(obj).__module__, getattr(obj, "__module__", None)):
                continue
            out[name] = argument_names(obj) if callable(obj) else None
        return out

    modules = {"core": {n: argument_names(getattr(core, n)) if callable(getattr(core, n)) else None
                        for n in dir(core) if not n.startswith("_") and not isinstance(getattr(core, n), types.ModuleType)}}
    for info in pkgutil.iter_modules(core.__path__):
        if info.name.startswith("test") and info.name not in ("testing", "testing_tools"):
            continue
        try:
            modules[info.name] = own_names(importlib.import_module("spikeinterface.core." + info.name))
        except Exception:
            continue
    print("SUBMODULES" + json.dumps(modules))
""")


@pytest.fixture(scope="module")
def si_submodule_names():
    out = run_si_script(LIST_SUBMODULE_NAMES)
    return json.loads(out.stdout.split("SUBMODULES", 1)[1])


def _gpuspike_module(name: str):
    return importlib.import_module("gpuspike.core" if name == "core" else f"gpuspike.core.{name}")


def _has(module, name: str) -> bool:
    try:
        getattr(module, name)
    except AttributeError:
        return False
    return True


@pytest.mark.compare
def test_every_spikeinterface_submodule_name_imports_from_gpuspike_or_is_listed(si_submodule_names):
    """``from spikeinterface.core.<module> import <name>`` works as ``from gpuspike.core.<module> import <name>``."""
    missing = []
    for module_name, names in si_submodule_names.items():
        if module_name == "core" or module_name in NOT_IN_GPUSPIKE_SUBMODULES:
            continue
        try:
            module = _gpuspike_module(module_name)
        except ModuleNotFoundError:
            missing.append(module_name)
            continue
        missing += [f"{module_name}.{n}" for n in names
                    if not _has(module, n) and f"{module_name}.{n}" not in NOT_IN_GPUSPIKE_SUBMODULES]
    assert not missing, f"neither in gpuspike nor listed in NOT_IN_GPUSPIKE_SUBMODULES: {missing}"


@pytest.mark.compare
def test_listed_submodule_names_are_current(si_submodule_names):
    stale = []
    for key in NOT_IN_GPUSPIKE_SUBMODULES:
        module_name, _, name = key.partition(".")
        if module_name not in si_submodule_names or (name and name not in si_submodule_names[module_name]):
            stale.append(key)
        elif not name:
            try:
                _gpuspike_module(module_name)
                stale.append(key)
            except ModuleNotFoundError:
                pass
        elif _has(_gpuspike_module(module_name), name):
            stale.append(key)
    assert not stale, f"remove these from gpuspike._spikeinterface_names.NOT_IN_GPUSPIKE_SUBMODULES: {stale}"


def _accepted_names(obj) -> set[str] | None:
    """Keyword names ``obj`` takes: its signature's and the aliases of :func:`accepts_aliases`."""
    try:
        parameters = inspect.signature(obj).parameters.values()
    except (TypeError, ValueError):
        return None
    target = obj.__init__ if isinstance(obj, type) else obj
    return ({p.name for p in parameters if p.kind is not p.VAR_POSITIONAL and p.kind is not p.VAR_KEYWORD}
            | set(getattr(target, "__aliases__", {})))


def _signature_gaps(si_submodule_names) -> dict[str, list[str]]:
    gaps = {}
    for module_name, names in si_submodule_names.items():
        if module_name in NOT_IN_GPUSPIKE_SUBMODULES:
            continue
        try:
            module = _gpuspike_module(module_name)
        except ModuleNotFoundError:
            continue
        for name, si_arguments in names.items():
            if si_arguments is None or not _has(module, name):
                continue
            accepted = _accepted_names(getattr(module, name))
            if accepted is None:
                continue
            lacking = [a for a in si_arguments if a not in accepted]
            if lacking:
                gaps[f"{module_name}.{name}"] = lacking
    return gaps


@pytest.mark.compare
def test_every_spikeinterface_argument_name_is_taken_or_listed(si_submodule_names):
    """A SpikeInterface 0.105 call with keyword arguments runs unchanged: gpuspike's function or class of
    that name takes every argument name (in its signature or as an alias of the other generation)."""
    gaps = {k: v for k, v in _signature_gaps(si_submodule_names).items() if k not in NOT_IN_GPUSPIKE_SIGNATURES}
    assert not gaps, f"argument names gpuspike does not take (add them or list them in NOT_IN_GPUSPIKE_SIGNATURES): {gaps}"


@pytest.mark.compare
def test_listed_signatures_are_current(si_submodule_names):
    gaps = _signature_gaps(si_submodule_names)
    stale = [key for key in NOT_IN_GPUSPIKE_SIGNATURES if key not in gaps]
    assert not stale, f"remove these from gpuspike._spikeinterface_names.NOT_IN_GPUSPIKE_SIGNATURES: {stale}"


LIST_METHOD_ARGUMENTS = textwrap.dedent('''
    import inspect, json, warnings
    warnings.simplefilter("ignore")
    import spikeinterface.core as si
    out = {}
    for class_name in dir(si):
        cls = getattr(si, class_name)
        if class_name.startswith("_") or not inspect.isclass(cls) or not cls.__module__.startswith("spikeinterface"):
            continue
        methods = {}
        for name in dir(cls):
            if name.startswith("_") and name != "__init__":
                continue
            method = inspect.getattr_static(cls, name, None)
            method = getattr(method, "__func__", method)
            if not callable(method) or isinstance(method, type):
                continue
            try:
                parameters = inspect.signature(method).parameters.values()
            except (TypeError, ValueError):
                continue
            methods[name] = [p.name for p in parameters if p.name not in ("self", "cls")
                             and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        out[class_name] = methods
    print("ARGUMENTS" + json.dumps(out))
''')


@pytest.mark.compare
def test_every_method_takes_spikeinterface_argument_names():
    """``recording.save(folder=..., overwrite=...)``, ``ChannelSparsity.from_dict(dictionary=...)``: the constructors
    and methods of every class of spikeinterface.core take its keyword names (or an alias of them)."""
    out = run_si_script(LIST_METHOD_ARGUMENTS)
    si_arguments = json.loads(out.stdout.split("ARGUMENTS", 1)[1])
    assert {"BaseRecording", "SortingAnalyzer", "ChannelSparsity"} <= set(si_arguments)
    gaps = {}
    for class_name, methods in si_arguments.items():
        cls = getattr(full, class_name, None)
        if not isinstance(cls, type):
            continue  # a missing class is reported by the test of names
        for name, arguments in methods.items():
            if name == "__init__" and f"core.{class_name}" in NOT_IN_GPUSPIKE_SIGNATURES:
                continue
            method = inspect.getattr_static(cls, name, None)
            method = getattr(method, "__func__", method)
            if method is None or isinstance(method, property) or not callable(method):
                continue
            accepted = _accepted_names(method)
            lacking = [a for a in arguments if accepted is not None and a not in accepted]
            if lacking:
                gaps[f"{class_name}.{name}"] = lacking
    assert not gaps, f"argument names of SpikeInterface 0.105 that gpuspike's methods do not take: {gaps}"


LIST_POSITIONAL_ARGUMENTS = textwrap.dedent("""
    import inspect, json, types, warnings
    warnings.simplefilter("ignore")
    import spikeinterface.core as core

    def positional(obj):
        try:
            parameters = inspect.signature(obj).parameters.values()
        except (TypeError, ValueError):
            return None
        return [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                and p.name not in ("self", "cls")]

    out = {}
    for name in dir(core):
        obj = getattr(core, name)
        if name.startswith("_") or isinstance(obj, types.ModuleType) or not callable(obj):
            continue
        if not getattr(obj, "__module__", "").startswith("spikeinterface"):
            continue
        out[name] = positional(obj)
        if inspect.isclass(obj):
            for method_name in dir(obj):
                method = inspect.getattr_static(obj, method_name, None)
                method = getattr(method, "__func__", method)
                if not method_name.startswith("_") and callable(method) and not isinstance(method, type):
                    out[name + "." + method_name] = positional(method)
    print("POSITIONAL" + json.dumps(out))
""")
#: argument names that differ between the generations but mean the same at the same position
SAME_MEANING = {("return_in_uV", "return_scaled"), ("remove_channel_ids", "channel_ids"),
                ("samples_list", "times_list")}


def _positional(obj) -> list[str] | None:
    try:
        parameters = inspect.signature(obj).parameters.values()
    except (TypeError, ValueError):
        return None
    return [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            and p.name not in ("self", "cls")]


def _out_of_order(si_names: list[str], obj) -> list[tuple]:
    """(position, SpikeInterface's name, gpuspike's name) where ``obj`` takes another argument at that position."""
    gs_names = _positional(obj)
    if gs_names is None:
        return []
    aliases = getattr(obj.__init__ if isinstance(obj, type) else obj, "__aliases__", {})
    return [(i, name, gs_names[i] if i < len(gs_names) else None) for i, name in enumerate(si_names)
            if i >= len(gs_names) or not (gs_names[i] == name or aliases.get(name) == gs_names[i]
                                          or (name, gs_names[i]) in SAME_MEANING)]


@pytest.mark.compare
def test_positional_arguments_are_in_spikeinterface_order():
    """A positional call of SpikeInterface 0.105 means the same in gpuspike: each of its positional arguments is at
    the same position in gpuspike's function or method (a differing order is listed, with the reason)."""
    out = run_si_script(LIST_POSITIONAL_ARGUMENTS)
    si_positions = json.loads(out.stdout.split("POSITIONAL", 1)[1])
    assert "read_binary" in si_positions and "BaseRecording.get_traces" in si_positions
    differences = {}
    for key, si_names in si_positions.items():
        if (si_names is None or key.rpartition(".")[2] in POSITIONAL_ORDER_DIFFERENCES
                or f"core.{key}" in NOT_IN_GPUSPIKE_SIGNATURES):
            continue
        class_name, _, method_name = key.partition(".")
        obj = getattr(full, class_name, None)
        if method_name:
            if not isinstance(obj, type):
                continue
            obj = inspect.getattr_static(obj, method_name, None)
            obj = getattr(obj, "__func__", obj)
        if obj is None or isinstance(obj, property) or not callable(obj):
            continue
        wrong = _out_of_order(si_names, obj)
        if wrong:
            differences[key] = wrong
    assert not differences, f"positional arguments out of SpikeInterface 0.105's order: {differences}"


def test_listed_positional_differences_name_real_callables():
    for name in POSITIONAL_ORDER_DIFFERENCES:
        assert name == "save" or callable(getattr(full, name, None)), name


LIST_SUBMODULE_POSITIONAL_ARGUMENTS = textwrap.dedent("""
    import importlib, inspect, json, pkgutil, warnings
    warnings.simplefilter("ignore")
    import spikeinterface.core as core

    out = {}
    for info in pkgutil.iter_modules(core.__path__):
        try:
            module = importlib.import_module("spikeinterface.core." + info.name)
        except Exception:
            continue
        for name, obj in vars(module).items():
            if name.startswith("_") or not callable(obj) or isinstance(obj, type) or obj.__module__ != module.__name__:
                continue
            try:
                parameters = inspect.signature(obj).parameters.values()
            except (TypeError, ValueError):
                continue
            out[info.name + "." + name] = [p.name for p in parameters
                                           if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    print("POSITIONAL" + json.dumps(out))
""")


@pytest.mark.compare
def test_positional_arguments_of_submodule_functions_are_in_spikeinterface_order():
    out = run_si_script(LIST_SUBMODULE_POSITIONAL_ARGUMENTS)
    si_positions = json.loads(out.stdout.split("POSITIONAL", 1)[1])
    assert "recording_tools.get_chunk_with_margin" in si_positions
    differences = {}
    for key, si_names in si_positions.items():
        module_name, _, name = key.partition(".")
        if name in POSITIONAL_ORDER_DIFFERENCES or module_name in NOT_IN_GPUSPIKE_SUBMODULES:
            continue
        try:
            obj = getattr(_gpuspike_module(module_name), name)
        except (ModuleNotFoundError, AttributeError):
            continue  # reported by the test of names
        wrong = _out_of_order(si_names, obj)
        if wrong:
            differences[key] = wrong
    assert not differences, f"positional arguments out of SpikeInterface 0.105's order: {differences}"
