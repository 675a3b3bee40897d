"""Who a user is on a document: the account's role, unless an administrator gave it another on
this document. The stage does not enter here (editor.permissions combines both), so the stages
can record who acted without importing the permission rules."""

from __future__ import annotations

from sqlalchemy.orm import object_session

from .models import Document, DocumentMember, User


def signed_in(user: object) -> User | None:
    if isinstance(user, User) and user.is_active:
        return user
    return None


def effective_role(user: object, document: Document | None = None) -> str | None:
    """The role that counts: the account's, unless an administrator gave it another on this
    document (administrators stay administrators). None for the public."""
    account = signed_in(user)
    if account is None:
        return None
    if document is None or account.role == "admin" or document.id is None:
        return account.role
    session = object_session(document) or object_session(account)
    member = session.get(DocumentMember, (document.id, account.id)) if session is not None else None
    return member.role if member is not None else account.role
