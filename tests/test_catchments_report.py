"""The catchments command, report and map: a hand-made dataset with answers known by construction.

Town 1000 m x 400 m. Town river A runs along y = 200 from x = 10 (its head) to the
boundary at x = 1000 (flows_to 长江); village tributary T1 joins it from the north at
x = 300, T2 from the south at x = 700. Section S1 lies on A at x = 500 (upstream: A
from its head and T1), S2 at x = 950 (upstream: A, T1, T2). S1 fails (NH3_N 1.8 mg/L,
Class V, target III); S2 passes (NH3_N 0.4, Class II).

Land cover (10 m pixels): greenhouse on the north-west block x < 500, y > 200;
farmland everywhere else. Nearest-river allocation, by construction:

* S2's catchment is the town without the strip x > 950 drained by A's last 50 m:
  400 000 - 50 x 400 = 380 000 m².
* S1's catchment is the part x < 500 (everything west of the section is nearer A's
  upper stretches or T1): 200 000 m², half of it greenhouse.
* S1's 100 m bank strip: A's band 0 <= x < 500, 100 <= y <= 300 (about 100 000 m²,
  see ``A_NORTH``) plus T1's band 200 <= x <= 400 above y = 300 (20 000 m²); greenhouse
  in it about 70 000 m², farmland about 50 000 m². Those are the two greening candidates.
"""

from __future__ import annotations

import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
import shapely
from click.testing import CliRunner

from dongping_geo.cli import EXIT_BAD_INPUT, EXIT_FOUND, EXIT_OK, cli
from dongping_geo.raster import LANDCOVER_LEGEND

X0, Y0 = 640_000.0, 3_510_000.0  # on Chongming's north shore, EPSG:4549
CODE = {v.name: k for k, v in LANDCOVER_LEGEND.items()}
PAYLOAD = '<script>window.__xss=1</script>'
# A's head at x = 10 is 10 m inside the town: between x = 0 and 10 the strip is the disc of
# 100 m around the head, not the full 200 m band (exact area of that piece below). GEOS draws
# the disc with 8 chords per quarter circle, a few m² short of the exact figure.
_HALF_CAP = (10 * np.sqrt(100**2 - 10**2) + 100**2 * np.arcsin(10 / 100)) / 2  # ∫0..10 sqrt(100² - t²) dt
A_NORTH = 490 * 100 + _HALF_CAP  # A's strip north of the river, x < 500
STRIP_TOL = 10.0


def _xy(coords):
    return [(X0 + x, Y0 + y) for x, y in coords]


def make_dataset(folder, *, name_s1="北沟断面"):
    folder.mkdir()
    rivers = gpd.GeoDataFrame(
        {"river_id": ["A", "T1", "T2"], "name": ["甲河", "乙沟", "丙沟"], "level": ["town", "village", "village"],
         "flows_to": ["长江", None, None]},
        geometry=[shapely.LineString(_xy([(10, 200), (1000, 200)])), shapely.LineString(_xy([(300, 400), (300, 200)])),
                  shapely.LineString(_xy([(700, 0), (700, 200)]))], crs=4549)
    sections = gpd.GeoDataFrame(
        {"section_id": ["S1", "S2"], "name": [name_s1, "甲河出口"], "tier": ["town", "municipal"],
         "river_id": ["A", "A"], "target_class": ["III", "III"]},
        geometry=[shapely.Point(X0 + 500, Y0 + 200), shapely.Point(X0 + 950, Y0 + 200)], crs=4549)
    town = gpd.GeoDataFrame({"name": ["东平镇"]}, geometry=[shapely.box(X0, Y0, X0 + 1000, Y0 + 400)], crs=4549)
    demolitions = gpd.GeoDataFrame(
        {"case_id": ["C1"], "kind": ["shack"], "demolished_on": ["2021-05-01"], "area_m2": [400.0]},
        geometry=[shapely.box(X0 + 100, Y0 + 300, X0 + 120, Y0 + 320)], crs=4549)
    for stem, g in (("rivers", rivers), ("sections", sections), ("town", town), ("demolitions", demolitions)):
        g.to_file(folder / f"{stem}.gpkg")
    months = pd.date_range("2022-01-15", periods=12, freq="MS") + pd.Timedelta(days=14)
    rows = [(sid, t.strftime("%Y-%m-%d"), "NH3_N", v) for sid, v in (("S1", 1.8), ("S2", 0.4)) for t in months]
    pd.DataFrame(rows, columns=["section_id", "sampled_at", "parameter", "value"]).to_csv(
        folder / "measurements.csv", index=False)
    grid = np.full((40, 100), CODE["farmland"], dtype="uint8")
    grid[:20, :50] = CODE["greenhouse"]  # rows from the top: y 200..400, columns x 0..500
    with rasterio.open(folder / "landcover_2022.tif", "w", driver="GTiff", width=100, height=40, count=1,
                       dtype="uint8", crs="EPSG:4549", transform=rasterio.Affine(10, 0, X0, 0, -10, Y0 + 400),
                       nodata=0) as ds:
        ds.write(grid, 1)
    return folder


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    base = tmp_path_factory.mktemp("catch")
    data = make_dataset(base / "data")
    out = base / "out"
    result = CliRunner().invoke(cli, ["catchments", str(data), "--year", "2022", "--out", str(out),
                                      "--basemap", "none", "--offline", "--strict", "--lang", "en"])
    return data, out, result


