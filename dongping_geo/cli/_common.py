"""The command group, exit codes and the options several commands share."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ..errors import DongpingGeoError

if TYPE_CHECKING:
    import pandas as pd

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
        except _last_resort_errors() as exc:
            # The library turns bad files into DongpingGeoError; this is the net under it, so
            # that no command ends in a traceback (or in exit 1, which cron reads as findings).
            if ctx.obj and ctx.obj.get("debug"):
                raise
            name = getattr(exc, "filename", None)
            where = f" ({name})" if name else ""
            click.echo(f"error: cannot read or write a file{where}: {type(exc).__name__}: "
                       f"{str(exc).splitlines()[0][:300] if str(exc) else ''}", err=True)
            click.echo("fix: check that the file is complete, of the type its name says, and that "
                       "the output folder is writable (--debug shows the traceback)", err=True)
            ctx.exit(EXIT_BAD_INPUT)


def _last_resort_errors() -> tuple[type[BaseException], ...]:
    """Errors of the file libraries (GDAL via pyogrio/rasterio, openpyxl's zip, the OS)."""
    import sys
    import zipfile

    import pyogrio.errors

    errors: list[type[BaseException]] = [OSError, UnicodeError, zipfile.BadZipFile,
                                         pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError]
    if "rasterio" in sys.modules:  # only when a command opened a raster (a heavy import otherwise)
        import rasterio.errors

        errors.append(rasterio.errors.RasterioError)
    return tuple(errors)


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


def _check_date_format(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A --date-format must hold strptime directives (``%Y`` …)."""
    if value is not None and "%" not in value:
        raise click.BadParameter(f"{value!r} has no strptime directive; write it like %d/%m/%Y or %Y%m%d")
    return value


date_format_option = click.option(
    "--date-format", default=None, callback=_check_date_format,
    help="strptime format of the dates in the input files when they use a form not accepted by "
         "default (e.g. %d/%m/%Y).")


def reading_options(command: F) -> F:
    """Add the options every data-reading command shares: --on-error, --date-format."""
    options = [
        click.option("--on-error", type=click.Choice(["raise", "report"]), default="raise", show_default=True,
                     help="raise: stop at the first bad row (exit 2). report: use the valid rows, write "
                          "every other one to rejected.csv in the output folder and exit 1 when any "
                          "was rejected."),
        date_format_option,
    ]
    for option in reversed(options):
        command = option(command)
    return command


def rejected_rows(on_error: str, *frames: Any) -> pd.DataFrame | None:
    """The rows the loaders set aside, one table (``None`` unless ``--on-error report``).

    Parameters
    ----------
    on_error : str
        The command's ``--on-error``.
    *frames : Dataset, DataFrame or None
        What the command loaded: a Dataset (its ``rejected`` property) or frames
        carrying ``attrs["rejected"]``.

    Returns
    -------
    DataFrame or None
        Columns file, row, field, value, reason, fix.
    """
    if on_error != "report":
        return None
    import pandas as pd

    from .._rejected import REJECTED_COLUMNS

    parts = []
    for f in frames:
        table = getattr(f, "rejected", None) if not isinstance(f, pd.DataFrame) else f.attrs.get("rejected")
        if table is not None and len(table):
            parts.append(pd.DataFrame(table))
    if not parts:
        return pd.DataFrame(columns=REJECTED_COLUMNS)
    return pd.concat(parts, ignore_index=True)[REJECTED_COLUMNS]


def say_rejected(rejected: pd.DataFrame | None, out: Path) -> int:
    """Print how many rows were rejected and where they went; the exit code they call for.

    Parameters
    ----------
    rejected : DataFrame or None
        From :func:`rejected_rows`.
    out : Path
        The folder holding ``rejected.csv``.

    Returns
    -------
    int
        :data:`EXIT_FOUND` when any row was rejected, else :data:`EXIT_OK`.
    """
    if rejected is None:
        return EXIT_OK
    click.echo(f"{len(rejected)} rows rejected" + (f", listed in {out / 'rejected.csv'}" if len(rejected) else ""))
    return EXIT_FOUND if len(rejected) else EXIT_OK


def given(*paths: Path | None) -> list[Path]:
    """The paths a command was given (dropping options left out)."""
    return [p for p in paths if p is not None]
