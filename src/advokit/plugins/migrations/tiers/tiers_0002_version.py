"""A version on each tier state: states are saved with optimistic concurrency.

Revision ID: tiers_0002
Revises: tiers_0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "tiers_0002"
down_revision: str | Sequence[str] | None = "tiers_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "tiers_states",
        sa.Column("version", sa.Integer(), nullable=False, server_default=sa.text("1")),
    )


def downgrade() -> None:
    with op.batch_alter_table("tiers_states") as batch:
        batch.drop_column("version")
