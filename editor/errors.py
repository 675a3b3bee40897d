"""Refusals of the domain, without HTTP: a service raises a `DomainError` of a kind, with the
reason for the user; the web layer (editor.problems) decides what status each kind answers."""

from __future__ import annotations

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
