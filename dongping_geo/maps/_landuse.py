"""Land-use violations map (issue 7): one layer per check, with a legend.

Part of :mod:`dongping_geo.maps`, which re-exports the public names; built with its toolkit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import pandas as pd

from ..errors import SchemaError
from ..schemas import CATEGORY_COLOURS, CATEGORY_LABELS
from ._toolkit import (
    DongpingMap,
    add_categorical_legend,
    add_features,
    add_lines,
    add_polygons,
    base_map,
)
from .styles import _QUALITATIVE

#: Colour of each land-use check's layer in :func:`violations_map` (``schemas.CATEGORY_COLOURS``).
VIOLATION_COLOURS: dict[Any, str] = dict(CATEGORY_COLOURS["check"])
#: Bilingual name of each land-use check (``schemas.CATEGORY_LABELS``).
VIOLATION_LABELS: dict[Any, str] = {k: f"{zh} {en}" for k, (zh, en) in CATEGORY_LABELS["check"].items()}
_VIOLATION_FIELDS: dict[str, str] = {
    "building_id": "建筑编号 Building",
    "feature_id": "编号 Feature",
    "zone_id": "编号 Zone ID",
    "river_id": "河道编码 River ID",
    "case_id": "案件编号 Case ID",
    "name": "名称 Name",
    "category": "类别 Category",
    "level": "河道等级 Level",
    "kind": "类型 Kind",
    "demolished_on": "拆除日期 Demolished on",
    "setback_m": "管理范围 Setback (m)",
    "overlap_m2": "重叠面积 Overlap (m²)",
    "overlap_share": "占建筑 Share of building (%)",
}


def _violation_display(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Round areas and shares, and turn dates into text, for tooltips."""
    out = gdf.copy()
    if "overlap_m2" in out:
        out["overlap_m2"] = out["overlap_m2"].astype(float).round(1)
    if "overlap_share" in out:
        out["overlap_share"] = (out["overlap_share"].astype(float) * 100).round(1)
    if "demolished_on" in out:
        out["demolished_on"] = pd.to_datetime(out["demolished_on"]).dt.strftime("%Y-%m-%d")
    return out


def violations_map(
    violations: Mapping[str, gpd.GeoDataFrame],
    *,
    zones: gpd.GeoDataFrame | None = None,
    rivers: gpd.GeoDataFrame | None = None,
    demolitions: gpd.GeoDataFrame | None = None,
    basemap: str = "osm",
    tianditu_token: str | None = None,
    title: str = "东平镇违法用地核查 Dongping land-use violations",
    tolerance_m: float = 0.5,
) -> DongpingMap:
    """Map the results of the land-use checks, one toggleable layer per check.

    Each check's overlaps (the part of a structure inside a zone, setback or
    demolished site) are drawn in the check's colour with a tooltip naming the
    structure, what it overlaps and by how much; one legend lists the checks with
    their counts. Protected zones, rivers and demolished sites, when given, are
    drawn underneath as context.

    Parameters
    ----------
    violations : mapping of str to GeoDataFrame
        Check name (``redline``, ``farmland``, ``setback``, ``rebuilt``,
        ``landcover_change`` or any other) → the check's result, e.g. from
        :func:`dongping_geo.landuse.check_violations`. Empty layers are listed in
        the legend with a count of 0.
    zones, rivers, demolitions : GeoDataFrame, optional
        Context layers: red lines / farmland, river centre lines, demolished sites.
    basemap : str, default "osm"
        A key of :data:`BASEMAPS`.
    tianditu_token : str, optional
        Tianditu key (or ``TIANDITU_TOKEN``).
    title : str
        Map title.
    tolerance_m : float, default 0.5
        Simplification tolerance of the violation polygons, in metres.

    Returns
    -------
    DongpingMap
        The map; write it with :func:`save_map`.

    Raises
    ------
    SchemaError
        If there is nothing to map (no violation and no context layer).

    Examples
    --------
    >>> import shapely
    >>> v = gpd.GeoDataFrame({"building_id": ["B1"], "zone_id": ["Z1"],
    ...     "category": ["eco_redline"], "overlap_m2": [100.0], "overlap_share": [0.5]},
    ...     geometry=[shapely.box(642000, 3507000, 642010, 3507010)], crs=4549)
    >>> m = violations_map({"redline": v, "farmland": v.iloc[:0]}, basemap="none")
    """
    present = [g for g in violations.values() if g is not None and len(g)]
    context = [g for g in (zones, rivers, demolitions) if g is not None and len(g)]
    if not present and not context:
        raise SchemaError(
            "nothing to map",
            layer=", ".join(violations) or "violations",
            expected="violations or a context layer (zones, rivers, demolitions)",
            found="only empty layers",
            fix="pass the dataset's red lines or rivers as context",
        )
    m = base_map(present or context, basemap=basemap, tianditu_token=tianditu_token, title=title)
    if zones is not None and len(zones):
        add_polygons(
            m,
            zones,
            name="生态空间 Ecological space",
            category="category" if "category" in zones else None,
            tooltip=[c for c in ("name", "category") if c in zones],
            legend_title="生态空间 Ecological space",
            tolerance_m=2.0,
            fill_opacity=0.15,
            weight=1,
        )
    if demolitions is not None and len(demolitions):
        add_polygons(
            m,
            demolitions,
            name="拆违地块 Demolished sites",
            colour="#555555",
            tooltip=[c for c in ("case_id", "kind") if c in demolitions],
            tolerance_m=1.0,
            fill_opacity=0.1,
            weight=1,
            show=False,
        )
    if rivers is not None and len(rivers):
        add_lines(
            m,
            rivers,
            name="河道 Rivers",
            colour="#3182bd",
            tooltip=[c for c in ("name", "river_id", "level") if c in rivers],
            tolerance_m=2.0,
            weight=2,
        )
    items: list[tuple[str, str]] = []
    for i, (check, gdf) in enumerate(violations.items()):
        colour = VIOLATION_COLOURS.get(check, _QUALITATIVE[i % len(_QUALITATIVE)])
        label = VIOLATION_LABELS.get(check, check)
        n = 0 if gdf is None else len(gdf)
        items.append((f"{label} ({n})", colour))
        if not n:
            continue
        fields = {c: lab for c, lab in _VIOLATION_FIELDS.items() if c in gdf.columns}
        shown = _violation_display(gdf)
        # a marker on each overlap keeps small structures visible at town scale
        markers = shown.set_geometry(shown.geometry.representative_point())
        add_features(
            m,
            gpd.GeoDataFrame(pd.concat([shown, markers], ignore_index=True), crs=shown.crs),
            name=label,
            colour=colour,
            tooltip=fields,
            popup=fields,
            tolerance_m=tolerance_m,
            weight=2,
            fill_opacity=0.6,
        )
    add_categorical_legend(m, "违法用地 Violations", items, position="bottomleft")
    return m


