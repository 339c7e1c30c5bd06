"""The command group, exit codes and the options several commands share."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, TypeVar

import click

from ..errors import DongpingGeoError

EXIT_OK = 0
EXIT_FOUND = 1  # problems, violations or overdue items were found
EXIT_BAD_INPUT = 2

F = TypeVar("F", bound=Callable[..., Any])


def _version() -> str:
    try:
        return version("dongping-geo")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"


class _Group(click.Group):
    """Click group that turns DongpingGeoError into a short message and exit code 2."""

    def invoke(self, ctx: click.Context) -> Any:  # noqa: D102
        try:
            return super().invoke(ctx)
        except DongpingGeoError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"error: {exc}", err=True)
            ctx.exit(EXIT_BAD_INPUT)


@click.group(cls=_Group)
@click.version_option(_version(), prog_name="dongping-geo")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Geospatial analysis for Dongping Town: rivers, patrols, water quality, land use."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def map_options(command: F) -> F:
    """Add the options every map-writing command shares: --basemap, --offline, --tianditu-token."""
    from ..maps import BASEMAPS

    options = [
        click.option("--basemap", type=click.Choice(list(BASEMAPS)), default="osm", show_default=True,
                     help="Tile layer under the data (gaode shifts the data to GCJ-02; tianditu needs "
                          "a token; none draws no tiles)."),
        click.option("--offline", is_flag=True,
                     help="Write self-contained HTML (Leaflet inlined) that opens without internet; "
                          "tiles still need a connection unless --basemap none."),
        click.option("--tianditu-token", envvar="TIANDITU_TOKEN", default=None,
                     help="Tianditu API key (default: the TIANDITU_TOKEN environment variable)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def output_options(command: F) -> F:
    """Add the options every table-writing command shares: --lang and --format.

    The command receives one ``output`` argument, a :class:`dongping_geo.reports.OutputOptions`.
    """
    import functools

    @click.option("--lang", type=click.Choice(["zh", "en", "both"]), default="both", show_default=True,
                  help="Language of the tables, charts and layer legends: zh (Chinese), en (English) "
                       "or both (Chinese header with the English name, e.g. 河道名称 name).")
    @click.option("--format", "table_format", type=click.Choice(["csv", "xlsx"]), default="csv",
                  show_default=True, help="Tables as UTF-8 CSV files (with BOM, for Excel) or one XLSX "
                                          "workbook with a sheet per table.")
    @functools.wraps(command)
    def wrapper(*args: Any, lang: str, table_format: str, **kwargs: Any) -> Any:
        from ..reports import OutputOptions

        return command(*args, output=OutputOptions(lang, table_format), **kwargs)  # type: ignore[arg-type]

    return wrapper  # type: ignore[return-value]


crs_option = click.option("--crs", default=None, help="CRS for files without a .prj (e.g. 4549).")

dataset_argument = click.argument(
    "dataset_dir", type=click.Path(exists=True, file_okay=False, path_type=Path)
)


def console(err: bool = False) -> Any:
    """A rich console on stdout (or stderr) without colour guessing."""
    from rich.console import Console

    return Console(stderr=err, highlight=False, soft_wrap=True)


def log(command: str, message: str) -> None:
    """One timestamped log line on stderr (cron mails stdout; logs stay apart)."""
    click.echo(f"{datetime.now().astimezone():%Y-%m-%d %H:%M:%S%z} {command}: {message}", err=True)


def echo_written(paths: list[Path]) -> None:
    """List the files a command wrote."""
    for p in paths:
        click.echo(f"wrote {p}")
