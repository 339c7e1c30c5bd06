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
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from .errors import ConfigError, EncodingError, InputFileError, OutputError, SchemaError
from .schemas import OUTPUT_FIELD_LABELS, get_schema

__all__ = [
    "VECTOR_SUFFIXES",
    "read_layer",
    "write_layer",
    "write_layers",
    "write_table",
    "write_tables",
    "atomic_path",
    "check_output_path",
    "check_output_dir",
    "input_paths",
    "neutralize_formulas",
    "detect_shapefile_encoding",
]

#: File suffixes read_layer understands.
#: (``.gdb``: a File Geodatabase folder, read and written with GDAL's OpenFileGDB driver.)
VECTOR_SUFFIXES = (".shp", ".gpkg", ".geojson", ".json", ".parquet", ".geoparquet", ".gpx", ".gdb")
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


# What a damaged vector file raises from GDAL (via pyogrio), GEOS (decoding WKB) and Arrow.
_READ_ERRORS = (
    pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, pyogrio.errors.FeatureError,
    pyogrio.errors.FieldError, pyogrio.errors.GeometryError, pyogrio.errors.CRSError,
    shapely.errors.ShapelyError, OSError, ValueError,
    TypeError, KeyError, IndexError, RuntimeError,
)


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


def feature_layers(path: str | os.PathLike) -> list[str]:
    """List the layers of a GeoPackage that have geometry (attribute tables such as ``layer_styles`` left out).

    Parameters
    ----------
    path : path-like
        The GeoPackage.

    Returns
    -------
    list of str
        Layer names, in the file's order.
    """
    return [str(name) for name, geom_type in pyogrio.list_layers(path) if geom_type is not None]


def _only_feature_layer(path: Path) -> str | None:
    """Return the one layer with geometry of a GeoPackage; None when there are several (GDAL's first is read)."""
    names = feature_layers(path)
    return names[0] if len(names) == 1 else None


def _read_shapefile(path: Path, encoding: str | None, fid_as_index: bool) -> tuple[gpd.GeoDataFrame, str, str]:
    """Read a Shapefile with its attribute text decoded: (frame, codec, where the codec came from)."""
    _check_shapefile(path)
    codec, source = (encoding, "argument") if encoding else detect_shapefile_encoding(path)
    raw = pyogrio.read_dataframe(path, encoding="ISO-8859-1", fid_as_index=fid_as_index)
    for cand in [codec] if codec else ["utf-8", "gb18030"]:
        try:
            gdf = _decode_frame(raw, cand)
        except UnicodeDecodeError:
            continue
        guessed = "guessed (no .cpg, no language driver id)"
        return gdf, cand, guessed if source == "none" else source
    raise EncodingError(
        "cannot decode attribute text", path=path,
        expected="UTF-8 or GB18030 text (or a .cpg naming the encoding)",
        found=f"bytes invalid in {codec or 'UTF-8 and GB18030'}",
        fix="add a .cpg with the right encoding or pass encoding=",
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
        Layer of a multi-layer file (GeoPackage, GPX: e.g. ``"track_points"``). Without it,
        a GeoPackage's only layer with geometry is read (its ``layer_styles`` table and
        other attribute tables are passed over).
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
            gdf, codec, source = _read_shapefile(path, encoding, fid_as_index)
            attrs.update(encoding=codec, encoding_source=source)
        else:
            if layer is None and suffix == ".gpkg":
                layer = _only_feature_layer(path)
                attrs["layer"] = layer
            kwargs: dict[str, Any] = {"layer": layer} if layer is not None else {}
            gdf = pyogrio.read_dataframe(path, fid_as_index=fid_as_index, **kwargs)
    except (EncodingError, InputFileError):
        raise
    except UnicodeDecodeError as exc:
        raise EncodingError(
            "cannot decode attribute text", path=path, found=str(exc),
            fix="pass encoding= with the file's encoding",
        ) from None
    except _READ_ERRORS as exc:
        raise InputFileError(
            "cannot read the file", path=path, layer=None if layer is None else str(layer),
            found=str(exc).splitlines()[0][:200], fix="check that the file is complete and of the type its name says",
        ) from None
    gdf.attrs.update(attrs)
    return gdf


