"""The update store on PostgreSQL (the scale-out database): same guarantees as on SQLite."""

from __future__ import annotations

import uuid

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
    loaded = postgres_store.load("doc")
    postgres_store.compact("doc", loaded.doc, loaded.last_update_id)
    assert postgres_store.log_length("doc") == 0
    postgres_store.append("doc", updates[40:])
    reloaded = postgres_store.load("doc")
    assert expected in str(reloaded.doc.get("body", type=XmlFragment))
    assert reloaded.log_length == len(updates) - 40


def test_postgres_compaction_twice_keeps_the_newest_snapshot(postgres_store):
    updates, expected = _typing_updates(30)
    for chunk in (updates[:10], updates[10:20], updates[20:]):
        postgres_store.append("doc", chunk)
        loaded = postgres_store.load("doc")
        postgres_store.compact("doc", loaded.doc, loaded.last_update_id)
    assert expected in str(postgres_store.load("doc").doc.get("body", type=XmlFragment))
