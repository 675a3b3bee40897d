"""The audit log: an append-only, hash-chained record of every change of state.

Each row says who (account id and the role they acted in), when, from where (client address),
what (an action name, the document, a target and a JSON detail). Each row's `hash` is the
HMAC-SHA256, under the chain's key, of the previous row's hash and the row's own canonical
content, so changing, deleting or inserting a row breaks the chain from that row on:
`constituent audit verify` recomputes it and names the first row that does not match. The key
(AUDIT_KEY, else derived from SECRET_KEY) is kept out of the database, so someone who can write
to the database but not read the server's configuration cannot re-hash a rewritten chain. The
head (last id and hash) is kept in its own row too, so that dropping rows from the end is
detected; it is published at /audit/head and on the public /audit page, so anyone who saved it
can later check that no row before it was removed or rewritten (`verify --against HASH`).

Rows written before the chain was keyed (plain SHA-256) are accepted only up to the row id
named by AUDIT_UNKEYED_UNTIL, which is configuration too: a forger cannot extend it.

The database also refuses UPDATE and DELETE on the log (triggers on SQLite and PostgreSQL);
someone with the database's owner rights can drop them, which is what the chain is for.

Rows are written in their own short transaction, after the change they describe (a crash in
between loses the row, not the change). Appends are serialised by a lock in the process and
by locking the head row (`SELECT … FOR UPDATE`, PostgreSQL) across processes.

What is recorded:
* every state-changing HTTP request that succeeded (method, endpoint, its arguments, the names
  and short values of non-secret form fields), and every one refused for lack of rights
  (`denied`), from `install()`'s after-request hook;
* live-text updates, once durable: one `text.update` row per connection and batch, with the
  account, the number of updates, their bytes and the SHA-256 of their concatenation, and the
  units they touched (editor.collab); refused writes from read-only connections
  (`text.refused`, the first of each kind per connection and then a count when it leaves);
* domain events with richer detail (sign-in, role changes, stage transitions…) from the code
  that makes them (`record`);
* command-line changes, attributed to `cli:<login name>`.
"""

from __future__ import annotations

import getpass
import hashlib
import hmac
import json
import threading
import weakref
from dataclasses import dataclass

from flask import Flask, g, has_request_context, jsonify, make_response, render_template, request
from sqlalchemy import Engine, Integer, String, Text, event, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from . import clock
from .db import Base
from .documents import get_document
from .permissions import effective_role
from .problems import CSRF_REFUSED, csrf_refused, problem
from .services import current_services

GENESIS = "0" * 64
#: Form fields never written to the log (their values are secrets or noise).
SECRET_FIELDS = ("password", "csrf_token", "token", "secret", "code")
#: A survey respondent's answers (form fields q-<question>, a tablet's "responses"): personal
#: words they may have erased, never copied into an append-only log.
ANSWER_FIELD_PREFIX = "q-"
ANSWER_MEMBERS = ("responses", "answers")
#: Residents who sign in to take part (editor.participation) are not staff: their e-mail address
#: is personal data they may ask to have removed, so it is not copied into the log either.
PUBLIC_ENDPOINTS_PREFIX = "participation."
PUBLIC_PERSONAL_FIELDS = ("email",)
MAX_VALUE = 200  # characters of a form value kept in a row's detail
STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")


class AuditEvent(Base):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    # An ISO 8601 UTC string, not a DateTime: it must read back byte for byte on every database.
    at: Mapped[str] = mapped_column(String(32))
    # Not a foreign key: the log outlives accounts, and rows are never rewritten.
    actor_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    actor: Mapped[str] = mapped_column(String(120), default="")  # "user:3", "cli:root", "petition:12", "public"
    role: Mapped[str] = mapped_column(String(20), default="")
    ip: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(80), index=True)
    document: Mapped[str] = mapped_column(String(200), default="", index=True)
    target: Mapped[str] = mapped_column(String(300), default="")
    detail: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    """One row: the id and hash of the last event (dropping rows from the end shows)."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_id: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64), default=GENESIS)


@dataclass(frozen=True)
class ChainKey:
    """The chain's secret, and the last row id that may predate it (plain SHA-256)."""

    secret: bytes
    unkeyed_until: int = 0

    def __repr__(self) -> str:  # never in a log or a traceback
        return f"ChainKey(unkeyed_until={self.unkeyed_until})"


_keys: weakref.WeakKeyDictionary[Engine, ChainKey] = weakref.WeakKeyDictionary()


def key_from_config(config) -> ChainKey:
    """AUDIT_KEY if set, else a key derived from SECRET_KEY (both live outside the database)."""
    explicit = config.get("AUDIT_KEY") or ""
    secret = explicit.encode() if explicit else hmac.new(
        str(config["SECRET_KEY"]).encode(), b"constituent audit chain v1", hashlib.sha256).digest()
    return ChainKey(secret, int(config.get("AUDIT_UNKEYED_UNTIL") or 0))


