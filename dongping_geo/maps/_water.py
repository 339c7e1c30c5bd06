"""Water-quality map (issue 6): sections coloured by GB 3838-2002 class, rivers tinted.

Part of :mod:`dongping_geo.maps`, which re-exports the public names; built with its toolkit.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, cast

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import ConfigError, SchemaError
from ..gb3838 import effective_values
from ..schemas import CATEGORY_COLOURS, CATEGORY_LABELS, LOCAL_TZ
from ._toolkit import (
    DongpingMap,
    _GeoJsonLayer,
    add_categorical_legend,
    add_lines,
    add_points,
    base_map,
)
from .styles import (
    _MISSING_COLOUR,
    _WATER_CLASS_COLOURS,
    _WATER_CLASS_LABELS,
    FIELD_LABELS,
    VALUE_LABELS,
)

#: Colours of the GB 3838-2002 classes (the conventional Chinese scheme: I–II blue,
#: III green, IV yellow, V orange, 劣V red; ``schemas.CATEGORY_COLOURS["water_class"]``).
WATER_CLASS_COLOURS: dict[Any, str] = dict(_WATER_CLASS_COLOURS)
#: Colours of the qualitative grades, matching the classes they stand for.
WATER_GRADE_COLOURS: dict[Any, str] = dict(CATEGORY_COLOURS["grade"])
_CLASS_LABELS = dict(_WATER_CLASS_LABELS)
_GRADE_LABELS = {v: f"{zh} {en}" for v, (zh, en) in CATEGORY_LABELS["grade"].items()}


def _wq_fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)) or v is pd.NA:
        return "—"
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.4g}"
    return str(v)


def _wq_chart_svg(
    times: pd.Series,
    values: np.ndarray,
    classes: Sequence[Any],
    *,
    item: str,
    label: str,
    unit: str,
    limit_iii: float | None,
    band: tuple[pd.Timestamp, pd.Timestamp] | None,
) -> str:
    """Draw a small inline SVG time series: points coloured by class, Class III limit dashed."""
    w, h, left, right, top, bottom = 260, 110, 34, 8, 16, 18
    t = times.to_numpy(dtype="datetime64[ns]").astype("int64").astype(float)
    v = np.asarray(values, dtype=float)
    t0, t1 = float(t.min()), float(t.max())
    if t1 == t0:
        t0, t1 = t0 - 86400e9, t1 + 86400e9
    vmax = float(np.nanmax(v)) if np.isfinite(v).any() else 1.0
    if limit_iii is not None:
        vmax = max(vmax, limit_iii)
    vmax = vmax * 1.1 if vmax > 0 else 1.0

    def x(tt: np.ndarray | float) -> np.ndarray:
        return left + (np.asarray(tt, dtype=float) - t0) / (t1 - t0) * (w - left - right)

    def y(vv: np.ndarray | float) -> np.ndarray:
        return top + (1 - np.asarray(vv, dtype=float) / vmax) * (h - top - bottom)

    esc = html.escape
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
        f'viewBox="0 0 {w} {h}" role="img" style="font:10px sans-serif">',
        f"<title>{esc(label)} ({esc(unit)})</title>",
        f'<rect x="{left}" y="{top}" width="{w - left - right}" height="{h - top - bottom}" '
        'fill="#fafafa" stroke="#ccc"/>',
    ]
    if band is not None:
        b0 = float(np.clip(x(band[0].value), left, w - right))
        b1 = float(np.clip(x(band[1].value), left, w - right))
        if b1 > b0:
            parts.append(
                f'<rect x="{b0:.1f}" y="{top}" width="{b1 - b0:.1f}" height="{h - top - bottom}" '
                'fill="#ffe9a8" opacity="0.6"/>'
            )
    if limit_iii is not None:
        ly = float(y(limit_iii))
        parts.append(
            f'<line x1="{left}" x2="{w - right}" y1="{ly:.1f}" y2="{ly:.1f}" stroke="#00b050" '
            'stroke-dasharray="4 3"/>'
            f'<text x="{w - right - 2}" y="{ly - 2:.1f}" text-anchor="end" fill="#00803a">'
            f"Ⅲ {esc(_wq_fmt(limit_iii))}</text>"
        )
    parts.append(_svg_series(x(t), y(v), classes, v, times))
    parts.append(
        f'<text x="{left}" y="11" font-weight="bold">{esc(label)} ({esc(unit)})</text>'
        f'<text x="{left - 3}" y="{top + 8}" text-anchor="end">{esc(_wq_fmt(vmax))}</text>'
        f'<text x="{left - 3}" y="{h - bottom}" text-anchor="end">0</text>'
        f'<text x="{left}" y="{h - 5}">{esc(f"{times.min():%Y-%m}")}</text>'
        f'<text x="{w - right}" y="{h - 5}" text-anchor="end">{esc(f"{times.max():%Y-%m}")}</text>'
        "</svg>"
    )
    return "".join(parts)


def _svg_series(xs: np.ndarray, ys: np.ndarray, classes: Sequence[Any], values: np.ndarray,
                times: pd.Series) -> str:
    """The chart's line and its points, coloured by class, each with its date and value as a title."""
    ok = np.isfinite(ys)
    pts = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(xs[ok], ys[ok], strict=True))
    parts = [f'<polyline points="{pts}" fill="none" stroke="#555" stroke-width="1"/>'] if pts else []
    for a, b, c, val, when in zip(xs, ys, classes, values, times, strict=True):
        if not np.isfinite(b):
            continue
        colour = WATER_CLASS_COLOURS.get(str(c), _MISSING_COLOUR)
        tip = f"{when:%Y-%m-%d}: {_wq_fmt(val)} ({c})"
        parts.append(
            f'<circle cx="{a:.1f}" cy="{b:.1f}" r="2.6" fill="{colour}" stroke="#333" '
            f'stroke-width="0.5"><title>{html.escape(tip)}</title></circle>'
        )
    return "".join(parts)


