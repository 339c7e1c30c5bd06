"""Fast (feature, zone) overlay for dongping_geo.landuse.check_violations.

The overlay of many small features (buildings) with few large zones (red lines,
farmland) is computed on a grid of square cells:

* Features whose bounding box lies in one cell (nearly all buildings) are joined to
  the zones by cell with integer arithmetic, no spatial predicate. Where a zone
  covers the whole cell, every feature in the cell lies inside it: the overlap is the
  feature itself, with no geometry operation at all. Where a zone boundary crosses
  the cell, the feature is tested against the zone's piece in that cell (a small
  polygon) with prepared predicates, and only boundary-crossing features get an
  intersection, computed with the small piece rather than the whole zone.
* Features spanning cells try the same on grids 4 and 16 times coarser.
* The very few left go through an STRtree of the features queried with the prepared
  zones: ``intersects`` pairs, ``contains_properly`` to find the ones inside (own
  geometry, own area), intersections for the rest.

Both paths give exactly the overlay of feature and zone (a feature inside a cell
meets the zone only within the cell), so results equal ``geopandas.overlay``.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import shapely

_MIN_CELL_M = 64.0
_MAX_CELL_M = 4096.0
_CELL_PER_FEATURE = 16.0  # cell edge in multiples of a large feature's extent
_TILE_MIN_VERTICES = 64  # zones simpler than this are intersected whole


def polygonal(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygonal parts of geometry collections (vectorised)."""
    geoms = np.asarray(geoms, dtype=object)
    gc = np.flatnonzero(shapely.get_type_id(geoms) == 7)
    if gc.size == 0:
        return geoms
    geoms = geoms.copy()
    parts, idx = shapely.get_parts(geoms[gc], return_index=True)
    # a collection may hold multipolygons: flatten one more level
    parts, idx2 = shapely.get_parts(parts, return_index=True)
    idx = idx[idx2]
    keep = shapely.get_type_id(parts) == 3
    out = np.empty(gc.size, dtype=object)
    out[:] = shapely.Polygon()
    if keep.any():  # (with no polygon at all, multipolygons returns an empty array)
        shapely.multipolygons(parts[keep], indices=idx[keep], out=out)
    geoms[gc] = out
    return geoms


def cell_size(bounds: np.ndarray) -> float:
    """A cell edge about 16 times the extent of a large (95th percentile) feature."""
    ext = np.fmax(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1])
    ext = ext[np.isfinite(ext)]
    if ext.size == 0:
        return 256.0
    return float(np.clip(_CELL_PER_FEATURE * np.percentile(ext, 95), _MIN_CELL_M, _MAX_CELL_M))


_THREAD_MIN_PAIRS = 20_000  # below this, threads cost more than they save


def threaded(func, *arrays: np.ndarray) -> np.ndarray:
    """``func(*arrays)`` for a thread-safe vectorised shapely function, over the CPUs.

    Shapely releases the GIL in its vectorised operations, so equal chunks of the
    arrays run in parallel threads with identical results. Only for functions that
    merely read their geometries and use no prepared geometry (GEOS prepared
    geometries are not thread-safe).
    """
    n = arrays[0].size
    n_threads = min(os.cpu_count() or 1, 8)
    if n_threads < 2 or n < _THREAD_MIN_PAIRS:
        return func(*arrays)
    edges = np.linspace(0, n, n_threads + 1).astype(int)
    chunks = list(zip(edges[:-1], edges[1:], strict=True))
    with ThreadPoolExecutor(max_workers=n_threads) as pool:
        parts = pool.map(lambda c: func(*(a[c[0] : c[1]] for a in arrays)), chunks)
        return np.concatenate(list(parts))


