"""The scoring plugin's tables: holdout assignments and stored per-advocate scores."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import SQLModel

from advokit.core.store.types import BigIntegerPK, UTCDateTime

__all__ = ["holdouts_t", "scores_t", "sentiment_t"]

holdouts_t = sa.Table(
    "scoring_holdouts",
    SQLModel.metadata,
    # one group per advocate per experiment, for good: the assignment is stable
    sa.Column(
        "advocate_id", sa.BigInteger, sa.ForeignKey("advokit_advocates.id"), primary_key=True
    ),
    sa.Column("experiment", sa.String(63), primary_key=True),
    sa.Column("program", sa.String(100), nullable=False),
    sa.Column("group", sa.String(10), nullable=False),  # holdout | treatment
    sa.Column("assigned_at", UTCDateTime(), nullable=False),
    sa.Index("ix_scoring_holdouts_group", "program", "experiment", "group"),
)

scores_t = sa.Table(
    "scoring_scores",
    SQLModel.metadata,
    # the latest score of each advocate by each stored model (potential, at_risk)
    sa.Column(
        "advocate_id", sa.BigInteger, sa.ForeignKey("advokit_advocates.id"), primary_key=True
    ),
    sa.Column("model", sa.String(63), primary_key=True),
    sa.Column("program", sa.String(100), nullable=False),
    sa.Column("score", sa.Float, nullable=False),  # 0..1
    sa.Column("label", sa.String(20), nullable=False),  # model | heuristic
    sa.Column("scored_at", UTCDateTime(), nullable=False),
    sa.Index("ix_scoring_scores_rank", "program", "model", "score"),
)

sentiment_t = sa.Table(
    "scoring_sentiment",
    SQLModel.metadata,
    # the VADER compound of one action's text, scored once (program.score_sentiment());
    # advocate_id and occurred_at: copies of the action's, to read the scores without a join
    sa.Column(
        "action_id",
        BigIntegerPK,
        sa.ForeignKey("advokit_actions.id"),
        primary_key=True,
        autoincrement=False,
    ),
    sa.Column("program", sa.String(100), nullable=False),
    sa.Column("advocate_id", sa.BigInteger, sa.ForeignKey("advokit_advocates.id"), nullable=False),
    sa.Column("compound", sa.Float, nullable=False),  # -1..1
    sa.Column("occurred_at", UTCDateTime(), nullable=False),
    sa.Index("ix_scoring_sentiment_advocate", "advocate_id", "occurred_at"),
)
