"""Folium maps: Chinese basemaps with GCJ-02 alignment, legends, safe popups, offline HTML.

Every map the package makes is built from these helpers so they look and behave
alike:

* :func:`base_map` makes the map with a basemap (``osm``, ``tianditu``,
  ``tianditu_img``, ``gaode``, ``gaode_satellite`` or ``none``), scale bar,
  fullscreen and measure controls. A map on Gaode (AMap) tiles remembers that the
  tiles are in GCJ-02, and every layer added through these helpers is shifted to
  GCJ-02 so the data sit on the tiles.
* :func:`add_lines`, :func:`add_polygons`, :func:`add_points` (all thin wrappers of
  :func:`add_features`) draw a GeoDataFrame with a single colour, a colour per
  category or a continuous colour ramp, bilingual tooltips and popups built from
  HTML-escaped values, and a legend drawn on the map.
* :func:`add_categorical_legend` and :func:`add_continuous_legend` draw legends
  for anything else.
* :func:`save_map` writes the HTML atomically; ``offline=True`` inlines Leaflet
  and the plugins so the file opens with no internet.

Attribute values are never trusted: every value shown in a tooltip, popup or legend
passes through :func:`html.escape`, so a feature named ``<script>…</script>``
shows as text.

Notes for authors of new maps (``coverage_map``, ``water_quality_map`` …): start
with :func:`base_map`, add layers with the helpers above (they simplify, reproject,
shift and round the geometry), and return the map. The layer control is added
and kept last automatically when the map is rendered.
"""

from __future__ import annotations

import html
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import xyzservices
import xyzservices.providers as xyz
from branca.element import Element, Figure, MacroElement
from folium import plugins
from folium.template import Template

from . import _offline
from .crs import to_web_crs, to_work_crs, wgs84_to_gcj02
from .errors import ConfigError, CRSError, GeometryError, OutputError, SchemaError
from .patrol import patrol_tracks

__all__ = [
    "BASEMAPS",
    "FIELD_LABELS",
    "VALUE_LABELS",
    "PALETTES",
    "DongpingMap",
    "base_map",
    "uses_gcj02",
    "prepare_for_web",
    "add_features",
    "add_lines",
    "add_polygons",
    "add_points",
    "add_categorical_legend",
    "add_continuous_legend",
    "map_html",
    "save_map",
    "overview_map",
    "WATER_CLASS_COLOURS",
    "WATER_GRADE_COLOURS",
    "water_quality_map",
    "VIOLATION_COLOURS",
    "VIOLATION_LABELS",
    "violations_map",
    "coverage_map",
]

#: Basemap names accepted by :func:`base_map`, with what they show.
BASEMAPS: dict[str, str] = {
    "osm": "OpenStreetMap (WGS 84, no shift)",
    "tianditu": "Tianditu 天地图 vector map with labels, imagery as alternative (CGCS2000, no shift; needs a token)",
    "tianditu_img": "Tianditu 天地图 imagery with labels, vector map as alternative (needs a token)",
    "gaode": "Gaode/AMap 高德 street map, satellite as alternative (GCJ-02: overlays are shifted)",
    "gaode_satellite": "Gaode/AMap 高德 satellite imagery, street map as alternative (GCJ-02)",
    "none": "no tiles (data, legend and controls only; for offline use)",
}

#: Bilingual labels for canonical field names, used in tooltips and popups.
FIELD_LABELS: dict[str, str] = {
    "name": "名称 Name",
    "river_id": "河道编码 River ID",
    "level": "河道等级 Level",
    "region": "片区 Region",
    "chief": "河长 Chief",
    "target_class": "水质目标 Target class",
    "section_id": "断面编码 Section ID",
    "tier": "考核级别 Tier",
    "zone_id": "编号 Zone ID",
    "category": "类别 Category",
    "case_id": "案件编号 Case ID",
    "kind": "类型 Kind",
    "demolished_on": "拆除日期 Demolished on",
    "area_m2": "面积 Area (m²)",
    "length_m": "长度 Length (m)",
    "status": "状态 Status",
    "patrol_id": "巡河编号 Patrol ID",
    "timestamp": "时间 Time",
    "building_id": "建筑编号 Building ID",
    "surveyed_on": "调查日期 Surveyed on",
    "water_class": "水质类别 Water class",
}

#: Bilingual labels for category values, per canonical field.
VALUE_LABELS: dict[str, dict[str, str]] = {
    "level": {"district": "区管 District", "town": "镇管 Town", "village": "村管 Village"},
    "tier": {
        "national": "国考 National",
        "municipal": "市考 Municipal",
        "district": "区考 District",
        "town": "镇考 Town",
    },
    "region": {
        "dongfeng": "东风 Dongfeng",
        "changjiang": "长江 Changjiang",
        "qianjin": "前进 Qianjin",
        "qianshao": "前哨 Qianshao",
    },
    "category": {
        "eco_redline": "生态保护红线 Ecological red line",
        "eco_space_1": "一类生态空间 Eco-space I",
        "eco_space_2": "二类生态空间 Eco-space II",
        "eco_space_3": "三类生态空间 Eco-space III",
        "eco_space_4": "四类生态空间 Eco-space IV",
        "basic_farmland": "永久基本农田 Basic farmland",
    },
    "kind": {
        "illegal_building": "违法建筑 Illegal building",
        "concrete_plant": "混凝土搅拌站 Concrete plant",
        "plastic_recycling": "废塑料加工点 Plastic recycling",
        "gravel_yard": "碎石加工场 Gravel yard",
        "greenhouse_housing": "大棚房 Greenhouse housing",
        "villa": "违建别墅 Illegal villa",
        "shack": "窝棚彩钢棚 Shack",
    },
}

# Water-quality classes (GB 3838-2002), shared by target and assessed classes.
_WATER_CLASS_LABELS = {
    "I": "Ⅰ类 Class I",
    "II": "Ⅱ类 Class II",
    "III": "Ⅲ类 Class III",
    "IV": "Ⅳ类 Class IV",
    "V": "Ⅴ类 Class V",
    "劣V": "劣Ⅴ类 Worse than V",
}
# Blue (I-II), green (III), yellow (IV), orange (V), red (worse than V): the colour
# scheme of China's surface-water quality assessment method.
_WATER_CLASS_COLOURS = {
    "I": "#00b0f0",
    "II": "#0070c0",
    "III": "#00b050",
    "IV": "#ffd700",
    "V": "#ff8c00",
    "劣V": "#e00000",
}
VALUE_LABELS["target_class"] = _WATER_CLASS_LABELS
VALUE_LABELS["water_class"] = _WATER_CLASS_LABELS

#: Default colours per category value, per canonical field (legend colours in docs/maps.md).
PALETTES: dict[str, dict[str, str]] = {
    "target_class": _WATER_CLASS_COLOURS,
    "water_class": _WATER_CLASS_COLOURS,
    "level": {"district": "#08306b", "town": "#2171b5", "village": "#6baed6"},
    "region": {
        "dongfeng": "#1b9e77",
        "changjiang": "#7570b3",
        "qianjin": "#d95f02",
        "qianshao": "#e7298a",
    },
    "tier": {
        "national": "#e31a1c",
        "municipal": "#ff7f00",
        "district": "#6a3d9a",
        "town": "#33a02c",
    },
    "category": {
        "eco_redline": "#d7191c",
        "eco_space_1": "#f46d43",
        "eco_space_2": "#fdae61",
        "eco_space_3": "#fee08b",
        "eco_space_4": "#d9ef8b",
        "basic_farmland": "#c8a800",
    },
    "kind": {
        "illegal_building": "#e41a1c",
        "concrete_plant": "#377eb8",
        "plastic_recycling": "#4daf4a",
        "gravel_yard": "#984ea3",
        "greenhouse_housing": "#ff7f00",
        "villa": "#a65628",
        "shack": "#f781bf",
    },
}

# Fallback qualitative palette (ColorBrewer Set1/Dark2 mix) for unknown categories.
_QUALITATIVE = [
    "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d",
    "#1f78b4", "#b2df8a", "#fb9a99", "#cab2d6", "#6a3d9a",
]  # fmt: skip
_MISSING_COLOUR = "#999999"
_MISSING_LABEL = "未知 Unknown"
#: Default continuous ramp (viridis stops).
DEFAULT_RAMP = ("#440154", "#3b528b", "#21918c", "#5ec962", "#fde725")

_TIANDITU_URL = (
    "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
    "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={tk}"
)
_TIANDITU_ATTR = '&copy; <a href="https://www.tianditu.gov.cn/">天地图 Tianditu</a> GS(2024)0650号'

