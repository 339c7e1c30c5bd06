"""Sample dataset, part 6: the land survey (地类图斑 DLTB) as a File Geodatabase.

``dltb_2020.gdb`` holds one layer ``DLTB`` (alias 地类图斑) with the survey's standard
field names and codes (see docs/land-survey.md). It is the land base *before* the houses
new in the 2022 building survey: the 2020 annual update (2020 年度国土变更调查, standard
date 2020-12-31), built by :func:`dongping_geo._landsurvey_synth.synthetic_land_survey`
from the 2020 land-cover raster, the basic farmland and the 2020 building survey, and:

* every building new in 2022 that is **not** planted stands on its own plot (footprint
  grown by ``PLOT_M``) recorded as construction land of its use (0702 homestead,
  0601 industrial, 05H1 commercial): land the survey already held as built;
* demolished sites reclaimed (已复垦) by the end of 2020 are 0103 旱地;
* so the planted houses on cultivated land (乱占耕地建房) are exactly the new houses in
  basic farmland (cultivated, on basic farmland) and the new houses rebuilt on reclaimed
  demolished sites (cultivated, outside basic farmland). Every building of the 2020
  survey stands on homestead land (0702), so the check of the whole 2022 survey finds
  the same houses as the check of the new ones.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

import dongping_geo.sample._layout as L

from .._landsurvey_synth import synthetic_land_survey
from ..raster import LANDCOVER_LEGEND

#: The sample's survey database (a folder) and its parcel layer.
FILE_NAME = "dltb_2020.gdb"
LAYER = "DLTB"
LAYER_ALIAS = "地类图斑"
#: Mean spacing of the parcels, metres, and how far a plot reaches beyond its building.
PARCEL_M = 300.0
PLOT_M = 8.0
#: Field-ridge deduction coefficient (KCXS) of the cultivated parcels: an assumed value
#: for a plain of paddy fields (the survey sets it per county and slope grade).
RIDGE_RATIO = 0.02
#: Land code of the plot of a new building that does not occupy cultivated land.
USE_CODE = {"residential": "0702", "industrial": "0601", "public_commercial": "05H1"}
#: Reclaimed demolished sites up to this date are cultivated land (0103) in the survey.
SURVEY_DATE = pd.Timestamp("2020-12-31")


def _plots(geoms: np.ndarray) -> Any:
    return shapely.union_all(shapely.buffer(geoms, PLOT_M, join_style="mitre"))


def make_land_survey(
    town_w: gpd.GeoDataFrame,
    regions: gpd.GeoDataFrame,
    rivers_w: gpd.GeoDataFrame,
    red_w: gpd.GeoDataFrame,
    demolitions: gpd.GeoDataFrame,
    surveys: Any,
    landcover: tuple[np.ndarray, Any],
    *,
    seed: int,
) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """Return the DLTB parcels (EPSG:4549) and the manifest section listing the planted houses."""
    b20 = gpd.GeoDataFrame(surveys.b2020, geometry=L.world(surveys.b2020.geometry.to_numpy()), crs=L.WORK_EPSG)
    b22 = gpd.GeoDataFrame(surveys.b2022, geometry=L.world(surveys.b2022.geometry.to_numpy()), crs=L.WORK_EPSG)
    units = gpd.GeoDataFrame(regions[["region", "name"]].reset_index(drop=True),
                             geometry=L.world(regions.geometry.to_numpy()), crs=L.WORK_EPSG)
    dem = gpd.GeoDataFrame(demolitions.drop(columns="geometry"),
                           geometry=L.world(demolitions.geometry.to_numpy()), crs=L.WORK_EPSG)
    reclaimed = dem[(dem["status"] == "reclaimed") & (pd.to_datetime(dem["demolished_on"]) <= SURVEY_DATE)]
    shapely.prepare(reclaimed.geometry.to_numpy())
    new = b22[~b22["building_id"].isin(b20["building_id"])]
    on_farm = list(surveys.planted["basic_farmland"])
    on_site = [b for b in surveys.planted["demolished_site"]
               if shapely.contains(reclaimed.geometry.to_numpy(),
                                   new.loc[new["building_id"] == b, "geometry"].iloc[0]).any()]
    planted = set(on_farm) | set(on_site)
    others = new[~new["building_id"].isin(planted)]
    carves = [(_plots(others.geometry.to_numpy()[(others["use"] == use).to_numpy()]), code)
              for use, code in USE_CODE.items()]
    carves.append((shapely.union_all(reclaimed.geometry.to_numpy()), "0103"))
    farmland = red_w[red_w["category"] == "basic_farmland"]
    legend = {c.code: c.name for c in LANDCOVER_LEGEND.values()}
    dltb = synthetic_land_survey(town_w.geometry.iloc[0], units, rivers_w, farmland, b20, landcover, legend,
                                 carves=carves, seed=seed, parcel_m=PARCEL_M, plot_m=PLOT_M,
                                 ridge_ratio=RIDGE_RATIO)
    facts = {
        "file": FILE_NAME, "layer": LAYER, "layer_alias": LAYER_ALIAS,
        "vintage": "2020 annual update (2020 年度国土变更调查), standard date 2020-12-31",
        "parcels": len(dltb),
        "tbmj_sum_m2": round(float(dltb["TBMJ"].sum()), 2),
        "new_houses_on_cultivated_land": sorted(planted),
        "on_basic_farmland": sorted(on_farm),
        "on_reclaimed_sites": sorted(on_site),
        "note": ("Buildings new in buildings_2022 (not in buildings_2020) standing on cultivated parcels "
                 "(0101/0102/0103) are exactly new_houses_on_cultivated_land; every other 2022 building "
                 f"stands on its own plot ({PLOT_M:g} m around it) of homestead, industrial or commercial "
                 "land, or on water. Cultivated parcels come from basic farmland, reclaimed demolished "
                 "sites and the 2020 land cover."),
    }
    return dltb, facts


def write_land_survey(dltb: gpd.GeoDataFrame, out: Path) -> Path:
    """Write the parcels as ``out/dltb_2020.gdb`` (layer DLTB), replacing an older copy."""
    path = out / FILE_NAME
    if path.exists():
        shutil.rmtree(path)
    dltb.to_file(path, driver="OpenFileGDB", layer=LAYER, engine="pyogrio",
                 layer_options={"LAYER_ALIAS": LAYER_ALIAS, "TARGET_ARCGIS_VERSION": "ARCGIS_PRO_3_2_OR_LATER"})
    return path


def write_sample_land_survey(design: Any, written: dict[str, Any], out: Path) -> dict[str, Any]:
    """Build and write ``dltb_2020.gdb`` from the generator's design; return its manifest section.

    ``written`` holds the world-frame layers already written (town, rivers, red lines) and
    ``out`` the 2020 land-cover raster.
    """
    import rasterio

    with rasterio.open(out / "landcover_2020.tif") as src:
        landcover = (src.read(1), src.transform)
    dltb, facts = make_land_survey(written["town_w"], design.layout.regions, written["rivers_w"], written["red_w"],
                                   design.demol, design.surveys, landcover, seed=design.seed)
    write_land_survey(dltb, out)
    return facts
