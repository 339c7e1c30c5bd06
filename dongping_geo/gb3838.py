"""The GB 3838-2002 rules: Table 1 limits, the class order and the half-detection-limit rule.

One home for the standard (issue 13). Everything here is a table lookup:

* :func:`gb3838_limits` — Table 1 of GB 3838-2002 (地表水环境质量标准, basic items), shipped
  as ``dongping_geo/data/gb3838_2002_table1.csv``;
* :data:`WATER_CLASSES` (declared in :mod:`dongping_geo.schemas`) and
  :data:`WATER_CLASS_DTYPE` — the class order ``I < II < III < IV < V < 劣V``;
* :func:`classify_values` — the class of each value of one item (a value equal to a limit
  belongs to that class; DO is a lower bound; pH outside 6–9 is 劣V);
* :func:`below_detection_value` / :func:`effective_values` — a result below the detection
  limit enters statistics at half the limit (环办监测函〔2020〕82号, 《地表水环境质量监测数据
  统计技术规定（试行）》, point 7: 当监测数据低于检出限时，以1/2检出限值参与计算和统计);
* :func:`method_detection_limits` — detection limits of the standard analysis method of
  each item, used for a lab's ``未检出``/``ND`` without a limit beside it
  (``dongping_geo/data/method_detection_limits.csv``).

The assessment (section means, grades, rivers) lives in :mod:`dongping_geo.water_quality`.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from .errors import ConfigError
from .schemas import WATER_CLASSES

__all__ = [
    "WATER_CLASSES",
    "WATER_CLASS_DTYPE",
    "EXTRA_ITEMS",
    "RIVER_REPORT_ONLY",
    "gb3838_limits",
    "classify_values",
    "below_detection_value",
    "effective_values",
    "method_detection_limits",
    "method_detection_limit",
]

#: Ordered categorical dtype of the classes: ``I < II < III < IV < V < 劣V``.
WATER_CLASS_DTYPE = pd.CategoricalDtype(list(WATER_CLASSES), ordered=True)
#: Items reported without a class (no Table 1 limit): water temperature in °C.
EXTRA_ITEMS: tuple[str, ...] = ("water_temp",)
#: Items with a Table 1 limit that never decide a river section's class.
RIVER_REPORT_ONLY = frozenset({"TN", "fecal_coliform"})

Limits = dict[str, tuple[str, np.ndarray]]


def _read_table(name: str, index: str) -> pd.DataFrame:
    text = resources.files("dongping_geo").joinpath(f"data/{name}")
    with text.open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False).set_index(index)


@lru_cache(maxsize=1)
def limits_table() -> pd.DataFrame:
    """Table 1 as read (cached; do not modify — :func:`gb3838_limits` returns a copy)."""
    return _read_table("gb3838_2002_table1.csv", "item")


def gb3838_limits() -> pd.DataFrame:
    """Return GB 3838-2002 Table 1 (basic items) as shipped with the package.

    Returns
    -------
    pandas.DataFrame
        Indexed by item code (``pH``, ``DO``, ``CODMn`` …); columns ``name_zh``,
        ``name_en``, ``unit``, ``bound`` (``max``, ``min`` or ``range``), ``I`` … ``V``
        (strings as in the standard; pH holds ``"6-9"``) and ``river_section_assessment``
        (``yes``, ``no`` or ``lakes only``).

    Examples
    --------
    >>> gb3838_limits().loc["NH3_N", "III"]
    '1.0'
    """
    return limits_table().copy()


def check_waterbody(waterbody: str) -> None:
    """Refuse a ``waterbody`` other than ``"river"`` or ``"lake"`` with a ConfigError.

    Parameters
    ----------
    waterbody : str
        The value given.

    Raises
    ------
    ConfigError
        If it is neither ``"river"`` nor ``"lake"``.
    """
    if waterbody not in ("river", "lake"):
        raise ConfigError(
            "unknown waterbody",
            field="waterbody",
            expected="'river' or 'lake'",
            found=repr(waterbody),
            fix="pass waterbody='river' for rivers and canals, 'lake' for lakes and reservoirs",
        )


@lru_cache(maxsize=2)
def numeric_limits(waterbody: str) -> Limits:
    """Item → (bound, limits I..V as floats) for the items with a limit.

    ``waterbody="lake"`` gives TP the lake/reservoir limits; ``TP_lake`` itself is not an item.
    pH gives ``("range", [6, 9])``.
    """
    table = limits_table()
    out: Limits = {}
    for item in table.index:
        if item == "TP_lake":
            continue
        src = "TP_lake" if (item == "TP" and waterbody == "lake") else item
        r = table.loc[src]
        if r["bound"] == "range":
            lo, hi = (float(x) for x in r["I"].split("-"))
            out[str(item)] = ("range", np.array([lo, hi]))
        else:
            out[str(item)] = (r["bound"], np.array([float(r[c]) for c in WATER_CLASSES[:5]]))
    return out


def assessed_items(waterbody: str) -> list[str]:
    """Items that decide a section's class, in the table's order (lakes add TN after TP)."""
    table = limits_table()
    items = [str(i) for i in table.index if table.loc[i, "river_section_assessment"] == "yes"]
    if waterbody == "lake":
        items.insert(items.index("TP") + 1, "TN")
    return items


def item_order() -> list[str]:
    """Item codes in the table's order (``TP_lake`` folded into ``TP``)."""
    return [str(i) for i in limits_table().index if i != "TP_lake"]