def input_paths(*paths: str | os.PathLike) -> frozenset[Path]:
    """Expand input paths into every path an output must not touch.

    A Shapefile brings its sidecars (``.dbf``, ``.shx``, ``.prj``, ``.cpg`` …); a
    folder (a dataset folder) stands for everything inside it.

    Parameters
    ----------
    *paths : path-like
        The inputs of a command (files or folders).

    Returns
    -------
    frozenset of Path
        Resolved paths.

    Examples
    --------
    >>> sorted(p.suffix for p in input_paths("rivers.shp"))[:3]
    ['.cpg', '.dbf', '.prj']
    """
    out: set[Path] = set()
    for p in paths:
        resolved = Path(p).resolve()
        out.add(resolved)
        if resolved.suffix.lower() == ".shp":
            out.update(resolved.with_suffix(s) for s in _SHP_SIDECARS)
            out.update(resolved.with_suffix(s.upper()) for s in _SHP_SIDECARS)
    return frozenset(out)


def check_output_path(
    path: str | os.PathLike,
    *,
    inputs: Iterable[str | os.PathLike] | None = None,
    sidecars: tuple[str, ...] = (),
) -> Path:
    """Refuse an output path that is an input, lies in an input folder, or cannot be written.

    Parameters
    ----------
    path : path-like
        The output file.
    inputs : iterable of path-like, optional
        The command's inputs: files (a Shapefile with its sidecars) and folders (a
        dataset folder: nothing may be written inside it). Default: none (only the
        writability is checked); a command passes every file and folder it read.
    sidecars : tuple of str
        Suffixes of companion files the output will have (Shapefile ``.dbf`` …).

    Returns
    -------
    Path
        The output path.

    Raises
    ------
    OutputError
        If the output (or a sidecar) is an input, lies inside an input folder, its
        folder is read-only, or a parent is a regular file — never a raw
        ``PermissionError``/``NotADirectoryError``.

    Examples
    --------
    >>> check_output_path("out/rivers.gpkg", inputs=["data/shapefiles"])  # doctest: +SKIP
    PosixPath('out/rivers.gpkg')
    """
    final = Path(path)
    protected = input_paths(*(inputs or ()))
    targets = [final.resolve(), *(final.resolve().with_suffix(s) for s in sidecars)]
    for target in targets:
        hit = next((p for p in protected if target == p or (p in target.parents and p.is_dir())), None)
        if hit is not None:
            inside = target != hit
            raise OutputError(
                "refusing to write inside an input folder" if inside else "refusing to overwrite an input file",
                path=final, expected="an output path different from every input and outside the dataset folder",
                found=f"{'inside ' if inside else ''}{hit}", fix="write to another folder or file name",
            )
    _check_writable(final)
    return final


def check_output_dir(path: str | os.PathLike, *, inputs: Iterable[str | os.PathLike] | None = None) -> Path:
    """Refuse an output folder that is an input, lies in an input folder, or cannot be written.

    A command calls it on its ``--out`` folder before reading anything, so a bad
    destination fails at once (exit 2) and never after the slow work.

    Parameters
    ----------
    path : path-like
        The output folder (it need not exist yet).
    inputs : iterable of path-like, optional
        The command's inputs, as for :func:`check_output_path`.

    Returns
    -------
    Path
        The folder.

    Raises
    ------
    OutputError
        If the folder is an input file or folder, lies inside an input folder, is an
        existing file, lies under a file, or its nearest existing parent is read-only.

    Examples
    --------
    >>> check_output_dir("out/patrol", inputs=["data/shapefiles"])  # doctest: +SKIP
    PosixPath('out/patrol')
    """
    folder = Path(path)
    resolved = folder.resolve()
    for p in input_paths(*(inputs or ())):
        if resolved == p or p in resolved.parents:
            raise OutputError(
                "refusing to write inside an input folder" if p.is_dir() else "refusing to overwrite an input file",
                path=folder, expected="an output folder apart from every input", found=str(p),
                fix="choose another --out folder, outside the dataset folder")
    if folder.exists() and not folder.is_dir():
        raise OutputError("the output folder is a file", path=folder, expected="a folder", found="a file",
                          fix="choose another --out folder")
    _check_creatable(folder, shown=folder)
    return folder


def _check_writable(final: Path) -> None:
    """Raise OutputError when ``final`` cannot be created (read-only folder, file in the path)."""
    if final.is_dir():
        raise OutputError("the output is a folder", path=final, expected="a file name", found="a folder",
                          fix="add a file name to the path")
    _check_creatable(final.parent, shown=final)


def _check_creatable(parent: Path, *, shown: Path) -> None:
    """Raise OutputError when files cannot be created in folder ``parent`` (made if needed)."""
    final = shown
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise OutputError("cannot create the output", path=final, expected="a folder above the output",
                          found=f"{parent} is a file", fix="choose an output path that is not under a file")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError("cannot write to the output folder", path=final, expected="a writable folder",
                          found=f"{parent} is read-only", fix="choose a folder you can write to")


