"""Sample dataset, part 4: a year (2022) of river-chief patrol GPS fixes.

The town mostly follows the patrol rules (dongping_geo/data/patrol_rules.yaml):
district rivers are patrolled twice a month (by e-bike, then by car), town rivers
monthly (mostly by e-bike), village channels and ditches walked weekly. Each patrol follows one river along a bank
(walking 5 m, riding an e-bike 8 m, driving 10 m off the centre line) from the river's first vertex to its
end (partially patrolled rivers: to a fixed share of the length; a ditch: out, back
and on along its channel). Fixes come every 10-20 s with Gaussian noise of 3-10 m
RMS per track. A few fixes jump kilometres away and a few are duplicated, as real
phone GPS logs do. Planted misses of the rules (never-patrolled and half-walked
channels, skipped weeks and a skipped month) are computed from the design by
:func:`missed_rules`, independently of :mod:`dongping_geo.patrol`.
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
import shapely.ops

import dongping_geo.sample._layout as L

N_NEVER = 3
N_PARTIAL = {"town": 5, "village": 3}
# Partial walks of a town river still cover more than 1 km (they count for the monthly
# rule); those of a village channel cover less than half of it (they never count).
PARTIAL_SHARE = {"town": (0.3, 0.7), "village": (0.3, 0.4)}
TOLERANCE_M = 40.0  # bank offset + noise stay well inside this
YEAR = 2022
# Patrols planned per river: "week" = one on a random day of every ISO week,
# "half-month" = one in days 1-14 and one in days 15-28 of every month, "month" = one
# on a day 1-28 of every month.
SCHEDULE = {"district": "half-month", "town": "month", "village": "week"}
# How a patrol moves: speed range (m/s) and bank offset (m). Village channels are walked;
# town leaders ride an e-bike along town rivers (one in four walk); district rivers are
# ridden in the first half of the month and driven in the second. Partial patrols walk.
# Every rule period thus holds a patrol slower than 25 km/h (GB 17761-2018's e-bike top
# speed), so a "too fast" patrol-quality rule would not change the planted misses.
MODES = {"walk": ((1.0, 1.5), 5.0), "ebike": ((3.5, 5.5), 8.0), "car": ((7.0, 11.0), 10.0)}
WALK_MS, EBIKE_MS, DRIVE_MS = (MODES[m][0] for m in ("walk", "ebike", "car"))
EBIKE_SHARE_TOWN = 0.75
MAX_SLOW_KMH = 25.0
FIX_INTERVAL_S = (10, 20)
STUB_WALK_M = 1_150.0  # a ditch is walked out and back, then along its channel, to this length
N_JUMPS = 3
N_DUP_PATROLS = 5
JUMP_M = (3_000.0, 4_500.0)
# Planted gaps in the rules (dongping_geo/data/patrol_rules.yaml: village weekly, town monthly):
# village channels patrolled in full but not in these weeks, a town river not in one month.
SKIPPED_WEEKS = ((5,), (37, 38), None)  # None: three weeks drawn at random
SKIP_REASON = ("Spring Festival week", "typhoon weeks", "weeks without a patrol")
SKIPPED_MONTHS = (8,)
# The rules (patrol_rules.yaml defaults) the sample is designed against, with margins.
RULE_MIN_DURATION_S = 600.0
RULE_MIN_LENGTH_M = 1_000.0
RULE_SHARE, RULE_COVERED_M = 0.5, 1_000.0
RULE_PERIOD = {"district": "quarter", "town": "month", "village": "week"}
MARGIN = 0.1


def _pick(rng: np.random.Generator, pool: list[int], n: int) -> list[int]:
    return sorted(int(i) for i in rng.choice(pool, size=n, replace=False))


def plan_rivers(rivers: gpd.GeoDataFrame, sections: gpd.GeoDataFrame, rng: np.random.Generator
                ) -> pd.DataFrame:
    """Per river: plan (full/partial/never), covered share, skipped periods and why."""
    level, kind = rivers["level"].to_numpy(), rivers["kind"].to_numpy()
    channels = [int(i) for i in np.flatnonzero((level == "village") & (kind == "vch"))]
    never = _pick(rng, channels, N_NEVER)
    part_v = _pick(rng, [i for i in channels if i not in never], N_PARTIAL["village"])
    part_t = _pick(rng, [int(i) for i in np.flatnonzero(level == "town")], N_PARTIAL["town"])
    full_v = [i for i in channels if i not in never + part_v]
    skip_v = _pick(rng, full_v, len(SKIPPED_WEEKS))
    skip_t = _pick(rng, [int(i) for i in np.flatnonzero(level == "town") if i not in part_t], 1)
    rows = []
    for i in range(len(rivers)):
        plan, share, why = "full", 1.0, ""
        skip: tuple[str, ...] = ()
        if i in never:
            plan, share, why = "never", 0.0, "never patrolled"
        elif i in part_v + part_t:
            plan, share = "partial", round(float(rng.uniform(*PARTIAL_SHARE[level[i]])), 2)
            why = "patrols cover less than half of the river" if level[i] == "village" else ""
        if i in skip_v:
            k = skip_v.index(i)
            weeks = SKIPPED_WEEKS[k] or sorted(int(w) for w in rng.choice(np.arange(10, 50), 3, replace=False))
            skip, why = tuple(f"{YEAR}-W{w:02d}" for w in weeks), SKIP_REASON[k]
        elif i in skip_t:
            skip, why = tuple(f"{YEAR}-{m:02d}" for m in SKIPPED_MONTHS), "month without a patrol"
        rows.append(dict(idx=i, river_id=rivers.at[i, "river_id"], plan=plan, share=share,
                         skipped=skip, why=why))
    return pd.DataFrame(rows).set_index("idx")


def _week_label(day: pd.Timestamp) -> str:
    iso = day.isocalendar()
    return f"{iso[0]}-W{iso[1]:02d}"


def _days(schedule: str, skipped: tuple[str, ...], rng: np.random.Generator) -> list[pd.Timestamp]:
    """Patrol days of one river in the year."""
    days = []
    if schedule == "week":
        for monday in pd.date_range(f"{YEAR - 1}-12-27", f"{YEAR}-12-26", freq="7D"):
            day = monday + pd.Timedelta(days=int(rng.integers(0, 7)))
            if day.year == YEAR and _week_label(monday) not in skipped:
                days.append(day)
    else:
        halves = ((1, 15), (15, 29)) if schedule == "half-month" else ((1, 29),)
        for month in range(1, 13):
            for lo, hi in halves:
                day = pd.Timestamp(YEAR, month, int(rng.integers(lo, hi)))
                if f"{YEAR}-{month:02d}" not in skipped:
                    days.append(day)
    return days


def schedule(rivers: gpd.GeoDataFrame, plan: pd.DataFrame, rng: np.random.Generator
             ) -> list[tuple[pd.Timestamp, int]]:
    """(start in local time, river position) of every patrol, sorted by start."""
    trips = []
    for i in plan.index:
        if plan.at[i, "plan"] == "never":
            continue
        for day in _days(SCHEDULE[rivers.at[i, "level"]], plan.at[i, "skipped"], rng):
            start = day + pd.Timedelta(hours=float(rng.uniform(8.0, 16.0)))
            trips.append((start.round("s"), int(i)))
    trips.sort()
    return trips


def _route(rivers: gpd.GeoDataFrame, i: int, share: float) -> shapely.LineString:
    """The walked line: the river from its first vertex to ``share`` of it; a ditch out, back
    and on along its channel to STUB_WALK_M."""
    line = rivers.geometry.loc[i]
    if rivers.at[i, "kind"] != "stub":
        return shapely.ops.substring(line, 0.0, share * line.length)
    c = np.asarray(line.coords)
    extra = max(0.0, STUB_WALK_M - 2 * line.length)
    chan = rivers.geometry[(rivers["kind"] == "vch") & (rivers.geometry.distance(shapely.Point(c[0])) < 1e-6)].iloc[0]
    at = chan.project(shapely.Point(c[0]))
    to = at + extra if at + extra <= chan.length else at - extra
    return shapely.LineString([*c, *c[::-1][1:], chan.interpolate(to).coords[0]])


def _walk(route: shapely.LineString, speed: float, offset: float, rng: np.random.Generator
          ) -> tuple[np.ndarray, np.ndarray]:
    """Fix positions (local, before noise) and seconds from the start along ``route``."""
    length = route.length
    n_est = int(length / (speed * FIX_INTERVAL_S[0])) + 3
    dt = rng.integers(FIX_INTERVAL_S[0], FIX_INTERVAL_S[1] + 1, size=n_est).astype(float)
    sp = speed * np.clip(rng.normal(1.0, 0.1, size=n_est), 0.6, 1.4)
    dist = np.concatenate([[0.0], np.cumsum(dt * sp)])
    t = np.concatenate([[0.0], np.cumsum(dt)])
    keep = dist <= length
    dist, t = dist[keep], t[keep]
    if dist[-1] < length:  # end at the end of the route
        step = float(np.clip(np.ceil((length - dist[-1]) / speed), *FIX_INTERVAL_S))
        dist, t = np.append(dist, length), np.append(t, t[-1] + step)
    c = shapely.get_coordinates(shapely.line_interpolate_point(route, dist))
    ahead = shapely.get_coordinates(shapely.line_interpolate_point(route, np.minimum(dist + 1.0, length)))
    behind = shapely.get_coordinates(shapely.line_interpolate_point(route, np.maximum(dist - 1.0, 0.0)))
    d = ahead - behind
    d /= np.hypot(d[:, 0], d[:, 1])[:, None]
    return c + offset * np.column_stack([-d[:, 1], d[:, 0]]), t


def _mode(level: str, full: bool, start: pd.Timestamp, rng: np.random.Generator) -> str:
    """Walk, e-bike or car (see MODES)."""
    if not full or level == "village":
        return "walk"
    if level == "district":
        return "car" if start.day >= 15 else "ebike"
    return "ebike" if rng.random() < EBIKE_SHARE_TOWN else "walk"


def _trip(rivers: gpd.GeoDataFrame, plan: pd.DataFrame, i: int, start: pd.Timestamp,
          rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, str]:
    """One patrol of river ``i``: noisy local positions, seconds from the start, mode."""
    mode = _mode(rivers.at[i, "level"], plan.at[i, "plan"] == "full", start, rng)
    (lo, hi), bank = MODES[mode]
    speed = rng.uniform(lo, hi)
    offset = bank * (1 if rng.random() < 0.5 else -1)
    c, t = _walk(_route(rivers, i, float(plan.at[i, "share"])), speed, offset, rng)
    rms = float(rng.uniform(3.0, 10.0))
    return c + rng.normal(0.0, rms / np.sqrt(2.0), size=c.shape), t, mode


def _glitch(c: np.ndarray, tt: pd.DatetimeIndex, pid: str, jump: bool, dup: bool,
            glitches: dict[str, list[dict[str, Any]]], rng: np.random.Generator
            ) -> tuple[np.ndarray, pd.DatetimeIndex]:
    """Plant a kilometre jump or duplicated fixes into one patrol."""
    if jump:
        k = int(len(c) // 2)
        size = float(rng.uniform(*JUMP_M))
        c = c.copy()
        c[k, 1] -= size  # towards the island's interior (south in the local frame)
        glitches["jumps"].append(dict(patrol_id=pid, fix_index=k, jump_m=round(size, 1),
                                      timestamp=tt[k].tz_localize("Asia/Shanghai").isoformat()))
    if dup:
        k = int(len(c) // 3)
        reps = int(rng.integers(2, 4))
        c = np.concatenate([c[: k + 1], np.repeat(c[k : k + 1], reps, axis=0), c[k + 1 :]])
        tt = tt[: k + 1].append(pd.DatetimeIndex([tt[k]] * reps)).append(tt[k + 1 :])
        glitches["duplicates"].append(dict(patrol_id=pid, fix_index=k, extra_copies=reps))
    return c, tt


def make_patrols(rivers: gpd.GeoDataFrame, plan: pd.DataFrame, rng: np.random.Generator
                 ) -> tuple[gpd.GeoDataFrame, dict]:
    """GPS fixes (EPSG:4326 points), the glitches planted in them and every patrol's design."""
    to_wgs = pyproj.Transformer.from_crs(L.WORK_EPSG, 4326, always_xy=True)
    trips = schedule(rivers, plan, rng)
    jump_patrols = set(int(j) for j in rng.choice(len(trips), size=N_JUMPS, replace=False))
    dup_patrols = set(int(j) for j in rng.choice([j for j in range(len(trips)) if j not in jump_patrols],
                                                 size=N_DUP_PATROLS, replace=False))
    glitches: dict[str, list[dict[str, Any]]] = {"jumps": [], "duplicates": []}
    parts: list[pd.DataFrame] = []
    design = []
    for j, (start, i) in enumerate(trips):
        pid = f"XH{YEAR}-{j + 1:04d}"
        c, t, mode = _trip(rivers, plan, i, start, rng)
        design.append(dict(patrol_id=pid, river=i, start=start, duration_s=float(t[-1]),
                           track_m=float(np.hypot(*np.diff(c, axis=0).T).sum()), mode=mode))
        c, tt = _glitch(c, start + pd.to_timedelta(t, unit="s"), pid, j in jump_patrols,
                        j in dup_patrols, glitches, rng)
        wx, wy = L.to_world_xy(c[:, 0], c[:, 1])
        lon, lat = to_wgs.transform(wx, wy)
        parts.append(pd.DataFrame({"patrol_id": pid, "chief": rivers.at[i, "chief"], "timestamp": tt,
                                   "x": np.round(lon, 7), "y": np.round(lat, 7)}))
    df = pd.concat(parts, ignore_index=True)
    gdf = gpd.GeoDataFrame(
        {"patrol_id": df["patrol_id"], "chief": df["chief"],
         "timestamp": pd.DatetimeIndex(df["timestamp"]).tz_localize("Asia/Shanghai")},
        geometry=gpd.points_from_xy(df["x"], df["y"]), crs=4326,
    )
    return gdf, {"glitches": glitches, "patrols": pd.DataFrame(design)}


