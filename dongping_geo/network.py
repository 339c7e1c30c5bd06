"""River network: which river drains into which, and what lies upstream of a point.

Chongming's polder rivers are flat and sluice-controlled: there is no DEM to
route water, so the direction of flow is a fact of management, given per river.

* :func:`river_network` -- a directed graph (networkx) of river stretches, from
  the river lines and either a ``flows_to`` field (下游河道) or the management
  level (village → town → district → out of the town through a sluice).
* :func:`upstream` -- the river stretches upstream of a point on a river or of a
  section, recursively through every tributary.

Rules for the mouth of a river (the point where all its water leaves it):

1. ``flows_to`` names another river: the mouth is the junction with that river
   (within ``snap_m``). It names no river of the layer (``长江``, ``东平闸`` …):
   the river leaves the town (an outlet).
2. no ``flows_to``: the river drains into the river(s) of the next higher level
   it meets (village → town → district); with none, into a river of its own
   level on which one of its ends lies (a ditch ending on a channel, a T junction);
   with neither, a district river leaves the town.
3. a river leaving the town has its mouth at its end on the town boundary (within
   ``snap_m``) when ``boundary`` is given and one end is on it, else at its last
   vertex (lines digitised downstream).

A village or town river that meets no other river and does not reach the
boundary (disconnected), a river with two or more possible mouths, a village or
town river meeting rivers but with no downstream one (no_downstream), a ``flows_to`` naming a river it does not meet, and cycles
are *problems*: ``on_problem="raise"`` (default) raises :class:`SchemaError`
listing them; ``on_problem="report"`` returns the graph with the table in
``G.graph["problems"]`` and those rivers left unconnected downstream.
"""

from __future__ import annotations

from typing import Any, Literal

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from . import _network_core as core
from .errors import ConfigError, CRSError, GeometryError, SchemaError
from .schemas import get_schema

__all__ = ["LEVEL_RANK", "river_network", "upstream"]

#: Order of management levels along the flow: water goes from a lower to a higher rank.
LEVEL_RANK: dict[str, int] = {"village": 0, "town": 1, "district": 2}

OnProblem = Literal["raise", "report"]
_FIX = ("set flows_to (下游河道) to the river_id it drains into, or to the outlet's name "
        "(长江, a sluice) where it leaves the town")


# ------------------------------------------------------------------------- input


def _river_table(rivers: gpd.GeoDataFrame, snap_m: float) -> gpd.GeoDataFrame:
    """Return a checked copy: river_id, level rank, flows_to, single LineString geometry."""
    if not isinstance(rivers, gpd.GeoDataFrame):
        raise GeometryError("rivers must be a GeoDataFrame", layer="rivers",
                            expected="geopandas.GeoDataFrame", found=type(rivers).__name__)
    if rivers.crs is None or not rivers.crs.is_projected:
        raise CRSError("the rivers need a metric CRS for junctions and chainages", layer="rivers",
                       found=str(rivers.crs), fix="reproject with dongping_geo.crs.to_work_crs(rivers)")
    if not snap_m > 0:
        raise ConfigError("snap_m must be positive", field="snap_m", expected="> 0 (metres)", found=repr(snap_m))
    for col in ("river_id", "level"):
        if col not in rivers.columns:
            raise SchemaError("the rivers have no such field", layer="rivers", field=col,
                              fix="load the layer with dongping_geo.load_rivers (it renames 河道编码/河道等级)")
    ids = rivers["river_id"].astype(str)
    dup = ids[ids.duplicated()]
    if len(dup):
        raise SchemaError("duplicate river_id", layer="rivers", feature_id=dup.iloc[0], field="river_id",
                          expected="unique ids", fix="give every river its own 河道编码")
    aliases = get_schema("rivers").field("level").value_aliases
    level = rivers["level"].astype(str).str.strip().str.lower().map(aliases)
    bad = level.isna()
    if bad.any():
        raise SchemaError("unknown management level", layer="rivers", feature_id=ids[bad].iloc[0], field="level",
                          expected="district/town/village (区管/镇管/村管)",
                          found=str(rivers.loc[bad, "level"].iloc[0]))
    geoms = shapely.line_merge(rivers.geometry.values)
    wrong = shapely.get_type_id(geoms) != 1  # 1: LineString
    if wrong.any():
        raise GeometryError("a river is not one connected line", layer="rivers", feature_id=ids[wrong].iloc[0],
                            expected="a LineString (or parts that join end to end)",
                            found=str(shapely.get_type_id(geoms[wrong][0])),
                            fix="split it into rivers with their own river_id, or join the parts")
    flows = rivers["flows_to"] if "flows_to" in rivers.columns else pd.Series(None, index=rivers.index)
    flows = flows.astype("string").str.strip().replace("", pd.NA)
    names = rivers["name"].to_numpy() if "name" in rivers.columns else ids.to_numpy()
    return gpd.GeoDataFrame(
        {"river_id": ids.to_numpy(), "name": names, "level": level.to_numpy(), "rank": level.map(LEVEL_RANK).to_numpy(),
         "flows_to": flows.to_numpy(), "length_m": shapely.length(geoms)},
        geometry=geoms, crs=rivers.crs,
    )


