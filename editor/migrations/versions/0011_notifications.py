"""Mentions and notification preferences (issue 22): notifications rendered at read time (a
catalogue key and JSON arguments), the accounts' language, preferences per person, document and
kind, e-mail waiting for the daily digest, and marks of one-off notices already given.

Revision: 0011
Follows: 0010
Written: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Plain ADD COLUMN (SQLite does it in place): a batch copy would lose the tables' other constraints.
    op.add_column("user_account", sa.Column("language", sa.String(length=5), server_default="es", nullable=False))
    op.add_column("notification", sa.Column("kind", sa.String(length=20), server_default=sa.text("''"), nullable=False))
    op.add_column("notification", sa.Column("key", sa.Text(), server_default=sa.text("''"), nullable=False))
    op.add_column("notification", sa.Column("args", sa.Text(), server_default="{}", nullable=False))
    op.create_table(
        "notification_preference",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("in_app", sa.Boolean(), nullable=False),
        sa.Column("email", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "document_id", "kind"),
    )
    op.create_table(
        "notification_digest_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("args", sa.Text(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("sent_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_notification_digest_item_user_id", "notification_digest_item", ["user_id"])
    op.create_index("ix_notification_digest_item_sent_at", "notification_digest_item", ["sent_at"])
    op.create_table(
        "notification_mark",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=100), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "ref"),
    )


def downgrade() -> None:
    op.drop_table("notification_mark")
    op.drop_index("ix_notification_digest_item_sent_at", table_name="notification_digest_item")
    op.drop_index("ix_notification_digest_item_user_id", table_name="notification_digest_item")
    op.drop_table("notification_digest_item")
    op.drop_table("notification_preference")
    with op.batch_alter_table("notification") as batch:
        batch.drop_column("args")
        batch.drop_column("key")
        batch.drop_column("kind")
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("language")
