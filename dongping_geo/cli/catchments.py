"""catchments: what drains into each section, and the land use behind a failing class."""

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
    crs_option,
    dataset_argument,
    echo_written,
    log,
    map_options,
    output_options,
    reading_options,
    rejected_rows,
    say_rejected,
)

if TYPE_CHECKING:
    from ..reports import OutputOptions


@cli.command("catchments")
@dataset_argument
@click.option("--year", type=int, required=True,
              help="Calendar year: the yearly GB 3838 assessment and landcover_<year>.tif.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path),
              default=Path("catchments"), show_default=True,
              help="Folder for catchments.gpkg, section_drivers.csv, greening_candidates.csv/.gpkg, "
                   "small_watersheds.csv, network_problems.csv and catchments.html.")
@click.option("--strip-m", type=float, default=100.0, show_default=True,
              help="Width of the bank strips (岸带), in metres from the river centre line.")
@click.option("--on-problem", type=click.Choice(["report", "raise"]), default="report", show_default=True,
              help="Rivers without a single downstream path: list them in network_problems.csv and leave "
                   "them unconnected downstream (report), or stop with an error (raise).")
@map_options
@output_options
@crs_option
@click.option("--strict", is_flag=True, help="Exit with status 1 when any section misses its target.")
@reading_options
def catchments_command(dataset_dir: Path, year: int, out_dir: Path, strip_m: float,
                       on_problem: str, basemap: str, offline: bool, tianditu_token: str | None,
                       output: OutputOptions, crs: str | None, strict: bool, on_error: str,
                       date_format: str | None) -> None:
    """Relate each section's water class to the land that drains to it, and write OUT.

    The dataset needs rivers, sections, measurements, landcover_<year>.tif and the
    town boundary (town.shp or .gpkg). Builds the river network (flow from flows_to, else the management levels),
    allocates the town to its nearest river stretch and unites the units upstream
    of each section (its catchment, 汇水区). Writes catchments.gpkg (section and
    river catchments, their bank strips and the upstream stretches as layers),
    section_drivers.csv (class against target next to the farmland, greenhouse,
    built-up and natural shares of the catchment and its bank strip),
    greening_candidates.csv/.gpkg (减麦增绿), small_watersheds.csv (生态清洁小流域
    indicators), network_problems.csv and catchments.html, all together or none.
    """
    from ..io import check_output_dir
    from ..loaders import load_dataset
    from ..reports import CatchmentsReport, MapOptions

    say = partial(log, "catchments")
    inputs = [dataset_dir]
    check_output_dir(out_dir, inputs=inputs)  # before the slow work
    dataset = load_dataset(dataset_dir, crs=crs, patrols=False, on_error=on_error, date_format=date_format)
    rejected = rejected_rows(on_error, dataset)
    report = CatchmentsReport.compute(dataset, year=year, strip_m=strip_m,
                                      on_problem="raise" if on_problem == "raise" else "report", progress=say)
    written = report.write(out_dir, inputs=inputs, rejected=rejected, output=output,
                           map_options=MapOptions(basemap, tianditu_token, offline))
    click.echo(report.summary_line())
    echo_written(written)
    code = say_rejected(rejected, out_dir)
    sys.exit(EXIT_FOUND if strict and len(report.failing) else code or EXIT_OK)
