"""Parse raw water-quality measurement tables (long or wide layout) into the canonical long table.

``dongping_geo.loaders.load_measurements(path)`` reads a CSV/XLSX file into a DataFrame of
strings and calls :func:`parse_measurements`. Row numbers in error messages are the file's
line numbers (header = row 1, first data row = row 2), and the returned table keeps them as
its index (named ``row``) so later steps can name the row too.
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from .errors import MeasurementError
from .water_quality import EXTRA_ITEMS, gb3838_limits

__all__ = ["parse_measurements", "parameter_code", "OUTPUT_COLUMNS"]

OUTPUT_COLUMNS = ["section_id", "sampled_at", "parameter", "value", "unit", "qualifier"]
TZ = "Asia/Shanghai"
LAYER = "measurements"

# Canonical field → accepted header spellings (compared after NFKC, lower-case, no spaces).
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "section_id": (
        "section_id",
        "断面编码",
        "断面编号",
        "断面代码",
        "断面id",
        "section",
        "station_id",
    ),
    "sampled_at": (
        "sampled_at",
        "采样日期",
        "采样时间",
        "监测日期",
        "监测时间",
        "日期",
        "date",
        "sample_date",
    ),
    "parameter": ("parameter", "监测项目", "项目", "指标", "监测指标", "item"),
    "value": ("value", "监测值", "测定值", "浓度", "结果", "监测结果", "result"),
    "unit": ("unit", "单位", "units"),
    "qualifier": ("qualifier", "标识", "限定符", "flag"),
    "detection_limit": ("detection_limit", "检出限", "方法检出限", "dl", "mdl"),
}
# Descriptive columns a wide table may carry besides the items; ignored.
WIDE_IGNORED = {
    "name",
    "断面名称",
    "river_id",
    "河道编码",
    "河道名称",
    "河道",
    "tier",
    "考核级别",
    "备注",
    "remark",
    "remarks",
    "note",
    "notes",
    "天气",
    "weather",
    "采样人",
    "序号",
    "no",
    "id",
}

# Extra parameter spellings beyond the table's code, name_zh and name_en.
PARAM_ALIASES: dict[str, str] = {
    "ph值": "pH",
    "酸碱度": "pH",
    "溶解氧": "DO",
    "do": "DO",
    "codmn": "CODMn",
    "高锰酸盐指数": "CODMn",
    "高锰酸钾指数": "CODMn",
    "permanganate": "CODMn",
    "cod": "COD",
    "codcr": "COD",
    "化学需氧量": "COD",
    "bod": "BOD5",
    "bod5": "BOD5",
    "五日生化需氧量": "BOD5",
    "生化需氧量": "BOD5",
    "nh3n": "NH3_N",
    "nh4n": "NH3_N",
    "nh3": "NH3_N",
    "氨氮": "NH3_N",
    "ammonia": "NH3_N",
    "tp": "TP",
    "总磷": "TP",
    "总磷(河流)": "TP",
    "总磷(湖库)": "TP",
    "tplake": "TP",
    "totalphosphorus": "TP",
    "tn": "TN",
    "总氮": "TN",
    "总氮(湖库)": "TN",
    "totalnitrogen": "TN",
    "cr6": "Cr6",
    "cr6+": "Cr6",
    "cr(vi)": "Cr6",
    "六价铬": "Cr6",
    "铬(六价)": "Cr6",
    "氟化物": "F",
    "氟化物(以f计)": "F",
    "fluoride": "F",
    "氰化物": "CN",
    "挥发酚": "phenol",
    "石油类": "petroleum",
    "las": "LAS",
    "阴离子表面活性剂": "LAS",
    "硫化物": "sulfide",
    "粪大肠菌群": "fecal_coliform",
    "fecalcoliform": "fecal_coliform",
    "粪大肠杆菌": "fecal_coliform",
    "水温": "water_temp",
    "watertemp": "water_temp",
    "watertemperature": "water_temp",
    "temperature": "water_temp",
    "wt": "water_temp",
    "温度": "water_temp",
}

# Unit kinds of the items: mass concentration, count, pH, temperature.
MASS_UNITS: dict[str, Decimal | int] = {
    "mg/l": 1,
    "μg/l": Decimal("0.001"),
    "ug/l": Decimal("0.001"),
    "ng/l": Decimal("0.000001"),
    "g/l": 1000,
    "g/m3": 1,
    "mg/dm3": 1,
    # As Chinese lab reports write them.
    "毫克/升": 1,
    "微克/升": Decimal("0.001"),
    "纳克/升": Decimal("0.000001"),
}
COUNT_UNITS = {
    "个/l": 1,
    "mpn/l": 1,
    "cfu/l": 1,
    "count/l": 1,
    "个/100ml": 10,
    "mpn/100ml": 10,
    "cfu/100ml": 10,
    "个/ml": 1000,
    "mpn/ml": 1000,
    "cfu/ml": 1000,
    "个/升": 1,
}
PH_UNITS = {"": 1, "dimensionless": 1, "无量纲": 1, "无": 1, "-": 1, "ph": 1, "ph单位": 1, "/": 1}
TEMP_UNITS = {"°c": 1, "℃": 1, "c": 1, "degc": 1, "摄氏度": 1}
CANONICAL_UNIT = {"mass": "mg/L", "count": "count/L", "ph": "dimensionless", "temp": "°C"}
UNIT_TABLES: dict[str, Mapping[str, Decimal | int]] = {"mass": MASS_UNITS, "count": COUNT_UNITS, "ph": PH_UNITS, "temp": TEMP_UNITS}

ND_MARKERS = {"nd", "n.d.", "n.d", "未检出", "<dl", "低于检出限"}
NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
RE_NUMBER = re.compile(rf"^{NUMBER}$")
RE_LESS = re.compile(rf"^<\s*({NUMBER})$")
RE_L_SUFFIX = re.compile(rf"^({NUMBER})\s*[lL]$")
RE_DATE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[ T]+(\d{1,2})(?::|时)(\d{1,2})(?:(?::|分)(\d{1,2}(?:\.\d+)?))?秒?)?$"
)


def key(text: Any) -> str:
    """Comparison key of a header or label: NFKC, lower case, no blanks."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text))).lower()


