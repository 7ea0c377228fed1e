"""The leaderboards plugin: windows that reset, ties, segments, neighbours, expiry."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import attrs
import pytest
import sqlalchemy as sa

from advokit import (
    Action,
    ActionKind,
    Advocate,
    AwardPoints,
    ConfigurationError,
    DeductPoints,
    Effect,
    Tag,
    hookimpl,
)
from advokit.core import codec
from advokit.core.errors import InvalidValue, PluginError
from advokit.core.store import queries as q
from advokit.plugins import leaderboards
from advokit.plugins.leaderboards import Board, Leaderboards, Score, taken_off_t
from advokit.plugins.points import Points, PointsRule, redemption, reversal

# the clock starts on Monday 1 June 2026, 12:00 UTC
MONDAY = datetime(2026, 6, 1, 12, tzinfo=UTC)
PEOPLE = ("ann", "bob", "cat", "dan", "eve")


class Expiring:
    """Awards 10 points per share, expiring after 30 days."""

    plugin_name = "expiring"
    advokit_evaluates = frozenset({"share.posted"})

    @hookimpl
    def advokit_evaluate(self, ctx, action):
        at = action.occurred_at or ctx.now
        return [
            AwardPoints(
                advocate=action.advocate,
                points=10,
                reason="share.posted",
                expires_at=at + timedelta(days=30),
            )
        ]


class Tagger:
    """Tags the advocate with ``data['tag']`` of a community post."""

    plugin_name = "tagger"
    advokit_evaluates = frozenset({"community.post"})

    @hookimpl
    def advokit_evaluate(self, action):
        return [Tag(advocate=action.advocate, tag=action.data["tag"])]


@pytest.fixture
def boards(make_program, database_url):
    program = make_program(
        database_url=database_url,
        plugins=[
            Points(PointsRule("purchase.completed", points=lambda a: a.data["total_cents"] // 100)),
            Leaderboards(
                Board("points"),
                Board("reviewers", count="review.posted"),
                Board("five_stars", count="review.posted", where=lambda a: a.data["rating"] == 5),
                timezone="Europe/Paris",
            ),
            Expiring(),
            Tagger(),
        ],
    )
    for who in PEOPLE:
        program.enroll(Advocate(external_id=who, name=who.title()))
    return program


def buy(program, who, key, cents, at=None):
    return program.record(
        Action(
            kind="purchase.completed",
            advocate=who,
            key=key,
            occurred_at=at,
            data={"order_id": key, "total_cents": cents},
        )
    )


def review(program, who, key, rating=5, at=None):
    return program.record(
        Action(kind="review.posted", advocate=who, key=key, occurred_at=at, data={"rating": rating})
    )


def table(standings):
    return [(s.rank, s.advocate, s.value) for s in standings]


# --------------------------------------------------------------------------- windows


def test_points_earned_rank_and_spending_does_not_lower_them(boards):
    buy(boards, "ann", "a1", 3000)  # 30 points
    buy(boards, "bob", "b1", 5000)  # 50
    buy(boards, "cat", "c1", 1000)  # 10
    boards.record(redemption("bob", 45, key="bob-spends"))
    assert table(boards.board("points")) == [(1, "bob", 50), (2, "ann", 30), (3, "cat", 10)]
    # a reversal lowers what was earned
    boards.record(reversal("ann", "a1", key="ann-refund"))
    assert table(boards.board("points")) == [(1, "bob", 50), (2, "cat", 10)]
    assert [s.name for s in boards.board("points", limit=1)] == ["Bob"]


def test_today_week_and_month_reset_in_the_boards_time_zone(boards, advokit_clock):
    paris_sunday_late = datetime(2026, 5, 31, 22, 30, tzinfo=UTC)  # Monday 00:30 in Paris
    review(boards, "ann", "r1", at=datetime(2026, 5, 31, 21, 30, tzinfo=UTC))  # Sunday, Paris
    review(boards, "bob", "r2", at=paris_sunday_late)
    review(boards, "bob", "r3")
    review(boards, "cat", "r4")

    assert table(boards.board("reviewers", window="all")) == [
        (1, "bob", 2),
        (2, "ann", 1),
        (2, "cat", 1),
    ]
    assert table(boards.board("reviewers", window="today")) == [(1, "bob", 2), (2, "cat", 1)]
    assert table(boards.board("reviewers", window="week")) == [(1, "bob", 2), (2, "cat", 1)]
    assert table(boards.board("reviewers", window="month")) == [(1, "bob", 2), (2, "cat", 1)]
    last_week = boards.board("reviewers", window="week", at=MONDAY - timedelta(days=7))
    assert table(last_week) == [(1, "ann", 1)]

    advokit_clock.advance(days=1)  # Tuesday: a new day, the same week
    assert boards.board("reviewers", window="today") == []
    assert len(boards.board("reviewers", window="week")) == 2
    advokit_clock.advance(days=7)  # the next week: the weekly board starts again
    assert boards.board("reviewers", window="week") == []
    assert len(boards.board("reviewers", window="month")) == 2


def test_a_custom_range_sums_its_days(boards):
    for day in range(10):
        review(boards, "ann", f"a{day}", at=MONDAY + timedelta(days=day))
    review(boards, "bob", "b0", at=MONDAY + timedelta(days=2))
    review(boards, "bob", "b1", at=MONDAY + timedelta(days=2, hours=1))
    window = (date(2026, 6, 2), date(2026, 6, 4))
    assert table(boards.board("reviewers", window=window)) == [(1, "ann", 3), (2, "bob", 2)]
    position = boards.board_position("reviewers", "bob", window=window)
    assert position.standing.rank == 2 and [s.advocate for s in position.above] == ["ann"]


def test_a_count_board_can_narrow_what_counts(boards):
    review(boards, "ann", "r1", rating=5)
    review(boards, "ann", "r2", rating=3)
    review(boards, "bob", "r3", rating=3)
    assert table(boards.board("five_stars")) == [(1, "ann", 1)]


# --------------------------------------------------------------------------- ties and neighbours


def test_tie_rules(boards, advokit_clock):
    # ann 30 first, then bob 30, cat 20, dan 10
    for who, cents in (("ann", 3000), ("bob", 3000), ("cat", 2000), ("dan", 1000)):
        buy(boards, who, f"{who}-1", cents)
        advokit_clock.advance(minutes=1)
    competition = [(1, "ann", 30), (1, "bob", 30), (3, "cat", 20), (4, "dan", 10)]
    assert table(boards.board("points")) == competition
    assert table(boards.board("points", ranking="dense")) == [
        (1, "ann", 30),
        (1, "bob", 30),
        (2, "cat", 20),
        (3, "dan", 10),
    ]
    assert table(boards.board("points", ranking="ordinal")) == [
        (1, "ann", 30),
        (2, "bob", 30),
        (3, "cat", 20),
        (4, "dan", 10),
    ]


def test_own_rank_and_neighbours(boards, advokit_clock):
    for n, who in enumerate(PEOPLE):  # ann 10, bob 20, ... eve 50
        buy(boards, who, f"{who}-1", 1000 * (n + 1))
        advokit_clock.advance(minutes=1)
    buy(boards, "ann", "ann-2", 2000)  # ann 30: ties cat, who reached 30 first

    position = boards.board_position("points", "ann", neighbours=1)
    assert position.standing.rank == 3 and position.standing.value == 30
    assert table(position.above) == [(3, "cat", 30)]
    assert table(position.below) == [(5, "bob", 20)]

    ordinal = boards.board_position("points", "ann", neighbours=2, ranking="ordinal")
    assert table(ordinal.above) == [(2, "dan", 40), (3, "cat", 30)]
    assert ordinal.standing.rank == 4
    assert table(ordinal.below) == [(5, "bob", 20)]

    dense = boards.board_position("points", "bob", ranking="dense", neighbours=1)
    assert dense.standing.rank == 4 and table(dense.above) == [(3, "ann", 30)]
    assert dense.below == ()

    top = boards.board_position("points", "eve", neighbours=2)
    assert top.above == () and top.standing.rank == 1

    boards.enroll(Advocate(external_id="fay"))
    assert boards.board_position("points", "fay").standing is None  # unranked


def test_a_segment_ranks_only_its_advocates(boards):
    for n, who in enumerate(PEOPLE):
        buy(boards, who, f"{who}-1", 1000 * (n + 1))
    for who in ("ann", "cat"):
        boards.record(
            Action(kind="community.post", advocate=who, key=f"{who}-vip", data={"tag": "vip"})
        )
    assert table(boards.board("points", segment="vip")) == [(1, "cat", 30), (2, "ann", 10)]
    assert boards.board_position("points", "ann", segment="vip").standing.rank == 2


# --------------------------------------------------------------------------- expiry


def test_expired_points_never_count_as_earned(boards, advokit_clock):
    boards.tick()  # the board keeps expiries from here on
    boards.record(Action(kind="share.posted", advocate="ann", key="s1", data={"network": "x"}))
    buy(boards, "bob", "b1", 1500)
    assert table(boards.board("points")) == [(1, "bob", 15), (2, "ann", 10)]

    advokit_clock.advance(days=31)  # ann's 10 points expired, in July
    report = boards.tick()
    assert report.expired_points == 10
    assert table(boards.board("points")) == [(1, "bob", 15)]
    june = boards.board("points", window="month", at=MONDAY)
    assert table(june) == [(1, "bob", 15)]  # taken off the month they were earned in
    assert boards.board("points", window="month") == []  # and nothing negative in July
    boards.tick()  # a second tick takes nothing off twice
    assert table(boards.board("points", window="all")) == [(1, "bob", 15)]
    buy(boards, "ann", "a2", 500)
    assert table(boards.board("points")) == [(1, "bob", 15), (2, "ann", 5)]


def test_points_awarded_before_the_boards_existed_are_not_taken_off(make_program, advokit_clock):
    before = make_program(plugins=[Expiring()])
    before.enroll(Advocate(external_id="ann"))
    before.record(Action(kind="share.posted", advocate="ann", key="s1", data={"network": "x"}))
    url = before.database_url
    before.close()
    program = make_program(database_url=url, plugins=[Expiring(), Leaderboards(Board("points"))])
    program.record(Action(kind="share.posted", advocate="ann", key="s2", data={"network": "x"}))
    assert table(program.board("points")) == [(1, "ann", 10)]
    advokit_clock.advance(days=31)
    assert program.tick().expired_points == 20
    assert program.board("points") == []
    program.record(Action(kind="share.posted", advocate="ann", key="s3", data={"network": "x"}))
    # only the 10 it counted were taken off, not the 10 from before it existed
    assert table(program.board("points")) == [(1, "ann", 10)]


def test_a_simulation_of_the_same_program_objects_keeps_its_own_expiry_cursor(
    make_program, advokit_clock, tmp_path
):
    """The sandbox shares the program's plugin objects: what they know of the program's
    database (its cursor exists) must not be taken for the sandbox's."""
    from advokit.core.simulation import simulate

    def plugins():
        rule = PointsRule("review.posted", points=10, expires_after=timedelta(days=2))
        return [Points(rule), Leaderboards(Board("points"))]

    program = make_program(plugins=plugins())
    program.enroll(Advocate(external_id="ann"))
    may = datetime(2026, 5, 1, tzinfo=UTC)
    for day in range(6):  # a review every morning, the tick every midnight
        advokit_clock.set(may + timedelta(days=day, hours=9))
        program.record(Action(kind="review.posted", advocate="ann", key=f"r{day}"))
        advokit_clock.set(may + timedelta(days=day + 1))
        program.tick()
    assert table(program.board("points")) == [(1, "ann", program.balance("ann"))]

    # in the same process, on the same objects; nothing expires between the last tick and 05:00
    kept = tmp_path / "kept.db"
    backtest = simulate(program, may, may + timedelta(days=5, hours=5), keep=kept)
    assert backtest.simulated == backtest.actual
    sandbox = make_program(database_url=f"sqlite:///{kept}", plugins=plugins())
    # nothing spent: what the board counts is the balance, every expiry taken off
    assert any(entry.reason == "points.expired" for entry in sandbox.history("ann"))
    assert table(sandbox.board("points")) == [(1, "ann", sandbox.balance("ann"))]