def _wq_popup(
    row: pd.Series,
    items: list[str],
    names: Mapping[str, str],
    units: Mapping[str, str],
    chart: str,
    report_only: frozenset[str] = frozenset(),
) -> str:
    esc = html.escape
    tier = VALUE_LABELS["tier"].get(row.get("tier"), row.get("tier"))
    meets = row.get("meets_target")
    meets_txt = "—" if pd.isna(meets) else ("达标 Yes" if bool(meets) else "未达标 No")
    pollutants = []
    for p in str(row.get("main_pollutants") or "").split(","):
        if p:
            mult = row.get(f"exceed_{p}")
            extra = f" (超标 {_wq_fmt(mult)} 倍)" if mult is not None and pd.notna(mult) else ""
            pollutants.append(f"{names.get(p, p)} {p}{extra}")
    head = [
        (
            "断面 Section",
            f"{row.get('name') if pd.notna(row.get('name')) else ''} ({row['section_id']})",
        ),
        ("考核级别 Tier", _wq_fmt(tier)),
        ("时段 Period", _wq_fmt(row.get("period"))),
        ("样品数 Samples", _wq_fmt(row.get("n_samples"))),
        ("水质类别 Class", _CLASS_LABELS.get(str(row.get("water_class")), "—")),
        ("水质目标 Target", _CLASS_LABELS.get(str(row.get("target_class")), "—")),
        ("是否达标 Meets target", meets_txt),
        ("水质状况 Grade", _GRADE_LABELS.get(str(row.get("grade")), "—")),
        ("主要污染指标 Main pollutants", "、".join(pollutants) or "无 None"),
    ]
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(str(v))}</td></tr>" for k, v in head)
    item_rows = ""
    for i in items:
        if pd.isna(row.get(i)):
            continue
        cls = row.get(f"class_{i}")
        cls_txt = "—" if cls is None or pd.isna(cls) else str(cls)
        if i in report_only:
            cls_txt += " (仅报告 reported only)"
        item_rows += (
            f"<tr><td>{esc(names.get(i, i))} {esc(i)}</td>"
            f"<td>{esc(_wq_fmt(row.get(i)))} {esc(units.get(i, ''))}</td><td>{esc(cls_txt)}</td></tr>"
        )
    return (
        f'<div class="dg-wq" style="font-size:12px"><table class="dg-tip">{rows}</table>'
        '<table class="dg-tip" style="margin-top:4px"><tr><th>项目 Item</th><th>均值 Mean</th>'
        f"<th>类别 Class</th></tr>{item_rows}</table>{chart}</div>"
    )


