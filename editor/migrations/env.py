"""Alembic's environment for Constituent: the models and the update store, on SQLite or PostgreSQL.

Run through `constituent db …` (editor.cli) or editor.schema, which pass an open connection in
`config.attributes["connection"]` (or set sqlalchemy.url). Alembic's own command works with an
ini file whose script_location is editor/migrations; the URL then comes from sqlalchemy.url,
else DATABASE_URL.
"""

from __future__ import annotations

import os

from alembic import context

from editor.schema import context_options, engine_for, target_metadata

config = context.config


def run_migrations_offline() -> None:
    """SQL printed instead of run (`--sql`)."""
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("DATABASE_URL")
    context.configure(
        url=url,
        target_metadata=target_metadata(),
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata(), **context_options(connection))
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit("no database: set DATABASE_URL (or sqlalchemy.url)")
    engine, own = engine_for(url)
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        if own:
            engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
