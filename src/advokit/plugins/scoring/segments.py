"""Segments: named predicates over advocates, usable in every metric.

A segment is a SQL condition on the advocates table (``advokit_advocates``,
:data:`advokit.core.store.queries.advocates_t`), so that a metric over a
segment is still one aggregate in the database::

    Scoring(segments=[
        Segment("vip", tagged("vip")),
        Segment("pro_promoters", attribute("plan", "pro") & nps_category("promoter")),
    ])
    program.score("nps", segment="vip")

Conditions combine with ``&``, ``|`` and ``~``. Plugins add segments through
``advokit_register_segments``; ``program.score(segment=...)`` takes a
registered name or a :class:`Segment`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs
import sqlalchemy as sa

from advokit.core import validation as v
from advokit.core.errors import ConfigurationError, InvalidValue
from advokit.core.model import KIND_PATTERN
from advokit.core.store import queries as q

if TYPE_CHECKING:
    from advokit.plugins.scoring.scope import Scope

__all__ = [
    "Condition",
    "Segment",
    "advocate_kind",
    "attribute",
    "enrolled",
    "everyone",
    "nps_category",
    "performed",
    "tagged",
]

_NAME = v.matches(r"[a-z0-9][a-z0-9_.-]{0,62}", "1 to 63 lower-case letters, digits, '.', '_', '-'")

#: where(scope) -> a SQL condition on q.advocates_t
Where = Callable[["Scope"], Any]


@attrs.frozen
class Condition:
    """A condition on advocates, evaluated in SQL; combine with ``&``, ``|``, ``~``."""

    where: Where
    text: str

    def __and__(self, other: Condition) -> Condition:
        return Condition(lambda s: sa.and_(self.where(s), other.where(s)), f"({self} & {other})")

    def __or__(self, other: Condition) -> Condition:
        return Condition(lambda s: sa.or_(self.where(s), other.where(s)), f"({self} | {other})")

    def __invert__(self) -> Condition:
        return Condition(lambda s: sa.not_(self.where(s)), f"~{self}")

    def __str__(self) -> str:
        return self.text


def _condition(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, Condition):
        raise ConfigurationError(
            "Segment.condition", value, "a Condition (tagged(...), attribute(...), ...)"
        )


@attrs.frozen
class Segment:
    """A named condition on advocates.

    Args:
        name: how metrics and the CLI ask for it (``--segment vip``).
        condition: which advocates are in it.
        description: what it means, for people.
    """

    name: str = attrs.field(validator=_NAME)
    condition: Condition = attrs.field(validator=_condition)
    description: str = ""

    def where(self, scope: Scope) -> Any:
        return self.condition.where(scope)

    def to_json(self) -> str:
        return self.name


a = q.advocates_t


def everyone() -> Condition:
    """Every advocate of the program."""
    return Condition(lambda s: sa.true(), "everyone")


def tagged(tag: str) -> Condition:
    """Advocates carrying the segment label ``tag`` (``AddTag``)."""
    if not isinstance(tag, str) or not tag:
        raise ConfigurationError("tagged.tag", tag, "a non-empty tag")
    t = q.tags_t
    return Condition(
        lambda s: sa.exists().where(t.c.advocate_id == a.c.id, t.c.tag == tag), f"tagged({tag!r})"
    )


def attribute(name: str, value: str | int | bool) -> Condition:
    """Advocates whose ``attributes[name]`` equals ``value``."""
    if not isinstance(name, str) or not name:
        raise ConfigurationError("attribute.name", name, "a non-empty attribute name")
    if not isinstance(value, str | int | bool):
        raise ConfigurationError("attribute.value", value, "a string, an integer or a boolean")
    if isinstance(value, bool):
        where: Where = lambda s: a.c.attributes[name].as_boolean() == value  # noqa: E731
    elif isinstance(value, int):
        where = lambda s: a.c.attributes[name].as_integer() == value  # noqa: E731
    else:
        where = lambda s: a.c.attributes[name].as_string() == value  # noqa: E731
    return Condition(where, f"attribute({name!r}, {value!r})")


def advocate_kind(kind: str) -> Condition:
    """Advocates of this kind: ``customer``, ``employee``, ``partner``..."""
    return Condition(lambda s: a.c.kind == kind, f"advocate_kind({kind!r})")


def enrolled(start: datetime | None = None, end: datetime | None = None) -> Condition:
    """Advocates enrolled in ``[start, end)`` (a cohort)."""
    from advokit.plugins.scoring.model import Window

    window = Window(start, end)

    def where(s: Scope) -> Any:
        return sa.and_(sa.true(), *window.during(a.c.enrolled_at))

    return Condition(where, f"enrolled({start}, {end})")


def performed(kind: str, *, within: timedelta | None = None) -> Condition:
    """Advocates with an applied action of ``kind`` (in the last ``within``, if given)."""
    import re

    if not isinstance(kind, str) or not re.fullmatch(KIND_PATTERN, kind):
        raise ConfigurationError("performed.kind", kind, "an action kind name")
    if within is not None and (not isinstance(within, timedelta) or within <= timedelta(0)):
        raise ConfigurationError("performed.within", within, "a positive timedelta or None")
    t = q.actions_t

    def where(s: Scope) -> Any:
        clauses = [t.c.advocate_id == a.c.id, t.c.kind == kind, t.c.status == "applied"]
        if within is not None:
            clauses.append(t.c.occurred_at >= s.now - within)
        return sa.exists().where(*clauses)

    return Condition(where, f"performed({kind!r})")


CATEGORIES = ("promoter", "passive", "detractor")


def nps_category(category: str, *, survey: str = "nps") -> Condition:
    """Advocates whose latest answer to ``survey`` puts them in ``category``
    (``promoter`` 9-10, ``passive`` 7-8, ``detractor`` 0-6), whatever the window."""
    if category not in CATEGORIES:
        raise InvalidValue("nps_category.category", category, "promoter, passive or detractor")

    def where(s: Scope) -> Any:
        from advokit.plugins.scoring.features import latest_answers

        latest = latest_answers(s.unfiltered(), survey).subquery()
        score = latest.c.score
        ranges = {
            "promoter": score >= 9,
            "passive": sa.and_(score >= 7, score <= 8),
            "detractor": score <= 6,
        }
        return a.c.id.in_(sa.select(latest.c.advocate_id).where(ranges[category]))

    return Condition(where, f"nps_category({category!r})")