def use_key(engine: Engine, key: ChainKey) -> None:
    """The key under which rows appended through `engine` are hashed and checked."""
    _keys[engine] = key


def _key_of(engine: Engine) -> ChainKey:
    try:
        return _keys[engine]
    except KeyError:
        raise RuntimeError("the audit chain has no key for this database: call audit.use_key(engine, key) "
                           "(install() does)") from None


def _content(prev_hash: str, row) -> bytes:
    content = json.dumps(
        [row.id, row.at, row.actor_id, row.actor, row.role, row.ip, row.action, row.document, row.target,
         row.detail],
        ensure_ascii=False, separators=(",", ":"),
    )
    return f"{prev_hash}\n{content}".encode()


def row_hash(key: ChainKey, prev_hash: str, row) -> str:
    """HMAC-SHA256, under the chain's key, of the previous hash and the row's canonical content."""
    return hmac.new(key.secret, _content(prev_hash, row), hashlib.sha256).hexdigest()


def unkeyed_hash(prev_hash: str, row) -> str:
    """How rows were hashed before the chain had a key (plain SHA-256): anyone can compute it."""
    return hashlib.sha256(_content(prev_hash, row)).hexdigest()


_lock = threading.Lock()

_APPEND_ONLY = {
    "sqlite": [
        "CREATE TRIGGER IF NOT EXISTS audit_event_no_update BEFORE UPDATE ON audit_event "
        "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS audit_event_no_delete BEFORE DELETE ON audit_event "
        "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
        # The head only moves forward: rewinding it (after deleting the last rows) is refused.
        "CREATE TRIGGER IF NOT EXISTS audit_head_forward BEFORE UPDATE ON audit_head "
        "WHEN NEW.last_id <= OLD.last_id OR NEW.id <> OLD.id "
        "BEGIN SELECT RAISE(ABORT, 'the audit head only moves forward'); END",
        "CREATE TRIGGER IF NOT EXISTS audit_head_no_delete BEFORE DELETE ON audit_head "
        "BEGIN SELECT RAISE(ABORT, 'the audit head only moves forward'); END",
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$",
        "DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event",
        "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event "
        "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()",
        "CREATE OR REPLACE FUNCTION audit_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN IF TG_OP = 'DELETE' OR NEW.last_id <= OLD.last_id OR NEW.id <> OLD.id THEN "
        "RAISE EXCEPTION 'the audit head only moves forward'; END IF; RETURN NEW; END $$",
        "DROP TRIGGER IF EXISTS audit_head_forward ON audit_head",
        "CREATE TRIGGER audit_head_forward BEFORE UPDATE OR DELETE ON audit_head "
        "FOR EACH ROW EXECUTE FUNCTION audit_head_forward()",
    ],
}


def create_schema(engine: Engine) -> None:
    """The tables (with create_all) and the append-only triggers."""
    Base.metadata.create_all(engine, tables=[AuditEvent.__table__, AuditHead.__table__])
    statements = _APPEND_ONLY.get(engine.dialect.name, [])
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))


@dataclass
class Actor:
    """Who acts: an account (id and the role it acted in), or a named non-account actor."""

    id: int | None = None
    label: str = "public"
    role: str = ""
    ip: str = ""


def acting_as(actor: Actor, document: str = "") -> None:
    """For the rest of this request, changes are this actor's (e.g. a petitioner's link)."""
    g.audit_actor = actor
    g.audit_document = document


def actor_of(user=None, document=None) -> Actor:
    """The actor of the current request (or of the given user), with the client's address."""
    from flask_login import current_user

    if user is None and has_request_context() and g.get("audit_actor") is not None:
        return g.audit_actor
    ip = (request.remote_addr or "") if has_request_context() else ""
    if user is None and has_request_context():
        user = current_user
    if user is not None and getattr(user, "is_authenticated", False) and getattr(user, "id", None) is not None:

        return Actor(id=user.id, label=f"user:{user.id}", role=effective_role(user, document) or "", ip=ip)
    return Actor(label="public", ip=ip)


def cli_actor() -> Actor:
    try:
        name = getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name (containers): still say it was the command line
        name = "unknown"
    return Actor(label=f"cli:{name}")


def record(engine: Engine, action: str, *, actor: Actor | None = None, document: str = "", target: str = "",
           detail: dict | None = None) -> AuditEvent:
    """Append one event to the chain, in its own transaction; returns the stored row."""
    actor = actor or (actor_of() if has_request_context() else Actor(label="system"))
    return record_many(engine, [(action, document, actor, target, detail or {})])[-1]


