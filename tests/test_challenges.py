"""The challenges plugin: time boxes, steps, enrolment, prizes once, closing by the tick."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from advokit import Action, Advocate, ConfigurationError, hookimpl
from advokit.core import codec
from advokit.core.errors import InvalidValue, PluginError
from advokit.plugins.badges import Badge, Badges, Predicate
from advokit.plugins.challenges import (
    CHALLENGE_COMPLETED,
    CHALLENGE_MISSED,
    Challenge,
    Challenges,
    JoinChallenge,
    Step,
    join,
    progress_t,
)
from helpers import (
    ADVOCATE,
    build_challenges_program,
    count_rows,
    post_challenge_reviews,
    run_processes,
)

JUNE = datetime(2026, 6, 1, tzinfo=UTC)
JULY = datetime(2026, 7, 1, tzinfo=UTC)
JUNE_PUSH = Challenge(
    "june_push",
    (Step("review.posted", 3), Step("share.posted", 1)),
    starts=JUNE,
    ends=JULY,
    points=500,
)


class Seen:
    """A plugin that remembers the derived challenge actions it sees."""

    plugin_name = "seen"
    advokit_evaluates = frozenset({CHALLENGE_COMPLETED, CHALLENGE_MISSED})

    def __init__(self):
        self.actions = []

    @hookimpl
    def advokit_evaluate(self, action):
        self.actions.append((action.kind, action.advocate, dict(action.data)))


@pytest.fixture
def challenged(make_program, database_url):
    """``challenged(*challenges, plugins=...)``: ann and bob enrolled, on both databases."""

    def make(*challenges, plugins=()):
        program = make_program(
            plugins=[Challenges(*challenges), *plugins], database_url=database_url
        )
        program.enroll(Advocate(external_id="ann", timezone="Europe/Paris"))
        program.enroll(Advocate(external_id="bob"))
        return program

    return make


def act(program, kind, who, key, at=None, **data):
    return program.record(Action(kind=kind, advocate=who, key=key, occurred_at=at, data=data))


def review(program, who, key, at=None):
    return act(program, "review.posted", who, key, at, rating=5)


def share(program, who, key, at=None):
    return act(program, "share.posted", who, key, at, network="x")


def steps(program, who, name):
    [shown] = [p for p in program.progress(who) if p.challenge.name == name]
    return [s.done for s in shown.steps], shown.completed


# --------------------------------------------------------------------------- steps and prizes


def test_completing_every_step_pays_the_prize_once(challenged):
    seen = Seen()
    program = challenged(JUNE_PUSH, plugins=[seen])
    for n in range(2):
        review(program, "ann", f"r{n}")
    share(program, "ann", "s0")
    assert steps(program, "ann", "june_push") == ([2, 1], False)
    assert program.balance("ann") == 0

    review(program, "ann", "r2")
    assert steps(program, "ann", "june_push") == ([3, 1], True)
    assert program.balance("ann") == 500
    assert [a[:2] for a in seen.actions] == [(CHALLENGE_COMPLETED, "ann")]
    assert seen.actions[0][2] == {"challenge": "june_push", "period": "once"}

    # more actions, and the completing action again: nothing more
    review(program, "ann", "r3")
    share(program, "ann", "s1")
    assert review(program, "ann", "r2").replayed
    assert program.balance("ann") == 500
    assert len(seen.actions) == 1
    assert steps(program, "bob", "june_push") == ([0, 0], False)


def test_only_actions_inside_the_time_box_count(challenged):
    program = challenged(JUNE_PUSH)
    review(program, "ann", "early", at=JUNE - timedelta(seconds=1))
    review(program, "ann", "late", at=JULY)  # ends is exclusive
    review(program, "ann", "first", at=JUNE)
    assert steps(program, "ann", "june_push") == ([1, 0], False)


def test_a_step_can_narrow_what_counts(challenged):
    big = Challenge(
        "big_basket",
        (Step("purchase.completed", 2, where=lambda a: a.data.get("total_cents", 0) >= 2000),),
        starts=JUNE,
        ends=JULY,
        points=50,
    )
    program = challenged(big)
    for n, cents in enumerate((500, 2500, 1999, 2000)):
        act(program, "purchase.completed", "ann", f"o{n}", order_id=f"o{n}", total_cents=cents)
    assert steps(program, "ann", "big_basket") == ([2], True)
    assert program.balance("ann") == 50


def test_the_prize_can_be_a_badge(challenged):
    never = Predicate(kinds={"challenge.completed"}, test=lambda ctx, action: False)
    badges = Badges(Badge("june_champion", never))
    program = challenged(
        Challenge("quick", (Step("review.posted"),), starts=JUNE, ends=JULY, badge="june_champion"),
        plugins=[badges],
    )
    review(program, "ann", "r0")
    [status] = program.badges("ann")
    assert (status.badge.name, status.level) == ("june_champion", 1)


# --------------------------------------------------------------------------- recurring runs


def test_a_monthly_challenge_starts_again_each_month_in_its_time_zone(challenged, advokit_clock):
    monthly = Challenge(
        "monthly_reviewer",
        (Step("review.posted", 2),),
        every="month",
        timezone="Europe/Paris",
        points=100,
    )
    program = challenged(monthly)
    paris = ZoneInfo("Europe/Paris")
    # 23:30 on 31 May in Paris is May; 00:30 on 1 June in Paris is June (both 31 May in UTC)
    review(program, "ann", "may", at=datetime(2026, 5, 31, 23, 30, tzinfo=paris))
    review(program, "ann", "june-1", at=datetime(2026, 6, 1, 0, 30, tzinfo=paris))
    assert program.balance("ann") == 0
    review(program, "ann", "june-2", at=datetime(2026, 6, 15, tzinfo=paris))
    assert program.balance("ann") == 100
    [shown] = program.progress("ann")  # the clock is on 1 June
    assert shown.period.id == "2026-06" and shown.completed
    assert shown.period.starts == datetime(2026, 5, 31, 22, tzinfo=UTC)
    assert shown.period.ends == datetime(2026, 6, 30, 22, tzinfo=UTC)

    advokit_clock.set(datetime(2026, 7, 2, tzinfo=UTC))
    assert steps(program, "ann", "monthly_reviewer") == ([0], False)
    review(program, "ann", "july-1")
    review(program, "ann", "july-2")
    assert program.balance("ann") == 200  # once a month


def test_weekly_periods_start_on_monday():
    weekly = Challenge("weekly", (Step("review.posted"),), every="week")
    period = weekly.period_at(datetime(2026, 6, 3, 15, tzinfo=UTC))  # a Wednesday
    assert period.id == "2026-W23"
    assert period.starts == datetime(2026, 6, 1, tzinfo=UTC)
    assert period.ends == datetime(2026, 6, 8, tzinfo=UTC)
    bounded = Challenge("weekly", (Step("review.posted"),), every="week", ends=JUNE)
    assert bounded.period_at(JUNE) is None


# --------------------------------------------------------------------------- enrolment


def test_with_enrolment_only_what_follows_joining_counts(challenged, advokit_clock):
    opt_in = Challenge(
        "opt_in", (Step("review.posted", 2),), starts=JUNE, ends=JULY, enrolment=True, points=20
    )
    program = challenged(opt_in)
    review(program, "ann", "before")
    [shown] = program.progress("ann")
    assert not shown.enrolled and [s.done for s in shown.steps] == [0]

    advokit_clock.advance(hours=1)
    program.record(join("ann", "opt_in", key="join-ann"))
    program.record(join("ann", "opt_in", key="join-ann-again"))  # joining twice is harmless
    review(program, "ann", "after-1")
    review(program, "bob", "bob-1")  # bob never joined
    assert steps(program, "ann", "opt_in") == ([1], False)
    assert steps(program, "bob", "opt_in") == ([0], False)
    review(program, "ann", "after-2")
    assert program.balance("ann") == 20

    with pytest.raises(
        PluginError, match=r"'challenges'.*challenge.joined data\['challenge'\]='nope'.*opt_in"
    ):
        program.record(join("ann", "nope", key="join-nope"))


# --------------------------------------------------------------------------- closing


def test_the_tick_closes_ended_periods_once(challenged, advokit_clock):
    seen = Seen()
    program = challenged(JUNE_PUSH, plugins=[seen])
    review(program, "ann", "r0")
    share(program, "ann", "s0")
    for n in range(3):
        review(program, "bob", f"b{n}")
    share(program, "bob", "bs")  # bob completes

    assert program.tick(JULY - timedelta(seconds=1)).applied == 0  # still running
    report = program.tick(JULY)
    assert report.applied == 1
    missed = [a for a in seen.actions if a[0] == CHALLENGE_MISSED]
    assert missed == [
        (
            CHALLENGE_MISSED,
            "ann",
            {"challenge": "june_push", "period": "once", "steps_done": 1, "steps": 2},
        )
    ]
    again = program.tick(JULY)
    assert again.applied == 0 and again.replayed == 0  # closed: not due any more
    # a late, back-dated action no longer counts toward the closed period
    review(program, "ann", "late", at=JULY - timedelta(days=1))
    review(program, "ann", "late-2", at=JULY - timedelta(days=1))
    assert count_rows(program, progress_t, progress_t.c.closed_at.is_not(None)) == 1
    assert program.balance("ann") == 0
    assert steps(program, "ann", "june_push") == ([1, 1], False)


# --------------------------------------------------------------------------- bad input


def test_bad_challenges_are_refused_when_the_program_is_composed(make_program):
    with pytest.raises(ConfigurationError, match=r"Challenge\('c'\).ends.*after starts"):
        Challenge("c", (Step("review.posted"),), starts=JULY, ends=JUNE)
    with pytest.raises(ConfigurationError, match=r"Challenge\('c'\).timezone.*'Mars/Olympus'"):
        Challenge("c", (Step("review.posted"),), every="week", timezone="Mars/Olympus")
    with pytest.raises(ConfigurationError, match=r"Challenge\('c'\).steps"):
        Challenge("c", (), starts=JUNE, ends=JULY)
    with pytest.raises(ConfigurationError, match=r"Challenge\('c'\).every.*'day'"):
        Challenge("c", (Step("review.posted"),), every="day")
    with pytest.raises(ConfigurationError, match=r"Challenge\('c'\).ends.*None"):
        Challenge("c", (Step("review.posted"),), starts=JUNE)
    with pytest.raises(ConfigurationError, match=r"Challenge\('c'\).starts.*aware"):
        Challenge("c", (Step("review.posted"),), starts=datetime(2026, 6, 1), ends=JULY)
    with pytest.raises(ConfigurationError, match=r"Challenge\('c'\).points.*-1"):
        Challenge("c", (Step("review.posted"),), every="week", points=-1)
    with pytest.raises(ConfigurationError, match="Challenges.*'june_push'.*once"):
        Challenges(JUNE_PUSH, JUNE_PUSH)
    with pytest.raises(InvalidValue, match="Step.count"):
        Step("review.posted", 0)
    with pytest.raises(
        PluginError, match=r"plugin 'challenges'.*Challenge\('c'\).steps.kind='no.such'"
    ):
        make_program(plugins=[Challenges(Challenge("c", (Step("no.such"),), every="week"))])


# --------------------------------------------------------------------------- concurrency


@pytest.mark.timeout(300)
def test_four_processes_complete_a_challenge_once_without_losing_a_step(database_url):
    program = build_challenges_program(database_url)
    program.migrate()
    program.enroll(Advocate(external_id=ADVOCATE))
    # 4 x 3 reviews: exactly the 12 the challenge needs, so a lost step shows
    reports = run_processes(post_challenge_reviews, database_url, processes=4, calls=3)
    assert all(not r["errors"] for r in reports), [r["errors"] for r in reports]
    [shown] = program.progress(ADVOCATE)
    assert [s.done for s in shown.steps] == [12] and shown.completed
    assert program.balance(ADVOCATE) == 100
    program.close()


def test_effects_stored_under_the_old_module_name_still_decode():
    """Outcomes recorded when the plugin was one module name ``advokit.plugins.challenges``."""
    stored = {
        "type": "advokit.plugins.challenges:JoinChallenge",
        "fields": {"advocate": "ann", "challenge": "june"},
    }
    assert codec.decode_effect(stored) == JoinChallenge(advocate="ann", challenge="june")
