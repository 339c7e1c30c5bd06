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
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import OutputError
from ..io import write_layer
from ..schemas import get_schema
from . import _flow as F
from . import _landsurvey as LS
from . import _landuse as LU
from . import _layout as L
from . import _path
from . import _patrol as P
from . import _problems as PR
from . import _raster as R
from . import _wq as WQ
from ._path import cache_dir

__all__ = ["make_sample", "sample_path", "cache_dir", "SAMPLE_FILES", "DEFAULT_SEED"]

DEFAULT_SEED = 2021

#: Files :func:`make_sample` writes (Shapefile sidecars not listed).
SAMPLE_FILES: tuple[str, ...] = (
    "town.shp", "regions.shp", "roads.shp", "rivers.shp", "sections.shp", "redlines.shp",
    "demolitions.shp", "buildings_2020.shp", "buildings_2022.shp", "measurements.csv",
    "patrols_2022.parquet", "patrols_2022-06.gpx", "patrols_2022-06.csv",
    "landcover_2020.tif", "landcover_2022.tif", "problems.csv", "signboards.gpkg", "dltb_2020.gdb",
    "manifest.json",
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


@dataclass
class _Design:
    """Everything the generator designed, in the local frame, before it is written."""

    seed: int
    outline: Any
    layout: L.Layout
    sections: gpd.GeoDataFrame
    flows: list[str | None]
    zones: LU.Zones
    demol: gpd.GeoDataFrame
    surveys: LU.Surveys
    runoff: list[int]
    meas: pd.DataFrame
    wq: dict[str, Any]
    plan: pd.DataFrame
    fixes: gpd.GeoDataFrame
    pinfo: dict[str, Any]
    cover: dict[str, float]


def _design(seed: int) -> _Design:
    """Lay out the town and plant every fact (no files written)."""
    outline = L.district_outline_work()
    town, wetland = L.make_town(outline)
    rivers = F.extend_outlet(L.make_rivers(_rng(seed, 1)), town)
    flows = F.flows_to(rivers)
    sections = L.make_sections(rivers, _rng(seed, 2))
    layout = L.Layout(outline, town, wetland, L.make_regions(town), L.make_road(), rivers, L.forest_park(),
                      L.town_centre(), L.industrial_blocks(), L.settlements(rivers, _rng(seed, 3)))
    zones = LU.make_zones(layout, _rng(seed, 4))
    demol = LU.make_demolitions(layout, zones, _rng(seed, 5))
    surveys = LU.make_buildings(layout, zones, demol, _rng(seed, 6))
    runoff = R.greenhouse_channels(rivers)
    meas, wq = WQ.make_measurements(sections, rivers, _rng(seed, 7),
                                    runoff_rivers=tuple(rivers["river_id"].iloc[runoff]))
    plan = P.plan_rivers(rivers, sections, _rng(seed, 8))
    fixes, pinfo = P.make_patrols(rivers, plan, _rng(seed, 9))
    cover = P.coverage(rivers, fixes, pinfo["glitches"]["jumps"])
    return _Design(seed, outline, layout, sections, flows, zones, demol, surveys, runoff, meas, wq,
                   plan, fixes, pinfo, cover)


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
    d = _design(seed)
    written = _write_vectors(d, out)
    june = _write_patrols(d, out)
    planted_problems = _write_problems(written["rivers_w"], out, seed)
    patches, n_greenhouse = _write_landcover(d, out, _rng(seed, 10))
    land_survey = LS.write_sample_land_survey(d, written, out)  # dltb_2020.gdb (issue 18)
    manifest = _manifest(d, written, june, patches, n_greenhouse)
    manifest.update(planted_problems)
    manifest["land_survey"] = land_survey
    manifest["files"] = _file_hashes(out)
    text = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=False)
    (out / "manifest.json").write_text(text + "\n", encoding="utf-8")
    return manifest


def _write_demolitions(demol: gpd.GeoDataFrame, out: Path) -> gpd.GeoDataFrame:
    """Demolitions as a Chinese agency delivers them: GBK, Chinese field names and values."""
    dem = demol.copy()
    dem["kind"] = [_zh_value("demolitions", "kind", k) for k in dem["kind"]]
    dem["region"] = [_zh_value("demolitions", "region", r) for r in dem["region"]]
    dem["status"] = dem["status"].map(LU.STATUS_ZH)
    dem["demolished_on"] = pd.to_datetime(dem["demolished_on"]).dt.date
    dem_w = _gdf_world(dem, ["case_id", "kind", "demolished_on", "area_m2", "region", "status"])
    write_layer(dem_w, out / "demolitions.shp", layer="demolitions", encoding="GBK", field_names="zh")
    return dem_w


