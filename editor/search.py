"""Full-text search across the live text, petitions, survey themes and citizen events.

`GET /search?q=…` (a page) and `GET /api/v1/search?q=…` (JSON) find units of the documents the
reader may read (drafts only for those who may read them: `permissions.can_read`), the petitions,
survey themes and citizen events of those documents. Survey answers are private: never indexed.

Matching is accent- and case-insensitive and Spanish-aware: "educacion" finds "educación",
"derechos" finds "derecho", "movilidad" and "Movilidad" are the same query; English petition
titles are bridged to Spanish ("water" also indexes "agua", editor.provenance.links.GLOSSARY).

The index (tables `search_entry`, `search_state`, and on SQLite the FTS5 table `search_fts`):

* one `search_entry` row per unit of each document's live text (read through `read_live`, the
  projection the public pages use; keyed by GUID, linking to the unit's eId), per petition, theme
  and event, with what it shows (label, heading, text) and a digest of what it indexed;
* SQLite: `search_fts` (FTS5, rowid = entry id) holds the folded words of the heading (`head`)
  and the rest (`body`), and the light Spanish stems of all of them (`stems`,
  editor.provenance.text.stem); a query word matches a word it begins (prefix) or a word with
  the same stem;
* PostgreSQL: `search_entry.tsv`, the tsvectors of the 'spanish' and 'simple' configurations
  over `unaccent(text)` (heading weighted A), with a GIN index; a query word matches a word with
  the same Spanish stem, or a word it begins (`to_tsquery('spanish', w) || to_tsquery('simple',
  'w:*')`). Without the unaccent extension (it cannot be created) the text is folded in Python
  before `to_tsvector`: still accent-insensitive.
* `search_state` keeps, per document and part ("text", "sources"), a fingerprint of what was
  indexed: for the text, the update store's state for the document (highest update id and
  number of logged updates, the snapshot's last id and time); for the petitions, themes and
  events, a digest of their indexed columns. Before each query the fingerprints of the
  readable documents are compared with the store and the tables; a part whose fingerprint
  differs is reindexed then, from the store (only changed rows are rewritten, in one
  transaction that serialises processes indexing the same document). Any number of server
  processes sharing the database therefore agree, and a live edit is findable by the next query.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import logging
import re
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

from flask import Blueprint, Flask, current_app, jsonify, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    delete,
    func,
    select,
    text,
)

from akoma_ntoso import iter_units

from . import clock, permissions
from .db import Base, UTCDateTime
from .limits import configured, limiter
from .livetext import LiveTexts
from .models import Document
from .petitions.models import Petition
from .problems import problem
from .provenance.links import bridge, path_labels
from .provenance.models import CitizenEvent
from .provenance.text import fold, stem
from .services import current_services
from .survey.models import Coding, Theme

log = logging.getLogger(__name__)

bp = Blueprint("search", __name__)

#: What a search finds, in the order the page shows them.
KINDS = ("unit", "petition", "theme", "event")
KIND_LABELS = {
    "unit": lazy_gettext("Text"),
    "petition": lazy_gettext("Petitions"),
    "theme": lazy_gettext("Survey themes"),
    "event": lazy_gettext("Citizen events"),
}
#: Results shown per kind on the page (all of one kind: up to MAX_RESULTS with `kind=`).
PER_KIND = 10
MAX_RESULTS = 200
#: A query is cut to this many characters and words (the rest is ignored, and the page says so).
MAX_QUERY_CHARS = 200
MAX_QUERY_WORDS = 12
MAX_WORD_CHARS = 40
SNIPPET_WORDS = 32

#: Words that carry no meaning on their own in a query (Spanish and English); dropped unless the
#: query has nothing else. Unlike editor.provenance.text.STOPWORDS, "ciudad" and "mexico" stay.
QUERY_STOPWORDS = frozenset(
    """
    a al algo ante como con contra cual cuales cuando de del desde donde el ella ellas ellos en
    entre es esa esas ese eso esos esta estas este esto estos fue ha hay la las le les lo los mas
    ni no nos o para pero por que quien se si sin sobre su sus un una unas uno unos y ya
    the of and or to in on for with by as at from is are be this that it its an
    """.split()
)

# --- the index tables -------------------------------------------------------------------------

search_entry = Table(
    "search_entry",
    Base.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("document_id", Integer, ForeignKey("document.id", ondelete="CASCADE"), nullable=False),
    Column("part", String(10), nullable=False),  # "text" | "sources"
    Column("kind", String(10), nullable=False),  # "unit" | "petition" | "theme" | "event"
    #: Identity within the document and kind: a unit's GUID, a source's id.
    Column("key", String(64), nullable=False),
    #: Where it links: a unit's eId, a petition's or event's id, a theme's key.
    Column("ref", String(255), nullable=False),
    Column("position", Integer, nullable=False, default=0),  # text order of units
    Column("label", Text, nullable=False, default=""),  # "Artículo 9 F. 1.", a petition's title
    Column("heading", Text, nullable=False, default=""),
    Column("body", Text, nullable=False, default=""),  # what the snippet comes from
    Column("extra", Text, nullable=False, default=""),  # indexed, never shown (synonyms, glossary)
    Column("digest", String(40), nullable=False),
    Index("ix_search_entry_document", "document_id", "part"),
    # Ids are never reused: on SQLite the FTS5 row of an entry has the entry's id.
    sqlite_autoincrement=True,
)

search_state = Table(
    "search_state",
    Base.metadata,
    Column("document_id", Integer, ForeignKey("document.id", ondelete="CASCADE"), primary_key=True),
    Column("part", String(10), primary_key=True),
    Column("fingerprint", String(80), nullable=False, default=""),
    Column("indexed_at", UTCDateTime(), nullable=True),
)

TEXT, SOURCES = "text", "sources"


@dataclass
class Backend:
    """What the engine's dialect offers: "sqlite" (FTS5) or "postgresql" (tsvector)."""

    dialect: str
    unaccent: bool = False  # PostgreSQL: the unaccent extension is there


