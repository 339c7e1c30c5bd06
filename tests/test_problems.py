"""Tests for dongping_geo.problems (issue 15): every rule just inside and just outside its threshold.

Every expected value is known by construction (hand-placed points and times), or computed by
a brute-force reference written here, never by the code under test.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dongping_geo as dg
from dongping_geo._patrol_quality import FLAGS
from dongping_geo.errors import ConfigError, SchemaError
from dongping_geo.patrol import compliance
from dongping_geo.problems import (
    _BOARD_CHECKS,
    check_signboards,
    overdue_problems,
    patrol_quality,
    problem_hotspots,
    problem_summary,
    recurring_problems,
)
from dongping_geo.schemas import CATEGORY_COLOURS, CATEGORY_LABELS, OUTPUT_FIELD_LABELS, get_schema

CRS = 4549
X0, Y0 = 640_000.0, 3_510_000.0
T0 = pd.Timestamp("2024-03-05 09:00", tz="Asia/Shanghai")


def rivers_gdf(lines, ids=None, **cols) -> gpd.GeoDataFrame:
    ids = ids or [f"R{i}" for i in range(len(lines))]
    return gpd.GeoDataFrame({"river_id": ids, **cols},
                            geometry=[shapely.affinity.translate(g, X0, Y0) for g in lines], crs=CRS)


def walk(xy, *, patrol="p1", chief="王", t0=T0, every_s=60.0, times=None) -> gpd.GeoDataFrame:
    xy = np.asarray(xy, dtype=float)
    if times is None:
        times = t0 + pd.to_timedelta(np.arange(len(xy)) * every_s, unit="s")
    return gpd.GeoDataFrame({"patrol_id": [patrol] * len(xy), "chief": [chief] * len(xy), "timestamp": times},
                            geometry=shapely.points(xy + [X0, Y0]), crs=CRS)


def line_xy(x0, x1, step, y=0.0):
    xs = np.arange(x0, x1 + 1e-9, step)
    return np.column_stack([xs, np.full(len(xs), y)])


def concat(*gdfs) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(pd.concat(gdfs, ignore_index=True), crs=CRS)


# R0: 2 km river of chief 王 (y = 0); R1: a 500 m ditch of chief 李 (y = 1000).
RIVERS = rivers_gdf(
    [shapely.LineString([(0, 0), (2000, 0)]), shapely.LineString([(0, 1000), (500, 1000)])],
    chief=["王", "李"], level=["town", "town"],
)


def quality(fixes, **kw) -> pd.DataFrame:
    return patrol_quality(fixes, RIVERS, **kw).set_index("patrol_id")


# --- schema tables ------------------------------------------------------------------

def test_every_problem_category_has_a_label_and_a_colour():
    kinds = get_schema("problems").field("kind").values
    statuses = get_schema("problems").field("status").values
    for key, values in (("kind", kinds), ("status", statuses), ("board_check", _BOARD_CHECKS)):
        for v in values:
            zh, en = CATEGORY_LABELS[key][v]
            assert any("\u4e00" <= c <= "\u9fff" for c in zh) and en.isascii(), (key, v)
            assert CATEGORY_COLOURS[key][v].startswith("#"), (key, v)
    for flag in FLAGS:  # the flag columns have Chinese names for tables
        assert any("\u4e00" <= c <= "\u9fff" for c in OUTPUT_FIELD_LABELS[flag])


def test_load_problems_maps_chinese_spellings(tmp_path):
    spellings = {
        "水面漂浮物": "floating_debris", "漂浮物": "floating_debris", "河面漂浮物": "floating_debris",
        "排污口": "outfall", "偷排": "outfall", "偷排漏排": "outfall", "污水直排": "outfall",
        "涉河违建": "encroachment", "违章搭建": "encroachment", "乱堆乱放": "dumping", "乱堆放": "dumping",
        "护岸损坏": "bank_damage", "河岸坍塌": "bank_damage", "水体异常": "water_anomaly",
        "水体黑臭": "water_anomaly", "水体发黑": "water_anomaly", "公示牌破损": "signboard_damage",
        "公示牌损坏": "signboard_damage", "其他": "other",
    }
    statuses = {"已上报": "reported", "待处理": "reported", "已交办": "assigned", "处理中": "assigned",
                "已办结": "resolved", "已处理": "resolved", "已销号": "closed"}
    n = len(spellings)
    status_in = (list(statuses) * n)[:n]
    df = pd.DataFrame({
        "问题编号": [f"Q{i}" for i in range(n)], "经度": 121.70, "纬度": 31.70,
        "上报时间": "2024年3月5日 09:00", "问题类型": list(spellings), "处理状态": status_in,
    })
    df.to_csv(tmp_path / "problems.csv", index=False, encoding="utf-8-sig")
    out = dg.load_problems(tmp_path / "problems.csv")
    assert out["kind"].tolist() == list(spellings.values())
    assert out["status"].tolist() == [statuses[s] for s in status_in]
    assert out.crs.to_epsg() == 4549 and out["reported_at"].iloc[0] == pd.Timestamp("2024-03-05 09:00", tz="Asia/Shanghai")


def test_load_signboards_xlsx_and_missing_columns(tmp_path):
    pd.DataFrame({"公示牌编号": ["B1"], "lon": [121.7], "lat": [31.7], "河道编码": ["R1"], "公示河长": ["张三"],
                  "更新日期": ["2024/1/2"]}).to_excel(tmp_path / "boards.xlsx", index=False)
    b = dg.load_signboards(tmp_path / "boards.xlsx")
    assert b[["board_id", "river_id", "chief_on_board"]].values.tolist() == [["B1", "R1", "张三"]]
    assert b["updated_on"].iloc[0] == pd.Timestamp("2024-01-02", tz="Asia/Shanghai")
    pd.DataFrame({"公示牌编号": ["B1"], "x坐标": [1]}).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(SchemaError, match="lacks coordinate"):
        dg.load_signboards(tmp_path / "bad.csv")


# --- patrol quality -----------------------------------------------------------------

@pytest.mark.parametrize(("last_step_s", "flag"), [(60.0, False), (54.0, True)])
def test_too_short_time(last_step_s, flag):
    xy = line_xy(0, 1000, 100)  # 11 fixes, 1000 m
    times = T0 + pd.to_timedelta(np.r_[np.arange(10) * 60.0, 540 + last_step_s], unit="s")
    q = quality(walk(xy, times=times)).loc["p1"]
    assert q.duration_min == pytest.approx((540 + last_step_s) / 60)
    assert q.too_short_time == flag and not q.too_short_distance


@pytest.mark.parametrize(("end_x", "flag"), [(1000.0, False), (990.0, True)])
def test_too_short_distance(end_x, flag):
    xy = np.r_[line_xy(0, 900, 100), [[end_x, 0.0]]]
    q = quality(walk(xy)).loc["p1"]
    assert q.length_m == pytest.approx(end_x)
    assert q.too_short_distance == flag and not q.too_short_time


@pytest.mark.parametrize(("every_s", "flag"), [(30.0, False), (29.4, True)])
def test_whole_short_ditch_needs_its_length_and_time_pro_rata(every_s, flag):
    # 500 m ditch walked end to end: 1 km rule waived, 10 min × 500/1000 = 5 min needed.
    q = quality(walk(line_xy(0, 500, 50, y=1000), chief="李", every_s=every_s)).loc["p1"]
    assert q.whole_river_m == pytest.approx(500.0)
    assert not q.too_short_distance
    assert q.too_short_time == flag


@pytest.mark.parametrize(("end_x", "flag"), [(430.0, False), (410.0, True)])
def test_part_of_a_ditch_is_too_short(end_x, flag):
    # Covered = walked + 30 m tolerance beyond the end: 460 m ≥ 0.9 × 500 inside, 440 m outside.
    xy = np.r_[line_xy(0, 400, 50, y=1000), [[end_x, 1000.0]]]
    q = quality(walk(xy, chief="李", every_s=60)).loc["p1"]
    assert q.too_short_distance == flag


@pytest.mark.parametrize(("x", "flag"), [(50.0, True), (50.5, False)])
def test_stationary(x, flag):
    # 15 fixes at the origin, one at x, four far along the river: median point is the origin.
    xy = np.r_[np.zeros((15, 2)), [[x, 0.0]], [[200, 0], [400, 0], [600, 0], [800, 0]]]
    q = quality(walk(xy)).loc["p1"]
    assert q.stationary_share == pytest.approx(0.8 if flag else 0.75)
    assert q.stationary == flag


@pytest.mark.parametrize(("every_s", "flag"), [(14.4, False), (14.3, True)])
def test_too_fast(every_s, flag):
    # 100 m every 14.4 s is exactly 25 km/h, the electric-bicycle limit of GB 17761-2018.
    q = quality(walk(line_xy(0, 2000, 100), every_s=every_s)).loc["p1"]
    assert q.speed_kmh == pytest.approx(100 / every_s * 3.6)
    assert q.too_fast == flag


def test_speed_ignores_time_gaps():
    times = T0 + pd.to_timedelta(np.r_[np.arange(11) * 60.0, 3600 + np.arange(10) * 60.0], unit="s")
    xy = np.r_[line_xy(0, 1000, 100), line_xy(1100, 2000, 100)]
    q = quality(walk(xy, times=times)).loc["p1"]
    assert q.speed_kmh == pytest.approx(6.0)  # 100 m / min; the hour-long gap is not a link


@pytest.mark.parametrize(("n_far", "flag"), [(5, False), (6, True)])
def test_far_from_own_rivers_share(n_far, flag):
    xy = np.r_[line_xy(0, (9 - n_far) * 100, 100), line_xy(1000, 1000 + (n_far - 1) * 100, 100, y=150)]
    q = quality(walk(xy)).loc["p1"]
    assert q.far_share == pytest.approx(n_far / 10)
    assert q.far_from_own_rivers == flag


@pytest.mark.parametrize(("y", "flag"), [(100.0, False), (100.5, True)])
def test_far_from_own_rivers_distance(y, flag):
    xy = line_xy(0, 1500, 100, y=y)
    assert quality(walk(xy)).loc["p1"].far_from_own_rivers == flag


def test_far_counts_only_the_chiefs_own_rivers_and_is_unknown_without_them():
    on_ditch = line_xy(0, 500, 50, y=1000)  # 李's ditch
    q = quality(concat(walk(on_ditch, patrol="wang", chief="王"), walk(on_ditch, patrol="li", chief="李"),
                       walk(on_ditch, patrol="zhao", chief="赵")))
    assert bool(q.loc["wang", "far_from_own_rivers"]) is True
    assert bool(q.loc["li", "far_from_own_rivers"]) is False
    assert pd.isna(q.loc["zhao", "far_from_own_rivers"])


@pytest.mark.parametrize(("shift_m", "flag"), [(0.0, True), (0.9, True), (1.1, False)])
def test_duplicate_upload(shift_m, flag):
    xy = line_xy(0, 1500, 100)
    copy = xy.copy()
    copy[7, 1] += shift_m
    fixes = concat(walk(xy, patrol="a"), walk(copy, patrol="b", t0=T0 + pd.Timedelta(days=1)))
    q = quality(fixes)
    assert not q.loc["a", "duplicate"]
    assert q.loc["b", "duplicate"] == flag
    assert q.loc["b", "duplicate_of"] == ("a" if flag else None)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.floats(-30, 30), st.floats(-30, 30)), min_size=3, max_size=40),
       st.integers(1, 400), st.floats(5, 120))
def test_a_reupload_is_a_duplicate_and_keeps_the_other_flags(steps, days_later, every_s):
    xy = np.cumsum(np.asarray(steps), axis=0) + [0.0, 10.0]
    fixes = concat(walk(xy, patrol="a", every_s=every_s),
                   walk(xy, patrol="b", every_s=every_s, t0=T0 + pd.Timedelta(days=days_later)))
    q = quality(fixes)
    assert q.loc["b", "duplicate"] and q.loc["b", "duplicate_of"] == "a" and not q.loc["a", "duplicate"]
    others = ["too_short_time", "too_short_distance", "stationary", "too_fast", "far_from_own_rivers"]
    assert q.loc["a", others].tolist() == q.loc["b", others].tolist()


def test_duplicate_needs_the_same_fixes():
    xy = line_xy(0, 1500, 100)
    q = quality(concat(walk(xy, patrol="a"), walk(xy[:-1], patrol="b")))
    assert not q["duplicate"].any()


def test_clean_patrol_has_no_flag_and_bad_thresholds_are_refused():
    q = quality(walk(line_xy(0, 1500, 100))).loc["p1"]
    assert not q.flagged and q.duration_min == 15 and q.length_m == pytest.approx(1500)
    with pytest.raises(ConfigError, match="far_share"):
        quality(walk(line_xy(0, 1500, 100)), far_share=1.5)


def test_compliance_valid_only():
    rivers = RIVERS.assign(level=["town", "town"])
    ditch = walk(line_xy(0, 500, 50, y=1000), patrol="ditch", chief="李", every_s=36)  # 6 min, whole ditch
    fast = walk(line_xy(0, 2000, 100), patrol="car", chief="王", every_s=10)  # 36 km/h, 3 min 10 s
    # (5 m off the car's line: the same fixes would make it a duplicate upload of the car's track)
    slow = walk(line_xy(0, 2000, 100, y=5), patrol="walk", chief="王", every_s=60, t0=T0 + pd.Timedelta(days=1))
    fixes = concat(ditch, fast, slow)
    plain = compliance(rivers, fixes, start="2024-03-01", end="2024-03-31").by_river.set_index("river_id")
    valid = compliance(rivers, fixes, start="2024-03-01", end="2024-03-31",
                       valid_only=True).by_river.set_index("river_id")
    # The ditch walked whole (500 m in 6 min) counts under both: the short-river allowance
    # (5 min for 500 m) is one rule, patrol_rules.yaml patrol_minimum.whole_river_share.
    assert plain.loc["R1", "patrols_counted"] == 1 and valid.loc["R1", "patrols_counted"] == 1
    assert plain.loc["R0", "patrols_counted"] == 1 and valid.loc["R0", "patrols_counted"] == 1
    # the car's 3 min 10 s patrol is under the 10 minutes: too short, under both
    assert plain.loc["R0", "not_counted_too_short"] == 1 and valid.loc["R0", "not_counted_too_short"] == 1
    looser = compliance(rivers, fixes, start="2024-03-01", end="2024-03-31",
                        valid_only={"min_minutes": 3, "max_kmh": 40}).by_river.set_index("river_id")
    assert looser.loc["R0", "patrols_counted"] == 2
    with pytest.raises(ConfigError, match="unknown patrol-quality threshold"):
        compliance(rivers, fixes, start="2024-03-01", end="2024-03-31", valid_only={"speed": 3})


# --- problem summary and overdue ---------------------------------------------------

def problems_df(rows) -> pd.DataFrame:
    cols = ["problem_id", "river_id", "kind", "status", "reported_at", "resolved_at"]
    return pd.DataFrame(rows, columns=cols)


PROBLEMS = problems_df([
    ("Q1", "R0", "outfall", "resolved", "2024-03-01", "2024-03-04"),
    ("Q2", "R0", "dumping", "closed", "2024-03-02", "2024-03-12"),
    ("Q3", "R0", "outfall", "reported", "2024-03-03", None),
    ("Q4", "R1", "other", "assigned", "2024-03-09", None),
    ("Q5", "R1", "other", "reported", "2024-03-03 00:00:01", None),
])


def test_summary_open_overdue_as_of():
    s = problem_summary(PROBLEMS, RIVERS, as_of="2024-03-10").set_index("river_id")
    # Q2 was resolved after 03-10, so it was open then (8 days: overdue); Q3 exactly 7 days: overdue;
    # Q5 one second under 7 days and Q4 1 day: open, not overdue.
    assert s.loc["R0", ["problems", "open", "overdue"]].tolist() == [3, 2, 2]
    assert s.loc["R1", ["problems", "open", "overdue"]].tolist() == [2, 2, 0]
    assert s.loc["R0", "median_days_to_resolve"] == 3.0
    assert s.loc["R0", ["kind_outfall", "kind_dumping", "kind_other"]].tolist() == [2, 1, 0]
    assert s.loc["R0", ["status_resolved", "status_closed", "status_reported"]].tolist() == [1, 1, 1]
    late = problem_summary(PROBLEMS, RIVERS).set_index("river_id")  # as of the latest date, 03-12
    assert late.loc["R0", "open"] == 1 and late.loc["R0", "median_days_to_resolve"] == 6.5
    # Q2 took 10 days (≥ 7: late), Q1 3 days.
    assert late.loc["R0", "resolved_late"] == 1 and s.loc["R0", "resolved_late"] == 0
    assert problem_summary(PROBLEMS, RIVERS, overdue_days=10).set_index("river_id").loc["R0", "resolved_late"] == 1
    assert problem_summary(PROBLEMS, RIVERS, overdue_days=10.5).set_index("river_id").loc["R0", "resolved_late"] == 0


def test_summary_groupings_and_percentile():
    days = [1, 2, 3, 4, 10]
    rows = [(f"Q{i}", "R0", "outfall", "resolved", "2024-03-01", pd.Timestamp("2024-03-01") + pd.Timedelta(days=d))
            for i, d in enumerate(days)]
    rows.append(("Q9", "R1", "outfall", "reported", "2024-04-01", None))
    s = problem_summary(problems_df(rows), RIVERS, by=("chief",)).set_index("chief")
    assert s.loc["王", "p90_days_to_resolve"] == pytest.approx(np.percentile(days, 90))
    assert s.loc["李", "problems"] == 1 and np.isnan(s.loc["李", "median_days_to_resolve"])
    months = problem_summary(problems_df(rows), by=("month",))
    assert months[["month", "problems"]].values.tolist() == [["2024-03", 5], ["2024-04", 1]]
    total = problem_summary(problems_df(rows), by=())
    assert len(total) == 1 and total["problems"].iloc[0] == 6
    with pytest.raises(ConfigError, match="cannot group"):
        problem_summary(problems_df(rows), by=("chief",))


def test_summary_places_problems_without_river_on_the_nearest():
    gdf = gpd.GeoDataFrame(problems_df([("Q1", None, "other", "reported", "2024-03-01", None)]),
                           geometry=shapely.points([[X0 + 100, Y0 + 900]]), crs=CRS)
    assert problem_summary(gdf, RIVERS)["river_id"].tolist() == ["R1"]


def test_overdue_list_and_refusals():
    o = overdue_problems(PROBLEMS, as_of="2024-03-10")
    assert o["problem_id"].tolist() == ["Q2", "Q3"] and o["days_open"].tolist() == [8.0, 7.0]
    bad = PROBLEMS.assign(kind=["漂浮物"] + ["other"] * 4)
    with pytest.raises(SchemaError, match="load_problems"):
        problem_summary(bad)
    with pytest.raises(ConfigError):
        problem_summary(PROBLEMS, overdue_days=0)


# --- recurrence ---------------------------------------------------------------------

def points_problems(rows) -> gpd.GeoDataFrame:
    """rows: (id, kind, status, reported, resolved, x, y)."""
    df = pd.DataFrame(rows, columns=["problem_id", "kind", "status", "reported_at", "resolved_at", "x", "y"])
    return gpd.GeoDataFrame(df.drop(columns=["x", "y"]), geometry=shapely.points(df[["x", "y"]].to_numpy() + [X0, Y0]),
                            crs=CRS)


def test_recurrence_thresholds():
    resolved = pd.Timestamp("2024-03-05")
    p = points_problems([
        ("A", "dumping", "resolved", "2024-03-01", resolved, 0, 0),
        ("in", "dumping", "reported", resolved + pd.Timedelta(days=90), None, 30, 40),  # 50 m, 90 days
        ("far", "dumping", "reported", resolved + pd.Timedelta(days=10), None, 30, 40.5),  # 50.2 m
        ("late", "dumping", "reported", resolved + pd.Timedelta(days=90, seconds=60), None, 0, 10),
        ("kind", "outfall", "reported", resolved + pd.Timedelta(days=10), None, 0, 10),
        ("before", "dumping", "reported", "2024-03-03", None, 0, 10),  # reported while A was open
    ])
    r = recurring_problems(p)
    assert r["problem_id"].tolist() == ["in"]
    assert r[["earlier_id", "days_after", "distance_m", "matches"]].values.tolist() == [["A", 90.0, 50.0, 1]]
    assert recurring_problems(p, radius_m=51)["problem_id"].tolist() == ["far", "in"]


def brute_force_recurrence(df: gpd.GeoDataFrame, radius: float, within: float) -> set[tuple[str, str]]:
    pairs = set()
    xy = shapely.get_coordinates(df.geometry.values)
    for i, a in df.reset_index(drop=True).iterrows():
        if a.status not in ("resolved", "closed") or pd.isna(a.resolved_at):
            continue
        for j, b in df.reset_index(drop=True).iterrows():
            d = float(np.hypot(*(xy[i] - xy[j])))
            days = (b.reported_at - a.resolved_at).total_seconds() / 86400
            if i != j and a.kind == b.kind and d <= radius and 0 <= days <= within:
                pairs.add((b.problem_id, a.problem_id))
    return pairs


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 200), st.integers(0, 200), st.sampled_from(["dumping", "outfall"]),
                          st.integers(0, 200), st.one_of(st.none(), st.integers(0, 60))), min_size=2, max_size=25))
def test_recurrence_matches_brute_force(items):
    t0 = pd.Timestamp("2024-01-01", tz="Asia/Shanghai")
    rows = [(f"P{i}", k, "reported" if r is None else "closed", t0 + pd.Timedelta(days=d),
             None if r is None else t0 + pd.Timedelta(days=d + r), x, y) for i, (x, y, k, d, r) in enumerate(items)]
    p = points_problems(rows)
    p["reported_at"] = pd.to_datetime(p["reported_at"])
    p["resolved_at"] = pd.to_datetime(p["resolved_at"])
    want = brute_force_recurrence(p, 50, 90)
    got = recurring_problems(p, radius_m=50, within_days=90)
    assert set(got["problem_id"]) == {b for b, _ in want}
    for row in got.itertuples():
        assert (row.problem_id, row.earlier_id) in want
        assert row.matches == sum(1 for b, _ in want if b == row.problem_id)


# --- hotspots -----------------------------------------------------------------------

def test_hotspot_stretches_and_chainage_boundary():
    rivers = rivers_gdf([shapely.LineString([(0, 0), (1000, 0)]), shapely.LineString([(0, 500), (1200, 500)]),
                         shapely.LineString([(0, 900), (200, 900)])])
    p = gpd.GeoDataFrame({"problem_id": list("abcdefg"), "river_id": ["R0", "R0", "R1", "R1", "R1", "R2", "R2"]},
                         geometry=shapely.points(np.array([[499, 3], [501, -3], [100, 500], [599, 500], [601, 500],
                                                           [50, 900], [150, 900]]) + [X0, Y0]), crs=CRS)
    h = problem_hotspots(p, rivers)
    rows = h[["river_id", "stretch", "from_m", "to_m", "problems"]].values.tolist()
    # R1 is 1200 m: round(2.4) = 2 stretches of 600 m; R2 (200 m) counts as 500 m for density.
    assert rows == [["R2", 0, 0.0, 200.0, 2], ["R1", 0, 0.0, 600.0, 2], ["R0", 0, 0.0, 500.0, 1],
                    ["R0", 1, 500.0, 1000.0, 1], ["R1", 1, 600.0, 1200.0, 1]]
    assert h["per_km"].tolist() == pytest.approx([4.0, 2 / 0.6, 2.0, 2.0, 1 / 0.6])
    assert np.allclose(shapely.length(h.geometry.values), h["length_m"])
    assert h.geometry.iloc[1].equals(shapely.LineString([(X0, Y0 + 500), (X0 + 600, Y0 + 500)]))


def test_hotspot_on_a_multipart_river():
    river = shapely.MultiLineString([[(0, 0), (300, 0)], [(0, 100), (700, 100)]])
    rivers = rivers_gdf([river])
    p = gpd.GeoDataFrame({"problem_id": ["a"], "river_id": ["R0"]},
                         geometry=shapely.points([[X0 + 100, Y0 + 100]]), crs=CRS)  # chainage 300 + 100
    h = problem_hotspots(p, rivers)
    assert h[["stretch", "from_m", "to_m"]].values.tolist() == [[0, 0.0, 500.0]]
    g = h.geometry.iloc[0]
    want = shapely.MultiLineString([[(X0, Y0), (X0 + 300, Y0)], [(X0, Y0 + 100), (X0 + 200, Y0 + 100)]])
    assert g.length == pytest.approx(500.0) and shapely.equals(g, want)


# --- signboards ---------------------------------------------------------------------

def test_check_signboards_each_rule():
    rivers = rivers_gdf([shapely.LineString([(0, 0), (1000, 0)]), shapely.LineString([(0, 500), (1000, 500)]),
                         shapely.LineString([(0, 900), (1000, 900)])],
                        chief=["王", "李", "赵"], chief_since=["2024-01-01", "2024-01-01", None])
    boards = gpd.GeoDataFrame({
        "board_id": ["B1", "B2", "B3", "B4"], "river_id": ["R0", "R1", "R9", "R0"],
        "chief_on_board": ["王", " 李 ", "钱", "张"],
        "updated_on": ["2024-01-01", "2023-12-31", "2024-01-01", "2024-02-01"],
    }, geometry=shapely.points(np.array([[10, 50], [10, 550.5], [0, 0], [500, 0]]) + [X0, Y0]), crs=CRS)
    out = check_signboards(boards, rivers)
    assert out[["board_check", "river_id", "board_id"]].values.tolist() == [
        ["no_board", "R2", None], ["unknown_river", "R9", "B3"], ["wrong_chief", "R0", "B4"],
        ["too_far", "R1", "B2"], ["stale", "R1", "B2"],
    ]
    assert out.loc[out["board_check"] == "too_far", "distance_m"].iloc[0] == pytest.approx(50.5)
    assert check_signboards(boards, rivers, max_distance_m=51)["board_check"].tolist().count("too_far") == 0
    later = check_signboards(boards, rivers, chief_since={"R0": "2024-01-02"})
    assert later.loc[later["board_check"] == "stale", "board_id"].tolist() == ["B1"]


@pytest.mark.parametrize(("as_of", "stale"), [("2024-01-16", False), ("2024-01-17", True)])
def test_signboard_update_grace_period(as_of, stale):
    # Chief changed on 1 Jan; hebei-2022 allows 15 days to update the board.
    rivers = rivers_gdf([shapely.LineString([(0, 0), (1000, 0)])], chief=["王"], chief_since=["2024-01-01"])
    boards = gpd.GeoDataFrame({"board_id": ["B1"], "river_id": ["R0"], "chief_on_board": ["王"],
                               "updated_on": ["2023-06-01"]}, geometry=shapely.points([[X0, Y0 + 5]]), crs=CRS)
    out = check_signboards(boards, rivers, as_of=as_of)
    assert out["board_check"].tolist() == (["stale"] if stale else [])
