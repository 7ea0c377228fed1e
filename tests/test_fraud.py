"""Fraud screening of referral signups and reward approvals, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from advokit import (
    Action,
    Advocate,
    ConfigurationError,
    InvalidValue,
    PluginError,
    Status,
    Tag,
    hookimpl,
)
from advokit.plugins.fraud import Fraud, Signal, fingerprints_t, inbox
from advokit.plugins.fraud.emails import edit_distance, is_disposable
from advokit.plugins.referrals import REFERRAL_SIGNED_UP, Referrals, ReferralState, referrals_t
from advokit.testing import register_plugin

IP, FIREFOX, SAFARI = "203.0.113.7", "Mozilla/5.0 Firefox/131.0", "Mozilla/5.0 Safari/605.1"


def build(make_program, database_url, **fraud):
    program = make_program(
        database_url=database_url,
        plugins=[
            Referrals(referrer_points=100, friend_points=50, refund_window=timedelta(days=14)),
            Fraud(**fraud),
        ],
    )
    program.enroll_many(
        [
            Advocate(external_id="alice", name="Alice Martin", email="Alice@Gmail.com"),
            Advocate(external_id="bob", name="Bob Stone", email="bob@example.com"),
            Advocate(external_id="carol", name="Carol King", email="carol@example.org"),
            Advocate(external_id="dan", name="Dan Wu", email="dan@example.net"),
            Advocate(external_id="erin", name="Erin Lee", email="erin@example.net"),
        ]
    )
    return program


@pytest.fixture
def program(make_program, database_url):
    return build(make_program, database_url)


def signup(friend, key, referrer="alice", **data):
    return Action(
        kind=REFERRAL_SIGNED_UP, advocate=friend, key=key, data={"referrer": referrer, **data}
    )


def shared(advocate, key, **data):
    return Action(
        kind="referral.shared", advocate=advocate, key=key, data={"channel": "email", **data}
    )


# --------------------------------------------------------------------------- the signals


def test_the_same_inbox_however_written_is_a_self_referral(program):
    program.enroll(Advocate(external_id="alias", email="a.lice+x@googlemail.com"))
    outcome = program.record(signup("alias", "s-1"))
    assert outcome.status is Status.REJECTED
    (reason,) = outcome.reasons
    assert reason.startswith("fraud score 100 >= 100: ") and "self_referral.email (+100)" in reason
    assert program.referral("alias") is None


def test_same_address_other_browser_is_allowed_same_browser_is_held(program):
    program.record(shared("alice", "sh-1", ip=IP, user_agent=FIREFOX))
    allowed = program.record(signup("bob", "s-1", ip=IP, user_agent=SAFARI))
    assert allowed.status is Status.APPLIED  # a household or an office shares one address
    held = program.record(signup("carol", "s-2", ip=IP, user_agent=FIREFOX))
    assert held.status is Status.HELD
    assert held.reasons == ("fraud score 60 >= 50: same.ip_user_agent (+60)",)
    assert [a.key for a in program.held()] == ["s-2"]


def test_the_same_device_is_rejected(program):
    program.record(shared("alice", "sh-1", device_id="cookie-42"))
    outcome = program.record(signup("bob", "s-1", device_id="cookie-42"))
    assert outcome.status is Status.REJECTED and "same.device (+100)" in outcome.reasons[0]


def test_fingerprints_are_kept_as_digests_only(program):
    program.record(shared("alice", "sh-1", ip=IP, user_agent=FIREFOX, device_id="cookie-42"))
    program.record(shared("alice", "sh-2", ip=IP, user_agent=FIREFOX))  # seen again
    with program.engine.connect() as conn:
        rows = conn.execute(sa.select(fingerprints_t)).all()
    assert sorted((r.kind, r.seen) for r in rows) == [("device", 1), ("ip_user_agent", 2)]
    assert all(IP not in r.value and "cookie" not in r.value for r in rows)


def test_the_referral_after_the_velocity_limit_is_held(make_program, database_url):
    program = build(make_program, database_url, velocity=(3, timedelta(days=1)))
    outcomes = [program.record(signup(friend, f"s-{friend}")) for friend in ("bob", "carol", "dan")]
    assert [o.status for o in outcomes] == [Status.APPLIED] * 3
    fourth = program.record(signup("erin", "s-erin"))
    assert fourth.status is Status.HELD
    assert fourth.reasons == ("fraud score 60 >= 50: velocity.referrer (+60)",)


def test_velocity_counts_within_one_batch_too(make_program, database_url):
    program = build(make_program, database_url, velocity=(2, timedelta(days=1)))
    outcomes = program.record_many(
        [signup(friend, f"s-{friend}") for friend in ("bob", "carol", "dan")]
    )
    assert [o.status for o in outcomes] == [Status.APPLIED, Status.APPLIED, Status.HELD]


def test_velocity_forgets_referrals_older_than_its_window(
    make_program, database_url, advokit_clock
):
    program = build(make_program, database_url, velocity=(1, timedelta(days=1)))
    program.record(signup("bob", "s-1"))
    advokit_clock.advance(days=1, seconds=1)
    assert program.record(signup("carol", "s-2")).status is Status.APPLIED


def test_a_referral_cycle_is_rejected(program):
    program.record(signup("bob", "s-1", referrer="carol"))  # carol referred bob
    program.record(signup("dan", "s-2", referrer="bob"))  # bob referred dan
    outcome = program.record(signup("carol", "s-3", referrer="dan"))  # dan -> carol: a cycle
    assert outcome.status is Status.REJECTED
    assert outcome.reasons == ("fraud score 100 >= 100: cycle (+100)",)


def test_signals_below_the_review_score_let_the_signup_through(program):
    program.enroll(Advocate(external_id="tmp", name="Someone", email="x@mailinator.com"))
    assert program.record(signup("tmp", "s-1")).status is Status.APPLIED  # 40 < 50


def test_signals_add_up_and_the_verdict_lists_them_all(program):
    # a disposable address (40) and a name like the referrer's (30): 70, held
    program.enroll(Advocate(external_id="twin", name="Alice Martn", email="am@yopmail.com"))
    outcome = program.record(signup("twin", "s-1"))
    assert outcome.status is Status.HELD
    assert outcome.reasons == ("fraud score 70 >= 50: disposable_email (+40), similar.name (+30)",)


def test_weights_and_extra_signals_are_the_programs_choice(make_program, database_url):
    def night_owl(ctx, action, referrer):
        return Signal("custom.night", 55) if action.data.get("night") else None

    program = build(
        make_program, database_url, weights={"disposable_email": 0}, signals=[night_owl]
    )
    program.enroll(Advocate(external_id="tmp", email="x@mailinator.com"))
    assert program.record(signup("tmp", "s-1")).status is Status.APPLIED
    held = program.record(signup("bob", "s-2", night=True))
    assert held.reasons == ("fraud score 55 >= 50: custom.night (+55)",)


def test_a_signup_the_referrals_plugin_refuses_is_not_scored(program):
    outcome = program.record(signup("alice", "s-1"))  # herself
    assert outcome.reasons == ("referral.self",)


# --------------------------------------------------------------------------- review and trust


def test_approving_a_held_signup_attributes_it_once_and_denying_attributes_nothing(program):
    program.record(shared("alice", "sh-1", ip=IP, user_agent=FIREFOX))
    program.record(signup("bob", "s-1", ip=IP, user_agent=FIREFOX))
    program.record(signup("carol", "s-2", ip=IP, user_agent=FIREFOX))
    approved = program.review("s-1", approve=True, reviewer="maria", note="her brother")
    assert approved.status is Status.APPLIED
    assert program.referral("bob").referrer == "alice"
    with pytest.raises(InvalidValue, match="held for review"):
        program.review("s-1", approve=True, reviewer="maria")  # decided already
    denied = program.review("s-2", approve=False, reviewer="maria", note="same person")
    assert denied.status is Status.REJECTED and program.referral("carol") is None
    with program.engine.connect() as conn:
        audit = conn.execute(
            sa.text("SELECT action_key, decision, reviewer, note FROM advokit_reviews ORDER BY id")
        ).all()
    assert [tuple(row) for row in audit] == [
        ("s-1", "approved", "maria", "her brother"),
        ("s-2", "denied", "maria", "same person"),
    ]


class Untrust:
    """Tags an advocate untrusted when told to (a person's decision, as an action)."""

    advokit_evaluates = frozenset({"review.posted"})

    @hookimpl
    def advokit_evaluate(self, ctx, action):
        return [Tag(advocate=action.advocate, tag="untrusted")]


def untrusted_alice_refers_bob(program, clock):
    """Bob signs up with Alice and buys; Alice is then tagged untrusted; the hold passes."""
    program.record(signup("bob", "s-1"))
    program.record(
        Action(
            kind="purchase.completed",
            advocate="bob",
            key="o-1",
            data={"order_id": "o-1", "total_cents": 3000},
        )
    )
    with register_plugin(program, Untrust()):
        program.record(Action(kind="review.posted", advocate="alice", key="flag-alice"))
    clock.advance(days=15)


def test_rewards_of_an_untrusted_advocate_wait_for_a_person(program, advokit_clock):
    untrusted_alice_refers_bob(program, advokit_clock)
    report = program.tick()
    (outcome,) = report.outcomes
    assert outcome.status is Status.HELD and outcome.reasons == ("fraud: 'alice' is untrusted",)
    assert program.balance("alice") == 0
    assert program.tick().outcomes == ()  # held: not asked again
    program.review(outcome.key, approve=True, reviewer="maria")
    assert (program.balance("alice"), program.balance("bob")) == (100, 50)
    assert program.referral("bob").state is ReferralState.REWARDED


def test_a_denied_reward_voids_the_referral_and_is_not_asked_again(program, advokit_clock):
    untrusted_alice_refers_bob(program, advokit_clock)
    (held,) = program.tick().outcomes
    program.review(held.key, approve=False, reviewer="maria", note="alice games the program")
    advokit_clock.advance(days=1)
    (voided,) = program.tick().outcomes  # the denial voids the referral
    assert voided.kind == "referral.denied" and voided.status is Status.APPLIED
    referral = program.referral("bob")
    assert (referral.state, referral.void_reason) == (ReferralState.VOIDED, "denied")
    assert program.tick().outcomes == ()
    assert (program.balance("alice"), program.balance("bob")) == (0, 0)


def purchase(friend, order, occurred_at=None, **data):
    return Action(
        kind="purchase.completed",
        advocate=friend,
        key=order,
        data={"order_id": order, "total_cents": 2500, **data},
        occurred_at=occurred_at,
    )


def test_the_friend_converting_after_the_address_limit_waits_for_a_person(
    make_program, database_url, advokit_clock
):
    program = build(make_program, database_url, ip_velocity=(2, timedelta(days=1)))
    friends = [f"friend-{n}" for n in range(5)]
    program.enroll_many(Advocate(external_id=f) for f in friends)
    for n, friend in enumerate(friends):
        program.record(signup(friend, f"s-{n}", referrer=["alice", "bob", "carol"][n % 3]))
    program.record(purchase("friend-0", "o-0", ip=IP))
    earlier = advokit_clock.now
    advokit_clock.advance(hours=2)
    program.record_many(  # the address's 2nd and 3rd conversions, in one batch
        [
            purchase("friend-1", "o-1", ip=IP, occurred_at=earlier + timedelta(hours=1)),
            purchase("friend-2", "o-2", ip=IP),
        ]
    )
    program.record(purchase("friend-3", "o-3", ip="198.51.100.4"))  # another address
    program.record(purchase("friend-0", "o-0b", ip=IP))  # no conversion: counted once
    advokit_clock.advance(days=2)
    program.record(purchase("friend-4", "o-4", ip=IP))  # the window has passed

    advokit_clock.advance(days=15)
    outcomes = {o.advocate: o for o in program.tick().outcomes}
    held = outcomes.pop("friend-2")
    assert held.status is Status.HELD
    assert held.reasons == ("fraud score 60 >= 50: velocity.ip (+60)",)
    applied = ("friend-0", "friend-1", "friend-3", "friend-4")
    assert {f: o.status for f, o in outcomes.items()} == dict.fromkeys(applied, Status.APPLIED)
    assert program.referral("friend-2").state is ReferralState.PENDING
    (queued,) = program.review_queue()
    assert (queued.action.key, queued.reasons) == (held.key, held.reasons)
    with program.engine.connect() as conn:
        query = sa.select(referrals_t.c.converted_from).where(
            referrals_t.c.converted_from.isnot(None)
        )
        stored = conn.execute(query).scalars().all()
    assert len(stored) == 5 and IP not in stored and all(len(d) == 32 for d in stored)


def test_conversions_at_one_instant_pass_in_enrolment_order_up_to_the_address_limit(
    make_program, database_url, advokit_clock
):
    program = build(make_program, database_url, ip_velocity=(3, timedelta(days=1)))
    friends = [f"friend-{n}" for n in range(4)]
    program.enroll_many(Advocate(external_id=f) for f in friends)
    referrers = ["bob", "carol", "dan", "erin"]
    program.record_many(
        [signup(f, f"s-{f}", referrer=r) for f, r in zip(friends, referrers, strict=True)]
    )
    spellings = [IP, IP, f" {IP} ", f"::ffff:{IP}"]  # one address, however written
    program.record_many(  # one batch: one instant
        [purchase(f, f"o-{f}", ip=ip) for f, ip in zip(friends, spellings, strict=True)]
    )
    advokit_clock.advance(days=15)
    statuses = {o.advocate: o.status for o in program.tick().outcomes}
    assert statuses == {
        "friend-0": Status.APPLIED,
        "friend-1": Status.APPLIED,
        "friend-2": Status.APPLIED,
        "friend-3": Status.HELD,  # the 4th from the address, by enrolment
    }


# --------------------------------------------------------------------------- settings and helpers


def test_an_untrusted_reward_is_never_approved_by_default(
    make_program, database_url, advokit_clock
):
    program = make_program(
        database_url=database_url,
        plugins=[
            Referrals(referrer_points=100, friend_points=50, refund_window=timedelta(days=14)),
            Fraud(),
        ],
        review_deadline=timedelta(days=2),
        review_default="approve",  # for the other holds
    )
    program.enroll_many(Advocate(external_id=name) for name in ("alice", "bob"))
    untrusted_alice_refers_bob(program, advokit_clock)
    (held,) = program.tick().outcomes
    (queued,) = program.review_queue()
    assert (queued.action.key, queued.default) == (held.key, "deny")
    advokit_clock.advance(days=2)
    report = program.tick()
    assert [(o.key, o.status) for o in report.decided_by_default] == [(held.key, Status.REJECTED)]
    advokit_clock.advance(days=1)
    program.tick()  # the denial voids the referral
    assert program.referral("bob").state is ReferralState.VOIDED
    assert (program.balance("alice"), program.balance("bob")) == (0, 0)


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"review_at": 100, "reject_at": 50}, "Fraud.review_at"),
        ({"review_at": 0}, "Fraud.review_at"),
        ({"weights": {"nope": 5}}, "Fraud.weights"),
        ({"weights": {"cycle": -1}}, "Fraud.weights"),
        ({"velocity": (0, timedelta(days=1))}, "Fraud.velocity"),
        ({"velocity": 5}, "Fraud.velocity"),
        ({"ip_velocity": (3, timedelta(0))}, "Fraud.ip_velocity"),
        ({"similar_within": -1}, "Fraud.similar_within"),
        ({"signals": ["not callable"]}, "Fraud.signals"),
    ],
)
def test_bad_fraud_settings_are_refused(settings, field):
    with pytest.raises(ConfigurationError, match=field.replace(".", r"\.")):
        Fraud(**settings)


