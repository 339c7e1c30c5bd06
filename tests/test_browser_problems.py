"""The problems map (issue 15) in a real headless Chromium: clustering offline, safe popups."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from dongping_geo import maps

pytestmark = pytest.mark.browser

PAYLOAD = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">'


@pytest.fixture
def layers() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    rivers = gpd.GeoDataFrame({"river_id": ["R1"], "name": ["洪林河"], "chief": ["王"]},
                              geometry=[shapely.LineString([(640000, 3510000), (643000, 3510000)])], crs=4549)
    # Five open problems within 40 m of each other (one cluster at the fitted zoom), one far
    # away, one closed (not drawn).
    xy = [(640100 + 10 * i, 3510005) for i in range(5)] + [(642900, 3510005), (641500, 3510005)]
    problems = gpd.GeoDataFrame({
        "problem_id": [f"Q{i}" for i in range(7)], "river_id": ["R1"] * 7,
        "kind": ["dumping", "outfall", "dumping", "other", "floating_debris", "encroachment", "dumping"],
        "status": ["reported", "assigned", "assigned", "reported", "assigned", "reported", "closed"],
        "reported_at": ["2022-03-01"] * 5 + ["2022-03-18", "2022-03-01"],
        "resolved_at": [None] * 6 + ["2022-03-02"],
        "description": [PAYLOAD, "${window.__xss = 3}", "`", "ok", "ok", "ok", "ok"],
        "photo": ["javascript:window.__xss=4", "https://photos.example.org/q1.jpg", "", None, "IMG_1.jpg",
                  "https://x.org/a.jpg\"onclick=\"window.__xss=5", ""],
    }, geometry=shapely.points(xy), crs=4549)
    boards = gpd.GeoDataFrame({"board_id": ["B1"], "river_id": ["R1"], "chief_on_board": [PAYLOAD]},
                              geometry=[shapely.Point(640050, 3510010)], crs=4549)
    return rivers, problems, boards


def test_offline_problems_map_clusters_with_network_blocked(browser_page, layers, tmp_path):  # noqa: F811
    rivers, problems, boards = layers
    m = maps.base_map(rivers, basemap="none")
    group, board_layer = maps.add_problem_layers(m, problems, signboards=boards, as_of="2022-03-20")
    path = maps.save_map(m, tmp_path / "problems.html", offline=True)
    page = browser_page.open(path, block_network=True)
    page.screenshot("problems_clustered")
    assert page.errors == [] and page.blocked == []
    # Six open problems in the cluster group; drawn as one cluster of five plus one marker.
    assert page.page.evaluate("(n) => window[n].getLayers().length", group.get_name()) == 6
    page.page.wait_for_timeout(1000)  # let the zoom animation remove the faded copies
    assert page.page.locator(".marker-cluster").count() == 1
    assert page.page.locator(".marker-cluster", has_text="5").count() == 1
    assert page.page.locator(".dg-problem").count() == 1
    assert page.feature_count(board_layer.get_name()) == 1
    assert page.legend_visible()


def test_problem_popups_show_payloads_as_text_and_link_only_http_photos(browser_page, layers, tmp_path):  # noqa: F811
    rivers, problems, boards = layers
    m = maps.base_map(rivers, basemap="none")
    group, board_layer = maps.add_problem_layers(m, problems, signboards=boards, as_of="2022-03-20", cluster=False)
    path = maps.save_map(m, tmp_path / "popups.html", offline=True)
    page = browser_page.open(path, block_network=True)
    contents = page.page.evaluate(
        """(names) => {
            const out = [];
            for (const name of names) {
                for (const l of window[name].getLayers()) {
                    l.openPopup();
                    const el = l.getPopup().getElement().querySelector('.leaflet-popup-content');
                    out.push({text: el.innerText,
                              links: [...el.querySelectorAll('a')].map(a => a.getAttribute('href'))});
                }
            }
            return out;
        }""",
        [group.get_name(), board_layer.get_name()],
    )
    page.screenshot("problem_popup")
    assert page.page.evaluate("() => window.__xss") is None
    assert len(contents) == 7  # six problems and the board
    links = sorted(h for c in contents for h in c["links"])
    assert links == ["https://photos.example.org/q1.jpg"]
    text = "\n".join(c["text"] for c in contents)
    assert "<script>window.__xss = 1</script>" in text  # shown, not run
    assert "${window.__xss = 3}" in text and "javascript:window.__xss=4" in text
    assert page.page.locator(".leaflet-container img[src='x']").count() == 0
    assert page.errors == []


def test_chief_coverage_map_with_problems_and_signboards_renders(browser_page, layers, tmp_path):  # noqa: F811
    import pandas as pd

    rivers, problems, boards = layers
    cov = pd.DataFrame({"river_id": ["R1"], "coverage": [0.5], "covered_m": [1500.0], "length_m": [3000.0],
                        "patrols": [2], "last_patrolled": [pd.NaT]})
    m = maps.coverage_map(rivers, cov, basemap="none")
    group, board_layer = maps.add_problem_layers(m, problems, signboards=boards, as_of="2022-03-20")
    path = maps.save_map(m, tmp_path / "chief.html", offline=True)
    page = browser_page.open(path, block_network=True)
    page.page.wait_for_timeout(800)
    page.screenshot("chief_with_problems")
    assert page.errors == [] and page.blocked == []
    assert page.page.evaluate("(n) => window[n].getLayers().length", group.get_name()) == 6
    assert page.feature_count(board_layer.get_name()) == 1
    assert page.feature_count() == 2  # the river and the board (GeoJSON layers)
