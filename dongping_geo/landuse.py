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
from typing import Any, NamedTuple

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
from ._landuse_check import sorted_rows as _sorted
from ._landuse_overlay import overlay_pairs as _overlay_pairs
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
    "LandChanges",
    "land_areas",
    "land_accounts",
    "land_changes",
    "cropland_occupation",
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


# --- the land survey (三调 / 年度变更调查): areas, accounts, changes, occupation -------------
# Land-class codes, first-level classes, the cultivated and occupation codes and the 亩 live
# in dongping_geo.landclass; the kernels in dongping_geo._landsurvey.

#: Default tolerance of :func:`land_areas`: TBMJ may differ from the ellipsoidal area by
#: ``LAND_AREA_ATOL_M2 + LAND_AREA_RTOL × area`` before a parcel is flagged.
LAND_AREA_RTOL = 1e-4
LAND_AREA_ATOL_M2 = 0.1


def _survey_codes(parcels: pd.DataFrame, *, layer: str) -> pd.Series:
    """Normalised land codes of a parcel table (refusing unknown ones)."""
    from .landclass import TABLE_NAME, normalize_land_codes

    _require_columns(parcels, ["land_code"], layer=layer)
    codes, bad = normalize_land_codes(parcels["land_code"])
    missing = codes.isna() & ~bad
    if bad.any() or missing.any():
        rows = bad | missing
        ids = parcels.loc[rows, "parcel_id"] if "parcel_id" in parcels.columns else parcels.index[rows]
        raise SchemaError(
            "unknown or missing land-class code", layer=layer, field="land_code",
            feature_id=_ids_text(ids), expected=f"codes of {TABLE_NAME}",
            found=", ".join(sorted({repr(v) for v in parcels.loc[rows, "land_code"]})[:5]),
            fix="load the survey with dongping_geo.load_land_survey, or correct the codes",
        )
    return codes


def _official_area(parcels: pd.DataFrame, *, layer: str) -> np.ndarray:
    """TBMJ (``area_m2``) as floats; refuse missing values."""
    _require_columns(parcels, ["area_m2"], layer=layer)
    area = pd.to_numeric(parcels["area_m2"], errors="coerce").to_numpy(float)
    if not np.isfinite(area).all():
        rows = ~np.isfinite(area)
        ids = parcels["parcel_id"].to_numpy()[rows] if "parcel_id" in parcels.columns else np.flatnonzero(rows)
        raise SchemaError(
            "missing official parcel area (TBMJ)", layer=layer, field="area_m2",
            feature_id=_ids_text(ids), expected="a number in every parcel", found=f"{int(rows.sum())} empty",
            fix="fill in TBMJ (图斑面积) from the survey database",
        )
    return area


