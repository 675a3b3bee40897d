"""Alembic migrations (editor/migrations, editor/schema.py) on SQLite and PostgreSQL.

From an empty database to head, the schema is exactly the models' (Alembic's comparison, plus
the check constraints it does not compare): a model changed without a migration fails here.
The app works on a migrated database (accounts, documents, a live edit read back); a database
made by `create_all` before migrations is stamped and keeps its data; a database behind head is
upgraded in place on SQLite (with a copy kept) and refused on PostgreSQL until
`constituent db upgrade`; one from a newer version is refused.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import threading
import uuid
from pathlib import Path

import pytest
import sqlalchemy
from click.testing import CliRunner
from conftest import SMALL_BODY, require
from pycrdt import Doc, Map, XmlFragment
from sqlalchemy import inspect, select, text
from test_stages import text_node_in

from crdt import protocol
from crdt.store import UpdateStore
from editor import schema
from editor.cli import main as cli
from editor.db import make_engine

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PASSWORD = "correct horse battery"
MOBILITY = "00000000-0000-4000-8000-000000000004"  # "Toda persona tiene derecho a moverse."
NS = "/collab"


# --- databases --------------------------------------------------------------------------------


@pytest.fixture
def postgres_url():
    """A throwaway PostgreSQL database, dropped afterwards."""
    try:
        admin = make_engine(ADMIN_URL).execution_options(isolation_level="AUTOCOMMIT")
        name = f"constituent_mig_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any failure means no usable server
        require(False, f"PostgreSQL not reachable at 127.0.0.1:5432 as postgres: {exc}")
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db' / 'constituent.sqlite3'}"
    return request.getfixturevalue("postgres_url")


def _fingerprint(url: str) -> dict:
    """Everything about Constituent's tables that a query could notice: columns, keys, unique
    constraints, indexes, foreign keys and their actions, check constraints."""
    engine = make_engine(url)
    try:
        found = inspect(engine)
        names = set(found.get_table_names())
        result = {}
        for table in sorted(schema.table_names() & names):
            result[table] = {
                "columns": [(c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                            for c in found.get_columns(table)],
                "pk": found.get_pk_constraint(table)["constrained_columns"],
                "fks": sorted((tuple(fk["constrained_columns"]), fk["referred_table"], tuple(fk["referred_columns"]),
                               str(sorted(fk.get("options", {}).items()))) for fk in found.get_foreign_keys(table)),
                "unique": sorted(tuple(u["column_names"]) for u in found.get_unique_constraints(table)),
                "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]))
                                  for i in found.get_indexes(table)),
                "checks": sorted(c["sqltext"] for c in found.get_check_constraints(table)),
            }
        return result
    finally:
        engine.dispose()


def _create_all_the_old_way(url: str) -> None:
    """What create_app did before migrations: create_all of the models, the store and the audit log."""
    from editor import audit

    engine = make_engine(url)
    try:
        for metadata in schema.target_metadata():
            metadata.create_all(engine)
        audit.create_schema(engine)
    finally:
        engine.dispose()


def _revision(url: str) -> str | None:
    return schema.current(url).revision


# --- the app on a database --------------------------------------------------------------------


def _app(url: str, tmp_path: Path):
    from editor import create_app

    return create_app({
        "DATABASE_URL": url, "INSTANCE_PATH": str(tmp_path / "instance"), "SECRET_KEY": "test-secret",
        "ROOM_RESYNC_SECONDS": 3600, "ROOM_IDLE_SECONDS": 3600, "SOCKET_RATE": 0,
    })


def _close(app) -> None:
    services = app.extensions["constituent"]
    services.rooms.close_all()
    services.db.remove()
    services.engine.dispose()


def _seed(app, slug: str = "constitucion") -> None:
    from akoma_ntoso.safexml import parse_xml
    from editor.accounts import add_user
    from editor.documents import create_document

    services = app.extensions["constituent"]
    add_user(services.db, "ana@example.org", "committee", PASSWORD)
    create_document(services, slug, "Constitución", parse_xml(SMALL_BODY), published=True)
    services.db.remove()


def _sign_in(app, email: str):
    http = app.test_client()
    page = http.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
    signed = http.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert signed.status_code == 302, f"{email} could not sign in"
    return http


def _live_edit(app, slug: str, words: str) -> None:
    """Ana joins the document over /collab, syncs, and types `words` at the start of an article."""
    services = app.extensions["constituent"]
    http = _sign_in(app, "ana@example.org")
    client = services.socketio.test_client(app, namespace=NS, flask_test_client=http)
    assert client.emit("join", {"document": slug}, namespace=NS, callback=True).get("ok") is True
    doc = Doc()
    body = doc.get("body", type=XmlFragment)
    doc.get("meta", type=Map)
    client.emit("y", slug, protocol.sync_step1(doc.get_state()), namespace=NS)
    services.rooms.call(slug, lambda _doc: None)  # the worker has answered
    for event in client.get_received(NS):
        if event["name"] == "y":
            message = protocol.decode(event["args"][1])
            if isinstance(message, protocol.SyncMessage) and message.step != protocol.SyncStep.STEP1:
                doc.apply_update(message.data)
    assert "Toda persona tiene derecho a moverse." in str(body)
    before = doc.get_state()
    with doc.transaction():
        text_node_in(body, MOBILITY).insert(0, words)
    client.emit("y", slug, protocol.sync_update(doc.get_update(before)), namespace=NS)
    services.rooms.call(slug, lambda _doc: None)
    refused = [e for e in client.get_received(NS) if e["name"] not in ("y", "awareness")]
    assert not [e for e in refused if "error" in str(e).lower()], refused
    client.disconnect(namespace=NS)


def _stored_text(url: str, slug: str) -> str:
    engine = make_engine(url)
    try:
        return str(UpdateStore(engine).load(slug).doc.get("body", type=XmlFragment))
    finally:
        engine.dispose()


# --- a migration after head, in a copy of the migrations ----------------------------------------

PROBE = '''"""A probe: a column on `document`, added by copying the table on SQLite."""

import sqlalchemy as sa
from alembic import op

revision = "{rev}"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # On SQLite the table is rebuilt (copied, dropped, renamed): rows referring to it must survive.
    recreate = "always" if op.get_bind().dialect.name == "sqlite" else "auto"
    with op.batch_alter_table("document", recreate=recreate) as batch:
        batch.add_column(sa.Column("probe_note", sa.String(50), nullable=False, server_default="migrated"))


def downgrade() -> None:
    with op.batch_alter_table("document") as batch:
        batch.drop_column("probe_note")
'''


@pytest.fixture
def newer_migrations(tmp_path) -> Path:
    """This version's migrations plus one more after head (what the next release would ship)."""
    target = tmp_path / "migrations"
    shutil.copytree(schema.MIGRATIONS, target, ignore=shutil.ignore_patterns("__pycache__"))
    current_head = schema.head()
    (target / "versions" / "9999_probe.py").write_text(PROBE.format(rev="9999", down=current_head))
    return target