def test_command_writes_every_output(written):
    _, out, result = written
    assert result.exit_code == EXIT_FOUND, result.output  # --strict: S1 misses its target
    assert "2 sections, 2 assessed in 2022, 1 miss their target; 2 greening candidates (12.0 ha)" in result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "catchments.gpkg", "catchments.html", "greening_candidates.csv", "greening_candidates.gpkg",
        "network_problems.csv", "section_drivers.csv", "small_watersheds.csv"]
    layers = [row[0] for row in pyogrio.list_layers(out / "catchments.gpkg")]
    assert layers == ["section_catchments", "section_bank_strips", "river_catchments", "river_bank_strips",
                      "upstream_stretches", "layer_styles"]  # each layer with its QGIS style
    assert not list(out.parent.glob(".out.staging-*"))


def test_catchments_and_strips_match_the_construction(written):
    _, out, _ = written
    sc = gpd.read_file(out / "catchments.gpkg", layer="section_catchments").set_index("section_id")
    assert sc.at["S2", "area_m2"] == pytest.approx(380_000, rel=1e-9)
    assert sc.geometry["S2"].area == pytest.approx(380_000, rel=1e-9)
    assert sc.at["S1", "area_m2"] == pytest.approx(200_000, rel=1e-3)
    assert sc.at["S1", "upstream_river_ids"] == "A,T1" and sc.at["S2", "upstream_river_ids"] == "A,T1,T2"
    assert sc.at["S1", "upstream_length_m"] == pytest.approx(490 + 200)
    assert sc.at["S2", "upstream_length_m"] == pytest.approx(940 + 200 + 200)
    strips = gpd.read_file(out / "catchments.gpkg", layer="section_bank_strips").set_index("section_id")
    assert strips.geometry["S1"].area == pytest.approx(2 * A_NORTH + 20_000, abs=STRIP_TOL)
    assert strips.at["S1", "bank_strip_m2"] == pytest.approx(strips.geometry["S1"].area)
    rc = gpd.read_file(out / "catchments.gpkg", layer="river_catchments")
    assert rc["river_id"].tolist() == ["A"] and rc["area_m2"].iat[0] == pytest.approx(400_000, rel=1e-9)
    up = gpd.read_file(out / "catchments.gpkg", layer="upstream_stretches")
    s1 = up[up["section_id"] == "S1"].groupby("river_id")["length_m"].sum()
    assert s1.to_dict() == pytest.approx({"A": 490.0, "T1": 200.0})


