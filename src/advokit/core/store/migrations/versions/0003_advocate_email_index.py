"""An index on advocates' emails, letter case ignored: imports match rows by email.

Revision ID: 0003_advocate_email_index
Revises: 0002_review_default
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_advocate_email_index"
down_revision: str | Sequence[str] | None = "0002_review_default"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_advocate_email", "advokit_advocates", ["program", sa.text("lower(email)")])


def downgrade() -> None:
    op.drop_index("ix_advocate_email", table_name="advokit_advocates")
