"""The full-text search index (editor.search) and the cache's generation counters (editor.cache).

Revision: 0002
Follows: 0001
Written: 2026-11-21

What depends on the database is made by editor.search at each start, not here: SQLite's FTS5
table `search_fts`, PostgreSQL's `search_entry.tsv` column and its GIN index (see
editor.schema.RUNTIME_OBJECTS).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cache_generation",
        sa.Column("document_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("document_id"),
    )

    op.create_table(
        "search_entry",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("part", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("ref", sa.String(length=255), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("heading", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("extra", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,  # an entry's id is its FTS5 row's: never reused
    )
    op.create_index("ix_search_entry_document", "search_entry", ["document_id", "part"], unique=False)

    op.create_table(
        "search_state",
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("part", sa.String(length=10), nullable=False),
        sa.Column("fingerprint", sa.String(length=80), nullable=False),
        sa.Column("indexed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("document_id", "part"),
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS search_fts")  # rows keyed by search_entry ids
    op.drop_table("search_state")
    op.drop_table("search_entry")
    op.drop_table("cache_generation")
