"""The one door from the in-memory analyses up to the dask engine.

Analyses take ``engine="auto" | "memory" | "dask"``; :func:`dongping_geo._engine.use_dask`
decides, and when it says yes the analysis calls :func:`scale`, which imports
:mod:`dongping_geo.scale` lazily. This is the only import from the analysis layer up to
``scale`` (declared in the import-linter contracts of ``pyproject.toml``), so
``import dongping_geo`` never loads dask and ``scale`` may import the analysis kernels
without a cycle.
"""

from __future__ import annotations

from types import ModuleType


def scale() -> ModuleType:
    """Import and return :mod:`dongping_geo.scale` (the dask engine), on first use.

    Returns
    -------
    module
        ``dongping_geo.scale``.
    """
    from . import scale as module  # the sanctioned upward import (see the module docstring)

    return module
