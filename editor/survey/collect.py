"""Volunteers' tablets: answers collected with no connection at all, sent when one comes back.

* ``/d/<slug>/survey/<id>/collect``: the collecting app (volunteers, the committee and
  administrators of the document; the questionnaire must be open). It is an installable web app:
  its service worker (``…/collect-worker.js``, whose scope is the page) keeps the page and its
  assets, so that it opens again with the network off, and its manifest (``…/collect.webmanifest``)
  lets the tablet install it. Each respondent's answers are kept in the browser's IndexedDB under
  a capture id (``client_id``) with their capture time and a receipt code made in the browser,
  shown to the respondent at once; the form then starts afresh for the next person.
* ``POST /api/surveys/<id>/responses`` takes the kept answers (at most 500 per request) and says,
  for each, "stored", "already" (that capture id was stored by an earlier sync: nothing is added)
  or "refused" with the problems. Each capture is stored in its own transaction, so a bad one
  never loses the good ones; the tablet forgets a capture only once it was told "stored" or
  "already".
  ``GET`` on the same address gives the tablet a fresh CSRF token and the questionnaire's status
  (a tablet may have been offline for days, and the questionnaire may have closed meanwhile:
  answers captured while it was open are still stored).

The JSON API follows the others' rules: the session's cookie, the CSRF token in the X-CSRFToken
header for changes; 404 when there is no such questionnaire to collect for, 401 when nobody is
signed in, 403 for an account that may not collect answers on the document.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, make_response, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import audit, permissions
from ..documents import get_document
from ..models import Document
from ..problems import Problem, handle_problems, json_body
from ..services import current_services
from . import answering
from .answer_views import form_context, problem_text
from .models import Respondent, Survey
from .service import normalize_receipt, receipt_hash

bp = Blueprint("collect", __name__)
api = Blueprint("collect_api", __name__, url_prefix="/api/surveys")
handle_problems(api)
bp.register_blueprint(api)

#: Captures per sync request: a day's work of one tablet fits in one or two requests.
MAX_BATCH = 500
STATIC = Path(__file__).resolve().parent.parent.parent / "web" / "static"
#: What the service worker keeps besides the page itself (files under web/static).
ASSETS = ("site.css", "collect.css", "collect.js", "favicon.svg")
WORKER_SOURCE = "collect-worker.js"


# --- the collecting app --------------------------------------------------------------------------


def _questionnaire(slug: str, survey_id: int) -> tuple[Document, Survey]:
    """The document and the questionnaire a tablet collects for: 404 unless the questionnaire is
    published (open, or closed since) and, like the public questionnaire page, the document is
    readable by whoever asks (an unpublished document's questionnaire is invisible)."""
    db = current_services().db
    document = get_document(db, slug)
    survey = db.get(Survey, survey_id) if document is not None else None
    if survey is None or survey.document_id != document.id or survey.status not in ("open", "closed"):
        abort(404)
    if not permissions.can_read(current_user, document):
        abort(404)
    return document, survey


@bp.get("/d/<slug>/survey/<int:survey_id>/collect")
@login_required
def collect_page(slug: str, survey_id: int):
    document, survey = _questionnaire(slug, survey_id)
    if not permissions.can_collect_answers(current_user, document):
        abort(403)
    if survey.status != "open":
        abort(404)
    response = make_response(render_template(
        "survey/collect.html", document=document, survey=survey, answers={}, problems={},
        texts=_texts(), **form_context(survey)))
    response.headers["Cache-Control"] = "no-store"  # the service worker keeps its own copy
    return response


def _texts() -> dict[str, str]:
    """What the page's script says, in the reader's language ({n}, {time}… are filled in there)."""
    return {
        "online": _("Online"),
        "offline": _("Offline: answers are kept on this tablet until there is a connection."),
        "ready": _("Ready: this page opens and keeps answers without a connection."),
        "notReady": _("Not ready to work offline yet: keep the connection until this says it is ready."),
        "unsupported": _("This browser cannot keep answers without a connection. Use an up-to-date Chrome, Firefox or Safari."),
        "waiting": _("Waiting to be sent: {n}"),
        "capturedAt": _("Captured {time}"),
        "refusedItem": _("Captured {time}; the server refused it: {problems}"),
        "others": _("Captured on this tablet by another account: {n}. They are sent when that account signs in here."),
        "sending": _("Sending…"),
        "nothingToSend": _("{time}: nothing to send."),
        "sent": _("{time}: sent. {stored} stored, {already} already there, {refused} refused."),
        "noConnection": _("{time}: could not send, no connection. The answers stay on this tablet."),
        "signIn": _("{time}: could not send, you are signed out. Sign in again: the answers stay on this tablet."),
        "forbidden": _("{time}: this account may not collect answers for this questionnaire."),
        "gone": _("{time}: this questionnaire is no longer available."),
        "failed": _("{time}: the server could not take them now. The answers stay on this tablet; try again later."),
        "closed": _("This questionnaire is closed: answers captured before it closed can still be sent, no new ones."),
        "needsAnswer": _("needs an answer"),
        "remove": _("Remove from this tablet"),
        "removeConfirm": _("Remove these answers from this tablet? They can never be sent afterwards."),
        "neverSent": _("Not sent yet."),
    }


@bp.get("/d/<slug>/survey/<int:survey_id>/collect.webmanifest")
def manifest(slug: str, survey_id: int):
    """The web app manifest (the page asks for it with its cookies: crossorigin="use-credentials")."""
    document, survey = _questionnaire(slug, survey_id)
    page = url_for("collect.collect_page", slug=document.slug, survey_id=survey.id)
    data = {
        "id": page,
        "name": _("Collect answers: %(title)s", title=survey.title_en if _is_english() and survey.title_en
                  else survey.title),
        "short_name": _("Collect answers"),
        "start_url": page,
        "scope": page,
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0f766e",
        "lang": "en" if _is_english() else "es",
        "icons": [{"src": url_for("static", filename="favicon.svg"), "sizes": "any", "type": "image/svg+xml"}],
    }
    response = make_response(json.dumps(data, ensure_ascii=False))
    response.headers["Content-Type"] = "application/manifest+json; charset=utf-8"
    response.headers["Cache-Control"] = "no-cache"
    return response


def _is_english() -> bool:
    return str(get_locale()) == "en"


@bp.get("/d/<slug>/survey/<int:survey_id>/collect-worker.js")
def worker(slug: str, survey_id: int):
    """The service worker, served here rather than from /static so that its scope can be the
    collecting page. Its first line names the page, its assets and a cache version that changes
    with them (a changed worker is installed afresh by the browser). It holds no data: whoever
    may read the document may fetch it."""
    document, survey = _questionnaire(slug, survey_id)
    assets = [url_for("static", filename=name) for name in ASSETS]
    assets.append(url_for("collect.manifest", slug=document.slug, survey_id=survey.id))
    config = {
        "page": url_for("collect.collect_page", slug=document.slug, survey_id=survey.id),
        "assets": assets,
        "cache": f"collect-{survey.id}-{_version()}",
        "prefix": f"collect-{survey.id}-",
    }
    source = f"self.COLLECT = {json.dumps(config)};\n" + (STATIC / WORKER_SOURCE).read_text(encoding="utf-8")
    response = make_response(source)
    response.headers["Content-Type"] = "text/javascript; charset=utf-8"
    response.headers["Cache-Control"] = "no-cache"
    return response


def _version() -> str:
    files = [STATIC / name for name in (*ASSETS, WORKER_SOURCE)]
    return _digest(tuple((str(f), f.stat().st_mtime_ns) for f in files))


@lru_cache(maxsize=8)
def _digest(stamps: tuple[tuple[str, int], ...]) -> str:
    """A short digest of the assets' contents (recomputed only when a file's mtime changes)."""
    hashed = hashlib.sha256()
    for path, _mtime in stamps:
        hashed.update(Path(path).read_bytes())
    return hashed.hexdigest()[:12]


# --- syncing -------------------------------------------------------------------------------------


def _collecting(survey_id: int) -> tuple[Document, Survey]:
    """The questionnaire and its document for the sync API, or the problem to answer."""
    db = current_services().db
    survey = db.get(Survey, survey_id)
    document = db.get(Document, survey.document_id) if survey is not None else None
    if (document is None or survey.status not in ("open", "closed")
            or not permissions.can_read(current_user, document)):
        raise Problem(404, _("There is no questionnaire %(id)s to collect answers for.", id=survey_id))
    if not current_user.is_authenticated:
        raise Problem(401, _("Sign in to send collected answers."))
    if not permissions.can_collect_answers(current_user, document):
        raise Problem(403, _("Only volunteers, the committee and administrators collect answers."))
    return document, survey


@api.get("/<int:survey_id>/responses")
def sync_state(survey_id: int):
    """A fresh CSRF token for the tablet, and whether the questionnaire still takes answers."""
    _document, survey = _collecting(survey_id)
    response = jsonify({"survey": survey.id, "status": survey.status, "csrf_token": generate_csrf(),
                        "max_batch": MAX_BATCH})
    response.headers["Cache-Control"] = "no-store"
    return response


@api.post("/<int:survey_id>/responses")
def sync(survey_id: int):
    """Store a tablet's captures: `{"responses": [{client_id, captured_at, code, answers}]}`."""
    document, survey = _collecting(survey_id)
    items = json_body().get("responses")
    if not isinstance(items, list):
        raise Problem(400, _("Send {\"responses\": [...]}: a list of captured answers."))
    if len(items) > MAX_BATCH:
        raise Problem(400, _("At most %(n)s responses per request.", n=MAX_BATCH))
    services = current_services()
    secret = answering.answer_secret(current_app.config)
    collector = current_user.id
    results = [_store(services.db, survey, item, secret=secret, collector_id=collector) for item in items]
    counts = {status: sum(1 for r in results if r["status"] == status) for status in ("stored", "already", "refused")}
    audit.record(services.engine, "survey.synced", actor=audit.actor_of(current_user, document),
                 document=document.slug, target=f"survey:{survey.id}", detail={"received": len(items), **counts})
    response = jsonify({"results": results, **counts})
    response.headers["Cache-Control"] = "no-store"
    return response


class _Refused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _store(db, survey: Survey, item: Any, *, secret: bytes, collector_id: int) -> dict[str, Any]:
    """One capture, committed on its own: its result for the tablet.

    A transaction per capture rather than savepoints in one: on SQLite a savepoint opens the
    transaction at its first read, and its first write then fails at once ("database is locked",
    no waiting) if any other connection committed in between, as the audit log does on every
    request. Here the reads run outside it, and the first write waits for its turn."""
    raw_id = item.get("client_id") if isinstance(item, dict) else None
    out: dict[str, Any] = {"client_id": raw_id[:64] if isinstance(raw_id, str) else None}
    try:
        client_id, captured_at, code = _checked(item)
        if _stored_before(db, survey, client_id):
            return {**out, "status": "already"}
        if db.scalar(select(Respondent.id).where(Respondent.receipt_hash == receipt_hash(code))) is not None:
            raise _Refused("this receipt code is already in use")
        sent = answering.submit(db, survey, item.get("answers"), channel="tablet", secret=secret,
                                captured_at=captured_at, client_id=client_id, collector_id=collector_id, code=code)
        db.commit()
        if sent.again:  # another request stored it between the check above and this one
            return {**out, "status": "already"}
    except _Refused as refused:
        db.rollback()
        return {**out, "status": "refused", "problems": {"": _problem(refused.message)}}
    except answering.AnswerProblems as problems:
        db.rollback()
        return {**out, "status": "refused",
                "problems": {key: _problem(message) for key, message in problems.problems.items()}}
    except IntegrityError:
        db.rollback()
        # Another request stored this capture meanwhile (two syncs at once), or took its code.
        if _stored_before(db, survey, out["client_id"]):
            return {**out, "status": "already"}
        return {**out, "status": "refused", "problems": {"": _problem("this receipt code is already in use")}}
    return {**out, "status": "stored"}


def _stored_before(db, survey: Survey, client_id: str | None) -> bool:
    return client_id is not None and db.scalar(select(Respondent.id).where(
        Respondent.survey_id == survey.id, Respondent.client_id == client_id)) is not None


def _checked(item: Any) -> tuple[str, datetime, str]:
    """(capture id, capture time, receipt code) of a capture, or _Refused saying what is wrong."""
    if not isinstance(item, dict):
        raise _Refused("each response must be an object")
    client_id = item.get("client_id")
    if not isinstance(client_id, str) or not 8 <= len(client_id) <= 64 or not client_id.isprintable():
        raise _Refused("the capture id must be 8 to 64 printable characters")
    captured = item.get("captured_at")
    try:
        captured_at = datetime.fromisoformat(captured) if isinstance(captured, str) and len(captured) <= 40 else None
    except ValueError:
        captured_at = None
    if captured_at is None:
        raise _Refused("the capture time is missing or is not a date and time")
    code = normalize_receipt(item.get("code"))
    if code is None:
        raise _Refused("the receipt code is not a valid code")
    return client_id, captured_at, code


def _problem(message: str) -> str:
    """A problem of a capture in the reader's language."""
    return {
        "each response must be an object": _("each response must be an object"),
        "the capture id must be 8 to 64 printable characters": _("the capture id must be 8 to 64 printable characters"),
        "the capture time is missing or is not a date and time":
            _("the capture time is missing or is not a date and time"),
        "the capture time is in the future": _("the capture time is in the future"),
        "the receipt code is not a valid code": _("the receipt code is not a valid code"),
        "this receipt code is already in use": _("this receipt code is already in use by other answers"),
    }.get(message) or problem_text(message)


_SURVEY_ID = {"name": "survey_id", "in": "path", "required": True, "schema": {"type": "integer"}}
_REFUSALS = {"401": {"description": "not signed in"},
             "403": {"description": "this account may not collect answers on the document"},
             "404": {"description": "no published questionnaire with this id (or its document is not readable)"}}
#: This API in the OpenAPI document (editor/api.py gathers the features' paths).
OPENAPI_PATHS = {
    "/api/surveys/{survey_id}/responses": {
        "get": {
            "summary": "Before a tablet syncs: a fresh CSRF token, the questionnaire's status, the largest batch",
            "parameters": [_SURVEY_ID],
            "responses": {"200": {"description": "`survey`, `status` (open|closed), `csrf_token`, `max_batch`"},
                          **_REFUSALS},
        },
        "post": {
            "summary": "A tablet's captured answers, each stored once (by its client_id) in its own transaction",
            "parameters": [_SURVEY_ID],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["responses"],
                "properties": {"responses": {"type": "array", "maxItems": MAX_BATCH, "items": {
                    "type": "object", "required": ["client_id", "captured_at", "code", "answers"],
                    "properties": {
                        "client_id": {"type": "string", "minLength": 8, "maxLength": 64},
                        "captured_at": {"type": "string", "format": "date-time"},
                        "code": {"type": "string", "description": "the receipt code shown on the tablet"},
                        "answers": {"type": "object", "description": "question key → text, a list of option "
                                    "values (multi), or {borough, neighbourhood} (place)"},
                    }}}}}}}},
            "responses": {"200": {"description": "`results`: per capture `client_id`, `status` "
                                                "stored|already|refused, `problems`; and the counts"},
                          "400": {"description": "not a list of captures, or more than max_batch"},
                          **_REFUSALS},
        },
    },
}

