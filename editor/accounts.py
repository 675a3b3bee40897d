"""Accounts: creating users, signing in and out (Flask-Login sessions, CSRF-protected forms)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from functools import cache

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, select
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from . import audit, clock
from .events import AccountChanged
from .limits import configured, limiter
from .models import ROLES, Document, DocumentMember, EndedSession, LoginThrottle, User
from .security import local_path
from .services import current_services

bp = Blueprint("accounts", __name__)
login_manager = LoginManager()
login_manager.login_view = "accounts.login"
login_manager.login_message = _l("Please sign in to continue.")

PASSWORD_METHOD = "scrypt"
MIN_PASSWORD_LENGTH = 10
#: Failed sign-ins in a row from one address before that address is locked out of the account,
#: and the first lock (doubling after).
LOCK_AFTER = 5
FIRST_LOCK = timedelta(minutes=1)
MAX_LOCK = timedelta(hours=1)
#: Failed sign-ins to one account from all addresses within the window before each further try
#: waits (2 s, doubling, at most ACCOUNT_MAX_WAIT) after the last failure.
ACCOUNT_SLOWDOWN_AFTER = 20
ACCOUNT_WINDOW = timedelta(hours=1)
ACCOUNT_MAX_WAIT = timedelta(seconds=30)
#: The session cookie's key for the session's own id (editor.models.EndedSession).
SESSION_ID = "sid"
#: Days an invitation (or password reset) link works; it stops working once used.
INVITATION_DAYS = 7


class AccountError(ValueError):
    """A request about accounts that cannot be carried out, with a message for the user."""


def palette_colour(user_id: int) -> str:
    """A stable presence colour per user, dark enough for white text (WCAG AA)."""
    colours = ["#b91c1c", "#c2410c", "#a16207", "#15803d", "#0f766e", "#0369a1", "#4338ca", "#7e22ce", "#be185d"]
    digest = hashlib.sha256(str(user_id).encode()).digest()
    return colours[digest[0] % len(colours)]


def add_user(db, email: str, role: str, password: str | None, name: str | None = None) -> User:
    """Create an account. Without a password (an invitation) nobody can sign in as it until its
    owner sets one through their invitation link."""
    email = email.strip().lower()
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    if "@" not in email or len(email) > 254 or any(c.isspace() for c in email):
        raise AccountError(f"{email!r} is not an email address")
    if password is not None:
        check_password(password)
    name = (name or "").strip()
    if len(name) > 120:
        raise AccountError("the name is longer than 120 characters")
    if db.scalar(select(User).where(User.email == email)):
        raise AccountError(f"a user with the email {email} already exists")
    user = User(
        email=email,
        name=name or email.split("@")[0].replace(".", " ").title(),
        # "!" is never a valid werkzeug hash: an invited account has no password yet.
        password_hash=generate_password_hash(password, method=PASSWORD_METHOD) if password is not None else "!",
        role=role,
        session_token=secrets.token_hex(16),
    )
    db.add(user)
    db.commit()
    return user


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > 200:
        raise AccountError("the password is longer than 200 characters")


def set_password(db, user: User, password: str) -> None:
    """A new password; every session of the account ends (and its invitation link with them)."""
    check_password(password)
    user.password_hash = generate_password_hash(password, method=PASSWORD_METHOD)
    user.session_token = secrets.token_hex(16)
    db.commit()


def sign_out_everywhere(db, user: User) -> None:
    """End every session of the account, in every browser (sessions carry the token)."""
    user.session_token = secrets.token_hex(16)
    db.execute(delete(EndedSession).where(EndedSession.user_id == user.id))  # all ended by the new token
    db.commit()


def end_session(db, user: User, sid: str | None) -> None:
    """Sign this session out on the server: its cookie, wherever it was copied, stops working."""
    if sid:
        db.merge(EndedSession(sid=sid[:64], user_id=user.id, ended_at=clock.now()))
        db.commit()


# --- failed sign-ins ---------------------------------------------------------------------------
#
# Two protections, neither of which a stranger can turn into a lock-out:
# * per email *and* client address: after LOCK_AFTER failures in a row that address is locked
#   out of that account (1 minute, doubling up to an hour). Other addresses still sign in.
# * per email, across addresses (guessing spread over many): past ACCOUNT_SLOWDOWN_AFTER failures
#   within the hour, each further try must wait a few seconds after the last failure (doubling up
#   to ACCOUNT_MAX_WAIT): the owner is slowed by seconds at worst, never locked out.
# A browser that has signed in to an account carries a signed device cookie for it (OWASP's
# "device cookies"). Its sign-ins to that account skip the per-address limit and lock, and are
# counted and locked per device instead: colleagues behind the same NAT as an attacker keep
# signing in from the browsers they used before. The cookie names the account and dies with
# "sign out everywhere" and a new password (it carries a digest of the session token).

DEVICE_COOKIE = "constituent_device"
DEVICE_DAYS = 365


def _devices() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="constituent-device")


def _session_digest(user: User) -> str:
    return hashlib.sha256(f"device:{user.session_token}".encode()).hexdigest()[:16]


def device_cookie(user: User) -> str:
    """A new device cookie's value: this browser signed in to `user`'s account."""
    return _devices().dumps({"u": user.id, "t": _session_digest(user), "d": secrets.token_urlsafe(12)})


def trusted_device(db, email: str) -> str | None:
    """The device id of the request's device cookie when it was issued to the account `email`
    names and that account's sessions have not all been ended since; else None."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw or not email:
        return None
    try:
        data = _devices().loads(raw, max_age=DEVICE_DAYS * 86400)
    except BadSignature:  # SignatureExpired included
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int) or not isinstance(data.get("d"), str):
        return None
    user = db.scalar(select(User).where(User.email == _key(email)))
    if user is None or user.id != data["u"] or not secrets.compare_digest(_session_digest(user), str(data.get("t"))):
        return None
    return data["d"][:24]


