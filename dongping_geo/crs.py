"""CRS policy and China-specific coordinate transforms.

* Analysis (lengths, areas, buffers) happens in a metric working CRS, by default
  EPSG:4549 (CGCS2000 / 3-degree Gauss-Kruger CM 120E). Change it with
  :func:`set_work_crs` or pass ``work_crs=`` where a function takes it.
* Web maps are drawn in EPSG:4326; CGCS2000 (EPSG:4490) and WGS 84 differ by
  centimetres and are treated as equal for maps.
* AMap/Gaode and Tencent tiles are in GCJ-02, Baidu tiles in BD-09. The
  transforms here are the published (de-facto public) algorithms, vectorised with
  NumPy. The GCJ-02 inverse is iterative (sub-millimetre), not the one-step
  approximation that is about 2 m off.
"""

from __future__ import annotations

from typing import TypeVar, overload

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from .errors import CRSError

__all__ = [
    "WORK_CRS",
    "WEB_CRS",
    "STORAGE_CRS",
    "get_work_crs",
    "set_work_crs",
    "to_work_crs",
    "to_web_crs",
    "suggest_gauss_kruger_crs",
    "wgs84_to_gcj02",
    "gcj02_to_wgs84",
    "gcj02_to_bd09",
    "bd09_to_gcj02",
    "out_of_china",
]

#: Default metric working CRS: CGCS2000 / 3-degree Gauss-Kruger CM 120E.
WORK_CRS = pyproj.CRS.from_epsg(4549)
#: CRS of web maps (Leaflet/folium).
WEB_CRS = pyproj.CRS.from_epsg(4326)
#: CGCS2000 geographic, for storage and exchange.
STORAGE_CRS = pyproj.CRS.from_epsg(4490)

_work_crs: pyproj.CRS = WORK_CRS

# 3-degree Gauss-Kruger zones that cover Shanghai: (zone number, central meridian,
# EPSG without zone prefix, EPSG with zone prefix in the easting).
_GK_ZONES = {40: (120, 4549, 4528), 41: (123, 4550, 4529)}


def get_work_crs() -> pyproj.CRS:
    """Return the metric working CRS in force (default EPSG:4549).

    Returns
    -------
    pyproj.CRS
        The working CRS.

    Examples
    --------
    >>> get_work_crs().to_epsg()
    4549
    """
    return _work_crs


def set_work_crs(crs: object) -> pyproj.CRS:
    """Set the metric working CRS used by the loaders and analyses.

    Parameters
    ----------
    crs : object
        Anything :meth:`pyproj.CRS.from_user_input` accepts (EPSG code, WKT,
        PROJ string) — for example a user-supplied definition of the local
        Shanghai 2000 system, whose parameters are not public.

    Returns
    -------
    pyproj.CRS
        The previous working CRS, so callers can restore it.

    Raises
    ------
    CRSError
        If the CRS cannot be parsed or is not projected in metres.

    Examples
    --------
    >>> previous = set_work_crs(4550)
    >>> _ = set_work_crs(previous)
    """
    global _work_crs
    new = _parse_crs(crs, what="working CRS")
    _require_metric(new, what="working CRS")
    previous, _work_crs = _work_crs, new
    return previous


def _parse_crs(crs: object, *, what: str = "CRS") -> pyproj.CRS:
    try:
        return pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError as exc:
        raise CRSError(
            f"cannot parse the {what}",
            expected="an EPSG code (e.g. 4549), WKT or PROJ string",
            found=repr(crs),
            fix=f"pass a valid CRS definition ({exc})",
        ) from None


def _require_metric(crs: pyproj.CRS, *, what: str) -> None:
    unit = crs.axis_info[0].unit_name if crs.axis_info else "unknown"
    if not crs.is_projected or unit not in ("metre", "meter"):
        raise CRSError(
            f"the {what} must be projected in metres",
            expected="a projected CRS in metres such as EPSG:4549",
            found=f"{crs.name} (unit {unit})",
            fix="choose a CGCS2000 Gauss-Kruger CRS (EPSG:4549/4550) or a UTM zone",
        )


G = TypeVar("G", gpd.GeoDataFrame, gpd.GeoSeries)


def to_work_crs(data: G, *, work_crs: object | None = None) -> G:
    """Reproject a GeoDataFrame/GeoSeries to the metric working CRS.

    Parameters
    ----------
    data : GeoDataFrame or GeoSeries
        Data with a CRS.
    work_crs : object, optional
        Override the working CRS for this call.

    Returns
    -------
    GeoDataFrame or GeoSeries
        The data in the working CRS (the same object if already there).

    Raises
    ------
    CRSError
        If ``data`` has no CRS.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> s = gpd.GeoSeries([shapely.Point(121.5, 31.7)], crs=4326)
    >>> round(to_work_crs(s).x.iloc[0])
    642000
    """
    target = _parse_crs(work_crs) if work_crs is not None else _work_crs
    return _reproject(data, target)


