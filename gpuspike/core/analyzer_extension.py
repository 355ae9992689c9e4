"""AnalyzerExtension: one computation kept by a SortingAnalyzer, and the registry of extensions.

An extension has a name, the extensions it depends on, parameters (``params``), results
(``data``: a dict of arrays and JSON documents) and ``run_info``. Its storage (memory, a binary
folder or a zarr folder) is the analyzer's store, chosen once when the analyzer was created or
opened; an extension only hands its params and data to it. Recomputing an extension deletes the
extensions that depend on it, as SpikeInterface does.
"""
from __future__ import annotations

import copy
import inspect
import time
import warnings
import weakref
from itertools import chain

import numpy as np

from .analyzer_dataframes import index_as_unit_ids, is_dataframe

#: SpikeInterface 0.105's extensions outside gpuspike's core, with the extensions they depend on:
#: gpuspike does not compute them, keeps them on disk untouched, and deletes them (as SpikeInterface
#: does) when an extension they depend on is recomputed, since their data would no longer match.
FOREIGN_EXTENSIONS = {
    "amplitude_scalings": ["templates"],
    "correlograms": [],
    "auto_correlograms": [],
    "acgs_3d": [],
    "isi_histograms": [],
    "principal_components": ["random_spikes", "waveforms"],
    "spike_amplitudes": ["templates"],
    "spike_locations": ["templates"],
    "template_similarity": ["templates"],
    "unit_locations": ["templates"],
    "valid_unit_periods": [],
    "quality_metrics": [],
    "template_metrics": ["templates"],
    "spiketrain_metrics": [],
}
#: what those extensions may use besides (SpikeInterface 0.105's optional dependencies with default
#: parameters): only to order them after it, never to delete them with it
FOREIGN_OPTIONAL_DEPENDENCIES = {
    "valid_unit_periods": ["amplitude_scalings"],
    "quality_metrics": ["templates", "noise_levels", "waveforms", "amplitude_scalings", "principal_components",
                        "spike_locations", "spike_amplitudes"],
}
#: those of them that store a ``metrics`` DataFrame (SpikeInterface's ``BaseMetricExtension``s), in
#: SpikeInterface's order: ``get_metrics_extension_data()`` reads their stored tables
FOREIGN_METRIC_EXTENSIONS = ("quality_metrics", "template_metrics", "spiketrain_metrics")


class AnalyzerDependencyError(ValueError, AssertionError):
    """An extension asked for before what it depends on, or registered twice under one name.

    A ``ValueError`` that is also an ``AssertionError``: SpikeInterface 0.105 asserts these, and
    code written for it catches ``AssertionError``.
    """


_registered: dict[str, type] = {}
_children: dict[str, list[str]] = {name: [] for name in FOREIGN_EXTENSIONS}


