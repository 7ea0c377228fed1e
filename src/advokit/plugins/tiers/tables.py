"""The tiers plugin's tables: each advocate's tier state and the history of changes."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import SQLModel

from advokit.core.store.types import BigIntegerPK, UTCDateTime

__all__ = ["changes_t", "states_t"]

states_t = sa.Table(
    "tiers_states",
    SQLModel.metadata,
    sa.Column(
        "advocate_id", sa.BigInteger, sa.ForeignKey("advokit_advocates.id"), primary_key=True
    ),
    sa.Column("program", sa.String(100), nullable=False),
    sa.Column("tier", sa.String(63), nullable=False),
    sa.Column("since", UTCDateTime(), nullable=False),
    sa.Column("grace_until", UTCDateTime(), nullable=True),
    sa.Column("override_tier", sa.String(63), nullable=True),
    sa.Column("override_until", UTCDateTime(), nullable=True),
    # optimistic concurrency: a state is saved only over the version it was decided from
    sa.Column("version", sa.Integer, nullable=False, server_default=sa.text("1")),
    sa.Index("ix_tiers_states_review", "program", "tier"),
)

changes_t = sa.Table(
    "tiers_changes",
    SQLModel.metadata,
    sa.Column("id", BigIntegerPK, primary_key=True),
    sa.Column("program", sa.String(100), nullable=False),
    sa.Column("advocate_id", sa.BigInteger, sa.ForeignKey("advokit_advocates.id"), nullable=False),
    sa.Column("previous", sa.String(63), nullable=False),
    sa.Column("tier", sa.String(63), nullable=False),
    sa.Column("reason", sa.String(100), nullable=False),
    sa.Column("action_key", sa.String(255), nullable=False),
    sa.Column("changed_at", UTCDateTime(), nullable=False),
    sa.Index("ix_tiers_changes_advocate", "advocate_id", "id"),
)
