"""The ``dongping-geo`` command line: thin commands over the library.

Commands parse arguments, call library functions, show progress and set the
exit code. Bad input prints one or two plain lines (no traceback unless
``--debug``) and exits 2. Each analysis command lives in its own section below.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal

import click

from . import __version__
from .errors import DongpingGeoError

EXIT_OK = 0
EXIT_FOUND = 1  # problems or violations were found
EXIT_BAD_INPUT = 2


class _Group(click.Group):
    """Click group that turns DongpingGeoError into a short message and exit code 2."""

    def invoke(self, ctx: click.Context):  # noqa: D102
        try:
            return super().invoke(ctx)
        except DongpingGeoError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"error: {exc}", err=True)
            ctx.exit(EXIT_BAD_INPUT)


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="dongping-geo")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Geospatial analysis for Dongping Town: rivers, patrols, water quality, land use."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def _map_options(command):
    """Add the options every map-writing command shares: --basemap, --offline, --tianditu-token."""
    from .maps import BASEMAPS

    options = [
        click.option("--basemap", type=click.Choice(list(BASEMAPS)), default="osm", show_default=True,
                     help="Tile layer under the data (gaode shifts the data to GCJ-02; tianditu needs "
                          "a token; none draws no tiles)."),
        click.option("--offline", is_flag=True,
                     help="Write self-contained HTML (Leaflet inlined) that opens without internet; "
                          "tiles still need a connection unless --basemap none."),
        click.option("--tianditu-token", envvar="TIANDITU_TOKEN", default=None,
                     help="Tianditu API key (default: the TIANDITU_TOKEN environment variable)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


_crs_option = click.option("--crs", default=None, help="CRS for files without a .prj (e.g. 4549).")


def main(argv: list[str] | None = None) -> None:
    """Run the command line (console-script entry point)."""
    cli.main(args=argv, prog_name="dongping-geo")


# --- validate / info (issue 2) -------------------------------------------------


def _console(err: bool = False):
    from rich.console import Console

    return Console(stderr=err, highlight=False, soft_wrap=True)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@_crs_option
@click.option("--layer", default=None, help="Layer of the given files when their names do not tell "
              "(rivers, sections, redlines, demolitions, regions, buildings, patrols, measurements).")
def validate(paths: tuple[Path, ...], crs: str | None, layer: str | None) -> None:
    """Check layer files or dataset folders against the data model.

    Prints a table per file (features, CRS, encoding, problems). Exit code 0 when
    everything is clean, 1 when problems were found, 2 when an input could not be read.
    """
    from rich.table import Table

    from .errors import EncodingError, InputFileError
    from .loaders import dataset_files, inspect_file

    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = dataset_files(p)
            if not found:
                raise InputFileError("no layer files in the folder", path=p,
                                     expected="rivers.shp, sections.shp … (see docs/data-model.md)",
                                     found="none", fix="check the folder")
            files.extend(found)
        else:
            files.append(p)
    table = Table(title="dongping-geo validate")
    for col in ("file", "layer", "features", "CRS", "encoding", "problems"):
        table.add_column(col)
    unreadable = problems = 0
    messages: list[str] = []
    for f in files:
        report = inspect_file(f, crs=crs, layer=layer)
        if any(isinstance(e, InputFileError | EncodingError) for e in report.problems):
            unreadable += 1
        problems += len(report.problems)
        messages.extend(f"{type(e).__name__}: {e}" for e in report.problems)
        table.add_row(str(f), report.layer, str(report.features), report.crs, report.encoding,
                      "ok" if not report.problems else str(len(report.problems)))
    out = _console()
    out.print(table)
    for m in messages:
        out.print(m, markup=False)
    if unreadable:
        sys.exit(EXIT_BAD_INPUT)
    sys.exit(EXIT_FOUND if problems else EXIT_OK)


@cli.command()
@click.argument("path", type=click.Path(path_type=Path))
def info(path: Path) -> None:
    """Describe a file or dataset folder: layers, counts, CRS, bounds, fields, encoding.

    Every layer of a GeoPackage is listed; rasters show size, resolution, CRS and nodata.
    """
    import pyogrio
    import rasterio

    from .errors import InputFileError
    from .io import VECTOR_SUFFIXES, read_layer
    from .loaders import read_table

    if not path.exists():
        raise InputFileError("file not found", path=path, expected="a file or dataset folder",
                             found="nothing at that path", fix="check the path and the working directory")
    suffixes = (*VECTOR_SUFFIXES, ".csv", ".xlsx", ".tif", ".tiff")
    files = (sorted(p for p in path.iterdir() if p.suffix.lower() in suffixes and p.stem != "manifest")
             if path.is_dir() else [path])
    out = _console()
    for f in files:
        suffix = f.suffix.lower()
        if suffix in (".csv", ".xlsx"):
            df = read_table(f)
            out.print(f"[bold]{f}[/bold]: table, {len(df)} rows; columns: {', '.join(df.columns)}")
            continue
        if suffix in (".tif", ".tiff"):
            with rasterio.open(f) as ds:
                out.print(f"[bold]{f}[/bold]: raster {ds.width} × {ds.height} × {ds.count}, {ds.dtypes[0]}, "
                          f"pixel {ds.res[0]:g} × {ds.res[1]:g}, CRS {ds.crs.to_string() if ds.crs else 'none'}, "
                          f"nodata {ds.nodata}")
            continue
        layers = ([str(name) for name in pyogrio.list_layers(f)[:, 0]] if suffix == ".gpkg"
                  else ["track_points"] if suffix == ".gpx" else [None])
        for layer in layers:
            gdf = read_layer(f, layer=layer)
            crs = gdf.crs.to_string() if gdf.crs is not None else "none"
            bounds = ", ".join(f"{v:.6g}" for v in gdf.total_bounds) if len(gdf) else "-"
            types = ", ".join(sorted(set(gdf.geom_type.dropna())))
            fields = ", ".join(str(c) for c in gdf.columns if c != gdf.geometry.name)
            enc = gdf.attrs.get("encoding")
            name = f"{f} (layer {layer})" if layer and suffix == ".gpkg" else str(f)
            out.print(f"[bold]{name}[/bold]: {len(gdf)} features ({types}); CRS {crs}; bounds {bounds}"
                      + (f"; encoding {enc} ({gdf.attrs.get('encoding_source')})" if enc else ""),
                      markup=True)
            out.print(f"  fields: {fields}", markup=False)


# --- sample-data (issue 3) ------------------------------------------------------


@cli.command("sample-data")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--seed", type=int, default=2021, show_default=True,
              help="Random seed; the same seed gives the same files.")
def sample_data(out_dir: Path, seed: int) -> None:
    """Generate the synthetic Dongping sample dataset into OUT_DIR."""
    from .sample import make_sample

    manifest = make_sample(out_dir, seed=seed)
    counts = manifest["counts"]
    click.echo(
        f"wrote {out_dir}: {counts['rivers']} rivers, {counts['sections']} sections, "
        f"{counts['demolitions']} demolition cases ({counts['demolished_area_m2']:,.0f} m²), "
        f"{counts['patrols_2022']} patrols, {counts['buildings_2022']} buildings (2022); "
        "synthetic data, see manifest.json"
    )

# --- map (issue 4) --------------------------------------------------------------


@cli.command("map")
@click.argument("dataset_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("overview.html"), show_default=True, help="HTML file to write.")
@_map_options
@_crs_option
def map_command(dataset_dir: Path, out_path: Path, basemap: str, offline: bool,
                tianditu_token: str | None, crs: str | None) -> None:
    """Write an overview map of DATASET_DIR: rivers, sections, red lines and demolitions.

    Each layer is a toggleable overlay with a bilingual legend, tooltips and popups.
    """
    from .loaders import load_dataset
    from .maps import overview_map, save_map

    dataset = load_dataset(dataset_dir, crs=crs, patrols=False)
    m = overview_map(dataset, basemap=basemap, tianditu_token=tianditu_token)
    written = save_map(m, out_path, offline=offline)
    click.echo(f"wrote {written} ({written.stat().st_size / 1e6:.2f} MB"
               + (", offline" if offline else "") + ")")


# --- patrol-report (issue 5) ----------------------------------------------------


_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                     *(f"LPT{i}" for i in range(1, 10))}


def _safe_filename(name: object, taken: set[str], *, max_chars: int = 60) -> str:
    """Make a file-name stem safe on Linux, macOS and Windows, keeping Chinese characters.

    Drops control characters, path separators and characters Windows reserves,
    trims dots/spaces, avoids reserved device names (CON, NUL, COM1 …), limits the
    length (UTF-8 names must stay under 255 bytes) and dedupes case-insensitively
    against ``taken`` (which it updates) with ``-2``, ``-3`` ….
    """
    import re
    import unicodedata

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


def _patrol_groups(rivers, by: str) -> list[tuple[str, list]]:
    """(label, river ids) per map: one per chief, river or region."""
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
        from .maps import VALUE_LABELS

        keys = keys.map(lambda k: VALUE_LABELS.get("region", {}).get(k, k))
    return [(str(k), list(ids)) for k, ids in rivers.groupby(keys.to_numpy(), sort=True)["river_id"]]


def _write_index(path: Path, rows: list[dict], *, title: str, by: str) -> None:
    """index.html: one row per map with escaped text and URL-quoted links; written atomically."""
    import html
    from urllib.parse import quote

    from .io import atomic_path

    head = {"chief": "河长 Chief", "river": "河道 River", "region": "片区 Region"}[by]
    body = "".join(
        "<tr><td><a href=\"{href}\">{label}</a></td><td>{rivers}</td><td>{cov}</td>"
        "<td>{ok}</td></tr>".format(
            href=html.escape(quote(r["file"]), quote=True), label=html.escape(r["label"]),
            rivers=r["rivers"], cov=html.escape(r["coverage"]), ok=html.escape(r["compliant"]),
        )
        for r in rows
    )
    text = (
        "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:'Noto Sans CJK SC',sans-serif;margin:2em}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 10px}"
        "th{background:#eee}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>"
        f"<table><thead><tr><th>{head}</th><th>河道数 Rivers</th><th>覆盖率 Coverage</th>"
        f"<th>巡河达标 Compliant</th></tr></thead><tbody>{body}</tbody></table>"
        "<p>coverage.csv, compliance.csv, uncovered.gpkg: see this folder. "
        "Synthetic sample data unless stated otherwise.</p></body></html>\n"
    )
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


@cli.command("patrol-report")
@click.argument("dataset_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--start", required=True, help="First day of the period (e.g. 2022-01-01).")
@click.option("--end", required=True, help="Last day of the period, included (e.g. 2022-12-31).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for coverage.csv, compliance.csv, uncovered.gpkg, the maps and index.html.")
@click.option("--by", type=click.Choice(["chief", "river", "region"]), default="chief",
              show_default=True, help="One map per river chief, per river or per region.")
@click.option("--tolerance", "tolerance_m", type=float, default=30.0, show_default=True,
              help="A river counts as inspected within this distance of a track (m).")
@click.option("--rules", "rules_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="YAML file overriding the default patrol rules (see docs/patrol.md).")
@click.option("--patrols", "patrols_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Patrol fixes file to use instead of the dataset's patrols*.")
@click.option("--patrols-shift", type=click.Choice(["wgs84", "gcj02", "bd09"]), default="wgs84",
              show_default=True, help="Datum of the --patrols coordinates: apps on AMap/Tencent maps "
              "record GCJ-02, Baidu-based ones BD-09; they are shifted back to WGS 84.")
@_map_options
@_crs_option
@click.option("--strict", is_flag=True, help="Exit with status 1 when any river misses its patrol rule.")
@click.option("--engine", type=click.Choice(["memory", "dask"]), default="memory", show_default=True,
              help="Compute coverage in memory or on dask (for district-scale fix counts).")
@click.option("--scheduler", default=None,
              help="Address of a running dask scheduler (tcp://HOST:PORT); implies --engine dask. "
                   "Default with --engine dask: a local cluster of 2 workers.")
def patrol_report(dataset_dir: Path, start: str, end: str, out_dir: Path, by: str, tolerance_m: float,
                  rules_path: Path | None, patrols_path: Path | None, patrols_shift: str,
                  basemap: str, offline: bool,
                  tianditu_token: str | None, crs: str | None, strict: bool, engine: str,
                  scheduler: str | None) -> None:
    """Patrol coverage and compliance of the river chiefs, with one HTML map per chief.

    Cleans the GPS fixes (duplicates, GPS jumps, fixes outside the town), measures
    which stretches of every river a patrol passed within --tolerance of, checks
    patrol frequency against the rules, and writes coverage.csv, compliance.csv,
    compliance_by_chief.csv, dropped_fixes.csv (UTF-8 with BOM), uncovered.gpkg,
    maps/<name>.html per chief (or river/region) and index.html. With --engine dask
    the coverage runs on a dask cluster; cleaning, compliance and the maps stay in memory.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ._patrol_tracks import period_bounds
    from .errors import InputFileError
    from .io import write_layers, write_table
    from .loaders import load_dataset, load_patrols
    from .maps import coverage_map, save_map
    from .patrol import clean_fixes, compliance, load_rules, river_coverage, uncovered_segments

    rules = load_rules(rules_path)  # bad rules fail before the slow work
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=_console(err=True), transient=False)
    with progress:
        task = progress.add_task("loading the dataset", total=6)
        dataset = load_dataset(dataset_dir, crs=crs, patrols=patrols_path is None)
        fixes = (load_patrols(patrols_path, crs=crs, shift=patrols_shift) if patrols_path is not None
                 else dataset.patrols)
        if dataset.rivers is None or fixes is None:
            raise InputFileError(
                "the dataset lacks what the patrol report needs", path=dataset_dir,
                expected="a rivers layer and patrol fixes (patrols*.parquet/.gpx/.csv)",
                found="no rivers layer" if dataset.rivers is None else "no patrol fixes",
                fix="add the file to the folder or pass --patrols FILE",
            )
        rivers = dataset.rivers
        progress.update(task, advance=1, description="cleaning GPS fixes")
        town = dataset.extra.get("town")
        cleaned, dropped = clean_fixes(fixes, area=town)
        progress.update(task, advance=1, description="measuring coverage")
        if engine == "dask" or scheduler:
            from .scale import client_for

            with client_for(scheduler):
                coverage = river_coverage(rivers, cleaned, tolerance_m=tolerance_m, engine="dask",
                                          start=start, end=end)
        else:
            coverage = river_coverage(rivers, cleaned, tolerance_m=tolerance_m, start=start, end=end)
        progress.update(task, advance=1, description="finding uncovered stretches")
        uncovered = uncovered_segments(rivers, cleaned, tolerance_m=tolerance_m, min_length_m=1.0,
                                       start=start, end=end)
        progress.update(task, advance=1, description="checking patrol frequency")
        result = compliance(rivers, cleaned, rules=rules, tolerance_m=tolerance_m, start=start, end=end)
        progress.update(task, advance=1, description="writing tables")
        by_river = result.by_river.assign(missed_periods=result.by_river["missed_periods"].str.join("; "))
        by_chief = result.by_chief.assign(missed_periods=result.by_chief["missed_periods"].str.join("; "))
        written = [
            write_table(coverage, out_dir / "coverage.csv"),
            write_table(by_river, out_dir / "compliance.csv"),
            write_table(by_chief, out_dir / "compliance_by_chief.csv"),
            write_table(dropped.drop(columns="geometry"), out_dir / "dropped_fixes.csv"),
            write_layers({"uncovered": uncovered}, out_dir / "uncovered.gpkg"),
        ]
        progress.update(task, advance=1)
        groups = _patrol_groups(rivers, by)
        maps_task = progress.add_task(f"writing maps (one per {by})", total=len(groups))
        taken: set[str] = {"index"}
        rows = []
        lo, hi = period_bounds(start, end)
        in_period = ((cleaned["timestamp"] >= lo) & (cleaned["timestamp"] < hi)).to_numpy()
        for label, ids in groups:
            sel = rivers["river_id"].isin(ids).to_numpy()
            sub_rivers = rivers[sel]
            sub_cov = coverage[coverage["river_id"].isin(ids)]
            sub_gaps = uncovered[uncovered["river_id"].isin(ids)]
            chiefs = set(sub_rivers["chief"].dropna()) if "chief" in sub_rivers.columns else set()
            mine = in_period & cleaned["chief"].isin(chiefs).to_numpy() if "chief" in cleaned else in_period
            if by != "chief":  # only the tracks near these rivers
                x0, y0, x1, y1 = sub_rivers.total_bounds
                xy = cleaned.geometry
                mine &= ((xy.x >= x0 - 200) & (xy.x <= x1 + 200)
                         & (xy.y >= y0 - 200) & (xy.y <= y1 + 200)).to_numpy()
            title = f"{label} 巡河覆盖 Patrol coverage {start} – {end}"
            m = coverage_map(sub_rivers, sub_cov, uncovered=sub_gaps, fixes=cleaned[mine],
                             basemap=basemap, tianditu_token=tianditu_token, title=title)
            name = f"maps/{_safe_filename(label, taken)}.html"
            save_map(m, out_dir / name, offline=offline)
            length = float(sub_cov["length_m"].sum())
            share = float(sub_cov["covered_m"].sum()) / length if length else 0.0
            ok = result.by_river[result.by_river["river_id"].isin(ids)]["compliant"]
            rows.append({"label": label, "file": name, "rivers": len(ids), "coverage": f"{share:.0%}",
                         "compliant": f"{int(ok.eq(True).sum())}/{int(ok.notna().sum())}"})
            progress.update(maps_task, advance=1)
        _write_index(out_dir / "index.html", rows, title=f"河长巡河报告 Patrol report {start} – {end}",
                     by=by)
    total = coverage["length_m"].sum()
    share = coverage["covered_m"].sum() / total if total else 0.0
    n_bad = int(result.by_river["compliant"].eq(False).sum())
    click.echo(f"{len(rivers)} rivers, {share:.1%} of {total / 1000:.1f} km covered; "
               f"{n_bad} rivers miss their patrol rule; {len(dropped)} fixes dropped; "
               f"{len(rows)} maps")
    for p in [*written, out_dir / "index.html"]:
        click.echo(f"wrote {p}")
    if strict and n_bad:
        sys.exit(EXIT_FOUND)