def class_codes(v: np.ndarray, item: str, limits: Limits) -> np.ndarray:
    """Class index 0..5 (I..劣V) of each value, -1 for NaN."""
    bound, lim = limits[item]
    if bound == "range":
        codes = np.where((v >= lim[0]) & (v <= lim[1]), 0, 5)
    elif bound == "min":
        # First class whose lower bound the value reaches; limits fall from I to V.
        codes = np.searchsorted(-lim, -v, side="left")
    else:
        # First class whose upper bound is >= the value; equal limits (COD I = II) give the better class.
        codes = np.searchsorted(lim, v, side="left")
    return np.where(np.isnan(v), -1, codes).astype(np.int8)


def classify_values(
    values: pd.Series | np.ndarray | list[float], item: str, *, waterbody: str = "river"
) -> pd.Categorical:
    """Classify concentrations of one item against GB 3838-2002 Table 1.

    Parameters
    ----------
    values : array-like of float
        Concentrations in the table's unit (mg/L; pH dimensionless; fecal coliform per L).
        NaN gives a missing class.
    item : str
        Item code of the table (``NH3_N``, ``DO``, ``pH`` …).
    waterbody : {"river", "lake"}, default "river"
        ``"lake"`` uses the lake/reservoir limits for TP.

    Returns
    -------
    pandas.Categorical
        Of dtype :data:`WATER_CLASS_DTYPE`. A value equal to a limit belongs to that class;
        DO is a lower bound; pH outside 6–9 is 劣V.

    Raises
    ------
    ConfigError
        For an item not in the table or an unknown ``waterbody``.

    Examples
    --------
    >>> list(classify_values([0.5, 0.51, 2.1], "NH3_N"))
    ['II', 'III', '劣V']
    """
    check_waterbody(waterbody)
    limits = numeric_limits(waterbody)
    if item not in limits:
        raise ConfigError(
            "no GB 3838-2002 limit for this item",
            field="parameter",
            expected=", ".join(limits),
            found=repr(item),
            fix="use an item code of GB 3838-2002 Table 1",
        )
    return pd.Categorical.from_codes(
        class_codes(np.asarray(values, dtype=float), item, limits), dtype=WATER_CLASS_DTYPE
    )


def below_detection_value(limit: Any) -> Any:
    """Value a below-detection result takes in statistics: half the detection limit.

    环办监测函〔2020〕82号 (《地表水环境质量监测数据统计技术规定（试行）》, point 7):
    当监测数据低于检出限时，以1/2检出限值参与计算和统计.

    Parameters
    ----------
    limit : float or array-like
        The detection limit(s), in the item's unit.

    Returns
    -------
    float or array-like
        ``limit / 2``, of the same kind as ``limit``.

    Examples
    --------
    >>> below_detection_value(0.05)
    0.025
    """
    return limit / 2.0


def effective_values(values: Any, qualifier: Any = None) -> pd.Series:
    """Values as they enter means and classes: ``"<"`` results at half their limit.

    Parameters
    ----------
    values : pandas.Series or array-like
        Measured values; where the qualifier is ``"<"`` the value is the detection limit.
    qualifier : pandas.Series or array-like, optional
        ``""`` (or missing) for a measured value, ``"<"`` for below the detection limit.

    Returns
    -------
    pandas.Series
        Float values (NaN where not numeric), the index of ``values`` when it is a Series.

    Examples
    --------
    >>> effective_values([0.5, 0.02], ["", "<"]).tolist()
    [0.5, 0.01]
    """
    value = pd.to_numeric(pd.Series(values), errors="coerce").astype(float)
    if qualifier is None:
        return value
    qual = pd.Series(np.asarray(qualifier, dtype=object), index=value.index).fillna("").astype(str)
    below = qual.str.strip().eq("<").to_numpy()
    return value.where(~below, below_detection_value(value))


@lru_cache(maxsize=1)
def _method_table() -> pd.DataFrame:
    return _read_table("method_detection_limits.csv", "item")


def method_detection_limits() -> pd.DataFrame:
    """Return the detection limit of the standard analysis method of each item.

    Used for a lab's ``未检出``/``ND`` with no limit beside it.

    Only items whose method standard states one limit for surface water are listed; an
    ``ND`` of any other item (DO, pH, Cu, Zn, Pb, Cd, CN, petroleum, sulfide, fecal
    coliform …) needs the lab's own limit in the sheet.

    Returns
    -------
    pandas.DataFrame
        Indexed by item code; columns ``standard`` (e.g. ``HJ 535-2009``), ``method_zh``,
        ``method_en``, ``detection_limit`` (float, in ``unit``), ``unit`` (the item's
        GB 3838 unit) and ``note`` (sample volume, cell length).

    Examples
    --------
    >>> row = method_detection_limits().loc["NH3_N"]
    >>> row["standard"], float(row["detection_limit"])
    ('HJ 535-2009', 0.025)
    """
    table = _method_table().copy()
    table["detection_limit"] = table["detection_limit"].astype(float)
    return table


def method_detection_limit(item: str) -> tuple[float, str] | None:
    """Return (detection limit in the item's GB 3838 unit, method standard) of an item, or None.

    Parameters
    ----------
    item : str
        Item code (``NH3_N``, ``TP`` …).

    Returns
    -------
    tuple of (float, str) or None
        None when the method table has no limit for the item.

    Examples
    --------
    >>> method_detection_limit("TP")
    (0.01, 'GB 11893-89')
    """
    table = _method_table()
    if item not in table.index:
        return None
    row = table.loc[item]
    return float(row["detection_limit"]), str(row["standard"])
