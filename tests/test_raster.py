"""Tests of dongping_geo.raster: exact zonal statistics and land-cover change detection.

Expected values come from exactextract (the reference implementation of exact
zonal statistics), from shapely's exact intersection areas, or from hand
geometry on pixel-aligned shapes -- never from the code under test.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from exactextract import exact_extract
from hypothesis import given, settings
from hypothesis import strategies as st
from rasterio.transform import from_origin

from dongping_geo import _raster_zonal
from dongping_geo._raster_coverage import polygon_segments, window_pieces
from dongping_geo.errors import ConfigError, CRSError, GeometryError, RasterError, SchemaError
from dongping_geo.raster import (
    LANDCOVER_LEGEND,
    LANDCOVER_NODATA,
    detect_change,
    zonal_stats,
)

CRS = "EPSG:4549"
X0, Y0, RES = 500_000.0, 3_500_000.0, 10.0
ND = -9999.0


def write_tif(path, arr, *, nodata=ND, transform=None, crs=CRS, block=16, tags=None):
    """Write a tiled single-band GeoTIFF (small blocks so that chunks matter)."""
    h, w = arr.shape
    with rasterio.open(
        path, "w", driver="GTiff", width=w, height=h, count=1, dtype=arr.dtype, crs=crs,
        transform=transform or from_origin(X0, Y0, RES, RES), nodata=nodata,
        tiled=True, blockxsize=block, blockysize=block,
    ) as dst:
        dst.write(arr, 1)
        if tags:
            dst.update_tags(**tags)
    return path


def px_box(c0, r0, c1, r1):
    """A box in world coordinates from pixel coordinates (col, row) of the default grid."""
    return shapely.box(X0 + c0 * RES, Y0 - r1 * RES, X0 + c1 * RES, Y0 - r0 * RES)


def star(rng, cx, cy, r, n):
    ang = np.sort(rng.uniform(0, 2 * np.pi, n))
    rad = rng.uniform(0.3, 1.0, n) * r
    return shapely.make_valid(shapely.Polygon(np.c_[cx + rad * np.cos(ang), cy + rad * np.sin(ang)]))


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 32 px so that zones span several chunks (the merge path)."""
    monkeypatch.setattr(_raster_zonal, "CHUNK_TARGET_PX", 32)


def rel_diff(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert np.array_equal(np.isnan(a), np.isnan(b)), (a, b)
    m = ~np.isnan(a)
    return np.abs(a[m] - b[m]) / np.maximum(np.abs(b[m]), 1e-12)


# ----------------------------------------------------------------------------- coverage


def _dense(pieces, zone, h, w):
    grid = np.zeros((h, w))
    k = pieces.cell_zone == zone
    np.add.at(grid, (pieces.cell_row[k], pieces.cell_col[k]), pieces.cell_cov[k])
    for j in np.flatnonzero(pieces.run_zone == zone):
        grid[pieces.run_row[j], pieces.run_col0[j] : pieces.run_col1[j]] += pieces.run_cov[j]
    return grid


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(3, 25),
    radius=st.floats(0.05, 12.0),
    window=st.tuples(st.integers(-3, 10), st.integers(-3, 10), st.integers(1, 30), st.integers(1, 30)),
)
def test_coverage_fractions_equal_exact_intersection_areas(seed, n, radius, window):
    rng = np.random.default_rng(seed)
    poly = star(rng, 12.3, 11.7, radius, n)
    hole = shapely.Point(12.3, 11.7).buffer(radius * 0.2)
    poly = shapely.make_valid(poly.difference(hole))
    r0, c0, h, w = window
    segs = polygon_segments(np.array([poly], dtype=object))
    m = (segs.row >= r0) & (segs.row < r0 + h) & (segs.col >= c0)
    b = poly.bounds
    pieces = window_pieces(
        segs.zone[m], segs.row[m], segs.col[m], segs.a[m], segs.dy[m],
        np.array([int(np.floor(b[0]))]), r0, c0, c0 + w,
    )
    got = _dense(pieces, 0, h, w)
    rr, cc = np.mgrid[r0 : r0 + h, c0 : c0 + w]
    expected = shapely.area(shapely.intersection(shapely.box(cc, rr, cc + 1, rr + 1), poly))
    np.testing.assert_allclose(got, expected, atol=1e-9)


