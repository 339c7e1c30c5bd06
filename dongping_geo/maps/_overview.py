"""Overview map of every layer of a dataset (issue 4)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd

from ..errors import SchemaError
from ._toolkit import DongpingMap, add_lines, add_points, add_polygons, base_map

__all__ = ["overview_map"]



def overview_map(
    dataset: Any,
    *,
    basemap: str = "osm",
    tianditu_token: str | None = None,
    title: str = "东平镇河湖与生态空间总览 Dongping Town overview",
    tolerance_m: float = 2.0,
) -> DongpingMap:
    """Map every layer of a dataset: rivers by level, sections by tier, red lines, demolitions.

    Each layer is its own toggleable overlay with a bilingual legend, tooltip
    and popup. Missing layers (``None``) are skipped. The farm regions
    (``dataset.regions``) and the town boundary (``dataset.extra["town"]``), when
    present, are drawn underneath as context.

    Parameters
    ----------
    dataset : object
        Anything with attributes ``rivers``, ``sections``, ``redlines`` and
        ``demolitions`` (GeoDataFrames or ``None``; optionally ``regions`` and
        ``extra``), such as the result of :func:`dongping_geo.loaders.load_dataset`.
    basemap : str, default "osm"
        A key of :data:`BASEMAPS`.
    tianditu_token : str, optional
        Tianditu key (or ``TIANDITU_TOKEN``).
    title : str
        Map title.
    tolerance_m : float, default 2.0
        Simplification tolerance for lines and polygons, in metres.

    Returns
    -------
    DongpingMap
        The map.

    Raises
    ------
    SchemaError
        If the dataset has none of the four layers.

    Examples
    --------
    >>> import shapely, types
    >>> rivers = gpd.GeoDataFrame({"river_id": ["R1"], "name": ["洪林河"], "level": ["town"]},
    ...     geometry=[shapely.LineString([(642000, 3507000), (643000, 3507500)])], crs=4549)
    >>> ds = types.SimpleNamespace(rivers=rivers, sections=None, redlines=None, demolitions=None)
    >>> m = overview_map(ds, basemap="none")
    """
    layers = {
        k: getattr(dataset, k, None) for k in ("redlines", "demolitions", "rivers", "sections")
    }
    present = [g for g in layers.values() if g is not None and len(g)]
    if not present:
        raise SchemaError(
            "nothing to map",
            layer="rivers, sections, redlines, demolitions",
            expected="at least one of these layers with features",
            found="none",
            fix="check the dataset folder",
        )
    town = (getattr(dataset, "extra", None) or {}).get("town")
    regions = getattr(dataset, "regions", None)
    context = [g for g in (town, regions) if g is not None and len(g)]
    m = base_map(present + context, basemap=basemap, tianditu_token=tianditu_token, title=title)

    def cols(gdf: gpd.GeoDataFrame, names: Sequence[str]) -> list[str]:
        return [c for c in names if c in gdf.columns]

    # Context first (drawn underneath): the four farm regions and the town boundary.
    if regions is not None and len(regions):
        add_polygons(
            m,
            regions,
            name="片区 Farm regions",
            category="region" if "region" in regions else None,
            tooltip=cols(regions, ["name", "region"]),
            legend=False,  # context only; the tooltip names the region
            tolerance_m=tolerance_m,
            fill_opacity=0.06,
            weight=1,
        )
    if town is not None and len(town):
        add_polygons(
            m,
            town,
            name="镇界 Town boundary",
            colour="#444444",
            tooltip=cols(town, ["name"]),
            tolerance_m=tolerance_m,
            fill_opacity=0.0,
            weight=2,
        )

    g = layers["redlines"]
    if g is not None and len(g):
        add_polygons(
            m,
            g,
            name="生态空间 Ecological space",
            category="category" if "category" in g else None,
            tooltip=cols(g, ["name", "category"]),
            popup=cols(g, ["zone_id", "name", "category"]),
            legend_title="生态空间 Ecological space",
            tolerance_m=tolerance_m,
            fill_opacity=0.35,
        )
    g = layers["demolitions"]
    if g is not None and len(g):
        add_polygons(
            m,
            g,
            name="拆违地块 Demolitions",
            category="kind" if "kind" in g else None,
            tooltip=cols(g, ["case_id", "kind"]),
            popup=cols(g, ["case_id", "kind", "demolished_on", "area_m2", "region", "status"]),
            legend_title="拆违类型 Demolished structures",
            tolerance_m=tolerance_m,
            fill_opacity=0.7,
        )
    g = layers["rivers"]
    if g is not None and len(g):
        add_lines(
            m,
            g,
            name="河道 Rivers",
            category="level" if "level" in g else None,
            tooltip=cols(g, ["name", "level", "chief"]),
            popup=cols(g, ["river_id", "name", "level", "region", "chief", "target_class"]),
            legend_title="河道等级 River level",
            tolerance_m=tolerance_m,
            weight=3,
        )
    g = layers["sections"]
    if g is not None and len(g):
        add_points(
            m,
            g,
            name="监测断面 Monitoring sections",
            category="tier" if "tier" in g else None,
            tooltip=cols(g, ["name", "tier"]),
            popup=cols(g, ["section_id", "name", "tier", "river_id", "target_class"]),
            legend_title="断面考核级别 Section tier",
            radius=6,
        )
    return m


# The analysis maps live in private modules, one per analysis, built with the toolkit
