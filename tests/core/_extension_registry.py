"""Tests that register analyzer extensions leave the (global) registry as they found it."""
import contextlib
import copy

from gpuspike.core import analyzer_extension


@contextlib.contextmanager
def restored_extension_registry():
    """Within the block, extensions may be registered; afterwards the registry is as before."""
    tables = (analyzer_extension._registered, analyzer_extension._children)
    saved = copy.deepcopy(tables)
    try:
        yield
    finally:
        for table, before in zip(tables, saved):
            table.clear()
            table.update(before)
