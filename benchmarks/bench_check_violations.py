"""Benchmark: landuse.check_violations against geopandas.overlay(how="intersection").

Builds N synthetic building footprints (small rectangles; some inside zones, some
crossing zone boundaries, most outside) over the sample dataset's red-line + farmland
layer, or over a synthetic stand-in of similar complexity when the sample is missing.
Times both methods on the same data in one run, each in a forked child so that each
peak RSS is its own (the child inherits the input data, so the peak includes it).
Checks that both give the same total overlap area, and prints times, the ratio and
the peak memory.

Usage::

    python benchmarks/bench_check_violations.py            # 1,000,000 footprints
    python benchmarks/bench_check_violations.py --n 100000 --skip-overlay
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import resource
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from _machine import cpu_model as _cpu_model

from dongping_geo.crs import get_work_crs
from dongping_geo.landuse import check_violations

REPO = Path(__file__).resolve().parents[1]
SAMPLE_DIR = REPO / "data" / "shapefiles"

_DATA: dict[str, gpd.GeoDataFrame] = {}  # inherited by the forked children


def _blob(rng, cx, cy, radius, n_vertices):
    """A jagged, star-shaped polygon (digitised-boundary-like) of n_vertices."""
    theta = np.linspace(0, 2 * np.pi, n_vertices, endpoint=False)
    k1, k2 = rng.integers(2, 7, size=2)
    r = radius * (
        1
        + 0.25 * np.sin(k1 * theta + rng.uniform(0, 6))
        + 0.1 * np.sin(k2 * 3 * theta)
        + 0.02 * rng.standard_normal(n_vertices)
    )
    return shapely.Polygon(np.column_stack([cx + r * np.cos(theta), cy + r * np.sin(theta)]))


def synthetic_zones(seed: int = 1) -> gpd.GeoDataFrame:
    """Stand-in red-line + farmland layer: 90 jagged polygons of 400-1200 vertices."""
    rng = np.random.default_rng(seed)
    x0, y0 = 630_000.0, 3_505_000.0  # Dongping, EPSG:4549
    geoms, cats, ids = [], [], []
    for i in range(30):  # ecological red line / eco space: large
        g = _blob(
            rng,
            x0 + rng.uniform(0, 25_000),
            y0 + rng.uniform(0, 8_000),
            rng.uniform(400, 1_500),
            int(rng.integers(600, 1_200)),
        )
        geoms.append(shapely.make_valid(g))
        cats.append("eco_redline" if i % 3 else "eco_space_2")
        ids.append(f"EZ{i:03d}")
    for i in range(60):  # basic farmland parcels
        g = _blob(
            rng,
            x0 + rng.uniform(0, 25_000),
            y0 + rng.uniform(0, 8_000),
            rng.uniform(200, 800),
            int(rng.integers(400, 800)),
        )
        if i % 5 == 0:  # some multipolygons
            g2 = _blob(rng, g.centroid.x + 2_000, g.centroid.y, rng.uniform(200, 500), 400)
            g = shapely.MultiPolygon([g, g2])
        geoms.append(shapely.make_valid(g))
        cats.append("basic_farmland")
        ids.append(f"BF{i:03d}")
    return gpd.GeoDataFrame({"zone_id": ids, "category": cats}, geometry=geoms, crs=get_work_crs())


def sample_zones() -> gpd.GeoDataFrame | None:
    """The sample dataset's red-line + farmland layer, when it has been generated."""
    if not SAMPLE_DIR.exists() or not any(SAMPLE_DIR.iterdir()):
        return None
    try:
        from dongping_geo.loaders import load_dataset
    except ImportError:
        return None
    try:
        zones = load_dataset(SAMPLE_DIR).redlines
    except Exception as exc:  # report and fall back rather than abort a benchmark
        print(f"sample dataset unusable ({exc}); using the synthetic stand-in", file=sys.stderr)
        return None
    return zones if zones is not None and len(zones) else None


