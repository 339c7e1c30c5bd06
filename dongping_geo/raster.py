"""Raster analysis: exact zonal statistics and land-cover change detection.

The land-cover legend below is the single source of truth for class codes,
names and colours: the sample generator, the analyses and the maps all read it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LandCoverClass", "LANDCOVER_LEGEND", "LANDCOVER_NODATA"]


@dataclass(frozen=True)
class LandCoverClass:
    """One class of the land-cover legend."""

    code: int
    name: str
    name_zh: str
    color: str


#: Nodata value of land-cover rasters (uint8).
LANDCOVER_NODATA = 0

#: Land-cover classes of the town's rasters, by code.
LANDCOVER_LEGEND: dict[int, LandCoverClass] = {
    c.code: c
    for c in (
        LandCoverClass(1, "water", "水域", "#4a90d9"),
        LandCoverClass(2, "farmland", "耕地", "#f2d16b"),
        LandCoverClass(3, "forest", "林地", "#2e7d32"),
        LandCoverClass(4, "wetland", "湿地", "#80cbc4"),
        LandCoverClass(5, "built_up", "建设用地", "#d32f2f"),
        LandCoverClass(6, "greenhouse", "设施农用地(大棚)", "#bdbdbd"),
        LandCoverClass(7, "bare", "裸地", "#a1887f"),
    )
}
