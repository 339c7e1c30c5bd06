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


def drainage_cells(points: np.ndarray, owner: np.ndarray, area: shapely.Geometry,
                   n_units: int) -> np.ndarray:
    """Voronoi cells of the points, clipped to ``area``, dissolved per owner (coverage union)."""
    xy = shapely.get_coordinates(points)
    _, first = np.unique(xy, axis=0, return_index=True)
    first = np.sort(first)
    pts, own = points[first], owner[first]
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=area, ordered=True))
    shapely.prepare(area)
    inside = shapely.contains_properly(area, cells)
    cells = cells.copy()
    cells[~inside] = shapely.intersection(cells[~inside], area)
    cells = shapely.get_parts(cells, return_index=True)
    polys = shapely.get_type_id(cells[0]) == 3
    cell, idx = cells[0][polys], cells[1][polys]
    unit_of = own[idx]
    order = np.argsort(unit_of, kind="stable")
    cell, unit_of = cell[order], unit_of[order]
    out = np.full(n_units, shapely.Polygon(), dtype=object)
    bounds = np.flatnonzero(np.diff(unit_of)) + 1
    starts = np.concatenate([[0], bounds])
    stops = np.concatenate([bounds, [len(unit_of)]])
    for s, e in zip(starts.tolist(), stops.tolist(), strict=True):
        out[unit_of[s]] = shapely.coverage_union_all(cell[s:e])
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
