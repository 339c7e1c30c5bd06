"""Patrol coverage map (issue 5): rivers by coverage, uncovered stretches, tracks.

Part of :mod:`dongping_geo.maps`, which re-exports the public names; built with its toolkit.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely

from ..errors import SchemaError
from ..patrol import patrol_tracks
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
    max_gap_s: float = 300.0,
    tolerance_m: float = 2.0,
) -> DongpingMap:
    """Map river-chief patrol coverage: rivers coloured by coverage, gaps highlighted, tracks.

    Rivers are coloured on a continuous red → green legend by the share covered
    (0–100 %); uncovered stretches are drawn on top in thick magenta;
    the patrol tracks (fixes joined per patrol, split at time gaps) are drawn
    thin. Popups show the river, its chief, coverage, patrol count and last
    patrol date. Every text shown is HTML-escaped.

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
    info = [c for c in ("name", "level", "chief") if c in rivers.columns]
    stats = [c for c in ("coverage", "covered_m", "length_m", "patrols_covering", "last_patrolled") if c in coverage.columns]
    data = rivers[["river_id", *info, rivers.geometry.name]].merge(
        pd.DataFrame(coverage)[["river_id", *stats]], on="river_id", how="left"
    )
    data["coverage_pct"] = data["coverage"].astype(float) * 100.0
    labels = {
        "name": FIELD_LABELS["name"],
        "river_id": FIELD_LABELS["river_id"],
        "level": FIELD_LABELS["level"],
        "chief": FIELD_LABELS["chief"],
        "coverage_pct": "巡查覆盖率 Coverage (%)",
        "covered_m": "已巡长度 Covered (m)",
        "length_m": FIELD_LABELS["length_m"],
        "patrols_covering": "覆盖巡河次数 Patrols covering",
        "last_patrolled": "最近巡河 Last patrol",
    }
    popup = {k: v for k, v in labels.items() if k in data.columns}
    tooltip = {k: labels[k] for k in ("name", "chief", "coverage_pct") if k in data.columns}
    m = base_map(
        rivers, basemap=basemap, tianditu_token=tianditu_token,
        title=title if title is not None else "河长巡河覆盖 Patrol coverage",
    )
    add_lines(
        m, data, name="河道覆盖率 River coverage", value="coverage_pct", vmin=0.0, vmax=100.0,
        ramp=COVERAGE_RAMP, unit="%", legend_title="巡查覆盖率 Coverage", weight=4.0,
        tooltip=tooltip, popup=popup, tolerance_m=tolerance_m,
    )
    # Tracks on top of the rivers, thin, so the path walked stays visible.
    if fixes is not None and len(fixes):
        is_point = shapely.get_type_id(fixes.geometry.values) == 0
        tracks = patrol_tracks(fixes, max_gap_s=max_gap_s) if is_point.all() else fixes
        if len(tracks):
            add_lines(
                m, tracks, name="巡河轨迹 Patrol tracks", colour="#555555", weight=1.0,
                opacity=0.6, tolerance_m=tolerance_m,
                tooltip=[c for c in ("patrol_id", "chief", "start", "end") if c in tracks.columns],
            )
    if uncovered is not None and len(uncovered):
        gap_fields = {k: labels.get(k, FIELD_LABELS.get(k, k)) for k in ("name", "river_id", "chief", "length_m")
                      if k in uncovered.columns}
        gaps_layer = add_lines(
            m, uncovered, name="未巡河段 Uncovered stretches", colour="#c51b8a", weight=6.0,
            opacity=0.8, tooltip=gap_fields, popup=gap_fields, tolerance_m=tolerance_m,
        )
        add_categorical_legend(
            m, "未巡河段 Uncovered", [(f"未覆盖 Not patrolled ({len(uncovered)})", "#c51b8a")],
            shape="line", layer=gaps_layer, position="bottomleft",
        )
    return m
