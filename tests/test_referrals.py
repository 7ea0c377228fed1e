"""Referral codes and links, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from advokit import (
    Action,
    Advocate,
    AdvokitError,
    ConfigurationError,
    InvalidValue,
    PluginError,
    Status,
    Verdict,
    hookimpl,
)
from advokit.core.errors import UnknownAdvocate
from advokit.plugins.points import Points, PointsRule
from advokit.plugins.referrals import (
    ALPHABET,
    REFERRAL_INVITED,
    REFERRAL_SHARED,
    REFERRAL_SIGNED_UP,
    Referrals,
    ReferralState,
    RewardReferral,
    codes_t,
    referrals_t,
    referrers_t,
)
from advokit.plugins.referrals import codes as code_module
from advokit.testing import register_plugin
from helpers import (
    ADVOCATE,
    ask_referral_code,
    build_milestones_program,
    build_referrals_program,
    refer_alice,
    run_processes,
    tick_referrals,
)

LINK = "https://bakery.example/r/{code}"


@pytest.fixture
def program(make_program, database_url):
    program = make_program(
        database_url=database_url,
        plugins=[
            Referrals(link=LINK, code_lifetime=timedelta(days=30)),
            Points(PointsRule(REFERRAL_SHARED, points=5)),
        ],
    )
    program.enroll_many(Advocate(external_id=name) for name in ("ann", "bob"))
    return program


def codes_in_use(program):
    t = codes_t
    query = sa.select(t.c.code).where(sa.not_(t.c.vanity), t.c.deactivated_at.is_(None))
    with program.engine.connect() as conn:
        return conn.execute(query).scalars().all()


# --------------------------------------------------------------------------- generated codes


def test_a_code_is_made_on_first_use_then_the_same_one_is_returned(program, advokit_clock):
    first = program.referral_code("ann")
    assert len(first.code) == 8 and set(first.code) <= set(ALPHABET)
    assert first.link == f"https://bakery.example/r/{first.code}"
    assert (first.advocate, first.vanity, first.active) == ("ann", False, True)
    assert first.created_at == advokit_clock.now
    assert first.expires_at == advokit_clock.now + timedelta(days=30)
    assert program.referral_code("ann") == first
    assert program.referral_code("bob").code != first.code
    assert program.referral_codes("ann") == [first]


def test_the_alphabet_leaves_out_characters_people_confuse():
    assert not set("0O1ILUV") & set(ALPHABET)
    assert len(set(ALPHABET)) == len(ALPHABET) == 29


def test_a_friend_finds_the_code_however_they_type_it(program):
    code = program.referral_code("ann").code
    typed = f" {code[:4].lower()}-{code[4:].lower()} "
    assert program.find_referral_code(typed).advocate == "ann"


def test_an_unknown_code_is_refused_naming_the_program(program):
    with pytest.raises(InvalidValue, match=r"code='NOPE2345'.*referral code of program 'test'"):
        program.find_referral_code("NOPE2345")


def test_an_expired_code_is_refused_and_the_advocate_gets_a_new_one(program, advokit_clock):
    old = program.referral_code("ann")
    advokit_clock.advance(days=30)
    with pytest.raises(InvalidValue, match="expired"):
        program.find_referral_code(old.code)
    new = program.referral_code("ann")
    assert new.code != old.code and new.usable_at(advokit_clock.now)
    # the expired one is kept, retired; only the new one is in use
    assert [c.code for c in program.referral_codes("ann")] == [old.code, new.code]
    assert codes_in_use(program) == [new.code]
    with pytest.raises(InvalidValue, match="expired"):  # retired, but it expired first
        program.find_referral_code(old.code)


def test_deactivating_keeps_the_first_time_and_makes_room_for_a_new_code(program, advokit_clock):
    old = program.referral_code("ann")
    retired = program.deactivate_referral_code(old.code.lower())
    assert retired.deactivated_at == advokit_clock.now and not retired.active
    advokit_clock.advance(hours=1)
    assert program.deactivate_referral_code(old.code).deactivated_at == retired.deactivated_at
    with pytest.raises(InvalidValue, match="deactivated"):
        program.find_referral_code(old.code)
    assert program.referral_code("ann").code != old.code
    with pytest.raises(InvalidValue, match="referral code of program"):
        program.deactivate_referral_code("NOPE2345")


def test_an_unknown_advocate_has_no_code(program):
    with pytest.raises(UnknownAdvocate):
        program.referral_code("zoe")


def test_a_drawn_code_already_in_use_is_drawn_again(program, monkeypatch):
    taken = program.referral_code("ann").code
    draws = iter([taken, "BBBBBBBB"])
    monkeypatch.setattr(code_module, "generate", lambda length: next(draws))
    assert program.referral_code("bob").code == "BBBBBBBB"


def test_running_out_of_draws_says_what_to_change(program, monkeypatch):
    taken = program.referral_code("ann").code
    monkeypatch.setattr(code_module, "generate", lambda length: taken)
    with pytest.raises(AdvokitError, match=r"code_length"):
        program.referral_code("bob")
    assert program.referral_codes("bob") == []  # nothing half-written


# --------------------------------------------------------------------------- vanity codes


def test_a_vanity_code_is_normalised_and_asking_again_returns_it(program):
    code = program.referral_code("ann", vanity="anna-bakes")
    assert (code.code, code.vanity, code.link) == (
        "ANNABAKES",
        True,
        "https://bakery.example/r/ANNABAKES",
    )
    assert program.referral_code("ann", vanity="ANNA BAKES") == code
    assert program.find_referral_code("Anna-Bakes").advocate == "ann"
    # a vanity code does not replace the generated one
    assert program.referral_code("ann").vanity is False


def test_a_vanity_code_someone_else_uses_is_refused(program):
    program.referral_code("ann", vanity="ANNABAKES")
    with pytest.raises(InvalidValue, match="vanity='ANNABAKES'.*nobody else uses"):
        program.referral_code("bob", vanity="annabakes")


@pytest.mark.parametrize("vanity", ["ab", "x" * 33, "anna!", "é-caf"])
def test_a_bad_vanity_code_is_refused(program, vanity):
    with pytest.raises(InvalidValue, match="vanity=.*3 to 32 letters"):
        program.referral_code("ann", vanity=vanity)


def test_an_expiry_in_the_past_is_refused(program, advokit_clock):
    with pytest.raises(InvalidValue, match="expires_at=.*a time after now"):
        program.referral_code("ann", expires_at=advokit_clock.now)


# --------------------------------------------------------------------------- sharing


def test_sharing_is_an_action_other_rules_reward(program):
    outcome = program.record(
        Action(kind=REFERRAL_SHARED, advocate="ann", key="s-1", data={"channel": "whatsapp"})
    )
    assert outcome.status is Status.APPLIED and outcome.points == 5


# --------------------------------------------------------------------------- settings


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"link": "https://bakery.example/r/"}, "Referrals.link"),
        ({"link": "https://bakery.example/{advocate}/{code}"}, "Referrals.link"),
        ({"link": "ftp://bakery.example/{code}"}, "Referrals.link"),
        ({"link": "https://bakery.example/{code"}, "Referrals.link"),
        ({"code_length": 5}, "Referrals.code_length"),
        ({"code_length": True}, "Referrals.code_length"),
        ({"code_lifetime": timedelta(0)}, "Referrals.code_lifetime"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(settings, field):
    with pytest.raises(ConfigurationError, match=field.replace(".", r"\.")):
        Referrals(**settings)


def test_without_a_link_codes_have_none(make_program):
    program = make_program(plugins=[Referrals()])
    program.enroll(Advocate(external_id="ann"))
    assert program.referral_code("ann").link is None


# --------------------------------------------------------------------------- concurrency


@pytest.mark.timeout(300)
def test_four_processes_asking_at_once_get_one_code_per_advocate(database_url):
    program = build_referrals_program(database_url)
    program.migrate()
    program.enroll_many(Advocate(external_id=f"friend-{n}") for n in range(20))
    reports = run_processes(ask_referral_code, database_url, processes=4, calls=20)
    assert all(not r["errors"] for r in reports), [r["errors"] for r in reports]
    # every process was handed the same code for each advocate, the only one in use
    assert all(r["outcomes"] == reports[0]["outcomes"] for r in reports)
    assert sorted(codes_in_use(program)) == sorted(reports[0]["outcomes"])
    program.close()


# --------------------------------------------------------------------------- referrals

HOLD = timedelta(days=15)


@pytest.fixture
def referring(make_program, database_url):
    program = make_program(
        database_url=database_url,
        plugins=[
            Referrals(
                link=LINK,
                referrer_points=100,
                friend_points=50,
                minimum_cents=1000,
                refund_window=timedelta(days=14),  # the hold defaults to a day more
            ),
            Points(PointsRule("review.posted", points=10)),
        ],
    )
    program.enroll_many(Advocate(external_id=name) for name in ("ann", "bob", "zoe"))
    return program


def signup(friend, key, **data):
    return Action(kind=REFERRAL_SIGNED_UP, advocate=friend, key=key, data=data)


def purchase(friend, order, cents=2500):
    return Action(
        kind="purchase.completed",
        advocate=friend,
        key=order,
        data={"order_id": order, "total_cents": cents},
    )


def refund(friend, order, key):
    return Action(kind="purchase.refunded", advocate=friend, key=key, data={"order_id": order})


def test_a_referral_goes_from_signup_to_both_sides_rewarded(referring, advokit_clock):
    code = referring.referral_code("ann").code
    assert referring.record(signup("zoe", "s-1", code=code.lower())).status is Status.APPLIED
    referral = referring.referral("zoe")
    assert (referral.referrer, referral.code, referral.source, referral.state) == (
        "ann",
        code,
        "code",
        ReferralState.SIGNED_UP,
    )
    start = advokit_clock.now
    referring.record(purchase("zoe", "o-1"))
    referral = referring.referral("zoe")
    assert referral.state is ReferralState.PENDING
    assert (referral.order_id, referral.amount_cents) == ("o-1", 2500)
    assert referral.hold_until == start + HOLD
    referring.record(purchase("zoe", "o-2"))  # a second purchase converts nothing more
    assert referring.referral("zoe").order_id == "o-1"

    advokit_clock.advance(days=14)
    assert referring.tick().applied == 0  # still held
    advokit_clock.advance(days=1)
    report = referring.tick()
    assert report.applied == 1
    assert (referring.balance("ann"), referring.balance("zoe")) == (100, 50)
    rewarded = referring.referral("zoe")
    assert rewarded.state is ReferralState.REWARDED
    assert rewarded.rewarded_at == advokit_clock.now and rewarded.reward_key
    assert referring.tick().applied == 0  # rewarded once
    assert referring.referrals("ann") == [rewarded]
    assert referring.referrals("bob") == []


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"code": "NOPE2345"}, "referral.unknown_code"),
        ({"referrer": "nobody"}, "referral.unknown_referrer"),
        ({}, "referral.no_referrer"),
        ({"referrer": "ann", "source": "Walk-In at the till!"}, "referral.invalid_source"),
    ],
)
def test_a_signup_nobody_can_have_referred_is_recorded_as_rejected(referring, data, reason):
    outcome = referring.record(signup("zoe", "s-1", **data))
    assert (outcome.status, outcome.reasons) == (Status.REJECTED, (reason,))
    assert referring.referral("zoe") is None


def test_self_referral_is_rejected_with_its_reason(referring):
    code = referring.referral_code("zoe").code
    outcome = referring.record(signup("zoe", "s-1", code=code))
    assert (outcome.status, outcome.reasons) == (Status.REJECTED, ("referral.self",))


def test_expired_and_deactivated_codes_do_not_attribute(referring, advokit_clock):
    soon = referring.referral_code("ann", vanity="ANN-SOON", expires_at=advokit_clock.now + HOLD)
    gone = referring.referral_code("bob", vanity="BOB-GONE")
    referring.deactivate_referral_code(gone.code)
    advokit_clock.advance(days=15)
    assert referring.record(signup("zoe", "s-1", code=soon.code)).reasons == (
        "referral.expired_code",
    )
    assert referring.record(signup("zoe", "s-2", code=gone.code)).reasons == (
        "referral.inactive_code",
    )


def test_the_first_attribution_stands(referring):
    referring.record(signup("zoe", "s-1", code=referring.referral_code("ann").code))
    later = referring.record(signup("zoe", "s-2", code=referring.referral_code("bob").code))
    assert later.reasons == ("referral.already_referred",)
    # in one batch too
    outcomes = referring.record_many(
        [
            signup("bob", "s-3", referrer="ann", source="email"),
            signup("bob", "s-4", referrer="zoe", source="offline"),
        ]
    )
    assert [o.status for o in outcomes] == [Status.APPLIED, Status.REJECTED]
    assert referring.referral("bob").source == "email"
    assert {r.friend for r in referring.referrals("ann")} == {"zoe", "bob"}


def test_an_existing_customer_cannot_be_referred(referring):
    referring.record(Action(kind="review.posted", advocate="zoe", key="rv-1"))  # earns points
    outcome = referring.record(signup("zoe", "s-1", referrer="ann"))
    assert outcome.reasons == ("referral.existing_customer",)


def test_only_a_qualifying_purchase_within_the_window_converts(referring, advokit_clock):
    referring.record(signup("zoe", "s-1", referrer="ann"))
    referring.record(purchase("zoe", "o-small", cents=999))  # below minimum_cents
    assert referring.referral("zoe").state is ReferralState.SIGNED_UP
    advokit_clock.advance(days=61)  # past the 60-day window
    referring.record(purchase("zoe", "o-late"))
    assert referring.referral("zoe").state is ReferralState.SIGNED_UP


def test_a_refund_during_the_hold_voids_once_however_often_it_arrives(referring, advokit_clock):
    referring.record(signup("zoe", "s-1", referrer="ann"))
    referring.record(purchase("zoe", "o-1"))
    referring.record(refund("zoe", "o-other", "r-0"))  # another order: nothing
    assert referring.referral("zoe").state is ReferralState.PENDING
    for attempt in range(3):
        referring.record(refund("zoe", "o-1", f"r-{attempt + 1}"))
    voided = referring.referral("zoe")
    assert (voided.state, voided.void_reason) == (ReferralState.VOIDED, "refunded")
    assert voided.voided_at == advokit_clock.now
    advokit_clock.advance(days=30)
    assert referring.tick().applied == 0
    assert (referring.balance("ann"), referring.balance("zoe")) == (0, 0)


def test_a_refund_after_the_reward_claws_back_once(referring, advokit_clock):
    referring.record(signup("zoe", "s-1", referrer="ann"))
    referring.record(purchase("zoe", "o-1"))
    advokit_clock.advance(days=15)
    referring.tick()
    assert (referring.balance("ann"), referring.balance("zoe")) == (100, 50)
    for attempt in range(3):
        referring.record(refund("zoe", "o-1", f"r-{attempt}"))
    assert (referring.balance("ann"), referring.balance("zoe")) == (0, 0)
    assert referring.referral("zoe").void_reason == "refunded_after_reward"
    with referring.engine.connect() as conn:
        reversals = conn.execute(
            sa.text(
                "SELECT count(*) FROM advokit_ledger_entries WHERE reason = 'referral.clawback'"
            )
        ).scalar_one()
    assert reversals == 2  # one per side, once


class Shortcut:
    """A third-party plugin that tries to reward a referral straight from its signup."""

    plugin_name = "shortcut"

    @hookimpl
    def advokit_evaluate(self, ctx, action):
        if action.kind == "review.posted":
            return [RewardReferral(friend=action.advocate, referrer_paid=100, friend_paid=50)]
        return None


def test_a_referral_only_moves_forward_through_its_states(referring):
    referring.record(signup("zoe", "s-1", referrer="ann"))
    review = Action(kind="review.posted", advocate="zoe", key="rev-1")
    with register_plugin(referring, Shortcut()), pytest.raises(PluginError) as caught:
        referring.record(review)
    message = str(caught.value)
    assert "plugin 'referrals' failed in advokit_apply_effect" in message
    assert (
        "RewardReferral.friend='zoe' is not valid: expected a friend whose referral can become "
        "rewarded (this one is signed_up: it can become pending or voided)"
    ) in message
    assert referring.referral("zoe").state is ReferralState.SIGNED_UP  # nothing written
    assert referring.balance("zoe") == 0


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"refund_window": timedelta(days=30), "hold": timedelta(days=7)}, "Referrals.hold"),
        ({"referrer_points": -5}, "Referrals.referrer_points"),
        ({"friend_points": 1.5}, "Referrals.friend_points"),
        ({"minimum_cents": -1}, "Referrals.minimum_cents"),
        ({"window": timedelta(0)}, "Referrals.window"),
        ({"clawback": "all"}, "Referrals.clawback"),
        ({"existing": "yes"}, "Referrals.existing"),
    ],
)
def test_bad_referral_settings_are_refused(settings, field):
    with pytest.raises(ConfigurationError, match=field.replace(".", r"\.")):
        Referrals(**settings)


@pytest.mark.timeout(300)
def test_four_processes_converting_the_same_friend_make_one_attribution(database_url):
    program = build_referrals_program(database_url)
    program.migrate()
    program.enroll_many(
        [Advocate(external_id=ADVOCATE), *(Advocate(external_id=f"ref-{n}") for n in range(4))]
    )
    for n in range(4):
        program.referral_code(f"ref-{n}", vanity=f"REFERRER{n}")
    reports = run_processes(refer_alice, database_url, processes=4, calls=250)
    assert all(not r["errors"] for r in reports), [r["errors"][:3] for r in reports]
    signups = [o for r in reports for i, o in enumerate(r["outcomes"]) if i % 2 == 0]
    assert sum(1 for status, _, _ in signups if status == "applied") == 1
    assert all(
        reasons == ("referral.already_referred",) for s, _, reasons in signups if s != "applied"
    )
    referral = program.referral(ADVOCATE)
    assert referral.state is ReferralState.PENDING  # converted once, by one of the orders
    with program.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(referrals_t)).scalar_one() == 1
    program.close()


# --------------------------------------------------------------------------- milestones and funnel


DAYS_14 = timedelta(days=14)  # the hold is a day more: 15 days


def refer_and_reward(program, clock, friends, referrer="ann"):
    for friend in friends:
        program.enroll(Advocate(external_id=friend))
        program.record(signup(friend, f"s-{friend}", referrer=referrer))
        program.record(purchase(friend, f"o-{friend}"))
    clock.advance(days=15)
    return program.tick()


def test_milestones_pay_the_referrer_once_at_the_nth_rewarded_referral(
    make_program, database_url, advokit_clock
):
    program = make_program(
        database_url=database_url,
        plugins=[
            Referrals(referrer_points=10, milestones={2: 200, 3: 1000}, refund_window=DAYS_14)
        ],
    )
    program.enroll(Advocate(external_id="ann"))
    refer_and_reward(program, advokit_clock, ["f1"])
    assert program.balance("ann") == 10
    refer_and_reward(program, advokit_clock, ["f2", "f3"])  # 2nd and 3rd in one tick
    assert program.balance("ann") == 10 * 3 + 200 + 1000
    refer_and_reward(program, advokit_clock, ["f4"])
    assert program.balance("ann") == 10 * 4 + 200 + 1000


def test_the_referrer_cap_stops_the_referrers_reward_not_the_friends(
    make_program, database_url, advokit_clock
):
    program = make_program(
        database_url=database_url,
        plugins=[
            Referrals(
                referrer_points=10,
                friend_points=5,
                referrer_cap=(2, timedelta(days=30)),
                refund_window=DAYS_14,
            )
        ],
    )
    program.enroll(Advocate(external_id="ann"))
    refer_and_reward(program, advokit_clock, ["f1", "f2", "f3"])
    assert program.balance("ann") == 20  # the third is over the cap
    assert program.balance("f3") == 5
    assert program.referral("f3").state is ReferralState.REWARDED
    advokit_clock.advance(days=30)  # the period has moved on
    refer_and_reward(program, advokit_clock, ["f4"])
    assert program.balance("ann") == 30


def test_four_processes_rewarding_one_referrer_pay_each_milestone_once_within_the_cap(
    database_url,
):
    program = build_milestones_program(database_url)
    program.migrate()
    friends = [f"friend-{n:02d}" for n in range(12)]
    program.enroll_many([Advocate(external_id="ann"), *(Advocate(external_id=f) for f in friends)])
    month_ago = datetime.now(UTC) - timedelta(days=30)  # every hold has passed
    program.record_many(
        [
            Action(
                kind=REFERRAL_SIGNED_UP,
                advocate=f,
                key=f"s-{f}",
                data={"referrer": "ann"},
                occurred_at=month_ago,
            )
            for f in friends
        ]
    )
    program.record_many(
        [
            Action(
                kind="purchase.completed",
                advocate=f,
                key=f"o-{f}",
                data={"order_id": f"o-{f}", "total_cents": 2500},
                occurred_at=month_ago + timedelta(days=1),
            )
            for f in friends
        ]
    )
    reports = run_processes(tick_referrals, database_url, processes=4, calls=3)
    assert all(not r["errors"] for r in reports), [r["errors"][:3] for r in reports]
    outcomes = [outcome for r in reports for outcome in r["outcomes"]]
    assert {status for status, _, _ in outcomes} == {"applied"}
    # each approval applied once, by one of the processes; the others' are replays of it
    assert sorted(friend for _, friend, replayed in outcomes if not replayed) == friends
    assert all(program.referral(f).state is ReferralState.REWARDED for f in friends)
    # five paid within the month's cap, the 3rd and 10th bonuses once each
    assert program.balance("ann") == 5 * 10 + 100 + 1000
    with program.engine.connect() as conn:
        rewarded = conn.execute(sa.select(referrers_t.c.rewarded)).scalar_one()
    assert rewarded == 12
    program.close()


def test_referral_stats_count_the_funnel_per_period_and_referrer(referring, advokit_clock):
    referring.enroll_many(Advocate(external_id=name) for name in ("f1", "f2", "f3"))
    referring.record(signup("zoe", "s-1", referrer="ann"))
    referring.record(signup("f1", "s-2", referrer="ann"))
    referring.record(purchase("zoe", "o-1"))
    referring.record(purchase("f1", "o-2"))
    referring.record(refund("f1", "o-2", "r-1"))
    advokit_clock.advance(days=31)  # July
    referring.record(signup("f2", "s-3", referrer="bob"))
    referring.tick()  # zoe's hold has passed: rewarded
    june, july = referring.referral_stats()
    assert (june.period, june.attributed, june.converted, june.rewarded, june.voided) == (
        "2026-06",
        2,
        2,
        1,
        1,
    )
    assert (july.period, july.attributed, july.converted) == ("2026-07", 1, 0)
    (everything,) = referring.referral_stats(period=None)
    assert (everything.period, everything.attributed) == (None, 3)
    by_referrer = referring.referral_stats(period="year", by_referrer=True)
    assert [(s.period, s.referrer, s.attributed) for s in by_referrer] == [
        ("2026", "ann", 2),
        ("2026", "bob", 1),
    ]
    with pytest.raises(InvalidValue, match="period='week'"):
        referring.referral_stats(period="week")


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"milestones": {0: 100}}, "Referrals.milestones"),
        ({"milestones": {3: -1}}, "Referrals.milestones"),
        ({"referrer_cap": (0, timedelta(days=1))}, "Referrals.referrer_cap"),
        ({"referrer_cap": 5}, "Referrals.referrer_cap"),
    ],
)
def test_bad_milestone_and_cap_settings_are_refused(settings, field):
    with pytest.raises(ConfigurationError, match=field.replace(".", r"\.")):
        Referrals(**settings)


def test_a_code_used_before_it_was_deactivated_still_attributes_a_held_signup(
    referring, advokit_clock
):
    """Decided as of the signup: what happened while it waited does not undo it."""
    code = referring.referral_code("ann").code
    held_signup = signup("zoe", "s-1", code=code)
    with register_plugin(referring, HoldSignups()):
        assert referring.record(held_signup).status is Status.HELD
    advokit_clock.advance(hours=2)
    referring.deactivate_referral_code(code)
    # zoe earned points meanwhile: she is an existing customer now, not at her signup
    referring.record(Action(kind="review.posted", advocate="zoe", key="rv-1"))
    approved = referring.review("s-1", approve=True, reviewer="maria")
    assert approved.status is Status.APPLIED
    assert referring.referral("zoe").referrer == "ann"


class HoldSignups:
    plugin_name = "hold_signups"
    advokit_screens = frozenset({REFERRAL_SIGNED_UP})

    @hookimpl
    def advokit_screen(self, ctx, action):
        return Verdict.hold("a person looks at every signup")


def test_the_cap_counts_only_the_rewards_paid(make_program, database_url, advokit_clock):
    program = make_program(
        database_url=database_url,
        plugins=[
            Referrals(
                referrer_points=10, referrer_cap=(1, timedelta(days=30)), refund_window=DAYS_14
            )
        ],
    )
    program.enroll(Advocate(external_id="ann"))
    refer_and_reward(program, advokit_clock, ["f1"])  # day 15: paid
    advokit_clock.advance(days=10)
    refer_and_reward(program, advokit_clock, ["f2"])  # day 40: capped (f1 within 30 days)
    assert program.balance("ann") == 10
    assert program.referral("f2").referrer_paid == 0
    advokit_clock.advance(days=6)
    refer_and_reward(program, advokit_clock, ["f3"])  # day 61: f2 was not paid, f1 is 46 days old
    assert program.balance("ann") == 20


def test_a_clawback_takes_back_what_the_approval_paid_and_the_referral_stops_counting(
    make_program, database_url, advokit_clock
):
    program = make_program(
        database_url=database_url,
        plugins=[
            Referrals(referrer_points=10, milestones={1: 200}, refund_window=DAYS_14),
            Points(PointsRule("review.posted", points=7)),
        ],
    )
    program.enroll(Advocate(external_id="ann"))
    program.record(Action(kind="review.posted", advocate="ann", key="rv-1"))  # not clawed back
    refer_and_reward(program, advokit_clock, ["f1"])
    assert program.balance("ann") == 7 + 210
    program.record(refund("f1", "o-f1", "r-1"))
    assert program.balance("ann") == 7  # the reward and the first-referral bonus
    assert program.referral("f1").state is ReferralState.VOIDED
    refer_and_reward(program, advokit_clock, ["f2"])  # now the first success: the bonus again
    assert program.balance("ann") == 7 + 210


# --------------------------------------------------------------------------- invitations


def invite(referrer, email, key):
    return Action(kind=REFERRAL_INVITED, advocate=referrer, key=key, data={"email": email})


def test_an_invited_friend_signing_up_without_a_code_is_attributed_by_inbox(
    referring, advokit_clock
):
    referring.enroll(Advocate(external_id="zoe", email="zoe.smith@gmail.com"))
    assert referring.record(invite("ann", "Zoe.Smith+bakery@googlemail.com", "i-1")).status is (
        Status.APPLIED
    )
    advokit_clock.advance(days=3)
    referring.record(invite("bob", "zoesmith@gmail.com", "i-2"))
    assert referring.record(signup("zoe", "s-1")).status is Status.APPLIED
    referral = referring.referral("zoe")
    assert (referral.referrer, referral.source, referral.code) == ("ann", "email", None)


def test_an_invitation_older_than_the_window_does_not_attribute(referring, advokit_clock):
    referring.enroll(Advocate(external_id="zoe", email="zoe@example.com"))
    referring.record(invite("ann", "zoe@example.com", "i-1"))
    advokit_clock.advance(days=61)
    assert referring.record(signup("zoe", "s-1")).reasons == ("referral.no_referrer",)


def test_last_touch_gives_the_friend_to_the_latest_referrer_until_they_convert(
    make_program, database_url, advokit_clock
):
    program = make_program(
        database_url=database_url, plugins=[Referrals(touch="last", refund_window=DAYS_14)]
    )
    program.enroll_many(
        [
            Advocate(external_id="ann"),
            Advocate(external_id="bob"),
            Advocate(external_id="cat"),
            Advocate(external_id="zoe", email="zoe@example.com"),
        ]
    )
    program.record(invite("ann", "zoe@example.com", "i-1"))
    program.record(invite("bob", "zoe@example.com", "i-2"))
    program.record(signup("zoe", "s-1"))
    assert program.referral("zoe").referrer == "bob"  # the latest invitation
    advokit_clock.advance(days=1)
    assert program.record(signup("zoe", "s-2", referrer="cat")).status is Status.APPLIED
    assert program.referral("zoe").referrer == "cat"
    program.record(purchase("zoe", "o-1"))
    later = program.record(signup("zoe", "s-3", referrer="ann"))
    assert later.reasons == ("referral.already_referred",)  # converted: it stays cat's
    assert [r.friend for r in program.referrals("cat")] == ["zoe"]
    assert program.referrals("bob") == []


def test_the_touch_policy_is_checked(make_program):
    with pytest.raises(ConfigurationError, match=r"Referrals\.touch"):
        Referrals(touch="middle")


def test_the_referrer_a_friend_names_at_the_till_is_found_by_code_email_or_name(referring):
    referring.enroll_many(
        [
            Advocate(external_id="ana", name="Ana  Lima", email="Ana.Lima@gmail.com"),
            Advocate(external_id="ana-2", name="Ana Costa", email="ana@example.com"),
            Advocate(external_id="ana-3", name="Ana Costa", email="costa@example.org"),
        ]
    )
    code = referring.referral_code("ana").code
    assert referring.find_referrer(code.lower()) == "ana"
    assert referring.find_referrer("analima+shop@googlemail.com") == "ana"
    assert referring.find_referrer(" ana   lima ") == "ana"
    with pytest.raises(InvalidValue, match=r"only one advocate matches \(ana-2, ana-3 do\)"):
        referring.find_referrer("ana costa")
    with pytest.raises(InvalidValue, match="the code, email or name of an advocate"):
        referring.find_referrer("nobody@example.com")
    outcome = referring.record(
        signup("zoe", "s-1", referrer=referring.find_referrer("ANA LIMA"), source="offline")
    )
    assert outcome.status is Status.APPLIED
    assert (referring.referral("zoe").referrer, referring.referral("zoe").source) == (
        "ana",
        "offline",
    )


def test_an_invitation_and_the_signup_it_brings_in_one_batch(referring):
    referring.enroll(Advocate(external_id="zoe", email="zoe@example.com"))
    outcomes = referring.record_many(
        [
            signup("bob", "s-0", referrer="ann"),
            invite("ann", "zoe@example.com", "i-1"),
            signup("zoe", "s-1"),
        ]
    )
    assert [o.status for o in outcomes] == [Status.APPLIED] * 3
    assert referring.referral("zoe").referrer == "ann"


def test_last_touch_an_older_touch_approved_later_does_not_take_over(
    make_program, database_url, advokit_clock
):
    program = make_program(
        database_url=database_url, plugins=[Referrals(touch="last", refund_window=DAYS_14)]
    )
    program.enroll_many(Advocate(external_id=n) for n in ("bob", "cat", "zoe"))
    with register_plugin(program, HoldSignups()):
        program.record(signup("zoe", "s-bob", referrer="bob"))  # held, day 0
    advokit_clock.advance(days=5)
    program.record(signup("zoe", "s-cat", referrer="cat"))  # applied, day 5
    advokit_clock.advance(days=5)
    approved = program.review("s-bob", approve=True, reviewer="maria")
    assert approved.status is Status.APPLIED
    referral = program.referral("zoe")
    assert referral.referrer == "cat"  # bob's touch came first


def test_find_referrer_takes_no_retired_code_and_no_name_for_a_code(referring):
    referring.enroll_many(
        [
            Advocate(external_id="ann-s", name="Ann Smith"),
            Advocate(external_id="eve", name="Eve"),
            Advocate(external_id="jose", name="José Álvarez"),
        ]
    )
    referring.referral_code("bob", vanity="ANNSMITH")  # bob takes Ann's name as a code
    assert referring.find_referrer("Ann Smith") == "ann-s"  # two words: a name, never a code
    assert referring.find_referrer("josé álvarez") == "jose"
    old = referring.referral_code("zoe").code
    referring.deactivate_referral_code(old)
    with pytest.raises(InvalidValue, match="the code, email or name"):
        referring.find_referrer(old)
    referring.referral_code("ann", vanity="EVE")  # one word, a code and a name
    with pytest.raises(InvalidValue, match=r"only one advocate matches \(ann, eve do\)"):
        referring.find_referrer("eve")
