"""Tests of the GCJ-02 / BD-09 transforms in dongping_geo.crs.

Expected values come from outside the code under test: the public-domain
``prcoords`` implementation of the same published algorithm, distances on the
WGS 84 ellipsoid from pyproj.Geod, and shapely's own coordinate accessors.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from dongping_geo.crs import bd09_to_gcj02, gcj02_to_bd09, gcj02_to_wgs84, wgs84_to_gcj02
from dongping_geo.errors import CRSError

GEOD = pyproj.Geod(ellps="WGS84")
DONGPING = (121.5, 31.7)

# Well inside the GCJ-02 box, so a shifted point never crosses its edge.
lon_cn = st.floats(75.0, 134.0, allow_nan=False)
lat_cn = st.floats(5.0, 53.0, allow_nan=False)


def _metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


# --- offsets and round trips --------------------------------------------------------


def test_wgs84_to_gcj02_offset_at_dongping_is_about_475_m():
    lon, lat = wgs84_to_gcj02(np.array([DONGPING[0]]), np.array([DONGPING[1]]))
    dist = _metres(DONGPING[0], DONGPING[1], lon[0], lat[0])
    # Published value for Shanghai is ~470-480 m; prcoords gives 474.6 m here.
    assert 460 < dist < 490
    # GCJ-02 moves Shanghai east and slightly south.
    assert lon[0] > DONGPING[0] and lat[0] < DONGPING[1]


def test_dongping_matches_prcoords_literal():
    # prcoords.wgs_gcj(Coords(31.7, 121.5)) -> (31.69807274046298, 121.504471493931),
    # frozen here so the check runs even where prcoords is not installed.
    lon, lat = wgs84_to_gcj02(np.array([121.5]), np.array([31.7]))
    assert lon[0] == pytest.approx(121.504471493931, abs=1e-11)
    assert lat[0] == pytest.approx(31.69807274046298, abs=1e-11)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(lon_cn, lat_cn), min_size=1, max_size=20))
def test_gcj02_round_trip_below_half_a_metre(points):
    lon, lat = (np.array(v) for v in zip(*points, strict=True))
    back_lon, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert np.max(_metres(lon, lat, back_lon, back_lat)) < 0.5
    # The iterative inverse is far better than the 0.5 m requirement (one-step: ~2 m).
    assert np.max(_metres(lon, lat, back_lon, back_lat)) < 0.001


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(lon_cn, lat_cn), min_size=1, max_size=20))
def test_bd09_round_trip_below_half_a_metre(points):
    lon, lat = (np.array(v) for v in zip(*points, strict=True))
    back_lon, back_lat = bd09_to_gcj02(*gcj02_to_bd09(lon, lat))
    assert np.max(_metres(lon, lat, back_lon, back_lat)) < 0.5


def test_outside_china_passes_through_unchanged():
    # Paris, New York, Sydney, Moscow, and a point just west of the box (Kabul).
    lon = np.array([2.35, -74.0, 151.2, 37.6, 69.2])
    lat = np.array([48.85, 40.7, -33.9, 55.75, 34.5])
    for func in (wgs84_to_gcj02, gcj02_to_wgs84):
        out_lon, out_lat = func(lon, lat)
        np.testing.assert_array_equal(out_lon, lon)
        np.testing.assert_array_equal(out_lat, lat)


# --- geometries ---------------------------------------------------------------------


def _all_geometry_types() -> list:
    x, y = DONGPING
    ring = [(x, y), (x + 0.01, y), (x + 0.01, y + 0.01), (x, y + 0.01)]
    hole = [(x + 0.003, y + 0.003), (x + 0.006, y + 0.003), (x + 0.006, y + 0.006)]
    poly = shapely.Polygon(ring, [hole])
    return [
        shapely.Point(x, y),
        shapely.LineString([(x, y), (x + 0.02, y + 0.01), (x + 0.03, y)]),
        poly,
        shapely.MultiPoint([(x, y), (x + 0.05, y + 0.05)]),
        shapely.MultiLineString([[(x, y), (x + 0.01, y)], [(x, y + 0.02), (x + 0.01, y + 0.03)]]),
        shapely.MultiPolygon([poly, shapely.box(x + 0.1, y, x + 0.11, y + 0.01)]),
        shapely.GeometryCollection([shapely.Point(x, y), shapely.LineString([(x, y), (x + 1, y)])]),
        shapely.Point(),  # empty
        None,
    ]


def test_geometries_of_every_type_are_shifted_vertex_by_vertex():
    geoms = _all_geometry_types()
    gdf = gpd.GeoDataFrame(
        {"name": [f"g{i}" for i in range(len(geoms))]},
        geometry=geoms,
        index=range(10, 10 + len(geoms)),
        crs=4326,
    )
    out = wgs84_to_gcj02(gdf)
    assert out is not gdf
    assert list(out.index) == list(gdf.index)
    assert list(out["name"]) == list(gdf["name"])
    assert out.crs == gdf.crs
    for before, after in zip(gdf.geometry, out.geometry, strict=True):
        if before is None:
            assert after is None
            continue
        assert after.geom_type == before.geom_type
        assert after.is_empty == before.is_empty
        src = shapely.get_coordinates(before)
        dst = shapely.get_coordinates(after)
        assert src.shape == dst.shape
        if len(src):
            exp_lon, exp_lat = wgs84_to_gcj02(src[:, 0], src[:, 1])
            np.testing.assert_allclose(dst[:, 0], exp_lon, rtol=0, atol=1e-12)
            np.testing.assert_allclose(dst[:, 1], exp_lat, rtol=0, atol=1e-12)
            # Every vertex moved by the ~475 m Shanghai offset (the 1-degree line too).
            moved = _metres(src[:, 0], src[:, 1], dst[:, 0], dst[:, 1])
            assert np.all((moved > 400) & (moved < 550))
    # Polygon holes survive.
    assert len(out.geometry.iloc[2].interiors) == 1
    # The input was not modified.
    assert gdf.geometry.iloc[0].equals(shapely.Point(*DONGPING))


def test_geoseries_round_trip_keeps_name_and_geometry():
    s = gpd.GeoSeries(_all_geometry_types()[:7], crs=4326, name="shapes")
    back = gcj02_to_wgs84(wgs84_to_gcj02(s))
    assert isinstance(back, gpd.GeoSeries) and back.name == "shapes"
    src = shapely.get_coordinates(s.values)
    dst = shapely.get_coordinates(back.values)
    assert np.max(_metres(src[:, 0], src[:, 1], dst[:, 0], dst[:, 1])) < 0.001


def test_projected_input_is_refused():
    s = gpd.GeoSeries([shapely.Point(642000, 3507000)], crs=4549)
    with pytest.raises(CRSError, match="EPSG:4326"):
        wgs84_to_gcj02(s)


def test_cgcs2000_geographic_is_accepted():
    s = gpd.GeoSeries([shapely.Point(*DONGPING)], crs=4490)
    out = wgs84_to_gcj02(s)
    assert out.x.iloc[0] > DONGPING[0]


# --- agreement with an independent implementation -------------------------------------


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(lon_cn, lat_cn), min_size=1, max_size=10))
def test_agrees_with_prcoords(points):
    prcoords = pytest.importorskip("prcoords", reason="reference implementation prcoords")
    lon, lat = (np.array(v) for v in zip(*points, strict=True))
    glon, glat = wgs84_to_gcj02(lon, lat)
    wlon, wlat = gcj02_to_wgs84(lon, lat)
    blon, blat = gcj02_to_bd09(lon, lat)
    bglon, bglat = bd09_to_gcj02(lon, lat)
    for i in range(len(lon)):
        c = prcoords.Coords(lat[i], lon[i])  # prcoords takes (lat, lon)
        ref = prcoords.wgs_gcj(c)
        assert glon[i] == pytest.approx(ref.lon, abs=1e-10)
        assert glat[i] == pytest.approx(ref.lat, abs=1e-10)
        # prcoords' exact inverse stops at ~1e-8 degrees (its PRC_EPS): about 1 mm.
        ref = prcoords.gcj_wgs_bored(c)
        assert _metres(wlon[i], wlat[i], ref.lon, ref.lat) < 0.01
        ref = prcoords.gcj_bd(c)
        assert blon[i] == pytest.approx(ref.lon, abs=1e-10)
        assert blat[i] == pytest.approx(ref.lat, abs=1e-10)
        ref = prcoords.bd_gcj(c)
        assert bglon[i] == pytest.approx(ref.lon, abs=1e-10)
        assert bglat[i] == pytest.approx(ref.lat, abs=1e-10)
