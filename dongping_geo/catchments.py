"""What drains into each section: drainage units, section catchments and their land cover.

Chongming is flat and its water levels are set by sluices, so there is no DEM
to delineate watersheds from. The accepted approximation where no drainage
survey exists is to allocate land to its **nearest river stretch** inside the town
boundary: a drainage-unit partition (排水单元). A section's catchment (汇水区) is the
union of the drainage units of the stretches upstream of it
(:func:`dongping_geo.network.upstream`).

* :func:`drainage_units` -- the partition of the town, one unit per river stretch.
* :func:`section_catchments` -- one catchment polygon (and its bank strip) per section.
* :func:`upstream_stretches` -- the river stretches upstream of every section (for maps).
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
    "upstream_stretches",
    "river_catchments",
    "riparian_buffers",
    "landcover_shares",
    "section_drivers",
    "greening_candidates",
    "small_watershed_indicators",
    "NOT_COMPUTED_INDICATORS",
]

#: Land-cover groups used to relate a catchment to its water class (legend names).
COVER_GROUPS: dict[str, tuple[str, ...]] = {
    "farmland": ("farmland",),
    "greenhouse": ("greenhouse",),
    "built_up": ("built_up", "bare"),
    "natural": ("forest", "wetland", "water"),
}


def _town(boundary: Any, crs: Any) -> shapely.Geometry:
    """Return the town polygon in ``crs``."""
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


def _cells(g: Any, town: shapely.Geometry, spacing_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Voronoi cells of sample points along every stretch of ``g``, and the stretch of each."""
    st = g.graph["stretches"]
    pts, owner = kc.sample_points(st["geometry"].to_numpy(), st["length_m"].to_numpy(), spacing_m)
    return kc.voronoi_cells(pts, owner, town)


def _units(g: Any, town: shapely.Geometry, spacing_m: float) -> gpd.GeoDataFrame:
    """Drainage unit of every stretch of ``g`` (same row order as ``g.graph['stretches']``)."""
    st = g.graph["stretches"]
    cells, unit_of = _cells(g, town, spacing_m)
    units = kc.dissolve(cells, unit_of, len(st))
    ids = g.graph["rivers"]["river_id"].to_numpy()
    return gpd.GeoDataFrame(
        {"river_id": ids[st["river"].to_numpy()], "from_m": st["from_m"].to_numpy(),
         "to_m": st["to_m"].to_numpy(), "length_m": st["length_m"].to_numpy(),
         "area_m2": shapely.area(units)},
        geometry=units, crs=g.graph["crs"],
    )


