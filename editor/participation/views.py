"""Residents' pages: signing in with an e-mail (a link or a code, no password), choosing the name
shown with their comments, and the forms of a clause's public comments (comment, reply, support,
report), which post here and go back to the clause's page.

Who: anyone reads; a signed-in participant (editor.participation.session) comments, replies and
supports while the stage takes comments; anyone reports. Staff accounts are not participants:
their sign-in is untouched by these pages, and it does not let them comment here. Rate limits:
sign-in e-mails per address and per e-mail, codes per address, comments per participant and per
address, supports per participant, reports per address (editor.config)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user

from akoma_ntoso import Unit, find_unit

from .. import audit, permissions
from ..access import visible_document
from ..events import PublicCommentsChanged
from ..limits import configured, limiter
from ..livetext import read_live
from ..models import Document
from ..outbox import wake
from ..problems import STATUS_OF
from ..provenance.links import path_labels
from ..security import local_path
from ..services import current_services
from . import follows
from . import session as participant_session
from .models import MAX_BODY, MAX_NAME, MAX_QUOTE, MAX_REASON, Participant, ParticipantSignIn, PublicComment
from .service import (
    closed_message,
    comments_open,
    post_comment,
    queue_size,
    report_comment,
    settings_of,
    support_counts,
    supported_by,
    toggle_support,
    unit_threads,
)
from .session import current_participant
from .signin import (
    ParticipationError,
    normalise_email,
    pending_link,
    redeem_code,
    redeem_link,
    rename,
    request_sign_in,
    sign_out_everywhere,
)

bp = Blueprint("participation", __name__)


COMMENT_ENDPOINTS = ("participation.comment",)


def _participant_key() -> str:
    participant = current_participant()
    return f"participant:{participant.id}" if participant is not None else f"address:{get_remote_address()}"


def _email_key() -> str:
    return "participant-email:" + normalise_email(request.form.get("email", ""))[:254]


def _accepted(response) -> bool:
    """Only what was taken counts against a limit (a refused comment keeps its text and costs nothing;
    a sign-in request for something that is not an address sends nothing)."""
    return response.status_code in (200, 201, 302, 303)


def _attempted(response) -> bool:
    """A code was tried against a request (right or wrong): what guessing would cost."""
    return response.status_code in (303, 400)


@bp.errorhandler(429)
def _too_fast(exc):
    """Past a rate limit: say which, and keep what was typed."""
    if request.endpoint in COMMENT_ENDPOINTS:
        message = _("You are commenting faster than this site allows (at most %(limit)s). Please wait a little "
                    "and send it again: your text is below.", limit=_limit_words(current_app.config[
                        "PUBLIC_COMMENT_RATE_LIMIT"]))
        return _comment_problem((request.view_args or {}).get("slug", ""), message, 429)
    if request.endpoint == "participation.sign_in":
        message = _("Too many sign-in e-mails were asked for from your connection or for this address. Please "
                    "wait a few minutes, and look for the e-mail already sent (and in the spam folder).")
    else:
        message = _("Too many attempts from your connection. Please wait a little and try again.")
    return render_template("error.html", message=message), 429


def _limit_words(limit: str) -> str:
    """"5 per minute;30 per hour" in the reader's words."""
    words = {"minute": _("%(num)s per minute"), "hour": _("%(num)s per hour"), "day": _("%(num)s per day")}
    parts = []
    for part in limit.split(";"):
        pieces = part.split()
        if len(pieces) == 3 and pieces[1] == "per" and pieces[2].rstrip("s") in words:
            parts.append(words[pieces[2].rstrip("s")] % {"num": pieces[0]})
        else:
            parts.append(part.strip())
    return ", ".join(parts)


@bp.after_request
def _private(response):
    """Sign-in pages and their answers are personal: never cached by anyone, never indexed."""
    if request.path.startswith("/participate/"):
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


# --- the unit page's section (editor.public renders it) -------------------------------------------


