"""land-accounts: the land survey's accounts by village and class, and its changes."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ._common import cli, crs_option, echo_written, given, log, output_options

if TYPE_CHECKING:  # pragma: no cover
    from ..reports import OutputOptions

_SURVEY = click.Path(exists=True, path_type=Path)


@cli.command("land-accounts")
@click.argument("survey_path", type=_SURVEY)
@click.option("--by", default="village", show_default=True,
              help="Column to split the accounts by: village, village_code, owner, owner_code … "
                   "or 'none' for the whole town.")
@click.option("--level", type=click.Choice(["land_class", "land_code"]), default="land_class",
              show_default=True, help="First-level classes (一级地类) or second-level codes (二级地类).")
@click.option("--before", "before_path", default=None, type=_SURVEY,
              help="Earlier vintage of the survey: add the transition table and the cultivated land lost.")
@click.option("--layer", default=None, help="Parcel layer (default: DLTB/地类图斑, or the one with DLBM and TBMJ).")
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path),
              help="Folder for land_accounts.csv (and land_transitions.csv, cultivated_loss.csv/.gpkg).")
@output_options
@crs_option
def land_accounts(survey_path: Path, by: str, level: str, before_path: Path | None, layer: str | None,
                  out_dir: Path, output: OutputOptions, crs: str | None) -> None:
    """Write the land accounts of a land survey (三调/变更调查 地类图斑) by village and class.

    SURVEY_PATH is a File Geodatabase folder (.gdb), a GeoPackage or a Shapefile. Areas
    are the survey's official TBMJ, in m² and 亩, with the net area after the
    field-ridge deduction; the totals equal the sum of TBMJ. With --before, also the
    area moving from each class to each other class and the pieces of cultivated land
    lost. Exits 0 when written, 2 on bad input.
    """
    from ..io import check_output_dir
    from ..loaders import load_land_survey
    from ..reports import LandAccountsReport

    say = partial(log, "land-accounts")
    inputs = given(survey_path, before_path)
    check_output_dir(out_dir, inputs=inputs)  # a bad destination fails before the slow work
    parcels = load_land_survey(survey_path, layer, crs=crs)
    say(f"{survey_path}: {len(parcels)} parcels (layer {parcels.attrs.get('file_layer')})")
    before = load_land_survey(before_path, layer, crs=crs) if before_path is not None else None
    report = LandAccountsReport.compute(parcels, before=before, by=None if by.lower() == "none" else by,
                                        level=level, progress=say)
    echo_written(report.write(out_dir, inputs=inputs, output=output))
