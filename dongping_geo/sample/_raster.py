"""Sample dataset, part 5: 10 m land-cover rasters of 2020 and 2022 (EPSG:4549)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import rasterio
import rasterio.features
import shapely
from rasterio.transform import from_origin

import dongping_geo.sample._layout as L

from ..raster import LANDCOVER_LEGEND, LANDCOVER_NODATA

RES_M = 10.0
CODE = {c.name: c.code for c in LANDCOVER_LEGEND.values()}
HALF_WIDTH_M = {"district": 15.0, "town": 8.0, "village": 4.0}
N_PATCHES = 6
PATCH_MARGIN_PX = 3


def grid(town_world: shapely.Polygon) -> tuple[rasterio.Affine, int, int]:
    minx, miny, maxx, maxy = town_world.bounds
    x0, y1 = np.floor(minx / RES_M) * RES_M - RES_M, np.ceil(maxy / RES_M) * RES_M + RES_M
    width = int(np.ceil((maxx - x0) / RES_M)) + 1
    height = int(np.ceil((y1 - miny) / RES_M)) + 1
    return from_origin(x0, y1, RES_M, RES_M), width, height


# Greenhouse clusters (设施农业) line both banks of the village channels of these cells
# (west river, east river, band) from GREENHOUSE_BANK_M[0] to [1] metres off the centre
# line; their sections fail TP and NH3_N through 2022. The other village channels have
# a shelter belt of VILLAGE_BELT_M each side (生态缓冲带).
GREENHOUSE_CELLS = (("长江西河", "长江中心河", "north"), ("前进中心河", "跃进河", "south"),
                    ("前哨东河", "光明河", "south"))
GREENHOUSE_BANK_M = (8.0, 90.0)
GREENHOUSE_END_GAP_M = 40.0
VILLAGE_BELT_M = 15.0
BAND_SPLIT_V = {n: v for n, v, *_ in L.EW_RIVERS}["东平中横河"]  # the southern band lies below it


def greenhouse_channels(rivers) -> list[int]:
    """Positions of the village channels lined with greenhouses (GREENHOUSE_CELLS) and their ditches."""
    u_of = {n: g.coords[0][0] for n, g, k in zip(rivers["name"], rivers.geometry, rivers["kind"], strict=True)
            if k == "ns"}
    out = []
    for west, east, band in GREENHOUSE_CELLS:
        for i, (g, k) in enumerate(zip(rivers.geometry, rivers["kind"], strict=True)):
            (u0, v), (u1, _) = g.coords[0], g.coords[-1]
            south = v < BAND_SPLIT_V
            if k == "vch" and (u0, u1) == (u_of[west], u_of[east]) and south == (band == "south"):
                out.append(i)
    # The ditches branching off them lie among the greenhouses too.
    starts = [shapely.Point(g.coords[0]) for g in rivers.geometry]
    out += [j for j, k in enumerate(rivers["kind"]) if k == "stub"
            and any(rivers.geometry.iloc[i].distance(starts[j]) < 1e-6 for i in out)]
    return sorted(out)


def greenhouse_clusters(rivers, channels: list[int]) -> list:
    """Greenhouse rectangles (local frame) on both banks of the given channels (ditches skipped)."""
    a, b = GREENHOUSE_BANK_M
    out = []
    for i in channels:
        if rivers["kind"].iloc[i] != "vch":
            continue
        g = rivers.geometry.iloc[i]
        (u0, v), (u1, _) = g.coords[0], g.coords[-1]
        u0, u1 = u0 + GREENHOUSE_END_GAP_M, u1 - GREENHOUSE_END_GAP_M
        out += [L.lbox(u0, v + a, u1, v + b), L.lbox(u0, v - b, u1, v - a)]
    return out


def _riparian_belts(layout: L.Layout, greenhouse_channels: list[int]) -> list:
    """Shelter-forest belts along district and town rivers (the strip farmland keeps clear of)
    and buffer belts along the village channels without greenhouses (and their ditches)."""
    from ._landuse import FARM_INSET_M

    rv = layout.rivers
    width = rv["level"].map(FARM_INSET_M).to_numpy(float).copy()
    width[rv["level"].to_numpy() == "village"] = VILLAGE_BELT_M
    keep = np.ones(len(rv), bool)
    keep[greenhouse_channels] = False
    belts = shapely.buffer(rv.geometry.to_numpy()[keep], width[keep], cap_style="flat")
    return [L.world(b) for b in belts]


def landcover_2020(layout: L.Layout, greenhouse_blocks: list, bare_sites: list, *,
                   greenhouse_channels: Sequence[int] = ()) -> tuple[np.ndarray, rasterio.Affine]:
    """The 2020 land cover; greenhouse clusters line ``greenhouse_channels`` (positions)."""
    town_w = L.world(layout.town_local)
    transform, width, height = grid(town_w)
    clusters = greenhouse_clusters(layout.rivers, list(greenhouse_channels))
    arr = np.full((height, width), LANDCOVER_NODATA, np.uint8)
    layers = [
        ([town_w], CODE["farmland"]),
        ([L.world(g) for g in [*greenhouse_blocks, *clusters]], CODE["greenhouse"]),
        ([L.world(g) for g in bare_sites], CODE["bare"]),
        ([L.world(layout.forest_local)], CODE["forest"]),
        (_riparian_belts(layout, list(greenhouse_channels)), CODE["forest"]),
        ([L.world(layout.wetland_local)], CODE["wetland"]),
        ([L.world(g) for g in [layout.town_centre_local, *layout.industrial_local,
                               *layout.settlements_local]], CODE["built_up"]),
    ]
    for geoms, code in layers:
        rasterio.features.rasterize([(g, code) for g in geoms], out=arr, transform=transform)
    rv = layout.rivers
    water = shapely.buffer(L.world(rv.geometry.to_numpy()), rv["level"].map(HALF_WIDTH_M).to_numpy(float),
                           cap_style="flat")
    water = [shapely.intersection(w, town_w) for w in water]
    rasterio.features.rasterize([(g, CODE["water"]) for g in water], out=arr, transform=transform,
                                all_touched=True)
    # Nothing outside the town.
    inside = rasterio.features.geometry_mask([town_w], (height, width), transform, invert=True)
    arr[~inside] = LANDCOVER_NODATA
    return arr, transform


def plant_changes(arr20: np.ndarray, transform: rasterio.Affine, blocks_world: list,
                  rng: np.random.Generator) -> tuple[np.ndarray, list[dict]]:
    """New built-up patches on 2020 farmland; each a pixel-aligned rectangle of 1,500-15,000 m²."""
    arr = arr20.copy()
    farmland, built = CODE["farmland"], CODE["built_up"]
    patches: list[dict[str, Any]] = []
    sizes = [(6, 4), (8, 6), (10, 8), (12, 9), (15, 10), (9, 5)]
    order = rng.permutation(len(blocks_world))
    m = PATCH_MARGIN_PX
    for (w, h), bi in zip(sizes, order, strict=False):
        blk = blocks_world[int(bi)].buffer(-30.0)
        minx, miny, maxx, maxy = blk.bounds
        for _ in range(500):
            x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
            col, row = ~transform * (x, y)
            col, row = int(col), int(row)
            win = arr[row - m: row + h + m, col - m: col + w + m]
            if win.shape != (h + 2 * m, w + 2 * m) or not np.all(win == farmland):
                continue
            if any(abs(p["_row"] - row) < 60 and abs(p["_col"] - col) < 60 for p in patches):
                continue
            arr[row: row + h, col: col + w] = built
            x0, y1 = transform * (col, row)
            x1, y0 = transform * (col + w, row + h)
            patches.append(dict(_row=row, _col=col, bbox=[x0, y0, x1, y1], area_m2=float(w * h * RES_M**2),
                                pixels=w * h, from_class="farmland", to_class="built_up",
                                from_code=farmland, to_code=built))
            break
        else:
            raise RuntimeError("could not place a land-cover change patch")
    patches.sort(key=lambda p: (p["bbox"][0], p["bbox"][1]))
    out = []
    for k, p in enumerate(patches, start=1):
        out.append({"patch_id": f"LC-{k:02d}", **{q: v for q, v in p.items() if not q.startswith("_")}})
    return arr, out


def write_tif(arr: np.ndarray, transform: rasterio.Affine, path, year: int) -> None:
    profile = dict(driver="GTiff", width=arr.shape[1], height=arr.shape[0], count=1, dtype="uint8",
                   crs="EPSG:4549", transform=transform, nodata=LANDCOVER_NODATA, tiled=True,
                   blockxsize=256, blockysize=256, compress="deflate", predictor=2, zlevel=9)
    legend = {str(c.code): {"name": c.name, "name_zh": c.name_zh} for c in LANDCOVER_LEGEND.values()}
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(arr, 1)
        dst.set_band_description(1, f"land cover {year} (synthetic sample)")
        # DATE: the (synthetic) acquisition date that detect_change reports for the image.
        dst.update_tags(SYNTHETIC="yes", YEAR=str(year), DATE=f"{year}-07-15",
                        LEGEND=json.dumps(legend, ensure_ascii=False),
                        SOURCE="dongping_geo sample generator; synthetic, not a real classification")
        cmap = {0: (0, 0, 0, 0)}
        for c in LANDCOVER_LEGEND.values():
            h = c.color.lstrip("#")
            cmap[c.code] = (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16), 255)
        dst.write_colormap(1, cmap)
