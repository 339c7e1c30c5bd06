"""add_features and its wrappers: a FeatureStyle object and the 0.1.0 keywords draw the same map."""

from __future__ import annotations

import dataclasses
import inspect
import re

import geopandas as gpd
import pytest
import shapely

from dongping_geo import maps
from dongping_geo.maps import FeatureStyle
from dongping_geo.maps._toolkit import FeatureKwargs, StyleKwargs

# The keyword arguments of add_features in version 0.1.0, written out from its signature.
KEYWORDS_0_1_0 = {
    "name", "category", "palette", "category_labels", "value", "vmin", "vmax", "ramp", "unit",
    "colour", "tooltip", "popup", "value_labels", "legend", "legend_title", "tolerance_m",
    "weight", "opacity", "fill_opacity", "radius", "show",
}  # fmt: skip


def _canonical_html(m) -> str:
    """The map's HTML with folium's random element ids renumbered in order of appearance."""
    text = maps.map_html(m)
    ids: dict[str, str] = {}
    return re.sub(r"[0-9a-f]{32}", lambda g: ids.setdefault(g.group(0), f"ID{len(ids)}"), text)


@pytest.fixture
def rivers() -> gpd.GeoDataFrame:
    lines = [shapely.LineString([(121.50 + i / 100, 31.70), (121.51 + i / 100, 31.71)]) for i in range(4)]
    return gpd.GeoDataFrame(
        {"name": ["甲", "乙", "丙", "丁"], "level": ["town", "village", "town", None],
         "score": [0.5, 1.5, 2.5, 3.5]},
        geometry=lines, crs=4326,
    )  # fmt: skip


def _draw(draw, gdf, **kwargs) -> str:
    m = maps.base_map(gdf, basemap="none")
    draw(m, gdf, name="河道 Rivers", **kwargs)
    return _canonical_html(m)


CASES = [
    (
        maps.add_lines,
        {"category": "level", "palette": {"town": "#ff0000"}, "category_labels": {"town": "镇管 Town"},
         "legend_title": "等级 Level", "weight": 2.0, "opacity": 0.5},
    ),
    (
        maps.add_polygons,
        {"value": "score", "vmin": 0.0, "vmax": 4.0, "ramp": ("#000000", "#ffffff"), "unit": "mg/L",
         "fill_opacity": 0.2},
    ),
    (maps.add_points, {"colour": "#00ff00", "radius": 9.0, "legend": False}),
    (maps.add_features, {"category": "level", "weight": 4.0, "fill_opacity": 0.1}),
    (maps.add_lines, {}),
]  # fmt: skip


@pytest.mark.parametrize(("draw", "style_fields"), CASES)
def test_style_object_draws_the_same_html_as_keywords(rivers, draw, style_fields):
    gdf = rivers
    if draw is maps.add_polygons:
        gdf = rivers.assign(geometry=shapely.buffer(rivers.geometry.values, 0.001))
    if draw is maps.add_points:
        gdf = rivers.assign(geometry=shapely.centroid(rivers.geometry.values))
    layer_opts = {"tooltip": ["name", "level"], "popup": {"score": "得分 Score"}}
    old = _draw(draw, gdf, **style_fields, **layer_opts)
    new = _draw(draw, gdf, style=FeatureStyle(**style_fields), **layer_opts)
    assert new == old
    if style_fields:  # the fields do change the drawing
        assert old != _draw(draw, gdf, **layer_opts)
    # A keyword overrides the field of the style object.
    given = FeatureStyle(**{**style_fields, "colour": "#123456"})
    mixed = _draw(draw, gdf, style=given, colour="#654321", **layer_opts)
    assert mixed == _draw(draw, gdf, **{**style_fields, "colour": "#654321"}, **layer_opts)
    assert "#123456" not in mixed


def test_wrapper_defaults_apply_to_style_objects_too(rivers):
    points = rivers.assign(geometry=shapely.centroid(rivers.geometry.values))
    m = maps.base_map(points, basemap="none")
    # Documented defaults: add_points weight 1.5 and fill opacity 0.85; add_features 3 and 0.45.
    p = maps.add_points(m, points, name="p", style=FeatureStyle(colour="#00ff00"))
    assert p.style == {"color": "#00ff00", "fillColor": "#00ff00", "weight": 1.5, "opacity": 0.9,
                       "fillOpacity": 0.85}  # fmt: skip
    f = maps.add_features(m, points, name="f", style=FeatureStyle(colour="#00ff00"))
    assert (f.style["weight"], f.style["fillOpacity"]) == (3.0, 0.45)
    # An explicit width in the style object wins over the wrapper's default.
    q = maps.add_points(m, points, name="q", style=FeatureStyle(weight=3.0))
    assert q.style["weight"] == 3.0


def test_every_0_1_0_keyword_is_still_accepted():
    explicit = set(inspect.signature(maps.add_features).parameters) - {"m", "gdf", "style", "style_kwargs"}
    assert KEYWORDS_0_1_0 <= explicit | set(StyleKwargs.__annotations__)
    # The typed keywords and the style object list the same fields.
    assert set(StyleKwargs.__annotations__) == {f.name for f in dataclasses.fields(FeatureStyle)}
    assert set(FeatureKwargs.__annotations__) | {"name"} == KEYWORDS_0_1_0


def test_unknown_keyword_is_a_type_error(rivers):
    m = maps.base_map(rivers, basemap="none")
    with pytest.raises(TypeError, match="colr"):
        maps.add_features(m, rivers, name="r", colr="#ff0000")
    with pytest.raises(TypeError, match="colr"):
        maps.add_points(m, rivers.assign(geometry=shapely.centroid(rivers.geometry.values)), name="p", colr="#ff0000")
