"""The tiers plugin: promotion on earnings, predictable demotion, overrides, windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from advokit import Action, ActionKind, Advocate, AwardPoints, ConfigurationError, hookimpl
from advokit.core import codec
from advokit.core.errors import InvalidValue, PluginError
from advokit.plugins.points import Points, PointsRule, redemption
from advokit.plugins.tiers import (
    TIER_CHANGED,
    Anniversary,
    CalendarYear,
    Lifetime,
    Rolling,
    SetTierGrace,
    Tier,
    Tiers,
    override,
)

BRONZE = Tier("bronze", 0)
SILVER = Tier("silver", 500, retain=400, multiplier=1.5, benefits={"free_drink": "small"})
GOLD = Tier("gold", 2000, retain=1500, multiplier=2, benefits={"free_drink": "large"})


def points_plugin() -> Points:
    return Points(
        PointsRule("purchase.completed", points=lambda a: a.data["total_cents"] // 100),
        reversals={"purchase.refunded": "purchase_key"},
    )


@pytest.fixture
def tiered(make_program, database_url):
    """``tiered(window=..., grace=..., policies=...)``: ann and bob enrolled, on both databases."""

    def make(*, policies=(), plugins=(), **options):
        program = make_program(
            plugins=[points_plugin(), Tiers(BRONZE, SILVER, GOLD, **options), *plugins],
            policies=list(policies),
            database_url=database_url,
        )
        for who in ("ann", "bob"):
            program.enroll(Advocate(external_id=who))
        return program

    return make


def buy(program, who, key, euros, **data):
    return program.record(
        Action(
            kind="purchase.completed",
            advocate=who,
            key=key,
            data={"order_id": key, "total_cents": euros * 100, **data},
        )
    )


# --------------------------------------------------------------------------- promotion


def test_everyone_starts_in_the_first_tier(tiered):
    program = tiered()
    status = program.tier("ann")
    assert status.tier == BRONZE
    assert (status.value, status.next_tier, status.to_next) == (0, SILVER, 500)
    assert status.kept_until is None and status.since is None


def test_promotion_on_earned_points_and_spending_does_not_demote(tiered, advokit_clock):
    program = tiered()
    buy(program, "ann", "o1", 300)
    assert program.tier("ann").tier == BRONZE
    buy(program, "ann", "o2", 250)
    status = program.tier("ann")
    assert status.tier == SILVER
    assert (status.value, status.to_next, status.since) == (550, 1450, advokit_clock())

    program.record(redemption("ann", 500, key="r1"))
    assert program.balance("ann") == 50
    advokit_clock.advance(days=1)
    program.tick()
    assert program.tier("ann").tier == SILVER  # earned, not balance
    assert [(c.previous, c.tier, c.reason, c.action_key) for c in program.tier_history("ann")] == [
        ("bronze", "silver", "tier.promoted", "o2")
    ]


def test_one_action_can_jump_tiers(tiered):
    program = tiered()
    buy(program, "ann", "o1", 2500)
    assert program.tier("ann").tier == GOLD
    assert program.tier("ann").to_next is None


def test_promotion_inside_a_batch_sees_earlier_actions(tiered):
    program = tiered()
    outcomes = program.record_many(
        [
            Action(
                kind="purchase.completed",
                advocate="ann",
                key=f"o{i}",
                data={"order_id": str(i), "total_cents": 20_000},
            )
            for i in range(12)
        ]
    )
    assert all(o.status == "applied" for o in outcomes)
    history = program.tier_history("ann")
    assert [(c.tier, c.action_key) for c in history] == [("silver", "o2"), ("gold", "o9")]


def test_tier_changed_is_a_derived_action_rules_react_to(tiered):
    seen = []

    class Welcome:
        plugin_name = "welcome"
        advokit_evaluates = frozenset({TIER_CHANGED})

        @hookimpl
        def advokit_evaluate(self, action):
            seen.append(dict(action.data))
            if action.data["tier"] == "gold":
                return [AwardPoints(advocate=action.advocate, points=100, reason="tier.welcome")]
            return None

    program = tiered(plugins=[Welcome()])
    buy(program, "ann", "o1", 2000)
    assert seen == [{"tier": "gold", "previous": "bronze", "reason": "tier.promoted"}]
    assert program.balance("ann") == 2100
    assert buy(program, "ann", "o1", 2000).replayed  # a retry replays, no second welcome
    assert program.balance("ann") == 2100 and len(seen) == 1


def test_multiplier_policy_scales_awards_by_the_current_tier(tiered):
    program = tiered(policies=["tier_multiplier"])
    assert buy(program, "ann", "o1", 600).points == 600  # bronze: x1, then silver
    assert buy(program, "ann", "o2", 100).points == 150  # silver: x1.5
    program.record(
        Action(
            kind="points.adjusted", advocate="ann", key="a1", data={"points": 10, "reason": "gift"}
        )
    )
    assert program.balance("ann") == 760  # adjustments are never multiplied


def test_refunds_lower_what_was_earned(tiered, advokit_clock):
    program = tiered()
    buy(program, "ann", "o1", 600)
    program.record(
        Action(
            kind="purchase.refunded",
            advocate="ann",
            key="r1",
            data={"order_id": "o1", "purchase_key": "o1"},
        )
    )
    assert program.tier("ann").value == 0
    advokit_clock.advance(days=1)
    program.tick()
    assert program.tier("ann").tier == BRONZE  # no grace configured: demoted at the review


# --------------------------------------------------------------------------- demotion


def test_demotion_only_after_the_grace_period(tiered, advokit_clock):
    program = tiered(window=Rolling(30), grace=timedelta(days=10))
    buy(program, "ann", "o1", 600)  # silver, retain 400
    assert program.tier("ann").kept_until == datetime(2026, 7, 2, tzinfo=UTC) + timedelta(days=10)

    advokit_clock.advance(days=31)  # the purchase left the window
    program.tick()
    status = program.tier("ann")
    assert status.tier == SILVER
    assert status.grace_until == advokit_clock() + timedelta(days=10)
    assert status.kept_until == status.grace_until

    advokit_clock.advance(days=9)
    program.tick()
    assert program.tier("ann").tier == SILVER
    advokit_clock.advance(days=1)
    program.tick()
    status = program.tier("ann")
    assert status.tier == BRONZE and status.grace_until is None
    assert program.tier_history("ann")[-1].reason == "tier.demoted"


def test_earning_back_to_retain_ends_the_grace_period(tiered, advokit_clock):
    program = tiered(window=Rolling(30), grace=timedelta(days=10))
    buy(program, "ann", "o1", 600)
    advokit_clock.advance(days=31)
    program.tick()
    assert program.tier("ann").grace_until is not None
    buy(program, "ann", "o2", 400)  # retain is 400: the tier holds again
    assert program.tier("ann").grace_until is None
    advokit_clock.advance(days=20)
    program.tick()
    assert program.tier("ann").tier == SILVER


def test_demotion_goes_to_the_highest_tier_still_retained(tiered, advokit_clock):
    program = tiered(window=Rolling(30))
    buy(program, "ann", "o1", 2000)
    advokit_clock.advance(days=20)
    buy(program, "ann", "o2", 450)  # within silver's retain (400), not gold's (1500)
    advokit_clock.advance(days=15)  # o1 left the window, o2 has not
    program.tick()
    assert program.tier("ann").tier == SILVER
    assert [c.reason for c in program.tier_history("ann")] == ["tier.promoted", "tier.demoted"]


def test_tick_is_idempotent(tiered, advokit_clock):
    program = tiered(window=Rolling(30), grace=timedelta(days=5))
    buy(program, "ann", "o1", 600)
    advokit_clock.advance(days=31)
    first = program.tick()
    assert first.applied == 1
    again = program.tick()
    assert (again.applied, again.replayed) == (0, 1)
    advokit_clock.advance(hours=5)  # later the same day: the day's review replays
    assert program.tick().applied == 0
    assert program.tier("ann").grace_until == datetime(2026, 7, 2, 12, tzinfo=UTC) + timedelta(
        days=5
    )


def test_calendar_year_window_resets_on_the_first_of_january(tiered, advokit_clock):
    program = tiered(window=CalendarYear(), grace=timedelta(days=31))
    buy(program, "ann", "o1", 600)
    assert program.tier("ann").kept_until == datetime(2027, 2, 1, tzinfo=UTC)
    advokit_clock.set(datetime(2027, 1, 1, 0, 30, tzinfo=UTC))
    program.tick()
    assert program.tier("ann").value == 0
    assert program.tier("ann").grace_until == datetime(2027, 2, 1, 0, 30, tzinfo=UTC)
    advokit_clock.set(datetime(2027, 2, 2, tzinfo=UTC))
    program.tick()
    assert program.tier("ann").tier == BRONZE


def test_calendar_year_and_rolling_windows_follow_their_time_zone(tiered, advokit_clock):
    # 31 December 2026, 12:00 UTC is already 1 January 2027 in Auckland
    advokit_clock.set(datetime(2026, 12, 31, 12, tzinfo=UTC))
    program = tiered(window=CalendarYear(timezone="Pacific/Auckland"))
    buy(program, "ann", "o1", 600)
    assert program.tier("ann").value == 600  # counted in Auckland's 2027
    assert program.tier("ann").kept_until == datetime(2027, 12, 31, 11, tzinfo=UTC)
    rolling = Rolling(1, timezone="Pacific/Auckland")
    assert rolling.start(advokit_clock(), advokit_clock()) == (
        datetime(2026, 12, 30, 11, tzinfo=UTC)  # local midnight of 31 December
    )
    # earned on 1 January (local): in the window on the 2nd, gone at the 3rd's midnight
    assert rolling.leaves(advokit_clock()) == datetime(2027, 1, 2, 11, tzinfo=UTC)
    assert rolling.start(datetime(2027, 1, 2, 10, 59, tzinfo=UTC), advokit_clock()) <= (
        advokit_clock()
    )
    with pytest.raises(ConfigurationError, match="CalendarYear.timezone='Mars/Olympus'"):
        CalendarYear(timezone="Mars/Olympus")
    with pytest.raises(ConfigurationError, match="Rolling.timezone=3"):
        Rolling(7, timezone=3)


def test_anniversary_window_counts_from_the_last_enrolment_anniversary(tiered, advokit_clock):
    program = tiered(window=Anniversary())  # enrolled 2026-06-01 12:00
    buy(program, "ann", "o1", 600)
    assert program.tier("ann").kept_until == datetime(2027, 6, 1, 12, tzinfo=UTC)
    advokit_clock.set(datetime(2027, 6, 2, tzinfo=UTC))
    assert program.tier("ann").value == 0
    buy(program, "ann", "o2", 500)
    assert program.tier("ann").value == 500


def test_lifetime_tiers_are_kept(tiered, advokit_clock):
    program = tiered(window=Lifetime())
    buy(program, "ann", "o1", 600)
    assert program.tier("ann").kept_until is None
    advokit_clock.advance(days=800)
    program.tick()
    assert program.tier("ann").tier == SILVER


# --------------------------------------------------------------------------- overrides


def test_an_expired_override_returns_to_the_tier_points_earn(tiered, advokit_clock):
    program = tiered(window=Rolling(365), grace=timedelta(days=30))
    buy(program, "ann", "o1", 600)  # silver by points
    until = advokit_clock() + timedelta(days=14)
    program.record(override("ann", "gold", until=until, reason="press event", key="ov1"))
    status = program.tier("ann")
    assert (status.tier, status.override_until, status.kept_until) == (GOLD, until, until)

    advokit_clock.advance(days=7)
    program.tick()
    assert program.tier("ann").tier == GOLD  # no demotion while the override lasts
    advokit_clock.advance(days=8)
    program.tick()
    status = program.tier("ann")
    assert status.tier == SILVER  # what the points earn, not gold, no grace as a floor
    assert status.override_until is None and status.grace_until is None
    assert [c.reason for c in program.tier_history("ann")] == [
        "tier.promoted",
        "tier.override",
        "tier.override_ended",
    ]


def test_an_override_down_ends_by_returning_to_the_earned_tier(tiered, advokit_clock):
    program = tiered()
    buy(program, "ann", "o1", 2500)
    program.record(
        override("ann", "bronze", until=advokit_clock() + timedelta(days=3), reason="x", key="ov")
    )
    assert program.tier("ann").tier == BRONZE
    advokit_clock.advance(days=4)
    program.tick()
    assert program.tier("ann").tier == GOLD


def test_override_input_is_checked(tiered, advokit_clock):
    program = tiered()
    with pytest.raises(InvalidValue, match="until"):
        override("ann", "gold", until=datetime(2027, 1, 1), reason="x", key="k")
    with pytest.raises(PluginError, match="tiers.*'platinum'.*one of bronze, gold, silver"):
        program.record(
            override(
                "ann", "platinum", until=advokit_clock() + timedelta(days=1), reason="x", key="k"
            )
        )
    assert program.tier("ann").tier == BRONZE


# --------------------------------------------------------------------------- bad configuration


@pytest.mark.parametrize(
    ("tiers", "field", "value"),
    [
        ((Tier("a", 0), Tier("b", 500), Tier("c", 500)), "Tier('c').threshold", "500"),
        ((Tier("a", 0), Tier("b", 500), Tier("c", 300)), "Tier('c').threshold", "300"),
        ((Tier("a", 10),), "Tier('a').threshold", "10"),
        ((Tier("a", 0), Tier("b", 500), Tier("c", 900, retain=400)), "Tier('c').retain", "400"),
        ((Tier("a", 0), Tier("a", 5)), "Tiers(tiers)", "'a'"),
        ((), "Tiers(tiers)", "()"),
    ],
)
def test_inconsistent_tiers_are_refused(tiers, field, value):
    with pytest.raises(ConfigurationError) as caught:
        Tiers(*tiers)
    assert field in str(caught.value) and value in str(caught.value)


def test_a_retain_threshold_above_the_entry_threshold_is_refused():
    with pytest.raises(ConfigurationError, match=r"Tier\('gold'\).retain.*2500.*at most"):
        Tier("gold", 2000, retain=2500)


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"grace": timedelta(days=-1)}, "Tiers.grace"),
        ({"window": "yearly"}, "Tiers.window"),
        ({"account": "Points!"}, "Tiers.account"),
    ],
)
def test_bad_tier_options_are_refused(options, field):
    with pytest.raises(ConfigurationError, match=field):
        Tiers(BRONZE, SILVER, **options)


def test_bad_tier_values_are_refused():
    with pytest.raises(ConfigurationError, match="multiplier"):
        Tier("gold", 10, multiplier=0)
    with pytest.raises(InvalidValue, match="name"):
        Tier("Gold", 10)
    with pytest.raises(InvalidValue, match="days"):
        Rolling(0)


def test_unknown_advocate_in_a_query(tiered):
    from advokit import UnknownAdvocate

    with pytest.raises(UnknownAdvocate):
        tiered().tier("nobody")


def test_kinds_and_policy_are_registered(tiered):
    program = tiered()
    assert "tier_multiplier" in program.registries.effect_policies
    kinds = program.registries.action_kinds
    assert kinds["tier.changed"].derived and kinds["tier.reviewed"].derived
    assert not kinds["tier.overridden"].derived
    assert isinstance(kinds["tier.overridden"], ActionKind)


def test_effects_stored_under_the_old_module_name_still_decode():
    """Outcomes recorded when the plugin was one module name it as ``advokit.plugins.tiers``."""
    stored = {"type": "advokit.plugins.tiers:SetTierGrace", "fields": {"advocate": "ann"}}
    assert codec.decode_effect(stored) == SetTierGrace(advocate="ann")