def test_drivers_shares_and_demolitions(written):
    _, out, _ = written
    # the table as people read it (--lang en): words for classes, shares in percent to 0.1 %
    d = pd.read_csv(out / "section_drivers.csv", encoding="utf-8-sig").set_index("section_id")
    assert d.at["S1", "water_class"] == "Class V" and d.at["S1", "meets_target"] == "missed"
    assert d.at["S2", "water_class"] == "Class II" and d.at["S2", "meets_target"] == "met"
    assert d.at["S1", "exceeding_items"] == "NH3_N" and pd.isna(d.at["S2", "exceeding_items"])
    assert d.at["S1", "share_greenhouse (%)"] == pytest.approx(50.0, abs=0.25)
    assert d.at["S2", "share_greenhouse (%)"] == pytest.approx(100 * 100_000 / 380_000, abs=0.05)
    assert d.at["S1", "strip_share_greenhouse (%)"] == pytest.approx(
        100 * (A_NORTH + 20_000) / (2 * A_NORTH + 20_000), abs=0.06)
    assert d.at["S2", "share_natural (%)"] == 0
    assert d["n_demolitions"].tolist() == [1, 1] and d.at["S1", "demolished_m2"] == 400


def test_greening_candidates_and_small_watersheds(written):
    _, out, _ = written
    gc = pd.read_csv(out / "greening_candidates.csv", encoding="utf-8-sig")
    assert gc["landcover"].tolist() == ["greenhouse", "farmland"] and gc["rank"].tolist() == [1, 2]
    assert gc["area_m2"].tolist() == pytest.approx([A_NORTH + 20_000, A_NORTH], abs=STRIP_TOL)
    assert gc["sections"].tolist() == ["S1", "S1"]
    g = gpd.read_file(out / "greening_candidates.gpkg")
    assert g.area.tolist() == pytest.approx(gc["area_m2"].tolist(), abs=0.05)  # the table: 0.1 m²
    w = pd.read_csv(out / "small_watersheds.csv", encoding="utf-8-sig").set_index("indicator")
    assert w.at["outlet_class", "value"] == "II" and w.at["outlet_class", "note"] == "section S2"
    assert float(w.at["outlet_meets_III", "value"]) == 1.0
    assert float(w.at["vegetation_cover", "value"]) == 0.0
    assert pd.read_csv(out / "network_problems.csv", encoding="utf-8-sig").empty


def test_map_has_a_picker_one_tag_per_section_and_hatching(written):
    _, out, _ = written
    text = (out / "catchments.html").read_text(encoding="utf-8")
    assert 'f.properties._s === key' in text  # the filter
    assert 'url(#" + f.properties._h + ")' in text and "dg-hatch-greenhouse" in text
    # every section's catchment is in the page, tagged with its section, and S1 opens picked
    assert len(re.findall(r'"_s": "S1"', text)) >= 2 and len(re.findall(r'"_s": "S2"', text)) >= 2
    assert re.search(r'pick\("S1"\);', text)
    for legend in ("断面是否达标 Section meets its target", "减麦增绿候选地块 Greening candidates",
                   "汇水区 Catchments"):
        assert json.dumps(legend)[1:-1] in text  # inside JSON strings, non-ASCII as \\u escapes
    assert not re.search(r"<script[^>]+src=", text)  # --offline: Leaflet inlined


def test_section_name_is_escaped(tmp_path):
    from dongping_geo import maps
    from dongping_geo.loaders import load_dataset
    from dongping_geo.reports import CatchmentsReport

    ds = load_dataset(make_dataset(tmp_path / "data", name_s1=PAYLOAD), patrols=False)
    report = CatchmentsReport.compute(ds, year=2022)
    m = report.map()
    html = maps.map_html(m)
    assert PAYLOAD not in html
    layers = {c.layer_name: c for c in m._children.values() if type(c).__name__ == "_GeoJsonLayer"}
    props = [f["properties"] for f in layers["断面达标情况 Sections by compliance"].data["features"]]
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in props[0]["_p"] and "<script>" not in props[0]["_p"]
    # the picker's list gets the name as data, set with textContent; tojson escapes < and >
    picker = next(c for c in m._children.values() if type(c).__name__ == "_SectionPicker")
    assert picker.choices[0] == ["S1", f"S1 {PAYLOAD}"]
    assert json.dumps(f"S1 {PAYLOAD}").replace("<", "\\u003c").replace(">", "\\u003e") in html
    assert "textContent = c[1]" in html


