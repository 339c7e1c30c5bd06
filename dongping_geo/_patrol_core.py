"""NumPy kernels behind :mod:`dongping_geo.patrol` (linear referencing of tracks onto rivers).

The covered part of a river is ``river ∩ buffer(track, r)``. A track is a chain of
straight segments, and the buffer of a chain is the union of the *capsules* (the
points within ``r`` of one segment). A capsule is convex, so its intersection with a
straight river segment is a single interval of that segment's measure. Every river is
exploded into 2-point segments with cumulative measures; every (track segment, river
segment) pair whose boxes come within ``r`` yields one exact interval; intervals are
unioned per river part with a sorted sweep. The result is exact up to floating point
(shapely's own buffer approximates circles by polygons, so the two differ slightly).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

_EPS = 1e-9


@dataclass
class RiverSegments:
    """Rivers exploded into straight segments laid out on one global measure axis.

    Part ``k`` occupies ``[part_start[k], part_start[k] + part_len[k]]`` of the axis;
    parts are separated by a 1 m gap so intervals of different parts never touch.
    """

    ax: np.ndarray  # segment start x (local origin)
    ay: np.ndarray
    ux: np.ndarray  # unit direction
    uy: np.ndarray
    seg_len: np.ndarray
    seg_m0: np.ndarray  # global measure of the segment start
    seg_part: np.ndarray  # part index of each segment
    part_river: np.ndarray  # river (row position) of each part
    part_start: np.ndarray
    part_len: np.ndarray
    vx: np.ndarray  # all part vertices (local origin), for cutting sub-lines
    vy: np.ndarray
    vm: np.ndarray  # global measure of each vertex
    v_part: np.ndarray
    origin: tuple[float, float]
    n_rivers: int


def explode_rivers(geoms: np.ndarray) -> RiverSegments:
    """Explode (Multi)LineStrings into measured 2-point segments."""
    n_rivers = len(geoms)
    parts, part_river = shapely.get_parts(geoms, return_index=True)
    coords, v_part = shapely.get_coordinates(parts, return_index=True)
    if len(coords) == 0:
        origin = (0.0, 0.0)
    else:
        origin = (float(coords[:, 0].min()), float(coords[:, 1].min()))
    vx = coords[:, 0] - origin[0]
    vy = coords[:, 1] - origin[1]
    same = v_part[1:] == v_part[:-1]
    dx = np.diff(vx)
    dy = np.diff(vy)
    step = np.where(same, np.hypot(dx, dy), 0.0)
    n_parts = len(parts)
    part_len = np.bincount(v_part[1:][same], weights=step[same], minlength=n_parts)
    part_start = np.concatenate([[0.0], np.cumsum(part_len + 1.0)[:-1]]) if n_parts else np.zeros(0)
    # Cumulative measure within each part: global cumsum minus the value at the part's first vertex.
    cum = np.concatenate([[0.0], np.cumsum(step)])
    first = np.searchsorted(v_part, np.arange(n_parts)) if n_parts else np.zeros(0, dtype=int)
    vm = cum - cum[first[v_part]] + part_start[v_part] if len(coords) else np.zeros(0)
    keep = same & (step > 0)  # drop repeated vertices (zero-length segments)
    seg_len = step[keep]
    return RiverSegments(
        ax=vx[:-1][keep],
        ay=vy[:-1][keep],
        ux=dx[keep] / seg_len,
        uy=dy[keep] / seg_len,
        seg_len=seg_len,
        seg_m0=vm[:-1][keep],
        seg_part=v_part[:-1][keep],
        part_river=np.asarray(part_river, dtype=np.int64),
        part_start=part_start,
        part_len=part_len,
        vx=vx,
        vy=vy,
        vm=vm,
        v_part=v_part,
        origin=origin,
        n_rivers=n_rivers,
    )


def candidate_pairs(
    rs: RiverSegments,
    px: np.ndarray,
    py: np.ndarray,
    qx: np.ndarray,
    qy: np.ndarray,
    tolerance_m: float,
    chunk: int = 4,
) -> tuple[np.ndarray, np.ndarray]:
    """(track segment, river segment) pairs whose boxes lie within ``tolerance_m``.

    Track segments are grouped in chunks of up to ``chunk`` consecutive, connected
    segments; only the chunk boxes go through the STRtree (creating a million shapely
    geometries would cost more than the whole computation), then each chunk hit is
    expanded to its segments and filtered by box overlap in NumPy.
    """
    n = len(px)
    if n == 0 or len(rs.seg_len) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    r = tolerance_m
    bx0 = np.minimum(px, qx)
    bx1 = np.maximum(px, qx)
    by0 = np.minimum(py, qy)
    by1 = np.maximum(py, qy)
    # Chunks never span a break in the track (another patrol, a cut link, lone fixes):
    # a chunk joining two far-apart pieces would have a box kilometres wide.
    pos = np.arange(n)
    brk = np.ones(n, dtype=bool)
    brk[1:] = (px[1:] != qx[:-1]) | (py[1:] != qy[:-1])
    run_start = np.maximum.accumulate(np.where(brk, pos, 0))
    starts = np.flatnonzero(brk | ((pos - run_start) % chunk == 0))
    sizes = np.diff(np.append(starts, n))
    cx0 = np.minimum.reduceat(bx0, starts)
    cx1 = np.maximum.reduceat(bx1, starts)
    cy0 = np.minimum.reduceat(by0, starts)
    cy1 = np.maximum.reduceat(by1, starts)
    ex = rs.ax + rs.ux * rs.seg_len
    ey = rs.ay + rs.uy * rs.seg_len
    sx0 = np.minimum(rs.ax, ex) - r
    sx1 = np.maximum(rs.ax, ex) + r
    sy0 = np.minimum(rs.ay, ey) - r
    sy1 = np.maximum(rs.ay, ey) + r
    tree = shapely.STRtree(shapely.box(sx0, sy0, sx1, sy1))
    c_idx, s_idx = tree.query(shapely.box(cx0, cy0, cx1, cy1))
    # Expand chunk hits to the segments of the chunk.
    c_start = starts[c_idx]
    c_size = sizes[c_idx]
    rep = np.repeat(np.arange(len(c_idx)), c_size)
    offs = np.arange(len(rep)) - np.repeat(np.cumsum(c_size) - c_size, c_size)
    t_idx = c_start[rep] + offs
    s_idx = s_idx[rep]
    ok = (
        (bx0[t_idx] <= sx1[s_idx])
        & (bx1[t_idx] >= sx0[s_idx])
        & (by0[t_idx] <= sy1[s_idx])
        & (by1[t_idx] >= sy0[s_idx])
    )
    return t_idx[ok], s_idx[ok]


def _slab(a: np.ndarray, b: np.ndarray, lo: float | np.ndarray, hi: float | np.ndarray):
    """Interval of t with lo <= a + b t <= hi (may be empty: start > end)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = (lo - a) / b
        t2 = (hi - a) / b
    flat = np.abs(b) < _EPS
    inside = (a >= lo) & (a <= hi)
    t_lo = np.where(flat, np.where(inside, -np.inf, np.inf), np.minimum(t1, t2))
    t_hi = np.where(flat, np.where(inside, np.inf, -np.inf), np.maximum(t1, t2))
    return t_lo, t_hi


