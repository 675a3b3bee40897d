"""Pages and JSON for petitioner review.

The petitioner's page (`/review/<token>`) needs no account: the token is the whole credential and
grants one petition's scope, read and review, nothing else. Every failure to find an active link
for the token (and the petition id a form or request names) is the same 404. The committee's
dashboard (`/d/<slug>/reviews`) is for those who may manage reviews (editor.permissions).
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from .. import audit, clock, permissions
from ..documents import get_document
from ..limits import configured, limiter
from ..models import Document
from ..outbox import wake
from ..petitions.models import Petition
from ..problems import Problem, csrf_refused, request_json
from ..services import current_services
from ..stages.current import current_stage, stage_name
from . import service
from .service import (
    LANGUAGES,
    MAX_COMMENT,
    MAX_LINK_DAYS,
    MAX_NAME,
    ReviewError,
    check_changes,
    dashboard,
    find_link,
    issue_link,
    latest_review,
    pending_request,
    record_opening,
    review_scope,
    revoke_link,
    submit_review,
)

bp = Blueprint("review", __name__)


@bp.errorhandler(404)
def _not_found(exc):
    """The same answer for every link that does not open (JSON under /api/)."""
    if request.path.startswith("/api/"):
        return _problem(_("Not found."), 404)
    return exc


@bp.errorhandler(CSRFError)
def _csrf_failed(exc):
    csrf_refused()
    message = _("This form has expired or did not come from this site. Reload the page and send it again.")
    current_services().db.rollback()
    if request.path.startswith("/api/"):
        return _problem(f"{message} ({exc.description})", 400)
    return render_template("error.html", message=message), 400


@bp.after_request
def _private(response):
    """Review pages and their answers are personal: never cached, never indexed."""
    if request.path.startswith(("/review/", "/api/v1/review/")) or "/reviews" in request.path:
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


# --- the petitioner ----------------------------------------------------------------------------------


def _link_or_404(token: str, petition_id: int | None = None):
    db = current_services().db
    link = find_link(db, token, petition_id)
    if link is None:
        abort(404)
    document = db.get(Document, link.document_id)
    petition = db.get(Petition, link.petition_id)
    if document is None or petition is None:
        abort(404)
    # The link is the credential: what is done through it is the petition's, in the audit log.
    audit.acting_as(audit.Actor(label=f"petition:{petition.id}", role="petitioner", ip=request.remote_addr or ""),
                    document.slug)
    return link, document, petition


def _petition_field(value) -> int:
    """The petition id a form or JSON body names; anything unreadable is a 404 like a wrong one."""
    if isinstance(value, bool):
        abort(404)
    try:
        return int(value)
    except (TypeError, ValueError):
        abort(404)


def _petitioner_locale(link) -> str | None:
    """The petitioner's own choice of language if they made one, else the link's."""
    chosen = request.args.get("lang") or request.cookies.get("lang")
    return None if chosen in current_app.config["LANGUAGES"] else link.language


def _render_petitioner(link, document, petition, status: int = 200, problem: str | None = None,
                       form: dict | None = None):
    services = current_services()
    scope = review_scope(services, document, petition)
    page = lambda: render_template(  # noqa: E731
        "review/page.html", link=link, document=document, petition=petition, scope=scope, problem=problem,
        form=form or {}, max_comment=MAX_COMMENT, token_path=request.path)
    locale = _petitioner_locale(link)
    if locale:
        with force_locale(locale):
            return page(), status
    return page(), status


@bp.get("/review/<token>")
@limiter.limit(configured("REVIEW_RATE_LIMIT"))
def page(token: str):
    link, document, petition = _link_or_404(token)
    record_opening(current_services().db, link)
    return _render_petitioner(link, document, petition)


@bp.post("/review/<token>")
@limiter.limit(configured("REVIEW_RATE_LIMIT"))
def submit(token: str):
    petition_id = _petition_field(request.form.get("petition"))
    link, document, petition = _link_or_404(token, petition_id)
    decision = request.form.get("decision", "")
    comment = request.form.get("comment", "")
    publish = request.form.get("publish_comment", "") == "1"
    form = {"decision": decision, "comment": comment, "publish_comment": publish}
    try:
        review = submit_review(current_services(), document, link, decision, comment, request.form.get("seen", ""),
                               publish_comment=publish)
    except ReviewError as exc:
        current_services().db.rollback()
        return _render_petitioner(link, document, petition, exc.status, problem=str(exc), form=form)
    wake(current_app)
    locale = _petitioner_locale(link)
    if locale:
        with force_locale(locale):
            _thank(review)
    else:
        _thank(review)
    return redirect(url_for("review.page", token=token) + "#outcome", 303)


def _thank(review) -> None:
    if review.decision == "approve":
        flash(_("Thank you: your approval of the wording has been recorded."), "success")
    else:
        flash(_("Thank you: your objection and your comment have been recorded; the drafting committee will "
                "read them."), "success")
    if review.publish_comment:
        flash(_("Your comment is now shown on the petition's public page."), "success")


def _scope_json(scope, link) -> dict:
    latest = scope.latest
    return {
        "document": {"slug": scope.document.slug, "title": scope.document.title},
        "petition": {"id": scope.petition.id, "title": scope.petition.title, "proposal": scope.petition.proposal},
        "petitioner": link.petitioner_name,
        "units": [{
            "guid": u.guid, "name": u.name, "removed": u.unit is None,
            "heading": u.unit.heading if u.unit else "", "text": u.unit.text if u.unit else "",
            "wording": u.wording,
            "article": ({"guid": u.article.guid, "label": u.article.label, "heading": u.article.heading}
                        if u.article is not None else None),
            "proposal_redline": str(u.proposal_diff) if u.proposal_diff is not None else None,
            "proposal_kept": u.proposal_kept,
            "changed_since_review": u.changed,
            "reviewed_redline": str(u.reviewed_diff) if u.reviewed_diff is not None else None,
        } for u in scope.units],
        "review": ({"decision": latest.decision, "comment": latest.comment,
                    "publish_comment": bool(latest.publish_comment),
                    "at": clock.as_utc(latest.created_at).isoformat()} if latest is not None else None),
        "rereview_requested": scope.request is not None,
        "can_review": scope.open,
        "reason": scope.reason,
        "seen": scope.fingerprint,
    }


def _problem(message: str, status: int):
    response = jsonify({"error": message, "status": status})
    response.status_code = status
    return response


@bp.get("/api/v1/review/<token>")
@limiter.limit(configured("REVIEW_RATE_LIMIT"))
def api_scope(token: str):
    link, document, petition = _link_or_404(token)
    record_opening(current_services().db, link)
    return jsonify(_scope_json(review_scope(current_services(), document, petition), link))


@bp.post("/api/v1/review/<token>")
@limiter.limit(configured("REVIEW_RATE_LIMIT"))
def api_submit(token: str):
    _link_or_404(token)  # a wrong link gets the same 404, whatever it sends
    try:
        body = request_json()
    except Problem as exc:
        return _problem(exc.message, 400)
    if not isinstance(body, dict):
        return _problem(_("Send a JSON object with petition, decision, comment and seen."), 400)
    link, document, petition = _link_or_404(token, _petition_field(body.get("petition")))
    fields = {key: body.get(key, "") for key in ("decision", "comment", "seen")}
    for key, value in fields.items():
        if not isinstance(value, str):
            return _problem(_("%(field)s must be a string.", field=key), 400)
    publish = body.get("publish_comment", False)
    if not isinstance(publish, bool):
        return _problem(_("%(field)s must be true or false.", field="publish_comment"), 400)
    services = current_services()
    try:
        review = submit_review(services, document, link, fields["decision"], fields["comment"], fields["seen"],
                               publish_comment=publish)
    except ReviewError as exc:
        services.db.rollback()
        return _problem(str(exc), exc.status)
    wake(current_app)
    return jsonify({"review": {"id": review.id, "decision": review.decision, "comment": review.comment,
                               "publish_comment": review.publish_comment,
                               "at": clock.as_utc(review.created_at).isoformat()}}), 201


# --- the committee ---------------------------------------------------------------------------------


def _staff_document(slug: str, api: bool = False) -> Document:
    document = get_document(current_services().db, slug)
    if document is None or not permissions.can_read(current_user, document):
        abort(_problem(_("There is no document %(slug)s.", slug=slug), 404) if api else 404)
    if not current_user.is_authenticated:
        if api:
            abort(_problem(_("Sign in first."), 401))
        abort(redirect(url_for("accounts.login", next=request.path)))
    if not permissions.can_manage_reviews(current_user, document):
        abort(_problem(_("Only the drafting committee manages petitioner reviews."), 403) if api else 403)
    return document


def _petition_of(document: Document, petition_id: int, api: bool = False) -> Petition:
    petition = current_services().db.get(Petition, petition_id)
    if petition is None or petition.document_id != document.id:
        abort(_problem(_("There is no petition %(id)d in this document.", id=petition_id), 404) if api else 404)
    return petition


def _may_issue(document: Document, petition: Petition) -> tuple[bool, str]:
    db = current_services().db
    pending = pending_request(db, latest_review(db, petition.id)) is not None
    if permissions.can_issue_review_link(current_user, document, rereview_pending=pending):
        return True, ""

    return False, _("Review links are issued during the petitioner consultation, or later when a petitioner is "
                    "asked to review again; the document is in the stage “%(stage)s”.",
                    stage=stage_name(current_stage(db, document)))


def _public_url(token: str) -> str:
    base = (current_app.config.get("PUBLIC_URL") or "").rstrip("/")
    if base:
        return base + url_for("review.page", token=token)
    return url_for("review.page", token=token, _external=True)


def _invitation_mailto(document: Document, petition: Petition, link, url: str) -> str:
    """A mailto: link the committee member may use to send the link from their own mail program
    (the server never keeps the link)."""
    _ = service._translator(link.language)  # noqa: F811 - the petitioner's language, not the page's
    subject = _("Your private link to review the wording of your petition “%(title)s”",
                 title=service._shorten(petition.title, 120))
    body = _("Hello %(name)s,\n\nThe drafting committee invites you to read the current wording of the clauses "
              "of %(document)s that come from your petition “%(title)s”, and to approve it or object to it:"
              "\n\n%(url)s\n\nThis link is personal: do not share it.",
              name=link.petitioner_name, document=document.title, title=petition.title, url=url)
    return f"mailto:{quote(link.petitioner_email, safe='@')}?subject={quote(subject)}&body={quote(body)}"


def _render_dashboard(document: Document, status: int = 200, issued: dict | None = None,
                      problem: dict | None = None):
    board = dashboard(current_services(), document)
    allowed = {pending: permissions.can_issue_review_link(current_user, document, rereview_pending=pending)
               for pending in (False, True)}
    issuable = {row.petition.id: allowed[row.request is not None] for row in board.rows}
    return render_template(
        "review/dashboard.html", document=document, board=board, issued=issued, problem=problem,
        issuable=issuable, languages=LANGUAGES, default_days=current_app.config.get("REVIEW_LINK_DAYS", 60),
        max_days=MAX_LINK_DAYS, max_name=MAX_NAME,
    ), status


@bp.get("/d/<slug>/reviews")
def dashboard_page(slug: str):
    document = _staff_document(slug)
    return _render_dashboard(document)


def _days_field(raw) -> int | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, bool):
        raise ReviewError(_("The link must work for 1 to %(n)d days.", n=MAX_LINK_DAYS))
    try:
        days = int(raw)
    except (TypeError, ValueError):
        raise ReviewError(_("The link must work for 1 to %(n)d days.", n=MAX_LINK_DAYS)) from None
    if not 1 <= days <= MAX_LINK_DAYS:
        raise ReviewError(_("The link must work for 1 to %(n)d days.", n=MAX_LINK_DAYS))
    return days


def _issue(document: Document, petition: Petition, values: dict):
    allowed, why = _may_issue(document, petition)
    if not allowed:
        raise ReviewError(why, 409)
    for key in ("name", "email", "language"):
        if not isinstance(values.get(key, ""), str):
            raise ReviewError(_("%(field)s must be a string.", field=key))
    return issue_link(current_services().db, document, petition, current_user, values.get("name", ""),
                      values.get("email", ""), values.get("language") or "es", _days_field(values.get("days")),
                      config=current_app.config)


@bp.post("/d/<slug>/reviews/<int:petition_id>/link")
def issue_page(slug: str, petition_id: int):
    document = _staff_document(slug)
    petition = _petition_of(document, petition_id)
    values = {key: request.form.get(key, "") for key in ("name", "email", "language", "days")}
    try:
        link, token = _issue(document, petition, values)
    except ReviewError as exc:
        current_services().db.rollback()
        return _render_dashboard(document, exc.status, problem={"petition": petition.id, "message": str(exc),
                                                                "values": values})
    url = _public_url(token)
    issued = {"petition": petition.id, "url": url, "name": link.petitioner_name, "email": link.petitioner_email,
              "expires_at": clock.as_utc(link.expires_at),
              "mailto": _invitation_mailto(document, petition, link, url)}
    return _render_dashboard(document, 201, issued=issued)


@bp.post("/d/<slug>/reviews/<int:petition_id>/revoke")
def revoke_page(slug: str, petition_id: int):
    document = _staff_document(slug)
    petition = _petition_of(document, petition_id)
    try:
        revoke_link(current_services().db, document, petition, current_user)
    except ReviewError as exc:
        current_services().db.rollback()
        flash(str(exc), "error")
        return redirect(url_for("review.dashboard_page", slug=slug) + f"#petition-{petition.id}", 303)
    flash(_("The link for “%(title)s” was revoked: it no longer opens anything.", title=petition.title), "success")
    return redirect(url_for("review.dashboard_page", slug=slug) + f"#petition-{petition.id}", 303)


@bp.post("/d/<slug>/reviews/check")
def check_page(slug: str):
    document = _staff_document(slug)
    asked = check_changes(current_services(), document)
    wake(current_app)
    if asked:
        flash(ngettext("%(num)d petitioner whose reviewed wording changed was asked to review it again.",
                       "%(num)d petitioners whose reviewed wording changed were asked to review it again.", asked),
              "success")
    else:
        flash(_("No petitioner needs to be asked again: the wording they reviewed has not changed, or they "
                "were already asked."), "success")
    return redirect(url_for("review.dashboard_page", slug=slug), 303)


# --- the committee's JSON ------------------------------------------------------------------------------


def _moment(value):
    value = clock.as_utc(value)
    return value.isoformat() if value is not None else None


def _board_json(board) -> dict:
    return {
        "stage": board.stage, "consultation": board.consultation, "total": board.total, "counts": board.counts,
        "petitions": [{
            "id": row.petition.id, "title": row.petition.title, "petitioners": row.petition.petitioners,
            "units": row.unit_names,
            "link": ({"status": row.link_status, "petitioner_name": row.link.petitioner_name,
                      "petitioner_email": row.link.petitioner_email, "language": row.link.language,
                      "created_at": _moment(row.link.created_at), "expires_at": _moment(row.link.expires_at),
                      "revoked_at": _moment(row.link.revoked_at), "last_opened_at": _moment(row.link.last_opened_at),
                      "opened": row.link.opened_count} if row.link is not None else None),
            "outcome": row.outcome, "at": _moment(row.at),
            "comment": row.review.comment if row.review is not None else "",
            "reviews": row.reviews,
        } for row in board.rows],
    }


@bp.get("/api/v1/documents/<slug>/reviews")
def api_dashboard(slug: str):
    document = _staff_document(slug, api=True)
    return jsonify(_board_json(dashboard(current_services(), document)))


@bp.post("/api/v1/documents/<slug>/reviews/<int:petition_id>/link")
def api_issue(slug: str, petition_id: int):
    document = _staff_document(slug, api=True)
    petition = _petition_of(document, petition_id, api=True)
    try:
        body = request_json()
    except Problem as exc:
        return _problem(exc.message, 400)
    if not isinstance(body, dict):
        return _problem(_("Send a JSON object with name, email, language and days."), 400)
    try:
        link, token = _issue(document, petition, body)
    except ReviewError as exc:
        current_services().db.rollback()
        return _problem(str(exc), exc.status)
    response = jsonify({"url": _public_url(token), "petition": petition.id,
                        "expires_at": _moment(link.expires_at), "link": link.id})
    response.status_code = 201
    return response


@bp.post("/api/v1/documents/<slug>/reviews/<int:petition_id>/link/revoke")
def api_revoke(slug: str, petition_id: int):
    document = _staff_document(slug, api=True)
    petition = _petition_of(document, petition_id, api=True)
    try:
        link = revoke_link(current_services().db, document, petition, current_user)
    except ReviewError as exc:
        current_services().db.rollback()
        return _problem(str(exc), exc.status)
    return jsonify({"petition": petition.id, "link": link.id, "revoked_at": _moment(link.revoked_at)})


@bp.post("/api/v1/documents/<slug>/reviews/check")
def api_check(slug: str):
    document = _staff_document(slug, api=True)
    asked = check_changes(current_services(), document)
    wake(current_app)
    return jsonify({"asked": asked})


# --- OpenAPI -------------------------------------------------------------------------------------------

_SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
_TOKEN = {"name": "token", "in": "path", "required": True, "schema": {"type": "string"},
          "description": "the secret of a petitioner's review link"}
_PETITION = {"name": "petition_id", "in": "path", "required": True, "schema": {"type": "integer"}}
_JSON = {"content": {"application/json": {}}}
_STAFF_ERRORS = {"401": {"description": "not signed in"}, "403": {"description": "not the committee"},
                 "404": {"description": "no such document or petition"}}
_STAFF = "Committee only (drafting committee and administrators); CSRF token in the X-CSRFToken header for POST."

OPENAPI_PATHS = {
    "/api/v1/review/{token}": {
        "get": {"summary": "A petitioner's review: the live wording of their petition's clauses with redlines",
                "description": "No account: the token is the credential. `seen` must be sent back with a review. "
                               "Unknown, revoked and expired links all answer 404.",
                "parameters": [_TOKEN],
                "responses": {"200": {"description": "the petition's scope", **_JSON},
                              "404": {"description": "no active link with this token"}}},
        "post": {"summary": "Approve or object to the wording (a comment is required to object)",
                 "parameters": [_TOKEN],
                 "requestBody": {"required": True, "content": {"application/json": {"schema": {
                     "type": "object", "required": ["petition", "decision", "seen"],
                     "properties": {"petition": {"type": "integer"},
                                    "decision": {"type": "string", "enum": ["approve", "object"]},
                                    "comment": {"type": "string", "maxLength": MAX_COMMENT},
                                    "publish_comment": {
                                        "type": "boolean", "default": False,
                                        "description": "show the comment, with the decision and its date, on the "
                                                       "petition's public page and the results page (the "
                                                       "petition's petitioners are named there already; the "
                                                       "reviewer's name and e-mail address never are); "
                                                       "ignored without a comment"},
                                    "seen": {"type": "string", "description": "`seen` from the GET"}}}}}},
                 "responses": {"201": {"description": "recorded", **_JSON},
                               "400": {"description": "bad input; nothing recorded"},
                               "404": {"description": "no active link with this token for this petition"},
                               "409": {"description": "reviews are closed, or the wording changed since `seen`"}}},
    },
    "/api/v1/documents/{slug}/reviews": {"get": {
        "summary": "Petitioner review outcomes: per petition its link status and latest decision, and counts",
        "description": _STAFF, "parameters": [_SLUG],
        "responses": {"200": {"description": "the dashboard", **_JSON}, "401": {"description": "not signed in"},
                      "403": {"description": "not the committee"}, "404": {"description": "no such document"}}}},
    "/api/v1/documents/{slug}/reviews/{petition_id}/link": {"post": {
        "summary": "Issue a petition's review link (revokes its previous one); the URL is returned only here",
        "description": _STAFF, "parameters": [_SLUG, _PETITION],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["name", "email"],
            "properties": {"name": {"type": "string", "maxLength": MAX_NAME}, "email": {"type": "string"},
                           "language": {"type": "string", "enum": list(LANGUAGES)},
                           "days": {"type": "integer", "minimum": 1, "maximum": MAX_LINK_DAYS}}}}}},
        "responses": {"201": {"description": "issued", **_JSON}, "400": {"description": "bad input; nothing issued"},
                      **_STAFF_ERRORS,
                      "409": {"description": "not in a consultation stage, or the petition has no clauses"}}}},
    "/api/v1/documents/{slug}/reviews/{petition_id}/link/revoke": {"post": {
        "summary": "Revoke a petition's review link", "description": _STAFF, "parameters": [_SLUG, _PETITION],
        "responses": {"200": {"description": "revoked", **_JSON}, **_STAFF_ERRORS,
                      "409": {"description": "no link to revoke"}}}},
    "/api/v1/documents/{slug}/reviews/check": {"post": {
        "summary": "Ask petitioners whose reviewed wording changed to review again (idempotent)",
        "description": _STAFF, "parameters": [_SLUG],
        "responses": {"200": {"description": "`asked`: how many petitions were asked now", **_JSON},
                      **_STAFF_ERRORS}}},
}
