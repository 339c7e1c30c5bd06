"""Tables for people: analysis tables in the reader's language, numbers rounded by unit.

The analysis functions return canonical codes (``qianjin``, ``TP``, ``town``) and full
floating-point precision. :func:`localize_table` turns such a table into what an
officer opens in Excel: Chinese (or English, or both) column headers, category values
as words (区管, 镇考, 总磷, Ⅲ类, 东风片区) and numbers rounded by their unit. Every label
comes from :mod:`dongping_geo.schemas` (field names, :data:`~dongping_geo.schemas.CATEGORY_LABELS`,
:data:`~dongping_geo.schemas.OUTPUT_FIELD_LABELS`) or the GB 3838-2002 table; nothing
is declared here. Writing the result to CSV/XLSX is :func:`dongping_geo.io.write_table`.

Rounding rules (docs/outputs.md):

* lengths (``*_m``) and areas (``*_m2``): 0.1 m and 0.1 m²;
* shares (``coverage``, ``rate``, ``*share*`` columns, fractions 0–1): percent, 0.1 %;
* concentrations: the finest decimal place of the item's GB 3838-2002 Table 1 limits
  (river and lake rows), at least one decimal; counts (fecal coliform) as integers —
  e.g. total phosphorus 0.001 mg/L, ammonia nitrogen 0.01 mg/L, DO 0.1 mg/L;
* exceedance multiples (``exceed_<item>``): 0.01.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Literal

import numpy as np
import pandas as pd

from .errors import ConfigError
from .schemas import (
    CATEGORY_LABELS,
    LOCAL_TZ,
    OUTPUT_FIELD_LABELS,
    SCHEMAS,
    category_field,
)

__all__ = [
    "LANGS",
    "column_label",
    "concentration_decimals",
    "localize_table",
    "round_by_unit",
    "value_label",
]

Lang = Literal["both", "zh", "en"]
#: Accepted values of ``lang``.
LANGS: tuple[str, ...] = ("both", "zh", "en")

_LENGTH_DECIMALS = 1
_AREA_DECIMALS = 1
_SURVEY_AREA_DECIMALS = 2  # TBMJ, the survey's official area, is recorded to 0.01 m²
_MU_DECIMALS = 4  # 亩: 0.0001 亩 is 0.07 m²
_SHARE_DECIMALS = 1
_EXCEED_DECIMALS = 2
_SHARE_COLUMNS = frozenset({"coverage", "rate"})
_ITEM_COLUMNS = re.compile(r"^(class_|exceed_)?(.+)$")
# Columns holding comma-separated GB 3838 item codes.
_ITEM_LIST_COLUMNS = ("main_pollutants", "determining")
_LANDCOVER_COLUMNS = ("from_name", "to_name")
_TZ = LOCAL_TZ  # one home: schemas.LOCAL_TZ


def _check_lang(lang: str) -> None:
    if lang not in LANGS:
        raise ConfigError("unknown table language", field="lang", expected="both, zh or en", found=repr(lang),
                          fix="pass lang='both' (Chinese header with the English name), 'zh' or 'en'")


def _check_layer(layer: str | None) -> None:
    if layer is not None and layer not in SCHEMAS:
        raise ConfigError("unknown layer", field="layer", expected=", ".join(SCHEMAS), found=repr(layer),
                          fix="name the layer whose fields the table holds, or leave layer=None")


# --------------------------------------------------------------------------- GB 3838 items


@lru_cache(maxsize=1)
def _items() -> pd.DataFrame:
    """GB 3838 items: code -> name_zh, name_en (water-body qualifier dropped), unit, decimals."""
    # The GB 3838 table; it moves to dongping_geo.gb3838 (issue 13).
    from .water_quality import gb3838_limits

    table = gb3838_limits()
    classes = ["I", "II", "III", "IV", "V"]
    decimals: dict[str, int] = {}
    for code, row in table.iterrows():
        item = "TP" if code == "TP_lake" else str(code)
        numbers = [n for cell in row[classes] for n in str(cell).split("-")]
        places = max(len(n.split(".")[1]) if "." in n else 0 for n in numbers)
        places = 0 if row["unit"] == "count/L" else max(places, 1)
        decimals[item] = max(decimals.get(item, 0), places)
    out = table.drop(index="TP_lake", errors="ignore")
    strip = r"\s*[(（].*[)）]\s*$"  # 总磷(河流) -> 总磷, total phosphorus (rivers) -> total phosphorus
    return pd.DataFrame({
        "name_zh": out["name_zh"].str.replace(strip, "", regex=True),
        "name_en": out["name_en"].str.replace(strip, "", regex=True),
        "unit": out["unit"],
        "decimals": pd.Series(decimals),
    })


def concentration_decimals() -> dict[str, int]:
    """Decimal places of each GB 3838 item's values, from the standard's limits.

    The finest decimal place among the item's Table 1 limits (the river and the
    lake row of total phosphorus together), at least one decimal so that a value
    just over a whole-number limit (pH 9.4 against 6–9) does not print as the
    limit; counts (fecal coliform, per litre) are whole numbers.

    Returns
    -------
    dict of str to int
        Item code (``TP``, ``NH3_N`` …) to decimal places.

    Examples
    --------
    >>> d = concentration_decimals()
    >>> d["TP"], d["NH3_N"], d["DO"], d["CODMn"], d["fecal_coliform"]
    (3, 2, 1, 1, 0)
    """
    return {str(k): int(v) for k, v in _items()["decimals"].items()}


# --------------------------------------------------------------------------- rounding


def _is_share(column: str) -> bool:
    return column in _SHARE_COLUMNS or "share" in column


def _decimals(column: str, layer: str | None = None) -> int | None:
    """Decimal places of a numeric column by its unit, or None to leave it as it is."""
    if column.endswith("_m") or column == "length_m":
        return _LENGTH_DECIMALS
    if column.endswith("_m2"):
        # the land survey's official areas (TBMJ) are recorded to 0.01 m²: keep them
        return _SURVEY_AREA_DECIMALS if layer == "land_survey" else _AREA_DECIMALS
    if column.endswith("_mu"):
        return _MU_DECIMALS
    if _is_share(column):
        return _SHARE_DECIMALS
    prefix, item = _ITEM_COLUMNS.match(column).groups()  # type: ignore[union-attr]  # matches any text
    items = _items()
    if item in items.index:
        return _EXCEED_DECIMALS if prefix == "exceed_" else int(items.at[item, "decimals"]) if not prefix else None
    if column == "water_temp":
        return 1
    return None


def round_by_unit(df: pd.DataFrame, *, layer: str | None = None) -> pd.DataFrame:
    """Round a table's numbers by their unit; shares become percent.

    Lengths (``*_m``) to 0.1 m, areas (``*_m2``) to 0.1 m² (0.01 m² for the land
    survey's official areas, ``layer="land_survey"``; 亩 to 0.0001), shares (``coverage``,
    ``rate``, columns named ``*share*``, fractions 0–1) to percent with 0.1 %,
    GB 3838 item columns to :func:`concentration_decimals`, exceedance multiples to
    0.01. A long measurements table (``parameter`` and ``value``) is rounded per item.
    Codes stay codes: see :func:`localize_table` for the translation.

    Parameters
    ----------
    df : DataFrame
        An analysis table.
    layer : str, optional
        The layer whose fields the table holds (see :func:`column_label`).

    Returns
    -------
    DataFrame
        A rounded copy.

    Examples
    --------
    >>> round_by_unit(pd.DataFrame({"length_m": [19799.999739958646], "coverage": [0.98765]}))
       length_m  coverage
    0   19800.0      98.8
    """
    out = df.copy()
    for col in out.columns:
        if not isinstance(col, str) or not pd.api.types.is_numeric_dtype(out[col]) or out[col].dtype == bool:
            continue
        places = _decimals(col, layer)
        if places is None:
            continue
        values = out[col].astype(float)
        out[col] = (values * 100 if _is_share(col) else values).round(places)
    if {"parameter", "value"} <= set(out.columns) and pd.api.types.is_numeric_dtype(out["value"]):
        places = out["parameter"].map(concentration_decimals())
        values = out["value"].astype(float)
        for p in places.dropna().unique():
            sel = places == p
            values[sel] = values[sel].round(int(p))
        out["value"] = values
    return out


# --------------------------------------------------------------------------- labels


def _pick(zh: str, en: str, lang: str) -> str:
    return zh if lang in ("zh", "both") else en


@lru_cache(maxsize=1)
def _landcover() -> dict[str, tuple[str, str]]:
    from .raster import LANDCOVER_LEGEND  # the legend lives with the raster analysis today

    return {c.name: (c.name_zh, c.name.replace("_", " ")) for c in LANDCOVER_LEGEND.values()}


def _item_value(code: Any, lang: str) -> Any:
    items = _items()
    if isinstance(code, str) and code in items.index:
        return _pick(items.at[code, "name_zh"], items.at[code, "name_en"], lang)
    if code == "water_temp":
        return _pick(OUTPUT_FIELD_LABELS["water_temp"], "water temperature", lang)
    return code


def value_label(column: str, value: Any, *, lang: Lang = "both") -> Any:
    """Label of one value of a column as a word in the reader's language.

    Parameters
    ----------
    column : str
        Canonical column name (``level``, ``kind``, ``water_class``, ``class_TP``,
        ``parameter`` …).
    value : Any
        The canonical value (``town``, ``III``, ``TP`` …).
    lang : {"both", "zh", "en"}, default "both"
        ``zh`` and ``both`` give the Chinese word (a ``both`` table carries the
        English in its header), ``en`` the English one.

    Returns
    -------
    Any
        The label, or ``value`` unchanged when the column has no labels or the
        value is not one of its categories.

    Raises
    ------
    ConfigError
        If ``lang`` is not one of :data:`LANGS`.

    Examples
    --------
    >>> value_label("level", "town"), value_label("class_TP", "III"), value_label("parameter", "TP")
    ('镇管', 'Ⅲ类', '总磷')
    >>> value_label("region", "qianjin", lang="en")
    'Qianjin'
    """
    _check_lang(lang)
    return _value_mapper(column, lang)(value)


def _value_mapper(column: str, lang: str) -> Any:
    """Return a function value -> label for a column (identity for columns without labels)."""
    field = category_field(column)
    if field is not None:
        labels: Mapping[Any, tuple[str, str]] = CATEGORY_LABELS[field]
        return lambda v: _pick(*labels[v], lang) if _hashable(v) and v in labels else v
    if column == "parameter":
        return lambda v: _item_value(v, lang)
    if column in _ITEM_LIST_COLUMNS:
        sep = "、" if lang in ("zh", "both") else ", "
        return lambda v: sep.join(str(_item_value(c.strip(), lang)) for c in v.split(",")) if isinstance(v, str) and v else v
    if column in _LANDCOVER_COLUMNS:
        return lambda v: _pick(*_landcover()[v], lang) if v in _landcover() else v
    return lambda v: v


def _hashable(v: Any) -> bool:
    try:
        hash(v)
    except TypeError:
        return False
    return not (isinstance(v, float) and np.isnan(v))


def _zh_name(column: str, layer: str | None) -> str | None:
    """Chinese name of a column: its layer's schema, then analysis outputs, then any schema."""
    if layer is not None and column in SCHEMAS[layer].field_names:
        return SCHEMAS[layer].field(column).zh
    if column in OUTPUT_FIELD_LABELS:
        return OUTPUT_FIELD_LABELS[column]
    names = {s.field(column).zh for s in SCHEMAS.values() if column in s.field_names}
    if names:
        return min(names, key=len)  # name: 河道名称 / 断面名称 / 名称 -> the generic 名称
    prefix, item = _ITEM_COLUMNS.match(column).groups()  # type: ignore[union-attr]  # matches any text
    items = _items()
    if item in items.index:
        name = items.at[item, "name_zh"]
        return name + {"class_": "类别", "exceed_": "超标倍数"}.get(prefix or "", "")
    return _category_count_name(column)