_CSS = """
<style>
.dg-legend {background: rgba(255,255,255,0.92); padding: 6px 10px; border-radius: 5px;
  box-shadow: 0 1px 5px rgba(0,0,0,0.4); font: 12px/1.5 "Noto Sans CJK SC", "Microsoft YaHei",
  "PingFang SC", sans-serif; color: #222; max-width: 260px; max-height: 40vh; overflow-y: auto;}
.dg-legend .dg-legend-title {font-weight: bold; margin-bottom: 3px;}
.dg-legend .dg-swatch {display: inline-block; width: 14px; height: 14px; margin-right: 6px;
  vertical-align: -2px; border: 1px solid rgba(0,0,0,0.35);}
.dg-legend .dg-swatch-line {height: 4px; vertical-align: 3px; border: none;}
.dg-legend .dg-swatch-point {border-radius: 50%;}
.dg-legend .dg-ramp {height: 12px; width: 200px; border: 1px solid rgba(0,0,0,0.35);}
.dg-legend .dg-ramp-ticks {display: flex; justify-content: space-between; width: 202px;}
.dg-title {position: absolute; top: 10px; left: 50%; transform: translateX(-50%); z-index: 1000;
  background: rgba(255,255,255,0.92); padding: 4px 14px; border-radius: 5px;
  box-shadow: 0 1px 5px rgba(0,0,0,0.4); font: bold 15px/1.4 "Noto Sans CJK SC",
  "Microsoft YaHei", sans-serif; pointer-events: none;}
table.dg-tip th {text-align: left; padding-right: 8px; white-space: nowrap; font-weight: 600;}
table.dg-tip td {max-width: 320px; word-break: break-all;}
</style>
"""


