"""Benchmark: landuse.cropland_occupation against geopandas.overlay(how="intersection").

Builds a synthetic land survey and building survey in EPSG:4549 near Dongping:

* parcels: a Voronoi partition of N_PARCELS random seeds over a square sized for a mean
  parcel of 6,000 m² (about 77 m across), every edge split every 5 m and displaced by a
  smooth field (shared edges stay shared, so it remains a partition), ~66 vertices per
  parcel; land codes drawn as 55 % cultivated (0101/0102/0103), 15 % 0702, 3 % 1202,
  27 % woods, water, roads;
* buildings: rotated rectangles 6-25 m a side. ``--layout settled`` (default): 85 % of
  them centred at least 15 m inside homestead (0702) parcels, 5 % inside cultivated
  parcels, 10 % inside other parcels, then ``--boundary-share`` (default 0.1) moved onto parcel vertices so they
  cross parcel boundaries, since houses stand in the survey's homestead parcels and only
  some sit on cultivated land or across a line. ``--layout uniform``: centres uniform
  over the square, regardless of the parcels (the hard case: ~40 % of the buildings meet
  a cultivated parcel, many across a boundary).

Times ``cropland_occupation(buildings, parcels)`` (all parcels; it selects the cultivated
ones, checks codes and geometry) and ``geopandas.overlay(buildings, cultivated parcels)``
on the same data, each in a forked child so that each peak RSS is its own (it includes
the inherited input). Checks that the total overlap areas and the row counts agree.
``--overlay-n`` times the baseline on the first N buildings only and scales the time
linearly by N_BUILDINGS / N (printed as such), for runs where overlay on everything
would take too long.

Usage::

    python benchmarks/bench_land_survey.py                       # 1M buildings, 100k parcels
    python benchmarks/bench_land_survey.py --layout uniform
    python benchmarks/bench_land_survey.py --n 100000 --parcels 10000
    python benchmarks/bench_land_survey.py --changes --parcels 100000   # land_changes
    python benchmarks/bench_land_survey.py --areas                      # land_areas
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import resource
import sys
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from _machine import cpu_model as _cpu_model

from dongping_geo.landclass import CULTIVATED_CODES
from dongping_geo.landuse import cropland_occupation, land_changes

X0, Y0 = 630_000.0, 3_495_000.0
MEAN_PARCEL_M2 = 6_000.0
_DATA: dict[str, gpd.GeoDataFrame] = {}  # inherited by the forked children

_CODES = np.array(["0101", "0102", "0103", "0702", "1202", "0301", "1104", "1107", "1006", "0201"])
_WEIGHTS = np.array([0.385, 0.11, 0.055, 0.15, 0.03, 0.06, 0.06, 0.06, 0.05, 0.04])


def synthetic_parcels(n: int, seed: int = 1) -> gpd.GeoDataFrame:
    """A Voronoi partition with ~66 vertices per parcel and random land codes."""
    rng = np.random.default_rng(seed)
    side = float(np.sqrt(n * MEAN_PARCEL_M2))
    frame = shapely.box(X0, Y0, X0 + side, Y0 + side)
    seeds = shapely.multipoints(np.column_stack([X0 + rng.uniform(0, side, n), Y0 + rng.uniform(0, side, n)]))
    cells = shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=frame))
    cells = shapely.segmentize(shapely.intersection(cells, frame), 5.0)

    def warp(c: np.ndarray) -> np.ndarray:  # smooth, so a shared vertex moves the same way twice
        dx = 1.5 * np.sin(c[:, 1] / 7.0) + np.sin(c[:, 0] / 3.1)
        dy = 1.5 * np.sin(c[:, 0] / 6.0) + np.cos(c[:, 1] / 2.9)
        return c + np.column_stack([dx, dy])

    # snapped to a 1 mm grid: both copies of a shared vertex (split from either end of
    # the edge, so equal only to ~1e-12 m) become the same point, and the partition exact
    cells = shapely.set_precision(shapely.transform(cells, warp), 0.001)
    codes = rng.choice(_CODES, size=len(cells), p=_WEIGHTS / _WEIGHTS.sum())
    return gpd.GeoDataFrame(
        {"parcel_id": np.char.zfill(np.arange(len(cells)).astype(str), 7), "land_code": codes},
        geometry=cells, crs=4549)


def _points_in(parcels: np.ndarray, pick: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One random point inside each picked parcel (rejection sampling, vectorised)."""
    b = shapely.bounds(parcels[pick])
    xy = np.full((pick.size, 2), np.nan)
    todo = np.arange(pick.size)
    while todo.size:
        x = rng.uniform(b[todo, 0], b[todo, 2])
        y = rng.uniform(b[todo, 1], b[todo, 3])
        ok = shapely.contains_xy(parcels[pick[todo]], x, y)
        xy[todo[ok]] = np.column_stack([x[ok], y[ok]])
        todo = todo[~ok]
    return xy


