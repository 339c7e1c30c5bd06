"""Loading layers: read → rename aliases → validate → reproject to the working CRS.

One loader per layer of the data model, plus :func:`load_dataset` for a folder laid
out like ``data/shapefiles/``. Loaders raise the first problem found (saying how many
more there are); :func:`inspect_file` collects them all for ``dongping-geo validate``.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from .crs import WEB_CRS, _parse_crs, suggest_gauss_kruger_crs, to_work_crs
from .errors import CRSError, DongpingGeoError, GeometryError, InputFileError, SchemaError
from .io import read_layer
from .schemas import get_schema, standardize

__all__ = [
    "Dataset",
    "LayerReport",
    "inspect_file",
    "load_buildings",
    "load_dataset",
    "load_demolitions",
    "load_layer",
    "load_measurements",
    "load_patrols",
    "load_problems",
    "load_signboards",
    "load_redlines",
    "load_regions",
    "load_rivers",
    "load_sections",
    "read_table",
    "dataset_files",
]

# Longitude/latitude box of China used to catch swapped axes and wrong CRSs.
_CHINA_LON = (73.0, 136.0)
_CHINA_LAT = (3.0, 54.0)


@dataclass
class LayerReport:
    """What :func:`inspect_file` found in one file.

    Attributes
    ----------
    path : Path
        The file.
    layer : str
        Schema layer name.
    features : int
        Feature (row) count.
    crs : str
        The file's CRS, or ``"none"``.
    encoding : str
        Attribute encoding used (Shapefiles), else ``""``.
    problems : list of DongpingGeoError
        Problems found; empty when the file is clean.
    data : DataFrame or None
        The loaded layer when it could be loaded.
    """

    path: Path
    layer: str
    features: int = 0
    crs: str = "none"
    encoding: str = ""
    problems: list = field(default_factory=list)
    data: Any = None


def _raise_first(problems: list) -> None:
    if problems:
        first = problems[0]
        if len(problems) > 1:
            first.args = (f"{first.args[0]} (and {len(problems) - 1} more problems; "
                          "run `dongping-geo validate` on the file to list them)",)
        raise first


def _assign_crs(gdf: gpd.GeoDataFrame, *, path: Path, layer: str, crs: Any) -> gpd.GeoDataFrame:
    """Apply an explicit CRS, or refuse a file without one (suggesting what it may be)."""
    if crs is not None:
        return gdf.set_crs(_parse_crs(crs), allow_override=True)
    if gdf.crs is not None:
        return gdf
    bounds = gdf.total_bounds if len(gdf) else np.array([np.nan] * 4)
    hint = "pass crs= with the layer's CRS"
    if np.all(np.isfinite(bounds)):
        if -180 <= bounds[0] and bounds[2] <= 180 and -90 <= bounds[1] and bounds[3] <= 90:
            hint = "the coordinates look like longitude/latitude: pass crs=4490 (CGCS2000) or crs=4326"
        else:
            suggestion = suggest_gauss_kruger_crs(np.array([bounds[0], bounds[2]]))
            if suggestion is not None:
                hint = f"the eastings carry a zone prefix: pass crs={suggestion.to_epsg()} if that is right"
            else:
                hint = ("the eastings have no zone prefix, so Gauss-Kruger zone 40 (crs=4549) and "
                        "zone 41 (crs=4550) cannot be told apart; pass the one your data uses")
    raise CRSError(
        "the layer has no CRS (no .prj)", path=path, layer=layer,
        expected="a .prj file or crs=", found="no CRS", fix=hint,
    )


def _check_location(gdf: gpd.GeoDataFrame, *, path: Path, layer: str, id_field: str | None) -> list:
    """Flag features whose coordinates fall far outside China (swapped lon/lat, wrong CRS)."""
    if len(gdf) == 0:
        return []
    valid = ~(gdf.geometry.is_empty | gdf.geometry.isna())
    if not valid.any():
        return []
    geo = gdf.loc[valid].to_crs(WEB_CRS) if not gdf.crs.equals(WEB_CRS) else gdf.loc[valid]
    b = geo.geometry.bounds
    outside = ~((b.minx >= _CHINA_LON[0]) & (b.maxx <= _CHINA_LON[1]) & (b.miny >= _CHINA_LAT[0]) & (b.maxy <= _CHINA_LAT[1]))
    outside = outside & np.isfinite(b.minx)
    outside |= ~np.isfinite(b.minx)
    if not outside.any():
        return []
    ids = (geo.loc[outside, id_field].astype(str).tolist() if id_field and id_field in geo.columns
           else [f"row {i}" for i in geo.index[outside]])
    sample = b.loc[outside].iloc[0]
    return [GeometryError(
        "features lie far outside China", path=path, layer=layer,
        feature_id=", ".join(ids[:5]) + (f" (and {len(ids) - 5} more)" if len(ids) > 5 else ""),
        expected=f"longitude {_CHINA_LON[0]:g}–{_CHINA_LON[1]:g}, latitude {_CHINA_LAT[0]:g}–{_CHINA_LAT[1]:g}",
        found=f"lon {sample.minx:.4f}, lat {sample.miny:.4f}",
        fix="check whether longitude and latitude are swapped, or whether the CRS (.prj / crs=) is right",
    )]


def _finish(
    gdf: gpd.GeoDataFrame, layer: str, *, path: Path, crs: Any, repair: bool, work_crs: Any
) -> tuple[gpd.GeoDataFrame, list, list[str]]:
    """Shared tail of every vector loader: CRS, schema validation, location check, reprojection."""
    attrs = dict(gdf.attrs)
    gdf = _assign_crs(gdf, path=path, layer=layer, crs=crs)
    result = standardize(gdf, layer, path=path, repair=repair)
    data = result.data
    problems = list(result.problems)
    if isinstance(data, gpd.GeoDataFrame) and not any(isinstance(p, GeometryError) for p in problems):
        problems += _check_location(data, path=path, layer=layer, id_field=get_schema(layer).id_field)
    if isinstance(data, gpd.GeoDataFrame) and not problems:
        data = to_work_crs(data, work_crs=work_crs)
    attrs.update(layer_name=layer, repairs=result.repairs)
    data.attrs.update(attrs)
    return data, problems, result.repairs


def load_layer(
    path: str | os.PathLike,
    layer: str,
    *,
    crs: Any = None,
    repair: bool = False,
    encoding: str | None = None,
    file_layer: str | int | None = None,
    work_crs: Any = None,
) -> gpd.GeoDataFrame:
    """Load one layer of the data model from a vector file.

    Parameters
    ----------
    path : path-like
        Shapefile, GeoPackage, GeoParquet or GeoJSON.
    layer : str
        Schema layer: ``rivers``, ``sections``, ``redlines``, ``demolitions``,
        ``buildings``, ``regions`` or ``patrols``.
    crs : object, optional
        The CRS of the data. Required when the file has none; when the file has
        one, an explicit ``crs`` overrides it (for a wrong ``.prj``).
    repair : bool, default False
        Make invalid geometries valid (``shapely.make_valid``) instead of failing;
        what changed is listed in ``gdf.attrs["repairs"]``.
    encoding : str, optional
        Shapefile attribute encoding (default: detected).
    file_layer : str or int, optional
        Layer inside a multi-layer file.
    work_crs : object, optional
        Override the working CRS (default :func:`dongping_geo.crs.get_work_crs`).

    Returns
    -------
    GeoDataFrame
        Canonical fields and values, in the working CRS. ``attrs`` holds the
        source path, encoding and repairs.

    Raises
    ------
    InputFileError, EncodingError, CRSError, SchemaError, GeometryError
        On the first problem found (the message says how many more there are).

    Examples
    --------
    >>> rivers = load_layer("data/shapefiles/rivers.shp", "rivers")  # doctest: +SKIP
    """
    path = Path(path)
    gdf = read_layer(path, layer=file_layer, encoding=encoding)
    data, problems, _ = _finish(gdf, layer, path=path, crs=crs, repair=repair, work_crs=work_crs)
    _raise_first(problems)
    return data


def _layer_loader(layer: str):
    def loader(path: str | os.PathLike, *, crs: Any = None, repair: bool = False,
               encoding: str | None = None, work_crs: Any = None) -> gpd.GeoDataFrame:
        return load_layer(path, layer, crs=crs, repair=repair, encoding=encoding, work_crs=work_crs)

    schema = get_schema(layer)
    loader.__name__ = f"load_{layer}"
    loader.__qualname__ = loader.__name__
    loader.__doc__ = f"""Load the {layer} layer ({schema.zh}) from a vector file.

    Fields: {", ".join(schema.field_names)} (Chinese aliases accepted, see docs/data-model.md).

    Parameters
    ----------
    path : path-like
        Shapefile, GeoPackage, GeoParquet or GeoJSON.
    crs : object, optional
        CRS of the data; required when the file has none.
    repair : bool, default False
        Make invalid geometries valid instead of failing.
    encoding : str, optional
        Shapefile attribute encoding (default: detected).
    work_crs : object, optional
        Override the working CRS.

    Returns
    -------
    GeoDataFrame
        The validated layer in the working CRS.

    Raises
    ------
    DongpingGeoError
        With file, feature id, field, expected and found, on the first problem.

    Examples
    --------
    >>> gdf = load_{layer}("data/shapefiles/{layer}.shp")  # doctest: +SKIP
    """
    return loader


load_rivers = _layer_loader("rivers")
load_sections = _layer_loader("sections")
load_redlines = _layer_loader("redlines")
load_demolitions = _layer_loader("demolitions")
load_buildings = _layer_loader("buildings")
load_regions = _layer_loader("regions")


# --- tables: CSV / XLSX -------------------------------------------------------------

def read_table(path: str | os.PathLike, *, sheet: str | int = 0) -> pd.DataFrame:
    """Read a CSV (UTF-8 with or without BOM, else GB18030) or XLSX table as text.

    Parameters
    ----------
    path : path-like
        ``.csv``, ``.txt`` or ``.xlsx`` file.
    sheet : str or int, default 0
        Worksheet of an XLSX file.

    Returns
    -------
    DataFrame
        Every cell as a string (empty cells as ``""``); ``attrs["encoding"]`` tells
        which encoding a CSV was read with.

    Raises
    ------
    InputFileError
        If the file is missing or not a readable table.

    Examples
    --------
    >>> df = read_table("data/shapefiles/measurements.csv")  # doctest: +SKIP
    """
    path = Path(path)
    if not path.exists():
        raise InputFileError("file not found", path=path, expected="an existing file",
                             found="nothing at that path", fix="check the path")
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            df = pd.read_excel(path, sheet_name=sheet, dtype=str, keep_default_na=False)
            df.attrs["encoding"] = ""
        elif suffix in (".csv", ".txt"):
            for enc in ("utf-8-sig", "gb18030"):
                try:
                    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=enc)
                    df.attrs["encoding"] = enc
                    break
                except UnicodeDecodeError:
                    continue
            else:
                raise InputFileError("cannot decode the CSV", path=path,
                                     expected="UTF-8 or GB18030 text", found="undecodable bytes",
                                     fix="save the file as UTF-8")
        else:
            raise InputFileError("unsupported table type", path=path, expected=".csv or .xlsx",
                                 found=repr(path.suffix), fix="save the table as CSV or XLSX")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise InputFileError("cannot read the table", path=path, found=str(exc).splitlines()[0][:200],
                             fix="check that it is a well-formed CSV/XLSX") from None
    df.columns = [str(c).strip() for c in df.columns]
    df.attrs["path"] = str(path)
    return df


def load_measurements(path: str | os.PathLike, *, sheet: str | int = 0) -> pd.DataFrame:
    """Load water-quality measurements (CSV or XLSX, long or wide layout) as a long table.

    Parameters
    ----------
    path : path-like
        The lab's file.
    sheet : str or int, default 0
        Worksheet of an XLSX file.

    Returns
    -------
    DataFrame
        Columns section_id, sampled_at (Asia/Shanghai), parameter (GB 3838 item
        code), value (mg/L; the detection limit where qualifier is ``"<"``), unit,
        qualifier.

    Raises
    ------
    InputFileError
        If the file cannot be read.
    MeasurementError
        On an unknown parameter or unit, a non-numeric or negative value, or
        conflicting duplicates (the message names the row).

    Examples
    --------
    >>> m = load_measurements("data/shapefiles/measurements.csv")  # doctest: +SKIP
    """
    from ._measurements import parse_measurements

    raw = read_table(path, sheet=sheet)
    out = parse_measurements(raw, path=Path(path))
    out.attrs.update(path=str(path), layer_name="measurements", encoding=raw.attrs.get("encoding", ""))
    return out


# --- patrol fixes ------------------------------------------------------------------

_LON_NAMES = ("lon", "lng", "longitude", "x", "经度")
_LAT_NAMES = ("lat", "latitude", "y", "纬度")
_TIME_NAMES = ("time", "timestamp", "datetime", "时间", "定位时间", "gps_time")


def _pick(df: pd.DataFrame, names: tuple[str, ...]) -> str | None:
    lower = {str(c).strip().lower(): c for c in df.columns}
    return next((lower[n] for n in names if n in lower), None)


def _fixes_from_gpx(path: Path) -> gpd.GeoDataFrame:
    points = read_layer(path, layer="track_points")
    if len(points) == 0:
        # Some apps export routes or bare waypoints instead of tracks: one patrol per file.
        for layer in ("route_points", "waypoints"):
            other = read_layer(path, layer=layer)
            if len(other):
                out = gpd.GeoDataFrame(
                    {"patrol_id": path.stem, "chief": None,
                     "timestamp": pd.to_datetime(other["time"], utc=True)},
                    geometry=other.geometry.values, crs=other.crs or WEB_CRS)
                out.attrs.update(other.attrs)
                return out
    # Track attributes only: a one-point track has no valid LineString geometry.
    tracks = pyogrio.read_dataframe(path, layer="tracks", read_geometry=False)
    names = tracks.get("name", pd.Series([None] * len(tracks)))
    chiefs = pd.Series([None] * len(tracks), dtype=object)
    for col in ("desc", "cmt", "src"):
        if col in tracks.columns:
            chiefs = chiefs.fillna(tracks[col].replace("", None))
    fid = points["track_fid"].astype(int)
    out = gpd.GeoDataFrame(
        {
            "patrol_id": names.reindex(fid).fillna(fid.astype(str).radd("track-")).to_numpy(),
            "chief": chiefs.reindex(fid).to_numpy(),
            # GPX times are UTC by the standard.
            "timestamp": pd.to_datetime(points["time"], utc=True),
        },
        geometry=points.geometry.values,
        crs=points.crs or WEB_CRS,
    )
    out.attrs.update(points.attrs)
    return out


def _points_from_table(
    path: Path, crs: Any, *, layer: str, time: bool = False, sheet: str | int = 0
) -> gpd.GeoDataFrame:
    """Points from a lon/lat CSV/XLSX export (``time``: also require a time column, as ``timestamp``)."""
    df = read_table(path, sheet=sheet)
    lon, lat = _pick(df, _LON_NAMES), _pick(df, _LAT_NAMES)
    tcol = _pick(df, _TIME_NAMES) if time else None
    needed = (("lon", lon), ("lat", lat)) + ((("time", tcol),) if time else ())
    missing = [n for n, c in needed if c is None]
    if missing:
        raise SchemaError(
            f"{layer} table lacks coordinate{'/time' if time else ''} columns", path=path, layer=layer,
            field=", ".join(missing),
            expected="columns lon, lat" + (", time (or 经度, 纬度, 时间)" if time else " (or 经度, 纬度)"),
            found="columns " + ", ".join(df.columns), fix="rename the columns",
        )
    x = pd.to_numeric(df[lon], errors="coerce")
    y = pd.to_numeric(df[lat], errors="coerce")
    bad = x.isna() | y.isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise SchemaError(
            "coordinate is not a number", path=path, layer=layer, feature_id=f"row {row + 2}",
            field=f"{lon}/{lat}", expected="decimal degrees",
            found=f"{df[lon].iloc[row]!r}, {df[lat].iloc[row]!r}", fix="correct or remove the row",
        )
    rest = df.drop(columns=[lon, lat])
    if tcol is not None:
        rest = rest.rename(columns={tcol: "timestamp"})
    rest.index = rest.index + 2  # messages name the CSV line (the header is line 1)
    return gpd.GeoDataFrame(rest, geometry=shapely.points(x.to_numpy(), y.to_numpy()),
                            crs=crs if crs is not None else WEB_CRS)


def _fixes_from_csv(path: Path, crs: Any) -> gpd.GeoDataFrame:
    return _points_from_table(path, crs, layer="patrols", time=True)


def _shift_datum(gdf: gpd.GeoDataFrame, shift: str, *, path: Path, layer: str, crs: Any) -> gpd.GeoDataFrame:
    """Shift GCJ-02 / BD-09 coordinates (AMap/Tencent, Baidu-based apps) back to WGS 84."""
    from . import crs as crs_module

    if shift == "wgs84":
        return gdf
    converters = {"gcj02": crs_module.gcj02_to_wgs84,
                  "bd09": lambda g: crs_module.gcj02_to_wgs84(crs_module.bd09_to_gcj02(g))}
    if shift not in converters:
        raise CRSError("unknown datum shift", path=path, layer=layer,
                       expected="wgs84, gcj02 or bd09", found=repr(shift))
    return converters[shift](crs_module.to_web_crs(_assign_crs(gdf, path=path, layer=layer, crs=crs)))


def load_patrols(
    path: str | os.PathLike,
    *,
    crs: Any = None,
    shift: str = "wgs84",
    patrol_id: str | None = None,
    chief: str | None = None,
    tz: str = "Asia/Shanghai",
    work_crs: Any = None,
    file_layer: str | None = None,
) -> gpd.GeoDataFrame:
    """Load river-chief patrol GPS fixes from GPX, CSV (lon/lat/time) or a vector file.

    Parameters
    ----------
    path : path-like
        GPX (times in UTC; track ``<name>`` is the patrol id, ``<desc>`` the chief),
        CSV with lon/lat/time columns (local time unless the values carry an
        offset), or GeoParquet/GeoPackage/Shapefile of points.
    crs : object, optional
        CRS of CSV coordinates (default EPSG:4326) or of a vector file without one.
    shift : {"wgs84", "gcj02", "bd09"}, default "wgs84"
        Datum shift of the coordinates: patrol apps built on AMap/Tencent maps
        record GCJ-02, Baidu-based ones BD-09; those are shifted back to WGS 84
        with the exact iterative inverse.
    patrol_id, chief : str, optional
        Values to use when the file carries none (e.g. one patrol per file).
    tz : str, default "Asia/Shanghai"
        Time zone of naive times, and of the result.
    work_crs : object, optional
        Override the working CRS.
    file_layer : str, optional
        Layer of a GeoPackage holding the fixes.

    Returns
    -------
    GeoDataFrame
        One row per fix: patrol_id, chief, timestamp (tz-aware), Point geometry in
        the working CRS; sorted by patrol and time.

    Raises
    ------
    InputFileError, SchemaError, GeometryError, CRSError
        On unreadable files, missing columns, unparseable times, or coordinates far
        outside China (e.g. lon/lat swapped).

    Examples
    --------
    >>> fixes = load_patrols("data/shapefiles/patrols_2022-06.gpx")  # doctest: +SKIP
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".gpx":
        gdf = _fixes_from_gpx(path)
    elif suffix in (".csv", ".txt", ".xlsx"):
        gdf = _fixes_from_csv(path, crs)
        crs = None
    else:
        gdf = read_layer(path, layer=file_layer)
    if patrol_id is not None:
        gdf["patrol_id"] = gdf["patrol_id"].fillna(patrol_id) if "patrol_id" in gdf else patrol_id
    elif "patrol_id" not in gdf.columns and "巡河编号" not in gdf.columns:
        gdf["patrol_id"] = path.stem
    if chief is not None:
        gdf["chief"] = gdf["chief"].fillna(chief) if "chief" in gdf else chief
    gdf = _shift_datum(gdf, shift, path=path, layer="patrols", crs=crs)
    data, problems, _ = _finish(gdf, "patrols", path=path, crs=crs, repair=False, work_crs=work_crs)
    _raise_first(problems)
    if "timestamp" in data.columns and data["timestamp"].dt.tz is not None:
        data["timestamp"] = data["timestamp"].dt.tz_convert(tz)
    return data.sort_values(["patrol_id", "timestamp"], kind="stable").reset_index(drop=True)



