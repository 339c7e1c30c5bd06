"""What drains into each section: drainage units, section catchments and their land cover.

Chongming is flat and its water levels are set by sluices, so there is no DEM
to delineate watersheds from. The accepted approximation where no drainage
survey exists is to allocate land to its **nearest river stretch** inside the town
boundary: a drainage-unit partition (排水单元). A section's catchment (汇水区) is the
union of the drainage units of the stretches upstream of it
(:func:`dongping_geo.network.upstream`).

* :func:`drainage_units` -- the partition of the town, one unit per river stretch.
* :func:`section_catchments` -- one catchment polygon (and its bank strip) per section.
* :func:`river_catchments` -- the catchment of each town or district river (小流域).
* :func:`riparian_buffers` -- bank strips (岸带) of 30, 100 and 300 m.
* :func:`landcover_shares` -- share of each land-cover class per zone.
* :func:`section_drivers`, :func:`greening_candidates`, :func:`small_watershed_indicators`
  -- the link from land to water class.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import _catchments_core as kc
from . import network as net
from .errors import ConfigError, CRSError, GeometryError, SchemaError

__all__ = [
    "COVER_GROUPS",
    "drainage_units",
    "section_catchments",
    "river_catchments",
    "riparian_buffers",
    "landcover_shares",
    "section_drivers",
    "greening_candidates",
    "small_watershed_indicators",
]

#: Land-cover groups used to relate a catchment to its water class (legend names).
COVER_GROUPS: dict[str, tuple[str, ...]] = {
    "farmland": ("farmland",),
    "greenhouse": ("greenhouse",),
    "built_up": ("built_up", "bare"),
    "natural": ("forest", "wetland", "water"),
}


def _town(boundary: Any, crs: Any) -> shapely.Geometry:
    """The town polygon in ``crs``."""
    if isinstance(boundary, gpd.GeoDataFrame | gpd.GeoSeries):
        if boundary.crs is None:
            raise CRSError("the boundary has no CRS", layer="town", fix="set it with boundary.set_crs(...)")
        geom = boundary.to_crs(crs).union_all()
    elif isinstance(boundary, shapely.Geometry):
        geom = boundary
    else:
        raise GeometryError("boundary must be the town polygon (GeoDataFrame, GeoSeries or shapely)",
                            layer="town", found=type(boundary).__name__)
    if shapely.get_type_id(geom) not in (3, 6) or geom.is_empty:
        raise GeometryError("the boundary is not a polygon", layer="town", found=geom.geom_type)
    return shapely.make_valid(geom)


def _check_spacing(spacing_m: float) -> None:
    if not spacing_m > 0:
        raise ConfigError("spacing_m must be positive", field="spacing_m", expected="> 0 (metres)",
                          found=repr(spacing_m))


def _units(g: Any, town: shapely.Geometry, spacing_m: float) -> gpd.GeoDataFrame:
    """Drainage unit of every stretch of ``g`` (same row order as ``g.graph['stretches']``)."""
    st = g.graph["stretches"]
    geoms = st["geometry"].to_numpy()
    pts, owner = kc.sample_points(geoms, st["length_m"].to_numpy(), spacing_m)
    cells = kc.drainage_cells(pts, owner, town, len(st))
    ids = g.graph["rivers"]["river_id"].to_numpy()
    return gpd.GeoDataFrame(
        {"river_id": ids[st["river"].to_numpy()], "from_m": st["from_m"].to_numpy(),
         "to_m": st["to_m"].to_numpy(), "length_m": st["length_m"].to_numpy(),
         "area_m2": shapely.area(cells)},
        geometry=cells, crs=g.graph["crs"],
    )


def drainage_units(
    rivers: gpd.GeoDataFrame,
    boundary: gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry,
    *,
    snap_m: float = 1.0,
    spacing_m: float = 20.0,
    on_problem: net.OnProblem = "raise",
) -> gpd.GeoDataFrame:
    """Partition the town into drainage units, one per river stretch.

    Every place in the town belongs to the stretch nearest to it, approximated by
    the Voronoi cells of points every ``spacing_m`` along the stretches (a point
    is misallocated only where two stretches are within about ``spacing_m / 2``
    of equally near). The units cover the town exactly and do not overlap.

    Parameters
    ----------
    rivers : geopandas.GeoDataFrame
        As for :func:`dongping_geo.network.river_network`.
    boundary : GeoDataFrame, GeoSeries or shapely polygon
        The town.
    snap_m : float, default 1.0
        Junction tolerance of the network.
    spacing_m : float, default 20.0
        Distance between the sample points along the rivers.
    on_problem : {"raise", "report"}, default "raise"
        Passed to :func:`~dongping_geo.network.river_network`.

    Returns
    -------
    geopandas.GeoDataFrame
        ``river_id``, ``from_m``, ``to_m``, ``length_m``, ``area_m2``, polygon geometry.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> r = gpd.GeoDataFrame({"river_id": ["A"], "level": ["district"]},
    ...     geometry=[shapely.LineString([(0, 50), (100, 50)])], crs=4549)
    >>> round(drainage_units(r, shapely.box(0, 0, 100, 100))["area_m2"].sum())
    10000
    """
    _check_spacing(spacing_m)
    g = net.build(rivers, snap_m=snap_m, boundary=boundary, on_problem=on_problem)
    return _units(g, _town(boundary, g.graph["crs"]), spacing_m)


def _section_table(sections: gpd.GeoDataFrame, crs: Any) -> gpd.GeoDataFrame:
    if not isinstance(sections, gpd.GeoDataFrame) or "section_id" not in sections.columns:
        raise SchemaError("sections must be a GeoDataFrame with section_id", layer="sections",
                          field="section_id", fix="load them with dongping_geo.load_sections")
    if sections.crs is None:
        raise CRSError("the sections have no CRS", layer="sections", fix="set it with sections.set_crs(...)")
    return sections.to_crs(crs) if not sections.crs.equals(crs) else sections


def _sectioned_network(rivers: gpd.GeoDataFrame, points: np.ndarray, river_ids: Any, labels: np.ndarray,
                       boundary: Any, snap_m: float, on_problem: net.OnProblem) -> tuple[Any, np.ndarray]:
    """Network with a node at every point (located on its river); returns it and the nodes."""
    g0 = net.build(rivers, snap_m=snap_m, boundary=boundary, on_problem=on_problem)
    pos, m = net.locate(g0, points, river_ids, labels)
    g = net.build(rivers, snap_m=snap_m, boundary=boundary, on_problem="report", extra_cuts=(pos, m))
    g.graph["problems"] = g0.graph["problems"]
    return g, net._node_at(g.graph["cuts"], pos, m)


def _catchment_frame(g: Any, units: gpd.GeoDataFrame, nodes: np.ndarray, strip_m: float) -> gpd.GeoDataFrame:
    """Catchment polygon, bank strip and upstream figures per node (section)."""
    st = g.graph["stretches"]
    order, lo, hi = kc.upstream_slices(g, st, nodes)
    unit_geom = units.geometry.values[order]
    area = np.concatenate([[0.0], np.cumsum(units["area_m2"].to_numpy()[order])])
    length = np.concatenate([[0.0], np.cumsum(st["length_m"].to_numpy()[order])])
    strip = shapely.intersection(unit_geom, shapely.buffer(st["geometry"].to_numpy()[order], strip_m))
    rid = units["river_id"].to_numpy()[order]
    geoms, strips, ups = [], [], []
    for a, b in zip(lo.tolist(), hi.tolist(), strict=True):  # one union per section
        geoms.append(shapely.coverage_union_all(unit_geom[a:b]) if b > a else shapely.Polygon())
        strips.append(shapely.union_all(strip[a:b]) if b > a else shapely.Polygon())
        ups.append(",".join(sorted(set(rid[a:b].tolist()))))
    return gpd.GeoDataFrame(
        {"area_m2": area[hi] - area[lo], "upstream_river_ids": ups,
         "n_upstream_rivers": [len(u.split(",")) if u else 0 for u in ups],
         "upstream_length_m": length[hi] - length[lo],
         "bank_strip": gpd.GeoSeries(strips, crs=g.graph["crs"]),
         "bank_strip_m2": shapely.area(np.array(strips, dtype=object))},
        geometry=geoms, crs=g.graph["crs"],
    )


def section_catchments(
    rivers: gpd.GeoDataFrame,
    sections: gpd.GeoDataFrame,
    boundary: gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry,
    *,
    snap_m: float = 1.0,
    spacing_m: float = 20.0,
    strip_m: float = 100.0,
    on_problem: net.OnProblem = "raise",
) -> gpd.GeoDataFrame:
    """Catchment of every section: the drainage units of the stretches upstream of it.

    Parameters
    ----------
    rivers : geopandas.GeoDataFrame
        As for :func:`dongping_geo.network.river_network`.
    sections : geopandas.GeoDataFrame
        Points with ``section_id`` (and ``river_id`` when known), within ``snap_m``
        of their river.
    boundary : GeoDataFrame, GeoSeries or shapely polygon
        The town.
    snap_m : float, default 1.0
        Junction and section tolerance.
    spacing_m : float, default 20.0
        Sample spacing of :func:`drainage_units`.
    strip_m : float, default 100.0
        Width of the bank strip (the part of the catchment within this distance of
        an upstream river).
    on_problem : {"raise", "report"}, default "raise"
        Passed to :func:`~dongping_geo.network.river_network`.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per section, in order: the section's columns, ``area_m2``,
        ``upstream_river_ids`` (comma-separated, sorted), ``n_upstream_rivers``,
        ``upstream_length_m``, ``bank_strip_m2``, the catchment polygon as geometry
        and the bank strip as a second geometry column ``bank_strip`` (drop it
        before writing a file).

    Raises
    ------
    SchemaError, GeometryError, CRSError
        Bad rivers, sections off their river, missing CRS; see ``river_network``.

    Notes
    -----
    Catchments of sections on one river nest; the areas are sums of unit areas,
    so they add up exactly across the partition.
    """
    _check_spacing(spacing_m)
    crs = rivers.crs
    sec = _section_table(sections, crs)
    rid = sec["river_id"].to_numpy() if "river_id" in sec.columns else None
    g, nodes = _sectioned_network(rivers, sec.geometry.values, rid, sec["section_id"].astype(str).to_numpy(),
                                  boundary, snap_m, on_problem)
    units = _units(g, _town(boundary, crs), spacing_m)
    frame = _catchment_frame(g, units, nodes, strip_m)
    cols = pd.DataFrame(sec.drop(columns=sec.geometry.name)).reset_index(drop=True)
    out = pd.concat([cols, pd.DataFrame(frame.drop(columns="geometry"))], axis=1)
    return gpd.GeoDataFrame(out, geometry=frame.geometry.values, crs=crs).set_index(sec.index)


def river_catchments(
    rivers: gpd.GeoDataFrame,
    boundary: gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry,
    *,
    levels: Sequence[str] = ("town", "district"),
    snap_m: float = 1.0,
    spacing_m: float = 20.0,
    strip_m: float = 100.0,
    on_problem: net.OnProblem = "raise",
) -> gpd.GeoDataFrame:
    """Catchment of each river of the given levels, taken at its mouth (a small watershed, 小流域).

    Parameters
    ----------
    rivers, boundary, snap_m, spacing_m, strip_m, on_problem
        As for :func:`section_catchments`.
    levels : sequence of str, default ("town", "district")
        Management levels whose rivers get a catchment.

    Returns
    -------
    geopandas.GeoDataFrame
        As :func:`section_catchments`, one row per river, with ``river_id``,
        ``name`` and ``level``.
    """
    g = net.build(rivers, snap_m=snap_m, boundary=boundary, on_problem=on_problem)
    tab = g.graph["rivers"]
    keep = tab["level"].isin(list(levels)).to_numpy() & (tab["mouth_rule"] != "unresolved").to_numpy()
    t = tab[keep]
    mouths = shapely.line_interpolate_point(t.geometry.values, t["mouth_m"].to_numpy())
    names = rivers.set_index(rivers["river_id"].astype(str))["name"] if "name" in rivers.columns else None
    pts = gpd.GeoDataFrame(
        {"section_id": t["river_id"].to_numpy(), "river_id": t["river_id"].to_numpy(),
         "name": names.reindex(t["river_id"]).to_numpy() if names is not None else t["river_id"].to_numpy(),
         "level": t["level"].to_numpy()},
        geometry=mouths, crs=tab.crs,
    )
    out = section_catchments(rivers, pts, boundary, snap_m=snap_m, spacing_m=spacing_m, strip_m=strip_m,
                             on_problem="report")
    return out.drop(columns="section_id")