def test_bad_inputs_exit_2_and_write_nothing(tmp_path):
    data = make_dataset(tmp_path / "data")
    out = tmp_path / "out"
    r = CliRunner().invoke(cli, ["catchments", str(data), "--year", "2021", "--out", str(out)])
    assert r.exit_code == EXIT_BAD_INPUT and "landcover_2021.tif" in r.output
    (data / "landcover_2022.tif").rename(data / "landcover_2021.tif")
    r = CliRunner().invoke(cli, ["catchments", str(data), "--year", "2021", "--out", str(out)])
    assert r.exit_code == EXIT_BAD_INPUT and "2022" in r.output  # no measurements in 2021
    assert not out.exists()
    r = CliRunner().invoke(cli, ["catchments", str(data), "--year", "2022", "--out", str(data / "x")])
    assert r.exit_code == EXIT_BAD_INPUT


def test_without_strict_a_miss_exits_0(tmp_path):
    data = make_dataset(tmp_path / "data")
    r = CliRunner().invoke(cli, ["catchments", str(data), "--year", "2022", "--out", str(tmp_path / "o"),
                                 "--basemap", "none"])
    assert r.exit_code == EXIT_OK, r.output


@pytest.mark.browser
def test_picking_a_section_shows_only_its_catchment(browser_page, written):
    _, out, _ = written
    page = browser_page.open(out / "catchments.html", block_network=True)
    assert page.errors == [] and page.blocked == []
    picked = "document.querySelector('.leaflet-container').getAttribute('data-dg-picked')"
    hatched = ("Array.from(document.querySelectorAll('.leaflet-overlay-pane path'))"
               ".filter(e => (e.getAttribute('fill') || '').startsWith('url(#dg-hatch-')).length")
    assert page.page.evaluate(picked) == "S1"  # the failing section opens picked
    assert page.page.evaluate(hatched) == 2  # both candidates drawn with the hatch pattern
    # drawn: 3 rivers + 1 catchment + S1's 3 upstream stretches + 2 candidates + 2 sections
    assert page.feature_count() == 3 + 1 + 3 + 2 + 2
    page.page.select_option(".dg-picker select", "S2")
    page.page.wait_for_timeout(100)
    assert page.page.evaluate(picked) == "S2"
    assert page.feature_count() == 3 + 1 + 6 + 2 + 2  # S2: A's 4 stretches above it, T1, T2
    page.page.select_option(".dg-picker select", "")
    assert page.feature_count() == 3 + 0 + 0 + 2 + 2
    page.screenshot("catchments_none")


# --- the sample dataset -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_run(sample_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("sample") / "out"
    result = CliRunner().invoke(cli, ["catchments", str(sample_dir), "--year", "2022", "--out", str(out),
                                      "--basemap", "none", "--lang", "en"])
    assert result.exit_code == EXIT_OK, result.output
    manifest = json.loads((sample_dir / "manifest.json").read_text(encoding="utf-8"))
    return out, manifest


def _need(manifest, *keys):
    node = manifest
    for k in keys:
        if not isinstance(node, dict) or k not in node:
            pytest.skip(f"manifest.json has no {'.'.join(keys)} yet (the sample data with flow directions "
                        "and 2022 runoff failures, issue 16, has not landed)")
        node = node[k]
    return node