def unit_section(document: Document, unit: Unit, units) -> dict:
    """What the unit page's public-comments section needs, for whoever is looking."""
    db = current_services().db
    participant = current_participant()
    is_open, stage = comments_open(db, document)
    labels = path_labels(units)
    threads = unit_threads(db, document, unit, participant, labels)
    target = f"unit:{unit.guid}"
    moderator = permissions.can_moderate(current_user, document)
    return {"participation": {
        "participant": participant,
        "open": is_open,
        "closed_message": "" if is_open else closed_message(stage),
        "moderation": settings_of(db, document).moderation,
        "threads": threads,
        "unit_supports": support_counts(db, document, [target]).get(target, 0),
        "unit_supported": target in supported_by(db, document, participant, [target]),
        "moderator": moderator,
        "queue": queue_size(db, document) if moderator else 0,
        "following": follows.following(db, document, participant, unit.guid),
        "max_body": MAX_BODY, "max_quote": MAX_QUOTE, "max_reason": MAX_REASON,
    }}


# --- signing in --------------------------------------------------------------------------------------


def _link_url(token: str) -> str:
    base = (current_app.config.get("PUBLIC_URL") or "").rstrip("/")
    if base:
        return base + url_for("participation.link", token=token)
    return url_for("participation.link", token=token, _external=True)


def _next_path() -> str:
    return local_path(request.values.get("next")) or url_for("public.index")


@bp.route("/participate/sign-in", methods=["GET", "POST"])
@limiter.limit(configured("PARTICIPANT_SIGN_IN_RATE_LIMIT"), methods=["POST"], deduct_when=_accepted)
@limiter.limit(configured("PARTICIPANT_EMAIL_RATE_LIMIT"), methods=["POST"], key_func=_email_key,
               deduct_when=_accepted)
def sign_in():
    """Ask for a sign-in link and code by e-mail."""
    next_path = _next_path()
    if request.method == "GET":
        return render_template("participation/sign_in.html", next_path=next_path, email="", problem=None)
    email = request.form.get("email", "")
    db = current_services().db
    participant_session.acting(None)
    try:
        request_ = request_sign_in(
            db, email, language=str(get_locale()), next_path=next_path, secret=current_app.config["SECRET_KEY"],
            minutes=current_app.config["PARTICIPANT_CODE_MINUTES"], link_url=_link_url)
    except ParticipationError as exc:
        db.rollback()
        return render_template("participation/sign_in.html", next_path=next_path, email=email[:254],
                               problem=exc.message), STATUS_OF[exc.kind]
    session[participant_session.PENDING] = request_.id
    wake(current_app)
    return redirect(url_for("participation.code"), 303)


def _pending_sign_in() -> ParticipantSignIn | None:
    pending = session.get(participant_session.PENDING)
    return current_services().db.get(ParticipantSignIn, pending) if isinstance(pending, int) else None


@bp.route("/participate/code", methods=["GET", "POST"])
@limiter.limit(configured("PARTICIPANT_CODE_RATE_LIMIT"), methods=["POST"], deduct_when=_attempted)
def code():
    """Type the code from the e-mail (in the browser that asked for it)."""
    db = current_services().db
    pending = _pending_sign_in()
    if request.method == "GET":
        if pending is None:
            return redirect(url_for("participation.sign_in"))
        email = db.get(Participant, pending.participant_id).email
        return render_template("participation/code.html", email=email, problem=None,
                               minutes=round(current_app.config["PARTICIPANT_CODE_MINUTES"]))
    try:
        participant, next_path = redeem_code(db, pending.id if pending is not None else None,
                                             request.form.get("code", ""), current_app.config["SECRET_KEY"])
    except ParticipationError as exc:
        db.rollback()
        if pending is None:
            return render_template("error.html", message=exc.message), STATUS_OF[exc.kind]
        email = db.get(Participant, pending.participant_id).email
        return render_template("participation/code.html", email=email, problem=exc.message,
                               minutes=round(current_app.config["PARTICIPANT_CODE_MINUTES"])), STATUS_OF[exc.kind]
    return _signed_in(participant, next_path)


@bp.route("/participate/link/<token>", methods=["GET", "POST"])
@limiter.limit(configured("PARTICIPANT_CODE_RATE_LIMIT"))
def link(token: str):
    """The link from the e-mail. Opening it asks for one click: mail filters that open links to
    check them would otherwise spend it before its owner does."""
    db = current_services().db
    if request.method == "GET":
        pending = pending_link(db, token)
        if pending is None:
            return _dead_link()
        return render_template("participation/link.html", email=db.get(Participant, pending.participant_id).email)
    redeemed = redeem_link(db, token)
    if redeemed is None:
        return _dead_link()
    return _signed_in(*redeemed)


