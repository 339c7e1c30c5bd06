"""check-landuse: the land-use violation checks, made for cron."""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ._common import (
    EXIT_BAD_INPUT,
    EXIT_FOUND,
    cli,
    console,
    crs_option,
    dataset_argument,
    echo_written,
    given,
    log,
    map_options,
    output_options,
    reading_options,
    rejected_rows,
    say_rejected,
)


def _check_names(ctx: click.Context, param: click.Parameter, value: str | None) -> frozenset[str]:
    """Parse --skip-missing CHECK[,CHECK] against the known checks."""
    from ..reports import LANDUSE_CHECK_LAYERS

    names = frozenset(n.strip() for n in (value or "").split(",") if n.strip())
    unknown = sorted(names - set(LANDUSE_CHECK_LAYERS))
    if unknown:
        raise click.BadParameter(f"unknown check {', '.join(unknown)}; the checks are "
                                 f"{', '.join(LANDUSE_CHECK_LAYERS)}")
    return names


def _missing_hint(dataset: object, missing: list[str]) -> str:
    """Name a stray file whose columns look like a missing layer (``redline.shp`` for redlines)."""
    from ..loaders import guess_layer
    from ..reports import LANDUSE_CHECK_LAYERS

    wanted = {LANDUSE_CHECK_LAYERS[c] for c in missing}
    for stem, gdf in getattr(dataset, "extra", {}).items():
        layer = guess_layer(gdf.columns)
        if layer in wanted:
            return f"; {stem} looks like the {layer} layer: rename it {layer}.shp (or .gpkg)"
    return ""


def _summary_table(rows: list[tuple[str, str, int, int, float]]) -> object:
    from rich.console import JustifyMethod
    from rich.table import Table

    table = Table(title="Land-use checks 违法用地核查")
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("check", "left"), ("what", "left"), ("structures", "right"), ("rows", "right"), ("overlap m²", "right"))
    for col, justify in columns:
        table.add_column(col, justify=justify)
    for name, what, ids, n, area in rows:
        table.add_row(name, what, str(ids), str(n), f"{area:,.1f}")
    return table

if TYPE_CHECKING:
    from ..reports import OutputOptions


@cli.command("check-landuse")
@dataset_argument
@click.option("--survey", "survey_path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Building survey to check (any vector format; buildings layer).")
@click.option("--before", "before_path", default=None,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Earlier survey: check only structures new since then (rebuilt: whole survey).")
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path),
              help="Folder for violations.gpkg, violations.csv and violations.html.")
@click.option("--setback-m", type=click.FloatRange(min=0, min_open=True), default=None,
              help="River setback from the centre line for every river, in metres "
                   "(default: per river level, dongping_geo/data/setbacks.yaml).")
@map_options
@output_options
@crs_option
@click.option("--landcover-before", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Earlier land-cover GeoTIFF (with --landcover-after): add a "
                                 "landcover_change layer of change patches inside red lines/farmland.")
