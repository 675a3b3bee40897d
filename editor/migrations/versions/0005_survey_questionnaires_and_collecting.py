"""Survey questionnaires answered in Constituent (issue 20): a questionnaire's status, version and
bilingual wording; each question's kind, options and section; how each respondent's answers came
in (web, kiosk, tablet, paper), with what finds ballot stuffing; kiosks; paper forms and their
double keying.

Revision: 0005
Follows: 0004
Written: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("survey") as batch:
        batch.add_column(sa.Column("status", sa.String(length=10), server_default="imported", nullable=False))
        batch.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
        batch.add_column(sa.Column("supersedes_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("title_en", sa.String(length=300), server_default="", nullable=False))
        batch.add_column(sa.Column("intro", sa.Text(), server_default="", nullable=False))
        batch.add_column(sa.Column("intro_en", sa.Text(), server_default="", nullable=False))
        batch.add_column(sa.Column("minutes", sa.Integer(), server_default="15", nullable=False))
        batch.add_column(sa.Column("opened_at", WHEN, nullable=True))
        batch.add_column(sa.Column("closed_at", WHEN, nullable=True))
        batch.create_foreign_key("fk_survey_supersedes", "survey", ["supersedes_id"], ["id"], ondelete="SET NULL")

    with op.batch_alter_table("survey_question") as batch:
        batch.add_column(sa.Column("key", sa.String(length=60), server_default="", nullable=False))
        batch.add_column(sa.Column("kind", sa.String(length=12), server_default="", nullable=False))
        batch.add_column(sa.Column("required", sa.Boolean(), server_default="0", nullable=False))
        batch.add_column(sa.Column("section", sa.String(length=200), server_default="", nullable=False))
        batch.add_column(sa.Column("section_en", sa.String(length=200), server_default="", nullable=False))
        batch.add_column(sa.Column("text_en", sa.Text(), server_default="", nullable=False))
        batch.add_column(sa.Column("options", sa.Text(), server_default="", nullable=False))

    with op.batch_alter_table("respondent") as batch:
        batch.add_column(sa.Column("channel", sa.String(length=10), server_default="import", nullable=False))
        batch.add_column(sa.Column("received_at", WHEN, nullable=True))
        batch.add_column(sa.Column("collector_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("client_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("challenge", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("fingerprint", sa.String(length=32), server_default="", nullable=False))
        batch.add_column(sa.Column("origin", sa.String(length=32), server_default="", nullable=False))
        batch.add_column(sa.Column("suspect", sa.String(length=200), server_default="", nullable=False))
        batch.create_index("ix_respondent_fingerprint", ["fingerprint"])
        batch.create_unique_constraint("uq_respondent_client", ["survey_id", "client_id"])
        batch.create_unique_constraint("uq_respondent_challenge", ["survey_id", "challenge"])
        batch.create_foreign_key("fk_respondent_collector", "user_account", ["collector_id"], ["id"],
                                 ondelete="SET NULL")

    op.create_table(
        "survey_kiosk",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("started_by", sa.Integer(), nullable=True),
        sa.Column("started_at", WHEN, nullable=False),
        sa.Column("until", WHEN, nullable=False),
        sa.Column("ended_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(["started_by"], ["user_account.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["survey_id"], ["survey.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_survey_kiosk_survey_id", "survey_kiosk", ["survey_id"])
    op.create_table(
        "survey_paper_form",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("receipt_hash", sa.String(length=64), nullable=False),
        sa.Column("printed_at", WHEN, nullable=False),
        sa.Column("respondent_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["respondent_id"], ["respondent.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["survey_id"], ["survey.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("receipt_hash"),
        sa.UniqueConstraint("survey_id", "number"),
    )
    op.create_index("ix_survey_paper_form_survey_id", "survey_paper_form", ["survey_id"])
    op.create_table(
        "survey_paper_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("entered_by", sa.Integer(), nullable=True),
        sa.Column("entered_at", WHEN, nullable=False),
        sa.Column("answers", sa.Text(), nullable=False),
        sa.Column("responded_on", sa.String(length=10), nullable=False),
        sa.Column("resolution", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["entered_by"], ["user_account.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["form_id"], ["survey_paper_form.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_survey_paper_entry_form_id", "survey_paper_entry", ["form_id"])


def downgrade() -> None:
    op.drop_index("ix_survey_paper_entry_form_id", table_name="survey_paper_entry")
    op.drop_table("survey_paper_entry")
    op.drop_index("ix_survey_paper_form_survey_id", table_name="survey_paper_form")
    op.drop_table("survey_paper_form")
    op.drop_index("ix_survey_kiosk_survey_id", table_name="survey_kiosk")
    op.drop_table("survey_kiosk")
    with op.batch_alter_table("respondent") as batch:
        batch.drop_constraint("fk_respondent_collector", type_="foreignkey")
        batch.drop_constraint("uq_respondent_challenge", type_="unique")
        batch.drop_constraint("uq_respondent_client", type_="unique")
        batch.drop_index("ix_respondent_fingerprint")
        for column in ("suspect", "origin", "fingerprint", "challenge", "client_id", "collector_id", "received_at",
                       "channel"):
            batch.drop_column(column)
    with op.batch_alter_table("survey_question") as batch:
        for column in ("options", "text_en", "section_en", "section", "required", "kind", "key"):
            batch.drop_column(column)
    with op.batch_alter_table("survey") as batch:
        batch.drop_constraint("fk_survey_supersedes", type_="foreignkey")
        for column in ("closed_at", "opened_at", "minutes", "intro_en", "intro", "title_en", "supersedes_id",
                       "version", "status"):
            batch.drop_column(column)
