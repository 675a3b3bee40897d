"""The update store on PostgreSQL (the scale-out database): same guarantees as on SQLite."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest
from conftest import require
from pycrdt import XmlFragment
from test_store import _typing_updates

from crdt.store import UpdateStore
from editor.db import make_engine

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def postgres_store():
    import sqlalchemy

    try:
        admin = make_engine(ADMIN_URL).execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            name = f"constituent_test_{uuid.uuid4().hex[:10]}"
            conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any failure means no usable server
        require(False, f"PostgreSQL not reachable at 127.0.0.1:5432 as postgres: {exc}")
    engine = make_engine(f"postgresql://postgres@127.0.0.1:5432/{name}")
    store = UpdateStore(engine)
    store.create_schema()
    yield store
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(sqlalchemy.text(f'DROP DATABASE "{name}"'))
    admin.dispose()


def test_postgres_store_keeps_updates_written_after_a_compaction(postgres_store):
    updates, expected = _typing_updates(60)
    postgres_store.append("doc", updates[:40])
    assert postgres_store.compact("doc") == 40
    assert postgres_store.log_length("doc") == 0
    postgres_store.append("doc", updates[40:])
    reloaded = postgres_store.load("doc")
    assert expected in str(reloaded.doc.get("body", type=XmlFragment))
    assert reloaded.log_length == len(updates) - 40


def test_postgres_compaction_twice_keeps_the_newest_snapshot(postgres_store):
    updates, expected = _typing_updates(30)
    for chunk in (updates[:10], updates[10:20], updates[20:]):
        postgres_store.append("doc", chunk)
        postgres_store.compact("doc")
    assert expected in str(postgres_store.load("doc").doc.get("body", type=XmlFragment))


def test_postgres_a_late_commit_below_the_snapshot_is_not_lost(postgres_store):
    """Two processes append to one document: ids are handed out before commit, so a row with a
    lower id than the snapshot's can become visible after a compaction. Loading must not skip it."""
    from pycrdt import Doc, Text
    from sqlalchemy import insert

    from crdt.store import crdt_update

    updates, expected = _typing_updates(20)
    postgres_store.append("doc", updates[:10])
    other = Doc()  # another process's client, writing something independent
    other.get("note", type=Text).insert(0, "nota")
    late = other.get_update()
    late_id = postgres_store.append("doc", [late])  # the id the slower process took…
    with postgres_store.engine.begin() as conn:  # …whose commit becomes visible only after the compaction
        conn.execute(crdt_update.delete().where(crdt_update.c.id == late_id))
    postgres_store.append("doc", updates[10:])
    postgres_store.compact("doc")
    with postgres_store.engine.begin() as conn:
        conn.execute(insert(crdt_update).values(id=late_id, document="doc", payload=late,
                                                created_at=datetime.now(timezone.utc)))
    loaded = postgres_store.load("doc").doc
    assert expected in str(loaded.get("body", type=XmlFragment))
    assert str(loaded.get("note", type=Text)) == "nota"
    assert postgres_store.compact("doc") == 1  # the next compaction folds it in
    assert str(postgres_store.load("doc").doc.get("note", type=Text)) == "nota"


def test_postgres_concurrent_appends_and_compactions_lose_nothing(postgres_store):
    """Several processes' rooms append and compact the same document at once."""
    import threading

    updates, expected = _typing_updates(300)
    chunks = [updates[i:i + 10] for i in range(0, len(updates), 10)]
    errors = []

    def writer():
        try:
            for chunk in chunks:  # appends in causal order (one client typing)
                postgres_store.append("doc", chunk)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def compactor():
        try:
            for _ in range(15):
                postgres_store.compact("doc")
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer)] + [threading.Thread(target=compactor) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert expected in str(postgres_store.load("doc").doc.get("body", type=XmlFragment))
