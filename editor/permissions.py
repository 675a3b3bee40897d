"""The one place that decides who may do what. Pages, the JSON API and socket events all ask here."""

from __future__ import annotations

from .models import Document, User

EDITING_ROLES = frozenset({"admin", "committee"})


def _signed_in(user: object) -> User | None:
    if isinstance(user, User) and user.is_active:
        return user
    return None


def can_read(user: object, document: Document) -> bool:
    """Anyone may read a published document; unpublished drafts are for signed-in accounts."""
    return document.published or _signed_in(user) is not None


def can_edit(user: object, document: Document) -> bool:
    account = _signed_in(user)
    return account is not None and account.role in EDITING_ROLES


def can_create_documents(user: object) -> bool:
    """Importing or creating a document is drafting work: the committee and administrators."""
    account = _signed_in(user)
    return account is not None and account.role in EDITING_ROLES


def role_in(user: object, document: Document) -> str | None:
    """"editor", "viewer", or None when the document is not visible at all."""
    if can_edit(user, document):
        return "editor"
    if can_read(user, document):
        return "viewer"
    return None
