"""Synthetic district-scale inputs for the dask benchmarks (see scale.make_district_inputs).

Towns are laid out in a grid over a Chongming-sized area (about 80 km × 20 km, in
EPSG:4549); each town has 74 canal-like rivers like the sample town. Everything is
synthetic and deterministic for a seed, and written file by file so that memory
stays bounded whatever the number of fixes or buildings.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

CRS = "EPSG:4549"
RIVERS_PER_TOWN = 74
FIXES_PER_PATROL = 500
FIX_EVERY_S = 10.0
TOWN_W, TOWN_H = 12_000.0, 8_000.0
TOWN_COLS = 6  # 18 towns: 72 km x 24 km, about Chongming Island
X0, Y0 = 600_000.0, 3_490_000.0


def town_rivers(town: int, seed: int) -> gpd.GeoDataFrame:
    """74 rivers in one town cell: 20 east-west, 54 north-south, bent every ~150 m."""
    rng = np.random.default_rng([seed, 1, town])
    ox = X0 + (town % TOWN_COLS) * TOWN_W
    oy = Y0 + (town // TOWN_COLS) * TOWN_H
    geoms = []
    for i in range(20):
        n = int(rng.integers(20, 70))
        x = ox + rng.uniform(0, TOWN_W - n * 150.0) + np.arange(n) * 150.0
        y = oy + 200 + i * 380.0 + np.cumsum(rng.normal(0, 8, n))
        geoms.append(shapely.LineString(np.column_stack([x, y])))
    for _ in range(RIVERS_PER_TOWN - 20):
        n = int(rng.integers(10, 45))
        xv = ox + rng.uniform(100, TOWN_W - 100) + np.cumsum(rng.normal(0, 8, n))
        yv = oy + rng.uniform(0, TOWN_H - n * 150.0) + np.arange(n) * 150.0
        geoms.append(shapely.LineString(np.column_stack([xv, yv])))
    k = np.arange(RIVERS_PER_TOWN)
    return gpd.GeoDataFrame(
        {
            "river_id": [f"T{town:02d}R{i:02d}" for i in k],
            "name": [f"town {town} river {i}" for i in k],
            "level": np.where(k < 4, "district", np.where(k < 20, "town", "village")),
            "region": f"town{town:02d}",
            "chief": [f"chief T{town:02d}-{i % 25:02d}" for i in k],
        },
        geometry=geoms,
        crs=CRS,
    )


def district_rivers(n_towns: int, seed: int) -> gpd.GeoDataFrame:
    """All towns' rivers in one layer."""
    return pd.concat([town_rivers(t, seed) for t in range(n_towns)], ignore_index=True)


def patrol_fixes(rivers: gpd.GeoDataFrame, n_pat: int, rng: np.random.Generator,
                 prefix: str) -> gpd.GeoDataFrame:
    """Patrols of 500 fixes walking along random rivers at 1–1.5 m/s, 10 s apart.

    Each keeps to one bank (0–45 m off, so some stay outside a 30 m tolerance),
    with 5 m GPS noise; one in four has a 10-minute signal gap.
    """
    geoms = rivers.geometry.values
    lengths = shapely.length(geoms)
    river = rng.integers(0, len(rivers), n_pat)
    speed = rng.uniform(1.0, 1.5, n_pat)
    k = np.arange(FIXES_PER_PATROL)
    span = speed * FIX_EVERY_S * (FIXES_PER_PATROL - 1)
    start = rng.uniform(0, 1, n_pat) * np.maximum(lengths[river] - span, 0)
    m = start[:, None] + speed[:, None] * FIX_EVERY_S * k[None, :]
    L = lengths[river][:, None]
    m = np.abs(((m + L) % (2 * L)) - L)  # walk back and forth on short rivers
    m = np.where(rng.random(n_pat)[:, None] < 0.5, m, L - m)
    g = np.repeat(geoms[river], FIXES_PER_PATROL)
    flat = m.ravel()
    xy = shapely.get_coordinates(shapely.line_interpolate_point(g, flat))
    ahead = shapely.get_coordinates(
        shapely.line_interpolate_point(g, np.minimum(flat + 1.0, np.repeat(L.ravel(), FIXES_PER_PATROL)))
    )
    d = ahead - xy
    norm = np.hypot(d[:, 0], d[:, 1])
    norm[norm == 0] = 1
    off = np.repeat(rng.uniform(0, 45, n_pat), FIXES_PER_PATROL)
    xy[:, 0] += -d[:, 1] / norm * off + rng.normal(0, 5, len(xy))
    xy[:, 1] += d[:, 0] / norm * off + rng.normal(0, 5, len(xy))
    t0 = np.datetime64("2024-01-01T00:00") + rng.integers(0, 365 * 24 * 3600, n_pat).astype("timedelta64[s]")
    dt = np.tile(k * FIX_EVERY_S, n_pat).reshape(n_pat, -1)
    gap = rng.random(n_pat) < 0.25
    at = rng.integers(50, 450, n_pat)
    dt = dt + np.where(gap[:, None] & (k[None, :] >= at[:, None]), 600.0, 0.0)
    ts = np.repeat(t0, FIXES_PER_PATROL) + dt.ravel().astype("timedelta64[s]")
    return gpd.GeoDataFrame(
        {
            "patrol_id": np.repeat([f"{prefix}{i:05d}" for i in range(n_pat)], FIXES_PER_PATROL),
            "chief": np.repeat(rivers["chief"].to_numpy()[river], FIXES_PER_PATROL),
            # GPX-like: UTC instants, stored tz-aware in local time.
            "timestamp": pd.DatetimeIndex(ts).tz_localize("UTC").tz_convert("Asia/Shanghai"),
        },
        geometry=shapely.points(xy),
        crs=CRS,
    )