# --- from empty to head -------------------------------------------------------------------------


def test_migrations_from_empty_build_exactly_the_models_schema(database_url, tmp_path):
    before, after = schema.upgrade(database_url)
    assert before.empty and after.revision == schema.head()
    # Alembic's comparison of the migrated database with the models: no difference at all.
    assert schema.check(database_url) == []
    migrated = _fingerprint(database_url)
    assert set(migrated) == schema.table_names()

    # The same schema as create_all of the models, down to the check constraints (which Alembic's
    # comparison does not look at) and the foreign keys' ON DELETE actions.
    if database_url.startswith("sqlite"):
        reference_url = f"sqlite:///{tmp_path / 'reference.sqlite3'}"
        _create_all_the_old_way(reference_url)
        assert migrated == _fingerprint(reference_url)
    else:
        reference_url = database_url
        schema.downgrade(database_url, "base")
        assert _fingerprint(database_url) == {}  # downgrade to base drops every table
        _create_all_the_old_way(reference_url)
        assert _fingerprint(reference_url) == migrated


def test_the_app_works_on_a_migrated_database_and_db_upgrade_is_idempotent(database_url, tmp_path):
    runner = CliRunner()
    first = runner.invoke(cli, ["db", "upgrade", "--database", database_url])
    assert first.exit_code == 0, first.output
    assert "was: empty" in first.output and f"now: {schema.head()} (head)" in first.output

    app = _app(database_url, tmp_path)
    try:
        _seed(app)
        _live_edit(app, "constitucion", "Dicho de otro modo: ")
        outline = _sign_in(app, "ana@example.org").get("/api/v1/documents/constitucion")
        assert outline.status_code == 200
    finally:
        _close(app)
    assert "Dicho de otro modo: Toda persona tiene derecho a moverse." in _stored_text(database_url, "constitucion")

    # Again: nothing to do, and nothing lost.
    again = runner.invoke(cli, ["db", "upgrade", "--database", database_url])
    assert again.exit_code == 0, again.output
    assert "nothing to do" in again.output
    shown = runner.invoke(cli, ["db", "current", "--database", database_url])
    assert shown.exit_code == 0 and f"{schema.head()} (head)" in shown.output
    checked = runner.invoke(cli, ["db", "check", "--database", database_url])
    assert checked.exit_code == 0, checked.output

    app = _app(database_url, tmp_path)  # a restart on the same database
    try:
        services = app.extensions["constituent"]
        assert services.store.exists("constitucion")
        http = _sign_in(app, "ana@example.org")
        page = http.get("/api/v1/documents/constitucion")
        assert page.status_code == 200
        from editor import audit

        assert audit.verify(services.engine).ok  # the append-only triggers were recreated
        with pytest.raises(sqlalchemy.exc.DBAPIError, match="append-only"):
            with services.engine.begin() as conn:
                conn.execute(text("DELETE FROM audit_event"))
    finally:
        _close(app)
    assert "Dicho de otro modo" in _stored_text(database_url, "constitucion")


