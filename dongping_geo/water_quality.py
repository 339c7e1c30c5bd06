"""Surface-water quality assessment per GB 3838-2002.

The limits are Table 1 of GB 3838-2002 (环境质量标准 地表水环境质量标准 / Environmental
quality standards for surface water); they, the class order and the half-detection-limit
rule live in :mod:`dongping_geo.gb3838`, whose names are re-exported here
(``gb3838_limits``, ``classify_values``, ``EXTRA_ITEMS``, ``WATER_CLASS_DTYPE`` …).
The method is the single-factor method of the national assessment rules
地表水环境质量评价办法（试行） (环办〔2011〕22号):

* a sample (or a period mean) takes the worst class over its assessed items;
* a value equal to a limit belongs to that class (the standard's ≤, and ≥ for DO);
* pH outside 6–9 is 劣V, worse than Class V is 劣V;
* water temperature, total nitrogen and fecal coliform are reported but do not decide a
  river section's class; ``waterbody="lake"`` uses the lake TP limits and assesses TN;
* below-detection values (qualifier ``"<"``, value = the detection limit) enter the
  calculation at half the detection limit (环办监测函〔2020〕82号,
  :func:`dongping_geo.gb3838.below_detection_value`).

Rivers are assessed from their sections: fewer than 5 assessed sections by the mean of
each item over the sections, 5 or more by the share of sections in Class I–III and in
劣V (the rules' "5个（含5个）以上").

All functions are pure: DataFrames in, DataFrames out.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

from ._measurements import check_section_ids
from .errors import ConfigError, MeasurementError, SchemaError
from .gb3838 import (
    EXTRA_ITEMS,
    RIVER_REPORT_ONLY,
    WATER_CLASS_DTYPE,
    WATER_CLASSES,
    assessed_items,
    below_detection_value,
    check_waterbody,
    class_codes,
    classify_values,
    effective_values,
    gb3838_limits,
    item_order,
    numeric_limits,
)
from .schemas import LOCAL_TZ, normalize_water_class

__all__ = [
    "WATER_CLASSES",
    "EXTRA_ITEMS",
    "RIVER_REPORT_ONLY",
    "below_detection_value",
    "check_section_ids",
    "effective_values",
    "WATER_CLASS_DTYPE",
    "GRADES",
    "GRADE_DTYPE",
    "gb3838_limits",
    "normalize_water_class",
    "classify_values",
    "classify_samples",
    "assess_sections",
    "assess_rivers",
    "compliance_summary",
]

#: Qualitative grades (水质定性评价), best to worst.
GRADES: tuple[str, ...] = ("优", "良好", "轻度污染", "中度污染", "重度污染")
#: Ordered categorical dtype of the grades.
GRADE_DTYPE = pd.CategoricalDtype(list(GRADES), ordered=True)

# Class index (0 = I … 5 = 劣V) → section grade: I–II 优, III 良好, IV 轻度, V 中度, 劣V 重度.
_CLASS_TO_GRADE = np.array(["优", "优", "良好", "轻度污染", "中度污染", "重度污染"], dtype=object)
# Cyanide and heavy metals come first among main pollutants when they exceed Class III
# (环办〔2011〕22号: 当氰化物或铅、铬等重金属超标时，优先作为主要污染指标).
_PRIORITY_POLLUTANTS = frozenset({"CN", "Pb", "Cr6", "Hg", "Cd", "As", "Cu", "Zn", "Se"})
_TIERS = ("national", "municipal", "district", "town")
_PERIOD_FREQ = {"M": "M", "Q": "Q", "Y": "Y"}
_TZ = LOCAL_TZ  # one home: schemas.LOCAL_TZ


def _severity(v: np.ndarray, item: str, limits: dict[str, tuple[str, np.ndarray]]) -> np.ndarray:
    """How far past the Class III limit: C/L_III, or L_III/C for DO; NaN for pH. Orders ties."""
    bound, lim = limits[item]
    if bound == "range":
        return np.full(v.shape, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        return lim[2] / v if bound == "min" else v / lim[2]


def _exceedance(v: np.ndarray, item: str, limits: dict[str, tuple[str, np.ndarray]]) -> np.ndarray:
    """(C − L_III) / L_III where C exceeds Class III; NaN otherwise and for pH and DO."""
    bound, lim = limits[item]
    if bound != "max":
        return np.full(v.shape, np.nan)
    # Rounded to 4 decimals: reported multiples need no more, and it hides float noise.
    mult = np.round((v - lim[2]) / lim[2], 4)
    return np.where(v > lim[2], mult, np.nan)


def _classify_wide(wide: pd.DataFrame, waterbody: str, *, with_pollutants: bool) -> pd.DataFrame:
    """Add class_<item>, water_class, determining (and main pollutants, exceedances)."""
    limits = numeric_limits(waterbody)
    assessed = [i for i in assessed_items(waterbody) if i in wide.columns]
    classified = [i for i in limits if i in wide.columns]
    out = wide.copy()
    codes = {}
    for item in classified:
        codes[item] = class_codes(wide[item].to_numpy(dtype=float), item, limits)
        out[f"class_{item}"] = pd.Categorical.from_codes(codes[item], dtype=WATER_CLASS_DTYPE)
    n = len(wide)
    if assessed:
        mat = np.column_stack([codes[i] for i in assessed])
        worst = mat.max(axis=1)
        sev = np.column_stack(
            [_severity(wide[i].to_numpy(dtype=float), i, limits) for i in assessed]
        )
    else:
        mat = np.empty((n, 0), dtype=np.int8)
        worst = np.full(n, -1, dtype=np.int8)
        sev = np.empty((n, 0))
    out["water_class"] = pd.Categorical.from_codes(worst, dtype=WATER_CLASS_DTYPE)
    out["determining"] = _ranked_items(mat, sev, assessed, mat == worst[:, None], limit=None)
    if with_pollutants:
        exc = {i: _exceedance(wide[i].to_numpy(dtype=float), i, limits) for i in classified}
        out["grade"] = pd.Categorical(
            np.where(worst >= 0, _CLASS_TO_GRADE[np.clip(worst, 0, 5)], None), dtype=GRADE_DTYPE
        )
        exc_mat = np.column_stack([exc[i] for i in assessed]) if assessed else np.empty((n, 0))
        priority = np.array([i in _PRIORITY_POLLUTANTS for i in assessed], dtype=bool)
        # Main pollutants: items worse than Class III, worst class first, then by exceedance.
        mask = (mat > 2) & (worst[:, None] > 2)
        out["main_pollutants"] = _ranked_items(
            mat, exc_mat, assessed, mask, limit=3, priority=priority
        )
        for item in classified:
            if limits[item][0] == "max":  # not computed for pH and DO
                out[f"exceed_{item}"] = exc[item]
    return out


def _ranked_items(
    codes: np.ndarray,
    key: np.ndarray,
    items: list[str],
    mask: np.ndarray,
    *,
    limit: int | None,
    priority: np.ndarray | None = None,
) -> list[str]:
    """Per row: the masked items ordered by (priority, class, key desc, table order), joined."""
    key = np.where(np.isnan(key), -np.inf, key)
    prio = np.zeros(len(items), dtype=int) if priority is None else priority.astype(int)
    result = []
    for r in range(codes.shape[0]):
        cols = np.flatnonzero(mask[r])
        if cols.size == 0:
            result.append("")
            continue
        order = sorted(cols, key=lambda c: (-prio[c], -codes[r, c], -key[r, c], c))
        if limit is not None:
            order = order[:limit]
        result.append(",".join(items[c] for c in order))
    return result


def _check_measurements(measurements: pd.DataFrame) -> None:
    required = ["section_id", "sampled_at", "parameter", "value"]
    missing = [c for c in required if c not in measurements.columns]
    if missing:
        raise MeasurementError(
            "measurements table lacks required columns",
            layer="measurements",
            expected=", ".join(required) + " (qualifier optional)",
            found=", ".join(map(str, measurements.columns)),
            fix="load the table with dongping_geo.loaders.load_measurements",
        )


def _effective_values(measurements: pd.DataFrame) -> pd.Series:
    """Values with below-detection results at half the detection limit (see :mod:`.gb3838`)."""
    qualifier = measurements["qualifier"] if "qualifier" in measurements.columns else None
    return effective_values(measurements["value"], qualifier)


def _local_naive(ts: pd.Series) -> pd.Series:
    ts = pd.to_datetime(ts)
    if ts.dt.tz is None:
        return ts
    return ts.dt.tz_convert(_TZ).dt.tz_localize(None)


def _to_wide(measurements: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    table = measurements.assign(_v=_effective_values(measurements))
    wide = table.pivot_table(
        index=keys, columns="parameter", values="_v", aggfunc="mean", sort=True
    )
    wide.columns = [str(c) for c in wide.columns]
    return wide


def _column_order(columns: list[str]) -> list[str]:
    """Item columns in the table's order, unknown items (water temperature …) last."""
    table_order = item_order()
    known = [c for c in table_order if c in columns]
    return known + sorted(c for c in columns if c not in known)


