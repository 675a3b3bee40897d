"""JSON problems for the API blueprints: one exception, one response shape, one set of handlers.

Every JSON endpoint answers an error as `{"error": message, "status": n}`. Raise `Problem` from a
view (the session's pending changes are rolled back), or return `problem(...)`.
"""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask_babel import gettext
from flask_wtf.csrf import CSRFError


class Problem(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def problem(status: int, message: str, **extra):
    response = jsonify({"error": message, "status": status, **extra})
    response.status_code = status
    return response


def handle_problems(bp: Blueprint) -> None:
    """Answer `Problem`, a missing or bad CSRF token and 404 on `bp` as JSON problems."""
    from . import current_services

    @bp.errorhandler(Problem)
    def _on_problem(exc: Problem):
        current_services().db.rollback()
        return problem(exc.status, exc.message)

    @bp.errorhandler(CSRFError)
    def _on_csrf(exc: CSRFError):
        return problem(400, gettext(
            "The request has no valid CSRF token (send it in the X-CSRFToken header): %(reason)s",
            reason=exc.description))

    @bp.errorhandler(404)
    def _not_found(_exc):
        return problem(404, gettext("Not found."))