# ----------------------------------------------------------------------------- zonal_stats vs exactextract


@pytest.fixture
def random_raster(tmp_path):
    rng = np.random.default_rng(7)
    arr = rng.normal(50.0, 15.0, (120, 150)).astype(np.float32)
    arr[rng.random(arr.shape) < 0.05] = ND
    arr[60:80, 20:45] = ND  # an all-nodata block
    return write_tif(tmp_path / "random.tif", arr)


@pytest.fixture
def random_zones():
    rng = np.random.default_rng(11)
    polys = []
    for _ in range(80):
        cx = X0 + rng.uniform(-100, 1600)
        cy = Y0 - rng.uniform(-100, 1300)
        polys.append(star(rng, cx, cy, rng.uniform(2.0, 400.0), int(rng.integers(3, 30))))
    return gpd.GeoDataFrame({"zone_id": np.arange(len(polys))}, geometry=polys, crs=CRS)


@pytest.mark.parametrize("chunked", [False, True])
def test_continuous_stats_match_exactextract(random_raster, random_zones, chunked, monkeypatch):
    if chunked:
        monkeypatch.setattr(_raster_zonal, "CHUNK_TARGET_PX", 32)
    ours = zonal_stats(random_raster, random_zones, percentiles=(10, 50, 90))
    ref = exact_extract(
        random_raster, random_zones,
        ["mean", "min", "max", "sum", "count", "quantile(q=0.1)", "quantile(q=0.5)", "quantile(q=0.9)"],
        output="pandas",
    )
    assert list(ours["zone_id"]) == list(random_zones["zone_id"])
    for col, ref_col in [
        ("mean", "mean"), ("min", "min"), ("max", "max"), ("sum", "sum"), ("count", "count"),
        ("percentile_10", "quantile_10"), ("percentile_50", "quantile_50"), ("percentile_90", "quantile_90"),
    ]:
        assert rel_diff(ours[col], ref[ref_col]).max() < 1e-6, col
    # The set really exercises the edge cases.
    assert (ours["count"] == 0).any() and (ours["count"] > 1000).any()


def test_striped_raster_matches_exactextract(tmp_path, random_zones, small_chunks):
    # Strip-organised (untiled) GeoTIFF: chunks span the full width, fewer rows.
    rng = np.random.default_rng(5)
    arr = rng.uniform(-5.0, 5.0, (120, 150)).astype(np.float32)
    arr[rng.random(arr.shape) < 0.05] = np.nan
    path = tmp_path / "striped.tif"
    with rasterio.open(path, "w", driver="GTiff", width=150, height=120, count=1, dtype="float32",
                       crs=CRS, transform=from_origin(X0, Y0, RES, RES), nodata=np.nan) as dst:
        dst.write(arr, 1)
    with rasterio.open(path) as ds:
        assert ds.block_shapes[0][1] == 150
    ours = zonal_stats(path, random_zones)
    ref = exact_extract(str(path), random_zones, ["mean", "min", "max", "sum", "count"], output="pandas")
    for col in ("mean", "min", "max", "count"):
        assert rel_diff(ours[col], ref[col]).max() < 1e-6, col
    # Sums of zero-mean values can be near 0: compare absolutely, scaled by the count.
    assert np.allclose(ours["sum"], ref["sum"], rtol=1e-6, atol=1e-9 * ref["count"].max())


@pytest.mark.parametrize("dtype", ["uint8", "int32"])  # dense histogram / sort-based paths
def test_categorical_matches_exactextract(tmp_path, random_zones, small_chunks, dtype):
    rng = np.random.default_rng(3)
    arr = rng.integers(1, 8, (120, 150)).astype(dtype)
    arr[rng.random(arr.shape) < 0.05] = LANDCOVER_NODATA
    path = write_tif(tmp_path / "lc.tif", arr, nodata=LANDCOVER_NODATA)
    ours = zonal_stats(path, random_zones, categorical=True)
    ref = exact_extract(path, random_zones, ["unique", "frac", "count"], output="pandas")
    for i in range(len(random_zones)):
        expected_share = dict(zip(ref["unique"][i].astype(int), ref["frac"][i], strict=True))
        for code in range(1, 8):
            share = ours.loc[i, f"share_{code}"]
            area = ours.loc[i, f"area_m2_{code}"]
            if ref["count"][i] == 0:
                assert np.isnan(share) and area == 0
                continue
            exp = expected_share.get(code, 0.0)
            assert share == pytest.approx(exp, rel=1e-6, abs=1e-12)
            assert area == pytest.approx(exp * ref["count"][i] * RES * RES, rel=1e-6, abs=1e-9)


