"""Caching of public pages and exports, keyed by the state of the document they show.

A cached body is looked up under a key computed, on every request, from what the database holds
(so it is right whatever process made the change, and a change shows up on the next read):

* the **text state**: the update store's row for the document (the snapshot's last update id
  and time of compaction, the number of logged updates and the highest id). Updates are in the
  store before anyone sees them, so the store is the truth; between two compactions the log only
  grows, and a compaction rewrites the snapshot;
* the **relational generation**: `cache_generation`, one counter per document (and row 0 for
  changes that cannot be pinned to one document, e.g. a user renamed), bumped in the very
  transaction of every commit that touches a document's relational rows (petitions, links,
  stages, versions, amendments, unit names, the document row...), from SQLAlchemy session events;
* the page (host, path and query: pages print their own absolute address), the interface
  language and, for exports, the day (the AKN expression is dated today).

Only anonymous readers' GET requests are served from the cache: a signed-in user's page says who
they are and may show drafts. The anonymous page carries one per-visitor field, the CSRF token
of the language switch: it is cut out of the cached body and put back for each request.

Responses carry an ETag derived from the key (weak for pages, bound to the visitor's CSRF
session token; strong for exports), and `If-None-Match` is answered 304 without rendering.

Memory is bounded: one LRU per process with a byte budget (`PAGE_CACHE_BYTES`, environment
`CONSTITUENT_PAGE_CACHE_BYTES`, default 64 MiB; 0 stores nothing but keeps ETags). Concurrent
misses for one key render once. There is no shared (Redis) cache: every process keeps its own,
all valid at once because the key comes from the shared database.

Reading the text for a render: a process that is alone (no REDIS_URL) reads its open room, which
holds at least every stored update. With several processes, a room may not have received an
update another process has just stored; the render then reads the store itself, so that what is
cached under a key is never older than the key.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from itertools import chain
from typing import Any, Callable

from flask import Response, current_app, make_response, request, session
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import BigInteger, Connection, Integer, bindparam, event, inspect, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from crdt.store import version_columns

from . import clock
from .db import Base
from .models import Document, User
from .services import current_services

DEFAULT_BUDGET = 64 * 1024 * 1024
#: Row of cache_generation for changes not pinned to one document (they invalidate every document).
EVERYTHING = 0
#: Tables whose changes no public page or export shows.
IGNORED_TABLES = frozenset({
    "cache_generation", "login_throttle", "ended_session", "notification", "audit_event", "audit_head", "outbox_message",
    "document_member", "search_entry", "search_state",
    # A resident's sign-in codes show on no page (participants' names do: that table counts).
    "participant_sign_in",
})
#: Stands for the visitor's CSRF token in a cached page (never in real text: it has a NUL byte).
SENTINEL = b"\x00csrf-token\x00"
_PENDING = "constituent.cache.documents"


class CacheGeneration(Base):
    """How many committed changes have touched a document's relational rows (0: any document)."""

    __tablename__ = "cache_generation"

    document_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    generation: Mapped[int] = mapped_column(BigInteger, default=0)


_generations = CacheGeneration.__table__


# --- the relational generation: bumped by every commit that changes a document's rows ---------

def _touches(session: Session, obj: Any, new: bool, deleted: bool) -> int | None:
    """The document a flushed object belongs to, EVERYTHING, or None when no page shows it."""
    state = inspect(obj)
    table = state.mapper.local_table
    name = getattr(table, "name", None)
    if name in IGNORED_TABLES:
        return None
    if isinstance(obj, Document):
        return obj.id
    if isinstance(obj, User):
        # Names appear in clause histories; a new account has no history yet.
        if new:
            return None
        if deleted or state.attrs.name.history.has_changes() or state.attrs.active.history.has_changes():
            return EVERYTHING
        return None
    document_id = getattr(obj, "document_id", None)
    if isinstance(document_id, int):
        return document_id
    return EVERYTHING  # e.g. a signature count or a vote: its document is a parent row away


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context) -> None:
    found: set[int] = session.info.setdefault(_PENDING, set())
    for obj, new, deleted in chain(
        ((o, True, False) for o in session.new),
        ((o, False, False) for o in session.dirty if session.is_modified(o, include_collections=False)),
        ((o, False, True) for o in session.deleted),
    ):
        document = _touches(session, obj, new, deleted)
        if document is not None:
            found.add(document)


@event.listens_for(Session, "do_orm_execute")
def _bulk_statement(state) -> None:
    """INSERT/UPDATE/DELETE statements run through a session (bulk inserts, guarded updates)."""
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    name = getattr(table, "name", None)
    if name in IGNORED_TABLES:
        return
    found: set[int] = state.session.info.setdefault(_PENDING, set())
    if state.is_insert and table is not None and "document_id" in table.c:
        ids = _inserted_document_ids(state)
        if ids:
            found.update(ids)
            return
    found.add(EVERYTHING)


