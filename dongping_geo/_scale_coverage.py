"""Per-partition steps of the dask patrol-coverage engine, built on the in-memory kernels.

Nothing here re-implements the coverage logic: every step calls the functions that
:func:`dongping_geo.patrol.river_coverage` itself uses (``check_fixes``,
``to_local_time``, ``patrol_keys``, ``build_tracks``, ``track_segments`` from
:mod:`dongping_geo._patrol_tracks`; ``candidate_pairs``, ``capsule_intervals``,
``union_intervals`` from :mod:`dongping_geo._patrol_core`). The dask engine only
decides which rows meet in which partition and merges the partial results:

1. :func:`prepare_fixes` (per input partition): validate, keep the fixes in the
   period, reduce them to ``x, y, t`` plus the grouping key (patrol, or chief for
   fixes without a patrol id) and their position in the input.
2. shuffle on the key, so every patrol lies whole in one partition; then
   :func:`fix_segments` joins its fixes into track segments, exactly as in memory
   (GPS jumps and time gaps need a patrol's neighbouring fixes, which is why this
   happens before any spatial partitioning).
3. the segments are range-partitioned by the Hilbert distance of their midpoints
   (:func:`hilbert_keys`); :func:`segment_intervals` cuts the covered intervals out
   of the nearby river segments and unions them per (river part, patrol).
4. :func:`merge_partials` unions the partial intervals again across partitions.
   Interval union is associative and the interval ends are the kernel's own numbers,
   so the merged result equals the in-memory one up to summation order.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import _patrol_core as core
from ._patrol_tracks import (
    build_tracks,
    patrol_keys,
    patrol_stats,
    seconds,
    select_fixes,
    track_segments,
)

#: Columns of the reduced fixes (step 1) and their dtypes.
FIX_META = {
    "_key": "object",
    "t": "float64",
    "x": "float64",
    "y": "float64",
    "_pi": "int64",
    "_pos": "int64",
    "chief": "object",
}
#: Columns of the track segments (step 2).
SEG_META = {"patrol": "int64", "x0": "float64", "y0": "float64", "x1": "float64",
            "y1": "float64", "t": "float64"}
#: Columns of the per-patrol statistics (step 2b, for compliance).
STATS_META = {"patrol": "int64", "name": "object", "start_s": "float64", "end_s": "float64",
              "length_m": "float64", "chief": "object"}
#: Columns of the partial results (step 3).
PARTIAL_META = {"part": "int64", "patrol": "int64", "lo": "float64", "hi": "float64",
                "t": "float64"}
HILBERT_LEVEL = 16
# Global patrol code = partition number << 32 | code within the partition.
_PATROL_SHIFT = 32
_NO_PATROL = "\x1f"  # prefix of the grouping key of fixes without a patrol id


def empty(meta: dict[str, str]) -> pd.DataFrame:
    """An empty frame with the given columns and dtypes (dask ``meta``)."""
    return pd.DataFrame({c: pd.Series(dtype=d) for c, d in meta.items()})


def prepare_fixes(
    fixes: gpd.GeoDataFrame,
    *,
    rivers_crs: Any,
    lo: pd.Timestamp | None,
    hi: pd.Timestamp | None,
    partition_info: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Step 1: validated fixes in ``[lo, hi)`` as ``x, y, t`` with their grouping key."""
    fixes, ts = select_fixes(fixes, crs=rivers_crs, lo=lo, hi=hi)
    xy = shapely.get_coordinates(fixes.geometry.values)
    n = len(fixes)
    # One string per fix crosses the shuffle: the patrol id, or for fixes without
    # one, a marker + the chief (patrol_keys splits those per chief at time gaps, so
    # all of a chief's such fixes must meet in one partition).
    key = pd.Series(np.full(n, _NO_PATROL, dtype=object))
    chief = pd.Series(np.full(n, None, dtype=object))
    if "chief" in fixes.columns:
        chief = fixes["chief"].reset_index(drop=True).astype(object)
        key = key + chief.where(chief.notna(), "").astype(str)
    if "patrol_id" in fixes.columns:
        pid = fixes["patrol_id"].reset_index(drop=True)
        key = key.where(pid.isna(), pid.astype(object).astype(str))
    number = partition_info["number"] if partition_info else 0
    return pd.DataFrame(
        {
            "_key": key.to_numpy(dtype=object),
            "t": seconds(ts),
            "x": xy[:, 0],
            "y": xy[:, 1],
            "_pi": np.full(n, number, dtype=np.int64),
            "_pos": np.arange(n, dtype=np.int64),  # input order, for a stable sort
            "chief": chief.where(chief.notna(), None).to_numpy(dtype=object),
        }
    )


