"""program.tick, plugin queries (program.<name>) and plugins' own batched reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from advokit import (
    Action,
    ActionKind,
    Advocate,
    AwardPoints,
    ConfigurationError,
    InvalidValue,
    PluginError,
    hookimpl,
)
from advokit.plugins.points import Points, PointsRule

BIRTHDAY = ActionKind(name="advocate.birthday", derived=True)


class Birthdays:
    """Every advocate whose external id starts with "b" has a birthday each day."""

    plugin_name = "birthdays"
    advokit_evaluates = frozenset({BIRTHDAY.name})

    def __init__(self) -> None:
        self.ticks: list[datetime] = []

    @hookimpl
    def advokit_register_action_kinds(self, register):
        register(BIRTHDAY)

    @hookimpl
    def advokit_tick(self, program, now):
        self.ticks.append(now)
        with program.engine.connect() as conn:
            ids = conn.execute(
                sa.text("SELECT external_id FROM advokit_advocates WHERE external_id LIKE 'b%'")
            ).scalars()
            return [
                Action(
                    kind=BIRTHDAY.name,
                    advocate=external_id,
                    key=f"birthday:{external_id}:{now.date()}",
                    occurred_at=now,
                )
                for external_id in ids
            ]

    @hookimpl
    def advokit_evaluate(self, action):
        return [AwardPoints(advocate=action.advocate, points=100, reason=BIRTHDAY.name)]


def _enrolled(program, *ids):
    for external_id in ids:
        program.enroll(Advocate(external_id=external_id))
    return program


def test_tick_records_what_plugins_say_is_due_once(make_program, advokit_clock):
    birthdays = Birthdays()
    program = _enrolled(make_program(plugins=[birthdays]), "bea", "bob", "carl")

    first = program.tick()
    assert (first.applied, first.replayed, first.expired_points) == (2, 0, 0)
    assert first.now == advokit_clock()
    assert program.balance("bea") == program.balance("bob") == 100
    assert program.balance("carl") == 0

    again = program.tick()  # same instant: the same keys replay
    assert (again.applied, again.replayed) == (0, 2)
    assert program.balance("bea") == 100

    advokit_clock.advance(days=1)
    assert program.tick().applied == 2
    assert program.balance("bea") == 200
    assert birthdays.ticks[-1] == advokit_clock()


def test_tick_expires_points_first(make_program, advokit_clock):
    program = _enrolled(
        make_program(
            plugins=[Points(PointsRule("purchase.completed", 30, expires_after=timedelta(days=7)))]
        ),
        "ann",
    )
    program.record(
        Action(kind="purchase.completed", advocate="ann", key="o1", data={"order_id": "1"})
    )
    assert program.tick().expired_points == 0
    advokit_clock.advance(days=8)
    report = program.tick()
    assert report.expired_points == 30
    assert program.tick().expired_points == 0
    assert program.balance("ann") == 0


def test_tick_takes_an_explicit_instant_and_checks_it(make_program):
    program = make_program(plugins=[Birthdays()])
    at = datetime(2027, 1, 1, 9, tzinfo=UTC)
    assert program.tick(at).now == at
    with pytest.raises(InvalidValue, match="now"):
        program.tick(datetime(2027, 1, 1))  # naive
    with pytest.raises(InvalidValue, match="batch_size"):
        program.tick(at, batch_size=0)


def test_a_tick_hook_that_raises_is_blamed_on_its_plugin(make_program):
    class Broken:
        plugin_name = "broken-tick"

        @hookimpl
        def advokit_tick(self, now):
            yield from ()
            raise RuntimeError("calendar unavailable")

    program = make_program(plugins=[Broken()])
    with pytest.raises(PluginError, match="broken-tick.*advokit_tick.*calendar unavailable"):
        program.tick()


def test_a_tick_hook_must_return_actions(make_program):
    class Wrong:
        plugin_name = "wrong-tick"

        @hookimpl
        def advokit_tick(self):
            return ["advocate.birthday"]

    with pytest.raises(InvalidValue, match="advokit_tick result"):
        make_program(plugins=[Wrong()]).tick()


def test_recorded_actions_cannot_use_a_derived_kind(make_program):
    program = _enrolled(make_program(plugins=[Birthdays()]), "bea")
    with pytest.raises(InvalidValue, match="derived"):
        program.record(Action(kind="advocate.birthday", advocate="bea", key="b1"))


# --------------------------------------------------------------------------- queries


def points_of(program, advocate, account="points"):
    """A registered query: the advocate's balance, as a method of the program."""
    return program.balance(advocate, account)


class Queries:
    plugin_name = "queries"

    def __init__(self, name=None):
        self.name = name

    @hookimpl
    def advokit_register_queries(self, register):
        register(points_of, name=self.name)


