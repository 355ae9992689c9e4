"""Every public function (``gpuspike.__all__`` and ``gpuspike.full.__all__``) has a numpydoc
docstring with a Parameters section naming each parameter and a Returns (or Yields) section."""
from __future__ import annotations

import inspect
import re

import pytest

import gpuspike
import gpuspike.full


def _sections(doc: str) -> dict[str, list[str]]:
    """numpydoc sections: {title: lines}, titles underlined with dashes."""
    lines = inspect.cleandoc(doc).splitlines()
    sections: dict[str, list[str]] = {"": []}
    current = ""
    i = 0
    while i < len(lines):
        if i + 1 < len(lines) and lines[i].strip() and re.fullmatch(r"-{3,}", lines[i + 1].strip()):
            current = lines[i].strip()
            sections[current] = []
            i += 2
            continue
        sections[current].append(lines[i])
        i += 1
    return sections


def documented_parameters(doc: str) -> set[str]:
    """Names in the Parameters section ("a, b : int" documents a and b; "**kwargs" documents kwargs)."""
    names: set[str] = set()
    for line in _sections(doc).get("Parameters", []):
        if not line or line[0].isspace():
            continue
        head = line.split(" : ")[0].rstrip(":").strip()
        for name in head.split(","):
            names.add(name.strip().lstrip("*"))
    return names


def _public_functions() -> list[tuple[str, object]]:
    out = {}
    for module in (gpuspike, gpuspike.full):
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isfunction(obj):
                out[name] = obj
    return sorted(out.items())


FUNCTIONS = _public_functions()


def test_there_are_public_functions():
    names = [n for n, _ in FUNCTIONS]
    assert "extract_waveforms" in names and "read_spikeglx" in names and "plot_traces" in names


@pytest.mark.parametrize("name, func", FUNCTIONS, ids=[n for n, _ in FUNCTIONS])
def test_docstring_has_parameters_and_returns(name, func):
    doc = inspect.getdoc(func)
    assert doc, f"{name} has no docstring"
    sections = _sections(doc)
    params = [p for p in inspect.signature(func).parameters.values() if not p.name.startswith("_")]
    if params:
        assert "Parameters" in sections, f"{name}: no Parameters section"
        missing = {p.name for p in params} - documented_parameters(doc)
        assert not missing, f"{name}: parameters not documented: {sorted(missing)}"
    assert "Returns" in sections or "Yields" in sections, f"{name}: no Returns section"


def test_the_checker_finds_what_is_missing():
    def f(a, b, **job_kwargs):
        """Do.

        Parameters
        ----------
        a, b : int
        """
    assert documented_parameters(inspect.getdoc(f)) == {"a", "b"}
    assert "Returns" not in _sections(inspect.getdoc(f))


@pytest.mark.parametrize("name", sorted({n for m in (gpuspike, gpuspike.full) for n in m.__all__
                                         if inspect.isclass(getattr(m, n))}))
def test_public_classes_have_docstrings(name):
    cls = getattr(gpuspike.full, name)
    assert cls.__doc__ and cls.__doc__.strip(), f"{name} has no docstring"
