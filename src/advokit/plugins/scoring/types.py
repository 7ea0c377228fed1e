"""Advocate types: who is a loyal customer, a passionate enthusiast, a
micro-influencer, a referral advocate, a social sharer.

Each type is a documented rule, a :class:`Condition` evaluated in SQL over the
advocates like a segment's, so that "how many social sharers?" and "the NPS of
social sharers" are each one aggregate::

    Scoring(types=[AdvocateType("social_sharer", performed_at_least("share.posted", 5))])
    program.score("nps", segment=Segment("sharers", advocate_type("social_sharer")))
    program.advocate_types_of("ann")   # frozenset({'social_sharer', 'loyal_customer'})

A type of the same name as a default replaces it; a new name adds a type. An
advocate may have several types, or none. Rules count an advocate's applied
actions up to the window's end (all of them without a window), whatever the
segment asked about. Formulas: ``docs/metrics-advocacy.md``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs
import sqlalchemy as sa

from advokit.core.errors import ConfigurationError, InvalidValue, UnknownName
from advokit.core.store import queries as q
from advokit.plugins.referrals.tables import referrals_t
from advokit.plugins.scoring.features import answer_score, survey_name
from advokit.plugins.scoring.model import Score
from advokit.plugins.scoring.scope import Scope, Scorer
from advokit.plugins.scoring.segments import Condition

if TYPE_CHECKING:
    from advokit.core.program import Program
    from advokit.plugins.scoring.settings import ScoringSettings

__all__ = [
    "DEFAULT_TYPES",
    "ONE_ADVOCATE",
    "QUERIES",
    "SCORERS",
    "AdvocateType",
    "AdvocateTypes",
    "advocate_type",
    "advocate_types_of",
    "attribute_between",
    "converted_referrals",
    "latest_nps",
    "one_advocate",
    "performed_at_least",
    "population",
    "reference_time",
    "row_id",
    "share_reach",
    "tenure",
    "types_of",
]

_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}")

a = q.advocates_t
t = q.actions_t

#: a scope option: the row id of the one advocate a rule is evaluated for
ONE_ADVOCATE = "_advocate_id"


# -- what every advocacy metric shares: the population and "now"


def reference_time(scope: Scope) -> datetime:
    """The instant recency and tenure are measured at: the window's end, or now
    when the window is open-ended or ends in the future."""
    end = scope.window.end
    return end if end is not None and end < scope.now else scope.now


def population(scope: Scope) -> list[Any]:
    """Conditions on ``q.advocates_t``: the program's advocates in the segment,
    enrolled before the window's end. Advocates without an action count."""
    clauses = scope.advocates()
    if scope.window.end is not None:
        clauses.append(a.c.enrolled_at < scope.window.end)
    return clauses


def row_id(program: Program, advocate: Any) -> int:
    """The row id of an enrolled advocate; UnknownAdvocate otherwise."""
    if not isinstance(advocate, str) or not advocate:
        raise InvalidValue("advocate", advocate, "an advocate's external id")
    with program.engine.connect() as conn:
        return q.advocate_row_id(conn, program.name, advocate)


def one_advocate(scope: Scope, advocate_id: int) -> Scope:
    """The scope asked about one advocate: rules read that advocate's rows only."""
    return attrs.evolve(scope, options={**scope.options, ONE_ADVOCATE: advocate_id})


def _up_to_end(scope: Scope, column: Any) -> list[Any]:
    return [column < scope.window.end] if scope.window.end is not None else []


