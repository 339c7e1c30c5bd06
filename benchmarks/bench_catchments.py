"""Benchmark: river network, section catchments and their land-cover shares.

Two datasets, in one run each:

* town:     the sample dataset (74 rivers, 55 sections, the 2022 land-cover raster);
            rivers without a single downstream path are left unconnected
            (``on_problem="report"``), as they are in the sample today.
* district: the synthetic district of ``dongping_geo._scale_synth`` (18 towns x 74 =
            1,332 rivers), with ``flows_to`` set so that every river drains into the
            river it meets of the highest (level, position), 55 sections per town on
            random rivers and a 10 m land-cover raster of 100 m blocks (72 x 24 km).

ours:      ``catchments.section_catchments`` (network, drainage units, catchments and
           100 m bank strips via an Euler tour of the flow forest) +
           ``catchments.landcover_shares`` of the catchments and of the strips
           (exact coverage fractions, ``raster.zonal_stats``).
baseline:  the plain way: the same network and drainage units (timed apart), then per section
           ``networkx.ancestors`` of the section's node, ``shapely.union_all`` of the
           upstream units and of 100 m buffers of the upstream stretches (clipped to
           the catchment), and ``rasterstats.zonal_stats(categorical=True)`` on both
           (pixel centres, no coverage fractions).

Prints times, the ratio, peak RSS and the largest difference between the two
catchment areas and farmland shares (they differ slightly: rasterstats counts whole
pixels by their centre).

Usage::

    python benchmarks/bench_catchments.py                 # town and district
    python benchmarks/bench_catchments.py --only town
    python benchmarks/bench_catchments.py --baseline-sections 200   # time the district
                                                                    # baseline on a subset
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import rasterio
import shapely
from _machine import cpu_model

from dongping_geo import catchments as c
from dongping_geo import network as net
from dongping_geo._network_core import junctions
from dongping_geo._scale_synth import TOWN_COLS, TOWN_H, TOWN_W, X0, Y0, district_rivers

REPO = Path(__file__).resolve().parents[1]
STRIP_M = 100.0


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --------------------------------------------------------------------------- data


def town_data():
    import dongping_geo as dg

    ds = dg.load_dataset(REPO / "data" / "shapefiles")
    return ds.rivers, ds.sections, ds.extra["town"], str(ds.landcover[2022])


def _flows_to(rivers: gpd.GeoDataFrame) -> list[str]:
    """Each river drains into the river it meets of the highest (level, position): acyclic."""
    rank = rivers["level"].map(net.LEVEL_RANK).to_numpy()
    j = junctions(rivers.geometry.values, 1.0)
    a, b = j["a"].to_numpy(), j["b"].to_numpy()
    key = rank * 10_000 + np.arange(len(rivers))
    ok = key[b] > key[a]
    best = pd.Series(key[b][ok], index=a[ok]).groupby(level=0).max()
    out = np.array(["长江"] * len(rivers), dtype=object)
    out[best.index.to_numpy()] = rivers["river_id"].to_numpy()[best.to_numpy() % 10_000]
    return out.tolist()


def district_data(folder: Path, towns: int = 18, seed: int = 0):
    rivers = district_rivers(towns, seed)
    rivers["flows_to"] = _flows_to(rivers)
    rows = -(-towns // TOWN_COLS)
    town = shapely.box(X0, Y0, X0 + TOWN_COLS * TOWN_W, Y0 + rows * TOWN_H)
    rng = np.random.default_rng(seed)
    pick = np.concatenate([t * 74 + rng.choice(74, 55, replace=False) for t in range(towns)])
    g = rivers.geometry.values[pick]
    pts = shapely.line_interpolate_point(g, rng.uniform(0.2, 0.8, len(pick)), normalized=True)
    sections = gpd.GeoDataFrame({"section_id": [f"S{i:04d}" for i in range(len(pick))],
                                 "river_id": rivers["river_id"].to_numpy()[pick]}, geometry=pts, crs=rivers.crs)
    path = folder / "district_landcover.tif"
    if not path.exists():
        w, h = int(TOWN_COLS * TOWN_W / 10), int(rows * TOWN_H / 10)
        blocks = rng.choice([1, 2, 2, 2, 3, 4, 5, 6], size=(h // 10, w // 10)).astype("uint8")
        grid = np.kron(blocks, np.ones((10, 10), dtype="uint8"))
        with rasterio.open(path, "w", driver="GTiff", width=w, height=h, count=1, dtype="uint8",
                           crs=rivers.crs, transform=rasterio.Affine(10, 0, X0, 0, -10, Y0 + rows * TOWN_H),
                           nodata=0, tiled=True, blockxsize=256, blockysize=256, compress="deflate") as ds:
            ds.write(grid, 1)
    return rivers, sections, gpd.GeoDataFrame(geometry=[town], crs=rivers.crs), str(path)


# --------------------------------------------------------------------------- runs


def ours(rivers, sections, town, raster, repeat=2):
    """Best of ``repeat`` runs (the machine is shared)."""
    runs = [_ours(rivers, sections, town, raster) for _ in range(repeat)]
    return min(runs, key=lambda r: r["total_s"])


def _ours(rivers, sections, town, raster):
    t0 = time.perf_counter()
    sc = c.section_catchments(rivers, sections, town, strip_m=STRIP_M, on_problem="report")
    t1 = time.perf_counter()
    whole = c.landcover_shares(sc, raster)
    strip = c.landcover_shares(sc.set_geometry("bank_strip"), raster)
    t2 = time.perf_counter()
    return {"catchments_s": t1 - t0, "shares_s": t2 - t1, "total_s": t2 - t0,
            "area": sc["area_m2"].to_numpy(), "farmland": whole["share_farmland"].to_numpy(),
            "strip_farmland": strip["share_farmland"].to_numpy()}


def baseline(rivers, sections, town, raster, subset=None):
    """Plain per-section loop; returns its fixed (network, units) and per-section times."""
    from rasterstats import zonal_stats

    t0 = time.perf_counter()
    rid = sections["river_id"].to_numpy()
    g = net.resolve(rivers, snap_m=1.0, boundary=town, on_problem="report")
    pos, m = net.locate(g, sections.geometry.values, rid)
    g = net.assemble(g, extra_cuts=(pos, m))
    units = c._units(g, c._town(town, rivers.crs), 50.0)
    nodes = net._node_at(g.graph["cuts"], pos, m)
    st = g.graph["stretches"]
    by_target: dict[int, list[int]] = {}
    for k, t in enumerate(st["target"].to_numpy()):
        by_target.setdefault(int(t), []).append(k)
    source = st["source"].to_numpy()
    code_name = {1: "water", 2: "farmland", 3: "forest", 4: "wetland", 5: "built_up", 6: "greenhouse", 7: "bare"}
    t1 = time.perf_counter()
    area, farm, strip_farm = [], [], []
    todo = nodes if subset is None else nodes[subset]
    for n in todo:  # per section: ancestors, unions, rasterstats
        above = nx.ancestors(g, int(n)) | {int(n)}
        rows = [k for t in above for k in by_target.get(t, []) if source[k] != n]
        catch = shapely.union_all(units.geometry.values[rows])
        strip = shapely.intersection(shapely.union_all(shapely.buffer(st["geometry"].to_numpy()[rows], STRIP_M)), catch)
        zs = zonal_stats([catch, strip], raster, categorical=True, category_map=code_name, nodata=0)
        area.append(catch.area)
        farm.append(zs[0].get("farmland", 0) / max(sum(zs[0].values()), 1))
        strip_farm.append(zs[1].get("farmland", 0) / max(sum(zs[1].values()), 1))
    t2 = time.perf_counter()
    return {"fixed_s": t1 - t0, "loop_s": t2 - t1, "area": np.array(area), "farmland": np.array(farm),
            "strip_farmland": np.array(strip_farm), "n": len(todo)}


def warm_up(raster) -> None:
    """Import and open everything once so that neither side pays for first use."""
    from rasterstats import zonal_stats

    with rasterio.open(raster) as ds:
        b = ds.bounds
    box = shapely.box(b.left, b.bottom, b.left + 100, b.bottom + 100)
    zonal_stats([box], raster, categorical=True)
    c.landcover_shares(gpd.GeoSeries([box], crs=ds.crs), raster)


def report(name, data, subset_n):
    rivers, sections, town, raster = data
    warm_up(raster)
    print(f"\n== {name}: {len(rivers):,} rivers, {len(sections):,} sections")
    o = ours(rivers, sections, town, raster)
    print(f"  ours      {o['total_s']:8.2f} s  (catchments {o['catchments_s']:.2f} s, land-cover shares "
          f"{o['shares_s']:.2f} s)   peak RSS {peak_mib():,.0f} MiB")
    subset = None
    if subset_n and subset_n < len(sections):
        subset = np.random.default_rng(1).choice(len(sections), subset_n, replace=False)
        subset.sort()
    b = baseline(rivers, sections, town, raster, subset)
    scale = len(sections) / b["n"]
    total = b["fixed_s"] + b["loop_s"] * scale
    est = "" if scale == 1 else f"; loop measured on {b['n']} sections, x{scale:.1f}"
    print(f"  baseline  {total:8.2f} s  (network + units {b['fixed_s']:.2f} s, per-section loop "
          f"{b['loop_s'] * scale:.2f} s{est})   peak RSS {peak_mib():,.0f} MiB")
    print(f"  ratio     {total / o['total_s']:8.1f} x")
    sel = subset if subset is not None else slice(None)
    print(f"  max |area diff| {np.max(np.abs(o['area'][sel] - b['area'])):.3g} m2; "
          f"max |farmland share diff| catchment {np.nanmax(np.abs(o['farmland'][sel] - b['farmland'])):.3f}, "
          f"strip {np.nanmax(np.abs(o['strip_farmland'][sel] - b['strip_farmland'])):.3f} (rasterstats: pixel centres)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", choices=("town", "district"))
    ap.add_argument("--baseline-sections", type=int, default=0,
                    help="time the district baseline on this many sections and scale (0: all)")
    ap.add_argument("--data", default=os.path.join(tempfile.gettempdir(), "dongping_bench_catchments"))
    args = ap.parse_args()
    folder = Path(args.data)
    folder.mkdir(parents=True, exist_ok=True)
    print(f"{platform.python_version()} on {cpu_model()}, {os.cpu_count()} cores; load {os.getloadavg()[0]:.1f}")
    if args.only in (None, "town"):
        report("town (sample)", town_data(), 0)
    if args.only in (None, "district"):
        report("district (synthetic)", district_data(folder), args.baseline_sections)
    print(f"\nload average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
