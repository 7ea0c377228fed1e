"""The fraud plugin's fingerprints.

Revision ID: fraud_0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import advokit.core.store.types

revision: str = "fraud_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("fraud",)
depends_on: str | Sequence[str] | None = "advokit"

UTC = advokit.core.store.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "fraud_fingerprints",
        sa.Column("advocate_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.Column("program", sa.String(length=100), nullable=False),
        sa.Column("seen", sa.BigInteger(), nullable=False),
        sa.Column("last_seen_at", UTC(), nullable=False),
        sa.ForeignKeyConstraint(["advocate_id"], ["advokit_advocates.id"]),
        sa.PrimaryKeyConstraint("advocate_id", "kind", "value"),
    )


def downgrade() -> None:
    op.drop_table("fraud_fingerprints")
