"""Tests of dongping_geo.maps without a browser (see test_browser_maps.py for Chromium)."""

from __future__ import annotations

import html
import inspect
import json
import re
import types
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import xyzservices.providers as xyz
from click.testing import CliRunner
from folium import plugins
from hypothesis import given, settings
from hypothesis import strategies as st

from dongping_geo import maps
from dongping_geo.errors import ConfigError, CRSError, GeometryError, OutputError, SchemaError
from dongping_geo.maps._offline import VENDOR_DIR

XSS = "<script>window.__xss = 1; alert(1)</script>"
# GCJ-02 of (121.5E, 31.7N) from the independent prcoords implementation.
DONGPING_GCJ = (121.504471493931, 31.69807274046298)


@pytest.fixture
def rivers() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "river_id": ["R1", "R2", "R3"],
            "name": [XSS, "洪林河", "东风中心河"],
            "level": ["town", "district", "town"],
            "chief": ["张三", 'O"Neil & <b>Co</b>', "李四"],
            "secret": ["do-not-publish-1", "do-not-publish-2", "do-not-publish-3"],
        },
        geometry=[
            shapely.LineString([(642000, 3507000), (643000, 3507500)]),
            shapely.LineString([(642000, 3508000), (644000, 3508500)]),
            shapely.MultiLineString(
                [[(641000, 3506000), (641500, 3506200)], [(641600, 3506300), (641900, 3506500)]]
            ),
        ],
        crs=4549,
    )


@pytest.fixture
def dataset(rivers):
    sections = gpd.GeoDataFrame(
        {"section_id": ["S1", "S2"], "name": ["国控断面", "镇考1"], "tier": ["national", "town"]},
        geometry=[shapely.Point(642500, 3507500), shapely.Point(643500, 3508200)],
        crs=4549,
    )
    redlines = gpd.GeoDataFrame(
        {"zone_id": ["Z1"], "name": ["红线区"], "category": ["eco_redline"]},
        geometry=[shapely.box(641000, 3506000, 642000, 3507000)],
        crs=4549,
    )
    demolitions = gpd.GeoDataFrame(
        {"case_id": ["C1", "C2"], "kind": ["concrete_plant", "shack"], "area_m2": [1200.5, 80.0]},
        geometry=[
            shapely.box(643000, 3506000, 643100, 3506100),
            shapely.box(643200, 3506000, 643240, 3506030),
        ],
        crs=4549,
    )
    return types.SimpleNamespace(
        rivers=rivers, sections=sections, redlines=redlines, demolitions=demolitions
    )


def _coords(layer) -> np.ndarray:
    """All vertex coordinates of a helper layer's embedded GeoJSON."""
    geoms = shapely.from_geojson([json.dumps(f["geometry"]) for f in layer.data["features"]])
    return shapely.get_coordinates(geoms)


def _tile_urls(html: str) -> list[str]:
    return [json.loads(u) for u in re.findall(r'L\.tileLayer\(\s*("(?:[^"\\]|\\.)*")', html)]


# --- base map and basemaps -------------------------------------------------------


def test_unknown_basemap_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown basemap") as exc:
        maps.base_map((121.4, 31.6, 121.6, 31.8), basemap="google")
    assert "gaode" in str(exc.value) and "'google'" in str(exc.value)


