"""Parcels of given land-cover classes inside an area (connected pixels, polygonised)."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import shapely


def class_parcels(raster: Any, area: shapely.Geometry, codes: list[int], crs: Any) -> gpd.GeoDataFrame:
    """Connected pixels of ``codes`` inside ``area`` (in ``crs``), one row per parcel piece."""
    import rasterio.features
    import rasterio.windows

    from .raster import _open

    with _open(raster) as ds:
        a = gpd.GeoSeries([area], crs=crs).to_crs(ds.crs).iloc[0]
        win = rasterio.windows.from_bounds(*a.bounds, transform=ds.transform)
        c0, r0 = int(np.floor(win.col_off)), int(np.floor(win.row_off))
        c1, r1 = int(np.ceil(win.col_off + win.width)), int(np.ceil(win.row_off + win.height))
        c0, r0, c1, r1 = max(c0, 0), max(r0, 0), min(c1, ds.width), min(r1, ds.height)
        win = rasterio.windows.Window(c0, r0, max(c1 - c0, 0), max(r1 - r0, 0))
        data = ds.read(1, window=win)
        transform = ds.window_transform(win)
        rcrs = ds.crs
    mask = np.isin(data, codes)
    shapes = list(rasterio.features.shapes(data, mask=mask, transform=transform))
    if not shapes:
        return gpd.GeoDataFrame({"code": np.array([], dtype=int)}, geometry=[], crs=crs)
    geoms = [shapely.geometry.shape(g) for g, _ in shapes]
    code = np.array([int(v) for _, v in shapes])
    gdf = gpd.GeoDataFrame({"code": code}, geometry=geoms, crs=rcrs).to_crs(crs)
    gdf["geometry"] = shapely.intersection(gdf.geometry.values, area)
    gdf = gdf.explode(index_parts=False)
    gdf = gdf[shapely.get_type_id(gdf.geometry.values) == 3]
    return gdf.reset_index(drop=True)
