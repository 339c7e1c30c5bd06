"""Reading and writing files, with atomic writes.

Formats: Shapefile (with GBK/GB18030 attributes), GeoPackage, GeoParquet,
GeoJSON, GPX and CSV/XLSX tables. pyogrio is the engine. Shapefile attribute text is decoded here rather than by
GDAL: without a ``.cpg`` GDAL falls back to ISO-8859-1 and Chinese text silently
turns into mojibake. We read the raw bytes (as ISO-8859-1, which maps every
byte to one character) and decode them with the ``.cpg`` encoding, the DBF's
language driver id, or — with neither — UTF-8 and then GB18030, and record
which one was used in ``gdf.attrs["encoding"]``.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio

from .errors import EncodingError, InputFileError, OutputError, SchemaError
from .schemas import get_schema

__all__ = [
    "VECTOR_SUFFIXES",
    "read_layer",
    "write_layer",
    "write_layers",
    "write_table",
    "atomic_path",
    "detect_shapefile_encoding",
]

#: File suffixes read_layer understands.
VECTOR_SUFFIXES = (".shp", ".gpkg", ".geojson", ".json", ".parquet", ".geoparquet", ".gpx")
_SHP_SIDECARS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx", ".qmd")

# .cpg spellings seen in Chinese deliveries -> Python codec.
_CPG_CODECS = {
    "utf-8": "utf-8", "utf8": "utf-8", "65001": "utf-8",
    "gbk": "gbk", "cp936": "gbk", "936": "gbk", "ansi 936": "gbk", "gb2312": "gbk",
    "gb18030": "gb18030", "54936": "gb18030",
    "big5": "big5", "950": "big5",
    "88591": "latin-1", "iso-8859-1": "latin-1", "iso88591": "latin-1", "latin1": "latin-1",
    "1252": "cp1252", "ansi 1252": "cp1252",
}
# DBF language driver ids (byte 29) -> codec; 0x4D (77) is cp936/GBK.
_LDID_CODECS = {0x4D: "gbk", 0x7A: "gbk", 0x78: "big5", 0x57: "cp1252", 0x03: "cp1252", 0x01: "cp437"}

# Paths this process has read: write_layer refuses to overwrite them.
_READ_PATHS: set[Path] = set()


def _sidecar(path: Path, suffix: str) -> Path | None:
    """Find a Shapefile sidecar with any case of the suffix (.dbf, .DBF …)."""
    for cand in (path.with_suffix(suffix), path.with_suffix(suffix.upper())):
        if cand.exists():
            return cand
    return None


def detect_shapefile_encoding(path: str | os.PathLike) -> tuple[str | None, str]:
    """Tell the attribute encoding a Shapefile declares.

    Parameters
    ----------
    path : path-like
        The ``.shp`` file.

    Returns
    -------
    codec : str or None
        A Python codec name, or ``None`` when the file declares nothing.
    source : str
        Where it came from: ``".cpg"``, ``"DBF language driver id"`` or ``"none"``.

    Raises
    ------
    EncodingError
        If the ``.cpg`` names an encoding Python does not know.

    Examples
    --------
    >>> detect_shapefile_encoding("missing.shp")
    (None, 'none')
    """
    path = Path(path)
    cpg = _sidecar(path, ".cpg")
    if cpg is not None:
        raw = cpg.read_bytes().decode("ascii", errors="replace").strip()
        key = raw.lower()
        codec = _CPG_CODECS.get(key)
        if codec is None:
            import codecs

            try:
                codec = codecs.lookup(raw).name
            except LookupError:
                raise EncodingError(
                    "unknown encoding in .cpg", path=cpg, expected="UTF-8, GBK, GB18030 …",
                    found=repr(raw), fix="correct the .cpg or pass encoding=",
                ) from None
        return codec, ".cpg"
    dbf = _sidecar(path, ".dbf")
    if dbf is not None:
        with open(dbf, "rb") as fh:
            header = fh.read(32)
        if len(header) > 29 and header[29] in _LDID_CODECS:
            return _LDID_CODECS[header[29]], "DBF language driver id"
    return None, "none"


def _decode_frame(df: pd.DataFrame, codec: str) -> pd.DataFrame:
    """Re-decode ISO-8859-1-read text (raw bytes) with ``codec``; raise UnicodeDecodeError."""
    geom = df.geometry.name if isinstance(df, gpd.GeoDataFrame) else None

    def dec(s: Any) -> Any:
        return s.encode("latin-1").decode(codec) if isinstance(s, str) else s

    columns = {c: dec(c) for c in df.columns if c != geom}
    out = df.copy()
    for col in df.columns:
        if col != geom and (df[col].dtype == object or pd.api.types.is_string_dtype(df[col])):
            out[col] = df[col].map(dec)
    return out.rename(columns=columns)


def _check_shapefile(path: Path) -> None:
    missing = [s for s in (".shx", ".dbf") if _sidecar(path, s) is None]
    if missing:
        raise InputFileError(
            "incomplete Shapefile", path=path,
            expected=".shp with its .shx and .dbf beside it",
            found="no " + " and no ".join(missing),
            fix="copy every file of the Shapefile (.shp .shx .dbf .prj .cpg), or send a GeoPackage",
        )


def read_layer(
    path: str | os.PathLike,
    layer: str | int | None = None,
    encoding: str | None = None,
    *,
    fid_as_index: bool = False,
) -> gpd.GeoDataFrame:
    """Read a vector layer from a Shapefile, GeoPackage, GeoParquet, GeoJSON or GPX file.

    The result's ``attrs`` record ``path``, ``layer`` and, for Shapefiles, the
    ``encoding`` used and how it was chosen (``encoding_source``).

    Parameters
    ----------
    path : path-like
        The file.
    layer : str or int, optional
        Layer of a multi-layer file (GeoPackage, GPX: e.g. ``"track_points"``).
    encoding : str, optional
        Attribute encoding of a Shapefile; by default the ``.cpg``, the DBF
        language driver id, or UTF-8 then GB18030.
    fid_as_index : bool, default False
        Index the result by the features' FIDs (as GIS programs show them) instead of
        0…n-1 (GeoParquet has no FIDs: 0…n-1).

    Returns
    -------
    GeoDataFrame
        The features, in the file's CRS (``crs`` may be ``None``).

    Raises
    ------
    InputFileError
        If the file is missing, incomplete or unreadable, or the layer does not exist.
    EncodingError
        If the attribute text cannot be decoded.

    Examples
    --------
    >>> gdf = read_layer("data/shapefiles/rivers.shp")  # doctest: +SKIP
    >>> gdf.attrs["encoding"]  # doctest: +SKIP
    'utf-8'
    """
    path = Path(path)
    if not path.exists():
        raise InputFileError(
            "file not found", path=path, expected="an existing file", found="nothing at that path",
            fix="check the path and the working directory",
        )
    suffix = path.suffix.lower()
    if suffix not in VECTOR_SUFFIXES:
        raise InputFileError(
            "unsupported file type", path=path, expected=" ".join(VECTOR_SUFFIXES),
            found=repr(path.suffix), fix="convert the file to GeoPackage or Shapefile",
        )
    attrs: dict[str, Any] = {"path": str(path), "layer": layer}
    try:
        if suffix in (".parquet", ".geoparquet"):
            gdf = gpd.read_parquet(path)
        elif suffix == ".shp":
            _check_shapefile(path)
            codec, source = (encoding, "argument") if encoding else detect_shapefile_encoding(path)
            raw = pyogrio.read_dataframe(path, encoding="ISO-8859-1", fid_as_index=fid_as_index)
            gdf = None
            for cand in [codec] if codec else ["utf-8", "gb18030"]:
                try:
                    gdf = _decode_frame(raw, cand)
                    codec = cand
                    break
                except UnicodeDecodeError:
                    continue
            if gdf is None:
                raise EncodingError(
                    "cannot decode attribute text", path=path,
                    expected="UTF-8 or GB18030 text (or a .cpg naming the encoding)",
                    found=f"bytes invalid in {codec or 'UTF-8 and GB18030'}",
                    fix="add a .cpg with the right encoding or pass encoding=",
                )
            if source == "none":
                source = "guessed (no .cpg, no language driver id)"
            attrs.update(encoding=codec, encoding_source=source)
        else:
            kwargs: dict[str, Any] = {"layer": layer} if layer is not None else {}
            gdf = pyogrio.read_dataframe(path, fid_as_index=fid_as_index, **kwargs)
    except (EncodingError, InputFileError):
        raise
    except UnicodeDecodeError as exc:
        raise EncodingError(
            "cannot decode attribute text", path=path, found=str(exc),
            fix="pass encoding= with the file's encoding",
        ) from None
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError, ValueError) as exc:
        raise InputFileError(
            "cannot read the file", path=path, layer=None if layer is None else str(layer),
            found=str(exc).splitlines()[0][:200], fix="check that the file is complete and of the type its name says",
        ) from None
    gdf.attrs.update(attrs)
    _READ_PATHS.add(path.resolve())
    return gdf


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, sidecars: tuple[str, ...] = ()) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success move it into place.

    The temporary file lives in the same folder (so the final ``os.replace`` is
    atomic on one file system) and is removed if the block raises, so no
    half-written output is ever left behind.

    Parameters
    ----------
    path : path-like
        The final output path.
    sidecars : tuple of str
        Suffixes of companion files to move as well (e.g. Shapefile ``.dbf``).

    Yields
    ------
    Path
        Where to write.

    Raises
    ------
    OutputError
        If ``path`` is a file this process read as input.

    Examples
    --------
    >>> with atomic_path("out.txt") as tmp:  # doctest: +SKIP
    ...     tmp.write_text("hello")
    """
    final = Path(path)
    if final.resolve() in _READ_PATHS:
        raise OutputError(
            "refusing to overwrite an input file", path=final,
            expected="an output path different from every input", found="the file that was read",
            fix="write to another folder or file name",
        )
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{final.stem}.", suffix=final.suffix, dir=final.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # let the writer create it (GDAL refuses some existing empty files)
    try:
        yield tmp
        for suffix in sidecars:
            side = tmp.with_suffix(suffix)
            if side.exists():
                os.replace(side, final.with_suffix(suffix))
            elif final.with_suffix(suffix).exists():
                final.with_suffix(suffix).unlink()  # stale sidecar of an older output
        if tmp.exists():
            os.replace(tmp, final)
    finally:
        for suffix in (final.suffix, *sidecars):
            leftover = tmp.with_suffix(suffix)
            if leftover.exists():
                leftover.unlink()


