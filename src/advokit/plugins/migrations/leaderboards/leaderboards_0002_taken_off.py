"""Expiry entries taken off the boards since the cursor's low-water mark.

An expiry entry that commits after others with higher ids (PostgreSQL hands
out ids before commit) must still be taken off: the tick now remembers each
entry it took off above the mark, and moves the mark only to the newest id a
tick saw at least an hour before (``seen_id``, ``seen_at``): every lower id
has committed by then.

Revision ID: leaderboards_0002
Revises: leaderboards_0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import advokit.core.store.types

revision: str = "leaderboards_0002"
down_revision: str | Sequence[str] | None = "leaderboards_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A frozen copy of the type the tables use: a migration must not change when it does.
UTC = advokit.core.store.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "leaderboards_taken_off",
        sa.Column("entry_id", sa.BigInteger(), nullable=False),
        sa.Column("program", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("entry_id"),
    )
    with op.batch_alter_table("leaderboards_cursor") as batch:
        batch.add_column(
            sa.Column("seen_id", sa.BigInteger(), nullable=False, server_default=sa.text("0"))
        )
        batch.add_column(sa.Column("seen_at", UTC(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("leaderboards_cursor") as batch:
        batch.drop_column("seen_at")
        batch.drop_column("seen_id")
    op.drop_table("leaderboards_taken_off")