# ------------------------------------------------------------------------- mouths


def _candidates(tab: gpd.GeoDataFrame, junc: pd.DataFrame) -> pd.DataFrame:
    """Return (a, b, rule): rivers ``a`` may drain into, by flows_to, level, then T junction."""
    pos = {r: i for i, r in enumerate(tab["river_id"])}
    ft = tab["flows_to"].to_numpy()
    free = pd.isna(ft)
    ft_idx = np.array([-1 if f else pos.get(v, -1) for v, f in zip(ft, free, strict=True)], dtype=int)
    explicit = np.flatnonzero(ft_idx >= 0)
    rows = [pd.DataFrame({"a": explicit, "b": ft_idx[explicit], "rule": "flows_to"})]
    rank = tab["rank"].to_numpy()
    pairs = junc[["a", "b"]].drop_duplicates()
    pairs = pairs[free[pairs["a"].to_numpy()]]
    ra, rb = rank[pairs["a"].to_numpy()], rank[pairs["b"].to_numpy()]
    higher = pairs[rb > ra].assign(rb=rb[rb > ra])
    nxt = higher.groupby("a")["rb"].transform("min")
    rows.append(higher[higher["rb"] == nxt][["a", "b"]].assign(rule="level"))
    length = tab["length_m"].to_numpy()
    a, b = junc["a"].to_numpy(), junc["b"].to_numpy()
    tee = (free[a] & (rank[a] == rank[b]) & ((junc["m_a"] == 0) | (junc["m_a"] == length[a])).to_numpy()
           & (junc["m_b"] > 0).to_numpy() & (junc["m_b"] < length[b]))
    tee &= ~np.isin(a, higher["a"].to_numpy())
    rows.append(junc.loc[tee, ["a", "b"]].drop_duplicates().assign(rule="tee"))
    return pd.concat(rows, ignore_index=True)


def _problem(tab: gpd.GeoDataFrame, i: int, kind: str, detail: str) -> dict[str, Any]:
    return {"river_id": tab["river_id"].iat[i], "problem": kind, "detail": detail, "fix": _FIX}


def _pick_junction(j: pd.DataFrame, length: float) -> tuple[float, float] | None:
    """Pick the one junction of a river with its downstream river, preferring one at an end."""
    if len(j) == 1:
        return float(j["m_a"].iat[0]), float(j["m_b"].iat[0])
    at_end = j[(j["m_a"] == 0) | (j["m_a"] == length)]
    if len(at_end) == 1:
        return float(at_end["m_a"].iat[0]), float(at_end["m_b"].iat[0])
    return None


def _outlet_mouth(geom: shapely.LineString, length: float, boundary: Any, snap_m: float) -> tuple[float, float | None]:
    """Chainage of an outlet's mouth and that end's distance to the boundary (None without boundary).

    The end on the boundary (within ``snap_m``); with neither end on it, or no
    boundary, the last vertex; NaN when both ends are on it (two possible mouths).
    """
    if boundary is None:
        return length, None
    d0 = float(shapely.distance(shapely.get_point(geom, 0), boundary))
    d1 = float(shapely.distance(shapely.get_point(geom, -1), boundary))
    if d0 <= snap_m and d1 <= snap_m:
        return np.nan, 0.0
    return (0.0, d0) if d0 <= snap_m else (length, d1)


