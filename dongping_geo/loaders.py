"""Loading layers: read → rename aliases → validate → reproject to the working CRS.

One loader per layer of the data model, plus :func:`load_dataset` for a folder laid
out like ``data/shapefiles/``. Loaders raise the first problem found (saying how many
more there are); :func:`inspect_file` collects them all for ``dongping-geo validate``.
"""

from __future__ import annotations

import csv
import json
import os
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from ._rejected import REJECTED_COLUMNS, RejectedRows
from ._validation import RowIssue
from .crs import WEB_CRS, _parse_crs, suggest_gauss_kruger_crs, to_work_crs
from .errors import (
    ConfigError,
    CRSError,
    DongpingGeoError,
    GeometryError,
    InputFileError,
    SchemaError,
)
from .io import read_layer
from .schemas import _TIME_ONLY, LOCAL_TZ, get_schema, rename_aliases, standardize

__all__ = [
    "Dataset",
    "LayerReport",
    "guess_layer",
    "inspect_dataset",
    "inspect_file",
    "load_buildings",
    "load_dataset",
    "load_demolitions",
    "load_land_survey",
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
        The loaded layer when it could be loaded (its valid rows).
    layer_source : str
        How the layer was told: ``"argument"``, ``"file name"`` or ``"columns"``.
    rejected : DataFrame or None
        The rows set aside (columns file, row, field, value, reason, fix), if any.
    """

    path: Path
    layer: str
    features: int = 0
    crs: str = "none"
    encoding: str = ""
    problems: list = field(default_factory=list)
    data: Any = None
    layer_source: str = ""
    rejected: Any = None


def _raise_first(problems: list) -> None:
    if problems:
        first = problems[0]
        if len(problems) > 1:
            first.args = (f"{first.args[0]} (and {len(problems) - 1} more problems; "
                          "run `dongping-geo validate` on the file to list them)",)
        raise first


_ON_ERROR = ("raise", "report")


def _check_on_error(on_error: str) -> None:
    if on_error not in _ON_ERROR:
        raise ConfigError("unknown on_error", field="on_error", expected="'raise' or 'report'",
                          found=repr(on_error), fix="pass on_error='raise' (stop at the first problem) or "
                                                    "'report' (load the good rows, list the others)")


def _rejected_table(issues: list, labels: np.ndarray, path: Any) -> pd.DataFrame:
    """One line per rejected input row (several problems of a row joined with ' | ')."""
    records: dict[int, list] = {}
    for issue in issues:
        if issue.mask is None:
            continue
        for at, value, reason in zip(np.flatnonzero(issue.mask).tolist(), issue.values, issue.reasons, strict=False):
            records.setdefault(int(at), []).append((issue.field, value, reason, issue.fix))
    rows = []
    for pos in sorted(records):
        parts = records[pos]
        rows.append({
            "file": str(path) if path is not None else "",
            "row": labels[pos].item() if hasattr(labels[pos], "item") else labels[pos],
            **{key: " | ".join(str(p[k]) for p in parts) for k, key in enumerate(("field", "value", "reason", "fix"))},
        })
    return RejectedRows(pd.DataFrame(rows, columns=REJECTED_COLUMNS))


def _settle(data: pd.DataFrame, issues: list, *, on_error: str, path: Any) -> pd.DataFrame:
    """Raise the problems, or (on_error="report") drop the rows at fault and list them."""
    table = [i.error for i in issues if i.mask is None]
    if on_error == "raise" or table:
        _raise_first(table or [i.error for i in issues])
    mask = np.zeros(len(data), dtype=bool)
    for issue in issues:
        mask |= issue.mask
    rejected = _rejected_table(issues, data.index.to_numpy(), path)
    kept = data[~mask]
    kept.attrs["rejected"] = rejected
    return kept


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
    geoms = gdf.geometry.values
    valid = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not valid.any():
        return []
    geo = gdf.geometry if gdf.crs.equals(WEB_CRS) else gdf.geometry.to_crs(WEB_CRS)
    b = geo.bounds.to_numpy()
    with np.errstate(invalid="ignore"):
        inside = ((b[:, 0] >= _CHINA_LON[0]) & (b[:, 2] <= _CHINA_LON[1])
                  & (b[:, 1] >= _CHINA_LAT[0]) & (b[:, 3] <= _CHINA_LAT[1]))
    outside = valid & ~inside
    if not outside.any():
        return []
    ids = (gdf[id_field].astype(str).to_numpy() if id_field and id_field in gdf.columns
           else np.array([f"row {i}" for i in gdf.index], dtype=object))
    sample = b[np.flatnonzero(outside)[0]]
    found = [f"lon {x:.4f}, lat {y:.4f}" for x, y in b[outside][:, :2]]
    fix = "check whether longitude and latitude are swapped, or whether the CRS (.prj / crs=) is right"
    bad = ids[outside].tolist()
    return [RowIssue(GeometryError(
        "features lie far outside China", path=path, layer=layer,
        feature_id=", ".join(bad[:5]) + (f" (and {len(bad) - 5} more)" if len(bad) > 5 else ""),
        expected=f"longitude {_CHINA_LON[0]:g}–{_CHINA_LON[1]:g}, latitude {_CHINA_LAT[0]:g}–{_CHINA_LAT[1]:g}",
        found=f"lon {sample[0]:.4f}, lat {sample[1]:.4f}", fix=fix,
    ), outside, "geometry", found, ["far outside China"] * len(found), fix)]


def _check_layer(
    gdf: gpd.GeoDataFrame, layer: str, *, path: Path, crs: Any, repair: bool,
    date_format: str | None = None, tz: str = LOCAL_TZ, issues: list | None = None,
) -> tuple[gpd.GeoDataFrame, list, list[str]]:
    """CRS, schema validation and location check: the data, every issue and the repairs."""
    gdf = _assign_crs(gdf, path=path, layer=layer, crs=crs)
    result = standardize(gdf, layer, path=path, repair=repair, date_format=date_format, tz=tz)
    data = result.data
    found = list(issues or []) + _not_again(result.issues, issues or [])
    if isinstance(data, gpd.GeoDataFrame) and not any(isinstance(i.error, GeometryError) for i in found):
        found += _check_location(data, path=path, layer=layer, id_field=get_schema(layer).id_field)
    return data, found, result.repairs


def _not_again(issues: list, earlier: list) -> list:
    """Drop the rows the reader already blamed (a bad coordinate) from the empty-geometry issue."""
    covered = np.zeros(len(issues[0].mask) if issues and issues[0].mask is not None else 0, dtype=bool)
    for issue in earlier:
        covered = issue.mask if covered.size == 0 else covered | issue.mask
    if not covered.any():
        return list(issues)
    out = []
    for issue in issues:
        if issue.mask is None or issue.field != "geometry" or "empty" not in str(issue.error):
            out.append(issue)
            continue
        keep = ~covered[np.flatnonzero(issue.mask)]
        if keep.any():
            out.append(RowIssue(issue.error, issue.mask & ~covered, issue.field,
                                [v for v, k in zip(issue.values, keep, strict=True) if k],
                                [r for r, k in zip(issue.reasons, keep, strict=True) if k], issue.fix))
    return out


def _finish(
    gdf: gpd.GeoDataFrame, layer: str, *, path: Path, crs: Any, repair: bool, work_crs: Any,
    on_error: str = "raise", date_format: str | None = None, tz: str = LOCAL_TZ, issues: list | None = None,
) -> gpd.GeoDataFrame:
    """Shared tail of every vector loader: check, settle the problems, reproject.

    ``gdf.index`` holds each row's label as the user sees it (file line or FID); the
    result keeps it (the loaders reset it). ``issues`` are problems the reader already
    found (unparseable coordinates).
    """
    attrs = dict(gdf.attrs)
    data, found, repairs = _check_layer(gdf, layer, path=path, crs=crs, repair=repair,
                                        date_format=date_format, tz=tz, issues=issues)
    data = _settle(data, found, on_error=on_error, path=path)
    if isinstance(data, gpd.GeoDataFrame):
        data = to_work_crs(data, work_crs=work_crs)
    rejected = data.attrs.get("rejected")
    attrs.update(layer_name=layer, repairs=repairs)
    if rejected is not None:
        attrs["rejected"] = rejected
    data.attrs.clear()
    data.attrs.update(attrs)
    return data


def load_layer(
    path: str | os.PathLike,
    layer: str,
    *,
    crs: Any = None,
    repair: bool = False,
    encoding: str | None = None,
    file_layer: str | int | None = None,
    work_crs: Any = None,
    on_error: str = "raise",
    date_format: str | None = None,
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
        Make invalid geometries valid (``shapely.make_valid``, keeping the layer's
        geometry kind) instead of failing; what changed is listed in ``gdf.attrs["repairs"]``.
    encoding : str, optional
        Shapefile attribute encoding (default: detected).
    file_layer : str or int, optional
        Layer inside a multi-layer file.
    work_crs : object, optional
        Override the working CRS (default :func:`dongping_geo.crs.get_work_crs`).
    on_error : {"raise", "report"}, default "raise"
        ``"raise"``: raise the first problem. ``"report"``: return the valid features
        and list the others in ``gdf.attrs["rejected"]`` (columns file, row — the
        feature's FID —, field, value, reason, fix). Problems of the whole file (no
        CRS, a missing column) are raised either way. Take the table out
        (``gdf.attrs.pop("rejected")``) before ``pd.concat`` of two such layers:
        pandas compares ``attrs`` when it concatenates.
    date_format : str, optional
        strptime format of the date fields when they use a form not accepted by
        default (see :func:`dongping_geo.schemas.parse_datetime`).

    Returns
    -------
    GeoDataFrame
        Canonical fields and values, in the working CRS. ``attrs`` holds the
        source path, encoding, repairs and (``on_error="report"``) the rejected rows.

    Raises
    ------
    InputFileError, EncodingError, CRSError, SchemaError, GeometryError
        On the first problem found (the message says how many more there are).
    ConfigError
        On an unknown ``on_error``.

    Examples
    --------
    >>> rivers = load_layer("data/shapefiles/rivers.shp", "rivers")  # doctest: +SKIP
    """
    _check_on_error(on_error)
    path = Path(path)
    gdf = read_layer(path, layer=file_layer, encoding=encoding, fid_as_index=True)
    data = _finish(gdf, layer, path=path, crs=crs, repair=repair, work_crs=work_crs,
                   on_error=on_error, date_format=date_format)
    return data.reset_index(drop=True)


def _layer_loader(layer: str):
    def loader(path: str | os.PathLike, *, crs: Any = None, repair: bool = False,
               encoding: str | None = None, work_crs: Any = None, on_error: str = "raise",
               date_format: str | None = None) -> gpd.GeoDataFrame:
        return load_layer(path, layer, crs=crs, repair=repair, encoding=encoding, work_crs=work_crs,
                          on_error=on_error, date_format=date_format)

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
    on_error : {{"raise", "report"}}, default "raise"
        ``"report"``: keep the valid features, list the others in ``attrs["rejected"]``.
    date_format : str, optional
        strptime format of date fields in a form not accepted by default.

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

    Blank lines are skipped, and the index holds each row's line number in the file
    as a spreadsheet shows it (the header is line 1, blank lines counted), so that
    messages and ``rejected`` tables name the line the user sees.

    Parameters
    ----------
    path : path-like
        ``.csv``, ``.txt`` or ``.xlsx`` file.
    sheet : str or int, default 0
        Worksheet of an XLSX file.

    Returns
    -------
    DataFrame
        Every cell as a string (empty cells as ``""``), indexed by file line number
        (index name ``"line"``); ``attrs["encoding"]`` tells which encoding a CSV was
        read with.

    Raises
    ------
    InputFileError
        If the file is missing or not a readable table.

    Examples
    --------
    >>> df = read_table("data/shapefiles/measurements.csv")  # doctest: +SKIP
    >>> int(df.index[0])  # doctest: +SKIP
    2
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError("file not found", path=path, expected="an existing file",
                             found="nothing at that path" if not path.exists() else "a folder",
                             fix="check the path")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        df = _read_xlsx(path, sheet)
    elif suffix in (".csv", ".txt"):
        df = _read_csv(path)
    else:
        raise InputFileError("unsupported table type", path=path, expected=".csv or .xlsx",
                             found=repr(path.suffix), fix="save the table as CSV or XLSX")
    df.index.name = "line"
    df.attrs["path"] = str(path)
    return df


def _decode_csv(path: Path) -> tuple[str, str]:
    data = path.read_bytes()
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise InputFileError("cannot decode the CSV", path=path, expected="UTF-8 or GB18030 text",
                         found="undecodable bytes", fix="save the file as UTF-8")


def _read_csv(path: Path) -> pd.DataFrame:
    import io as _io

    text, enc = _decode_csv(path)
    if "\x00" in text:
        raise InputFileError("cannot read the table", path=path, expected="a text CSV",
                             found="NUL bytes (a binary file?)", fix="export the table as CSV or XLSX")
    lines = text.splitlines()
    lead = next((i for i, line in enumerate(lines) if line.strip(" ,;\t")), len(lines))
    if lead == len(lines):
        raise InputFileError("the table is empty", path=path, expected="a header line and rows",
                             found="no text", fix="check that the right file was given")
    try:
        df = pd.read_csv(_io.StringIO(text), dtype=str, keep_default_na=False, skip_blank_lines=False,
                         skiprows=lead)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, csv.Error) as exc:
        raise InputFileError("cannot read the table", path=path, found=str(exc).splitlines()[0][:200],
                             fix="check that it is a well-formed CSV/XLSX") from None
    df.index = df.index + 2 + lead
    df.columns = [str(c).strip() for c in df.columns]
    df.attrs["encoding"] = enc
    return _drop_blank_rows(df)


