"""Progress in one row per advocate (``badges_states``), with the highest level awarded.

Per advocate and badge, ``badges_progress`` cost a row read and written for
every badge an action moved; one JSON row per advocate costs one. The
highest level ever awarded moves into it too, so deciding a grant needs no
read of the awards.

Revision ID: badges_0002
Revises: badges_0001
Create Date: 2026-11-22
"""

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "badges_0002"
down_revision: str | Sequence[str] | None = "badges_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_COLUMNS = ("advocate_id", "badge", "program", "count", "total", "streak", "last_period")


def _recent(stored: Any) -> list[str]:
    return json.loads(stored) if isinstance(stored, str) else list(stored or [])


def upgrade() -> None:
    states = op.create_table(
        "badges_states",
        sa.Column("advocate_id", sa.BigInteger(), nullable=False),
        sa.Column("program", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("progress", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["advocate_id"], ["advokit_advocates.id"]),
        sa.PrimaryKeyConstraint("advocate_id"),
    )
    conn = op.get_bind()
    found: dict[int, tuple[str, dict[str, list[Any]]]] = {}
    rows = conn.execute(sa.text(f"SELECT {', '.join(OLD_COLUMNS)}, recent FROM badges_progress"))
    for advocate_id, badge, program, count, total, streak, last_period, recent in rows:
        progress = found.setdefault(advocate_id, (program, {}))[1]
        progress[badge] = [count, total, streak, last_period, _recent(recent), 0]
    awarded = conn.execute(
        sa.text(
            "SELECT advocate_id, program, badge, max(level) FROM badges_awards"
            " GROUP BY advocate_id, program, badge"
        )
    )
    for advocate_id, program, badge, level in awarded:
        progress = found.setdefault(advocate_id, (program, {}))[1]
        progress.setdefault(badge, [0, 0, 0, None, [], 0])[5] = level
    if found:
        op.bulk_insert(
            states,
            [
                {"advocate_id": a, "program": program, "version": 1, "progress": progress}
                for a, (program, progress) in found.items()
            ],
        )
    op.drop_table("badges_progress")


def downgrade() -> None:
    progress_t = op.create_table(
        "badges_progress",
        sa.Column("advocate_id", sa.BigInteger(), nullable=False),
        sa.Column("badge", sa.String(length=63), nullable=False),
        sa.Column("program", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("streak", sa.Integer(), nullable=False),
        sa.Column("last_period", sa.String(length=10), nullable=True),
        sa.Column("recent", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["advocate_id"], ["advokit_advocates.id"]),
        sa.PrimaryKeyConstraint("advocate_id", "badge"),
    )
    conn = op.get_bind()
    rows = []
    for advocate_id, program, progress in conn.execute(
        sa.text("SELECT advocate_id, program, progress FROM badges_states")
    ):
        stored = json.loads(progress) if isinstance(progress, str) else progress
        for badge, (count, total, streak, last_period, recent, _awarded) in stored.items():
            rows.append(
                {
                    "advocate_id": advocate_id,
                    "badge": badge,
                    "program": program,
                    "version": 1,
                    "count": count,
                    "total": total,
                    "streak": streak,
                    "last_period": last_period,
                    "recent": recent,
                }
            )
    if rows:
        op.bulk_insert(progress_t, rows)
    op.drop_table("badges_states")
