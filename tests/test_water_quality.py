"""Tests of dongping_geo.water_quality against GB 3838-2002 Table 1 and 环办〔2011〕22号.

Expected classes are derived from GB 3838-2002 Table 1 written out below from the standard
itself (not read from the package's table, which a test compares with it).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dongping_geo.errors import ConfigError, MeasurementError, SchemaError
from dongping_geo.water_quality import (
    WATER_CLASSES,
    assess_rivers,
    assess_sections,
    classify_samples,
    classify_values,
    compliance_summary,
    gb3838_limits,
    normalize_water_class,
)

REPO = Path(__file__).resolve().parents[1]
TABLE_CSV = REPO / "dongping_geo" / "data" / "gb3838_2002_table1.csv"
REFERENCE_CSV = REPO.parent / "shared" / "reference" / "gb3838_2002_table1.csv"
CLASSES = ["I", "II", "III", "IV", "V"]

# GB 3838-2002 《地表水环境质量标准》 Table 1 (地表水环境质量标准基本项目标准限值), classes
# I…V, in mg/L (pH dimensionless, fecal coliform 个/L); written out from the standard.
# "yes": decides a river section's class (环办〔2011〕22号 and 环办监测函〔2020〕82号: the 21
# items other than water temperature, total nitrogen and fecal coliform).
STANDARD = {
    "pH": ("range", ["6-9"] * 5, "yes"),
    "DO": ("min", ["7.5", "6", "5", "3", "2"], "yes"),  # ≥; I is "饱和率90%(或7.5)"
    "CODMn": ("max", ["2", "4", "6", "10", "15"], "yes"),
    "COD": ("max", ["15", "15", "20", "30", "40"], "yes"),
    "BOD5": ("max", ["3", "3", "4", "6", "10"], "yes"),
    "NH3_N": ("max", ["0.15", "0.5", "1.0", "1.5", "2.0"], "yes"),
    "TP": ("max", ["0.02", "0.1", "0.2", "0.3", "0.4"], "yes"),
    "TP_lake": ("max", ["0.01", "0.025", "0.05", "0.1", "0.2"], "lakes only"),  # 湖、库
    "TN": ("max", ["0.2", "0.5", "1.0", "1.5", "2.0"], "no"),  # 湖、库, 以N计
    "Cu": ("max", ["0.01", "1.0", "1.0", "1.0", "1.0"], "yes"),
    "Zn": ("max", ["0.05", "1.0", "1.0", "2.0", "2.0"], "yes"),
    "F": ("max", ["1.0", "1.0", "1.0", "1.5", "1.5"], "yes"),
    "Se": ("max", ["0.01", "0.01", "0.01", "0.02", "0.02"], "yes"),
    "As": ("max", ["0.05", "0.05", "0.05", "0.1", "0.1"], "yes"),
    "Hg": ("max", ["0.00005", "0.00005", "0.0001", "0.001", "0.001"], "yes"),
    "Cd": ("max", ["0.001", "0.005", "0.005", "0.005", "0.01"], "yes"),
    "Cr6": ("max", ["0.01", "0.05", "0.05", "0.05", "0.1"], "yes"),
    "Pb": ("max", ["0.01", "0.01", "0.05", "0.05", "0.1"], "yes"),
    "CN": ("max", ["0.005", "0.05", "0.2", "0.2", "0.2"], "yes"),
    "phenol": ("max", ["0.002", "0.002", "0.005", "0.01", "0.1"], "yes"),
    "petroleum": ("max", ["0.05", "0.05", "0.05", "0.5", "1.0"], "yes"),
    "LAS": ("max", ["0.2", "0.2", "0.2", "0.3", "0.3"], "yes"),
    "sulfide": ("max", ["0.05", "0.1", "0.2", "0.5", "1.0"], "yes"),
    "fecal_coliform": ("max", ["200", "2000", "10000", "20000", "40000"], "no"),
}
TABLE = {
    item: {"bound": bound, **dict(zip(CLASSES, lims, strict=True)), "river_section_assessment": use}
    for item, (bound, lims, use) in STANDARD.items()
}
MAX_ITEMS = [i for i, r in TABLE.items() if r["bound"] == "max" and i != "TP_lake"]
RIVER_ASSESSED = [i for i, r in TABLE.items() if r["river_section_assessment"] == "yes"]


def limits(item: str) -> list[float]:
    return [float(TABLE[item][c]) for c in CLASSES]


def expected_at(lims: list[float], k: int) -> str:
    """Class of a value equal to the k-th limit: the best class sharing that limit."""
    return CLASSES[lims.index(lims[k])]


def expected_above(lims: list[float], k: int) -> str:
    """Class of a value just above the k-th limit: the first class with a larger limit, else 劣V."""
    for j, lim in enumerate(lims):
        if lim > lims[k]:
            return CLASSES[j]
    return "劣V"


def samples(
    rows: list[tuple[str, str, str, float]], qualifier: list[str] | None = None
) -> pd.DataFrame:
    """Measurement table from (section_id, date, parameter, value) tuples."""
    df = pd.DataFrame(rows, columns=["section_id", "sampled_at", "parameter", "value"])
    df["sampled_at"] = pd.to_datetime(df["sampled_at"]).dt.tz_localize("Asia/Shanghai")
    df["unit"] = "mg/L"
    df["qualifier"] = qualifier if qualifier is not None else [""] * len(df)
    return df


def test_packaged_table_is_the_reference_copy():
    if not REFERENCE_CSV.exists():
        pytest.skip("shared reference not available")
    assert TABLE_CSV.read_bytes() == REFERENCE_CSV.read_bytes()


def test_package_table_is_the_standard():
    table = gb3838_limits()
    assert list(table.index) == list(STANDARD)
    for item, (bound, lims, use) in STANDARD.items():
        row = table.loc[item]
        assert (row["bound"], row["river_section_assessment"]) == (bound, use), item
        for cls, lim in zip(CLASSES, lims, strict=True):
            if bound == "range":
                assert row[cls] == lim, (item, cls)
            else:
                assert float(row[cls]) == float(lim), (item, cls)
    with TABLE_CSV.open(encoding="utf-8") as fh:  # the shipped file, read without the package
        assert {r["item"] for r in csv.DictReader(fh)} == set(STANDARD)


def test_water_quality_keeps_its_public_names():
    import dongping_geo.gb3838 as gb
    import dongping_geo.water_quality as wq

    for name in ("gb3838_limits", "classify_values", "EXTRA_ITEMS", "WATER_CLASSES",
                 "WATER_CLASS_DTYPE", "below_detection_value", "effective_values"):
        assert getattr(wq, name) is getattr(gb, name), name
    from dongping_geo import schemas

    assert gb.WATER_CLASSES is schemas.WATER_CLASSES


def test_half_detection_limit_rule():
    from dongping_geo.gb3838 import below_detection_value, effective_values

    assert below_detection_value(0.05) == 0.025
    assert below_detection_value(np.array([4.0, 0.01])).tolist() == [2.0, 0.005]
    got = effective_values(pd.Series([1.5, 1.5, 0.2], index=[7, 8, 9]), ["<", "", None])
    assert got.tolist() == [0.75, 1.5, 0.2] and got.index.tolist() == [7, 8, 9]


def test_method_detection_limits_table():
    from dongping_geo.gb3838 import method_detection_limit, method_detection_limits

    # Written out from the method standards' scope clauses.
    expected = {
        "NH3_N": (0.025, "HJ 535-2009"), "TN": (0.05, "HJ 636-2012"),
        "TP": (0.01, "GB 11893-89"), "COD": (4.0, "HJ 828-2017"),
        "BOD5": (0.5, "HJ 505-2009"), "CODMn": (0.5, "GB 11892-89"),
        "Hg": (0.00004, "HJ 694-2014"), "As": (0.0003, "HJ 694-2014"),
        "Se": (0.0004, "HJ 694-2014"),
    }
    for item, want in expected.items():
        assert method_detection_limit(item) == want
    table = method_detection_limits()
    assert set(table.index) <= set(STANDARD) and set(expected) <= set(table.index)
    assert (table["unit"] == "mg/L").all() and table["standard"].str.len().gt(0).all()
    # every method limit lies below the Class III limit it is meant to assess against
    for item, row in table.iterrows():
        assert row["detection_limit"] < float(STANDARD[item][1][2]), item
    for item in ("DO", "pH", "Pb", "fecal_coliform"):
        assert method_detection_limit(item) is None


MONOTONE_ITEMS = [i for i, r in TABLE.items() if r["bound"] != "range" and i != "TP_lake"]


@settings(max_examples=60, deadline=None)
@given(item=st.sampled_from(MONOTONE_ITEMS), waterbody=st.sampled_from(["river", "lake"]),
       a=st.floats(0, 1e5, allow_nan=False), b=st.floats(0, 1e5, allow_nan=False))
def test_classify_values_is_monotone_in_concentration(item, waterbody, a, b):
    lo, hi = sorted((a, b))
    c_lo, c_hi = classify_values([lo, hi], item, waterbody=waterbody).codes  # 0 = I … 5 = 劣V
    if item == "DO":  # higher dissolved oxygen is better
        assert c_hi <= c_lo
    else:
        assert c_hi >= c_lo


# ---------------------------------------------------------------- single item limits

BOUNDARY_CASES = [
    (item, k, above) for item in MAX_ITEMS for k in range(5) for above in (False, True)
]


def test_every_max_limit_at_and_just_above():
    rows, expected = [], {}
    for n, (item, k, above) in enumerate(BOUNDARY_CASES):
        lim = limits(item)[k]
        value = lim * 1.0001 if above else float(TABLE[item][CLASSES[k]])
        sid = f"S{n}"
        rows.append((sid, "2022-03-05", item, value))
        expected[sid] = (
            item,
            expected_above(limits(item), k) if above else expected_at(limits(item), k),
        )
    result = classify_samples(samples(rows)).set_index("section_id")
    for sid, (item, cls) in expected.items():
        assert result.loc[sid, f"class_{item}"] == cls, (sid, item, cls)
        if item in RIVER_ASSESSED:
            # a single assessed item decides the sample's class
            assert result.loc[sid, "water_class"] == cls
            assert result.loc[sid, "determining"] == item


@pytest.mark.parametrize("item", MAX_ITEMS)
def test_classify_values_matches_table(item):
    lims = limits(item)
    values = [*lims, *(x * 1.0001 for x in lims)]
    expected = [expected_at(lims, k) for k in range(5)] + [
        expected_above(lims, k) for k in range(5)
    ]
    assert list(classify_values(values, item)) == expected


def test_do_is_a_lower_bound_at_and_below_each_limit():
    lims = limits("DO")  # 7.5, 6, 5, 3, 2
    values = [*lims, *(x * 0.9999 for x in lims), 9.0]
    got = list(classify_values(values, "DO"))
    assert got[:5] == CLASSES
    assert got[5:10] == ["II", "III", "IV", "V", "劣V"]
    assert got[10] == "I"


def test_ph_range():
    got = list(classify_values([5.9, 6.0, 7.0, 9.0, 9.1], "pH"))
    assert got == ["劣V", "I", "I", "I", "劣V"]
    sample = classify_samples(
        samples([("S1", "2022-03-05", "pH", 9.1), ("S1", "2022-03-05", "NH3_N", 0.1)])
    )
    assert sample.loc[0, "water_class"] == "劣V"
    assert sample.loc[0, "determining"] == "pH"


def test_classes_are_ordered_categorical():
    result = classify_samples(
        samples([("S1", "2022-03-05", "NH3_N", 0.1), ("S2", "2022-03-05", "NH3_N", 5.0)])
    )
    dtype = result["water_class"].dtype
    assert dtype.ordered and list(dtype.categories) == list(WATER_CLASSES)
    assert result.loc[0, "water_class"] < result.loc[1, "water_class"]


def test_worst_item_decides_and_ties_listed():
    rows = [
        ("S1", "2022-03-05", "NH3_N", 1.2),  # IV
        ("S1", "2022-03-05", "TP", 0.25),  # IV
        ("S1", "2022-03-05", "DO", 6.5),  # II
    ]
    result = classify_samples(samples(rows))
    assert result.loc[0, "water_class"] == "IV"
    # NH3_N is 1.2x its Class III limit, TP 1.25x: TP first
    assert result.loc[0, "determining"] == "TP,NH3_N"


def test_tn_and_fecal_coliform_do_not_decide_a_river_section():
    rows = [
        ("S1", "2022-03-05", "NH3_N", 0.4),  # II
        ("S1", "2022-03-05", "TN", 50.0),  # far above V
        ("S1", "2022-03-05", "fecal_coliform", 1e7),
        ("S1", "2022-03-05", "water_temp", 31.0),
    ]
    result = classify_samples(samples(rows))
    assert result.loc[0, "water_class"] == "II"
    assert result.loc[0, "class_TN"] == "劣V"
    assert result.loc[0, "class_fecal_coliform"] == "劣V"
    assert result.loc[0, "water_temp"] == 31.0


def test_tn_and_coliform_leave_river_class_unchanged():
    base = [
        ("A", "2022-03-05", "NH3_N", 0.9),
        ("B", "2022-03-05", "NH3_N", 0.3),
        ("A", "2022-03-05", "TP", 0.15),
    ]
    noisy = base + [
        ("A", "2022-03-05", "TN", 40.0),
        ("B", "2022-03-05", "TN", 25.0),
        ("A", "2022-03-05", "fecal_coliform", 5e6),
    ]
    sections = pd.DataFrame(
        {"section_id": ["A", "B"], "river_id": ["R1", "R1"], "target_class": ["III", "III"]}
    )
    clean = assess_rivers(assess_sections(samples(base), sections, period="Y"))
    dirty = assess_rivers(assess_sections(samples(noisy), sections, period="Y"))
    # mean NH3_N (0.9+0.3)/2 = 0.6 -> III; TP 0.15 -> III
    assert clean.loc[0, "water_class"] == dirty.loc[0, "water_class"] == "III"
    assert dirty.loc[0, "main_pollutants"] == ""


def test_lake_vs_river_tp():
    rows = [
        ("S1", "2022-03-05", "TP", 0.05),
        ("S2", "2022-03-05", "TP", 0.15),
        ("S3", "2022-03-05", "TP", 0.25),
    ]
    river = classify_samples(samples(rows)).set_index("section_id")["water_class"]
    lake = classify_samples(samples(rows), waterbody="lake").set_index("section_id")["water_class"]
    # rivers: 0.02/0.1/0.2/0.3/0.4; lakes: 0.01/0.025/0.05/0.1/0.2
    assert list(river) == ["II", "III", "IV"]
    assert list(lake) == ["III", "V", "劣V"]


def test_lake_assesses_tn():
    rows = [("S1", "2022-03-05", "NH3_N", 0.1), ("S1", "2022-03-05", "TN", 1.2)]
    assert classify_samples(samples(rows))["water_class"][0] == "I"
    lake = classify_samples(samples(rows), waterbody="lake")
    assert lake["water_class"][0] == "IV"
    assert lake["determining"][0] == "TN"


def test_unknown_waterbody():
    with pytest.raises(ConfigError, match="waterbody"):
        classify_samples(samples([("S1", "2022-03-05", "TP", 0.05)]), waterbody="sea")


# ---------------------------------------------------------------- sections and periods

SECTIONS = pd.DataFrame(
    {
        "section_id": ["S1", "S2", "S3"],
        "name": ["东风中心河1", "洪林河1", "前哨中心河1"],
        "tier": ["national", "municipal", "town"],
        "river_id": ["R1", "R2", "R3"],
        "target_class": ["Ⅲ类", "III", "4"],
    }
)


def test_half_detection_limit_in_means():
    rows = [("S1", "2022-01-10", "NH3_N", 1.0), ("S1", "2022-02-10", "NH3_N", 1.4)]
    m = samples(rows, qualifier=["<", ""])
    a = assess_sections(m, SECTIONS, period="Q")
    # (1.0/2 + 1.4) / 2 = 0.95 -> Class III (the full limit would give 1.2 -> IV)
    assert a.loc[0, "NH3_N"] == pytest.approx(0.95)
    assert a.loc[0, "water_class"] == "III"
    # a single below-detection sample is classified at half its limit too
    s = classify_samples(m)
    assert s.loc[0, "NH3_N"] == pytest.approx(0.5)
    assert s.loc[0, "class_NH3_N"] == "II"


def test_period_with_one_sample_equals_the_sample():
    rows = [("S2", "2022-04-10", "NH3_N", 1.3), ("S2", "2022-04-10", "DO", 4.0)]
    a = assess_sections(samples(rows), SECTIONS, period="Q")
    assert len(a) == 1
    assert a.loc[0, "n_samples"] == 1
    assert a.loc[0, "period"] == "2022Q2"
    assert a.loc[0, "NH3_N"] == 1.3
    assert a.loc[0, "water_class"] == "IV" == classify_samples(samples(rows)).loc[0, "water_class"]


def test_mean_exactly_at_a_limit_stays_in_the_class():
    # 0.2 + 0.2 + 0.2 = 0.6000000000000001 in floating point; the mean must still be III
    rows = [("S1", f"2022-0{m}-05", "TP", 0.2) for m in (1, 2, 3)]
    a = assess_sections(samples(rows), SECTIONS, period="Q")
    assert a.loc[0, "water_class"] == "III"
    assert a.loc[0, "meets_target"]


def test_periods_month_quarter_year_in_china_time():
    # 2022-03-31 20:00 UTC is 2022-04-01 04:00 in Shanghai: April, Q2
    m = pd.DataFrame(
        {
            "section_id": ["S1"],
            "sampled_at": [pd.Timestamp("2022-03-31 20:00", tz="UTC")],
            "parameter": ["NH3_N"],
            "value": [0.3],
        }
    )
    assert assess_sections(m, SECTIONS, period="M")["period"].tolist() == ["2022-04"]
    assert assess_sections(m, SECTIONS, period="Q")["period"].tolist() == ["2022Q2"]
    assert assess_sections(m, SECTIONS, period="Y")["period"].tolist() == ["2022"]
    with pytest.raises(ConfigError, match="period"):
        assess_sections(m, SECTIONS, period="W")


def test_target_grade_main_pollutants_and_exceedance():
    rows = [
        ("S1", "2022-01-05", "NH3_N", 3.0),  # 劣V, (3-1)/1 = 2.0
        ("S1", "2022-01-05", "TP", 0.45),  # 劣V, (0.45-0.2)/0.2 = 1.25
        ("S1", "2022-01-05", "CODMn", 12.0),  # V, (12-6)/6 = 1.0
        ("S1", "2022-01-05", "BOD5", 5.0),  # IV, 0.25
        ("S1", "2022-01-05", "DO", 1.0),  # 劣V, no multiple
        ("S1", "2022-01-05", "pH", 7.0),
        ("S2", "2022-01-05", "NH3_N", 0.9),  # III
        ("S3", "2022-01-05", "NH3_N", 1.4),  # IV, target 4
    ]
    a = assess_sections(samples(rows), SECTIONS, period="M").set_index("section_id")
    s1 = a.loc["S1"]
    assert s1["water_class"] == "劣V"
    assert s1["grade"] == "重度污染"
    assert s1["main_pollutants"] == "NH3_N,TP,DO"
    assert s1["exceed_NH3_N"] == pytest.approx(2.0)
    assert s1["exceed_TP"] == pytest.approx(1.25)
    assert s1["exceed_CODMn"] == pytest.approx(1.0)
    assert "exceed_DO" not in a.columns and "exceed_pH" not in a.columns
    assert not s1["meets_target"]
    assert a.loc["S2", "grade"] == "良好"
    assert a.loc["S2", "main_pollutants"] == ""
    assert np.isnan(a.loc["S2", "exceed_NH3_N"])
    assert a.loc["S2", "meets_target"]
    assert a.loc["S3", "grade"] == "轻度污染"
    assert a.loc["S3", "target_class"] == "IV"
    assert a.loc["S3", "meets_target"]
    assert a.loc["S3", "main_pollutants"] == "NH3_N"


def test_grades_per_class():
    values = {"I": 0.1, "II": 0.4, "III": 0.9, "IV": 1.4, "V": 1.9, "劣V": 2.5}
    sections = pd.DataFrame({"section_id": list(values), "target_class": ["III"] * 6})
    rows = [(sid, "2022-01-05", "NH3_N", v) for sid, v in values.items()]
    a = assess_sections(samples(rows), sections).set_index("section_id")
    assert a.loc[list(values), "water_class"].tolist() == list(values)
    assert a.loc[list(values), "grade"].tolist() == [
        "优",
        "优",
        "良好",
        "轻度污染",
        "中度污染",
        "重度污染",
    ]


def test_heavy_metals_and_cyanide_lead_main_pollutants():
    rows = [
        ("S1", "2022-01-05", "NH3_N", 3.0),  # 劣V
        ("S1", "2022-01-05", "Pb", 0.06),  # Class V
    ]
    a = assess_sections(samples(rows), SECTIONS).set_index("section_id")
    # Pb limits 0.01/0.01/0.05/0.05/0.1: 0.06 is Class V, exceeding III -> listed first
    assert a.loc["S1", "class_Pb"] == "V"
    assert a.loc["S1", "main_pollutants"] == "Pb,NH3_N"


def test_section_absent_from_layer_names_the_row():
    m = samples([("S1", "2022-01-05", "NH3_N", 0.3), ("S9", "2022-01-05", "NH3_N", 0.3)])
    m.index = pd.Index([2, 3], name="row")
    with pytest.raises(MeasurementError) as exc:
        assess_sections(m, SECTIONS)
    assert "row 3" in str(exc.value) and "'S9'" in str(exc.value) and "section_id" in str(exc.value)


def test_bad_target_class_is_a_schema_error():
    sections = SECTIONS.assign(target_class=["III", "good", "IV"])
    with pytest.raises(SchemaError, match="S2"):
        assess_sections(samples([("S1", "2022-01-05", "NH3_N", 0.3)]), sections)


# ---------------------------------------------------------------- normalize_water_class


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("III", "III"),
        ("Ⅲ", "III"),
        ("Ⅲ类", "III"),
        ("3", "III"),
        ("三类", "III"),
        (3, "III"),
        (3.0, "III"),
        (" iii ", "III"),
        ("Ⅱ类水", "II"),
        ("I", "I"),
        ("Ⅰ类", "I"),
        ("一类", "I"),
        ("V", "V"),
        ("Ⅴ类", "V"),
        ("五类", "V"),
        ("IV", "IV"),
        ("Ⅳ", "IV"),
        ("４", "IV"),
        ("劣V", "劣V"),
        ("劣Ⅴ", "劣V"),
        ("劣Ⅴ类", "劣V"),
        ("劣五类", "劣V"),
    ],
)
def test_normalize_water_class(raw, expected):
    assert normalize_water_class(raw) == expected


@pytest.mark.parametrize(
    "raw", ["VI", "6", "劣III", "", None, float("nan"), "good", 0, True, "Ⅲ类类"]
)
def test_normalize_water_class_rejects_garbage(raw):
    with pytest.raises(SchemaError) as exc:
        normalize_water_class(raw, layer="sections", feature_id="S7")
    assert isinstance(exc.value, ValueError)
    assert "S7" in str(exc.value) and "expected" in str(exc.value)


# ---------------------------------------------------------------- rivers


def river_case(classes_values: list[float], river: str = "R1") -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = [(f"{river}S{i}", "2022-06-05", "NH3_N", v) for i, v in enumerate(classes_values)]
    sections = pd.DataFrame(
        {
            "section_id": [r[0] for r in rows],
            "river_id": river,
            "target_class": "III",
            "tier": "town",
        }
    )
    return samples(rows), sections


def test_river_with_four_sections_uses_the_mean():
    m, s = river_case([0.3, 0.3, 0.3, 2.5])  # mean 0.85 -> III although one section is 劣V
    r = assess_rivers(assess_sections(m, s, period="Q"))
    assert r.loc[0, "method"] == "mean"
    assert r.loc[0, "n_sections"] == 4
    assert r.loc[0, "NH3_N"] == pytest.approx(0.85)
    assert r.loc[0, "water_class"] == "III"
    assert r.loc[0, "grade"] == "良好"


@pytest.mark.parametrize(
    "values, grade",
    [
        ([0.3] * 5, "优"),  # 100% I-III
        ([0.3] * 4 + [1.4], "良好"),  # 80%
        ([0.3] * 3 + [1.4, 1.4], "轻度污染"),  # 60%, no 劣V
        ([0.3] * 3 + [1.4, 2.5], "中度污染"),  # 60%, 20% 劣V
        ([0.3] * 3 + [2.5, 2.5], "重度污染"),  # 60%, 40% 劣V
        ([0.3] * 9 + [1.4], "优"),  # 90%
        ([0.3] * 2 + [2.5] * 3, "重度污染"),
    ],
)
def test_river_with_five_or_more_sections_uses_shares(values, grade):
    m, s = river_case(values)
    r = assess_rivers(assess_sections(m, s, period="Q"))
    assert r.loc[0, "method"] == "share"
    assert r.loc[0, "grade"] == grade
    assert pd.isna(r.loc[0, "water_class"])
    assert r.loc[0, "share_I_III"] == pytest.approx(sum(v <= 1.0 for v in values) / len(values))


def test_river_share_main_pollutants_and_target():
    m, s = river_case([0.3, 0.3, 2.5, 2.5, 2.5])
    r = assess_rivers(assess_sections(m, s, period="Q"))
    assert r.loc[0, "main_pollutants"] == "NH3_N"
    assert r.loc[0, "n_sections_meeting_target"] == 2
    m2, s2 = river_case([0.3, 1.2], river="R2")
    rivers = pd.DataFrame({"river_id": ["R2"], "name": ["洪林河"], "target_class": ["Ⅲ类"]})
    r2 = assess_rivers(assess_sections(m2, s2, period="Q"), rivers)
    assert r2.loc[0, "name"] == "洪林河"
    assert r2.loc[0, "water_class"] == "III"  # mean 0.75
    assert r2.loc[0, "meets_target"]


# ---------------------------------------------------------------- compliance


def test_compliance_summary_by_tier():
    rows = [
        ("S1", "2022-01-05", "NH3_N", 0.3),  # III target, meets
        ("S2", "2022-01-05", "NH3_N", 1.2),  # III target, fails
        ("S3", "2022-01-05", "NH3_N", 1.2),  # IV target, meets
        ("S3", "2022-04-05", "NH3_N", 1.8),  # Q2 fails
    ]
    a = assess_sections(samples(rows), SECTIONS, period="Q")
    c = compliance_summary(a)
    q1 = c[c["period"] == "2022Q1"].set_index("tier")
    assert list(q1.index) == ["national", "municipal", "town", "all"]
    assert q1.loc["all", "n_assessed"] == 3 and q1.loc["all", "n_meeting"] == 2
    assert q1.loc["all", "rate"] == pytest.approx(2 / 3)
    assert q1.loc["municipal", "failing_sections"] == "S2"
    q2 = c[c["period"] == "2022Q2"].set_index("tier")
    assert q2.loc["town", "rate"] == 0.0 and q2.loc["town", "failing_sections"] == "S3"


# ---------------------------------------------------------------- property

ASSESSED_MONOTONE = [i for i in RIVER_ASSESSED if i != "pH"]


def concentration(item: str) -> st.SearchStrategy[float]:
    """Any value from 0 to well past the worst limit, with the limits themselves favoured."""
    top = limits(item)[0 if item == "DO" else 4] * 3
    return st.one_of(st.sampled_from(limits(item)), st.floats(0, top, allow_nan=False))


@st.composite
def sample_pair(draw: st.DrawFn) -> tuple[dict[str, float], dict[str, float]]:
    items = draw(st.lists(st.sampled_from(ASSESSED_MONOTONE), min_size=1, max_size=5, unique=True))
    values = {item: draw(concentration(item)) for item in items}
    changed = draw(st.sampled_from(items))
    new = draw(concentration(changed))
    worse = dict(values)
    # raise a concentration, or lower DO
    worse[changed] = min(new, values[changed]) if changed == "DO" else max(new, values[changed])
    return values, worse


@settings(max_examples=40, deadline=None)
@given(pairs=st.lists(sample_pair(), min_size=1, max_size=15))
def test_worse_concentration_never_improves_the_class(pairs):
    rows = []
    for n, (values, worse) in enumerate(pairs):
        rows += [(f"A{n}", "2022-01-05", k, v) for k, v in values.items()]
        rows += [(f"B{n}", "2022-01-05", k, v) for k, v in worse.items()]
    result = classify_samples(samples(rows)).set_index("section_id")["water_class"]
    for n in range(len(pairs)):
        assert result[f"B{n}"] >= result[f"A{n}"]


# ---------------------------------------------------------------- sample dataset


@pytest.fixture(scope="module")
def sample_wq(sample_dir):
    from dongping_geo.loaders import load_dataset

    ds = load_dataset(sample_dir, patrols=False)
    if not ds.manifest or "water_quality" not in ds.manifest:
        pytest.skip("sample manifest lists no water-quality failures")
    return ds


@pytest.mark.parametrize("period", ["M", "Q", "Y"])
def test_sample_dataset_failures_match_manifest(sample_wq, period):
    planted = sample_wq.manifest["water_quality"]["failures"][period]
    a = assess_sections(sample_wq.measurements, sample_wq.sections, period=period)
    failing = a[a["meets_target"].eq(False).fillna(False).astype(bool)]
    got = {(r.section_id, r.period): r.water_class for r in failing.itertuples()}
    assert got == {(f["section_id"], f["period"]): f["water_class"] for f in planted}
    assert a["meets_target"].notna().all()


# ---------------------------------------------------------------- map


def test_water_quality_map_colours_popups_and_escaping():
    import geopandas as gpd
    import shapely

    from dongping_geo.maps import WATER_CLASS_COLOURS, map_html, water_quality_map

    sections = gpd.GeoDataFrame(
        {
            "section_id": ["S1", "S2"],
            "name": ["洪林河1", "<script>alert(1)</script>"],
            "tier": ["national", "town"],
            "river_id": ["R1", "R1"],
            "target_class": ["III", "III"],
        },
        geometry=[shapely.Point(121.5, 31.7), shapely.Point(121.52, 31.71)],
        crs=4326,
    )
    rows = [("S1", f"2022-0{m}-05", "NH3_N", 0.3) for m in (1, 2, 3)]
    rows += [("S2", f"2022-0{m}-05", "NH3_N", 2.5) for m in (1, 2, 3)]
    m = samples(rows)
    a = assess_sections(m, sections, period="Q")
    rivers = gpd.GeoDataFrame(
        {"river_id": ["R1"], "name": ["洪林河"]},
        geometry=[shapely.LineString([(121.49, 31.69), (121.53, 31.715)])],
        crs=4326,
    )
    wq = water_quality_map(
        a,
        sections,
        measurements=m,
        rivers=rivers,
        river_assessment=assess_rivers(a),
        basemap="none",
    )
    text = map_html(wq)
    assert "<script>alert(1)" not in text
    assert WATER_CLASS_COLOURS["II"] in text and WATER_CLASS_COLOURS["劣V"] in text
    # the river (2 sections, mean 1.4 -> IV) is tinted by its class
    assert WATER_CLASS_COLOURS["IV"] in text
    # one chart per section popup; the JSON embedding escapes "<" as \u003c
    assert text.count("\\u003csvg") == 2
    # S2 (劣V against III) misses its target: one ring, in its own layer with a legend; S1 none
    from dongping_geo.maps import MISSED_TARGET_COLOUR
    from dongping_geo.maps._toolkit import _GeoJsonLayer

    rings = [c for c in wq._children.values()
             if isinstance(c, _GeoJsonLayer) and c.layer_name.startswith("未达标断面")]
    assert len(rings) == 1 and len(rings[0].data["features"]) == 1
    assert rings[0].style["color"] == MISSED_TARGET_COLOUR and rings[0].style["fillOpacity"] == 0
    assert "Misses its target (1)" in text
    with pytest.raises(ConfigError, match="period"):
        water_quality_map(a, sections, period="2030Q1", basemap="none")


# ---------------------------------------------------------------- CLI


def test_cli_water_quality_writes_tables_and_map(tmp_path):
    import geopandas as gpd
    import shapely
    from click.testing import CliRunner

    from dongping_geo.cli import cli

    data = tmp_path / "data"
    data.mkdir()
    gpd.GeoDataFrame(
        {"river_id": ["R1"], "name": ["洪林河"], "level": ["town"], "target_class": ["Ⅲ类"]},
        geometry=[shapely.LineString([(121.49, 31.69), (121.53, 31.715)])],
        crs=4490,
    ).to_file(data / "rivers.gpkg")
    gpd.GeoDataFrame(
        {
            "section_id": ["S1", "S2"],
            "name": ["洪林河1", "洪林河2"],
            "tier": ["municipal", "town"],
            "river_id": ["R1", "R1"],
            "target_class": ["III", "三类"],
        },
        geometry=[shapely.Point(121.5, 31.7), shapely.Point(121.52, 31.71)],
        crs=4490,
    ).to_file(data / "sections.gpkg")
    # wide layout, Chinese headers; S2 misses its target in 2022Q2 only (NH3_N mean 1.3 -> IV)
    pd.DataFrame(
        {
            "断面编码": ["S1", "S1", "S2", "S2"],
            "采样日期": ["2022/1/5", "2022年4月5日", "2022-01-05", "2022-04-05"],
            "氨氮(mg/L)": ["0.3", "0.4", "0.5", "1.3"],
            "总磷(μg/L)": ["50", "80", "<10", "120"],
            "pH": ["7.5", "7.6", "7.4", "7.2"],
        }
    ).to_csv(data / "measurements.csv", index=False, encoding="utf-8-sig")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli,
        [
            "water-quality",
            str(data),
            "--period",
            "Q",
            "--out",
            str(out),
            "--basemap",
            "none",
            "--offline",
        ],
    )
    assert result.exit_code == 0, result.output
    for name in ("assessment.csv", "rivers.csv", "summary.csv"):
        raw = (out / name).read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), name  # utf-8-sig for Excel
    assert (out / "water_quality.html").stat().st_size > 10_000
    # tables in both languages: Chinese header with the canonical name, values as Chinese words
    from dongping_geo.schemas import CATEGORY_LABELS

    a = pd.read_csv(out / "assessment.csv", encoding="utf-8-sig")
    missed = CATEGORY_LABELS["meets_target"][False][0]
    failing = a.loc[a["是否达标 meets_target"] == missed, ["断面编码 section_id", "时段 period"]]
    assert failing.values.tolist() == [["S2", "2022Q2"]]
    assert sorted(p.name for p in (out / "charts").iterdir()) == ["S2_NH3_N.png", "S2_class.png"]
    r = pd.read_csv(out / "rivers.csv", encoding="utf-8-sig")
    # 2022Q2: mean NH3_N (0.4 + 1.3) / 2 = 0.85 -> III, TP (0.08 + 0.12) / 2 = 0.1 -> II
    q2 = r[r["时段 period"] == "2022Q2"].iloc[0]
    assert q2["评价方法 method"] == CATEGORY_LABELS["method"]["mean"][0]
    assert q2["水质类别 water_class"] == CATEGORY_LABELS["water_class"]["III"][0] == "Ⅲ类"
    assert q2["河道名称 name"] == "洪林河"
    assert not list(out.glob(".*"))  # no temporary files left behind
    strict = CliRunner().invoke(
        cli, ["water-quality", str(data), "--out", str(out), "--basemap", "none", "--strict"]
    )
    assert strict.exit_code == 1


@pytest.mark.browser
def test_water_quality_map_in_a_browser(browser_page, tmp_path):
    import geopandas as gpd
    import shapely

    from dongping_geo.maps import save_map, water_quality_map

    payload = '<img src=x onerror="window.__xss = 1">'
    sections = gpd.GeoDataFrame(
        {"section_id": ["S1"], "name": [payload], "tier": ["town"], "target_class": ["III"]},
        geometry=[shapely.Point(121.5, 31.7)],
        crs=4326,
    )
    m = samples([("S1", f"2022-0{k}-05", "NH3_N", v) for k, v in ((1, 0.8), (2, 1.9), (3, 1.5))])
    a = assess_sections(m, sections, period="Q")  # mean 1.4 -> IV, NH3_N main pollutant
    path = save_map(
        water_quality_map(a, sections, measurements=m, basemap="none"),
        tmp_path / "wq.html",
        offline=True,
    )
    page = browser_page.open(path, block_network=True)
    page.page.locator(".leaflet-overlay-pane path.leaflet-interactive").first.click(force=True)
    popup = page.page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=3000)
    assert popup.locator("svg circle").count() == 3  # one point per sample
    text = popup.inner_text()
    assert "Ⅳ类" in text and "氨氮 NH3_N" in text and payload in text  # shown as text
    assert page.page.evaluate("() => window.__xss") is None
    assert page.errors == [] and page.blocked == []
    page.screenshot("water_quality_popup")