def param_key(text: Any) -> str:
    """Parameter key: also drops '_' and '-' so NH3-N, NH3_N and nh3n meet."""
    return key(text).replace("_", "").replace("-", "")


@lru_cache(maxsize=1)
def parameter_table() -> tuple[dict[str, str], dict[str, str]]:
    """(alias key → item code, item code → unit kind)."""
    table = gb3838_limits()
    lookup: dict[str, str] = {}
    kind: dict[str, str] = {}
    for code, row in table.iterrows():
        target = "TP" if code == "TP_lake" else str(code)
        for alias in (code, row["name_zh"], row["name_en"]):
            lookup.setdefault(param_key(alias), target)
        unit = row["unit"]
        kind[target] = {"mg/L": "mass", "count/L": "count", "dimensionless": "ph"}[unit]
    for alias, code in PARAM_ALIASES.items():
        lookup[param_key(alias)] = code
    for code in EXTRA_ITEMS:
        lookup.setdefault(param_key(code), code)
        kind[code] = "temp"
    return lookup, kind


def parameter_code(label: Any) -> str | None:
    """Item code for a parameter label (code, Chinese or English name), or None."""
    lookup, _ = parameter_table()
    return lookup.get(param_key(label))


def _err(
    problem: str,
    path: Any,
    row: Any,
    field: str | None,
    expected: str,
    found: Any,
    fix: str,
    *,
    raw_found: bool = False,
) -> MeasurementError:
    return MeasurementError(
        problem,
        path=path,
        layer=LAYER,
        feature_id=None if row is None else f"row {row}",
        field=field,
        expected=expected,
        found=found if raw_found else repr(found),
        fix=fix,
    )


def _blank(v: Any) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, float) and np.isnan(v):
        return True
    return isinstance(v, str) and not v.strip()


def _text(v: Any) -> str:
    """Cell as text; numbers keep their shortest repr (0.1 → '0.1')."""
    if _blank(v):
        return ""
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    return unicodedata.normalize("NFKC", str(v)).strip()


def _map_fields(columns: list[Any]) -> dict[str, Any]:
    """Canonical field → the original column name."""
    found: dict[str, Any] = {}
    alias_to_field = {key(a): f for f, aliases in FIELD_ALIASES.items() for a in aliases}
    for col in columns:
        field = alias_to_field.get(key(col))
        if field and field not in found:
            found[field] = col
    return found


