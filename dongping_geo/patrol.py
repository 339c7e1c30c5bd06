"""River-chief patrol coverage (河长巡河): which rivers were patrolled, how much, how often.

GPS fixes of the chiefs' patrols are joined into tracks; a stretch of river counts
as covered where a track passed within ``tolerance_m`` of it, that is the covered
part is ``river ∩ buffer(track, tolerance_m)``. The computation is exact (see
:mod:`dongping_geo._patrol_core`): every river is exploded into measured straight
segments, each track segment's buffer ("capsule") cuts one interval out of each
nearby river segment, and the intervals are unioned per river with a sorted sweep.

Functions
---------
clean_fixes
    Drop duplicate fixes, GPS jumps and fixes outside an area; split patrols.
river_coverage
    One row per river: covered length, share, number of patrols, last patrol.
uncovered_segments
    The stretches no patrol covered, as lines.
compliance
    Patrol frequency against rules by river level, per river and per chief.
load_rules
    The patrol rules (defaults from ``data/patrol_rules.yaml``) merged with overrides.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import yaml

from . import _dispatch
from . import _patrol_core as core
from ._engine import use_dask
from ._patrol_tables import coverage_table as _coverage_table
from ._patrol_tables import river_info as _river_info
from ._patrol_tables import to_time as _to_time
from ._patrol_tracks import (
    DEFAULT_MAX_GAP_S,
    DEFAULT_MAX_SPEED_KMH,
    LOCAL_TZ,
    build_tracks,
    check_fixes,
    check_layer,
    check_rivers,
    patrol_codes,
    patrol_stats,
    period_bounds,
    seconds,
    select_fixes,
    to_local_time,
    track_segments,
)
from .errors import ConfigError, SchemaError

__all__ = [
    "DEFAULT_MAX_GAP_S",
    "DEFAULT_MAX_SPEED_KMH",
    "Compliance",
    "PatrolAnalysis",
    "analyse",
    "clean_fixes",
    "compliance",
    "load_rules",
    "patrol_tracks",
    "river_coverage",
    "uncovered_segments",
]




# --------------------------------------------------------------------------------------
# clean_fixes
# --------------------------------------------------------------------------------------
def clean_fixes(
    fixes: gpd.GeoDataFrame,
    *,
    max_speed_kmh: float = DEFAULT_MAX_SPEED_KMH,
    max_gap_s: float = DEFAULT_MAX_GAP_S,
    area: Any = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Drop duplicate fixes, GPS jumps and fixes outside an area; split patrols into tracks.

    Parameters
    ----------
    fixes : GeoDataFrame
        GPS fixes (Point) in a projected CRS in metres, with ``timestamp`` and
        usually ``patrol_id`` and ``chief``.
    max_speed_kmh : float, default 60
        Movement between two fixes faster than this is a GPS jump. A run of at most
        five fixes cut off by such jumps (and shorter than the track it jumped
        from) is dropped as ``"speed jump"``; other fast links only split the track.
    max_gap_s : float, default 300
        Consecutive fixes of a patrol further apart in time start a new track.
        Fixes without a ``patrol_id`` are grouped into patrols per ``chief`` at
        gaps longer than this.
    area : shapely geometry, GeoSeries or GeoDataFrame, optional
        Area of interest (e.g. the town boundary); fixes outside it are dropped.
        A GeoSeries/GeoDataFrame is reprojected to the fixes' CRS.

    Returns
    -------
    cleaned : GeoDataFrame
        The kept fixes sorted by patrol and time, with ``patrol_id`` filled in
        (generated as ``"<chief>@<start time>"`` where missing) and ``track_id``
        (``"<patrol_id>/<n>"``: the patrol split at time gaps and speed jumps).
    dropped : GeoDataFrame
        One row per dropped fix: ``row`` (index in ``fixes``), ``patrol_id``,
        ``chief``, ``timestamp``, ``reason`` (``"missing"``, ``"outside area"``,
        ``"duplicate"``, ``"speed jump"``), ``detail`` and the geometry.

    Raises
    ------
    SchemaError
        If ``fixes`` is not a GeoDataFrame or lacks ``timestamp``.
    CRSError
        If ``fixes`` has no CRS or a geographic one.
    GeometryError
        If a fix is not a Point.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd, shapely
    >>> fixes = gpd.GeoDataFrame(
    ...     {"patrol_id": ["p1"] * 4, "chief": ["王"] * 4,
    ...      "timestamp": pd.date_range("2024-03-05 09:00", periods=4, freq="30s", tz="Asia/Shanghai")},
    ...     geometry=shapely.points([[0, 0], [30, 0], [5030, 0], [90, 0]]), crs=4549)
    >>> cleaned, dropped = clean_fixes(fixes)
    >>> dropped["reason"].tolist()
    ['speed jump']
    """
    fixes = check_fixes(fixes)
    n = len(fixes)
    reason = np.full(n, "", dtype=object)
    detail = np.full(n, "", dtype=object)
    geoms = fixes.geometry.values
    ts = to_local_time(fixes["timestamp"], what="timestamp")
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms) | ts.isna().to_numpy()
    reason[missing] = "missing"
    detail[missing] = "no position or no timestamp"
    if area is not None:
        region = _area_geometry(area, fixes.crs)
        shapely.prepare(region)
        outside = ~missing & ~shapely.covers(region, geoms)
        reason[outside] = "outside area"
        detail[outside] = "outside the area of interest"
    t_s = seconds(ts)
    patrol, names = patrol_codes(fixes, t_s, max_gap_s)
    ok = reason == ""
    # Duplicates: the same patrol reporting the same instant twice; keep the first.
    key = pd.DataFrame({"p": patrol[ok], "t": t_s[ok]})
    dup = key.duplicated().to_numpy()
    pos_ok = np.flatnonzero(ok)
    reason[pos_ok[dup]] = "duplicate"
    detail[pos_ok[dup]] = "same patrol and timestamp as an earlier fix"
    ok = reason == ""
    pos_ok = np.flatnonzero(ok)
    tr = build_tracks(
        fixes.iloc[pos_ok],
        patrol=patrol[pos_ok],
        names=names,
        t_s=t_s[pos_ok],
        max_gap_s=max_gap_s,
        max_speed_kmh=max_speed_kmh,
    )
    jumped = pos_ok[tr.order[tr.jump]]
    reason[jumped] = "speed jump"
    sp = tr.speed_in_kmh[tr.jump]
    detail[jumped] = [
        f"GPS jump: {v:.0f} km/h from the previous fix" if np.isfinite(v) else "GPS jump"
        for v in sp
    ]
    # Track numbers: a new track after every unjoined live fix.
    live = np.flatnonzero(~tr.jump)
    joined_prev = np.zeros(len(tr.t), dtype=bool)
    joined_prev[tr.nxt[tr.link]] = True
    same_patrol_prev = np.zeros(len(live), dtype=bool)
    same_patrol_prev[1:] = tr.patrol[live][1:] == tr.patrol[live][:-1]
    new_track = ~joined_prev[live]
    track_no = pd.Series(new_track.astype(int)).groupby(tr.patrol[live]).cumsum().to_numpy()
    kept_rows = pos_ok[tr.order[live]]
    cleaned = fixes.iloc[kept_rows].copy()
    pid = tr.patrol_names[tr.patrol[live]]
    cleaned["patrol_id"] = pid
    cleaned["track_id"] = [f"{p}/{k}" for p, k in zip(pid, track_no, strict=True)]
    drop_rows = np.flatnonzero(reason != "")
    dropped = gpd.GeoDataFrame(
        {
            "row": fixes.index[drop_rows],
            "patrol_id": names[patrol[drop_rows]],
            "chief": fixes["chief"].to_numpy()[drop_rows] if "chief" in fixes.columns else None,
            "timestamp": ts.to_numpy()[drop_rows],
            "reason": reason[drop_rows],
            "detail": detail[drop_rows],
        },
        geometry=geoms[drop_rows],
        crs=fixes.crs,
    )
    dropped["timestamp"] = pd.to_datetime(dropped["timestamp"], utc=True).dt.tz_convert(LOCAL_TZ)
    return cleaned, dropped.reset_index(drop=True)