def test_a_registered_query_is_a_method_of_the_program(make_program):
    program = _enrolled(make_program(plugins=[Queries()]), "ann")
    program.record(
        Action(
            kind="points.adjusted", advocate="ann", key="k", data={"points": 5, "reason": "gift"}
        )
    )
    assert program.points_of("ann") == 5
    with pytest.raises(AttributeError, match="no_such_query"):
        program.no_such_query  # noqa: B018


@pytest.mark.parametrize("name", ["record", "balance", "name", "_private"])
def test_a_query_cannot_take_a_name_the_program_has(make_program, name):
    with pytest.raises(ConfigurationError, match=f"plugin 'queries'.*{name}"):
        make_program(plugins=[Queries(name)])


# --------------------------------------------------------------------------- view


def test_view_memo_batches_a_plugins_read_and_forget_reloads_it(make_program):
    loads: list[list[int]] = []

    def load(conn, ids):
        loads.append(sorted(ids))
        return {row_id: row_id * 10 for row_id in ids}

    seen: list[int] = []

    class Reader:
        plugin_name = "reader"
        advokit_evaluates = frozenset({"points.adjusted"})

        @hookimpl
        def advokit_evaluate(self, ctx, action):
            seen.append(ctx.view.memo(("reader", "value"), action.advocate, load))
            if action.key == "a2":
                ctx.view.forget(("reader", "value"), action.advocate)

    program = _enrolled(make_program(plugins=[Reader()]), "ann", "bob")
    program.record_many(
        [
            Action(kind="points.adjusted", advocate=who, key=key, data={"points": 1, "reason": "x"})
            for who, key in [("ann", "a1"), ("bob", "b1"), ("ann", "a2"), ("ann", "a3")]
        ]
    )
    ann, bob = loads[0]  # enrolled in this order
    assert loads == [[ann, bob], [ann]]  # the batch at once; ann alone again after forget
    assert seen == [ann * 10, bob * 10, ann * 10, ann * 10]


def test_view_earned_net_subtracts_reversals(make_program, advokit_clock):
    observed: list[tuple[int, int]] = []

    class Watcher:
        plugin_name = "watcher"
        advokit_evaluates = frozenset({"points.changed"})

        @hookimpl
        def advokit_evaluate(self, ctx, action):
            since = ctx.now - timedelta(days=1)
            until = ctx.now + timedelta(days=1)
            view = ctx.view
            observed.append(
                (
                    view.earned(action.advocate, since=since, until=until),
                    view.earned(action.advocate, since=since, until=until, net=True),
                )
            )

    program = _enrolled(
        make_program(
            plugins=[
                Points(
                    PointsRule("purchase.completed", 40),
                    reversals={"purchase.refunded": "purchase_key"},
                ),
                Watcher(),
            ],
        ),
        "ann",
    )
    program.record(
        Action(kind="purchase.completed", advocate="ann", key="o1", data={"order_id": "1"})
    )
    program.record(
        Action(
            kind="purchase.refunded",
            advocate="ann",
            key="r1",
            data={"order_id": "1", "purchase_key": "o1"},
        )
    )
    assert observed == [(40, 40), (40, 0)]


# --------------------------------------------------------------------------- expiry notices


def test_expiry_notices_go_once_per_award_ahead_of_expiry(
    make_program, advokit_clock, database_url
):
    from advokit.plugins.points import EXPIRING, redemption

    notices = []

    class Mailer:
        plugin_name = "mailer"
        advokit_evaluates = frozenset({EXPIRING})

        @hookimpl
        def advokit_evaluate(self, action):
            notices.append((action.advocate, dict(action.data)))

    program = _enrolled(
        make_program(
            plugins=[
                Points(
                    PointsRule("purchase.completed", 50, expires_after=timedelta(days=30)),
                    expiry_notice=timedelta(days=7),
                ),
                Mailer(),
            ],
            database_url=database_url,
        ),
        "ann",
    )
    start = advokit_clock()
    program.record(
        Action(kind="purchase.completed", advocate="ann", key="o1", data={"order_id": "1"})
    )
    program.record(redemption("ann", 20, key="spent"))
    advokit_clock.advance(days=22)  # expires in 8 days: not yet
    assert program.tick().applied == 0
    advokit_clock.advance(days=2)
    assert program.tick().applied == 1
    [(who, data)] = notices
    assert who == "ann"
    assert data["points"] == 30  # what is left of the award
    assert data["account"] == "points"
    assert data["expires_at"] == (start + timedelta(days=30)).isoformat()
    advokit_clock.advance(days=1)
    report = program.tick()
    assert (report.applied, report.replayed) == (0, 0)  # noticed once, not asked again
    advokit_clock.advance(days=6)
    report = program.tick()
    assert (report.expired_points, report.applied) == (30, 0)
    assert len(notices) == 1


def test_expiry_notice_must_be_a_positive_duration():
    with pytest.raises(ConfigurationError, match="Points.expiry_notice"):
        Points(expiry_notice=timedelta(0))