def drainage_units(
    rivers: gpd.GeoDataFrame,
    boundary: gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry,
    *,
    snap_m: float = 1.0,
    spacing_m: float = 50.0,
    on_problem: net.OnProblem = "raise",
) -> gpd.GeoDataFrame:
    """Partition the town into drainage units, one per river stretch.

    Every place in the town belongs to the stretch nearest to it, approximated by
    the Voronoi cells of points every ``spacing_m`` (s) along the stretches. A place
    at distance d from a river is at most sqrt(d² + s²/4) from its nearest sample,
    so it can be given to the wrong stretch only where its distances to two
    stretches differ by less than about s²/(8d) (1.6 m at 200 m from the river with
    s = 50 m), or within about s/2 of a junction. The units cover the town exactly
    and do not overlap.

    Parameters
    ----------
    rivers : geopandas.GeoDataFrame
        As for :func:`dongping_geo.network.river_network`.
    boundary : GeoDataFrame, GeoSeries or shapely polygon
        The town.
    snap_m : float, default 1.0
        Junction tolerance of the network.
    spacing_m : float, default 50.0
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
    ...     geometry=[shapely.LineString([(10, 50), (100, 50)])], crs=4549)
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
    g = net.resolve(rivers, snap_m=snap_m, boundary=boundary, on_problem=on_problem)
    pos, m = net.locate(g, points, river_ids, labels)
    g = net.assemble(g, extra_cuts=(pos, m))
    return g, net._node_at(g.graph["cuts"], pos, m)


def _catchment_frame(g: Any, town: shapely.Geometry, nodes: np.ndarray, spacing_m: float,
                     strip_m: float) -> gpd.GeoDataFrame:
    """Catchment polygon, bank strip and upstream figures per node (section).

    The stretches are ordered so that each node's upstream stretches form one slice
    (Euler tour of the flow forest); the Voronoi cells are sorted the same way, so a
    catchment is one coverage union of a contiguous run of cells and its area a
    difference of prefix sums.
    """
    st = g.graph["stretches"]
    order, lo, hi = kc.upstream_slices(g, st, nodes)
    cells, unit_of = _cells(g, town, spacing_m)
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    key = rank[unit_of]
    by = np.argsort(key, kind="stable")
    cells, unit_of, key = cells[by], unit_of[by], key[by]
    clo, chi = np.searchsorted(key, lo, side="left"), np.searchsorted(key, hi, side="left")
    area = np.concatenate([[0.0], np.cumsum(shapely.area(cells))])
    length = np.concatenate([[0.0], np.cumsum(st["length_m"].to_numpy()[order])])
    rid = g.graph["rivers"]["river_id"].to_numpy()[st["river"].to_numpy()[order]]
    geoms, ups = [], []
    for a, b, ca, cb in zip(lo.tolist(), hi.tolist(), clo.tolist(), chi.tolist(), strict=True):  # per section
        geoms.append(shapely.coverage_union_all(cells[ca:cb]) if cb > ca else shapely.Polygon())
        ups.append(",".join(sorted(set(rid[a:b].tolist()))))
    catch = np.array(geoms, dtype=object)
    # The whole river lines, not the stretches: the same union, buffered 15x faster (fewer pieces to node).
    strips = kc.bank_strips(catch, g.graph["rivers"].geometry.to_numpy(), town, strip_m)
    return gpd.GeoDataFrame(
        {"area_m2": area[chi] - area[clo], "upstream_river_ids": ups,
         "n_upstream_rivers": [len(u.split(",")) if u else 0 for u in ups],
         "upstream_length_m": length[hi] - length[lo],
         "bank_strip": gpd.GeoSeries(strips, crs=g.graph["crs"]),
         "bank_strip_m2": shapely.area(strips)},
        geometry=catch, crs=g.graph["crs"],
    )


def section_catchments(
    rivers: gpd.GeoDataFrame,
    sections: gpd.GeoDataFrame,
    boundary: gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry,
    *,
    snap_m: float = 1.0,
    spacing_m: float = 50.0,
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
    spacing_m : float, default 50.0
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
    frame = _catchment_frame(g, _town(boundary, crs), nodes, spacing_m, strip_m)
    cols = pd.DataFrame(sec.drop(columns=sec.geometry.name)).reset_index(drop=True)
    out = pd.concat([cols, pd.DataFrame(frame.drop(columns="geometry"))], axis=1)
    return gpd.GeoDataFrame(out, geometry=frame.geometry.values, crs=crs).set_index(sec.index)


def upstream_stretches(
    rivers: gpd.GeoDataFrame,
    sections: gpd.GeoDataFrame,
    boundary: gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry | None = None,
    *,
    snap_m: float = 1.0,
    on_problem: net.OnProblem = "raise",
) -> gpd.GeoDataFrame:
    """River stretches upstream of every section, all sections at once.

    The same stretches as :func:`dongping_geo.network.upstream` section by section,
    from one network cut at every section (the Euler-tour slices of
    :func:`section_catchments`): the section's own river from its head down to the
    section and every river draining into it, recursively.

    Parameters
    ----------
    rivers : geopandas.GeoDataFrame
        As for :func:`dongping_geo.network.river_network`.
    sections : geopandas.GeoDataFrame
        Points with ``section_id`` (and ``river_id`` when known).
    boundary : GeoDataFrame, GeoSeries or shapely polygon, optional
        The town (decides the mouths of rivers leaving it).
    snap_m : float, default 1.0
        Junction and section tolerance.
    on_problem : {"raise", "report"}, default "raise"
        Passed to :func:`~dongping_geo.network.river_network`.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per section and stretch between junctions (or sections):
        ``section_id``, ``river_id``, ``from_m`` < ``to_m`` (chainage in the
        digitised direction), ``length_m``, line geometry; sections in input order.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> r = gpd.GeoDataFrame({"river_id": ["A", "B"], "level": ["town", "village"],
    ...                       "flows_to": ["长江", None]},
    ...     geometry=[shapely.LineString([(0, 0), (100, 0)]), shapely.LineString([(50, 50), (50, 0)])],
    ...     crs=4549)
    >>> s = gpd.GeoDataFrame({"section_id": ["S"]}, geometry=[shapely.Point(80, 0)], crs=4549)
    >>> upstream_stretches(r, s)[["river_id", "from_m", "to_m"]].values.tolist()
    [['A', 0.0, 50.0], ['A', 50.0, 80.0], ['B', 0.0, 50.0]]
    """
    sec = _section_table(sections, rivers.crs)
    rid = sec["river_id"].to_numpy() if "river_id" in sec.columns else None
    sid = sec["section_id"].astype(str).to_numpy()
    g, nodes = _sectioned_network(rivers, sec.geometry.values, rid, sid, boundary, snap_m, on_problem)
    st = g.graph["stretches"]
    order, lo, hi = kc.upstream_slices(g, st, nodes)
    n = hi - lo
    rows = order[np.concatenate([np.arange(a, b) for a, b in zip(lo.tolist(), hi.tolist(), strict=True)]
                                + [np.array([], dtype=np.int64)]).astype(np.int64)]
    ids = g.graph["rivers"]["river_id"].to_numpy()
    out = gpd.GeoDataFrame(
        {"_pos": np.repeat(np.arange(len(sid)), n), "section_id": np.repeat(sid, n),
         "river_id": ids[st["river"].to_numpy()[rows]], "from_m": st["from_m"].to_numpy()[rows],
         "to_m": st["to_m"].to_numpy()[rows], "length_m": st["length_m"].to_numpy()[rows]},
        geometry=st["geometry"].to_numpy()[rows], crs=g.graph["crs"],
    )
    out = out.sort_values(["_pos", "river_id", "from_m"], kind="stable")
    return out.drop(columns="_pos").reset_index(drop=True)

def river_catchments(
    rivers: gpd.GeoDataFrame,
    boundary: gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry,
    *,
    levels: Sequence[str] = ("town", "district"),
    snap_m: float = 1.0,
    spacing_m: float = 50.0,
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


# ------------------------------------------------------------------------- land cover


def riparian_buffers(
    stretches: gpd.GeoDataFrame,
    widths_m: Sequence[float] = (30, 100, 300),
    *,
    units: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Bank strips (岸带) of each stretch: the land within each width of it.

    Parameters
    ----------
    stretches : geopandas.GeoDataFrame
        River lines or stretches (e.g. from :func:`~dongping_geo.network.upstream`)
        in a metric CRS.
    widths_m : sequence of float, default (30, 100, 300)
        Strip widths measured from the centre line (both banks).
    units : geopandas.GeoDataFrame, optional
        Drainage units in the same row order as ``stretches`` (from
        :func:`drainage_units`): each strip is clipped to its stretch's unit, so the
        strips of different stretches do not overlap and their areas add up.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per stretch and width: the stretch's columns, ``width_m``,
        ``strip_m2``, polygon geometry.
    """
    if stretches.crs is None or not stretches.crs.is_projected:
        raise CRSError("the stretches need a metric CRS", layer="rivers", found=str(stretches.crs),
                       fix="reproject with dongping_geo.crs.to_work_crs")
    widths = np.asarray(list(widths_m), dtype=float)
    if widths.size == 0 or not (widths > 0).all():
        raise ConfigError("widths_m must be positive", field="widths_m", expected="widths > 0 m",
                          found=repr(tuple(widths_m)))
    if units is not None and len(units) != len(stretches):
        raise SchemaError("units and stretches differ in length", layer="units",
                          expected=f"{len(stretches)} rows", found=f"{len(units)}",
                          fix="pass the output of drainage_units for the same rivers")
    n = len(stretches)
    rows = np.tile(np.arange(n), widths.size)
    w = np.repeat(widths, n)
    geom = shapely.buffer(stretches.geometry.values[rows], w)
    if units is not None:
        geom = shapely.intersection(geom, units.geometry.values[rows])
    attrs = pd.DataFrame(stretches.drop(columns=stretches.geometry.name)).iloc[rows].reset_index(drop=True)
    return gpd.GeoDataFrame(attrs.assign(width_m=w, strip_m2=shapely.area(geom)), geometry=geom,
                            crs=stretches.crs)