def water_quality_map(
    assessment: pd.DataFrame,
    sections: gpd.GeoDataFrame,
    *,
    measurements: pd.DataFrame | None = None,
    rivers: gpd.GeoDataFrame | None = None,
    river_assessment: pd.DataFrame | None = None,
    period: str | None = None,
    waterbody: str = "river",
    basemap: str = "osm",
    tianditu_token: str | None = None,
    title: str | None = None,
) -> DongpingMap:
    """Map sections coloured by their GB 3838-2002 class for one period, and rivers tinted.

    Sections are circles in :data:`WATER_CLASS_COLOURS` (I–II blue, III green, IV yellow,
    V orange, 劣V red; grey when not assessed in the period). Each popup lists the
    period's item means and classes, the class, target, grade and main pollutants
    (with exceedance multiples) and a small inline SVG time series of the determining
    item (the first main pollutant, else the first determining item) over all samples,
    the period shaded and the Class III limit dashed. A section that misses its target
    in the period gets a red ring (:data:`MISSED_TARGET_COLOUR`, its own layer and
    legend), so misses stand apart from sections that meet their target whatever their
    class. Rivers are tinted by their assessed class (mean method) or grade (share
    method, :data:`WATER_GRADE_COLOURS`).

    Parameters
    ----------
    assessment : pandas.DataFrame
        Output of :func:`dongping_geo.water_quality.assess_sections`.
    sections : GeoDataFrame
        The sections layer (``section_id``, point geometry, CRS).
    measurements : pandas.DataFrame, optional
        The long measurement table, for the popup charts (omitted without it).
    rivers : GeoDataFrame, optional
        The rivers layer, drawn tinted when ``river_assessment`` is given (grey otherwise).
    river_assessment : pandas.DataFrame, optional
        Output of :func:`dongping_geo.water_quality.assess_rivers`.
    period : str, optional
        The period to show (``2022Q3`` …); default the latest in ``assessment``.
    waterbody : {"river", "lake"}, default "river"
        Limits used to colour the chart's points.
    basemap : str, default "osm"
        A key of :data:`BASEMAPS`.
    tianditu_token : str, optional
        Tianditu key.
    title : str, optional
        Map title; default names the period.

    Returns
    -------
    DongpingMap
        The map; write it with :func:`save_map`.

    Raises
    ------
    ConfigError
        If ``period`` is not in ``assessment``.
    SchemaError
        If a layer lacks ``section_id`` / ``river_id``.

    Examples
    --------
    >>> import shapely
    >>> from dongping_geo.water_quality import assess_sections
    >>> s = gpd.GeoDataFrame({"section_id": ["S1"], "name": ["洪林河1"], "target_class": ["III"]},
    ...     geometry=[shapely.Point(121.5, 31.7)], crs=4326)
    >>> m = pd.DataFrame({"section_id": ["S1"], "sampled_at": ["2022-03-05"],
    ...                   "parameter": ["NH3_N"], "value": [1.2]})
    >>> a = assess_sections(m, s, period="Q")
    >>> wq = water_quality_map(a, s, measurements=m, basemap="none")
    >>> WATER_CLASS_COLOURS["IV"] in map_html(wq)  # the section is Class IV
    True
    """
    _check_keys(sections, rivers)
    period = _pick_period(assessment, period)
    tables = _item_tables(waterbody)
    pts, items = _section_points(assessment, sections, period, tables)
    band = _period_band(period)
    series = _measurement_series(measurements, band)
    popups = [
        _wq_popup(row, items, tables.names, tables.units, _section_chart(row, series, tables, waterbody, band),
                  tables.report_only)
        for _, row in pts.iterrows()
    ]
    frames = [pts] if rivers is None or not len(rivers) else [pts, rivers]
    m = base_map(frames, basemap=basemap, tianditu_token=tianditu_token,
                 title=title or f"水质类别 Water quality {period}")
    if rivers is not None and len(rivers):
        _add_rivers(m, rivers, river_assessment, period)
    _add_target_rings(m, pts)
    layer = add_points(
        m, pts, name=f"断面水质 Sections {period}", category="water_class", palette=WATER_CLASS_COLOURS,
        category_labels=_CLASS_LABELS,
        tooltip=[c for c in ("name", "section_id", "water_class", "meets_target") if c in pts.columns],
        value_labels={"meets_target": VALUE_LABELS["meets_target"]},
        legend_title=f"断面水质类别 Section class {period}", radius=7,
    )
    # add_points returns the _GeoJsonLayer it made, typed as its folium base class.
    for feature, popup in zip(cast(_GeoJsonLayer, layer).data["features"], popups, strict=True):
        feature["properties"]["_p"] = popup  # built from escaped values
    return m


