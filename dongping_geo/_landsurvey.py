"""Kernels for the land-survey analyses in :mod:`dongping_geo.landuse`.

* :func:`geodesic_areas`: polygon areas on the CGCS2000 ellipsoid with pyproj's ``Geod``
  (GeographicLib's geodesic polygon area), one call per ring: pyproj exposes no
  vectorised polygon-area call, so this is the one loop over features here.
* :func:`partition_pairs`: the exact overlay of many small polygons (buildings, or the
  parcels of another vintage) with the parcels of a survey. Intersecting pairs come from
  an STRtree of the parcels; equal geometries (the same parcel in two vintages) are
  matched without an overlay (and, for two partitions, their other pairs dropped);
  prepared ``contains_properly`` finds the polygons lying inside one parcel (overlap =
  the polygon itself), and only the rest get ``shapely.intersection``, split over the
  CPUs in threads. The grid
  kernel of :mod:`dongping_geo._landuse_overlay` suits few large zones; a survey has
  many parcels of about a building's scale, where the tree is faster.
"""

from __future__ import annotations

import numpy as np
import pyproj
import shapely

from ._landuse_overlay import polygonal, threaded

_GEOGRAPHIC = pyproj.CRS.from_epsg(4490)  # CGCS2000 geographic


def geodesic_areas(geoms: np.ndarray, crs: pyproj.CRS) -> np.ndarray:
    """Return the area in m² of each polygon on the CGCS2000 ellipsoid.

    Parameters
    ----------
    geoms : ndarray of shapely geometries
        Polygons or multipolygons in ``crs``.
    crs : pyproj.CRS
        Their CRS.

    Returns
    -------
    ndarray of float
        Ellipsoidal areas (holes subtracted); 0 for empty or missing geometries.
    """
    geoms = np.asarray(geoms, dtype=object)
    out = np.zeros(len(geoms))
    present = np.flatnonzero(~(shapely.is_missing(geoms) | shapely.is_empty(geoms)))
    if present.size == 0:
        return out
    parts, part_of = shapely.get_parts(geoms[present], return_index=True)
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    # first ring of each polygon is its exterior: +, interiors: -
    first = np.r_[True, ring_of[1:] != ring_of[:-1]]
    sign = np.where(first, 1.0, -1.0)
    coords, coord_of = shapely.get_coordinates(rings, return_index=True)
    to_geo = pyproj.Transformer.from_crs(crs, _GEOGRAPHIC, always_xy=True)
    lon, lat = to_geo.transform(coords[:, 0], coords[:, 1])
    geod = _GEOGRAPHIC.get_geod()
    assert geod is not None
    bounds = np.r_[0, np.cumsum(np.bincount(coord_of, minlength=len(rings)))]
    ring_area = np.empty(len(rings))
    for k in range(len(rings)):  # pyproj has no vectorised polygon area
        s, e = bounds[k], bounds[k + 1]
        ring_area[k] = abs(geod.polygon_area_perimeter(lon[s:e], lat[s:e])[0])
    per_part = np.bincount(ring_of, weights=sign * ring_area, minlength=len(parts))
    out[present] = np.bincount(part_of, weights=per_part, minlength=present.size)
    return out


def partition_pairs(
    small: np.ndarray, parcels: np.ndarray, *, twins: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return (small index, parcel index, overlap geometry, overlap area) of every pair.

    Pairs whose overlap has no area (touching, or only bounding boxes meeting) come back
    with area 0 or are left out; the caller filters them.

    Parameters
    ----------
    small : ndarray of shapely geometries
        Buildings, or the parcels of one vintage (valid polygons).
    parcels : ndarray of shapely geometries
        The parcels (valid polygons), same CRS.
    twins : bool, default False
        Both inputs are partitions (no overlaps within either, as the survey's topology
        rules require): a polygon with an exact twin on the other side meets nothing
        else with area, so its other pairs are dropped without a test. Two vintages of
        a survey share most parcels, and the neighbours of a parcel touch it along whole
        edges, which would otherwise each cost an intersection.

    Returns
    -------
    tuple of ndarray
        Indices into ``small`` and ``parcels``, overlap geometries and their areas.
    """
    # the tree tests each candidate pair exactly (``intersects``, with the small polygon
    # prepared), as geopandas.overlay does; touching pairs pass and get area 0 below. For
    # two partitions most pairs are dropped by the twin rule: boxes suffice there.
    si, pi = shapely.STRtree(parcels).query(small, predicate=None if twins else "intersects")
    geoms = np.empty(si.size, dtype=object)
    areas = np.zeros(si.size)
    if si.size == 0:
        return si, pi, geoms, areas
    a, b = small[si], parcels[pi]
    sb, pb = shapely.bounds(a), shapely.bounds(b)
    same = np.all(sb == pb, axis=1)
    same[same] = shapely.equals_exact(a[same], b[same], 0.0)
    if twins and same.any():
        twin_s = np.bincount(si[same], minlength=len(small)) > 0
        twin_p = np.bincount(pi[same], minlength=len(parcels)) > 0
        keep = same | ~(twin_s[si] | twin_p[pi])
        si, pi, a, b, same = si[keep], pi[keep], a[keep], b[keep], same[keep]
        geoms, areas = geoms[keep], areas[keep]
    shapely.prepare(parcels)
    inside = same.copy()
    rest = np.flatnonzero(~same)
    inside[rest] = shapely.contains_properly(b[rest], a[rest])
    geoms[inside] = a[inside]
    areas[inside] = shapely.area(a[inside])
    cross = np.flatnonzero(~inside)
    if cross.size:
        inter = polygonal(threaded(shapely.intersection, a[cross], b[cross]))
        geoms[cross] = inter
        areas[cross] = shapely.area(inter)
    return si, pi, geoms, areas
