"""The operator commands through the CLI: leaderboard, advocate show, review and simulate.

Each test writes a program module into an empty directory, records a history
with a manual clock (each action recorded when it occurred, as a live program
does) and runs ``advokit --program module:build ...`` on it.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from advokit import Action, Advocate, Consent, IssueReward, Program, Reward, Verdict, hookimpl
from advokit.cli import cli
from advokit.core import simulation
from advokit.core.clock import ManualClock
from advokit.core.errors import InvalidValue, PluginError
from advokit.core.simulation import simulate
from advokit.core.store.database import parse_url
from advokit.plugins.points import Cap, Points, PointsRule
from advokit.plugins.rewards import Rewards, StoreCredit
from helpers import write_module
from test_cli import _isolated_env, _single_error_line

# --------------------------------------------------------------------------- programs

CLUB = '''
from datetime import UTC, datetime, timedelta

from advokit import Program, Reward, Tag, hookimpl
from advokit.core.clock import ManualClock
from advokit.plugins.badges import Badge, Badges, Count
from advokit.plugins.fraud import Fraud
from advokit.plugins.leaderboards import Board, Leaderboards
from advokit.plugins.points import Cap, Points, PointsRule
from advokit.plugins.referrals import Referrals
from advokit.plugins.rewards import CatalogueItem, Rewards
from advokit.plugins.tiers import Tier, Tiers

URL = {url!r}
NOW = datetime(2026, 6, 3, 12, tzinfo=UTC)  # a Wednesday
REVIEW_POINTS = {review_points}
STAMPS_LAST = timedelta(days=2)  # a share's stamps expire then: mid-morning, between ticks


class Reviewers:
    """Tags whoever posts a review."""

    plugin_name = "reviewers"
    advokit_evaluates = frozenset({{"review.posted"}})

    @hookimpl
    def advokit_evaluate(self, ctx, action):
        return [Tag(advocate=action.advocate, tag="reviewer")]


def build(clock=None):
    return Program(
        name="club",
        database_url=URL,
        clock=clock or ManualClock(NOW),
        load_entrypoints=False,
        plugins=[
            Points(
                PointsRule("purchase.completed", points=lambda a: a.data["total_cents"] // 100),
                PointsRule("review.posted", points=REVIEW_POINTS),
                PointsRule("share.posted", points=5, account="stamps", expires_after=STAMPS_LAST),
            ),
            Tiers(Tier("bronze", 0), Tier("silver", 100)),
            Badges(Badge("reviewer", Count("review.posted", levels=(1, 3)))),
            Leaderboards(Board("points"), Board("reviewers", count="review.posted")),
            Referrals(referrer_points=50, friend_points=20, refund_window=timedelta(days=2)),
            Fraud(),
            Rewards(CatalogueItem(name="coffee", cost=40, reward=Reward(kind="coupon", amount=3))),
            Reviewers(),
        ],
        policies=[Cap(80, per="day")],
        review_deadline=timedelta(days=3),
    )
'''

SHOP = """
from datetime import UTC, datetime

from advokit import Program, hookimpl
from advokit.core.clock import ManualClock
from advokit.plugins.points import Cap, Points, PointsRule

URL = {url!r}
REVIEW_POINTS = {review_points}
CAP = 60
OBSERVED = []  # what the observer saw: it stands for a webhook called after commit


class Observer:
    plugin_name = "observer"

    @hookimpl
    def advokit_after_commit(self, program, outcomes):
        OBSERVED.extend(outcome.key for outcome in outcomes)