def test_sample_command_outputs(sample_run, sample_dir):
    import dongping_geo as dg
    from dongping_geo import water_quality as wq

    out, manifest = sample_run
    ds = dg.load_dataset(sample_dir, patrols=False)
    d = pd.read_csv(out / "section_drivers.csv", encoding="utf-8-sig")
    assert sorted(d["section_id"]) == sorted(ds.sections["section_id"]) and len(d) == 55
    a = wq.assess_sections(ds.measurements, ds.sections, period="Y")
    a = a[a["period"].astype(str) == "2022"].set_index("section_id")
    met = d.set_index("section_id")["meets_target"].eq("met")
    assert met.to_dict() == a["meets_target"].astype(bool).to_dict()
    sc = gpd.read_file(out / "catchments.gpkg", layer="section_catchments")
    town_m2 = ds.extra["town"].area.sum()
    assert (sc["area_m2"] > 0).all() and (sc["area_m2"] <= town_m2 * (1 + 1e-9)).all()
    shares = d[[f"share_{k} (%)" for k in ("farmland", "greenhouse", "built_up", "natural")]].sum(axis=1)
    assert shares.to_numpy() == pytest.approx(100.0, abs=0.21)  # four shares rounded to 0.1 %
    rc = gpd.read_file(out / "catchments.gpkg", layer="river_catchments")
    levels = ds.rivers.set_index("river_id")["level"]
    assert set(levels[rc["river_id"]]) <= {"town", "district"}
    html = (out / "catchments.html").read_text(encoding="utf-8")
    for sid in ds.sections["section_id"]:  # every section can be picked
        assert json.dumps(str(sid)) in html


def test_sample_upstream_sets_equal_the_manifest(sample_run):
    out, manifest = sample_run
    expected = _need(manifest, "river_network", "upstream_rivers")
    sc = gpd.read_file(out / "catchments.gpkg", layer="section_catchments")
    got = {s: sorted(u.split(",")) for s, u in zip(sc["section_id"], sc["upstream_river_ids"], strict=True)}
    assert got == {s: sorted(v) for s, v in expected.items()}
    # with every flow direction given, no river is left without a single downstream path
    assert pd.read_csv(out / "network_problems.csv", encoding="utf-8-sig").empty


def test_sample_runoff_sections_fail_with_greenhouses_in_their_bank_strips(sample_run):
    out, manifest = sample_run
    runoff = set(_need(manifest, "water_quality", "design", "runoff_2022_sections"))
    d = pd.read_csv(out / "section_drivers.csv", encoding="utf-8-sig").set_index("section_id")
    assert d.loc[sorted(runoff), "meets_target"].eq("missed").all()  # they miss their target in 2022
    gc = pd.read_csv(out / "greening_candidates.csv", encoding="utf-8-sig")
    listed = {s for cell in gc["sections"].dropna() for s in str(cell).split(",")}
    assert runoff <= listed  # each has greenhouse or farmland parcels in its bank strip
    passing = d[d["meets_target"].eq("met")]
    col = "strip_share_greenhouse (%)"
    assert d.loc[sorted(runoff), col].mean() > passing[col].mean()


def test_demo_runs_the_catchments_step(sample_dir, tmp_path):
    from dongping_geo.cli.demo import _demo_steps

    steps = dict(_demo_steps(sample_dir, tmp_path))
    assert steps["catchments"] == [str(sample_dir), "--year", "2022", "--out", str(tmp_path / "catchments"), "--offline"]
    assert "catchments" not in dict(_demo_steps(tmp_path, tmp_path))  # no raster, no town: skipped


def test_on_error_report_writes_rejected_rows(tmp_path):
    data = make_dataset(tmp_path / "data")
    with open(data / "measurements.csv", "a", encoding="utf-8") as fh:
        fh.write("S9,2022-03-15,NH3_N,0.4\n")  # a section the layer does not have
    out = tmp_path / "out"
    r = CliRunner().invoke(cli, ["catchments", str(data), "--year", "2022", "--out", str(out), "--basemap", "none",
                                 "--on-error", "report"])
    assert r.exit_code == EXIT_FOUND, r.output
    rejected = pd.read_csv(out / "rejected.csv", encoding="utf-8-sig")
    assert len(rejected) == 1 and "S9" in rejected.to_csv()
    assert len(pd.read_csv(out / "section_drivers.csv", encoding="utf-8-sig")) == 2
