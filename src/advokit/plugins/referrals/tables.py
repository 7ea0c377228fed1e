"""The referrals plugin's tables: the codes advocates hand out, and the referrals."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import SQLModel

from advokit.core.store.types import BigIntegerPK, UTCDateTime

__all__ = ["codes_t", "invitations_t", "referrals_t", "referrers_t"]

codes_t = sa.Table(
    "referrals_codes",
    SQLModel.metadata,
    sa.Column("id", BigIntegerPK, primary_key=True),
    sa.Column("program", sa.String(100), nullable=False),
    sa.Column("code", sa.String(32), nullable=False),
    sa.Column("advocate_id", sa.BigInteger, sa.ForeignKey("advokit_advocates.id"), nullable=False),
    sa.Column("vanity", sa.Boolean, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=True),
    sa.Column("deactivated_at", UTCDateTime(), nullable=True),
    sa.UniqueConstraint("program", "code", name="uq_referrals_code"),
    # one generated code in use per advocate, whatever the number of processes asking
    sa.Index(
        "uq_referrals_generated",
        "advocate_id",
        unique=True,
        sqlite_where=sa.text("NOT vanity AND deactivated_at IS NULL"),
        postgresql_where=sa.text("NOT vanity AND deactivated_at IS NULL"),
    ),
)

referrals_t = sa.Table(
    "referrals_referrals",
    SQLModel.metadata,
    # one referral per friend: the primary key decides, whatever the concurrency. On SQLite
    # an INTEGER key is the rowid: every read and move finds the row in one b-tree
    sa.Column(
        "friend_id",
        BigIntegerPK,
        sa.ForeignKey("advokit_advocates.id"),
        primary_key=True,
        autoincrement=False,
    ),
    sa.Column("program", sa.String(100), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("referrer_id", sa.BigInteger, sa.ForeignKey("advokit_advocates.id"), nullable=False),
    sa.Column("code", sa.String(32), nullable=True),
    sa.Column("source", sa.String(20), nullable=False),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("attributed_at", UTCDateTime(), nullable=False),
    sa.Column("order_id", sa.String(255), nullable=True),
    sa.Column("amount_cents", sa.BigInteger, nullable=True),
    sa.Column("converted_at", UTCDateTime(), nullable=True),
    # the digest of the address the friend converted from: the fraud plugin's velocity per address
    sa.Column("converted_from", sa.String(64), nullable=True),
    sa.Column("hold_until", UTCDateTime(), nullable=True),
    sa.Column("rewarded_at", UTCDateTime(), nullable=True),
    sa.Column("reward_key", sa.String(255), nullable=True),
    sa.Column("referrer_paid", sa.BigInteger, nullable=True),  # points, as rewarded
    sa.Column("friend_paid", sa.BigInteger, nullable=True),
    sa.Column("voided_at", UTCDateTime(), nullable=True),
    sa.Column("void_reason", sa.String(100), nullable=True),
    sa.Index("ix_referrals_referrer", "referrer_id"),
    # Partial indexes: a conversion adds one entry to each and a signup none (queries
    # must say the condition in literal SQL for SQLite to use them). What the tick looks
    # for: pending referrals whose hold has passed.
    sa.Index(
        "ix_referrals_due",
        "program",
        "hold_until",
        sqlite_where=sa.text("state = 'pending'"),
        postgresql_where=sa.text("state = 'pending'"),
    ),
    # what the fraud plugin's velocity per address counts
    sa.Index(
        "ix_referrals_converted_from",
        "program",
        "converted_from",
        "converted_at",
        sqlite_where=sa.text("converted_from IS NOT NULL"),
        postgresql_where=sa.text("converted_from IS NOT NULL"),
    ),
)

referrers_t = sa.Table(
    "referrals_referrers",
    SQLModel.metadata,
    # saved with each reward: rewards of one referrer in concurrent transactions run one
    # after the other, so milestones are paid once and caps hold
    sa.Column(
        "referrer_id", sa.BigInteger, sa.ForeignKey("advokit_advocates.id"), primary_key=True
    ),
    sa.Column("program", sa.String(100), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("rewarded", sa.BigInteger, nullable=False),  # referrals rewarded, ever
)

invitations_t = sa.Table(
    "referrals_invitations",
    SQLModel.metadata,
    sa.Column("id", BigIntegerPK, primary_key=True),
    sa.Column("program", sa.String(100), nullable=False),
    sa.Column("inbox", sa.String(320), nullable=False),  # referrals.emails.inbox of the address
    sa.Column("referrer_id", sa.BigInteger, sa.ForeignKey("advokit_advocates.id"), nullable=False),
    sa.Column("invited_at", UTCDateTime(), nullable=False),
    sa.Index("ix_referrals_invited", "program", "inbox", "invited_at"),
)
