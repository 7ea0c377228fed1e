"""The challenges plugin's tables: progress per advocate, challenge and period; enrolments.

Revision ID: challenges_0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import advokit.core.store.types

revision: str = "challenges_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("challenges",)
depends_on: str | Sequence[str] | None = "advokit"

# A frozen copy of the type the tables use: a migration must not change when it does.
UTC = advokit.core.store.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "challenges_progress",
        sa.Column("advocate_id", sa.BigInteger(), nullable=False),
        sa.Column("challenge", sa.String(length=63), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("program", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("ends_at", UTC(), nullable=False),
        sa.Column("completed_at", UTC(), nullable=True),
        sa.Column("completed_by", sa.String(length=255), nullable=True),
        sa.Column("closed_at", UTC(), nullable=True),
        sa.ForeignKeyConstraint(["advocate_id"], ["advokit_advocates.id"]),
        sa.PrimaryKeyConstraint("advocate_id", "challenge", "period"),
    )
    op.create_index(
        "ix_challenges_open",
        "challenges_progress",
        ["program", "completed_at", "closed_at", "ends_at"],
    )
    op.create_table(
        "challenges_enrolments",
        sa.Column("advocate_id", sa.BigInteger(), nullable=False),
        sa.Column("challenge", sa.String(length=63), nullable=False),
        sa.Column("program", sa.String(length=100), nullable=False),
        sa.Column("joined_at", UTC(), nullable=False),
        sa.Column("action_key", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(["advocate_id"], ["advokit_advocates.id"]),
        sa.PrimaryKeyConstraint("advocate_id", "challenge"),
    )


def downgrade() -> None:
    op.drop_table("challenges_enrolments")
    op.drop_index("ix_challenges_open", table_name="challenges_progress")
    op.drop_table("challenges_progress")
