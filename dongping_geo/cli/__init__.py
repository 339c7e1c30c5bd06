"""The ``dongping-geo`` command line: thin commands over :mod:`dongping_geo.reports`.

One module per command group registers its commands on the :func:`cli` group:
``data`` (validate, info, sample-data), ``overview`` (map), ``patrol``
(patrol-report), ``water`` (water-quality), ``landuse`` (check-landuse), ``catchments`` (catchments) and
``demo``.
Commands parse arguments, call the library, show progress and set the exit code:
0 clean, 1 findings (problems, violations, misses with --strict), 2 bad input. Bad
input prints one or two plain lines (no traceback unless ``--debug``).
"""

from __future__ import annotations

from ..reports import safe_filename as _safe_filename  # noqa: F401  (0.1.0 name, used by tests)
from . import catchments, data, demo, landuse, overview, patrol, water  # noqa: F401  (register the commands)
from ._common import EXIT_BAD_INPUT, EXIT_FOUND, EXIT_OK, cli

__all__ = ["EXIT_BAD_INPUT", "EXIT_FOUND", "EXIT_OK", "cli", "main"]


def main(argv: list[str] | None = None) -> None:
    """Run the command line (console-script entry point).

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default: ``sys.argv[1:]``).
    """
    cli.main(args=argv, prog_name="dongping-geo")