def land_areas(
    parcels: gpd.GeoDataFrame,
    *,
    rtol: float = LAND_AREA_RTOL,
    atol_m2: float = LAND_AREA_ATOL_M2,
    work_crs: Any = None,
) -> pd.DataFrame:
    """Compute each parcel's area on the CGCS2000 ellipsoid and compare it with TBMJ.

    The survey's official area (TBMJ) is the area on the CGCS2000 ellipsoid, not the area
    on the Gauss-Kruger plane, which is larger by the square of the scale factor (about
    5 parts in 10,000 at Dongping, 1.5° from the central meridian of zone 40). The area
    here is the geodesic polygon area from pyproj's ``Geod`` (GeographicLib).

    Parameters
    ----------
    parcels : GeoDataFrame
        Survey parcels with ``parcel_id`` and (for the comparison) ``area_m2`` (TBMJ).
        Any CRS.
    rtol : float, default 1e-4
        Relative tolerance: one part in 10,000 (1 m² on a hectare); below the 5e-4 a
        planar area at Dongping would show, above TBMJ's rounding to 0.01 m².
    atol_m2 : float, default 0.1
        Absolute tolerance in m², for small parcels.
    work_crs : object, optional
        Metric CRS of the computation and the result (default:
        :func:`dongping_geo.crs.get_work_crs` at call time).

    Returns
    -------
    DataFrame
        One row per parcel, in input order: ``parcel_id`` (and ``village_code`` when
        present), ``area_m2`` (TBMJ, NaN when absent), ``ellipsoidal_m2``,
        ``planar_m2`` (in the working CRS), ``difference_m2`` (TBMJ − ellipsoidal) and
        ``mismatch`` (True where ``|difference| > atol_m2 + rtol × ellipsoidal``).

    Raises
    ------
    SchemaError
        If ``parcel_id`` is missing.
    ConfigError
        If a tolerance is negative.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> p = gpd.GeoDataFrame({"parcel_id": ["1"], "area_m2": [10_000.0]},
    ...     geometry=[shapely.box(640_000, 3_508_000, 640_100, 3_508_100)], crs=4549)
    >>> row = land_areas(p).iloc[0]
    >>> round(float(row.planar_m2 / row.ellipsoidal_m2) - 1, 5), bool(row.mismatch)
    (0.00048, True)
    """
    from ._landsurvey import geodesic_areas

    if rtol < 0 or atol_m2 < 0:
        raise ConfigError("tolerances must not be negative", field="rtol/atol_m2", expected=">= 0",
                          found=f"rtol={rtol!r}, atol_m2={atol_m2!r}", fix="pass e.g. rtol=1e-4, atol_m2=0.1")
    parcels = _require_gdf(parcels, layer="land_survey", work_crs=work_crs)
    _require_columns(parcels, ["parcel_id"], layer="land_survey")
    geoms = parcels.geometry.to_numpy()
    ell = geodesic_areas(geoms, parcels.crs)
    out = pd.DataFrame({"parcel_id": parcels["parcel_id"].to_numpy()})
    if "village_code" in parcels.columns:
        out["village_code"] = parcels["village_code"].to_numpy()
    tbmj = (pd.to_numeric(parcels["area_m2"], errors="coerce").to_numpy(float)
            if "area_m2" in parcels.columns else np.full(len(parcels), np.nan))
    out["area_m2"] = tbmj
    out["ellipsoidal_m2"] = ell
    out["planar_m2"] = shapely.area(geoms)
    out["difference_m2"] = tbmj - ell
    out["mismatch"] = np.abs(tbmj - ell) > atol_m2 + rtol * ell
    return out


def _net_area(parcels: pd.DataFrame, gross: np.ndarray) -> np.ndarray:
    """Net land-class area: TBDLMJ, else TBMJ − KCMJ, else TBMJ × (1 − KCXS), else TBMJ."""
    net = np.full(len(parcels), np.nan)
    if "net_area_m2" in parcels.columns:
        net = pd.to_numeric(parcels["net_area_m2"], errors="coerce").to_numpy(float)
    if "deduction_m2" in parcels.columns:
        kcmj = pd.to_numeric(parcels["deduction_m2"], errors="coerce").to_numpy(float)
        net = np.where(np.isnan(net), gross - kcmj, net)
    if "deduction_ratio" in parcels.columns:
        kcxs = pd.to_numeric(parcels["deduction_ratio"], errors="coerce").to_numpy(float)
        net = np.where(np.isnan(net), gross * (1 - kcxs), net)
    return np.where(np.isnan(net), gross, net)


def _class_labels(table: pd.DataFrame, key: str) -> pd.DataFrame:
    """Add Chinese/English names beside a land_class or land_code key column."""
    from .landclass import FIRST_LEVEL, class_attribute

    if key == "land_class":
        table.insert(table.columns.get_loc(key) + 1, "land_class_zh", table[key].map({k: v[1] for k, v in FIRST_LEVEL.items()}))
        table.insert(table.columns.get_loc(key) + 2, "land_class_en", table[key].map({k: v[2] for k, v in FIRST_LEVEL.items()}))
    elif key == "land_code":
        table.insert(table.columns.get_loc(key) + 1, "land_code_zh", class_attribute(table[key], "zh"))
        table.insert(table.columns.get_loc(key) + 2, "land_code_en", class_attribute(table[key], "en"))
    return table


