"""Sessions ended by signing out: a copied session cookie stops working when its session signs
out, not only after "sign out everywhere".

Revision: 0004
Follows: 0003
Written: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ended_session",
        sa.Column("sid", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sid"),
    )
    op.create_index("ix_ended_session_user_id", "ended_session", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_ended_session_user_id", table_name="ended_session")
    op.drop_table("ended_session")
