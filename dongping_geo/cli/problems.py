"""problems: problems found on patrol, overdue and recurring ones, signboard check, a map."""

from __future__ import annotations

import sys
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
    map_options,
    output_options,
    reading_options,
    rejected_rows,
    say_rejected,
)

if TYPE_CHECKING:  # pragma: no cover
    from ..reports import OutputOptions


@cli.command("problems")
@dataset_argument
@click.option("--start", required=True, help="First day of the period (e.g. 2022-01-01).")
@click.option("--end", required=True, help="Last day of the period, included; the state is assessed at its end.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True,
              help="Folder for the tables (CSV), problems.gpkg and problems_map.html.")
@click.option("--overdue-days", type=click.FloatRange(min=0, min_open=True), default=7.0, show_default=True,
              help="An open problem is overdue this many days after it was reported.")
@map_options
@output_options
@crs_option
@click.option("--strict", is_flag=True, help="Exit with status 1 when any problem is overdue.")
@reading_options
def problems(dataset_dir: Path, start: str, end: str, out_dir: Path, overdue_days: float, basemap: str,
             offline: bool, tianditu_token: str | None, output: OutputOptions, crs: str | None, strict: bool,
             on_error: str, date_format: str | None) -> None:
    """Problems found on patrol (巡河问题) and river-chief signboards (河长公示牌).

    Summarises the problems reported from --start to --end (overall, per river, per
    chief, per month: counts by kind and status, days to resolve, open and overdue),
    lists the overdue problems (open --overdue-days or more as of the end of --end)
    and the re-check failures (a problem reported again near a resolved one),
    checks the signboards, and writes CSV tables (UTF-8 with BOM), problems.gpkg
    and problems_map.html. Rules and defaults: docs/problems.md.
    """
    from ..errors import InputFileError
    from ..io import check_output_dir
    from ..loaders import load_dataset
    from ..patrol import period_bounds
    from ..reports import MapOptions, ProblemsReport

    inputs = [dataset_dir]
    check_output_dir(out_dir, inputs=inputs)  # every argument is checked before the slow work
    period_bounds(start, end)
    dataset = load_dataset(dataset_dir, crs=crs, patrols=False, on_error=on_error, date_format=date_format)
    if dataset.rivers is None or dataset.problems is None:
        raise InputFileError(
            "the dataset lacks what the problems report needs", path=dataset_dir,
            expected="a rivers layer and a problems layer (problems.* or 巡河问题.*, GIS file or lon/lat CSV/XLSX)",
            found="no rivers layer" if dataset.rivers is None else "no problems layer",
            fix="add the file to the folder",
        )
    err = console(err=True)
    report = ProblemsReport.compute(dataset.problems, dataset.rivers, start=start, end=end,
                                    signboards=dataset.signboards, overdue_days=overdue_days, progress=err.print)
    rejected = rejected_rows(on_error, dataset)
    written = report.write(out_dir, inputs=inputs, output=output, rejected=rejected,
                           map_options=MapOptions(basemap, tianditu_token, offline))
    click.echo(report.summary())
    echo_written(written)
    code = say_rejected(rejected, out_dir)
    sys.exit(EXIT_FOUND if strict and len(report.overdue) else code or EXIT_OK)
