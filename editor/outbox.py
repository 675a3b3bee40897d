"""The outbox: messages to people (email) and to other systems (signed webhooks).

A message is a row written in the same database transaction as the change that causes it, so a
change is never committed without its message, nor a message without its change. Delivery comes
afterwards and is retried until it succeeds: a failed attempt leaves the message queued with its
error, the number of attempts and the time of the next try (exponential backoff, capped). Nothing
is ever dropped.

Email goes by SMTP when `SMTP_HOST` is configured (STARTTLS and login optional); otherwise to the
`file` backend (one `.eml` file per message under the instance folder's `outbox/` directory) or
to the `console` backend (`OUTBOX_EMAIL_BACKEND`). A webhook is an HTTP POST of a JSON body,
signed: `X-Constituent-Timestamp` is the Unix time of the attempt and `X-Constituent-Signature` is
`sha256=` + hex HMAC-SHA256 under `OUTBOX_WEBHOOK_SECRET` of `<timestamp>.<body>`, so that a
receiver can check both the body and its freshness.

Who delivers: a background thread of the serving process (started on the first request that
arrives through a real server; see `install`), and `constituent outbox deliver`. Both may run at
once: each message is claimed with a conditional UPDATE before it is sent, so it is sent once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import smtplib
import ssl
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from sqlalchemy import CheckConstraint, Index, Integer, String, Text, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from . import clock
from .db import Base, UTCDateTime

log = logging.getLogger(__name__)

KINDS = ("email", "webhook")
#: A message is claimed by one deliverer for this long (longer than any SMTP or HTTP timeout).
CLAIM = timedelta(minutes=2)
SEND_TIMEOUT = 20  # seconds, for SMTP and webhook connections
MAX_SUBJECT = 300
MAX_RECIPIENT = 500
_EMAIL = re.compile(r"^[^@\s<>,;\"]{1,64}@[^@\s<>,;\"]{1,252}\.[^@\s<>,;\"]{1,63}$")


class OutboxError(ValueError):
    """A message that cannot be queued as given (bad address, header injection…)."""


class OutboxMessage(Base):
    __tablename__ = "outbox_message"
    __table_args__ = (
        CheckConstraint("kind IN ('email', 'webhook')", name="ck_outbox_kind"),
        Index("ix_outbox_due", "sent_at", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    #: An email address, or the URL of a webhook.
    recipient: Mapped[str] = mapped_column(String(MAX_RECIPIENT))
    subject: Mapped[str] = mapped_column(String(MAX_SUBJECT), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    #: JSON: what the message is about (for a webhook, the data it carries).
    payload: Mapped[str] = mapped_column(Text, default="{}")
    #: What caused it, e.g. "review.rereview_requested" (for filtering and for webhook receivers).
    event: Mapped[str] = mapped_column(String(60), default="", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    def data(self) -> dict:
        try:
            value = json.loads(self.payload or "{}")
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}


# --- queuing (inside the caller's transaction) ------------------------------------------------------


def _one_line(value: str, what: str, limit: int) -> str:
    value = (value or "").strip()
    if "\r" in value or "\n" in value:
        raise OutboxError(f"the {what} must be one line")
    if len(value) > limit:
        raise OutboxError(f"the {what} is longer than {limit} characters")
    return value


def valid_email(address: str) -> bool:
    return bool(_EMAIL.match(address or "")) and len(address) <= 254


def enqueue_email(db, to: str, subject: str, body: str, payload: dict | None = None, event: str = "") -> OutboxMessage:
    """Queue an email (added to `db`, not committed: it commits with the caller's change)."""
    to = _one_line(to, "recipient", 254)
    if not valid_email(to):
        raise OutboxError(f"{to!r} is not an email address")
    message = OutboxMessage(kind="email", recipient=to, subject=_one_line(subject, "subject", MAX_SUBJECT),
                            body=body, payload=json.dumps(payload or {}, ensure_ascii=False, sort_keys=True),
                            event=_one_line(event, "event", 60), next_attempt_at=clock.now())
    db.add(message)
    return message


def enqueue_webhook(db, url: str, payload: dict, event: str) -> OutboxMessage:
    """Queue a webhook call to `url` carrying `payload` (added to `db`, not committed)."""
    url = _one_line(url, "webhook URL", MAX_RECIPIENT)
    if not url.startswith(("http://", "https://")):
        raise OutboxError(f"the webhook URL {url!r} is not an http(s) URL")
    message = OutboxMessage(kind="webhook", recipient=url, subject=_one_line(event, "event", 60), body="",
                            payload=json.dumps(payload, ensure_ascii=False, sort_keys=True),
                            event=_one_line(event, "event", 60), next_attempt_at=clock.now())
    db.add(message)
    return message


def enqueue_event(db, config, event: str, payload: dict) -> OutboxMessage | None:
    """A webhook message for `event` when a webhook URL is configured (else nothing)."""
    url = (config or {}).get("OUTBOX_WEBHOOK_URL")
    if not url:
        return None
    return enqueue_webhook(db, url, payload, event)


# --- delivery --------------------------------------------------------------------------------------


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0

    def __str__(self) -> str:
        return f"sent {self.sent}, failed {self.failed}"


class DeliveryError(RuntimeError):
    pass


def email_backend(config) -> str:
    """`smtp`, `file` or `console`: as configured, else SMTP when a host is set, else file."""
    chosen = (config.get("OUTBOX_EMAIL_BACKEND") or "").strip().lower()
    if chosen:
        return chosen
    return "smtp" if config.get("SMTP_HOST") else "file"


def outbox_folder(config) -> Path:
    return Path(config.get("OUTBOX_FOLDER") or Path(config["INSTANCE_PATH"]) / "outbox")


def email_of(config, message: OutboxMessage) -> EmailMessage:
    email = EmailMessage()
    sender = config.get("MAIL_FROM") or "Constituent <no-reply@localhost>"
    email["From"] = sender
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Date"] = format_datetime(clock.as_utc(message.created_at) or clock.now())
    domain = sender.rsplit("@", 1)[-1].strip(">").strip() or "localhost"
    email["Message-ID"] = make_msgid(f"outbox.{message.id}", domain=domain)
    if message.event:
        email["X-Constituent-Event"] = message.event
    email.set_content(message.body or "")
    return email


def _send_smtp(config, email: EmailMessage) -> None:
    host = config.get("SMTP_HOST")
    if not host:
        raise DeliveryError("the SMTP backend is chosen but SMTP_HOST is not set")
    port = int(config.get("SMTP_PORT") or (587 if config.get("SMTP_STARTTLS") else 25))
    with smtplib.SMTP(host, port, timeout=SEND_TIMEOUT) as smtp:
        smtp.ehlo()
        if config.get("SMTP_STARTTLS"):
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if config.get("SMTP_USER"):
            smtp.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
        refused = smtp.send_message(email)
        if refused:
            raise DeliveryError(f"the server refused {', '.join(refused)}")


def _write_file(config, email: EmailMessage, message: OutboxMessage) -> Path:
    folder = outbox_folder(config)
    folder.mkdir(parents=True, exist_ok=True)
    created = clock.as_utc(message.created_at) or clock.now()
    path = folder / f"{created:%Y%m%dT%H%M%S}-{message.id:06d}.eml"
    partial = path.with_suffix(".eml.part")
    partial.write_bytes(bytes(email))
    os.replace(partial, path)
    return path


def _send_email(config, message: OutboxMessage) -> None:
    email = email_of(config, message)
    backend = email_backend(config)
    if backend == "smtp":
        _send_smtp(config, email)
    elif backend == "file":
        _write_file(config, email, message)
    elif backend == "console":
        stream = sys.stdout
        stream.write(f"--- outbox message {message.id} ---\n{email.as_string()}\n")
        stream.flush()
    else:
        raise DeliveryError(f"unknown email backend {backend!r} (expected smtp, file or console)")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value for a webhook body sent at `timestamp`."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, timestamp: str, body: bytes, signature: str, tolerance: float = 300.0,
           now: float | None = None) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent."""
    try:
        age = abs((now if now is not None else time.time()) - int(timestamp))
    except (TypeError, ValueError):
        return False
    return age <= tolerance and hmac.compare_digest(sign(secret, timestamp, body), signature or "")


def webhook_body(message: OutboxMessage) -> bytes:
    created = clock.as_utc(message.created_at) or clock.now()
    envelope = {"id": message.id, "event": message.event, "created_at": created.isoformat(), "data": message.data()}
    return json.dumps(envelope, ensure_ascii=False, sort_keys=True).encode()


def _send_webhook(config, message: OutboxMessage) -> None:
    secret = config.get("OUTBOX_WEBHOOK_SECRET")
    if not secret:
        raise DeliveryError("OUTBOX_WEBHOOK_SECRET is not set: webhooks are never sent unsigned")
    body = webhook_body(message)
    timestamp = str(int(time.time()))
    request = urllib.request.Request(message.recipient, data=body, method="POST", headers={
        "Content-Type": "application/json",
        "User-Agent": "Constituent-outbox/1",
        "X-Constituent-Event": message.event,
        "X-Constituent-Delivery": str(message.id),
        "X-Constituent-Timestamp": timestamp,
        "X-Constituent-Signature": sign(secret, timestamp, body),
    })
    try:
        with urllib.request.urlopen(request, timeout=SEND_TIMEOUT) as response:  # noqa: S310 - configured URL
            response.read(1024)
    except urllib.error.HTTPError as exc:
        detail = exc.read(200).decode("utf-8", "replace").strip()
        raise DeliveryError(f"HTTP {exc.code} from the webhook{': ' + detail if detail else ''}") from None


def backoff(config, attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failure: doubling from OUTBOX_RETRY_SECONDS, capped."""
    base = float(config.get("OUTBOX_RETRY_SECONDS", 30))
    cap = float(config.get("OUTBOX_RETRY_MAX_SECONDS", 3600))
    return timedelta(seconds=min(cap, base * (2 ** max(0, attempts - 1))))


