"""Helpers shared by the command-line modules (editor.cli and the features' *_cli modules)."""

from __future__ import annotations

import os
import sys

import click


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
