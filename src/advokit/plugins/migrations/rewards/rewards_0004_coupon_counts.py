"""The rewards plugin's count of free codes per coupon pool.

Revision ID: rewards_0004
Revises: rewards_0003
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "rewards_0004"
down_revision: str | Sequence[str] | None = "rewards_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rewards_coupon_pools",
        sa.Column("program", sa.String(length=100), nullable=False),
        sa.Column("pool", sa.String(length=63), nullable=False),
        sa.Column("free", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("program", "pool"),
    )
    # the pools loaded so far: their free codes, counted once
    op.execute(
        "INSERT INTO rewards_coupon_pools (program, pool, free) "
        "SELECT program, pool, SUM(CASE WHEN reward_key IS NULL THEN 1 ELSE 0 END) "
        "FROM rewards_coupons GROUP BY program, pool"
    )


def downgrade() -> None:
    op.drop_table("rewards_coupon_pools")
