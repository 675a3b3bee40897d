"""`python -m editor` is the `constituent` command."""

from .cli import main

main()