@contextlib.contextmanager
def atomic_path(
    path: str | os.PathLike,
    *,
    sidecars: tuple[str, ...] = (),
    inputs: Iterable[str | os.PathLike] | None = None,
) -> Iterator[Path]:
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
    inputs : iterable of path-like, optional
        Inputs the output must not touch (see :func:`check_output_path`).

    Yields
    ------
    Path
        Where to write.

    Raises
    ------
    OutputError
        If ``path`` is an input, lies in an input folder, or cannot be written.

    Examples
    --------
    >>> with atomic_path("out.txt") as tmp:  # doctest: +SKIP
    ...     tmp.write_text("hello")
    """
    final = check_output_path(path, inputs=inputs, sidecars=sidecars)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{final.stem}.", suffix=final.suffix, dir=final.parent)
    except OSError as exc:
        raise OutputError("cannot write the output", path=final, found=exc.strerror or str(exc),
                          fix="choose a folder you can write to") from None
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
    except OSError as exc:
        raise OutputError("cannot write the output", path=final, found=exc.strerror or str(exc)) from None
    finally:
        for suffix in (final.suffix, *sidecars):
            leftover = tmp.with_suffix(suffix)
            if leftover.exists():
                leftover.unlink()


_FIELD_NAMES = ("canonical", "zh")


def _date_field_names() -> frozenset[str]:
    """Names (canonical and Chinese) of every field a schema declares as a date."""
    from .schemas import SCHEMAS

    return frozenset(n for s in SCHEMAS.values() for f in s.fields if f.dtype == "date" for n in (f.name, f.zh, f.short))


def _is_date_column(name: Any, values: pd.Series) -> bool:
    if name in _date_field_names():
        return True
    present = values.dropna()
    return len(present) > 0 and bool((present.dt.normalize() == present).all())


def _dates_for_shapefile(out: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Dates/timestamps as ISO text: a DBF date field holds no time and no zone."""
    for col in out.columns:
        if col != out.geometry.name and pd.api.types.is_datetime64_any_dtype(out[col]):
            values = out[col]
            fmt = "%Y-%m-%d" if _is_date_column(col, values) else "%Y-%m-%dT%H:%M:%S%z"
            out[col] = values.dt.strftime(fmt).where(values.notna(), None)
    return out


def _dates_for_gpkg(out: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, bool]:
    """Date columns as GeoPackage DATE, timestamps as DATETIME in UTC (the form GDAL reads silently).

    Returns the frame and whether it needs the Arrow writer (DATE columns).
    """
    import pyarrow as pa

    arrow = False
    for col in out.columns:
        if col == out.geometry.name or not pd.api.types.is_datetime64_any_dtype(out[col]):
            continue
        values = out[col]
        if _is_date_column(col, values):
            local = values.dt.tz_localize(None) if values.dt.tz is not None else values
            out[col] = pd.array([d.date() if pd.notna(d) else None for d in local], dtype=pd.ArrowDtype(pa.date32()))
            arrow = True
        elif values.dt.tz is not None:
            out[col] = values.dt.tz_convert("UTC")
    return out, arrow


def _rename_fields(
    out: gpd.GeoDataFrame, *, layer: str | None, field_names: str, shapefile: bool, encoding: str
) -> gpd.GeoDataFrame:
    """Rename canonical fields for writing (Chinese names, Shapefile short names)."""
    if field_names not in _FIELD_NAMES:
        raise ConfigError("unknown field_names", field="field_names", expected="'canonical' or 'zh'",
                          found=repr(field_names), fix="pass field_names='canonical' or 'zh'")
    if layer is None:
        if field_names == "zh":
            raise ConfigError("field_names='zh' needs the layer", field="field_names",
                              expected="layer= naming the schema layer (rivers, sections …)", found="no layer",
                              fix="pass layer= so the Chinese names are known, or field_names='canonical'")
        return out
    schema = get_schema(layer)
    mapping = {}
    for f in schema.fields:
        if f.name in out.columns:
            if field_names == "zh":
                mapping[f.name] = f.zh
            elif shapefile:
                mapping[f.name] = f.short
    if field_names == "zh":  # columns an analysis added (coverage, overlap_m2 …): their declared Chinese names
        taken = set(mapping.values())
        for col in out.columns:
            zh = OUTPUT_FIELD_LABELS.get(col) if isinstance(col, str) and col not in mapping else None
            if zh and zh not in taken and zh not in out.columns:
                mapping[col] = zh
                taken.add(zh)
    return out.rename(columns=mapping)


