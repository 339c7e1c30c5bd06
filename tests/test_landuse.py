"""Tests for dongping_geo.landuse.

Expected areas are worked out by hand on rectangles (widths × heights written out in
the comments), by arithmetic in the property tests, or by geopandas.overlay as the
reference implementation — never by the code under test.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import shapely.affinity
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, Polygon, box

from dongping_geo import landuse
from dongping_geo.errors import ConfigError, CRSError, GeometryError, SchemaError
from dongping_geo.landuse import (
    check_violations,
    default_setbacks,
    demolition_summary,
    new_structures,
    rebuilt_on_demolished,
    river_setback_violations,
)
from dongping_geo.schemas import CATEGORY_LABELS

CRS = 4549


def gdf(data: dict, geoms: list, crs=CRS) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(data, geometry=geoms, crs=crs)


def _zones() -> gpd.GeoDataFrame:
    # Z1: 0..100 × 0..100 red line; Z2: 100..200 × 0..100 farmland (they share x = 100)
    return gdf(
        {"zone_id": ["Z1", "Z2"], "category": ["eco_redline", "basic_farmland"]},
        [box(0, 0, 100, 100), box(100, 0, 200, 100)],
    )


@pytest.fixture
def zones() -> gpd.GeoDataFrame:
    return _zones()


@pytest.fixture
def houses() -> gpd.GeoDataFrame:
    return gdf(
        {"building_id": ["edge", "corner", "straddle", "inside", "outside", "partial", "rim"]},
        [
            box(-10, 10, 0, 20),  # shares the edge x = 0 with Z1: no area
            box(-10, -10, 0, 0),  # touches Z1 at the corner (0, 0) only
            box(90, 40, 110, 50),  # 10 m in Z1, 10 m in Z2, 10 m tall
            box(10, 10, 30, 20),  # 20 × 10 wholly inside Z1
            box(300, 300, 310, 310),  # far away
            box(-5, 50, 5, 60),  # 5 × 10 inside Z1
            box(0, 80, 10, 100),  # inside Z1 but touching its boundary from within: 10 × 20
        ],
    )


# --- check_violations ---------------------------------------------------------------


def test_rows_areas_and_shares(zones, houses):
    out = check_violations(houses, zones)
    got = {
        (r.building_id, r.zone_id): (r.overlap_m2, r.overlap_share, r.category)
        for r in out.itertuples()
    }
    assert got == {
        ("straddle", "Z1"): (100.0, 0.5, "eco_redline"),  # 10 × 10 of a 20 × 10 house
        ("straddle", "Z2"): (100.0, 0.5, "basic_farmland"),
        ("inside", "Z1"): (200.0, 1.0, "eco_redline"),
        ("partial", "Z1"): (50.0, 0.5, "eco_redline"),
        ("rim", "Z1"): (200.0, 1.0, "eco_redline"),
    }
    assert list(out.columns) == [
        "building_id",
        "zone_id",
        "category",
        "overlap_m2",
        "overlap_share",
        "geometry",
    ]
    assert out.crs.to_epsg() == CRS


def test_edge_and_corner_touch_give_no_row_even_with_zero_threshold(zones, houses):
    out = check_violations(houses, zones, min_overlap_m2=0.0)
    assert not {"edge", "corner", "outside"} & set(out["building_id"])


def test_straddling_building_gives_two_rows_with_overlap_geometries(zones, houses):
    out = check_violations(houses, zones)
    rows = out[out["building_id"] == "straddle"].set_index("zone_id")
    assert rows.geometry["Z1"].equals(box(90, 40, 100, 50))
    assert rows.geometry["Z2"].equals(box(100, 40, 110, 50))


def test_inside_feature_keeps_its_own_geometry(zones, houses):
    out = check_violations(houses, zones)
    geom = out.loc[out["building_id"] == "inside", "geometry"].iloc[0]
    assert geom.equals(box(10, 10, 30, 20))


def test_deterministic_order(zones, houses):
    out = check_violations(houses.iloc[::-1], zones.iloc[::-1])
    keys = list(zip(out["building_id"], out["zone_id"], strict=True))
    assert keys == sorted(keys)
    pd.testing.assert_frame_equal(
        pd.DataFrame(out.drop(columns="geometry")),
        pd.DataFrame(check_violations(houses, zones).drop(columns="geometry")),
    )


def test_categories_filter(zones, houses):
    out = check_violations(houses, zones, categories="basic_farmland")
    assert out[["building_id", "zone_id"]].values.tolist() == [["straddle", "Z2"]]
    both = check_violations(houses, zones, categories=["basic_farmland", "eco_redline"])
    assert len(both) == 5


def test_unknown_category_is_refused(zones, houses):
    with pytest.raises(ConfigError, match="farmland_typo"):
        check_violations(houses, zones, categories=["farmland_typo"])


def test_min_overlap_threshold(zones):
    # 0.5 × 1 = 0.5 m² inside Z1
    sliver = gdf({"building_id": ["s"]}, [box(-0.5, 10, 0.5, 11)])
    assert check_violations(sliver, zones).empty
    out = check_violations(sliver, zones, min_overlap_m2=0.1)
    assert out["overlap_m2"].tolist() == [0.5]


def test_multipolygon_zone():
    # two 10 × 10 squares 10 m apart; the house spans 5..25: 5 × 10 in each square
    zone = gdf(
        {"zone_id": ["M"], "category": ["basic_farmland"]},
        [MultiPolygon([box(0, 0, 10, 10), box(20, 0, 30, 10)])],
    )
    house = gdf({"building_id": ["h"]}, [box(5, 0, 25, 10)])
    out = check_violations(house, zone)
    assert len(out) == 1
    assert out["overlap_m2"].iloc[0] == 100.0
    assert out["overlap_share"].iloc[0] == 0.5  # 100 of 20 × 10


BOWTIE = Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])  # self-intersecting at (5, 5)


def test_invalid_zone_is_reported_with_its_id():
    zone = gdf(
        {"zone_id": ["OK1", "BAD7"], "category": ["eco_redline", "eco_redline"]},
        [box(50, 50, 60, 60), BOWTIE],
    )
    house = gdf({"building_id": ["h"]}, [box(0, 0, 10, 10)])
    with pytest.raises(GeometryError) as err:
        check_violations(house, zone)
    assert "BAD7" in str(err.value) and "OK1" not in str(err.value)
    assert "repair=True" in str(err.value)


def test_invalid_zone_repaired_on_request():
    zone = gdf({"zone_id": ["BAD7"], "category": ["eco_redline"]}, [BOWTIE])
    house = gdf({"building_id": ["h"]}, [box(0, 0, 10, 10)])
    out = check_violations(house, zone, repair=True)
    # the bowtie is two triangles of ½ × 10 × 5 = 25 m² each
    assert out["overlap_m2"].tolist() == pytest.approx([50.0])


def test_invalid_feature_is_reported(zones):
    house = gdf({"building_id": ["B-9"]}, [BOWTIE])
    with pytest.raises(GeometryError, match="B-9"):
        check_violations(house, zones)


def test_non_polygon_features_are_refused(zones):
    pts = gdf({"building_id": ["p"]}, [shapely.Point(5, 5)])
    with pytest.raises(GeometryError, match="Polygon"):
        check_violations(pts, zones)


def test_missing_fields_and_crs(zones, houses):
    with pytest.raises(SchemaError, match="category"):
        check_violations(houses, zones.drop(columns="category"))
    with pytest.raises(SchemaError, match="parcel"):
        check_violations(houses, zones, id_field="parcel")
    with pytest.raises(CRSError):
        check_violations(houses.set_crs(None, allow_override=True), zones)


def test_index_used_when_no_id_field(zones):
    house = gpd.GeoDataFrame(geometry=[box(10, 10, 20, 20)], index=[42], crs=CRS)
    out = check_violations(house, zones)
    assert out["feature_id"].tolist() == [42]


def test_reprojects_to_working_crs():
    # a 20 × 10 house inside a zone near Dongping, delivered in geographic coordinates
    zones_gk = gdf(
        {"zone_id": ["Z1", "Z2"], "category": ["eco_redline", "basic_farmland"]},
        [box(640000, 3500000, 640100, 3500100), box(640100, 3500000, 640200, 3500100)],
    )
    house = gdf({"building_id": ["h"]}, [box(640010, 3500010, 640030, 3500020)]).to_crs(4326)
    out = check_violations(house, zones_gk)
    assert out.crs.to_epsg() == CRS
    assert out["overlap_m2"].iloc[0] == pytest.approx(200.0, rel=1e-6)


def test_empty_inputs(zones):
    none = gdf({"building_id": []}, [])
    assert check_violations(none, zones).empty
    far = gdf({"building_id": ["x"]}, [box(1000, 1000, 1001, 1001)])
    out = check_violations(far, zones)
    assert out.empty and "overlap_m2" in out.columns


rect = st.tuples(
    st.integers(-30, 230), st.integers(-30, 130), st.integers(1, 40), st.integers(1, 40)
)


def _clip_area(x, y, w, h, zx0, zx1):
    # arithmetic overlap of [x, x+w] × [y, y+h] with [zx0, zx1] × [0, 100]
    dx = max(0, min(x + w, zx1) - max(x, zx0))
    dy = max(0, min(y + h, 100) - max(y, 0))
    return dx * dy


@settings(max_examples=60, deadline=None)
@given(st.lists(rect, min_size=1, max_size=40))
def test_property_overlaps_match_arithmetic(rects):
    zones = _zones()
    houses = gdf(
        {"building_id": [f"b{i:03d}" for i in range(len(rects))]},
        [box(x, y, x + w, y + h) for x, y, w, h in rects],
    )
    out = check_violations(houses, zones, min_overlap_m2=0.0)
    expected = {}
    for i, (x, y, w, h) in enumerate(rects):
        for zid, (a, b) in {"Z1": (0, 100), "Z2": (100, 200)}.items():
            area = _clip_area(x, y, w, h, a, b)
            if area > 0:
                expected[(f"b{i:03d}", zid)] = float(area)
    got = dict(
        zip(zip(out["building_id"], out["zone_id"], strict=True), out["overlap_m2"], strict=True)
    )
    assert got == expected


def test_matches_geopandas_overlay():
    rng = np.random.default_rng(7)
    # a zone with holes and a jagged edge, plus a multipolygon
    ring = shapely.Point(500, 500).buffer(400, quad_segs=32)
    zone_a = ring.difference(shapely.Point(500, 500).buffer(100)).difference(box(0, 450, 1000, 470))
    zone_b = MultiPolygon([box(1000, 0, 1200, 300), box(1250, 0, 1400, 300)])
    zones = gdf(
        {"zone_id": ["A", "B"], "category": ["eco_redline", "basic_farmland"]}, [zone_a, zone_b]
    )
    xy = rng.uniform(0, 1400, size=(3000, 2))
    wh = rng.uniform(3, 30, size=(3000, 2))
    houses = gdf(
        {"building_id": np.arange(3000)},
        list(shapely.box(xy[:, 0], xy[:, 1], xy[:, 0] + wh[:, 0], xy[:, 1] + wh[:, 1])),
    )
    ours = check_violations(houses, zones, min_overlap_m2=0.0)
    ref = gpd.overlay(houses, zones, how="intersection", keep_geom_type=True)
    ref = ref[ref.area > 0]
    ref_areas = ref.groupby(["building_id", "zone_id"]).apply(lambda g: g.area.sum())
    our_areas = ours.set_index(["building_id", "zone_id"])["overlap_m2"]
    assert set(our_areas.index) == set(ref_areas.index)
    np.testing.assert_allclose(
        our_areas.sort_index().to_numpy(), ref_areas.sort_index().to_numpy(), rtol=1e-9
    )


# --- river setbacks -----------------------------------------------------------------


@pytest.fixture
def rivers() -> gpd.GeoDataFrame:
    return gdf(
        {
            "river_id": ["R1", "R2"],
            "name": ["东风中心河", "村沟"],
            "level": ["district", "village"],
        },
        [shapely.LineString([(0, 0), (1000, 0)]), shapely.LineString([(0, 500), (1000, 500)])],
    )


def test_setback_single_number(rivers):
    sheds = gdf(
        {"building_id": ["near", "far", "over"]},
        [
            box(100, 5, 110, 15),  # 5 m of its 10 m height within 10 m of R1: 5 × 10
            box(100, -22, 110, -12),  # 12 m from R1
            box(200, -5, 210, 5),  # on the river: all 10 × 10
        ],
    )
    out = river_setback_violations(sheds, rivers, setback_m=10)
    assert out[["building_id", "river_id", "overlap_m2"]].values.tolist() == [
        ["near", "R1", pytest.approx(50.0)],
        ["over", "R1", pytest.approx(100.0)],
    ]
    assert out["setback_m"].tolist() == [10.0, 10.0]
    assert out["name"].iloc[0] == "东风中心河"


def test_setback_per_level(rivers):
    sheds = gdf(
        {"building_id": ["a", "b"]},
        [
            box(100, 15, 110, 25),  # district 20 m: 5 × 10 inside
            box(100, 503, 110, 513),  # village 5 m: 2 × 10 inside
        ],
    )
    out = river_setback_violations(sheds, rivers, setback_m={"district": 20, "village": 5})
    assert out[["building_id", "river_id", "level"]].values.tolist() == [
        ["a", "R1", "district"],
        ["b", "R2", "village"],
    ]
    assert out["overlap_m2"].tolist() == pytest.approx([50.0, 20.0])


def test_default_setbacks_come_from_the_yaml(rivers):
    path = Path(landuse.__file__).parent / "data" / "setbacks.yaml"
    spec = yaml.safe_load(path.read_text("utf-8"))
    expected = {k: float(v["setback_m"]) for k, v in spec["levels"].items()}
    assert default_setbacks() == expected
    assert set(expected) == {"district", "town", "village"}
    for v in spec["levels"].values():  # each default is land strip + half channel width
        assert v["setback_m"] == v["land_width_m"] + v["assumed_half_width_m"]
    assert "source" in spec
    d = expected["district"]
    # a 10 m wide shed reaching 4 m into the default district zone
    shed = gdf({"building_id": ["s"]}, [box(300, d - 4, 310, d + 6)])
    out = river_setback_violations(shed, rivers)
    assert out["overlap_m2"].tolist() == pytest.approx([40.0])
    assert out["setback_m"].tolist() == [d]


def test_setback_errors(rivers):
    shed = gdf({"building_id": ["s"]}, [box(0, 0, 1, 1)])
    with pytest.raises(ConfigError, match="R2"):
        river_setback_violations(shed, rivers, setback_m={"district": 20})
    with pytest.raises(ConfigError):
        river_setback_violations(shed, rivers, setback_m=-5)
    with pytest.raises(SchemaError, match="river_id"):
        river_setback_violations(shed, rivers.drop(columns="river_id"), setback_m=5)


# --- rebuilt on demolished sites ----------------------------------------------------


@pytest.fixture
def sites() -> gpd.GeoDataFrame:
    return gdf(
        {
            "case_id": ["C1"],
            "kind": ["concrete_plant"],
            "demolished_on": [dt.date(2020, 5, 1)],
        },
        [box(0, 0, 20, 20)],  # 400 m²
    )


def test_rebuilt_on_demolished(sites):
    survey = gdf(
        {"building_id": ["B1", "B2", "B3", "B4"]},
        [
            box(2, 2, 18, 18),  # 16 × 16 = 256, all of B1, 64 % of the site
            box(19, 0, 40, 20),  # 1 × 20 = 20: 5 % of the site, 20/420 of B2
            box(-50, -50, 100, 100),  # covers the whole site: 100 % of the site
            box(10, 0, 30, 20),  # 10 × 20 = 200: half of B4 and half of the site
        ],
    )
    out = rebuilt_on_demolished(survey, sites)
    assert out["building_id"].tolist() == ["B1", "B3", "B4"]
    assert out["case_id"].tolist() == ["C1"] * 3
    assert out["kind"].tolist() == ["concrete_plant"] * 3
    assert out["demolished_on"].tolist() == [dt.date(2020, 5, 1)] * 3
    assert out["overlap_m2"].tolist() == [256.0, 400.0, 200.0]
    assert out["site_share"].tolist() == [0.64, 1.0, 0.5]
    assert out["overlap_share"].tolist() == [1.0, 400.0 / 22500.0, 0.5]
    strict = rebuilt_on_demolished(survey, sites, min_overlap_share=0.6)
    assert strict["building_id"].tolist() == ["B1", "B3"]


def test_rebuilt_errors(sites):
    survey = gdf({"building_id": ["B1"]}, [box(0, 0, 1, 1)])
    with pytest.raises(SchemaError, match="demolished_on"):
        rebuilt_on_demolished(survey, sites.drop(columns="demolished_on"))
    with pytest.raises(ConfigError):
        rebuilt_on_demolished(survey, sites, min_overlap_share=0)


# --- new structures -----------------------------------------------------------------


def test_new_structures():
    before = gdf(
        {"building_id": ["A", "C", "D", "S"]},
        [box(0, 0, 10, 10), box(100, 0, 110, 10), box(200, 0, 210, 10), box(300, 0, 304, 4)],
    )
    after = gdf(
        {"building_id": ["A2", "B", "C2", "D", "E", "S2"]},
        [
            box(1, 0.5, 11, 10.5),  # A shifted by (1, 0.5): same building
            box(50, 0, 60, 10),  # nothing there before
            box(100, 0, 140, 10),  # C replaced by one 4 × its size: ≤ 12 × 10 of 400 matched
            box(200, 0, 210, 10),  # unchanged
            box(211, 0, 214, 3),  # 3 × 3 shed 1 m from D: 1 × 3 of 9 within 2 m
            box(302.5, 0, 306.5, 4),  # 4 × 4 shed S shifted 2.5 m: 1.5 × 4 = 6 of 16 overlap
        ],
    )
    out = new_structures(before, after)
    assert out["building_id"].tolist() == ["B", "C2", "E"]
    # without a tolerance, the 2.5 m shift of the small shed makes it look new (6/16 < ½)
    strict = new_structures(before, after, tolerance_m=0.0)
    assert strict["building_id"].tolist() == ["B", "C2", "E", "S2"]


def test_new_structures_keeps_columns_and_validates():
    before = gdf({"building_id": ["A"]}, [box(0, 0, 10, 10)])
    after = gdf({"building_id": ["N"], "surveyed_on": ["2022-06-01"]}, [box(50, 0, 60, 10)])
    out = new_structures(before, after)
    assert list(out.columns) == ["building_id", "surveyed_on", "geometry"]
    with pytest.raises(ConfigError):
        new_structures(before, after, tolerance_m=-1)


# --- demolition summary -------------------------------------------------------------


@pytest.fixture
def cases() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "case_id": ["a", "b", "c", "d", "e"],
            "kind": ["concrete_plant", "concrete_plant", "gravel_yard", "villa", "concrete_plant"],
            "region": ["dongfeng", "qianjin", "dongfeng", "dongfeng", "dongfeng"],
            "demolished_on": pd.to_datetime(
                ["2017-03-01", "2018-07-02", "2018-01-05", "2018-11-11", "2017-12-31"]
            ).date,
            "area_m2": [1000.0, 2000.0, 500.0, 300.0, 1500.0],
        }
    )


def test_demolition_summary_default_keys(cases):
    out = demolition_summary(cases)
    assert list(out.columns) == ["year", "kind", "region", "count", "area_m2"]
    assert out.values.tolist() == [
        [2017, "concrete_plant", "dongfeng", 2, 2500.0],
        [2018, "concrete_plant", "qianjin", 1, 2000.0],
        [2018, "gravel_yard", "dongfeng", 1, 500.0],
        [2018, "villa", "dongfeng", 1, 300.0],
    ]


def test_demolition_summary_totals_and_kinds(cases):
    total = demolition_summary(cases, by=())
    assert total.values.tolist() == [[5, 5300.0]]
    kinds = demolition_summary(cases, by="kind").set_index("kind")
    assert kinds["count"].to_dict() == {"concrete_plant": 3, "gravel_yard": 1, "villa": 1}


def test_demolition_summary_uses_geometry_area_when_missing(cases):
    geo = gpd.GeoDataFrame(
        cases.assign(area_m2=[np.nan, 2000.0, 500.0, 300.0, 1500.0]),
        geometry=[box(0, 0, 40, 25)] + [box(0, 0, 1, 1)] * 4,  # 40 × 25 = 1000 m²
        crs=CRS,
    )
    out = demolition_summary(geo, by=("year",))
    assert out.values.tolist() == [[2017, 2, 2500.0], [2018, 3, 2800.0]]


def test_demolition_summary_errors(cases):
    with pytest.raises(SchemaError, match="status"):
        demolition_summary(cases, by=("status",))
    bad = cases.astype({"demolished_on": object})
    bad.loc[2, "demolished_on"] = "last spring"
    with pytest.raises(SchemaError, match="c"):
        demolition_summary(bad)


# --- the sample dataset -------------------------------------------------------------


@pytest.fixture(scope="module")
def sample(sample_dir):
    from dongping_geo.loaders import load_dataset

    return load_dataset(sample_dir, patrols=False)


def test_sample_violations_precision_and_recall(sample):
    planted = sample.manifest["landuse"]["violations"]
    survey = sample.buildings[2022]
    zones = check_violations(survey, sample.redlines)
    farmland = set(zones.loc[zones["category"] == "basic_farmland", "building_id"])
    eco = set(zones.loc[zones["category"] != "basic_farmland", "building_id"])
    assert eco == set(planted["eco_redline"])
    assert farmland == set(planted["basic_farmland"])
    # the default setbacks and the generator's own setbacks find the same planted ones
    for setback in (None, sample.manifest["landuse"]["setback_m"]):
        setback_ids = set(
            river_setback_violations(survey, sample.rivers, setback_m=setback)["building_id"]
        )
        assert setback_ids == set(planted["river_setback"])
    rebuilt = rebuilt_on_demolished(survey, sample.demolitions)
    assert set(rebuilt["building_id"]) == set(planted["demolished_site"])
    assert set(rebuilt["case_id"]) <= set(sample.demolitions["case_id"])


def test_sample_new_structures(sample):
    land = sample.manifest["landuse"]
    new = new_structures(sample.buildings[2020], sample.buildings[2022])
    assert set(new["building_id"]) == set(land["new_in_2022_legal"]) | set(
        land["violation_building_ids"]
    )


def test_sample_demolition_summary_reproduces_the_work_report(sample):
    total = demolition_summary(sample.demolitions, by=())
    assert total["area_m2"].iloc[0] == pytest.approx(350_000, rel=0.01)
    kinds = demolition_summary(sample.demolitions, by=("kind",)).set_index("kind")["count"]
    assert (kinds["concrete_plant"], kinds["plastic_recycling"], kinds["gravel_yard"]) == (
        19,
        8,
        10,
    )
    by_year = demolition_summary(sample.demolitions, by=("year",))
    assert by_year["count"].sum() == len(sample.demolitions)


# --- the check-landuse command ------------------------------------------------------


def _run(args):
    from click.testing import CliRunner

    from dongping_geo.cli import cli

    return CliRunner().invoke(cli, args, catch_exceptions=False)


def test_cli_finds_the_planted_violations(sample_dir, sample, tmp_path):
    import pyogrio

    out = tmp_path / "out"
    args = [
        "check-landuse",
        str(sample_dir),
        "--survey",
        str(sample_dir / "buildings_2022.shp"),
        "--before",
        str(sample_dir / "buildings_2020.shp"),
        "--out",
        str(out),
        "--basemap",
        "none",
        "--lang",
        "en",
    ]
    result = _run(args)
    assert result.exit_code == 1, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "demolitions.png",
        "violations.csv",
        "violations.gpkg",
        "violations.html",
    ]
    layers = [name for name, _ in pyogrio.list_layers(out / "violations.gpkg")]
    checks = ["redline", "farmland", "setback", "rebuilt"]
    assert layers == [n for c in checks for n in (c, f"{c}_overlap")] + ["layer_styles"]
    raw = (out / "violations.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for Excel
    table = pd.read_csv(out / "violations.csv", encoding="utf-8-sig")
    planted = sample.manifest["landuse"]["violations"]
    expected = (
        {("redline", b) for b in planted["eco_redline"]}
        | {("farmland", b) for b in planted["basic_farmland"]}
        | {("setback", b) for b in planted["river_setback"]}
        | {("rebuilt", b) for b in planted["demolished_site"]}
    )
    words = {code: en for code, (_, en) in CATEGORY_LABELS["check"].items()}
    assert set(zip(table["check"], table["building_id"], strict=True)) == {(words[c], b) for c, b in expected}
    assert "setback" in result.output  # the summary table
    # deterministic: a second run writes the same table byte for byte
    assert _run(args).exit_code == 1
    assert (out / "violations.csv").read_bytes() == raw
    assert not list(out.glob(".*"))  # no temporary files left behind


def test_cli_clean_survey_exits_0(sample_dir, sample, tmp_path):
    from dongping_geo.io import write_layer

    bad = set(sample.manifest["landuse"]["violation_building_ids"])
    clean = sample.buildings[2022]
    clean = clean[~clean["building_id"].isin(bad)]
    survey = write_layer(clean, tmp_path / "clean.gpkg", layer="buildings")
    result = _run(
        ["check-landuse", str(sample_dir), "--survey", str(survey), "--out", str(tmp_path / "o"),
         "--basemap", "none"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert pd.read_csv(tmp_path / "o" / "violations.csv", encoding="utf-8-sig").empty


def test_cli_bad_input_exits_2_and_never_overwrites_an_input(sample_dir, sample, tmp_path):
    from dongping_geo.io import write_layer

    out = tmp_path / "o"
    # a survey of points is bad input
    pts = sample.buildings[2022].head(3).copy()
    pts["geometry"] = pts.geometry.centroid
    pts_file = tmp_path / "points.geojson"
    pts.to_file(pts_file, driver="GeoJSON")
    result = _run(["check-landuse", str(sample_dir), "--survey", str(pts_file), "--out", str(out)])
    assert result.exit_code == 2
    assert not out.exists() or not any(out.iterdir())
    # the survey sits where the output would go: refused, input untouched
    out.mkdir(exist_ok=True)
    survey = write_layer(sample.buildings[2022].head(5), out / "violations.gpkg", layer="buildings")
    before = survey.read_bytes()
    result = _run(
        ["check-landuse", str(sample_dir), "--survey", str(survey), "--out", str(out),
         "--basemap", "none"]
    )  # fmt: skip
    assert result.exit_code == 2
    assert "input" in result.output
    assert survey.read_bytes() == before
    result = _run(["check-landuse", str(sample_dir), "--survey", str(tmp_path / "missing.shp"),
                   "--out", str(out)])  # fmt: skip
    assert result.exit_code == 2


@pytest.mark.parametrize("threaded", [False, True])
@pytest.mark.parametrize("cell_m", [None, 7.0, 40.0, 150.0, 5000.0])
def test_grid_overlay_equals_brute_force(cell_m, threaded, monkeypatch):
    # every code path of the grid overlay (cells wholly inside a zone, cells crossed by a
    # boundary, features spanning cells, complex zones, threaded intersections) against
    # shapely on all pairs
    from dongping_geo import _landuse_overlay
    from dongping_geo._landuse_overlay import overlay_pairs

    monkeypatch.setattr(_landuse_overlay, "_THREAD_MIN_PAIRS", 2 if threaded else 10**9)
    monkeypatch.setattr(_landuse_overlay.os, "cpu_count", lambda: 3 if threaded else 1)

    rng = np.random.default_rng(3)
    zones = np.array(
        [
            shapely.Point(300, 300).buffer(250, quad_segs=40).difference(box(280, 0, 300, 600)),
            MultiPolygon([box(600, 0, 900, 200), box(650, 300, 700, 600)]),
            box(100, 100, 800, 150),  # overlaps the others
        ],
        dtype=object,
    )
    xy = rng.uniform(0, 900, size=(1500, 2))
    wh = rng.uniform(1, 60, size=(1500, 2))
    feats = shapely.box(xy[:, 0], xy[:, 1], xy[:, 0] + wh[:, 0], xy[:, 1] + wh[:, 1])
    fi, zi, geoms, areas = overlay_pairs(feats, zones, cell_m=cell_m)
    got = {(int(f), int(z)): a for f, z, a in zip(fi, zi, areas, strict=True) if a > 0}
    assert len(got) == int((areas > 0).sum())  # each pair once
    F, Z = np.meshgrid(np.arange(len(feats)), np.arange(len(zones)), indexing="ij")
    ref = shapely.area(shapely.intersection(feats[F.ravel()], zones[Z.ravel()]))
    expected = {
        (int(f), int(z)): a for f, z, a in zip(F.ravel(), Z.ravel(), ref, strict=True) if a > 0
    }
    assert got.keys() == expected.keys()
    np.testing.assert_allclose(
        [got[k] for k in sorted(got)], [expected[k] for k in sorted(expected)], rtol=1e-9
    )
    np.testing.assert_allclose(shapely.area(geoms), areas)


def test_invalid_feature_far_from_zones_is_not_an_error_but_is_repaired_on_request(zones):
    far_bowtie = shapely.affinity.translate(BOWTIE, 1000, 1000)
    houses = gdf({"building_id": ["far", "in"]}, [far_bowtie, box(10, 10, 20, 20)])
    out = check_violations(houses, zones)
    assert out["building_id"].tolist() == ["in"]
    near_bowtie = shapely.affinity.translate(BOWTIE, 20, 20)  # two 25 m² triangles in Z1
    houses = gdf({"building_id": ["b"]}, [near_bowtie])
    with pytest.raises(GeometryError, match="b"):
        check_violations(houses, zones)
    assert check_violations(houses, zones, repair=True)["overlap_m2"].tolist() == pytest.approx(
        [50.0]
    )


def test_violations_map_layers_legend_and_escaping(zones):
    from dongping_geo.maps import map_html, violations_map

    zones_gk = zones.set_geometry(zones.geometry.translate(640000, 3505000))
    houses = gdf(
        {"building_id": ["<b>x</b>", "B2"]},
        [box(640010, 3505010, 640030, 3505020), box(640090, 3505040, 640110, 3505050)],
    )
    layers = {
        "redline": check_violations(houses, zones_gk, categories="eco_redline"),
        "farmland": check_violations(houses, zones_gk, categories="basic_farmland"),
        "setback": check_violations(houses, zones_gk).iloc[:0],
    }
    raw = map_html(violations_map(layers, zones=zones_gk, basemap="none"))
    # folium writes the legend and the GeoJSON as JSON strings (\uXXXX escapes)
    html = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), raw)
    assert "生态红线/生态空间 Eco red line &amp; space (2)" in html
    assert "永久基本农田 Basic farmland (1)" in html
    assert "河道管理范围 River setback (0)" in html
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html
    with pytest.raises(SchemaError):
        violations_map({"redline": layers["setback"]})


def test_threaded_paths_give_the_same_result(zones, houses, monkeypatch):
    from dongping_geo import _landuse_overlay

    single = check_violations(houses, zones)
    monkeypatch.setattr(_landuse_overlay, "_THREAD_MIN_PAIRS", 2)
    monkeypatch.setattr(_landuse_overlay.os, "cpu_count", lambda: 4)
    pd.testing.assert_frame_equal(check_violations(houses, zones), single)
    bad = gdf({"building_id": ["ok1", "ok2", "B-9"]}, [box(1, 1, 2, 2), box(3, 3, 4, 4), BOWTIE])
    with pytest.raises(GeometryError, match="B-9"):
        check_violations(bad, zones)
