"""Amendments to amendments, compromises, rebases and commissions (issue 23).

Revision: 0014
Follows: 0013
Written: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)
EMPTY = sa.text("''")


def upgrade() -> None:
    op.create_table(
        "commission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("document_id", "number"),
    )
    op.create_index("ix_commission_document_id", "commission", ["document_id"])
    op.create_table(
        "commission_unit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("commission_id", sa.Integer(), nullable=False),
        sa.Column("guid", sa.String(length=36), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["commission_id"], ["commission.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("commission_id", "guid"),
    )
    op.create_index("ix_commission_unit_commission_id", "commission_unit", ["commission_id"])
    op.create_table(
        "commission_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("commission_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("user_name", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(["commission_id"], ["commission.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("commission_id", "user_id"),
    )
    op.create_index("ix_commission_member_commission_id", "commission_member", ["commission_id"])
    op.create_table(
        "amendment_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("amendment_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("wording", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("user_name", sa.String(length=120), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["amendment_id"], ["amendment.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_amendment_revision_amendment_id", "amendment_revision", ["amendment_id"])
    with op.batch_alter_table("amendment") as batch:
        batch.add_column(sa.Column("parent_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("relation", sa.String(length=20), server_default=EMPTY, nullable=False))
        batch.add_column(sa.Column("replaces", sa.Text(), server_default=EMPTY, nullable=False))
        batch.add_column(sa.Column("commission_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_amendment_parent_id", "amendment", ["parent_id"], ["id"], ondelete="SET NULL")
        batch.create_foreign_key("fk_amendment_commission_id", "commission", ["commission_id"], ["id"],
                                 ondelete="SET NULL")
        batch.create_index("ix_amendment_parent_id", ["parent_id"])
        batch.create_index("ix_amendment_commission_id", ["commission_id"])
    op.add_column("amendment_target", sa.Column("reserved_by", sa.Integer(), nullable=True))
    op.add_column("amendment_event", sa.Column("note", sa.Text(), server_default=EMPTY, nullable=False))


def downgrade() -> None:
    op.drop_column("amendment_event", "note")
    op.drop_column("amendment_target", "reserved_by")
    with op.batch_alter_table("amendment") as batch:
        batch.drop_index("ix_amendment_commission_id")
        batch.drop_index("ix_amendment_parent_id")
        batch.drop_constraint("fk_amendment_commission_id", type_="foreignkey")
        batch.drop_constraint("fk_amendment_parent_id", type_="foreignkey")
        batch.drop_column("commission_id")
        batch.drop_column("replaces")
        batch.drop_column("relation")
        batch.drop_column("parent_id")
    op.drop_index("ix_amendment_revision_amendment_id", table_name="amendment_revision")
    op.drop_table("amendment_revision")
    op.drop_index("ix_commission_member_commission_id", table_name="commission_member")
    op.drop_table("commission_member")
    op.drop_index("ix_commission_unit_commission_id", table_name="commission_unit")
    op.drop_table("commission_unit")
    op.drop_index("ix_commission_document_id", table_name="commission")
    op.drop_table("commission")
