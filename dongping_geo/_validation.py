"""Layer checks and the geometry repair policy: one home, used by loaders and analyses.

The policy (``docs/decisions.md``):

* **refused** — a missing or empty geometry; a geometry of a type the layer does not
  allow (a Point in the rivers layer); an invalid geometry unless ``repair=True``; a
  repair that would change the geometry's dimension (a river that collapses to a point,
  a polygon that collapses to a line): that is an error naming the feature, never a
  silent change of kind;
* **repaired** (only with ``repair=True``) — an invalid geometry is made valid with
  :func:`shapely.make_valid` and only the parts of the layer's own dimension are kept
  (polygonal parts of a polygon, linear parts of a line); every repair is listed;
* **reprojected** — after the checks, by the loaders only: every layer to the working
  CRS (:func:`dongping_geo.crs.to_work_crs`); analyses reproject their inputs to the
  first layer's CRS themselves.

Row-level problems are returned as :class:`RowIssue` records so that a loader can either
raise the first one or set the rows aside (``on_error="report"``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

from ._rejected import REJECTED_COLUMNS  # one home: the rejected-rows table
from .errors import DongpingGeoError, GeometryError

__all__ = ["REJECTED_COLUMNS", "RowIssue", "check_geometries", "check_polygons", "repair_geometries"]


_DIMENSION = {"Point": 0, "MultiPoint": 0, "LineString": 1, "MultiLineString": 1, "Polygon": 2, "MultiPolygon": 2}
_MAX_IDS = 5


@dataclass
class RowIssue:
    """One problem found in some rows of a layer.

    Attributes
    ----------
    error : DongpingGeoError
        The summary error (what a loader raises with ``on_error="raise"``).
    mask : ndarray of bool or None
        Positional mask of the rows at fault; ``None`` for a problem of the whole
        layer (a missing column, an empty file) that no row can be blamed for.
    field : str
        The field at fault (``"geometry"`` for geometry problems).
    values : list
        The offending value of each masked row, in row order.
    reasons : list of str
        Why each masked row was refused, in row order.
    fix : str
        How to fix it.
    """

    error: DongpingGeoError
    mask: np.ndarray | None
    field: str = ""
    values: list = dataclasses.field(default_factory=list)
    reasons: list[str] = dataclasses.field(default_factory=list)
    fix: str = ""


#: geom_type by shapely type id + 1 (id -1 is a missing geometry).
_TYPE_NAMES = np.array(["", "Point", "LineString", "LinearRing", "Polygon", "MultiPoint",
                        "MultiLineString", "MultiPolygon", "GeometryCollection"], dtype=object)


def _id_text(ids: Any) -> str:
    ids = [str(i) for i in ids]
    shown = ", ".join(ids[:_MAX_IDS])
    return shown + (f" (and {len(ids) - _MAX_IDS} more)" if len(ids) > _MAX_IDS else "")


def _same_dimension_parts(geoms: np.ndarray, dim: int) -> np.ndarray:
    """Keep only the parts of each geometry with dimension ``dim`` (vectorised)."""
    parts, idx = shapely.get_parts(geoms, return_index=True)
    # a GeometryCollection may hold Multi* parts: flatten one more level
    parts, idx2 = shapely.get_parts(parts, return_index=True)
    idx = idx[idx2]
    keep = (shapely.get_dimensions(parts) == dim) & ~shapely.is_empty(parts)
    out = np.empty(len(geoms), dtype=object)
    out[:] = None
    if not keep.any():
        return out
    builder = {0: shapely.multipoints, 1: shapely.multilinestrings, 2: shapely.multipolygons}[dim]
    present = np.unique(idx[keep])
    multi = builder(parts[keep], indices=np.searchsorted(present, idx[keep]))
    counts = np.bincount(idx[keep], minlength=len(geoms))
    single = counts[present] == 1
    out[present] = np.where(single, parts[keep][np.searchsorted(idx[keep], present)], multi)
    if dim == 1:  # re-join line pieces make_valid split at self-touching points
        out[present] = shapely.line_merge(out[present].astype(object))
    return out


def repair_geometries(geoms: Any, *, allowed: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Make geometries valid without changing their kind.

    Parameters
    ----------
    geoms : array-like of shapely geometries
        The (invalid) geometries.
    allowed : tuple of str
        Geometry types of the layer (``("LineString", "MultiLineString")`` …).

    Returns
    -------
    repaired : ndarray of object
        Valid geometries of the layer's dimension (``None`` where the repair collapsed).
    collapsed : ndarray of bool
        True where nothing of the layer's dimension was left (refuse those features).

    Examples
    --------
    >>> bow = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    >>> fixed, collapsed = repair_geometries([bow], allowed=("Polygon", "MultiPolygon"))
    >>> fixed[0].geom_type, round(fixed[0].area, 6), collapsed.tolist()
    ('MultiPolygon', 2.0, [False])
    """
    geoms = np.asarray(geoms, dtype=object)
    dim = max(_DIMENSION.get(t, 2) for t in allowed)
    fixed = shapely.make_valid(geoms)
    kept = _same_dimension_parts(fixed, dim)
    collapsed = shapely.is_missing(kept) | shapely.is_empty(kept)
    types = np.array([g.geom_type if g is not None else "" for g in kept], dtype=object)
    # A single-part result in a layer that only allows multi parts (or the reverse) is
    # still the same kind: promote/keep as the layer allows.
    if "Polygon" in allowed or "LineString" in allowed or "Point" in allowed:
        return kept, collapsed
    multi = {"MultiPolygon": shapely.multipolygons, "MultiLineString": shapely.multilinestrings}
    for name, builder in multi.items():
        single = types == name.removeprefix("Multi")
        if name in allowed and single.any():
            kept[single] = [builder([g]) for g in kept[single]]
    return kept, collapsed


