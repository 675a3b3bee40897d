"""Residents follow a document or a clause (issue 21); a petition's public outcome: the
petitioner may publish their review comment, and the committee publishes its reason when a
petition was not incorporated.

Revision: 0009
Follows: 0008
Written: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Plain ADD COLUMN (SQLite does it in place): a batch copy would lose petition_review's CHECK.
    op.add_column("petition_review", sa.Column("publish_comment", sa.Boolean(), server_default="0", nullable=False))
    op.add_column("petition", sa.Column("outcome_reason", sa.Text(), server_default=sa.text("''"), nullable=False))
    op.create_table(
        "participant_follow",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("unit_guid", sa.String(length=36), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("notified_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(["participant_id"], ["participant.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("participant_id", "document_id", "unit_guid", name="uq_participant_follow"),
    )
    op.create_index("ix_participant_follow_participant_id", "participant_follow", ["participant_id"])
    op.create_index("ix_participant_follow_document_id", "participant_follow", ["document_id"])


def downgrade() -> None:
    op.drop_index("ix_participant_follow_document_id", table_name="participant_follow")
    op.drop_index("ix_participant_follow_participant_id", table_name="participant_follow")
    op.drop_table("participant_follow")
    op.drop_column("petition", "outcome_reason")
    op.drop_column("petition_review", "publish_comment")