def _area_geometry(area: Any, crs: Any) -> shapely.Geometry:
    if isinstance(area, gpd.GeoDataFrame | gpd.GeoSeries):
        if area.crs is not None and crs is not None and area.crs != crs:
            area = area.to_crs(crs)
        return shapely.union_all(area.geometry.values if isinstance(area, gpd.GeoDataFrame) else area.values)
    if isinstance(area, shapely.Geometry):
        return area
    raise SchemaError(
        "area must be a geometry",
        field="area",
        expected="a shapely Polygon, GeoSeries or GeoDataFrame",
        found=type(area).__name__,
        fix="pass the town boundary polygon",
    )


def _tracks(
    fixes: gpd.GeoDataFrame, *, crs: Any, start: Any, end: Any, max_gap_s: float, max_speed_kmh: float
) -> tuple[gpd.GeoDataFrame, Any]:
    """Select the fixes of the period (in ``crs``) and join them into tracks (shared by every analysis)."""
    lo, hi = period_bounds(start, end)
    fx, ts = select_fixes(fixes, crs=crs, lo=lo, hi=hi)
    t_s = seconds(ts)
    patrol, names = patrol_codes(fx, t_s, max_gap_s)
    tr = build_tracks(
        fx, patrol=patrol, names=names, t_s=t_s, max_gap_s=max_gap_s, max_speed_kmh=max_speed_kmh
    )
    return fx, tr


def patrol_tracks(
    fixes: gpd.GeoDataFrame,
    *,
    max_gap_s: float = DEFAULT_MAX_GAP_S,
    max_speed_kmh: float = DEFAULT_MAX_SPEED_KMH,
) -> gpd.GeoDataFrame:
    """Join patrol GPS fixes into track lines, exactly as the coverage analysis joins them.

    Consecutive fixes of one patrol are joined unless they are more than
    ``max_gap_s`` apart or imply a speed above ``max_speed_kmh``; short GPS jumps
    are dropped. A track breaks wherever a link is cut, so one patrol may give
    several lines; lone fixes give no line.

    Parameters
    ----------
    fixes : GeoDataFrame
        Point fixes with patrol_id (or chief) and timestamp, as from
        :func:`dongping_geo.loaders.load_patrols`.
    max_gap_s : float, default DEFAULT_MAX_GAP_S
        Longest time between two joined fixes, in seconds.
    max_speed_kmh : float, default DEFAULT_MAX_SPEED_KMH
        Fastest plausible movement; faster links are GPS jumps and are cut.

    Returns
    -------
    GeoDataFrame
        One LineString per unbroken piece: patrol_id, chief (when given),
        start and end (local time), length_m; in the fixes' CRS.

    Raises
    ------
    SchemaError
        If the fixes lack a timestamp or geometry.

    Examples
    --------
    >>> import shapely
    >>> fixes = gpd.GeoDataFrame(
    ...     {"patrol_id": ["P1"] * 3,
    ...      "timestamp": pd.to_datetime(["2022-06-01 08:00:00", "2022-06-01 08:00:10",
    ...                                   "2022-06-01 08:00:20"]).tz_localize("Asia/Shanghai")},
    ...     geometry=shapely.points([(0, 0), (10, 0), (20, 0)]), crs=4549)
    >>> patrol_tracks(fixes)[["patrol_id", "length_m"]].values.tolist()
    [['P1', 20.0]]
    """
    fx, tr = _tracks(fixes, crs=None, start=None, end=None, max_gap_s=max_gap_s,
                     max_speed_kmh=max_speed_kmh)
    live = np.flatnonzero(~tr.jump)
    # A piece starts at every live fix that its live predecessor is not linked to.
    new = np.ones(len(live), dtype=bool)
    if len(live) > 1:
        prev = live[:-1]
        new[1:] = ~(tr.link[prev] & (tr.nxt[prev] == live[1:]))
    piece = np.cumsum(new) - 1
    size = np.bincount(piece) if len(piece) else np.zeros(0, dtype=int)
    keep_fix = live[size[piece] >= 2] if len(piece) else live
    piece_of = piece[size[piece] >= 2] if len(piece) else piece
    _, piece_ids = np.unique(piece_of, return_inverse=True)
    coords = np.column_stack([tr.x[keep_fix], tr.y[keep_fix]])
    lines = shapely.linestrings(coords, indices=piece_ids) if len(coords) else np.empty(0, dtype=object)
    first = np.flatnonzero(np.r_[True, piece_of[1:] != piece_of[:-1]]) if len(piece_of) else np.zeros(0, int)
    last = np.r_[first[1:] - 1, len(piece_of) - 1] if len(first) else first
    out = pd.DataFrame({"patrol_id": tr.patrol_names[tr.patrol[keep_fix[first]]]})
    if "chief" in fx.columns:
        out["chief"] = fx["chief"].to_numpy()[tr.order[keep_fix[first]]]
    out["start"] = _to_time(tr.t[keep_fix[first]])
    out["end"] = _to_time(tr.t[keep_fix[last]])
    out["length_m"] = shapely.length(lines) if len(coords) else np.zeros(0)
    return gpd.GeoDataFrame(out, geometry=np.asarray(lines, dtype=object), crs=fx.crs)