def _mouths(tab: gpd.GeoDataFrame, junc: pd.DataFrame, boundary: Any, snap_m: float
            ) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Per river: downstream position (-1: none), mouth chainage, junction chainage on it, rule."""
    n = len(tab)
    cand = _candidates(tab, junc)
    count = cand.groupby("a")["b"].nunique().reindex(range(n), fill_value=0).to_numpy()
    first = cand.drop_duplicates("a").set_index("a")
    touched = np.zeros(n, bool)
    touched[junc["a"].to_numpy().astype(int)] = True
    ids, length, geoms = tab["river_id"].to_numpy(), tab["length_m"].to_numpy(), tab.geometry.values
    down = np.full(n, -1)
    mouth = np.full(n, np.nan)
    at = np.full(n, np.nan)
    rule = np.full(n, "outlet", dtype=object)
    dist = np.full(n, np.nan)
    problems: list[dict[str, Any]] = []
    by_pair = junc.groupby(["a", "b"])
    for i in range(n):  # per-river decisions on the (small) candidate table
        if count[i] > 1:
            others = ", ".join(ids[cand.loc[cand["a"] == i, "b"].unique()])
            problems.append(_problem(tab, i, "two_mouths", f"it meets several rivers it could drain into: {others}"))
            continue
        if count[i] == 1:
            b = int(first.at[i, "b"])
            if b == i:
                problems.append(_problem(tab, i, "flows_to_self", "flows_to names the river itself"))
                continue
            j = by_pair.get_group((i, b)) if (i, b) in by_pair.groups else junc.iloc[:0]
            if len(j) == 0:
                gap = float(shapely.distance(geoms[i], geoms[b]))
                problems.append(_problem(tab, i, "flows_to_not_met", f"flows_to {ids[b]} but the lines are {gap:.1f} m apart (snap_m {snap_m})"))
                continue
            pick = _pick_junction(j, length[i])
            if pick is None:
                where = ", ".join(f"{m:.0f} m" for m in j["m_a"])
                problems.append(_problem(tab, i, "two_mouths", f"it meets {ids[b]} at several places along it: {where}"))
                continue
            down[i], (mouth[i], at[i]), rule[i] = b, pick, first.at[i, "rule"]
            continue
        named = pd.notna(tab["flows_to"].iat[i])
        m, d = _outlet_mouth(geoms[i], length[i], boundary, snap_m)
        on_boundary = d is not None and d <= snap_m
        if np.isnan(m):
            problems.append(_problem(tab, i, "two_mouths", "both ends lie on the town boundary"))
        elif named or on_boundary or tab["rank"].iat[i] == LEVEL_RANK["district"]:
            mouth[i], dist[i] = m, np.nan if d is None else d
        elif not touched[i]:
            problems.append(_problem(tab, i, "disconnected", "it meets no other river and does not reach the town boundary"))
        else:
            problems.append(_problem(tab, i, "no_downstream", f"a {tab['level'].iat[i]} river that meets no river of a higher level and does not end on one of its level"))
    out = pd.DataFrame({"down": down, "mouth_m": mouth, "at_m": at, "rule": rule, "outlet_distance_m": dist})
    return out, problems


def _break_cycles(tab: gpd.GeoDataFrame, mouths: pd.DataFrame) -> list[dict[str, Any]]:
    """Report rivers on a drainage cycle and disconnect them downstream (in place)."""
    g = nx.DiGraph()
    down = mouths["down"].to_numpy()
    src = np.flatnonzero(down >= 0)
    g.add_edges_from(zip(src.tolist(), down[src].tolist(), strict=True))
    problems = []
    for comp in nx.strongly_connected_components(g):
        if len(comp) < 2:
            continue
        cyc = nx.find_cycle(g.subgraph(comp))
        text = " → ".join(tab["river_id"].iat[u] for u, _ in cyc) + " → " + tab["river_id"].iat[cyc[0][0]]
        for i in sorted(comp):
            problems.append(_problem(tab, i, "cycle", f"drainage cycle {text}"))
        mouths.loc[sorted(comp), ["down", "mouth_m", "at_m"]] = [-1, np.nan, np.nan]
    return problems


# ------------------------------------------------------------------------- graph


def _node_at(cuts: pd.DataFrame, river: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Row (node id) of the cut of ``river`` nearest to chainage ``m``."""
    span = float(cuts["m"].max()) + 1.0 if len(cuts) else 1.0
    key = cuts["river"].to_numpy() * span + cuts["m"].to_numpy()
    q = np.asarray(river) * span + np.asarray(m)
    hi = np.clip(np.searchsorted(key, q), 1, len(key) - 1)
    lo = hi - 1
    return np.where(np.abs(key[lo] - q) <= np.abs(key[hi] - q), lo, hi)