def _prepare_columns(
    gdf: gpd.GeoDataFrame, *, layer: str | None, field_names: str, shapefile: bool, encoding: str
) -> gpd.GeoDataFrame:
    """Rename canonical fields for writing and turn dates into ISO strings for Shapefiles."""
    out = gdf.copy()
    geom = out.geometry.name
    if shapefile:
        for col in out.columns:
            if col != geom and pd.api.types.is_datetime64_any_dtype(out[col]):
                values = out[col]
                is_date = (values.dropna().dt.normalize() == values.dropna()).all()
                out[col] = values.dt.strftime("%Y-%m-%d" if is_date else "%Y-%m-%dT%H:%M:%S%z").where(values.notna(), None)
    if layer is None:
        return out
    schema = get_schema(layer)
    mapping = {}
    for f in schema.fields:
        if f.name in out.columns:
            if field_names == "zh":
                mapping[f.name] = f.zh
            elif shapefile:
                mapping[f.name] = f.short
    if shapefile:
        for name in mapping.values():
            size = len(name.encode(encoding))
            if size > 10:
                raise SchemaError(
                    "field name too long for a Shapefile", layer=layer, field=name,
                    expected="at most 10 bytes", found=f"{size} bytes in {encoding}",
                    fix="write a GeoPackage, or use field_names='canonical'",
                )
    return out.rename(columns=mapping)