# --------------------------------------------------------------------------------------
# The shared computation
# --------------------------------------------------------------------------------------
@dataclass
class PatrolAnalysis:
    """Patrol tracks intersected with the rivers once, for every patrol table.

    Made by :func:`analyse`. :meth:`coverage`, :meth:`uncovered` and
    :meth:`compliance` derive their tables from the same covered intervals, so a
    report that needs all three intersects tracks and rivers once. The attributes
    are arrays indexed by river row, patrol code or covered interval.
    """

    rivers: gpd.GeoDataFrame
    rs: core.RiverSegments
    river_len: np.ndarray  # per river row
    # Per (river row, patrol code): covered length and last time on that river.
    rp_river: np.ndarray
    rp_patrol: np.ndarray
    rp_covered: np.ndarray
    rp_last_s: np.ndarray
    patrol_names: np.ndarray
    patrol_start_s: np.ndarray  # per patrol code
    patrol_end_s: np.ndarray
    patrol_length_m: np.ndarray
    patrol_chief: np.ndarray
    # Union over all patrols, per part.
    part: np.ndarray
    start: np.ndarray
    end: np.ndarray
    # The period analysed: [lo, hi), None when open.
    lo: pd.Timestamp | None = None
    hi: pd.Timestamp | None = None
    # The joined tracks and their gap setting (for patrol-quality flags).
    tracks: Any = None
    max_gap_s: float = DEFAULT_MAX_GAP_S

    def coverage(self, *, min_share: float = 0.5) -> pd.DataFrame:
        """Coverage table, as :func:`river_coverage` returns it.

        Parameters
        ----------
        min_share : float, default 0.5
            A patrol is counted in ``patrols_covering`` when it covered this share of the river.

        Returns
        -------
        DataFrame
            One row per river, see :func:`river_coverage`.
        """
        return _coverage_table(
            self.rivers, interval_river=self.rs.part_river[self.part],
            interval_m=self.end - self.start, river_len=self.river_len, rp_river=self.rp_river,
            rp_covered=self.rp_covered, rp_last_s=self.rp_last_s, min_share=min_share,
        )

    def uncovered(self, *, min_length_m: float = 0.0) -> gpd.GeoDataFrame:
        """Uncovered stretches, as :func:`uncovered_segments` returns them.

        Parameters
        ----------
        min_length_m : float, default 0
            Leave out uncovered stretches shorter than this.

        Returns
        -------
        GeoDataFrame
            One line per uncovered stretch, see :func:`uncovered_segments`.
        """
        return _uncovered_table(self, min_length_m)

    def compliance(
        self, *, rules: dict[str, Any] | str | Path | None = None, valid_only: bool | dict[str, Any] = False
    ) -> Compliance:
        """Patrol frequency against the rules, as :func:`compliance` returns it.

        Parameters
        ----------
        rules : dict, str or Path, optional
            Overrides of the default rules, see :func:`load_rules`.
        valid_only : bool or dict, default False
            Count only patrols without a quality flag, see :func:`compliance`.

        Returns
        -------
        Compliance
            Tables per river and per chief, see :func:`compliance`.

        Raises
        ------
        SchemaError
            If the analysis was made without a start and an end.
        """
        if self.lo is None or self.hi is None:
            raise SchemaError(
                "compliance needs a period", field="start/end",
                expected="both start and end dates", found=f"start={self.lo!r}, end={self.hi!r}",
                fix="pass start= and end= to analyse()",
            )
        return _compliance_table(self, load_rules(rules), self.lo, self.hi, valid_only=valid_only)