def build(clock=None):
    return Program(
        name="shop",
        database_url=URL,
        clock=clock or ManualClock(datetime(2026, 6, 1, tzinfo=UTC)),
        load_entrypoints=False,
        plugins=[
            Points(
                PointsRule("purchase.completed", points=lambda a: a.data["total_cents"] // 100),
                PointsRule("review.posted", points=REVIEW_POINTS),
            ),
            Observer(),
        ],
        policies=[Cap(CAP, per="day")],
    )
"""

CITY = """
from datetime import UTC, datetime

from advokit import Program
from advokit.core.clock import ManualClock
from advokit.plugins.leaderboards import Board, Leaderboards
from advokit.plugins.points import Points, PointsRule

URL = {url!r}


def build(clock=None):
    return Program(
        name="city",
        database_url=URL,
        clock=clock or ManualClock(datetime(2026, 6, 3, 12, tzinfo=UTC)),
        load_entrypoints=False,
        plugins=[
            Points(PointsRule("review.posted", points=10)),
            Leaderboards(Board("points"), timezone="America/New_York"),
        ],
    )
"""

IP, FIREFOX = "203.0.113.7", "Mozilla/5.0 Firefox/131.0"
MIDNIGHT = datetime(2026, 5, 25, tzinfo=UTC)  # a Monday
START = MIDNIGHT + timedelta(hours=9)


def _write(workdir: Path, template: str, url: str | None = None, **values: Any) -> str:
    """Write a new program module into the current directory; returns its name."""
    prefix = "club" if template is CLUB else "shop"
    name = f"{prefix}_{secrets.token_hex(4)}"
    return _rewrite(
        workdir, name, template, url or f"sqlite:///{workdir / (name + '.db')}", **values
    )


def _rewrite(workdir: Path, name: str, template: str, url: str, **values: Any) -> str:
    """(Re)write module ``name``: the next ``--program`` imports it afresh."""
    return write_module(workdir, name, template, url=url, **values)


@attrs.frozen
class Club:
    module: str  # module name
    program: Program  # on the module's database, recorded with ``clock``
    clock: ManualClock
    actions: list[Action]  # every action recorded, in time order

    @property
    def path(self) -> str:
        return f"{self.module}:build"


@pytest.fixture
def run() -> Callable[..., Result]:
    runner = CliRunner(env=_isolated_env())

    def invoke(*args: str) -> Result:
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return invoke


@pytest.fixture
def club(workdir: Path) -> Iterator[Club]:
    """Ten days of a club: reviews and purchases, a referral held then approved,
    ticks every midnight, a coffee redeemed; ann, bob, cat and dan; eli shares every
    day for stamps (another account) that expire two days later."""
    name = _write(workdir, CLUB, review_points=10)
    module = __import__(name)
    clock = ManualClock(MIDNIGHT)
    program = module.build(clock)
    program.migrate()
    email = Consent(granted=True, basis="consent", source="signup", at=MIDNIGHT)
    program.enroll_many(
        [
            Advocate(
                external_id="ann", name="Ann Lee", email="ann@example.com", consent={"email": email}
            ),
            Advocate(external_id="bob", name="Bob Stone", email="bob@example.com"),
            Advocate(external_id="cat", name="Cat King", email="cat@example.org"),
            Advocate(external_id="dan", name="Dan Wu", email="dan@example.net"),
            Advocate(external_id="eli", name="Eli Ode"),
        ]
    )
    code = program.referral_code("ann").code
    events: list[tuple[datetime, int, Any]] = []

    def act(when: datetime, kind: str, advocate: str, key: str, **data: Any) -> None:
        events.append(
            (when, 1, Action(kind=kind, advocate=advocate, key=key, occurred_at=when, data=data))
        )

    for day in range(9):
        at = START + timedelta(days=day)
        act(at, "review.posted", "ann", f"ann-r{day}")
        act(
            at + timedelta(hours=1),
            "purchase.completed",
            "ann",
            f"ann-p{day}",
            order_id=f"a{day}",
            total_cents=3000,
        )
        if day % 2 == 0:
            act(at + timedelta(hours=2), "review.posted", "bob", f"bob-r{day}")
        act(at + timedelta(hours=1, minutes=30), "share.posted", "eli", f"eli-s{day}")
    act(
        START + timedelta(hours=3),
        "referral.shared",
        "ann",
        "sh-1",
        channel="email",
        ip=IP,
        user_agent=FIREFOX,
    )
    # the same address and browser as ann's share: held, then approved by a person
    act(
        START + timedelta(hours=4),
        "referral.signed_up",
        "cat",
        "s-cat",
        code=code,
        ip=IP,
        user_agent=FIREFOX,
    )
    events.append((START + timedelta(days=1, hours=6), 2, "s-cat"))
    act(START + timedelta(days=1, hours=4), "referral.signed_up", "dan", "s-dan", code=code)
    act(
        START + timedelta(days=2, hours=5),
        "purchase.completed",
        "cat",
        "cat-p1",
        order_id="c1",
        total_cents=2000,
    )
    act(
        START + timedelta(days=2, hours=6),
        "purchase.completed",
        "dan",
        "dan-p1",
        order_id="d1",
        total_cents=2500,
    )
    act(START + timedelta(days=6, hours=7), "reward.redeemed", "ann", "red-1", item="coffee")
    events += [(MIDNIGHT + timedelta(days=day), 0, None) for day in range(1, 10)]
    recorded = []
    for when, order, what in sorted(events, key=lambda event: (event[0], event[1])):
        clock.set(when)
        if order == 0:
            program.tick(when)
        elif order == 2:
            program.review(what, approve=True, reviewer="maria", note="her sister")
        else:
            expected = "held" if what.key == "s-cat" else "applied"
            assert program.record(what).status.value == expected, what
            recorded.append(what)
    clock.set(module.NOW)
    yield Club(module=name, program=program, clock=clock, actions=recorded)
    program.close()
    sys.modules.pop(name, None)


def _json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _dump(program: Program) -> dict[str, list[str]]:
    """Every row of every table, in a fixed order: what any write (an UPDATE too) changes.

    Only the tables' names are reflected: reflecting their indexes would warn about
    the expression index on advocates' emails, which SQLAlchemy cannot reflect.
    """
    engine = sa.create_engine(parse_url(program.database_url), poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            return {
                name: sorted(
                    repr(tuple(row))
                    for row in conn.execute(sa.select(sa.text("*")).select_from(sa.table(name)))
                )
                for name in sorted(sa.inspect(conn).get_table_names())
            }
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- leaderboard


def _earned(program: Program, advocate: str, first: date, last: date) -> int:
    """Points an advocate earned from ``first`` to ``last`` (UTC days), from the ledger."""
    return sum(
        entry.delta
        for entry in program.history(advocate, limit=10_000)
        if entry.delta > 0 and first <= entry.effective_at.date() <= last
    )


def _ranked(values: dict[str, int]) -> set[tuple[int, str, int]]:
    """Competition ranks of the positive values: (rank, advocate, value)."""
    ordered = sorted(((v, a) for a, v in values.items() if v > 0), reverse=True)
    return {(1 + sum(1 for w, _ in ordered if w > v), a, v) for v, a in ordered}


def _shown(standings: list[dict[str, Any]]) -> set[tuple[int, str, int]]:
    return {(s["rank"], s["advocate"], s["value"]) for s in standings}


def test_leaderboard_ranks_points_earned_in_the_window(
    club: Club, run: Callable[..., Result]
) -> None:
    everyone = ("ann", "bob", "cat", "dan")
    all_time = _json(run("--program", club.path, "leaderboard", "--json"))
    assert all_time["board"] == "points" and all_time["window"] == "all"
    # all time: what each earned in the ledger, and the core's lifetime-earned ranking
    assert _shown(all_time["standings"]) == _ranked(
        {a: _earned(club.program, a, date.min, date.max) for a in everyone}
    )
    lifetime = club.program.leaderboard(by="earned")
    assert _shown(all_time["standings"]) == {(s.rank, s.advocate, s.value) for s in lifetime}
    # this week (Monday 1 June to now) and the week of 27 May
    week = _json(run("--program", club.path, "leaderboard", "--window", "week", "--json"))
    assert week["period"] == "2026-W23"
    assert _shown(week["standings"]) == _ranked(
        {a: _earned(club.program, a, date(2026, 6, 1), date(2026, 6, 7)) for a in everyone}
    )
    last = _json(
        run(
            "--program",
            club.path,
            "leaderboard",
            "--window",
            "week",
            "--at",
            "2026-05-27",
            "--json",
        )
    )
    assert last["period"] == "2026-W22"
    expected = {a: _earned(club.program, a, date(2026, 5, 25), date(2026, 5, 31)) for a in everyone}
    assert _shown(last["standings"]) == _ranked(expected)
    assert len({v for v in expected.values() if v}) < len(
        [v for v in expected.values() if v]
    )  # a tie
    top_two = _json(
        run(
            "--program",
            club.path,
            "leaderboard",
            "--window",
            "week",
            "--at",
            "2026-05-27",
            "--limit",
            "2",
            "--json",
        )
    )
    assert [s["advocate"] for s in top_two["standings"]] == [
        s["advocate"] for s in last["standings"][:2]
    ]


def test_leaderboard_of_a_count_board_over_a_range_of_days(
    club: Club, run: Callable[..., Result]
) -> None:
    shown = _json(
        run(
            "--program",
            club.path,
            "leaderboard",
            "--board",
            "reviewers",
            "--from",
            "2026-05-26",
            "--to",
            "2026-05-30",
            "--json",
        )
    )
    assert (shown["count"], shown["points"], shown["window"]) == ("review.posted", None, "range")
    assert shown["period"] == "2026-05-26 to 2026-05-30"
    reviews = Counter(
        a.advocate
        for a in club.actions
        if a.kind == "review.posted"
        and date(2026, 5, 26) <= a.occurred_at.date() <= date(2026, 5, 30)
    )
    assert reviews == {"ann": 5, "bob": 2}
    assert _shown(shown["standings"]) == _ranked(dict(reviews))
    # the longest range: 366 days after the first
    longest = _json(
        run(
            "--program",
            club.path,
            "leaderboard",
            "--board",
            "reviewers",
            "--from",
            "2025-06-02",
            "--to",
            "2026-06-03",
            "--json",
        )
    )
    everything = Counter(a.advocate for a in club.actions if a.kind == "review.posted")
    assert _shown(longest["standings"]) == _ranked(dict(everything))
    dense = _json(
        run(
            "--program",
            club.path,
            "leaderboard",
            "--board",
            "reviewers",
            "--ranking",
            "dense",
            "--json",
        )
    )
    assert [s["rank"] for s in dense["standings"]] == [1, 2]
    segment = _json(run("--program", club.path, "leaderboard", "--segment", "reviewer", "--json"))
    assert {s["advocate"] for s in segment["standings"]} == {"ann", "bob"}  # tagged by reviewing


def test_leaderboard_text_and_position(club: Club, run: Callable[..., Result]) -> None:
    result = run("--program", club.path, "leaderboard", "--window", "week", "--at", "2026-05-27")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "Points: this week (2026-W22), top 10, competition ranking"
    assert lines[1].split() == ["RANK", "ADVOCATE", "NAME", "POINTS"]
    ann = _earned(club.program, "ann", date(2026, 5, 25), date(2026, 5, 31))
    assert lines[2].split() == ["1", "ann", "Ann", "Lee", str(ann)]
    position = _json(
        run(
            "--program",
            club.path,
            "leaderboard",
            "--advocate",
            "bob",
            "--neighbours",
            "1",
            "--json",
        )
    )
    standing = position["position"]["standing"]
    everyone = {
        a: _earned(club.program, a, date.min, date.max) for a in ("ann", "bob", "cat", "dan")
    }
    assert (standing["rank"], standing["value"]) == (2, everyone["bob"])
    assert [s["advocate"] for s in position["position"]["above"]] == ["ann"]
    assert len(position["position"]["below"]) == 1
    text = run("--program", club.path, "leaderboard", "--advocate", "bob", "--neighbours", "1")
    assert [line.split()[1] for line in text.stdout.splitlines()[2:]] == ["ann", "bob", "dan"]
    assert text.stdout.splitlines()[3].endswith("<")  # bob
    empty = run("--program", club.path, "leaderboard", "--window", "today", "--advocate", "bob")
    assert "bob is not ranked on this board in this window." in empty.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--board", "nope"), "--board='nope' is not valid: expected one of points, reviewers"),
        (("--from", "2026-05-26"), "--from and --to give a range of days together"),
        (("--from", "26/05/2026", "--to", "2026-05-30"), "--from='26/05/2026' is not valid"),
        (
            ("--from", "2026-05-30", "--to", "2026-05-26"),
            "--to='2026-05-26' is not valid: expected a day on or after --from='2026-05-30'",
        ),
        (
            ("--from", "2025-06-01", "--to", "2026-06-03"),
            "--to='2026-06-03' is not valid: expected a day at most 366 days after --from",
        ),
        (("--from", "", "--to", ""), "--from='' is not valid: expected a date"),
        (("--window", "week", "--from", "2026-05-26", "--to", "2026-05-30"), "leave out --window"),
        (("--at", "last week"), "--at='last week' is not valid"),
        (("--at", "2026-05-27"), "--at='2026-05-27' picks the window containing that day"),
        (("--window", "all", "--at", "2026-05-27"), "pass --window today, week or month"),
        (("--advocate", "zed"), "advocate='zed' is not valid"),
    ],
)
def test_bad_leaderboard_input_is_one_line(
    club: Club, run: Callable[..., Result], args: tuple[str, ...], expected: str
) -> None:
    assert expected in _single_error_line(run("--program", club.path, "leaderboard", *args))


def test_leaderboard_at_a_day_takes_the_window_of_that_day_in_the_boards_time_zone(
    workdir: Path, run: Callable[..., Result]
) -> None:
    city = _write(workdir, CITY)
    with __import__(city).build() as program:
        program.migrate()
        program.enroll_many([Advocate(external_id="sun"), Advocate(external_id="mon")])
        # 02:00 UTC on Monday 1 June is 22:00 on Sunday in New York: the week before there
        for who, at in (
            ("sun", datetime(2026, 6, 1, 2, tzinfo=UTC)),
            ("mon", datetime(2026, 6, 1, 15, tzinfo=UTC)),
        ):
            program.record(Action(kind="review.posted", advocate=who, key=who, occurred_at=at))
        earned = {who: program.balance(who) for who in ("sun", "mon")}

    def board(*args: str) -> tuple[str, list[tuple[str, int]]]:
        shown = _json(run("--program", f"{city}:build", "leaderboard", *args, "--json"))
        return shown["period"], [(s["advocate"], s["value"]) for s in shown["standings"]]

    # a day: that day in New York (its noon there), whatever the time in UTC
    assert board("--window", "week", "--at", "2026-06-01") == ("2026-W23", [("mon", earned["mon"])])
    assert board("--window", "today", "--at", "2026-05-31") == (
        "2026-05-31",
        [("sun", earned["sun"])],
    )
    # a time: the window it falls in there, Sunday evening for 01:00 UTC on Monday
    assert board("--window", "week", "--at", "2026-06-01T01:00:00+00:00") == (
        "2026-W22",
        [("sun", earned["sun"])],
    )


def test_leaderboard_comes_with_the_leaderboards_plugin(
    workdir: Path, run: Callable[..., Result]
) -> None:
    shop = _write(workdir, SHOP, review_points=10)
    result = run("--program", f"{shop}:build", "leaderboard")
    assert result.exit_code == 2 and "No such command 'leaderboard'" in result.output
    assert "review" not in run("--program", f"{shop}:build", "--help").stdout.split()


# --------------------------------------------------------------------------- advocate show


def test_advocate_show_tells_everything_about_an_advocate(
    club: Club, run: Callable[..., Result]
) -> None:
    program = club.program
    shown = _json(
        run("--program", club.path, "advocate", "show", "ann", "--limit", "500", "--json")
    )
    assert (shown["advocate"], shown["name"], shown["email"]) == (
        "ann",
        "Ann Lee",
        "ann@example.com",
    )
    assert shown["enrolled_at"] == MIDNIGHT.isoformat()
    assert shown["consent"] == {
        "email": {
            "granted": True,
            "basis": "consent",
            "source": "signup",
            "at": MIDNIGHT.isoformat(),
        }
    }
    assert shown["tags"] == ["reviewer"]
    # the whole history adds up to the balance, and earned is what was ever awarded
    history = shown["history"]
    assert (
        sum(entry["delta"] for entry in history)
        == program.balance("ann")
        == shown["balances"]["points"]["balance"]
    )
    assert (
        sum(e["delta"] for e in history if e["delta"] > 0) == shown["balances"]["points"]["earned"]
    )
    assert history == sorted(history, key=lambda e: e["recorded_at"], reverse=True)
    assert {e["reason"] for e in history} == {
        "purchase.completed",
        "review.posted",
        "referral.rewarded",
        "reward.redeemed",
    }
    assert {e["action"] for e in history if e["reason"] == "reward.redeemed"} == {"red-1"}
    tier = program.tier("ann")
    assert shown["tier"] == {
        "tier": tier.tier.name,
        "since": tier.since.isoformat(),
        "value": tier.value,
        "next_tier": None,
        "to_next": None,
        "kept_until": None,
    }
    assert tier.tier.name == "silver" and tier.value == shown["balances"]["points"]["earned"]
    reviews = sum(1 for a in club.actions if a.kind == "review.posted" and a.advocate == "ann")
    assert [(b["badge"], b["level"], b["value"]) for b in shown["badges"]] == [
        ("reviewer", 2, reviews)
    ]
    short = _json(run("--program", club.path, "advocate", "show", "ann", "--limit", "3", "--json"))
    assert short["history"] == history[:3]


def test_advocate_show_as_text(club: Club, run: Callable[..., Result]) -> None:
    result = run("--program", club.path, "advocate", "show", "ann", "--limit", "2")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"ann (customer), enrolled {MIDNIGHT.isoformat()}"
    assert "  email: ann@example.com" in lines
    assert f"  email: granted (basis consent, source signup, at {MIDNIGHT.isoformat()})" in lines
    assert "Tags: reviewer" in lines
    balance = club.program.balance("ann")
    assert any(line.startswith(f"  points: {balance} (earned ") for line in lines)
    assert any(line.startswith("Tier: silver since ") for line in lines)
    assert "History (newest first, 2 shown):" in lines
    newest = club.program.history("ann", limit=2)
    assert [line.split()[1:3] for line in lines[-2:]] == [
        [f"{e.delta:+d}", e.reason] for e in newest
    ]


def test_advocate_show_leaves_out_what_the_program_lacks(
    workdir: Path, run: Callable[..., Result]
) -> None:
    shop = _write(workdir, SHOP, review_points=10)
    module = __import__(shop)
    with module.build() as program:
        program.migrate()
        program.enroll(Advocate(external_id="zoe"))
    shown = _json(run("--program", f"{shop}:build", "advocate", "show", "zoe", "--json"))
    assert "tier" not in shown and "badges" not in shown
    assert (shown["balances"], shown["history"], shown["tags"], shown["consent"]) == (
        {},
        [],
        [],
        {},
    )
    text = run("--program", f"{shop}:build", "advocate", "show", "zoe").stdout
    assert "Tier:" not in text and "Badges:" not in text and "History: none" in text
    line = _single_error_line(run("--program", f"{shop}:build", "advocate", "show", "nobody"))
    assert "advocate='nobody' is not valid" in line
    assert "needs a program" in _single_error_line(run("advocate", "show", "zoe"))


# --------------------------------------------------------------------------- review


def _held_signups(club: Club) -> None:
    """eve and fay sign up from ann's address and browser: both held for a person."""
    program = club.program
    program.enroll_many(
        [Advocate(external_id="eve", name="Eve Adams"), Advocate(external_id="fay", name="Fay Ng")]
    )
    for friend in ("eve", "fay"):
        data = {"referrer": "ann", "ip": IP, "user_agent": FIREFOX}
        outcome = program.record(
            Action(kind="referral.signed_up", advocate=friend, key=f"s-{friend}", data=data)
        )
        assert outcome.status.value == "held"


def test_review_lists_the_queue_and_records_decisions(
    club: Club, run: Callable[..., Result]
) -> None:
    _held_signups(club)
    now = club.clock()
    queue = _json(run("--program", club.path, "review", "list", "--json"))
    reason = ["fraud score 60 >= 50: same.ip_user_agent (+60)"]
    assert [(h["key"], h["advocate"], h["reasons"]) for h in queue] == [
        ("s-eve", "eve", reason),
        ("s-fay", "fay", reason),
    ]
    assert queue[0]["held_at"] == now.isoformat()
    assert (
        queue[0]["deadline"] == (now + timedelta(days=3)).isoformat()
        and queue[0]["default"] == "deny"
    )
    assert queue[0]["data"] == {"referrer": "ann", "ip": IP, "user_agent": FIREFOX}
    text = run("--program", club.path, "review", "list").stdout.splitlines()
    assert text[0].split()[:3] == ["KEY", "KIND", "ADVOCATE"]
    assert text[1].startswith("s-eve") and text[1].endswith(reason[0])
    one = _json(run("--program", club.path, "review", "list", "--limit", "1", "--json"))
    assert [h["key"] for h in one] == ["s-eve"]

    approved = run(
        "--program",
        club.path,
        "review",
        "approve",
        "s-eve",
        "--by",
        "maria",
        "--note",
        "her cousin",
    )
    assert approved.exit_code == 0, approved.output
    assert approved.stdout == "Approved referral.signed_up 's-eve' of eve: applied.\n"
    assert club.program.referral("eve").referrer == "ann"
    denied = _json(
        run("--program", club.path, "review", "deny", "s-fay", "--by", "maria", "--json")
    )
    assert (denied["status"], denied["reasons"]) == ("rejected", ["denied by maria"])
    assert club.program.referral("fay") is None
    with club.program.engine.connect() as conn:
        audit = conn.execute(
            sa.text("SELECT action_key, decision, reviewer, note FROM advokit_reviews ORDER BY id")
        ).all()
    assert [tuple(row) for row in audit][-2:] == [
        ("s-eve", "approved", "maria", "her cousin"),
        ("s-fay", "denied", "maria", None),
    ]
    assert run("--program", club.path, "review", "list").stdout == "Nothing waits for a decision.\n"
    assert _json(run("--program", club.path, "review", "list", "--json")) == []


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("approve", "s-cat", "--by", "maria"), "key='s-cat' is not valid"),  # decided already
        (("deny", "nope", "--by", "maria"), "key='nope' is not valid"),
        (("approve", "s-eve", "--by", " "), "reviewer=' ' is not valid"),
        (("approve", "s-eve", "--by", "m" * 256), "at most 255 characters"),
        (
            ("deny", "s-eve", "--by", "maria", "--note", "x" * 1001),
            "expected None or text of at most 1000 characters",
        ),
        # the name the tick's decisions by deadline are kept under: a person's are told apart
        (("approve", "s-eve", "--by", "advokit"), "other than 'advokit'"),
    ],
)
def test_bad_review_input_is_one_line(
    club: Club, run: Callable[..., Result], args: tuple[str, ...], expected: str
) -> None:
    _held_signups(club)
    assert expected in _single_error_line(run("--program", club.path, "review", *args))
    assert len(club.program.review_queue()) == 2  # nothing decided


