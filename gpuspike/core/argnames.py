"""Keyword names of both SpikeInterface generations.

SpikeInterface renamed some arguments between the specification's generation (0.100) and 0.105
(``recording`` became ``time_series``, ``parent_recording`` became ``recording``, ...). A function
keeps one of the names in its signature and takes the other too, with :func:`accepts_aliases`.
"""
from __future__ import annotations

import functools
from typing import Callable


def accepts_aliases(**aliases: str) -> Callable:
    """Decorate a function (or an ``__init__``) to take other keyword names of its arguments.

    Parameters
    ----------
    **aliases : str
        ``alias="parameter_name"`` pairs: ``alias=value`` is passed as ``parameter_name=value``.

    Returns
    -------
    callable
        The decorator. The decorated function keeps its signature; its ``__aliases__`` maps each
        alias to its parameter.

    Raises
    ------
    TypeError
        (from the decorated function) an argument given under both names.
    """
    def decorate(func: Callable) -> Callable:
        name = func.__qualname__.replace(".__init__", "")

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            for alias, parameter in aliases.items():
                if alias in kwargs:
                    if parameter in kwargs:
                        raise TypeError(f"{name}: give {parameter}= or its other name {alias}=, not both")
                    kwargs[parameter] = kwargs.pop(alias)
            return func(*args, **kwargs)

        wrapper.__aliases__ = {**getattr(func, "__aliases__", {}), **aliases}
        return wrapper

    return decorate
