"""Charts of the analysis results (matplotlib, no display needed).

Functions a notebook can call, and the reports use, each returning a
:class:`matplotlib.figure.Figure` (not drawn on any pyplot window; show it in a
notebook by leaving it as a cell's value, write it with :func:`save_png`):

* :func:`section_class_chart` — a section's class per period as a strip against its target;
* :func:`item_chart` — an item's values over time over the GB 3838-2002 class bands;
* :func:`patrol_compliance_chart` — rivers per chief whose patrol rule was met or missed;
* :func:`demolition_chart` — demolished area (or cases) by year and kind;
* :func:`landcover_change_chart` — land-cover area gained and lost per class.

Chinese text needs a CJK font (Debian/Ubuntu: ``fonts-noto-cjk``); :func:`cjk_font`
finds one. Without one every label falls back to English: a chart never shows
empty boxes. Category labels and colours come from :mod:`dongping_geo.schemas`
(the same as the HTML maps and the tables).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np
import pandas as pd

from .errors import ConfigError, SchemaError
from .schemas import (
    CATEGORY_COLOURS,
    CATEGORY_LABELS,
    FALLBACK_COLOURS,
    MISSING_COLOUR,
    WATER_CLASSES,
)
from .tables import value_label

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "CJK_FONTS",
    "cjk_font",
    "demolition_chart",
    "item_chart",
    "landcover_change_chart",
    "patrol_compliance_chart",
    "save_png",
    "section_class_chart",
]

Lang = Literal["both", "zh", "en"]
#: CJK fonts looked for, in order (the first installed one with Chinese glyphs is used).
CJK_FONTS: tuple[str, ...] = (
    "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei", "Microsoft YaHei", "SimHei", "PingFang SC", "Heiti SC", "Noto Sans CJK JP",
    "Noto Serif CJK SC",
)  # fmt: skip
_PROBE = "河道水质类劣Ⅲ达标拆违耕地"  # glyphs every chart may need
_FIGSIZE = (8.0, 4.5)


# --------------------------------------------------------------------------- fonts and labels


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """Return the name of an installed font that has Chinese glyphs, or None.

    Returns
    -------
    str or None
        A family name from :data:`CJK_FONTS` whose font file holds every glyph
        the charts use; None when there is none (charts then use English labels).

    Examples
    --------
    >>> cjk_font()  # doctest: +SKIP
    'Noto Sans CJK SC'
    """
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    by_name: dict[str, str] = {}
    for entry in font_manager.fontManager.ttflist:
        by_name.setdefault(entry.name, entry.fname)
    for name in CJK_FONTS:
        path = by_name.get(name)
        if path is None:
            continue
        try:
            font = FT2Font(path)
        except (OSError, RuntimeError):
            continue
        if all(font.get_char_index(ord(ch)) for ch in _PROBE):
            return name
    return None


def _lang(lang: str) -> Lang:
    if lang not in ("both", "zh", "en"):
        raise ConfigError("unknown chart language", field="lang", expected="both, zh or en", found=repr(lang))
    return cast(Lang, lang) if cjk_font() is not None else "en"


@lru_cache(maxsize=1)
def _fallback_font() -> Any:
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    return FT2Font(font_manager.findfont("DejaVu Sans"))


def _safe(text: Any, fallback: str) -> str:
    """Return ``text`` when the fonts can draw it, else ``fallback`` (never tofu boxes)."""
    text = "" if text is None or (isinstance(text, float) and np.isnan(text)) else str(text)
    if cjk_font() is not None or all(_fallback_font().get_char_index(ord(ch)) for ch in text if not ch.isspace()):
        return text
    return fallback


def _t(zh: str, en: str, lang: str) -> str:
    return {"zh": zh, "en": en}.get(lang, f"{zh} {en}")


def _word(column: str, value: Any, lang: str) -> str:
    return str(value_label(column, value, lang="en" if lang == "en" else "zh"))


@contextmanager
def _style() -> Iterator[None]:
    """Fonts for the texts created inside: the CJK font first, DejaVu Sans for the rest."""
    import matplotlib as mpl

    name = cjk_font()
    family = [name, "DejaVu Sans"] if name else ["DejaVu Sans"]
    with mpl.rc_context({"font.family": family, "axes.unicode_minus": False, "font.size": 9}):
        yield


def _figure(figsize: tuple[float, float] = _FIGSIZE) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout="constrained")


def _require(df: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise SchemaError(f"the table is not {what}", field=", ".join(missing),
                          expected="columns " + ", ".join(columns), found="columns " + ", ".join(map(str, df.columns)),
                          fix=f"pass the output of {what}")


def save_png(fig: Figure, path: str | os.PathLike, *, dpi: int = 150) -> Path:
    """Write a figure as PNG, atomically (no half-written file is left behind).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        A chart of this module (or any figure).
    path : path-like
        ``.png`` output.
    dpi : int, default 150
        Resolution.

    Returns
    -------
    Path
        The written path.

    Raises
    ------
    OutputError
        If ``path`` is an input file.

    Examples
    --------
    >>> fig = demolition_chart(landuse.demolition_summary(demolitions))  # doctest: +SKIP
    >>> save_png(fig, "out/demolitions.png")  # doctest: +SKIP
    PosixPath('out/demolitions.png')
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from .io import atomic_path

    FigureCanvasAgg(fig)  # render with Agg whatever pyplot's backend is
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
    return Path(path)