# --------------------------------------------------------------------------- simulate


def test_simulate_with_unchanged_rules_reproduces_what_happened(
    club: Club, run: Callable[..., Result]
) -> None:
    before = _dump(club.program)
    shown = _json(
        run(
            "--program",
            club.path,
            "simulate",
            "--from",
            "2026-05-28",
            "--to",
            "2026-06-03",
            "--json",
        )
    )
    assert shown["simulated"] == shown["actual"]
    start, end = datetime(2026, 5, 28, tzinfo=UTC), datetime(2026, 6, 3, tzinfo=UTC)
    # eli's stamps that expired in the window, the last after the last midnight before --to
    lasts = sys.modules[club.module].STAMPS_LAST
    expiring = [a for a in club.actions if a.kind == "share.posted"]
    expired = [a for a in expiring if start <= a.occurred_at + lasts < end]
    assert max(a.occurred_at + lasts for a in expired) > end - timedelta(days=1)
    assert shown["actual"]["totals"]["stamps"]["expired"] == -5 * len(expired)
    assert shown["replay"]["actions"] == len(club.actions)  # the history before the window too
    assert shown["replay"]["in_window"] == sum(
        1 for a in club.actions if start <= a.occurred_at < end
    )
    assert shown["replay"]["decisions"] == 1  # maria's approval of cat's signup
    assert shown["replay"]["ticks"] == 8  # every midnight after the first action, before the end
    assert shown["replay"]["skipped"] == {}
    actual = shown["actual"]
    assert actual["actions"]["referral.approved"] == {"applied": 2}  # by the tick
    assert actual["rewards"] == {"coupon": {"count": 1, "amount": 3}}
    assert actual["points"]["points"]["referral.rewarded"] > 0
    # no tick past the program's now (3 June, noon), however far the window goes
    later = _json(
        run(
            "--program",
            club.path,
            "simulate",
            "--from",
            "2026-06-01",
            "--to",
            "2026-07-01",
            "--json",
        )
    )
    assert later["replay"]["ticks"] == 9  # 26 May to 3 June
    assert _dump(club.program) == before  # the program's database was only read


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"start": datetime(2026, 5, 1)}, "start=datetime.datetime(2026, 5, 1, 0, 0) is not valid"),
        ({"end": datetime(2026, 4, 1, tzinfo=UTC)}, "expected a time after the start"),
        ({"ticks": "weekly"}, "ticks='weekly' is not valid: expected one of daily, hourly, none"),
        ({"top": 0}, "top=0 is not valid"),
        ({"keep": "club.db"}, "a new file in an existing folder"),
    ],
)
def test_simulate_refuses_bad_arguments(club: Club, options: dict[str, Any], expected: str) -> None:
    (Path.cwd() / "club.db").write_text("taken")
    arguments = {
        "start": datetime(2026, 5, 1, tzinfo=UTC),
        "end": datetime(2026, 6, 1, tzinfo=UTC),
        **options,
    }
    with pytest.raises(InvalidValue) as raised:
        simulate(club.program, **arguments)
    assert expected in str(raised.value)