def _at_least(field: str, value: Any, low: float = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigurationError(field, value, f"a number, {low:g} or more")
    if value < low:
        raise ConfigurationError(field, value, f"a number, {low:g} or more")


# -- the building blocks of rules
#
# Each is ``a.c.id IN (one GROUP BY over the actions)``: the database hashes the
# set once for a population. Asked about one advocate (``advocate_types_of``,
# ``score("cas", advocate=...)``), the scope's :data:`ONE_ADVOCATE` option
# narrows each GROUP BY to that advocate's rows (an index range).


def _narrowed(scope: Scope, column: Any) -> list[Any]:
    one = scope.options.get(ONE_ADVOCATE)
    return [column == one] if one is not None else []


def _actions_of(scope: Scope, kinds: Sequence[str]) -> list[Any]:
    """Conditions on ``q.actions_t``: this program's applied actions of ``kinds``
    up to the window's end (of the one advocate, if so asked)."""
    kind = t.c.kind == kinds[0] if len(kinds) == 1 else t.c.kind.in_(kinds)
    return [
        t.c.program == scope.name,
        kind,
        t.c.status == "applied",
        *_up_to_end(scope, t.c.occurred_at),
        *_narrowed(scope, t.c.advocate_id),
    ]


def performed_at_least(kinds: str | Iterable[str], count: int) -> Condition:
    """Advocates with ``count`` or more applied actions of ``kinds`` (up to the window's end)."""
    kinds = [kinds] if isinstance(kinds, str) else sorted(kinds)
    if not kinds or not all(isinstance(kind, str) and kind for kind in kinds):
        raise ConfigurationError("performed_at_least.kinds", kinds, "action kind names")
    _at_least("performed_at_least.count", count)

    def where(s: Scope) -> Any:
        counted = (
            sa.select(t.c.advocate_id)
            .where(*_actions_of(s, kinds))
            .group_by(t.c.advocate_id)
            .having(sa.func.count() >= count)
        )
        return a.c.id.in_(counted)

    return Condition(where, f"performed_at_least({', '.join(kinds)!r}, {count})")


def tenure(days: float) -> Condition:
    """Advocates enrolled ``days`` or more before the window's end (or now)."""
    _at_least("tenure.days", days, 0)
    return Condition(
        lambda s: a.c.enrolled_at <= reference_time(s) - timedelta(days=days), f"tenure({days})"
    )


def latest_nps(at_least: int, *, survey: str = "nps") -> Condition:
    """Advocates whose latest answer to ``survey`` (up to the window's end) is ``at_least``."""
    _at_least("latest_nps.at_least", at_least, 0)

    def where(s: Scope) -> Any:
        ranked = (
            sa.select(
                t.c.advocate_id,
                answer_score().label("score"),
                sa.func.row_number()
                .over(
                    partition_by=t.c.advocate_id, order_by=(t.c.occurred_at.desc(), t.c.id.desc())
                )
                .label("rank"),
            )
            .where(*_actions_of(s, ["survey.answered"]), survey_name() == survey)
            .subquery()
        )
        latest = sa.select(ranked.c.advocate_id).where(
            ranked.c.rank == 1, ranked.c.score >= at_least
        )
        return a.c.id.in_(latest)

    return Condition(where, f"latest_nps({at_least})")


def attribute_between(name: str, low: int, high: int) -> Condition:
    """Advocates whose integer attribute ``name`` is in ``[low, high]``."""
    if not isinstance(name, str) or not name:
        raise ConfigurationError("attribute_between.name", name, "a non-empty attribute name")
    _at_least("attribute_between.low", low, -math.inf)
    _at_least("attribute_between.high", high, low)
    return Condition(
        lambda s: a.c.attributes[name].as_integer().between(low, high),
        f"attribute_between({name!r}, {low}, {high})",
    )


def share_reach(at_least: int) -> Condition:
    """Advocates whose ``share.posted`` actions' ``reach`` add up to ``at_least``."""
    _at_least("share_reach.at_least", at_least)

    def where(s: Scope) -> Any:
        reach = sa.func.coalesce(sa.func.sum(t.c.data["reach"].as_integer()), 0)
        summed = (
            sa.select(t.c.advocate_id)
            .where(*_actions_of(s, ["share.posted"]))
            .group_by(t.c.advocate_id)
            .having(reach >= at_least)
        )
        return a.c.id.in_(summed)

    return Condition(where, f"share_reach({at_least})")


def converted_referrals(at_least: int) -> Condition:
    """Advocates who referred ``at_least`` friends who converted (not voided);
    nobody when the referrals plugin is not part of the program."""
    _at_least("converted_referrals.at_least", at_least)

    def where(s: Scope) -> Any:
        if not s.table_exists(referrals_t):
            return sa.false()
        r = referrals_t
        converted = (
            sa.select(r.c.referrer_id)
            .where(
                r.c.program == s.name,
                r.c.state != "voided",
                r.c.converted_at.is_not(None),
                *_up_to_end(s, r.c.converted_at),
                *_narrowed(s, r.c.referrer_id),
            )
            .group_by(r.c.referrer_id)
            .having(sa.func.count() >= at_least)
        )
        return a.c.id.in_(converted)

    return Condition(where, f"converted_referrals({at_least})")


# -- types


def _name(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise ConfigurationError(
            "AdvocateType.name", value, "1 to 63 lower-case letters, digits, '.', '_', '-'"
        )


def _rule(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, Condition):
        raise ConfigurationError(
            "AdvocateType.rule", value, "a Condition (performed_at_least(...), tenure(...), ...)"
        )


@attrs.frozen
class AdvocateType:
    """A kind of advocate and the rule that says who is one.

    Args:
        name: how metrics ask for it (``advocate_type("social_sharer")``).
        rule: a :class:`Condition` on advocates, evaluated in SQL.
        description: the rule in words, for people.
    """

    name: str = attrs.field(validator=_name)
    rule: Condition = attrs.field(validator=_rule)
    description: str = ""


#: The defaults: each rule is documented in ``docs/metrics-advocacy.md``.
DEFAULT_TYPES = (
    AdvocateType(
        "loyal_customer",
        performed_at_least("purchase.completed", 3) & tenure(180),
        "3 or more purchases, enrolled 180 days or more",
    ),
    AdvocateType(
        "passionate_enthusiast",
        latest_nps(9) & performed_at_least(("review.posted", "ugc.submitted", "community.post"), 2),
        "latest NPS answer 9 or 10, and 2 or more reviews, UGC or community posts",
    ),
    AdvocateType(
        "micro_influencer",
        attribute_between("followers", 1_000, 100_000) | share_reach(1_000),
        "attributes['followers'] from 1,000 to 100,000, or shares reaching 1,000 or more",
    ),
    AdvocateType(
        "referral_advocate",
        converted_referrals(2) | performed_at_least("referral.invited", 3),
        "2 or more referred friends converted, or 3 or more invitations",
    ),
    AdvocateType("social_sharer", performed_at_least("share.posted", 3), "3 or more shares"),
)


def types_of(settings: ScoringSettings) -> dict[str, AdvocateType]:
    """The defaults, with ``Scoring(types=[...])`` replacing them by name and adding to them."""
    given = settings.types
    accepted = "a list of AdvocateType with distinct names, or None"
    if given is None:
        given = ()
    if not isinstance(given, Sequence) or isinstance(given, str):
        raise ConfigurationError("Scoring.types", given, accepted)
    names = [getattr(kind, "name", None) for kind in given]
    if not all(isinstance(kind, AdvocateType) for kind in given) or len(set(names)) < len(names):
        raise ConfigurationError("Scoring.types", given, accepted)
    return {**{kind.name: kind for kind in DEFAULT_TYPES}, **{kind.name: kind for kind in given}}


def advocate_type(name: str) -> Condition:
    """Advocates of the type ``name`` (a default or one given to ``Scoring(types=...)``)."""
    if not isinstance(name, str) or not name:
        raise ConfigurationError("advocate_type.name", name, "an advocate type's name")

    def where(s: Scope) -> Any:
        types = types_of(s.settings)
        if name not in types:
            raise UnknownName("advocate_type", name, types)
        return types[name].rule.where(s)

    return Condition(where, f"advocate_type({name!r})")


class AdvocateTypes(Scorer):
    """How many advocates of the population are of each type; the value is the
    share with at least one type, in %."""

    name = "advocate_types"
    description = "advocates per type; value: % of advocates with at least one type"
    periodic = False

    def __init__(self, settings: ScoringSettings | None = None) -> None:
        super().__init__(settings)
        types_of(self.settings)  # a bad Scoring(types=...) fails when the program is built

    def compute(self, scope: Scope) -> Score:
        types = types_of(scope.settings)
        # one row per combination of types (at most 2^types), each rule evaluated
        # once per advocate; the per-type counts are sums of those rows
        flags = (
            sa.select(
                *(
                    sa.case((kind.rule.where(scope), 1), else_=0).label(f"type_{i}")
                    for i, kind in enumerate(types.values())
                )
            )
            .where(*population(scope))
            .subquery("flags")
        )
        columns = list(flags.c)
        rows = scope.rows(sa.select(*columns, sa.func.count()).group_by(*columns))
        n = sum(row[-1] for row in rows)
        per_type = [sum(row[-1] for row in rows if row[i]) for i in range(len(types))]
        typed = sum(row[-1] for row in rows if any(row[:-1]))
        return self.share(
            scope,
            typed,
            n,
            counts={
                **dict(zip(types, per_type, strict=True)),
                "typed": typed,
                "untyped": n - typed,
            },
            details={"rules": {name: str(kind.rule) for name, kind in types.items()}},
            missing="no advocates in the population",
        )


def advocate_types_of(
    program: Program, advocate: str, *, settings: ScoringSettings, window: Any = None
) -> frozenset[str]:
    """The names of the types ``advocate`` (an external id) is of, up to the window's end."""
    advocate_id = row_id(program, advocate)
    scope = one_advocate(Scope.of(program, settings, window=window), advocate_id)
    types = types_of(settings)
    columns = [sa.case((kind.rule.where(scope), 1), else_=0) for kind in types.values()]
    row = scope.rows(sa.select(*columns).where(a.c.id == advocate_id))[0]
    return frozenset(name for name, flag in zip(types, row, strict=True) if flag)


SCORERS = (AdvocateTypes,)
QUERIES = (advocate_types_of,)