# --------------------------------------------------------------------------- water quality


def _class_index(values: pd.Series) -> np.ndarray:
    order = {c: i for i, c in enumerate(WATER_CLASSES)}
    return values.astype(object).map(order).to_numpy(dtype=float)


def section_class_chart(assessment: pd.DataFrame, section_id: str, *, lang: Lang = "both") -> Figure:
    """Chart a section's class per period as a coloured strip against its target class.

    Parameters
    ----------
    assessment : DataFrame
        Output of :func:`dongping_geo.water_quality.assess_sections`.
    section_id : str
        The section.
    lang : {"both", "zh", "en"}, default "both"
        Label language (English when no CJK font is installed).

    Returns
    -------
    matplotlib.figure.Figure
        Classes I (top) to 劣V (bottom) per period, each cell in its class colour,
        the target as a dashed line; periods that miss the target outlined in black.

    Raises
    ------
    SchemaError
        If ``assessment`` lacks the assessment columns or the section.

    Examples
    --------
    >>> a = pd.DataFrame({"section_id": "S1", "period": ["2022-01", "2022-02"],
    ...                   "water_class": ["III", "V"], "target_class": "III"})
    >>> section_class_chart(a, "S1").axes[0].get_title()  # doctest: +SKIP
    ' S1  水质类别与目标 class against target'
    """
    lang = _lang(lang)
    _require(assessment, ("section_id", "period", "water_class", "target_class"), "assess_sections")
    rows = assessment[assessment["section_id"] == section_id].sort_values("period")
    if rows.empty:
        raise SchemaError("no such section in the assessment", field="section_id", found=repr(section_id),
                          expected="one of " + ", ".join(map(str, assessment["section_id"].unique()[:10])))
    x = np.arange(len(rows))
    y = _class_index(rows["water_class"])
    colours = [CATEGORY_COLOURS["water_class"].get(c, MISSING_COLOUR) for c in rows["water_class"].astype(object)]
    target = _class_index(rows["target_class"])
    misses = y > target
    with _style():
        fig = _figure((max(6.0, 0.35 * len(rows) + 2), 3.6))
        ax = fig.add_subplot()
        ax.scatter(x, y, c=colours, marker="s", s=160, edgecolors=np.where(misses, "black", "none").tolist(), linewidths=1.5)
        ax.step(np.r_[x - 0.5, x[-1] + 0.5], np.r_[target, target[-1]], where="post", color="#333333",
                linestyle="--", label=_t("水质目标", "target class", lang))
        ax.set_yticks(range(len(WATER_CLASSES)), [_word("water_class", c, lang) for c in WATER_CLASSES])
        ax.set_ylim(len(WATER_CLASSES) - 0.5, -0.5)
        ax.set_xticks(x, rows["period"].astype(str).tolist(), rotation=90)
        name = _safe(rows["name"].iloc[0], "") if "name" in rows.columns else ""
        ax.set_title(f"{name} {_safe(section_id, '')}  " + _t("水质类别与目标", "class against target", lang))
        ax.legend(loc="upper right", fontsize=8)
        ax.grid(axis="y", color="#eeeeee")
    return fig


