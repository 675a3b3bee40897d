"""The database schema and its migrations (Alembic, in editor/migrations), and what the app does at start.

`prepare(engine)` runs in `create_app`:

* a database with no tables (a new one): every migration is run, up to the head revision (about
  35 ms for a new SQLite file, less than the `create_all` it replaces took);
* a database at the head revision: nothing (one query);
* tables but no `alembic_version` (made by a version of Constituent from before migrations, by
  `create_all`): missing tables are created as those versions did, the schema is compared with
  the models and, if it matches, stamped at the head revision; if not, the differences are named;
* behind the head revision: SQLite (the single-process default) is upgraded in place, after a
  copy of the file is kept beside it; any other database is refused until the operator runs
  `constituent db upgrade`. `CONSTITUENT_DB_AUTO_UPGRADE=1` (or `0`) decides instead.

All of it happens in one transaction holding a lock (`BEGIN IMMEDIATE` on SQLite, an advisory
lock on PostgreSQL), so several processes starting at once on one database do it once.
"""

from __future__ import annotations

import functools
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from sqlalchemy import Connection, Engine, MetaData, create_engine, event, inspect, text

from crdt.store import metadata as store_metadata

# Every model module, for the tables they register on Base.metadata (target_metadata).
from . import audit, cache, models, outbox, search  # noqa: F401, I001 - registers the tables
from .amendments import models as _amendments  # noqa: F401
from .assembly import models as _assembly  # noqa: F401
from .comments import models as _comments  # noqa: F401
from .db import Base, make_engine, use_wal
from .notifications import models as _notifications  # noqa: F401
from .participation import models as _participation  # noqa: F401
from .petitions import models as _petitions  # noqa: F401
from .provenance import models as _provenance  # noqa: F401
from .review import models as _review  # noqa: F401
from .stages import models as _stages  # noqa: F401
from .survey import models as _survey  # noqa: F401

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "alembic_version"
#: Key of the PostgreSQL advisory lock held while the schema is checked or migrated.
_PG_LOCK = 0x436F6E7374  # "Const"


class SchemaError(RuntimeError):
    """The database's schema is not one this version can use as it is: the message says what to do."""


def target_metadata() -> list[MetaData]:
    """Every table Constituent uses: the models (all imported above) and the update store's."""
    return [Base.metadata, store_metadata]


def table_names() -> set[str]:
    return {name for metadata in target_metadata() for name in metadata.tables}


# --- Alembic plumbing -------------------------------------------------------------------------


def alembic_config(url: str | None = None, script_location: str | Path | None = None, connection=None):
    """An Alembic configuration without an ini file: the migrations in this package."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(script_location or MIGRATIONS))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # ConfigParser interpolation
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@functools.lru_cache(maxsize=8)
def _script(script_location: str):
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(script_location=script_location))


def script(script_location: str | Path | None = None):
    return _script(str(script_location or MIGRATIONS))


def head(script_location: str | Path | None = None) -> str:
    heads = script(script_location).get_heads()
    if len(heads) != 1:
        raise SchemaError(f"the migrations have {len(heads)} heads ({', '.join(heads)}): merge them first")
    return heads[0]


def migration_context(connection: Connection, **options):
    """A MigrationContext configured as env.py configures it (for comparisons)."""
    from alembic.migration import MigrationContext

    opts = dict(context_options(connection), target_metadata=target_metadata())
    opts.update(options)
    return MigrationContext.configure(connection, opts=opts)


def context_options(connection: Connection) -> dict:
    """Options of Alembic's context, shared by env.py and the comparison."""
    return {
        "render_as_batch": connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        "compare_type": True,
        "compare_server_default": True,
        "include_name": _include_name,
    }


#: Made at each start by the code that uses them, per dialect, outside the models and migrations
#: (like the audit log's triggers): not differences. SQLite's FTS5 table `search_fts` and its
#: shadow tables are not Constituent's models' tables, so they are left out anyway.
RUNTIME_OBJECTS = {
    ("column", "search_entry", "tsv"),  # PostgreSQL: the tsvector of editor.search
    ("index", "search_entry", "ix_search_entry_tsv"),  # and its GIN index
}


