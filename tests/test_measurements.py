"""Tests of the raw measurement-table parser (dongping_geo._measurements)."""

from __future__ import annotations

import pandas as pd
import pytest

from dongping_geo._measurements import parse_measurements
from dongping_geo.errors import MeasurementError

SH = "Asia/Shanghai"


def long_table(**overrides) -> pd.DataFrame:
    base = {
        "断面编码": ["S1"],
        "采样日期": ["2022-03-05"],
        "监测项目": ["氨氮"],
        "监测值": ["0.5"],
        "单位": ["mg/L"],
    }
    base.update(overrides)
    return pd.DataFrame(base)


def test_long_layout_chinese_aliases():
    raw = pd.DataFrame(
        {
            "断面编码": ["S1", "S1", "S1", "S1", "S2"],
            "采样日期": ["2022-03-05", "2022/3/5", "2022年3月5日", "2022-03-05", "2022年12月1日"],
            "监测项目": ["氨氮", "总磷", "高锰酸盐指数", "溶解氧", "pH"],
            "监测值": ["0.52", "0.1", "4", "6.5", "7.3"],
            "单位": ["mg/L", "mg/L", "mg/L", "mg/L", "无量纲"],
        }
    )
    out = parse_measurements(raw, path="m.csv")
    assert list(out.columns) == [
        "section_id",
        "sampled_at",
        "parameter",
        "value",
        "unit",
        "qualifier",
        "limit_source",
    ]
    assert out["parameter"].tolist() == ["NH3_N", "TP", "CODMn", "DO", "pH"]
    assert out["value"].tolist() == [0.52, 0.1, 4.0, 6.5, 7.3]
    assert out["unit"].tolist() == ["mg/L"] * 4 + ["dimensionless"]
    assert out["qualifier"].tolist() == [""] * 5
    assert list(out.index) == [2, 3, 4, 5, 6]  # file line numbers
    stamps = out["sampled_at"]
    assert str(stamps.dt.tz) == SH
    assert stamps.iloc[0] == stamps.iloc[1] == stamps.iloc[2] == pd.Timestamp("2022-03-05", tz=SH)
    assert stamps.iloc[4] == pd.Timestamp("2022-12-01", tz=SH)


def test_english_field_names_and_codes_and_times():
    raw = pd.DataFrame(
        {
            "section_id": ["S1", "S1", "S1"],
            "sampled_at": ["2022-03-05 10:30", "2022-03-05T02:30:00Z", "2022-03-06 08:00:00"],
            "parameter": ["NH3-N", "COD_Mn", "BOD₅"],
            "value": ["1.0", "3", "2"],
            "unit": ["mg/l", "MG/L", "mg/L"],
        }
    )
    out = parse_measurements(raw)
    assert out["parameter"].tolist() == ["NH3_N", "CODMn", "BOD5"]
    assert out["sampled_at"].iloc[0] == pd.Timestamp("2022-03-05 10:30", tz=SH)
    assert out["sampled_at"].iloc[1] == pd.Timestamp("2022-03-05 10:30", tz=SH)  # 02:30 UTC


def test_wide_layout_with_units_in_headers():
    raw = pd.DataFrame(
        {
            "断面编码": ["S1", "S2"],
            "断面名称": ["东风中心河", "洪林河"],
            "采样日期": ["2022/3/5", "2022/3/5"],
            "氨氮(mg/L)": ["0.5", ""],
            "总磷（μg/L）": ["50", "<10"],
            "pH": ["7.2", "8"],
            "粪大肠菌群(MPN/100mL)": ["200", "30"],
            "水温(℃)": ["12.5", "13"],
            "总磷(湖库)": ["", ""],
        }
    )
    out = parse_measurements(raw).reset_index()
    got = {
        (r.section_id, r.parameter): (r.value, r.unit, r.qualifier, r.row) for r in out.itertuples()
    }
    assert got[("S1", "NH3_N")] == (0.5, "mg/L", "", 2)
    assert ("S2", "NH3_N") not in got  # blank cell: not measured
    assert got[("S1", "TP")] == (0.05, "mg/L", "", 2)
    assert got[("S2", "TP")] == (0.01, "mg/L", "<", 3)
    assert got[("S1", "pH")] == (7.2, "dimensionless", "", 2)
    assert got[("S1", "fecal_coliform")] == (2000.0, "count/L", "", 2)
    assert got[("S2", "water_temp")] == (13.0, "°C", "", 3)