def _limits(item: str, waterbody: str) -> tuple[str, np.ndarray]:
    # The GB 3838 table (moving to dongping_geo.gb3838, issue 13).
    from .water_quality import gb3838_limits

    table = gb3838_limits()
    code = "TP_lake" if (item == "TP" and waterbody == "lake") else item
    if code not in table.index:
        raise ConfigError("not a GB 3838 Table 1 item", field="item", expected=", ".join(table.index),
                          found=repr(item))
    row = table.loc[code]
    if row["bound"] == "range":
        return "range", np.array([float(v) for v in str(row["I"]).split("-")])
    return str(row["bound"]), np.array([float(row[c]) for c in WATER_CLASSES[:5]])


def _class_bands(ax: Any, bound: str, limits: np.ndarray, top: float, lang: str) -> None:
    """Shade the classes' value ranges in their colours (DO: higher is better)."""
    colours = CATEGORY_COLOURS["water_class"]
    if bound == "range":
        ax.axhspan(limits[0], limits[1], color=colours["III"], alpha=0.15, lw=0)
        return
    edges = np.r_[0.0, limits, top] if bound == "max" else np.r_[top, limits, 0.0]
    for i, cls in enumerate(WATER_CLASSES):
        lo, hi = sorted((edges[i], edges[i + 1]))
        if hi > lo:
            ax.axhspan(lo, hi, color=colours[cls], alpha=0.18, lw=0)
            ax.text(1.005, (lo + hi) / 2, _word("water_class", cls, lang), transform=ax.get_yaxis_transform(),
                    va="center", fontsize=7, color="#555555")


def item_chart(
    data: pd.DataFrame,
    section_id: str,
    item: str,
    *,
    waterbody: Literal["river", "lake"] = "river",
    lang: Lang = "both",
) -> Figure:
    """Chart an item's values at a section over time, over the GB 3838-2002 class bands.

    Parameters
    ----------
    data : DataFrame
        :func:`~dongping_geo.water_quality.classify_samples` output (one row per
        sample, ``sampled_at``) or :func:`~dongping_geo.water_quality.assess_sections`
        output (period means, ``period``); it needs ``section_id`` and the item column.
    section_id : str
        The section.
    item : str
        GB 3838 item code (``TP``, ``NH3_N``, ``DO`` …).
    waterbody : {"river", "lake"}, default "river"
        Which total-phosphorus limits to draw.
    lang : {"both", "zh", "en"}, default "both"
        Label language.

    Returns
    -------
    matplotlib.figure.Figure
        The values as a line, each class's range shaded in its colour (pH: the
        6–9 range).

    Raises
    ------
    SchemaError
        If the table lacks the columns or the section.
    ConfigError
        If ``item`` is not a Table 1 item.

    Examples
    --------
    >>> samples = water_quality.classify_samples(measurements)  # doctest: +SKIP
    >>> fig = item_chart(samples, "DP-ZK03", "TP")  # doctest: +SKIP
    """
    lang = _lang(lang)
    bound, limits = _limits(item, waterbody)
    time_col = "sampled_at" if "sampled_at" in data.columns else "period"
    _require(data, ("section_id", item, time_col), "classify_samples or assess_sections")
    rows = data[data["section_id"] == section_id].sort_values(time_col)
    if rows.empty:
        raise SchemaError("no such section in the table", field="section_id", found=repr(section_id))
    t = rows[time_col]
    if isinstance(t.dtype, pd.DatetimeTZDtype):
        t = t.dt.tz_localize(None)
    elif not pd.api.types.is_datetime64_any_dtype(t):  # period labels 2021-01, 2021Q1, 2021
        t = pd.Series([pd.Period(str(p)).start_time for p in t], index=t.index)
    values = rows[item].to_numpy(dtype=float)
    top = float(max(np.nanmax(values) if np.isfinite(values).any() else 0, limits.max()) * 1.15)
    with _style():
        fig = _figure()
        ax = fig.add_subplot()
        _class_bands(ax, bound, limits, top, lang)
        ax.plot(t, values, marker="o", ms=3, color="#222222", lw=1.2)
        ax.set_ylim(0, top)
        zh, en = (value_label("parameter", item, lang=lg) for lg in ("zh", "en"))
        label = en if lang == "en" else zh
        ax.set_ylabel(f"{label} ({_unit(item)})" if _unit(item) else str(label))
        name = _safe(rows["name"].iloc[0], "") if "name" in rows.columns else ""
        ax.set_title(f"{name} {_safe(section_id, '')}  " + _t(f"{zh}与GB 3838-2002类别限值", f"{en} against GB 3838-2002 classes", lang))
        fig.autofmt_xdate()
    return fig


def _unit(item: str) -> str:
    from .water_quality import gb3838_limits

    unit = str(gb3838_limits().at[item, "unit"])
    return "" if unit == "dimensionless" else unit