# --------------------------------------------------------------------------- bad input


def test_bad_boards_and_questions_are_refused(boards, make_program):
    with pytest.raises(ConfigurationError, match=r"Board\('x'\).count.*None when points"):
        Board("x", points="points", count="review.posted")
    with pytest.raises(ConfigurationError, match=r"Leaderboards.timezone.*'Nowhere/Land'"):
        Leaderboards(Board("x"), timezone="Nowhere/Land")
    with pytest.raises(ConfigurationError, match=r"Leaderboards.keep_days=30.*from 366"):
        Leaderboards(Board("x"), keep_days=30)
    with pytest.raises(ConfigurationError, match=r"Leaderboards\(boards\).*'x'.*once"):
        Leaderboards(Board("x"), Board("x"))
    with pytest.raises(PluginError, match=r"'leaderboards'.*Board\('x'\).count='no.such'"):
        make_program(plugins=[Leaderboards(Board("x", count="no.such"))])
    with pytest.raises(InvalidValue, match="board='nope'.*points"):
        boards.board("nope")
    with pytest.raises(InvalidValue, match="window='year'"):
        boards.board("points", window="year")
    with pytest.raises(InvalidValue, match="window.*first <= last"):
        boards.board("points", window=(date(2026, 6, 2), date(2026, 6, 1)))
    with pytest.raises(InvalidValue, match="ranking='fair'.*competition"):
        boards.board("points", ranking="fair")
    with pytest.raises(InvalidValue, match="limit=0"):
        boards.board("points", limit=0)
    with pytest.raises(InvalidValue, match="neighbours=-1"):
        boards.board_position("points", "ann", neighbours=-1)


