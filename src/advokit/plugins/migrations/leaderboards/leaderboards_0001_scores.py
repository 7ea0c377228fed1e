"""The leaderboards plugin's tables: scores per board, period and advocate; the expiry cursor.

Also an index on the ledger's expiry entries, which the tick reads after its
cursor.

Revision ID: leaderboards_0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import advokit.core.store.types

revision: str = "leaderboards_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("leaderboards",)
depends_on: str | Sequence[str] | None = "advokit"

# A frozen copy of the type the tables use: a migration must not change when it does.
UTC = advokit.core.store.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "leaderboards_scores",
        sa.Column("program", sa.String(length=100), nullable=False),
        sa.Column("board", sa.String(length=63), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("advocate_id", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("reached_at", UTC(), nullable=False),
        sa.ForeignKeyConstraint(["advocate_id"], ["advokit_advocates.id"]),
        sa.PrimaryKeyConstraint("program", "board", "period", "advocate_id"),
    )
    op.create_index(
        "ix_leaderboards_rank",
        "leaderboards_scores",
        ["program", "board", "period", sa.text("value DESC"), "reached_at", "advocate_id"],
    )
    op.create_table(
        "leaderboards_cursor",
        sa.Column("program", sa.String(length=100), nullable=False),
        sa.Column("start_id", sa.BigInteger(), nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("program"),
    )
    op.create_index(
        "ix_leaderboards_entry_type", "advokit_ledger_entries", ["program", "type", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_leaderboards_entry_type", table_name="advokit_ledger_entries")
    op.drop_table("leaderboards_cursor")
    op.drop_index("ix_leaderboards_rank", table_name="leaderboards_scores")
    op.drop_table("leaderboards_scores")
