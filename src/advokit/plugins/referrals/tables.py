"""The referrals plugin's tables: the codes advocates hand out."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import SQLModel

from advokit.core.store.types import BigIntegerPK, UTCDateTime

__all__ = ["codes_t"]

codes_t = sa.Table(
    "referrals_codes",
    SQLModel.metadata,
    sa.Column("id", BigIntegerPK, primary_key=True),
    sa.Column("program", sa.String(100), nullable=False),
    sa.Column("code", sa.String(32), nullable=False),
    sa.Column("advocate_id", sa.BigInteger, sa.ForeignKey("advokit_advocates.id"), nullable=False),
    sa.Column("vanity", sa.Boolean, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=True),
    sa.Column("deactivated_at", UTCDateTime(), nullable=True),
    sa.UniqueConstraint("program", "code", name="uq_referrals_code"),
    # one generated code in use per advocate, whatever the number of processes asking
    sa.Index(
        "uq_referrals_generated",
        "advocate_id",
        unique=True,
        sqlite_where=sa.text("NOT vanity AND deactivated_at IS NULL"),
        postgresql_where=sa.text("NOT vanity AND deactivated_at IS NULL"),
    ),
)