def _drop_blank_rows(df: pd.DataFrame) -> pd.DataFrame:
    if len(df.columns) == 0 or len(df) == 0:
        return df
    blank = (df.astype(str).apply(lambda col: col.str.strip()) == "").all(axis=1)
    return df[~blank.to_numpy()]


def _read_xlsx(path: Path, sheet: str | int) -> pd.DataFrame:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except _XLSX_ERRORS as exc:
        raise InputFileError("cannot read the workbook", path=path, expected="an .xlsx workbook",
                             found=str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__,
                             fix="open it in Excel/WPS and save it again as .xlsx") from None
    try:
        names = book.sheetnames
        name = names[sheet] if isinstance(sheet, int) and -len(names) <= sheet < len(names) else sheet
        if name not in names:
            raise InputFileError("no such worksheet", path=path, expected="one of " + ", ".join(names),
                                 found=repr(sheet), fix="pass sheet= with an existing sheet")
        rows = [(i, row) for i, row in enumerate(book[name].iter_rows(values_only=True), start=1)]
    except _XLSX_ERRORS as exc:
        raise InputFileError("cannot read the workbook", path=path, found=str(exc)[:200] or type(exc).__name__,
                             fix="open it in Excel/WPS and save it again as .xlsx") from None
    finally:
        book.close()
    return _frame_from_rows(rows, path)


