"""Default QGIS styles in GeoPackages (dongping_geo.qgis_styles)."""

from __future__ import annotations

import sqlite3
import warnings
import xml.etree.ElementTree as ET

import geopandas as gpd
import pyogrio
import pytest
import shapely

from dongping_geo.errors import ConfigError, OutputError
from dongping_geo.qgis_styles import (
    add_layer_styles,
    read_layer_styles,
    style_for,
    style_geopackage,
)


@pytest.fixture
def gpkg(tmp_path):
    path = tmp_path / "out.gpkg"
    polys = gpd.GeoDataFrame(
        {"case_id": ["C1", "C2", "C3", "C4"], "kind": ["villa", "shack", None, "villa"],
         "status": ["已拆除", "已复垦", "已拆除", None]},
        geometry=[shapely.box(i, 0, i + 1, 1) for i in range(4)], crs=4549,
    )
    lines = gpd.GeoDataFrame(
        {"river_id": ["R1", "R2"], "level": ["district", "village"], "compliant": [True, False]},
        geometry=[shapely.LineString([(0, i), (5, i)]) for i in range(2)], crs=4549,
    )
    points = gpd.GeoDataFrame(
        {"section_id": ["S1", "S2", "S3"], "water_class": ["III", "劣V", "III"]},
        geometry=[shapely.Point(i, i) for i in range(3)], crs=4549,
    )
    for name, gdf in (("demolitions", polys), ("rivers", lines), ("sections", points)):
        gdf.to_file(path, layer=name, driver="GPKG")
    return path, {"demolitions": polys, "rivers": lines, "sections": points}


def _default_rows(path):
    with sqlite3.connect(path) as con:
        rows = con.execute(
            'SELECT f_table_name, f_geometry_column, "styleQML", "styleSLD", "useAsDefault" FROM layer_styles'
        ).fetchall()
        contents = con.execute("SELECT data_type, srs_id FROM gpkg_contents WHERE table_name='layer_styles'").fetchone()
        counted = con.execute("SELECT feature_count FROM gpkg_ogr_contents WHERE table_name='layer_styles'").fetchone()
    return rows, contents, counted


def _qml_categories(qml):
    root = ET.fromstring(qml.split("\n", 1)[1])  # after the DOCTYPE line
    renderer = root.find("renderer-v2")
    cats = {c.get("value"): c.get("label") for c in renderer.iter("category")}
    colours = {}
    symbols = {s.get("name"): s for s in renderer.find("symbols")}
    for c in renderer.iter("category"):
        props = {p.get("k"): p.get("v") for p in symbols[c.get("symbol")].iter("prop")}
        colours[c.get("value")] = props.get("color") or props.get("line_color")
    return renderer, cats, colours


def test_every_layer_gets_a_default_style_naming_every_category(gpkg):
    path, layers = gpkg
    style_geopackage(path)
    rows, contents, counted = _default_rows(path)
    assert sorted(r[0] for r in rows) == ["demolitions", "rivers", "sections"]
    assert all(r[1] == "geom" and r[4] == 1 for r in rows)
    assert contents == ("attributes", 0)  # registered as QGIS/GDAL do
    assert counted == (3,)
    by_layer = {r[0]: r for r in rows}

    renderer, cats, colours = _qml_categories(by_layer["demolitions"][2])
    assert renderer.get("type") == "categorizedSymbol" and renderer.get("attr") == "kind"
    assert cats == {"villa": "违建别墅 Illegal villa", "shack": "窝棚彩钢棚 Shack", "": "未知 Unknown"}
    assert colours["villa"].startswith("166,86,40,")  # #a65628, as on the HTML maps

    renderer, cats, colours = _qml_categories(by_layer["sections"][2])
    assert renderer.get("attr") == "water_class"
    assert cats == {"III": "Ⅲ类 Class III", "劣V": "劣Ⅴ类 Worse than V"}
    assert colours["III"] == "0,176,80,255" and colours["劣V"] == "224,0,0,255"

    renderer, cats, _ = _qml_categories(by_layer["rivers"][2])
    assert renderer.get("attr") == "compliant"  # before level in DEFAULT_STYLE_FIELDS
    assert cats == {"true": "达标 met", "false": "未达标 missed"}
    assert {c.get("type") for c in renderer.iter("category")} == {"bool"}  # as QGIS types booleans
    for value in layers["rivers"]["compliant"]:
        assert ("true" if value else "false") in cats

    for r in rows:  # the SLD parses and has a rule per category
        sld = ET.fromstring(r[3].encode())
        rules = sld.findall(".//{http://www.opengis.net/se}Rule")
        assert len(rules) == len(_qml_categories(r[2])[1])


def test_layers_still_read_without_warnings(gpkg):
    path, layers = gpkg
    style_geopackage(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name, original in layers.items():
            back = pyogrio.read_dataframe(path, layer=name)
            assert len(back) == len(original)
        styles = pyogrio.read_dataframe(path, layer="layer_styles")
    assert len(styles) == 3
    assert list(styles.columns) == [  # the columns QGIS writes and reads
        "f_table_catalog", "f_table_schema", "f_table_name", "f_geometry_column", "styleName", "styleQML",
        "styleSLD", "useAsDefault", "description", "owner", "ui", "update_time",
    ]


def test_restyling_replaces_and_keeps_one_default(gpkg):
    path, layers = gpkg
    style_geopackage(path)
    add_layer_styles(path, {"demolitions": style_for(layers["demolitions"], field="status")})
    table = read_layer_styles(path)
    demol = table[table["f_table_name"] == "demolitions"]
    assert len(demol) == 1 and demol["useAsDefault"].tolist() == [1]
    _, cats, colours = _qml_categories(demol["styleQML"].iloc[0])
    assert set(cats) == {"已拆除", "已复垦", ""}  # free text: labelled with itself
    assert len(set(colours.values())) == 3
    rows, _, counted = _default_rows(path)
    assert counted == (len(rows),)


def test_single_symbol_without_a_category_field():
    gdf = gpd.GeoDataFrame({"x": [1]}, geometry=[shapely.Point(0, 0)], crs=4549)
    style = style_for(gdf)
    root = ET.fromstring(style.to_qml().split("\n", 1)[1])
    assert root.find("renderer-v2").get("type") == "singleSymbol"
    assert root.find("layerGeometryType").text == "0"


def test_bad_input_refused(gpkg, tmp_path):
    path, layers = gpkg
    with pytest.raises(ConfigError, match="no such layer"):
        add_layer_styles(path, {"river": style_for(layers["rivers"])})
    with pytest.raises(ConfigError, match="field"):
        style_for(layers["rivers"], field="nope")
    other = tmp_path / "x.gpkg"
    other.write_bytes(b"not a database at all" * 10)
    with pytest.raises(OutputError, match="not a GeoPackage"):
        add_layer_styles(other, {})
