"""The messages plugin's tables: the outbox, and the destinations disabled."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import SQLModel

from advokit.core.store.types import BigIntegerPK, UTCDateTime

__all__ = ["destinations_t", "outbox_t"]

outbox_t = sa.Table(
    "messages_outbox",
    SQLModel.metadata,
    sa.Column("id", BigIntegerPK, primary_key=True),
    sa.Column("program", sa.String(100), nullable=False),
    sa.Column("key", sa.String(255), nullable=False),  # the idempotency key
    sa.Column("advocate_id", sa.BigInteger, sa.ForeignKey("advokit_advocates.id"), nullable=False),
    sa.Column("channel", sa.String(63), nullable=False),
    sa.Column("kind", sa.String(63), nullable=False),  # the template
    sa.Column("category", sa.String(20), nullable=False),
    sa.Column("context", sa.JSON, nullable=False),
    sa.Column("cause", sa.String(255), nullable=False),  # the key of the action that queued it
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    # delivery: tries so far, when the next may start, whose claim holds until when,
    # when it was sent, what the channel answered, and the last error
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
    sa.Column("claimed_until", UTCDateTime(), nullable=True),
    sa.Column("sent_at", UTCDateTime(), nullable=True),
    sa.Column("result", sa.JSON, nullable=True),
    sa.Column("error", sa.String(500), nullable=True),
    sa.UniqueConstraint("program", "key", name="uq_messages_outbox_key"),
    sa.Index("ix_messages_outbox_advocate", "advocate_id", "id"),
    # what a worker claims: queued, or sending with a lapsed claim (queries say the
    # condition literally for SQLite)
    sa.Index(
        "ix_messages_outbox_due",
        "program",
        "id",
        sqlite_where=sa.text("state IN ('queued', 'sending')"),
        postgresql_where=sa.text("state IN ('queued', 'sending')"),
    ),
)

#: Destinations a provider said are gone for good (a Slack webhook's 410): nothing
#: is sent to them until program.enable_destination().
destinations_t = sa.Table(
    "messages_destinations",
    SQLModel.metadata,
    sa.Column("program", sa.String(100), primary_key=True),
    sa.Column("channel", sa.String(63), primary_key=True),
    sa.Column("destination", sa.String(255), primary_key=True),
    sa.Column("reason", sa.String(500), nullable=False),
    sa.Column("disabled_at", UTCDateTime(), nullable=False),
)