def _partition_tracks(df: pd.DataFrame, *, max_gap_s: float, max_speed_kmh: float) -> tuple[pd.DataFrame, Any]:
    """The partition's fixes in input order and their tracks, exactly as ``patrol.analyse`` builds them."""
    # Input order decides ties (two fixes of a patrol at the same instant).
    df = df.iloc[np.lexsort((df["_pos"].to_numpy(), df["_pi"].to_numpy()))]
    t_s = df["t"].to_numpy(dtype=float)
    key = df["_key"].astype(object)
    no_pid = key.str.startswith(_NO_PATROL).to_numpy(dtype=bool)
    ids = pd.DataFrame({
        "patrol_id": np.where(no_pid, None, key.to_numpy(dtype=object)),
        "chief": np.where(no_pid, key.str.slice(1).to_numpy(dtype=object), None),
    })
    patrol = patrol_keys(ids, t_s, max_gap_s)
    fx = gpd.GeoDataFrame(geometry=shapely.points(df["x"].to_numpy(dtype=float), df["y"].to_numpy(dtype=float)))
    return df, build_tracks(fx, patrol=patrol, t_s=t_s, max_gap_s=max_gap_s, max_speed_kmh=max_speed_kmh)


def _global_codes(local: np.ndarray, partition_info: dict[str, Any] | None) -> np.ndarray:
    number = partition_info["number"] if partition_info else 0
    return (np.int64(number) << _PATROL_SHIFT) + np.asarray(local).astype(np.int64)


