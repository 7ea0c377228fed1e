"""The referrals (one per friend, with its state), each referrer's count, the invitations.

Revision ID: referrals_0002
Revises: referrals_0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import advokit.core.store.types

revision: str = "referrals_0002"
down_revision: str | Sequence[str] | None = "referrals_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = advokit.core.store.types.UTCDateTime
BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "referrals_referrals",
        sa.Column("friend_id", BIGINT_PK, autoincrement=False, nullable=False),
        sa.Column("program", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("referrer_id", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("attributed_at", UTC(), nullable=False),
        sa.Column("order_id", sa.String(length=255), nullable=True),
        sa.Column("amount_cents", sa.BigInteger(), nullable=True),
        sa.Column("converted_at", UTC(), nullable=True),
        sa.Column("converted_from", sa.String(length=64), nullable=True),
        sa.Column("hold_until", UTC(), nullable=True),
        sa.Column("rewarded_at", UTC(), nullable=True),
        sa.Column("reward_key", sa.String(length=255), nullable=True),
        sa.Column("referrer_paid", sa.BigInteger(), nullable=True),
        sa.Column("friend_paid", sa.BigInteger(), nullable=True),
        sa.Column("voided_at", UTC(), nullable=True),
        sa.Column("void_reason", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(["friend_id"], ["advokit_advocates.id"]),
        sa.ForeignKeyConstraint(["referrer_id"], ["advokit_advocates.id"]),
        sa.PrimaryKeyConstraint("friend_id"),
    )
    op.create_index("ix_referrals_referrer", "referrals_referrals", ["referrer_id"])
    pending = sa.text("state = 'pending'")
    op.create_index(
        "ix_referrals_due",
        "referrals_referrals",
        ["program", "hold_until"],
        sqlite_where=pending,
        postgresql_where=pending,
    )
    converted = sa.text("converted_from IS NOT NULL")
    op.create_index(
        "ix_referrals_converted_from",
        "referrals_referrals",
        ["program", "converted_from", "converted_at"],
        sqlite_where=converted,
        postgresql_where=converted,
    )
    op.create_table(
        "referrals_referrers",
        sa.Column("referrer_id", sa.BigInteger(), nullable=False),
        sa.Column("program", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("rewarded", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["referrer_id"], ["advokit_advocates.id"]),
        sa.PrimaryKeyConstraint("referrer_id"),
    )
    op.create_table(
        "referrals_invitations",
        sa.Column("id", BIGINT_PK, nullable=False),
        sa.Column("program", sa.String(length=100), nullable=False),
        sa.Column("inbox", sa.String(length=320), nullable=False),
        sa.Column("referrer_id", sa.BigInteger(), nullable=False),
        sa.Column("invited_at", UTC(), nullable=False),
        sa.ForeignKeyConstraint(["referrer_id"], ["advokit_advocates.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_referrals_invited", "referrals_invitations", ["program", "inbox", "invited_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_referrals_invited", table_name="referrals_invitations")
    op.drop_table("referrals_invitations")
    op.drop_table("referrals_referrers")
    op.drop_index("ix_referrals_converted_from", table_name="referrals_referrals")
    op.drop_index("ix_referrals_due", table_name="referrals_referrals")
    op.drop_index("ix_referrals_referrer", table_name="referrals_referrals")
    op.drop_table("referrals_referrals")