def _inserted_document_ids(state) -> set[int]:
    """document_id values an INSERT writes, from its VALUES or its execution parameters."""
    params = state.parameters
    rows = params if isinstance(params, list) else [params] if params else []
    ids: set[int] = set()
    for row in rows:
        if isinstance(row, dict) and "document_id" in row:
            ids.add(row["document_id"])
    if not ids:
        compiled = state.statement.compile().params
        for key, value in compiled.items():
            if key == "document_id" or (key.startswith("document_id_m") and key[13:].isdigit()):
                ids.add(value)
    if not ids or not all(isinstance(i, int) for i in ids):
        return set()
    return ids


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if session.new or session.dirty or session.deleted:
        session.flush()
    documents = session.info.pop(_PENDING, None)
    if documents:
        bump(session.connection(), documents)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def bump(connection: Connection, documents) -> None:
    """Count one more change for each document (in the caller's transaction)."""
    rows = [{"document_id": d, "generation": 1} for d in sorted(documents)]
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(_generations).values(rows)
    connection.execute(stmt.on_conflict_do_update(
        index_elements=[_generations.c.document_id],
        set_={"generation": _generations.c.generation + 1},
    ))


def _state_query():
    """One SELECT of the text's version (crdt.store.version_columns) and the two generations,
    built once (parameters: slug, document, everything)."""
    slug, document, everything = bindparam("slug"), bindparam("document"), bindparam("everything")

    def generation(where):
        return select(_generations.c.generation).where(where).scalar_subquery()

    return select(*version_columns(slug), generation(_generations.c.document_id == document),
                  generation(_generations.c.document_id == everything))


_STATE = _state_query()


def state_of(db, document: Document) -> tuple:
    """The document's state as the database holds it now: text (store) and relational generation."""
    row = db.execute(_STATE, {"slug": document.slug, "document": document.id, "everything": EVERYTHING}).one()
    snapshot_id, compacted_at, count, highest, mine, everything = row
    return (snapshot_id, str(compacted_at), count, highest, mine or 0, everything or 0)


# --- reading the text for a render -------------------------------------------------------------


def reader(services):
    """Services to read a document's live text with for a page or an export.

    Alone, a process reads its rooms. With several processes (REDIS_URL, or PAGE_CACHE_READ /
    CONSTITUENT_PAGE_CACHE_READ "store"), it reads the store: another process's last update may not have reached this
    process's room yet, and what a render caches under a key must not be older than the key.
    """
    mode = current_app.config["PAGE_CACHE_READ"]
    if mode == "store" or (mode == "auto" and current_app.config.get("REDIS_URL")):
        return dataclasses.replace(services, texts=services.texts.from_store())
    return services


# --- the cache itself ------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    body: bytes
    content_type: str
    has_token: bool = False

    @property
    def size(self) -> int:
        return len(self.body) + 200  # the key, the entry and the dictionary slot, roughly


