"""Sphinx configuration of the gpuspike documentation (``pip install ".[docs]"``, then
``sphinx-build -W -b html docs docs/_build/html``).

The API reference is generated at every build from ``gpuspike.__all__`` and
``gpuspike.full.__all__`` (``docs/api/index.rst``, git-ignored), so a new public name appears
without editing the docs; its pages come from the numpydoc docstrings.
"""
from __future__ import annotations

import inspect
import os
import sys
from pathlib import Path

os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")  # importing never needs a GPU; this only keeps it so
DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))

import gpuspike  # noqa: E402
import gpuspike.full  # noqa: E402
from gpuspike.core import node_pipeline  # noqa: E402

project = "gpuspike"
author = "the gpuspike developers"
copyright = "the gpuspike developers, MIT license"
release = version = gpuspike.__version__

extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.autosummary", "numpydoc"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "api/generated/*.md"]
root_doc = "index"
myst_heading_anchors = 3
autosummary_generate = True
autodoc_typehints = "none"  # numpydoc's Parameters sections say the types
numpydoc_show_class_members = False
numpydoc_validation_checks: set = set()
html_theme = "furo"
html_title = f"gpuspike {release}"
html_static_path: list = []
templates_path = ["_templates"]


def _documented(obj) -> bool:
    """Classes and functions get a page; modules and data (the spike dtypes) are listed in the text."""
    return inspect.isclass(obj) or callable(obj)


def _section(title: str, module: str, names: list[str]) -> str:
    lines = [title, "-" * len(title), "", f".. currentmodule:: {module}", "", ".. autosummary::",
             "   :toctree: generated", "   :nosignatures:", ""]
    lines += [f"   {name}" for name in names]
    return "\n".join(lines) + "\n\n"


def write_api_index() -> None:
    """Write docs/api/index.rst: one autosummary table per part of the public API."""
    core = [n for n in gpuspike.__all__ if _documented(getattr(gpuspike, n))]
    full_only = [n for n in gpuspike.full.__all__
                 if n not in set(gpuspike.__all__) and _documented(getattr(gpuspike.full, n))]
    data = [n for n in gpuspike.__all__ if not _documented(getattr(gpuspike, n))
            and not inspect.ismodule(getattr(gpuspike, n))]
    text = ("API reference\n=============\n\n"
            "Generated from the docstrings. ``import gpuspike as gs`` gives the core (the first table); "
            "``import gpuspike.full as gs`` gives everything (both tables). The submodules "
            "``gs.recording_tools`` and ``gs.template_tools`` are importable as in SpikeInterface.\n\n")
    for name in data:
        text += f"- ``gs.{name}``: the NumPy dtype ``{getattr(gpuspike, name)!r}``\n"
    text += "\n"
    text += _section("Core: import gpuspike", "gpuspike", core)
    text += _section("Readers, widgets and backends: import gpuspike.full", "gpuspike.full", full_only)
    pipeline = [n for n in node_pipeline.__all__ if _documented(getattr(node_pipeline, n))]
    text += _section("Node pipeline: gpuspike.core.node_pipeline", "gpuspike.core.node_pipeline", pipeline)
    text += _section("Per-spike extensions: gpuspike.core.analyzer_extension_core",
                     "gpuspike.core.analyzer_extension_core", ["BaseSpikeVectorExtension"])
    path = DOCS / "api" / "index.rst"
    path.parent.mkdir(exist_ok=True)
    if not path.is_file() or path.read_text() != text:
        path.write_text(text)
    # pages of names that moved or went away since the last build would be orphans (a warning)
    expected = ({f"gpuspike.{n}.rst" for n in core} | {f"gpuspike.full.{n}.rst" for n in full_only}
                | {f"gpuspike.core.node_pipeline.{n}.rst" for n in pipeline}
                | {"gpuspike.core.analyzer_extension_core.BaseSpikeVectorExtension.rst"})
    generated = DOCS / "api" / "generated"
    if generated.is_dir():
        for page in generated.glob("*.rst"):
            if page.name not in expected:
                page.unlink()


write_api_index()


def write_not_in_gpuspike() -> None:
    """Write docs/_generated/not_in_gpuspike.md (included by porting.md) from the names table."""
    from gpuspike._spikeinterface_names import (NOT_IN_GPUSPIKE, NOT_IN_GPUSPIKE_METHODS, NOT_IN_GPUSPIKE_SIGNATURES,
                                                NOT_IN_GPUSPIKE_SUBMODULES, POSITIONAL_ORDER_DIFFERENCES)

    def submodule_name(key: str) -> str:
        return "spikeinterface." + (key if key.startswith("core.") else "core." + key)

    rows = ["| name | why it is not in gpuspike |", "|---|---|"]
    for table, describe in ((NOT_IN_GPUSPIKE, lambda k: f"`{k}`"), (NOT_IN_GPUSPIKE_METHODS, lambda k: f"`{k}`"),
                            (NOT_IN_GPUSPIKE_SUBMODULES, lambda k: f"`{submodule_name(k)}`"),
                            (NOT_IN_GPUSPIKE_SIGNATURES, lambda k: f"arguments of `{submodule_name(k)}`"),
                            (POSITIONAL_ORDER_DIFFERENCES, lambda k: f"positional order of `{k}`")):
        for name, reason in sorted(table.items()):
            rows.append(f"| {describe(name)} | {reason.replace('|', '/')} |")
    path = DOCS / "_generated" / "not_in_gpuspike.md"
    path.parent.mkdir(exist_ok=True)
    text = "\n".join(rows) + "\n"
    if not path.is_file() or path.read_text() != text:
        path.write_text(text)


write_not_in_gpuspike()
