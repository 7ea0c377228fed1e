"""The rewards plugin's rewards, their transitions and the catalogue's counts.

Revision ID: rewards_0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import advokit.core.store.types

revision: str = "rewards_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("rewards",)
depends_on: str | Sequence[str] | None = "advokit"

# Frozen copies of the types the tables use: a migration must not change when they do.
BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = advokit.core.store.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "rewards_rewards",
        sa.Column("id", BIGINT_PK, nullable=False),
        sa.Column("program", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("advocate_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=63), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("description", sa.String(length=255), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("item", sa.String(length=63), nullable=True),
        sa.Column("cause", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("updated_at", UTC(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTC(), nullable=True),
        sa.Column("claimed_until", UTC(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("reversal", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["advocate_id"], ["advokit_advocates.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("program", "key", name="uq_rewards_key"),
    )
    op.create_index("ix_rewards_advocate", "rewards_rewards", ["advocate_id", "created_at"])
    op.create_index("ix_rewards_state", "rewards_rewards", ["program", "state", "id"])
    op.create_index("ix_rewards_cause", "rewards_rewards", ["program", "cause"])
    op.create_table(
        "rewards_transitions",
        sa.Column("id", BIGINT_PK, nullable=False),
        sa.Column("program", sa.String(length=100), nullable=False),
        sa.Column("reward_key", sa.String(length=255), nullable=False),
        sa.Column("before", sa.String(length=20), nullable=True),
        sa.Column("after", sa.String(length=20), nullable=False),
        sa.Column("at", UTC(), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_rewards_transitions_reward", "rewards_transitions", ["program", "reward_key", "id"]
    )
    op.create_table(
        "rewards_counts",
        sa.Column("program", sa.String(length=100), nullable=False),
        sa.Column("item", sa.String(length=100), nullable=False),
        sa.Column("advocate_id", sa.BigInteger(), nullable=False),
        sa.Column("issued", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("program", "item", "advocate_id"),
    )


def downgrade() -> None:
    op.drop_table("rewards_counts")
    op.drop_index("ix_rewards_transitions_reward", table_name="rewards_transitions")
    op.drop_table("rewards_transitions")
    op.drop_index("ix_rewards_cause", table_name="rewards_rewards")
    op.drop_index("ix_rewards_state", table_name="rewards_rewards")
    op.drop_index("ix_rewards_advocate", table_name="rewards_rewards")
    op.drop_table("rewards_rewards")