def _shop_history(program: Program, clock: ManualClock) -> list[Action]:
    """Ten days of reviews and purchases by c0, c1 and c2; c0 redeems 200 points on day 7."""
    program.migrate()
    program.enroll_many([Advocate(external_id=f"c{i}", name=f"Customer {i}") for i in range(3)])
    actions = []
    for day in range(10):
        for i in range(3):
            at = datetime(2026, 5, 1, 9 + i, tzinfo=UTC) + timedelta(days=day)
            actions.append(
                Action(kind="review.posted", advocate=f"c{i}", key=f"r-{day}-{i}", occurred_at=at)
            )
            data = {"order_id": f"{day}-{i}", "total_cents": 1500 * (i + 1)}
            actions.append(
                Action(
                    kind="purchase.completed",
                    advocate=f"c{i}",
                    key=f"p-{day}-{i}",
                    occurred_at=at + timedelta(minutes=5),
                    data=data,
                )
            )
        if day == 6:
            at = datetime(2026, 5, 7, 20, tzinfo=UTC)
            actions.append(
                Action(
                    kind="points.redeemed",
                    advocate="c0",
                    key="redeem-1",
                    occurred_at=at,
                    data={"points": 200},
                )
            )
    for action in actions:
        clock.set(action.occurred_at)
        program.record(action)
    return actions


