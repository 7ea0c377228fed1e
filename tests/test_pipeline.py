"""The action pipeline, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

import attrs
import pytest
import sqlalchemy as sa

from advokit import (
    Action,
    Advocate,
    AdvokitError,
    ConfigurationError,
    DerivationTooDeep,
    Effect,
    HoldForReview,
    IdempotencyConflict,
    InvalidValue,
    PluginError,
    Refused,
    Status,
    Tag,
    Verdict,
    hookimpl,
)
from advokit.plugins.points import Points, PointsRule, redemption, reversal
from advokit.testing import HookRecorder, register_plugin

PURCHASE_POINTS = Points(PointsRule("purchase.completed", points=10))


def purchase(key: str, advocate: str = "ann", **data: object) -> Action:
    return Action(
        kind="purchase.completed", advocate=advocate, key=key, data={"order_id": key, **data}
    )


@pytest.fixture
def program(make_program, database_url):
    program = make_program(database_url=database_url, plugins=[PURCHASE_POINTS])
    program.enroll_many(Advocate(external_id=name, name=name.title()) for name in ("ann", "bob"))
    return program


def count(program, table: str) -> int:
    with program.engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()


def test_record_applies_effects_and_returns_outcome(program):
    outcome = program.record(purchase("o-1"))
    assert outcome.status is Status.APPLIED
    assert outcome.points == 10
    assert not outcome.replayed
    assert program.balance("ann") == 10


def test_retried_action_replays_first_outcome_and_applies_nothing(program):
    first = program.record(purchase("o-1"))
    again = program.record(purchase("o-1"))
    assert again.replayed
    assert again.effects == first.effects
    assert again.status is first.status
    assert program.balance("ann") == 10
    assert count(program, "advokit_ledger_entries") == 1


def test_duplicate_keys_inside_one_batch_apply_once(program):
    outcomes = program.record_many([purchase("o-1"), purchase("o-1"), purchase("o-2")])
    assert [o.replayed for o in outcomes] == [False, True, False]
    assert program.balance("ann") == 20


def test_same_key_with_other_data_is_a_conflict(program):
    program.record(purchase("o-1", total_cents=100))
    with pytest.raises(IdempotencyConflict, match="o-1"):
        program.record(purchase("o-1", total_cents=999))
    assert count(program, "advokit_actions") == 1


def test_conflict_inside_a_batch_writes_nothing(program):
    with pytest.raises(IdempotencyConflict):
        program.record_many([purchase("o-1", total_cents=1), purchase("o-1", total_cents=2)])
    assert count(program, "advokit_actions") == 0


def test_record_many_returns_outcomes_in_order(program):
    actions = [purchase(f"o-{i}", advocate="ann" if i % 2 else "bob") for i in range(50)]
    outcomes = program.record_many(actions)
    assert [o.key for o in outcomes] == [a.key for a in actions]
    assert program.balance("ann") == 250
    assert program.balance("bob") == 250
    assert program.verify_ledger() == []


class Screen:
    plugin_name = "screen"

    def __init__(self, verdicts):
        self.verdicts = verdicts

    @hookimpl
    def advokit_screen(self, ctx, action):
        return self.verdicts.get(action.key)


class SecondScreen(Screen):
    plugin_name = "second-screen"


def test_screen_worst_verdict_wins_and_reasons_are_recorded(program):
    with (
        register_plugin(program, Screen({"o-1": Verdict.hold("new account")})),
        register_plugin(program, SecondScreen({"o-1": Verdict.reject("self-referral")})),
    ):
        outcome = program.record(purchase("o-1"))
    assert outcome.status is Status.REJECTED
    assert outcome.reasons == ("self-referral",)
    assert program.balance("ann") == 0
    assert program.record(purchase("o-1")).status is Status.REJECTED  # replayed as decided


def test_held_action_applies_only_when_approved(program):
    with register_plugin(program, Screen({"o-1": Verdict.hold("velocity")})):
        assert program.record(purchase("o-1")).status is Status.HELD
    assert [a.key for a in program.held()] == ["o-1"]
    assert program.balance("ann") == 0
    outcome = program.review("o-1", approve=True, reviewer="maria", note="known customer")
    assert outcome.status is Status.APPLIED
    assert program.balance("ann") == 10
    assert program.held() == []
    assert program.record(purchase("o-1")).status is Status.APPLIED  # the decided outcome
    with program.engine.connect() as conn:
        row = conn.execute(sa.text("SELECT decision, reviewer, note FROM advokit_reviews")).one()
    assert tuple(row) == ("approved", "maria", "known customer")


def test_denied_action_is_rejected_and_audited(program):
    with register_plugin(program, Screen({"o-1": Verdict.hold("velocity")})):
        program.record(purchase("o-1"))
    outcome = program.review("o-1", approve=False, reviewer="maria")
    assert outcome.status is Status.REJECTED
    assert program.balance("ann") == 0
    assert count(program, "advokit_reviews") == 1


@pytest.mark.parametrize(
    ("reviewer", "note", "field"),
    [
        ("", None, "reviewer"),
        ("m" * 256, None, "reviewer"),
        ("maria", "x" * 1001, "note"),  # longer than advokit_reviews.note keeps
        ("maria", 42, "note"),
    ],
)
def test_a_review_with_a_bad_reviewer_or_note_is_refused_and_decides_nothing(
    program, reviewer, note, field
):
    with register_plugin(program, Screen({"o-1": Verdict.hold("velocity")})):
        program.record(purchase("o-1"))
    with pytest.raises(InvalidValue) as refused:
        program.review("o-1", approve=True, reviewer=reviewer, note=note)
    assert refused.value.field == field
    assert [a.key for a in program.held()] == ["o-1"]
    assert count(program, "advokit_reviews") == 0
    assert program.review("o-1", approve=True, reviewer="maria", note="x" * 1000).points == 10


@pytest.mark.parametrize("program_default", ["approve", "deny"])
def test_a_hold_keeps_its_own_default_for_an_overdue_review(
    make_program, database_url, advokit_clock, program_default
):
    program = make_program(
        database_url=database_url,
        plugins=[PURCHASE_POINTS],
        review_deadline=timedelta(days=1),
        review_default=program_default,
    )
    program.enroll(Advocate(external_id="ann"))
    verdicts = {
        "o-1": Verdict.hold("untrusted", default="deny"),
        "o-2": Verdict.hold("big order", default="approve"),
        "o-3": Verdict.hold("velocity"),  # the program's default
    }
    doubtful = {"o-1": Verdict.hold("new device", default="approve")}  # deny wins
    with (
        register_plugin(program, Screen(verdicts)),
        register_plugin(program, SecondScreen(doubtful)),
    ):
        held = program.record_many([purchase(key) for key in verdicts])
    assert [o.review_default for o in held] == ["deny", "approve", None]
    assert [item.default for item in program.review_queue()] == ["deny", "approve", program_default]
    advokit_clock.advance(days=1)
    decided = {o.key: o.status for o in program.tick().decided_by_default}
    approved = Status.APPLIED if program_default == "approve" else Status.REJECTED
    assert decided == {"o-1": Status.REJECTED, "o-2": Status.APPLIED, "o-3": approved}


def test_a_hold_default_is_approve_deny_or_none():
    with pytest.raises(InvalidValue, match=r"Verdict.default='later'.*'approve', 'deny' or None"):
        Verdict.hold("velocity", default="later")
    with pytest.raises(InvalidValue, match=r"HoldForReview.default='yes'"):
        HoldForReview(reason="big order", default="yes")


class RefuseSecond:
    """Refuses an action while deciding it, as a stock that ran out would."""

    @hookimpl
    def advokit_evaluate(self, ctx, action):
        if action.key == "o-2":
            raise Refused("sold out meanwhile")
        return None


def test_a_plugin_refusing_while_deciding_rejects_that_action_only(program):
    with register_plugin(program, RefuseSecond()):
        outcomes = program.record_many([purchase("o-1"), purchase("o-2"), purchase("o-3")])
    assert [o.status for o in outcomes] == [Status.APPLIED, Status.REJECTED, Status.APPLIED]
    assert outcomes[1].reasons == ("sold out meanwhile",)
    assert program.balance("ann") == 20


class HoldBigOrders:
    @hookimpl
    def advokit_evaluate(self, ctx, action):
        if action.data.get("total_cents", 0) > 100_000:
            return [HoldForReview(reason="order over 1000 EUR")]
        return None


def test_hold_for_review_effect_holds_the_whole_action(program):
    with register_plugin(program, HoldBigOrders()):
        outcome = program.record(purchase("o-1", total_cents=500_000))
    assert outcome.status is Status.HELD
    assert outcome.reasons == ("order over 1000 EUR",)
    assert program.balance("ann") == 0


class Tagger:
    @hookimpl
    def advokit_evaluate(self, ctx, action):
        return [Tag(advocate=action.advocate, tag="buyer")]


def test_tag_effect(program):
    with register_plugin(program, Tagger()):
        program.record(purchase("o-1"))
    assert program.tags("ann") == {"buyer"}


class Exploding:
    plugin_name = "exploding"

    @hookimpl
    def advokit_evaluate(self, ctx, action):
        if action.key == "o-2":
            raise RuntimeError("rule engine on fire")
        return None


def test_plugin_error_rolls_back_everything_and_names_the_plugin(program):
    with register_plugin(program, Exploding()), pytest.raises(PluginError) as caught:
        program.record_many([purchase("o-1"), purchase("o-2")])
    assert caught.value.plugin == "exploding"
    assert caught.value.hook == "advokit_evaluate"
    assert "exploding" in str(caught.value) and "rule engine on fire" in str(caught.value)
    for table in ("advokit_actions", "advokit_ledger_entries", "advokit_balances"):
        assert count(program, table) == 0


class Observer:
    def __init__(self):
        self.seen = []
        self.errors = []

    @hookimpl
    def advokit_after_commit(self, program, outcomes):
        self.seen.append([o.key for o in outcomes])

    @hookimpl
    def advokit_on_record_error(self, program, actions, error):
        self.errors.append(type(error).__name__)


def test_after_commit_sees_new_outcomes_only(program):
    observer = Observer()
    with register_plugin(program, observer):
        program.record_many([purchase("o-1"), purchase("o-2")])
        program.record_many([purchase("o-1"), purchase("o-3")])
    assert observer.seen == [["o-1", "o-2"], ["o-3"]]


def test_on_record_error_observes_failures(program):
    observer = Observer()
    with register_plugin(program, observer), register_plugin(program, Exploding()):
        with pytest.raises(PluginError):
            program.record(purchase("o-2"))
    assert observer.errors == ["PluginError"]


class Listener:
    """Evaluates every kind (declares no ``advokit_evaluates``) and remembers them."""

    plugin_name = "listener"

    def __init__(self):
        self.kinds = []

    @hookimpl
    def advokit_evaluate(self, ctx, action):
        self.kinds.append(action.kind)


class Routed(Listener):
    """Evaluates only the kinds it declares."""

    plugin_name = "routed"
    advokit_evaluates = frozenset({"review.posted"})


def test_hook_recorder_sees_the_pipeline(program):
    recorder = HookRecorder(program)
    with register_plugin(program, Screen({})), register_plugin(program, Listener()):
        program.record(purchase("o-1"))
    recorder.close()
    names = recorder.names()
    assert names.index("advokit_screen") < names.index("advokit_evaluate")
    assert names[-1] == "advokit_after_commit"
    # the purchase, then the derived points.changed
    assert [c.kwargs["action"].kind for c in recorder.of("advokit_evaluate")] == [
        "purchase.completed",
        "points.changed",
    ]


def test_evaluate_reaches_only_plugins_that_take_the_kind(program):
    routed, listener = Routed(), Listener()
    with register_plugin(program, routed):
        program.record(purchase("o-1"))
        program.record(Action(kind="review.posted", advocate="ann", key="rv-1"))
        assert routed.kinds == ["review.posted"]
        # a plugin registered later is routed too, and points.changed is now derived
        with register_plugin(program, listener):
            program.record(purchase("o-2"))
    assert routed.kinds == ["review.posted"]
    assert listener.kinds == ["purchase.completed", "points.changed"]


@pytest.mark.parametrize(
    ("declared", "accepted"),
    [("review.posted", "a collection of action kind names"), ({"no.such"}, "one of")],
)
def test_a_bad_evaluates_declaration_is_refused(make_program, declared, accepted):
    class Bad(Listener):
        plugin_name = "bad"
        advokit_evaluates = declared

    with pytest.raises(ConfigurationError, match=rf"bad\.advokit_evaluates.*{accepted}"):
        make_program(plugins=[Bad()])


def test_a_bad_evaluates_declaration_is_refused_when_registered_later(program):
    class Bad(Listener):
        plugin_name = "late"
        advokit_evaluates = "review.posted"  # a string: "review" in it would be true

    with pytest.raises(ConfigurationError, match=r"late\.advokit_evaluates"):
        with register_plugin(program, Bad()):
            pass
    assert program.pm.get_plugin("late") is None


def test_points_changed_is_not_derived_when_nobody_evaluates_it(program):
    recorder = HookRecorder(program)
    program.record(purchase("o-1"))
    recorder.close()
    # the points plugin takes its own kinds only: no plugin takes points.changed
    assert [c.kwargs["action"].kind for c in recorder.of("advokit_evaluate")] == [
        "purchase.completed"
    ]
    assert program.balance("ann") == 10


class Echo:
    """Awards a point every time points change: derivation that never ends."""

    @hookimpl
    def advokit_evaluate(self, ctx, action):
        if action.kind == "points.changed":
            from advokit import AwardPoints

            return [AwardPoints(advocate=action.advocate, points=1, reason="echo.bonus")]
        return None


def test_derived_actions_are_bounded(program):
    with register_plugin(program, Echo()), pytest.raises(DerivationTooDeep):
        program.record(purchase("o-1"))
    assert count(program, "advokit_actions") == 0


def test_derived_points_changed_carries_the_new_balance(program):
    seen = []

    class Watch:
        @hookimpl
        def advokit_evaluate(self, ctx, action):
            if action.kind == "points.changed":
                seen.append((ctx.depth, dict(action.data)))

    program.record(purchase("o-0"))
    with register_plugin(program, Watch()):
        program.record(purchase("o-1"))
    assert seen == [
        (
            1,
            {
                "account": "points",
                "delta": 10,
                "balance": 20,
                "cause": "purchase.completed",
                "earned": 10,
            },
        )
    ]


def test_points_changed_says_what_counts_as_earned(program):
    """Spending lowers the balance, not what was earned; a reversal lowers both."""
    seen = []

    class Watch:
        @hookimpl
        def advokit_evaluate(self, ctx, action):
            if action.kind == "points.changed":
                seen.append((action.data["delta"], action.data["earned"]))

    with register_plugin(program, Watch()):
        program.record(purchase("o-1"))
        program.record(redemption("ann", 4, key="spend"))
        program.record(reversal("ann", "o-1", key="refund"))
    assert seen == [(10, 10), (-4, 0), (-6, -6)]


class Sticker(Effect):
    """A plugin-defined effect (any class deriving from Effect)."""

    def __init__(self, advocate):
        self.advocate = advocate


def test_insufficient_balance_rejects_only_that_action(program):
    outcomes = program.record_many(
        [purchase("o-1"), redemption("ann", 25, key="r-1"), redemption("ann", 5, key="r-2")]
    )
    assert [o.status for o in outcomes] == [Status.APPLIED, Status.REJECTED, Status.APPLIED]
    assert "insufficient_balance" in outcomes[1].reasons[0]
    assert program.balance("ann") == 5


def test_occurred_at_defaults_to_the_clock(program, advokit_clock):
    program.record(purchase("o-1"))
    entry = program.history("ann")[0]
    assert entry.effective_at == advokit_clock()
    later = advokit_clock() + timedelta(hours=3)
    program.record(
        Action(
            kind="purchase.completed",
            advocate="ann",
            key="o-2",
            occurred_at=later,
            data={"order_id": "2"},
        )
    )
    assert program.history("ann")[0].effective_at == later


class HoldOnBigChange:
    @hookimpl
    def advokit_evaluate(self, ctx, action):
        if action.kind == "points.changed" and action.data["balance"] >= 20:
            return [HoldForReview(reason="balance jumped")]
        return None


def test_hold_from_a_derived_action_holds_the_recorded_action(program):
    program.record(purchase("o-1"))
    with register_plugin(program, HoldOnBigChange()):
        outcome = program.record(purchase("o-2"))
    assert outcome.status is Status.HELD
    assert outcome.reasons == ("balance jumped",)
    assert program.balance("ann") == 10
    assert program.review("o-2", approve=True, reviewer="maria").status is Status.APPLIED
    assert program.balance("ann") == 20


def test_failing_effect_policy_is_named_and_rolls_back(make_program, database_url):
    def broken_policy(ctx, action, effects):
        raise ZeroDivisionError("oops")

    program = make_program(
        database_url=database_url, plugins=[PURCHASE_POINTS], policies=[broken_policy]
    )
    program.enroll(Advocate(external_id="ann"))
    with pytest.raises(PluginError, match="broken_policy.*effect policy.*oops"):
        program.record(purchase("o-1"))
    assert count(program, "advokit_actions") == 0


def test_a_held_action_is_decided_once(program):
    with register_plugin(program, Screen({"o-1": Verdict.hold("velocity")})):
        program.record(purchase("o-1"))
    program.review("o-1", approve=True, reviewer="maria")
    with pytest.raises(InvalidValue, match="held for review"):
        program.review("o-1", approve=True, reviewer="li")
    assert program.balance("ann") == 10
    assert count(program, "advokit_reviews") == 1


def test_a_decision_that_lost_the_race_writes_nothing(program):
    """Two reviewers read the action as held; only the first decision may apply."""
    with register_plugin(program, Screen({"o-1": Verdict.hold("velocity")})):
        program.record(purchase("o-1"))
    action = program.held()[0]
    program._engine.review(action, approve=True, reviewer="maria", note=None)
    with pytest.raises(InvalidValue, match="still held"):
        program._engine.review(action, approve=True, reviewer="li", note=None)
    assert program.balance("ann") == 10
    assert count(program, "advokit_reviews") == 1
    assert count(program, "advokit_ledger_entries") == 1


def test_batches_larger_than_one_read_chunk(program):
    # more advocates and keys than one IN-list carries (store.driver.CHUNK)
    from advokit.core.store.driver import CHUNK

    size = CHUNK + 50
    program.enroll_many(Advocate(external_id=f"c-{i}") for i in range(size))
    actions = [purchase(f"big-{i}", advocate=f"c-{i}") for i in range(size)]
    first = program.record_many(actions)
    assert [o.status for o in first] == [Status.APPLIED] * size
    again = program.record_many(actions)
    assert all(o.replayed for o in again)
    assert count(program, "advokit_ledger_entries") == size
    assert program.balance(f"c-{size - 1}") == 10
    assert program.verify_ledger() == []


# -- how per-action hooks are called: routed, and directly unless pluggy must see them


@attrs.frozen
class Stamp(Effect):
    advocate: str
    mark: str


@attrs.frozen
class Other(Effect):
    advocate: str


class Stamper:
    """Emits a Stamp and an Other for each purchase; takes only the kinds it declares."""

    plugin_name = "stamper"
    advokit_evaluates = frozenset({"purchase.completed"})

    @hookimpl
    def advokit_evaluate(self, action, ctx):  # the arguments in another order
        assert ctx.now is not None
        return [Stamp(advocate=action.advocate, mark=action.key), Other(advocate=action.advocate)]


class StampApplier:
    """Applies Stamp only (declared): never offered an Other."""

    plugin_name = "stamp_applier"
    advokit_applies = (Stamp,)

    def __init__(self):
        self.offered = []

    @hookimpl
    def advokit_apply_effect(self, effect):  # takes only the effect
        self.offered.append(type(effect).__name__)
        return True


class CatchAll:
    """Declares nothing: offered every effect type the core does not apply."""

    plugin_name = "catch_all"

    def __init__(self):
        self.offered = []

    @hookimpl
    def advokit_apply_effect(self, tx, effect):
        self.offered.append(type(effect).__name__)
        return True if isinstance(effect, Other) else None


def test_apply_effect_offers_each_effect_type_to_the_plugins_that_take_it(program):
    stamps, everything = StampApplier(), CatchAll()
    with register_plugin(program, Stamper()), register_plugin(program, everything):
        with register_plugin(program, stamps):  # registered last: asked first (pluggy's order)
            outcome = program.record(purchase("o-1"))
    assert outcome.status is Status.APPLIED
    assert stamps.offered == ["Stamp"]  # never offered an Other, which it would have taken
    assert everything.offered == ["Other"]
    # and the other way round: the catch-all, asked first, is offered both
    stamps, everything = StampApplier(), CatchAll()
    with register_plugin(program, Stamper()), register_plugin(program, stamps):
        with register_plugin(program, everything):
            program.record(purchase("o-2"))
    assert everything.offered == ["Stamp", "Other"] and stamps.offered == ["Stamp"]


def test_an_effect_type_nobody_applies_is_an_error(program):
    with register_plugin(program, Stamper()), register_plugin(program, StampApplier()):
        with pytest.raises(AdvokitError, match="no plugin applies Other effects"):
            program.record(purchase("o-1"))
    assert count(program, "advokit_actions") == 0


@pytest.mark.parametrize("declared", [Stamp, "Stamp", (Stamp, int)])
def test_a_bad_applies_declaration_is_refused(make_program, declared):
    class Bad(StampApplier):
        plugin_name = "bad"
        advokit_applies = declared

    with pytest.raises(ConfigurationError, match=r"bad\.advokit_applies.*Effect subclasses"):
        make_program(plugins=[Bad()])


def test_a_plugin_failing_in_apply_effect_is_named(program):
    class Failing(StampApplier):
        plugin_name = "failing"

        @hookimpl
        def advokit_apply_effect(self, tx, effect):
            raise RuntimeError("stamp pad dry")

    with register_plugin(program, Stamper()), register_plugin(program, CatchAll()):
        with register_plugin(program, Failing()), pytest.raises(PluginError) as caught:
            program.record(purchase("o-1"))
    assert (caught.value.plugin, caught.value.hook) == ("failing", "advokit_apply_effect")
    assert count(program, "advokit_actions") == 0


class Wrapper:
    """A new-style wrapper around advokit_evaluate: its calls go through pluggy."""

    plugin_name = "wrapper"

    def __init__(self):
        self.wrapped = []

    @hookimpl(wrapper=True)
    def advokit_evaluate(self, ctx, action):
        results = yield
        self.wrapped.append((action.kind, len(results)))
        return results


def test_a_wrapper_sees_every_evaluate_call(program):
    wrapper = Wrapper()
    with register_plugin(program, Stamper()), register_plugin(program, wrapper):
        with register_plugin(program, StampApplier()), register_plugin(program, CatchAll()):
            outcome = program.record(purchase("o-1"))
    # the points rule and the stamper answered; the wrapper takes every kind, so
    # points.changed is derived too
    assert wrapper.wrapped == [("purchase.completed", 2), ("points.changed", 0)]
    assert {type(e).__name__ for e in outcome.effects} == {"AwardPoints", "Stamp", "Other"}


@attrs.frozen
class Tally(Effect):
    """A plugin's own bookkeeping: applied, but not part of the outcome."""

    recorded: ClassVar[bool] = False

    advocate: str


