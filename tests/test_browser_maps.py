"""Generated maps in a real headless Chromium (Playwright): few, fast, one screenshot each."""

from __future__ import annotations

import types

import geopandas as gpd
import pytest
import shapely

from dongping_geo import maps

pytestmark = pytest.mark.browser

PAYLOAD = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">'


@pytest.fixture
def dataset() -> types.SimpleNamespace:
    rivers = gpd.GeoDataFrame(
        {
            "river_id": ["R1", "R2", "R3"],
            "name": [PAYLOAD, "洪林河", "东风中心河"],
            "level": ["town", "district", "village"],
            "chief": ["张三", "李四", "王五"],
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
    sections = gpd.GeoDataFrame(
        {"section_id": ["S1", "S2"], "name": ["国控断面", "镇考1"], "tier": ["national", "town"]},
        geometry=[shapely.Point(642500, 3507500), shapely.Point(643500, 3508200)],
        crs=4549,
    )
    redlines = gpd.GeoDataFrame(
        {
            "zone_id": ["Z1", "Z2"],
            "name": ["红线区", "农田"],
            "category": ["eco_redline", "basic_farmland"],
        },
        geometry=[
            shapely.box(641000, 3506000, 642000, 3507000),
            shapely.MultiPolygon(
                [
                    shapely.box(644000, 3507000, 644500, 3507400),
                    shapely.box(644600, 3507000, 644800, 3507200),
                ]
            ),
        ],
        crs=4549,
    )
    demolitions = gpd.GeoDataFrame(
        {"case_id": ["C1"], "kind": ["concrete_plant"]},
        geometry=[shapely.box(643000, 3506000, 643100, 3506100)],
        crs=4549,
    )
    return types.SimpleNamespace(
        rivers=rivers, sections=sections, redlines=redlines, demolitions=demolitions
    )


def _layers(m) -> dict[str, maps.folium.map.Layer]:
    return {c.layer_name: c for c in m._children.values() if type(c).__name__ == "_GeoJsonLayer"}


def test_offline_overview_renders_fully_with_network_blocked(browser_page, dataset, tmp_path):  # noqa: F811
    m = maps.overview_map(dataset, basemap="none")
    path = maps.save_map(m, tmp_path / "overview.html", offline=True)
    page = browser_page.open(path, block_network=True)
    shot = page.screenshot("overview_offline")
    assert page.errors == []
    assert page.blocked == []  # nothing even tried to leave the file
    assert all(u.startswith(("file:", "data:")) for u in page.requests)
    # Every feature of every layer is drawn: compare with the GeoDataFrames themselves.
    expected = {
        "河道 Rivers": len(dataset.rivers),
        "监测断面 Monitoring sections": len(dataset.sections),
        "生态空间 Ecological space": len(dataset.redlines),
        "拆违地块 Demolitions": len(dataset.demolitions),
    }
    drawn = {name: page.feature_count(layer.get_name()) for name, layer in _layers(m).items()}
    assert drawn == expected
    assert page.feature_count() == sum(expected.values())
    # One SVG path per drawn feature (lines, polygons, circle markers).
    assert page.svg_paths() == sum(expected.values())
    assert page.legend_visible()
    assert page.page.locator(".dg-legend").count() == 4
    # Controls work offline: layer control, fullscreen, measure, scale bar.
    for css in (
        ".leaflet-control-layers",
        ".leaflet-control-zoom-fullscreen",
        ".leaflet-control-measure",
        ".leaflet-control-scale",
    ):
        assert page.page.locator(css).first.is_visible(), css
    assert shot.stat().st_size > 10_000


def test_switching_a_layer_off_hides_its_features_and_legend(browser_page, dataset, tmp_path):  # noqa: F811
    m = maps.overview_map(dataset, basemap="none")
    path = maps.save_map(m, tmp_path / "toggle.html", offline=True)
    page = browser_page.open(path, block_network=True)
    legends_before = page.page.locator(".dg-legend").count()
    page.page.get_by_label("河道 Rivers").uncheck()
    page.page.wait_for_timeout(100)
    page.screenshot("rivers_off")
    assert page.feature_count(_layers(m)["河道 Rivers"].get_name()) == 0
    assert page.page.locator(".dg-legend").count() == legends_before - 1
    assert page.page.locator(".dg-legend", has_text="河道等级").count() == 0
    assert page.errors == []


def test_script_in_an_attribute_shows_as_text_and_does_not_run(browser_page, dataset, tmp_path):  # noqa: F811
    m = maps.base_map(dataset.rivers, basemap="none")
    # The payload is in an attribute (tooltip, popup, legend) and in the layer name.
    layer = maps.add_lines(
        m,
        dataset.rivers,
        name="河道 " + PAYLOAD,
        category="name",
        tooltip=["name"],
        popup=["name", "chief"],
    )
    path = maps.save_map(m, tmp_path / "xss.html", offline=True)
    page = browser_page.open(path, block_network=True)
    # Open the popup of the poisoned feature and hover it for the tooltip.
    page.page.evaluate(
        """(name) => { const l = window[name].getLayers()[0]; l.openPopup(); l.openTooltip(); }""",
        layer.get_name(),
    )
    page.page.wait_for_timeout(200)
    page.screenshot("xss")
    assert page.page.evaluate("() => window.__xss") is None
    assert (
        page.page.locator(
            ".leaflet-popup-content", has_text="<script>window.__xss = 1</script>"
        ).count()
        == 1
    )
    assert page.page.locator(".leaflet-tooltip", has_text="<img src=x").count() == 1
    assert (
        page.page.locator(".dg-legend", has_text="<script>window.__xss = 1</script>").count() == 1
    )
    assert (
        page.page.locator(
            ".leaflet-control-layers", has_text="河道 <script>window.__xss = 1</script>"
        ).count()
        == 1
    )
    assert page.page.locator(".leaflet-container img[src='x']").count() == 0
    assert page.errors == []


def test_gaode_map_initialises_and_places_data_on_gcj02(browser_page, dataset, tmp_path):  # noqa: F811
    m = maps.base_map(dataset.sections, basemap="gaode")
    layer = maps.add_points(m, dataset.sections, name="断面 Sections", category="tier")
    path = maps.save_map(m, tmp_path / "gaode.html", offline=True)
    page = browser_page.open(path, block_network=True)  # tiles blocked: data must still draw
    page.screenshot("gaode")
    assert page.errors == []
    # Only Gaode tiles were blocked (they are what may be missing offline).
    assert page.blocked and all("autonavi.com" in u for u in page.blocked)
    assert page.feature_count(layer.get_name()) == len(dataset.sections)
    lat, lon = page.page.evaluate(
        "(name) => { const ll = window[name].getLayers()[0].getLatLng(); return [ll.lat, ll.lng]; }",
        layer.get_name(),
    )
    wgs = dataset.sections.to_crs(4326).geometry.iloc[0]
    # Shifted east and south by the ~475 m Shanghai offset (about 0.0045 and 0.002 degrees).
    assert 0.003 < lon - wgs.x < 0.006
    assert -0.003 < lat - wgs.y < -0.001
    assert page.legend_visible()


def test_chief_map_shows_the_periods_missed_of_a_fully_covered_river(browser_page, tmp_path):
    """A river walked end to end (coverage 100 %) in one week of two: the map says W11 was missed."""
    import pandas as pd

    from dongping_geo.reports import MapOptions, PatrolReport

    x0, y0 = 640_000.0, 3_510_000.0
    rivers = gpd.GeoDataFrame(
        {"river_id": ["R1", "R2"], "name": ["前进河", PAYLOAD], "level": ["village", "village"],
         "chief": ["李四", "李四"]},
        geometry=[shapely.LineString([(x0, y0), (x0 + 1500, y0)]),
                  shapely.LineString([(x0, y0 + 800), (x0 + 1500, y0 + 800)])],
        crs=4549,
    )
    xs = [x0 + 100.0 * i for i in range(16)]
    stamps = pd.date_range("2024-03-05 09:00", periods=16, freq="60s", tz="Asia/Shanghai")
    fixes = gpd.GeoDataFrame({"patrol_id": ["p1"] * 16, "chief": ["李四"] * 16, "timestamp": stamps},
                             geometry=[shapely.Point(x, y0) for x in xs], crs=4549)
    report = PatrolReport.compute(rivers, fixes, start="2024-03-04", end="2024-03-17")
    cov = report.coverage.set_index("river_id")
    assert cov.loc["R1", "coverage"] == pytest.approx(1.0)
    rule = report.compliance.by_river.set_index("river_id")
    assert rule.loc["R1", "missed_periods"] == ["2024-W11"]
    written = report.write(tmp_path / "out", map_options=MapOptions(basemap="none", offline=True))
    chief_map = next(p for p in written if p.parent.name == "maps")
    page = browser_page.open(chief_map, block_network=True)
    page.screenshot("chief_map")
    panel = page.page.locator(".dg-panel")
    assert panel.is_visible()
    row = panel.locator("tr", has_text="前进河")
    assert row.count() == 1 and "2024-W11" in row.inner_text() and "2024-W10" not in row.inner_text()
    assert "1 / 2" in row.inner_text()  # patrols counted / required
    # the untouched river: both weeks missed, and a stretch to patrol with its chainage marks
    assert panel.locator("tr", has_text="K0+000 – K1+500").count() == 1
    assert page.page.locator(".dg-chainage", has_text="K1+500").count() == 1
    assert page.page.locator(".dg-label", has_text="前进河").count() == 1
    assert page.page.locator(".dg-legend", has_text="未达标 missed").count() == 1
    # the poisoned name shows as text everywhere and runs nowhere
    assert page.page.locator(".dg-label", has_text="<script>").count() == 1
    assert page.page.evaluate("() => window.__xss") is None
    assert page.errors == []
    index = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert "前进河: 2024-W11" in index and "&lt;script&gt;" in index and "<script>window" not in index
