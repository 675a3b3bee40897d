"""The notifications' pages and JSON API.

Pages: `/notifications/preferences` (the documents one may set preferences for, and the language
of one's e-mail) and `/notifications/preferences/<slug>` (what reaches one about that document).
The list itself is `/notifications` (editor.petitions.views), whose texts render here
(`notification_text`), in the reader's language.

API (signed-in accounts; changes need the CSRF token in X-CSRFToken):
`GET /api/v1/notifications` (`?unread=1`), `POST /api/v1/notifications/<id>/read`,
`GET|PUT /api/v1/documents/<slug>/notification-preferences` (`{"preferences": {kind: {"in_app": bool,
"email": "off"|"immediate"|"digest"}}}`), `GET|PUT /api/v1/notifications/language` (`{"language": "es"|"en"}`).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select, update

from .. import clock, permissions
from ..documents import get_document
from ..models import Document, Notification, User
from ..problems import Problem, handle_problems, json_body
from ..services import current_services
from .service import EMAIL_CHOICES, EMAIL_LABELS, KIND_LABELS, KINDS, PreferenceError, json_of, preferences, set_preferences
from .texts import LANGUAGES, text_of

bp = Blueprint("notifications", __name__)
api_bp = Blueprint("notifications_api", __name__, url_prefix="/api/v1")
handle_problems(api_bp)

LANGUAGE_LABELS = {"es": "Español", "en": "English"}


class _Form(FlaskForm):
    pass


@bp.app_template_global()
def notification_text(notification) -> str:
    """A notification's text in the reader's language (older rows: as they were written)."""
    return text_of(notification)


def _signed_in():
    if not current_user.is_authenticated:
        abort(redirect(url_for("accounts.login", next=request.path)))


# --- one's notifications ------------------------------------------------------------------------


@bp.route("/notifications")
def inbox():
    """One's notifications, newest first (the last 500)."""
    _signed_in()
    db = current_services().db
    rows = list(db.scalars(select(Notification).where(Notification.user_id == current_user.id)
                           .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(500)))
    documents = {d.id: d for d in db.scalars(select(Document).where(
        Document.id.in_({n.document_id for n in rows if n.document_id})))} if rows else {}
    return render_template("notifications/inbox.html", notifications=rows, documents=documents,
                           form=_Form())


@bp.route("/notifications/<int:notification_id>/read", methods=["POST"])
def read(notification_id: int):
    _signed_in()
    if not _Form().validate_on_submit():
        abort(400)
    db = current_services().db
    found = db.get(Notification, notification_id)
    if found is None or found.user_id != current_user.id:
        abort(404)
    if found.read_at is None:
        found.read_at = clock.now()
        db.commit()
    return redirect(url_for("notifications.inbox"))


@bp.route("/notifications/read-all", methods=["POST"])
def read_all():
    _signed_in()
    if not _Form().validate_on_submit():
        abort(400)
    db = current_services().db
    db.execute(update(Notification).where(Notification.user_id == current_user.id, Notification.read_at.is_(None))
               .values(read_at=clock.now()))
    db.commit()
    flash(_("All notifications marked as read."), "info")
    return redirect(url_for("notifications.inbox"))


# --- what reaches whom ---------------------------------------------------------------------------


def _readable(slug: str) -> Document:
    document = get_document(current_services().db, slug)
    if document is None or not permissions.can_read(current_user, document):
        abort(404)
    return document


def _posted() -> bool:
    """Whether this is the form sent back (with its CSRF token: else 400)."""
    if request.method != "POST":
        return False
    if not _Form().validate_on_submit():
        abort(400)
    return True


def _documents(db) -> list[Document]:
    return [d for d in db.scalars(select(Document).order_by(Document.title)) if permissions.can_read(current_user, d)]


# --- pages ----------------------------------------------------------------------------------------


