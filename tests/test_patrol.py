"""Tests for dongping_geo.patrol: coverage against hand geometry and exact shapely answers."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from dongping_geo.errors import ConfigError, CRSError, GeometryError, SchemaError
from dongping_geo.patrol import (
    clean_fixes,
    compliance,
    load_rules,
    river_coverage,
    uncovered_segments,
)

CRS = 4549
X0, Y0 = 640_000.0, 3_510_000.0  # somewhere on Chongming in EPSG:4549
T0 = pd.Timestamp("2024-03-05 09:00", tz="Asia/Shanghai")


def rivers_gdf(lines, **cols) -> gpd.GeoDataFrame:
    geoms = [shapely.affinity.translate(g, X0, Y0) for g in lines]
    data = {"river_id": [f"R{i}" for i in range(len(lines))]}
    data.update(cols)
    return gpd.GeoDataFrame(data, geometry=geoms, crs=CRS)


def fixes_gdf(xy, *, patrol="p1", chief="王", t0=T0, every_s=10.0, times=None) -> gpd.GeoDataFrame:
    xy = np.asarray(xy, dtype=float)
    ts = times if times is not None else t0 + pd.to_timedelta(np.arange(len(xy)) * every_s, unit="s")
    return gpd.GeoDataFrame(
        {"patrol_id": [patrol] * len(xy), "chief": [chief] * len(xy), "timestamp": ts},
        geometry=shapely.points(xy + [X0, Y0]),
        crs=CRS,
    )


def along(x0, x1, step, y=0.0):
    xs = np.arange(x0, x1 + 1e-9, step)
    return np.column_stack([xs, np.full(len(xs), y)])


def exact_covered(river, track_xy, tol):
    """length(river ∩ buffer(track)) with a fine circle approximation (the reference)."""
    xy = np.asarray(track_xy, dtype=float) + [X0, Y0]
    track = shapely.LineString(xy) if len(xy) > 1 else shapely.Point(xy[0])
    river = shapely.affinity.translate(river, X0, Y0)
    return shapely.intersection(river, shapely.buffer(track, tol, quad_segs=256)).length


RIVER = shapely.LineString([(0, 0), (1000, 0)])


# --- the hand-made cases -----------------------------------------------------
def test_walked_end_to_end_is_fully_covered():
    cov = river_coverage(rivers_gdf([RIVER]), fixes_gdf(along(0, 1000, 10, y=3)))
    row = cov.iloc[0]
    assert row.length_m == pytest.approx(1000)
    assert row.covered_m == pytest.approx(1000)
    assert row.coverage == pytest.approx(1.0)
    assert row.patrols_covering == 1


def test_half_walked():
    cov = river_coverage(rivers_gdf([RIVER]), fixes_gdf(along(0, 500, 10, y=3)), tolerance_m=30)
    # Covered: x in [0, 500 + sqrt(30² - 3²)] (the disc around the last fix).
    expected = 500 + math.sqrt(30**2 - 3**2)
    assert cov.covered_m.iloc[0] == pytest.approx(expected, abs=1e-6)
    assert cov.coverage.iloc[0] == pytest.approx(0.5, abs=0.03)
    assert cov.patrols_covering.iloc[0] == 1  # 53 % ≥ min_share 0.5


def test_far_bank_40m_off_covers_nothing():
    cov = river_coverage(rivers_gdf([RIVER]), fixes_gdf(along(0, 1000, 10, y=40)), tolerance_m=30)
    assert cov.covered_m.iloc[0] == 0
    assert cov.patrols_covering.iloc[0] == 0
    assert pd.isna(cov.last_patrolled.iloc[0])


def test_crossing_at_right_angles_covers_twice_the_tolerance():
    track = np.column_stack([np.full(21, 500.0), np.linspace(-200, 200, 21)])
    cov = river_coverage(rivers_gdf([RIVER]), fixes_gdf(track), tolerance_m=30)
    assert cov.covered_m.iloc[0] == pytest.approx(60.0, abs=1e-6)


def test_crossing_at_an_angle_matches_exact_answer():
    # 45° crossing: the strip of half-width 30 cuts 2·30·√2 of the river.
    track = np.column_stack([np.linspace(300, 700, 41), np.linspace(-200, 200, 41)])
    cov = river_coverage(rivers_gdf([RIVER]), fixes_gdf(track), tolerance_m=30)
    assert cov.covered_m.iloc[0] == pytest.approx(60 * math.sqrt(2), abs=1e-6)


def test_sparse_fixes_200m_apart_still_cover_the_path():
    # 200 m every 150 s = 4.8 km/h, within max_gap_s=300.
    cov = river_coverage(rivers_gdf([RIVER]), fixes_gdf(along(0, 1000, 200, y=5), every_s=150))
    assert cov.coverage.iloc[0] == pytest.approx(1.0)


def test_sparse_fixes_beyond_max_gap_are_not_joined():
    fixes = fixes_gdf(along(0, 1000, 200, y=0), every_s=400)
    cov = river_coverage(rivers_gdf([RIVER]), fixes, max_gap_s=300)
    # Six isolated fixes, each covering ±30 m (the two ends only inward).
    assert cov.covered_m.iloc[0] == pytest.approx(4 * 60 + 2 * 30)


def test_gps_jump_across_the_town_covers_nothing():
    # Walking 2 km south of the river; one fix jumps 5 km north across it and back.
    xy = along(0, 1000, 10, y=-2000)
    xy[50] = [500, 3000]
    cov = river_coverage(rivers_gdf([RIVER]), fixes_gdf(xy), tolerance_m=30)
    assert cov.covered_m.iloc[0] == 0
    # A two-fix "teleport" over the river, 10 s apart, is not a track either.
    tele = fixes_gdf([[500, -2500], [500, 2500]])
    assert river_coverage(rivers_gdf([RIVER]), tele).covered_m.iloc[0] == 0


def test_bend_is_handled_per_river_segment():
    river = shapely.LineString([(0, 0), (500, 0), (500, 500)])
    xy = [[480.0, -100.0], [480.0, 100.0]]  # passes the inside of the bend
    cov = river_coverage(rivers_gdf([river]), fixes_gdf(xy, every_s=60), tolerance_m=30)
    assert cov.covered_m.iloc[0] == pytest.approx(exact_covered(river, xy, 30), abs=0.05)


def test_multilinestring_river_and_input_order():
    multi = shapely.MultiLineString([[(0, 0), (400, 0)], [(0, 100), (400, 100)]])
    rivers = rivers_gdf([RIVER, multi], name=["甲河", "乙河"], level=["town", "village"], chief=["王", "李"])
    xy = along(0, 400, 10, y=100)
    cov = river_coverage(rivers, fixes_gdf(xy))
    assert cov.river_id.tolist() == ["R0", "R1"]
    assert cov.name.tolist() == ["甲河", "乙河"]
    assert cov.length_m.tolist() == pytest.approx([1000, 800])
    assert cov.covered_m.iloc[1] == pytest.approx(400)
    assert cov.covered_m.iloc[0] == pytest.approx(0)


# --- property: agrees with the exact geometric answer -------------------------------
coord = st.floats(min_value=-300, max_value=300, allow_nan=False).map(lambda v: round(v, 2))
points = st.lists(st.tuples(coord, coord), min_size=1, max_size=25)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    river_pts=st.lists(st.tuples(coord, coord), min_size=2, max_size=8),
    track=points,
    tol=st.floats(min_value=1, max_value=80),
)
def test_coverage_agrees_with_exact_intersection(river_pts, track, tol):
    river = shapely.LineString(river_pts)
    assume(river.length >= 1)
    # A river doubling back over itself has more length than ground: skip (see docs).
    shifted = shapely.affinity.translate(river, X0, Y0)
    assume(abs(shapely.union_all([shifted]).length - river.length) < 1e-6)
    cov = river_coverage(
        rivers_gdf([river]), fixes_gdf(track), tolerance_m=tol, max_speed_kmh=1e9, max_gap_s=1e9
    ).iloc[0]
    assert 0.0 <= cov.coverage <= 1.0
    assert abs(cov.covered_m - exact_covered(river, track, tol)) <= 0.01 * river.length


@settings(max_examples=60, deadline=None)
@given(river_pts=st.lists(st.tuples(coord, coord), min_size=2, max_size=8), track=points)
def test_uncovered_is_the_complement(river_pts, track):
    river = shapely.LineString(river_pts)
    assume(river.length >= 1)
    rivers, fixes = rivers_gdf([river]), fixes_gdf(track)
    kw = dict(tolerance_m=25, max_speed_kmh=1e9, max_gap_s=1e9)
    cov = river_coverage(rivers, fixes, **kw).iloc[0]
    gaps = uncovered_segments(rivers, fixes, **kw)
    assert gaps.length_m.sum() + cov.covered_m == pytest.approx(river.length, abs=1e-6)
    assert np.allclose(gaps.geometry.length, gaps.length_m, atol=1e-6)
    # No uncovered stretch lies (noticeably) inside the buffer of the track.
    xy = np.asarray(track) + [X0, Y0]
    trk = shapely.LineString(xy) if len(xy) > 1 else shapely.Point(xy[0])
    inside = shapely.length(shapely.intersection(gaps.geometry.values, shapely.buffer(trk, 24.9, quad_segs=64)))
    assert inside.sum() < 1e-6


# --- time filtering, patrols, last_patrolled ----------------------------------------
def test_time_filtering_and_date_only_end_includes_the_day():
    west = fixes_gdf(along(0, 500, 10), patrol="a", t0=pd.Timestamp("2024-03-05 09:00", tz="Asia/Shanghai"))
    east = fixes_gdf(along(500, 1000, 10), patrol="b", t0=pd.Timestamp("2024-03-07 16:00", tz="Asia/Shanghai"))
    fixes = pd.concat([west, east], ignore_index=True)
    rivers = rivers_gdf([RIVER])
    all_ = river_coverage(rivers, fixes).iloc[0]
    assert all_.covered_m == pytest.approx(1000)
    only_a = river_coverage(rivers, fixes, start="2024-03-05", end="2024-03-05").iloc[0]
    assert only_a.covered_m == pytest.approx(530)  # 500 + 30 beyond the last fix
    only_b = river_coverage(rivers, fixes, start="2024-03-06", end="2024-03-07").iloc[0]
    assert only_b.covered_m == pytest.approx(530)
    assert only_b.last_patrolled == pd.Timestamp("2024-03-07 16:08:20", tz="Asia/Shanghai")
    none = river_coverage(rivers, fixes, start="2024-04-01", end="2024-04-30").iloc[0]
    assert none.covered_m == 0
    with pytest.raises(SchemaError):
        river_coverage(rivers, fixes, start="2024-03-07", end="2024-03-01")


def test_naive_timestamps_are_local_time():
    fixes = fixes_gdf(along(0, 500, 10))
    fixes["timestamp"] = fixes["timestamp"].dt.tz_localize(None)
    cov = river_coverage(rivers_gdf([RIVER]), fixes, start=pd.Timestamp("2024-03-05 09:00", tz="Asia/Shanghai"))
    assert cov.covered_m.iloc[0] == pytest.approx(530)


def test_patrols_counted_with_min_share_and_last_patrolled():
    rivers = rivers_gdf([RIVER])
    a = fixes_gdf(along(0, 1000, 10), patrol="a", t0=T0)
    b = fixes_gdf(along(0, 300, 10), patrol="b", t0=T0 + pd.Timedelta(days=1))  # 33 %
    fixes = pd.concat([a, b], ignore_index=True)
    row = river_coverage(rivers, fixes).iloc[0]
    assert row.patrols_covering == 1
    assert row.last_patrolled == T0 + pd.Timedelta(seconds=1000)
    row = river_coverage(rivers, fixes, min_share=0.3).iloc[0]
    assert row.patrols_covering == 2
    assert row.last_patrolled == T0 + pd.Timedelta(days=1, seconds=300)


# --- clean_fixes ----------------------------------------------------------------------
def test_duplicates_are_dropped_and_do_not_change_coverage():
    fixes = fixes_gdf(along(0, 500, 10))
    doubled = pd.concat([fixes, fixes.iloc[[3, 7, 7]]], ignore_index=True)
    cleaned, dropped = clean_fixes(doubled)
    assert len(cleaned) == len(fixes)
    assert dropped["reason"].tolist() == ["duplicate"] * 3
    assert sorted(dropped["row"]) == [51, 52, 53]
    rivers = rivers_gdf([RIVER])
    assert river_coverage(rivers, doubled).covered_m.iloc[0] == pytest.approx(
        river_coverage(rivers, fixes).covered_m.iloc[0]
    )


def test_clean_fixes_reports_jumps_and_outside_area_and_splits_tracks():
    xy = along(0, 1000, 10, y=5)
    xy[20] = [5000, 5000]  # GPS jump
    fixes = fixes_gdf(xy)
    times = fixes["timestamp"].copy()
    times.iloc[60:] += pd.Timedelta(minutes=20)  # signal lost for 20 minutes
    fixes["timestamp"] = times
    # The last 10 fixes (x > 900) are outside the area; the jump is inside it.
    area = shapely.box(X0 - 10, Y0 - 100, X0 + 900, Y0 + 100).union(shapely.box(X0 + 4900, Y0 + 4900, X0 + 5100, Y0 + 5100))
    cleaned, dropped = clean_fixes(fixes, area=area, max_gap_s=300)
    reasons = dropped.set_index("row")["reason"]
    assert reasons[20] == "speed jump"
    assert set(reasons.drop(20)) == {"outside area"}
    assert sorted(reasons.drop(20).index) == list(range(91, 101))
    assert cleaned["track_id"].unique().tolist() == ["p1/1", "p1/2"]
    assert (cleaned["timestamp"].diff().dropna() >= pd.Timedelta(0)).all()
    assert isinstance(dropped, gpd.GeoDataFrame) and dropped.crs == fixes.crs


def test_clean_fixes_generates_patrol_ids_at_gaps():
    fixes = fixes_gdf(along(0, 100, 10), chief="张")
    later = fixes_gdf(along(0, 100, 10), chief="张", t0=T0 + pd.Timedelta(hours=3))
    both = pd.concat([fixes, later], ignore_index=True)
    both["patrol_id"] = None
    cleaned, dropped = clean_fixes(both)
    assert len(dropped) == 0
    ids = cleaned["patrol_id"].unique()
    assert len(ids) == 2 and all(i.startswith("张@") for i in ids)


# --- uncovered_segments ---------------------------------------------------------------
def test_uncovered_segments_half_walked():
    gaps = uncovered_segments(rivers_gdf([RIVER], name=["甲河"]), fixes_gdf(along(0, 500, 10, y=3)))
    assert len(gaps) == 1
    start = 500 + math.sqrt(30**2 - 3**2)
    assert gaps.from_m.iloc[0] == pytest.approx(start)
    assert gaps.to_m.iloc[0] == pytest.approx(1000)
    assert gaps.length_m.iloc[0] == pytest.approx(1000 - start)
    expected = shapely.LineString([(X0 + start, Y0), (X0 + 1000, Y0)])
    assert gaps.geometry.iloc[0].equals_exact(expected, 1e-6)
    assert gaps.crs == CRS and gaps.name.iloc[0] == "甲河"


def test_uncovered_segments_follow_bends_and_parts():
    river = shapely.MultiLineString([[(0, 0), (300, 0), (300, 300)], [(1000, 0), (1200, 0)]])
    gaps = uncovered_segments(rivers_gdf([river]), fixes_gdf(along(0, 100, 10)), min_length_m=1)
    # Part 1 uncovered from x=130 round the bend; part 2 entirely.
    assert gaps.length_m.tolist() == pytest.approx([170 + 300, 200])
    assert gaps.from_m.tolist() == pytest.approx([130, 600])
    assert gaps.to_m.tolist() == pytest.approx([600, 800])
    np.testing.assert_allclose(
        np.asarray(gaps.geometry.iloc[0].coords),
        [(X0 + 130, Y0), (X0 + 300, Y0), (X0 + 300, Y0 + 300)],
    )


# --- errors ---------------------------------------------------------------------------
def test_bad_inputs_raise_clear_errors():
    fixes = fixes_gdf(along(0, 100, 10))
    with pytest.raises(CRSError, match="projected"):
        river_coverage(rivers_gdf([RIVER]).to_crs(4326), fixes)
    with pytest.raises(SchemaError, match="river_id"):
        river_coverage(rivers_gdf([RIVER]).drop(columns="river_id"), fixes)
    poly = gpd.GeoDataFrame({"river_id": ["R9"]}, geometry=[shapely.box(0, 0, 1, 1)], crs=CRS)
    with pytest.raises(GeometryError, match="R9"):
        river_coverage(poly, fixes)
    with pytest.raises(SchemaError, match="timestamp"):
        river_coverage(rivers_gdf([RIVER]), fixes.drop(columns="timestamp"))


def test_fixes_in_another_crs_are_reprojected():
    fixes = fixes_gdf(along(0, 500, 10, y=3))
    cov = river_coverage(rivers_gdf([RIVER]), fixes.to_crs(4326))
    assert cov.covered_m.iloc[0] == pytest.approx(500 + math.sqrt(891), abs=0.01)


# --- rules and compliance -------------------------------------------------------------
def test_default_rules_follow_the_cited_local_rules():
    rules = load_rules()
    assert rules["frequency"]["town"] == {"period": "month", "min_patrols": 1}
    assert rules["frequency"]["village"] == {"period": "week", "min_patrols": 1}
    assert rules["patrol_minimum"] == {"duration_min": 10, "length_km": 1.0, "whole_river_share": 0.9,
                                       "max_mean_speed_kmh": None}
    assert {s["id"] for s in rules["sources"]} >= {"yingpu-2018", "guangzhou-2021"}


def test_rules_override_by_dict_and_yaml(tmp_path):
    assert load_rules({"frequency": {"village": {"min_patrols": 2}}})["frequency"]["village"] == {
        "period": "week",
        "min_patrols": 2,
    }
    p = tmp_path / "rules.yaml"
    p.write_text("frequency:\n  town:\n    period: week\n", encoding="utf-8")
    assert load_rules(p)["frequency"]["town"]["period"] == "week"


@pytest.mark.parametrize(
    "rules",
    [
        {"frequency": {"town": {"period": "fortnight"}}},
        {"frequency": {"town": {"min_patrols": -1}}},
        {"frequency": {"town": {"min_patrols": 1.5}}},
        {"patrol_minimum": {"duration_min": "ten"}},
        {"counts_for_river": {"min_share": 2}},
        {"own_chief_only": "yes"},
        {"frquency": {}},
        ["not", "a", "mapping"],
    ],
)
def test_bad_rules_raise_config_error(rules):
    with pytest.raises(ConfigError):
        load_rules(rules)


def test_unreadable_rules_file_raises_config_error(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("frequency: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="YAML"):
        load_rules(p)
    with pytest.raises(ConfigError):
        load_rules(tmp_path / "missing.yaml")


def _walk(patrol, chief, day, x0=0, x1=1500, step=100, every_s=60):
    return fixes_gdf(along(x0, x1, step), patrol=patrol, chief=chief,
                     t0=pd.Timestamp(day + " 09:00", tz="Asia/Shanghai"), every_s=every_s)


def test_compliance_monthly_and_weekly():
    river = shapely.LineString([(0, 0), (1500, 0)])
    rivers = rivers_gdf(
        [river, shapely.affinity.translate(river, 0, 500)],
        name=["甲河", "乙河"], level=["town", "village"], chief=["王", "李"],
    )
    fixes = pd.concat(
        [
            _walk("t1", "王", "2024-03-05"),  # town river, March: done
            _walk("v1", "李", "2024-03-04").assign(geometry=lambda d: d.translate(0, 500)),  # W10
            _walk("v2", "李", "2024-03-13").assign(geometry=lambda d: d.translate(0, 500)),  # W11
            # W12: too short (5 minutes) — does not count
            _walk("v3", "李", "2024-03-20", step=300, every_s=60).assign(geometry=lambda d: d.translate(0, 500)),
            # W13: walked by someone else — does not count with own_chief_only
            _walk("v4", "王", "2024-03-27").assign(geometry=lambda d: d.translate(0, 500)),
        ],
        ignore_index=True,
    )
    res = compliance(rivers, fixes, start="2024-03-01", end="2024-03-31")
    town = res.by_river.set_index("river_id").loc["R0"]
    assert (town.period, town.periods, town.patrols_required, town.patrols_counted) == ("month", 1, 1, 1)
    assert town.compliant and town.missed_periods == []
    village = res.by_river.set_index("river_id").loc["R1"]
    # Weeks wholly inside March 2024: W10 (4–10), W11, W12, W13 (25–31).
    assert village.periods == 4 and village.patrols_required == 4
    assert village.patrols_counted == 2
    assert not village.compliant
    assert village.missed_periods == ["2024-W12", "2024-W13"]
    chiefs = res.by_chief.set_index("chief")
    assert chiefs.loc["李", "missed_periods"] == ["R1 2024-W12", "R1 2024-W13"]
    assert bool(chiefs.loc["王", "compliant"]) and not bool(chiefs.loc["李", "compliant"])
    # Relaxed rules: anyone's patrol of 5 minutes counts → nothing missed.
    relaxed = {"own_chief_only": False, "patrol_minimum": {"duration_min": 5, "length_km": 0.4}}
    res2 = compliance(rivers, fixes, start="2024-03-01", end="2024-03-31", rules=relaxed)
    assert res2.by_river.set_index("river_id").loc["R1", "patrols_counted"] == 4
    assert res2.by_river["compliant"].all()


def test_compliance_says_why_patrols_did_not_count():
    river = shapely.LineString([(0, 0), (1500, 0)])
    rivers = rivers_gdf([river, shapely.affinity.translate(river, 0, 500)], level=["town", "village"],
                        chief=["王", "李"])
    up = {"geometry": lambda d: d.translate(0, 500)}
    fixes = pd.concat([
        _walk("v0", "李", "2024-03-01").assign(**up),  # Friday of W09, not wholly in March: outside
        _walk("v1", "李", "2024-03-04").assign(**up),  # W10: counts
        _walk("v2", "李", "2024-03-13").assign(**up),  # W11: counts
        _walk("v3", "李", "2024-03-20", step=300, every_s=60).assign(**up),  # 5 minutes: too short
        _walk("v4", "王", "2024-03-27").assign(**up),  # another chief
        _walk("v5", "李", "2024-03-28", x0=0, x1=400, every_s=120).assign(**up),  # 400 m of 1500: too little
    ], ignore_index=True)
    res = compliance(rivers, fixes, start="2024-03-01", end="2024-03-31", rules={
        "patrol_minimum": {"duration_min": 6, "length_km": 0.3}})  # v5 (8 min) meets the minimum; v3 (5) does not
    row = res.by_river.set_index("river_id").loc["R1"]
    assert row.patrols_counted == 2
    got = {k: row[f"not_counted_{k}"] for k in ("other_chief", "too_short", "too_fast", "flagged", "too_little",
                                                 "outside_period")}
    assert got == {"other_chief": 1, "too_short": 1, "too_fast": 0, "flagged": 0, "too_little": 1,
                   "outside_period": 1}
    chief = res.by_chief.set_index("chief").loc["李"]
    assert chief.patrols_counted == 2 and chief.not_counted_outside_period == 1
    # too fast only when a limit is set: v1 walks 1.5 km in 15 min (6 km/h)
    fast = compliance(rivers, fixes, start="2024-03-01", end="2024-03-31", rules={
        "patrol_minimum": {"duration_min": 6, "length_km": 0.3, "max_mean_speed_kmh": 5}})
    assert fast.by_river.set_index("river_id").loc["R1", "not_counted_too_fast"] >= 2


def test_a_short_ditch_walked_whole_counts():
    ditch = shapely.LineString([(0, 0), (500, 0)])
    rivers = rivers_gdf([ditch], level=["village"], chief=["李"])
    # 500 m in 6 minutes: under the literal 1 km / 10 min, never valid; walked whole it counts
    whole = _walk("w1", "李", "2024-03-05", x0=0, x1=500, step=50, every_s=36)
    # 300 m in 6 minutes: covers more than half (the share rule) but not the whole ditch
    part = _walk("w2", "李", "2024-03-12", x0=0, x1=300, step=30, every_s=36)
    res = compliance(rivers, pd.concat([whole, part], ignore_index=True), start="2024-03-04", end="2024-03-17")
    row = res.by_river.iloc[0]
    assert (row.periods, row.patrols_counted, row.not_counted_too_short) == (2, 1, 1)
    assert row.missed_periods == ["2024-W11"]
    # 4 minutes for the whole ditch is under the pro-rata 5 minutes
    quick = _walk("w3", "李", "2024-03-05", x0=0, x1=500, step=50, every_s=24)
    assert compliance(rivers, quick, start="2024-03-04", end="2024-03-10").by_river.iloc[0].patrols_counted == 0


def test_patrol_report_drops_only_the_periods_fixes():
    from dongping_geo.reports import PatrolReport

    rivers = rivers_gdf([shapely.LineString([(0, 0), (1500, 0)])], level=["town"], chief=["王"])
    june = _walk("a", "王", "2024-06-10")
    july = _walk("b", "王", "2024-07-10")
    fixes = pd.concat([june, june.iloc[[3]], july, july.iloc[[3, 4]]], ignore_index=True)  # duplicates
    report = PatrolReport.compute(rivers, fixes, start="2024-06-01", end="2024-06-30")
    assert list(report.dropped["patrol_id"]) == ["a"]
    assert (report.dropped["reason"] == "duplicate").all()


def test_compliance_counts_a_long_river_with_one_km_walked():
    river = shapely.LineString([(0, 0), (6000, 0)])
    rivers = rivers_gdf([river], level=["district"], chief=["赵"])
    fixes = _walk("d1", "赵", "2024-02-10", x0=0, x1=1100, step=50, every_s=30)
    res = compliance(rivers, fixes, start="2024-01-01", end="2024-06-30")
    row = res.by_river.iloc[0]
    assert (row.period, row.periods, row.patrols_required, row.patrols_counted) == ("quarter", 2, 2, 1)
    assert row.missed_periods == ["2024-Q2"]


def test_compliance_is_unknown_when_no_whole_period_fits():
    river = shapely.LineString([(0, 0), (1500, 0)])
    rivers = rivers_gdf([river, river], level=["district", "town"], chief=["赵", "王"])
    fixes = _walk("d1", "赵", "2024-02-10")
    res = compliance(rivers, fixes, start="2024-02-01", end="2024-02-29")
    district, town = res.by_river.iloc[0], res.by_river.iloc[1]
    assert district.periods == 0 and pd.isna(district.compliant)  # a quarter does not fit in February
    assert town.periods == 1 and not town.compliant  # 王 did not patrol
    chiefs = res.by_chief.set_index("chief")
    assert pd.isna(chiefs.loc["赵", "compliant"]) and chiefs.loc["赵", "rivers_compliant"] == 0
    assert not bool(chiefs.loc["王", "compliant"])


def test_compliance_unknown_level_is_a_config_error():
    rivers = rivers_gdf([RIVER], level=["county"], chief=["王"])
    with pytest.raises(ConfigError, match="level"):
        compliance(rivers, fixes_gdf(along(0, 100, 10)), start="2024-03-01", end="2024-03-31")


# --- the sample dataset's planted patrol gaps ------------------------------------------
@pytest.fixture(scope="module")
def sample(sample_dir):
    from dongping_geo.loaders import load_dataset

    ds = load_dataset(sample_dir)
    if ds.patrols is None or not ds.manifest or "patrols" not in ds.manifest:
        pytest.skip("sample dataset has no patrols")
    return ds


@pytest.mark.slow
def test_sample_coverage_reproduces_manifest(sample):
    planted = sample.manifest["patrols"]
    tol = planted["coverage_tolerance_m"]
    cov = river_coverage(sample.rivers, sample.patrols, tolerance_m=tol).set_index("river_id")
    # The manifest samples each river every 5 m: allow that resolution plus 0.5 %.
    expected = pd.Series(planted["covered_share_at_40m"])
    slack = 0.005 + 10 / cov["length_m"]
    diff = (cov["coverage"] - expected.reindex(cov.index)).abs()
    assert (diff <= slack).all(), diff[diff > slack]
    never = planted["never_patrolled"]
    assert (cov.loc[never, "patrols_covering"] == 0).all()
    assert (cov.loc[never, "coverage"] < 0.2).all()  # only where they meet patrolled rivers
    full = pd.Series(planted["fully_patrolled_patrols_per_year"])
    assert (cov.loc[full.index, "patrols_covering"] == full).all()
    assert (cov.loc[full.index, "coverage"] > 0.99).all()
    # Partially patrolled rivers: walked from the first vertex; the planted gap starts
    # where the walks stopped (later stretches may be crossed by other rivers' patrols).
    gaps = uncovered_segments(sample.rivers, sample.patrols, tolerance_m=tol, min_length_m=50)
    for part in planted["partially_patrolled"]:
        first = gaps[gaps["river_id"] == part["river_id"]].sort_values("from_m").iloc[0]
        # It starts past the end of the walk, and no later than the manifest's covered share.
        length = cov.loc[part["river_id"], "length_m"]
        assert part["covered_length_m"] - 10 <= first.from_m <= part["covered_share_at_40m"] * length + 10
        assert first.length_m > 50


@pytest.mark.slow
def test_sample_clean_fixes_finds_planted_glitches(sample):
    planted = sample.manifest["patrols"]["glitches"]
    _, dropped = clean_fixes(sample.patrols)
    jumps = dropped[dropped["reason"] == "speed jump"]
    assert sorted(jumps["patrol_id"]) == sorted(j["patrol_id"] for j in planted["jumps"])
    assert sorted(jumps["timestamp"]) == sorted(pd.Timestamp(j["timestamp"]) for j in planted["jumps"])
    dups = dropped[dropped["reason"] == "duplicate"].groupby("patrol_id").size()
    assert dups.to_dict() == {d["patrol_id"]: d["extra_copies"] for d in planted["duplicates"]}
    assert set(dropped["reason"]) == {"speed jump", "duplicate"}


# --- CLI -------------------------------------------------------------------------------
def test_safe_filename_keeps_chinese_and_strips_the_dangerous():
    from dongping_geo.cli import _safe_filename

    taken: set[str] = set()
    assert _safe_filename("王建国", taken) == "王建国"
    assert _safe_filename("王建国", taken) == "王建国-2"
    assert _safe_filename("../../etc/passwd", taken) == "etc_passwd"
    assert _safe_filename("a\\b:c*?\x00\x1f\n", taken) == "a_b_c"
    assert _safe_filename("CON", taken) == "_CON"
    assert _safe_filename("nul.txt", taken) == "_nul.txt"
    assert _safe_filename("", taken) == "unnamed"
    assert _safe_filename(None, taken) == "unnamed-2"
    assert _safe_filename(" .. ", taken) == "unnamed-3"
    assert _safe_filename("Wang", taken) == "Wang"
    assert _safe_filename("WANG", taken) == "WANG-2"  # case-insensitive file systems
    assert len(_safe_filename("河" * 300, taken).encode()) < 255


@pytest.fixture()
def tiny_dataset(tmp_path):
    """Two rivers and two chiefs written as GeoPackages; one chief has an awkward name."""
    folder = tmp_path / "data"  # outputs go beside the dataset folder, never inside it
    folder.mkdir()
    river = shapely.LineString([(0, 0), (1500, 0)])
    rivers = rivers_gdf(
        [river, shapely.affinity.translate(river, 0, 500)],
        name=["甲河", "乙河"], level=["town", "village"], region=["dongfeng", "qianjin"],
        chief=["王", "<b>李/../x</b>"], target_class=["III", "IV"],
    )
    rivers.to_file(folder / "rivers.gpkg", driver="GPKG")
    fixes = pd.concat(
        [_walk("t1", "王", "2024-03-05"), _walk("t2", "王", "2024-04-05", x1=600)], ignore_index=True
    )
    fixes.to_file(folder / "patrols.gpkg", driver="GPKG")
    return folder


def test_patrol_report_cli_writes_everything(tiny_dataset, tmp_path):
    from click.testing import CliRunner

    from dongping_geo.cli import cli

    out = tmp_path / "report"
    result = CliRunner().invoke(
        cli, ["patrol-report", str(tiny_dataset), "--start", "2024-03-01", "--end", "2024-03-31",
              "--out", str(out), "--basemap", "none", "--lang", "en"],
    )
    assert result.exit_code == 0, result.output
    cov = pd.read_csv(out / "coverage.csv", encoding="utf-8-sig")
    assert cov.set_index("river_id")["coverage (%)"].to_dict() == {"R0": 100.0, "R1": 0.0}
    assert (out / "coverage.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    comp = pd.read_csv(out / "compliance.csv", encoding="utf-8-sig")
    assert comp.set_index("river_id")["compliant"].to_dict() == {"R0": "met", "R1": "missed"}
    gaps = gpd.read_file(out / "uncovered.gpkg", layer="uncovered")
    assert gaps["river_id"].tolist() == ["R1"] and gaps["length_m"].iloc[0] == pytest.approx(1500)
    maps = sorted(p.name for p in (out / "maps").iterdir())
    assert maps == ["b_李_.._x_b.html", "王.html"]
    assert all("/" not in m and "<" not in m for m in maps)
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "&lt;b&gt;李/../x&lt;/b&gt;" in index and "<b>李" not in index
    for m in maps:
        assert (out / "maps" / m).stat().st_size > 1000
    assert not [p for p in out.rglob("*.tmp")] and not [p for p in out.rglob(".*")]
    # --strict exits 1 because R1 missed its weekly patrols; bad rules exit 2.
    strict = CliRunner().invoke(
        cli, ["patrol-report", str(tiny_dataset), "--start", "2024-03-01", "--end", "2024-03-31",
              "--out", str(out), "--basemap", "none", "--strict"],
    )
    assert strict.exit_code == 1
    bad = tmp_path / "bad.yaml"
    bad.write_text("frequency:\n  town:\n    period: fortnight\n", encoding="utf-8")
    broken = CliRunner().invoke(
        cli, ["patrol-report", str(tiny_dataset), "--start", "2024-03-01", "--end", "2024-03-31",
              "--out", str(tmp_path / "other"), "--rules", str(bad)],
    )
    assert broken.exit_code == 2 and "period" in broken.output
    assert not (tmp_path / "other").exists()


def test_patrol_report_by_region_and_river(tiny_dataset, tmp_path):
    from click.testing import CliRunner

    from dongping_geo.cli import cli

    for by, expected in (("region", 2), ("river", 2)):
        out = tmp_path / by
        result = CliRunner().invoke(
            cli, ["patrol-report", str(tiny_dataset), "--start", "2024-03-01", "--end", "2024-03-31",
                  "--out", str(out), "--basemap", "none", "--by", by],
        )
        assert result.exit_code == 0, result.output
        assert len(list((out / "maps").glob("*.html"))) == expected


def test_patrol_tracks_split_at_gaps_and_drop_jumps():
    from dongping_geo.patrol import patrol_tracks

    t0 = pd.Timestamp("2022-06-01 08:00", tz="Asia/Shanghai")
    # 0..3: walk east 10 m every 10 s; 4: a 5 km GPS jump; 5..6: walk on;
    # 7..8: after a 20-minute pause (a new piece).
    xs = [0, 10, 20, 30, 5000, 40, 50, 60, 70]
    secs = [0, 10, 20, 30, 40, 50, 60, 1260, 1270]
    fixes = gpd.GeoDataFrame(
        {"patrol_id": ["P1"] * 9, "chief": ["张三"] * 9,
         "timestamp": [t0 + pd.Timedelta(seconds=s) for s in secs]},
        geometry=shapely.points([(640_000 + x, 3_510_000) for x in xs]), crs=4549)
    tracks = patrol_tracks(fixes, max_gap_s=300, max_speed_kmh=60)
    assert len(tracks) == 2
    assert tracks["length_m"].tolist() == pytest.approx([50.0, 10.0])  # 0→50 m with the jump dropped; 60→70 m
    assert (tracks["chief"] == "张三").all()
    assert tracks["start"].iloc[1] == t0 + pd.Timedelta(seconds=1260)


@pytest.mark.slow
def test_patrol_report_shifts_gcj02_exports_back(sample_dir, tmp_path):
    """An app export in GCJ-02 gives the WGS 84 result with --patrols-shift gcj02, and a wrong one without."""
    from click.testing import CliRunner

    from dongping_geo.cli import cli
    from dongping_geo.crs import wgs84_to_gcj02

    raw = pd.read_csv(sample_dir / "patrols_2022-06.csv", encoding="utf-8-sig")
    lon, lat = wgs84_to_gcj02(raw["lon"].to_numpy(), raw["lat"].to_numpy())
    shifted = tmp_path / "patrols_gcj02.csv"
    raw.assign(lon=lon, lat=lat).to_csv(shifted, index=False)

    def coverage(patrols, *extra):
        out = tmp_path / f"out{len(list(tmp_path.iterdir()))}"
        result = CliRunner().invoke(cli, [
            "patrol-report", str(sample_dir), "--start", "2022-06-01", "--end", "2022-06-30",
            "--patrols", str(patrols), "--out", str(out), "--basemap", "none", "--by", "region", "--lang", "en",
            *extra])
        assert result.exit_code == 0, result.output
        return pd.read_csv(out / "coverage.csv", encoding="utf-8-sig").set_index("river_id")["covered_m"]

    truth = coverage(sample_dir / "patrols_2022-06.csv")
    assert truth.sum() > 10_000  # the month covers real river length
    unshifted = coverage(shifted, "--patrols-shift", "wgs84")
    back = coverage(shifted, "--patrols-shift", "gcj02")
    assert (back - truth).abs().max() < 1.0  # metres per river
    assert (unshifted - truth).abs().sum() > 0.2 * truth.sum()  # ~475 m off: most coverage lost