class AnalyzerExtension:
    """Base class of the SortingAnalyzer's extensions (SpikeInterface's ``AnalyzerExtension``).

    A subclass sets ``extension_name``, ``depend_on`` (names; ``"a|b"`` means either),
    ``need_recording``, ``need_job_kwargs`` and implements ``_set_params`` (returns the cleaned
    params), ``_run`` (fills ``self.data``), ``_get_data``, ``_select_units_extension_data`` (or
    ``_select_extension_data``), ``_merge_extension_data`` and ``_split_extension_data``.

    Parameters
    ----------
    sorting_analyzer : SortingAnalyzer
        The analyzer this extension belongs to (kept as a weak reference).
    """

    extension_name: str | None = None
    depend_on: list[str] = []
    need_recording = False
    use_nodepipeline = False
    nodepipeline_variables = None
    need_job_kwargs = False
    need_backward_compatibility_on_load = False

    def __init__(self, sorting_analyzer) -> None:
        self._sorting_analyzer = weakref.ref(sorting_analyzer)
        self.params: dict | None = None
        self.run_info: dict | None = self._default_run_info_dict()
        self.data: dict = {}

    def __repr__(self) -> str:
        state = "computed" if self.run_info and self.run_info.get("run_completed") else "not computed"
        return f"{type(self).__name__}: {self.extension_name} ({state}) - params: {self.params}"

    # ------------------------------------------------------------------ to implement
    def _set_params(self, **params) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must implement _set_params")

    def _run(self, verbose: bool = False, **job_kwargs) -> None:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must implement _run")

    def _get_data(self, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must implement _get_data")

    def _select_units_extension_data(self, unit_ids) -> dict:
        select = getattr(self, "_select_extension_data", None)  # the name of other SpikeInterface versions
        if select is None:
            raise NotImplementedError(f"{type(self).__name__} must implement _select_units_extension_data")
        return select(unit_ids)

    def _merge_extension_data(self, merge_unit_groups, new_unit_ids, new_sorting_analyzer, keep_mask=None,
                              verbose: bool = False, **job_kwargs) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must implement _merge_extension_data")

    def _select_channels_extension_data(self, channel_ids) -> dict:
        """The data for a subset of channels: unchanged unless the extension depends on channels."""
        return self._copied_data()

    def _copied_data(self) -> dict:
        return {k: (np.array(v) if isinstance(v, np.ndarray) else copy.deepcopy(v)) for k, v in self.data.items()}

    def _split_extension_data(self, split_units, new_unit_ids, new_sorting_analyzer, verbose: bool = False,
                              **job_kwargs) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must implement _split_extension_data to split units")

    def _handle_backward_compatibility_on_load(self) -> None:
        pass

    def _get_pipeline_nodes(self) -> list:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} (use_nodepipeline=True) must implement _get_pipeline_nodes")

    def get_pipeline_nodes(self) -> list:
        """The node-pipeline nodes computing this extension (``use_nodepipeline`` extensions).

        Returns
        -------
        list of PipelineNode
        """
        if not self.use_nodepipeline:
            raise ValueError(f"extension {self.extension_name!r} does not run a node pipeline "
                             f"(use_nodepipeline=False)")
        return self._get_pipeline_nodes()

    # ------------------------------------------------------------------ properties
    @staticmethod
    def _default_run_info_dict() -> dict:
        return {"run_completed": False, "runtime_s": None}

    @property
    def sorting_analyzer(self):
        """The analyzer (raises when it was garbage-collected)."""
        analyzer = self._sorting_analyzer()
        if analyzer is None:
            raise ValueError(f"the extension {self.extension_name!r} has lost its SortingAnalyzer (deleted)")
        return analyzer

    @property
    def format(self) -> str:
        return self.sorting_analyzer.format

    @property
    def sparsity(self):
        return self.sorting_analyzer.sparsity

    @property
    def folder(self):
        return self.sorting_analyzer.folder

    # ------------------------------------------------------------------ dependencies
    @classmethod
    def get_required_dependencies(cls, **params) -> list[str]:
        """Extensions that must be computed first (``"a|b"``: either).

        Returns
        -------
        list of str
        """
        return list(cls.depend_on)

    @classmethod
    def get_optional_dependencies(cls, **params) -> list[str]:
        """Extensions used when present.

        Returns
        -------
        list of str
        """
        return []

    @classmethod
    def get_any_dependencies(cls, **params) -> list[str]:
        """Every extension this one may depend on ("a|b" flattened).

        Returns
        -------
        list of str
        """
        deps = cls.get_required_dependencies(**params) + cls.get_optional_dependencies(**params)
        return list(chain.from_iterable(d.split("|") for d in deps))

    @classmethod
    def get_default_params(cls) -> dict:
        """The default parameters of the extension.

        Returns
        -------
        dict
        """
        return get_default_analyzer_extension_params(cls.extension_name)

    @classmethod
    def function_factory(cls):
        """A ``compute_<name>(sorting_analyzer, load_if_exists=None, **params)`` function for this extension."""
        extension_name = cls.extension_name

        def compute(sorting_analyzer, load_if_exists=None, *args, **kwargs):
            from .sortinganalyzer import SortingAnalyzer

            if not isinstance(sorting_analyzer, SortingAnalyzer):
                raise TypeError(f"compute_{extension_name}: expected a SortingAnalyzer, got "
                                f"{type(sorting_analyzer).__name__} (create one with create_sorting_analyzer)")
            if load_if_exists is not None:
                raise ValueError(f"compute_{extension_name}(load_if_exists={load_if_exists!r}): not supported "
                                 f"(as in SpikeInterface 0.105); use sorting_analyzer.get_extension("
                                 f"{extension_name!r})")
            ext = sorting_analyzer.compute(extension_name, *args, **kwargs)
            return ext.get_data()

        compute.__name__ = f"compute_{extension_name}"
        compute.__doc__ = (
            f"Compute the {extension_name!r} extension of a SortingAnalyzer and return its data.\n\n"
            f"Same as ``sorting_analyzer.compute({extension_name!r}, **kwargs).get_data()``; the parameters "
            f"are those of :class:`{cls.__name__}`.\n\n"
            "Parameters\n----------\nsorting_analyzer : SortingAnalyzer\n    The analyzer.\n"
            "load_if_exists : None\n    Not supported, as in SpikeInterface 0.105 (read a computed extension "
            "with ``get_extension``).\n*args, **kwargs\n    The extension's parameters and job kwargs.\n\n"
            "Returns\n-------\nobject\n    The extension's data (see :class:`" + cls.__name__ + "`).\n")
        return compute

    # ------------------------------------------------------------------ run / data
    def set_params(self, save: bool = True, **params) -> None:
        """Set (validated) parameters; the previous results are discarded.

        Parameters
        ----------
        save : bool
            Ignored until the run: the extension is stored once complete.
        **params
            The extension's parameters.
        """
        own = inspect.signature(self._set_params).parameters
        params = self._without_units_arguments(params, own)
        if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in own.values()):
            unknown = sorted(set(params) - set(own))
            if unknown:
                raise TypeError(f"{self.extension_name}: unknown parameters {unknown}; allowed: {sorted(own)}")
        self.params = self._set_params(**params)
        self.run_info = self._default_run_info_dict()
        self.data = {}

    def _without_units_arguments(self, params: dict, own) -> dict:
        """``params`` less SpikeInterface 0.101's ``return_scaled=`` / ``return_in_uV=`` of an
        extension that has no such parameter: the analyzer's ``return_in_uV`` (set at creation)
        decides the units, so a value that agrees is taken with a FutureWarning and one that
        differs is refused (``own``: the parameters of ``_set_params``)."""
        params = dict(params)
        for key in ("return_scaled", "return_in_uV"):
            if key not in params or key in own:
                continue
            value = params.pop(key)
            analyzer_value = self.sorting_analyzer.return_in_uV
            if bool(value) != analyzer_value:
                raise ValueError(f"{self.extension_name}: {key}={value!r} differs from the analyzer's "
                                 f"return_in_uV={analyzer_value}: the units are chosen when the analyzer is created "
                                 f"(create_sorting_analyzer(..., return_in_uV={bool(value)}))")
            warnings.warn(f"{self.extension_name}: {key}= is set by the analyzer (return_in_uV at creation), not by "
                          "the extension; the value given agrees with it and is ignored", FutureWarning, stacklevel=4)
        return params

    def run(self, save: bool = True, verbose: bool = False, **job_kwargs) -> None:
        """Compute the data, then store the extension (params, run info, data) in one atomic step.

        Parameters
        ----------
        save : bool
            Store it in the analyzer's folder (formats other than "memory"; not when read-only).
        verbose : bool
        **job_kwargs
            Job kwargs of extensions that read traces.
        """
        start = time.perf_counter()
        if self.need_job_kwargs:
            self._run(verbose=verbose, **job_kwargs)
        else:
            self._run(verbose=verbose)
        self._complete_run(time.perf_counter() - start, save)

    def _complete_run(self, runtime_s: float, save: bool) -> None:
        """Record the completed run and store the extension when asked (not when read-only)."""
        self.run_info = {"run_completed": True, "runtime_s": runtime_s}
        if save and not self.sorting_analyzer.is_read_only():
            self.save()

    def save(self) -> None:
        """Store params, run info and data in the analyzer's folder (nothing for the memory format)."""
        self.sorting_analyzer._store.write_extension(self.extension_name, self.params, _importing_provenance(self),
                                                     self.run_info, self.data)

    def get_data(self, *args, **kwargs):
        """The extension's result (see the subclass).

        Raises
        ------
        ValueError
            The extension was not computed.
        """
        if self.run_info is not None and not self.run_info.get("run_completed", False):
            raise ValueError(f"the extension {self.extension_name!r} was not run: compute it first with "
                             f"sorting_analyzer.compute({self.extension_name!r})")
        if not self.data:
            raise ValueError(f"the extension {self.extension_name!r} has no data: compute it again")
        return self._get_data(*args, **kwargs)

    def set_data(self, ext_data_name: str, ext_data) -> None:
        """Set one entry of ``data``.

        Parameters
        ----------
        ext_data_name : str
        ext_data : np.ndarray, dict or pandas.DataFrame
        """
        self.data[ext_data_name] = ext_data

    def delete(self) -> None:
        """Remove the extension from the folder and clear it."""
        self.sorting_analyzer._store.delete_extension(self.extension_name)
        self.params = None
        self.run_info = self._default_run_info_dict()
        self.data = {}

    def reset(self) -> None:
        """Clear params and data (and the stored copy)."""
        self.delete()

    # ------------------------------------------------------------------ load / copy
    @classmethod
    def load(cls, sorting_analyzer, lazy: bool = False):
        """The extension as stored in the analyzer's folder, or None when incomplete.

        Parameters
        ----------
        sorting_analyzer : SortingAnalyzer
        lazy : bool
            Keep arrays memory-mapped (binary folder) instead of reading them.

        Returns
        -------
        AnalyzerExtension or None
        """
        stored = sorting_analyzer._store.read_extension(cls.extension_name, lazy=lazy)
        if stored is None:
            return None
        ext = cls(sorting_analyzer)
        ext.params = stored.params
        ext.run_info = stored.run_info
        ext._set_stored_data(stored.data)
        if ext.run_info is None:
            warnings.warn(f"extension {cls.extension_name!r} has no run_info (an older folder): it is loaded as "
                          f"complete if it has data")
        elif not ext.run_info.get("run_completed", False):
            return None
        if cls.need_backward_compatibility_on_load:
            ext._handle_backward_compatibility_on_load()
        if not ext.data:
            return None
        problem = ext._problem_with_loaded_data()
        if problem:
            from .errors import CorruptFolderError

            raise CorruptFolderError(f"extension {cls.extension_name!r} of {str(sorting_analyzer.folder)!r}: "
                                     f"{problem}; the folder is damaged: open it with load_sorting_analyzer(folder, "
                                     f"load_extensions=False) and compute the extension again "
                                     f"(analyzer.compute({cls.extension_name!r}))")
        return ext

    def _set_stored_data(self, data: dict) -> None:
        self.data = {}
        for key, value in data.items():
            if is_dataframe(value):
                value = index_as_unit_ids(value, self.sorting_analyzer.unit_ids)
            self.set_data(key, value)

    def _stored(self, lazy: bool = True):
        stored = self.sorting_analyzer._store.read_extension(self.extension_name, lazy=lazy)
        if stored is None:
            where = "an analyzer in memory" if self.format == "memory" else repr(str(self.folder))
            raise ValueError(f"the extension {self.extension_name!r} is not stored in {where}: compute it with "
                             f"sorting_analyzer.compute({self.extension_name!r})")
        return stored

    def load_params(self) -> None:
        """Read the stored parameters into ``params``.

        Raises
        ------
        ValueError
            The extension is not stored (or the analyzer is in memory).
        """
        self.params = self._stored().params

    def load_run_info(self) -> None:
        """Read the stored run info into ``run_info`` (None, with a warning, for folders without one).

        Raises
        ------
        ValueError
            The extension is not stored (or the analyzer is in memory).
        """
        self.run_info = self._stored().run_info
        if self.run_info is None:
            warnings.warn(f"extension {self.extension_name!r} has no run info: it should be computed again")

    def load_data(self, lazy: bool = False) -> None:
        """Read the stored data into ``data``.

        Parameters
        ----------
        lazy : bool
            Keep arrays memory-mapped (binary folder) or as zarr arrays (zarr folder).

        Raises
        ------
        ValueError
            The extension is not stored (or the analyzer is in memory).
        """
        self._set_stored_data(self._stored(lazy=lazy).data)

    def _problem_with_loaded_data(self) -> str | None:
        """What contradicts the analyzer in data read from a folder (shapes, index ranges), or None.
        Extensions whose data have a known shape say so."""
        return None

    def copy(self, new_sorting_analyzer, unit_ids=None, channel_ids=None):
        """This extension for ``new_sorting_analyzer`` (a copy, or its units ``unit_ids``, or its
        channels ``channel_ids``), stored there.

        Returns
        -------
        AnalyzerExtension
        """
        new = type(self)(new_sorting_analyzer)
        new.params = copy.deepcopy(self.params)
        if unit_ids is not None:
            new.data = self._select_units_extension_data(unit_ids)
        elif channel_ids is not None:
            new.data = self._select_channels_extension_data(channel_ids)
        else:
            new.data = self._copied_data()
        new.run_info = copy.deepcopy(self.run_info)
        new.save()
        return new

    def split(self, new_sorting_analyzer, split_units, new_unit_ids, verbose: bool = False, **job_kwargs):
        """This extension for the analyzer whose units were split (stored there).

        Returns
        -------
        AnalyzerExtension
        """
        new = type(self)(new_sorting_analyzer)
        new.params = copy.deepcopy(self.params)
        new.data = self._split_extension_data(split_units, new_unit_ids, new_sorting_analyzer, verbose=verbose,
                                              **job_kwargs)
        new.run_info = copy.deepcopy(self.run_info)
        new.save()
        return new

    def merge(self, new_sorting_analyzer, merge_unit_groups, new_unit_ids, keep_mask=None, verbose: bool = False,
              **job_kwargs):
        """This extension for the analyzer whose units were merged (stored there).

        Returns
        -------
        AnalyzerExtension
        """
        new = type(self)(new_sorting_analyzer)
        new.params = copy.deepcopy(self.params)
        new.data = self._merge_extension_data(merge_unit_groups, new_unit_ids, new_sorting_analyzer, keep_mask,
                                              verbose=verbose, **job_kwargs)
        new.run_info = copy.deepcopy(self.run_info)
        new.save()
        return new