# --------------------------------------------------------------------------- public API


def classify_samples(
    measurements: pd.DataFrame, *, waterbody: Literal["river", "lake"] = "river"
) -> pd.DataFrame:
    """Classify each sample by the single-factor method (GB 3838-2002, 环办〔2011〕22号).

    Parameters
    ----------
    measurements : pandas.DataFrame
        Long table with ``section_id``, ``sampled_at``, ``parameter`` (item code),
        ``value`` (mg/L; pH dimensionless; fecal coliform per L) and optional
        ``qualifier`` (``"<"`` = below the detection limit given in ``value``).
    waterbody : {"river", "lake"}, default "river"
        ``"lake"`` uses the lake TP limits and lets TN decide the class.

    Returns
    -------
    pandas.DataFrame
        One row per sample (``section_id``, ``sampled_at``), sorted by both: the value of
        each item (below-detection results at half the detection limit), ``class_<item>``
        for every item with a limit, ``water_class`` (ordered categorical ``I < … < 劣V``,
        worst over the assessed items; NaN when no assessed item was measured) and
        ``determining`` (comma-separated assessed items at that class, furthest past the
        Class III limit first).

    Raises
    ------
    MeasurementError
        If required columns are missing.
    ConfigError
        If ``waterbody`` is neither ``"river"`` nor ``"lake"``.

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame({"section_id": ["S1", "S1"], "sampled_at": ["2022-03-05"] * 2,
    ...                   "parameter": ["NH3_N", "TP"], "value": [1.2, 0.1]})
    >>> classify_samples(m)[["water_class", "determining"]].iloc[0].tolist()
    ['IV', 'NH3_N']
    """
    check_waterbody(waterbody)
    _check_measurements(measurements)
    wide = _to_wide(measurements, ["section_id", "sampled_at"])
    wide = wide[_column_order(list(wide.columns))].reset_index()
    return _classify_wide(wide, waterbody, with_pollutants=False)


