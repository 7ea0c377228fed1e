"""advokit's own tables, as sqlmodel classes.

Rows never leave :mod:`advokit.core.store`: the rest of advokit sees the attrs
values of :mod:`advokit.core.model`. Hot paths use the SQLAlchemy Core tables
(``AdvocateRow.__table__``) for bulk statements.

Every table is prefixed ``advokit_`` and carries the program name, so several
programs can share one database. Plugins declare their own tables the same way
(on ``SQLModel.metadata``) and ship their own alembic migrations; see
``advokit_register_migrations``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from advokit.core.store.types import BigIntegerPK, UTCDateTime

__all__ = [
    "ActionRow",
    "AdvocateRow",
    "BalanceRow",
    "LedgerEntryRow",
    "LotRow",
    "ReviewRow",
    "TagRow",
    "core_tables",
]

PROGRAM = 100  # length of a program name
KEY = 255  # length of an idempotency key


def _time(nullable: bool = False, index: bool = False) -> Any:
    return Field(sa_column=sa.Column(UTCDateTime(), nullable=nullable, index=index))


class AdvocateRow(SQLModel, table=True):
    __tablename__ = "advokit_advocates"
    __table_args__ = (
        sa.UniqueConstraint("program", "external_id", name="uq_advocate_external_id"),
        # Imports and inbound messages find advocates by email, letter case ignored.
        sa.Index("ix_advocate_email", "program", sa.text("lower(email)")),
    )

    id: int | None = Field(default=None, sa_column=sa.Column(BigIntegerPK, primary_key=True))
    program: str = Field(max_length=PROGRAM)
    external_id: str = Field(max_length=255)
    kind: str = Field(max_length=20)
    name: str | None = Field(default=None, max_length=255)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=20)
    slack_id: str | None = Field(default=None, max_length=32)
    locale: str = Field(max_length=35)
    timezone: str = Field(max_length=64)
    attributes: dict[str, Any] = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    consent: dict[str, Any] = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    enrolled_at: datetime = _time()
    updated_at: datetime = _time()


class ActionRow(SQLModel, table=True):
    """One recorded action and its first outcome (replayed on retries)."""

    __tablename__ = "advokit_actions"
    __table_args__ = (
        sa.UniqueConstraint("program", "key", name="uq_action_key"),
        sa.Index("ix_action_advocate_kind", "advocate_id", "kind", "occurred_at"),
    )

    id: int | None = Field(default=None, sa_column=sa.Column(BigIntegerPK, primary_key=True))
    program: str = Field(max_length=PROGRAM)
    key: str = Field(max_length=KEY)
    kind: str = Field(max_length=100)
    advocate_id: int = Field(
        sa_column=sa.Column(sa.BigInteger, sa.ForeignKey("advokit_advocates.id"), nullable=False)
    )
    occurred_at: datetime = _time()
    recorded_at: datetime = _time()
    data: dict[str, Any] = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    fingerprint: str = Field(max_length=32)
    status: str = Field(max_length=10)
    reasons: list[str] = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    effects: list[Any] = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    # a held action's decision once its review is overdue (None: the program's default)
    review_default: str | None = Field(default=None, max_length=10, nullable=True)


class LedgerEntryRow(SQLModel, table=True):
    """Append-only: rows are inserted, never updated or deleted (triggers refuse it)."""

    __tablename__ = "advokit_ledger_entries"
    __table_args__ = (
        sa.Index("ix_entry_advocate_account_time", "advocate_id", "account", "effective_at"),
        sa.Index("ix_entry_action", "program", "action_key"),
    )

    id: int | None = Field(default=None, sa_column=sa.Column(BigIntegerPK, primary_key=True))
    program: str = Field(max_length=PROGRAM)
    advocate_id: int = Field(
        sa_column=sa.Column(sa.BigInteger, sa.ForeignKey("advokit_advocates.id"), nullable=False)
    )
    account: str = Field(max_length=63)
    #: award | deduct | reverse | expire
    type: str = Field(max_length=10)
    delta: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    reason: str = Field(max_length=100)
    action_key: str | None = Field(default=None, max_length=KEY)
    related_action_key: str | None = Field(default=None, max_length=KEY)
    lot_id: str | None = Field(default=None, max_length=32)
    expires_at: datetime | None = _time(nullable=True)
    effective_at: datetime = _time()
    created_at: datetime = _time()
    memo: str | None = Field(default=None, max_length=500)


class BalanceRow(SQLModel, table=True):
    """Derived from the ledger in the same transaction; rebuildable from it."""

    __tablename__ = "advokit_balances"
    __table_args__ = (
        # advocate_id breaks ties inside the index, so that a top 10 falling in a
        # large group of equal balances is still an index scan, not a sort
        sa.Index("ix_balance_leaderboard", "program", "account", "balance", "advocate_id"),
        sa.Index("ix_balance_earned_leaderboard", "program", "account", "earned", "advocate_id"),
    )

    advocate_id: int = Field(
        sa_column=sa.Column(sa.BigInteger, sa.ForeignKey("advokit_advocates.id"), primary_key=True)
    )
    account: str = Field(sa_column=sa.Column(sa.String(63), primary_key=True))
    program: str = Field(max_length=PROGRAM)
    balance: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    #: lifetime earned: awards less their reversals (spending and expiry do not lower it)
    earned: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))


class LotRow(SQLModel, table=True):
    """An expiring award and what is left of it; derived from the ledger.

    Awards without an expiry need no lot: they form the advocate's pool, which
    is spent last (oldest-expiry-first puts "never" at the end).
    """

    __tablename__ = "advokit_lots"
    __table_args__ = (
        sa.Index("ix_lot_advocate", "advocate_id", "account", "expires_at"),
        sa.Index("ix_lot_expiry", "program", "expires_at"),
    )

    id: str = Field(sa_column=sa.Column(sa.String(32), primary_key=True))
    program: str = Field(max_length=PROGRAM)
    advocate_id: int = Field(
        sa_column=sa.Column(sa.BigInteger, sa.ForeignKey("advokit_advocates.id"), nullable=False)
    )
    account: str = Field(max_length=63)
    amount: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    remaining: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    expires_at: datetime = _time()
    action_key: str | None = Field(default=None, max_length=KEY)


class TagRow(SQLModel, table=True):
    __tablename__ = "advokit_advocate_tags"

    advocate_id: int = Field(
        sa_column=sa.Column(sa.BigInteger, sa.ForeignKey("advokit_advocates.id"), primary_key=True)
    )
    tag: str = Field(sa_column=sa.Column(sa.String(63), primary_key=True))
    program: str = Field(max_length=PROGRAM)
    action_key: str | None = Field(default=None, max_length=KEY)
    tagged_at: datetime = _time()


class ReviewRow(SQLModel, table=True):
    """Audit trail of decisions on held actions: who, when, what and why."""

    __tablename__ = "advokit_reviews"
    __table_args__ = (sa.Index("ix_review_action", "program", "action_key"),)

    id: int | None = Field(default=None, sa_column=sa.Column(BigIntegerPK, primary_key=True))
    program: str = Field(max_length=PROGRAM)
    action_key: str = Field(max_length=KEY)
    decision: str = Field(max_length=10)
    reviewer: str = Field(max_length=255)
    note: str | None = Field(default=None, max_length=1000)
    decided_at: datetime = _time()


def core_tables() -> list[sa.Table]:
    """advokit's own tables, in dependency order."""
    return [
        row.__table__  # type: ignore[attr-defined]
        for row in (AdvocateRow, ActionRow, LedgerEntryRow, BalanceRow, LotRow, TagRow, ReviewRow)
    ]
