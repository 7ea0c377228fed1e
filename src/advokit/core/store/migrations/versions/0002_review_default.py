"""A held action's own default for an overdue review.

Revision ID: 0002_review_default
Revises: 0001_core_schema
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_review_default"
down_revision: str | Sequence[str] | None = "0001_core_schema"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("advokit_actions") as batch:
        batch.add_column(sa.Column("review_default", sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("advokit_actions") as batch:
        batch.drop_column("review_default")