def test_tianditu_without_token_says_how_to_fix(monkeypatch):
    monkeypatch.delenv("TIANDITU_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="TIANDITU_TOKEN"):
        maps.base_map((121.4, 31.6, 121.6, 31.8), basemap="tianditu")


@pytest.mark.parametrize(
    "basemap, layers", [("tianditu", ("vec", "cva")), ("tianditu_img", ("img", "cia"))]
)
def test_tianditu_token_from_environment(monkeypatch, basemap, layers):
    monkeypatch.setenv("TIANDITU_TOKEN", "tok123")
    m = maps.base_map((121.4, 31.6, 121.6, 31.8), basemap=basemap)
    html = maps.map_html(m)
    assert "tianditu.gov.cn/" + layers[0] + "_w/wmts" in html
    assert "LAYER=" + layers[1] in html and "tk=tok123" in html
    assert not m.gcj02


def test_tianditu_token_argument_wins(monkeypatch):
    monkeypatch.setenv("TIANDITU_TOKEN", "from-env")
    html = maps.map_html(
        maps.base_map((121.4, 31.6, 121.6, 31.8), basemap="tianditu", tianditu_token="arg")
    )
    assert "tk=arg" in html and "from-env" not in html


def test_gaode_uses_xyzservices_tiles_and_remembers_gcj02():
    m = maps.base_map((121.4, 31.6, 121.6, 31.8), basemap="gaode")
    assert m.gcj02 and maps.uses_gcj02(m)
    html = maps.map_html(m)
    assert _tile_urls(html) == [
        p.build_url(fill_subdomain=False) for p in (xyz.Gaode.Normal, xyz.Gaode.Satellite)
    ]


def test_osm_and_none_basemaps():
    osm = maps.map_html(maps.base_map((121.4, 31.6, 121.6, 31.8), basemap="osm"))
    assert "tile.openstreetmap.org" in osm
    none = maps.map_html(maps.base_map((121.4, 31.6, 121.6, 31.8), basemap="none"))
    assert "L.tileLayer" not in none


def test_plain_folium_map_is_not_gcj02():
    assert not maps.uses_gcj02(folium.Map())


def test_bounds_in_degrees_are_checked():
    with pytest.raises(ConfigError, match="longitudes"):
        maps.base_map((642000, 3507000, 643000, 3508000), basemap="none")


def test_bounds_from_data_fit_the_map(rivers):
    m = maps.base_map(rivers, basemap="none")
    html = maps.map_html(m)
    fit = re.search(r"fitBounds\(\s*(\[\[.*?\]\])", html, re.S)
    (s, w), (n, e) = json.loads(fit.group(1))
    # Expected extent from pyproj via geopandas, independent of the map code.
    minx, miny, maxx, maxy = rivers.to_crs(4326).total_bounds
    assert (w, s, e, n) == pytest.approx((minx, miny, maxx, maxy), abs=1e-9)


def test_controls_are_present():
    html = maps.map_html(maps.base_map((121.4, 31.6, 121.6, 31.8), basemap="none", title="东平镇"))
    assert "L.control.fullscreen" in html
    assert "new L.Control.Measure(" in html and '"localization": "cn"' in html
    assert "L.control.scale" in html and "imperial: false" in html
    assert "L.control.layers" in html
    assert '"东平镇"' in html or "\\u4e1c\\u5e73\\u9547" in html


def test_unused_default_assets_are_dropped():
    html = maps.map_html(maps.base_map((121.4, 31.6, 121.6, 31.8), basemap="none"))
    for name in ("jquery", "bootstrap", "awesome-markers", "fontawesome"):
        assert name not in html.lower()


# --- layers ------------------------------------------------------------------------


def test_overlays_are_shifted_to_gcj02_on_gaode_only():
    pt = gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.Point(121.5, 31.7)], crs=4326)
    gaode = maps.base_map((121.49, 31.69, 121.51, 31.71), basemap="gaode")
    layer = maps.add_points(gaode, pt, name="p")
    np.testing.assert_allclose(_coords(layer)[0], DONGPING_GCJ, atol=1e-6)
    osm = maps.base_map((121.49, 31.69, 121.51, 31.71), basemap="osm")
    np.testing.assert_allclose(
        _coords(maps.add_points(osm, pt, name="p"))[0], (121.5, 31.7), atol=1e-12
    )


def test_gaode_map_bounds_are_shifted_too():
    m = maps.base_map((121.49, 31.69, 121.51, 31.71), basemap="gaode")
    fit = re.search(r"fitBounds\(\s*(\[\[.*?\]\])", maps.map_html(m), re.S)
    (s, w), (n, e) = json.loads(fit.group(1))
    # The box centre moves by the Dongping GCJ offset (to ~1e-6 degrees over 0.01 degrees).
    assert (w + e) / 2 == pytest.approx(DONGPING_GCJ[0], abs=2e-5)
    assert (s + n) / 2 == pytest.approx(DONGPING_GCJ[1], abs=2e-5)