def _signing_in_from_trusted_device() -> bool:
    """For the per-address limit: a sign-in from a browser that signed in to that account before."""
    email = request.form.get("email", "")
    return isinstance(email, str) and trusted_device(current_services().db, email) is not None


def _where(db, email: str) -> str:
    """What failures are counted against: this browser's device id, else the client address."""
    device = trusted_device(db, email)
    return f"device:{device}" if device else _address(request.remote_addr)


def _key(email: str) -> str:
    return email.strip().lower()[:254]


def _address(address: str | None) -> str:
    return (address or "unknown")[:64]


def locked_for(db, email: str, address: str | None) -> timedelta | None:
    """How long sign-ins to this email from this address stay refused, or None."""
    now = clock.now()
    row = db.get(LoginThrottle, (_key(email), _address(address)))
    if row is not None and row.locked_until is not None and row.locked_until > now:
        return row.locked_until - now
    rows = list(db.scalars(select(LoginThrottle).where(LoginThrottle.email == _key(email),
                                                        LoginThrottle.last_failed_at > now - ACCOUNT_WINDOW)))
    recent = sum(r.failures for r in rows)
    if recent >= ACCOUNT_SLOWDOWN_AFTER:
        wait = min(timedelta(seconds=2 ** (recent - ACCOUNT_SLOWDOWN_AFTER)), ACCOUNT_MAX_WAIT)
        last = max(r.last_failed_at for r in rows if r.last_failed_at is not None)
        if last + wait > now:
            return last + wait - now
    return None


def _failed(db, email: str, address: str | None) -> None:
    key = (_key(email), _address(address))
    row = db.get(LoginThrottle, key) or LoginThrottle(email=key[0], address=key[1], failures=0)
    row.failures = (row.failures or 0) + 1
    row.last_failed_at = clock.now()
    if row.failures >= LOCK_AFTER:
        row.locked_until = clock.now() + min(FIRST_LOCK * 2 ** (row.failures - LOCK_AFTER), MAX_LOCK)
    db.add(row)
    db.commit()


def _succeeded(db, email: str, address: str | None) -> None:
    row = db.get(LoginThrottle, (_key(email), _address(address)))
    if row is not None:
        db.delete(row)
        db.commit()


def locks(db) -> list[LoginThrottle]:
    """Addresses locked out of an account now (for the administrator)."""
    return list(db.scalars(select(LoginThrottle).where(LoginThrottle.locked_until > clock.now())
                           .order_by(LoginThrottle.locked_until.desc())))


def unlock(db, email: str, address: str) -> bool:
    """Lift one address's lock on one account (the administrator's call); True if there was one."""
    row = db.get(LoginThrottle, (_key(email), _address(address)))
    if row is None:
        return False
    db.delete(row)
    db.commit()
    return True


# --- invitations ---------------------------------------------------------------------------------

def _invitations() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="constituent-invitation")


def invitation_token(user: User) -> str:
    """A signed link token for setting the account's password. It expires, and setting the
    password (or signing out everywhere) rotates the session token it is bound to."""
    return _invitations().dumps({"u": user.id, "t": hashlib.sha256(user.session_token.encode()).hexdigest()[:16]})


def user_of_invitation(db, token: str) -> User | None:
    try:
        data = _invitations().loads(token, max_age=INVITATION_DAYS * 86400)
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict):
        return None
    user = db.get(User, data.get("u")) if isinstance(data.get("u"), int) else None
    if user is None or not user.active:
        return None
    expected = hashlib.sha256(user.session_token.encode()).hexdigest()[:16]
    return user if secrets.compare_digest(expected, str(data.get("t", ""))) else None


