"""map: the overview map of a dataset."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ._common import (
    cli,
    crs_option,
    dataset_argument,
    map_options,
    reading_options,
    rejected_rows,
    say_rejected,
)


@cli.command("map")
@dataset_argument
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("overview.html"), show_default=True,
              help="HTML file to write (with --on-error report, rejected.csv is written beside it).")
@map_options
@crs_option
@reading_options
def map_command(dataset_dir: Path, out_path: Path, basemap: str, offline: bool,
                tianditu_token: str | None, crs: str | None, on_error: str, date_format: str | None) -> None:
    """Write an overview map of DATASET_DIR: rivers, sections, red lines and demolitions.

    Each layer is a toggleable overlay with a bilingual legend, tooltips and popups.
    The map is never written into DATASET_DIR nor over a file of it (exit 2).
    """
    from ..io import check_output_dir, check_output_path
    from ..loaders import load_dataset
    from ..maps import overview_map, save_map
    from ..reports import staged_outputs, write_rejected

    inputs = [dataset_dir]
    check_output_dir(out_path.parent, inputs=inputs)  # refused before anything is read
    check_output_path(out_path, inputs=inputs)
    dataset = load_dataset(dataset_dir, crs=crs, patrols=False, on_error=on_error, date_format=date_format)
    rejected = rejected_rows(on_error, dataset)
    m = overview_map(dataset, basemap=basemap, tianditu_token=tianditu_token)
    with staged_outputs(out_path.parent, inputs=inputs) as stage:
        save_map(m, stage / out_path.name, offline=offline)
        write_rejected(rejected, stage)
    written = out_path
    click.echo(f"wrote {written} ({written.stat().st_size / 1e6:.2f} MB"
               + (", offline" if offline else "") + ")")
    sys.exit(say_rejected(rejected, out_path.parent))