def _category_count_name(column: str) -> str | None:
    """Chinese name of a count column per category value, ``<field>_<value>`` (``kind_outfall``)."""
    field, _, value = column.partition("_")
    labels = CATEGORY_LABELS.get(field, {})
    if value in labels:
        return f"{labels[value][0]}数"
    return None


def _unit(column: str) -> str:
    """Return the unit suffix of a column's header, e.g. ``(m²)`` or ``(mg/L)``."""
    if _is_share(column):
        return "(%)"
    if column.endswith("_m2"):
        return "(m²)"
    if column.endswith("_mu"):
        return "(亩)"
    if column.endswith("_m"):
        return "(m)"
    items = _items()
    if column in items.index and items.at[column, "unit"] not in ("dimensionless", ""):
        return f"({items.at[column, 'unit']})"
    return "(°C)" if column == "water_temp" else ""


def column_label(column: str, *, lang: Lang = "both", layer: str | None = None) -> str:
    """Header of a column in the reader's language.

    Parameters
    ----------
    column : str
        Canonical column name.
    lang : {"both", "zh", "en"}, default "both"
        ``both``: the Chinese name with the canonical one (``河道名称 name``);
        ``zh``: Chinese only; ``en``: the canonical name.
    layer : str, optional
        The layer whose fields the table holds (``rivers``, ``sections`` …); it
        decides ambiguous names (``name``: 河道名称 or 断面名称).

    Returns
    -------
    str
        The header; the Chinese name carries the unit (``长度(m)``, ``总磷(mg/L)``,
        ``覆盖率(%)``); columns without a Chinese name keep their name.

    Raises
    ------
    ConfigError
        If ``lang`` or ``layer`` is unknown.

    Examples
    --------
    >>> column_label("name", layer="rivers"), column_label("TP", lang="zh"), column_label("coverage", lang="en")
    ('河道名称 name', '总磷(mg/L)', 'coverage (%)')
    """
    _check_lang(lang)
    _check_layer(layer)
    zh = _zh_name(column, layer)
    unit = _unit(column)
    en = f"{column} {unit}" if unit == "(%)" else column
    if zh is None or lang == "en":
        return en
    return zh + unit if lang == "zh" else f"{zh}{unit} {column}"


