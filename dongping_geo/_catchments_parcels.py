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
        win = win.round_offsets("floor").round_lengths("ceil").intersection(
            rasterio.windows.Window(0, 0, ds.width, ds.height))
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
