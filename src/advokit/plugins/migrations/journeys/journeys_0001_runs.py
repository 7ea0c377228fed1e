"""The journeys plugin's table: each advocate's place in each journey.

Revision ID: journeys_0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import advokit.core.store.types

revision: str = "journeys_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("journeys",)
depends_on: str | Sequence[str] | None = "advokit"

# Frozen copies of the types the tables use: a migration must not change when they do.
UTC = advokit.core.store.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "journeys_runs",
        sa.Column("advocate_id", sa.BigInteger(), nullable=False),
        sa.Column("journey", sa.String(length=63), nullable=False),
        sa.Column("program", sa.String(length=100), nullable=False),
        sa.Column("run", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("position", sa.String(length=255), nullable=True),
        sa.Column("waiting_for", sa.String(length=63), nullable=True),
        sa.Column("wake_at", UTC(), nullable=True),
        sa.Column("started_at", UTC(), nullable=False),
        sa.Column("updated_at", UTC(), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.ForeignKeyConstraint(["advocate_id"], ["advokit_advocates.id"]),
        sa.PrimaryKeyConstraint("advocate_id", "journey"),
    )
    due = sa.text("status = 'waiting'")
    op.create_index(
        "ix_journeys_runs_due",
        "journeys_runs",
        ["program", "wake_at"],
        sqlite_where=due,
        postgresql_where=due,
    )


def downgrade() -> None:
    op.drop_index("ix_journeys_runs_due", table_name="journeys_runs")
    op.drop_table("journeys_runs")