def _check_dbf_names(out: gpd.GeoDataFrame, *, layer: str | None, encoding: str) -> None:
    """Refuse a column whose name GDAL would truncate in a DBF (10 bytes)."""
    for name in out.columns:
        if name == out.geometry.name:
            continue
        try:
            size = len(str(name).encode(encoding))
        except (UnicodeEncodeError, LookupError):
            raise SchemaError("field name cannot be written in this encoding", layer=layer, field=str(name),
                              expected=f"text {encoding} can encode", found=repr(name),
                              fix="write a GeoPackage, or choose encoding='utf-8'") from None
        if size > 10:
            raise SchemaError(
                "field name too long for a Shapefile", layer=layer, field=str(name),
                expected="at most 10 bytes", found=f"{size} bytes in {encoding}",
                fix="write a GeoPackage, rename the column, or use field_names='canonical'",
            )


def _prepare_columns(
    gdf: gpd.GeoDataFrame, *, layer: str | None, field_names: str, shapefile: bool, encoding: str
) -> gpd.GeoDataFrame:
    """Rename canonical fields for writing and turn dates into ISO strings for Shapefiles."""
    out = _rename_fields(gdf.copy(), layer=layer, field_names=field_names, shapefile=shapefile, encoding=encoding)
    if shapefile:
        _check_dbf_names(out, layer=layer, encoding=encoding)
        out = _dates_for_shapefile(out)
    return out


def _with_sources(inputs: Iterable[str | os.PathLike] | None, *frames: Any) -> list[str | os.PathLike]:
    """Return the command's inputs plus the file each frame was read from (``attrs["path"]``).

    A layer read with :func:`read_layer` (or a loader) remembers its file, so writing it
    back over that file is refused even when the caller names no inputs.
    """
    sources = [f.attrs["path"] for f in frames if isinstance(getattr(f, "attrs", None), dict) and f.attrs.get("path")]
    return [*(inputs or ()), *sources]


def write_layer(
    gdf: gpd.GeoDataFrame,
    path: str | os.PathLike,
    *,
    layer: str | None = None,
    layer_name: str | None = None,
    encoding: str = "utf-8",
    field_names: str = "canonical",
    inputs: Iterable[str | os.PathLike] | None = None,
) -> Path:
    """Write a layer atomically to Shapefile, GeoPackage, GeoParquet or GeoJSON.

    Dates go to a GeoPackage as DATE, timestamps as DATETIME in UTC (GDAL reads both
    without warnings); to a Shapefile as ISO text.

    Parameters
    ----------
    gdf : GeoDataFrame
        The data.
    path : path-like
        Output file; the format follows the suffix. Never an input.
    layer : str, optional
        Schema layer name (``rivers`` …): long canonical field names get their
        Shapefile short names (``target_class`` → ``tgt_class``) so the loaders
        map them back. Required for ``field_names="zh"``.
    layer_name : str, optional
        Layer name inside a GeoPackage (default: the file stem).
    encoding : str, default "utf-8"
        Attribute encoding of a Shapefile (written to its ``.cpg``), e.g. ``"GBK"``.
    field_names : {"canonical", "zh"}
        Write canonical (English) or Chinese field names: the layer's schema names, and
        for columns an analysis added (``coverage``, ``overlap_m2`` …) their names in
        ``schemas.OUTPUT_FIELD_LABELS``. Tables for people: :func:`dongping_geo.tables.localize_table`.
    inputs : iterable of path-like, optional
        The command's inputs (see :func:`check_output_path`).

    Returns
    -------
    Path
        The written path.

    Raises
    ------
    OutputError
        If ``path`` is an input, in an input folder, or cannot be written.
    SchemaError
        If a field name does not fit a Shapefile (it would be truncated).
    ConfigError
        On an unknown ``field_names``, or ``field_names="zh"`` without ``layer``.

    Examples
    --------
    >>> write_layer(rivers, "out/rivers.gpkg", layer="rivers")  # doctest: +SKIP
    PosixPath('out/rivers.gpkg')
    """
    path = Path(path)
    suffix = path.suffix.lower()
    shapefile = suffix == ".shp"
    if suffix not in (".parquet", ".geoparquet", ".shp", ".gpkg", ".geojson", ".json", ".gdb"):
        raise OutputError("unsupported output type", path=path, expected=".shp .gpkg .parquet .geojson .gdb",
                          found=repr(path.suffix), fix="choose one of those suffixes")
    data = _prepare_columns(gdf, layer=layer, field_names=field_names, shapefile=shapefile, encoding=encoding)
    with atomic_path(path, sidecars=_SHP_SIDECARS[1:] if shapefile else (),
                     inputs=_with_sources(inputs, gdf)) as tmp:
        try:
            if suffix in (".parquet", ".geoparquet"):
                data.to_parquet(tmp, compression="zstd")
            elif shapefile:
                pyogrio.write_dataframe(data, tmp, encoding=encoding)
            elif suffix == ".gpkg":
                data, arrow = _dates_for_gpkg(data)
                pyogrio.write_dataframe(data, tmp, layer=layer_name or path.stem, driver="GPKG", use_arrow=arrow)
            elif suffix == ".gdb":  # a File Geodatabase folder holding one layer
                pyogrio.write_dataframe(data, tmp, layer=layer_name or path.stem, driver="OpenFileGDB")
            else:
                pyogrio.write_dataframe(data, tmp, driver="GeoJSON")
        except (pyogrio.errors.DataSourceError, pyogrio.errors.FieldError, OSError) as exc:
            raise OutputError("cannot write the file", path=path, found=str(exc)[:200]) from None
    return path


