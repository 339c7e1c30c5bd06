"""patrol-report: patrol coverage and compliance, one map per river chief."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ._common import (
    EXIT_FOUND,
    cli,
    console,
    crs_option,
    dataset_argument,
    echo_written,
    map_options,
    output_options,
)

if TYPE_CHECKING:
    from ..reports import OutputOptions


@cli.command("patrol-report")
@dataset_argument
@click.option("--start", required=True, help="First day of the period (e.g. 2022-01-01).")
@click.option("--end", required=True, help="Last day of the period, included (e.g. 2022-12-31).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for coverage.csv, compliance.csv, uncovered.gpkg, the maps and index.html.")
@click.option("--by", type=click.Choice(["chief", "river", "region"]), default="chief",
              show_default=True, help="One map per river chief, per river or per region.")
@click.option("--tolerance", "tolerance_m", type=float, default=30.0, show_default=True,
              help="A river counts as inspected within this distance of a track (m).")
@click.option("--rules", "rules_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="YAML file overriding the default patrol rules (see docs/patrol.md).")
@click.option("--patrols", "patrols_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Patrol fixes file to use instead of the dataset's patrols*.")
@click.option("--patrols-shift", type=click.Choice(["wgs84", "gcj02", "bd09"]), default="wgs84",
              show_default=True, help="Datum of the --patrols coordinates: apps on AMap/Tencent maps "
              "record GCJ-02, Baidu-based ones BD-09; they are shifted back to WGS 84.")
@map_options
@output_options
@crs_option
@click.option("--strict", is_flag=True, help="Exit with status 1 when any river misses its patrol rule.")
@click.option("--engine", type=click.Choice(["memory", "dask"]), default="memory", show_default=True,
              help="Compute coverage in memory or on dask (for district-scale fix counts).")
@click.option("--scheduler", default=None,
              help="Address of a running dask scheduler (tcp://HOST:PORT); implies --engine dask. "
                   "Default with --engine dask: a local cluster of 2 workers.")
def patrol_report(dataset_dir: Path, start: str, end: str, out_dir: Path, by: str, tolerance_m: float,
                  rules_path: Path | None, patrols_path: Path | None, patrols_shift: str,
                  basemap: str, offline: bool,
                  tianditu_token: str | None, output: OutputOptions, crs: str | None, strict: bool, engine: str,
                  scheduler: str | None) -> None:
    """Patrol coverage and compliance of the river chiefs, with one HTML map per chief.

    Cleans the GPS fixes (duplicates, GPS jumps, fixes outside the town), measures
    which stretches of every river a patrol passed within --tolerance of, checks
    patrol frequency against the rules, and writes coverage.csv, compliance.csv,
    compliance_by_chief.csv, dropped_fixes.csv (UTF-8 with BOM), uncovered.gpkg,
    maps/<name>.html per chief (or river/region) and index.html. Tracks and rivers
    are intersected once for all of them. With --engine dask the coverage table runs
    on a dask cluster.
    """
    from ..errors import InputFileError
    from ..loaders import load_dataset, load_patrols
    from ..patrol import load_rules, period_bounds
    from ..reports import MapOptions, PatrolReport

    rules = load_rules(rules_path)  # bad arguments fail before the slow work
    period_bounds(start, end)
    err = console(err=True)
    dataset = load_dataset(dataset_dir, crs=crs, patrols=patrols_path is None)
    fixes = (load_patrols(patrols_path, crs=crs, shift=patrols_shift) if patrols_path is not None
             else dataset.patrols)
    if dataset.rivers is None or fixes is None:
        raise InputFileError(
            "the dataset lacks what the patrol report needs", path=dataset_dir,
            expected="a rivers layer and patrol fixes (patrols*.parquet/.gpx/.csv)",
            found="no rivers layer" if dataset.rivers is None else "no patrol fixes",
            fix="add the file to the folder or pass --patrols FILE",
        )
    use_dask = engine == "dask" or scheduler is not None
    kwargs = {"start": start, "end": end, "tolerance_m": tolerance_m, "rules": rules,
              "area": dataset.extra.get("town"), "progress": err.print}
    if use_dask:
        from ..scale import client_for

        with client_for(scheduler):
            report = PatrolReport.compute(dataset.rivers, fixes, engine="dask", **kwargs)
    else:
        report = PatrolReport.compute(dataset.rivers, fixes, **kwargs)
    inputs = [dataset_dir, *([patrols_path] if patrols_path else []), *([rules_path] if rules_path else [])]
    written = report.write(out_dir, by=by, inputs=inputs, output=output,
                           map_options=MapOptions(basemap, tianditu_token, offline))
    n_maps = sum(1 for p in written if p.parent.name == "maps")
    click.echo(f"{report.summary()}; {n_maps} maps")
    echo_written([p for p in written if p.parent.name != "maps"])
    if strict and report.n_missing_rule:
        sys.exit(EXIT_FOUND)