# What a damaged workbook raises from zipfile, zlib, the XML parser and openpyxl itself.
_XLSX_ERRORS = (zipfile.BadZipFile, zlib.error, KeyError, OSError, ValueError, TypeError, EOFError,
                IndexError, AttributeError, SyntaxError, NotImplementedError)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value).strip()


def _frame_from_rows(rows: list[tuple[int, tuple]], path: Path) -> pd.DataFrame:
    """Build a text DataFrame from (line, cells) rows: the first non-blank row is the header."""
    texts = [(i, [_cell_text(v) for v in row]) for i, row in rows]
    texts = [(i, cells) for i, cells in texts if any(cells)]
    if not texts:
        raise InputFileError("the table is empty", path=path, expected="a header row and rows",
                             found="an empty worksheet", fix="check that the right sheet was given")
    header = texts[0][1]
    width = max(len(cells) for _, cells in texts)
    header = header + [""] * (width - len(header))
    columns: list[str] = []
    seen: dict[str, int] = {}
    for k, name in enumerate(header):
        name = name or f"Unnamed: {k}"
        count = seen.get(name, 0)
        seen[name] = count + 1
        columns.append(name if count == 0 else f"{name}.{count}")
    body = [cells + [""] * (width - len(cells)) for _, cells in texts[1:]]
    df = pd.DataFrame(body, columns=columns, index=[i for i, _ in texts[1:]], dtype=object)
    df.attrs["encoding"] = ""
    return df


def load_measurements(
    path: str | os.PathLike, *, sheet: str | int = 0, on_error: str = "raise", date_format: str | None = None,
) -> pd.DataFrame:
    """Load water-quality measurements (CSV or XLSX, long or wide layout) as a long table.

    Parameters
    ----------
    path : path-like
        The lab's file.
    sheet : str or int, default 0
        Worksheet of an XLSX file.
    on_error : {"raise", "report"}, default "raise"
        ``"raise"``: stop at the first bad record. ``"report"``: return the good records
        and list the others in ``result.attrs["rejected"]`` (columns file, row, field,
        value, reason, fix; ``row`` is the line a spreadsheet or text editor shows, blank
        lines counted). Records in = rows returned + rows rejected; a record is one value
        (a line of the long layout, a filled item cell of the wide layout).
    date_format : str, optional
        strptime format of the sampling dates when they use a form not accepted by default.

    Returns
    -------
    DataFrame
        Columns section_id, sampled_at (Asia/Shanghai), parameter (GB 3838 item
        code), value (mg/L; the detection limit where qualifier is ``"<"``), unit,
        qualifier, limit_source; indexed by file line (``row``). See
        :func:`dongping_geo._measurements.parse_measurements`.

    Raises
    ------
    InputFileError
        If the file cannot be read.
    MeasurementError
        On an unknown parameter or unit, a non-numeric, non-finite or negative value,
        an unreadable date or conflicting duplicates (the message names the file line),
        with ``on_error="raise"``; on a missing key column in either mode.
    ConfigError
        For an unknown ``on_error``.

    Examples
    --------
    >>> m = load_measurements("data/shapefiles/measurements.csv")  # doctest: +SKIP
    """
    from ._measurements import parse_measurements

    raw = read_table(path, sheet=sheet)
    lines = raw.index.to_numpy()  # read_table's index: the file lines (blank lines counted)
    out = parse_measurements(raw, path=Path(path), on_error=on_error,  # type: ignore[arg-type]
                             line_numbers=lines, date_format=date_format)
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


_DATE_NAMES = ("date", "日期", "定位日期", "巡河日期", "gps_date")


def _time_with_date(df: pd.DataFrame, time: str, *, path: Path) -> pd.Series:
    """Return the time column, joined with a separate date column when it holds only times.

    A patrol app may export ``日期`` (2022-06-01) and ``时间`` (10:55:10) apart; a time
    without a date is never stamped with today's date: it is combined, or refused.
    """
    values = df[time].astype(str).str.strip()
    present = values != ""
    time_only = values.str.fullmatch(_TIME_ONLY)
    if not (present.any() and time_only[present].all()):
        return df[time]
    date = _pick(df, _DATE_NAMES)
    if date is None or date == time:
        raise SchemaError(
            "the time column holds times without a date", path=path, layer="patrols", field=time,
            expected="date and time (2022-06-01 10:55:10), or a date column (date / 日期) beside the time",
            found=f"{values[present].iloc[0]!r} and no date column; columns " + ", ".join(map(str, df.columns)),
            fix="add the date column, or export date and time together",
        )
    # An XLSX date cell reads as "2022-06-01 00:00:00": keep its date part only.
    days = df[date].astype(str).str.strip().str.replace(r"[ T]00:00(?::00)?$", "", regex=True)
    return (days + " " + values).where(present & (days != ""), values.where(~present, ""))


def _fixes_from_csv(path: Path, crs: Any) -> tuple[gpd.GeoDataFrame, list]:
    """Patrol fixes of a lon/lat/time table, indexed by file line; unreadable coordinates as issues."""
    return _points_from_table(path, crs, layer="patrols", time=True)


