"""Administration: accounts (invite, change role, deactivate, sign out everywhere, reset),
roles per document, and the audit log. Administrators only (editor.permissions.can_administer).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from . import audit, permissions
from .accounts import AccountError, add_user, invitation_token, locks, sign_out_everywhere, unlock
from .documents import get_document
from .events import AccountChanged
from .models import DOCUMENT_ROLES, ROLES, Document, DocumentMember, User
from .outbox import OutboxError, enqueue_email
from .services import current_services
from .stages.views import role_label

bp = Blueprint("admin", __name__)



def _admin_only() -> None:
    if not permissions.can_administer(current_user):
        abort(403)


def _invitation_url(user: User) -> str:
    return url_for("accounts.welcome", token=invitation_token(user), _external=True)


def _send_invitation(db, user: User, url: str, reset: bool) -> None:
    subject = _("Your Constituent account") if not reset else _("Set a new Constituent password")
    body = _("Hello %(name)s,\n\nOpen this link to set your password (it works once, for 7 days):\n\n%(url)s\n",
             name=user.name, url=url)
    try:
        enqueue_email(db, user.email, subject, body, event="account.invitation")
        db.commit()
    except OutboxError:
        db.rollback()


def _refresh_connections(user_id: int) -> None:
    """Open live connections of the account follow its new rights at once (or are closed)."""
    current_services().events.publish(AccountChanged(account=user_id))


@bp.get("/admin/users")
@login_required
def users():
    _admin_only()
    db = current_services().db
    people = list(db.scalars(select(User).order_by(User.name, User.id)))
    counts: dict[int, int] = {}
    for member in db.scalars(select(DocumentMember)):
        counts[member.user_id] = counts.get(member.user_id, 0) + 1
    return render_template("admin/users.html", people=people, roles=ROLES, counts=counts,
                           invited=request.args.get("invited"), locks=locks(db))


@bp.post("/admin/sign-in-locks")
@login_required
def lift_lock():
    """Let one address try one account's password again at once."""
    _admin_only()
    db = current_services().db
    email, address = request.form.get("email", ""), request.form.get("address", "")
    if unlock(db, email, address):
        audit.record(current_services().engine, "account.login_unlocked", target=email.strip().lower(),
                     detail={"address": address[:64]})
        flash(_("%(email)s can be tried again from %(address)s.", email=email, address=address), "info")
    else:
        flash(_("There was no such lock."), "error")
    return redirect(url_for("admin.users"))


@bp.post("/admin/users")
@login_required
def invite():
    _admin_only()
    services = current_services()
    db = services.db
    email = (request.form.get("email") or "").strip()
    role = request.form.get("role") or ""
    try:
        user = add_user(db, email, role, None, request.form.get("name"))
    except AccountError as exc:
        db.rollback()
        flash(str(exc), "error")
        return users(), 400
    url = _invitation_url(user)
    _send_invitation(db, user, url, reset=False)
    audit.record(services.engine, "account.invited", target=f"user:{user.id}", detail={"role": role})
    flash(_("%(email)s is invited. Their link (also sent by email) works once, for 7 days: %(url)s",
            email=user.email, url=url), "info")
    return redirect(url_for("admin.users"), 303)


@bp.post("/admin/users/<int:user_id>")
@login_required
def update_user(user_id: int):
    """One change to one account: action = role | deactivate | activate | signout | reset."""
    _admin_only()
    services = current_services()
    db = services.db
    user = db.get(User, user_id)
    if user is None:
        abort(404)
    action = request.form.get("action")
    if action == "role":
        role = request.form.get("role")
        if role not in ROLES:
            flash(_("Choose one of the roles listed."), "error")
            return users(), 400
        if user.id == current_user.id and role != "admin":
            flash(_("You cannot take away your own administration rights; ask another administrator."), "error")
            return users(), 409
        before, user.role = user.role, role
        db.commit()
        audit.record(services.engine, "account.role_changed", target=f"user:{user.id}",
                     detail={"from": before, "to": role})
        _refresh_connections(user.id)
        flash(_("%(name)s is now: %(role)s.", name=user.name, role=role_label(role)), "info")
    elif action in ("deactivate", "activate"):
        if user.id == current_user.id:
            flash(_("You cannot deactivate your own account."), "error")
            return users(), 409
        user.active = action == "activate"
        if not user.active:
            sign_out_everywhere(db, user)
        db.commit()
        audit.record(services.engine, f"account.{action}d", target=f"user:{user.id}")
        _refresh_connections(user.id)
        flash(_("%(name)s can sign in again.", name=user.name) if user.active
              else _("%(name)s can no longer sign in; their sessions are closed.", name=user.name), "info")
    elif action == "signout":
        sign_out_everywhere(db, user)
        audit.record(services.engine, "account.signed_out_everywhere", target=f"user:{user.id}")
        _refresh_connections(user.id)
        flash(_("%(name)s is signed out on every device.", name=user.name), "info")
    elif action == "reset":
        sign_out_everywhere(db, user)  # the old password's sessions end; the new link is bound to the new token
        url = _invitation_url(user)
        _send_invitation(db, user, url, reset=True)
        audit.record(services.engine, "account.reset_issued", target=f"user:{user.id}")
        _refresh_connections(user.id)
        flash(_("A link to set a new password for %(email)s (also sent by email): %(url)s",
                email=user.email, url=url), "info")
    else:
        flash(_("Unknown action."), "error")
        return users(), 400
    return redirect(url_for("admin.users") + f"#user-{user.id}", 303)


