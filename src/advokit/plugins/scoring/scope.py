"""What a scorer is asked: the program, a window, a segment, a period; and the
SQL pieces every scorer builds its one aggregate from."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, ClassVar

import attrs
import sqlalchemy as sa

from advokit.core.errors import InvalidValue, UnknownName, one_of
from advokit.core.store import queries as q
from advokit.plugins.scoring import sql
from advokit.plugins.scoring.model import PERIODS, Score, Window, period_index, trend, wilson
from advokit.plugins.scoring.segments import Segment

if TYPE_CHECKING:
    from advokit.core.program import Program
    from advokit.plugins.scoring.settings import ScoringSettings

__all__ = ["Scope", "Scorer", "by_period", "table_exists"]

APPLIED = "applied"


@attrs.frozen
class Scope:
    """One question to a scorer.

    Attributes:
        program: the program asked.
        settings: the scoring settings (weights, costs, types...).
        window: the actions looked at: ``occurred_at`` in ``[start, end)``.
        segment: the advocates looked at (None: all).
        by: ``day``, ``week``, ``month`` or ``year`` (UTC), or None.
        options: the scorer's own options, defaults filled in.
        now: the program clock's now, once per question.
    """

    program: Program
    settings: ScoringSettings
    window: Window
    segment: Segment | None
    by: str | None
    options: Mapping[str, Any]
    now: datetime

    @classmethod
    def of(
        cls,
        program: Program,
        settings: ScoringSettings,
        *,
        segment: str | Segment | None = None,
        window: Any = None,
        by: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Scope:
        """A scope from what ``program.score`` and the scoring queries accept,
        checked: a window, a segment's name and a period."""
        now = program.clock()
        return cls(
            program=program,
            settings=settings,
            window=Window.coerce(window, now),
            segment=_segment(program, segment),
            by=_check_by(by),
            options=dict(options or {}),
            now=now,
        )

    @property
    def name(self) -> str:
        return self.program.name

    @property
    def dialect(self) -> str:
        return self.program.engine.dialect.name

    def inputs(self, **extra: Any) -> dict[str, Any]:
        """What was asked, for :attr:`Score.inputs`."""
        out: dict[str, Any] = {
            "window": self.window,
            "segment": self.segment.name if self.segment else None,
            "by": self.by,
        }
        return {**out, **self.options, **extra}

    def unfiltered(self) -> Scope:
        """This scope over everyone and all time: what a segment's own condition
        reads (a condition applying the segment it defines would never end)."""
        return attrs.evolve(self, segment=None, window=Window())

    # -- SQL pieces

    def members(self, column: Any) -> list[Any]:
        """Conditions keeping ``column`` (an advocate row id) inside the segment."""
        if self.segment is None:
            return []
        a = q.advocates_t
        return [
            column.in_(sa.select(a.c.id).where(a.c.program == self.name, self.segment.where(self)))
        ]

    def advocates(self) -> list[Any]:
        """Conditions on ``q.advocates_t`` for the population: program and segment."""
        a = q.advocates_t
        return [a.c.program == self.name, *([self.segment.where(self)] if self.segment else [])]

    def during(self, column: Any) -> list[Any]:
        """Conditions keeping the instant ``column`` inside the window."""
        return self.window.during(column)

    def actions(self, kinds: str | Iterable[str], *, windowed: bool = True) -> list[Any]:
        """Conditions on ``q.actions_t``: this program's applied actions of ``kinds``,
        in the window and the segment."""
        t = q.actions_t
        kinds = [kinds] if isinstance(kinds, str) else list(kinds)
        kind = t.c.kind == kinds[0] if len(kinds) == 1 else t.c.kind.in_(kinds)
        clauses = [t.c.program == self.name, kind, t.c.status == APPLIED]
        if windowed:
            clauses += self.during(t.c.occurred_at)
        return clauses + self.members(t.c.advocate_id)

    def advocacy(self, actions: Any) -> list[Any]:
        """Conditions on ``actions`` (the actions table or an alias of it): this
        program's applied actions of the settings' advocacy kinds, in any window."""
        return [
            actions.c.program == self.name,
            actions.c.status == APPLIED,
            actions.c.kind.in_(sorted(self.settings.advocacy_kinds)),
        ]

    def period(self, column: Any) -> Any:
        """The first day of ``column``'s period as ``YYYY-MM-DD`` text, in SQL
        (a constant without ``by``)."""
        return sql.period_of(column, self.by, self.dialect)

    def rows(self, statement: Any) -> Sequence[Any]:
        with self.program.engine.connect() as conn:
            return conn.execute(statement).all()

    def table_exists(self, table: sa.Table) -> bool:
        """Whether a plugin's table is there (the plugin is part of the program)."""
        return table_exists(self.program, table)


