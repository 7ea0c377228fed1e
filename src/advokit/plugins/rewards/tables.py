"""The rewards plugin's tables: the rewards owed, their history, the catalogue's counts."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import SQLModel

from advokit.core.store.types import BigIntegerPK, UTCDateTime

__all__ = ["counts_t", "coupon_pools_t", "coupons_t", "rewards_t", "transitions_t"]

rewards_t = sa.Table(
    "rewards_rewards",
    SQLModel.metadata,
    sa.Column("id", BigIntegerPK, primary_key=True),
    sa.Column("program", sa.String(100), nullable=False),
    sa.Column("key", sa.String(255), nullable=False),  # the idempotency key
    sa.Column("advocate_id", sa.BigInteger, sa.ForeignKey("advokit_advocates.id"), nullable=False),
    sa.Column("kind", sa.String(63), nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=True),
    sa.Column("description", sa.String(255), nullable=True),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("item", sa.String(63), nullable=True),  # the catalogue item redeemed
    sa.Column("cause", sa.String(255), nullable=False),  # the key of the action that issued it
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    # fulfilment: tries so far, when the next may start, whose claim holds until when,
    # what the fulfiller answered, and the last error
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
    sa.Column("claimed_until", UTCDateTime(), nullable=True),
    sa.Column("result", sa.JSON, nullable=True),
    sa.Column("error", sa.String(500), nullable=True),
    # why a reversal was asked while a worker was fulfilling it: settled, it is
    # reversed (paid) or canceled (not paid) instead of fulfilled or tried again
    sa.Column("reversal", sa.String(500), nullable=True),
    sa.UniqueConstraint("program", "key", name="uq_rewards_key"),
    sa.Index("ix_rewards_advocate", "advocate_id", "created_at"),
    sa.Index("ix_rewards_state", "program", "state", "id"),
    sa.Index("ix_rewards_cause", "program", "cause"),  # what ReverseRewards looks up
    # reversed rewards whose fulfiller's reverse operation is still to run: few, among
    # every reversal ever made (queries say the condition literally for SQLite)
    sa.Index(
        "ix_rewards_reversals_due",
        "program",
        "next_attempt_at",
        sqlite_where=sa.text("state = 'reversed' AND next_attempt_at IS NOT NULL"),
        postgresql_where=sa.text("state = 'reversed' AND next_attempt_at IS NOT NULL"),
    ),
)

transitions_t = sa.Table(
    "rewards_transitions",
    SQLModel.metadata,
    sa.Column("id", BigIntegerPK, primary_key=True),
    sa.Column("program", sa.String(100), nullable=False),
    sa.Column("reward_key", sa.String(255), nullable=False),
    sa.Column("before", sa.String(20), nullable=True),  # NULL: issued
    sa.Column("after", sa.String(20), nullable=False),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("actor", sa.String(255), nullable=False),
    sa.Column("reason", sa.String(500), nullable=False),
    sa.Index("ix_rewards_transitions_reward", "program", "reward_key", "id"),
)

counts_t = sa.Table(
    "rewards_counts",
    SQLModel.metadata,
    # what a catalogue item ("coffee") or a budget's period ("budget:monthly:2026-06-01")
    # counts, in all (advocate_id 0) or per advocate: the rewards and their amounts. Saved
    # with a version check, so that concurrent rewards keep stock, limits and budgets
    sa.Column("program", sa.String(100), primary_key=True),
    sa.Column("item", sa.String(100), primary_key=True),
    sa.Column("advocate_id", sa.BigInteger, primary_key=True),
    sa.Column("issued", sa.BigInteger, nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
)

coupons_t = sa.Table(
    "rewards_coupons",
    SQLModel.metadata,
    # the codes of a coupon pool: each handed out once, to the reward keyed reward_key
    sa.Column("id", BigIntegerPK, primary_key=True),
    sa.Column("program", sa.String(100), nullable=False),
    sa.Column("pool", sa.String(63), nullable=False),
    sa.Column("code", sa.String(64), nullable=False),
    sa.Column("reward_key", sa.String(255), nullable=True),  # NULL: not handed out yet
    sa.Column("loaded_at", UTCDateTime(), nullable=False),
    sa.Column("issued_at", UTCDateTime(), nullable=True),
    sa.UniqueConstraint("program", "pool", "code", name="uq_rewards_coupons_code"),
    sa.UniqueConstraint("program", "pool", "reward_key", name="uq_rewards_coupons_reward"),
    # the free codes, oldest first (queries say the condition literally for SQLite)
    sa.Index(
        "ix_rewards_coupons_free",
        "program",
        "pool",
        "id",
        sqlite_where=sa.text("reward_key IS NULL"),
        postgresql_where=sa.text("reward_key IS NULL"),
    ),
)

coupon_pools_t = sa.Table(
    "rewards_coupon_pools",
    SQLModel.metadata,
    # the free codes of each pool, counted as codes are loaded and taken: takers
    # count down one after another (the row's lock), so exactly one of them sees
    # the pool reach its low mark, and one sees it reach 0
    sa.Column("program", sa.String(100), primary_key=True),
    sa.Column("pool", sa.String(63), primary_key=True),
    sa.Column("free", sa.BigInteger, nullable=False),
)