def _period_labels(sampled_at: pd.Series, period: str) -> pd.Series:
    if period not in _PERIOD_FREQ:
        raise ConfigError(
            "unknown assessment period",
            field="period",
            expected="'M' (month), 'Q' (quarter) or 'Y' (year)",
            found=repr(period),
            fix="pass period='M', 'Q' or 'Y'",
        )
    return _local_naive(sampled_at).dt.to_period(_PERIOD_FREQ[period]).astype(str)


def _section_lookup(sections: pd.DataFrame) -> pd.DataFrame:
    if "section_id" not in sections.columns:
        raise SchemaError(
            "sections layer lacks section_id",
            layer="sections",
            field="section_id",
            expected="a section_id (断面编码) column",
            found=", ".join(map(str, sections.columns)),
            fix="load the layer with dongping_geo.loaders.load_sections",
        )
    cols = [
        c
        for c in ("section_id", "name", "tier", "river_id", "target_class")
        if c in sections.columns
    ]
    lookup = pd.DataFrame(sections[cols]).copy()
    lookup["section_id"] = lookup["section_id"].astype(str)
    if "target_class" in lookup.columns:
        lookup["target_class"] = pd.Categorical(
            [
                None
                if _is_missing(v)
                else normalize_water_class(v, layer="sections", feature_id=sid)
                for sid, v in zip(lookup["section_id"], lookup["target_class"], strict=True)
            ],
            dtype=WATER_CLASS_DTYPE,
        )
    return lookup.drop_duplicates("section_id")


def _is_missing(v: Any) -> bool:
    return (
        v is None
        or (isinstance(v, float) and np.isnan(v))
        or v is pd.NA
        or (isinstance(v, str) and not v.strip())
    )