def _counts(rivers: gpd.GeoDataFrame, plan: pd.DataFrame, design: pd.DataFrame) -> np.ndarray:
    """Which patrols count for their river under the rules, checked with margins on the design."""
    length = rivers.geometry.length.to_numpy()[design["river"].to_numpy()]
    share = plan["share"].to_numpy()[design["river"].to_numpy()]
    need = np.minimum(RULE_SHARE * length, RULE_COVERED_M)
    covered = share * length
    counts = covered >= need * (1 + MARGIN)
    unclear = ~counts & (covered + TOLERANCE_M > need * (1 - MARGIN))
    valid = (design["duration_s"].to_numpy() >= RULE_MIN_DURATION_S * (1 + MARGIN)) & (
        design["track_m"].to_numpy() >= RULE_MIN_LENGTH_M * (1 + MARGIN))
    kmh = design["track_m"].to_numpy() / design["duration_s"].to_numpy() * 3.6
    slow_unclear = (design["mode"].to_numpy() != "car") & (kmh > MAX_SLOW_KMH * (1 - MARGIN))
    if unclear.any() or (counts & ~valid).any() or slow_unclear.any():
        raise RuntimeError("a patrol is too close to the rules' limits to be planted unambiguously")
    return counts


def _assessed(period: str) -> list[str]:
    """Labels of the periods wholly inside the year (as dongping_geo.patrol names them)."""
    if period == "week":
        mondays = pd.date_range(f"{YEAR}-01-01", f"{YEAR}-12-25", freq="W-MON")
        return [_week_label(d) for d in mondays]
    if period == "month":
        return [f"{YEAR}-{m:02d}" for m in range(1, 13)]
    return [f"{YEAR}-Q{q}" for q in range(1, 5)]