def test_every_value_is_escaped_and_only_chosen_fields_are_embedded(rivers):
    m = maps.base_map(rivers, basemap="none")
    layer = maps.add_lines(
        m,
        rivers,
        name="河道 Rivers",
        category="name",
        tooltip=["name", "chief"],
        popup={"river_id": "编码 <ID>"},
    )
    props = [f["properties"] for f in layer.data["features"]]
    assert "&lt;script&gt;window.__xss = 1; alert(1)&lt;/script&gt;" in props[0]["_t"]
    assert "O&quot;Neil &amp; &lt;b&gt;Co&lt;/b&gt;" in props[1]["_t"]
    assert "<th>编码 &lt;ID&gt;</th>" in props[0]["_p"]
    assert "<th>河长 Chief</th>" in props[0]["_t"]
    html = maps.map_html(m)
    # Neither the raw payload nor a closing script tag from the data reaches the page.
    assert "<script>window.__xss" not in html
    assert "alert(1)</script>" not in html
    assert "do-not-publish" not in html
    # The legend (categories are the names here) is escaped too.
    legend = [c for c in m._children.values() if type(c).__name__ == "_Legend"][0]
    assert "&lt;script&gt;" in legend.html and "<script>" not in legend.html


def test_category_colours_and_legend_items(rivers):
    m = maps.base_map(rivers, basemap="none")
    layer = maps.add_lines(
        m,
        rivers,
        name="河道 Rivers",
        category="level",
        palette={"town": "#00ff00", "district": "#0000ff"},
    )
    assert [f["properties"]["_c"] for f in layer.data["features"]] == [
        "#00ff00",
        "#0000ff",
        "#00ff00",
    ]
    legend = [c for c in m._children.values() if type(c).__name__ == "_Legend"][0]
    # Palette order, bilingual labels, counts: 2 town rivers and 1 district river in the fixture.
    assert legend.html.index("镇管 Town (2)") < legend.html.index("区管 District (1)")
    assert "background:#00ff00" in legend.html
    assert legend.layer_name == layer.get_name()


def test_unknown_and_missing_categories_get_colours(rivers):
    g = rivers.assign(level=["weird", None, "town"])
    layer = maps.add_lines(maps.base_map(g, basemap="none"), g, name="r", category="level")
    colours = [f["properties"]["_c"] for f in layer.data["features"]]
    assert colours[1] == "#999999"
    assert colours[2] == maps.PALETTES["level"]["town"]
    assert colours[0].startswith("#") and colours[0] not in ("#999999", colours[2])


def test_continuous_colours_follow_the_ramp(rivers):
    g = rivers.assign(score=[0.0, 5.0, 10.0])
    m = maps.base_map(g, basemap="none")
    layer = maps.add_lines(m, g, name="r", value="score", ramp=["#000000", "#ffffff"], unit="mg/L")
    # Linear ramp black -> white: 5 of 0..10 is 127.5 -> rounds to 128 = 0x80.
    assert [f["properties"]["_c"] for f in layer.data["features"]] == [
        "#000000",
        "#808080",
        "#ffffff",
    ]
    legend = [c for c in m._children.values() if type(c).__name__ == "_Legend"][0]
    assert "(mg/L)" in legend.html and "linear-gradient(to right, #000000, #ffffff)" in legend.html


def test_continuous_needs_numbers(rivers):
    with pytest.raises(SchemaError, match="numeric"):
        maps.add_lines(maps.base_map(rivers, basemap="none"), rivers, name="r", value="chief")


def test_missing_column_names_layer_and_field(rivers):
    with pytest.raises(SchemaError) as exc:
        maps.add_lines(
            maps.base_map(rivers, basemap="none"), rivers, name="河道 Rivers", tooltip=["nam"]
        )
    assert "河道 Rivers" in str(exc.value) and "field nam" in str(exc.value)


def test_wrong_geometry_type_is_refused(rivers):
    with pytest.raises(GeometryError, match="points"):
        maps.add_points(maps.base_map(rivers, basemap="none"), rivers, name="r")


def test_data_without_crs_is_refused(rivers):
    with pytest.raises(CRSError):
        maps.prepare_for_web(rivers.set_crs(None, allow_override=True))


def test_bad_colour_is_refused(rivers):
    with pytest.raises(ConfigError, match="colour"):
        maps.add_lines(
            maps.base_map(rivers, basemap="none"), rivers, name="r", colour='red;" onclick="x'
        )


# --- size control ------------------------------------------------------------------