def assess_sections(
    measurements: pd.DataFrame,
    sections: pd.DataFrame,
    *,
    period: Literal["M", "Q", "Y"] = "M",
    waterbody: Literal["river", "lake"] = "river",
) -> pd.DataFrame:
    """Assess each section per month, quarter or year against its target class.

    The arithmetic mean of each item over the period (below-detection results at half
    the detection limit) is classified by the single-factor method.

    Parameters
    ----------
    measurements : pandas.DataFrame
        Long measurement table (see :func:`classify_samples`).
    sections : pandas.DataFrame or geopandas.GeoDataFrame
        The sections layer: ``section_id`` and, used when present, ``name``, ``tier``,
        ``river_id``, ``target_class`` (any spelling :func:`normalize_water_class` accepts).
    period : {"M", "Q", "Y"}, default "M"
        Month, quarter or calendar year, in China time (Asia/Shanghai).
    waterbody : {"river", "lake"}, default "river"
        See :func:`classify_samples`.

    Returns
    -------
    pandas.DataFrame
        One row per section and period, sorted by section and period: ``section_id``,
        ``name``, ``tier``, ``river_id``, ``period`` (``2022-03``, ``2022Q1`` or ``2022``),
        ``n_samples``, the mean of each item, ``class_<item>``, ``water_class``,
        ``determining``, ``grade`` (I–II 优, III 良好, IV 轻度污染, V 中度污染, 劣V 重度污染),
        ``main_pollutants`` (empty when the class is III or better; else up to three items
        worse than Class III: cyanide and heavy metals first, then worst class, then largest
        exceedance multiple), ``exceed_<item>`` ((C − L_III) / L_III where C exceeds
        Class III, NaN otherwise; no column for pH and DO), ``target_class`` and ``meets_target``
        (``water_class <= target_class``; NA when either is missing).

    Raises
    ------
    MeasurementError
        If a measurement names a section absent from ``sections`` (the message gives the
        row) or required columns are missing.
    SchemaError
        If a target class is not a recognisable class.
    ConfigError
        For an unknown ``period`` or ``waterbody``.

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame({"section_id": ["S1", "S1"], "sampled_at": ["2022-01-05", "2022-02-05"],
    ...                   "parameter": ["NH3_N", "NH3_N"], "value": [1.0, 1.4]})
    >>> s = pd.DataFrame({"section_id": ["S1"], "target_class": ["Ⅲ类"]})
    >>> r = assess_sections(m, s, period="Q")
    >>> row = r.iloc[0]
    >>> row["period"], float(row["NH3_N"]), row["water_class"], bool(row["meets_target"])
    ('2022Q1', 1.2, 'IV', False)
    """
    check_waterbody(waterbody)
    _check_measurements(measurements)
    lookup = _section_lookup(sections)
    check_section_ids(measurements, lookup)
    sid = measurements["section_id"].astype(str)
    table = measurements.assign(
        section_id=sid.to_numpy(),
        period=_period_labels(measurements["sampled_at"], period).to_numpy(),
    )
    n_samples = table.groupby(["section_id", "period"])["sampled_at"].nunique().rename("n_samples")
    wide = _to_wide(table, ["section_id", "period"])
    # Means are rounded to 10 significant digits so that float summation noise
    # (0.2 + 0.2 + 0.2 = 0.6000000000000001) cannot push a mean at a limit over it.
    wide = wide.apply(lambda col: _round_sig(col.to_numpy(dtype=float), 10), raw=False)
    wide = wide[_column_order(list(wide.columns))]
    wide = wide.join(n_samples).reset_index()
    items = [c for c in wide.columns if c not in ("section_id", "period", "n_samples")]
    wide = wide[["section_id", "period", "n_samples", *items]]
    result = _classify_wide(wide, waterbody, with_pollutants=True)
    result = lookup.merge(result, on="section_id", how="right")
    if "target_class" in result.columns:
        result["meets_target"] = _meets_target(result)
    else:
        result["target_class"] = pd.Categorical([None] * len(result), dtype=WATER_CLASS_DTYPE)
        result["meets_target"] = pd.array([pd.NA] * len(result), dtype="boolean")
    for col in ("name", "tier", "river_id"):
        if col not in result.columns:
            result[col] = pd.NA
    # The verdict first, then item means, item classes and exceedance multiples.
    front = [
        "section_id", "name", "tier", "river_id", "period", "n_samples", "water_class",
        "target_class", "meets_target", "grade", "main_pollutants", "determining",
    ]  # fmt: skip
    rest = [c for c in result.columns if c not in front]
    return result[front + rest].sort_values(["section_id", "period"], ignore_index=True)


