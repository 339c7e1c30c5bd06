"""A synthetic 三调-style 地类图斑 (DLTB) layer for the sample dataset.

Pure function, no files: :func:`synthetic_land_survey` takes the sample's own layers and
returns parcels with the survey's standard field names and codes, consistent with them:

1. a Voronoi partition of the town (seeds ``parcel_m`` apart, jittered), split along the
   boundaries of the village units (a parcel never crosses a unit, as in the survey);
2. river channels (centre lines buffered by an assumed half width per level) become water
   parcels: 1101 河流水面 for district and town rivers, 1107 沟渠 for village ones;
3. the plots of the earlier building survey (footprints grown by ``plot_m``) become
   0702 农村宅基地, so every building of that survey stands on homestead land;
4. permanent basic farmland becomes cultivated land (0101 水田 / 0102 水浇地);
5. the rest takes its class from the land-cover raster at the piece's representative point
   (farmland → 0101/0102/0103, water → 1104, forest → 0301, wetland → 1106, built-up →
   0702, greenhouse → 1202, bare → 1206).

Buildings of a later survey standing on cultivated parcels are then the sample's houses
on cultivated land; the caller (the sample generator) lists them in its manifest.
TBMJ is the parcel's ellipsoidal area (as the survey's is), rounded to 0.01 m². Unit codes
are synthetic. Everything here is synthetic and says so in the ``BZ`` (备注) field.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._landsurvey import geodesic_areas
from .landclass import LAND_CLASSES

#: Assumed half channel width per river level, metres (the sample's choice, not a rule).
RIVER_HALF_WIDTH_M = {"district": 15.0, "town": 8.0, "village": 4.0}
#: Land-cover raster class name -> land-class codes (with weights where several).
LANDCOVER_TO_CODES: dict[str, tuple[tuple[str, float], ...]] = {
    "farmland": (("0101", 0.6), ("0102", 0.3), ("0103", 0.1)),
    "water": (("1104", 1.0),),
    "forest": (("0301", 1.0),),
    "wetland": (("1106", 1.0),),
    "built_up": (("0702", 1.0),),
    "greenhouse": (("1202", 1.0),),
    "bare": (("1206", 1.0),),
}
_GRID_M = 0.001
_TOWN_CODE = "310151999"  # synthetic: Chongming district (310151) + an unused town number


def _partition(town: Any, units: gpd.GeoDataFrame, parcel_m: float, rng: np.random.Generator):
    """Voronoi cells of the town split by units: (pieces, unit index of each piece)."""
    x0, y0, x1, y1 = town.bounds
    gx, gy = np.meshgrid(np.arange(x0, x1, parcel_m), np.arange(y0, y1, parcel_m))
    pts = np.column_stack([gx.ravel(), gy.ravel()]) + rng.uniform(-0.4, 0.4, (gx.size, 2)) * parcel_m
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=town))
    unit_geoms = shapely.intersection(units.geometry.to_numpy(), town)
    ui, ci = shapely.STRtree(cells).query(unit_geoms, predicate="intersects")
    pieces = shapely.intersection(cells[ci], unit_geoms[ui])
    return pieces, ui


def _carve(pieces, unit_of, codes, mask_geom, code_of_part):
    """Cut ``mask_geom`` out of the open pieces; the cut-out parts get ``code_of_part``."""
    open_ = codes == ""
    shapely.prepare(mask_geom)
    tree_hits = shapely.intersects(pieces, mask_geom) & open_
    idx = np.flatnonzero(tree_hits)
    inside = shapely.intersection(pieces[idx], mask_geom)
    outside = shapely.difference(pieces[idx], mask_geom)
    pieces = pieces.copy()
    pieces[idx] = outside
    new_pieces = np.concatenate([pieces, inside])
    new_units = np.concatenate([unit_of, unit_of[idx]])
    new_codes = np.concatenate([codes, np.full(idx.size, code_of_part, dtype=object)])
    return new_pieces, new_units, new_codes


def _landcover_codes(points, landcover: tuple[np.ndarray, Any], legend: dict[int, str],
                     rng: np.random.Generator) -> np.ndarray:
    """Land codes from the land-cover class under each point."""
    array, transform = landcover
    xy = shapely.get_coordinates(points)
    col = np.floor((xy[:, 0] - transform.c) / transform.a).astype(int)
    row = np.floor((xy[:, 1] - transform.f) / transform.e).astype(int)
    ok = (row >= 0) & (row < array.shape[0]) & (col >= 0) & (col < array.shape[1])
    names = np.full(len(points), "farmland", dtype=object)
    names[ok] = [legend.get(int(v), "farmland") for v in array[row[ok], col[ok]]]
    out = np.empty(len(points), dtype=object)
    for name, choices in LANDCOVER_TO_CODES.items():
        sel = names == name
        codes, weights = zip(*choices, strict=True)
        out[sel] = rng.choice(np.array(codes, dtype=object), size=int(sel.sum()), p=np.array(weights))
    return out


def synthetic_land_survey(
    town: Any,
    units: gpd.GeoDataFrame,
    rivers: gpd.GeoDataFrame,
    farmland: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    landcover: tuple[np.ndarray, Any],
    legend: dict[int, str],
    *,
    seed: int = 0,
    parcel_m: float = 150.0,
    plot_m: float = 8.0,
    min_area_m2: float = 1.0,
) -> gpd.GeoDataFrame:
    """Build a synthetic DLTB layer from the sample's layers (all in one metric CRS).

    Parameters
    ----------
    town : shapely Polygon
        The town outline.
    units : GeoDataFrame
        Village units (坐落单位) covering the town, with a ``name`` column.
    rivers : GeoDataFrame
        River centre lines with ``level`` (district/town/village).
    farmland : GeoDataFrame
        Permanent basic farmland polygons.
    buildings : GeoDataFrame
        The earlier building survey: its plots become homestead land.
    landcover : tuple of (ndarray, affine.Affine)
        Land-cover class array and its transform, in the same CRS.
    legend : dict of int to str
        Land-cover code -> class name (``farmland``, ``water`` …).
    seed : int, default 0
        Random seed (same seed, same layer).
    parcel_m : float, default 150.0
        Spacing of the partition's seeds, metres.
    plot_m : float, default 8.0
        How far a homestead plot reaches beyond its building, metres.
    min_area_m2 : float, default 1.0
        Slivers smaller than this are dropped.

    Returns
    -------
    GeoDataFrame
        Parcels with BSM, TBBH, DLBM, DLMC, QSXZ, QSDWDM, QSDWMC, ZLDWDM, ZLDWMC, TBMJ,
        KCDLBM, KCXS, KCMJ, TBDLMJ, GDLX, GDPDJB, BZ and Polygon geometry, in the CRS of
        ``units``.

    Examples
    --------
    >>> dltb = synthetic_land_survey(town, regions, rivers, farmland, b2020, (lc, tf), legend)  # doctest: +SKIP
    """
    rng = np.random.default_rng(seed)
    pieces, unit_of = _partition(town, units, parcel_m, rng)
    codes = np.full(len(pieces), "", dtype=object)
    levels = rivers["level"].to_numpy()
    for level, code in (("district", "1101"), ("town", "1101"), ("village", "1107")):
        lines = rivers.geometry.to_numpy()[levels == level]
        if lines.size:
            zone = shapely.union_all(shapely.buffer(lines, RIVER_HALF_WIDTH_M[level]))
            pieces, unit_of, codes = _carve(pieces, unit_of, codes, zone, code)
    plots = shapely.union_all(shapely.buffer(buildings.geometry.to_numpy(), plot_m, join_style="mitre"))
    pieces, unit_of, codes = _carve(pieces, unit_of, codes, plots, "0702")
    farm = shapely.union_all(farmland.geometry.to_numpy())
    pieces, unit_of, codes = _carve(pieces, unit_of, codes, farm, "CULT")
    # overlay output may self-touch: make it valid, then explode (collections hold
    # multipolygons: two levels) into parcels, dropping slivers, lines and points
    bad = ~shapely.is_valid(pieces)
    pieces[bad] = shapely.make_valid(pieces[bad])
    parts, part_of = shapely.get_parts(pieces, return_index=True)
    parts, sub_of = shapely.get_parts(parts, return_index=True)
    part_of = part_of[sub_of]
    # a 1 mm grid, as a File Geodatabase stores coordinates on one: snapped here, the
    # parcels stay valid after a round trip
    parts = shapely.set_precision(parts, _GRID_M)
    keep = (shapely.get_type_id(parts) == 3) & (shapely.area(parts) >= min_area_m2)
    parts, unit_of, codes = parts[keep], unit_of[part_of[keep]], codes[part_of[keep]]
    cult = codes == "CULT"
    codes[cult] = rng.choice(np.array(["0101", "0102"], dtype=object), size=int(cult.sum()), p=[0.7, 0.3])
    rest = codes == ""
    codes[rest] = _landcover_codes(shapely.point_on_surface(parts[rest]), landcover, legend, rng)
    return _attributes(parts, unit_of, codes, units)


def _attributes(parts: np.ndarray, unit_of: np.ndarray, codes: np.ndarray,
                units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Standard DLTB fields for the parcels, ordered by unit then position."""
    names = units["name"].astype(str).to_numpy()
    unit_codes = np.array([f"{_TOWN_CODE}{i + 1:03d}0000000" for i in range(len(units))], dtype=object)
    c = shapely.get_coordinates(shapely.point_on_surface(parts))
    order = np.lexsort((np.round(c[:, 0], 1), -np.round(c[:, 1], 1), unit_of))
    parts, unit_of, codes = parts[order], unit_of[order], codes[order]
    tbbh = pd.Series(unit_of).groupby(unit_of).cumcount().to_numpy() + 1
    tbmj = np.round(geodesic_areas(parts, units.crs), 2)
    cultivated = np.isin(codes, ["0101", "0102", "0103"])
    return gpd.GeoDataFrame({
        "BSM": [f"{_TOWN_CODE}{i + 1:09d}" for i in range(len(parts))],
        "TBBH": tbbh.astype(str),
        "DLBM": codes.astype(str),
        "DLMC": [LAND_CLASSES[c].zh for c in codes],
        "QSXZ": np.where(np.isin(codes, ["1101"]), "10", "30"),
        "QSDWDM": unit_codes[unit_of], "QSDWMC": names[unit_of],
        "ZLDWDM": unit_codes[unit_of], "ZLDWMC": names[unit_of],
        "TBMJ": tbmj,
        "KCDLBM": np.where(cultivated, "1203", ""),
        "KCXS": np.zeros(len(parts)), "KCMJ": np.zeros(len(parts)), "TBDLMJ": tbmj,
        "GDLX": "",
        "GDPDJB": np.where(cultivated, "1", ""),
        "BZ": "synthetic sample data (合成样例数据)",
    }, geometry=parts, crs=units.crs)