def _write_vectors(d: _Design, out: Path) -> dict[str, Any]:
    """Write the vector layers; return the world-frame frames the manifest counts."""
    lay = d.layout
    town_w = gpd.GeoDataFrame({"name": ["东平镇"], "note": ["synthetic"]},
                              geometry=[L.world(lay.town_local)], crs=L.WORK_EPSG)
    write_layer(town_w, out / "town.shp")
    write_layer(_gdf_world(lay.regions, ["region", "name"]), out / "regions.shp", layer="regions")
    road_w = L.world(lay.road_local)
    roads = gpd.GeoDataFrame({"road_id": ["BYGL"], "name": ["北沿公路"],
                              "length_m": [round(road_w.length, 1)]},
                             geometry=[road_w], crs=L.WORK_EPSG)
    write_layer(roads, out / "roads.shp")
    rivers = lay.rivers.assign(flows_to=d.flows)
    rivers_w = _gdf_world(rivers, ["river_id", "name", "level", "region", "chief", "target_class", "flows_to"])
    write_layer(rivers_w, out / "rivers.shp", layer="rivers")
    sections_w = _gdf_world(d.sections, ["section_id", "name", "tier", "river_id", "target_class"])
    write_layer(sections_w, out / "sections.shp", layer="sections")
    red_w = _gdf_world(d.zones.redlines, ["zone_id", "name", "category"])
    write_layer(red_w, out / "redlines.shp", layer="redlines")
    dem_w = _write_demolitions(d.demol, out)
    for year, b in ((2020, d.surveys.b2020), (2022, d.surveys.b2022)):
        bw = _gdf_world(b.assign(surveyed_on=pd.to_datetime(b["surveyed_on"]).dt.date),
                        ["building_id", "surveyed_on", "use"])
        write_layer(bw, out / f"buildings_{year}.shp", layer="buildings")
    d.meas.to_csv(out / "measurements.csv", index=False, encoding="utf-8", lineterminator="\n")
    return dict(town_w=town_w, road_w=road_w, rivers_w=rivers_w, sections_w=sections_w, red_w=red_w,
                dem_w=dem_w)


def _write_problems(rivers_w: gpd.GeoDataFrame, out: Path, seed: int) -> dict[str, Any]:
    """Problems found on patrol (an app's CSV export) and signboards (issue 15); return their manifest."""
    problems = PR.make_problems(rivers_w, _rng(seed, 15))
    boards, planted_boards = PR.make_signboards(rivers_w, _rng(seed, 16))
    PR.write_problems_csv(problems, out / "problems.csv")
    write_layer(boards, out / "signboards.gpkg", layer="signboards")
    return PR.manifest_section(problems, boards, planted_boards)


def _write_patrols(d: _Design, out: Path) -> gpd.GeoDataFrame:
    """The year of fixes as GeoParquet, June as GPX and CSV; return June."""
    fixes_w = d.fixes.reset_index(drop=True)
    # Encodings that suit the columns (delta for sorted times, byte-stream split for
    # coordinates) keep the year of fixes near 3 MB: the data are unchanged.
    fixes_w.to_parquet(out / "patrols_2022.parquet", compression="zstd", compression_level=9, index=False,
                       geometry_encoding="geoarrow", write_covering_bbox=False,
                       use_dictionary=["patrol_id", "chief"],
                       column_encoding={"timestamp": "DELTA_BINARY_PACKED", "geometry.x": "BYTE_STREAM_SPLIT",
                                        "geometry.y": "BYTE_STREAM_SPLIT"})
    june = fixes_w[fixes_w["timestamp"].dt.month == 6]
    P.write_gpx(june, out / "patrols_2022-06.gpx")
    P.write_csv(june, out / "patrols_2022-06.csv")
    return june


