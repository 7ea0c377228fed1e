"""Occasions: birthdays and enrolment anniversaries as derived actions, from the tick.

``program.tick()`` records ``advocate.birthday`` on the advocate's birthday and
``advocate.anniversary`` on each anniversary of their enrolment, both on the
date *in the advocate's own time zone*; rules react to them like to any action::

    Program(
        name="coffee",
        plugins=[
            Occasions(),
            Points(PointsRule("advocate.birthday", points=100)),
        ],
    )

The birthday is read from the advocate's attributes (``birthday`` by default)
as ``YYYY-MM-DD`` or ``MM-DD``; someone born on 29 February celebrates on 28
February in other years. Each occasion is recorded once per year (its key
names the year), so ticking several times a day is harmless. Tick at least
daily: a day without a tick is a day whose occasions are not recorded.
"""

from __future__ import annotations

import calendar
import re
import zoneinfo
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from advokit import Action, ActionKind, hookimpl
from advokit.core.errors import ConfigurationError
from advokit.core.model import derived_key
from advokit.core.registry import Register
from advokit.core.store import database
from advokit.core.store import queries as q

__all__ = ["ANNIVERSARY", "BIRTHDAY", "Occasions"]

BIRTHDAY = "advocate.birthday"
ANNIVERSARY = "advocate.anniversary"

_MONTH_DAY = re.compile(r"(?:\d{4}-)?(\d{2})-(\d{2})")

KINDS = (
    ActionKind(
        name=BIRTHDAY,
        required={"date": str},
        description="Derived, by the tick: the advocate's birthday (local date, ISO).",
        derived=True,
    ),
    ActionKind(
        name=ANNIVERSARY,
        required={"date": str, "years": int},
        description="Derived, by the tick: an anniversary of the advocate's enrolment.",
        derived=True,
    ),
)


def celebrated_on(month: int, day: int, year: int) -> date | None:
    """The date a month-day falls on in ``year`` (29 February: the 28th in other years)."""
    if month == 2 and day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    try:
        return date(year, month, day)
    except ValueError:
        return None  # not a date at all (31 April)


class Occasions:
    """The occasions plugin.

    Args:
        birthday_attribute: the advocate attribute holding the birthday; None
            records no birthdays.
        anniversaries: record enrolment anniversaries.
    """

    plugin_name = "occasions"

    def __init__(self, *, birthday_attribute: str | None = "birthday", anniversaries: bool = True):
        if birthday_attribute is not None and (
            not isinstance(birthday_attribute, str) or not birthday_attribute
        ):
            raise ConfigurationError(
                "Occasions.birthday_attribute", birthday_attribute, "an attribute name or None"
            )
        if not isinstance(anniversaries, bool):
            raise ConfigurationError("Occasions.anniversaries", anniversaries, "True or False")
        self.birthday_attribute = birthday_attribute
        self.anniversaries = anniversaries

    @hookimpl
    def advokit_register_action_kinds(self, register: Register) -> None:
        for kind in KINDS:
            register(kind)

    @hookimpl
    def advokit_tick(self, program: Any, now: datetime) -> Iterable[Action]:
        # Candidates are found in SQL by month-day around the UTC date (every
        # time zone's local date is within a day of it); the local date decides.
        days = [(now + timedelta(days=shift)).date() for shift in (-1, 0, 1)]
        due: list[Action] = []
        with database.transaction(program.engine, write=False) as conn:
            if self.birthday_attribute is not None:
                due.extend(self._birthdays(conn, program.name, now, days))
            if self.anniversaries:
                due.extend(self._anniversaries(conn, program.name, now, days))
        return due

    def _birthdays(
        self, conn: Any, program: str, now: datetime, days: list[date]
    ) -> Iterable[Action]:
        a = q.advocates_t
        birthday = a.c.attributes[self.birthday_attribute].as_string()
        patterns = {f"{d.month:02d}-{d.day:02d}" for d in days}
        patterns |= {"02-29" for d in days if (d.month, d.day) == (2, 28)}
        matches = sa.or_(
            *(sa.or_(birthday == p, birthday.like(f"%-{p}")) for p in sorted(patterns))
        )
        rows = conn.execute(
            sa.select(a.c.external_id, a.c.timezone, birthday)
            .where(a.c.program == program, matches)
            .order_by(a.c.id)
        )
        for external_id, zone, value in rows:
            found = _MONTH_DAY.fullmatch(value or "")
            if found is None:
                continue
            local = now.astimezone(zoneinfo.ZoneInfo(zone)).date()
            if celebrated_on(int(found[1]), int(found[2]), local.year) != local:
                continue
            yield Action(
                kind=BIRTHDAY,
                advocate=external_id,
                key=derived_key(f"{BIRTHDAY}:{local.year}", external_id),
                occurred_at=now,
                data={"date": local.isoformat()},
            )

    def _anniversaries(
        self, conn: Any, program: str, now: datetime, days: list[date]
    ) -> Iterable[Action]:
        a = q.advocates_t
        enrolled_utc: Any = a.c.enrolled_at
        if conn.dialect.name == "postgresql":  # EXTRACT would use the session's time zone
            enrolled_utc = sa.func.timezone("UTC", a.c.enrolled_at)
        month, day = sa.extract("month", enrolled_utc), sa.extract("day", enrolled_utc)
        near = {(d.month, d.day) for d in days} | {(2, 29)}
        rows = conn.execute(
            sa.select(a.c.external_id, a.c.timezone, a.c.enrolled_at)
            .where(
                a.c.program == program,
                sa.or_(*(sa.and_(month == m, day == d) for m, d in sorted(near))),
                # not enrolled this year (300 days: well under a year, whatever the zones)
                a.c.enrolled_at < now - timedelta(days=300),
            )
            .order_by(a.c.id)
        )
        for external_id, zone, enrolled_at in rows:
            tz = zoneinfo.ZoneInfo(zone)
            local = now.astimezone(tz).date()
            enrolled = enrolled_at.astimezone(tz).date()
            years = local.year - enrolled.year
            if years < 1 or celebrated_on(enrolled.month, enrolled.day, local.year) != local:
                continue
            yield Action(
                kind=ANNIVERSARY,
                advocate=external_id,
                key=derived_key(f"{ANNIVERSARY}:{local.year}", external_id),
                occurred_at=now,
                data={"date": local.isoformat(), "years": years},
            )
