"""Tests for the land survey: land-class table, DLTB loader, ellipsoidal areas, accounts,
changes between vintages and buildings on cultivated land.

Expected values are worked out independently: areas of rectangles by hand (written in
the comments), ellipsoidal areas from the closed-form area of an ellipsoidal quadrangle
(meridians and parallels) and from pyproj's projection scale factors, overlaps against
``geopandas.overlay``, and land-class facts as TD/T 1055-2019 Appendix A prints them.
"""

from __future__ import annotations

import math
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import pytest
import shapely
import shapely.affinity
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon, box

import dongping_geo as dg
from dongping_geo.errors import ConfigError, InputFileError, SchemaError
from dongping_geo.landclass import (
    CULTIVATED_CODES,
    FIRST_LEVEL,
    LAND_CLASSES,
    SQUARE_METRES_PER_MU,
    land_class_table,
    normalize_land_code,
)
from dongping_geo.landuse import cropland_occupation, land_accounts, land_areas, land_changes

CRS = 4549
X0, Y0 = 640_000.0, 3_508_000.0  # Dongping in CGCS2000 / 3-degree GK zone 40

# GRS80 = CGCS2000 ellipsoid (a, 1/f) as the CGCS2000 definition gives them.
A_AXIS, INV_F = 6_378_137.0, 298.257222101


