"""JSON problems for the API blueprints: one exception, one response shape, one set of handlers.

Every JSON endpoint answers an error as `{"error": message, "status": n}`. Raise `Problem` from a
view (the session's pending changes are rolled back), or return `problem(...)`.
"""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request
from flask_babel import gettext
from flask_wtf.csrf import CSRFError

from .errors import DomainError
from .inputs import BadJSON, parse_json
from .services import current_services

#: What each kind of domain refusal (editor.errors) answers over HTTP.
STATUS_OF = {"invalid": 400, "unauthenticated": 401, "forbidden": 403, "not-found": 404, "conflict": 409,
             "unavailable": 503, "failed": 500}


def status_of(error: DomainError) -> int:
    return STATUS_OF[error.kind]


#: The request-global flag of a request refused for lack of a valid CSRF token (editor.audit
#: logs such requests as denials).
CSRF_REFUSED = "audit_csrf_refused"


def csrf_refused() -> None:
    """Mark the request as refused for lack of a valid CSRF token. Every CSRFError handler calls
    it, the application's and the blueprints' own, so that each refusal is audited."""
    setattr(g, CSRF_REFUSED, True)


class Problem(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def request_json():
    """The request's JSON body (see inputs.parse_json). None when it has none or it is not JSON
    at all (the view then says what to send); Problem 400 when it is JSON the application refuses
    (too deep, a huge number, lone surrogates)."""
    if not request.is_json or not request.content_length and not request.data:
        return None
    try:
        return parse_json(request.get_data(cache=True))
    except BadJSON as exc:
        if exc.syntax:
            return None
        raise Problem(400, str(exc)) from None


def json_body() -> dict:
    """The request's JSON object, or a 400 problem saying what to send."""
    data = request_json()
    if not isinstance(data, dict):
        raise Problem(400, gettext("Send a JSON object (Content-Type: application/json)."))
    return data


def problem(status: int, message: str, **extra):
    response = jsonify({"error": message, "status": status, **extra})
    response.status_code = status
    return response


def handle_problems(bp: Blueprint) -> None:
    """Answer `Problem`, a missing or bad CSRF token and 404 on `bp` as JSON problems; refuse JSON
    bodies whose text is not valid Unicode before any view sees them."""

    @bp.before_request
    def _valid_json():
        request_json()  # a body too deep, with a huge number or lone surrogates: 400 before any view

    @bp.errorhandler(Problem)
    def _on_problem(exc: Problem):
        current_services().db.rollback()
        return problem(exc.status, exc.message)

    @bp.errorhandler(CSRFError)
    def _on_csrf(exc: CSRFError):
        csrf_refused()
        return problem(400, gettext(
            "The request has no valid CSRF token (send it in the X-CSRFToken header): %(reason)s",
            reason=exc.description))

    @bp.errorhandler(404)
    def _not_found(_exc):
        return problem(404, gettext("Not found."))
