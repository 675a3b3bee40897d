"""`constituent survey …`: load a survey, or synthesize a clearly labelled one."""

from __future__ import annotations

import click


@click.group("survey")
def survey() -> None:
    """Survey questions, respondents, answers and their themes."""
