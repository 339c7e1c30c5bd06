"""Sample dataset, part 1b: the flow design of the river network and each section's upstream rivers.

Chongming's polder rivers flow as the sluices let them. The sample's design:

* 北横引河 (the district river along the north shore) is the town's only outlet: its
  east end lies on the town boundary at the 东平闸 sluice and it drains to the
  Yangtze (``flows_to = 长江``); the national section stands just above the sluice.
* Every north-south river drains north into 北横引河 at its north end (level rule).
* The three east-west town rivers cross the three north-south district rivers; each
  is given the one district river it drains into (``flows_to``), at the crossing.
* A village channel drains into the town river at one of its ends (level rule); a
  channel between two town rivers is given one (``flows_to``): the east one for the
  southern channel of each pair, the west one for the northern.
* A dead-end ditch drains into the channel it branches off (its first vertex).

:func:`upstream_sets` traces the upstream rivers of every section on this design
(local geometry, the generator's own rules), independently of
:mod:`dongping_geo.network`, so a test can compare the two.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._layout import OUTLET_RIVER, OUTLET_SECTION_M, VILLAGE_V

__all__ = ["OUTLET_RIVER", "OUTLET_SECTION_M", "OUTLET_TO", "drainage", "extend_outlet", "flows_to",
           "upstream_sets"]

OUTLET_TO = "长江"
OUTLET_SLUICE = "东平闸"
#: East-west town rivers and the north-south district river each drains into.
EW_FLOWS_TO = {"东平南横河": "东风中心河", "东平中横河": "洪林河", "老北横引河": "前哨中心河"}
LEVEL_ORDER = {"village": 0, "town": 1, "district": 2}


def extend_outlet(rivers: gpd.GeoDataFrame, town_local: shapely.Polygon) -> gpd.GeoDataFrame:
    """Move the east end of 北横引河 onto the town boundary (the 东平闸 sluice)."""
    out = rivers.copy()
    i = int(np.flatnonzero(out["name"].to_numpy() == OUTLET_RIVER)[0])
    coords = np.asarray(out.geometry.iloc[i].coords)
    (u1, v1) = coords[-1]
    ray = shapely.LineString([(u1, v1), (u1 + 5_000.0, v1)])
    hit = shapely.get_coordinates(shapely.intersection(ray, town_local.exterior))
    u_end = float(np.round(hit[:, 0].min(), 3))
    coords[-1] = (u_end, v1)
    out.loc[out.index[i], "geometry"] = shapely.LineString(coords)
    return out


def _ns_rivers(rivers: gpd.GeoDataFrame) -> pd.DataFrame:
    ns = rivers[rivers["kind"] == "ns"]
    return pd.DataFrame({"pos": np.flatnonzero(rivers["kind"].to_numpy() == "ns"),
                         "u": [g.coords[0][0] for g in ns.geometry], "level": ns["level"].to_numpy()})


def _channel_ends(rivers: gpd.GeoDataFrame, ns: pd.DataFrame, i: int) -> tuple[int, int]:
    """Positions of the north-south rivers at the west and east end of village channel ``i``."""
    g = rivers.geometry.iloc[i]
    u = ns.set_index("u")["pos"]
    return int(u[g.coords[0][0]]), int(u[g.coords[-1][0]])


def flows_to(rivers: gpd.GeoDataFrame) -> list[str | None]:
    """The ``flows_to`` field (下游河道): set where the level rule cannot decide, else None."""
    ids = rivers["river_id"].to_numpy()
    by_name = dict(zip(rivers["name"], ids, strict=True))
    ns = _ns_rivers(rivers)
    level = rivers["level"].to_numpy()
    out: list[str | None] = [None] * len(rivers)
    for i, (name, kind) in enumerate(zip(rivers["name"], rivers["kind"], strict=True)):
        if name == OUTLET_RIVER:
            out[i] = OUTLET_TO
        elif name in EW_FLOWS_TO:
            out[i] = by_name[EW_FLOWS_TO[name]]
        elif kind == "vch":
            west, east = _channel_ends(rivers, ns, i)
            if level[west] == level[east] == "town":
                southern = rivers.geometry.iloc[i].coords[0][1] < _band_split(rivers, i)
                out[i] = ids[east] if southern else ids[west]
    return out


def _band_split(rivers: gpd.GeoDataFrame, i: int) -> float:
    """The v between the two channels of the pair channel ``i`` belongs to."""
    v = rivers.geometry.iloc[i].coords[0][1]
    band = min(VILLAGE_V, key=lambda b: abs(0.5 * (b[0] + b[1]) - v))
    return 0.5 * (band[0] + band[1])


def _level_mouth(rivers: gpd.GeoDataFrame, ns: pd.DataFrame, i: int) -> int:
    """The design's level rule: the river a river without ``flows_to`` drains into (-1: none)."""
    kind, level = rivers["kind"].iat[i], rivers["level"].to_numpy()
    if kind == "ns":
        return int(np.flatnonzero(rivers["name"].to_numpy() == OUTLET_RIVER)[0])
    if kind == "vch":
        west, east = _channel_ends(rivers, ns, i)
        return west if LEVEL_ORDER[level[west]] <= LEVEL_ORDER[level[east]] else east
    if kind == "stub":
        start = shapely.Point(rivers.geometry.iat[i].coords[0])
        on = [j for j in np.flatnonzero(rivers["kind"].to_numpy() == "vch")
              if rivers.geometry.iat[j].distance(start) < 1e-6]
        return int(on[0])
    return -1