@pytest.mark.parametrize(
    "unit", ["µg/L", "μg/L", "ug/L", "UG/L"]
)  # micro sign U+00B5, Greek mu U+03BC
def test_microgram_units(unit):
    out = parse_measurements(long_table(监测项目=["汞"], 监测值=["0.1"], 单位=[unit]))
    assert out["value"].iloc[0] == 0.0001  # exact decimal scaling, equal to the Class III limit
    assert out["unit"].iloc[0] == "mg/L"


@pytest.mark.parametrize(
    "value, dl, expected",
    [
        ("<0.01", None, 0.01),
        ("＜0.02", None, 0.02),
        ("0.01L", None, 0.01),
        ("ND", "0.025", 0.025),
        ("未检出", "0.03", 0.03),
    ],
)
def test_below_detection_values(value, dl, expected):
    extra = {"检出限": [dl]} if dl else {}
    out = parse_measurements(long_table(监测值=[value], **extra))
    assert out["value"].iloc[0] == expected
    assert out["qualifier"].iloc[0] == "<"


def test_qualifier_column():
    out = parse_measurements(long_table(监测值=["0.02"], qualifier=["<"]))
    assert (out["value"].iloc[0], out["qualifier"].iloc[0]) == (0.02, "<")


def test_below_detection_in_micrograms_converts_the_limit():
    out = parse_measurements(long_table(监测项目=["铅"], 监测值=["2.5L"], 单位=["μg/L"]))
    assert (out["value"].iloc[0], out["qualifier"].iloc[0]) == (0.0025, "<")


def test_blank_unit_allowed_for_ph_and_when_no_unit_column():
    out = parse_measurements(long_table(监测项目=["pH值"], 监测值=["7"], 单位=[""]))
    assert out["unit"].iloc[0] == "dimensionless"
    no_unit = long_table()
    del no_unit["单位"]
    assert parse_measurements(no_unit)["unit"].iloc[0] == "mg/L"


def check_error(exc: MeasurementError, *parts: str) -> None:
    msg = str(exc)
    for part in ("m.csv", "row 2", "expected", "found", "Fix", *parts):
        assert part in msg, (part, msg)


@pytest.mark.parametrize(
    "overrides, parts",
    [
        ({"单位": ["kg/L"]}, ("unknown unit", "'kg/L'", "field 单位")),
        ({"单位": ["个/L"]}, ("unit does not fit", "NH3_N")),
        ({"单位": [""]}, ("missing unit",)),
        ({"监测项目": ["铀"]}, ("unknown parameter", "'铀'", "field 监测项目")),
        ({"监测值": ["-0.1"]}, ("negative", "'-0.1'", "field 监测值")),
        ({"监测值": ["abc"]}, ("not a number", "'abc'")),
        # lead has no single method limit in the table: ND needs the lab's limit
        ({"监测项目": ["铅"], "监测值": ["ND"]}, ("detection limit", "'ND'", "Pb")),
        ({"监测项目": ["溶解氧"], "监测值": ["未检出"]}, ("detection limit", "'未检出'", "DO")),
        ({"监测值": ["inf"]}, ("not a finite number", "'inf'", "field 监测值")),
        ({"监测值": ["1e400"]}, ("not a finite number", "'1e400'")),
        ({"监测值": ["nan"]}, ("not a finite number", "'nan'")),
        ({"监测值": ["-inf"]}, ("not a finite number", "'-inf'")),
        ({"采样日期": ["2022-02-30"]}, ("date", "'2022-02-30'", "field 采样日期")),
        ({"采样日期": [""]}, ("missing sampling date", "field 采样日期")),
        ({"断面编码": [""]}, ("missing section code", "field 断面编码")),
        ({"修饰符": ["?"]}, ("unknown qualifier", "'?'", "field 修饰符")),
        ({"监测项目": ["pH"], "监测值": ["15"], "单位": [""]}, ("pH",)),
    ],
)
def test_errors_name_file_row_field(overrides, parts):
    with pytest.raises(MeasurementError) as exc:
        parse_measurements(long_table(**overrides), path="m.csv")
    check_error(exc.value, *parts)


