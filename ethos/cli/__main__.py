"""``python -m ethos.cli``: the command line."""

from . import main

main()