def test_fraud_needs_the_referrals_plugin(make_program):
    with pytest.raises(PluginError, match=r"'fraud'.*Fraud\(\) without Referrals\(\)"):
        make_program(plugins=[Fraud()])


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        ("Alice@Gmail.com", "alice@gmail.com"),
        ("a.lice+x@googlemail.com", "alice@gmail.com"),
        ("Bob.Stone+news@Example.com", "bob.stone@example.com"),
        ("no-at-sign", "no-at-sign"),
    ],
)
def test_inbox(email, expected):
    assert inbox(email) == expected


def test_disposable_domains_match_subdomains_and_edit_distance_stops_early():
    assert is_disposable("x@eu.mailinator.com", {"mailinator.com"})
    assert not is_disposable("x@mailinator.com.example", {"mailinator.com"})
    assert edit_distance("kitten", "sitting", 5) == 3
    assert edit_distance("kitten", "sitting", 1) == 2  # over the limit: limit + 1


@pytest.mark.parametrize(("default", "status"), [("deny", "rejected"), ("approve", "applied")])
def test_the_review_queue_says_why_and_until_when_and_the_tick_decides_overdue_ones(
    make_program, database_url, advokit_clock, default, status
):
    program = make_program(
        database_url=database_url,
        plugins=[Referrals(refund_window=timedelta(days=14)), Fraud()],
        review_deadline=timedelta(days=2),
        review_default=default,
    )
    program.enroll_many(Advocate(external_id=name) for name in ("alice", "bob", "carol"))
    program.record(shared("alice", "sh-1", ip=IP, user_agent=FIREFOX))
    held_at = advokit_clock.now
    program.record(signup("bob", "s-1", ip=IP, user_agent=FIREFOX))
    advokit_clock.advance(days=1)
    program.record(signup("carol", "s-2", ip=IP, user_agent=FIREFOX))
    first, _ = program.review_queue()
    assert (first.action.key, first.reasons) == (
        "s-1",
        ("fraud score 60 >= 50: same.ip_user_agent (+60)",),
    )
    assert (first.held_at, first.deadline, first.default) == (
        held_at,
        held_at + timedelta(days=2),
        default,
    )
    advokit_clock.advance(days=1)
    report = program.tick()  # s-1 is two days old: decided; s-2 still waits
    assert [(o.key, o.status.value) for o in report.decided_by_default] == [("s-1", status)]
    assert [item.action.key for item in program.review_queue()] == ["s-2"]
    assert program.tick().decided_by_default == ()  # decided once
    assert (program.referral("bob") is not None) == (default == "approve")
    with program.engine.connect() as conn:
        audit = conn.execute(sa.text("SELECT reviewer, note FROM advokit_reviews")).one()
    assert audit == ("advokit", f"no decision within 2 days: {default} by default")


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"review_deadline": timedelta(0)}, "Program.review_deadline"),
        ({"review_default": "maybe"}, "Program.review_default"),
    ],
)
def test_bad_review_settings_are_refused(make_program, settings, field):
    with pytest.raises(ConfigurationError, match=field.replace(".", r"\.")):
        make_program(**settings)


def test_a_batch_of_signups_reads_its_referrers_together(make_program):
    """The statements a batch of signups runs do not grow with the number of referrers."""
    program = make_program(plugins=[Referrals(refund_window=timedelta(days=14)), Fraud()])
    names = [f"ref-{n}" for n in range(30)] + [f"new-{n}" for n in range(30)]
    program.enroll_many(Advocate(external_id=n, email=f"{n}@example.com") for n in names)
    codes = [program.referral_code(f"ref-{n}").code for n in range(30)]
    statements: list[str] = []

    @sa.event.listens_for(program.engine, "connect")
    def trace(dbapi_connection, _record):
        dbapi_connection.set_trace_callback(statements.append)

    program.engine.dispose()  # new connections, traced

    def batch(first, count):
        statements.clear()
        outcomes = program.record_many(
            [
                signup(f"new-{n}", f"s-{n}", referrer=None, code=codes[n])
                for n in range(first, first + count)
            ]
        )
        assert {o.status for o in outcomes} == {Status.APPLIED}
        return len([s for s in statements if s.lstrip().upper().startswith("SELECT")])

    few, many = batch(0, 5), batch(5, 25)
    assert many == few, (few, many)
