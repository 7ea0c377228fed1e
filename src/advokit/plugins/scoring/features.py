"""Reading survey answers in SQL: an answer's score and survey, and each
advocate's latest answer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from advokit.core.store import queries as q

if TYPE_CHECKING:
    from advokit.plugins.scoring.scope import Scope

__all__ = ["answer_score", "latest_answers", "survey_name"]

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