def synthetic_buildings(parcels: gpd.GeoDataFrame, n: int, *, layout: str, boundary_share: float,
                        seed: int = 2) -> gpd.GeoDataFrame:
    """Rotated rectangles 6-25 m a side, placed by ``layout`` (see the module docstring)."""
    rng = np.random.default_rng(seed)
    geoms = parcels.geometry.to_numpy()
    codes = parcels["land_code"].to_numpy()
    if layout == "uniform":
        x0, y0, x1, y1 = parcels.total_bounds
        xy = np.column_stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)])
    else:
        groups = [np.flatnonzero(codes == "0702"), np.flatnonzero(np.isin(codes, CULTIVATED_CODES)),
                  np.flatnonzero(~np.isin(codes, [*CULTIVATED_CODES, "0702"]))]
        group = rng.choice(3, size=n, p=[0.85, 0.05, 0.10])
        pick = np.empty(n, dtype=np.int64)
        for g, members in enumerate(groups):
            sel = group == g
            pick[sel] = rng.choice(members, size=int(sel.sum()))
        # centres at least 15 m inside the parcel (a house stands within its plot)
        cores = shapely.buffer(geoms, -15.0)
        cores = np.where(shapely.is_empty(cores), shapely.buffer(geoms, -5.0), cores)
        cores = np.where(shapely.is_empty(cores), geoms, cores)
        xy = _points_in(cores, pick, rng)
        near = rng.random(n) < boundary_share
        k = int(near.sum())  # these go onto a random vertex of a random parcel, jittered by ~3 m
        rings = shapely.get_exterior_ring(geoms[rng.choice(len(geoms), size=k)])
        at = (rng.random(k) * (shapely.get_num_points(rings) - 1)).astype(int)
        xy[near] = shapely.get_coordinates(shapely.get_point(rings, at)) + rng.normal(0, 3, (k, 2))
    w, h = rng.uniform(6, 25, n), rng.uniform(6, 25, n)
    ang = rng.uniform(0, np.pi / 2, n)
    corners = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5], [-0.5, -0.5]])
    cx = corners[None, :, 0] * w[:, None]
    cy = corners[None, :, 1] * h[:, None]
    c, s = np.cos(ang)[:, None], np.sin(ang)[:, None]
    ring = np.stack([xy[:, :1] + cx * c - cy * s, xy[:, 1:] + cx * s + cy * c], axis=-1)
    return gpd.GeoDataFrame({"building_id": np.arange(n, dtype=np.int64)},
                            geometry=shapely.polygons(ring), crs=4549)


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _run_ours(queue) -> None:
    c0, t0 = _cpu(), time.perf_counter()
    out = cropland_occupation(_DATA["buildings"], _DATA["parcels"], min_overlap_m2=0.0)
    dt = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    inside = int((out["overlap_share"] >= 1 - 1e-12).sum())
    queue.put((dt, _cpu() - c0, float(out["overlap_m2"].sum()), len(out), rss, inside))


def _run_overlay(queue) -> None:
    buildings = _DATA["buildings"].iloc[: _DATA["overlay_n"]]
    cult = _DATA["parcels"]
    cult = cult.loc[cult["land_code"].isin(CULTIVATED_CODES), ["parcel_id", "geometry"]]
    c0, t0 = _cpu(), time.perf_counter()
    out = gpd.overlay(buildings, cult, how="intersection", keep_geom_type=True)
    dt = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    area = out.area
    queue.put((dt, _cpu() - c0, float(area.sum()), int((area > 0).sum()), rss))