def _dead_link():
    message = _("This sign-in link no longer works: it was used already, it expired, or it was never sent. Ask for "
                "a new one.")
    return render_template("participation/dead_link.html", message=message), 404


def _signed_in(participant: Participant, next_path: str):
    participant_session.start(participant)
    participant_session.acting(participant)
    audit.record(current_services().engine, "participation.sign_in", actor=audit.actor_of(),
                 target=f"participant:{participant.id}")
    next_path = local_path(next_path) or url_for("public.index")
    if not participant.display_name:
        flash(_("Your e-mail address is verified. Choose the name shown with your comments."), "success")
        return redirect(url_for("participation.account", next=next_path), 303)
    flash(_("You are signed in as %(name)s.", name=participant.display_name), "success")
    return redirect(next_path, 303)


@bp.route("/participate/account", methods=["GET", "POST"])
def account():
    """The participant's name and signing out."""
    participant = current_participant()
    if participant is None:
        if request.method == "GET":
            return redirect(url_for("participation.sign_in", next=request.full_path))
        return _not_signed_in()
    next_path = local_path(request.values.get("next")) or ""
    followed = follows.follows_of(current_services(), participant)
    if request.method == "GET":
        return render_template("participation/account.html", participant=participant, name=participant.display_name,
                               next_path=next_path, problem=None, max_name=MAX_NAME, followed=followed)
    participant_session.acting(participant)
    name = request.form.get("name", "")
    try:
        rename(current_services().db, participant, name)
    except ParticipationError as exc:
        current_services().db.rollback()
        return render_template("participation/account.html", participant=participant, name=name[:MAX_NAME],
                               next_path=next_path, problem=exc.message, max_name=MAX_NAME,
                               followed=followed), STATUS_OF[exc.kind]
    flash(_("Your comments will show the name %(name)s.", name=participant.display_name), "success")
    return redirect(next_path or url_for("participation.account"), 303)


@bp.post("/participate/sign-out")
def sign_out():
    """Sign the participant out of every browser (a new sign-in is one e-mail away). A staff
    account signed in in the same browser stays signed in."""
    participant = current_participant()
    if participant is not None:
        participant_session.acting(participant)
        sign_out_everywhere(current_services().db, participant)
        audit.record(current_services().engine, "participation.sign_out", actor=audit.actor_of(),
                     target=f"participant:{participant.id}")
    participant_session.end()
    flash(_("You have signed out of taking part."), "success")
    return redirect(local_path(request.form.get("next")) or url_for("public.index"), 303)


def _not_signed_in(slug: str = ""):
    """401: the page says how to sign in, and brings the participant back to the clause's page."""
    page = request.form.get("page", "")
    if slug and page:
        next_path = url_for("public.unit", slug=slug, eid=page[:200])
    elif slug:
        next_path = url_for("public.document", slug=slug)
    else:
        next_path = url_for("public.index")
    message = _("Sign in with your e-mail address to take part: we send you a code, no password is needed.")
    return render_template("participation/sign_in_first.html", message=message, next_path=next_path), 401


# --- comments, replies, support and reports (the unit page's forms) -----------------------------------


def _back(document: Document, units, fallback_guid: str) -> str:
    """The clause page the form was on (its `page` field), else the clause of what was posted."""
    unit = find_unit(units, request.form.get("page", "")) or find_unit(units, fallback_guid)
    if unit is None:
        return url_for("public.document", slug=document.slug)
    return url_for("public.unit", slug=document.slug, eid=unit.eid)


def _announce(slug: str, guid: str, published: bool) -> None:
    """The committee's panels in the editor (every process), after the commit (see handlers)."""
    current_services().events.publish(PublicCommentsChanged(slug, (guid,), published))


