"""The river-chief loop (河长制): problems found on patrol, signboards, doubtful patrols.

A chief patrols, finds a problem (floating debris, an outfall, a structure on the bank …),
reports it with a point; it is assigned, resolved and closed, and the town checks that
closed problems stay closed (回头看). Each river's chief is published on a signboard
(河长公示牌). These pure functions analyse the spatial side of that loop; rules, defaults
and their sources are in ``docs/problems.md``.

Functions
---------
problem_summary
    Counts by kind and status, days to resolve, open and overdue problems per group.
overdue_problems
    The problems still open ``overdue_days`` after they were reported.
recurring_problems
    Problems reported again near a resolved one of the same kind (re-check failures).
problem_hotspots
    Problems per river stretch, worst stretches first.
check_signboards
    Rivers without a board, boards naming the wrong chief, too far or not updated.
patrol_quality
    One row per patrol with flags: too short, stationary, too fast, far from the
    chief's rivers, uploaded twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import _patrol_core as core
from ._patrol_quality import QualityRules, quality_table
from ._patrol_tracks import check_layer, check_rivers, to_local_time
from ._point_pairs import near_pairs
from .errors import ConfigError, GeometryError, SchemaError
from .patrol import DEFAULT_MAX_GAP_S, DEFAULT_MAX_SPEED_KMH, analyse
from .schemas import PROBLEM_OPEN_STATUSES, get_schema, parse_datetime

__all__ = [
    "check_signboards",
    "overdue_problems",
    "patrol_quality",
    "problem_hotspots",
    "problem_summary",
    "recurring_problems",
]

_KINDS = tuple(get_schema("problems").field("kind").values)
_STATUSES = tuple(get_schema("problems").field("status").values)
_HANDLED = tuple(s for s in _STATUSES if s not in PROBLEM_OPEN_STATUSES)
_RIVER_FIELDS = ("name", "level", "region", "chief")
_DAY_S = 86400.0


# --------------------------------------------------------------------------------------
# Input checks shared by the problem analyses
# --------------------------------------------------------------------------------------
def _problem_table(problems: Any) -> pd.DataFrame:
    """Check kind/status are canonical and return a copy with local-time timestamps."""
    if not isinstance(problems, pd.DataFrame):
        raise SchemaError("problems must be a (Geo)DataFrame", layer="problems",
                          expected="a DataFrame of problems", found=type(problems).__name__,
                          fix="load it with dongping_geo.load_problems()")
    required = ("problem_id", "reported_at", "kind", "status")
    missing = [c for c in required if c not in problems.columns]
    if missing:
        raise SchemaError("missing field", layer="problems", field=", ".join(missing),
                          expected=", ".join(required), found=", ".join(map(str, problems.columns)),
                          fix="rename the field or load the layer with dongping_geo.load_problems()")
    for name, allowed in (("kind", _KINDS), ("status", _STATUSES)):
        bad = ~problems[name].isin(allowed)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise SchemaError(
                f"unknown problem {name}", layer="problems", field=name,
                feature_id=problems["problem_id"].iloc[i], expected="one of " + ", ".join(allowed),
                found=repr(problems[name].iloc[i]),
                fix="load the layer with dongping_geo.load_problems(), which maps Chinese spellings",
            )
    out = problems.copy()
    out["reported_at"] = _times(problems, "reported_at", "problems", id_field="problem_id")
    out["resolved_at"] = _times(problems, "resolved_at", "problems", id_field="problem_id")
    if out["reported_at"].isna().any():
        i = int(np.flatnonzero(out["reported_at"].isna().to_numpy())[0])
        raise SchemaError("required value is empty", layer="problems", field="reported_at",
                          feature_id=problems["problem_id"].iloc[i], expected="a date/time",
                          found="nothing", fix="fill in reported_at (上报时间)")
    return out


def _times(df: pd.DataFrame, name: str, layer: str, *, id_field: str) -> Any:
    """Parse a date/time column as the loaders do, into local tz-aware values (NaT if absent)."""
    if name not in df.columns:
        return pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns, Asia/Shanghai]").array
    parsed, bad = parse_datetime(df[name].reset_index(drop=True))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise SchemaError("cannot parse date/time", layer=layer, field=name, feature_id=df[id_field].iloc[i],
                          expected="a date like 2024-03-05, 2024/3/5 or 2024年3月5日",
                          found=repr(df[name].iloc[i]), fix="correct the value or its format")
    return parsed.array


def _river_rows(problems: gpd.GeoDataFrame, rivers: gpd.GeoDataFrame) -> np.ndarray:
    """Row of ``rivers`` for each problem: by river_id, else (missing or unknown id) the nearest river."""
    ids = problems["river_id"] if "river_id" in problems.columns else pd.Series(None, index=problems.index)
    rows = pd.Index(rivers["river_id"]).get_indexer(ids)
    lost = np.flatnonzero(rows < 0)
    if len(lost):
        if not isinstance(problems, gpd.GeoDataFrame):
            raise SchemaError(
                "problems without a known river_id need a geometry", layer="problems", field="river_id",
                feature_id=problems["problem_id"].iloc[lost[0]], expected="a river_id of the rivers layer",
                found=repr(ids.iloc[lost[0]]), fix="fill in river_id or pass the problems as a GeoDataFrame",
            )
        tree = shapely.STRtree(rivers.geometry.values)
        q, r = tree.query_nearest(problems.geometry.values[lost], all_matches=False)
        rows[lost[q]] = r
    return rows


def _attach_rivers(df: pd.DataFrame, rivers: gpd.GeoDataFrame | None) -> pd.DataFrame:
    if rivers is None:
        return df
    rivers = check_rivers(rivers)
    if isinstance(df, gpd.GeoDataFrame) and df.crs is not None and df.crs != rivers.crs:
        df = df.to_crs(rivers.crs)
    rows = _river_rows(df, rivers)
    df = df.copy()
    df["river_id"] = rivers["river_id"].to_numpy()[rows]
    for f in _RIVER_FIELDS:
        if f in rivers.columns and f not in df.columns:
            df[f] = rivers[f].to_numpy()[rows]
    return df


def _as_of(df: pd.DataFrame, as_of: Any) -> pd.Timestamp:
    if as_of is not None:
        ts = to_local_time(as_of, what="as_of")
        assert isinstance(ts, pd.Timestamp)
        return ts
    latest = pd.concat([df["reported_at"], df["resolved_at"]]).max()
    return pd.Timestamp(latest)


def _positive(value: Any, name: str, example: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ConfigError(f"{name} must be positive", field=name, expected="a number > 0",
                          found=repr(value), fix=f"pass e.g. {name}={example}")
    return float(value)


def _open_state(df: pd.DataFrame, as_of: pd.Timestamp, overdue_days: float) -> pd.DataFrame:
    """Add ``open``, ``days_open``, ``overdue``, ``days_to_resolve``, ``resolved_late`` as of ``as_of``."""
    handled_by_then = df["status"].isin(_HANDLED) & ~(df["resolved_at"] > as_of)
    out = df.assign(open=~handled_by_then.to_numpy())
    age = (as_of - out["reported_at"]).dt.total_seconds() / _DAY_S
    out["days_open"] = age.where(out["open"])
    out["overdue"] = out["open"] & (age >= overdue_days - 1e-9)
    took = (out["resolved_at"] - out["reported_at"]).dt.total_seconds() / _DAY_S
    out["days_to_resolve"] = took.where(handled_by_then)
    out["resolved_late"] = (out["days_to_resolve"] >= overdue_days - 1e-9).to_numpy()
    return out


def _assessed(problems: Any, rivers: Any, *, overdue_days: Any, as_of: Any) -> pd.DataFrame:
    """Check the problems, add their rivers and their state as of ``as_of`` (later reports left out)."""
    overdue_days = _positive(overdue_days, "overdue_days", "7")
    df = _attach_rivers(_problem_table(problems), rivers)
    when = _as_of(df, as_of)
    return _open_state(df[df["reported_at"] <= when], when, overdue_days)


# --------------------------------------------------------------------------------------
# Summary and overdue list
# --------------------------------------------------------------------------------------
def problem_summary(
    problems: pd.DataFrame,
    rivers: gpd.GeoDataFrame | None = None,
    *,
    by: Sequence[str] = ("river_id",),
    overdue_days: float = 7,
    as_of: Any = None,
) -> pd.DataFrame:
    """Count problems by kind and status, with handling times and open/overdue counts.

    A problem is *open* as of ``as_of`` when its status is reported (已上报) or
    assigned (已交办), or it was resolved after ``as_of``; it is *overdue* when it is
    open and was reported ``overdue_days`` or more days before ``as_of``. Problems
    reported after ``as_of`` are left out. Problems without a river_id (or with one
    the rivers layer lacks) are given the nearest river.

    Parameters
    ----------
    problems : DataFrame or GeoDataFrame
        As from :func:`dongping_geo.load_problems`: problem_id, reported_at, kind,
        status, and resolved_at, river_id where known.
    rivers : GeoDataFrame, optional
        Rivers with river_id and name, level, region, chief: needed to group by
        those, and to place problems without a river_id.
    by : sequence of str, default ("river_id",)
        Group keys: any column of the problems, ``name``/``level``/``region``/
        ``chief`` of their river, or ``month`` (of reported_at, ``YYYY-MM``).
        An empty sequence gives one row for everything.
    overdue_days : float, default 7
        Days after which an open problem is overdue (chosen default, see docs/problems.md).
    as_of : date, str or Timestamp, optional
        The day the state is assessed; default the latest reported_at/resolved_at.

    Returns
    -------
    DataFrame
        One row per group: the keys, ``problems``, ``open``, ``overdue``,
        ``resolved_late`` (resolved, but ``overdue_days`` or more after the report),
        ``median_days_to_resolve``, ``p90_days_to_resolve`` (linear interpolation;
        NaN when nothing was resolved), ``kind_<kind>`` and ``status_<status>``
        counts for every kind and status of the schema.

    Raises
    ------
    SchemaError
        Missing fields, unknown kinds or statuses.
    ConfigError
        A bad ``overdue_days`` or a group key that is not available.

    Examples
    --------
    >>> df = pd.DataFrame({"problem_id": ["Q1", "Q2"], "river_id": ["R1", "R1"],
    ...     "reported_at": ["2024-03-01", "2024-03-02"], "kind": ["outfall", "dumping"],
    ...     "status": ["resolved", "reported"], "resolved_at": ["2024-03-04", None]})
    >>> s = problem_summary(df, as_of="2024-03-10")
    >>> s[["river_id", "problems", "open", "overdue", "median_days_to_resolve"]].values.tolist()
    [['R1', 2, 1, 1, 3.0]]
    """
    df = _assessed(problems, rivers, overdue_days=overdue_days, as_of=as_of)
    df["month"] = df["reported_at"].dt.strftime("%Y-%m")
    keys = list(by)
    unknown = [k for k in keys if k not in df.columns]
    if unknown:
        raise ConfigError("cannot group problems by this key", field="by", found=", ".join(unknown),
                          expected="a problems column, month, or name/level/region/chief with rivers=",
                          fix="pass rivers= or choose another key")
    if not keys:
        df["_all"], keys = "all", ["_all"]
    g = df.groupby(keys, sort=True, dropna=False)
    out = pd.DataFrame({
        "problems": g.size(),
        "open": g["open"].sum().astype(int),
        "overdue": g["overdue"].sum().astype(int),
        "resolved_late": g["resolved_late"].sum().astype(int),
        "median_days_to_resolve": g["days_to_resolve"].median(),
        "p90_days_to_resolve": g["days_to_resolve"].quantile(0.9),
    })
    for col, values in (("kind", _KINDS), ("status", _STATUSES)):
        counts = df.groupby([*keys, col], sort=True, dropna=False).size().unstack(col, fill_value=0)
        out = out.join(counts.reindex(columns=list(values), fill_value=0).add_prefix(f"{col}_"))
    out = out.reset_index()
    return out.drop(columns="_all") if "_all" in out.columns else out


def overdue_problems(
    problems: pd.DataFrame,
    rivers: gpd.GeoDataFrame | None = None,
    *,
    overdue_days: float = 7,
    as_of: Any = None,
) -> pd.DataFrame:
    """List the problems still open ``overdue_days`` or more days after they were reported.

    Parameters
    ----------
    problems : DataFrame or GeoDataFrame
        As for :func:`problem_summary`.
    rivers : GeoDataFrame, optional
        Rivers, to add each problem's river name and chief (and place problems
        without a river_id).
    overdue_days : float, default 7
        Days after which an open problem is overdue.
    as_of : date, str or Timestamp, optional
        The day assessed; default the latest date in the data.

    Returns
    -------
    DataFrame or GeoDataFrame
        The overdue problems with ``days_open``, longest open first.

    Raises
    ------
    SchemaError, ConfigError
        As for :func:`problem_summary`.

    Examples
    --------
    >>> df = pd.DataFrame({"problem_id": ["Q1", "Q2"], "reported_at": ["2024-03-01", "2024-03-08"],
    ...     "kind": ["outfall", "dumping"], "status": ["assigned", "reported"]})
    >>> overdue_problems(df, as_of="2024-03-10")[["problem_id", "days_open"]].values.tolist()
    [['Q1', 9.0]]
    """
    df = _assessed(problems, rivers, overdue_days=overdue_days, as_of=as_of)
    out = df[df["overdue"]].drop(columns=["open", "overdue", "days_to_resolve", "resolved_late"])
    return out.sort_values(["days_open", "problem_id"], ascending=[False, True]).reset_index(drop=True)


# --------------------------------------------------------------------------------------
# Recurrence (回头看)
# --------------------------------------------------------------------------------------
def recurring_problems(
    problems: gpd.GeoDataFrame, *, radius_m: float = 50, within_days: float = 90
) -> pd.DataFrame:
    """Problems reported again near a resolved one of the same kind: the re-check failures.

    Problem B recurs problem A when A is resolved or closed, B has A's kind, B lies
    within ``radius_m`` of A, and B was reported between 0 and ``within_days`` days
    after A was resolved. The pairs come from a grid hash of the resolved problems by
    kind and ``radius_m`` cells (vectorised, exact distances).

    Parameters
    ----------
    problems : GeoDataFrame
        Problem points in a projected CRS in metres (as from
        :func:`dongping_geo.load_problems`).
    radius_m : float, default 50
        How near the new report must be (chosen default, see docs/problems.md).
    within_days : float, default 90
        How soon after the resolution (chosen default: one quarter).

    Returns
    -------
    DataFrame
        One row per recurring problem B, in reported order: ``problem_id``,
        ``kind``, ``river_id`` (when given), ``reported_at``, ``earlier_id`` (the
        matching problem resolved last before B; the nearest on a tie),
        ``earlier_resolved_at``, ``days_after``, ``distance_m``, ``matches`` (how
        many resolved problems B recurs).

    Raises
    ------
    SchemaError, CRSError
        Missing fields, unknown values, or a layer without a projected CRS.
    ConfigError
        A radius or window that is not positive.

    Examples
    --------
    >>> gdf = gpd.GeoDataFrame({"problem_id": ["A", "B"], "kind": ["dumping"] * 2,
    ...     "status": ["resolved", "reported"], "reported_at": ["2024-03-01", "2024-04-01"],
    ...     "resolved_at": ["2024-03-05", None]},
    ...     geometry=shapely.points([(0, 0), (30, 40)]), crs=4549)
    >>> recurring_problems(gdf)[["problem_id", "earlier_id", "days_after", "distance_m"]].values.tolist()
    [['B', 'A', 27.0, 50.0]]
    """
    radius_m = _positive(radius_m, "radius_m", "50")
    within_days = _positive(within_days, "within_days", "90")
    gdf = check_layer(problems, layer="problems", required=("problem_id",))
    df = _problem_table(gdf)
    xy = shapely.get_coordinates(gdf.geometry.values)
    if len(xy) != len(gdf):
        raise GeometryError("problems must be points", layer="problems", expected="one Point per problem",
                            found=f"{len(xy)} coordinates for {len(gdf)} problems",
                            fix="load the layer with dongping_geo.load_problems()")
    handled = np.flatnonzero(df["status"].isin(_HANDLED).to_numpy() & df["resolved_at"].notna().to_numpy())
    kind = pd.factorize(df["kind"])[0]
    b, a, dist = near_pairs(xy[:, 0], xy[:, 1], xy[handled, 0], xy[handled, 1], radius_m,
                            q_group=kind, t_group=kind[handled])
    a = handled[a]
    rep_s = (df["reported_at"] - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy()
    res_s = (df["resolved_at"] - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy()
    days = (rep_s[b] - res_s[a]) / _DAY_S
    keep = (a != b) & (days >= -1e-9) & (days <= within_days + 1e-9)
    pairs = pd.DataFrame({"b": b[keep], "a": a[keep], "days": days[keep], "dist": dist[keep], "res": res_s[a[keep]]})
    pairs["matches"] = pairs.groupby("b")["a"].transform("size")
    best = pairs.sort_values(["b", "res", "dist"], ascending=[True, False, True]).drop_duplicates("b")
    cols = [c for c in ("problem_id", "kind", "river_id", "reported_at") if c in df.columns]
    out = df.iloc[best["b"].to_numpy()][cols].reset_index(drop=True)
    out["earlier_id"] = df["problem_id"].to_numpy()[best["a"].to_numpy()]
    out["earlier_resolved_at"] = df["resolved_at"].iloc[best["a"].to_numpy()].reset_index(drop=True)
    out["days_after"] = best["days"].to_numpy()
    out["distance_m"] = best["dist"].to_numpy()
    out["matches"] = best["matches"].to_numpy()
    return out.sort_values(["reported_at", "problem_id"]).reset_index(drop=True)


# --------------------------------------------------------------------------------------
# Hotspots: problems per river stretch
# --------------------------------------------------------------------------------------
def _stretch_lines(rivers: gpd.GeoDataFrame, row: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Lines of the chainage intervals [lo, hi] of the given river rows (multi-part rivers too)."""
    rs = core.explode_rivers(rivers.geometry.values)
    n_parts = np.bincount(rs.part_river, minlength=len(rivers))
    first_part = np.concatenate([[0], np.cumsum(n_parts)[:-1]])
    # Chainage of each part's start within its river (parts in order, as shapely measures).
    cum = np.cumsum(rs.part_len) - rs.part_len
    part_offset = cum - cum[first_part[rs.part_river]] if len(cum) else cum
    k = n_parts[row]
    stretch = np.repeat(np.arange(len(row)), k)
    part = np.repeat(first_part[row], k) + (np.arange(k.sum()) - np.repeat(np.cumsum(k) - k, k))
    p_lo = np.maximum(lo[stretch], part_offset[part])
    p_hi = np.minimum(hi[stretch], part_offset[part] + rs.part_len[part])
    ok = p_hi > p_lo
    stretch, part = stretch[ok], part[ok]
    start = rs.part_start[part] + p_lo[ok] - part_offset[part]
    end = rs.part_start[part] + p_hi[ok] - part_offset[part]
    pieces = core.cut_lines(rs, part, start, end)
    out = np.empty(len(row), dtype=object)
    single = np.bincount(stretch, minlength=len(row)) == 1
    out[stretch[single[stretch]]] = pieces[single[stretch]]
    multi = ~single[stretch]
    if multi.any():
        _, inv = np.unique(stretch[multi], return_inverse=True)
        out[np.unique(stretch[multi])] = shapely.multilinestrings(pieces[multi], indices=inv)
    return out


