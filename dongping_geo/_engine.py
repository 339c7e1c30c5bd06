"""Which engine an analysis runs on: ``engine="auto" | "memory" | "dask"``.

Pure decisions, importing nothing heavy; :mod:`dongping_geo._dispatch` is the door to
the dask engine once :func:`use_dask` says yes.
"""

from __future__ import annotations

import os
import sys
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
