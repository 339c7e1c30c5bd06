"""Parse raw water-quality measurement tables (long or wide layout) into the canonical long table.

``dongping_geo.loaders.load_measurements(path)`` reads a CSV/XLSX file into a DataFrame of
strings and calls :func:`parse_measurements`. Row numbers in messages and in the
``rejected`` table are the file's line numbers as a spreadsheet shows them (header = row 1,
blank lines counted), and the returned table keeps them as its index (named ``row``).

What a *record* is (the unit counted by ``on_error="report"``: records in = rows returned
+ rows rejected): one measured value. In the long layout that is one line whose value cell
holds something other than a "not measured" marker (:data:`dongping_geo.schemas.NOT_MEASURED`:
blank, ``-``, ``—``, ``/`` …); in the wide layout it is one cell under an item column holding
such a value, so a wide line with five filled item cells is five records. Lines whose
cells are all blank and the wide layout's limits row (``检出限`` under the item names) are
not records.

Field names, the qualifier spellings and the not-measured markers come from
:mod:`dongping_geo.schemas` (the ``measurements`` schema); limits, units of the items and
the method detection limits from :mod:`dongping_geo.gb3838`.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd

from ._rejected import REJECTED_COLUMNS, rejected_rows
from .errors import ConfigError, MeasurementError
from .gb3838 import EXTRA_ITEMS, limits_table, method_detection_limit
from .schemas import NOT_MEASURED, get_schema, parse_datetime, parse_excel_serial

__all__ = [
    "OUTPUT_COLUMNS",
    "REJECTED_COLUMNS",
    "check_section_ids",
    "parameter_code",
    "parse_measurements",
]

OUTPUT_COLUMNS = ["section_id", "sampled_at", "parameter", "value", "unit", "qualifier", "limit_source"]
LAYER = "measurements"
SCHEMA = get_schema(LAYER)
OnError = Literal["raise", "report"]

# Descriptive columns a wide table may carry besides the items; ignored. The sections'
# and rivers' name/river_id/tier fields (all their names) plus remarks.
_REMARKS = ("备注", "remark", "remarks", "note", "notes", "天气", "weather", "采样人", "序号", "no", "id")


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

NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
RE_NUMBER = re.compile(rf"^{NUMBER}$")
RE_LESS = re.compile(rf"^<\s*({NUMBER})$")
RE_L_SUFFIX = re.compile(rf"^({NUMBER})\s*[lL]$")


def key(text: Any) -> str:
    """Comparison key of a header or label: NFKC, lower case, no blanks."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text))).lower()


def param_key(text: Any) -> str:
    """Parameter key: also drops '_' and '-' so NH3-N, NH3_N and nh3n meet."""
    return key(text).replace("_", "").replace("-", "")


@lru_cache(maxsize=1)
def parameter_table() -> tuple[dict[str, str], dict[str, str]]:
    """(alias key → item code, item code → unit kind)."""
    table = limits_table()
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


@lru_cache(maxsize=1)
def _vocabulary() -> dict[str, Any]:
    """Keys of the schema's names and markers, compared after :func:`key`."""
    fields = {key(n): f.name for f in SCHEMA.fields for n in f.all_names}
    qualifiers = {key(k): v for k, v in SCHEMA.field("qualifier").value_aliases.items()}
    descriptive = {key(n) for n in _REMARKS}
    for layer in ("sections", "rivers"):
        for f in get_schema(layer).fields:
            if f.name in ("name", "river_id", "tier"):
                descriptive.update(key(n) for n in f.all_names)
    return {
        "fields": fields,
        "qualifiers": qualifiers,
        "below": {k for k, v in qualifiers.items() if v == "<"},
        "not_measured": {key(m) for m in NOT_MEASURED},
        "dl_labels": {key(n) for n in SCHEMA.field("detection_limit").all_names},
        "descriptive": descriptive - set(fields),
    }


