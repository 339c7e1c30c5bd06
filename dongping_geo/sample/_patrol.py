"""Sample dataset, part 4: a year (2022) of river-chief patrol GPS fixes.

Each patrol follows one river along a bank (walking 5 m, driving 10 m off the
centre line), from the river's first vertex to its end (or, for partially
patrolled rivers, to a fixed share of its length). Fixes come every 5-15 s with
Gaussian noise of 3-10 m RMS per track. A few fixes jump kilometres away and a
few are duplicated, as real phone GPS logs do.
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

import dongping_geo.sample._layout as L

N_NEVER = 6
N_PARTIAL = 8
TOLERANCE_M = 40.0  # bank offset + noise stay well inside this
FREQ = {"district": 52, "town": 24, "village": 12}
OFTEN_VILLAGE = 10  # village channels patrolled weekly
WALK_MS = (1.0, 1.5)
DRIVE_MS = (7.0, 11.0)
N_JUMPS = 3
N_DUP_PATROLS = 5
JUMP_M = (3_000.0, 4_500.0)


def plan_rivers(rivers: gpd.GeoDataFrame, sections: gpd.GeoDataFrame, rng: np.random.Generator
                ) -> pd.DataFrame:
    """Per river: plan (full/partial/never), patrols per year, covered share of length."""
    village = rivers.index[rivers["level"] == "village"].to_numpy()
    others = rivers.index[rivers["level"] == "town"].to_numpy()
    never = sorted(int(i) for i in rng.choice(village, size=N_NEVER, replace=False))
    rest = np.array([i for i in np.concatenate([village, others]) if i not in never])
    partial = sorted(int(i) for i in rng.choice(rest, size=N_PARTIAL, replace=False))
    often = [int(i) for i in rng.choice([i for i in village if i not in never and i not in partial],
                                        size=OFTEN_VILLAGE, replace=False)]
    rows = []
    for i in rivers.index:
        level = rivers.at[i, "level"]
        if i in never:
            plan, share, n = "never", 0.0, 0
        elif i in partial:
            plan, share, n = "partial", round(float(rng.uniform(0.3, 0.7)), 2), 12
        else:
            plan, share = "full", 1.0
            n = 52 if i in often else FREQ[level]
        rows.append(dict(idx=i, river_id=rivers.at[i, "river_id"], plan=plan, share=share, n_patrols=n))
    return pd.DataFrame(rows).set_index("idx")


def make_patrols(rivers: gpd.GeoDataFrame, plan: pd.DataFrame, rng: np.random.Generator
                 ) -> tuple[gpd.GeoDataFrame, dict]:
    """GPS fixes (EPSG:4326 points) and the glitches planted in them."""
    to_wgs = pyproj.Transformer.from_crs(L.WORK_EPSG, 4326, always_xy=True)
    trips = []
    start_2022 = pd.Timestamp("2022-01-01")
    for i in plan.index:
        n = int(plan.at[i, "n_patrols"])
        if n == 0:
            continue
        day_step = 365.0 / n
        for k in range(n):
            day = int(min(364, k * day_step + rng.uniform(0, day_step * 0.8)))
            start = start_2022 + pd.Timedelta(days=day, hours=float(rng.uniform(8.0, 16.0)))
            trips.append((start.round("s"), int(i)))
    trips.sort()
    xs, ys, ts, pids, chiefs = [], [], [], [], []
    jump_patrols = set(int(j) for j in rng.choice(len(trips), size=N_JUMPS, replace=False))
    dup_patrols = set(int(j) for j in rng.choice([j for j in range(len(trips)) if j not in jump_patrols],
                                                 size=N_DUP_PATROLS, replace=False))
    glitches: dict[str, list[dict[str, Any]]] = {"jumps": [], "duplicates": []}
    per_river: dict[str, list[str]] = {}
    for j, (start, i) in enumerate(trips):
        pid = f"XH2022-{j + 1:04d}"
        line = rivers.geometry.loc[i]
        length = line.length * float(plan.at[i, "share"])
        level = rivers.at[i, "level"]
        drive = level == "district" or (level == "town" and rng.random() < 0.5)
        speed = rng.uniform(*(DRIVE_MS if drive else WALK_MS))
        offset = (10.0 if drive else 5.0) * (1 if rng.random() < 0.5 else -1)
        # Distance along the river at each fix.
        n_est = int(length / (speed * 5.0)) + 3
        dt = rng.integers(5, 16, size=n_est).astype(float)
        sp = speed * np.clip(rng.normal(1.0, 0.1, size=n_est), 0.6, 1.4)
        dist = np.concatenate([[0.0], np.cumsum(dt * sp)])
        t = np.concatenate([[0.0], np.cumsum(dt)])
        keep = dist <= length
        dist, t = dist[keep], t[keep]
        if dist[-1] < length:  # end at the end of the patrolled stretch
            dist = np.append(dist, length)
            t = np.append(t, t[-1] + float(np.clip(np.ceil((length - dist[-2]) / speed), 5, 15)))
        pts = shapely.line_interpolate_point(line, dist)
        c = shapely.get_coordinates(pts)
        (u0, v0), (u1, v1) = line.coords[0], line.coords[-1]
        d = np.array([u1 - u0, v1 - v0]) / np.hypot(u1 - u0, v1 - v0)
        normal = np.array([-d[1], d[0]])
        rms = float(rng.uniform(3.0, 10.0))
        noise = rng.normal(0.0, rms / np.sqrt(2.0), size=c.shape)
        c = c + offset * normal + noise
        if j in jump_patrols:
            k = int(len(c) // 2)
            jump = float(rng.uniform(*JUMP_M))
            c[k, 1] -= jump  # towards the island's interior (south in the local frame)
            glitches["jumps"].append(dict(patrol_id=pid, fix_index=k, jump_m=round(jump, 1)))
        tt = start + pd.to_timedelta(t, unit="s")
        if j in dup_patrols:
            k = int(len(c) // 3)
            reps = int(rng.integers(2, 4))
            c = np.concatenate([c[: k + 1], np.repeat(c[k : k + 1], reps, axis=0), c[k + 1 :]])
            tt = tt[: k + 1].append(pd.DatetimeIndex([tt[k]] * reps)).append(tt[k + 1 :])
            glitches["duplicates"].append(dict(patrol_id=pid, fix_index=k, extra_copies=reps))
        for g in glitches["jumps"]:
            if g["patrol_id"] == pid:
                g["timestamp"] = tt[g["fix_index"]].tz_localize("Asia/Shanghai").isoformat()
        wx, wy = L.to_world_xy(c[:, 0], c[:, 1])
        lon, lat = to_wgs.transform(wx, wy)
        xs.append(np.round(lon, 7))
        ys.append(np.round(lat, 7))
        ts.append(tt)
        pids += [pid] * len(c)
        chiefs += [rivers.at[i, "chief"]] * len(c)
        per_river.setdefault(rivers.at[i, "river_id"], []).append(pid)
    x = np.concatenate(xs)
    y = np.concatenate(ys)
    stamps = pd.DatetimeIndex(np.concatenate([np.asarray(t) for t in ts])).tz_localize("Asia/Shanghai")
    gdf = gpd.GeoDataFrame(
        {"patrol_id": pids, "chief": chiefs, "timestamp": stamps},
        geometry=gpd.points_from_xy(x, y), crs=4326,
    )
    return gdf, {"glitches": glitches, "patrols_by_river": per_river}


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
