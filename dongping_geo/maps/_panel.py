"""Maps that say what to do: a side panel, text labels on the map, an A4 print layout.

Part of :mod:`dongping_geo.maps`. Every text is HTML-escaped in Python before it reaches
the page; label text travels as JSON (``tojson`` escapes ``<``, ``>`` and ``&``).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import Element, MacroElement
from jinja2 import Template

from ._toolkit import prepare_for_web, uses_gcj02

__all__ = ["add_labels", "add_panel", "chainage", "label_points"]

#: Screen and print styles of the panel and labels. Print: A4 landscape, the panel
#: beside the map, the map's buttons left out.
_CSS = """
<style>
.dg-panel{position:fixed;top:0;left:0;bottom:0;width:320px;overflow:auto;z-index:1000;
  background:#fff;border-right:1px solid #bbb;padding:10px 12px;box-sizing:border-box;
  font:13px/1.4 'Noto Sans CJK SC','Microsoft YaHei',sans-serif}
.dg-panel h2{font-size:15px;margin:4px 0 8px}.dg-panel h3{font-size:13px;margin:12px 0 4px}
.dg-panel table{border-collapse:collapse;width:100%}.dg-panel td,.dg-panel th{border:1px solid #ddd;
  padding:2px 4px;text-align:left;vertical-align:top}.dg-panel th{background:#f2f2f2}
.dg-panel .dg-missed{color:#b2182b;font-weight:bold}.dg-panel .dg-met{color:#1a9641}
.folium-map{left:320px !important;width:calc(100% - 320px) !important}
.dg-label{font:12px 'Noto Sans CJK SC',sans-serif;color:#08306b;white-space:nowrap;
  text-shadow:0 0 2px #fff,0 0 2px #fff,0 0 3px #fff}
.dg-chainage{font:11px sans-serif;color:#c51b8a;font-weight:bold;white-space:nowrap;
  text-shadow:0 0 2px #fff,0 0 2px #fff}
@media print{
  @page{size:A4 landscape;margin:8mm}
  html,body{width:281mm;height:194mm}
  .dg-panel{position:absolute;width:90mm;height:194mm;border:none;font-size:9pt;overflow:visible}
  .folium-map{position:absolute !important;left:92mm !important;width:189mm !important;height:194mm !important}
  .leaflet-control-zoom,.leaflet-control-layers,.leaflet-control-measure,
  .leaflet-control-zoom-fullscreen{display:none !important}
}
</style>
"""


def chainage(distance_m: float) -> str:
    """Format a distance from the river's head as a chainage mark (桩号), e.g. ``K1+250``.

    Parameters
    ----------
    distance_m : float
        Metres along the river from its first vertex (its head, as digitised).

    Returns
    -------
    str
        ``K<km>+<metres, three digits>``, rounded to the metre.

    Examples
    --------
    >>> chainage(1249.6), chainage(80)
    ('K1+250', 'K0+080')
    """
    metres = int(round(float(distance_m)))
    return f"K{metres // 1000}+{metres % 1000:03d}"


def label_points(gdf: gpd.GeoDataFrame, *, at: str = "middle") -> gpd.GeoDataFrame:
    """Points to hang a label on: a line's middle, start or end; a polygon's inside point.

    Parameters
    ----------
    gdf : GeoDataFrame
        Features with a CRS.
    at : {"middle", "start", "end"}, default "middle"
        Where along a line.

    Returns
    -------
    GeoDataFrame
        The same rows with Point geometries.
    """
    geoms = np.asarray(gdf.geometry.values)
    lines = np.isin(shapely.get_type_id(geoms), (1, 5))
    where = {"middle": 0.5, "start": 0.0, "end": 1.0}[at]
    points = shapely.point_on_surface(geoms)
    idx = np.flatnonzero(lines)
    if len(idx):
        merged = shapely.line_merge(geoms[idx])
        single = shapely.get_type_id(merged) == 1  # a MultiLineString that does not merge keeps its inside point
        points[idx[single]] = shapely.line_interpolate_point(merged[single], where, normalized=True)
    return gdf.set_geometry(gpd.GeoSeries(points, index=gdf.index, crs=gdf.crs))


class _Labels(MacroElement):
    """Text labels as non-interactive Leaflet div icons in one toggleable layer group."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.layerGroup();
        {{ this.items|tojson }}.forEach(function (d) {
            L.marker([d[0], d[1]], {interactive: false, keyboard: false,
                icon: L.divIcon({className: {{ this.css_class|tojson }}, html: d[2], iconSize: null})
            }).addTo({{ this.get_name() }});
        });
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, items: list[tuple[float, float, str]], *, css_class: str):
        super().__init__()
        self._name = "DgLabels"
        self.items = items
        self.css_class = css_class


def add_labels(
    m: folium.Map, gdf: gpd.GeoDataFrame, texts: Iterable[object], *, at: str = "middle",
    css_class: str = "dg-label",
) -> MacroElement:
    """Write a text on the map at each feature (river names, chainage marks).

    Parameters
    ----------
    m : folium.Map
        The map.
    gdf : GeoDataFrame
        Features with a CRS (one label each).
    texts : iterable
        The label of each feature, in row order (HTML-escaped here).
    at : {"middle", "start", "end"}, default "middle"
        Where along a line.
    css_class : str, default "dg-label"
        CSS class of the label (``dg-label`` names, ``dg-chainage`` chainage marks).

    Returns
    -------
    MacroElement
        The label layer.
    """
    _ensure_css(m)
    texts = list(texts)
    points = prepare_for_web(label_points(gdf, at=at).assign(_text=texts), tolerance_m=0, gcj02=uses_gcj02(m))
    xy = shapely.get_coordinates(points.geometry.values)
    items = [(round(float(y), 6), round(float(x), 6), html.escape(str(t)))
             for (x, y), t in zip(xy, points["_text"], strict=True)]
    layer = _Labels(items, css_class=css_class)
    m.add_child(layer)
    return layer


def _ensure_css(m: folium.Map) -> None:
    root = m.get_root()
    if not getattr(root, "_dg_panel_css", False):
        root.header.add_child(Element(_CSS), name="dg_panel_css")  # type: ignore[attr-defined]
        root._dg_panel_css = True  # type: ignore[attr-defined]


def add_panel(m: folium.Map, title: str, sections: Sequence[tuple[str, str]]) -> None:
    """Put a side panel beside the map (screen and A4 print).

    Parameters
    ----------
    m : folium.Map
        The map.
    title : str
        Panel heading (escaped here).
    sections : sequence of (str, str)
        (heading, body HTML) pairs; headings are escaped here, bodies must be built
        from escaped text (:func:`html.escape`) by the caller.
    """
    _ensure_css(m)
    body = "".join(f"<h3>{html.escape(h)}</h3>{b}" for h, b in sections)
    panel = f'<div class="dg-panel"><h2>{html.escape(title)}</h2>{body}</div>'
    m.get_root().html.add_child(Element(panel))  # type: ignore[attr-defined]
