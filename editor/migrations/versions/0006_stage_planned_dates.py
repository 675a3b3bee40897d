"""Stages get optional planned dates (issue 21: the process page's timeline and deadlines).

Revision: 0006
Follows: 0005
Written: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stage") as batch:
        batch.add_column(sa.Column("planned_start", sa.Date(), nullable=True))
        batch.add_column(sa.Column("planned_end", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("stage") as batch:
        batch.drop_column("planned_end")
        batch.drop_column("planned_start")