class PageCache:
    """A least-recently-used map of rendered bodies with a byte budget; thread-safe."""

    def __init__(self, budget: int) -> None:
        self.budget = max(0, int(budget))
        self._entries: OrderedDict[tuple, Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._rendering: dict[tuple, threading.Event] = {}
        self.bytes = 0
        self.hits = self.misses = self.evictions = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: tuple) -> Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: tuple, entry: Entry) -> None:
        if entry.size > self.budget // 4:  # one huge body must not flush everything else
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self.bytes -= old.size
            self._entries[key] = entry
            self.bytes += entry.size
            while self.bytes > self.budget and self._entries:
                _, evicted = self._entries.popitem(last=False)
                self.bytes -= evicted.size
                self.evictions += 1

    def fetch(self, key: tuple, render: Callable[[], tuple[Entry | None, Response]]) -> tuple[Entry | None, Response | None]:
        """The entry for `key`, rendering it once however many requests miss at the same time.

        Returns (entry, None) from the cache, or (entry or None, response) from this request's
        own render (entry None: the response is not cacheable, e.g. a redirect)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return entry, None
            self.misses += 1
            waiting = self._rendering.get(key)
            if waiting is None:
                self._rendering[key] = threading.Event()
        if waiting is not None:
            waiting.wait(30)
            entry = self.get(key)
            if entry is not None:
                return entry, None
            return render()  # that render failed or was not cacheable: render our own
        try:
            entry, response = render()
            if entry is not None and self.budget:
                self.put(key, entry)
            return entry, response
        finally:
            with self._lock:
                self._rendering.pop(key).set()


def cache_of(app) -> PageCache:
    found = app.extensions.get("constituent_page_cache")
    if found is None:
        budget = app.config.get("PAGE_CACHE_BYTES", DEFAULT_BUDGET)
        found = app.extensions.setdefault("constituent_page_cache", PageCache(budget))
    return found


# --- serving ---------------------------------------------------------------------------------


def _public_request(allowed_args: frozenset[str]) -> bool:
    """An anonymous GET with nothing personal in it (no flashed message) and no unknown argument."""
    return (
        request.method in ("GET", "HEAD")
        and not current_user.is_authenticated
        and not session.get("_flashes")
        and set(request.args) <= allowed_args
    )


def _etag(key: tuple, extra: str = "") -> str:
    return hashlib.sha256(repr((key, extra)).encode("utf-8")).hexdigest()[:40]


def _not_modified(etag: str, weak: bool) -> Response | None:
    matches = request.if_none_match.contains_weak(etag) if weak else request.if_none_match.contains(etag)
    if not matches:
        return None
    response = Response(status=304)
    response.set_etag(etag, weak=weak)
    return response


def _finish(response: Response, etag: str, weak: bool, state: str, private: bool) -> Response:
    response.set_etag(etag, weak=weak)
    response.headers["Cache-Control"] = "private, no-cache" if private else "public, no-cache"
    response.vary.add("Accept-Language")
    response.vary.add("Cookie")
    response.headers["X-Constituent-Cache"] = state
    return response


def page(document: Document, render: Callable[[], Any]) -> Any:
    """The response of a public page: `render()` (the view's own code) or the cached copy of it.

    Pages vary by path and query (the language switch sends people back where they were), the
    interface language, and the document's state."""
    if not _public_request(frozenset({"lang"})):
        return render()
    from flask_wtf.csrf import generate_csrf

    # The host is part of the key: pages print their own absolute address (url_for _external).
    key = ("page", document.id, document.slug, request.host_url, request.path, request.query_string,
           str(get_locale()), state_of(db_of(), document))
    token = generate_csrf().encode("utf-8")
    raw = session.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), "")
    etag = _etag(key, raw)  # a copy is only reused with the session its token belongs to
    unchanged = _not_modified(etag, weak=True)
    if unchanged is not None:
        return _finish(unchanged, etag, True, "not-modified", private=True)

    def produce() -> tuple[Entry | None, Response]:
        response = make_response(render())
        if response.status_code != 200 or response.direct_passthrough or not response.mimetype == "text/html":
            return None, response
        body = response.get_data()
        return Entry(body.replace(token, SENTINEL), response.content_type, token in body), response

    entry, response = cache_of(current_app).fetch(key, produce)
    if entry is None:
        return response
    if response is None:
        body = entry.body.replace(SENTINEL, token) if entry.has_token else entry.body
        response = Response(body, content_type=entry.content_type)
        state = "hit"
    else:
        state = "miss"
    return _finish(response, etag, True, state, private=True)


def export(document: Document, fmt: str, render: Callable[[], Response],
           allowed_args: frozenset[str] = frozenset({"download"})) -> Response:
    """An export of the live text (`render()` makes it), cached for anonymous readers.

    Varies by format (`fmt` may name a version too), interface language, the `download` argument
    and day (the AKN expression is dated today)."""
    if not _public_request(allowed_args):
        return render()
    today = clock.now().date().isoformat()
    key = ("export", fmt, document.id, document.slug, request.host_url, str(get_locale()), today,
           bool(request.args.get("download")), state_of(db_of(), document))
    etag = _etag(key)
    unchanged = _not_modified(etag, weak=False)
    if unchanged is not None:
        return _finish(unchanged, etag, False, "not-modified", private=False)

    def produce() -> tuple[Entry | None, Response]:
        response = render()
        if response.status_code != 200:
            return None, response
        return Entry(response.get_data(), response.content_type), response

    entry, response = cache_of(current_app).fetch(key, produce)
    if entry is None:
        return response
    if response is None:
        response = Response(entry.body, content_type=entry.content_type)
        state = "hit"
    else:
        state = "miss"
    return _finish(response, etag, False, state, private=False)


def db_of():

    return current_services().db


def stats(app) -> dict:
    cache = cache_of(app)
    return {"entries": len(cache), "bytes": cache.bytes, "budget": cache.budget,
            "hits": cache.hits, "misses": cache.misses, "evictions": cache.evictions}


__all__ = ["CacheGeneration", "PageCache", "bump", "export", "page", "reader", "state_of", "stats"]
