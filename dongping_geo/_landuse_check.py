"""In-memory kernel of :func:`dongping_geo.landuse.check_violations`, and its layer checks.

Private analysis module: :mod:`dongping_geo.scale` runs :func:`check_violations_memory`
on each dask partition. Every setting that changes the result — the working CRS
included — is an argument, so a worker process computes what the client would.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._landuse_overlay import overlay_pairs as _overlay_pairs
from ._validation import check_geometries
from .crs import to_work_crs
from .errors import ConfigError, SchemaError
from .schemas import get_schema

#: Protection categories of the redlines layer (from its schema).
ZONE_CATEGORIES: tuple[str, ...] = tuple(get_schema("redlines").field("category").values)

_POLYGONAL = (3, 6)  # shapely type ids of Polygon and MultiPolygon
_DEFAULT_ID_FIELDS = ("building_id", "case_id", "feature_id", "id")
_MAX_IDS_IN_MESSAGE = 10


# --- helpers ----------------------------------------------------------------------


def ids_text(ids: Iterable[Any]) -> str:
    ids = list(ids)
    text = ", ".join(str(i) for i in ids[:_MAX_IDS_IN_MESSAGE])
    if len(ids) > _MAX_IDS_IN_MESSAGE:
        text += f" … ({len(ids)} in all)"
    return text


def require_columns(gdf: pd.DataFrame, columns: Sequence[str], *, layer: str) -> None:
    missing = [c for c in columns if c not in gdf.columns]
    if missing:
        raise SchemaError(
            f"missing field(s) {', '.join(missing)}",
            layer=layer,
            field=missing[0],
            expected=", ".join(columns),
            found=", ".join(map(str, gdf.columns)),
            fix="load the layer with dongping_geo.loaders (which maps the Chinese aliases) "
            "or rename the field",
        )


def require_gdf(data: Any, *, layer: str, work_crs: Any = None) -> gpd.GeoDataFrame:
    if not isinstance(data, gpd.GeoDataFrame):
        raise SchemaError(
            "not a GeoDataFrame",
            layer=layer,
            expected="a geopandas.GeoDataFrame",
            found=type(data).__name__,
            fix="read the layer with dongping_geo.loaders or geopandas.read_file",
        )
    return to_work_crs(data, work_crs=work_crs)


def resolve_ids(
    features: gpd.GeoDataFrame, id_field: str | None, *, layer: str
) -> tuple[str, np.ndarray]:
    """Return (output column name, id values) for the features."""
    if id_field is not None:
        require_columns(features, [id_field], layer=layer)
        return id_field, features[id_field].to_numpy()
    for name in _DEFAULT_ID_FIELDS:
        if name in features.columns:
            return name, features[name].to_numpy()
    return "feature_id", features.index.to_numpy()


def checked_polygons(
    geoms: np.ndarray,
    ids: np.ndarray,
    *,
    layer: str,
    repair: bool,
    id_name: str,
    validity: bool = True,
) -> np.ndarray:
    """Check polygon types and (unless ``validity`` is False) validity; repair when asked.

    The policy is :func:`dongping_geo._validation.check_geometries`, the one every loader
    applies; this wrapper only lets the overlay check validity where features meet a zone.
    """
    geoms = np.asarray(geoms, dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    bad_type = present & ~np.isin(shapely.get_type_id(geoms), _POLYGONAL)
    if not validity and not bad_type.any():
        return geoms
    checked, issues, _ = check_geometries(
        geoms[present], allowed=("Polygon", "MultiPolygon"), ids=ids[present],
        layer=f"{layer} ({id_name})", repair=repair,
    )
    if issues:
        raise issues[0].error
    out = geoms.copy()
    out[present] = checked
    return out


def check_categories(categories: str | Iterable[str] | None) -> list[str] | None:
    if categories is None:
        return None
    cats = [categories] if isinstance(categories, str) else list(categories)
    unknown = [c for c in cats if c not in ZONE_CATEGORIES]
    if unknown:
        raise ConfigError(
            "unknown zone category",
            layer="redlines",
            field="category",
            expected=", ".join(ZONE_CATEGORIES),
            found=", ".join(map(repr, unknown)),
            fix="use the canonical category names",
        )
    return cats


def check_violations_memory(
    features: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    *,
    categories: str | Iterable[str] | None,
    min_overlap_m2: float,
    id_field: str | None,
    repair: bool,
    work_crs: Any,
) -> gpd.GeoDataFrame:
    """:func:`dongping_geo.landuse.check_violations` in memory, in ``work_crs``."""
    if min_overlap_m2 < 0:
        raise ConfigError(
            "min_overlap_m2 must not be negative",
            expected=">= 0",
            found=repr(min_overlap_m2),
            fix="pass 0 to report every overlap of positive area",
        )
    features = require_gdf(features, layer="features", work_crs=work_crs)
    zones = require_gdf(zones, layer="zones", work_crs=work_crs)
    require_columns(zones, ["zone_id", "category"], layer="zones")
    if zones.crs != features.crs:  # pragma: no cover - both are in the working CRS
        zones = zones.to_crs(features.crs)
    cats = check_categories(categories)
    if cats is not None:
        zones = zones[zones["category"].isin(cats)]
    id_name, ids = resolve_ids(features, id_field, layer="features")
    zone_ids = zones["zone_id"].to_numpy()
    zone_geoms = checked_polygons(
        zones.geometry.to_numpy(), zone_ids, layer="zones", repair=repair, id_name="zone_id"
    )
    # With repair, every feature is checked (and repaired) first. Without, only the
    # features meeting a zone are checked, after the overlay: on a town-wide survey
    # most buildings meet no zone, and validity checks are a good part of the cost.
    feat_geoms = checked_polygons(
        features.geometry.to_numpy(),
        ids,
        layer="features",
        repair=repair,
        id_name=id_name,
        validity=repair,
    )
    try:
        fi, zi, geoms, areas = _overlay_pairs(feat_geoms, zone_geoms)
        met = np.zeros(len(feat_geoms), dtype=bool)
        met[fi] = True
        met = np.flatnonzero(met)
    except shapely.errors.GEOSException:  # an invalid feature broke an intersection
        met = np.arange(len(feat_geoms))
        fi = None
    checked_polygons(feat_geoms[met], ids[met], layer="features", repair=False, id_name=id_name)
    if fi is None:  # pragma: no cover - every feature valid yet GEOS failed: re-raise
        fi, zi, geoms, areas = _overlay_pairs(feat_geoms, zone_geoms)
    keep = (areas > 0) & (areas >= min_overlap_m2)
    fi, zi, geoms, areas = fi[keep], zi[keep], geoms[keep], areas[keep]
    share = areas / shapely.area(feat_geoms[fi]) if fi.size else np.empty(0)
    out = gpd.GeoDataFrame(
        {
            id_name: ids[fi],
            "zone_id": zone_ids[zi],
            "category": zones["category"].to_numpy()[zi],
            "overlap_m2": areas,
            "overlap_share": share,
        },
        geometry=gpd.GeoSeries(geoms, crs=features.crs).values,
        crs=features.crs,
    )
    return sorted_rows(out, [id_name, "zone_id"])


def sorted_rows(gdf: gpd.GeoDataFrame, keys: list[str]) -> gpd.GeoDataFrame:
    """Sort deterministically (stable) by the key columns and reset the index."""
    if len(gdf) == 0:
        return gdf.reset_index(drop=True)
    order = np.lexsort([sort_codes(gdf[k]) for k in reversed(keys)])
    return gdf.iloc[order].reset_index(drop=True)


def sort_codes(values: pd.Series) -> np.ndarray:
    """Integer ranks of the values (fast to sort); mixed types rank by their text."""
    try:
        codes, _ = pd.factorize(values, sort=True)
    except TypeError:
        codes, _ = pd.factorize(values.astype(str), sort=True)
    return codes