def drainage(rivers: gpd.GeoDataFrame, flows: list[str | None]) -> pd.DataFrame:
    """Per river: ``down`` (position it drains into, -1 for the outlet), ``mouth_m`` and ``at_m``.

    ``mouth_m`` is the chainage of the river's mouth on itself, ``at_m`` the chainage
    of that junction on the river downstream (both in the digitised direction).
    """
    ids = list(rivers["river_id"])
    ns = _ns_rivers(rivers)
    geoms = rivers.geometry.to_numpy()
    rows = []
    for i, f in enumerate(flows):
        if f == OUTLET_TO:
            rows.append((-1, geoms[i].length, np.nan))
            continue
        d = ids.index(f) if f is not None else _level_mouth(rivers, ns, i)
        junction = shapely.intersection(geoms[i], geoms[d])
        p = shapely.Point(shapely.get_coordinates(junction)[0])
        rows.append((d, geoms[i].project(p), geoms[d].project(p)))
    return pd.DataFrame(rows, columns=["down", "mouth_m", "at_m"])


def _all_upstream(tab: pd.DataFrame, i: int) -> set[int]:
    """River ``i`` and every river draining into it, recursively."""
    out = {i}
    for t in np.flatnonzero(tab["down"].to_numpy() == i):
        out |= _all_upstream(tab, int(t))
    return out


def upstream_of(tab: pd.DataFrame, i: int, m: float) -> set[int]:
    """Rivers upstream of chainage ``m`` on river ``i``: tributaries joining between its head and m."""
    mouth = tab["mouth_m"].iat[i]
    out = {i}
    for t in np.flatnonzero(tab["down"].to_numpy() == i):
        j = tab["at_m"].iat[int(t)]
        if (j - mouth) * (m - mouth) > 0 and abs(j - mouth) >= abs(m - mouth):
            out |= _all_upstream(tab, int(t))
    return out


def upstream_sets(rivers: gpd.GeoDataFrame, sections: gpd.GeoDataFrame, flows: list[str | None]
                  ) -> dict[str, list[str]]:
    """Section id -> sorted river ids upstream of the section (its own river included)."""
    tab = drainage(rivers, flows)
    ids = rivers["river_id"].to_numpy()
    pos = {r: k for k, r in enumerate(ids)}
    out = {}
    for sid, rid, pt in zip(sections["section_id"], sections["river_id"], sections.geometry, strict=True):
        i = pos[rid]
        m = rivers.geometry.iat[i].project(pt)
        out[sid] = sorted(ids[sorted(upstream_of(tab, i, m))])
    return out
