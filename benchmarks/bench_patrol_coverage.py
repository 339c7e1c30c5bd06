"""Benchmark: dongping_geo.patrol.river_coverage against the straightforward geopandas baseline.

Builds N synthetic GPS fixes (default 1,000,000) walking along the sample rivers
(data/shapefiles, or 74 synthetic rivers when the sample is not there), then in one
run times

* ours:     river_coverage(rivers, fixes, tolerance_m=30)
* baseline: join each patrol's fixes into LineStrings (split at time gaps), buffer
            every track, union all buffers, intersect with every river, take lengths

checks that the covered lengths agree within 1 % of each river's length, and prints
both times, the ratio and peak memory. Run: python benchmarks/bench_patrol_coverage.py
[--fixes N] [--baseline-fixes M]. If the baseline is too slow for all N fixes, pass
--baseline-fixes to time both on the first M fixes (whole patrols) as well; the
output says which subset each figure is for.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import time
import tracemalloc
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from _machine import cpu_model

from dongping_geo.patrol import river_coverage

REPO = Path(__file__).resolve().parents[1]
TOL = 30.0
MAX_GAP_S = 300.0
FIX_EVERY_S = 10.0
FIXES_PER_PATROL = 500


def load_rivers() -> tuple[gpd.GeoDataFrame, str]:
    shp = REPO / "data" / "shapefiles" / "rivers.shp"
    if shp.exists():
        try:
            from dongping_geo.loaders import load_rivers as _load

            return _load(shp), "sample dataset (data/shapefiles/rivers.shp)"
        except Exception as exc:  # noqa: BLE001 - fall back to a plain read
            print(f"loaders.load_rivers failed ({exc}); reading the file directly")
        g = gpd.read_file(shp)
        return g.to_crs(4549), "sample dataset (data/shapefiles/rivers.shp)"
    return synthetic_rivers(), "74 synthetic rivers"


def synthetic_rivers(seed: int = 0) -> gpd.GeoDataFrame:
    """74 canal-like rivers over ~25 km x 8 km: 20 east-west, 54 north-south, bent every ~150 m."""
    rng = np.random.default_rng(seed)
    geoms = []
    x0, y0 = 620_000.0, 3_500_000.0
    for i in range(20):
        n = rng.integers(40, 100)
        x = x0 + rng.uniform(0, 5000) + np.arange(n) * 150.0
        y = y0 + i * 400.0 + np.cumsum(rng.normal(0, 8, n))
        geoms.append(shapely.LineString(np.column_stack([x, y])))
    for _ in range(54):
        n = rng.integers(8, 30)
        x = x0 + rng.uniform(0, 25_000) + np.cumsum(rng.normal(0, 8, n))
        y = y0 + rng.uniform(0, 4000) + np.arange(n) * 150.0
        geoms.append(shapely.LineString(np.column_stack([x, y])))
    return gpd.GeoDataFrame(
        {"river_id": [f"R{i:02d}" for i in range(74)], "name": [f"river {i}" for i in range(74)]},
        geometry=geoms,
        crs=4549,
    )


def synthetic_fixes(rivers: gpd.GeoDataFrame, n_fixes: int, seed: int = 1) -> gpd.GeoDataFrame:
    """Patrols of 500 fixes walking along random rivers at 1-1.5 m/s, 10 s apart.

    Each patrol keeps to one bank (offset 0-45 m, so some walk outside the 30 m
    tolerance), with 5 m GPS noise; 1 in 4 patrols has a 10-minute signal gap.
    """
    rng = np.random.default_rng(seed)
    n_pat = int(np.ceil(n_fixes / FIXES_PER_PATROL))
    geoms = rivers.geometry.values
    lengths = shapely.length(geoms)
    river = rng.integers(0, len(rivers), n_pat)
    speed = rng.uniform(1.0, 1.5, n_pat)
    k = np.arange(FIXES_PER_PATROL)
    span = speed * FIX_EVERY_S * (FIXES_PER_PATROL - 1)
    start = rng.uniform(0, 1, n_pat) * np.maximum(lengths[river] - span, 0)
    direction = rng.choice([-1.0, 1.0], n_pat)
    m = start[:, None] + speed[:, None] * FIX_EVERY_S * k[None, :]
    # Walk back and forth when the river is shorter than the walk.
    L = lengths[river][:, None]
    m = np.abs(((m + L) % (2 * L)) - L)
    m = np.where(direction[:, None] > 0, m, L - m)
    g = np.repeat(geoms[river], FIXES_PER_PATROL)
    p = shapely.line_interpolate_point(g, m.ravel())
    p2 = shapely.line_interpolate_point(g, np.minimum(m.ravel() + 1.0, np.repeat(L.ravel(), FIXES_PER_PATROL)))
    xy = shapely.get_coordinates(p)
    d = shapely.get_coordinates(p2) - xy
    norm = np.hypot(d[:, 0], d[:, 1])
    norm[norm == 0] = 1
    nx, ny = -d[:, 1] / norm, d[:, 0] / norm
    off = np.repeat(rng.uniform(0, 45, n_pat), FIXES_PER_PATROL)
    xy[:, 0] += nx * off + rng.normal(0, 5, len(xy))
    xy[:, 1] += ny * off + rng.normal(0, 5, len(xy))
    t0 = pd.Timestamp("2024-03-01 08:00", tz="Asia/Shanghai") + pd.to_timedelta(
        rng.integers(0, 30 * 24 * 3600, n_pat), unit="s"
    )
    dt = np.tile(k * FIX_EVERY_S, n_pat).reshape(n_pat, -1)
    gap = rng.random(n_pat) < 0.25
    at = rng.integers(50, 450, n_pat)
    dt = dt + np.where(gap[:, None] & (k[None, :] >= at[:, None]), 600.0, 0.0)
    ts = np.repeat(t0.tz_convert("UTC").tz_localize(None).to_numpy(), FIXES_PER_PATROL) + pd.to_timedelta(dt.ravel(), unit="s").to_numpy()
    fixes = gpd.GeoDataFrame(
        {
            "patrol_id": np.repeat([f"P{i:05d}" for i in range(n_pat)], FIXES_PER_PATROL),
            "chief": np.repeat(rivers["river_id"].to_numpy()[river], FIXES_PER_PATROL),
            "timestamp": pd.DatetimeIndex(ts).tz_localize("UTC").tz_convert("Asia/Shanghai"),
        },
        geometry=shapely.points(xy),
        crs=rivers.crs,
    )
    return fixes.iloc[:n_fixes].reset_index(drop=True)


def baseline(rivers: gpd.GeoDataFrame, fixes: gpd.GeoDataFrame) -> np.ndarray:
    """The straightforward geopandas way: tracks → buffer → union → intersect."""
    f = fixes.sort_values(["patrol_id", "timestamp"])
    t = f["timestamp"]
    new = (f["patrol_id"] != f["patrol_id"].shift()) | (t.diff().dt.total_seconds() > MAX_GAP_S)
    track = new.cumsum()
    tracks = f.groupby(track.to_numpy())["geometry"].apply(
        lambda s: shapely.LineString(s.to_numpy()) if len(s) > 1 else s.iloc[0]
    )
    tracks = gpd.GeoSeries(tracks.to_numpy(), crs=fixes.crs)
    covered_area = tracks.buffer(TOL).union_all()
    return rivers.geometry.intersection(covered_area).length.to_numpy()


def timed(fn, *args):
    tracemalloc.start()
    t0 = time.perf_counter()
    out = fn(*args)
    dt = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return out, dt, peak


def ours(rivers, fixes):
    return river_coverage(rivers, fixes, tolerance_m=TOL, max_gap_s=MAX_GAP_S)["covered_m"].to_numpy()


def clock(fn, *args):
    """Wall and CPU (process) time of one call: on a shared machine CPU time is the
    steadier figure, since other processes inflate wall time."""
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn(*args)
    return out, time.perf_counter() - w0, time.process_time() - c0


def compare(label, rivers, fixes, *, run_baseline=True):
    ours_out, _, mem_ours = timed(ours, rivers, fixes)
    # Time again without tracemalloc (it slows allocation-heavy code); best of 3.
    runs = [clock(ours, rivers, fixes)[1:] for _ in range(3)]
    w_ours, c_ours = min(r[0] for r in runs), min(r[1] for r in runs)
    print(f"[{label}] {len(fixes):,} fixes, {fixes['patrol_id'].nunique():,} patrols")
    print(f"  river_coverage: wall {w_ours:.2f} s, CPU {c_ours:.2f} s (best of 3); "
          f"peak traced memory {mem_ours / 2**20:.0f} MiB")
    if not run_baseline:
        return
    base_out, w_base, c_base = clock(baseline, rivers, fixes)
    print(f"  baseline (buffer+union+intersect): wall {w_base:.2f} s, CPU {c_base:.2f} s")
    print(f"  ratio baseline/ours: wall {w_base / w_ours:.1f}x, CPU {c_base / c_ours:.1f}x")
    err = np.abs(ours_out - base_out) / shapely.length(rivers.geometry.values)
    print(f"  agreement: max |ours - baseline| = {err.max() * 100:.3f} % of river length "
          f"(total covered {ours_out.sum() / 1000:.1f} km vs {base_out.sum() / 1000:.1f} km)")
    assert err.max() < 0.01, "ours and the baseline disagree by more than 1 % of a river's length"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fixes", type=int, default=1_000_000)
    ap.add_argument("--baseline-fixes", type=int, default=None,
                    help="also run the baseline only on this many fixes (default: on all)")
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {cpu_model()}, "
          f"Python {platform.python_version()}, shapely {shapely.__version__}, GEOS {shapely.geos_version_string}")
    rivers, source = load_rivers()
    print(f"rivers: {len(rivers)} from {source}, {shapely.length(rivers.geometry.values).sum() / 1000:.0f} km")

    fixes = synthetic_fixes(rivers, args.fixes)
    if args.baseline_fixes is None:
        compare("all fixes", rivers, fixes)
    else:
        compare("all fixes, ours only", rivers, fixes, run_baseline=False)
        compare(f"subset: first {args.baseline_fixes:,} fixes", rivers, fixes.iloc[: args.baseline_fixes])
    print(f"load average (1/5/15 min): {', '.join(f'{v:.1f}' for v in os.getloadavg())}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the whole run (both methods and data): {rss:.0f} MiB")


if __name__ == "__main__":
    main()