def _comment_problem(slug: str, message: str, status: int):
    """A comment or reply refused: the reason, and the form again with what was typed."""
    services = current_services()
    services.db.rollback()
    document = visible_document(slug)
    units = read_live(services, slug).units
    page = find_unit(units, request.form.get("page", "")) or find_unit(units, request.form.get("unit", ""))
    parent = request.form.get("parent", "")
    return render_template(
        "participation/comment_problem.html", document=document, message=message, unit=page,
        body=request.form.get("body", "")[:MAX_BODY], quote=request.form.get("quote", "")[:MAX_QUOTE],
        parent=parent if parent.isdigit() else "", key=request.form.get("unit", "")[:100],
        page_key=page.guid if page is not None else "", max_body=MAX_BODY, max_quote=MAX_QUOTE,
        participant=current_participant()), status


def _taking_part(slug: str) -> tuple[Document, Participant]:
    """The document and the signed-in participant acting on it (401 for anyone else: staff
    accounts included, which do not take part as the public)."""
    document = visible_document(slug)
    participant = current_participant()
    if participant is None:
        abort(make_response(_not_signed_in(slug)))
    participant_session.acting(participant, slug)
    return document, participant


def _parent_id(value: str) -> int | None:
    if not value:
        return None
    if not value.isdigit() or len(value) > 18:
        abort(404)
    return int(value)


@bp.post("/d/<slug>/public-comments")
@limiter.limit(configured("PUBLIC_COMMENT_RATE_LIMIT"), key_func=_participant_key, deduct_when=_accepted)
@limiter.limit(configured("PUBLIC_COMMENT_ADDRESS_RATE_LIMIT"), deduct_when=_accepted)
def comment(slug: str):
    """A participant's comment on a clause (`unit`: eId or GUID; `quote`: words of it), or a reply
    (`parent`: the comment answered). Never touches the text: see the package's docstring."""
    document, participant = _taking_part(slug)
    services = current_services()
    units = read_live(services, slug).units
    try:
        posted = post_comment(services.db, document, units, participant, request.form.get("unit", ""),
                              request.form.get("body", ""), request.form.get("quote"),
                              _parent_id(request.form.get("parent", "")))
    except ParticipationError as exc:
        return _comment_problem(slug, exc.message, STATUS_OF[exc.kind])
    _announce(slug, posted.unit_guid, posted.state == "published")
    if posted.state == "published":
        flash(_("Your reply is published.") if posted.parent_id else _("Your comment is published."), "success")
    else:
        flash(_("Thank you. Your comment is waiting for moderation: others will see it once a moderator approves "
                "it."), "success")
    return redirect(_back(document, units, posted.unit_guid) + f"#public-comment-{posted.id}", 303)


@bp.post("/d/<slug>/public-support")
@limiter.limit(configured("PUBLIC_SUPPORT_RATE_LIMIT"), key_func=_participant_key)
def support(slug: str):
    """Support a clause (`unit`) or a comment (`comment`), or withdraw that support."""
    document, participant = _taking_part(slug)
    services = current_services()
    db = services.db
    units = read_live(services, slug).units
    comment_id = request.form.get("comment", "")
    target_comment = db.get(PublicComment, _parent_id(comment_id)) if comment_id else None
    if comment_id and (target_comment is None or target_comment.document_id != document.id):
        abort(404)
    unit = None if target_comment is not None else find_unit(units, request.form.get("unit", ""))
    if target_comment is None and unit is None:
        abort(404)
    try:
        now = toggle_support(db, document, participant, unit=unit, comment=target_comment)
    except ParticipationError as exc:
        db.rollback()
        return render_template("error.html", message=exc.message), STATUS_OF[exc.kind]
    guid = target_comment.unit_guid if target_comment is not None else unit.guid
    _announce(slug, guid, True)
    flash(_("Your support is counted.") if now else _("Your support is withdrawn."), "success")
    anchor = f"#public-comment-{target_comment.id}" if target_comment is not None else "#public-comments"
    return redirect(_back(document, units, guid) + anchor, 303)


