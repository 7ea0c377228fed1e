"""advokit's core schema, with an append-only ledger.

Revision ID: 0001_core_schema
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import advokit.core.store.types

revision: str = "0001_core_schema"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("advokit",)
depends_on: str | Sequence[str] | None = None

# Frozen copies of the types in tables.py: a migration must not change when they do.
BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = advokit.core.store.types.UTCDateTime

APPEND_ONLY = "advokit_ledger_entries is append-only"


def upgrade() -> None:
    op.create_table(
        "advokit_advocates",
        sa.Column("id", BIGINT_PK, nullable=False),
        sa.Column("program", sa.String(length=100), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("slack_id", sa.String(length=32), nullable=True),
        sa.Column("locale", sa.String(length=35), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("consent", sa.JSON(), nullable=False),
        sa.Column("enrolled_at", UTC(), nullable=False),
        sa.Column("updated_at", UTC(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("program", "external_id", name="uq_advocate_external_id"),
    )
    op.create_table(
        "advokit_actions",
        sa.Column("id", BIGINT_PK, nullable=False),
        sa.Column("program", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("advocate_id", sa.BigInteger(), nullable=False),
        sa.Column("occurred_at", UTC(), nullable=False),
        sa.Column("recorded_at", UTC(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("fingerprint", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("effects", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["advocate_id"], ["advokit_advocates.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("program", "key", name="uq_action_key"),
    )
    op.create_index(
        "ix_action_advocate_kind", "advokit_actions", ["advocate_id", "kind", "occurred_at"]
    )
    op.create_table(
        "advokit_ledger_entries",
        sa.Column("id", BIGINT_PK, nullable=False),
        sa.Column("program", sa.String(length=100), nullable=False),
        sa.Column("advocate_id", sa.BigInteger(), nullable=False),
        sa.Column("account", sa.String(length=63), nullable=False),
        sa.Column("type", sa.String(length=10), nullable=False),
        sa.Column("delta", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=100), nullable=False),
        sa.Column("action_key", sa.String(length=255), nullable=True),
        sa.Column("related_action_key", sa.String(length=255), nullable=True),
        sa.Column("lot_id", sa.String(length=32), nullable=True),
        sa.Column("expires_at", UTC(), nullable=True),
        sa.Column("effective_at", UTC(), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("memo", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["advocate_id"], ["advokit_advocates.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_entry_advocate_account_time",
        "advokit_ledger_entries",
        ["advocate_id", "account", "effective_at"],
    )
    op.create_index("ix_entry_action", "advokit_ledger_entries", ["program", "action_key"])
    op.create_table(
        "advokit_balances",
        sa.Column("advocate_id", sa.BigInteger(), nullable=False),
        sa.Column("account", sa.String(length=63), nullable=False),
        sa.Column("program", sa.String(length=100), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("earned", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["advocate_id"], ["advokit_advocates.id"]),
        sa.PrimaryKeyConstraint("advocate_id", "account"),
    )
    op.create_index(
        "ix_balance_leaderboard",
        "advokit_balances",
        ["program", "account", "balance", "advocate_id"],
    )
    op.create_index(
        "ix_balance_earned_leaderboard",
        "advokit_balances",
        ["program", "account", "earned", "advocate_id"],
    )
    op.create_table(
        "advokit_lots",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("program", sa.String(length=100), nullable=False),
        sa.Column("advocate_id", sa.BigInteger(), nullable=False),
        sa.Column("account", sa.String(length=63), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("remaining", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", UTC(), nullable=False),
        sa.Column("action_key", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(["advocate_id"], ["advokit_advocates.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_lot_advocate", "advokit_lots", ["advocate_id", "account", "expires_at"])
    op.create_index("ix_lot_expiry", "advokit_lots", ["program", "expires_at"])
    op.create_table(
        "advokit_advocate_tags",
        sa.Column("advocate_id", sa.BigInteger(), nullable=False),
        sa.Column("tag", sa.String(length=63), nullable=False),
        sa.Column("program", sa.String(length=100), nullable=False),
        sa.Column("action_key", sa.String(length=255), nullable=True),
        sa.Column("tagged_at", UTC(), nullable=False),
        sa.ForeignKeyConstraint(["advocate_id"], ["advokit_advocates.id"]),
        sa.PrimaryKeyConstraint("advocate_id", "tag"),
    )
    op.create_table(
        "advokit_reviews",
        sa.Column("id", BIGINT_PK, nullable=False),
        sa.Column("program", sa.String(length=100), nullable=False),
        sa.Column("action_key", sa.String(length=255), nullable=False),
        sa.Column("decision", sa.String(length=10), nullable=False),
        sa.Column("reviewer", sa.String(length=255), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.Column("decided_at", UTC(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_review_action", "advokit_reviews", ["program", "action_key"])
    _create_append_only_triggers()


def _create_append_only_triggers() -> None:
    # The ledger is the record balances are derived from: the database itself
    # refuses to rewrite it, whatever code (or person) holds a connection.
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER advokit_ledger_entries_no_{event.lower()} "
                f"BEFORE {event} ON advokit_ledger_entries "
                f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION advokit_ledger_entries_append_only() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            f"RAISE EXCEPTION '{APPEND_ONLY}' USING ERRCODE = 'restrict_violation'; "
            "END $$"
        )
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER advokit_ledger_entries_no_{event.lower()} "
                f"BEFORE {event} ON advokit_ledger_entries "
                "FOR EACH ROW EXECUTE FUNCTION advokit_ledger_entries_append_only()"
            )
    else:
        raise NotImplementedError(f"advokit supports SQLite and PostgreSQL, not {dialect}")


def downgrade() -> None:
    # Dropping the table drops its triggers; the PostgreSQL function goes after.
    for table in (
        "advokit_reviews",
        "advokit_advocate_tags",
        "advokit_lots",
        "advokit_balances",
        "advokit_ledger_entries",
        "advokit_actions",
        "advokit_advocates",
    ):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION advokit_ledger_entries_append_only()")
