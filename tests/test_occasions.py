"""Birthdays and enrolment anniversaries, on the advocate's own date."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from advokit import Advocate, ConfigurationError
from advokit.plugins.occasions import ANNIVERSARY, BIRTHDAY, Occasions, celebrated_on
from advokit.plugins.points import Points, PointsRule


@pytest.fixture
def occasions(make_program, database_url, advokit_clock):
    advokit_clock.set(datetime(2025, 6, 1, 23, 30, tzinfo=UTC))
    program = make_program(
        plugins=[
            Occasions(),
            Points(PointsRule(BIRTHDAY, points=100), PointsRule(ANNIVERSARY, points=10)),
        ],
        database_url=database_url,
    )
    program.enroll_many(
        [
            Advocate(
                external_id="kiri",
                timezone="Pacific/Auckland",
                attributes={"birthday": "1990-06-02"},
            ),
            Advocate(external_id="lena", timezone="UTC", attributes={"birthday": "06-02"}),
            Advocate(external_id="leap", attributes={"birthday": "2000-02-29"}),
            Advocate(external_id="none", attributes={"birthday": "not a date"}),
        ]
    )
    return program


def test_birthday_on_the_advocates_own_date(occasions, advokit_clock):
    advokit_clock.set(datetime(2026, 6, 1, 13, tzinfo=UTC))  # already 2 June in Auckland
    report = occasions.tick()
    birthdays = [o.advocate for o in report.outcomes if o.kind == BIRTHDAY]
    assert birthdays == ["kiri"]
    assert occasions.balance("kiri") == 110  # birthday, and first enrolment anniversary
    assert occasions.balance("lena") == 10

    advokit_clock.set(datetime(2026, 6, 2, 9, tzinfo=UTC))  # 2 June in London too
    report = occasions.tick()
    new = [o.advocate for o in report.outcomes if o.kind == BIRTHDAY and not o.replayed]
    assert new == ["lena"]  # kiri's birthday (still 2 June in Auckland) replays
    assert occasions.balance("lena") == 110
    assert occasions.tick().applied == 0  # once a year
    assert occasions.balance("kiri") == 110


def test_anniversary_of_enrolment_on_the_local_date(occasions, advokit_clock):
    # enrolled 2025-06-01 23:30 UTC: 2 June in Auckland, 1 June in UTC
    advokit_clock.set(datetime(2026, 6, 1, 12, tzinfo=UTC))
    report = occasions.tick()
    # Auckland: 2 June 00:00 local, as kiri's enrolment; the others: 1 June in UTC
    assert sorted(o.advocate for o in report.outcomes if o.kind == ANNIVERSARY) == [
        "kiri",
        "leap",
        "lena",
        "none",
    ]
    [kiri] = [o for o in report.outcomes if o.kind == ANNIVERSARY and o.advocate == "kiri"]
    assert kiri.points == 10
    assert occasions.tick().applied == 0


def test_leap_day_birthdays_fall_on_28_february(occasions, advokit_clock):
    advokit_clock.set(datetime(2027, 2, 28, 12, tzinfo=UTC))
    outcomes = occasions.tick().outcomes
    assert [(o.kind, o.advocate) for o in outcomes] == [(BIRTHDAY, "leap")]
    assert celebrated_on(2, 29, 2028) == datetime(2028, 2, 29).date()
    assert celebrated_on(4, 31, 2027) is None


def test_bad_occasions_settings_are_refused():
    with pytest.raises(ConfigurationError, match="birthday_attribute"):
        Occasions(birthday_attribute="")
    with pytest.raises(ConfigurationError, match="anniversaries"):
        Occasions(anniversaries="yes")