def test_simplification_tolerance_is_in_metres_and_coordinates_are_rounded():
    # A 1 km line with a 0.4 m kink in the middle: a 1 m tolerance removes it, 0.1 m keeps it.
    line = shapely.LineString([(642000, 3507000), (642000.4, 3507500), (642000, 3508000)])
    g = gpd.GeoDataFrame(geometry=[line], crs=4549)
    assert len(shapely.get_coordinates(maps.prepare_for_web(g, tolerance_m=1.0).geometry)) == 2
    assert len(shapely.get_coordinates(maps.prepare_for_web(g, tolerance_m=0.1).geometry)) == 3
    # Same answer from geographic input: the tolerance is still metres.
    g4326 = g.to_crs(4326)
    assert len(shapely.get_coordinates(maps.prepare_for_web(g4326, tolerance_m=1.0).geometry)) == 2
    coords = shapely.get_coordinates(maps.prepare_for_web(g, tolerance_m=0).geometry)
    np.testing.assert_array_equal(coords, np.round(coords, 6))
    # Rounding moves a vertex by at most half a micro-degree (< 0.06 m here).
    exact = shapely.get_coordinates(g.to_crs(4326).geometry)
    assert np.max(np.abs(coords - exact)) <= 5e-7


def test_empty_and_missing_geometries_are_dropped(rivers):
    g = rivers.copy()
    g.loc[1, "geometry"] = None
    g.loc[2, "geometry"] = shapely.LineString()
    out = maps.prepare_for_web(g)
    assert list(out["river_id"]) == ["R1"]


def test_a_year_of_patrol_tracks_stays_under_5_mb():
    """3,650 patrols (10 chiefs x 365 days), 360 GPS fixes each (30 min at 5 s) with 3 m noise."""
    rng = np.random.default_rng(42)
    n_tracks, n_fix = 3650, 360
    starts = np.column_stack([rng.uniform(625000, 660000, 74), rng.uniform(3500000, 3515000, 74)])
    angle = rng.uniform(0, np.pi, 74)
    river = rng.integers(0, 74, n_tracks)
    along = np.linspace(0, 1500, n_fix)
    x = (
        starts[river, 0][:, None]
        + np.cos(angle[river])[:, None] * along
        + rng.normal(0, 3, (n_tracks, n_fix))
    )
    y = (
        starts[river, 1][:, None]
        + np.sin(angle[river])[:, None] * along
        + rng.normal(0, 3, (n_tracks, n_fix))
    )
    tracks = gpd.GeoDataFrame(
        {
            "patrol_id": [f"P{i:05d}" for i in range(n_tracks)],
            "chief": rng.choice(["张三", "李四"], n_tracks),
        },
        geometry=shapely.linestrings(np.stack([x, y], axis=-1)),
        crs=4549,
    )
    m = maps.base_map(tracks, basemap="none")
    layer = maps.add_lines(
        m, tracks, name="巡河轨迹 Patrols", tooltip=["patrol_id", "chief"], tolerance_m=10, weight=1
    )
    assert len(layer.data["features"]) == n_tracks
    size = len(maps.map_html(m, offline=True).encode("utf-8"))
    assert size <= 5_000_000, f"{size / 1e6:.2f} MB"


# --- output ------------------------------------------------------------------------


def test_layer_control_is_rendered_after_every_layer(dataset):
    m = maps.overview_map(dataset, basemap="none")
    html = maps.map_html(m)
    assert html.count("L.control.layers") == 1
    assert html.index("L.control.layers") > html.rindex("L.geoJSON(")
    # Rendering twice (e.g. notebook display, then save) does not add a second control.
    assert maps.map_html(m).count("L.control.layers") == 1


def test_offline_html_is_self_contained(dataset):
    html = maps.map_html(maps.overview_map(dataset, basemap="none"), offline=True)
    assert not re.search(r"<script[^>]+src=", html)
    assert not re.search(r"<link[^>]+href=", html)
    # Nothing is loaded from outside; the only link is Leaflet's credit hyperlink in its own code.
    links = re.findall(r"""(?:src|href)\s*=\s*["']?((?:https?:)?//[^"'\s>]+)""", html)
    assert set(links) == {"https://leafletjs.com"}
    assert not re.search(r"""url\(\s*["']?(?:https?:)?//""", html)
    # Any other address in the file is a comment or string inside the vendored code
    # (credits, bug links, the SVG namespace), none of which is loaded.
    url_re = r"https?://[^\s\"'<>)\\]+"
    vendored = set()
    for f in VENDOR_DIR.rglob("*.[jc]s*"):
        vendored |= set(re.findall(url_re, f.read_text(encoding="utf-8")))
    # folium's measure-control template carries a bug link in a JS comment.
    vendored |= set(re.findall(url_re, inspect.getsource(plugins.MeasureControl)))
    assert set(re.findall(url_re, html)) - vendored == set()
    assert "data:image/png;base64," in html  # layer-control and measure icons inlined
    assert "L.Control.Measure" in html and "fullscreen" in html.lower()