@pytest.mark.parametrize("date", ["5/3/2022", "19-3-5", "02/06/2022", "0022-03-05", "9999-12-31"])
def test_ambiguous_or_out_of_range_date_is_refused(date):
    with pytest.raises(MeasurementError, match="date"):
        parse_measurements(long_table(采样日期=[date]), path="m.csv")


def test_conflicting_duplicates_are_an_error_and_exact_ones_dropped():
    raw = pd.DataFrame(
        {
            "断面编码": ["S1", "S1", "S1"],
            "采样日期": ["2022-03-05", "2022/3/5", "2022-03-05"],
            "监测项目": ["氨氮", "NH3_N", "总磷"],
            "监测值": ["0.5", "0.5", "0.1"],
            "单位": ["mg/L", "mg/L", "mg/L"],
        }
    )
    assert len(parse_measurements(raw)) == 2
    raw.loc[1, "监测值"] = "0.6"
    with pytest.raises(MeasurementError) as exc:
        parse_measurements(raw, path="m.csv")
    msg = str(exc.value)
    assert (
        "m.csv" in msg and "row 3" in msg and "rows 2, 3" in msg and "0.5" in msg and "0.6" in msg
    )


def test_wide_unknown_column_and_missing_keys():
    raw = pd.DataFrame(
        {"断面编码": ["S1"], "采样日期": ["2022-03-05"], "氨 氮": ["0.5"], "铀含量": ["1"]}
    )
    with pytest.raises(MeasurementError, match="铀含量"):
        parse_measurements(raw, path="w.csv")
    with pytest.raises(MeasurementError, match="section_id"):
        parse_measurements(pd.DataFrame({"采样日期": ["2022-03-05"], "氨氮": ["0.5"]}))
    with pytest.raises(MeasurementError, match="sampled_at"):
        parse_measurements(pd.DataFrame({"断面编码": ["S1"], "氨氮": ["0.5"]}))


def test_numeric_and_datetime_cells_from_excel():
    raw = pd.DataFrame(
        {
            "断面编码": ["S1"],
            "采样日期": [pd.Timestamp("2022-03-05")],
            "监测项目": ["总磷"],
            "监测值": [0.1],
            "单位": ["mg/L"],
        }
    )
    out = parse_measurements(raw)
    assert out["value"].iloc[0] == 0.1
    assert out["sampled_at"].iloc[0] == pd.Timestamp("2022-03-05", tz=SH)


def test_roundtrip_into_assessment():
    from dongping_geo.water_quality import assess_sections

    raw = pd.DataFrame(
        {
            "断面编码": ["S1", "S1"],
            "采样日期": ["2022-01-05", "2022-02-05"],
            "氨氮(mg/L)": ["<1.0", "1.4"],
        }
    )
    m = parse_measurements(raw)
    a = assess_sections(
        m, pd.DataFrame({"section_id": ["S1"], "target_class": ["Ⅲ类"]}), period="Q"
    )
    assert a.loc[0, "NH3_N"] == pytest.approx(0.95)
    assert a.loc[0, "meets_target"]


@pytest.mark.parametrize("unit, factor", [("毫克/升", 1.0), ("微克/升", 0.001), ("纳克/升", 1e-6)])
def test_chinese_unit_names(unit, factor):
    df = pd.DataFrame({"断面编码": ["S1"], "采样日期": ["2022年1月5日"], "监测项目": ["氨氮"],
                       "监测值": ["0.5"], "单位": [unit]})
    out = parse_measurements(df)
    assert out["value"].iloc[0] == pytest.approx(0.5 * factor)
    assert out["unit"].iloc[0] == "mg/L"


@pytest.mark.parametrize("name, code", [("总磷(以P计)", "TP"), ("氨氮（NH3-N）", "NH3_N"),
                                        ("化学需氧量(CODcr)", "COD"), ("氟化物(以F-计)", "F")])