class Tallier:
    plugin_name = "tallier"
    advokit_evaluates = frozenset({"purchase.completed"})
    advokit_applies = (Tally,)

    def __init__(self):
        self.applied = 0

    @hookimpl
    def advokit_evaluate(self, ctx, action):
        return [Tally(advocate=action.advocate), Tag(advocate=action.advocate, tag="buyer")]

    @hookimpl
    def advokit_apply_effect(self, tx, effect):
        self.applied += 1
        return True


def test_an_unrecorded_effect_is_applied_but_left_out_of_the_outcome(program):
    tallier = Tallier()
    with register_plugin(program, tallier):
        first = program.record(purchase("o-1"))
        again = program.record(purchase("o-1"))
    assert tallier.applied == 1
    assert sorted(type(e).__name__ for e in first.effects) == ["AwardPoints", "Tag"]
    assert again.replayed and again.effects == first.effects


class ReviewScreen:
    """Holds every review; declares the kinds it screens."""

    plugin_name = "review_screen"
    advokit_screens = frozenset({"review.posted"})

    def __init__(self):
        self.screened = []

    @hookimpl
    def advokit_screen(self, ctx, action):
        self.screened.append(action.kind)
        return Verdict.hold("reviews wait")


def test_screen_reaches_only_plugins_that_take_the_kind(program):
    screen = ReviewScreen()
    with register_plugin(program, screen):
        bought = program.record(purchase("o-1"))
        reviewed = program.record(Action(kind="review.posted", advocate="ann", key="rv-1"))
    assert screen.screened == ["review.posted"]
    assert (bought.status, reviewed.status) == (Status.APPLIED, Status.HELD)


def test_a_bad_screens_declaration_is_refused(make_program):
    class Bad(ReviewScreen):
        plugin_name = "bad"
        advokit_screens = frozenset({"no.such"})

    with pytest.raises(ConfigurationError, match=r"bad\.advokit_screens.*one of"):
        make_program(plugins=[Bad()])
