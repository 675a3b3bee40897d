"""The durable update store: an append-only log of Yjs updates per document, plus compacted snapshots.

Every update a room accepts is appended here (one transaction per batch: group commit) before
anyone else sees it. Loading a document replays its snapshot and then its log in order.
Compaction folds the log into a new snapshot by encoding a `Doc` that holds the whole state
(never `merge_updates`, whose cost grows superlinearly), inside one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from pycrdt import Doc
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    delete,
    func,
    insert,
    select,
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


class UpdateStore:
    """Append-only Yjs update log over SQLAlchemy Core (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create_schema(self) -> None:
        metadata.create_all(self.engine)

    def append(self, document: str, updates: list[bytes]) -> int:
        """Durably append updates in one transaction; return the id of the last one."""
        if not updates:
            raise ValueError("nothing to append")
        now = datetime.now(timezone.utc)
        rows = [dict(document=document, payload=update, created_at=now) for update in updates]
        with self.engine.begin() as conn:
            ids = conn.execute(
                insert(crdt_update).returning(crdt_update.c.id, sort_by_parameter_order=True), rows
            ).scalars().all()
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
        """Rebuild the document from its snapshot and the log after it, in log order."""
        doc = Doc()
        with self.engine.connect() as conn:
            snapshot = conn.execute(
                select(crdt_snapshot.c.payload, crdt_snapshot.c.last_update_id).where(
                    crdt_snapshot.c.document == document
                )
            ).first()
            last_id = 0
            if snapshot:
                doc.apply_update(snapshot.payload)
                last_id = snapshot.last_update_id
            rows = conn.execute(
                select(crdt_update.c.id, crdt_update.c.payload)
                .where(crdt_update.c.document == document, crdt_update.c.id > last_id)
                .order_by(crdt_update.c.id)
            )
            count = 0
            for row in rows:
                doc.apply_update(row.payload)
                last_id = row.id
                count += 1
        return LoadedDocument(doc=doc, last_update_id=last_id, log_length=count)

    def compact(self, document: str, doc: Doc, upto_id: int) -> None:
        """Replace the snapshot and every logged update up to `upto_id` by `doc`'s full state.

        `doc` must contain every update with id <= upto_id (the room calls this from its worker,
        between batches, when its replica is exactly the persisted state).
        """
        state = doc.get_update()
        now = datetime.now(timezone.utc)
        values = dict(document=document, payload=state, last_update_id=upto_id, updated_at=now)
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                stmt = postgresql.insert(crdt_snapshot).values(**values)
            else:
                stmt = sqlite.insert(crdt_snapshot).values(**values)
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[crdt_snapshot.c.document],
                    set_={k: v for k, v in values.items() if k != "document"},
                    where=crdt_snapshot.c.last_update_id <= upto_id,
                )
            )
            conn.execute(
                delete(crdt_update).where(
                    crdt_update.c.document == document, crdt_update.c.id <= upto_id
                )
            )

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