def _expected(
    actions: list[Action],
    review_points: int,
    cap: int,
    start: datetime,
    end: datetime,
    *,
    history: bool = True,
) -> dict[str, Any]:
    """The summary the shop's rules give, computed here: daily caps, balances, redemptions."""
    earned_today: dict[tuple[str, date], int] = defaultdict(int)
    balance: dict[str, int] = defaultdict(int)
    statuses: dict[str, dict[str, int]] = defaultdict(dict)
    awarded: dict[str, int] = defaultdict(int)
    spent = 0
    top: dict[str, int] = defaultdict(int)
    for action in actions:
        at = action.occurred_at
        if at >= end or (not history and at < start):
            continue
        inside = at >= start
        who = action.advocate
        if action.kind == "points.redeemed":
            points = action.data["points"]
            status = "applied" if balance[who] >= points else "rejected"
            if status == "applied":
                balance[who] -= points
                spent -= points * inside
        else:
            status = "applied"
            rule = (
                review_points
                if action.kind == "review.posted"
                else action.data["total_cents"] // 100
            )
            points = min(rule, cap - earned_today[who, at.date()])
            earned_today[who, at.date()] += points
            balance[who] += points
            if inside and points:
                awarded[action.kind] += points
                top[who] += points
        if inside:
            statuses[action.kind][status] = statuses[action.kind].get(status, 0) + 1
    total = sum(awarded.values())
    ranked = sorted(top.items(), key=lambda item: -item[1])
    return {
        "actions": dict(statuses),
        "points": {"points": dict(awarded)} if awarded else {},
        "totals": {
            "points": {
                "awarded": total,
                "reversed": 0,
                "spent": spent,
                "expired": 0,
                "net": total + spent,
            }
        },
        "top": {(1 + sum(1 for _, w in ranked if w > v), a, v) for a, v in ranked},
        "balances": dict(balance),
    }