@bp.route("/notifications/preferences", methods=["GET", "POST"])
def overview():
    _signed_in()
    db = current_services().db
    if _posted():
        language = request.form.get("language", "")
        if language not in LANGUAGES:
            flash(_("Choose Spanish or English."), "error")
        else:
            user = db.get(User, current_user.id)
            if user is not None:
                user.language = language
            db.commit()
            flash(_("Your e-mails will be written in %(language)s.", language=LANGUAGE_LABELS[language]), "success")
        return redirect(url_for("notifications.overview"))
    return render_template("notifications/overview.html", documents=_documents(db),
                           languages=LANGUAGE_LABELS, language=current_user.language or "es")


@bp.route("/notifications/preferences/<slug>", methods=["GET", "POST"])
def document_preferences(slug: str):
    document = _readable(slug)  # before the sign-in: a draft is as invisible as a document that does not exist
    _signed_in()
    db = current_services().db
    if _posted():
        choices = {kind: (request.form.get(f"{kind}-in_app") == "on", request.form.get(f"{kind}-email", "off"))
                   for kind in KINDS}
        try:
            set_preferences(db, current_user.id, document.id, choices)
        except PreferenceError as exc:
            db.rollback()
            flash(str(exc), "error")
            return redirect(url_for("notifications.document_preferences", slug=slug))
        db.commit()
        flash(_("Your notification settings for this document are saved."), "success")
        return redirect(url_for("notifications.document_preferences", slug=slug))
    return render_template("notifications/preferences.html", document=document,
                           chosen=preferences(db, current_user.id, document.id), kinds=KINDS,
                           kind_labels=KIND_LABELS, email_choices=EMAIL_CHOICES, email_labels=EMAIL_LABELS)


# --- API ------------------------------------------------------------------------------------------


def _api_user():
    if not current_user.is_authenticated:
        raise Problem(401, _("Sign in to read your notifications."))


@api_bp.get("/notifications")
def api_list():
    _api_user()
    db = current_services().db
    query = select(Notification).where(Notification.user_id == current_user.id)
    if request.args.get("unread") in ("1", "true"):
        query = query.where(Notification.read_at.is_(None))
    rows = list(db.scalars(query.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(500)))
    ids = {n.document_id for n in rows if n.document_id}
    documents = {d.id: d for d in db.scalars(select(Document).where(Document.id.in_(ids)))} if ids else {}
    return jsonify({"notifications": [json_of(n, documents) for n in rows],
                    "unread": sum(1 for n in rows if n.read_at is None)})


@api_bp.post("/notifications/<int:notification_id>/read")
def api_read(notification_id: int):
    _api_user()
    db = current_services().db
    found = db.get(Notification, notification_id)
    if found is None or found.user_id != current_user.id:
        raise Problem(404, _("There is no notification %(id)s for you.", id=notification_id))
    if found.read_at is None:
        found.read_at = clock.now()
        db.commit()
    document = db.get(Document, found.document_id) if found.document_id else None
    return jsonify({"notification": json_of(found, {document.id: document} if document else {})})


def _preferences_json(db, document: Document) -> dict:
    chosen = preferences(db, current_user.id, document.id)
    return {"document": document.slug,
            "preferences": {kind: {"in_app": in_app, "email": email} for kind, (in_app, email) in chosen.items()}}


@api_bp.route("/documents/<slug>/notification-preferences", methods=["GET", "PUT"])
def api_preferences(slug: str):
    db = current_services().db
    document = get_document(db, slug)
    if document is None or not permissions.can_read(current_user, document):
        raise Problem(404, _("There is no document %(slug)r available to you.", slug=slug))
    _api_user()
    if request.method == "PUT":
        data = json_body().get("preferences")
        if not isinstance(data, dict):
            raise Problem(400, _("Send {\"preferences\": {kind: {\"in_app\": true|false, \"email\": "
                                 "\"off\"|\"immediate\"|\"digest\"}}}."))
        current = preferences(db, current_user.id, document.id)
        choices = {}
        for kind, value in data.items():
            if not isinstance(value, dict):
                raise Problem(400, _("The preference for %(kind)r must be an object.", kind=kind))
            in_app, email = current.get(kind, (True, "off"))
            choices[kind] = (value.get("in_app", in_app), value.get("email", email))
        try:
            set_preferences(db, current_user.id, document.id, choices)
        except PreferenceError as exc:
            raise Problem(400, str(exc)) from None
        db.commit()
    return jsonify(_preferences_json(db, document))


