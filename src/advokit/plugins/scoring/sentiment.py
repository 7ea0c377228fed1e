"""The sentiment of what advocates write: review texts and survey comments.

Texts are scored once with VADER, a lexicon model that ships its data
(``pip install 'advokit[sentiment]'``), by :func:`score_sentiment`, which
stores each action's compound score in ``scoring_sentiment``; the
``sentiment`` scorer then aggregates the stored scores in SQL. Scoring is
Python (VADER is a Python model) but runs once per text, in batches, never at
query time.

Formulas and worked examples: ``docs/metrics-network.md``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

import attrs
import sqlalchemy as sa

from advokit.core.errors import InvalidValue
from advokit.core.extras import require
from advokit.core.store import database
from advokit.core.store import queries as q
from advokit.core.store.driver import dialect_insert
from advokit.plugins.scoring.model import Score, mean_interval
from advokit.plugins.scoring.scope import APPLIED, Scope, Scorer, by_period
from advokit.plugins.scoring.segments import Condition, Segment
from advokit.plugins.scoring.sql import count_where
from advokit.plugins.scoring.tables import sentiment_t
from advokit.plugins.scoring.types import row_id

if TYPE_CHECKING:
    from advokit.core.program import Program
    from advokit.plugins.scoring.settings import ScoringSettings

__all__ = [
    "NEGATIVE",
    "POSITIVE",
    "QUERIES",
    "SCORERS",
    "SOURCES",
    "TEXT_FIELDS",
    "Sentiment",
    "compound",
    "score_sentiment",
    "sentiment_of",
]

#: the action kinds that carry text, and the data field that holds it
TEXT_FIELDS = {"review.posted": "text", "survey.answered": "comment"}
#: the ``source`` option: which texts a score is over
SOURCES = {
    "all": tuple(TEXT_FIELDS),
    "reviews": ("review.posted",),
    "surveys": ("survey.answered",),
}
#: VADER's standard thresholds on the compound score
POSITIVE = 0.05
NEGATIVE = -0.05
#: the most texts :func:`score_sentiment` scores and stores in one transaction
MAX_BATCH = 5000

t = q.actions_t
s = sentiment_t


@functools.cache
def _analyzer() -> Any:
    vader = require("vaderSentiment.vaderSentiment", "sentiment")
    return vader.SentimentIntensityAnalyzer()  # loads its lexicon once


def compound(text: str) -> float:
    """VADER's compound score of ``text``: -1 (most negative) to 1 (most positive)."""
    return float(_analyzer().polarity_scores(str(text))["compound"])


def _text() -> Any:
    """An action's text, in SQL: a review's ``text``, a survey answer's ``comment``."""
    return sa.case(
        *((t.c.kind == kind, t.c.data[field].as_string()) for kind, field in TEXT_FIELDS.items())
    )


def _has_text() -> list[Any]:
    """Conditions on ``q.actions_t``: the action has a text (not empty)."""
    text = _text()
    return [text.is_not(None), text != ""]


def _unscored() -> Any:
    """The actions joined to their stored sentiment, for ``sentiment_t.c.action_id IS NULL``."""
    return t.outerjoin(s, s.c.action_id == t.c.id)


def score_sentiment(program: Program, *, batch: int = 1000, settings: ScoringSettings) -> int:
    """Score every applied review text and survey comment not scored yet, and store it.

    Each text is scored once: run it after recording (from a scheduled job, or
    before asking for the ``sentiment`` score); a second run scores only what
    was applied since. ``batch`` texts are read, scored and stored per
    transaction. Returns how many texts this call stored.

    Raises:
        MissingExtra: vaderSentiment is not installed (``advokit[sentiment]``).
    """
    if not isinstance(batch, int) or isinstance(batch, bool) or not 1 <= batch <= MAX_BATCH:
        raise InvalidValue("score_sentiment.batch", batch, f"an integer from 1 to {MAX_BATCH}")
    require("vaderSentiment.vaderSentiment", "sentiment")
    stored, after = 0, 0
    while True:
        rows = _pending(program, after, batch)
        if not rows:
            return stored
        stored += _store(program, rows)
        after = rows[-1][0]


def _pending(program: Program, after: int, batch: int) -> list[Any]:
    """The next ``batch`` texts without a stored score, by action id."""
    statement = (
        sa.select(t.c.id, t.c.advocate_id, t.c.occurred_at, _text())
        .select_from(_unscored())
        .where(
            t.c.program == program.name,
            t.c.kind.in_(TEXT_FIELDS),
            t.c.status == APPLIED,
            *_has_text(),
            s.c.action_id.is_(None),
            t.c.id > after,
        )
        .order_by(t.c.id)
        .limit(batch)
    )
    with program.engine.connect() as conn:
        return list(conn.execute(statement).all())


def _store(program: Program, rows: list[Any]) -> int:
    values = [
        {
            "action_id": action_id,
            "program": program.name,
            "advocate_id": advocate_id,
            "compound": compound(text),
            "occurred_at": occurred_at,
        }
        for action_id, advocate_id, occurred_at, text in rows
    ]
    with database.transaction(program.engine) as conn:
        # another process may have scored some meanwhile: theirs stand
        insert = dialect_insert(conn, s).values(values).on_conflict_do_nothing()
        return len(conn.execute(insert.returning(s.c.action_id)).all())