def _summary(shown: dict[str, Any]) -> dict[str, Any]:
    return {**{k: shown[k] for k in ("actions", "points", "totals")}, "top": _shown(shown["top"])}


def test_simulate_predicts_what_a_rule_change_would_have_awarded(
    workdir: Path, run: Callable[..., Result], database_url: str
) -> None:
    template = SHOP
    name = _write(workdir, template, url=database_url, review_points=10)
    module = __import__(name)
    clock = ManualClock(datetime(2026, 5, 1, tzinfo=UTC))
    with module.build(clock) as program:
        actions = _shop_history(program, clock)
    assert len(module.OBSERVED) == len(actions)  # the observer hears of every recording
    before = _dump(program)
    start, end = datetime(2026, 5, 4, tzinfo=UTC), datetime(2026, 5, 9, tzinfo=UTC)
    window = ("--from", "2026-05-04", "--to", "2026-05-09", "--top", "3", "--json")

    # the rules of the day reproduce what happened: the redemption was refused (175 < 200)
    same = _json(run("--program", f"{name}:build", "simulate", *window))
    was = _expected(actions, 10, 60, start, end)
    assert (
        _summary(same["actual"])
        == _summary(same["simulated"])
        == {k: was[k] for k in ("actions", "points", "totals", "top")}
    )
    assert was["actions"]["points.redeemed"] == {"rejected": 1}

    # three times the points for a review: more points, capped at 60 a day, and c0 can redeem
    _rewrite(workdir, name, template, database_url, review_points=30)
    shown = _json(run("--program", f"{name}:build", "simulate", *window, "--keep", "may.db"))
    will = _expected(actions, 30, 60, start, end)
    assert _summary(shown["actual"]) == {k: was[k] for k in ("actions", "points", "totals", "top")}
    assert _summary(shown["simulated"]) == {
        k: will[k] for k in ("actions", "points", "totals", "top")
    }
    assert will["actions"]["points.redeemed"] == {"applied": 1}
    assert will["totals"]["points"]["awarded"] > was["totals"]["points"]["awarded"]
    assert shown["replay"]["actions"] == sum(1 for a in actions if a.occurred_at < end)
    # the throwaway database, kept: its balances are the ones the new rules make
    kept = Program(
        name="shop", database_url=f"sqlite:///{workdir / 'may.db'}", load_entrypoints=False
    )
    with kept:
        assert {f"c{i}": kept.balance(f"c{i}") for i in range(3)} == will["balances"]

    # only the window: everybody starts it with nothing, and c0 cannot redeem (180 < 200)
    alone = _json(run("--program", f"{name}:build", "simulate", *window, "--window-only"))
    fresh = _expected(actions, 30, 60, start, end, history=False)
    assert _summary(alone["simulated"]) == {
        k: fresh[k] for k in ("actions", "points", "totals", "top")
    }
    assert fresh["actions"]["points.redeemed"] == {"rejected": 1}
    assert alone["replay"]["actions"] == alone["replay"]["in_window"]

    assert _dump(program) == before  # the program's database was only read
    assert sys.modules[name].OBSERVED == []  # its observers never heard of the simulation
    sys.modules.pop(name, None)