def to_web_crs(data: G) -> G:
    """Reproject a GeoDataFrame/GeoSeries to EPSG:4326 for web maps.

    Parameters
    ----------
    data : GeoDataFrame or GeoSeries
        Data with a CRS.

    Returns
    -------
    GeoDataFrame or GeoSeries
        The data in EPSG:4326.

    Raises
    ------
    CRSError
        If ``data`` has no CRS.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> s = gpd.GeoSeries([shapely.Point(642000, 3507000)], crs=4549)
    >>> to_web_crs(s).crs.to_epsg()
    4326
    """
    return _reproject(data, WEB_CRS)


def _reproject(data: G, target: pyproj.CRS) -> G:
    if data.crs is None:
        raise CRSError(
            "data has no CRS",
            expected="a GeoDataFrame/GeoSeries with .crs set",
            found="crs=None",
            fix="set it with .set_crs(...) or pass crs= to the loader",
        )
    if data.crs == target:
        return data
    return data.to_crs(target)


def suggest_gauss_kruger_crs(easting_m: float | np.ndarray) -> pyproj.CRS | None:
    """Suggest a CGCS2000 3-degree Gauss-Kruger CRS from eastings with a zone prefix.

    Eastings of EPSG:4528/4529 carry the zone number in front (e.g. 40 642 000 m);
    this reads that prefix. Eastings without a prefix (about 200 000 – 800 000 m)
    cannot tell zone 40 from zone 41, so the function returns ``None`` rather
    than guess: the caller must name the CRS.

    Parameters
    ----------
    easting_m : float or ndarray
        Easting value(s) in metres.

    Returns
    -------
    pyproj.CRS or None
        EPSG:4528 (zone 40) or EPSG:4529 (zone 41), or ``None`` when the
        eastings do not carry a known Shanghai zone prefix.

    Examples
    --------
    >>> suggest_gauss_kruger_crs(40642000.0).to_epsg()
    4528
    >>> suggest_gauss_kruger_crs(642000.0) is None
    True
    """
    e = np.atleast_1d(np.asarray(easting_m, dtype=float))
    zones = np.unique(np.floor(e / 1_000_000).astype(int))
    if len(zones) == 1 and int(zones[0]) in _GK_ZONES:
        return pyproj.CRS.from_epsg(_GK_ZONES[int(zones[0])][2])
    return None


# --- GCJ-02 / BD-09 -------------------------------------------------------------
_A = 6378245.0  # Krasovsky 1940 semi-major axis used by the GCJ-02 algorithm
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0


