"""Issue 15, phase 2: the sample's planted problems and signboard faults, the problems
command, patrol-report's patrol-quality table, the problems map and the dataset loader."""

from __future__ import annotations

import json
import re
import shutil

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from dongping_geo import problems as P
from dongping_geo.cli import cli
from dongping_geo.io import write_layers
from dongping_geo.loaders import load_dataset
from dongping_geo.maps import add_problem_layers, base_map, map_html, problems_map
from dongping_geo.schemas import CATEGORY_LABELS


@pytest.fixture(scope="module")
def ds(sample_dir):
    return load_dataset(sample_dir, patrols=False)


@pytest.fixture(scope="module")
def planted(ds):
    return ds.manifest["problems"], ds.manifest["signboards"]


# --- the sample's planted cases: 100 % precision and recall ------------------------------


@pytest.mark.parametrize("as_of", ["manifest", None])
def test_overdue_unassigned_and_open_are_exactly_the_planted_ones(ds, planted, as_of):
    man = planted[0]
    when = man["as_of"] if as_of == "manifest" else None  # None: the latest date in the data
    overdue = P.overdue_problems(ds.problems, ds.rivers, as_of=when, overdue_days=man["overdue_days"])
    assert sorted(overdue["problem_id"]) == man["overdue"]
    assert sorted(ds.problems.loc[ds.problems["status"] == "reported", "problem_id"]) == man["unassigned"]
    summary = P.problem_summary(ds.problems, ds.rivers, by=(), as_of=when)
    assert int(summary["open"].iloc[0]) == len(man["overdue"]) + len(man["open_not_overdue"])
    assert int(summary["overdue"].iloc[0]) == len(man["overdue"])
    assert int(summary["resolved_late"].iloc[0]) == len(man["resolved_late"])
    assert int(summary["problems"].iloc[0]) == man["count"] == len(ds.problems)


def test_recurring_are_exactly_the_planted_pairs(ds, planted):
    man = planted[0]
    found = P.recurring_problems(ds.problems, **man["rules"])
    assert sorted(zip(found["problem_id"], found["earlier_id"], strict=True)) == sorted(
        (r["problem_id"], r["earlier_id"]) for r in man["recurring"])


def test_signboard_faults_are_exactly_the_planted_ones(ds, planted):
    man = planted[1]
    checks = P.check_signboards(ds.signboards, ds.rivers, chief_since=man["chief_since"],
                                max_distance_m=man["max_distance_m"], grace_days=man["grace_days"])
    found = {c: sorted(g["river_id"] if c == "no_board" else g["board_id"]) for c, g in checks.groupby("board_check")}
    expected = {c: man[c] for c in ("no_board", "wrong_chief", "stale", "too_far", "unknown_river")}
    assert found == expected
    assert len(ds.signboards) == man["count"]


def test_sample_problems_are_realistic(ds):
    p = ds.problems
    assert 300 <= len(p) <= 800 and set(p["reported_at"].dt.year) == {2022}
    assert p["kind"].nunique() == 8 and (p["kind"] == "floating_debris").mean() > 0.2
    rivers = ds.rivers.set_index("river_id")
    assert (p["reporter"].to_numpy() == rivers.loc[p["river_id"], "chief"].to_numpy()).all()
    dist = shapely.distance(p.geometry.values, rivers.loc[p["river_id"]].geometry.values)
    assert dist.max() < 15  # on the bank of its river
    took = (p["resolved_at"] - p["reported_at"]).dt.total_seconds() / 86400
    assert 1 < took.median() < 5
    town = ds.extra["town"].geometry.iloc[0]
    assert p.within(town).all() and ds.signboards.within(town).all()


# --- the problems command ---------------------------------------------------------------


