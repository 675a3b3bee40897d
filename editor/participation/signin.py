"""Participants' sign-in without a password: a one-time link and a 6-digit code sent by e-mail.

Rules:
* Asking to sign in with an address makes (or finds) its participant and one sign-in request: a
  random link token (192 bits) and a random 6-digit code, both sent in one e-mail through the
  outbox, in the same transaction. Only hashes are kept: the token's SHA-256, and the code's
  HMAC under the application's secret together with the request's id (a plain hash of six digits
  is undone by trying the million of them).
* Either works once, until the request expires (`PARTICIPANT_CODE_MINUTES`, 30 by default), and
  using one spends both. A code is typed in the browser that asked for it (the request's id is
  in its session); five wrong codes spend the request.
* Following the link or typing the code verifies the address. The answer to a request is the
  same whether the address was known or not: nobody learns who takes part.
* Signing out changes the participant's session token, which ends every session it had.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from .. import clock
from ..errors import DomainError
from ..outbox import enqueue_email, valid_email
from .models import MAX_NAME, Participant, ParticipantSignIn

TOKEN_BYTES = 24
CODE_DIGITS = 6
#: Wrong codes a request survives; the next one spends it.
MAX_FAILURES = 5
LANGUAGES = ("es", "en")
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
_CODE_SHAPE = re.compile(r"^\d{6}$")


class ParticipationError(DomainError):
    """A participant's request refused, with the reason for them (editor.errors kinds)."""


def normalise_email(value: str) -> str:
    return " ".join((value or "").split()).lower()


def display_name(value: str) -> str:
    """A display name as it will show: spaces folded, checked (ParticipationError otherwise)."""
    name = " ".join((value or "").split())
    if len(name) < 2:
        raise ParticipationError("invalid", _("Choose a name of at least two characters to show with your comments."))
    if len(name) > MAX_NAME:
        raise ParticipationError("invalid", _("The name is longer than %(limit)d characters.", limit=MAX_NAME))
    if any(ord(c) < 32 or ord(c) == 127 for c in name) or "@" in name:
        raise ParticipationError("invalid", _("The name cannot contain control characters or an e-mail address."))
    return name


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _code_hash(secret: str, sign_in_id: int, code: str) -> str:
    return hmac.new(secret.encode("utf-8"), f"participant-code:{sign_in_id}:{code}".encode("utf-8"),
                    hashlib.sha256).hexdigest()


def participant_by_email(db, email: str) -> Participant | None:
    return db.scalar(select(Participant).where(Participant.email == normalise_email(email)))


def request_sign_in(db, email: str, *, language: str, next_path: str, minutes: float, secret: str,
                    link_url, now: datetime | None = None) -> ParticipantSignIn:
    """A new sign-in request for `email` and its e-mail in the outbox (`link_url(token)` is the
    address of the link). Commits. Raises ParticipationError for an address that is not one."""
    address = normalise_email(email)
    if not valid_email(address):
        raise ParticipationError("invalid", _("%(email)s is not an e-mail address.", email=email.strip()[:254]))
    now = now or clock.now()
    language = language if language in LANGUAGES else "es"
    participant = participant_by_email(db, address)
    if participant is None:
        participant = Participant(email=address, language=language, session_token=secrets.token_hex(16),
                                  created_at=now)
        db.add(participant)
        db.flush()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
    sign_in = ParticipantSignIn(participant_id=participant.id, link_hash=_token_hash(token), code_hash="",
                                created_at=now, expires_at=now + timedelta(minutes=minutes), next_path=next_path[:500])
    db.add(sign_in)
    db.flush()
    sign_in.code_hash = _code_hash(secret, sign_in.id, code)
    with force_locale(language):
        subject = _("Your code to take part in Constituent: %(code)s", code=code)
        body = "\n\n".join((
            _("Hello,"),
            _("Someone (we hope you) asked to sign in with this address to comment on the texts drafted in "
              "Constituent. Type this code on the page where you asked for it:"),
            f"    {code}",
            _("Or follow this link:"),
            link_url(token),
            _("The code and the link work once, for %(minutes)d minutes. If you did not ask for them, ignore this "
              "message: nothing happens without them.", minutes=round(minutes)),
        )) + "\n"
    enqueue_email(db, address, subject, body, event="participation.sign_in",
                  payload={"participant": participant.id, "sign_in": sign_in.id})
    db.commit()
    return sign_in


def _usable(sign_in: ParticipantSignIn, now: datetime) -> bool:
    expires = clock.as_utc(sign_in.expires_at)
    return sign_in.used_at is None and sign_in.failures < MAX_FAILURES and expires is not None and expires > now


def _redeem(db, sign_in: ParticipantSignIn, now: datetime) -> tuple[Participant, str]:
    sign_in.used_at = now
    participant = db.get(Participant, sign_in.participant_id)
    if participant.verified_at is None:
        participant.verified_at = now
    db.commit()
    return participant, sign_in.next_path


def pending_link(db, token: str, now: datetime | None = None) -> ParticipantSignIn | None:
    """The request a link token belongs to, if it still works (else None, whatever the reason)."""
    if not isinstance(token, str) or not _TOKEN_SHAPE.match(token):
        return None
    sign_in = db.scalar(select(ParticipantSignIn).where(ParticipantSignIn.link_hash == _token_hash(token)))
    return sign_in if sign_in is not None and _usable(sign_in, now or clock.now()) else None


def redeem_link(db, token: str, now: datetime | None = None) -> tuple[Participant, str] | None:
    """Follow a link: (its participant, now verified, and where to go), or None if it does not work."""
    now = now or clock.now()
    sign_in = pending_link(db, token, now)
    return _redeem(db, sign_in, now) if sign_in is not None else None


def redeem_code(db, sign_in_id: int | None, code: str, secret: str,
                now: datetime | None = None) -> tuple[Participant, str]:
    """Type the code of the request this browser asked for: (its participant, now verified, and
    where to go). Raises ParticipationError: a wrong code counts against the request."""
    now = now or clock.now()
    sign_in = db.get(ParticipantSignIn, sign_in_id) if isinstance(sign_in_id, int) else None
    if sign_in is None or not _usable(sign_in, now):
        raise ParticipationError("conflict", _("This code no longer works (it was used, it expired, or too many wrong "
                                               "codes were typed). Ask for a new one."))
    code = "".join((code or "").split())
    if _CODE_SHAPE.match(code) and hmac.compare_digest(_code_hash(secret, sign_in.id, code), sign_in.code_hash):
        return _redeem(db, sign_in, now)
    sign_in.failures += 1
    db.commit()
    left = MAX_FAILURES - sign_in.failures
    if left <= 0:
        raise ParticipationError("conflict", _("That code is not right, and it was the last try: ask for a new code."))
    raise ParticipationError("invalid", _("That code is not right. It has six digits, as in the e-mail."))


def sign_out_everywhere(db, participant: Participant) -> None:
    participant.session_token = secrets.token_hex(16)
    db.commit()


def rename(db, participant: Participant, name: str) -> None:
    participant.display_name = display_name(name)
    db.commit()