def test_offline_with_tiles_keeps_only_the_tile_url(dataset):
    html = maps.map_html(maps.overview_map(dataset, basemap="osm"), offline=True)
    assert not re.search(r"<script[^>]+src=", html)
    assert "tile.openstreetmap.org" in html  # tiles may be missing offline; nothing else is


def test_offline_refuses_assets_it_does_not_ship():
    m = maps.base_map((121.4, 31.6, 121.6, 31.8), basemap="none")
    plugins.MiniMap().add_to(m)
    with pytest.raises(OutputError, match="Control.MiniMap"):
        maps.map_html(m, offline=True)


def test_save_map_is_atomic(tmp_path, dataset):
    target = tmp_path / "sub" / "map.html"
    out = maps.save_map(maps.overview_map(dataset, basemap="none"), target, offline=True)
    assert out == target and target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    # A failing save leaves the previous file untouched and no temporary file behind.
    bad = maps.base_map((121.4, 31.6, 121.6, 31.8), basemap="none")
    plugins.MiniMap().add_to(bad)
    before = target.read_bytes()
    with pytest.raises(OutputError):
        maps.save_map(bad, target, offline=True)
    assert target.read_bytes() == before
    assert sorted(p.name for p in target.parent.iterdir()) == ["map.html"]


def test_save_map_to_a_folder_is_an_output_error(tmp_path):
    (tmp_path / "taken").mkdir()
    with pytest.raises(OutputError, match="cannot write"):
        maps.save_map(maps.base_map((121.4, 31.6, 121.6, 31.8), basemap="none"), tmp_path / "taken")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


# --- overview and CLI --------------------------------------------------------------


def test_overview_has_one_layer_and_legend_per_dataset_layer(dataset):
    m = maps.overview_map(dataset, basemap="none")
    layers = {c.layer_name: c for c in m._children.values() if type(c).__name__ == "_GeoJsonLayer"}
    assert list(layers) == [
        "生态空间 Ecological space",
        "拆违地块 Demolitions",
        "河道 Rivers",
        "监测断面 Monitoring sections",
    ]
    counts = {name: len(layer.data["features"]) for name, layer in layers.items()}
    assert counts == {
        "生态空间 Ecological space": 1,
        "拆违地块 Demolitions": 2,
        "河道 Rivers": 3,
        "监测断面 Monitoring sections": 2,
    }
    legends = [c.html for c in m._children.values() if type(c).__name__ == "_Legend"]
    assert len(legends) == 4
    assert any("国考 National (1)" in h for h in legends)
    assert any("混凝土搅拌站 Concrete plant (1)" in h for h in legends)


def test_overview_skips_missing_layers_and_refuses_an_empty_dataset(dataset):
    dataset.demolitions = None
    m = maps.overview_map(dataset, basemap="none")
    assert sum(type(c).__name__ == "_GeoJsonLayer" for c in m._children.values()) == 3
    empty = types.SimpleNamespace(rivers=None, sections=None, redlines=None, demolitions=None)
    with pytest.raises(SchemaError, match="nothing to map"):
        maps.overview_map(empty)


def test_cli_basemap_choices_match_the_library():
    from dongping_geo.cli import cli

    choices = next(p for p in cli.commands["map"].params if p.name == "basemap").type.choices
    assert list(choices) == list(maps.BASEMAPS)


def test_cli_map_writes_offline_overview(tmp_path, dataset, monkeypatch):
    from dongping_geo import loaders
    from dongping_geo.cli import cli

    calls = []

    def fake_load(folder, **kwargs):
        calls.append(Path(folder))
        return dataset

    monkeypatch.setattr(loaders, "load_dataset", fake_load)
    data = tmp_path / "data"
    data.mkdir()
    out = tmp_path / "maps" / "overview.html"
    result = CliRunner().invoke(
        cli, ["map", str(data), "--out", str(out), "--offline", "--basemap", "none"]
    )
    assert result.exit_code == 0, result.output
    assert calls == [data]
    assert "<script src=" not in out.read_text(encoding="utf-8")


