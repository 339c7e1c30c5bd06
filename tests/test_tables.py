"""Tables for people: headers, value words and rounding (dongping_geo.tables)."""

from __future__ import annotations

import math

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from dongping_geo import schemas
from dongping_geo.errors import ConfigError
from dongping_geo.tables import (
    column_label,
    concentration_decimals,
    localize_table,
    round_by_unit,
    value_label,
)


def _coverage() -> pd.DataFrame:
    return pd.DataFrame({
        "river_id": ["R1", "R2"],
        "name": ["洪林河", "东风中心河"],
        "level": ["district", "town"],
        "region": ["qianjin", "dongfeng"],
        "length_m": [19799.999739958646, 512.04],
        "coverage": [0.98765, 1.0],
        "patrols_covering": [5, 0],
    })


def test_headers_in_each_language():
    df = _coverage()
    both = localize_table(df, layer="rivers")
    assert list(both.columns) == [
        "河道编码 river_id", "河道名称 name", "河道等级 level", "片区 region",
        "长度(m) length_m", "覆盖率(%) coverage", "覆盖巡河次数 patrols_covering",
    ]
    zh = localize_table(df, lang="zh", layer="rivers")
    assert list(zh.columns) == ["河道编码", "河道名称", "河道等级", "片区", "长度(m)", "覆盖率(%)", "覆盖巡河次数"]
    en = localize_table(df, lang="en", layer="rivers")
    assert list(en.columns) == ["river_id", "name", "level", "region", "length_m", "coverage (%)", "patrols_covering"]


def test_layer_decides_ambiguous_names():
    assert column_label("name", layer="sections") == "断面名称 name"
    assert column_label("name", layer="rivers", lang="zh") == "河道名称"
    assert column_label("name", lang="zh") == "名称"  # no layer: the generic name


def test_values_as_words():
    df = _coverage()
    both = localize_table(df, layer="rivers")
    assert both["河道等级 level"].tolist() == ["区管", "镇管"]
    assert both["片区 region"].tolist() == ["前进片区", "东风片区"]
    en = localize_table(df, lang="en", layer="rivers")
    assert en["level"].tolist() == ["District", "Town"]
    assert en["region"].tolist() == ["Qianjin", "Dongfeng"]
    assert value_label("tier", "town") == "镇考"
    assert value_label("target_class", "III") == "Ⅲ类"
    assert value_label("water_class", "劣V") == "劣Ⅴ类"
    assert value_label("parameter", "TP") == "总磷"
    assert value_label("parameter", "NH3_N", lang="en") == "ammonia nitrogen"
    assert value_label("kind", "concrete_plant") == "混凝土搅拌站"
    assert value_label("compliant", False) == "未达标"
    assert value_label("name", "qianjin") == "qianjin"  # not a category: unchanged
    assert value_label("level", "unheard-of") == "unheard-of"


def test_item_lists_lists_and_booleans():
    df = pd.DataFrame({
        "determining": ["CODMn,NH3_N,TP", ""],
        "meets_target": pd.array([True, pd.NA], dtype="boolean"),
        "missed_periods": [["2022-W23", "2022-W24"], []],
    })
    out = localize_table(df, lang="zh")
    assert out["定类指标"].tolist() == ["高锰酸盐指数、氨氮、总磷", ""]
    assert out["是否达标"].iloc[0] == "达标"
    assert pd.isna(out["是否达标"].iloc[1])
    assert out["未达标时段"].tolist() == ["2022-W23; 2022-W24", ""]


def test_rounding_by_unit():
    df = pd.DataFrame({
        "length_m": [19799.999739958646],
        "area_m2": [123.456],
        "overlap_share": [0.33333],
        "rate": [0.5],
        "TP": [0.07941],
        "NH3_N": [0.5449],
        "DO": [10.034],
        "exceed_TN": [0.9234],
        "n_samples": [3],
    })
    out = round_by_unit(df)
    assert out.loc[0, "length_m"] == 19800.0
    assert out.loc[0, "area_m2"] == 123.5
    assert out.loc[0, "overlap_share"] == 33.3  # percent, 0.1 %
    assert out.loc[0, "rate"] == 50.0
    assert out.loc[0, "TP"] == 0.079
    assert out.loc[0, "NH3_N"] == 0.54
    assert out.loc[0, "DO"] == 10.0
    assert out.loc[0, "exceed_TN"] == 0.92
    assert out.loc[0, "n_samples"] == 3
    assert df.loc[0, "length_m"] == 19799.999739958646  # the input is not changed