# --- water-quality (issue 6) ----------------------------------------------------


@cli.command("water-quality")
@click.argument("dataset_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--period", type=click.Choice(["M", "Q", "Y"]), default="Q", show_default=True,
              help="Assessment period: month, quarter or year (China time).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("water_quality"), show_default=True,
              help="Folder for assessment.csv, rivers.csv, summary.csv and water_quality.html.")
@click.option("--waterbody", type=click.Choice(["river", "lake"]), default="river", show_default=True,
              help="river: TN and fecal coliform reported only; lake: lake TP limits, TN assessed.")
@click.option("--map-period", default=None,
              help="Period shown on the map, e.g. 2022Q3 (default: the latest).")
@_map_options
@_crs_option
@click.option("--strict", is_flag=True,
              help="Exit with status 1 when any section misses its target in any period.")
def water_quality_command(dataset_dir: Path, period: Literal["M", "Q", "Y"], out_dir: Path,
                          waterbody: Literal["river", "lake"],
                          map_period: str | None, basemap: str, offline: bool,
                          tianditu_token: str | None, crs: str | None, strict: bool) -> None:
    """Assess water quality per GB 3838-2002 and write tables and a map to OUT.

    Sections are classed per period by the single-factor method (环办〔2011〕22号),
    rivers from their sections, and compliance with the target class is counted by
    tier. Writes assessment.csv, rivers.csv and summary.csv (UTF-8 with BOM, for
    Excel) and water_quality.html.
    """
    from .errors import InputFileError
    from .io import write_table
    from .loaders import load_dataset
    from .maps import save_map, water_quality_map
    from .water_quality import assess_rivers, assess_sections, compliance_summary

    dataset = load_dataset(dataset_dir, crs=crs, patrols=False)
    if dataset.measurements is None or dataset.sections is None:
        missing = "measurements.csv/.xlsx" if dataset.measurements is None else "the sections layer"
        raise InputFileError(
            "the dataset lacks what the assessment needs", path=dataset_dir,
            expected="a sections layer and measurements.csv (or .xlsx)", found=f"no {missing}",
            fix="add the file to the dataset folder",
        )
    assessment = assess_sections(dataset.measurements, dataset.sections, period=period,
                                 waterbody=waterbody)
    rivers = assess_rivers(assessment, dataset.rivers, waterbody=waterbody)
    summary = compliance_summary(assessment)
    written = [
        write_table(assessment, out_dir / "assessment.csv"),
        write_table(rivers, out_dir / "rivers.csv"),
        write_table(summary, out_dir / "summary.csv"),
    ]
    m = water_quality_map(assessment, dataset.sections, measurements=dataset.measurements,
                          rivers=dataset.rivers, river_assessment=rivers, period=map_period,
                          waterbody=waterbody, basemap=basemap, tianditu_token=tianditu_token)
    written.append(save_map(m, out_dir / "water_quality.html", offline=offline))
    failing = assessment[assessment["meets_target"].eq(False).fillna(False).astype(bool)]
    total = summary[summary["tier"] == "all"]
    click.echo(f"{assessment['section_id'].nunique()} sections, {assessment['period'].nunique()} "
               f"periods ({period}); {len(failing)} section-periods miss their target "
               f"(overall rate {total['n_meeting'].sum()}/{total['n_assessed'].sum()})")
    for p in written:
        click.echo(f"wrote {p}")
    if strict and len(failing):
        sys.exit(EXIT_FOUND)


