"""Helpers shared by the command-line modules (editor.cli and the features' *_cli modules)."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
from flask import Flask

from .app import create_app
from .services import services_of

#: What a terminal would obey rather than show: C0 and C1 controls (ESC sequences recolour text,
#: move the cursor, retitle the window), DEL, and the bidi embeddings, overrides and isolates.
_NOT_PRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: object) -> str:
    """Text that came from a file, as a terminal may show it: every control character written as
    its escape ("\\x1b"), so a petition title cannot clear the screen or fake a line of output."""
    return _NOT_PRINTABLE.sub(lambda found: found[0].encode("unicode_escape").decode("ascii"), str(text))


def read_bounded(path: str, limit: int) -> bytes:
    """The file's bytes, refusing an oversize file before reading it (bounded memory)."""
    if path == "-":
        data = sys.stdin.buffer.read(limit + 1)
    else:
        size = os.path.getsize(path)
        if size > limit:
            raise click.ClickException(
                f"{path} is {size / 1048576:.1f} MB; imports are limited to {limit // 1048576} MB"
            )
        with open(path, "rb") as stream:
            data = stream.read(limit + 1)
    if len(data) > limit:
        raise click.ClickException(f"the input exceeds the import limit of {limit // 1048576} MB")
    return data


#: How long a command waits, before it exits, for the reactions to what it changed (the event
#: handlers' queues): a panel or notification left half done would be lost with the process.
DRAIN_SECONDS = 30.0


@contextmanager
def command_app(config: dict[str, Any] | None = None, *, language: str | None = "en") -> Iterator[Flask]:
    """The application one command works with; on the way out, whatever happened, the reactions to
    its changes run and everything it started is closed (its event threads, rooms, session and
    connections), so a command run inside a longer process (tests, scripts) leaves nothing open.

    The command line speaks English (`language`): the services' messages it prints (a refused
    stage, a revised draft that cannot be read) are in the language of the rest of its output.
    Texts for people (e-mails, notifications) keep each reader's language; `None` keeps the
    site's default, for a command that writes content (the demo's seed)."""
    app = create_app({**(config or {}), "COMMAND_LINE_LANGUAGE": language})
    try:
        yield app
    finally:
        services_of(app).close(drain=DRAIN_SECONDS)