def analyse(
    rivers: gpd.GeoDataFrame,
    fixes: gpd.GeoDataFrame,
    *,
    tolerance_m: float = 30.0,
    start: Any = None,
    end: Any = None,
    max_gap_s: float = DEFAULT_MAX_GAP_S,
    max_speed_kmh: float = DEFAULT_MAX_SPEED_KMH,
    engine: str = "auto",
) -> PatrolAnalysis:
    """Intersect the patrol tracks with the rivers once, for every patrol table.

    :func:`river_coverage`, :func:`uncovered_segments` and :func:`compliance` are
    each this analysis followed by one table; call it directly when you need more
    than one of them (the patrol report does).

    Parameters
    ----------
    rivers, fixes : GeoDataFrame
        As for :func:`river_coverage`.
    tolerance_m, start, end, max_gap_s, max_speed_kmh
        As for :func:`river_coverage`. :meth:`PatrolAnalysis.compliance` needs
        ``start`` and ``end``.
    engine : {"auto", "memory", "dask"}, default "auto"
        ``"dask"`` (or ``"auto"`` with a dask frame or GeoParquet folder) intersects on
        the current dask scheduler (:func:`dongping_geo.scale.patrol_analysis_dask`);
        the analysis then holds no in-memory tracks (``tracks`` is None).

    Returns
    -------
    PatrolAnalysis
        Covered intervals per river part and per (river, patrol), patrol statistics.

    Raises
    ------
    SchemaError, CRSError, GeometryError
        As for :func:`river_coverage`.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd, shapely
    >>> rivers = gpd.GeoDataFrame({"river_id": ["R1"]},
    ...     geometry=[shapely.LineString([(0, 0), (1000, 0)])], crs=4549)
    >>> fixes = gpd.GeoDataFrame({"patrol_id": ["p1", "p1"],
    ...     "timestamp": pd.to_datetime(["2024-03-05 09:00", "2024-03-05 09:05"]).tz_localize("Asia/Shanghai")},
    ...     geometry=shapely.points([(0, 0), (470, 0)]), crs=4549)
    >>> a = analyse(rivers, fixes)
    >>> round(float(a.coverage()["covered_m"].iloc[0]), 1), len(a.uncovered())
    (500.0, 1)
    """
    if not tolerance_m > 0:
        raise SchemaError(
            "tolerance must be positive",
            field="tolerance_m",
            expected="a distance in metres > 0",
            found=repr(tolerance_m),
            fix="pass e.g. tolerance_m=30",
        )
    if use_dask(fixes, engine):
        pieces = _dispatch.scale().patrol_analysis_dask(
            rivers, fixes, tolerance_m=tolerance_m, start=start, end=end, max_gap_s=max_gap_s,
            max_speed_kmh=max_speed_kmh,
        )
        lo, hi = period_bounds(start, end)
        return PatrolAnalysis(**pieces, lo=lo, hi=hi, tracks=None)
    rivers = check_rivers(rivers)
    fx, tr = _tracks(fixes, crs=rivers.crs, start=start, end=end, max_gap_s=max_gap_s,
                     max_speed_kmh=max_speed_kmh)
    si, sj = track_segments(tr)

    rs = core.explode_rivers(rivers.geometry.values)
    ox, oy = rs.origin
    x, y = tr.x - ox, tr.y - oy
    px, py, qx, qy = x[si], y[si], x[sj], y[sj]
    t_idx, s_idx = core.candidate_pairs(rs, px, py, qx, qy, tolerance_m)
    m_lo, m_hi = core.capsule_intervals(
        rs, s_idx, px[t_idx], py[t_idx], qx[t_idx], qy[t_idx], tolerance_m
    )
    hit = m_hi > m_lo
    t_idx, s_idx, m_lo, m_hi = t_idx[hit], s_idx[hit], m_lo[hit], m_hi[hit]
    seg_patrol = tr.patrol[si]
    n_patrols = len(tr.patrol_names)
    pair_part = rs.seg_part[s_idx]
    pair_patrol = seg_patrol[t_idx]
    # Union per (river part, patrol), then over patrols per part.
    key = pair_part.astype(np.int64) * max(n_patrols, 1) + pair_patrol
    k, b_lo, b_hi = core.union_intervals(key, m_lo, m_hi)
    kp, kq = k // max(n_patrols, 1), k % max(n_patrols, 1)
    part, u_lo, u_hi = core.union_intervals(kp, b_lo, b_hi)
    # Per (river, patrol) totals.
    rp = pd.DataFrame(
        {"river": rs.part_river[kp], "patrol": kq, "covered": b_hi - b_lo}
    ).groupby(["river", "patrol"], sort=True)["covered"].sum()
    last = pd.DataFrame(
        {
            "river": rs.part_river[pair_part],
            "patrol": pair_patrol,
            "t": np.maximum(tr.t[si][t_idx], tr.t[sj][t_idx]),
        }
    ).groupby(["river", "patrol"], sort=True)["t"].max()
    # Patrol statistics over the live fixes in the period.
    chief = fx["chief"].to_numpy(dtype=object) if "chief" in fx.columns else None
    p_start, p_end, p_len, p_chief = patrol_stats(tr, chief)
    river_len = np.bincount(rs.part_river, weights=rs.part_len, minlength=rs.n_rivers)
    lo, hi = period_bounds(start, end)
    return PatrolAnalysis(
        rivers=rivers,
        rs=rs,
        river_len=river_len,
        rp_river=rp.index.get_level_values(0).to_numpy(),
        rp_patrol=rp.index.get_level_values(1).to_numpy(),
        rp_covered=rp.to_numpy(),
        rp_last_s=last.reindex(rp.index).to_numpy(),
        patrol_names=tr.patrol_names,
        patrol_start_s=p_start,
        patrol_end_s=p_end,
        patrol_length_m=p_len,
        patrol_chief=p_chief,
        part=part,
        start=u_lo,
        end=u_hi,
        lo=lo,
        hi=hi,
        tracks=tr,
        max_gap_s=max_gap_s,
    )


# --------------------------------------------------------------------------------------
# river_coverage / uncovered_segments
# --------------------------------------------------------------------------------------
def river_coverage(
    rivers: gpd.GeoDataFrame,
    fixes: gpd.GeoDataFrame,
    *,
    tolerance_m: float = 30.0,
    start: Any = None,
    end: Any = None,
    min_share: float = 0.5,
    max_gap_s: float = DEFAULT_MAX_GAP_S,
    max_speed_kmh: float = DEFAULT_MAX_SPEED_KMH,
    engine: str = "auto",
) -> pd.DataFrame:
    """Share of every river that patrols passed within ``tolerance_m`` of.

    Consecutive fixes of a patrol are joined into a track unless they are more
    than ``max_gap_s`` apart or imply more than ``max_speed_kmh``; GPS jumps are
    dropped by the same rule as :func:`clean_fixes`. A fix joined to nothing
    covers the disc around it. The covered length is exactly
    ``length(river ∩ buffer(track, tolerance_m))`` (up to floating point).

    Parameters
    ----------
    rivers : GeoDataFrame
        Rivers (LineString/MultiLineString) in a projected CRS in metres, with
        ``river_id`` and usually ``name``, ``level``, ``region``, ``chief``.
    fixes : GeoDataFrame
        GPS fixes (Point) with ``timestamp`` (tz-aware; naive values are taken as
        Asia/Shanghai time), ``patrol_id`` and ``chief``. Reprojected to the
        rivers' CRS if needed.
    tolerance_m : float, default 30
        How close a track must pass for the river to count as inspected.
    start, end : date, str or Timestamp, optional
        Only fixes in ``[start, end]``; a date-only ``end`` includes that day.
    min_share : float, default 0.5
        A patrol is counted in ``patrols_covering`` when it covered at least this share
        of the river.
    max_gap_s : float, default 300
        Fixes further apart in time are not joined.
    max_speed_kmh : float, default 60
        Links faster than this are GPS jumps and are not joined.
    engine : {"auto", "memory", "dask"}, default "auto"
        ``"dask"`` (or ``"auto"`` with a dask_geopandas GeoDataFrame or a GeoParquet
        folder path as ``fixes``) runs the same kernel per spatial partition on the
        current dask scheduler, see :func:`dongping_geo.scale.river_coverage_dask`.

    Returns
    -------
    DataFrame
        One row per river in input order: ``river_id``, ``name``, ``level``,
        (``region``), ``chief``, ``length_m``, ``covered_m``, ``coverage`` (0–1),
        ``patrols_covering`` (patrols of any chief, any length, covering at least ``min_share``; the
        patrols that count for the rules are ``patrols_counted`` of :func:`compliance`) and
        ``last_patrolled`` (latest time such a patrol was on the river, NaT if none).

    Raises
    ------
    SchemaError
        Missing fields, bad timestamps, a period that ends before it starts.
    CRSError
        A layer without a CRS or in degrees.
    GeometryError
        Rivers that are not lines or fixes that are not points.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd, shapely
    >>> rivers = gpd.GeoDataFrame({"river_id": ["R1"]},
    ...     geometry=[shapely.LineString([(0, 0), (1000, 0)])], crs=4549)
    >>> fixes = gpd.GeoDataFrame({"patrol_id": ["p1"] * 6,
    ...     "timestamp": pd.date_range("2024-03-05 09:00", periods=6, freq="60s", tz="Asia/Shanghai")},
    ...     geometry=shapely.points([(x, 5) for x in range(0, 501, 100)]), crs=4549)
    >>> row = river_coverage(rivers, fixes).iloc[0]
    >>> round(float(row.covered_m), 1), int(row.patrols_covering)
    (529.6, 1)
    """
    if use_dask(fixes, engine):
        return _dispatch.scale().river_coverage_dask(
            rivers, fixes, tolerance_m=tolerance_m, start=start, end=end, min_share=min_share,
            max_gap_s=max_gap_s, max_speed_kmh=max_speed_kmh,
        )
    return analyse(
        rivers, fixes, tolerance_m=tolerance_m, start=start, end=end,
        max_gap_s=max_gap_s, max_speed_kmh=max_speed_kmh,
    ).coverage(min_share=min_share)