def test_problems_command_writes_tables_map_and_exits_1_when_strict(sample_dir, ds, planted, tmp_path):
    out = tmp_path / "out"
    args = ["problems", str(sample_dir), "--start", "2022-01-01", "--end", "2022-12-31", "--out", str(out),
            "--basemap", "none", "--lang", "en", "--offline"]
    res = CliRunner().invoke(cli, [*args, "--strict"])
    assert res.exit_code == 1, res.output
    for name in ("problem_summary", "problems_by_river", "problems_by_chief", "problems_by_month",
                 "problems_by_region", "overdue",
                 "recurring", "hotspots", "signboard_check"):
        raw = (out / f"{name}.csv").read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), name
    overdue = pd.read_csv(out / "overdue.csv", encoding="utf-8-sig")
    assert sorted(overdue["problem_id"]) == planted[0]["overdue"]
    by_region = pd.read_csv(out / "problems_by_region.csv", encoding="utf-8-sig").set_index("region")["problems"]
    region = ds.rivers.set_index("river_id").loc[ds.problems["river_id"], "region"]
    words = {code: en for code, (_, en) in CATEGORY_LABELS["region"].items()}  # --lang en: values as words
    assert by_region.to_dict() == region.map(words).value_counts().to_dict()
    html = (out / "problems_map.html").read_text(encoding="utf-8")
    assert html.count("L.marker(") == len(planted[0]["overdue"]) + len(planted[0]["open_not_overdue"])
    assert "markerClusterGroup" in html and "cdnjs" not in html
    res = CliRunner().invoke(cli, [*args[:-1]])  # online map, no --strict: exit 0, folder replaced
    assert res.exit_code == 0, res.output


def test_problems_command_for_a_month_assesses_at_its_end(sample_dir, ds, tmp_path):
    # Expected by hand: reported by 31 January, not handled by then, reported 7+ days before.
    end = pd.Timestamp("2022-02-01", tz="Asia/Shanghai")
    p = ds.problems
    still_open = p["status"].isin(["reported", "assigned"]) | (p["resolved_at"] >= end)
    expected = p[(p["reported_at"] < end) & still_open & (end - p["reported_at"] >= pd.Timedelta(days=7))]
    out = tmp_path / "jan"
    res = CliRunner().invoke(cli, ["problems", str(sample_dir), "--start", "2022-01-01", "--end", "2022-01-31",
                                   "--out", str(out), "--basemap", "none", "--strict", "--lang", "en"])
    assert res.exit_code == (1 if len(expected) else 0), res.output
    got = pd.read_csv(out / "overdue.csv", encoding="utf-8-sig")
    assert sorted(got["problem_id"]) == sorted(expected["problem_id"])
    summary = pd.read_csv(out / "problem_summary.csv", encoding="utf-8-sig")
    assert int(summary["problems"].iloc[0]) == int((p["reported_at"] < end).sum())


