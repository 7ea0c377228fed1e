"""The badges plugin's tables: progress per advocate and badge, and awards per level.

Revision ID: badges_0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import advokit.core.store.types

revision: str = "badges_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("badges",)
depends_on: str | Sequence[str] | None = "advokit"

# Frozen copies of the types the tables use: a migration must not change when they do.
BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = advokit.core.store.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "badges_progress",
        sa.Column("advocate_id", sa.BigInteger(), nullable=False),
        sa.Column("badge", sa.String(length=63), nullable=False),
        sa.Column("program", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("streak", sa.Integer(), nullable=False),
        sa.Column("last_period", sa.String(length=10), nullable=True),
        sa.Column("recent", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["advocate_id"], ["advokit_advocates.id"]),
        sa.PrimaryKeyConstraint("advocate_id", "badge"),
    )
    op.create_table(
        "badges_awards",
        sa.Column("id", BIGINT_PK, nullable=False),
        sa.Column("program", sa.String(length=100), nullable=False),
        sa.Column("advocate_id", sa.BigInteger(), nullable=False),
        sa.Column("badge", sa.String(length=63), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("action_key", sa.String(length=255), nullable=False),
        sa.Column("awarded_at", UTC(), nullable=False),
        sa.Column("expires_at", UTC(), nullable=True),
        sa.Column("revoked_at", UTC(), nullable=True),
        sa.Column("revoked_reason", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["advocate_id"], ["advokit_advocates.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("advocate_id", "badge", "level", name="uq_badges_award_level"),
    )


def downgrade() -> None:
    op.drop_table("badges_awards")
    op.drop_table("badges_progress")