def synthetic_buildings(
    zones: gpd.GeoDataFrame, n: int, seed: int = 2, boundary_share: float = 0.1
) -> gpd.GeoDataFrame:
    """N rectangles 6-25 m wide over the zones' extent.

    ``boundary_share`` of them are dropped on zone boundaries (centred within ~40 m of
    a zone vertex, so many cross a boundary); the rest are spread uniformly, so their
    share inside zones follows the zones' coverage of the extent.
    """
    rng = np.random.default_rng(seed)
    xmin, ymin, xmax, ymax = zones.total_bounds
    n_near = int(round(n * boundary_share))
    x = rng.uniform(xmin, xmax, n)
    y = rng.uniform(ymin, ymax, n)
    verts = shapely.get_coordinates(zones.geometry.to_numpy())
    pick = rng.integers(0, len(verts), n_near)
    x[:n_near] = verts[pick, 0] + rng.normal(0, 40, n_near)
    y[:n_near] = verts[pick, 1] + rng.normal(0, 40, n_near)
    w = rng.uniform(6, 25, n)
    h = rng.uniform(6, 25, n)
    geoms = shapely.box(x, y, x + w, y + h)
    return gpd.GeoDataFrame(
        {"building_id": np.arange(n, dtype=np.int64)}, geometry=geoms, crs=zones.crs
    )


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _run_ours(queue) -> None:
    c0 = _cpu()
    t0 = time.perf_counter()
    out = check_violations(_DATA["buildings"], _DATA["zones"], min_overlap_m2=0.0)
    dt = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB
    inside = int((out["overlap_share"] >= 1 - 1e-12).sum())
    queue.put((dt, _cpu() - c0, float(out["overlap_m2"].sum()), len(out), rss, inside))


def _run_overlay(queue) -> None:
    c0 = _cpu()
    t0 = time.perf_counter()
    out = gpd.overlay(_DATA["buildings"], _DATA["zones"], how="intersection", keep_geom_type=True)
    dt = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    area = out.area
    queue.put((dt, _cpu() - c0, float(area.sum()), int((area > 0).sum()), rss))


def _in_child(target):
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(queue,))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="number of footprints")
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--synthetic", action="store_true", help="ignore the sample dataset")
    parser.add_argument("--skip-overlay", action="store_true", help="time only check_violations")
    parser.add_argument(
        "--boundary-share",
        type=float,
        default=0.1,
        help="share of footprints dropped on zone boundaries (default 0.1)",
    )
    args = parser.parse_args()

    zones = None if args.synthetic else sample_zones()
    source = "sample red-line + farmland layer"
    if zones is None:
        zones, source = synthetic_zones(), "synthetic stand-in zones"
    t0 = time.perf_counter()
    buildings = synthetic_buildings(
        zones, args.n, seed=args.seed, boundary_share=args.boundary_share
    )
    _DATA.update(zones=zones, buildings=buildings)
    n_vertices = int(shapely.get_num_coordinates(zones.geometry.to_numpy()).sum())
    print(
        f"machine: {os.cpu_count()} CPUs ({_cpu_model()}), Python {platform.python_version()}, "
        f"shapely {shapely.__version__} / GEOS {shapely.geos_version_string}, "
        f"geopandas {gpd.__version__}"
    )
    print(
        f"zones: {len(zones)} polygons, {n_vertices:,} vertices ({source}); "
        f"footprints: {len(buildings):,} (built in {time.perf_counter() - t0:.1f} s)"
    )
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"parent peak RSS after building inputs: {base_rss:,.0f} MiB")

    print(f"load average before timing: {os.getloadavg()[0]:.2f} (CPU time is shown too)")
    ours_t, ours_cpu, ours_area, ours_rows, ours_rss, n_inside = _in_child(_run_ours)
    print(
        f"check_violations : {ours_t:8.2f} s wall {ours_cpu:8.2f} s CPU  rows {ours_rows:,}  area {ours_area:,.1f} m²  "
        f"peak RSS {ours_rss:,.0f} MiB"
    )
    print(
        f"  overlaps: {n_inside:,} footprints wholly inside a zone, "
        f"{ours_rows - n_inside:,} partial (boundary-crossing) pairs"
    )
    if args.skip_overlay:
        return 0
    ov_t, ov_cpu, ov_area, ov_rows, ov_rss = _in_child(_run_overlay)
    print(
        f"geopandas.overlay: {ov_t:8.2f} s wall {ov_cpu:8.2f} s CPU  rows {ov_rows:,}  area {ov_area:,.1f} m²  "
        f"peak RSS {ov_rss:,.0f} MiB"
    )
    rel = abs(ours_area - ov_area) / max(ov_area, 1e-9)
    agree = rel < 1e-6 and ours_rows == ov_rows
    print(
        f"speed-up: {ov_t / ours_t:.1f}x wall, {ov_cpu / ours_cpu:.1f}x CPU   total-area relative difference {rel:.2e}   "
        f"{'AGREE' if agree else 'DISAGREE'}"
    )
    targets = (ours_t <= 30, ov_t / ours_t >= 5, ours_rss <= 4096)
    print(
        "targets (<= 30 s, >= 5x, <= 4 GiB): "
        + ", ".join("met" if t else "MISSED" for t in targets)
    )
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