def authenticate(db, email: str, password: str) -> User | None:
    user = db.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or not user.active or user.password_hash == "!":
        # Spend the same time as a real check so timing does not reveal which emails exist.
        check_password_hash(_dummy_hash(), password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


@cache
def _dummy_hash() -> str:
    """A real hash to check unknown emails against (made on first use, not at import)."""
    return generate_password_hash("not-a-real-password", method=PASSWORD_METHOD)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    try:
        raw_id, token = user_id.split(":", 1)
        user = current_services().db.get(User, int(raw_id))
    except (ValueError, KeyError):
        return None
    if user is None or not secrets.compare_digest(user.session_token, token):
        return None
    sid = session.get(SESSION_ID)
    if sid and current_services().db.get(EndedSession, str(sid)[:64]) is not None:
        return None  # this session signed out; its cookie was kept or copied
    return user


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


def _safe_next(target: str | None) -> str:
    return local_path(target) or url_for("public.index")


@bp.route("/login", methods=["GET", "POST"])
# Failed attempts per client address (successful sign-ins do not count).
@limiter.limit(configured("LOGIN_RATE_LIMIT"), methods=["POST"], deduct_when=lambda response: response.status_code in (401, 429),
               exempt_when=_signing_in_from_trusted_device)
def login():
    form = LoginForm()
    if form.validate_on_submit():
        services = current_services()
        db = services.db
        email = form.email.data
        where = _where(db, email)
        wait = locked_for(db, email, where)
        if wait is not None:
            audit.record(services.engine, "account.login_locked", target=email.strip().lower())
            if wait >= timedelta(minutes=1):
                flash(_("Too many failed attempts for this email. Try again in %(num)d minutes.",
                        num=round(wait.total_seconds() / 60)), "error")
            else:
                flash(_("Too many failed attempts for this email. Try again in %(num)d seconds.",
                        num=max(1, round(wait.total_seconds()))), "error")
            return render_template("login.html", form=form), 429
        user = authenticate(db, email, form.password.data)
        if user is not None:
            _succeeded(db, email, where)
            session.clear()  # a fresh session on every sign-in
            login_user(user)
            session[SESSION_ID] = secrets.token_urlsafe(24)  # ended on the server at sign-out
            audit.record(services.engine, "account.login", actor=audit.actor_of(user))
            response = redirect(_safe_next(request.args.get("next")))
            if not where.startswith("device:"):
                response.set_cookie(DEVICE_COOKIE, device_cookie(user), max_age=DEVICE_DAYS * 86400, path=url_for("accounts.login"),
                                    secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True, samesite="Lax")
            return response
        _failed(db, email, where)
        audit.record(services.engine, "account.login_failed", target=email.strip().lower())
        flash(_("The email or password is not right."), "error")
        return render_template("login.html", form=form), 401
    return render_template("login.html", form=form), (400 if form.errors else 200)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    end_session(current_services().db, current_user, session.get(SESSION_ID))
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for("public.index"))


@bp.get("/account")
@login_required
def account():
    """Your account: your role, your roles on particular documents, and signing out everywhere."""

    db = current_services().db
    roles_here = db.execute(select(DocumentMember.role, Document).join(Document, Document.id == DocumentMember.document_id)
                            .where(DocumentMember.user_id == current_user.id).order_by(Document.title)).all()
    return render_template("account.html", roles_here=roles_here)


@bp.route("/logout/everywhere", methods=["POST"])
@login_required
def logout_everywhere():
    """Sign out of every browser and device (e.g. after a lost phone)."""
    db = current_services().db
    user = db.get(User, current_user.id)
    sign_out_everywhere(db, user)
    audit.record(current_services().engine, "account.signed_out_everywhere", target=f"user:{user.id}")
    current_services().events.publish(AccountChanged(account=user.id))  # open live connections close too
    logout_user()
    session.clear()
    flash(_("You are signed out on every device."), "info")
    return redirect(url_for("public.index"))


class PasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[
        DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=200)])
    confirm = PasswordField(_l("Repeat the password"), validators=[
        DataRequired(), EqualTo("password", message=_l("The two passwords differ."))])


@bp.route("/welcome/<token>", methods=["GET", "POST"])
@limiter.limit(configured("LOGIN_RATE_LIMIT"), methods=["POST"])
def welcome(token: str):
    """An invited person (or one whose password an administrator reset) sets their password."""
    services = current_services()
    user = user_of_invitation(services.db, token)
    if user is None:
        abort(404)
    form = PasswordForm()
    if form.validate_on_submit():
        set_password(services.db, user, form.password.data)
        audit.record(services.engine, "account.password_set", actor=audit.actor_of(user), target=f"user:{user.id}")
        session.clear()
        login_user(user)
        flash(_("Your password is set. Welcome, %(name)s.", name=user.name), "info")
        return redirect(url_for("public.index"))
    response = current_app.make_response((render_template("welcome.html", form=form, user=user),
                                          400 if form.errors else 200))
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in the address
    response.headers["Cache-Control"] = "no-store"
    return response