def _point_layer_loader(layer: str):
    """Loader of a point layer delivered as a GIS file or as a lon/lat CSV/XLSX export."""

    def loader(path: str | os.PathLike, *, crs: Any = None, shift: str = "wgs84",
               sheet: str | int = 0, encoding: str | None = None,
               work_crs: Any = None) -> gpd.GeoDataFrame:
        path = Path(path)
        if path.suffix.lower() in (".csv", ".txt", ".xlsx", ".xlsm"):
            gdf = _points_from_table(path, crs, layer=layer, sheet=sheet)
            crs = None
        else:
            gdf = read_layer(path, encoding=encoding)
        gdf = _shift_datum(gdf, shift, path=path, layer=layer, crs=crs)
        data, problems, _ = _finish(gdf, layer, path=path, crs=crs, repair=False, work_crs=work_crs)
        _raise_first(problems)
        return data

    schema = get_schema(layer)
    loader.__name__ = f"load_{layer}"
    loader.__qualname__ = loader.__name__
    loader.__doc__ = f"""Load the {layer} layer ({schema.zh}) from a GIS file or a lon/lat CSV/XLSX export.

    Fields: {", ".join(schema.field_names)} (Chinese aliases accepted, see docs/data-model.md).

    Parameters
    ----------
    path : path-like
        Shapefile, GeoPackage, GeoParquet or GeoJSON of points; or a CSV/XLSX table
        with longitude/latitude columns (``lon``/``lat``, ``经度``/``纬度`` …), as
        river-chief apps export it.
    crs : object, optional
        CRS of the table's coordinates (default EPSG:4326) or of a GIS file without one.
    shift : {{"wgs84", "gcj02", "bd09"}}, default "wgs84"
        Datum shift of the coordinates: apps built on AMap/Tencent maps record
        GCJ-02, Baidu-based ones BD-09; those are shifted back to WGS 84.
    sheet : str or int, default 0
        Worksheet of an XLSX file.
    encoding : str, optional
        Shapefile attribute encoding (default: detected).
    work_crs : object, optional
        Override the working CRS.

    Returns
    -------
    GeoDataFrame
        The validated layer in the working CRS.

    Raises
    ------
    DongpingGeoError
        With file, feature id, field, expected and found, on the first problem.

    Examples
    --------
    >>> gdf = load_{layer}("data/shapefiles/{layer}.csv")  # doctest: +SKIP
    """
    return loader