def _include_name(name, type_, parent_names) -> bool:
    """Only Constituent's tables (a shared database may hold others), without RUNTIME_OBJECTS."""
    if type_ == "table":
        return name in table_names()
    return (type_, parent_names.get("table_name"), name) not in RUNTIME_OBJECTS


def _revision_of(connection: Connection) -> str | None:
    from alembic.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def differences(connection: Connection) -> list:
    """Alembic's differences between the database's schema and the models (empty: they match)."""
    from alembic.autogenerate import compare_metadata

    return compare_metadata(migration_context(connection), target_metadata())


# --- Engines and locks ------------------------------------------------------------------------


def engine_for(url_or_engine: str | Engine) -> tuple[Engine, bool]:
    """The engine migrations run on, and whether it was made here (to dispose of).

    For a SQLite file: an engine of its own, where SQLite's transactions cover DDL and start with
    `BEGIN IMMEDIATE` (a second process waits for the first to finish), and foreign keys are not
    enforced (batch migrations copy tables that others refer to).
    """
    if isinstance(url_or_engine, Engine):
        engine = url_or_engine
        if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
            return engine, False
        url = engine.url
    else:

        if not url_or_engine.startswith("sqlite"):
            return make_engine(url_or_engine), True
        from sqlalchemy.engine import make_url

        url = make_url(url_or_engine)
        if url.database in (None, "", ":memory:"):
            return make_engine(url_or_engine), True
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})


    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # the driver's own transaction handling skips DDL
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=30000")
        use_wal(cursor)
        cursor.execute("PRAGMA foreign_keys=OFF")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine, True


@contextmanager
def locked(url_or_engine: str | Engine) -> Iterator[Connection]:
    """A connection in a transaction that holds the schema lock; committed on success."""
    engine, own = engine_for(url_or_engine)
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK})
            yield connection
    finally:
        if own:
            engine.dispose()


# --- What the app and the command line do -----------------------------------------------------


@dataclass
class State:
    revision: str | None  # in alembic_version (None: no such table or no row)
    head: str
    tables: int  # Constituent's tables present
    known: bool = True  # the revision is one of this version's migrations

    @property
    def empty(self) -> bool:
        return self.tables == 0 and self.revision is None

    @property
    def legacy(self) -> bool:
        return self.tables > 0 and self.revision is None

    @property
    def describe(self) -> str:
        if self.empty:
            return "empty (no tables)"
        if self.legacy:
            return "tables without a migration revision (made before migrations): not stamped yet"
        if self.revision == self.head:
            return f"{self.revision} (head)"
        if not self.known:
            return f"{self.revision}, unknown to this version (made by a newer one?); head is {self.head}"
        return f"{self.revision}, behind head {self.head}: run `constituent db upgrade`"


def state(connection: Connection, script_location: str | Path | None = None) -> State:
    present = set(inspect(connection).get_table_names()) & table_names()
    revision = _revision_of(connection)
    known = revision is None or _known(revision, script_location)
    return State(revision=revision, head=head(script_location), tables=len(present), known=known)


def current(url_or_engine: str | Engine, script_location: str | Path | None = None) -> State:
    engine, own = (url_or_engine, False) if isinstance(url_or_engine, Engine) else engine_for(url_or_engine)
    try:
        with engine.connect() as connection:
            return state(connection, script_location)
    finally:
        if own:
            engine.dispose()


def _stamp(connection: Connection, revision: str, script_location=None) -> None:
    from alembic import command

    command.stamp(alembic_config(script_location=script_location, connection=connection), revision)


def _adopt(connection: Connection, script_location=None) -> None:
    """A database made by `create_all` before migrations: stamp it at head if it matches the models."""
    for metadata in target_metadata():
        metadata.create_all(connection)  # what those versions did at each start: add missing tables
    found = differences(connection)
    if found:
        listed = "\n".join(f"  - {diff!r}" for diff in found[:20])
        more = f"\n  … and {len(found) - 20} more" if len(found) > 20 else ""
        raise SchemaError(
            "This database was created before Constituent had migrations, and its schema differs from "
            f"this version's models:\n{listed}{more}\n"
            "Bring it in line (or restore a backup into a new database), then mark it with "
            "`constituent db stamp head`."
        )
    _stamp(connection, head(script_location), script_location)