def localize_table(df: pd.DataFrame, *, lang: Lang = "both", layer: str | None = None) -> pd.DataFrame:
    """Translate an analysis table for people: headers, values as words, rounded numbers.

    Parameters
    ----------
    df : DataFrame or GeoDataFrame
        A table as the analysis functions return it (canonical names and codes).
        A geometry column is dropped.
    lang : {"both", "zh", "en"}, default "both"
        ``both``: Chinese header with the English name (``河道名称 name``) and
        Chinese values; ``zh``: Chinese; ``en``: English.
    layer : str, optional
        The layer whose fields the table holds, for ambiguous names.

    Returns
    -------
    DataFrame
        A new table: numbers rounded by :func:`round_by_unit`, category values
        labelled by :func:`value_label`, lists joined with ``; ``, local times
        without the time-zone suffix (Asia/Shanghai), headers by :func:`column_label`.

    Raises
    ------
    ConfigError
        If ``lang`` or ``layer`` is unknown.

    Examples
    --------
    >>> t = pd.DataFrame({"river_id": ["R1"], "level": ["town"], "length_m": [1234.5678]})
    >>> localize_table(t, layer="rivers")
      河道编码 river_id 河道等级 level  长度(m) length_m
    0            R1         镇管          1234.6
    """
    _check_lang(lang)
    _check_layer(layer)
    geometry = getattr(df, "_geometry_column_name", None)
    table = pd.DataFrame(df.drop(columns=[geometry] if geometry in df.columns else []))
    out = round_by_unit(table, layer=layer)
    for col in out.columns:
        if not isinstance(col, str):
            continue
        values = out[col]
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            out[col] = values.dt.tz_convert(_TZ).dt.tz_localize(None)
            continue
        if values.dtype == object and values.map(lambda v: isinstance(v, list | tuple)).any():
            values = values.map(lambda v: "; ".join(map(str, v)) if isinstance(v, list | tuple) else v)
        out[col] = _translate(values, _value_mapper(col, lang)) if _labelled(col) else values
    headers = [column_label(c, lang=lang, layer=layer) if isinstance(c, str) else c for c in out.columns]
    out.columns = _unique(headers, list(out.columns))
    return out


def _translate(values: pd.Series, mapper: Any) -> pd.Series:
    """Label a column: each distinct value once, then a vectorised lookup."""
    values = values.astype(object)
    table = {v: mapper(v) for v in pd.unique(values.dropna()) if _hashable(v)}
    known = values.isin(list(table))
    return values.map(table).where(known, values).astype(object)


def _labelled(column: str) -> bool:
    return (category_field(column) is not None or column == "parameter"
            or column in _ITEM_LIST_COLUMNS or column in _LANDCOVER_COLUMNS)


def _unique(headers: list[Any], columns: list[Any]) -> list[Any]:
    """Make headers unique: a repeated header gets its canonical name appended."""
    seen = pd.Series(headers).duplicated(keep=False).tolist()
    return [f"{h} {c}" if dup and str(c) not in str(h) else h for h, c, dup in zip(headers, columns, seen, strict=True)]