def uncovered_segments(
    rivers: gpd.GeoDataFrame,
    fixes: gpd.GeoDataFrame,
    *,
    tolerance_m: float = 30.0,
    start: Any = None,
    end: Any = None,
    max_gap_s: float = DEFAULT_MAX_GAP_S,
    max_speed_kmh: float = DEFAULT_MAX_SPEED_KMH,
    min_length_m: float = 0.0,
) -> gpd.GeoDataFrame:
    """Stretches of river that no patrol passed within ``tolerance_m`` of.

    Parameters
    ----------
    rivers, fixes : GeoDataFrame
        As for :func:`river_coverage`.
    tolerance_m, start, end, max_gap_s, max_speed_kmh
        As for :func:`river_coverage`.
    min_length_m : float, default 0
        Leave out uncovered stretches shorter than this (e.g. slivers between
        two passes).

    Returns
    -------
    GeoDataFrame
        One LineString per uncovered stretch, in the rivers' CRS: ``river_id``,
        ``name``, ``chief`` (when the rivers have them), ``from_m`` and ``to_m``
        (measures along the river from its start), ``length_m``.

    Raises
    ------
    SchemaError, CRSError, GeometryError
        As for :func:`river_coverage`.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd, shapely
    >>> rivers = gpd.GeoDataFrame({"river_id": ["R1"]},
    ...     geometry=[shapely.LineString([(0, 0), (1000, 0)])], crs=4549)
    >>> fixes = gpd.GeoDataFrame({"patrol_id": ["p1", "p1"],
    ...     "timestamp": pd.to_datetime(["2024-03-05 09:00", "2024-03-05 09:05"]).tz_localize("Asia/Shanghai")},
    ...     geometry=shapely.points([(0, 0), (470, 0)]), crs=4549)
    >>> gaps = uncovered_segments(rivers, fixes)
    >>> gaps[["river_id", "from_m", "to_m", "length_m"]].round(1).values.tolist()
    [['R1', 500.0, 1000.0, 500.0]]
    """
    return analyse(
        rivers, fixes, tolerance_m=tolerance_m, start=start, end=end,
        max_gap_s=max_gap_s, max_speed_kmh=max_speed_kmh,
    ).uncovered(min_length_m=min_length_m)


def _uncovered_table(res: PatrolAnalysis, min_length_m: float) -> gpd.GeoDataFrame:
    rs = res.rs
    g_part, g_lo, g_hi = core.complement_intervals(rs, res.part, res.start, res.end, min_length_m)
    lines = core.cut_lines(rs, g_part, g_lo, g_hi)
    river = rs.part_river[g_part]
    # Measure along the river: parts follow one another, without the 1 m layout gaps.
    river_first = np.zeros(rs.n_rivers + 1, dtype=np.int64)
    np.add.at(river_first, rs.part_river + 1, 1)
    first_part = np.cumsum(river_first)[:-1]
    prior = np.concatenate([[0.0], np.cumsum(rs.part_len)])
    offset = rs.part_start - (prior[:-1] - prior[first_part[rs.part_river]])
    info = _river_info(res.rivers)
    cols = [c for c in ("river_id", "name", "chief") if c in info.columns]
    out = info.iloc[river][cols].reset_index(drop=True)
    out["from_m"] = g_lo - offset[g_part]
    out["to_m"] = g_hi - offset[g_part]
    out["length_m"] = g_hi - g_lo
    return gpd.GeoDataFrame(out, geometry=np.asarray(lines), crs=res.rivers.crs)


# --------------------------------------------------------------------------------------
# Rules and compliance
# --------------------------------------------------------------------------------------
_PERIODS = {"day": "D", "week": "W-SUN", "month": "M", "quarter": "Q-DEC", "year": "Y-DEC"}


