"""The one door from the in-memory analyses to the dask engine.

Analyses take ``engine="auto" | "memory" | "dask"``. :func:`use_dask` decides; when it
says yes, the analysis calls :func:`scale`, which imports :mod:`dongping_geo.scale`
lazily. This is the only import from the analysis layer up to ``scale`` (declared in
the import-linter contracts of ``pyproject.toml``), so ``import dongping_geo`` never
loads dask and ``scale`` may import the analysis kernels without a cycle.
"""

from __future__ import annotations

import os
import sys
from types import ModuleType
from typing import Any

from .errors import ConfigError

ENGINES = ("auto", "memory", "dask")


def is_dask(obj: Any) -> bool:
    """Whether ``obj`` is a dask DataFrame (including a dask-geopandas GeoDataFrame).

    Does not import dask: an object can only be a dask collection when dask is
    already loaded.

    Parameters
    ----------
    obj : Any
        Anything passed as a layer.

    Returns
    -------
    bool
        True for ``dask.dataframe.DataFrame`` and ``dask_geopandas.GeoDataFrame``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> is_dask(gpd.GeoDataFrame())
    False
    """
    dd = sys.modules.get("dask.dataframe")
    return dd is not None and isinstance(obj, dd.DataFrame)


def use_dask(data: Any, engine: str = "auto") -> bool:
    """Decide whether an analysis runs on dask (the ``engine=`` argument of the analyses).

    Parameters
    ----------
    data : Any
        The large input (fixes, features).
    engine : {"auto", "memory", "dask"}, default "auto"
        ``"auto"`` picks dask for a dask frame or a path to partitioned GeoParquet.

    Returns
    -------
    bool
        True to run on dask.

    Raises
    ------
    ConfigError
        If ``engine`` is not one of the three values.

    Examples
    --------
    >>> import geopandas as gpd
    >>> use_dask(gpd.GeoDataFrame()), use_dask("fixes_parquet/"), use_dask(None, "dask")
    (False, True, True)
    """
    if engine not in ENGINES:
        raise ConfigError("unknown engine", field="engine", expected="auto, memory or dask",
                          found=repr(engine), fix="pass engine='memory' or engine='dask'")
    if engine == "auto":
        return is_dask(data) or isinstance(data, str | os.PathLike)
    return engine == "dask"


def scale() -> ModuleType:
    """Import and return :mod:`dongping_geo.scale` (the dask engine), on first use.

    Returns
    -------
    module
        ``dongping_geo.scale``.
    """
    from . import scale as module  # the sanctioned upward import (see the module docstring)

    return module