def _write_landcover(d: _Design, out: Path, rng: np.random.Generator) -> tuple[list[dict], int]:
    """The 2020 and 2022 rasters; return the planted change patches and the greenhouse blocks."""
    zones = d.zones
    gen_blocks = [zones.farmland_blocks[i] for i in zones.general_idx]
    greenhouse = gen_blocks[: max(2, len(gen_blocks) // 3)]
    lc20, transform = R.landcover_2020(d.layout, greenhouse, [], greenhouse_channels=d.runoff)
    farm_world = [L.world(zones.farmland_blocks[i]) for i in zones.basic_idx]
    lc22, patches = R.plant_changes(lc20, transform, farm_world, rng)
    R.write_tif(lc20, transform, out / "landcover_2020.tif", 2020)
    R.write_tif(lc22, transform, out / "landcover_2022.tif", 2022)
    return patches, len(greenhouse)


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


def _counts(d: _Design, w: dict[str, Any], june: gpd.GeoDataFrame) -> dict[str, Any]:
    def by(frame: pd.DataFrame, col: str) -> dict[str, int]:
        return {k: int(n) for k, n in frame[col].value_counts().sort_index().items()}

    fixes = d.fixes
    return {
        "rivers": len(w["rivers_w"]),
        "rivers_by_level": by(w["rivers_w"], "level"),
        "sections": len(w["sections_w"]),
        "sections_by_tier": by(w["sections_w"], "tier"),
        "redline_zones_by_category": by(w["red_w"], "category"),
        "demolitions": len(d.demol),
        "demolitions_by_kind": by(d.demol, "kind"),
        "demolished_area_m2": round(float(d.demol["area_m2"].sum()), 1),
        "demolished_area_geometry_m2": round(float(w["dem_w"].geometry.area.sum()), 1),
        "buildings_2020": len(d.surveys.b2020),
        "buildings_2022": len(d.surveys.b2022),
        "measurement_rows": len(d.meas),
        "patrols_2022": int(fixes["patrol_id"].nunique()),
        "patrol_fixes_2022": len(fixes),
        "patrols_2022_06": int(june["patrol_id"].nunique()),
        "patrol_fixes_2022_06": len(june),
    }


def _river_network(d: _Design) -> dict[str, Any]:
    rivers = d.layout.rivers
    ids = rivers["river_id"].to_numpy()
    named = ("东风中心河", "洪林河", "老北横引河", "前哨中心河", "北横引河")
    return {
        "junctions": "lines meet at shared vertices (exact coordinates); the network is connected",
        "named": {n: rivers.loc[rivers["name"] == n, "river_id"].iloc[0] for n in named},
        "outlet": {"river_id": rivers.loc[rivers["name"] == F.OUTLET_RIVER, "river_id"].iloc[0],
                   "flows_to": F.OUTLET_TO, "sluice": F.OUTLET_SLUICE,
                   "end": "east end, on the town boundary",
                   "section_m_above_sluice": F.OUTLET_SECTION_M},
        "flows_to": {r: f for r, f in zip(ids, d.flows, strict=True) if f is not None},
        "level_rule": sorted(r for r, f in zip(ids, d.flows, strict=True) if f is None),
        "upstream_rivers": F.upstream_sets(rivers, d.sections, d.flows),
        "note": ("flows_to is set where the level rule (village -> town -> district) cannot decide; "
                 "upstream_rivers: every section's upstream river set traced on the generator's own "
                 "flow design (not with dongping_geo.network)."),
    }


def _landuse(d: _Design) -> dict[str, Any]:
    surveys = d.surveys
    return {
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
    }


def _landcover(d: _Design, patches: list[dict], n_greenhouse: int) -> dict[str, Any]:
    ids = d.layout.rivers["river_id"].to_numpy()
    return {
        "resolution_m": R.RES_M,
        "nodata": int(R.LANDCOVER_NODATA),
        "legend": {str(c.code): c.name for c in R.LANDCOVER_LEGEND.values()},
        "changes_2020_2022": patches,
        "changed_pixels": int(sum(p["pixels"] for p in patches)),
        "note": "Only these patches differ between the two rasters; every pixel of each patch changed.",
        "greenhouse_blocks": n_greenhouse,
        "greenhouse_channels": sorted(ids[d.runoff]),
        "greenhouse_bank_m": list(R.GREENHOUSE_BANK_M),
        "village_belt_m": R.VILLAGE_BELT_M,
        "bank_note": ("Greenhouses line both banks of greenhouse_channels from greenhouse_bank_m[0] to "
                      "[1] m off the centre line (their sections fail TP and NH3_N through 2022); every "
                      "other village channel and ditch has a forest buffer belt of village_belt_m each side."),
    }


def _patrols(d: _Design) -> dict[str, Any]:
    rivers, plan, cover = d.layout.rivers, d.plan, d.cover
    rid = rivers["river_id"].to_numpy()
    per_river = d.pinfo["patrols"].groupby("river").size()
    partial = [dict(river_id=rid[i], covered_share_nominal=float(plan.at[i, "share"]),
                    covered_from="first vertex",
                    covered_length_m=round(float(plan.at[i, "share"]) * rivers.geometry.iloc[i].length, 1),
                    covered_share_at_40m=cover[rid[i]], n_patrols=int(per_river.get(i, 0)))
               for i in plan.index if plan.at[i, "plan"] == "partial"]
    return {
        "year": P.YEAR,
        "never_patrolled": [rid[i] for i in plan.index if plan.at[i, "plan"] == "never"],
        "partially_patrolled": partial,
        "fully_patrolled_patrols_per_year": {rid[i]: int(per_river.get(i, 0)) for i in plan.index
                                             if plan.at[i, "plan"] == "full"},
        "coverage_tolerance_m": P.TOLERANCE_M,
        "covered_share_at_40m": cover,
        "coverage_method": ("river sampled every 5 m; a sample is covered when within 40 m of a "
                            "track segment joining consecutive fixes of one patrol, jump fixes dropped. "
                            "Never-patrolled rivers show small shares where they meet patrolled rivers."),
        "schedule": P.SCHEDULE,
        "fix_interval_s": list(P.FIX_INTERVAL_S),
        "noise_rms_m": [3, 10],
        "bank_offset_m": {"walking": 5, "ebike": 8, "driving": 10},
        "speeds_m_s": {"walking": list(P.WALK_MS), "ebike": list(P.EBIKE_MS), "driving": list(P.DRIVE_MS)},
        "patrols_by_mode": {m: int(n) for m, n in d.pinfo["patrols"]["mode"].value_counts().sort_index().items()},
        "glitches": d.pinfo["glitches"],
        "june_files": ["patrols_2022-06.gpx (times UTC)", "patrols_2022-06.csv (China local time)"],
        "compliance": _compliance(d),
    }


def _compliance(d: _Design) -> dict[str, Any]:
    missed = P.missed_rules(d.layout.rivers, d.plan, d.pinfo["patrols"])
    return {
        "rules": ("dongping_geo/data/patrol_rules.yaml defaults: district quarterly, town monthly, "
                  "village weekly; a patrol of at least 10 min and 1 km covering min(50 %, 1 km) of "
                  "the river, by the river's own chief"),
        "start": f"{P.YEAR}-01-01",
        "end": f"{P.YEAR}-12-31",
        "rivers_meeting_rule": len(d.layout.rivers) - len(missed),
        "rivers_missing_rule": missed,
        "same_without_car_patrols": missed == P.missed_rules(d.layout.rivers, d.plan, d.pinfo["patrols"],
                                                             slow_only=True),
        "note": ("Computed from the patrol design (which patrols count, when they start), not with "
                 "dongping_geo.patrol; every counted patrol lasts at least 11 min and 1.1 km, and "
                 "every covered length is at least 10 % away from the rule's threshold. Walks and "
                 "e-bike rides stay under 22.5 km/h: without the car patrols (a 'too fast' rule at "
                 "25 km/h) the misses are the same (same_without_car_patrols)."),
    }


def _manifest(d: _Design, w: dict[str, Any], june: gpd.GeoDataFrame, patches: list[dict],
              n_greenhouse: int) -> dict[str, Any]:
    return {
        "synthetic": True,
        "note": _SYNTHETIC_NOTE,
        "generator": "dongping_geo.sample.make_sample",
        "seed": d.seed,
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
        "counts": _counts(d, w, june),
        "town": {"area_km2": round(float(w["town_w"].geometry.iloc[0].area) / 1e6, 2),
                 "beiyan_road_length_m": round(float(w["road_w"].length), 1)},
        "river_network": _river_network(d),
        "landuse": _landuse(d),
        "landcover": _landcover(d, patches, n_greenhouse),
        "patrols": _patrols(d),
        "water_quality": {
            "method": ("single-factor (GB 3838-2002 Table 1, river TP limits); assessed items pH, DO, "
                       "CODMn, COD, BOD5, NH3_N, TP and the metals where measured; TN reported, not "
                       "assessed; below-detection results at half the detection limit; quarter and "
                       "year = arithmetic mean of the monthly values per item"),
            "months": ["2021-01", "2022-12"],
            "failures": d.wq["failures"],
            "design": d.wq["design"],
        },
    }


def sample_path(*, seed: int | None = None, refresh: bool = False) -> Path:
    """Return a folder holding the sample dataset, wherever the code runs.

    From a clone of the repository this is its ``data/shapefiles/``. Anywhere else (an
    installed package, a notebook copied out of the repository) the sample is generated
    once with :func:`make_sample` into the user's cache folder (:func:`cache_dir`, one
    folder per package version and seed) and reused afterwards.

    Parameters
    ----------
    seed : int, optional
        Random seed (default :data:`DEFAULT_SEED`, the seed of the repository's copy).
        Another seed always uses the cache.
    refresh : bool, default False
        Generate the cached copy again.

    Returns
    -------
    Path
        The dataset folder (``rivers.shp``, ``sections.shp`` … and ``manifest.json``).

    Examples
    --------
    >>> import dongping_geo as dg
    >>> from dongping_geo.sample import sample_path
    >>> ds = dg.load_dataset(sample_path(), patrols=False)  # doctest: +SKIP
    """
    seed = DEFAULT_SEED if seed is None else int(seed)
    repo = _path._repo_sample()
    if repo is not None and seed == DEFAULT_SEED and not refresh:
        return repo
    target = cache_dir() / f"sample-{_path._package_version()}-seed{seed}"
    if (target / "manifest.json").exists() and not refresh:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}")
    try:
        make_sample(staging, seed=seed)
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
