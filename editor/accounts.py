"""Accounts: creating users, signing in and out (Flask-Login sessions, CSRF-protected forms)."""

from __future__ import annotations

import hashlib
import secrets
from functools import cache

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email, Length

from . import current_services
from .models import ROLES, User

bp = Blueprint("accounts", __name__)
login_manager = LoginManager()
login_manager.login_view = "accounts.login"
login_manager.login_message = _l("Please sign in to continue.")

PASSWORD_METHOD = "scrypt"
MIN_PASSWORD_LENGTH = 10


class AccountError(ValueError):
    """A request about accounts that cannot be carried out, with a message for the user."""


def palette_colour(user_id: int) -> str:
    """A stable presence colour per user, dark enough for white text (WCAG AA)."""
    colours = ["#b91c1c", "#c2410c", "#a16207", "#15803d", "#0f766e", "#0369a1", "#4338ca", "#7e22ce", "#be185d"]
    digest = hashlib.sha256(str(user_id).encode()).digest()
    return colours[digest[0] % len(colours)]


def add_user(db, email: str, role: str, password: str, name: str | None = None) -> User:
    email = email.strip().lower()
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    if "@" not in email or len(email) > 254:
        raise AccountError(f"{email!r} is not an email address")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if db.scalar(select(User).where(User.email == email)):
        raise AccountError(f"a user with the email {email} already exists")
    user = User(
        email=email,
        name=name or email.split("@")[0].replace(".", " ").title(),
        password_hash=generate_password_hash(password, method=PASSWORD_METHOD),
        role=role,
        session_token=secrets.token_hex(16),
    )
    db.add(user)
    db.commit()
    return user


def authenticate(db, email: str, password: str) -> User | None:
    user = db.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or not user.active:
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
    return user


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("public.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        db = current_services().db
        user = authenticate(db, form.email.data, form.password.data)
        if user is not None:
            session.clear()  # a fresh session on every sign-in
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        flash(_("The email or password is not right."), "error")
        return render_template("login.html", form=form), 401
    return render_template("login.html", form=form), (400 if form.errors else 200)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for("public.index"))