def _stretches(tab: gpd.GeoDataFrame, cuts: pd.DataFrame, mouth_m: np.ndarray) -> pd.DataFrame:
    """Consecutive cuts of each river as stretches, directed towards the river's mouth."""
    r = cuts["river"].to_numpy()
    same = r[1:] == r[:-1]
    u = np.flatnonzero(same)
    v = u + 1
    m = cuts["m"].to_numpy()
    river = r[u]
    forward = 0.5 * (m[u] + m[v]) < mouth_m[river]
    st = pd.DataFrame({
        "source": np.where(forward, u, v), "target": np.where(forward, v, u), "river": river,
        "from_m": m[u], "to_m": m[v], "length_m": m[v] - m[u], "downstream": forward,
    })
    st["geometry"] = core.substrings(tab.geometry.values, river, m[u], m[v])
    return st


def resolve(rivers: gpd.GeoDataFrame, *, snap_m: float, boundary: Any, on_problem: OnProblem) -> nx.DiGraph:
    """Decide every river's mouth; an edgeless graph holding the river table (enough for :func:`locate`)."""
    if on_problem not in ("raise", "report"):
        raise ConfigError("unknown on_problem", field="on_problem", expected="'raise' or 'report'", found=repr(on_problem))
    tab = _river_table(rivers, snap_m)
    bgeom = _boundary_line(boundary, tab.crs)
    junc = core.junctions(tab.geometry.values, snap_m)
    mouths, problems = _mouths(tab, junc, bgeom, snap_m)
    problems += _break_cycles(tab, mouths)
    if problems and on_problem == "raise":
        _raise_problems(problems)
    length = tab["length_m"].to_numpy()
    unresolved = mouths["mouth_m"].isna().to_numpy()
    mouths.loc[unresolved, "rule"] = "unresolved"
    mouths.loc[unresolved, "mouth_m"] = length[unresolved]  # digitised downstream, flagged
    down = mouths["down"].to_numpy()
    ids = tab["river_id"].to_numpy()
    table = tab.drop(columns="rank").assign(
        downstream=np.where(down >= 0, ids[np.maximum(down, 0)], None), mouth_m=mouths["mouth_m"].to_numpy(),
        mouth_rule=mouths["rule"].to_numpy(), outlet_distance_m=mouths["outlet_distance_m"].to_numpy())
    g = nx.DiGraph()
    g.graph.update(crs=tab.crs, snap_m=snap_m, rivers=table, mouths=mouths,
                   problems=pd.DataFrame(problems, columns=["river_id", "problem", "detail", "fix"]))
    return g


def assemble(g: nx.DiGraph, extra_cuts: tuple[np.ndarray, np.ndarray] | None = None) -> nx.DiGraph:
    """Add the nodes and edges to a :func:`resolve` result; ``extra_cuts`` (river positions, chainages) add nodes."""
    tab, mouths, snap_m = g.graph["rivers"], g.graph.pop("mouths"), g.graph["snap_m"]
    length = tab["length_m"].to_numpy()
    mouth_m = mouths["mouth_m"].to_numpy()
    at_m = mouths["at_m"].to_numpy()
    down = mouths["down"].to_numpy()
    joined = np.flatnonzero(down >= 0)
    xr, xm = extra_cuts if extra_cuts is not None else (np.array([], int), np.array([]))
    cuts = core.cut_table(np.concatenate([np.arange(len(tab)), down[joined], xr]).astype(int),
                          np.concatenate([mouth_m, at_m[joined], xm]), length, snap_m)
    st = _stretches(tab, cuts, mouth_m)
    cr, cm = cuts["river"].to_numpy(), cuts["m"].to_numpy()
    xy = shapely.get_coordinates(shapely.line_interpolate_point(tab.geometry.values[cr], cm))
    ids = tab["river_id"].to_numpy()
    g.add_nodes_from((k, {"river_id": ids[r], "m": m, "x": x, "y": y}) for k, (r, m, x, y) in
                     enumerate(zip(cr.tolist(), cm.tolist(), xy[:, 0].tolist(), xy[:, 1].tolist(), strict=True)))
    g.add_edges_from((s, t, {"kind": "stretch", "river_id": ids[r], "from_m": a, "to_m": b, "length_m": ln,
                             "geometry": geom}) for s, t, r, a, b, ln, geom in
                     st[["source", "target", "river", "from_m", "to_m", "length_m", "geometry"]].itertuples(index=False))
    src = _node_at(cuts, joined, mouth_m[joined])
    dst = _node_at(cuts, down[joined], at_m[joined])
    g.add_edges_from((int(s), int(t), {"kind": "confluence", "river_id": ids[r], "length_m": 0.0})
                     for s, t, r in zip(src, dst, joined, strict=True))
    g.graph.update(cuts=cuts, stretches=st)
    return g