def _round_sig(x: np.ndarray, digits: int) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        mag = np.where((x == 0) | ~np.isfinite(x), 0, np.floor(np.log10(np.abs(x))))
    scale = 10.0 ** (digits - 1 - mag)
    return np.where(np.isfinite(x) & (x != 0), np.round(x * scale) / scale, x)


def _river_grade(share_good: np.ndarray, share_worse_v: np.ndarray) -> np.ndarray:
    """Grade by the shares of sections in I–III and 劣V (环办〔2011〕22号, Table 3)."""
    return np.select(
        [
            share_good >= 0.9,
            share_good >= 0.75,
            share_worse_v >= 0.4,  # the table's "I–III < 60% and 劣V ≥ 40%"; 60/40 counts here too
            share_worse_v >= 0.2,
        ],
        ["优", "良好", "重度污染", "中度污染"],
        default="轻度污染",
    )


def _require_assessment(assessment: pd.DataFrame, columns: tuple[str, ...]) -> None:
    """Refuse a table that is not the output of assess_sections (names the missing column)."""
    for col in columns:
        if col not in assessment.columns:
            raise SchemaError(
                "assessment table lacks a column",
                layer="assessment",
                field=col,
                expected="the output of assess_sections",
                found=", ".join(map(str, assessment.columns)),
                fix="pass the result of assess_sections(measurements, sections)",
            )


def assess_rivers(
    assessment: pd.DataFrame,
    rivers: pd.DataFrame | None = None,
    *,
    waterbody: Literal["river", "lake"] = "river",
    min_sections_for_share: int = 5,
) -> pd.DataFrame:
    """Assess each river per period from its sections (环办〔2011〕22号).

    With fewer than ``min_sections_for_share`` (5) assessed sections the river's value of
    each item is the arithmetic mean over its sections' period means, classified by the
    single-factor method. With 5 or more (exactly 5 included: the rules' "5个（含5个）以上")
    the river is graded by the share of sections in Class I–III and in 劣V: I–III ≥ 90% 优,
    ≥ 75% 良好, else 劣V ≥ 40% 重度污染, ≥ 20% 中度污染, otherwise 轻度污染; such a river has
    a grade but no single class.

    Parameters
    ----------
    assessment : pandas.DataFrame
        Output of :func:`assess_sections`; rows without ``river_id`` are ignored.
    rivers : pandas.DataFrame, optional
        The rivers layer; adds ``name`` and ``target_class`` (and ``meets_target``).
    waterbody : {"river", "lake"}, default "river"
        See :func:`classify_samples`.
    min_sections_for_share : int, default 5
        Number of sections from which the share method applies.

    Returns
    -------
    pandas.DataFrame
        One row per river and period: ``river_id``, ``name``, ``period``, ``n_sections``,
        ``method`` (``"mean"`` or ``"share"``), item means (mean method only),
        ``water_class`` (mean method only), ``grade``, ``share_I_III``, ``share_worse_V``,
        ``main_pollutants`` (mean method: as for sections; share method: up to three items
        exceeding Class III at the largest share of sections), ``n_sections_meeting_target``,
        ``target_class`` and ``meets_target`` (mean method only).

    Raises
    ------
    SchemaError
        If ``assessment`` lacks ``river_id`` or ``water_class`` or a target class is invalid.

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame({"section_id": ["S1", "S2"], "sampled_at": ["2022-01-05"] * 2,
    ...                   "parameter": ["NH3_N"] * 2, "value": [0.9, 1.3]})
    >>> s = pd.DataFrame({"section_id": ["S1", "S2"], "river_id": ["R1", "R1"]})
    >>> river = assess_rivers(assess_sections(m, s, period="Y")).iloc[0]
    >>> river["method"], float(river["NH3_N"]), river["water_class"]
    ('mean', 1.1, 'IV')
    """
    check_waterbody(waterbody)
    _require_assessment(assessment, ("river_id", "water_class", "period"))
    limits = numeric_limits(waterbody)
    items = _column_order([c for c in assessment.columns if c in limits])
    extra = [c for c in EXTRA_ITEMS if c in assessment.columns]
    valid = assessment[assessment["river_id"].notna() & assessment["water_class"].notna()].copy()
    valid["river_id"] = valid["river_id"].astype(str)
    keys = ["river_id", "period"]
    grouped, wide = _river_groups(valid, keys, items + extra)
    classified = _classify_wide(wide[keys + items + extra], waterbody, with_pollutants=True)
    use_share = (wide["n_sections"] >= min_sections_for_share).to_numpy()
    out = wide[keys + ["n_sections"]].copy()
    out["method"] = np.where(use_share, "share", "mean")
    for c in items + extra:
        out[c] = np.where(use_share, np.nan, classified[c].to_numpy(dtype=float))
    wc = classified["water_class"].copy()
    wc[use_share] = np.nan
    out["water_class"] = wc
    share_grade = _river_grade(wide["share_I_III"].to_numpy(), wide["share_worse_V"].to_numpy())
    out["grade"] = pd.Categorical(
        np.where(use_share, share_grade, classified["grade"].astype(object).to_numpy()),
        dtype=GRADE_DTYPE,
    )
    out["share_I_III"] = wide["share_I_III"].to_numpy()
    out["share_worse_V"] = wide["share_worse_V"].to_numpy()
    share_pollutants = _share_pollutants(grouped, keys, wide, items)
    out["main_pollutants"] = np.where(
        use_share,
        np.where(np.isin(out["grade"].astype(object), ["优", "良好"]), "", share_pollutants),
        classified["main_pollutants"].to_numpy(),
    )
    out["n_sections_meeting_target"] = wide["n_sections_meeting_target"].to_numpy()
    _add_river_info(out, rivers)
    out["meets_target"] = _meets_target(out)
    front = [
        "river_id", "name", "period", "n_sections", "method", "water_class", "target_class",
        "meets_target", "grade", "share_I_III", "share_worse_V", "n_sections_meeting_target",
        "main_pollutants",
    ]  # fmt: skip
    return out[front + [c for c in out.columns if c not in front]].reset_index(drop=True)


