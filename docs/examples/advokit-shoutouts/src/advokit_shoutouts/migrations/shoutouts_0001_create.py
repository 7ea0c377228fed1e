"""Create shoutouts_published.

Revision ID: shoutouts_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

import advokit.core.store.types

revision = "shoutouts_0001"
down_revision = None
branch_labels = ("shoutouts",)
depends_on = "advokit"


def upgrade() -> None:
    op.create_table(
        "shoutouts_published",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("advocate_id", sa.BigInteger(), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("action_key", sa.String(length=255), nullable=False),
        sa.Column("published_at", advokit.core.store.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["advocate_id"], ["advokit_advocates.id"]),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("shoutouts_published")
