"""The challenges plugin's tables: progress per advocate and period, and enrolments."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import SQLModel

from advokit.core.store.types import UTCDateTime

__all__ = ["enrolments_t", "progress_t"]

progress_t = sa.Table(
    "challenges_progress",
    SQLModel.metadata,
    sa.Column(
        "advocate_id", sa.BigInteger, sa.ForeignKey("advokit_advocates.id"), primary_key=True
    ),
    sa.Column("challenge", sa.String(63), primary_key=True),
    sa.Column("period", sa.String(16), primary_key=True),
    sa.Column("program", sa.String(100), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("counts", sa.JSON, nullable=False),
    sa.Column("ends_at", UTCDateTime(), nullable=False),
    sa.Column("completed_at", UTCDateTime(), nullable=True),
    sa.Column("completed_by", sa.String(255), nullable=True),
    sa.Column("closed_at", UTCDateTime(), nullable=True),
    # what the tick looks for: periods that ended, neither completed nor closed
    sa.Index("ix_challenges_open", "program", "completed_at", "closed_at", "ends_at"),
)

enrolments_t = sa.Table(
    "challenges_enrolments",
    SQLModel.metadata,
    sa.Column(
        "advocate_id", sa.BigInteger, sa.ForeignKey("advokit_advocates.id"), primary_key=True
    ),
    sa.Column("challenge", sa.String(63), primary_key=True),
    sa.Column("program", sa.String(100), nullable=False),
    sa.Column("joined_at", UTCDateTime(), nullable=False),
    sa.Column("action_key", sa.String(255), nullable=False),
)
