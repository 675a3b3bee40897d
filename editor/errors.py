"""Refusals of the domain, without HTTP: a service raises a `DomainError` of a kind, with the
reason for the user; the web layer (editor.problems) decides what status each kind answers."""

from __future__ import annotations

from flask import has_request_context
from flask_babel import gettext

#: The kinds of refusal: bad input, not signed in, not allowed, nothing there, in conflict with
#: the state of things, a dependency away, and our own failure.
KINDS = ("invalid", "unauthenticated", "forbidden", "not-found", "conflict", "unavailable", "failed")


class DomainError(Exception):
    """A request refused by the domain: `kind` (one of KINDS) and the message for the user."""

    def __init__(self, kind: str, message: str) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown kind of refusal {kind!r}")
        super().__init__(message)
        self.kind = kind
        self.message = message


def say(message: str, **values) -> str:
    """A refusal's message for the user: through the catalogue in the request's language, or in
    English outside a request (the command line speaks English). Import it as `_` so that the
    message is extracted into the catalogue: `raise StageError(_("%(slug)s has no version %(n)s", …))`.
    `message` uses named placeholders (`%(row)d`), filled with `values`."""
    if has_request_context():
        return gettext(message, **values)
    return message % values if values else message