load_problems = _point_layer_loader("problems")
load_signboards = _point_layer_loader("signboards")


# --- dataset folders ----------------------------------------------------------------

@dataclass
class Dataset:
    """Every layer found in a dataset folder (``None`` where a layer is absent).

    Attributes
    ----------
    folder : Path
        The folder.
    rivers, sections, redlines, demolitions, regions : GeoDataFrame or None
        Vector layers in the working CRS.
    measurements : DataFrame or None
        Long table of water-quality measurements.
    patrols : GeoDataFrame or None
        Patrol GPS fixes (the most complete patrol file in the folder).
    buildings : dict of int to GeoDataFrame
        Building surveys by year (``buildings_2022.shp`` → 2022).
    landcover : dict of int to Path
        Land-cover rasters by year (``landcover_2022.tif`` → 2022).
    extra : dict of str to GeoDataFrame
        Other vector files (town boundary, roads …), read with their CRS and reprojected.
    manifest : dict or None
        ``manifest.json`` of a generated sample dataset.
    files : dict of str to Path
        Which file each layer came from.
    """

    folder: Path
    rivers: gpd.GeoDataFrame | None = None
    sections: gpd.GeoDataFrame | None = None
    measurements: pd.DataFrame | None = None
    redlines: gpd.GeoDataFrame | None = None
    demolitions: gpd.GeoDataFrame | None = None
    patrols: gpd.GeoDataFrame | None = None
    regions: gpd.GeoDataFrame | None = None
    buildings: dict[int, gpd.GeoDataFrame] = field(default_factory=dict)
    landcover: dict[int, Path] = field(default_factory=dict)
    extra: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    manifest: dict | None = None
    files: dict[str, Path] = field(default_factory=dict)