def test_daily_rows_older_than_keep_days_are_pruned_and_not_asked_for(make_program, advokit_clock):
    program = make_program(
        plugins=[
            Points(PointsRule("purchase.completed", points=lambda a: a.data["total_cents"] // 100)),
            Leaderboards(Board("points"), keep_days=366),
        ]
    )
    program.enroll(Advocate(external_id="ann"))
    buy(program, "ann", "o1", 500)  # Monday 1 June 2026: 5 points
    first_day = advokit_clock().date()
    assert scored(program, first_day, first_day) == [("ann", 5)]

    advokit_clock.advance(days=366)
    program.tick()
    assert scored(program, first_day, first_day) == [("ann", 5)]  # 366 days back: still kept
    advokit_clock.advance(days=1)
    program.tick()
    with pytest.raises(InvalidValue, match=r"window=.*days from 2026-06-02 on.*kept 366 days"):
        scored(program, first_day, first_day)
    with pytest.raises(InvalidValue, match=r"window='today'.*kept 366 days"):
        program.board("points", window="today", at=MONDAY)
    # the day's row is gone; its week, month and all time remain
    assert [(s.advocate, s.value) for s in program.board("points", window="week", at=MONDAY)] == [
        ("ann", 5)
    ]
    assert [(s.advocate, s.value) for s in program.board("points")] == [("ann", 5)]
    with program.engine.connect() as conn:
        periods = sorted(
            p for (p,) in conn.exec_driver_sql("SELECT period FROM leaderboards_scores")
        )
    assert periods == ["all", "m:2026-06", "w:2026-W23"]


def scored(program, first, last):
    return [(s.advocate, s.value) for s in program.board("points", window=(first, last))]


def test_an_expiry_committed_after_a_later_one_is_still_taken_off(
    make_program, postgres_url, advokit_clock, monkeypatch
):
    """PostgreSQL hands out ids before commit: the lower id may become visible last."""
    plugin = Leaderboards(Board("points"))
    program = make_program(plugins=[Expiring(), plugin], database_url=postgres_url)
    for who in ("ann", "bob"):
        program.enroll(Advocate(external_id=who))
    program.tick()  # the board keeps expiries from here on
    for who in ("ann", "bob"):
        program.record(Action(kind="share.posted", advocate=who, key=who, data={"network": "x"}))
    advokit_clock.advance(days=31)
    now = advokit_clock()

    def expiry(conn, who):
        e = q.entries_t
        award = conn.execute(sa.select(e).where(e.c.type == "award", e.c.action_key == who)).one()
        conn.execute(
            e.insert().values(
                program=award.program,
                advocate_id=award.advocate_id,
                account="points",
                type="expire",
                delta=-10,
                reason="points.expired",
                lot_id=award.lot_id,
                effective_at=now,
                created_at=now,
            )
        )

    with program.engine.connect() as first, program.engine.connect() as second:
        with first.begin() as late:
            expiry(first, "ann")  # the lower id, not committed yet
            with second.begin():
                expiry(second, "bob")  # a higher id, committed first
            plugin.advokit_tick(program, now)  # sees bob's only
            assert table(program.board("points")) == [(1, "ann", 10)]
            late.commit()
    plugin.advokit_tick(program, now)
    assert program.board("points") == []  # ann's taken off too, bob's not twice
    monkeypatch.setattr(leaderboards.plugin, "SETTLED", timedelta(0))  # as if an hour went by
    plugin.advokit_tick(program, now)  # looks at the newest id
    plugin.advokit_tick(program, now)  # moves the mark there, forgets what is below
    with program.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(taken_off_t)).scalar() == 0
    assert program.board("points", window="month", at=MONDAY) == []


@attrs.frozen(kw_only=True)
class SpendAll(Effect):
    """Applied, it derives ``test.spent``, which spends more than anyone has."""

    advocate: str


class Spender:
    """A one-star review is refused after the boards scored it (a derived deduction fails)."""

    plugin_name = "spender"
    advokit_evaluates = frozenset({"review.posted", "test.spent"})

    @hookimpl
    def advokit_register_action_kinds(self, register):
        register(ActionKind(name="test.spent", derived=True))

    @hookimpl
    def advokit_evaluate(self, action):
        if action.kind == "test.spent":
            return [DeductPoints(advocate=action.advocate, points=1000, reason="test.spent")]
        return [SpendAll(advocate=action.advocate)] if action.data["rating"] == 1 else []

    @hookimpl
    def advokit_apply_effect(self, tx, effect):
        if not isinstance(effect, SpendAll):
            return None
        tx.emit(Action(kind="test.spent", advocate=effect.advocate, key=f"{tx.root_key}>spent"))
        return True


def test_the_expiry_cursor_is_made_by_an_action_that_stays(make_program):
    """The first scoring action of a program makes the cursor; refused, it takes it back."""
    program = make_program(
        plugins=[Leaderboards(Board("reviewers", count="review.posted")), Spender()]
    )
    program.enroll(Advocate(external_id="ann"))
    outcomes = program.record_many(
        [
            Action(kind="review.posted", advocate="ann", key="r1", data={"rating": 1}),
            Action(kind="review.posted", advocate="ann", key="r2", data={"rating": 5}),
        ]
    )
    assert [o.status.value for o in outcomes] == ["rejected", "applied"]
    with program.engine.connect() as conn:
        assert (
            conn.execute(sa.select(sa.func.count()).select_from(leaderboards.cursor_t)).scalar()
            == 1
        )
    assert table(program.board("reviewers")) == [(1, "ann", 1)]


def test_effects_stored_under_the_old_module_name_still_decode():
    """Outcomes recorded when the plugin was one module name ``advokit.plugins.leaderboards``."""
    at = datetime(2026, 6, 1, tzinfo=UTC)
    stored = {
        "type": "advokit.plugins.leaderboards:Score",
        "fields": {
            "advocate": "ann",
            "board": "points",
            "amount": 5,
            "at": {"$datetime": at.isoformat()},
        },
    }
    assert codec.decode_effect(stored) == Score(advocate="ann", board="points", amount=5, at=at)