#: Outline of a section that misses its target in the period mapped.
MISSED_TARGET_COLOUR = "#b2182b"


class _ItemTables(NamedTuple):
    """GB 3838-2002 item names, units, Class III limits, report-only items and display order."""

    names: dict[str, str]
    units: dict[str, str]
    lim_iii: dict[str, float]
    report_only: frozenset[str]
    order: list[str]


def _check_keys(sections: gpd.GeoDataFrame, rivers: gpd.GeoDataFrame | None) -> None:
    for gdf, key, lname in ((sections, "section_id", "sections"), (rivers, "river_id", "rivers")):
        if gdf is not None and key not in gdf.columns:
            raise SchemaError(
                f"{lname} layer lacks {key}", layer=lname, field=key, expected=f"a {key} column",
                found=", ".join(map(str, gdf.columns)), fix=f"load the layer with dongping_geo.loaders.load_{lname}",
            )


def _pick_period(assessment: pd.DataFrame, period: str | None) -> str:
    """The period to map: the one asked for (checked), else the latest."""
    periods = sorted(assessment["period"].astype(str).unique())
    if period is None and not periods:
        raise ConfigError("nothing to map", layer="assessment", expected="at least one assessed period",
                          found="an empty assessment", fix="check the measurements")
    period = periods[-1] if period is None else str(period)
    if period not in periods:
        raise ConfigError("period not in the assessment", field="period", expected=", ".join(periods[-8:]),
                          found=repr(period), fix="pass one of the assessed periods")
    return period


def _item_tables(waterbody: str) -> _ItemTables:
    from ..water_quality import gb3838_limits

    table = gb3838_limits()
    names = {str(k): str(v).split("(")[0] for k, v in table["name_zh"].items()}
    names["water_temp"] = "水温"
    units = {str(k): ("" if u == "dimensionless" else str(u)) for k, u in table["unit"].items()}
    units["water_temp"] = "°C"
    lim_iii = {str(k): float(v) for k, v in table["III"].items() if k != "pH"}
    # Items shown but not deciding the class (TN also decides for lakes).
    report_only = frozenset(
        str(k) for k, flag in table["river_section_assessment"].items()
        if flag != "yes" and not (waterbody == "lake" and k == "TN")
    ) | {"water_temp"}
    if waterbody == "lake":
        lim_iii["TP"] = lim_iii["TP_lake"]
    order = [str(i) for i in table.index if i != "TP_lake"] + ["water_temp"]
    return _ItemTables(names, units, lim_iii, report_only, order)


