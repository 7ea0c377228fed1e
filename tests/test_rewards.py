"""Rewards: issuing, the catalogue and redemption, approvals, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from advokit import (
    Action,
    Advocate,
    ConfigurationError,
    InvalidValue,
    IssueReward,
    Reward,
    Status,
    Tag,
    Verdict,
    hookimpl,
)
from advokit.plugins.points import Points, adjustment
from advokit.plugins.rewards import (
    Budget,
    CatalogueItem,
    Rewards,
    RewardState,
    counts_t,
)
from advokit.testing import register_plugin
from helpers import (
    ADVOCATE,
    build_rewards_program,
    redeem_cakes,
    redeem_coffees,
    run_processes,
)

COFFEE = CatalogueItem(name="coffee", cost=30, reward=Reward(kind="coupon"))
CAKE = CatalogueItem(name="cake", cost=50, reward=Reward(kind="swag"), stock=2)
MUG = CatalogueItem(name="mug", cost=10, reward=Reward(kind="swag"), per_advocate=1)
GIFT = CatalogueItem(
    name="gift-card", cost=40, reward=Reward(kind="gift_card", amount=2500, currency="EUR")
)


@pytest.fixture
def program(make_program, database_url):
    program = make_program(
        database_url=database_url,
        plugins=[Points(), Rewards(COFFEE, CAKE, MUG, GIFT, approve_above=1000)],
    )
    program.enroll_many(Advocate(external_id=name) for name in ("ann", "bob", "cid"))
    for name in ("ann", "bob", "cid"):
        program.record(adjustment(name, 100, reason="welcome", key=f"welcome-{name}"))
    return program


def count(program, table):
    with program.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


# --------------------------------------------------------------------------- redeeming


def test_redeeming_debits_the_points_and_issues_the_reward_once_per_key(program, advokit_clock):
    outcome = program.redeem("ann", "coffee", key="r-1")
    assert outcome.status is Status.APPLIED
    assert program.balance("ann") == 70
    (reward,) = program.rewards("ann")
    assert (reward.reward, reward.state, reward.item, reward.cause) == (
        COFFEE.reward,
        RewardState.APPROVED,
        "coffee",
        "r-1",
    )
    assert reward.created_at == advokit_clock.now
    assert program.reward(reward.key) == reward
    history = program.reward_history(reward.key)
    assert [(t.before, t.after, t.actor) for t in history] == [
        (None, RewardState.REQUESTED, "advokit"),
        (RewardState.REQUESTED, RewardState.APPROVED, "advokit"),
    ]
    again = program.redeem("ann", "coffee", key="r-1")  # a retried request
    assert again.replayed and again.status is Status.APPLIED
    assert program.balance("ann") == 70 and len(program.rewards("ann")) == 1


def test_a_redemption_without_the_points_issues_nothing(program):
    for n in range(3):
        program.redeem("ann", "coffee", key=f"r-{n}")
    refused = program.redeem("ann", "coffee", key="r-3")
    assert refused.status is Status.REJECTED
    assert refused.reasons[0].startswith("insufficient_balance")
    assert program.balance("ann") == 10
    assert len(program.rewards("ann")) == 3


def test_stock_and_per_advocate_limits_refuse_with_their_reason(program):
    assert program.redeem("ann", "cake", key="c-1").status is Status.APPLIED
    assert program.redeem("bob", "cake", key="c-2").status is Status.APPLIED
    sold_out = program.redeem("cid", "cake", key="c-3")
    assert (sold_out.status, sold_out.reasons) == (Status.REJECTED, ("reward.out_of_stock",))
    assert program.balance("cid") == 100
    assert program.redeem("ann", "mug", key="m-1").status is Status.APPLIED
    again = program.redeem("ann", "mug", key="m-2")
    assert again.reasons == ("reward.limit_reached",)
    assert program.redeem("bob", "mug", key="m-3").status is Status.APPLIED  # per advocate
    with program.engine.connect() as conn:
        counted = conn.execute(
            sa.select(counts_t.c.item, counts_t.c.advocate_id, counts_t.c.issued)
        ).all()
    # what the limits need: the cake's stock in all (0), the mug per advocate
    assert sorted((item, advocate_id > 0, n) for item, advocate_id, n in counted) == [
        ("cake", False, 2),
        ("mug", True, 1),
        ("mug", True, 1),
    ]


class TagVip:
    advokit_evaluates = frozenset({"review.posted"})

    @hookimpl
    def advokit_evaluate(self, ctx, action):
        return [Tag(advocate=action.advocate, tag="vip")]


def test_availability_tags_and_rules_decide_who_may_redeem(make_program, advokit_clock):
    now = advokit_clock.now
    program = make_program(
        plugins=[
            Points(),
            Rewards(
                CatalogueItem(
                    name="summer",
                    cost=10,
                    reward=Reward(kind="swag"),
                    available_from=now + timedelta(days=1),
                    available_until=now + timedelta(days=2),
                ),
                CatalogueItem(name="vip-lounge", cost=10, reward=Reward(kind="swag"), tags={"vip"}),
                CatalogueItem(
                    name="staff",
                    cost=10,
                    reward=Reward(kind="swag"),
                    eligible=lambda ctx, advocate: advocate.startswith("staff-"),
                ),
            ),
        ]
    )
    program.enroll_many(Advocate(external_id=name) for name in ("ann", "staff-1"))
    for name in ("ann", "staff-1"):
        program.record(adjustment(name, 100, reason="welcome", key=f"w-{name}"))
    assert program.redeem("ann", "summer", key="s-1").reasons == ("reward.unavailable",)
    advokit_clock.advance(days=1)
    assert program.redeem("ann", "summer", key="s-2").status is Status.APPLIED
    advokit_clock.advance(days=1)
    assert program.redeem("ann", "summer", key="s-3").reasons == ("reward.unavailable",)
    assert program.redeem("ann", "vip-lounge", key="v-1").reasons == ("reward.not_eligible",)
    with register_plugin(program, TagVip()):
        program.record(Action(kind="review.posted", advocate="ann", key="rev-1"))
    assert program.redeem("ann", "vip-lounge", key="v-2").status is Status.APPLIED
    assert program.redeem("ann", "staff", key="st-1").reasons == ("reward.not_eligible",)
    assert program.redeem("staff-1", "staff", key="st-2").status is Status.APPLIED


def test_four_processes_redeeming_at_once_never_overdraw(database_url):
    program = build_rewards_program(database_url)
    program.migrate()
    program.enroll(Advocate(external_id=ADVOCATE))
    program.record(adjustment(ADVOCATE, 100, reason="welcome", key="welcome"))
    reports = run_processes(redeem_coffees, database_url, processes=4, calls=250)
    assert all(not r["errors"] for r in reports), [r["errors"][:3] for r in reports]
    statuses = [status for r in reports for status, _, _ in r["outcomes"]]
    assert statuses.count("applied") == 3 and statuses.count("rejected") == 997
    assert program.balance(ADVOCATE) == 10
    assert len(program.rewards(ADVOCATE)) == 3
    entries = program.history(ADVOCATE, limit=10_000)
    running = 0
    for entry in sorted(entries, key=lambda e: e.id):
        running += entry.delta
        assert running >= 0  # never negative, at any point
    program.close()


def test_four_processes_never_redeem_more_than_the_stock(database_url):
    program = build_rewards_program(database_url)
    program.migrate()
    program.enroll(Advocate(external_id=ADVOCATE))
    program.record(adjustment(ADVOCATE, 10_000, reason="welcome", key="welcome"))
    reports = run_processes(redeem_cakes, database_url, processes=4, calls=25)
    assert all(not r["errors"] for r in reports), [r["errors"][:3] for r in reports]
    outcomes = [(status, reasons) for r in reports for status, _, reasons in r["outcomes"]]
    assert sum(1 for status, _ in outcomes if status == "applied") == 5
    assert {reasons for status, reasons in outcomes if status != "applied"} == {
        ("reward.out_of_stock",)
    }
    assert program.balance(ADVOCATE) == 10_000 - 5 * 10
    assert len(program.rewards(ADVOCATE)) == 5
    program.close()


# --------------------------------------------------------------------------- approvals


def test_a_large_reward_waits_for_a_named_person_and_every_move_is_kept(program, advokit_clock):
    program.redeem("ann", "gift-card", key="g-1")
    (waiting,) = program.rewards("ann")
    assert waiting.state is RewardState.PENDING_APPROVAL
    assert program.balance("ann") == 60  # the points are spent; the reward waits
    advokit_clock.advance(hours=2)
    approved = program.approve_reward(waiting.key, reviewer="maria", reason="loyal since 2019")
    assert approved.state is RewardState.APPROVED and approved.updated_at == advokit_clock.now
    last = program.reward_history(waiting.key)[-1]
    assert (last.before, last.after, last.actor, last.reason, last.at) == (
        RewardState.PENDING_APPROVAL,
        RewardState.APPROVED,
        "maria",
        "loyal since 2019",
        advokit_clock.now,
    )
    with pytest.raises(InvalidValue, match=r"state='approved'.*pending_approval: only such"):
        program.approve_reward(waiting.key, reviewer="maria", reason="twice")
    assert len(program.reward_history(waiting.key)) == 3  # the refused move left nothing


def test_untrusted_advocates_and_listed_kinds_wait_and_can_be_canceled(make_program):
    program = make_program(plugins=[Points(), Rewards(COFFEE, approve_kinds={"swag"})])
    program.enroll_many(Advocate(external_id=name) for name in ("ann", "eve"))
    program.record(adjustment("eve", 100, reason="welcome", key="w-eve"))
    prize = Action(kind="ugc.submitted", advocate="ann", key="p-1")  # a contest entry won

    class Prizes:
        advokit_evaluates = frozenset({"ugc.submitted"})

        @hookimpl
        def advokit_evaluate(self, ctx, action):
            return [
                IssueReward(advocate=action.advocate, reward=Reward(kind="swag")),
                IssueReward(advocate=action.advocate, reward=Reward(kind="coupon")),
                Tag(advocate="eve", tag="untrusted"),
            ]

    with register_plugin(program, Prizes()):
        assert program.record(prize).status is Status.APPLIED
    swag, coupon = program.rewards("ann")
    assert swag.key != coupon.key and {swag.cause, coupon.cause} == {"p-1"}
    assert (swag.state, coupon.state) == (RewardState.PENDING_APPROVAL, RewardState.APPROVED)
    assert program.reward_history(swag.key)[-1].reason == "swag rewards are approved by a person"
    canceled = program.cancel_reward(swag.key, actor="maria", reason="duplicate prize")
    assert canceled.state is RewardState.CANCELED
    program.redeem("eve", "coffee", key="e-1")
    (held,) = program.rewards("eve", states=["pending_approval"])
    assert program.reward_history(held.key)[-1].reason == "'eve' is untrusted"
    with pytest.raises(InvalidValue, match="reviewer"):
        program.approve_reward(held.key, reviewer=" ", reason="fine")
    with pytest.raises(InvalidValue, match="key='nope'"):
        program.approve_reward("nope", reviewer="maria", reason="fine")


def test_a_reward_past_a_budget_waits_for_a_person_and_the_next_period_starts_afresh(
    make_program, advokit_clock
):
    program = make_program(
        plugins=[
            Points(),
            Rewards(
                GIFT,
                COFFEE,
                budgets=[
                    Budget(name="gift-cards", per="month", amount=5000, currency="EUR"),
                    Budget(name="coffees", per="day", count=1, per_advocate=True, kinds={"coupon"}),
                ],
            ),
        ]
    )
    program.enroll_many(Advocate(external_id=name) for name in ("ann", "bob"))
    for name in ("ann", "bob"):
        program.record(adjustment(name, 500, reason="welcome", key=f"w-{name}"))
    for n, name in enumerate(["ann", "bob", "ann"]):  # 2500 each: the third is over 5000
        program.redeem(name, "gift-card", key=f"g-{n}")
    states = [r.state for r in program.rewards("ann")]
    assert states == [RewardState.APPROVED, RewardState.PENDING_APPROVAL]
    held = program.rewards("ann")[1]
    assert program.reward_history(held.key)[-1].reason == (
        "budget gift-cards: 5000 + 2500 > 5000 this month"
    )
    assert program.balance("ann") == 500 - 2 * 40  # held, not dropped: the points are spent
    program.redeem("ann", "coffee", key="c-1")
    program.redeem("ann", "coffee", key="c-2")  # one a day for ann
    program.redeem("bob", "coffee", key="c-3")  # bob has his own
    coupons = [r.state for r in program.rewards("ann") if r.reward.kind == "coupon"]
    assert coupons == [RewardState.APPROVED, RewardState.PENDING_APPROVAL]
    assert program.rewards("bob")[-1].state is RewardState.APPROVED
    advokit_clock.advance(days=31)
    program.redeem("ann", "gift-card", key="g-next-month")
    assert program.rewards("ann")[-1].state is RewardState.APPROVED


def test_a_referral_issues_both_sides_rewards_and_a_clawback_cancels_them(
    make_program, database_url, advokit_clock
):
    from advokit.plugins.referrals import Referrals

    program = make_program(
        database_url=database_url,
        plugins=[
            Points(),
            Rewards(),
            Referrals(
                referrer_reward=Reward(kind="coupon", description="a free coffee"),
                friend_reward=Reward(kind="coupon", description="a free pastry"),
                refund_window=timedelta(days=14),
            ),
        ],
    )
    program.enroll_many(Advocate(external_id=name) for name in ("ann", "zoe"))
    program.record(
        Action(kind="referral.signed_up", advocate="zoe", key="s-1", data={"referrer": "ann"})
    )
    program.record(
        Action(
            kind="purchase.completed",
            advocate="zoe",
            key="o-1",
            data={"order_id": "o-1", "total_cents": 1500},
        )
    )
    advokit_clock.advance(days=15)
    (approval,) = program.tick().outcomes
    (coffee,) = program.rewards("ann")
    (pastry,) = program.rewards("zoe")
    assert (coffee.reward.description, pastry.reward.description) == (
        "a free coffee",
        "a free pastry",
    )
    assert coffee.cause == pastry.cause == approval.key
    assert coffee.state is RewardState.APPROVED
    program.record(
        Action(kind="purchase.refunded", advocate="zoe", key="r-1", data={"order_id": "o-1"})
    )
    for reward in (coffee, pastry):
        assert program.reward(reward.key).state is RewardState.CANCELED
        assert program.reward_history(reward.key)[-1].reason == "referral.clawback"


class HoldFirst:
    """Holds one action for a person, as a fraud screen would."""

    plugin_name = "hold-first"

    def __init__(self, key):
        self.key = key

    @hookimpl
    def advokit_screen(self, ctx, action):
        return Verdict.hold("looks odd") if action.key == self.key else None


def test_a_held_redemption_approved_after_the_stock_ran_out_is_refused(program):
    with register_plugin(program, HoldFirst("c-1")):
        assert program.redeem("ann", "cake", key="c-1").status is Status.HELD
        program.redeem("bob", "cake", key="c-2")
        program.redeem("cid", "cake", key="c-3")  # the last of two cakes
    decided = program.review("c-1", approve=True, reviewer="maria")
    assert (decided.status, decided.reasons) == (Status.REJECTED, ("reward.out_of_stock",))
    assert program.balance("ann") == 100 and program.rewards("ann") == []


def test_rewards_a_person_approves_count_against_the_budget(make_program):
    small = CatalogueItem(
        name="voucher", cost=10, reward=Reward(kind="gift_card", amount=1000, currency="EUR")
    )
    program = make_program(
        plugins=[
            Points(),
            Rewards(
                GIFT,
                small,
                approve_above=2000,
                budgets=[Budget(name="eur", amount=5000, currency="EUR")],
            ),
        ]
    )
    program.enroll(Advocate(external_id="ann"))
    program.record(adjustment("ann", 500, reason="welcome", key="w-ann"))
    for n in range(2):  # 2500 each: over approve_above, a person lets them through
        program.redeem("ann", "gift-card", key=f"g-{n}")
    for reward in program.rewards("ann"):
        program.approve_reward(reward.key, reviewer="maria", reason="fine")
    program.redeem("ann", "voucher", key="v-1")  # 1000 more: past the 5000 budget
    voucher = program.rewards("ann")[-1]
    assert voucher.state is RewardState.PENDING_APPROVAL
    assert program.reward_history(voucher.key)[-1].reason == (
        "budget eur: 5000 + 1000 > 5000 this month"
    )


# --------------------------------------------------------------------------- bad input


def test_an_unknown_item_is_refused_naming_the_catalogue(program):
    with pytest.raises(InvalidValue, match=r"item='tea'.*coffee"):
        program.redeem("ann", "tea", key="t-1")
    with pytest.raises(InvalidValue, match="states='lost'"):
        program.rewards("ann", states=["lost"])


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: Rewards(COFFEE, COFFEE), "Rewards.catalogue"),
        (lambda: Rewards("coffee"), "Rewards.catalogue"),
        (lambda: Rewards(approve_above=-1), "Rewards.approve_above"),
        (lambda: Rewards(approve_kinds="swag"), "Rewards.approve_kinds"),
        (lambda: Rewards(budgets=["monthly"]), "Rewards.budgets"),
        (lambda: Budget(name="eur", amount=1, currency="eur"), "currency"),
        (lambda: Rewards(untrusted_tag=""), "Rewards.untrusted_tag"),
        (lambda: _item(eligible="vip"), "eligible"),
        (
            lambda: _item(
                available_from=datetime(2026, 7, 1, tzinfo=UTC),
                available_until=datetime(2026, 6, 1, tzinfo=UTC),
            ),
            "CatalogueItem.available_until",
        ),
        (lambda: _referrals(referrer_reward="coupon"), "Referrals.referrer_reward"),
        (
            lambda: _referrals(
                referrer_reward=Reward(kind="coupon"), referrer_cap=(3, timedelta(days=30))
            ),
            "Referrals.referrer_cap",
        ),
        (lambda: Budget(name="monthly"), "Budget.amount"),
        (lambda: Budget(name="monthly", per="year", count=1), "Budget.per"),
        (lambda: CatalogueItem(name="Tea!", cost=1, reward=Reward(kind="swag")), "name"),
        (lambda: CatalogueItem(name="tea", cost=0, reward=Reward(kind="swag")), "cost"),
        (lambda: CatalogueItem(name="tea", cost=1, reward="swag"), "reward"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(make, field):
    with pytest.raises((ConfigurationError, InvalidValue, TypeError), match=field):
        make()


def _item(**settings):
    return CatalogueItem(name="tea", cost=1, reward=Reward(kind="swag"), **settings)


def _referrals(**settings):
    from advokit.plugins.referrals import Referrals

    return Referrals(**settings)
