"""Progress bars of jobs: named after the public call and its stage, in bytes per second, nested.

Library calls show no bar unless asked (``progress_bar=True``, as in SpikeInterface); the CLI
and the demo ask. A bar reads ``"<public call>: <stage>"``, e.g. ``"extract_waveforms: gather"``,
and counts the bytes of traces the job covers (tqdm then shows MB/s), or spikes where a job
reads only spike windows. A public call that runs several jobs opens a :func:`progress_call`:
one bar counting its stages, under which each job's bar appears and then disappears, instead of
a new bar stacked below the last one for every internal job.
"""
from __future__ import annotations

import contextlib
import contextvars
from typing import Iterator

#: bars open in this context, outermost first (their positions on screen)
_open_bars: contextvars.ContextVar[tuple] = contextvars.ContextVar("gpuspike_open_bars", default=())


def bar_label(job_name: str, stage: str = "") -> str:
    """The text of a bar: ``"job_name: stage"``, or the one that is given.

    Parameters
    ----------
    job_name : str
        The public call (``"extract_waveforms"``), or the job's own name.
    stage : str
        The stage of that call a user recognises (``"sparsity estimate"``, ``"gather"``).

    Returns
    -------
    str
    """
    job_name = job_name or "chunks"
    return f"{job_name}: {stage}" if stage else job_name


class _NoBar:
    """Stands in for a bar when progress is off: every call does nothing."""

    def update(self, n: int = 1) -> None:
        pass

    def set_postfix_str(self, s: str = "") -> None:
        pass

    def close(self) -> None:
        pass


@contextlib.contextmanager
def progress_bar(enabled: bool, job_name: str, stage: str = "", total: int | None = None,
                 unit: str = "B") -> Iterator:
    """A tqdm bar for one job, nested under the bars already open in this context.

    Parameters
    ----------
    enabled : bool
        False gives a bar that does nothing (the library default).
    job_name, stage : str
        Label, see :func:`bar_label`.
    total : int, optional
        Total of the bar, in ``unit``.
    unit : str
        ``"B"`` (bytes, shown as kB/MB/GB per second), ``"spikes"``, ``"chunks"``, ...

    Yields
    ------
    tqdm.tqdm or object
        The bar (``update(n)``, ``close()``).
    """
    if not enabled:
        yield _NoBar()
        return
    from tqdm.auto import tqdm

    parents = _open_bars.get()
    nested = bool(parents)
    counts_stages = unit == "stage"
    bar = tqdm(total=total, desc=bar_label(job_name, stage), unit=unit, unit_scale=unit == "B",
               unit_divisor=1000, position=len(parents), leave=not nested, dynamic_ncols=True,
               bar_format="{desc}: stage {n}/{total} [{elapsed}]{postfix}" if counts_stages else None)
    token = _open_bars.set(parents + (bar,))
    try:
        yield bar
    finally:
        _open_bars.reset(token)
        bar.close()


class _Call:
    """The outer bar of a public call: one step per finished stage."""

    def __init__(self, bar, name: str) -> None:
        self._bar = bar
        self.name = name

    @contextlib.contextmanager
    def stage(self, stage: str) -> Iterator[str]:
        """Show ``stage`` on the outer bar while it runs; count it done after."""
        self._bar.set_postfix_str(stage)
        yield stage
        self._bar.update(1)


@contextlib.contextmanager
def progress_call(enabled: bool, name: str, num_stages: int) -> Iterator[_Call]:
    """Group the jobs of one public call under one bar that counts its stages.

    Parameters
    ----------
    enabled : bool
        False: nothing is shown.
    name : str
        The public call, e.g. ``"extract_waveforms"``.
    num_stages : int
        Stages the call will run (the bar's total).

    Yields
    ------
    object
        With ``stage(name)``, a context manager around each stage.
    """
    with progress_bar(enabled, name, total=num_stages, unit="stage") as bar:
        yield _Call(bar, name)
