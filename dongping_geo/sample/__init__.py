"""The Dongping sample dataset generator (synthetic geometry, values from the 2021 work report).

:func:`make_sample` writes the dataset that ``data/shapefiles/`` holds: rivers,
sections, measurements, red lines, demolitions, patrols, building surveys, land
cover and a ``manifest.json`` listing every planted fact (violations, land-cover
changes, patrol gaps, water-quality failures) so tests can check that each analysis
finds exactly them. The same seed gives the same files.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import OutputError
from ..io import write_layer
from ..schemas import get_schema
from . import _landuse as LU
from . import _layout as L
from . import _patrol as P
from . import _raster as R
from . import _wq as WQ
from ._path import cache_dir, sample_path

__all__ = ["make_sample", "sample_path", "cache_dir", "SAMPLE_FILES", "DEFAULT_SEED"]

DEFAULT_SEED = 2021

#: Files :func:`make_sample` writes (Shapefile sidecars not listed).
SAMPLE_FILES: tuple[str, ...] = (
    "town.shp", "regions.shp", "roads.shp", "rivers.shp", "sections.shp", "redlines.shp",
    "demolitions.shp", "buildings_2020.shp", "buildings_2022.shp", "measurements.csv",
    "patrols_2022.parquet", "patrols_2022-06.gpx", "patrols_2022-06.csv",
    "landcover_2020.tif", "landcover_2022.tif", "manifest.json",
)

_SYNTHETIC_NOTE = (
    "SYNTHETIC sample data: geometry, names and values are invented; only the counts and "
    "totals of the Dongping Town 2021 work report are reproduced."
)


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, stream])


def _gdf_world(gdf: gpd.GeoDataFrame, columns: list[str]) -> gpd.GeoDataFrame:
    out = gpd.GeoDataFrame(gdf[columns].reset_index(drop=True),
                           geometry=L.world(gdf.geometry.to_numpy()), crs=L.WORK_EPSG)
    return out


def _zh_value(layer: str, field: str, value: str) -> str:
    vals = get_schema(layer).field(field).values
    return vals[value][0]


def make_sample(out_dir: str | os.PathLike, *, seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """Generate the Dongping sample dataset into a folder.

    Parameters
    ----------
    out_dir : path-like
        Output folder (created if missing). Existing sample files in it are replaced.
    seed : int, default 2021
        Random seed; the same seed gives the same files.

    Returns
    -------
    dict
        The manifest (also written to ``manifest.json``).

    Raises
    ------
    OutputError
        If ``out_dir`` exists and is not a folder.

    Examples
    --------
    >>> manifest = make_sample("/tmp/dongping_sample")  # doctest: +SKIP
    >>> manifest["counts"]["rivers"]  # doctest: +SKIP
    74
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise OutputError("the output is not a folder", path=out, expected="a folder",
                          found="a file", fix="pass a folder path")
    out.mkdir(parents=True, exist_ok=True)

    # --- layout -----------------------------------------------------------------------
    outline = L.district_outline_work()
    town, wetland = L.make_town(outline)
    regions = L.make_regions(town)
    road = L.make_road()
    rivers = L.make_rivers(_rng(seed, 1))
    sections = L.make_sections(rivers, _rng(seed, 2))
    layout = L.Layout(outline, town, wetland, regions, road, rivers, L.forest_park(),
                      L.town_centre(), L.industrial_blocks(), L.settlements(rivers, _rng(seed, 3)))
    zones = LU.make_zones(layout, _rng(seed, 4))
    demol = LU.make_demolitions(layout, zones, _rng(seed, 5))
    surveys = LU.make_buildings(layout, zones, demol, _rng(seed, 6))
    meas, wq = WQ.make_measurements(sections, rivers, _rng(seed, 7))
    plan = P.plan_rivers(rivers, sections, _rng(seed, 8))
    fixes, pinfo = P.make_patrols(rivers, plan, _rng(seed, 9))
    cover = P.coverage(rivers, fixes, pinfo["glitches"]["jumps"])

    # --- vector layers ------------------------------------------------------------------
    town_w = gpd.GeoDataFrame({"name": ["东平镇"], "note": ["synthetic"]},
                              geometry=[L.world(town)], crs=L.WORK_EPSG)
    write_layer(town_w, out / "town.shp")
    write_layer(_gdf_world(regions, ["region", "name"]), out / "regions.shp", layer="regions")
    road_w = L.world(road)
    roads = gpd.GeoDataFrame({"road_id": ["BYGL"], "name": ["北沿公路"],
                              "length_m": [round(road_w.length, 1)]},
                             geometry=[road_w], crs=L.WORK_EPSG)
    write_layer(roads, out / "roads.shp")
    rivers_w = _gdf_world(rivers, ["river_id", "name", "level", "region", "chief", "target_class"])
    write_layer(rivers_w, out / "rivers.shp", layer="rivers")
    sections_w = _gdf_world(sections, ["section_id", "name", "tier", "river_id", "target_class"])
    write_layer(sections_w, out / "sections.shp", layer="sections")
    red_w = _gdf_world(zones.redlines, ["zone_id", "name", "category"])
    write_layer(red_w, out / "redlines.shp", layer="redlines")
    # Demolitions as a Chinese agency delivers them: GBK, Chinese field names and values.
    dem = demol.copy()
    dem["kind"] = [_zh_value("demolitions", "kind", k) for k in dem["kind"]]
    dem["region"] = [_zh_value("demolitions", "region", r) for r in dem["region"]]
    dem["status"] = dem["status"].map(LU.STATUS_ZH)
    dem["demolished_on"] = pd.to_datetime(dem["demolished_on"]).dt.date
    dem_w = _gdf_world(dem, ["case_id", "kind", "demolished_on", "area_m2", "region", "status"])
    write_layer(dem_w, out / "demolitions.shp", layer="demolitions", encoding="GBK", field_names="zh")
    for year, b in ((2020, surveys.b2020), (2022, surveys.b2022)):
        bw = _gdf_world(b.assign(surveyed_on=pd.to_datetime(b["surveyed_on"]).dt.date),
                        ["building_id", "surveyed_on", "use"])
        write_layer(bw, out / f"buildings_{year}.shp", layer="buildings")

    # --- tables, patrols ------------------------------------------------------------------
    meas.to_csv(out / "measurements.csv", index=False, encoding="utf-8", lineterminator="\n")
    fixes_w = fixes.reset_index(drop=True)
    fixes_w.to_parquet(out / "patrols_2022.parquet", compression="zstd", index=False,
                       geometry_encoding="geoarrow", write_covering_bbox=False)
    june = fixes_w[fixes_w["timestamp"].dt.month == 6]
    P.write_gpx(june, out / "patrols_2022-06.gpx")
    P.write_csv(june, out / "patrols_2022-06.csv")

    # --- land cover -------------------------------------------------------------------------
    gen_blocks = [zones.farmland_blocks[i] for i in zones.general_idx]
    greenhouse = gen_blocks[: max(2, len(gen_blocks) // 3)]
    rasters_rng = _rng(seed, 10)
    lc20, transform = R.landcover_2020(layout, greenhouse, [])
    farm_world = [L.world(zones.farmland_blocks[i]) for i in zones.basic_idx]
    lc22, patches = R.plant_changes(lc20, transform, farm_world, rasters_rng)
    R.write_tif(lc20, transform, out / "landcover_2020.tif", 2020)
    R.write_tif(lc22, transform, out / "landcover_2022.tif", 2022)

    # --- manifest ------------------------------------------------------------------------
    manifest = _manifest(
        seed=seed, outline=outline, town_w=town_w, road_w=road_w, rivers=rivers, rivers_w=rivers_w,
        sections_w=sections_w, red_w=red_w, dem_w=dem_w, demol=demol, surveys=surveys, meas=meas,
        wq=wq, plan=plan, fixes=fixes_w, pinfo=pinfo, cover=cover, patches=patches, june=june,
        greenhouse=len(greenhouse),
    )
    manifest["files"] = _file_hashes(out)
    text = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=False)
    (out / "manifest.json").write_text(text + "\n", encoding="utf-8")
    return manifest


def _file_hashes(out: Path) -> dict[str, dict[str, Any]]:
    files = {}
    for p in sorted(out.iterdir()):
        if p.name in ("manifest.json", "README.md") or p.is_dir():
            continue
        data = p.read_bytes()
        if p.suffix.lower() == ".dbf":  # bytes 1-3 hold the date the file was written
            data = data[:1] + data[4:]
        files[p.name] = {"bytes": p.stat().st_size, "sha256": hashlib.sha256(data).hexdigest()}
    return files


def _manifest(**k: Any) -> dict[str, Any]:
    rivers, rivers_w, sections_w = k["rivers"], k["rivers_w"], k["sections_w"]
    demol, surveys, plan, cover = k["demol"], k["surveys"], k["plan"], k["cover"]
    rid = rivers["river_id"].to_numpy()
    never = [rid[i] for i in plan.index if plan.at[i, "plan"] == "never"]
    partial = [dict(river_id=rid[i], covered_share_nominal=float(plan.at[i, "share"]),
                    covered_from="first vertex", covered_length_m=round(float(plan.at[i, "share"]) * rivers.geometry.iloc[i].length, 1),
                    covered_share_at_40m=cover[rid[i]], n_patrols=int(plan.at[i, "n_patrols"]))
               for i in plan.index if plan.at[i, "plan"] == "partial"]
    full = {rid[i]: int(plan.at[i, "n_patrols"]) for i in plan.index if plan.at[i, "plan"] == "full"}
    kinds = demol["kind"].value_counts().sort_index()
    geom_area = k["dem_w"].geometry.area
    fixes = k["fixes"]
    return {
        "synthetic": True,
        "note": _SYNTHETIC_NOTE,
        "generator": "dongping_geo.sample.make_sample",
        "seed": k["seed"],
        "crs": {"vector_layers": "EPSG:4549", "patrols": "EPSG:4326 (WGS 84, GPS)",
                "rasters": "EPSG:4549"},
        "reference_outline": L.REFERENCE_ATTRIBUTION,
        "work_report_2021": {
            "rivers": 74, "sections": {"national": 1, "municipal": 3, "town": 51},
            "demolished_m2_2017_2021": LU.TOTAL_DEMOLISHED_M2,
            "concrete_plant": 19, "plastic_recycling": 8, "gravel_yard": 10,
            "regions": ["东风", "长江", "前进", "前哨"], "beiyan_road_km": 20,
            "named_rivers": ["东风中心河", "洪林河", "老北横引河", "前哨中心河"],
        },
        "counts": {
            "rivers": len(rivers_w),
            "rivers_by_level": {lv: int(n) for lv, n in rivers_w["level"].value_counts().sort_index().items()},
            "sections": len(sections_w),
            "sections_by_tier": {t: int(n) for t, n in sections_w["tier"].value_counts().sort_index().items()},
            "redline_zones_by_category": {c: int(n) for c, n in k["red_w"]["category"].value_counts().sort_index().items()},
            "demolitions": len(demol),
            "demolitions_by_kind": {kd: int(n) for kd, n in kinds.items()},
            "demolished_area_m2": round(float(demol["area_m2"].sum()), 1),
            "demolished_area_geometry_m2": round(float(geom_area.sum()), 1),
            "buildings_2020": len(surveys.b2020),
            "buildings_2022": len(surveys.b2022),
            "measurement_rows": len(k["meas"]),
            "patrols_2022": int(fixes["patrol_id"].nunique()),
            "patrol_fixes_2022": len(fixes),
            "patrols_2022_06": int(k["june"]["patrol_id"].nunique()),
            "patrol_fixes_2022_06": len(k["june"]),
        },
        "town": {"area_km2": round(float(k["town_w"].geometry.iloc[0].area) / 1e6, 2),
                 "beiyan_road_length_m": round(float(k["road_w"].length), 1)},
        "river_network": {
            "junctions": "lines meet at shared vertices (exact coordinates); the network is connected",
            "named": {n: rivers.loc[rivers["name"] == n, "river_id"].iloc[0]
                      for n in ("东风中心河", "洪林河", "老北横引河", "前哨中心河", "北横引河")},
        },
        "landuse": {
            "setback_m": LU.SETBACK_M,
            "setback_measured_from": "river centre line",
            "planted_setback_distance_m": LU.VIOLATION_DIST_M,
            "clean_margin_m": LU.CLEAN_MARGIN_M,
            "survey_checked": "buildings_2022",
            "violations": surveys.planted,
            "violation_building_ids": sorted(b for v in surveys.planted.values() for b in v),
            "new_in_2022_legal": surveys.new_legal_ids,
            "removed_after_2020": {b: c for b, c in sorted(surveys.demolished_2021_ids.items())},
            "note": ("Every other 2022 building lies at least clean_margin_m outside every red-line, "
                     "eco-space and basic-farmland zone, every demolished site and every river setback; "
                     "planted setback violations also hold for any setback above planted_setback_distance_m "
                     "+ 1 m. 2020 buildings in removed_after_2020 stood on sites demolished in 2021."),
        },
        "landcover": {
            "resolution_m": R.RES_M,
            "nodata": int(R.LANDCOVER_NODATA),
            "legend": {str(c.code): c.name for c in R.LANDCOVER_LEGEND.values()},
            "changes_2020_2022": k["patches"],
            "changed_pixels": int(sum(p["pixels"] for p in k["patches"])),
            "note": "Only these patches differ between the two rasters; every pixel of each patch changed.",
            "greenhouse_blocks": k["greenhouse"],
        },
        "patrols": {
            "year": 2022,
            "never_patrolled": never,
            "partially_patrolled": partial,
            "fully_patrolled_patrols_per_year": full,
            "coverage_tolerance_m": P.TOLERANCE_M,
            "covered_share_at_40m": cover,
            "coverage_method": ("river sampled every 5 m; a sample is covered when within 40 m of a "
                                "track segment joining consecutive fixes of one patrol, jump fixes dropped. "
                                "Never-patrolled rivers show small shares where they meet patrolled rivers."),
            "fix_interval_s": [5, 15],
            "noise_rms_m": [3, 10],
            "bank_offset_m": {"walking": 5, "driving": 10},
            "speeds_m_s": {"walking": list(P.WALK_MS), "driving": list(P.DRIVE_MS)},
            "glitches": k["pinfo"]["glitches"],
            "june_files": ["patrols_2022-06.gpx (times UTC)", "patrols_2022-06.csv (China local time)"],
        },
        "water_quality": {
            "method": ("single-factor (GB 3838-2002 Table 1, river TP limits); assessed items pH, DO, "
                       "CODMn, COD, BOD5, NH3_N, TP and the metals where measured; TN reported, not "
                       "assessed; below-detection results at half the detection limit; quarter and "
                       "year = arithmetic mean of the monthly values per item"),
            "months": ["2021-01", "2022-12"],
            "failures": k["wq"]["failures"],
            "design": k["wq"]["design"],
        },
    }