def landcover_shares(
    zones: gpd.GeoDataFrame | gpd.GeoSeries,
    raster: Any,
    *,
    legend: Mapping[int, Any] | None = None,
) -> pd.DataFrame:
    """Share of each land-cover class in each zone (exact, via ``raster.zonal_stats``).

    Parameters
    ----------
    zones : geopandas.GeoDataFrame or GeoSeries
        Polygons with a CRS (catchments, bank strips …).
    raster : path-like or rasterio dataset
        The land-cover raster.
    legend : mapping of int to LandCoverClass, optional
        Class legend; default :data:`dongping_geo.raster.LANDCOVER_LEGEND`.

    Returns
    -------
    pandas.DataFrame
        Same index as ``zones``: ``landcover_m2`` (area of valid pixels covered)
        and, for every class of the legend (absent ones as 0), ``area_m2_<name>``
        and ``share_<name>`` (NaN where the zone covers no valid pixel).
    """
    from .raster import LANDCOVER_LEGEND, zonal_stats

    legend = LANDCOVER_LEGEND if legend is None else legend
    gs = zones.geometry if isinstance(zones, gpd.GeoDataFrame) else zones
    res = zonal_stats(raster, gpd.GeoDataFrame(geometry=gs.reset_index(drop=True)), categorical=True, legend=legend)
    names = [c.name for c in legend.values()]
    area = pd.DataFrame({f"area_m2_{n}": res.get(f"area_m2_{n}", pd.Series(0.0, index=res.index)) for n in names})
    total = res[[c for c in res.columns if c.startswith("area_m2_")]].sum(axis=1)
    share = area.div(total.where(total > 0), axis=0)
    share.columns = [f"share_{n}" for n in names]
    out = pd.concat([total.rename("landcover_m2"), area, share], axis=1)
    out.index = gs.index
    return out


