"""The input layer under careless users and hostile files (issue 14).

Nothing silently wrong (dates, ids, repairs, areas), every row accounted for
(``on_error="report"``), every problem listed with its file line, spreadsheet-safe
outputs, and outputs that never touch an input. Expected values are written by hand.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

import dongping_geo as dg
from dongping_geo import loaders
from dongping_geo._validation import REJECTED_COLUMNS, check_polygons
from dongping_geo.errors import (
    ConfigError,
    DongpingGeoError,
    GeometryError,
    InputFileError,
    OutputError,
    SchemaError,
)
from dongping_geo.io import (
    check_output_path,
    neutralize_formulas,
    write_layer,
    write_table,
    write_tables,
)
from dongping_geo.schemas import date_problems, normalize_ids, parse_datetime

X0, Y0 = 640_000.0, 3_510_000.0  # EPSG:4549, Chongming's north shore
LON, LAT = 121.5, 31.7


def _square(i: int, size: float = 50.0) -> shapely.Polygon:
    return shapely.box(X0 + 100 * i, Y0, X0 + 100 * i + size, Y0 + size)


def _layers() -> dict[str, gpd.GeoDataFrame]:
    """One small valid GeoDataFrame per vector layer (EPSG:4549), three features each."""
    n = 3
    lines = [shapely.LineString([(X0, Y0 + 500 * i), (X0 + 1000, Y0 + 500 * i)]) for i in range(n)]
    return {
        "rivers": gpd.GeoDataFrame({"river_id": ["R0", "R1", "R2"], "name": ["甲河", "乙河", "丙河"],
                                    "level": ["town", "镇管", "village"]}, geometry=lines, crs=4549),
        "sections": gpd.GeoDataFrame({"section_id": ["S0", "S1", "S2"], "name": ["a", "b", "c"],
                                      "tier": ["town"] * n, "target_class": ["III", "Ⅲ类", "3"]},
                                     geometry=[shapely.Point(X0 + i, Y0) for i in range(n)], crs=4549),
        "redlines": gpd.GeoDataFrame({"zone_id": ["Z0", "Z1", "Z2"], "category": ["eco_redline"] * n},
                                     geometry=[_square(i) for i in range(n)], crs=4549),
        "demolitions": gpd.GeoDataFrame({"case_id": ["C0", "C1", "C2"], "kind": ["shack"] * n,
                                         "demolished_on": ["2022-03-05", "2022/3/6", "2022年3月7日"],
                                         "area_m2": [10.0, 20.0, 30.0]},
                                        geometry=[_square(i) for i in range(n)], crs=4549),
        "buildings": gpd.GeoDataFrame({"building_id": ["B0", "B1", "B2"]},
                                      geometry=[_square(i) for i in range(n)], crs=4549),
        "regions": gpd.GeoDataFrame({"region": ["dongfeng", "前进", "长江"]},
                                    geometry=[_square(i, 90) for i in range(n)], crs=4549),
    }


def _patrol_csv(path: Path, times=None, extra: dict | None = None) -> Path:
    times = times or ["2022-06-01 08:00:00", "2022-06-01 08:00:30", "2022-06-01 08:01:00"]
    data = {"lon": [LON, LON + 0.001, LON + 0.002][: len(times)], "lat": [LAT] * len(times), "time": times,
            "patrol_id": ["P1"] * len(times)}
    data.update(extra or {})
    pd.DataFrame(data).to_csv(path, index=False)
    return path


def _rejected_ok(result: pd.DataFrame) -> pd.DataFrame:
    rejected = result.attrs["rejected"]
    assert list(rejected.columns) == REJECTED_COLUMNS
    return rejected


# --- dates: one parser, refusing what it cannot read for sure -----------------------

def test_accepted_date_forms():
    parsed, bad = parse_datetime(pd.Series(["2022-03-05", "2022/3/5", "2022年3月5日", "2022-03-05T00:00:00+08:00",
                                            "2022-03-04T16:00:00Z", "2022/3/5 10:30", "2022-03-05 10:30:15"]))
    assert not bad.any()
    expected = ["2022-03-05 00:00", "2022-03-05 00:00", "2022-03-05 00:00", "2022-03-05 00:00",
                "2022-03-05 00:00", "2022-03-05 10:30", "2022-03-05 10:30"]
    assert parsed.dt.strftime("%Y-%m-%d %H:%M").tolist() == expected
    assert str(parsed.dt.tz) == "Asia/Shanghai"


@pytest.mark.parametrize("raw, reason", [
    ("19-3-5", "not one of the accepted date forms"),
    ("02/06/2022", "not one of the accepted date forms"),
    ("10:30", "a time without a date"),
    ("0022-03-05", "year outside 1900–2100"),
    ("9999-12-31", "year outside 1900–2100"),
    ("2022-02-30", "not a calendar date/time"),
])
def test_ambiguous_or_impossible_dates_are_refused(raw, reason):
    parsed, why = date_problems(pd.Series([raw]))
    assert why.tolist() == [reason] and parsed.isna().all()


def test_date_format_says_what_the_file_uses():
    parsed, bad = parse_datetime(pd.Series(["02/06/2022", "9/12/2022"]), date_format="%d/%m/%Y")
    assert not bad.any()
    assert parsed.dt.strftime("%Y-%m-%d").tolist() == ["2022-06-02", "2022-12-09"]
    _, why = date_problems(pd.Series(["2022-06-02"]), date_format="%d/%m/%Y")
    assert "date_format" in why.iloc[0]


@pytest.mark.parametrize("raw", ["0022-03-05", "9999-12-31", "02/06/2022", "19-3-5"])
def test_loader_refuses_bad_dates_with_the_accepted_forms(tmp_path, raw):
    gdf = _layers()["demolitions"]
    gdf["demolished_on"] = ["2022-03-05", raw, "2022-03-07"]
    path = tmp_path / "demolitions.gpkg"
    write_layer(gdf, path)
    with pytest.raises(SchemaError, match="cannot parse date") as exc:
        dg.load_demolitions(path)
    assert "2022年3月5日" in str(exc.value) and "C1" in str(exc.value)  # accepted forms, the feature


def test_loader_date_format(tmp_path):
    gdf = _layers()["demolitions"]
    gdf["demolished_on"] = ["05/03/2022", "06/03/2022", "07/03/2022"]
    write_layer(gdf, tmp_path / "d.gpkg")
    out = dg.load_demolitions(tmp_path / "d.gpkg", date_format="%d/%m/%Y")
    assert out["demolished_on"].dt.strftime("%Y-%m-%d").tolist() == ["2022-03-05", "2022-03-06", "2022-03-07"]


def test_patrol_time_only_column_is_combined_with_the_date_column(tmp_path):
    path = _patrol_csv(tmp_path / "p.csv", times=["10:55:10", "10:55:40"],
                       extra={"日期": ["2022-06-01", "2022-06-01"]})
    out = dg.load_patrols(path)
    assert out["timestamp"].tolist() == [pd.Timestamp("2022-06-01 10:55:10", tz="Asia/Shanghai"),
                                         pd.Timestamp("2022-06-01 10:55:40", tz="Asia/Shanghai")]


def test_patrol_xlsx_date_and_time_cells_are_combined(tmp_path):
    import datetime

    path = tmp_path / "patrols.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["经度", "纬度", "日期", "时间"])
    book.active.append([LON, LAT, datetime.datetime(2022, 6, 1), datetime.time(10, 55, 10)])
    book.save(path)
    out = dg.load_patrols(path)
    assert out["timestamp"].tolist() == [pd.Timestamp("2022-06-01 10:55:10", tz="Asia/Shanghai")]


def test_patrol_time_only_column_without_a_date_is_refused(tmp_path):
    path = _patrol_csv(tmp_path / "p.csv", times=["10:55:10", "10:55:40"])
    with pytest.raises(SchemaError, match="times without a date"):
        dg.load_patrols(path)


# --- ids read as floats -------------------------------------------------------------

def test_float_ids_normalise_and_fractional_ids_are_refused():
    ids, bad = normalize_ids(pd.Series([101.0, "101", " 102.0 ", 101.5, None, np.inf], dtype=object))
    assert ids.tolist() == ["101", "101", "102", None, None, None]
    assert bad.tolist() == [False, False, False, True, False, True]


def test_real_section_ids_join_measurements(tmp_path):
    gdf = _layers()["sections"]
    gdf["section_id"] = [101.0, 102.0, 103.0]  # a GeoPackage REAL column
    write_layer(gdf, tmp_path / "sections.gpkg")
    assert pyogrio.read_info(tmp_path / "sections.gpkg")["dtypes"][0] == "float64"
    sections = dg.load_sections(tmp_path / "sections.gpkg")
    assert sections["section_id"].tolist() == ["101", "102", "103"]
    gdf["section_id"] = [101.0, 101.5, 103.0]
    write_layer(gdf, tmp_path / "bad.gpkg")
    with pytest.raises(SchemaError, match="whole number"):
        dg.load_layer(tmp_path / "bad.gpkg", "sections")


# --- geometry policy ----------------------------------------------------------------

def test_repair_never_turns_a_river_into_a_point(tmp_path):
    rivers = _layers()["rivers"]
    good = shapely.LineString([(X0, Y0 + 2000), (X0 + 800, Y0 + 2000)])
    rivers.loc[1, "geometry"] = shapely.MultiLineString([[(X0, Y0), (X0, Y0)], good.coords])  # one degenerate part
    rivers.loc[2, "geometry"] = shapely.LineString([(X0, Y0), (X0, Y0)])  # collapses entirely
    res = dg.schemas.standardize(rivers, "rivers", repair=True)
    assert res.data.geometry.iloc[1].geom_type in ("LineString", "MultiLineString")
    assert res.data.geometry.iloc[1].length == pytest.approx(800.0)
    collapse = [i for i in res.issues if "collapses" in str(i.error)]
    assert len(collapse) == 1 and "R2" in str(collapse[0].error) and collapse[0].mask.tolist() == [False, False, True]
    assert not any(g.geom_type == "Point" for g in res.data.geometry)


def test_check_polygons_is_one_policy_for_analyses():
    bow = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])  # bow tie: two triangles of area 1
    zones = gpd.GeoDataFrame({"zone_id": ["Z"]}, geometry=[bow], crs=4549)
    with pytest.raises(GeometryError, match="invalid"):
        check_polygons(zones, layer="zones")
    fixed = check_polygons(zones, layer="zones", repair=True, id_field="zone_id")
    assert fixed.geometry.iloc[0].area == pytest.approx(2.0) and fixed.geometry.iloc[0].is_valid
    with pytest.raises(GeometryError, match="wrong geometry type"):
        check_polygons(gpd.GeoSeries([shapely.Point(0, 0)]), layer="zones")


@pytest.mark.parametrize("area", [-5.0, np.inf])
def test_negative_or_infinite_area_is_an_error(tmp_path, area):
    gdf = _layers()["demolitions"]
    gdf["area_m2"] = [10.0, area, 30.0]
    write_layer(gdf, tmp_path / "demolitions.gpkg")
    with pytest.raises(SchemaError, match="C1"):
        dg.load_demolitions(tmp_path / "demolitions.gpkg")


def test_duplicate_timestamps_behave_as_docs_say(tmp_path):
    # docs/patrol.md: clean_fixes drops exact duplicates (same patrol and timestamp), the
    # first is kept; duplicates are harmless to coverage.
    from dongping_geo.patrol import clean_fixes, river_coverage

    path = _patrol_csv(tmp_path / "p.csv", times=["2022-06-01 08:00:00", "2022-06-01 08:00:30",
                                                   "2022-06-01 08:00:30", "2022-06-01 08:01:00"],
                       extra={"lon": [LON, LON + 0.001, LON + 0.0015, LON + 0.002], "lat": [LAT] * 4,
                              "patrol_id": ["P1"] * 4})
    fixes = dg.load_patrols(path)
    assert len(fixes) == 4  # the loader keeps both, in file order
    cleaned, dropped = clean_fixes(fixes)
    assert dropped["reason"].tolist() == ["duplicate"] and dropped["row"].tolist() == [2]
    assert fixes.geometry.iloc[1].equals(cleaned.geometry.iloc[1])  # the first of the pair is kept
    x = fixes.geometry.x
    river = gpd.GeoDataFrame({"river_id": ["R"], "name": ["河"], "level": ["town"]},
                             geometry=[shapely.LineString([(x.min() - 500, fixes.geometry.y.iloc[0]),
                                                           (x.max() + 500, fixes.geometry.y.iloc[0])])],
                             crs=fixes.crs)
    a = river_coverage(river, fixes)["covered_m"].iloc[0]
    b = river_coverage(river, cleaned)["covered_m"].iloc[0]
    assert a == pytest.approx(b, rel=1e-9)


# --- on_error="report": every row accounted for -------------------------------------

_LOADERS = {"rivers": dg.load_rivers, "sections": dg.load_sections, "redlines": dg.load_redlines,
            "demolitions": dg.load_demolitions, "buildings": dg.load_buildings, "regions": dg.load_regions}


def _spoil(layer: str, gdf: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, int]:
    """Make the second feature bad in a way particular to the layer; return the FID."""
    bad = {"rivers": ("level", "county"), "sections": ("target_class", "VI"), "redlines": ("category", "x"),
           "demolitions": ("area_m2", -1.0), "regions": ("region", "nowhere")}
    gdf = gdf.copy()
    if layer in bad:
        col, value = bad[layer]
        gdf[col] = gdf[col].astype(object)
        gdf.loc[1, col] = value
    else:
        gdf.loc[1, "geometry"] = shapely.Point(X0, Y0)
    return gdf, 1


@pytest.mark.parametrize("layer", sorted(_LOADERS))
def test_every_layer_loader_reports_rows(tmp_path, layer):
    gdf, _ = _spoil(layer, _layers()[layer])
    path = tmp_path / f"{layer}.gpkg"
    write_layer(gdf, path)
    with pytest.raises(DongpingGeoError):
        _LOADERS[layer](path)
    out = _LOADERS[layer](path, on_error="report")
    rejected = _rejected_ok(out)
    assert len(out) + len(rejected) == len(gdf) == 3
    assert rejected["row"].tolist() == [2]  # GeoPackage FIDs start at 1: the second feature
    assert rejected["file"].tolist() == [str(path)]
    assert out.index.tolist() == [0, 1]
    same = dg.load_layer(path, layer, on_error="report")
    assert len(same) == 2 and len(same.attrs["rejected"]) == 1


def test_load_layer_rejects_unknown_on_error(tmp_path):
    write_layer(_layers()["rivers"], tmp_path / "rivers.gpkg")
    with pytest.raises(ConfigError, match="on_error"):
        dg.load_rivers(tmp_path / "rivers.gpkg", on_error="ignore")


def test_patrol_csv_report_names_the_file_line_with_blank_lines_counted(tmp_path):
    path = tmp_path / "patrols.csv"
    path.write_text(
        "lon,lat,time,patrol_id\n"                   # line 1
        f"{LON},{LAT},2022-06-01 08:00:00,P1\n"      # line 2
        "\n"                                         # line 3 (blank)
        f"x,{LAT},2022-06-01 08:00:30,P1\n"          # line 4: bad coordinate
        f"{LON},{LAT},02/06/2022,P1\n"               # line 5: ambiguous date
        "\n\n"                                       # lines 6, 7
        f"{LON},{LAT},2022-06-01 08:01:30,P1\n",     # line 8
        encoding="utf-8")
    out = dg.load_patrols(path, on_error="report")
    rejected = _rejected_ok(out)
    assert len(out) == 2 and len(rejected) == 2  # 4 data rows in
    assert rejected["row"].tolist() == [4, 5]
    assert rejected["field"].tolist() == ["lon/lat", "timestamp"]
    report = dg.inspect_file(path)
    lines = [str(p) for p in report.problems]
    assert len(lines) == 2 and "line 4" in lines[0] and "line 5" in lines[1] and "02/06/2022" in lines[1]


def test_patrol_xlsx_report_rows_are_spreadsheet_lines(tmp_path):
    path = tmp_path / "patrols.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["经度", "纬度", "时间", "patrol_id"])
    sheet.append([LON, LAT, "2022-06-01 08:00:00", "P1"])
    sheet.append([])
    sheet.append([LON, LAT, "昨天", "P1"])
    book.save(path)
    out = dg.load_patrols(path, on_error="report")
    assert len(out) == 1 and _rejected_ok(out)["row"].tolist() == [4]


def test_load_dataset_reports_rows_of_every_layer(tmp_path):
    layers = _layers()
    for name, gdf in layers.items():
        if name == "buildings":
            name = "buildings_2022"
        spoiled, _ = _spoil(name.split("_")[0], gdf)
        write_layer(spoiled, tmp_path / f"{name}.gpkg")
    _patrol_csv(tmp_path / "patrols.csv", times=["2022-06-01 08:00:00", "10:30", "2022-06-01 08:01:00"])
    with pytest.raises(DongpingGeoError):
        dg.load_dataset(tmp_path)
    ds = dg.load_dataset(tmp_path, on_error="report")
    rejected = ds.rejected
    assert list(rejected.columns) == REJECTED_COLUMNS
    assert len(rejected) == 7  # one per layer file + the patrol time
    kept = sum(len(getattr(ds, n)) for n in ("rivers", "sections", "redlines", "demolitions", "regions", "patrols"))
    assert kept + len(ds.buildings[2022]) + len(rejected) == 7 * 3


# --- validate: layer from columns, stray files ---------------------------------------

def test_guess_layer_from_columns(tmp_path):
    assert loaders.guess_layer(["河道编码", "河道名称", "河道等级"]) == "rivers"
    assert loaders.guess_layer(["断面编码", "断面名称", "考核级别", "水质目标"]) == "sections"
    assert loaders.guess_layer(["经度", "纬度", "时间"]) == "patrols"
    assert loaders.guess_layer(["foo", "bar"]) is None
    gdf = _layers()["rivers"].rename(columns={"river_id": "河道编码", "name": "河道名称", "level": "河道等级"})
    path = tmp_path / "河道2023.shp"
    write_layer(gdf, path, encoding="GBK")  # 4 Chinese characters: 8 bytes in GBK, 12 in UTF-8
    report = dg.inspect_file(path)
    assert report.layer == "rivers" and report.layer_source == "columns" and report.problems == []


def test_stray_unreadable_file_in_dataset_folder(tmp_path):
    write_layer(_layers()["rivers"], tmp_path / "rivers.gpkg")
    (tmp_path / "notes.gpkg").write_bytes(b"not a geopackage at all")
    with pytest.raises(InputFileError):
        dg.load_dataset(tmp_path)
    reports = loaders.inspect_dataset(tmp_path)
    broken = [r for r in reports if r.problems]
    assert [r.path.name for r in broken] == ["notes.gpkg"]
    assert isinstance(broken[0].problems[0], InputFileError)


def test_stray_incomplete_shapefile_and_bad_manifest(tmp_path):
    write_layer(_layers()["rivers"], tmp_path / "rivers.gpkg")
    write_layer(_layers()["rivers"], tmp_path / "roads.shp")
    (tmp_path / "roads.dbf").unlink()
    (tmp_path / "manifest.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(InputFileError):
        dg.load_dataset(tmp_path)
    broken = sorted(r.path.name for r in loaders.inspect_dataset(tmp_path) if r.problems)
    assert broken == ["manifest.json", "roads.shp"]


def test_inspect_dataset_finds_unknown_section_ids(tmp_path):
    write_layer(_layers()["sections"], tmp_path / "sections.gpkg")
    pd.DataFrame({"断面编码": ["S0", "S9"], "采样日期": ["2022-03-05"] * 2, "监测项目": ["NH3-N"] * 2,
                  "监测值": ["0.5", "0.6"], "单位": ["mg/L"] * 2}).to_csv(tmp_path / "measurements.csv", index=False)
    reports = loaders.inspect_dataset(tmp_path)
    problems = [str(p) for r in reports for p in r.problems]
    assert any("S9" in p and "not in the sections layer" in p for p in problems)


# --- spreadsheet safety and XLSX ----------------------------------------------------

_HOSTILE = ["=HYPERLINK(\"http://x\",\"点\")", "+1", "-1+2", "@SUM(A1)", "\tx", "\rx", "王伟"]


def test_csv_cells_are_neutralised_numbers_stay_numbers(tmp_path):
    df = pd.DataFrame({"chief": _HOSTILE, "n": [-5, 1, 2, 3, 4, 5, 6], "x": [-0.5] * 7})
    path = write_table(df, tmp_path / "t.csv")
    import csv

    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert [r[0] for r in rows[1:7]] == ["'" + v for v in _HOSTILE[:6]] and rows[7][0] == "王伟"
    assert rows[1][1:] == ["-5", "-0.5"]  # numbers are not prefixed


def test_xlsx_cells_neutralised_header_bold_frozen_widths(tmp_path):
    df = pd.DataFrame({"河长": _HOSTILE, "n": [-5, 1, 2, 3, 4, 5, 6]})
    path = write_tables({"河长": df, "other": pd.DataFrame({"a": [1]})}, tmp_path / "t.xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["河长", "other"]
    sheet = book["河长"]
    assert sheet["A2"].value == "'" + _HOSTILE[0] and sheet["B2"].value == -5
    assert sheet["A1"].font.bold and sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["A"].width > 10
    single = write_table(df, tmp_path / "one.xlsx")
    assert openpyxl.load_workbook(single).active["A5"].value == "'@SUM(A1)"


def test_neutralize_formulas_leaves_safe_text_alone():
    df = neutralize_formulas(pd.DataFrame({"a": ["河", None, "a=b"]}))
    assert df["a"].tolist()[0] == "河" and df["a"].tolist()[2] == "a=b"


# --- GeoPackage dates and field names ------------------------------------------------

def test_gpkg_dates_and_datetimes_read_back_without_warnings(tmp_path):
    gdf = _layers()["demolitions"]
    gdf["demolished_on"] = pd.to_datetime(gdf["demolished_on"].str.replace("年", "-").str.replace("月", "-")
                                          .str.replace("日", "").str.replace("/", "-"), format="mixed")
    gdf["demolished_on"] = gdf["demolished_on"].dt.tz_localize("Asia/Shanghai")
    gdf["seen_at"] = pd.to_datetime(["2022-03-05 10:30:15"] * 3).tz_localize("Asia/Shanghai")
    path = write_layer(gdf, tmp_path / "d.gpkg", layer="demolitions")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        back = pyogrio.read_dataframe(path)
    assert [str(w.message) for w in caught] == []
    import sqlite3

    with sqlite3.connect(path) as con:
        sql = con.execute("select sql from sqlite_master where name='d'").fetchone()[0]
    assert '"demolished_on" DATE' in sql and '"seen_at" DATETIME' in sql
    assert back["seen_at"].dt.tz_convert("Asia/Shanghai").iloc[0] == pd.Timestamp("2022-03-05 10:30:15",
                                                                                   tz="Asia/Shanghai")
    assert dg.load_demolitions(path)["demolished_on"].dt.strftime("%Y-%m-%d").tolist() == [
        "2022-03-05", "2022-03-06", "2022-03-07"]
    many = dg.write_layers({"a": gdf, "b": gdf.iloc[:0]}, tmp_path / "many.gpkg")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        both = [pyogrio.read_dataframe(many, layer=name) for name in ("a", "b")]
    assert [str(w.message) for w in caught] == [] and [len(b) for b in both] == [3, 0]
    with sqlite3.connect(many) as con:
        sql = con.execute("select sql from sqlite_master where name='a'").fetchone()[0]
    assert '"demolished_on" DATE' in sql and '"seen_at" DATETIME' in sql


def test_field_names_zh_needs_a_layer_and_long_shapefile_names_are_refused(tmp_path):
    gdf = _layers()["rivers"]
    with pytest.raises(ConfigError, match="layer"):
        write_layer(gdf, tmp_path / "a.gpkg", field_names="zh")
    with pytest.raises(ConfigError, match="field_names"):
        write_layer(gdf, tmp_path / "a.gpkg", layer="rivers", field_names="chinese")
    with pytest.raises(SchemaError, match="too long"):
        write_layer(gdf.assign(a_very_long_name=1), tmp_path / "a.shp")
    assert not list(tmp_path.iterdir())
    for layer, data in _layers().items():  # zh works for every layer, and loads back
        path = write_layer(data, tmp_path / f"{layer}.gpkg", layer=layer, field_names="zh")
        assert len(dg.load_layer(path, layer)) == 3


# --- outputs never touch inputs -----------------------------------------------------

def test_check_output_path_refuses_inputs_sidecars_and_dataset_folders(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    shp = write_layer(_layers()["rivers"], data / "rivers.shp")
    table = tmp_path / "patrols.csv"
    table.write_text("a\n1\n", encoding="utf-8")
    inputs = [data, table]
    for bad in (data / "rivers.shp", data / "out" / "map.html", table):
        with pytest.raises(OutputError, match="input"):
            check_output_path(bad, inputs=inputs)
    with pytest.raises(OutputError, match="input"):
        check_output_path(tmp_path / "x" / "rivers.dbf", inputs=[tmp_path / "x" / "rivers.shp"])
    assert check_output_path(tmp_path / "out" / "a.csv", inputs=inputs) == tmp_path / "out" / "a.csv"
    before = shp.read_bytes()
    with pytest.raises(OutputError):
        write_layer(_layers()["rivers"], shp, inputs=[data])
    with pytest.raises(OutputError):
        write_table(pd.DataFrame({"a": [1]}), table, inputs=[table])
    assert shp.read_bytes() == before and table.read_text(encoding="utf-8") == "a\n1\n"


def test_inputs_are_explicit_not_process_state(tmp_path):
    # What a writer refuses depends on its inputs= only, never on what the process read before
    # (the command line passes every input; see tests/test_cli_safety.py).
    table = _patrol_csv(tmp_path / "patrols.csv")
    dg.load_patrols(table)
    with pytest.raises(OutputError, match="overwrite an input"):
        write_table(pd.DataFrame({"a": [1]}), table, inputs=[table])
    folder = tmp_path / "ds"
    folder.mkdir()
    write_layer(_layers()["rivers"], folder / "rivers.gpkg")
    dg.load_dataset(folder)
    with pytest.raises(OutputError, match="inside an input folder"):
        write_table(pd.DataFrame({"a": [1]}), folder / "report.csv", inputs=[folder])
    assert write_table(pd.DataFrame({"a": [1]}), folder / "report.csv").exists()  # no hidden record
    assert not hasattr(dg.io, "_READ_PATHS") and not hasattr(dg.io, "register_input")


def test_unwritable_targets_are_output_errors(tmp_path, monkeypatch):
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(OutputError, match="not under a file"):
        write_table(pd.DataFrame({"a": [1]}), afile / "out.csv", inputs=[])
    with pytest.raises(OutputError, match="folder"):
        check_output_path(tmp_path, inputs=[])
    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == locked else real_access(p, mode))
    with pytest.raises(OutputError, match="read-only"):
        write_layer(_layers()["rivers"], locked / "r.gpkg", inputs=[])


# --- property tests: mutated files never escape as raw library errors ----------------

_SETTINGS = settings(max_examples=int(os.environ.get("DG_ROBUST_EXAMPLES", "30")), deadline=None)


def _fresh_dir() -> Path:
    """A new folder per example (the writers refuse to overwrite what a loader read)."""
    import tempfile

    return Path(tempfile.mkdtemp(prefix="dg-robust-"))


def _mutate(data: bytes, kind: str, k: int) -> bytes:
    if kind == "truncate":
        return data[: k % max(len(data), 1)]
    if kind == "garbage":
        pos = k % max(len(data), 1)
        return data[:pos] + bytes([(k * 37) % 256, (k * 91) % 256, 0xFF]) + data[pos + 3:]
    if kind == "blank_lines":
        lines = data.split(b"\n")
        at = k % max(len(lines), 1)
        return b"\n".join([*lines[:at], b"", b"  ", *lines[at:]])
    if kind == "drop_column":
        lines = [line.split(b",") for line in data.split(b"\n")]
        col = k % max(len(lines[0]), 1)
        return b"\n".join(b",".join(c for i, c in enumerate(line) if i != col) for line in lines)
    if kind == "encoding":
        return data.decode("utf-8", errors="replace").encode("utf-16")
    if kind == "cell":
        values = [b"", b"=1+1", b"1e400", b"-inf", b"0022-03-05", b"10:30", b"\xe6\xb2\xb3", b'"', b"NaN"]
        lines = data.split(b"\n")
        row = 1 + k % max(len(lines) - 1, 1)
        if row < len(lines):
            cells = lines[row].split(b",")
            cells[k % len(cells)] = values[k % len(values)]
            lines[row] = b",".join(cells)
        return b"\n".join(lines)
    return data


def _loads_or_refuses(load, path: Path, rows_in: int | None) -> None:
    """Either the rows add up (report mode) or a DongpingGeoError; nothing else escapes."""
    try:
        out = load(path, on_error="report")
    except DongpingGeoError:
        return
    rejected = out.attrs["rejected"]
    assert list(rejected.columns) == REJECTED_COLUMNS
    if rows_in is not None:
        assert len(out) + len(rejected) == rows_in


_KINDS = st.sampled_from(["truncate", "garbage", "blank_lines", "drop_column", "encoding", "cell"])


@_SETTINGS
@given(kind=_KINDS, k=st.integers(0, 10_000))
def test_mutated_patrol_csv(kind, k):
    tmp_path = _fresh_dir()
    valid = _patrol_csv(tmp_path / "valid.csv").read_bytes()
    path = tmp_path / "patrols.csv"
    path.write_bytes(_mutate(valid, kind, k))
    rows_in = None
    try:
        rows_in = len(loaders.read_table(path))
    except DongpingGeoError:
        pass
    _loads_or_refuses(dg.load_patrols, path, rows_in)
    report = dg.inspect_file(path)  # never raises
    assert all(isinstance(p, DongpingGeoError) for p in report.problems)


@_SETTINGS
@given(layer=st.sampled_from(sorted(_LOADERS)), kind=st.sampled_from(["truncate", "garbage"]),
       k=st.integers(0, 100_000), fmt=st.sampled_from([".gpkg", ".geojson", ".shp"]))
def test_mutated_vector_files(layer, kind, k, fmt):
    tmp_path = _fresh_dir()
    path = write_layer(_layers()[layer], tmp_path / f"{layer}{fmt}", layer=layer)
    target = path.with_suffix(".dbf") if fmt == ".shp" and k % 2 else path
    target.write_bytes(_mutate(target.read_bytes(), kind, k))
    try:
        rows_in = len(dg.read_layer(path))
    except DongpingGeoError:
        rows_in = None
    _loads_or_refuses(_LOADERS[layer], path, rows_in)


@_SETTINGS
@given(victim=st.sampled_from(["rivers.gpkg", "sections.shp", "patrols.csv", "notes.gpkg"]),
       kind=st.sampled_from(["truncate", "garbage"]), k=st.integers(0, 100_000))
def test_mutated_dataset_folder(victim, kind, k):
    folder = _fresh_dir()
    layers = _layers()
    write_layer(layers["rivers"], folder / "rivers.gpkg")
    write_layer(layers["sections"], folder / "sections.shp", layer="sections")
    write_layer(layers["rivers"], folder / "notes.gpkg")  # an extra layer, read as it is
    _patrol_csv(folder / "patrols.csv")
    target = folder / victim
    target.write_bytes(_mutate(target.read_bytes(), kind, k))
    try:
        ds = dg.load_dataset(folder, on_error="report")
    except DongpingGeoError:
        ds = None
    if ds is not None:
        assert list(ds.rejected.columns) == REJECTED_COLUMNS
    reports = loaders.inspect_dataset(folder)  # never raises
    problems = [p for r in reports for p in r.problems]
    assert all(isinstance(p, DongpingGeoError) for p in problems)
    if ds is None:  # what load_dataset fails on, validate reports
        assert problems


@_SETTINGS
@given(kind=st.sampled_from(["truncate", "garbage"]), k=st.integers(0, 100_000))
def test_mutated_xlsx(kind, k):
    tmp_path = _fresh_dir()
    path = tmp_path / "patrols.xlsx"
    write_tables({"p": pd.read_csv(_patrol_csv(tmp_path / "v.csv"))}, path)
    path.write_bytes(_mutate(path.read_bytes(), kind, k))
    _loads_or_refuses(dg.load_patrols, path, None)


@_SETTINGS
@given(st.lists(st.one_of(st.text(max_size=25), st.sampled_from(
    ["2022-03-05", "2022/3/5", "2022年3月5日", "0022-03-05", "9999-12-31", "10:30", "2022-03-05T10:00:00+08:00",
     "1646300000", "2022-13-01", "１２:００"])), max_size=8))
def test_date_parser_never_raises(values):
    parsed, reason = date_problems(pd.Series(values, dtype=object))
    assert len(parsed) == len(values)
    assert ((reason != "") | parsed.notna() | pd.Series([str(v).strip() == "" for v in values], dtype=bool)).all()
