"""problems: problems found on patrol, overdue and recurring ones, signboard check, a map."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ._common import (
    EXIT_FOUND,
    cli,
    console,
    crs_option,
    dataset_argument,
    echo_written,
    map_options,
)


@cli.command("problems")
@dataset_argument
@click.option("--start", required=True, help="First day of the period (e.g. 2022-01-01).")
@click.option("--end", required=True, help="Last day of the period, included; the state is assessed at its end.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for the tables (CSV), problems.gpkg and problems_map.html.")
@click.option("--overdue-days", type=click.FloatRange(min=0, min_open=True), default=7.0, show_default=True,
              help="An open problem is overdue this many days after it was reported.")
@map_options
@crs_option
@click.option("--strict", is_flag=True, help="Exit with status 1 when any problem is overdue.")
def problems(dataset_dir: Path, start: str, end: str, out_dir: Path, overdue_days: float, basemap: str,
             offline: bool, tianditu_token: str | None, crs: str | None, strict: bool) -> None:
    """Problems found on patrol (巡河问题) and river-chief signboards (河长公示牌).

    Summarises the problems reported from --start to --end (overall, per river, per
    chief, per month: counts by kind and status, days to resolve, open and overdue),
    lists the overdue problems (open --overdue-days or more as of the end of --end)
    and the re-check failures (a problem reported again near a resolved one),
    checks the signboards, and writes CSV tables (UTF-8 with BOM), problems.gpkg
    and problems_map.html. Rules and defaults: docs/problems.md.
    """
    from ..errors import InputFileError
    from ..loaders import load_dataset
    from ..patrol import period_bounds
    from ..reports import MapOptions, ProblemsReport

    period_bounds(start, end)  # bad dates fail before the slow work
    dataset = load_dataset(dataset_dir, crs=crs, patrols=False)
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
    written = report.write(out_dir, inputs=[dataset_dir], map_options=MapOptions(basemap, tianditu_token, offline))
    click.echo(report.summary())
    echo_written(written)
    if strict and len(report.overdue):
        sys.exit(EXIT_FOUND)