def test_categorical_columns_use_legend_names(tmp_path):
    arr = np.array([[2, 2, 5, 5]], dtype=np.uint8)
    path = write_tif(tmp_path / "lc.tif", arr, nodata=LANDCOVER_NODATA)
    zones = gpd.GeoDataFrame({"name": ["z"]}, geometry=[px_box(0, 0, 3, 1)], crs=CRS)
    out = zonal_stats(path, zones, categorical=True, legend=LANDCOVER_LEGEND)
    assert out.loc[0, "area_m2_farmland"] == pytest.approx(200.0)
    assert out.loc[0, "area_m2_built_up"] == pytest.approx(100.0)
    assert out.loc[0, "share_farmland"] == pytest.approx(2 / 3)
    plain = zonal_stats(path, zones, categorical=True)
    assert {"area_m2_2", "share_2", "area_m2_5", "share_5"} <= set(plain.columns)


# ----------------------------------------------------------------------------- edge cases (hand geometry)


@pytest.fixture
def ramp(tmp_path):
    """4 x 5 raster with value = 10 * row + col; pixel (0, 0) is nodata; row 3 all nodata."""
    arr = (10 * np.arange(4)[:, None] + np.arange(5)[None, :]).astype(np.float32)
    arr[0, 0] = ND
    arr[3, :] = ND
    return write_tif(tmp_path / "ramp.tif", arr)


def test_zone_smaller_than_a_pixel(ramp):
    # A 2 m x 3 m box inside pixel (row 1, col 2), value 12.
    zone = shapely.box(X0 + 22, Y0 - 18, X0 + 24, Y0 - 15)
    out = zonal_stats(ramp, gpd.GeoDataFrame(geometry=[zone], crs=CRS), percentiles=(50,))
    assert out.loc[0, "count"] == pytest.approx(6 / 100)
    assert out.loc[0, "mean"] == pytest.approx(12.0)
    assert out.loc[0, "min"] == out.loc[0, "max"] == 12.0
    assert out.loc[0, "sum"] == pytest.approx(12.0 * 0.06)
    assert out.loc[0, "percentile_50"] == pytest.approx(12.0)


def test_zone_crossing_the_raster_edge_counts_only_pixels_inside(ramp):
    # Half a pixel of row 1 inside (col 4, value 14), the rest east of the raster.
    zone = shapely.box(X0 + 45, Y0 - 20, X0 + 80, Y0 - 10)
    out = zonal_stats(ramp, gpd.GeoDataFrame(geometry=[zone], crs=CRS))
    assert out.loc[0, "count"] == pytest.approx(0.5)
    assert out.loc[0, "mean"] == pytest.approx(14.0)
    # A zone straddling the top-left corner: pixels (0, 1) full and (0, 0) nodata.
    zone2 = shapely.box(X0 - 30, Y0 - 10, X0 + 20, Y0 + 30)
    out2 = zonal_stats(ramp, gpd.GeoDataFrame(geometry=[zone2], crs=CRS))
    assert out2.loc[0, "count"] == pytest.approx(1.0)
    assert out2.loc[0, "sum"] == pytest.approx(1.0)


def test_all_nodata_and_outside_zones_get_empty_results(ramp):
    zones = gpd.GeoDataFrame(
        {"zid": ["nodata", "outside", "empty", "missing"]},
        geometry=[px_box(0.5, 3.0, 4.5, 4.0), px_box(100, 100, 101, 101), shapely.Polygon(), None],
        crs=CRS,
    )
    out = zonal_stats(ramp, zones, percentiles=(50,))
    assert list(out["zid"]) == ["nodata", "outside", "empty", "missing"]
    assert (out["count"] == 0).all() and (out["sum"] == 0).all()
    assert out[["mean", "min", "max", "percentile_50"]].isna().all().all()
    cat = zonal_stats(ramp, zones.iloc[:2], categorical=True)
    assert [c for c in cat.columns if c.startswith("share_")] == []


