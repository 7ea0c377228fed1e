"""The leaderboards plugin's tables: scores per board, period and advocate; the expiry
cursor and the expiries taken off above it."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import SQLModel

from advokit.core.store.types import UTCDateTime

__all__ = ["cursor_t", "scores_t", "taken_off_t"]

scores_t = sa.Table(
    "leaderboards_scores",
    SQLModel.metadata,
    sa.Column("program", sa.String(100), primary_key=True),
    sa.Column("board", sa.String(63), primary_key=True),
    # "all", "d:2026-06-01", "w:2026-W23" or "m:2026-06"
    sa.Column("period", sa.String(16), primary_key=True),
    sa.Column(
        "advocate_id", sa.BigInteger, sa.ForeignKey("advokit_advocates.id"), primary_key=True
    ),
    sa.Column("value", sa.BigInteger, nullable=False),
    sa.Column("reached_at", UTCDateTime(), nullable=False),
)
# the listing order, so that a top 10 is the first 10 entries of an index range
sa.Index(
    "ix_leaderboards_rank",
    scores_t.c.program,
    scores_t.c.board,
    scores_t.c.period,
    scores_t.c.value.desc(),
    scores_t.c.reached_at,
    scores_t.c.advocate_id,
)

cursor_t = sa.Table(
    "leaderboards_cursor",
    SQLModel.metadata,
    sa.Column("program", sa.String(100), primary_key=True),
    # ledger entries up to start_id were posted before any board was kept
    sa.Column("start_id", sa.BigInteger, nullable=False),
    # low-water mark: expiry entries up to last_id have been taken off the boards
    sa.Column("last_id", sa.BigInteger, nullable=False),
    # the newest expiry id a tick saw, and when (wall clock): the mark's next place
    sa.Column("seen_id", sa.BigInteger, nullable=False, server_default=sa.text("0")),
    sa.Column("seen_at", UTCDateTime(), nullable=True),
)

taken_off_t = sa.Table(
    "leaderboards_taken_off",
    SQLModel.metadata,
    # expiry entries above the mark already taken off (ids commit out of order)
    sa.Column("entry_id", sa.BigInteger, primary_key=True),
    sa.Column("program", sa.String(100), nullable=False),
)
