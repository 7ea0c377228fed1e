"""The rewards plugin's coupon pools.

Revision ID: rewards_0002
Revises: rewards_0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import advokit.core.store.types

revision: str = "rewards_0002"
down_revision: str | Sequence[str] | None = "rewards_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the types the tables use: a migration must not change when they do.
BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = advokit.core.store.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "rewards_coupons",
        sa.Column("id", BIGINT_PK, nullable=False),
        sa.Column("program", sa.String(length=100), nullable=False),
        sa.Column("pool", sa.String(length=63), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("reward_key", sa.String(length=255), nullable=True),
        sa.Column("loaded_at", UTC(), nullable=False),
        sa.Column("issued_at", UTC(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("program", "pool", "code", name="uq_rewards_coupons_code"),
        sa.UniqueConstraint("program", "pool", "reward_key", name="uq_rewards_coupons_reward"),
    )
    free = sa.text("reward_key IS NULL")
    op.create_index(
        "ix_rewards_coupons_free",
        "rewards_coupons",
        ["program", "pool", "id"],
        sqlite_where=free,
        postgresql_where=free,
    )


def downgrade() -> None:
    op.drop_index("ix_rewards_coupons_free", table_name="rewards_coupons")
    op.drop_table("rewards_coupons")
