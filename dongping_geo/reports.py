"""Reports: each computed once from the analyses, then written as tables, layers and maps.

The presentation layer's report objects sit between the analyses and the command line:

* :class:`PatrolReport` — coverage, uncovered stretches, compliance and tracks from
  one :func:`dongping_geo.patrol.analyse` (tracks and rivers are intersected once);
  writes the tables, ``uncovered.gpkg``, one map per chief (river, region) and an
  index page.
* :class:`WaterQualityReport` — the GB 3838-2002 assessment of sections and rivers
  and the compliance summary, with the water-quality map.
* :class:`LanduseReport` — the land-use checks of a building survey (red lines,
  farmland, setbacks, rebuilt sites, land-cover change), with the violations map.
* :class:`CatchmentsReport` — section catchments, the land cover behind each
  section's class, greening candidates and the small-watershed sheet, with the map.

Every ``write`` puts its files in a staging folder beside the target and moves them
in only when all were written (:func:`staged_outputs`): a report's files appear
together or not at all, and none may replace a file the report read.
"""

from __future__ import annotations

import contextlib
import html
import os
import re
import shutil
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import geopandas as gpd
import pandas as pd

from .errors import ConfigError, OutputError
from .io import (
    atomic_path,
    check_output_dir,
    check_output_path,
    write_layers,
    write_table,
    write_tables,
)
from .schemas import CATEGORY_LABELS, get_schema

__all__ = [
    "CatchmentsReport",
    "LANDUSE_CHECKS",
    "DemolitionReport",
    "LANDUSE_CHECK_LAYERS",
    "LandAccountsReport",
    "LanduseReport",
    "OutputOptions",
    "PatrolReport",
    "ProblemsReport",
    "WaterQualityReport",
    "safe_filename",
    "staged_outputs",
    "write_rejected",
]

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
    from .tables import localize_table

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
    from .qgis_styles import style_geopackage

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
    from .charts import save_png

    names = []
    for stem, draw in charts.items():
        path = stage / f"{stem}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        fig = draw()
        save_png(fig, path)
        fig.clear()
        names.append(f"{stem}.png")
    return names


# --- patrol report ---------------------------------------------------------------------


def _patrol_groups(rivers: gpd.GeoDataFrame, by: str) -> list[tuple[str, list[Any]]]:
    """(label, river ids) per map: one per chief, river or region."""
    from .maps.styles import VALUE_LABELS

    unassigned = "未指定 Unassigned"
    if by == "river":
        names = rivers["name"] if "name" in rivers.columns else rivers["river_id"]
        return [(f"{n} {rid}" if n == n and n is not None else str(rid), [rid])
                for rid, n in zip(rivers["river_id"], names, strict=True)]
    col = "chief" if by == "chief" else "region"
    if col not in rivers.columns:
        return [(unassigned, list(rivers["river_id"]))]
    keys = rivers[col].astype(object).where(rivers[col].notna(), unassigned)
    if by == "region":
        keys = keys.map(lambda k: VALUE_LABELS.get("region", {}).get(k, k))
    return [(str(k), list(ids)) for k, ids in rivers.groupby(keys.to_numpy(), sort=True)["river_id"]]


def _index_html(rows: list[dict[str, Any]], *, title: str, by: str, note: str = "") -> str:
    """index.html text: one row per map, escaped text and URL-quoted links."""
    head = {"chief": "河长 Chief", "river": "河道 River", "region": "片区 Region"}[by]
    body = "".join(
        "<tr><td><a href=\"{href}\">{label}</a></td><td>{rivers}</td><td>{cov}</td>"
        "<td>{ok}</td><td class=\"missed\">{missed}</td><td>{gaps}</td></tr>".format(
            href=html.escape(quote(r["file"]), quote=True), label=html.escape(r["label"]),
            rivers=r["rivers"], cov=html.escape(r["coverage"]), ok=html.escape(r["compliant"]),
            missed="<br>".join(f"{html.escape(n)}: {html.escape(p)}" for n, p in r.get("missed", [])),
            gaps=html.escape(r.get("stretches", "")),
        )
        for r in rows
    )
    return (
        "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:'Noto Sans CJK SC',sans-serif;margin:2em}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 10px}"
        "th{background:#eee}td.missed{color:#b2182b}"
        "@media print{@page{size:A4 landscape;margin:10mm}body{margin:0;font-size:9pt}}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>"
        f"<table><thead><tr><th>{head}</th><th>河道数 Rivers</th><th>覆盖率 Coverage</th>"
        f"<th>巡河达标 Compliant</th><th>未达标河道与时段 Rivers and periods missed</th>"
        f"<th>未巡河段 Stretches to patrol</th></tr></thead><tbody>{body}</tbody></table>"
        f"{note}<p>coverage.csv, compliance.csv, uncovered.gpkg: see this folder. "
        "Synthetic sample data unless stated otherwise.</p></body></html>\n"
    )


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