def _importing_provenance(ext: AnalyzerExtension) -> dict:
    """``info.json``: the class that wrote the extension. SpikeInterface's own class name is used for
    the core extensions (it reads only their data), with gpuspike named as the writer."""
    from .. import __version__

    si_class = getattr(ext, "_spikeinterface_class", None)
    return {"class": si_class or f"{type(ext).__module__}.{type(ext).__name__}", "module": "spikeinterface",
            "version": "0.105.3", "writer": f"gpuspike {__version__}"}


# ---------------------------------------------------------------------- registry
def register_result_extension(extension_class: type) -> None:
    """Register an extension class (its name becomes computable; its parents learn it as a child).

    Parameters
    ----------
    extension_class : type
        A subclass of :class:`AnalyzerExtension` with a unique ``extension_name``.

    Returns
    -------
    None
    """
    if not (isinstance(extension_class, type) and issubclass(extension_class, AnalyzerExtension)):
        raise TypeError(f"register_result_extension: expected an AnalyzerExtension subclass, got {extension_class!r}")
    name = extension_class.extension_name
    if not name:
        raise ValueError(f"{extension_class.__name__}.extension_name is not set")
    if name in _registered:
        if _registered[name] is extension_class:
            return
        raise AnalyzerDependencyError(f"an extension named {name!r} is already registered "
                                      f"({_registered[name].__name__})")
    _registered[name] = extension_class
    _children.setdefault(name, [])
    link_dependencies(name, extension_class.get_required_dependencies())