def _meets_target(table: pd.DataFrame) -> pd.arrays.BooleanArray:
    """``water_class <= target_class``; NA where either is missing."""
    has = (table["water_class"].notna() & table["target_class"].notna()).to_numpy()
    meets = pd.array(
        np.where(has, table["water_class"].cat.codes <= table["target_class"].cat.codes, False),
        dtype="boolean",
    )
    meets[~has] = pd.NA
    return meets


def _river_groups(
    valid: pd.DataFrame, keys: list[str], items: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(sections with class flags, per river and period: counts, shares and item means)."""
    codes = valid["water_class"].cat.codes
    grouped = valid.assign(
        _good=(codes <= 2).to_numpy(),
        _worse=(codes == 5).to_numpy(),
        _meet=valid["meets_target"].fillna(False).astype(bool).to_numpy()
        if "meets_target" in valid.columns
        else False,
    )
    g = grouped.groupby(keys, sort=True)
    base = pd.DataFrame(
        {
            "n_sections": g["section_id"].nunique(),
            "share_I_III": g["_good"].mean(),
            "share_worse_V": g["_worse"].mean(),
            "n_sections_meeting_target": g["_meet"].sum().astype(int),
        }
    )
    means = g[items].mean()
    means = means.apply(lambda col: _round_sig(col.to_numpy(dtype=float), 10), raw=False)
    return grouped, base.join(means).reset_index()


def _add_river_info(out: pd.DataFrame, rivers: pd.DataFrame | None) -> None:
    """Add ``name`` and ``target_class`` from the rivers layer (in place; missing: NA)."""
    out.insert(1, "name", pd.NA)
    out["target_class"] = pd.Categorical([None] * len(out), dtype=WATER_CLASS_DTYPE)
    if rivers is None or "river_id" not in rivers.columns:
        return
    info = pd.DataFrame(
        rivers[[c for c in ("river_id", "name", "target_class") if c in rivers.columns]]
    ).copy()
    info["river_id"] = info["river_id"].astype(str)
    info = info.drop_duplicates("river_id").set_index("river_id")
    if "name" in info.columns:
        out["name"] = out["river_id"].map(info["name"])
    if "target_class" in info.columns:
        target = {
            rid: None if _is_missing(v) else normalize_water_class(v, layer="rivers", feature_id=rid)
            for rid, v in info["target_class"].items()
        }
        out["target_class"] = pd.Categorical(out["river_id"].map(target), dtype=WATER_CLASS_DTYPE)


def _share_pollutants(
    grouped: pd.DataFrame, keys: list[str], wide: pd.DataFrame, items: list[str]
) -> np.ndarray:
    """Up to three items worse than Class III at the largest share of sections (section exceedance rate)."""
    cls_cols = [f"class_{i}" for i in items if f"class_{i}" in grouped.columns]
    if not cls_cols:
        return np.full(len(wide), "", dtype=object)
    over = pd.DataFrame(
        {c[len("class_") :]: (grouped[c].cat.codes > 2).to_numpy() for c in cls_cols},
        index=grouped.index,
    )
    over[keys] = grouped[keys].to_numpy()
    rate = over.groupby(keys, sort=True).mean()
    rate = rate.reindex(pd.MultiIndex.from_frame(wide[keys]))
    mat = rate.to_numpy(dtype=float)
    names = list(rate.columns)
    return np.array(
        _ranked_items(np.zeros(mat.shape, dtype=int), mat, names, mat > 0, limit=3), dtype=object
    )


def compliance_summary(assessment: pd.DataFrame) -> pd.DataFrame:
    """Count sections meeting their target class by tier and period.

    Parameters
    ----------
    assessment : pandas.DataFrame
        Output of :func:`assess_sections`. Rows without a class or a target are not counted.

    Returns
    -------
    pandas.DataFrame
        One row per period and tier (``national``, ``municipal``, ``district``, ``town``,
        then ``all``; tiers without sections are omitted): ``period``, ``tier``,
        ``n_assessed``, ``n_meeting``, ``n_failing``, ``rate`` (``n_meeting / n_assessed``,
        0–1) and ``failing_sections`` (comma-separated section ids).

    Raises
    ------
    SchemaError
        If ``assessment`` lacks ``period``, ``section_id`` or ``meets_target``.

    Examples
    --------
    >>> import pandas as pd
    >>> a = pd.DataFrame({"section_id": ["S1", "S2"], "period": ["2022"] * 2,
    ...                   "tier": ["town", "town"], "meets_target": [True, False]})
    >>> compliance_summary(a)[["tier", "n_assessed", "rate"]].values.tolist()
    [['town', 2, 0.5], ['all', 2, 0.5]]
    """
    _require_assessment(assessment, ("period", "section_id", "meets_target"))
    rows = assessment[assessment["meets_target"].notna()]
    tier = (
        rows["tier"].astype(object).where(rows["tier"].notna(), "unknown")
        if "tier" in rows
        else pd.Series("unknown", index=rows.index)
    )
    table = pd.DataFrame(
        {
            "period": rows["period"].astype(str).to_numpy(),
            "tier": tier.astype(str).to_numpy(),
            "section_id": rows["section_id"].astype(str).to_numpy(),
            "meets": rows["meets_target"].astype(bool).to_numpy(),
        }
    )
    both = pd.concat([table, table.assign(tier="all")], ignore_index=True)
    order = [*_TIERS, *sorted(set(table["tier"]) - set(_TIERS)), "all"]
    g = both.groupby(["period", "tier"])
    out = pd.DataFrame(
        {
            "n_assessed": g["meets"].size(),
            "n_meeting": g["meets"].sum().astype(int),
        }
    ).reset_index()
    out["n_failing"] = out["n_assessed"] - out["n_meeting"]
    out["rate"] = out["n_meeting"] / out["n_assessed"]
    failing = (
        both[~both["meets"]]
        .groupby(["period", "tier"])["section_id"]
        .agg(lambda s: ",".join(sorted(set(s))))
    )
    out["failing_sections"] = [
        failing.get((p, t), "") for p, t in zip(out["period"], out["tier"], strict=True)
    ]
    out["_o"] = out["tier"].map({t: i for i, t in enumerate(order)})
    return out.sort_values(["period", "_o"]).drop(columns="_o").reset_index(drop=True)
