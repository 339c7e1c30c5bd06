"""Problems map (issue 15): open and overdue problems by kind, signboards, hotspot stretches.

Part of :mod:`dongping_geo.maps`, which re-exports the public names; built with its toolkit.
Problems are drawn as markers in a Leaflet.markercluster group (clustered where dense;
the plugin is vendored, so offline maps inline it). Popups are built from escaped values
only; a photo becomes a link only when it is an ``http(s)`` address.
"""

from __future__ import annotations

import html
import re
from typing import Any, Unpack

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from folium import plugins
from folium.template import Template

from ..errors import SchemaError
from ..schemas import (
    CATEGORY_COLOURS,
    CATEGORY_LABELS,
    LOCAL_TZ,
    PROBLEM_OPEN_STATUSES,
    parse_datetime,
)
from ._toolkit import (
    BaseMapOptions,
    DongpingMap,
    _safe_colour,
    add_categorical_legend,
    add_lines,
    add_points,
    base_map,
    prepare_for_web,
)
from .styles import FIELD_LABELS

__all__ = ["add_problem_layers", "problems_map"]

#: Ring colour of an overdue problem's marker, and of a board with a finding.
OVERDUE_COLOUR = "#d7191c"
_BOARD_OK_COLOUR = "#66c2a5"  # mint: not a problem-kind colour
_HOTSPOT_RAMP = ("#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15")
_URL_RE = re.compile(r"^https?://[^\s\"'<>`]+$", re.I)