def test_nodata_pixel_is_excluded_from_count_and_min(ramp):
    # Pixels (0, 0) nodata and (0, 1) = 1, each fully covered.
    out = zonal_stats(ramp, gpd.GeoDataFrame(geometry=[px_box(0, 0, 2, 1)], crs=CRS))
    assert out.loc[0, ["count", "sum", "min", "max"]].tolist() == pytest.approx([1.0, 1.0, 1.0, 1.0])


def test_polygon_with_hole_and_multipolygon(ramp):
    outer = px_box(0, 0, 5, 3)
    hole = px_box(1, 1, 4, 2)  # values 11, 12, 13
    multi = shapely.MultiPolygon([px_box(1, 1, 2, 2), px_box(3, 2, 4, 3)])  # 11 and 23
    zones = gpd.GeoDataFrame(geometry=[outer.difference(hole), multi], crs=CRS)
    out = zonal_stats(ramp, zones)
    all_valid = [v for v in (10 * np.arange(3)[:, None] + np.arange(5)).ravel() if v != 0]
    assert out.loc[0, "sum"] == pytest.approx(sum(all_valid) - 36)
    assert out.loc[0, "count"] == pytest.approx(len(all_valid) - 3)
    assert out.loc[1, "sum"] == pytest.approx(34.0) and out.loc[1, "count"] == pytest.approx(2.0)


def test_zones_are_reprojected_and_dataset_input_left_open(ramp):
    zone = px_box(1, 1, 3, 2)  # values 11 and 12
    wgs = gpd.GeoDataFrame(geometry=[zone], crs=CRS).to_crs("EPSG:4326")
    with rasterio.open(ramp) as ds:
        out = zonal_stats(ds, wgs)
        assert not ds.closed
    # Straight edges stay straight only approximately after a round trip.
    assert out.loc[0, "mean"] == pytest.approx(11.5, rel=1e-4)
    assert out.loc[0, "count"] == pytest.approx(2.0, rel=1e-4)


def test_geoseries_input_and_stat_selection(ramp):
    gs = gpd.GeoSeries([px_box(1, 1, 3, 2)], crs=CRS, index=["a"])
    out = zonal_stats(ramp, gs, stats=("max", "median"))
    assert list(out.columns) == ["max", "percentile_50"]
    assert list(out.index) == ["a"]
    assert out.loc["a", "max"] == 12.0
    assert out.loc["a", "percentile_50"] == pytest.approx(11.5)  # equal weights: linear interpolation


def test_invalid_polygon_is_repaired_not_cancelled(ramp):
    # A bow-tie over pixels (1, 1) and (1, 2): shoelace area would be 0.
    bowtie = shapely.Polygon([(X0 + 10, Y0 - 10), (X0 + 30, Y0 - 20), (X0 + 30, Y0 - 10), (X0 + 10, Y0 - 20)])
    assert not bowtie.is_valid
    out = zonal_stats(ramp, gpd.GeoDataFrame(geometry=[bowtie], crs=CRS))
    assert out.loc[0, "count"] == pytest.approx(shapely.make_valid(bowtie).area / 100)


def test_geographic_raster_categorical_area_is_geodesic(tmp_path):
    arr = np.array([[2, 5]], dtype=np.uint8)
    t = from_origin(121.5, 31.7, 0.001, 0.001)
    path = write_tif(tmp_path / "geo.tif", arr, nodata=0, transform=t, crs="EPSG:4490")
    zones = gpd.GeoDataFrame(geometry=[shapely.box(121.5, 31.699, 121.502, 31.7)], crs="EPSG:4490")
    out = zonal_stats(path, zones, categorical=True)
    geod = rasterio.crs.CRS.from_epsg(4490)
    from pyproj import CRS as PCRS

    pix = abs(PCRS(geod.to_wkt()).get_geod().geometry_area_perimeter(shapely.box(121.5, 31.699, 121.501, 31.7))[0])
    assert out.loc[0, "area_m2_2"] == pytest.approx(pix, rel=1e-9)
    assert out.loc[0, "area_m2_2"] == pytest.approx(94.7 * 111.0 * 1.0, rel=0.05)  # ~ 95 m x 111 m


