"""Catchments map (issue 16): sections by compliance, the picked section's catchment, hatched candidates.

Part of :mod:`dongping_geo.maps`, which re-exports the public names; built with its toolkit.

One catchment layer and one upstream-rivers layer hold every section's features,
each tagged with its section; a small script keeps only the picked section's
features (picked by clicking the section or in a drop-down list). Greening
candidates (减麦增绿) are filled with an SVG hatch pattern defined in the page, so
the map needs no plugin and works offline.
"""

from __future__ import annotations

import html
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import MacroElement
from folium.template import Template

from ..errors import SchemaError
from ..schemas import CATEGORY_COLOURS, CATEGORY_LABELS
from ._toolkit import (
    DongpingMap,
    _GeoJsonLayer,
    _Legend,
    _safe_colour,
    add_lines,
    add_points,
    add_polygons,
    base_map,
)
from .styles import FIELD_LABELS

__all__ = ["catchments_map"]

_COVER = {k: f"{zh} {en}" for k, (zh, en) in CATEGORY_LABELS["cover_group"].items()}
_MET = CATEGORY_COLOURS["meets_target"]


def _pct(v: Any) -> str:
    return "—" if v is None or pd.isna(v) else f"{100 * float(v):.1f} %"


def _section_table(drivers: pd.DataFrame, catchments: gpd.GeoDataFrame,
                   sections: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Section points with the drivers' figures as display text (one row per section point)."""
    for frame, lname in ((drivers, "drivers"), (catchments, "catchments"), (sections, "sections")):
        if "section_id" not in frame.columns:
            raise SchemaError(f"{lname} lacks section_id", layer=lname, field="section_id",
                              expected="a section_id column", found=", ".join(map(str, frame.columns)),
                              fix="pass the outputs of section_drivers and section_catchments and the sections layer")
    d = drivers.assign(section_id=drivers["section_id"].astype(str)).drop_duplicates("section_id")
    d = d.set_index("section_id")
    n_up = catchments.assign(section_id=catchments["section_id"].astype(str)).drop_duplicates("section_id")
    n_up = n_up.set_index("section_id")
    keep = [c for c in ("section_id", "name", "tier", "river_id") if c in sections.columns]
    pts = sections[keep + [sections.geometry.name]].copy()
    pts["section_id"] = pts["section_id"].astype(str)
    pts = pts[~(pts.geometry.isna() | pts.geometry.is_empty).to_numpy()].reset_index(drop=True)
    row = d.reindex(pts["section_id"])
    for col in ("water_class", "target_class", "exceeding_items"):
        pts[col] = row[col].astype(object).to_numpy() if col in row.columns else None
    met = row["meets_target"] if "meets_target" in row.columns else pd.Series(pd.NA, index=row.index)
    pts["meets_target"] = [None if pd.isna(v) else bool(v) for v in met]
    area = row["catchment_m2"] if "catchment_m2" in row.columns else pd.Series(np.nan, index=row.index)
    pts["catchment_km2"] = (area.astype(float) / 1e6).round(3).to_numpy()
    pts["n_upstream"] = n_up["n_upstream_rivers"].reindex(pts["section_id"]).to_numpy() \
        if "n_upstream_rivers" in n_up.columns else np.nan
    for group in _COVER:
        whole = row.get(f"share_{group}", pd.Series(np.nan, index=row.index))
        strip = row.get(f"strip_share_{group}", pd.Series(np.nan, index=row.index))
        pts[f"cover_{group}"] = [f"{_pct(a)} / {_pct(b)}" for a, b in zip(whole, strip, strict=True)]
    dem = row["n_demolitions"] if "n_demolitions" in row.columns else pd.Series(np.nan, index=row.index)
    pts["n_demolitions"] = dem.to_numpy()
    return pts


def _popup_fields(pts: gpd.GeoDataFrame) -> dict[str, str]:
    fields = {c: FIELD_LABELS.get(c, c) for c in ("name", "section_id", "tier", "river_id") if c in pts.columns}
    fields |= {
        "water_class": "水质类别 Water class",
        "target_class": "水质目标 Target class",
        "meets_target": "是否达标 Meets target",
        "exceeding_items": "超标项目 Items worse than target",
        "catchment_km2": "汇水区面积 Catchment (km²)",
        "n_upstream": "上游河道数 Upstream rivers",
    }
    fields |= {f"cover_{g}": f"{label} (汇水区/岸带 catchment/strip)" for g, label in _COVER.items()}
    fields["n_demolitions"] = "拆违 Demolitions inside"
    return fields


def _tag(layer: Any, keys: list[str]) -> None:
    """Give each feature of a toolkit layer its section key ``_s`` (features are in row order)."""
    features = cast(_GeoJsonLayer, layer).data["features"]
    if len(features) != len(keys):  # pragma: no cover - rows without geometry were dropped before
        raise SchemaError("features and rows differ", found=f"{len(features)} vs {len(keys)}")
    for f, k in zip(features, keys, strict=True):
        f["properties"]["_s"] = k


def _drawable(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gdf[~(gdf.geometry.isna() | gdf.geometry.is_empty).to_numpy()].reset_index(drop=True)


class _SectionPicker(MacroElement):
    """Show only the picked section's features in the catchment layers; a drop-down picks too."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var sections = {{ this.sections }};
            var layers = [{% for name in this.layers %}{{ name }}{% if not loop.last %}, {% endif %}{% endfor %}];
            var all = layers.map(function (l) { return l.toGeoJSON(); });
            var choices = {{ this.choices|tojson }};
            var select;
            function pick(key) {
                layers.forEach(function (l, i) {
                    l.clearLayers();
                    l.addData({type: "FeatureCollection", features: all[i].features.filter(
                        function (f) { return f.properties._s === key; })});
                });
                if (select) { select.value = key; }
                map.getContainer().setAttribute("data-dg-picked", key);
            }
            sections.eachLayer(function (l) {
                l.on("click", function () { pick(l.feature.properties._s); });
            });
            var control = L.control({position: "topleft"});
            control.onAdd = function () {
                var div = L.DomUtil.create("div", "dg-legend leaflet-control dg-picker");
                var title = L.DomUtil.create("div", "dg-legend-title", div);
                title.textContent = {{ this.title|tojson }};
                select = L.DomUtil.create("select", "", div);
                var none = document.createElement("option");
                none.value = ""; none.textContent = {{ this.none|tojson }};
                select.appendChild(none);
                choices.forEach(function (c) {
                    var o = document.createElement("option");
                    o.value = c[0]; o.textContent = c[1];
                    select.appendChild(o);
                });
                select.onchange = function () { pick(select.value); };
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            control.addTo(map);
            pick({{ this.first|tojson }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, sections: str, layers: list[str], choices: list[tuple[str, str]], first: str):
        super().__init__()
        self._name = "DgSectionPicker"
        self.sections = sections
        self.layers = layers
        self.choices = [list(c) for c in choices]
        self.first = first
        self.title = "选择断面 Pick a section"
        self.none = "— 无 None —"


class _Hatch(MacroElement):
    """SVG hatch patterns in the page, and a polygon layer filled with them (by feature ``_h``)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var holder = document.createElement("div");
            holder.style.cssText = "position:absolute;width:0;height:0;overflow:hidden";
            holder.innerHTML = {{ this.svg|tojson }};
            {{ this._parent.get_name() }}.getContainer().appendChild(holder);
            {{ this.layer }}.setStyle(function (f) {
                return {fillColor: "url(#" + f.properties._h + ")", fillOpacity: 1};
            });
        })();
        {% endmacro %}
        """
    )

    def __init__(self, layer: str, svg: str):
        super().__init__()
        self._name = "DgHatch"
        self.layer = layer
        self.svg = svg


def _pattern_id(name: str) -> str:
    return "dg-hatch-" + "".join(ch for ch in name if ch.isalnum() or ch == "_")


def _patterns_svg(colours: dict[str, str]) -> str:
    """``<svg>`` with one diagonal hatch pattern per land-cover class."""
    body = "".join(
        f'<pattern id="{_pattern_id(k)}" width="8" height="8" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect width="8" height="8" fill="{_safe_colour(c)}" fill-opacity="0.25"/>'
        f'<line x1="0" y1="0" x2="0" y2="8" stroke="{_safe_colour(c)}" stroke-width="5"/></pattern>'
        for k, c in colours.items()
    )
    return f'<svg width="0" height="0" aria-hidden="true"><defs>{body}</defs></svg>'


def _hatch_legend(colours: dict[str, str], labels: dict[str, str], counts: pd.Series) -> str:
    rows = "".join(
        f'<div><svg width="16" height="14" style="vertical-align:-2px;margin-right:6px">'
        f'<rect width="16" height="14" fill="url(#{_pattern_id(k)})" stroke="{_safe_colour(c)}"/></svg>'
        f"{html.escape(labels.get(k, k))} ({int(counts.get(k, 0))})</div>"
        for k, c in colours.items() if counts.get(k, 0)
    )
    return f'<div class="dg-legend-title">减麦增绿候选地块 Greening candidates</div>{rows}'


def _add_candidates(m: DongpingMap, candidates: gpd.GeoDataFrame) -> None:
    from ..raster import LANDCOVER_LEGEND

    legend = {c.name: c for c in LANDCOVER_LEGEND.values()}
    cand = _drawable(candidates)
    if "landcover" not in cand.columns:
        raise SchemaError("the candidates lack landcover", layer="candidates", field="landcover",
                          fix="pass the output of dongping_geo.catchments.greening_candidates")
    colours = {k: legend[k].color for k in pd.unique(cand["landcover"]) if k in legend}
    labels = {k: f"{legend[k].name_zh} {k.replace('_', ' ').capitalize()}" for k in colours}
    tips = {c: t for c, t in (("rank", "排序 Rank"), ("landcover", "地类 Land cover"),
                              ("area_m2", "面积 Area (m²)"), ("sections", "下游未达标断面 Failing sections downstream"))
            if c in cand.columns}
    layer = add_polygons(m, cand.assign(area_m2=cand["area_m2"].round(0)) if "area_m2" in cand else cand,
                         name="减麦增绿候选地块 Greening candidates", category="landcover", palette=colours,
                         category_labels=labels, tooltip=tips, legend=False, weight=1.0, tolerance_m=1.0)
    for f, k in zip(cast(_GeoJsonLayer, layer).data["features"], cand["landcover"], strict=True):
        f["properties"]["_h"] = _pattern_id(str(k))
    m.add_child(_Hatch(layer.get_name(), _patterns_svg(colours)))
    m.add_child(_Legend(_hatch_legend(colours, labels, cand["landcover"].value_counts()),
                        layer_name=layer.get_name()))


def catchments_map(
    drivers: pd.DataFrame,
    catchments: gpd.GeoDataFrame,
    sections: gpd.GeoDataFrame,
    rivers: gpd.GeoDataFrame,
    *,
    candidates: gpd.GeoDataFrame | None = None,
    upstream: gpd.GeoDataFrame | None = None,
    pick: str | None = None,
    basemap: str = "osm",
    tianditu_token: str | None = None,
    title: str | None = None,
    tolerance_m: float = 5.0,
) -> DongpingMap:
    """Map sections by compliance with the catchment and upstream rivers of the picked section.

    Sections are circles coloured by whether they meet their target class
    (``schemas.CATEGORY_COLOURS["meets_target"]``; grey when not assessed); their
    popups give the class, the items worse than the target, the catchment area and
    its land-cover shares (catchment / bank strip). Clicking a section, or choosing it
    in the list at the top left, shows its catchment (汇水区) and its upstream river
    stretches; the other sections' are hidden. Greening candidates (减麦增绿) are
    hatched in their land-cover colour. Legends are in Chinese and English; every
    value shown is HTML-escaped.

    Parameters
    ----------
    drivers : pandas.DataFrame
        :func:`dongping_geo.catchments.section_drivers` output.
    catchments : geopandas.GeoDataFrame
        :func:`dongping_geo.catchments.section_catchments` output (``section_id``;
        a ``bank_strip`` column is ignored).
    sections : geopandas.GeoDataFrame
        The sections layer (points).
    rivers : geopandas.GeoDataFrame
        The rivers layer, drawn thin under everything.
    candidates : geopandas.GeoDataFrame, optional
        :func:`dongping_geo.catchments.greening_candidates` output.
    upstream : geopandas.GeoDataFrame, optional
        :func:`dongping_geo.catchments.upstream_stretches` output (``section_id``,
        lines); without it the whole rivers named in ``upstream_river_ids`` are shown.
    pick : str, optional
        Section shown when the map opens; default the first section that misses
        its target (none when all meet it).
    basemap : str, default "osm"
        A key of :data:`~dongping_geo.maps.BASEMAPS`.
    tianditu_token : str, optional
        Tianditu key.
    title : str, optional
        Map title.
    tolerance_m : float, default 5.0
        Simplification of the catchment outlines, in metres.

    Returns
    -------
    DongpingMap
        The map; write it with :func:`~dongping_geo.maps.save_map`.

    Raises
    ------
    SchemaError
        If a layer lacks ``section_id``, or the candidates lack ``landcover``.

    Examples
    --------
    >>> import shapely
    >>> from dongping_geo.catchments import section_catchments
    >>> rivers = gpd.GeoDataFrame({"river_id": ["A"], "name": ["甲河"], "level": ["town"],
    ...     "flows_to": ["长江"]}, geometry=[shapely.LineString([(640010, 3510200), (641000, 3510200)])],
    ...     crs=4549)
    >>> sections = gpd.GeoDataFrame({"section_id": ["S1"], "name": ["甲河断面"]},
    ...     geometry=[shapely.Point(640500, 3510200)], crs=4549)
    >>> sc = section_catchments(rivers, sections, shapely.box(640000, 3510000, 641000, 3510400))
    >>> drivers = pd.DataFrame({"section_id": ["S1"], "meets_target": [False], "catchment_m2": [2e5]})
    >>> from dongping_geo.maps import map_html
    >>> m = catchments_map(drivers, sc, sections, rivers, basemap="none")
    >>> 'pick("S1")' in map_html(m)  # the failing section opens picked
    True
    """
    pts = _section_table(drivers, catchments, sections)
    catch = _drawable(catchments.drop(columns=[c for c in ("bank_strip",) if c in catchments.columns]))
    catch = catch.assign(section_id=catch["section_id"].astype(str))
    met = pts.set_index("section_id")["meets_target"]
    catch["meets_target"] = met.reindex(catch["section_id"]).to_numpy()
    if upstream is None:
        upstream = _whole_upstream_rivers(catch, rivers)
    up = _drawable(upstream.assign(section_id=upstream["section_id"].astype(str)))
    m = base_map([pts, rivers], basemap=basemap, tianditu_token=tianditu_token,
                 title=title or "断面汇水区与达标 Section catchments and compliance")
    add_lines(m, rivers, name="河道 Rivers", colour="#9ecae1", weight=1.5, legend=False,
              tooltip=[c for c in ("name", "river_id") if c in rivers.columns])
    c_layer = add_polygons(m, catch, name="所选断面汇水区 Catchment of the picked section",
                           category="meets_target", legend=False, fill_opacity=0.25, weight=1.5,
                           tolerance_m=tolerance_m,
                           tooltip={"section_id": "汇水区 Catchment of section", "area_m2": "面积 Area (m²)"})
    _tag(c_layer, catch["section_id"].tolist())
    u_layer = add_lines(m, up, name="所选断面上游河道 Upstream rivers of the picked section", colour="#08519c",
                        weight=4, legend=False, tolerance_m=1.0,
                        tooltip={"river_id": "上游河道 Upstream river", "length_m": "长度 Length (m)"})
    _tag(u_layer, up["section_id"].tolist())
    if candidates is not None and len(candidates):
        _add_candidates(m, candidates)
    s_layer = add_points(m, pts, name="断面达标情况 Sections by compliance", category="meets_target",
                         legend_title="断面是否达标 Section meets its target",
                         tooltip=[c for c in ("name", "section_id", "water_class") if c in pts.columns],
                         popup=_popup_fields(pts), radius=7)
    _tag(s_layer, pts["section_id"].tolist())
    _overlay_legend(m)
    failing = pts.loc[pts["meets_target"].eq(False), "section_id"]
    first = pick if pick is not None else (str(failing.iloc[0]) if len(failing) else "")
    names = pts["name"].astype(object).where(pts["name"].notna(), "") if "name" in pts else pd.Series("", index=pts.index)
    choices = [(s, f"{s} {n}".strip()) for s, n in zip(pts["section_id"], names, strict=True)]
    m.add_child(_SectionPicker(s_layer.get_name(), [c_layer.get_name(), u_layer.get_name()], choices, first))
    return m


def _overlay_legend(m: DongpingMap) -> None:
    rows = [("所选断面汇水区 (达标) Catchment, section meets target", _MET[True], "box"),
            ("所选断面汇水区 (未达标) Catchment, section misses target", _MET[False], "box"),
            ("上游河道 Upstream rivers", "#08519c", "line"), ("其他河道 Other rivers", "#9ecae1", "line")]
    body = "".join(
        f'<div><span class="dg-swatch{" dg-swatch-line" if shape == "line" else ""}" '
        f'style="background:{_safe_colour(colour)}"></span>{html.escape(label)}</div>'
        for label, colour, shape in rows
    )
    m.add_child(_Legend(f'<div class="dg-legend-title">汇水区 Catchments</div>{body}'))


def _whole_upstream_rivers(catch: gpd.GeoDataFrame, rivers: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One row per section and upstream river (whole lines), when no stretches are given."""
    if "upstream_river_ids" not in catch.columns:
        raise SchemaError("the catchments lack upstream_river_ids", layer="catchments", field="upstream_river_ids",
                          fix="pass the output of section_catchments, or upstream=upstream_stretches(...)")
    pairs = catch[["section_id", "upstream_river_ids"]].assign(
        river_id=catch["upstream_river_ids"].astype(str).str.split(",")).explode("river_id")
    lines = rivers[["river_id", rivers.geometry.name]].assign(river_id=rivers["river_id"].astype(str))
    out = lines.merge(pairs[["section_id", "river_id"]], on="river_id")
    return gpd.GeoDataFrame(out.assign(length_m=out.length.round(1)), geometry=rivers.geometry.name, crs=rivers.crs)