def write_layers(
    layers: Mapping[str, gpd.GeoDataFrame],
    path: str | os.PathLike,
    *,
    inputs: Iterable[str | os.PathLike] | None = None,
) -> Path:
    """Write several layers into one GeoPackage, atomically (all or nothing).

    Dates are written as GeoPackage DATE, timestamps as DATETIME (UTC).

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame
        Layer name → data. Empty layers are written with their columns.
    path : path-like
        The ``.gpkg`` output.
    inputs : iterable of path-like, optional
        The command's inputs (see :func:`check_output_path`).

    Returns
    -------
    Path
        The written path.

    Raises
    ------
    OutputError
        If ``path`` is an input, in an input folder, or cannot be written.

    Examples
    --------
    >>> write_layers({"redline": v1, "farmland": v2}, "out/violations.gpkg")  # doctest: +SKIP
    PosixPath('out/violations.gpkg')
    """
    path = Path(path)
    with atomic_path(path, inputs=_with_sources(inputs, *layers.values())) as tmp:
        for name, gdf in layers.items():
            data, arrow = _dates_for_gpkg(gdf.copy())
            try:
                pyogrio.write_dataframe(data, tmp, layer=name, driver="GPKG", append=tmp.exists(), use_arrow=arrow)
            except (pyogrio.errors.DataSourceError, pyogrio.errors.FieldError, OSError) as exc:
                raise OutputError("cannot write the layer", path=path, layer=name, found=str(exc)[:200]) from None
    return path


