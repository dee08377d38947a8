"""`python -m wbx` runs the CLI."""

from wbx.cli import main

main()
