"""demo: every analysis on the sample data."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ._common import EXIT_BAD_INPUT, EXIT_FOUND, EXIT_OK, cli, console


def _demo_steps(data: Path, out: Path) -> list[tuple[str, list[str]]]:
    """List the demo's commands as argument lists (each a command documented on its own)."""
    steps = [
        ("map", [str(data), "--out", str(out / "overview.html"), "--offline"]),
        ("patrol-report", [str(data), "--start", "2022-01-01", "--end", "2022-12-31",
                           "--out", str(out / "patrol"), "--offline"]),
        ("water-quality", [str(data), "--period", "Q", "--out", str(out / "water_quality"), "--offline"]),
    ]
    if any(data.glob("problems.*")) or any(data.glob("巡河问题.*")):
        steps.insert(2, ("problems", [str(data), "--start", "2022-01-01", "--end", "2022-12-31",
                                      "--out", str(out / "problems"), "--offline"]))
    landuse = [str(data), "--survey", str(data / "buildings_2022.shp"),
               "--before", str(data / "buildings_2020.shp"), "--out", str(out / "landuse"), "--offline"]
    if (data / "landcover_2020.tif").exists() and (data / "landcover_2022.tif").exists():
        landuse += ["--landcover-before", str(data / "landcover_2020.tif"),
                    "--landcover-after", str(data / "landcover_2022.tif")]
    survey = data / "dltb_2020.gdb"  # the land survey (三调 DLTB) of the sample
    if survey.exists():
        landuse += ["--land-survey", str(survey)]
    steps.append(("check-landuse", landuse))
    if survey.exists():
        steps.append(("land-accounts", [str(survey), "--by", "village", "--out", str(out / "land_accounts")]))
    steps.append(("demolition-summary", [str(data), "--out", str(out / "demolitions")]))
    if (data / "landcover_2022.tif").exists() and any(data.glob("town.*")):
        steps.append(("catchments", [str(data), "--year", "2022", "--out", str(out / "catchments"), "--offline"]))
    return steps


@cli.command()
@click.option("--data", "data_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Dataset folder (default: data/shapefiles/ of the repository, else a freshly "
                   "generated sample dataset).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("out"), show_default=True,
              help="Folder for every map and report.")
def demo(data_dir: Path | None, out_dir: Path) -> None:
    """Run every analysis on the sample data and write all maps and reports to OUT.

    Validates the dataset, then writes the overview map, the patrol report (one map
    per river chief), the problems report (when the dataset has problems), the
    water-quality assessment, the land-use checks (with the land survey when present),
    the land accounts, the demolition summary and the section catchments: tables in
    Chinese with the English names, PNG charts and GeoPackages styled for QGIS. Maps
    are written offline (self-contained HTML), so they work without internet. OUT must
    lie outside the dataset folder (exit 2 otherwise); exit 2 when a step fails.
    """
    from ..io import check_output_dir

    err = console(err=True)
    if data_dir is None and (Path.cwd() / "data" / "shapefiles" / "rivers.shp").exists():
        data_dir = Path.cwd() / "data" / "shapefiles"
    check_output_dir(out_dir, inputs=[data_dir] if data_dir is not None else [])  # before any output
    if data_dir is None:
        from ..sample import make_sample

        data_dir = out_dir / "sample_data"
        err.print(f"generating the sample dataset into {data_dir} …")
        make_sample(data_dir)
    err.print(f"dataset: {data_dir}")
    before = {p for p in out_dir.rglob("*") if p.is_file()} if out_dir.exists() else set()
    failures = []
    for name, args in [("validate", [str(data_dir)])] + _demo_steps(data_dir, out_dir):
        if name not in cli.commands:
            err.print(f"[yellow]skipped {name}: command not available[/yellow]")
            continue
        if name != "validate":  # validate prints its own title
            err.print(f"[bold]dongping-geo {name}[/bold]")
        code: int | str  # SystemExit.code may be a message
        try:
            cli.main(args=[name, *args], prog_name="dongping-geo", standalone_mode=False)
            code = EXIT_OK
        except SystemExit as exc:
            code = exc.code or 0
        except click.ClickException as exc:
            exc.show()
            code = exc.exit_code
        if code not in (EXIT_OK, EXIT_FOUND):  # 1 = findings (violations, problems): expected
            failures.append(name)
    written = sorted(p for p in out_dir.rglob("*") if p.is_file() and p not in before)
    click.echo(f"wrote {len(written)} files into {out_dir}/:")
    for p in written:
        click.echo(f"  {p}")
    if failures:
        click.echo("error: demo steps failed: " + ", ".join(failures), err=True)
        sys.exit(EXIT_BAD_INPUT)