def test_simulate_as_text(workdir: Path, run: Callable[..., Result]) -> None:
    template = SHOP
    name = _write(workdir, template, review_points=10)
    clock = ManualClock(datetime(2026, 5, 1, tzinfo=UTC))
    with __import__(name).build(clock) as program:
        actions = _shop_history(program, clock)
    _rewrite(workdir, name, template, program.database_url, review_points=30)
    result = run(
        "--program",
        f"{name}:build",
        "simulate",
        "--from",
        "2026-05-04",
        "--to",
        "2026-05-09",
        "--ticks",
        "none",
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    start, end = datetime(2026, 5, 4, tzinfo=UTC), datetime(2026, 5, 9, tzinfo=UTC)
    assert lines[0].startswith(
        "Backtest of program 'shop' from 2026-05-04T00:00:00+00:00 to 2026-05-09"
    )
    replayed = sum(1 for a in actions if a.occurred_at < end)
    assert lines[1].startswith(
        f"Replayed {replayed} actions (31 in the window), 0 decisions and 0 ticks"
    )
    was, will = _expected(actions, 10, 60, start, end), _expected(actions, 30, 60, start, end)
    reviews = [
        line.split()
        for line in lines
        if line.startswith("  review.posted ") and "applied" not in line
    ]
    old, new = was["points"]["points"]["review.posted"], will["points"]["points"]["review.posted"]
    assert reviews == [["review.posted", str(old), str(new), f"{new - old:+d}"]]
    assert ["points.redeemed", "rejected", "1", "0", "-1"] in [line.split() for line in lines]
    assert lines[-1].startswith("  simulated: 1. ")
    sys.modules.pop(name, None)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--from", "yesterday", "--to", "2026-05-09"), "--from='yesterday' is not valid"),
        (
            ("--from", "2026-05-09", "--to", "2026-05-01"),
            "--to='2026-05-01' is not valid: expected a time after --from",
        ),
        (("--from", "2026-05-01", "--to", "2026-05-09", "--keep", "shop.py"), "keep="),
        (
            ("--from", "2026-05-01", "--to", "2026-05-09", "--keep", "nowhere/x.db"),
            "a new file in an existing folder",
        ),
    ],
)
def test_bad_simulate_input_is_one_line(
    workdir: Path, run: Callable[..., Result], args: tuple[str, ...], expected: str
) -> None:
    name = _write(workdir, SHOP, review_points=10)
    (workdir / "shop.py").write_text("# taken\n")
    with __import__(name).build() as program:
        program.migrate()
    assert expected in _single_error_line(run("--program", f"{name}:build", "simulate", *args))
    assert "needs a program" in _single_error_line(
        run("simulate", "--from", "2026-05-01", "--to", "2026-05-09")
    )
    sys.modules.pop(name, None)


# ------------------------------------------------------------- simulate: what is replayed

MAY = datetime(2026, 5, 1, tzinfo=UTC)


class HoldReviews:
    """Holds every review for a person's decision."""

    plugin_name = "hold-reviews"

    @hookimpl
    def advokit_screen(self, ctx: Any, action: Action) -> Verdict | None:
        return Verdict.hold("a new reviewer") if action.kind == "review.posted" else None


def test_simulate_replays_a_persons_decisions_and_lets_its_tick_take_the_deadlines(
    make_program: Callable[..., Program], advokit_clock: ManualClock
) -> None:
    def build(default: str, **options: Any) -> Program:
        return make_program(
            name="shop",
            plugins=[Points(PointsRule("review.posted", points=10)), HoldReviews()],
            review_deadline=timedelta(days=1),
            review_default=default,
            **options,
        )

    program = build("deny")
    program.enroll_many([Advocate(external_id="c0"), Advocate(external_id="c1")])
    for at, who in ((MAY + timedelta(hours=9), "c0"), (MAY + timedelta(hours=10), "c1")):
        advokit_clock.set(at)
        action = Action(kind="review.posted", advocate=who, key=f"r-{who}", occurred_at=at)
        assert program.record(action).status.value == "held"
    # a person approves c1's review in time; nobody decides on c0's: the tick denies it
    advokit_clock.set(MAY + timedelta(hours=15))
    program.review("r-c1", approve=True, reviewer="maria")
    advokit_clock.set(MAY + timedelta(days=1, hours=12))
    assert [o.key for o in program.tick().decided_by_default] == ["r-c0"]
    advokit_clock.set(MAY + timedelta(days=10))
    window = (MAY, MAY + timedelta(days=5))

    same = simulate(program, *window)
    assert same.actual.actions == {"review.posted": {"applied": 1, "rejected": 1}}
    assert same.simulated == same.actual
    assert same.replay.decisions == 1  # maria's; the deadline's is the sandbox tick's

    # approved by default now: what waited past the deadline is approved in the simulation
    changed = simulate(build("approve", database_url=program.database_url), *window)
    assert changed.actual == same.actual
    assert changed.simulated.actions == {"review.posted": {"applied": 2}}
    assert changed.simulated.totals["points"]["awarded"] == 2 * 10
    assert changed.replay.decisions == 1


