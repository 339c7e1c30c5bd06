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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypedDict, Unpack, cast

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

from ..crs import to_web_crs, to_work_crs, wgs84_to_gcj02
from ..errors import ConfigError, CRSError, GeometryError, OutputError, SchemaError
from ._offline import inline_assets, page_references
from .styles import (
    _MISSING_COLOUR,
    _MISSING_LABEL,
    _QUALITATIVE,
    DEFAULT_RAMP,
    FIELD_LABELS,
    PALETTES,
    VALUE_LABELS,
)

#: Basemap names accepted by :func:`base_map`, with what they show.
BASEMAPS: dict[str, str] = {
    "osm": "OpenStreetMap (WGS 84, no shift)",
    "tianditu": "Tianditu 天地图 vector map with labels, imagery as alternative (CGCS2000, no shift; needs a token)",
    "tianditu_img": "Tianditu 天地图 imagery with labels, vector map as alternative (needs a token)",
    "gaode": "Gaode/AMap 高德 street map, satellite as alternative (GCJ-02: overlays are shifted)",
    "gaode_satellite": "Gaode/AMap 高德 satellite imagery, street map as alternative (GCJ-02)",
    "none": "no tiles (data, legend and controls only; for offline use)",
}


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


class BaseMapOptions(TypedDict, total=False):
    """The base-map keywords every analysis map passes on to :func:`base_map`."""

    basemap: str
    tianditu_token: str | None
    title: str | None


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


@dataclass(frozen=True)
class FeatureStyle:
    """How :func:`add_features` colours a layer and draws its legend.

    Pass one as ``style=`` to share a look between layers; every field can also be
    given as a keyword of :func:`add_features` (and its wrappers), which overrides
    the field of ``style``.

    Parameters
    ----------
    colour : str, default "#1f78b4"
        Colour when neither ``category`` nor ``value`` is given.
    category : str, optional
        Column to colour by category.
    palette : mapping, optional
        Category value → colour; defaults to :data:`PALETTES` for the column, then a
        qualitative palette. Missing values are grey.
    category_labels : mapping, optional
        Category value → label for the legend and tooltips; defaults to
        :data:`VALUE_LABELS` for the column.
    value : str, optional
        Numeric column to colour on a continuous ramp (ignored when ``category`` is
        given).
    vmin, vmax : float, optional
        Ends of the ramp; default to the data's minimum and maximum.
    ramp : sequence of str
        Ramp colours.
    unit : str, default ""
        Unit for the continuous legend.
    weight : float, optional
        Line width in pixels; default 3 (1.5 for :func:`add_polygons` and
        :func:`add_points`).
    opacity : float, default 0.9
        Line opacity.
    fill_opacity : float, optional
        Fill opacity; default 0.45 (0.85 for :func:`add_points`).
    radius : float, default 6.0
        Circle-marker radius in pixels.
    legend : bool, default True
        Draw a legend for ``category`` or ``value`` styling.
    legend_title : str, optional
        Legend title; defaults to the layer name.

    Examples
    --------
    >>> from dongping_geo.maps import FeatureStyle
    >>> by_level = FeatureStyle(category="level", weight=2.0)
    >>> by_level.category, by_level.radius
    ('level', 6.0)
    """

    colour: str = "#1f78b4"
    category: str | None = None
    palette: Mapping[Any, str] | None = None
    category_labels: Mapping[Any, str] | None = None
    value: str | None = None
    vmin: float | None = None
    vmax: float | None = None
    ramp: Sequence[str] = DEFAULT_RAMP
    unit: str = ""
    weight: float | None = None
    opacity: float = 0.9
    fill_opacity: float | None = None
    radius: float = 6.0
    legend: bool = True
    legend_title: str | None = None


class StyleKwargs(TypedDict, total=False):
    """The fields of :class:`FeatureStyle` as keywords of :func:`add_features` (0.1.0 calls)."""

    colour: str
    category: str | None
    palette: Mapping[Any, str] | None
    category_labels: Mapping[Any, str] | None
    value: str | None
    vmin: float | None
    vmax: float | None
    ramp: Sequence[str]
    unit: str
    weight: float | None
    opacity: float
    fill_opacity: float | None
    radius: float
    legend: bool
    legend_title: str | None


class FeatureKwargs(StyleKwargs, total=False):
    """Keywords the wrappers :func:`add_lines`, :func:`add_polygons`, :func:`add_points` pass on."""

    tooltip: Sequence[str] | Mapping[str, str] | None
    popup: Sequence[str] | Mapping[str, str] | None
    value_labels: Mapping[str, Mapping[Any, str]] | None
    tolerance_m: float
    show: bool