@click.option("--landcover-after", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Later land-cover GeoTIFF on the same grid as --landcover-before.")
@click.option("--land-survey", "land_survey_path", default=None, type=click.Path(exists=True, path_type=Path),
              help="Land survey (三调/变更调查 地类图斑 DLTB: a .gdb folder, GeoPackage or Shapefile): add a "
                   "cropland layer of structures on cultivated land (乱占耕地建房; the new ones with --before).")
@click.option("--skip-missing", default=None, callback=_check_names, metavar="CHECK[,CHECK]",
              help="Checks to leave out when the dataset lacks their layer (redline, farmland, setback, "
                   "rebuilt, landcover_change); without it a check that cannot run exits 2.")
@reading_options
def check_landuse(dataset_dir: Path, survey_path: Path, before_path: Path | None, out_dir: Path,
                  setback_m: float | None, basemap: str, offline: bool,
                  tianditu_token: str | None, output: OutputOptions, crs: str | None,
                  landcover_before: Path | None = None, landcover_after: Path | None = None,
                  land_survey_path: Path | None = None,
                  skip_missing: frozenset[str] = frozenset(), on_error: str = "raise",
                  date_format: str | None = None) -> None:
    """Check a building survey against red lines, farmland, river setbacks and demolished sites.

    With --land-survey, also against the cultivated land (耕地) of the land survey.

    Writes OUT/violations.gpkg (one layer per check), OUT/violations.csv (UTF-8
    with BOM) and OUT/violations.html, prints a summary table, and exits 0 when
    there is no violation, 1 when there are violations, 2 on bad input. A check
    whose layer the dataset lacks is written as an empty layer and exits 2 unless
    --skip-missing names it. Made for cron: no prompts, logs on stderr,
    deterministic row order, atomic outputs.
    """
    from ..io import check_output_dir
    from ..landuse import new_structures
    from ..loaders import load_dataset, load_land_survey, load_layer
    from ..reports import LANDUSE_CHECK_LAYERS, LanduseReport, MapOptions

    say = partial(log, "check-landuse")
    inputs = given(dataset_dir, survey_path, before_path, landcover_before, landcover_after, land_survey_path)
    check_output_dir(out_dir, inputs=inputs)  # every argument is checked before the slow work
    if (landcover_before is None) != (landcover_after is None):
        raise click.UsageError("--landcover-before and --landcover-after go together")
    say(f"dataset {dataset_dir}, survey {survey_path}" + (f", before {before_path}" if before_path else ""))
    read: dict[str, Any] = {"crs": crs, "on_error": on_error, "date_format": date_format}
    dataset = load_dataset(dataset_dir, patrols=False, **read)
    survey = load_layer(survey_path, "buildings", **read)
    new = survey
    before = None
    if before_path is not None:
        before = load_layer(before_path, "buildings", **read)
        new = new_structures(before, survey)
        say(f"{len(new)} of {len(survey)} structures are new since {before_path.name}")
    # Both or neither (checked above); testing both lets the type checker see it.
    landcover = ((landcover_before, landcover_after)
                 if landcover_before is not None and landcover_after is not None else None)
    parcels = None
    if land_survey_path is not None:
        parcels = load_land_survey(land_survey_path, crs=crs)
        say(f"land survey {land_survey_path}: {len(parcels)} parcels (layer {parcels.attrs.get('file_layer')})")
    report = LanduseReport.compute(dataset, survey, new=new, setback_m=setback_m, landcover=landcover,
                                   land_survey=parcels, progress=say)
    rejected = rejected_rows(on_error, dataset, survey, *([before] if before is not None else []))
    for p in report.write(out_dir, inputs=inputs, rejected=rejected, output=output,
                          map_options=MapOptions(basemap, tianditu_token, offline)):
        say(f"wrote {p}")
    out = console()
    if not out.is_terminal:  # cron, pipes: keep the table's rows on one line each
        out.width = max(out.width, 110)
    out.print(_summary_table(report.counts()))
    say(f"{report.n_rows} violation rows" if report.n_rows else "no violations")
    code = say_rejected(rejected, out_dir)
    unexpected = [c for c in report.missing if c not in skip_missing]
    if report.missing:
        layers = sorted({LANDUSE_CHECK_LAYERS[c] for c in report.missing})
        click.echo(f"{'error' if unexpected else 'note'}: checks not run (no {', '.join(layers)} layer in "
                   f"{dataset_dir}): {', '.join(report.missing)}; written as empty layers"
                   + _missing_hint(dataset, report.missing), err=True)
    if unexpected:
        click.echo(f"fix: add the layer, or leave the checks out with --skip-missing {','.join(unexpected)}",
                   err=True)
        sys.exit(EXIT_BAD_INPUT)
    sys.exit(EXIT_FOUND if report.n_rows else code)


@cli.command("demolition-summary")
@dataset_argument
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path),
              help="Folder for the summary tables and demolitions.png.")
@output_options
@crs_option
@reading_options
def demolition_summary_command(dataset_dir: Path, out_dir: Path, output: OutputOptions, crs: str | None,
                               on_error: str = "raise", date_format: str | None = None) -> None:
    """Count demolished structures and sum their areas by year, kind and region.

    Writes demolitions_by_year_kind_region, demolitions_by_year, demolitions_by_kind
    and demolitions_by_region (each with a totals row; CSV files or one XLSX workbook
    with --format xlsx) and demolitions.png (area by year, stacked by kind), all
    together or none.
    """
    from ..errors import InputFileError
    from ..io import check_output_dir
    from ..loaders import load_dataset
    from ..reports import DemolitionReport

    check_output_dir(out_dir, inputs=[dataset_dir])  # before the slow work
    dataset = load_dataset(dataset_dir, crs=crs, patrols=False, on_error=on_error, date_format=date_format)
    if dataset.demolitions is None:
        raise InputFileError("the dataset has no demolitions layer", path=dataset_dir,
                             expected="demolitions.shp (or a demolitions layer)", found="none",
                             fix="point DATASET_DIR at a folder laid out like data/shapefiles/")
    report = DemolitionReport.compute(dataset.demolitions)
    rejected = rejected_rows(on_error, dataset)
    written = report.write(out_dir, output=output, inputs=[dataset_dir], rejected=rejected)
    total = demolition_total(dataset.demolitions)
    click.echo(f"{total[0]} demolition cases, {total[1]:,.1f} m² demolished")
    echo_written(written)
    sys.exit(say_rejected(rejected, out_dir))


def demolition_total(demolitions: object) -> tuple[int, float]:
    """(cases, area m²) over the whole layer."""
    from ..landuse import demolition_summary

    row = demolition_summary(demolitions, by=()).iloc[0]  # type: ignore[arg-type]
    return int(row["count"]), float(row["area_m2"])