def land_accounts(
    parcels: pd.DataFrame,
    *,
    by: str | Sequence[str] = ("village", "land_class"),
    totals: bool = True,
) -> pd.DataFrame:
    """Sum the survey's official areas by village and land class, in m² and 亩.

    Gross areas are the parcels' TBMJ (``area_m2``), so the totals equal the sum of TBMJ.
    The net area deducts field ridges: TBDLMJ (``net_area_m2``) where recorded, else
    TBMJ − KCMJ, else TBMJ × (1 − KCXS). 亩 are m² divided by
    :data:`dongping_geo.landclass.SQUARE_METRES_PER_MU` (10,000 / 15).

    Parameters
    ----------
    parcels : DataFrame or GeoDataFrame
        Survey parcels with ``land_code`` and ``area_m2`` (and the ``by`` columns).
    by : str or sequence of str, default ("village", "land_class")
        Grouping keys: ``land_class`` (first level, derived from ``land_code``),
        ``land_code`` (second level) or any column such as ``village``/``village_code``.
    totals : bool, default True
        Append a row ``total`` (in every key column) summing every parcel.

    Returns
    -------
    DataFrame
        ``*by`` (class keys followed by their ``_zh``/``_en`` names), ``parcels``,
        ``area_m2``, ``area_mu``, ``net_area_m2``, ``net_area_mu``; sorted by the keys.

    Raises
    ------
    SchemaError
        If ``land_code``, ``area_m2`` or a grouping column is missing, TBMJ is empty,
        or a land code is not in the table.

    Examples
    --------
    >>> import pandas as pd
    >>> p = pd.DataFrame({"village": ["A", "A", "B"], "land_code": ["0101", "0702", "103"],
    ...                   "area_m2": [1500.0, 300.0, 3000.0], "deduction_ratio": [0.1, 0, 0]})
    >>> land_accounts(p, by="land_class")[["land_class", "area_mu", "net_area_m2"]].values.tolist()
    [['cultivated', 6.75, 4350.0], ['residential', 0.45, 300.0], ['total', 7.2, 4650.0]]
    """
    from .landclass import SQUARE_METRES_PER_MU, class_attribute

    keys = [by] if isinstance(by, str) else list(by)
    table = pd.DataFrame(parcels.drop(columns=parcels.geometry.name) if isinstance(parcels, gpd.GeoDataFrame) else parcels)
    codes = _survey_codes(table, layer="land_survey")
    table["land_code"] = codes
    table["land_class"] = class_attribute(codes)
    gross = _official_area(table, layer="land_survey")
    table["area_m2"] = gross
    table["net_area_m2"] = _net_area(table, gross)
    _require_columns(table, keys, layer="land_survey")
    grouped = table.groupby(keys, dropna=False, sort=True) if keys else None
    if grouped is not None:
        out = grouped.agg(parcels=("area_m2", "size"), area_m2=("area_m2", "sum"),
                          net_area_m2=("net_area_m2", "sum")).reset_index()
    else:
        out = pd.DataFrame(columns=["parcels", "area_m2", "net_area_m2"])
    if totals or not keys:
        total = {k: "total" for k in keys} | {"parcels": len(table), "area_m2": float(gross.sum()),
                                               "net_area_m2": float(table["net_area_m2"].sum())}
        out = pd.concat([out, pd.DataFrame([total])], ignore_index=True)
    out.insert(out.columns.get_loc("area_m2") + 1, "area_mu", out["area_m2"] / SQUARE_METRES_PER_MU)
    out["net_area_mu"] = out["net_area_m2"] / SQUARE_METRES_PER_MU
    for key in keys:
        out = _class_labels(out, key)
    return out


class LandChanges(NamedTuple):
    """Result of :func:`land_changes`.

    Attributes
    ----------
    transitions : DataFrame
        Area moving from each class to each class (``from_class`` = ``to_class`` for
        land that kept its class).
    cultivated_loss : GeoDataFrame
        The pieces where cultivated land (耕地) of the earlier vintage is something else
        in the later one.
    """

    transitions: pd.DataFrame
    cultivated_loss: gpd.GeoDataFrame