def out_of_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Return a mask of coordinates outside the GCJ-02 bounding box of China.

    The published algorithm leaves such coordinates unchanged.

    Parameters
    ----------
    lon, lat : ndarray
        Longitudes and latitudes in degrees.

    Returns
    -------
    ndarray of bool
        True where the coordinate is outside the box.

    Examples
    --------
    >>> out_of_china(np.array([2.35, 121.5]), np.array([48.85, 31.7])).tolist()
    [True, False]
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _gcj_delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = lon - 105.0
    y = lat - 35.0
    sx = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sx + common
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sx + common
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    outside = out_of_china(lon, lat)
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def _wgs_to_gcj_xy(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dlon, dlat = _gcj_delta(lon, lat)
    return lon + dlon, lat + dlat


def _gcj_to_wgs_xy(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Fixed-point iteration on wgs = gcj - delta(wgs); converges to < 1e-10 degrees
    # (sub-millimetre) in a handful of steps because delta varies slowly.
    wlon, wlat = lon.copy(), lat.copy()
    for _ in range(30):
        glon, glat = _wgs_to_gcj_xy(wlon, wlat)
        elon, elat = glon - lon, glat - lat
        wlon, wlat = wlon - elon, wlat - elat
        if np.all(np.abs(elon) < 1e-11) and np.all(np.abs(elat) < 1e-11):
            break
    return wlon, wlat


def _gcj_to_bd_xy(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd_to_gcj_xy(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = lon - 0.0065, lat - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


ArrayPair = tuple[np.ndarray, np.ndarray]


@overload
def _apply(func, data: G, lat: None = None) -> G: ...
@overload
def _apply(func, data: np.ndarray, lat: np.ndarray) -> ArrayPair: ...


def _apply(func, data, lat=None):
    """Apply a lon/lat array transform to arrays or to every vertex of geometries."""
    if lat is not None:
        lon_arr = np.asarray(data, dtype=float)
        lat_arr = np.asarray(lat, dtype=float)
        return func(lon_arr, lat_arr)
    if not isinstance(data, gpd.GeoDataFrame | gpd.GeoSeries):
        raise TypeError("pass a GeoSeries/GeoDataFrame, or two arrays lon, lat")
    if data.crs is not None and not data.crs.equals(WEB_CRS) and data.crs.to_epsg() not in (4326, 4490):
        raise CRSError(
            "GCJ-02/BD-09 transforms work on geographic WGS 84 coordinates",
            expected="EPSG:4326 (or EPSG:4490)",
            found=str(data.crs.to_string()),
            fix="call dongping_geo.crs.to_web_crs(data) first",
        )

    def _xy(coords: np.ndarray) -> np.ndarray:
        x, y = func(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    geoms = shapely.transform(np.asarray(data.geometry.values), _xy)
    out = data.copy()
    if isinstance(out, gpd.GeoDataFrame):
        out[out.geometry.name] = gpd.GeoSeries(geoms, index=out.index, crs=out.crs)
        return out
    return gpd.GeoSeries(geoms, index=out.index, crs=out.crs, name=out.name)


def wgs84_to_gcj02(data, lat=None):
    """Shift WGS 84 (or CGCS2000) coordinates to GCJ-02, as used by AMap/Gaode and Tencent tiles.

    Parameters
    ----------
    data : GeoDataFrame, GeoSeries or ndarray
        Geometries in EPSG:4326, or an array of longitudes (then ``lat`` is required).
    lat : ndarray, optional
        Latitudes, when ``data`` is an array of longitudes.

    Returns
    -------
    GeoDataFrame, GeoSeries or tuple of ndarray
        The same kind of object with shifted coordinates. The CRS label stays
        EPSG:4326: GCJ-02 has no EPSG code, so callers must keep track of it.

    Raises
    ------
    CRSError
        If geometries are not in geographic WGS 84/CGCS2000.

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02(np.array([121.5]), np.array([31.7]))
    >>> bool(lon[0] > 121.5)
    True
    """
    return _apply(_wgs_to_gcj_xy, data, lat)


def gcj02_to_wgs84(data, lat=None):
    """Shift GCJ-02 coordinates back to WGS 84 with the iterative (exact) inverse.

    Parameters
    ----------
    data : GeoDataFrame, GeoSeries or ndarray
        Geometries digitised on GCJ-02 tiles (labelled EPSG:4326), or longitudes.
    lat : ndarray, optional
        Latitudes, when ``data`` is an array of longitudes.

    Returns
    -------
    GeoDataFrame, GeoSeries or tuple of ndarray
        The same kind of object in WGS 84.

    Raises
    ------
    CRSError
        If geometries are not labelled geographic WGS 84/CGCS2000.

    Examples
    --------
    >>> lon, lat = gcj02_to_wgs84(*wgs84_to_gcj02(np.array([121.5]), np.array([31.7])))
    >>> round(float(lon[0]), 9), round(float(lat[0]), 9)
    (121.5, 31.7)
    """
    return _apply(_gcj_to_wgs_xy, data, lat)


def gcj02_to_bd09(data, lat=None):
    """Shift GCJ-02 coordinates to Baidu's BD-09.

    Parameters
    ----------
    data : GeoDataFrame, GeoSeries or ndarray
        GCJ-02 geometries or longitudes.
    lat : ndarray, optional
        Latitudes, when ``data`` is an array of longitudes.

    Returns
    -------
    GeoDataFrame, GeoSeries or tuple of ndarray
        The same kind of object in BD-09.

    Examples
    --------
    >>> lon, lat = gcj02_to_bd09(np.array([121.5]), np.array([31.7]))
    >>> bool(lon[0] > 121.5)
    True
    """
    return _apply(_gcj_to_bd_xy, data, lat)


def bd09_to_gcj02(data, lat=None):
    """Shift Baidu BD-09 coordinates back to GCJ-02.

    Parameters
    ----------
    data : GeoDataFrame, GeoSeries or ndarray
        BD-09 geometries or longitudes.
    lat : ndarray, optional
        Latitudes, when ``data`` is an array of longitudes.

    Returns
    -------
    GeoDataFrame, GeoSeries or tuple of ndarray
        The same kind of object in GCJ-02.

    Examples
    --------
    >>> lon, lat = bd09_to_gcj02(*gcj02_to_bd09(np.array([121.5]), np.array([31.7])))
    >>> abs(float(lon[0]) - 121.5) < 1e-5
    True
    """
    return _apply(_bd_to_gcj_xy, data, lat)