def install(app: Flask) -> None:
    """Create the index tables (and the FTS5 table or the tsvector column), register the pages."""
    engine = current_engine(app)
    app.extensions["constituent_search"] = create_schema(engine)
    app.register_blueprint(bp)


def current_engine(app: Flask):
    return app.extensions["constituent"].engine


def create_schema(engine) -> Backend:
    """What migrations cannot describe portably: SQLite's FTS5 table, or PostgreSQL's tsvector
    column and its index (the tables themselves come from editor/migrations)."""
    dialect = engine.dialect.name
    if dialect == "sqlite":
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5("
                "head, body, stems, tokenize = 'unicode61 remove_diacritics 2')"
            )
        return Backend("sqlite")
    if dialect == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE search_entry ADD COLUMN IF NOT EXISTS tsv tsvector")
            conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS ix_search_entry_tsv ON search_entry USING gin (tsv)")
        unaccent = False
        try:
            with engine.begin() as conn:
                conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS unaccent")
        except Exception as exc:  # noqa: BLE001 - e.g. no right to create extensions: fold in Python
            log.warning("search: the unaccent extension cannot be created (%s); folding accents in Python", exc)
        with engine.connect() as conn:
            unaccent = conn.exec_driver_sql("SELECT 1 FROM pg_extension WHERE extname = 'unaccent'").first() is not None
        return Backend("postgresql", unaccent=unaccent)
    raise RuntimeError(f"search: no full-text search for the {dialect} dialect")


def backend_of(app: Flask) -> Backend:
    return app.extensions["constituent_search"]