# --------------------------------------------------------------------------- patrols, land use


def _met_missed(compliance: Any) -> pd.DataFrame:
    """Rivers per chief: met, missed, no rule (compliance.by_river, or by_chief)."""
    by_river = getattr(compliance, "by_river", compliance)
    if "river_id" in by_river.columns:
        _require(by_river, ("chief", "compliant"), "patrol.compliance (by_river)")
        state = by_river["compliant"].astype("boolean")
        counts = pd.DataFrame({"chief": by_river["chief"], "met": state.eq(True).fillna(False),
                               "missed": state.eq(False).fillna(False), "no_rule": state.isna()})
        return counts.groupby("chief", sort=True).sum().astype(int)
    _require(by_river, ("chief", "rivers", "rivers_compliant", "compliant"), "patrol.compliance (by_chief)")
    met = by_river["rivers_compliant"].fillna(0).astype(int)
    no_rule = np.where(by_river["compliant"].isna(), by_river["rivers"] - met, 0)
    return pd.DataFrame({"met": met.to_numpy(), "missed": (by_river["rivers"] - met - no_rule).to_numpy(),
                         "no_rule": no_rule}, index=by_river["chief"].to_numpy()).sort_index()


def patrol_compliance_chart(compliance: Any, *, lang: Lang = "both") -> Figure:
    """Chart the rivers per river chief whose patrol rule was met or missed.

    Parameters
    ----------
    compliance : Compliance or DataFrame
        :func:`dongping_geo.patrol.compliance` output, or its ``by_river`` or
        ``by_chief`` table.
    lang : {"both", "zh", "en"}, default "both"
        Label language.

    Returns
    -------
    matplotlib.figure.Figure
        One horizontal bar per chief: rivers met (green), missed (red), without a
        rule period in the time span (grey); chiefs with misses first.

    Raises
    ------
    SchemaError
        If the table is not a compliance table.

    Examples
    --------
    >>> by_river = pd.DataFrame({"river_id": ["R1", "R2"], "chief": ["张三", "张三"],
    ...                          "compliant": [True, False]})
    >>> fig = patrol_compliance_chart(by_river)
    >>> len(fig.axes[0].patches)  # one met and one missed bar
    2
    """
    lang = _lang(lang)
    counts = _met_missed(compliance).sort_values(["missed", "met"], ascending=[True, True])
    colours = CATEGORY_COLOURS["compliant"]
    parts = (("met", colours[True], _t("达标", "met", lang)), ("missed", colours[False], _t("未达标", "missed", lang)),
             ("no_rule", MISSING_COLOUR, _t("无考核时段", "no rule period", lang)))
    with _style():
        fig = _figure((7.0, max(3.0, 0.22 * len(counts) + 1.2)))
        ax = fig.add_subplot()
        left = np.zeros(len(counts))
        names = [_safe(c, f"chief {i + 1}") for i, c in enumerate(counts.index)]
        for col, colour, label in parts:
            if counts[col].any():
                ax.barh(names, counts[col], left=left, color=colour, label=label)
            left += counts[col].to_numpy()
        ax.set_xlabel(_t("河道数", "rivers", lang))
        ax.set_title(_t("河长巡河达标情况", "Patrol rule met per river chief", lang))
        fig.legend(fontsize=8, loc="outside right upper")
        ax.tick_params(axis="y", labelsize=7)
    return fig


