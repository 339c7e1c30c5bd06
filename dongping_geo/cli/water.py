"""water-quality: GB 3838-2002 assessment of sections and rivers."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import click

from ._common import (
    EXIT_FOUND,
    cli,
    crs_option,
    dataset_argument,
    echo_written,
    map_options,
    output_options,
)

if TYPE_CHECKING:
    from ..reports import OutputOptions


@cli.command("water-quality")
@dataset_argument
@click.option("--period", type=click.Choice(["M", "Q", "Y"]), default="Q", show_default=True,
              help="Assessment period: month, quarter or year (China time).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
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
def water_quality_command(dataset_dir: Path, period: Literal["M", "Q", "Y"], out_dir: Path,
                          waterbody: Literal["river", "lake"],
                          map_period: str | None, basemap: str, offline: bool,
                          tianditu_token: str | None, output: OutputOptions, crs: str | None, strict: bool) -> None:
    """Assess water quality per GB 3838-2002 and write tables and a map to OUT.

    Sections are classed per period by the single-factor method (环办〔2011〕22号),
    rivers from their sections, and compliance with the target class is counted by
    tier. Writes assessment.csv, rivers.csv and summary.csv (UTF-8 with BOM, for
    Excel) and water_quality.html, all together or none.
    """
    from ..errors import InputFileError
    from ..loaders import load_dataset
    from ..reports import MapOptions, WaterQualityReport

    dataset = load_dataset(dataset_dir, crs=crs, patrols=False)
    if dataset.measurements is None or dataset.sections is None:
        missing = "measurements.csv/.xlsx" if dataset.measurements is None else "the sections layer"
        raise InputFileError(
            "the dataset lacks what the assessment needs", path=dataset_dir,
            expected="a sections layer and measurements.csv (or .xlsx)", found=f"no {missing}",
            fix="add the file to the dataset folder",
        )
    report = WaterQualityReport.compute(dataset, period=period, waterbody=waterbody)
    written = report.write(out_dir, map_period=map_period, inputs=[dataset_dir], output=output,
                           map_options=MapOptions(basemap, tianditu_token, offline))
    click.echo(report.summary_line())
    echo_written(written)
    if strict and len(report.failing):
        sys.exit(EXIT_FOUND)
