"""The land survey in the sample dataset, the dataset loaders and the command line (issue 18).

Expected values come from the manifest's planted list (the generator's design, not the
checker's output), from hand-made parcels with known areas, from the GB/T 21010 codes,
and from the File Geodatabase read directly with pyogrio, never from the code under test.
"""

from __future__ import annotations

import shutil
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
import shapely
from click.testing import CliRunner
from shapely.geometry import box

import dongping_geo as dg
from dongping_geo.cli import cli
from dongping_geo.landclass import CULTIVATED_CODES, SQUARE_METRES_PER_MU
from dongping_geo.landuse import cropland_occupation, new_structures
from dongping_geo.loaders import inspect_dataset, inspect_file
from dongping_geo.schemas import CATEGORY_LABELS

STANDARD_FIELDS = ("BSM", "TBBH", "DLBM", "DLMC", "QSXZ", "QSDWDM", "QSDWMC", "ZLDWDM", "ZLDWMC",
                   "TBMJ", "KCDLBM", "KCXS", "KCMJ", "TBDLMJ", "GDLX", "GDPDJB")
X0, Y0 = 640_000.0, 3_508_000.0


def _run(args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def gdb(sample_dir):
    path = sample_dir / "dltb_2020.gdb"
    if not path.exists():
        pytest.skip("sample land survey not generated yet")
    return path


@pytest.fixture(scope="module")
def facts(sample_dir, gdb):
    import json

    return json.loads((sample_dir / "manifest.json").read_text(encoding="utf-8"))["land_survey"]


@pytest.fixture(scope="module")
def raw(gdb):
    """The parcel layer read directly (standard names, no package code)."""
    return pyogrio.read_dataframe(gdb, layer="DLTB")


@pytest.fixture(scope="module")
def parcels(gdb):
    return dg.load_land_survey(gdb)


@pytest.fixture(scope="module")
def surveys(sample_dir):
    return (dg.load_layer(sample_dir / "buildings_2020.shp", "buildings"),
            dg.load_layer(sample_dir / "buildings_2022.shp", "buildings"))


# --- the sample's File Geodatabase ---------------------------------------------------------


def test_sample_dltb_is_a_small_filegdb_with_the_standard_fields(gdb, raw, facts):
    info = pyogrio.read_info(gdb, layer="DLTB")
    assert info["driver"] == "OpenFileGDB"
    assert set(STANDARD_FIELDS) <= set(info["fields"])
    assert raw.crs.to_epsg() == 4549
    assert len(raw) == facts["parcels"]
    size = sum(p.stat().st_size for p in gdb.rglob("*") if p.is_file())
    assert size < 3 * 1024 * 1024
    # official areas: TBMJ summed to the cm² as recorded; net = TBMJ − KCMJ, KCMJ = TBMJ × KCXS
    assert raw["TBMJ"].sum() == pytest.approx(facts["tbmj_sum_m2"], abs=0.01)
    assert np.allclose(raw["TBDLMJ"], raw["TBMJ"] - raw["KCMJ"], atol=0.006)
    assert np.allclose(raw["KCMJ"], raw["TBMJ"] * raw["KCXS"], atol=0.006)
    assert set(raw.loc[raw["KCXS"] > 0, "DLBM"]) <= set(CULTIVATED_CODES)
    # parcel numbers unique within each village unit; the parcels partition the town
    assert not raw.duplicated(["ZLDWDM", "TBBH"]).any()
    assert raw.is_valid.all()


def test_sample_dltb_is_consistent_with_farmland_buildings_and_land_cover(sample_dir, raw, surveys):
    redlines = gpd.read_file(sample_dir / "redlines.shp")
    basic = shapely.union_all(redlines.geometry[redlines["category"] == "basic_farmland"].to_numpy())
    cult = shapely.union_all(raw.geometry[raw["DLBM"].isin(CULTIVATED_CODES)].to_numpy())
    # basic farmland is cultivated land, but for the homestead plots of old houses at its edge
    assert cult.intersection(basic).area / basic.area > 0.999
    # every building of the 2020 survey stands on no cultivated parcel
    b2020 = surveys[0].geometry.to_numpy()
    tree = shapely.STRtree(raw.geometry.to_numpy())
    bi, pi = tree.query(b2020, predicate="intersects")
    overlap = shapely.area(shapely.intersection(b2020[bi], raw.geometry.to_numpy()[pi]))
    on_cult = raw["DLBM"].to_numpy()[pi][overlap > 1e-6]
    assert not set(on_cult) & set(CULTIVATED_CODES)
    # forest and greenhouse parcels lie where the 2020 land cover says forest / greenhouse
    with rasterio.open(sample_dir / "landcover_2020.tif") as src:
        for code, klass in (("0301", 3), ("1202", 6)):
            pts = shapely.point_on_surface(raw.geometry[raw["DLBM"] == code].to_numpy())
            values = [v[0] for v in src.sample(shapely.get_coordinates(pts))]
            assert len(values) and set(values) == {klass}, code


def test_planted_new_houses_on_cultivated_land_precision_and_recall(sample_dir, parcels, surveys, facts):
    redlines = dg.load_layer(sample_dir / "redlines.shp", "redlines")
    new = new_structures(*surveys)
    hits = cropland_occupation(new, parcels, farmland=redlines)
    planted = set(facts["new_houses_on_cultivated_land"])
    assert len(planted) == 8
    assert set(hits["building_id"]) == planted  # 100 % precision and recall
    on_basic = hits.groupby("building_id")["basic_farmland"].any()
    assert set(on_basic.index[on_basic]) == set(facts["on_basic_farmland"])
    # the whole 2022 survey (no --before): the same houses, the old ones stand on homesteads
    assert set(cropland_occupation(surveys[1], parcels)["building_id"]) == planted


# --- dataset, validate, inspect ----------------------------------------------------------------


def test_dataset_loads_and_validates_the_land_survey(sample_dir, gdb, facts):
    ds = dg.load_dataset(sample_dir, patrols=False)
    assert ds.files["land_survey"] == gdb
    assert len(ds.land_survey) == facts["parcels"]
    assert {"parcel_id", "land_code", "land_class", "village", "area_m2"} <= set(ds.land_survey.columns)
    reports = [r for r in inspect_dataset(sample_dir) if r.path == gdb]
    assert len(reports) == 1 and reports[0].layer == "land_survey" and not reports[0].problems
    result = _run(["validate", gdb])
    assert result.exit_code == 0, result.output
    assert "land_survey" in result.output
    result = _run(["info", gdb])
    assert result.exit_code == 0 and "(layer DLTB)" in result.output and "TBMJ" in result.output


def _write_gdb(frame, path, layer):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        pyogrio.write_dataframe(frame, path, layer=layer, driver="OpenFileGDB")
    return path


def _dltb(codes, boxes, **extra):
    n = len(codes)
    geoms = [box(X0 + a, Y0 + b, X0 + c, Y0 + d) for a, b, c, d in boxes]
    data = {"TBBH": [str(i + 1) for i in range(n)], "DLBM": codes, "ZLDWDM": ["3101519990010000000"] * n,
            "ZLDWMC": ["甲村"] * n, "TBMJ": [round(g.area / 1.000499, 2) for g in geoms], **extra}
    return gpd.GeoDataFrame(data, geometry=geoms, crs=4549)


def test_a_gdb_with_another_name_is_found_by_its_fields(tmp_path):
    folder = tmp_path / "ds"
    folder.mkdir()
    _write_gdb(_dltb(["0101", "0702"], [(0, 0, 100, 100), (100, 0, 200, 100)]), folder / "survey.gdb", "parcels")
    _write_gdb(gpd.GeoDataFrame({"name": ["x"]}, geometry=[box(X0, Y0, X0 + 1, Y0 + 1)], crs=4549),
               folder / "other.gdb", "misc")
    ds = dg.load_dataset(folder)
    assert ds.files["land_survey"] == folder / "survey.gdb"
    assert list(ds.land_survey["land_code"]) == ["0101", "0702"]
    report = inspect_file(folder / "survey.gdb")
    assert (report.layer, report.layer_source, report.features, report.problems) == ("land_survey", "layers", 2, [])
    # an unknown code is one problem naming the table
    _write_gdb(_dltb(["0101LS"], [(0, 0, 100, 100)]), tmp_path / "bad.gdb", "DLTB")
    problems = inspect_file(tmp_path / "bad.gdb").problems
    assert len(problems) == 1 and "0101LS" in str(problems[0])


# --- check-landuse --land-survey ------------------------------------------------------------


def test_check_landuse_with_land_survey_finds_the_planted_houses(sample_dir, gdb, facts, tmp_path):
    out = tmp_path / "out"
    result = _run(["check-landuse", sample_dir, "--survey", sample_dir / "buildings_2022.shp",
                   "--before", sample_dir / "buildings_2020.shp", "--land-survey", gdb,
                   "--out", out, "--basemap", "none", "--lang", "en"])
    assert result.exit_code == 1, result.output
    layers = [name for name, geom in pyogrio.list_layers(out / "violations.gpkg") if geom is not None]
    assert "cropland" in layers and "cropland_overlap" in layers
    table = pd.read_csv(out / "violations.csv", encoding="utf-8-sig", dtype={"parcel_id": str})
    cropland = table[table["check"] == CATEGORY_LABELS["check"]["cropland"][1]]  # --lang en: words
    assert set(cropland["building_id"]) == set(facts["new_houses_on_cultivated_land"])
    assert "乱占耕地建房" in result.output
    assert (gdb / "a00000009.gdbtable").exists()  # the input is untouched, nothing written into it


def _tiny_dataset(tmp_path):
    folder = tmp_path / "ds"
    folder.mkdir()
    zones = gpd.GeoDataFrame({"zone_id": ["F1"], "name": ["基本农田"], "category": ["basic_farmland"]},
                             geometry=[box(X0 + 1000, Y0, X0 + 1100, Y0 + 100)], crs=4549)
    dg.write_layer(zones, folder / "redlines.shp", layer="redlines")
    survey = _write_gdb(_dltb(["0101", "0702", "1202"], [(0, 0, 100, 100), (100, 0, 200, 100), (200, 0, 300, 100)]),
                        tmp_path / "dltb.gdb", "DLTB")
    return folder, survey


def _houses(tmp_path, boxes):
    gdf = gpd.GeoDataFrame({"building_id": [f"H{i}" for i in range(len(boxes))]},
                           geometry=[box(X0 + a, Y0 + b, X0 + c, Y0 + d) for a, b, c, d in boxes], crs=4549)
    return dg.write_layer(gdf, tmp_path / f"houses{len(boxes)}.gpkg", layer="buildings")


def test_check_landuse_land_survey_exit_codes(tmp_path):
    folder, survey = _tiny_dataset(tmp_path)
    # a house on the homestead, one on facility farmland: no occupation, exit 0
    clean = _houses(tmp_path, [(140, 40, 160, 55), (240, 40, 260, 55)])
    args = ["check-landuse", folder, "--land-survey", survey, "--basemap", "none",
            "--skip-missing", "setback,rebuilt"]
    result = _run([*args, "--survey", clean, "--out", tmp_path / "o0"])
    assert result.exit_code == 0, result.output
    # a third house across the 0101/0702 line: 10 m × 10 m on the paddy field, exit 1
    dirty = _houses(tmp_path, [(140, 40, 160, 55), (240, 40, 260, 55), (90, 40, 110, 50)])
    result = _run([*args, "--survey", dirty, "--out", tmp_path / "o1"])
    assert result.exit_code == 1, result.output
    hits = gpd.read_file(tmp_path / "o1" / "violations.gpkg", layer="cropland")
    assert list(hits["building_id"]) == ["H2"] and hits["overlap_m2"].iloc[0] == pytest.approx(100.0)
    assert list(hits["land_code"]) == ["0101"] and not hits["basic_farmland"].iloc[0]
    # with --before = the clean survey only the new house is checked: still found
    result = _run([*args, "--survey", dirty, "--before", clean, "--out", tmp_path / "o2"])
    assert result.exit_code == 1
    # an unknown land code, or a missing survey: bad input, exit 2, nothing written
    bad = _write_gdb(_dltb(["0101LS"], [(0, 0, 100, 100)]), tmp_path / "bad.gdb", "DLTB")
    rest = args[4:]
    result = _run([*args[:3], bad, *rest, "--survey", dirty, "--out", tmp_path / "o3"])
    assert result.exit_code == 2 and "0101LS" in result.output
    assert not (tmp_path / "o3").exists() or not any((tmp_path / "o3").iterdir())
    result = _run([*args[:3], tmp_path / "missing.gdb", *rest, "--survey", dirty, "--out", tmp_path / "o4"])
    assert result.exit_code == 2


# --- land-accounts ---------------------------------------------------------------------------


def test_land_accounts_command_on_the_sample(gdb, raw, tmp_path):
    out = tmp_path / "acc"
    result = _run(["land-accounts", gdb, "--by", "village", "--out", out, "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["land_accounts.csv"]
    table = pd.read_csv(out / "land_accounts.csv", encoding="utf-8-sig")
    total = table[table["village"] == "total"].iloc[0]
    assert total["area_m2"] == pytest.approx(raw["TBMJ"].sum(), abs=0.01)
    assert total["parcels"] == len(raw)
    by_village = table[table["village"] != "total"].groupby("village")["area_m2"].sum()
    expected = raw.groupby("ZLDWMC")["TBMJ"].sum()
    assert by_village.to_dict() == pytest.approx(expected.to_dict(), abs=0.05)
    cult = table[table["land_class"] == CATEGORY_LABELS["land_class"]["cultivated"][1]]  # --lang en: words
    expected_cult = raw.loc[raw["DLBM"].isin(CULTIVATED_CODES)]
    assert cult["area_m2"].sum() == pytest.approx(expected_cult["TBMJ"].sum(), abs=0.05)
    assert cult["net_area_m2"].sum() == pytest.approx(expected_cult["TBDLMJ"].sum(), abs=0.05)
    assert cult["area_mu"].sum() == pytest.approx(expected_cult["TBMJ"].sum() / (10_000 / 15), abs=0.01)


def test_land_accounts_with_before_lists_the_cultivated_land_lost(tmp_path):
    # before: three paddy fields; after: the middle one is a homestead
    boxes = [(0, 0, 100, 100), (100, 0, 200, 100), (200, 0, 300, 100)]
    before = _write_gdb(_dltb(["0101", "0101", "0101"], boxes), tmp_path / "dltb_2021.gdb", "DLTB")
    after = _write_gdb(_dltb(["0101", "0702", "0101"], boxes), tmp_path / "dltb_2022.gdb", "DLTB")
    tbmj = round(10_000 / 1.000499, 2)
    out = tmp_path / "acc"
    result = _run(["land-accounts", after, "--by", "village", "--before", before, "--level", "land_code",
                   "--out", out, "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["cultivated_loss.csv", "cultivated_loss.gpkg",
                                                    "land_accounts.csv", "land_transitions.csv"]
    loss = gpd.read_file(out / "cultivated_loss.gpkg")
    assert list(loss["after_parcel_id"]) == ["2"] and loss["area_m2"].iloc[0] == pytest.approx(tbmj, abs=0.01)
    assert loss.area.iloc[0] == pytest.approx(10_000.0)
    tr = pd.read_csv(out / "land_transitions.csv", encoding="utf-8-sig", dtype=str)
    moved = tr[tr["changed"] == "True"]
    assert moved[["village", "from_land_code", "to_land_code"]].values.tolist() == [["甲村", "0101", "0702"]]
    assert float(moved["area_mu"].iloc[0]) == pytest.approx(tbmj / SQUARE_METRES_PER_MU, abs=1e-4)
    # --by none: the town as one unit
    result = _run(["land-accounts", after, "--by", "none", "--out", tmp_path / "town", "--lang", "en"])
    acc = pd.read_csv(tmp_path / "town" / "land_accounts.csv", encoding="utf-8-sig")
    classes = CATEGORY_LABELS["land_class"]
    assert acc["land_class"].tolist() == [classes["cultivated"][1], classes["residential"][1], "total"]
    assert acc["area_m2"].tolist() == pytest.approx([2 * tbmj, tbmj, 3 * tbmj], abs=0.01)


def test_land_accounts_bad_input_exits_2(tmp_path):
    bad = _write_gdb(_dltb(["0101LS"], [(0, 0, 100, 100)]), tmp_path / "bad.gdb", "DLTB")
    result = _run(["land-accounts", bad, "--out", tmp_path / "o"])
    assert result.exit_code == 2 and "0101LS" in result.output
    result = _run(["land-accounts", tmp_path / "missing.gdb", "--out", tmp_path / "o"])
    assert result.exit_code == 2
    good = _write_gdb(_dltb(["0101"], [(0, 0, 100, 100)]), tmp_path / "good.gdb", "DLTB")
    result = _run(["land-accounts", good, "--by", "no_such_column", "--out", tmp_path / "o"])
    assert result.exit_code == 2 and "no_such_column" in result.output
    # the output may not land inside the survey it read
    result = _run(["land-accounts", good, "--out", good / "acc"])
    assert result.exit_code == 2
    assert not (good / "acc").exists()
    shutil.rmtree(good)


def test_polygonal_keeps_collections_without_polygons_empty():
    # land_changes met a pair whose overlap was only lines (a GeometryCollection): it crashed
    from dongping_geo._landuse_overlay import polygonal

    lines = shapely.GeometryCollection([shapely.LineString([(2, 2), (3, 3)])])
    out = polygonal(np.array([lines], dtype=object))
    assert out.size == 1 and shapely.is_empty(out[0]) and shapely.area(out[0]) == 0.0