def test_bad_inputs_raise_clear_errors(ramp, tmp_path):
    zones = gpd.GeoDataFrame({"mean": [1]}, geometry=[px_box(1, 1, 2, 2)], crs=CRS)
    with pytest.raises(SchemaError, match="mean"):
        zonal_stats(ramp, zones)
    with pytest.raises(ConfigError, match="stdev"):
        zonal_stats(ramp, zones, stats=("stdev",))
    with pytest.raises(ConfigError, match="percentile"):
        zonal_stats(ramp, zones, percentiles=(150,))
    with pytest.raises(CRSError):
        zonal_stats(ramp, gpd.GeoDataFrame(geometry=[px_box(1, 1, 2, 2)]))
    with pytest.raises(GeometryError, match="Point"):
        zonal_stats(ramp, gpd.GeoDataFrame({"id": [7]}, geometry=[shapely.Point(X0, Y0)], crs=CRS))
    with pytest.raises(RasterError, match="missing.tif"):
        zonal_stats(tmp_path / "missing.tif", zones.drop(columns="mean"))
    with pytest.raises(RasterError, match="band"):
        zonal_stats(ramp, zones.drop(columns="mean"), band=2)


# ----------------------------------------------------------------------------- detect_change


@pytest.fixture
def landcover_pair(tmp_path):
    """Farmland with planted patches: 4x6 built-up, 3x2 greenhouse, one built-up pixel,
    two 2x2 built-up squares touching at a corner, and forest turned built-up."""
    before = np.full((40, 50), 2, np.uint8)
    before[:3, :] = LANDCOVER_NODATA
    before[30:35, 40:45] = 3  # forest
    after = before.copy()
    after[10:14, 10:16] = 5  # 24 px farmland -> built_up
    after[20:23, 30:32] = 6  # 6 px farmland -> greenhouse
    after[5, 45] = 5  # 1 px: below the minimum area
    after[25:27, 5:7] = 5
    after[27:29, 7:9] = 5  # diagonal neighbour of the previous square
    after[30:32, 40:43] = 5  # 6 px forest -> built_up
    b = write_tif(tmp_path / "lc_2020.tif", before, nodata=LANDCOVER_NODATA, tags={"DATE": "2020-06-30"})
    a = write_tif(tmp_path / "lc_2022.tif", after, nodata=LANDCOVER_NODATA)
    return b, a, before, after


def test_detect_change_finds_planted_patches_with_exact_areas(landcover_pair):
    b, a, *_ = landcover_pair
    out = detect_change(b, a, from_classes="farmland", to_classes=["built_up", "greenhouse"],
                        after_date="2022-07-01")
    got = sorted(zip(out["to_name"], out["area_m2"], strict=True))
    assert got == [("built_up", 400.0), ("built_up", 400.0), ("built_up", 2400.0), ("greenhouse", 600.0)]
    assert set(out["from_class"]) == {2} and set(out["from_name"]) == {"farmland"}
    assert set(out["to_class"]) == {5, 6}
    assert list(out["change_id"]) == [1, 2, 3, 4]
    assert (out["before_date"] == np.datetime64("2020-06-30")).all()  # from the DATE tag
    assert (out["after_date"] == np.datetime64("2022-07-01")).all()
    assert out.crs == CRS
    big = out.iloc[0]
    assert big.geometry.equals(px_box(10, 10, 16, 14))
    assert (out.area == out["area_m2"]).all() and (out["n_pixels"] * 100 == out["area_m2"]).all()


def test_detect_change_connectivity_and_min_area(landcover_pair):
    b, a, *_ = landcover_pair
    eight = detect_change(b, a, from_classes=[2], to_classes=[5], connectivity=8, min_area_m2=0)
    assert sorted(eight["area_m2"]) == [100.0, 800.0, 2400.0]
    four = detect_change(b, a, from_classes=[2], to_classes=[5], connectivity=4, min_area_m2=0)
    assert sorted(four["area_m2"]) == [100.0, 400.0, 400.0, 2400.0]
    assert eight.geometry.is_valid.all()
    forest = detect_change(b, a, from_classes=["林地", "farmland"], to_classes="built_up")
    assert ("forest", 600.0) in set(zip(forest["from_name"], forest["area_m2"], strict=True))