_SIMPLE_LAYERS = ("rivers", "sections", "redlines", "demolitions", "regions")
_YEAR = re.compile(r"_(\d{4})$")
# File/layer names a dataset may use for each layer: canonical, Chinese, and GDAL-style.
_LAYER_NAMES = {
    **{name: name for name in (*_SIMPLE_LAYERS, "buildings", "patrols", "measurements")},
    **{get_schema(name).zh: name for name in (*_SIMPLE_LAYERS, "buildings", "patrols", "measurements")},
    "河道": "rivers", "断面": "sections", "监测断面": "sections", "生态红线": "redlines",
    "生态保护红线": "redlines", "拆违": "demolitions", "拆违地块": "demolitions", "片区": "regions",
    "建筑": "buildings", "巡河轨迹": "patrols", "监测数据": "measurements",
}


class _Source(NamedTuple):
    """Where a layer comes from: a file, and a layer inside it (GeoPackage) or None."""

    path: Path
    file_layer: str | None = None


def _canonical(stem: str) -> tuple[str | None, int | None]:
    """Layer and year a file or layer name stands for: 'buildings_2022' -> ('buildings', 2022)."""
    year_match = _YEAR.search(stem)
    base = _YEAR.sub("", stem).strip().lower() if year_match else stem.strip().lower()
    layer = _LAYER_NAMES.get(base) or _LAYER_NAMES.get(stem.strip())
    if layer is None and base.startswith("patrols"):
        layer = "patrols"
    return layer, int(year_match.group(1)) if year_match else None


