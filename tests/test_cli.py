"""The command line: exit codes and short error messages (issue 2)."""

from __future__ import annotations

import subprocess
import sys

import geopandas as gpd
import shapely
from click.testing import CliRunner

import dongping_geo as dg
from dongping_geo.cli import cli


def _rivers(tmp_path, level="town"):
    gdf = gpd.GeoDataFrame(
        {"river_id": ["R1"], "name": ["洪林河"], "level": [level]},
        geometry=[shapely.LineString([(640_000, 3_510_000), (641_000, 3_510_000)])], crs=4549)
    path = tmp_path / "rivers.gpkg"
    dg.write_layer(gdf, path)
    return path


def test_version():
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and dg.__version__ in result.output


def test_validate_clean_problem_unreadable(tmp_path):
    runner = CliRunner()
    clean = runner.invoke(cli, ["validate", str(_rivers(tmp_path))])
    assert clean.exit_code == 0, clean.output
    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()
    problem = runner.invoke(cli, ["validate", str(_rivers(bad_dir, level="county"))])
    assert problem.exit_code == 1
    assert "county" in problem.output
    missing = runner.invoke(cli, ["validate", str(tmp_path / "sections.shp")])
    assert missing.exit_code == 2


def test_error_is_one_or_two_lines_without_traceback(tmp_path):
    # A real process: what a cron job sees.
    proc = subprocess.run([sys.executable, "-m", "dongping_geo.cli", "info", str(tmp_path / "nope.shp")],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert 1 <= len(lines) <= 2, proc.stderr
    assert "Traceback" not in proc.stderr and "nope.shp" in proc.stderr


def test_debug_shows_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "dongping_geo.cli", "--debug", "info", str(tmp_path / "nope.shp")],
                          capture_output=True, text=True)
    assert proc.returncode != 0 and "Traceback" in proc.stderr


def test_info_lists_fields(tmp_path):
    result = CliRunner().invoke(cli, ["info", str(_rivers(tmp_path))])
    assert result.exit_code == 0
    assert "river_id" in result.output and "EPSG:4549" in result.output


def test_info_lists_every_geopackage_layer_and_rasters(tmp_path):
    import numpy as np
    import rasterio
    from rasterio.transform import from_origin

    g = gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(642_000, 3_507_000)], crs=4549)
    dg.write_layers({"河道": g, "断面": g}, tmp_path / "town.gpkg")
    with rasterio.open(tmp_path / "landcover_2022.tif", "w", driver="GTiff", width=4, height=3, count=1,
                       dtype="uint8", crs="EPSG:4549", transform=from_origin(642_000, 3_507_000, 10, 10),
                       nodata=0) as ds:
        ds.write(np.ones((1, 3, 4), dtype="uint8"))
    result = CliRunner().invoke(cli, ["info", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "layer 河道" in result.output and "layer 断面" in result.output
    assert "raster 4 × 3 × 1" in result.output and "nodata 0.0" in result.output
