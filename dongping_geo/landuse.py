"""Land-use violation checks and demolition accounting.

Pure functions over GeoDataFrames: structures inside ecological red lines and basic
farmland (:func:`check_violations`), inside river management zones
(:func:`river_setback_violations`), standing on demolished sites
(:func:`rebuilt_on_demolished`), structures new since an earlier survey
(:func:`new_structures`) and the demolition ledger (:func:`demolition_summary`).

All areas are computed in the metric working CRS (:func:`dongping_geo.crs.get_work_crs`,
default EPSG:4549); results are returned in that CRS, in a deterministic row order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from importlib import resources
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import yaml

from . import _dispatch
from ._engine import use_dask
from ._landuse_check import ZONE_CATEGORIES, check_violations_memory
from ._landuse_check import checked_polygons as _checked_polygons
from ._landuse_check import ids_text as _ids_text
from ._landuse_check import require_columns as _require_columns
from ._landuse_check import require_gdf as _require_gdf
from ._landuse_check import resolve_ids as _resolve_ids
from .crs import get_work_crs, to_work_crs
from .errors import ConfigError, SchemaError
from .schemas import get_schema

__all__ = [
    "ZONE_CATEGORIES",
    "RIVER_LEVELS",
    "check_violations",
    "river_setback_violations",
    "rebuilt_on_demolished",
    "new_structures",
    "demolition_summary",
    "default_setbacks",
]

#: River management levels (from the rivers schema).
RIVER_LEVELS: tuple[str, ...] = tuple(get_schema("rivers").field("level").values)

# --- checks -------------------------------------------------------------------------


def check_violations(
    features: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    *,
    categories: str | Iterable[str] | None = None,
    min_overlap_m2: float = 1.0,
    id_field: str | None = None,
    repair: bool = False,
    engine: str = "auto",
    work_crs: Any = None,
) -> gpd.GeoDataFrame:
    """Find structures overlapping protected zones (red lines, eco space, basic farmland).

    One row per (feature, zone) overlap. A feature that only touches a zone along an
    edge or at a corner has no overlap area and gives no row; one straddling two zones
    gives two rows. Areas are computed in the working CRS.

    Parameters
    ----------
    features : GeoDataFrame
        Structures (Polygon/MultiPolygon), e.g. a building survey. Any CRS.
    zones : GeoDataFrame
        Protected zones with ``zone_id`` and ``category`` (``eco_redline``,
        ``eco_space_1`` … ``eco_space_4``, ``basic_farmland``). Any CRS.
    categories : str or iterable of str, optional
        Only check zones of these categories (default: all).
    min_overlap_m2 : float, default 1.0
        Smallest overlap area reported; smaller overlaps are digitising noise.
        Overlaps of zero area are never reported.
    id_field : str, optional
        Feature id column; default the first of ``building_id``, ``case_id``,
        ``feature_id``, ``id`` present, else the index (reported as ``feature_id``).
    repair : bool, default False
        Repair invalid geometries with :func:`shapely.make_valid` instead of raising.

    engine : {"auto", "memory", "dask"}, default "auto"
        ``"dask"`` (or ``"auto"`` with a dask_geopandas GeoDataFrame or a GeoParquet
        folder path as ``features``) checks each spatial partition with this same
        function on the current dask scheduler, see
        :func:`dongping_geo.scale.check_violations_dask`.
    work_crs : object, optional
        Metric CRS of the areas and the result (default:
        :func:`dongping_geo.crs.get_work_crs` at call time; passed on to dask workers).

    Returns
    -------
    GeoDataFrame
        Columns ``<id>``, ``zone_id``, ``category``, ``overlap_m2``, ``overlap_share``
        (overlap / feature area) and ``geometry`` (the overlap), in the working CRS,
        sorted by feature id then zone id.

    Raises
    ------
    SchemaError
        If ``zone_id``/``category`` or ``id_field`` is missing.
    ConfigError
        If ``categories`` names an unknown category, or ``min_overlap_m2`` < 0.
    GeometryError
        If a geometry is not polygonal, or is invalid and ``repair`` is False; the
        message names the zone or feature ids. Without ``repair``, features are
        checked for validity only where they meet a zone.
    CRSError
        If either layer has no CRS.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> zones = gpd.GeoDataFrame({"zone_id": ["Z1"], "category": ["eco_redline"]},
    ...                          geometry=[shapely.box(0, 0, 100, 100)], crs=4549)
    >>> houses = gpd.GeoDataFrame({"building_id": ["B1", "B2"]},
    ...     geometry=[shapely.box(90, 10, 110, 20), shapely.box(100, 50, 110, 60)], crs=4549)
    >>> check_violations(houses, zones)[["building_id", "zone_id", "overlap_m2"]].values.tolist()
    [['B1', 'Z1', 100.0]]
    """
    work_crs = get_work_crs() if work_crs is None else work_crs
    if use_dask(features, engine):
        return _dispatch.scale().check_violations_dask(
            features, zones, categories=categories, min_overlap_m2=min_overlap_m2,
            id_field=id_field, repair=repair, work_crs=work_crs,
        )
    return check_violations_memory(
        features, zones, categories=categories, min_overlap_m2=min_overlap_m2,
        id_field=id_field, repair=repair, work_crs=work_crs,
    )


@lru_cache(maxsize=1)
def _setbacks_file() -> dict[str, Any]:
    text = resources.files("dongping_geo").joinpath("data/setbacks.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def default_setbacks() -> dict[str, float]:
    """Return the default river setback per river level, in metres from the centre line.

    The figures and their sources are in ``dongping_geo/data/setbacks.yaml`` and
    docs/landuse.md: a land strip from the Shanghai rules (measured from the bank top)
    plus a chosen half channel width.

    Returns
    -------
    dict of str to float
        ``{"district": …, "town": …, "village": …}``.

    Examples
    --------
    >>> sorted(default_setbacks())
    ['district', 'town', 'village']
    """
    levels = _setbacks_file()["levels"]
    return {level: float(spec["setback_m"]) for level, spec in levels.items()}


def _setback_per_river(
    rivers: gpd.GeoDataFrame, setback_m: float | Mapping[str, float] | None
) -> np.ndarray:
    if setback_m is None:
        setback_m = default_setbacks()
    if isinstance(setback_m, Mapping):
        _require_columns(rivers, ["level"], layer="rivers")
        levels = rivers["level"].astype(str)
        unknown = ~levels.isin(list(setback_m))
        if unknown.any():
            raise ConfigError(
                "no setback for this river level",
                layer="rivers",
                feature_id=_ids_text(rivers.loc[unknown, "river_id"]),
                field="level",
                expected=", ".join(map(str, setback_m)),
                found=", ".join(sorted(levels[unknown].unique())),
                fix="add the level to setback_m, or pass one number for all rivers",
            )
        values = levels.map({str(k): float(v) for k, v in setback_m.items()}).to_numpy(float)
    else:
        values = np.full(len(rivers), float(setback_m))
    if not np.all(np.isfinite(values) & (values > 0)):
        raise ConfigError(
            "setbacks must be positive distances in metres",
            field="setback_m",
            expected="> 0",
            found=repr(setback_m),
            fix="pass a positive number or a dict of positive numbers by level",
        )
    return values


def river_setback_violations(
    features: gpd.GeoDataFrame,
    rivers: gpd.GeoDataFrame,
    *,
    setback_m: float | Mapping[str, float] | None = None,
    min_overlap_m2: float = 1.0,
    id_field: str | None = None,
) -> gpd.GeoDataFrame:
    """Find structures inside river management zones (河道管理范围).

    The management zone of a river is its centre line buffered by the setback of the
    river's level. One row per (feature, river) overlap.

    Parameters
    ----------
    features : GeoDataFrame
        Structures (Polygon/MultiPolygon). Any CRS.
    rivers : GeoDataFrame
        River centre lines with ``river_id`` and (for per-level setbacks) ``level``.
    setback_m : float or dict of str to float, optional
        Distance from the centre line in metres: one number for every river, or one per
        level (``district``/``town``/``village``). Default :func:`default_setbacks`.
    min_overlap_m2 : float, default 1.0
        Smallest overlap area reported.
    id_field : str, optional
        Feature id column (see :func:`check_violations`).

    Returns
    -------
    GeoDataFrame
        Columns ``<id>``, ``river_id``, ``name`` and ``level`` (when the rivers have
        them), ``setback_m``, ``overlap_m2``, ``overlap_share`` and ``geometry`` (the part
        of the structure inside the zone), sorted by feature id then river id.

    Raises
    ------
    SchemaError
        If ``river_id`` (or ``level`` with per-level setbacks) is missing.
    ConfigError
        If a river's level has no setback, or a setback is not a positive number.
    GeometryError
        If a feature geometry is invalid or not polygonal.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> rivers = gpd.GeoDataFrame({"river_id": ["R1"], "level": ["town"]},
    ...     geometry=[shapely.LineString([(0, 0), (1000, 0)])], crs=4549)
    >>> sheds = gpd.GeoDataFrame({"building_id": ["S1", "S2"]},
    ...     geometry=[shapely.box(100, 5, 110, 15), shapely.box(100, 50, 110, 60)], crs=4549)
    >>> river_setback_violations(sheds, rivers, setback_m=10)["overlap_m2"].tolist()
    [50.0]
    """
    features = _require_gdf(features, layer="features")
    rivers = _require_gdf(rivers, layer="rivers")
    _require_columns(rivers, ["river_id"], layer="rivers")
    distances = _setback_per_river(rivers, setback_m)
    zones = pd.DataFrame({"zone_id": rivers["river_id"].to_numpy(), "category": "river_setback"})
    zones = gpd.GeoDataFrame(
        zones, geometry=shapely.buffer(rivers.geometry.to_numpy(), distances), crs=rivers.crs
    )
    hits = check_violations(features, zones, min_overlap_m2=min_overlap_m2, id_field=id_field).drop(
        columns="category"
    )
    hits = hits.rename(columns={"zone_id": "river_id"})
    by_river = pd.DataFrame({"river_id": rivers["river_id"].to_numpy(), "setback_m": distances})
    for col in ("name", "level"):
        if col in rivers.columns:
            by_river[col] = rivers[col].to_numpy()
    by_river = by_river.drop_duplicates("river_id")
    merged = hits.merge(by_river, on="river_id", how="left", sort=False)
    id_name = hits.columns[0]
    cols = [id_name, "river_id"] + [c for c in ("name", "level") if c in merged.columns]
    cols += ["setback_m", "overlap_m2", "overlap_share", "geometry"]
    return gpd.GeoDataFrame(merged[cols], geometry="geometry", crs=hits.crs)


def rebuilt_on_demolished(
    features: gpd.GeoDataFrame,
    demolitions: gpd.GeoDataFrame,
    *,
    min_overlap_share: float = 0.5,
    id_field: str | None = None,
    repair: bool = False,
) -> gpd.GeoDataFrame:
    """Find structures standing on sites where illegal structures were demolished.

    A structure is reported against a demolished site when their overlap covers at least
    ``min_overlap_share`` of the structure **or** of the site: a shed rebuilt on part of
    a large cleared plant counts, and so does a large building over a small cleared shed.
    A neighbour touching a site, or overlapping it by a digitising sliver, does not.

    Parameters
    ----------
    features : GeoDataFrame
        Structures of a survey (Polygon/MultiPolygon). Any CRS.
    demolitions : GeoDataFrame
        Demolished sites with ``case_id`` and ``demolished_on`` (``kind`` is copied
        when present).
    min_overlap_share : float, default 0.5
        Threshold in (0, 1] on overlap / min(structure area, site area).
    id_field : str, optional
        Feature id column (see :func:`check_violations`).
    repair : bool, default False
        Repair invalid geometries instead of raising.

    Returns
    -------
    GeoDataFrame
        Columns ``<id>``, ``case_id``, ``kind`` (when present), ``demolished_on``,
        ``overlap_m2``, ``overlap_share`` (of the structure), ``site_share`` (of the
        demolished site) and ``geometry`` (the overlap), sorted by feature id, case id.

    Raises
    ------
    SchemaError
        If ``case_id`` or ``demolished_on`` is missing.
    ConfigError
        If ``min_overlap_share`` is outside (0, 1].
    GeometryError
        If a geometry is invalid (and ``repair`` is False) or not polygonal.

    Examples
    --------
    >>> import geopandas as gpd, shapely, datetime
    >>> sites = gpd.GeoDataFrame({"case_id": ["C1"], "demolished_on": [datetime.date(2020, 5, 1)]},
    ...     geometry=[shapely.box(0, 0, 20, 20)], crs=4549)
    >>> survey = gpd.GeoDataFrame({"building_id": ["B1", "B2"]},
    ...     geometry=[shapely.box(2, 2, 18, 18), shapely.box(19, 0, 40, 20)], crs=4549)
    >>> rebuilt_on_demolished(survey, sites)[["building_id", "case_id"]].values.tolist()
    [['B1', 'C1']]
    """
    if not 0 < min_overlap_share <= 1:
        raise ConfigError(
            "min_overlap_share must be in (0, 1]",
            field="min_overlap_share",
            expected="0 < share <= 1",
            found=repr(min_overlap_share),
            fix="pass a fraction such as 0.5",
        )
    demolitions = _require_gdf(demolitions, layer="demolitions")
    _require_columns(demolitions, ["case_id", "demolished_on"], layer="demolitions")
    zones = gpd.GeoDataFrame(
        {"zone_id": demolitions["case_id"].to_numpy(), "category": "demolished"},
        geometry=demolitions.geometry.to_numpy(),
        crs=demolitions.crs,
    )
    hits = check_violations(
        features, zones, min_overlap_m2=0.0, id_field=id_field, repair=repair
    ).drop(columns="category")
    id_name = hits.columns[0]
    hits = hits.rename(columns={"zone_id": "case_id"})
    sites = demolitions[["case_id", "demolished_on"] + (["kind"] if "kind" in demolitions else [])]
    sites = pd.DataFrame(sites).assign(_site_area=shapely.area(demolitions.geometry.to_numpy()))
    merged = hits.merge(sites.drop_duplicates("case_id"), on="case_id", how="left")
    merged["site_share"] = merged["overlap_m2"] / merged.pop("_site_area")
    keep = np.maximum(merged["overlap_share"], merged["site_share"]) >= min_overlap_share
    cols = [id_name, "case_id"] + (["kind"] if "kind" in merged.columns else [])
    cols += ["demolished_on", "overlap_m2", "overlap_share", "site_share", "geometry"]
    out = gpd.GeoDataFrame(merged.loc[keep, cols], geometry="geometry", crs=hits.crs)
    return out.reset_index(drop=True)


def new_structures(
    before: gpd.GeoDataFrame,
    after: gpd.GeoDataFrame,
    *,
    min_overlap_share: float = 0.5,
    tolerance_m: float = 2.0,
    id_field: str | None = None,
) -> gpd.GeoDataFrame:
    """Find structures of a later survey with no counterpart in an earlier one.

    An ``after`` structure has a counterpart when some ``before`` structure within
    ``tolerance_m`` matches it both ways: the after footprint overlaps the before
    footprint grown by ``tolerance_m`` over at least ``min_overlap_share`` of its area,
    and the reverse. Growing by the tolerance absorbs digitising shifts; asking for the
    match both ways means a building replaced by a much larger one, or a new shed next
    to an old house, counts as new.

    Parameters
    ----------
    before, after : GeoDataFrame
        The earlier and the later survey (Polygon/MultiPolygon). Any CRS.
    min_overlap_share : float, default 0.5
        Share of each footprint that must be matched, in (0, 1].
    tolerance_m : float, default 2.0
        Digitising tolerance in metres (>= 0).
    id_field : str, optional
        Id column of ``after`` (used in error messages; see :func:`check_violations`).

    Returns
    -------
    GeoDataFrame
        The rows of ``after`` (all columns, working CRS, original order) without a
        counterpart in ``before``.

    Raises
    ------
    ConfigError
        If ``min_overlap_share`` or ``tolerance_m`` is out of range.
    GeometryError
        If a geometry is invalid or not polygonal.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> old = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 10, 10)], crs=4549)
    >>> new = gpd.GeoDataFrame({"building_id": ["A", "B"]},
    ...     geometry=[shapely.box(1, 0.5, 11, 10.5), shapely.box(50, 0, 60, 10)], crs=4549)
    >>> new_structures(old, new)["building_id"].tolist()
    ['B']
    """
    if not 0 < min_overlap_share <= 1 or tolerance_m < 0:
        raise ConfigError(
            "invalid matching parameters",
            expected="0 < min_overlap_share <= 1 and tolerance_m >= 0",
            found=f"min_overlap_share={min_overlap_share!r}, tolerance_m={tolerance_m!r}",
            fix="pass a share such as 0.5 and a tolerance such as 2.0 m",
        )
    before = _require_gdf(before, layer="before")
    after = _require_gdf(after, layer="after")
    if before.crs != after.crs:  # pragma: no cover - both are in the working CRS
        before = before.to_crs(after.crs)
    _, a_ids = _resolve_ids(after, id_field, layer="after")
    _, b_ids = _resolve_ids(before, None, layer="before")
    a_geoms = _checked_polygons(
        after.geometry.to_numpy(), a_ids, layer="after", repair=False, id_name="id"
    )
    b_geoms = _checked_polygons(
        before.geometry.to_numpy(), b_ids, layer="before", repair=False, id_name="id"
    )
    tree = shapely.STRtree(b_geoms)
    if tolerance_m > 0:
        ai, bi = tree.query(a_geoms, predicate="dwithin", distance=tolerance_m)
    else:
        ai, bi = tree.query(a_geoms, predicate="intersects")
    matched = np.zeros(len(a_geoms), dtype=bool)
    if ai.size:
        a, b = a_geoms[ai], b_geoms[bi]
        if tolerance_m > 0:
            a_grown, b_grown = shapely.buffer(a, tolerance_m), shapely.buffer(b, tolerance_m)
        else:
            a_grown, b_grown = a, b
        a_share = shapely.area(shapely.intersection(a, b_grown)) / shapely.area(a)
        b_share = shapely.area(shapely.intersection(b, a_grown)) / shapely.area(b)
        ok = (a_share >= min_overlap_share) & (b_share >= min_overlap_share)
        matched[ai[ok]] = True
    present = ~(shapely.is_missing(a_geoms) | shapely.is_empty(a_geoms))
    return after[present & ~matched]


def demolition_summary(
    demolitions: pd.DataFrame,
    *,
    by: Sequence[str] = ("year", "kind", "region"),
) -> pd.DataFrame:
    """Count demolished structures and sum their areas.

    Parameters
    ----------
    demolitions : DataFrame or GeoDataFrame
        Demolition cases with ``case_id``, ``demolished_on`` (for ``year``) and
        ``area_m2``. Where ``area_m2`` is missing and geometries are present, the
        geometry's area in the working CRS is used.
    by : sequence of str, default ("year", "kind", "region")
        Grouping keys: ``year`` (from ``demolished_on``) or any column. An empty
        sequence gives one total row.

    Returns
    -------
    DataFrame
        Columns ``*by``, ``count`` and ``area_m2``, sorted by the keys.

    Raises
    ------
    SchemaError
        If a grouping key or ``area_m2`` is missing, or ``demolished_on`` holds values
        that are not dates.

    Examples
    --------
    >>> import pandas as pd
    >>> cases = pd.DataFrame({"case_id": ["a", "b", "c"],
    ...                       "kind": ["villa", "shack", "shack"],
    ...                       "demolished_on": ["2019-03-01", "2019-07-02", "2020-01-05"],
    ...                       "area_m2": [300.0, 20.0, 30.0]})
    >>> demolition_summary(cases, by=("kind",)).values.tolist()
    [['shack', 2, 50.0], ['villa', 1, 300.0]]
    """
    by = [by] if isinstance(by, str) else list(by)
    is_geo = isinstance(demolitions, gpd.GeoDataFrame)
    table = pd.DataFrame(
        demolitions.drop(columns=demolitions.geometry.name) if is_geo else demolitions
    )
    if "area_m2" in table.columns:
        area = pd.to_numeric(table["area_m2"], errors="coerce").to_numpy(float)
    else:
        area = np.full(len(table), np.nan)
    if is_geo and np.isnan(area).any():
        geom_area = shapely.area(to_work_crs(demolitions).geometry.to_numpy())
        area = np.where(np.isnan(area), geom_area, area)
    elif np.isnan(area).any():
        _require_columns(table, ["area_m2"], layer="demolitions")
    table["area_m2"] = area
    if "year" in by and "year" not in table.columns:
        _require_columns(table, ["demolished_on"], layer="demolitions")
        dates = pd.to_datetime(table["demolished_on"], errors="coerce")
        bad = dates.isna() & table["demolished_on"].notna()
        if bad.any():
            raise SchemaError(
                "unreadable demolition date",
                layer="demolitions",
                feature_id=_ids_text(table.loc[bad, "case_id"]) if "case_id" in table else None,
                field="demolished_on",
                expected="dates such as 2022-03-05",
                found=repr(table.loc[bad, "demolished_on"].iloc[0]),
                fix="load the layer with dongping_geo.loaders, which parses Chinese dates",
            )
        table["year"] = dates.dt.year.astype("Int64")
    _require_columns(table, by, layer="demolitions")
    if not by:
        return pd.DataFrame({"count": [len(table)], "area_m2": [float(np.nansum(area))]})
    out = (
        table.groupby(by, dropna=False, sort=True)
        .agg(count=("area_m2", "size"), area_m2=("area_m2", "sum"))
        .reset_index()
    )
    return out
