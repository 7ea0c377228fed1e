"""The referrals plugin's codes.

Revision ID: referrals_0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import advokit.core.store.types

revision: str = "referrals_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("referrals",)
depends_on: str | Sequence[str] | None = "advokit"

# Frozen copies of the types the tables use: a migration must not change when they do.
BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = advokit.core.store.types.UTCDateTime
IN_USE = "NOT vanity AND deactivated_at IS NULL"


def upgrade() -> None:
    op.create_table(
        "referrals_codes",
        sa.Column("id", BIGINT_PK, nullable=False),
        sa.Column("program", sa.String(length=100), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("advocate_id", sa.BigInteger(), nullable=False),
        sa.Column("vanity", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("expires_at", UTC(), nullable=True),
        sa.Column("deactivated_at", UTC(), nullable=True),
        sa.ForeignKeyConstraint(["advocate_id"], ["advokit_advocates.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("program", "code", name="uq_referrals_code"),
    )
    op.create_index(
        "uq_referrals_generated",
        "referrals_codes",
        ["advocate_id"],
        unique=True,
        sqlite_where=sa.text(IN_USE),
        postgresql_where=sa.text(IN_USE),
    )


def downgrade() -> None:
    op.drop_index("uq_referrals_generated", table_name="referrals_codes")
    op.drop_table("referrals_codes")