def build(rivers: gpd.GeoDataFrame, *, snap_m: float, boundary: Any, on_problem: OnProblem,
          extra_cuts: tuple[np.ndarray, np.ndarray] | None = None) -> nx.DiGraph:
    """Build the network; ``extra_cuts`` (river positions, chainages) add nodes, e.g. at sections."""
    return assemble(resolve(rivers, snap_m=snap_m, boundary=boundary, on_problem=on_problem), extra_cuts)


def _boundary_line(boundary: Any, crs: Any) -> Any:
    """Return the town's boundary line in the rivers' CRS, or None."""
    if boundary is None:
        return None
    if isinstance(boundary, gpd.GeoDataFrame | gpd.GeoSeries):
        if boundary.crs is None:
            raise CRSError("the boundary has no CRS", layer="town", fix="set it with boundary.set_crs(...)")
        return shapely.boundary(boundary.to_crs(crs).union_all())
    if isinstance(boundary, shapely.Geometry):
        return shapely.boundary(boundary)
    raise GeometryError("boundary must be a GeoDataFrame, GeoSeries or shapely polygon", layer="town",
                        found=type(boundary).__name__)


def _raise_problems(problems: list[dict[str, Any]]) -> None:
    ids = ", ".join(p["river_id"] for p in problems[:5]) + (" …" if len(problems) > 5 else "")
    found = "; ".join(f"{p['river_id']}: {p['problem']} ({p['detail']})" for p in problems[:5])
    raise SchemaError(
        f"{len(problems)} river(s) have no single downstream path", layer="rivers", feature_id=ids,
        field="flows_to", expected="one mouth per river and no drainage cycle", found=found,
        fix=_FIX + "; or call river_network(..., on_problem='report') and read G.graph['problems']",
    )


def river_network(
    rivers: gpd.GeoDataFrame,
    *,
    snap_m: float = 1.0,
    boundary: gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry | None = None,
    on_problem: OnProblem = "raise",
) -> nx.DiGraph:
    """Directed graph of river stretches, from each river's head to its mouth.

    Parameters
    ----------
    rivers : geopandas.GeoDataFrame
        River lines in a metric CRS with ``river_id`` and ``level``; optional
        ``flows_to`` (下游河道): the river_id it drains into, or an outlet's name
        (a value that is no river_id, e.g. ``长江``) where it leaves the town.
    snap_m : float, default 1.0
        Lines closer than this meet (junction); chainages this close merge.
    boundary : GeoDataFrame, GeoSeries or shapely polygon, optional
        The town; a river leaving the town has its mouth at its end on the
        boundary (else at its last vertex).
    on_problem : {"raise", "report"}, default "raise"
        What to do with rivers without a single downstream path (see module doc).

    Returns
    -------
    networkx.DiGraph
        Nodes: integer ids with ``river_id``, ``m`` (chainage, m), ``x``, ``y``.
        Edges: ``kind="stretch"`` (``river_id``, ``from_m`` < ``to_m`` in the
        digitised direction, ``length_m``, ``geometry``) directed with the flow,
        and ``kind="confluence"`` from a river's mouth to the junction on the
        river it drains into. ``G.graph``: ``rivers`` (river_id, name, level,
        flows_to, downstream, mouth_m, mouth_rule: flows_to/level/tee/outlet/
        unresolved, outlet_distance_m), ``problems`` (river_id, problem, detail,
        fix), ``crs``, ``snap_m``.

    Raises
    ------
    SchemaError
        Missing fields, duplicate ids, unknown levels; with ``on_problem="raise"``,
        any river that is disconnected, has two possible mouths, no downstream
        river, a ``flows_to`` it does not meet, or lies on a cycle.
    GeometryError
        A river that is not one connected line.
    CRSError
        Rivers without a metric CRS.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> r = gpd.GeoDataFrame({"river_id": ["A", "B"], "level": ["town", "village"],
    ...                       "flows_to": ["长江", None]},
    ...     geometry=[shapely.LineString([(0, 0), (100, 0)]), shapely.LineString([(50, 50), (50, 0)])],
    ...     crs=4549)
    >>> g = river_network(r)
    >>> g.graph["rivers"].set_index("river_id").at["B", "downstream"]
    'A'
    """
    return build(rivers, snap_m=snap_m, boundary=boundary, on_problem=on_problem)


