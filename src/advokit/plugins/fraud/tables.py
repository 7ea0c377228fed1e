"""The fraud plugin's table: the fingerprints (hashed) each advocate was seen with."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import SQLModel

from advokit.core.store.types import UTCDateTime

__all__ = ["fingerprints_t"]

fingerprints_t = sa.Table(
    "fraud_fingerprints",
    SQLModel.metadata,
    sa.Column(
        "advocate_id", sa.BigInteger, sa.ForeignKey("advokit_advocates.id"), primary_key=True
    ),
    sa.Column("kind", sa.String(20), primary_key=True),  # device, ip_user_agent
    sa.Column("value", sa.String(64), primary_key=True),  # a digest: no address is kept
    sa.Column("program", sa.String(100), nullable=False),
    sa.Column("seen", sa.BigInteger, nullable=False),
    sa.Column("last_seen_at", UTCDateTime(), nullable=False),
)
