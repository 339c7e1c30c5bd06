"""Shared by every report: staged outputs, safe file names, output and map options, table writing."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import pandas as pd

from ..errors import ConfigError, OutputError
from ..io import (
    check_output_dir,
    check_output_path,
    write_layers,
    write_table,
    write_tables,
)

#: A callback told the name of each step as a report computes or writes.
Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    """Progress callback that says nothing."""


# --- outputs that appear together ------------------------------------------------------


def _check_destinations(staging: Path, out_dir: Path, inputs: Iterable[Path]) -> list[tuple[Path, Path]]:
    """(staged file, final path) pairs, each final path checked by :func:`dongping_geo.io.check_output_path`."""
    inputs = list(inputs)
    moves = []
    for src in sorted(p for p in staging.rglob("*") if p.is_file()):
        final = out_dir / src.relative_to(staging)
        check_output_path(final, inputs=inputs)
        moves.append((src, final))
    return moves


@contextlib.contextmanager
def staged_outputs(out_dir: str | os.PathLike, *, inputs: Iterable[Path] = ()) -> Iterator[Path]:
    """Yield a staging folder; when the block succeeds, move its files into ``out_dir``.

    The staging folder lies beside ``out_dir`` (same file system, so each move is an
    atomic rename). If the block raises, nothing in ``out_dir`` changes.

    Parameters
    ----------
    out_dir : path-like
        The output folder (created if needed).
    inputs : iterable of Path
        Files and folders the command read: no output may land on them or inside them
        (checked before anything is written, and again for every file moved in).

    Yields
    ------
    Path
        The staging folder to write into, laid out as ``out_dir`` will be.

    Raises
    ------
    OutputError
        If ``out_dir`` cannot be created or written, or an output would replace an input.
    """
    out = Path(out_dir)
    inputs = list(inputs)
    check_output_dir(out, inputs=inputs)  # the folder: not an input, not inside one, writable
    try:
        out.mkdir(parents=True, exist_ok=True)
        staging = out.parent / f".{out.name}.staging-{uuid.uuid4().hex[:8]}"
        staging.mkdir()
    except OSError as exc:
        raise OutputError(
            "cannot write the output folder", path=out, expected="a writable folder",
            found=exc.strerror or type(exc).__name__, fix="choose a folder you can write to",
        ) from None
    try:
        yield staging
        for src, final in _check_destinations(staging, out, inputs):
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def write_rejected(rejected: pd.DataFrame | None, stage: Path) -> list[str]:
    """Write ``rejected.csv`` into a staging folder when the rows were asked for.

    Parameters
    ----------
    rejected : DataFrame or None
        The rows the loaders set aside (``on_error="report"``); ``None`` writes nothing.
    stage : Path
        The staging folder of :func:`staged_outputs`.

    Returns
    -------
    list of str
        The names written (``["rejected.csv"]`` or ``[]``).
    """
    if rejected is None:
        return []
    return [write_table(pd.DataFrame(rejected), stage / "rejected.csv").name]


_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                     *(f"LPT{i}" for i in range(1, 10))}


def safe_filename(name: object, taken: set[str], *, max_chars: int = 60) -> str:
    """Make a file-name stem safe on Linux, macOS and Windows, keeping Chinese characters.

    Drops control characters, path separators and characters Windows reserves,
    trims dots and spaces, avoids reserved device names (CON, NUL, COM1 …), limits
    the length (UTF-8 names must stay under 255 bytes) and dedupes
    case-insensitively against ``taken`` (which it updates) with ``-2``, ``-3`` ….

    Parameters
    ----------
    name : object
        The text to turn into a file name, e.g. a chief's name.
    taken : set of str
        Case-folded stems already used; the result is added.
    max_chars : int, default 60
        Longest stem kept.

    Returns
    -------
    str
        A safe, unique stem (without suffix).

    Examples
    --------
    >>> safe_filename("../王 河长", set())
    '.._王 河长'
    """
    text = unicodedata.normalize("NFC", "" if name is None or name != name else str(name))
    text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("C"))
    text = re.sub(r'[<>:"/\\|?*]+', "_", text)
    text = re.sub(r"\s+", " ", text).strip(" ._")[:max_chars].strip(" ._")
    if not text:
        text = "unnamed"
    if text.split(".")[0].upper() in _WINDOWS_RESERVED:
        text = "_" + text
    stem, n = text, 1
    while stem.casefold() in taken:
        n += 1
        stem = f"{text}-{n}"
    taken.add(stem.casefold())
    return stem


# --- outputs for people: tables in the reader's language, charts, styled layers -------------

Lang = Literal["both", "zh", "en"]
TableFormat = Literal["csv", "xlsx"]


@dataclass
class OutputOptions:
    """How a report writes its tables (the command line's --lang and --format).

    Attributes
    ----------
    lang : {"both", "zh", "en"}
        Language of the table headers and values (:func:`dongping_geo.tables.localize_table`),
        of the chart labels and of the legends in the GeoPackages' styles.
    table_format : {"csv", "xlsx"}
        One UTF-8 CSV (with BOM) per table, or one workbook per report with a sheet per table.
    """

    lang: Lang = "both"
    table_format: TableFormat = "csv"

    def __post_init__(self) -> None:
        """Refuse an unknown language or format."""
        if self.lang not in ("both", "zh", "en"):
            raise ConfigError("unknown table language", field="lang", expected="both, zh or en",
                              found=repr(self.lang), fix="pass lang='both', 'zh' or 'en'")
        if self.table_format not in ("csv", "xlsx"):
            raise ConfigError("unknown table format", field="format", expected="csv or xlsx",
                              found=repr(self.table_format), fix="pass table_format='csv' or 'xlsx'")


#: A table to write: (data with canonical names and codes, schema layer of its fields or None).
TableSpec = tuple[pd.DataFrame, str | None]


def write_report_tables(
    stage: Path, tables: dict[str, TableSpec], *, workbook: str, options: OutputOptions
) -> list[str]:
    """Translate tables once (:func:`~dongping_geo.tables.localize_table`) and write them.

    Parameters
    ----------
    stage : Path
        Folder to write into.
    tables : dict of str to (DataFrame, str or None)
        File stem (CSV) or sheet name (XLSX) to the table and the schema layer of its fields.
    workbook : str
        Stem of the workbook when ``options.table_format == "xlsx"``.
    options : OutputOptions
        Language and format.

    Returns
    -------
    list of str
        Names of the files written, relative to ``stage``.
    """
    from ..tables import localize_table

    people = {stem: localize_table(df, lang=options.lang, layer=layer) for stem, (df, layer) in tables.items()}
    if options.table_format == "xlsx":
        return [write_tables(people, stage / f"{workbook}.xlsx").name]
    return [write_table(table, stage / f"{stem}.csv").name for stem, table in people.items()]


def write_styled_layers(layers: dict[str, gpd.GeoDataFrame], path: Path, *, lang: Lang = "both") -> Path:
    """Write layers into a GeoPackage and give each its default QGIS style.

    Parameters
    ----------
    layers : dict of str to GeoDataFrame
        Layer name to data (see :func:`dongping_geo.io.write_layers`).
    path : Path
        The ``.gpkg`` output.
    lang : {"both", "zh", "en"}, default "both"
        Legend labels (:func:`dongping_geo.qgis_styles.style_geopackage`).

    Returns
    -------
    Path
        The GeoPackage.
    """
    from ..qgis_styles import style_geopackage

    write_layers(layers, path)
    return style_geopackage(path, lang=lang)


def save_charts(stage: Path, charts: dict[str, Callable[[], Any]]) -> list[str]:
    """Draw each chart and write it as PNG; close the figures.

    Parameters
    ----------
    stage : Path
        Folder to write into.
    charts : dict of str to callable
        Relative file stem (``charts/compliance``) to a function returning a matplotlib Figure.

    Returns
    -------
    list of str
        Names of the PNG files written, relative to ``stage``.
    """
    from ..charts import save_png

    names = []
    for stem, draw in charts.items():
        path = stage / f"{stem}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        fig = draw()
        save_png(fig, path)
        fig.clear()
        names.append(f"{stem}.png")
    return names


@dataclass
class MapOptions:
    """How a report draws its maps (the command line's --basemap, --offline, --tianditu-token).

    Attributes
    ----------
    basemap : str
        A key of :data:`dongping_geo.maps.BASEMAPS`.
    tianditu_token : str or None
        Tianditu key.
    offline : bool
        Inline Leaflet so the HTML opens without internet.
    """

    basemap: str = "osm"
    tianditu_token: str | None = None
    offline: bool = False