def _check_source(field: str, source: Any) -> tuple[str, ...]:
    if source not in SOURCES:
        raise InvalidValue(field, source, ", ".join(SOURCES))
    return SOURCES[source]


class Sentiment(Scorer):
    """The mean VADER compound of review texts and survey comments, and the
    shares of positive, neutral and negative ones."""

    name = "sentiment"
    description = (
        "mean VADER compound (-1..1) of review texts and survey comments; "
        "% positive / neutral / negative"
    )
    options = {"source": "all", "per_advocate": False}

    def check(self, options: Mapping[str, Any]) -> None:
        _check_source("sentiment.source", options["source"])
        if not isinstance(options["per_advocate"], bool):
            raise InvalidValue("sentiment.per_advocate", options["per_advocate"], "True or False")

    def compute(self, scope: Scope) -> Score:
        kinds = SOURCES[scope.options["source"]]
        per_advocate = scope.options["per_advocate"]
        rows = scope.rows(_aggregate(scope, kinds, per_advocate=per_advocate))
        unscored = _count_unscored(scope, kinds)
        # per advocate, the whole window is not the sum of its periods: an advocate
        # writing in May and June has one mean over the window
        whole = None
        if per_advocate and scope.by:
            whole = scope.rows(
                _aggregate(attrs.evolve(scope, by=None), kinds, per_advocate=True)
            ) or [None]

        def make(row: Any, day: date | None) -> Score:
            _, n, total, squares, positive, negative = row
            neutral = n - positive - negative
            return Score(
                name=self.name,
                value=total / n if n else None,
                n=n,
                unit="compound",
                counts={"positive": positive, "neutral": neutral, "negative": negative},
                inputs=scope.inputs(),
                interval=mean_interval(total, squares, n, low=-1.0, high=1.0),
                label="per_advocate" if per_advocate else "per_text",
                period=day,
                missing=_missing(n, unscored) if day is None else (),
                details=_shares(positive, neutral, negative, n),
            )

        return by_period(scope, rows, make, 6, whole[0] if whole else None)


def _aggregate(scope: Scope, kinds: tuple[str, ...], *, per_advocate: bool) -> Any:
    """One row per period: ``period, n, sum, sum of squares, positive, negative``,
    over the stored scores of the texts in the scope (or each advocate's mean)."""
    period = scope.period(t.c.occurred_at).label("period")
    scored = sa.select(period, t.c.advocate_id, s.c.compound.label("value")).select_from(
        s.join(t, t.c.id == s.c.action_id)
    )
    scored = scored.where(*scope.actions(kinds))
    if per_advocate:
        inner = scored.subquery()
        scored = sa.select(
            inner.c.period, inner.c.advocate_id, sa.func.avg(inner.c.value).label("value")
        ).group_by(inner.c.period, inner.c.advocate_id)
    units = scored.subquery()
    value = units.c.value
    return sa.select(
        units.c.period,
        sa.func.count(),
        sa.func.sum(value),
        sa.func.sum(value * value),
        count_where(value >= POSITIVE),
        count_where(value <= NEGATIVE),
    ).group_by(units.c.period)


def _count_unscored(scope: Scope, kinds: tuple[str, ...]) -> int:
    """How many texts in the scope have no stored score yet."""
    statement = (
        sa.select(sa.func.count())
        .select_from(_unscored())
        .where(*scope.actions(kinds), *_has_text(), s.c.action_id.is_(None))
    )
    return int(scope.rows(statement)[0][0])


def _missing(n: int, unscored: int) -> tuple[str, ...]:
    out = []
    if unscored:
        out.append(f"{unscored} texts not scored yet: run program.score_sentiment()")
    elif not n:
        out.append("no review.posted text or survey.answered comment")
    return tuple(out)


def _shares(positive: int, neutral: int, negative: int, n: int) -> dict[str, float | None]:
    """The shares of positive, neutral and negative, in %."""
    return {
        f"{name}_share": 100 * count / n if n else None
        for name, count in (("positive", positive), ("neutral", neutral), ("negative", negative))
    }


def sentiment_of(
    program: Program,
    advocate: str,
    *,
    window: Any = None,
    source: str = "all",
    settings: ScoringSettings,
) -> Score:
    """One advocate's sentiment: the mean compound of their scored texts in
    ``window`` (as ``program.score(window=...)`` accepts), with the counts.

    Raises:
        UnknownAdvocate: ``advocate`` is not enrolled in the program.
    """
    advocate_id = row_id(program, advocate)
    a = q.advocates_t
    only = Segment("advocate", Condition(lambda _: a.c.id == advocate_id, f"advocate {advocate!r}"))
    return Sentiment(settings)(program, segment=only, window=window, source=source)


SCORERS = (Sentiment,)
QUERIES = (score_sentiment, sentiment_of)
