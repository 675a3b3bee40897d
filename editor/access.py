"""The document a page may show, decided once for every blueprint: a document the visitor may
not read answers 404 (drafts are invisible, not forbidden), and a page for some roles only sends
the public to sign in and answers 403 to other roles."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, redirect, request, url_for
from flask_babel import gettext
from flask_login import current_user

from . import permissions
from .documents import get_document
from .models import Document
from .problems import Problem
from .services import current_services


def visible_document(slug: str) -> Document:
    document = get_document(current_services().db, slug)
    if document is None or not permissions.can_read(current_user, document):
        abort(404)  # drafts are invisible, not forbidden, to those who may not read them
    return document


def staff_document(slug: str, may: Callable[[object, Document], bool]) -> Document:
    """The document for a page only some roles see (`may(user, document)`): 404 where it is
    invisible, the sign-in page for the public, 403 for other roles."""
    document = visible_document(slug)
    if not current_user.is_authenticated:
        abort(redirect(url_for("accounts.login", next=request.full_path if request.query_string else request.path)))
    if not may(current_user, document):
        abort(403)
    return document


def api_document(slug: str, may: Callable[[object, Document], bool], refused: str | None = None) -> Document:
    """The same for a JSON endpoint, as problems: 404 where the document is invisible, 401 for the
    public, 403 (`refused`, or the usual reason) for roles `may(user, document)` refuses."""
    document = get_document(current_services().db, slug)
    if document is None or not permissions.can_read(current_user, document):
        raise Problem(404, gettext("There is no document %(slug)r available to you.", slug=slug))
    if not current_user.is_authenticated:
        raise Problem(401, gettext("Sign in first."))
    if not may(current_user, document):
        raise Problem(403, refused or gettext("Your role may not do this in the document's current stage."))
    return document