class DongpingMap(folium.Map):
    """A :class:`folium.Map` that knows its basemap's coordinate system.

    Made by :func:`base_map`. Rendering keeps the layer control after every layer
    (folium needs it last) and adds it if missing.

    Attributes
    ----------
    basemap : str
        The basemap name (a key of :data:`BASEMAPS`).
    gcj02 : bool
        True when the tiles are in GCJ-02 (Gaode/AMap): overlays must be shifted.
    """

    def __init__(self, *args: Any, basemap: str = "none", gcj02: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.basemap = basemap
        self.gcj02 = gcj02
        self._layer_control: folium.LayerControl | None = None

    # folium.Map.render returns None, but branca annotates Element.render as returning str.
    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        """Render the map, moving the layer control after all layers."""
        if self._layer_control is None:
            self._layer_control = folium.LayerControl(position="topright", collapsed=False)
            self.add_child(self._layer_control)
        self._children.move_to_end(self._layer_control.get_name())
        super().render(**kwargs)


def uses_gcj02(m: folium.Map) -> bool:
    """Tell whether overlays on a map must be shifted to GCJ-02.

    Parameters
    ----------
    m : folium.Map
        A map, normally from :func:`base_map`.

    Returns
    -------
    bool
        True for a Gaode/AMap basemap; False for other maps (including plain
        ``folium.Map`` objects).

    Examples
    --------
    >>> uses_gcj02(base_map((121.4, 31.6, 121.6, 31.8), basemap="gaode"))
    True
    >>> uses_gcj02(base_map((121.4, 31.6, 121.6, 31.8), basemap="none"))
    False
    """
    return bool(getattr(m, "gcj02", False))


# --- base map ---------------------------------------------------------------------


def _bounds_lonlat(bounds: Any) -> tuple[float, float, float, float]:
    """(minx, miny, maxx, maxy) in EPSG:4326 from a tuple or (a list of) GeoDataFrames."""
    if isinstance(bounds, gpd.GeoDataFrame | gpd.GeoSeries):
        bounds = [bounds]
    if (
        isinstance(bounds, list | tuple)
        and bounds
        and all(isinstance(b, gpd.GeoDataFrame | gpd.GeoSeries) for b in bounds)
    ):
        boxes = []
        for frame in bounds:
            geoms = frame.geometry if isinstance(frame, gpd.GeoDataFrame) else frame
            geoms = geoms[~(geoms.isna() | geoms.is_empty)]
            if len(geoms):
                boxes.append(to_web_crs(geoms).total_bounds)
        if not boxes:
            raise GeometryError(
                "cannot fit the map: the data have no geometry",
                expected="at least one non-empty geometry",
                found="only empty or missing geometries",
                fix="pass bounds=(minx, miny, maxx, maxy) in degrees",
            )
        arr = np.vstack(boxes)
        return (arr[:, 0].min(), arr[:, 1].min(), arr[:, 2].max(), arr[:, 3].max())
    try:
        minx, miny, maxx, maxy = (float(v) for v in bounds)
    except (TypeError, ValueError):
        raise ConfigError(
            "cannot read the map bounds",
            field="bounds",
            expected="(minx, miny, maxx, maxy) in degrees, or a GeoDataFrame/GeoSeries",
            found=repr(bounds)[:80],
            fix="pass gdf.to_crs(4326).total_bounds or the GeoDataFrame itself",
        ) from None
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise ConfigError(
            "map bounds are not longitudes/latitudes",
            field="bounds",
            expected="minx <= maxx within ±180 and miny <= maxy within ±90 (EPSG:4326)",
            found=str((minx, miny, maxx, maxy)),
            fix="reproject the data to EPSG:4326 first, or pass the GeoDataFrame itself",
        )
    return minx, miny, maxx, maxy


def _tianditu_provider(layer: str, name: str, token: str) -> xyzservices.TileProvider:
    return xyzservices.TileProvider(
        name=name,
        url=_TIANDITU_URL.replace("{layer}", layer),
        attribution="(C) Tianditu 天地图",
        html_attribution=_TIANDITU_ATTR,
        subdomains="01234567",
        max_zoom=18,
        tk=token,
    )


def _tile_layer(provider: xyzservices.TileProvider, name: str, **kwargs: Any) -> folium.TileLayer:
    return folium.TileLayer(
        tiles=provider.build_url(fill_subdomain=False),
        attr=provider.get("html_attribution", provider.get("attribution", "")),
        name=name,
        max_zoom=provider.get("max_zoom", 18),
        subdomains=provider.get("subdomains", "abc"),
        **kwargs,
    )


def base_map(
    bounds: Any,
    *,
    basemap: str = "osm",
    tianditu_token: str | None = None,
    title: str | None = None,
    controls: bool = True,
    width: str = "100%",
    height: str = "100%",
) -> DongpingMap:
    """Make a map fitted to ``bounds`` with a basemap, scale bar, fullscreen and measure controls.

    Parameters
    ----------
    bounds : tuple of float, GeoDataFrame, GeoSeries or list of them
        ``(minx, miny, maxx, maxy)`` in degrees (EPSG:4326), or data in any CRS
        whose combined extent the map fits.
    basemap : str, default "osm"
        One of :data:`BASEMAPS`: ``osm``; ``tianditu`` / ``tianditu_img``
        (天地图 vector / imagery, CGCS2000, with labels; the other one is offered
        as an alternative base layer); ``gaode`` / ``gaode_satellite`` (高德
        street / satellite, GCJ-02: the map remembers it, and every overlay added
        with this module's helpers is shifted to GCJ-02); ``none`` (no tiles).
    tianditu_token : str, optional
        Tianditu API key; defaults to the ``TIANDITU_TOKEN`` environment variable.
    title : str, optional
        A title shown at the top of the map (escaped).
    controls : bool, default True
        Add the fullscreen and measure controls (the scale bar is always there).
    width, height : str, default "100%"
        Size of the map element (CSS lengths).

    Returns
    -------
    DongpingMap
        The map. Add layers with :func:`add_features` and friends, write it with
        :func:`save_map`.

    Raises
    ------
    ConfigError
        If the basemap name is unknown, a Tianditu basemap has no token, or the
        bounds cannot be read.
    GeometryError
        If ``bounds`` is data with no geometry.

    Examples
    --------
    >>> m = base_map((121.35, 31.62, 121.75, 31.78), basemap="none", title="东平镇")
    >>> m.basemap, m.gcj02
    ('none', False)
    """
    if basemap not in BASEMAPS:
        raise ConfigError(
            "unknown basemap",
            field="basemap",
            expected=", ".join(BASEMAPS),
            found=repr(basemap),
            fix="choose one of the listed basemaps",
        )
    minx, miny, maxx, maxy = _bounds_lonlat(bounds)
    # A lone point gives zero-size bounds, which Leaflet fits at maximum zoom: keep
    # at least about 1 km around the centre.
    half = 0.005
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    minx, maxx = min(minx, cx - half), max(maxx, cx + half)
    miny, maxy = min(miny, cy - half), max(maxy, cy + half)
    gcj02 = basemap.startswith("gaode")
    if gcj02:
        (minx, maxx), (miny, maxy) = wgs84_to_gcj02(np.array([minx, maxx]), np.array([miny, maxy]))

    m = DongpingMap(
        location=[(miny + maxy) / 2, (minx + maxx) / 2],
        zoom_start=12,
        tiles=None,
        control_scale=False,  # replaced by a metric-only scale bar below
        zoom_snap=0.25,  # fit the data tighter than whole zoom levels allow
        width=width,
        height=height,
        basemap=basemap,
        gcj02=gcj02,
    )
    # Only Leaflet is needed: drop jQuery, Bootstrap and the icon fonts folium loads
    # by default, so online maps are lighter and offline maps need nothing else.
    m.default_js = [(k, v) for k, v in folium.Map.default_js if k == "leaflet"]
    m.default_css = [(k, v) for k, v in folium.Map.default_css if k == "leaflet_css"]
    # A new map's root is its Figure (branca annotates get_root as returning Element).
    cast(Figure, m.get_root()).header.add_child(Element(_CSS), name="dongping_css")

    if basemap == "osm":
        _tile_layer(xyz.OpenStreetMap.Mapnik, "OpenStreetMap").add_to(m)
    elif basemap.startswith("tianditu"):
        token = tianditu_token or os.environ.get("TIANDITU_TOKEN")
        if not token:
            raise ConfigError(
                "Tianditu tiles need an API token",
                field="tianditu_token",
                expected="a Tianditu key (tk)",
                found="no tianditu_token argument and no TIANDITU_TOKEN environment variable",
                fix="pass tianditu_token=... (CLI: --tianditu-token) or set TIANDITU_TOKEN, "
                "or use basemap 'osm' or 'none'",
            )
        vec = _tile_layer(
            _tianditu_provider("vec", "Tianditu.Vector", token), "天地图矢量 Tianditu map"
        )
        img = _tile_layer(
            _tianditu_provider("img", "Tianditu.Imagery", token), "天地图影像 Tianditu imagery"
        )
        first, second = (img, vec) if basemap == "tianditu_img" else (vec, img)
        first.add_to(m)
        second.add_to(m)
        label_layer = "cia" if basemap == "tianditu_img" else "cva"
        _tile_layer(
            _tianditu_provider(label_layer, "Tianditu.Labels", token),
            "天地图注记 Tianditu labels",
            overlay=True,
        ).add_to(m)
    elif gcj02:
        street = _tile_layer(xyz.Gaode.Normal, "高德地图 Gaode street")
        sat = _tile_layer(xyz.Gaode.Satellite, "高德影像 Gaode satellite")
        first, second = (sat, street) if basemap == "gaode_satellite" else (street, sat)
        first.add_to(m)
        second.add_to(m)

    if controls:
        plugins.Fullscreen(
            position="topleft", title="全屏 Full screen", title_cancel="退出全屏 Exit full screen"
        ).add_to(m)
        plugins.MeasureControl(
            position="topleft",
            primary_length_unit="meters",
            secondary_length_unit="kilometers",
            primary_area_unit="sqmeters",
            secondary_area_unit="hectares",
            localization="cn",  # leaflet-measure ships a Chinese locale
        ).add_to(m)
    if title:
        _Title(title).add_to(m)
    _MetricScale().add_to(m)
    # Pad the fit so the layer control (top right) and legends (bottom right) do not
    # cover the data.
    m.fit_bounds(
        [[miny, minx], [maxy, maxx]], padding_top_left=(50, 50), padding_bottom_right=(280, 30)
    )
    return m


class _MetricScale(MacroElement):
    _template = Template(
        """
        {% macro script(this, kwargs) %}
        L.control.scale({imperial: false, maxWidth: 150}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "DgScale"


class _Title(MacroElement):
    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var div = L.DomUtil.create("div", "dg-title");
            div.textContent = {{ this.text|tojson }};
            {{ this._parent.get_name() }}.getContainer().appendChild(div);
        })();
        {% endmacro %}
        """
    )

    def __init__(self, text: str):
        super().__init__()
        self._name = "DgTitle"
        self.text = str(text)


# --- data preparation ----------------------------------------------------------------


def prepare_for_web(
    gdf: gpd.GeoDataFrame,
    *,
    tolerance_m: float = 1.0,
    gcj02: bool = False,
    decimals: int = 6,
    layer: str | None = None,
) -> gpd.GeoDataFrame:
    """Simplify, reproject to EPSG:4326, optionally shift to GCJ-02 and round coordinates.

    Simplification happens in the metric working CRS (so ``tolerance_m`` is in
    metres whatever the input CRS), before reprojection. Rounding to 6 decimals
    (about 0.1 m) keeps the HTML small. Rows with missing or empty geometry are
    dropped, since they cannot be drawn.

    Parameters
    ----------
    gdf : GeoDataFrame
        Data with a CRS.
    tolerance_m : float, default 1.0
        Douglas-Peucker tolerance in metres (topology-preserving); 0 disables it.
    gcj02 : bool, default False
        Shift the result to GCJ-02 (for Gaode/AMap tiles).
    decimals : int, default 6
        Decimal places kept in longitude/latitude.
    layer : str, optional
        Layer name used in error messages.

    Returns
    -------
    GeoDataFrame
        A copy in EPSG:4326 (GCJ-02 coordinates when ``gcj02`` is true).

    Raises
    ------
    CRSError
        If ``gdf`` has no CRS.

    Examples
    --------
    >>> import shapely
    >>> g = gpd.GeoDataFrame(geometry=[shapely.LineString([(642000, 3507000), (642000.4, 3507500),
    ...                                                    (642000, 3508000)])], crs=4549)
    >>> len(shapely.get_coordinates(prepare_for_web(g, tolerance_m=1.0).geometry))
    2
    """
    if gdf.crs is None:
        raise CRSError(
            "cannot map data without a CRS",
            layer=layer,
            expected="a GeoDataFrame with .crs set",
            found="crs=None",
            fix="set it with .set_crs(...) or load the layer with dongping_geo.loaders",
        )
    geoms = gdf.geometry
    keep = ~(geoms.isna() | geoms.is_empty).to_numpy()
    out = gdf.loc[keep].copy()
    if tolerance_m and tolerance_m > 0 and len(out):
        # Simplify in metres; the result goes straight on to EPSG:4326.
        work = to_work_crs(out.geometry)
        geoms = np.asarray(work.values)
        # Polygons keep their topology (no collapse to empty); lines and points use the
        # plain Douglas-Peucker, several times faster on long GPS tracks.
        is_poly = np.isin(shapely.get_type_id(geoms), (3, 6))
        simple = shapely.simplify(geoms, tolerance_m, preserve_topology=False)
        simple[is_poly] = shapely.simplify(geoms[is_poly], tolerance_m, preserve_topology=True)
        out = out.set_geometry(simple)
        out = out.set_crs(work.crs, allow_override=True)
    out = to_web_crs(out)
    if gcj02:
        out = wgs84_to_gcj02(out)
    rounded = shapely.transform(np.asarray(out.geometry.values), lambda c: np.round(c, decimals))
    out[out.geometry.name] = gpd.GeoSeries(rounded, index=out.index, crs=out.crs)
    return out


def _display_values(values: pd.Series, labels: Mapping[Any, str] | None) -> pd.Series:
    """Format a column for people and HTML-escape it."""
    if labels:
        shown = values.map(lambda v: labels.get(v, v))
    else:
        shown = values
    if pd.api.types.is_datetime64_any_dtype(shown):
        has_time = bool(((shown.dt.hour != 0) | (shown.dt.minute != 0)).any())
        text = shown.dt.strftime("%Y-%m-%d %H:%M" if has_time else "%Y-%m-%d")
    elif pd.api.types.is_float_dtype(shown):
        text = shown.map(lambda v: f"{v:,.2f}".rstrip("0").rstrip("."))
    else:
        text = shown.astype(str)
    text = text.where(values.notna(), "—")
    return text.map(html.escape)


def _field_labels(fields: Sequence[str] | Mapping[str, str] | None) -> dict[str, str]:
    if fields is None:
        return {}
    if isinstance(fields, Mapping):
        return {str(k): str(v) for k, v in fields.items()}
    return {f: FIELD_LABELS.get(f, f) for f in fields}


def _html_table(
    df: pd.DataFrame, fields: Mapping[str, str], value_labels: Mapping[str, Mapping[Any, str]]
) -> pd.Series:
    """One escaped HTML table per row: label | value for each field."""
    if df.empty:  # nothing to render (and empty columns would not concatenate as text)
        return pd.Series([], index=df.index, dtype=object)
    out = pd.Series("", index=df.index, dtype=object)
    for field, label in fields.items():
        cells = _display_values(df[field], value_labels.get(field))
        out = out + f"<tr><th>{html.escape(label)}</th><td>" + cells + "</td></tr>"
    return '<table class="dg-tip">' + out + "</table>"


def _hex_to_rgb(colours: Sequence[str]) -> np.ndarray:
    return np.array([[int(c.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4)] for c in colours])


def _ramp_colours(values: np.ndarray, vmin: float, vmax: float, ramp: Sequence[str]) -> np.ndarray:
    """Interpolate hex colours along a ramp, vectorised over values."""
    rgb = _hex_to_rgb(ramp).astype(float)
    stops = np.linspace(0.0, 1.0, len(ramp))
    span = vmax - vmin if vmax > vmin else 1.0
    t = np.clip((values - vmin) / span, 0.0, 1.0)
    chans = [np.interp(t, stops, rgb[:, i]).round().astype(int) for i in range(3)]
    hexes = np.char.add(
        "#",
        np.char.add(
            np.char.zfill(np.char.mod("%x", chans[0]), 2),
            np.char.add(
                np.char.zfill(np.char.mod("%x", chans[1]), 2),
                np.char.zfill(np.char.mod("%x", chans[2]), 2),
            ),
        ),
    )
    return np.where(np.isnan(values), _MISSING_COLOUR, hexes)


# --- layers ------------------------------------------------------------------------


class _GeoJsonLayer(folium.map.Layer):
    """An L.geoJSON layer whose style, tooltip and popup come from feature properties.

    Properties: ``_c`` colour, ``_t`` tooltip HTML, ``_p`` popup HTML (both built
    from escaped values in Python). Data are embedded with ``tojson``, which
    escapes ``<``, ``>`` and ``&`` so no value can close the script tag.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.geoJSON({{ this.data|tojson }}, {
            style: function (f) {
                var s = Object.assign({}, {{ this.style|tojson }});
                if (f.properties._c) { s.color = f.properties._c; s.fillColor = f.properties._c; }
                return s;
            },
            pointToLayer: function (f, latlng) {
                return L.circleMarker(latlng, {radius: {{ this.radius|tojson }}});
            },
            onEachFeature: function (f, layer) {
                if (f.properties._t) { layer.bindTooltip(f.properties._t, {sticky: true}); }
                if (f.properties._p) { layer.bindPopup(f.properties._p, {maxWidth: 420}); }
            }
        });
        {% endmacro %}
        """
    )

    def __init__(self, data: dict, *, name: str, style: dict, radius: float, show: bool = True):
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "DgGeoJson"
        self.data = data
        self.style = style
        self.radius = radius