def test_concentration_decimals_follow_the_standard():
    # GB 3838-2002 Table 1, written out here from the standard: the finest limit of
    # each item decides the decimals (TP: lakes 0.025 mg/L; NH3-N 0.15; Hg 0.00005;
    # DO 7.5; CODMn 2/4/6/10/15 and pH 6-9 are whole numbers: one decimal kept;
    # fecal coliform 200 ... 40000 per litre: counts).
    expected = {"TP": 3, "NH3_N": 2, "Hg": 5, "DO": 1, "CODMn": 1, "pH": 1, "Cd": 3, "fecal_coliform": 0}
    got = concentration_decimals()
    assert {k: got[k] for k in expected} == expected


def test_long_measurements_rounded_per_item():
    df = pd.DataFrame({"parameter": ["TP", "DO", "odd"], "value": [0.07941, 10.034, 1.23456]})
    out = round_by_unit(df)
    assert out["value"].tolist() == [0.079, 10.0, 1.23456]


def test_geometry_dropped_and_times_local():
    gdf = gpd.GeoDataFrame(
        {"case_id": ["C1"], "demolished_on": pd.to_datetime(["2022-03-05"]).tz_localize("Asia/Shanghai")},
        geometry=[shapely.box(0, 0, 1, 1)], crs=4549,
    )
    out = localize_table(gdf, layer="demolitions")
    assert list(out.columns) == ["案件编号 case_id", "拆除日期 demolished_on"]
    assert out.iloc[0, 1] == pd.Timestamp("2022-03-05")


def test_repeated_headers_made_unique():
    # n_meeting and n_sections_meeting_target are both 达标断面数
    out = localize_table(pd.DataFrame({"n_meeting": [1], "n_sections_meeting_target": [2]}), lang="zh")
    assert list(out.columns) == ["达标断面数 n_meeting", "达标断面数 n_sections_meeting_target"]


def test_bad_arguments_refused():
    with pytest.raises(ConfigError, match="lang"):
        localize_table(_coverage(), lang="fr")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="layer"):
        localize_table(_coverage(), layer="river")


def test_every_category_value_has_label_and_colour():
    for schema in schemas.SCHEMAS.values():
        for f in schema.fields:
            if not f.values:
                continue
            labels = schemas.CATEGORY_LABELS[f.name]
            colours = schemas.CATEGORY_COLOURS[f.name]
            for value in f.values:
                zh, en = labels[value]
                assert zh in (*f.values[value], value) and en, (f.name, value)
                assert colours[value].startswith("#") and len(colours[value]) == 7, (f.name, value)
    for value in schemas.WATER_CLASSES:
        assert schemas.CATEGORY_LABELS["water_class"][value][0].endswith("类")
        assert value in schemas.CATEGORY_COLOURS["water_class"]


def test_colours_are_those_of_the_html_maps():
    from dongping_geo import maps

    for field, palette in maps.PALETTES.items():
        assert schemas.CATEGORY_COLOURS[schemas.category_field(field) or field] == palette, field
    assert schemas.CATEGORY_COLOURS["check"] == maps.VIOLATION_COLOURS


@settings(max_examples=60, deadline=None)
@given(st.floats(min_value=0, max_value=1e7, allow_nan=False), st.floats(min_value=0, max_value=1))
def test_rounding_moves_at_most_half_a_unit(length, share):
    out = round_by_unit(pd.DataFrame({"length_m": [length], "coverage": [share]}))
    assert math.isclose(out.loc[0, "length_m"], length, abs_tol=0.05 + 1e-9 * length)
    assert math.isclose(out.loc[0, "coverage"], share * 100, abs_tol=0.05 + 1e-9)