# --- what is indexed --------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    kind: str
    key: str
    ref: str
    label: str
    heading: str
    body: str
    extra: str = ""
    position: int = 0

    @property
    def digest(self) -> str:
        parts = (self.kind, self.ref, str(self.position), self.label, self.heading, self.body, self.extra)
        return hashlib.sha1("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def text_rows(units) -> list[Row]:
    """One row per unit of a live text: its reader's label, heading and own text."""

    labels = path_labels(units)
    rows = []
    for position, unit in enumerate(iter_units(units)):
        rows.append(Row("unit", unit.guid or unit.eid, unit.eid, labels.get(unit.guid, "") or unit.label,
                        unit.heading, unit.text, position=position))
    return rows


def source_rows(conn, document_ids: list[int]) -> dict[int, list[Row]]:
    """The petitions, themes and events of the documents, as rows (survey answers: never)."""

    found: dict[int, list[Row]] = {d: [] for d in document_ids}
    if not document_ids:
        return found
    p = Petition.__table__
    for r in conn.execute(select(p.c.document_id, p.c.id, p.c.title, p.c.petitioners, p.c.proposal)
                          .where(p.c.document_id.in_(document_ids)).order_by(p.c.id)):
        # English titles (the 2016 petitions) also index their Spanish words: "water" → "agua".
        glossary = bridge(f"{r.title}\n{r.proposal or ''}")[len(f"{r.title}\n{r.proposal or ''}"):]
        found[r.document_id].append(Row("petition", str(r.id), str(r.id), r.title, "", r.proposal or "",
                                        extra=f"{r.petitioners or ''}\n{glossary}", position=r.id))
    t = Theme.__table__
    for r in conn.execute(select(t.c.document_id, t.c.id, t.c.key, t.c.name, t.c.synonyms, t.c.description)
                          .where(t.c.document_id.in_(document_ids)).order_by(t.c.id)):
        try:
            synonyms = json.loads(r.synonyms or "[]")
        except ValueError:
            synonyms = []
        words = [s for s in synonyms if isinstance(s, str)] if isinstance(synonyms, list) else []
        found[r.document_id].append(Row("theme", str(r.id), r.key, r.name, "", r.description or "",
                                        extra="\n".join(words), position=r.id))
    e = CitizenEvent.__table__
    for r in conn.execute(select(e.c.document_id, e.c.id, e.c.title, e.c.place, e.c.organiser, e.c.conclusions)
                          .where(e.c.document_id.in_(document_ids)).order_by(e.c.id)):
        found[r.document_id].append(Row("event", str(r.id), str(r.id), r.title, "", r.conclusions or "",
                                        extra=f"{r.place or ''}\n{r.organiser or ''}", position=r.id))
    return found


def _sources_fingerprint(rows: list[Row]) -> str:
    digest = hashlib.sha1()
    for row in rows:
        digest.update(row.kind.encode() + b":" + row.key.encode() + b":" + row.digest.encode() + b";")
    return "s" + digest.hexdigest()


# --- keeping the index fresh --------------------------------------------------------------------


def ensure_fresh(services, backend: Backend, documents: list[Document]) -> dict[str, float]:
    """Reindex what changed in `documents` since it was indexed; returns seconds spent per part
    reindexed ({"cdmx:text": 0.31}). A document whose text cannot be read keeps its old index."""
    engine = services.engine
    spent: dict[str, float] = {}
    if not documents:
        return spent
    ids = [d.id for d in documents]
    with engine.connect() as conn:
        stored = {(r.document_id, r.part): r.fingerprint for r in conn.execute(
            select(search_state.c.document_id, search_state.c.part, search_state.c.fingerprint)
            .where(search_state.c.document_id.in_(ids)))}
        text_now = LiveTexts.versions(conn, [d.slug for d in documents])
        sources_now = source_rows(conn, ids)
    for document in documents:
        rows = sources_now[document.id]
        fingerprint = _sources_fingerprint(rows)
        if stored.get((document.id, SOURCES)) != fingerprint:
            started = time.perf_counter()
            _write(engine, backend, document.id, SOURCES, rows, fingerprint)
            spent[f"{document.slug}:{SOURCES}"] = time.perf_counter() - started
        fingerprint = text_now.get(document.slug, "")
        if stored.get((document.id, TEXT)) != fingerprint:
            started = time.perf_counter()
            try:
                rows = text_rows(_read_units(services, document.slug))
            except Exception:  # noqa: BLE001 - a broken live text: search keeps what it had
                log.exception("search: the live text of %s cannot be read; its index is left as it was", document.slug)
                continue
            # The fingerprint was read before the text: the text is at least that recent, so a
            # change made meanwhile makes the next query reindex again rather than be missed.
            _write(engine, backend, document.id, TEXT, rows, fingerprint)
            spent[f"{document.slug}:{TEXT}"] = time.perf_counter() - started
    return spent


def _read_units(services, slug: str):
    """The units of the stored live text. Read from the store rather than from this process's
    room: with several processes, the store holds at least what the fingerprint (read before)
    says, where a room may not have received another process's update yet."""
    return services.texts.from_store().read(slug).units


def _write(engine, backend: Backend, document_id: int, part: str, rows: list[Row], fingerprint: str) -> None:
    """Bring the document's entries of `part` to `rows` (changed rows only), then record the
    fingerprint, in one transaction. Its first statement takes the write lock (SQLite) or the
    state row's lock (PostgreSQL): processes reindexing the same document take turns, and the
    second sees the first's entries."""
    with engine.begin() as conn:
        _lock_state(conn, backend, document_id, part)
        existing = {(r.kind, r.key): (r.id, r.digest) for r in conn.execute(
            select(search_entry.c.id, search_entry.c.kind, search_entry.c.key, search_entry.c.digest)
            .where(search_entry.c.document_id == document_id, search_entry.c.part == part))}
        wanted = {}
        for row in rows:
            wanted.setdefault((row.kind, row.key), row)  # a duplicate GUID (being repaired): first wins
        stale = [entry_id for key, (entry_id, digest) in existing.items()
                 if key not in wanted or wanted[key].digest != digest]
        fresh = [row for key, row in wanted.items() if key not in existing or existing[key][1] != row.digest]
        for start in range(0, len(stale), 500):
            chunk = stale[start:start + 500]
            if backend.dialect == "sqlite":
                conn.exec_driver_sql(f"DELETE FROM search_fts WHERE rowid IN ({','.join(str(int(i)) for i in chunk)})")
            conn.execute(delete(search_entry).where(search_entry.c.id.in_(chunk)))
        _insert(conn, backend, document_id, part, fresh)
        if backend.dialect == "sqlite" and part == TEXT:
            # FTS5 rows of entries deleted with their document (the foreign key's cascade).
            conn.exec_driver_sql("DELETE FROM search_fts WHERE rowid NOT IN (SELECT id FROM search_entry)")
        conn.execute(search_state.update()
                     .where(search_state.c.document_id == document_id, search_state.c.part == part)
                     .values(fingerprint=fingerprint, indexed_at=clock.now()))


def _lock_state(conn, backend: Backend, document_id: int, part: str) -> None:
    if backend.dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    conn.execute(insert(search_state).values(document_id=document_id, part=part, fingerprint="")
                 .on_conflict_do_nothing())
    if backend.dialect == "postgresql":
        conn.execute(select(search_state.c.part).where(search_state.c.document_id == document_id,
                                                       search_state.c.part == part).with_for_update())


def _indexed_words(row: Row) -> tuple[str, str]:
    """The folded words of the heading part (label, heading) and of the rest (body, extra)."""
    return fold(f"{row.label}\n{row.heading}"), fold(f"{row.body}\n{row.extra}")


def _insert(conn, backend: Backend, document_id: int, part: str, rows: list[Row]) -> None:
    """Insert the entries (and their FTS5 rows or tsvectors), in batches."""
    if not rows:
        return
    values = [dict(document_id=document_id, part=part, kind=row.kind, key=row.key, ref=row.ref,
                   position=row.position, label=row.label, heading=row.heading, body=row.body,
                   extra=row.extra, digest=row.digest) for row in rows]
    words = [_indexed_words(row) for row in rows]
    if backend.dialect == "sqlite":
        ids = conn.execute(search_entry.insert().returning(search_entry.c.id, sort_by_parameter_order=True),
                           values).scalars().all()
        conn.execute(text("INSERT INTO search_fts (rowid, head, body, stems) VALUES (:id, :head, :body, :stems)"), [
            {"id": entry_id, "head": head, "body": rest, "stems": " ".join(stem(w) for w in f"{head} {rest}".split())}
            for entry_id, (head, rest) in zip(ids, words, strict=True)
        ])
        return
    if backend.unaccent:  # PostgreSQL folds the accents itself
        words = [(f"{row.label}\n{row.heading}", f"{row.body}\n{row.extra}") for row in rows]
        head, rest = "unaccent(:head)", "unaccent(:rest)"
    else:  # folded in Python (fold): accent-insensitive all the same
        head, rest = ":head", ":rest"
    columns = ", ".join(f'"{c}"' for c in values[0])
    conn.execute(text(
        f"INSERT INTO search_entry ({columns}, tsv) VALUES ({', '.join(':' + c for c in values[0])}, "
        f"setweight(to_tsvector('spanish', {head}), 'A') || setweight(to_tsvector('spanish', {rest}), 'B') || "
        f"setweight(to_tsvector('simple', {head}), 'A') || setweight(to_tsvector('simple', {rest}), 'B'))"
    ), [{**v, "head": h, "rest": r} for v, (h, r) in zip(values, words, strict=True)])


# --- queries ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """A query as searched: its folded words (stop words out unless nothing else is left)."""

    raw: str
    words: tuple[str, ...]
    truncated: bool = False

    @property
    def stems(self) -> tuple[str, ...]:
        return tuple(stem(w) for w in self.words)


def parse_query(raw: str | None) -> Query:
    raw = _clean(raw or "")
    truncated = len(raw) > MAX_QUERY_CHARS
    raw = raw[:MAX_QUERY_CHARS]
    words: list[str] = []
    for word in fold(raw).split():
        word = word[:MAX_WORD_CHARS]
        if word not in words:
            words.append(word)
    meaningful = [w for w in words if w not in QUERY_STOPWORDS]
    words = meaningful or words
    if len(words) > MAX_QUERY_WORDS:
        words, truncated = words[:MAX_QUERY_WORDS], True
    return Query(raw.strip(), tuple(words), truncated)


def _clean(value: str) -> str:
    """Printable text only: control characters and lone surrogates become spaces."""
    return "".join(" " if unicodedata.category(c) in ("Cc", "Cs") else c for c in value)


@dataclass
class Hit:
    kind: str
    document: Document
    ref: str
    label: str
    heading: str
    body: str

    def url(self) -> str:
        slug = self.document.slug
        if self.kind == "unit":
            return url_for("public.unit", slug=slug, eid=self.ref)
        if self.kind == "petition":
            return url_for("provenance.petition", slug=slug, petition_id=int(self.ref))
        if self.kind == "theme":
            return url_for("provenance.theme", slug=slug, key=self.ref)
        return url_for("provenance.event", slug=slug, event_id=int(self.ref))


@dataclass
class Results:
    query: Query
    counts: dict[str, int] = field(default_factory=dict)
    hits: dict[str, list[Hit]] = field(default_factory=dict)
    seconds: float = 0.0
    reindexed: dict[str, float] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def search(services, backend: Backend, documents: list[Document], query: Query,
           kinds=KINDS, limit: int = PER_KIND, fresh: bool = True) -> Results:
    """The hits of `query` among `documents` (those the reader may read), best first per kind
    (`limit` of each; 0: only count them). The index is brought up to date first unless `fresh`
    is False (it just was)."""
    started = time.perf_counter()
    results = Results(query)
    if fresh:
        results.reindexed = ensure_fresh(services, backend, documents)
    by_id = {d.id: d for d in documents}
    if not query.words or not by_id:
        results.counts = {k: 0 for k in kinds}
        results.hits = {k: [] for k in kinds}
        results.seconds = time.perf_counter() - started
        return results
    ids = ",".join(str(int(i)) for i in by_id)  # integers from the database: safe to inline
    with services.engine.connect() as conn:
        if backend.dialect == "sqlite":
            match = _fts5_match(query)
            source = "search_fts JOIN search_entry e ON e.id = search_fts.rowid"
            condition = f"search_fts MATCH :match AND e.document_id IN ({ids})"
            order = "bm25(search_fts, 4.0, 1.0, 1.0), e.position"
            params = {"match": match}
        else:
            # Each word: its Spanish stem, or a word it begins (unstemmed: a stem of the beginning
            # of a word need not begin the word's stem). Words are [a-z0-9]+ (fold), and bound.
            terms = " && ".join(f"(to_tsquery('spanish', :w{i}) || to_tsquery('simple', :p{i}))"
                                for i in range(len(query.words)))
            source = f"search_entry e, (SELECT {terms} AS q) AS sq"
            condition = f"e.tsv @@ sq.q AND e.document_id IN ({ids})"
            order = "ts_rank(e.tsv, sq.q) DESC, e.position"
            params = {**{f"w{i}": w for i, w in enumerate(query.words)},
                      **{f"p{i}": f"{w}:*" for i, w in enumerate(query.words)}}
        counted = {r.kind: r.n for r in conn.execute(
            text(f"SELECT e.kind AS kind, count(*) AS n FROM {source} WHERE {condition} GROUP BY e.kind"), params)}
        for kind in kinds:
            results.counts[kind] = int(counted.get(kind, 0))
            results.hits[kind] = []
            if not results.counts[kind] or limit <= 0:
                continue
            rows = conn.execute(text(
                f"SELECT e.document_id, e.ref, e.label, e.heading, e.body FROM {source} "
                f"WHERE {condition} AND e.kind = :kind ORDER BY {order} LIMIT :limit"),
                {**params, "kind": kind, "limit": int(limit)})
            results.hits[kind] = [Hit(kind, by_id[r.document_id], r.ref, r.label, r.heading, r.body) for r in rows]
    results.seconds = time.perf_counter() - started
    return results


def _fts5_match(query: Query) -> str:
    """An FTS5 query from folded words only ([a-z0-9]+, each quoted): nothing the reader typed
    is read as FTS5 syntax (quotes, *, NEAR, -, AND/OR/NOT are plain words or gone)."""
    terms = [f'({{head body}} : "{w}" * OR stems : "{s}")' for w, s in zip(query.words, query.stems, strict=True)]
    return " AND ".join(terms)


# --- snippets ---------------------------------------------------------------------------------

_TOKEN = re.compile(r"\w+", re.UNICODE)


def _matches(query: Query):
    words, stems = query.words, set(query.stems)

    def match(token: str) -> bool:
        folded = fold(token)
        if not folded:
            return False
        return any(folded.startswith(w) for w in words) or any(stem(part) in stems for part in folded.split())

    return match


def highlight(value: str, query: Query) -> Markup:
    """`value` escaped, its words that match the query in <mark>."""
    return _marked(value, query, 0, None)


def snippet(value: str, query: Query, size: int = SNIPPET_WORDS) -> Markup:
    """About `size` words of `value` around its first stretch of matches, escaped, matches in <mark>;
    "…" where it is cut."""
    tokens = list(_TOKEN.finditer(value))
    if not tokens:
        return Markup("")
    if len(tokens) <= size:
        return _marked(value, query, 0, None)
    match = _matches(query)
    first = next((i for i, t in enumerate(tokens) if match(t.group())), 0)
    start = max(0, min(first - size // 4, len(tokens) - size))
    end = start + size
    begin = tokens[start].start() if start else 0
    stop = tokens[end].start() if end < len(tokens) else None
    marked = _marked(value, query, begin, stop)
    return Markup("{}{}{}").format("… " if begin else "", marked, " …" if stop is not None else "")


def _marked(value: str, query: Query, begin: int, stop: int | None) -> Markup:
    piece = value[begin:stop].strip() if stop is not None else value[begin:]
    match = _matches(query)
    out, last = [], 0
    for token in _TOKEN.finditer(piece):
        if match(token.group()):
            out.append(escape(piece[last:token.start()]))
            out.append(Markup("<mark>{}</mark>").format(token.group()))
            last = token.end()
    out.append(escape(piece[last:]))
    return Markup("").join(out)


# --- suggestions when nothing is found -------------------------------------------------------


def suggestions(services, backend: Backend, documents: list[Document], query: Query, limit: int = 3) -> list[str]:
    """Queries close to one that found nothing, made of the words of what the reader may read
    ("agau" → "agua"), each checked to find something: a query's unknown words are replaced by
    their nearest known words (fewest typing slips, then the most frequent)."""
    if not query.words or not documents:
        return []
    ids = [d.id for d in documents]
    vocabulary: Counter[str] = Counter()
    with services.engine.connect() as conn:
        for r in conn.execute(select(search_entry.c.label, search_entry.c.heading, search_entry.c.body)
                              .where(search_entry.c.document_id.in_(ids))):
            vocabulary.update(w for w in fold(f"{r.label} {r.heading} {r.body}").split() if len(w) > 2)
    if not vocabulary:
        return []
    known = list(vocabulary)
    options: list[list[str]] = []
    for word in query.words[:6]:
        if word in vocabulary or len(word) < 3:
            options.append([word])
            continue
        near = difflib.get_close_matches(word, known, n=12, cutoff=0.6)
        near.sort(key=lambda w: (_slips(word, w), -vocabulary[w]))
        options.append([w for w in near if _slips(word, w) <= max(1, len(word) // 4)][:limit])
    candidates = []
    if all(options):
        candidates = [" ".join(o[min(i, len(o) - 1)] for o in options) for i in range(limit)]
    kept = [o[0] for o in options if o]
    if kept and len(kept) < len(options):  # a word with no neighbour: the others alone
        candidates.append(" ".join(kept))
    found: list[str] = []
    for candidate in candidates:
        if candidate in found or candidate == " ".join(query.words):
            continue
        counted = search(services, backend, documents, parse_query(candidate), limit=0, fresh=False)
        if counted.total:
            found.append(candidate)
    return found[:limit]


def _slips(a: str, b: str) -> int:
    """Typing slips between two words: insertions, deletions, substitutions and swaps of two
    neighbouring letters (Damerau-Levenshtein, optimal string alignment)."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[len(b)]


def examples(services, documents: list[Document], limit: int = 6) -> list[str]:
    """Words worth searching for: the names of the readers' documents' survey themes, most
    raised first (no answers are read: the counts of coded answers only)."""

    if not documents:
        return []
    ids = [d.id for d in documents]
    db = services.db
    rows = db.execute(
        select(Theme.name, func.count(Coding.id).label("n"))
        .outerjoin(Coding, Coding.theme_id == Theme.id)
        .where(Theme.document_id.in_(ids))
        .group_by(Theme.id, Theme.name)
        .order_by(func.count(Coding.id).desc(), Theme.name)
        .limit(limit * 2)
    )
    names: list[str] = []
    for name, _n in rows:
        if name not in names:
            names.append(name)
    return names[:limit]


# --- pages ------------------------------------------------------------------------------------


def readable_documents(db) -> list[Document]:
    return [d for d in db.scalars(select(Document).order_by(Document.title)) if permissions.can_read(current_user, d)]


@bp.app_template_global()
def search_highlight(value: str, query: Query) -> Markup:
    return highlight(value or "", query)


@bp.app_template_global()
def search_snippet(value: str, query: Query) -> Markup:
    return snippet(value or "", query)


@bp.get("/search")
@limiter.limit(configured("SEARCH_RATE_LIMIT"))
def search_page():
    services = current_services()
    query = parse_query(request.args.get("q"))
    kind = request.args.get("kind")
    if kind not in KINDS:
        kind = None
    documents = readable_documents(services.db)
    results = None
    suggested: list[str] = []
    if query.words:
        kinds = (kind,) if kind else KINDS
        results = search(services, backend_of(current_app), documents, query, kinds=kinds,
                         limit=MAX_RESULTS if kind else PER_KIND)
        if not results.total:
            suggested = suggestions(services, backend_of(current_app), documents, query)
    return render_template(
        "search.html", query=query, results=results, kind=kind, kinds=KINDS, kind_labels=KIND_LABELS,
        suggested=suggested, examples=examples(services, documents) if not results or not results.total else [],
        typed=bool((request.args.get("q") or "").strip()), per_kind=PER_KIND,
    )


@bp.get("/api/v1/search")
@limiter.limit(configured("SEARCH_RATE_LIMIT"))
def search_api():

    services = current_services()
    raw = request.args.get("q")
    query = parse_query(raw)
    kind = request.args.get("kind")
    if kind is not None and kind not in KINDS:
        return problem(400, gettext("kind must be one of: %(kinds)s", kinds=", ".join(KINDS)))
    if not query.words:
        return problem(400, gettext("Give words to search for in q (letters or digits)."))
    documents = readable_documents(services.db)
    kinds = (kind,) if kind else KINDS
    results = search(services, backend_of(current_app), documents, query, kinds=kinds,
                     limit=MAX_RESULTS if kind else PER_KIND * 2)
    body = {
        "query": query.raw,
        "words": list(query.words),
        "truncated": query.truncated,
        "total": results.total,
        "counts": results.counts,
        "results": [
            {
                "kind": hit.kind,
                "document": hit.document.slug,
                "document_title": hit.document.title,
                "ref": hit.ref,
                "label": hit.label,
                "heading": hit.heading,
                "url": hit.url(),
                "snippet_html": str(snippet(hit.body, query)),
            }
            for k in kinds for hit in results.hits[k]
        ],
    }
    if not results.total:
        body["suggestions"] = suggestions(services, backend_of(current_app), documents, query)
    return jsonify(body)


#: The JSON endpoint in the API's OpenAPI document (editor.api collects OPENAPI_PATHS).
OPENAPI_PATHS = {
    "/api/v1/search": {
        "get": {
            "summary": "Full-text search across the live text, petitions, survey themes and citizen events "
                       "of the documents the caller may read (accent-insensitive, Spanish-aware)",
            "parameters": [
                {"name": "q", "in": "query", "required": True, "schema": {"type": "string"},
                 "description": "words to find (no operators: every word must match, as a prefix or by its stem)"},
                {"name": "kind", "in": "query", "required": False,
                 "schema": {"type": "string", "enum": list(KINDS)},
                 "description": "only this kind of result (up to 200 of them)"},
            ],
            "responses": {
                "200": {"description": "counts per kind and the best results, each with its page and a snippet "
                                       "(HTML: escaped text, matches in <mark>)"},
                "400": {"description": "no words to search for, or an unknown kind"},
            },
        }
    }
}