def _grouped(shares: pd.DataFrame, prefix: str) -> pd.DataFrame:
    cols = {}
    for group, names in COVER_GROUPS.items():
        cols[f"{prefix}{group}"] = sum(shares[f"share_{n}"] for n in names)
    return pd.DataFrame(cols, index=shares.index)


def _latest(assessment: pd.DataFrame) -> pd.DataFrame:
    """One row per section: the last period when there are several."""
    need = {"section_id", "water_class"}
    if not need <= set(assessment.columns):
        raise SchemaError("the assessment is not an assess_sections result", layer="assessment",
                          field=", ".join(sorted(need - set(assessment.columns))),
                          fix="pass dongping_geo.water_quality.assess_sections(...)")
    a = assessment.sort_values(["section_id", "period"]) if "period" in assessment.columns else assessment
    return a.drop_duplicates("section_id", keep="last").set_index("section_id")


def _exceeding(a: pd.DataFrame) -> pd.Series:
    """Items deciding a river's class that are worse than the section's target, joined by commas."""
    from .gb3838 import RIVER_REPORT_ONLY as _RIVER_REPORT_ONLY
    from .schemas import WATER_CLASSES, normalize_water_class

    rank = {c: i for i, c in enumerate(WATER_CLASSES)}
    items = [c[len("class_"):] for c in a.columns
             if c.startswith("class_") and c[len("class_"):] not in _RIVER_REPORT_ONLY]
    if "target_class" not in a.columns or not items:
        return pd.Series("", index=a.index)
    tgt = a["target_class"].astype(object).map(lambda v: rank[normalize_water_class(v)] if pd.notna(v) else np.nan)
    tgt = tgt.astype(float).to_numpy()
    worse = pd.DataFrame({it: a[f"class_{it}"].astype(object).map(rank).astype(float).to_numpy() > tgt
                          for it in items}, index=a.index)
    return worse.apply(lambda row: ",".join(row.index[row.fillna(False).astype(bool)]), axis=1)