class Gifts:
    """Issues a gift card of ``cents`` for every review (none for 0)."""

    plugin_name = "gifts"
    advokit_evaluates = frozenset({"review.posted"})

    def __init__(self, cents: int) -> None:
        self.cents = cents

    @hookimpl
    def advokit_evaluate(self, ctx: Any, action: Action) -> list[IssueReward]:
        reward = Reward(kind="gift_card", amount=self.cents, currency="EUR")
        return [IssueReward(advocate=action.advocate, reward=reward)] if self.cents else []


def test_simulate_does_not_replay_what_a_worker_recorded(
    make_program: Callable[..., Program], advokit_clock: ManualClock
) -> None:
    def build(cents: int, **options: Any) -> Program:
        return make_program(
            plugins=[Points(), Rewards(), Gifts(cents), StoreCredit("EUR", kinds=["gift_card"])],
            **options,
        )

    program = build(2500)
    program.enroll(Advocate(external_id="c0"))
    advokit_clock.set(MAY + timedelta(hours=9))
    for n in range(2):
        program.record(Action(kind="review.posted", advocate="c0", key=f"r-{n}"))
    assert program.fulfil_pending().fulfilled == 2  # the worker credits the gift cards
    credited = program.balance("c0", "store_credit")
    assert credited == 2 * 2500
    advokit_clock.set(MAY + timedelta(days=1))
    window = (MAY, MAY + timedelta(days=1))
    worker = {"reward.credited: recorded by a worker; none runs in a simulation": 2}

    same = simulate(program, *window)
    assert (
        same.simulated.rewards
        == same.actual.rewards
        == {"gift_card": {"count": 2, "amount": credited}}
    )
    assert same.actual.totals["store_credit"]["awarded"] == credited
    assert "store_credit" not in same.simulated.totals  # issued, never fulfilled here
    assert same.replay.skipped == worker

    # no gift card for a review any more: nothing issued, so nothing credited either
    none = simulate(build(0, database_url=program.database_url), *window)
    assert none.simulated.rewards == {}
    assert none.simulated.totals == {}
    assert none.replay.skipped == worker


def test_simulate_reads_the_program_page_by_page_in_short_transactions(
    make_program: Callable[..., Program], advokit_clock: ManualClock, monkeypatch: Any
) -> None:
    program = make_program(
        plugins=[Points(PointsRule("review.posted", points=10))], policies=[Cap(25, per="day")]
    )
    who = ("c0", "c1", "c2")
    program.enroll_many([Advocate(external_id=w) for w in who])
    # three actions at each instant: pages of four split them, ties and all; recorded
    # latest first (an import of a file sorted newest first), so that the order of the
    # ids is not the order of the times
    advokit_clock.set(MAY + timedelta(days=1))
    for hour in reversed(range(5)):
        at = MAY + timedelta(hours=9 + hour)
        program.record_many(
            Action(kind="review.posted", advocate=w, key=f"r-{hour}-{w}", occurred_at=at)
            for w in who
        )
    monkeypatch.setattr(simulation, "PAGE", 4)
    path = parse_url(program.database_url).database
    busy: list[int] = []
    record = simulation._record

    def checkpointing(*args: Any) -> None:
        # A read transaction left open on the program's database would keep its WAL from
        # being checkpointed and truncated: SQLite would answer busy (1).
        with closing(sqlite3.connect(path, timeout=0)) as other:
            busy.append(other.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0])
        record(*args)

    replayed: list[datetime] = []

    def in_order(sandbox: Program, batch: list[Action], *args: Any) -> None:
        replayed.extend(action.occurred_at for action in batch)
        checkpointing(sandbox, batch, *args)

    monkeypatch.setattr(simulation, "_record", in_order)
    backtest = simulate(program, MAY, MAY + timedelta(days=1), ticks="none")
    assert replayed == sorted(replayed) and len(replayed) == 15
    assert busy == [0] * 5  # one batch per instant
    assert backtest.replay.actions == 15  # each action once: none skipped, none twice
    assert backtest.simulated == backtest.actual
    assert backtest.actual.totals["points"]["awarded"] == 3 * 25  # the cap, each of them


class BrokenTick:
    """A plugin whose tick fails."""

    plugin_name = "broken-tick"

    @hookimpl
    def advokit_tick(self, program: Any, now: datetime) -> list[Action]:
        raise RuntimeError("the tick broke")


def test_a_failed_simulation_leaves_no_kept_file_behind(
    make_program: Callable[..., Program], advokit_clock: ManualClock, workdir: Path
) -> None:
    program = make_program(plugins=[Points(PointsRule("review.posted", points=10)), BrokenTick()])
    program.enroll(Advocate(external_id="c0"))
    at = MAY + timedelta(hours=9)
    program.record(Action(kind="review.posted", advocate="c0", key="r-1", occurred_at=at))
    kept = workdir / "may.db"
    with pytest.raises(PluginError, match="the tick broke"):
        simulate(program, MAY, MAY + timedelta(days=5), keep=kept)
    assert list(workdir.iterdir()) == []  # neither the file nor its journals
    # so the next run may keep its database there
    backtest = simulate(program, MAY, MAY + timedelta(days=5), keep=kept, ticks="none")
    assert backtest.replay.actions == 1 and kept.exists()
