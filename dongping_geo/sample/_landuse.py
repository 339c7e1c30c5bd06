"""Sample dataset, part 2: protected zones, demolitions and building surveys (local frame).

Planted facts are designed with margins: a clean building stays at least
``CLEAN_MARGIN_M`` outside every zone, every demolished site and every river
setback, so a check finds exactly the planted violations.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

import dongping_geo.sample._layout as L

# Setbacks (河道管理范围, from the centre line) the sample is designed against.
SETBACK_M = {"district": 30.0, "town": 15.0, "village": 10.0}
# Planted setback violations stand this far from the centre line (closer than any
# plausible setback, including dongping_geo/data/setbacks.yaml's 21/11/7 m).
VIOLATION_DIST_M = {"district": 12.0, "town": 6.0, "village": 3.0}
CLEAN_MARGIN_M = 5.0
# Farmland keeps this far from river centre lines.
FARM_INSET_M = {"district": 45.0, "town": 25.0, "village": 20.0}

KIND_COUNTS = {
    "concrete_plant": 19,
    "plastic_recycling": 8,
    "gravel_yard": 10,
    "greenhouse_housing": 30,
    "illegal_building": 42,
    "villa": 6,
    "shack": 25,
}
KIND_AREA = {  # m², uniform range before scaling the free kinds
    "concrete_plant": (5_500, 9_500),
    "plastic_recycling": (800, 2_500),
    "gravel_yard": (3_000, 6_000),
    "greenhouse_housing": (1_500, 3_500),
    "illegal_building": (300, 1_500),
    "villa": (400, 900),
    "shack": (80, 400),
}
TOTAL_DEMOLISHED_M2 = 350_000.0
STATUS_ZH = {"demolished": "已拆除", "reclaimed": "已复垦"}


@dataclass
class Zones:
    redlines: gpd.GeoDataFrame  # local frame
    farmland_blocks: list[shapely.Polygon]
    basic_idx: list[int]
    general_idx: list[int]
    river_zone: shapely.Geometry  # union of setbacks (local)
    keepout: shapely.Geometry  # everything a clean building must avoid (local), incl. margins
    extra: dict = field(default_factory=dict)


def river_buffers(rivers: gpd.GeoDataFrame, dist: dict[str, float]) -> shapely.Geometry:
    d = rivers["level"].map(dist).to_numpy(float)
    return shapely.union_all(shapely.buffer(rivers.geometry.to_numpy(), d, cap_style="flat"))


def make_zones(layout: L.Layout, rng: np.random.Generator) -> Zones:
    town, wetland, forest = layout.town_local, layout.wetland_local, layout.forest_local
    rivers = layout.rivers
    centre = layout.town_centre_local
    # Eco spaces (disjoint from the red line and from each other).
    ring = shapely.difference(forest.buffer(200.0, join_style="mitre"), forest)
    shelter = shapely.difference(
        shapely.intersection(L.lbox(100.0, 7_790.0, 19_900.0, 7_960.0), town), forest
    )
    corridor = L.lbox(6_800.0, 2_650.0, 7_000.0, 5_900.0)
    corridor = shapely.difference(corridor, ring.buffer(1.0))
    park = L.lbox(10_600.0, 3_780.0, 10_820.0, 3_960.0)
    zones = [
        ("ER-01", "东平国家森林公园", "eco_redline", forest),
        ("ER-02", "崇明北沿滩涂湿地", "eco_redline", wetland),
        ("ES1-01", "东平森林公园外围保护带", "eco_space_1", ring),
        ("ES2-01", "北沿海塘防护林带", "eco_space_2", shelter),
        ("ES3-01", "东风中心河生态廊道", "eco_space_3", corridor),
        ("ES4-01", "东平镇区中心绿地", "eco_space_4", park),
    ]
    # Farmland: town minus everything else, minus river insets; split into blocks.
    built = shapely.union_all(
        [centre.buffer(20.0), *[b.buffer(20.0) for b in layout.industrial_local],
         *[s.buffer(15.0) for s in layout.settlements_local]]
    )
    eco = shapely.union_all([forest, wetland, ring, shelter, corridor, park]).buffer(10.0)
    inset = river_buffers(rivers, FARM_INSET_M)
    farm = shapely.difference(town, shapely.union_all([built, eco, inset]))
    farm = shapely.difference(farm, L.lbox(-1e3, -1e3, 3e4, 60.0))  # off the south boundary
    blocks = [p for p in getattr(farm, "geoms", [farm]) if p.area > 20_000.0]
    blocks = [shapely.set_precision(b, 0.01) for b in blocks]
    blocks.sort(key=lambda p: (round(p.centroid.x, 1), round(p.centroid.y, 1)))
    n = len(blocks)
    general = sorted(int(i) for i in rng.choice(n, size=max(6, n // 12), replace=False))
    basic = [i for i in range(n) if i not in set(general)]
    for j, i in enumerate(basic, start=1):
        zones.append((f"JBNT-{j:03d}", f"永久基本农田保护图斑{j:03d}", "basic_farmland", blocks[i]))
    red = gpd.GeoDataFrame(
        [dict(zone_id=z, name=nm, category=c, geometry=g) for z, nm, c, g in zones], geometry="geometry"
    )
    river_zone = river_buffers(rivers, SETBACK_M)
    zone_union = shapely.union_all(red.geometry.to_numpy())
    keepout = shapely.union_all([zone_union, river_zone]).buffer(CLEAN_MARGIN_M)
    return Zones(red, blocks, basic, general, river_zone, keepout)


# --- demolitions ----------------------------------------------------------------------------


def _rect(cu: float, cv: float, area: float, aspect: float, angle_deg: float) -> shapely.Polygon:
    w = np.sqrt(area * aspect)
    h = area / w
    p = shapely.box(cu - w / 2, cv - h / 2, cu + w / 2, cv + h / 2)
    return shapely.affinity.rotate(p, angle_deg, origin=(cu, cv))


def _place(region: shapely.Geometry, area: float, rng: np.random.Generator, taken: list,
           tree_geoms: list, margin: float, tries: int = 400) -> shapely.Polygon | None:
    minx, miny, maxx, maxy = region.bounds
    prepared = shapely.prepare(region) or region
    for _ in range(tries):
        cu, cv = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        poly = _rect(cu, cv, area, float(rng.uniform(0.5, 2.0)), float(rng.uniform(-8, 8)))
        if not region.contains(poly):
            continue
        grown = poly.buffer(margin)
        if any(grown.intersects(t) for t in taken):
            continue
        return poly
    del prepared, tree_geoms
    return None


def make_demolitions(layout: L.Layout, zones: Zones, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """137+ cases 2017-2021 summing to exactly 350,000 m²."""
    kinds = [k for k, n in KIND_COUNTS.items() for _ in range(n)]
    areas = np.array([rng.uniform(*KIND_AREA[k]) for k in kinds])
    fixed = np.array([k in ("concrete_plant", "plastic_recycling", "gravel_yard") for k in kinds])
    # Scale the other kinds so the total is the report's 350,000 m².
    free_target = TOTAL_DEMOLISHED_M2 - areas[fixed].sum()
    areas[~fixed] *= free_target / areas[~fixed].sum()
    areas = np.round(areas, 1)
    areas[-1] = round(TOTAL_DEMOLISHED_M2 - areas[:-1].sum(), 1)
    basic_u = shapely.union_all([zones.farmland_blocks[i] for i in zones.basic_idx])
    general_u = shapely.union_all([zones.farmland_blocks[i] for i in zones.general_idx])
    # Sites stay 5 m inside their farmland block; concrete plants, gravel yards and
    # plastic workshops were on general farmland near the belt and rivers, greenhouse
    # housing on basic farmland; the rest anywhere on farmland.
    where = {
        "concrete_plant": general_u.buffer(-5.0),
        "gravel_yard": general_u.buffer(-5.0),
        "plastic_recycling": general_u.buffer(-5.0),
        "greenhouse_housing": basic_u.buffer(-5.0),
    }
    anywhere = shapely.union_all([basic_u, general_u]).buffer(-5.0)
    taken: list[shapely.Polygon] = []
    rows = []
    years = np.repeat(np.arange(2017, 2022), int(np.ceil(len(kinds) / 5)))[: len(kinds)]
    years = rng.permutation(years)
    order = np.argsort(-areas, kind="stable")  # big ones first: they are hardest to fit
    geoms: dict[int, shapely.Polygon] = {}
    for i in order:
        region = where.get(kinds[i], anywhere)
        poly = _place(region, float(areas[i]), rng, taken, [], margin=25.0)
        if poly is None:
            raise RuntimeError(f"could not place demolition {i} ({kinds[i]}, {areas[i]} m²)")
        taken.append(poly)
        geoms[int(i)] = poly
    counters: dict[int, int] = {}
    for i in sorted(range(len(kinds)), key=lambda j: (int(years[j]), kinds[j], j)):
        y = int(years[i])
        counters[y] = counters.get(y, 0) + 1
        month, day = int(rng.integers(1, 13)), int(rng.integers(1, 29))
        g = geoms[i]
        reg = L.region_of_u(g.centroid.x)
        status = "reclaimed" if (y <= 2019 or kinds[i] == "greenhouse_housing") else "demolished"
        rows.append(dict(case_id=f"DPCW{y}-{counters[y]:03d}", kind=kinds[i],
                         demolished_on=pd.Timestamp(y, month, day), area_m2=float(areas[i]),
                         region=reg, status=status, geometry=g))
    return gpd.GeoDataFrame(rows, geometry="geometry")


# --- buildings ---------------------------------------------------------------------------------


def _row_houses(settlement: shapely.Polygon, rng: np.random.Generator) -> list[shapely.Polygon]:
    u0, v0, u1, v1 = settlement.bounds
    out = []
    u = u0 + 5.0
    while True:
        w = float(rng.integers(11, 17))
        if u + w > u1 - 5.0:
            break
        h = float(rng.integers(9, 13))
        dv = float(rng.uniform(8.0, v1 - v0 - h - 8.0))
        out.append(L.lbox(u, v0 + dv, u + w, v0 + dv + h))
        u += w + float(rng.integers(8, 25))
    return out


def _grid_buildings(area: shapely.Polygon, rng: np.random.Generator, size: tuple[int, int],
                    gap: float, fill: float) -> list[shapely.Polygon]:
    u0, v0, u1, v1 = area.bounds
    out = []
    v = v0 + gap
    while v < v1 - gap:
        u = u0 + gap
        h = float(rng.integers(*size))
        while u < u1 - gap:
            w = float(rng.integers(*size))
            b = L.lbox(u, v, u + w, v + h)
            if rng.random() < fill and area.contains(b.buffer(gap / 2)):
                out.append(b)
            u += w + gap
        v += h + gap
    return out


@dataclass
class Surveys:
    b2020: gpd.GeoDataFrame
    b2022: gpd.GeoDataFrame
    planted: dict[str, list[str]]
    removed_ids: list[str]
    new_legal_ids: list[str]
    demolished_2021_ids: dict[str, str]


def _existing(layout: L.Layout, zones: Zones, keepout: shapely.Geometry, rng: np.random.Generator
              ) -> tuple[np.ndarray, list[str]]:
    """Houses, factories and town-centre buildings clear of every zone (before 2022's new ones)."""
    park = zones.redlines.loc[zones.redlines["category"] == "eco_space_4", "geometry"].iloc[0]
    houses: list[shapely.Polygon] = []
    kinds: list[str] = []
    for s in layout.settlements_local:
        hs = _row_houses(s, rng)
        houses += hs
        kinds += ["residential"] * len(hs)
    for blk in layout.industrial_local:
        fs = _grid_buildings(blk, rng, (30, 80), 25.0, 0.75)
        houses += fs
        kinds += ["industrial"] * len(fs)
    centre = shapely.difference(layout.town_centre_local, park.buffer(12.0))
    cs = _grid_buildings(centre, rng, (15, 40), 12.0, 0.85)
    houses += cs
    kinds += ["public_commercial"] * len(cs)
    geoms = np.array(houses, dtype=object)
    clean = ~shapely.intersects(geoms, keepout)
    return geoms[clean], [k for k, c in zip(kinds, clean, strict=True) if c]


def _new_legal(kinds: list[str], rng: np.random.Generator) -> np.ndarray:
    """Which buildings are new in 2022 (on free industrial and town-centre land)."""
    is_new = np.zeros(len(kinds), bool)
    ind = np.flatnonzero(np.array(kinds) == "industrial")
    is_new[rng.choice(ind, size=18, replace=False)] = True
    cen = np.flatnonzero(np.array(kinds) == "public_commercial")
    is_new[rng.choice(cen, size=10, replace=False)] = True
    return is_new


def _pick_inside(region: shapely.Geometry, others: shapely.Geometry, n: int, inset: float,
                 rng: np.random.Generator, size: tuple[float, float] = (14.0, 11.0)) -> list:
    """``n`` rectangles well inside ``region``, clear of ``others`` and 200 m apart."""
    inner = shapely.difference(region.buffer(-inset), others)
    out: list[shapely.Polygon] = []
    minx, miny, maxx, maxy = inner.bounds
    while len(out) < n:
        cu, cv = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        b = L.lbox(cu, cv, cu + size[0], cv + size[1])
        if inner.contains(b) and not any(b.buffer(200.0).intersects(o) for o in out):
            out.append(b)
    return out


def _setback_house(line: shapely.LineString, level: str, rng: np.random.Generator) -> shapely.Polygon:
    """A 12 m x 9 m house whose river-side wall stands VIOLATION_DIST_M from the centre line."""
    at = float(rng.uniform(0.3, 0.7)) * line.length
    p = np.array(line.interpolate(at).coords[0])
    t = np.array(line.interpolate(at + 1.0).coords[0]) - p
    t /= np.hypot(*t)
    nv = np.array([-t[1], t[0]])  # left of the flow direction
    d = VIOLATION_DIST_M[level]
    return shapely.Polygon([p + nv * d, p + nv * d + t * 12.0, p + nv * (d + 9.0) + t * 12.0,
                            p + nv * (d + 9.0)])


def _plant_setbacks(layout: L.Layout, zones: Zones, demolitions: gpd.GeoDataFrame,
                    rng: np.random.Generator) -> list[dict]:
    """Houses on the banks of rivers outside every zone (in the strip farmland keeps clear of)."""
    zone_union = shapely.union_all(zones.redlines.geometry.to_numpy()).buffer(CLEAN_MARGIN_M + 1.0)
    demol_zone = shapely.union_all(demolitions.geometry.to_numpy()).buffer(20.0)
    rv = layout.rivers
    out: list[dict] = []
    for level, n in (("village", 3), ("town", 1), ("district", 1)):
        cand = rv[rv["level"] == level]
        got = 0
        for idx in rng.permutation(len(cand)):
            b = _setback_house(cand.geometry.iloc[int(idx)], level, rng)
            if b.intersects(zone_union) or b.intersects(demol_zone):
                continue
            # Only this river's setback, not another river's.
            near = shapely.distance(rv.drop(index=cand.index[int(idx)]).geometry.to_numpy(), b)
            if np.any(near < 60.0) or any(b.buffer(100).intersects(x["geometry"]) for x in out):
                continue
            out.append(dict(geometry=b, use="residential", river_id=cand["river_id"].iloc[int(idx)]))
            got += 1
            if got == n:
                break
    return out


def _plant(layout: L.Layout, zones: Zones, demolitions: gpd.GeoDataFrame, rng: np.random.Generator
           ) -> dict[str, list[dict]]:
    """The planted 2022 violations by check."""
    red = zones.redlines
    forest = red.loc[red["zone_id"] == "ER-01", "geometry"].iloc[0]
    wet = red.loc[red["zone_id"] == "ER-02", "geometry"].iloc[0]
    demol_u = shapely.union_all(demolitions.geometry.to_numpy())
    others = shapely.union_all([zones.river_zone, demol_u]).buffer(20.0)
    eco = _pick_inside(forest, others, 2, 40.0, rng) + _pick_inside(wet, others, 1, 60.0, rng)
    basic_u = shapely.union_all([zones.farmland_blocks[i] for i in zones.basic_idx])
    farm = _pick_inside(basic_u, others, 5, 30.0, rng, size=(16.0, 12.0))
    planted: dict[str, list[dict]] = {
        "eco_redline": [dict(geometry=b, use="residential") for b in eco],
        "basic_farmland": [dict(geometry=b, use="residential") for b in farm],
        "river_setback": _plant_setbacks(layout, zones, demolitions, rng),
        "demolished_site": [],
    }
    # Rebuilt on demolished sites outside basic farmland (general farmland, old plants).
    gen = demolitions[demolitions["kind"].isin(["concrete_plant", "gravel_yard"])]
    for j in rng.choice(len(gen), size=3, replace=False):
        c = gen.geometry.iloc[int(j)].centroid
        planted["demolished_site"].append(dict(geometry=L.lbox(c.x - 10.0, c.y - 7.0, c.x + 10.0, c.y + 7.0),
                                               use="industrial", case_id=gen["case_id"].iloc[int(j)]))
    return planted


def _by_position(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda r: (round(r["geometry"].centroid.x, 2), round(r["geometry"].centroid.y, 2)))


def _surveys(base: list[dict], gone: list[dict], new_legal: list[dict], planted: dict[str, list[dict]]
             ) -> Surveys:
    """Give ids (2020 buildings keep theirs in 2022) and build the two surveys."""
    survey20, survey22 = pd.Timestamp("2020-10-15"), pd.Timestamp("2022-10-20")
    rows20, rows22, gone_ids = [], [], {}
    for i, r in enumerate(_by_position(base + gone), start=1):
        bid = f"DP20-{i:05d}"
        rows20.append(dict(building_id=bid, surveyed_on=survey20, use=r["use"], geometry=r["geometry"]))
        if "case_id" in r:
            gone_ids[bid] = r["case_id"]
        else:
            rows22.append(dict(building_id=bid, surveyed_on=survey22, use=r["use"], geometry=r["geometry"]))
    n = 0
    new_ids, planted_ids = [], {}
    for check, items in [("", _by_position(new_legal)), *planted.items()]:
        ids = []
        for r in items:
            n += 1
            ids.append(f"DP22-{n:05d}")
            rows22.append(dict(building_id=ids[-1], surveyed_on=survey22, use=r["use"], geometry=r["geometry"]))
        if check:
            planted_ids[check] = ids
        else:
            new_ids = ids
    b20 = gpd.GeoDataFrame(rows20, geometry="geometry")
    b22 = gpd.GeoDataFrame(rows22, geometry="geometry")
    return Surveys(b20, b22, planted_ids, sorted(gone_ids), new_ids, gone_ids)


def make_buildings(layout: L.Layout, zones: Zones, demolitions: gpd.GeoDataFrame,
                   rng: np.random.Generator) -> Surveys:
    """The 2020 and 2022 building surveys with the planted 2022 violations."""
    keepout = shapely.union_all([zones.keepout,
                                 shapely.union_all(demolitions.geometry.to_numpy()).buffer(CLEAN_MARGIN_M)])
    shapely.prepare(keepout)
    geoms, kinds = _existing(layout, zones, keepout, rng)
    is_new = _new_legal(kinds, rng)
    base = [dict(geometry=g, use=k) for g, k, n in zip(geoms, kinds, is_new, strict=True) if not n]
    new_legal = [dict(geometry=g, use=k) for g, k, n in zip(geoms, kinds, is_new, strict=True) if n]
    # 2020 also holds illegal structures demolished in 2021.
    d21 = demolitions[(demolitions["demolished_on"].dt.year == 2021)
                      & demolitions["kind"].isin(["illegal_building", "shack", "villa", "greenhouse_housing"])]
    gone = [dict(geometry=g.buffer(-2.0, join_style="mitre"), use="illegal", case_id=cid)
            for cid, g in zip(d21["case_id"], d21.geometry, strict=True)]
    return _surveys(base, gone, new_legal, _plant(layout, zones, demolitions, rng))