@api_bp.route("/notifications/language", methods=["GET", "PUT"])
def api_language():
    _api_user()
    db = current_services().db
    user = db.get(User, current_user.id)
    if user is None:
        raise Problem(401, _("Sign in to read your notifications."))
    if request.method == "PUT":
        language = json_body().get("language")
        if language not in LANGUAGES:
            raise Problem(400, _("Unknown language %(value)r; expected %(values)s.", value=language,
                                 values=", ".join(LANGUAGES)))
        user.language = language
        db.commit()
    return jsonify({"language": user.language})


# --- OpenAPI ---------------------------------------------------------------------------------------

_JSON: dict = {"content": {"application/json": {}}}
_SIGNED_IN = {"401": {"description": "not signed in"}}
_NOTE = "Signed-in accounts only; changes need the CSRF token in the X-CSRFToken header."
_CHOICE = {"type": "object", "properties": {"in_app": {"type": "boolean"},
                                            "email": {"type": "string", "enum": list(EMAIL_CHOICES)}}}
OPENAPI_PATHS = {
    "/api/v1/notifications": {
        "get": {"summary": "Your notifications, newest first, their text in the request's language",
                "description": _NOTE,
                "parameters": [{"name": "unread", "in": "query", "required": False,
                                "schema": {"type": "string", "enum": ["1", "true"]},
                                "description": "only the unread ones"}],
                "responses": {"200": {"description": "`notifications`: [{id, kind, text, url, document, created_at, "
                                                     "read, read_at}]; `unread`: how many of them", **_JSON},
                              **_SIGNED_IN}},
    },
    "/api/v1/notifications/{notification_id}/read": {
        "post": {"summary": "Mark one of your notifications as read", "description": _NOTE,
                 "parameters": [{"name": "notification_id", "in": "path", "required": True,
                                 "schema": {"type": "integer"}}],
                 "responses": {"200": {"description": "`notification`", **_JSON}, **_SIGNED_IN,
                               "404": {"description": "no such notification of yours"}}},
    },
    "/api/v1/notifications/language": {
        "get": {"summary": "The language of your e-mails", "description": _NOTE,
                "responses": {"200": {"description": "`language`: es or en", **_JSON}, **_SIGNED_IN}},
        "put": {"summary": "Choose the language of your e-mails", "description": _NOTE,
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["language"],
                    "properties": {"language": {"type": "string", "enum": list(LANGUAGES)}}}}}},
                "responses": {"200": {"description": "`language`", **_JSON}, **_SIGNED_IN,
                              "400": {"description": "not a language of the application; nothing changed"}}},
    },
    "/api/v1/documents/{slug}/notification-preferences": {
        "get": {"summary": "What reaches you about this document, per kind: in-app, and e-mail (off, at once, "
                           "daily digest)", "description": _NOTE,
                "parameters": [{"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "`preferences`: {kind: {in_app, email}} for the kinds "
                                                     + ", ".join(KINDS), **_JSON}, **_SIGNED_IN,
                              "404": {"description": "no such document (or not visible to you)"}}},
        "put": {"summary": "Change what reaches you about this document (the kinds given; the others stay)",
                "description": _NOTE,
                "parameters": [{"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["preferences"],
                    "properties": {"preferences": {"type": "object", "additionalProperties": _CHOICE}}}}}},
                "responses": {"200": {"description": "`preferences`", **_JSON}, **_SIGNED_IN,
                              "400": {"description": "an unknown kind or choice; nothing changed"},
                              "404": {"description": "no such document (or not visible to you)"}}},
    },
}