#: First characters that make a spreadsheet read a cell as a formula (OWASP CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralize_formulas(table: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that a spreadsheet would run as a formula with a single quote.

    OWASP's advice for CSV injection: a text cell starting with ``=``, ``+``, ``-``,
    ``@``, a tab or a carriage return gets a leading ``'``, so Excel/WPS show it as
    text. Number columns are left alone (``-5`` stays the number -5). A text cell that
    looks like a negative number (``"-5"``) is text in the table, so it is neutralised
    too, as OWASP recommends (it reads back as ``'-5``): number values belong in number
    columns.

    Parameters
    ----------
    table : DataFrame
        The table to write.

    Returns
    -------
    DataFrame
        A copy with text cells neutralised (column names too).

    Examples
    --------
    >>> neutralize_formulas(pd.DataFrame({"河长": ["=HYPERLINK(1)", "王伟"], "n": [-5, 2]})).iloc[0].tolist()
    ["'=HYPERLINK(1)", -5]
    """
    out = table.copy()
    for col in out.columns:
        values = out[col]
        if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values):
            continue
        if isinstance(values.dtype, pd.CategoricalDtype):
            values = values.astype(object)
        out[col] = values.map(_neutral_cell)
    out.columns = [_neutral_cell(c) for c in out.columns]
    return out


def _neutral_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def write_table(
    df: pd.DataFrame, path: str | os.PathLike, *, inputs: Iterable[str | os.PathLike] | None = None
) -> Path:
    """Write a table for people: CSV as UTF-8 with BOM (Excel-safe), or XLSX; atomically.

    Text cells that a spreadsheet would run as a formula are neutralised
    (:func:`neutralize_formulas`). An XLSX gets a bold, frozen header and column widths.

    Parameters
    ----------
    df : DataFrame
        The table (a geometry column is dropped).
    path : path-like
        ``.csv`` or ``.xlsx`` output.
    inputs : iterable of path-like, optional
        The command's inputs (see :func:`check_output_path`).

    Returns
    -------
    Path
        The written path.

    Raises
    ------
    OutputError
        If ``path`` is an input, has another suffix, or cannot be written.

    Examples
    --------
    >>> write_table(pd.DataFrame({"河道": ["洪林河"]}), "out/report.csv")  # doctest: +SKIP
    PosixPath('out/report.csv')
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return write_tables({"Sheet1": df}, path, inputs=inputs)
    if suffix != ".csv":
        raise OutputError("unsupported table type", path=path, expected=".csv or .xlsx", found=repr(path.suffix),
                          fix="name the output .csv or .xlsx")
    table = neutralize_formulas(pd.DataFrame(df.drop(columns="geometry", errors="ignore")))
    with atomic_path(path, inputs=_with_sources(inputs, df)) as tmp:
        # CRLF rows (RFC 4180, what Excel writes): cells holding a bare CR or LF get quoted.
        table.to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    return path


def write_tables(
    tables: Mapping[str, pd.DataFrame],
    path: str | os.PathLike,
    *,
    inputs: Iterable[str | os.PathLike] | None = None,
) -> Path:
    """Write tables into one XLSX workbook, one sheet per table, atomically.

    Every sheet has a bold, frozen header row and column widths fitted to the
    content (CJK characters count double); text cells that would run as formulas are
    neutralised; time zones are dropped from timestamps (Excel has none) after
    converting to the values' own zone.

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Sheet name → table (a geometry column is dropped). Sheet names are cut to
        Excel's 31 characters.
    path : path-like
        The ``.xlsx`` output.
    inputs : iterable of path-like, optional
        The command's inputs (see :func:`check_output_path`).

    Returns
    -------
    Path
        The written path.

    Raises
    ------
    OutputError
        If ``path`` is an input, not ``.xlsx``, or cannot be written.
    ConfigError
        If two sheet names clash or a name holds characters Excel forbids.

    Examples
    --------
    >>> write_tables({"河道": rivers_table, "断面": sections_table}, "out/report.xlsx")  # doctest: +SKIP
    PosixPath('out/report.xlsx')
    """
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise OutputError("unsupported workbook type", path=path, expected=".xlsx", found=repr(path.suffix),
                          fix="name the output .xlsx")
    sheets = _sheet_names(tables)
    with atomic_path(path, inputs=_with_sources(inputs, *tables.values())) as tmp:
        _write_workbook({sheets[k]: v for k, v in tables.items()}, tmp)
    return path


_BAD_SHEET_CHARS = set("[]:*?/\\")


def _sheet_names(tables: Mapping[str, pd.DataFrame]) -> dict[str, str]:
    names: dict[str, str] = {}
    for key in tables:
        name = str(key)[:31]
        if not name or set(name) & _BAD_SHEET_CHARS or name in names.values():
            raise ConfigError("bad sheet name", field="sheet", expected="unique names of 1–31 characters without []:*?/\\",
                              found=repr(key), fix="rename the table")
        names[key] = name
    return names


def _xlsx_frame(df: pd.DataFrame) -> pd.DataFrame:
    table = neutralize_formulas(pd.DataFrame(df.drop(columns="geometry", errors="ignore")))
    for col in table.columns:
        if isinstance(table[col].dtype, pd.DatetimeTZDtype):
            table[col] = table[col].dt.tz_localize(None)
    return table


def _display_width(value: Any) -> int:
    text = str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _write_workbook(tables: Mapping[str, pd.DataFrame], tmp: Path) -> None:
    """One sheet per table: bold frozen header, fitted column widths (openpyxl)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    for name, df in tables.items():
        table = _xlsx_frame(df)
        sheet = book.create_sheet(title=name)
        sheet.append([str(c) for c in table.columns])
        for row in table.itertuples(index=False):
            sheet.append([None if _missing(v) else v for v in row])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        for k, col in enumerate(table.columns, start=1):
            sample = [col, *table[col].head(1000).tolist()]
            width = max(_display_width(v) for v in sample if not _missing(v)) if len(sample) else 8
            sheet.column_dimensions[get_column_letter(k)].width = min(max(width + 2, 6), 60)
    book.save(tmp)


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
