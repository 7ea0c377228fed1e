"""The journeys plugin's table: where each advocate is in each journey."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import SQLModel

from advokit.core.store.types import UTCDateTime

__all__ = ["runs_t"]

runs_t = sa.Table(
    "journeys_runs",
    SQLModel.metadata,
    sa.Column(
        "advocate_id", sa.BigInteger, sa.ForeignKey("advokit_advocates.id"), primary_key=True
    ),
    sa.Column("journey", sa.String(63), primary_key=True),
    sa.Column("program", sa.String(100), nullable=False),
    sa.Column("run", sa.Integer, nullable=False),  # 1 for the first run, 2 for the next...
    sa.Column("status", sa.String(10), nullable=False),  # waiting | done
    sa.Column("position", sa.String(255), nullable=True),  # the step waited at: "2/promoter/0"
    sa.Column("waiting_for", sa.String(63), nullable=True),  # the action kind awaited
    sa.Column("wake_at", UTCDateTime(), nullable=True),  # when the wait (or its timeout) ends
    sa.Column("started_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("context", sa.JSON, nullable=False),  # the trigger and the answers so far
    # optimistic concurrency: the tick and an answer cannot both move one wait
    sa.Column("version", sa.Integer, nullable=False, server_default=sa.text("1")),
    # what the tick resumes: waits that are over
    sa.Index(
        "ix_journeys_runs_due",
        "program",
        "wake_at",
        sqlite_where=sa.text("status = 'waiting'"),
        postgresql_where=sa.text("status = 'waiting'"),
    ),
)
