"""The tiers plugin's tables: each advocate's tier state and the history of changes.

Revision ID: tiers_0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import advokit.core.store.types

revision: str = "tiers_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("tiers",)
depends_on: str | Sequence[str] | None = "advokit"

# Frozen copies of the types the tables use: a migration must not change when they do.
BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = advokit.core.store.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "tiers_states",
        sa.Column("advocate_id", sa.BigInteger(), nullable=False),
        sa.Column("program", sa.String(length=100), nullable=False),
        sa.Column("tier", sa.String(length=63), nullable=False),
        sa.Column("since", UTC(), nullable=False),
        sa.Column("grace_until", UTC(), nullable=True),
        sa.Column("override_tier", sa.String(length=63), nullable=True),
        sa.Column("override_until", UTC(), nullable=True),
        sa.ForeignKeyConstraint(["advocate_id"], ["advokit_advocates.id"]),
        sa.PrimaryKeyConstraint("advocate_id"),
    )
    op.create_index("ix_tiers_states_review", "tiers_states", ["program", "tier"])
    op.create_table(
        "tiers_changes",
        sa.Column("id", BIGINT_PK, nullable=False),
        sa.Column("program", sa.String(length=100), nullable=False),
        sa.Column("advocate_id", sa.BigInteger(), nullable=False),
        sa.Column("previous", sa.String(length=63), nullable=False),
        sa.Column("tier", sa.String(length=63), nullable=False),
        sa.Column("reason", sa.String(length=100), nullable=False),
        sa.Column("action_key", sa.String(length=255), nullable=False),
        sa.Column("changed_at", UTC(), nullable=False),
        sa.ForeignKeyConstraint(["advocate_id"], ["advokit_advocates.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_tiers_changes_advocate", "tiers_changes", ["advocate_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_tiers_changes_advocate", table_name="tiers_changes")
    op.drop_table("tiers_changes")
    op.drop_index("ix_tiers_states_review", table_name="tiers_states")
    op.drop_table("tiers_states")