def _default_rules() -> dict[str, Any]:
    text = resources.files("dongping_geo").joinpath("data/patrol_rules.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for k, v in extra.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def load_rules(rules: dict[str, Any] | str | Path | None = None) -> dict[str, Any]:
    """Patrol rules: the packaged defaults merged with a dict or a YAML file, validated.

    The defaults (``dongping_geo/data/patrol_rules.yaml``, sources in
    ``docs/patrol.md``): district-level rivers once a quarter, town-level once a
    month, village-level once a week; a patrol counts when it lasts at least 10
    minutes and 1 km (on a river shorter than 1 km walked whole: the river's length, at
    the same pace) and covers at least half of the river or 1 km of it.

    Parameters
    ----------
    rules : dict, str or Path, optional
        Overrides, deep-merged over the defaults: e.g.
        ``{"frequency": {"village": {"period": "month", "min_patrols": 2}}}``.
        A str/Path is read as a YAML file of the same shape.

    Returns
    -------
    dict
        ``frequency`` (level → ``period``, ``min_patrols``), ``patrol_minimum``
        (``duration_min``, ``length_km``, ``whole_river_share``, ``max_mean_speed_kmh``), ``counts_for_river`` (``min_share``,
        ``min_covered_m``), ``own_chief_only``.

    Raises
    ------
    ConfigError
        If the file cannot be read or parsed, or a value is missing, unknown or
        out of range.

    Examples
    --------
    >>> load_rules()["frequency"]["village"]
    {'period': 'week', 'min_patrols': 1}
    >>> load_rules({"frequency": {"town": {"min_patrols": 2}}})["frequency"]["town"]
    {'period': 'month', 'min_patrols': 2}
    """
    base = _default_rules()
    if rules is None:
        extra: Any = {}
    elif isinstance(rules, str | Path):
        path = Path(rules)
        try:
            extra = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except OSError as exc:
            raise ConfigError("cannot read the rules file", path=path, fix=str(exc)) from None
        except UnicodeDecodeError as exc:
            raise ConfigError("the rules file is not UTF-8 text", path=path, expected="a UTF-8 YAML file",
                              found=f"byte {exc.object[exc.start:exc.start + 1]!r} at {exc.start}",
                              fix="save the rules file as UTF-8 YAML (see docs/patrol.md)") from None
        except yaml.YAMLError as exc:
            raise ConfigError(
                "the rules file is not valid YAML", path=path, found=str(exc).splitlines()[0],
                fix="check the indentation and colons",
            ) from None
    else:
        extra = rules
    if not isinstance(extra, dict):
        raise ConfigError(
            "patrol rules must be a mapping", expected="a dict / YAML mapping",
            found=type(extra).__name__, fix="see docs/patrol.md for the layout",
        )
    merged = _merge(base, extra)
    _validate_rules(merged, source=rules if isinstance(rules, str | Path) else None)
    return merged


def _rule_error(source: Any, field: str, expected: str, found: Any) -> ConfigError:
    return ConfigError(
        "invalid patrol rule", path=source, field=field, expected=expected,
        found=repr(found), fix="correct the value (see docs/patrol.md)",
    )


def _validate_rules(r: dict[str, Any], *, source: Any) -> None:
    known = {"frequency", "patrol_minimum", "counts_for_river", "own_chief_only", "sources"}
    unknown = set(r) - known
    if unknown:
        raise _rule_error(source, ", ".join(sorted(unknown)), "one of " + ", ".join(sorted(known)), sorted(unknown))
    _validate_frequency(r.get("frequency"), source=source)
    _validate_figures(r, source=source)
    if not isinstance(r.get("own_chief_only"), bool):
        raise _rule_error(source, "own_chief_only", "true or false", r.get("own_chief_only"))


def _validate_frequency(freq: Any, *, source: Any) -> None:
    """``frequency``: level → {period, min_patrols}."""
    if not isinstance(freq, dict) or not freq:
        raise _rule_error(source, "frequency", "a mapping level → {period, min_patrols}", freq)
    for level, f in freq.items():
        if not isinstance(f, dict) or set(f) - {"period", "min_patrols"}:
            raise _rule_error(source, f"frequency.{level}", "{period: week|month|…, min_patrols: int}", f)
        if f.get("period") not in _PERIODS:
            raise _rule_error(source, f"frequency.{level}.period", "one of " + ", ".join(_PERIODS), f.get("period"))
        n = f.get("min_patrols")
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise _rule_error(source, f"frequency.{level}.min_patrols", "an integer ≥ 0", n)


def _validate_figures(r: dict[str, Any], *, source: Any) -> None:
    """patrol_minimum and counts_for_river: numbers ≥ 0 (two may be null), shares within 0–1."""
    for group, fields in (
        ("patrol_minimum", ("duration_min", "length_km", "whole_river_share", "max_mean_speed_kmh")),
        ("counts_for_river", ("min_share", "min_covered_m")),
    ):
        g = r.get(group)
        if not isinstance(g, dict) or set(g) - set(fields):
            raise _rule_error(source, group, "a mapping with " + ", ".join(fields), g)
        for k in fields:
            v = g.get(k)
            if v is None and k in ("min_covered_m", "max_mean_speed_kmh"):
                continue
            if isinstance(v, bool) or not isinstance(v, int | float) or v < 0:
                raise _rule_error(source, f"{group}.{k}", "a number ≥ 0", v)
    for group, k in (("patrol_minimum", "whole_river_share"), ("counts_for_river", "min_share")):
        if not 0 <= r[group][k] <= 1:
            raise _rule_error(source, f"{group}.{k}", "a share between 0 and 1", r[group][k])


def _flagged_patrols(res: PatrolAnalysis, pm: dict[str, Any], valid_only: Any) -> pd.DataFrame:
    """Per patrol code: the flags of :func:`dongping_geo.problems.patrol_quality` (column ``flagged``: any)."""
    from ._patrol_quality import QualityRules, quality_table

    settings = {"min_minutes": pm["duration_min"], "min_km": pm["length_km"],
                "whole_river_share": pm["whole_river_share"], "max_gap_s": res.max_gap_s}
    if isinstance(valid_only, dict):
        settings.update(valid_only)
    elif valid_only is not True:
        raise ConfigError("valid_only must be True, False or a dict of patrol_quality thresholds",
                          field="valid_only", expected="bool or dict", found=repr(valid_only),
                          fix="pass valid_only=True")
    try:
        rules = QualityRules(**settings)
    except TypeError as exc:
        raise ConfigError("unknown patrol-quality threshold", field="valid_only",
                          expected=", ".join(QualityRules.__dataclass_fields__), found=str(exc),
                          fix="see dongping_geo.problems.patrol_quality") from None
    return quality_table(res, rules)


class Compliance(NamedTuple):
    """Result of :func:`compliance`: one table per river and one per chief."""

    by_river: pd.DataFrame
    by_chief: pd.DataFrame


def _label(p: pd.Period, period: str) -> str:
    if period == "week":
        iso = p.start_time.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    if period == "quarter":
        return f"{p.year}-Q{p.quarter}"
    return str(p)


def compliance(
    rivers: gpd.GeoDataFrame,
    fixes: gpd.GeoDataFrame,
    *,
    start: Any,
    end: Any,
    rules: dict[str, Any] | str | Path | None = None,
    tolerance_m: float = 30.0,
    max_gap_s: float = DEFAULT_MAX_GAP_S,
    max_speed_kmh: float = DEFAULT_MAX_SPEED_KMH,
    valid_only: bool | dict[str, Any] = False,
) -> Compliance:
    """Check patrol frequency against the rules for each river's level.

    The period ``[start, end]`` is cut into calendar periods of each level's rule
    (ISO weeks Monday–Sunday, months, quarters …, local time); only periods lying
    wholly inside it are assessed. A patrol counts for a river in the period it
    started in when it meets the patrol minimum (duration and track length; on a
    short river walked whole the river's length is enough, see :func:`patrol_minimum_m`), it is not faster on average than
    ``max_mean_speed_kmh`` (when set), it covered ``min(min_share × length,
    min_covered_m)`` of the river, and — with ``own_chief_only`` — it was walked by
    the river's chief.

    Parameters
    ----------
    rivers : GeoDataFrame
        Rivers with ``river_id``, ``level`` and ``chief`` (projected CRS in metres).
    fixes : GeoDataFrame
        GPS fixes with ``timestamp``, ``patrol_id`` and ``chief``.
    start, end : date, str or Timestamp
        The period assessed; a date-only ``end`` includes that day.
    rules : dict, str or Path, optional
        Overrides of the default rules, see :func:`load_rules`.
    tolerance_m, max_gap_s, max_speed_kmh : float
        As for :func:`river_coverage`.
    valid_only : bool or dict, default False
        Count only patrols without a quality flag of
        :func:`dongping_geo.problems.patrol_quality` (too short, stationary, too
        fast, far from the chief's rivers, uploaded twice). The flags' too-short rule
        (the rules' ``patrol_minimum``, with the short-river allowance) then replaces
        the plain patrol minimum. A dict passes thresholds to ``patrol_quality``
        (e.g. ``{"max_kmh": 20}``). Default False: the patrol minimum alone, as before.

    Returns
    -------
    Compliance
        ``by_river``: ``river_id``, ``name``, ``level``, ``chief``, ``period``,
        ``periods`` (assessed), ``patrols_required``, ``patrols_counted``,
        ``compliant`` (every assessed period had enough patrols; ``<NA>`` when no
        whole period lies in the range, e.g. a quarterly rule over one month),
        ``missed_periods`` (list of labels such as ``2024-W10``, ``2024-03``).
        ``by_chief``: ``chief``, ``rivers``, ``rivers_compliant``,
        ``patrols_required``, ``patrols_counted``, the ``not_counted_*`` sums, ``compliant`` (all assessed rivers
        compliant; ``<NA>`` if none was assessed), ``missed_periods`` (list of
        ``"<river_id> <period>"``).

    Raises
    ------
    ConfigError
        Bad rules, or a river level the rules do not cover.
    SchemaError, CRSError, GeometryError
        As for :func:`river_coverage`, and rivers without ``level``/``chief``.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd, shapely
    >>> rivers = gpd.GeoDataFrame({"river_id": ["R1"], "level": ["town"], "chief": ["王"]},
    ...     geometry=[shapely.LineString([(0, 0), (1500, 0)])], crs=4549)
    >>> fixes = gpd.GeoDataFrame({"patrol_id": ["p1"] * 16, "chief": ["王"] * 16,
    ...     "timestamp": pd.date_range("2024-03-05 09:00", periods=16, freq="60s", tz="Asia/Shanghai")},
    ...     geometry=shapely.points([(x, 0) for x in range(0, 1501, 100)]), crs=4549)
    >>> result = compliance(rivers, fixes, start="2024-03-01", end="2024-04-30")
    >>> result.by_river[["patrols_required", "patrols_counted", "compliant"]].values.tolist()
    [[2, 1, False]]
    >>> result.by_river["missed_periods"].iloc[0]
    ['2024-04']
    """
    rules = load_rules(rules)
    rivers = _check_compliance_rivers(rivers, rules)
    if start is None or end is None:
        raise SchemaError(
            "compliance needs a period", field="start/end",
            expected="both start and end dates", found=f"start={start!r}, end={end!r}",
            fix="pass start= and end=",
        )
    lo, hi = period_bounds(start, end)
    assert lo is not None and hi is not None  # both were checked above
    res = analyse(
        rivers, fixes, tolerance_m=tolerance_m, start=lo, end=hi - pd.Timedelta(microseconds=1),
        max_gap_s=max_gap_s, max_speed_kmh=max_speed_kmh,
    )
    return _compliance_table(res, rules, lo, hi, valid_only=valid_only)


def _check_compliance_rivers(rivers: gpd.GeoDataFrame, rules: dict[str, Any]) -> gpd.GeoDataFrame:
    """Rivers with ``level`` and ``chief``, every level covered by a frequency rule."""
    rivers = check_layer(rivers, layer="rivers", required=("river_id", "level", "chief"))
    freq = rules["frequency"]
    unknown = ~rivers["level"].isin(list(freq))
    if unknown.any():
        i = int(np.flatnonzero(unknown.to_numpy())[0])
        raise ConfigError(
            "no patrol frequency rule for this river level",
            layer="rivers",
            feature_id=rivers["river_id"].iloc[i],
            field="level",
            expected=", ".join(map(str, freq)),
            found=repr(rivers["level"].iloc[i]),
            fix="add the level under 'frequency' in the rules or correct the river's level",
        )
    return rivers


#: Why a patrol that passed a river did not count for it, in the order the rules are checked:
#: walked by another chief, shorter than the patrol minimum (length or duration), faster on
#: average than allowed, flagged by :func:`dongping_geo.problems.patrol_quality` for another
#: reason (``valid_only`` only), covered too little of the river, started outside every
#: whole period assessed. Columns ``not_counted_<reason>``.
NOT_COUNTED = ("other_chief", "too_short", "too_fast", "flagged", "too_little", "outside_period")


def patrol_minimum_m(
    river_length_m: np.ndarray, covered_m: np.ndarray, rules: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray]:
    """Shortest track length and duration a patrol needs to count for a river.

    The patrol minimum (``patrol_minimum.length_km`` and ``duration_min``) applies in
    full, except on a river shorter than ``length_km`` that the patrol walked whole (it
    covered at least ``whole_river_share`` of it): there the river's length is enough,
    and the duration shrinks with it at the same pace, so that a patrol walking the whole
    of a 500 m ditch counts (docs/patrol.md, "Short rivers"; the same allowance as
    :func:`dongping_geo.problems.patrol_quality`).

    Parameters
    ----------
    river_length_m : ndarray
        Length of the river, per (river, patrol) pair, in metres.
    covered_m : ndarray
        Length of the river the patrol covered, per pair.
    rules : dict
        Patrol rules (:func:`load_rules`).

    Returns
    -------
    (ndarray, ndarray)
        Minimum track length in metres and minimum duration in seconds, per pair.

    Examples
    --------
    >>> length, duration = patrol_minimum_m(np.array([500.0, 500.0, 5000.0]),
    ...                                     np.array([500.0, 300.0, 5000.0]), load_rules())
    >>> length.tolist(), (duration / 60).tolist()
    ([500.0, 1000.0, 1000.0], [5.0, 10.0, 10.0])
    """
    pm = rules["patrol_minimum"]
    full_m, full_s = pm["length_km"] * 1000.0, pm["duration_min"] * 60.0
    river = np.asarray(river_length_m, dtype=float)
    whole = (river < full_m) & (river > 0) & (np.asarray(covered_m) >= pm["whole_river_share"] * river - 1e-9)
    length = np.where(whole, river, full_m)
    with np.errstate(divide="ignore", invalid="ignore"):
        duration = np.where(full_m > 0, full_s * length / full_m, full_s)
    return length, duration


def _quality_reasons(res: PatrolAnalysis, pm: dict[str, Any], valid_only: Any) -> tuple[np.ndarray, ...]:
    """Per patrol code: too short, too fast, flagged otherwise (:func:`_flagged_patrols`' table)."""
    q = _flagged_patrols(res, pm, valid_only)
    short = (q["too_short_time"] | q["too_short_distance"]).to_numpy(dtype=bool)
    fast = q["too_fast"].fillna(False).to_numpy(dtype=bool)
    return short, fast, q["flagged"].to_numpy(dtype=bool) & ~short & ~fast


def _pair_reasons(
    res: PatrolAnalysis, rules: dict[str, Any], info: pd.DataFrame, valid_only: bool | dict[str, Any] = False
) -> np.ndarray:
    """Per (river, patrol) pair: 0 when it counts, else 1 + the index in NOT_COUNTED of the first rule failed.

    The period is checked per level later (``outside_period``).
    """
    pm, cr = rules["patrol_minimum"], rules["counts_for_river"]
    river_len = res.river_len[res.rp_river]
    dur = (res.patrol_end_s - res.patrol_start_s)[res.rp_patrol]
    track = res.patrol_length_m[res.rp_patrol]
    flagged = np.zeros(len(dur), bool)
    if valid_only is not False:
        short, fast, flagged = (a[res.rp_patrol] for a in _quality_reasons(res, pm, valid_only))
    else:
        min_len, min_dur = patrol_minimum_m(river_len, res.rp_covered, rules)
        short = (dur < min_dur - 1e-9) | (track < min_len - 1e-9)
        vmax = pm.get("max_mean_speed_kmh")
        with np.errstate(divide="ignore", invalid="ignore"):
            fast = track / np.where(dur > 0, dur, np.nan) * 3.6 > (np.inf if vmax is None else vmax)
    need = cr["min_share"] * river_len
    if cr.get("min_covered_m") is not None:
        need = np.minimum(need, cr["min_covered_m"])
    little = ~((res.rp_covered >= need - 1e-9) & (res.rp_covered > 0))
    other = np.zeros(len(dur), bool)
    if rules["own_chief_only"]:
        other = res.patrol_chief[res.rp_patrol] != info["chief"].to_numpy(dtype=object)[res.rp_river]
    reason = np.zeros(len(dur), dtype=np.int8)
    for code, mask in reversed(list(enumerate((other, short, fast, flagged, little), start=1))):
        reason[mask] = code
    return reason


def _level_rows(
    on: np.ndarray, rule: dict[str, Any], pairs: pd.DataFrame, lo_naive: pd.Timestamp, hi_naive: pd.Timestamp,
) -> list[dict[str, Any]]:
    """One row per river of one level: periods assessed, patrols counted and not, periods missed.

    ``pairs``: per (river, patrol) pair that passed a river, ``river`` (row), ``reason``
    (see :func:`_pair_reasons`) and ``local`` (start, local time without zone).
    """
    period = rule["period"]
    pr = pd.period_range(lo_naive, hi_naive, freq=_PERIODS[period])
    full = [p for p in pr if p.start_time >= lo_naive and p.end_time < hi_naive]
    labels = [_label(p, period) for p in full]
    sub = pairs[np.isin(pairs["river"].to_numpy(), on)]
    inside = sub["local"].dt.to_period(_PERIODS[period]).isin(full).to_numpy()
    reason = np.where((sub["reason"].to_numpy() == 0) & ~inside, len(NOT_COUNTED), sub["reason"].to_numpy())
    done = sub[reason == 0]
    count = done.groupby(["river", done["local"].dt.to_period(_PERIODS[period])]).size()
    why = pd.crosstab(sub["river"].to_numpy(), reason).reindex(columns=range(len(NOT_COUNTED) + 1), fill_value=0)
    rows = []
    for r in on:
        got = [int(count.get((r, p), 0)) for p in full]
        missed = [lab for lab, g in zip(labels, got, strict=True) if g < rule["min_patrols"]]
        not_counted = why.loc[r].to_numpy() if r in why.index else np.zeros(len(NOT_COUNTED) + 1, int)
        rows.append(
            {
                "_row": r,
                "period": period,
                "periods": len(full),
                "patrols_required": rule["min_patrols"] * len(full),
                "patrols_counted": int(sum(got)),
                **{f"not_counted_{name}": int(n) for name, n in zip(NOT_COUNTED, not_counted[1:], strict=True)},
                # Nothing to assess (no whole period in the range): unknown, not compliant.
                "compliant": (not missed) if full else None,
                "missed_periods": missed,
            }
        )
    return rows


def _by_chief(by_river: pd.DataFrame) -> pd.DataFrame:
    """Compliance per chief from the per-river table."""
    missed_tagged = [
        [f"{rid} {m}" for m in ms] for rid, ms in zip(by_river["river_id"], by_river["missed_periods"], strict=True)
    ]
    g = by_river.assign(_missed=missed_tagged).groupby("chief", sort=True, dropna=False)
    return pd.DataFrame(
        {
            "rivers": g.size(),
            "rivers_compliant": g["compliant"].agg(lambda s: int(s.eq(True).sum())),
            "patrols_required": g["patrols_required"].sum().astype(int),
            "patrols_counted": g["patrols_counted"].sum().astype(int),
            **{f"not_counted_{n}": g[f"not_counted_{n}"].sum().astype(int) for n in NOT_COUNTED},
            "compliant": g["compliant"].agg(lambda s: pd.NA if s.isna().all() else bool(s.dropna().all())),
            "missed_periods": g["_missed"].agg(lambda s: [m for ms in s for m in ms]),
        }
    ).reset_index()


def _compliance_table(
    res: PatrolAnalysis, rules: dict[str, Any], lo: pd.Timestamp, hi: pd.Timestamp,
    *, valid_only: bool | dict[str, Any] = False,
) -> Compliance:
    _check_compliance_rivers(res.rivers, rules)
    info = _river_info(res.rivers)
    pairs = pd.DataFrame({
        "river": res.rp_river, "reason": _pair_reasons(res, rules, info, valid_only),
        "local": _to_time(res.patrol_start_s[res.rp_patrol]).dt.tz_localize(None).to_numpy(),
    })
    lo_naive, hi_naive = lo.tz_localize(None), hi.tz_localize(None)
    levels = info["level"].to_numpy()
    rows: list[dict[str, Any]] = []
    for level, rule in rules["frequency"].items():  # a handful of levels; per-river work is vectorised
        on = np.flatnonzero(levels == level)
        if len(on):
            rows += _level_rows(on, rule, pairs, lo_naive, hi_naive)
    table = pd.DataFrame(rows).set_index("_row").sort_index()
    by_river = pd.concat([info, table.reset_index(drop=True)], axis=1)
    by_river["compliant"] = by_river["compliant"].astype("boolean")
    by_river["missed_periods"] = by_river["missed_periods"].apply(list)
    return Compliance(by_river=by_river, by_chief=_by_chief(by_river))