def _resolve_style(
    style: FeatureStyle | None, overrides: StyleKwargs, *, weight: float, fill_opacity: float
) -> FeatureStyle:
    """``style`` with the keyword overrides applied and unset widths given their defaults."""
    merged = replace(style or FeatureStyle(), **overrides)
    return replace(
        merged,
        weight=weight if merged.weight is None else merged.weight,
        fill_opacity=fill_opacity if merged.fill_opacity is None else merged.fill_opacity,
    )


_STYLE_FIELDS = frozenset(StyleKwargs.__annotations__)


def _split_kwargs(kwargs: FeatureKwargs) -> tuple[StyleKwargs, dict[str, Any]]:
    """The style fields among a wrapper's keywords, and the rest (layer options)."""
    style = {k: v for k, v in kwargs.items() if k in _STYLE_FIELDS}
    rest = {k: v for k, v in kwargs.items() if k not in _STYLE_FIELDS}
    return cast(StyleKwargs, style), rest


def _check_columns(gdf: gpd.GeoDataFrame, name: str, style: FeatureStyle, fields: list[str]) -> None:
    wanted = [c for c in (style.category, style.value) if c] + fields
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


def _category_colours(
    data: gpd.GeoDataFrame, style: FeatureStyle, category: str, cat_labels: Mapping[Any, str]
) -> tuple[pd.Series, list[tuple[str, str]]]:
    """Colour of every feature by category, and the legend items (label with count, colour)."""
    pal = dict(style.palette or PALETTES.get(category, {}))
    present = pd.unique(data[category].dropna())
    extra = [v for v in present if v not in pal]
    for i, v in enumerate(extra):
        pal[v] = _QUALITATIVE[i % len(_QUALITATIVE)]
    colours = data[category].map(pal).fillna(_MISSING_COLOUR)
    counts = data[category].value_counts()
    order = [v for v in pal if v in counts.index]
    items = [(f"{cat_labels.get(v, v)} ({counts[v]})", pal[v]) for v in order]
    if data[category].isna().any():
        items.append((f"{_MISSING_LABEL} ({int(data[category].isna().sum())})", _MISSING_COLOUR))
    return colours, items


def _value_colours(
    data: gpd.GeoDataFrame, style: FeatureStyle, value: str, name: str
) -> tuple[np.ndarray, float, float]:
    """Colour of every feature on the ramp, and the ramp's ends."""
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
    lo = float(style.vmin) if style.vmin is not None else (float(finite.min()) if len(finite) else 0.0)
    hi = float(style.vmax) if style.vmax is not None else (float(finite.max()) if len(finite) else 1.0)
    return _ramp_colours(vals, lo, hi, style.ramp), lo, hi


def _feature_collection(props: pd.DataFrame, data: gpd.GeoDataFrame) -> dict[str, Any]:
    """GeoJSON of the geometry and our properties only (no bbox/id noise of geopandas)."""
    features = gpd.GeoDataFrame(props, geometry=data.geometry.values, crs=data.crs)
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": f["properties"], "geometry": f["geometry"]}
            for f in features.__geo_interface__["features"]
        ],
    }


def _legend_shape(data: gpd.GeoDataFrame) -> str:
    geom_types = set(data.geom_type.unique())
    if geom_types <= {"Point", "MultiPoint"}:
        return "point"
    if geom_types <= {"LineString", "MultiLineString"}:
        return "line"
    return "box"


