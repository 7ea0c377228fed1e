"""The points plugin and the ledger: rules, policies, expiry, spending, reversal, history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from advokit import Action, Advocate, PluginError, Status
from advokit.plugins.points import (
    Cap,
    Multiplier,
    Points,
    PointsRule,
    adjustment,
    redemption,
    reversal,
)


def review(key, advocate="ann", at=None):
    return Action(kind="review.posted", advocate=advocate, key=key, occurred_at=at)


def purchase(key, cents, advocate="ann", at=None):
    return Action(
        kind="purchase.completed",
        advocate=advocate,
        key=key,
        occurred_at=at,
        data={"order_id": key, "total_cents": cents},
    )


@pytest.fixture
def enrolled(make_program):
    def make(*advocates, **options):
        program = make_program(**options)
        program.enroll_many(advocates or [Advocate(external_id="ann", name="Ann")])
        return program

    return make


def test_points_per_kind_fixed_and_computed(enrolled):
    program = enrolled(
        plugins=[
            Points(
                PointsRule("review.posted", points=50),
                PointsRule("purchase.completed", points=lambda a: a.data["total_cents"] // 100),
            )
        ]
    )
    program.record_many([review("r1"), purchase("o1", 4250)])
    assert program.balance("ann") == 92


def test_rule_returning_a_bad_value_names_the_rule(enrolled):
    program = enrolled(plugins=[Points(PointsRule("review.posted", points=lambda a: "lots"))])
    with pytest.raises(PluginError, match=r"PointsRule\('review.posted'\)"):
        program.record(review("r1"))


def test_cooldown_per_kind(enrolled, advokit_clock):
    program = enrolled(
        plugins=[Points(PointsRule("review.posted", points=50, cooldown=timedelta(days=7)))]
    )
    start = advokit_clock()
    outcomes = program.record_many(
        [review("r1", at=start), review("r2", at=start + timedelta(days=3))]
    )
    assert [o.points for o in outcomes] == [50, 0]
    assert program.record(review("r3", at=start + timedelta(days=8))).points == 50


def test_daily_cap_holds_inside_a_batch_and_across_batches(enrolled):
    program = enrolled(
        plugins=[Points(PointsRule("review.posted", points=40))], policies=[Cap(100)]
    )
    outcomes = program.record_many([review(f"r{i}") for i in range(4)])
    assert [o.points for o in outcomes] == [40, 40, 20, 0]
    assert program.record(review("r5")).points == 0
    assert program.balance("ann") == 100


def test_cap_days_are_the_advocates_own(enrolled):
    tokyo = Advocate(external_id="ann", timezone="Asia/Tokyo")
    program = enrolled(
        tokyo,
        plugins=[Points(PointsRule("review.posted", points=60))],
        policies=[Cap(100, per="day")],
    )
    # 14:00 and 16:00 UTC on 1 June are 23:00 on 1 June and 01:00 on 2 June in Tokyo
    first = datetime(2026, 6, 1, 14, tzinfo=UTC)
    outcomes = program.record_many(
        [review("r1", at=first), review("r2", at=first + timedelta(hours=2))]
    )
    assert [o.points for o in outcomes] == [60, 60]


def test_policy_chain_runs_in_the_order_written(enrolled):
    rule = Points(PointsRule("review.posted", points=40))
    multiply_then_cap = enrolled(plugins=[rule], policies=[Multiplier(2), Cap(50)])
    cap_then_multiply = enrolled(plugins=[rule], policies=[Cap(50), Multiplier(2)])
    assert multiply_then_cap.record(review("r1")).points == 50
    assert cap_then_multiply.record(review("r1")).points == 80


def test_multiplier_only_for_its_kinds_and_condition(enrolled):
    program = enrolled(
        plugins=[
            Points(PointsRule("review.posted", points=10), PointsRule("share.posted", points=10))
        ],
        policies=[Multiplier("1.5", kinds={"review.posted"}, when=lambda ctx, a: a.key != "r2")],
    )
    outcomes = program.record_many(
        [review("r1"), review("r2"), Action(kind="share.posted", advocate="ann", key="s1")]
    )
    assert [o.points for o in outcomes] == [15, 10, 10]


def test_manual_adjustments_need_a_reason_and_are_not_capped(enrolled):
    program = enrolled(plugins=[Points(PointsRule("review.posted", points=40))], policies=[Cap(10)])
    program.record(adjustment("ann", 500, reason="goodwill after late delivery", key="adj-1"))
    assert program.balance("ann") == 500
    entry = program.history("ann")[0]
    assert (entry.reason, entry.memo, entry.action_key) == (
        "points.adjusted",
        "goodwill after late delivery",
        "adj-1",
    )
    with pytest.raises(PluginError, match="reason"):
        program.record(adjustment("ann", 5, reason=" ", key="adj-2"))


def test_negative_adjustment_cannot_overdraw_unless_allowed(enrolled):
    strict = enrolled()
    outcome = strict.record(adjustment("ann", -5, reason="correction", key="a1"))
    assert outcome.status is Status.REJECTED
    lenient = enrolled(plugins=[Points(allow_negative_adjustments=True)])
    lenient.record(adjustment("ann", -5, reason="correction", key="a1"))
    assert lenient.balance("ann") == -5


def test_spending_consumes_lots_soonest_expiry_first(enrolled, advokit_clock):
    program = enrolled(
        plugins=[
            Points(
                PointsRule("review.posted", points=30, expires_after=timedelta(days=90)),
                PointsRule("share.posted", points=30, expires_after=timedelta(days=30)),
                PointsRule("community.post", points=30),
            )
        ]
    )
    program.record_many(
        [
            review("r1"),
            Action(kind="share.posted", advocate="ann", key="s1"),
            Action(kind="community.post", advocate="ann", key="c1"),
        ]
    )
    program.record(redemption("ann", 40, key="spend-1"))
    spent = [e for e in program.history("ann") if e.reason == "points.redeemed"]
    by_lot = {e.lot_id: e.delta for e in spent}
    lots = {e.action_key: e.lot_id for e in program.history("ann") if e.lot_id and e.delta > 0}
    assert by_lot == {lots["s1"]: -30, lots["r1"]: -10}  # share lot (30 days) first
    advokit_clock.advance(days=100)
    assert program.expire_points() == 20  # what is left of the review lot
    assert program.expire_points() == 0  # a lot expires once
    assert program.balance("ann") == 30  # the non-expiring pool
    assert program.verify_ledger() == []


def test_expired_points_cannot_be_spent_even_before_the_sweep(enrolled, advokit_clock):
    program = enrolled(
        plugins=[Points(PointsRule("review.posted", points=30, expires_after=timedelta(days=1)))]
    )
    program.record(review("r1"))
    advokit_clock.advance(days=2)
    outcome = program.record(redemption("ann", 10, key="spend-1"))
    assert outcome.status is Status.REJECTED
    assert "has 0 points available" in outcome.reasons[0]
    # the rejected action wrote nothing, not even the expiry it computed: the sweep does
    assert program.balance("ann") == 30
    assert program.expire_points() == 30
    assert program.history("ann")[0].reason == "points.expired"


def test_reversal_takes_back_once_and_explains_itself(enrolled):
    program = enrolled(
        plugins=[
            Points(
                PointsRule("purchase.completed", points=lambda a: a.data["total_cents"] // 100),
                reversals={"purchase.refunded": "purchase_key"},
            )
        ]
    )
    program.record(purchase("o1", 5000))
    refund = Action(
        kind="purchase.refunded",
        advocate="ann",
        key="refund-1",
        data={"order_id": "o1", "purchase_key": "o1"},
    )
    program.record(refund)
    program.record(reversal("ann", "o1", key="manual-reversal"))  # nothing left to reverse
    assert program.balance("ann") == 0
    reversed_entries = [e for e in program.history("ann") if e.reason == "points.reversed"]
    assert [(e.delta, e.action_key, e.related_action_key) for e in reversed_entries] == [
        (-50, "refund-1", "o1")
    ]
    assert program.verify_ledger() == []


@pytest.mark.parametrize(("clawback", "balance"), [("cap", 0), ("negative", -30)])
def test_clawback_of_spent_points(enrolled, clawback, balance):
    program = enrolled(
        plugins=[
            Points(
                PointsRule("purchase.completed", points=lambda a: a.data["total_cents"] // 100),
                clawback=clawback,
            )
        ]
    )
    program.record(purchase("o1", 5000))
    program.record(redemption("ann", 30, key="spend"))
    program.record(reversal("ann", "o1", key="rev"))
    assert program.balance("ann") == balance


def test_partial_reversal(enrolled):
    program = enrolled(plugins=[Points(PointsRule("review.posted", points=50))])
    program.record(review("r1"))
    program.record(reversal("ann", "r1", key="rev-1", points=20))
    program.record(reversal("ann", "r1", key="rev-2", points=100))
    assert program.balance("ann") == 0
    assert [e.delta for e in program.history("ann") if e.reason == "points.reversed"] == [-30, -20]


def test_history_explains_every_entry(enrolled):
    program = enrolled(plugins=[Points(PointsRule("review.posted", points=50))])
    program.record(review("r1"))
    program.record(redemption("ann", 20, key="spend-1", memo="free croissant"))
    spend, award = program.history("ann")
    assert (award.delta, award.reason, award.action_key) == (50, "review.posted", "r1")
    assert (spend.delta, spend.reason, spend.action_key, spend.memo) == (
        -20,
        "points.redeemed",
        "spend-1",
        "free croissant",
    )


def test_leaderboard_ranks_ties_together(enrolled):
    program = enrolled(
        *(Advocate(external_id=n, name=n.title()) for n in ("ann", "bob", "cat", "dan")),
        plugins=[Points(PointsRule("review.posted", points=10))],
    )
    program.record_many(
        [
            review(f"{n}-{i}", advocate=n)
            for n, times in (("ann", 3), ("bob", 3), ("cat", 1))
            for i in range(times)
        ]
    )
    program.record(redemption("bob", 10, key="bob-spend"))
    top = program.leaderboard(limit=3)
    assert [(s.rank, s.advocate, s.value) for s in top] == [
        (1, "ann", 30),
        (2, "bob", 20),
        (3, "cat", 10),
    ]
    earned = program.leaderboard(by="earned", limit=2)
    assert [(s.rank, s.value) for s in earned] == [(1, 30), (1, 30)]