@bp.post("/d/<slug>/public-comments/<int:comment_id>/report")
@limiter.limit(configured("PUBLIC_REPORT_RATE_LIMIT"))
def report(slug: str, comment_id: int):
    """Anyone reports a published comment to the moderators, with a reason."""
    document = visible_document(slug)
    services = current_services()
    db = services.db
    target = db.get(PublicComment, comment_id)
    if target is None or target.document_id != document.id:
        abort(404)
    participant = current_participant()
    participant_session.acting(participant, slug)
    try:
        new = report_comment(db, document, target, request.form.get("reason", ""), participant,
                             participant_session.reporter_key(participant))
    except ParticipationError as exc:
        db.rollback()
        return render_template("error.html", message=exc.message), STATUS_OF[exc.kind]
    if new:
        _announce(slug, target.unit_guid, False)
    flash(_("Thank you: the moderators will look at this comment.") if new
          else _("You had already reported this comment; the moderators will look at it."), "success")
    units = read_live(services, slug).units
    return redirect(_back(document, units, target.unit_guid) + f"#public-comment-{target.id}", 303)


# --- following a document or a clause (editor.participation.follows) -----------------------------------


@bp.app_template_global()
def follow_state(document: Document) -> dict:
    """For a document's pages (the process page): who is looking and whether they follow it."""
    participant = current_participant()
    return {"participant": participant,
            "following": follows.following(current_services().db, document, participant, "")}


def _followed_target(slug: str) -> tuple[Document, Participant, Unit | None, str]:
    """The document, the participant, the clause named by `unit` (None: the whole document) and
    the page to go back to."""
    document, participant = _taking_part(slug)
    key = request.form.get("unit", "")
    unit = None
    if key:
        unit = find_unit(read_live(current_services(), slug).units, key[:100])
        if unit is None:
            abort(404)
    fallback = (url_for("public.unit", slug=slug, eid=unit.eid) if unit is not None
                else url_for("process.page", slug=slug))
    return document, participant, unit, local_path(request.form.get("next")) or fallback


@bp.post("/d/<slug>/follow")
@limiter.limit(configured("PUBLIC_SUPPORT_RATE_LIMIT"), key_func=_participant_key)
def follow(slug: str):
    """A signed-in participant follows the document (no `unit`) or a clause (`unit`: eId or GUID)."""
    document, participant, unit, back = _followed_target(slug)
    follows.follow(current_services().db, document, participant, unit)
    flash(_("You follow this clause: we will e-mail you when its wording changes.") if unit is not None
          else _("You follow this document: we will e-mail you when it enters a new stage."), "success")
    return redirect(back, 303)


@bp.post("/d/<slug>/unfollow")
@limiter.limit(configured("PUBLIC_SUPPORT_RATE_LIMIT"), key_func=_participant_key)
def unfollow(slug: str):
    """Stop following the document or a clause of it (`unit`: eId or GUID, or a clause no longer
    in the text, by GUID)."""
    document, participant = _taking_part(slug)
    key = request.form.get("unit", "")[:100]
    unit = find_unit(read_live(current_services(), slug).units, key) if key else None
    guid = unit.guid if unit is not None else key
    follows.unfollow(current_services().db, participant.id, document.id, guid)
    back = local_path(request.form.get("next")) or (
        url_for("public.unit", slug=slug, eid=unit.eid) if unit is not None else url_for("process.page", slug=slug))
    flash(_("You no longer follow it."), "success")
    return redirect(back, 303)


@bp.route("/participate/stop/<token>", methods=["GET", "POST"])
@limiter.limit(configured("PARTICIPANT_CODE_RATE_LIMIT"))
def stop(token: str):
    """The link in every update: no sign-in needed. Opening it only asks; the button stops it (a
    mail filter that opens links to check them stops nothing)."""
    services = current_services()
    found = follows.read_stop_token(current_app.config["SECRET_KEY"], token)
    document = services.db.get(Document, found[1]) if found is not None else None
    if found is None or document is None or services.db.get(Participant, found[0]) is None:
        abort(404)
    participant_id, _document_id, guid = found
    label = ""
    if guid:
        units = read_live(services, document.slug).units
        unit = find_unit(units, guid)
        label = path_labels(units).get(guid, "") if unit is not None else _("a clause no longer in the text")
    stopped = False
    if request.method == "POST":
        participant_session.acting(services.db.get(Participant, participant_id), document.slug)
        follows.unfollow(services.db, participant_id, document.id, guid)
        stopped = True
    active = follows.following(services.db, document, services.db.get(Participant, participant_id), guid)
    return render_template("participation/stop.html", document=document, label=label, stopped=stopped,
                           active=active)
