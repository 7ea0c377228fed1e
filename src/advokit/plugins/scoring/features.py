"""Per-advocate aggregates of their actions: what composite scores, types and
the potential model are built from. Each is one GROUP BY over the actions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from advokit.core.store import queries as q

if TYPE_CHECKING:
    from advokit.plugins.scoring.scope import Scope

__all__ = ["COUNTED", "advocate_features", "answer_score", "latest_answers", "survey_name"]

#: feature column -> the action kind it counts
COUNTED = {
    "purchases": "purchase.completed",
    "reviews": "review.posted",
    "shares": "share.posted",
    "ugc": "ugc.submitted",
    "community": "community.post",
    "answers": "survey.answered",
    "invitations": "referral.invited",
    "referral_shares": "referral.shared",
}

t = q.actions_t


def answer_score() -> Any:
    """A ``survey.answered`` action's score, in SQL."""
    return t.c.data["score"].as_integer()


def survey_name() -> Any:
    """A ``survey.answered`` action's survey, ``nps`` when it names none."""
    return sa.func.coalesce(t.c.data["survey"].as_string(), "nps")


def latest_answers(scope: Scope, survey: str = "nps", *, windowed: bool = True) -> sa.Select[Any]:
    """Each advocate's latest answer to ``survey`` (up to the window's end):
    columns ``advocate_id``, ``score``, ``occurred_at``."""
    clauses = scope.actions("survey.answered", windowed=False)
    if windowed and scope.window.end is not None:
        clauses.append(t.c.occurred_at < scope.window.end)
    ranked = (
        sa.select(
            t.c.advocate_id,
            answer_score().label("score"),
            t.c.occurred_at,
            sa.func.row_number()
            .over(partition_by=t.c.advocate_id, order_by=(t.c.occurred_at.desc(), t.c.id.desc()))
            .label("rank"),
        )
        .where(*clauses, survey_name() == survey)
        .subquery()
    )
    return sa.select(ranked.c.advocate_id, ranked.c.score, ranked.c.occurred_at).where(
        ranked.c.rank == 1
    )


def advocate_features(scope: Scope, *, kinds: dict[str, str] | None = None) -> sa.Select[Any]:
    """One row per advocate with an applied action in the window and segment:

    ``advocate_id``; a count per :data:`COUNTED` column (or ``kinds``);
    ``revenue_cents`` (sum of purchases' ``total_cents``); ``reach`` (sum of
    shares' ``reach``); ``first_at`` and ``last_at`` (their first and last
    action); ``first_advocacy_at`` (their first action of the settings'
    advocacy kinds).
    """
    kinds = COUNTED if kinds is None else kinds
    advocacy = sorted(scope.settings.advocacy_kinds)
    counts = [
        sa.func.sum(sa.case((t.c.kind == kind, 1), else_=0)).label(column)
        for column, kind in kinds.items()
    ]
    return (
        sa.select(
            t.c.advocate_id,
            *counts,
            sa.func.coalesce(
                sa.func.sum(
                    sa.case(
                        (t.c.kind == "purchase.completed", t.c.data["total_cents"].as_integer()),
                        else_=0,
                    )
                ),
                0,
            ).label("revenue_cents"),
            sa.func.coalesce(
                sa.func.sum(
                    sa.case((t.c.kind == "share.posted", t.c.data["reach"].as_integer()), else_=0)
                ),
                0,
            ).label("reach"),
            sa.func.min(t.c.occurred_at).label("first_at"),
            sa.func.max(t.c.occurred_at).label("last_at"),
            sa.func.min(sa.case((t.c.kind.in_(advocacy), t.c.occurred_at))).label(
                "first_advocacy_at"
            ),
        )
        .where(*scope.actions(sorted({*kinds.values(), *advocacy})))
        .group_by(t.c.advocate_id)
    )
