"""check-landuse: the land-use violation checks, made for cron."""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ._common import (
    EXIT_FOUND,
    EXIT_OK,
    cli,
    console,
    crs_option,
    dataset_argument,
    echo_written,
    log,
    map_options,
    output_options,
)


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
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for violations.gpkg, violations.csv and violations.html.")
@click.option("--setback-m", type=float, default=None,
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
def check_landuse(dataset_dir: Path, survey_path: Path, before_path: Path | None, out_dir: Path,
                  setback_m: float | None, basemap: str, offline: bool,
                  tianditu_token: str | None, output: OutputOptions, crs: str | None,
                  landcover_before: Path | None = None, landcover_after: Path | None = None) -> None:
    """Check a building survey against red lines, farmland, river setbacks and demolished sites.

    Writes OUT/violations.gpkg (one layer per check), OUT/violations.csv (UTF-8
    with BOM) and OUT/violations.html, prints a summary table, and exits 0 when
    there is no violation, 1 when there are violations, 2 on bad input. Made for
    cron: no prompts, logs on stderr, deterministic row order, atomic outputs.
    """
    from ..errors import InputFileError
    from ..landuse import new_structures
    from ..loaders import load_dataset, load_layer
    from ..reports import LanduseReport, MapOptions

    say = partial(log, "check-landuse")
    if (landcover_before is None) != (landcover_after is None):
        raise click.UsageError("--landcover-before and --landcover-after go together")
    say(f"dataset {dataset_dir}, survey {survey_path}" + (f", before {before_path}" if before_path else ""))
    dataset = load_dataset(dataset_dir, crs=crs, patrols=False)
    survey = load_layer(survey_path, "buildings", crs=crs)
    new = survey
    if before_path is not None:
        new = new_structures(load_layer(before_path, "buildings", crs=crs), survey)
        say(f"{len(new)} of {len(survey)} structures are new since {before_path.name}")
    # Both or neither (checked above); testing both lets the type checker see it.
    landcover = ((landcover_before, landcover_after)
                 if landcover_before is not None and landcover_after is not None else None)
    report = LanduseReport.compute(dataset, survey, new=new, setback_m=setback_m, landcover=landcover,
                                   progress=say)
    if not report.layers:
        raise InputFileError("the dataset has nothing to check against", path=dataset_dir,
                             expected="redlines, rivers or demolitions layers", found="none of them",
                             fix="point DATASET_DIR at a folder laid out like data/shapefiles/")
    inputs = [p for p in (dataset_dir, survey_path, before_path, landcover_before, landcover_after) if p]
    for p in report.write(out_dir, inputs=inputs, output=output, map_options=MapOptions(basemap, tianditu_token, offline)):
        say(f"wrote {p}")
    out = console()
    if not out.is_terminal:  # cron, pipes: keep the table's rows on one line each
        out.width = max(out.width, 110)
    out.print(_summary_table(report.counts()))
    say(f"{report.n_rows} violation rows" if report.n_rows else "no violations")
    sys.exit(EXIT_FOUND if report.n_rows else EXIT_OK)


@cli.command("demolition-summary")
@dataset_argument
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the summary tables and demolitions.png.")
@output_options
@crs_option
def demolition_summary_command(dataset_dir: Path, out_dir: Path, output: OutputOptions, crs: str | None) -> None:
    """Count demolished structures and sum their areas by year, kind and region.

    Writes demolitions_by_year_kind_region, demolitions_by_year, demolitions_by_kind
    and demolitions_by_region (each with a totals row; CSV files or one XLSX workbook
    with --format xlsx) and demolitions.png (area by year, stacked by kind), all
    together or none.
    """
    from ..errors import InputFileError
    from ..loaders import load_dataset
    from ..reports import DemolitionReport

    dataset = load_dataset(dataset_dir, crs=crs, patrols=False)
    if dataset.demolitions is None:
        raise InputFileError("the dataset has no demolitions layer", path=dataset_dir,
                             expected="demolitions.shp (or a demolitions layer)", found="none",
                             fix="point DATASET_DIR at a folder laid out like data/shapefiles/")
    report = DemolitionReport.compute(dataset.demolitions)
    written = report.write(out_dir, output=output, inputs=[dataset_dir])
    total = demolition_total(dataset.demolitions)
    click.echo(f"{total[0]} demolition cases, {total[1]:,.1f} m² demolished")
    echo_written(written)


def demolition_total(demolitions: object) -> tuple[int, float]:
    """(cases, area m²) over the whole layer."""
    from ..landuse import demolition_summary

    row = demolition_summary(demolitions, by=()).iloc[0]  # type: ignore[arg-type]
    return int(row["count"]), float(row["area_m2"])
