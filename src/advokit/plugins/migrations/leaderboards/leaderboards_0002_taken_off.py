"""Expiry entries taken off the boards since the cursor's low-water mark.

An expiry entry that commits after others with higher ids (PostgreSQL hands
out ids before commit) must still be taken off: the tick now remembers each
entry it took off above the mark, and moves the mark only past entries old
enough to have committed.

Revision ID: leaderboards_0002
Revises: leaderboards_0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "leaderboards_0002"
down_revision: str | Sequence[str] | None = "leaderboards_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "leaderboards_taken_off",
        sa.Column("entry_id", sa.BigInteger(), nullable=False),
        sa.Column("program", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("entry_id"),
    )


def downgrade() -> None:
    op.drop_table("leaderboards_taken_off")
