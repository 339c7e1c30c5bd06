"""Raster analysis: exact zonal statistics and land-cover change detection.

The land-cover legend below is the single source of truth for class codes,
names and colours: the sample generator, the analyses and the maps all read it.

* :func:`zonal_stats` -- statistics of a raster per zone, every pixel weighted
  by the fraction of it that the zone covers (the definition of exactextract,
  which the tests use as the reference).
* :func:`detect_change` -- polygons where the land cover went from some classes
  to others between two rasters on the same grid.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, TypedDict, Unpack, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from rasterio.io import DatasetReader

from ._validation import repair_geometries
from .errors import ConfigError, CRSError, GeometryError, RasterError, SchemaError

if TYPE_CHECKING:  # pragma: no cover
    from ._raster_zonal import CategoricalResult

__all__ = [
    "LandCoverClass",
    "LANDCOVER_LEGEND",
    "LANDCOVER_NODATA",
    "CONTINUOUS_STATS",
    "SUSPECT_CHANGE_FROM",
    "SUSPECT_CHANGE_TO",
    "ChangeDates",
    "zonal_stats",
    "detect_change",
    "raster_info",
]


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

#: Transitions worth a field inspection: from open land (water, farmland, forest,
#: wetland) to hardened or covered land (built-up, greenhouse, bare) -- what
#: illegal construction, greenhouse housing (大棚房) and yards look like from above.
SUSPECT_CHANGE_FROM = ("water", "farmland", "forest", "wetland")
SUSPECT_CHANGE_TO = ("built_up", "greenhouse", "bare")

#: Statistics :func:`zonal_stats` computes for continuous rasters.
CONTINUOUS_STATS = ("mean", "min", "max", "sum", "count")

RasterLike: TypeAlias = str | os.PathLike | DatasetReader


# --------------------------------------------------------------------------- helpers


@contextlib.contextmanager
def _open(raster: RasterLike) -> Iterator[DatasetReader]:
    """Yield an open dataset; close it afterwards only if we opened it."""
    if isinstance(raster, DatasetReader) or hasattr(raster, "block_shapes"):  # also WarpedVRT
        opened = cast(DatasetReader, raster)  # the duck-type check above is the narrowing
        if opened.closed:
            raise RasterError("the raster dataset is closed", path=opened.name, fix="pass an open dataset or a path")
        yield opened
        return
    path = os.fspath(raster)
    if not os.path.exists(path):
        raise RasterError("raster file not found", path=path, fix="check the path")
    try:
        ds = rasterio.open(path)
    except rasterio.errors.RasterioIOError as exc:
        raise RasterError(
            "cannot open the raster", path=path, expected="a GDAL-readable raster (GeoTIFF)", found=str(exc)
        ) from exc
    with ds:
        yield ds


def raster_info(path: str | os.PathLike) -> dict[str, Any]:
    """Describe a raster file (size, bands, type, pixel size, CRS, nodata), checking it is readable.

    The first block of every band is read, so a truncated or corrupt file fails here
    rather than in an analysis.

    Parameters
    ----------
    path : path-like
        The raster (GeoTIFF).

    Returns
    -------
    dict
        ``width``, ``height``, ``count``, ``dtype``, ``res`` (x, y), ``crs`` (string or
        ``"none"``) and ``nodata``.

    Raises
    ------
    RasterError
        If the file is missing, empty, not a raster, has no band or its pixels cannot
        be read.

    Examples
    --------
    >>> raster_info("data/shapefiles/landcover_2022.tif")["count"]  # doctest: +SKIP
    1
    """
    with _open(path) as ds:
        if ds.count == 0 or ds.width == 0 or ds.height == 0:
            raise RasterError("the raster is empty", path=path, expected="at least one band of pixels",
                              found=f"{ds.width} × {ds.height} × {ds.count}", fix="replace the file")
        try:
            for band in range(1, ds.count + 1):
                ds.read(band, window=next(iter(ds.block_windows(band)))[1])
        except rasterio.errors.RasterioError as exc:
            raise RasterError("cannot read the raster's pixels", path=path, expected="a complete GeoTIFF",
                              found=str(exc).splitlines()[0][:200], fix="replace the file with a complete copy") from None
        return {"width": ds.width, "height": ds.height, "count": ds.count, "dtype": ds.dtypes[0],
                "res": ds.res, "crs": ds.crs.to_string() if ds.crs else "none", "nodata": ds.nodata}


def _check_band(ds: DatasetReader, band: int) -> None:
    if not 1 <= band <= ds.count:
        raise RasterError(
            "no such band", path=ds.name, field="band", expected=f"1..{ds.count}", found=str(band)
        )


def _pixel_area_m2(ds: DatasetReader) -> tuple[float | None, np.ndarray | None]:
    """Area of one pixel in m²: a constant for projected rasters, per row for geographic ones."""
    if ds.crs is None:
        raise RasterError("the raster has no CRS", path=ds.name, fix="assign one, e.g. gdal_edit.py -a_srs EPSG:4549")
    t = ds.transform
    if ds.crs.is_projected:
        factor = ds.crs.linear_units_factor[1]
        return abs(t.a * t.e - t.b * t.d) * factor**2, None
    if t.b != 0 or t.d != 0:
        raise RasterError(
            "rotated geographic rasters are not supported for areas",
            path=ds.name,
            fix="warp the raster to a projected CRS such as EPSG:4549",
        )
    from pyproj import CRS

    geod = CRS.from_user_input(ds.crs).get_geod()
    if geod is None:
        raise RasterError(
            "the raster CRS has no ellipsoid", path=ds.name, fix="assign a geographic or projected CRS, e.g. EPSG:4549"
        )
    rows = np.arange(ds.height)
    top, bottom = t.f + rows * t.e, t.f + (rows + 1) * t.e
    lon0, lon1 = t.c, t.c + t.a
    # Pixels of one row all have the same area on the ellipsoid.
    area = np.array(
        [
            abs(geod.polygon_area_perimeter([lon0, lon1, lon1, lon0], [b, b, a, a])[0])
            for a, b in zip(top, bottom, strict=True)
        ]
    )
    return None, area


def _polygonal(zones: gpd.GeoSeries, layer: str) -> np.ndarray:
    """Polygonal geometries as an object array; None for missing/empty; invalid ones repaired."""
    geoms = np.asarray(zones.values, dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    types = shapely.get_type_id(geoms)
    bad = present & ~np.isin(types, (3, 6))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise GeometryError(
            "zones must be polygons",
            layer=layer,
            feature_id=zones.index[i],
            field="geometry",
            expected="Polygon or MultiPolygon",
            found=geoms[i].geom_type,
            fix="buffer points/lines into polygons first",
        )
    geoms = np.where(present, geoms, np.array(None, dtype=object))
    invalid = present & ~shapely.is_valid(geoms)
    if invalid.any():
        # A self-intersecting ring would cancel its own area: repair with the package's one
        # repair rule (keep the polygonal part); a zone that collapses gets empty results.
        fixed, collapsed = repair_geometries(geoms[invalid], allowed=("Polygon", "MultiPolygon"))
        fixed[collapsed] = None
        geoms[invalid] = fixed
    return geoms


def _stat_columns(stats: Sequence[str], percentiles: Sequence[float]) -> tuple[list[str], list[float]]:
    """Validate the requested statistics; percentile_NN entries move to the percentile list."""
    plain: list[str] = []
    if isinstance(stats, str):  # stats="mean" means one statistic, not four letters
        stats = [stats]
    pcts = [float(q) for q in percentiles]
    for s in stats:
        if s in CONTINUOUS_STATS:
            plain.append(s)
        elif s.startswith("percentile_"):
            try:
                pcts.append(float(s.removeprefix("percentile_")))
            except ValueError:
                pcts.append(float("nan"))
        elif s == "median":
            pcts.append(50.0)
        else:
            raise ConfigError(
                "unknown statistic",
                field="stats",
                expected=", ".join(CONTINUOUS_STATS) + ", median or percentile_<0..100>",
                found=repr(s),
            )
    for q in pcts:
        if not 0.0 <= q <= 100.0:
            raise ConfigError("percentile out of range", field="percentiles", expected="0..100", found=repr(q))
    return plain, list(dict.fromkeys(pcts))


def _pct_name(q: float) -> str:
    return f"percentile_{q:g}"


# --------------------------------------------------------------------------- zonal_stats


def zonal_stats(
    raster: RasterLike,
    zones: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    stats: Sequence[str] = CONTINUOUS_STATS,
    categorical: bool = False,
    percentiles: Sequence[float] = (),
    band: int = 1,
    legend: Mapping[int, LandCoverClass] | None = None,
) -> pd.DataFrame:
    """Exact statistics of a raster inside each zone.

    Every pixel is weighted by the fraction of its area the zone covers (0..1),
    computed exactly from the zone's boundary -- the definition of exactextract.
    Each block of the raster is read once, however many zones touch it.

    Parameters
    ----------
    raster : path-like or rasterio.io.DatasetReader
        The raster, as a path or an open dataset (left open; a ``WarpedVRT``
        works too).
    zones : geopandas.GeoDataFrame or geopandas.GeoSeries
        Polygon zones with a CRS; reprojected to the raster's CRS. Missing or
        empty geometries get empty results; invalid ones are repaired
        (``make_valid``) first.
    stats : sequence of str, default ("mean", "min", "max", "sum", "count")
        Continuous statistics, each becoming a column of that name:
        ``count`` = sum of coverage fractions of valid pixels (in pixels);
        ``sum`` = sum of value x fraction; ``mean`` = sum / count;
        ``min``/``max`` over valid pixels with a fraction > 0. ``median`` and
        ``percentile_<q>`` are accepted too. Ignored when ``categorical``.
    categorical : bool, default False
        Treat pixel values as class codes: for each class c found in any zone,
        ``area_m2_<c>`` (covered area of valid pixels of that class, m²) and
        ``share_<c>`` (that area / all valid covered area, 0..1).
    percentiles : sequence of float, default ()
        Weighted percentiles (0..100), columns ``percentile_<q>``; defined as in
        exactextract (see Notes).
    band : int, default 1
        Band to read.
    legend : mapping of int to LandCoverClass, optional
        With ``categorical``, name the columns after the legend's class names
        (``area_m2_farmland``, ``share_farmland``); codes missing from the
        legend keep their number. Pass :data:`LANDCOVER_LEGEND` for the town's
        land-cover rasters.

    Returns
    -------
    pandas.DataFrame
        One row per zone, same index and order, with the zones' own columns
        (without geometry) followed by one column per statistic. A zone with no
        valid covered pixel (outside the raster, all nodata) has ``count`` 0,
        ``sum`` 0, NaN ``mean``/``min``/``max``/percentiles; categorically, area 0
        and NaN shares.

    Raises
    ------
    RasterError
        The raster is missing, unreadable, has no CRS or no such band.
    CRSError
        The zones have no CRS.
    GeometryError
        A zone is not a polygon.
    ConfigError
        An unknown statistic or a percentile outside 0..100.
    SchemaError
        A zone column has the name of an output column.

    Notes
    -----
    Nodata pixels (the band's nodata value, and NaN in float rasters) are
    excluded: they add nothing to ``count`` and are never a ``min``. Pixels
    outside the raster do not exist for the statistics. Per-dataset mask bands
    are not read.

    Weighted quantile (exactextract's, after stats.stackexchange.com/a/13223):
    sort the n valid values ``x_0 <= ... <= x_{n-1}`` with fractions ``w_i``; give
    each the position ``s_i = i w_i + (n - 1) (w_0 + ... + w_{i-1})``; the
    quantile q is the linear interpolation of x at ``s = q (n - 1) sum(w)``. With
    equal weights this is numpy's default (linear, Hyndman-Fan type 7). Tied
    values of different weights may order differently from exactextract, which
    can move a percentile lying between a tie and the next value.

    Examples
    --------
    >>> stats = zonal_stats("dem.tif", parcels, stats=("mean", "max"))  # doctest: +SKIP
    >>> cover = zonal_stats("landcover_2022.tif", redlines, categorical=True,
    ...                     legend=LANDCOVER_LEGEND)  # doctest: +SKIP
    >>> cover["share_built_up"]  # doctest: +SKIP
    """
    from ._raster_zonal import CategoricalResult, run

    zones = _zones_frame(zones)
    plain, pcts = _stat_columns(stats, percentiles)

    with _open(raster) as ds:
        _check_band(ds, band)
        const_area, row_area = _pixel_area_m2(ds) if categorical else (None, None)
        pix, bounds = _zones_in_pixels(ds, zones)
        res = run(
            ds,
            band,
            pix,
            bounds,
            categorical=categorical,
            quantiles=np.asarray(pcts) / 100.0,
            row_area=row_area,
            need_minmax=bool({"min", "max"} & set(plain)),
        )

    out = pd.DataFrame(zones.drop(columns=zones.geometry.name))
    # run() returns a CategoricalResult exactly when categorical is true.
    if isinstance(res, CategoricalResult):
        cols = _class_columns(res, len(zones), const_area, legend)
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(res.count > 0, res.sum / np.where(res.count > 0, res.count, 1.0), np.nan)
        allc = {"mean": mean, "min": res.min, "max": res.max, "sum": res.sum, "count": res.count}
        cols = {s: allc[s] for s in plain}
        cols |= {_pct_name(q): res.quantiles[:, j] for j, q in enumerate(pcts)}
    clash = [c for c in cols if c in out.columns]
    if clash:
        raise SchemaError(
            "a zone column has the name of an output statistic",
            layer="zones",
            field=clash[0],
            fix="rename that column before calling zonal_stats",
        )
    stats_df = pd.DataFrame(cols, index=out.index)
    return pd.concat([out, stats_df], axis=1)


def _zones_frame(zones: Any) -> gpd.GeoDataFrame:
    """Return the zones as a GeoDataFrame with a CRS."""
    if isinstance(zones, gpd.GeoSeries):
        zones = gpd.GeoDataFrame(geometry=zones)
    if not isinstance(zones, gpd.GeoDataFrame):
        raise GeometryError(
            "zones must be a GeoDataFrame or GeoSeries",
            layer="zones",
            expected="geopandas.GeoDataFrame",
            found=type(zones).__name__,
        )
    if zones.crs is None:
        raise CRSError(
            "the zones have no CRS",
            layer="zones",
            fix="set it with zones.set_crs(...) (EPSG:4549 for the town's working CRS)",
        )
    return zones


def _zones_in_pixels(ds: DatasetReader, zones: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Zone polygons in the raster's pixel space (clipped near it) and their bounds."""
    from ._raster_coverage import to_pixel_space

    if ds.crs is None:
        raise RasterError("the raster has no CRS", path=ds.name, fix="assign one, e.g. gdal_edit.py -a_srs EPSG:4549")
    gs = zones.geometry
    if not gs.crs.equals(ds.crs):
        gs = gs.to_crs(ds.crs)
    geoms = _polygonal(gs, "zones")
    pix = to_pixel_space(geoms, ~ds.transform)
    # Clip zones reaching far outside the raster: their boundary pieces there
    # can never count, and a continent-sized zone would yield millions.
    bounds = shapely.bounds(pix)
    frame = (-1.0, -1.0, ds.width + 1.0, ds.height + 1.0)
    with np.errstate(invalid="ignore"):
        big = (bounds[:, 0] < frame[0]) | (bounds[:, 1] < frame[1]) | (bounds[:, 2] > frame[2]) | (bounds[:, 3] > frame[3])
    if big.any():
        pix[big] = shapely.intersection(pix[big], shapely.box(*frame))
        bounds[big] = shapely.bounds(pix[big])
    return pix, bounds


def _class_columns(
    res: CategoricalResult, n_zones: int, const_area: float | None, legend: Mapping[int, LandCoverClass] | None
) -> dict[str, np.ndarray]:
    """``area_m2_<class>`` and ``share_<class>`` columns of a categorical result."""
    area = res.weight * const_area if const_area is not None else res.weight
    classes = np.unique(res.value)
    table = np.zeros((n_zones, classes.size))
    np.add.at(table, (res.zone, np.searchsorted(classes, res.value)), area)
    total = table.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, table / np.where(total > 0, total, 1.0), np.nan)
    names = [_class_label(c, legend) for c in classes]
    cols = {f"area_m2_{nm}": table[:, j] for j, nm in enumerate(names)}
    cols |= {f"share_{nm}": share[:, j] for j, nm in enumerate(names)}
    return cols


def _class_label(code: Any, legend: Mapping[int, LandCoverClass] | None) -> str:
    """Column label of a class: the legend name, or the code (integral floats as ints)."""
    if isinstance(code, float | np.floating) and float(code).is_integer():
        code = int(code)
    if isinstance(code, np.integer):
        code = int(code)
    if legend is not None and code in legend:
        return legend[code].name
    return str(code)


# --------------------------------------------------------------------------- detect_change


def _class_codes(
    classes: int | str | Iterable[int | str], legend: Mapping[int, LandCoverClass], field: str
) -> list[int]:
    """Class codes from codes or legend names (English or Chinese)."""
    if isinstance(classes, int | str | np.integer):
        classes = [classes]
    by_name = {c.name: k for k, c in legend.items()} | {c.name_zh: k for k, c in legend.items()}
    codes = []
    for c in classes:
        if isinstance(c, str):
            if c not in by_name:
                raise ConfigError(
                    "unknown land-cover class",
                    field=field,
                    expected=", ".join(f"{k} {v.name}" for k, v in legend.items()),
                    found=repr(c),
                )
            codes.append(by_name[c])
        else:
            codes.append(int(c))
    if not codes:
        raise ConfigError("no classes given", field=field, expected="at least one class code or name", found="[]")
    return codes


def _grid_differences(a: DatasetReader, b: DatasetReader) -> list[str]:
    """List what differs between the grids of two rasters (empty when identical)."""
    diffs = []
    if a.crs != b.crs:
        diffs.append(f"CRS {a.crs} vs {b.crs}")
    if (a.height, a.width) != (b.height, b.width):
        diffs.append(f"shape {a.height}x{a.width} vs {b.height}x{b.width} (rows x cols)")
    res = max(abs(a.transform.a), abs(a.transform.e))
    if not a.transform.almost_equals(b.transform, precision=1e-6 * res):
        diffs.append(f"transform {tuple(a.transform)[:6]} vs {tuple(b.transform)[:6]}")
    return diffs


def _raster_date(ds: DatasetReader, given: Any) -> pd.Timestamp:
    """Return the date of a raster: the one given, else its DATE or TIFFTAG_DATETIME tag, else NaT."""
    if given is not None:
        try:
            return pd.Timestamp(given)
        except (ValueError, TypeError) as exc:
            raise ConfigError("cannot read the date", path=ds.name, expected="a date such as 2022-03-05", found=repr(given)) from exc
    tags = ds.tags()
    for key in ("DATE", "TIFFTAG_DATETIME"):
        if tags.get(key):
            text = tags[key]
            if key == "TIFFTAG_DATETIME":  # "YYYY:MM:DD HH:MM:SS"
                text = text[:10].replace(":", "-")
            with contextlib.suppress(ValueError):
                return pd.Timestamp(text)
    return pd.NaT


def _read_class_band(ds: DatasetReader, band: int) -> tuple[np.ndarray, np.ndarray]:
    """Band values and their validity mask (nodata and NaN are invalid)."""
    _check_band(ds, band)
    try:
        arr = ds.read(band)
    except rasterio.errors.RasterioError as exc:
        raise RasterError("cannot read the raster's pixels", path=ds.name, expected="a complete GeoTIFF",
                          found=str(exc).splitlines()[0][:200], fix="replace the file with a complete copy") from None
    valid = np.ones(arr.shape, dtype=bool)
    nd = ds.nodatavals[band - 1]
    if nd is not None and not np.isnan(nd):
        valid &= arr != nd
    if arr.dtype.kind == "f":
        valid &= ~np.isnan(arr)
    return arr, valid


class ChangeDates(TypedDict, total=False):
    """Dates of the two rasters of :func:`detect_change` (date-like: str, date, Timestamp)."""

    before_date: Any
    after_date: Any


def detect_change(
    before: RasterLike,
    after: RasterLike,
    from_classes: int | str | Iterable[int | str],
    to_classes: int | str | Iterable[int | str],
    *,
    min_area_m2: float = 200.0,
    align: bool = False,
    connectivity: Literal[4, 8] = 4,
    legend: Mapping[int, LandCoverClass] = LANDCOVER_LEGEND,
    band: int = 1,
    **dates: Unpack[ChangeDates],
) -> gpd.GeoDataFrame:
    """Polygons where the land cover changed from some classes to others.

    A pixel is a change when it is valid in both rasters, its class in
    ``before`` is one of ``from_classes``, its class in ``after`` one of
    ``to_classes`` and the two differ. Connected pixels of the same transition
    form one polygon (``rasterio.features.shapes``).

    Parameters
    ----------
    before, after : path-like or rasterio.io.DatasetReader
        The earlier and later class rasters (e.g. ``landcover_2020.tif`` and
        ``landcover_2022.tif``).
    from_classes, to_classes : int, str or iterable of them
        Class codes, or names from ``legend`` (``"farmland"``, ``"耕地"``).
    min_area_m2 : float, default 200.0
        Drop polygons smaller than this (m²): a minimum mapping unit against
        single-pixel noise. The default keeps anything of 2 pixels or more at
        10 m resolution.
    align : bool, default False
        If the grids differ (CRS, transform or shape), resample ``after`` onto
        ``before``'s grid with nearest neighbour (the only resampling that
        keeps class codes) instead of raising.
    connectivity : {4, 8}, default 4
        Pixel connectivity of a patch. 4 (edge neighbours) always yields valid
        polygons; with 8, pixels touching at a corner join one patch and the
        polygon is repaired with ``make_valid``.
    legend : mapping of int to LandCoverClass, default LANDCOVER_LEGEND
        Class names for ``from_name``/``to_name`` and for names in
        ``from_classes``/``to_classes``.
    band : int, default 1
        Band of both rasters to compare.
    **dates
        ``before_date``, ``after_date`` (date-like, optional): dates of the two
        rasters, copied to every polygon; by default read from a ``DATE`` or
        ``TIFFTAG_DATETIME`` tag, else NaT (see :class:`ChangeDates`).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per change polygon, in ``before``'s CRS, sorted by decreasing
        area: ``change_id`` (1..n), ``from_class``, ``from_name``,
        ``to_class``, ``to_name``, ``area_m2`` (pixel count x pixel area for
        projected rasters; geodesic for geographic ones), ``n_pixels``,
        ``before_date``, ``after_date``, ``geometry`` (Polygon).

    Raises
    ------
    RasterError
        A raster is missing, unreadable or without CRS, or the grids differ and
        ``align`` is False (the message names both files and what differs).
    ConfigError
        Unknown class name, no classes, bad connectivity or date.

    Examples
    --------
    >>> changes = detect_change("landcover_2020.tif", "landcover_2022.tif",
    ...                         from_classes="farmland", to_classes=["built_up", "greenhouse"],
    ...                         before_date="2020-06-30", after_date="2022-06-30")  # doctest: +SKIP
    >>> changes[["from_name", "to_name", "area_m2"]].head()  # doctest: +SKIP
    """
    unknown = sorted(set(dates) - set(ChangeDates.__annotations__))
    if unknown:
        raise TypeError(f"detect_change() got an unexpected keyword argument {unknown[0]!r}")
    if connectivity not in (4, 8):
        raise ConfigError("connectivity must be 4 or 8", field="connectivity", expected="4 or 8", found=repr(connectivity))
    src_codes = _class_codes(from_classes, legend, "from_classes")
    dst_codes = _class_codes(to_classes, legend, "to_classes")

    with _open(before) as b_ds, _open(after) as a_ds:
        if b_ds.crs is None or a_ds.crs is None:
            raise RasterError(
                "the raster has no CRS",
                path=b_ds.name if b_ds.crs is None else a_ds.name,
                fix="assign one, e.g. gdal_edit.py -a_srs EPSG:4549",
            )
        b_arr, b_valid = _read_class_band(b_ds, band)
        a_arr, a_valid = _read_on_grid(a_ds, b_ds, band, align=align)
        crs, transform = b_ds.crs, b_ds.transform
        d0 = _raster_date(b_ds, dates.get("before_date"))
        d1 = _raster_date(a_ds, dates.get("after_date"))
        const_area, _ = _pixel_area_m2(b_ds)

    mask = b_valid & a_valid & np.isin(b_arr, src_codes) & np.isin(a_arr, dst_codes) & (b_arr != a_arr)
    geoms_arr, from_code, to_code = _change_polygons(b_arr, a_arr, mask, transform, connectivity)
    area, n_pixels = _change_areas(geoms_arr, const_area, transform, crs)

    def name(c: int) -> str:
        return legend[c].name if c in legend else str(c)

    out = gpd.GeoDataFrame(
        {
            "from_class": from_code.astype(np.int64),
            "from_name": [name(int(c)) for c in from_code],
            "to_class": to_code.astype(np.int64),
            "to_name": [name(int(c)) for c in to_code],
            "area_m2": np.asarray(area, dtype=float),
            "n_pixels": n_pixels,
            "before_date": pd.Series([d0] * len(from_code), dtype="datetime64[ns]"),
            "after_date": pd.Series([d1] * len(from_code), dtype="datetime64[ns]"),
        },
        geometry=gpd.GeoSeries(geoms_arr, crs=crs) if len(geoms_arr) else gpd.GeoSeries([], crs=crs),
        crs=crs,
    )
    out = out[out["area_m2"] >= min_area_m2].sort_values("area_m2", ascending=False, kind="stable")
    out = out.reset_index(drop=True)
    out.insert(0, "change_id", np.arange(1, len(out) + 1))
    return out


def _read_on_grid(ds: DatasetReader, grid: DatasetReader, band: int, *, align: bool) -> tuple[np.ndarray, np.ndarray]:
    """Class band of ``ds`` and its validity on ``grid``'s grid (nearest resampling if ``align``)."""
    from rasterio.warp import Resampling, reproject

    diffs = _grid_differences(grid, ds)
    if not diffs:
        return _read_class_band(ds, band)
    if not align:
        raise RasterError(
            "the two rasters are on different grids",
            path=f"{grid.name} and {ds.name}",
            expected="the same CRS, transform and shape",
            found="; ".join(diffs),
            fix="pass align=True to resample the second onto the first's grid (nearest), or gdalwarp it",
        )
    _check_band(ds, band)
    nodata = ds.nodatavals[band - 1]
    fill = nodata if nodata is not None else 0
    arr = np.full((grid.height, grid.width), fill, dtype=ds.dtypes[band - 1])
    reproject(
        source=rasterio.band(ds, band),
        destination=arr,
        dst_transform=grid.transform,
        dst_crs=grid.crs,
        src_nodata=nodata,
        dst_nodata=fill,
        resampling=Resampling.nearest,
    )
    # Pixels outside the raster's footprint are invalid.
    valid = arr != fill if nodata is not None else np.ones(arr.shape, dtype=bool)
    if arr.dtype.kind == "f":
        valid &= ~np.isnan(arr)
    return arr, valid


def _change_polygons(
    b_arr: np.ndarray, a_arr: np.ndarray, mask: np.ndarray, transform: Any, connectivity: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Polygons of connected changed pixels of one transition, with their from and to codes."""
    from rasterio.features import shapes

    # One label per (from, to) transition so that shapes() keeps them apart.
    pair = b_arr.astype(np.int64)[mask] * 2**32 + a_arr.astype(np.int64)[mask]
    uniq, inv = np.unique(pair, return_inverse=True)
    labels = np.zeros(b_arr.shape, dtype=np.int32)
    labels[mask] = inv.ravel() + 1
    geoms, values = [], []
    for geom, value in shapes(labels, mask=mask, connectivity=connectivity, transform=transform):
        geoms.append(shapely.geometry.shape(geom))
        values.append(int(value))
    geoms_arr = np.array(geoms, dtype=object)
    if connectivity == 8 and len(geoms_arr):
        geoms_arr = shapely.make_valid(geoms_arr)
    codes = uniq[np.asarray(values, dtype=np.int64) - 1] if values else np.zeros(0, np.int64)
    return geoms_arr, codes // 2**32, codes % 2**32


def _change_areas(
    geoms: np.ndarray, const_area: float | None, transform: Any, crs: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Area in m² (geodesic for geographic rasters) and pixel count of each change polygon."""
    if const_area is not None:
        area = shapely.area(geoms) * (const_area / abs(transform.a * transform.e - transform.b * transform.d))
        return area, np.rint(area / const_area).astype(np.int64)
    geo = gpd.GeoSeries(geoms, crs=crs)
    area = np.abs(np.array([geo.crs.get_geod().geometry_area_perimeter(g)[0] for g in geo])) if len(geo) else np.zeros(0)
    return area, np.rint(shapely.area(geoms) / abs(transform.a * transform.e)).astype(np.int64)