def _later_vintage(parcels: gpd.GeoDataFrame, share: float, seed: int = 3) -> gpd.GeoDataFrame:
    """The next year's survey: ``share`` of the parcels change class, geometry unchanged,
    and one parcel in a hundred is split in two along a vertical line through its centre."""
    rng = np.random.default_rng(seed)
    after = parcels.copy()
    after["land_code"] = np.where(rng.random(len(after)) < share, "0702", after["land_code"])
    split = rng.random(len(after)) < 0.01
    geoms = after.geometry.to_numpy()
    c = shapely.get_coordinates(shapely.centroid(geoms[split]))
    b = shapely.bounds(geoms[split])
    west = shapely.intersection(geoms[split], shapely.box(b[:, 0], b[:, 1], c[:, 0], b[:, 3]))
    east = shapely.intersection(geoms[split], shapely.box(c[:, 0], b[:, 1], b[:, 2], b[:, 3]))
    halves = gpd.GeoDataFrame({"parcel_id": np.concatenate([after["parcel_id"].to_numpy()[split] + "W",
                                                            after["parcel_id"].to_numpy()[split] + "E"]),
                               "land_code": np.concatenate([after["land_code"].to_numpy()[split]] * 2)},
                              geometry=np.concatenate([west, east]), crs=after.crs)
    out = gpd.GeoDataFrame(pd.concat([after[~split], halves], ignore_index=True), crs=after.crs)
    return out.assign(area_m2=out.area, village="V")


def _run_changes(queue) -> None:
    c0, t0 = _cpu(), time.perf_counter()
    res = land_changes(_DATA["parcels"], _DATA["after"], by=None, level="land_code")
    dt = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    loss = res.cultivated_loss
    queue.put((dt, _cpu() - c0, float(res.transitions["area_m2"].sum()), len(loss), float(loss["area_m2"].sum()), rss))


def _run_changes_overlay(queue) -> None:
    c0, t0 = _cpu(), time.perf_counter()
    out = gpd.overlay(_DATA["parcels"][["parcel_id", "land_code", "geometry"]],
                      _DATA["after"][["parcel_id", "land_code", "geometry"]], how="intersection",
                      keep_geom_type=True)
    dt = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    area = out.area
    lost = out["land_code_1"].isin(CULTIVATED_CODES) & ~out["land_code_2"].isin(CULTIVATED_CODES) & (area > 0)
    queue.put((dt, _cpu() - c0, float(area.sum()), int(lost.sum()), float(area[lost].sum()), rss))


def changes(args) -> int:
    """Time land_changes against geopandas.overlay of the two vintages."""
    parcels = synthetic_parcels(args.parcels)
    parcels = parcels.assign(area_m2=parcels.area, village="V")
    after = _later_vintage(parcels, 0.05)
    _DATA.update(parcels=parcels, after=after)
    print(f"vintages: {len(parcels):,} and {len(after):,} parcels (5 % reclassified, 1 % split)")
    print(f"load average before timing: {os.getloadavg()[0]:.2f}")
    t, cpu, area, lost, lost_m2, rss = _in_child(_run_changes)
    print(f"land_changes       : {t:8.2f} s wall {cpu:8.2f} s CPU  area {area:,.1f} m²  "
          f"cultivated loss {lost:,} pieces {lost_m2:,.1f} m²  peak RSS {rss:,.0f} MiB")
    ot, ocpu, oarea, olost, olost_m2, orss = _in_child(_run_changes_overlay)
    print(f"geopandas.overlay  : {ot:8.2f} s wall {ocpu:8.2f} s CPU  area {oarea:,.1f} m²  "
          f"cultivated loss {olost:,} pieces {olost_m2:,.1f} m²  peak RSS {orss:,.0f} MiB")
    agree = lost == olost and abs(lost_m2 - olost_m2) <= 1e-9 * max(olost_m2, 1.0)
    print(f"speed-up: {ot / t:.1f}x wall, {ocpu / cpu:.1f}x CPU; cultivated loss "
          f"{'AGREES' if agree else 'DISAGREES'}")
    return 0 if agree else 1