def demolition_chart(
    summary: pd.DataFrame, *, value: Literal["area_m2", "count"] = "area_m2", lang: Lang = "both"
) -> Figure:
    """Chart the demolished area (or number of cases) by year, stacked by kind.

    Parameters
    ----------
    summary : DataFrame
        :func:`dongping_geo.landuse.demolition_summary` output (``year``, ``kind``,
        ``count``, ``area_m2``; rows without a year, e.g. totals, are left out).
    value : {"area_m2", "count"}, default "area_m2"
        What the bars show.
    lang : {"both", "zh", "en"}, default "both"
        Label language.

    Returns
    -------
    matplotlib.figure.Figure
        Stacked bars per year in the kinds' map colours.

    Raises
    ------
    SchemaError
        If the table lacks the columns.
    ConfigError
        If ``value`` is not ``area_m2`` or ``count``.

    Examples
    --------
    >>> summary = pd.DataFrame({"year": [2020, 2021], "kind": ["villa", "shack"], "count": [1, 2],
    ...                         "area_m2": [300.0, 120.0]})
    >>> fig = demolition_chart(summary, value="count")
    >>> [round(p.get_height()) for p in fig.axes[0].patches]  # villa 2020/2021, shack 2020/2021
    [1, 0, 0, 2]
    """
    lang = _lang(lang)
    if value not in ("area_m2", "count"):
        raise ConfigError("unknown chart value", field="value", expected="area_m2 or count", found=repr(value))
    _require(summary, ("year", "kind", value), "demolition_summary")
    rows = summary[summary["year"].notna() & summary["kind"].notna()]
    table = rows.pivot_table(index="year", columns="kind", values=value, aggfunc="sum", fill_value=0)
    kinds = [k for k in CATEGORY_LABELS["kind"] if k in table.columns] + sorted(set(table.columns) - set(CATEGORY_LABELS["kind"]))
    with _style():
        fig = _figure()
        ax = fig.add_subplot()
        bottom = np.zeros(len(table))
        years = table.index.astype(int).astype(str)
        for i, kind in enumerate(kinds):
            colour = CATEGORY_COLOURS["kind"].get(kind, FALLBACK_COLOURS[i % len(FALLBACK_COLOURS)])
            ax.bar(years, table[kind], bottom=bottom, color=colour, label=_safe(_word("kind", kind, lang), f"kind {i + 1}"))
            bottom += table[kind].to_numpy()
        ax.set_ylabel(_t("拆除面积 (m²)", "area demolished (m²)", lang) if value == "area_m2"
                      else _t("拆除数量", "cases", lang))
        ax.set_title(_t("历年拆违（按类型）", "Demolitions by year and kind", lang))
        fig.legend(fontsize=7, loc="outside right upper")
    return fig


def landcover_change_chart(changes: pd.DataFrame, *, lang: Lang = "both") -> Figure:
    """Chart the land-cover area gained and lost per class between two rasters.

    Parameters
    ----------
    changes : DataFrame
        :func:`dongping_geo.raster.detect_change` output (``from_name``, ``to_name``,
        ``area_m2``).
    lang : {"both", "zh", "en"}, default "both"
        Label language.

    Returns
    -------
    matplotlib.figure.Figure
        Per class, the area it gained (right) and lost (left), in the class's
        legend colour.

    Raises
    ------
    SchemaError
        If the table lacks the columns.

    Examples
    --------
    >>> changes = pd.DataFrame({"from_name": ["farmland"], "to_name": ["built_up"], "area_m2": [1500.0]})
    >>> [float(p.get_width()) for p in landcover_change_chart(changes).axes[0].patches]  # gained, lost
    [0.0, 1500.0, -1500.0, 0.0]
    """
    # The land-cover legend (names and colours) lives with the raster analysis.
    from matplotlib.patches import Patch

    from .raster import LANDCOVER_LEGEND

    lang = _lang(lang)
    _require(changes, ("from_name", "to_name", "area_m2"), "detect_change")
    gained = changes.groupby("to_name")["area_m2"].sum()
    lost = changes.groupby("from_name")["area_m2"].sum()
    order = [c.name for c in LANDCOVER_LEGEND.values()]
    names = [n for n in order if n in gained.index or n in lost.index]
    names += sorted((set(gained.index) | set(lost.index)) - set(order))
    colours = {c.name: c.color for c in LANDCOVER_LEGEND.values()}
    with _style():
        fig = _figure()
        ax = fig.add_subplot()
        labels = [_safe(_word("from_name", n, lang), f"class {i + 1}") for i, n in enumerate(names)]
        ax.barh(labels, [gained.get(n, 0.0) for n in names], color=[colours.get(n, MISSING_COLOUR) for n in names],
                label=_t("增加", "gained", lang))
        ax.barh(labels, [0.0 - lost.get(n, 0.0) for n in names], color=[colours.get(n, MISSING_COLOUR) for n in names],
                hatch="//", edgecolor="white", label=_t("减少", "lost", lang))
        ax.axvline(0, color="#333333", lw=0.8)
        ax.set_xlabel(_t("面积 (m²)", "area (m²)", lang))
        ax.set_title(_t("地类变化（按地类）", "Land-cover change by class", lang))
        keys = [Patch(facecolor="#888888", label=_t("增加", "gained", lang)),
                Patch(facecolor="#888888", hatch="//", edgecolor="white", label=_t("减少", "lost", lang))]
        ax.legend(handles=keys, fontsize=8)
    return fig
