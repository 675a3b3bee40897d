"""Petition references resolved against a chosen text (issue 22): the version a petition's
references were last linked against (NULL: the live text, or never linked).

Revision: 0010
Follows: 0009
Written: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (SQLite does it in place): a batch copy would lose the table's other constraints.
    op.add_column("petition", sa.Column("references_version", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("petition", "references_version")