def _qualified_parameter(text: str) -> str | None:
    """Item code of a long-layout name with a bracketed qualifier: 总磷(以P计), 氨氮(NH3-N)."""
    m = re.match(r"^(.*?)\s*\(\s*(.*?)\s*\)\s*$", unicodedata.normalize("NFKC", text).strip())
    if not m:
        return None
    return parameter_code(m.group(1)) or parameter_code(m.group(2))


def _header_item(col: Any) -> tuple[str | None, str | None]:
    """(item code, unit in the header or None) of a wide-layout column header."""
    text = unicodedata.normalize("NFKC", str(col)).strip()
    code = parameter_code(text)
    if code:
        return code, None
    m = re.match(r"^(.*?)\s*[\(\[]\s*([^()\[\]]*?)\s*[\)\]]\s*$", text)
    if m:
        code = parameter_code(m.group(1))
        if code:
            return code, m.group(2)
    m = re.match(r"^(.*?)\s*/\s*(\S+/\S+)$", text)  # 氨氮/mg/L
    if m and parameter_code(m.group(1)):
        return parameter_code(m.group(1)), m.group(2)
    return None, None


def parse_measurements(df: pd.DataFrame, *, path: Any = None) -> pd.DataFrame:
    """Parse a raw measurement table into the canonical long table.

    Parameters
    ----------
    df : pandas.DataFrame
        The table as read (cells as strings; numbers and datetimes are accepted too).
        Long layout: ``section_id``/断面编码, ``sampled_at``/采样日期,
        ``parameter``/监测项目, ``value``/监测值, optional ``unit``/单位, ``qualifier``
        and ``detection_limit``/检出限. Wide layout: ``section_id``, ``sampled_at`` and one
        column per item, by code or Chinese name, optionally with the unit in the header
        (``氨氮(mg/L)``); without one the item's GB 3838 unit is assumed.
    path : path-like, optional
        The file the table came from, for error messages.

    Returns
    -------
    pandas.DataFrame
        Columns ``section_id`` (str), ``sampled_at`` (datetime64 Asia/Shanghai),
        ``parameter`` (item code), ``value`` (float; mg/L, count/L for fecal coliform,
        dimensionless pH, °C water temperature), ``unit`` and ``qualifier`` (``""`` or
        ``"<"``: below the detection limit, ``value`` holds the limit). Indexed by the
        file's row number (``row``). Exact duplicates are dropped.

    Raises
    ------
    MeasurementError
        Naming the file, row, field, what was expected, found and the fix, for: a missing
        column, an unknown parameter or unit, a unit that does not fit the item, a
        non-numeric value, ``ND`` without a detection limit, a negative concentration,
        a pH outside 0–14, an unreadable date, or two different values for one section,
        sampling time and item.

    Examples
    --------
    >>> import pandas as pd
    >>> raw = pd.DataFrame({"断面编码": ["S1", "S1"], "采样日期": ["2022年3月5日"] * 2,
    ...                     "监测项目": ["氨氮", "总磷"], "监测值": ["0.52", "<0.01"],
    ...                     "单位": ["mg/L", "mg/L"]})
    >>> parse_measurements(raw)[["parameter", "value", "qualifier"]].values.tolist()
    [['NH3_N', 0.52, ''], ['TP', 0.01, '<']]
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError("parse_measurements expects a pandas DataFrame")
    fields = _map_fields(list(df.columns))
    for required in ("section_id", "sampled_at"):
        if required not in fields:
            raise _err(
                f"no {required} column",
                path,
                None,
                required,
                " or ".join(FIELD_ALIASES[required][:3]),
                "columns " + ", ".join(map(str, df.columns)),
                f"name the column {required} (or {FIELD_ALIASES[required][1]})",
                raw_found=True,
            )
    rows = np.arange(len(df)) + 2  # file line numbers: header is row 1
    if "parameter" in fields and "value" in fields:
        long = _long_cells(df, fields, rows)
    else:
        long = _wide_cells(df, fields, rows, path)
    return _finish(long, path)


def _long_cells(df: pd.DataFrame, fields: dict[str, Any], rows: np.ndarray) -> pd.DataFrame:
    def col(name: str) -> np.ndarray:
        if name in fields:
            return df[fields[name]].to_numpy(dtype=object)
        return np.full(len(df), None, dtype=object)

    return pd.DataFrame(
        {
            "row": rows,
            "section_id": col("section_id"),
            "sampled_at": col("sampled_at"),
            "parameter_raw": col("parameter"),
            "value_raw": col("value"),
            "unit_raw": col("unit"),
            "unit_given": "unit" in fields,
            "qualifier_raw": col("qualifier"),
            "dl_raw": col("detection_limit"),
            "value_field": str(fields["value"]),
            "long": True,
        }
    )


def _wide_cells(
    df: pd.DataFrame, fields: dict[str, Any], rows: np.ndarray, path: Any
) -> pd.DataFrame:
    meta = {fields[f] for f in fields}
    items: list[tuple[Any, str, str | None]] = []
    for c in df.columns:
        if c in meta or key(c) in WIDE_IGNORED or str(c).startswith("Unnamed:"):
            continue
        code, unit = _header_item(c)
        if code is None:
            raise _err(
                "unknown parameter column",
                path,
                1,
                str(c),
                "a GB 3838-2002 item code or Chinese name, e.g. NH3_N, 氨氮, 总磷(mg/L)",
                str(c),
                "rename the column to an item code or name, or drop it",
            )
        items.append((c, code, unit))
    if not items:
        raise _err(
            "cannot recognise the layout",
            path,
            None,
            None,
            "long (parameter and value columns) or wide (one column per item)",
            "columns " + ", ".join(map(str, df.columns)),
            "add parameter/监测项目 and value/监测值 columns, or one column per item",
            raw_found=True,
        )
    parts = []
    for c, code, unit in items:
        parts.append(
            pd.DataFrame(
                {
                    "row": rows,
                    "section_id": df[fields["section_id"]].to_numpy(dtype=object),
                    "sampled_at": df[fields["sampled_at"]].to_numpy(dtype=object),
                    "parameter_raw": code,
                    "value_raw": df[c].to_numpy(dtype=object),
                    "unit_raw": unit,
                    "unit_given": unit is not None,
                    "qualifier_raw": None,
                    "dl_raw": None,
                    "value_field": str(c),
                    "long": False,
                }
            )
        )
    cells = pd.concat(parts, ignore_index=True)
    # A blank cell in the wide layout means "not measured".
    keep = ~cells["value_raw"].map(_blank)
    return cells[keep.to_numpy()].sort_values(["row"], kind="stable").reset_index(drop=True)


def _per_unique(keys: list[np.ndarray], fn: Any) -> np.ndarray:
    """Apply ``fn(position, *key)`` once per distinct key (first occurrence), spread to all rows.

    Lab tables repeat the same section codes, items, units and dates thousands of times, so
    parsing each distinct cell once keeps the parser fast; errors still name the first row
    holding the bad cell.
    """
    n = len(keys[0])
    combo = np.empty(n, dtype=object)
    combo[:] = list(zip(*keys, strict=True)) if len(keys) > 1 else [(k,) for k in keys[0]]
    codes, uniques = pd.factorize(combo, use_na_sentinel=False)
    _, first = np.unique(codes, return_index=True)
    results = np.empty(len(uniques), dtype=object)
    results[:] = [fn(int(pos), *combo[pos]) for pos in first]
    return results[codes]


def _finish(cells: pd.DataFrame, path: Any) -> pd.DataFrame:
    lookup, kinds = parameter_table()
    n = len(cells)
    col = {c: cells[c].to_numpy(dtype=object) for c in cells.columns}
    rows = col["row"]

    def section(pos: int, raw: Any) -> str:
        sid = _text(raw)
        if not sid:
            raise _err(
                "missing section code",
                path,
                rows[pos],
                "section_id",
                "a section code (断面编码)",
                "",
                "fill in the section code",
            )
        return sid[:-2] if re.fullmatch(r"\d+\.0", sid) else sid

    def parameter(pos: int, raw: Any) -> str:
        praw = _text(raw)
        code = lookup.get(param_key(praw)) or _qualified_parameter(praw)
        if code is None:
            raise _err(
                "unknown parameter",
                path,
                rows[pos],
                "parameter",
                "a GB 3838-2002 item code or Chinese name (pH, DO, CODMn, NH3_N, TP, 氨氮, 总磷 …)",
                praw,
                "use the item code or Chinese name of GB 3838-2002 Table 1",
            )
        return code

    out_section = _per_unique([col["section_id"]], section) if n else np.empty(0, dtype=object)
    out_param = _per_unique([col["parameter_raw"]], parameter) if n else np.empty(0, dtype=object)
    out_time = _parse_dates(cells, path)

    def value(pos: int, code: str, *_: Any) -> tuple[float, str]:
        c = _Cell(
            row=rows[pos],
            unit_raw=col["unit_raw"][pos],
            unit_given=col["unit_given"][pos],
            long=col["long"][pos],
            value_field=col["value_field"][pos],
            value_raw=col["value_raw"][pos],
            qualifier_raw=col["qualifier_raw"][pos],
            dl_raw=col["dl_raw"][pos],
        )
        kind = kinds[code]
        factor = _unit_factor(c, code, kind, path)
        number, qualifier = _parse_value(c, code, path)
        if factor != 1:
            number = number * Decimal(factor)
        v = float(number)
        if v < 0 and kind != "temp":
            raise _err(
                "negative value",
                path,
                c.row,
                c.value_field,
                "a value >= 0",
                _text(c.value_raw),
                "check the sign; a result below detection is written <0.01 or 0.01L",
            )
        if kind == "ph" and v > 14:
            raise _err(
                "pH outside 0–14",
                path,
                c.row,
                c.value_field,
                "a pH between 0 and 14",
                _text(c.value_raw),
                "check the value and the item",
            )
        return v, qualifier

    if n:
        keys = [out_param] + [
            col[k]
            for k in (
                "unit_raw",
                "unit_given",
                "value_raw",
                "qualifier_raw",
                "dl_raw",
                "value_field",
            )
        ]
        parsed = _per_unique(keys, value)
        out_value = np.fromiter((p[0] for p in parsed), dtype=float, count=n)
        out_qual = np.array([p[1] for p in parsed], dtype=object)
    else:
        out_value = np.empty(0, dtype=float)
        out_qual = np.empty(0, dtype=object)
    out_unit = np.array([CANONICAL_UNIT[kinds[c]] for c in out_param], dtype=object)
    result = pd.DataFrame(
        {
            "section_id": pd.array(out_section, dtype=object),
            "sampled_at": out_time,
            "parameter": pd.array(out_param, dtype=object),
            "value": out_value,
            "unit": pd.array(out_unit, dtype=object),
            "qualifier": pd.array(out_qual, dtype=object),
            "_field": cells["value_field"].to_numpy(),
        },
        index=pd.Index(cells["row"].to_numpy(), name="row"),
    )
    return _check_duplicates(result, path)


class _Cell(NamedTuple):
    row: Any
    unit_raw: Any
    unit_given: Any
    long: Any
    value_field: Any
    value_raw: Any
    qualifier_raw: Any
    dl_raw: Any


def _unit_factor(c: Any, code: str, kind: str, path: Any) -> Decimal | int:
    table = UNIT_TABLES[kind]
    raw = _text(c.unit_raw)
    if not raw:
        if kind == "ph" or not c.unit_given:
            return 1  # pH has no unit; without a unit column the item's GB 3838 unit is assumed
        raise _err(
            "missing unit",
            path,
            c.row,
            "unit",
            f"the unit of {code}, e.g. {CANONICAL_UNIT[kind]}",
            "",
            f"fill in the unit ({', '.join(u for u in table if u)})",
        )
    factor = table.get(key(raw))
    if factor is None:
        known = {u for t in UNIT_TABLES.values() for u in t}
        problem = "unit does not fit the item" if key(raw) in known else "unknown unit"
        raise _err(
            problem,
            path,
            c.row,
            "unit" if c.long else c.value_field,
            f"a unit of {code}: " + ", ".join(repr(u) for u in table if u),
            raw,
            f"give {code} in {CANONICAL_UNIT[kind]} or a convertible unit",
        )
    return factor


def _decimal(text: str) -> Decimal:
    return Decimal(text)


def _parse_value(c: Any, code: str, path: Any) -> tuple[Decimal, str]:
    """(value, qualifier) of one cell; below detection gives (detection limit, '<')."""
    raw = _text(c.value_raw)
    qual = _text(c.qualifier_raw)
    if not raw:
        raise _err(
            "missing value",
            path,
            c.row,
            c.value_field,
            f"a value of {code}",
            "",
            "fill in the value or drop the row",
        )
    try:
        if RE_NUMBER.match(raw):
            value = _decimal(raw)
            if qual in ("<", "L", "l", "ND", "nd"):
                return value, "<"
            if qual and qual not in ("=",):
                raise _err(
                    "unknown qualifier",
                    path,
                    c.row,
                    "qualifier",
                    "'' or '<' (below detection limit)",
                    qual,
                    "leave the qualifier empty or write <",
                )
            return value, ""
        m = RE_LESS.match(raw) or RE_L_SUFFIX.match(raw)
        if m:
            return _decimal(m.group(1)), "<"
        if key(raw) in ND_MARKERS:
            dl = _text(c.dl_raw)
            if dl and RE_NUMBER.match(dl):
                return _decimal(dl), "<"
            raise _err(
                "below-detection marker without a detection limit",
                path,
                c.row,
                c.value_field,
                "a numeric detection limit in a detection_limit (检出限) column",
                raw,
                "write the result as <DL or DL+L (e.g. <0.01 or 0.01L), or add a 检出限 column",
            )
    except InvalidOperation:
        pass
    raise _err(
        "value is not a number",
        path,
        c.row,
        c.value_field,
        "a number, <DL, DL+L (e.g. 0.01L) or ND/未检出 with a detection limit",
        raw,
        "correct the value",
    )


def _parse_dates(cells: pd.DataFrame, path: Any) -> pd.DatetimeIndex:
    """Parse 2022-03-05, 2022/3/5, 2022年3月5日 (optionally with a time) as China time."""
    if not len(cells):
        return pd.DatetimeIndex([], tz=TZ)
    raw = cells["sampled_at"].to_numpy(dtype=object)
    rows = cells["row"].to_numpy()
    # Parse each distinct cell once; carry UTC nanoseconds to build the index in one call.
    ns = _per_unique([raw], lambda pos, value: _parse_date(value, rows[pos], path).value)
    return pd.DatetimeIndex(pd.to_datetime(ns.astype(np.int64), utc=True)).tz_convert(TZ)


def _parse_date(raw: Any, row: Any, path: Any) -> pd.Timestamp:
    def bad() -> MeasurementError:
        return _err(
            "unreadable sampling date",
            path,
            row,
            "sampled_at",
            "a date like 2022-03-05, 2022/3/5 or 2022年3月5日 (optionally with a time)",
            _text(raw),
            "write the date as YYYY-MM-DD",
        )

    if isinstance(raw, (pd.Timestamp, _dt.datetime, _dt.date)):
        ts = pd.Timestamp(raw)
    else:
        text = _text(raw)
        if not text:
            raise bad()
        m = RE_DATE.match(text)
        try:
            if m:
                y, mo, d, hh, mm, ss = m.groups()
                sec = float(ss) if ss else 0.0
                ts = pd.Timestamp(
                    year=int(y),
                    month=int(mo),
                    day=int(d),
                    hour=int(hh or 0),
                    minute=int(mm or 0),
                    second=int(sec),
                    microsecond=int(round((sec % 1) * 1e6)),
                )
            elif re.match(
                r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)$", text
            ):
                ts = pd.Timestamp(text)  # an explicit offset: honour it
            else:
                raise bad()
        except ValueError as exc:
            raise bad() from exc
    if ts.tzinfo is None:
        return ts.tz_localize(TZ)
    return ts.tz_convert(TZ)


def _check_duplicates(result: pd.DataFrame, path: Any) -> pd.DataFrame:
    keys = ["section_id", "sampled_at", "parameter"]
    flat = result.reset_index()
    exact = flat.duplicated(keys + ["value", "qualifier"], keep="first")
    flat = flat[~exact.to_numpy()]
    clash = flat.duplicated(keys, keep=False)
    if clash.any():
        dup = flat[clash.to_numpy()]
        first = dup.iloc[0]
        same = dup[
            (dup["section_id"] == first["section_id"])
            & (dup["sampled_at"] == first["sampled_at"])
            & (dup["parameter"] == first["parameter"])
        ]
        rows = same["row"].tolist()
        values = [f"{q}{v:g}" for v, q in zip(same["value"], same["qualifier"], strict=True)]
        raise _err(
            "two different values for the same sample and item",
            path,
            rows[-1],
            str(same["_field"].iloc[-1]),
            f"one value per section, sampling time and item (here {first['section_id']}, "
            f"{first['sampled_at']:%Y-%m-%d %H:%M}, {first['parameter']})",
            f"{', '.join(values)} in rows {', '.join(map(str, rows))}",
            "keep one result (or give the samples distinct sampling times)",
            raw_found=True,
        )
    return flat.set_index("row")[OUTPUT_COLUMNS]
