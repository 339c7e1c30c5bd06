"""water-quality: GB 3838-2002 assessment of sections and rivers."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import click

from ._common import (
    EXIT_FOUND,
    EXIT_OK,
    cli,
    crs_option,
    dataset_argument,
    echo_written,
    map_options,
    output_options,
    reading_options,
    rejected_rows,
    say_rejected,
)

if TYPE_CHECKING:
    from ..reports import OutputOptions


def _check_map_period(map_period: str | None, period: str) -> None:
    """Refuse a --map-period that is not a period of the --period kind (before any work)."""
    import pandas as pd

    from ..errors import ConfigError

    if map_period is None:
        return
    forms = {"M": ("M", "2022-03"), "Q": ("Q", "2022Q3"), "Y": ("Y", "2022")}
    freq, example = forms[period]
    try:
        ok = str(pd.Period(map_period, freq=freq)) == map_period
    except (ValueError, TypeError, OverflowError):
        ok = False
    if not ok:
        raise ConfigError("--map-period is not a period of the assessment", field="--map-period",
                          expected=f"a {dict(M='month', Q='quarter', Y='year')[period]} like {example} "
                                   f"(--period {period})",
                          found=repr(map_period), fix=f"pass --map-period {example}, or change --period")


@cli.command("water-quality")
@dataset_argument
@click.option("--period", type=click.Choice(["M", "Q", "Y"]), default="Q", show_default=True,
              help="Assessment period: month, quarter or year (China time).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path),
              default=Path("water_quality"), show_default=True,
              help="Folder for assessment.csv, rivers.csv, summary.csv and water_quality.html.")
@click.option("--waterbody", type=click.Choice(["river", "lake"]), default="river", show_default=True,
              help="river: TN and fecal coliform reported only; lake: lake TP limits, TN assessed.")
@click.option("--map-period", default=None,
              help="Period shown on the map, e.g. 2022Q3 (default: the latest).")
@map_options
@output_options
@crs_option
@click.option("--strict", is_flag=True,
              help="Exit with status 1 when any section misses its target in any period.")
@reading_options
def water_quality_command(dataset_dir: Path, period: Literal["M", "Q", "Y"], out_dir: Path,
                          waterbody: Literal["river", "lake"],
                          map_period: str | None, basemap: str, offline: bool,
                          tianditu_token: str | None, output: OutputOptions, crs: str | None, strict: bool,
                          on_error: str, date_format: str | None) -> None:
    """Assess water quality per GB 3838-2002 and write tables and a map to OUT.

    Sections are classed per period by the single-factor method (环办〔2011〕22号),
    rivers from their sections, and compliance with the target class is counted by
    tier. Writes assessment.csv, rivers.csv and summary.csv (UTF-8 with BOM, for
    Excel) and water_quality.html, all together or none.
    """
    from ..errors import InputFileError
    from ..io import check_output_dir
    from ..loaders import load_dataset
    from ..reports import MapOptions, WaterQualityReport

    inputs = [dataset_dir]
    check_output_dir(out_dir, inputs=inputs)  # every argument is checked before the slow work
    _check_map_period(map_period, period)
    dataset = load_dataset(dataset_dir, crs=crs, patrols=False, on_error=on_error, date_format=date_format)
    if dataset.measurements is None or dataset.sections is None:
        missing = "measurements.csv/.xlsx" if dataset.measurements is None else "the sections layer"
        raise InputFileError(
            "the dataset lacks what the assessment needs", path=dataset_dir,
            expected="a sections layer and measurements.csv (or .xlsx)", found=f"no {missing}",
            fix="add the file to the dataset folder",
        )
    rejected = rejected_rows(on_error, dataset)
    report = WaterQualityReport.compute(dataset, period=period, waterbody=waterbody)
    written = report.write(out_dir, map_period=map_period, inputs=inputs, rejected=rejected, output=output,
                           map_options=MapOptions(basemap, tianditu_token, offline))
    click.echo(report.summary_line())
    echo_written(written)
    code = say_rejected(rejected, out_dir)
    sys.exit(EXIT_FOUND if strict and len(report.failing) else code or EXIT_OK)
