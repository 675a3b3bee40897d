"""`constituent petitions …`: load petitions and their signature counts."""

from __future__ import annotations

import click


@click.group("petitions")
def petitions() -> None:
    """Petitions and their signatures."""