def _count_inside(layer: gpd.GeoDataFrame | None, zones: gpd.GeoDataFrame, area_col: str | None) -> pd.DataFrame:
    """Features of ``layer`` whose representative point lies in each zone: count and area."""
    if layer is None:
        return pd.DataFrame({"n": np.nan, "m2": np.nan}, index=zones.index)
    pts = gpd.GeoDataFrame({"m2": layer[area_col] if area_col and area_col in layer.columns else layer.area},
                           geometry=layer.representative_point(), crs=layer.crs).to_crs(zones.crs)
    j = gpd.sjoin(pts, gpd.GeoDataFrame(geometry=zones.geometry.values, crs=zones.crs), predicate="within")
    agg = j.groupby("index_right")["m2"].agg(["count", "sum"])
    agg.index = zones.index[agg.index.to_numpy()]
    return pd.DataFrame({"n": agg["count"], "m2": agg["sum"]}).reindex(zones.index, fill_value=0)


def section_drivers(
    assessment: pd.DataFrame,
    catchments: gpd.GeoDataFrame,
    landcover: Any,
    *,
    demolitions: gpd.GeoDataFrame | None = None,
    violations: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Per section: its water class against target next to the land that drains to it.

    Parameters
    ----------
    assessment : pandas.DataFrame
        :func:`dongping_geo.water_quality.assess_sections` output; with several
        periods the last one per section is used.
    catchments : geopandas.GeoDataFrame
        :func:`section_catchments` output (with ``bank_strip``).
    landcover : path-like or rasterio dataset
        Land-cover raster (legend :data:`dongping_geo.raster.LANDCOVER_LEGEND`).
    demolitions : geopandas.GeoDataFrame, optional
        Demolished structures; counted (and ``area_m2`` summed) when their
        representative point lies in the catchment.
    violations : geopandas.GeoDataFrame, optional
        Open land-use violations (e.g. ``check_violations`` output), counted the same way.

    Returns
    -------
    pandas.DataFrame
        One row per catchment: ``section_id``, ``tier``, ``river_id``,
        ``target_class``, ``water_class``, ``meets_target``, ``exceeding_items``
        (items worse than the target class), ``catchment_m2``, ``share_<group>``
        and ``strip_share_<group>`` for the groups of :data:`COVER_GROUPS`
        (farmland, greenhouse, built_up, natural) in the catchment and its bank
        strip, ``n_demolitions``, ``demolished_m2``, ``n_violations`` (NaN when the
        layer is not given). Sections without assessment have NaN classes.
    """
    if "bank_strip" not in catchments.columns:
        raise SchemaError("the catchments have no bank_strip column", layer="catchments", field="bank_strip",
                          fix="pass the output of section_catchments")
    a = _latest(assessment).reindex(catchments["section_id"].astype(str))
    base = pd.DataFrame({"section_id": catchments["section_id"].astype(str).to_numpy()}, index=catchments.index)
    for col in ("name", "tier", "river_id", "target_class"):
        if col in catchments.columns:
            base[col] = catchments[col].to_numpy()
    base["water_class"] = a["water_class"].astype(object).to_numpy()
    base["meets_target"] = a["meets_target"].to_numpy() if "meets_target" in a.columns else pd.NA
    base["exceeding_items"] = _exceeding(a).to_numpy()
    base["catchment_m2"] = catchments["area_m2"].to_numpy()
    whole = _grouped(landcover_shares(catchments, landcover), "share_")
    strip = _grouped(landcover_shares(catchments.set_geometry("bank_strip"), landcover), "strip_share_")
    dem = _count_inside(demolitions, catchments, "area_m2")
    vio = _count_inside(violations, catchments, None)
    return pd.concat([base, whole, strip, dem.rename(columns={"n": "n_demolitions", "m2": "demolished_m2"}),
                      vio[["n"]].rename(columns={"n": "n_violations"})], axis=1).reset_index(drop=True)


def greening_candidates(
    drivers: pd.DataFrame,
    catchments: gpd.GeoDataFrame,
    landcover: Any,
    *,
    classes: Sequence[str] = ("farmland", "greenhouse"),
    min_area_m2: float = 100.0,
) -> gpd.GeoDataFrame:
    """Farmland and greenhouse parcels in the bank strips upstream of failing sections (减麦增绿).

    Parameters
    ----------
    drivers : pandas.DataFrame
        :func:`section_drivers` output; sections with ``meets_target`` False count.
    catchments : geopandas.GeoDataFrame
        :func:`section_catchments` output (its ``bank_strip``).
    landcover : path-like or rasterio dataset
        Land-cover raster; parcels are its connected pixels of one class.
    classes : sequence of str, default ("farmland", "greenhouse")
        Legend names of the classes to list.
    min_area_m2 : float, default 100.0
        Smaller pieces are left out.

    Returns
    -------
    geopandas.GeoDataFrame
        ``rank`` (1 = largest), ``landcover``, ``landcover_zh``, ``area_m2``,
        ``sections`` (comma-separated failing sections downstream),
        ``n_sections``, polygon geometry (the parcel inside the strips).
    """
    from ._catchments_parcels import class_parcels
    from .raster import LANDCOVER_LEGEND

    by_name = {c.name: c for c in LANDCOVER_LEGEND.values()}
    unknown = [c for c in classes if c not in by_name]
    if unknown:
        raise ConfigError("unknown land-cover class", field="classes", expected=", ".join(by_name),
                          found=", ".join(unknown))
    failing = set(drivers.loc[drivers["meets_target"].astype("boolean").eq(False).fillna(False), "section_id"])
    strips = catchments[catchments["section_id"].astype(str).isin(failing)].set_geometry("bank_strip")
    crs = catchments.crs
    empty = gpd.GeoDataFrame({"rank": [], "landcover": [], "landcover_zh": [], "area_m2": [], "sections": [],
                              "n_sections": []}, geometry=[], crs=crs)
    if strips.empty:
        return empty
    area = strips.geometry.union_all()
    parcels = class_parcels(landcover, area, [by_name[c].code for c in classes], crs)
    parcels = parcels[parcels.area >= min_area_m2].reset_index(drop=True)
    if parcels.empty:
        return empty
    hit = gpd.sjoin(parcels, gpd.GeoDataFrame({"sid": strips["section_id"].astype(str).to_numpy()},
                                              geometry=strips.geometry.values, crs=crs), predicate="intersects")
    secs = hit.groupby(level=0)["sid"].agg(lambda s: ",".join(sorted(set(s))))
    names = {c.code: c for c in LANDCOVER_LEGEND.values()}
    out = gpd.GeoDataFrame(
        {"landcover": [names[c].name for c in parcels["code"]], "landcover_zh": [names[c].name_zh for c in parcels["code"]],
         "area_m2": parcels.area.to_numpy(), "sections": secs.reindex(parcels.index).fillna("").to_numpy()},
        geometry=parcels.geometry.values, crs=crs,
    )
    out["n_sections"] = out["sections"].str.count(",") + (out["sections"] != "")
    out = out.sort_values(["area_m2", "n_sections"], ascending=False, kind="stable").reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out


#: Indicators of an ecologically clean small watershed (生态清洁小流域, SL/T 534-2023) that
#: need non-spatial data: listed as not computed. (key, Chinese name, data needed)
NOT_COMPUTED_INDICATORS: tuple[tuple[str, str, str], ...] = (
    ("soil_erosion_control", "水土流失治理度", "soil-erosion survey (水土保持监测)"),
    ("sewage_treatment", "生活污水处理率", "village sewage statistics"),
    ("refuse_treatment", "生活垃圾无害化处理率", "refuse collection statistics"),
    ("fertiliser_pesticide", "化肥农药施用量", "fertiliser and pesticide use by farm"),
    ("livestock_waste", "畜禽养殖废弃物资源化利用率", "livestock farm records"),
)


def _outlet_classes(drivers: pd.DataFrame | None, river_ids: pd.Series) -> pd.DataFrame:
    """Class of the most downstream section (largest catchment) of each river."""
    if drivers is None:
        return pd.DataFrame({"section_id": None, "water_class": None}, index=river_ids)
    d = drivers.sort_values("catchment_m2").drop_duplicates("river_id", keep="last").set_index("river_id")
    return d.reindex(river_ids)[["section_id", "water_class"]]


def small_watershed_indicators(
    river_catchments: gpd.GeoDataFrame,
    landcover: Any,
    *,
    drivers: pd.DataFrame | None = None,
    demolitions: gpd.GeoDataFrame | None = None,
    violations: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Small-watershed sheet (生态清洁小流域, SL/T 534-2023) of each river's catchment.

    Parameters
    ----------
    river_catchments : geopandas.GeoDataFrame
        :func:`river_catchments` output.
    landcover : path-like or rasterio dataset
        Land-cover raster.
    drivers : pandas.DataFrame, optional
        :func:`section_drivers` output: the outlet section of a river is its
        section with the largest catchment.
    demolitions, violations : geopandas.GeoDataFrame, optional
        Counted inside each catchment.

    Returns
    -------
    pandas.DataFrame
        Long table, one row per river and indicator: ``river_id``, ``name``,
        ``indicator``, ``indicator_zh``, ``value``, ``unit``, ``computed`` (False
        for indicators needing non-spatial data, with ``value`` NaN) and ``note``.
        Computed: ``vegetation_cover`` (林草覆盖率: forest + wetland share of the
        catchment's land without water), ``bank_natural_cover`` (岸带自然植被覆盖率:
        natural share of the 100 m bank strip), ``outlet_class`` (出口断面水质, the
        class; ``outlet_meets_III`` 1/0), ``demolitions`` (拆违) and
        ``violations`` (违法用地) inside.
    """
    from .schemas import WATER_CLASSES

    rc = river_catchments
    whole = landcover_shares(rc, landcover)
    strip = _grouped(landcover_shares(rc.set_geometry("bank_strip"), landcover), "")
    land = 1.0 - whole["share_water"]
    veg = (whole["share_forest"] + whole["share_wetland"]) / land.where(land > 0)
    outlet = _outlet_classes(drivers, rc["river_id"])
    cls = outlet["water_class"].astype(object).to_numpy()
    meets = [np.nan if pd.isna(c) else float(WATER_CLASSES.index(c) <= WATER_CLASSES.index("III")) for c in cls]
    dem, vio = _count_inside(demolitions, rc, "area_m2"), _count_inside(violations, rc, None)
    computed = {
        ("vegetation_cover", "林草覆盖率", "share"): veg.to_numpy(),
        ("bank_natural_cover", "岸带自然植被覆盖率", "share"): strip["natural"].to_numpy(),
        ("outlet_meets_III", "出口断面水质达到III类", "1/0"): np.asarray(meets, dtype=float),
        ("demolitions", "流域内拆违", "count"): dem["n"].to_numpy(),
        ("violations", "流域内违法用地", "count"): vio["n"].to_numpy(),
    }
    rows = []
    for (key, zh, unit), values in computed.items():
        rows.append(pd.DataFrame({"river_id": rc["river_id"].to_numpy(), "name": rc["name"].to_numpy(),
                                  "indicator": key, "indicator_zh": zh, "value": values, "unit": unit,
                                  "computed": True, "note": ""}))
    rows.append(pd.DataFrame({"river_id": rc["river_id"].to_numpy(), "name": rc["name"].to_numpy(),
                              "indicator": "outlet_class", "indicator_zh": "出口断面水质类别", "value": cls,
                              "unit": "class", "computed": True,
                              "note": [f"section {s}" if pd.notna(s) else "no section" for s in outlet["section_id"]]}))
    for key, zh, need in NOT_COMPUTED_INDICATORS:
        rows.append(pd.DataFrame({"river_id": rc["river_id"].to_numpy(), "name": rc["name"].to_numpy(),
                                  "indicator": key, "indicator_zh": zh, "value": np.nan, "unit": "",
                                  "computed": False, "note": f"needs {need}"}))
    return pd.concat(rows, ignore_index=True).sort_values(["river_id", "computed"], ascending=[True, False],
                                                         kind="stable").reset_index(drop=True)
