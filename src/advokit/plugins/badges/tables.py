"""The badges plugin's tables: each advocate's progress toward every badge, and the awards."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import SQLModel

from advokit.core.store.types import BigIntegerPK, UTCDateTime

__all__ = ["awards_t", "states_t"]

states_t = sa.Table(
    "badges_states",
    SQLModel.metadata,
    sa.Column(
        "advocate_id", sa.BigInteger, sa.ForeignKey("advokit_advocates.id"), primary_key=True
    ),
    sa.Column("program", sa.String(100), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    # {badge: [count, total, streak, last_period, recent, awarded]}: one row an advocate,
    # read and written once a batch whatever the number of badges
    sa.Column("progress", sa.JSON, nullable=False),
)

awards_t = sa.Table(
    "badges_awards",
    SQLModel.metadata,
    sa.Column("id", BigIntegerPK, primary_key=True),
    sa.Column("program", sa.String(100), nullable=False),
    sa.Column("advocate_id", sa.BigInteger, sa.ForeignKey("advokit_advocates.id"), nullable=False),
    sa.Column("badge", sa.String(63), nullable=False),
    sa.Column("level", sa.Integer, nullable=False),
    sa.Column("action_key", sa.String(255), nullable=False),
    sa.Column("awarded_at", UTCDateTime(), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=True),
    sa.Column("revoked_at", UTCDateTime(), nullable=True),
    sa.Column("revoked_reason", sa.String(500), nullable=True),
    sa.UniqueConstraint("advocate_id", "badge", "level", name="uq_badges_award_level"),
)
