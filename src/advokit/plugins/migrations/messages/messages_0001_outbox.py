"""The messages plugin's outbox.

Revision ID: messages_0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import advokit.core.store.types

revision: str = "messages_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("messages",)
depends_on: str | Sequence[str] | None = "advokit"

# Frozen copies of the types the tables use: a migration must not change when they do.
BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = advokit.core.store.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "messages_outbox",
        sa.Column("id", BIGINT_PK, nullable=False),
        sa.Column("program", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("advocate_id", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.String(length=63), nullable=False),
        sa.Column("kind", sa.String(length=63), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("cause", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("updated_at", UTC(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTC(), nullable=True),
        sa.Column("claimed_until", UTC(), nullable=True),
        sa.Column("sent_at", UTC(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["advocate_id"], ["advokit_advocates.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("program", "key", name="uq_messages_outbox_key"),
    )
    op.create_index("ix_messages_outbox_advocate", "messages_outbox", ["advocate_id", "id"])
    due = sa.text("state IN ('queued', 'sending')")
    op.create_index(
        "ix_messages_outbox_due",
        "messages_outbox",
        ["program", "id"],
        sqlite_where=due,
        postgresql_where=due,
    )


def downgrade() -> None:
    op.drop_index("ix_messages_outbox_due", table_name="messages_outbox")
    op.drop_index("ix_messages_outbox_advocate", table_name="messages_outbox")
    op.drop_table("messages_outbox")