class _Legend(MacroElement):
    """A legend drawn as a Leaflet control; hidden while its layer is switched off."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var legend = L.control({position: {{ this.position|tojson }}});
            legend.onAdd = function () {
                var div = L.DomUtil.create("div", "dg-legend leaflet-control");
                div.innerHTML = {{ this.html|tojson }};
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            {% if this.layer_name %}
            var layer = {{ this.layer_name }};
            if (map.hasLayer(layer)) { legend.addTo(map); }
            map.on("overlayadd", function (e) { if (e.layer === layer) { legend.addTo(map); } });
            map.on("overlayremove", function (e) { if (e.layer === layer) { legend.remove(); } });
            {% else %}
            legend.addTo(map);
            {% endif %}
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self, html_text: str, *, position: str = "bottomright", layer_name: str | None = None
    ):
        super().__init__()
        self._name = "DgLegend"
        self.html = html_text
        self.position = position
        self.layer_name = layer_name


def add_categorical_legend(
    m: folium.Map,
    title: str,
    items: Iterable[tuple[str, str]],
    *,
    shape: str = "box",
    layer: folium.map.Layer | None = None,
    position: str = "bottomright",
) -> MacroElement:
    """Draw a legend of coloured swatches on the map.

    Parameters
    ----------
    m : folium.Map
        The map.
    title : str
        Legend title (escaped), e.g. ``"河道等级 River level"``.
    items : iterable of (label, colour)
        Labels (escaped) and CSS colours (``#rrggbb``), in display order.
    shape : {"box", "line", "point"}, default "box"
        Swatch shape, to match the layer's geometry.
    layer : folium Layer, optional
        The layer the legend explains; the legend hides while it is switched off.
    position : str, default "bottomright"
        Leaflet control corner.

    Returns
    -------
    MacroElement
        The legend element (already added to the map).

    Examples
    --------
    >>> m = base_map((121.4, 31.6, 121.6, 31.8), basemap="none")
    >>> _ = add_categorical_legend(m, "等级 Level", [("区管 District", "#08306b")], shape="line")
    """
    cls = {"box": "", "line": " dg-swatch-line", "point": " dg-swatch-point"}.get(shape, "")
    rows = "".join(
        f'<div><span class="dg-swatch{cls}" style="background:{_safe_colour(colour)}"></span>'
        f"{html.escape(str(label))}</div>"
        for label, colour in items
    )
    body = f'<div class="dg-legend-title">{html.escape(str(title))}</div>{rows}'
    legend = _Legend(body, position=position, layer_name=layer.get_name() if layer else None)
    m.add_child(legend)
    return legend


def add_continuous_legend(
    m: folium.Map,
    title: str,
    vmin: float,
    vmax: float,
    *,
    colours: Sequence[str] = DEFAULT_RAMP,
    unit: str = "",
    layer: folium.map.Layer | None = None,
    position: str = "bottomright",
) -> MacroElement:
    """Draw a colour-ramp legend with minimum, middle and maximum ticks.

    Parameters
    ----------
    m : folium.Map
        The map.
    title : str
        Legend title (escaped).
    vmin, vmax : float
        Values at the ends of the ramp.
    colours : sequence of str, default viridis stops
        Ramp colours from ``vmin`` to ``vmax``.
    unit : str, default ""
        Unit shown after the title, e.g. ``"mg/L"``.
    layer : folium Layer, optional
        The layer the legend explains; the legend hides while it is switched off.
    position : str, default "bottomright"
        Leaflet control corner.

    Returns
    -------
    MacroElement
        The legend element (already added to the map).

    Examples
    --------
    >>> m = base_map((121.4, 31.6, 121.6, 31.8), basemap="none")
    >>> _ = add_continuous_legend(m, "氨氮 NH3-N", 0.0, 2.0, unit="mg/L")
    """
    stops = ", ".join(_safe_colour(c) for c in colours)
    mid = (vmin + vmax) / 2

    def fmt(v: float) -> str:
        return html.escape(f"{v:,.3g}")

    head = html.escape(f"{title} ({unit})" if unit else str(title))
    body = (
        f'<div class="dg-legend-title">{head}</div>'
        f'<div class="dg-ramp" style="background: linear-gradient(to right, {stops})"></div>'
        f'<div class="dg-ramp-ticks"><span>{fmt(vmin)}</span><span>{fmt(mid)}</span>'
        f"<span>{fmt(vmax)}</span></div>"
    )
    legend = _Legend(body, position=position, layer_name=layer.get_name() if layer else None)
    m.add_child(legend)
    return legend


def _safe_colour(colour: str) -> str:
    """Allow only CSS colour syntax in style attributes (no quotes, semicolons or tags)."""
    text = str(colour)
    if not all(ch.isalnum() or ch in "#(),. %" for ch in text):
        raise ConfigError(
            "invalid colour",
            field="colour",
            expected="a CSS colour such as #1f78b4 or rgb(31,120,180)",
            found=repr(text),
            fix="pass hex colours",
        )
    return text


def add_features(
    m: folium.Map,
    gdf: gpd.GeoDataFrame,
    *,
    name: str,
    category: str | None = None,
    palette: Mapping[Any, str] | None = None,
    category_labels: Mapping[Any, str] | None = None,
    value: str | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
    ramp: Sequence[str] = DEFAULT_RAMP,
    unit: str = "",
    colour: str = "#1f78b4",
    tooltip: Sequence[str] | Mapping[str, str] | None = None,
    popup: Sequence[str] | Mapping[str, str] | None = None,
    value_labels: Mapping[str, Mapping[Any, str]] | None = None,
    legend: bool = True,
    legend_title: str | None = None,
    tolerance_m: float = 1.0,
    weight: float = 3.0,
    opacity: float = 0.9,
    fill_opacity: float = 0.45,
    radius: float = 6.0,
    show: bool = True,
) -> folium.map.Layer:
    """Draw a GeoDataFrame as one toggleable layer with styles, tooltips, popups and legend.

    The data are simplified to ``tolerance_m`` in the working CRS, reprojected to
    EPSG:4326, shifted to GCJ-02 when the map's tiles need it, and rounded to 6
    decimals. Only the style, tooltip and popup survive into the HTML (no other
    attribute), all built from HTML-escaped values. Points are drawn as circle
    markers.

    Parameters
    ----------
    m : folium.Map
        The map (from :func:`base_map`).
    gdf : GeoDataFrame
        Features with a CRS. Rows without geometry are skipped.
    name : str
        Layer name in the layer control, e.g. ``"河道 Rivers"``.
    category : str, optional
        Column to colour by category.
    palette : mapping, optional
        Category value → colour; defaults to :data:`PALETTES` for the column,
        then a qualitative palette. Missing values are grey.
    category_labels : mapping, optional
        Category value → label for the legend and tooltips; defaults to
        :data:`VALUE_LABELS` for the column.
    value : str, optional
        Numeric column to colour on a continuous ramp (ignored when ``category``
        is given).
    vmin, vmax : float, optional
        Ends of the ramp; default to the data's minimum and maximum.
    ramp : sequence of str
        Ramp colours.
    unit : str, default ""
        Unit for the continuous legend.
    colour : str, default "#1f78b4"
        Colour when neither ``category`` nor ``value`` is given.
    tooltip, popup : sequence of str or mapping of str to str, optional
        Fields shown on hover / click. A sequence uses :data:`FIELD_LABELS` for
        the labels; a mapping gives field → label.
    value_labels : mapping, optional
        Field → (value → label) to translate values in tooltips and popups; by
        default :data:`VALUE_LABELS` plus ``category_labels``.
    legend : bool, default True
        Draw a legend for ``category`` or ``value`` styling.
    legend_title : str, optional
        Legend title; defaults to ``name``.
    tolerance_m : float, default 1.0
        Simplification tolerance in metres (0 keeps every vertex).
    weight, opacity, fill_opacity, radius : float
        Line width (px), line opacity, fill opacity and circle-marker radius (px).
    show : bool, default True
        Whether the layer is switched on when the map opens.

    Returns
    -------
    folium.map.Layer
        The layer; ``layer.get_name()`` is its JavaScript variable.

    Raises
    ------
    SchemaError
        If a named column is missing, or ``value`` is not numeric.
    CRSError
        If ``gdf`` has no CRS.

    Examples
    --------
    >>> import shapely
    >>> rivers = gpd.GeoDataFrame({"name": ["洪林河"], "level": ["town"]},
    ...     geometry=[shapely.LineString([(121.5, 31.7), (121.52, 31.71)])], crs=4326)
    >>> m = base_map(rivers, basemap="none")
    >>> layer = add_lines(m, rivers, name="河道 Rivers", category="level", tooltip=["name", "level"])
    >>> len(layer.data["features"])
    1
    """
    wanted = (
        [c for c in (category, value) if c]
        + list(_field_labels(tooltip))
        + list(_field_labels(popup))
    )
    missing = [c for c in dict.fromkeys(wanted) if c not in gdf.columns]
    if missing:
        raise SchemaError(
            "a column to map is missing",
            layer=name,
            field=", ".join(missing),
            expected="columns of the layer",
            found=", ".join(map(str, gdf.columns)),
            fix="pass existing column names (canonical names after loading)",
        )
    data = prepare_for_web(gdf, tolerance_m=tolerance_m, gcj02=uses_gcj02(m), layer=name)

    labels_by_field: dict[str, Mapping[Any, str]] = {k: v for k, v in VALUE_LABELS.items()}
    if category:
        cat_labels = category_labels or VALUE_LABELS.get(category, {})
        labels_by_field[category] = cat_labels
    if value_labels:
        labels_by_field.update(value_labels)

    props = pd.DataFrame(index=data.index)
    legend_items: list[tuple[str, str]] = []
    if category:
        pal = dict(palette or PALETTES.get(category, {}))
        present = pd.unique(data[category].dropna())
        extra = [v for v in present if v not in pal]
        for i, v in enumerate(extra):
            pal[v] = _QUALITATIVE[i % len(_QUALITATIVE)]
        props["_c"] = data[category].map(pal).fillna(_MISSING_COLOUR)
        counts = data[category].value_counts()
        order = [v for v in pal if v in counts.index]
        legend_items = [(f"{cat_labels.get(v, v)} ({counts[v]})", pal[v]) for v in order]
        if data[category].isna().any():
            legend_items.append(
                (f"{_MISSING_LABEL} ({int(data[category].isna().sum())})", _MISSING_COLOUR)
            )
    elif value:
        if not pd.api.types.is_numeric_dtype(data[value]):
            raise SchemaError(
                "a continuous colour needs a numeric column",
                layer=name,
                field=value,
                expected="numbers",
                found=str(data[value].dtype),
                fix="convert the column with pd.to_numeric or colour by category",
            )
        vals = data[value].to_numpy(dtype=float)
        finite = vals[np.isfinite(vals)]
        lo = float(vmin) if vmin is not None else (float(finite.min()) if len(finite) else 0.0)
        hi = float(vmax) if vmax is not None else (float(finite.max()) if len(finite) else 1.0)
        props["_c"] = _ramp_colours(vals, lo, hi, ramp)
    tips = _field_labels(tooltip)
    pops = _field_labels(popup)
    if tips:
        props["_t"] = _html_table(data, tips, labels_by_field)
    if pops:
        props["_p"] = _html_table(data, pops, labels_by_field)

    features = gpd.GeoDataFrame(props, geometry=data.geometry.values, crs=data.crs)
    geojson = features.__geo_interface__
    # Drop the bbox/id noise geopandas adds; keep only geometry and our properties.
    geojson = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": f["properties"], "geometry": f["geometry"]}
            for f in geojson["features"]
        ],
    }
    style = {
        "color": _safe_colour(colour),
        "fillColor": _safe_colour(colour),
        "weight": weight,
        "opacity": opacity,
        "fillOpacity": fill_opacity,
    }
    # Leaflet's layer control inserts layer names as HTML, and names may come from data
    # (a chief's name, a river's name), so escape them too.
    layer = _GeoJsonLayer(geojson, name=html.escape(name), style=style, radius=radius, show=show)
    m.add_child(layer)

    if legend and category:
        geom_types = set(data.geom_type.unique())
        shape = (
            "point" if geom_types <= {"Point", "MultiPoint"}
            else "line" if geom_types <= {"LineString", "MultiLineString"}
            else "box"
        )  # fmt: skip
        add_categorical_legend(m, legend_title or name, legend_items, shape=shape, layer=layer)
    elif legend and value:
        add_continuous_legend(m, legend_title or name, lo, hi, colours=ramp, unit=unit, layer=layer)
    return layer


def _check_geom(gdf: gpd.GeoDataFrame, allowed: set[str], what: str, name: str) -> None:
    types = set(gdf.geometry.dropna().geom_type.unique())
    bad = types - allowed
    if bad:
        raise GeometryError(
            f"cannot draw this layer as {what}",
            layer=name,
            field="geometry",
            expected=" or ".join(sorted(allowed)),
            found=", ".join(sorted(bad)),
            fix="use the helper for that geometry type, or add_features",
        )


def add_lines(
    m: folium.Map, gdf: gpd.GeoDataFrame, *, name: str, **kwargs: Any
) -> folium.map.Layer:
    """Draw (Multi)LineStrings; see :func:`add_features` for the options.

    Parameters
    ----------
    m : folium.Map
        The map.
    gdf : GeoDataFrame
        Line features with a CRS.
    name : str
        Layer name.
    **kwargs
        Options of :func:`add_features`.

    Returns
    -------
    folium.map.Layer
        The layer.

    Raises
    ------
    GeometryError
        If the layer holds other geometry types.

    Examples
    --------
    >>> import shapely
    >>> g = gpd.GeoDataFrame(geometry=[shapely.LineString([(121.5, 31.7), (121.6, 31.7)])], crs=4326)
    >>> _ = add_lines(base_map(g, basemap="none"), g, name="河道 Rivers")
    """
    _check_geom(gdf, {"LineString", "MultiLineString"}, "lines", name)
    return add_features(m, gdf, name=name, **kwargs)


def add_polygons(
    m: folium.Map, gdf: gpd.GeoDataFrame, *, name: str, **kwargs: Any
) -> folium.map.Layer:
    """Draw (Multi)Polygons; see :func:`add_features` for the options.

    Parameters
    ----------
    m : folium.Map
        The map.
    gdf : GeoDataFrame
        Polygon features with a CRS.
    name : str
        Layer name.
    **kwargs
        Options of :func:`add_features` (``weight`` defaults to 1.5 here).

    Returns
    -------
    folium.map.Layer
        The layer.

    Raises
    ------
    GeometryError
        If the layer holds other geometry types.

    Examples
    --------
    >>> import shapely
    >>> g = gpd.GeoDataFrame(geometry=[shapely.box(121.5, 31.7, 121.51, 31.71)], crs=4326)
    >>> _ = add_polygons(base_map(g, basemap="none"), g, name="红线 Red lines")
    """
    _check_geom(gdf, {"Polygon", "MultiPolygon"}, "polygons", name)
    kwargs.setdefault("weight", 1.5)
    return add_features(m, gdf, name=name, **kwargs)


def add_points(
    m: folium.Map, gdf: gpd.GeoDataFrame, *, name: str, **kwargs: Any
) -> folium.map.Layer:
    """Draw (Multi)Points as circle markers; see :func:`add_features` for the options.

    Parameters
    ----------
    m : folium.Map
        The map.
    gdf : GeoDataFrame
        Point features with a CRS.
    name : str
        Layer name.
    **kwargs
        Options of :func:`add_features` (``weight`` defaults to 1.5 and
        ``fill_opacity`` to 0.85 here).

    Returns
    -------
    folium.map.Layer
        The layer.

    Raises
    ------
    GeometryError
        If the layer holds other geometry types.

    Examples
    --------
    >>> import shapely
    >>> g = gpd.GeoDataFrame(geometry=[shapely.Point(121.5, 31.7)], crs=4326)
    >>> _ = add_points(base_map(g, basemap="none"), g, name="断面 Sections")
    """
    _check_geom(gdf, {"Point", "MultiPoint"}, "points", name)
    kwargs.setdefault("weight", 1.5)
    kwargs.setdefault("fill_opacity", 0.85)
    kwargs.setdefault("tolerance_m", 0.0)
    return add_features(m, gdf, name=name, **kwargs)


# --- output ------------------------------------------------------------------------


def map_html(m: folium.Map, *, offline: bool = False) -> str:
    """Render a map to a complete HTML document.

    Parameters
    ----------
    m : folium.Map
        The map.
    offline : bool, default False
        Inline Leaflet and every plugin's JS/CSS from the copies shipped with
        dongping_geo, so the page loads nothing from outside (tiles aside).

    Returns
    -------
    str
        The HTML.

    Raises
    ------
    OutputError
        If ``offline`` and the map needs an asset dongping_geo does not ship, or
        an outside reference would remain.

    Examples
    --------
    >>> m = base_map((121.4, 31.6, 121.6, 31.8), basemap="none")
    >>> "leafletjs.com" in map_html(m, offline=True)  # Leaflet's own credit link
    True
    """
    text = m.get_root().render()
    if offline:
        inlined = _offline.inline_assets(text)  # raises for assets we do not ship
        left = _offline.page_references(text)
        if left:
            raise OutputError(
                "the offline map still references outside addresses",
                expected="no src/href/url() to http(s) addresses",
                found=", ".join(left[:5]),
                fix="remove the element that adds them, or save with offline=False",
            )
        text = inlined
    return text


def save_map(m: folium.Map, path: str | os.PathLike[str], *, offline: bool = False) -> Path:
    """Write a map to an HTML file atomically (temporary file, then rename).

    Parameters
    ----------
    m : folium.Map
        The map.
    path : path-like
        The HTML file to write; its folder is created if needed.
    offline : bool, default False
        Write one self-contained file with Leaflet and the plugins inlined and no
        outside reference (tile images excepted: on a basemap other than
        ``none`` they still come from the tile server when there is one).

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    OutputError
        If the file cannot be written, or (offline) an asset is not shipped.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> m = base_map((121.4, 31.6, 121.6, 31.8), basemap="none")
    >>> out = save_map(m, pathlib.Path(tempfile.mkdtemp()) / "map.html", offline=True)
    >>> out.stat().st_size > 100_000
    True
    """
    target = Path(path)
    text = map_html(m, offline=offline)
    tmp_name = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w",
            encoding="utf-8",
            dir=target.parent,
            prefix=f".{target.name}.",
            suffix=".tmp",
            delete=False,
        ) as fh:
            tmp_name = fh.name
            fh.write(text)
        # NamedTemporaryFile creates 0600; a map is meant to be shared.
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, target)
    except OSError as exc:
        if tmp_name and os.path.exists(tmp_name):
            os.unlink(tmp_name)
        raise OutputError(
            "cannot write the map",
            path=target,
            expected="a writable folder",
            found=exc.strerror or str(exc),
            fix="choose another output path",
        ) from exc
    return target


# --- overview ----------------------------------------------------------------------


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


# --- water quality (issue 6) ---------------------------------------------------------


#: Colours of the GB 3838-2002 classes (the conventional Chinese scheme: I–II blue,
#: III green, IV yellow, V orange, 劣V red; the same as ``PALETTES["water_class"]``,
#: documented in docs/water-quality.md and docs/maps.md).
WATER_CLASS_COLOURS: dict[str, str] = dict(_WATER_CLASS_COLOURS)
#: Colours of the qualitative grades, matching the classes they stand for.
WATER_GRADE_COLOURS: dict[str, str] = {
    "优": WATER_CLASS_COLOURS["II"],
    "良好": WATER_CLASS_COLOURS["III"],
    "轻度污染": WATER_CLASS_COLOURS["IV"],
    "中度污染": WATER_CLASS_COLOURS["V"],
    "重度污染": WATER_CLASS_COLOURS["劣V"],
}
_CLASS_LABELS = dict(_WATER_CLASS_LABELS)
_GRADE_LABELS = {
    "优": "优 Excellent",
    "良好": "良好 Good",
    "轻度污染": "轻度污染 Slightly polluted",
    "中度污染": "中度污染 Moderately polluted",
    "重度污染": "重度污染 Heavily polluted",
}


def _wq_fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)) or v is pd.NA:
        return "—"
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.4g}"
    return str(v)


def _wq_chart_svg(
    times: pd.Series,
    values: np.ndarray,
    classes: Sequence[Any],
    *,
    item: str,
    label: str,
    unit: str,
    limit_iii: float | None,
    band: tuple[pd.Timestamp, pd.Timestamp] | None,
) -> str:
    """Draw a small inline SVG time series: points coloured by class, Class III limit dashed."""
    w, h, left, right, top, bottom = 260, 110, 34, 8, 16, 18
    t = times.to_numpy(dtype="datetime64[ns]").astype("int64").astype(float)
    v = np.asarray(values, dtype=float)
    t0, t1 = float(t.min()), float(t.max())
    if t1 == t0:
        t0, t1 = t0 - 86400e9, t1 + 86400e9
    vmax = float(np.nanmax(v)) if np.isfinite(v).any() else 1.0
    if limit_iii is not None:
        vmax = max(vmax, limit_iii)
    vmax = vmax * 1.1 if vmax > 0 else 1.0

    def x(tt: np.ndarray | float) -> np.ndarray:
        return left + (np.asarray(tt, dtype=float) - t0) / (t1 - t0) * (w - left - right)

    def y(vv: np.ndarray | float) -> np.ndarray:
        return top + (1 - np.asarray(vv, dtype=float) / vmax) * (h - top - bottom)

    esc = html.escape
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
        f'viewBox="0 0 {w} {h}" role="img" style="font:10px sans-serif">',
        f"<title>{esc(label)} ({esc(unit)})</title>",
        f'<rect x="{left}" y="{top}" width="{w - left - right}" height="{h - top - bottom}" '
        'fill="#fafafa" stroke="#ccc"/>',
    ]
    if band is not None:
        b0 = float(np.clip(x(band[0].value), left, w - right))
        b1 = float(np.clip(x(band[1].value), left, w - right))
        if b1 > b0:
            parts.append(
                f'<rect x="{b0:.1f}" y="{top}" width="{b1 - b0:.1f}" height="{h - top - bottom}" '
                'fill="#ffe9a8" opacity="0.6"/>'
            )
    if limit_iii is not None:
        ly = float(y(limit_iii))
        parts.append(
            f'<line x1="{left}" x2="{w - right}" y1="{ly:.1f}" y2="{ly:.1f}" stroke="#00b050" '
            'stroke-dasharray="4 3"/>'
            f'<text x="{w - right - 2}" y="{ly - 2:.1f}" text-anchor="end" fill="#00803a">'
            f"Ⅲ {esc(_wq_fmt(limit_iii))}</text>"
        )
    xs, ys = x(t), y(v)
    ok = np.isfinite(ys)
    pts = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(xs[ok], ys[ok], strict=True))
    if pts:
        parts.append(f'<polyline points="{pts}" fill="none" stroke="#555" stroke-width="1"/>')
    for a, b, c, val, when in zip(xs, ys, classes, v, times, strict=True):
        if not np.isfinite(b):
            continue
        colour = WATER_CLASS_COLOURS.get(str(c), _MISSING_COLOUR)
        tip = f"{when:%Y-%m-%d}: {_wq_fmt(val)} ({c})"
        parts.append(
            f'<circle cx="{a:.1f}" cy="{b:.1f}" r="2.6" fill="{colour}" stroke="#333" '
            f'stroke-width="0.5"><title>{esc(tip)}</title></circle>'
        )
    parts.append(
        f'<text x="{left}" y="11" font-weight="bold">{esc(label)} ({esc(unit)})</text>'
        f'<text x="{left - 3}" y="{top + 8}" text-anchor="end">{esc(_wq_fmt(vmax))}</text>'
        f'<text x="{left - 3}" y="{h - bottom}" text-anchor="end">0</text>'
        f'<text x="{left}" y="{h - 5}">{esc(f"{times.min():%Y-%m}")}</text>'
        f'<text x="{w - right}" y="{h - 5}" text-anchor="end">{esc(f"{times.max():%Y-%m}")}</text>'
        "</svg>"
    )
    return "".join(parts)


def _wq_popup(
    row: pd.Series,
    items: list[str],
    names: Mapping[str, str],
    units: Mapping[str, str],
    chart: str,
    report_only: frozenset[str] = frozenset(),
) -> str:
    esc = html.escape
    tier = VALUE_LABELS["tier"].get(row.get("tier"), row.get("tier"))
    meets = row.get("meets_target")
    meets_txt = "—" if pd.isna(meets) else ("达标 Yes" if bool(meets) else "未达标 No")
    pollutants = []
    for p in str(row.get("main_pollutants") or "").split(","):
        if p:
            mult = row.get(f"exceed_{p}")
            extra = f" (超标 {_wq_fmt(mult)} 倍)" if mult is not None and pd.notna(mult) else ""
            pollutants.append(f"{names.get(p, p)} {p}{extra}")
    head = [
        (
            "断面 Section",
            f"{row.get('name') if pd.notna(row.get('name')) else ''} ({row['section_id']})",
        ),
        ("考核级别 Tier", _wq_fmt(tier)),
        ("时段 Period", _wq_fmt(row.get("period"))),
        ("样品数 Samples", _wq_fmt(row.get("n_samples"))),
        ("水质类别 Class", _CLASS_LABELS.get(str(row.get("water_class")), "—")),
        ("水质目标 Target", _CLASS_LABELS.get(str(row.get("target_class")), "—")),
        ("是否达标 Meets target", meets_txt),
        ("水质状况 Grade", _GRADE_LABELS.get(str(row.get("grade")), "—")),
        ("主要污染指标 Main pollutants", "、".join(pollutants) or "无 None"),
    ]
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(str(v))}</td></tr>" for k, v in head)
    item_rows = ""
    for i in items:
        if pd.isna(row.get(i)):
            continue
        cls = row.get(f"class_{i}")
        cls_txt = "—" if cls is None or pd.isna(cls) else str(cls)
        if i in report_only:
            cls_txt += " (仅报告 reported only)"
        item_rows += (
            f"<tr><td>{esc(names.get(i, i))} {esc(i)}</td>"
            f"<td>{esc(_wq_fmt(row.get(i)))} {esc(units.get(i, ''))}</td><td>{esc(cls_txt)}</td></tr>"
        )
    return (
        f'<div class="dg-wq" style="font-size:12px"><table class="dg-tip">{rows}</table>'
        '<table class="dg-tip" style="margin-top:4px"><tr><th>项目 Item</th><th>均值 Mean</th>'
        f"<th>类别 Class</th></tr>{item_rows}</table>{chart}</div>"
    )


def water_quality_map(
    assessment: pd.DataFrame,
    sections: gpd.GeoDataFrame,
    *,
    measurements: pd.DataFrame | None = None,
    rivers: gpd.GeoDataFrame | None = None,
    river_assessment: pd.DataFrame | None = None,
    period: str | None = None,
    waterbody: str = "river",
    basemap: str = "osm",
    tianditu_token: str | None = None,
    title: str | None = None,
) -> DongpingMap:
    """Map sections coloured by their GB 3838-2002 class for one period, and rivers tinted.

    Sections are circles in :data:`WATER_CLASS_COLOURS` (I–II blue, III green, IV yellow,
    V orange, 劣V red; grey when not assessed in the period). Each popup lists the
    period's item means and classes, the class, target, grade and main pollutants
    (with exceedance multiples) and a small inline SVG time series of the determining
    item (the first main pollutant, else the first determining item) over all samples,
    the period shaded and the Class III limit dashed. Rivers are tinted by their assessed
    class (mean method) or grade (share method, :data:`WATER_GRADE_COLOURS`).

    Parameters
    ----------
    assessment : pandas.DataFrame
        Output of :func:`dongping_geo.water_quality.assess_sections`.
    sections : GeoDataFrame
        The sections layer (``section_id``, point geometry, CRS).
    measurements : pandas.DataFrame, optional
        The long measurement table, for the popup charts (omitted without it).
    rivers : GeoDataFrame, optional
        The rivers layer, drawn tinted when ``river_assessment`` is given (grey otherwise).
    river_assessment : pandas.DataFrame, optional
        Output of :func:`dongping_geo.water_quality.assess_rivers`.
    period : str, optional
        The period to show (``2022Q3`` …); default the latest in ``assessment``.
    waterbody : {"river", "lake"}, default "river"
        Limits used to colour the chart's points.
    basemap : str, default "osm"
        A key of :data:`BASEMAPS`.
    tianditu_token : str, optional
        Tianditu key.
    title : str, optional
        Map title; default names the period.

    Returns
    -------
    DongpingMap
        The map; write it with :func:`save_map`.

    Raises
    ------
    ConfigError
        If ``period`` is not in ``assessment``.
    SchemaError
        If a layer lacks ``section_id`` / ``river_id``.

    Examples
    --------
    >>> import shapely
    >>> from dongping_geo.water_quality import assess_sections
    >>> s = gpd.GeoDataFrame({"section_id": ["S1"], "name": ["洪林河1"], "target_class": ["III"]},
    ...     geometry=[shapely.Point(121.5, 31.7)], crs=4326)
    >>> m = pd.DataFrame({"section_id": ["S1"], "sampled_at": ["2022-03-05"],
    ...                   "parameter": ["NH3_N"], "value": [1.2]})
    >>> a = assess_sections(m, s, period="Q")
    >>> wq = water_quality_map(a, s, measurements=m, basemap="none")
    >>> WATER_CLASS_COLOURS["IV"] in map_html(wq)  # the section is Class IV
    True
    """
    from .water_quality import classify_values, gb3838_limits

    for gdf, key, lname in ((sections, "section_id", "sections"), (rivers, "river_id", "rivers")):
        if gdf is not None and key not in gdf.columns:
            raise SchemaError(
                f"{lname} layer lacks {key}",
                layer=lname,
                field=key,
                expected=f"a {key} column",
                found=", ".join(map(str, gdf.columns)),
                fix=f"load the layer with dongping_geo.loaders.load_{lname}",
            )
    periods = sorted(assessment["period"].astype(str).unique())
    if period is None:
        if not periods:
            raise ConfigError(
                "nothing to map",
                layer="assessment",
                expected="at least one assessed period",
                found="an empty assessment",
                fix="check the measurements",
            )
        period = periods[-1]
    period = str(period)
    if period not in periods:
        raise ConfigError(
            "period not in the assessment",
            field="period",
            expected=", ".join(periods[-8:]),
            found=repr(period),
            fix="pass one of the assessed periods",
        )
    table = gb3838_limits()
    names = {str(k): str(v).split("(")[0] for k, v in table["name_zh"].items()}
    names["water_temp"] = "水温"
    units = {str(k): ("" if u == "dimensionless" else str(u)) for k, u in table["unit"].items()}
    units["water_temp"] = "°C"
    lim_iii = {str(k): float(v) for k, v in table["III"].items() if k != "pH"}
    # Items shown but not deciding the class (TN also decides for lakes).
    report_only = frozenset(
        str(k)
        for k, flag in table["river_section_assessment"].items()
        if flag != "yes" and not (waterbody == "lake" and k == "TN")
    ) | {"water_temp"}
    if waterbody == "lake":
        lim_iii["TP"] = lim_iii["TP_lake"]

    now = assessment[assessment["period"].astype(str) == period].copy()
    now["section_id"] = now["section_id"].astype(str)
    layer_cols = [c for c in ("section_id", "name", "tier", "river_id") if c in sections.columns]
    pts = sections[layer_cols + [sections.geometry.name]].copy()
    pts["section_id"] = pts["section_id"].astype(str)
    info = now.drop(
        columns=[c for c in ("name", "tier", "river_id") if c in pts.columns and c in now.columns]
    )
    pts = pts.merge(info, on="section_id", how="left")
    pts = pts[~(pts.geometry.isna() | pts.geometry.is_empty).to_numpy()].reset_index(drop=True)
    pts["water_class"] = pts["water_class"].astype(object).where(pts["water_class"].notna(), None)
    item_order = [str(i) for i in table.index if i != "TP_lake"] + ["water_temp"]
    items = [i for i in item_order if i in pts.columns]

    band = None
    try:
        per = pd.Period(period)
        band = (
            per.start_time.tz_localize("Asia/Shanghai"),
            per.end_time.tz_localize("Asia/Shanghai"),
        )
    except ValueError:
        pass
    series: dict[tuple[str, str], pd.DataFrame] = {}
    if measurements is not None and len(measurements):
        mm = measurements.reset_index(drop=True)
        val = pd.to_numeric(mm["value"], errors="coerce").astype(float)
        if "qualifier" in mm.columns:
            val = val.where(~mm["qualifier"].astype(str).eq("<").to_numpy(), val / 2.0)
        mm = pd.DataFrame(
            {
                "section_id": mm["section_id"].astype(str).to_numpy(),
                "parameter": mm["parameter"].astype(str).to_numpy(),
                "t": pd.to_datetime(mm["sampled_at"]).to_numpy(),
                "v": val.to_numpy(),
            }
        )
        if band is not None and mm["t"].dt.tz is None:
            mm["t"] = mm["t"].dt.tz_localize("Asia/Shanghai")
        series = {k: g.sort_values("t") for k, g in mm.groupby(["section_id", "parameter"])}

    popups = []
    for _, row in pts.iterrows():
        chart = ""
        key_items = [
            p
            for p in str(row.get("main_pollutants") or "").split(",")
            + str(row.get("determining") or "").split(",")
            if p
        ]
        if key_items:
            item = key_items[0]
            g = series.get((row["section_id"], item))
            if g is not None and len(g):
                classes = (
                    list(classify_values(g["v"].to_numpy(), item, waterbody=waterbody))
                    if item in lim_iii or item == "pH"
                    else ["—"] * len(g)
                )
                chart = _wq_chart_svg(
                    g["t"],
                    g["v"].to_numpy(),
                    classes,
                    item=item,
                    label=f"{names.get(item, item)} {item}",
                    unit=units.get(item, ""),
                    limit_iii=lim_iii.get(item)
                    if item not in ("pH", "DO")
                    else (5.0 if item == "DO" else None),
                    band=band if g["t"].dt.tz is not None else None,
                )
        popups.append(_wq_popup(row, items, names, units, chart, report_only))

    title = title or f"水质类别 Water quality {period}"
    frames = [pts] if rivers is None or not len(rivers) else [pts, rivers]
    m = base_map(
        frames,
        basemap=basemap,
        tianditu_token=tianditu_token,
        title=title,
    )

    if rivers is not None and len(rivers):
        rv = rivers[
            [c for c in ("river_id", "name") if c in rivers.columns] + [rivers.geometry.name]
        ].copy()
        rv["river_id"] = rv["river_id"].astype(str)
        rv["wq"] = None
        if river_assessment is not None and len(river_assessment):
            ra = river_assessment[river_assessment["period"].astype(str) == period]
            wc = ra["water_class"].astype(object).where(ra["water_class"].notna(), None)
            label = wc.where(wc.notna(), ra["grade"].astype(object))
            rv["wq"] = rv["river_id"].map(dict(zip(ra["river_id"].astype(str), label, strict=True)))
        rv = rv[~(rv.geometry.isna() | rv.geometry.is_empty).to_numpy()]
        add_lines(
            m,
            rv,
            name="河道水质 Rivers by assessed class",
            category="wq",
            palette={**WATER_CLASS_COLOURS, **WATER_GRADE_COLOURS},
            category_labels={**_CLASS_LABELS, **_GRADE_LABELS},
            tooltip={
                **{c: FIELD_LABELS.get(c, c) for c in ("name", "river_id") if c in rv.columns},
                "wq": "水质 Assessed class or grade",
            },
            legend_title="河道水质 Rivers (class or grade)",
            weight=3,
            opacity=0.8,
        )

    layer = add_points(
        m,
        pts,
        name=f"断面水质 Sections {period}",
        category="water_class",
        palette=WATER_CLASS_COLOURS,
        category_labels=_CLASS_LABELS,
        tooltip=[c for c in ("name", "section_id", "water_class") if c in pts.columns],
        legend_title=f"断面水质类别 Section class {period}",
        radius=7,
    )
    # add_points returns the _GeoJsonLayer it made, typed as its folium base class.
    for feature, popup in zip(cast(_GeoJsonLayer, layer).data["features"], popups, strict=True):
        feature["properties"]["_p"] = popup  # built above from escaped values
    return m


# --- land-use violations (issue 7) -------------------------------------------------


#: Colour of each land-use check's layer in :func:`violations_map`.
VIOLATION_COLOURS: dict[str, str] = {
    "redline": "#d7191c",
    "farmland": "#e6ab02",
    "setback": "#2c7bb6",
    "rebuilt": "#7b3294",
    "landcover_change": "#1a9641",
}
#: Bilingual name of each land-use check.
VIOLATION_LABELS: dict[str, str] = {
    "redline": "生态红线/生态空间 Eco red line & space",
    "farmland": "永久基本农田 Basic farmland",
    "setback": "河道管理范围 River setback",
    "rebuilt": "拆后复建 Rebuilt on demolished site",
    "landcover_change": "地类变化 Land-cover change",
}
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


# --- patrol coverage (issue 5) -------------------------------------------------------

#: Red → yellow → green ramp for patrol coverage (ColorBrewer RdYlGn).
COVERAGE_RAMP = ("#d7191c", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641")


def coverage_map(
    rivers: gpd.GeoDataFrame,
    coverage: pd.DataFrame,
    *,
    uncovered: gpd.GeoDataFrame | None = None,
    fixes: gpd.GeoDataFrame | None = None,
    basemap: str = "osm",
    tianditu_token: str | None = None,
    title: str | None = None,
    max_gap_s: float = 300.0,
    tolerance_m: float = 2.0,
) -> DongpingMap:
    """Map river-chief patrol coverage: rivers coloured by coverage, gaps highlighted, tracks.

    Rivers are coloured on a continuous red → green legend by the share covered
    (0–100 %); uncovered stretches are drawn on top in thick magenta;
    the patrol tracks (fixes joined per patrol, split at time gaps) are drawn
    thin. Popups show the river, its chief, coverage, patrol count and last
    patrol date. Every text shown is HTML-escaped.

    Parameters
    ----------
    rivers : GeoDataFrame
        Rivers with ``river_id`` (and usually ``name``, ``level``, ``chief``).
    coverage : DataFrame
        Output of :func:`dongping_geo.patrol.river_coverage` (joined on ``river_id``).
    uncovered : GeoDataFrame, optional
        Output of :func:`dongping_geo.patrol.uncovered_segments`.
    fixes : GeoDataFrame, optional
        Patrol GPS fixes (Point, ``patrol_id`` or ``track_id``, ``timestamp``) to
        draw as tracks; LineString tracks are drawn as they are.
    basemap, tianditu_token : str, optional
        As for :func:`base_map`.
    title : str, optional
        Map title; defaults to "河长巡河覆盖 Patrol coverage".
    max_gap_s : float, default 300
        Fixes further apart in time are not joined when drawing tracks.
    tolerance_m : float, default 2
        Simplification tolerance for drawing (metres).

    Returns
    -------
    DongpingMap
        The map; write it with :func:`save_map`.

    Raises
    ------
    SchemaError
        If ``coverage`` lacks ``river_id``/``coverage`` or the fixes lack ids/times.
    CRSError
        If a layer has no CRS.

    Examples
    --------
    >>> import shapely
    >>> rivers = gpd.GeoDataFrame({"river_id": ["R1"], "name": ["洪林河"], "chief": ["王"]},
    ...     geometry=[shapely.LineString([(640000, 3510000), (641000, 3510000)])], crs=4549)
    >>> cov = pd.DataFrame({"river_id": ["R1"], "coverage": [0.5], "covered_m": [500.0],
    ...     "length_m": [1000.0], "patrols": [1], "last_patrolled": [pd.NaT]})
    >>> m = coverage_map(rivers, cov, basemap="none")
    >>> "Coverage (%)" in map_html(m)  # popup text (Chinese is escaped as JSON)
    True
    """
    need = [c for c in ("river_id", "coverage") if c not in coverage.columns]
    if need:
        raise SchemaError(
            "coverage table is missing columns",
            layer="coverage",
            field=", ".join(need),
            expected="the output of dongping_geo.patrol.river_coverage",
            found=", ".join(map(str, coverage.columns)),
            fix="pass river_coverage(rivers, fixes)",
        )
    info = [c for c in ("name", "level", "chief") if c in rivers.columns]
    stats = [c for c in ("coverage", "covered_m", "length_m", "patrols", "last_patrolled") if c in coverage.columns]
    data = rivers[["river_id", *info, rivers.geometry.name]].merge(
        pd.DataFrame(coverage)[["river_id", *stats]], on="river_id", how="left"
    )
    data["coverage_pct"] = data["coverage"].astype(float) * 100.0
    labels = {
        "name": FIELD_LABELS["name"],
        "river_id": FIELD_LABELS["river_id"],
        "level": FIELD_LABELS["level"],
        "chief": FIELD_LABELS["chief"],
        "coverage_pct": "巡查覆盖率 Coverage (%)",
        "covered_m": "已巡长度 Covered (m)",
        "length_m": FIELD_LABELS["length_m"],
        "patrols": "巡河次数 Patrols",
        "last_patrolled": "最近巡河 Last patrol",
    }
    popup = {k: v for k, v in labels.items() if k in data.columns}
    tooltip = {k: labels[k] for k in ("name", "chief", "coverage_pct") if k in data.columns}
    m = base_map(
        rivers, basemap=basemap, tianditu_token=tianditu_token,
        title=title if title is not None else "河长巡河覆盖 Patrol coverage",
    )
    add_lines(
        m, data, name="河道覆盖率 River coverage", value="coverage_pct", vmin=0.0, vmax=100.0,
        ramp=COVERAGE_RAMP, unit="%", legend_title="巡查覆盖率 Coverage", weight=4.0,
        tooltip=tooltip, popup=popup, tolerance_m=tolerance_m,
    )
    # Tracks on top of the rivers, thin, so the path walked stays visible.
    if fixes is not None and len(fixes):
        is_point = shapely.get_type_id(fixes.geometry.values) == 0
        tracks = patrol_tracks(fixes, max_gap_s=max_gap_s) if is_point.all() else fixes
        if len(tracks):
            add_lines(
                m, tracks, name="巡河轨迹 Patrol tracks", colour="#555555", weight=1.0,
                opacity=0.6, tolerance_m=tolerance_m,
                tooltip=[c for c in ("patrol_id", "chief", "start", "end") if c in tracks.columns],
            )
    if uncovered is not None and len(uncovered):
        gap_fields = {k: labels.get(k, FIELD_LABELS.get(k, k)) for k in ("name", "river_id", "chief", "length_m")
                      if k in uncovered.columns}
        gaps_layer = add_lines(
            m, uncovered, name="未巡河段 Uncovered stretches", colour="#c51b8a", weight=6.0,
            opacity=0.8, tooltip=gap_fields, popup=gap_fields, tolerance_m=tolerance_m,
        )
        add_categorical_legend(
            m, "未巡河段 Uncovered", [(f"未覆盖 Not patrolled ({len(uncovered)})", "#c51b8a")],
            shape="line", layer=gaps_layer, position="bottomleft",
        )
    return m