def _label(day: pd.Timestamp, period: str) -> str:
    if period == "week":
        return _week_label(day)
    return f"{day.year}-{day.month:02d}" if period == "month" else f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def missed_rules(rivers: gpd.GeoDataFrame, plan: pd.DataFrame, design: pd.DataFrame, *,
                 slow_only: bool = False) -> dict[str, dict]:
    """River id -> the rule's periods in the year with no counted patrol (only rivers missing one).

    ``slow_only``: count only patrols slower than MAX_SLOW_KMH (no car patrols).
    """
    counts = _counts(rivers, plan, design)
    if slow_only:
        counts &= design["mode"].to_numpy() != "car"
    counted = design[counts]
    out = {}
    for i in plan.index:
        period = RULE_PERIOD[rivers.at[i, "level"]]
        done = {_label(d, period) for d in counted.loc[counted["river"] == i, "start"]}
        missed = [p for p in _assessed(period) if p not in done]
        if missed:
            out[rivers.at[i, "river_id"]] = dict(level=rivers.at[i, "level"], period=period,
                                                 missed_periods=missed, why=plan.at[i, "why"])
    return out


def coverage(rivers: gpd.GeoDataFrame, patrols: gpd.GeoDataFrame, jumps: list[dict],
             tolerance_m: float = TOLERANCE_M, step_m: float = 5.0) -> dict[str, float]:
    """Share of each river's length within ``tolerance_m`` of a patrol track (jump fixes dropped).

    Tracks join consecutive fixes of a patrol; the river is sampled every ``step_m``.
    """
    work = patrols.to_crs(L.WORK_EPSG)
    bad = np.zeros(len(work), bool)
    starts = work.groupby("patrol_id", sort=False).indices
    for g in jumps:
        bad[starts[g["patrol_id"]][g["fix_index"]]] = True
    work = work[~bad]
    xy = shapely.get_coordinates(work.geometry.to_numpy())
    same = work["patrol_id"].to_numpy()[1:] == work["patrol_id"].to_numpy()[:-1]
    segs = shapely.linestrings(np.stack([xy[:-1][same], xy[1:][same]], axis=1))
    tree = shapely.STRtree(segs)
    out = {}
    riv_world = L.world(rivers.geometry.to_numpy())
    for rid, line in zip(rivers["river_id"], riv_world, strict=True):
        d = np.arange(0.0, line.length + step_m / 2, step_m)
        pts = shapely.line_interpolate_point(line, np.minimum(d, line.length))
        idx = tree.query(pts, predicate="dwithin", distance=tolerance_m)
        covered = np.zeros(len(pts), bool)
        covered[np.unique(idx[0])] = True
        out[rid] = round(float(covered.mean()), 4)
    return out