def test_detect_change_nothing_changed_gives_empty_frame(landcover_pair):
    b, *_ = landcover_pair
    out = detect_change(b, b, from_classes="farmland", to_classes="built_up")
    assert len(out) == 0
    assert {"change_id", "from_class", "to_class", "area_m2", "before_date", "geometry"} <= set(out.columns)


def test_detect_change_refuses_different_grids_naming_both_files(landcover_pair, tmp_path):
    b, _, before, after = landcover_pair
    shifted = write_tif(tmp_path / "shifted.tif", after, nodata=0, transform=from_origin(X0 + 20, Y0, RES, RES))
    with pytest.raises(RasterError) as exc:
        detect_change(b, shifted, from_classes="farmland", to_classes="built_up")
    msg = str(exc.value)
    assert "lc_2020.tif" in msg and "shifted.tif" in msg and "transform" in msg and "align=True" in msg
    cropped = write_tif(tmp_path / "cropped.tif", after[:30], nodata=0)
    with pytest.raises(RasterError, match=r"shape 40x50 vs 30x50"):
        detect_change(b, cropped, from_classes="farmland", to_classes="built_up")
    other_crs = write_tif(tmp_path / "crs.tif", after, nodata=0, crs="EPSG:4550")
    with pytest.raises(RasterError, match="CRS"):
        detect_change(b, other_crs, from_classes="farmland", to_classes="built_up")
    # align=True: the after raster moved by two pixels east, resampled back onto the before grid.
    out = detect_change(b, shifted, from_classes="farmland", to_classes="built_up", align=True)
    assert px_box(12, 10, 18, 14).equals(out.geometry.iloc[0])
    assert out["area_m2"].iloc[0] == 2400.0


def test_detect_change_align_resamples_finer_grid(landcover_pair, tmp_path):
    b, _, before, after = landcover_pair
    fine = np.repeat(np.repeat(after, 2, axis=0), 2, axis=1)  # same scene at 5 m
    a5 = write_tif(tmp_path / "fine.tif", fine, nodata=0, transform=from_origin(X0, Y0, 5.0, 5.0))
    out = detect_change(b, a5, from_classes="farmland", to_classes=["built_up", "greenhouse"], align=True)
    assert sorted(out["area_m2"]) == [400.0, 400.0, 600.0, 2400.0]


def test_detect_change_bad_class_name(landcover_pair):
    b, a, *_ = landcover_pair
    with pytest.raises(ConfigError, match="paddy"):
        detect_change(b, a, from_classes="paddy", to_classes="built_up")


def test_detect_change_finds_every_planted_change_in_the_sample(sample_dir):
    b, a = sample_dir / "landcover_2020.tif", sample_dir / "landcover_2022.tif"
    if not (b.exists() and a.exists() and (sample_dir / "manifest.json").exists()):
        pytest.skip("sample land-cover rasters not generated yet")
    manifest = json.loads((sample_dir / "manifest.json").read_text(encoding="utf-8"))
    lc = manifest["landcover"]
    patches = [p for key in lc if key.startswith("changes") for p in lc[key]]
    assert patches, "manifest lists no land-cover changes"
    out = detect_change(b, a, from_classes=[p["from_code"] for p in patches],
                        to_classes=[p["to_code"] for p in patches])
    for p in patches:
        box = shapely.box(*p["bbox"])
        hit = out[out.geometry.intersects(box.buffer(-1))]
        assert len(hit) == 1, p["patch_id"]
        assert hit["area_m2"].iloc[0] == pytest.approx(p["area_m2"])
        assert hit.geometry.iloc[0].symmetric_difference(box).area < 1e-6
    assert len(out) == len(patches)