def _points_from_table(
    path: Path, crs: Any, *, layer: str, time: bool = False, sheet: str | int = 0
) -> tuple[gpd.GeoDataFrame, list]:
    """Points of a lon/lat CSV/XLSX export (``time``: a time column too, as ``timestamp``)."""
    df = read_table(path, sheet=sheet)
    lon, lat = _pick(df, _LON_NAMES), _pick(df, _LAT_NAMES)
    tcol = _pick(df, _TIME_NAMES) if time else None
    needed = (("lon", lon), ("lat", lat)) + ((("time", tcol),) if time else ())
    missing = [n for n, c in needed if c is None]
    if missing or lon is None or lat is None:
        raise SchemaError(
            f"{'patrol CSV' if layer == 'patrols' else layer + ' table'} lacks coordinate"
            f"{'/time' if time else ''} columns", path=path, layer=layer, field=", ".join(missing),
            expected="columns lon, lat" + (", time (or 经度, 纬度, 时间)" if time else " (or 经度, 纬度)"),
            found="columns " + ", ".join(map(str, df.columns)), fix="rename the columns",
        )
    x = pd.to_numeric(df[lon], errors="coerce").astype(float)
    y = pd.to_numeric(df[lat], errors="coerce").astype(float)
    bad = (~np.isfinite(x) | ~np.isfinite(y)).to_numpy()
    rest = df.drop(columns=[lon, lat])
    if tcol is not None:
        rest = rest.drop(columns=[tcol]).assign(timestamp=_time_with_date(df, tcol, path=path))
    geoms = np.where(bad, None, shapely.points(x.fillna(0).to_numpy(), y.fillna(0).to_numpy()))
    gdf = gpd.GeoDataFrame(rest, geometry=geoms, crs=crs if crs is not None else WEB_CRS)
    issues = []
    if bad.any():
        found = [f"{a!r}, {b!r}" for a, b in zip(df[lon][bad], df[lat][bad], strict=True)]
        fix = "correct or remove the row"
        lines = df.index[bad].tolist()
        issues.append(RowIssue(SchemaError(
            "coordinate is not a number", path=path, layer=layer,
            feature_id=", ".join(f"row {r}" for r in lines[:5]) + (f" (and {len(lines) - 5} more)" if len(lines) > 5 else ""),
            field=f"{lon}/{lat}", expected="decimal degrees", found=found[0], fix=fix,
        ), bad, f"{lon}/{lat}", found, ["coordinate is not a number"] * len(found), fix))
    return gdf, issues