def _disc(wx: np.ndarray, wy: np.ndarray, ux: np.ndarray, uy: np.ndarray, r2: float):
    """Interval of t where A + t u lies in the disc of radius r around A + w."""
    tp = wx * ux + wy * uy
    d2 = wx * wx + wy * wy - tp * tp
    h = np.sqrt(np.maximum(r2 - d2, 0.0))
    hit = d2 <= r2
    return np.where(hit, tp - h, np.inf), np.where(hit, tp + h, -np.inf)


def capsule_intervals(
    rs: RiverSegments,
    s_idx: np.ndarray,
    px: np.ndarray,
    py: np.ndarray,
    qx: np.ndarray,
    qy: np.ndarray,
    tolerance_m: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact global-measure interval of each river segment inside each track capsule.

    ``px, py, qx, qy`` are the track segment ends already gathered per pair. Returns
    ``(start, end)``; empty intervals have ``start >= end``.
    """
    r2 = tolerance_m * tolerance_m
    ax, ay = rs.ax[s_idx], rs.ay[s_idx]
    ux, uy = rs.ux[s_idx], rs.uy[s_idx]
    L = rs.seg_len[s_idx]
    # The capsule is the union of the two end discs and the rectangle between them;
    # being convex, its trace on a line is one interval = hull of the three traces.
    lo1, hi1 = _disc(px - ax, py - ay, ux, uy, r2)
    lo2, hi2 = _disc(qx - ax, qy - ay, ux, uy, r2)
    vx, vy = qx - px, qy - py
    ln = np.hypot(vx, vy)
    with np.errstate(divide="ignore", invalid="ignore"):
        ex = np.where(ln > 0, vx / ln, 0.0)
        ey = np.where(ln > 0, vy / ln, 0.0)
    # Along-track coordinate s(t) = (A - P)·e + t u·e in [0, ln]; across c(t) in [-r, r].
    s0 = (ax - px) * ex + (ay - py) * ey
    s1 = ux * ex + uy * ey
    c0 = -(ax - px) * ey + (ay - py) * ex
    c1 = -ux * ey + uy * ex
    a_lo, a_hi = _slab(s0, s1, 0.0, ln)
    b_lo, b_hi = _slab(c0, c1, -tolerance_m, tolerance_m)
    lo3 = np.maximum(a_lo, b_lo)
    hi3 = np.minimum(a_hi, b_hi)
    rect = (ln > 0) & (lo3 < hi3)
    lo3 = np.where(rect, lo3, np.inf)
    hi3 = np.where(rect, hi3, -np.inf)
    lo = np.minimum(np.minimum(lo1, lo2), lo3)
    hi = np.maximum(np.maximum(hi1, hi2), hi3)
    lo = np.clip(lo, 0.0, L)
    hi = np.clip(hi, 0.0, L)
    m0 = rs.seg_m0[s_idx]
    return m0 + lo, m0 + hi


def union_intervals(
    group: np.ndarray, start: np.ndarray, end: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Union intervals within each group (a sorted sweep, no Python loop).

    Intervals of different groups must not be merged, so each group is shifted to its
    own stretch of the axis before one global sweep.

    Returns
    -------
    (group, start, end) of the disjoint merged intervals, sorted by group then start.
    """
    keep = end > start
    group, start, end = group[keep], start[keep], end[keep]
    if len(start) == 0:
        return group, start, end
    order = np.lexsort((start, group))
    group, start, end = group[order], start[order], end[order]
    # Running max of end within a group: add a per-group offset larger than any span.
    span = float(max(np.max(end), 0.0)) + 1.0
    ranks = np.concatenate([[0], np.cumsum(group[1:] != group[:-1])])
    shift = ranks * (span * 2.0)
    run_end = np.maximum.accumulate(end + shift) - shift
    new = np.ones(len(start), dtype=bool)
    new[1:] = (group[1:] != group[:-1]) | (start[1:] > run_end[:-1])
    heads = np.flatnonzero(new)
    return group[heads], start[heads], np.maximum.reduceat(end, heads)


def complement_intervals(
    rs: RiverSegments, part: np.ndarray, start: np.ndarray, end: np.ndarray, min_length_m: float = 0.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gaps of merged, sorted per-part intervals: the uncovered stretches of every part."""
    n_parts = len(rs.part_len)
    # Boundaries per part: [part_start, covered..., part_end] → gaps between consecutive ones.
    g_part = np.concatenate([np.arange(n_parts), part])
    g_lo = np.concatenate([rs.part_start, end])  # gap starts: part start, or end of a covered block
    order = np.lexsort((g_lo, g_part))
    g_part, g_lo = g_part[order], g_lo[order]
    h_part = np.concatenate([part, np.arange(n_parts)])
    h_hi = np.concatenate([start, rs.part_start + rs.part_len])  # gap ends
    order = np.lexsort((h_hi, h_part))
    h_hi = h_hi[order]
    ok = h_hi - g_lo > max(min_length_m, 1e-9)
    return g_part[ok], g_lo[ok], h_hi[ok]


def cut_lines(rs: RiverSegments, part: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """LineStrings of the global-measure intervals [start, end] of the given parts."""
    if len(start) == 0:
        return np.empty(0, dtype=object)
    vm = rs.vm
    # Interior vertices of each interval, plus interpolated end points.
    i0 = np.searchsorted(vm, start, side="right")
    i1 = np.searchsorted(vm, end, side="left")
    n_inner = np.maximum(i1 - i0, 0)
    counts = n_inner + 2
    line = np.repeat(np.arange(len(start)), counts)
    pos = np.arange(len(line)) - np.repeat(np.cumsum(counts) - counts, counts)
    m = np.empty(len(line))
    first = pos == 0
    last = pos == np.repeat(counts - 1, counts)
    inner = ~(first | last)
    m[first] = start
    m[last] = end
    vidx = np.repeat(i0, counts) + pos - 1
    m[inner] = vm[vidx[inner]]
    # Interpolate x, y within the right part: the 1 m gaps between parts keep np.interp
    # from blending neighbouring parts as long as m lies inside the part.
    x = np.interp(m, vm, rs.vx) + rs.origin[0]
    y = np.interp(m, vm, rs.vy) + rs.origin[1]
    return shapely.linestrings(np.column_stack([x, y]), indices=line)
