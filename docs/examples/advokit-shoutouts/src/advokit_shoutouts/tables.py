"""The plugin's own table, declared on SQLModel.metadata with the plugin's prefix."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from advokit.core.store.types import BigIntegerPK, UTCDateTime


class ShoutoutRow(SQLModel, table=True):
    __tablename__ = "shoutouts_published"

    id: int | None = Field(default=None, sa_column=sa.Column(BigIntegerPK, primary_key=True))
    advocate_id: int = Field(
        sa_column=sa.Column(sa.BigInteger, sa.ForeignKey("advokit_advocates.id"), nullable=False)
    )
    text: str = Field(max_length=500)
    action_key: str = Field(max_length=255)
    published_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))


shoutouts: sa.Table = ShoutoutRow.__table__  # type: ignore[attr-defined]
