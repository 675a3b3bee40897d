"""The durable update store: an append-only log of Yjs updates per document, plus compacted snapshots.

Every update a room accepts is appended here (one transaction per batch: group commit) before
anyone else sees it. Loading a document replays its snapshot and then its log in order.
Compaction folds the log into a new snapshot by encoding a `Doc` that holds the whole state
(never `merge_updates`, whose cost grows superlinearly), inside one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from pycrdt import Doc
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    Row,
    String,
    Table,
    delete,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite

metadata = MetaData()

# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL wants a BIGINT identity.
_id_type = BigInteger().with_variant(Integer(), "sqlite")

crdt_update = Table(
    "crdt_update",
    metadata,
    Column("id", _id_type, primary_key=True, autoincrement=True),
    Column("document", String(200), nullable=False, index=True),
    Column("payload", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # Ids must never be reused: a snapshot says "everything up to id N", and SQLite without
    # AUTOINCREMENT hands out small ids again once compaction has emptied the table.
    sqlite_autoincrement=True,
)

crdt_snapshot = Table(
    "crdt_snapshot",
    metadata,
    Column("document", String(200), primary_key=True),
    Column("payload", LargeBinary, nullable=False),
    Column("last_update_id", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)


@dataclass
class LoadedDocument:
    doc: Doc
    last_update_id: int
    log_length: int  # updates in the log after the snapshot


def version_columns(document):
    """What a document's stored text is made of, as four scalar subqueries for `document` (a name
    or a bind parameter): the snapshot's last update id and time of compaction, and the log's
    length and highest id. Any stored update changes them (also one committed late with a lower
    id, on PostgreSQL with several processes: the length grows), and so does a compaction."""

    def scalar(column, where):
        return select(column).where(where).scalar_subquery()

    return (
        scalar(crdt_snapshot.c.last_update_id, crdt_snapshot.c.document == document),
        scalar(crdt_snapshot.c.updated_at, crdt_snapshot.c.document == document),
        scalar(func.count(), crdt_update.c.document == document),
        scalar(func.max(crdt_update.c.id), crdt_update.c.document == document),
    )


def text_versions(conn: Connection, documents: list[str]) -> dict[str, str]:
    """Per document, a short fingerprint of its stored text (see version_columns); equal
    fingerprints mean the same stored text."""
    if not documents:
        return {}
    logs = {name: (int(top or 0), int(n)) for name, top, n in conn.execute(
        select(crdt_update.c.document, func.max(crdt_update.c.id), func.count())
        .where(crdt_update.c.document.in_(documents)).group_by(crdt_update.c.document))}
    snapshots = {name: (int(last or 0), str(at)) for name, last, at in conn.execute(
        select(crdt_snapshot.c.document, crdt_snapshot.c.last_update_id, crdt_snapshot.c.updated_at)
        .where(crdt_snapshot.c.document.in_(documents)))}
    found = {}
    for name in documents:
        top, n = logs.get(name, (0, 0))
        last, at = snapshots.get(name, (0, ""))
        found[name] = f"u{top}:{n}:{last}:{at}"[:80]
    return found


def _lock_key(document: str) -> str:
    return f"crdt-log:{document}"


class UpdateStore:
    """Append-only Yjs update log over SQLAlchemy Core (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create_schema(self) -> None:
        metadata.create_all(self.engine)

    def append(self, document: str, updates: list[bytes], also: Callable[[Connection], None] | None = None,
               guard: AbstractContextManager | None = None) -> int:
        """Durably append updates in one transaction; return the id of the last one.

        `also(connection)` writes the application's rows for this batch (its audit entries) in the
        same transaction: one batch, one commit. `guard` is entered before the transaction begins
        (a lock the application always takes before writing those rows, so that the order of locks
        is the same everywhere)."""
        if not updates:
            raise ValueError("nothing to append")
        now = datetime.now(timezone.utc)
        rows = [dict(document=document, payload=update, created_at=now) for update in updates]
        with guard if guard is not None else nullcontext(), self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":  # see compact(): no id handed out during a compaction
                conn.execute(text("SELECT pg_advisory_xact_lock_shared(hashtext(:key))"),
                             {"key": _lock_key(document)})
            ids = conn.execute(
                insert(crdt_update).returning(crdt_update.c.id, sort_by_parameter_order=True), rows
            ).scalars().all()
            if also is not None:
                also(conn)
        return int(ids[-1])

    def exists(self, document: str) -> bool:
        with self.engine.connect() as conn:
            for table in (crdt_snapshot, crdt_update):
                found = conn.execute(
                    select(table.c.document).where(table.c.document == document).limit(1)
                ).first()
                if found:
                    return True
        return False

    def load(self, document: str) -> LoadedDocument:
        """Rebuild the document from its snapshot and every update still in the log, in log order.

        Every logged row is applied, not only those with an id above the snapshot's: with several
        processes appending to PostgreSQL, a transaction can commit an id lower than one a
        compaction has already folded (ids are handed out before commit). Compaction deletes
        exactly the rows it folded, so a row in the log was never folded; applying an update twice
        is harmless in Yjs.
        """
        with self.engine.connect() as conn:
            snapshot, rows = self._read(conn, document)
        return self._rebuild(snapshot, rows)

    @staticmethod
    def _read(conn: Connection, document: str) -> tuple[Row[Any, Any] | None, Sequence[Row[Any, Any]]]:
        snapshot = conn.execute(
            select(crdt_snapshot.c.payload, crdt_snapshot.c.last_update_id).where(crdt_snapshot.c.document == document)
        ).first()
        rows = conn.execute(
            select(crdt_update.c.id, crdt_update.c.payload)
            .where(crdt_update.c.document == document)
            .order_by(crdt_update.c.id)
        ).all()
        return snapshot, rows

    @staticmethod
    def _rebuild(snapshot: Row[Any, Any] | None, rows: Sequence[Row[Any, Any]]) -> LoadedDocument:
        doc: Doc = Doc()
        last_id = 0
        if snapshot:
            doc.apply_update(snapshot.payload)
            last_id = snapshot.last_update_id
        for row in rows:
            doc.apply_update(row.payload)
            last_id = max(last_id, row.id)
        return LoadedDocument(doc=doc, last_update_id=last_id, log_length=len(rows))

    def compact(self, document: str) -> int:
        """Fold the snapshot and the logged updates into a new snapshot; return how many were folded.

        The new state is built from what the store holds, not from a room's replica: with several
        processes, a replica may not have received yet an update another process has logged, and
        folding the replica would delete that update. Compactions of one document are serialised
        (a PostgreSQL advisory lock; SQLite has one writer), and only rows read are deleted.

        On PostgreSQL, appends hold the same lock shared until they commit, so every id handed
        out before the compaction is committed when it reads: the rows it folds have no gap
        (a snapshot cannot hold an update still waiting for one it depends on).
        """
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": _lock_key(document)})
            else:
                # Take SQLite's write lock before reading: a read transaction that later writes
                # fails at once if another connection committed in between.
                conn.execute(delete(crdt_snapshot).where(text("0")))
            snapshot, rows = self._read(conn, document)
            if not rows:
                return 0
            loaded = self._rebuild(snapshot, rows)
            now = datetime.now(timezone.utc)
            values = dict(document=document, payload=loaded.doc.get_update(),
                          last_update_id=loaded.last_update_id, updated_at=now)
            stmt: postgresql.Insert | sqlite.Insert
            if conn.dialect.name == "postgresql":
                stmt = postgresql.insert(crdt_snapshot).values(**values)
            else:
                stmt = sqlite.insert(crdt_snapshot).values(**values)
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[crdt_snapshot.c.document],
                    set_={k: v for k, v in values.items() if k != "document"},
                )
            )
            ids = [row.id for row in rows]
            for start in range(0, len(ids), 500):
                conn.execute(delete(crdt_update).where(crdt_update.c.id.in_(ids[start:start + 500])))
        return len(ids)

    def log_length(self, document: str) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count()).select_from(crdt_update).where(crdt_update.c.document == document)
                ).scalar_one()
            )

    def delete_document(self, document: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(crdt_update).where(crdt_update.c.document == document))
            conn.execute(delete(crdt_snapshot).where(crdt_snapshot.c.document == document))