@pytest.mark.slow
def test_check_landuse_cli_adds_landcover_change_layer(sample_dir, tmp_path):
    from click.testing import CliRunner

    from dongping_geo.cli import cli

    b, a = sample_dir / "landcover_2020.tif", sample_dir / "landcover_2022.tif"
    if not (b.exists() and a.exists()):
        pytest.skip("sample land-cover rasters not generated yet")
    manifest = json.loads((sample_dir / "manifest.json").read_text(encoding="utf-8"))
    patches = [p for key in manifest["landcover"] if key.startswith("changes") for p in manifest["landcover"][key]]
    args = ["check-landuse", str(sample_dir), "--survey", str(sample_dir / "buildings_2022.shp"),
            "--out", str(tmp_path / "out"), "--basemap", "none", "--offline"]
    half = CliRunner().invoke(cli, [*args, "--landcover-before", str(b)])
    assert half.exit_code == 2 and "go together" in half.output
    res = CliRunner().invoke(cli, [*args, "--landcover-before", str(b), "--landcover-after", str(a)])
    assert res.exit_code == 1, res.output
    layer = gpd.read_file(tmp_path / "out" / "violations.gpkg", layer="landcover_change")
    # The sample plants every change on farmland inside a protected zone.
    redlines = gpd.read_file(sample_dir / "redlines.shp").to_crs(CRS)
    inside = [p for p in patches if redlines.intersection(shapely.box(*p["bbox"])).area.max() > 0]
    assert len(inside) > 0
    assert sorted(layer["change_area_m2"].unique()) == sorted(p["area_m2"] for p in inside)
    assert set(layer["to_name"]) == {p["to_class"] for p in inside}


def test_truncated_raster_raises_raster_error(tmp_path):
    rng = np.random.default_rng(1)
    path = tmp_path / "cut.tif"
    with rasterio.open(path, "w", driver="GTiff", width=256, height=256, count=1, dtype="float32",
                       crs=CRS, transform=from_origin(X0, Y0, RES, RES), nodata=ND, tiled=True,
                       blockxsize=64, blockysize=64, compress="deflate") as dst:
        dst.write(rng.random((256, 256)).astype(np.float32), 1)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    zones = gpd.GeoDataFrame(geometry=[px_box(0, 0, 256, 256)], crs=CRS)
    with pytest.raises(RasterError, match="cut.tif"):
        zonal_stats(path, zones)


def test_empty_zones_and_single_stat_string(ramp):
    empty = gpd.GeoDataFrame({"zid": []}, geometry=[], crs=CRS)
    out = zonal_stats(ramp, empty)
    assert len(out) == 0 and list(out.columns) == ["zid", "mean", "min", "max", "sum", "count"]
    one = zonal_stats(ramp, gpd.GeoDataFrame(geometry=[px_box(1, 1, 3, 2)], crs=CRS), stats="mean")
    assert list(one.columns) == ["mean"] and one.loc[0, "mean"] == pytest.approx(11.5)


def test_warped_vrt_is_accepted(ramp):
    from rasterio.vrt import WarpedVRT

    zones = gpd.GeoDataFrame(geometry=[px_box(0.5, 0.5, 3.5, 2.5)], crs=CRS)
    with rasterio.open(ramp) as src, WarpedVRT(src) as vrt:
        out = zonal_stats(vrt, zones)
    ref = exact_extract(str(ramp), zones, ["mean", "count"], output="pandas")
    assert out.loc[0, "mean"] == pytest.approx(ref["mean"][0], rel=1e-6)
    assert out.loc[0, "count"] == pytest.approx(ref["count"][0], rel=1e-6)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    cx=st.floats(-50.0, 250.0),
    cy=st.floats(-50.0, 200.0),
    radius=st.floats(0.5, 150.0),
)
def test_count_equals_covered_area_over_pixel_area(seed, cx, cy, radius):
    # All pixels valid, value 1: count and sum are the zone's area inside the raster in pixels.
    from rasterio.io import MemoryFile

    rng = np.random.default_rng(seed)
    poly = star(rng, X0 + cx, Y0 - cy, radius, int(rng.integers(3, 20)))
    arr = np.ones((16, 20), dtype=np.float32)
    extent = shapely.box(X0, Y0 - 16 * RES, X0 + 20 * RES, Y0)
    with MemoryFile() as mem:
        with mem.open(driver="GTiff", width=20, height=16, count=1, dtype="float32", crs=CRS,
                      transform=from_origin(X0, Y0, RES, RES), nodata=ND) as dst:
            dst.write(arr, 1)
        with mem.open() as ds:
            out = zonal_stats(ds, gpd.GeoDataFrame(geometry=[poly], crs=CRS))
    expected = poly.intersection(extent).area / RES**2
    assert out.loc[0, "count"] == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert out.loc[0, "sum"] == pytest.approx(expected, rel=1e-9, abs=1e-9)