def _section_points(
    assessment: pd.DataFrame, sections: gpd.GeoDataFrame, period: str, tables: _ItemTables
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Sections joined with their assessment of the period; the items present."""
    now = assessment[assessment["period"].astype(str) == period].copy()
    now["section_id"] = now["section_id"].astype(str)
    layer_cols = [c for c in ("section_id", "name", "tier", "river_id") if c in sections.columns]
    pts = sections[layer_cols + [sections.geometry.name]].copy()
    pts["section_id"] = pts["section_id"].astype(str)
    info = now.drop(columns=[c for c in ("name", "tier", "river_id") if c in pts.columns and c in now.columns])
    pts = pts.merge(info, on="section_id", how="left")
    pts = pts[~(pts.geometry.isna() | pts.geometry.is_empty).to_numpy()].reset_index(drop=True)
    for col in ("water_class", "meets_target"):
        if col in pts.columns:
            pts[col] = pts[col].astype(object).where(pts[col].notna(), None)
    return pts, [i for i in tables.order if i in pts.columns]


def _period_band(period: str) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    try:
        per = pd.Period(period)
    except ValueError:
        return None
    return per.start_time.tz_localize(LOCAL_TZ), per.end_time.tz_localize(LOCAL_TZ)


def _measurement_series(
    measurements: pd.DataFrame | None, band: tuple[pd.Timestamp, pd.Timestamp] | None
) -> dict[tuple[str, str], pd.DataFrame]:
    """Samples per (section, item), sorted by time, for the popup charts."""
    if measurements is None or not len(measurements):
        return {}
    mm = measurements.reset_index(drop=True)
    # The half-detection-limit rule has one home, gb3838 (the assessment uses it too).
    val = effective_values(mm["value"], mm["qualifier"] if "qualifier" in mm.columns else None)
    mm = pd.DataFrame({
        "section_id": mm["section_id"].astype(str).to_numpy(),
        "parameter": mm["parameter"].astype(str).to_numpy(),
        "t": pd.to_datetime(mm["sampled_at"]).to_numpy(),
        "v": val.to_numpy(),
    })
    if band is not None and mm["t"].dt.tz is None:
        mm["t"] = mm["t"].dt.tz_localize(LOCAL_TZ)
    return {k: g.sort_values("t") for k, g in mm.groupby(["section_id", "parameter"])}


def _section_chart(
    row: pd.Series, series: dict[tuple[str, str], pd.DataFrame], tables: _ItemTables, waterbody: str,
    band: tuple[pd.Timestamp, pd.Timestamp] | None,
) -> str:
    """Inline SVG of the section's deciding item (first main pollutant, else first determining item)."""
    from ..water_quality import classify_values

    key_items = [p for p in str(row.get("main_pollutants") or "").split(",")
                 + str(row.get("determining") or "").split(",") if p]
    if not key_items:
        return ""
    item = key_items[0]
    g = series.get((row["section_id"], item))
    if g is None or not len(g):
        return ""
    classes = (list(classify_values(g["v"].to_numpy(), item, waterbody=waterbody))
               if item in tables.lim_iii or item == "pH" else ["—"] * len(g))
    limit = tables.lim_iii.get(item) if item not in ("pH", "DO") else (5.0 if item == "DO" else None)
    return _wq_chart_svg(
        g["t"], g["v"].to_numpy(), classes, item=item, label=f"{tables.names.get(item, item)} {item}",
        unit=tables.units.get(item, ""), limit_iii=limit, band=band if g["t"].dt.tz is not None else None,
    )


def _add_rivers(m: DongpingMap, rivers: gpd.GeoDataFrame, river_assessment: pd.DataFrame | None,
                period: str) -> None:
    """Rivers tinted by their assessed class (mean method) or grade (share method)."""
    rv = rivers[[c for c in ("river_id", "name") if c in rivers.columns] + [rivers.geometry.name]].copy()
    rv["river_id"] = rv["river_id"].astype(str)
    rv["wq"] = None
    if river_assessment is not None and len(river_assessment):
        ra = river_assessment[river_assessment["period"].astype(str) == period]
        wc = ra["water_class"].astype(object).where(ra["water_class"].notna(), None)
        label = wc.where(wc.notna(), ra["grade"].astype(object))
        rv["wq"] = rv["river_id"].map(dict(zip(ra["river_id"].astype(str), label, strict=True)))
    rv = rv[~(rv.geometry.isna() | rv.geometry.is_empty).to_numpy()]
    add_lines(
        m, rv, name="河道水质 Rivers by assessed class", category="wq",
        palette={**WATER_CLASS_COLOURS, **WATER_GRADE_COLOURS}, category_labels={**_CLASS_LABELS, **_GRADE_LABELS},
        tooltip={**{c: FIELD_LABELS.get(c, c) for c in ("name", "river_id") if c in rv.columns},
                 "wq": "水质 Assessed class or grade"},
        legend_title="河道水质 Rivers (class or grade)", weight=3, opacity=0.8,
    )


def _add_target_rings(m: DongpingMap, pts: gpd.GeoDataFrame) -> None:
    """A red ring around each section that misses its target in the period (drawn under the sections)."""
    if "meets_target" not in pts.columns:
        return
    missed = pts[pts["meets_target"].map(lambda v: v is False or v is np.False_).to_numpy(dtype=bool)]
    if not len(missed):
        return
    layer = add_points(
        m, missed[["section_id", *[c for c in ("name",) if c in missed.columns], missed.geometry.name]],
        name="未达标断面 Sections missing their target", colour=MISSED_TARGET_COLOUR, radius=12, weight=3,
        fill_opacity=0.0, opacity=1.0, tooltip=[c for c in ("name", "section_id") if c in missed.columns],
        legend=False,
    )
    add_categorical_legend(
        m, "水质目标 Target", [(f"未达标 Misses its target ({len(missed)})", MISSED_TARGET_COLOUR)],
        shape="point", layer=layer, position="bottomleft",
    )