def load_patrols(
    path: str | os.PathLike,
    *,
    crs: Any = None,
    shift: str = "wgs84",
    patrol_id: str | None = None,
    chief: str | None = None,
    tz: str = LOCAL_TZ,
    work_crs: Any = None,
    file_layer: str | None = None,
    on_error: str = "raise",
    date_format: str | None = None,
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
    on_error : {"raise", "report"}, default "raise"
        ``"report"``: keep the valid fixes and list the others in
        ``attrs["rejected"]`` (row: the CSV/XLSX line, header = line 1, or the FID).
    date_format : str, optional
        strptime format of the times when they use a form not accepted by default
        (e.g. ``"%d/%m/%Y %H:%M"``). A time column holding only times is combined
        with a ``date``/``日期`` column, or refused.

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
    _check_on_error(on_error)
    path = Path(path)
    gdf, issues = _read_fixes(path, crs=crs, file_layer=file_layer)
    if path.suffix.lower() in (".csv", ".txt", ".xlsx"):
        crs = None
    if patrol_id is not None:
        gdf["patrol_id"] = gdf["patrol_id"].fillna(patrol_id) if "patrol_id" in gdf else patrol_id
    elif "patrol_id" not in gdf.columns and "巡河编号" not in gdf.columns:
        gdf["patrol_id"] = path.stem
    if chief is not None:
        gdf["chief"] = gdf["chief"].fillna(chief) if "chief" in gdf else chief
    gdf = _unshift(gdf, shift, path=path, crs=crs)
    data = _finish(gdf, "patrols", path=path, crs=crs, repair=False, work_crs=work_crs,
                   on_error=on_error, date_format=date_format, tz=tz, issues=issues)
    if "timestamp" in data.columns and data["timestamp"].dt.tz is not None:
        data["timestamp"] = data["timestamp"].dt.tz_convert(tz)
    return data.sort_values(["patrol_id", "timestamp"], kind="stable").reset_index(drop=True)


def _read_fixes(path: Path, *, crs: Any, file_layer: str | None) -> tuple[gpd.GeoDataFrame, list]:
    suffix = path.suffix.lower()
    if suffix == ".gpx":
        return _fixes_from_gpx(path), []
    if suffix in (".csv", ".txt", ".xlsx"):
        return _fixes_from_csv(path, crs)
    return read_layer(path, layer=file_layer, fid_as_index=True), []


def _unshift(gdf: gpd.GeoDataFrame, shift: str, *, path: Path, crs: Any, layer: str = "patrols") -> gpd.GeoDataFrame:
    """Shift GCJ-02 / BD-09 coordinates back to WGS 84."""
    from . import crs as crs_module

    if shift == "wgs84":
        return gdf
    converters = {"gcj02": crs_module.gcj02_to_wgs84,
                  "bd09": lambda g: crs_module.gcj02_to_wgs84(crs_module.bd09_to_gcj02(g))}
    if shift not in converters:
        raise ConfigError("unknown datum shift", path=path, layer=layer, field="shift",
                          expected="wgs84, gcj02 or bd09", found=repr(shift))
    return converters[shift](crs_module.to_web_crs(_assign_crs(gdf, path=path, layer=layer, crs=crs)))


def _point_layer_loader(layer: str):
    """Loader of a point layer delivered as a GIS file or as a lon/lat CSV/XLSX export."""

    def loader(path: str | os.PathLike, *, crs: Any = None, shift: str = "wgs84", sheet: str | int = 0,
               encoding: str | None = None, work_crs: Any = None, on_error: str = "raise",
               date_format: str | None = None, file_layer: str | None = None) -> gpd.GeoDataFrame:
        _check_on_error(on_error)
        path = Path(path)
        issues: list = []
        if path.suffix.lower() in (".csv", ".txt", ".xlsx", ".xlsm"):
            gdf, issues = _points_from_table(path, crs, layer=layer, sheet=sheet)
            crs = None
        else:
            gdf = read_layer(path, layer=file_layer, encoding=encoding, fid_as_index=True)
        gdf = _unshift(gdf, shift, path=path, crs=crs, layer=layer)
        data = _finish(gdf, layer, path=path, crs=crs, repair=False, work_crs=work_crs,
                       on_error=on_error, date_format=date_format, issues=issues)
        return data.reset_index(drop=True)

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
    on_error : {{"raise", "report"}}, default "raise"
        ``"report"``: keep the valid features, list the others in ``attrs["rejected"]``.
    date_format : str, optional
        strptime format of date fields in a form not accepted by default.
    file_layer : str, optional
        Layer inside a GeoPackage holding several.

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
    problems, signboards : GeoDataFrame or None
        Problems found on patrol (巡河问题) and river-chief signboards (河长公示牌),
        from a GIS file or a lon/lat CSV/XLSX export.
    buildings : dict of int to GeoDataFrame
        Building surveys by year (``buildings_2022.shp`` → 2022).
    landcover : dict of int to Path
        Land-cover rasters by year (``landcover_2022.tif`` → 2022).
    land_survey : GeoDataFrame or None
        Land-survey parcels (地类图斑 DLTB, see :func:`load_land_survey`) from a File
        Geodatabase folder (``*.gdb``) or a file named ``dltb``/``land_survey``/
        ``地类图斑`` (with an optional ``_YYYY``; the latest year when several).
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
    problems: gpd.GeoDataFrame | None = None
    signboards: gpd.GeoDataFrame | None = None
    buildings: dict[int, gpd.GeoDataFrame] = field(default_factory=dict)
    landcover: dict[int, Path] = field(default_factory=dict)
    land_survey: gpd.GeoDataFrame | None = None
    extra: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    manifest: dict | None = None
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def rejected(self) -> pd.DataFrame:
        """Rows every layer set aside (``on_error="report"``), one table.

        Returns
        -------
        DataFrame
            Columns file, row, field, value, reason, fix (empty when nothing was rejected).
        """
        layers = [self.rivers, self.sections, self.measurements, self.redlines, self.demolitions,
                  self.patrols, self.regions, self.problems, self.signboards, *self.buildings.values()]
        parts = [df.attrs["rejected"] for df in layers if df is not None and len(df.attrs.get("rejected", ()))]
        if not parts:
            return pd.DataFrame(columns=REJECTED_COLUMNS)
        return pd.concat(parts, ignore_index=True)[REJECTED_COLUMNS]


_SIMPLE_LAYERS = ("rivers", "sections", "redlines", "demolitions", "regions")
# Point layers that may also come as a lon/lat CSV/XLSX export of a river-chief app.
_POINT_LAYERS = ("problems", "signboards")
_YEAR = re.compile(r"_(\d{4})$")
# File/layer names a dataset may use for each layer: canonical, Chinese, and GDAL-style.
_LAYER_NAMES = {
    **{name: name for name in (*_SIMPLE_LAYERS, *_POINT_LAYERS, "buildings", "patrols", "measurements")},
    **{get_schema(name).zh: name for name in (*_SIMPLE_LAYERS, *_POINT_LAYERS, "buildings", "patrols", "measurements")},
    "问题": "problems", "公示牌": "signboards",
    "河道": "rivers", "断面": "sections", "监测断面": "sections", "生态红线": "redlines",
    "生态保护红线": "redlines", "拆违": "demolitions", "拆违地块": "demolitions", "片区": "regions",
    "建筑": "buildings", "巡河轨迹": "patrols", "监测数据": "measurements",
    "land_survey": "land_survey", "dltb": "land_survey", "地类图斑": "land_survey", "三调": "land_survey",
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


def _gpkg_layers(path: Path) -> list[str]:
    """Names of a GeoPackage's layers with geometry (not ``layer_styles``); an unreadable file is an InputFileError."""
    try:
        return [str(name) for name, geom_type in pyogrio.list_layers(path) if geom_type is not None]
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError, ValueError) as exc:
        raise InputFileError("cannot read the file", path=path, found=str(exc).splitlines()[0][:200],
                             fix="remove the file from the dataset folder, or replace it with a complete copy") from None


def _classify_folder(folder: Path, *, skip: set[Path] | None = None) -> dict[str, Any]:
    """Map each file (or GeoPackage layer) of a dataset folder to its layer."""
    plan: dict[str, Any] = {"buildings": {}, "landcover": {}, "extra": {}, "patrols": None, "measurements": None}
    patrol_candidates: list[_Source] = []
    for stem, p in _vector_files(folder).items():
        if p in (skip or ()):
            continue
        if _place(plan, patrol_candidates, _Source(p), stem):
            continue
        # A GeoPackage delivered as one file holding several layers (rivers, 断面 …).
        inner = _gpkg_layers(p) if p.suffix.lower() == ".gpkg" else []
        placed = [_place(plan, patrol_candidates, _Source(p, name), name) for name in inner]
        if not any(placed):
            plan["extra"][stem] = p
    files = sorted(folder.iterdir())
    patrol_candidates += [_Source(p) for p in files
                          if p.suffix.lower() in (".gpx", ".csv") and _canonical(p.stem)[0] == "patrols"]
    # The most complete patrol file: a columnar year file beats a month's GPX/CSV export.
    order = {".parquet": 0, ".geoparquet": 0, ".gpkg": 1, ".shp": 2, ".gpx": 3, ".csv": 4}
    if patrol_candidates:
        plan["patrols"] = sorted(
            patrol_candidates, key=lambda src: (order.get(src.path.suffix.lower(), 9), src.path.name))[0]
    for p in sorted(folder.glob("*.tif")):
        layer_year = _YEAR.search(p.stem)
        if layer_year and p.stem.lower().startswith(("landcover", "土地覆盖", "地类")):
            plan["landcover"][int(layer_year.group(1))] = p
    plan["measurements"] = next((p for p in files if p.suffix.lower() in (".csv", ".xlsx")
                                 and _canonical(p.stem)[0] == "measurements"), None)
    for p in files:  # app exports (lon/lat tables); a GIS file of the same layer comes first
        layer = _canonical(p.stem)[0] if p.suffix.lower() in (".csv", ".xlsx") else None
        if layer in _POINT_LAYERS:
            plan.setdefault(layer, _Source(p))
    surveys = [p for p in files if _is_land_survey(p)] + plan.pop("land_survey_files", [])
    # the latest vintage when several (by the year in the name), then by name
    plan["land_survey"] = max(surveys, key=lambda p: (_canonical(p.stem)[1] or 0, p.name), default=None)
    return plan


def _is_land_survey(path: Path) -> bool:
    """Tell whether a path is a File Geodatabase folder holding a DLTB layer (by name or fields)."""
    if not (path.is_dir() and path.suffix.lower() == ".gdb"):
        return False
    if _canonical(path.stem)[0] == "land_survey":
        return True
    try:
        return _land_survey_layer(path, None) is not None
    except DongpingGeoError:
        return False


def _place(plan: dict[str, Any], patrol_candidates: list[_Source], src: _Source, name: str) -> bool:
    """Put a file/layer called ``name`` into the plan; False when the name is no layer."""
    layer, year = _canonical(name)
    if layer in _SIMPLE_LAYERS or layer in _POINT_LAYERS:
        plan.setdefault(layer, src)
    elif layer == "buildings" and year is not None:
        plan["buildings"].setdefault(year, src)
    elif layer == "patrols":
        patrol_candidates.append(src)
    elif layer == "land_survey" and src.file_layer is None:
        plan.setdefault("land_survey_files", []).append(src.path)
    else:
        return False
    return True


def load_dataset(
    folder: str | os.PathLike,
    *,
    crs: Any = None,
    repair: bool = False,
    patrols: bool = True,
    work_crs: Any = None,
    on_error: str = "raise",
    date_format: str | None = None,
) -> Dataset:
    """Load every layer present in a folder laid out like ``data/shapefiles/``.

    Expected names: ``rivers``, ``sections``, ``redlines``, ``demolitions``,
    ``regions`` (any vector format), ``measurements.csv``/``.xlsx``,
    ``patrols*.parquet|gpx|csv``, ``buildings_YYYY.*``, ``landcover_YYYY.tif``,
    ``problems``/``巡河问题`` and ``signboards``/``河长公示牌`` (a GIS file, or a
    lon/lat CSV/XLSX export), a land survey (``*.gdb`` folder with a DLTB layer, or
    ``dltb_YYYY.gpkg|shp``), ``manifest.json``; Chinese layer names are accepted
    and a GeoPackage may hold several layers. Absent layers are ``None`` (or empty dicts), not errors.

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
    on_error : {"raise", "report"}, default "raise"
        ``"report"``: every layer keeps its valid rows and lists the others in its
        ``attrs["rejected"]``; :attr:`Dataset.rejected` gathers them. Measurements
        naming sections absent from the sections layer are rejected too.
    date_format : str, optional
        strptime format of date fields in a form not accepted by default.

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
    _check_on_error(on_error)
    folder = Path(folder)
    if not folder.is_dir():
        raise InputFileError("dataset folder not found", path=folder, expected="a folder of layers",
                             found="no such folder", fix="check the path")
    plan = _classify_folder(folder)
    ds = Dataset(folder=folder)
    opts = {"crs": crs, "work_crs": work_crs, "repair": repair, "on_error": on_error, "date_format": date_format}
    for name in _SIMPLE_LAYERS:
        if plan.get(name):
            src = plan[name]
            setattr(ds, name, load_layer(src.path, name, file_layer=src.file_layer, **opts))
            ds.files[name] = src.path
    for year, src in sorted(plan["buildings"].items()):
        ds.buildings[year] = load_layer(src.path, "buildings", file_layer=src.file_layer, **opts)
        ds.files[f"buildings_{year}"] = src.path
    if plan["measurements"] is not None:
        ds.measurements = _dataset_measurements(plan["measurements"], ds, on_error=on_error,
                                                date_format=date_format)
        ds.files["measurements"] = plan["measurements"]
    if patrols and plan["patrols"] is not None:
        src = plan["patrols"]
        ds.patrols = load_patrols(src.path, file_layer=src.file_layer, work_crs=work_crs, on_error=on_error,
                                  date_format=date_format)
        ds.files["patrols"] = src.path
    point_loaders = {"problems": load_problems, "signboards": load_signboards}
    for name in _POINT_LAYERS:
        if plan.get(name):
            src = plan[name]
            table = src.path.suffix.lower() in (".csv", ".xlsx")  # lon/lat: crs is for GIS files without .prj
            setattr(ds, name, point_loaders[name](src.path, file_layer=src.file_layer, crs=None if table else crs,
                                                  work_crs=work_crs, on_error=on_error, date_format=date_format))
            ds.files[name] = src.path
    ds.landcover = plan["landcover"]
    if plan["land_survey"] is not None:
        ds.land_survey = load_land_survey(plan["land_survey"], crs=crs, repair=repair, work_crs=work_crs)
        ds.files["land_survey"] = plan["land_survey"]
    for stem, p in plan["extra"].items():
        gdf = read_layer(p)
        ds.extra[stem] = to_work_crs(_assign_crs(gdf, path=p, layer=stem, crs=crs), work_crs=work_crs)
        ds.files[stem] = p
    manifest = folder / "manifest.json"
    if manifest.exists():
        ds.manifest = _read_manifest(manifest)
    return ds


def _read_manifest(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputFileError("cannot read the manifest", path=path, expected="a JSON file",
                             found=str(exc).splitlines()[0][:200], fix="repair or remove manifest.json") from None


def _dataset_measurements(path: Path, ds: Dataset, *, on_error: str, date_format: str | None = None) -> pd.DataFrame:
    """Measurements of a dataset, checked against its sections layer.

    The section check is :func:`dongping_geo._measurements.check_section_ids`, the one
    ``assess_sections`` and ``validate`` use, so all three agree on what fails.
    """
    from ._measurements import check_section_ids

    measurements = load_measurements(path, on_error=on_error, date_format=date_format)
    if ds.sections is None:
        return measurements
    unknown = check_section_ids(measurements, ds.sections, path=path, on_error=on_error)  # type: ignore[arg-type]  # str vs Literal
    if not len(unknown):
        return measurements
    rows = set(unknown["row"])
    kept = measurements[~measurements.index.isin(rows)]
    before = measurements.attrs.get("rejected")
    attrs = dict(measurements.attrs)
    parts = [t for t in (before, unknown) if t is not None and len(t)]
    attrs["rejected"] = RejectedRows(pd.concat(parts, ignore_index=True).sort_values("row", kind="stable",
                                                                                      ignore_index=True))
    kept.attrs.clear()
    kept.attrs.update(attrs)
    return kept


def _layer_of(path: Path) -> str | None:
    return _canonical(path.stem)[0]


def guess_layer(columns: Any) -> str | None:
    """Tell which layer a table holds from its column names (canonical or Chinese).

    A layer is a candidate when every required field is present under one of its
    names; the candidate with the most required fields wins (then the most fields).
    Patrol tables are recognised by lon/lat/time columns, measurements in the wide
    layout by a section id and a sampling date.

    Parameters
    ----------
    columns : iterable of str
        Column names of the file.

    Returns
    -------
    str or None
        The layer name, or ``None`` when no layer fits or two fit equally well.

    Examples
    --------
    >>> guess_layer(["河道编码", "河道名称", "河道等级", "geometry"])
    'rivers'
    >>> guess_layer(["名称"]) is None
    True
    """
    from .schemas import SCHEMAS

    names = {str(c).strip().lower() for c in columns}

    def has(f: Any) -> bool:
        return any(n.strip().lower() in names for n in f.all_names)

    scores: dict[str, tuple[int, int]] = {}
    for schema in SCHEMAS.values():
        required = [f for f in schema.fields if f.required]
        if all(has(f) for f in required):
            scores[schema.name] = (len(required), sum(has(f) for f in schema.fields))
    if "patrols" not in scores and all(any(n in names for n in group)
                                       for group in (_LON_NAMES, _LAT_NAMES, _TIME_NAMES)):
        scores["patrols"] = (3, 3)
    measurements = get_schema("measurements")
    if "measurements" not in scores and has(measurements.field("section_id")) and has(measurements.field("sampled_at")):
        scores["measurements"] = (2, 2)
    if not scores:
        return None
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        return None
    return ranked[0][0]


def _columns_of(path: Path) -> list[str]:
    """Column names of a vector file or table (raising InputFileError when unreadable)."""
    if path.suffix.lower() in (".csv", ".txt", ".xlsx", ".xlsm"):
        return list(read_table(path).columns)
    if path.suffix.lower() in (".parquet", ".geoparquet"):
        return list(read_layer(path).columns)
    if path.suffix.lower() == ".shp":
        return list(read_layer(path).columns)  # decodes GBK field names as the loaders do
    try:
        return [str(c) for c in pyogrio.read_info(path)["fields"]]
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError, ValueError) as exc:
        raise InputFileError("cannot read the file", path=path, found=str(exc).splitlines()[0][:200],
                             fix="check that the file is complete and of the type its name says") from None


def _row_problems(rejected: pd.DataFrame, *, layer: str, unit: str) -> list:
    """One SchemaError per rejected row, naming its file line (or FID)."""
    return [SchemaError(r.reason, path=r.file, layer=layer, feature_id=f"{unit} {r.row}", field=r.field,
                        found=str(r.value), fix=r.fix) for r in rejected.itertuples(index=False)]


def inspect_file(
    path: str | os.PathLike, *, layer: str | None = None, crs: Any = None, date_format: str | None = None,
) -> LayerReport:
    """Load one file the way the loaders do, collecting every problem instead of raising.

    The layer comes from ``layer``, else the file name (``rivers.shp`` → rivers,
    ``buildings_2022.shp`` → buildings, ``patrols_*`` → patrols), else the columns
    (:func:`guess_layer`: ``河道2023.shp`` with 河道编码, 河道名称, 河道等级 → rivers);
    ``LayerReport.layer_source`` says which. Every bad row of a CSV/XLSX is one
    problem naming its file line (header = line 1, blank lines counted).

    Parameters
    ----------
    path : path-like
        A layer file.
    layer : str, optional
        Schema layer (default: from the file name, then from the columns).
    crs : object, optional
        CRS for a file without one.
    date_format : str, optional
        strptime format of date fields in a form not accepted by default.

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
    report = LayerReport(path=path, layer=layer or "?", layer_source="argument" if layer else "")
    if not path.exists():
        report.problems.append(InputFileError(
            "file not found", path=path, expected="an existing file", found="nothing at that path",
            fix="check the path and the working directory"))
        return report
    try:
        layer = layer or _pick_layer(path, report)
        if layer is None:
            return report
        _inspect_into(report, path, layer, crs=crs, date_format=date_format)
    except DongpingGeoError as exc:
        report.problems.append(exc)
    return report


def _pick_layer(path: Path, report: LayerReport) -> str | None:
    """Layer from the file name, else from the columns; a problem when neither tells."""
    layer = _layer_of(path)
    source = "file name"
    if layer is None and _is_land_survey(path):
        layer, source = "land_survey", "layers"
    if layer is None:
        layer, source = guess_layer(_columns_of(path)), "columns"
    if layer is None:
        report.problems.append(SchemaError(
            "cannot tell which layer this file holds", path=path,
            expected="a name like rivers, sections, redlines, demolitions, regions, buildings_YYYY, "
                     "patrols*, measurements, problems, signboards, or the columns of one layer "
                     "(see docs/data-model.md)",
            found=repr(path.name), fix="rename the file, or name the layer (--layer)",
        ))
        return None
    report.layer, report.layer_source = layer, source
    return layer


def _inspect_into(report: LayerReport, path: Path, layer: str, *, crs: Any, date_format: str | None) -> None:
    tabular = path.suffix.lower() in (".csv", ".txt", ".xlsx", ".xlsm")
    if layer == "measurements":
        data = load_measurements(path, on_error="report", date_format=date_format)
        problems = _row_problems(data.attrs.get("rejected", pd.DataFrame(columns=REJECTED_COLUMNS)),
                                 layer=layer, unit="line")
    elif layer == "patrols":
        data = load_patrols(path, crs=crs, on_error="report", date_format=date_format)
        problems = _row_problems(data.attrs["rejected"], layer=layer, unit="line" if tabular else "FID")
    elif layer in _POINT_LAYERS and tabular:  # a river-chief app's lon/lat export
        data = {"problems": load_problems, "signboards": load_signboards}[layer](
            path, on_error="report", date_format=date_format)
        problems = _row_problems(data.attrs["rejected"], layer=layer, unit="line")
    else:
        file_layer = _land_survey_layer(path, None) if layer == "land_survey" else None
        raw = read_layer(path, layer=file_layer, fid_as_index=True)
        if layer == "land_survey":  # codes normalised (unknown ones: one problem) as the loader does
            raw = _normalise_land_codes(raw, path=path, layer=file_layer)
        report.crs = raw.crs.to_string() if raw.crs is not None else "none"
        report.encoding = raw.attrs.get("encoding", "")
        data, issues, _ = _check_layer(raw, layer, path=path, crs=crs, repair=False, date_format=date_format)
        problems = [i.error for i in issues]
        data = data[~_issue_mask(issues, len(data))]
    report.data = data
    report.rejected = data.attrs.get("rejected")
    report.features = len(data)
    if isinstance(data, gpd.GeoDataFrame) and report.crs == "none" and data.crs is not None:
        report.crs = data.crs.to_string()
    report.encoding = report.encoding or data.attrs.get("encoding", "")
    report.problems.extend(problems)


def _issue_mask(issues: list, n: int) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    for issue in issues:
        if issue.mask is not None:
            mask |= issue.mask
    return mask


def inspect_dataset(
    folder: str | os.PathLike, *, crs: Any = None, date_format: str | None = None,
) -> list[LayerReport]:
    """Inspect a dataset folder as :func:`load_dataset` reads it, collecting every problem.

    What would make :func:`load_dataset` fail is a problem here too: every layer file,
    every other vector file it reads (a stray unreadable ``.gpkg`` or ``.shp``), the
    manifest, and measurements naming sections absent from the sections layer.

    Parameters
    ----------
    folder : path-like
        The dataset folder.
    crs : object, optional
        CRS for files without one.
    date_format : str, optional
        strptime format of date fields in a form not accepted by default.

    Returns
    -------
    list of LayerReport
        One report per file; ``layer`` is ``"extra"`` for other vector files.

    Examples
    --------
    >>> reports = inspect_dataset("data/shapefiles")  # doctest: +SKIP
    >>> sum(len(r.problems) for r in reports)  # doctest: +SKIP
    0
    """
    folder = Path(folder)
    if not folder.is_dir():
        return [LayerReport(path=folder, layer="?", problems=[InputFileError(
            "dataset folder not found", path=folder, expected="a folder of layers", found="no such folder",
            fix="check the path")])]
    reports: list[LayerReport] = []
    broken = _unreadable_gpkgs(folder, reports)
    plan = _classify_folder(folder, skip=broken)
    for p in dataset_files(folder):
        if p not in broken:
            reports.append(inspect_file(p, crs=crs, date_format=date_format))
    for stem, p in plan["extra"].items():
        reports.append(_inspect_extra(p, stem, crs=crs))
    manifest = folder / "manifest.json"
    if manifest.exists():
        try:
            _read_manifest(manifest)
        except DongpingGeoError as exc:
            reports.append(LayerReport(path=manifest, layer="manifest", problems=[exc]))
    _cross_check(reports)
    return reports


def _unreadable_gpkgs(folder: Path, reports: list[LayerReport]) -> set[Path]:
    broken = set()
    for p in _vector_files(folder).values():
        if p.suffix.lower() == ".gpkg":
            try:
                _gpkg_layers(p)
            except DongpingGeoError as exc:
                broken.add(p)
                reports.append(LayerReport(path=p, layer=_layer_of(p) or "extra", problems=[exc]))
    return broken


def _inspect_extra(path: Path, stem: str, *, crs: Any) -> LayerReport:
    report = LayerReport(path=path, layer="extra", layer_source="file name")
    try:
        gdf = _assign_crs(read_layer(path), path=path, layer=stem, crs=crs)
        report.features = len(gdf)
        report.crs = gdf.crs.to_string()
    except DongpingGeoError as exc:
        report.problems.append(exc)
    return report


def _cross_check(reports: list[LayerReport]) -> None:
    """Measurements must name sections of the sections layer (as load_dataset requires)."""
    by_layer = {r.layer: r for r in reports if r.data is not None}
    sections, measurements = by_layer.get("sections"), by_layer.get("measurements")
    if sections is None or measurements is None:
        return
    unknown = sorted(set(measurements.data["section_id"].astype(str)) - set(sections.data["section_id"].astype(str)))
    if unknown:
        measurements.problems.append(SchemaError(
            "measurements name sections that are not in the sections layer", path=measurements.path,
            layer="measurements", field="section_id", feature_id=", ".join(unknown[:5]),
            expected="ids of " + sections.path.name, found=f"{len(unknown)} unknown section ids",
            fix="correct the ids or add the sections"))


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
    files += [p for p in folder.iterdir() if _is_land_survey(p)]
    return sorted(set(files))



# --- the land survey (三调 / 年度变更调查): 地类图斑 DLTB ----------------------------------

#: Layer names of the parcel layer in survey databases (compared case-insensitively).
LAND_SURVEY_LAYER_NAMES = ("DLTB", "地类图斑", "land_survey")


def _land_survey_layer(path: Path, layer: str | None) -> str | None:
    """Find the DLTB layer of a multi-layer source: by name, else by its DLBM and TBMJ fields."""
    if path.suffix.lower() == ".shp":
        return None
    try:
        names = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
    except (pyogrio.errors.DataSourceError, OSError) as exc:
        raise InputFileError("cannot read the file", path=path, found=str(exc).splitlines()[0][:200],
                             fix="give a File Geodatabase folder (.gdb), a GeoPackage or a Shapefile") from None
    if layer is not None:
        if layer not in names:
            raise InputFileError("no such layer", path=path, layer=layer, expected=", ".join(names),
                                 found=repr(layer), fix="pass one of the layers listed")
        return layer
    wanted = {n.lower() for n in LAND_SURVEY_LAYER_NAMES}
    by_name = [n for n in names if n.lower() in wanted]
    if len(by_name) == 1:
        return by_name[0]
    schema = get_schema("land_survey")
    need = [{n.strip().lower() for n in schema.field(f).all_names} for f in ("land_code", "area_m2")]
    by_fields = []
    for name in names:
        fields = {str(f).strip().lower() for f in pyogrio.read_info(path, layer=name)["fields"]}
        if all(fields & names_of for names_of in need):
            by_fields.append(name)
    if len(by_fields) == 1:
        return by_fields[0]
    raise SchemaError(
        "cannot tell which layer holds the land-survey parcels", path=path, layer=None,
        expected="one layer named DLTB/地类图斑, or one layer with DLBM (地类编码) and TBMJ (图斑面积) fields",
        found=f"layers {', '.join(names)}; candidates {', '.join(by_name or by_fields) or 'none'}",
        fix="pass layer= with the parcel layer's name",
    )


def _normalise_land_codes(gdf: gpd.GeoDataFrame, *, path: Path, layer: str | None) -> gpd.GeoDataFrame:
    """Table spellings of DLBM, with land_class and (where missing) land_name added."""
    from .landclass import TABLE_NAME, class_attribute, normalize_land_codes

    schema = get_schema("land_survey")
    gdf = rename_aliases(gdf, schema, path=path)
    if "land_code" not in gdf.columns:
        return gdf  # standardize reports the missing field
    codes, bad = normalize_land_codes(gdf["land_code"])
    if bad.any():
        ids = gdf.loc[bad, "parcel_id"] if "parcel_id" in gdf.columns else pd.Series(gdf.index[bad])
        found = sorted({str(v) for v in gdf.loc[bad, "land_code"]})
        raise SchemaError(
            "unknown land-class code", path=path, layer=layer or "land_survey", field="land_code (DLBM)",
            feature_id=", ".join(map(str, ids.tolist()[:5])) + (f" (and {int(bad.sum()) - 5} more)" if bad.sum() > 5 else ""),
            expected=f"codes of {TABLE_NAME}", found=", ".join(map(repr, found[:5])),
            fix="correct the codes; attribute markers belong in their own fields (ZZSXDM, TBXHDM, GDLX)",
        )
    gdf = gdf.copy()
    gdf["land_code"] = codes
    gdf["land_class"] = class_attribute(codes)
    names = class_attribute(codes, "zh")
    if "land_name" in gdf.columns:
        blank = gdf["land_name"].isna() | (gdf["land_name"].astype(str).str.strip() == "")
        gdf["land_name"] = gdf["land_name"].where(~blank, names)
    else:
        gdf["land_name"] = names
    return gdf


def load_land_survey(
    path: str | os.PathLike,
    layer: str | None = None,
    *,
    crs: Any = None,
    repair: bool = False,
    encoding: str | None = None,
    work_crs: Any = None,
) -> gpd.GeoDataFrame:
    """Load the land-survey parcels (三调 / 年度变更调查 地类图斑, DLTB).

    Standard field names (BSM, TBBH, DLBM, DLMC, QSDWDM, QSDWMC, ZLDWDM, ZLDWMC, TBMJ,
    KCXS, KCMJ, TBDLMJ, GDLX, GDPDJB …) and their Chinese names are mapped to canonical
    ones (see docs/land-survey.md); land-class codes are normalised (``101`` → ``0101``)
    and checked against :data:`dongping_geo.landclass.LAND_CLASSES`, and the first-level
    class is added as ``land_class``.

    Parameters
    ----------
    path : path-like
        A File Geodatabase folder (``.gdb``, read with GDAL's OpenFileGDB driver), a
        GeoPackage or a Shapefile.
    layer : str, optional
        The parcel layer; by default the layer named ``DLTB`` (or ``地类图斑``), else the
        one layer having land-code and area fields.
    crs : object, optional
        CRS of the data when the source has none (or overrides a wrong one).
    repair : bool, default False
        Make invalid geometries valid instead of failing.
    encoding : str, optional
        Shapefile attribute encoding (default: detected).
    work_crs : object, optional
        Override the working CRS.

    Returns
    -------
    GeoDataFrame
        One row per parcel with canonical fields, ``land_class`` added, in the working
        CRS. ``area_m2`` is the survey's official TBMJ, not recomputed.

    Raises
    ------
    InputFileError
        If the source is missing or unreadable, or ``layer`` is not in it.
    SchemaError
        If no single parcel layer can be found, a required field is missing, or a
        land-class code is not in the table (the message names the parcels).
    GeometryError, CRSError
        On bad geometry or a missing CRS.

    Examples
    --------
    >>> parcels = load_land_survey("data/shapefiles/dltb_2020.gdb")  # doctest: +SKIP
    >>> parcels[["parcel_id", "land_code", "land_class", "area_m2"]].head()  # doctest: +SKIP
    """
    path = Path(path)
    if not path.exists():
        raise InputFileError("file not found", path=path, expected="a .gdb folder, .gpkg or .shp",
                             found="nothing at that path", fix="check the path")
    file_layer = _land_survey_layer(path, layer)
    gdf = read_layer(path, layer=file_layer, encoding=encoding, fid_as_index=True)
    gdf = _normalise_land_codes(gdf, path=path, layer=file_layer)
    data = _finish(gdf, "land_survey", path=path, crs=crs, repair=repair, work_crs=work_crs)
    data.attrs["file_layer"] = file_layer
    return data.reset_index(drop=True)