def link_dependencies(extension_name: str, dependencies) -> None:
    """Record ``extension_name`` as a child of each of ``dependencies`` ("a|b": of both): an extension
    whose dependencies depend on its params (``get_required_dependencies(**params)``) is then deleted
    when one of those it was computed with is recomputed, as SpikeInterface does.

    Parameters
    ----------
    extension_name : str
    dependencies : sequence of str
    """
    for dependency in dependencies:
        for one in dependency.split("|"):
            kids = _children.setdefault(one, [])
            if extension_name not in kids:
                kids.append(extension_name)


for _child, _parents in FOREIGN_EXTENSIONS.items():
    for _parent in _parents:
        _children.setdefault(_parent, []).append(_child)


def get_extension_class(extension_name: str, auto_import: bool = True) -> type:
    """The class of a computable extension.

    Parameters
    ----------
    extension_name : str
    auto_import : bool
        Kept for SpikeInterface's signature (gpuspike's extensions are registered on import).

    Returns
    -------
    type

    Raises
    ------
    ValueError
        The name is not an extension gpuspike computes (naming those it does).
    """
    if extension_name in _registered:
        return _registered[extension_name]
    if extension_name in FOREIGN_EXTENSIONS:
        raise ValueError(f"extension {extension_name!r} belongs to SpikeInterface's postprocessing / metrics "
                         f"modules, outside gpuspike's core; gpuspike computes {sorted(_registered)}. An analyzer "
                         f"folder holding it keeps it on disk untouched.")
    raise ValueError(f"extension {extension_name!r} is unknown; gpuspike computes {sorted(_registered)}")


