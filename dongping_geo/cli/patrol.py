"""patrol-report: patrol coverage and compliance, one map per river chief."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ._common import (
    EXIT_FOUND,
    cli,
    console,
    crs_option,
    dataset_argument,
    echo_written,
    given,
    map_options,
    output_options,
    reading_options,
    rejected_rows,
    say_rejected,
)

if TYPE_CHECKING:
    from ..reports import OutputOptions


@cli.command("patrol-report")
@dataset_argument
@click.option("--start", required=True, help="First day of the period (e.g. 2022-01-01).")
@click.option("--end", required=True, help="Last day of the period, included (e.g. 2022-12-31).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True,
              help="Folder for coverage.csv, compliance.csv, uncovered.gpkg, the maps and index.html.")
@click.option("--by", type=click.Choice(["chief", "river", "region"]), default="chief",
              show_default=True, help="One map per river chief, per river or per region.")
@click.option("--tolerance", "tolerance_m", type=click.FloatRange(min=0, min_open=True), default=30.0, show_default=True,
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
@reading_options
def patrol_report(dataset_dir: Path, start: str, end: str, out_dir: Path, by: str, tolerance_m: float,
                  rules_path: Path | None, patrols_path: Path | None, patrols_shift: str,
                  basemap: str, offline: bool,
                  tianditu_token: str | None, output: OutputOptions, crs: str | None, strict: bool, engine: str,
                  scheduler: str | None, on_error: str, date_format: str | None) -> None:
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
    from ..io import check_output_dir
    from ..loaders import load_dataset, load_patrols
    from ..patrol import load_rules, period_bounds
    from ..reports import MapOptions, PatrolReport

    inputs = given(dataset_dir, patrols_path, rules_path)
    check_output_dir(out_dir, inputs=inputs)  # every argument is checked before the slow work
    rules = load_rules(rules_path)
    period_bounds(start, end)
    err = console(err=True)
    read: dict[str, Any] = {"crs": crs, "on_error": on_error, "date_format": date_format}
    dataset = load_dataset(dataset_dir, patrols=patrols_path is None, **read)
    fixes = (load_patrols(patrols_path, shift=patrols_shift, **read) if patrols_path is not None
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
              "area": dataset.extra.get("town"), "progress": err.print,
              "layers": {"problems": dataset.problems, "signboards": dataset.signboards}}
    if use_dask:
        from ..scale import client_for

        with client_for(scheduler):
            report = PatrolReport.compute(dataset.rivers, fixes, engine="dask", **kwargs)
    else:
        report = PatrolReport.compute(dataset.rivers, fixes, **kwargs)
    rejected = rejected_rows(on_error, dataset, *([fixes] if patrols_path is not None else []))
    written = report.write(out_dir, by=by, inputs=inputs, rejected=rejected, output=output,
                           map_options=MapOptions(basemap, tianditu_token, offline))
    n_maps = sum(1 for p in written if p.parent.name == "maps")
    click.echo(f"{report.summary()}; {report.n_flagged} patrols flagged; {n_maps} maps")
    echo_written([p for p in written if p.parent.name != "maps"])
    code = say_rejected(rejected, out_dir)
    sys.exit(EXIT_FOUND if strict and report.n_missing_rule else code)
