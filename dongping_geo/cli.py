"""The ``dongping-geo`` command line: thin commands over the library.

Commands parse arguments, call library functions, show progress and set the
exit code. Bad input prints one or two plain lines (no traceback unless
``--debug``) and exits 2. Each analysis command lives in its own section below.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __version__
from .errors import DongpingGeoError

EXIT_OK = 0
EXIT_FOUND = 1  # problems or violations were found
EXIT_BAD_INPUT = 2


class _Group(click.Group):
    """Click group that turns DongpingGeoError into a short message and exit code 2."""

    def invoke(self, ctx: click.Context):  # noqa: D102
        try:
            return super().invoke(ctx)
        except DongpingGeoError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"error: {exc}", err=True)
            ctx.exit(EXIT_BAD_INPUT)


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="dongping-geo")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Geospatial analysis for Dongping Town: rivers, patrols, water quality, land use."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def main(argv: list[str] | None = None) -> None:
    """Run the command line (console-script entry point)."""
    cli.main(args=argv, prog_name="dongping-geo")


# --- validate / info (issue 2) -------------------------------------------------

# --- sample-data (issue 3) ------------------------------------------------------

# --- map (issue 4) --------------------------------------------------------------

# --- patrol-report (issue 5) ----------------------------------------------------

# --- water-quality (issue 6) ----------------------------------------------------

# --- check-landuse (issue 7, 8) -------------------------------------------------

# --- demo -----------------------------------------------------------------------


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