def problem_hotspots(
    problems: gpd.GeoDataFrame, rivers: gpd.GeoDataFrame, *, segment_m: float = 500
) -> gpd.GeoDataFrame:
    """Problems per river stretch, the stretches with most problems per km first.

    Each river is cut into ``n = max(1, round(length / segment_m))`` stretches of
    equal length from its first vertex (its head); each problem is placed on its
    river (by river_id, else the nearest river) at its chainage
    (``shapely.line_locate_point``). Density is problems per km of stretch, a river
    shorter than ``segment_m`` counting as ``segment_m`` long, so a short ditch with
    one problem does not outrank a full stretch with several.

    Parameters
    ----------
    problems : GeoDataFrame
        Problem points (projected CRS in metres), river_id where known.
    rivers : GeoDataFrame
        Rivers with river_id (and name, chief where present).
    segment_m : float, default 500
        Target stretch length in metres.

    Returns
    -------
    GeoDataFrame
        One row per stretch with at least one problem: ``river_id`` (``name``,
        ``chief``), ``stretch`` (0 at the head), ``from_m``, ``to_m``,
        ``length_m``, ``problems``, ``open`` (reported or assigned),
        ``per_km``, and the stretch as a line; worst first.

    Raises
    ------
    SchemaError, CRSError, GeometryError
        Missing fields, layers without a projected CRS, rivers that are not lines.
    ConfigError
        A ``segment_m`` that is not positive.

    Examples
    --------
    >>> rivers = gpd.GeoDataFrame({"river_id": ["R1"]},
    ...     geometry=[shapely.LineString([(0, 0), (1000, 0)])], crs=4549)
    >>> gdf = gpd.GeoDataFrame({"problem_id": ["A", "B", "C"], "river_id": ["R1"] * 3},
    ...     geometry=shapely.points([(100, 5), (200, -5), (700, 0)]), crs=4549)
    >>> h = problem_hotspots(gdf, rivers)
    >>> h["from_m"].tolist(), h["problems"].tolist(), h["per_km"].tolist()
    ([0.0, 500.0], [2, 1], [4.0, 2.0])
    """
    segment_m = _positive(segment_m, "segment_m", "500")
    rivers = check_rivers(rivers)
    gdf = check_layer(problems, layer="problems", required=("problem_id",), to_crs=rivers.crs)
    rows = _river_rows(gdf, rivers)
    lines = rivers.geometry.values
    chain = shapely.line_locate_point(lines[rows], gdf.geometry.values)
    length = shapely.length(lines)
    n_str = np.maximum(1, np.round(length / segment_m)).astype(np.int64)
    s_len = length / n_str
    k = np.minimum((chain // np.where(s_len[rows] > 0, s_len[rows], 1.0)).astype(np.int64), n_str[rows] - 1)
    is_open = gdf["status"].isin(PROBLEM_OPEN_STATUSES) if "status" in gdf.columns else pd.Series(False, index=gdf.index)
    g = pd.DataFrame({"row": rows, "stretch": k, "open": is_open.to_numpy()}).groupby(["row", "stretch"])
    t = pd.DataFrame({"problems": g.size(), "open": g["open"].sum().astype(int)}).reset_index()
    row, st = t["row"].to_numpy(), t["stretch"].to_numpy()
    info = pd.DataFrame(rivers[[c for c in ("river_id", "name", "chief") if c in rivers.columns]]).iloc[row]
    out = info.reset_index(drop=True)
    out["stretch"] = st
    out["from_m"] = st * s_len[row]
    out["to_m"] = (st + 1) * s_len[row]
    out["length_m"] = s_len[row]
    out["problems"] = t["problems"].to_numpy()
    out["open"] = t["open"].to_numpy()
    out["per_km"] = out["problems"] / (np.maximum(s_len[row], segment_m) / 1000.0)
    geom = _stretch_lines(rivers, row, out["from_m"].to_numpy(), out["to_m"].to_numpy())
    out = gpd.GeoDataFrame(out, geometry=geom, crs=rivers.crs)
    order = np.lexsort((out["stretch"], out["river_id"].astype(str), -out["problems"], -out["per_km"]))
    return out.iloc[order].reset_index(drop=True)


# --------------------------------------------------------------------------------------
# Signboards (河长公示牌)
# --------------------------------------------------------------------------------------
_BOARD_CHECKS = ("no_board", "unknown_river", "wrong_chief", "too_far", "stale")


def _norm_name(values: pd.Series) -> pd.Series:
    return values.astype("string").str.replace(r"\s+", "", regex=True)


def _chief_since(rivers: gpd.GeoDataFrame, chief_since: Any) -> pd.Series:
    """Date the current chief took office, per river row (NaT where unknown)."""
    if chief_since is None:
        return pd.Series(_times(rivers, "chief_since", "rivers", id_field="river_id"))
    mapping = chief_since.to_dict() if isinstance(chief_since, pd.Series) else dict(chief_since)
    table = pd.DataFrame({"river_id": rivers["river_id"].to_numpy(),
                          "chief_since": rivers["river_id"].map(mapping).to_numpy()})
    return pd.Series(_times(table, "chief_since", "rivers", id_field="river_id"))


def check_signboards(
    signboards: gpd.GeoDataFrame,
    rivers: gpd.GeoDataFrame,
    *,
    max_distance_m: float = 50,
    chief_since: Mapping[str, Any] | pd.Series | None = None,
    grace_days: float = 15,
    as_of: Any = None,
) -> pd.DataFrame:
    """Check the river-chief signboards (河长公示牌) against the rivers layer.

    Findings: ``no_board`` (a river no board names), ``unknown_river`` (a board
    naming a river the layer lacks), ``wrong_chief`` (the board's chief is not the
    river's chief; white space ignored), ``too_far`` (the board is more than
    ``max_distance_m`` from its river), ``stale`` (more than ``grace_days`` after the
    river's current chief took office, the board was last updated before that day or
    has no update date).

    Parameters
    ----------
    signboards : GeoDataFrame
        Boards (points) with board_id, river_id, chief_on_board, updated_on, as from
        :func:`dongping_geo.load_signboards`.
    rivers : GeoDataFrame
        Rivers with river_id and chief (projected CRS in metres); a ``chief_since``
        column, when present, gives the date each chief took office.
    max_distance_m : float, default 50
        Farthest a board may stand from its river (chosen default, see docs/problems.md).
    chief_since : mapping or Series, optional
        river_id → date the current chief took office (overrides ``chief_since``).
    grace_days : float, default 15
        Days allowed to update a board after the chief changed (hebei-2022: within 15
        days of the change; see docs/problems.md).
    as_of : date, str or Timestamp, optional
        The day assessed; default the latest ``updated_on``/``chief_since`` date.

    Returns
    -------
    DataFrame
        One row per finding: ``board_check`` (labels in ``schemas.CATEGORY_LABELS``), ``river_id``, ``board_id``, ``chief``
        (the river's), ``chief_on_board``, ``distance_m``, ``updated_on``,
        ``chief_since``; ordered by check then river and board. Empty when all is well.

    Raises
    ------
    SchemaError, CRSError, GeometryError
        Missing fields, layers without a projected CRS, rivers that are not lines.
    ConfigError
        A ``max_distance_m`` that is not positive.

    Examples
    --------
    >>> rivers = gpd.GeoDataFrame({"river_id": ["R1", "R2"], "chief": ["王", "李"]},
    ...     geometry=[shapely.LineString([(0, 0), (1000, 0)]), shapely.LineString([(0, 500), (1000, 500)])],
    ...     crs=4549)
    >>> boards = gpd.GeoDataFrame({"board_id": ["B1"], "river_id": ["R1"], "chief_on_board": ["张"]},
    ...     geometry=shapely.points([(10, 80)]), crs=4549)
    >>> check_signboards(boards, rivers)[["board_check", "river_id", "board_id"]].values.tolist()
    [['no_board', 'R2', None], ['wrong_chief', 'R1', 'B1'], ['too_far', 'R1', 'B1']]
    """
    max_distance_m = _positive(max_distance_m, "max_distance_m", "50")
    rivers = check_rivers(rivers)
    boards = check_layer(signboards, layer="signboards", required=("board_id", "river_id"), to_crs=rivers.crs)
    row = pd.Index(rivers["river_id"]).get_indexer(boards["river_id"])
    known = row >= 0
    rr = np.where(known, row, 0)
    r_chief = (rivers["chief"] if "chief" in rivers.columns else pd.Series(None, index=rivers.index, dtype=object))
    r_chief = r_chief.reset_index(drop=True)
    since = _chief_since(rivers, chief_since)
    on_board = boards["chief_on_board"] if "chief_on_board" in boards.columns else pd.Series(None, index=boards.index)
    updated = _times(boards, "updated_on", "signboards", id_field="board_id")
    t = pd.DataFrame({
        "river_id": boards["river_id"].to_numpy(), "board_id": boards["board_id"].to_numpy(),
        "chief": np.where(known, r_chief.to_numpy(dtype=object)[rr], None),
        "chief_on_board": on_board.to_numpy(dtype=object),
        "distance_m": np.where(known, shapely.distance(boards.geometry.values, rivers.geometry.values[rr]), np.nan),
        "updated_on": updated, "chief_since": since.iloc[rr].array,
    })
    t.loc[~known, "chief_since"] = pd.NaT
    wrong = known & (t["chief"].notna() & (_norm_name(t["chief"]) != _norm_name(t["chief_on_board"]))).fillna(True).to_numpy()
    when = _as_of(t.rename(columns={"updated_on": "reported_at", "chief_since": "resolved_at"}), as_of)
    late = (when - t["chief_since"]).dt.total_seconds() > _positive(grace_days, "grace_days", "15") * _DAY_S + 1e-6
    stale = t["chief_since"].notna() & ~(t["updated_on"] >= t["chief_since"]) & late
    parts = [t[~known].assign(board_check="unknown_river"), t[wrong].assign(board_check="wrong_chief"),
             t[t["distance_m"] > max_distance_m + 1e-9].assign(board_check="too_far"),
             t[stale].assign(board_check="stale")]
    missing = ~rivers["river_id"].isin(boards["river_id"]).to_numpy()
    parts.insert(0, pd.DataFrame({"river_id": rivers["river_id"].to_numpy()[missing], "board_id": None,
                                  "chief": r_chief.to_numpy(dtype=object)[missing],
                                  "chief_since": since[missing].array, "board_check": "no_board"}))
    out = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else t.iloc[:0].assign(board_check=None)
    out["_c"] = out["board_check"].map({c: i for i, c in enumerate(_BOARD_CHECKS)})
    out = out.sort_values(["_c", "river_id", "board_id"], na_position="first", kind="stable")
    cols = ["board_check", "river_id", "board_id", "chief", "chief_on_board", "distance_m", "updated_on", "chief_since"]
    return out.reindex(columns=cols).reset_index(drop=True)


# --------------------------------------------------------------------------------------
# Patrol quality
# --------------------------------------------------------------------------------------
def patrol_quality(
    fixes: gpd.GeoDataFrame,
    rivers: gpd.GeoDataFrame,
    *,
    min_minutes: float = 10,
    min_km: float = 1,
    whole_river_share: float = 0.9,
    stationary_radius_m: float = 50,
    stationary_share: float = 0.8,
    max_kmh: float = 25,
    far_m: float = 100,
    far_share: float = 0.5,
    duplicate_m: float = 1,
    tolerance_m: float = 30,
    start: Any = None,
    end: Any = None,
    max_gap_s: float = DEFAULT_MAX_GAP_S,
    max_speed_kmh: float = DEFAULT_MAX_SPEED_KMH,
) -> pd.DataFrame:
    """One row per patrol with flags for patrols that may not really have happened.

    The fixes are joined into tracks exactly as :func:`dongping_geo.patrol.river_coverage`
    joins them (GPS jumps dropped). Flags (sources and defaults in docs/problems.md):

    * ``too_short_time`` — shorter than ``min_minutes``; ``too_short_distance`` —
      track shorter than ``min_km`` (guangzhou-2021: at least 10 minutes and 1 km).
      A patrol that covered ``whole_river_share`` of a river shorter than ``min_km``
      meets the distance rule and needs ``min_minutes`` pro rata of that river's length.
    * ``stationary`` — at least ``stationary_share`` of the fixes lie within
      ``stationary_radius_m`` of the patrol's median point.
    * ``too_fast`` — mean speed between consecutive fixes (not across gaps longer
      than ``max_gap_s``) above ``max_kmh`` (25 km/h: the top speed of an electric
      bicycle under GB 17761-2018).
    * ``far_from_own_rivers`` — more than ``far_share`` of the fixes lie farther than
      ``far_m`` from every river of the patrol's chief (``<NA>`` with no chief, or a
      chief with no river in the layer).
    * ``duplicate`` — the same track as an earlier patrol (same number of fixes, each
      within ``duplicate_m`` of its match, times may differ); ``duplicate_of`` names it.

    Parameters
    ----------
    fixes : GeoDataFrame
        GPS fixes with timestamp, patrol_id and chief, as from :func:`dongping_geo.load_patrols`.
    rivers : GeoDataFrame
        Rivers with river_id and chief (projected CRS in metres).
    min_minutes, min_km : float, default 10, 1
        Shortest patrol in time and in track length.
    whole_river_share : float, default 0.9
        Share of a short river a patrol must cover to count as having walked it whole.
    stationary_radius_m, stationary_share : float, default 50, 0.8
        The stationary rule.
    max_kmh : float, default 25
        Fastest plausible walking or cycling patrol.
    far_m, far_share : float, default 100, 0.5
        The far-from-own-rivers rule.
    duplicate_m : float, default 1
        How close two uploads' fixes must be to be the same track.
    tolerance_m, start, end, max_gap_s, max_speed_kmh
        As for :func:`dongping_geo.patrol.river_coverage`.

    Returns
    -------
    DataFrame
        ``patrol_id``, ``chief``, ``start``, ``end``, ``fixes``, ``duration_min``,
        ``length_m``, ``whole_river_m`` (longest short river walked whole), ``speed_kmh``,
        ``stationary_share``, ``far_share``, ``duplicate_of``; the boolean flags
        ``too_short_time``, ``too_short_distance``, ``stationary``, ``too_fast``,
        ``far_from_own_rivers`` (nullable), ``duplicate``; and ``flagged`` (any flag).

    Raises
    ------
    ConfigError
        A threshold out of range.
    SchemaError, CRSError, GeometryError
        As for :func:`dongping_geo.patrol.river_coverage`.

    Examples
    --------
    >>> rivers = gpd.GeoDataFrame({"river_id": ["R1"], "chief": ["王"]},
    ...     geometry=[shapely.LineString([(0, 0), (1500, 0)])], crs=4549)
    >>> fixes = gpd.GeoDataFrame({"patrol_id": ["p1"] * 16, "chief": ["王"] * 16,
    ...     "timestamp": pd.date_range("2024-03-05 09:00", periods=16, freq="60s", tz="Asia/Shanghai")},
    ...     geometry=shapely.points([(x, 0) for x in range(0, 1501, 100)]), crs=4549)
    >>> q = patrol_quality(fixes, rivers)
    >>> q[["patrol_id", "duration_min", "length_m", "speed_kmh", "flagged"]].values.tolist()
    [['p1', 15.0, 1500.0, 6.0, False]]
    """
    rules = QualityRules(
        min_minutes=min_minutes, min_km=min_km, whole_river_share=whole_river_share,
        stationary_radius_m=stationary_radius_m, stationary_share=stationary_share, max_kmh=max_kmh,
        far_m=far_m, far_share=far_share, duplicate_m=duplicate_m, max_gap_s=max_gap_s,
    )
    res = analyse(rivers, fixes, tolerance_m=tolerance_m, start=start, end=end,
                   max_gap_s=max_gap_s, max_speed_kmh=max_speed_kmh)
    return quality_table(res, rules)