def _intersection(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return threaded(shapely.intersection, a, b)


def _empty():
    e = np.empty(0, dtype=np.intp)
    return e, e, np.empty(0, dtype=object), np.empty(0, dtype=float)


def overlay_pairs(
    feat_geoms: np.ndarray, zone_geoms: np.ndarray, *, cell_m: float | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return (feature index, zone index, overlap geometry, overlap area) of all pairs.

    Pairs whose overlap has no area (touching at an edge) may be returned with area 0;
    the caller filters them.
    """
    if feat_geoms.size == 0 or zone_geoms.size == 0:
        return _empty()
    present = ~(shapely.is_missing(feat_geoms) | shapely.is_empty(feat_geoms))
    bounds = shapely.bounds(feat_geoms)
    size = cell_size(bounds) if cell_m is None else float(cell_m)
    shapely.prepare(zone_geoms)
    # features spanning cells try a grid 4 and 16 times coarser before the tree
    todo = np.flatnonzero(present)
    parts = []
    for _ in range(_GRID_LEVELS):
        with np.errstate(invalid="ignore"):
            cell = np.floor(bounds[todo] / size)
        one = (cell[:, 0] == cell[:, 2]) & (cell[:, 1] == cell[:, 3])
        parts.append(_single_cell_pairs(feat_geoms, zone_geoms, todo[one], cell[one], size))
        todo = todo[~one]
        size *= _COARSEN
    parts.append(_tree_pairs(feat_geoms, zone_geoms, todo))
    return tuple(np.concatenate([p[i] for p in parts]) for i in range(4))  # type: ignore[return-value]


_GRID_LEVELS = 3
_COARSEN = 4.0


def _dense_unique(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(keys, return_inverse=True) for non-negative integer keys, in O(n)."""
    n_keys = int(keys.max()) + 1
    if n_keys > 8 * keys.size + 1_000_000:  # sparse keys: a table would be too large
        ukeys, inverse = np.unique(keys, return_inverse=True)
        return ukeys, inverse.ravel()
    occupied = np.bincount(keys, minlength=n_keys) > 0
    rank = np.cumsum(occupied) - 1
    return np.flatnonzero(occupied), rank[keys]


def _cell_zone_pieces(zones, cell, size):
    """Boxes of the occupied grid cells and the zones meeting them.

    Returns the cell of each feature (index into the boxes), the (zone, cell) pairs
    ``pz``, ``pc``, whether the zone covers the whole cell, and the zone's piece inside
    the cell where it does not (None where it does).
    """
    cx = cell[:, 0].astype(np.int64)
    cy = cell[:, 1].astype(np.int64)
    ox, oy = cx.min(), cy.min()
    ny = cy.max() - oy + 1
    keys = (cx - ox) * ny + (cy - oy)
    ukeys, f_cell = _dense_unique(keys)
    x0 = (ukeys // ny + ox) * size
    y0 = (ukeys % ny + oy) * size
    boxes = shapely.box(x0, y0, x0 + size, y0 + size)
    # which zones meet which occupied cells, and whether they cover the whole cell
    pz, pc = shapely.STRtree(boxes).query(zones, predicate="intersects")
    full = shapely.covers(zones[pz], boxes[pc])
    pieces = np.empty(pz.size, dtype=object)
    part = ~full
    pieces[part] = shapely.intersection(zones[pz[part]], boxes[pc[part]])
    return f_cell, pz, pc, full, pieces


def _pairs_of_cells(f_cell, pc):
    """Expand each feature over the (zone, cell) pairs of its cell.

    Returns, per (feature, pair) row, the feature's position in ``f_cell`` and the pair
    index; features whose cell meets no zone get no row.
    """
    # sort pairs by cell, then expand each feature over its cell's range of pairs
    order = np.argsort(pc, kind="stable")
    sorted_cells = pc[order]
    lo = np.searchsorted(sorted_cells, f_cell, side="left")
    hi = np.searchsorted(sorted_cells, f_cell, side="right")
    count = hi - lo
    total = int(count.sum())
    feature = np.repeat(np.arange(f_cell.size), count)
    offsets = np.arange(total) - np.repeat(np.cumsum(count) - count, count)
    return feature, order[np.repeat(lo, count) + offsets]


def _overlay_pieces(geoms, areas, rest, pc_geoms, f_geoms):
    """Fill ``geoms``/``areas`` at ``rest``, where a zone's boundary crosses the cell.

    Tests each feature against the zone's small piece in its cell; returns the rows
    of ``rest`` whose feature misses the piece.
    """
    # pieces are small: unprepared intersects is as fast as prepared, and (without
    # prepared geometry) safe to run in threads; contains_properly gains from
    # preparing, so the pieces are prepared after the threads are done
    hit = threaded(shapely.intersects, pc_geoms, f_geoms)
    miss = rest[~hit]
    rest, pc_geoms, f_geoms = rest[hit], pc_geoms[hit], f_geoms[hit]
    shapely.prepare(pc_geoms)
    within = shapely.contains_properly(pc_geoms, f_geoms)
    geoms[rest[within]] = f_geoms[within]
    areas[rest[within]] = shapely.area(f_geoms[within])
    cross = ~within
    inter = polygonal(_intersection(f_geoms[cross], pc_geoms[cross]))
    geoms[rest[cross]] = inter
    areas[rest[cross]] = shapely.area(inter)
    return miss


def _single_cell_pairs(feats, zones, idx, cell, size):
    """Overlay of the features ``idx``, each within the grid cell ``cell[k]``, with zones."""
    if idx.size == 0:
        return _empty()
    f_cell, pz, pc, full, pieces = _cell_zone_pieces(zones, cell, size)
    if pz.size == 0:
        return _empty()
    feature, pair = _pairs_of_cells(f_cell, pc)
    total = pair.size
    if total == 0:
        return _empty()
    fi = idx[feature]
    zi = pz[pair]
    geoms = np.empty(total, dtype=object)
    areas = np.zeros(total, dtype=float)
    # zone covers the cell: the feature is inside
    inside = full[pair]
    geoms[inside] = feats[fi[inside]]
    areas[inside] = shapely.area(geoms[inside])
    # zone boundary crosses the cell: test against the small piece
    rest = np.flatnonzero(~inside)
    if rest.size:
        miss = _overlay_pieces(geoms, areas, rest, pieces[pair[rest]], feats[fi[rest]])
        keep = np.ones(total, dtype=bool)
        keep[miss] = False
        fi, zi, geoms, areas = fi[keep], zi[keep], geoms[keep], areas[keep]
    return fi, zi, geoms, areas


def _tree_pairs(feats, zones, idx):
    if idx.size == 0:
        return _empty()
    sub = feats[idx]
    tree = shapely.STRtree(sub)
    zi, fi = tree.query(zones, predicate="intersects")
    if zi.size == 0:
        return _empty()
    inside = shapely.contains_properly(zones[zi], sub[fi])
    geoms = np.empty(zi.size, dtype=object)
    areas = np.empty(zi.size, dtype=float)
    geoms[inside] = sub[fi[inside]]
    areas[inside] = shapely.area(geoms[inside])
    cross = np.flatnonzero(~inside)
    if cross.size:
        inter = polygonal(_intersect_tiled(sub[fi[cross]], zones, zi[cross]))
        geoms[cross] = inter
        areas[cross] = shapely.area(inter)
    return idx[fi], zi, geoms, areas


def _intersect_tiled(feats: np.ndarray, zones: np.ndarray, zi: np.ndarray) -> np.ndarray:
    """Intersect each feature with its zone, cutting complex zones into tiles first.

    An intersection costs time in proportion to the zone's vertex count. A feature
    whose bounding box lies within one cell of a grid scaled to these (large)
    features meets the zone only in that cell, so the zone's piece in the cell is cut
    once and shared by the features there. The rest use the whole zone.
    """
    out = np.empty(feats.size, dtype=object)
    b = shapely.bounds(feats)
    size = 4.0 * cell_size(b)
    cell = np.floor(b / size)
    complex_zone = shapely.get_num_coordinates(zones) > _TILE_MIN_VERTICES
    tiled = (cell[:, 0] == cell[:, 2]) & (cell[:, 1] == cell[:, 3]) & complex_zone[zi]
    whole = ~tiled
    if whole.any():
        out[whole] = _intersection(feats[whole], zones[zi[whole]])
    if tiled.any():
        cx = cell[tiled, 0].astype(np.int64)
        cy = cell[tiled, 1].astype(np.int64)
        keys = np.stack([zi[tiled].astype(np.int64), cx - cx.min(), cy - cy.min()], axis=1)
        uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
        x0 = (uniq[:, 1] + cx.min()) * size
        y0 = (uniq[:, 2] + cy.min()) * size
        pieces = shapely.intersection(zones[uniq[:, 0]], shapely.box(x0, y0, x0 + size, y0 + size))
        out[tiled] = _intersection(feats[tiled], pieces[inverse.ravel()])
    return out