# --- check-landuse (issue 7, 8) -------------------------------------------------

#: Order of the violation layers in violations.gpkg / .csv and of the summary rows.
_LANDUSE_CHECKS = {
    "redline": "生态红线 eco red line/space",
    "farmland": "基本农田 basic farmland",
    "setback": "河道管理范围 river setback",
    "rebuilt": "拆后复建 rebuilt on demolished",
    "landcover_change": "地类变化 land-cover change",
}


def _log(message: str) -> None:
    """One timestamped log line on stderr (cron mails stdout; logs stay apart)."""
    from datetime import datetime

    click.echo(f"{datetime.now().astimezone():%Y-%m-%d %H:%M:%S%z} check-landuse: {message}", err=True)


def _landuse_layers(dataset, survey, new, *, setback_m: float | None = None,
                    landcover: tuple[Path, Path] | None = None) -> dict:
    """Run the land-use checks; return {check name: violations GeoDataFrame}.

    ``new`` is the part of the survey to check against zones and setbacks (the
    structures new since --before, or the whole survey). The rebuilt check always
    runs on the whole survey: a structure rebuilt on the footprint it had before
    demolition matches the earlier survey and would not count as new.
    """
    from .landuse import (
        ZONE_CATEGORIES,
        check_violations,
        rebuilt_on_demolished,
        river_setback_violations,
    )

    layers = {}
    if dataset.redlines is not None:
        eco = [c for c in ZONE_CATEGORIES if c != "basic_farmland"]
        layers["redline"] = check_violations(new, dataset.redlines, categories=eco)
        layers["farmland"] = check_violations(new, dataset.redlines, categories="basic_farmland")
    if dataset.rivers is not None:
        layers["setback"] = river_setback_violations(new, dataset.rivers, setback_m=setback_m)
    if dataset.demolitions is not None:
        layers["rebuilt"] = rebuilt_on_demolished(survey, dataset.demolitions)
    if landcover is not None and dataset.redlines is not None:
        # Land-cover change patches inside red lines / farmland: inspection candidates.
        from .raster import SUSPECT_CHANGE_FROM, SUSPECT_CHANGE_TO, detect_change

        changes = detect_change(*landcover, from_classes=SUSPECT_CHANGE_FROM,
                                to_classes=SUSPECT_CHANGE_TO)
        _log(f"{len(changes)} land-cover change patches between {landcover[0].name} "
             f"and {landcover[1].name}")
        hits = check_violations(changes, dataset.redlines, id_field="change_id")
        attrs = changes.drop(columns=changes.geometry.name).rename(columns={"area_m2": "change_area_m2"})
        layers["landcover_change"] = hits.merge(attrs, on="change_id", how="left")
    return layers


