"""Advocacy velocity (time to advocacy, advocacy conversion, amplification), on
SQLite and PostgreSQL, against plain-Python computations over the raw rows."""

from __future__ import annotations

import math
import random
import statistics
from datetime import UTC, date, datetime, timedelta

import attrs
import pytest

from advokit import Action, Advocate, InvalidValue
from advokit.plugins.scoring import Scoring, Segment, attribute
from advokit.plugins.scoring.model import wilson

START = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)  # the test clock
T0 = datetime(2026, 1, 1, tzinfo=UTC)
ADVOCACY = ("share.posted", "review.posted", "ugc.submitted", "community.post")
WINDOW = (datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC))
PRO = Segment("pro", attribute("plan", "pro"))
NPS_SCORES = (*range(11), 9, 9, 10, 10, 10)  # more promoters than uniform answers give


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


# --------------------------------------------------------------------------- generated data


@attrs.frozen
class Person:
    id: str
    enrolled_at: datetime
    plan: str


@attrs.frozen
class Row:
    kind: str
    advocate: str
    at: datetime
    data: dict


@attrs.frozen
class Generated:
    program: object
    people: list[Person]
    rows: list[Row]


def _random_rows(rng: random.Random, person: Person) -> list[Row]:
    start = (person.enrolled_at - T0).total_seconds() / 86400

    def at(low: float, high: float = 150.0) -> datetime:
        return day(rng.uniform(low, high))

    rows = []
    for i in range(rng.randint(0, 3)):
        data = {"order_id": f"{person.id}-{i}", "total_cents": rng.randint(100, 9000)}
        rows.append(Row("purchase.completed", person.id, at(start - 20), data))
    for _ in range(rng.randint(0, 3)):
        survey = rng.choice(["nps", "nps", "csat", "csat_support"])
        score = rng.randint(1, 5) if survey.startswith("csat") else rng.choice(NPS_SCORES)
        data = {"score": score}
        if survey != "nps" or rng.random() < 0.5:  # an answer naming no survey is an NPS one
            data["survey"] = survey
        rows.append(Row("survey.answered", person.id, at(start - 10), data))
    for _ in range(rng.randint(0, 3)):
        kind = rng.choice(ADVOCACY)
        data = {}
        if kind == "share.posted" and rng.random() < 0.7:
            data["reach"] = rng.randint(0, 5000)
        rows.append(Row(kind, person.id, at(start - 10), data))
    return rows