def test_parameter_names_with_a_bracketed_qualifier(name, code):
    df = pd.DataFrame({"section_id": ["S1"], "sampled_at": ["2022-01-05"], "parameter": [name],
                       "value": ["0.5"], "unit": ["mg/L"]})
    assert parse_measurements(df)["parameter"].iloc[0] == code


def test_wide_header_unit_in_brackets_is_still_a_unit():
    df = pd.DataFrame({"断面编码": ["S1"], "采样日期": ["2022-01-05"], "铅(μg/L)": ["3"]})
    out = parse_measurements(df)
    assert out["parameter"].iloc[0] == "Pb" and out["value"].iloc[0] == pytest.approx(0.003)


# ---------------------------------------------------------------- issue 13/14: one set of rules

import numpy as np  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import dongping_geo as dg  # noqa: E402
from dongping_geo._measurements import REJECTED_COLUMNS, check_section_ids  # noqa: E402
from dongping_geo.errors import ConfigError  # noqa: E402
from dongping_geo.schemas import SCHEMAS  # noqa: E402


@pytest.mark.parametrize("header", ["修饰符", "标识", "限定符", "flag", "qualifier"])
def test_qualifier_column_under_every_documented_name_halves_the_limit(header):
    # GB 3838-2002 Table 1, ammonia nitrogen: III <= 1.0 mg/L, IV <= 1.5 mg/L. A result
    # "< 1.5" enters the mean at 0.75 (half the limit): class III; read as 1.5 it is IV.
    raw = long_table(监测值=["1.5"], **{header: ["<"]})
    m = parse_measurements(raw)
    a = dg.assess_sections(m, pd.DataFrame({"section_id": ["S1"], "target_class": ["III"]}))
    assert a.loc[0, "NH3_N"] == 0.75
    assert a.loc[0, "water_class"] == "III"
    assert bool(a.loc[0, "meets_target"])


BASE_HEADER = {"section_id": "断面编码", "sampled_at": "采样日期", "parameter": "监测项目",
               "value": "监测值", "unit": "单位", "detection_limit": "检出限"}


@pytest.mark.parametrize(
    "field, name",
    [(f.name, n) for f in SCHEMAS["measurements"].fields for n in dict.fromkeys(f.all_names)],
)
def test_parser_reads_every_name_the_schema_declares(field, name):
    raw = long_table(监测值=["ND"], 检出限=["0.01"])
    if field == "qualifier":
        raw = long_table(监测值=["0.02"], **{name: ["<"]})
    else:
        raw = raw.rename(columns={BASE_HEADER[field]: name})
    out = parse_measurements(raw)
    expected = (0.02, "<") if field == "qualifier" else (0.01, "<")
    assert (out["value"].iloc[0], out["qualifier"].iloc[0]) == expected
    assert out["limit_source"].iloc[0] == "sheet"


def test_nd_without_limit_uses_the_method_table_and_says_so():
    raw = pd.DataFrame(
        {
            "断面编码": ["S1"] * 4,
            "采样日期": ["2022-03-05"] * 4,
            "监测项目": ["氨氮", "总磷", "化学需氧量", "氨氮"],
            "监测值": ["ND", "未检出", "nd", "ND"],
            "单位": ["mg/L", "μg/L", "mg/L", "mg/L"],
            "检出限": ["", "", "", "0.01"],
            "采样时间": ["", "", "", ""],
        }
    ).drop(columns="采样时间")
    raw.loc[3, "采样日期"] = "2022-03-06"
    out = parse_measurements(raw)
    # HJ 535-2009 ammonia 0.025 mg/L; GB 11893-89 TP 0.01 mg/L (in mg/L whatever the row's
    # unit); HJ 828-2017 COD 4 mg/L; the sheet's own limit wins where given.
    assert out["value"].tolist() == [0.025, 0.01, 4.0, 0.01]
    assert out["qualifier"].tolist() == ["<"] * 4
    assert out["limit_source"].tolist() == ["method table"] * 3 + ["sheet"]
    assert parse_measurements(long_table(监测值=["<0.02"]))["limit_source"].iloc[0] == "sheet"
    assert parse_measurements(long_table())["limit_source"].iloc[0] == ""