def fix_segments(
    df: pd.DataFrame,
    *,
    max_gap_s: float,
    max_speed_kmh: float,
    partition_info: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Step 2: track segments of whole patrols, exactly as ``patrol.analyse`` builds them."""
    if len(df) == 0:
        return empty(SEG_META)
    _, tr = _partition_tracks(df, max_gap_s=max_gap_s, max_speed_kmh=max_speed_kmh)
    si, sj = track_segments(tr)
    return pd.DataFrame(
        {
            "patrol": _global_codes(tr.patrol[si], partition_info),
            "x0": tr.x[si],
            "y0": tr.y[si],
            "x1": tr.x[sj],
            "y1": tr.y[sj],
            "t": np.maximum(tr.t[si], tr.t[sj]),
        }
    )


def fix_patrol_stats(
    df: pd.DataFrame,
    *,
    max_gap_s: float,
    max_speed_kmh: float,
    partition_info: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Step 2b: start, end, length and chief of every patrol, with the codes of step 2."""
    if len(df) == 0:
        return empty(STATS_META)
    df, tr = _partition_tracks(df, max_gap_s=max_gap_s, max_speed_kmh=max_speed_kmh)
    p_start, p_end, p_len, p_chief = patrol_stats(tr, df["chief"].to_numpy(dtype=object))
    return pd.DataFrame(
        {
            "patrol": _global_codes(np.arange(len(tr.patrol_names)), partition_info),
            "name": np.asarray(tr.patrol_names, dtype=object),
            "start_s": p_start,
            "end_s": p_end,
            "length_m": p_len,
            "chief": p_chief,
        }
    )


def river_extent(rs: core.RiverSegments, tolerance_m: float) -> tuple[float, float, float, float]:
    """Bounds (local origin) of all river segments grown by the tolerance."""
    if len(rs.seg_len) == 0:
        return (0.0, 0.0, 1.0, 1.0)
    ex = rs.ax + rs.ux * rs.seg_len
    ey = rs.ay + rs.uy * rs.seg_len
    return (
        float(min(rs.ax.min(), ex.min())) - tolerance_m,
        float(min(rs.ay.min(), ey.min())) - tolerance_m,
        float(max(rs.ax.max(), ex.max())) + tolerance_m,
        float(max(rs.ay.max(), ey.max())) + tolerance_m,
    )


def hilbert_distance(
    mx: np.ndarray, my: np.ndarray, extent: tuple[float, float, float, float]
) -> np.ndarray:
    """Hilbert distance (dask-geopandas' encoding, level 16) of points clipped to ``extent``."""
    from dask_geopandas.hilbert_distance import _encode

    n = (1 << HILBERT_LEVEL) - 1
    x0, y0, x1, y1 = extent
    xd = np.clip((mx - x0) * (n / max(x1 - x0, 1e-9)), 0, n).astype(np.uint32)
    yd = np.clip((my - y0) * (n / max(y1 - y0, 1e-9)), 0, n).astype(np.uint32)
    return _encode(HILBERT_LEVEL, xd, yd).astype(np.int64)


def hilbert_divisions(rs: core.RiverSegments, extent: tuple[float, float, float, float],
                      npartitions: int) -> list[int]:
    """Range boundaries of Hilbert distance giving each partition a similar river length.

    Patrol tracks follow the rivers, so river length is a proxy for segment density
    that is known before the data is read (no extra pass over the fixes).
    """
    top = int(1 << (2 * HILBERT_LEVEL))
    if len(rs.seg_len) == 0 or npartitions <= 1:
        return [0, top]
    mx = rs.ax + rs.ux * rs.seg_len / 2
    my = rs.ay + rs.uy * rs.seg_len / 2
    h = hilbert_distance(mx, my, extent)
    order = np.argsort(h, kind="stable")
    cum = np.cumsum(rs.seg_len[order])
    targets = cum[-1] * np.arange(1, npartitions) / npartitions
    cuts = h[order][np.searchsorted(cum, targets)]
    return sorted({0, *map(int, cuts), top})


def segment_hilbert(seg: pd.DataFrame, *, origin: tuple[float, float],
                    extent: tuple[float, float, float, float]) -> pd.DataFrame:
    """Segments with ``_h``, the Hilbert distance of their midpoints."""
    mx = (seg["x0"].to_numpy() + seg["x1"].to_numpy()) / 2 - origin[0]
    my = (seg["y0"].to_numpy() + seg["y1"].to_numpy()) / 2 - origin[1]
    return seg.assign(_h=hilbert_distance(mx, my, extent))


def segment_intervals(seg: pd.DataFrame, *, rs: core.RiverSegments, tolerance_m: float) -> pd.DataFrame:
    """Step 3: covered intervals per (river part, patrol) in one partition of segments."""
    if len(seg) == 0 or len(rs.seg_len) == 0:
        return empty(PARTIAL_META)
    ox, oy = rs.origin
    # candidate_pairs boxes runs of consecutive segments: in track order a run can
    # span two patrols kilometres apart (and lone fixes come last, from everywhere),
    # so order the segments along a Hilbert curve first (the result is order-free).
    if seg.index.name == "_h":  # after the spatial shuffle (set_index)
        h = seg.index.to_numpy()
    else:
        mx = (seg["x0"].to_numpy() + seg["x1"].to_numpy()) / 2 - ox
        my = (seg["y0"].to_numpy() + seg["y1"].to_numpy()) / 2 - oy
        h = hilbert_distance(mx, my, river_extent(rs, tolerance_m))
    if len(h) > 1 and (np.diff(h) < 0).any():
        seg = seg.iloc[np.argsort(h, kind="stable")]
    px = seg["x0"].to_numpy(dtype=float) - ox
    py = seg["y0"].to_numpy(dtype=float) - oy
    qx = seg["x1"].to_numpy(dtype=float) - ox
    qy = seg["y1"].to_numpy(dtype=float) - oy
    # Only the river segments near this partition's segments go into the tree.
    r = tolerance_m
    ex = rs.ax + rs.ux * rs.seg_len
    ey = rs.ay + rs.uy * rs.seg_len
    near = (
        (np.minimum(rs.ax, ex) - r <= max(px.max(), qx.max()))
        & (np.maximum(rs.ax, ex) + r >= min(px.min(), qx.min()))
        & (np.minimum(rs.ay, ey) - r <= max(py.max(), qy.max()))
        & (np.maximum(rs.ay, ey) + r >= min(py.min(), qy.min()))
    )
    if not near.any():
        return empty(PARTIAL_META)
    sub = dataclasses.replace(
        rs, ax=rs.ax[near], ay=rs.ay[near], ux=rs.ux[near], uy=rs.uy[near],
        seg_len=rs.seg_len[near], seg_m0=rs.seg_m0[near], seg_part=rs.seg_part[near],
    )
    t_idx, s_idx = core.candidate_pairs(sub, px, py, qx, qy, r)
    m_lo, m_hi = core.capsule_intervals(sub, s_idx, px[t_idx], py[t_idx], qx[t_idx], qy[t_idx], r)
    hit = m_hi > m_lo
    t_idx, s_idx, m_lo, m_hi = t_idx[hit], s_idx[hit], m_lo[hit], m_hi[hit]
    if len(t_idx) == 0:
        return empty(PARTIAL_META)
    code, uniq = pd.factorize(seg["patrol"].to_numpy()[t_idx])
    n = np.int64(len(uniq))
    key = sub.seg_part[s_idx].astype(np.int64) * n + code
    k, lo, hi = core.union_intervals(key, m_lo, m_hi)
    last = pd.Series(seg["t"].to_numpy()[t_idx]).groupby(key).max()
    return pd.DataFrame(
        {
            "part": k // n,
            "patrol": np.asarray(uniq, dtype=np.int64)[k % n],
            "lo": lo,
            "hi": hi,
            "t": last.reindex(k).to_numpy(),
        }
    )


@dataclasses.dataclass
class Merged:
    """Merged coverage: per-part union over patrols and per (river, patrol) totals."""

    part: np.ndarray
    start: np.ndarray
    end: np.ndarray
    rp_river: np.ndarray
    rp_covered: np.ndarray
    rp_last_s: np.ndarray
    rp_patrol: np.ndarray  # code into ``patrols`` of merge_partials (or dense codes)


def merge_partials(partials: pd.DataFrame, rs: core.RiverSegments, patrols: np.ndarray | None = None) -> Merged:
    """Step 4: union the partial intervals exactly as ``patrol.analyse`` does in one go.

    ``patrols``: the global patrol codes of step 2b; ``rp_patrol`` then indexes them.
    """
    part = partials["part"].to_numpy(dtype=np.int64)
    if patrols is None:
        code, _ = pd.factorize(partials["patrol"].to_numpy())
        n = np.int64(max(code.max() + 1, 1)) if len(code) else np.int64(1)
    else:
        code = pd.Index(patrols).get_indexer(partials["patrol"].to_numpy())
        n = np.int64(max(len(patrols), 1))
    key = part * n + code
    k, b_lo, b_hi = core.union_intervals(
        key, partials["lo"].to_numpy(dtype=float), partials["hi"].to_numpy(dtype=float)
    )
    kp, kq = k // n, k % n
    upart, u_lo, u_hi = core.union_intervals(kp, b_lo, b_hi)
    rp = pd.DataFrame({"river": rs.part_river[kp], "patrol": kq, "covered": b_hi - b_lo}).groupby(
        ["river", "patrol"], sort=True
    )["covered"].sum()
    last = pd.DataFrame(
        {"river": rs.part_river[part], "patrol": code, "t": partials["t"].to_numpy(dtype=float)}
    ).groupby(["river", "patrol"], sort=True)["t"].max()
    return Merged(
        part=upart,
        start=u_lo,
        end=u_hi,
        rp_river=rp.index.get_level_values(0).to_numpy(),
        rp_covered=rp.to_numpy(),
        rp_last_s=last.reindex(rp.index).to_numpy(),
        rp_patrol=rp.index.get_level_values(1).to_numpy(),
    )