def _landuse_table(layers: dict):
    """All violations in one table, in check order then each layer's (sorted) order."""
    import pandas as pd

    frames = [pd.DataFrame(g.drop(columns=g.geometry.name)).assign(check=name)
              for name, g in layers.items() if len(g)]
    if not frames:
        return pd.DataFrame({"check": []})
    table = pd.concat(frames, ignore_index=True)
    # people read this one: square metres to the cm², shares to 0.01 %
    table = table.round({"overlap_m2": 2, "overlap_share": 4, "site_share": 4})
    return table[["check"] + [c for c in table.columns if c != "check"]]


def _landuse_summary(layers: dict, id_field: str):
    from rich.console import JustifyMethod
    from rich.table import Table

    table = Table(title="Land-use checks 违法用地核查")
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("check", "left"), ("what", "left"), ("structures", "right"), ("rows", "right"), ("overlap m²", "right"))
    for col, justify in columns:
        table.add_column(col, justify=justify)
    for name, g in layers.items():
        ids = g[id_field].nunique() if id_field in g.columns else len(g)
        area = g["overlap_m2"].sum() if "overlap_m2" in g.columns else float("nan")
        table.add_row(name, _LANDUSE_CHECKS.get(name, name), str(ids), str(len(g)), f"{area:,.1f}")
    return table


