"""Public functions whose options moved into typed keyword groups still take every 0.1.0 keyword."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from dongping_geo import patrol, raster, scale
from dongping_geo._patrol_tracks import DEFAULT_MAX_GAP_S, DEFAULT_MAX_SPEED_KMH

# Keyword arguments of version 0.1.0, written out from its signatures.
DETECT_CHANGE_0_1_0 = {
    "min_area_m2", "align", "before_date", "after_date", "connectivity", "legend", "band",
}  # fmt: skip
RIVER_COVERAGE_DASK_0_1_0 = {
    "tolerance_m", "start", "end", "min_share", "max_gap_s", "max_speed_kmh", "npartitions",
    "spatial", "patrols_partitioned",
}  # fmt: skip


def _keywords(func, typed_kwargs) -> set[str]:
    params = inspect.signature(func).parameters.values()
    explicit = {p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY}
    return explicit | set(typed_kwargs.__annotations__)


def test_detect_change_takes_its_0_1_0_keywords():
    assert _keywords(raster.detect_change, raster.ChangeDates) == DETECT_CHANGE_0_1_0


def test_river_coverage_dask_takes_its_0_1_0_keywords_with_river_coverage_defaults():
    assert _keywords(scale.river_coverage_dask, scale.CoverageOptions) == RIVER_COVERAGE_DASK_0_1_0
    # The shared options mean the same and default the same as in river_coverage.
    memory = {
        name: p.default for name, p in inspect.signature(patrol.river_coverage).parameters.items()
        if name in scale.CoverageOptions.__annotations__
    }  # fmt: skip
    assert set(memory) == set(scale.CoverageOptions.__annotations__)
    assert memory == {"tolerance_m": 30.0, "start": None, "end": None, "min_share": 0.5,
                      "max_gap_s": DEFAULT_MAX_GAP_S, "max_speed_kmh": DEFAULT_MAX_SPEED_KMH}  # fmt: skip
    assert scale._coverage_options({}) == memory


def test_unknown_keywords_are_type_errors(tmp_path):
    with pytest.raises(TypeError, match="tolerance"):
        scale.river_coverage_dask(None, None, tolerance=30)
    path = tmp_path / "lc.tif"
    with rasterio.open(path, "w", driver="GTiff", width=4, height=4, count=1, dtype="uint8",
                       crs="EPSG:4549", transform=from_origin(0, 40, 10, 10), nodata=0) as dst:
        dst.write(np.full((4, 4), 2, dtype="uint8"), 1)
    with pytest.raises(TypeError, match="before"):
        raster.detect_change(path, path, from_classes=2, to_classes=5, before="2020-01-01")
    out = raster.detect_change(path, path, from_classes=2, to_classes=5, before_date="2020-01-01",
                               after_date="2022-01-01")
    assert len(out) == 0 and list(out.columns)[:2] == ["change_id", "from_class"]


def test_violation_tasks_do_not_prepare_the_shared_zones():
    # Dask tasks on worker threads share the zone objects; GEOS prepared geometries are
    # not thread-safe, so each task must prepare its own copies (a segfault otherwise).
    import geopandas as gpd
    import shapely

    zones = gpd.GeoDataFrame(
        {"zone_id": ["Z1"], "category": ["eco_redline"]},
        geometry=[shapely.box(0, 0, 100, 100)], crs=4549,
    ).rename_geometry("shape")  # fmt: skip
    buildings = gpd.GeoDataFrame(
        {"building_id": ["B1", "B2"]}, geometry=[shapely.box(90, 90, 110, 110), shapely.box(500, 0, 510, 10)],
        crs=4549,
    )  # fmt: skip
    options = {"categories": None, "min_overlap_m2": 1.0, "id_field": None, "repair": False, "work_crs": 4549}
    got = scale._violations_partition(buildings, zones, options)
    assert not shapely.is_prepared(zones.geometry.values).any()
    assert list(got["building_id"]) == ["B1"] and got["overlap_m2"].tolist() == [100.0]
    assert list(zones.columns) == ["zone_id", "category", "shape"]
