"""``python -m dongping_geo.cli``: the command line."""

from . import main

main()
