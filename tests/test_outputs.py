"""What the commands write for people: Chinese-first tables, PNG charts, styled GeoPackages.

The demo runs once on the sample dataset (about 10 s); the tests then open what it wrote.
Expected words come from the declared labels (schemas.CATEGORY_LABELS), category values
from the layers as read back with pyogrio, never from the code that wrote them.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from PIL import Image

from dongping_geo.cli import cli
from dongping_geo.io import read_layer
from dongping_geo.loaders import load_dataset, load_layer
from dongping_geo.qgis_styles import read_layer_styles
from dongping_geo.schemas import CATEGORY_LABELS


@pytest.fixture(scope="module")
def demo_out(sample_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "out"
    result = CliRunner().invoke(cli, ["demo", "--data", str(sample_dir), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def _csv(path: Path) -> pd.DataFrame:
    assert path.read_bytes().startswith(b"\xef\xbb\xbf"), path
    return pd.read_csv(path, encoding="utf-8-sig")


def test_demo_tables_are_chinese_first(demo_out):
    tables = sorted(demo_out.rglob("*.csv"))
    assert {p.name for p in tables} >= {"coverage.csv", "compliance.csv", "assessment.csv", "violations.csv",
                                        "demolitions_by_year.csv"}
    for path in tables:
        header = list(_csv(path).columns)
        # every header that has a Chinese name starts with it ("河道名称 name"); most have one
        chinese = [h for h in header if any("\u4e00" <= ch <= "\u9fff" for ch in h.split(" ")[0])]
        assert len(chinese) >= len(header) / 2, (path.name, header)
    cov = _csv(demo_out / "patrol" / "coverage.csv")
    assert "河道名称 name" in cov.columns and "覆盖率(%) coverage" in cov.columns
    levels = {zh for zh, _ in CATEGORY_LABELS["level"].values()}
    assert set(cov["河道等级 level"]) <= levels
    # lengths to 0.1 m
    lengths = cov["长度(m) length_m"].to_numpy(float)
    assert np.allclose(lengths, np.round(lengths, 1))


def test_demolition_summary_has_a_totals_row_equal_to_the_layer(demo_out, sample_dir):
    by_year = _csv(demo_out / "demolitions" / "demolitions_by_year.csv")
    dem = load_layer(sample_dir / "demolitions.shp", "demolitions")
    assert by_year.iloc[-1, 0] == "合计 Total"
    assert by_year.iloc[-1]["数量 count"] == len(dem)
    assert by_year.iloc[:-1]["数量 count"].sum() == len(dem)
    for key in ("kind", "region"):
        table = _csv(demo_out / "demolitions" / f"demolitions_by_{key}.csv")
        assert table.iloc[-1]["数量 count"] == len(dem)


def test_demo_charts_are_pngs_with_ink(demo_out):
    pngs = sorted(demo_out.rglob("*.png"))
    names = {p.name for p in pngs}
    assert {"compliance.png", "demolitions.png"} <= names
    assert any(n.endswith("_class.png") for n in names)
    for path in pngs:
        pixels = np.asarray(Image.open(path).convert("L"))
        assert pixels.shape[0] > 200 and pixels.std() > 5, path  # not a blank page


def _qml_categories(qml: str) -> tuple[str | None, set[str]]:
    root = ET.fromstring(qml)
    renderer = root.find("renderer-v2")
    assert renderer is not None
    values = {c.get("value") for c in renderer.iter("category")}
    return renderer.get("attr"), {v for v in values if v is not None}


def test_every_geopackage_has_a_style_per_layer_naming_every_category(demo_out):
    gpkgs = sorted(demo_out.rglob("*.gpkg"))
    assert {p.name for p in gpkgs} >= {"uncovered.gpkg", "violations.gpkg"}
    for path in gpkgs:
        styles = read_layer_styles(path).set_index("f_table_name")
        layers = [name for name, geom in pyogrio.list_layers(path) if geom is not None]
        assert set(styles.index) == set(layers), path
        for layer in layers:
            attr, values = _qml_categories(styles.at[layer, "styleQML"])
            if attr is None:
                continue  # single symbol
            data = pyogrio.read_dataframe(path, layer=layer, columns=[attr], read_geometry=False)[attr]
            present = {str(v).lower() if isinstance(v, bool | np.bool_) else str(v) for v in data.dropna()}
            assert present <= values, (path.name, layer, present - values)


def test_violations_keep_whole_footprints_and_overlaps(demo_out, sample_dir):
    path = demo_out / "landuse" / "violations.gpkg"
    survey = load_layer(sample_dir / "buildings_2022.shp", "buildings").to_crs(4549).set_index("building_id")
    whole = gpd.read_file(path, layer="setback").to_crs(4549)
    part = gpd.read_file(path, layer="setback_overlap").to_crs(4549)
    assert len(whole) == len(part) > 0
    assert {"use", "surveyed_on", "river_id", "overlap_m2"} <= set(whole.columns)
    for _, row in whole.iterrows():
        footprint = survey.geometry[row["building_id"]]
        assert shapely.equals_exact(shapely.normalize(row.geometry), shapely.normalize(footprint), tolerance=0.01)
    assert (part.area.to_numpy() < whole.area.to_numpy()).all()


def test_xlsx_one_workbook_a_sheet_per_table_and_english(sample_dir, tmp_path):
    out = tmp_path / "wq"
    result = CliRunner().invoke(cli, ["water-quality", str(sample_dir), "--out", str(out), "--format", "xlsx",
                                      "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert not list(out.glob("*.csv"))
    sheets = pd.read_excel(out / "water_quality.xlsx", sheet_name=None)
    assert list(sheets) == ["assessment", "rivers", "summary"]
    classes = {en for _, en in CATEGORY_LABELS["water_class"].values()}
    assert set(sheets["assessment"]["water_class"].dropna()) <= classes


def test_read_layer_load_dataset_and_info_pass_over_layer_styles(demo_out, sample_dir, tmp_path):
    uncovered = demo_out / "patrol" / "uncovered.gpkg"
    assert "layer_styles" in pyogrio.list_layers(uncovered)[:, 0]
    assert read_layer(uncovered).attrs["layer"] == "uncovered"
    folder = tmp_path / "ds"
    folder.mkdir()
    for p in sample_dir.glob("rivers.*"):
        (folder / p.name).write_bytes(p.read_bytes())
    from dongping_geo.reports import write_styled_layers

    write_styled_layers({"sections": gpd.read_file(sample_dir / "sections.shp")}, folder / "sections.gpkg")
    ds = load_dataset(folder, patrols=False)
    assert len(ds.sections) == len(gpd.read_file(sample_dir / "sections.shp"))
    result = CliRunner().invoke(cli, ["info", str(uncovered)])
    assert result.exit_code == 0, result.output
    assert "layer_styles" not in result.output and "layer uncovered" in result.output


def test_field_names_zh_names_the_columns_an_analysis_added(demo_out, tmp_path):
    from dongping_geo.io import write_layer
    from dongping_geo.schemas import OUTPUT_FIELD_LABELS, get_schema

    gaps = read_layer(demo_out / "patrol" / "uncovered.gpkg")
    path = write_layer(gaps, tmp_path / "gaps.gpkg", layer="rivers", field_names="zh")
    columns = [c for c in pyogrio.read_info(path)["fields"]]
    rivers = get_schema("rivers")
    assert columns == [rivers.field("river_id").zh, rivers.field("name").zh, rivers.field("chief").zh,
                       OUTPUT_FIELD_LABELS["from_m"], OUTPUT_FIELD_LABELS["to_m"], OUTPUT_FIELD_LABELS["length_m"]]