def _blob(rng: np.random.Generator, cx: float, cy: float, radius: float, n: int) -> shapely.Polygon:
    theta = np.linspace(0, 2 * np.pi, n, endpoint=False)
    r = radius * (1 + 0.25 * np.sin(int(rng.integers(2, 7)) * theta + rng.uniform(0, 6)))
    return shapely.Polygon(np.column_stack([cx + r * np.cos(theta), cy + r * np.sin(theta)]))


def district_zones(n_towns: int, seed: int) -> gpd.GeoDataFrame:
    """Per town, 2 red-line blobs and 4 farmland blobs of 200 vertices."""
    rng = np.random.default_rng([seed, 2])
    rows = []
    for t in range(n_towns):
        ox = X0 + (t % TOWN_COLS) * TOWN_W
        oy = Y0 + (t // TOWN_COLS) * TOWN_H
        for j in range(6):
            cat = "eco_redline" if j < 2 else "basic_farmland"
            g = _blob(rng, ox + rng.uniform(800, TOWN_W - 800), oy + rng.uniform(800, TOWN_H - 800),
                      rng.uniform(300, 700), 200)
            rows.append((f"T{t:02d}Z{j}", cat, g))
    ids, cats, geoms = zip(*rows, strict=True)
    return gpd.GeoDataFrame({"zone_id": ids, "name": ids, "category": cats}, geometry=list(geoms), crs=CRS)


def buildings(n: int, n_towns: int, rng: np.random.Generator, first_id: int) -> gpd.GeoDataFrame:
    """Small rectangles (8–30 m) scattered over the towns."""
    t = rng.integers(0, n_towns, n)
    x = X0 + (t % TOWN_COLS) * TOWN_W + rng.uniform(0, TOWN_W, n)
    y = Y0 + (t // TOWN_COLS) * TOWN_H + rng.uniform(0, TOWN_H, n)
    w = rng.uniform(8, 30, n)
    h = rng.uniform(8, 30, n)
    return gpd.GeoDataFrame(
        {"building_id": [f"B{i:08d}" for i in range(first_id, first_id + n)],
         "surveyed_on": pd.Timestamp("2024-06-30").date()},
        geometry=shapely.box(x, y, x + w, y + h),
        crs=CRS,
    )


def write_inputs(out: Path, *, n_towns: int, n_fixes: int, n_buildings: int, seed: int,
                 rows_per_file: int) -> dict[str, Path]:
    """Write rivers.parquet, zones.parquet, fixes/part.N.parquet, buildings/part.N.parquet."""
    out.mkdir(parents=True, exist_ok=True)
    rivers = district_rivers(n_towns, seed)
    rivers.to_parquet(out / "rivers.parquet")
    district_zones(n_towns, seed).to_parquet(out / "zones.parquet")
    fdir, bdir = out / "fixes", out / "buildings"
    for d in (fdir, bdir):
        d.mkdir(exist_ok=True)
        for old in d.glob("*.parquet"):
            old.unlink()
    patrols_per_file = max(1, rows_per_file // FIXES_PER_PATROL)
    n_pat = -(-n_fixes // FIXES_PER_PATROL)
    written, part = 0, 0
    while written < n_fixes:
        k = min(patrols_per_file, n_pat - part * patrols_per_file)
        rng = np.random.default_rng([seed, 3, part])
        fx = patrol_fixes(rivers, k, rng, prefix=f"P{part:04d}-")
        fx = fx.iloc[: n_fixes - written]
        fx.to_parquet(fdir / f"part.{part:04d}.parquet", index=False)
        written += len(fx)
        part += 1
    done, part = 0, 0
    while done < n_buildings:
        k = min(rows_per_file, n_buildings - done)
        rng = np.random.default_rng([seed, 4, part])
        buildings(k, n_towns, rng, done).to_parquet(bdir / f"part.{part:04d}.parquet", index=False)
        done += k
        part += 1
    return {"rivers": out / "rivers.parquet", "zones": out / "zones.parquet",
            "fixes": fdir, "buildings": bdir}
