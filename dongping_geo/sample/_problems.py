"""Sample problems found on patrol (巡河问题) and river-chief signboards (河长公示牌).

A year (2022) of problems along the sample rivers, reported by each river's chief,
almost all handled within days; planted among them: overdue problems (still open
long after they were reported, some never assigned), recent open ones (not yet
overdue), and re-check failures (a problem reported again near a resolved one of the
same kind). One signboard per river, with planted faults: rivers without a board,
boards that still name the previous chief, boards far from their river and one board
naming a river that does not exist. :func:`make_problems` returns the layers and the
manifest section listing every planted case by id; nothing else in the data meets a
rule (background problems of one kind are kept more than ``_CLEAR_M`` apart).
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..schemas import LOCAL_TZ, get_schema

YEAR = 2022
AS_OF = pd.Timestamp(f"{YEAR}-12-31 23:59:59", tz=LOCAL_TZ)
N_BACKGROUND = 420
_SLOT_M = 80.0  # background problems sit at distinct 80 m slots along the rivers
_CLEAR_M = 75.0  # no two problems of one kind nearer than this, but for the planted pairs
OVERDUE_DAYS = 7
PHOTO_BASE = "https://photos.example.org/dongping/"

#: Kinds and how often river-chief apps report them (shares, invented but plausible).
KIND_SHARES = {
    "floating_debris": 0.34, "dumping": 0.20, "bank_damage": 0.10, "encroachment": 0.08,
    "outfall": 0.07, "water_anomaly": 0.08, "signboard_damage": 0.04, "other": 0.09,
}
_DESCRIPTIONS = {
    "floating_debris": ("河面有漂浮垃圾", "水葫芦堆积", "塑料袋漂浮"),
    "dumping": ("河岸堆放建筑垃圾", "岸边乱倒生活垃圾", "河坡堆放杂物"),
    "bank_damage": ("护岸局部坍塌", "护坡石块松动", "岸坡冲刷"),
    "encroachment": ("河边违章搭建棚屋", "占用河道种植", "临河搭建围栏"),
    "outfall": ("发现疑似偷排口", "雨水口晴天排水", "污水直排"),
    "water_anomaly": ("水体发黑有异味", "水面有油膜", "水色发绿"),
    "signboard_damage": ("公示牌倾倒", "公示牌字迹褪色", "公示牌被遮挡"),
    "other": ("河道内有废弃船只", "闸门漏水", "岸边杂草过高"),
}


def _kinds(rng: np.random.Generator, n: int) -> np.ndarray:
    names = list(KIND_SHARES)
    p = np.array([KIND_SHARES[k] for k in names])
    return np.array(names, dtype=object)[rng.choice(len(names), size=n, p=p / p.sum())]


def _slots(rivers: gpd.GeoDataFrame, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` distinct (river row, chainage) slots, weighted by river length, away from the ends."""
    length = rivers.geometry.length.to_numpy()
    per = np.maximum(0, np.floor((length - 2 * _SLOT_M) / _SLOT_M)).astype(int)
    river = np.repeat(np.arange(len(rivers)), per)
    chain = _SLOT_M * (1 + np.concatenate([np.arange(k) for k in per]))
    pick = rng.choice(len(river), size=n, replace=False)
    return river[pick], chain[pick]


def _beside(lines: np.ndarray, chain: np.ndarray, rng: np.random.Generator,
            off_m: tuple[float, float] = (3.0, 12.0)) -> np.ndarray:
    """Points ``off_m`` (3–12 m: a phone on the bank) to either side of the lines at the chainages."""
    on = shapely.line_interpolate_point(lines, chain)
    ahead = shapely.line_interpolate_point(lines, chain + 1.0)
    a, b = shapely.get_coordinates(on), shapely.get_coordinates(ahead)
    d = b - a
    d /= np.maximum(np.hypot(d[:, 0], d[:, 1]), 1e-9)[:, None]
    off = rng.uniform(*off_m, len(a)) * rng.choice([-1.0, 1.0], len(a))
    return shapely.points(a[:, 0] - d[:, 1] * off, a[:, 1] + d[:, 0] * off)


def _day_times(rng: np.random.Generator, days: np.ndarray) -> pd.DatetimeIndex:
    """Local times on the given day numbers of the year, between 08:00 and 17:00, to the minute."""
    minutes = rng.integers(8 * 60, 17 * 60, len(days))
    base = pd.Timestamp(f"{YEAR}-01-01", tz=LOCAL_TZ)
    return pd.DatetimeIndex(base + pd.to_timedelta(days, "D") + pd.to_timedelta(minutes, "min"))


