"""Kernels of :mod:`dongping_geo.catchments`: drainage units, upstream slices."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import shapely

from ._network_core import euler_tour


def sample_points(geoms: np.ndarray, length: np.ndarray, spacing_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Points every ``spacing_m`` along each line, at the middle of equal sub-pieces.

    No point falls on a line's end, so points of different stretches never coincide
    at a junction. Returns the points and the line each belongs to.
    """
    n = np.maximum(np.ceil(length / spacing_m).astype(np.int64), 1)
    owner = np.repeat(np.arange(len(geoms)), n)
    k = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    frac = (k + 0.5) / n[owner]
    return shapely.line_interpolate_point(geoms[owner], frac, normalized=True), owner


def voronoi_cells(points: np.ndarray, owner: np.ndarray, area: shapely.Geometry) -> tuple[np.ndarray, np.ndarray]:
    """Voronoi cells of the points clipped to ``area`` (polygon parts) and the owner of each."""
    xy = shapely.get_coordinates(points)
    _, first = np.unique(xy, axis=0, return_index=True)
    first = np.sort(first)
    pts, own = points[first], owner[first]
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=area, ordered=True))
    shapely.prepare(area)
    inside = shapely.contains_properly(area, cells)
    cells[~inside] = shapely.intersection(cells[~inside], area)
    parts, idx = shapely.get_parts(cells, return_index=True)
    polys = shapely.get_type_id(parts) == 3
    return parts[polys], own[idx[polys]]


def dissolve(cells: np.ndarray, unit_of: np.ndarray, n_units: int) -> np.ndarray:
    """Coverage union of the cells of each unit (empty polygon for a unit without cells)."""
    order = np.argsort(unit_of, kind="stable")
    cell, unit_of = cells[order], unit_of[order]
    out = np.full(n_units, shapely.Polygon(), dtype=object)
    bounds = np.flatnonzero(np.diff(unit_of)) + 1
    starts = np.concatenate([[0], bounds]).astype(np.int64)
    stops = np.concatenate([bounds, [len(unit_of)]]).astype(np.int64)
    for a, b in zip(starts.tolist(), stops.tolist(), strict=True):  # one union per unit
        if b > a:
            out[unit_of[a]] = shapely.coverage_union_all(cell[a:b])
    return out


def bank_strips(catchments: np.ndarray, lines: np.ndarray, area: shapely.Geometry, width_m: float) -> np.ndarray:
    """Part of each catchment within ``width_m`` of a river.

    A place of a catchment within ``width_m`` of any river is within ``width_m`` of
    the upstream river it drains to (that one is nearer), so the strip is the
    catchment intersected with the strip of all rivers -- computed once, split into
    its connected parts and matched to the catchments with an STRtree.
    """
    every = shapely.intersection(shapely.buffer(shapely.multilinestrings(lines), width_m), area)
    parts = shapely.get_parts(every)
    left, right = shapely.STRtree(parts).query(catchments, predicate="intersects")
    pieces = shapely.intersection(catchments[left], parts[right])
    out = np.full(len(catchments), shapely.Polygon(), dtype=object)
    one = np.bincount(left, minlength=len(catchments)) == 1
    first = np.isin(left, np.flatnonzero(one))
    out[left[first]] = pieces[first]
    for i in np.flatnonzero(~one & (np.bincount(left, minlength=len(catchments)) > 1)).tolist():
        out[i] = shapely.union_all(pieces[left == i])
    return out


def upstream_slices(g: nx.DiGraph, stretches: pd.DataFrame, nodes: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Order of stretches such that each node's upstream stretches form one slice.

    Returns ``order`` (stretch rows, by pre-order of their upstream node) and, per
    node in ``nodes``, the slice ``[lo, hi)`` of ``order``.
    """
    n = g.number_of_nodes()
    succ = np.full(n, -1, dtype=np.int64)
    edges = np.array(list(g.edges()), dtype=np.int64).reshape(-1, 2)
    succ[edges[:, 0]] = edges[:, 1]
    tin, size = euler_tour(succ)
    key = tin[stretches["source"].to_numpy()]
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    # Strictly below the node: its own outgoing stretch is downstream.
    lo = np.searchsorted(sorted_key, tin[nodes], side="right")
    hi = np.searchsorted(sorted_key, tin[nodes] + size[nodes], side="left")
    return order, lo, hi