def check_geometries(
    geoms: Any,
    *,
    allowed: tuple[str, ...],
    ids: Any,
    layer: str,
    path: Any = None,
    repair: bool = False,
) -> tuple[np.ndarray, list[RowIssue], list[str]]:
    """Check a layer's geometries against the policy; repair when asked.

    Parameters
    ----------
    geoms : array-like of shapely geometries
        The layer's geometries.
    allowed : tuple of str
        Allowed geometry types.
    ids : array-like
        Feature ids (or row labels) for messages, aligned with ``geoms``.
    layer : str
        Layer name for messages.
    path : path-like, optional
        Source file for messages.
    repair : bool, default False
        Repair invalid geometries (see the module policy) instead of refusing them.

    Returns
    -------
    geoms : ndarray of object
        The geometries, repaired where asked.
    issues : list of RowIssue
        Problems with the rows at fault.
    repairs : list of str
        One line per repaired feature.

    Examples
    --------
    >>> line = shapely.LineString([(0, 0), (1, 0)])
    >>> _, issues, _ = check_geometries([line, shapely.Point(0, 0)], allowed=("LineString",),
    ...                                 ids=["R1", "R2"], layer="rivers")
    >>> [(i.error.args[0].split(";")[0], i.mask.tolist()) for i in issues]
    [('layer rivers, feature R2: wrong geometry type', [False, True])]
    """
    geoms = np.array(geoms, dtype=object)
    ids = np.asarray(ids, dtype=object)
    ctx = {"path": path, "layer": layer}
    issues: list[RowIssue] = []
    repairs: list[str] = []
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if empty.any():
        fix = "digitise the features or drop them"
        issues.append(RowIssue(GeometryError(
            "missing or empty geometry", **ctx, feature_id=_id_text(ids[empty]),
            expected="a geometry for every feature", found=f"{int(empty.sum())} empty", fix=fix,
        ), empty, "geometry", ["empty"] * int(empty.sum()), ["missing or empty geometry"] * int(empty.sum()), fix))
    names = _TYPE_NAMES[shapely.get_type_id(geoms) + 1]  # vectorised geom_type ("" for missing)
    wrong = ~np.isin(names, list(allowed)) & ~empty
    if wrong.any():
        fix = f"check that this is the {layer} layer"
        issues.append(RowIssue(GeometryError(
            "wrong geometry type", **ctx, feature_id=_id_text(ids[wrong]),
            expected=" or ".join(allowed), found=", ".join(sorted(set(names[wrong]))), fix=fix,
        ), wrong, "geometry", list(names[wrong]), [f"a {n}, not {' or '.join(allowed)}" for n in names[wrong]], fix))
    invalid = ~empty & ~wrong & ~shapely.is_valid(geoms)
    if invalid.any():
        geoms, issue = _repair_or_refuse(geoms, invalid, allowed=allowed, ids=ids, ctx=ctx,
                                         repair=repair, repairs=repairs)
        if issue is not None:
            issues.append(issue)
    return geoms, issues, repairs