def _migrate(connection: Connection, revision: str, script_location=None, *, down: bool = False) -> None:
    from alembic import command

    config = alembic_config(script_location=script_location, connection=connection)
    (command.downgrade if down else command.upgrade)(config, revision)


def _known(revision: str, script_location=None) -> bool:
    from alembic.util import CommandError

    try:
        return script(script_location).get_revision(revision) is not None
    except CommandError:
        return False


def _auto_upgrade(connection: Connection, auto_upgrade: bool | None) -> bool:
    if auto_upgrade is not None:
        return auto_upgrade
    return connection.dialect.name == "sqlite"


def _backup_sqlite(connection: Connection, revision: str) -> Path | None:
    """A copy of a SQLite file beside it before it is upgraded: `<name>.before-<revision>`."""
    database = connection.engine.url.database
    if not database or database == ":memory:":
        return None
    target = Path(f"{database}.before-{revision}")
    source = sqlite3.connect(database)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()
    return target


def prepare(engine: Engine, *, auto_upgrade: bool | None = None, script_location: str | Path | None = None) -> str:
    """Make the database ready for this version at application start; return what was done.

    Raises SchemaError (with what to do) when the database cannot be used as it is.
    """
    # At head: one read, no lock (the common case, and every start after the first).
    with engine.connect() as connection:
        if _revision_of(connection) == head(script_location):
            return "current"
    with locked(engine) as connection:
        now = state(connection, script_location)
        if now.revision == now.head:
            return "current"  # another process got there first
        if now.empty:
            _migrate(connection, now.head, script_location)  # every migration: ~35 ms for a new SQLite file
            return "created"
        if now.legacy:
            _adopt(connection, script_location)
            return "stamped"
        if not now.known:
            raise SchemaError(
                f"The database is at revision {now.revision}, which this version of Constituent does not know "
                f"(its newest is {now.head}): it was upgraded by a newer version. Run that version, or "
                "restore a backup made before the upgrade."
            )
        if not _auto_upgrade(connection, auto_upgrade):
            raise SchemaError(
                f"The database schema is at revision {now.revision}, behind this version's {now.head}. "
                "Back the database up, then run `constituent db upgrade` (with the same DATABASE_URL) "
                "before starting Constituent."
            )
        if connection.dialect.name == "sqlite":
            _backup_sqlite(connection, now.revision)
        _migrate(connection, now.head, script_location)
        return "upgraded"


def upgrade(url_or_engine: str | Engine, revision: str = "head", script_location=None) -> tuple[State, State]:
    """`constituent db upgrade`: from whatever the database holds to `revision` (running every
    migration on an empty database); return the states before and after."""
    with locked(url_or_engine) as connection:
        before = state(connection, script_location)
        if not before.known:
            raise SchemaError(f"The database is at {before.describe}: this version cannot upgrade it.")
        if before.legacy:
            _adopt(connection, script_location)
        _migrate(connection, revision, script_location)
        after = state(connection, script_location)
    return before, after


def downgrade(url_or_engine: str | Engine, revision: str, script_location=None) -> tuple[State, State]:
    with locked(url_or_engine) as connection:
        before = state(connection, script_location)
        _migrate(connection, revision, script_location, down=True)
        after = state(connection, script_location)
    return before, after


def stamp(url_or_engine: str | Engine, revision: str = "head", script_location=None) -> State:
    """Record a revision without running anything (for a schema brought in line by hand)."""
    with locked(url_or_engine) as connection:
        _stamp(connection, revision, script_location)
        return state(connection, script_location)


def check(url_or_engine: str | Engine) -> list:
    engine, own = (url_or_engine, False) if isinstance(url_or_engine, Engine) else engine_for(url_or_engine)
    try:
        with engine.connect() as connection:
            return differences(connection)
    finally:
        if own:
            engine.dispose()
