"""Patrol coverage map (issue 5): rivers by coverage, uncovered stretches, tracks.

Part of :mod:`dongping_geo.maps`, which re-exports the public names; built with its toolkit.
"""

from __future__ import annotations

import html

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..errors import SchemaError
from ..patrol import patrol_tracks
from ..schemas import OUTPUT_FIELD_LABELS
from ._panel import add_labels, add_panel, chainage
from ._toolkit import DongpingMap, add_categorical_legend, add_lines, base_map
from .styles import FIELD_LABELS

#: Red → yellow → green ramp for patrol coverage (ColorBrewer RdYlGn).
COVERAGE_RAMP = ("#d7191c", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641")


def coverage_map(
    rivers: gpd.GeoDataFrame,
    coverage: pd.DataFrame,
    *,
    uncovered: gpd.GeoDataFrame | None = None,
    fixes: gpd.GeoDataFrame | None = None,
    basemap: str = "osm",
    tianditu_token: str | None = None,
    title: str | None = None,
    compliance: pd.DataFrame | None = None,
    max_gap_s: float = 300.0,
    tolerance_m: float = 2.0,
) -> DongpingMap:
    """Map river-chief patrol coverage and what to do: rule met or missed, stretches to patrol.

    Rivers are coloured on a continuous red → green legend by the share covered
    (0–100 %); with ``compliance``, a second layer (shown first) colours them by their
    patrol rule, met or missed, and their popups give the periods missed, the
    patrols counted and why the others did not count. River names are written on
    the map. Uncovered stretches are drawn on top in thick magenta with chainage
    marks (``K1+250``: km from the river's head) at both ends; the patrol tracks
    (fixes joined per patrol, split at time gaps) are drawn thin. A side panel lists
    what to do — the rivers that missed their rule with the periods, and the
    stretches to patrol with their chainages — and the page prints on A4. Every
    text shown is HTML-escaped.

    Parameters
    ----------
    rivers : GeoDataFrame
        Rivers with ``river_id`` (and usually ``name``, ``level``, ``chief``).
    coverage : DataFrame
        Output of :func:`dongping_geo.patrol.river_coverage` (joined on ``river_id``).
    uncovered : GeoDataFrame, optional
        Output of :func:`dongping_geo.patrol.uncovered_segments`.
    fixes : GeoDataFrame, optional
        Patrol GPS fixes (Point, ``patrol_id`` or ``track_id``, ``timestamp``) to
        draw as tracks; LineString tracks are drawn as they are.
    basemap, tianditu_token : str, optional
        As for :func:`base_map`.
    title : str, optional
        Map title; defaults to "河长巡河覆盖 Patrol coverage".
    compliance : DataFrame, optional
        :func:`dongping_geo.patrol.compliance` ``by_river`` table (joined on ``river_id``).
    max_gap_s : float, default 300
        Fixes further apart in time are not joined when drawing tracks.
    tolerance_m : float, default 2
        Simplification tolerance for drawing (metres).

    Returns
    -------
    DongpingMap
        The map; write it with :func:`save_map`.

    Raises
    ------
    SchemaError
        If ``coverage`` lacks ``river_id``/``coverage`` or the fixes lack ids/times.
    CRSError
        If a layer has no CRS.

    Examples
    --------
    >>> import shapely
    >>> rivers = gpd.GeoDataFrame({"river_id": ["R1"], "name": ["洪林河"], "chief": ["王"]},
    ...     geometry=[shapely.LineString([(640000, 3510000), (641000, 3510000)])], crs=4549)
    >>> cov = pd.DataFrame({"river_id": ["R1"], "coverage": [0.5], "covered_m": [500.0],
    ...     "length_m": [1000.0], "patrols_covering": [1], "last_patrolled": [pd.NaT]})
    >>> m = coverage_map(rivers, cov, basemap="none")
    >>> "Coverage (%)" in map_html(m)  # popup text (Chinese is escaped as JSON)
    True
    """
    _check_coverage(coverage)
    data = _river_data(rivers, coverage, compliance)
    m = base_map(
        rivers, basemap=basemap, tianditu_token=tianditu_token,
        title=title if title is not None else "河长巡河覆盖 Patrol coverage",
    )
    popup = {k: v for k, v in _LABELS.items() if k in data.columns}
    tooltip = {k: _LABELS[k] for k in ("name", "chief", "coverage_pct", "compliant") if k in data.columns}
    if compliance is not None:
        add_lines(m, data, name="巡河规则 Patrol rule", category="compliant", legend_title="巡河规则 Patrol rule",
                  weight=5.0, tooltip=tooltip, popup=popup, tolerance_m=tolerance_m)
    add_lines(
        m, data, name="河道覆盖率 River coverage", value="coverage_pct", vmin=0.0, vmax=100.0,
        ramp=COVERAGE_RAMP, unit="%", legend_title="巡查覆盖率 Coverage", weight=4.0,
        tooltip=tooltip, popup=popup, tolerance_m=tolerance_m, show=compliance is None,
    )
    if "name" in data.columns and len(data):
        add_labels(m, data, data["name"].fillna(data["river_id"]), css_class="dg-label")
    _add_tracks(m, fixes, max_gap_s=max_gap_s, tolerance_m=tolerance_m)
    if uncovered is not None and len(uncovered):
        _add_uncovered(m, uncovered, tolerance_m=tolerance_m)
    if compliance is not None or uncovered is not None:
        add_panel(m, "要做什么 What to do", patrol_panel(data, uncovered))
    return m


_LABELS = {
    "name": FIELD_LABELS["name"],
    "river_id": FIELD_LABELS["river_id"],
    "level": FIELD_LABELS["level"],
    "chief": FIELD_LABELS["chief"],
    "compliant": "巡河规则 Patrol rule",
    "missed_text": "未巡时段 Periods missed",
    "counted_text": "计入巡河 Patrols counted",
    "not_counted_text": "不计原因 Not counted",
    "coverage_pct": "巡查覆盖率 Coverage (%)",
    "covered_m": "已巡长度 Covered (m)",
    "length_m": FIELD_LABELS["length_m"],
    "patrols_covering": "覆盖巡河次数 Patrols covering",
    "last_patrolled": "最近巡河 Last patrol",
}


def _check_coverage(coverage: pd.DataFrame) -> None:
    need = [c for c in ("river_id", "coverage") if c not in coverage.columns]
    if need:
        raise SchemaError(
            "coverage table is missing columns",
            layer="coverage",
            field=", ".join(need),
            expected="the output of dongping_geo.patrol.river_coverage",
            found=", ".join(map(str, coverage.columns)),
            fix="pass river_coverage(rivers, fixes)",
        )


def _not_counted_text(row: pd.Series) -> str:
    """``过短 too short 3; 非本河长巡河 other chief 1`` from the ``not_counted_*`` columns."""
    parts = []
    for col in row.index:
        if isinstance(col, str) and col.startswith("not_counted_") and col != "not_counted_text" and row[col]:
            en = col.removeprefix("not_counted_").replace("_", " ")
            parts.append(f"{OUTPUT_FIELD_LABELS.get(col, '')} {en} {int(row[col])}".strip())
    return "; ".join(parts)


def _river_data(rivers: gpd.GeoDataFrame, coverage: pd.DataFrame, compliance: pd.DataFrame | None) -> gpd.GeoDataFrame:
    """Rivers joined with their coverage and (optionally) their rule, with display columns."""
    info = [c for c in ("name", "level", "chief") if c in rivers.columns]
    stats = [c for c in ("coverage", "covered_m", "length_m", "patrols_covering", "last_patrolled")
             if c in coverage.columns]
    data = rivers[["river_id", *info, rivers.geometry.name]].merge(
        pd.DataFrame(coverage)[["river_id", *stats]], on="river_id", how="left"
    )
    data["coverage_pct"] = data["coverage"].astype(float) * 100.0
    if compliance is None:
        return data
    rule = [c for c in compliance.columns if c in ("compliant", "missed_periods", "patrols_required",
                                                   "patrols_counted") or str(c).startswith("not_counted_")]
    data = data.merge(pd.DataFrame(compliance)[["river_id", *rule]], on="river_id", how="left")
    data["compliant"] = data["compliant"].astype(object).where(data["compliant"].notna(), None)
    missed = data["missed_periods"] if "missed_periods" in data.columns else pd.Series([[]] * len(data))
    data["missed_text"] = [", ".join(map(str, v)) if isinstance(v, list | tuple) else "" for v in missed]
    if {"patrols_counted", "patrols_required"} <= set(data.columns):
        data["counted_text"] = [f"{c:.0f} / {r:.0f}" if c == c and r == r else ""
                                for c, r in zip(data["patrols_counted"], data["patrols_required"], strict=True)]
    data["not_counted_text"] = data.apply(_not_counted_text, axis=1) if len(data) else ""
    return data


def _add_tracks(m: DongpingMap, fixes: gpd.GeoDataFrame | None, *, max_gap_s: float, tolerance_m: float) -> None:
    """Tracks on top of the rivers, thin, so the path walked stays visible."""
    if fixes is None or not len(fixes):
        return
    is_point = shapely.get_type_id(fixes.geometry.values) == 0
    tracks = patrol_tracks(fixes, max_gap_s=max_gap_s) if is_point.all() else fixes
    if len(tracks):
        add_lines(
            # faint: a year of weekly tracks must not hide the rivers' rule colours beneath
            m, tracks, name="巡河轨迹 Patrol tracks", colour="#555555", weight=1.0,
            opacity=0.25, tolerance_m=tolerance_m,
            tooltip=[c for c in ("patrol_id", "chief", "start", "end") if c in tracks.columns],
        )


def _add_uncovered(m: DongpingMap, uncovered: gpd.GeoDataFrame, *, tolerance_m: float) -> None:
    """Uncovered stretches in magenta, with chainage marks at both ends."""
    gaps = uncovered.copy()
    if {"from_m", "to_m"} <= set(gaps.columns):
        gaps["chainage"] = [f"{chainage(a)} – {chainage(b)}" for a, b in zip(gaps["from_m"], gaps["to_m"], strict=True)]
    fields = {k: _LABELS.get(k, FIELD_LABELS.get(k, k)) for k in ("name", "river_id", "chief", "length_m")
              if k in gaps.columns}
    if "chainage" in gaps.columns:
        fields["chainage"] = "桩号 Chainage (km from the head)"
    layer = add_lines(
        m, gaps, name="未巡河段 Uncovered stretches", colour="#c51b8a", weight=6.0,
        opacity=0.8, tooltip=fields, popup=fields, tolerance_m=tolerance_m,
    )
    if {"from_m", "to_m"} <= set(gaps.columns):
        add_labels(m, gaps, [chainage(v) for v in gaps["from_m"]], at="start", css_class="dg-chainage")
        add_labels(m, gaps, [chainage(v) for v in gaps["to_m"]], at="end", css_class="dg-chainage")
    add_categorical_legend(
        m, "未巡河段 Uncovered", [(f"未覆盖 Not patrolled ({len(gaps)})", "#c51b8a")],
        shape="line", layer=layer, position="bottomleft",
    )


def _rule_rows(data: pd.DataFrame) -> str:
    """Table rows of the rivers that missed their rule (escaped)."""
    missed = data[data["compliant"].map(lambda v: v is False or v is np.False_)]
    rows = "".join(
        "<tr><td>{}</td><td class=\"dg-missed\">{}</td><td>{}</td><td>{}</td></tr>".format(
            html.escape(str(r.get("name") if r.get("name") == r.get("name") and r.get("name") else r["river_id"])),
            html.escape(r.get("missed_text", "")), html.escape(r.get("counted_text", "")),
            html.escape(r.get("not_counted_text", "")))
        for _, r in missed.iterrows()
    )
    head = "<tr><th>河道 River</th><th>未巡时段 Periods missed</th><th>计入/应巡 Counted</th><th>不计原因 Not counted</th></tr>"
    return f"<table>{head}{rows}</table>" if rows else ""


def _stretch_rows(uncovered: gpd.GeoDataFrame) -> str:
    """Table of the stretches to patrol, longest first (escaped)."""
    gaps = uncovered.sort_values("length_m", ascending=False) if "length_m" in uncovered.columns else uncovered
    rows = "".join(
        "<tr><td>{}</td><td>{:,.0f}</td><td>{}</td></tr>".format(
            html.escape(str(r.get("name") if r.get("name") == r.get("name") and r.get("name") else r.get("river_id"))),
            float(r.get("length_m", float("nan"))),
            html.escape(f"{chainage(r['from_m'])} – {chainage(r['to_m'])}" if "from_m" in r else ""))
        for _, r in gaps.iterrows()
    )
    return ("<table><tr><th>河道 River</th><th>长度 Length (m)</th><th>桩号 Chainage</th></tr>"
            f"{rows}</table>")


def patrol_panel(data: pd.DataFrame, uncovered: gpd.GeoDataFrame | None) -> list[tuple[str, str]]:
    """Side-panel sections of a patrol map: the rule per river, the stretches to patrol.

    Parameters
    ----------
    data : DataFrame
        Rivers joined with coverage and compliance (as :func:`coverage_map` builds them).
    uncovered : GeoDataFrame or None
        :func:`dongping_geo.patrol.uncovered_segments` lines.

    Returns
    -------
    list of (str, str)
        (heading, escaped HTML) pairs for :func:`add_panel`.
    """
    sections = []
    if "compliant" in data.columns:
        met = int(data["compliant"].map(lambda v: v is True or v is np.True_).sum())
        assessed = int(data["compliant"].notna().sum())
        cls = "dg-met" if met == assessed else "dg-missed"
        summary = (f'<p class="{cls}">{met} / {assessed} 条河道达标 rivers met their patrol rule</p>'
                   + _rule_rows(data))
        sections.append(("巡河规则 Patrol rule", summary))
    if uncovered is not None and len(uncovered):
        total = float(uncovered["length_m"].sum()) if "length_m" in uncovered.columns else float("nan")
        sections.append(("待巡河段 Stretches to patrol",
                         f"<p>{len(uncovered)} 段, {total:,.0f} m</p>" + _stretch_rows(uncovered)))
    elif uncovered is not None:
        sections.append(("待巡河段 Stretches to patrol", "<p>无 None: every river was covered.</p>"))
    return sections