def write_gpx(patrols: gpd.GeoDataFrame, path) -> None:
    """One <trk> per patrol, name = patrol id, chief in <desc>, times in UTC."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<gpx version="1.1" creator="dongping_geo sample generator (synthetic)" '
             'xmlns="http://www.topografix.com/GPX/1/1">',
             "<metadata><name>东平镇河长巡河轨迹 2022-06 (synthetic sample)</name>"
             "<desc>Synthetic river-chief patrol tracks; WGS 84; times in UTC.</desc></metadata>"]
    xy = shapely.get_coordinates(patrols.geometry.to_numpy())
    utc = patrols["timestamp"].dt.tz_convert("UTC").dt.strftime("%Y-%m-%dT%H:%M:%SZ").to_numpy()
    for pid, idx in patrols.groupby("patrol_id", sort=True).indices.items():
        chief = patrols["chief"].iloc[idx[0]]
        lines.append(f"<trk><name>{escape(pid)}</name><desc>{escape(chief)}</desc><trkseg>")
        for k in idx:
            lines.append(f'<trkpt lat="{xy[k, 1]:.7f}" lon="{xy[k, 0]:.7f}"><time>{utc[k]}</time></trkpt>')
        lines.append("</trkseg></trk>")
    lines.append("</gpx>")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_csv(patrols: gpd.GeoDataFrame, path) -> None:
    """lon, lat, time (China local time, as phone apps export), patrol_id, chief."""
    xy = shapely.get_coordinates(patrols.geometry.to_numpy())
    df = pd.DataFrame({
        "lon": [f"{v:.7f}" for v in xy[:, 0]],
        "lat": [f"{v:.7f}" for v in xy[:, 1]],
        "time": patrols["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S").to_numpy(),
        "patrol_id": patrols["patrol_id"].to_numpy(),
        "chief": patrols["chief"].to_numpy(),
    })
    df.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
