"""River network: hand-made networks with known answers."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from dongping_geo.errors import ConfigError, GeometryError, SchemaError
from dongping_geo.network import river_network, upstream

L = shapely.LineString


def rivers(rows, crs=4549):
    """rows: (river_id, level, flows_to or None, coords)."""
    return gpd.GeoDataFrame(
        {"river_id": [r[0] for r in rows], "level": [r[1] for r in rows], "flows_to": [r[2] for r in rows]},
        geometry=[L(r[3]) for r in rows], crs=crs,
    )


def up(g, where):
    """Upstream as {river_id: (from_m, to_m)} (one interval per river in these networks)."""
    u = upstream(g, where)
    assert u["river_id"].is_unique
    assert u["length_m"].to_numpy() == pytest.approx((u["to_m"] - u["from_m"]).to_numpy())
    assert shapely.length(u.geometry.values) == pytest.approx(u["length_m"].to_numpy())
    return {r: (round(a, 6), round(b, 6)) for r, a, b in zip(u["river_id"], u["from_m"], u["to_m"], strict=True)}


# A town river A flowing east to the Yangtze; village tributaries T1 at x=100, T2 at x=200.
COMB = [
    ("A", "town", "长江", [(0, 0), (300, 0)]),
    ("T1", "village", None, [(100, 80), (100, 0)]),
    ("T2", "village", None, [(200, -50), (200, 0)]),
]


def test_y_junction():
    # B and C meet A's head in one point; A leaves the town at its last vertex.
    g = river_network(rivers([
        ("A", "town", "长江", [(0, 0), (200, 0)]),
        ("B", "village", None, [(-60, 80), (0, 0)]),
        ("C", "village", None, [(-60, -80), (0, 0)]),
    ]))
    assert up(g, shapely.Point(120, 0)) == {"A": (0, 120), "B": (0, 100), "C": (0, 100)}
    t = g.graph["rivers"].set_index("river_id")
    assert t.loc[["B", "C"], "downstream"].tolist() == ["A", "A"]
    assert t.loc[["B", "C"], "mouth_m"].tolist() == [100, 100]
    assert t.at["A", "mouth_rule"] == "outlet" and t.at["A", "mouth_m"] == 200
    assert nx.is_directed_acyclic_graph(g)


def test_section_between_two_tributaries():
    g = river_network(rivers(COMB))
    assert up(g, shapely.Point(150, 0.4)) == {"A": (0, 150), "T1": (0, 80)}
    assert up(g, shapely.Point(250, 0)) == {"A": (0, 250), "T1": (0, 80), "T2": (0, 50)}
    # Above both tributaries: the head of A only.
    assert up(g, shapely.Point(50, 0)) == {"A": (0, 50)}


def test_tributary_joining_exactly_at_the_section_counts():
    g = river_network(rivers(COMB))
    assert up(g, shapely.Point(100, 0)) == {"A": (0, 100), "T1": (0, 80)}
    # within snap_m (1 m) of the junction: the same
    assert up(g, shapely.Point(100.6, 0)) == {"A": (0, 100), "T1": (0, 80)}
    # 2 m below it: a partial stretch of A
    assert up(g, shapely.Point(98, 0)) == {"A": (0, 98)}


def test_point_on_a_confluence_is_on_the_receiving_river():
    g = river_network(rivers(COMB))
    # (100, 0) lies on T1's mouth and on A: it is placed on A.
    u = upstream(g, shapely.Point(100, 0))
    assert set(u["river_id"]) == {"A", "T1"}


def test_one_row_sections_frame_uses_its_river_id():
    g = river_network(rivers(COMB))
    sec = gpd.GeoDataFrame({"section_id": ["S1"], "river_id": ["T1"]}, geometry=[shapely.Point(100, 40)], crs=4549)
    assert up(g, sec) == {"T1": (0, 40)}


def test_cycle_is_reported():
    rows = [("A", "town", "B", [(0, 0), (100, 0)]), ("B", "town", "A", [(100, 0), (100, 100)])]
    with pytest.raises(SchemaError, match="cycle") as e:
        river_network(rivers(rows))
    assert "A" in str(e.value) and "B" in str(e.value)
    g = river_network(rivers(rows), on_problem="report")
    p = g.graph["problems"]
    assert sorted(p.loc[p["problem"] == "cycle", "river_id"]) == ["A", "B"]
    assert nx.is_directed_acyclic_graph(g)
    assert set(g.graph["rivers"]["mouth_rule"]) == {"unresolved"}


def test_disconnected_river_is_reported():
    rows = COMB + [("X", "village", None, [(1000, 1000), (1100, 1000)])]
    with pytest.raises(SchemaError, match="disconnected"):
        river_network(rivers(rows))
    p = river_network(rivers(rows), on_problem="report").graph["problems"]
    assert p[["river_id", "problem"]].values.tolist() == [["X", "disconnected"]]


def test_two_possible_mouths_reported_then_resolved_by_flows_to():
    rows = [
        ("W", "town", "长江", [(0, 0), (0, 500)]),
        ("E", "town", "长江", [(300, 0), (300, 500)]),
        ("V", "village", None, [(0, 200), (300, 200)]),  # ends on two town rivers
    ]
    with pytest.raises(SchemaError, match="two_mouths") as e:
        river_network(rivers(rows))
    assert "V" in str(e.value) and "flows_to" in str(e.value)
    rows[2] = ("V", "village", "E", rows[2][3])
    g = river_network(rivers(rows))
    t = g.graph["rivers"].set_index("river_id")
    assert t.at["V", "downstream"] == "E" and t.at["V", "mouth_m"] == 300
    assert up(g, shapely.Point(300, 400)) == {"E": (0, 400), "V": (0, 300)}
    assert up(g, shapely.Point(0, 400)) == {"W": (0, 400)}


def test_level_rule_prefers_the_next_level_up():
    rows = [
        ("D", "district", "长江", [(0, 0), (0, 500)]),
        ("T", "town", "长江", [(300, 0), (300, 500)]),
        ("V", "village", None, [(0, 200), (300, 200)]),  # meets D and T: drains into T
    ]
    t = river_network(rivers(rows)).graph["rivers"].set_index("river_id")
    assert (t.at["V", "downstream"], t.at["V", "mouth_rule"], t.at["V", "mouth_m"]) == ("T", "level", 300)


def test_river_crossing_its_receiving_river_drains_from_both_ends():
    rows = [
        ("D", "district", "长江", [(100, -300), (100, 300)]),
        ("E", "town", "D", [(0, 0), (400, 0)]),  # crosses D at x=100
    ]
    g = river_network(rivers(rows))
    assert up(g, shapely.Point(100, 200)) == {"D": (0, 500), "E": (0, 400)}
    assert up(g, shapely.Point(300, 0)) == {"E": (300, 400)}  # flows west to the crossing
    assert up(g, shapely.Point(100, -100)) == {"D": (0, 200)}


def test_outlet_mouth_at_the_boundary_end():
    town = shapely.box(0, -100, 500, 100)
    rows = [("A", "district", None, [(500, 0), (10, 0)])]  # digitised from the boundary inwards
    t = river_network(rivers(rows), boundary=town).graph["rivers"].iloc[0]
    assert t["mouth_m"] == 0 and t["outlet_distance_m"] == 0
    assert river_network(rivers(rows)).graph["rivers"]["mouth_m"].iat[0] == 490  # last vertex
    g = river_network(rivers(rows), boundary=town)
    assert up(g, shapely.Point(100, 0)) == {"A": (400, 490)}
    # Neither end on the boundary: the last vertex, with its distance kept.
    t = river_network(rivers([("A", "district", None, [(10, 0), (480, 0)])]), boundary=town).graph["rivers"].iloc[0]
    assert (t["mouth_m"], t["outlet_distance_m"]) == (470, 20)
    # Both ends on it: two possible mouths.
    with pytest.raises(SchemaError, match="two_mouths"):
        river_network(rivers([("A", "district", "长江", [(0, 0), (500, 0)])]), boundary=town)


def test_flows_to_a_river_it_does_not_meet():
    rows = COMB + [("F", "village", "A", [(0, 50), (50, 50)])]
    with pytest.raises(SchemaError, match="flows_to_not_met"):
        river_network(rivers(rows))


def test_bad_input():
    with pytest.raises(GeometryError, match="not on its river|on no river"):
        upstream(river_network(rivers(COMB)), shapely.Point(150, 30))
    with pytest.raises(ConfigError):
        upstream(river_network(rivers(COMB)), "A")
    with pytest.raises(SchemaError, match="level"):
        river_network(rivers([("A", "county", None, [(0, 0), (1, 0)])]))
    with pytest.raises(SchemaError, match="duplicate"):
        river_network(rivers([COMB[0], COMB[0]]))
    with pytest.raises(GeometryError, match="one connected line"):
        r = rivers(COMB)
        r.loc[0, "geometry"] = shapely.MultiLineString([[(0, 0), (1, 0)], [(5, 0), (6, 0)]])
        river_network(r)


@settings(max_examples=25, deadline=None)
@given(
    joins=st.lists(st.integers(5, 995), min_size=1, max_size=8, unique=True),
    lengths=st.lists(st.integers(10, 300), min_size=8, max_size=8),
    x=st.integers(2, 998),
)
def test_comb_upstream_length(joins, lengths, x):
    # Main river 0..1000 m with tributaries ending on it; the upstream length of a
    # point at x is x plus every tributary joining at or above x (within snap_m;
    # x stays more than snap_m from M's ends).
    rows = [("M", "town", "长江", [(0, 0), (1000, 0)])]
    for k, j in enumerate(joins):
        side = 1 if k % 2 else -1
        rows.append((f"T{k}", "village", None, [(j, side * lengths[k]), (j, 0)]))
    g = river_network(rivers(rows))
    total = upstream(g, shapely.Point(x, 0))["length_m"].sum()
    snapped = x if min(abs(x - j) for j in joins) > 1 else min(joins, key=lambda j: abs(x - j))
    expected = snapped + sum(lengths[k] for k, j in enumerate(joins) if j <= snapped)
    assert total == pytest.approx(expected, abs=1e-6)


def test_flows_to_field_reads_its_chinese_alias():
    import pandas as pd

    from dongping_geo.schemas import get_schema, rename_aliases

    df = rename_aliases(pd.DataFrame({"河道编码": ["R1"], "下游河道": ["长江"]}), get_schema("rivers"))
    assert df.columns.tolist() == ["river_id", "flows_to"]
    assert not get_schema("rivers").field("flows_to").required


def test_unknown_on_problem():
    with pytest.raises(ConfigError, match="on_problem"):
        river_network(rivers(COMB), on_problem="ignore")
