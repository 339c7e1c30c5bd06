"""Turning GPS fixes into track segments: patrol keys, time gaps, speed jumps."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .errors import CRSError, GeometryError, SchemaError
from .schemas import LOCAL_TZ as _LOCAL_TZ

LOCAL_TZ = _LOCAL_TZ  # one home: schemas.LOCAL_TZ

#: Fixes further apart in time are not joined (chosen default: a phone app logging
#: every 5–60 s that stays silent for 5 minutes has lost the track).
DEFAULT_MAX_GAP_S = 300.0
#: Faster apparent movement is a GPS jump (chosen default: above e-bike and rural
#: car speed on embankment roads, far below the km-per-second of a jump).
DEFAULT_MAX_SPEED_KMH = 60.0
# A run of at most this many fixes cut off by speed jumps is treated as a GPS jump.
MAX_JUMP_FIXES = 5


def check_layer(
    gdf: Any, *, layer: str, required: tuple[str, ...], to_crs: Any = None
) -> gpd.GeoDataFrame:
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise SchemaError(
            f"{layer} must be a GeoDataFrame",
            layer=layer,
            expected="geopandas.GeoDataFrame",
            found=type(gdf).__name__,
            fix=f"load it with dongping_geo.loaders.load_{layer}()",
        )
    missing = [c for c in required if c not in gdf.columns]
    if missing:
        raise SchemaError(
            "missing field",
            layer=layer,
            field=", ".join(missing),
            expected=", ".join(required),
            found=", ".join(map(str, gdf.columns)),
            fix="rename the field or load the layer with dongping_geo.loaders",
        )
    if gdf.crs is None:
        raise CRSError(
            "layer has no CRS",
            layer=layer,
            expected="a projected CRS in metres (EPSG:4549)",
            found="crs=None",
            fix="set it with .set_crs(...) or load the layer with dongping_geo.loaders",
        )
    if to_crs is not None and gdf.crs != to_crs:
        gdf = gdf.to_crs(to_crs)
    if not gdf.crs.is_projected:
        raise CRSError(
            "distances need a projected CRS in metres",
            layer=layer,
            expected="a projected CRS in metres (EPSG:4549)",
            found=gdf.crs.to_string(),
            fix="reproject with dongping_geo.crs.to_work_crs(layer)",
        )
    return gdf


def check_rivers(rivers: Any) -> gpd.GeoDataFrame:
    rivers = check_layer(rivers, layer="rivers", required=("river_id",))
    types = shapely.get_type_id(rivers.geometry.values)
    bad = ~np.isin(types, (1, 5))  # LineString, MultiLineString
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise GeometryError(
            "river geometry must be a line",
            layer="rivers",
            feature_id=rivers["river_id"].iloc[i],
            expected="LineString or MultiLineString",
            found=str(rivers.geometry.iloc[i].geom_type if rivers.geometry.iloc[i] is not None else None),
            fix="fix or drop the feature",
        )
    dup = rivers["river_id"].duplicated()
    if dup.any():
        raise SchemaError(
            "duplicate river_id",
            layer="rivers",
            feature_id=rivers["river_id"][dup].iloc[0],
            field="river_id",
            expected="unique ids",
            found="the id twice",
            fix="give every river its own river_id",
        )
    return rivers


def check_fixes(fixes: Any, rivers_crs: Any = None) -> gpd.GeoDataFrame:
    fixes = check_layer(fixes, layer="patrols", required=("timestamp",), to_crs=rivers_crs)
    types = shapely.get_type_id(fixes.geometry.values)
    bad = (types != 0) & (types != -1)  # Point, or missing (dropped later)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise GeometryError(
            "patrol fixes must be points",
            layer="patrols",
            feature_id=fixes["patrol_id"].iloc[i] if "patrol_id" in fixes else fixes.index[i],
            expected="Point fixes",
            found=fixes.geometry.iloc[i].geom_type,
            fix="explode LineString tracks into their vertices with timestamps",
        )
    return fixes


def to_local_time(values: Any, *, what: str) -> pd.Series | pd.Timestamp:
    """Timestamps as tz-aware Asia/Shanghai (naive values are taken as local time)."""
    try:
        ts = pd.to_datetime(values)
    except (ValueError, TypeError) as exc:
        raise SchemaError(
            f"cannot read {what} as a date/time",
            field=what,
            expected="an ISO date/time such as 2024-03-05 or 2024-03-05T08:30+08:00",
            found=repr(values) if np.ndim(values) == 0 else "unparseable values",
            fix=f"fix the value ({exc})",
        ) from None
    if isinstance(ts, pd.Timestamp):
        return ts.tz_localize(LOCAL_TZ) if ts.tzinfo is None else ts.tz_convert(LOCAL_TZ)
    ts = pd.Series(ts)
    if ts.dt.tz is None:
        return ts.dt.tz_localize(LOCAL_TZ)
    return ts.dt.tz_convert(LOCAL_TZ)


def period_bounds(start: Any, end: Any) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """[start, stop) from user bounds; a date-only ``end`` includes that whole day."""
    lo = to_local_time(start, what="start") if start is not None else None
    hi = None
    if end is not None:
        hi = to_local_time(end, what="end")
        date_only = (isinstance(end, _dt.date) and not isinstance(end, _dt.datetime)) or (
            isinstance(end, str) and len(end.strip()) <= 10
        )
        hi = hi + pd.Timedelta(days=1) if date_only else hi + pd.Timedelta(microseconds=1)
    if lo is not None and hi is not None and hi <= lo:
        raise SchemaError(
            "the period ends before it starts",
            field="end",
            expected=f"end after start ({lo})",
            found=str(end),
            fix="swap start and end",
        )
    return lo, hi


def seconds(ts: pd.Series) -> np.ndarray:
    """Seconds since the epoch as float, whatever the resolution pandas holds (s … ns)."""
    return (ts - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy(dtype=float)


def select_fixes(
    fixes: Any, *, crs: Any, lo: pd.Timestamp | None, hi: pd.Timestamp | None
) -> tuple[gpd.GeoDataFrame, pd.Series]:
    """Validated fixes (in ``crs``) with a geometry and a time in ``[lo, hi)``, and their local times."""
    fixes = check_fixes(fixes, crs)
    ts = to_local_time(fixes["timestamp"], what="timestamp")
    geoms = fixes.geometry.values
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms) | ts.isna().to_numpy())
    if lo is not None:
        keep &= (ts >= lo).to_numpy()
    if hi is not None:
        keep &= (ts < hi).to_numpy()
    pos = np.flatnonzero(keep)
    return fixes.iloc[pos], ts.iloc[pos]


def patrol_keys(fixes: pd.DataFrame, t_s: np.ndarray, max_gap_s: float) -> np.ndarray:
    """Patrol label per fix (str): patrol_id where given, else chief + time gaps."""
    codes, names = patrol_codes(fixes, t_s, max_gap_s)
    return names[codes]


def patrol_codes(fixes: pd.DataFrame, t_s: np.ndarray, max_gap_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Patrol code per fix and the patrol names: patrol_id where given, else chief + time gaps.

    Factorizing the column directly (not via a NumPy object array) keeps this fast
    for Arrow-backed strings.
    """
    n = len(fixes)
    if "patrol_id" in fixes.columns:
        codes, uniques = pd.factorize(fixes["patrol_id"])
        names = np.asarray(uniques, dtype=object).astype(str)
    else:
        codes, names = np.full(n, -1, dtype=np.int64), np.zeros(0, dtype=str)
    codes = np.asarray(codes, dtype=np.int64)
    missing = codes < 0
    if missing.any():
        chief = fixes["chief"] if "chief" in fixes.columns else pd.Series([""] * n, index=fixes.index)
        chief = chief.fillna("").astype(str).to_numpy()[missing]
        tm = t_s[missing]
        ccode, cnames = pd.factorize(chief)
        order = np.lexsort((tm, ccode))
        cs, ts = ccode[order], tm[order]
        new = np.ones(len(order), dtype=bool)
        new[1:] = (cs[1:] != cs[:-1]) | (np.diff(ts) > max_gap_s)
        run = np.cumsum(new) - 1
        heads = np.flatnonzero(new)
        stamp = pd.to_datetime(ts[heads], unit="s", utc=True).tz_convert(LOCAL_TZ).strftime("%Y%m%dT%H%M%S")
        auto = np.array([f"{c}@{s}" for c, s in zip(np.asarray(cnames)[cs[heads]], stamp, strict=True)],
                        dtype=str)
        fill = np.empty(len(order), dtype=np.int64)
        fill[order] = len(names) + run
        codes[missing] = fill
        names = np.concatenate([names, auto]).astype(str)
    return codes, names