# --- roles per document ---------------------------------------------------------------------------

def _document_or_404(slug: str) -> Document:
    _admin_only()
    document = get_document(current_services().db, slug)
    if document is None:
        abort(404)
    return document


def _members_page(document: Document, status: int = 200):
    db = current_services().db
    rows = db.execute(select(DocumentMember, User).join(User, User.id == DocumentMember.user_id)
                      .where(DocumentMember.document_id == document.id).order_by(User.name)).all()
    people = list(db.scalars(select(User).where(User.role != "admin", User.active.is_(True)).order_by(User.name)))
    return render_template("admin/members.html", document=document, rows=rows, people=people,
                           roles=DOCUMENT_ROLES), status


@bp.get("/d/<slug>/members")
@login_required
def members(slug: str):
    return _members_page(_document_or_404(slug))


@bp.post("/d/<slug>/members")
@login_required
def assign(slug: str):
    document = _document_or_404(slug)
    services = current_services()
    db = services.db
    email = (request.form.get("email") or "").strip().lower()
    role = request.form.get("role") or ""
    user = db.scalar(select(User).where(User.email == email)) if email else None
    if user is None:
        flash(_("No account has that email; invite it first."), "error")
        return _members_page(document, 400)
    if role == "":  # back to the account's own role
        member = db.get(DocumentMember, (document.id, user.id))
        if member is not None:
            db.delete(member)
            db.commit()
            audit.record(services.engine, "member.removed", document=slug, target=f"user:{user.id}",
                         detail={"was": member.role})
        flash(_("%(name)s has their own account role on this document again.", name=user.name), "info")
    else:
        if role not in DOCUMENT_ROLES:
            flash(_("Choose one of the roles listed."), "error")
            return _members_page(document, 400)
        if user.role == "admin":
            flash(_("Administrators are administrators on every document."), "error")
            return _members_page(document, 409)
        member = db.get(DocumentMember, (document.id, user.id))
        before = member.role if member is not None else None
        if member is None:
            member = DocumentMember(document_id=document.id, user_id=user.id, role=role, assigned_by=current_user.id)
            db.add(member)
        else:
            member.role, member.assigned_by = role, current_user.id
        db.commit()
        audit.record(services.engine, "member.assigned", document=slug, target=f"user:{user.id}",
                     detail={"from": before or user.role, "to": role})
        flash(_("%(name)s is now %(role)s on this document.", name=user.name, role=role_label(role)), "info")
    _refresh_connections(user.id)
    return redirect(url_for("admin.members", slug=slug), 303)


# --- the audit log ----------------------------------------------------------------------------------

@bp.get("/admin/audit")
@login_required
def audit_log():
    _admin_only()
    services = current_services()
    document = (request.args.get("document") or "").strip()[:200]
    action = (request.args.get("action") or "").strip()[:80]
    try:
        before = int(request.args.get("before") or 0) or None
    except ValueError:
        abort(400)
    rows = audit.events(services.engine, document=document or None, action=action or None, before=before, limit=100)
    verdict = audit.verify(services.engine) if request.args.get("verify") else None
    ids = {row.actor_id for row in rows if row.actor_id is not None}
    names = dict(services.db.execute(select(User.id, User.name).where(User.id.in_(ids))).all()) if ids else {}
    return render_template("admin/audit.html", rows=rows, document=document, action=action, verdict=verdict,
                           names=names)