def test_wide_layout_limits_row_under_the_item_names():
    raw = pd.DataFrame(
        {
            "断面编码": ["检出限", "S1", "S2"],
            "采样日期": ["", "2022-03-05", "2022-03-05"],
            "氨氮(mg/L)": ["0.02", "ND", "0.4"],
            "总磷(μg/L)": ["5", "未检出", "—"],
            "铅(mg/L)": ["—", "0.003", "/"],
        }
    )
    out = parse_measurements(raw).reset_index()
    got = {(r.section_id, r.parameter): (r.row, r.value, r.qualifier, r.limit_source)
           for r in out.itertuples()}
    assert got == {
        ("S1", "NH3_N"): (3, 0.02, "<", "sheet"),
        ("S1", "TP"): (3, 0.005, "<", "sheet"),  # 5 µg/L from the limits row, in mg/L
        ("S1", "Pb"): (3, 0.003, "", ""),
        ("S2", "NH3_N"): (4, 0.4, "", ""),
    }
    assert out.attrs["records"] == 4  # the limits row is not a record


@pytest.mark.parametrize("marker", ["", "—", "/", "-", "－", "——", "  "])
def test_not_measured_markers_give_no_row_and_no_error(marker):
    long = pd.DataFrame({"断面编码": ["S1", "S1"], "采样日期": ["2022-03-05"] * 2,
                         "监测项目": ["氨氮", "总磷"], "监测值": [marker, "0.1"], "单位": ["mg/L"] * 2})
    out = parse_measurements(long)
    assert out["parameter"].tolist() == ["TP"] and out.index.tolist() == [3]
    wide = pd.DataFrame({"断面编码": ["S1"], "采样日期": ["2022-03-05"], "氨氮": [marker],
                         "总磷": ["0.1"]})
    assert parse_measurements(wide)["parameter"].tolist() == ["TP"]


@pytest.mark.parametrize("cell", ["44621", 44621, 44621.0, "44621.5"])
def test_excel_serial_dates(cell):
    out = parse_measurements(long_table(采样日期=[cell]))
    hour = 12 if str(cell).endswith(".5") else 0
    # Excel's 1900 date system: serial 44621 is 2022-03-01 (days since 1899-12-30).
    assert out["sampled_at"].iloc[0] == pd.Timestamp(2022, 3, 1, hour, tz=SH)


def test_a_year_or_a_unix_time_is_not_an_excel_serial():
    from dongping_geo.schemas import parse_excel_serial

    got = parse_excel_serial(pd.Series(["2022", 2022, "1650000000", "9999", "44621"], dtype=object))
    assert got.isna().tolist() == [True, True, True, True, False]


def test_on_error_must_be_raise_or_report():
    with pytest.raises(ConfigError, match="on_error"):
        parse_measurements(long_table(), on_error="ignore")


def test_report_mode_lists_every_bad_record_with_its_line():
    raw = pd.DataFrame(
        {
            "断面编码": ["S1", "S1", "", "S1", "S1", "S1", "S1"],
            "采样日期": ["2022-03-05", "2022-13-05", "2022-03-05", "2022-03-05", "2022-03-05",
                     "2022-03-05", "2022-03-07"],
            "监测项目": ["氨氮", "氨氮", "氨氮", "铀", "总磷", "总磷", "总磷"],
            "监测值": ["0.5", "0.5", "0.5", "1", "0.1", "0.1", "1e400"],
            "单位": ["mg/L"] * 7,
        }
    )
    out = parse_measurements(raw, path="lab.csv", on_error="report")
    rej = out.attrs["rejected"]
    assert list(rej.columns) == REJECTED_COLUMNS == ["file", "row", "field", "value", "reason", "fix"]
    assert out.index.tolist() == [2, 6]
    assert rej["row"].tolist() == [3, 4, 5, 7, 8]
    assert rej["field"].tolist() == ["采样日期", "断面编码", "监测项目", "监测值", "监测值"]
    assert rej["value"].tolist() == ["2022-13-05", "", "铀", "0.1", "1e400"]
    assert rej["reason"].str.contains("duplicate of row 6").tolist() == [False] * 3 + [True, False]
    assert "finite" in rej["reason"].iloc[-1]
    assert (rej["file"] == "lab.csv").all() and rej["fix"].str.len().gt(0).all()
    assert len(out) + len(rej) == out.attrs["records"] == 7


