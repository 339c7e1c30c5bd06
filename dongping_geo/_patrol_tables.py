"""Per-river tables of the patrol analysis, shared by the in-memory and dask engines.

Private kernel module of :mod:`dongping_geo.patrol`: :mod:`dongping_geo.scale` builds the
same coverage table from merged dask partials with :func:`coverage_table`.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from ._patrol_tracks import LOCAL_TZ

RIVER_INFO = ("river_id", "name", "level", "region", "chief")


def to_time(seconds: np.ndarray) -> pd.Series:
    return pd.Series(pd.to_datetime(seconds * 1e9, utc=True)).dt.tz_convert(LOCAL_TZ)


def river_info(rivers: gpd.GeoDataFrame) -> pd.DataFrame:
    cols = [c for c in RIVER_INFO if c in rivers.columns]
    info = pd.DataFrame(rivers[cols]).reset_index(drop=True)
    for c in ("name", "level", "chief"):
        if c not in info.columns:
            info[c] = None
    return info[["river_id", "name", "level"] + (["region"] if "region" in cols else []) + ["chief"]]


def coverage_table(
    rivers: gpd.GeoDataFrame,
    *,
    interval_river: np.ndarray,
    interval_m: np.ndarray,
    river_len: np.ndarray,
    rp_river: np.ndarray,
    rp_covered: np.ndarray,
    rp_last_s: np.ndarray,
    min_share: float,
) -> pd.DataFrame:
    """Build the river_coverage table from merged intervals (shared with the dask engine).

    ``interval_*``: disjoint covered intervals (river row, length); ``rp_*``: per
    (river row, patrol) covered length and last time on the river, in seconds.
    """
    out = river_info(rivers)
    n = len(out)
    covered = np.bincount(interval_river, weights=interval_m, minlength=n)
    out["length_m"] = river_len
    out["covered_m"] = np.minimum(covered, river_len)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["coverage"] = np.where(river_len > 0, out["covered_m"] / river_len, 0.0)
    share = rp_covered / np.where(river_len[rp_river] > 0, river_len[rp_river], np.inf)
    ok = share >= min_share - 1e-12
    out["patrols_covering"] = np.bincount(rp_river[ok], minlength=n).astype(int)
    last = np.full(n, np.nan)
    if ok.any():
        np.fmax.at(last, rp_river[ok], rp_last_s[ok])
    out["last_patrolled"] = to_time(last)
    return out