@dataclass
class PatrolReport:
    """Patrol coverage and compliance of the river chiefs, computed once.

    Make it with :meth:`compute`; write it with :meth:`write`.

    Attributes
    ----------
    rivers : GeoDataFrame
        The rivers assessed.
    fixes : GeoDataFrame
        The cleaned GPS fixes.
    dropped : GeoDataFrame
        Fixes dropped by cleaning, with the reason, in the period only.
    coverage : DataFrame
        :func:`dongping_geo.patrol.river_coverage` table.
    uncovered : GeoDataFrame
        :func:`dongping_geo.patrol.uncovered_segments` lines.
    compliance : Compliance
        :func:`dongping_geo.patrol.compliance` tables.
    tracks : GeoDataFrame
        Patrol tracks of the period (LineStrings), for the maps.
    start, end : str
        The period, as given.
    quality : DataFrame or None
        :func:`dongping_geo.problems.patrol_quality` of the period's patrols.
    problems, signboards : GeoDataFrame or None
        When given, each map shows its rivers' open and overdue problems and signboards.
    """

    rivers: gpd.GeoDataFrame
    fixes: gpd.GeoDataFrame
    dropped: gpd.GeoDataFrame
    coverage: pd.DataFrame
    uncovered: gpd.GeoDataFrame
    compliance: Any
    tracks: gpd.GeoDataFrame
    start: str
    end: str
    quality: pd.DataFrame | None = None
    problems: gpd.GeoDataFrame | None = None
    signboards: gpd.GeoDataFrame | None = None
    town: Any = None  # the town boundary: context on the chiefs' maps

    @classmethod
    def compute(
        cls,
        rivers: gpd.GeoDataFrame,
        fixes: gpd.GeoDataFrame,
        *,
        start: str,
        end: str,
        tolerance_m: float = 30.0,
        rules: Any = None,
        area: Any = None,
        engine: str = "memory",
        progress: Progress = _quiet,
        layers: Mapping[str, gpd.GeoDataFrame | None] | None = None,
    ) -> PatrolReport:
        """Clean the fixes, intersect tracks with rivers once, and derive every table.

        Parameters
        ----------
        rivers, fixes : GeoDataFrame
            As for :func:`dongping_geo.patrol.river_coverage`.
        start, end : str
            The period (``end`` included).
        tolerance_m : float, default 30
            A river counts as inspected within this distance of a track.
        rules : dict, str or Path, optional
            Patrol rules, see :func:`dongping_geo.patrol.load_rules`.
        area : geometry or GeoDataFrame, optional
            The town boundary: fixes outside it are dropped.
        engine : {"memory", "dask"}, default "memory"
            ``"dask"`` intersects tracks and rivers on the current dask scheduler; every
            table derives from that one distributed analysis.
        progress : callable, optional
            Told the name of each step.
        layers : mapping, optional
            ``{"problems": ..., "signboards": ...}``: problems found on patrol and
            signboards to show on the chiefs' maps.

        Returns
        -------
        PatrolReport
            The computed report.
        """
        from . import patrol
        from ._patrol_quality import QualityRules, quality_table
        from .problems import patrol_quality

        rules = patrol.load_rules(rules)  # bad rules fail before the slow work
        progress("cleaning GPS fixes")
        cleaned, dropped = patrol.clean_fixes(fixes, area=area)
        lo, hi = patrol.period_bounds(start, end)
        progress("intersecting tracks with rivers")
        analysis = patrol.analyse(rivers, cleaned, tolerance_m=tolerance_m, start=lo,
                                  end=hi - pd.Timedelta(microseconds=1), engine=engine)
        coverage = analysis.coverage()
        progress("checking patrol frequency")
        in_period = ((cleaned["timestamp"] >= lo) & (cleaned["timestamp"] < hi)).to_numpy()
        stamps = pd.to_datetime(dropped["timestamp"], utc=True) if len(dropped) else pd.Series([], dtype=object)
        dropped_in = dropped[((stamps >= lo) & (stamps < hi)).to_numpy()] if len(dropped) else dropped
        return cls(
            rivers=analysis.rivers, fixes=cleaned, dropped=dropped_in, coverage=coverage,
            uncovered=analysis.uncovered(min_length_m=1.0), compliance=analysis.compliance(rules=rules),
            tracks=patrol.patrol_tracks(cleaned[in_period]), start=str(start), end=str(end),
            # The quality flags need each patrol's fixes: from the one analysis in memory; on
            # dask the analysis keeps no tracks, so they take one in-memory pass of their own.
            quality=(quality_table(analysis, QualityRules()) if analysis.tracks is not None else
                     patrol_quality(cleaned, rivers, tolerance_m=tolerance_m, start=lo,
                                    end=hi - pd.Timedelta(microseconds=1))),
            problems=(layers or {}).get("problems"), signboards=(layers or {}).get("signboards"),
            town=area,
        )

    def tables(self) -> dict[str, TableSpec]:
        """Return the report's tables by file stem, each with the schema layer of its fields.

        Returns
        -------
        dict of str to (DataFrame, str or None)
            ``coverage``, ``compliance``, ``compliance_by_chief``, ``dropped_fixes``, with
            canonical names and codes (translated when written).
        """
        tables: dict[str, TableSpec] = {
            "coverage": (self.coverage, "rivers"),
            "compliance": (self.compliance.by_river, "rivers"),
            "compliance_by_chief": (self.compliance.by_chief, "rivers"),
            "dropped_fixes": (pd.DataFrame(self.dropped.drop(columns="geometry")), "patrols"),
        }
        if self.quality is not None:
            tables["patrol_quality"] = (self.quality, "patrols")
        return tables

    def _group_map(self, label: str, ids: list[Any], by: str, options: MapOptions) -> Any:
        from .maps import coverage_map

        sub_rivers = self.rivers[self.rivers["river_id"].isin(ids).to_numpy()]
        tracks = self.tracks
        if by == "chief" and "chief" in tracks.columns and "chief" in sub_rivers.columns:
            tracks = tracks[tracks["chief"].isin(set(sub_rivers["chief"].dropna())).to_numpy()]
        elif len(tracks):  # only the tracks near these rivers
            x0, y0, x1, y1 = sub_rivers.total_bounds
            tracks = tracks.cx[x0 - 200:x1 + 200, y0 - 200:y1 + 200]
        by_river = self.compliance.by_river
        m = coverage_map(
            sub_rivers, self.coverage[self.coverage["river_id"].isin(ids)],
            uncovered=self.uncovered[self.uncovered["river_id"].isin(ids)], fixes=tracks,
            compliance=by_river[by_river["river_id"].isin(ids)],
            basemap=options.basemap, tianditu_token=options.tianditu_token,
            title=f"{label} 巡河覆盖 Patrol coverage {self.start} – {self.end}",
        )
        self._add_context(m, ids)
        if self.problems is not None or self.signboards is not None:
            self._add_problems(m, ids)
        return m

    def _add_context(self, m: Any, ids: list[Any]) -> None:
        """Draw the town boundary and the other chiefs' rivers, faint, for orientation."""
        from .maps import add_lines, add_polygons

        others = self.rivers[~self.rivers["river_id"].isin(ids).to_numpy()]
        if isinstance(self.town, gpd.GeoDataFrame) and len(self.town):
            add_polygons(m, self.town, name="镇界 Town boundary", colour="#777777", weight=1.0,
                         fill_opacity=0.0, legend=False, tolerance_m=5.0)
        if len(others):
            add_lines(m, others, name="其他河道 Other rivers", colour="#9e9e9e", weight=1.0, opacity=0.5,
                      tooltip=[c for c in ("name", "chief") if c in others.columns], legend=False,
                      tolerance_m=5.0)

    def _add_problems(self, m: Any, ids: list[Any]) -> None:
        """Add the group's open/overdue problems (as of the period's end) and signboards to a map."""
        from .maps import add_problem_layers
        from .patrol import period_bounds

        def mine(layer: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
            return None if layer is None or "river_id" not in layer.columns else layer[layer["river_id"].isin(ids).to_numpy()]

        as_of = period_bounds(self.start, self.end)[1] - pd.Timedelta(microseconds=1)
        add_problem_layers(m, mine(self.problems), signboards=mine(self.signboards), as_of=as_of)

    def _index_row(self, label: str, ids: list[Any], file: str) -> dict[str, Any]:
        cov = self.coverage[self.coverage["river_id"].isin(ids)]
        length = float(cov["length_m"].sum())
        share = float(cov["covered_m"].sum()) / length if length else 0.0
        rule = self.compliance.by_river[self.compliance.by_river["river_id"].isin(ids)]
        ok = rule["compliant"]
        missed = rule[ok.eq(False).fillna(False).to_numpy(dtype=bool)]
        gaps = self.uncovered[self.uncovered["river_id"].isin(ids)]
        return {"label": label, "file": file, "rivers": len(ids), "coverage": f"{share:.0%}",
                "compliant": f"{int(ok.eq(True).sum())}/{int(ok.notna().sum())}",
                "missed": [(str(n if n == n and n else rid), ", ".join(map(str, p)))
                           for rid, n, p in zip(missed["river_id"], missed.get("name", missed["river_id"]),
                                                missed["missed_periods"], strict=True)],
                "stretches": f"{len(gaps)}, {gaps['length_m'].sum():,.0f} m" if len(gaps) else "0"}

    def write(
        self,
        out_dir: str | os.PathLike,
        *,
        by: str = "chief",
        map_options: MapOptions | None = None,
        output: OutputOptions | None = None,
        inputs: Iterable[Path] = (),
        progress: Progress = _quiet,
        rejected: pd.DataFrame | None = None,
    ) -> list[Path]:
        """Write the tables, ``compliance.png``, ``uncovered.gpkg``, one map per group and ``index.html``.

        Parameters
        ----------
        out_dir : path-like
            Output folder.
        by : {"chief", "river", "region"}, default "chief"
            One map per river chief, river or region.
        map_options : MapOptions, optional
            Basemap and offline settings.
        output : OutputOptions, optional
            Table language and format (default: both languages, CSV).
        inputs : iterable of Path
            Files and folders read: never written over.
        progress : callable, optional
            Told the name of each file written.
        rejected : DataFrame, optional
            Rows the loaders set aside (``on_error="report"``): written as
            ``rejected.csv`` with the other outputs (even when empty).

        Returns
        -------
        list of Path
            The files written (final paths).
        """
        from .charts import patrol_compliance_chart
        from .maps import save_map

        options = map_options or MapOptions()
        output = output or OutputOptions()
        out = Path(out_dir)
        with staged_outputs(out, inputs=inputs) as stage:
            names = write_report_tables(stage, self.tables(), workbook="patrol_report", options=output)
            names += save_charts(stage, {"compliance": lambda: patrol_compliance_chart(self.compliance,
                                                                                        lang=output.lang)})
            names.append(write_styled_layers({"uncovered": self.uncovered}, stage / "uncovered.gpkg",
                                             lang=output.lang).name)
            taken: set[str] = {"index"}
            rows = []
            for label, ids in _patrol_groups(self.rivers, by):
                name = f"maps/{safe_filename(label, taken)}.html"
                progress(name)
                save_map(self._group_map(label, ids, by, options), stage / name, offline=options.offline)
                rows.append(self._index_row(label, ids, name))
            title = f"河长巡河报告 Patrol report {self.start} – {self.end}"
            with atomic_path(stage / "index.html") as tmp:
                tmp.write_text(_index_html(rows, title=title, by=by, note=self._quality_note()), encoding="utf-8")
            names += [r["file"] for r in rows] + ["index.html"] + write_rejected(rejected, stage)
        return [out / n for n in names]

    def summary(self) -> str:
        """One line for the terminal: coverage, rivers missing their rule, fixes dropped.

        Returns
        -------
        str
            The summary line.
        """
        total = self.coverage["length_m"].sum()
        share = self.coverage["covered_m"].sum() / total if total else 0.0
        return (f"{len(self.rivers)} rivers, {share:.1%} of {total / 1000:.1f} km covered; "
                f"{self.n_missing_rule} rivers miss their patrol rule; {len(self.dropped)} fixes dropped")

    @property
    def n_flagged(self) -> int:
        """Number of patrols of the period with a patrol-quality flag (0 when not computed)."""
        return 0 if self.quality is None else int(self.quality["flagged"].sum())

    def _quality_note(self) -> str:
        if self.quality is None:
            return ""
        return (f"<p>巡河质量存疑 Flagged patrols: {self.n_flagged} / {len(self.quality)} "
                "(patrol_quality.csv; rules in docs/problems.md)</p>")

    @property
    def n_missing_rule(self) -> int:
        """Number of rivers that miss their patrol rule."""
        return int(self.compliance.by_river["compliant"].eq(False).sum())


# --- problems report (issue 15) ----------------------------------------------------------


@dataclass
class ProblemsReport:
    """Problems found on patrol and signboards over a period, computed once.

    Make it with :meth:`compute`; write it with :meth:`write`.

    Attributes
    ----------
    summaries : dict of str to DataFrame
        :func:`dongping_geo.problems.problem_summary` of the problems reported in the
        period: ``all``, ``by_river``, ``by_chief``, ``by_month`` and, when the rivers
        have a region, ``by_region``.
    overdue : GeoDataFrame
        Problems open ``overdue_days`` or more as of the period's end (reported then or before).
    recurring : DataFrame
        Re-check failures reported in the period.
    hotspots : GeoDataFrame
        Problem stretches of the period, worst first.
    board_checks : DataFrame or None
        :func:`dongping_geo.problems.check_signboards` findings (None without signboards).
    problems, rivers, signboards : GeoDataFrame
        The layers, for the map (problems up to the period's end).
    start, end : str
        The period, as given.
    as_of : Timestamp
        The end of the period's last day: the state assessed.
    overdue_days : float
        The overdue rule.
    """

    summaries: dict[str, pd.DataFrame]
    overdue: gpd.GeoDataFrame
    recurring: pd.DataFrame
    hotspots: gpd.GeoDataFrame
    board_checks: pd.DataFrame | None
    problems: gpd.GeoDataFrame
    rivers: gpd.GeoDataFrame
    signboards: gpd.GeoDataFrame | None
    start: str
    end: str
    as_of: pd.Timestamp
    overdue_days: float = 7

    @classmethod
    def compute(
        cls,
        problems: gpd.GeoDataFrame,
        rivers: gpd.GeoDataFrame,
        *,
        start: str,
        end: str,
        signboards: gpd.GeoDataFrame | None = None,
        overdue_days: float = 7,
        progress: Progress = _quiet,
    ) -> ProblemsReport:
        """Summarise the problems of a period and check the signboards.

        Parameters
        ----------
        problems : GeoDataFrame
            As from :func:`dongping_geo.load_problems`.
        rivers : GeoDataFrame
            The rivers (river_id, name, chief).
        start, end : str
            The period (``end`` included); the state is assessed at the end of ``end``.
        signboards : GeoDataFrame, optional
            As from :func:`dongping_geo.load_signboards`.
        overdue_days : float, default 7
            Days after which an open problem is overdue.
        progress : callable, optional
            Told the name of each step.

        Returns
        -------
        ProblemsReport
            The computed report.
        """
        from . import problems as pr
        from .patrol import period_bounds
        from .schemas import parse_datetime

        lo, hi = period_bounds(start, end)
        as_of = hi - pd.Timedelta(microseconds=1)
        if "reported_at" not in problems.columns:  # the analysis names what is missing
            pr.problem_summary(problems, rivers)
        reported, _ = parse_datetime(problems["reported_at"].reset_index(drop=True))
        upto = problems[(reported < hi).to_numpy()]
        period = problems[((reported >= lo) & (reported < hi)).to_numpy()]
        progress("summarising problems")
        kw = {"overdue_days": overdue_days, "as_of": as_of}
        summaries = {
            "all": pr.problem_summary(period, rivers, by=(), **kw),
            "by_river": pr.problem_summary(period, rivers, by=("river_id", "name", "chief"), **kw),
            "by_chief": pr.problem_summary(period, rivers, by=("chief",), **kw),
            **({"by_region": pr.problem_summary(period, rivers, by=("region",), **kw)}
               if "region" in rivers.columns else {}),
            "by_month": pr.problem_summary(period, rivers, by=("month",), **kw),
        }
        progress("overdue and recurring problems")
        recurring = pr.recurring_problems(upto)
        recurring = recurring[(recurring["reported_at"] >= lo).to_numpy()].reset_index(drop=True)
        checks = pr.check_signboards(signboards, rivers, as_of=as_of) if signboards is not None else None
        return cls(summaries=summaries, overdue=pr.overdue_problems(upto, rivers, **kw), recurring=recurring,
                   hotspots=pr.problem_hotspots(period, rivers), board_checks=checks, problems=upto,
                   rivers=rivers, signboards=signboards, start=str(start), end=str(end), as_of=as_of,
                   overdue_days=overdue_days)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Return the report's tables by file stem (geometry dropped).

        Returns
        -------
        dict of str to (DataFrame, str or None)
            ``problem_summary``, ``problems_by_river``, ``problems_by_chief``,
            ``problems_by_month``, ``problems_by_region`` (with regions), ``overdue``,
            ``recurring``, ``hotspots`` and, with signboards, ``signboard_check``; each with
            the schema layer of its fields (translated when written).
        """
        def plain(df: pd.DataFrame) -> pd.DataFrame:
            return pd.DataFrame(df.drop(columns=df.geometry.name)) if isinstance(df, gpd.GeoDataFrame) else df

        s = self.summaries
        out: dict[str, TableSpec] = {
            "problem_summary": (s["all"], "problems"), "problems_by_river": (s["by_river"], "problems"),
            "problems_by_chief": (s["by_chief"], "problems"), "problems_by_month": (s["by_month"], "problems"),
            **({"problems_by_region": (s["by_region"], "problems")} if "by_region" in s else {}),
            "overdue": (plain(self.overdue), "problems"), "recurring": (self.recurring, "problems"),
            "hotspots": (plain(self.hotspots), "rivers"),
        }
        if self.board_checks is not None:
            out["signboard_check"] = (self.board_checks, "signboards")
        return out

    def write(
        self,
        out_dir: str | os.PathLike,
        *,
        map_options: MapOptions | None = None,
        output: OutputOptions | None = None,
        inputs: Iterable[Path] = (),
        rejected: pd.DataFrame | None = None,
        progress: Progress = _quiet,
    ) -> list[Path]:
        """Write the tables (in the reader's language), a styled ``problems.gpkg`` and ``problems_map.html``.

        Parameters
        ----------
        out_dir : path-like
            Output folder.
        map_options : MapOptions, optional
            Basemap and offline settings.
        output : OutputOptions, optional
            Language and format of the tables (default: both languages, CSV).
        inputs : iterable of Path
            Files and folders read: never written over.
        rejected : DataFrame, optional
            Rows the loaders set aside (``--on-error report``): written as rejected.csv.
        progress : callable, optional
            Told the name of each file written.

        Returns
        -------
        list of Path
            The files written (final paths).
        """
        from .maps import problems_map, save_map

        options = map_options or MapOptions()
        out = Path(out_dir)
        names: list[str] = []
        output = output or OutputOptions()
        with staged_outputs(out, inputs=inputs) as stage:
            progress("tables")
            names += write_report_tables(stage, self.tables(), workbook="problems", options=output)
            names += write_rejected(rejected, stage)
            layers = {k: v for k, v in {"overdue": self.overdue, "hotspots": self.hotspots}.items() if len(v)}
            if layers:
                names.append(write_styled_layers(layers, stage / "problems.gpkg", lang=output.lang).name)
            m = problems_map(self.problems, self.rivers, signboards=self.signboards, board_checks=self.board_checks,
                             hotspots=self.hotspots, as_of=self.as_of, overdue_days=self.overdue_days,
                             basemap=options.basemap, tianditu_token=options.tianditu_token,
                             title=f"巡河问题 Problems {self.start} – {self.end}")
            progress("problems_map.html")
            save_map(m, stage / "problems_map.html", offline=options.offline)
            names.append("problems_map.html")
        return [out / n for n in names]

    def summary(self) -> str:
        """One line for the terminal: problems, open, overdue, recurring, signboard findings.

        Returns
        -------
        str
            The summary line.
        """
        row = self.summaries["all"].iloc[0] if len(self.summaries["all"]) else None
        n, n_open = (int(row["problems"]), int(row["open"])) if row is not None else (0, 0)
        boards = "" if self.board_checks is None else f"; {len(self.board_checks)} signboard findings"
        return (f"{n} problems reported in the period, {n_open} of them still open; {len(self.overdue)} overdue "
                f"at its end (open >= {self.overdue_days:g} days, whenever reported); "
                f"{len(self.recurring)} recurring{boards}")


# --- water-quality report ----------------------------------------------------------------


@dataclass
class WaterQualityReport:
    """GB 3838-2002 assessment of sections and rivers with its compliance summary.

    Attributes
    ----------
    assessment : DataFrame
        :func:`dongping_geo.water_quality.assess_sections` result.
    rivers : DataFrame
        :func:`dongping_geo.water_quality.assess_rivers` result.
    summary : DataFrame
        :func:`dongping_geo.water_quality.compliance_summary` result.
    dataset : object
        The dataset the assessment came from (sections, measurements, rivers for the map).
    period : str
        ``M``, ``Q`` or ``Y``.
    waterbody : str
        ``river`` or ``lake``.
    """

    assessment: pd.DataFrame
    rivers: pd.DataFrame
    summary: pd.DataFrame
    dataset: Any
    period: Literal["M", "Q", "Y"]
    waterbody: Literal["river", "lake"]

    @classmethod
    def compute(
        cls, dataset: Any, *, period: Literal["M", "Q", "Y"] = "Q",
        waterbody: Literal["river", "lake"] = "river",
    ) -> WaterQualityReport:
        """Assess every section and river of a dataset.

        Parameters
        ----------
        dataset : Dataset
            With ``measurements``, ``sections`` and (optionally) ``rivers``.
        period : {"M", "Q", "Y"}, default "Q"
            Assessment period.
        waterbody : {"river", "lake"}, default "river"
            Which GB 3838 rules apply.

        Returns
        -------
        WaterQualityReport
            The computed report.
        """
        from .water_quality import assess_rivers, assess_sections, compliance_summary

        assessment = assess_sections(dataset.measurements, dataset.sections, period=period,
                                     waterbody=waterbody)
        return cls(
            assessment=assessment,
            rivers=assess_rivers(assessment, dataset.rivers, waterbody=waterbody),
            summary=compliance_summary(assessment),
            dataset=dataset, period=period, waterbody=waterbody,
        )

    def map(self, *, map_period: str | None = None, map_options: MapOptions | None = None) -> Any:
        """Draw the water-quality map of one period (default: the latest).

        Parameters
        ----------
        map_period : str, optional
            Period shown, e.g. ``2022Q3``.
        map_options : MapOptions, optional
            Basemap settings.

        Returns
        -------
        DongpingMap
            The map.
        """
        from .maps import water_quality_map

        options = map_options or MapOptions()
        ds = self.dataset
        return water_quality_map(
            self.assessment, ds.sections, measurements=ds.measurements, rivers=ds.rivers,
            river_assessment=self.rivers, period=map_period, waterbody=self.waterbody,
            basemap=options.basemap, tianditu_token=options.tianditu_token,
        )

    def charts(self, *, lang: Lang = "both") -> dict[str, Callable[[], Any]]:
        """Charts of the sections that miss their target: a class strip each, and the worst item's values.

        The worst section is the one that misses its target in most periods; its worst item
        is the main pollutant named most often in those periods.

        Parameters
        ----------
        lang : {"both", "zh", "en"}, default "both"
            Label language.

        Returns
        -------
        dict of str to callable
            File stem (under ``charts/``) to a function drawing the figure.
        """
        from .charts import item_chart, section_class_chart

        failing = self.failing
        if failing.empty:
            return {}
        counts = failing.groupby("section_id").size().sort_values(ascending=False, kind="stable")
        taken: set[str] = set()
        out: dict[str, Callable[[], Any]] = {}
        for sid in counts.index:
            stem = safe_filename(f"{sid}_class", taken)
            out[f"charts/{stem}"] = partial(section_class_chart, self.assessment, sid, lang=lang)
        worst = counts.index[0]
        pollutants = (failing.loc[failing["section_id"] == worst, "main_pollutants"].fillna("")
                      .str.split(",").explode().str.strip())
        pollutants = pollutants[pollutants.ne("")]
        if len(pollutants):
            item = str(pollutants.value_counts().index[0])
            stem = safe_filename(f"{worst}_{item}", taken)
            out[f"charts/{stem}"] = lambda: item_chart(self.assessment, worst, item, waterbody=self.waterbody,
                                                       lang=lang)
        return out

    def write(
        self,
        out_dir: str | os.PathLike,
        *,
        map_period: str | None = None,
        map_options: MapOptions | None = None,
        output: OutputOptions | None = None,
        inputs: Iterable[Path] = (),
        rejected: pd.DataFrame | None = None,
    ) -> list[Path]:
        """Write the assessment, river and summary tables, the charts and water_quality.html together.

        Parameters
        ----------
        out_dir : path-like
            Output folder.
        map_period : str, optional
            Period on the map (checked before anything is written).
        map_options : MapOptions, optional
            Basemap and offline settings.
        output : OutputOptions, optional
            Table language and format (default: both languages, CSV).
        inputs : iterable of Path
            Files and folders read: never written over.
        rejected : DataFrame, optional
            Rows the loaders set aside (``on_error="report"``): written as
            ``rejected.csv`` with the other outputs (even when empty).

        Returns
        -------
        list of Path
            The files written.
        """
        from .maps import save_map

        options = map_options or MapOptions()
        output = output or OutputOptions()
        m = self.map(map_period=map_period, map_options=options)  # a bad period fails here, first
        out = Path(out_dir)
        tables: dict[str, TableSpec] = {"assessment": (self.assessment, "sections"),
                                        "rivers": (self.rivers, "rivers"), "summary": (self.summary, None)}
        with staged_outputs(out, inputs=inputs) as stage:
            names = write_report_tables(stage, tables, workbook="water_quality", options=output)
            names += save_charts(stage, self.charts(lang=output.lang))
            names.append(save_map(m, stage / "water_quality.html", offline=options.offline).name)
            names += write_rejected(rejected, stage)
        return [out / n for n in names]

    @property
    def failing(self) -> pd.DataFrame:
        """Section-periods that miss their target."""
        return self.assessment[self.assessment["meets_target"].eq(False).fillna(False).astype(bool)]

    def summary_line(self) -> str:
        """One line for the terminal.

        Returns
        -------
        str
            Sections, periods, failures and the overall rate.
        """
        a = self.assessment
        total = self.summary[self.summary["tier"] == "all"]
        return (f"{a['section_id'].nunique()} sections, {a['period'].nunique()} periods ({self.period}); "
                f"{len(self.failing)} section-periods miss their target "
                f"(overall rate {total['n_meeting'].sum()}/{total['n_assessed'].sum()})")


# --- land-use report -------------------------------------------------------------------------

#: The land-use checks, in the order of the layers in violations.gpkg and of the summary rows
#: (labels from ``schemas.CATEGORY_LABELS["check"]``).
LANDUSE_CHECKS: dict[str, str] = {k: f"{zh} {en}" for k, (zh, en) in CATEGORY_LABELS["check"].items()}

#: The dataset layer each land-use check needs (a check without it runs on an empty layer).
LANDUSE_CHECK_LAYERS: dict[str, str] = {"redline": "redlines", "farmland": "redlines", "setback": "rivers",
                                        "rebuilt": "demolitions", "landcover_change": "redlines"}


def _empty_layer(name: str, crs: Any) -> gpd.GeoDataFrame:
    """Build an empty layer with the fields of schema ``name`` (a check's missing input)."""
    fields = {f.name: pd.Series([], dtype=object) for f in get_schema(name).fields}
    return gpd.GeoDataFrame(fields, geometry=gpd.GeoSeries([], crs=crs))


def _landcover_layer(landcover: tuple[Path, Path], redlines: gpd.GeoDataFrame,
                     progress: Progress) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Land-cover change patches inside red lines / farmland (inspection candidates), and all patches."""
    from .landuse import check_violations
    from .raster import SUSPECT_CHANGE_FROM, SUSPECT_CHANGE_TO, detect_change

    changes = detect_change(*landcover, from_classes=SUSPECT_CHANGE_FROM, to_classes=SUSPECT_CHANGE_TO)
    progress(f"{len(changes)} land-cover change patches between {landcover[0].name} and {landcover[1].name}")
    hits = check_violations(changes, redlines, id_field="change_id")
    attrs = changes.drop(columns=changes.geometry.name).rename(columns={"area_m2": "change_area_m2"})
    return hits.merge(attrs, on="change_id", how="left"), changes


def _footprints(hits: gpd.GeoDataFrame, features: gpd.GeoDataFrame, id_field: str) -> gpd.GeoDataFrame:
    """One row per violation with the whole footprint of its structure and the structure's attributes."""
    geom = features.geometry.name
    keep = [id_field] + [c for c in features.columns if c not in hits.columns and c != geom]
    source = features[[*keep, geom]].drop_duplicates(subset=id_field)
    attrs = pd.DataFrame(hits.drop(columns=hits.geometry.name))
    merged = attrs.merge(pd.DataFrame(source), on=id_field, how="left", validate="many_to_one")
    out = gpd.GeoDataFrame(merged, geometry=geom, crs=features.crs)
    if hits.crs is not None and out.crs is not None and out.crs != hits.crs:
        out = out.to_crs(hits.crs)
    return out.rename_geometry("geometry") if geom != "geometry" else out


@dataclass
class LanduseReport:
    """Land-use violations of a building survey, one layer per check.

    Attributes
    ----------
    layers : dict of str to GeoDataFrame
        Violations per check (keys of :data:`LANDUSE_CHECKS`).
    dataset : object
        The dataset checked against (zones, rivers, demolitions for the map).
    notes : list of str
        Remarks for the reader.
    features : dict of str to (GeoDataFrame, str)
        Per check, the structures checked and their id field (for the whole footprints).
    changes : GeoDataFrame or None
        All land-cover change patches, when rasters were given.
    missing : list of str
        Checks that could not run because the dataset lacks their layer (red lines,
        rivers, demolitions): their layers are empty, with the usual columns.
    """

    layers: dict[str, gpd.GeoDataFrame]
    dataset: Any
    notes: list[str] = field(default_factory=list)
    features: dict[str, tuple[gpd.GeoDataFrame, str]] = field(default_factory=dict)
    changes: gpd.GeoDataFrame | None = None
    missing: list[str] = field(default_factory=list)

    @classmethod
    def compute(
        cls,
        dataset: Any,
        survey: gpd.GeoDataFrame,
        *,
        new: gpd.GeoDataFrame | None = None,
        setback_m: float | None = None,
        landcover: tuple[Path, Path] | None = None,
        land_survey: gpd.GeoDataFrame | None = None,
        progress: Progress = _quiet,
    ) -> LanduseReport:
        """Run every check; a check whose layer the dataset lacks gives an empty layer.

        ``new`` is the part of the survey to check against zones and setbacks (the
        structures new since an earlier survey; default the whole survey). The
        rebuilt check always runs on the whole survey: a structure rebuilt on the
        footprint it had before demolition matches the earlier survey and would not
        count as new.

        Parameters
        ----------
        dataset : Dataset
            With ``redlines``, ``rivers`` and ``demolitions`` (any may be None).
        survey : GeoDataFrame
            The building survey.
        new : GeoDataFrame, optional
            The structures to check against zones and setbacks.
        setback_m : float, optional
            One setback for every river (default per level).
        landcover : (Path, Path), optional
            Land-cover rasters before and after.
        land_survey : GeoDataFrame, optional
            Land-survey parcels (:func:`dongping_geo.load_land_survey`): adds the
            ``cropland`` layer, ``new`` structures on cultivated land (乱占耕地建房,
            :func:`dongping_geo.landuse.cropland_occupation`, marked where they also
            meet basic farmland of the dataset's red lines).
        progress : callable, optional
            Told what was found.

        Returns
        -------
        LanduseReport
            The violations per check.
        """
        from .landuse import (
            ZONE_CATEGORIES,
            check_violations,
            rebuilt_on_demolished,
            river_setback_violations,
        )

        new = survey if new is None else new
        missing = [check for check, name in LANDUSE_CHECK_LAYERS.items()
                   if getattr(dataset, name) is None and (check != "landcover_change" or landcover is not None)]
        # A check whose layer is absent runs on an empty layer: its (empty) result keeps the columns.
        zones, rivers, sites = (getattr(dataset, n) if getattr(dataset, n) is not None else _empty_layer(n, new.crs)
                                for n in ("redlines", "rivers", "demolitions"))
        eco = [c for c in ZONE_CATEGORIES if c != "basic_farmland"]
        layers: dict[str, gpd.GeoDataFrame] = {
            "redline": check_violations(new, zones, categories=eco),
            "farmland": check_violations(new, zones, categories="basic_farmland"),
            "setback": river_setback_violations(new, rivers, setback_m=setback_m),
            "rebuilt": rebuilt_on_demolished(survey, sites),
        }
        features: dict[str, tuple[gpd.GeoDataFrame, str]] = {
            "redline": (new, "building_id"), "farmland": (new, "building_id"), "setback": (new, "building_id"),
            "rebuilt": (survey, "building_id"),
        }
        changes = None
        if landcover is not None:
            layers["landcover_change"], changes = _landcover_layer(landcover, zones, progress)
            features["landcover_change"] = (changes, "change_id")
        if land_survey is not None:
            from .landuse import cropland_occupation

            layers["cropland"] = cropland_occupation(new, land_survey, farmland=dataset.redlines)
            features["cropland"] = (new, "building_id")
            progress(f"{len(layers['cropland'])} overlaps of structures with cultivated land of the land survey")
        return cls(layers=layers, dataset=dataset, missing=missing, features=features, changes=changes)

    def gpkg_layers(self) -> dict[str, gpd.GeoDataFrame]:
        """Layers of violations.gpkg: per check the whole footprints, then ``<check>_overlap``.

        The footprint layer has one row per violation: the structure's whole outline with
        its survey attributes and the violation's (zone, overlap area, share); the
        ``_overlap`` layer holds just the overlapping part, with the violation's attributes.

        Returns
        -------
        dict of str to GeoDataFrame
            Layer name to data.
        """
        out: dict[str, gpd.GeoDataFrame] = {}
        for name, hits in self.layers.items():
            source = self.features.get(name)
            if source is not None and source[1] in hits.columns and source[1] in source[0].columns:
                out[name] = _footprints(hits, *source)
            out[f"{name}_overlap" if name in out else name] = hits
        return out

    def table(self) -> pd.DataFrame:
        """All violations in one table, in check order then each layer's (sorted) order.

        Returns
        -------
        DataFrame
            A ``check`` column first, then the layers' columns.
        """
        frames = [pd.DataFrame(g.drop(columns=g.geometry.name)).assign(check=name)
                  for name, g in self.layers.items() if len(g)]
        if not frames:
            return pd.DataFrame({"check": []})
        table = pd.concat(frames, ignore_index=True)
        # people read this one: square metres to the cm², shares to 0.01 %
        table = table.round({"overlap_m2": 2, "overlap_share": 4, "site_share": 4})
        return table[["check"] + [c for c in table.columns if c != "check"]]

    def counts(self, id_field: str = "building_id") -> list[tuple[str, str, int, int, float]]:
        """(check, what, structures, rows, overlap m²) per check, for a summary table.

        Parameters
        ----------
        id_field : str, default "building_id"
            The structure id column.

        Returns
        -------
        list of tuple
            One tuple per check.
        """
        out = []
        for name, g in self.layers.items():
            ids = g[id_field].nunique() if id_field in g.columns else len(g)
            area = float(g["overlap_m2"].sum()) if "overlap_m2" in g.columns else float("nan")
            out.append((name, LANDUSE_CHECKS.get(name, name), int(ids), len(g), area))
        return out

    @property
    def n_rows(self) -> int:
        """Number of violation rows over all checks."""
        return sum(len(g) for g in self.layers.values())

    def charts(self, *, lang: Lang = "both") -> dict[str, Callable[[], Any]]:
        """Demolitions by year and kind (when the dataset has them) and land-cover change (rasters given).

        Parameters
        ----------
        lang : {"both", "zh", "en"}, default "both"
            Label language.

        Returns
        -------
        dict of str to callable
            File stem to a function drawing the figure.
        """
        from .charts import landcover_change_chart

        out: dict[str, Callable[[], Any]] = {}
        demolitions = getattr(self.dataset, "demolitions", None)
        if demolitions is not None and len(demolitions):
            out.update(DemolitionReport.compute(demolitions).charts(lang=lang))
        if self.changes is not None and len(self.changes):
            changes = self.changes
            out["landcover_change"] = lambda: landcover_change_chart(changes, lang=lang)
        return out

    def write(
        self,
        out_dir: str | os.PathLike,
        *,
        map_options: MapOptions | None = None,
        output: OutputOptions | None = None,
        inputs: Iterable[Path] = (),
        rejected: pd.DataFrame | None = None,
    ) -> list[Path]:
        """Write violations.gpkg (styled), the violations table, charts and violations.html together.

        violations.gpkg holds per check the whole footprints and the overlaps
        (:meth:`gpkg_layers`), each with its default QGIS style.

        Parameters
        ----------
        out_dir : path-like
            Output folder.
        map_options : MapOptions, optional
            Basemap and offline settings.
        output : OutputOptions, optional
            Table language and format (default: both languages, CSV).
        inputs : iterable of Path
            Files and folders read: never written over.
        rejected : DataFrame, optional
            Rows the loaders set aside (``on_error="report"``): written as
            ``rejected.csv`` with the other outputs (even when empty).

        Returns
        -------
        list of Path
            The files written.
        """
        from .maps import save_map, violations_map

        options = map_options or MapOptions()
        output = output or OutputOptions()
        ds = self.dataset
        m = violations_map(self.layers, zones=ds.redlines, rivers=ds.rivers, demolitions=ds.demolitions,
                           basemap=options.basemap, tianditu_token=options.tianditu_token)
        out = Path(out_dir)
        with staged_outputs(out, inputs=inputs) as stage:
            names = [write_styled_layers(self.gpkg_layers(), stage / "violations.gpkg", lang=output.lang).name]
            names += write_report_tables(stage, {"violations": (self.table(), None)}, workbook="violations",
                                         options=output)
            names += save_charts(stage, self.charts(lang=output.lang))
            names.append(save_map(m, stage / "violations.html", offline=options.offline).name)
            names += write_rejected(rejected, stage)
        return [out / n for n in names]


# --- demolition summary -------------------------------------------------------------------------

#: Label of the totals row, per table language.
_TOTAL = {"both": "合计 Total", "zh": "合计", "en": "Total"}


def _with_total(table: pd.DataFrame, keys: list[str], lang: Lang) -> pd.DataFrame:
    """Append a totals row (cases and area summed) labelled in the first key column."""
    total: dict[str, Any] = {k: None for k in keys}
    total[keys[0]] = _TOTAL[lang]
    total.update(count=int(table["count"].sum()), area_m2=float(table["area_m2"].sum()))
    body = table.astype({keys[0]: object})
    return pd.concat([body, pd.DataFrame([total])], ignore_index=True)


@dataclass
class DemolitionReport:
    """Demolished structures counted and summed by year, kind and region.

    Attributes
    ----------
    demolitions : DataFrame
        The demolition cases.
    by : tuple of str
        Grouping keys present (of ``year``, ``kind``, ``region``).
    """

    demolitions: pd.DataFrame
    by: tuple[str, ...]

    @classmethod
    def compute(cls, demolitions: pd.DataFrame) -> DemolitionReport:
        """Keep the cases and the keys they can be grouped by.

        Parameters
        ----------
        demolitions : DataFrame or GeoDataFrame
            The demolitions layer (``demolished_on``, ``kind``, ``region``, ``area_m2``).

        Returns
        -------
        DemolitionReport
            The report.
        """
        by = tuple(k for k in ("year", "kind", "region")
                   if k in demolitions.columns or (k == "year" and "demolished_on" in demolitions.columns))
        return cls(demolitions=demolitions, by=by)

    def tables(self, *, lang: Lang = "both") -> dict[str, TableSpec]:
        """Summarise by every key together and by each key alone, each with a totals row.

        Parameters
        ----------
        lang : {"both", "zh", "en"}, default "both"
            Language of the totals row's label.

        Returns
        -------
        dict of str to (DataFrame, str)
            ``demolitions_by_year_kind_region`` then ``demolitions_by_year``, ``…_by_kind``,
            ``…_by_region`` (codes; translated when written).
        """
        from .landuse import demolition_summary

        keys = list(self.by)
        out: dict[str, TableSpec] = {}
        if len(keys) > 1:
            out["demolitions_by_" + "_".join(keys)] = (
                _with_total(demolition_summary(self.demolitions, by=keys), keys, lang), "demolitions")
        for key in keys:
            out[f"demolitions_by_{key}"] = (
                _with_total(demolition_summary(self.demolitions, by=[key]), [key], lang), "demolitions")
        return out

    def charts(self, *, lang: Lang = "both") -> dict[str, Callable[[], Any]]:
        """Demolished area by year, stacked by kind (when both keys are present).

        Parameters
        ----------
        lang : {"both", "zh", "en"}, default "both"
            Label language.

        Returns
        -------
        dict of str to callable
            ``demolitions`` to a function drawing the chart.
        """
        from .charts import demolition_chart
        from .landuse import demolition_summary

        if not {"year", "kind"} <= set(self.by) or not len(self.demolitions):
            return {}
        return {"demolitions": lambda: demolition_chart(demolition_summary(self.demolitions, by=("year", "kind")),
                                                        lang=lang)}

    def write(
        self, out_dir: str | os.PathLike, *, output: OutputOptions | None = None, inputs: Iterable[Path] = (),
        rejected: pd.DataFrame | None = None,
    ) -> list[Path]:
        """Write the summary tables and the chart together.

        Parameters
        ----------
        out_dir : path-like
            Output folder.
        output : OutputOptions, optional
            Table language and format (default: both languages, CSV).
        inputs : iterable of Path
            Files and folders read: never written over.
        rejected : DataFrame, optional
            Rows the loaders set aside (``--on-error report``): written as
            ``rejected.csv`` with the other outputs (even when empty).

        Returns
        -------
        list of Path
            The files written.
        """
        output = output or OutputOptions()
        out = Path(out_dir)
        with staged_outputs(out, inputs=inputs) as stage:
            names = write_report_tables(stage, self.tables(lang=output.lang), workbook="demolitions",
                                        options=output)
            names += save_charts(stage, self.charts(lang=output.lang))
            names += write_rejected(rejected, stage)
        return [out / n for n in names]


# --- catchments report -----------------------------------------------------------------------


def _assessment_of_year(dataset: Any, year: int) -> pd.DataFrame:
    """Yearly GB 3838 assessment of the dataset's sections for one calendar year."""
    from .errors import ConfigError, InputFileError
    from .water_quality import assess_sections

    if dataset.measurements is None or dataset.sections is None:
        missing = "measurements.csv/.xlsx" if dataset.measurements is None else "the sections layer"
        raise InputFileError("the dataset lacks what the assessment needs", path=dataset.folder,
                             expected="a sections layer and measurements.csv (or .xlsx)", found=f"no {missing}",
                             fix="add the file to the dataset folder")
    a = assess_sections(dataset.measurements, dataset.sections, period="Y")
    years = sorted(a["period"].astype(str).unique())
    if str(year) not in years:
        raise ConfigError("no measurements in that year", field="year", expected=", ".join(years) or "a measured year",
                          found=str(year), fix="pass --year with a year the measurements cover")
    return a[a["period"].astype(str) == str(year)].reset_index(drop=True)


def _landcover_of_year(dataset: Any, year: int) -> Path:
    from .errors import InputFileError

    if year not in dataset.landcover:
        have = ", ".join(f"landcover_{y}.tif" for y in sorted(dataset.landcover)) or "none"
        raise InputFileError("the dataset has no land-cover raster for that year", path=dataset.folder,
                             expected=f"landcover_{year}.tif", found=have,
                             fix="add the raster or pass a year that has one")
    return Path(dataset.landcover[year])


def _boundary_of(dataset: Any, boundary: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    from .errors import InputFileError

    town = boundary if boundary is not None else dataset.extra.get("town")
    if town is None or dataset.rivers is None or dataset.sections is None:
        missing = "town boundary (town.shp/.gpkg)" if town is None else "rivers or sections layer"
        raise InputFileError("the dataset lacks what the catchments need", path=dataset.folder,
                             expected="rivers, sections and the town boundary (town.*)", found=f"no {missing}",
                             fix="add the layer to the dataset folder")
    return town


@dataclass
class CatchmentsReport:
    """What drains into each section, and the land use behind a failing class, computed once.

    Attributes
    ----------
    catchments : GeoDataFrame
        :func:`dongping_geo.catchments.section_catchments` (with ``bank_strip``).
    upstream : GeoDataFrame
        :func:`dongping_geo.catchments.upstream_stretches`.
    river_catchments : GeoDataFrame
        :func:`dongping_geo.catchments.river_catchments` of the town and district rivers.
    drivers : DataFrame
        :func:`dongping_geo.catchments.section_drivers` for the year.
    candidates : GeoDataFrame
        :func:`dongping_geo.catchments.greening_candidates`.
    small_watersheds : DataFrame
        :func:`dongping_geo.catchments.small_watershed_indicators`.
    problems : DataFrame
        Rivers without a single downstream path (``river_network(...).graph["problems"]``).
    dataset : object
        The dataset (sections and rivers for the map).
    year : int
        The year assessed.
    landcover : Path
        The land-cover raster used.
    """

    catchments: gpd.GeoDataFrame
    upstream: gpd.GeoDataFrame
    river_catchments: gpd.GeoDataFrame
    drivers: pd.DataFrame
    candidates: gpd.GeoDataFrame
    small_watersheds: pd.DataFrame
    problems: pd.DataFrame
    dataset: Any
    year: int
    landcover: Path

    @classmethod
    def compute(
        cls,
        dataset: Any,
        *,
        year: int,
        boundary: gpd.GeoDataFrame | None = None,
        on_problem: Literal["raise", "report"] = "report",
        strip_m: float = 100.0,
        progress: Progress = _quiet,
    ) -> CatchmentsReport:
        """Build the network and catchments, assess the year and relate both.

        Parameters
        ----------
        dataset : Dataset
            With rivers, sections, measurements, ``landcover_<year>.tif`` and the town
            boundary (``extra["town"]``) unless ``boundary`` is given.
        year : int
            Calendar year: the yearly assessment and the land cover of that year.
        boundary : GeoDataFrame, optional
            The town polygon (default the dataset's ``town`` layer).
        on_problem : {"raise", "report"}, default "report"
            Rivers without a single downstream path: raise, or keep them unconnected
            downstream and list them in :attr:`problems`.
        strip_m : float, default 100
            Width of the bank strips.
        progress : callable, optional
            Told the name of each step.

        Returns
        -------
        CatchmentsReport
            The computed report.
        """
        from . import catchments as c
        from .network import river_network

        town = _boundary_of(dataset, boundary)
        raster = _landcover_of_year(dataset, year)
        assessment = _assessment_of_year(dataset, year)  # bad inputs fail before the slow work
        rivers, sections = dataset.rivers, dataset.sections
        progress("river network")
        problems = river_network(rivers, boundary=town, on_problem=on_problem).graph["problems"]
        progress("section catchments")
        opts: dict[str, Any] = {"on_problem": on_problem}
        sc = c.section_catchments(rivers, sections, town, strip_m=strip_m, **opts)
        up = c.upstream_stretches(rivers, sections, town, **opts)
        rc = c.river_catchments(rivers, town, strip_m=strip_m, **opts)
        progress(f"land cover {raster.name}")
        drivers = c.section_drivers(assessment, sc, raster, demolitions=dataset.demolitions)
        candidates = c.greening_candidates(drivers, sc, raster)
        sheet = c.small_watershed_indicators(rc, raster, drivers=drivers, demolitions=dataset.demolitions)
        return cls(catchments=sc, upstream=up, river_catchments=rc, drivers=drivers, candidates=candidates,
                   small_watersheds=sheet, problems=problems, dataset=dataset, year=int(year), landcover=raster)

    def layers(self) -> dict[str, gpd.GeoDataFrame]:
        """Return the layers of catchments.gpkg, each with one geometry column.

        Returns
        -------
        dict of str to GeoDataFrame
            ``section_catchments``, ``section_bank_strips``, ``river_catchments``,
            ``river_bank_strips`` and ``upstream_stretches``.
        """
        def split(frame: gpd.GeoDataFrame, key: str) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
            whole = frame.drop(columns="bank_strip")
            strips = gpd.GeoDataFrame(frame[[key, "bank_strip_m2"]].copy(), geometry=frame["bank_strip"].values,
                                      crs=frame.crs)
            return whole, strips

        sc, sc_strip = split(self.catchments, "section_id")
        rc, rc_strip = split(self.river_catchments, "river_id")
        return {"section_catchments": sc, "section_bank_strips": sc_strip, "river_catchments": rc,
                "river_bank_strips": rc_strip, "upstream_stretches": self.upstream}

    def map(self, *, map_options: MapOptions | None = None) -> Any:
        """Draw the catchments map (:func:`dongping_geo.maps.catchments_map`).

        Parameters
        ----------
        map_options : MapOptions, optional
            Basemap settings.

        Returns
        -------
        DongpingMap
            The map.
        """
        from .maps import catchments_map

        options = map_options or MapOptions()
        ds = self.dataset
        return catchments_map(self.drivers, self.catchments, ds.sections, ds.rivers, candidates=self.candidates,
                              upstream=self.upstream, basemap=options.basemap, tianditu_token=options.tianditu_token,
                              title=f"断面汇水区与达标 Section catchments and compliance {self.year}")

    def write(
        self,
        out_dir: str | os.PathLike,
        *,
        map_options: MapOptions | None = None,
        output: OutputOptions | None = None,
        inputs: Iterable[Path] = (),
        rejected: pd.DataFrame | None = None,
    ) -> list[Path]:
        """Write catchments.gpkg, the tables, greening_candidates.gpkg and catchments.html together.

        Parameters
        ----------
        out_dir : path-like
            Output folder.
        map_options : MapOptions, optional
            Basemap and offline settings.
        output : OutputOptions, optional
            Table language and format (default: both languages, CSV); layers styled for QGIS.
        inputs : iterable of Path
            Files and folders read (the dataset folder and the raster): never written over.
        rejected : DataFrame, optional
            Rows the loaders set aside (``--on-error report``): written as
            ``rejected.csv`` with the other outputs (even when empty).

        Returns
        -------
        list of Path
            The files written.
        """
        from .maps import save_map

        options = map_options or MapOptions()
        m = self.map(map_options=options)
        output = output or OutputOptions()
        tables: dict[str, TableSpec] = {
            "section_drivers": (self.drivers, "sections"), "greening_candidates": (self.candidates, None),
            "small_watersheds": (self.small_watersheds, None), "network_problems": (self.problems, "rivers")}
        out = Path(out_dir)
        with staged_outputs(out, inputs=[*inputs, self.landcover]) as stage:
            names = [write_styled_layers(self.layers(), stage / "catchments.gpkg", lang=output.lang).name]
            names += write_report_tables(stage, tables, workbook="catchments", options=output)
            names.append(write_styled_layers({"greening_candidates": self.candidates},
                                             stage / "greening_candidates.gpkg", lang=output.lang).name)
            names.append(save_map(m, stage / "catchments.html", offline=options.offline).name)
            names += write_rejected(rejected, stage)
        return [out / n for n in names]

    @property
    def failing(self) -> pd.DataFrame:
        """Sections that miss their target in the year."""
        return self.drivers[self.drivers["meets_target"].astype("boolean").eq(False).fillna(False).to_numpy()]

    def summary_line(self) -> str:
        """One line for the terminal.

        Returns
        -------
        str
            Sections, failures, candidates and network problems.
        """
        d = self.drivers
        ha = float(self.candidates["area_m2"].sum()) / 1e4 if len(self.candidates) else 0.0
        line = (f"{len(d)} sections, {int(d['meets_target'].notna().sum())} assessed in {self.year}, "
                f"{len(self.failing)} miss their target; {len(self.candidates)} greening candidates "
                f"({ha:.1f} ha) in their bank strips")
        if len(self.problems):
            line += (f"; {self.problems['river_id'].nunique()} rivers have no single downstream path "
                     "(network_problems.csv: set flows_to)")
        return line


# --- land accounts of the land survey (三调 / 变更调查), issue 18 ---------------------------


@dataclass
class LandAccountsReport:
    """Land accounts of a land survey, and with an earlier vintage its changes.

    Attributes
    ----------
    accounts : DataFrame
        :func:`dongping_geo.landuse.land_accounts` (official TBMJ areas, m² and 亩).
    transitions : DataFrame or None
        Class-to-class transition table (:func:`dongping_geo.landuse.land_changes`).
    cultivated_loss : GeoDataFrame or None
        Pieces of cultivated land of the earlier vintage that are something else now.
    """

    accounts: pd.DataFrame
    transitions: pd.DataFrame | None = None
    cultivated_loss: gpd.GeoDataFrame | None = None

    @classmethod
    def compute(
        cls,
        parcels: gpd.GeoDataFrame,
        *,
        before: gpd.GeoDataFrame | None = None,
        by: str | None = "village",
        level: str = "land_class",
        progress: Progress = _quiet,
    ) -> LandAccountsReport:
        """Sum the survey by ``by`` and class; compare with ``before`` when given.

        Parameters
        ----------
        parcels : GeoDataFrame
            The survey (:func:`dongping_geo.load_land_survey`).
        before : GeoDataFrame, optional
            An earlier vintage of the survey.
        by : str or None, default "village"
            Column to split by (``village``, ``village_code``, ``owner`` …; None: the town).
        level : {"land_class", "land_code"}, default "land_class"
            First-level classes or second-level codes.
        progress : callable, optional
            Told what was computed.

        Returns
        -------
        LandAccountsReport
            The tables.
        """
        from .landuse import land_accounts, land_changes

        keys = (by, level) if by else (level,)
        accounts = land_accounts(parcels, by=keys)
        progress(f"accounts of {len(parcels)} parcels: {len(accounts) - 1} rows")
        if before is None:
            return cls(accounts)
        changes = land_changes(before, parcels, by=by, level=level)
        progress(f"{len(changes.cultivated_loss)} pieces of cultivated land lost since the earlier vintage")
        return cls(accounts, changes.transitions, changes.cultivated_loss)

    def write(
        self, out_dir: str | os.PathLike, *, output: OutputOptions | None = None, inputs: Iterable[Path] = ()
    ) -> list[Path]:
        """Write land_accounts (and land_transitions, cultivated_loss tables and .gpkg) together.

        Parameters
        ----------
        out_dir : path-like
            Output folder.
        output : OutputOptions, optional
            Language and format of the tables (default: both languages, CSV).
        inputs : iterable of Path
            Files and folders read: never written over.

        Returns
        -------
        list of Path
            The files written.
        """
        # people read these: square metres to the cm² (TBMJ's own precision), 亩 to 0.0001
        digits = {"area_m2": 2, "net_area_m2": 2, "area_mu": 4, "net_area_mu": 4}
        out = Path(out_dir)
        output = output or OutputOptions()
        tables: dict[str, TableSpec] = {"land_accounts": (self.accounts.round(digits), "land_survey")}
        if self.transitions is not None:
            tables["land_transitions"] = (self.transitions.round(digits), "land_survey")
        if self.cultivated_loss is not None:
            loss = self.cultivated_loss
            tables["cultivated_loss"] = (pd.DataFrame(loss.drop(columns=loss.geometry.name)).round(digits),
                                         "land_survey")
        with staged_outputs(out, inputs=inputs) as stage:
            names = write_report_tables(stage, tables, workbook="land_accounts", options=output)
            if self.cultivated_loss is not None:
                names.append(write_styled_layers({"cultivated_loss": self.cultivated_loss},
                                                 stage / "cultivated_loss.gpkg", lang=output.lang).name)
        return [out / n for n in names]