def test_report_mode_rejects_both_sides_of_a_conflict():
    raw = long_table(断面编码=["S1", "S1", "S2"], 采样日期=["2022-03-05"] * 3,
                     监测项目=["氨氮"] * 3, 监测值=["0.5", "0.6", "0.7"], 单位=["mg/L"] * 3)
    out = parse_measurements(raw, on_error="report")
    assert out["section_id"].tolist() == ["S2"]
    assert out.attrs["rejected"]["row"].tolist() == [2, 3]


def test_wide_row_counts_one_record_per_filled_item_cell():
    raw = pd.DataFrame({"断面编码": ["S1", ""], "采样日期": ["2022-03-05", "2022-03-05"],
                        "氨氮": ["0.5", "0.4"], "总磷": ["abc", "0.1"], "pH": ["—", "7"],
                        "铀含量": ["1", ""]})
    out = parse_measurements(raw, on_error="report")
    rej = out.attrs["rejected"]
    # line 2: NH3_N ok, TP bad, pH not measured, 铀含量 unknown column; line 3: no section (3 cells)
    assert out["parameter"].tolist() == ["NH3_N"]
    assert sorted(zip(rej["row"], rej["field"], strict=True)) == [
        (2, "总磷"), (2, "铀含量"), (3, "断面编码"), (3, "断面编码"), (3, "断面编码")]
    assert len(out) + len(rej) == out.attrs["records"] == 6


GOOD = ["0.5", "<0.02", "0.05L", "ND", "1.2"]
BAD = ["abc", "-1", "inf", "1e400", "nan", "0..1"]
SKIP = ["", "—", "/", "-", "－"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(GOOD + BAD + SKIP), st.sampled_from(["S1", "S2", ""]),
                          st.booleans()), min_size=1, max_size=12))
def test_rows_in_equal_rows_returned_plus_rejected(cells):
    # each line gets its own date so that no two lines are duplicates of each other
    raw = pd.DataFrame({
        "断面编码": [c[1] for c in cells],
        "采样日期": [f"2022-01-{i + 1:02d}" if c[2] else "2022-02-30" for i, c in enumerate(cells)],
        "监测项目": ["氨氮"] * len(cells),
        "监测值": [c[0] for c in cells],
    })
    records = sum(c[0] not in SKIP for c in cells)
    good = sum(c[0] in GOOD and c[1] != "" and c[2] for c in cells)
    out = parse_measurements(raw, path="x.csv", on_error="report")
    rej = out.attrs["rejected"]
    assert len(out) == good
    assert len(out) + len(rej) == records == out.attrs["records"]
    assert set(rej["row"]).isdisjoint(out.index)
    if records > good:
        with pytest.raises(MeasurementError):
            parse_measurements(raw, path="x.csv")


def test_load_measurements_names_the_true_line_of_a_csv_with_blank_lines(tmp_path):
    path = tmp_path / "lab.csv"
    path.write_text(
        "断面编码,采样日期,监测项目,监测值,单位\n"
        "S1,2022-03-05,氨氮,0.5,mg/L\n"
        "\n"
        "\n"
        "S1,2022-03-05,总磷,abc,mg/L\n"
        '"S2",2022-03-05,"总磷",0.1,mg/L\n'
        "S3,2022-03-05,化学需氧量,inf,mg/L\n",
        encoding="utf-8",
    )
    with pytest.raises(MeasurementError) as exc:
        dg.load_measurements(path)
    assert "lab.csv" in str(exc.value) and "row 5" in str(exc.value) and "'abc'" in str(exc.value)
    out = dg.load_measurements(path, on_error="report")
    assert out.index.tolist() == [2, 6]
    rej = out.attrs["rejected"]
    assert rej["row"].tolist() == [5, 7] and rej["value"].tolist() == ["abc", "inf"]
    assert rej["field"].tolist() == ["监测值", "监测值"]