def test_cli_map_tianditu_without_token_exits_2(tmp_path, dataset, monkeypatch):
    from dongping_geo import loaders
    from dongping_geo.cli import cli

    monkeypatch.setattr(loaders, "load_dataset", lambda folder, **kw: dataset)
    monkeypatch.delenv("TIANDITU_TOKEN", raising=False)
    data = tmp_path / "data"  # the map goes beside the dataset folder, never inside it
    data.mkdir()
    result = CliRunner().invoke(
        cli, ["map", str(data), "--out", str(tmp_path / "o.html"), "--basemap", "tianditu"]
    )
    assert result.exit_code == 2
    assert "TIANDITU_TOKEN" in result.output
    assert not (tmp_path / "o.html").exists()


def test_overview_of_the_sample_dataset(sample_dir, tmp_path):
    from dongping_geo.loaders import load_dataset

    ds = load_dataset(sample_dir, patrols=False)
    m = maps.overview_map(ds, basemap="none")
    out = maps.save_map(m, tmp_path / "overview.html", offline=True)
    assert out.stat().st_size < 5_000_000
    layers = {
        c.layer_name: len(c.data["features"])
        for c in m._children.values()
        if type(c).__name__ == "_GeoJsonLayer"
    }
    assert layers["河道 Rivers"] == len(ds.rivers)


@settings(max_examples=100, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_any_text_is_escaped_and_round_trips(text):
    g = gpd.GeoDataFrame({"name": [text]}, geometry=[shapely.Point(121.5, 31.7)], crs=4326)
    layer = maps.add_points(maps.base_map(g, basemap="none"), g, name="p", tooltip={"name": "名称"})
    cell = re.fullmatch(
        r'<table class="dg-tip"><tr><th>名称</th><td>(.*)</td></tr></table>',
        layer.data["features"][0]["properties"]["_t"],
        re.S,
    )
    assert cell is not None
    assert "<" not in cell.group(1) and ">" not in cell.group(1) and '"' not in cell.group(1)
    assert html.unescape(cell.group(1)) == text


def test_dates_numbers_and_missing_values_are_formatted_for_people():
    g = gpd.GeoDataFrame(
        {
            "timestamp": pd.to_datetime(["2022-03-05 08:30", None]).tz_localize("Asia/Shanghai"),
            "demolished_on": pd.to_datetime(["2022-03-05", "2022-04-01"]),
            "area_m2": [1200.5, np.nan],
        },
        geometry=[shapely.Point(121.5, 31.7), shapely.Point(121.51, 31.71)],
        crs=4326,
    )
    layer = maps.add_points(
        maps.base_map(g, basemap="none"),
        g,
        name="p",
        tooltip=["timestamp", "demolished_on", "area_m2"],
    )
    first, second = (f["properties"]["_t"] for f in layer.data["features"])
    assert "<th>时间 Time</th><td>2022-03-05 08:30</td>" in first
    assert "<th>拆除日期 Demolished on</th><td>2022-03-05</td>" in first
    assert "<td>1,200.5</td>" in first
    assert (
        "<th>时间 Time</th><td>—</td>" in second and "<th>面积 Area (m²)</th><td>—</td>" in second
    )


def test_a_single_point_gets_a_minimum_extent():
    pt = gpd.GeoDataFrame(geometry=[shapely.Point(121.5, 31.7)], crs=4326)
    fit = re.search(
        r"fitBounds\(\s*(\[\[.*?\]\])", maps.map_html(maps.base_map(pt, basemap="none")), re.S
    )
    (s, w), (n, e) = json.loads(fit.group(1))
    assert (e - w, n - s) == pytest.approx((0.01, 0.01))
    assert ((w + e) / 2, (s + n) / 2) == pytest.approx((121.5, 31.7))


def test_empty_layer_with_numeric_tooltip_draws_nothing():
    """An empty selection (e.g. a chief with no uncovered stretches) must not fail."""
    import geopandas as gpd
    import shapely

    from dongping_geo import maps

    gaps = gpd.GeoDataFrame({"name": ["a"], "length_m": [1.5]},
                            geometry=[shapely.LineString([(640_000, 3_510_000), (641_000, 3_510_000)])],
                            crs=4549)
    m = maps.base_map((121.4, 31.6, 121.6, 31.8), basemap="none")
    maps.add_lines(m, gaps.iloc[:0], name="x", tooltip=["name", "length_m"])
    assert '"features": []' in maps.map_html(m) or '"features":[]' in maps.map_html(m)