def _text(value: str) -> str:
    """Text a client sent may hold lone surrogates (JSON "\\ud800"), which no database stores and
    no hash encodes: they are kept as their escape."""
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


def record_many(engine: Engine, entries: list[tuple[str, str, Actor, str, dict]]) -> list[AuditEvent]:
    """Append (action, document, actor, target, detail) entries in one transaction."""
    key = _key_of(engine)
    with _lock, Session(engine) as session, session.begin():
        return _append_chain(session, key, entries)


def record_in(connection, entries: list[tuple[str, str, Actor, str, dict]]) -> None:
    """Append entries inside a transaction the caller holds on `connection` (the live-text store's:
    a batch of updates and its audit rows commit together). The caller holds `transaction_guard()`
    from before its transaction began."""
    key = _key_of(connection.engine)
    with Session(bind=connection, join_transaction_mode="rollback_only") as session:
        _append_chain(session, key, entries)
        session.flush()


def transaction_guard():
    """The lock every append to the chain takes before its transaction (one process's appends in order)."""
    return _lock


def _append_chain(session: Session, key: ChainKey, entries: list[tuple[str, str, Actor, str, dict]]) -> list[AuditEvent]:
    stored = []
    head = session.scalar(select(AuditHead).where(AuditHead.id == 1).with_for_update())
    if head is None:
        head = AuditHead(id=1, last_id=0, hash=GENESIS)
        session.add(head)
        session.flush()
    last_id, last_hash = head.last_id, head.hash
    for action, document, actor, target, detail in entries:
        row = AuditEvent(
            id=last_id + 1,  # ids follow the head: the chain has no gaps, and the hash covers the id
            at=clock.now().isoformat(timespec="microseconds"),
            actor_id=actor.id, actor=_text(actor.label)[:120], role=_text(actor.role or "")[:20],
            ip=_text(actor.ip or "")[:64], action=_text(action)[:80], document=_text(document or "")[:200],
            target=_text(target or "")[:300],
            detail=_text(json.dumps(detail, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)),
            prev_hash=last_hash,
        )
        row.hash = row_hash(key, last_hash, row)
        session.add(row)
        stored.append(row)
        last_id, last_hash = row.id, row.hash
    head.last_id, head.hash = last_id, last_hash
    return stored


@dataclass
class Verdict:
    ok: bool
    checked: int
    head: str
    bad_id: int | None = None
    problem: str = ""


def verify(engine: Engine, against: str | None = None) -> Verdict:
    """Walk the chain from the first row; name the first row that does not match.

    `against`: a head hash published earlier (`/audit/head`, or printed by an earlier verify). It
    must still be in the chain: rows removed from the end, or a chain rewritten and re-hashed
    from some row on, lose it, even when the rewritten chain is consistent in itself."""
    key = _key_of(engine)
    previous = GENESIS
    checked = 0
    last_id = 0
    found_against = against is None or against == GENESIS
    with Session(engine) as session:
        for row in session.scalars(select(AuditEvent).order_by(AuditEvent.id)).yield_per(2000):
            if row.prev_hash != previous:
                return Verdict(False, checked, previous, row.id,
                               "its previous hash does not match the row before it (a row was removed or inserted)")
            if row_hash(key, previous, row) != row.hash and not (
                    row.id <= key.unkeyed_until and unkeyed_hash(previous, row) == row.hash):
                return Verdict(False, checked, previous, row.id, _mismatch(key, previous, row))
            previous, last_id = row.hash, row.id
            found_against = found_against or row.hash == against
            checked += 1
        head = session.get(AuditHead, 1)
    if head is not None and (head.last_id != last_id or head.hash != previous):
        return Verdict(False, checked, previous, head.last_id,
                       f"the chain ends at row {last_id} but its head names row {head.last_id} (rows were removed from the end)")
    if not found_against:
        return Verdict(False, checked, previous, None,
                       f"the published head {against} is not in the chain: rows were removed or rewritten since it was "
                       "published")
    return Verdict(True, checked, previous)


def _mismatch(key: ChainKey, previous: str, row) -> str:
    if unkeyed_hash(previous, row) == row.hash:
        return ("it is hashed without the chain's key: forged by someone without the key, or written before the "
                "chain was keyed (then set AUDIT_UNKEYED_UNTIL to the last such row's id)")
    return "its content does not match its hash (it was altered, or the chain's key is not the one it was written with)"


def head(engine: Engine) -> dict:
    """The chain's head, to publish: the last row's id, hash and time."""
    with Session(engine) as session:
        row = session.get(AuditHead, 1)
        last = session.get(AuditEvent, row.last_id) if row is not None and row.last_id else None
        return {"last_id": row.last_id if row is not None else 0, "hash": row.hash if row is not None else GENESIS,
                "at": last.at if last is not None else None}