def _claim(session: Session, message_id: int, now: datetime) -> bool:
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.sent_at.is_(None),
               or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now))
        .values(claimed_until=now + CLAIM)
        .execution_options(synchronize_session=False))
    session.commit()
    return result.rowcount == 1


def deliver_due(engine, config, now: datetime | None = None, limit: int = 100, ignore_backoff: bool = False) -> DeliveryReport:
    """Try every message that is due (or every unsent one with `ignore_backoff`); one claim each."""
    report = DeliveryReport()
    moment = now or clock.now()
    with Session(engine, expire_on_commit=False) as session:
        query = select(OutboxMessage.id).where(
            OutboxMessage.sent_at.is_(None),
            or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < moment))
        if not ignore_backoff:
            query = query.where(OutboxMessage.next_attempt_at <= moment)
        ids = list(session.scalars(query.order_by(OutboxMessage.id).limit(limit)))
        session.rollback()
        for message_id in ids:
            if not _claim(session, message_id, moment):
                continue
            message = session.get(OutboxMessage, message_id)
            error = ""
            try:
                if message.kind == "email":
                    _send_email(config, message)
                elif message.kind == "webhook":
                    _send_webhook(config, message)
                else:
                    raise DeliveryError(f"unknown message kind {message.kind!r}")
            except Exception as exc:  # noqa: BLE001 - any failure keeps the message queued
                error = f"{type(exc).__name__}: {exc}"[:2000]
            attempted = now or clock.now()
            message.attempts += 1
            message.last_attempt_at = attempted
            message.claimed_until = None
            if error:
                message.last_error = error
                message.next_attempt_at = attempted + backoff(config, message.attempts)
                report.failed += 1
                log.warning("outbox: message %s (%s to %s) failed, attempt %d: %s", message.id, message.kind,
                            message.recipient, message.attempts, error)
            else:
                message.sent_at = attempted
                report.sent += 1
            session.commit()
    return report


