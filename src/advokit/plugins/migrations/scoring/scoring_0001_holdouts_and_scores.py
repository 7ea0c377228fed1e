"""The scoring plugin's tables: holdout assignments and stored per-advocate scores.

Revision ID: scoring_0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import advokit.core.store.types

revision: str = "scoring_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("scoring",)
depends_on: str | Sequence[str] | None = "advokit"

# Frozen copies of the types the tables use: a migration must not change when they do.
UTC = advokit.core.store.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "scoring_holdouts",
        sa.Column("advocate_id", sa.BigInteger(), nullable=False),
        sa.Column("experiment", sa.String(length=63), nullable=False),
        sa.Column("program", sa.String(length=100), nullable=False),
        sa.Column("group", sa.String(length=10), nullable=False),
        sa.Column("assigned_at", UTC(), nullable=False),
        sa.ForeignKeyConstraint(["advocate_id"], ["advokit_advocates.id"]),
        sa.PrimaryKeyConstraint("advocate_id", "experiment"),
    )
    op.create_index(
        "ix_scoring_holdouts_group", "scoring_holdouts", ["program", "experiment", "group"]
    )
    op.create_table(
        "scoring_scores",
        sa.Column("advocate_id", sa.BigInteger(), nullable=False),
        sa.Column("model", sa.String(length=63), nullable=False),
        sa.Column("program", sa.String(length=100), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("label", sa.String(length=20), nullable=False),
        sa.Column("scored_at", UTC(), nullable=False),
        sa.ForeignKeyConstraint(["advocate_id"], ["advokit_advocates.id"]),
        sa.PrimaryKeyConstraint("advocate_id", "model"),
    )
    op.create_index("ix_scoring_scores_rank", "scoring_scores", ["program", "model", "score"])


def downgrade() -> None:
    op.drop_index("ix_scoring_scores_rank", table_name="scoring_scores")
    op.drop_table("scoring_scores")
    op.drop_index("ix_scoring_holdouts_group", table_name="scoring_holdouts")
    op.drop_table("scoring_holdouts")