def write_layer(
    gdf: gpd.GeoDataFrame,
    path: str | os.PathLike,
    *,
    layer: str | None = None,
    layer_name: str | None = None,
    encoding: str = "utf-8",
    field_names: str = "canonical",
) -> Path:
    """Write a layer atomically to Shapefile, GeoPackage, GeoParquet or GeoJSON.

    Parameters
    ----------
    gdf : GeoDataFrame
        The data.
    path : path-like
        Output file; the format follows the suffix. Never an input of this process.
    layer : str, optional
        Schema layer name (``rivers`` …): long canonical field names get their
        Shapefile short names (``target_class`` → ``tgt_class``) so the loaders
        map them back.
    layer_name : str, optional
        Layer name inside a GeoPackage (default: the file stem).
    encoding : str, default "utf-8"
        Attribute encoding of a Shapefile (written to its ``.cpg``), e.g. ``"GBK"``.
    field_names : {"canonical", "zh"}
        Write canonical (English) or Chinese field names.

    Returns
    -------
    Path
        The written path.

    Raises
    ------
    OutputError
        If ``path`` is an input file or cannot be written.
    SchemaError
        If a field name does not fit a Shapefile.

    Examples
    --------
    >>> write_layer(rivers, "out/rivers.gpkg", layer="rivers")  # doctest: +SKIP
    PosixPath('out/rivers.gpkg')
    """
    path = Path(path)
    suffix = path.suffix.lower()
    shapefile = suffix == ".shp"
    data = _prepare_columns(gdf, layer=layer, field_names=field_names, shapefile=shapefile, encoding=encoding)
    with atomic_path(path, sidecars=_SHP_SIDECARS[1:] if shapefile else ()) as tmp:
        try:
            if suffix in (".parquet", ".geoparquet"):
                data.to_parquet(tmp, compression="zstd")
            elif shapefile:
                pyogrio.write_dataframe(data, tmp, encoding=encoding)
            elif suffix == ".gpkg":
                pyogrio.write_dataframe(data, tmp, layer=layer_name or path.stem, driver="GPKG")
            elif suffix in (".geojson", ".json"):
                pyogrio.write_dataframe(data, tmp, driver="GeoJSON")
            else:
                raise OutputError(
                    "unsupported output type", path=path, expected=".shp .gpkg .parquet .geojson",
                    found=repr(path.suffix), fix="choose one of those suffixes",
                )
        except (pyogrio.errors.DataSourceError, pyogrio.errors.FieldError, OSError) as exc:
            raise OutputError("cannot write the file", path=path, found=str(exc)[:200]) from None
    return path