def _prepared_parcels(
    parcels: gpd.GeoDataFrame, *, layer: str, repair: bool, work_crs: Any
) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Parcels in the working CRS with normalised codes, and their checked geometries."""
    parcels = _require_gdf(parcels, layer=layer, work_crs=work_crs)
    _require_columns(parcels, ["parcel_id"], layer=layer)
    parcels = parcels.assign(land_code=_survey_codes(parcels, layer=layer).to_numpy())
    geoms = _checked_polygons(parcels.geometry.to_numpy(), parcels["parcel_id"].to_numpy(),
                              layer=layer, repair=repair, id_name="parcel_id")
    return parcels, geoms


def land_changes(
    before: gpd.GeoDataFrame,
    after: gpd.GeoDataFrame,
    *,
    by: str | None = "village",
    level: str = "land_class",
    repair: bool = False,
    work_crs: Any = None,
) -> LandChanges:
    """Compare two vintages of the survey: a class-to-class transition table and cultivated land lost.

    The two parcel layers are overlaid exactly (every piece where a parcel of ``before``
    meets a parcel of ``after``). A piece's area is its share of the ``after`` parcel's
    plane area times that parcel's TBMJ, so the pieces of a parcel covered by the earlier
    vintage add up to its official area. Parcels of one vintage must not overlap (the
    survey's topology rule): a parcel whose geometry is unchanged is matched to its twin
    without an overlay.

    Parameters
    ----------
    before, after : GeoDataFrame
        The earlier and later parcels (``parcel_id``, ``land_code``, ``area_m2``). Any CRS.
    by : str or None, default "village"
        Column of ``after`` to split the table by (``None``: the whole area).
    level : {"land_class", "land_code"}, default "land_class"
        First-level classes or second-level codes.
    repair : bool, default False
        Make invalid parcels valid instead of raising.
    work_crs : object, optional
        Metric CRS of the computation and the result (default:
        :func:`dongping_geo.crs.get_work_crs` at call time).

    Returns
    -------
    LandChanges
        ``transitions``: ``by``, ``from_<level>``, ``to_<level>``, ``area_m2``,
        ``area_mu``, ``changed``; ``cultivated_loss``: ``before_parcel_id``,
        ``after_parcel_id``, ``by``, ``from_code``, ``to_code``, ``area_m2``, geometry
        (working CRS), sorted by the after then before parcel id.

    Raises
    ------
    ConfigError
        If ``level`` is not ``land_class`` or ``land_code``.
    SchemaError, GeometryError
        On missing fields, unknown codes or bad geometry.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> old = gpd.GeoDataFrame({"parcel_id": ["1"], "land_code": ["0101"], "area_m2": [2e4]},
    ...     geometry=[shapely.box(0, 0, 200, 100)], crs=4549)
    >>> new = gpd.GeoDataFrame({"parcel_id": ["7", "8"], "land_code": ["0101", "0702"],
    ...     "area_m2": [1e4, 1e4]}, geometry=[shapely.box(0, 0, 100, 100),
    ...     shapely.box(100, 0, 200, 100)], crs=4549)
    >>> land_changes(old, new, by=None).transitions[["from_land_class", "to_land_class", "area_m2"]].values.tolist()
    [['cultivated', 'cultivated', 10000.0], ['cultivated', 'residential', 10000.0]]
    """
    from ._landsurvey import partition_pairs
    from .landclass import CULTIVATED_CODES, SQUARE_METRES_PER_MU, class_attribute

    if level not in ("land_class", "land_code"):
        raise ConfigError("unknown level", field="level", expected="land_class or land_code",
                          found=repr(level), fix="pass level='land_class' or level='land_code'")
    before, b_geoms = _prepared_parcels(before, layer="before", repair=repair, work_crs=work_crs)
    after, a_geoms = _prepared_parcels(after, layer="after", repair=repair, work_crs=work_crs)
    if by is not None:
        _require_columns(after, [by], layer="after")
    bi, ai, geoms, areas = partition_pairs(b_geoms, a_geoms, twins=True)
    keep = areas > 0
    bi, ai, geoms, areas = bi[keep], ai[keep], geoms[keep], areas[keep]
    scale = _official_area(after, layer="after") / shapely.area(a_geoms)
    area = areas * scale[ai]
    from_code, to_code = before["land_code"].to_numpy()[bi], after["land_code"].to_numpy()[ai]
    pieces = pd.DataFrame({
        f"from_{level}": from_code if level == "land_code" else class_attribute(pd.Series(from_code)).to_numpy(),
        f"to_{level}": to_code if level == "land_code" else class_attribute(pd.Series(to_code)).to_numpy(),
        "area_m2": area,
    })
    keys = [f"from_{level}", f"to_{level}"]
    if by is not None:
        pieces.insert(0, by, after[by].to_numpy()[ai])
        keys = [by, *keys]
    table = pieces.groupby(keys, dropna=False, sort=True)["area_m2"].sum().reset_index()
    table["area_mu"] = table["area_m2"] / SQUARE_METRES_PER_MU
    table["changed"] = table[f"from_{level}"] != table[f"to_{level}"]
    lost = np.isin(from_code, CULTIVATED_CODES) & ~np.isin(to_code, CULTIVATED_CODES)
    loss = gpd.GeoDataFrame({
        "before_parcel_id": before["parcel_id"].to_numpy()[bi[lost]],
        "after_parcel_id": after["parcel_id"].to_numpy()[ai[lost]],
        **({by: after[by].to_numpy()[ai[lost]]} if by is not None else {}),
        "from_code": from_code[lost], "to_code": to_code[lost], "area_m2": area[lost],
    }, geometry=gpd.GeoSeries(geoms[lost], crs=after.crs).values, crs=after.crs)
    return LandChanges(table, _sorted(loss, ["after_parcel_id", "before_parcel_id"]))


def cropland_occupation(
    buildings: gpd.GeoDataFrame,
    parcels: gpd.GeoDataFrame,
    *,
    farmland: gpd.GeoDataFrame | None = None,
    land_codes: Iterable[str] | None = None,
    min_overlap_m2: float = 1.0,
    id_field: str | None = None,
    repair: bool = False,
    work_crs: Any = None,
) -> gpd.GeoDataFrame:
    """Find buildings standing on cultivated land (乱占耕地建房) of the land survey.

    One row per (building, parcel) overlap on a parcel whose code is an occupation code
    (:data:`dongping_geo.landclass.OCCUPATION_CODES`: 0101 水田, 0102 水浇地, 0103 旱地).
    Rural homesteads (0702) and facility farmland (1202) are not occupation; the rule for
    each class and its source are in docs/landuse.md. Combine with
    :func:`new_structures` for the campaign's list of new houses on cultivated land.

    Parameters
    ----------
    buildings : GeoDataFrame
        Building footprints (Polygon/MultiPolygon). Any CRS.
    parcels : GeoDataFrame
        Survey parcels (``parcel_id``, ``land_code``; ``village``, ``village_code`` and
        ``land_name`` are copied when present). Any CRS.
    farmland : GeoDataFrame, optional
        Permanent basic farmland (a red-lines layer: only ``category == "basic_farmland"``
        is used when it has a ``category`` column). Adds ``basic_farmland`` (the overlap
        meets it) and ``farmland_m2``.
    land_codes : iterable of str, optional
        Codes that count as occupation (default the cultivated codes).
    min_overlap_m2 : float, default 1.0
        Smallest overlap reported (digitising noise below it).
    id_field : str, optional
        Building id column (see :func:`check_violations`).
    repair : bool, default False
        Make invalid geometries valid instead of raising.
    work_crs : object, optional
        Metric CRS of the computation and the result (default:
        :func:`dongping_geo.crs.get_work_crs` at call time).

    Returns
    -------
    GeoDataFrame
        ``<id>``, ``parcel_id``, ``village_code``/``village`` (when present),
        ``land_code``, ``land_name``, ``overlap_m2`` (working CRS), ``overlap_share`` (of
        the building), [``basic_farmland``, ``farmland_m2``], geometry = the overlap;
        sorted by building id then parcel id.

    Raises
    ------
    SchemaError
        On missing fields or land codes not in the table (also in ``land_codes``).
    ConfigError
        If ``min_overlap_m2`` is negative.
    GeometryError
        On non-polygonal geometry, or invalid geometry without ``repair``.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> parcels = gpd.GeoDataFrame({"parcel_id": ["1", "2"], "land_code": ["0101", "0702"]},
    ...     geometry=[shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100)], crs=4549)
    >>> houses = gpd.GeoDataFrame({"building_id": ["H1"]},
    ...     geometry=[shapely.box(90, 10, 110, 20)], crs=4549)
    >>> cropland_occupation(houses, parcels)[["building_id", "parcel_id", "overlap_m2"]].values.tolist()
    [['H1', '1', 100.0]]
    """
    from ._landsurvey import partition_pairs
    from .landclass import OCCUPATION_CODES, class_attribute, normalize_land_code

    if min_overlap_m2 < 0:
        raise ConfigError("min_overlap_m2 must not be negative", field="min_overlap_m2", expected=">= 0",
                          found=repr(min_overlap_m2), fix="pass 0 to report every overlap of positive area")
    codes = OCCUPATION_CODES if land_codes is None else tuple(normalize_land_code(c, field="land_codes") for c in land_codes)
    buildings = _require_gdf(buildings, layer="buildings", work_crs=work_crs)
    parcels = _require_gdf(parcels, layer="land_survey", work_crs=work_crs)
    _require_columns(parcels, ["parcel_id"], layer="land_survey")
    parcels = parcels.assign(land_code=_survey_codes(parcels, layer="land_survey").to_numpy())
    parcels = parcels[parcels["land_code"].isin(codes)]
    if parcels.crs != buildings.crs:  # pragma: no cover - both are in the working CRS
        parcels = parcels.to_crs(buildings.crs)
    p_geoms = _checked_polygons(parcels.geometry.to_numpy(), parcels["parcel_id"].to_numpy(),
                                layer="land_survey", repair=repair, id_name="parcel_id")
    id_name, ids = _resolve_ids(buildings, id_field, layer="buildings")
    # as in check_violations: without repair, only buildings near cultivated land are
    # checked for validity (after the overlay; an invalid one may break it: check all)
    b_geoms = _checked_polygons(buildings.geometry.to_numpy(), ids, layer="buildings",
                                repair=repair, id_name=id_name, validity=repair)
    try:
        bi, pi, geoms, areas = partition_pairs(b_geoms, p_geoms)
        met = np.unique(bi)
    except shapely.errors.GEOSException:
        met, bi = np.arange(len(b_geoms)), None
    _checked_polygons(b_geoms[met], ids[met], layer="buildings", repair=False, id_name=id_name)
    if bi is None:  # pragma: no cover - every building valid yet GEOS failed: re-raise
        bi, pi, geoms, areas = partition_pairs(b_geoms, p_geoms)
    keep = (areas > 0) & (areas >= min_overlap_m2)
    bi, pi, geoms, areas = bi[keep], pi[keep], geoms[keep], areas[keep]
    cols: dict[str, Any] = {id_name: ids[bi], "parcel_id": parcels["parcel_id"].to_numpy()[pi]}
    for col in ("village_code", "village"):
        if col in parcels.columns:
            cols[col] = parcels[col].to_numpy()[pi]
    cols["land_code"] = parcels["land_code"].to_numpy()[pi]
    cols["land_name"] = class_attribute(pd.Series(cols["land_code"]), "zh").to_numpy()
    cols["overlap_m2"] = areas
    cols["overlap_share"] = areas / shapely.area(b_geoms[bi]) if bi.size else np.empty(0)
    out = gpd.GeoDataFrame(cols, geometry=gpd.GeoSeries(geoms, crs=buildings.crs).values, crs=buildings.crs)
    if farmland is not None:
        out = _mark_farmland(out, _require_gdf(farmland, layer="farmland", work_crs=work_crs))
    return _sorted(out, [id_name, "parcel_id"])


def _mark_farmland(hits: gpd.GeoDataFrame, farmland: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Add basic_farmland / farmland_m2: how much of each overlap lies in basic farmland."""
    if "category" in farmland.columns:
        farmland = farmland[farmland["category"] == "basic_farmland"]
    if farmland.crs != hits.crs:  # pragma: no cover - both are in the working CRS
        farmland = farmland.to_crs(hits.crs)
    zone_ids = farmland["zone_id"].to_numpy() if "zone_id" in farmland.columns else farmland.index.to_numpy()
    zones = _checked_polygons(farmland.geometry.to_numpy(), zone_ids, layer="farmland",
                              repair=False, id_name="zone_id")
    fi, _, _, areas = _overlay_pairs(hits.geometry.to_numpy(), zones)
    inside = np.bincount(fi, weights=areas, minlength=len(hits)) if fi.size else np.zeros(len(hits))
    return hits.assign(basic_farmland=inside > 0, farmland_m2=inside)
