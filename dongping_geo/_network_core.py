"""Vectorised kernels of :mod:`dongping_geo.network`: junctions, cuts, substrings, tours."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely


def junctions(geoms: np.ndarray, snap_m: float) -> pd.DataFrame:
    """Every place where two rivers meet, once per ordered pair and place.

    Two sources, both vectorised: line ends within ``snap_m`` of another line
    (STRtree ``dwithin``; T-junctions and end-to-end joins) and proper crossings
    (STRtree ``intersects`` + pairwise ``intersection``). Chainages come from
    ``line_locate_point``; a chainage within ``snap_m`` of a line end is set to
    the end, and places of one pair closer than ``snap_m`` along ``a`` merge.

    Returns columns ``a``, ``b`` (river positions), ``m_a``, ``m_b`` (chainage
    on each, m), ``x``, ``y`` — both orders of every pair.
    """
    n = len(geoms)
    tree = shapely.STRtree(geoms)
    ends = np.concatenate([shapely.get_point(geoms, 0), shapely.get_point(geoms, -1)])
    owner = np.tile(np.arange(n), 2)
    e_idx, line = tree.query(ends, predicate="dwithin", distance=snap_m)
    keep = owner[e_idx] != line
    e_idx, line = e_idx[keep], line[keep]
    pts_end = ends[e_idx]
    a1, b1 = owner[e_idx], line
    # Proper crossings (and touching interiors).
    la, lb = tree.query(geoms, predicate="intersects")
    keep = la < lb
    la, lb = la[keep], lb[keep]
    inter = shapely.intersection(geoms[la], geoms[lb])
    xy, which = shapely.get_coordinates(inter, return_index=True)
    a2, b2 = la[which], lb[which]
    pts_x = shapely.points(xy)
    a = np.concatenate([a1, a2, b2])
    b = np.concatenate([b1, b2, a2])
    pts = np.concatenate([pts_end, pts_x, pts_x])
    if len(a) == 0:
        empty = {c: np.array([], dtype=float) for c in ("m_a", "m_b", "x", "y")}
        return pd.DataFrame({"a": np.array([], dtype=np.int64), "b": np.array([], dtype=np.int64)} | empty)
    m_a = snap_to_ends(shapely.line_locate_point(geoms[a], pts), shapely.length(geoms[a]), snap_m)
    m_b = snap_to_ends(shapely.line_locate_point(geoms[b], pts), shapely.length(geoms[b]), snap_m)
    c = shapely.get_coordinates(pts)
    df = pd.DataFrame({"a": a, "b": b, "m_a": m_a, "m_b": m_b, "x": c[:, 0], "y": c[:, 1]})
    df = df.sort_values(["a", "b", "m_a"], kind="stable").reset_index(drop=True)
    same = (df["a"].diff() == 0) & (df["b"].diff() == 0) & (df["m_a"].diff() <= snap_m)
    return df[~same.to_numpy()].reset_index(drop=True)


def snap_to_ends(m: np.ndarray, length: np.ndarray, snap_m: float) -> np.ndarray:
    """Chainages within ``snap_m`` of 0 or of the line's length, set to that end."""
    m = np.where(m <= snap_m, 0.0, m)
    return np.where(length - m <= snap_m, length, m)


def cut_table(river: np.ndarray, m: np.ndarray, length: np.ndarray, snap_m: float) -> pd.DataFrame:
    """Sorted, de-duplicated cut chainages per river, always including both ends."""
    n = len(length)
    r = np.concatenate([np.arange(n), np.arange(n), river])
    mm = np.concatenate([np.zeros(n), length, m])
    df = pd.DataFrame({"river": r, "m": mm}).sort_values(["river", "m"], kind="stable")
    d = df["m"].diff().to_numpy()
    same = (df["river"].diff().to_numpy() == 0) & (d <= snap_m)
    df = df[~same]
    # A cut within snap_m of the far end merged into the previous cut: put the end back.
    df = df.reset_index(drop=True)
    last = df.groupby("river")["m"].transform("max").to_numpy()
    ends = length[df["river"].to_numpy()]
    df.loc[(df["m"].to_numpy() == last) & (last < ends), "m"] = ends[(df["m"].to_numpy() == last) & (last < ends)]
    return df


def substrings(geoms: np.ndarray, river: np.ndarray, m0: np.ndarray, m1: np.ndarray) -> np.ndarray:
    """Parts of lines between chainages ``m0 < m1`` (digitised direction), vectorised.

    ``river`` indexes ``geoms``; the start and end points are interpolated, the
    vertices strictly between are copied.
    """
    if len(river) == 0:
        return np.array([], dtype=object)
    coords, vidx = shapely.get_coordinates(geoms, return_index=True)
    seg = np.hypot(*np.diff(coords, axis=0).T)
    seg[vidx[1:] != vidx[:-1]] = 0.0
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    first = np.searchsorted(vidx, np.arange(len(geoms)))
    cum = cum - cum[first][vidx]  # chainage of every vertex on its own line
    start = shapely.get_coordinates(shapely.line_interpolate_point(geoms[river], m0))
    end = shapely.get_coordinates(shapely.line_interpolate_point(geoms[river], m1))
    # Vertices strictly inside (m0, m1) of each piece: vertex ranges per line.
    # One monotone key over all lines: line position x span + chainage.
    span = float(cum.max()) + 1.0
    key = vidx * span + cum
    lo = np.searchsorted(key, river * span + m0, side="right")
    hi = np.searchsorted(key, river * span + m1, side="left")
    k = np.maximum(hi - lo, 0)
    total = k + 2
    offs = np.cumsum(total) - total
    out = np.empty((int(total.sum()), 2))
    out[offs] = start
    out[offs + total - 1] = end
    inner_piece = np.repeat(np.arange(len(river)), k)
    inner_pos = np.arange(int(k.sum())) - np.repeat(np.cumsum(k) - k, k)
    out[offs[inner_piece] + 1 + inner_pos] = coords[lo[inner_piece] + inner_pos]
    return shapely.linestrings(out, indices=np.repeat(np.arange(len(river)), total))


def euler_tour(succ: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pre-order index and subtree size of every node of a forest given by successors.

    ``succ[i]`` is the node ``i`` flows into (-1 at a root). The upstream nodes of
    ``i`` are exactly the nodes whose pre-order index lies in
    ``[tin[i], tin[i] + size[i])``.
    """
    n = len(succ)
    children: list[list[int]] = [[] for _ in range(n)]
    for i, s in enumerate(succ.tolist()):
        if s >= 0:
            children[s].append(i)
    tin = np.full(n, -1, dtype=np.int64)
    size = np.ones(n, dtype=np.int64)
    order: list[int] = []
    for root in np.flatnonzero(succ < 0).tolist():
        stack = [root]
        while stack:
            v = stack.pop()
            tin[v] = len(order)
            order.append(v)
            stack.extend(children[v])
    for v in reversed(order):
        if succ[v] >= 0:
            size[succ[v]] += size[v]
    return tin, size