def test_a_new_database_is_migrated_when_the_app_starts(database_url, tmp_path):
    app = _app(database_url, tmp_path)
    _close(app)
    assert _revision(database_url) == schema.head()
    assert schema.check(database_url) == []


# --- databases made before migrations ------------------------------------------------------------


def test_a_database_made_by_create_all_is_stamped_and_keeps_its_data(database_url, tmp_path):
    from editor.accounts import add_user
    from editor.db import make_session

    _create_all_the_old_way(database_url)
    engine = make_engine(database_url)
    db = make_session(engine)
    add_user(db, "ana@example.org", "committee", PASSWORD)
    db.remove()
    engine.dispose()
    assert _revision(database_url) is None

    app = _app(database_url, tmp_path)
    try:
        _sign_in(app, "ana@example.org")  # the account made before still signs in
    finally:
        _close(app)
    assert _revision(database_url) == schema.head()


def test_an_old_database_whose_schema_differs_is_refused_naming_the_difference(tmp_path):
    from editor import create_app

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    _create_all_the_old_way(url)
    with sqlite3.connect(tmp_path / "old.sqlite3") as conn:
        conn.execute("ALTER TABLE document DROP COLUMN doctype")
    with pytest.raises(schema.SchemaError, match="created before Constituent had migrations") as refused:
        create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "test-secret"})
    assert "doctype" in str(refused.value) and "constituent db stamp" in str(refused.value)
    assert _revision(url) is None  # left as it was: not stamped


# --- behind head, and ahead of it -------------------------------------------------------------------


def _document_with_a_member(url: str, tmp_path: Path) -> None:
    app = _app(url, tmp_path)
    try:
        _seed(app)
        _live_edit(app, "constitucion", "Antes de migrar: ")
        from editor.models import Document, DocumentMember, User

        services = app.extensions["constituent"]
        document = services.db.scalar(select(Document).where(Document.slug == "constitucion"))
        user = services.db.scalar(select(User).where(User.email == "ana@example.org"))
        services.db.add(DocumentMember(document_id=document.id, user_id=user.id, role="committee"))
        services.db.commit()
        services.db.remove()
    finally:
        _close(app)