def table_exists(program: Program, table: sa.Table) -> bool:
    """Whether a plugin's table is in the program's database."""
    return sa.inspect(program.engine).has_table(table.name)


def _check_by(by: Any) -> str | None:
    if by is not None and by not in PERIODS:
        raise InvalidValue("by", by, f"{', '.join(PERIODS)} or None")
    return by  # type: ignore[no-any-return]


class Scorer:
    """A metric: subclasses set the class attributes and write :meth:`compute`.

    ``program.score(name, segment=, window=, by=, **options)`` validates the
    common arguments and the options (names in :attr:`options`, with their
    defaults; :meth:`check` checks values) and calls :meth:`compute` with a
    :class:`Scope`. A scorer computes with SQL aggregates: one query over the
    rows, never a Python loop over them.
    """

    name: ClassVar[str]
    #: what the figure means, one line (``advokit score --list``)
    description: ClassVar[str] = ""
    #: the options :meth:`compute` reads, and their defaults
    options: ClassVar[Mapping[str, Any]] = {}
    #: whether ``by=`` is supported
    periodic: ClassVar[bool] = True

    def __init__(self, settings: ScoringSettings | None = None) -> None:
        from advokit.plugins.scoring.settings import ScoringSettings

        self.settings = settings if settings is not None else ScoringSettings()

    def __call__(
        self,
        program: Program,
        *,
        segment: str | Segment | None = None,
        window: Any = None,
        by: str | None = None,
        **options: Any,
    ) -> Score:
        unknown = set(options) - set(self.options)
        if unknown:
            raise InvalidValue(
                f"score({self.name!r}) option",
                sorted(unknown)[0],
                one_of(self.options) if self.options else "no options",
            )
        if by is not None and not self.periodic:
            raise InvalidValue("by", by, f"None: {self.name!r} is not computed per period")
        scope = Scope.of(
            program,
            self.settings,
            segment=segment,
            window=window,
            by=by,
            options={**self.options, **options},
        )
        self.check(scope.options)
        return self.compute(scope)

    def check(self, options: Mapping[str, Any]) -> None:
        """Raise InvalidValue for an option value that is not acceptable."""

    def compute(self, scope: Scope) -> Score:
        raise NotImplementedError

    def share(self, scope: Scope, hits: int, n: int, *, missing: str, **fields: Any) -> Score:
        """A share of ``n`` in %, with its Wilson interval: ``missing`` says why when n is 0.

        ``fields`` are the Score's others (``counts``, ``period``, ``details``...).
        """
        return Score(
            name=self.name,
            value=hits * 100 / n if n else None,
            n=n,
            unit="%",
            inputs=scope.inputs(),
            interval=wilson(hits, n),
            missing=() if n else (missing,),
            **fields,
        )


def _segment(program: Program, segment: str | Segment | None) -> Segment | None:
    if segment is None or isinstance(segment, Segment):
        return segment
    if not isinstance(segment, str):
        raise InvalidValue("segment", segment, "a segment name, a Segment or None")
    segments = program.registries.segments
    if segment not in segments:
        raise UnknownName("segment", segment, segments)
    return segments[segment]  # type: ignore[no-any-return]


def by_period(
    scope: Scope,
    rows: Iterable[Any],
    make: Callable[[Any, date | None], Score],
    width: int,
    whole: Sequence[Any] | None = None,
) -> Score:
    """The score of ``rows`` grouped by period (the first column of ``width``):
    one :class:`Score` per period, and the whole window's.

    ``make(row, period)`` builds one score from one aggregated row. The whole
    window's row is the periods' rows added up, or ``whole`` when the figure does
    not add up (distinct people, quantiles: the caller queries it with ``by=None``).
    """
    rows = list(rows)
    if whole is None:
        whole = (None, *(sum(row[i] or 0 for row in rows) for i in range(1, width)))
    if scope.by is None:
        return make(whole, None)
    periods = sorted(
        (make(row, date.fromisoformat(str(row[0])[:10])) for row in rows if row[0] is not None),
        key=lambda s: s.period or date.min,
    )
    points = [
        (period_index(s.period, scope.by), s.value)
        for s in periods
        if s.value is not None and s.period is not None
    ]
    return attrs.evolve(make(whole, None), periods=periods, trend=trend(points))
