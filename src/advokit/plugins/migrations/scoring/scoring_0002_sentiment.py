"""The sentiment of review and survey texts, scored once per action (``scoring_sentiment``).

Revision ID: scoring_0002
Revises: scoring_0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import advokit.core.store.types

revision: str = "scoring_0002"
down_revision: str | Sequence[str] | None = "scoring_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the types the table uses: a migration must not change when they do.
UTC = advokit.core.store.types.UTCDateTime
BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "scoring_sentiment",
        sa.Column("action_id", BIGINT_PK, autoincrement=False, nullable=False),
        sa.Column("program", sa.String(length=100), nullable=False),
        sa.Column("advocate_id", sa.BigInteger(), nullable=False),
        sa.Column("compound", sa.Float(), nullable=False),
        sa.Column("occurred_at", UTC(), nullable=False),
        sa.ForeignKeyConstraint(["action_id"], ["advokit_actions.id"]),
        sa.ForeignKeyConstraint(["advocate_id"], ["advokit_advocates.id"]),
        sa.PrimaryKeyConstraint("action_id"),
    )
    op.create_index(
        "ix_scoring_sentiment_advocate", "scoring_sentiment", ["advocate_id", "occurred_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_scoring_sentiment_advocate", table_name="scoring_sentiment")
    op.drop_table("scoring_sentiment")
