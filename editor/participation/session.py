"""Who the participant of this request is: their own key in the Flask session.

A participant's sign-in is kept under `KEY`, beside a staff account's Flask-Login keys and never
instead of them: signing in or out as a participant leaves a staff sign-in as it was (a staff
sign-in starts a fresh session, which ends a participant's). The value is the participant's id
and session token; a token changed since (signing out) ends the session."""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app, g, request, session

from .. import audit
from ..services import current_services
from .models import Participant

KEY = "participant"
#: The sign-in request whose code this browser may type (its id).
PENDING = "participant_sign_in"
_CACHED = "participation_participant"


def current_participant() -> Participant | None:
    """The signed-in participant of this request, or None."""
    if _CACHED in g:
        return g.get(_CACHED)
    found = None
    raw = session.get(KEY)
    if isinstance(raw, str) and ":" in raw:
        number, token = raw.split(":", 1)
        if number.isdigit() and len(number) < 18:
            participant = current_services().db.get(Participant, int(number))
            if participant is not None and participant.verified and hmac.compare_digest(
                    participant.session_token.encode(), token.encode()):
                found = participant
    setattr(g, _CACHED, found)
    return found


def start(participant: Participant) -> None:
    session[KEY] = f"{participant.id}:{participant.session_token}"
    session.pop(PENDING, None)
    setattr(g, _CACHED, participant)


def end() -> None:
    session.pop(KEY, None)
    setattr(g, _CACHED, None)


def acting(participant: Participant | None, slug: str = "") -> None:
    """What this request changes is the participant's, in the audit log (never a staff account's)."""
    ip = request.remote_addr or ""
    label = f"participant:{participant.id}" if participant is not None else "public"
    audit.acting_as(audit.Actor(label=label, role="participant" if participant is not None else "", ip=ip), slug)


def reporter_key(participant: Participant | None) -> str:
    """Tells reporters apart without storing an address: a keyed hash of the participant or the address."""
    who = f"participant:{participant.id}" if participant is not None else f"address:{request.remote_addr or ''}"
    secret = current_app.config["SECRET_KEY"].encode("utf-8")
    return hmac.new(secret, who.encode("utf-8"), hashlib.sha256).hexdigest()