def test_load_measurements_xlsx_rows_are_spreadsheet_rows(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["断面编码", "采样日期", "监测项目", "监测值"])
    ws.append(["S1", 44621, "氨氮", 0.5])
    ws.append([None, None, None, None])
    ws.append(["S1", 44622, "氨氮", "x"])
    path = tmp_path / "lab.xlsx"
    wb.save(path)
    out = dg.load_measurements(path, on_error="report")
    assert out["sampled_at"].iloc[0] == pd.Timestamp("2022-03-01", tz=SH)
    assert out.attrs["rejected"]["row"].tolist() == [4]


def test_check_section_ids_shared_by_assess_and_validate():
    m = parse_measurements(long_table(断面编码=["S1", "S9", "S8"], 采样日期=["2022-03-05"] * 3,
                                      监测项目=["氨氮"] * 3, 监测值=["0.5"] * 3, 单位=["mg/L"] * 3),
                           path="lab.csv")
    sections = pd.DataFrame({"section_id": ["S1"]})
    rej = check_section_ids(m, sections, on_error="report")
    assert rej["row"].tolist() == [3, 4] and rej["value"].tolist() == ["S9", "S8"]
    assert list(rej.columns) == REJECTED_COLUMNS
    with pytest.raises(MeasurementError) as exc:
        check_section_ids(m, sections, path="lab.csv")
    msg = str(exc.value)
    assert "lab.csv" in msg and "row 3" in msg and "'S9'" in msg and "S8" in msg and "2 measurement" in msg
    with pytest.raises(MeasurementError, match="row 3"):
        dg.assess_sections(m, sections)
    assert check_section_ids(m[m["section_id"] == "S1"], sections).empty
    assert dg.water_quality.check_section_ids is check_section_ids
    assert np.isin(rej.columns, REJECTED_COLUMNS).all()


CELL = st.one_of(
    st.text(max_size=8),
    st.sampled_from(["0.5", "<0.1", "ND", "1e400", "-0", "44621", "2022-03-05", "mg/L", "μg/L",
                     "氨氮", "总磷", "检出限", "—", "/", "＜", "L", "0.01L", "nan", "inf", "\t", "=1+1"]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-10**30, 10**30),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(CELL, CELL, CELL, CELL, CELL), min_size=1, max_size=6),
       st.booleans())
def test_garbage_cells_give_rows_that_add_up_or_a_measurement_error(rows, wide):
    from dongping_geo.errors import DongpingGeoError

    if wide:
        raw = pd.DataFrame(rows, columns=["断面编码", "采样日期", "氨氮", "总磷(μg/L)", "备注"])
    else:
        raw = pd.DataFrame(rows, columns=["断面编码", "采样日期", "监测项目", "监测值", "修饰符"])
    raw = raw.astype(object)
    out = parse_measurements(raw, path="g.csv", on_error="report")
    assert len(out) + len(out.attrs["rejected"]) == out.attrs["records"]
    assert np.isfinite(out["value"]).all()
    try:
        strict = parse_measurements(raw, path="g.csv")
    except DongpingGeoError as exc:
        assert isinstance(exc, MeasurementError) and "g.csv" in str(exc)
    else:
        assert len(strict) == len(out)


def test_results_with_rejected_rows_can_be_concatenated_and_merged():
    a = parse_measurements(long_table(监测值=["x"]), path="a.csv", on_error="report")
    b = parse_measurements(long_table(监测值=["0.5", "y"], 断面编码=["S1", "S2"],
                                      采样日期=["2022-03-05"] * 2, 监测项目=["氨氮"] * 2,
                                      单位=["mg/L"] * 2), path="b.csv", on_error="report")
    both = pd.concat([a, b])
    assert len(both) == 1 and "rejected" not in both.attrs  # differing tables are dropped
    merged = b.reset_index().merge(b.reset_index(), on="row")
    assert merged.attrs["rejected"]["value"].tolist() == ["y"]
    rej = b.attrs["rejected"]
    assert type(rej[rej["row"] > 0]) is pd.DataFrame
