"""``python -m dongping_geo``: the command line."""

from .cli import main

main()