@cli.command("check-landuse")
@click.argument("dataset_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--survey", "survey_path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Building survey to check (any vector format; buildings layer).")
@click.option("--before", "before_path", default=None,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Earlier survey: check only structures new since then (rebuilt: whole survey).")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for violations.gpkg, violations.csv and violations.html.")
@click.option("--setback-m", type=float, default=None,
              help="River setback from the centre line for every river, in metres "
                   "(default: per river level, dongping_geo/data/setbacks.yaml).")
@_map_options
@_crs_option
@click.option("--landcover-before", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Earlier land-cover GeoTIFF (with --landcover-after): add a "
                                 "landcover_change layer of change patches inside red lines/farmland.")
@click.option("--landcover-after", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Later land-cover GeoTIFF on the same grid as --landcover-before.")
def check_landuse(dataset_dir: Path, survey_path: Path, before_path: Path | None, out_dir: Path,
                  setback_m: float | None, basemap: str, offline: bool,
                  tianditu_token: str | None, crs: str | None,
                  landcover_before: Path | None = None, landcover_after: Path | None = None) -> None:
    """Check a building survey against red lines, farmland, river setbacks and demolished sites.

    Writes OUT/violations.gpkg (one layer per check), OUT/violations.csv (UTF-8
    with BOM) and OUT/violations.html, prints a summary table, and exits 0 when
    there is no violation, 1 when there are violations, 2 on bad input. Made for
    cron: no prompts, logs on stderr, deterministic row order, atomic outputs.
    """
    from .io import write_layers, write_table
    from .landuse import new_structures
    from .loaders import load_dataset, load_layer
    from .maps import save_map, violations_map

    if (landcover_before is None) != (landcover_after is None):
        raise click.UsageError("--landcover-before and --landcover-after go together")
    _log(f"dataset {dataset_dir}, survey {survey_path}" + (f", before {before_path}" if before_path else ""))
    dataset = load_dataset(dataset_dir, crs=crs, patrols=False)
    survey = load_layer(survey_path, "buildings", crs=crs)
    new = survey
    if before_path is not None:
        new = new_structures(load_layer(before_path, "buildings", crs=crs), survey)
        _log(f"{len(new)} of {len(survey)} structures are new since {before_path.name}")
    # Both or neither (checked above); testing both lets the type checker see it.
    landcover = ((landcover_before, landcover_after)
                 if landcover_before is not None and landcover_after is not None else None)
    layers = _landuse_layers(dataset, survey, new, setback_m=setback_m, landcover=landcover)
    if not layers:
        from .errors import InputFileError

        raise InputFileError("the dataset has nothing to check against", path=dataset_dir,
                             expected="redlines, rivers or demolitions layers", found="none of them",
                             fix="point DATASET_DIR at a folder laid out like data/shapefiles/")
    written = [write_layers(layers, out_dir / "violations.gpkg"),
               write_table(_landuse_table(layers), out_dir / "violations.csv")]
    m = violations_map(layers, zones=dataset.redlines, rivers=dataset.rivers,
                       demolitions=dataset.demolitions, basemap=basemap, tianditu_token=tianditu_token)
    written.append(save_map(m, out_dir / "violations.html", offline=offline))
    for p in written:
        _log(f"wrote {p}")
    console = _console()
    if not console.is_terminal:  # cron, pipes: keep the table's rows on one line each
        console.width = max(console.width, 110)
    console.print(_landuse_summary(layers, "building_id"))
    found = sum(len(g) for g in layers.values())
    _log(f"{found} violation rows" if found else "no violations")
    sys.exit(EXIT_FOUND if found else EXIT_OK)


# --- demo -----------------------------------------------------------------------


def _demo_steps(data: Path, out: Path) -> list[tuple[str, list[str]]]:
    """List the demo's commands as argument lists (each a command documented on its own)."""
    steps = [
        ("map", [str(data), "--out", str(out / "overview.html"), "--offline"]),
        ("patrol-report", [str(data), "--start", "2022-01-01", "--end", "2022-12-31",
                           "--out", str(out / "patrol"), "--offline"]),
        ("water-quality", [str(data), "--period", "Q", "--out", str(out / "water_quality"), "--offline"]),
    ]
    landuse = [str(data), "--survey", str(data / "buildings_2022.shp"),
               "--before", str(data / "buildings_2020.shp"), "--out", str(out / "landuse"), "--offline"]
    if (data / "landcover_2020.tif").exists() and (data / "landcover_2022.tif").exists():
        landuse += ["--landcover-before", str(data / "landcover_2020.tif"),
                    "--landcover-after", str(data / "landcover_2022.tif")]
    steps.append(("check-landuse", landuse))
    return steps


@cli.command()
@click.option("--data", "data_dir", type=click.Path(path_type=Path), default=None,
              help="Dataset folder (default: data/shapefiles/ of the repository, else a freshly "
                   "generated sample dataset).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("out"), show_default=True,
              help="Folder for every map and report.")
def demo(data_dir: Path | None, out_dir: Path) -> None:
    """Run every analysis on the sample data and write all maps and reports to OUT.

    Validates the dataset, then writes the overview map, the patrol report (one map
    per river chief), the water-quality assessment and the land-use checks. Maps are
    written offline (self-contained HTML), so they work without internet.
    """
    err = _console(err=True)
    if data_dir is None:
        repo_data = Path.cwd() / "data" / "shapefiles"
        if (repo_data / "rivers.shp").exists():
            data_dir = repo_data
        else:
            from .sample import make_sample

            data_dir = out_dir / "sample_data"
            err.print(f"generating the sample dataset into {data_dir} …")
            make_sample(data_dir)
    err.print(f"dataset: {data_dir}")
    before = {p for p in out_dir.rglob("*") if p.is_file()} if out_dir.exists() else set()
    failures = []
    for name, args in [("validate", [str(data_dir)])] + _demo_steps(data_dir, out_dir):
        if name not in cli.commands:
            err.print(f"[yellow]skipped {name}: command not available[/yellow]")
            continue
        if name != "validate":  # validate prints its own title
            err.print(f"[bold]dongping-geo {name}[/bold]")
        code: int | str  # SystemExit.code may be a message
        try:
            cli.main(args=[name, *args], prog_name="dongping-geo", standalone_mode=False)
            code = EXIT_OK
        except SystemExit as exc:
            code = exc.code or 0
        except click.ClickException as exc:
            exc.show()
            code = exc.exit_code
        if code not in (EXIT_OK, EXIT_FOUND):  # 1 = findings (violations, problems): expected
            failures.append(name)
    written = sorted(p for p in out_dir.rglob("*") if p.is_file() and p not in before)
    click.echo(f"wrote {len(written)} files into {out_dir}/:")
    for p in written:
        click.echo(f"  {p}")
    if failures:
        raise click.ClickException("demo steps failed: " + ", ".join(failures))


if __name__ == "__main__":  # pragma: no cover
    main()  # exits with the command's status (click standalone mode)