def _repair_or_refuse(
    geoms: np.ndarray, invalid: np.ndarray, *, allowed: tuple[str, ...], ids: np.ndarray,
    ctx: dict, repair: bool, repairs: list[str],
) -> tuple[np.ndarray, RowIssue | None]:
    """Repair invalid geometries (refusing collapses) or refuse them all."""
    reasons = list(shapely.is_valid_reason(geoms[invalid]))
    bad_ids = ids[invalid]
    if not repair:
        fix = "pass repair=True to make it valid with shapely.make_valid, or fix it in a GIS"
        return geoms, RowIssue(GeometryError(
            "invalid geometry", **ctx, feature_id=_id_text(bad_ids),
            expected="valid (OGC simple features) geometry",
            found="; ".join(f"{i}: {r}" for i, r in list(zip(bad_ids, reasons, strict=True))[:3]), fix=fix,
        ), invalid, "geometry", [g.wkt[:80] for g in geoms[invalid]], reasons, fix)
    fixed, collapsed = repair_geometries(geoms[invalid], allowed=allowed)
    geoms = geoms.copy()
    positions = np.flatnonzero(invalid)
    geoms[positions[~collapsed]] = fixed[~collapsed]
    repairs.extend(f"{ctx['layer']} {i}: {r} -> made valid"
                   for i, r, c in zip(bad_ids, reasons, collapsed, strict=True) if not c)
    if not collapsed.any():
        return geoms, None
    mask = np.zeros(len(geoms), dtype=bool)
    mask[positions[collapsed]] = True
    fix = "redraw the feature in a GIS; repair cannot keep it a " + " or ".join(allowed)
    why = [f"{r}; repair leaves no {' or '.join(allowed)}" for r, c in zip(reasons, collapsed, strict=True) if c]
    return geoms, RowIssue(GeometryError(
        "invalid geometry collapses when repaired", **ctx, feature_id=_id_text(ids[mask]),
        expected=" or ".join(allowed), found=why[0], fix=fix,
    ), mask, "geometry", [g.wkt[:80] for g in geoms[mask]], why, fix)


def check_polygons(
    gdf: Any,
    *,
    layer: str,
    repair: bool = False,
    id_field: str | None = None,
) -> Any:
    """Check that a (Geo)DataFrame or GeoSeries holds valid polygons; repair when asked.

    The one polygon policy for analyses (land use, rasters, catchments): missing or
    empty geometries are left for the caller, other types and invalid polygons are
    refused unless ``repair=True``, which keeps the polygonal part of the repair and
    refuses a polygon that collapses.

    Parameters
    ----------
    gdf : GeoDataFrame or GeoSeries
        The polygons.
    layer : str
        Layer name for messages.
    repair : bool, default False
        Repair invalid polygons instead of raising.
    id_field : str, optional
        Column with feature ids for messages (default: the index).

    Returns
    -------
    GeoDataFrame or GeoSeries
        The input, or a copy with repaired geometries.

    Raises
    ------
    GeometryError
        On a non-polygon, an invalid polygon without ``repair``, or a collapse.

    Examples
    --------
    >>> import geopandas as gpd
    >>> bow = gpd.GeoSeries([shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])])
    >>> float(round(check_polygons(bow, layer="zones", repair=True).area.iloc[0], 6))
    2.0
    """
    series = gdf.geometry if hasattr(gdf, "columns") else gdf
    geoms = series.to_numpy()
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    ids = gdf[id_field].to_numpy() if id_field else series.index.to_numpy()
    allowed = ("Polygon", "MultiPolygon")
    checked, issues, _ = check_geometries(geoms[present], allowed=allowed, ids=ids[present],
                                          layer=layer, repair=repair)
    if issues:
        raise issues[0].error
    out = gdf.copy()
    values = geoms.copy()
    values[present] = checked
    if hasattr(out, "columns"):
        out[out.geometry.name] = values
        return out.set_geometry(out.geometry.name, crs=series.crs)
    return type(series)(values, index=series.index, crs=series.crs)