def areas(args) -> int:
    """Time land_areas against pyproj's Geod.geometry_area_perimeter, one parcel at a time."""
    import pyproj

    from dongping_geo.landuse import land_areas

    parcels = synthetic_parcels(args.parcels)
    parcels = parcels.assign(area_m2=parcels.area)
    print(f"parcels: {len(parcels):,}; load average before timing: {os.getloadavg()[0]:.2f}")
    c0, t0 = _cpu(), time.perf_counter()
    ours = land_areas(parcels)["ellipsoidal_m2"].to_numpy()
    t, cpu = time.perf_counter() - t0, _cpu() - c0
    print(f"land_areas                  : {t:6.2f} s wall {cpu:6.2f} s CPU")
    geod = pyproj.CRS.from_epsg(4490).get_geod()
    c0, t0 = _cpu(), time.perf_counter()
    geo = parcels.to_crs(4490).geometry
    ref = np.array([abs(geod.geometry_area_perimeter(g)[0]) for g in geo])
    bt, bcpu = time.perf_counter() - t0, _cpu() - c0
    rel = float(np.max(np.abs(ours - ref) / ref))
    print(f"Geod.geometry_area_perimeter: {bt:6.2f} s wall {bcpu:6.2f} s CPU (to_crs + one call per parcel)")
    print(f"ratio {bt / t:.1f}x wall; largest relative difference {rel:.1e}")
    return 0 if rel < 1e-9 else 1


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
    parser.add_argument("--n", type=int, default=1_000_000, help="number of buildings")
    parser.add_argument("--parcels", type=int, default=100_000, help="number of parcels")
    parser.add_argument("--layout", choices=("settled", "uniform"), default="settled")
    parser.add_argument("--boundary-share", type=float, default=0.1)
    parser.add_argument("--overlay-n", type=int, default=None,
                        help="time geopandas.overlay on the first N buildings and scale")
    parser.add_argument("--skip-overlay", action="store_true")
    parser.add_argument("--changes", action="store_true",
                        help="time land_changes between two vintages of the parcels instead")
    parser.add_argument("--areas", action="store_true", help="time land_areas instead")
    args = parser.parse_args()
    if args.changes:
        return changes(args)
    if args.areas:
        return areas(args)

    t0 = time.perf_counter()
    parcels = synthetic_parcels(args.parcels)
    buildings = synthetic_buildings(parcels, args.n, layout=args.layout, boundary_share=args.boundary_share)
    overlay_n = min(args.overlay_n or args.n, args.n)
    _DATA.update(parcels=parcels, buildings=buildings, overlay_n=overlay_n)
    n_cult = int(parcels["land_code"].isin(CULTIVATED_CODES).sum())
    vpp = shapely.get_num_coordinates(parcels.geometry.to_numpy()).mean()
    print(f"machine: {os.cpu_count()} CPUs ({_cpu_model()}), Python {platform.python_version()}, "
          f"shapely {shapely.__version__} / GEOS {shapely.geos_version_string}, geopandas {gpd.__version__}")
    print(f"parcels: {len(parcels):,} ({n_cult:,} cultivated), {vpp:.0f} vertices per parcel; "
          f"buildings: {len(buildings):,}, layout {args.layout}"
          + (f", boundary share {args.boundary_share}" if args.layout == "settled" else "")
          + f" (built in {time.perf_counter() - t0:.1f} s)")
    print(f"load average before timing: {os.getloadavg()[0]:.2f} (CPU time is shown too)")
    ours_t, ours_cpu, ours_area, ours_rows, ours_rss, n_inside = _in_child(_run_ours)
    print(f"cropland_occupation: {ours_t:8.2f} s wall {ours_cpu:8.2f} s CPU  rows {ours_rows:,}  "
          f"area {ours_area:,.1f} m²  peak RSS {ours_rss:,.0f} MiB")
    print(f"  {n_inside:,} buildings wholly inside a cultivated parcel, {ours_rows - n_inside:,} partial pairs")
    if args.skip_overlay:
        return 0
    print(f"load average before the baseline: {os.getloadavg()[0]:.2f}")
    ov_t, ov_cpu, ov_area, ov_rows, ov_rss = _in_child(_run_overlay)
    scale = args.n / overlay_n
    note = f" on the first {overlay_n:,} buildings, scaled x{scale:.1f}" if scale != 1 else ""
    print(f"geopandas.overlay  : {ov_t * scale:8.2f} s wall {ov_cpu * scale:8.2f} s CPU{note}  rows {ov_rows:,}  "
          f"area {ov_area:,.1f} m²  peak RSS {ov_rss:,.0f} MiB")
    if scale == 1:
        rel = abs(ours_area - ov_area) / max(ov_area, 1e-9)
        agree = rel < 1e-9 and ours_rows == ov_rows
        print(f"total-area relative difference {rel:.2e}, rows {ours_rows:,} vs {ov_rows:,}: "
              f"{'AGREE' if agree else 'DISAGREE'}")
    else:
        agree = True
        print("(areas not compared: the baseline ran on a subset)")
    ratio, cpu_ratio = ov_t * scale / ours_t, ov_cpu * scale / ours_cpu
    print(f"speed-up: {ratio:.1f}x wall, {cpu_ratio:.1f}x CPU")
    print("targets (<= 30 s, >= 5x wall): " + ", ".join(
        "met" if t else "MISSED" for t in (ours_t <= 30, ratio >= 5)))
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