def _text(value: Any) -> str:
    """Escape a value for HTML inside folium's JavaScript template literal (``${`` too)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "—"
    return html.escape(str(value), quote=True).replace("$", "&#36;").replace("`", "&#96;")


def _label(field: str, value: Any) -> str:
    zh_en = CATEGORY_LABELS.get(field, {}).get(value)
    return f"{zh_en[0]} {zh_en[1]}" if zh_en else str(value)


def photo_html(photo: Any) -> str:
    """A photo cell: an escaped link for an ``http(s)`` address, escaped text otherwise.

    Parameters
    ----------
    photo : object
        URL or file name (or missing).

    Returns
    -------
    str
        Safe HTML.

    Examples
    --------
    >>> photo_html("javascript:alert(1)")
    'javascript:alert(1)'
    >>> photo_html("https://x.org/a.jpg?a=1&b=2")
    '<a href="https://x.org/a.jpg?a=1&amp;b=2" target="_blank" rel="noopener noreferrer">照片 Photo</a>'
    """
    if photo is None or (not isinstance(photo, str) and pd.isna(photo)) or not str(photo).strip():
        return "—"
    text = str(photo).strip()
    if _URL_RE.match(text):
        return f'<a href="{_text(text)}" target="_blank" rel="noopener noreferrer">照片 Photo</a>'
    return _text(text)


def _times(values: pd.Series) -> pd.Series:
    parsed, _ = parse_datetime(values.reset_index(drop=True))
    return pd.Series(parsed.to_numpy(), index=values.index)


def open_problems(problems: gpd.GeoDataFrame, *, as_of: Any = None, overdue_days: float = 7) -> gpd.GeoDataFrame:
    """The problems open as of ``as_of`` with ``days_open`` and ``overdue`` (rules of docs/problems.md).

    Parameters
    ----------
    problems : GeoDataFrame
        As from :func:`dongping_geo.load_problems`.
    as_of : date, str or Timestamp, optional
        Default: the latest reported_at/resolved_at.
    overdue_days : float, default 7
        Days after which an open problem is overdue.

    Returns
    -------
    GeoDataFrame
        The open problems, overdue first, longest open first.
    """
    need = [c for c in ("problem_id", "kind", "status", "reported_at") if c not in problems.columns]
    if need:
        raise SchemaError("problems lack fields the map needs", layer="problems", field=", ".join(need),
                          expected="problem_id, kind, status, reported_at", found=", ".join(map(str, problems.columns)),
                          fix="load the layer with dongping_geo.load_problems()")
    rep = _times(problems["reported_at"])
    res = (_times(problems["resolved_at"]) if "resolved_at" in problems.columns
           else pd.Series(pd.NaT, index=problems.index, dtype=f"datetime64[ns, {LOCAL_TZ}]"))
    when = pd.Timestamp(as_of) if as_of is not None else pd.concat([rep, res]).max()
    if when.tzinfo is None:
        when = when.tz_localize(LOCAL_TZ)
    is_open = (problems["status"].isin(PROBLEM_OPEN_STATUSES) | (res > when)) & (rep <= when)
    out = problems[is_open.to_numpy()].copy()
    out["reported_at"] = rep[is_open]
    out["days_open"] = ((when - out["reported_at"]).dt.total_seconds() / 86400.0).round(1)
    out["overdue"] = out["days_open"] >= overdue_days - 1e-9
    return out.sort_values(["overdue", "days_open"], ascending=False)


def _problem_popup(row: pd.Series) -> str:
    cells = [
        ("问题类型 Kind", _text(_label("kind", row["kind"]))),
        ("问题编号 Problem", _text(row["problem_id"])),
        (FIELD_LABELS["river_id"], _text(row.get("river_id"))),
        ("处理状态 Status", _text(_label("status", row["status"]))),
        ("上报时间 Reported", _text(row["reported_at"].strftime("%Y-%m-%d %H:%M"))),
        ("已开放天数 Days open", _text(f"{row['days_open']:.1f}") + (" <b>超期 Overdue</b>" if row["overdue"] else "")),
        ("上报人 Reporter", _text(row.get("reporter"))),
        ("问题描述 Description", _text(row.get("description"))),
        ("照片 Photo", photo_html(row.get("photo"))),
    ]
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{v}</td></tr>" for k, v in cells)
    return f'<table class="dg-tip">{body}</table>'


class _MarkerText(MacroElement):
    """Bind a popup and a tooltip to the parent marker from JSON strings.

    folium's own Popup builds its content with jQuery, which :func:`base_map` leaves out
    of the page; here the (already escaped) HTML travels as a JSON string, which Jinja's
    ``tojson`` makes safe inside a script tag.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.bindPopup({{ this.popup|tojson }}, {maxWidth: 360});
        {{ this._parent.get_name() }}.bindTooltip({{ this.tooltip|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, popup: str, tooltip: str):
        super().__init__()
        self._name = "DgMarkerText"
        self.popup = popup
        self.tooltip = tooltip


def _icon(colour: str, overdue: bool) -> folium.DivIcon:
    ring = OVERDUE_COLOUR if overdue else "#ffffff"
    size = 16 if overdue else 12
    style = (f"width:{size}px;height:{size}px;border-radius:50%;background:{_safe_colour(colour)};"
             f"border:3px solid {ring};box-shadow:0 0 2px #000")
    return folium.DivIcon(html=f'<div style="{style}"></div>', icon_size=(size + 6, size + 6),
                          icon_anchor=(size // 2 + 3, size // 2 + 3), class_name="dg-problem")


def _add_problem_markers(m: folium.Map, shown: gpd.GeoDataFrame, *, cluster: bool) -> folium.map.Layer:
    web = prepare_for_web(shown, tolerance_m=0.0, gcj02=bool(getattr(m, "gcj02", False)), layer="problems")
    n_over = int(web["overdue"].sum())
    name = f"巡河问题 Open problems ({len(web)}, 超期 overdue {n_over})"
    # Leaflet.markercluster needs the map's maxZoom, which only tile layers set otherwise.
    m.options.setdefault("max_zoom", 18)
    group: folium.map.Layer = (plugins.MarkerCluster(name=name, options={"disableClusteringAtZoom": 17})
                               if cluster else folium.FeatureGroup(name=name))
    colours = CATEGORY_COLOURS["kind"]
    xy = shapely.get_coordinates(web.geometry.values)
    for (x, y), (_, row) in zip(xy, web.iterrows(), strict=True):
        marker = folium.Marker(location=(float(y), float(x)),
                               icon=_icon(colours.get(row["kind"], "#999999"), bool(row["overdue"])))
        marker.add_child(_MarkerText(_problem_popup(row), _text(_label("kind", row["kind"]))))
        marker.add_to(group)
    group.add_to(m)
    kinds = [k for k in CATEGORY_LABELS["kind"] if k in set(web["kind"])]
    items = [(_label("kind", k), colours[k]) for k in kinds] + [("超期 Overdue (red ring)", OVERDUE_COLOUR)]
    add_categorical_legend(m, "问题类型 Problem kind", items, shape="point", layer=group, position="bottomleft")
    return group


def _add_boards(m: folium.Map, signboards: gpd.GeoDataFrame, board_checks: pd.DataFrame | None) -> folium.map.Layer:
    boards = signboards.copy()
    found = pd.Series("ok", index=boards.index, dtype=object)
    if board_checks is not None and len(board_checks):
        per_board = board_checks.dropna(subset=["board_id"]).groupby("board_id")["board_check"].first()
        found = boards["board_id"].map(per_board).fillna("ok")
    boards["board_check"] = found.to_numpy()
    palette = {"ok": _BOARD_OK_COLOUR, **CATEGORY_COLOURS["board_check"]}
    labels = {"ok": "正常 OK", **{k: _label("board_check", k) for k in CATEGORY_LABELS["board_check"]}}
    popup = {k: v for k, v in {"board_id": "公示牌编号 Board", "river_id": FIELD_LABELS["river_id"],
                                "chief_on_board": "公示河长 Chief on board", "updated_on": "更新日期 Updated",
                                "board_check": "核查 Check"}.items() if k in boards.columns}
    return add_points(m, boards, name=f"河长公示牌 Signboards ({len(boards)})", category="board_check",
                      palette=palette, category_labels=labels, popup=popup, tooltip=["board_id"],
                      legend_title="河长公示牌 Signboards", radius=4.0)


def add_problem_layers(
    m: folium.Map,
    problems: gpd.GeoDataFrame | None,
    *,
    signboards: gpd.GeoDataFrame | None = None,
    board_checks: pd.DataFrame | None = None,
    as_of: Any = None,
    overdue_days: float = 7,
    cluster: bool = True,
) -> list[folium.map.Layer]:
    """Add the open and overdue problems (markers by kind) and the signboards to a map.

    Parameters
    ----------
    m : folium.Map
        The map (from :func:`base_map`, e.g. a chief's coverage map).
    problems : GeoDataFrame or None
        Problems as from :func:`dongping_geo.load_problems`; only those open as of
        ``as_of`` are drawn (overdue ones with a red ring and first in the popup list).
    signboards : GeoDataFrame, optional
        Signboards to draw, coloured by their finding in ``board_checks``.
    board_checks : DataFrame, optional
        Output of :func:`dongping_geo.problems.check_signboards`.
    as_of : date, str or Timestamp, optional
        The day assessed; default the latest date in the problems.
    overdue_days : float, default 7
        Days after which an open problem is overdue.
    cluster : bool, default True
        Cluster nearby markers (Leaflet.markercluster).

    Returns
    -------
    list of folium.map.Layer
        The layers added: the problems (when any is open) and the signboards (when given).

    Examples
    --------
    >>> rivers = gpd.GeoDataFrame({"river_id": ["R1"]},
    ...     geometry=[shapely.LineString([(640000, 3510000), (641000, 3510000)])], crs=4549)
    >>> p = gpd.GeoDataFrame({"problem_id": ["Q1"], "kind": ["dumping"], "status": ["reported"],
    ...     "reported_at": ["2022-03-01"]}, geometry=[shapely.Point(640500, 3510005)], crs=4549)
    >>> m = base_map(rivers, basemap="none")
    >>> len(add_problem_layers(m, p, as_of="2022-03-20"))
    1
    """
    layers = []
    if problems is not None and len(problems):
        shown = open_problems(problems, as_of=as_of, overdue_days=overdue_days)
        if len(shown):
            layers.append(_add_problem_markers(m, shown, cluster=cluster))
    if signboards is not None and len(signboards):
        layers.append(_add_boards(m, signboards, board_checks))
    return layers


def problems_map(
    problems: gpd.GeoDataFrame,
    rivers: gpd.GeoDataFrame,
    *,
    signboards: gpd.GeoDataFrame | None = None,
    board_checks: pd.DataFrame | None = None,
    hotspots: gpd.GeoDataFrame | None = None,
    as_of: Any = None,
    overdue_days: float = 7,
    cluster: bool = True,
    **base: Unpack[BaseMapOptions],
) -> DongpingMap:
    """Map the problems found on patrol: open and overdue problems, signboards, hotspot stretches.

    Rivers are drawn faint for context; hotspot stretches (from
    :func:`dongping_geo.problems.problem_hotspots`) on a red ramp by problems per km;
    problems open as of ``as_of`` as markers coloured by kind (overdue ones ringed in
    red), clustered where dense; signboards coloured by their finding. Popups show
    kind, id, river, status, date, days open, reporter, description and the photo (a
    link only for ``http(s)`` addresses); every value is HTML-escaped.

    Parameters
    ----------
    problems : GeoDataFrame
        Problems as from :func:`dongping_geo.load_problems`.
    rivers : GeoDataFrame
        Rivers with ``river_id`` (``name``, ``chief``).
    signboards, board_checks : optional
        As for :func:`add_problem_layers`.
    hotspots : GeoDataFrame, optional
        Output of :func:`dongping_geo.problems.problem_hotspots`.
    as_of, overdue_days, cluster : optional
        As for :func:`add_problem_layers`.
    **base
        ``basemap`` (default "osm"), ``tianditu_token`` and ``title`` (default
        "巡河问题 Problems found on patrol"), passed on to :func:`~dongping_geo.maps.base_map`.

    Returns
    -------
    DongpingMap
        The map; write it with :func:`save_map`.

    Examples
    --------
    >>> rivers = gpd.GeoDataFrame({"river_id": ["R1"]},
    ...     geometry=[shapely.LineString([(640000, 3510000), (641000, 3510000)])], crs=4549)
    >>> p = gpd.GeoDataFrame({"problem_id": ["Q1"], "kind": ["dumping"], "status": ["reported"],
    ...     "reported_at": ["2022-03-01"]}, geometry=[shapely.Point(640500, 3510005)], crs=4549)
    >>> m = problems_map(p, rivers, basemap="none")
    """
    opts: BaseMapOptions = {"title": "巡河问题 Problems found on patrol", **base}
    m = base_map([rivers], **opts)
    info = {k: FIELD_LABELS[k] for k in ("name", "river_id", "chief") if k in rivers.columns}
    add_lines(m, rivers, name="河道 Rivers", colour="#6baed6", weight=2.0, opacity=0.5, tooltip=info,
              legend=False)
    if hotspots is not None and len(hotspots):
        top = float(np.nanmax(hotspots["per_km"].to_numpy(dtype=float)))
        fields = {k: v for k, v in {"name": FIELD_LABELS["name"], "river_id": FIELD_LABELS["river_id"],
                                    "from_m": "起点 From (m)", "to_m": "终点 To (m)", "problems": "问题数 Problems",
                                    "open": "未办结 Open", "per_km": "每公里 Per km"}.items() if k in hotspots.columns}
        add_lines(m, hotspots, name="问题多发河段 Hotspot stretches", value="per_km", vmin=0.0, vmax=max(top, 1.0),
                  ramp=_HOTSPOT_RAMP, unit="/km", legend_title="问题密度 Problems per km", weight=7.0,
                  opacity=0.8, tooltip=fields, popup=fields)
    add_problem_layers(m, problems, signboards=signboards, board_checks=board_checks, as_of=as_of,
                       overdue_days=overdue_days, cluster=cluster)
    return m