@dataclass
class Tracks:
    """Fixes sorted by patrol and time, with the links that join them into tracks."""

    order: np.ndarray  # positions into the input fixes, sorted
    patrol: np.ndarray  # patrol code per sorted fix
    patrol_names: np.ndarray
    t: np.ndarray  # seconds (float) per sorted fix
    x: np.ndarray
    y: np.ndarray
    link: np.ndarray  # bool per sorted fix: joined to the fix nxt[i]
    nxt: np.ndarray  # next live fix of the same sorted order (-1 at the end)
    jump: np.ndarray  # bool per sorted fix: dropped as a GPS jump
    speed_in_kmh: np.ndarray  # raw speed from the previous fix (before dropping jumps)


def _links(code, t, x, y, max_gap_s, max_speed_kmh):
    same = code[1:] == code[:-1]
    dt = np.diff(t)
    dist = np.hypot(np.diff(x), np.diff(y))
    gap = dt > max_gap_s
    with np.errstate(divide="ignore", invalid="ignore"):
        speed = np.where(dt > 0, dist / dt * 3.6, np.where(dist > 0, np.inf, 0.0))
    fast = same & ~gap & (speed > max_speed_kmh)
    return same, gap, fast, speed


def build_tracks(
    fixes: gpd.GeoDataFrame,
    *,
    patrol: np.ndarray,
    names: np.ndarray | None = None,
    t_s: np.ndarray,
    max_gap_s: float,
    max_speed_kmh: float,
    drop_jumps: bool = True,
) -> Tracks:
    """Sort fixes, join consecutive ones, and find GPS jumps.

    A link longer in time than ``max_gap_s`` or faster than ``max_speed_kmh`` is cut.
    A run of at most MAX_JUMP_FIXES fixes cut off by a speed jump, smaller than the
    run on the other side of that jump, is a GPS jump and is dropped (two rounds, so
    the fixes around a removed jump are joined again).
    """
    if names is None:  # labels given: code them here
        code, uniq = pd.factorize(patrol)
        names = np.asarray(uniq, dtype=object).astype(str)
    else:  # codes into ``names`` given
        code = patrol
    order = np.lexsort((t_s, code))
    xy = shapely.get_coordinates(fixes.geometry.values[order])
    code, t = code[order], t_s[order]
    x, y = xy[:, 0], xy[:, 1]
    n = len(order)
    jump = np.zeros(n, dtype=bool)
    speed_in = np.full(n, np.nan)
    for _ in range(2 if drop_jumps else 0):
        live = np.flatnonzero(~jump)
        if len(live) < 2:
            break
        same, gap, fast, speed = _links(code[live], t[live], x[live], y[live], max_gap_s, max_speed_kmh)
        if not jump.any():  # first round: the raw speed into every fix, for reports
            speed_in[live[1:]] = np.where(same, speed, np.nan)
        if not fast.any():
            break
        # Runs of fixes between cuts of any kind; mark which ends are speed cuts.
        cut = ~same | gap | fast
        start = np.concatenate([[True], cut])
        run = np.cumsum(start) - 1
        size = np.bincount(run)
        n_runs = len(size)
        left_fast = np.zeros(n_runs, dtype=bool)
        right_fast = np.zeros(n_runs, dtype=bool)
        k = np.flatnonzero(fast)  # link k joins live fixes k and k+1
        right_fast[run[k]] = True
        left_fast[run[k + 1]] = True
        left_size = np.zeros(n_runs, dtype=np.int64)
        right_size = np.zeros(n_runs, dtype=np.int64)
        left_size[run[k + 1]] = size[run[k]]
        right_size[run[k]] = size[run[k + 1]]
        neighbour = np.maximum(np.where(left_fast, left_size, 0), np.where(right_fast, right_size, 0))
        bad_run = (left_fast | right_fast) & (size <= MAX_JUMP_FIXES) & (size < neighbour)
        if not bad_run.any():
            break
        jump[live[bad_run[run]]] = True
    li = np.flatnonzero(~jump)
    link = np.zeros(n, dtype=bool)  # link[i]: fix i is joined to fix nxt[i]
    nxt = np.full(n, -1)
    if len(li) >= 2:
        same, gap, fast, _ = _links(code[li], t[li], x[li], y[li], max_gap_s, max_speed_kmh)
        # Links between live fixes skip the dropped ones.
        link[li[:-1][same & ~gap & ~fast]] = True
        nxt[li[:-1]] = li[1:]
    return Tracks(order, code, np.asarray(names), t, x, y, link, nxt, jump, speed_in)