def is_foreign_extension(extension_name: str) -> bool:
    """True for an extension gpuspike does not compute: SpikeInterface's others, or one not registered.

    Parameters
    ----------
    extension_name : str

    Returns
    -------
    bool
    """
    return extension_name in FOREIGN_EXTENSIONS or extension_name not in _registered


def get_available_analyzer_extensions() -> list[str]:
    """Names of the extensions gpuspike computes.

    Returns
    -------
    list of str
    """
    return list(_registered)


def get_default_analyzer_extension_params(extension_name: str) -> dict:
    """Default parameters of an extension (from its ``_set_params`` signature).

    Parameters
    ----------
    extension_name : str

    Returns
    -------
    dict
    """
    cls = get_extension_class(extension_name)
    signature = inspect.signature(cls._set_params)
    return {k: v.default for k, v in signature.parameters.items()
            if k != "self" and v.default is not inspect.Parameter.empty}


def children_of(extension_name: str) -> list[str]:
    """Every extension depending (directly or not) on ``extension_name``, parents before children.

    Returns
    -------
    list of str
    """
    out: list[str] = []
    for child in _children.get(extension_name, []):
        if child not in out:
            out.append(child)
        for grand in children_of(child):
            if grand not in out:
                out.append(grand)
    return out


def sort_extensions_by_dependency(extensions: dict) -> dict:
    """``{name: params}`` reordered so that every extension comes after those it depends on, or may use
    (SpikeInterface's extensions outside gpuspike's core included, by :data:`FOREIGN_EXTENSIONS` and
    :data:`FOREIGN_OPTIONAL_DEPENDENCIES`).

    Returns
    -------
    dict
    """
    names = list(extensions)
    ordered: list[str] = []

    def visit(name: str, stack: tuple) -> None:
        if name in ordered:
            return
        if name in stack:
            raise ValueError(f"extensions depend on each other in a cycle: {' -> '.join(stack + (name,))}")
        params = extensions.get(name, {})
        if name in FOREIGN_EXTENSIONS and name not in _registered:  # SpikeInterface's, known by its parents
            dependencies = FOREIGN_EXTENSIONS[name] + FOREIGN_OPTIONAL_DEPENDENCIES.get(name, [])
        else:
            dependencies = get_extension_class(name).get_any_dependencies(**params)
        for dep in dependencies:
            if dep in names:
                visit(dep, stack + (name,))
        ordered.append(name)

    for name in names:
        visit(name, ())
    return {name: extensions[name] for name in ordered}


__all__ = ["AnalyzerExtension", "AnalyzerDependencyError", "FOREIGN_EXTENSIONS", "register_result_extension",
           "get_extension_class", "get_available_analyzer_extensions", "get_default_analyzer_extension_params",
           "children_of", "link_dependencies", "sort_extensions_by_dependency", "is_foreign_extension",
           "FOREIGN_METRIC_EXTENSIONS"]