def _vector_files(folder: Path) -> dict[str, Path]:
    """Vector files of a folder by stem (one per stem, Shapefile preferred)."""
    found: dict[str, Path] = {}
    rank = {s: i for i, s in enumerate((".shp", ".gpkg", ".parquet", ".geoparquet", ".geojson", ".json"))}
    for p in sorted(folder.iterdir()):
        suffix = p.suffix.lower()
        if suffix not in rank or p.name.startswith("."):
            continue
        if p.stem in found and rank[found[p.stem].suffix.lower()] <= rank[suffix]:
            continue
        if suffix == ".json" and p.stem == "manifest":
            continue
        found[p.stem] = p
    return found


def _classify_folder(folder: Path) -> dict[str, Any]:
    """Map each file (or GeoPackage layer) of a dataset folder to its layer."""
    plan: dict[str, Any] = {"buildings": {}, "landcover": {}, "extra": {}, "patrols": None, "measurements": None}
    patrol_candidates: list[_Source] = []

    def place(src: _Source, name: str) -> bool:
        layer, year = _canonical(name)
        if layer in _SIMPLE_LAYERS:
            plan.setdefault(layer, src)
        elif layer == "buildings" and year is not None:
            plan["buildings"].setdefault(year, src)
        elif layer == "patrols":
            patrol_candidates.append(src)
        else:
            return False
        return True

    for stem, p in _vector_files(folder).items():
        if place(_Source(p), stem):
            continue
        # A GeoPackage delivered as one file holding several layers (rivers, 断面 …).
        inner = pyogrio.list_layers(p)[:, 0].tolist() if p.suffix.lower() == ".gpkg" else []
        placed = [place(_Source(p, str(name)), str(name)) for name in inner]
        if not any(placed):
            plan["extra"][stem] = p
    for p in sorted(folder.iterdir()):
        if p.suffix.lower() in (".gpx", ".csv") and _canonical(p.stem)[0] == "patrols":
            patrol_candidates.append(_Source(p))
    # The most complete patrol file: a columnar year file beats a month's GPX/CSV export.
    order = {".parquet": 0, ".geoparquet": 0, ".gpkg": 1, ".shp": 2, ".gpx": 3, ".csv": 4}
    if patrol_candidates:
        plan["patrols"] = sorted(
            patrol_candidates, key=lambda src: (order.get(src.path.suffix.lower(), 9), src.path.name))[0]
    for p in sorted(folder.glob("*.tif")):
        layer_year = _YEAR.search(p.stem)
        if layer_year and p.stem.lower().startswith(("landcover", "土地覆盖", "地类")):
            plan["landcover"][int(layer_year.group(1))] = p
    for p in sorted(folder.iterdir()):
        if p.suffix.lower() in (".csv", ".xlsx") and _canonical(p.stem)[0] == "measurements":
            plan["measurements"] = p
            break
    return plan