def add_features(
    m: folium.Map,
    gdf: gpd.GeoDataFrame,
    *,
    name: str,
    style: FeatureStyle | None = None,
    tooltip: Sequence[str] | Mapping[str, str] | None = None,
    popup: Sequence[str] | Mapping[str, str] | None = None,
    value_labels: Mapping[str, Mapping[Any, str]] | None = None,
    tolerance_m: float = 1.0,
    show: bool = True,
    **style_kwargs: Unpack[StyleKwargs],
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
    style : FeatureStyle, optional
        Colours, widths and legend of the layer (see :class:`FeatureStyle`); by
        default ``FeatureStyle()``, a single blue.
    tooltip, popup : sequence of str or mapping of str to str, optional
        Fields shown on hover / click. A sequence uses :data:`FIELD_LABELS` for
        the labels; a mapping gives field → label.
    value_labels : mapping, optional
        Field → (value → label) to translate values in tooltips and popups; by
        default :data:`VALUE_LABELS` plus the style's ``category_labels``.
    tolerance_m : float, default 1.0
        Simplification tolerance in metres (0 keeps every vertex).
    show : bool, default True
        Whether the layer is switched on when the map opens.
    **style_kwargs
        Any field of :class:`FeatureStyle` (``colour``, ``category``, ``palette``,
        ``category_labels``, ``value``, ``vmin``, ``vmax``, ``ramp``, ``unit``,
        ``weight``, ``opacity``, ``fill_opacity``, ``radius``, ``legend``,
        ``legend_title``), overriding that field of ``style``: the keywords of
        version 0.1.0.

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
    TypeError
        If a keyword is not a field of :class:`FeatureStyle`.

    Examples
    --------
    >>> import shapely
    >>> rivers = gpd.GeoDataFrame({"name": ["洪林河"], "level": ["town"]},
    ...     geometry=[shapely.LineString([(121.5, 31.7), (121.52, 31.71)])], crs=4326)
    >>> m = base_map(rivers, basemap="none")
    >>> layer = add_lines(m, rivers, name="河道 Rivers", category="level", tooltip=["name", "level"])
    >>> len(layer.data["features"])
    1
    >>> by_level = FeatureStyle(category="level", weight=2.0)
    >>> layer = add_lines(m, rivers, name="河道 Rivers", style=by_level)
    """
    st = _resolve_style(style, style_kwargs, weight=3.0, fill_opacity=0.45)
    tips, pops = _field_labels(tooltip), _field_labels(popup)
    _check_columns(gdf, name, st, [*tips, *pops])
    data = prepare_for_web(gdf, tolerance_m=tolerance_m, gcj02=uses_gcj02(m), layer=name)

    labels_by_field: dict[str, Mapping[Any, str]] = dict(VALUE_LABELS)
    cat_labels = (st.category_labels or VALUE_LABELS.get(st.category, {})) if st.category else {}
    if st.category:
        labels_by_field[st.category] = cat_labels
    labels_by_field.update(value_labels or {})

    props = pd.DataFrame(index=data.index)
    legend_items: list[tuple[str, str]] = []
    lo = hi = 0.0
    if st.category:
        props["_c"], legend_items = _category_colours(data, st, st.category, cat_labels)
    elif st.value:
        props["_c"], lo, hi = _value_colours(data, st, st.value, name)
    if tips:
        props["_t"] = _html_table(data, tips, labels_by_field)
    if pops:
        props["_p"] = _html_table(data, pops, labels_by_field)

    leaflet_style = {
        "color": _safe_colour(st.colour),
        "fillColor": _safe_colour(st.colour),
        "weight": st.weight,
        "opacity": st.opacity,
        "fillOpacity": st.fill_opacity,
    }
    # Leaflet's layer control inserts layer names as HTML, and names may come from data
    # (a chief's name, a river's name), so escape them too.
    layer = _GeoJsonLayer(
        _feature_collection(props, data), name=html.escape(name), style=leaflet_style,
        radius=st.radius, show=show,
    )
    m.add_child(layer)

    title = st.legend_title or name
    if st.legend and st.category:
        add_categorical_legend(m, title, legend_items, shape=_legend_shape(data), layer=layer)
    elif st.legend and st.value:
        add_continuous_legend(m, title, lo, hi, colours=st.ramp, unit=st.unit, layer=layer)
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
    m: folium.Map,
    gdf: gpd.GeoDataFrame,
    *,
    name: str,
    style: FeatureStyle | None = None,
    **kwargs: Unpack[FeatureKwargs],
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
    style : FeatureStyle, optional
        Colours, widths and legend (see :class:`FeatureStyle`).
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
    return add_features(m, gdf, name=name, style=style, **kwargs)


def add_polygons(
    m: folium.Map,
    gdf: gpd.GeoDataFrame,
    *,
    name: str,
    style: FeatureStyle | None = None,
    **kwargs: Unpack[FeatureKwargs],
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
    style : FeatureStyle, optional
        Colours, widths and legend (see :class:`FeatureStyle`).
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
    style_kw, layer_kw = _split_kwargs(kwargs)
    st = _resolve_style(style, style_kw, weight=1.5, fill_opacity=0.45)
    return add_features(m, gdf, name=name, style=st, **layer_kw)


def add_points(
    m: folium.Map,
    gdf: gpd.GeoDataFrame,
    *,
    name: str,
    style: FeatureStyle | None = None,
    **kwargs: Unpack[FeatureKwargs],
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
    style : FeatureStyle, optional
        Colours, widths and legend (see :class:`FeatureStyle`).
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
    style_kw, layer_kw = _split_kwargs(kwargs)
    st = _resolve_style(style, style_kw, weight=1.5, fill_opacity=0.85)
    layer_kw.setdefault("tolerance_m", 0.0)
    return add_features(m, gdf, name=name, style=st, **layer_kw)


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
        inlined = inline_assets(text)  # raises for assets we do not ship
        left = page_references(text)
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
