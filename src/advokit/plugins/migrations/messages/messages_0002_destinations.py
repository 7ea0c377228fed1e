"""The destinations a provider said are gone; advocates found by phone (an inbound STOP).

Revision ID: messages_0002
Revises: messages_0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import advokit.core.store.types

revision: str = "messages_0002"
down_revision: str | Sequence[str] | None = "messages_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = advokit.core.store.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "messages_destinations",
        sa.Column("program", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=63), nullable=False),
        sa.Column("destination", sa.String(length=255), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("disabled_at", UTC(), nullable=False),
        sa.PrimaryKeyConstraint("program", "channel", "destination"),
    )
    # on a core table: an inbound SMS names its sender by number only
    op.create_index("ix_messages_advocate_phone", "advokit_advocates", ["program", "phone"])


def downgrade() -> None:
    op.drop_index("ix_messages_advocate_phone", table_name="advokit_advocates")
    op.drop_table("messages_destinations")