def track_segments(tr: Tracks) -> tuple[np.ndarray, np.ndarray]:
    """Indices (i, j) into the sorted fixes of every track segment.

    Joined fixes give segments (i, next live fix); a live fix joined to nothing on
    either side is a degenerate segment (i, i) whose buffer is a disc.
    """
    n = len(tr.t)
    nxt = tr.nxt
    i = np.flatnonzero(tr.link)
    j = nxt[i]
    touched = np.zeros(n, dtype=bool)
    touched[i] = True
    touched[j] = True
    lone = np.flatnonzero(~touched & ~tr.jump)
    return np.concatenate([i, lone]), np.concatenate([j, lone])


def patrol_stats(tr: Tracks, chief: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Start and end (s, live fixes), track length (m) and chief (first fix's) per patrol code.

    ``chief`` is the chief of each input fix (in the order ``tr.order`` indexes), or None.
    Shared by the in-memory analysis and the dask engine's per-partition step.
    """
    n_patrols = len(tr.patrol_names)
    live = ~tr.jump
    p_start = np.full(n_patrols, np.nan)
    p_end = np.full(n_patrols, np.nan)
    if live.any():
        g = pd.Series(tr.t[live]).groupby(tr.patrol[live])
        p_start[g.min().index] = g.min().to_numpy()
        p_end[g.max().index] = g.max().to_numpy()
    link = np.flatnonzero(tr.link)
    step = np.hypot(tr.x[tr.nxt[link]] - tr.x[link], tr.y[tr.nxt[link]] - tr.y[link])
    p_len = np.bincount(tr.patrol[link], weights=step, minlength=n_patrols)
    p_chief = np.full(n_patrols, None, dtype=object)
    if chief is not None:
        chief_sorted = np.asarray(chief, dtype=object)[tr.order]
        p_chief[tr.patrol[::-1]] = chief_sorted[::-1]  # first fix's chief per patrol
    return p_start, p_end, p_len, p_chief