def test_problems_command_without_problems_layer_is_bad_input(sample_dir, tmp_path):
    folder = tmp_path / "ds"
    folder.mkdir()
    for p in sample_dir.glob("rivers.*"):
        shutil.copy(p, folder / p.name)
    res = CliRunner().invoke(cli, ["problems", str(folder), "--start", "2022-01-01", "--end", "2022-12-31",
                                   "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "problems layer" in res.output


def test_patrol_report_writes_patrol_quality_and_counts_flagged_patrols(sample_dir, ds, tmp_path):
    out = tmp_path / "patrol"
    res = CliRunner().invoke(cli, ["patrol-report", str(sample_dir), "--start", "2022-06-01", "--end", "2022-06-30",
                                   "--out", str(out), "--basemap", "none", "--by", "region", "--lang", "en"])
    assert res.exit_code == 0, res.output
    quality = pd.read_csv(out / "patrol_quality.csv", encoding="utf-8-sig")
    n = int(quality["flagged"].sum())
    assert f"Flagged patrols: {n} / {len(quality)}" in (out / "index.html").read_text(encoding="utf-8")
    assert f"{n} patrols flagged" in res.output
    # Each map shows the problems of its rivers open at the end of June.
    open_then = P.problem_summary(ds.problems, ds.rivers, by=("region",), as_of="2022-06-30 23:59:59")
    # problem markers carry the dg-problem icon class (river-name labels are markers too)
    shown = {p.stem.split(" ")[-1].lower(): p.read_text(encoding="utf-8").count('"className": "dg-problem"')
             for p in (out / "maps").glob("*.html")}
    assert shown == {r: int(n) for r, n in zip(open_then["region"], open_then["open"], strict=True)}


# --- the dataset loader -------------------------------------------------------------------


def test_load_dataset_reads_chinese_named_layers_from_a_geopackage(sample_dir, ds, tmp_path):
    folder = tmp_path / "ds"
    folder.mkdir()
    for p in sample_dir.glob("rivers.*"):
        shutil.copy(p, folder / p.name)
    write_layers({"巡河问题": ds.problems.head(5), "河长公示牌": ds.signboards.head(3)}, folder / "河长制.gpkg")
    got = load_dataset(folder, patrols=False)
    assert got.problems["problem_id"].tolist() == ds.problems["problem_id"].head(5).tolist()
    assert got.signboards["board_id"].tolist() == ds.signboards["board_id"].head(3).tolist()
    assert "河长制" not in got.extra


# --- maps ---------------------------------------------------------------------------------


def _hand_made():
    rivers = gpd.GeoDataFrame({"river_id": ["R1"], "name": ["<b>河</b>"], "chief": ["王"]},
                              geometry=[shapely.LineString([(640000, 3510000), (641000, 3510000)])], crs=4549)
    problems = gpd.GeoDataFrame({
        "problem_id": ["Q1", "Q2", "Q3", "Q4"], "river_id": ["R1"] * 4,
        "kind": ["dumping", "outfall", "dumping", "other"],
        "status": ["reported", "assigned", "closed", "assigned"],
        "reported_at": ["2022-03-01", "2022-03-18", "2022-03-01", "2022-03-02"],
        "resolved_at": [None, None, "2022-03-03", None],
        "description": ["<script>alert(1)</script>", "${alert(2)}", "ok", "`x`"],
        "photo": ["javascript:alert(3)", 'https://x.org/a.jpg"onmouseover="alert(4)', "",
                  "https://photos.example.org/q4.jpg?a=1&b=2"],
    }, geometry=shapely.points([(640100, 3510005), (640300, 3510005), (640500, 3510005), (640700, 3510005)]),
        crs=4549)
    return rivers, problems


def test_problems_map_escapes_popups_and_links_only_http_photos():
    rivers, problems = _hand_made()
    page = map_html(problems_map(problems, rivers, basemap="none", as_of="2022-03-20"))
    assert page.count("L.marker(") == 3  # Q3 is closed
    assert "<script>alert(1)" not in page and "${alert(2)}" not in page and "`x`" not in page
    # The popups travel as JSON strings; decoded, they are escaped HTML.
    popups = [json.loads(s) for s in re.findall(r'\.bindPopup\(("(?:[^"\\]|\\.)*")', page)]
    assert len(popups) == 3
    text = "".join(popups)
    assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "${" not in text and "&#36;{alert(2)}" in text and "&#96;x&#96;" in text
    assert "javascript:alert(3)" in text and 'href="javascript' not in text  # shown as text
    assert 'onmouseover="' not in text  # the address with a quote is text, not a link
    assert re.findall(r"<a href=[^>]*>", text) == [
        '<a href="https://photos.example.org/q4.jpg?a=1&amp;b=2" target="_blank" rel="noopener noreferrer">']


def test_overdue_markers_are_ringed_and_counted_in_the_layer_name():
    rivers, problems = _hand_made()
    m = base_map(rivers, basemap="none")
    add_problem_layers(m, problems, as_of="2022-03-20", cluster=False)
    html = map_html(m)
    # Q1 (19 days) and Q4 (18 days) overdue, Q2 (2 days) open only.
    assert "overdue 2)" in html
    assert html.count("border:3px solid #d7191c") == 2
    assert "markerClusterGroup" not in html


def test_offline_problems_map_inlines_markercluster(tmp_path):
    from dongping_geo.maps import save_map
    from dongping_geo.maps._offline import external_references

    rivers, problems = _hand_made()
    path = save_map(problems_map(problems, rivers, basemap="none", as_of="2022-03-20"), tmp_path / "m.html",
                    offline=True)
    text = path.read_text(encoding="utf-8")
    assert "L.MarkerClusterGroup" in text and ".marker-cluster" in text
    assert external_references(text) == []


def test_validate_checks_a_problems_export_row_by_row(sample_dir, tmp_path):
    lines = (sample_dir / "problems.csv").read_text(encoding="utf-8").splitlines()[:4]
    lines[2] = lines[2].replace(lines[2].split(",")[3], "飞碟", 1)  # an unknown kind on line 3
    path = tmp_path / "巡河问题.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["validate", str(path)])
    assert res.exit_code == 1, res.output
    assert "problems" in res.output and "飞碟" in res.output and "kind" in res.output
