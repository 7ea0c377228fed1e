"""The rewards plugin's reversals by the fulfiller: an index of the ones still to run.

Revision ID: rewards_0003
Revises: rewards_0002
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "rewards_0003"
down_revision: str | Sequence[str] | None = "rewards_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    due = sa.text("state = 'reversed' AND next_attempt_at IS NOT NULL")
    op.create_index(
        "ix_rewards_reversals_due",
        "rewards_rewards",
        ["program", "next_attempt_at"],
        sqlite_where=due,
        postgresql_where=due,
    )


def downgrade() -> None:
    op.drop_index("ix_rewards_reversals_due", table_name="rewards_rewards")
