"""map: the overview map of a dataset."""

from __future__ import annotations

from pathlib import Path

import click

from ._common import cli, crs_option, dataset_argument, map_options


@cli.command("map")
@dataset_argument
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("overview.html"), show_default=True, help="HTML file to write.")
@map_options
@crs_option
def map_command(dataset_dir: Path, out_path: Path, basemap: str, offline: bool,
                tianditu_token: str | None, crs: str | None) -> None:
    """Write an overview map of DATASET_DIR: rivers, sections, red lines and demolitions.

    Each layer is a toggleable overlay with a bilingual legend, tooltips and popups.
    """
    from ..loaders import load_dataset
    from ..maps import overview_map, save_map
    from ..reports import staged_outputs

    dataset = load_dataset(dataset_dir, crs=crs, patrols=False)
    m = overview_map(dataset, basemap=basemap, tianditu_token=tianditu_token)
    with staged_outputs(out_path.parent, inputs=[dataset_dir]) as stage:
        save_map(m, stage / out_path.name, offline=offline)
    written = out_path
    click.echo(f"wrote {written} ({written.stat().st_size / 1e6:.2f} MB"
               + (", offline" if offline else "") + ")")