def _members(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.scalar(text("SELECT count(*) FROM document_member"))
    finally:
        engine.dispose()


def test_sqlite_behind_head_is_upgraded_at_start_keeping_a_copy_and_the_data(tmp_path, newer_migrations,
                                                                              monkeypatch):
    path = tmp_path / "db" / "constituent.sqlite3"
    url = f"sqlite:///{path}"
    _document_with_a_member(url, tmp_path)
    old_head = schema.head()
    monkeypatch.delenv("CONSTITUENT_DB_AUTO_UPGRADE", raising=False)
    monkeypatch.setattr(schema, "MIGRATIONS", newer_migrations)  # the next release's migrations

    app = _app(url, tmp_path)
    try:
        services = app.extensions["constituent"]
        with services.engine.connect() as conn:
            assert conn.scalar(text("SELECT probe_note FROM document WHERE slug = 'constitucion'")) == "migrated"
        _live_edit(app, "constitucion", "Después: ")
    finally:
        _close(app)
    assert _revision(url) == "9999"
    # The table copy did not cascade into the rows referring to the document.
    assert _members(url) == 1
    assert "Después: Antes de migrar: Toda persona" in _stored_text(url, "constitucion")
    # The file as it was before the upgrade, beside it.
    backup = Path(f"{path}.before-{old_head}")
    with sqlite3.connect(backup) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (old_head,)
        assert "probe_note" not in [row[1] for row in conn.execute("PRAGMA table_info(document)")]


def test_postgresql_behind_head_is_refused_until_db_upgrade(postgres_url, tmp_path, newer_migrations, monkeypatch):
    from editor import create_app

    _document_with_a_member(postgres_url, tmp_path)
    old_head = schema.head()
    monkeypatch.delenv("CONSTITUENT_DB_AUTO_UPGRADE", raising=False)
    monkeypatch.setattr(schema, "MIGRATIONS", newer_migrations)

    with pytest.raises(schema.SchemaError, match="constituent db upgrade") as refused:
        create_app({"DATABASE_URL": postgres_url, "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "test-secret"})
    assert f"at revision {old_head}, behind this version's 9999" in str(refused.value)
    assert _revision(postgres_url) == old_head  # nothing was changed

    shown = CliRunner().invoke(cli, ["db", "current", "--database", postgres_url])
    assert shown.exit_code == 1 and "behind head 9999" in shown.output
    upgraded = CliRunner().invoke(cli, ["db", "upgrade", "--database", postgres_url])
    assert upgraded.exit_code == 0, upgraded.output
    assert f"was: {old_head}" in upgraded.output and "now: 9999 (head)" in upgraded.output

    app = _app(postgres_url, tmp_path)
    try:
        _live_edit(app, "constitucion", "Después: ")
    finally:
        _close(app)
    assert _members(postgres_url) == 1
    assert "Después: Antes de migrar: Toda persona" in _stored_text(postgres_url, "constitucion")


def test_the_choice_to_upgrade_at_start_can_be_overridden(tmp_path, newer_migrations, monkeypatch):
    """CONSTITUENT_DB_AUTO_UPGRADE=0 makes the application refuse an old schema at start, even on
    SQLite (which it upgrades by default); =1 upgrades it."""
    from editor import create_app

    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    schema.upgrade(url)
    monkeypatch.setattr(schema, "MIGRATIONS", newer_migrations)
    settings = {"DATABASE_URL": url, "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "test-secret"}
    monkeypatch.setenv("CONSTITUENT_DB_AUTO_UPGRADE", "0")
    with pytest.raises(schema.SchemaError, match="constituent db upgrade"):
        create_app(settings)
    assert _revision(url) != "9999"
    monkeypatch.setenv("CONSTITUENT_DB_AUTO_UPGRADE", "1")
    app = create_app(settings)
    try:
        assert _revision(url) == "9999"
    finally:
        services = app.extensions["constituent"]
        services.rooms.close_all()
        services.engine.dispose()


def test_a_database_from_a_newer_version_is_refused(tmp_path, newer_migrations):
    from editor import create_app

    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    schema.upgrade(url, script_location=newer_migrations)
    assert _revision(url) == "9999"
    with pytest.raises(schema.SchemaError, match="does not know"):
        create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "test-secret"})
    shown = CliRunner().invoke(cli, ["db", "current", "--database", url])
    assert shown.exit_code == 1 and "9999, unknown to this version" in shown.output
    refused = CliRunner().invoke(cli, ["db", "upgrade", "--database", url])
    assert refused.exit_code == 1 and "cannot upgrade it" in refused.output
    assert _revision(url) == "9999"


# --- several processes starting at once ----------------------------------------------------------------


def test_apps_starting_together_on_a_new_database_migrate_it_once(database_url):
    outcomes, errors = [], []

    def start():
        engine = make_engine(database_url)
        try:
            outcomes.append(schema.prepare(engine))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert sorted(outcomes) == ["created", "current", "current", "current"]
    assert schema.check(database_url) == []


def test_a_failing_migration_leaves_the_database_as_it_was(database_url, tmp_path):
    schema.upgrade(database_url)
    old_head = schema.head()
    scripts = tmp_path / "broken"
    shutil.copytree(schema.MIGRATIONS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "9999_probe.py").write_text(PROBE.format(rev="9999", down=old_head).replace(
        '        batch.add_column(sa.Column("probe_note", sa.String(50), nullable=False, server_default="migrated"))\n',
        '        batch.add_column(sa.Column("probe_note", sa.String(50), nullable=False, server_default="migrated"))\n'
        '    op.create_table("probe_table", sa.Column("id", sa.Integer, primary_key=True))\n'
        '    op.execute("SELECT no_such_function()")\n'))
    with pytest.raises(sqlalchemy.exc.DBAPIError, match="no_such_function"):
        schema.upgrade(database_url, script_location=scripts)
    assert _revision(database_url) == old_head
    engine = make_engine(database_url)
    try:
        found = inspect(engine)
        assert "probe_table" not in found.get_table_names()
        assert "probe_note" not in [c["name"] for c in found.get_columns("document")]
    finally:
        engine.dispose()
    assert schema.check(database_url) == []
