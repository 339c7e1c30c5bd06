"""Benchmark: dongping_geo.problems against plain geopandas baselines, in one run.

* patrol_quality on N synthetic fixes (default 1,000,000) along the sample rivers, with
  planted doubtful patrols (duplicates, too fast, stationary, far from the chief's river),
  against a plain baseline: sjoin of the fixes with buffered rivers for the far rule, then
  a Python loop over the patrols (groupby) for the other rules (track buffer ∩ short
  rivers for the whole-ditch allowance, rounded-coordinate tuples for duplicates).
* recurring_problems on M synthetic problems (default 100,000) over a synthetic district
  (18 towns × 74 rivers), against buffer + ``geopandas.sjoin`` + pandas filtering.
* problem_summary on the same problems, against a Python loop over the rivers.

Each pair is checked for agreement. Prints wall and CPU times (best of 3 for ours), the
ratio and peak memory. Run: python benchmarks/bench_problems.py [--fixes N] [--problems M]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import time
import tracemalloc

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from _machine import cpu_model
from bench_patrol_coverage import FIXES_PER_PATROL, load_rivers, synthetic_fixes

from dongping_geo._scale_synth import district_rivers
from dongping_geo.problems import patrol_quality, problem_summary, recurring_problems

FLAGS = ["too_short_time", "too_short_distance", "stationary", "too_fast", "far_from_own_rivers", "duplicate"]
DAY = 86400.0


def clock(fn, *args, **kw):
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn(*args, **kw)
    return out, time.perf_counter() - w0, time.process_time() - c0


def best_of(n, fn, *args, **kw):
    tracemalloc.start()
    out = fn(*args, **kw)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    runs = [clock(fn, *args, **kw)[1:] for _ in range(n)]
    return out, min(r[0] for r in runs), min(r[1] for r in runs), peak


# --- patrol quality -----------------------------------------------------------------

def planted_fixes(rivers: gpd.GeoDataFrame, n_fixes: int, seed: int = 7) -> tuple[gpd.GeoDataFrame, dict]:
    """Synthetic patrols with 1 % each of duplicates, too-fast, stationary and far patrols."""
    fixes = synthetic_fixes(rivers, n_fixes)
    rng = np.random.default_rng(seed)
    n_pat = len(fixes) // FIXES_PER_PATROL
    picks = rng.choice(n_pat, size=4 * max(1, n_pat // 100), replace=False)
    dup, fast, still, far = np.array_split(picks, 4)
    originals = rng.choice(np.setdiff1d(np.arange(n_pat), picks), size=len(dup), replace=False)
    xy = shapely.get_coordinates(fixes.geometry.values).copy()
    t = fixes["timestamp"].copy()
    rows = lambda p: np.arange(p * FIXES_PER_PATROL, (p + 1) * FIXES_PER_PATROL)  # noqa: E731
    chief = fixes["chief"].to_numpy().copy()
    for p in fast:  # the same walk, 8 times faster (a car on the embankment road)
        r = rows(p)
        t.iloc[r] = t.iloc[r[0]] + (t.iloc[r] - t.iloc[r[0]]) / 8
    for p in still:  # phone left in one place
        r = rows(p)
        xy[r] = xy[r[0]] + rng.normal(0, 5, (len(r), 2))
    for p in far:  # walked 500 m away from the chief's river
        xy[rows(p)] += [500.0, 500.0]
    for p, q in zip(dup, originals, strict=True):  # an untouched patrol uploaded again a day later
        xy[rows(p)] = xy[rows(q)]
        chief[rows(p)] = chief[rows(q)]
        t.iloc[rows(p)] = t.iloc[rows(q)].to_numpy() + pd.Timedelta(days=1)
    out = gpd.GeoDataFrame({"patrol_id": fixes["patrol_id"], "chief": chief, "timestamp": t},
                           geometry=shapely.points(xy), crs=fixes.crs)
    names = fixes["patrol_id"].to_numpy()[::FIXES_PER_PATROL]
    return out, {k: set(names[v]) for k, v in (("dup", dup), ("fast", fast), ("still", still), ("far", far))}


def baseline_quality(fixes: gpd.GeoDataFrame, rivers: gpd.GeoDataFrame) -> pd.DataFrame:
    """The plain way: sjoin with buffered rivers, then a loop over the patrols."""
    f = fixes.sort_values(["patrol_id", "timestamp"])
    zones = gpd.GeoDataFrame({"owner": rivers["chief"].to_numpy()}, geometry=rivers.buffer(100.0), crs=rivers.crs)
    j = gpd.sjoin(f[["chief", "geometry"]], zones, predicate="within")
    near = set(j.index[j["chief"] == j["owner"]])
    f = f.assign(near=f.index.isin(near))
    short = rivers[rivers.length < 1000.0]
    seen: dict[tuple, str] = {}
    rows = []
    first = f.groupby("patrol_id")["timestamp"].min().sort_values(kind="stable")
    groups = dict(iter(f.groupby("patrol_id", sort=True)))
    for pid in first.index:  # by start time: the later upload of a track is the copy
        g = groups[pid]
        xy = shapely.get_coordinates(g.geometry.values)
        t = (g["timestamp"] - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy()
        dt, d = np.diff(t), np.hypot(*np.diff(xy, axis=0).T)
        link = (dt <= 300) & (d / np.where(dt > 0, dt, np.nan) * 3.6 <= 60)
        length, minutes = d[link].sum(), (t[-1] - t[0]) / 60
        buf = shapely.LineString(xy).buffer(30.0)
        walked = [r.length for r in short.geometry if r.intersection(buf).length >= 0.9 * r.length]
        need = max(walked) if walked else 1000.0
        centre = np.median(xy, axis=0)
        key = tuple(np.round(xy).ravel())
        rows.append({
            "patrol_id": pid,
            "too_short_time": minutes < 10 * need / 1000 - 1e-9,
            "too_short_distance": length < 1000 - 1e-9 and not walked,
            "stationary": np.mean(np.hypot(*(xy - centre).T) <= 50) >= 0.8,
            "too_fast": d[dt <= 300].sum() / dt[dt <= 300].sum() * 3.6 > 25,
            "far_from_own_rivers": 1 - g["near"].mean() > 0.5,
            "duplicate": key in seen,
        })
        seen.setdefault(key, pid)
    return pd.DataFrame(rows).set_index("patrol_id")


def bench_quality(n_fixes: int, *, with_baseline: bool = True) -> None:
    rivers, source = load_rivers()
    rivers = rivers.assign(chief=rivers["river_id"])  # synthetic patrols walk their chief's river
    fixes, planted = planted_fixes(rivers, n_fixes)
    print(f"\n[patrol_quality] {len(fixes):,} fixes, {fixes['patrol_id'].nunique():,} patrols on {source}")
    q, w, c, peak = best_of(3, patrol_quality, fixes, rivers)
    print(f"  ours: wall {w:.2f} s, CPU {c:.2f} s (best of 3); peak traced memory {peak / 2**20:.0f} MiB")
    flagged = q.set_index("patrol_id")
    for kind, col in (("dup", "duplicate"), ("fast", "too_fast"), ("still", "stationary"),
                      ("far", "far_from_own_rivers")):
        found = set(flagged.index[flagged[col].fillna(False).astype(bool)])
        print(f"  planted {kind:5s}: {len(planted[kind])}, flagged by ours {len(found)}, "
              f"of them planted {len(planted[kind] & found)}")
    if not with_baseline:
        return
    base, wb, cb = clock(baseline_quality, fixes, rivers)
    print(f"  baseline (sjoin + loop over patrols): wall {wb:.2f} s, CPU {cb:.2f} s")
    print(f"  ratio baseline/ours: wall {wb / w:.1f}x, CPU {cb / c:.1f}x")
    q = q.set_index("patrol_id").reindex(base.index)
    for flag in FLAGS:
        ours_f = q[flag].fillna(False).astype(bool)
        diff = int((ours_f != base[flag].astype(bool)).sum())
        print(f"  {flag:20s} ours {int(ours_f.sum()):5d}  baseline {int(base[flag].sum()):5d}  differ {diff}")


# --- problems -----------------------------------------------------------------------

def synthetic_problems(rivers: gpd.GeoDataFrame, n: int, seed: int = 3) -> gpd.GeoDataFrame:
    """Problems at random places along the rivers (≤ 40 m off), over two years; 5 % without river_id."""
    rng = np.random.default_rng(seed)
    geoms = rivers.geometry.values
    r = rng.integers(0, len(rivers), n)
    pos = shapely.line_interpolate_point(geoms[r], rng.uniform(0, 1, n), normalized=True)
    xy = shapely.get_coordinates(pos) + rng.uniform(-40, 40, (n, 2))
    kinds = ["floating_debris", "outfall", "encroachment", "dumping", "bank_damage", "water_anomaly",
             "signboard_damage", "other"]
    reported = pd.Timestamp("2023-01-01", tz="Asia/Shanghai") + pd.to_timedelta(rng.uniform(0, 730, n), unit="D")
    handled = rng.random(n) < 0.85
    resolved = reported + pd.to_timedelta(rng.exponential(6, n), unit="D")
    ids = rivers["river_id"].to_numpy()[r].astype(object)
    ids[rng.random(n) < 0.05] = None
    return gpd.GeoDataFrame({
        "problem_id": [f"Q{i:06d}" for i in range(n)], "river_id": ids,
        "kind": rng.choice(kinds, n, p=[0.3, 0.15, 0.1, 0.2, 0.08, 0.07, 0.03, 0.07]),
        "status": np.where(handled, rng.choice(["resolved", "closed"], n), rng.choice(["reported", "assigned"], n)),
        "reported_at": reported, "resolved_at": pd.Series(resolved).where(handled).to_numpy(),
    }, geometry=shapely.points(xy), crs=rivers.crs)


def baseline_recurrence(p: gpd.GeoDataFrame, radius: float = 50, within: float = 90) -> pd.DataFrame:
    done = p[p["status"].isin(["resolved", "closed"]) & p["resolved_at"].notna()]
    zones = gpd.GeoDataFrame(done[["problem_id", "kind", "resolved_at"]], geometry=done.buffer(radius), crs=p.crs)
    j = gpd.sjoin(p[["problem_id", "kind", "reported_at", "geometry"]], zones, predicate="intersects")
    days = (j["reported_at"] - j["resolved_at"]).dt.total_seconds() / DAY
    j = j[(j["problem_id_left"] != j["problem_id_right"]) & (j["kind_left"] == j["kind_right"])
          & (days >= 0) & (days <= within)]
    return j.sort_values("resolved_at", ascending=False).drop_duplicates("problem_id_left")


def baseline_summary(p: gpd.GeoDataFrame, rivers: gpd.GeoDataFrame, overdue_days: float = 7) -> pd.DataFrame:
    missing = p["river_id"].isna()
    nearest = gpd.sjoin_nearest(p[missing][["geometry"]], rivers[["river_id", "geometry"]])
    p = p.copy()
    p.loc[nearest.index, "river_id"] = nearest["river_id"]
    as_of = max(p["reported_at"].max(), p["resolved_at"].max())
    rows = []
    for rid in sorted(p["river_id"].unique()):  # one river at a time, as a script would
        g = p[p["river_id"] == rid]
        handled = g["status"].isin(["resolved", "closed"]) & ~(g["resolved_at"] > as_of)
        days = ((g["resolved_at"] - g["reported_at"]).dt.total_seconds() / DAY)[handled]
        age = (as_of - g["reported_at"]).dt.total_seconds() / DAY
        rows.append({"river_id": rid, "problems": len(g), "open": int((~handled).sum()),
                     "overdue": int((~handled & (age >= overdue_days)).sum()),
                     "median_days_to_resolve": days.median(), "p90_days_to_resolve": days.quantile(0.9)})
    return pd.DataFrame(rows)


def bench_problems(n: int) -> None:
    rivers = district_rivers(18, seed=1)
    p = synthetic_problems(rivers, n)
    km = shapely.length(rivers.geometry.values).sum() / 1000
    print(f"\n[problems] {len(p):,} problems on {len(rivers):,} synthetic district rivers ({km:,.0f} km)")
    r, w, c, peak = best_of(3, recurring_problems, p)
    rb, wb, cb = clock(baseline_recurrence, p)
    print(f"  recurring_problems: ours wall {w:.2f} s, CPU {c:.2f} s (best of 3), peak traced {peak / 2**20:.0f} MiB; "
          f"baseline (buffer + sjoin + pandas) wall {wb:.2f} s, CPU {cb:.2f} s; ratio wall {wb / w:.1f}x, CPU {cb / c:.1f}x")
    only = r[~r["problem_id"].isin(rb["problem_id_left"])]
    extra = (f" (distances {only['distance_m'].min():.2f}-{only['distance_m'].max():.2f} m: inside the circle, "
             "outside the buffer polygon)") if len(only) else ""
    print(f"    recurring found: ours {len(r):,}, baseline {len(rb):,}, "
          f"in both {len(set(r['problem_id']) & set(rb['problem_id_left'])):,}; by ours only {len(only)}{extra}")
    s, w, c, peak = best_of(3, problem_summary, p, rivers)
    sb, wb, cb = clock(baseline_summary, p, rivers)
    print(f"  problem_summary: ours wall {w:.2f} s, CPU {c:.2f} s (best of 3), peak traced {peak / 2**20:.0f} MiB; "
          f"baseline (loop over rivers) wall {wb:.2f} s, CPU {cb:.2f} s; ratio wall {wb / w:.1f}x, CPU {cb / c:.1f}x")
    m = s.set_index("river_id")[["problems", "open", "overdue", "median_days_to_resolve"]]
    mb = sb.set_index("river_id")[["problems", "open", "overdue", "median_days_to_resolve"]].reindex(m.index)
    print(f"    rivers {len(m):,}; counts equal: {bool((m.iloc[:, :3] == mb.iloc[:, :3]).all().all())}; "
          f"max median difference {float(np.nanmax(np.abs(m.iloc[:, 3] - mb.iloc[:, 3]))):.2e} days")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fixes", type=int, default=1_000_000)
    ap.add_argument("--problems", type=int, default=100_000)
    ap.add_argument("--no-patrol-baseline", action="store_true",
                    help="time patrol_quality without its (slow) baseline")
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {cpu_model()}, "
          f"Python {platform.python_version()}, shapely {shapely.__version__}, GEOS {shapely.geos_version_string}, "
          f"geopandas {gpd.__version__}")
    print(f"load average at start (1/5/15 min): {', '.join(f'{v:.1f}' for v in os.getloadavg())}")
    bench_quality(args.fixes, with_baseline=not args.no_patrol_baseline)
    bench_problems(args.problems)
    print(f"\nload average at end: {', '.join(f'{v:.1f}' for v in os.getloadavg())}")
    print(f"peak RSS of the whole run: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