class _Names(NamedTuple):
    """Column headers to name in messages; None: the record's own item column (wide layout)."""

    section: str
    date: str
    parameter: str | None = None
    unit: str | None = None
    qualifier: str | None = None


class _Problem(NamedTuple):
    """Why a record is refused; becomes a MeasurementError or a line of the rejected table."""

    reason: str
    field: str
    value: str
    expected: str
    fix: str


def _error(p: _Problem, path: Any, row: Any) -> MeasurementError:
    return MeasurementError(
        p.reason,
        path=path,
        layer=LAYER,
        feature_id=None if row is None else f"row {row}",
        field=p.field,
        expected=p.expected,
        found=repr(p.value),
        fix=p.fix,
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
    if isinstance(v, float | np.floating):
        return repr(float(v))
    return unicodedata.normalize("NFKC", str(v)).strip()


def _not_measured(v: Any) -> bool:
    return _blank(v) or key(_text(v)) in _vocabulary()["not_measured"]


def _unique_mask(values: Any, fn: Callable[[Any], bool]) -> np.ndarray:
    """``fn`` of every cell as a bool array, evaluated once per distinct cell."""
    codes, uniques = pd.factorize(pd.Series(np.asarray(values, dtype=object), dtype=object),
                                  use_na_sentinel=False)
    return np.array([bool(fn(u)) for u in uniques], dtype=bool)[codes]


def _map_fields(columns: list[Any]) -> dict[str, Any]:
    """Canonical field → the original column name."""
    found: dict[str, Any] = {}
    lookup = _vocabulary()["fields"]
    for col in columns:
        name = lookup.get(key(col))
        if name and name not in found:
            found[name] = col
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


# --------------------------------------------------------------------------- entry point


def parse_measurements(
    df: pd.DataFrame,
    *,
    path: Any = None,
    on_error: OnError = "raise",
    line_numbers: Any = None,
    date_format: str | None = None,
) -> pd.DataFrame:
    """Parse a raw measurement table into the canonical long table.

    Parameters
    ----------
    df : pandas.DataFrame
        The table as read (cells as strings; numbers and datetimes are accepted too).
        Long layout: ``section_id``/断面编码, ``sampled_at``/采样日期,
        ``parameter``/监测项目, ``value``/监测值, optional ``unit``/单位,
        ``qualifier``/标识/修饰符/限定符/flag and ``detection_limit``/检出限. Wide layout:
        ``section_id``, ``sampled_at`` and one column per item, by code or Chinese name,
        optionally with the unit in the header (``氨氮(mg/L)``; without one the item's
        GB 3838 unit is assumed) and optionally a first row of detection limits labelled
        ``检出限`` under the item names. Every accepted field name is in
        :data:`dongping_geo.schemas.SCHEMAS` ``["measurements"]``.
    path : path-like, optional
        The file the table came from, for messages and the rejected table.
    on_error : {"raise", "report"}, default "raise"
        ``"raise"``: the first bad record (in file order) raises. ``"report"``: bad records
        are left out and listed in ``result.attrs["rejected"]``.
    line_numbers : array-like of int, optional
        File line number of each row of ``df`` (as :func:`dongping_geo.loaders.read_table` numbers them); default
        ``2, 3, …`` (header on line 1, no blank lines).
    date_format : str, optional
        strptime format of the sampling dates when they use a form not accepted by
        default (Excel serial day numbers are still read as such).

    Returns
    -------
    pandas.DataFrame
        Columns ``section_id`` (str), ``sampled_at`` (datetime64 Asia/Shanghai),
        ``parameter`` (item code), ``value`` (float; mg/L, count/L for fecal coliform,
        dimensionless pH, °C water temperature), ``unit``, ``qualifier`` (``""`` or
        ``"<"``: below the detection limit, ``value`` holds the limit) and
        ``limit_source`` (``""``; for ``"<"``: ``"sheet"`` when the limit was in the file,
        ``"method table"`` when it came from :func:`dongping_geo.gb3838.method_detection_limits`).
        Indexed by the file's line number (``row``). Exact duplicates are dropped (listed as
        rejected in report mode). ``attrs["rejected"]``: DataFrame with columns
        :data:`REJECTED_COLUMNS` (empty unless ``on_error="report"`` found problems);
        ``attrs["records"]``: number of records read.

    Raises
    ------
    MeasurementError
        Naming the file, row, field (column), what was expected, found and the fix, for: a
        missing key column or an unrecognisable layout (also in report mode); and, with
        ``on_error="raise"``: an unknown parameter or unit, a unit that does not fit the
        item, a non-numeric or non-finite value (``inf``, ``nan``, ``1e400``), ``ND``
        without a detection limit for an item the method table lacks, a negative
        concentration, a pH outside 0–14, an unreadable date, or two different values for
        one section, sampling time and item.
    ConfigError
        For an ``on_error`` other than ``"raise"`` or ``"report"``.

    Examples
    --------
    >>> import pandas as pd
    >>> raw = pd.DataFrame({"断面编码": ["S1", "S1"], "采样日期": ["2022-03-05"] * 2,
    ...                     "监测项目": ["氨氮", "总磷"], "监测值": ["0.52", "<0.01"],
    ...                     "单位": ["mg/L", "mg/L"]})
    >>> parse_measurements(raw)[["parameter", "value", "qualifier"]].values.tolist()
    [['NH3_N', 0.52, ''], ['TP', 0.01, '<']]
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError("parse_measurements expects a pandas DataFrame")
    _check_on_error(on_error)
    fields = _map_fields(list(df.columns))
    _require_keys(fields, df, path)
    lines = np.arange(len(df)) + 2 if line_numbers is None else np.asarray(line_numbers)
    blank_line = np.ones(len(df), dtype=bool)
    for column in range(df.shape[1]):
        blank_line &= _unique_mask(df.iloc[:, column].to_numpy(dtype=object), _blank)
    df, lines = df[~blank_line], lines[~blank_line]
    if "parameter" in fields and "value" in fields:
        cells = _long_cells(df, fields, lines)
    else:
        cells = _wide_cells(df, fields, lines, path)
    return _finish(cells, path, on_error, date_format)


def _check_on_error(on_error: Any) -> None:
    if on_error not in ("raise", "report"):
        raise ConfigError(
            "unknown on_error",
            field="on_error",
            expected="'raise' or 'report'",
            found=repr(on_error),
            fix="pass on_error='raise' (stop at the first bad row) or 'report'",
        )


def _require_keys(fields: dict[str, Any], df: pd.DataFrame, path: Any) -> None:
    for required in ("section_id", "sampled_at"):
        if required not in fields:
            f = SCHEMA.field(required)
            raise MeasurementError(
                f"no {required} column",
                path=path,
                layer=LAYER,
                field=required,
                expected=" or ".join((f.name, f.zh, *f.aliases[:2])),
                found="columns " + ", ".join(map(str, df.columns)),
                fix=f"name the column {required} (or {f.zh})",
            )


# --------------------------------------------------------------------------- records


def _long_cells(df: pd.DataFrame, fields: dict[str, Any], lines: np.ndarray) -> pd.DataFrame:
    def col(name: str) -> np.ndarray:
        if name in fields:
            return df[fields[name]].to_numpy(dtype=object)
        return np.full(len(df), None, dtype=object)

    cells = pd.DataFrame(
        {
            "row": lines,
            "section_id": col("section_id"),
            "sampled_at": col("sampled_at"),
            "parameter_raw": col("parameter"),
            "value_raw": col("value"),
            "unit_raw": col("unit"),
            "unit_given": "unit" in fields,
            "qualifier_raw": col("qualifier"),
            "dl_raw": col("detection_limit"),
            "value_field": str(fields["value"]),
        },
        dtype=object,  # no string-dtype inference: the cells are parsed once per distinct value
    )
    below = _vocabulary()["below"]
    marked = _unique_mask(cells["qualifier_raw"], lambda q: key(_text(q)) in below)
    measured = ~_unique_mask(cells["value_raw"], _not_measured) | marked
    cells = cells[measured].reset_index(drop=True)
    cells.attrs["names"] = _Names(
        str(fields["section_id"]), str(fields["sampled_at"]), str(fields["parameter"]),
        str(fields.get("unit", "unit")), str(fields.get("qualifier", "qualifier")),
    )
    return cells


def _wide_items(df: pd.DataFrame, fields: dict[str, Any]) -> list[tuple[Any, str | None, str | None]]:
    """(column, item code or None, unit in the header) of each item column."""
    meta = set(fields.values())
    descriptive = _vocabulary()["descriptive"]
    items = []
    for c in df.columns:
        if c in meta or key(c) in descriptive or str(c).startswith("Unnamed:"):
            continue
        items.append((c, *_header_item(c)))
    return items


def _limits_row(df: pd.DataFrame, items: list[tuple[Any, Any, Any]]) -> bool:
    """Whether the first row is a row of detection limits (a 检出限 label outside the items)."""
    if not len(df):
        return False
    item_cols = {c for c, _, _ in items}
    labels = _vocabulary()["dl_labels"]
    first = df.iloc[0]
    return any(key(_text(first[c])) in labels for c in df.columns if c not in item_cols)


def _wide_cells(
    df: pd.DataFrame, fields: dict[str, Any], lines: np.ndarray, path: Any
) -> pd.DataFrame:
    items = _wide_items(df, fields)
    if not any(code for _, code, _ in items):
        raise MeasurementError(
            "cannot recognise the layout",
            path=path,
            layer=LAYER,
            expected="long (parameter and value columns) or wide (one column per item)",
            found="columns " + ", ".join(map(str, df.columns)),
            fix="add parameter/监测项目 and value/监测值 columns, or one column per item",
        )
    limits: dict[Any, Any] = {}
    if _limits_row(df, items):
        limits = {c: df.iloc[0][c] for c, _, _ in items}
        df, lines = df.iloc[1:], lines[1:]
    columns = [c for c, _, _ in items]
    measured = np.column_stack(
        [~_unique_mask(df[c].to_numpy(dtype=object), _not_measured) for c in columns]
    )
    r, j = np.nonzero(measured)  # row-major: file order, then column order within a line

    def per_column(values: list[Any]) -> np.ndarray:
        out = np.empty(len(values), dtype=object)
        out[:] = values
        return out[j]

    cells = pd.DataFrame(
        {
            "row": lines[r],
            "section_id": df[fields["section_id"]].to_numpy(dtype=object)[r],
            "sampled_at": df[fields["sampled_at"]].to_numpy(dtype=object)[r],
            # An unknown column keeps its header: it is refused as an unknown parameter.
            "parameter_raw": per_column([code or str(c) for c, code, _ in items]),
            "value_raw": df[columns].to_numpy(dtype=object)[r, j],
            "unit_raw": per_column([unit for _, _, unit in items]),
            "unit_given": per_column([unit is not None for _, _, unit in items]),
            "qualifier_raw": None,
            "dl_raw": per_column([limits.get(c) for c in columns]),
            "value_field": per_column([str(c) for c in columns]),
        },
        dtype=object,
    )
    # The item column is also where a wide table's parameter, unit and qualifier live.
    cells.attrs["names"] = _Names(str(fields["section_id"]), str(fields["sampled_at"]))
    return cells


def _per_unique(keys: list[np.ndarray], fn: Callable[..., Any]) -> np.ndarray:
    """Apply ``fn(*key)`` once per distinct key, spread to all rows.

    Lab tables repeat the same section codes, items, units and dates thousands of times, so
    parsing each distinct cell once keeps the parser fast.
    """
    n = len(keys[0])
    if not n:
        return np.empty(0, dtype=object)
    combo = np.empty(n, dtype=object)
    combo[:] = list(zip(*keys, strict=True))
    codes, uniques = pd.factorize(combo, use_na_sentinel=False)
    results = np.empty(len(uniques), dtype=object)
    results[:] = [fn(*u) for u in uniques]
    return results[codes]


# --------------------------------------------------------------------------- cells


def _section(raw: Any, field: str) -> str | _Problem:
    sid = _text(raw)
    if not sid:
        return _Problem("missing section code", field, "", "a section code (断面编码)",
                        "fill in the section code")
    return sid[:-2] if re.fullmatch(r"\d+\.0", sid) else sid


def _parameter(raw: Any, column: str, names: _Names) -> str | _Problem:
    text = _text(raw)
    long = names.parameter is not None
    field = names.parameter or column
    lookup, _ = parameter_table()
    code = lookup.get(param_key(text)) or _qualified_parameter(text)
    if code is not None:
        return code
    if long:
        return _Problem("unknown parameter", field, text,
                        "a GB 3838-2002 item code or Chinese name (pH, DO, CODMn, NH3_N, TP, 氨氮, 总磷 …)",
                        "use the item code or Chinese name of GB 3838-2002 Table 1")
    return _Problem("unknown parameter column", field, text,
                    "a GB 3838-2002 item code or Chinese name, e.g. NH3_N, 氨氮, 总磷(mg/L)",
                    "rename the column to an item code or name, or drop it")


def _unit_factor(code: str, kind: str, unit_raw: Any, unit_given: bool, field: str) -> Decimal | int | _Problem:
    table = UNIT_TABLES[kind]
    raw = _text(unit_raw)
    if not raw:
        if kind == "ph" or not unit_given:
            return 1  # pH has no unit; without a unit column the item's GB 3838 unit is assumed
        return _Problem("missing unit", field, "", f"the unit of {code}, e.g. {CANONICAL_UNIT[kind]}",
                        f"fill in the unit ({', '.join(u for u in table if u)})")
    factor = table.get(key(raw))
    if factor is not None:
        return factor
    known = {u for t in UNIT_TABLES.values() for u in t}
    return _Problem("unit does not fit the item" if key(raw) in known else "unknown unit", field, raw,
                    f"a unit of {code}: " + ", ".join(repr(u) for u in table if u),
                    f"give {code} in {CANONICAL_UNIT[kind]} or a convertible unit")


def _number(text: str, field: str, what: str) -> Decimal | _Problem:
    """A finite decimal, or why not (inf, nan, 1e400 and words are refused)."""
    try:
        value = Decimal(text) if RE_NUMBER.match(text) else None
    except InvalidOperation:
        value = None
    if value is not None and math.isfinite(float(value)):
        return value
    infinite = value is not None or key(text).lstrip("+-") in ("inf", "infinity", "nan", "∞")
    return _Problem(
        f"{what} is not a finite number" if infinite else f"{what} is not a number", field, text,
        "a number, <DL, DL+L (e.g. 0.01L), ND/未检出, or -, —, / for not measured",
        "correct the value",
    )


def _check_range(v: float, kind: str, field: str, raw: str) -> _Problem | None:
    if not math.isfinite(v):
        return _Problem("value is not a finite number", field, raw, "a finite number", "correct the value")
    if v < 0 and kind != "temp":
        return _Problem("negative value", field, raw, "a value >= 0",
                        "check the sign; a result below detection is written <0.01 or 0.01L")
    if kind == "ph" and v > 14:
        return _Problem("pH outside 0–14", field, raw, "a pH between 0 and 14",
                        "check the value and the item")
    return None


def _below_limit(code: str, dl_raw: Any, field: str, raw: str) -> tuple[Decimal, str, str] | _Problem:
    """Limit of a below-detection result without a number: the sheet's, else the method's."""
    dl = _text(dl_raw)
    if dl and not _not_measured(dl):
        number = _number(dl, field, "detection limit")
        return number if isinstance(number, _Problem) else (number, "<", "sheet")
    method = method_detection_limit(code)
    if method is not None:
        return Decimal(repr(method[0])), "<", "method table"
    return _Problem(
        "below-detection marker without a detection limit", field, raw,
        f"a detection limit for {code} (the method table of dongping_geo.gb3838 has none): "
        "in a detection_limit (检出限) column or a 检出限 row under the item names",
        "write the result as <DL or DL+L (e.g. <0.01 or 0.01L), or add the lab's 检出限",
    )


def _reading(
    code: str, value_raw: Any, qual_raw: Any, dl_raw: Any, field: str, qual_field: str
) -> tuple[Decimal, str, str] | _Problem:
    """(number, qualifier, limit source) of one value cell and its qualifier."""
    vocab = _vocabulary()
    raw, qual_text = _text(value_raw), _text(qual_raw)
    qual = vocab["qualifiers"].get(key(qual_text), None) if qual_text else "="
    if qual is None:
        return _Problem("unknown qualifier", qual_field, qual_text,
                        "'' or '<' (below detection limit; also ND, 未检出, L)",
                        "leave the qualifier empty or write <")
    if key(raw) in vocab["below"] or (qual == "<" and _not_measured(raw)):
        return _below_limit(code, dl_raw, field, raw)
    m = RE_LESS.match(raw) or RE_L_SUFFIX.match(raw)
    number = _number(m.group(1) if m else raw, field, "value")
    if isinstance(number, _Problem):
        return number._replace(value=raw)
    if m or qual == "<":
        return number, "<", "sheet"
    return number, "", ""  # qualifier "=": a measured value


def _value(names: _Names, code: str, cell: tuple[Any, ...]) -> tuple[float, str, str] | _Problem:
    """(value in the canonical unit, qualifier, limit source) of one record, or its problem.

    ``cell``: unit, whether a unit was given, value, qualifier, detection limit, column.
    """
    unit_raw, unit_given, value_raw, qual_raw, dl_raw, field = cell
    kind = parameter_table()[1][code]
    factor = _unit_factor(code, kind, unit_raw, unit_given, names.unit or field)
    if isinstance(factor, _Problem):
        return factor
    reading = _reading(code, value_raw, qual_raw, dl_raw, field, names.qualifier or field)
    if isinstance(reading, _Problem):
        return reading
    number, qualifier, source = reading
    # The method table is in the item's GB 3838 unit already; the sheet's numbers are not.
    v = float(number if source == "method table" else number * Decimal(factor))
    return _check_range(v, kind, field, _text(value_raw)) or (v, qualifier, source)


def _parse_dates(raw: np.ndarray, field: str, date_format: str | None = None) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """Sampling times (Excel serials, then :func:`dongping_geo.schemas.parse_datetime`)."""
    codes, uniques = pd.factorize(pd.Series(raw, dtype=object), use_na_sentinel=False)
    values = pd.Series([_text(u) for u in uniques], dtype=object)
    serial = parse_excel_serial(values)
    parsed, bad = parse_datetime(values.where(serial.isna() & values.ne(""), None), date_format=date_format)
    stamps = pd.DatetimeIndex(parsed.where(serial.isna(), serial))
    times = stamps.take(codes)
    unique_problems = np.full(len(values), None, dtype=object)
    for u in np.flatnonzero(bad.to_numpy() | values.eq("").to_numpy()):
        text = str(values.iloc[u])
        unique_problems[u] = _Problem(
            "unreadable sampling date" if text else "missing sampling date", field, text,
            (f"a date in the form {date_format!r}" if date_format else
             "a date like 2022-03-05, 2022/3/5 or 2022年3月5日 (optionally with a time)")
            + ", or an Excel serial day number such as 44621",
            "write the date as YYYY-MM-DD" + ("" if date_format else ", or give its form with date_format"),
        )
    problems = unique_problems[codes] if len(codes) else np.empty(0, dtype=object)
    return times, problems


def _parse_records(cells: pd.DataFrame, date_format: str | None = None) -> dict[str, Any]:
    """Every record parsed: values per column plus ``problem`` (first _Problem or None)."""
    c = {k: cells[k].to_numpy(dtype=object) for k in cells.columns}
    names: _Names = cells.attrs["names"]
    section = _per_unique([c["section_id"]], lambda raw: _section(raw, names.section))
    param = _per_unique([c["parameter_raw"], c["value_field"]],
                        lambda raw, column: _parameter(raw, column, names))
    times, date_problems = _parse_dates(c["sampled_at"], names.date, date_format)
    ok_param = np.array([not isinstance(p, _Problem) for p in param], dtype=bool)
    keys = [c[k][ok_param] for k in ("unit_raw", "unit_given", "value_raw", "qualifier_raw",
                                     "dl_raw", "value_field")]
    value = np.full(len(cells), None, dtype=object)
    if ok_param.any():
        value[ok_param] = _per_unique([param[ok_param], *keys],
                                      lambda code, *cell: _value(names, code, cell))
    problem = np.full(len(cells), None, dtype=object)
    for column in (value, param, date_problems, section):  # the last assigned wins: section first
        hit = np.array([isinstance(x, _Problem) for x in column], dtype=bool)
        problem[hit] = column[hit]
    return {"section": section, "parameter": param, "time": times, "value": value,
            "problem": problem}


def _assemble(records: dict[str, Any], cells: pd.DataFrame, ok: np.ndarray) -> pd.DataFrame:
    kinds = parameter_table()[1]
    parsed = records["value"][ok]
    params = records["parameter"][ok]
    return pd.DataFrame(
        {
            "section_id": pd.array(records["section"][ok], dtype=object),
            "sampled_at": records["time"][ok],
            "parameter": pd.array(params, dtype=object),
            "value": np.fromiter((p[0] for p in parsed), dtype=float, count=len(parsed)),
            "unit": pd.array([CANONICAL_UNIT[kinds[p]] for p in params], dtype=object),
            "qualifier": pd.array([p[1] for p in parsed], dtype=object),
            "limit_source": pd.array([p[2] for p in parsed], dtype=object),
            "_field": cells["value_field"].to_numpy()[ok],
        },
        index=pd.Index(cells["row"].to_numpy()[ok], name="row"),
    )


def _duplicates(result: pd.DataFrame) -> tuple[pd.DataFrame, list[tuple[Any, _Problem]], bool]:
    """Drop exact duplicates and conflicting ones: (kept, rejected, whether any conflicted)."""
    keys = ["section_id", "sampled_at", "parameter"]
    flat = result.reset_index()
    text = flat["qualifier"] + flat["value"].map(lambda v: f"{v:g}")
    first = flat.groupby([*keys, "value", "qualifier"], sort=False)["row"].transform("first")
    exact = flat.duplicated([*keys, "value", "qualifier"], keep="first").to_numpy()
    rejected = [
        (r, _Problem(f"exact duplicate of row {f}", fld, t, "one line per section, sampling time and item",
                     "nothing to do: the copy is ignored (delete it to silence this)"))
        for r, f, fld, t in zip(flat["row"][exact], first[exact], flat["_field"][exact], text[exact], strict=True)
    ]
    flat, text = flat[~exact], text[~exact]
    clash = flat.duplicated(keys, keep=False).to_numpy()
    if clash.any():
        group = flat[clash].groupby(keys, sort=False)
        listing = group["row"].transform(lambda s: ", ".join(map(str, s)))
        values = text[clash].groupby([flat[clash][k] for k in keys], sort=False).transform(", ".join)
        for r, fld, t, rows, vals in zip(flat["row"][clash], flat["_field"][clash], text[clash],
                                         listing, values, strict=True):
            p = _Problem(f"two different values for the same sample and item ({vals} in rows {rows})",
                         fld, t, "one value per section, sampling time and item",
                         "keep one result (or give the samples distinct sampling times)")
            rejected.append((r, p))
    flat = flat[~clash]
    return flat.set_index("row")[OUTPUT_COLUMNS], rejected, bool(clash.any())


def _rejected_table(entries: list[tuple[Any, _Problem]], path: Any) -> pd.DataFrame:
    file = str(path) if path is not None else ""
    return rejected_rows((file, int(row), p.field, p.value, p.reason, p.fix) for row, p in entries)


def _finish(cells: pd.DataFrame, path: Any, on_error: OnError, date_format: str | None = None) -> pd.DataFrame:
    records = _parse_records(cells, date_format)
    problem = records["problem"]
    bad = np.array([p is not None for p in problem], dtype=bool)
    rows = cells["row"].to_numpy()
    if on_error == "raise" and bad.any():
        first = int(np.flatnonzero(bad)[np.argmin(rows[bad])])
        raise _error(problem[first], path, rows[first])
    result, rejected, clash = _duplicates(_assemble(records, cells, ~bad))
    if on_error == "raise" and clash:
        raise _error(rejected[-1][1], path, rejected[-1][0])
    rejected += [(r, p) for r, p in zip(rows[bad], problem[bad], strict=True)]
    result.attrs["rejected"] = _rejected_table(rejected, path)
    result.attrs["records"] = len(cells)
    return result


# --------------------------------------------------------------------------- shared checks


def check_section_ids(
    measurements: pd.DataFrame,
    sections: pd.DataFrame,
    *,
    path: Any = None,
    on_error: OnError = "raise",
) -> pd.DataFrame:
    """Check that every measurement names a section of the sections layer.

    Shared by ``assess_sections``, ``load_dataset`` and the ``validate`` command, so they
    agree on what fails.

    Parameters
    ----------
    measurements : pandas.DataFrame
        The parsed measurement table (``section_id``; indexed by file line ``row`` when it
        comes from :func:`parse_measurements`).
    sections : pandas.DataFrame
        The sections layer (``section_id``).
    path : path-like, optional
        The measurement file, for messages; default ``measurements.attrs["path"]``.
    on_error : {"raise", "report"}, default "raise"
        ``"raise"``: raise on the first unknown id. ``"report"``: return them all.

    Returns
    -------
    pandas.DataFrame
        One line per measurement with an unknown section id, columns
        :data:`REJECTED_COLUMNS` (empty when every id is known).

    Raises
    ------
    MeasurementError
        With ``on_error="raise"``: naming the first row, the count and other unknown ids;
        also when either table lacks ``section_id``.

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame({"section_id": ["S1", "S9"]}, index=pd.Index([2, 3], name="row"))
    >>> check_section_ids(m, pd.DataFrame({"section_id": ["S1"]}), on_error="report")[["row", "value"]].values.tolist()
    [[3, 'S9']]
    """
    _check_on_error(on_error)
    path = path if path is not None else measurements.attrs.get("path")
    for name, table in (("measurements", measurements), ("sections", sections)):
        if "section_id" not in table.columns:
            raise MeasurementError(
                f"{name} table lacks section_id", path=path, layer=name, field="section_id",
                expected="a section_id (断面编码) column", found=", ".join(map(str, table.columns)),
                fix=f"load the table with dongping_geo.loaders.load_{name}",
            )
    sid = measurements["section_id"].astype(str)
    unknown = ~sid.isin(set(sections["section_id"].astype(str))).to_numpy()
    rows = measurements.index if measurements.index.name == "row" else pd.RangeIndex(len(sid))
    ids = sorted(set(sid[unknown]))
    problems = [
        (row, _Problem("section absent from the sections layer", "section_id", s,
                       "a section_id of the sections layer",
                       "correct the section code, or add the section to the sections layer"))
        for row, s in zip(rows[unknown], sid[unknown], strict=True)
    ]
    if problems and on_error == "raise":
        row, p = problems[0]
        others = [i for i in ids if i != p.value][:5]
        p = p._replace(reason=f"{len(problems)} measurement(s) name a section absent from the sections layer"
                       + (f" (also {', '.join(others)})" if others else ""))
        where = row if measurements.index.name == "row" else f"index {row}"
        raise _error(p, path, where)
    return _rejected_table(problems, path)
