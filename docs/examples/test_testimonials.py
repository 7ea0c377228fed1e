from datetime import timedelta

import pytest

from advokit import (
    Action,
    ActionKind,
    Advocate,
    AwardPoints,
    PluginError,
    Status,
    Verdict,
    hookimpl,
)
from advokit.testing import HookRecorder, register_plugin


class PointsForTestimonials:
    """The plugin under test: 25 points per testimonial, at most one a day."""

    plugin_name = "testimonials"

    @hookimpl
    def advokit_register_action_kinds(self, register):
        register(ActionKind(name="testimonial.given", required={"text": str}))

    @hookimpl
    def advokit_evaluate(self, ctx, action):
        if action.kind != "testimonial.given":
            return None
        last = ctx.view.last_award_at(action.advocate, reason=action.kind)
        if last is not None and ctx.now - last < timedelta(days=1):
            return None
        return [AwardPoints(advocate=action.advocate, points=25, reason=action.kind)]


class NoEmptyTestimonials:
    @hookimpl
    def advokit_screen(self, ctx, action):
        if action.kind == "testimonial.given" and not action.data["text"].strip():
            return Verdict.reject("empty testimonial")
        return None


class Broken:
    @hookimpl
    def advokit_evaluate(self, action):
        raise RuntimeError("boom")


def given(key, text="Best sourdough in town"):
    return Action(kind="testimonial.given", advocate="c-1", key=key, data={"text": text})


@pytest.fixture
def program(make_program):
    program = make_program(plugins=[PointsForTestimonials()])
    program.enroll(Advocate(external_id="c-1", name="Ada"))
    return program


def test_a_testimonial_earns_25_points(program):
    outcome = program.record(given("t-1"))
    assert outcome.status is Status.APPLIED
    assert program.balance("c-1") == 25
    assert [entry.reason for entry in program.history("c-1")] == ["testimonial.given"]


def test_recording_the_same_key_twice_applies_once(program):
    program.record(given("t-1"))
    again = program.record(given("t-1"))
    assert again.replayed
    assert program.balance("c-1") == 25


def test_one_award_a_day(program, advokit_clock):
    program.record(given("t-1"))
    program.record(given("t-2"))
    assert program.balance("c-1") == 25
    advokit_clock.advance(days=1)
    program.record(given("t-3"))
    assert program.balance("c-1") == 50


def test_a_screen_can_reject(program):
    with register_plugin(program, NoEmptyTestimonials()):
        outcome = program.record(given("t-1", text="   "))
    assert outcome.status is Status.REJECTED
    assert outcome.reasons == ("empty testimonial",)
    assert program.balance("c-1") == 0


def test_hooks_run_in_pipeline_order(program):
    recorder = HookRecorder(program)
    program.record(given("t-1"))
    recorder.close()
    names = recorder.names()
    # advokit_screen is called only when some plugin implements it
    assert "advokit_screen" not in names
    assert names[-1] == "advokit_after_commit"
    evaluated = [call.kwargs["action"].kind for call in recorder.of("advokit_evaluate")]
    assert evaluated == ["testimonial.given", "points.changed"]


def test_a_failing_plugin_rolls_back_and_is_named(program):
    with register_plugin(program, Broken(), name="broken"), pytest.raises(PluginError) as error:
        program.record(given("t-1"))
    assert (error.value.plugin, error.value.hook) == ("broken", "advokit_evaluate")
    assert program.balance("c-1") == 0
    assert program.record(given("t-1")).status is Status.APPLIED


def test_the_builtin_program_has_no_earning_rules(advokit_program):
    advokit_program.enroll(Advocate(external_id="c-1"))
    review = Action(kind="review.posted", advocate="c-1", key="r-1")
    assert advokit_program.record(review).effects == ()
