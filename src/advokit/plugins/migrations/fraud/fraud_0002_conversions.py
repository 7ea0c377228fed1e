"""The fraud plugin's conversions: the address each referred friend converted from.

Revision ID: fraud_0002
Revises: fraud_0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import advokit.core.store.types

revision: str = "fraud_0002"
down_revision: str | Sequence[str] | None = "fraud_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = advokit.core.store.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "fraud_conversions",
        sa.Column("friend_id", sa.BigInteger(), nullable=False),
        sa.Column("program", sa.String(length=100), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("converted_at", UTC(), nullable=False),
        sa.ForeignKeyConstraint(["friend_id"], ["advokit_advocates.id"]),
        sa.PrimaryKeyConstraint("friend_id"),
    )
    op.create_index(
        "ix_fraud_conversions_ip", "fraud_conversions", ["program", "ip", "converted_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_fraud_conversions_ip", table_name="fraud_conversions")
    op.drop_table("fraud_conversions")