def load_dataset(
    folder: str | os.PathLike,
    *,
    crs: Any = None,
    repair: bool = False,
    patrols: bool = True,
    work_crs: Any = None,
) -> Dataset:
    """Load every layer present in a folder laid out like ``data/shapefiles/``.

    Expected names: ``rivers``, ``sections``, ``redlines``, ``demolitions``,
    ``regions`` (any vector format), ``measurements.csv``/``.xlsx``,
    ``patrols*.parquet|gpx|csv``, ``buildings_YYYY.*``, ``landcover_YYYY.tif``,
    ``manifest.json``. Absent layers are ``None`` (or empty dicts), not errors.

    Parameters
    ----------
    folder : path-like
        The dataset folder.
    crs : object, optional
        CRS for files without a ``.prj``.
    repair : bool, default False
        Repair invalid geometries instead of failing.
    patrols : bool, default True
        Load the patrol fixes (the largest layer; skip when not needed).
    work_crs : object, optional
        Override the working CRS.

    Returns
    -------
    Dataset
        The layers.

    Raises
    ------
    InputFileError
        If the folder does not exist.
    DongpingGeoError
        On the first problem in any layer; measurements naming sections absent
        from the sections layer raise a SchemaError.

    Examples
    --------
    >>> ds = load_dataset("data/shapefiles")  # doctest: +SKIP
    >>> len(ds.rivers)  # doctest: +SKIP
    74
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputFileError("dataset folder not found", path=folder, expected="a folder of layers",
                             found="no such folder", fix="check the path")
    plan = _classify_folder(folder)
    ds = Dataset(folder=folder)
    opts = {"crs": crs, "work_crs": work_crs}
    for name in _SIMPLE_LAYERS:
        if plan.get(name):
            src = plan[name]
            setattr(ds, name, load_layer(src.path, name, file_layer=src.file_layer, repair=repair, **opts))
            ds.files[name] = src.path
    for year, src in sorted(plan["buildings"].items()):
        ds.buildings[year] = load_layer(src.path, "buildings", file_layer=src.file_layer, repair=repair, **opts)
        ds.files[f"buildings_{year}"] = src.path
    if plan["measurements"] is not None:
        ds.measurements = load_measurements(plan["measurements"])
        ds.files["measurements"] = plan["measurements"]
        if ds.sections is not None:
            unknown = sorted(set(ds.measurements["section_id"]) - set(ds.sections["section_id"]))
            if unknown:
                raise SchemaError(
                    "measurements name sections that are not in the sections layer",
                    path=plan["measurements"], layer="measurements", field="section_id",
                    feature_id=", ".join(unknown[:5]), expected="ids of " + str(ds.files["sections"].name),
                    found=f"{len(unknown)} unknown section ids", fix="correct the ids or add the sections",
                )
    if patrols and plan["patrols"] is not None:
        src = plan["patrols"]
        ds.patrols = load_patrols(src.path, file_layer=src.file_layer, work_crs=work_crs)
        ds.files["patrols"] = src.path
    ds.landcover = plan["landcover"]
    for stem, p in plan["extra"].items():
        gdf = read_layer(p)
        ds.extra[stem] = to_work_crs(_assign_crs(gdf, path=p, layer=stem, crs=crs), work_crs=work_crs)
        ds.files[stem] = p
    manifest = folder / "manifest.json"
    if manifest.exists():
        ds.manifest = json.loads(manifest.read_text(encoding="utf-8"))
    return ds


def _layer_of(path: Path) -> str | None:
    return _canonical(path.stem)[0]


def inspect_file(path: str | os.PathLike, *, layer: str | None = None, crs: Any = None) -> LayerReport:
    """Load one file the way the loaders do, collecting every problem instead of raising.

    Parameters
    ----------
    path : path-like
        A layer file.
    layer : str, optional
        Schema layer; by default from the file name (``rivers.shp`` → rivers,
        ``buildings_2022.shp`` → buildings, ``patrols_*`` → patrols).
    crs : object, optional
        CRS for a file without one.

    Returns
    -------
    LayerReport
        Counts, CRS, encoding and problems. A file whose layer cannot be told
        gets one SchemaError problem.

    Examples
    --------
    >>> report = inspect_file("data/shapefiles/rivers.shp")  # doctest: +SKIP
    >>> report.problems  # doctest: +SKIP
    []
    """
    path = Path(path)
    layer = layer or _layer_of(path)
    report = LayerReport(path=path, layer=layer or "?")
    if not path.exists():
        report.problems.append(InputFileError(
            "file not found", path=path, expected="an existing file", found="nothing at that path",
            fix="check the path and the working directory"))
        return report
    if layer is None:
        report.problems.append(SchemaError(
            "cannot tell which layer this file holds", path=path,
            expected="a name like rivers, sections, redlines, demolitions, regions, buildings_YYYY, "
                     "patrols*, measurements", found=repr(path.name), fix="rename the file",
        ))
        return report
    try:
        if layer == "measurements":
            data = load_measurements(path)
            problems: list = []
        elif layer == "patrols":
            data = load_patrols(path, crs=crs)
            problems = []
        else:
            raw = read_layer(path)
            report.crs = raw.crs.to_string() if raw.crs is not None else "none"
            report.encoding = raw.attrs.get("encoding", "")
            data, problems, _ = _finish(raw, layer, path=path, crs=crs, repair=False, work_crs=None)
    except DongpingGeoError as exc:
        report.problems.append(exc)
        return report
    report.data = data
    report.features = len(data)
    if isinstance(data, gpd.GeoDataFrame) and report.crs == "none" and data.crs is not None:
        report.crs = data.crs.to_string()
    report.encoding = report.encoding or data.attrs.get("encoding", "")
    report.problems.extend(problems)
    return report


def dataset_files(folder: str | os.PathLike) -> list[Path]:
    """List the layer files of a dataset folder (for ``validate``).

    Parameters
    ----------
    folder : path-like
        The folder.

    Returns
    -------
    list of Path
        Layer files in a stable order.

    Examples
    --------
    >>> dataset_files("data/shapefiles")[:1]  # doctest: +SKIP
    [PosixPath('data/shapefiles/buildings_2020.shp')]
    """
    folder = Path(folder)
    files = [p for p in _vector_files(folder).values() if _layer_of(p)]
    files += [p for p in folder.iterdir() if p.suffix.lower() in (".gpx", ".csv", ".xlsx") and _layer_of(p)]
    return sorted(set(files))