def pending(db) -> list[OutboxMessage]:
    return list(db.scalars(select(OutboxMessage).where(OutboxMessage.sent_at.is_(None)).order_by(OutboxMessage.id)))


# --- the background deliverer ----------------------------------------------------------------------


class _Worker:
    def __init__(self, engine, config) -> None:
        self.engine = engine
        self.config = config
        self.poll = max(0.2, float(config.get("OUTBOX_POLL_SECONDS", 5)))
        self.wake = threading.Event()
        self.thread = threading.Thread(target=self._run, name="outbox", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        while True:
            self.wake.wait(self.poll)
            self.wake.clear()
            try:
                deliver_due(self.engine, self.config)
            except Exception:  # noqa: BLE001 - the database may be briefly unavailable; try again later
                log.exception("outbox: delivery round failed")


def _wanted(app, environ) -> bool:
    setting = str(app.config.get("OUTBOX_WORKER", "auto")).lower()
    if setting in ("1", "true", "yes", "on"):
        return True
    if setting in ("0", "false", "no", "off") or app.testing:
        return False
    # auto: only in a process that serves requests through a real server (gunicorn under
    # `constituent serve`, or any WSGI server): the test client and the CLI never start it.
    return bool(environ.get("SERVER_SOFTWARE"))


def install(app, engine) -> None:
    """Start the delivery thread lazily, on the first request that comes through a real server.

    create_app is also used as a library (CLI commands, tests, seeding an instance): those must not
    leave a thread behind that sends mail. A process that serves HTTP does get one, after any
    fork the server makes (threads do not survive a fork).
    """
    state: dict[str, object] = {"decided": False}
    lock = threading.Lock()

    def maybe_start() -> None:
        if state["decided"]:
            return
        from flask import request

        with lock:
            if state["decided"]:
                return
            state["decided"] = True
            if _wanted(app, request.environ):
                worker = _Worker(engine, app.config)
                worker.start()
                app.extensions["constituent_outbox"] = worker
                log.info("outbox: delivering in the background every %.1f s", worker.poll)

    app.before_request(maybe_start)


def wake(app) -> None:
    """Ask this process's delivery thread (if any) to try at once, e.g. right after a commit."""
    worker = app.extensions.get("constituent_outbox")
    if worker is not None:
        worker.wake.set()