def events(engine: Engine, *, document: str | None = None, actor_id: int | None = None, action: str | None = None,
           limit: int = 200, before: int | None = None) -> list[AuditEvent]:
    with Session(engine) as session:
        query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
        if document:
            query = query.where(AuditEvent.document == document)
        if actor_id is not None:
            query = query.where(AuditEvent.actor_id == actor_id)
        if action:
            query = query.where(AuditEvent.action.startswith(action))
        if before:
            query = query.where(AuditEvent.id < before)
        return list(session.scalars(query))


# --- every state-changing request ---------------------------------------------------------------

def _request_summary() -> dict:
    """What the request asked for: non-secret form fields, file names and JSON members, short."""
    form = {}
    summary = {}
    resident = (request.endpoint or "").startswith(PUBLIC_ENDPOINTS_PREFIX)
    for key in request.form.keys():
        if any(secret in key.lower() for secret in SECRET_FIELDS) or key.startswith(ANSWER_FIELD_PREFIX):
            continue
        if resident and key in PUBLIC_PERSONAL_FIELDS:
            continue
        values = request.form.getlist(key)
        value = values[0] if len(values) == 1 else values
        if isinstance(value, str):
            value = value[:MAX_VALUE]
        else:
            value = [v[:MAX_VALUE] for v in value[:20]]
        form[key] = value
    if form:
        summary["form"] = form
    if request.files:
        summary["files"] = {key: (f.filename or "")[:MAX_VALUE] for key, f in request.files.items()}
    if request.is_json:
        payload = request.get_json(silent=True)
        if isinstance(payload, dict):
            summary["json"] = {key: (str(value)[:MAX_VALUE]) for key, value in list(payload.items())[:30]
                               if not any(secret in key.lower() for secret in SECRET_FIELDS)
                               and key not in ANSWER_MEMBERS}
    return summary


def _request_target() -> tuple[str, str]:
    """(document slug, target) from the matched route's arguments, secrets left out."""
    args = dict(request.view_args or {})
    slug = str(args.pop("slug", "") or "")
    target = ",".join(f"{key}={value}" for key, value in sorted(args.items())
                      if not any(secret in key.lower() for secret in SECRET_FIELDS))
    return slug, target


def install(app: Flask, engine: Engine) -> None:
    """Record every state-changing request that succeeded or was refused for lack of rights."""
    create_schema(engine)
    use_key(engine, key_from_config(app.config))
    from flask_wtf.csrf import CSRFError

    @app.get("/audit/head")
    def audit_head():
        """The audit chain's head, public: whoever saves it can later prove that no row before it
        was removed or rewritten (`constituent audit verify --against HASH`)."""
        response = jsonify({**head(engine), "verify": "constituent audit verify --against HASH"})
        response.headers["Cache-Control"] = "no-cache"
        return response

    @app.get("/audit")
    def audit_page():
        """The head on a public page, with what it proves and how to check it."""
        response = make_response(render_template("audit_head.html", head=head(engine)))
        response.headers["Cache-Control"] = "no-cache"
        return response

    @app.errorhandler(CSRFError)
    def _csrf_refused(exc):
        csrf_refused()  # logged as refused by the hook below
        if request.path.startswith("/api/"):

            return problem(400, f"no valid CSRF token: {exc.description}")
        return exc

    @app.after_request
    def _audit_request(response):
        if request.method not in STATE_CHANGING or request.endpoint in (None, "static"):
            return response
        status = response.status_code
        if g.get(CSRF_REFUSED):
            status = 403  # no valid CSRF token: refused, and worth knowing about
        if status >= 400 and status not in (401, 403):
            return response  # bad input changes nothing: not a change of state
        if 300 <= status < 400 and "/login" in (response.headers.get("Location") or "") \
                and request.endpoint != "accounts.login":
            status = 401  # sent to sign in: refused
        action = f"http.{request.endpoint}" if status < 400 else f"denied.{request.endpoint}"
        slug, target = _request_target()
        slug = slug or g.get("audit_document", "")
        try:
            actor = None
            if slug and g.get("audit_actor") is None:
                actor = actor_of(document=get_document(current_services().db, slug))
            record(engine, action, actor=actor, document=slug, target=target,
                   detail={"method": request.method, "status": status, **_request_summary()})
        except Exception:  # the change is made: never turn it into an error page
            app.logger.exception("audit: could not record %s", action)
        return response


@event.listens_for(AuditEvent, "before_update")
def _refuse_update(_mapper, _connection, _target):  # pragma: no cover - a programming error
    raise RuntimeError("the audit log is append-only")