def _background(rivers: gpd.GeoDataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Ordinary problems: reported over the year, resolved in days, closed when old enough."""
    n = N_BACKGROUND
    row, chain = _slots(rivers, rng, n)
    day = rng.integers(0, 349, n)  # up to 15 December
    reported = _day_times(rng, day)
    took_days = np.clip(rng.lognormal(np.log(2.5), 0.6, n), 0.2, 6.5)
    late = (rng.random(n) < 0.06) & (day < 330)  # a few handled late, still within the year
    took_days[late] = rng.uniform(8.0, 25.0, int(late.sum()))
    resolved = reported + pd.to_timedelta(np.round(took_days * 24 * 60), "min")
    status = np.where(resolved < AS_OF - pd.Timedelta(days=30), "closed", "resolved")
    return pd.DataFrame({"row": row, "chain": chain, "kind": _kinds(rng, n), "reported_at": reported,
                         "resolved_at": resolved, "status": status,
                         "case": np.where(late, "resolved_late", "background")})


def _planted(rivers: gpd.GeoDataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Overdue (assigned / never assigned), recent open, and recurring pairs (A resolved, B again)."""
    parts = []
    spec = (("overdue_assigned", 8, "assigned", (260, 348)), ("overdue_unassigned", 5, "reported", (300, 348)),
            ("recent_assigned", 3, "assigned", (360, 364)), ("recent_unassigned", 3, "reported", (360, 364)))
    for case, n, status, (d0, d1) in spec:
        parts.append(pd.DataFrame({"kind": _kinds(rng, n), "reported_at": _day_times(rng, rng.integers(d0, d1, n)),
                                   "resolved_at": pd.NaT, "status": status, "case": case}))
    n_pairs = 10
    first = _day_times(rng, rng.integers(20, 240, n_pairs))
    fixed = first + pd.to_timedelta(rng.integers(1, 5, n_pairs), "D")
    again = fixed + pd.to_timedelta(rng.integers(10, 60, n_pairs), "D") + pd.to_timedelta(rng.integers(0, 600, n_pairs), "min")
    kinds = rng.choice(["dumping", "floating_debris", "encroachment", "outfall"], n_pairs)
    parts.append(pd.DataFrame({"kind": kinds, "reported_at": first, "resolved_at": fixed,
                               "status": "closed", "case": "recurred_earlier", "pair": np.arange(n_pairs)}))
    parts.append(pd.DataFrame({"kind": kinds, "reported_at": again,
                               "resolved_at": again + pd.to_timedelta(rng.integers(1, 4, n_pairs), "D"),
                               "status": "resolved", "case": "recurring", "pair": np.arange(n_pairs)}))
    out = pd.concat(parts, ignore_index=True)
    out["resolved_at"] = pd.to_datetime(out["resolved_at"]).dt.tz_convert(LOCAL_TZ)
    return out


def _place(problems: pd.DataFrame, rivers: gpd.GeoDataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Give every problem a point: a slot of its own, the second of a recurring pair 5–25 m on."""
    single = problems["case"] != "recurring"
    row, chain = _slots(rivers, rng, int(single.sum()))
    problems.loc[single, "row"], problems.loc[single, "chain"] = row, chain
    a = problems[problems["case"] == "recurred_earlier"].set_index("pair")
    b_idx = problems.index[problems["case"] == "recurring"]
    b_pair = problems.loc[b_idx, "pair"].to_numpy()
    problems.loc[b_idx, "row"] = a.loc[b_pair, "row"].to_numpy()
    step = rng.uniform(5, 25, len(b_idx)) * rng.choice([-1.0, 1.0], len(b_idx))
    problems.loc[b_idx, "chain"] = a.loc[b_pair, "chain"].to_numpy() + step
    problems["row"] = problems["row"].astype(int)
    lines = rivers.geometry.to_numpy()[problems["row"].to_numpy()]
    problems["geometry"] = _beside(lines, problems["chain"].to_numpy(), rng)
    return _clear(problems)


def _clear(problems: pd.DataFrame) -> pd.DataFrame:
    """Drop problems that would make an unplanned recurrence: same kind nearer than ``_CLEAR_M``.

    Plain pairwise distances (a few hundred points), independent of the package's analysis.
    A background problem is dropped before a planted one; of two planted, the later row.
    """
    xy = shapely.get_coordinates(problems["geometry"].to_numpy())
    d = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    kind = problems["kind"].to_numpy()
    pair = problems["pair"].to_numpy() if "pair" in problems else np.full(len(problems), np.nan)
    same_pair = (pair[:, None] == pair[None, :]) & ~np.isnan(pair[:, None])
    clash = np.triu((d < _CLEAR_M) & (kind[:, None] == kind[None, :]) & ~same_pair, k=1)
    i, j = np.nonzero(clash)
    bg = problems["case"].isin(["background", "resolved_late"]).to_numpy()
    victims = set(np.where(bg[i], i, j).tolist())
    dropped_pairs = set(pair[list(victims)][~np.isnan(pair[list(victims)])].tolist()) if victims else set()
    keep = ~np.isin(np.arange(len(problems)), list(victims)) & ~np.isin(pair, list(dropped_pairs))
    return problems[keep].reset_index(drop=True)


def _attributes(problems: pd.DataFrame, rivers: gpd.GeoDataFrame, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Ids in reported order, river, reporter (the river's chief), description, photo."""
    p = problems.sort_values(["reported_at", "case"], kind="stable").reset_index(drop=True)
    n = len(p)
    p["problem_id"] = [f"P{YEAR}{i + 1:04d}" for i in range(n)]
    p["river_id"] = rivers["river_id"].to_numpy()[p["row"].to_numpy()]
    p["reporter"] = rivers["chief"].to_numpy()[p["row"].to_numpy()]
    pick = rng.integers(0, 3, n)
    p["description"] = [_DESCRIPTIONS[k][i] for k, i in zip(p["kind"], pick, strict=True)]
    how = rng.choice(["url", "file", "none"], n, p=[0.7, 0.2, 0.1])
    stamp = p["reported_at"].dt.strftime("%Y%m%d_%H%M").to_numpy()
    p["photo"] = np.where(how == "url", PHOTO_BASE + p["problem_id"] + ".jpg",
                          np.where(how == "file", "IMG_" + stamp + ".jpg", ""))
    cols = ["problem_id", "river_id", "reported_at", "kind", "reporter", "status", "resolved_at",
            "description", "photo", "case", "pair"]
    return gpd.GeoDataFrame(p[cols], geometry=p["geometry"].to_numpy(), crs=rivers.crs)


def make_problems(rivers: gpd.GeoDataFrame, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """A year of problems on the rivers (EPSG:4549), with ``case``/``pair`` columns naming planted ones.

    Parameters
    ----------
    rivers : GeoDataFrame
        The sample rivers in EPSG:4549 with river_id and chief.
    rng : numpy.random.Generator
        Random source.

    Returns
    -------
    GeoDataFrame
        Canonical fields of the problems layer plus ``case`` and ``pair``.
    """
    problems = pd.concat([_background(rivers, rng), _planted(rivers, rng)], ignore_index=True)
    return _attributes(_place(problems, rivers, rng), rivers, rng)


def make_signboards(rivers: gpd.GeoDataFrame, rng: np.random.Generator) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """One board per river near its head, with planted faults; returns the boards and their manifest.

    Parameters
    ----------
    rivers : GeoDataFrame
        The sample rivers in EPSG:4549 with river_id and chief.
    rng : numpy.random.Generator
        Random source.

    Returns
    -------
    GeoDataFrame, dict
        The boards (canonical fields) and the planted faults.
    """
    from ._layout import GIVEN, SURNAMES

    n = len(rivers)
    faulty = rng.choice(n, size=10, replace=False)
    missing, stale, far = faulty[:4], faulty[4:7], faulty[7:]
    has = np.setdiff1d(np.arange(n), missing)
    lines = rivers.geometry.to_numpy()[has]
    chain = np.minimum(60.0, shapely.length(lines) / 4)
    pts = _beside(lines, chain, rng)
    far_mask = np.isin(has, far)
    pts[far_mask] = _beside(lines[far_mask], chain[far_mask], rng, (120.0, 250.0))  # set back from the bank
    chief = rivers["chief"].to_numpy(dtype=object)[has].copy()
    day0 = pd.Timestamp("2021-03-01")
    updated = (day0 + pd.to_timedelta(rng.integers(0, 600, len(has)), "D")).to_numpy().copy()
    since: dict[str, str] = {}
    for k in np.flatnonzero(np.isin(has, stale)):
        old = chief[k]
        while old == chief[k] or old in set(rivers["chief"]):
            old = SURNAMES[rng.integers(len(SURNAMES))] + GIVEN[rng.integers(len(GIVEN))]
        chief[k] = old
        took = pd.Timestamp("2022-03-01") + pd.Timedelta(days=int(rng.integers(0, 120)))
        since[str(rivers["river_id"].iloc[has[k]])] = took.date().isoformat()
        updated[k] = (took - pd.Timedelta(days=int(rng.integers(60, 400)))).to_datetime64()
    ids = [f"GSP-{i + 1:03d}" for i in range(len(has))]
    boards = gpd.GeoDataFrame({
        "board_id": [*ids, "GSP-900"],
        "river_id": [*rivers["river_id"].to_numpy()[has], "DP-R999"],
        "chief_on_board": [*chief, "顾海峰"],
        "updated_on": [*pd.DatetimeIndex(updated).date, pd.Timestamp("2021-06-01").date()],
    }, geometry=[*pts, shapely.Point(shapely.get_coordinates(pts[0])[0] + 400.0)], crs=rivers.crs)
    board_of = dict(zip(boards["river_id"], boards["board_id"], strict=False))
    rid = rivers["river_id"].to_numpy()
    planted = {
        "no_board": sorted(rid[missing].tolist()),
        "wrong_chief": sorted(board_of[r] for r in rid[stale]),
        "stale": sorted(board_of[r] for r in rid[stale]),
        "too_far": sorted(board_of[r] for r in rid[far]),
        "unknown_river": ["GSP-900"],
        "chief_since": dict(sorted(since.items())),
    }
    return boards, planted


def manifest_section(problems: gpd.GeoDataFrame, boards: gpd.GeoDataFrame, planted_boards: dict[str, Any]) -> dict[str, Any]:
    """The ``problems`` and ``signboards`` entries of manifest.json: every planted case by id."""
    case = problems["case"]

    def ids(*cases: str) -> list[str]:
        return sorted(problems.loc[case.isin(cases), "problem_id"].tolist())

    pairs = problems[case.isin(["recurring", "recurred_earlier"])].pivot(index="pair", columns="case", values="problem_id")
    return {
        "problems": {
            "year": YEAR, "as_of": AS_OF.isoformat(), "overdue_days": OVERDUE_DAYS,
            "count": len(problems),
            "by_kind": {k: int(v) for k, v in problems["kind"].value_counts().sort_index().items()},
            "by_status": {k: int(v) for k, v in problems["status"].value_counts().sort_index().items()},
            "overdue": ids("overdue_assigned", "overdue_unassigned"),
            "unassigned": ids("overdue_unassigned", "recent_unassigned"),
            "open_not_overdue": ids("recent_assigned", "recent_unassigned"),
            "resolved_late": ids("resolved_late"),
            "recurring": [{"problem_id": b, "earlier_id": a} for a, b in
                          sorted(zip(pairs["recurred_earlier"], pairs["recurring"], strict=True), key=lambda t: t[1])],
            "rules": {"radius_m": 50, "within_days": 90},
            "note": ("Every other problem was resolved within 7 days (resolved_late: 8-25 days) and "
                     "before as_of; problems of one "
                     f"kind lie at least {_CLEAR_M:.0f} m apart except the recurring pairs (5-35 m, "
                     "10-64 days after the earlier one was resolved). The sets hold for any as_of "
                     "from the latest date in the data to the end of the year."),
        },
        "signboards": {
            "count": len(boards), "max_distance_m": 50, "grace_days": 15, **planted_boards,
            "note": ("Boards of rivers whose chief changed (chief_since) still name the previous chief "
                     "and were last updated before the change: wrong_chief and, given chief_since, "
                     "stale. Other boards stand 3-12 m from their river and name its chief."),
        },
    }


def write_problems_csv(problems: gpd.GeoDataFrame, path: Any) -> None:
    """The problems as a river-chief app exports them: Chinese headers and values, WGS 84 lon/lat."""
    schema = get_schema("problems")
    zh = {f.name: f.zh for f in schema.fields}
    values = {name: {k: v[0] for k, v in schema.field(name).values.items()} for name in ("kind", "status")}
    wgs = problems.to_crs(4326)
    xy = shapely.get_coordinates(wgs.geometry.to_numpy())
    df = pd.DataFrame({
        zh["problem_id"]: problems["problem_id"].to_numpy(),
        zh["river_id"]: problems["river_id"].to_numpy(),
        zh["reported_at"]: problems["reported_at"].dt.strftime("%Y-%m-%d %H:%M").to_numpy(),
        zh["kind"]: problems["kind"].map(values["kind"]).to_numpy(),
        zh["reporter"]: problems["reporter"].to_numpy(),
        zh["status"]: problems["status"].map(values["status"]).to_numpy(),
        zh["resolved_at"]: problems["resolved_at"].dt.strftime("%Y-%m-%d %H:%M").fillna("").to_numpy(),
        zh["description"]: problems["description"].to_numpy(),
        zh["photo"]: problems["photo"].to_numpy(),
        "经度": [f"{v:.7f}" for v in xy[:, 0]],
        "纬度": [f"{v:.7f}" for v in xy[:, 1]],
    })
    df.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