def generate(program, clock, seed: int = 7, size: int = 150) -> Generated:
    rng = random.Random(seed)
    # a few advocates enrol at each instant: one transaction per instant
    instants = sorted(day(rng.uniform(0, 120)) for _ in range(size // 4))
    people = [
        Person(f"a{i:03}", rng.choice(instants), rng.choice(["pro", "free"])) for i in range(size)
    ]
    for instant in instants:
        clock.set(instant)
        program.enroll_many(
            Advocate(external_id=p.id, attributes={"plan": p.plan})
            for p in people
            if p.enrolled_at == instant
        )
    clock.set(START)
    rows = [row for person in people for row in _random_rows(rng, person)]
    program.record_many(
        Action(kind=r.kind, advocate=r.advocate, key=f"k{i}", data=r.data, occurred_at=r.at)
        for i, r in enumerate(rows)
    )
    return Generated(program, people, rows)


@pytest.fixture
def generated(make_program, database_url, advokit_clock):
    return generate(make_program(database_url=database_url), advokit_clock)


# --------------------------------------------------------------------------- plain Python


def quantile(values: list[float], p: float) -> float:
    """Linear interpolation between order statistics (numpy's default)."""
    xs = sorted(values)
    h = (len(xs) - 1) * p
    low, high = math.floor(h), math.ceil(h)
    return xs[low] + (h - low) * (xs[high] - xs[low])


def test_the_reference_quantile_is_statistics_inclusive():
    rng = random.Random(1)
    xs = [rng.uniform(0, 50) for _ in range(37)]
    quartiles = statistics.quantiles(xs, n=4, method="inclusive")
    assert [quantile(xs, p) for p in (0.25, 0.5, 0.75)] == pytest.approx(quartiles)
    assert quantile(xs, 0.9) == pytest.approx(statistics.quantiles(xs, n=10, method="inclusive")[8])


def inside(at: datetime, window) -> bool:
    return window is None or window[0] <= at < window[1]


def month(at: datetime) -> date:
    return date(at.year, at.month, 1)


def members(data: Generated, segment) -> dict[str, Person]:
    return {p.id: p for p in data.people if segment is None or p.plan == "pro"}


def python_time_to_advocacy(data: Generated, start: str, window=None, segment=None):
    """{cohort month or None: (started, [days to first advocacy])}."""
    out: dict = {}
    for person in members(data, segment).values():
        own = [r for r in data.rows if r.advocate == person.id]
        purchases = [r.at for r in own if r.kind == "purchase.completed"]
        begin = person.enrolled_at if start == "enrolment" else min(purchases, default=None)
        if begin is None or not inside(begin, window):
            continue
        after = [r.at for r in own if r.kind in ADVOCACY and r.at >= begin]
        for key in (None, month(begin)):
            started, days = out.setdefault(key, [0, []])
            out[key][0] = started + 1
            if after:
                days.append((min(after) - begin).total_seconds() / 86400)
    return out


def qualifies(row: Row, population: str) -> bool:
    score, survey = row.data.get("score"), row.data.get("survey", "nps")
    if population == "promoters":
        return row.kind == "survey.answered" and survey == "nps" and score >= 9
    if population == "satisfied":
        return row.kind == "survey.answered" and survey.startswith("csat") and score >= 4
    return row.kind == "purchase.completed"


def python_conversion(data: Generated, population: str, within: int, window=None, segment=None):
    """{event month or None: [qualified, converted]}."""
    out: dict = {}
    for person in members(data, segment).values():
        own = [r for r in data.rows if r.advocate == person.id]
        events = [r.at for r in own if qualifies(r, population) and inside(r.at, window)]
        if not events:
            continue
        event = min(events)
        deadline = event + timedelta(days=within)
        converted = any(r.kind in ADVOCACY and event < r.at <= deadline for r in own)
        for key in (None, month(event)):
            counts = out.setdefault(key, [0, 0])
            counts[0] += 1
            counts[1] += converted
    return out


def python_amplification(data: Generated, window=None, segment=None):
    """{action month or None: [actions, with reach, sum of reach]}."""
    people = members(data, segment)
    out: dict = {}
    for row in data.rows:
        if row.kind in ADVOCACY and row.advocate in people and inside(row.at, window):
            for key in (None, month(row.at)):
                counts = out.setdefault(key, [0, 0, 0])
                counts[0] += 1
                if "reach" in row.data:
                    counts[1] += 1
                    counts[2] += row.data["reach"]
    return out


def slope(points: list[tuple[int, float]]) -> float:
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / sum(
        (x - mean_x) ** 2 for x, _ in points
    )


def month_index(day_: date) -> int:
    return day_.year * 12 + day_.month


# --------------------------------------------------------------------------- time to advocacy


def check_time(score, started: int, days: list[float]) -> None:
    assert score.counts == {"started": started, "advocated": len(days)}
    assert score.n == len(days) and score.unit == "days"
    assert score.value == pytest.approx(quantile(days, 0.5), abs=1e-6)
    for name, p in (("p25", 0.25), ("p75", 0.75), ("p90", 0.9)):
        assert score.details[name] == pytest.approx(quantile(days, p), abs=1e-6)


# one test per scorer, its options in a loop: generating the data is the slow part
def test_time_to_advocacy_matches_python(generated):
    for start in ("enrolment", "first_purchase"):
        check_time_to_advocacy(generated, start)


def check_time_to_advocacy(generated, start):
    program = generated.program
    expected = python_time_to_advocacy(generated, start)
    score = program.score("time_to_advocacy", start=start)
    assert score.label == start and not score.missing
    check_time(score, *expected[None])

    windowed = python_time_to_advocacy(generated, start, WINDOW)
    monthly = program.score("time_to_advocacy", start=start, window=WINDOW, by="month")
    check_time(monthly, *windowed[None])  # the whole window, not a sum of months
    assert [p.period for p in monthly.periods] == sorted(k for k in windowed if k)
    for period in monthly.periods:
        check_time(period, *windowed[period.period])
    points = [(month_index(k), quantile(v[1], 0.5)) for k, v in windowed.items() if k and v[1]]
    assert monthly.trend == pytest.approx(slope(points), abs=1e-6)

    pro = python_time_to_advocacy(generated, start, WINDOW, segment=PRO)
    check_time(
        program.score("time_to_advocacy", start=start, window=WINDOW, segment=PRO), *pro[None]
    )


# --------------------------------------------------------------------------- conversion


def check_conversion(score, qualified: int, converted: int) -> None:
    assert score.counts == {"qualified": qualified, "converted": converted}
    assert score.n == qualified and score.unit == "%"
    assert score.value == pytest.approx(100 * converted / qualified)
    assert score.interval == wilson(converted, qualified)


def test_advocacy_conversion_matches_python(generated):
    for population, within in (("promoters", 30), ("satisfied", 14), ("customers", 60)):
        check_advocacy_conversion(generated, population, within)


def check_advocacy_conversion(generated, population, within):
    program = generated.program
    options = {"population": population, "within_days": within}
    expected = python_conversion(generated, population, within)
    score = program.score("advocacy_conversion", **options)
    check_conversion(score, *expected[None])
    assert score.label == population

    windowed = python_conversion(generated, population, within, WINDOW)
    monthly = program.score("advocacy_conversion", window=WINDOW, by="month", **options)
    check_conversion(monthly, *windowed[None])
    assert [p.period for p in monthly.periods] == sorted(k for k in windowed if k)
    for period in monthly.periods:
        check_conversion(period, *windowed[period.period])
    points = [(month_index(k), 100 * v[1] / v[0]) for k, v in windowed.items() if k]
    assert monthly.trend == pytest.approx(slope(points))

    pro = python_conversion(generated, population, within, WINDOW, segment=PRO)
    score = program.score("advocacy_conversion", window=WINDOW, segment=PRO, **options)
    check_conversion(score, *pro[None])


# --------------------------------------------------------------------------- amplification


def check_amplification(score, actions: int, with_reach: int, reach: int, only: bool) -> None:
    assert score.counts == {"actions": actions, "with_reach": with_reach}
    assert score.n == (with_reach if only else actions)
    assert score.value == pytest.approx(reach / score.n)
    assert score.details["reach"] == reach
    assert score.label == ("with_reach" if only else "all_actions")


def test_amplification_matches_python(generated):
    for only in (False, True):
        check_amplification_options(generated, only)


def check_amplification_options(generated, only):
    program = generated.program
    expected = python_amplification(generated)
    check_amplification(program.score("amplification", only_with_reach=only), *expected[None], only)

    windowed = python_amplification(generated, WINDOW)
    monthly = program.score("amplification", window=WINDOW, by="month", only_with_reach=only)
    check_amplification(monthly, *windowed[None], only)
    assert [p.period for p in monthly.periods] == sorted(k for k in windowed if k)
    for period in monthly.periods:
        check_amplification(period, *windowed[period.period], only)

    pro = python_amplification(generated, WINDOW, segment=PRO)
    score = program.score("amplification", window=WINDOW, segment=PRO, only_with_reach=only)
    check_amplification(score, *pro[None], only)


# --------------------------------------------------------------------------- worked examples


def record(program, *rows: tuple[str, str, datetime, dict]) -> None:
    program.record_many(
        Action(kind=kind, advocate=who, key=f"w{i}", data=data, occurred_at=at)
        for i, (kind, who, at, data) in enumerate(rows)
    )


def enrol(program, clock, when: datetime, *names: str) -> None:
    clock.set(when)
    program.enroll_many(Advocate(external_id=name) for name in names)
    clock.set(START)


def test_time_to_advocacy_worked_example(make_program, database_url, advokit_clock):
    program = make_program(database_url=database_url)
    enrol(
        program, advokit_clock, datetime(2026, 3, 2, 9, tzinfo=UTC), "ann", "bo", "cy", "di", "ed"
    )
    march = datetime(2026, 3, 2, 9, tzinfo=UTC)
    record(
        program,
        ("review.posted", "ann", march + timedelta(days=2), {}),
        ("share.posted", "bo", march + timedelta(days=4), {}),
        ("share.posted", "bo", march + timedelta(days=9), {}),  # not the first
        ("ugc.submitted", "cy", march + timedelta(days=7), {}),
        ("community.post", "di", march + timedelta(days=10), {}),
        ("survey.answered", "ed", march + timedelta(days=1), {"score": 10}),  # not advocacy
    )
    score = program.score("time_to_advocacy")
    assert (score.value, score.n, dict(score.counts)) == (5.5, 4, {"started": 5, "advocated": 4})
    assert dict(score.details) == pytest.approx({"p25": 3.5, "p75": 7.75, "p90": 9.1})
    assert str(score) == "time_to_advocacy: 5.50 days (n=4) [enrolment]"

    # a cohort that started but has not advocated yet: no figure, and says why
    april = program.score("time_to_advocacy", window=(datetime(2026, 4, 1, tzinfo=UTC), None))
    assert (april.value, april.n, april.counts["started"]) == (None, 0, 0)
    enrol(program, advokit_clock, datetime(2026, 4, 3, tzinfo=UTC), "fay")
    april = program.score("time_to_advocacy", window=(datetime(2026, 4, 1, tzinfo=UTC), None))
    assert (april.value, april.n, dict(april.counts)) == (None, 0, {"started": 1, "advocated": 0})
    assert april.missing == (
        "no advocate of the cohort has performed an advocacy action since their start",
    )


def test_advocacy_conversion_worked_example(make_program, database_url, advokit_clock):
    program = make_program(database_url=database_url)
    names = [f"p{i}" for i in range(10)]
    enrol(program, advokit_clock, datetime(2026, 1, 5, tzinfo=UTC), *names, "det")
    answered = datetime(2026, 4, 1, 10, 0, 0, 250000, tzinfo=UTC)
    rows = [("survey.answered", n, answered, {"score": 9 + i % 2}) for i, n in enumerate(names)]
    rows += [
        ("survey.answered", "det", answered, {"score": 3}),  # not a promoter
        ("share.posted", "det", answered + timedelta(days=1), {}),
        ("share.posted", "p0", answered + timedelta(days=3), {}),
        ("review.posted", "p1", answered + timedelta(days=12), {}),
        ("ugc.submitted", "p2", answered + timedelta(days=29), {}),
        ("share.posted", "p3", answered + timedelta(days=30), {}),  # exactly 30 days: counts
        ("share.posted", "p4", answered + timedelta(days=30, microseconds=1), {}),  # too late
        ("share.posted", "p5", answered + timedelta(days=45), {}),
        ("share.posted", "p6", answered, {}),  # at the answer itself: not after it
        ("survey.answered", "p7", answered + timedelta(days=5), {"score": 10}),  # a later answer
    ]
    record(program, *rows)
    score = program.score("advocacy_conversion")
    assert (score.value, score.n, dict(score.counts)) == (
        40.0,
        10,
        {"qualified": 10, "converted": 4},
    )
    assert score.interval.low == pytest.approx(16.82, abs=0.01)
    assert score.interval.high == pytest.approx(68.73, abs=0.01)
    assert score.details["incomplete"] == 0
    assert program.score("advocacy_conversion", within_days=3).counts["converted"] == 1

    # on 20 April, the promoters of 1 April have not had their 30 days yet
    advokit_clock.set(datetime(2026, 4, 20, tzinfo=UTC))
    assert program.score("advocacy_conversion").details["incomplete"] == 10


def test_amplification_worked_example(make_program, database_url):
    program = make_program(database_url=database_url)
    program.enroll_many(Advocate(external_id=n) for n in ("ann", "bo"))
    may = datetime(2026, 5, 4, tzinfo=UTC)
    rows = [("share.posted", "ann", may, {"reach": r}) for r in (120, 300, 1080)]
    rows += [("review.posted", "bo", may + timedelta(days=i), {"rating": 5}) for i in range(5)]
    rows += [("purchase.completed", "bo", may, {"order_id": "o1"})]  # not advocacy
    record(program, *rows)
    score = program.score("amplification")
    assert (score.value, score.n, dict(score.counts)) == (
        187.5,
        8,
        {"actions": 8, "with_reach": 3},
    )
    assert score.interval.low == 0.0
    assert score.interval.high == pytest.approx(448.04, abs=0.01)
    assert program.score("amplification", only_with_reach=True).value == 500.0


def test_advocacy_at_the_start_counts_and_before_it_does_not(make_program, database_url):
    program = make_program(database_url=database_url)
    program.enroll_many(Advocate(external_id=n) for n in ("ann", "bo"))
    bought = datetime(2026, 5, 1, 8, 30, 0, 123456, tzinfo=UTC)
    record(
        program,
        ("purchase.completed", "ann", bought, {"order_id": "o1"}),
        ("share.posted", "ann", bought, {}),  # at the start: 0 days
        ("purchase.completed", "bo", bought, {"order_id": "o2"}),
        ("review.posted", "bo", bought - timedelta(microseconds=1), {}),  # before: not counted
        ("review.posted", "bo", bought + timedelta(hours=36), {}),
    )
    score = program.score("time_to_advocacy", start="first_purchase")
    assert score.counts == {"started": 2, "advocated": 2}
    assert score.value == pytest.approx(0.75)
    assert score.details["p25"] == pytest.approx(0.375)


def test_amplification_without_reach_says_so(make_program):
    program = make_program()
    program.enroll_many([Advocate(external_id="ann")])
    record(program, ("review.posted", "ann", datetime(2026, 5, 1, tzinfo=UTC), {}))
    score = program.score("amplification")
    assert (score.value, score.n, dict(score.counts)) == (None, 0, {"actions": 1, "with_reach": 0})
    assert score.missing == ("no advocacy action carries data['reach']",)


def test_the_advocacy_kinds_come_from_the_settings(make_program):
    program = make_program(plugins=[Scoring(advocacy_kinds={"review.posted"})])
    program.enroll_many([Advocate(external_id="ann")])
    may = datetime(2026, 5, 1, tzinfo=UTC)
    record(
        program,
        ("share.posted", "ann", may, {"reach": 50}),
        ("review.posted", "ann", may + timedelta(days=1), {}),
        ("purchase.completed", "ann", may - timedelta(days=1), {"order_id": "o1"}),
    )
    assert program.score("amplification").counts == {"actions": 1, "with_reach": 0}
    assert program.score("time_to_advocacy", start="first_purchase").value == 2.0


# --------------------------------------------------------------------------- edges


def test_an_empty_population_is_n_0(make_program, database_url):
    program = make_program(database_url=database_url)
    for name in ("time_to_advocacy", "advocacy_conversion", "amplification"):
        for by in (None, "month"):
            score = program.score(name, by=by)
            assert (score.value, score.n, score.interval) == (None, 0, None)
            assert score.missing and score.periods == () and score.trend is None
    time = program.score("time_to_advocacy", start="first_purchase")
    assert time.missing == ("no advocate made a first purchase in the window",)
    conversion = program.score("advocacy_conversion", population="satisfied")
    assert conversion.missing == ("no CSAT answer of 4-5 (a csat* survey) in the window",)
    assert program.score("amplification").missing == ("no advocacy actions in the window",)


@pytest.mark.parametrize(
    ("name", "option", "value", "accepted"),
    [
        ("time_to_advocacy", "start", "signup", "enrolment or first_purchase"),
        ("advocacy_conversion", "within_days", 0, "a whole number of days from 1 to 3650"),
        ("advocacy_conversion", "within_days", 3651, "a whole number of days from 1 to 3650"),
        ("advocacy_conversion", "within_days", 7.5, "a whole number of days from 1 to 3650"),
        ("advocacy_conversion", "within_days", True, "a whole number of days from 1 to 3650"),
        ("advocacy_conversion", "population", "fans", "promoters or satisfied or customers"),
        ("amplification", "only_with_reach", "yes", "True or False"),
    ],
)
def test_bad_options_are_refused(make_program, name, option, value, accepted):
    with pytest.raises(InvalidValue) as caught:
        make_program().score(name, **{option: value})
    assert (caught.value.field, caught.value.value) == (f"{name}.{option}", value)
    assert caught.value.accepted == accepted
    assert accepted in str(caught.value)