# ------------------------------------------------------------------------- upstream


def locate(network: nx.DiGraph, points: np.ndarray, river_ids: np.ndarray | None = None,
           labels: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """River position and chainage of points on rivers (within ``snap_m``).

    With ``river_ids`` (may hold None), a point is placed on that river; without,
    on the river it lies on -- at a confluence, on the river receiving the others.
    """
    tab, snap = network.graph["rivers"], network.graph["snap_m"]
    geoms, ids = tab.geometry.values, tab["river_id"].to_numpy()
    labels = labels if labels is not None else np.arange(len(points)).astype(str)
    pos = np.full(len(points), -1)
    if river_ids is not None:
        lookup = pd.Series(np.arange(len(ids)), index=ids)
        given = pd.Series(river_ids).notna().to_numpy()
        known = pd.Series(river_ids).isin(lookup.index).to_numpy()
        if (given & ~known).any():
            k = int(np.flatnonzero(given & ~known)[0])
            raise SchemaError("a section names a river that is not in the network", layer="sections",
                              feature_id=labels[k], field="river_id", found=str(river_ids[k]),
                              fix="fix the section's river_id or add the river")
        pos[given] = lookup.loc[np.asarray(river_ids)[given]].to_numpy()
    free = np.flatnonzero(pos < 0)
    if len(free):
        pos[free] = _nearest_river(network, points[free], labels[free])
    gap = shapely.distance(points, geoms[pos])
    far = gap > snap
    if far.any():
        k = int(np.flatnonzero(far)[0])
        raise GeometryError("a point is not on its river", layer="sections", feature_id=labels[k],
                            expected=f"within snap_m = {snap} m of river {ids[pos[k]]}", found=f"{gap[k]:.2f} m",
                            fix="move the point onto the river line or build the network with a larger snap_m")
    m = core.snap_to_ends(shapely.line_locate_point(geoms[pos], points), tab["length_m"].to_numpy()[pos], snap)
    return pos, m


def _nearest_river(network: nx.DiGraph, points: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Find the river each point lies on; at a confluence the receiving river."""
    tab, snap = network.graph["rivers"], network.graph["snap_m"]
    ids = tab["river_id"].to_numpy()
    down = tab["downstream"].to_numpy()
    tree = shapely.STRtree(tab.geometry.values)
    p, r = tree.query(points, predicate="dwithin", distance=snap)
    hits = pd.DataFrame({"p": p, "r": r, "rid": ids[r], "down": down[r]})
    # Drop a river whose downstream river is also hit at the same point (its mouth).
    recv = hits.merge(hits[["p", "rid"]].rename(columns={"rid": "down"}), on=["p", "down"], how="left", indicator=True)
    hits = hits[(recv["_merge"] == "left_only").to_numpy()]
    n = pd.DataFrame({"first": hits.groupby("p")["r"].first(), "count": hits.groupby("p")["r"].size()})
    n = n.reindex(range(len(points)))
    if n["count"].isna().any():
        k = int(np.flatnonzero(n["count"].isna())[0])
        raise GeometryError("a point is on no river", layer="sections", feature_id=labels[k],
                            expected=f"within snap_m = {snap} m of a river",
                            fix="move the point onto the river or give its river_id")
    if (n["count"] > 1).any():
        k = int(np.flatnonzero(n["count"] > 1)[0])
        which = ", ".join(ids[hits["r"][hits["p"] == k]])
        raise GeometryError("a point lies on several rivers that do not drain into each other",
                            layer="sections", feature_id=labels[k], found=which,
                            fix="give the section's river_id (a one-row sections GeoDataFrame)")
    return n["first"].to_numpy().astype(int)


def _where(network: nx.DiGraph, where: Any) -> tuple[int, float]:
    crs = network.graph["crs"]
    if isinstance(where, shapely.Point):
        pos, m = locate(network, np.array([where]))
        return int(pos[0]), float(m[0])
    if isinstance(where, gpd.GeoDataFrame) and len(where) == 1:
        w = where.to_crs(crs) if where.crs is not None and not where.crs.equals(crs) else where
        rid = w["river_id"].to_numpy() if "river_id" in w.columns else None
        label = w["section_id"].astype(str).to_numpy() if "section_id" in w.columns else None
        pos, m = locate(network, w.geometry.values, rid, label)
        return int(pos[0]), float(m[0])
    raise ConfigError("where must be a shapely Point or a one-row sections GeoDataFrame", field="where",
                      found=f"{type(where).__name__}" + (f" with {len(where)} rows" if hasattr(where, "__len__") else ""))


def upstream_pieces(network: nx.DiGraph, pos: int, m: float) -> pd.DataFrame:
    """Stretches (river, from_m, to_m) upstream of chainage ``m`` on river ``pos``."""
    cuts, st, snap = network.graph["cuts"], network.graph["stretches"], network.graph["snap_m"]
    node = int(_node_at(cuts, np.array([pos]), np.array([m]))[0])
    if abs(cuts["m"].iat[node] - m) <= snap:
        top, part = node, []
    else:  # inside a stretch: the part of it above m
        e = st[(st["river"] == pos) & (st["from_m"] < m) & (st["to_m"] > m)].iloc[0]
        top = int(e["source"])
        part = [(pos, e["from_m"], m) if e["downstream"] else (pos, m, e["to_m"])]
    above = nx.ancestors(network, top) | {top}
    sel = st[st["target"].isin(above)]
    rows = list(zip(sel["river"], sel["from_m"], sel["to_m"], strict=True)) + part
    return pd.DataFrame(rows, columns=["river", "from_m", "to_m"])


def pieces_frame(network: nx.DiGraph, pieces: pd.DataFrame) -> gpd.GeoDataFrame:
    """Merge touching pieces per river; add river_id, length_m and geometry."""
    tab = network.graph["rivers"]
    p = pieces.sort_values(["river", "from_m"]).reset_index(drop=True)
    new = (p["river"].diff() != 0) | (p["from_m"] > p["to_m"].shift() + 1e-9)
    grp = new.cumsum()
    p = p.groupby(grp).agg(river=("river", "first"), from_m=("from_m", "min"), to_m=("to_m", "max"))
    r = p["river"].to_numpy().astype(int)
    geom = core.substrings(tab.geometry.values, r, p["from_m"].to_numpy(), p["to_m"].to_numpy())
    return gpd.GeoDataFrame(
        {"river_id": tab["river_id"].to_numpy()[r], "from_m": p["from_m"].to_numpy(), "to_m": p["to_m"].to_numpy(),
         "length_m": (p["to_m"] - p["from_m"]).to_numpy()},
        geometry=geom, crs=network.graph["crs"],
    )


def upstream(network: nx.DiGraph, where: shapely.Point | gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """River stretches upstream of a point on a river, through every tributary.

    The point's own river from its head (both heads when its mouth is between
    them) down to the point, plus every river draining into those stretches,
    recursively. A tributary whose mouth is at the point (within ``snap_m``)
    is upstream: its water reaches the point.

    Parameters
    ----------
    network : networkx.DiGraph
        From :func:`river_network`.
    where : shapely.Point or geopandas.GeoDataFrame
        A point on a river (within ``snap_m``; at a confluence it is on the
        receiving river), or a one-row sections GeoDataFrame (its ``river_id``
        is used when present).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per contiguous upstream stretch of a river: ``river_id``,
        ``from_m`` < ``to_m`` (chainage in the digitised direction), ``length_m``,
        ``geometry``.

    Raises
    ------
    GeometryError
        The point is not on a river, or on two unrelated rivers.
    ConfigError
        ``where`` is neither a Point nor a one-row GeoDataFrame.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> r = gpd.GeoDataFrame({"river_id": ["A", "B"], "level": ["town", "village"],
    ...                       "flows_to": ["长江", None]},
    ...     geometry=[shapely.LineString([(0, 0), (100, 0)]), shapely.LineString([(50, 50), (50, 0)])],
    ...     crs=4549)
    >>> upstream(river_network(r), shapely.Point(80, 0))[["river_id", "from_m", "to_m"]].values.tolist()
    [['A', 0.0, 80.0], ['B', 0.0, 50.0]]
    """
    pos, m = _where(network, where)
    return pieces_frame(network, upstream_pieces(network, pos, m))