def write_layers(layers: Mapping[str, gpd.GeoDataFrame], path: str | os.PathLike) -> Path:
    """Write several layers into one GeoPackage, atomically (all or nothing).

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame
        Layer name → data. Empty layers are written with their columns.
    path : path-like
        The ``.gpkg`` output.

    Returns
    -------
    Path
        The written path.

    Raises
    ------
    OutputError
        If ``path`` is an input file or cannot be written.

    Examples
    --------
    >>> write_layers({"redline": v1, "farmland": v2}, "out/violations.gpkg")  # doctest: +SKIP
    PosixPath('out/violations.gpkg')
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        for name, gdf in layers.items():
            try:
                pyogrio.write_dataframe(gdf, tmp, layer=name, driver="GPKG", append=tmp.exists())
            except (pyogrio.errors.DataSourceError, pyogrio.errors.FieldError, OSError) as exc:
                raise OutputError("cannot write the layer", path=path, layer=name, found=str(exc)[:200]) from None
    return path


def write_table(df: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write a table for people: CSV as UTF-8 with BOM (Excel-safe), or XLSX; atomically.

    Parameters
    ----------
    df : DataFrame
        The table (a geometry column is dropped).
    path : path-like
        ``.csv`` or ``.xlsx`` output.

    Returns
    -------
    Path
        The written path.

    Raises
    ------
    OutputError
        If ``path`` is an input file or has another suffix.

    Examples
    --------
    >>> write_table(pd.DataFrame({"河道": ["洪林河"]}), "out/report.csv")  # doctest: +SKIP
    PosixPath('out/report.csv')
    """
    path = Path(path)
    table = pd.DataFrame(df.drop(columns="geometry", errors="ignore"))
    for col in table.columns:
        if isinstance(table[col].dtype, pd.DatetimeTZDtype) and path.suffix.lower() == ".xlsx":
            table[col] = table[col].dt.tz_localize(None)
    with atomic_path(path) as tmp:
        if path.suffix.lower() == ".csv":
            table.to_csv(tmp, index=False, encoding="utf-8-sig")
        elif path.suffix.lower() == ".xlsx":
            table.to_excel(tmp, index=False)
        else:
            raise OutputError("unsupported table type", path=path, expected=".csv or .xlsx", found=repr(path.suffix))
    return path