def quadrangle_area(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Closed-form area of the ellipsoid between two meridians and two parallels."""
    f = 1 / INV_F
    b = A_AXIS * (1 - f)
    e = math.sqrt(f * (2 - f))

    def q(lat: float) -> float:
        s = math.sin(math.radians(lat))
        return s / (1 - e * e * s * s) + math.log((1 + e * s) / (1 - e * s)) / (2 * e)

    return b * b * math.radians(lon2 - lon1) / 2 * (q(lat2) - q(lat1))


def gdf(data: dict, geoms: list, crs=CRS) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(data, geometry=geoms, crs=crs)


def dltb(**extra) -> gpd.GeoDataFrame:
    """Four parcels with the survey's standard field names (GK zone 40)."""
    data = {
        "BSM": ["1", "2", "3", "4"],
        "TBBH": ["11", "12", "13", "14"],
        "DLBM": ["0101", "0702", "1202", "0103"],
        "DLMC": ["水田", "农村宅基地", "设施农用地", "旱地"],
        "QSDWDM": ["3102300010010000000"] * 4,
        "QSDWMC": ["东平村"] * 4,
        "ZLDWDM": ["3102300010010000000"] * 3 + ["3102300010020000000"],
        "ZLDWMC": ["东平村"] * 3 + ["北沿村"],
        "TBMJ": [10_000.0, 10_000.0, 10_000.0, 10_000.0],
        "KCXS": [0.05, 0.0, 0.0, 0.1],
        "KCMJ": [500.0, 0.0, 0.0, 1_000.0],
        "TBDLMJ": [9_500.0, 10_000.0, 10_000.0, 9_000.0],
        "GDLX": ["", "", "", "PD"],
        "GDPDJB": ["1", "", "", "2"],
    }
    data.update(extra)
    geoms = [box(X0 + 0, Y0, X0 + 100, Y0 + 100), box(X0 + 100, Y0, X0 + 200, Y0 + 100),
             box(X0 + 200, Y0, X0 + 300, Y0 + 100), box(X0, Y0 + 100, X0 + 100, Y0 + 200)]
    return gdf(data, geoms)


# --- land-class table -----------------------------------------------------------------


def test_wetland_group_is_the_sandiao_one():
    # TD/T 1055-2019 Table A.2: 00 湿地 = 0303 0304 0306 0402 0603 1105 1106 1108
    wet = sorted(c for c, lc in LAND_CLASSES.items() if lc.first_level == "wetland")
    assert wet == ["0303", "0304", "0306", "0402", "0603", "1105", "1106", "1108"]
    # ... and their GB/T 21010-2017 first level is that of their code's prefix
    assert {c: LAND_CLASSES[c].gbt_first_level for c in wet} == {
        "0303": "03", "0304": "03", "0306": "03", "0402": "04", "0603": "06",
        "1105": "11", "1106": "11", "1108": "11"}


def test_table_facts():
    assert CULTIVATED_CODES == ("0101", "0102", "0103")
    assert (LAND_CLASSES["0702"].zh, LAND_CLASSES["0702"].first_level) == ("农村宅基地", "residential")
    assert (LAND_CLASSES["1202"].zh, LAND_CLASSES["1202"].first_level) == ("设施农用地", "other")
    k_codes = sorted(c for c in LAND_CLASSES if c.endswith("K"))
    assert k_codes == ["0201K", "0202K", "0203K", "0204K", "0301K", "0302K", "0307K", "0403K", "1104K"]
    # the 13 first-level classes of the brief, with their Chinese names
    assert [v[1] for v in FIRST_LEVEL.values()] == [
        "湿地", "耕地", "园地", "林地", "草地", "商服用地", "工矿用地", "住宅用地",
        "公共管理与公共服务用地", "特殊用地", "交通运输用地", "水域及水利设施用地", "其他土地"]
    t = land_class_table()
    assert t["code"].is_unique and t["colour"].str.fullmatch(r"#[0-9a-f]{6}").all()
    assert t["zh"].str.len().gt(0).all() and t["en"].str.len().gt(0).all()
    assert set(t["first_level"]) == set(FIRST_LEVEL)
    # GB/T 21010-2017 has 73 second-level classes
    assert (t["scheme"] != "sandiao").sum() == 73


def test_mu_is_one_fifteenth_hectare():
    assert 15 * SQUARE_METRES_PER_MU == pytest.approx(10_000.0, rel=1e-15)


@pytest.mark.parametrize(
    ("raw", "code"),
    [("0101", "0101"), (101, "0101"), (101.0, "0101"), ("101", "0101"), (" 0201k ", "0201K"),
     ("05h1", "05H1"), (1104, "1104"), ("1104A", "1104A"), ("０７０２", "0702"), (9, "09")],
)
def test_code_normalisation(raw, code):
    assert normalize_land_code(raw) == code


@pytest.mark.parametrize("raw", ["0101K", "0101LS", "9999", "01", "", None, 101.5, "水田"])
def test_unknown_codes_refused_naming_the_table(raw):
    with pytest.raises(SchemaError, match="GB/T 21010-2017"):
        normalize_land_code(raw)


# --- loading --------------------------------------------------------------------------


def _write_gdb(frame: gpd.GeoDataFrame, path, layer: str, **kw) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        pyogrio.write_dataframe(frame, path, layer=layer, driver="OpenFileGDB", **kw)


def test_gdal_writes_filegdb():
    assert "w" in pyogrio.list_drivers()["OpenFileGDB"]


def test_filegdb_round_trip(tmp_path):
    src = dltb()
    gdb = tmp_path / "survey_2022.gdb"
    _write_gdb(gdf({"XZQDM": ["310230"]}, [box(X0, Y0, X0 + 300, Y0 + 200)]), gdb, "XZQ")
    _write_gdb(src, gdb, "DLTB", append=True)
    parcels = dg.load_land_survey(gdb)
    assert parcels.attrs["file_layer"] == "DLTB"
    assert parcels["parcel_id"].tolist() == ["11", "12", "13", "14"]
    assert parcels["land_code"].tolist() == ["0101", "0702", "1202", "0103"]
    assert parcels["land_class"].tolist() == ["cultivated", "residential", "other", "cultivated"]
    assert parcels["village"].tolist() == ["东平村", "东平村", "东平村", "北沿村"]
    assert parcels["owner"].tolist() == ["东平村"] * 4
    assert parcels["area_m2"].tolist() == [10_000.0] * 4
    assert parcels["deduction_ratio"].tolist() == [0.05, 0.0, 0.0, 0.1]
    assert parcels["net_area_m2"].tolist() == [9_500.0, 10_000.0, 10_000.0, 9_000.0]
    assert parcels.crs.to_epsg() == 4549
    assert shapely.equals(parcels.geometry.to_numpy(), src.geometry.to_numpy()).all()
    # written back with the package's writer, read again: same parcels
    out = dg.write_layer(parcels.drop(columns="land_class"), tmp_path / "copy.gdb", layer_name="DLTB")
    again = dg.load_land_survey(out)
    pd.testing.assert_frame_equal(
        pd.DataFrame(again.drop(columns="geometry")), pd.DataFrame(parcels.drop(columns="geometry")),
        check_like=True)


def test_layer_found_by_fields_and_chinese_names(tmp_path):
    src = dltb().rename(columns={"DLBM": "地类编码", "TBMJ": "图斑面积", "TBBH": "图斑编号", "ZLDWMC": "坐落单位名称"})
    gpkg = tmp_path / "survey.gpkg"
    pyogrio.write_dataframe(gdf({"name": ["town"]}, [box(X0, Y0, X0 + 1, Y0 + 1)]), gpkg, layer="boundary")
    pyogrio.write_dataframe(src, gpkg, layer="parcels_2022", append=True)
    parcels = dg.load_land_survey(gpkg)
    assert parcels.attrs["file_layer"] == "parcels_2022"
    assert parcels["village"].tolist()[-1] == "北沿村"
    assert parcels["land_code"].tolist() == ["0101", "0702", "1202", "0103"]


def test_numeric_codes_and_shapefile(tmp_path):
    src = dltb(DLBM=[101, 702, 1202, 103])
    shp = tmp_path / "DLTB.shp"
    pyogrio.write_dataframe(src, shp, encoding="utf-8")
    parcels = dg.load_land_survey(shp)
    assert parcels["land_code"].tolist() == ["0101", "0702", "1202", "0103"]
    assert parcels["village"].tolist()[0] == "东平村"


def test_loader_refuses_unknown_codes_and_ambiguous_layers(tmp_path):
    gpkg = tmp_path / "bad.gpkg"
    pyogrio.write_dataframe(dltb(DLBM=["0101", "0101K", "0702", "9999"]), gpkg, layer="DLTB")
    with pytest.raises(SchemaError, match=r"GB/T 21010-2017.*|feature 12, 14") as info:
        dg.load_land_survey(gpkg)
    assert "12, 14" in str(info.value) and "'0101K'" in str(info.value)
    two = tmp_path / "two.gpkg"
    pyogrio.write_dataframe(dltb(), two, layer="a")
    pyogrio.write_dataframe(dltb(), two, layer="b", append=True)
    with pytest.raises(SchemaError, match="which layer"):
        dg.load_land_survey(two)
    assert len(dg.load_land_survey(two, layer="b")) == 4
    with pytest.raises(InputFileError, match="no such layer"):
        dg.load_land_survey(two, layer="DLTB")


# --- ellipsoidal areas -----------------------------------------------------------------


def test_ellipsoidal_area_of_a_lonlat_rectangle_matches_the_closed_form():
    # 0.01° × 0.01° at Dongping (about 1 km²): geodesic edges and parallels bound areas
    # differing by ~1e-9 relative, far below the 1e-7 asked here
    lon1, lat1, lon2, lat2 = 121.50, 31.70, 121.51, 31.71
    hole = (121.502, 31.702, 121.503, 31.703)
    poly = Polygon(shapely.box(lon1, lat1, lon2, lat2).exterior.coords,
                   [shapely.box(*hole).exterior.coords])
    parcels = gdf({"parcel_id": ["P"], "area_m2": [0.0]}, [poly], crs=4490)
    got = land_areas(parcels)["ellipsoidal_m2"].iloc[0]
    expected = quadrangle_area(lon1, lat1, lon2, lat2) - quadrangle_area(*hole)
    assert got == pytest.approx(expected, rel=1e-7)


def test_planar_over_ellipsoidal_is_the_squared_scale_factor():
    # A 100 m square on the zone-40 plane at Dongping, 1.5° from the central meridian.
    sq = box(X0, Y0, X0 + 100, Y0 + 100)
    res = land_areas(gdf({"parcel_id": ["P"], "area_m2": [10_000.0]}, [sq])).iloc[0]
    lon, lat = pyproj.Transformer.from_crs(CRS, 4490, always_xy=True).transform(X0 + 50, Y0 + 50)
    k2 = pyproj.Proj(pyproj.CRS.from_epsg(CRS)).get_factors(lon, lat).areal_scale
    assert res.planar_m2 == pytest.approx(10_000.0)
    assert res.planar_m2 / res.ellipsoidal_m2 == pytest.approx(k2, rel=1e-7)
    assert k2 - 1 > 4e-4  # why a planar TBMJ is flagged at Dongping
    assert bool(res.mismatch)
    # the recorded area equal to the ellipsoidal one (to 0.01 m²) is not flagged
    ok = gdf({"parcel_id": ["P"], "area_m2": [round(res.ellipsoidal_m2, 2)]}, [sq])
    assert not land_areas(ok)["mismatch"].iloc[0]


def test_ellipsoidal_area_independent_of_the_zone():
    sq = gdf({"parcel_id": ["P"], "area_m2": [1.0]}, [box(X0, Y0, X0 + 80, Y0 + 60)])
    a40 = land_areas(sq)["ellipsoidal_m2"].iloc[0]
    a41 = land_areas(sq.to_crs(4550))["ellipsoidal_m2"].iloc[0]
    # straight edges in zone 40 are not straight in zone 41, by well under 1e-6 here
    assert a41 == pytest.approx(a40, rel=1e-6)


def test_land_areas_rejects_negative_tolerance():
    with pytest.raises(ConfigError):
        land_areas(dltb().rename(columns={"TBBH": "parcel_id"}), rtol=-1)


# --- accounts -------------------------------------------------------------------------


def _parcels() -> gpd.GeoDataFrame:
    return dltb().rename(columns={"TBBH": "parcel_id", "DLBM": "land_code", "TBMJ": "area_m2",
                                  "ZLDWMC": "village", "KCXS": "deduction_ratio",
                                  "KCMJ": "deduction_m2", "TBDLMJ": "net_area_m2"})


def test_accounts_totals_equal_sum_of_tbmj():
    p = _parcels()
    p["area_m2"] = [1_234.56, 2_000.0, 345.0, 15_000.0]
    p["net_area_m2"] = [1_172.33, 2_000.0, 345.0, 13_500.0]
    acc = land_accounts(p)
    total = acc[acc["village"] == "total"].iloc[0]
    assert total["area_m2"] == pytest.approx(1_234.56 + 2_000.0 + 345.0 + 15_000.0)
    assert total["parcels"] == 4
    body = acc[acc["village"] != "total"]
    assert body["area_m2"].sum() == pytest.approx(total["area_m2"])
    # 北沿村 cultivated: 15,000 m² = 22.5 亩, net 13,500 m² = 20.25 亩
    row = acc[(acc["village"] == "北沿村") & (acc["land_class"] == "cultivated")].iloc[0]
    assert (row["area_mu"], row["net_area_mu"]) == (pytest.approx(22.5), pytest.approx(20.25))
    assert row["land_class_zh"] == "耕地"
    assert body["village"].tolist() == ["东平村", "东平村", "东平村", "北沿村"]


def test_accounts_net_area_fallbacks_and_second_level():
    p = _parcels().drop(columns=["net_area_m2", "deduction_m2"])
    # only KCXS: net = TBMJ × (1 − KCXS): 0101 9,500; 0103 9,000
    acc = land_accounts(p, by="land_code", totals=False)
    assert acc["land_code"].tolist() == ["0101", "0103", "0702", "1202"]
    assert acc["net_area_m2"].tolist() == pytest.approx([9_500.0, 9_000.0, 10_000.0, 10_000.0])
    assert acc["land_code_zh"].tolist() == ["水田", "旱地", "农村宅基地", "设施农用地"]
    acc = land_accounts(p.drop(columns="deduction_ratio"), by=(), totals=True)
    assert acc[["parcels", "area_m2", "net_area_m2", "area_mu"]].iloc[0].tolist() == [4, 40_000.0, 40_000.0, 60.0]


def test_accounts_refuse_bad_input():
    p = _parcels()
    p.loc[1, "area_m2"] = np.nan
    with pytest.raises(SchemaError, match="TBMJ"):
        land_accounts(p)
    p = _parcels()
    p.loc[2, "land_code"] = "0101K"
    with pytest.raises(SchemaError, match=r"feature 13.*GB/T 21010"):
        land_accounts(p)
    with pytest.raises(SchemaError, match="owner_code"):
        land_accounts(_parcels(), by="owner_code")


# --- buildings on cultivated land -------------------------------------------------------


@pytest.fixture
def houses() -> gpd.GeoDataFrame:
    # parcels (offsets from X0, Y0): 11 0101 [0,100]², 12 0702 [100,200]×[0,100],
    # 13 1202 [200,300]×[0,100], 14 0103 [0,100]×[100,200]
    b = {
        "h_0101_0702": box(90, 10, 110, 20),    # 10×10 on 0101, 10×10 on 0702
        "h_0101_0103": box(40, 95, 60, 105),    # 20×5 on 0101 and 20×5 on 0103
        "h_homestead": box(120, 20, 140, 40),   # inside 0702: not occupation
        "h_facility": box(220, 20, 240, 40),    # inside 1202: not occupation
        "h_touch": box(-10, 0, 0, 10),          # touches 0101 along an edge
        "h_inside": box(10, 10, 30, 25),        # 20×15 inside 0101
        "h_three": box(95, 90, 105, 110),       # 5×10 on 0101, 5×10 on 0103, 5×10 on 0702
    }
    geoms = [shapely.affinity.translate(g, X0, Y0) for g in b.values()]
    return gdf({"building_id": list(b)}, geoms)


def test_cropland_occupation_hand_made(houses):
    hits = cropland_occupation(houses, _parcels())
    got = {(r.building_id, r.parcel_id): r.overlap_m2 for r in hits.itertuples()}
    assert got == pytest.approx({
        ("h_0101_0103", "11"): 100.0, ("h_0101_0103", "14"): 100.0,
        ("h_0101_0702", "11"): 100.0,
        ("h_inside", "11"): 300.0,
        ("h_three", "11"): 50.0, ("h_three", "14"): 50.0,
    })
    assert hits["land_code"].tolist() == ["0101", "0103", "0101", "0101", "0101", "0103"]
    assert hits.loc[hits.building_id == "h_0101_0702", "overlap_share"].iloc[0] == pytest.approx(0.5)
    assert set(hits["village"]) == {"东平村", "北沿村"}


def test_cropland_occupation_matches_geopandas_overlay(houses):
    parcels = _parcels()
    ours = cropland_occupation(houses, parcels, min_overlap_m2=0)
    cult = parcels[parcels["land_code"].isin(CULTIVATED_CODES)]
    ref = gpd.overlay(houses, cult[["parcel_id", "geometry"]], how="intersection", keep_geom_type=True)
    ref = ref[ref.area > 0].sort_values(["building_id", "parcel_id"]).reset_index(drop=True)
    assert ours[["building_id", "parcel_id"]].values.tolist() == ref[["building_id", "parcel_id"]].values.tolist()
    np.testing.assert_allclose(ours["overlap_m2"], ref.area, rtol=1e-12)
    assert shapely.equals(ours.geometry.to_numpy(), ref.geometry.to_numpy()).all()


def test_cropland_occupation_with_farmland_and_codes(houses):
    farm = gdf({"zone_id": ["F1", "E1"], "category": ["basic_farmland", "eco_redline"]},
               [box(X0, Y0, X0 + 50, Y0 + 100), box(X0, Y0, X0 + 300, Y0 + 300)])
    hits = cropland_occupation(houses, _parcels(), farmland=farm)
    by = hits.set_index(["building_id", "parcel_id"])
    # h_0101_0103 on parcel 11 spans x 40..60, y 95..100: 10×5 in F1 (x 0..50)
    assert by.loc[("h_0101_0103", "11"), "farmland_m2"] == pytest.approx(50.0)
    assert bool(by.loc[("h_0101_0103", "11"), "basic_farmland"])
    # ... on parcel 14 (y 100..105) it only touches F1 (y 0..100): no farmland
    assert not by.loc[("h_0101_0103", "14"), "basic_farmland"]
    assert not by.loc[("h_0101_0702", "11"), "basic_farmland"]  # x 90..100, outside F1
    assert by.loc[("h_inside", "11"), "farmland_m2"] == pytest.approx(300.0)
    only_dry = cropland_occupation(houses, _parcels(), land_codes=[103])
    assert sorted(only_dry["building_id"]) == ["h_0101_0103", "h_three"]
    with pytest.raises(SchemaError, match="GB/T 21010"):
        cropland_occupation(houses, _parcels(), land_codes=["0101K"])
    with pytest.raises(ConfigError):
        cropland_occupation(houses, _parcels(), min_overlap_m2=-1)


def test_new_houses_on_cultivated_land(houses):
    before = houses[~houses["building_id"].isin(["h_three", "h_inside"])]
    new = dg.new_structures(before, houses)
    hits = cropland_occupation(new, _parcels())
    assert sorted(set(hits["building_id"])) == ["h_inside", "h_three"]


# --- changes between vintages -----------------------------------------------------------


def test_land_changes_transition_table_and_loss():
    before = _parcels()
    after = before.copy()
    # parcel 11 (0101, 100×100) split: west half stays 0101, east half becomes 0702
    after = pd.concat([after.iloc[1:], gdf(
        {"parcel_id": ["21", "22"], "land_code": ["0101", "0702"], "village": ["东平村"] * 2,
         "area_m2": [5_000.2, 4_999.8]},
        [box(X0, Y0, X0 + 50, Y0 + 100), box(X0 + 50, Y0, X0 + 100, Y0 + 100)])], ignore_index=True)
    after = gpd.GeoDataFrame(after, geometry="geometry", crs=CRS)
    res = land_changes(before, after)
    t = res.transitions.set_index(["village", "from_land_class", "to_land_class"])["area_m2"]
    # every after parcel's pieces add up to its TBMJ
    assert t[("东平村", "cultivated", "residential")] == pytest.approx(4_999.8)
    assert t[("东平村", "cultivated", "cultivated")] == pytest.approx(5_000.2)
    assert t[("东平村", "residential", "residential")] == pytest.approx(10_000.0)
    assert t[("北沿村", "cultivated", "cultivated")] == pytest.approx(10_000.0)
    assert res.transitions["area_m2"].sum() == pytest.approx(after["area_m2"].sum())
    loss = res.cultivated_loss
    assert loss[["before_parcel_id", "after_parcel_id", "from_code", "to_code"]].values.tolist() == [
        ["11", "22", "0101", "0702"]]
    assert loss["area_m2"].iloc[0] == pytest.approx(4_999.8)
    assert loss.geometry.iloc[0].equals(box(X0 + 50, Y0, X0 + 100, Y0 + 100))
    codes = land_changes(before, after, by=None, level="land_code").transitions
    assert codes.loc[codes["changed"], ["from_land_code", "to_land_code"]].values.tolist() == [["0101", "0702"]]
    with pytest.raises(ConfigError):
        land_changes(before, after, level="first")


def test_cropland_occupation_refuses_invalid_buildings_on_cultivated_land(houses):
    bowtie = Polygon([(X0 + 10, Y0 + 10), (X0 + 30, Y0 + 30), (X0 + 30, Y0 + 10), (X0 + 10, Y0 + 30)])
    far = Polygon([(X0 - 500, Y0), (X0 - 480, Y0 + 20), (X0 - 480, Y0), (X0 - 500, Y0 + 20)])
    bad = pd.concat([houses, gdf({"building_id": ["bowtie", "far"]}, [bowtie, far])], ignore_index=True)
    with pytest.raises(dg.errors.GeometryError, match="bowtie"):
        cropland_occupation(bad, _parcels())
    # far from every cultivated parcel an invalid footprint cannot occupy it: not checked
    assert len(cropland_occupation(bad[bad.building_id != "bowtie"], _parcels())) == 6
    repaired = cropland_occupation(bad, _parcels(), repair=True)
    # the bow tie made valid: two triangles of 100 m² each, inside parcel 11
    assert repaired.set_index("building_id").loc["bowtie", "overlap_m2"] == pytest.approx(200.0)


# --- the synthetic DLTB generator (for the sample dataset) ------------------------------


def test_synthetic_land_survey_is_a_consistent_partition(tmp_path):
    from affine import Affine

    from dongping_geo._landsurvey_synth import synthetic_land_survey

    town = box(X0, Y0, X0 + 1_200, Y0 + 900)
    units = gdf({"name": ["甲村", "乙村"]}, [box(X0, Y0, X0 + 600, Y0 + 900), box(X0 + 600, Y0, X0 + 1_200, Y0 + 900)])
    rivers = gdf({"level": ["town"]}, [shapely.LineString([(X0, Y0 + 450), (X0 + 1_200, Y0 + 450)])])
    farm = gdf({"zone_id": ["F"]}, [box(X0 + 100, Y0 + 100, X0 + 500, Y0 + 400)])
    houses = gdf({"building_id": ["a", "b"]}, [box(X0 + 800, Y0 + 600, X0 + 815, Y0 + 612),
                                               box(X0 + 700, Y0 + 100, X0 + 712, Y0 + 110)])
    lc = np.full((90, 120), 2, dtype=np.uint8)  # 10 m cells, all farmland ...
    lc[:30, 60:] = 3  # ... but forest in the north-east
    legend = {2: "farmland", 3: "forest"}
    tf = Affine(10.0, 0, X0, 0, -10.0, Y0 + 900)
    d = synthetic_land_survey(town, units, rivers, farm, houses, (lc, tf), legend, seed=3, parcel_m=200)
    assert d.is_valid.all() and set(d["DLBM"]) <= set(LAND_CLASSES)
    # a partition of the town: no gaps, no overlaps
    assert d.area.sum() == pytest.approx(town.area, rel=1e-9)
    assert shapely.union_all(d.geometry.to_numpy()).area == pytest.approx(town.area, rel=1e-9)
    # TBMJ is the ellipsoidal area, rounded to 0.01 m²
    ell = land_areas(d.rename(columns={"TBBH": "parcel_id", "TBMJ": "area_m2"}))
    assert (ell["difference_m2"].abs() <= 0.005 + 1e-9).all()
    # parcel numbers are unique within each unit; units do not straddle
    assert not d.duplicated(["ZLDWDM", "TBBH"]).any()
    assert set(d["ZLDWMC"]) == {"甲村", "乙村"}
    # the farmland lies on cultivated parcels, the river channel (8 m each side) is water,
    # the houses stand on homestead land, the forest pixels gave forest parcels
    cult = shapely.union_all(d.geometry[d["DLBM"].isin(CULTIVATED_CODES)].to_numpy())
    assert cult.intersection(farm.geometry.iloc[0]).area == pytest.approx(farm.area.iloc[0], rel=1e-9)
    water = shapely.union_all(d.geometry[d["DLBM"] == "1101"].to_numpy())
    assert water.area == pytest.approx(1_200 * 16, rel=1e-6)
    parcels = dg.load_land_survey(_gdb(d, tmp_path))
    assert len(cropland_occupation(houses, parcels)) == 0
    assert set(parcels.loc[parcels.geometry.intersects(houses.union_all()), "land_code"]) == {"0702"}
    assert "0301" in set(d["DLBM"])


def _gdb(frame: gpd.GeoDataFrame, folder) -> str:
    path = str(folder / "synthetic.gdb")
    _write_gdb(frame, path, "DLTB")
    return path


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_occupation_and_changes_equal_overlay_on_random_partitions(seed):
    rng = np.random.default_rng(seed)
    pts = shapely.multipoints(rng.uniform(0, 300, (12, 2)) + [X0, Y0])
    frame = box(X0, Y0, X0 + 300, Y0 + 300)
    cells = shapely.set_precision(shapely.get_parts(shapely.voronoi_polygons(pts, extend_to=frame)), 0.001)
    cells = shapely.intersection(cells, frame)
    codes = rng.choice(["0101", "0102", "0103", "0702", "1202"], size=len(cells))
    parcels = gdf({"parcel_id": [f"P{i}" for i in range(len(cells))], "land_code": codes,
                   "area_m2": shapely.area(cells)}, list(cells))
    c = rng.uniform(0, 300, (40, 2)) + [X0, Y0]
    houses = gdf({"building_id": [f"B{i}" for i in range(40)]},
                 [shapely.affinity.rotate(box(x - 8, y - 5, x + 8, y + 5), a)
                  for (x, y), a in zip(c, rng.uniform(0, 90, 40), strict=True)])
    ours = cropland_occupation(houses, parcels, min_overlap_m2=0)
    cult = parcels[parcels["land_code"].isin(CULTIVATED_CODES)]
    ref = gpd.overlay(houses, cult[["parcel_id", "geometry"]], how="intersection", keep_geom_type=True)
    ref = ref[ref.area > 0].sort_values(["building_id", "parcel_id"])
    assert ours[["building_id", "parcel_id"]].values.tolist() == ref[["building_id", "parcel_id"]].values.tolist()
    np.testing.assert_allclose(ours["overlap_m2"], ref.area, rtol=1e-9)
    # a later vintage: two parcels merged, one reclassified
    after = parcels.copy()
    after.loc[0, "land_code"] = "0702"
    merged = shapely.union_all(after.geometry.iloc[1:3].to_numpy())
    after = pd.concat([after.iloc[[0]], after.iloc[3:], gdf({"parcel_id": ["M"], "land_code": ["0101"],
                       "area_m2": [merged.area]}, [merged])], ignore_index=True)
    after = gpd.GeoDataFrame(after, geometry="geometry", crs=CRS)
    res = land_changes(parcels, after, by=None, level="land_code")
    full = gpd.overlay(parcels[["land_code", "geometry"]], after[["land_code", "geometry"]], how="intersection",
                       keep_geom_type=True)
    full = full[full.area > 1e-6]
    ref_t = full.assign(a=full.area).groupby(["land_code_1", "land_code_2"])["a"].sum()
    got_t = res.transitions.set_index(["from_land_code", "to_land_code"])["area_m2"]
    got_t = got_t[got_t > 1e-6]
    assert got_t.index.tolist() == ref_t.index.tolist()
    np.testing.assert_allclose(got_t.to_numpy(), ref_t.to_numpy(), rtol=1e-9)


def test_work_crs_argument_is_used(houses):
    hits40 = cropland_occupation(houses, _parcels())
    hits41 = cropland_occupation(houses, _parcels(), work_crs=4550)
    assert hits41.crs.to_epsg() == 4550 and hits40.crs.to_epsg() == CRS
    # plane areas in zone 41 differ from zone 40 by the ratio of the two scale factors
    # (the same 1.5° from either central meridian here: nearly equal)
    np.testing.assert_allclose(hits41["overlap_m2"], hits40["overlap_m2"], rtol=2e-4)
    a41 = land_areas(_parcels(), work_crs=4550)
    a40 = land_areas(_parcels())
    np.testing.assert_allclose(a41["ellipsoidal_m2"], a40["ellipsoidal_m2"], rtol=1e-6)
    assert not np.allclose(a41["planar_m2"], a40["planar_m2"], rtol=1e-9, atol=0)
